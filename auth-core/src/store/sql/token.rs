use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};
use crate::token::revocation::{
    Revocation, RevocationCheck, RevocationSet, RevocationSnapshot, RevocationStore, UserCutoff,
};

impl SqlStore {
    /// Runs one revocation write with the next number of the revocation sequence, in one
    /// transaction: the number is visible exactly when the entry is, and (the sequence row
    /// being locked until commit) numbers become visible in order.
    async fn numbered(&self, sql: &str, binds: RevocationBinds<'_>) -> Result<u64, StoreError> {
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        let sequence: i64 = sqlx::query_scalar(
            "UPDATE revocation_sequence SET seq = seq + 1 WHERE id = 1 RETURNING seq",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let query = sqlx::query(sql).bind(binds.key);
        let query = match binds.cutoff {
            Some(c) => query
                .bind(c.issued_before)
                .bind(c.epoch_below)
                .bind(c.expires_at),
            None => query.bind(binds.expires_at),
        };
        query.execute(&mut *tx).await.map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        u64::try_from(sequence).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// The values of one revocation row: its key, and its expiry or user cut-off.
struct RevocationBinds<'a> {
    key: &'a str,
    expires_at: i64,
    cutoff: Option<UserCutoff>,
}

#[async_trait]
impl RevocationStore for SqlStore {
    async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<u64, StoreError> {
        self.numbered(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO NOTHING",
            RevocationBinds {
                key: jti,
                expires_at,
                cutoff: None,
            },
        )
        .await
    }

    async fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<u64, StoreError> {
        self.numbered(
            "INSERT INTO revoked_sessions (session_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (session_id) DO UPDATE SET expires_at = CASE \
             WHEN excluded.expires_at > revoked_sessions.expires_at THEN excluded.expires_at \
             ELSE revoked_sessions.expires_at END",
            RevocationBinds {
                key: session_id,
                expires_at,
                cutoff: None,
            },
        )
        .await
    }

    async fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<u64, StoreError> {
        // A later cut-off never moves an earlier one back (CASE, because SQLite has no GREATEST).
        self.numbered(
            "INSERT INTO user_revocations (user_id, issued_before, epoch_below, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             issued_before = CASE WHEN excluded.issued_before > user_revocations.issued_before \
               THEN excluded.issued_before ELSE user_revocations.issued_before END, \
             epoch_below = CASE WHEN excluded.epoch_below > user_revocations.epoch_below \
               THEN excluded.epoch_below ELSE user_revocations.epoch_below END, \
             expires_at = CASE WHEN excluded.expires_at > user_revocations.expires_at \
               THEN excluded.expires_at ELSE user_revocations.expires_at END",
            RevocationBinds {
                key: user_id,
                expires_at: cutoff.expires_at,
                cutoff: Some(cutoff),
            },
        )
        .await
    }

    async fn sequence(&self) -> Result<u64, StoreError> {
        let sequence: i64 = sqlx::query_scalar("SELECT seq FROM revocation_sequence WHERE id = 1")
            .fetch_one(self.pool())
            .await
            .map_err(map_err)?;
        u64::try_from(sequence).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    async fn is_revoked(&self, check: &RevocationCheck<'_>) -> Result<bool, StoreError> {
        // One round trip for all three rules.
        let hits: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (\
               SELECT 1 AS hit FROM revoked_tokens WHERE jti = $1 \
               UNION ALL SELECT 1 FROM revoked_sessions WHERE session_id = $2 \
               UNION ALL SELECT 1 FROM user_revocations WHERE user_id = $3 \
                 AND (issued_before > $4 OR epoch_below > $5)\
             ) AS hits",
        )
        .bind(check.jti)
        .bind(check.session_id)
        .bind(check.user_id)
        .bind(check.issued_at)
        .bind(check.epoch)
        .fetch_one(self.pool())
        .await
        .map_err(map_err)?;
        Ok(hits > 0)
    }

    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        let mut purged = 0;
        for (table, key) in [
            ("revoked_tokens", "jti"),
            ("revoked_sessions", "session_id"),
            ("user_revocations", "user_id"),
        ] {
            purged += self
                .delete_at_most(table, key, "expires_at < $1", &[now], limit - purged)
                .await?;
        }
        Ok(purged)
    }

    async fn active(&self, now: i64) -> Result<RevocationSnapshot, StoreError> {
        // The number first: every revocation numbered up to it is committed, so the rows
        // read afterwards hold it (and perhaps later ones, which do no harm).
        let sequence = self.sequence().await?;
        let mut set = RevocationSet::default();
        let rows = sqlx::query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at >= $1")
            .bind(now)
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        for row in rows {
            set.insert(Revocation::Token {
                jti: row.try_get("jti").map_err(map_err)?,
                expires_at: row.try_get("expires_at").map_err(map_err)?,
            });
        }
        let rows = sqlx::query(
            "SELECT session_id, expires_at FROM revoked_sessions WHERE expires_at >= $1",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        for row in rows {
            set.insert(Revocation::Session {
                id: row.try_get("session_id").map_err(map_err)?,
                expires_at: row.try_get("expires_at").map_err(map_err)?,
            });
        }
        let rows = sqlx::query(
            "SELECT user_id, issued_before, epoch_below, expires_at FROM user_revocations \
             WHERE expires_at >= $1",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        for row in rows {
            set.insert(Revocation::User {
                user_id: row.try_get("user_id").map_err(map_err)?,
                cutoff: UserCutoff {
                    issued_before: row.try_get("issued_before").map_err(map_err)?,
                    epoch_below: row.try_get("epoch_below").map_err(map_err)?,
                    expires_at: row.try_get("expires_at").map_err(map_err)?,
                },
            });
        }
        Ok(RevocationSnapshot::new(set, sequence))
    }
}

fn family_from_row(row: &AnyRow, prefix: &str) -> Result<RefreshFamily, StoreError> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(RefreshFamily {
        id: row.try_get(col("id").as_str()).map_err(map_err)?,
        user_id: row.try_get(col("user_id").as_str()).map_err(map_err)?,
        created_at: row.try_get(col("created_at").as_str()).map_err(map_err)?,
        expires_at: row.try_get(col("expires_at").as_str()).map_err(map_err)?,
        revoked_at: row.try_get(col("revoked_at").as_str()).map_err(map_err)?,
        revoked_reason: row
            .try_get(col("revoked_reason").as_str())
            .map_err(map_err)?,
    })
}

const FAMILY_COLUMNS: &str = "id, user_id, created_at, expires_at, revoked_at, revoked_reason";

#[async_trait]
impl RefreshTokenStore for SqlStore {
    async fn create_family(
        &self,
        family: &RefreshFamily,
        first: &RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO refresh_families (id, user_id, created_at, expires_at, revoked_at, revoked_reason) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&family.id)
        .bind(&family.user_id)
        .bind(family.created_at)
        .bind(family.expires_at)
        .bind(family.revoked_at)
        .bind(family.revoked_reason.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        insert_token(&mut tx, first).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, RefreshFamily)>, StoreError> {
        let row = sqlx::query(
            "SELECT t.token_hash, t.family_id, t.issued_at, t.expires_at, t.used_at, \
             f.id AS f_id, f.user_id AS f_user_id, f.created_at AS f_created_at, \
             f.expires_at AS f_expires_at, f.revoked_at AS f_revoked_at, f.revoked_reason AS f_revoked_reason \
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let token = RefreshTokenRecord {
            token_hash: row.try_get("token_hash").map_err(map_err)?,
            family_id: row.try_get("family_id").map_err(map_err)?,
            issued_at: row.try_get("issued_at").map_err(map_err)?,
            expires_at: row.try_get("expires_at").map_err(map_err)?,
            used_at: row.try_get("used_at").map_err(map_err)?,
        };
        Ok(Some((token, family_from_row(&row, "f_")?)))
    }

    async fn rotate(
        &self,
        used_hash: &str,
        used_at: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        // Compare-and-swap: only the request that flips `used_at` from NULL wins.
        let won = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(used_at)
        .bind(used_hash)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected()
            == 1;
        if won {
            insert_token(&mut tx, successor).await?;
            tx.commit().await.map_err(map_err)?;
            return Ok(RotateOutcome::Rotated);
        }
        tx.rollback().await.map_err(map_err)?;
        let previous: Option<Option<i64>> =
            sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(used_hash)
                .fetch_optional(self.pool())
                .await
                .map_err(map_err)?;
        Ok(match previous {
            None => RotateOutcome::NotFound,
            Some(at) => RotateOutcome::AlreadyUsed {
                used_at: at.unwrap_or(used_at),
            },
        })
    }

    async fn get_family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        let sql = format!("SELECT {FAMILY_COLUMNS} FROM refresh_families WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(family_id)
            .fetch_optional(self.pool())
            .await
            .map_err(map_err)?;
        row.as_ref().map(|r| family_from_row(r, "")).transpose()
    }

    async fn revoke_family(
        &self,
        family_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE refresh_families SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(family_id)
        .bind(at)
        .bind(reason)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(result.rows_affected() > 0)
    }

    async fn revoke_user_families(
        &self,
        user_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "UPDATE refresh_families SET revoked_at = $2, revoked_reason = $3 \
             WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
        )
        .bind(user_id)
        .bind(at)
        .bind(reason)
        .fetch_all(self.writes())
        .await
        .map_err(map_err)
    }

    async fn list_user_families(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<RefreshFamily>, StoreError> {
        let sql = format!(
            "SELECT {FAMILY_COLUMNS} FROM refresh_families WHERE user_id = $1 AND revoked_at IS NULL \
             AND expires_at > $2 ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .bind(now)
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        rows.iter().map(|r| family_from_row(r, "")).collect()
    }

    async fn purge_expired_families(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        // The same ended families, in id order, for both statements: their tokens first
        // (they name them), then the families; one transaction.
        let ended = "SELECT id FROM refresh_families WHERE expires_at < $1 ORDER BY id LIMIT $2";
        let limit_param = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut tx = self.writes().begin().await.map_err(map_err)?;
        let mut purged = 0;
        for sql in [
            format!("DELETE FROM refresh_tokens WHERE family_id IN ({ended})"),
            format!("DELETE FROM refresh_families WHERE id IN ({ended})"),
        ] {
            purged += sqlx::query(&sql)
                .bind(now)
                .bind(limit_param)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        let tokens = self
            .delete_at_most(
                "refresh_tokens",
                "token_hash",
                "expires_at < $1",
                &[now],
                limit,
            )
            .await?;
        Ok(purged + tokens)
    }
}

async fn insert_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    token: &RefreshTokenRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&token.token_hash)
    .bind(&token.family_id)
    .bind(token.issued_at)
    .bind(token.expires_at)
    .bind(token.used_at)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}
