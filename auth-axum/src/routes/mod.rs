#![doc = include_str!("routes.md")]
//!
//! The table is also where `auth_axum::openapi` (feature `openapi`) takes each built-in
//! route's description from.

mod account;
mod api_keys;
mod events;
#[cfg(feature = "oidc")]
mod federation;
#[cfg(any(feature = "oidc", feature = "ldap", feature = "saml"))]
mod identities;
#[cfg(feature = "ldap")]
mod ldap;
mod mfa;
#[cfg(feature = "provider")]
mod oauth;
#[cfg(feature = "webauthn")]
mod passkeys;
#[cfg(feature = "saml")]
mod saml;
mod sessions;
mod tokens;

pub use self::events::AuditParams;

use auth_core::service::RegisterRequest;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};

use crate::rate_limit::{self, PerIp};
use crate::{public, require_auth, AuthModule, AuthRouter, CurrentUser, JsonBody, Problem};

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
    /// `GET /auth/me/security-events`.
    SecurityEvents,
    /// `POST /auth/api-keys`.
    CreateApiKey,
    /// `GET /auth/api-keys`.
    ApiKeys,
    /// `DELETE /auth/api-keys/{id}`.
    RevokeApiKey,
    /// `GET /auth/mfa`.
    MfaStatus,
    /// `POST /auth/mfa/verify`.
    VerifyMfa,
    /// `POST /auth/mfa/step-up`.
    StepUp,
    /// `POST /auth/mfa/totp/enroll` (feature `totp`).
    EnrollTotp,
    /// `POST /auth/mfa/totp/confirm` (feature `totp`).
    ConfirmTotp,
    /// `DELETE /auth/mfa/totp` (feature `totp`).
    DisableTotp,
    /// `POST /auth/mfa/backup-codes` (feature `totp`).
    RegenerateBackupCodes,
    /// `POST /auth/passkeys/register/start` (feature `webauthn`).
    StartPasskeyRegistration,
    /// `POST /auth/passkeys/register/finish` (feature `webauthn`).
    FinishPasskeyRegistration,
    /// `GET /auth/passkeys` (feature `webauthn`).
    Passkeys,
    /// `DELETE /auth/passkeys/{id}` (feature `webauthn`).
    RemovePasskey,
    /// `POST /auth/passkeys/login/start` (feature `webauthn`).
    StartPasskeyLogin,
    /// `POST /auth/passkeys/login/finish` (feature `webauthn`).
    FinishPasskeyLogin,
    /// `POST /auth/passkeys/step-up/start` (feature `webauthn`).
    StartPasskeyStepUp,
    /// `POST /auth/passkeys/step-up/finish` (feature `webauthn`).
    FinishPasskeyStepUp,
    /// `GET /.well-known/jwks.json` (feature `provider`).
    Jwks,
    /// `GET /.well-known/openid-configuration` (feature `provider`).
    OpenIdConfiguration,
    /// `GET /oauth/authorize` (feature `provider`).
    Authorize,
    /// `POST /oauth/authorize`, the sign-in and consent page's form (feature `provider`).
    AuthorizeDecision,
    /// `POST /oauth/token` (feature `provider`).
    Token,
    /// `POST /oauth/introspect` (feature `provider`).
    Introspect,
    /// `POST /oauth/revoke` (feature `provider`).
    RevokeToken,
    /// `GET /oauth/userinfo` (feature `provider`).
    UserInfo,
    /// `POST /oauth/register` (feature `provider`).
    RegisterClient,
    /// `POST /auth/oauth/token`, apexauthlib's code exchange (feature `provider`).
    LegacyCodeToken,
    /// `GET /auth/oauth/providers`, the sign-in providers (feature `oidc`).
    SignInProviders,
    /// `GET /auth/oauth/{provider}/authorize`, a sign-in's start (feature `oidc`).
    StartSignIn,
    /// `GET /auth/oauth/{provider}/callback`, the provider's redirect back (feature `oidc`).
    SignInCallback,
    /// `POST /auth/oauth/{provider}/link`, linking a provider account (feature `oidc`).
    LinkIdentity,
    /// `GET /auth/identities`, the caller's linked accounts (features `oidc`, `ldap`,
    /// `saml`).
    Identities,
    /// `DELETE /auth/identities/{id}` (features `oidc`, `ldap`, `saml`).
    UnlinkIdentity,
    /// `POST /auth/ldap/login`, a directory account's login (feature `ldap`).
    DirectoryLogin,
    /// `GET /auth/saml/{provider}/metadata`, this service's SAML metadata (feature `saml`).
    SamlMetadata,
    /// `GET /auth/saml/{provider}/login`, a SAML sign-in's start (feature `saml`).
    SamlLogin,
    /// `POST /auth/saml/{provider}/acs`, the assertion consumer service (feature `saml`).
    SamlAcs,
    /// `GET /health`.
    Health,
    /// `GET /ready`.
    Ready,
}

impl BuiltinRoute {
    /// Every built-in route.
    pub const ALL: [Self; 57] = [
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
        Self::SecurityEvents,
        Self::CreateApiKey,
        Self::ApiKeys,
        Self::RevokeApiKey,
        Self::MfaStatus,
        Self::VerifyMfa,
        Self::StepUp,
        Self::EnrollTotp,
        Self::ConfirmTotp,
        Self::DisableTotp,
        Self::RegenerateBackupCodes,
        Self::StartPasskeyRegistration,
        Self::FinishPasskeyRegistration,
        Self::Passkeys,
        Self::RemovePasskey,
        Self::StartPasskeyLogin,
        Self::FinishPasskeyLogin,
        Self::StartPasskeyStepUp,
        Self::FinishPasskeyStepUp,
        Self::Jwks,
        Self::OpenIdConfiguration,
        Self::Authorize,
        Self::AuthorizeDecision,
        Self::Token,
        Self::Introspect,
        Self::RevokeToken,
        Self::UserInfo,
        Self::RegisterClient,
        Self::LegacyCodeToken,
        Self::SignInProviders,
        Self::StartSignIn,
        Self::SignInCallback,
        Self::LinkIdentity,
        Self::Identities,
        Self::UnlinkIdentity,
        Self::DirectoryLogin,
        Self::SamlMetadata,
        Self::SamlLogin,
        Self::SamlAcs,
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
            Self::SecurityEvents => (Method::GET, "/auth/me/security-events"),
            Self::CreateApiKey => (Method::POST, "/auth/api-keys"),
            Self::ApiKeys => (Method::GET, "/auth/api-keys"),
            Self::RevokeApiKey => (Method::DELETE, "/auth/api-keys/{id}"),
            Self::MfaStatus => (Method::GET, "/auth/mfa"),
            Self::VerifyMfa => (Method::POST, "/auth/mfa/verify"),
            Self::StepUp => (Method::POST, "/auth/mfa/step-up"),
            Self::EnrollTotp => (Method::POST, "/auth/mfa/totp/enroll"),
            Self::ConfirmTotp => (Method::POST, "/auth/mfa/totp/confirm"),
            Self::DisableTotp => (Method::DELETE, "/auth/mfa/totp"),
            Self::RegenerateBackupCodes => (Method::POST, "/auth/mfa/backup-codes"),
            Self::StartPasskeyRegistration => (Method::POST, "/auth/passkeys/register/start"),
            Self::FinishPasskeyRegistration => (Method::POST, "/auth/passkeys/register/finish"),
            Self::Passkeys => (Method::GET, "/auth/passkeys"),
            Self::RemovePasskey => (Method::DELETE, "/auth/passkeys/{id}"),
            Self::StartPasskeyLogin => (Method::POST, "/auth/passkeys/login/start"),
            Self::FinishPasskeyLogin => (Method::POST, "/auth/passkeys/login/finish"),
            Self::StartPasskeyStepUp => (Method::POST, "/auth/passkeys/step-up/start"),
            Self::FinishPasskeyStepUp => (Method::POST, "/auth/passkeys/step-up/finish"),
            Self::Jwks => (Method::GET, "/.well-known/jwks.json"),
            Self::OpenIdConfiguration => (Method::GET, "/.well-known/openid-configuration"),
            Self::Authorize => (Method::GET, "/oauth/authorize"),
            Self::AuthorizeDecision => (Method::POST, "/oauth/authorize"),
            Self::Token => (Method::POST, "/oauth/token"),
            Self::Introspect => (Method::POST, "/oauth/introspect"),
            Self::RevokeToken => (Method::POST, "/oauth/revoke"),
            Self::UserInfo => (Method::GET, "/oauth/userinfo"),
            Self::RegisterClient => (Method::POST, "/oauth/register"),
            Self::LegacyCodeToken => (Method::POST, "/auth/oauth/token"),
            Self::SignInProviders => (Method::GET, "/auth/oauth/providers"),
            Self::StartSignIn => (Method::GET, "/auth/oauth/{provider}/authorize"),
            Self::SignInCallback => (Method::GET, "/auth/oauth/{provider}/callback"),
            Self::LinkIdentity => (Method::POST, "/auth/oauth/{provider}/link"),
            Self::Identities => (Method::GET, "/auth/identities"),
            Self::UnlinkIdentity => (Method::DELETE, "/auth/identities/{id}"),
            Self::DirectoryLogin => (Method::POST, "/auth/ldap/login"),
            Self::SamlMetadata => (Method::GET, "/auth/saml/{provider}/metadata"),
            Self::SamlLogin => (Method::GET, "/auth/saml/{provider}/login"),
            Self::SamlAcs => (Method::POST, "/auth/saml/{provider}/acs"),
            Self::Health => (Method::GET, "/health"),
            Self::Ready => (Method::GET, "/ready"),
        }
    }
}

/// An `AuthRouter` with the built-in routes `keep` keeps, each on the path
/// [`BuiltinRoute::route`] names: `built_in!(keep; Register: post(register), ...)`.
macro_rules! built_in {
    ($keep:ident; $($route:ident: $method:ident($handler:path)),* $(,)?) => {{
        let mut router = AuthRouter::new();
        $(
            if $keep(BuiltinRoute::$route) {
                router = router.$method(BuiltinRoute::$route.route().1, $handler);
            }
        )*
        router
    }};
}

/// The `/auth/*` routes `keep` keeps, and (feature `provider`) the authorization server's
/// under `/oauth` and `/.well-known`.
pub(crate) fn builtin_auth_router<S>(
    body_limit: usize,
    keep: &dyn Fn(BuiltinRoute) -> bool,
) -> AuthRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AuthModule: FromRef<S>,
{
    let router = built_in!(keep;
        Register: post(register),
        Login: post(tokens::login),
        Refresh: post(tokens::refresh),
        Logout: post(tokens::logout),
        Me: get(me),
        UpdateMe: patch(account::update_me),
        Sessions: get(sessions::sessions),
        RevokeOtherSessions: delete(sessions::revoke_other_sessions),
        RevokeSession: delete(sessions::revoke_session),
        ForgotPassword: post(account::forgot_password),
        ResetPassword: post(account::reset_password),
        ChangePassword: post(account::change_password),
        VerifyEmail: post(account::verify_email),
        ResendVerification: post(account::resend_verification),
        ChangeEmail: post(account::change_email),
        ConfirmEmail: post(account::confirm_email),
        SecurityEvents: get(events::security_events),
        CreateApiKey: post(api_keys::create_api_key),
        ApiKeys: get(api_keys::api_keys),
        RevokeApiKey: delete(api_keys::revoke_api_key),
        MfaStatus: get(mfa::status),
        VerifyMfa: post(mfa::verify),
        StepUp: post(mfa::step_up),
    );
    #[cfg(feature = "totp")]
    let router = router.merge(built_in!(keep;
        EnrollTotp: post(mfa::enroll_totp),
        ConfirmTotp: post(mfa::confirm_totp),
        DisableTotp: delete(mfa::disable_totp),
        RegenerateBackupCodes: post(mfa::regenerate_backup_codes),
    ));
    #[cfg(feature = "webauthn")]
    let router = router.merge(built_in!(keep;
        StartPasskeyRegistration: post(passkeys::start_registration),
        FinishPasskeyRegistration: post(passkeys::finish_registration),
        Passkeys: get(passkeys::passkeys),
        RemovePasskey: delete(passkeys::remove),
        StartPasskeyLogin: post(passkeys::start_login),
        FinishPasskeyLogin: post(passkeys::finish_login),
        StartPasskeyStepUp: post(passkeys::start_step_up),
        FinishPasskeyStepUp: post(passkeys::finish_step_up),
    ));
    #[cfg(feature = "provider")]
    let router = router.merge(built_in!(keep;
        OpenIdConfiguration: get(oauth::discovery),
        Authorize: get(oauth::authorize::authorize),
        AuthorizeDecision: post(oauth::authorize::decide),
        Token: post(oauth::token),
        Introspect: post(oauth::introspect),
        RevokeToken: post(oauth::revoke),
        UserInfo: get(oauth::userinfo),
        RegisterClient: post(oauth::register),
        LegacyCodeToken: post(oauth::legacy_code_token),
    ));
    #[cfg(feature = "oidc")]
    let router = router.merge(built_in!(keep;
        SignInProviders: get(federation::providers),
        StartSignIn: get(federation::authorize),
        SignInCallback: get(federation::callback),
        LinkIdentity: post(federation::link),
    ));
    #[cfg(any(feature = "oidc", feature = "ldap", feature = "saml"))]
    let router = router.merge(built_in!(keep;
        Identities: get(identities::identities),
        UnlinkIdentity: delete(identities::unlink),
    ));
    #[cfg(feature = "ldap")]
    let router = router.merge(built_in!(keep; DirectoryLogin: post(ldap::login)));
    let router = router.layer(DefaultBodyLimit::max(body_limit));
    // An identity provider's signed response is larger than any other body here.
    #[cfg(feature = "saml")]
    let router = router.merge(
        built_in!(keep;
            SamlMetadata: get(saml::metadata),
            SamlLogin: get(saml::login),
            SamlAcs: post(saml::acs),
        )
        .layer(DefaultBodyLimit::max(saml::BODY_LIMIT)),
    );
    router
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
    let router = built_in!(keep; Health: get(health), Ready: get(ready));
    #[cfg(feature = "provider")]
    let router = router.merge(built_in!(keep; Jwks: get(jwks)));
    router
}

/// The public keys this service's tokens verify with (RFC 7517), for resource servers that
/// verify them themselves; cached for five minutes (a verifier refetches on an unknown `kid`).
#[cfg(feature = "provider")]
#[public]
async fn jwks(State(module): State<AuthModule>) -> impl IntoResponse {
    let keys = module.service().tokens().jwks();
    let cache = axum::http::HeaderValue::from_static("public, max-age=300");
    ([(axum::http::header::CACHE_CONTROL, cache)], Json(keys))
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
    _: PerIp<rate_limit::Register>,
    State(module): State<AuthModule>,
    JsonBody(request): JsonBody<RegisterRequest>,
) -> Result<impl IntoResponse, Problem> {
    let user = module.service().register(request).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[require_auth]
async fn me(CurrentUser(user): CurrentUser) -> Json<auth_core::PublicUser> {
    Json(user)
}
