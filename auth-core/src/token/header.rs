//! The JOSE header of a token we did not write byte for byte ourselves, read strictly: a
//! flat header of plain strings by the fast walk, anything else by `serde_json`. Either way
//! it must be a flat object of strings, each member named once; `crit` is refused later (as
//! unsupported), `jwk` and `x5c` (keys and certificates carried in the token, which we never
//! use) here. That is at least as strict as jsonwebtoken's header, which refuses a repeated
//! member, an unknown member that is not a string, and registered members of the wrong type
//! (the differential tests in `tests/token_differential.rs` hold the two side by side).

use std::borrow::Cow;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::error::TokenError;
use super::fast_json;

/// The part of the JOSE header we read before choosing a key, so that `crit` and unknown
/// algorithms are refused before signature work.
#[derive(Deserialize)]
pub(super) struct RawHeader<'a> {
    #[serde(borrow)]
    pub(super) alg: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(super) kid: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) crit: Option<IgnoredAny>,
}

/// Reads `json` (the decoded header segment).
///
/// # Errors
/// [`TokenError::Malformed`] for anything but a flat JSON object of strings with an `alg`,
/// no member named twice, and no `jwk` or `x5c`.
pub(super) fn parse(json: &str) -> Result<RawHeader<'_>, TokenError> {
    if let Some(header) = fast_json::header(json) {
        return Ok(header);
    }
    serde_json::from_str::<FlatStrings>(json).map_err(|_| TokenError::Malformed)?;
    serde_json::from_str(json).map_err(|_| TokenError::Malformed)
}

/// The members a header must not carry: keys and certificates in the token itself.
pub(super) const REFUSED_MEMBERS: [&str; 2] = ["jwk", "x5c"];

/// A JSON object of string members, none named twice or refused (`crit` may hold anything:
/// it is refused on its own, as unsupported).
struct FlatStrings;

impl<'de> Deserialize<'de> for FlatStrings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FlatStringsVisitor)
    }
}

struct FlatStringsVisitor;

impl<'de> Visitor<'de> for FlatStringsVisitor {
    type Value = FlatStrings;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of strings, each member once")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FlatStrings, A::Error> {
        let mut seen: Vec<Cow<'de, str>> = Vec::new();
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            if seen.contains(&name) || REFUSED_MEMBERS.contains(&&*name) {
                return Err(serde::de::Error::custom("a repeated or refused member"));
            }
            if name == "crit" {
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value::<Cow<'de, str>>()?;
            }
            seen.push(name);
        }
        Ok(FlatStrings)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_repeated_member_is_refused_whatever_its_name_or_spelling() {
        assert!(parse(r#"{"alg":"HS256","kid":"k"}"#).is_ok());
        assert!(parse(r#"{ "alg" : "HS256", "typ" : "J\u0057T" }"#).is_ok());
        assert!(parse(r#"{"alg":"HS256","crit":["exp"]}"#).is_ok_and(|h| h.crit.is_some()));
        for repeated in [
            r#"{"alg":"HS256","alg":"HS256"}"#,
            r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
            r#"{"alg":"HS256","typ":"JWT","typ":null}"#,
            r#"{"alg":"HS256","x":1,"x":2}"#,
            r#"{"alg":"HS256","\u0074yp":"JWT","typ":"JWT"}"#,
            r#"{"alg":"HS256","":"a","":"b"}"#,
        ] {
            assert!(parse(repeated).is_err(), "{repeated}");
        }
    }

    #[test]
    fn only_strings_and_no_keys_of_its_own() {
        for odd in [
            r#"{"alg":"HS256","typ":null}"#,
            r#"{"alg":"HS256","x":1}"#,
            r#"{"alg":"HS256","x":["a"]}"#,
            r#"{"alg":"HS256","jwk":"k"}"#,
            r#"{"alg":"HS256","jwk":{"kty":"oct"}}"#,
            r#"{"alg":"HS256","x5c":["MII"]}"#,
            r#"{"alg":"HS256","\u006awk":"k"}"#,
            r#"{"kid":"k"}"#,
            r#"["alg"]"#,
        ] {
            assert!(parse(odd).is_err(), "{odd}");
        }
    }
}
