//! The Redis stores and the change bus on a real three-node Redis Cluster that the test
//! starts on 127.0.0.1: every store's conformance suite, the keys spread over the nodes, and
//! two instances of the example service sharing sessions, refresh tokens and revocations
//! through the cluster.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::invalidation::{Change, ChangeBus, Notice, Origin};
use auth_axum::core::store::redis::{RedisStore, RedisTarget};
use auth_axum::AuthModule;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tests::redis_cluster::RedisCluster;
use tests::{eventually, test_config, unique_prefix, PgDatabase, TestServer};

const PASSWORD: &str = "correct horse battery";

/// The staleness bound of revocations between instances, with room for a slow machine.
const BOUND: Duration = Duration::from_millis(2_500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_stores_conform_on_a_cluster_and_spread_their_keys() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    let target = RedisTarget::from_url(&cluster.url(), true);
    assert_eq!(target.nodes().len(), 3);
    let store = RedisStore::connect_to(&target, &format!("{}:", unique_prefix("cluster")))
        .await
        .unwrap();
    store.ping().await.unwrap();
    tests::redis_conformance(Arc::new(store)).await;
    // The bus: a subscriber on one node hears what is published through another.
    let channel = format!("{}:changes", unique_prefix("cluster-bus"));
    // Straight to node 0 (not routed by the cluster client), heard on node 2.
    let publisher = ChangeBus::redis(&format!("redis://127.0.0.1:{}", cluster.ports[0]), &channel)
        .await
        .unwrap();
    let node2 = RedisTarget::Cluster(vec![format!("redis://127.0.0.1:{}", cluster.ports[2])]);
    let listener = ChangeBus::redis_to(&node2, &channel).await.unwrap();
    let mut notices = listener.subscribe();
    let origin = Origin::new();
    publisher.publish(origin, Change::Roles).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), notices.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(heard, Notice::Change(ref e) if e.origin == origin && matches!(e.change, Change::Roles)),
        "{heard:?}"
    );
    // Per-user and per-family hash tags spread the suites' keys: no node holds them all.
    let keys = cluster.keys_per_node();
    assert!(
        keys.iter().filter(|&&n| n > 0).count() >= 2,
        "keys on one node only: {keys:?}"
    );
}

/// Two instances of the example service on one PostgreSQL database and one Redis Cluster.
struct Pair {
    a: TestServer,
    b: TestServer,
    http: Client,
    db: PgDatabase,
    _cluster: RedisCluster,
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn start() -> Option<Self> {
        let cluster = RedisCluster::start().await?;
        let db = PgDatabase::create().await?;
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(&db.url, dir.path());
        config.redis.url = Some(cluster.url());
        config.redis.cluster = true;
        config.redis.prefix = format!("{}:", unique_prefix("cluster-pair"));
        config.session.max_sessions_per_user = Some(3);
        let a = AuthModule::configure(config.clone()).await.unwrap();
        let b = AuthModule::configure(config).await.unwrap();
        Some(Self {
            a: TestServer::spawn(auth_service::app(a).unwrap()).await,
            b: TestServer::spawn(auth_service::app(b).unwrap()).await,
            http: Client::new(),
            db,
            _cluster: cluster,
            _dir: dir,
        })
    }

    async fn post(&self, on: &TestServer, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(on.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A cookie login on `on`: the session cookie's value.
    async fn cookie_login(&self, on: &TestServer) -> String {
        let response = self
            .post(
                on,
                "/auth/login",
                json!({"username": "ada", "password": PASSWORD, "cookie": true}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .find_map(|c| {
                c.to_str()
                    .ok()?
                    .strip_prefix("__Host-session=")?
                    .split(';')
                    .next()
                    .map(str::to_owned)
            })
            .unwrap()
    }

    async fn bearer_login(&self, on: &TestServer) -> Value {
        let response = self
            .post(
                on,
                "/auth/login",
                json!({"username": "ada", "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    async fn me_by_cookie(&self, on: &TestServer, secret: &str) -> StatusCode {
        self.http
            .get(on.url("/auth/me"))
            .header("cookie", format!("__Host-session={secret}"))
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn get(&self, on: &TestServer, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(on.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// What the sessions issue asked of two instances, over a cluster: a session made on one is
/// used, listed and ended on the other; the per-user limit counts sessions of both; a refresh
/// token rotated on one is reuse on the other; a logout on one is refused on the other within
/// the bound (the announcement crosses the cluster's pub/sub).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_through_a_cluster() {
    let Some(p) = Pair::start().await else {
        return;
    };
    let registered = p
        .post(
            &p.b,
            "/auth/register",
            json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);

    // A cookie session made on A works on B.
    let cookie = p.cookie_login(&p.a).await;
    assert_eq!(p.me_by_cookie(&p.b, &cookie).await, StatusCode::OK);

    // B lists it beside its own bearer session, and ends it; A refuses the cookie.
    let tokens = p.bearer_login(&p.b).await;
    let token = access(&tokens);
    let listed: Vec<Value> = p
        .get(&p.b, "/auth/sessions", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let cookie_session = listed.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = p
        .http
        .delete(p.b.url(&format!("/auth/sessions/{cookie_session}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        p.me_by_cookie(&p.a, &cookie).await,
        StatusCode::UNAUTHORIZED
    );

    // A refresh token rotated on A, and its successor rotated on B, is reuse on B (within
    // the grace window only an unused successor would be handed out again): the family ends.
    let fresh = p.bearer_login(&p.b).await;
    let rotated = p
        .post(
            &p.a,
            "/auth/refresh",
            json!({"refresh_token": fresh["refresh_token"]}),
        )
        .await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let again = p
        .post(
            &p.b,
            "/auth/refresh",
            json!({"refresh_token": rotated["refresh_token"]}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    let reused = p
        .post(
            &p.b,
            "/auth/refresh",
            json!({"refresh_token": fresh["refresh_token"]}),
        )
        .await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    let after_reuse = p
        .post(
            &p.a,
            "/auth/refresh",
            json!({"refresh_token": again["refresh_token"]}),
        )
        .await;
    assert_eq!(
        after_reuse.status(),
        StatusCode::BAD_REQUEST,
        "the family ended"
    );

    // A logout on A: B refuses the token within the bound; another session's token passes.
    let leaving = access(&p.bearer_login(&p.a).await);
    let logout = p
        .http
        .post(p.a.url("/auth/logout"))
        .bearer_auth(&leaving)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    assert!(
        eventually(BOUND, || async {
            p.get(&p.b, "/articles", &leaving).await.status() == StatusCode::UNAUTHORIZED
        })
        .await,
        "B refuses the logged-out token"
    );
    assert_eq!(
        p.get(&p.b, "/articles", &token).await.status(),
        StatusCode::OK
    );
    // The limit of three counts the sessions of both instances: a fourth login ends one of
    // the three before it (the least recently used; within one second, any of them).
    let second = access(&p.bearer_login(&p.a).await);
    let third = access(&p.bearer_login(&p.b).await);
    let fourth = access(&p.bearer_login(&p.a).await);
    let earlier = [&token, &second, &third];
    let refused = || async {
        let mut refused = Vec::new();
        for t in earlier {
            if p.get(&p.a, "/auth/me", t).await.status() == StatusCode::UNAUTHORIZED {
                refused.push(t.clone());
            }
        }
        refused
    };
    assert!(
        eventually(BOUND, || async { refused().await.len() == 1 }).await,
        "one earlier session was evicted"
    );
    let evicted = refused().await.remove(0);
    assert_eq!(
        p.get(&p.b, "/auth/me", &evicted).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        p.get(&p.b, "/auth/me", &fourth).await.status(),
        StatusCode::OK
    );
    let live: Vec<&String> = earlier.into_iter().filter(|t| **t != evicted).collect();
    for t in &live {
        assert_eq!(p.get(&p.b, "/auth/me", t).await.status(), StatusCode::OK);
    }

    p.db.drop_database().await;
}

/// `AUTH__REDIS__CLUSTER` needs the nodes in `AUTH__REDIS__URL`; several nodes without it are
/// refused rather than read as one server.
#[test]
fn cluster_settings_are_checked() {
    let mut config = auth_axum::core::AuthConfig::default();
    config.redis.cluster = true;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("AUTH__REDIS__CLUSTER"), "{err}");
    config.redis.cluster = false;
    config.redis.url = Some("redis://10.0.0.1:6379,redis://10.0.0.2:6379".to_owned());
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("AUTH__REDIS__URL"), "{err}");
    config.redis.cluster = true;
    assert_eq!(
        config.redis.target(),
        Some(RedisTarget::Cluster(vec![
            "redis://10.0.0.1:6379".to_owned(),
            "redis://10.0.0.2:6379".to_owned()
        ]))
    );
}
