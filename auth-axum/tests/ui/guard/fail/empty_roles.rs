use auth_axum::require_roles;

#[require_roles()]
async fn handler() {}

fn main() {}
