//! Run the testkit's fake Managed Agents API as a standalone server.
//!
//! ```sh
//! cargo run --example fake_api --features testkit -- --port 8080 [--log] [--script turn.json] [fault flags]
//! ```
//!
//! Prints `listening on http://127.0.0.1:<port>` and serves until killed. `--log` prints one
//! line per request (`METHOD PATH STATUS`). `--script` loads the default session script (a
//! `claude_agents::testkit::script::Script` as JSON, e.g.
//! `{"steps":[{"type":"message","text":"Hi"}]}`) that every session runs per turn. Point a
//! client at it with
//! `ANTHROPIC_BASE_URL=http://127.0.0.1:<port>` and any non-empty `ANTHROPIC_API_KEY`.
//!
//! Fault flags (see `claude_agents::testkit::faults` for what a client observes):
//!
//! * `--latency-ms N`: add N ms before every response.
//! * `--error-burst STATUS:COUNT[:RETRY_AFTER]`: answer the next COUNT requests (any) with
//!   STATUS in the API's error shape, without acting on them; RETRY_AFTER is sent verbatim as
//!   `retry-after` (seconds or an HTTP date). Repeatable; bursts fire in order.
//! * `--cut-stream-after N`: cut every event stream after N events.
//! * `--stall-stream-after N`: stall every event stream after N events (no heartbeats either).
//! * `--drop-after-commit N`: the next N writes (any method but GET/HEAD) are carried out, then
//!   their response is cut after the headers.

use std::process::ExitCode;
use std::time::Duration;

use claude_agents::testkit::{ErrorBurst, FakeApi, FakeConfig, RequestMatch, Script, StreamFault};

const USAGE: &str = "usage: fake_api [--port <p>] [--log] [--script <file.json>] [--latency-ms <n>] \
[--error-burst <status>:<count>[:<retry-after>]]... [--cut-stream-after <n>] \
[--stall-stream-after <n>] [--drop-after-commit <n>]";

/// Faults to arm once the fake runs.
#[derive(Default)]
struct FaultFlags {
    latency: Option<Duration>,
    bursts: Vec<ErrorBurst>,
    streams: Vec<StreamFault>,
    drop_after_commit: usize,
}

/// `STATUS:COUNT[:RETRY_AFTER]` (the retry-after may itself contain `:`, as dates do).
fn parse_burst(spec: &str) -> Option<ErrorBurst> {
    let mut parts = spec.splitn(3, ':');
    let status = parts
        .next()?
        .parse()
        .ok()
        .filter(|s| (100..=999).contains(s))?;
    let count = parts.next()?.parse().ok()?;
    let burst = ErrorBurst::new(status, count);
    Some(match parts.next() {
        Some(retry_after) => burst.retry_after(retry_after),
        None => burst,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut config = FakeConfig::default();
    let mut faults = FaultFlags::default();
    let mut script: Option<Script> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| match args.next().and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => Ok(n),
            None => {
                eprintln!("{flag} needs a number");
                Err(ExitCode::from(2))
            }
        };
        let parsed = match arg.as_str() {
            "--port" => number("--port").and_then(|p| {
                config.port = u16::try_from(p).map_err(|_| {
                    eprintln!("--port: {p} is not a port");
                    ExitCode::from(2)
                })?;
                Ok(())
            }),
            "--log" => {
                config.log = true;
                Ok(())
            }
            "--script" => match args.next() {
                None => {
                    eprintln!("--script needs a file");
                    Err(ExitCode::from(2))
                }
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
                    .map(|s| script = Some(s))
                    .map_err(|e| {
                        eprintln!("--script {path}: {e}");
                        ExitCode::from(2)
                    }),
            },
            "--latency-ms" => number("--latency-ms").map(|ms| {
                faults.latency = Some(Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)));
            }),
            "--error-burst" => match args.next().as_deref().and_then(parse_burst) {
                Some(burst) => {
                    faults.bursts.push(burst);
                    Ok(())
                }
                None => {
                    eprintln!("--error-burst needs STATUS:COUNT[:RETRY_AFTER], e.g. 529:3:1");
                    Err(ExitCode::from(2))
                }
            },
            "--cut-stream-after" => number("--cut-stream-after").map(|n| {
                faults
                    .streams
                    .push(StreamFault::cut_after_events(n).every_stream());
            }),
            "--stall-stream-after" => number("--stall-stream-after").map(|n| {
                faults
                    .streams
                    .push(StreamFault::stall_after_events(n).every_stream());
            }),
            "--drop-after-commit" => number("--drop-after-commit").map(|n| {
                faults.drop_after_commit = n;
            }),
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?} (try --help)");
                Err(ExitCode::from(2))
            }
        };
        if let Err(code) = parsed {
            return code;
        }
    }
    let fake = match FakeApi::start_with(config).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(script) = script {
        fake.set_default_script(script);
    }
    if let Some(latency) = faults.latency {
        fake.faults().set_latency(latency);
    }
    for burst in faults.bursts {
        fake.faults().error_burst(burst);
    }
    for stream in faults.streams {
        fake.faults().stream_fault(stream);
    }
    fake.faults()
        .drop_after_commit(faults.drop_after_commit, RequestMatch::writes());
    println!("listening on {}", fake.base_url());
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    ExitCode::SUCCESS
}
