//! Sessions.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::mfa::SatisfiedFactor;
use crate::session::{Session, SessionStore};

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

    async fn set_session_factors(
        &self,
        id: &str,
        factors: &[SatisfiedFactor],
    ) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .sessions
            .get_mut(id)
            .map(|s| s.factors = factors.to_vec())
            .is_some())
    }

    async fn purge_ended_sessions(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        Ok(super::remove_at_most(
            &mut self.state().sessions,
            limit,
            |s| !s.is_live(now),
        ))
    }
}
