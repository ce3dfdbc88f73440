//! Consume one session's event stream until it ends and print a summary line.
//!
//! ```sh
//! ANTHROPIC_API_KEY=... cargo run --release --example consume_stream -- <base_url> <session_id> [--verbose] [--follow]
//! ```
//!
//! Prints `events=<n> unknown=<k> last=<type>` last, where `unknown` counts events whose type
//! this crate does not model. `--verbose` prints each event type as it arrives; `--follow`
//! uses the lossless `follow()` (reconnects and backfills from the history) instead of the
//! plain stream.

use std::process::ExitCode;

use claude_agents::api::follow::FollowOptions;
use claude_agents::api::types::SessionId;
use claude_agents::api::types::events::{StreamEvent, StreamParams};
use claude_agents::api::{Client, ItemStream};
use futures_util::StreamExt;
use secrecy::SecretString;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut positional = Vec::new();
    let (mut verbose, mut follow) = (false, false);
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--verbose" | "-v" => verbose = true,
            "--follow" => follow = true,
            _ => positional.push(arg),
        }
    }
    let [base_url, session_id] = positional.as_slice() else {
        eprintln!("usage: consume_stream <base_url> <session_id> [--verbose] [--follow]");
        return ExitCode::from(2);
    };
    let Ok(key) = std::env::var("ANTHROPIC_API_KEY") else {
        eprintln!("ANTHROPIC_API_KEY is not set");
        return ExitCode::from(2);
    };
    let client = match Client::builder()
        .api_key(SecretString::from(key))
        .base_url(base_url.as_str())
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let events = client
        .sessions()
        .events(&SessionId::from(session_id.as_str()));
    let mut stream: ItemStream<StreamEvent> = if follow {
        events.follow(StreamParams::default(), FollowOptions::default())
    } else {
        match events.stream(&StreamParams::default()).await {
            Ok(stream) => stream.boxed(),
            Err(e) => {
                eprintln!("could not open the stream: {e}");
                return ExitCode::FAILURE;
            }
        }
    };

    let (mut count, mut unknown, mut failed) = (0u64, 0u64, false);
    let mut last = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => {
                count += 1;
                if event.is_other() {
                    unknown += 1;
                }
                if verbose {
                    println!("{}", event.type_name());
                }
                last.clear();
                last.push_str(event.type_name());
                if event.is_terminal() {
                    break;
                }
            }
            Err(e) => {
                eprintln!("stream error: {e}");
                failed = true;
                if !follow {
                    break;
                }
            }
        }
    }
    println!("events={count} unknown={unknown} last={last}");
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
