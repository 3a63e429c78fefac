//! What every way of signing in elsewhere shares over HTTP: the caller's linked accounts
//! (`GET /auth/identities`, `DELETE /auth/identities/{id}`), and the answer that ends an
//! OpenID Connect or SAML sign-in.

#[cfg(any(feature = "oidc", feature = "saml"))]
use auth_core::service::{MfaLogin, SignInOutcome, SignInResult};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
#[cfg(any(feature = "oidc", feature = "saml"))]
use axum::response::Response;
use axum::Json;

#[cfg(any(feature = "oidc", feature = "saml"))]
use super::mfa::{login_response, no_store};
#[cfg(any(feature = "oidc", feature = "saml"))]
use super::tokens::{see_other, session_cookies};
use crate::{require_auth, Auth, AuthModule, Problem};

/// A query string as `T`; a malformed one is 400 `invalid_query`.
#[cfg(any(feature = "oidc", feature = "saml"))]
pub(super) fn query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, Problem> {
    query.map(|axum::extract::Query(q)| q).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "Invalid query",
            e.body_text(),
        )
    })
}

/// The query that starts a sign-in (`GET /auth/oauth/{provider}/authorize`,
/// `GET /auth/saml/{provider}/login`).
#[cfg(any(feature = "oidc", feature = "saml"))]
#[derive(serde::Deserialize)]
pub(super) struct SignInQuery {
    /// Where the browser goes afterwards: a path on this site.
    #[serde(default)]
    return_to: Option<String>,
    /// `cookie` (default) or `tokens`: the sign-in ends with tokens in the body.
    #[serde(default)]
    mode: Option<String>,
}

#[cfg(any(feature = "oidc", feature = "saml"))]
impl SignInQuery {
    /// The sign-in's options; 422 for a mode that is neither.
    pub(super) fn options(self) -> Result<auth_core::service::SignInOptions, Problem> {
        let mut options = auth_core::service::SignInOptions::default();
        options.tokens = match self.mode.as_deref() {
            None | Some("cookie") => false,
            Some("tokens") => true,
            Some(_) => {
                return Err(
                    auth_core::AuthError::invalid("mode", "use `cookie` or `tokens`").into(),
                )
            }
        };
        options.return_to = self.return_to;
        Ok(options)
    }
}

/// The answer that ends a sign-in: a cookie sign-in 303 to its `return_to` with the session
/// cookies; a tokens sign-in the token response; a second factor due 303 to
/// `return_to#mfa_token=..&methods=..` (cookie) or the challenge (tokens); a link 303 to
/// `return_to`.
#[cfg(any(feature = "oidc", feature = "saml"))]
pub(super) fn sign_in_answer(
    module: &AuthModule,
    outcome: SignInOutcome,
) -> Result<Response, Problem> {
    use secrecy::ExposeSecret;
    let return_to = outcome.return_to;
    Ok(match outcome.result {
        SignInResult::Login(MfaLogin::Cookie(login)) => see_other(
            &return_to,
            session_cookies(&module.config().session, &login),
        ),
        SignInResult::Login(login) => login_response(module, login)?,
        SignInResult::MfaRequired(challenge) if outcome.tokens => no_store(Json(challenge)),
        SignInResult::MfaRequired(challenge) => {
            // In the fragment: never sent to a server, nor in a Referer.
            let location = format!(
                "{}#mfa_token={}&methods={}",
                return_to.split('#').next().unwrap_or_default(),
                challenge.mfa_token.expose_secret(),
                challenge.methods.join(",")
            );
            see_other(&location, [])
        }
        SignInResult::Linked(_) => see_other(&return_to, []),
        _ => {
            return Err(auth_core::AuthError::Internal("unknown sign-in result".to_owned()).into())
        }
    })
}

/// `GET /auth/identities`: the caller's linked provider accounts.
#[require_auth]
pub(super) async fn identities(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<impl IntoResponse, Problem> {
    Ok(Json(module.service().identities(&principal).await?))
}

/// `DELETE /auth/identities/{id}`: unlinks one; 409 `last_sign_in_method` when it is the
/// account's last way to sign in.
#[require_auth]
pub(super) async fn unlink(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    module.service().unlink_identity(&principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
