//! Second factors: one row per TOTP authenticator, one per backup code.

use async_trait::async_trait;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::mfa::{MfaStore, TotpRecord};
use crate::user::UserId;

/// A stored step (BIGINT) as the step it is; a negative one is corrupt.
fn step(value: Option<i64>) -> Result<Option<u64>, StoreError> {
    value
        .map(|v| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("totp step {v}"))))
        .transpose()
}

/// A step as stored; steps of the next hundred billion years fit.
fn stored(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

impl SqlStore {
    /// Inserts `code_tags` for `user_id` within `tx`, after deleting the old ones.
    async fn put_codes(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        user_id: &UserId,
        code_tags: &[String],
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        for tag in code_tags {
            sqlx::query(
                "INSERT INTO backup_codes (user_id, code_tag, created_at) VALUES ($1, $2, $3)",
            )
            .bind(user_id.as_str())
            .bind(tag)
            .bind(at)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        }
        Ok(())
    }
}

#[async_trait]
impl MfaStore for SqlStore {
    async fn start_totp(&self, record: &TotpRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO totp_credentials (user_id, sealed_secret, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE \
             SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at, \
             last_step = NULL WHERE totp_credentials.confirmed_at IS NULL",
        )
        .bind(record.user_id.as_str())
        .bind(&record.sealed_secret)
        .bind(record.created_at)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn totp(&self, user_id: &UserId) -> Result<Option<TotpRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT sealed_secret, created_at, confirmed_at, last_step FROM totp_credentials \
             WHERE user_id = $1",
        )
        .bind(user_id.as_str())
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?;
        row.map(|row| {
            Ok(TotpRecord {
                user_id: user_id.clone(),
                sealed_secret: row.try_get("sealed_secret").map_err(map_err)?,
                created_at: row.try_get("created_at").map_err(map_err)?,
                confirmed_at: row.try_get("confirmed_at").map_err(map_err)?,
                last_step: step(row.try_get("last_step").map_err(map_err)?)?,
            })
        })
        .transpose()
    }

    async fn confirm_totp(
        &self,
        user_id: &UserId,
        at: i64,
        step: u64,
        code_tags: &[String],
    ) -> Result<bool, StoreError> {
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        let done = sqlx::query(
            "UPDATE totp_credentials SET confirmed_at = $1, last_step = $2 \
             WHERE user_id = $3 AND confirmed_at IS NULL",
        )
        .bind(at)
        .bind(stored(step))
        .bind(user_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        Self::put_codes(&mut tx, user_id, code_tags, at).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn advance_totp_step(&self, user_id: &UserId, step: u64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE totp_credentials SET last_step = $1 \
             WHERE user_id = $2 AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(stored(step))
        .bind(user_id.as_str())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_totp(&self, user_id: &UserId) -> Result<bool, StoreError> {
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let done = sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn replace_backup_codes(
        &self,
        user_id: &UserId,
        code_tags: &[String],
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        Self::put_codes(&mut tx, user_id, code_tags, at).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn use_backup_code(
        &self,
        user_id: &UserId,
        code_tag: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE backup_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_tag = $3 AND used_at IS NULL",
        )
        .bind(at)
        .bind(user_id.as_str())
        .bind(code_tag)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn backup_codes_left(&self, user_id: &UserId) -> Result<u32, StoreError> {
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id.as_str())
        .fetch_one(self.pool())
        .await
        .map_err(map_err)?;
        Ok(u32::try_from(left).unwrap_or(0))
    }
}
