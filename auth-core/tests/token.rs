//! TokenManager: every algorithm round-trips, every bad token is refused with its own error.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;

use auth_core::config::{JwtAlgorithm, JwtConfig};
use auth_core::token::{
    Audience, Claims, JwtKey, KeySet, TokenError, TokenManager, TokenSubject, TokenType,
};
use auth_core::{Clock, ManualClock};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::KeyPair as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header, Validation};

mod common;

const SECRET: &[u8] = b"an hs256 test secret that is long enough!";
const NOW: i64 = 1_800_000_000;

fn manager_with(key: JwtKey, config: &JwtConfig) -> (TokenManager, ManualClock) {
    let clock = ManualClock::new(NOW);
    let manager = TokenManager::new(KeySet::new(key).unwrap(), config, Arc::new(clock.clone()));
    (manager, clock)
}

fn hs256() -> (TokenManager, ManualClock) {
    hs256_with(&JwtConfig::default())
}

fn hs256_with(config: &JwtConfig) -> (TokenManager, ManualClock) {
    manager_with(
        JwtKey::hmac(JwtAlgorithm::HS256, SECRET, None).unwrap(),
        config,
    )
}

fn subject() -> TokenSubject {
    TokenSubject::access("user-1")
        .with_session("session-1")
        .with_roles(["editor"])
        .with_permissions(["articles.write"])
}

fn claims(manager: &TokenManager) -> Claims {
    manager
        .verify(&manager.issue(&subject()).unwrap().token, TokenType::Access)
        .unwrap()
}

/// Re-encodes a token's header segment, keeping claims and signature.
fn with_header(token: &str, header: &serde_json::Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!(
        "{}.{rest}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap())
    )
}

/// A token of `header` and the base64url `payload_b64`, signed with the HS256 test secret.
fn hs256_signed(header: &serde_json::Value, payload_b64: &str) -> String {
    let input = format!(
        "{}.{payload_b64}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap())
    );
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET),
        input.as_bytes(),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Replaces a token's header and signs it again with the HS256 test secret, keeping its claims.
fn resigned(token: &str, header: &serde_json::Value) -> String {
    hs256_signed(header, token.split('.').nth(1).unwrap())
}

#[test]
fn every_algorithm_round_trips() {
    for alg in [
        JwtAlgorithm::HS256,
        JwtAlgorithm::HS384,
        JwtAlgorithm::HS512,
        JwtAlgorithm::RS256,
        JwtAlgorithm::ES256,
        JwtAlgorithm::EdDSA,
    ] {
        let (key, _material) = JwtKey::generate(alg).unwrap();
        let kid = key.kid().to_owned();
        let (manager, _) = manager_with(key, &JwtConfig::default());
        let issued = manager.issue(&subject()).unwrap();
        let header = jsonwebtoken::decode_header(&issued.token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(kid.as_str()), "{alg}");
        assert_eq!(format!("{:?}", header.alg), alg.as_str(), "{alg}");
        let claims = manager
            .verify(&issued.token, TokenType::Access)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims.sub, "user-1");
        assert_eq!(claims.sid.as_deref(), Some("session-1"));
        assert_eq!(claims.roles, ["editor"]);
        assert_eq!(claims.permissions, ["articles.write"]);
        assert_eq!(claims.exp - claims.iat, 30 * 60);
        assert_eq!(claims.nbf, claims.iat);
        assert!(!claims.jti.is_empty());
    }
}

/// Our lean signing and verification speak the same JWS as jsonwebtoken: tokens we sign
/// decode there, tokens it signs verify here, for every asymmetric algorithm.
#[test]
fn signatures_interoperate_with_jsonwebtoken() {
    for alg in [
        JwtAlgorithm::RS256,
        JwtAlgorithm::ES256,
        JwtAlgorithm::EdDSA,
    ] {
        let common::KeyPair {
            key,
            alg: jwt_alg,
            encoding,
            decoding,
        } = common::key_pair(alg, SECRET);
        let kid = key.kid().to_owned();
        let (manager, _) = manager_with(key, &JwtConfig::default());
        let ours = manager.issue(&subject()).unwrap();
        let mut validation = Validation::new(jwt_alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        let decoded = jsonwebtoken::decode::<Claims>(&ours.token, &decoding, &validation)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(decoded.claims, ours.claims, "{alg}");
        assert_eq!(decoded.header.kid.as_deref(), Some(kid.as_str()), "{alg}");
        assert_eq!(decoded.header.typ.as_deref(), Some("at+jwt"), "{alg}");

        let mut header = Header::new(jwt_alg);
        header.kid = Some(kid);
        let theirs = jsonwebtoken::encode(&header, &ours.claims, &encoding).unwrap();
        assert_eq!(
            manager.verify(&theirs, TokenType::Access).as_ref(),
            Ok(&ours.claims),
            "{alg}"
        );
    }
}

/// A token carrying exactly the header we write skips the header parse, so the fast path
/// must still refuse what the full path refuses: a header that differs by one byte is parsed.
#[test]
fn a_header_we_did_not_write_is_parsed_and_checked() {
    let (manager, _) = hs256();
    let token = manager.issue(&subject()).unwrap().token;
    let kid = manager.keys().current().kid().to_owned();
    // Same kid and alg, plus `crit`: refused although the key and signature would match.
    let header = serde_json::json!({"typ": "at+jwt", "alg": "HS256", "kid": kid, "crit": ["exp"]});
    assert_eq!(
        manager.verify(&resigned(&token, &header), TokenType::Access),
        Err(TokenError::UnsupportedCritical)
    );
    // A header in another key order, otherwise the same, is parsed and accepted.
    let header = serde_json::json!({"kid": kid, "alg": "HS256"});
    let signed = resigned(&token, &header);
    assert!(manager.verify(&signed, TokenType::Access).is_ok());
}

/// Signs `payload` (JSON text, as is) with the HS256 test secret under `manager`'s key.
fn signed_payload(manager: &TokenManager, payload: &str) -> String {
    let kid = manager.keys().current().kid().to_owned();
    let header = serde_json::json!({"alg": "HS256", "kid": kid});
    hs256_signed(&header, &URL_SAFE_NO_PAD.encode(payload))
}

/// Our own tokens' claims are read in the one shape we write; claims another writer shaped
/// differently (field order, whitespace, escapes, `null`, unknown fields) are read the
/// general way to the same claims, and what the general parse refuses is still refused.
#[test]
fn claims_in_another_shape_are_read_the_same() {
    let (manager, _) = hs256();
    let ours = claims(&manager);
    let compact = serde_json::to_string(&ours).unwrap();
    assert_eq!(
        manager.verify(&signed_payload(&manager, &compact), TokenType::Access),
        Ok(ours.clone())
    );
    let mut reordered = serde_json::to_value(&ours).unwrap();
    let object = reordered.as_object_mut().unwrap();
    object.insert("tenant".to_owned(), serde_json::Value::Null);
    object.insert("x-extra".to_owned(), serde_json::json!({"nested": [1, 2]}));
    // serde_json's map is sorted: `epc` now comes before `exp`, `sub` near the end.
    let pretty = serde_json::to_string_pretty(&reordered)
        .unwrap()
        .replace("\"editor\"", "\"edi\\u0074or\"");
    assert!(pretty.find("\"epc\"") < pretty.find("\"exp\""), "{pretty}");
    assert_eq!(
        manager.verify(&signed_payload(&manager, &pretty), TokenType::Access),
        Ok(ours)
    );
    for refused in [
        compact.replace("\"epc\":0", "\"epc\":0,\"epc\":0"),
        compact.replace("\"epc\":0", "\"epc\":00"),
        compact.replace("\"epc\":0", "\"epc\":0.5"),
        compact.replace("\"access\"", "\"Access\""),
    ] {
        assert_ne!(refused, compact);
        assert_eq!(
            manager.verify(&signed_payload(&manager, &refused), TokenType::Access),
            Err(TokenError::Malformed),
            "{refused}"
        );
    }
}

#[test]
fn tampered_signature_is_refused() {
    let (manager, _) = hs256();
    let token = manager.issue(&subject()).unwrap().token;
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    sig[0] ^= 1;
    let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(
        manager.verify(&tampered, TokenType::Access),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn tampered_claims_are_refused() {
    let (manager, _) = hs256();
    let token = manager.issue(&subject()).unwrap().token;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["roles"] = serde_json::json!(["admin"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_eq!(
        manager.verify(&forged, TokenType::Access),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn alg_none_is_refused() {
    let (manager, _) = hs256();
    let token = manager.issue(&subject()).unwrap().token;
    let kid = manager.keys().current().kid().to_owned();
    let none = with_header(
        &token,
        &serde_json::json!({"alg": "none", "kid": kid, "typ": "JWT"}),
    );
    let (unsigned, _) = none.rsplit_once('.').unwrap();
    assert_eq!(
        manager.verify(&format!("{unsigned}."), TokenType::Access),
        Err(TokenError::AlgorithmNotAllowed)
    );
    assert_eq!(
        manager.verify(&none, TokenType::Access),
        Err(TokenError::AlgorithmNotAllowed)
    );
}

#[test]
fn hs256_token_signed_with_the_rsa_public_key_is_refused() {
    let (rsa_key, pem) = JwtKey::generate(JwtAlgorithm::RS256).unwrap();
    let kid = rsa_key.kid().to_owned();
    let (manager, _) = manager_with(rsa_key, &JwtConfig::default());
    // The classic confusion attack: the attacker knows the public key and uses it as an HMAC
    // secret, claiming HS256 under the RSA key's id.
    let der = common::pem_body(secrecy::ExposeSecret::expose_secret(&pem));
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).unwrap();
    let public_der = AsDer::<PublicKeyX509Der<'_>>::as_der(pair.public_key()).unwrap();
    let public_pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(public_der.as_ref())
    );
    let claims = claims(&manager);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid);
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        manager.verify(&forged, TokenType::Access),
        Err(TokenError::AlgorithmMismatch)
    );
}

#[test]
fn expired_token_is_refused_after_the_leeway() {
    let (manager, clock) = hs256();
    let token = manager.issue(&subject()).unwrap().token;
    clock.advance(30 * 60 + 29);
    assert!(
        manager.verify(&token, TokenType::Access).is_ok(),
        "inside the 30 s leeway"
    );
    clock.advance(1);
    assert_eq!(
        manager.verify(&token, TokenType::Access),
        Err(TokenError::Expired)
    );
}

#[test]
fn not_yet_valid_token_is_refused() {
    let (manager, _) = hs256();
    let mut claims = claims(&manager);
    claims.nbf = NOW + 120;
    let token = manager.sign(&claims).unwrap();
    assert_eq!(
        manager.verify(&token, TokenType::Access),
        Err(TokenError::NotYetValid)
    );
    claims.nbf = NOW;
    claims.iat = NOW + 120;
    let token = manager.sign(&claims).unwrap();
    assert_eq!(
        manager.verify(&token, TokenType::Access),
        Err(TokenError::IssuedInFuture)
    );
}

#[test]
fn missing_exp_is_refused() {
    let (manager, _) = hs256();
    let mut value = serde_json::to_value(claims(&manager)).unwrap();
    value.as_object_mut().unwrap().remove("exp");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(manager.keys().current().kid().to_owned());
    let token = jsonwebtoken::encode(&header, &value, &EncodingKey::from_secret(SECRET)).unwrap();
    assert_eq!(
        manager.verify(&token, TokenType::Access),
        Err(TokenError::MissingClaim("exp"))
    );
}

#[test]
fn issuer_and_audience_are_required_when_configured() {
    let mut config = JwtConfig::default();
    config.issuer = Some("https://auth.example".to_owned());
    config.audience = Some("api".to_owned());
    let (manager, _) = manager_with(
        JwtKey::hmac(JwtAlgorithm::HS256, SECRET, None).unwrap(),
        &config,
    );
    let good = claims(&manager);
    assert_eq!(good.iss.as_deref(), Some("https://auth.example"));
    assert_eq!(good.aud, Some(Audience::One("api".to_owned())));

    let mut wrong_iss = good.clone();
    wrong_iss.iss = Some("https://evil.example".to_owned());
    assert_eq!(
        manager.verify(&manager.sign(&wrong_iss).unwrap(), TokenType::Access),
        Err(TokenError::WrongIssuer)
    );
    let mut no_iss = good.clone();
    no_iss.iss = None;
    assert_eq!(
        manager.verify(&manager.sign(&no_iss).unwrap(), TokenType::Access),
        Err(TokenError::WrongIssuer)
    );

    let mut wrong_aud = good.clone();
    wrong_aud.aud = Some(Audience::One("other".to_owned()));
    assert_eq!(
        manager.verify(&manager.sign(&wrong_aud).unwrap(), TokenType::Access),
        Err(TokenError::WrongAudience)
    );
    let mut no_aud = good.clone();
    no_aud.aud = None;
    assert_eq!(
        manager.verify(&manager.sign(&no_aud).unwrap(), TokenType::Access),
        Err(TokenError::WrongAudience)
    );
    let mut many = good;
    many.aud = Some(Audience::Many(vec!["other".to_owned(), "api".to_owned()]));
    assert!(manager
        .verify(&manager.sign(&many).unwrap(), TokenType::Access)
        .is_ok());
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let (manager, _) = hs256();
    let token = manager.issue(&subject()).unwrap().token;
    let unknown = with_header(&token, &serde_json::json!({"alg": "HS256", "kid": "nope"}));
    assert_eq!(
        manager.verify(&unknown, TokenType::Access),
        Err(TokenError::UnknownKeyId)
    );
    let missing = with_header(&token, &serde_json::json!({"alg": "HS256"}));
    assert_eq!(
        manager.verify(&missing, TokenType::Access),
        Err(TokenError::MissingKeyId)
    );
}

#[test]
fn critical_header_extensions_are_refused() {
    let (manager, _) = hs256();
    let kid = manager.keys().current().kid().to_owned();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid);
    header.crit = Some(vec!["b64".to_owned()]);
    let token = jsonwebtoken::encode(
        &header,
        &claims(&manager),
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    assert_eq!(
        manager.verify(&token, TokenType::Access),
        Err(TokenError::UnsupportedCritical)
    );
}

#[test]
fn refresh_typed_token_is_refused_as_access() {
    let (manager, _) = hs256();
    let refresh = manager
        .issue(&subject().with_type(TokenType::Refresh))
        .unwrap()
        .token;
    assert_eq!(
        manager.verify(&refresh, TokenType::Access),
        Err(TokenError::WrongTokenType {
            expected: TokenType::Access,
            found: TokenType::Refresh
        })
    );
    assert!(manager.verify(&refresh, TokenType::Refresh).is_ok());
}

#[test]
fn oversized_and_malformed_tokens_are_refused_before_parsing() {
    let (manager, _) = hs256();
    let huge = "a".repeat(8193);
    assert_eq!(
        manager.verify(&huge, TokenType::Access),
        Err(TokenError::TooLarge { max: 8192 })
    );
    for bad in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.e30.x",
        "e30.e30.",
        "eyJhbGciOiJIUzI1NiJ9",
    ] {
        assert!(
            matches!(
                manager.verify(bad, TokenType::Access),
                Err(TokenError::Malformed | TokenError::MissingKeyId)
            ),
            "{bad:?}"
        );
    }
    // Our own header (recognised without a parse), then a payload split by a fourth segment
    // or holding bytes that are not base64url or not UTF-8: malformed, never a parse.
    let token = manager.issue(&subject()).unwrap().token;
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let (left, right) = payload.split_at(8);
    let not_utf8 = URL_SAFE_NO_PAD.encode(b"{\"sub\":\"\xff\"}");
    for bad in [
        format!("{header}.{left}.{right}.{signature}"),
        format!("{header}.{left}+{right}.{signature}"),
        format!("{header}.{not_utf8}.{signature}"),
    ] {
        assert_eq!(
            manager.verify(&bad, TokenType::Access),
            Err(TokenError::Malformed),
            "{bad:?}"
        );
    }
    // Signatures: up to 1 024 bytes (RSA-8192) are decoded and checked, whether they fit the
    // stack buffer or not; a longer one is malformed before any decoding.
    for (bytes, expected) in [
        (256, TokenError::BadSignature),
        (600, TokenError::BadSignature),
        (1024, TokenError::BadSignature),
        (1025, TokenError::Malformed),
    ] {
        let long = URL_SAFE_NO_PAD.encode(vec![7_u8; bytes]);
        assert_eq!(
            manager.verify(&format!("{header}.{payload}.{long}"), TokenType::Access),
            Err(expected),
            "{bytes} signature bytes"
        );
    }
    // Payloads beyond the stack buffer are decoded on the heap and verified alike.
    let mut big = subject();
    big.roles = (0..60).map(|i| format!("role-number-{i}")).collect();
    let issued = manager.issue(&big).unwrap();
    assert!(issued.token.split('.').nth(1).unwrap().len() > 1024);
    assert_eq!(
        manager.verify(&issued.token, TokenType::Access),
        Ok(issued.claims)
    );
}

#[test]
fn rotated_key_is_accepted_during_grace_and_refused_after() {
    let (manager, clock) = hs256();
    let old = manager.issue(&subject()).unwrap().token;
    let (next, _) = JwtKey::generate(JwtAlgorithm::HS256).unwrap();
    let next_kid = next.kid().to_owned();
    manager.rotate(next).unwrap();

    let new = manager.issue(&subject()).unwrap().token;
    assert_eq!(
        jsonwebtoken::decode_header(&new).unwrap().kid.as_deref(),
        Some(next_kid.as_str())
    );
    assert!(
        manager.verify(&old, TokenType::Access).is_ok(),
        "old key inside grace"
    );

    // Default grace is 3600 s. The retired-key check comes before the expiry check, so past
    // the grace the old token is refused for its key.
    clock.advance(3601);
    assert_eq!(
        manager.verify(&old, TokenType::Access).unwrap_err(),
        TokenError::KeyRetired
    );
    assert!(manager
        .verify(&manager.issue(&subject()).unwrap().token, TokenType::Access)
        .is_ok());
    assert_eq!(clock.now(), NOW + 3601);
}

#[test]
fn configured_previous_keys_are_accepted_until_their_grace_ends() {
    let old = JwtKey::hmac(
        JwtAlgorithm::HS256,
        b"the previous secret, also long enough....",
        None,
    )
    .unwrap();
    let (old_manager, _) = manager_with(old.clone(), &JwtConfig::default());
    let token = old_manager.issue(&subject()).unwrap().token;

    let current = JwtKey::hmac(JwtAlgorithm::HS256, SECRET, None).unwrap();
    let clock = ManualClock::new(NOW);
    let keys = KeySet::new(current)
        .unwrap()
        .with_previous(old.retired(NOW - 3000));
    let manager = TokenManager::new(keys, &JwtConfig::default(), Arc::new(clock.clone()));
    assert!(manager.verify(&token, TokenType::Access).is_ok());
    clock.advance(601);
    assert_eq!(
        manager.verify(&token, TokenType::Access),
        Err(TokenError::KeyRetired)
    );
}

#[test]
fn keys_refuse_weak_or_mismatched_material() {
    assert!(matches!(
        JwtKey::hmac(JwtAlgorithm::HS256, b"short", None),
        Err(TokenError::InvalidKey { .. })
    ));
    assert!(matches!(
        JwtKey::hmac(JwtAlgorithm::HS512, &[7; 40], None),
        Err(TokenError::InvalidKey { .. })
    ));
    assert!(matches!(
        JwtKey::hmac(JwtAlgorithm::RS256, SECRET, None),
        Err(TokenError::InvalidKey { .. })
    ));
    let (_, ed_pem) = JwtKey::generate(JwtAlgorithm::EdDSA).unwrap();
    let ed_pem = secrecy::ExposeSecret::expose_secret(&ed_pem).to_owned();
    assert!(matches!(
        JwtKey::from_private_pem(JwtAlgorithm::ES256, &ed_pem, None),
        Err(TokenError::InvalidKey { .. })
    ));
    assert!(matches!(
        JwtKey::from_private_pem(JwtAlgorithm::EdDSA, "not a pem", None),
        Err(TokenError::InvalidKey { .. })
    ));
    // Debug output never shows key material.
    let key = JwtKey::from_private_pem(JwtAlgorithm::EdDSA, &ed_pem, None).unwrap();
    assert!(!format!("{key:?}").contains("PRIVATE"));
}

/// The verification cache answers a token presented again, but never past what a full check
/// would refuse: expiry, a retired key's grace, the expected type, or other bytes.
#[test]
fn the_verification_cache_never_outlives_a_check() {
    let mut config = JwtConfig::default();
    config.key_rotation_grace_period_seconds = 60;
    let (manager, clock) = hs256_with(&config);
    let token = manager.issue(&subject()).unwrap().token;
    let first = manager.verify_shared(&token, TokenType::Access).unwrap();
    let again = manager.verify_shared(&token, TokenType::Access).unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "the second answer comes from the cache"
    );

    // Another expected type is refused, cached or not.
    assert_eq!(
        manager.verify(&token, TokenType::Refresh).unwrap_err(),
        TokenError::WrongTokenType {
            expected: TokenType::Refresh,
            found: TokenType::Access
        }
    );
    // A byte changed is another token: checked in full.
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    sig[3] ^= 1;
    let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(
        manager.verify(&tampered, TokenType::Access).unwrap_err(),
        TokenError::BadSignature
    );

    // Rotation: the old key's tokens stay valid for its 60 s of grace, then are refused even
    // though they were cached and have not expired.
    manager
        .rotate(JwtKey::generate(JwtAlgorithm::HS256).unwrap().0)
        .unwrap();
    assert!(manager.verify_shared(&token, TokenType::Access).is_ok());
    assert!(manager.verify_shared(&token, TokenType::Access).is_ok());
    clock.advance(60);
    assert!(
        manager.verify(&token, TokenType::Access).is_ok(),
        "last second of grace"
    );
    clock.advance(1);
    assert_eq!(
        manager.verify(&token, TokenType::Access).unwrap_err(),
        TokenError::KeyRetired
    );

    // Expiry: a cached token expires on time (30 min plus the 30 s leeway).
    let fresh = manager.issue(&subject()).unwrap().token;
    assert!(manager.verify_shared(&fresh, TokenType::Access).is_ok());
    clock.advance(30 * 60 + 29);
    assert!(manager.verify_shared(&fresh, TokenType::Access).is_ok());
    clock.advance(1);
    assert_eq!(
        manager.verify(&fresh, TokenType::Access).unwrap_err(),
        TokenError::Expired
    );
}

/// A clock that rotates the manager's key at one chosen reading: the reading a verification
/// takes after it has loaded the key set, so the rotation lands in the middle of it.
#[derive(Debug)]
struct RotatingClock {
    now: ManualClock,
    /// Readings left until the rotation; it happens when this reaches zero.
    countdown: std::sync::atomic::AtomicI64,
    manager: std::sync::OnceLock<TokenManager>,
    next: std::sync::Mutex<Option<JwtKey>>,
}

impl Clock for RotatingClock {
    fn now(&self) -> i64 {
        use std::sync::atomic::Ordering;
        if self.countdown.fetch_sub(1, Ordering::SeqCst) == 1 {
            let next = self.next.lock().unwrap().take();
            if let (Some(manager), Some(next)) = (self.manager.get(), next) {
                manager.rotate(next).unwrap();
            }
        }
        self.now.now()
    }
}

/// A verification that loaded the old key set and finished after a rotation emptied the
/// cache must not leave an entry that outlives the old key's grace.
#[test]
fn a_rotation_during_a_verification_leaves_no_entry_past_the_grace() {
    let mut config = JwtConfig::default();
    config.key_rotation_grace_period_seconds = 10;
    let clock = Arc::new(RotatingClock {
        now: ManualClock::new(NOW),
        countdown: std::sync::atomic::AtomicI64::new(i64::MAX),
        manager: std::sync::OnceLock::new(),
        next: std::sync::Mutex::new(Some(JwtKey::generate(JwtAlgorithm::HS256).unwrap().0)),
    });
    let key = JwtKey::hmac(JwtAlgorithm::HS256, SECRET, None).unwrap();
    let manager = TokenManager::new(KeySet::new(key).unwrap(), &config, clock.clone());
    clock.manager.set(manager.clone()).unwrap();
    let token = manager.issue(&subject()).unwrap().token;

    // The cache lookup reads the clock once, the full check once more after loading the
    // keys: the rotation happens at that second reading.
    clock
        .countdown
        .store(2, std::sync::atomic::Ordering::SeqCst);
    assert!(manager.verify_shared(&token, TokenType::Access).is_ok());
    assert_eq!(
        manager.keys().kids().len(),
        2,
        "the key was rotated during the verification"
    );
    clock.now.advance(11);
    assert_eq!(
        manager.verify(&token, TokenType::Access).unwrap_err(),
        TokenError::KeyRetired,
        "past the grace, cache or not"
    );
}

#[test]
fn the_verification_cache_can_be_turned_off() {
    let mut config = JwtConfig::default();
    config.verify_cache_entries = 0;
    let (manager, clock) = hs256_with(&config);
    let token = manager.issue(&subject()).unwrap().token;
    let first = manager.verify_shared(&token, TokenType::Access).unwrap();
    let again = manager.verify_shared(&token, TokenType::Access).unwrap();
    assert!(!Arc::ptr_eq(&first, &again), "verified twice");
    assert_eq!(first, again);
    clock.advance(30 * 60 + 30);
    assert_eq!(
        manager.verify(&token, TokenType::Access).unwrap_err(),
        TokenError::Expired
    );
}
