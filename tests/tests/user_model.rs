//! A user model of the service's own, end to end over HTTP on SQLite and PostgreSQL:
//! registration reads and checks its extra fields (every problem reported, one per field;
//! read-only fields refused), they are stored without SQL of the service's own, and every
//! public user the framework answers with shows the public ones (register, login, `/auth/me`,
//! listings), while `CurrentUser<Member>` gives handlers the typed projection; `PATCH
//! /auth/me` changes only the model's writable fields.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::error::ValidationErrors;
use auth_axum::core::user::UserModel;
use auth_axum::core::user::{AuthUser, Page, ProfileError, ProfileProblem, User, UserId};
use auth_axum::prelude::*;
use axum::extract::State;
use axum::Json;
use reqwest::{Client, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tests::{sqlite_url, test_config, PgDatabase, TestServer};
use time::OffsetDateTime;

const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Plan {
    #[default]
    Free,
    Pro,
}

fn at_most_40(name: &Option<String>) -> Result<(), String> {
    match name {
        Some(name) if name.chars().count() > 40 => Err("must be at most 40 characters".into()),
        _ => Ok(()),
    }
}

fn country_code(code: &str) -> Result<(), &'static str> {
    if code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err("must be two capital letters (ISO 3166-1)")
    }
}

fn english() -> String {
    "en".to_owned()
}

/// Across fields: a display name is not an email address.
fn no_email_as_name(member: &Member, errors: &mut ValidationErrors) {
    if member.display_name.as_deref() == Some(member.email.as_str()) {
        errors.push("display_name", "must not be your email address");
    }
}

/// The service's user: the framework's parts, two fields of the stored user, and its own.
#[derive(Debug, Clone, AuthUser)]
#[auth(public = "PublicMember", validate = no_email_as_name)]
struct Member {
    #[auth(id)]
    id: UserId,
    #[auth(username)]
    username: String,
    #[auth(email)]
    email: String,
    #[auth(password_hash)]
    password_hash: Option<String>,
    #[auth(roles)]
    roles: Vec<String>,
    #[auth(record)]
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[auth(record)]
    login_count: i64,
    /// Optional, at most 40 characters.
    #[auth(validate = at_most_40)]
    display_name: Option<String>,
    /// Required.
    #[auth(validate = country_code)]
    country: String,
    /// `en` unless given.
    #[auth(default = english)]
    locale: String,
    /// Set by the service only.
    #[auth(readonly, default)]
    plan: Plan,
    /// Kept, never shown.
    #[auth(secret)]
    referral: Option<String>,
}

#[require_auth]
async fn member(CurrentUser(me): CurrentUser<Member>) -> Json<PublicMember> {
    Json(me)
}

#[require_auth]
async fn listing(State(module): State<AuthModule>) -> Result<Json<Vec<PublicUser>>, Problem> {
    let users = module
        .service()
        .users()
        .list(Page::default())
        .await
        .map_err(AuthError::from)?;
    Ok(Json(users.iter().map(AuthUser::to_public).collect()))
}

struct Harness {
    server: TestServer,
    module: AuthModule,
    http: Client,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start(database_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = database_url.unwrap_or_else(|| sqlite_url(dir.path()));
        let module = AuthModule::configure(test_config(&url, dir.path()))
            .await
            .unwrap()
            .with_user_model::<Member>();
        let router = AuthRouter::new()
            .with_auth_routes(64 * 1024)
            .get("/member", member)
            .get("/members", listing)
            .into_router()
            .with_state(module.clone());
        Self {
            server: TestServer::spawn(router).await,
            module,
            http: Client::new(),
            _dir: dir,
        }
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.server.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.server.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn login(&self, username: &str) -> (String, Value) {
        let (status, body) = self
            .post(
                "/auth/login",
                &json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (body["access_token"].as_str().unwrap().to_owned(), body)
    }
}

fn field_errors(body: &Value) -> Vec<(String, String)> {
    let mut errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no field errors in {body}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    errors
}

async fn the_model_runs_the_whole_stack(h: &Harness) {
    // Registration: the extra fields are read, defaults filled in, the secret one kept.
    let (status, body) = h
        .post(
            "/auth/register",
            &json!({
                "username": "ada", "email": "ada@example.com", "password": PASSWORD,
                "display_name": "Ada L.", "country": "GB", "referral": "friend-42",
                "roles": ["admin"],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["username"], "ada");
    assert_eq!(body["display_name"], "Ada L.");
    assert_eq!(body["country"], "GB");
    assert_eq!(body["locale"], "en", "the field's default");
    assert_eq!(body["plan"], "free", "a read-only field takes its default");
    assert_eq!(
        body["roles"],
        json!(["user"]),
        "roles are not the client's to give"
    );
    for hidden in ["referral", "profile", "password_hash", "security_epoch"] {
        assert!(body.get(hidden).is_none(), "`{hidden}` shown in {body}");
    }

    // Stored without SQL of the service's own: public and private parts of the profile.
    let stored = h
        .module
        .service()
        .users()
        .get_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.profile.public["country"], "GB");
    assert_eq!(stored.profile.private["referral"], "friend-42");
    assert!(!stored.profile.public.contains_key("referral"));
    let model = Member::from_record(&stored).unwrap();
    assert_eq!(model.referral.as_deref(), Some("friend-42"));
    assert_eq!((model.plan, model.login_count), (Plan::Free, 0));

    // Every public user the framework answers with shows the model's public fields.
    let (token, login) = h.login("ada").await;
    assert_eq!(login["user"]["display_name"], "Ada L.");
    assert!(login["user"].get("referral").is_none());
    let (status, me) = h.get("/auth/me", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["display_name"], "Ada L.");
    assert_eq!(me["plan"], "free");
    assert_eq!(me["login_count"], 1);
    let (status, listing) = h.get("/members", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listing[0]["country"], "GB", "{listing}");

    // The typed projection in a handler of the service's own.
    let (status, typed) = h.get("/member", &token).await;
    assert_eq!(status, StatusCode::OK, "{typed}");
    assert_eq!(
        typed,
        json!({
            "id": stored.id.as_str(), "username": "ada", "email": "ada@example.com",
            "roles": ["user"], "created_at": typed["created_at"], "login_count": 1,
            "display_name": "Ada L.", "country": "GB", "locale": "en", "plan": "free",
        })
    );
    assert_eq!(typed["created_at"], me["created_at"], "RFC 3339 in both");

    // A second user with only what is required.
    let (status, body) = h
        .post(
            "/auth/register",
            &json!({"username": "bob", "email": "bob@example.com", "password": PASSWORD,
                    "country": "FR", "locale": "fr"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["display_name"], Value::Null);
    assert_eq!(body["locale"], "fr");
}

async fn bad_fields_are_refused_each_by_name(h: &Harness) {
    let (status, body) = h
        .post(
            "/auth/register",
            &json!({
                "username": "eve", "email": "eve@example.com", "password": PASSWORD,
                "display_name": "x".repeat(41), "locale": 5, "plan": "pro",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "validation_failed", "{body}");
    assert_eq!(
        field_errors(&body),
        [
            ("country".to_owned(), "is required".to_owned()),
            (
                "display_name".to_owned(),
                "must be at most 40 characters".to_owned()
            ),
            (
                "locale".to_owned(),
                "invalid type: integer `5`, expected a string".to_owned()
            ),
            (
                "plan".to_owned(),
                "cannot be set at registration".to_owned()
            ),
        ]
    );

    // The field's own check, and the framework's checks reported with them.
    let (status, body) = h
        .post(
            "/auth/register",
            &json!({"username": "e", "email": "eve@example.com", "password": PASSWORD,
                    "country": "france"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        field_errors(&body),
        [
            (
                "country".to_owned(),
                "must be two capital letters (ISO 3166-1)".to_owned()
            ),
            (
                "username".to_owned(),
                "must be 3 to 64 characters".to_owned()
            ),
        ]
    );

    // The model's check across fields runs once every field is well formed.
    let (status, body) = h
        .post(
            "/auth/register",
            &json!({"username": "eve", "email": "eve@example.com", "password": PASSWORD,
                    "country": "FR", "display_name": "eve@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        field_errors(&body),
        [(
            "display_name".to_owned(),
            "must not be your email address".to_owned()
        )]
    );
    assert!(
        h.module
            .service()
            .users()
            .get_by_username("eve")
            .await
            .unwrap()
            .is_none(),
        "nothing stored for a refused registration"
    );
}

async fn a_stored_user_that_does_not_fit_the_model_is_an_error_not_a_guess(h: &Harness) {
    // A user stored before `country` was required (here: written without it).
    let hash = h.module.service().passwords().hash(PASSWORD).await.unwrap();
    let mut old = User::new(
        "old",
        "old@example.com",
        Some(hash),
        OffsetDateTime::now_utc(),
    );
    old.roles = vec!["user".to_owned()];
    h.module.service().users().insert(&old).await.unwrap();
    assert_eq!(
        Member::from_record(&old).unwrap_err(),
        ProfileError {
            user_id: old.id.to_string(),
            field: "country",
            problem: ProfileProblem::Missing,
        }
    );
    let (token, _) = h.login("old").await;
    let (status, body) = h.get("/member", &token).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["code"], "internal_error", "{body}");
    // The framework's own view of the user still answers.
    let (status, me) = h.get("/auth/me", &token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "old");
}

async fn patch(h: &Harness, token: &str, body: &Value) -> (StatusCode, Value) {
    let response = h
        .http
        .patch(h.server.url("/auth/me"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn profile_edits_are_checked_and_refused_field_by_field(h: &Harness) {
    let (token, _) = h.login("ada").await;
    let (status, me) = patch(h, &token, &json!({"display_name": "Ada Lovelace"})).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (
            &me["display_name"],
            &me["country"],
            &me["locale"],
            &me["plan"]
        ),
        (
            &json!("Ada Lovelace"),
            &json!("GB"),
            &json!("en"),
            &json!("free")
        ),
        "the other fields keep their values"
    );

    // Mass assignment: everything but the model's writable fields is refused, by name.
    let (status, body) = patch(
        h,
        &token,
        &json!({"roles": ["admin"], "is_active": false, "email": "x@example.com",
                "plan": "pro", "nonsense": 1, "display_name": "x".repeat(41)}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        field_errors(&body),
        [
            (
                "display_name".to_owned(),
                "must be at most 40 characters".to_owned()
            ),
            ("email".to_owned(), "cannot be changed here".to_owned()),
            ("is_active".to_owned(), "cannot be changed here".to_owned()),
            ("nonsense".to_owned(), "cannot be changed here".to_owned()),
            ("plan".to_owned(), "cannot be changed here".to_owned()),
            ("roles".to_owned(), "cannot be changed here".to_owned()),
        ]
    );
    // The model's check across fields, too.
    let (status, body) = patch(h, &token, &json!({"display_name": "ada@example.com"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let stored = h
        .module
        .service()
        .users()
        .get_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.profile.public["display_name"], "Ada Lovelace",
        "nothing changed"
    );
    assert_eq!(stored.roles, ["user"]);
    assert!(stored.is_active);

    // A secret field may be set, stays hidden, and the others are kept.
    let (status, me) = patch(h, &token, &json!({"referral": "friend-7", "locale": "fr"})).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert!(me.get("referral").is_none());
    let stored = h
        .module
        .service()
        .users()
        .get_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.profile.private["referral"], "friend-7");
    assert_eq!(stored.profile.public["plan"], "free");
    assert_eq!(stored.profile.public["locale"], "fr");

    let anonymous = h
        .http
        .patch(h.server.url("/auth/me"))
        .json(&json!({"locale": "de"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn a_stored_user_that_does_not_fit_is_fixed_by_its_owner(h: &Harness) {
    // `old` lacks the required `country`: an edit must supply it, and then the model fits.
    let (token, _) = h.login("old").await;
    let (status, body) = patch(h, &token, &json!({"display_name": "Old"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        field_errors(&body),
        [("country".to_owned(), "is required".to_owned())]
    );
    let (status, _) = patch(h, &token, &json!({"country": "DE"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, typed) = h.get("/member", &token).await;
    assert_eq!(status, StatusCode::OK, "{typed}");
    assert_eq!(typed["country"], "DE");
}

async fn suite(h: Harness) {
    the_model_runs_the_whole_stack(&h).await;
    bad_fields_are_refused_each_by_name(&h).await;
    a_stored_user_that_does_not_fit_the_model_is_an_error_not_a_guess(&h).await;
    profile_edits_are_checked_and_refused_field_by_field(&h).await;
    a_stored_user_that_does_not_fit_is_fixed_by_its_owner(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_model_of_your_own_on_sqlite() {
    suite(Harness::start(None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_model_of_your_own_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    suite(Harness::start(Some(db.url.clone())).await).await;
    db.drop_database().await;
}

#[test]
fn the_model_names_its_profile_fields_and_the_built_in_user_has_none() {
    assert_eq!(
        Member::PROFILE_FIELDS,
        ["display_name", "country", "locale", "plan", "referral"]
    );
    assert_eq!(
        Member::WRITABLE_FIELDS,
        ["display_name", "country", "locale", "referral"],
        "all but the read-only plan"
    );
    assert!(User::PROFILE_FIELDS.is_empty() && User::WRITABLE_FIELDS.is_empty());
    let mut errors = ValidationErrors::default();
    let profile = User::read_profile(
        json!({"display_name": "x"}).as_object().unwrap(),
        &mut errors,
    );
    assert!(profile.is_empty() && errors.0.is_empty());
}
