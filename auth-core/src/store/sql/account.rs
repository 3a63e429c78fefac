//! One-time tokens.

use async_trait::async_trait;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::account::{OneTimeToken, OneTimeTokenStore, TokenPurpose};
use crate::error::StoreError;
use crate::password::history::PasswordHistoryStore;
use crate::user::UserId;

/// The token with this hash and purpose from a row of `user_id, issued_at, expires_at,
/// payload`.
fn token_from_row(
    hash: &str,
    purpose: TokenPurpose,
    row: &sqlx::any::AnyRow,
) -> Result<OneTimeToken, StoreError> {
    let mut token = OneTimeToken::new(
        hash.to_owned(),
        purpose,
        UserId(row.try_get("user_id").map_err(map_err)?),
        row.try_get("issued_at").map_err(map_err)?,
        row.try_get("expires_at").map_err(map_err)?,
    );
    token.payload = row.try_get("payload").map_err(map_err)?;
    Ok(token)
}

#[async_trait]
impl OneTimeTokenStore for SqlStore {
    async fn issue(&self, token: &OneTimeToken) -> Result<(), StoreError> {
        // One row per user and purpose: the upsert replaces the older token in one statement,
        // so two concurrent issues leave exactly one.
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, purpose, user_id, issued_at, expires_at, \
             payload) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id, purpose) DO UPDATE SET token_hash = excluded.token_hash, \
             issued_at = excluded.issued_at, expires_at = excluded.expires_at, \
             payload = excluded.payload",
        )
        .bind(&token.hash)
        .bind(token.purpose.as_str())
        .bind(token.user_id.as_str())
        .bind(token.issued_at)
        .bind(token.expires_at)
        .bind(token.payload.as_deref())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn consume(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        // The DELETE is the consumption: of two concurrent ones, one deletes the row.
        let row = sqlx::query(
            "DELETE FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 \
             AND expires_at > $3 RETURNING user_id, issued_at, expires_at, payload",
        )
        .bind(hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(self.writes())
        .await
        .map_err(map_err)?;
        row.map(|row| token_from_row(hash, purpose, &row))
            .transpose()
    }

    async fn find(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, issued_at, expires_at, payload FROM one_time_tokens \
             WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3",
        )
        .bind(hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?;
        row.map(|row| token_from_row(hash, purpose, &row))
            .transpose()
    }

    async fn void_user(&self, user_id: &UserId) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM one_time_tokens WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(result.rows_affected())
    }

    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        self.delete_at_most(
            "one_time_tokens",
            "token_hash",
            "expires_at <= $1",
            &[now],
            limit,
        )
        .await
    }
}

#[async_trait]
impl PasswordHistoryStore for SqlStore {
    async fn remember(
        &self,
        user_id: &UserId,
        hash: &str,
        at: i64,
        keep: usize,
    ) -> Result<(), StoreError> {
        // UUIDv7 ids order the rows of one second by insertion.
        sqlx::query(
            "INSERT INTO password_history (id, user_id, hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(user_id.as_str())
        .bind(hash)
        .bind(at)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        sqlx::query(
            "DELETE FROM password_history WHERE user_id = $1 AND id NOT IN (SELECT id FROM \
             password_history WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)",
        )
        .bind(user_id.as_str())
        .bind(i64::try_from(keep).unwrap_or(i64::MAX))
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn recent(&self, user_id: &UserId, limit: usize) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT hash FROM password_history WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id.as_str())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(map_err)
    }
}
