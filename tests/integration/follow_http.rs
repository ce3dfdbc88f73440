//! `follow()` end to end over real HTTP on loopback: a server that cuts the stream after a
//! random number of events (abruptly or cleanly), sometimes stalls, sometimes fails, 200+
//! times, while new events keep arriving — including during history reads, so only the
//! backfill can recover them. Every event must come out exactly once, in order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use claude_agents::api::follow::FollowOptions;
use claude_agents::api::types::SessionId;
use claude_agents::api::types::events::{StreamEvent, StreamParams};
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::builder;

const CONNECTIONS: usize = 200;

struct Log {
    events: Vec<Value>,
    connections: usize,
    history_reads: usize,
    rng: StdRng,
    finished: bool,
}

impl Log {
    fn append(&mut self, n: usize) {
        for _ in 0..n {
            let i = self.events.len();
            let at = processed_at(i);
            let event = if i % 7 == 3 {
                json!({"type": "agent.tool_use", "id": format!("sevt_{i:06}"), "name": "bash",
                       "input": {"command": format!("echo {i}")}, "evaluated_permission": "ask",
                       "processed_at": at})
            } else if i % 7 == 4 {
                json!({"type": "session.status_idle", "id": format!("sevt_{i:06}"),
                       "stop_reason": {"type": "requires_action", "event_ids": [format!("sevt_{:06}", i - 1)]},
                       "processed_at": at})
            } else {
                json!({"type": "agent.message", "id": format!("sevt_{i:06}"),
                       "content": [{"type": "text", "text": format!("message {i} — ✓")}],
                       "processed_at": at})
            };
            self.events.push(event);
        }
    }

    fn finish(&mut self) {
        let i = self.events.len();
        self.events.push(
            json!({"type": "session.status_terminated", "id": format!("sevt_{i:06}"),
                                "processed_at": processed_at(i)}),
        );
        self.finished = true;
    }
}

/// Event `i` was processed `i` seconds after a fixed start.
fn processed_at(i: usize) -> String {
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-15T10:00:00Z").unwrap();
    (start + chrono::Duration::seconds(i as i64))
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn read_head(sock: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    head.lines()
        .next()
        .map(|l| l.split(' ').nth(1).unwrap_or("").to_owned())
}

async fn serve(sock: TcpStream, log: Arc<Mutex<Log>>) {
    let mut sock = sock;
    // Small writes: without this, Nagle + delayed ACKs add ~40 ms per connection.
    let _ = sock.set_nodelay(true);
    let Some(target) = read_head(&mut sock).await else {
        return;
    };
    if target.contains("/events/stream") {
        stream(sock, log).await;
    } else if target.contains("/events") {
        history(sock, &target, log).await;
    } else {
        let _ = sock
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
    }
}

/// The live stream: events appended from now on, cut after a random number of them.
async fn stream(mut sock: TcpStream, log: Arc<Mutex<Log>>) {
    let (mut pos, cut_after, how, fail) = {
        let mut l = log.lock().unwrap();
        l.connections += 1;
        let start = l.events.len();
        // New events keep arriving: some right after this connection opened.
        let fresh = l.rng.random_range(0..4);
        l.append(fresh);
        if l.connections >= CONNECTIONS && !l.finished {
            l.finish();
        }
        let cut_after = l.rng.random_range(0..6usize);
        let how = l.rng.random_range(0..10u8);
        let fail = l.rng.random_ratio(1, 15);
        (start, cut_after, how, fail)
    };
    if fail {
        let body = r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#;
        let resp = format!(
            "HTTP/1.1 529 Overloaded\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
        return;
    }
    let _ = sock
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
        .await;
    let mut sent = 0;
    loop {
        let next = log.lock().unwrap().events.get(pos).cloned();
        let Some(event) = next else { break };
        if sent == cut_after {
            break;
        }
        let frame = format!(
            ": ping\n\nevent: {}\ndata: {}\n\n",
            event["type"].as_str().unwrap(),
            event
        );
        let chunk = format!("{:x}\r\n{frame}\r\n", frame.len());
        if sock.write_all(chunk.as_bytes()).await.is_err() {
            return;
        }
        pos += 1;
        sent += 1;
    }
    match how {
        // A stall: keep the connection open and silent until the client gives up on it.
        0 => {
            let mut buf = [0u8; 16];
            let _ = sock.read(&mut buf).await;
        }
        // A clean end of the body.
        1..=3 => {
            let _ = sock.write_all(b"0\r\n\r\n").await;
        }
        // An abrupt cut in the middle of a chunk.
        _ => {
            let _ = sock.write_all(b"40\r\nevent: agent.mess").await;
        }
    }
}

/// History pages of 50, oldest first, honouring `created_at[gte]` (compared against
/// `processed_at`); more events arrive while it is being read.
async fn history(mut sock: TcpStream, target: &str, log: Arc<Mutex<Log>>) {
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(param("order").as_deref(), Some("asc"), "{target}");
    let offset: usize = param("page").map(|p| p[1..].parse().unwrap()).unwrap_or(0);
    let since = param("created_at[gte]").map(|t| chrono::DateTime::parse_from_rfc3339(&t).unwrap());
    let body = {
        let mut l = log.lock().unwrap();
        l.history_reads += 1;
        let window: Vec<&Value> = l
            .events
            .iter()
            .filter(|e| {
                since.is_none_or(|s| {
                    chrono::DateTime::parse_from_rfc3339(e["processed_at"].as_str().unwrap())
                        .unwrap()
                        >= s
                })
            })
            .collect();
        let data: Vec<Value> = window
            .iter()
            .skip(offset)
            .take(50)
            .map(|e| (*e).clone())
            .collect();
        let next = offset + data.len();
        let more = next < window.len();
        let extra = l.rng.random_range(0..3);
        if !l.finished {
            l.append(extra);
        }
        json!({"data": data, "next_page": if more { Value::from(format!("p{next}")) } else { Value::Null }})
            .to_string()
    };
    let resp = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = sock.write_all(resp.as_bytes()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_over_http_survives_200_cuts_with_every_event_once_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Log {
        events: Vec::new(),
        connections: 0,
        history_reads: 0,
        rng: StdRng::seed_from_u64(0x5eed),
        finished: false,
    }));
    log.lock().unwrap().append(30);
    let server_log = log.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            tokio::spawn(serve(sock, server_log.clone()));
        }
    });

    let client = builder(&base)
        .stream_idle_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let options = FollowOptions {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_consecutive_failures: Some(50),
        backfill_overlap: Some(Duration::from_secs(10)),
    };
    let out: Vec<StreamEvent> = client
        .sessions()
        .events(&SessionId::from("sesn_follow"))
        .follow(StreamParams::default(), options)
        .map(|r| r.expect("follow gave up"))
        .collect()
        .await;

    let l = log.lock().unwrap();
    assert!(
        l.connections >= CONNECTIONS,
        "{} connections",
        l.connections
    );
    let want: Vec<&str> = l.events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let got: Vec<&str> = out.iter().map(|e| e.raw_id().unwrap()).collect();
    assert_eq!(got.len(), want.len(), "every event exactly once");
    assert_eq!(got, want, "in order");
    // requires_action idles (and the tool calls they name) all arrived.
    let idles = out
        .iter()
        .filter(|e| e.type_name() == "session.status_idle")
        .count();
    assert_eq!(
        idles,
        l.events
            .iter()
            .filter(|e| e["type"] == "session.status_idle")
            .count()
    );
    assert!(out.last().unwrap().is_terminal());
    // Reconnects read a window of the history, not all of it: about one page per reconnect.
    assert!(
        l.history_reads < 3 * l.connections,
        "{} history reads",
        l.history_reads
    );
}
