use auth_axum::Roles;

#[derive(Roles)]
enum Role {
    #[role(inherits(Admin))]
    Viewer,
    #[role(inherits(Viewer))]
    Editor,
    #[role(inherits(Editor))]
    Admin,
}

fn main() {}
