//! A guard that names a role or permission no schema declares would be a silent 403 at run
//! time; the router built by `#[auth_module]`'s `auth_router()` refuses instead, naming each
//! name, its route and its handler. The configured default roles are checked too.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::prelude::*;
use auth_axum::testing::TestKit;

#[derive(Clone, Copy, Permissions)]
enum Perm {
    ArticlesRead,
    ArticlesWrite,
}

#[derive(Clone, Copy, Roles)]
enum Role {
    #[role(permissions(Perm::ArticlesRead))]
    User,
    #[role(inherits(User), permissions(Perm::ArticlesWrite))]
    Editor,
    #[role(permissions("*"))]
    Admin,
}

#[auth_module(roles = Role, permissions = Perm)]
#[derive(Clone)]
struct AppState {
    auth: AuthModule,
}

#[require_roles(Role::Editor)]
async fn typed() -> &'static str {
    "typed"
}

#[require_roles("admn")]
async fn misspelt_role() -> &'static str {
    "never"
}

#[require_permissions("articles.wrte")]
async fn misspelt_permission() -> &'static str {
    "never"
}

#[require_tenant_roles("owner")]
async fn undeclared_tenant_role() -> &'static str {
    "never"
}

#[require_permissions("reports.read")]
async fn permission_of_no_schema() -> &'static str {
    "never"
}

fn state() -> AppState {
    AppState {
        auth: TestKit::new().module(),
    }
}

#[test]
fn declared_names_build_the_router() {
    let state = state();
    let routes = state
        .auth_router()
        .get("/typed", typed)
        .post("/articles", misspelt_permission_fixed);
    let _router = routes.try_into_router().expect("every name is declared");
}

#[require_permissions(Perm::ArticlesWrite, "articles.read")]
async fn misspelt_permission_fixed() -> &'static str {
    "ok"
}

#[test]
fn undeclared_names_refuse_to_build_the_router_naming_each() {
    let state = state();
    let routes = state
        .auth_router()
        .get("/typed", typed)
        .get("/admin", misspelt_role)
        .post("/articles", misspelt_permission)
        .get("/tenant", undeclared_tenant_role)
        .get("/reports", permission_of_no_schema);
    let err = routes
        .try_into_router()
        .expect_err("undeclared names accepted");
    assert_eq!(err.problems.len(), 4, "{err}");
    let message = err.to_string();
    assert!(message.starts_with(
        "guards name roles or permissions that no schema declares:\n- GET /admin (`declared_names::misspelt_role`): role `admn` is declared by no role schema (declared: admin, editor, user)"
    ), "{message}");
    for line in [
        "- POST /articles (`declared_names::misspelt_permission`): permission `articles.wrte` is granted by no role and declared by no permission schema",
        "- GET /tenant (`declared_names::undeclared_tenant_role`): role `owner` is declared by no role schema",
        "- GET /reports (`declared_names::permission_of_no_schema`): permission `reports.read` is granted by no role",
    ] {
        assert!(message.contains(line), "{line}\n{message}");
    }
}

/// A default role (given to every new user) that no schema declares is refused too.
#[test]
fn an_undeclared_default_role_refuses_to_build_the_router() {
    #[derive(Clone, Copy, Roles)]
    enum Narrow {
        Admin,
    }

    #[auth_module(roles = Narrow)]
    #[derive(Clone)]
    struct Narrowed {
        auth: AuthModule,
    }

    let state = Narrowed {
        auth: TestKit::new().module(),
    };
    let err = state.auth_router().try_into_router().unwrap_err();
    assert_eq!(
        err.problems,
        ["AUTH__USERS__DEFAULT_ROLES names role `user`, which no role schema declares (declared: admin)"]
    );
}

/// `into_router` refuses at start-up with the same message.
#[test]
#[should_panic(expected = "refusing to build the router: guards name roles or permissions")]
fn into_router_refuses_with_the_same_message() {
    let state = state();
    let _ = state
        .auth_router()
        .get("/admin", misspelt_role)
        .into_router();
}
