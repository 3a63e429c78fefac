//! Store latency: [`Timed`] wraps a store of the request path and records how long each
//! operation took in `auth_store_duration_seconds{backend, store, operation, outcome}`.
//! [`Stores::timed`](crate::service::Stores::timed) puts it around the users, revocations,
//! refresh tokens, sessions, counters and lockout records; the service builds it so when
//! `AUTH__METRICS__ENABLED` is set, and costs nothing otherwise.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::lockout::{LockoutStore, LoginRecord};
use crate::mfa::SatisfiedFactor;
use crate::session::{Session, SessionStore};
use crate::throttle::CounterStore;
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};
use crate::token::revocation::{RevocationCheck, RevocationSnapshot, RevocationStore, UserCutoff};
use crate::user::{Page, Profile, User, UserId, UserStore};

/// A store whose every operation is timed, labelled with the backend behind it.
#[derive(Debug)]
pub struct Timed<S: ?Sized> {
    inner: Arc<S>,
    backend: &'static str,
}

impl<S: ?Sized> Timed<S> {
    /// Wraps `inner`, a store of `backend` (`sqlite`, `postgres`, `redis`, `memory`).
    pub fn new(inner: Arc<S>, backend: &'static str) -> Self {
        Self { inner, backend }
    }
}

fn record(
    backend: &'static str,
    store: &'static str,
    operation: &'static str,
    started: Instant,
    ok: bool,
) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::histogram!(
        "auth_store_duration_seconds",
        "backend" => backend,
        "store" => store,
        "operation" => operation,
        "outcome" => outcome,
    )
    .record(started.elapsed().as_secs_f64());
}

/// Implements `$trait` for `Timed<dyn $trait>`: each listed method forwards to the inner
/// store and records its duration under `$store`.
macro_rules! timed {
    (
        $trait:ident,
        $store:literal,
        { $( fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )* }
    ) => {
        #[async_trait]
        impl $trait for Timed<dyn $trait> {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    let started = Instant::now();
                    let result = self.inner.$name($($arg),*).await;
                    record(self.backend, $store, stringify!($name), started, result.is_ok());
                    result
                }
            )*
        }
    };
}

timed!(UserStore, "users", {
    fn insert(&self, user: &User) -> Result<(), StoreError>;
    fn get_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;
    fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    fn get_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    fn update(&self, user: &User) -> Result<(), StoreError>;
    fn replace_roles(
        &self,
        id: &UserId,
        current: &[String],
        roles: &[String],
    ) -> Result<bool, StoreError>;
    fn replace_password_hash(
        &self,
        id: &UserId,
        current: &str,
        hash: &str,
    ) -> Result<bool, StoreError>;
    fn set_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StoreError>;
    fn replace_profile(
        &self,
        id: &UserId,
        current: &Profile,
        profile: &Profile,
    ) -> Result<bool, StoreError>;
    fn replace_email(&self, id: &UserId, current: &str, email: &str) -> Result<bool, StoreError>;
    fn mark_verified(&self, id: &UserId) -> Result<(), StoreError>;
    fn list(&self, page: Page) -> Result<Vec<User>, StoreError>;
    fn count(&self) -> Result<u64, StoreError>;
    fn deactivate(&self, id: &UserId) -> Result<(), StoreError>;
    fn activate(&self, id: &UserId) -> Result<(), StoreError>;
    fn bump_security_epoch(&self, id: &UserId) -> Result<i64, StoreError>;
    fn record_login(&self, id: &UserId, at: OffsetDateTime) -> Result<(), StoreError>;
});

timed!(RevocationStore, "revocations", {
    fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<u64, StoreError>;
    fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<u64, StoreError>;
    fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<u64, StoreError>;
    fn sequence(&self) -> Result<u64, StoreError>;
    fn is_revoked(&self, check: &RevocationCheck<'_>) -> Result<bool, StoreError>;
    fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError>;
    fn active(&self, now: i64) -> Result<RevocationSnapshot, StoreError>;
});

timed!(RefreshTokenStore, "refresh_tokens", {
    fn create_family(
        &self,
        family: &RefreshFamily,
        first: &RefreshTokenRecord,
    ) -> Result<(), StoreError>;
    fn find_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, RefreshFamily)>, StoreError>;
    fn rotate(
        &self,
        used_hash: &str,
        used_at: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError>;
    fn get_family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError>;
    fn revoke_family(&self, family_id: &str, at: i64, reason: &str) -> Result<bool, StoreError>;
    fn revoke_user_families(
        &self,
        user_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<Vec<String>, StoreError>;
    fn list_user_families(&self, user_id: &str, now: i64)
        -> Result<Vec<RefreshFamily>, StoreError>;
    fn purge_expired_families(&self, now: i64, limit: u64) -> Result<u64, StoreError>;
});

timed!(SessionStore, "sessions", {
    fn create_session(
        &self,
        session: &Session,
        max_per_user: Option<u32>,
    ) -> Result<Vec<String>, StoreError>;
    fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError>;
    fn touch_session(&self, id: &str, now: i64) -> Result<bool, StoreError>;
    fn list_sessions(&self, user_id: &str) -> Result<Vec<Session>, StoreError>;
    fn delete_session(&self, id: &str) -> Result<Option<Session>, StoreError>;
    fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError>;
    fn find_session_by_secret(&self, secret_hash: &str) -> Result<Option<Session>, StoreError>;
    fn set_session_secret(&self, id: &str, secret_hash: &str) -> Result<bool, StoreError>;
    fn set_session_factors(
        &self,
        id: &str,
        factors: &[SatisfiedFactor],
    ) -> Result<bool, StoreError>;
    fn purge_ended_sessions(&self, now: i64, limit: u64) -> Result<u64, StoreError>;
});

timed!(CounterStore, "counters", {
    fn hit(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError>;
    fn count(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError>;
    fn reset(&self, key: &str) -> Result<(), StoreError>;
    fn purge_stale(&self, before: i64, limit: u64) -> Result<u64, StoreError>;
});

timed!(LockoutStore, "lockout", {
    fn record(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError>;
    fn record_failure(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError>;
    fn record_success(
        &self,
        account: &str,
        client: &str,
        now: i64,
        remember: i64,
    ) -> Result<(), StoreError>;
    fn forgive(&self, account: &str) -> Result<bool, StoreError>;
    fn purge_stale(
        &self,
        failures_before: i64,
        successes_before: i64,
        limit: u64,
    ) -> Result<u64, StoreError>;
});
