use auth_axum::require_policy;

#[require_policy("has_role(\"admin\") || user.name == path.owner")]
async fn unknown_field() {}

#[require_policy("has_role(\"admin\") &&")]
async fn incomplete() {}

#[require_policy("a", "b")]
async fn two_strings() {}

fn main() {}
