//! Signing in with a directory account (feature `ldap`): `POST /auth/ldap/login`.

use auth_core::service::LoginRequest;
use auth_core::AuthError;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::mfa::{login_answer, login_response};
use super::tokens::ClientInfo;
use crate::rate_limit::{self, PerIp};
use crate::{public, AuthModule, JsonBody, Problem};

/// The body of `POST /auth/ldap/login`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DirectoryLoginJson {
    username: String,
    password: String,
    #[serde(default)]
    device_name: Option<String>,
    /// A browser login: the session in an HttpOnly cookie instead of tokens in the body.
    #[serde(default)]
    cookie: bool,
}

/// `POST /auth/ldap/login`: the directory checks the name and password; the answer is a
/// password login's (tokens, the cookie session, or the second factor's challenge).
#[public]
pub(super) async fn login(
    _: PerIp<rate_limit::Login>,
    State(module): State<AuthModule>,
    client: ClientInfo,
    JsonBody(body): JsonBody<DirectoryLoginJson>,
) -> Result<Response, Problem> {
    if body.username.trim().is_empty() {
        return Err(AuthError::invalid("username", "send the directory user name").into());
    }
    let request = LoginRequest::new(body.username, body.password)
        .from_device(client.device(body.device_name));
    let login = module
        .service()
        .login_with_directory(request, body.cookie)
        .await;
    login_answer(login, |done| {
        login_response(&module, done).unwrap_or_else(IntoResponse::into_response)
    })
}
