//! `follow`: the lossless form of a session's event stream.
//!
//! It opens the live stream first, then backfills from the event history, reconnects with
//! backoff on any cut, stall or error frame, and yields every persisted event exactly once, in
//! order (reference sessions.md §10.3, "Reconnect / catch-up").
//!
//! # Guarantees
//! * Every persisted event is yielded once per *sighting key* `(id, processed_at.is_some())`:
//!   an event you sent appears twice (queued, then processed) when both sightings were seen,
//!   and only processed when the queued sighting fell into a gap; everything else once.
//! * Order: history order for backfilled events, then live order; never a repeat.
//! * A `session.status_idle` with `requires_action` (or the tool call it names) that arrives
//!   while disconnected is delivered by the backfill after reconnecting, so no approval or
//!   custom tool call is lost.
//! * The stream ends after `session.status_terminated` or `session.deleted` — including when
//!   that event is first seen again as a duplicate.
//!
//! # Caveats
//! * Preview events (`event_start`/`event_delta`) are live-only and not replayed.
//! * A live frame that does not decode is yielded as an `Err` item and following goes on; a
//!   history page that does not decode counts as a failed reconnect.
//! * The API has no event-id cursor. The first backfill reads the whole history; later ones
//!   (after a reconnect) start [`FollowOptions::backfill_overlap`] before the newest
//!   `processed_at` already delivered (`created_at[gte]`, which the API compares against
//!   `processed_at`), assuming the stream delivers events in `processed_at` order up to that
//!   overlap. Set it to `None` to read the whole history on every reconnect.

use std::collections::HashSet;
use std::pin::Pin;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, stream};

use super::error::{Error, Result};
use super::types::Timestamp;

/// What `follow` needs to know about an event.
pub trait FollowEvent: Send + 'static {
    /// `(id, processed)` for persisted events; `None` for stream-only previews.
    fn sighting(&self) -> Option<(&str, bool)>;
    /// Whether the stream ends after this event.
    fn ends_stream(&self) -> bool;
    /// When the event was processed, used to window later backfills (`None`: unknown).
    fn processed_at(&self) -> Option<Timestamp> {
        None
    }
}

/// Where `follow` reads from: the live stream and the history.
pub trait FollowSource<T>: Send + Sync + 'static {
    /// Opens the live stream (returns once the response headers arrived).
    fn open(&self) -> BoxFuture<'_, Result<BoxStream<'static, Result<T>>>>;
    /// The history, oldest first: all of it, or only events processed at or after `since`.
    fn history(&self, since: Option<Timestamp>) -> BoxStream<'static, Result<T>>;
}

/// Reconnect settings of [`follow`](crate::api::follow).
#[derive(Clone, Debug, PartialEq)]
pub struct FollowOptions {
    /// First reconnect delay (SDK session runner: 0.5 s).
    pub initial_backoff: Duration,
    /// Largest reconnect delay (SDK session runner: 10 s).
    pub max_backoff: Duration,
    /// Give up (yield the last error and end) after this many consecutive failed reconnects
    /// without a new event. `None` retries for as long as the stream is polled.
    pub max_consecutive_failures: Option<u32>,
    /// How far before the newest delivered `processed_at` a reconnect's backfill starts
    /// (default 10 s); `None` reads the whole history every time.
    pub backfill_overlap: Option<Duration>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_consecutive_failures: Some(20),
            backfill_overlap: Some(Duration::from_secs(10)),
        }
    }
}

impl FollowOptions {
    fn backoff(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(31);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        base.mul_f64(1.0 - 0.25 * rand::random::<f64>())
    }
}

/// Errors after which reconnecting cannot help: 4xx other than 408/409/429, bad config.
fn is_fatal(err: &Error) -> bool {
    match err {
        Error::Api(e) | Error::Conflict(e) => {
            e.status != 0 && (400..500).contains(&e.status) && !matches!(e.status, 408 | 409 | 429)
        }
        Error::Config(_) | Error::InvalidRequest(_) => true,
        _ => false,
    }
}

enum Phase<T> {
    Connect,
    Backfill {
        history: BoxStream<'static, Result<T>>,
        live: BoxStream<'static, Result<T>>,
    },
    Live(BoxStream<'static, Result<T>>),
    Done,
}

struct State<T, S> {
    source: S,
    options: FollowOptions,
    phase: Phase<T>,
    seen: HashSet<(String, bool)>,
    failures: u32,
    /// The newest `processed_at` delivered so far.
    watermark: Option<Timestamp>,
}

/// Follows a source losslessly; see the module docs.
pub fn follow_source<T, S>(
    source: S,
    options: FollowOptions,
    already_seen: impl IntoIterator<Item = (String, bool)>,
) -> Pin<Box<dyn Stream<Item = Result<T>> + Send>>
where
    T: FollowEvent,
    S: FollowSource<T>,
{
    let state = State {
        source,
        options,
        phase: Phase::Connect,
        seen: already_seen.into_iter().collect(),
        failures: 0,
        watermark: None,
    };
    Box::pin(stream::unfold(state, |mut st| async move {
        loop {
            match std::mem::replace(&mut st.phase, Phase::Done) {
                Phase::Done => return None,
                Phase::Connect => {
                    if st.failures > 0 {
                        tokio::time::sleep(st.options.backoff(st.failures)).await;
                    }
                    match st.source.open().await {
                        Ok(live) => {
                            let since = match (st.watermark, st.options.backfill_overlap) {
                                (Some(mark), Some(overlap)) => chrono::Duration::from_std(overlap)
                                    .ok()
                                    .and_then(|o| mark.checked_sub_signed(o)),
                                _ => None,
                            };
                            st.phase = Phase::Backfill {
                                history: st.source.history(since),
                                live,
                            }
                        }
                        Err(e) => {
                            if let Some(err) = st.fail(e) {
                                return Some((Err(err), st));
                            }
                        }
                    }
                }
                Phase::Backfill { mut history, live } => match history.next().await {
                    Some(Ok(event)) => {
                        st.phase = Phase::Backfill { history, live };
                        if let Some(out) = st.admit(event) {
                            return Some((Ok(out), st));
                        }
                    }
                    Some(Err(e)) => {
                        drop(live);
                        if let Some(err) = st.fail(e) {
                            return Some((Err(err), st));
                        }
                    }
                    None => st.phase = Phase::Live(live),
                },
                Phase::Live(mut live) => match live.next().await {
                    Some(Ok(event)) => {
                        st.phase = Phase::Live(live);
                        if let Some(out) = st.admit(event) {
                            return Some((Ok(out), st));
                        }
                    }
                    Some(Err(e @ Error::Decode { .. })) => {
                        // One frame the crate cannot decode: report it, keep following.
                        st.phase = Phase::Live(live);
                        return Some((Err(e), st));
                    }
                    Some(Err(_)) | None => {
                        // A cut, a stall, an error frame or a clean end: reconnect; the
                        // backfill recovers whatever the gap held.
                        drop(live);
                        st.failures += 1;
                        if let Some(max) = st.options.max_consecutive_failures
                            && st.failures > max
                        {
                            return Some((
                                Err(Error::Stream {
                                    operation: super::error::Operation {
                                        method: "GET".into(),
                                        path: "events/stream".into(),
                                    },
                                    message: format!(
                                        "gave up after {max} reconnects without a new event"
                                    ),
                                    request_id: None,
                                }),
                                st,
                            ));
                        }
                        st.phase = Phase::Connect;
                    }
                },
            }
        }
    }))
}

impl<T: FollowEvent, S> State<T, S> {
    /// Dedupes an event and decides whether the stream ends after it. Returns the event if it
    /// is new.
    fn admit(&mut self, event: T) -> Option<T> {
        if event.ends_stream() {
            self.phase = Phase::Done;
        }
        match event.sighting() {
            None => Some(event),
            Some((id, processed)) => {
                let fresh = self.seen.insert((id.to_owned(), processed));
                if fresh {
                    self.failures = 0;
                    if let Some(at) = event.processed_at() {
                        self.watermark = Some(self.watermark.map_or(at, |w| w.max(at)));
                    }
                    Some(event)
                } else {
                    None
                }
            }
        }
    }

    /// Records a failed connect/backfill; returns the error to yield if following must stop.
    fn fail(&mut self, err: Error) -> Option<Error> {
        self.failures += 1;
        let exhausted = self
            .options
            .max_consecutive_failures
            .is_some_and(|max| self.failures > max);
        if is_fatal(&err) || exhausted {
            self.phase = Phase::Done;
            Some(err)
        } else {
            tracing::debug!(error = %err, failures = self.failures, "follow: reconnecting");
            self.phase = Phase::Connect;
            None
        }
    }
}
