//! One-time tokens.

use async_trait::async_trait;

use super::MemoryStore;
use crate::account::{OneTimeToken, OneTimeTokenStore, TokenPurpose};
use crate::error::StoreError;
use crate::password::history::PasswordHistoryStore;
use crate::user::UserId;

#[async_trait]
impl OneTimeTokenStore for MemoryStore {
    async fn issue(&self, token: &OneTimeToken) -> Result<(), StoreError> {
        let mut state = self.state();
        state
            .one_time_tokens
            .retain(|_, t| !(t.user_id == token.user_id && t.purpose == token.purpose));
        state
            .one_time_tokens
            .insert(token.hash.clone(), token.clone());
        Ok(())
    }

    async fn consume(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        let mut state = self.state();
        let usable = state
            .one_time_tokens
            .get(hash)
            .is_some_and(|t| t.serves(purpose, now));
        Ok(if usable {
            state.one_time_tokens.remove(hash)
        } else {
            None
        })
    }

    async fn find(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        Ok(self
            .state()
            .one_time_tokens
            .get(hash)
            .filter(|t| t.serves(purpose, now))
            .cloned())
    }

    async fn void_user(&self, user_id: &UserId) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.one_time_tokens.len();
        state.one_time_tokens.retain(|_, t| &t.user_id != user_id);
        Ok((before - state.one_time_tokens.len()) as u64)
    }

    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        let mut state = self.state();
        Ok(super::remove_at_most(
            &mut state.one_time_tokens,
            limit,
            |t| t.expires_at <= now,
        ))
    }
}

#[async_trait]
impl PasswordHistoryStore for MemoryStore {
    async fn remember(
        &self,
        user_id: &UserId,
        hash: &str,
        _at: i64,
        keep: usize,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let past = state.password_history.entry(user_id.clone()).or_default();
        past.push_front(hash.to_owned());
        past.truncate(keep);
        Ok(())
    }

    async fn recent(&self, user_id: &UserId, limit: usize) -> Result<Vec<String>, StoreError> {
        Ok(self
            .state()
            .password_history
            .get(user_id)
            .map(|past| past.iter().take(limit).cloned().collect())
            .unwrap_or_default())
    }
}
