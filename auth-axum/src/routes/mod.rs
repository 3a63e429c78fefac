//! Ready-made routes exposing the flows over HTTP.
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /auth/register` | JSON `{username, email, password}` | 201, the public user |
//! | `POST /auth/login` | JSON `{username or email, password, device_name?, cookie?}`, or the OAuth2 form `grant_type=password&username=&password=` | 200, token response; with `cookie: true` `{session_id, csrf_token, expires_in, user}` and the session and CSRF cookies instead of tokens; for an account with MFA 200 `{mfa_required: true, mfa_token, methods, expires_in}` instead |
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
//! | `GET /auth/me/security-events` | bearer token or session cookie; query `type`, `since`, `cursor`, `limit` | 200 `{events, next_cursor}`: the user's own events of the audit log, newest first |
//! | `POST /auth/api-keys` | bearer token or session cookie; JSON `{name, scopes, expires_in?}` | 201, the key's record and, this once, `key` (`ak_...`) |
//! | `GET /auth/api-keys` | bearer token or session cookie | 200, the caller's keys, never their secrets |
//! | `DELETE /auth/api-keys/{id}` | bearer token or session cookie | 204; 404 when the caller has no such live key |
//! | `POST /auth/mfa/verify` | JSON `{mfa_token, code}` or `{mfa_token, backup_code}` | 200, what the challenged login asked for (tokens, or the cookie session); 401 `invalid_mfa_code`; 400 `invalid_or_expired_token` |
//! | `POST /auth/mfa/step-up` | bearer token or session cookie; JSON `{code}`, `{backup_code}` or `{password}` | 200: bearer `{access_token, token_type, expires_in}` carrying the factor; cookie: a new session cookie, the old one revoked |
//! | `GET /auth/mfa` | bearer token or session cookie | 200 `{totp_enabled, totp_pending, backup_codes_left, methods}` |
//! | `POST /auth/mfa/totp/enroll` | bearer token or session cookie (feature `totp`) | 200 `{secret, otpauth_uri, qr_svg, qr_png, digits, period}`, shown once; 409 `mfa_already_enabled` |
//! | `POST /auth/mfa/totp/confirm` | bearer token or session cookie; JSON `{code}` | 200 `{backup_codes}`, shown once: TOTP is on |
//! | `DELETE /auth/mfa/totp` | bearer token or session cookie; JSON `{password}` or `{code}` (or `{backup_code}`) | 204: TOTP and backup codes off |
//! | `POST /auth/mfa/backup-codes` | bearer token or session cookie; JSON `{password}` or `{code}` | 200 `{backup_codes}`: a new set, the old void |
//! | `POST /auth/passkeys/register/start` | bearer token or session cookie (feature `webauthn`) | 200 `{ceremony_id, publicKey}` for `navigator.credentials.create()` |
//! | `POST /auth/passkeys/register/finish` | bearer token or session cookie; JSON `{ceremony_id, name?, credential}` | 201 `{id, name, created_at, last_used_at}`; 401 `invalid_passkey`; 400 `invalid_or_expired_token` |
//! | `GET /auth/passkeys` | bearer token or session cookie | 200, the caller's passkeys |
//! | `DELETE /auth/passkeys/{id}` | bearer token or session cookie | 204; 404 when the caller has no such passkey |
//! | `POST /auth/passkeys/login/start` | JSON `{}` (username-less; `cookie: true` for a cookie session) or `{mfa_token}` (a login's second factor) | 200 `{ceremony_id, publicKey}` for `navigator.credentials.get()` |
//! | `POST /auth/passkeys/login/finish` | JSON `{ceremony_id, credential, device_name?}` | 200, the login's tokens or cookie session; 401 `invalid_passkey` |
//! | `POST /auth/passkeys/step-up/start` | bearer token or session cookie | 200 `{ceremony_id, publicKey}`: a challenge only the caller's passkeys answer |
//! | `POST /auth/passkeys/step-up/finish` | bearer token or session cookie; JSON `{ceremony_id, credential}` | 200, as `POST /auth/mfa/step-up` answers, the session now recording the passkey |
//! | `GET /.well-known/jwks.json` | (feature `provider`) | 200 `{keys: [...]}`: the public keys tokens verify with, retired ones through their grace period; none for HMAC keys |
//! | `GET /.well-known/openid-configuration` | (feature `provider`) | 200, the provider's metadata (OpenID Connect Discovery, RFC 8414) |
//! | `GET /oauth/authorize` | query `response_type=code&client_id&redirect_uri&scope&state&code_challenge&code_challenge_method=S256&nonce` (feature `provider`) | 200, the sign-in and consent page; 303 to the redirect URI with `error` for a refused request of a known client and redirect URI; 400 page otherwise |
//! | `POST /oauth/authorize` | the page's form: `request`, `action=allow\|deny`, `username` + `password` or `mfa_token` + `code` | 303 to the redirect URI with `code`, `state` and `iss` (or `error=access_denied`) |
//! | `POST /oauth/token` | form `grant_type=authorization_code\|refresh_token\|client_credentials\|password` and its parameters; the client by HTTP Basic or `client_id` / `client_secret` (feature `provider`) | 200 `{access_token, token_type, expires_in, refresh_token?, scope?, id_token?}`; 400/401 `{error, error_description}` (RFC 6749 section 5.2) |
//! | `POST /oauth/introspect` | form `token`; a confidential client (feature `provider`) | 200 RFC 7662 answer; `{"active": false}` alone for a token that is not active |
//! | `POST /oauth/revoke` | form `token`; the client (feature `provider`) | 200 `{}`: the client's token revoked (a refresh token ends its session) |
//! | `GET /oauth/userinfo` | bearer token (feature `provider`) | 200 `{sub, ...}`: what the token's scopes release (`profile`, `email`) |
//! | `POST /auth/oauth/token` | form `code`, `client_id`, `client_secret` (apexauthlib's code exchange; feature `provider`) | as `POST /oauth/token` with `grant_type=authorization_code` |
//! | `POST /oauth/register` | bearer token of an admin (`AUTH__PROVIDER__ADMIN_ROLE`); JSON `{client_name, grant_types, redirect_uris, scope, token_endpoint_auth_method}` (feature `provider`) | 201 the client with `client_id` and, this once, `client_secret` (RFC 7591); 400 `invalid_redirect_uri` / `invalid_client_metadata`; 403 for others |
//! | `GET /auth/oauth/providers` | (feature `oidc`) | 200 `[{name, display_name, authorize_path}]`: the sign-in providers |
//! | `GET /auth/oauth/{provider}/authorize` | query `return_to?` (a path here), `mode=cookie\|tokens` (feature `oidc`) | 303 to the provider with `state`, PKCE `S256` and `nonce`; sets the HttpOnly `oauth_binding` cookie (path `/auth/oauth`) |
//! | `GET /auth/oauth/{provider}/callback` | the provider's `code` and `state` (or `error`), the `oauth_binding` cookie (feature `oidc`) | cookie mode: 303 to `return_to` with the session cookies (`#mfa_token=..&methods=..` when a second factor is due); tokens mode: 200 token response or MFA challenge; 400 `invalid_state`, 401 `code_rejected` / `invalid_id_token` / `provider_denied`, 409 `account_exists` / `identity_linked_elsewhere`, 403 `signup_disabled`, 422 `email_required`, 503 when the provider is down |
//! | `POST /auth/oauth/{provider}/link` | bearer token or session cookie; JSON `{return_to?}` (feature `oidc`) | 200 `{authorization_url, expires_in}` and the binding cookie: the provider account signed in there is linked to the caller's (callback: 303 to `return_to`) |
//! | `GET /auth/identities` | bearer token or session cookie (features `oidc`, `ldap`, `saml`) | 200, the caller's linked provider accounts `[{id, provider, issuer, subject, email, created_at, last_used_at}]` |
//! | `DELETE /auth/identities/{id}` | bearer token or session cookie (features `oidc`, `ldap`, `saml`) | 204; 404 `identity_not_found`; 409 `last_sign_in_method` when no password, passkey or other identity would remain |
//! | `POST /auth/ldap/login` | JSON `{username, password, device_name?, cookie?}` (feature `ldap`) | as `POST /auth/login`: tokens, the cookie session, or the MFA challenge; 401 `invalid_credentials` (an empty password too, before any bind); 503 when the directory is down or slow |
//! | `GET /auth/saml/{provider}/metadata` | (feature `saml`) | 200 `application/samlmetadata+xml`: this service's entity id and assertion consumer service, to register at the provider |
//! | `GET /auth/saml/{provider}/login` | query `return_to?`, `mode=cookie\|tokens` (feature `saml`) | 303 to the provider with a deflated `SAMLRequest` and `RelayState` |
//! | `POST /auth/saml/{provider}/acs` | form `SAMLResponse`, `RelayState` (feature `saml`; bodies up to 256 KiB) | as the OpenID Connect callback; 400 `invalid_state` (unknown, used or another provider's `RelayState`), 401 `invalid_assertion` naming the failed check |
//! | `GET /health` | | 200 while the process runs |
//! | `GET /ready` | | 200 when the database answers, else 503 |
//!
//! Register, login, refresh, the password routes and the verification routes count against
//! the quotas of their group ([`rate_limit`](crate::rate_limit), `AUTH__RATE_LIMIT__*`): 429
//! `rate_limited` with `Retry-After` and `RateLimit` headers when spent. Login also answers 429
//! `too_many_attempts` while the lockout delays the client ([`auth_core::lockout`]).
//!
//! Bodies are limited to `server.body_limit_bytes`; every error is a [`Problem`], an unknown
//! path ([`not_found`]) and a method a route does not serve ([`method_not_allowed`]) too.

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
