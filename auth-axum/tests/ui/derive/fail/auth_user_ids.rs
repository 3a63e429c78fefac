use auth_axum::AuthUser;

#[derive(AuthUser)]
struct NoId {
    #[auth(username)]
    name: String,
}

#[derive(AuthUser)]
struct TwoIds {
    #[auth(id)]
    id: u64,
    #[auth(id)]
    other_id: u64,
    #[auth(username)]
    name: String,
}

fn main() {}
