use auth_axum::prelude::*;
use auth_axum::Access;
use axum::extract::State;

#[derive(Clone, Copy, Roles)]
enum Role {
    User,
    Admin,
}

#[auth_module(roles = Role)]
#[derive(Clone)]
struct AppState {
    auth: AuthModule,
    greeting: &'static str,
}

#[public]
async fn hello(State(state): State<AppState>) -> &'static str {
    state.greeting
}

#[require_auth]
#[require_roles("admin")]
async fn admin(Auth(me): Auth) -> String {
    me.user_id.to_string()
}

fn main() {
    let state = AppState { auth: AuthModule::stub(), greeting: "hi" };
    let routes = state.auth_router().get("/hello", hello).post("/admin", admin);
    // The framework's own routes come first; ours follow, with their rows.
    let row = |path: &str| &routes.routes().iter().find(|r| r.path == path).unwrap().access;
    assert!(routes.routes().iter().any(|r| r.path == "/auth/login"));
    assert_eq!(*row("/hello"), Access::Public);
    assert_eq!(row("/admin").to_string(), "requires authentication; requires any of the roles `admin`");
    let _app: axum::Router = routes.into_router().with_state(state);
}
