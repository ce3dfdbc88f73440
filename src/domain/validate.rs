//! Small validation helpers shared by the domain types. All of them are total: any input gives
//! `Ok` or a [`DomainError`], never a panic.

use std::collections::HashSet;
use std::net::IpAddr;

use super::DomainError;

/// Limit for display names (agents, workspaces).
pub(crate) const NAME_MAX: usize = 256;
/// Limit for ids stored as strings (remote ids, local ids).
pub(crate) const ID_MAX: usize = 255;

pub(crate) fn empty(field: &str) -> DomainError {
    DomainError::Empty {
        field: field.to_owned(),
    }
}

pub(crate) fn invalid(field: &str, rule: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field: field.to_owned(),
        rule: rule.into(),
    }
}

/// `field[i]`.
pub(crate) fn at(field: &str, i: usize) -> String {
    format!("{field}[{i}]")
}

/// At most `max` characters.
pub(crate) fn max_len(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    let len = value.chars().count();
    if len > max {
        return Err(DomainError::TooLong {
            field: field.to_owned(),
            max,
            len,
        });
    }
    Ok(())
}

/// At most `max` entries.
pub(crate) fn max_count<T>(field: &str, list: &[T], max: usize) -> Result<(), DomainError> {
    if list.len() > max {
        return Err(DomainError::TooMany {
            field: field.to_owned(),
            max,
            len: list.len(),
        });
    }
    Ok(())
}

/// Free text (may be empty): at most `max` characters, no NUL.
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    max_len(field, value, max)?;
    if value.contains('\0') {
        return Err(invalid(field, "must not contain NUL characters"));
    }
    Ok(())
}

/// Required free text: not blank, at most `max` characters, no NUL.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(empty(field));
    }
    text(field, value, max)
}

/// A display name: not blank, at most `max` characters, a single line without control
/// characters.
pub(crate) fn name(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(empty(field));
    }
    max_len(field, value, max)?;
    if value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must be a single line without control characters",
        ));
    }
    Ok(())
}

/// An opaque id: not empty, at most [`ID_MAX`] characters, no whitespace or control characters.
pub(crate) fn id(field: &str, value: &str) -> Result<(), DomainError> {
    if value.is_empty() {
        return Err(empty(field));
    }
    max_len(field, value, ID_MAX)?;
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            field,
            "must not contain whitespace or control characters",
        ));
    }
    Ok(())
}

/// Every entry of `values` is distinct (by `key`).
pub(crate) fn unique<'a, T>(
    field: &str,
    values: &'a [T],
    key: impl Fn(&'a T) -> &'a str,
) -> Result<(), DomainError> {
    let mut seen = HashSet::new();
    for v in values {
        let k = key(v);
        if !seen.insert(k) {
            return Err(DomainError::Duplicate {
                field: field.to_owned(),
                value: k.to_owned(),
            });
        }
    }
    Ok(())
}

/// Whether `s` contains something that looks like an XML/HTML tag (`<a`, `</a`, `<!`, `<?`).
pub(crate) fn has_xml_tag(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '<'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
        {
            return true;
        }
    }
    false
}

/// Whether `host` (as `url` reports it, IPv6 in brackets) is a loopback host.
pub(crate) fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// An absolute `https` URL with a host and no credentials; plain `http` only for loopback hosts
/// (`localhost`, `127.0.0.0/8`, `[::1]`) — tests and the fake API.
pub(crate) fn service_url(field: &str, value: &str) -> Result<url::Url, DomainError> {
    if value.trim().is_empty() {
        return Err(empty(field));
    }
    max_len(field, value, 2048)?;
    let url = url::Url::parse(value).map_err(|e| invalid(field, format!("not a URL ({e})")))?;
    let Some(host) = url.host() else {
        return Err(invalid(field, "must have a host"));
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => {
            return Err(invalid(
                field,
                "must use https (http only for localhost / loopback addresses)",
            ));
        }
        _ => return Err(invalid(field, "must be an absolute https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(field, "must not contain credentials"));
    }
    Ok(url)
}

/// A bare hostname (`api.example.com`): no scheme, port or path; labels of letters, digits and
/// hyphens (a leading `*.` wildcard is not accepted); ≤ 253 chars.
pub(crate) fn hostname(field: &str, value: &str) -> Result<(), DomainError> {
    if value.is_empty() {
        return Err(empty(field));
    }
    max_len(field, value, 253)?;
    let ok = value.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if !ok {
        return Err(invalid(
            field,
            "must be a bare hostname like `api.example.com` (no scheme, port or path)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_tags_are_detected() {
        assert!(has_xml_tag("a <b>c</b>"));
        assert!(has_xml_tag("</x"));
        assert!(has_xml_tag("<!-- c -->"));
        assert!(!has_xml_tag("a < b and c > d"));
        assert!(!has_xml_tag("1<2"));
        assert!(!has_xml_tag("<"));
    }

    #[test]
    fn service_urls() {
        assert!(service_url("u", "https://mcp.example.com/mcp").is_ok());
        assert!(service_url("u", "http://localhost:8080/mcp").is_ok());
        assert!(service_url("u", "http://127.0.0.1:1/").is_ok());
        assert!(service_url("u", "http://[::1]:1/").is_ok());
        for bad in [
            "",
            "mcp.example.com",
            "/relative",
            "http://mcp.example.com/",
            "http://10.0.0.1/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "https://",
        ] {
            assert!(service_url("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostnames() {
        assert!(hostname("h", "api.example.com").is_ok());
        assert!(hostname("h", "localhost").is_ok());
        for bad in [
            "",
            "https://a.com",
            "a.com:443",
            "a.com/x",
            "-a.com",
            "a..com",
            "*.a.com",
        ] {
            assert!(hostname("h", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_ids() {
        assert!(name("n", "ok", 3).is_ok());
        assert!(matches!(
            name("n", "abcd", 3),
            Err(DomainError::TooLong { .. })
        ));
        assert!(matches!(
            name("n", "a\nb", 3),
            Err(DomainError::Invalid { .. })
        ));
        assert!(matches!(
            name("n", "\t ", 3),
            Err(DomainError::Empty { .. })
        ));
        assert!(id("i", "agent_1").is_ok());
        assert!(id("i", "a b").is_err());
        assert!(id("i", &"x".repeat(256)).is_err());
        // Length counts characters, not bytes.
        assert!(name("n", "ééé", 3).is_ok());
    }
}
