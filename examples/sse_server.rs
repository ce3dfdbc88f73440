//! A minimal local HTTP/1.1 server that plays the session event stream of a long coding-agent
//! session, for benchmarking stream consumers (`bench/consume_compare.sh`).
//!
//! ```text
//! cargo run --release --example sse_server -- [--port <p>] [--events <n>]
//! ```
//!
//! Defaults: port 0 (ephemeral), 100 000 events. Generates the SSE body once
//! (`benches/corpus/mod.rs`), prints exactly one line to stdout,
//! `listening on http://127.0.0.1:<port> events=<n> bytes=<size>`, then serves, one connection
//! after another or concurrently:
//!
//! * `GET /v1/sessions/<any id>/events/stream[?…]` → `200`, `content-type: text/event-stream`,
//!   `request-id: req_bench`, `connection: close`, no `content-length`: the body is delimited by
//!   the connection's close, and written in 64 KiB chunks.
//! * anything else → `404` with the API's JSON error body.
//!
//! Logs one line per request to stderr. Runs until killed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHUNK: usize = 64 * 1024;
const MAX_HEAD: usize = 64 * 1024;

fn usage() -> ! {
    eprintln!("usage: sse_server [--port <p>] [--events <n>]");
    std::process::exit(2)
}

fn parse_args() -> (u16, usize) {
    let (mut port, mut events) = (0u16, 100_000usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--port" => port = value.parse().unwrap_or_else(|_| usage()),
            "--events" => events = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    (port, events)
}

// One thread: the server should take as little CPU as possible from the clients it measures.
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let (port, events) = parse_args();
    let body: Arc<[u8]> = corpus::sse_body(events).into();
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!(
        "listening on http://{addr} events={events} bytes={}",
        body.len()
    );
    loop {
        let (socket, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(socket, &body).await {
                eprintln!("sse_server: connection error: {e}");
            }
        });
    }
}

/// Reads the request head; `None` if the peer closed or sent something too large.
async fn read_head(socket: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end);
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

/// `/v1/sessions/<id>/events/stream`, ignoring any query string.
fn is_stream_path(target: &str) -> bool {
    let path = target.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix("/v1/sessions/") else {
        return false;
    };
    match rest.strip_suffix("/events/stream") {
        Some(id) => !id.is_empty() && !id.contains('/'),
        None => false,
    }
}

async fn serve(mut socket: TcpStream, body: &[u8]) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let Some(head) = read_head(&mut socket).await? else {
        return Ok(());
    };
    let started = Instant::now();
    let request_line = head.lines().next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));

    if method == "GET" && is_stream_path(target) {
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\n\
                  content-type: text/event-stream\r\n\
                  cache-control: no-cache\r\n\
                  request-id: req_bench\r\n\
                  connection: close\r\n\r\n",
            )
            .await?;
        for chunk in body.chunks(CHUNK) {
            socket.write_all(chunk).await?;
        }
        eprintln!(
            "sse_server: {method} {target} -> 200, {} bytes in {:.3}s",
            body.len(),
            started.elapsed().as_secs_f64()
        );
    } else {
        let message = serde_json::to_string(&format!("Not found: {method} {target}"))?;
        let error = format!(
            "{{\"type\":\"error\",\"error\":{{\"type\":\"not_found_error\",\"message\":{message}}},\"request_id\":\"req_bench\"}}"
        );
        let response = format!(
            "HTTP/1.1 404 Not Found\r\n\
             content-type: application/json\r\n\
             request-id: req_bench\r\n\
             content-length: {}\r\n\
             connection: close\r\n\r\n{error}",
            error.len()
        );
        socket.write_all(response.as_bytes()).await?;
        eprintln!("sse_server: {method} {target} -> 404");
    }
    // Close our side, then let the client finish reading and close: closing a socket with
    // unread input would reset the connection and could cut the tail of the body.
    socket.shutdown().await?;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    Ok(())
}
