//! The stores a service runs on: in memory, in one SQL database, with Redis for what
//! instances share, and through the change bus.

use std::sync::Arc;

use crate::account::OneTimeTokenStore;
use crate::api_key::ApiKeyStore;
use crate::audit::AuditStore;
use crate::authz::services::ServicePermissionStore;
use crate::authz::RoleStore;
use crate::clock::Clock;
use crate::federation::IdentityStore;
use crate::invalidation::ChangeBus;
use crate::lockout::LockoutStore;
use crate::maintenance::LeaseStore;
use crate::mfa::passkey::PasskeyStore;
use crate::mfa::MfaStore;
use crate::oauth::ClientStore;
use crate::password::history::PasswordHistoryStore;
use crate::pending::PendingStore;
use crate::rate_limit::{InProcess, RateLimiterBackend};
use crate::session::SessionStore;
#[cfg(feature = "redis")]
use crate::store::redis::RedisStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::store::sql::SqlStore;
use crate::store::{MemoryStore, Readiness};
use crate::telemetry::Timed;
use crate::throttle::CounterStore;
use crate::token::refresh::RefreshTokenStore;
use crate::token::revocation::RevocationStore;
use crate::token::RevocationView;
use crate::user::UserStore;

/// The stores a service runs on.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Stores {
    /// Users.
    pub users: Arc<dyn UserStore>,
    /// Token revocation.
    pub revocations: Arc<dyn RevocationStore>,
    /// Refresh tokens.
    pub refresh_tokens: Arc<dyn RefreshTokenStore>,
    /// Role definitions.
    pub roles: Arc<dyn RoleStore>,
    /// Service-scoped permission schemas and values.
    pub services: Arc<dyn ServicePermissionStore>,
    /// Login sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Rate-limit counters.
    pub counters: Arc<dyn CounterStore>,
    /// Failed logins of the lockout.
    pub lockout: Arc<dyn LockoutStore>,
    /// Where rate limits count: in this process, or in Redis.
    pub rate_limiter: Arc<dyn RateLimiterBackend>,
    /// The audit log.
    pub audit: Arc<dyn AuditStore>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyStore>,
    /// OAuth clients of the authorization server.
    pub clients: Arc<dyn ClientStore>,
    /// Identities of other providers linked to users (federation).
    pub identities: Arc<dyn IdentityStore>,
    /// Second factors.
    pub mfa: Arc<dyn MfaStore>,
    /// Passkeys.
    pub passkeys: Arc<dyn PasskeyStore>,
    /// Ceremonies between their start and finish.
    pub pending: Arc<dyn PendingStore>,
    /// One-time tokens of password reset and email verification.
    pub one_time_tokens: Arc<dyn OneTimeTokenStore>,
    /// Hashes of past passwords (`AUTH__PASSWORD__HISTORY`).
    pub password_history: Arc<dyn PasswordHistoryStore>,
    /// Leases of jobs one instance does at a time (the scheduled purge).
    pub leases: Arc<dyn LeaseStore>,
    /// The backends behind them, for readiness checks.
    pub ready: Vec<Arc<dyn Readiness>>,
    /// The bus instances announce changes on, when there are several.
    pub bus: Option<ChangeBus>,
    /// The local revocation view, when revocation checks answer from memory.
    pub revocation_view: Option<Arc<RevocationView>>,
}

impl Stores {
    /// Everything in one in-memory store.
    #[must_use]
    pub fn memory() -> Self {
        let store = Arc::new(MemoryStore::new());
        Self {
            users: store.clone(),
            revocations: store.clone(),
            refresh_tokens: store.clone(),
            roles: store.clone(),
            sessions: store.clone(),
            counters: store.clone(),
            lockout: store.clone(),
            rate_limiter: Arc::new(InProcess),
            audit: store.clone(),
            api_keys: store.clone(),
            clients: store.clone(),
            identities: store.clone(),
            mfa: store.clone(),
            passkeys: store.clone(),
            pending: store.clone(),
            one_time_tokens: store.clone(),
            password_history: store.clone(),
            leases: store.clone(),
            services: store,
            ready: Vec::new(),
            bus: None,
            revocation_view: None,
        }
    }

    /// Everything in one SQL store.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[must_use]
    pub fn sql(store: SqlStore) -> Self {
        let shared = Arc::new(store.clone());
        Self {
            users: shared.clone(),
            revocations: shared.clone(),
            refresh_tokens: shared.clone(),
            roles: shared.clone(),
            sessions: shared.clone(),
            counters: shared.clone(),
            lockout: shared.clone(),
            rate_limiter: Arc::new(InProcess),
            audit: shared.clone(),
            api_keys: shared.clone(),
            clients: shared.clone(),
            identities: shared.clone(),
            mfa: shared.clone(),
            passkeys: shared.clone(),
            pending: shared.clone(),
            one_time_tokens: shared.clone(),
            password_history: shared.clone(),
            leases: shared.clone(),
            services: shared,
            ready: vec![Arc::new(store)],
            bus: None,
            revocation_view: None,
        }
    }

    /// The same stores with sessions, revocations, refresh-token families, counters, the
    /// lockout's failed logins, the rate limits and pending ceremonies in Redis.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn with_redis(mut self, redis: RedisStore) -> Self {
        let shared = Arc::new(redis.clone());
        self.sessions = shared.clone();
        self.revocations = shared.clone();
        self.refresh_tokens = shared.clone();
        self.counters = shared.clone();
        self.lockout = shared.clone();
        self.pending = shared.clone();
        self.rate_limiter = shared;
        self.ready.push(Arc::new(redis));
        self
    }

    /// The same stores for one of several instances sharing `bus`: revocation checks answer
    /// from a local [`RevocationView`] kept complete through the bus (no round trip per
    /// request), and the bus is there for the auth module to join. Spawns the view's task, so
    /// call it within a Tokio runtime.
    #[must_use]
    pub fn shared_through(mut self, bus: ChangeBus, clock: Arc<dyn Clock>) -> Self {
        let view = Arc::new(RevocationView::new(self.revocations, bus.clone(), clock));
        // The task lives as long as the view.
        drop(view.follow());
        self.revocations = view.clone();
        self.revocation_view = Some(view);
        self.bus = Some(bus);
        self
    }

    /// The same stores with the request path's operations timed into
    /// `auth_store_duration_seconds{backend, store, operation, outcome}`
    /// ([`telemetry`](crate::telemetry)): users, revocations, refresh tokens, sessions,
    /// counters and lockout records, labelled `backend` (`sqlite`, `postgres`, `memory`).
    /// The service does this when `AUTH__METRICS__ENABLED` is set; call it before
    /// [`shared_through`](Self::shared_through), so that the revocations timed are the store's
    /// and not the in-memory view's.
    #[must_use]
    pub fn timed(mut self, backend: &'static str) -> Self {
        self.users = Arc::new(Timed::new(self.users, backend));
        self.timed_shared(backend)
    }

    /// [`timed`](Self::timed) for the stores [`with_redis`](Self::with_redis) replaces.
    #[must_use]
    pub(crate) fn timed_shared(mut self, backend: &'static str) -> Self {
        self.revocations = Arc::new(Timed::new(self.revocations, backend));
        self.refresh_tokens = Arc::new(Timed::new(self.refresh_tokens, backend));
        self.sessions = Arc::new(Timed::new(self.sessions, backend));
        self.counters = Arc::new(Timed::new(self.counters, backend));
        self.lockout = Arc::new(Timed::new(self.lockout, backend));
        self
    }
}
