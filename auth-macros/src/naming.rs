//! Default names derived from variant identifiers.

/// `ArticlesWrite` -> `["articles", "write"]`.
fn words(ident: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for c in ident.chars() {
        if c.is_uppercase() || words.is_empty() {
            words.push(String::new());
        }
        if let Some(word) = words.last_mut() {
            word.extend(c.to_lowercase());
        }
    }
    words
}

/// `ArticlesWrite` -> `articles.write`; `UsersResetPassword` -> `users.reset_password`;
/// `Admin` -> `admin`.
pub(crate) fn permission_name(ident: &str) -> String {
    let words = words(ident);
    match words.split_first() {
        Some((resource, [])) => resource.clone(),
        Some((resource, action)) => format!("{resource}.{}", action.join("_")),
        None => String::new(),
    }
}

/// `SuperAdmin` -> `super_admin`.
pub(crate) fn role_name(ident: &str) -> String {
    words(ident).join("_")
}

/// `ArticlesWrite` -> `Articles write`.
pub(crate) fn label(ident: &str) -> String {
    let mut label = words(ident).join(" ");
    if let Some(first) = label.get(..1) {
        let upper = first.to_uppercase();
        label.replace_range(..1, &upper);
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        assert_eq!(permission_name("ArticlesWrite"), "articles.write");
        assert_eq!(
            permission_name("UsersResetPassword"),
            "users.reset_password"
        );
        assert_eq!(permission_name("Admin"), "admin");
        assert_eq!(role_name("SuperAdmin"), "super_admin");
        assert_eq!(role_name("Viewer"), "viewer");
        assert_eq!(label("ArticlesWrite"), "Articles write");
    }
}
