//! TOTP verification (RFC 6238, 6 digits, 30-second steps, one step of skew), side by side in
//! one run:
//!
//! - the HMAC-SHA1 computations the check needs, done with aws-lc-rs (two for the current code,
//!   since the window is tried from its oldest step; three for a wrong code): not a floor on
//!   this machine, RustCrypto's SHA-1 (SHA-NI) under totp-rs is faster;
//! - totp-rs's own `check` on an authenticator built beforehand;
//! - ours: `Totp::verify` (input normalization, the check, replay protection), on an
//!   authenticator built beforehand and built from the secret's bytes for the request, as a
//!   login does after decrypting the stored secret;
//! - a malformed code, refused before any HMAC.
//!
//! `cargo bench -p auth-core --bench totp`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::hint::black_box;

use auth_core::mfa::{Totp, TotpSecret, TotpSettings};
use aws_lc_rs::hmac;
use criterion::{criterion_group, criterion_main, Criterion};

const SECRET: &[u8] = b"a 20-byte totp key!!";
const NOW: i64 = 1_800_000_000;

/// `count` HMAC-SHA1s over consecutive step counters, the key built from the bytes each time
/// (each account has its own secret).
fn raw_hmacs(secret: &[u8], first_step: u64, count: u64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mut folded = 0;
    for step in first_step..first_step + count {
        let tag = hmac::sign(&key, &step.to_be_bytes());
        folded ^= u32::from(tag.as_ref()[19]);
    }
    folded
}

fn bench(c: &mut Criterion) {
    let settings = TotpSettings::new("Bench");
    let ours = Totp::new(
        &settings,
        TotpSecret::from_bytes(SECRET).unwrap(),
        "ada@example.com",
    )
    .unwrap();
    let theirs = totp_rs::Builder::new()
        .with_secret(SECRET)
        .with_account_name("ada@example.com")
        .build()
        .unwrap();
    let now = u64::try_from(NOW).unwrap();
    let step = ours.step_at(NOW);
    let code = ours.code_at(NOW);
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    assert_eq!(theirs.check(&code, now), Some(step));
    assert!(ours.verify(&wrong, NOW, None).is_err());

    let mut group = c.benchmark_group("totp_verify");
    group.bench_function("aws_lc_rs_hmacs", |b| {
        b.iter(|| raw_hmacs(black_box(SECRET), step - 1, 2));
    });
    group.bench_function("totp_rs", |b| {
        b.iter(|| theirs.check(black_box(&code), black_box(now)));
    });
    group.bench_function("ours", |b| {
        b.iter(|| ours.verify(black_box(&code), black_box(NOW), Some(step - 5)));
    });
    group.bench_function("ours_with_build", |b| {
        b.iter(|| {
            let secret = TotpSecret::from_bytes(black_box(SECRET)).unwrap();
            let totp = Totp::new(&settings, secret, "ada@example.com").unwrap();
            totp.verify(black_box(&code), black_box(NOW), Some(step - 5))
        });
    });
    group.bench_function("aws_lc_rs_hmacs_wrong", |b| {
        b.iter(|| raw_hmacs(black_box(SECRET), step - 1, 3));
    });
    group.bench_function("totp_rs_wrong", |b| {
        b.iter(|| theirs.check(black_box(&wrong), black_box(now)));
    });
    group.bench_function("ours_wrong", |b| {
        b.iter(|| ours.verify(black_box(&wrong), black_box(NOW), None));
    });
    group.bench_function("ours_malformed", |b| {
        b.iter(|| ours.verify(black_box("12345x"), black_box(NOW), None));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
