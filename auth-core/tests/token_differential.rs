//! Our own token reader held against jsonwebtoken, over generated and damaged tokens.
//!
//! Access tokens are read by this crate's code (the header walk, `fast_json`, the segment
//! decoding) over aws-lc-rs signatures, not by jsonwebtoken. It may refuse more (it requires
//! `kid`, `jti`, `typ`, refuses `crit` and tokens issued in the future), never less:
//!
//! - whenever our `verify` accepts a token, `jsonwebtoken::decode` with the equivalent
//!   validation accepts it too and reads the same claims, over tokens whose header and claims
//!   are reordered, repeated, escaped, spaced, of wrong types or huge numbers, whose base64 is
//!   padded, of the other alphabet or broken, with extra or missing segments, for every
//!   algorithm we support;
//! - every token jsonwebtoken signs with our keys, valid under our rules, verifies here with
//!   the same claims.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::cell::Cell;
use std::sync::Arc;

use auth_core::config::{JwtAlgorithm, JwtConfig};
use auth_core::token::{Audience, Claims, KeySet, TokenManager, TokenType};
use auth_core::ManualClock;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

mod common;

const SECRET: &[u8] = b"a differential test secret, longer than any HMAC output of SHA-512 ....";
const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "api";
const LEEWAY: i64 = 30;

/// One algorithm's keys on both sides.
struct Side {
    alg: JwtAlgorithm,
    jwt_alg: Algorithm,
    kid: String,
    ours: TokenManager,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The header our manager writes, base64url, to start mutations from.
    our_header: String,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn side(alg: JwtAlgorithm) -> Side {
    let common::KeyPair {
        key,
        alg: jwt_alg,
        encoding,
        decoding,
    } = common::key_pair(alg, SECRET);
    let kid = key.kid().to_owned();
    let mut config = JwtConfig::default();
    config.issuer = Some(ISSUER.to_owned());
    config.audience = Some(AUDIENCE.to_owned());
    config.leeway_seconds = LEEWAY.unsigned_abs();
    let clock = ManualClock::new(now());
    let ours = TokenManager::new(KeySet::new(key).unwrap(), &config, Arc::new(clock));
    let sample = ours.sign(&base_claims(now())).unwrap();
    let our_header = sample.split('.').next().unwrap().to_owned();
    Side {
        alg,
        jwt_alg,
        kid,
        ours,
        encoding,
        decoding,
        our_header,
    }
}

fn sides() -> Vec<Side> {
    [
        JwtAlgorithm::HS256,
        JwtAlgorithm::HS384,
        JwtAlgorithm::HS512,
        JwtAlgorithm::RS256,
        JwtAlgorithm::ES256,
        JwtAlgorithm::EdDSA,
    ]
    .into_iter()
    .map(side)
    .collect()
}

fn base_claims(now: i64) -> Claims {
    serde_json::from_value(serde_json::json!({
        "sub": "user-1", "exp": now + 600, "iat": now - 5, "nbf": now - 5, "jti": "j-1",
        "iss": ISSUER, "aud": AUDIENCE, "sid": "s-1", "typ": "access", "epc": 3,
        "roles": ["editor"], "permissions": ["articles.write"]
    }))
    .unwrap()
}

/// jsonwebtoken's validation equivalent to ours: the same algorithm, leeway, issuer and
/// audience; `exp` required, `nbf` checked.
fn validation(side: &Side) -> Validation {
    let mut v = Validation::new(side.jwt_alg);
    v.leeway = LEEWAY.unsigned_abs();
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.set_required_spec_claims(&["exp"]);
    v.validate_nbf = true;
    v
}

/// The property: what we accept, jsonwebtoken accepts with the same claims.
fn never_laxer(side: &Side, token: &str) -> Result<bool, TestCaseError> {
    let Ok(ours) = side.ours.verify(token, TokenType::Access) else {
        return Ok(false);
    };
    let theirs = jsonwebtoken::decode::<Claims>(token, &side.decoding, &validation(side));
    prop_assert!(
        theirs.is_ok(),
        "{}: we accepted what jsonwebtoken refuses ({:?}): {token}",
        side.alg,
        theirs.err()
    );
    prop_assert_eq!(theirs.unwrap().claims, ours, "{}: {}", side.alg, token);
    Ok(true)
}

/// A JSON object's members as raw text, to be reordered, repeated and damaged.
type Members = Vec<(String, String)>;

fn claim_members(now: i64) -> Members {
    let value = serde_json::to_value(base_claims(now)).unwrap();
    let serde_json::Value::Object(map) = value else {
        unreachable!()
    };
    map.into_iter()
        .map(|(k, v)| (k, serde_json::to_string(&v).unwrap()))
        .collect()
}

fn header_members(side: &Side) -> Members {
    let alg = format!("{:?}", side.jwt_alg);
    vec![
        ("alg".to_owned(), format!("\"{alg}\"")),
        ("typ".to_owned(), "\"at+jwt\"".to_owned()),
        ("kid".to_owned(), format!("\"{}\"", side.kid)),
    ]
}

/// Values that are wrong, odd or borderline somewhere.
fn odd_value(now: i64) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("\"\"".to_owned()),
        Just("\"none\"".to_owned()),
        Just("\"HS256\"".to_owned()),
        Just("\"access\"".to_owned()),
        Just("\"refresh\"".to_owned()),
        Just("\"\\u0061ccess\"".to_owned()),
        Just("\"acc\\u0065ss\"".to_owned()),
        Just(format!("\"{ISSUER}\"")),
        Just(format!("[\"{AUDIENCE}\",\"other\"]")),
        Just("[\"other\"]".to_owned()),
        Just("1.5".to_owned()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("-0".to_owned()),
        Just("0.0".to_owned()),
        Just("1e400".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just(format!("{}", now + 600)),
        Just(format!("{}.0", now + 600)),
        Just(format!("{}e0", now + 600)),
        Just(format!("\"{}\"", now + 600)),
        Just(format!("{}", now - 3_600)),
        Just(format!("{}", now + 3_600)),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-z0-9\\\\\"]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ]
}

/// Writes `"\u0073"`-style escapes for every character of a key or string.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect()
}

#[derive(Debug, Clone)]
enum Damage {
    Shuffle(Vec<usize>),
    Drop(usize),
    Repeat(usize, String),
    Replace(usize, String),
    EscapeKey(usize),
    EscapeValue(usize),
    Extra(String, String),
    Spaces,
}

fn damage(now: i64) -> impl Strategy<Value = Damage> {
    prop_oneof![
        proptest::collection::vec(any::<usize>(), 16).prop_map(Damage::Shuffle),
        any::<usize>().prop_map(Damage::Drop),
        (any::<usize>(), odd_value(now)).prop_map(|(i, v)| Damage::Repeat(i, v)),
        (any::<usize>(), odd_value(now)).prop_map(|(i, v)| Damage::Replace(i, v)),
        any::<usize>().prop_map(Damage::EscapeKey),
        any::<usize>().prop_map(Damage::EscapeValue),
        ("[a-z]{1,4}|crit|alg|kid|exp|sub", odd_value(now)).prop_map(|(k, v)| Damage::Extra(k, v)),
        Just(Damage::Spaces),
    ]
}

/// Applies the damages and writes the object.
fn object(mut members: Members, damages: &[Damage]) -> String {
    let mut spaced = false;
    for d in damages {
        let n = members.len().max(1);
        match d {
            Damage::Shuffle(order) => {
                for (i, j) in order.iter().enumerate() {
                    let (a, b) = (i % n, j % n);
                    if a < members.len() && b < members.len() {
                        members.swap(a, b);
                    }
                }
            }
            Damage::Drop(i) if !members.is_empty() => {
                members.remove(i % n);
            }
            Damage::Repeat(i, v) if !members.is_empty() => {
                let key = members[i % n].0.clone();
                members.push((key, v.clone()));
            }
            Damage::Replace(i, v) if !members.is_empty() => members[i % n].1.clone_from(v),
            Damage::EscapeKey(i) if !members.is_empty() => {
                let key = escaped(&members[i % n].0);
                members[i % n].0 = key;
            }
            Damage::EscapeValue(i) if !members.is_empty() => {
                let value = &members[i % n].1;
                if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    if !inner.contains('\\') {
                        members[i % n].1 = format!("\"{}\"", escaped(inner));
                    }
                }
            }
            Damage::Extra(k, v) => members.push((k.clone(), v.clone())),
            Damage::Spaces => spaced = true,
            _ => {}
        }
    }
    let sep = if spaced { " ,\n\t" } else { "," };
    let colon = if spaced { " : " } else { ":" };
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("\"{k}\"{colon}{v}"))
        .collect();
    if spaced {
        format!(" {{ {} }} ", body.join(sep))
    } else {
        format!("{{{}}}", body.join(sep))
    }
}

#[derive(Debug, Clone)]
enum Encoding {
    Plain,
    Padded,
    StandardAlphabet,
    BadCharacter(usize),
    ExtraSegment,
    EmptySignature,
    FlippedSignature(usize),
    TruncatedSignature,
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        6 => Just(Encoding::Plain),
        1 => Just(Encoding::Padded),
        1 => Just(Encoding::StandardAlphabet),
        1 => any::<usize>().prop_map(Encoding::BadCharacter),
        1 => Just(Encoding::ExtraSegment),
        1 => Just(Encoding::EmptySignature),
        1 => any::<usize>().prop_map(Encoding::FlippedSignature),
        1 => Just(Encoding::TruncatedSignature),
    ]
}

/// Signs `header.payload` (both base64url already) with `side`'s key and applies `enc`.
fn token(side: &Side, header_b64: &str, payload: &str, enc: &Encoding) -> String {
    let mut payload_b64 = URL_SAFE_NO_PAD.encode(payload);
    match enc {
        Encoding::Padded => {
            while !payload_b64.len().is_multiple_of(4) {
                payload_b64.push('=');
            }
        }
        Encoding::StandardAlphabet => payload_b64 = STANDARD.encode(payload).replace('=', ""),
        Encoding::BadCharacter(i) => {
            let at = i % payload_b64.len();
            payload_b64.replace_range(at..=at, "*");
        }
        _ => {}
    }
    let input = format!("{header_b64}.{payload_b64}");
    let mut signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &side.encoding, side.jwt_alg).unwrap();
    match enc {
        Encoding::EmptySignature => signature.clear(),
        Encoding::TruncatedSignature => signature.truncate(signature.len() / 2),
        Encoding::FlippedSignature(i) => {
            let mut raw = URL_SAFE_NO_PAD.decode(&signature).unwrap();
            let at = i % raw.len();
            raw[at] ^= 1 << (i % 8);
            signature = URL_SAFE_NO_PAD.encode(raw);
        }
        _ => {}
    }
    let mut token = format!("{input}.{signature}");
    if matches!(enc, Encoding::ExtraSegment) {
        token.push_str(".e30");
    }
    token
}

/// A runner of `cases` cases per algorithm, times `TOKEN_DIFFERENTIAL_SCALE` when set (the
/// normal test run uses 1; `bench/fuzz.sh` runs more).
fn runner(cases: u32) -> TestRunner {
    let scale = std::env::var("TOKEN_DIFFERENTIAL_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    TestRunner::new(Config {
        cases: cases.saturating_mul(scale),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Damaged claims under our own header: whatever we accept, jsonwebtoken accepts alike.
#[test]
fn damaged_claims_are_never_accepted_more_readily_than_by_jsonwebtoken() {
    for side in sides() {
        let now = now();
        let accepted = Cell::new(0_u32);
        let strategy = (proptest::collection::vec(damage(now), 0..4), encoding());
        runner(256)
            .run(&strategy, |(damages, enc)| {
                let payload = object(claim_members(now), &damages);
                let token = token(&side, &side.our_header, &payload, &enc);
                accepted.set(accepted.get() + u32::from(never_laxer(&side, &token)?));
                Ok(())
            })
            .unwrap();
        // Undamaged and lightly damaged tokens are accepted: the property is not vacuous.
        assert!(accepted.get() > 0, "{}: nothing accepted", side.alg);
    }
}

/// Damaged headers over good claims: the same.
#[test]
fn damaged_headers_are_never_accepted_more_readily_than_by_jsonwebtoken() {
    for side in sides() {
        let now = now();
        let payload = serde_json::to_string(&base_claims(now)).unwrap();
        let accepted = Cell::new(0_u32);
        let strategy = proptest::collection::vec(damage(now), 0..4);
        runner(256)
            .run(&strategy, |damages| {
                let header = URL_SAFE_NO_PAD.encode(object(header_members(&side), &damages));
                let token = token(&side, &header, &payload, &Encoding::Plain);
                accepted.set(accepted.get() + u32::from(never_laxer(&side, &token)?));
                Ok(())
            })
            .unwrap();
        assert!(accepted.get() > 0, "{}: nothing accepted", side.alg);
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._-]{1,12}",
        "\\PC{1,8}",
        ".{1,8}",
        Just("\"\\/\u{0}\u{1f}\u{7f}\u{2028}😀".to_owned()),
    ]
}

fn claims_strategy(now: i64) -> impl Strategy<Value = Claims> {
    (
        (text(), text(), 60_i64..86_400, 0_i64..3_600, 0_i64..3_600),
        (
            proptest::option::of(text()),
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(text(), 0..3),
            proptest::option::of(text()),
            any::<i64>(),
            proptest::option::of(any::<i64>()),
            any::<bool>(),
        ),
    )
        .prop_map(
            move |(
                (sub, jti, ttl, age, early),
                (sid, roles, perms, amr, tenant, epc, auth_time, many),
            )| {
                let aud = if many {
                    serde_json::json!([AUDIENCE, "other"])
                } else {
                    serde_json::json!(AUDIENCE)
                };
                let mut claims: Claims = serde_json::from_value(serde_json::json!({
                    "sub": sub, "exp": now + ttl, "iat": now - age, "nbf": now - early,
                    "jti": jti, "iss": ISSUER, "aud": aud, "typ": "access", "epc": epc,
                }))
                .unwrap();
                claims.sid = sid;
                claims.roles = roles;
                claims.permissions = perms;
                claims.amr = amr;
                claims.tenant = tenant;
                claims.auth_time = auth_time;
                claims
            },
        )
}

/// Every token jsonwebtoken signs with our keys, valid under our rules, verifies here with
/// the same claims: with its own header (`typ` JWT) and with ours.
#[test]
fn tokens_jsonwebtoken_signs_verify_here() {
    for side in sides() {
        let now = now();
        runner(128)
            .run(&claims_strategy(now), |claims| {
                let mut header = Header::new(side.jwt_alg);
                header.kid = Some(side.kid.clone());
                let theirs = jsonwebtoken::encode(&header, &claims, &side.encoding).unwrap();
                let ours = side.ours.verify(&theirs, TokenType::Access);
                prop_assert_eq!(ours.as_ref(), Ok(&claims), "{}: {}", side.alg, theirs);
                // Written by us, read by them, the same way round.
                let signed = side.ours.sign(&claims).unwrap();
                let decoded =
                    jsonwebtoken::decode::<Claims>(&signed, &side.decoding, &validation(&side));
                prop_assert_eq!(decoded.map(|d| d.claims).ok(), Some(claims));
                Ok(())
            })
            .unwrap();
    }
}

/// The audience forms both sides read: a string, or a list holding ours.
#[test]
fn audience_forms_agree() {
    let side = side(JwtAlgorithm::HS256);
    let now = now();
    for aud in [
        serde_json::json!(AUDIENCE),
        serde_json::json!([AUDIENCE]),
        serde_json::json!(["other", AUDIENCE]),
        serde_json::json!("other"),
        serde_json::json!([]),
    ] {
        let mut members = claim_members(now);
        for m in &mut members {
            if m.0 == "aud" {
                m.1 = aud.to_string();
            }
        }
        let token = token(
            &side,
            &side.our_header,
            &object(members, &[]),
            &Encoding::Plain,
        );
        let ours = side.ours.verify(&token, TokenType::Access);
        let theirs = jsonwebtoken::decode::<Claims>(&token, &side.decoding, &validation(&side));
        assert_eq!(ours.is_ok(), theirs.is_ok(), "{aud}");
        if let Ok(claims) = ours {
            let expected = match aud {
                serde_json::Value::String(s) => Audience::One(s),
                other => Audience::Many(serde_json::from_value(other).unwrap()),
            };
            assert_eq!(claims.aud, Some(expected));
        }
    }
}
