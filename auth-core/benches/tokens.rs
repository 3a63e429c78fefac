//! Access-token verification, side by side in one run: the physical floor (one HMAC-SHA256
//! over the signing input with a pre-built aws-lc-rs key), jsonwebtoken 10's `decode` with a
//! pre-built key (what a hand-written axum middleware would call), and ours
//! (`TokenManager::verify`: size and shape limits, header checks, key lookup by `kid`,
//! signature, every claim check of the foundation issue), plus our cheap rejections.
//!
//! `cargo bench -p auth-core --bench tokens`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::Arc;

use auth_core::config::{JwtAlgorithm, JwtConfig};
use auth_core::token::{Claims, JwtKey, KeySet, TokenManager, TokenSubject, TokenType};
use auth_core::ManualClock;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};

const SECRET: &[u8] = b"a benchmark hs256 secret, long enough for the key!";
/// 2027-01-15: later than the machine's clock, so jsonwebtoken (real time) sees it unexpired.
const NOW: i64 = 1_800_000_000;

fn bench(c: &mut Criterion) {
    let clock = ManualClock::new(NOW);
    let manager = TokenManager::new(
        KeySet::new(JwtKey::hmac(JwtAlgorithm::HS256, SECRET, None).unwrap()).unwrap(),
        &JwtConfig::default(),
        Arc::new(clock.clone()),
    );
    // A typical access token: session, roles, permissions, tenant.
    let mut subject = TokenSubject::access("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d10")
        .with_session("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d11")
        .with_roles(["editor", "viewer"])
        .with_permissions(["articles.write"])
        .with_tenant("acme");
    subject.amr = vec!["pwd".to_owned()];
    let token = manager.issue(&subject).unwrap().token;
    let (signing_input, signature) = token.rsplit_once('.').unwrap();

    let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
    let jwt_key = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    assert!(jsonwebtoken::decode::<Claims>(&token, &jwt_key, &validation).is_ok());
    assert!(manager.verify(&token, TokenType::Access).is_ok());

    let mut group = c.benchmark_group("verify_hs256");
    group.bench_function("raw_hmac_floor", |b| {
        b.iter(|| {
            let tag = URL_SAFE_NO_PAD.decode(black_box(signature)).unwrap();
            aws_lc_rs::hmac::verify(&hmac_key, black_box(signing_input).as_bytes(), &tag).is_ok()
        });
    });
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| jsonwebtoken::decode::<Claims>(black_box(&token), &jwt_key, &validation).is_ok());
    });
    group.bench_function("ours_verify", |b| {
        b.iter(|| manager.verify(black_box(&token), TokenType::Access).is_ok());
    });
    group.finish();

    let mut group = c.benchmark_group("reject_hs256");
    let oversized = "a".repeat(9_000);
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
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
    group.bench_function("bad_signature", |b| {
        b.iter(|| {
            manager
                .verify(black_box(&tampered), TokenType::Access)
                .is_err()
        });
    });
    clock.advance(7_200);
    group.bench_function("expired", |b| {
        b.iter(|| {
            manager
                .verify(black_box(&token), TokenType::Access)
                .is_err()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
