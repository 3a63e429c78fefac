use auth_axum::AuthUser;

#[derive(AuthUser)]
#[auth(model = false)]
struct User {
    #[auth(id)]
    id: u64,
    #[auth(username)]
    name: String,
    #[auth(active)]
    active: String,
    #[auth(roles)]
    // A type with no `AsRef` impls: the error then lists no other types, whose order and
    // paths change with the dependency graph.
    roles: u32,
}

fn main() {}
