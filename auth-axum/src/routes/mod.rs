//! Ready-made routes exposing the flows over HTTP.
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /auth/register` | JSON `{username, email, password}` | 201, the public user |
//! | `POST /auth/login` | JSON `{username or email, password, device_name?, cookie?}`, or the OAuth2 form `grant_type=password&username=&password=` | 200, token response; with `cookie: true` `{session_id, csrf_token, expires_in, user}` and the session and CSRF cookies instead of tokens |
//! | `POST /auth/refresh` | JSON `{refresh_token}`, or the form `grant_type=refresh_token&refresh_token=` | 200, token response with the rotated refresh token |
//! | `POST /auth/logout` | bearer token; optional JSON `{refresh_token}` | 200, the session's tokens are revoked |
//! | `GET /auth/me` | bearer token | 200, the public user |
//! | `PATCH /auth/me` | bearer token or session cookie; JSON `{field: value}` of the user model's own fields | 200, the public user; 422 naming each field that may not be changed or whose value is refused |
//! | `GET /auth/sessions` | bearer token | 200, the user's live sessions, most recently used first |
//! | `DELETE /auth/sessions/{id}` | bearer token | 204; that session's tokens stop working; 404 if not the user's |
//! | `DELETE /auth/sessions` | bearer token | 200 `{revoked}`: every other session of the user ends |
//! | `POST /auth/password/forgot` | JSON `{email}` | 202 for every well-formed address; a reset link is mailed when it belongs to an active account |
//! | `POST /auth/password/reset` | JSON `{token, new_password}` | 204; every session of the account ends; 400 `invalid_or_expired_token` |
//! | `POST /auth/password/change` | bearer token or session cookie; JSON `{current_password, new_password}` | 204; the caller's other sessions end, this one stays |
//! | `POST /auth/verify-email` | JSON `{token}` | 204, the address is verified; 400 `invalid_or_expired_token` |
//! | `POST /auth/verify-email/resend` | bearer token or session cookie | 202 `{status: "sent"}`, or 200 `{status: "already_verified"}` |
//! | `POST /auth/email/change` | bearer token or session cookie; JSON `{new_email, password}` | 202; the new address gets a confirmation link, the old one is told |
//! | `POST /auth/email/confirm` | JSON `{token}` | 204, the address is changed (and verified); 400 `invalid_or_expired_token` |
//! | `GET /health` | | 200 while the process runs |
//! | `GET /ready` | | 200 when the database answers, else 503 |
//!
//! Bodies are limited to `server.body_limit_bytes`; every error is a [`Problem`], an unknown
//! path ([`not_found`]) and a method a route does not serve ([`method_not_allowed`]) too.

mod account;

use auth_core::service::{LoginRequest, LoginResponse, RegisterRequest};
use auth_core::AuthError;
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use std::net::SocketAddr;

use auth_core::config::SessionConfig;
use auth_core::principal::CredentialKind;
use auth_core::service::CookieLogin;
use auth_core::session::{Device, Session};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRef, FromRequest, FromRequestParts, Path, Request, State,
};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json, Router};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::extract::json_problem;
use crate::{public, require_auth, Auth, AuthModule, AuthRouter, CurrentUser, JsonBody, Problem};

/// The `/auth/*` routes, with request bodies limited to `body_limit` bytes, and their rows
/// in the access-control matrix (taken from the handlers' guards).
pub fn auth_router<S>(body_limit: usize) -> AuthRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    builtin_auth_router(body_limit, &|_| true)
}

/// The framework's routes, by name: what [`AuthRouter::without`] removes, and what a route
/// of your own on the same method and path replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuiltinRoute {
    /// `POST /auth/register`.
    Register,
    /// `POST /auth/login`.
    Login,
    /// `POST /auth/refresh`.
    Refresh,
    /// `POST /auth/logout`.
    Logout,
    /// `GET /auth/me`.
    Me,
    /// `PATCH /auth/me`.
    UpdateMe,
    /// `GET /auth/sessions`.
    Sessions,
    /// `DELETE /auth/sessions`.
    RevokeOtherSessions,
    /// `DELETE /auth/sessions/{id}`.
    RevokeSession,
    /// `POST /auth/password/forgot`.
    ForgotPassword,
    /// `POST /auth/password/reset`.
    ResetPassword,
    /// `POST /auth/password/change`.
    ChangePassword,
    /// `POST /auth/verify-email`.
    VerifyEmail,
    /// `POST /auth/verify-email/resend`.
    ResendVerification,
    /// `POST /auth/email/change`.
    ChangeEmail,
    /// `POST /auth/email/confirm`.
    ConfirmEmail,
    /// `GET /health`.
    Health,
    /// `GET /ready`.
    Ready,
}

impl BuiltinRoute {
    /// Every built-in route.
    pub const ALL: [Self; 18] = [
        Self::Register,
        Self::Login,
        Self::Refresh,
        Self::Logout,
        Self::Me,
        Self::UpdateMe,
        Self::Sessions,
        Self::RevokeOtherSessions,
        Self::RevokeSession,
        Self::ForgotPassword,
        Self::ResetPassword,
        Self::ChangePassword,
        Self::VerifyEmail,
        Self::ResendVerification,
        Self::ChangeEmail,
        Self::ConfirmEmail,
        Self::Health,
        Self::Ready,
    ];

    /// Its method and path.
    #[must_use]
    pub fn route(self) -> (axum::http::Method, &'static str) {
        use axum::http::Method;
        match self {
            Self::Register => (Method::POST, "/auth/register"),
            Self::Login => (Method::POST, "/auth/login"),
            Self::Refresh => (Method::POST, "/auth/refresh"),
            Self::Logout => (Method::POST, "/auth/logout"),
            Self::Me => (Method::GET, "/auth/me"),
            Self::UpdateMe => (Method::PATCH, "/auth/me"),
            Self::Sessions => (Method::GET, "/auth/sessions"),
            Self::RevokeOtherSessions => (Method::DELETE, "/auth/sessions"),
            Self::RevokeSession => (Method::DELETE, "/auth/sessions/{id}"),
            Self::ForgotPassword => (Method::POST, "/auth/password/forgot"),
            Self::ResetPassword => (Method::POST, "/auth/password/reset"),
            Self::ChangePassword => (Method::POST, "/auth/password/change"),
            Self::VerifyEmail => (Method::POST, "/auth/verify-email"),
            Self::ResendVerification => (Method::POST, "/auth/verify-email/resend"),
            Self::ChangeEmail => (Method::POST, "/auth/email/change"),
            Self::ConfirmEmail => (Method::POST, "/auth/email/confirm"),
            Self::Health => (Method::GET, "/health"),
            Self::Ready => (Method::GET, "/ready"),
        }
    }
}

/// The `/auth/*` routes `keep` keeps.
pub(crate) fn builtin_auth_router<S>(
    body_limit: usize,
    keep: &dyn Fn(BuiltinRoute) -> bool,
) -> AuthRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    let router = AuthRouter::new();
    let router = if keep(BuiltinRoute::Register) {
        router.post("/auth/register", register)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::Login) {
        router.post("/auth/login", login)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::Refresh) {
        router.post("/auth/refresh", refresh)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::Logout) {
        router.post("/auth/logout", logout)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::Me) {
        router.get("/auth/me", me)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::UpdateMe) {
        router.patch("/auth/me", account::update_me)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::Sessions) {
        router.get("/auth/sessions", sessions)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::RevokeOtherSessions) {
        router.delete("/auth/sessions", revoke_other_sessions)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::RevokeSession) {
        router.delete("/auth/sessions/{id}", revoke_session)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::ForgotPassword) {
        router.post("/auth/password/forgot", account::forgot_password)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::ResetPassword) {
        router.post("/auth/password/reset", account::reset_password)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::ChangePassword) {
        router.post("/auth/password/change", account::change_password)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::VerifyEmail) {
        router.post("/auth/verify-email", account::verify_email)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::ResendVerification) {
        router.post("/auth/verify-email/resend", account::resend_verification)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::ChangeEmail) {
        router.post("/auth/email/change", account::change_email)
    } else {
        router
    };
    let router = if keep(BuiltinRoute::ConfirmEmail) {
        router.post("/auth/email/confirm", account::confirm_email)
    } else {
        router
    };
    router.layer(DefaultBodyLimit::max(body_limit))
}

/// The `/auth/*` routes as a plain router (see [`auth_router`]).
pub fn auth_routes<S>(body_limit: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    auth_router(body_limit).into_plain_router()
}

/// The answer to a request no route matches: 404 `not_found` as a [`Problem`], like every
/// other error. [`AuthRouter::into_router`](crate::AuthRouter::into_router) installs it; on a
/// router of your own, `.fallback(auth_axum::routes::not_found)`.
pub async fn not_found(uri: axum::http::Uri) -> Problem {
    Problem::not_found(format!("no route for `{}`", uri.path()))
}

/// The answer to a route called with a method it does not serve: 405 `method_not_allowed` as
/// a [`Problem`] (axum adds the `Allow` header). Installed by
/// [`AuthRouter::into_router`](crate::AuthRouter::into_router); on a router of your own,
/// `.method_not_allowed_fallback(auth_axum::routes::method_not_allowed)` after the routes.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
        format!("`{method}` is not allowed on `{}`", uri.path()),
    )
}

/// `GET /health` (liveness) and `GET /ready` (the database answers), and their rows.
pub fn health_router<S>() -> AuthRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    builtin_health_router(&|_| true)
}

/// `/health` and `/ready` as `keep` keeps them.
pub(crate) fn builtin_health_router<S>(keep: &dyn Fn(BuiltinRoute) -> bool) -> AuthRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    let router = AuthRouter::new();
    let router = if keep(BuiltinRoute::Health) {
        router.get("/health", health)
    } else {
        router
    };
    if keep(BuiltinRoute::Ready) {
        router.get("/ready", ready)
    } else {
        router
    }
}

/// `GET /health` and `GET /ready` as a plain router (see [`health_router`]).
pub fn health_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    health_router().into_plain_router()
}

#[public]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[public]
async fn ready(State(module): State<AuthModule>) -> Result<Json<serde_json::Value>, Problem> {
    module.service().check_ready().await?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

#[public]
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
    /// A name for the device, shown in the session list.
    #[serde(default)]
    device_name: Option<String>,
    /// A browser login: the session goes in an HttpOnly cookie instead of tokens in the body.
    #[serde(default)]
    cookie: bool,
}

/// A `Set-Cookie` value. `http_only` for the session, not for the CSRF cookie scripts read.
fn set_cookie(
    session: &SessionConfig,
    name: &str,
    value: &str,
    max_age: i64,
    http_only: bool,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Lax");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if session.cookie_secure {
        cookie.push_str("; Secure");
    }
    // Names come from configuration and values are base64url: always a valid header.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The body of a cookie login: no tokens, the CSRF token scripts must echo.
#[derive(serde::Serialize)]
struct CookieLoginBody {
    session_id: String,
    csrf_token: String,
    expires_in: i64,
    user: auth_core::PublicUser,
}

fn cookie_response(session: &SessionConfig, login: CookieLogin) -> Response {
    let secret = login.secret.expose_secret().to_owned();
    let cookies = [
        set_cookie(
            session,
            &session.session_cookie(),
            &secret,
            login.max_age,
            session.cookie_httponly,
        ),
        set_cookie(
            session,
            &session.csrf_cookie(),
            &login.csrf_token,
            login.max_age,
            false,
        ),
    ];
    let mut response = Json(CookieLoginBody {
        session_id: login.session_id,
        csrf_token: login.csrf_token,
        expires_in: login.max_age,
        user: login.user,
    })
    .into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in cookies {
        headers.append(SET_COOKIE, cookie);
    }
    response
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

/// What the login request says about the device: `User-Agent`, the peer address (when the
/// server records it with `into_make_service_with_connect_info`), and a name from the body.
struct ClientInfo {
    user_agent: Option<String>,
    ip: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        })
    }
}

#[public]
async fn login(
    State(module): State<AuthModule>,
    client: ClientInfo,
    body: TokenBody<LoginJson>,
) -> Result<Response, Problem> {
    let device = |name| Device::new(client.user_agent.clone(), client.ip.clone(), name);
    let request = match body {
        TokenBody::Json(json) => {
            let login = json.login.or(json.username).or(json.email);
            let login = login
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(|| AuthError::invalid("username", "send `username` or `email`"))?;
            let request =
                LoginRequest::new(login, json.password).from_device(device(json.device_name));
            if json.cookie {
                let login = module.service().login_with_cookie(request).await?;
                return Ok(cookie_response(&module.config().session, login));
            }
            request
        }
        TokenBody::Form(form) => {
            if form.grant_type != "password" {
                return Err(unsupported_grant("password"));
            }
            LoginRequest::new(
                required("username", form.username)?,
                required("password", form.password)?,
            )
            .from_device(device(None))
        }
    };
    Ok(token_response(module.service().login(request).await?))
}

#[derive(Deserialize)]
struct RefreshJson {
    refresh_token: String,
}

#[public]
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

#[require_auth]
async fn logout(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    body: Bytes,
) -> Result<Response, Problem> {
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
    let mut response = Json(serde_json::json!({ "message": "logged out" })).into_response();
    if principal.credential == CredentialKind::Cookie {
        let session = &module.config().session;
        for name in [session.session_cookie(), session.csrf_cookie()] {
            response
                .headers_mut()
                .append(SET_COOKIE, set_cookie(session, &name, "", 0, true));
        }
    }
    Ok(response)
}

#[require_auth]
async fn me(CurrentUser(user): CurrentUser) -> Json<auth_core::PublicUser> {
    Json(user)
}

/// One session as `GET /auth/sessions` shows it.
#[derive(serde::Serialize)]
struct SessionView {
    id: String,
    /// Whether the request came through this session.
    current: bool,
    device: Device,
    created_at: i64,
    last_seen: i64,
    /// When it ends if unused from now on (idle timeout or absolute end).
    expires_at: i64,
}

impl SessionView {
    fn new(session: Session, current: Option<&str>) -> Self {
        Self {
            current: current == Some(session.id.as_str()),
            expires_at: session.ends_at(),
            created_at: session.created_at,
            last_seen: session.last_seen,
            id: session.id,
            device: session.device,
        }
    }
}

#[require_auth]
async fn sessions(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Json<Vec<SessionView>>, Problem> {
    let sessions = module.service().sessions(&principal).await?;
    let current = principal.session_id.as_deref();
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionView::new(s, current))
            .collect(),
    ))
}

#[require_auth]
async fn revoke_session(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if module.service().revoke_session(&principal, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found("no such session of yours"))
    }
}

#[require_auth]
async fn revoke_other_sessions(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Json<serde_json::Value>, Problem> {
    let revoked = module.service().revoke_other_sessions(&principal).await?;
    Ok(Json(serde_json::json!({ "revoked": revoked })))
}
