//! Token verification on anything: raw token text (first byte even), or a header and claims
//! of the fuzzer's choosing (split at the first newline) signed with the key, so that the
//! input gets past the signature into the parsers. Never a panic; whatever we accept,
//! jsonwebtoken accepts with the same claims.

#![no_main]

use std::sync::{Arc, OnceLock};

use auth_core::config::{JwtAlgorithm, JwtConfig};
use auth_core::token::{Claims, JwtKey, KeySet, TokenManager, TokenType};
use auth_core::ManualClock;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"a fuzzing secret that is long enough for HS256";
const NOW: i64 = 1_800_000_000;

struct Keys {
    ours: TokenManager,
    kid: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key =
            JwtKey::hmac(JwtAlgorithm::HS256, SECRET, Some("k1".to_owned())).expect("an HMAC key");
        let kid = key.kid().to_owned();
        let mut config = JwtConfig::default();
        config.issuer = Some("https://issuer.test".to_owned());
        config.verify_cache_entries = 0;
        let ours = TokenManager::new(
            KeySet::new(key).expect("a key set"),
            &config,
            Arc::new(ManualClock::new(NOW)),
        );
        Keys { ours, kid }
    })
}

fn signed(header: &[u8], payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET),
        input.as_bytes(),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fuzz_target!(|data: &[u8]| {
    let keys = keys();
    let token = match data.split_first() {
        Some((mode, rest)) if mode % 2 == 1 => match rest.iter().position(|&b| b == b'\n') {
            Some(at) => signed(&rest[..at], &rest[at + 1..]),
            None => {
                let ours = format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}"}}"#, keys.kid);
                signed(ours.as_bytes(), rest)
            }
        },
        Some((_, rest)) => String::from_utf8_lossy(rest).into_owned(),
        None => String::new(),
    };
    let Ok(ours) = keys.ours.verify(&token, TokenType::Access) else {
        return;
    };
    // jsonwebtoken reads time from the system clock: times are not compared here, only
    // the parse (a later exp check refuses nothing we would accept at NOW).
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims::<&str>(&[]);
    validation.set_issuer(&["https://issuer.test"]);
    validation.validate_aud = false;
    let theirs =
        jsonwebtoken::decode::<Claims>(&token, &DecodingKey::from_secret(SECRET), &validation)
            .unwrap_or_else(|e| panic!("accepted what jsonwebtoken refuses ({e}): {token}"));
    assert_eq!(theirs.claims, ours, "{token}");
});
