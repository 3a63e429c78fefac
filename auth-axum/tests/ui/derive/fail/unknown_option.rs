use auth_axum::Roles;

#[derive(Roles)]
enum Role {
    Viewer,
    #[role(inherit(Viewer))]
    Editor,
}

fn main() {}
