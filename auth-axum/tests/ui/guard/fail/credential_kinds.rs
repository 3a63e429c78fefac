use auth_axum::{require_auth, require_roles};

#[require_auth(any(bearer, session))]
async fn unknown_kind() {}

#[require_auth(any())]
async fn no_kind() {}

#[require_roles("admin", any(cookie))]
async fn kinds_on_roles() {}

fn main() {}
