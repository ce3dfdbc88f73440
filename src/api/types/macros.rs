//! Macros shared by the wire DTOs: typed ids and forward-compatible `type`-tagged unions.

/// Declares `String` newtype ids (`serde(transparent)`), with `Display`, `AsRef<str>`,
/// `From<String>`, `From<&str>` and `as_str()`.
macro_rules! string_id {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    )+};
}
pub(crate) use string_id;

/// Declares a plain string enum with an open set of values: the known values plus an
/// `Other(String)` fallback that keeps an unknown value verbatim (serialised back unchanged).
///
/// ```text
/// open_enum! {
///     /// docs
///     pub enum Speed {
///         /// docs
///         "standard" => Standard,
///     }
/// }
/// ```
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $lit:literal => $variant:ident
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
            /// A value this version of the crate does not model, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every value this crate models, in declaration order.
            pub const KNOWN_VALUES: &'static [&'static str] = &[$($lit),+];

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $lit, )+
                    Self::Other(s) => s.as_str(),
                }
            }

            /// Whether this is the forward-compatible `Other` variant.
            pub fn is_other(&self) -> bool {
                matches!(self, Self::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $lit => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $lit => Self::$variant, )+
                    _ => Self::Other(s),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <String as serde::Deserialize>::deserialize(deserializer).map(Self::from)
            }
        }
    };
}
pub(crate) use open_enum;

/// Declares a `type`-tagged union with a forward-compatible `Other(serde_json::Value)` variant.
///
/// ```text
/// tagged_union! {
///     /// docs
///     pub enum PermissionPolicy {
///         /// docs
///         "always_allow" => AlwaysAllow,            // no fields besides `type`
///         /// docs
///         "auto" => Auto(AutoPolicy),               // fields in a struct (without `type`)
///     }
/// }
/// ```
///
/// * Deserialising reads the `type` field: a known tag is decoded into its variant and a failure
///   there is an error that names the JSON path inside the object; an unknown tag (or a missing
///   one) is kept whole as `Other(value)`.
/// * Serialising writes the variant's fields plus `"type"`; `Other` writes its raw JSON back
///   unchanged, so unknown objects round-trip losslessly.
/// * `type_name()` returns the tag (for `Other`, the raw `type` string if any).
macro_rules! tagged_union {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $tag:literal => $variant:ident $(($inner:ty))?
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant $(($inner))?,
            )+
            /// A variant this version of the crate does not model, kept as raw JSON.
            Other(serde_json::Value),
        }

        impl $name {
            /// Every tag this crate models, in declaration order.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($tag),+];

            /// The value of the `type` field.
            pub fn type_name(&self) -> &str {
                match self {
                    $( $crate::api::types::macros::tagged_union!(@pat $name $variant $(($inner))?) => $tag, )+
                    Self::Other(v) => v.get("type").and_then(|t| t.as_str()).unwrap_or(""),
                }
            }

            /// Whether this is the forward-compatible `Other` variant.
            pub fn is_other(&self) -> bool {
                matches!(self, Self::Other(_))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $( $crate::api::types::macros::tagged_union!(@ser_stmt self, serializer, $variant, $tag $(, $inner)?); )+
                match self {
                    Self::Other(v) => serde::Serialize::serialize(v, serializer),
                    _ => Err(<S::Error as serde::ser::Error>::custom("unreachable variant")),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                let tag = value.get("type").and_then(|t| t.as_str());
                match tag {
                    $(
                        Some($tag) => {
                            $crate::api::types::macros::tagged_union!(@de value, $name, $variant $(, $inner)?)
                        }
                    )+
                    _ => Ok(Self::Other(value)),
                }
            }
        }
    };

    (@pat $name:ident $variant:ident) => { Self::$variant };
    (@pat $name:ident $variant:ident ($inner:ty)) => { Self::$variant(_) };
    (@ser_stmt $this:expr, $serializer:ident, $variant:ident, $tag:literal) => {
        if let Self::$variant = $this {
            return $crate::api::types::macros::serialize_unit($serializer, $tag);
        }
    };
    (@ser_stmt $this:expr, $serializer:ident, $variant:ident, $tag:literal, $inner:ty) => {
        if let Self::$variant(inner) = $this {
            return $crate::api::types::macros::serialize_tagged::<S, $inner>($serializer, $tag, inner);
        }
    };

    (@de $value:ident, $name:ident, $variant:ident) => {{
        let _ = $value;
        Ok(Self::$variant)
    }};
    (@de $value:ident, $name:ident, $variant:ident, $inner:ty) => {{
        $crate::api::types::macros::deserialize_variant::<$inner, D::Error>($value)
            .map(Self::$variant)
    }};
}
pub(crate) use tagged_union;

/// Serialises `{"type": tag}`.
#[doc(hidden)]
pub fn serialize_unit<S: serde::Serializer>(serializer: S, tag: &str) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry("type", tag)?;
    map.end()
}

/// Serialises `inner` (which must serialise as a map) with a leading `"type": tag` entry.
#[doc(hidden)]
pub fn serialize_tagged<S, T>(serializer: S, tag: &str, inner: &T) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    T: serde::Serialize,
{
    use serde::ser::{Error as _, SerializeMap};
    let value = serde_json::to_value(inner).map_err(S::Error::custom)?;
    let serde_json::Value::Object(fields) = value else {
        return Err(S::Error::custom(format!(
            "variant `{tag}` must serialise as a JSON object"
        )));
    };
    let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
    map.serialize_entry("type", tag)?;
    for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "type") {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// Decodes a known variant from its JSON object; the error names the path inside the object.
#[doc(hidden)]
pub fn deserialize_variant<T, E>(value: serde_json::Value) -> Result<T, E>
where
    T: serde::de::DeserializeOwned,
    E: serde::de::Error,
{
    let tag = value
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_owned();
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let path = err.path().to_string();
        if path == "." {
            E::custom(format_args!("in `{tag}`: {}", err.inner()))
        } else {
            E::custom(format_args!("in `{tag}` at `{path}`: {}", err.inner()))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Limited {
        allowed_hosts: Vec<String>,
    }

    tagged_union! {
        /// Test union.
        enum Net {
            /// No fields.
            "unrestricted" => Unrestricted,
            /// With fields.
            "limited" => Limited(Limited),
        }
    }

    #[test]
    fn known_variants_round_trip() {
        assert_eq!(Net::KNOWN_TYPES, ["unrestricted", "limited"]);
        let v: Net = serde_json::from_value(json!({"type": "unrestricted"})).unwrap();
        assert_eq!(v, Net::Unrestricted);
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"type": "unrestricted"})
        );
        let raw = json!({"type": "limited", "allowed_hosts": ["a.example"]});
        let v: Net = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(v.type_name(), "limited");
        assert_eq!(serde_json::to_value(&v).unwrap(), raw);
    }

    #[test]
    fn unknown_variant_keeps_raw_json() {
        let raw = json!({"type": "satellite", "orbit": {"km": 550}});
        let v: Net = serde_json::from_value(raw.clone()).unwrap();
        assert!(v.is_other());
        assert_eq!(v.type_name(), "satellite");
        assert_eq!(serde_json::to_value(&v).unwrap(), raw);
    }

    #[test]
    fn known_tag_with_bad_payload_names_the_path() {
        let err = serde_json::from_str::<Vec<Net>>(
            r#"[{"type":"unrestricted"},{"type":"limited","allowed_hosts":[1]}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("in `limited` at `allowed_hosts[0]`"), "{err}");
    }
}
