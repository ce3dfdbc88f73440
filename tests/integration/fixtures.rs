//! Wire-fixture harness: every JSON file under `tests/fixtures/<family>/` (validated against the
//! official Python SDK by `tests/fixtures/validate.py`) is decoded into the Rust type its
//! `rust_type` names, re-encoded, and compared with the original.
//!
//! Equality is JSON equality with two normalisations, both of which the API itself treats as
//! equivalent: an absent field equals a `null` one, and timestamps compare as instants
//! (`10:00:00Z` == `10:00:00.000Z`).

use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// Every fixture file of one family, as `(path, rust_type, value)`.
pub fn fixtures(family: &str) -> Vec<(PathBuf, String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(family);
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let rust_type = doc["rust_type"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no rust_type", path.display()))
            .to_owned();
        out.push((path, rust_type, doc["value"].clone()));
    }
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

/// Decode `value` as `T`, re-encode it, and assert nothing was lost or changed.
/// Returns the decoded value for further assertions.
pub fn round_trip<T>(path: &Path, value: &Value) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = value.to_string();
    let mut de = serde_json::Deserializer::from_str(&text);
    let decoded: T = serde_path_to_error::deserialize(&mut de).unwrap_or_else(|e| {
        panic!(
            "{}: decode failed at {}: {}",
            path.display(),
            e.path(),
            e.inner()
        )
    });
    let encoded = serde_json::to_value(&decoded).unwrap();
    assert_json_equivalent(path, &normalise(value.clone()), &normalise(encoded.clone()));
    let again: T = serde_json::from_value(encoded).unwrap();
    assert_eq!(decoded, again, "{}: second decode differs", path.display());
    decoded
}

fn normalise(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, normalise(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::String(s) => match chrono::DateTime::parse_from_rfc3339(&s) {
            Ok(t) => Value::String(format!("@{}", t.timestamp_nanos_opt().unwrap_or_default())),
            Err(_) => Value::String(s),
        },
        other => other,
    }
}

fn assert_json_equivalent(path: &Path, want: &Value, got: &Value) {
    assert_eq!(
        want,
        got,
        "{}: re-encoded JSON differs\nwant {}\ngot  {}",
        path.display(),
        want,
        got
    );
}

/// Run `check(path, rust_type, value)` for every fixture in `family`; `check` returns `false`
/// for a `rust_type` it does not know, which fails the test (no fixture goes untested).
pub fn check_family(family: &str, mut check: impl FnMut(&Path, &str, &Value) -> bool) {
    for (path, rust_type, value) in fixtures(family) {
        assert!(
            check(&path, &rust_type, &value),
            "{}: unknown rust_type `{rust_type}`",
            path.display()
        );
    }
}

/// Decodes `json` as `T` with path tracking (as the client does) and returns the error's JSON
/// path and message.
pub fn decode_err<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> (String, String) {
    let err =
        serde_path_to_error::deserialize::<_, T>(&mut serde_json::Deserializer::from_str(json))
            .expect_err("decoding should fail");
    (err.path().to_string(), err.inner().to_string())
}
