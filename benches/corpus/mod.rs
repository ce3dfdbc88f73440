//! A deterministic generator of a realistic session event corpus, shared by the criterion bench
//! (`benches/decode.rs`) and the local SSE server (`examples/sse_server.rs`) through
//! `#[path = "../benches/corpus/mod.rs"] mod corpus;`.
//!
//! The corpus reads like the stream of a long coding-agent session (reference `sessions.md`
//! §10.3, §11, §11.8; field names exactly as in §11.8): turns of
//! `user.message` (queued, `processed_at: null`) → `session.status_running` → `user.message`
//! (the same id, processed) → model requests (`span.model_request_start` → `agent.thinking` →
//! optional short `agent.message` → `agent.tool_use` → `span.model_request_end`) each followed by
//! its `agent.tool_result`, now and then an MCP call, a tool that asks for confirmation (idle
//! with `requires_action`, `user.tool_confirmation`), an overloaded model request
//! (`session.error` retrying, sometimes `session.status_rescheduled`) or a context compaction;
//! each turn ends with a final `agent.message` paragraph (some multi-byte UTF-8), a
//! `session.usage` snapshot and `session.status_idle` (`end_turn`). The last event is always
//! `session.status_terminated`.
//!
//! Every event has an `id` of `sevt_…` plus a counter (unique, except that a queued user event is
//! echoed a second time under the same id, as the API does) and an RFC 3339 `processed_at` with
//! milliseconds. The randomness is a seeded SplitMix64 of our own, so the corpus is identical
//! across runs, platforms and builds. Only `std` and `serde_json` (for string escaping).

#![allow(dead_code)] // Each includer uses a different part.

use std::fmt::Write as _;

/// Seed of the corpus PRNG. Changing it changes every figure measured on the corpus.
pub const SEED: u64 = 0x5EED_C1A0_DE00_2026;

/// `2026-03-15T10:00:00.000Z`, the session's start, in Unix milliseconds.
const START_MS: i64 = 1_773_568_800_000;

/// The comment block the server sends as a heartbeat.
pub const PING: &[u8] = b": ping\n\n";

/// One persisted event per item: compact JSON, `type` first, `processed_at` last.
pub fn events(n: usize) -> Vec<String> {
    generate(n).into_iter().map(|(_, json)| json).collect()
}

/// The SSE body of a stream that delivers `events(n)`: `event: <type>\ndata: <json>\n\n` per
/// event, with a `: ping` comment block now and then (about one per 200 events).
pub fn sse_body(n: usize) -> Vec<u8> {
    let events = generate(n);
    let size: usize = events.iter().map(|(t, j)| t.len() + j.len() + 16).sum();
    let mut out = Vec::with_capacity(size + size / 100);
    let mut rng = Rng::new(SEED ^ 0x9149);
    for (ty, json) in &events {
        if rng.below(200) == 0 {
            out.extend_from_slice(PING);
        }
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(ty.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        out.extend_from_slice(json.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out
}

/// `(type, json)` for `n` events; the last one is `session.status_terminated` (for `n >= 1`).
pub fn generate(n: usize) -> Vec<(&'static str, String)> {
    let mut g = Gen {
        rng: Rng::new(SEED),
        out: Vec::with_capacity(n + 64),
        next_id: 1,
        now_ms: START_MS,
        usage: Usage::default(),
    };
    while g.out.len() + 1 < n {
        g.turn();
    }
    g.out.truncate(n.saturating_sub(1));
    if n > 0 {
        g.tick(200, 2_000);
        let e = g.event("session.status_terminated");
        g.push(e);
    }
    g.out
}

// ---------------------------------------------------------------------------------------------
// PRNG

/// SplitMix64: tiny, fast, good enough for picking words.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------------------
// JSON writing (field order as on the wire: `type`, `id`, fields, `processed_at`)

/// A compact JSON object under construction.
struct Obj(String);

impl Obj {
    fn new() -> Self {
        Obj(String::from("{"))
    }
    fn key(&mut self, k: &str) -> &mut String {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push('"');
        self.0.push_str(k);
        self.0.push_str("\":");
        &mut self.0
    }
    fn str(mut self, k: &str, v: &str) -> Self {
        let s = self.key(k);
        push_json_str(s, v);
        self
    }
    fn raw(mut self, k: &str, json: &str) -> Self {
        self.key(k).push_str(json);
        self
    }
    fn num(mut self, k: &str, v: u64) -> Self {
        let s = self.key(k);
        let _ = write!(s, "{v}");
        self
    }
    fn bool(self, k: &str, v: bool) -> Self {
        self.raw(k, if v { "true" } else { "false" })
    }
    fn done(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json's escaping: exactly what any real JSON encoder emits for these strings.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn json_str(s: &str) -> String {
    let mut out = String::new();
    push_json_str(&mut out, s);
    out
}

/// `[{"type":"text","text":…}]`
fn text_content(text: &str) -> String {
    format!("[{{\"type\":\"text\",\"text\":{}}}]", json_str(text))
}

// ---------------------------------------------------------------------------------------------
// Time

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// RFC 3339 UTC with milliseconds: `2026-03-15T10:00:02.123Z`.
fn rfc3339_ms(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(86_400_000);
    let ms_of_day = unix_ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

// ---------------------------------------------------------------------------------------------
// The session

#[derive(Default)]
struct Usage {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_5m: u64,
    web_search: u64,
    active_ms: u64,
}

struct Gen {
    rng: Rng,
    out: Vec<(&'static str, String)>,
    next_id: u64,
    now_ms: i64,
    usage: Usage,
}

/// An event under construction: its type, its id and the object so far.
struct Ev {
    ty: &'static str,
    id: String,
    obj: Obj,
}

impl Gen {
    fn new_id(&mut self) -> String {
        let id = format!("sevt_011CZbench{:014}", self.next_id);
        self.next_id += 1;
        id
    }

    /// Advance the clock by `lo..=hi` milliseconds.
    fn tick(&mut self, lo: u64, hi: u64) {
        let dt = self.rng.range(lo, hi);
        self.now_ms += dt as i64;
        self.usage.active_ms += dt;
    }

    fn event(&mut self, ty: &'static str) -> Ev {
        let id = self.new_id();
        let obj = Obj::new().str("type", ty).str("id", &id);
        Ev { ty, id, obj }
    }

    /// Finish with `processed_at` = now and append; returns the id.
    fn push(&mut self, ev: Ev) -> String {
        let ts = rfc3339_ms(self.now_ms);
        let json = ev.obj.str("processed_at", &ts).done();
        self.out.push((ev.ty, json));
        ev.id
    }

    fn with(&mut self, ev: Ev, f: impl FnOnce(Obj) -> Obj) -> Ev {
        Ev {
            ty: ev.ty,
            id: ev.id,
            obj: f(ev.obj),
        }
    }

    fn simple(&mut self, ty: &'static str, lo: u64, hi: u64) -> String {
        self.tick(lo, hi);
        let e = self.event(ty);
        self.push(e)
    }

    /// One user turn, start to `end_turn`.
    fn turn(&mut self) {
        // The prompt is echoed queued (processed_at null), then processed under the same id.
        self.tick(5_000, 90_000);
        let prompt = self.rng.pick(PROMPTS).to_string();
        let content = text_content(&prompt);
        let id = self.new_id();
        let queued = Obj::new()
            .str("type", "user.message")
            .str("id", &id)
            .raw("processed_at", "null")
            .raw("content", &content)
            .done();
        self.out.push(("user.message", queued));
        self.simple("session.status_running", 40, 400);
        self.tick(1, 30);
        let processed = Obj::new()
            .str("type", "user.message")
            .str("id", &id)
            .raw("content", &content)
            .str("processed_at", &rfc3339_ms(self.now_ms))
            .done();
        self.out.push(("user.message", processed));

        let rounds = self.rng.range(2, 14);
        for _ in 0..rounds {
            self.model_round();
        }
        self.final_answer();

        self.tick(20, 200);
        self.session_usage();
        self.tick(1, 50);
        let e = self.event("session.status_idle");
        let e = self.with(e, |o| {
            o.raw("stop_reason", "{\"type\":\"end_turn\"}")
                .raw("stop_details", "null")
        });
        self.push(e);
    }

    /// `span.model_request_start`, with an occasional overloaded attempt first.
    fn request_start(&mut self) -> String {
        if self.rng.chance(15) {
            let start = self.simple("span.model_request_start", 20, 300);
            self.tick(2_000, 30_000);
            let e = self.event("span.model_request_end");
            let e = self.with(e, |o| {
                o.str("model_request_start_id", &start)
                    .bool("is_error", true)
                    .raw("model_usage", "{\"input_tokens\":0,\"output_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0}")
            });
            self.push(e);
            self.tick(1, 20);
            let e = self.event("session.error");
            let e = self.with(e, |o| {
                o.raw(
                    "error",
                    "{\"type\":\"model_overloaded_error\",\"message\":\"Overloaded\",\"retry_status\":{\"type\":\"retrying\"}}",
                )
            });
            self.push(e);
            if self.rng.chance(300) {
                self.simple("session.status_rescheduled", 100, 2_000);
                self.simple("session.status_running", 1_000, 20_000);
            }
        }
        if self.rng.chance(2) {
            self.simple("agent.thread_context_compacted", 5_000, 40_000);
        }
        self.simple("span.model_request_start", 20, 300)
    }

    fn request_end(&mut self, start: &str, out_lo: u64, out_hi: u64) {
        self.tick(300, 8_000);
        let input = self.rng.range(200, 6_000);
        let output = self.rng.range(out_lo, out_hi);
        let cache_create = if self.rng.chance(150) {
            self.rng.range(500, 8_000)
        } else {
            0
        };
        let cache_read = self.usage.input / 3 + self.rng.range(2_000, 20_000);
        self.usage.input += input;
        self.usage.output += output;
        self.usage.cache_read += cache_read;
        self.usage.cache_5m += cache_create;
        let usage = Obj::new()
            .num("input_tokens", input)
            .num("output_tokens", output)
            .num("cache_creation_input_tokens", cache_create)
            .num("cache_read_input_tokens", cache_read)
            .done();
        let e = self.event("span.model_request_end");
        let e = self.with(e, |o| {
            o.str("model_request_start_id", start)
                .bool("is_error", false)
                .raw("model_usage", &usage)
        });
        self.push(e);
    }

    /// A model request that ends in a tool call, then the tool's result.
    fn model_round(&mut self) {
        let start = self.request_start();
        self.simple("agent.thinking", 300, 6_000);
        if self.rng.chance(250) {
            self.tick(200, 3_000);
            let text = self.rng.pick(PREAMBLES).to_string();
            let e = self.event("agent.message");
            let e = self.with(e, |o| o.raw("content", &text_content(&text)));
            self.push(e);
        }
        if self.rng.chance(40) {
            self.mcp_call(&start);
            return;
        }
        self.tick(100, 4_000);
        let (name, input, result, is_error) = self.tool_call();
        let ask = self.rng.chance(20);
        let e = self.event("agent.tool_use");
        let e = self.with(e, |o| {
            let o = o.str("name", name).raw("input", &input);
            if ask {
                o.str("evaluated_permission", "ask")
                    .raw("evaluation", "{\"type\":\"always_ask\"}")
            } else {
                o.str("evaluated_permission", "allow")
                    .raw("evaluation", "{\"type\":\"always_allow\"}")
            }
        });
        let tool_use_id = self.push(e);
        self.request_end(&start, 40, 900);
        if ask {
            self.tick(1, 30);
            let e = self.event("session.status_idle");
            let ids = format!(
                "{{\"type\":\"requires_action\",\"event_ids\":[{}]}}",
                json_str(&tool_use_id)
            );
            let e = self.with(e, |o| {
                o.raw("stop_reason", &ids).raw("stop_details", "null")
            });
            self.push(e);
            self.tick(3_000, 120_000);
            let e = self.event("user.tool_confirmation");
            let e = self.with(e, |o| {
                o.str("tool_use_id", &tool_use_id).str("result", "allow")
            });
            self.push(e);
            self.simple("session.status_running", 20, 300);
        }
        self.tick(30, 12_000);
        let e = self.event("agent.tool_result");
        let e = self.with(e, |o| {
            o.str("tool_use_id", &tool_use_id)
                .raw("content", &text_content(&result))
                .bool("is_error", is_error)
        });
        self.push(e);
    }

    fn mcp_call(&mut self, start: &str) {
        self.tick(100, 3_000);
        let (name, input, result) = match self.rng.below(4) {
            0 => {
                let n = self.rng.range(10, 400);
                (
                    "get_issue",
                    format!("{{\"owner\":\"acme\",\"repo\":\"tracker\",\"issue_number\":{n}}}"),
                    format!(
                        "{{\"number\":{n},\"title\":\"Retry storms when the API returns 529\",\"state\":\"open\",\"labels\":[\"bug\",\"client\"],\"body\":\"When the upstream is overloaded every worker retries at once; we should add jitter and honour retry-after. Seen in prod on 2026-03-12 — 4× the usual request rate for ~6 minutes.\",\"comments\":3}}"
                    ),
                )
            }
            1 => (
                "create_pull_request",
                "{\"owner\":\"acme\",\"repo\":\"tracker\",\"title\":\"Add jittered backoff to the API client\",\"head\":\"fix/retry-jitter\",\"base\":\"main\",\"body\":\"Adds full jitter to the retry policy and honours `retry-after`. Closes #217.\"}".to_string(),
                format!(
                    "PR #{} opened: https://github.com/acme/tracker/pull/{}",
                    self.rng.range(200, 900),
                    self.rng.range(200, 900)
                ),
            ),
            2 => (
                "list_commits",
                "{\"owner\":\"acme\",\"repo\":\"tracker\",\"sha\":\"main\",\"per_page\":5}".to_string(),
                "[{\"sha\":\"8d98fdf\",\"message\":\"Client escape hatch and HTTP behaviour tests\"},{\"sha\":\"180ab2b\",\"message\":\"follow(): lossless session event stream\"},{\"sha\":\"c8935aa\",\"message\":\"API client core: builder, typed errors, retry policy\"},{\"sha\":\"4b0d36c\",\"message\":\"Crate skeleton: wire-type conventions\"},{\"sha\":\"1f2e3d4\",\"message\":\"Initial commit\"}]".to_string(),
            ),
            _ => (
                "add_issue_comment",
                "{\"owner\":\"acme\",\"repo\":\"tracker\",\"issue_number\":217,\"body\":\"Fixed in the linked PR; the backoff now starts at 0.5 s and doubles to 8 s with full jitter.\"}".to_string(),
                "Comment created: https://github.com/acme/tracker/issues/217#issuecomment-2719921833".to_string(),
            ),
        };
        let e = self.event("agent.mcp_tool_use");
        let e = self.with(e, |o| {
            o.str("mcp_server_name", "github")
                .str("name", name)
                .raw("input", &input)
                .str("evaluated_permission", "allow")
                .raw("evaluation", "{\"type\":\"always_allow\"}")
        });
        let use_id = self.push(e);
        self.request_end(start, 60, 600);
        self.tick(300, 4_000);
        let e = self.event("agent.mcp_tool_result");
        let e = self.with(e, |o| {
            o.str("mcp_tool_use_id", &use_id)
                .raw("content", &text_content(&result))
                .bool("is_error", false)
        });
        self.push(e);
    }

    /// The closing model request: thinking, a paragraph, the span's end.
    fn final_answer(&mut self) {
        let start = self.request_start();
        self.simple("agent.thinking", 300, 6_000);
        self.tick(1_000, 15_000);
        let sentences = self.rng.range(3, 7);
        let mut text = String::new();
        for i in 0..sentences {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(self.rng.pick(SENTENCES));
        }
        if self.rng.chance(300) {
            text.push_str("\n\nChanged files:\n");
            for _ in 0..self.rng.range(2, 5) {
                let _ = writeln!(text, "- `{}`", self.rng.pick(FILES));
            }
        }
        let e = self.event("agent.message");
        let e = self.with(e, |o| o.raw("content", &text_content(&text)));
        self.push(e);
        self.request_end(&start, 150, 1_500);
    }

    fn session_usage(&mut self) {
        let u = &self.usage;
        // Sonnet-ish list prices, in cents: $3/MTok in, $15/MTok out, $0.30/MTok cache read.
        let cents = (u.input * 3 + u.output * 15) / 10_000 + u.cache_read * 3 / 100_000;
        let usage = format!(
            "{{\"input_tokens\":{},\"output_tokens\":{},\"cache_read_input_tokens\":{},\"cache_creation\":{{\"ephemeral_5m_input_tokens\":{}}},\"list_cost\":{{\"amount\":\"{}\",\"currency\":\"USD\"}},\"active_seconds\":{}.{},\"server_tool_use\":{{\"web_search_requests\":{},\"web_fetch_requests\":0}}}}",
            u.input,
            u.output,
            u.cache_read,
            u.cache_5m,
            cents,
            u.active_ms / 1000,
            u.active_ms % 1000 / 100,
            u.web_search,
        );
        let e = self.event("session.usage");
        let e = self.with(e, |o| {
            o.raw("usage", &usage).raw(
                "budget",
                "{\"type\":\"limit\",\"max_list_cost\":{\"amount\":\"500000\",\"currency\":\"USD\"}}",
            )
        });
        self.push(e);
    }

    /// A built-in tool call: `(name, input JSON, result text, is_error)`.
    fn tool_call(&mut self) -> (&'static str, String, String, bool) {
        let big = self.rng.chance(100);
        match self.rng.below(100) {
            0..=39 => self.bash(big),
            40..=64 => {
                let file = self.rng.pick(FILES);
                let input = if self.rng.chance(300) {
                    let offset = self.rng.range(1, 400);
                    format!(
                        "{{\"file_path\":{},\"offset\":{offset},\"limit\":200}}",
                        json_str(&format!("/workspace/repo/{file}"))
                    )
                } else {
                    format!(
                        "{{\"file_path\":{}}}",
                        json_str(&format!("/workspace/repo/{file}"))
                    )
                };
                let lines = if big {
                    self.rng.range(60, 160)
                } else {
                    self.rng.range(8, 30)
                };
                let first = self.rng.range(1, 300);
                let mut out = String::new();
                for i in 0..lines {
                    let _ = writeln!(out, "{:>6}\t{}", first + i, self.rng.pick(CODE));
                }
                ("read", input, out, false)
            }
            65..=79 => {
                let file = self.rng.pick(FILES);
                let old = self.code_lines(2, 6);
                let new = self.code_lines(2, 8);
                let input = Obj::new()
                    .str("file_path", &format!("/workspace/repo/{file}"))
                    .str("old_string", &old)
                    .str("new_string", &new)
                    .done();
                let result = format!(
                    "The file /workspace/repo/{file} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{}",
                    self.numbered(4, 10)
                );
                ("edit", input, result, false)
            }
            80..=89 => {
                let pat = self.rng.pick(PATTERNS);
                let input = Obj::new().str("pattern", pat).str("path", "src").done();
                let hits = if big {
                    self.rng.range(40, 90)
                } else {
                    self.rng.range(2, 12)
                };
                let mut out = String::new();
                for _ in 0..hits {
                    let _ = writeln!(
                        out,
                        "{}:{}:{}",
                        self.rng.pick(FILES),
                        self.rng.range(1, 900),
                        self.rng.pick(CODE).trim_start()
                    );
                }
                ("grep", input, out, false)
            }
            90..=94 => {
                let input = Obj::new().str("pattern", self.rng.pick(GLOBS)).done();
                let mut out = String::new();
                for _ in 0..self.rng.range(4, 20) {
                    let _ = writeln!(out, "/workspace/repo/{}", self.rng.pick(FILES));
                }
                ("glob", input, out, false)
            }
            _ => {
                let file = self.rng.pick(FILES);
                let content = self.code_lines(12, 40);
                let input = Obj::new()
                    .str("file_path", &format!("/workspace/repo/{file}"))
                    .str("content", &content)
                    .done();
                (
                    "write",
                    input,
                    format!("File created successfully at: /workspace/repo/{file}"),
                    false,
                )
            }
        }
    }

    fn bash(&mut self, big: bool) -> (&'static str, String, String, bool) {
        let (command, out, is_error) = match self.rng.below(6) {
            0 => {
                let n = if big {
                    self.rng.range(60, 140)
                } else {
                    self.rng.range(5, 16)
                };
                let failed = self.rng.chance(150);
                let mut out = String::from(
                    "   Compiling claude-agents v0.1.0 (/workspace/repo)\n    Finished `test` profile [unoptimized + debuginfo] target(s) in 14.82s\n     Running unittests src/lib.rs (target/debug/deps/claude_agents-3f9c2a7e1b0d4c55)\n\n",
                );
                let _ = writeln!(out, "running {n} tests");
                for _ in 0..n {
                    let _ = writeln!(out, "test {} ... ok", self.rng.pick(TESTS));
                }
                if failed {
                    out.push_str("test api::sse::tests::decodes_multibyte_utf8 ... FAILED\n\nfailures:\n\n---- api::sse::tests::decodes_multibyte_utf8 stdout ----\nthread 'api::sse::tests::decodes_multibyte_utf8' panicked at src/api/sse.rs:241:9:\nassertion `left == right` failed\n  left: \"22°C — ✓ 日本\"\n right: \"22°C — ✓ 日本 🦀\"\n");
                    let _ = write!(
                        out,
                        "\ntest result: FAILED. {} passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.{:02}s\n",
                        n,
                        self.rng.range(1, 99)
                    );
                } else {
                    let _ = write!(
                        out,
                        "\ntest result: ok. {n} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.{:02}s\n",
                        self.rng.range(1, 99)
                    );
                }
                ("cargo test --all-features 2>&1 | tail -n 200", out, failed)
            }
            1 => {
                let mut out = String::new();
                for _ in 0..self.rng.range(1, 8) {
                    let _ = writeln!(
                        out,
                        "{} {}",
                        self.rng.pick(&[" M", " M", "M ", "??", " D", "A "]),
                        self.rng.pick(FILES)
                    );
                }
                ("git status --short", out, false)
            }
            2 => {
                let mut out = format!("total {}\n", self.rng.range(40, 400));
                out.push_str("drwxr-xr-x  8 agent agent  4096 Mar 15 10:00 .\ndrwxr-xr-x  3 agent agent  4096 Mar 15 09:58 ..\n");
                let n = if big {
                    self.rng.range(40, 80)
                } else {
                    self.rng.range(4, 12)
                };
                for _ in 0..n {
                    let f = self.rng.pick(FILES);
                    let name = f.rsplit('/').next().unwrap_or(f);
                    let _ = writeln!(
                        out,
                        "-rw-r--r--  1 agent agent {:>5} Mar 15 {:02}:{:02} {name}",
                        self.rng.range(120, 60_000),
                        self.rng.range(8, 10),
                        self.rng.range(0, 59)
                    );
                }
                ("ls -la src/api", out, false)
            }
            3 => {
                let mut out = String::new();
                for _ in 0..self.rng.range(2, 8) {
                    let _ = writeln!(
                        out,
                        " {} | {:>3} {}",
                        self.rng.pick(FILES),
                        self.rng.range(1, 240),
                        "+".repeat(self.rng.range(1, 30) as usize)
                    );
                }
                let _ = writeln!(
                    out,
                    " {} files changed, {} insertions(+), {} deletions(-)",
                    self.rng.range(2, 9),
                    self.rng.range(10, 600),
                    self.rng.range(0, 200)
                );
                ("git diff --stat", out, false)
            }
            4 => {
                let ok = self.rng.chance(700);
                let out = if ok {
                    "    Checking claude-agents v0.1.0 (/workspace/repo)\n    Finished `dev` profile [unoptimized + debuginfo] target(s) in 6.31s\n".to_string()
                } else {
                    let file = self.rng.pick(FILES);
                    format!(
                        "    Checking claude-agents v0.1.0 (/workspace/repo)\nerror: used `unwrap()` on a `Result` value\n  --> {file}:{}:{}\n   |\n{:>3} |         let body = resp.text().await.unwrap();\n   |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^\n   |\n   = help: if this value is an `Err`, it will panic\n   = help: for further information visit https://rust-lang.github.io/rust-clippy/master/index.html#unwrap_used\n\nerror: could not compile `claude-agents` (lib) due to 1 previous error\n",
                        self.rng.range(10, 600),
                        self.rng.range(5, 40),
                        self.rng.range(10, 600)
                    )
                };
                (
                    "cargo clippy --all-targets -- -D warnings 2>&1 | tail -n 60",
                    out,
                    !ok,
                )
            }
            _ => {
                let mut out = String::new();
                let n = if big {
                    self.rng.range(50, 100)
                } else {
                    self.rng.range(3, 10)
                };
                for _ in 0..n {
                    let _ = writeln!(
                        out,
                        "{}:{}:{}",
                        self.rng.pick(FILES),
                        self.rng.range(1, 900),
                        self.rng.pick(CODE).trim_start()
                    );
                }
                ("rg -n 'processed_at' src tests", out, false)
            }
        };
        let input = if self.rng.chance(200) {
            Obj::new()
                .str("command", command)
                .num("timeout", 120_000)
                .done()
        } else {
            Obj::new().str("command", command).done()
        };
        ("bash", input, out, is_error)
    }

    fn code_lines(&mut self, lo: u64, hi: u64) -> String {
        let mut s = String::new();
        for _ in 0..self.rng.range(lo, hi) {
            s.push_str(self.rng.pick(CODE));
            s.push('\n');
        }
        s
    }

    fn numbered(&mut self, lo: u64, hi: u64) -> String {
        let first = self.rng.range(1, 500);
        let mut s = String::new();
        for i in 0..self.rng.range(lo, hi) {
            let _ = writeln!(s, "{:>6}\t{}", first + i, self.rng.pick(CODE));
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Word banks

const PROMPTS: &[&str] = &[
    "Run the test suite and fix whatever fails.",
    "The SSE decoder drops the last event when the body ends without a blank line — find out why and fix it.",
    "Add jittered exponential backoff to the retry policy (start at 0.5 s, cap at 8 s) and cover it with tests.",
    "Summarize what changed in src/api since the last release, in five bullet points.",
    "cargo clippy complains about unwrap_used in client.rs; clean that up without changing behaviour.",
    "Please review the follow() implementation for races between the history pager and the live stream.",
    "Rename `EventStream::request_id` to `response_request_id` everywhere and update the docs.",
    "Our users in Zürich report garbled “smart quotes” in agent messages — check the UTF-8 handling end to end.",
    "Write a README section that explains how to resume a stream after a disconnect.",
    "Why does `cargo test` take 40 s on CI? Profile the slowest tests and speed them up.",
    "Add a `--json` flag to the CLI that prints one event per line.",
    "Bump serde_json to the latest patch release and make sure nothing regresses.",
    "日本語のエラーメッセージが文字化けしています。原因を調べて修正してください。",
    "Double-check the budget handling: a session paused at budget_reached should not accept user.message.",
];

const PREAMBLES: &[&str] = &[
    "I'll start by running the tests to see what's failing.",
    "Let me look at how the decoder handles the end of the body.",
    "First I'll check the current retry policy.",
    "Let me find every use of `request_id` before renaming it.",
    "I'll read the stream implementation next.",
    "Good — that narrows it down. Let me look at the parser.",
    "The failure is in the UTF-8 path; let me read that test.",
];

const SENTENCES: &[&str] = &[
    "I ran the full test suite: all 212 tests pass now, including the three new ones for the retry policy.",
    "The root cause was that the decoder only flushed a frame on a blank line, so a body ending in `data: …\\n` lost its final event.",
    "I changed `decode_sse` to treat end-of-body as a frame boundary, which matches the WHATWG parsing rules.",
    "Backoff now starts at 0.5 s and doubles up to 8 s, with full jitter so that concurrent workers spread out.",
    "`retry-after` still wins when the server sends it, as long as it is below the 60 s ceiling.",
    "The clippy warnings are gone; the two `unwrap()` calls became `?` with a typed error, so behaviour is unchanged.",
    "I couldn't reproduce the race in `follow()`: the history pager always starts after the stream's first byte.",
    "To be safe I added a regression test that interleaves a reconnect with a page fetch — it passes 1 000 times in a row.",
    "The “smart quotes” were fine on the wire; the terminal was decoding the log file as Latin-1 (so “ became â€œ).",
    "Multi-byte characters such as é, ß, 日本語 and 🦀 now round-trip through the SSE parser byte for byte.",
    "CI spends most of its time compiling the dev-dependencies twice; sharing the target directory cuts a run from 40 s to 17 s.",
    "The slowest test was `retries_until_deadline`, which slept for real; it now uses paused tokio time and finishes in 3 ms.",
    "I kept the public API unchanged — the rename is behind a deprecated alias for one release.",
    "The `--json` flag prints one compact event per line, so the output can be piped straight into `jq`.",
    "Nothing else in the workspace depends on the old name, so the change is contained to three files.",
    "Sessions paused at `budget_reached` now reject `user.message` with a 400, and the settle events still go through.",
    "エラーメッセージの文字化けは、ログ出力時の文字コード指定が原因でした — UTF-8 に統一して修正済みです。",
    "One caveat: the server's heartbeat format is still unconfirmed, so the parser accepts both `: comment` lines and `event: ping`.",
    "Let me know if you'd like the changelog entry worded differently → I followed the existing style.",
    "Temperatures in the fixtures use the degree sign (22°C), which exercised the two-byte path as well.",
];

const FILES: &[&str] = &[
    "src/lib.rs",
    "src/api/mod.rs",
    "src/api/client.rs",
    "src/api/error.rs",
    "src/api/follow.rs",
    "src/api/retry.rs",
    "src/api/sse.rs",
    "src/api/types/events.rs",
    "src/api/types/sessions.rs",
    "src/api/types/agents.rs",
    "src/api/types/common.rs",
    "tests/integration/follow.rs",
    "tests/integration/retry.rs",
    "tests/integration/client.rs",
    "Cargo.toml",
    "README.md",
    "CHANGELOG.md",
];

const PATTERNS: &[&str] = &[
    "fn decode_sse",
    "processed_at",
    "unwrap\\(\\)",
    "retry_after",
    "StreamStalled",
    "request_id",
    "impl .* for EventStream",
];

const GLOBS: &[&str] = &[
    "**/*.rs",
    "src/**/*.rs",
    "tests/**/*.rs",
    "**/*.toml",
    "**/*.md",
];

const TESTS: &[&str] = &[
    "api::retry::tests::backoff_doubles_until_cap",
    "api::retry::tests::honours_retry_after_seconds",
    "api::retry::tests::jitter_stays_within_bounds",
    "api::sse::tests::parses_crlf_and_cr_line_ends",
    "api::sse::tests::skips_comments_and_pings",
    "api::sse::tests::error_frame_becomes_api_error",
    "api::client::tests::builder_reads_env",
    "api::client::tests::redacts_api_key_in_debug",
    "api::follow::tests::dedupes_by_sighting",
    "api::follow::tests::reconnects_with_backoff",
    "api::types::events::tests::unknown_type_is_kept_raw",
    "api::types::sessions::tests::round_trips_fixture",
];

const CODE: &[&str] = &[
    "use std::time::Duration;",
    "use futures_util::{Stream, StreamExt};",
    "",
    "/// Opens an SSE stream and decodes its frames.",
    "pub(crate) async fn sse<T>(&self, mut req: Request) -> Result<EventStream<T>>",
    "where",
    "    T: DeserializeOwned + Send + 'static,",
    "{",
    "    req.accept = Some(\"text/event-stream\");",
    "    let operation = req.operation();",
    "    let resp = self.send_raw(&req).await?;",
    "    let idle = self.inner.stream_idle_timeout;",
    "    match tokio::time::timeout(idle, body.next()).await {",
    "        Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some(body))),",
    "        Err(_) => Some((Err(StreamCut(Error::StreamStalled { operation, idle })), None)),",
    "    }",
    "}",
    "let delay = base.saturating_mul(2u32.saturating_pow(attempt)).min(cap);",
    "let jittered = rng.random_range(Duration::ZERO..=delay);",
    "if let Some(after) = retry_after.filter(|d| *d <= MAX_RETRY_AFTER) {",
    "    return after;",
    "#[derive(Debug, Clone, Serialize, Deserialize)]",
    "#[serde(tag = \"type\")]",
    "pub enum SessionEvent {",
    "    #[serde(rename = \"agent.message\")]",
    "    AgentMessage(AgentMessage),",
    "    processed_at: Option<DateTime<Utc>>,",
    "assert_eq!(events.len(), 3, \"expected three events, got {events:?}\");",
    "// The stream does not replay history: page through it after connecting.",
    "let text = \"22°C — ✓ 日本 🦀\";",
    "tracing::debug!(request_id = ?resp.request_id(), \"stream opened\");",
];
