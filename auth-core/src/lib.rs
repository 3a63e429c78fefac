//! `auth-core`: the runtime of the auth framework, free of any web framework.
//!
//! It holds everything that decides *who* a caller is and *whether* a credential is still good:
//!
//! | module | what it does |
//! |---|---|
//! | [`account`] | account lifecycle: the one-time tokens of password reset and email verification, and their store |
//! | [`admin`] | administration commands a service's binary can offer (`grant-role`, `deactivate-user`, ...) |
//! | [`config`] | one typed [`AuthConfig`] tree, loaded from defaults, `auth.toml`/`auth.yaml` and `AUTH__SECTION__KEY` variables, validated once |
//! | [`token`] | [`TokenManager`]: JWT access tokens with a rotating key set, strict verification, revocation |
//! | [`password`] | [`PasswordHasher`]: Argon2id on the blocking pool, capped parameters, rehash on login |
//! | [`user`] | the internal [`User`], its public projection [`PublicUser`], the [`UserStore`] trait, and user models of a service's own ([`UserModel`](user::UserModel)) |
//! | [`store`] | in-memory and SQL (SQLite / PostgreSQL) backends of every store trait |
//! | [`api_key`] | API keys: the `ak_` format with its checksum, hashed storage, scopes bounding the owner's permissions |
//! | [`audit`] | the audit log: every event kept in SQL by a hook, read newest first with cursors |
//! | [`authz`] | permission matching (wildcards) used by guards |
//! | [`lockout`] | failed logins counted per client and per login name, with exponential back-off, and their store |
//! | [`maintenance`] | the scheduled purge of ended state (revocations, sessions, one-time tokens, ...) in bounded batches, one instance at a time |
//! | [`mail`] | the [`Mailer`](mail::Mailer) trait, the development outbox, background delivery with bounded retries |
//! | [`mfa`] | second factors: `Totp` (feature `totp`) one-time passwords (RFC 6238) |
//! | [`oauth`] | the authorization server's model: OAuth clients and their store, grant types, scopes, PKCE, the RFC 6749 errors (the flows: feature `provider`) |
//! | [`service`] | [`AuthService`]: register, login, refresh, logout, introspection |
//! | [`telemetry`] | the metrics the runtime records (logins by outcome, refreshes, reuse, revocations, hashing queue, verification cache, purge), through the `metrics` facade |
//! | [`stack`] | [`AuthStack`]: the one composition root (config in; flows, roles, policies and cross-instance followers out) |
//! | `testing` | the conformance suite of every store trait, for backends of your own (feature `test-util`) |
//! | [`rate_limit`] | quotas per client address and per account for groups of routes: GCRA in process (governor) or in Redis |
//! | `remote` | a resource server's trust in a remote auth service: its tokens verified by the issuer's key set or introspection (feature `remote`) |
//! | [`random`] | [`Random`](random::Random): ids and tokens from a replaceable source (seeded in tests) |
//! | [`federation`] | signing in with an account elsewhere: identities linked by issuer and subject, normalised profiles, and (feature `oidc`) Google, GitHub, Microsoft and any OpenID Connect issuer (SAML and LDAP to come behind `saml`, `ldap`) |
//! | [`events`] | [`AuthEvent`]s emitted by the flows, and the [`EventSink`] that receives them |
//!
//! Web frameworks sit on top: `auth-axum` turns these flows into extractors and routes.
//!
//! ```no_run
//! use auth_core::{AuthConfig, AuthService, service::{LoginRequest, RegisterRequest}};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = AuthConfig::load()?;
//! let auth = AuthService::from_config(&config).await?;
//! auth.register(RegisterRequest::new("ada", "ada@example.com", "correct horse battery staple")).await?;
//! let tokens = auth.login(LoginRequest::new("ada", "correct horse battery staple")).await?;
//! let me = auth.current_user(&tokens.access_token).await?;
//! assert_eq!(me.username, "ada");
//! # Ok(()) }
//! ```

// The derive macros name this crate `::auth_core` when a service depends on it directly.
#[allow(
    unused_extern_crates,
    reason = "used by macro expansions, not by this crate's own code"
)]
extern crate self as auth_core;

pub mod account;
pub mod admin;
pub mod api_key;
pub mod audit;
pub mod authz;
pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod events;
pub mod federation;
pub mod invalidation;
pub mod lockout;
pub mod mail;
pub mod maintenance;
pub mod mfa;
pub mod oauth;
#[cfg(any(feature = "remote", feature = "oidc", feature = "ldap"))]
mod outbound;
pub mod password;
pub mod pending;
pub mod principal;
pub mod random;
pub mod rate_limit;
#[cfg(feature = "remote")]
pub mod remote;
pub mod service;
pub mod session;
pub mod stack;
pub mod store;
pub mod telemetry;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod throttle;
pub mod token;
pub mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{AuthConfig, ConfigError};
pub use error::{AuthError, Result};
pub use events::{AuthEvent, EventSink};
pub use password::PasswordHasher;
pub use principal::{CredentialKind, Principal};
pub use service::AuthService;
pub use stack::AuthStack;
pub use store::StoreError;
pub use token::{Claims, TokenError, TokenManager, TokenType};
pub use user::{PublicUser, User, UserId, UserStore};

/// Support for the code the derive macros generate. Not public API: it may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use crate::authz::{
        PermissionDef, PermissionKind, PermissionSchema, Requirement, RoleHierarchy, RoleSchema,
        UnknownName,
    };
    pub use crate::error::ValidationErrors;
    pub use crate::principal::CredentialKind;
    pub use crate::user::{
        record_field, AuthUser, FieldSpec, FromRecordField, OptionalStr, Profile, ProfileError,
        User, UserModel,
    };
    pub use serde;
    pub use serde_json;
}
