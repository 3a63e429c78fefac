//! OAuth clients: one row each, lists as JSON arrays.

use async_trait::async_trait;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::oauth::{ClientStore, OAuthClient};

const COLUMNS: &str = "client_id, client_name, secret_hash, auth_method, grant_types, \
                       redirect_uris, scopes, require_pkce, created_at, created_by";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("oauth client: {e}"))
}

fn json<T: serde::de::DeserializeOwned>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column).map_err(map_err)?;
    serde_json::from_str(&text).map_err(corrupt)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

fn client_from_row(row: &sqlx::any::AnyRow) -> Result<OAuthClient, StoreError> {
    let method: String = row.try_get("auth_method").map_err(map_err)?;
    Ok(OAuthClient {
        client_id: row.try_get("client_id").map_err(map_err)?,
        client_name: row.try_get("client_name").map_err(map_err)?,
        secret_hash: row.try_get("secret_hash").map_err(map_err)?,
        auth_method: method
            .parse()
            .map_err(|()| corrupt(format!("auth method `{method}`")))?,
        grant_types: json(row, "grant_types")?,
        redirect_uris: json(row, "redirect_uris")?,
        scopes: json(row, "scopes")?,
        require_pkce: row.try_get::<i64, _>("require_pkce").map_err(map_err)? != 0,
        created_at: row.try_get("created_at").map_err(map_err)?,
        created_by: row.try_get("created_by").map_err(map_err)?,
    })
}

#[async_trait]
impl ClientStore for SqlStore {
    async fn insert_client(&self, client: &OAuthClient) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO oauth_clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&client.client_id)
        .bind(&client.client_name)
        .bind(client.secret_hash.as_deref())
        .bind(client.auth_method.as_str())
        .bind(to_json(&client.grant_types)?)
        .bind(to_json(&client.redirect_uris)?)
        .bind(to_json(&client.scopes)?)
        .bind(i64::from(client.require_pkce))
        .bind(client.created_at)
        .bind(client.created_by.as_deref())
        .execute(self.writes())
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Conflict { .. } => StoreError::Conflict { field: "client_id" },
            other => other,
        })?;
        Ok(())
    }

    async fn client(&self, client_id: &str) -> Result<Option<OAuthClient>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oauth_clients WHERE client_id = $1"
        ))
        .bind(client_id)
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oauth_clients ORDER BY created_at, client_id"
        ))
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        rows.iter().map(client_from_row).collect()
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }
}
