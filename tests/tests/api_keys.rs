//! API keys over HTTP against the example service: created (the key shown once), listed
//! (never the key), used as `Authorization: ApiKey` or `X-API-Key` on the same guarded routes
//! as tokens, bounded by their scopes and by what their owner holds now, refused with a code
//! per reason (wrong, revoked, expired, out of scope), revoked on a second instance within a
//! second.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::time::Duration;

use auth_axum::core::audit::AuditQuery;
use auth_axum::core::service::RegisterRequest;
use auth_axum::core::user::UserId;
use auth_axum::AuthModule;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tests::{eventually, sqlite_url, test_config, PgDatabase, TestServer};

const PASSWORD: &str = "correct horse battery";

struct App {
    server: TestServer,
    module: AuthModule,
    http: reqwest::Client,
}

impl App {
    async fn start(database_url: &str, dir: &std::path::Path) -> Self {
        let module = AuthModule::configure(test_config(database_url, dir))
            .await
            .unwrap();
        let server = TestServer::spawn(auth_service::app(module.clone()).unwrap()).await;
        Self {
            server,
            module,
            http: reqwest::Client::new(),
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.server.url(path))
    }

    /// Logs `name` in; the access token.
    async fn token(&self, name: &str) -> String {
        let response = self
            .request(Method::POST, "/auth/login")
            .json(&json!({"username": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a key with `body` as the bearer of `token`.
    async fn create(&self, token: &str, body: Value) -> Response {
        self.request(Method::POST, "/auth/api-keys")
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a key with `body` as the bearer of `token`; its id and the key.
    async fn create_key(&self, token: &str, body: Value) -> (String, String) {
        let response = self.create(token, body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        let text = |field: &str| created[field].as_str().unwrap().to_owned();
        (text("id"), text("key"))
    }

    /// `GET /articles` with the key in `Authorization: ApiKey`.
    async fn read_articles(&self, key: &str) -> Response {
        self.request(Method::GET, "/articles")
            .header("authorization", format!("ApiKey {key}"))
            .send()
            .await
            .unwrap()
    }
}

async fn code(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// Registers `name` with `roles` beyond the default ones.
async fn user(app: &App, name: &str, roles: &[&str]) -> UserId {
    let service = app.module.service();
    let user = service
        .register(RegisterRequest::new(
            name,
            format!("{name}@example.com"),
            PASSWORD,
        ))
        .await
        .unwrap();
    for role in roles {
        service.assign_role(&user.id, *role).await.unwrap();
    }
    user.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_shown_once_and_works_within_its_scopes_and_its_owners_rights() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(&sqlite_url(dir.path()), dir.path()).await;
    let ada = user(&app, "ada", &["editor"]).await;
    let token = app.token("ada").await;

    let created = app
        .create(
            &token,
            json!({"name": "ci", "scopes": ["articles.read"], "expires_in": 3600}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ak_") && key.len() == 52, "{key}");
    assert_eq!(created["scopes"], json!(["articles.read"]));
    assert_eq!(created["prefix"], key[..11]);
    assert_eq!(created["revoked"], false);
    assert!(created["expires_at"].as_i64().unwrap() > created["created_at"].as_i64().unwrap());

    // Listed without the secret, nor its hash.
    let listed: Value = app
        .request(Method::GET, "/auth/api-keys")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let text = listed.to_string();
    assert!(!text.contains(&key) && !text.contains("hash"), "{text}");

    // Both headers work on a permission-guarded route.
    assert_eq!(app.read_articles(&key).await.status(), StatusCode::OK);
    let with_header = app
        .request(Method::GET, "/articles")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), StatusCode::OK);
    // The owner may write articles, the key may not: its own code.
    let write = app
        .request(Method::POST, "/articles")
        .header("x-api-key", &key)
        .json(&json!({"title": "by key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(write).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".to_owned())
    );
    // A key scoped beyond its owner grants nothing more: `DELETE /articles/{id}` needs the
    // admin role, which ada lacks; a `*` key of ada's is refused as ada would be.
    let (_, all) = app
        .create_key(&token, json!({"name": "all", "scopes": ["*"]}))
        .await;
    let delete = app
        .request(Method::DELETE, "/articles/1")
        .header("x-api-key", &all)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(delete).await,
        (StatusCode::FORBIDDEN, "forbidden".to_owned())
    );
    let write = app
        .request(Method::POST, "/articles")
        .header("x-api-key", &all)
        .json(&json!({"title": "by key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        write.status(),
        StatusCode::CREATED,
        "`*` carries the owner's rights"
    );
    // A key loses what its owner loses (within the second the cache keeps it).
    app.module
        .service()
        .revoke_role(&ada, "editor")
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(3), || async {
            let write = app
                .request(Method::POST, "/articles")
                .header("x-api-key", &all)
                .json(&json!({"title": "again"}))
                .send()
                .await
                .unwrap();
            write.status() == StatusCode::FORBIDDEN
        })
        .await
    );
    // A key cannot make keys.
    let refused = app
        .request(Method::POST, "/auth/api-keys")
        .header("x-api-key", &all)
        .json(&json!({"name": "more", "scopes": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Events, in the audit log.
    let service = app.module.service();
    for kind in ["api_key_created", "api_key_used"] {
        let query = AuditQuery::for_user(ada.as_str()).of_kind(kind);
        assert!(
            eventually(Duration::from_secs(5), || async {
                !service.audit_log(&query).await.unwrap().events.is_empty()
            })
            .await,
            "{kind}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_revoked_expired_and_malformed_keys_are_each_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(&sqlite_url(dir.path()), dir.path()).await;
    user(&app, "ada", &[]).await;
    let token = app.token("ada").await;
    let (id, key) = app
        .create_key(
            &token,
            json!({"name": "ci", "scopes": ["articles.*"], "expires_in": 60}),
        )
        .await;
    assert_eq!(app.read_articles(&key).await.status(), StatusCode::OK);

    // A key of the right shape nobody has, a wrong checksum, garbage.
    let unknown = auth_axum::core::api_key::generate(&auth_axum::core::random::OsRandom);
    let mut typo = key.clone();
    typo.replace_range(8..9, if &key[8..9] == "x" { "y" } else { "x" });
    for wrong in [unknown.as_str(), typo.as_str(), "not-a-key"] {
        assert_eq!(
            code(app.read_articles(wrong).await).await,
            (StatusCode::UNAUTHORIZED, "invalid_api_key".to_owned()),
            "{wrong}"
        );
    }
    // Sent twice.
    let twice = app
        .request(Method::GET, "/articles")
        .header("authorization", format!("ApiKey {key}"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);

    // Bad requests to create one.
    for body in [
        json!({"name": "", "scopes": ["*"]}),
        json!({"name": "x", "scopes": []}),
        json!({"name": "x", "scopes": ["articles read"]}),
        json!({"name": "x", "scopes": ["*"], "expires_in": 5}),
    ] {
        let refused = app.create(&token, body.clone()).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }

    // Revoked: its own code at once on this instance; a second revoke is a 404.
    let revoke = |id: String| {
        app.request(Method::DELETE, &format!("/auth/api-keys/{id}"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(
        revoke(id.clone()).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        code(app.read_articles(&key).await).await,
        (StatusCode::UNAUTHORIZED, "api_key_revoked".to_owned())
    );
    assert_eq!(revoke(id).await.unwrap().status(), StatusCode::NOT_FOUND);

    // Expired: a key of one minute, a minute later.
    let (_, short) = app
        .create_key(
            &token,
            json!({"name": "short", "scopes": ["*"], "expires_in": 60}),
        )
        .await;
    assert_eq!(app.read_articles(&short).await.status(), StatusCode::OK);
    // The same database a minute later (another service over it, on a manual clock).
    let dir2 = tempfile::tempdir().unwrap();
    let config = test_config(&sqlite_url(dir.path()), dir2.path());
    let clock = std::sync::Arc::new(auth_axum::core::ManualClock::starting_now());
    clock.advance(61);
    let later = auth_axum::core::AuthService::builder(config)
        .with_stores(auth_axum::core::service::Stores::sql(
            auth_axum::core::store::sql::SqlStore::connect(
                &sqlite_url(dir.path()),
                auth_axum::core::store::sql::SqlOptions::default(),
            )
            .await
            .unwrap(),
        ))
        .with_clock(clock)
        .build()
        .unwrap();
    assert!(matches!(
        later.verify_api_key(&short, None).await,
        Err(auth_axum::core::AuthError::ApiKeyExpired)
    ));

    // A deactivated owner's keys stop working.
    let ada = app
        .module
        .service()
        .users()
        .get_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    app.module.service().deactivate_user(&ada.id).await.unwrap();
    assert!(
        eventually(Duration::from_secs(3), || async {
            code(app.read_articles(&short).await).await.1 == "api_key_revoked"
        })
        .await
    );
}

/// Two instances on one PostgreSQL: a key revoked on one is refused by the other within a
/// second (the verification cache's bound).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_reaches_a_second_instance_within_a_second() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = App::start(&db.url, dir_a.path()).await;
    // The second instance only verifies keys, which live in the shared database.
    let module = AuthModule::configure(test_config(&db.url, dir_b.path()))
        .await
        .unwrap();
    let b = App {
        server: TestServer::spawn(auth_service::app(module.clone()).unwrap()).await,
        module,
        http: reqwest::Client::new(),
    };
    user(&a, "ada", &[]).await;
    let token = a.token("ada").await;
    let (id, key) = a
        .create_key(&token, json!({"name": "ci", "scopes": ["articles.read"]}))
        .await;
    assert_eq!(b.read_articles(&key).await.status(), StatusCode::OK);
    let revoked = a
        .request(Method::DELETE, &format!("/auth/api-keys/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    // Its cache keeps a verified key for a second; then the store says revoked.
    assert!(
        eventually(Duration::from_secs(3), || async {
            code(b.read_articles(&key).await).await.1 == "api_key_revoked"
        })
        .await
    );
    drop((a, b));
    db.drop_database().await;
}
