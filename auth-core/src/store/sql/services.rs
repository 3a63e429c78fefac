use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::authz::services::{PermissionSpec, ServicePermissionStore};
use crate::authz::PermissionKind;
use crate::error::StoreError;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

#[async_trait]
impl ServicePermissionStore for SqlStore {
    async fn schema(&self, service: &str) -> Result<Vec<PermissionSpec>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, label, description, kind, allowed_values, default_value \
             FROM service_permissions WHERE service = $1 ORDER BY name",
        )
        .bind(service)
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(map_err)?;
                let allowed: String = row.try_get("allowed_values").map_err(map_err)?;
                let default: Option<String> = row.try_get("default_value").map_err(map_err)?;
                Ok(PermissionSpec {
                    name: row.try_get("name").map_err(map_err)?,
                    label: row.try_get("label").map_err(map_err)?,
                    description: row.try_get("description").map_err(map_err)?,
                    kind: PermissionKind::parse(&kind)
                        .ok_or_else(|| corrupt(format!("unknown kind `{kind}`")))?,
                    allowed_values: serde_json::from_str(&allowed).map_err(corrupt)?,
                    default: default
                        .map(|d| serde_json::from_str(&d))
                        .transpose()
                        .map_err(corrupt)?,
                })
            })
            .collect()
    }

    async fn upsert_permission(
        &self,
        service: &str,
        spec: &PermissionSpec,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO service_permissions (service, name, label, description, kind, allowed_values, default_value) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (service, name) DO UPDATE SET \
             label = excluded.label, description = excluded.description, kind = excluded.kind, \
             allowed_values = excluded.allowed_values, default_value = excluded.default_value",
        )
        .bind(service)
        .bind(&spec.name)
        .bind(&spec.label)
        .bind(&spec.description)
        .bind(spec.kind.as_str())
        .bind(serde_json::to_string(&spec.allowed_values).map_err(corrupt)?)
        .bind(spec.default.as_ref().map(Value::to_string))
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn delete_permission(&self, service: &str, name: &str) -> Result<(), StoreError> {
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        for table in ["service_user_values", "service_permissions"] {
            let sql = format!("DELETE FROM {table} WHERE service = $1 AND name = $2");
            sqlx::query(&sql)
                .bind(service)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn user_values(
        &self,
        service: &str,
        user_id: &str,
    ) -> Result<BTreeMap<String, Value>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, value FROM service_user_values WHERE service = $1 AND user_id = $2",
        )
        .bind(service)
        .bind(user_id)
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                let value: String = row.try_get("value").map_err(map_err)?;
                Ok((
                    row.try_get("name").map_err(map_err)?,
                    serde_json::from_str(&value).map_err(corrupt)?,
                ))
            })
            .collect()
    }

    async fn set_user_value(
        &self,
        service: &str,
        user_id: &str,
        name: &str,
        value: &Value,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO service_user_values (service, user_id, name, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (service, user_id, name) DO UPDATE SET value = excluded.value",
        )
        .bind(service)
        .bind(user_id)
        .bind(name)
        .bind(value.to_string())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn add_admin(&self, service: &str, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO service_admins (service, user_id) VALUES ($1, $2) ON CONFLICT (service, user_id) DO NOTHING")
            .bind(service)
            .bind(user_id)
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn is_admin(&self, service: &str, user_id: &str) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM service_admins WHERE service = $1 AND user_id = $2",
        )
        .bind(service)
        .bind(user_id)
        .fetch_one(self.pool())
        .await
        .map_err(map_err)?;
        Ok(count > 0)
    }
}
