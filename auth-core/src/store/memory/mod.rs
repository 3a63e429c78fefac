//! In-memory backend of every store trait: for tests, examples and single-process services
//! that can lose their state on restart.

mod account;
mod api_key;
mod audit;
mod authz;
mod federation;
mod lease;
mod lockout;
mod mfa;
mod oauth;
mod passkey;
mod pending;
mod session;
mod throttle;
mod token;
mod user;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::account::OneTimeToken;
use crate::authz::services::PermissionSpec;
use crate::authz::RoleRecord;
use crate::session::Session;
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord};
use crate::token::revocation::RevocationSet;
use crate::user::{User, UserId};

#[cfg(feature = "redis")]
pub(crate) use self::session::by_recent_use;

#[derive(Debug, Default)]
struct State {
    users: HashMap<UserId, User>,
    /// The compared forms of each user's username and address (kept with `users`).
    user_keys: HashMap<UserId, crate::user::identifier::IdentifierKeys>,
    revocations: RevocationSet,
    revocation_sequence: u64,
    families: HashMap<String, RefreshFamily>,
    refresh_tokens: HashMap<String, RefreshTokenRecord>,
    roles: std::collections::BTreeMap<String, RoleRecord>,
    /// (service, name) -> definition.
    service_permissions: std::collections::BTreeMap<(String, String), PermissionSpec>,
    /// (service, user, name) -> value.
    service_values: std::collections::BTreeMap<(String, String, String), serde_json::Value>,
    service_admins: std::collections::BTreeSet<(String, String)>,
    sessions: HashMap<String, Session>,
    /// key -> (window start, count).
    counters: HashMap<String, (i64, u64)>,
    /// (login name, client or "") -> failed logins and last success.
    lockout: HashMap<(String, String), lockout::LockoutEntry>,
    /// token hash -> one-time token.
    one_time_tokens: HashMap<String, OneTimeToken>,
    /// key hash -> API key.
    api_keys: HashMap<String, crate::api_key::ApiKey>,
    /// The audit log, in the order written.
    audit: Vec<crate::audit::AuditEntry>,
    /// user -> past password hashes, newest first.
    password_history: HashMap<UserId, std::collections::VecDeque<String>>,
    /// id -> (kind, state, expires at).
    pending: HashMap<String, (String, String, i64)>,
    /// Leases by name: holder and end.
    leases: HashMap<String, (String, i64)>,
    /// credential id -> passkey.
    passkeys: HashMap<String, crate::mfa::passkey::PasskeyRecord>,
    /// user -> TOTP authenticator.
    totp: HashMap<UserId, crate::mfa::TotpRecord>,
    /// id -> linked identity.
    identities: HashMap<String, crate::federation::FederatedIdentity>,
    /// client id -> OAuth client.
    clients: HashMap<String, crate::oauth::OAuthClient>,
    /// user -> backup code tag -> used at.
    backup_codes: HashMap<UserId, HashMap<String, Option<i64>>>,
}

/// Every store trait, in memory.
///
/// ```
/// use auth_core::store::MemoryStore;
/// use auth_core::user::{User, UserStore};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::StoreError> {
/// let store = MemoryStore::new();
/// let user = User::new("ada", "ada@example.com", None, time::OffsetDateTime::now_utc());
/// store.insert(&user).await?;
/// assert!(store.get_by_username("ADA").await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update of plain maps; the
        // maps themselves are still consistent enough to keep serving.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Removes at most `limit` entries of `map` that `dead` picks; how many went. The bounded
/// purges of the maintenance task.
pub(crate) fn remove_at_most<K, V>(
    map: &mut HashMap<K, V>,
    limit: u64,
    dead: impl Fn(&V) -> bool,
) -> u64
where
    K: Clone + Eq + std::hash::Hash,
{
    let keys: Vec<K> = map
        .iter()
        .filter(|(_, v)| dead(v))
        .map(|(k, _)| k.clone())
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    for key in &keys {
        map.remove(key);
    }
    keys.len() as u64
}
