//! Second factors: the login challenge's completion (`POST /auth/mfa/verify`), step-up
//! (`POST /auth/mfa/step-up`), the account's state (`GET /auth/mfa`) and, with the `totp`
//! feature, authenticator apps: enrol, confirm, disable, new backup codes.

use auth_core::service::{MfaLogin, MfaStatus, Proof, SecondFactor, StepUp};
use auth_core::AuthError;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::SecretString;
use serde::Deserialize;

use super::tokens::{cookie_response, token_response};
use crate::rate_limit::{self, PerIp};
use crate::{public, require_auth, Auth, AuthModule, ClientAddr, JsonBody, Problem};

/// A code, a backup code or the password, as the MFA routes take them (exactly one).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProofJson {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

impl ProofJson {
    /// The proof sent (a code, a backup code or the password) and the client's address, as
    /// the service's proof-taking methods want them.
    fn with_client(self, ip: Option<std::net::IpAddr>) -> Result<(Proof, Option<String>), Problem> {
        Ok((self.proof(true)?, ip.map(|ip| ip.to_string())))
    }

    /// The one proof sent; `password` only where `password_allowed`.
    fn proof(self, password_allowed: bool) -> Result<Proof, AuthError> {
        let fields = if password_allowed {
            "send one of `code`, `backup_code` or `password`"
        } else {
            "send one of `code` or `backup_code`"
        };
        match (self.code, self.backup_code, self.password) {
            (Some(code), None, None) => Ok(Proof::Factor(SecondFactor::Code(code))),
            (None, Some(code), None) => Ok(Proof::Factor(SecondFactor::BackupCode(code))),
            (None, None, Some(password)) if password_allowed => {
                Ok(Proof::Password(SecretString::from(password)))
            }
            _ => Err(AuthError::invalid("code", fields)),
        }
    }
}

/// A secret-bearing answer: never cached.
pub(super) fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// What a login answers for an account with MFA: 200 `{mfa_required, mfa_token, methods,
/// expires_in}`, never cached; other errors as they are.
pub(super) fn login_answer<T>(
    result: Result<T, AuthError>,
    ok: impl FnOnce(T) -> Response,
) -> Result<Response, Problem> {
    match result {
        Ok(done) => Ok(ok(done)),
        Err(AuthError::MfaRequired(challenge)) => Ok(no_store(Json(challenge))),
        Err(e) => Err(e.into()),
    }
}

/// The answer of a completed login: tokens, or the cookie session.
pub(super) fn login_response(module: &AuthModule, login: MfaLogin) -> Result<Response, Problem> {
    Ok(match login {
        MfaLogin::Tokens(tokens) => token_response(*tokens),
        MfaLogin::Cookie(login) => cookie_response(&module.config().session, *login),
        _ => return Err(AuthError::Internal("unknown login kind".to_owned()).into()),
    }
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyJson {
    mfa_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
}

/// Completes a challenged login: the token response, or the cookie session, the login asked
/// for.
#[public]
pub(super) async fn verify(
    _: PerIp<rate_limit::Mfa>,
    State(module): State<AuthModule>,
    ClientAddr(ip): ClientAddr,
    JsonBody(body): JsonBody<VerifyJson>,
) -> Result<Response, Problem> {
    let proof = ProofJson {
        code: body.code,
        backup_code: body.backup_code,
        password: None,
    };
    let Proof::Factor(factor) = proof.proof(false)? else {
        return Err(AuthError::invalid("code", "send one of `code` or `backup_code`").into());
    };
    let ip = ip.map(|ip| ip.to_string());
    let login = module
        .service()
        .verify_mfa(&body.mfa_token, &factor, ip.as_deref())
        .await?;
    login_response(&module, login)
}

/// Proves a factor again in the caller's session: a bearer caller gets a new access token
/// `{access_token, token_type, expires_in}`, a cookie caller a new cookie.
#[require_auth]
pub(super) async fn step_up(
    _: PerIp<rate_limit::Mfa>,
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    ClientAddr(ip): ClientAddr,
    JsonBody(body): JsonBody<ProofJson>,
) -> Result<Response, Problem> {
    let (proof, ip) = body.with_client(ip)?;
    let done = module
        .service()
        .step_up(&principal, &proof, ip.as_deref())
        .await?;
    step_up_response(&module, done)
}

/// The answer of a step-up: a bearer caller's new access token, or a cookie caller's new
/// cookie.
pub(super) fn step_up_response(module: &AuthModule, done: StepUp) -> Result<Response, Problem> {
    Ok(match done {
        StepUp::Bearer(token) => no_store(Json(serde_json::json!({
            "access_token": token.token,
            "token_type": "Bearer",
            "expires_in": token.expires_in,
        }))),
        StepUp::Cookie(login) => cookie_response(&module.config().session, login),
        _ => return Err(AuthError::Internal("unknown step-up kind".to_owned()).into()),
    })
}

/// The caller's second-factor state.
#[require_auth]
pub(super) async fn status(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Json<MfaStatus>, Problem> {
    Ok(Json(module.service().mfa_status(&principal).await?))
}

#[cfg(feature = "totp")]
pub(super) use self::totp::{confirm_totp, disable_totp, enroll_totp, regenerate_backup_codes};

#[cfg(feature = "totp")]
mod totp {
    use auth_core::service::TotpEnrollment;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::Response;
    use axum::Json;
    use serde::Deserialize;

    use super::{no_store, ProofJson};
    use crate::rate_limit::{self, PerIp};
    use crate::{require_auth, Auth, AuthModule, ClientAddr, JsonBody, Problem};

    /// 200: the secret, the `otpauth://` URI and the QR codes, shown this once.
    #[require_auth]
    pub(in crate::routes) async fn enroll_totp(
        State(module): State<AuthModule>,
        Auth(principal): Auth,
    ) -> Result<Response, Problem> {
        let enrollment: TotpEnrollment = module.service().enroll_totp(&principal).await?;
        Ok(no_store(Json(enrollment)))
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(in crate::routes) struct ConfirmJson {
        code: String,
    }

    /// 200 `{backup_codes}`: TOTP is on; the codes are shown this once.
    #[require_auth]
    pub(in crate::routes) async fn confirm_totp(
        _: PerIp<rate_limit::Mfa>,
        State(module): State<AuthModule>,
        Auth(principal): Auth,
        JsonBody(body): JsonBody<ConfirmJson>,
    ) -> Result<Response, Problem> {
        let codes = module
            .service()
            .confirm_totp(&principal, &body.code)
            .await?;
        Ok(no_store(Json(serde_json::json!({ "backup_codes": codes }))))
    }

    /// 204: TOTP and the backup codes are off (given the password or a code).
    #[require_auth]
    pub(in crate::routes) async fn disable_totp(
        _: PerIp<rate_limit::Mfa>,
        State(module): State<AuthModule>,
        Auth(principal): Auth,
        ClientAddr(ip): ClientAddr,
        JsonBody(body): JsonBody<ProofJson>,
    ) -> Result<StatusCode, Problem> {
        let (proof, ip) = body.with_client(ip)?;
        module
            .service()
            .disable_totp(&principal, &proof, ip.as_deref())
            .await?;
        Ok(StatusCode::NO_CONTENT)
    }

    /// 200 `{backup_codes}`: a new set, the old codes void (given the password or a code).
    #[require_auth]
    pub(in crate::routes) async fn regenerate_backup_codes(
        _: PerIp<rate_limit::Mfa>,
        State(module): State<AuthModule>,
        Auth(principal): Auth,
        ClientAddr(ip): ClientAddr,
        JsonBody(body): JsonBody<ProofJson>,
    ) -> Result<Response, Problem> {
        let (proof, ip) = body.with_client(ip)?;
        let codes = module
            .service()
            .regenerate_backup_codes(&principal, &proof, ip.as_deref())
            .await?;
        Ok(no_store(Json(serde_json::json!({ "backup_codes": codes }))))
    }
}
