use auth_axum::core::error::ValidationErrors;
use auth_axum::core::user::{User, UserId, UserModel};
use auth_axum::AuthUser;

fn short(name: &str) -> Result<(), &'static str> {
    if name.len() <= 10 { Ok(()) } else { Err("too long") }
}

fn one() -> u8 {
    1
}

#[derive(Clone, AuthUser)]
struct Member {
    #[auth(id)]
    id: String,
    #[auth(username)]
    username: String,
    #[auth(email)]
    email: Option<String>,
    #[auth(record)]
    login_count: i64,
    #[auth(validate = short)]
    nickname: String,
    #[auth(default = one)]
    level: u8,
    #[auth(skip, default)]
    notes: Vec<String>,
    /// A raw identifier: its JSON name is `type`.
    r#type: Option<String>,
}

fn main() {
    assert_eq!(Member::PROFILE_FIELDS, ["nickname", "level", "notes", "type"]);
    let mut errors = ValidationErrors::default();
    let input = serde_json::json!({"nickname": "ada", "notes": ["x"], "type": "t"});
    let profile = Member::read_profile(input.as_object().unwrap(), &mut errors);
    assert!(errors.0.is_empty());
    assert_eq!(profile.public["nickname"], "ada");
    assert_eq!(profile.public["level"], 1);
    assert_eq!(profile.private["notes"], serde_json::json!(["x"]));
    assert_eq!(profile.public["type"], "t");
    let mut record = User::new("ada", "ada@example.com", None, time::OffsetDateTime::UNIX_EPOCH);
    record.profile = profile;
    let member = Member::from_record(&record).unwrap();
    assert_eq!(member.id, record.id.to_string());
    assert_eq!(member.email.as_deref(), Some("ada@example.com"));
    assert_eq!((member.nickname.as_str(), member.level, member.notes.len()), ("ada", 1, 1));
    assert_eq!(member.r#type.as_deref(), Some("t"));
    let public = serde_json::to_value(member.to_public()).unwrap();
    assert!(public.get("notes").is_none());
    let _ = UserId::from("x");
}
