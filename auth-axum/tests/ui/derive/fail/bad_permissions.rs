use auth_axum::Permissions;

#[derive(Permissions)]
enum Perm {
    ArticlesRead(u8),
    #[permission("Articles Write")]
    ArticlesWrite,
    ArticlesList,
    #[permission("articles.list")]
    Duplicate,
    #[permission(kind = "float")]
    Weird,
    #[permission(allowed = "a")]
    AllowedWithoutString,
    #[permission(kind = "string", allowed = "a", default = "b")]
    DefaultNotAllowed,
}

#[derive(Permissions)]
struct NotAnEnum;

fn main() {}
