//! The audit log: one row per event, its fields as columns and the event itself as JSON.

use async_trait::async_trait;
use sqlx::Row;

use super::{map_err, SqlStore};
use crate::audit::{AuditEntry, AuditQuery, AuditStore};
use crate::error::StoreError;
use crate::events::{AuthEvent, Event};

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    let data: String = row.try_get("data").map_err(map_err)?;
    let event: AuthEvent = serde_json::from_str(&data)
        .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?;
    let mut event = Event::new(event, row.try_get("at").map_err(map_err)?);
    event.client_ip = row.try_get("client_ip").map_err(map_err)?;
    event.user_agent = row.try_get("user_agent").map_err(map_err)?;
    event.actor = row.try_get("actor").map_err(map_err)?;
    event.actor_session = row.try_get("actor_session").map_err(map_err)?;
    Ok(AuditEntry::new(
        row.try_get::<String, _>("id").map_err(map_err)?,
        event,
    ))
}

/// A value bound to the next `$n` of a query built piece by piece.
enum Value<'a> {
    Text(&'a str),
    Int(i64),
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let event = &entry.event;
        let data = serde_json::to_string(&event.event)
            .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?;
        sqlx::query(
            "INSERT INTO audit_events (id, at, kind, user_id, actor, client_ip, user_agent, \
             actor_session, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&entry.id)
        .bind(event.at)
        .bind(event.event.kind())
        .bind(event.event.user_id())
        .bind(event.actor.as_deref())
        .bind(event.client_ip.as_deref())
        .bind(event.user_agent.as_deref())
        .bind(event.actor_session.as_deref())
        .bind(data)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = String::from(
            "SELECT id, at, kind, user_id, actor, client_ip, user_agent, actor_session, data \
             FROM audit_events WHERE 1 = 1",
        );
        let mut values: Vec<Value<'_>> = Vec::new();
        let mut condition = |sql: &mut String, template: &str, value| {
            values.push(value);
            sql.push_str(&template.replace('?', &format!("${}", values.len())));
        };
        if let Some(user) = &query.user_id {
            condition(&mut sql, " AND user_id = ?", Value::Text(user));
        }
        if let Some(kind) = &query.kind {
            condition(&mut sql, " AND kind = ?", Value::Text(kind));
        }
        if let Some(since) = query.since {
            condition(&mut sql, " AND at >= ?", Value::Int(since));
        }
        if let Some(cursor) = &query.before {
            condition(&mut sql, " AND (at < ?", Value::Int(cursor.at));
            condition(&mut sql, " OR (at = ?", Value::Int(cursor.at));
            condition(&mut sql, " AND id < ?))", Value::Text(&cursor.id));
        }
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        condition(
            &mut sql,
            " ORDER BY at DESC, id DESC LIMIT ?",
            Value::Int(limit),
        );
        let mut statement = sqlx::query(&sql);
        for value in values {
            statement = match value {
                Value::Text(text) => statement.bind(text),
                Value::Int(int) => statement.bind(int),
            };
        }
        let rows = statement.fetch_all(self.pool()).await.map_err(map_err)?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn purge_before(&self, before: i64, limit: u64) -> Result<u64, StoreError> {
        self.delete_at_most("audit_events", "id", "at < $1", &[before], limit)
            .await
    }
}
