//! Passkeys (feature `webauthn`): register (`/auth/passkeys/register/start` + `finish`),
//! list and remove (`GET` / `DELETE /auth/passkeys`), and log in with one
//! (`/auth/passkeys/login/start` + `finish`), username-less or as a login's second factor, or
//! step up a session with one (`/auth/passkeys/step-up/start` + `finish`).

use auth_core::mfa::passkey::PasskeyRecord;
use auth_core::mfa::webauthn::{PublicKeyCredential, RegisterPublicKeyCredential};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

use super::mfa::no_store;
use super::tokens::ClientInfo;
use crate::rate_limit::{self, PerIp};
use crate::{public, require_auth, Auth, AuthModule, JsonBody, Problem};

/// 200 `{ceremony_id, publicKey}`: the options for `navigator.credentials.create()`.
#[require_auth]
pub(super) async fn start_registration(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Response, Problem> {
    let ceremony = module
        .service()
        .start_passkey_registration(&principal)
        .await?;
    Ok(no_store(Json(ceremony)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FinishRegistration {
    ceremony_id: String,
    #[serde(default)]
    name: Option<String>,
    credential: RegisterPublicKeyCredential,
}

/// 201, the passkey `{id, name, created_at, last_used_at}`.
#[require_auth]
pub(super) async fn finish_registration(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    JsonBody(body): JsonBody<FinishRegistration>,
) -> Result<(StatusCode, Json<PasskeyRecord>), Problem> {
    let passkey = module
        .service()
        .finish_passkey_registration(
            &principal,
            &body.ceremony_id,
            body.name.as_deref(),
            &body.credential,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(passkey)))
}

/// 200, the caller's passkeys, oldest first.
#[require_auth]
pub(super) async fn passkeys(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Json<Vec<PasskeyRecord>>, Problem> {
    Ok(Json(module.service().passkeys(&principal).await?))
}

/// 204, or 404 when the caller has no such passkey.
#[require_auth]
pub(super) async fn remove(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if module.service().remove_passkey(&principal, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found("no such passkey"))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct StartLogin {
    /// The challenge of a password login this passkey completes; none for a username-less
    /// login.
    #[serde(default)]
    mfa_token: Option<String>,
    /// A username-less browser login: a cookie session instead of tokens.
    #[serde(default)]
    cookie: bool,
}

/// 200 `{ceremony_id, publicKey}`: the options for `navigator.credentials.get()`.
#[public]
pub(super) async fn start_login(
    _: PerIp<rate_limit::Mfa>,
    State(module): State<AuthModule>,
    JsonBody(body): JsonBody<StartLogin>,
) -> Result<Response, Problem> {
    let ceremony = module
        .service()
        .start_passkey_login(body.mfa_token.as_deref(), body.cookie)
        .await?;
    Ok(no_store(Json(ceremony)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FinishLogin {
    ceremony_id: String,
    credential: PublicKeyCredential,
    #[serde(default)]
    device_name: Option<String>,
}

/// 200, the tokens or the cookie session of the login.
#[public]
pub(super) async fn finish_login(
    _: PerIp<rate_limit::Mfa>,
    State(module): State<AuthModule>,
    client: ClientInfo,
    JsonBody(body): JsonBody<FinishLogin>,
) -> Result<Response, Problem> {
    let device = client.device(body.device_name);
    let login = module
        .service()
        .finish_passkey_login(&body.ceremony_id, &body.credential, device)
        .await?;
    super::mfa::login_response(&module, login)
}

/// 200 `{ceremony_id, publicKey}`: a challenge only the caller's passkeys answer.
#[require_auth]
pub(super) async fn start_step_up(
    _: PerIp<rate_limit::Mfa>,
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Response, Problem> {
    let ceremony = module.service().start_passkey_step_up(&principal).await?;
    Ok(no_store(Json(ceremony)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FinishStepUp {
    ceremony_id: String,
    credential: PublicKeyCredential,
}

/// 200, as `POST /auth/mfa/step-up` answers: the session now records the passkey.
#[require_auth]
pub(super) async fn finish_step_up(
    _: PerIp<rate_limit::Mfa>,
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    JsonBody(body): JsonBody<FinishStepUp>,
) -> Result<Response, Problem> {
    let done = module
        .service()
        .finish_passkey_step_up(&principal, &body.ceremony_id, &body.credential)
        .await?;
    super::mfa::step_up_response(&module, done)
}
