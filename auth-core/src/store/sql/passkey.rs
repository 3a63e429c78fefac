//! Passkeys: one row per credential.

use async_trait::async_trait;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::mfa::passkey::{PasskeyRecord, PasskeyStore};
use crate::user::UserId;

const COLUMNS: &str = "id, user_id, user_handle, name, credential, created_at, last_used_at";

fn passkey_from_row(row: &sqlx::any::AnyRow) -> Result<PasskeyRecord, StoreError> {
    Ok(PasskeyRecord {
        id: row.try_get("id").map_err(map_err)?,
        user_id: UserId(row.try_get("user_id").map_err(map_err)?),
        user_handle: row.try_get("user_handle").map_err(map_err)?,
        name: row.try_get("name").map_err(map_err)?,
        credential: row.try_get("credential").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        last_used_at: row.try_get("last_used_at").map_err(map_err)?,
    })
}

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn insert_passkey(&self, passkey: &PasskeyRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "INSERT INTO passkeys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&passkey.id)
        .bind(passkey.user_id.as_str())
        .bind(&passkey.user_handle)
        .bind(&passkey.name)
        .bind(&passkey.credential)
        .bind(passkey.created_at)
        .bind(passkey.last_used_at)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn passkey(&self, id: &str) -> Result<Option<PasskeyRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM passkeys WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(map_err)?;
        row.as_ref().map(passkey_from_row).transpose()
    }

    async fn passkeys_of(&self, user_id: &UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user_id.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        rows.iter().map(passkey_from_row).collect()
    }

    async fn use_passkey(&self, id: &str, credential: &str, at: i64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3")
                .bind(credential)
                .bind(at)
                .bind(id)
                .execute(self.writes())
                .await
                .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_passkey(&self, user_id: &UserId, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id.as_str())
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }
}
