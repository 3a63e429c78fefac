use auth_axum::prelude::*;
use auth_axum::Access;
use axum::extract::State;

#[auth_module]
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
    assert_eq!(routes.routes().len(), 9);
    assert_eq!(routes.routes()[7].access, Access::Public);
    assert_eq!(routes.routes()[8].access.to_string(), "requires authentication; requires any of the roles `admin`");
    let _app: axum::Router = routes.into_router().with_state(state);
}
