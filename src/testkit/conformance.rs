//! The conformance suite of the [`store`](crate::store) traits: one `pub async fn` per
//! numbered `# Contract` item, and macros that expand to one `#[tokio::test]` per function —
//! in the manner of `object_store`'s exported integration tests. Every implementation runs
//! it: our memory stores in CI, and host adapters in theirs:
//!
//! ```ignore
//! mod my_store_conformance {
//!     use std::sync::Arc;
//!     claude_agents::store_conformance_tests!(|| async { Arc::new(MyStore::connect().await) });
//!     claude_agents::secret_store_conformance_tests!(|| async { Arc::new(MySecrets::new()) });
//!     claude_agents::event_sink_conformance_tests!(|| async { Arc::new(MySink::new()) });
//! }
//! ```
//!
//! The factory is a closure returning a future of an `Arc` of the implementation; the tests
//! need `tokio` (features `macros`, `rt-multi-thread`) among the caller's dev-dependencies.
//! Keys are randomised per call, so the suite also runs against a shared, persistent
//! database. Each function panics with a message naming the contract item it checks.

use std::collections::HashSet;
use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::store::{
    Collection, EventSink, Expected, LogEvent, Revision, SecretRef, SecretStore, SinkDelivery,
    Store, StoreError,
};

fn must<T, E: Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected error: {e}"),
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::random::<u64>())
}

// A `json!` object with string keys always serialises.
#[allow(clippy::expect_used)]
fn ev(id: &str, processed: bool) -> LogEvent {
    LogEvent::from_value(id, processed, &json!({ "id": id, "processed": processed }))
        .expect("a json! value serialises")
}

fn t0() -> DateTime<Utc> {
    // A fixed, millisecond-aligned instant: expiry is judged at the `now` passed in.
    DateTime::from_timestamp_millis(1_800_000_000_000).unwrap_or_default()
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

/// Contract item 1: create is exclusive.
pub async fn put_absent_then_exists(store: &dyn Store) {
    let key = unique("create");
    let c = Collection::AgentSpecs;
    assert_eq!(must(store.get(c, &key).await, "get"), None, "[1] fresh key");
    let rev = must(
        store.put(c, &key, json!({"v": 1}), Expected::Absent).await,
        "[1] create",
    );
    let got = must(store.get(c, &key).await, "get").expect_none_free("[1] created");
    assert_eq!(got.value, json!({"v": 1}), "[1] get returns the value");
    assert_eq!(
        got.revision, rev,
        "[1] get returns the revision of the write"
    );
    match store.put(c, &key, json!({"v": 2}), Expected::Absent).await {
        Err(StoreError::AlreadyExists { key: k, .. }) => assert_eq!(k, key),
        other => panic!("[1] second create must be AlreadyExists, got {other:?}"),
    }
    let got = must(store.get(c, &key).await, "get").expect_none_free("[1] still there");
    assert_eq!(
        got.value,
        json!({"v": 1}),
        "[1] a failed create changes nothing"
    );
}

/// Contract item 2: writes are compare-and-swap; a stale write is `Conflict`.
pub async fn stale_revision_is_conflict(store: &dyn Store) {
    let key = unique("cas");
    let c = Collection::ReconcileStatus;
    let r1 = must(
        store.put(c, &key, json!(1), Expected::Absent).await,
        "create",
    );
    let r2 = must(
        store.put(c, &key, json!(2), Expected::Revision(r1)).await,
        "[2] update at current revision",
    );
    assert!(
        r2 > r1,
        "[2] a write returns a greater revision ({r2} > {r1})"
    );
    match store.put(c, &key, json!(3), Expected::Revision(r1)).await {
        Err(StoreError::Conflict {
            expected, current, ..
        }) => {
            assert_eq!(
                expected,
                Expected::Revision(r1),
                "[2] conflict names expected"
            );
            assert_eq!(current, Some(r2), "[2] conflict names the current revision");
        }
        other => panic!("[2] stale write must be Conflict, got {other:?}"),
    }
    let got = must(store.get(c, &key).await, "get").expect_none_free("[2] present");
    assert_eq!(
        (got.value, got.revision),
        (json!(2), r2),
        "[2] stale write changed nothing"
    );
    let missing = unique("cas-missing");
    match store
        .put(c, &missing, json!(1), Expected::Revision(r2))
        .await
    {
        Err(StoreError::Conflict { current: None, .. }) => {}
        other => {
            panic!("[2] update of an absent key must be Conflict(current None), got {other:?}")
        }
    }
    assert_eq!(
        must(store.get(c, &missing).await, "get"),
        None,
        "[2] nothing written"
    );
    let r3 = must(
        store.put(c, &key, json!(9), Expected::Any).await,
        "[2] force",
    );
    assert!(r3 > r2, "[2] a forced write also advances the revision");
}

/// Contract item 3: revisions never repeat, also across delete and re-create.
pub async fn revisions_increase_across_delete(store: &dyn Store) {
    let key = unique("rev");
    let c = Collection::Skills;
    let mut last = must(
        store.put(c, &key, json!(0), Expected::Absent).await,
        "create",
    );
    for i in 1..4 {
        let r = must(
            store.put(c, &key, json!(i), Expected::Revision(last)).await,
            "update",
        );
        assert!(r > last, "[3] revisions strictly increase ({r} > {last})");
        last = r;
    }
    must(
        store.delete(c, &key, Expected::Revision(last)).await,
        "delete",
    );
    let again = must(
        store.put(c, &key, json!("new"), Expected::Absent).await,
        "re-create",
    );
    assert!(
        again > last,
        "[3] a re-created key's revision ({again}) exceeds its old one ({last})"
    );
}

/// Contract item 4: deletes are compare-and-swap.
pub async fn delete_is_compare_and_swap(store: &dyn Store) {
    let key = unique("del");
    let c = Collection::Overrides;
    let r1 = must(
        store.put(c, &key, json!(1), Expected::Absent).await,
        "create",
    );
    let r2 = must(
        store.put(c, &key, json!(2), Expected::Revision(r1)).await,
        "update",
    );
    match store.delete(c, &key, Expected::Revision(r1)).await {
        Err(StoreError::Conflict { current, .. }) => {
            assert_eq!(current, Some(r2), "[4] conflict names the current revision");
        }
        other => panic!("[4] stale delete must be Conflict, got {other:?}"),
    }
    assert!(
        must(store.get(c, &key).await, "get").is_some(),
        "[4] a stale delete deletes nothing"
    );
    must(
        store.delete(c, &key, Expected::Revision(r2)).await,
        "[4] delete at current revision",
    );
    assert_eq!(must(store.get(c, &key).await, "get"), None, "[4] deleted");
    match store.delete(c, &key, Expected::Any).await {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("[4] delete(Any) of an absent key must be NotFound, got {other:?}"),
    }
    must(
        store.delete(c, &key, Expected::Absent).await,
        "[4] delete(Absent) of an absent key is a no-op",
    );
    match store.delete(c, &key, Expected::Revision(r2)).await {
        Err(StoreError::Conflict { current: None, .. }) => {}
        other => panic!("[4] delete(Revision) of an absent key must be Conflict, got {other:?}"),
    }
}

/// Contract item 5: listing by prefix, ordered by key, collections disjoint.
pub async fn list_by_prefix_ordered(store: &dyn Store) {
    let prefix = unique("list");
    let c = Collection::SessionCards;
    for k in ["b", "a", "c/2", "c/1"] {
        must(
            store
                .put(c, &format!("{prefix}/{k}"), json!(k), Expected::Absent)
                .await,
            "create",
        );
    }
    must(
        store
            .put(
                Collection::ProviderKeys,
                &format!("{prefix}/z"),
                json!("other collection"),
                Expected::Absent,
            )
            .await,
        "create elsewhere",
    );
    must(
        store
            .put(c, &format!("{prefix}x/outside"), json!(0), Expected::Absent)
            .await,
        "create outside the prefix",
    );
    let all = must(store.list(c, &format!("{prefix}/")).await, "[5] list");
    let keys: Vec<_> = all.iter().map(|(k, _)| k.clone()).collect();
    let want: Vec<_> = ["a", "b", "c/1", "c/2"]
        .iter()
        .map(|k| format!("{prefix}/{k}"))
        .collect();
    assert_eq!(keys, want, "[5] prefix filter, key order, one collection");
    for (k, v) in &all {
        let got = must(store.get(c, k).await, "get").expect_none_free("[5] listed key exists");
        assert_eq!(&got, v, "[5] list returns current value and revision");
    }
    let some = must(store.list(c, &format!("{prefix}/c/")).await, "[5] list");
    assert_eq!(some.len(), 2, "[5] narrower prefix");
    let none = must(store.list(c, &unique("nothing")).await, "[5] list");
    assert!(none.is_empty(), "[5] unknown prefix lists nothing");
}

/// Contract item 6: of concurrent writes expecting one revision, exactly one wins.
pub async fn concurrent_cas_one_winner(store: Arc<dyn Store>) {
    let key = unique("race");
    let c = Collection::ReconcileStatus;
    must(
        store.put(c, &key, json!(-1), Expected::Absent).await,
        "create",
    );
    for round in 0..5 {
        let current = must(store.get(c, &key).await, "get")
            .expect_none_free("present")
            .revision;
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    store
                        .put(c, &key, json!(i), Expected::Revision(current))
                        .await
                })
            })
            .collect();
        let mut winners = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await {
                Ok(Ok(rev)) => winners.push((i, rev)),
                Ok(Err(StoreError::Conflict { .. })) => {}
                Ok(Err(e)) => panic!("[6] a losing CAS must be Conflict, got {e}"),
                Err(e) => panic!("task panicked: {e}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "[6] round {round}: exactly one winner, got {winners:?}"
        );
        let got = must(store.get(c, &key).await, "get").expect_none_free("present");
        assert_eq!(
            (got.value, got.revision),
            (json!(winners[0].0), winners[0].1),
            "[6] the winner's write is the one stored"
        );
    }
}

/// Contract item 7: the event log is idempotent on `(session, event id, processed)` and
/// ordered, with dense sequence numbers; `read_events` pages.
pub async fn event_log_idempotent_and_ordered(store: &dyn Store) {
    let s = unique("sess");
    let first = [ev("e1", true), ev("u1", false), ev("e2", true)];
    let out = must(store.append_events(&s, &first).await, "[7] append");
    assert_eq!(
        out.appended,
        vec![(0, 1), (1, 2), (2, 3)],
        "[7] sequences 1.."
    );
    // A resume re-sends e2 and u1 (queued), then u1 processed and new ones; one dup in-batch.
    let second = [
        ev("e2", true),
        ev("u1", false),
        ev("u1", true),
        ev("e3", true),
        ev("e3", true),
        ev("e4", true),
    ];
    let out = must(store.append_events(&s, &second).await, "[7] append");
    assert_eq!(
        out.appended,
        vec![(2, 4), (3, 5), (5, 6)],
        "[7] only new keys appended (processed flag is part of the key), in order"
    );
    let all = must(store.read_events(&s, 0, 100).await, "[7] read");
    let got: Vec<_> = all
        .iter()
        .map(|(seq, e)| (*seq, e.event_id.as_str(), e.processed))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "e1", true),
            (2, "u1", false),
            (3, "e2", true),
            (4, "u1", true),
            (5, "e3", true),
            (6, "e4", true),
        ],
        "[7] the log holds each key once, in arrival order"
    );
    assert_eq!(all[3].1, ev("u1", true), "[7] payload stored as given");
    let page = must(store.read_events(&s, 2, 3).await, "[7] read page");
    let seqs: Vec<_> = page.iter().map(|(q, _)| *q).collect();
    assert_eq!(seqs, vec![3, 4, 5], "[7] read after 2, limit 3");
    assert!(
        must(store.read_events(&s, 6, 10).await, "read").is_empty(),
        "[7] nothing after the end"
    );
    let other = unique("sess-other");
    assert!(
        must(store.read_events(&other, 0, 10).await, "read").is_empty(),
        "[7] sessions are separate"
    );
    let seen = must(store.seen_events(&s).await, "[7] seen_events");
    assert_eq!(seen.len(), 6, "[7] seen_events holds every stored key");
    assert!(seen.contains(&("u1".to_owned(), false)) && seen.contains(&("u1".to_owned(), true)));
}

/// Contract item 8: the cursor is the last stored sequence and moves with the append.
pub async fn cursor_advances_with_append(store: &dyn Store) {
    let s = unique("cursor");
    assert_eq!(
        must(store.cursor(&s).await, "cursor"),
        None,
        "[8] empty log"
    );
    let out = must(store.append_events(&s, &[]).await, "[8] empty append");
    assert_eq!(out.cursor, None, "[8] empty append leaves the cursor empty");
    let out = must(
        store
            .append_events(&s, &[ev("a", true), ev("b", true)])
            .await,
        "append",
    );
    assert_eq!(out.cursor, Some(2), "[8] outcome cursor = last sequence");
    assert_eq!(
        must(store.cursor(&s).await, "cursor"),
        Some(2),
        "[8] cursor() agrees"
    );
    let out = must(
        store.append_events(&s, &[ev("a", true)]).await,
        "append dup",
    );
    assert!(out.appended.is_empty(), "[8] duplicate not appended");
    assert_eq!(
        out.cursor,
        Some(2),
        "[8] all-duplicate append leaves the cursor"
    );
    let out = must(store.append_events(&s, &[ev("c", true)]).await, "append");
    assert_eq!(out.cursor, Some(3), "[8] cursor advances with the append");
    assert_eq!(must(store.cursor(&s).await, "cursor"), Some(3));
    let last = must(store.read_events(&s, 0, 100).await, "read");
    assert_eq!(
        last.last().map(|(q, _)| *q),
        Some(3),
        "[8] the cursor covers exactly the stored events"
    );
    let other = unique("cursor-other");
    assert_eq!(
        must(store.cursor(&other).await, "cursor"),
        None,
        "[8] per session"
    );
}

/// Contract item 9: concurrent overlapping appends store each key once, densely ordered.
pub async fn concurrent_duplicate_appends(store: Arc<dyn Store>) {
    let s = unique("concurrent");
    let tasks: Vec<_> = (0..12)
        .map(|t| {
            let store = store.clone();
            let s = s.clone();
            tokio::spawn(async move {
                // Overlapping windows of one stream, each pump appending in small batches.
                let start = t * 5;
                let events: Vec<_> = (start..start + 20)
                    .flat_map(|i| {
                        [
                            ev(&format!("e{i:03}"), true),
                            ev(&format!("u{i:03}"), false),
                        ]
                    })
                    .collect();
                for batch in events.chunks(3) {
                    let out = store.append_events(&s, batch).await?;
                    let cursor = out.cursor.unwrap_or(0);
                    if out.appended.iter().any(|(_, seq)| *seq > cursor) {
                        panic!("[9] an appended sequence beyond the returned cursor");
                    }
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for t in tasks {
        match t.await {
            Ok(r) => must(r, "[9] concurrent append"),
            Err(e) => panic!("task panicked: {e}"),
        }
    }
    let all = must(store.read_events(&s, 0, 10_000).await, "read");
    let expected_keys = (0..(11 * 5 + 20)).count() * 2;
    assert_eq!(
        all.len(),
        expected_keys,
        "[9] every key stored exactly once"
    );
    let mut keys = HashSet::new();
    for (i, (seq, e)) in all.iter().enumerate() {
        assert_eq!(
            *seq,
            i as u64 + 1,
            "[9] sequence numbers are dense and ascending"
        );
        assert!(
            keys.insert((e.event_id.clone(), e.processed)),
            "[9] duplicate key {:?} in the log",
            e.key()
        );
    }
    assert_eq!(
        must(store.cursor(&s).await, "cursor"),
        Some(all.len() as u64),
        "[9] cursor = last sequence"
    );
}

/// Contract item 10: the trigger ledger de-duplicates within its ttl.
pub async fn trigger_ledger_dedupes(store: Arc<dyn Store>) {
    let key = unique("webhook");
    let ttl = Duration::from_secs(60);
    let now = t0();
    assert!(
        must(store.record_trigger(&key, ttl, now).await, "[10] first"),
        "[10] first is true"
    );
    assert!(
        !must(
            store.record_trigger(&key, ttl, now + secs(1)).await,
            "[10] repeat"
        ),
        "[10] a repeat is false"
    );
    assert!(
        !must(
            store.record_trigger(&key, ttl, now + secs(59)).await,
            "[10] repeat"
        ),
        "[10] still false within the ttl"
    );
    assert!(
        must(
            store.record_trigger(&key, ttl, now + secs(61)).await,
            "[10] after ttl"
        ),
        "[10] true again once the ttl has passed"
    );
    let other = unique("webhook");
    assert!(
        must(
            store.record_trigger(&other, ttl, now).await,
            "[10] other key"
        ),
        "[10] keys are independent"
    );
    let racing = unique("webhook-race");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let racing = racing.clone();
            tokio::spawn(async move { store.record_trigger(&racing, ttl, now).await })
        })
        .collect();
    let mut firsts = 0;
    for t in tasks {
        match t.await {
            Ok(r) => firsts += usize::from(must(r, "[10] concurrent record")),
            Err(e) => panic!("task panicked: {e}"),
        }
    }
    assert_eq!(
        firsts, 1,
        "[10] concurrent recordings of one key: exactly one true"
    );
}

/// Contract item 11: leases are exclusive and fenced.
pub async fn lease_exclusive_and_fenced(store: &dyn Store) {
    let name = unique("lease");
    let ttl = Duration::from_secs(30);
    let now = t0();
    let a = must(
        store.acquire_lease(&name, "a", ttl, now).await,
        "[11] acquire",
    )
    .expect_none_free("[11] a free lease is acquired");
    assert_eq!((a.name.as_str(), a.holder.as_str()), (name.as_str(), "a"));
    assert_eq!(a.expires_at, now + secs(30), "[11] expiry = now + ttl");
    assert_eq!(
        must(
            store.acquire_lease(&name, "b", ttl, now + secs(1)).await,
            "[11] acquire"
        ),
        None,
        "[11] a held lease is not given to another holder"
    );
    let again = must(
        store.acquire_lease(&name, "a", ttl, now + secs(5)).await,
        "[11] re-acquire",
    )
    .expect_none_free("[11] the holder re-acquires");
    assert_eq!(again.token, a.token, "[11] re-acquiring keeps the token");
    assert_eq!(again.expires_at, now + secs(35), "[11] with a later expiry");
    let renewed = must(
        store.renew_lease(&again, ttl, now + secs(10)).await,
        "[11] renew",
    );
    assert_eq!(renewed.expires_at, now + secs(40), "[11] renew extends");
    assert_eq!(renewed.token, a.token, "[11] renew keeps the token");
    must(store.release_lease(&renewed).await, "[11] release");
    let b = must(
        store.acquire_lease(&name, "b", ttl, now + secs(11)).await,
        "[11] acquire",
    )
    .expect_none_free("[11] a released lease is free");
    assert!(
        b.token > a.token,
        "[11] a new acquisition has a greater token"
    );
    match store.renew_lease(&renewed, ttl, now + secs(12)).await {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("[11] renewing a lost lease must be Conflict, got {other:?}"),
    }
    must(
        store.release_lease(&renewed).await,
        "[11] releasing a lost lease is a no-op",
    );
    assert_eq!(
        must(
            store.acquire_lease(&name, "c", ttl, now + secs(13)).await,
            "[11] acquire"
        ),
        None,
        "[11] releasing a lost lease did not release b's"
    );
    must(store.release_lease(&b).await, "[11] release");
    must(
        store.release_lease(&b).await,
        "[11] double release is a no-op",
    );
    let c = must(
        store.acquire_lease(&name, "c", ttl, now + secs(14)).await,
        "[11] acquire",
    )
    .expect_none_free("[11] free again");
    assert!(
        c.token > b.token,
        "[11] tokens keep increasing across releases"
    );
}

/// Contract item 12: an expired lease can be taken over with a greater token; concurrent
/// acquisitions yield one holder.
pub async fn lease_expiry_takeover(store: Arc<dyn Store>) {
    let name = unique("lease-exp");
    let ttl = Duration::from_secs(30);
    let now = t0();
    let a = must(store.acquire_lease(&name, "a", ttl, now).await, "acquire")
        .expect_none_free("[12] acquire");
    assert_eq!(
        must(
            store.acquire_lease(&name, "b", ttl, now + secs(29)).await,
            "acquire"
        ),
        None,
        "[12] not yet expired"
    );
    let b = must(
        store.acquire_lease(&name, "b", ttl, now + secs(30)).await,
        "acquire",
    )
    .expect_none_free("[12] an expired lease is taken over");
    assert!(b.token > a.token, "[12] takeover has a greater token");
    match store.renew_lease(&a, ttl, now + secs(31)).await {
        Err(StoreError::Conflict { current, .. }) => {
            assert_eq!(
                current,
                Some(Revision(b.token)),
                "[12] conflict names the new token"
            );
        }
        other => panic!("[12] the old holder's renew must be Conflict, got {other:?}"),
    }
    match store.renew_lease(&b, ttl, now + secs(61)).await {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("[12] renewing after expiry must be Conflict, got {other:?}"),
    }

    let race = unique("lease-race");
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let race = race.clone();
            tokio::spawn(
                async move { store.acquire_lease(&race, &format!("h{i}"), ttl, now).await },
            )
        })
        .collect();
    let mut holders = Vec::new();
    for t in tasks {
        match t.await {
            Ok(r) => holders.extend(must(r, "[12] concurrent acquire")),
            Err(e) => panic!("task panicked: {e}"),
        }
    }
    assert_eq!(holders.len(), 1, "[12] exactly one holder, got {holders:?}");
}

/// `SecretStore` contract item 1: round trip.
pub async fn secret_put_get_delete(secrets: &dyn SecretStore) {
    let r = SecretRef::from(unique("secret:provider_key:ws_1"));
    assert!(
        must(secrets.get(&r).await, "get").is_none(),
        "[s1] unknown is None"
    );
    must(secrets.put(&r, SecretString::from("v1")).await, "[s1] put");
    let got = must(secrets.get(&r).await, "get").expect_none_free("[s1] stored");
    assert_eq!(got.expose_secret(), "v1", "[s1] round trip");
    must(
        secrets.put(&r, SecretString::from("v2")).await,
        "[s1] put again",
    );
    let got = must(secrets.get(&r).await, "get").expect_none_free("[s1] stored");
    assert_eq!(got.expose_secret(), "v2", "[s1] put replaces");
    assert!(
        must(secrets.delete(&r).await, "[s1] delete"),
        "[s1] delete reports it existed"
    );
    assert!(must(secrets.get(&r).await, "get").is_none(), "[s1] deleted");
    assert!(
        !must(secrets.delete(&r).await, "[s1] delete"),
        "[s1] second delete is false"
    );
}

/// `SecretStore` contract item 2: rotation replaces and never creates.
pub async fn secret_rotate(secrets: &dyn SecretStore) {
    let r = SecretRef::from(unique("secret:token"));
    match secrets.rotate(&r, SecretString::from("x")).await {
        Err(StoreError::NotFound { .. }) => {}
        Err(e) => panic!("[s2] rotate of an absent secret must be NotFound, got {e}"),
        Ok(()) => panic!("[s2] rotate of an absent secret must be NotFound, got Ok"),
    }
    assert!(
        must(secrets.get(&r).await, "get").is_none(),
        "[s2] rotate created nothing"
    );
    must(secrets.put(&r, SecretString::from("old")).await, "put");
    must(
        secrets.rotate(&r, SecretString::from("new")).await,
        "[s2] rotate",
    );
    let got = must(secrets.get(&r).await, "get").expect_none_free("[s2] present");
    assert_eq!(got.expose_secret(), "new", "[s2] rotate replaces");
}

/// `SecretStore` contract item 3: `Debug` of the store never shows a value.
pub async fn secret_debug_redacts(secrets: &dyn SecretStore, debug: impl Fn() -> String) {
    let value = unique("sk-ant-conformance");
    let r = SecretRef::from(unique("secret:debug"));
    must(
        secrets.put(&r, SecretString::from(value.clone())).await,
        "put",
    );
    let shown = debug();
    assert!(
        !shown.contains(&value),
        "[s3] Debug printed a secret value: {shown}"
    );
    let got = must(secrets.get(&r).await, "get").expect_none_free("present");
    assert!(
        !format!("{got:?}").contains(&value),
        "[s3] values are redacting types"
    );
}

/// `EventSink` contract items 1–2: a repeated delivery (same key) is accepted.
pub async fn sink_repeat_is_harmless(sink: &dyn EventSink) {
    let session = unique("sess");
    let a = SinkDelivery::activity(&session, "ev_1", json!({"text": "hello"}));
    must(sink.deliver(a.clone()).await, "[k1] deliver");
    must(sink.deliver(a.clone()).await, "[k1] a repeat is accepted");
    let card = SinkDelivery::card_changed(&session, Revision(1), json!({"status": "running"}));
    must(sink.deliver(card.clone()).await, "[k1] deliver card");
    must(
        sink.deliver(card).await,
        "[k1] a repeated card change is accepted",
    );
    must(
        sink.deliver(a).await,
        "[k2] a late repeat is accepted, not an error",
    );
}

/// The outcome of one contract check run by [`run_store_suite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The check's function name in this module (e.g. `"concurrent_cas_one_winner"`).
    pub name: &'static str,
    /// `None` if it passed; otherwise the panic message, which names the contract item.
    pub failure: Option<String>,
}

impl CheckOutcome {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Runs every [`Store`] contract check outside a test harness — from an example, a health
/// check or a host's own test runner — each on a fresh store from `factory` and in its own
/// task, so one failing check (a panic) is reported and the others still run.
///
/// The [`store_conformance_tests!`](crate::store_conformance_tests) macro is the usual way;
/// this is the same suite as a value. Needs a multi-threaded tokio runtime.
pub async fn run_store_suite<F, Fut>(factory: F) -> Vec<CheckOutcome>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    macro_rules! checks {
        ($($name:ident: $mode:ident),* $(,)?) => {{
            let mut out = Vec::new();
            $(
                let store = factory().await;
                let task = tokio::spawn(async move { checks!(@call $name, $mode, store) });
                out.push(CheckOutcome {
                    name: stringify!($name),
                    failure: task.await.err().map(|e| panic_message(e)),
                });
            )*
            out
        }};
        (@call $name:ident, ref, $store:ident) => { $name(&*$store).await };
        (@call $name:ident, arc, $store:ident) => { $name($store).await };
    }
    checks!(
        put_absent_then_exists: ref,
        stale_revision_is_conflict: ref,
        revisions_increase_across_delete: ref,
        delete_is_compare_and_swap: ref,
        list_by_prefix_ordered: ref,
        concurrent_cas_one_winner: arc,
        event_log_idempotent_and_ordered: ref,
        cursor_advances_with_append: ref,
        concurrent_duplicate_appends: arc,
        trigger_ledger_dedupes: arc,
        lease_exclusive_and_fenced: ref,
        lease_expiry_takeover: arc,
    )
}

fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return e.to_string();
    }
    let payload = e.into_panic();
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "panicked".to_owned()
    }
}

/// `Option::expect` without the `expect_used` lint, with the contract item in the message.
trait ExpectSome<T> {
    fn expect_none_free(self, what: &str) -> T;
}

impl<T> ExpectSome<T> for Option<T> {
    fn expect_none_free(self, what: &str) -> T {
        match self {
            Some(v) => v,
            None => panic!("{what}: got None"),
        }
    }
}

/// Expands to one `#[tokio::test]` per [`Store`] contract item. The argument is a factory:
/// a closure returning a future of an `Arc<S>` (or `Arc<dyn Store>`), called once per test.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::__store_conformance_test!($factory, put_absent_then_exists, ref);
        $crate::__store_conformance_test!($factory, stale_revision_is_conflict, ref);
        $crate::__store_conformance_test!($factory, revisions_increase_across_delete, ref);
        $crate::__store_conformance_test!($factory, delete_is_compare_and_swap, ref);
        $crate::__store_conformance_test!($factory, list_by_prefix_ordered, ref);
        $crate::__store_conformance_test!($factory, concurrent_cas_one_winner, arc);
        $crate::__store_conformance_test!($factory, event_log_idempotent_and_ordered, ref);
        $crate::__store_conformance_test!($factory, cursor_advances_with_append, ref);
        $crate::__store_conformance_test!($factory, concurrent_duplicate_appends, arc);
        $crate::__store_conformance_test!($factory, trigger_ledger_dedupes, arc);
        $crate::__store_conformance_test!($factory, lease_exclusive_and_fenced, ref);
        $crate::__store_conformance_test!($factory, lease_expiry_takeover, arc);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_test {
    ($factory:expr, $name:ident, ref) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let store: ::std::sync::Arc<dyn $crate::store::Store> = ($factory)().await;
            $crate::testkit::conformance::$name(&*store).await;
        }
    };
    ($factory:expr, $name:ident, arc) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let store: ::std::sync::Arc<dyn $crate::store::Store> = ($factory)().await;
            $crate::testkit::conformance::$name(store).await;
        }
    };
}

/// Expands to one `#[tokio::test]` per [`SecretStore`] contract item. The factory returns a
/// future of an `Arc<S>` where `S: SecretStore + Debug`.
#[macro_export]
macro_rules! secret_store_conformance_tests {
    ($factory:expr) => {
        #[::tokio::test]
        async fn secret_put_get_delete() {
            let secrets = ($factory)().await;
            $crate::testkit::conformance::secret_put_get_delete(&*secrets).await;
        }
        #[::tokio::test]
        async fn secret_rotate() {
            let secrets = ($factory)().await;
            $crate::testkit::conformance::secret_rotate(&*secrets).await;
        }
        #[::tokio::test]
        async fn secret_debug_redacts() {
            let secrets = ($factory)().await;
            $crate::testkit::conformance::secret_debug_redacts(&*secrets, || {
                format!("{:?}", secrets)
            })
            .await;
        }
    };
}

/// Expands to one `#[tokio::test]` per [`EventSink`] contract item. The factory returns a
/// future of an `Arc<S>` where `S: EventSink`.
#[macro_export]
macro_rules! event_sink_conformance_tests {
    ($factory:expr) => {
        #[::tokio::test]
        async fn sink_repeat_is_harmless() {
            let sink = ($factory)().await;
            $crate::testkit::conformance::sink_repeat_is_harmless(&*sink).await;
        }
    };
}
