use auth_axum::AuthUser;

#[derive(AuthUser)]
struct User {
    #[auth(id)]
    id: u64,
    #[auth(usernam)]
    name: String,
}

fn main() {}
