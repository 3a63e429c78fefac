use auth_axum::prelude::*;

#[auth_module]
#[derive(Clone)]
struct AppState {
    auth: AuthModule,
}

async fn forgotten() -> &'static str {
    "open by accident"
}

fn main() {
    let state = AppState { auth: AuthModule::stub() };
    let _ = state.auth_router().get("/forgotten", forgotten);
}
