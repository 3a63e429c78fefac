use auth_axum::{Permissions, Roles};

#[derive(Permissions)]
enum Perm {
    ArticlesRead,
}

#[derive(Roles)]
enum Role {
    #[role(permissions(Perm::ArticlesReed))]
    Viewer,
}

fn main() {}
