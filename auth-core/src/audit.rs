//! The audit log: every [`Event`] kept in the database (table `audit_events`), written by a
//! hook off the request path, and read back newest first with cursor pagination, by user,
//! kind and time. Rows older than `AUTH__AUDIT__RETENTION_DAYS` are purged by the scheduled
//! [`maintenance`](crate::maintenance).
//!
//! Backends of [`AuditStore`]: [`MemoryStore`](crate::store::MemoryStore) and
//! [`SqlStore`](crate::store::SqlStore) (with Redis configured the log stays in SQL).
//!
//! ```
//! use auth_core::audit::{AuditCursor, AuditQuery};
//!
//! let query = AuditQuery::for_user("user-1").with_limit(20);
//! assert_eq!(query.limit, 20);
//! let cursor = AuditCursor::new(1_800_000_000, "a1b2");
//! assert_eq!(AuditCursor::parse(&cursor.to_string()), Some(cursor));
//! assert_eq!(AuditCursor::parse("not a cursor"), None);
//! ```

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::StoreError;
use crate::events::{Event, EventHub};

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditEntry {
    /// Its id (a UUIDv7: later entries have greater ids).
    pub id: String,
    /// The event with its circumstances (serialized flat).
    #[serde(flatten)]
    pub event: Event,
}

impl AuditEntry {
    /// `event` under `id`.
    #[must_use]
    pub fn new(id: impl Into<String>, event: Event) -> Self {
        Self {
            id: id.into(),
            event,
        }
    }

    /// Where the next page starts when this entry is the last of one.
    #[must_use]
    pub fn cursor(&self) -> AuditCursor {
        AuditCursor::new(self.event.at, &self.id)
    }
}

/// A position in the log, newest first: entries strictly older than it (by time, then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    /// The time of the last entry seen.
    pub at: i64,
    /// Its id.
    pub id: String,
}

impl AuditCursor {
    /// The position of the entry `id` at `at`.
    #[must_use]
    pub fn new(at: i64, id: &str) -> Self {
        Self {
            at,
            id: id.to_owned(),
        }
    }

    /// Reads a cursor as [`Display`](fmt::Display) writes it (`<at>.<id>`); `None` for
    /// anything else.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (at, id) = text.split_once('.')?;
        let valid_id =
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        valid_id.then_some(())?;
        Some(Self::new(at.parse().ok()?, id))
    }
}

impl fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.at, self.id)
    }
}

/// The most entries one page holds.
pub const MAX_PAGE: usize = 200;

/// Which entries to read: all filters optional, newest first, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditQuery {
    /// Only events about this user.
    pub user_id: Option<String>,
    /// Only events of this kind (`login_failed`).
    pub kind: Option<String>,
    /// Only events at or after this time.
    pub since: Option<i64>,
    /// Only entries older than this position.
    pub before: Option<AuditCursor>,
    /// At most this many (1 to [`MAX_PAGE`]).
    pub limit: usize,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            user_id: None,
            kind: None,
            since: None,
            before: None,
            limit: 50,
        }
    }
}

impl AuditQuery {
    /// Every entry, 50 per page.
    #[must_use]
    pub fn all() -> Self {
        Self::default()
    }

    /// The entries about `user_id`.
    #[must_use]
    pub fn for_user(user_id: &str) -> Self {
        Self {
            user_id: Some(user_id.to_owned()),
            ..Self::default()
        }
    }

    /// Only events of `kind`.
    #[must_use]
    pub fn of_kind(mut self, kind: &str) -> Self {
        self.kind = Some(kind.to_owned());
        self
    }

    /// Only events at or after `since`.
    #[must_use]
    pub fn since(mut self, since: i64) -> Self {
        self.since = Some(since);
        self
    }

    /// The page after `cursor`.
    #[must_use]
    pub fn after(mut self, cursor: AuditCursor) -> Self {
        self.before = Some(cursor);
        self
    }

    /// At most `limit` entries (clamped to 1 to [`MAX_PAGE`]).
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE);
        self
    }
}

/// A page of the log and where the next one starts (none after the last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditPage {
    /// The entries, newest first.
    pub events: Vec<AuditEntry>,
    /// The cursor of the next page, when there may be one.
    pub next_cursor: Option<String>,
}

impl AuditPage {
    /// The page of `entries` read for a query of `limit`.
    #[must_use]
    pub fn of(entries: Vec<AuditEntry>, limit: usize) -> Self {
        let next_cursor = (entries.len() >= limit)
            .then(|| entries.last().map(|e| e.cursor().to_string()))
            .flatten();
        Self {
            events: entries,
            next_cursor,
        }
    }
}

/// Where the audit log is kept.
#[async_trait]
pub trait AuditStore: Send + Sync + fmt::Debug + 'static {
    /// Adds an entry.
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// The entries `query` selects, newest first (by time, then id).
    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// Deletes at most `limit` entries older than `before`; how many (fewer than `limit` once
    /// none is left).
    async fn purge_before(&self, before: i64, limit: u64) -> Result<u64, StoreError>;
}

/// Writes every event of `hub` to `store` (a hook, so off the request path). Entries older
/// than `AUTH__AUDIT__RETENTION_DAYS` are purged by the scheduled
/// [`maintenance`](crate::maintenance).
pub fn record(hub: &EventHub, store: Arc<dyn AuditStore>) {
    hub.on_any(move |event| {
        let store = Arc::clone(&store);
        async move {
            // UUIDv7: ordered by creation (milliseconds, then a counter), so entries of one
            // second keep the order they were written in.
            let entry = AuditEntry::new(uuid::Uuid::now_v7().simple().to_string(), event);
            if let Err(e) = store.append(&entry).await {
                tracing::error!(error = %e, kind = entry.event.event.kind(), "an audit entry was not written");
            }
        }
    });
}
