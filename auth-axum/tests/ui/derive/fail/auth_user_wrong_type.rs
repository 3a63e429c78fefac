use auth_axum::AuthUser;

#[derive(AuthUser)]
struct User {
    #[auth(id)]
    id: u64,
    #[auth(username)]
    name: String,
    #[auth(active)]
    active: String,
    #[auth(roles)]
    roles: String,
}

fn main() {}
