//! Ready-made routes exposing the flows over HTTP.
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /auth/register` | JSON `{username, email, password}` | 201, the public user |
//! | `POST /auth/login` | JSON `{username or email, password}`, or the OAuth2 form `grant_type=password&username=&password=` | 200, token response |
//! | `POST /auth/refresh` | JSON `{refresh_token}`, or the form `grant_type=refresh_token&refresh_token=` | 200, token response with the rotated refresh token |
//! | `POST /auth/logout` | bearer token; optional JSON `{refresh_token}` | 200, the session's tokens are revoked |
//! | `GET /auth/me` | bearer token | 200, the public user |
//! | `GET /health` | | 200 while the process runs |
//! | `GET /ready` | | 200 when the database answers, else 503 |
//!
//! Bodies are limited to `server.body_limit_bytes`; every error is a [`Problem`].

use auth_core::service::{LoginRequest, LoginResponse, RegisterRequest};
use auth_core::AuthError;
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequest, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use crate::extract::json_problem;
use crate::{Auth, AuthModule, CurrentUser, JsonBody, Problem};

/// The `/auth/*` routes, with request bodies limited to `body_limit` bytes.
pub fn auth_routes<S>(body_limit: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .layer(DefaultBodyLimit::max(body_limit))
}

/// `GET /health` (liveness) and `GET /ready` (the database answers).
pub fn health_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn ready(State(module): State<AuthModule>) -> Result<Json<serde_json::Value>, Problem> {
    module.service().check_ready().await?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

async fn register(
    State(module): State<AuthModule>,
    JsonBody(request): JsonBody<RegisterRequest>,
) -> Result<impl IntoResponse, Problem> {
    let user = module.service().register(request).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// A token response: never cached (RFC 6749 section 5.1).
fn token_response(tokens: LoginResponse) -> Response {
    let mut response = Json(tokens).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

#[derive(Deserialize)]
struct LoginJson {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    login: Option<String>,
    password: String,
}

/// The OAuth2 token-endpoint form (RFC 6749 sections 4.3.2 and 6).
#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// The body of a token request, as JSON or as an OAuth2 form.
enum TokenBody<J> {
    Json(J),
    Form(TokenForm),
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

fn form_problem(rejection: &FormRejection) -> Problem {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::payload_too_large();
    }
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Invalid request",
        rejection.body_text(),
    )
}

impl<J, S> FromRequest<S> for TokenBody<J>
where
    J: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        if is_form(&req) {
            let Form(form) = Form::<TokenForm>::from_request(req, state)
                .await
                .map_err(|e| form_problem(&e))?;
            Ok(Self::Form(form))
        } else {
            let Json(body) = Json::<J>::from_request(req, state)
                .await
                .map_err(|e| json_problem(&e))?;
            Ok(Self::Json(body))
        }
    }
}

fn unsupported_grant(expected: &'static str) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        "Unsupported grant type",
        format!("this endpoint takes `grant_type={expected}`"),
    )
}

fn required(field: &'static str, value: Option<String>) -> Result<String, Problem> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthError::invalid(field, "is required").into())
}

async fn login(
    State(module): State<AuthModule>,
    body: TokenBody<LoginJson>,
) -> Result<Response, Problem> {
    let request = match body {
        TokenBody::Json(json) => {
            let login = json.login.or(json.username).or(json.email);
            let login = login
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(|| AuthError::invalid("username", "send `username` or `email`"))?;
            LoginRequest::new(login, json.password)
        }
        TokenBody::Form(form) => {
            if form.grant_type != "password" {
                return Err(unsupported_grant("password"));
            }
            LoginRequest::new(
                required("username", form.username)?,
                required("password", form.password)?,
            )
        }
    };
    Ok(token_response(module.service().login(request).await?))
}

#[derive(Deserialize)]
struct RefreshJson {
    refresh_token: String,
}

async fn refresh(
    State(module): State<AuthModule>,
    body: TokenBody<RefreshJson>,
) -> Result<Response, Problem> {
    let token = match body {
        TokenBody::Json(json) => json.refresh_token,
        TokenBody::Form(form) => {
            if form.grant_type != "refresh_token" {
                return Err(unsupported_grant("refresh_token"));
            }
            required("refresh_token", form.refresh_token)?
        }
    };
    Ok(token_response(module.service().refresh(&token).await?))
}

#[derive(Deserialize)]
struct LogoutJson {
    #[serde(default)]
    refresh_token: Option<String>,
}

async fn logout(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Problem> {
    let refresh_token = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<LogoutJson>(&body)
            .map_err(|e| Problem::malformed_json(e.to_string()))?
            .refresh_token
    };
    module
        .service()
        .logout(&principal, refresh_token.as_deref())
        .await?;
    Ok(Json(serde_json::json!({ "message": "logged out" })))
}

async fn me(CurrentUser(user): CurrentUser) -> Json<auth_core::PublicUser> {
    Json(user)
}
