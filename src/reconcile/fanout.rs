//! Bounded, rate-limited fan-out: run one async operation per key (e.g. per agent spec) with a
//! cap on how many run at once, within the API's per-organization rate limits (reference
//! README §8), and get a per-key report back.
//!
//! * [`RateLimiter`] — one rate limiter per [`RequestClass`] (creates, other operations,
//!   environment operations), plus the environments' cap on concurrent requests. Share one
//!   limiter (`Arc<RateLimiter>`) between every task that uses the same organization; call
//!   [`RateLimiter::acquire`] before each API call and keep the [`Permit`] until the response
//!   arrived.
//! * [`FanOut`] — runs `f(key)` for every key, at most `concurrency` at once, optionally taking
//!   one permit of a request class before each call, and returns a [`FanOutReport`]: one failing
//!   key never stops the others, and no key runs twice.
//!
//! # The rate limiter
//!
//! Each class is a GCRA ("generic cell rate algorithm", the virtual-scheduling form of a token
//! bucket) on [`tokio::time::Instant`]. A [`Rate`] has a `per_minute` limit and a `burst`: the
//! first `burst` permits are granted at once, the following ones are spaced evenly at
//! `per_minute - burst` per minute. So **any window of 60 seconds holds at most `per_minute`
//! permits** (the burst plus one minute of refill) — the server's limit is never exceeded by
//! one process, even right after start. The default burst is a tenth of the rate (at least 1).
//!
//! Waiters are served in the order they asked (each `acquire` reserves the next slot at once);
//! a cancelled `acquire` still consumes its slot, which only ever makes the limiter slower,
//! never faster.
//!
//! The limits are per *organization* on the server: several processes (or API keys of one
//! organization) share them, so a 429 can still happen; the API client's retry policy handles
//! it with `retry-after`.
//!
//! Why not `governor`: its waiting futures sleep on `futures-timer` (a wall-clock thread), so
//! they ignore tokio's paused test time, and its default clock is `quanta`; plugging a tokio
//! clock in still leaves the waiting to us. The algorithm is twenty lines; see
//! [`RateLimiter::acquire`].

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Which rate limit an API call counts against (reference README §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestClass {
    /// Creating an agent, session or vault (default 300 per minute).
    Create,
    /// Every other agent, session or vault operation: reads, updates, archives, lists, events
    /// (default 600 per minute).
    Other,
    /// Any operation on environments, create included (default 60 per minute and at most 5 at
    /// once).
    Environment,
}

/// A per-minute limit with an initial burst (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    per_minute: u32,
    burst: u32,
}

impl Rate {
    /// `n` permits per minute (at least 1), with the default burst: `n / 10`, at least 1.
    pub fn per_minute(n: u32) -> Self {
        let n = n.max(1);
        Self {
            per_minute: n,
            burst: (n / 10).max(1),
        }
    }

    /// The same rate with `burst` permits granted at once at the start (clamped to
    /// `1..per_minute`, so that some of the minute's budget is left for the refill; a rate of 1
    /// per minute keeps a burst of 1).
    pub fn with_burst(self, burst: u32) -> Self {
        let max = self.per_minute.saturating_sub(1).max(1);
        Self {
            burst: burst.clamp(1, max),
            ..self
        }
    }

    /// The per-minute limit.
    pub fn limit(&self) -> u32 {
        self.per_minute
    }

    /// The burst.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Time between two permits after the burst: one minute over `per_minute - burst`
    /// (at least one permit per minute).
    fn interval(&self) -> Duration {
        let refill = self.per_minute.saturating_sub(self.burst).max(1);
        Duration::from_secs(60) / refill
    }
}

/// The limits of one organization; [`Default`] is the reference's (README §8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Creates of agents, sessions and vaults: 300 per minute.
    pub create: Rate,
    /// Other agent, session and vault operations: 600 per minute.
    pub other: Rate,
    /// Environment operations: 60 per minute.
    pub environment: Rate,
    /// Environment operations in flight at once: 5 (at least 1).
    pub environment_max_concurrent: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            create: Rate::per_minute(300),
            other: Rate::per_minute(600),
            environment: Rate::per_minute(60),
            environment_max_concurrent: 5,
        }
    }
}

/// One class's scheduler: the theoretical arrival time of the next permit (GCRA).
#[derive(Debug)]
struct Gcra {
    interval: Duration,
    /// How far ahead of now the schedule may run before callers must wait:
    /// `(burst - 1) * interval`.
    tolerance: Duration,
    /// When the next permit is due if the schedule were strictly even; `None` before the first.
    tat: Mutex<Option<Instant>>,
}

impl Gcra {
    fn new(rate: Rate) -> Self {
        let interval = rate.interval();
        Self {
            interval,
            tolerance: interval.saturating_mul(rate.burst.saturating_sub(1)),
            tat: Mutex::new(None),
        }
    }

    /// Reserves the next slot; returns when it may be used (`now` or later).
    fn reserve(&self, now: Instant) -> Instant {
        // A poisoned lock only means another task panicked between two plain assignments;
        // the `Option<Instant>` inside is always consistent.
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        let due = tat.map_or(now, |t| t.max(now));
        *tat = Some(due + self.interval);
        // Conforms (may go now) when `due - tolerance <= now`.
        due.checked_sub(self.tolerance).map_or(now, |t| t.max(now))
    }
}

/// Rate limits per [`RequestClass`], shared by every task of one organization (wrap it in an
/// [`Arc`]). See the [module docs](self) for the algorithm and its guarantee.
pub struct RateLimiter {
    limits: RateLimits,
    create: Gcra,
    other: Gcra,
    environment: Gcra,
    environment_slots: Arc<Semaphore>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .field(
                "environment_slots_free",
                &self.environment_slots.available_permits(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(RateLimits::default())
    }
}

impl RateLimiter {
    /// A limiter with `limits`.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            create: Gcra::new(limits.create),
            other: Gcra::new(limits.other),
            environment: Gcra::new(limits.environment),
            environment_slots: Arc::new(Semaphore::new(limits.environment_max_concurrent.max(1))),
            limits,
        }
    }

    /// The configured limits.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Waits until one call of `class` may be made and returns its permit. Keep the permit
    /// until the call's response arrived: for [`RequestClass::Environment`] it holds one of
    /// the concurrent slots, released on drop.
    ///
    /// The concurrency slot is taken before the rate slot, so a request never waits for a
    /// slot after its rate slot came due. Uses tokio's clock (works with paused test time).
    pub async fn acquire(&self, class: RequestClass) -> Permit {
        let slot = match class {
            RequestClass::Environment => {
                // The semaphore is owned by `self` and never closed, so this cannot fail;
                // without a slot the permit would only lose the concurrency cap.
                self.environment_slots.clone().acquire_owned().await.ok()
            }
            RequestClass::Create | RequestClass::Other => None,
        };
        let gcra = match class {
            RequestClass::Create => &self.create,
            RequestClass::Other => &self.other,
            RequestClass::Environment => &self.environment,
        };
        let at = gcra.reserve(Instant::now());
        tokio::time::sleep_until(at).await;
        Permit { class, _slot: slot }
    }
}

/// Permission for one API call of a [`RequestClass`]; hold it until the response arrived.
#[derive(Debug)]
pub struct Permit {
    class: RequestClass,
    _slot: Option<OwnedSemaphorePermit>,
}

impl Permit {
    /// The class this permit is for.
    pub fn class(&self) -> RequestClass {
        self.class
    }
}

/// Runs one async operation per key with bounded concurrency, optionally rate limited.
///
/// ```
/// # async fn demo() {
/// use std::sync::Arc;
/// use claude_agents::reconcile::fanout::{FanOut, RateLimiter, RequestClass};
///
/// let limiter = Arc::new(RateLimiter::default());
/// let report = FanOut::new(4)
///     .rate_limited(limiter, RequestClass::Other)
///     .run(vec!["a", "b", "c"], |key| async move {
///         if key == "b" { Err("boom") } else { Ok(key.len()) }
///     })
///     .await;
/// assert_eq!(report.ok_count(), 2);
/// assert_eq!(report.errors().count(), 1);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct FanOut {
    concurrency: usize,
    limiter: Option<(Arc<RateLimiter>, RequestClass)>,
}

impl FanOut {
    /// At most `concurrency` operations in flight (at least 1); no rate limit.
    pub fn new(concurrency: usize) -> Self {
        Self {
            concurrency: concurrency.max(1),
            limiter: None,
        }
    }

    /// Takes one permit of `class` from `limiter` before each operation (for operations that
    /// make one API call each). Operations that make several calls of different classes should
    /// instead capture the limiter and call [`RateLimiter::acquire`] before each call.
    pub fn rate_limited(mut self, limiter: Arc<RateLimiter>, class: RequestClass) -> Self {
        self.limiter = Some((limiter, class));
        self
    }

    /// The concurrency bound.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Runs `f(key)` once for every distinct key (a repeated key runs once, at its first
    /// position), at most [`concurrency`](Self::concurrency) at once, and returns every
    /// result in the order of the (deduplicated) keys. An error of one key does not stop the
    /// others.
    ///
    /// The operations run as futures of the calling task (nothing is spawned, so `f` and its
    /// futures need not be `'static` or `Send` beyond what the caller needs). A panic in `f`
    /// propagates to the caller.
    pub async fn run<K, T, E, F, Fut>(
        &self,
        keys: impl IntoIterator<Item = K>,
        f: F,
    ) -> FanOutReport<K, T, E>
    where
        K: Clone + Eq + Hash,
        F: Fn(K) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut seen = HashSet::new();
        let keys: Vec<K> = keys
            .into_iter()
            .filter(|k| seen.insert(k.clone()))
            .collect();
        let f = &f;
        let limiter = self.limiter.as_ref();
        let mut results: Vec<(usize, K, Result<T, E>)> = stream::iter(keys.into_iter().enumerate())
            .map(|(i, key)| async move {
                let permit = match limiter {
                    Some((l, class)) => Some(l.acquire(*class).await),
                    None => None,
                };
                let result = f(key.clone()).await;
                drop(permit);
                (i, key, result)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        results.sort_by_key(|(i, _, _)| *i);
        FanOutReport {
            results: results.into_iter().map(|(_, k, r)| (k, r)).collect(),
        }
    }
}

/// The outcome of a [`FanOut::run`]: one result per key, in key order.
#[derive(Debug)]
pub struct FanOutReport<K, T, E> {
    /// `(key, result)` for every key, in the order the keys were given.
    pub results: Vec<(K, Result<T, E>)>,
}

impl<K, T, E> FanOutReport<K, T, E> {
    /// Whether every key succeeded.
    pub fn all_ok(&self) -> bool {
        self.results.iter().all(|(_, r)| r.is_ok())
    }

    /// How many keys succeeded.
    pub fn ok_count(&self) -> usize {
        self.results.iter().filter(|(_, r)| r.is_ok()).count()
    }

    /// The keys that succeeded, with their values.
    pub fn successes(&self) -> impl Iterator<Item = (&K, &T)> {
        self.results
            .iter()
            .filter_map(|(k, r)| r.as_ref().ok().map(|v| (k, v)))
    }

    /// The keys that failed, with their errors.
    pub fn errors(&self) -> impl Iterator<Item = (&K, &E)> {
        self.results
            .iter()
            .filter_map(|(k, r)| r.as_ref().err().map(|e| (k, e)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Tracks operations in flight and their high-water mark.
    #[derive(Default)]
    struct InFlight {
        now: AtomicUsize,
        max: AtomicUsize,
    }

    impl InFlight {
        fn enter(&self) {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
        }
        fn leave(&self) {
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn fanout_bounds_concurrency_and_runs_each_key_once() {
        let flight = InFlight::default();
        let runs: Vec<AtomicUsize> = (0..100).map(|_| AtomicUsize::new(0)).collect();
        let report = FanOut::new(8)
            .run(0..100usize, |k| {
                let (flight, runs) = (&flight, &runs);
                async move {
                    flight.enter();
                    runs[k].fetch_add(1, Ordering::SeqCst);
                    // Different durations, so completions interleave.
                    tokio::time::sleep(Duration::from_millis(10 + (k as u64 * 7) % 50)).await;
                    flight.leave();
                    Ok::<_, String>(k * 2)
                }
            })
            .await;
        assert_eq!(flight.max.load(Ordering::SeqCst), 8);
        assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 1));
        assert!(report.all_ok());
        let keys: Vec<usize> = report.results.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, (0..100).collect::<Vec<_>>(), "results in key order");
        assert!(report.successes().all(|(k, v)| *v == k * 2));
    }

    #[tokio::test(start_paused = true)]
    async fn fanout_deduplicates_keys() {
        let runs = AtomicUsize::new(0);
        let report = FanOut::new(3)
            .run(["a", "b", "a", "c", "b"], |_| async {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(())
            })
            .await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let keys: Vec<&str> = report.results.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn fanout_reports_errors_and_finishes_the_rest() {
        let done = AtomicUsize::new(0);
        let report = FanOut::new(4)
            .run(0..20u32, |k| {
                let done = &done;
                async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    done.fetch_add(1, Ordering::SeqCst);
                    if k % 5 == 0 {
                        Err(format!("key {k} failed"))
                    } else {
                        Ok(k)
                    }
                }
            })
            .await;
        assert_eq!(done.load(Ordering::SeqCst), 20);
        assert!(!report.all_ok());
        assert_eq!(report.ok_count(), 16);
        let failed: Vec<u32> = report.errors().map(|(k, _)| *k).collect();
        assert_eq!(failed, [0, 5, 10, 15]);
        assert!(
            report
                .errors()
                .all(|(k, e)| *e == format!("key {k} failed"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rate_of_60_per_minute_bursts_then_spaces_permits() {
        let rate = Rate::per_minute(60);
        assert_eq!(rate.burst(), 6, "default burst: a tenth of the rate");
        let limiter = Arc::new(RateLimiter::new(RateLimits {
            other: rate,
            ..RateLimits::default()
        }));
        let start = Instant::now();
        let times = Mutex::new(Vec::new());
        let report = FanOut::new(200)
            .rate_limited(limiter, RequestClass::Other)
            .run(0..120u32, |_| async {
                times.lock().unwrap().push(Instant::now() - start);
                Ok::<_, ()>(())
            })
            .await;
        assert!(report.all_ok());
        let mut times = times.into_inner().unwrap();
        times.sort();
        assert_eq!(times.len(), 120);
        // The burst goes at once, the next one waits a full interval (60 s / 54); tokio's
        // timer rounds deadlines up to the next millisecond.
        let interval = Duration::from_secs(60) / 54;
        let about = |t: Duration, want: Duration| t >= want && t <= want + Duration::from_millis(1);
        assert!(times[..6].iter().all(|t| t.is_zero()), "{:?}", &times[..7]);
        assert!(about(times[6], interval), "{:?}", times[6]);
        // 120 operations take more than a minute of (virtual) time.
        let last = *times.last().unwrap();
        assert!(last >= Duration::from_secs(60));
        assert!(about(last, interval * 114), "{last:?}");
        // No window of 60 s holds more than 60 permits.
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u <= *t + Duration::from_secs(60))
                .count();
            assert!(
                in_window <= 60,
                "{in_window} permits in the minute from {t:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn environment_permits_cap_concurrency_at_five() {
        let limiter = Arc::new(RateLimiter::new(RateLimits {
            environment: Rate::per_minute(6000),
            ..RateLimits::default()
        }));
        let flight = InFlight::default();
        let report = FanOut::new(50)
            .run(0..40u32, |_| {
                let (limiter, flight) = (limiter.clone(), &flight);
                async move {
                    let _permit = limiter.acquire(RequestClass::Environment).await;
                    flight.enter();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    flight.leave();
                    Ok::<_, ()>(())
                }
            })
            .await;
        assert!(report.all_ok());
        assert_eq!(flight.max.load(Ordering::SeqCst), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn classes_are_limited_independently() {
        let limiter = RateLimiter::new(RateLimits {
            create: Rate::per_minute(2).with_burst(1),
            ..RateLimits::default()
        });
        let start = Instant::now();
        let _ = limiter.acquire(RequestClass::Create).await;
        // The create bucket is empty now; other operations are not affected.
        let _ = limiter.acquire(RequestClass::Other).await;
        assert_eq!(Instant::now(), start);
        let _ = limiter.acquire(RequestClass::Create).await;
        assert_eq!(Instant::now() - start, Duration::from_secs(60));
    }

    #[test]
    fn rate_burst_is_clamped() {
        assert_eq!(Rate::per_minute(0).limit(), 1);
        assert_eq!(Rate::per_minute(1).burst(), 1);
        assert_eq!(Rate::per_minute(1).with_burst(5).burst(), 1);
        assert_eq!(Rate::per_minute(300).burst(), 30);
        assert_eq!(Rate::per_minute(300).with_burst(1000).burst(), 299);
        assert_eq!(Rate::per_minute(300).with_burst(0).burst(), 1);
    }
}
