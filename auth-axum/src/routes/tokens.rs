//! Logins and their tokens: `POST /auth/login` (JSON or the OAuth2 password form; bearer
//! tokens, or a cookie session), `POST /auth/refresh`, `POST /auth/logout`.

use auth_core::config::SessionConfig;
use auth_core::principal::CredentialKind;
use auth_core::service::{CookieLogin, LoginRequest, LoginResponse};
use auth_core::session::Device;
use auth_core::AuthError;
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::extract::json_problem;
use crate::rate_limit::{self, PerIp};
use crate::{public, require_auth, Auth, AuthModule, Problem};

/// A token response: never cached (RFC 6749 section 5.1).
pub(super) fn token_response(tokens: LoginResponse) -> Response {
    no_store(tokens)
}

/// A JSON answer nobody caches (`Cache-Control: no-store`, `Pragma: no-cache`): tokens,
/// secrets, what a token stands for.
pub(super) fn no_store(body: impl serde::Serialize) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

#[derive(Deserialize)]
pub(super) struct LoginJson {
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

/// A `Set-Cookie` value for the whole site. `http_only` for the session, not for the CSRF
/// cookie scripts read.
pub(super) fn set_cookie(
    session: &SessionConfig,
    name: &str,
    value: &str,
    max_age: i64,
    http_only: bool,
) -> HeaderValue {
    set_cookie_at(session, "/", name, value, max_age, http_only)
}

/// A `Set-Cookie` value sent back only to `path` and below.
pub(super) fn set_cookie_at(
    session: &SessionConfig,
    path: &str,
    name: &str,
    value: &str,
    max_age: i64,
    http_only: bool,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path={path}; Max-Age={max_age}; SameSite=Lax");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if session.cookie_secure {
        cookie.push_str("; Secure");
    }
    // Names and paths come from configuration and code, values are base64url: always a
    // valid header.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `303 See Other` to `location` (a client's redirect URI with its answer, a sign-in's
/// provider or return path), never cached, setting `cookies`.
#[cfg(any(feature = "provider", feature = "oidc", feature = "saml"))]
pub(super) fn see_other(
    location: &str,
    cookies: impl IntoIterator<Item = HeaderValue>,
) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(axum::http::header::LOCATION, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in cookies {
        headers.append(SET_COOKIE, cookie);
    }
    response
}

/// The body of a cookie login: no tokens, the CSRF token scripts must echo.
#[derive(serde::Serialize)]
pub(super) struct CookieLoginBody {
    session_id: String,
    csrf_token: String,
    expires_in: i64,
    user: auth_core::PublicUser,
}

/// The `Set-Cookie` values of a new browser session: the session cookie and the CSRF cookie
/// scripts read.
pub(super) fn session_cookies(session: &SessionConfig, login: &CookieLogin) -> [HeaderValue; 2] {
    [
        set_cookie(
            session,
            &session.session_cookie(),
            login.secret.expose_secret(),
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
    ]
}

pub(super) fn cookie_response(session: &SessionConfig, login: CookieLogin) -> Response {
    let cookies = session_cookies(session, &login);
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
pub(super) struct TokenForm {
    grant_type: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// The body of a token request, as JSON or as an OAuth2 form.
pub(super) enum TokenBody<J> {
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

/// What the login request says about the device: `User-Agent`, the client address
/// ([`ClientAddr`](crate::ClientAddr): the peer when the server records it with
/// `into_make_service_with_connect_info`, or the client trusted proxies name), and a name
/// from the body.
pub(super) struct ClientInfo {
    user_agent: Option<String>,
    ip: Option<String>,
}

impl ClientInfo {
    /// The device a login from this client records, named `name` when the body names it.
    pub(super) fn device(&self, name: Option<String>) -> Device {
        Device::new(self.user_agent.clone(), self.ip.clone(), name)
    }
}

impl<S> FromRequestParts<S> for ClientInfo
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let module = AuthModule::from_ref(state);
        Ok(Self {
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            ip: crate::client_addr(module.trusted_proxies(), parts).map(|ip| ip.to_string()),
        })
    }
}

#[public]
pub(super) async fn login(
    _: PerIp<rate_limit::Login>,
    State(module): State<AuthModule>,
    client: ClientInfo,
    body: TokenBody<LoginJson>,
) -> Result<Response, Problem> {
    let device = |name| client.device(name);
    let request = match body {
        TokenBody::Json(json) => {
            let login = json.login.or(json.username).or(json.email);
            let login = login
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(|| AuthError::invalid("username", "send `username` or `email`"))?;
            let request =
                LoginRequest::new(login, json.password).from_device(device(json.device_name));
            if json.cookie {
                let login = module.service().login_with_cookie(request).await;
                return super::mfa::login_answer(login, |login| {
                    cookie_response(&module.config().session, login)
                });
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
    super::mfa::login_answer(module.service().login(request).await, token_response)
}

#[derive(Deserialize)]
pub(super) struct RefreshJson {
    refresh_token: String,
}

#[public]
pub(super) async fn refresh(
    _: PerIp<rate_limit::Refresh>,
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
pub(super) struct LogoutJson {
    #[serde(default)]
    refresh_token: Option<String>,
}

#[require_auth]
pub(super) async fn logout(
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
