//! Passwords: reset by mail (`POST /auth/password/forgot`, `POST /auth/password/reset`) and
//! change by a signed-in user (`POST /auth/password/change`); the verification of the email
//! address (`POST /auth/verify-email`, `POST /auth/verify-email/resend`); the user's own
//! profile fields (`PATCH /auth/me`).

use std::fmt;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use crate::rate_limit::{self, PerIp};
use crate::{public, require_auth, Auth, AuthModule, JsonBody, Problem};

/// `POST /auth/password/forgot` body.
#[derive(Deserialize)]
pub(super) struct ForgotRequest {
    email: String,
}

/// `POST /auth/password/reset` body. Its `Debug` shows neither field.
#[derive(Deserialize)]
pub(super) struct ResetRequest {
    token: String,
    new_password: String,
}

impl fmt::Debug for ResetRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetRequest").finish_non_exhaustive()
    }
}

/// `POST /auth/password/change` body. Its `Debug` shows neither field.
#[derive(Deserialize)]
pub(super) struct ChangeRequest {
    current_password: String,
    new_password: String,
}

impl fmt::Debug for ChangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeRequest").finish_non_exhaustive()
    }
}

/// `POST /auth/email/change` body. Its `Debug` shows neither field.
#[derive(Deserialize)]
pub(super) struct EmailChangeRequest {
    new_email: String,
    password: String,
}

impl fmt::Debug for EmailChangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailChangeRequest").finish_non_exhaustive()
    }
}

/// `POST /auth/verify-email` and `POST /auth/email/confirm` body.
#[derive(Deserialize)]
pub(super) struct VerifyRequest {
    token: String,
}

/// The one answer to every well-formed forgot request.
const ACCEPTED: &str =
    "if the address belongs to an account, a link to reset its password is on its way";

/// 202 at once for any well-formed address, and the work (look-up, token, mail) in the
/// background: neither the answer nor its time tells whether the address has an account, is
/// unverified or is deactivated.
#[public]
pub(super) async fn forgot_password(
    _: PerIp<rate_limit::Password>,
    State(module): State<AuthModule>,
    JsonBody(request): JsonBody<ForgotRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    module
        .service()
        .request_password_reset(&request.email)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "status": "accepted", "detail": ACCEPTED })),
    ))
}

/// 204 once the password is set and every session of the account has ended; 400
/// `invalid_or_expired_token` for a wrong, used, expired or superseded token alike; 422 when
/// the password policy refuses the new password (the token stays usable).
#[public]
pub(super) async fn reset_password(
    _: PerIp<rate_limit::Password>,
    State(module): State<AuthModule>,
    JsonBody(request): JsonBody<ResetRequest>,
) -> Result<StatusCode, Problem> {
    module
        .service()
        .reset_password(&request.token, &request.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 204 once the password is changed: the caller's other sessions have ended, the one it uses
/// stays signed in. 422 naming `current_password` (not the password) and/or `new_password`
/// (refused by the policy, or unchanged).
#[require_auth]
pub(super) async fn change_password(
    _: PerIp<rate_limit::Password>,
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    JsonBody(request): JsonBody<ChangeRequest>,
) -> Result<StatusCode, Problem> {
    module
        .service()
        .change_password(&principal, &request.current_password, &request.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 204 once the address is verified; 400 `invalid_or_expired_token` for a wrong, used,
/// expired or superseded token alike.
#[public]
pub(super) async fn verify_email(
    _: PerIp<rate_limit::Verify>,
    State(module): State<AuthModule>,
    JsonBody(request): JsonBody<VerifyRequest>,
) -> Result<StatusCode, Problem> {
    module.service().verify_email(&request.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 202 `{status: "sent"}` when a new link is on its way (the older one stops working), 200
/// `{status: "already_verified"}` when there is nothing to verify.
#[require_auth]
pub(super) async fn resend_verification(
    _: PerIp<rate_limit::Verify>,
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    Ok(if module.service().resend_verification(&principal).await? {
        (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "status": "sent" })),
        )
    } else {
        (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "already_verified" })),
        )
    })
}

/// 200 with the public user once the profile fields of the body are changed; 422 naming each
/// field that may not be changed here (the framework's own, read-only ones, unknown keys) or
/// whose value is refused.
#[require_auth]
pub(super) async fn update_me(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    JsonBody(changes): JsonBody<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<auth_core::PublicUser>, Problem> {
    Ok(Json(
        module
            .service()
            .update_profile(&principal, &changes)
            .await?,
    ))
}

/// 202 once the new address is mailed a confirmation link (and the old one told); 422 naming
/// `password` or `new_email`; 409 when another account has the address.
#[require_auth]
pub(super) async fn change_email(
    _: PerIp<rate_limit::Verify>,
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    JsonBody(request): JsonBody<EmailChangeRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    module
        .service()
        .request_email_change(&principal, &request.new_email, &request.password)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "status": "sent" })),
    ))
}

/// 204 once the address is changed; 400 `invalid_or_expired_token` for a wrong, used, expired
/// or superseded token alike.
#[public]
pub(super) async fn confirm_email(
    _: PerIp<rate_limit::Verify>,
    State(module): State<AuthModule>,
    JsonBody(request): JsonBody<VerifyRequest>,
) -> Result<StatusCode, Problem> {
    module
        .service()
        .confirm_email_change(&request.token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
