//! Retry policy: which failures are retried, how long to wait, and the deviations from the
//! official SDKs' policy that keep writes from being duplicated (reference README §7).
//!
//! The decision is a pure function ([`RetryPolicy::decide`]) so it can be tested as a table.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// How a request may be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestKind {
    /// `GET`: always safe to repeat.
    Read,
    /// Update, archive, delete, token rotation: repeating converges on the same state. A 409
    /// here is a [`Conflict`](crate::api::Error::Conflict) (stale `version`) and is not retried.
    Idempotent,
    /// Creates and event sends: repeating may duplicate work. Re-sent only when the server
    /// certainly did not act on it (connection never established, 408/429/503/529, or the
    /// server said `x-should-retry: true`); otherwise the call ends with
    /// [`OutcomeUnknown`](crate::api::Error::OutcomeUnknown).
    Create,
}

/// What happened on one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The server answered with this status (≥ 400).
    Status(u16),
    /// The connection could not be established: the request never left this process.
    ConnectFailed,
    /// The request may have been sent, but no response arrived (reset, read timeout, …).
    NoResponse,
}

/// The verdict for one failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then send the request again.
    Retry(Duration),
    /// Do not retry; surface the error as it is.
    Fail,
    /// Do not retry; the write may have taken effect (→ `OutcomeUnknown`).
    OutcomeUnknown,
}

/// Retry settings. The defaults mirror the official SDKs: 2 retries, 0.5 s doubling to 8 s with
/// up to 25 % negative jitter; plus a cap on `retry-after` (60 s).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (SDK default 2 ⇒ up to 3 attempts).
    pub max_retries: u32,
    /// First backoff delay.
    pub initial_delay: Duration,
    /// Largest backoff delay.
    pub max_delay: Duration,
    /// A `retry-after` longer than this is not waited for: the error is returned at once with
    /// its `retry_after`, so the caller can schedule the retry instead of holding a task.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            retry_after_cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Decide what to do after attempt number `retries_taken + 1` failed.
    ///
    /// * `should_retry` is the `x-should-retry` header (`Some(true|false)`), which overrides the
    ///   status table as in the SDKs — except that a 409 on a write is never retried and a
    ///   create is never re-sent when the server may have acted on it, unless the server said
    ///   `x-should-retry: true`.
    /// * `retry_after` is the server's requested delay, if any.
    /// * `jitter` is a number in `[0, 1)` (random in production, fixed in tests).
    pub fn decide(
        &self,
        kind: RequestKind,
        outcome: AttemptOutcome,
        should_retry: Option<bool>,
        retry_after: Option<Duration>,
        retries_taken: u32,
        jitter: f64,
    ) -> Decision {
        let retryable = match outcome {
            AttemptOutcome::ConnectFailed => true,
            AttemptOutcome::NoResponse => kind != RequestKind::Create,
            AttemptOutcome::Status(409) if kind != RequestKind::Read => false,
            AttemptOutcome::Status(status) => match should_retry {
                Some(explicit) => explicit,
                None => match kind {
                    RequestKind::Create => matches!(status, 408 | 429 | 503 | 529),
                    _ => matches!(status, 408 | 409 | 429) || status >= 500,
                },
            },
        };
        let maybe_applied = kind == RequestKind::Create
            && match outcome {
                AttemptOutcome::NoResponse => true,
                AttemptOutcome::Status(status) => {
                    matches!(status, 500 | 502 | 504) && should_retry != Some(true)
                }
                AttemptOutcome::ConnectFailed => false,
            };
        if !retryable {
            return if maybe_applied {
                Decision::OutcomeUnknown
            } else {
                Decision::Fail
            };
        }
        if retries_taken >= self.max_retries {
            return Decision::Fail;
        }
        match retry_after {
            Some(wait) if wait > self.retry_after_cap => Decision::Fail,
            Some(wait) if !wait.is_zero() => Decision::Retry(wait),
            _ => Decision::Retry(self.backoff(retries_taken, jitter)),
        }
    }

    /// Exponential backoff for the retry after `retries_taken` earlier retries:
    /// `min(initial · 2ⁿ, max) · (1 − 0.25 · jitter)`.
    pub fn backoff(&self, retries_taken: u32, jitter: f64) -> Duration {
        let base = self
            .initial_delay
            .saturating_mul(1u32.checked_shl(retries_taken.min(31)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        base.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
    }
}

/// Reads the server's requested delay: `retry-after-ms` first, then `retry-after` as seconds
/// (integer or float) or as an HTTP date. Negative, unparsable or past values give `None`.
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms > 0.0)
    {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs > 0.0)
            .then(|| Duration::try_from_secs_f64(secs).ok())
            .flatten();
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(date.timestamp()).ok()?);
    at.duration_since(now).ok().filter(|d| !d.is_zero())
}

/// Reads `x-should-retry`.
pub fn parse_should_retry(headers: &HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry")?.to_str().ok()?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}
