//! Second factors.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::mfa::{MfaStore, TotpRecord};
use crate::user::UserId;

fn codes(tags: &[String]) -> std::collections::HashMap<String, Option<i64>> {
    tags.iter().map(|t| (t.clone(), None)).collect()
}

#[async_trait]
impl MfaStore for MemoryStore {
    async fn start_totp(&self, record: &TotpRecord) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state
            .totp
            .get(&record.user_id)
            .is_some_and(TotpRecord::is_confirmed)
        {
            return Ok(false);
        }
        state.totp.insert(record.user_id.clone(), record.clone());
        Ok(true)
    }

    async fn totp(&self, user_id: &UserId) -> Result<Option<TotpRecord>, StoreError> {
        Ok(self.state().totp.get(user_id).cloned())
    }

    async fn confirm_totp(
        &self,
        user_id: &UserId,
        at: i64,
        step: u64,
        code_tags: &[String],
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(record) = state.totp.get_mut(user_id).filter(|r| !r.is_confirmed()) else {
            return Ok(false);
        };
        record.confirmed_at = Some(at);
        record.last_step = Some(step);
        state.backup_codes.insert(user_id.clone(), codes(code_tags));
        Ok(true)
    }

    async fn advance_totp_step(&self, user_id: &UserId, step: u64) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(record) = state.totp.get_mut(user_id) else {
            return Ok(false);
        };
        if record.last_step.is_some_and(|last| last >= step) {
            return Ok(false);
        }
        record.last_step = Some(step);
        Ok(true)
    }

    async fn delete_totp(&self, user_id: &UserId) -> Result<bool, StoreError> {
        let mut state = self.state();
        state.backup_codes.remove(user_id);
        Ok(state.totp.remove(user_id).is_some())
    }

    async fn replace_backup_codes(
        &self,
        user_id: &UserId,
        code_tags: &[String],
        _at: i64,
    ) -> Result<(), StoreError> {
        self.state()
            .backup_codes
            .insert(user_id.clone(), codes(code_tags));
        Ok(())
    }

    async fn use_backup_code(
        &self,
        user_id: &UserId,
        code_tag: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let slot = state
            .backup_codes
            .get_mut(user_id)
            .and_then(|codes| codes.get_mut(code_tag))
            .filter(|used| used.is_none());
        Ok(slot.map(|used| *used = Some(at)).is_some())
    }

    async fn backup_codes_left(&self, user_id: &UserId) -> Result<u32, StoreError> {
        let state = self.state();
        let left = state
            .backup_codes
            .get(user_id)
            .map_or(0, |codes| codes.values().filter(|u| u.is_none()).count());
        Ok(u32::try_from(left).unwrap_or(u32::MAX))
    }
}
