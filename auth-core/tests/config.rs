//! Configuration loading and validation; key setup from configuration.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
#![allow(
    clippy::result_large_err,
    reason = "figment::Jail closures return figment::Error"
)]

use auth_core::config::{AuthConfig, ConfigError, Environment, JwtAlgorithm};
use auth_core::token::setup::{load_keys, KeySetupError, KeySource};
use figment::Jail;
use secrecy::SecretString;

const STRONG: &str = "k5Qf0yXo3t8mVq1Zr7Lw2Hs9Jd4Ne6Pb";

#[test]
fn defaults_follow_the_seed() {
    let config = AuthConfig::default();
    assert_eq!(config.env, None, "AUTH__ENV is unset by default");
    assert_eq!(config.jwt.algorithm, JwtAlgorithm::HS256);
    assert_eq!(config.jwt.access_token_expire_minutes, 30);
    assert_eq!(config.jwt.refresh_token_expire_days, 7);
    assert_eq!(config.jwt.key_rotation_grace_period_seconds, 3600);
    assert_eq!(
        (config.password.min_length, config.password.max_length),
        (8, 128)
    );
    assert_eq!(
        (
            config.password.memory_kib,
            config.password.iterations,
            config.password.parallelism
        ),
        (19_456, 2, 1)
    );
    assert_eq!(config.server.bind, "127.0.0.1:8080");
    let lifetimes = config.lifetimes();
    assert_eq!(lifetimes.access_token.as_secs(), 30 * 60);
    assert_eq!(lifetimes.refresh_token.as_secs(), 7 * 86_400);
    assert_eq!(lifetimes.refresh_family.as_secs(), 30 * 86_400);
    assert_eq!(lifetimes.cookie_idle.as_secs(), 60 * 60);
    assert_eq!(config.database.url, "sqlite://auth.db");
    config.validate().unwrap();
}

#[test]
fn environment_overrides_file_overrides_defaults() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "auth.toml",
            "[jwt]\nissuer = \"from-file\"\naccess_token_expire_minutes = 5\n",
        )?;
        jail.set_env("AUTH__JWT__ISSUER", "from-env");
        jail.set_env("AUTH__JWT__AUDIENCE", "api");
        jail.set_env("AUTH__JWT__SECRET_KEY", STRONG);
        jail.set_env("AUTH__SERVER__BIND", "127.0.0.1:9999");
        jail.set_env("AUTH__DATABASE__URL", "postgres://u@localhost/db");
        jail.set_env("AUTH__JWT__ALGORITHM", "HS384");
        jail.set_env("AUTH__JWT__SECRET_KEY", format!("{STRONG}{STRONG}"));
        let config = AuthConfig::load().expect("valid");
        assert_eq!(config.jwt.issuer.as_deref(), Some("from-env"));
        assert_eq!(config.jwt.audience.as_deref(), Some("api"));
        assert_eq!(config.jwt.access_token_expire_minutes, 5);
        assert_eq!(config.jwt.algorithm, JwtAlgorithm::HS384);
        assert_eq!(config.server.bind, "127.0.0.1:9999");
        assert_eq!(config.database.url, "postgres://u@localhost/db");
        Ok(())
    });
}

#[test]
fn yaml_file_is_read() {
    Jail::expect_with(|jail| {
        jail.create_file("auth.yaml", "jwt:\n  access_token_expire_minutes: 12\n")?;
        assert_eq!(
            AuthConfig::load()
                .expect("valid")
                .jwt
                .access_token_expire_minutes,
            12
        );
        Ok(())
    });
}

#[test]
fn weak_secrets_are_refused_naming_the_variable() {
    for weak in [
        "change-me",
        "secret",
        "your-secret-key",
        "short-but-random-Xy7",
        &"a".repeat(40),
    ] {
        Jail::expect_with(|jail| {
            jail.set_env("AUTH__JWT__SECRET_KEY", weak);
            let err = AuthConfig::load().expect_err("weak secret accepted");
            assert!(
                matches!(
                    err,
                    ConfigError::WeakSecret {
                        var: "AUTH__JWT__SECRET_KEY",
                        ..
                    }
                ),
                "{weak}: {err}"
            );
            assert!(err.to_string().contains("AUTH__JWT__SECRET_KEY"));
            Ok(())
        });
    }
    Jail::expect_with(|jail| {
        jail.set_env(
            "AUTH__JWT__REFRESH_TOKEN_SECRET",
            "changeme-changeme-changeme-changeme",
        );
        let err = AuthConfig::load().expect_err("weak refresh secret accepted");
        assert!(
            err.to_string().contains("AUTH__JWT__REFRESH_TOKEN_SECRET"),
            "{err}"
        );
        Ok(())
    });
}

/// Secrets long enough but made of a pattern are refused with an estimate, and the message
/// gives the kind of pattern, never the secret.
#[test]
fn guessable_secrets_are_refused_with_an_estimate() {
    for (weak, pattern) in [
        ("passwordpasswordpasswordpassword", "repetition"),
        // The example key of the token module's documentation.
        ("0123456789abcdef0123456789abcdef", "repetition"),
        ("abcdefghijklmnopqrstuvwxyzabcdef", "a sequence"),
        ("qwertyuiopasdfghjklzxcvbnmqwerty", "words"),
        ("1234567890123456789012345678901234567890", ""),
    ] {
        Jail::expect_with(|jail| {
            jail.set_env("AUTH__JWT__REFRESH_TOKEN_SECRET", weak);
            let err = AuthConfig::load().expect_err("guessable secret accepted");
            let message = err.to_string();
            assert!(
                matches!(
                    err,
                    ConfigError::WeakSecret {
                        var: "AUTH__JWT__REFRESH_TOKEN_SECRET",
                        ..
                    }
                ),
                "{weak}: {message}"
            );
            assert!(message.contains("would fall to about 10^"), "{message}");
            assert!(message.contains(pattern), "{weak}: {message}");
            assert!(!message.contains(weak), "the secret leaked: {message}");
            Ok(())
        });
    }
    // Random secrets of the same lengths pass: the test kit's, and base64 of 32 random bytes.
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__JWT__REFRESH_TOKEN_SECRET", STRONG);
        jail.set_env(
            "AUTH__JWT__SECRET_KEY",
            "x+Dm3zHCSSbC1FCW9rLPhH4Bs8QJAFDI8FnR+ti4l8Y=",
        );
        AuthConfig::load().expect("random secrets");
        Ok(())
    });
}

#[test]
fn hmac_secret_must_match_the_hash_size() {
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__JWT__ALGORITHM", "HS512");
        jail.set_env("AUTH__JWT__SECRET_KEY", STRONG);
        let err = AuthConfig::load().expect_err("32-byte HS512 key accepted");
        assert!(
            matches!(err, ConfigError::WeakSecret { min_bytes: 64, .. }),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn production_refuses_missing_secrets() {
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__ENV", "production");
        let err = AuthConfig::load().expect_err("production without secrets");
        assert!(
            matches!(
                &err,
                ConfigError::Several(problems) if matches!(
                    problems.as_slice(),
                    [
                        ConfigError::MissingSecret { var: "AUTH__JWT__SECRET_KEY", .. },
                        ConfigError::MissingSecret { var: "AUTH__JWT__REFRESH_TOKEN_SECRET", .. },
                    ]
                )
            ),
            "both missing secrets at once: {err}"
        );
        jail.set_env("AUTH__JWT__SECRET_KEY", STRONG);
        let err = AuthConfig::load().expect_err("production without refresh secret");
        assert!(
            matches!(
                err,
                ConfigError::MissingSecret {
                    var: "AUTH__JWT__REFRESH_TOKEN_SECRET",
                    ..
                }
            ),
            "{err}"
        );
        jail.set_env("AUTH__JWT__REFRESH_TOKEN_SECRET", format!("{STRONG}-r"));
        AuthConfig::load().expect("complete production config");
        jail.set_env("AUTH__JWT__ALGORITHM", "EdDSA");
        let err = AuthConfig::load().expect_err("production asymmetric without key");
        assert!(
            matches!(
                err,
                ConfigError::MissingSecret {
                    var: "AUTH__JWT__PRIVATE_KEY_FILE",
                    ..
                }
            ),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn out_of_range_values_and_unknown_keys_are_refused() {
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__JWT__LEEWAY_SECONDS", "61");
        let err = AuthConfig::load().expect_err("leeway 61 accepted");
        assert!(
            err.to_string().contains("AUTH__JWT__LEEWAY_SECONDS"),
            "{err}"
        );
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__JWT__REFRESH_REUSE_GRACE_SECONDS", "61");
        let err = AuthConfig::load().expect_err("reuse grace 61 accepted");
        assert_eq!(
            err.to_string(),
            "AUTH__JWT__REFRESH_REUSE_GRACE_SECONDS is invalid: must be at most 60"
        );
        jail.set_env("AUTH__JWT__REFRESH_REUSE_GRACE_SECONDS", "60");
        AuthConfig::load().expect("60 is the most");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__JWT__SECRET_KEYS", STRONG);
        assert!(
            matches!(AuthConfig::load(), Err(ConfigError::UnknownKey { .. })),
            "a misspelt key must not be ignored"
        );
        Ok(())
    });
    // Rate limits: one quota of a group set, the others keep their defaults; a value that is
    // no rate names the variable.
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__RATE_LIMIT__LOGIN__PER_IP", "10/minute");
        let config = AuthConfig::load().expect("a rate");
        assert_eq!(config.rate_limit.login.per_ip.to_string(), "10/minute");
        assert_eq!(
            config.rate_limit.login.per_account.to_string(),
            "120/minute"
        );
        jail.set_env("AUTH__RATE_LIMIT__LOGIN__PER_IP", "ten a minute");
        let err = AuthConfig::load().expect_err("no rate accepted");
        assert!(
            err.to_string().contains("RATE_LIMIT.LOGIN.PER_IP")
                && err.to_string().contains("`ten a minute` is not a rate"),
            "{err}"
        );
        Ok(())
    });
    // A disabled lockout's other settings are not checked.
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__LOCKOUT__ENABLED", "false");
        jail.set_env("AUTH__LOCKOUT__MAX_ATTEMPTS", "0");
        AuthConfig::load().expect("disabled lockout");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__SERVER__BIND", "localhost");
        assert!(AuthConfig::load().is_err());
        Ok(())
    });
    // Lifetimes are bounded (ten years), so the flows' arithmetic in seconds cannot overflow.
    Jail::expect_with(|jail| {
        jail.set_env(
            "AUTH__JWT__ACCESS_TOKEN_EXPIRE_MINUTES",
            u64::MAX.to_string(),
        );
        let err = AuthConfig::load().expect_err("an endless access token accepted");
        assert_eq!(
            err.to_string(),
            "AUTH__JWT__ACCESS_TOKEN_EXPIRE_MINUTES is invalid: must be at most ten years"
        );
        jail.set_env(
            "AUTH__JWT__ACCESS_TOKEN_EXPIRE_MINUTES",
            (10 * 365 * 24 * 60).to_string(),
        );
        AuthConfig::load().expect("ten years is the most");
        Ok(())
    });
    for (var, value) in [
        ("AUTH__SESSION__TIMEOUT_MINUTES", "99999999999"),
        ("AUTH__JWT__REFRESH_TOKEN_EXPIRE_DAYS", "3651"),
        ("AUTH__PASSWORD__HASH_THREAD_NICE", "20"),
        ("AUTH__PASSWORD__HASH_THREAD_NICE", "-1"),
        ("AUTH__PASSWORD__MAX_CONCURRENT_HASHES", "0"),
        ("AUTH__LOCKOUT__MAX_ATTEMPTS", "0"),
        ("AUTH__LOCKOUT__LOCKOUT_MINUTES", "0"),
        ("AUTH__LOCKOUT__LOCKOUT_MINUTES", "1441"),
        ("AUTH__LOCKOUT__BASE_DELAY_SECONDS", "0"),
        ("AUTH__LOCKOUT__BASE_DELAY_SECONDS", "901"),
        ("AUTH__LOCKOUT__FORGET_MINUTES", "14"),
        ("AUTH__LOCKOUT__REMEMBER_CLIENTS_DAYS", "3651"),
    ] {
        Jail::expect_with(|jail| {
            jail.set_env(var, value);
            let err = AuthConfig::load().expect_err("out of range accepted");
            assert!(err.to_string().contains(var), "{var}={value}: {err}");
            Ok(())
        });
    }
}

/// A misspelt setting names the variable as it was written and the setting it was meant to
/// be, in Display and Debug alike (what `main` returning the error prints).
#[test]
fn a_misspelt_setting_names_the_variable_and_the_nearest_one() {
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__JWT__SECRT_KEY", STRONG);
        let err = AuthConfig::load().expect_err("misspelt key accepted");
        assert_eq!(
            err.to_string(),
            "AUTH__JWT__SECRT_KEY is not a setting; did you mean AUTH__JWT__SECRET_KEY?"
        );
        assert_eq!(format!("{err:?}"), err.to_string());
        assert!(!err.to_string().contains(STRONG));
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__SERVER__COLOUR", "blue");
        let err = AuthConfig::load().expect_err("unknown key accepted");
        assert_eq!(err.to_string(), "AUTH__SERVER__COLOUR is not a setting");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.create_file("auth.toml", "[password]\nmemory_kb = 1024\n")?;
        let err = AuthConfig::load().expect_err("misspelt file key accepted");
        let message = err.to_string();
        assert!(
            message.starts_with("`password.memory_kb` in ")
                && message.contains("auth.toml is not a setting")
                && message.ends_with("; did you mean `password.memory_kib`?"),
            "{message}"
        );
        Ok(())
    });
}

/// Every problem of a configuration at once, one line each, naming its variable.
#[test]
fn every_problem_is_reported_together() {
    Jail::expect_with(|jail| {
        jail.set_env("AUTH__JWT__LEEWAY_SECONDS", "61");
        jail.set_env("AUTH__JWT__SECRET_KEY", "change-me");
        jail.set_env("AUTH__PASSWORD__HASH_THREAD_NICE", "20");
        jail.set_env("AUTH__SERVER__BIND", "localhost");
        let err = AuthConfig::load().expect_err("four problems accepted");
        let ConfigError::Several(problems) = &err else {
            panic!("expected several problems: {err}");
        };
        assert_eq!(problems.len(), 4, "{err}");
        let message = err.to_string();
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines[0], "4 problems:");
        for var in [
            "AUTH__SERVER__BIND",
            "AUTH__JWT__SECRET_KEY is too weak",
            "AUTH__JWT__LEEWAY_SECONDS",
            "AUTH__PASSWORD__HASH_THREAD_NICE",
        ] {
            assert!(
                lines[1..]
                    .iter()
                    .any(|l| l.starts_with("- ") && l.contains(var)),
                "{var}: {message}"
            );
        }
        Ok(())
    });
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let mut config = AuthConfig::default();
    config.jwt.secret_key = Some(SecretString::from(STRONG.to_owned()));
    assert!(!format!("{config:?}").contains(STRONG));
}

#[test]
fn development_keys_are_generated_once_and_kept() {
    for alg in [
        JwtAlgorithm::HS256,
        JwtAlgorithm::EdDSA,
        JwtAlgorithm::ES256,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = AuthConfig::default();
        config.jwt.algorithm = alg;
        config.jwt.keys_file = dir.path().join("keys.json");
        let first = load_keys(&config).unwrap();
        assert_eq!(
            first.source,
            KeySource::GeneratedDevelopmentFile(config.jwt.keys_file.clone())
        );
        let second = load_keys(&config).unwrap();
        assert_eq!(
            second.source,
            KeySource::DevelopmentFile(config.jwt.keys_file.clone())
        );
        assert_eq!(
            first.key_set.current().kid(),
            second.key_set.current().kid(),
            "{alg}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&config.jwt.keys_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

#[test]
fn production_never_generates_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AuthConfig::default();
    config.env = Some(Environment::Production);
    config.jwt.keys_file = dir.path().join("keys.json");
    let err = load_keys(&config).unwrap_err();
    assert!(
        matches!(
            err,
            KeySetupError::MissingInProduction {
                var: "AUTH__JWT__SECRET_KEY"
            }
        ),
        "{err}"
    );
    assert!(!config.jwt.keys_file.exists());
}

/// With AUTH__ENV unset, generated keys serve only a loopback address; set explicitly to
/// development they serve any; configured keys serve any.
#[test]
fn generated_keys_serve_only_loopback_unless_development_is_explicit() {
    let dir = tempfile::tempdir().unwrap();
    let config_on = |bind: &str, env: Option<Environment>| {
        let mut config = AuthConfig::default();
        config.server.bind = bind.to_owned();
        config.env = env;
        config.jwt.keys_file = dir
            .path()
            .join(format!("{}.json", bind.replace([':', '[', ']', '.'], "_")));
        config
    };
    for bind in ["127.0.0.1:8080", "[::1]:8080", "127.0.0.2:9000"] {
        load_keys(&config_on(bind, None)).unwrap_or_else(|e| panic!("{bind}: {e}"));
    }
    for bind in ["0.0.0.0:8080", "10.1.2.3:443", "[::]:8080"] {
        let config = config_on(bind, None);
        let err = load_keys(&config).unwrap_err();
        assert!(
            matches!(&err, KeySetupError::GeneratedKeysOffLoopback { bind: b, vars }
                if b == bind && vars == "AUTH__JWT__SECRET_KEY and AUTH__JWT__REFRESH_TOKEN_SECRET"),
            "{bind}: {err}"
        );
        assert!(err.to_string().contains("AUTH__ENV=development"), "{err}");
        assert!(!config.jwt.keys_file.exists(), "nothing generated");
        load_keys(&config_on(bind, Some(Environment::Development)))
            .unwrap_or_else(|e| panic!("explicit development on {bind}: {e}"));
    }
    // Only what is missing is named; configured keys serve anywhere.
    let mut config = config_on("0.0.0.0:8080", None);
    config.jwt.secret_key = Some(SecretString::from(STRONG.to_owned()));
    let err = load_keys(&config).unwrap_err();
    assert!(
        matches!(&err, KeySetupError::GeneratedKeysOffLoopback { vars, .. } if vars == "AUTH__JWT__REFRESH_TOKEN_SECRET"),
        "{err}"
    );
    config.jwt.refresh_token_secret = Some(SecretString::from(format!("{STRONG}-r")));
    assert_eq!(load_keys(&config).unwrap().source, KeySource::Configured);
}

/// A key file other users may read is refused, naming the fix.
#[cfg(unix)]
#[test]
fn a_key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut config = AuthConfig::default();
    config.jwt.keys_file = dir.path().join("keys.json");
    load_keys(&config).unwrap();
    for mode in [0o644, 0o640, 0o604, 0o660] {
        std::fs::set_permissions(&config.jwt.keys_file, std::fs::Permissions::from_mode(mode))
            .unwrap();
        let err = load_keys(&config).unwrap_err();
        assert!(
            matches!(err, KeySetupError::KeyFileTooOpen { mode: m, .. } if m == mode),
            "{mode:o}: {err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
    std::fs::set_permissions(
        &config.jwt.keys_file,
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(
        load_keys(&config).unwrap().source,
        KeySource::DevelopmentFile(config.jwt.keys_file.clone())
    );
}

#[test]
fn configured_keys_are_used_as_given() {
    let mut config = AuthConfig::default();
    config.jwt.secret_key = Some(SecretString::from(STRONG.to_owned()));
    config.jwt.refresh_token_secret = Some(SecretString::from(format!("{STRONG}-r")));
    config.jwt.key_id = Some("k1".to_owned());
    config.jwt.keys_file = std::path::PathBuf::from("/nonexistent/never-written.json");
    let loaded = load_keys(&config).unwrap();
    assert_eq!(loaded.source, KeySource::Configured);
    assert_eq!(loaded.key_set.current().kid(), "k1");
}
