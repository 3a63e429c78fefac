//! Password hashing: policy, rehash detection, capped parameters, dummy verification.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_core::config::PasswordConfig;
use auth_core::password::{PasswordError, PasswordHasher, Verification};

fn cheap() -> PasswordConfig {
    let mut config = PasswordConfig::default();
    config.memory_kib = 1024;
    config.iterations = 1;
    config
}

#[tokio::test]
async fn hashes_verify_and_wrong_passwords_fail() {
    let hasher = PasswordHasher::new(&cheap()).unwrap();
    let hash = hasher.hash("correct horse").await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
    assert_ne!(hash, hasher.hash("correct horse").await.unwrap(), "salted");
    assert_eq!(
        hasher.verify("correct horse", &hash).await.unwrap(),
        Verification::Valid {
            needs_rehash: false
        }
    );
    assert_eq!(
        hasher.verify("correct horsE", &hash).await.unwrap(),
        Verification::Invalid
    );
}

#[tokio::test]
async fn outdated_hashes_ask_for_a_rehash() {
    let old = PasswordHasher::new(&cheap()).unwrap();
    let hash = old.hash("correct horse").await.unwrap();
    let mut stronger = cheap();
    stronger.iterations = 2;
    let new = PasswordHasher::new(&stronger).unwrap();
    assert_eq!(
        new.verify("correct horse", &hash).await.unwrap(),
        Verification::Valid { needs_rehash: true }
    );
    assert_eq!(
        new.verify("wrong password", &hash).await.unwrap(),
        Verification::Invalid
    );
}

#[tokio::test]
async fn planted_expensive_hash_is_refused_without_computing_it() {
    let hasher = PasswordHasher::new(&cheap()).unwrap();
    // Asks for 4 GiB of memory: must be refused, not attempted.
    let planted = "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";
    // Computing it would answer `Invalid`; the cap answers before any hashing.
    assert_eq!(
        hasher.verify("anything", planted).await,
        Err(PasswordError::ParamsTooExpensive)
    );
    let lanes = "$argon2id$v=19$m=1024,t=1,p=64$c29tZXNhbHRzb21lc2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";
    assert_eq!(
        hasher.verify("anything", lanes).await,
        Err(PasswordError::ParamsTooExpensive)
    );
    assert_eq!(
        hasher.verify("anything", "$2b$12$notargon").await,
        Err(PasswordError::UnsupportedHash)
    );
}

#[tokio::test]
async fn policy_is_checked_before_hashing() {
    let hasher = PasswordHasher::new(&cheap()).unwrap();
    assert_eq!(
        hasher.hash("short").await,
        Err(PasswordError::TooShort { min: 8 })
    );
    let long = "x".repeat(129);
    assert_eq!(
        hasher.hash(&long).await,
        Err(PasswordError::TooLong { max: 128 })
    );
    let hash = hasher.hash("correct horse").await.unwrap();
    assert_eq!(
        hasher.verify(&long, &hash).await,
        Err(PasswordError::TooLong { max: 128 })
    );
    // 128 four-byte characters are allowed; counting is in characters, not bytes.
    assert!(hasher.check_policy(&"🦀".repeat(128)).is_ok());
}

#[tokio::test]
async fn dummy_verification_always_fails() {
    let hasher = PasswordHasher::new(&cheap()).unwrap();
    assert_eq!(
        hasher.verify_dummy("whatever").await.unwrap(),
        Verification::Invalid
    );
    assert_eq!(
        hasher.verify_dummy("whatever").await.unwrap(),
        Verification::Invalid
    );
}
