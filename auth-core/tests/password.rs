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
    // Characters after NFKC, as the policy counts them: 100 letters sent with combining
    // accents (200 code points) fit, so whoever set that password can log in with it; four
    // ligatures are eight characters.
    let accented = "e\u{301}".repeat(100);
    let hash = hasher.hash(&accented).await.unwrap();
    assert_eq!(
        hasher.verify(&accented, &hash).await,
        Ok(Verification::Valid {
            needs_rehash: false
        })
    );
    assert!(hasher.check_policy(&"\u{fb01}".repeat(4)).is_ok());
    assert_eq!(
        hasher.check_policy(&"\u{fb01}".repeat(65)),
        Err(PasswordError::TooLong { max: 128 })
    );
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

/// Hashing runs Argon2 on reused memory and builds the PHC string itself: the argon2 crate's
/// own hasher and verifier must agree with it both ways, for every variant a stored hash may
/// use, and many verifications in a row (reusing buffers) must not change the answers.
/// A login costs one verification whatever the account: no account, no password, a stored
/// hash that is not Argon2 or asks for too much, or a wrong password. None of them may answer
/// at once, or the time would tell those accounts apart.
#[tokio::test]
async fn every_kind_of_account_costs_one_verification_at_login() {
    let hasher = PasswordHasher::new(&cheap()).unwrap();
    let hash = hasher.hash("correct horse").await.unwrap();
    hasher.verify_dummy("warm up").await.unwrap();
    let planted = "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";
    for stored in [
        None,
        Some("not a hash at all"),
        Some("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"),
        Some(planted),
        Some(hash.as_str()),
    ] {
        let before = hasher.stats().computed;
        assert_eq!(
            hasher.verify_login("wrong horse", stored).await.unwrap(),
            Verification::Invalid,
            "{stored:?}"
        );
        assert_eq!(
            hasher.stats().computed,
            before + 1,
            "one verification for {stored:?}"
        );
    }
    assert_eq!(
        hasher
            .verify_login("correct horse", Some(&hash))
            .await
            .unwrap(),
        Verification::Valid {
            needs_rehash: false
        }
    );
    assert_eq!(
        hasher.verify_login(&"x".repeat(200), None).await,
        Err(PasswordError::TooLong { max: 128 }),
        "over-long input is refused before any work, account or not"
    );
}

#[tokio::test]
async fn hashes_interoperate_with_the_argon2_crate() {
    use argon2::password_hash::{rand_core::OsRng, SaltString};
    use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _};

    let hasher = PasswordHasher::new(&cheap()).unwrap();
    let ours = hasher.hash("correct horse").await.unwrap();
    let parsed = PasswordHash::new(&ours).unwrap();
    assert!(argon2::Argon2::default()
        .verify_password(b"correct horse", &parsed)
        .is_ok());
    assert!(argon2::Argon2::default()
        .verify_password(b"correct horsE", &parsed)
        .is_err());

    for (algorithm, version, m_cost) in [
        (argon2::Algorithm::Argon2id, argon2::Version::V0x13, 1024),
        (argon2::Algorithm::Argon2id, argon2::Version::V0x13, 2048),
        (argon2::Algorithm::Argon2i, argon2::Version::V0x13, 1024),
        (argon2::Algorithm::Argon2d, argon2::Version::V0x10, 1024),
    ] {
        let params = argon2::Params::new(m_cost, 1, 1, None).unwrap();
        let theirs = argon2::Argon2::new(algorithm, version, params)
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let standard = algorithm == argon2::Algorithm::Argon2id
            && version == argon2::Version::V0x13
            && m_cost == 1024;
        for _ in 0..3 {
            assert_eq!(
                hasher.verify("correct horse", &theirs).await.unwrap(),
                Verification::Valid {
                    needs_rehash: !standard
                },
                "{theirs}"
            );
            assert_eq!(
                hasher.verify("correct horsE", &theirs).await.unwrap(),
                Verification::Invalid,
                "{theirs}"
            );
        }
    }
}

/// Hashing runs on threads of its own at the configured nice value, so a login storm leaves
/// the CPU to cheap requests first.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn hashing_threads_run_at_a_lower_priority() {
    let mut config = cheap();
    config.max_concurrent_hashes = Some(2);
    config.hash_thread_nice = 7;
    let hasher = PasswordHasher::new(&config).unwrap();
    hasher.hash("correct horse").await.unwrap();
    let nice_values: Vec<i64> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| {
            let path = task.unwrap().path();
            let name = std::fs::read_to_string(path.join("comm")).unwrap();
            // Field 19 of stat is the nice value; the name (field 2) may hold spaces.
            name.starts_with("auth-hash-").then(|| {
                let stat = std::fs::read_to_string(path.join("stat")).unwrap();
                let after_name = stat.rsplit_once(')').unwrap().1;
                after_name
                    .split_whitespace()
                    .nth(16)
                    .unwrap()
                    .parse()
                    .unwrap()
            })
        })
        .collect();
    // Other tests of this binary run hashers of their own (default nice 10) at the same time.
    assert!(
        nice_values.iter().filter(|n| **n == 7).count() >= 2,
        "{nice_values:?}"
    );
    assert!(
        nice_values.iter().all(|n| *n == 7 || *n == 10),
        "{nice_values:?}"
    );
}
