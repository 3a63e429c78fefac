//! API keys: one row per key, its scopes as a JSON array.

use async_trait::async_trait;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::api_key::{ApiKey, ApiKeyStore};
use crate::error::StoreError;
use crate::user::UserId;

const COLUMNS: &str = "id, user_id, name, scopes, prefix, key_hash, created_at, expires_at, \
                       revoked_at, last_used_at, last_used_ip";

fn key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey, StoreError> {
    let scopes: String = row.try_get("scopes").map_err(map_err)?;
    Ok(ApiKey {
        id: row.try_get("id").map_err(map_err)?,
        user_id: UserId(row.try_get("user_id").map_err(map_err)?),
        name: row.try_get("name").map_err(map_err)?,
        scopes: serde_json::from_str(&scopes)
            .map_err(|e| StoreError::Corrupt(format!("api key scopes: {e}")))?,
        prefix: row.try_get("prefix").map_err(map_err)?,
        hash: row.try_get("key_hash").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        expires_at: row.try_get("expires_at").map_err(map_err)?,
        revoked_at: row.try_get("revoked_at").map_err(map_err)?,
        last_used_at: row.try_get("last_used_at").map_err(map_err)?,
        last_used_ip: row.try_get("last_used_ip").map_err(map_err)?,
    })
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn insert_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let scopes = serde_json::to_string(&key.scopes)
            .map_err(|e| StoreError::Corrupt(format!("api key scopes: {e}")))?;
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, scopes, prefix, key_hash, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key.id)
        .bind(key.user_id.as_str())
        .bind(&key.name)
        .bind(scopes)
        .bind(&key.prefix)
        .bind(&key.hash)
        .bind(key.created_at)
        .bind(key.expires_at)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn keys_of(&self, user_id: &UserId) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(user_id.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_key(&self, user_id: &UserId, id: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .bind(user_id.as_str())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch_key(&self, id: &str, at: i64, ip: Option<&str>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET last_used_at = $1, last_used_ip = $2 WHERE id = $3 \
             AND (last_used_at IS NULL OR last_used_at <= $4)",
        )
        .bind(at)
        .bind(ip)
        .bind(id)
        .bind(at - 60)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_dead_keys(&self, before: i64, limit: u64) -> Result<u64, StoreError> {
        self.delete_at_most(
            "api_keys",
            "id",
            "revoked_at < $1 OR expires_at < $1",
            &[before],
            limit,
        )
        .await
    }
}
