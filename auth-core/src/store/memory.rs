//! In-memory backend of every store trait: for tests, examples and single-process services
//! that can lose their state on restart.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::StoreError;
use crate::authz::services::{PermissionSpec, ServicePermissionStore};
use crate::authz::{RoleRecord, RoleStore};
use crate::session::{Session, SessionStore};
use crate::throttle::{window_start, CounterStore};
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};
use crate::token::revocation::{
    Revocation, RevocationCheck, RevocationSet, RevocationSnapshot, RevocationStore, UserCutoff,
};
use crate::user::{normalize, Page, User, UserId, UserStore};

#[derive(Debug, Default)]
struct State {
    users: HashMap<UserId, User>,
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

fn check_unique(state: &State, user: &User) -> Result<(), StoreError> {
    let username = normalize(&user.username);
    let email = normalize(&user.email);
    for other in state.users.values().filter(|u| u.id != user.id) {
        if normalize(&other.username) == username {
            return Err(StoreError::Conflict { field: "username" });
        }
        if normalize(&other.email) == email {
            return Err(StoreError::Conflict { field: "email" });
        }
    }
    Ok(())
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.users.contains_key(&user.id) {
            return Err(StoreError::Conflict { field: "id" });
        }
        check_unique(&state, user)?;
        state.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    async fn get_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state().users.get(id).cloned())
    }

    async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let wanted = normalize(username);
        Ok(self
            .state()
            .users
            .values()
            .find(|u| normalize(&u.username) == wanted)
            .cloned())
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let wanted = normalize(email);
        Ok(self
            .state()
            .users
            .values()
            .find(|u| normalize(&u.email) == wanted)
            .cloned())
    }

    async fn update(&self, user: &User) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&user.id) {
            return Err(StoreError::NotFound);
        }
        check_unique(&state, user)?;
        state.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    async fn list(&self, page: Page) -> Result<Vec<User>, StoreError> {
        let state = self.state();
        let mut users: Vec<&User> = state.users.values().collect();
        users.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit.min(1000)).unwrap_or(1000);
        Ok(users
            .into_iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn count(&self) -> Result<u64, StoreError> {
        Ok(self.state().users.len() as u64)
    }

    async fn replace_roles(
        &self,
        id: &UserId,
        current: &[String],
        roles: &[String],
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        if user.roles != current {
            return Ok(false);
        }
        user.roles = roles.to_vec();
        user.updated_at = time::OffsetDateTime::now_utc();
        Ok(true)
    }

    async fn replace_password_hash(
        &self,
        id: &UserId,
        current: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        if user.password_hash.as_deref() != Some(current) {
            return Ok(false);
        }
        user.password_hash = Some(hash.to_owned());
        user.updated_at = time::OffsetDateTime::now_utc();
        Ok(true)
    }

    async fn deactivate(&self, id: &UserId) -> Result<(), StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.is_active = false;
        Ok(())
    }

    async fn activate(&self, id: &UserId) -> Result<(), StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.is_active = true;
        Ok(())
    }

    async fn bump_security_epoch(&self, id: &UserId) -> Result<i64, StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.security_epoch += 1;
        Ok(user.security_epoch)
    }
}

impl MemoryStore {
    /// Records a revocation and numbers it, in one step.
    fn revoke(&self, revocation: Revocation) -> u64 {
        let mut state = self.state();
        state.revocations.insert(revocation);
        state.revocation_sequence += 1;
        state.revocation_sequence
    }
}

#[async_trait]
impl RevocationStore for MemoryStore {
    async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<u64, StoreError> {
        Ok(self.revoke(Revocation::Token {
            jti: jti.to_owned(),
            expires_at,
        }))
    }

    async fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<u64, StoreError> {
        Ok(self.revoke(Revocation::Session {
            id: session_id.to_owned(),
            expires_at,
        }))
    }

    async fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<u64, StoreError> {
        Ok(self.revoke(Revocation::User {
            user_id: user_id.to_owned(),
            cutoff,
        }))
    }

    async fn sequence(&self) -> Result<u64, StoreError> {
        Ok(self.state().revocation_sequence)
    }

    async fn is_revoked(&self, check: &RevocationCheck<'_>) -> Result<bool, StoreError> {
        Ok(self.state().revocations.is_revoked(check))
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        Ok(self.state().revocations.purge(now))
    }

    async fn active(&self, now: i64) -> Result<RevocationSnapshot, StoreError> {
        let state = self.state();
        let mut set = state.revocations.clone();
        set.purge(now);
        Ok(RevocationSnapshot::new(set, state.revocation_sequence))
    }
}

#[async_trait]
impl RefreshTokenStore for MemoryStore {
    async fn create_family(
        &self,
        family: &RefreshFamily,
        first: &RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.families.contains_key(&family.id)
            || state.refresh_tokens.contains_key(&first.token_hash)
        {
            return Err(StoreError::Conflict { field: "id" });
        }
        state.families.insert(family.id.clone(), family.clone());
        state
            .refresh_tokens
            .insert(first.token_hash.clone(), first.clone());
        Ok(())
    }

    async fn find_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, RefreshFamily)>, StoreError> {
        let state = self.state();
        Ok(state.refresh_tokens.get(token_hash).and_then(|t| {
            state
                .families
                .get(&t.family_id)
                .map(|f| (t.clone(), f.clone()))
        }))
    }

    async fn rotate(
        &self,
        used_hash: &str,
        used_at: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        let mut state = self.state();
        let Some(token) = state.refresh_tokens.get_mut(used_hash) else {
            return Ok(RotateOutcome::NotFound);
        };
        if let Some(used_at) = token.used_at {
            return Ok(RotateOutcome::AlreadyUsed { used_at });
        }
        token.used_at = Some(used_at);
        state
            .refresh_tokens
            .insert(successor.token_hash.clone(), successor.clone());
        Ok(RotateOutcome::Rotated)
    }

    async fn get_family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        Ok(self.state().families.get(family_id).cloned())
    }

    async fn revoke_family(
        &self,
        family_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.families.get_mut(family_id) {
            Some(family) if family.revoked_at.is_none() => {
                family.revoked_at = Some(at);
                family.revoked_reason = Some(reason.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_user_families(
        &self,
        user_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut state = self.state();
        let mut ids = Vec::new();
        for family in state
            .families
            .values_mut()
            .filter(|f| f.user_id == user_id && f.revoked_at.is_none())
        {
            family.revoked_at = Some(at);
            family.revoked_reason = Some(reason.to_owned());
            ids.push(family.id.clone());
        }
        Ok(ids)
    }

    async fn list_user_families(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<RefreshFamily>, StoreError> {
        let state = self.state();
        let mut families: Vec<RefreshFamily> = state
            .families
            .values()
            .filter(|f| f.user_id == user_id && f.revoked_at.is_none() && f.expires_at > now)
            .cloned()
            .collect();
        crate::token::refresh::newest_first(&mut families);
        Ok(families)
    }

    async fn purge_expired_families(&self, now: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.families.len() + state.refresh_tokens.len();
        state.families.retain(|_, f| f.expires_at >= now);
        let State {
            families,
            refresh_tokens,
            ..
        } = &mut *state;
        refresh_tokens.retain(|_, t| t.expires_at >= now && families.contains_key(&t.family_id));
        let after = state.families.len() + state.refresh_tokens.len();
        Ok((before - after) as u64)
    }
}

#[async_trait]
impl RoleStore for MemoryStore {
    async fn put_role(&self, role: &RoleRecord) -> Result<(), StoreError> {
        self.state().roles.insert(role.name.clone(), role.clone());
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.state().roles.remove(name).is_some())
    }

    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        Ok(self.state().roles.values().cloned().collect())
    }
}

#[async_trait]
impl ServicePermissionStore for MemoryStore {
    async fn schema(&self, service: &str) -> Result<Vec<PermissionSpec>, StoreError> {
        Ok(self
            .state()
            .service_permissions
            .iter()
            .filter(|((s, _), _)| s == service)
            .map(|(_, spec)| spec.clone())
            .collect())
    }

    async fn upsert_permission(
        &self,
        service: &str,
        spec: &PermissionSpec,
    ) -> Result<(), StoreError> {
        self.state()
            .service_permissions
            .insert((service.to_owned(), spec.name.clone()), spec.clone());
        Ok(())
    }

    async fn delete_permission(&self, service: &str, name: &str) -> Result<(), StoreError> {
        let mut state = self.state();
        state
            .service_permissions
            .remove(&(service.to_owned(), name.to_owned()));
        state
            .service_values
            .retain(|(s, _, n), _| !(s == service && n == name));
        Ok(())
    }

    async fn user_values(
        &self,
        service: &str,
        user_id: &str,
    ) -> Result<std::collections::BTreeMap<String, serde_json::Value>, StoreError> {
        Ok(self
            .state()
            .service_values
            .iter()
            .filter(|((s, u, _), _)| s == service && u == user_id)
            .map(|((_, _, n), v)| (n.clone(), v.clone()))
            .collect())
    }

    async fn set_user_value(
        &self,
        service: &str,
        user_id: &str,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.state().service_values.insert(
            (service.to_owned(), user_id.to_owned(), name.to_owned()),
            value.clone(),
        );
        Ok(())
    }

    async fn add_admin(&self, service: &str, user_id: &str) -> Result<(), StoreError> {
        self.state()
            .service_admins
            .insert((service.to_owned(), user_id.to_owned()));
        Ok(())
    }

    async fn is_admin(&self, service: &str, user_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .service_admins
            .contains(&(service.to_owned(), user_id.to_owned())))
    }
}

/// Most recently used first; ties by id so every backend orders alike.
pub(crate) fn by_recent_use(sessions: &mut [Session]) {
    sessions.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then_with(|| a.id.cmp(&b.id)));
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(
        &self,
        session: &Session,
        max_per_user: Option<u32>,
    ) -> Result<Vec<String>, StoreError> {
        let mut state = self.state();
        state.sessions.insert(session.id.clone(), session.clone());
        let Some(max) = max_per_user else {
            return Ok(Vec::new());
        };
        let mut mine: Vec<Session> = state
            .sessions
            .values()
            .filter(|s| s.user_id == session.user_id)
            .cloned()
            .collect();
        by_recent_use(&mut mine);
        let evicted: Vec<String> = mine
            .into_iter()
            .filter(|s| s.id != session.id)
            .skip(usize::try_from(max).unwrap_or(usize::MAX).saturating_sub(1))
            .map(|s| s.id)
            .collect();
        for id in &evicted {
            state.sessions.remove(id);
        }
        Ok(evicted)
    }

    async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.state().sessions.get(id).cloned())
    }

    async fn touch_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .sessions
            .get_mut(id)
            .map(|s| s.last_seen = s.last_seen.max(now))
            .is_some())
    }

    async fn list_sessions(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let mut sessions: Vec<Session> = self
            .state()
            .sessions
            .values()
            .filter(|s| s.user_id == user_id)
            .cloned()
            .collect();
        by_recent_use(&mut sessions);
        Ok(sessions)
    }

    async fn delete_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.state().sessions.remove(id))
    }

    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let mut state = self.state();
        let ids: Vec<String> = state
            .sessions
            .values()
            .filter(|s| s.user_id == user_id && Some(s.id.as_str()) != keep)
            .map(|s| s.id.clone())
            .collect();
        for id in &ids {
            state.sessions.remove(id);
        }
        Ok(ids)
    }

    async fn find_session_by_secret(
        &self,
        secret_hash: &str,
    ) -> Result<Option<Session>, StoreError> {
        Ok(self
            .state()
            .sessions
            .values()
            .find(|s| s.secret_hash.as_deref() == Some(secret_hash))
            .cloned())
    }

    async fn set_session_secret(&self, id: &str, secret_hash: &str) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .sessions
            .get_mut(id)
            .map(|s| s.secret_hash = Some(secret_hash.to_owned()))
            .is_some())
    }
}

#[async_trait]
impl CounterStore for MemoryStore {
    async fn hit(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let start = window_start(now, window);
        let mut state = self.state();
        let entry = state.counters.entry(key.to_owned()).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        entry.1 += 1;
        Ok(entry.1)
    }

    async fn count(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let start = window_start(now, window);
        Ok(self
            .state()
            .counters
            .get(key)
            .filter(|(at, _)| *at == start)
            .map_or(0, |(_, count)| *count))
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.state().counters.remove(key);
        Ok(())
    }
}
