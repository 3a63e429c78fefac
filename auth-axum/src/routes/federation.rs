//! Signing in with another provider (feature `oidc`): the providers a sign-in page lists,
//! the start of a sign-in (a redirect to the provider, binding the browser with a cookie),
//! the provider's redirect back, and the signed-in user's linked accounts.

use auth_core::service::{Callback, SignInOptions, SignInStart};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::identities::{query, sign_in_answer, SignInQuery};
use super::mfa::no_store;
use super::tokens::{see_other, set_cookie_at, ClientInfo};
use crate::extract::cookie_value;
use crate::rate_limit::{self, PerIp};
use crate::{public, require_auth, Auth, AuthModule, JsonBody, Problem};

/// The cookie binding a sign-in to the browser that started it.
const BINDING_COOKIE: &str = "oauth_binding";
/// Where it is sent: the sign-in routes only.
const PATH: &str = "/auth/oauth";

/// `GET /auth/oauth/providers`: the configured providers, for a sign-in page.
#[public]
pub(super) async fn providers(State(module): State<AuthModule>) -> impl IntoResponse {
    Json(module.service().sign_in_providers())
}

/// The binding cookie of a started sign-in.
fn binding_cookie(module: &AuthModule, start: &SignInStart) -> HeaderValue {
    let session = &module.config().session;
    let secret = start.binding.expose_secret();
    set_cookie_at(
        session,
        PATH,
        BINDING_COOKIE,
        secret,
        start.expires_in,
        true,
    )
}

/// `GET /auth/oauth/{provider}/authorize`: 303 to the provider's authorization endpoint,
/// the browser bound to the sign-in by an HttpOnly cookie.
#[public]
pub(super) async fn authorize(
    _: PerIp<rate_limit::Login>,
    State(module): State<AuthModule>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    params: Result<Query<SignInQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let mut options = query(params)?.options()?;
    options.binding = cookie_value(&headers, BINDING_COOKIE).map(str::to_owned);
    let start = module
        .service()
        .start_sign_in(&provider, options, None)
        .await?;
    let cookie = binding_cookie(&module, &start);
    Ok(see_other(&start.authorization_url, [cookie]))
}

/// The body of `POST /auth/oauth/{provider}/link`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkJson {
    #[serde(default)]
    return_to: Option<String>,
}

/// `POST /auth/oauth/{provider}/link`: starts linking a provider account to the caller's:
/// 200 `{authorization_url}` to send the browser to, and the binding cookie.
#[require_auth]
pub(super) async fn link(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    Path(provider): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LinkJson>,
) -> Result<Response, Problem> {
    let mut options = SignInOptions::default();
    options.return_to = body.return_to;
    options.binding = cookie_value(&headers, BINDING_COOKIE).map(str::to_owned);
    let start = module
        .service()
        .start_sign_in(&provider, options, Some(&principal))
        .await?;
    let cookie = binding_cookie(&module, &start);
    let body = serde_json::json!({
        "authorization_url": start.authorization_url,
        "expires_in": start.expires_in,
    });
    let mut response = no_store(Json(body));
    response
        .headers_mut()
        .append(axum::http::header::SET_COOKIE, cookie);
    Ok(response)
}

/// `GET /auth/oauth/{provider}/callback`: the provider's redirect back. A cookie sign-in
/// ends with 303 to its `return_to` and the session cookies; a tokens sign-in with the
/// token response; a second factor due with 303 to `return_to#mfa_token=..&methods=..`
/// (cookie) or the challenge (tokens); a link with 303 to `return_to`.
#[public]
pub(super) async fn callback(
    _: PerIp<rate_limit::Login>,
    State(module): State<AuthModule>,
    Path(provider): Path<String>,
    client: ClientInfo,
    headers: HeaderMap,
    params: Result<Query<Callback>, QueryRejection>,
) -> Result<Response, Problem> {
    let params = query(params)?;
    let binding = cookie_value(&headers, BINDING_COOKIE);
    let outcome = module
        .service()
        .finish_sign_in(&provider, &params, binding, client.device(None))
        .await?;
    sign_in_answer(&module, outcome)
}
