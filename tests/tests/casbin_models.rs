//! casbin's example models (basic RBAC, RBAC with domains, ABAC) give the same decisions
//! through our `PolicyEngine`, with policies persisted by our SQL adapter on SQLite and
//! PostgreSQL and loaded back by a fresh engine, as through casbin directly.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::authz::engine::{
    Environment, PolicyEngine, Resource as AbacResource, Subject as AbacSubject, ENVIRONMENT_MODEL,
};
use auth_axum::core::invalidation::ChangeBus;
use auth_axum::core::store::sql::{SqlCasbinAdapter, SqlOptions, SqlStore};
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use serde::Serialize;
use tests::{eventually, redis_url, unique_prefix, PgDatabase};

const BASIC_RBAC: &str = "
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
";

const RBAC_WITH_DOMAINS: &str = "
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
";

const ABAC: &str = "
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.sub.name == r.obj.owner || (r.sub.tenant == r.obj.tenant && r.act == \"read\")
";

type Rules = Vec<(&'static str, Vec<&'static str>)>;

fn rbac_rules() -> Rules {
    vec![
        ("p", vec!["admin", "data1", "read"]),
        ("p", vec!["admin", "data1", "write"]),
        ("p", vec!["viewer", "data2", "read"]),
        ("g", vec!["alice", "admin"]),
        ("g", vec!["bob", "viewer"]),
        ("g", vec!["admin", "viewer"]),
    ]
}

fn domain_rules() -> Rules {
    vec![
        ("p", vec!["admin", "tenant1", "data1", "read"]),
        ("p", vec!["admin", "tenant1", "data1", "write"]),
        ("p", vec!["admin", "tenant2", "data2", "read"]),
        ("g", vec!["alice", "admin", "tenant1"]),
        ("g", vec!["bob", "admin", "tenant2"]),
    ]
}

async fn casbin_direct(model: &str, rules: &Rules) -> Enforcer {
    let mut e = Enforcer::new(
        DefaultModel::from_str(model).await.unwrap(),
        MemoryAdapter::default(),
    )
    .await
    .unwrap();
    for (kind, rule) in rules {
        let rule: Vec<String> = rule.iter().map(|s| (*s).to_owned()).collect();
        if *kind == "p" {
            e.add_policy(rule).await.unwrap();
        } else {
            e.add_grouping_policy(rule).await.unwrap();
        }
    }
    e
}

async fn ours(model: &str, store: &SqlStore, rules: &Rules) -> PolicyEngine {
    // Clear what an earlier model left, then add through our API (persisted by the adapter).
    sqlx::query("DELETE FROM casbin_rules")
        .execute(store.pool())
        .await
        .unwrap();
    let engine = PolicyEngine::new(model, SqlCasbinAdapter::new(store.clone()))
        .await
        .unwrap();
    for (kind, rule) in rules {
        match rule.as_slice() {
            [a, b, c] if *kind == "p" => assert!(engine.add_policy([*a, *b, *c]).await.unwrap()),
            [a, b, c, d] if *kind == "p" => {
                assert!(engine.add_policy([*a, *b, *c, *d]).await.unwrap())
            }
            [a, b] => assert!(engine.add_grouping_policy([*a, *b]).await.unwrap()),
            [a, b, c] => assert!(engine.add_grouping_policy([*a, *b, *c]).await.unwrap()),
            other => panic!("unexpected rule {other:?}"),
        }
    }
    // A fresh engine sees only what the adapter persisted.
    PolicyEngine::new(model, SqlCasbinAdapter::new(store.clone()))
        .await
        .unwrap()
}

#[derive(Serialize, Hash, Clone)]
struct Subject {
    name: String,
    tenant: String,
}

#[derive(Serialize, Hash, Clone)]
struct Resource {
    owner: String,
    tenant: String,
}

async fn same_decisions(store: &SqlStore) {
    let subjects = ["alice", "bob", "carol"];
    let objects = ["data1", "data2"];
    let actions = ["read", "write"];

    let direct = casbin_direct(BASIC_RBAC, &rbac_rules()).await;
    let engine = ours(BASIC_RBAC, store, &rbac_rules()).await;
    let mut allowed = 0;
    for s in subjects {
        for o in objects {
            for a in actions {
                let expected = direct.enforce((s, o, a)).unwrap();
                assert_eq!(
                    engine.enforce([s, o, a]).await.unwrap(),
                    expected,
                    "rbac {s} {o} {a}"
                );
                allowed += usize::from(expected);
            }
        }
    }
    assert_eq!(
        allowed, 4,
        "alice: data1 rw + data2 r (inherited viewer); bob: data2 r"
    );

    let direct = casbin_direct(RBAC_WITH_DOMAINS, &domain_rules()).await;
    let engine = ours(RBAC_WITH_DOMAINS, store, &domain_rules()).await;
    let mut allowed = 0;
    for s in subjects {
        for d in ["tenant1", "tenant2"] {
            for o in objects {
                for a in actions {
                    let expected = direct.enforce((s, d, o, a)).unwrap();
                    assert_eq!(
                        engine.enforce([s, d, o, a]).await.unwrap(),
                        expected,
                        "domains {s} {d} {o} {a}"
                    );
                    allowed += usize::from(expected);
                }
            }
        }
    }
    assert_eq!(
        allowed, 3,
        "alice is admin only in tenant1, bob only in tenant2"
    );

    let direct = casbin_direct(ABAC, &Vec::new()).await;
    let engine = ours(ABAC, store, &Vec::new()).await;
    let people = [("alice", "acme"), ("bob", "acme"), ("carol", "globex")];
    for (name, tenant) in people {
        for (owner, obj_tenant) in people {
            for act in actions {
                let sub = Subject {
                    name: name.to_owned(),
                    tenant: tenant.to_owned(),
                };
                let obj = Resource {
                    owner: owner.to_owned(),
                    tenant: obj_tenant.to_owned(),
                };
                let expected = direct.enforce((sub.clone(), obj.clone(), act)).unwrap();
                assert_eq!(
                    engine.enforce_with((sub, obj, act)).await.unwrap(),
                    expected,
                    "abac {name} {owner} {act}"
                );
                assert_eq!(
                    expected,
                    name == owner || (tenant == obj_tenant && act == "read")
                );
            }
        }
    }
}

async fn adapter_conforms(store: &SqlStore) {
    let engine = ours(BASIC_RBAC, store, &rbac_rules()).await;
    assert!(
        !engine.add_policy(["admin", "data1", "read"]).await.unwrap(),
        "duplicate"
    );
    assert!(engine
        .remove_policy(["admin", "data1", "write"])
        .await
        .unwrap());
    assert!(!engine
        .remove_policy(["admin", "data1", "write"])
        .await
        .unwrap());
    let reloaded = PolicyEngine::new(BASIC_RBAC, SqlCasbinAdapter::new(store.clone()))
        .await
        .unwrap();
    assert!(
        !reloaded.enforce(["alice", "data1", "write"]).await.unwrap(),
        "removal persisted"
    );
    assert!(reloaded.enforce(["alice", "data1", "read"]).await.unwrap());
    // Another engine's change becomes visible on reload.
    assert!(reloaded
        .add_policy(["viewer", "data3", "read"])
        .await
        .unwrap());
    assert!(!engine.enforce(["bob", "data3", "read"]).await.unwrap());
    engine.reload().await.unwrap();
    assert!(engine.enforce(["bob", "data3", "read"]).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn casbin_models_agree_on_sqlite() {
    let (_dir, store) = tests::sqlite_store().await;
    same_decisions(&store).await;
    adapter_conforms(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn casbin_models_agree_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = SqlStore::connect(&db.url, SqlOptions::default())
        .await
        .unwrap();
    same_decisions(&store).await;
    adapter_conforms(&store).await;
    store.close().await;
    db.drop_database().await;
}

/// Two engines on one store, each on its own connection to the bus, as two instances would be.
async fn two_instances(store: &SqlStore, bus_a: &ChangeBus, bus_b: &ChangeBus) {
    sqlx::query("DELETE FROM casbin_rules")
        .execute(store.pool())
        .await
        .unwrap();
    let a = Arc::new(
        PolicyEngine::new(RBAC_WITH_DOMAINS, SqlCasbinAdapter::new(store.clone()))
            .await
            .unwrap(),
    );
    let b = Arc::new(
        PolicyEngine::new(RBAC_WITH_DOMAINS, SqlCasbinAdapter::new(store.clone()))
            .await
            .unwrap(),
    );
    let _follow_a = a.follow(bus_a);
    let _follow_b = b.follow(bus_b);
    assert!(a
        .add_policy(["admin", "acme", "billing", "write"])
        .await
        .unwrap());
    // B decides (and caches) a denial before the grant.
    assert!(!b
        .enforce(["alice", "acme", "billing", "write"])
        .await
        .unwrap());
    // A rule written straight to the table, announced to nobody: an instance that reloaded
    // everything would see it; one applying changes incrementally does not.
    sqlx::query(
        "INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', 'mallory', 'admin', 'acme')",
    )
    .execute(store.pool())
    .await
    .unwrap();

    assert!(a
        .add_grouping_policy(["alice", "admin", "acme"])
        .await
        .unwrap());
    assert!(
        eventually(Duration::from_secs(1), || async {
            b.enforce(["alice", "acme", "billing", "write"])
                .await
                .unwrap()
        })
        .await,
        "B sees the role granted on A within a second"
    );
    assert!(b
        .enforce(["alice", "acme", "billing", "write"])
        .await
        .unwrap());
    assert_eq!(b.roles_in_domain("alice", "acme").await, vec!["admin"]);
    assert!(
        !b.enforce(["mallory", "acme", "billing", "write"])
            .await
            .unwrap(),
        "applied incrementally, not by reloading everything"
    );

    assert!(a
        .remove_grouping_policy(["alice", "admin", "acme"])
        .await
        .unwrap());
    assert!(
        eventually(Duration::from_secs(1), || async {
            !b.enforce(["alice", "acme", "billing", "write"])
                .await
                .unwrap()
        })
        .await,
        "B drops the revoked role within a second"
    );
    // And the other way round, for a `p` rule.
    assert!(b
        .add_policy(["admin", "acme", "billing", "read"])
        .await
        .unwrap());
    assert!(a
        .add_grouping_policy(["carol", "admin", "acme"])
        .await
        .unwrap());
    assert!(
        eventually(Duration::from_secs(1), || async {
            a.enforce(["carol", "acme", "billing", "read"])
                .await
                .unwrap()
        })
        .await
    );
    // A reload picks up the unannounced rule too: it was in the store all along.
    b.reload().await.unwrap();
    assert!(b
        .enforce(["mallory", "acme", "billing", "write"])
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_changes_reach_another_engine_in_process() {
    let (_dir, store) = tests::sqlite_store().await;
    let bus = ChangeBus::local();
    two_instances(&store, &bus, &bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_changes_reach_another_instance_over_redis_and_postgres() {
    let Some(redis) = redis_url().await else {
        return;
    };
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = SqlStore::connect(&db.url, SqlOptions::default())
        .await
        .unwrap();
    let channel = unique_prefix("policies");
    let bus_a = ChangeBus::redis(&redis, &channel).await.unwrap();
    let bus_b = ChangeBus::redis(&redis, &channel).await.unwrap();
    two_instances(&store, &bus_a, &bus_b).await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn an_unreachable_redis_bus_is_an_error() {
    let err = ChangeBus::redis("redis://127.0.0.1:1", "auth-test:nowhere")
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("change bus: redis:"), "{err}");
}

#[tokio::test]
async fn the_decision_cache_never_outlives_a_change() {
    let engine = PolicyEngine::in_memory(BASIC_RBAC).await.unwrap();
    assert!(!engine.enforce(["alice", "data1", "read"]).await.unwrap());
    engine.add_policy(["admin", "data1", "read"]).await.unwrap();
    assert!(!engine.enforce(["alice", "data1", "read"]).await.unwrap());
    engine
        .add_grouping_policy(["alice", "admin"])
        .await
        .unwrap();
    assert!(engine.enforce(["alice", "data1", "read"]).await.unwrap());
    assert!(
        engine.enforce(["alice", "data1", "read"]).await.unwrap(),
        "cached"
    );
    engine
        .remove_policy(["admin", "data1", "read"])
        .await
        .unwrap();
    assert!(!engine.enforce(["alice", "data1", "read"]).await.unwrap());
}

#[tokio::test]
async fn decisions_are_explained_by_the_rules_that_matched() {
    let engine = PolicyEngine::in_memory(RBAC_WITH_DOMAINS).await.unwrap();
    for (kind, rule) in domain_rules() {
        match rule.as_slice() {
            [a, b, c, d] if kind == "p" => {
                engine.add_policy([*a, *b, *c, *d]).await.unwrap();
            }
            [a, b, c] => {
                engine.add_grouping_policy([*a, *b, *c]).await.unwrap();
            }
            other => panic!("unexpected rule {other:?}"),
        }
    }
    let why = engine
        .explain(("alice", "tenant1", "data1", "write"))
        .await
        .unwrap();
    assert!(why.allowed);
    assert_eq!(why.rules, vec![vec!["admin", "tenant1", "data1", "write"]]);
    let why = engine
        .explain(("alice", "tenant2", "data2", "read"))
        .await
        .unwrap();
    assert!(!why.allowed);
    assert!(why.rules.is_empty());
}

#[tokio::test]
async fn abac_rules_see_subject_resource_and_environment() {
    let (_dir, store) = tests::sqlite_store().await;
    let engine = PolicyEngine::new(ENVIRONMENT_MODEL, SqlCasbinAdapter::new(store.clone()))
        .await
        .unwrap();
    // Same tenant may read reports in office hours, from the office network, with GET/HEAD;
    // the owner may write at any time from anywhere; night shift spans midnight.
    engine
        .add_policy([
            "r.sub.tenant == r.obj.tenant",
            "report",
            "read",
            "09:00-17:00",
            "10.0.0.0/8",
            "GET|HEAD",
        ])
        .await
        .unwrap();
    engine
        .add_policy([
            "r.sub.id == r.obj.owner",
            "report",
            "write",
            "*",
            "0.0.0.0/0",
            ".*",
        ])
        .await
        .unwrap();
    engine
        .add_policy([
            "r.sub.tenant == r.obj.tenant",
            "night-log",
            "read",
            "22:00-06:00",
            "0.0.0.0/0",
            "GET",
        ])
        .await
        .unwrap();
    // Loaded back from the store by a fresh engine.
    let engine = PolicyEngine::new(ENVIRONMENT_MODEL, SqlCasbinAdapter::new(store.clone()))
        .await
        .unwrap();

    let subject = |id: &str, tenant: &str| {
        let mut s = AbacSubject::from_principal(&principal(id));
        s.tenant = tenant.to_owned();
        s
    };
    let report = AbacResource::new("report", "r1")
        .owned_by("bob")
        .in_tenant("acme");
    let at = |hh: u8, mm: u8| {
        time::OffsetDateTime::UNIX_EPOCH
            .replace_date(time::Date::from_calendar_date(2026, time::Month::November, 23).unwrap())
            .replace_time(time::Time::from_hms(hh, mm, 0).unwrap())
    };
    let env = |ip: &str, method: &str, hh: u8, mm: u8| {
        Environment::new(ip.parse::<IpAddr>().unwrap(), method, at(hh, mm))
    };
    let decide = |sub: AbacSubject, obj: AbacResource, act: &'static str, env: Environment| {
        let engine = &engine;
        async move { engine.enforce_with((sub, obj, act, env)).await.unwrap() }
    };

    let alice = || subject("alice", "acme");
    assert!(
        decide(
            alice(),
            report.clone(),
            "read",
            env("10.1.2.3", "get", 9, 0)
        )
        .await
    );
    assert!(
        decide(
            alice(),
            report.clone(),
            "read",
            env("10.1.2.3", "HEAD", 16, 59)
        )
        .await
    );
    assert!(
        !decide(
            alice(),
            report.clone(),
            "read",
            env("10.1.2.3", "GET", 17, 0)
        )
        .await,
        "window end is exclusive"
    );
    assert!(
        !decide(
            alice(),
            report.clone(),
            "read",
            env("10.1.2.3", "GET", 8, 59)
        )
        .await,
        "before hours"
    );
    assert!(
        !decide(
            alice(),
            report.clone(),
            "read",
            env("192.168.1.1", "GET", 10, 0)
        )
        .await,
        "outside the office network"
    );
    assert!(
        !decide(
            alice(),
            report.clone(),
            "read",
            env("10.1.2.3", "DELETE", 10, 0)
        )
        .await,
        "method not allowed"
    );
    assert!(
        !decide(
            subject("carol", "globex"),
            report.clone(),
            "read",
            env("10.1.2.3", "GET", 10, 0)
        )
        .await,
        "another tenant"
    );
    assert!(
        !decide(
            alice(),
            report.clone(),
            "write",
            env("10.1.2.3", "POST", 10, 0)
        )
        .await,
        "not the owner"
    );
    assert!(
        decide(
            subject("bob", "acme"),
            report.clone(),
            "write",
            env("203.0.113.9", "POST", 3, 0)
        )
        .await
    );

    let log = AbacResource::new("night-log", "n1").in_tenant("acme");
    assert!(decide(alice(), log.clone(), "read", env("10.0.0.1", "GET", 23, 30)).await);
    assert!(decide(alice(), log.clone(), "read", env("10.0.0.1", "GET", 5, 59)).await);
    assert!(!decide(alice(), log.clone(), "read", env("10.0.0.1", "GET", 6, 0)).await);
    assert!(!decide(alice(), log, "read", env("10.0.0.1", "GET", 12, 0)).await);
}

fn principal(id: &str) -> auth_axum::core::Principal {
    let claims: auth_axum::core::Claims = serde_json::from_value(serde_json::json!({
        "sub": id, "exp": 2, "iat": 1, "nbf": 1, "jti": "j", "typ": "access"
    }))
    .unwrap();
    auth_axum::core::Principal::from_claims(&claims)
}
