use auth_axum::prelude::*;

#[auth_module]
#[derive(Clone)]
struct NoField {
    name: String,
}

#[auth_module]
#[derive(Clone)]
struct TwoFields {
    auth: AuthModule,
    other: AuthModule,
}

fn main() {}
