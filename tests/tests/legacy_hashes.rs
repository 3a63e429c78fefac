//! Users of another system keep their passwords: `users import` loads them with bcrypt and
//! Django PBKDF2-SHA256 hashes, each logs in with the old password, and that login stores an
//! Argon2id hash in place of the old one. Lines that cannot be imported are reported, not
//! half-imported, and never echoed.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::admin::AdminCommand;
use auth_axum::core::service::LoginRequest;
use auth_axum::core::{AuthError, AuthService};
use serde_json::json;
use tests::{sqlite_url, test_config};

const PASSWORD: &str = "their old password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_users_log_in_with_their_old_passwords_and_are_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&sqlite_url(dir.path()), dir.path());
    let service = AuthService::from_config(&config).await.unwrap();
    let bcrypt = bcrypt::hash(PASSWORD, 4).unwrap();
    let django = djangohashers::make_password_core(
        PASSWORD,
        "seasalt",
        djangohashers::Algorithm::PBKDF2,
        djangohashers::DjangoVersion::V1_4,
    );
    let argon = service.passwords().hash(PASSWORD).await.unwrap();
    let lines = [
        json!({"username": "rails", "email": "rails@example.com", "password_hash": bcrypt,
               "roles": ["user", "editor"], "is_verified": true}),
        json!({"username": "django", "email": "django@example.com", "password_hash": django}),
        json!({"username": "argon", "email": "argon@example.com", "password_hash": argon}),
        json!({"username": "md5", "email": "md5@example.com", "password_hash": "md5$salt$0123abcd"}),
        json!({"username": "rails", "email": "again@example.com", "password_hash": bcrypt}),
        json!({"username": "bad", "email": "not-an-address"}),
        json!({"username": "typo", "email": "typo@example.com", "pasword_hash": "x"}),
    ];
    let mut file: String = lines.iter().map(|l| format!("{l}\n")).collect();
    file.push_str("{ not json\n");
    let path = dir.path().join("users.jsonl");
    std::fs::write(&path, &file).unwrap();

    let path = path.display().to_string();
    let command = AdminCommand::parse(&["users", "import", &path])
        .unwrap()
        .unwrap();
    let summary = command.run(&service).await.unwrap();
    assert!(
        summary.starts_with("imported 3 users; skipped 5"),
        "{summary}"
    );
    for expected in [
        "line 4: password_hash: not a format this service verifies",
        "line 5: username is already taken",
        "line 6: email: must be a valid email address",
        "line 7: not a user object",
        "line 8: not a user object",
    ] {
        assert!(
            summary.contains(expected),
            "`{expected}` missing from {summary}"
        );
    }
    assert!(
        !summary.contains("$2b$")
            && !summary.contains("pbkdf2_sha256$")
            && !summary.contains("0123abcd"),
        "no hash echoed: {summary}"
    );

    for (name, before) in [("rails", "$2b$"), ("django", "pbkdf2_sha256$")] {
        let stored = service
            .users()
            .get_by_username(name)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.password_hash.as_deref().unwrap().starts_with(before));
        assert!(matches!(
            service
                .login(LoginRequest::new(name, "wrong password"))
                .await,
            Err(AuthError::InvalidCredentials)
        ));
        let tokens = service
            .login(LoginRequest::new(name, PASSWORD))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(tokens.user.username, name);
        let upgraded = service
            .users()
            .get_by_username(name)
            .await
            .unwrap()
            .unwrap();
        assert!(
            upgraded
                .password_hash
                .as_deref()
                .unwrap()
                .starts_with("$argon2id$"),
            "{name} upgraded at login"
        );
        // And the new hash works.
        service
            .login(LoginRequest::new(name, PASSWORD))
            .await
            .unwrap();
    }
    let rails = service
        .users()
        .get_by_username("rails")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rails.roles, ["user", "editor"]);
    assert!(rails.is_verified);
    let django = service
        .users()
        .get_by_username("django")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(django.roles, ["user"], "the configured default roles");
    assert!(!django.is_verified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_hash_above_the_caps_is_never_computed() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&sqlite_url(dir.path()), dir.path());
    let service = AuthService::from_config(&config).await.unwrap();
    // 99 million iterations would take minutes per login: refused like an unknown user.
    let planted = "pbkdf2_sha256$99000000$seasalt$YWJj";
    let contents = format!(
        "{}\n",
        json!({"username": "planted", "email": "planted@example.com", "password_hash": planted})
    );
    let path = dir.path().join("users.jsonl");
    std::fs::write(&path, contents).unwrap();
    let path = path.display().to_string();
    let summary = AdminCommand::parse(&["users", "import", &path])
        .unwrap()
        .unwrap()
        .run(&service)
        .await
        .unwrap();
    assert!(summary.starts_with("imported 1 users"), "{summary}");
    assert!(matches!(
        service.passwords().verify(PASSWORD, planted).await,
        Err(auth_axum::core::password::PasswordError::ParamsTooExpensive)
    ));
    assert!(matches!(
        service.login(LoginRequest::new("planted", PASSWORD)).await,
        Err(AuthError::InvalidCredentials)
    ));
}
