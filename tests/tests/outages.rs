//! Redis and PostgreSQL going away under a running service, through proxies the test controls:
//! requests that need the missing one get 503 with a clear error and never pass, requests that
//! do not keep working, and the service recovers by itself when the service comes back.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::time::Duration;

use auth_axum::AuthModule;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tests::{eventually, redis_url, test_config, unique_prefix, PgDatabase, TcpProxy, TestServer};

const PASSWORD: &str = "correct horse battery";

struct Outage {
    server: TestServer,
    http: Client,
}

impl Outage {
    async fn status(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = match method {
            "POST" => self.http.post(self.server.url(path)),
            _ => self.http.get(self.server.url(path)),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn login(&self) -> (StatusCode, Value) {
        self.status(
            "POST",
            "/auth/login",
            None,
            Some(json!({"username": "ada", "password": PASSWORD})),
        )
        .await
    }
}

fn unavailable((status, body): &(StatusCode, Value)) -> bool {
    *status == StatusCode::SERVICE_UNAVAILABLE
        && body["code"] == "service_unavailable"
        && body["detail"] == "the authentication service is temporarily unavailable; retry shortly"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_and_postgres_outages_answer_503_and_recover() {
    let Some(redis) = redis_url().await else {
        return;
    };
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let pg_target = db
        .url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let pg = TcpProxy::start(&pg_target).await;
    let cache = TcpProxy::start(redis.trim_start_matches("redis://").trim_end_matches('/')).await;
    let dir = tempfile::tempdir().unwrap();
    let db_name = db.url.rsplit('/').next().unwrap().to_owned();
    let mut config = test_config(
        &format!("postgres://postgres@{}/{db_name}", pg.addr()),
        dir.path(),
    );
    config.database.acquire_timeout_seconds = 2;
    config.redis.url = Some(format!("redis://{}", cache.addr()));
    config.redis.prefix = format!("{}:", unique_prefix("outage"));
    let module = AuthModule::configure(config).await.unwrap();
    let service = module.service().clone();
    let o = Outage {
        server: TestServer::spawn(auth_service::app(module).unwrap()).await,
        http: Client::new(),
    };
    let registered = o
        .status(
            "POST",
            "/auth/register",
            None,
            Some(json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(registered.0, StatusCode::CREATED);
    let (status, tokens) = o.login().await;
    assert_eq!(status, StatusCode::OK);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (status, logged_out) = o.login().await;
    assert_eq!(status, StatusCode::OK);
    let revoked = logged_out["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        o.status("POST", "/auth/logout", Some(&revoked), None)
            .await
            .0,
        StatusCode::OK
    );

    // Redis goes away: it holds sessions and revocations, so logins and token checks need it.
    // Once the bus is noticed down, the local view stops answering and checks ask Redis:
    // 503, never a pass, for valid and revoked tokens alike.
    assert!(
        eventually(Duration::from_secs(2), || async {
            service.revocations_in_memory()
        })
        .await,
        "revocation checks answer from memory"
    );
    cache.cut();
    let answer = o.login().await;
    assert!(unavailable(&answer), "login without Redis: {answer:?}");
    assert!(unavailable(&o.status("GET", "/ready", None, None).await));
    assert!(
        eventually(Duration::from_secs(2), || async {
            !service.revocations_in_memory()
        })
        .await,
        "the lost bus is noticed within a second"
    );
    assert!(unavailable(
        &o.status("GET", "/articles", Some(&access), None).await
    ));
    assert!(unavailable(
        &o.status("GET", "/articles", Some(&revoked), None).await
    ));
    cache.restore();
    assert!(
        eventually(Duration::from_secs(10), || async {
            o.login().await.0 == StatusCode::OK
        })
        .await,
        "logins work again once Redis is back"
    );

    assert!(
        eventually(Duration::from_secs(5), || async {
            service.revocations_in_memory()
        })
        .await,
        "the revocation view is back in memory once the bus resubscribed"
    );

    // PostgreSQL goes away: what needs it answers 503, never a pass.
    pg.cut();
    assert!(unavailable(&o.login().await), "login without the database");
    assert!(unavailable(
        &o.status("GET", "/auth/me", Some(&access), None).await
    ));
    assert!(unavailable(&o.status("GET", "/ready", None, None).await));
    // The revocation view is complete (the bus is up), so a guarded route needs no database,
    // and a revoked token is still refused.
    assert_eq!(
        o.status("GET", "/articles", Some(&access), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        o.status("GET", "/articles", Some(&revoked), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    pg.restore();
    assert!(
        eventually(Duration::from_secs(10), || async {
            o.status("GET", "/auth/me", Some(&access), None).await.0 == StatusCode::OK
        })
        .await,
        "the service recovers when the database is back"
    );
    assert_eq!(o.login().await.0, StatusCode::OK);
    drop(pg);
    db.drop_database().await;
}
