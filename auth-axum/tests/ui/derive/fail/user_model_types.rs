use auth_axum::AuthUser;

// A user model the framework's stores keep: its id cannot be a number.
#[derive(Clone, AuthUser)]
struct Member {
    #[auth(id)]
    id: u64,
    #[auth(username)]
    username: String,
}

fn main() {}
