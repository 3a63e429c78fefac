//! Revocations and refresh-token families.

use async_trait::async_trait;

use super::{remove_at_most, MemoryStore, State};
use crate::error::StoreError;
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};
use crate::token::revocation::{
    Revocation, RevocationCheck, RevocationSnapshot, RevocationStore, UserCutoff,
};

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

    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        Ok(self.state().revocations.purge_at_most(now, limit))
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

    async fn purge_expired_families(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let State {
            families,
            refresh_tokens,
            ..
        } = &mut *state;
        let ended: Vec<String> = families
            .values()
            .filter(|f| f.expires_at < now)
            .map(|f| f.id.clone())
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        let mut purged = 0;
        for id in &ended {
            families.remove(id);
            let before = refresh_tokens.len();
            refresh_tokens.retain(|_, t| &t.family_id != id);
            purged += 1 + (before - refresh_tokens.len()) as u64;
        }
        Ok(purged + remove_at_most(refresh_tokens, limit, |t| t.expires_at < now))
    }
}
