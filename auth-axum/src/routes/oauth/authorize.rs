//! `GET /oauth/authorize` and its form: the authorization request checked, then a
//! server-rendered page where the user signs in (password, then a second factor when the
//! account has one) and allows or denies the client; the answer goes to the client's exact
//! redirect URI with a single-use code, or an error.
//!
//! The page is bound to the browser that asked: its request id (single use) travels in the
//! form and in an `HttpOnly` cookie scoped to this path, and the two must agree, so a page
//! fetched by someone else cannot be submitted from a victim's browser. The page may not be
//! framed (clickjacking of consent) and is never cached.

use auth_core::service::{
    AuthorizationParams, AuthorizationRequest, AuthorizeError, LoginRequest, MfaChallenge,
    MfaLogin, SecondFactor,
};
use auth_core::AuthError;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::OAuthForm;
use crate::extract::cookie_value;
use crate::rate_limit::{self, PerIp};
use crate::routes::tokens::{see_other, session_cookies, set_cookie_at, ClientInfo};
use crate::{public, AuthModule};

/// The cookie binding an authorization page to its browser.
const BINDING_COOKIE: &str = "oauth_request";
/// Where it is sent.
const PATH: &str = "/oauth/authorize";

/// Text safe inside HTML elements and quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the page asks of the user.
enum Step<'a> {
    /// Sign in (or, with a session, only consent) and allow.
    SignIn { signed_in: bool },
    /// The account's second factor, for this challenge.
    SecondFactor { mfa_token: &'a str },
}

/// A page of the authorization flow.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:26rem;\
         margin:3rem auto;padding:0 1rem}}label,input,button{{display:block;width:100%;\
         margin:.4rem 0}}input{{padding:.5rem}}button{{padding:.6rem}}.error{{color:#b00020}}\
         </style></head><body>{body}</body></html>",
        title = escape(title),
    )
}

/// The sign-in and consent page of `request`, with `error` above the form.
fn request_page(request: &AuthorizationRequest, step: &Step<'_>, error: Option<&str>) -> String {
    let client = escape(&request.client_name);
    let scopes: String = request
        .scopes
        .iter()
        .map(|s| format!("<li>{}</li>", escape(s)))
        .collect();
    let asks = if scopes.is_empty() {
        String::new()
    } else {
        format!("<p>It asks for:</p><ul>{scopes}</ul>")
    };
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let fields = match step {
        Step::SignIn { signed_in: true } => String::new(),
        Step::SignIn { signed_in: false } => "<label>Username or email<input name=\"username\" \
             autocomplete=\"username\" required autofocus></label><label>Password<input \
             name=\"password\" type=\"password\" autocomplete=\"current-password\" \
             required></label>"
            .to_owned(),
        Step::SecondFactor { mfa_token } => format!(
            "<input type=\"hidden\" name=\"mfa_token\" value=\"{}\"><label>Code from your \
             authenticator app, or a backup code<input name=\"code\" \
             autocomplete=\"one-time-code\" required autofocus></label>",
            escape(mfa_token)
        ),
    };
    let allow = match step {
        Step::SignIn { signed_in: false } => "Sign in and allow",
        _ => "Allow",
    };
    // The deny button skips the required fields.
    let body = format!(
        "<h1>{client}</h1><p><strong>{client}</strong> wants to use your account.</p>{asks}\
         {error}<form method=\"post\" action=\"{PATH}\"><input type=\"hidden\" name=\"request\" \
         value=\"{id}\">{fields}<button name=\"action\" value=\"allow\">{allow}</button>\
         <button name=\"action\" value=\"deny\" formnovalidate>Deny</button></form>",
        id = escape(&request.id),
    );
    page(&format!("Sign in to {}", request.client_name), &body)
}

/// A page the flow ends on without going back to the client.
fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>This request cannot go on</h1><p>{}</p>",
        escape(message)
    );
    html(status, page("Authorization failed", &body), None)
}

/// An HTML answer: never cached, never framed, no scripts; `binding` (re)sets the cookie
/// binding the page to its browser.
fn html(status: StatusCode, body: String, binding: Option<HeaderValue>) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    if let Some(cookie) = binding {
        headers.append(SET_COOKIE, cookie);
    }
    response
}

/// The page of `request` at `step`, binding the browser to its (new) id.
fn show(
    module: &AuthModule,
    request: &AuthorizationRequest,
    step: &Step<'_>,
    error: Option<&str>,
) -> Response {
    let binding = binding_cookie(module, &request.id, 600);
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    html(status, request_page(request, step, error), Some(binding))
}

fn binding_cookie(module: &AuthModule, id: &str, max_age: i64) -> HeaderValue {
    // Scoped to the authorization endpoint.
    set_cookie_at(
        &module.config().session,
        PATH,
        BINDING_COOKIE,
        id,
        max_age,
        true,
    )
}

/// The user's session cookie, when the browser sends one.
fn session_secret<'a>(module: &AuthModule, headers: &'a HeaderMap) -> Option<&'a str> {
    cookie_value(headers, &module.config().session.session_cookie())
}

/// `GET /oauth/authorize`: checks the request and shows its page.
#[public]
pub(in crate::routes) async fn authorize(
    State(module): State<AuthModule>,
    headers: HeaderMap,
    Query(params): Query<AuthorizationParams>,
) -> Response {
    match module.service().authorization_request(&params).await {
        Ok(request) => {
            let signed_in = match session_secret(&module, &headers) {
                Some(secret) => module.service().verify_cookie(secret).await.is_ok(),
                None => false,
            };
            show(&module, &request, &Step::SignIn { signed_in }, None)
        }
        Err(AuthorizeError::Page(message)) => error_page(StatusCode::BAD_REQUEST, &message),
        Err(AuthorizeError::Redirect(location)) => see_other(&location, []),
        Err(AuthorizeError::Service(e)) => super::OAuthProblem(e).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "the request cannot be served"),
    }
}

/// The page's form.
#[derive(Deserialize)]
pub(in crate::routes) struct AuthorizeForm {
    request: String,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    mfa_token: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// What a failed sign-in tells the user on the page: the error's own words for what they can
/// fix, and one sentence for every kind of wrong credential.
fn sign_in_error(e: &AuthError) -> String {
    match e {
        AuthError::InvalidCredentials | AuthError::Validation(_) => {
            "Wrong username or password.".to_owned()
        }
        AuthError::InvalidMfaCode => "Wrong code.".to_owned(),
        other => other.to_string(),
    }
}

/// `POST /oauth/authorize`: the user's answer on the page.
#[public]
pub(in crate::routes) async fn decide(
    _: PerIp<rate_limit::Login>,
    State(module): State<AuthModule>,
    client: ClientInfo,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm<AuthorizeForm>,
) -> Result<Response, Response> {
    let service = module.service();
    let expired = || {
        error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in page has expired or was already used. Go back to the application and start again.",
        )
    };
    if cookie_value(&headers, BINDING_COOKIE) != Some(form.request.as_str()) {
        return Err(expired());
    }
    let request = service
        .take_authorization_request(&form.request)
        .await
        .map_err(|e| super::OAuthProblem(e).into_response())?
        .ok_or_else(expired)?;
    let clear = binding_cookie(&module, "", 0);
    if form.action.as_deref() == Some("deny") {
        return Ok(see_other(&service.deny_authorization(&request), [clear]));
    }
    let renew = |request: AuthorizationRequest| async {
        service
            .renew_authorization_request(request)
            .await
            .map_err(|e| super::OAuthProblem(e).into_response())
    };
    // Sign in: a password, then the second factor of an account that has one.
    let login = if let (Some(username), Some(password)) = (form.username, form.password) {
        let login = LoginRequest::new(username, password).from_device(client.device(None));
        match service.login_with_cookie(login).await {
            Ok(login) => Some(login),
            Err(AuthError::MfaRequired(challenge)) => {
                let request = renew(request).await?;
                return Ok(second_factor(&module, &request, &challenge));
            }
            Err(e) => {
                let request = renew(request).await?;
                let step = Step::SignIn { signed_in: false };
                return Ok(show(&module, &request, &step, Some(&sign_in_error(&e))));
            }
        }
    } else if let Some(mfa_token) = form.mfa_token {
        let code = form.code.unwrap_or_default();
        let factor = if code.trim().len() > 8 {
            SecondFactor::BackupCode(code)
        } else {
            SecondFactor::Code(code)
        };
        let ip = client.device(None).ip;
        match service.verify_mfa(&mfa_token, &factor, ip.as_deref()).await {
            Ok(MfaLogin::Cookie(login)) => Some(*login),
            Ok(_) => None,
            Err(e @ (AuthError::InvalidMfaCode | AuthError::Validation(_))) => {
                let request = renew(request).await?;
                let step = Step::SecondFactor {
                    mfa_token: &mfa_token,
                };
                return Ok(show(&module, &request, &step, Some(&sign_in_error(&e))));
            }
            Err(e) => {
                let request = renew(request).await?;
                let step = Step::SignIn { signed_in: false };
                return Ok(show(&module, &request, &step, Some(&sign_in_error(&e))));
            }
        }
    } else {
        None
    };
    let (secret, mut cookies) = match &login {
        Some(login) => (
            login.secret.expose_secret().to_owned(),
            session_cookies(&module.config().session, login).to_vec(),
        ),
        None => match session_secret(&module, &headers) {
            Some(secret) => (secret.to_owned(), Vec::new()),
            None => {
                let request = renew(request).await?;
                return Ok(show(
                    &module,
                    &request,
                    &Step::SignIn { signed_in: false },
                    None,
                ));
            }
        },
    };
    match service.approve_authorization(&request, &secret).await {
        Ok(location) => {
            cookies.push(clear);
            Ok(see_other(&location, cookies))
        }
        Err(auth_core::oauth::OAuthError::Service(e))
            if matches!(*e, AuthError::InvalidSession) =>
        {
            let request = renew(request).await?;
            Ok(show(
                &module,
                &request,
                &Step::SignIn { signed_in: false },
                None,
            ))
        }
        Err(e) => Err(super::OAuthProblem(e).into_response()),
    }
}

/// The second-factor step of `request` for `challenge`: a code of the authenticator app or
/// a backup code (a passkey-only account cannot finish here yet).
fn second_factor(
    module: &AuthModule,
    request: &AuthorizationRequest,
    challenge: &MfaChallenge,
) -> Response {
    if !challenge.methods.contains(&"totp") {
        let step = Step::SignIn { signed_in: false };
        let error = "This account signs in with a passkey, which this page does not offer yet.";
        return show(module, request, &step, Some(error));
    }
    let step = Step::SecondFactor {
        mfa_token: challenge.mfa_token.expose_secret(),
    };
    show(module, request, &step, None)
}
