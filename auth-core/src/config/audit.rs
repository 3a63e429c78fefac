//! `[audit]`: the audit log.

use serde::{Deserialize, Serialize};

/// The audit log (see [`audit`](crate::audit)).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditConfig {
    /// `AUTH__AUDIT__ENABLED`: keep every event in the database. Default true.
    pub enabled: bool,
    /// `AUTH__AUDIT__RETENTION_DAYS`: entries older than this are purged by the scheduled
    /// [`maintenance`](crate::maintenance); 0 keeps them all. Default 365.
    pub retention_days: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            retention_days: 365,
        }
    }
}
