//! Reading an inline `style` attribute just far enough to tell whether it hides its element.
//!
//! This is not a CSS parser. It removes comments, decodes escapes, lower-cases, splits
//! declarations on `;` and drops `!important`; ambiguity errs towards "hidden" (dropping text
//! the user may have seen is the safe direction — keeping text the user could not see is not).

/// Whether the declarations of an inline `style` attribute hide the element (see the module
/// docs of [`crate::instructions`] for the list).
pub(crate) fn hides(style: &str) -> bool {
    let css = decode(style);
    css.split(';').any(|declaration| {
        let Some((property, value)) = declaration.split_once(':') else {
            return false;
        };
        let mut value = value.trim();
        if let Some(bang) = value.rfind('!')
            && value[bang + 1..].trim() == "important"
        {
            value = value[..bang].trim_end();
        }
        declaration_hides(property.trim(), value)
    })
}

fn declaration_hides(property: &str, value: &str) -> bool {
    let mut tokens = value.split_whitespace();
    match property {
        "display" => tokens.any(|t| t == "none"),
        "visibility" => tokens.any(|t| t == "hidden" || t == "collapse"),
        "content-visibility" => tokens.any(|t| t == "hidden"),
        "opacity" => number_or_percent(value).is_some_and(|n| n < 0.1),
        "font-size" => tiny_font_size(value),
        // The shorthand (`font: 0/0 a` is the classic hiding trick): any zero or tiny size.
        "font" => value
            .split(|c: char| c.is_whitespace() || c == '/')
            .any(tiny_font_size),
        "color" | "-webkit-text-fill-color" => value == "transparent",
        _ => false,
    }
}

/// A number, or a percentage as a fraction (`50%` → 0.5).
fn number_or_percent(value: &str) -> Option<f64> {
    let (number, unit) = split_number(value)?;
    match unit {
        "" => Some(number),
        "%" => Some(number / 100.0),
        _ => None,
    }
}

/// Whether a `font-size` value renders text below about one CSS pixel (a default 16px font
/// for relative units, a 1000px viewport for viewport units). Keywords and functions such as
/// `calc()` are not evaluated.
fn tiny_font_size(value: &str) -> bool {
    let Some((number, unit)) = split_number(value) else {
        return false;
    };
    let px_per_unit = match unit {
        "" => return number == 0.0,
        "px" => 1.0,
        "pt" => 96.0 / 72.0,
        "pc" => 16.0,
        "in" => 96.0,
        "cm" => 96.0 / 2.54,
        "mm" => 96.0 / 25.4,
        "q" => 96.0 / 101.6,
        "em" | "rem" | "ex" | "rex" | "ch" | "rch" | "cap" | "rcap" | "ic" | "ric" | "lh"
        | "rlh" => 16.0,
        "%" => 0.16,
        "vw" | "vh" | "vi" | "vb" | "vmin" | "vmax" | "svw" | "svh" | "lvw" | "lvh" | "dvw"
        | "dvh" | "cqw" | "cqh" | "cqi" | "cqb" | "cqmin" | "cqmax" => 10.0,
        _ => return false,
    };
    number * px_per_unit < 1.0
}

/// Splits `12.5px` into `(12.5, "px")`. The unit must be letters or `%`.
fn split_number(value: &str) -> Option<(f64, &str)> {
    let end = value
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '+' || c == '-'))))
        .map_or(value.len(), |(i, _)| i);
    let (number, unit) = value.split_at(end);
    if !number.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    if !(unit == "%" || unit.bytes().all(|b| b.is_ascii_alphabetic())) {
        return None;
    }
    Some((number.parse().ok()?, unit))
}

/// Removes comments, decodes escapes (`\6e one` is `none`), lower-cases ASCII letters.
fn decode(style: &str) -> String {
    let mut out = String::with_capacity(style.len());
    let mut chars = style.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = '\0';
                for c in chars.by_ref() {
                    if previous == '*' && c == '/' {
                        break;
                    }
                    previous = c;
                }
                // Removed outright: `display:/**/none` hides. (CSS would also split a token
                // around a comment, so `dis/**/play:none` is read as hiding although a browser
                // ignores it — the safe direction.)
            }
            '\\' => {
                let mut hex = String::new();
                while hex.len() < 6
                    && let Some(&h) = chars.peek()
                    && h.is_ascii_hexdigit()
                {
                    hex.push(h);
                    chars.next();
                }
                if hex.is_empty() {
                    match chars.next() {
                        Some('\n') | None => {}
                        Some(other) => out.push(other.to_ascii_lowercase()),
                    }
                } else {
                    if chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                    let decoded = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .filter(|&c| c != '\0')
                        .unwrap_or('\u{FFFD}');
                    out.push(decoded.to_ascii_lowercase());
                }
            }
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::hides;

    #[test]
    fn hiding_declarations() {
        for style in [
            "display:none",
            "DISPLAY: NONE",
            "color: red; display: none !important",
            "display:none!important",
            "display: /* x */ none",
            "display: \\6e one",
            "d\\isplay: none",
            "visibility:hidden",
            "visibility: collapse",
            "content-visibility: hidden",
            "opacity:0",
            "opacity: 0.05",
            "opacity: 5%",
            "font-size:0",
            "font-size: 0px",
            "font-size:0.5px",
            "font-size: 0.01em",
            "font-size: 0%",
            "font: 0/0 a",
            "font: bold 0px serif",
            "color: transparent",
        ] {
            assert!(hides(style), "{style:?} should hide");
        }
    }

    #[test]
    fn visible_declarations() {
        for style in [
            "",
            "color: red",
            "display: block",
            "text-align: center; font-weight: bold",
            "visibility: visible",
            "opacity: 0.5",
            "opacity: 1",
            "font-size: 12px",
            "font-size: 0.8em",
            "font-size: small",
            "font: 12px/1.5 serif",
            "font: 100 1rem serif",
            "background: none",
            "display",
            "font-size: calc(0px)",
        ] {
            assert!(!hides(style), "{style:?} should not hide");
        }
    }
}
