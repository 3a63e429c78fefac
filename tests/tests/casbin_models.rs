//! casbin's example models (basic RBAC, RBAC with domains, ABAC) give the same decisions
//! through our `PolicyEngine`, with policies persisted by our SQL adapter on SQLite and
//! PostgreSQL and loaded back by a fresh engine, as through casbin directly.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::authz::engine::PolicyEngine;
use auth_axum::core::store::sql::{SqlCasbinAdapter, SqlOptions, SqlStore};
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use serde::Serialize;
use tests::{sqlite_url, PgDatabase};

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
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&sqlite_url(dir.path()), SqlOptions::default())
        .await
        .unwrap();
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
