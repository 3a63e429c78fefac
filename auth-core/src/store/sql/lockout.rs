//! Failed-login counts of the lockout: one row per login name (client `''`) and per login
//! name and client.

use async_trait::async_trait;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::lockout::{Failures, LockoutStore, LoginRecord};

/// The record of the rows `client, failures, last_failure, last_success` read or written for a
/// login name and `client`, failures forgotten `forget_after` seconds after the last one.
fn record_of(
    rows: &[sqlx::any::AnyRow],
    client: &str,
    now: i64,
    forget_after: i64,
) -> Result<LoginRecord, StoreError> {
    let mut record = LoginRecord::default();
    for row in rows {
        let count: i64 = row.try_get("failures").map_err(map_err)?;
        let last: i64 = row.try_get("last_failure").map_err(map_err)?;
        let failures = Failures::as_of(count, last, now, forget_after);
        let row_client: String = row.try_get("client").map_err(map_err)?;
        if row_client.is_empty() {
            record.account = failures;
        } else if row_client == client {
            record.client = failures;
            record.client_success = row.try_get("last_success").map_err(map_err)?;
        }
    }
    Ok(record)
}

#[async_trait]
impl LockoutStore for SqlStore {
    async fn record(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError> {
        let rows = sqlx::query(
            "SELECT client, failures, last_failure, last_success FROM login_failures \
             WHERE account = $1 AND (client = '' OR client = $2)",
        )
        .bind(account)
        .bind(client)
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        record_of(&rows, client, now, forget_after)
    }

    async fn record_failure(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError> {
        // Both rows in one statement; a count whose last failure is older than the cut-off
        // starts again at 1.
        let rows = sqlx::query(
            "INSERT INTO login_failures (account, client, failures, last_failure) \
             VALUES ($1, '', 1, $2), ($1, $3, 1, $2) \
             ON CONFLICT (account, client) DO UPDATE SET \
             failures = CASE WHEN login_failures.failures > 0 \
               AND login_failures.last_failure >= $4 \
               THEN login_failures.failures + 1 ELSE 1 END, \
             last_failure = excluded.last_failure \
             RETURNING client, failures, last_failure, last_success",
        )
        .bind(account)
        .bind(now)
        .bind(client)
        .bind(now.saturating_sub(forget_after))
        .fetch_all(self.writes())
        .await
        .map_err(map_err)?;
        record_of(&rows, client, now, forget_after)
    }

    async fn record_success(
        &self,
        account: &str,
        client: &str,
        now: i64,
        _remember: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_failures (account, client, failures, last_failure, last_success) \
             VALUES ($1, $2, 0, 0, $3) \
             ON CONFLICT (account, client) DO UPDATE SET failures = 0, \
             last_success = excluded.last_success",
        )
        .bind(account)
        .bind(client)
        .bind(now)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn forgive(&self, account: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE login_failures SET failures = 0 WHERE account = $1 AND failures > 0",
        )
        .bind(account)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_stale(
        &self,
        failures_before: i64,
        successes_before: i64,
        limit: u64,
    ) -> Result<u64, StoreError> {
        self.delete_at_most(
            "login_failures",
            "account, client",
            "last_failure < $1 AND (last_success IS NULL OR last_success < $2)",
            &[failures_before, successes_before],
            limit,
        )
        .await
    }
}
