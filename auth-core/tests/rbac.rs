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

/// The claims of a token of `roles`, whose user proved `amr` at `auth_time`.
fn claims_with(roles: &[&str], amr: &[&str], auth_time: i64) -> Claims {
    serde_json::from_value(serde_json::json!({
        "sub": "u1", "exp": 2_000_000_000, "iat": 1, "nbf": 1, "jti": "j", "typ": "access",
        "roles": roles, "amr": amr, "auth_time": auth_time,
    }))
    .unwrap()
}

/// A principal whose token says `amr`, authenticated at `auth_time`.
fn with_factors(amr: &[&str], auth_time: i64) -> Principal {
    Principal::from_claims(&claims_with(&[], amr, auth_time))
}

#[test]
fn factor_requirements_read_the_principal_s_factors_and_their_time() {
    use auth_core::authz::{PolicyContext, Requirement};
    use auth_core::mfa::{Assurance, FactorKind};
    use auth_core::AuthError;

    let roles = RoleHierarchy::default();
    let password = with_factors(&["pwd"], 1_000);
    let totp = with_factors(&["pwd", "otp"], 1_000);
    let backup = with_factors(&["pwd", "backup_code"], 1_000);
    let passkey = with_factors(&["hwk"], 1_000);
    assert_eq!(password.assurance(), Assurance::Aal1);
    assert_eq!(
        (totp.assurance(), backup.assurance(), passkey.assurance()),
        (Assurance::Aal2, Assurance::Aal2, Assurance::Aal2)
    );

    let any = Requirement::AnyFactor(&[FactorKind::Totp, FactorKind::Passkey]);
    let all = Requirement::AllFactors(&[FactorKind::Password, FactorKind::Totp]);
    for (principal, mfa, any_met, all_met) in [
        (&password, false, false, false),
        (&totp, true, true, true),
        (&backup, true, false, false),
        (&passkey, true, true, false),
    ] {
        assert_eq!(Requirement::Mfa.is_met(principal, &roles), mfa);
        assert_eq!(any.is_met(principal, &roles), any_met);
        assert_eq!(all.is_met(principal, &roles), all_met);
    }

    // Unmet, they ask for more authentication, naming what would do.
    let Err(AuthError::InsufficientAuthentication(challenge)) = any.check(&backup, &roles) else {
        panic!("expected a challenge");
    };
    assert_eq!(challenge.methods, ["totp", "passkey"]);
    assert_eq!(
        challenge.detail,
        "requires any of the factors `totp`, `passkey`"
    );

    // Recency: measured at the context's time, up to and including max_age.
    let recent = Requirement::RecentAuth { max_age: 300 };
    let at = |now| PolicyContext::new(&password, &roles, &[], &[]).at(now);
    assert!(recent.is_met_in(&at(1_300)));
    assert!(!recent.is_met_in(&at(1_301)));
    let Err(AuthError::InsufficientAuthentication(challenge)) = recent.check_in(&at(1_301)) else {
        panic!("expected a challenge");
    };
    assert_eq!(challenge.max_age, Some(300));
    assert_eq!(
        challenge.methods,
        ["password", "totp", "backup_code", "passkey"]
    );

    // An API key is never challenged: it cannot step up.
    let key = password
        .clone()
        .with_credential(auth_core::principal::CredentialKind::ApiKey);
    assert!(matches!(
        Requirement::Mfa.check(&key, &roles),
        Err(AuthError::Forbidden(_))
    ));
}

#[test]
fn roles_that_demand_mfa_are_set_aside_without_it() {
    let demanding = vec!["admin".to_owned()];
    let password_only = Principal::from_claims(&claims_with(&["user", "admin"], &["pwd"], 1));
    let limited = password_only.without_roles_needing_mfa(&demanding).unwrap();
    assert_eq!(limited.roles, ["user"]);
    let with_mfa = Principal::from_claims(&claims_with(&["user", "admin"], &["pwd", "otp"], 1));
    assert!(with_mfa.without_roles_needing_mfa(&demanding).is_none());
    assert!(password_only.without_roles_needing_mfa(&[]).is_none());
}
