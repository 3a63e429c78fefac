//! RBAC: the compiled hierarchy agrees with a naive graph walk on random role graphs, the seed
//! example works as written, sources compose, cycles are refused, and decisions explain
//! themselves.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
#![allow(
    clippy::result_large_err,
    reason = "figment::Jail closures return figment::Error"
)]

use auth_core::authz::{
    permission_matches, AuthorizationService, Reason, RoleError, RoleHierarchy,
};
use auth_core::config::{AuthConfig, ConfigError};
use auth_core::token::Claims;
use auth_core::Principal;
use proptest::prelude::*;

/// A role graph as plain data: parents (always of a lower index, so acyclic) and grants.
type Graph = Vec<(Vec<usize>, Vec<String>)>;

fn name(i: usize) -> String {
    format!("r{i}")
}

fn build(graph: &Graph) -> RoleHierarchy {
    let mut builder = RoleHierarchy::builder();
    for (i, (parents, grants)) in graph.iter().enumerate() {
        let parents: Vec<String> = parents.iter().map(|&p| name(p)).collect();
        let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
        let grants: Vec<&str> = grants.iter().map(String::as_str).collect();
        builder = builder.role(&name(i), &parents, &grants);
    }
    builder.build().unwrap()
}

/// The reference: walk the graph for every question.
fn naive_has_role(graph: &Graph, held: usize, role: usize) -> bool {
    held == role
        || graph[held]
            .0
            .iter()
            .any(|&p| naive_has_role(graph, p, role))
}

fn naive_has_permission(graph: &Graph, held: usize, permission: &str) -> bool {
    graph[held]
        .1
        .iter()
        .any(|g| permission_matches(g, permission))
        || graph[held]
            .0
            .iter()
            .any(|&p| naive_has_permission(graph, p, permission))
}

fn permission() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        "[ab]".prop_map(|r| format!("{r}.*")),
        "[ab]\\.[xy]".prop_map(String::from),
        "[ab]\\.[xy]\\.[uv]".prop_map(String::from),
        "[ab]\\.[xy]\\.\\*".prop_map(String::from),
    ]
}

fn graph() -> impl Strategy<Value = Graph> {
    (1_usize..12).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                let parents = if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    prop::collection::vec(0..i, 0..3).boxed()
                };
                (parents, prop::collection::vec(permission(), 0..3))
            })
            .collect::<Vec<_>>()
    })
}

proptest! {
    #[test]
    fn compiled_checks_equal_a_graph_walk(graph in graph(), required in "[ab]\\.[xy](\\.[uv])?") {
        let hierarchy = build(&graph);
        for held in 0..graph.len() {
            let roles = [name(held)];
            prop_assert_eq!(
                hierarchy.has_permission(&roles, &[], &required),
                naive_has_permission(&graph, held, &required),
                "role r{} and {}", held, required
            );
            for role in 0..graph.len() {
                prop_assert_eq!(hierarchy.has_role(&roles, &name(role)), naive_has_role(&graph, held, role));
            }
        }
    }
}

fn principal(roles: &[&str], permissions: &[&str]) -> Principal {
    let claims: Claims = serde_json::from_value(serde_json::json!({
        "sub": "u1", "exp": 2, "iat": 1, "nbf": 1, "jti": "j", "typ": "access",
        "roles": roles, "permissions": permissions,
    }))
    .unwrap();
    Principal::from_claims(&claims)
}

fn seed_example() -> RoleHierarchy {
    RoleHierarchy::builder()
        .role("admin", &[], &["*"])
        .role("editor", &["viewer"], &["articles.write"])
        .role("viewer", &[], &["articles.read"])
        .build()
        .unwrap()
}

#[test]
fn the_seed_example_works_as_written() {
    let authz = AuthorizationService::new(seed_example());
    let editor = principal(&["editor"], &[]);
    assert!(authz.authorize(&editor, "articles", "read").allowed);
    assert!(authz.authorize(&editor, "articles", "write").allowed);
    assert!(!authz.authorize(&editor, "users", "delete").allowed);
    assert!(
        authz
            .authorize(&principal(&["admin"], &[]), "users", "delete")
            .allowed
    );
    let viewer = principal(&["viewer"], &[]);
    assert!(!authz.authorize(&viewer, "articles", "write").allowed);
    assert!(
        !authz
            .authorize(&principal(&[], &[]), "articles", "read")
            .allowed,
        "deny by default"
    );
    assert!(
        !authz
            .authorize(&principal(&["ghost"], &[]), "articles", "read")
            .allowed,
        "unknown role grants nothing"
    );
}

#[test]
fn decisions_explain_themselves() {
    let authz = AuthorizationService::new(seed_example());
    let decision = authz.authorize(&principal(&["editor"], &[]), "articles", "read");
    assert_eq!(
        decision.reason,
        Reason::Role {
            role: "editor".to_owned()
        }
    );
    let direct = authz.authorize(&principal(&[], &["reports.*"]), "reports", "export");
    assert_eq!(
        direct.reason,
        Reason::DirectGrant {
            granted: "reports.*".to_owned()
        }
    );
    assert_eq!(
        direct.to_string(),
        "allowed `reports.export`: granted directly by `reports.*`"
    );
    let denied = authz.authorize(&principal(&["viewer"], &[]), "articles", "write");
    assert_eq!(
        denied.to_string(),
        "denied `articles.write`: no role or grant covers it"
    );
}

#[test]
fn roles_can_be_replaced_atomically_at_run_time() {
    let authz = AuthorizationService::new(seed_example());
    let viewer = principal(&["viewer"], &[]);
    let before = authz.roles();
    authz.set_roles(
        before
            .compose(
                &RoleHierarchy::builder()
                    .role("viewer", &[], &["comments.write"])
                    .build()
                    .unwrap(),
            )
            .unwrap(),
    );
    assert!(authz.authorize(&viewer, "comments", "write").allowed);
    assert!(
        authz.authorize(&viewer, "articles", "read").allowed,
        "composition keeps earlier grants"
    );
    assert!(
        !before.has_permission(&["viewer".to_owned()], &[], "comments.write"),
        "the old snapshot is untouched"
    );
}

#[test]
fn cycles_and_unknown_parents_are_refused_naming_the_roles() {
    let cycle = RoleHierarchy::builder()
        .role("a", &["b"], &[])
        .role("b", &["c"], &[])
        .role("c", &["a"], &[])
        .build();
    assert_eq!(
        cycle.unwrap_err(),
        RoleError::Cycle(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let unknown = RoleHierarchy::builder().role("a", &["nope"], &[]).build();
    assert_eq!(
        unknown.unwrap_err().to_string(),
        "role `a` inherits from unknown role `nope`"
    );
    // A cycle across sources is caught when they compose.
    let one = RoleHierarchy::builder()
        .role("a", &[], &[])
        .role("b", &["a"], &[])
        .build()
        .unwrap();
    let two = RoleHierarchy::builder()
        .role("b", &[], &[])
        .role("a", &["b"], &[])
        .build()
        .unwrap();
    assert!(matches!(one.compose(&two), Err(RoleError::Cycle(_))));
}

#[test]
fn roles_come_from_configuration() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "auth.toml",
            "[authz.roles.viewer]\npermissions = [\"articles.read\"]\n\
             [authz.roles.editor]\ninherits = [\"viewer\"]\npermissions = [\"articles.write\"]\n",
        )?;
        let config = AuthConfig::load().expect("valid roles");
        let roles = config.authz.hierarchy().unwrap();
        assert!(roles.has_permission(&["editor".to_owned()], &[], "articles.read"));
        jail.create_file(
            "auth.toml",
            "[authz.roles.a]\ninherits = [\"b\"]\n[authz.roles.b]\ninherits = [\"a\"]\n",
        )?;
        let err = AuthConfig::load().expect_err("cycle accepted");
        assert!(
            matches!(
                &err,
                ConfigError::Invalid {
                    var: "authz.roles",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("cycle"), "{err}");
        Ok(())
    });
}

/// An API key's scopes bound its owner's rights: a permission needs both the owner's grant and
/// a scope; roles count only for a key scoped `*`; what only the scopes stand in the way of is
/// `insufficient_scope`, what the owner lacks stays `forbidden`.
#[test]
fn scopes_bound_what_a_key_of_the_owner_may_do() {
    use auth_core::authz::Requirement;
    use auth_core::AuthError;

    let roles = seed_example();
    let authz = AuthorizationService::new(seed_example());
    let editor = principal(&["editor"], &[]);
    let read_only = editor.clone().with_scopes(vec!["articles.read".to_owned()]);
    assert!(authz.authorize(&read_only, "articles", "read").allowed);
    let write = authz.authorize(&read_only, "articles", "write");
    assert!(!write.allowed);
    assert_eq!(write.reason, Reason::OutOfScope);
    assert!(!read_only.has_role("editor"), "a scoped key uses no role");

    let write_permission = Requirement::AllPermissions(&["articles.write"]);
    assert!(matches!(
        write_permission.check(&read_only, &roles),
        Err(AuthError::InsufficientScope(_))
    ));
    assert!(matches!(
        Requirement::AnyRole(&["editor"]).check(&read_only, &roles),
        Err(AuthError::InsufficientScope(_))
    ));
    // Beyond the owner: a wildcard scope grants nothing the owner lacks.
    let everything = editor.clone().with_scopes(vec!["*".to_owned()]);
    assert!(write_permission.check(&everything, &roles).is_ok());
    assert!(Requirement::AnyRole(&["editor"])
        .check(&everything, &roles)
        .is_ok());
    assert!(matches!(
        Requirement::AllPermissions(&["users.delete"]).check(&everything, &roles),
        Err(AuthError::Forbidden(_))
    ));
    assert!(matches!(
        Requirement::AnyRole(&["admin"]).check(&everything, &roles),
        Err(AuthError::Forbidden(_))
    ));
}
