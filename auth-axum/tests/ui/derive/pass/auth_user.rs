use auth_axum::AuthUser;

#[derive(AuthUser)]
// Kept in a table of its own, with an id of its own: the projection only, not a user model.
#[auth(public = "PublicAccount", public_derive(PartialEq), model = false)]
struct Account {
    #[auth(id)]
    id: u64,
    #[auth(username)]
    login: String,
    #[auth(email)]
    email: Option<String>,
    #[auth(password_hash)]
    hash: String,
    #[auth(roles)]
    roles: Vec<String>,
    #[auth(active)]
    enabled: bool,
    #[auth(secret)]
    totp_secret: String,
    /// Shown publicly, renamed in JSON.
    #[serde(rename = "displayName")]
    display_name: String,
}

fn main() {
    let account = Account {
        id: 7,
        login: "ada".to_owned(),
        email: None,
        hash: "$argon2id$...".to_owned(),
        roles: vec!["admin".to_owned()],
        enabled: true,
        totp_secret: "JBSWY3DP".to_owned(),
        display_name: "Ada".to_owned(),
    };
    assert_eq!(account.id(), "7");
    assert_eq!(account.username(), "ada");
    assert_eq!(account.password_hash(), Some("$argon2id$..."));
    assert_eq!(account.permissions(), &[] as &[String]);
    let public: PublicAccount = account.to_public();
    let json = serde_json::to_string(&public).unwrap();
    assert_eq!(json, r#"{"id":7,"login":"ada","email":null,"roles":["admin"],"enabled":true,"displayName":"Ada"}"#);
    assert!(!json.contains("argon2") && !json.contains("JBSWY3DP"));
}
