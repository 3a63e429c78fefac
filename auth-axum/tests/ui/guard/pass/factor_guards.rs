use auth_axum::prelude::*;
use axum::routing::{get, post};
use axum::Router;

#[require_mfa]
async fn payouts() -> &'static str {
    "payouts"
}

#[require_factors(any(totp, passkey))]
async fn transfer() {}

#[require_factors(all(password, totp))]
async fn both() {}

#[require_recent_auth(max_age = "5m")]
async fn delete_account() {}

#[require_recent_auth(max_age = 90)]
async fn seconds() {}

#[require_roles("admin")]
#[require_mfa]
#[require_recent_auth(max_age = "1h")]
async fn stacked(Auth(me): Auth) -> String {
    me.user_id.to_string()
}

fn main() {
    let _app: Router<AuthModule> = Router::new()
        .route("/a", get(payouts))
        .route("/b", post(transfer))
        .route("/c", post(both))
        .route("/d", post(delete_account))
        .route("/e", post(seconds))
        .route("/f", get(stacked));
}
