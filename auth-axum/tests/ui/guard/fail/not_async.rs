use auth_axum::require_auth;

#[require_auth]
fn handler() -> &'static str {
    "ok"
}

fn main() {}
