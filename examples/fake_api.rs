//! Run the testkit's fake Managed Agents API as a standalone server.
//!
//! ```sh
//! cargo run --example fake_api --features testkit -- --port 8080 [--log] [--script turn.json]
//! ```
//!
//! Prints `listening on http://127.0.0.1:<port>` and serves until killed. `--log` prints one
//! line per request (`METHOD PATH STATUS`). `--script` loads the default session script (a
//! `claude_agents::testkit::script::Script` as JSON, e.g.
//! `{"steps":[{"type":"message","text":"Hi"}]}`) that every session runs per turn. Point a client at it with
//! `ANTHROPIC_BASE_URL=http://127.0.0.1:<port>` and any non-empty `ANTHROPIC_API_KEY`.

use std::process::ExitCode;

use claude_agents::testkit::{FakeApi, FakeConfig, Script};

#[tokio::main]
async fn main() -> ExitCode {
    let mut config = FakeConfig::default();
    let mut script: Option<Script> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(port) => config.port = port,
                None => {
                    eprintln!("--port needs a number");
                    return ExitCode::from(2);
                }
            },
            "--log" => config.log = true,
            "--script" => {
                let Some(path) = args.next() else {
                    eprintln!("--script needs a file");
                    return ExitCode::from(2);
                };
                let parsed = std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()));
                match parsed {
                    Ok(s) => script = Some(s),
                    Err(e) => {
                        eprintln!("--script {path}: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            "--help" | "-h" => {
                println!("usage: fake_api [--port <p>] [--log] [--script <file.json>]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?} (try --help)");
                return ExitCode::from(2);
            }
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
    println!("listening on {}", fake.base_url());
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    ExitCode::SUCCESS
}
