use auth_axum::{require_permissions, require_roles};

#[require_roles(42)]
async fn numbers() {}

#[require_roles("", "two words")]
async fn empty_names() {}

#[require_permissions(all("a.b"))]
async fn all_permissions() {}

#[require_roles("a", all("b"))]
async fn mixed() {}

#[require_auth(bearer)]
async fn auth_with_arguments() {}

use auth_axum::require_auth;

fn main() {}
