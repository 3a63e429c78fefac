//! Linked identities: one row each, unique by issuer and subject.

use async_trait::async_trait;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::federation::{FederatedIdentity, IdentityStore};
use crate::user::UserId;

const COLUMNS: &str = "id, user_id, provider, issuer, subject, email, created_at, last_used_at";

fn identity_from_row(row: &sqlx::any::AnyRow) -> Result<FederatedIdentity, StoreError> {
    Ok(FederatedIdentity {
        id: row.try_get("id").map_err(map_err)?,
        user_id: UserId(row.try_get("user_id").map_err(map_err)?),
        provider: row.try_get("provider").map_err(map_err)?,
        issuer: row.try_get("issuer").map_err(map_err)?,
        subject: row.try_get("subject").map_err(map_err)?,
        email: row.try_get("email").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        last_used_at: row.try_get("last_used_at").map_err(map_err)?,
    })
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn insert_identity(&self, identity: &FederatedIdentity) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO federated_identities ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&identity.id)
        .bind(identity.user_id.as_str())
        .bind(&identity.provider)
        .bind(&identity.issuer)
        .bind(&identity.subject)
        .bind(identity.email.as_deref())
        .bind(identity.created_at)
        .bind(identity.last_used_at)
        .execute(self.writes())
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Conflict { .. } => StoreError::Conflict { field: "identity" },
            other => other,
        })?;
        Ok(())
    }

    async fn identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<FederatedIdentity>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM federated_identities WHERE issuer = $1 AND subject = $2"
        ))
        .bind(issuer)
        .bind(subject)
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?;
        row.as_ref().map(identity_from_row).transpose()
    }

    async fn identities_of(&self, user_id: &UserId) -> Result<Vec<FederatedIdentity>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM federated_identities WHERE user_id = $1 \
             ORDER BY created_at, id"
        ))
        .bind(user_id.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        rows.iter().map(identity_from_row).collect()
    }

    async fn touch_identity(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE federated_identities SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_identity(&self, user_id: &UserId, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM federated_identities WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id.as_str())
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }
}
