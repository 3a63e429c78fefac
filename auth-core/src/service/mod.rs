//! [`AuthService`]: the framework-agnostic flows (jwtlib's `register_user`, `login_user`,
//! `logout_user`, `get_logged_in_user`, `introspect_token`, `authenticate_request`, plus
//! refresh-token rotation and "log out everywhere").
//!
//! Every flow returns [`PublicUser`] or tokens, never the stored [`crate::User`].
//!
//! Each flow is a module of its own holding only the collaborators it needs, and
//! [`AuthService`] forwards to them:
//!
//! | module | flow |
//! |---|---|
//! | `verify` | access token to claims, principal or user (the extractors' hot path) |
//! | `login` | password check, the same work for every kind of failure; hash upgrade |
//! | `lockout` | failed logins counted and the next attempts delayed, before any hashing |
//! | `bearer` | a login's session, refresh family and access token |
//! | `refresh` | refresh-token rotation with reuse detection |
//! | `sessions` | opening and ending sessions, logout, "log out everywhere" |
//! | `cookie` | browser sessions: start, verify (with a short cache), rotate |
//! | `account` | registration, roles, deactivation, and `active_user`; `account::password`: password reset by mail and change |
//! | `security` | the facade's account-security methods: the lockout's unlock, API keys, the audit log |
//! | `api_keys` | API keys: created and revoked by their owner, verified from a one-second cache |
//! | `oauth` | the authorization server (feature `provider`): clients, the authorization code with PKCE, the token endpoint's grants, ID tokens, introspection, revocation, userinfo |
//! | `federation` | signing in with another provider (feature `oidc`): the sign-in's record between authorization request and callback, linking rules, the login that follows; linked identities |
//! | `mfa` | second factors: the login challenge and its completion, step-up, TOTP enrolment and backup codes |
//! | `stores` | the stores a service runs on (memory, SQL, Redis, the change bus) |
//! | `setup` | the builder, and the stack from configuration |

mod account;
mod api_keys;
mod bearer;
mod cookie;
#[cfg(any(feature = "oidc", feature = "ldap", feature = "saml"))]
mod federation;
mod lockout;
mod login;
mod mfa;
#[cfg(feature = "provider")]
mod oauth;
mod refresh;
mod security;
mod sessions;
pub(crate) mod setup;
mod stores;
mod verify;

use std::fmt;
use std::sync::Arc;

pub use self::account::RegisterRequest;
pub use self::api_keys::{NewApiKey, VerifiedKey};
pub use self::bearer::LoginResponse;
pub use self::cookie::CookieLogin;
#[cfg(feature = "oidc")]
pub use self::federation::Callback;
#[cfg(any(feature = "oidc", feature = "saml"))]
pub use self::federation::{SignInOptions, SignInOutcome, SignInResult, SignInStart};
pub use self::login::LoginRequest;
#[cfg(feature = "webauthn")]
pub use self::mfa::Ceremony;
#[cfg(feature = "totp")]
pub use self::mfa::TotpEnrollment;
pub use self::mfa::{MfaChallenge, MfaLogin, MfaStatus, Proof, SecondFactor, StepUp};
#[cfg(feature = "provider")]
pub use self::oauth::{
    AuthorizationParams, AuthorizationRequest, AuthorizeError, ClientAuth, IntrospectionResponse,
    TokenRequest, TokenResponse,
};
pub use self::setup::{AuthServiceBuilder, SetupError};
pub use self::stores::Stores;
pub use self::verify::Introspection;

use self::account::{Accounts, EmailVerification, PasswordFlows};
use self::api_keys::ApiKeys;
use self::bearer::Bearer;
use self::cookie::Cookies;
use self::login::PasswordLogin;
use self::mfa::{LoginMode, MfaFlows};
use self::refresh::Refresh;
use self::sessions::Sessions;
use self::verify::Verifier;
use crate::audit::AuditStore;
use crate::authz::services::ServicePermissionStore;
use crate::authz::{RoleName, RoleStore};
use crate::clock::{Clock, SystemClock};
use crate::config::AuthConfig;
use crate::error::{AuthError, Result};
use crate::events::{AuthEvent, EventHub, TracingEventSink};
use crate::invalidation::ChangeBus;
use crate::maintenance::Maintenance;
use crate::password::PasswordHasher;
use crate::principal::Principal;
use crate::random::{OsRandom, Random};
use crate::rate_limit::{RateLimits, RouteGroup, Scope};
use crate::session::Session;
use crate::store::Readiness;
use crate::throttle::CounterStore;
use crate::token::{Claims, RevocationView, TokenManager};
use crate::user::{ModelCodec, PublicUser, User, UserId, UserModel, UserStore};

/// What every flow shares: the clock, the source of randomness, where events go, and the
/// rate limits.
#[derive(Clone)]
struct Context {
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    events: Arc<EventHub>,
    quotas: Arc<RateLimits>,
}

impl Context {
    fn emit(&self, event: AuthEvent) {
        self.events.emit(event);
    }

    /// Counts a request naming the account `key` (a [`login_key`](crate::lockout::login_key),
    /// or `id:<user id>`) against `group`'s per-account quota.
    async fn account_quota(&self, group: RouteGroup, key: &str) -> Result<()> {
        self.quotas
            .check(group, Scope::Account, key)
            .await
            .map(drop)
    }
}

/// Refuses a principal authenticated by an API key for what only its signed-in owner may do
/// (`what`: "create API keys", "manage or prove second factors").
fn signed_in(principal: &Principal, what: &str) -> Result<()> {
    if principal.credential == crate::principal::CredentialKind::ApiKey {
        return Err(AuthError::Forbidden(format!(
            "an API key cannot {what}; sign in"
        )));
    }
    Ok(())
}

struct Inner {
    verifier: Verifier,
    login: PasswordLogin,
    bearer: Bearer,
    refresh: Refresh,
    sessions: Sessions,
    cookies: Cookies,
    accounts: Accounts,
    password_flows: PasswordFlows,
    verification: EmailVerification,
    // Handed out to administration, adapters and tooling.
    users: Arc<dyn UserStore>,
    roles: Arc<dyn RoleStore>,
    services: Arc<dyn ServicePermissionStore>,
    audit: Arc<dyn AuditStore>,
    api_keys: ApiKeys,
    mfa: MfaFlows,
    #[cfg(feature = "provider")]
    oauth: self::oauth::OAuthFlows,
    #[cfg(any(feature = "oidc", feature = "ldap", feature = "saml"))]
    federation: self::federation::FederationFlows,
    counters: Arc<dyn CounterStore>,
    bus: Option<ChangeBus>,
    revocation_view: Option<Arc<RevocationView>>,
    ready: Vec<Arc<dyn Readiness>>,
    maintenance: Maintenance,
    tokens: TokenManager,
    passwords: PasswordHasher,
    /// What the flows share (clock, events, rate limits).
    ctx: Context,
}

/// The authentication flows over a set of stores. Cheap to clone.
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
    /// The user model registration reads profile fields for.
    model: ModelCodec,
}

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("tokens", &self.inner.tokens)
            .field("passwords", &self.inner.passwords)
            .field("user_model", &self.model)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// A builder over `config`.
    pub fn builder(config: AuthConfig) -> AuthServiceBuilder {
        AuthServiceBuilder {
            config,
            stores: None,
            keys: None,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            events: Arc::new(TracingEventSink),
            validated: false,
            mailer: None,
        }
    }

    /// The whole stack from configuration: connects to `database.url` (SQLite file created and
    /// migrated on first start, or PostgreSQL), loads or generates keys, and builds the service.
    ///
    /// # Errors
    /// [`SetupError`] naming what to fix.
    pub async fn from_config(config: &AuthConfig) -> Result<Self, SetupError> {
        setup::from_config(config).await
    }

    /// Prepares the dummy password hash now, so the first login for an unknown user costs the
    /// same as every later one (no timing hint on the first request).
    ///
    /// # Errors
    /// [`SetupError::Password`] when hashing fails.
    pub async fn warm_up(&self) -> Result<(), SetupError> {
        self.inner.passwords.verify_dummy("").await?;
        Ok(())
    }

    /// The same service with a user model of the service's own (a `#[derive(AuthUser)]`
    /// struct with fields beyond the framework's; see [`user::profile`](crate::user::profile)):
    /// [`register`](Self::register) then reads and checks its profile fields, and every
    /// [`PublicUser`] shows the public ones. The built-in [`User`] is the default.
    #[must_use]
    pub fn with_user_model<M: UserModel>(mut self) -> Self {
        self.model = ModelCodec::of::<M>();
        self
    }

    /// The name of the user model in use (`auth_core::user::User` by default).
    #[must_use]
    pub fn user_model(&self) -> &'static str {
        self.model.name()
    }

    /// The token manager (for key rotation and tooling).
    #[must_use]
    pub fn tokens(&self) -> &TokenManager {
        &self.inner.tokens
    }

    /// The user store (for administration).
    #[must_use]
    pub fn users(&self) -> &Arc<dyn UserStore> {
        &self.inner.users
    }

    /// The bus this instance shares changes with others on, when configured
    /// (`AUTH__REDIS__URL`).
    #[must_use]
    pub fn bus(&self) -> Option<&ChangeBus> {
        self.inner.bus.as_ref()
    }

    /// Whether revocation checks answer from the local view right now (no store round trip);
    /// false without a view, and while the change bus is down or the view reloads.
    #[must_use]
    pub fn revocations_in_memory(&self) -> bool {
        self.inner
            .revocation_view
            .as_ref()
            .is_some_and(|view| view.is_complete())
    }

    /// Rate-limit and lockout counters (Redis when configured, so instances count together).
    #[must_use]
    pub fn counters(&self) -> &Arc<dyn CounterStore> {
        &self.inner.counters
    }

    /// Where events go: hooks a service registers ([`EventHub::on`]) and interceptors that
    /// may veto registrations and logins ([`EventHub::intercept`]).
    #[must_use]
    pub fn events(&self) -> &EventHub {
        &self.inner.ctx.events
    }

    /// The quotas of the auth routes (`AUTH__RATE_LIMIT__*`): the per-address checks of the
    /// HTTP adapters, and quotas of a service's own on the same backend
    /// ([`RateLimits::limiter`]).
    #[must_use]
    pub fn rate_limits(&self) -> &RateLimits {
        &self.inner.ctx.quotas
    }

    /// Role definitions managed at run time.
    #[must_use]
    pub fn role_store(&self) -> &Arc<dyn RoleStore> {
        &self.inner.roles
    }

    /// Service-scoped permission schemas, user values and service admins (seed 004); see
    /// [`authz::services`](crate::authz::services).
    #[must_use]
    pub fn service_permissions(&self) -> &Arc<dyn ServicePermissionStore> {
        &self.inner.services
    }

    /// The roles new users get (`AUTH__USERS__DEFAULT_ROLES`).
    #[must_use]
    pub fn default_roles(&self) -> &[String] {
        &self.inner.accounts.default_roles
    }

    /// How usernames are checked at registration and import (`AUTH__USERS__ALLOW_MIXED_SCRIPTS`).
    #[must_use]
    pub fn username_rules(&self) -> crate::user::identifier::UsernameRules {
        self.inner.accounts.username_rules
    }

    /// The password hasher.
    #[must_use]
    pub fn passwords(&self) -> &PasswordHasher {
        &self.inner.passwords
    }

    /// The scheduled purge of ended state (`AUTH__MAINTENANCE__*`):
    /// [`AuthStack::configure`](crate::AuthStack::configure) starts it, or call
    /// [`Maintenance::run_once`] yourself.
    #[must_use]
    pub fn maintenance(&self) -> &Maintenance {
        &self.inner.maintenance
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.ctx.clock
    }

    /// Checks every store the service needs answers (readiness).
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`].
    pub async fn check_ready(&self) -> Result<()> {
        for backend in &self.inner.ready {
            backend
                .ping()
                .await
                .map_err(AuthError::ServiceUnavailable)?;
        }
        Ok(())
    }

    /// Registers a user with the configured default roles (jwtlib `register_user`), and the
    /// profile fields of the user model ([`with_user_model`](Self::with_user_model)) read from
    /// the request's other fields.
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a bad username, email, password or profile field (every
    /// problem, one per field); [`AuthError::Conflict`] when the username or email is taken.
    pub async fn register(&self, request: RegisterRequest) -> Result<PublicUser> {
        let flow = self.inner.accounts.register(request, &self.model);
        self.in_span("register", flow, |user| (Some(user.id.to_string()), None))
            .await
    }

    /// Runs `flow` in an `auth.flow` span ([`telemetry`](crate::telemetry)).
    pub(in crate::service) async fn in_span<T>(
        &self,
        name: &'static str,
        flow: impl std::future::Future<Output = Result<T>>,
        ids: impl FnOnce(&T) -> (Option<String>, Option<String>),
    ) -> Result<T> {
        let client_ip = self.inner.ctx.events.client_ip();
        crate::telemetry::in_flow_span(name, client_ip, flow, ids).await
    }

    /// The user and session of a token response, for its span.
    pub(in crate::service) fn login_ids(
        response: &LoginResponse,
    ) -> (Option<String>, Option<String>) {
        (
            Some(response.user.id.to_string()),
            Some(response.session_id.clone()),
        )
    }

    /// The user of verified claims as a model of the service's own: present, active, the
    /// token's security epoch current, and its public projection.
    ///
    /// # Errors
    /// As [`user_for_claims`](Self::user_for_claims); [`AuthError::Internal`] when the stored
    /// user does not fit `M` ([`ProfileError`](crate::user::ProfileError)).
    pub async fn model_for_claims<M: UserModel>(&self, claims: &Claims) -> Result<M::Public> {
        let user: User = self.inner.verifier.record_for_claims(claims).await?;
        let model = M::from_record(&user).map_err(|e| AuthError::Internal(e.to_string()))?;
        Ok(model.to_public())
    }

    /// Gives a user a role (idempotent), by name or typed (`Role::Editor` of a
    /// `#[derive(Roles)]` enum). It appears in tokens from the next login or refresh; tokens
    /// already issued keep their roles until they expire.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn assign_role(&self, user_id: &UserId, role: impl RoleName) -> Result<PublicUser> {
        let role = role.role_name();
        self.inner
            .accounts
            .change_roles(user_id, |roles| {
                if !roles.iter().any(|r| r == role) {
                    roles.push(role.to_owned());
                }
            })
            .await
    }

    /// Takes a role from a user. Like [`assign_role`](Self::assign_role) it applies to new
    /// tokens; call [`logout_all`](Self::logout_all) as well to end the user's current
    /// sessions at once.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn revoke_role(&self, user_id: &UserId, role: impl RoleName) -> Result<PublicUser> {
        let role = role.role_name();
        self.inner
            .accounts
            .change_roles(user_id, |roles| roles.retain(|r| r != role))
            .await
    }

    /// Deactivates a user: new logins and refreshes are refused, and every session, refresh
    /// family and access token the user holds ends at once, on every instance (the security
    /// epoch moves and a user cut-off is revoked, which every guard checks). Idempotent.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn deactivate_user(&self, user_id: &UserId) -> Result<()> {
        self.inner.accounts.deactivate(user_id).await
    }

    /// Lets a deactivated user log in again. Tokens and sessions ended by the deactivation
    /// stay ended.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn reactivate_user(&self, user_id: &UserId) -> Result<()> {
        self.inner.accounts.reactivate(user_id).await
    }

    /// Checks credentials and starts a session (jwtlib `login_user`). Unknown users, wrong
    /// passwords and disabled accounts give the same error after the same work. An account
    /// with a second factor gets no tokens here: [`AuthError::MfaRequired`] carries the
    /// challenge, which [`verify_mfa`](Self::verify_mfa) completes.
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`], or [`AuthError::Validation`] for an over-long password;
    /// [`AuthError::MfaRequired`] after a right password of an account with MFA.
    pub async fn login(&self, request: LoginRequest) -> Result<LoginResponse> {
        let flow = async {
            let (user, factors) = self.password_login(&request, LoginMode::Bearer).await?;
            self.inner
                .bearer
                .start(&user, request.device, factors)
                .await
        };
        self.in_span("login", flow, Self::login_ids).await
    }

    /// The checks of a password login before its session starts: the credentials, then the
    /// second factor if the account has one. The user, and the password as the factor proven.
    async fn password_login(
        &self,
        request: &LoginRequest,
        mode: LoginMode,
    ) -> Result<(User, Vec<crate::mfa::SatisfiedFactor>)> {
        let user = self.inner.login.check(request).await?;
        self.mfa_gate(&user, mode, &request.device).await?;
        let password = crate::mfa::SatisfiedFactor::new(
            crate::mfa::FactorKind::Password,
            self.inner.ctx.clock.now(),
        );
        Ok((user, vec![password]))
    }

    /// Checks credentials and starts a browser session authenticated by a cookie instead of
    /// tokens. The session is new, so a cookie planted before login is never upgraded
    /// (fixation); its idle timeout is `session.timeout_minutes`.
    ///
    /// # Errors
    /// As [`login`](Self::login).
    pub async fn login_with_cookie(&self, request: LoginRequest) -> Result<CookieLogin> {
        let flow = async {
            let (user, factors) = self.password_login(&request, LoginMode::Cookie).await?;
            self.inner
                .cookies
                .start(&user, request.device, factors)
                .await
        };
        self.in_span("cookie_login", flow, |login| {
            (
                Some(login.user.id.to_string()),
                Some(login.session_id.clone()),
            )
        })
        .await
    }

    /// Rotates a refresh token: returns a new access token and the successor refresh token.
    ///
    /// Concurrent uses of one token within `jwt.refresh_reuse_grace_seconds` get the same
    /// successor; a use after that revokes the whole family (reuse detection).
    ///
    /// # Errors
    /// [`AuthError::InvalidRefreshToken`] for unknown, expired, revoked or reused tokens.
    pub async fn refresh(&self, refresh_token: &str) -> Result<LoginResponse> {
        let flow = self.inner.refresh.rotate(refresh_token, None);
        self.in_span("refresh", flow, Self::login_ids).await
    }

    /// The principal's live sessions, most recently used first.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when the session store is down.
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<Session>> {
        self.inner.sessions.list(principal).await
    }

    /// Ends one of the principal's sessions (a device logged out remotely): its refresh
    /// tokens and access tokens stop working. Returns whether the principal had it.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn revoke_session(&self, principal: &Principal, session_id: &str) -> Result<bool> {
        self.inner.sessions.revoke(principal, session_id).await
    }

    /// Ends every session of the principal except the one it is using; returns how many.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn revoke_other_sessions(&self, principal: &Principal) -> Result<usize> {
        self.inner.sessions.revoke_others(principal).await
    }

    /// Ends the principal's session: its refresh family and every access token of it
    /// (jwtlib `logout_user`, but enforced server-side). When `refresh_token` names another
    /// session of the same user, that one ends too.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn logout(&self, principal: &Principal, refresh_token: Option<&str>) -> Result<()> {
        let flow = self.inner.sessions.logout(principal, refresh_token);
        self.in_span("logout", flow, |()| {
            (
                Some(principal.user_id.to_string()),
                principal.session_id.clone(),
            )
        })
        .await
    }

    /// Revokes every session and token of a user ("log out everywhere", password change):
    /// bumps the security epoch so every older token dies at once.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn logout_all(&self, user_id: &UserId) -> Result<()> {
        self.inner.sessions.logout_all(user_id).await
    }

    /// Gives the principal's cookie session a new secret (call it when the session's
    /// privileges change, e.g. after a step-up): the old cookie stops working at once.
    ///
    /// Only a principal that authenticated with the session cookie may rotate it: a bearer
    /// token names its session too, and must not become a cookie that outlives it.
    ///
    /// # Errors
    /// [`AuthError::InvalidSession`] when the principal did not present a session cookie, has
    /// no live session, or its user is gone or deactivated.
    pub async fn rotate_cookie(&self, principal: &Principal) -> Result<CookieLogin> {
        self.inner.cookies.rotate(principal).await
    }

    /// Verifies a session cookie: the claims of its session, as an access token would carry
    /// them (`sid` the session, `jti` `cookie:` and a prefix of the cookie's hash, so that one
    /// cookie of a session can be revoked on its own). Sessions read in the last 30 s are
    /// answered from memory; revocation is checked on every call.
    ///
    /// # Errors
    /// [`AuthError::InvalidSession`] for an unknown, ended or revoked session;
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn verify_cookie(&self, secret: &str) -> Result<Arc<Claims>> {
        self.inner.cookies.verify(secret).await
    }
}
