//! Two instances of the example service over one PostgreSQL database and one Redis, over real
//! HTTP: what one instance ends, the other refuses within the staleness bound (1 s), also
//! when the announcement of it never gets out.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::config::AuthConfig;
use auth_axum::core::invalidation::ChangeBus;
use auth_axum::core::service::Stores;
use auth_axum::core::store::redis::RedisStore;
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::{AuthService, SystemClock, UserId};
use auth_axum::AuthModule;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tests::{eventually, redis_url, test_config, unique_prefix, PgDatabase, TcpProxy, TestServer};

const PASSWORD: &str = "correct horse battery";

/// The staleness bound, with room for a slow machine.
const BOUND: Duration = Duration::from_millis(2_500);

struct Instances {
    /// Publishes its changes through `proxy`; everything else it reaches directly.
    a: TestServer,
    a_module: AuthModule,
    proxy: TcpProxy,
    /// An ordinary instance.
    b: TestServer,
    http: Client,
    db: PgDatabase,
    _dir: tempfile::TempDir,
}

impl Instances {
    async fn start() -> Option<Self> {
        let redis = redis_url().await?;
        let db = PgDatabase::create().await?;
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(&db.url, dir.path());
        config.redis.url = Some(redis.clone());
        config.redis.prefix = format!("{}:", unique_prefix("instances"));
        let b_module = AuthModule::configure(config.clone()).await.unwrap();
        let b = TestServer::spawn(auth_service::app(b_module).unwrap()).await;

        let proxy =
            TcpProxy::start(redis.trim_start_matches("redis://").trim_end_matches('/')).await;
        let a_module = Self::publishing_through(&config, &redis, &proxy).await;
        let a = TestServer::spawn(auth_service::app(a_module.clone()).unwrap()).await;
        Some(Self {
            a,
            a_module,
            proxy,
            b,
            http: Client::new(),
            db,
            _dir: dir,
        })
    }

    /// An instance whose stores are reached directly and whose change bus goes through
    /// `proxy`, so that a test can take away its announcements and nothing else.
    async fn publishing_through(config: &AuthConfig, redis: &str, proxy: &TcpProxy) -> AuthModule {
        let url = config.database.url.as_str();
        let sql = SqlStore::connect(url, SqlOptions::default()).await.unwrap();
        let shared = RedisStore::connect(redis, &config.redis.prefix)
            .await
            .unwrap();
        let bus = ChangeBus::redis(
            &format!("redis://{}", proxy.addr()),
            &config.redis.changes_channel(),
        )
        .await
        .unwrap();
        let stores = Stores::sql(sql)
            .with_redis(shared)
            .shared_through(bus, Arc::new(SystemClock));
        let service = AuthService::builder(config.clone())
            .with_stores(stores)
            .build()
            .unwrap();
        AuthModule::new(service, config.clone())
    }

    async fn register(&self, username: &str) -> Value {
        let response = self
            .http
            .post(self.b.url("/auth/register"))
            .json(&json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    async fn login(&self, on: &TestServer, username: &str) -> Value {
        let response = self
            .http
            .post(on.url("/auth/login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    async fn status(&self, on: &TestServer, path: &str, token: &str) -> StatusCode {
        self.http
            .get(on.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Whether `on` refuses `token` on `path` with 401 within the bound.
    async fn refused_within_bound(&self, on: &TestServer, path: &str, token: &str) -> bool {
        eventually(BOUND, || async {
            self.status(on, path, token).await == StatusCode::UNAUTHORIZED
        })
        .await
    }
}

fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// The publishing instance loses only its own connection to the change bus; a logout on it
/// is written to the shared store but never announced. The other instance, whose view of
/// the revocations is complete as far as its own healthy connection can tell, finds the gap
/// in the revocation sequence and refuses the token within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_whose_announcement_fails_is_refused_everywhere_within_the_bound() {
    let Some(h) = Instances::start().await else {
        return;
    };
    h.register("ada").await;
    let tokens = h.login(&h.a, "ada").await;
    let token = access(&tokens);
    assert_eq!(h.status(&h.b, "/articles", &token).await, StatusCode::OK);
    assert_eq!(h.status(&h.a, "/articles", &token).await, StatusCode::OK);

    h.proxy.cut();
    let logout = h
        .http
        .post(h.a.url("/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        logout.status(),
        StatusCode::OK,
        "written to the shared store"
    );
    assert_eq!(
        h.status(&h.a, "/articles", &token).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        h.refused_within_bound(&h.b, "/articles", &token).await,
        "the other instance refuses the token although the announcement never came"
    );
    assert_eq!(
        h.status(&h.b, "/auth/me", &token).await,
        StatusCode::UNAUTHORIZED
    );
    // Other tokens still pass there.
    let fresh = access(&h.login(&h.b, "ada").await);
    assert_eq!(h.status(&h.b, "/articles", &fresh).await, StatusCode::OK);
    h.db.drop_database().await;
}

/// An admin deactivates a user on one instance: the user's access token, refresh token and
/// logins are refused on the other within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivation_on_one_instance_ends_access_on_the_other() {
    let Some(h) = Instances::start().await else {
        return;
    };
    let ada = h.register("ada").await;
    h.register("boss").await;
    let service = h.a_module.service();
    let boss = service
        .users()
        .get_by_username("boss")
        .await
        .unwrap()
        .unwrap();
    service.assign_role(&boss.id, "admin").await.unwrap();
    let admin = access(&h.login(&h.a, "boss").await);
    let on_b = h.login(&h.b, "ada").await;
    let token = access(&on_b);
    assert_eq!(h.status(&h.b, "/articles", &token).await, StatusCode::OK);

    let id = UserId(ada["id"].as_str().unwrap().to_owned());
    let deactivate = h
        .http
        .post(h.a.url(&format!("/admin/users/{id}/deactivate")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deactivate.status(), StatusCode::NO_CONTENT);
    assert!(
        h.refused_within_bound(&h.b, "/articles", &token).await,
        "the deactivated user's token is refused on the other instance"
    );
    let refresh = h
        .http
        .post(h.b.url("/auth/refresh"))
        .json(&json!({"refresh_token": on_b["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
    let login = h
        .http
        .post(h.b.url("/auth/login"))
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    h.db.drop_database().await;
}
