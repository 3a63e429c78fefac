use auth_axum::require_roles;

#[require_roles("admin")]
struct Handler;

fn main() {}
