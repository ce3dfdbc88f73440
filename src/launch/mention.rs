//! Whether a task comment @mentions an agent.
//!
//! The comment is parsed as CommonMark (with [`pulldown_cmark`], no extensions), so "code" and
//! "quote" mean exactly what the host's Markdown renderer shows as such. The rules:
//!
//! * a mention is `@` + the handle, compared **ASCII case-insensitively** (`@Release-Bot`
//!   mentions `release-bot`; handles are ASCII, and trackers treat them case-insensitively);
//! * it must stand on word boundaries: the character before `@` must not be a letter, digit,
//!   `_`, `-`, `.`, `+`, `/`, `\` or `@` (so `email@release-bot.com` and `x@release-bot` are
//!   not mentions), and the character after the handle must not be a letter, digit, `_`, `-`,
//!   `/` or `@` (so `@release-bot2` is not one); a `.` right after counts as punctuation only
//!   when no letter or digit follows it (`@release-bot.` yes, `@release-bot.com` no);
//!   punctuation such as `(@release-bot)`, `@release-bot,`, `@release-bot:` or the end of a line
//!   is fine;
//! * text inside inline code spans (any number of backticks), fenced code blocks (backticks or
//!   tildes, with or without an info string, unclosed fences running to the end), indented code
//!   blocks, block quotes (at any nesting depth, including lists inside them) and raw HTML is
//!   ignored — quoting someone's mention does not mention the agent again;
//! * emphasis and links do not hide a mention (`*@release-bot*`, `[@release-bot](…)`); the
//!   the text is read as rendered, so emphasis delimiters are not characters (`@a-_b_` renders
//!   as `@a-` + italic `b`: not a mention of `a-_b_`).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::LaunchError;

/// Longest handle accepted, in characters.
pub const HANDLE_MAX: usize = 64;

/// A validated agent handle, without the leading `@` and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Handle(String);

impl Handle {
    /// Checks and normalises a handle. One leading `@` is accepted and dropped. The rest must
    /// be 1–[`HANDLE_MAX`] ASCII letters, digits, `-` or `_`, starting with a letter or digit.
    /// The handle is stored lower-cased (matching is case-insensitive).
    ///
    /// # Errors
    /// [`LaunchError::InvalidHandle`] naming the broken rule.
    pub fn new(handle: &str) -> Result<Self, LaunchError> {
        let bad = |rule| LaunchError::InvalidHandle {
            handle: handle.to_owned(),
            rule,
        };
        let h = handle.strip_prefix('@').unwrap_or(handle);
        let mut chars = h.chars();
        match chars.next() {
            None => return Err(bad("must not be empty")),
            Some(c) if !c.is_ascii_alphanumeric() => {
                return Err(bad("must start with an ASCII letter or digit"));
            }
            Some(_) => {}
        }
        if h.len() > HANDLE_MAX {
            return Err(bad("must be at most 64 characters"));
        }
        if !chars.all(is_handle_char) {
            return Err(bad("may only contain ASCII letters, digits, `-` and `_`"));
        }
        Ok(Self(h.to_ascii_lowercase()))
    }

    /// The handle, lower-cased, without `@`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@{}", self.0)
    }
}

fn is_handle_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Stands in for an inline code span or inline HTML in the text we scan: not a word
/// character, so text on either side stays apart.
const OPAQUE: char = '\u{FFFC}';

/// Whether `comment_markdown` mentions `handle` outside code and quotes (see the module docs
/// for the exact rules). Never panics, whatever the input.
pub fn mentions(comment_markdown: &str, handle: &Handle) -> bool {
    let mut quote_depth = 0usize;
    let mut in_code_block = false;
    let mut in_html_block = false;
    // Inline text of the current block, with code spans replaced by `OPAQUE`.
    let mut text = String::new();
    for event in Parser::new_ext(comment_markdown, Options::empty()) {
        let skipping = quote_depth > 0 || in_code_block || in_html_block;
        match event {
            Event::Start(Tag::BlockQuote(_)) => {
                if scan(&text, handle) {
                    return true;
                }
                text.clear();
                quote_depth += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => quote_depth = quote_depth.saturating_sub(1),
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            Event::Start(Tag::HtmlBlock) => in_html_block = true,
            Event::End(TagEnd::HtmlBlock) => in_html_block = false,
            Event::Text(t) if !skipping => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak if !skipping => text.push('\n'),
            Event::Code(_)
            | Event::InlineHtml(_)
            | Event::Html(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_)
            | Event::FootnoteReference(_)
                if !skipping =>
            {
                text.push(OPAQUE)
            }
            // Inline tags keep the text together, as rendered (`*@bot*` is a mention).
            // Any other start or end is a block boundary.
            Event::Start(
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Link { .. }
                | Tag::Image { .. },
            )
            | Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Link
                | TagEnd::Image,
            ) => {}
            Event::Start(_) | Event::End(_) => {
                if scan(&text, handle) {
                    return true;
                }
                text.clear();
            }
            _ => {}
        }
    }
    scan(&text, handle)
}

/// Whether `text` (plain inline text) holds `@handle` on word boundaries.
fn scan(text: &str, handle: &Handle) -> bool {
    let needle = format!("@{}", handle.as_str());
    // ASCII lower-casing keeps byte offsets, so positions in `lower` are positions in `text`.
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower.get(from..).and_then(|rest| rest.find(&needle)) {
        let start = from + pos;
        let end = start + needle.len();
        let before = text.get(..start).and_then(|s| s.chars().next_back());
        let after = text.get(end..).unwrap_or("");
        if before.is_none_or(|c| !blocks_before(c)) && ends_cleanly(after) {
            return true;
        }
        from = start + 1;
    }
    false
}

/// Characters that, right before `@`, make it part of a word, address or path.
fn blocks_before(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '\\' | '@')
}

/// Whether the text after a candidate handle ends it.
fn ends_cleanly(after: &str) -> bool {
    let mut chars = after.chars();
    match chars.next() {
        None => true,
        Some(c) if c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | '@') => false,
        Some('.') => !chars.next().is_some_and(char::is_alphanumeric),
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn bot() -> Handle {
        Handle::new("@release-bot").unwrap()
    }

    #[test]
    fn mention_table() {
        let cases: &[(&str, bool)] = &[
            ("@release-bot please look", true),
            ("hey @release-bot", true),
            ("@Release-Bot case-insensitive", true),
            ("(@release-bot)", true),
            ("thanks @release-bot, go", true),
            ("ask @release-bot.", true),
            ("@release-bot: do it", true),
            ("@release-bot!", true),
            ("@release-bot's turn", true),
            ("line one\n@release-bot\nline three", true),
            ("*@release-bot* emphasised", true),
            ("**@release-bot**", true),
            ("_@release-bot_", true),
            ("foo*@release-bot*", true), // literal `*` (not emphasis), then a mention
            ("[@release-bot](https://example.com)", true),
            ("- item @release-bot", true),
            ("# Heading @release-bot", true),
            ("`code` then @release-bot", true),
            ("@release-bot2", false),
            ("@release-bot-2", false),
            ("@release-bot_x", false),
            ("email@release-bot.com", false),
            ("x@release-bot", false),
            ("@release-bot.com", false),
            ("@@release-bot", false),
            ("/@release-bot", false),
            ("@release-bot/path", false),
            ("@release", false),
            ("release-bot", false),
            ("", false),
            ("`@release-bot`", false),
            ("``@release-bot``", false),
            ("`` a ` @release-bot ``", false),
            ("```\n@release-bot\n```", false),
            ("```rust\n@release-bot\n```", false),
            ("~~~\n@release-bot\n~~~", false),
            ("~~~ text info\n@release-bot\n~~~", false),
            ("```\nunclosed fence\n\n@release-bot", false),
            ("    @release-bot indented code", false),
            ("> @release-bot quoted", false),
            (">> @release-bot nested", false),
            ("> quote\n> - @release-bot in a list", false),
            ("> quote\n\n@release-bot after", true),
            ("> quote\nlazy @release-bot continuation", false),
            ("<div>\n@release-bot\n</div>", false),
            ("<span>@release-bot</span>", true),
            ("<x@release-bot.com>", false),
        ];
        for (md, want) in cases {
            assert_eq!(mentions(md, &bot()), *want, "{md:?}");
        }
    }

    #[test]
    fn handle_rules() {
        assert_eq!(Handle::new("Release-Bot").unwrap().as_str(), "release-bot");
        assert_eq!(Handle::new("@a_1").unwrap().to_string(), "@a_1");
        assert!(Handle::new(&"a".repeat(HANDLE_MAX)).is_ok());
        for bad in [
            "", "@", "@@bot", "-bot", "_bot", "bo t", "bot.x", "bøt", "a\n",
        ] {
            assert!(
                matches!(Handle::new(bad), Err(LaunchError::InvalidHandle { .. })),
                "{bad:?}"
            );
        }
        assert!(Handle::new(&"a".repeat(HANDLE_MAX + 1)).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(md in any::<String>(), h in "[a-z0-9][a-z0-9_-]{0,10}") {
            let handle = Handle::new(&h).unwrap();
            let _ = mentions(&md, &handle);
        }

        #[test]
        fn plain_mention_is_found_and_code_hides_it(
            prefix in "([a-z]{1,5} ){0,3}",
            // No `_`: `@a-_b_` is emphasis to a CommonMark reader, rendered `@a-b`.
            h in "[a-z0-9][a-z0-9-]{0,10}",
        ) {
            let handle = Handle::new(&h).unwrap();
            let plain = format!("{prefix} @{h} ok");
            prop_assert!(mentions(&plain, &handle));
            let code = format!("{prefix} `@{h}` ok");
            prop_assert!(!mentions(&code, &handle));
        }
    }
}
