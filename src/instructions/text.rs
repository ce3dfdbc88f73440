//! Character-level rules: invisible and control characters, space normalisation, and the final
//! tidy-up of the Markdown (blank lines, trailing whitespace) that leaves code blocks alone.

use std::borrow::Cow;

/// Whether `c` is removed wherever it appears (text and code alike).
///
/// Zero-width and formatting characters, bidi controls, invisible fillers, tag characters and
/// control characters other than tab and line feed. U+200D (ZWJ) and variation selectors are
/// decided in context by [`clean`].
fn is_dropped(c: char) -> bool {
    matches!(
        c,
        // C0 controls except tab and line feed (carriage return included: html5ever already
        // turned CRLF into LF), DEL, C1 controls.
        '\u{0}'..='\u{8}'
            | '\u{B}'..='\u{1F}'
            | '\u{7F}'..='\u{9F}'
            // soft hyphen, combining grapheme joiner, Arabic letter mark (bidi)
            | '\u{AD}'
            | '\u{34F}'
            | '\u{61C}'
            // Hangul fillers, Khmer inherent vowels, Mongolian vowel separator
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            // ZWSP, ZWNJ, (ZWJ handled in context), LRM, RLM
            | '\u{200B}'
            | '\u{200C}'
            | '\u{200E}'
            | '\u{200F}'
            // bidi embeddings and overrides
            | '\u{202A}'..='\u{202E}'
            // word joiner, invisible operators, and the unassigned/deprecated format range up to
            // the bidi isolates and the deprecated shaping controls
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            // interlinear annotation controls
            | '\u{FFF9}'..='\u{FFFB}'
            // shorthand format controls, musical formatting controls
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            // tag characters
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Characters normalised to an ordinary space: no-break spaces of every width.
fn is_space_like(c: char) -> bool {
    matches!(c, '\u{A0}' | '\u{2007}' | '\u{202F}')
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// An approximation of Unicode's `Extended_Pictographic` (the code points emoji ZWJ sequences
/// join), plus the skin-tone modifiers. Precise enough to keep real emoji sequences; a ZWJ kept
/// between two non-emoji symbols of these blocks hides nothing.
pub(crate) fn is_pictographic(c: char) -> bool {
    matches!(
        c,
        '\u{A9}'
            | '\u{AE}'
            | '\u{203C}'
            | '\u{2049}'
            | '\u{2122}'
            | '\u{2139}'
            | '\u{2190}'..='\u{21FF}'
            | '\u{2300}'..='\u{23FF}'
            | '\u{24C2}'
            | '\u{25A0}'..='\u{27BF}'
            | '\u{2934}'
            | '\u{2935}'
            | '\u{2B00}'..='\u{2BFF}'
            | '\u{3030}'
            | '\u{303D}'
            | '\u{3297}'
            | '\u{3299}'
            | '\u{1F000}'..='\u{1FAFF}'
    )
}

/// Applies the character rules to one piece of text:
///
/// * the characters of [`is_dropped`] are removed;
/// * U+200D ZERO WIDTH JOINER is kept only between two emoji (after an emoji, optionally
///   followed by its U+FE0F, and before another emoji), so `👩‍💻` and `🏳️‍🌈` survive; anywhere
///   else it is removed;
/// * variation selectors are kept only as a single U+FE0E/U+FE0F right after a visible
///   character (emoji and text presentation); other selectors and runs of them — the carrier of
///   "emoji smuggling" — are removed;
/// * no-break spaces become ordinary spaces, U+2028/U+2029 become line feeds.
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| {
        !is_dropped(c)
            && !is_space_like(c)
            && !is_variation_selector(c)
            && !matches!(c, '\u{200D}' | '\u{2028}' | '\u{2029}')
    }) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    // Whether the previous input character was kept as it was.
    let mut previous_kept = false;
    while let Some(c) = chars.next() {
        let last = out.chars().next_back();
        let before = out.len();
        match c {
            '\u{200D}' => {
                let after_emoji = match last {
                    Some('\u{FE0F}') => {
                        let mut rev = out.chars().rev();
                        rev.next();
                        rev.next().is_some_and(is_pictographic)
                    }
                    Some(l) => is_pictographic(l),
                    None => false,
                };
                if after_emoji && chars.peek().copied().is_some_and(is_pictographic) {
                    out.push(c);
                }
            }
            '\u{FE0E}' | '\u{FE0F}' => {
                if previous_kept
                    && last.is_some_and(|l| {
                        !l.is_whitespace() && !is_variation_selector(l) && l != '\u{200D}'
                    })
                {
                    out.push(c);
                }
            }
            '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if is_dropped(c) || is_variation_selector(c) => {}
            c if is_space_like(c) => out.push(' '),
            c => out.push(c),
        }
        previous_kept = out.len() > before && out.ends_with(c);
    }
    Cow::Owned(out)
}

/// Final tidy-up of the converted Markdown, outside fenced code blocks only: anything that a
/// CommonMark reader would take for raw HTML or an image is escaped ([`escape_inline`]),
/// trailing spaces and tabs are removed and runs of blank lines collapse to one blank line
/// (more carry no meaning in Markdown). Lines inside fenced code blocks are kept byte for byte.
/// Leading and trailing blank lines are removed.
pub(crate) fn tidy_markdown(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut fence: Option<(char, usize)> = None;
    let mut pending_blank = false;
    for line in markdown.split('\n') {
        if let Some((ch, len)) = fence {
            push_line(&mut out, line);
            if closes_fence(line, ch, len) {
                fence = None;
            }
            continue;
        }
        let line = line.trim_end_matches([' ', '\t']);
        if line.is_empty() {
            pending_blank = !out.is_empty();
            continue;
        }
        if pending_blank {
            out.push('\n');
            pending_blank = false;
        }
        fence = opens_fence(line);
        if fence.is_some() {
            push_line(&mut out, line);
        } else {
            push_line(&mut out, &escape_inline(line));
        }
    }
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    out
}

fn push_line(out: &mut String, line: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(line);
}

/// The fence a line opens, following CommonMark: three or more backticks or tildes (after any
/// indentation and blockquote markers — htmd indents code blocks inside list items and prefixes
/// them with `>` inside quotes), and for backticks an info string without backticks.
fn opens_fence(line: &str) -> Option<(char, usize)> {
    let rest = line.trim_start_matches([' ', '>']);
    let ch = rest.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = rest.chars().take_while(|&c| c == ch).count();
    if len < 3 {
        return None;
    }
    let info = &rest[len..];
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((ch, len))
}

fn closes_fence(line: &str, ch: char, len: usize) -> bool {
    let rest = line
        .trim_start_matches([' ', '>'])
        .trim_end_matches([' ', '\t']);
    rest.len() >= len && rest.chars().all(|c| c == ch)
}

/// Escapes, in one line of Markdown outside code blocks, every `<` that could open raw HTML (a
/// `<` followed by a letter, `/`, `!` or `?`) and every `!` that would turn a link into an
/// image (`![`), unless already escaped or inside a code span.
///
/// htmd escapes such text too, but one text node at a time: `&lt;` at the end of one node and
/// `hello>` at the start of the next (with an unwrapped element, or an empty one, between them)
/// come out as `<hello>`, and a text `!` before a link makes `![…](…)`. This pass sees the
/// finished line.
///
/// Code spans follow CommonMark: a run of N backticks opens one, closed by the next run of
/// exactly N; an unclosed run is literal. Backslash escapes are honoured outside spans. Code
/// spans never span lines here (inline code is flattened to one line before conversion).
pub(crate) fn escape_inline(line: &str) -> Cow<'_, str> {
    if !line.contains('<') && !line.contains("![") {
        return Cow::Borrowed(line);
    }
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len() + 8);
    let mut copied = 0;
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => {
                let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                i += run;
                if let Some(close) = closing_run(&bytes[i..], run) {
                    i += close + run;
                }
            }
            b'<' | b'!' => {
                let next = bytes.get(i + 1).copied();
                let opens = if bytes[i] == b'<' {
                    next.is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?'))
                } else {
                    next == Some(b'[')
                };
                if opens {
                    out.push_str(&line[copied..i]);
                    out.push('\\');
                    copied = i;
                    changed = true;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if !changed {
        return Cow::Borrowed(line);
    }
    out.push_str(&line[copied..]);
    Cow::Owned(out)
}

/// The offset of the next run of exactly `run` backticks in `rest`.
fn closing_run(rest: &[u8], run: usize) -> Option<usize> {
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == b'`' {
            let len = rest[i..].iter().take_while(|&&b| b == b'`').count();
            if len == run {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{clean, escape_inline, tidy_markdown};

    #[test]
    fn escapes_only_what_could_open_html_or_an_image() {
        for (line, expected) in [
            ("a < b", "a < b"),
            ("<b>", "\\<b>"),
            ("</p> <!-- <?x", "\\</p> \\<!-- \\<?x"),
            ("\\<b> already", "\\<b> already"),
            ("`<b>` code", "`<b>` code"),
            ("``a`<b>`` code", "``a`<b>`` code"),
            ("`unclosed <b>", "`unclosed \\<b>"),
            ("\\`<b>`", "\\`\\<b>`"),
            (
                "wow![x](https://e.example/)",
                "wow\\![x](https://e.example/)",
            ),
            ("\\![x] and ![", "\\![x] and \\!["),
            ("é<ü <é", "é<ü <é"),
        ] {
            assert_eq!(escape_inline(line), expected, "{line:?}");
        }
    }

    #[test]
    fn tidies_outside_code_only() {
        for (markdown, expected) in [
            ("\n\na  \n\n\n\nb\t\n\n", "a\n\nb"),
            (
                "```\na  \n\n\n\nb\n```\n\n\n<x>",
                "```\na  \n\n\n\nb\n```\n\n\\<x>",
            ),
            ("~~~\n<x>\n\n\n~~~", "~~~\n<x>\n\n\n~~~"),
            ("> ```\n> <x>  \n>\n> ```", "> ```\n> <x>  \n>\n> ```"),
            (
                "- a\n  ````md\n  ```\n\n\n  ```\n  ````",
                "- a\n  ````md\n  ```\n\n\n  ```\n  ````",
            ),
            ("``` a `b` ```\n\n\n<x>", "``` a `b` ```\n\n\\<x>"),
        ] {
            assert_eq!(tidy_markdown(markdown), expected, "{markdown:?}");
        }
    }

    #[test]
    fn character_rules_are_idempotent() {
        for text in [
            "a\u{200B}b",
            "👩\u{200D}\u{200D}💻",
            "😀\u{FE0F}\u{FE0F}",
            "x\u{200D}😀",
            "🏳\u{FE0F}\u{200D}🌈",
            "a\u{A0}\u{2028}b",
        ] {
            let once = clean(text).into_owned();
            assert_eq!(clean(&once), once, "{text:?}");
        }
        assert_eq!(clean("👩\u{200D}\u{200D}💻"), "👩\u{200D}💻");
        assert_eq!(clean("x\u{200D}😀"), "x😀");
    }
}
