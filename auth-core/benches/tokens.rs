//! Access tokens, side by side in one run, for HS256, EdDSA, ES256 and RS256:
//!
//! - verify: the physical floor (the signature decoded and checked over the signing input with
//!   an aws-lc-rs key parsed beforehand), jsonwebtoken 10's `decode` with a pre-built
//!   `DecodingKey` (what a hand-written axum middleware would call), and ours
//!   (`TokenManager::verify`: size and shape limits, header checks, key lookup by `kid`,
//!   signature, every claim check of the foundation issue) with the verification cache off,
//!   and the same token answered from the cache (`ours_verify_cached`);
//! - sign: the raw aws-lc-rs signature over the signing input, jsonwebtoken's `encode` with a
//!   pre-built `EncodingKey`, and ours (`TokenManager::sign`: claims serialized, base64url,
//!   signature);
//! - our cheap rejections (malformed, oversized, unknown kid, bad signature, expired).
//!
//! `cargo bench -p auth-core --bench tokens`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::large_enum_variant,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::Arc;

use auth_core::config::{JwtAlgorithm, JwtConfig};
use auth_core::token::{Claims, JwtKey, KeySet, TokenManager, TokenSubject, TokenType};
use auth_core::ManualClock;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret as _;

const SECRET: &[u8] = b"a benchmark hs256 secret, long enough for the key!";
/// 2027-01-15: later than the machine's clock, so jsonwebtoken (real time) sees it unexpired.
const NOW: i64 = 1_800_000_000;

/// The raw aws-lc-rs primitives for one key, parsed once.
enum Raw {
    Hmac(aws_lc_rs::hmac::Key),
    Ed25519(signature::Ed25519KeyPair, ParsedPublicKey),
    Ecdsa(signature::EcdsaKeyPair, ParsedPublicKey),
    Rsa(aws_lc_rs::rsa::KeyPair, ParsedPublicKey),
}

impl Raw {
    fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Hmac(key) => aws_lc_rs::hmac::sign(key, message).as_ref().to_vec(),
            Self::Ed25519(pair, _) => pair.sign(message).as_ref().to_vec(),
            Self::Ecdsa(pair, _) => pair.sign(rng, message).unwrap().as_ref().to_vec(),
            Self::Rsa(pair, _) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, rng, message, &mut signature)
                    .unwrap();
                signature
            }
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hmac(key) => aws_lc_rs::hmac::verify(key, message, signature).is_ok(),
            Self::Ed25519(_, public) | Self::Ecdsa(_, public) | Self::Rsa(_, public) => {
                public.verify_sig(message, signature).is_ok()
            }
        }
    }
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// Our key, the raw primitives and jsonwebtoken's keys, all for the same key material.
fn keys(alg: JwtAlgorithm) -> (JwtKey, Raw, EncodingKey, DecodingKey, Algorithm) {
    if alg == JwtAlgorithm::HS256 {
        return (
            JwtKey::hmac(alg, SECRET, None).unwrap(),
            Raw::Hmac(aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                SECRET,
            )),
            EncodingKey::from_secret(SECRET),
            DecodingKey::from_secret(SECRET),
            Algorithm::HS256,
        );
    }
    let (key, pem) = JwtKey::generate(alg).unwrap();
    let pem = pem.expose_secret();
    let der = pem_der(pem);
    match alg {
        JwtAlgorithm::EdDSA => {
            let pair = signature::Ed25519KeyPair::from_pkcs8(&der).unwrap();
            let public = pair.public_key().as_ref().to_vec();
            let parsed = ParsedPublicKey::new(&signature::ED25519, &public).unwrap();
            (
                key,
                Raw::Ed25519(pair, parsed),
                EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
                DecodingKey::from_ed_der(&public),
                Algorithm::EdDSA,
            )
        }
        JwtAlgorithm::ES256 => {
            let pair = signature::EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
            )
            .unwrap();
            let public = pair.public_key().as_ref().to_vec();
            let parsed =
                ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &public).unwrap();
            (
                key,
                Raw::Ecdsa(pair, parsed),
                EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
                DecodingKey::from_ec_der(&public),
                Algorithm::ES256,
            )
        }
        _ => {
            let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).unwrap();
            let public = pair.public_key().as_ref().to_vec();
            let parsed =
                ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &public).unwrap();
            (
                key,
                Raw::Rsa(pair, parsed),
                EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
                DecodingKey::from_rsa_der(&public),
                Algorithm::RS256,
            )
        }
    }
}

/// A typical access token's subject: session, roles, permissions, tenant, amr.
fn subject() -> TokenSubject {
    let mut subject = TokenSubject::access("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d10")
        .with_session("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d11")
        .with_roles(["editor", "viewer"])
        .with_permissions(["articles.write"])
        .with_tenant("acme");
    subject.amr = vec!["pwd".to_owned()];
    subject
}

fn bench_algorithm(c: &mut Criterion, alg: JwtAlgorithm) {
    let name = alg.as_str().to_ascii_lowercase();
    let clock = ManualClock::new(NOW);
    let (key, raw, encoding, decoding, jwt_alg) = keys(alg);
    // The lean path itself: the verification cache is off, every call does all the work.
    let mut uncached = JwtConfig::default();
    uncached.verify_cache_entries = 0;
    let manager = TokenManager::new(
        KeySet::new(key.clone()).unwrap(),
        &uncached,
        Arc::new(clock.clone()),
    );
    let cached = TokenManager::new(
        KeySet::new(key).unwrap(),
        &JwtConfig::default(),
        Arc::new(clock.clone()),
    );
    let issued = manager.issue(&subject()).unwrap();
    let token = issued.token;
    let claims = issued.claims;
    let (signing_input, signature_b64) = token.rsplit_once('.').unwrap();
    let rng = SystemRandom::new();

    let mut validation = Validation::new(jwt_alg);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    assert!(jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).is_ok());
    assert!(manager.verify(&token, TokenType::Access).is_ok());
    let mut header = Header::new(jwt_alg);
    header.kid = Some(manager.keys().current().kid().to_owned());
    header.typ = Some("at+jwt".to_owned());
    // Tokens signed by jsonwebtoken verify with ours: same format, same cryptography.
    let theirs = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
    assert!(manager.verify(&theirs, TokenType::Access).is_ok());

    let mut group = c.benchmark_group(format!("verify_{name}"));
    group.bench_function("raw_floor", |b| {
        b.iter(|| {
            let signature = URL_SAFE_NO_PAD.decode(black_box(signature_b64)).unwrap();
            raw.verify(black_box(signing_input).as_bytes(), &signature)
        });
    });
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<Claims>(black_box(&token), &decoding, &validation).is_ok()
        });
    });
    group.bench_function("ours_verify", |b| {
        b.iter(|| manager.verify(black_box(&token), TokenType::Access).is_ok());
    });
    // The same token again, as a client sends it on every request: from the cache.
    group.bench_function("ours_verify_cached", |b| {
        b.iter(|| {
            cached
                .verify_shared(black_box(&token), TokenType::Access)
                .is_ok()
        });
    });
    group.finish();

    let mut group = c.benchmark_group(format!("sign_{name}"));
    group.bench_function("raw_sign", |b| {
        b.iter(|| raw.sign(&rng, black_box(signing_input).as_bytes()));
    });
    group.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| jsonwebtoken::encode(&header, black_box(&claims), &encoding).unwrap());
    });
    group.bench_function("ours_sign", |b| {
        b.iter(|| manager.sign(black_box(&claims)).unwrap());
    });
    group.finish();

    let mut group = c.benchmark_group(format!("reject_{name}"));
    let oversized = "a".repeat(9_000);
    // One bit flipped inside the signature (not its last character, whose spare bits would
    // make the base64 non-canonical and the token merely malformed).
    let (head, signature) = token.rsplit_once('.').unwrap();
    let mut signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    signature[0] ^= 1;
    let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&signature));
    assert_eq!(
        manager.verify(&tampered, TokenType::Access),
        Err(auth_core::TokenError::BadSignature)
    );
    let unknown_kid = {
        let mut header = header.clone();
        header.kid = Some("not-a-key".to_owned());
        jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
    };
    group.bench_function("malformed", |b| {
        b.iter(|| {
            manager
                .verify(black_box("not.a-token"), TokenType::Access)
                .is_err()
        });
    });
    group.bench_function("oversized", |b| {
        b.iter(|| {
            manager
                .verify(black_box(&oversized), TokenType::Access)
                .is_err()
        });
    });
    group.bench_function("unknown_kid", |b| {
        b.iter(|| {
            manager
                .verify(black_box(&unknown_kid), TokenType::Access)
                .is_err()
        });
    });
    group.bench_function("bad_signature", |b| {
        b.iter(|| {
            manager
                .verify(black_box(&tampered), TokenType::Access)
                .is_err()
        });
    });
    clock.advance(7_200);
    assert!(manager.verify(&token, TokenType::Access).is_err());
    group.bench_function("expired", |b| {
        b.iter(|| {
            manager
                .verify(black_box(&token), TokenType::Access)
                .is_err()
        });
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    for alg in [
        JwtAlgorithm::HS256,
        JwtAlgorithm::EdDSA,
        JwtAlgorithm::ES256,
        JwtAlgorithm::RS256,
    ] {
        bench_algorithm(c, alg);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
