//! The behaviour every backend of a store trait must have, as one suite per trait: run the
//! suite against your backend and it behaves as the built-in ones do (the memory, SQLite,
//! PostgreSQL and Redis stores run these same suites).
//!
//! Each suite starts from an empty store and panics, like a failing test, at the first
//! behaviour that differs.
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::store::MemoryStore;
//! use auth_core::testing::conformance;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)] async fn main() {
//! let store = Arc::new(MemoryStore::new());
//! conformance::users(store.as_ref()).await;
//! conformance::sessions(store).await;
//! # }
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a conformance suite fails loudly, like the test it is run from"
)]

mod account;
mod api_key;
mod audit;
mod authz;
mod federation;
mod lockout;
mod mfa;
mod oauth;
mod pending;
mod purge;
mod rate_limit;
mod sessions;
mod tokens;
mod users;

use std::sync::Arc;

use crate::account::OneTimeTokenStore;
use crate::api_key::ApiKeyStore;
use crate::audit::AuditStore;
use crate::authz::services::ServicePermissionStore;
use crate::authz::RoleStore;
use crate::federation::IdentityStore;
use crate::lockout::LockoutStore;
use crate::maintenance::LeaseStore;
use crate::mfa::passkey::PasskeyStore;
use crate::mfa::MfaStore;
use crate::oauth::ClientStore;
use crate::password::history::PasswordHistoryStore;
use crate::pending::PendingStore;
use crate::session::SessionStore;
use crate::throttle::CounterStore;
use crate::token::refresh::RefreshTokenStore;
use crate::token::revocation::RevocationStore;
use crate::user::UserStore;

pub use self::account::{one_time_tokens, password_history};
pub use self::api_key::api_keys;
pub use self::audit::audit;
pub use self::authz::{roles, service_permissions};
pub use self::federation::identities;
pub use self::lockout::lockout;
pub use self::mfa::mfa;
pub use self::oauth::clients;
pub use self::pending::{passkeys, pending};
pub use self::purge::{leases, purges};
pub use self::rate_limit::rate_limiter;
pub use self::sessions::{counters, sessions};
pub use self::tokens::{refresh_tokens, revocations};
pub use self::users::users;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// Every suite of a store that implements every SQL-backed trait (users, revocations, refresh
/// tokens, roles, service permissions, sessions, counters, lockout, audit log, API keys, OAuth
/// clients, linked identities, second factors, passkeys, pending ceremonies, one-time tokens,
/// password history and leases), in turn, and then their scheduled purges.
pub async fn every_trait<S>(store: Arc<S>)
where
    S: UserStore
        + RevocationStore
        + RefreshTokenStore
        + RoleStore
        + ServicePermissionStore
        + SessionStore
        + CounterStore
        + LockoutStore
        + AuditStore
        + ApiKeyStore
        + ClientStore
        + IdentityStore
        + MfaStore
        + PasskeyStore
        + PendingStore
        + OneTimeTokenStore
        + PasswordHistoryStore
        + LeaseStore,
{
    service_permissions(store.as_ref()).await;
    roles(store.as_ref()).await;
    users(store.as_ref()).await;
    revocations(store.as_ref()).await;
    refresh_tokens(Arc::clone(&store) as Arc<dyn RefreshTokenStore>).await;
    sessions(Arc::clone(&store) as Arc<dyn SessionStore>).await;
    one_time_tokens(Arc::clone(&store) as Arc<dyn OneTimeTokenStore>).await;
    password_history(store.as_ref()).await;
    lockout(Arc::clone(&store) as Arc<dyn LockoutStore>).await;
    audit(store.as_ref()).await;
    api_keys(store.as_ref()).await;
    clients(store.as_ref()).await;
    identities(store.as_ref()).await;
    mfa(store.as_ref()).await;
    passkeys(store.as_ref()).await;
    pending(store.as_ref()).await;
    counters(Arc::clone(&store) as Arc<dyn CounterStore>).await;
    // Last: it purges what the suites before it left.
    purges(store).await;
}
