//! Identifiers that cannot impersonate each other, over HTTP on SQLite and PostgreSQL:
//! fullwidth, case, combining-mark, confusable and mixed-script variants of a taken username
//! are refused (409 like the taken name itself, or 422 for mixing scripts), so are IDNA and
//! confusable variants of a taken address; login by any normalised form of one's own name
//! works. Rows written before the rules get their keys recomputed at start-up, and a pair the
//! rules would merge is kept apart and reported by `users collisions`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::admin::AdminCommand;
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::user::UserStore;
use auth_axum::AuthModule;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tests::app::AuthApp;
use tests::{sqlite_url, test_config, PgDatabase};

const PASSWORD: &str = "correct horse battery";

async fn start(database_url: Option<String>, allow_mixed_scripts: bool) -> AuthApp {
    AuthApp::start(database_url, |c| {
        c.users.allow_mixed_scripts = allow_mixed_scripts;
    })
    .await
}

/// Asserts the status, then the problem's code and detail; returns the body.
async fn problem(response: Response, status: StatusCode, code: &str, detail: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["detail"], detail, "{body}");
    body
}

async fn taken(response: Response, field: &str) {
    problem(
        response,
        StatusCode::CONFLICT,
        "conflict",
        &format!("{field} is already taken"),
    )
    .await;
}

async fn suite(h: AuthApp) {
    let created = h.register("admin", "admin@example.com", PASSWORD).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let precomposed = h
        .register("adm\u{ed}n", "accent@example.com", PASSWORD)
        .await;
    assert_eq!(precomposed.status(), StatusCode::CREATED);

    // One name, spelt otherwise: width, case, a combining accent instead of a precomposed one.
    for (variant, email) in [
        ("ａｄｍｉｎ", "fullwidth@example.com"),
        ("ADMIN", "upper@example.com"),
        ("Ａｄｍｉｎ", "mixedwidth@example.com"),
        ("admi\u{301}n", "combining@example.com"),
    ] {
        taken(h.register(variant, email, PASSWORD).await, "username").await;
    }
    // Names that only look alike: `rn` for `m`, a digit for a letter, a whole-script
    // lookalike.
    taken(
        h.register("adrnin", "rn@example.com", PASSWORD).await,
        "username",
    )
    .await;
    assert_eq!(
        h.register("alice", "alice@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
    taken(
        h.register("a1ice", "one@example.com", PASSWORD).await,
        "username",
    )
    .await;
    assert_eq!(
        h.register("pop", "pop@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
    taken(
        h.register("\u{440}\u{43e}\u{440}", "cyrillic@example.com", PASSWORD)
            .await,
        "username",
    )
    .await;
    // A Cyrillic `а` among Latin letters: refused for mixing scripts, whatever is taken.
    for mixed in ["\u{430}dmin", "\u{430}lice"] {
        let body = problem(
            h.register(mixed, "mixed@example.com", PASSWORD).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "username: may not mix letters of different scripts",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "username");
    }

    // Addresses: the domain compared in IDNA form, the local part case-insensitively and by
    // its skeleton.
    assert_eq!(
        h.register("joerg", "j\u{f6}rg@b\u{fc}cher.example", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
    for (name, variant) in [
        ("joerg2", "J\u{d6}RG@xn--bcher-kva.example"),
        ("joerg3", "j\u{f6}rg@B\u{dc}CHER.example"),
        ("admin2", "ADMIN@EXAMPLE.COM"),
        ("admin3", "\u{430}dmin@example.com"),
        ("admin4", "adrnin@example.com"),
    ] {
        taken(h.register(name, variant, PASSWORD).await, "email").await;
    }

    // One's own name in any normalised form logs in, as the one account.
    let id = |body: &Value| body["user"]["id"].as_str().unwrap().to_owned();
    let plain = h.login("admin", PASSWORD).await;
    assert_eq!(plain.status(), StatusCode::OK);
    let admin_id = id(&plain.json().await.unwrap());
    for form in ["ＡＤＭＩＮ", "Admin", " admin "] {
        let response = h.login(form, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "{form:?}");
        assert_eq!(id(&response.json().await.unwrap()), admin_id, "{form:?}");
    }
    for form in ["admi\u{301}n", "ADM\u{cd}N"] {
        let response = h.login(form, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["username"], "adm\u{ed}n", "{form:?}");
    }
    let by_idna = h.login("J\u{f6}rg@xn--BCHER-KVA.example", PASSWORD).await;
    assert_eq!(by_idna.status(), StatusCode::OK);
    // A lookalike of one's name is not one's name.
    let lookalike = h.login("\u{430}dmin", PASSWORD).await;
    assert_eq!(lookalike.status(), StatusCode::UNAUTHORIZED);

    // The stored name is the prepared one.
    let wide = h
        .register("ｗｉｄｅｎａｍｅ", "wide@example.com", PASSWORD)
        .await;
    assert_eq!(wide.status(), StatusCode::CREATED);
    let body: Value = wide.json().await.unwrap();
    assert_eq!(body["username"], "widename", "{body}");
    let stored = h
        .module
        .service()
        .users()
        .get_by_username("WIDENAME")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.username, "widename");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookalike_identifiers_are_refused_on_sqlite() {
    suite(start(None, false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookalike_identifiers_are_refused_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    suite(start(Some(db.url.clone()), false).await).await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_scripts_may_be_allowed_but_lookalikes_never() {
    let h = start(None, true).await;
    assert_eq!(
        h.register("alice", "alice@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        h.register("\u{430}dmin", "a@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED,
        "mixing allowed"
    );
    taken(
        h.register("admin", "b@example.com", PASSWORD).await,
        "username",
    )
    .await;
    taken(
        h.register("\u{430}lice", "c@example.com", PASSWORD).await,
        "username",
    )
    .await;
}

/// Rows written before the identifier rules (keys as a plain lower-casing made them, no
/// skeleton): the store recomputes them at start-up, keeps a pair the rules would merge
/// apart, and `users collisions` lists that pair.
async fn legacy_rows(url: &str) {
    let store = SqlStore::connect(url, SqlOptions::default()).await.unwrap();
    for (id, username, email) in [
        (
            "00000000-0000-7000-8000-000000000001",
            "admin",
            "admin@example.com",
        ),
        (
            "00000000-0000-7000-8000-000000000002",
            "ａｄｍｉｎ",
            "other@example.com",
        ),
        (
            "00000000-0000-7000-8000-000000000003",
            "Zoe",
            "Zoe@Example.COM",
        ),
    ] {
        sqlx::query(
            "INSERT INTO users (id, username, username_norm, email, email_norm, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, 0, 0)",
        )
        .bind(id)
        .bind(username)
        .bind(username.to_lowercase())
        .bind(email)
        .bind(email.to_lowercase())
        .execute(store.writes())
        .await
        .unwrap();
    }
    let recomputed = store.recompute_identifier_keys().await.unwrap();
    assert_eq!((recomputed.updated, recomputed.colliding), (2, 1));
    // Every row still reachable; the colliding one by its old key.
    for login in ["admin", "ZOE", "zoe@example.com"] {
        assert!(
            store.get_by_login(login).await.unwrap().is_some(),
            "{login}"
        );
    }
    assert_eq!(
        store
            .get_by_username("ａｄｍｉｎ")
            .await
            .unwrap()
            .unwrap()
            .username,
        "admin",
        "the fullwidth form means `admin` now"
    );
    let again = store.recompute_identifier_keys().await.unwrap();
    assert_eq!((again.updated, again.colliding), (0, 1), "idempotent");
    store.close().await;

    let dir = tempfile::tempdir().unwrap();
    let module = AuthModule::configure(test_config(url, dir.path()))
        .await
        .unwrap();
    let report = AdminCommand::Collisions
        .run(module.service())
        .await
        .unwrap();
    assert!(
        report.starts_with("2 groups of colliding users:"),
        "{report}"
    );
    assert!(report.contains("username \"admin\":"), "{report}");
    assert!(report.contains("username skeleton \"adrnin\":"), "{report}");
    assert!(
        report.contains("00000000-0000-7000-8000-000000000001"),
        "{report}"
    );
    assert!(
        report.contains("00000000-0000-7000-8000-000000000002"),
        "{report}"
    );
    assert!(!report.contains("Zoe"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_keys_are_recomputed_and_collisions_reported_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    legacy_rows(&sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_keys_are_recomputed_and_collisions_reported_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    legacy_rows(&db.url).await;
    db.drop_database().await;
}
