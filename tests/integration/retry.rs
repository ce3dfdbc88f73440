//! The retry decision table (status × `x-should-retry` × request kind), backoff bounds, and
//! `retry-after` parsing.

use std::time::{Duration, SystemTime};

use claude_agents::api::RequestKind::{Create, Idempotent, Read};
use claude_agents::api::retry::{
    AttemptOutcome, Decision, RequestKind, RetryPolicy, parse_retry_after, parse_should_retry,
};
use reqwest::header::{HeaderMap, HeaderValue};

fn decide(kind: RequestKind, outcome: AttemptOutcome, should: Option<bool>) -> Decision {
    RetryPolicy::default().decide(kind, outcome, should, None, 0, 0.0)
}

const BACKOFF0: Decision = Decision::Retry(Duration::from_millis(500));
use AttemptOutcome::{ConnectFailed, NoResponse, Status};
use Decision::{Fail, OutcomeUnknown};

#[test]
fn decision_table() {
    // (kind, outcome, x-should-retry, expected)
    let table: &[(RequestKind, AttemptOutcome, Option<bool>, Decision)] = &[
        // Reads follow the SDK exactly.
        (Read, Status(400), None, Fail),
        (Read, Status(401), None, Fail),
        (Read, Status(404), None, Fail),
        (Read, Status(408), None, BACKOFF0),
        (Read, Status(409), None, BACKOFF0),
        (Read, Status(429), None, BACKOFF0),
        (Read, Status(500), None, BACKOFF0),
        (Read, Status(529), None, BACKOFF0),
        (Read, Status(400), Some(true), BACKOFF0),
        (Read, Status(503), Some(false), Fail),
        (Read, ConnectFailed, None, BACKOFF0),
        (Read, NoResponse, None, BACKOFF0),
        // Idempotent writes: like reads, but 409 is a final conflict whatever the header says.
        (Idempotent, Status(409), None, Fail),
        (Idempotent, Status(409), Some(true), Fail),
        (Idempotent, Status(500), None, BACKOFF0),
        (Idempotent, Status(429), None, BACKOFF0),
        (Idempotent, Status(422), None, Fail),
        (Idempotent, NoResponse, None, BACKOFF0),
        (Idempotent, Status(502), Some(false), Fail),
        // Creates: re-sent only when the server certainly did not act.
        (Create, ConnectFailed, None, BACKOFF0),
        (Create, Status(408), None, BACKOFF0),
        (Create, Status(429), None, BACKOFF0),
        (Create, Status(503), None, BACKOFF0),
        (Create, Status(529), None, BACKOFF0),
        (Create, Status(500), None, OutcomeUnknown),
        (Create, Status(502), None, OutcomeUnknown),
        (Create, Status(504), None, OutcomeUnknown),
        (Create, Status(500), Some(true), BACKOFF0),
        (Create, Status(500), Some(false), OutcomeUnknown),
        (Create, Status(409), None, Fail),
        (Create, Status(409), Some(true), Fail),
        (Create, Status(400), None, Fail),
        (Create, Status(400), Some(true), BACKOFF0),
        (Create, NoResponse, None, OutcomeUnknown),
    ];
    for (kind, outcome, should, want) in table {
        assert_eq!(
            decide(*kind, *outcome, *should),
            *want,
            "{kind:?} {outcome:?} x-should-retry={should:?}"
        );
    }
}

#[test]
fn retries_stop_at_max_retries() {
    let p = RetryPolicy::default();
    assert!(matches!(
        p.decide(Read, Status(500), None, None, 1, 0.0),
        Decision::Retry(_)
    ));
    assert_eq!(p.decide(Read, Status(500), None, None, 2, 0.0), Fail);
    // A create that exhausted its retries on 529 surfaces the API error, not OutcomeUnknown.
    assert_eq!(p.decide(Create, Status(529), None, None, 2, 0.0), Fail);
    assert_eq!(
        RetryPolicy::none().decide(Read, Status(500), None, None, 0, 0.0),
        Fail
    );
}

#[test]
fn backoff_doubles_caps_and_jitters_down_by_at_most_a_quarter() {
    let p = RetryPolicy::default();
    let expect = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0];
    for (n, secs) in expect.iter().enumerate() {
        let n = n as u32;
        assert_eq!(p.backoff(n, 0.0), Duration::from_secs_f64(*secs), "n={n}");
        let low = p.backoff(n, 0.999_999);
        assert!(
            low >= Duration::from_secs_f64(secs * 0.75 - 1e-6),
            "n={n}: {low:?}"
        );
        assert!(low < p.backoff(n, 0.0));
    }
    assert_eq!(p.backoff(1000, 0.0), Duration::from_secs(8));
}

#[test]
fn retry_after_is_honoured_up_to_the_cap() {
    let p = RetryPolicy::default();
    let wait = Some(Duration::from_secs(7));
    assert_eq!(
        p.decide(Read, Status(429), None, wait, 0, 0.5),
        Decision::Retry(Duration::from_secs(7))
    );
    let long = Some(Duration::from_secs(61));
    assert_eq!(p.decide(Read, Status(429), None, long, 0, 0.5), Fail);
    let p = RetryPolicy {
        retry_after_cap: Duration::from_secs(120),
        ..RetryPolicy::default()
    };
    assert_eq!(
        p.decide(Read, Status(429), None, long, 0, 0.0),
        Decision::Retry(Duration::from_secs(61))
    );
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn retry_after_parsing() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    let p = |pairs: &[(&'static str, &str)]| parse_retry_after(&headers(pairs), now);
    assert_eq!(p(&[]), None);
    assert_eq!(p(&[("retry-after", "3")]), Some(Duration::from_secs(3)));
    assert_eq!(
        p(&[("retry-after", "1.5")]),
        Some(Duration::from_millis(1500))
    );
    assert_eq!(p(&[("retry-after", " 2 ")]), Some(Duration::from_secs(2)));
    assert_eq!(p(&[("retry-after", "0")]), None);
    assert_eq!(p(&[("retry-after", "-4")]), None);
    assert_eq!(p(&[("retry-after", "soon")]), None);
    assert_eq!(p(&[("retry-after", "NaN")]), None);
    // retry-after-ms wins over retry-after.
    assert_eq!(
        p(&[("retry-after-ms", "250"), ("retry-after", "9")]),
        Some(Duration::from_millis(250))
    );
    assert_eq!(
        p(&[("retry-after-ms", "junk"), ("retry-after", "9")]),
        Some(Duration::from_secs(9))
    );
    // HTTP date, 30 s after `now`.
    let date = chrono::DateTime::from_timestamp(1_780_000_030, 0)
        .unwrap()
        .to_rfc2822();
    assert_eq!(p(&[("retry-after", &date)]), Some(Duration::from_secs(30)));
    let past = chrono::DateTime::from_timestamp(1_779_999_000, 0)
        .unwrap()
        .to_rfc2822();
    assert_eq!(p(&[("retry-after", &past)]), None);
}

#[test]
fn should_retry_header_parsing() {
    assert_eq!(
        parse_should_retry(&headers(&[("x-should-retry", "true")])),
        Some(true)
    );
    assert_eq!(
        parse_should_retry(&headers(&[("x-should-retry", "false")])),
        Some(false)
    );
    assert_eq!(
        parse_should_retry(&headers(&[("x-should-retry", "maybe")])),
        None
    );
    assert_eq!(parse_should_retry(&headers(&[])), None);
}
