//! `follow()` over an in-memory source that cuts, stalls, fails and keeps producing events —
//! every event must come out once, in order. Runs on tokio's paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use claude_agents::api::follow::{FollowEvent, FollowOptions, FollowSource, follow_source};
use claude_agents::api::{Error, Operation, Result};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, stream};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Clone, Debug, PartialEq)]
struct Ev {
    id: String,
    processed: bool,
    terminal: bool,
}

impl FollowEvent for Ev {
    fn sighting(&self) -> Option<(&str, bool)> {
        Some((&self.id, self.processed))
    }
    fn ends_stream(&self) -> bool {
        self.terminal
    }
}

fn op() -> Operation {
    Operation {
        method: "GET".into(),
        path: "/v1/sessions/s/events/stream".into(),
    }
}

/// The server side: an append-only log of sightings, and counters of connections.
#[derive(Default)]
struct Server {
    log: Vec<Ev>,
    connections: usize,
    rng_seed: u64,
}

#[derive(Clone)]
struct Source(Arc<Mutex<Server>>);

impl Source {
    /// History as the API shows it: one entry per event id, at the position of its latest
    /// sighting (a processed user event replaces its queued sighting).
    fn history_now(&self) -> Vec<Ev> {
        let server = self.0.lock().unwrap();
        let mut out: Vec<Ev> = Vec::new();
        for ev in &server.log {
            out.retain(|e| e.id != ev.id);
            out.push(ev.clone());
        }
        out
    }
}

impl FollowSource<Ev> for Source {
    fn open(&self) -> BoxFuture<'_, Result<BoxStream<'static, Result<Ev>>>> {
        Box::pin(async move {
            let (start, mut rng) = {
                let mut s = self.0.lock().unwrap();
                s.connections += 1;
                let seed = s.rng_seed + s.connections as u64;
                (s.log.len(), StdRng::seed_from_u64(seed))
            };
            if rng.random_ratio(1, 10) {
                return Err(Error::Transport {
                    operation: op(),
                    message: "refused".into(),
                    source: None,
                });
            }
            let cut_after = rng.random_range(0..8usize);
            let ending = rng.random_range(0..3u8);
            let server = self.0.clone();
            let live = stream::unfold((start, 0usize), move |(pos, sent)| {
                let server = server.clone();
                async move {
                    if sent == cut_after {
                        return match ending {
                            0 => None,
                            1 => Some((
                                Err(Error::Stream {
                                    operation: op(),
                                    message: "cut".into(),
                                    request_id: None,
                                }),
                                (pos, sent + 1),
                            )),
                            _ => Some((
                                Err(Error::StreamStalled {
                                    operation: op(),
                                    idle: Duration::from_secs(1),
                                    request_id: None,
                                }),
                                (pos, sent + 1),
                            )),
                        };
                    }
                    if sent > cut_after {
                        return None;
                    }
                    loop {
                        if let Some(ev) = server.lock().unwrap().log.get(pos).cloned() {
                            return Some((Ok(ev), (pos + 1, sent + 1)));
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            });
            Ok(live.boxed())
        })
    }

    fn history(
        &self,
        _since: Option<claude_agents::api::types::Timestamp>,
    ) -> BoxStream<'static, Result<Ev>> {
        let items = self.history_now();
        let fail_at = {
            let s = self.0.lock().unwrap();
            let mut rng = StdRng::seed_from_u64(s.rng_seed ^ s.connections as u64);
            rng.random_ratio(1, 10)
                .then(|| rng.random_range(0..items.len().max(1)))
        };
        stream::iter(items.into_iter().enumerate().map(move |(i, ev)| {
            if Some(i) == fail_at {
                Err(Error::Transport {
                    operation: op(),
                    message: "page failed".into(),
                    source: None,
                })
            } else {
                Ok(ev)
            }
        }))
        .boxed()
    }
}

fn options() -> FollowOptions {
    FollowOptions {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        max_consecutive_failures: Some(50),
        backfill_overlap: None,
    }
}

/// Produces `n` events, one every 3 ms; every 10th is a user event echoed queued and then
/// processed; the last one is terminal.
async fn produce(server: Arc<Mutex<Server>>, n: usize) {
    for i in 0..n {
        tokio::time::sleep(Duration::from_millis(3)).await;
        let mut s = server.lock().unwrap();
        let id = format!("sevt_{i:05}");
        if i % 10 == 5 {
            s.log.push(Ev {
                id: id.clone(),
                processed: false,
                terminal: false,
            });
        }
        s.log.push(Ev {
            id,
            processed: true,
            terminal: i == n - 1,
        });
    }
}

fn check(out: &[Ev], log: &[Ev]) {
    // No sighting twice.
    let mut keys: Vec<_> = out.iter().map(|e| (e.id.clone(), e.processed)).collect();
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total, "a sighting was delivered twice");
    // Every processed event, in log order.
    let want: Vec<&str> = log
        .iter()
        .filter(|e| e.processed)
        .map(|e| e.id.as_str())
        .collect();
    let got: Vec<&str> = out
        .iter()
        .filter(|e| e.processed)
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(got, want);
    // A queued sighting, when delivered, comes before its processed one.
    for (i, e) in out.iter().enumerate().filter(|(_, e)| !e.processed) {
        let later = out[i..].iter().position(|x| x.id == e.id && x.processed);
        assert!(
            later.is_some(),
            "queued {} after its processed sighting",
            e.id
        );
    }
    assert!(out.last().unwrap().terminal);
}

#[tokio::test(start_paused = true)]
async fn every_event_once_in_order_across_200_cuts() {
    for seed in 0..3u64 {
        let server = Arc::new(Mutex::new(Server {
            rng_seed: seed * 1000,
            ..Server::default()
        }));
        let producer = tokio::spawn(produce(server.clone(), 1500));
        let out: Vec<Ev> = follow_source(Source(server.clone()), options(), [])
            .map(|r| r.expect("follow gave up"))
            .collect()
            .await;
        producer.await.unwrap();
        let s = server.lock().unwrap();
        assert!(
            s.connections >= 200,
            "seed {seed}: only {} connections",
            s.connections
        );
        check(&out, &s.log);
    }
}

#[tokio::test(start_paused = true)]
async fn already_seen_events_are_not_repeated_on_resume() {
    let server = Arc::new(Mutex::new(Server {
        rng_seed: 7,
        ..Server::default()
    }));
    produce(server.clone(), 40).await;
    let log = server.lock().unwrap().log.clone();
    let seen: Vec<(String, bool)> = log[..20]
        .iter()
        .map(|e| (e.id.clone(), e.processed))
        .collect();
    let out: Vec<Ev> = follow_source(Source(server.clone()), options(), seen)
        .map(|r| r.unwrap())
        .collect()
        .await;
    let want: Vec<Ev> = Source(server)
        .history_now()
        .into_iter()
        .filter(|e| {
            !log[..20]
                .iter()
                .any(|s| s.id == e.id && s.processed == e.processed)
        })
        .collect();
    assert_eq!(out, want);
}

/// A source whose stream always fails with a fatal 404.
struct Gone;
impl FollowSource<Ev> for Gone {
    fn open(&self) -> BoxFuture<'_, Result<BoxStream<'static, Result<Ev>>>> {
        Box::pin(async {
            Err(Error::Api(Box::new(claude_agents::api::ApiError {
                operation: op(),
                status: 404,
                error_type: Some("not_found_error".into()),
                error_code: None,
                message: "no such session".into(),
                request_id: Some("req_1".into()),
                retry_after: None,
                details: None,
            })))
        })
    }
    fn history(
        &self,
        _since: Option<claude_agents::api::types::Timestamp>,
    ) -> BoxStream<'static, Result<Ev>> {
        stream::empty().boxed()
    }
}

#[tokio::test(start_paused = true)]
async fn fatal_errors_end_the_follow_at_once() {
    let out: Vec<Result<Ev>> = follow_source(Gone, options(), []).collect().await;
    assert_eq!(out.len(), 1);
    assert!(out[0].as_ref().unwrap_err().is_not_found());
}

/// A source that never connects: follow gives up after the configured number of failures.
struct Down;
impl FollowSource<Ev> for Down {
    fn open(&self) -> BoxFuture<'_, Result<BoxStream<'static, Result<Ev>>>> {
        Box::pin(async {
            Err(Error::Transport {
                operation: op(),
                message: "refused".into(),
                source: None,
            })
        })
    }
    fn history(
        &self,
        _since: Option<claude_agents::api::types::Timestamp>,
    ) -> BoxStream<'static, Result<Ev>> {
        stream::empty().boxed()
    }
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_consecutive_failures_with_backoff() {
    let started = tokio::time::Instant::now();
    let opts = FollowOptions {
        max_consecutive_failures: Some(4),
        ..FollowOptions::default()
    };
    let out: Vec<Result<Ev>> = follow_source(Down, opts, []).collect().await;
    assert_eq!(out.len(), 1);
    assert!(matches!(out[0], Err(Error::Transport { .. })));
    // Backoffs of ~0.5, 1, 2, 4 s (each up to 25 % shorter) before the 5th failure.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs_f64(7.5 * 0.75) && waited <= Duration::from_secs_f64(7.5),
        "{waited:?}"
    );
}
