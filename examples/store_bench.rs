//! How fast `SqliteStore` keeps session logs and records, next to `MemoryStore` in the same
//! run: appends in batches of 100 and 1000 events, single-event appends, a re-sent (all
//! duplicate) batch, reading a 10 000-event log in pages of 1000 and in one call, and CAS
//! updates / reads of one record.
//!
//! ```sh
//! cargo run --release --example store_bench --features sqlite -- [--events 20000] [--singles 2000]
//! ```
//!
//! The database is a fresh file in a temporary directory (WAL, `synchronous = NORMAL`, the
//! store's defaults). Payloads are `agent.message` events of about 450 bytes of JSON. Prints
//! one line per workload: events (or operations) per second for each store and the ratio.
//! A single run on a shared machine: read the figures as orders of magnitude.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use claude_agents::store::{
    Collection, Expected, LogEvent, MemoryStore, SqliteStore, Store, StoreError,
};
use serde_json::json;

/// A realistic Managed Agents event: an `agent.message` with a paragraph of text.
fn event(session: &str, i: usize) -> LogEvent {
    let id = format!("sevt_01J{session}{i:08}");
    let payload = json!({
        "type": "agent.message",
        "id": id,
        "content": [{
            "type": "text",
            "text": format!(
                "Step {i}: I read the failing test in tests/integration/follow.rs, traced the \
                 duplicate to the backfill path that re-sends the last page after a reconnect, \
                 and changed the pump to skip event ids it has already stored. Running the \
                 suite again now; I will report the result and open a pull request."
            ),
        }],
        "processed_at": "2026-03-15T10:01:20.123456Z",
    });
    LogEvent::from_value(id, true, &payload).unwrap()
}

fn events(session: &str, n: usize) -> Vec<LogEvent> {
    (0..n).map(|i| event(session, i)).collect()
}

struct Figures {
    name: &'static str,
    unit: &'static str,
    per_sec: [f64; 2],
}

async fn append_batched(store: &dyn Store, session: &str, all: &[LogEvent], batch: usize) -> f64 {
    let start = Instant::now();
    for chunk in all.chunks(batch) {
        let out = store.append_events(session, chunk).await.unwrap();
        assert_eq!(out.appended.len(), chunk.len());
    }
    all.len() as f64 / start.elapsed().as_secs_f64()
}

async fn run(
    store: &dyn Store,
    events_n: usize,
    singles: usize,
) -> Vec<(&'static str, &'static str, f64)> {
    let mut out = Vec::new();

    let log = events("a", events_n);
    let rate = append_batched(store, "batch100", &log, 100).await;
    out.push(("append, batches of 100", "events/s", rate));

    let rate = append_batched(store, "batch1000", &log, 1000).await;
    out.push(("append, batches of 1000", "events/s", rate));

    let start = Instant::now();
    for chunk in log.chunks(100) {
        let again = store.append_events("batch100", chunk).await.unwrap();
        assert!(again.appended.is_empty());
    }
    let rate = log.len() as f64 / start.elapsed().as_secs_f64();
    out.push(("re-append duplicates, batches of 100", "events/s", rate));

    let rate = append_batched(store, "single", &log[..singles.min(log.len())], 1).await;
    out.push(("append, one event per call", "events/s", rate));

    let n = 10_000;
    let session = "read10k";
    append_batched(store, session, &events("r", n), 1000).await;
    let start = Instant::now();
    let mut after = 0;
    let mut read = 0;
    loop {
        let page = store.read_events(session, after, 1000).await.unwrap();
        let Some((last, _)) = page.last() else { break };
        after = *last;
        read += page.len();
    }
    assert_eq!(read, n);
    out.push((
        "read 10 000-event log, pages of 1000",
        "events/s",
        n as f64 / start.elapsed().as_secs_f64(),
    ));
    let start = Instant::now();
    let all = store.read_events(session, 0, n).await.unwrap();
    assert_eq!(all.len(), n);
    out.push((
        "read 10 000-event log, one call",
        "events/s",
        n as f64 / start.elapsed().as_secs_f64(),
    ));

    let c = Collection::ReconcileStatus;
    let ops = singles;
    let mut rev = store
        .put(
            c,
            "status",
            json!({"phase": "ready", "n": 0}),
            Expected::Absent,
        )
        .await
        .unwrap();
    let start = Instant::now();
    for i in 0..ops {
        rev = store
            .put(
                c,
                "status",
                json!({"phase": "ready", "n": i}),
                Expected::Revision(rev),
            )
            .await
            .unwrap();
    }
    out.push((
        "put (CAS update)",
        "ops/s",
        ops as f64 / start.elapsed().as_secs_f64(),
    ));
    let start = Instant::now();
    for _ in 0..ops {
        store.get(c, "status").await.unwrap().unwrap();
    }
    out.push(("get", "ops/s", ops as f64 / start.elapsed().as_secs_f64()));
    match store.put(c, "status", json!(null), Expected::Absent).await {
        Err(StoreError::AlreadyExists { .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
    out
}

#[tokio::main]
async fn main() {
    let mut events_n = 20_000usize;
    let mut singles = 2_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .and_then(|v| v.parse::<usize>().ok())
            .expect("a number");
        match arg.as_str() {
            "--events" => events_n = value,
            "--singles" => singles = value,
            other => panic!("unknown argument {other}"),
        }
    }
    let size = serde_json::to_string(&event("a", 0).payload).unwrap().len();
    println!("payload: {size} bytes of JSON per event; {events_n} events per append workload");

    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("bench.db"))
        .await
        .unwrap();
    let memory = MemoryStore::new();
    let s = run(&sqlite, events_n, singles).await;
    let m = run(&memory, events_n, singles).await;

    let figures: Vec<Figures> = s
        .iter()
        .zip(&m)
        .map(|(s, m)| Figures {
            name: s.0,
            unit: s.1,
            per_sec: [s.2, m.2],
        })
        .collect();
    println!(
        "{:<40} {:>14} {:>14} {:>8}",
        "workload", "sqlite", "memory", "mem/sql"
    );
    for f in &figures {
        println!(
            "{:<40} {:>14} {:>14} {:>7.1}x  ({})",
            f.name,
            format!("{:.0}", f.per_sec[0]),
            format!("{:.0}", f.per_sec[1]),
            f.per_sec[1] / f.per_sec[0],
            f.unit,
        );
    }
    let db = std::fs::metadata(dir.path().join("bench.db")).map_or(0, |m| m.len());
    let wal = std::fs::metadata(dir.path().join("bench.db-wal")).map_or(0, |m| m.len());
    println!("sqlite files: {db} bytes db + {wal} bytes WAL");
    sqlite.close().await;
}
