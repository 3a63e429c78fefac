use auth_axum::prelude::*;

#[auth_module(rolez = Role)]
#[derive(Clone)]
struct AppState {
    auth: AuthModule,
}

fn main() {}
