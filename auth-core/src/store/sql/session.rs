use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{map_err, Backend, SqlStore};
use crate::error::StoreError;
use crate::mfa::SatisfiedFactor;
use crate::session::{client_json, Device, Session, SessionStore};

const COLUMNS: &str = "id, user_id, user_agent, ip, name, created_at, last_seen, expires_at, \
                       idle_timeout, secret_hash, factors, client";

fn session(row: &AnyRow) -> Result<Session, StoreError> {
    Ok(Session {
        id: row.try_get("id").map_err(map_err)?,
        user_id: row.try_get("user_id").map_err(map_err)?,
        device: Device {
            user_agent: row.try_get("user_agent").map_err(map_err)?,
            ip: row.try_get("ip").map_err(map_err)?,
            name: row.try_get("name").map_err(map_err)?,
        },
        created_at: row.try_get("created_at").map_err(map_err)?,
        last_seen: row.try_get("last_seen").map_err(map_err)?,
        expires_at: row.try_get("expires_at").map_err(map_err)?,
        idle_timeout: row.try_get("idle_timeout").map_err(map_err)?,
        secret_hash: row.try_get("secret_hash").map_err(map_err)?,
        factors: factors(row.try_get("factors").map_err(map_err)?)?,
        client: row
            .try_get::<Option<String>, _>("client")
            .map_err(map_err)?
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("session client: {e}")))?,
    })
}

/// Stored factors (JSON, or NULL for sessions of before).
fn factors(json: Option<String>) -> Result<Vec<SatisfiedFactor>, StoreError> {
    json.map_or(Ok(Vec::new()), |json| {
        serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("session factors: {e}")))
    })
}

/// Factors as stored: NULL when there are none.
fn stored_factors(factors: &[SatisfiedFactor]) -> Option<String> {
    (!factors.is_empty()).then(|| serde_json::to_string(factors).unwrap_or_default())
}

impl SqlStore {
    /// The session whose `column` (`id` or `secret_hash`, both unique) equals `value`.
    async fn session_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<Session>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE {column} = $1"
        ))
        .bind(value)
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?
        .as_ref()
        .map(session)
        .transpose()
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(
        &self,
        s: &Session,
        max_per_user: Option<u32>,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        if self.backend() == Backend::Postgres {
            // One login of a user at a time across every instance, so the limit holds.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))::text")
                .bind(&s.user_id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        // (SQLite: the INSERT takes the database's write lock until commit.)
        sqlx::query(&format!(
            "INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&s.id)
        .bind(&s.user_id)
        .bind(s.device.user_agent.as_deref())
        .bind(s.device.ip.as_deref())
        .bind(s.device.name.as_deref())
        .bind(s.created_at)
        .bind(s.last_seen)
        .bind(s.expires_at)
        .bind(s.idle_timeout)
        .bind(s.secret_hash.as_deref())
        .bind(stored_factors(&s.factors))
        .bind(client_json(s.client.as_ref()))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut evicted = Vec::new();
        if let Some(max) = max_per_user {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 \
                 ORDER BY last_seen DESC, id ASC",
            )
            .bind(&s.user_id)
            .bind(&s.id)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            let keep = usize::try_from(max).unwrap_or(usize::MAX).saturating_sub(1);
            for id in ids.into_iter().skip(keep) {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                evicted.push(id);
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(evicted)
    }

    async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        self.session_where("id", id).await
    }

    async fn touch_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET last_seen = CASE WHEN last_seen > $2 THEN last_seen ELSE $2 END \
             WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_sessions(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY last_seen DESC, id ASC"
        ))
        .bind(user_id)
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?
        .iter()
        .map(session)
        .collect()
    }

    async fn delete_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let found = sqlx::query(&format!(
            "DELETE FROM sessions WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .fetch_optional(self.writes())
        .await
        .map_err(map_err)?;
        found.as_ref().map(session).transpose()
    }

    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2) RETURNING id",
        )
        .bind(user_id)
        .bind(keep)
        .fetch_all(self.writes())
        .await
        .map_err(map_err)
    }

    async fn find_session_by_secret(
        &self,
        secret_hash: &str,
    ) -> Result<Option<Session>, StoreError> {
        self.session_where("secret_hash", secret_hash).await
    }

    async fn set_session_secret(&self, id: &str, secret_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE sessions SET secret_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(secret_hash)
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_session_factors(
        &self,
        id: &str,
        factors: &[SatisfiedFactor],
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE sessions SET factors = $2 WHERE id = $1")
            .bind(id)
            .bind(stored_factors(factors))
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_ended_sessions(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        self.delete_at_most(
            "sessions",
            "id",
            "expires_at <= $1 OR last_seen + idle_timeout <= $1",
            &[now],
            limit,
        )
        .await
    }
}
