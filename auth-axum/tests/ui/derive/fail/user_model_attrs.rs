use auth_axum::AuthUser;

fn check(_: &String) -> Result<(), String> {
    Ok(())
}

#[derive(Clone, AuthUser)]
struct Member {
    #[auth(id)]
    id: String,
    #[auth(username, validate = check)]
    username: String,
    // A field of the stored user, unmarked: it would silently become a profile field.
    created_at: i64,
    // Read-only without a default: no registration could give it.
    #[auth(readonly)]
    plan: String,
    #[auth(record, default)]
    login_count: i64,
}

fn main() {}
