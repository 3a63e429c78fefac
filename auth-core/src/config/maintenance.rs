//! `[maintenance]`: the scheduled purge of state that has ended.

use serde::{Deserialize, Serialize};

/// The scheduled purge (see [`maintenance`](crate::maintenance)).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MaintenanceConfig {
    /// `AUTH__MAINTENANCE__ENABLED`: purge on a schedule in a service built by
    /// [`AuthStack::configure`](crate::AuthStack::configure). Default true.
    pub enabled: bool,
    /// `AUTH__MAINTENANCE__INTERVAL_SECONDS`: between two runs; one instance runs at a time,
    /// whichever holds the lease. Default 3600, at most a week.
    pub interval_seconds: u64,
    /// `AUTH__MAINTENANCE__BATCH_SIZE`: rows deleted by one statement. Default 500, at most
    /// 100,000.
    pub batch_size: u64,
    /// `AUTH__MAINTENANCE__MAX_BATCHES`: batches per table in one run; what is left waits for
    /// the next run. Default 100.
    pub max_batches: u64,
    /// `AUTH__MAINTENANCE__API_KEY_RETENTION_DAYS`: revoked or expired API keys stay (listed to
    /// their owner as revoked or expired) this long before they are deleted. Default 30.
    pub api_key_retention_days: u64,
    /// `AUTH__MAINTENANCE__COUNTER_RETENTION_HOURS`: counters whose window started longer ago
    /// (or `AUTH__LOCKOUT__FORGET_MINUTES` ago, if that is longer) are deleted; keep it above
    /// the longest window a service of yours counts in. Default 24.
    pub counter_retention_hours: u64,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_seconds: 3600,
            batch_size: 500,
            max_batches: 100,
            api_key_retention_days: 30,
            counter_retention_hours: 24,
        }
    }
}
