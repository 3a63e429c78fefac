//! The password policy's costs, side by side in one run:
//!
//! - the breached-list look-up (`password::breached::contains`, bisection over the shipped
//!   sorted list) for a listed password, an unlisted one and an unlisted one with capitals
//!   (two searches), against a `HashSet<&str>` of the same 100,000 entries built beforehand
//!   (what the bisection saves: the set costs start-up time and several megabytes);
//! - the whole policy check (`PasswordPolicy::check`: NFKC, length, zxcvbn with the account's
//!   identifiers, the list, the identifiers) on a typical passphrase, a common password and a
//!   128-character one, and zxcvbn alone on the passphrase.
//!
//! `cargo bench -p auth-core --bench passwords -- --warm-up-time 1 --measurement-time 2`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::collections::HashSet;
use std::hint::black_box;

use auth_core::config::PasswordConfig;
use auth_core::password::breached;
use auth_core::password::policy::{PasswordPolicy, PolicyInputs};
use criterion::{criterion_group, criterion_main, Criterion};

static LIST: &str = include_str!("../src/password/data/common-passwords.txt");

fn bench(c: &mut Criterion) {
    let set: HashSet<&str> = LIST.lines().collect();
    let mut group = c.benchmark_group("breached");
    for (name, password) in [
        ("listed", "trustno1"),
        ("unlisted", "violet lantern orchestra"),
        ("unlisted_capitals", "Violet Lantern Orchestra"),
    ] {
        group.bench_function(format!("bisection_{name}"), |b| {
            b.iter(|| breached::contains(black_box(password)));
        });
        group.bench_function(format!("hashset_{name}"), |b| {
            b.iter(|| {
                let password = black_box(password);
                set.contains(password) || set.contains(password.to_lowercase().as_str())
            });
        });
    }
    group.finish();

    let policy = PasswordPolicy::from_config(&PasswordConfig::default());
    let inputs = PolicyInputs::new("grace", "grace.hopper@example.com");
    let mut group = c.benchmark_group("policy");
    let long = "violet lantern orchestra ".repeat(6);
    for (name, password) in [
        ("passphrase", "violet lantern orchestra"),
        ("common", "password1"),
        ("128_chars", &long[..128]),
    ] {
        group.bench_function(format!("check_{name}"), |b| {
            b.iter(|| policy.check(black_box(password), &inputs));
        });
    }
    group.bench_function("zxcvbn_passphrase", |b| {
        b.iter(|| {
            zxcvbn::zxcvbn(
                black_box("violet lantern orchestra"),
                &["grace", "grace.hopper@example.com", "grace.hopper"],
            )
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
