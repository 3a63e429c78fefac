//! [`AuthService`]'s account-security methods: an administrator's unlock of the lockout, API
//! keys, and the audit log. They forward to the flows of `lockout` and `api_keys` and to the
//! audit store.

use secrecy::SecretString;

use super::{NewApiKey, VerifiedKey};
use crate::api_key::ApiKey;
use crate::audit::{AuditPage, AuditQuery};
use crate::error::{AuthError, Result};
use crate::events::AuthEvent;
use crate::principal::Principal;
use crate::user::UserId;
use crate::AuthService;

impl AuthService {
    /// Forgets every failed login of the user's username and address, from every client, so
    /// that no attempt waits any longer (an administrator's unlock; see
    /// [`lockout`](crate::lockout)). Returns whether there was anything to forget.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn unlock_user(&self, user_id: &UserId) -> Result<bool> {
        let user = self
            .inner
            .users
            .get_by_id(user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let forgiven = match &self.inner.login.lockout {
            Some(lockout) => lockout.unlock(&user).await?,
            None => false,
        };
        self.inner.ctx.emit(AuthEvent::LoginUnlocked {
            user_id: user.id.to_string(),
        });
        Ok(forgiven)
    }

    /// Creates an API key for the principal (signed in, not itself a key): the record and
    /// the key, shown this once (see [`api_key`](crate::api_key)).
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a bad name, scope or lifetime; [`AuthError::Forbidden`]
    /// for a principal authenticated by an API key.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        request: NewApiKey,
    ) -> Result<(ApiKey, SecretString)> {
        self.inner.api_keys.create(principal, request).await
    }

    /// The principal's API keys, newest first, revoked ones included (never their secrets).
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`].
    pub async fn api_keys(&self, principal: &Principal) -> Result<Vec<ApiKey>> {
        self.inner.api_keys.list(principal).await
    }

    /// Revokes the principal's API key `id` (on every instance within a second); whether it
    /// was theirs and live.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for a principal authenticated by an API key.
    pub async fn revoke_api_key(&self, principal: &Principal, id: &str) -> Result<bool> {
        self.inner.api_keys.revoke(principal, id).await
    }

    /// Verifies a presented API key (`client_ip` is noted as its last use, at most once a
    /// minute).
    ///
    /// # Errors
    /// [`AuthError::InvalidApiKey`] (malformed, wrong checksum, unknown),
    /// [`AuthError::ApiKeyRevoked`] (also when its owner is deactivated),
    /// [`AuthError::ApiKeyExpired`].
    pub async fn verify_api_key(&self, key: &str, client_ip: Option<&str>) -> Result<VerifiedKey> {
        self.inner.api_keys.verify(key, client_ip).await
    }

    /// A page of the audit log (`AUTH__AUDIT__ENABLED`): the entries `query` selects, newest
    /// first, and the cursor of the next page.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when the database is down.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage> {
        let entries = self.inner.audit.list(query).await?;
        Ok(AuditPage::of(entries, query.limit))
    }
}
