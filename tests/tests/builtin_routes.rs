//! The framework's own routes can be left out by name or replaced by a route of the service
//! on the same method and path, before the router is built; the matrix follows.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::prelude::*;
use auth_axum::routes::BuiltinRoute;
use auth_axum::testing::TestKit;
use axum::http::{Method, StatusCode};

#[auth_module]
#[derive(Clone)]
struct AppState {
    auth: AuthModule,
}

/// The service's own `/auth/me`.
#[require_auth]
async fn my_me(Auth(me): Auth) -> String {
    format!("mine: {}", me.user_id)
}

#[tokio::test]
async fn built_in_routes_are_left_out_or_replaced_by_name() {
    let kit = TestKit::new();
    let state = AppState { auth: kit.module() };
    let routes = state
        .auth_router()
        .without(BuiltinRoute::Register)
        .get("/auth/me", my_me);
    let rows = routes.routes();
    assert!(!rows.iter().any(|r| r.path == "/auth/register"), "left out");
    let me: Vec<_> = rows
        .iter()
        .filter(|r| r.path == "/auth/me" && r.method == Method::GET)
        .collect();
    assert_eq!(me.len(), 1, "replaced, not doubled");
    assert!(
        rows.iter()
            .any(|r| r.path == "/auth/me" && r.builtin == Some(BuiltinRoute::UpdateMe)),
        "the other method of the path is kept"
    );
    assert_eq!(me[0].builtin, None);
    assert!(me[0].handler.ends_with("my_me"), "{}", me[0].handler);
    assert_eq!(
        rows.iter()
            .find(|r| r.path == "/auth/login")
            .unwrap()
            .builtin,
        Some(BuiltinRoute::Login)
    );
    let app = routes.try_into_router().unwrap().with_state(state);

    let register = kit.post("/auth/register").send(&app).await;
    assert_eq!(register.status, StatusCode::NOT_FOUND);
    let user = auth_axum::testing::MockUser::new("ada");
    let me = kit.get("/auth/me").as_user(&user).send(&app).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body, b"mine: ada");
    // The rest are still there.
    let login = kit.post("/auth/login").send(&app).await;
    assert_ne!(login.status, StatusCode::NOT_FOUND);
    assert_eq!(kit.get("/health").send(&app).await.status, StatusCode::OK);
}

/// A route of the service added before the built-in ones replaces its built-in too.
#[tokio::test]
async fn a_route_added_first_replaces_the_built_in_one() {
    let kit = TestKit::new();
    let state = AppState { auth: kit.module() };
    let routes = AuthRouter::<AppState>::new()
        .get("/auth/me", my_me)
        .with_auth_routes(16 * 1024);
    assert_eq!(
        routes
            .routes()
            .iter()
            .filter(|r| r.path == "/auth/me" && r.method == Method::GET)
            .count(),
        1
    );
    let app = routes.into_router().with_state(state);
    let me = kit
        .get("/auth/me")
        .as_user(&auth_axum::testing::MockUser::new("bob"))
        .send(&app)
        .await;
    assert_eq!(me.body, b"mine: bob");
}
