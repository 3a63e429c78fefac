use auth_axum::prelude::*;

#[public]
#[require_auth]
async fn confused() {}

#[require_roles("admin")]
#[public]
async fn also_confused() {}

fn main() {}
