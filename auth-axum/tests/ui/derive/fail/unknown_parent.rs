use auth_axum::Roles;

#[derive(Roles)]
enum Role {
    Viewer,
    #[role(inherits(Veiwer))]
    Editor,
}

fn main() {}
