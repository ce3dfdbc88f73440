//! Decode throughput on a realistic 100 000-event session corpus held in memory
//! (`benches/corpus/mod.rs`), in events per second:
//!
//! * `decode/value` — each event's JSON into `serde_json::Value` (the baseline);
//! * `decode/typed` — each event's JSON into the crate's typed `StreamEvent`;
//! * `decode/sse_value` — SSE framing of the whole body (`sse_stream::SseByteStream`, fed in
//!   64 KiB chunks as a socket would) plus each frame's data into `serde_json::Value`.
//!
//! `cargo bench --bench decode` (a few flat samples per bench; the whole run takes well under a
//! minute on 2 cores).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "corpus/mod.rs"]
mod corpus;

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use futures_util::{StreamExt, stream};

const EVENTS: usize = 100_000;
const CHUNK: usize = 64 * 1024;

fn decode(c: &mut Criterion) {
    let events = corpus::events(EVENTS);
    let body = Bytes::from(corpus::sse_body(EVENTS));
    let json_bytes: usize = events.iter().map(String::len).sum();
    eprintln!(
        "corpus: {EVENTS} events, {json_bytes} bytes of JSON (avg {} B/event), {} bytes of SSE",
        json_bytes / EVENTS,
        body.len()
    );
    let chunks: Vec<Bytes> = (0..body.len())
        .step_by(CHUNK)
        .map(|i| body.slice(i..(i + CHUNK).min(body.len())))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");

    let mut group = c.benchmark_group("decode");
    group
        .throughput(Throughput::Elements(EVENTS as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));

    // (a) Baseline: JSON → serde_json::Value.
    group.bench_function("value", |b| {
        b.iter(|| {
            for s in &events {
                let v: serde_json::Value = serde_json::from_str(s).expect("valid JSON");
                black_box(v);
            }
        })
    });

    // (b) JSON → the typed stream event enum.
    // (b) The crate's typed event union.
    group.bench_function("typed", |b| {
        use claude_agents::api::types::events::StreamEvent;
        b.iter(|| {
            for s in &events {
                let e: StreamEvent = serde_json::from_str(s).expect("typed decode");
                black_box(e);
            }
        })
    });

    // (c) SSE framing of the whole body + each frame's data → serde_json::Value, skipping
    // comments, pings and empty data as the client does (reference sessions.md §10.3).
    group.bench_function("sse_value", |b| {
        b.iter(|| {
            let n = rt.block_on(async {
                let bytes = stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
                let mut frames = sse_stream::SseByteStream::new(bytes);
                let mut n = 0usize;
                while let Some(frame) = frames.next().await {
                    let sse = frame.expect("valid SSE");
                    if sse.event.as_deref() == Some("ping") {
                        continue;
                    }
                    let Some(data) = sse.data.as_deref().filter(|d| !d.is_empty()) else {
                        continue;
                    };
                    let v: serde_json::Value = serde_json::from_str(data).expect("valid JSON");
                    black_box(v);
                    n += 1;
                }
                n
            });
            assert_eq!(n, EVENTS);
        })
    });

    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
