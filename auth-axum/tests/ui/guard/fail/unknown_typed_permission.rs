use auth_axum::{require_permissions, Permissions};

#[derive(Permissions)]
enum Perm {
    ArticlesWrite,
}

#[require_permissions(Perm::ArticlesWirte)]
async fn handler() {}

fn main() {}
