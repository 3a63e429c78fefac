#![deny(warnings)]
// Shadowing common names must not break the generated code.
#![allow(dead_code)]

type Result = ();
type Option = ();
struct Ok;
mod axum {}

#[auth_axum::require_permissions("articles.write")]
async fn handler() -> &'static str {
    "ok"
}

#[derive(auth_axum::Permissions)]
enum Perm {
    ArticlesWrite,
}

#[derive(auth_axum::Roles)]
enum Role {
    #[role(permissions(Perm::ArticlesWrite))]
    Editor,
}

fn main() {
    let _ = handler;
}
