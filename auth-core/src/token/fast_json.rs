//! Fast paths for the JSON inside a token: the claims in the one shape
//! [`TokenManager::sign`] writes them, and a header that is a flat object of plain strings.
//!
//! Every token this crate issues carries its claims as compact `serde_json` output: fields in
//! the order [`Claims`] declares them, absent options and empty lists left out, no whitespace.
//! Reading exactly that shape is a walk from one expected field to the next, with no field-name
//! lookup: about half the time of the general parse, allocations included (BENCHMARKS.md).
//! Headers (read only when one is not byte for byte one of ours) are walked member by member.
//!
//! Anything else (another writer's field order, whitespace, escaped strings, `null`, unknown
//! or repeated fields, numbers that are not plain `i64` integers; in a header, any value that
//! is not a plain string, a repeated `alg` or `kid`, any `crit`) is declined, and the caller
//! parses it with `serde_json`, which decides. So these never accept what `serde_json` would
//! refuse, nor read a value differently; the tests below check that over generated and
//! damaged inputs.
//!
//! [`TokenManager::sign`]: super::TokenManager::sign

use std::borrow::Cow;

use super::claims::{Audience, Claims, TokenType};
use super::header::{RawHeader, REFUSED_MEMBERS};

/// The claims in `payload` if it has the shape this crate writes; `None` means "parse it the
/// general way", never "invalid".
pub(super) fn claims(payload: &str) -> Option<Claims> {
    let mut c = Cursor {
        rest: payload.strip_prefix('{')?,
        first: true,
    };
    let sub = c.required("sub", Cursor::string)?;
    let exp = c.required("exp", Cursor::int)?;
    let iat = c.required("iat", Cursor::int)?;
    let nbf = c.required("nbf", Cursor::int)?;
    let jti = c.required("jti", Cursor::string)?;
    let iss = c.optional("iss", Cursor::string)?;
    let aud = c.optional("aud", Cursor::audience)?;
    let sid = c.optional("sid", Cursor::string)?;
    let typ = match c.required("typ", Cursor::str)? {
        "access" => TokenType::Access,
        "refresh" => TokenType::Refresh,
        _ => return None,
    };
    let epc = c.optional("epc", Cursor::int)?.unwrap_or_default();
    let auth_time = c.optional("auth_time", Cursor::int)?;
    let amr = c.optional("amr", Cursor::strings)?.unwrap_or_default();
    let roles = c.optional("roles", Cursor::strings)?.unwrap_or_default();
    let permissions = c
        .optional("permissions", Cursor::strings)?
        .unwrap_or_default();
    let tenant = c.optional("tenant", Cursor::string)?;
    let client_id = c.optional("client_id", Cursor::string)?;
    let scope = c.optional("scope", Cursor::string)?;
    if c.rest != "}" {
        return None;
    }
    Some(Claims {
        sub,
        exp,
        iat,
        nbf,
        jti,
        iss,
        aud,
        sid,
        typ,
        epc,
        auth_time,
        amr,
        roles,
        permissions,
        tenant,
        client_id,
        scope,
    })
}

/// `alg` and `kid` of a header that is a flat object of plain strings without `crit`; `None`
/// means "parse it the general way", never "invalid".
pub(super) fn header(json: &str) -> Option<RawHeader<'_>> {
    let mut c = Cursor {
        rest: json.strip_prefix('{')?,
        first: true,
    };
    let (mut alg, mut kid) = (None, None);
    // The names met so far: a repeated member, of any name, is left to the general parse,
    // which refuses it. Headers have a handful of members; more go that way too.
    let mut seen: [Option<&str>; 8] = [None; 8];
    for i in 0..seen.len() {
        let name = c.any_field()?;
        if seen.contains(&Some(name)) {
            return None;
        }
        let value = c.str()?;
        match name {
            "alg" => alg = Some(Cow::Borrowed(value)),
            "kid" => kid = Some(Cow::Borrowed(value)),
            // Refused by the general parse (`header::parse`).
            "crit" => return None,
            name if REFUSED_MEMBERS.contains(&name) => return None,
            _ => {} // ignored, as serde_json ignores unknown members
        }
        if c.rest == "}" {
            return Some(RawHeader {
                alg: alg?,
                kid,
                crit: None,
            });
        }
        seen[i] = Some(name);
    }
    None
}

/// What is left of the JSON text, and whether the next member is the first (no comma before
/// it).
struct Cursor<'a> {
    rest: &'a str,
    first: bool,
}

impl<'a> Cursor<'a> {
    /// Consumes `,"name":` if the next field is `name`.
    fn field(&mut self, name: &str) -> bool {
        let rest = if self.first {
            Some(self.rest)
        } else {
            self.rest.strip_prefix(',')
        };
        let after = rest
            .and_then(|r| r.strip_prefix('"'))
            .and_then(|r| r.strip_prefix(name))
            .and_then(|r| r.strip_prefix("\":"));
        match after {
            Some(after) => {
                self.rest = after;
                self.first = false;
                true
            }
            None => false,
        }
    }

    /// Consumes `,"name":` whatever the name, and returns the name.
    fn any_field(&mut self) -> Option<&'a str> {
        if !self.first {
            self.rest = self.rest.strip_prefix(',')?;
        }
        self.first = false;
        let name = self.str()?;
        self.rest = self.rest.strip_prefix(':')?;
        Some(name)
    }

    /// Field `name` read by `value`; `None` when it is not next or not in our shape.
    fn required<T>(&mut self, name: &str, value: fn(&mut Self) -> Option<T>) -> Option<T> {
        if self.field(name) {
            value(self)
        } else {
            None
        }
    }

    /// `Some(None)` when field `name` is not next (left out), `Some(Some(_))` when it is next
    /// and read, `None` when it is next and not in our shape.
    fn optional<T>(&mut self, name: &str, value: fn(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.field(name) {
            value(self).map(Some)
        } else {
            Some(None)
        }
    }

    /// A string without escapes or control characters, borrowed from the input.
    fn str(&mut self) -> Option<&'a str> {
        let body = self.rest.strip_prefix('"')?;
        let end = memchr::memchr(b'"', body.as_bytes())?;
        let value = body.get(..end)?;
        // A backslash declines the string, so the quote found cannot be an escaped one. (A
        // pass without an early exit: it compiles to a vector loop.)
        let plain = value
            .bytes()
            .fold(true, |plain, b| plain & (b != b'\\') & (b >= 0x20));
        if !plain {
            return None;
        }
        self.rest = body.get(end + 1..)?;
        Some(value)
    }

    /// As [`str`](Self::str), owned.
    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    /// `[]` or `["a","b",...]`.
    fn strings(&mut self) -> Option<Vec<String>> {
        self.rest = self.rest.strip_prefix('[')?;
        let mut list = Vec::new();
        if let Some(rest) = self.rest.strip_prefix(']') {
            self.rest = rest;
            return Some(list);
        }
        loop {
            list.push(self.string()?);
            match self.rest.strip_prefix(',') {
                Some(rest) => self.rest = rest,
                None => {
                    self.rest = self.rest.strip_prefix(']')?;
                    return Some(list);
                }
            }
        }
    }

    /// One audience (a string) or several (a list), as `Audience` deserializes.
    fn audience(&mut self) -> Option<Audience> {
        if self.rest.starts_with('[') {
            self.strings().map(Audience::Many)
        } else {
            self.string().map(Audience::One)
        }
    }

    /// An integer as JSON writes it (optional `-`, no leading zero), within `i64` (the
    /// minimum itself is declined).
    fn int(&mut self) -> Option<i64> {
        let (negative, body) = match self.rest.strip_prefix('-') {
            Some(body) => (true, body),
            None => (false, self.rest),
        };
        let digits = body.bytes().take_while(u8::is_ascii_digit).count();
        let number = body.get(..digits)?;
        let rest = body.get(digits..)?;
        // A fraction or exponent after the digits is declined by whatever reads next: it
        // expects `,"` or the closing brace.
        // `-0` too: serde_json reads it as the float -0.0, which no `i64` field takes (found
        // by the `claims_fast_path` fuzz target).
        if digits == 0 || (digits > 1 && number.starts_with('0')) || (negative && number == "0") {
            return None;
        }
        let magnitude = number.bytes().try_fold(0_i64, |n, b| {
            n.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })?;
        self.rest = rest;
        Some(if negative { -magnitude } else { magnitude })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::claims as read_claims;
    use super::*;

    fn typical() -> Claims {
        Claims {
            sub: "0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d10".to_owned(),
            exp: 1_800_000_900,
            iat: 1_800_000_000,
            nbf: 1_800_000_000,
            jti: "8f2c1e0b4a6d4e7f9a3b5c7d9e1f2a3b".to_owned(),
            iss: Some("https://auth.example".to_owned()),
            aud: Some(Audience::Many(vec!["api".to_owned(), "web".to_owned()])),
            sid: Some("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d11".to_owned()),
            typ: TokenType::Access,
            epc: 3,
            auth_time: Some(1_799_999_000),
            amr: vec!["pwd".to_owned(), "otp".to_owned()],
            roles: vec!["editor".to_owned(), "viewer".to_owned()],
            permissions: vec!["articles.read".to_owned()],
            tenant: Some("acme".to_owned()),
            client_id: Some("cl_app".to_owned()),
            scope: Some("openid profile".to_owned()),
        }
    }

    /// What `serde_json` makes of `payload`, the reference this parser must agree with.
    fn general(payload: &str) -> Option<Claims> {
        serde_json::from_str(payload).ok()
    }

    #[test]
    fn reads_what_sign_writes() {
        let claims = typical();
        let payload = serde_json::to_string(&claims).unwrap();
        assert_eq!(read_claims(&payload), Some(claims));

        let mut minimal = typical();
        (minimal.iss, minimal.aud, minimal.sid, minimal.auth_time) = (None, None, None, None);
        (minimal.amr, minimal.roles, minimal.permissions) = (vec![], vec![], vec![]);
        (minimal.tenant, minimal.client_id, minimal.scope) = (None, None, None);
        minimal.typ = TokenType::Refresh;
        minimal.aud = Some(Audience::One("api".to_owned()));
        let payload = serde_json::to_string(&minimal).unwrap();
        assert_eq!(read_claims(&payload), Some(minimal));
    }

    /// Each of these is declined, and the general parse gives the answer (shown beside).
    #[test]
    fn declines_every_other_shape() {
        let ours = serde_json::to_string(&typical()).unwrap();
        let cases: [(String, bool); 15] = [
            // (payload, does serde_json accept it?)
            (ours.replace(",\"exp\"", ", \"exp\""), true),
            (format!("{ours} "), true),
            (ours.replace("\"acme\"", "\"ac\\u006de\""), true),
            (ours.replace("\"tenant\":\"acme\"", "\"tenant\":null"), true),
            (ours.replace("{\"sub\"", "{\"extra\":1,\"sub\""), true),
            (
                ours.replace(
                    "\"exp\":1800000900,\"iat\":1800000000",
                    "\"iat\":1800000000,\"exp\":1800000900",
                ),
                true,
            ),
            (ours.replace("\"epc\":3", "\"epc\":3,\"epc\":3"), false),
            (ours.replace("\"epc\":3", "\"epc\":03"), false),
            (ours.replace("\"epc\":3", "\"epc\":3.0"), false),
            (ours.replace("\"epc\":3", "\"epc\":3e0"), false),
            (ours.replace("\"epc\":3", "\"epc\":-0"), false),
            (
                ours.replace("\"epc\":3", "\"epc\":-9223372036854775808"),
                true,
            ),
            (ours.replace("\"access\"", "\"admin\""), false),
            (ours.replace("\"acme\"", "\"ac\tme\""), false),
            (
                ours.replace(",\"jti\":\"8f2c1e0b4a6d4e7f9a3b5c7d9e1f2a3b\"", ""),
                false,
            ),
        ];
        for (payload, accepted) in cases {
            assert_eq!(read_claims(&payload), None, "{payload}");
            assert_eq!(general(&payload).is_some(), accepted, "{payload}");
        }
    }

    #[test]
    fn reads_flat_headers() {
        for (json, alg, kid) in [
            (
                r#"{"typ":"at+jwt","alg":"HS256","kid":"k1"}"#,
                "HS256",
                Some("k1"),
            ),
            (
                r#"{"typ":"JWT","alg":"RS256","kid":"not-a-key"}"#,
                "RS256",
                Some("not-a-key"),
            ),
            (r#"{"alg":"EdDSA"}"#, "EdDSA", None),
            (
                r#"{"kid":"k1","x5t":"abc","alg":"none"}"#,
                "none",
                Some("k1"),
            ),
        ] {
            let read = header(json).unwrap();
            assert_eq!((&*read.alg, read.kid.as_deref()), (alg, kid), "{json}");
            assert!(read.crit.is_none());
        }
    }

    /// Each of these is declined, and the general parse gives the answer (shown beside).
    #[test]
    fn declines_every_other_header() {
        for (json, accepted) in [
            (r#"{"alg":"HS256","kid":"k1","crit":["exp"]}"#, true),
            (r#"{"alg":"HS256","crit":null}"#, true),
            (r#"{"alg":"HS256","jwk":{"kid":"k2"}}"#, true),
            (r#"{"alg":"HS256","n":1}"#, true),
            (r#"{"alg":"HS256","kid":null}"#, true),
            (r#"{"alg":"H\u0053256"}"#, true),
            (r#"{"a\u006cg":"HS256"}"#, true),
            (r#"{ "alg":"HS256"}"#, true),
            (r#"{"alg":"HS256"} "#, true),
            (r#"{"alg":"HS256","alg":"HS256"}"#, false),
            (r#"{"alg":"HS256","kid":"a","kid":"b"}"#, false),
            (r#"{"kid":"k1"}"#, false),
            (r#"{}"#, false),
            (r#"{"alg":"HS256",}"#, false),
            (r#"{"alg":"HS256""#, false),
        ] {
            assert!(header(json).is_none(), "{json}");
            let general = serde_json::from_str::<RawHeader<'_>>(json);
            assert_eq!(general.is_ok(), accepted, "{json}");
        }
    }

    fn any_string() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9.:/_-]{0,12}",
            any::<String>(),
            "[\"\\\\\u{0}-\u{1f}a\u{e9}\u{1f600}]{0,6}",
        ]
    }

    prop_compose! {
        fn any_claims()(
            sub in any_string(), jti in any_string(), times in any::<[i64; 4]>(),
            iss in proptest::option::of(any_string()),
            aud in proptest::option::of(prop_oneof![
                any_string().prop_map(Audience::One),
                proptest::collection::vec(any_string(), 0..3).prop_map(Audience::Many),
            ]),
            sid in proptest::option::of(any_string()), refresh in any::<bool>(),
            auth_time in proptest::option::of(any::<i64>()),
            lists in proptest::collection::vec(proptest::collection::vec(any_string(), 0..3), 3),
            tenant in proptest::option::of(any_string()),
            client in proptest::option::of((any_string(), proptest::option::of(any_string()))),
        ) -> Claims {
            let [exp, iat, nbf, epc] = times;
            let [amr, roles, permissions]: [Vec<String>; 3] = lists.try_into().unwrap();
            Claims {
                sub, exp, iat, nbf, jti, iss, aud, sid,
                typ: if refresh { TokenType::Refresh } else { TokenType::Access },
                epc, auth_time, amr, roles, permissions, tenant,
                client_id: client.as_ref().map(|(id, _)| id.clone()),
                scope: client.and_then(|(_, scope)| scope),
            }
        }
    }

    fn member_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9+:._-]{0,10}".prop_map(|v| format!("\"{v}\"")),
            any::<String>().prop_map(|v| serde_json::to_string(&v).unwrap()),
            Just("null".to_owned()),
            Just("12".to_owned()),
            Just(r#"["exp"]"#.to_owned()),
            Just(r#"{"kid":"inner"}"#.to_owned()),
        ]
    }

    prop_compose! {
        /// Header members, possibly repeated, and their JSON object.
        fn any_header()(
            members in proptest::collection::vec(
                (prop::sample::select(vec!["alg", "kid", "typ", "crit", "cty"]), member_value()),
                0..6,
            )
        ) -> (Vec<(&'static str, String)>, String) {
            let body: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let json = format!("{{{}}}", body.join(","));
            (members, json)
        }
    }

    /// Whatever `header` reads, serde_json reads alike (and finds no `crit`).
    fn agrees_on_header(json: &str) -> Result<(), TestCaseError> {
        if let Some(fast) = header(json) {
            let general = serde_json::from_str::<RawHeader<'_>>(json);
            prop_assert!(general.is_ok(), "{}", json);
            let general = general.unwrap();
            prop_assert_eq!(fast.alg, general.alg);
            prop_assert_eq!(fast.kid, general.kid);
            prop_assert!(general.crit.is_none());
        }
        Ok(())
    }

    /// `text` with about `len` bytes from `start` (a char boundary) replaced by `insert`.
    fn spliced(text: &str, start: usize, len: usize, insert: &str) -> String {
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        format!("{}{insert}{}", &text[..start], &text[end..])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Generated headers: read alike, and a flat header of at most 8 plain strings with
        /// an `alg`, no member named twice and no `crit`, `jwk` or `x5c` is read by the fast
        /// path.
        #[test]
        fn header_agrees_with_serde((members, json) in any_header()) {
            agrees_on_header(&json)?;
            let count = |name: &str| members.iter().filter(|(k, _)| *k == name).count();
            let plain = members
                .iter()
                .all(|(_, v)| v.starts_with('"') && !v.contains('\\'));
            let once = members.iter().all(|(k, _)| count(k) == 1);
            let refused = ["crit", "jwk", "x5c"].iter().any(|name| count(name) > 0);
            if plain && once && !refused && count("alg") == 1 && members.len() <= 8 {
                prop_assert!(header(&json).is_some(), "declined {}", json);
            }
        }

        /// Damaged headers: whatever `header` reads, serde_json reads alike.
        #[test]
        fn header_never_accepts_what_serde_refuses(
            (_members, json) in any_header(),
            at in any::<prop::sample::Index>(),
            len in 0_usize..4,
            insert in "[0-9a-z.,:{}\\[\\]\"\\\\ -]{0,3}",
        ) {
            let mut start = at.index(json.len() + 1);
            while !json.is_char_boundary(start) {
                start -= 1;
            }
            agrees_on_header(&spliced(&json, start, len, &insert))?;
        }

        /// Whatever sign writes is read back exactly, or declined (escaped strings, `i64::MIN`).
        #[test]
        fn agrees_with_serde_on_what_sign_writes(claims in any_claims()) {
            let payload = serde_json::to_string(&claims).unwrap();
            match read_claims(&payload) {
                Some(read) => prop_assert_eq!(read, claims),
                None => prop_assert!(
                    payload.contains('\\') || payload.contains("-9223372036854775808"),
                    "declined a plain payload: {}", payload
                ),
            }
        }

        /// Damaged payloads: whatever this accepts, the general parse accepts with the same
        /// claims.
        #[test]
        fn never_accepts_what_serde_refuses(
            claims in any_claims(),
            at in any::<prop::sample::Index>(),
            len in 0_usize..4,
            // Mostly what JSON syntax is made of.
            insert in "[0-9a-z.,:{}\\[\\]\"\\\\ -]{0,3}",
        ) {
            let payload = serde_json::to_string(&claims).unwrap();
            // Damage lands beside the punctuation, where a parser's decisions are.
            let joints: Vec<usize> = payload
                .char_indices()
                .filter(|&(_, c)| "\":,[]{}".contains(c))
                .flat_map(|(i, _)| [i, i + 1])
                .collect();
            let damaged = spliced(&payload, joints[at.index(joints.len())], len, &insert);
            if let Some(read) = read_claims(&damaged) {
                prop_assert_eq!(Some(read), general(&damaged), "{}", damaged);
            }
        }
    }
}
