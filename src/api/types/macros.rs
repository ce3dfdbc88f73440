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

        impl $crate::api::types::macros::TaggedUnion for $name {
            fn decode<'de, M: serde::de::MapAccess<'de>>(
                map: $crate::api::types::macros::Prefixed<'de, M>,
            ) -> Result<Self, M::Error> {
                $( $crate::api::types::macros::tagged_union!(@de_stmt map, $variant, $tag $(, $inner)?); )+
                $crate::api::types::macros::decode_other(map).map(Self::Other)
            }

            fn decode_value<E: serde::de::Error>(value: serde_json::Value) -> Result<Self, E> {
                match value.get("type").and_then(|t| t.as_str()) {
                    $( Some($tag) => $crate::api::types::macros::tagged_union!(@de_value value, $variant $(, $inner)?), )+
                    _ => Ok(Self::Other(value)),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::api::types::macros::deserialize_tagged(deserializer)
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

    (@de_value $value:ident, $variant:ident) => {{
        let _ = $value;
        Ok(Self::$variant)
    }};
    (@de_value $value:ident, $variant:ident, $inner:ty) => {
        $crate::api::types::macros::deserialize_variant::<$inner, E>($value).map(Self::$variant)
    };
    (@de_stmt $map:ident, $variant:ident, $tag:literal) => {
        if $map.tag() == Some($tag) {
            return $crate::api::types::macros::skip_rest($map).map(|()| Self::$variant);
        }
    };
    (@de_stmt $map:ident, $variant:ident, $tag:literal, $inner:ty) => {
        if $map.tag() == Some($tag) {
            return <$inner as serde::Deserialize>::deserialize(
                serde::de::value::MapAccessDeserializer::new($map),
            )
            .map(Self::$variant)
            .map_err(|e| $crate::api::types::macros::in_variant($tag, e));
        }
    };
}
pub(crate) use tagged_union;

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

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

/// Implemented by [`tagged_union!`]: decodes the variant named by the map's `type`.
#[doc(hidden)]
pub trait TaggedUnion: Sized {
    /// Decodes from a map whose `type` was its first key (see [`Prefixed`]).
    fn decode<'de, M: MapAccess<'de>>(map: Prefixed<'de, M>) -> Result<Self, M::Error>;
    /// Decodes from a whole JSON object (when `type` was not the first key).
    fn decode_value<E: de::Error>(value: Value) -> Result<Self, E>;
}

/// Streaming decode of a `type`-tagged object, without building a `serde_json::Value`.
///
/// Reads entries until the `type` key (the API sends it first, so usually none are buffered),
/// then hands the variant's deserializer a map that replays `type`, the buffered entries and
/// the rest of the input. Errors inside the variant keep their JSON path when the caller
/// tracks paths (`serde_path_to_error`), as the client does.
#[doc(hidden)]
pub fn deserialize_tagged<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TaggedUnion,
{
    struct TaggedVisitor<T>(PhantomData<T>);

    impl<'de, T: TaggedUnion> Visitor<'de> for TaggedVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object with a `type` field")
        }

        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<T, M::Error> {
            match map.next_key_seed(KeySeed)? {
                // The API sends `type` first: decode the variant straight from the input.
                Some(Key::Type) => {
                    let tag = map.next_value_seed(TagSeed)?;
                    T::decode(Prefixed {
                        tag: Some(tag),
                        emit_tag: true,
                        pending: Pending::None,
                        rest: map,
                    })
                }
                // Otherwise collect the object and decode it from a `Value`.
                Some(Key::Other(first)) => {
                    let mut object = serde_json::Map::new();
                    let value: Value = map.next_value()?;
                    object.insert(first, value);
                    while let Some((key, value)) = map.next_entry::<String, Value>()? {
                        object.insert(key, value);
                    }
                    T::decode_value(Value::Object(object))
                }
                None => T::decode_value(Value::Object(serde_json::Map::new())),
            }
        }
    }

    deserializer.deserialize_map(TaggedVisitor(PhantomData))
}

enum Key {
    Type,
    Other(String),
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(if key == "type" {
            Key::Type
        } else {
            Key::Other(key.to_owned())
        })
    }
    fn visit_string<E: de::Error>(self, key: String) -> Result<Key, E> {
        Ok(if key == "type" {
            Key::Type
        } else {
            Key::Other(key)
        })
    }
}

struct TagSeed;

impl<'de> DeserializeSeed<'de> for TagSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for TagSeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string `type`")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

enum Pending<'de> {
    None,
    Tag(Cow<'de, str>),
}

/// A map that replays the `type` entry already read, then continues with the input.
#[doc(hidden)]
pub struct Prefixed<'de, M> {
    tag: Option<Cow<'de, str>>,
    emit_tag: bool,
    pending: Pending<'de>,
    rest: M,
}

impl<M> Prefixed<'_, M> {
    /// The `type` of the object, if it had a string one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for Prefixed<'de, M> {
    type Error = M::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, M::Error> {
        if self.emit_tag {
            self.emit_tag = false;
            if let Some(tag) = &self.tag {
                self.pending = Pending::Tag(tag.clone());
                return seed
                    .deserialize(de::value::BorrowedStrDeserializer::new("type"))
                    .map(Some);
            }
        }
        self.rest.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, M::Error> {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::None => self.rest.next_value_seed(seed),
            Pending::Tag(Cow::Borrowed(tag)) => {
                seed.deserialize(de::value::BorrowedStrDeserializer::new(tag))
            }
            Pending::Tag(Cow::Owned(tag)) => {
                seed.deserialize(de::value::StringDeserializer::new(tag))
            }
        }
    }
}

/// Decodes a known variant from its JSON object; the error names the variant and the path
/// inside the object (`in `limited` at `allowed_hosts[0]`: …`).
#[doc(hidden)]
pub fn deserialize_variant<T, E>(value: Value) -> Result<T, E>
where
    T: de::DeserializeOwned,
    E: de::Error,
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

/// Prefixes an error with the variant it happened in (`in `limited`: …`). The JSON path is
/// added by the caller's path tracking (`serde_path_to_error`), which the client always uses.
#[doc(hidden)]
pub fn in_variant<E: de::Error>(tag: &str, err: E) -> E {
    E::custom(format_args!("in `{tag}`: {err}"))
}

/// Consumes the remaining entries of a field-less variant.
#[doc(hidden)]
pub fn skip_rest<'de, M: MapAccess<'de>>(mut map: Prefixed<'de, M>) -> Result<(), M::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Keeps an unknown variant whole as raw JSON.
#[doc(hidden)]
pub fn decode_other<'de, M: MapAccess<'de>>(map: Prefixed<'de, M>) -> Result<Value, M::Error> {
    Value::deserialize(de::value::MapAccessDeserializer::new(map))
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
        let json = r#"[{"type":"unrestricted"},{"type":"limited","allowed_hosts":[1]}]"#;
        let err = serde_path_to_error::deserialize::<_, Vec<Net>>(
            &mut serde_json::Deserializer::from_str(json),
        )
        .unwrap_err();
        assert_eq!(err.path().to_string(), "[1].allowed_hosts[0]");
        // Without path tracking the variant error still says what was wrong.
        assert!(serde_json::from_str::<Vec<Net>>(json).is_err());
    }
}
