//! Authorization check cost, side by side in one run: our compiled RBAC check, a plain
//! `HashSet` lookup of the user's precomputed permissions (the floor), and casbin `enforce` on
//! the same roles and policies, for small to large policy sets; allowed (casbin's typical
//! case) and denied (its worst).
//!
//! A second group measures what wrapping casbin costs: `PolicyEngine` against the same
//! `Enforcer` called directly, for an ABAC request (attribute structs, not cached) and for a
//! string RBAC request (answered from the decision cache).
//!
//! `cargo bench -p auth-core --bench authz`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::collections::HashSet;
use std::hint::black_box;

use auth_core::authz::engine::{PolicyEngine, Resource, Subject};
use auth_core::authz::RoleHierarchy;
use casbin::prelude::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const MODEL: &str = r#"
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
"#;

struct Fixture {
    ours: RoleHierarchy,
    held: Vec<String>,
    floor: HashSet<String>,
    casbin: Enforcer,
    user: String,
    resource: String,
}

/// `roles` roles in chains of ten (each inherits the previous one in its chain), each granting
/// read and write on its own resource; `users` users, each holding one role. The checked user
/// holds the sixth role of the middle chain and asks for the chain's first resource (five hops
/// up; casbin's default role manager stops at ten levels of inheritance). casbin walks its
/// policy lines in order and stops at the first allow, so the middle chain is its typical
/// case; a request nobody is granted (the `_denied` variants) is its worst.
fn fixture(runtime: &tokio::runtime::Runtime, roles: usize, users: usize) -> Fixture {
    let mut builder = RoleHierarchy::builder();
    let mut policies = Vec::new();
    let mut groupings = Vec::new();
    for i in 0..roles {
        let role = format!("r{i}");
        let parents: Vec<String> = if i % 10 == 0 {
            Vec::new()
        } else {
            vec![format!("r{}", i - 1)]
        };
        let grants = [format!("res{i}.read"), format!("res{i}.write")];
        let parent_refs: Vec<&str> = parents.iter().map(String::as_str).collect();
        let grant_refs: Vec<&str> = grants.iter().map(String::as_str).collect();
        builder = builder.role(&role, &parent_refs, &grant_refs);
        for action in ["read", "write"] {
            policies.push(vec![role.clone(), format!("res{i}"), action.to_owned()]);
        }
        for parent in parents {
            groupings.push(vec![role.clone(), parent]);
        }
    }
    for u in 0..users {
        groupings.push(vec![format!("u{u}"), format!("r{}", u % roles)]);
    }
    let ours = builder.build().unwrap();
    let chain = roles / 2 / 10 * 10;
    let user_index = chain + 5; // holds r{chain + 5}
    let held = vec![format!("r{user_index}")];
    let floor: HashSet<String> = (chain..=user_index)
        .flat_map(|i| [format!("res{i}.read"), format!("res{i}.write")])
        .collect();
    let casbin = runtime.block_on(async {
        let model = DefaultModel::from_str(MODEL).await.unwrap();
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .unwrap();
        enforcer.add_policies(policies).await.unwrap();
        enforcer.add_grouping_policies(groupings).await.unwrap();
        enforcer
    });
    Fixture {
        ours,
        held,
        floor,
        casbin,
        user: format!("u{user_index}"),
        resource: format!("res{chain}"),
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("authorize");
    for (roles, users) in [(10, 100), (100, 1_000), (1_000, 10_000)] {
        let f = fixture(&runtime, roles, users);
        let permission = format!("{}.read", f.resource);
        assert!(f.ours.has_permission(&f.held, &[], &permission));
        assert!(f
            .casbin
            .enforce((f.user.as_str(), f.resource.as_str(), "read"))
            .unwrap());
        let size = format!("{roles}r_{users}u");
        group.bench_with_input(BenchmarkId::new("ours_compiled", &size), &f, |b, f| {
            b.iter(|| {
                f.ours
                    .has_permission(black_box(&f.held), &[], black_box(&permission))
            });
        });
        group.bench_with_input(BenchmarkId::new("hashset_floor", &size), &f, |b, f| {
            b.iter(|| f.floor.contains(black_box(permission.as_str())));
        });
        group.bench_with_input(BenchmarkId::new("casbin_enforce", &size), &f, |b, f| {
            b.iter(|| {
                f.casbin
                    .enforce(black_box((f.user.as_str(), f.resource.as_str(), "read")))
                    .unwrap()
            });
        });
        // A permission no role grants: ours costs the same, casbin reads every policy line.
        assert!(!f.ours.has_permission(&f.held, &[], "nothing.read"));
        assert!(!f
            .casbin
            .enforce((f.user.as_str(), "nothing", "read"))
            .unwrap());
        group.bench_with_input(BenchmarkId::new("ours_denied", &size), &f, |b, f| {
            b.iter(|| {
                f.ours
                    .has_permission(black_box(&f.held), &[], black_box("nothing.read"))
            });
        });
        group.bench_with_input(BenchmarkId::new("casbin_denied", &size), &f, |b, f| {
            b.iter(|| {
                f.casbin
                    .enforce(black_box((f.user.as_str(), "nothing", "read")))
                    .unwrap()
            });
        });
    }
    group.finish();
}

const ABAC_MODEL: &str = r#"
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.sub.id == r.obj.owner || (r.sub.tenant == r.obj.tenant && r.act == "read")
"#;

fn subject() -> Subject {
    let claims: auth_core::Claims = serde_json::from_value(serde_json::json!({
        "sub": "alice", "exp": 2, "iat": 1, "nbf": 1, "jti": "j", "typ": "access",
        "tenant": "acme"
    }))
    .unwrap();
    Subject::from_principal(&auth_core::Principal::from_claims(&claims))
}

fn wrapping(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("casbin_wrapped");
    let sub = subject();
    let obj = Resource::new("report", "r1")
        .owned_by("bob")
        .in_tenant("acme");
    let (direct, engine) = runtime.block_on(async {
        let model = DefaultModel::from_str(ABAC_MODEL).await.unwrap();
        let direct = Enforcer::new(model, MemoryAdapter::default())
            .await
            .unwrap();
        let engine = PolicyEngine::in_memory(ABAC_MODEL).await.unwrap();
        (direct, engine)
    });
    assert!(direct.enforce((&sub, &obj, "read")).unwrap());
    group.bench_function("abac/casbin_direct", |b| {
        b.iter(|| direct.enforce(black_box((&sub, &obj, "read"))).unwrap());
    });
    group.bench_function("abac/policy_engine", |b| {
        b.to_async(&runtime).iter(|| async {
            engine
                .enforce_with(black_box((&sub, &obj, "read")))
                .await
                .unwrap()
        });
    });

    let f = fixture(&runtime, 100, 1_000);
    let engine = runtime.block_on(async {
        let engine = PolicyEngine::in_memory(MODEL).await.unwrap();
        for i in 0..100 {
            let role = format!("r{i}");
            let resource = format!("res{i}");
            for action in ["read", "write"] {
                engine
                    .add_policy([role.as_str(), resource.as_str(), action])
                    .await
                    .unwrap();
            }
            if i % 10 != 0 {
                let parent = format!("r{}", i - 1);
                engine
                    .add_grouping_policy([role.as_str(), parent.as_str()])
                    .await
                    .unwrap();
            }
        }
        for u in 0..1_000 {
            let user = format!("u{u}");
            let role = format!("r{}", u % 100);
            engine
                .add_grouping_policy([user.as_str(), role.as_str()])
                .await
                .unwrap();
        }
        engine
    });
    assert!(runtime
        .block_on(engine.enforce(["u5", "res0", "read"]))
        .unwrap());
    group.bench_function("rbac_100r_1000u/casbin_direct", |b| {
        b.iter(|| f.casbin.enforce(black_box(("u5", "res0", "read"))).unwrap());
    });
    group.bench_function("rbac_100r_1000u/policy_engine_cached", |b| {
        b.to_async(&runtime).iter(|| async {
            engine
                .enforce(black_box(["u5", "res0", "read"]))
                .await
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench, wrapping);
criterion_main!(benches);
