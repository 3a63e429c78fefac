//! State that does not grow forever: a scheduled purge of what has ended.
//!
//! | table | deleted when |
//! |---|---|
//! | revocations | the tokens, sessions or cut-offs they block have expired |
//! | refresh-token families | past their absolute lifetime, with their tokens; expired tokens of live families too |
//! | sessions | ended: past their lifetime or idle timeout |
//! | one-time tokens | expired (a used one is deleted when used) |
//! | pending ceremonies | expired (sign-in, passkey and OAuth states) |
//! | lockout records | their failures forgotten (`AUTH__LOCKOUT__FORGET_MINUTES`) and their last success no longer remembered (`REMEMBER_CLIENTS_DAYS`) |
//! | counters | their window started over `AUTH__MAINTENANCE__COUNTER_RETENTION_HOURS` ago |
//! | API keys | revoked or expired over `AUTH__MAINTENANCE__API_KEY_RETENTION_DAYS` ago |
//! | audit rows | older than `AUTH__AUDIT__RETENTION_DAYS` (0 keeps them all) |
//!
//! A run deletes each table's rows in batches of `AUTH__MAINTENANCE__BATCH_SIZE`, at most
//! `MAX_BATCHES` of them per table, so no statement holds a table for long and a backlog is
//! worked off over several runs. Runs come every `INTERVAL_SECONDS`, on one instance at a
//! time: the one that holds the lease `maintenance` in the shared store ([`LeaseStore`]),
//! taken for one interval and renewed between tables, so a stopped instance's lease simply
//! runs out. What went is counted in the metric `auth_maintenance_purged_total` (label
//! `table`), runs in `auth_maintenance_runs_total` (label `outcome`: `done`, `skipped` while
//! another instance holds the lease, `failed`), through the `metrics` facade.
//!
//! Backends whose entries expire by themselves (Redis sessions, counters, lockout records and
//! pending states) report nothing to purge.
//!
//! ```
//! use auth_core::{AuthConfig, AuthService};
//! use auth_core::maintenance::Table;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = AuthService::builder(AuthConfig::default()).build()?;
//! // `None` while another instance holds the lease; here there is none.
//! if let Some(report) = auth.maintenance().run_once().await? {
//!     assert_eq!(report.purged(Table::Sessions), 0);
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::error::StoreError;
use crate::service::Stores;

/// Leases that let one of several instances do a job at a time.
#[async_trait]
pub trait LeaseStore: Send + Sync + fmt::Debug + 'static {
    /// Takes lease `name` for `holder` until `until`, when nobody holds it, its holder's time
    /// ran out by `now`, or `holder` holds it already (a renewal); whether `holder` holds it
    /// now. Of two instances asking at once, at most one gets it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError>;

    /// Gives lease `name` up, if `holder` holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}

/// What a run purges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Table {
    /// Token, session and user revocations.
    Revocations,
    /// Refresh-token families and their tokens.
    RefreshFamilies,
    /// Login sessions.
    Sessions,
    /// Password-reset, verification and MFA-challenge tokens.
    OneTimeTokens,
    /// Ceremonies between their start and finish.
    PendingStates,
    /// The lockout's failed logins.
    LoginFailures,
    /// Rate-limit and notice counters.
    Counters,
    /// API keys.
    ApiKeys,
    /// The audit log.
    Audit,
}

impl Table {
    /// Every table, in the order a run purges them.
    pub const ALL: [Self; 9] = [
        Self::Revocations,
        Self::RefreshFamilies,
        Self::Sessions,
        Self::OneTimeTokens,
        Self::PendingStates,
        Self::LoginFailures,
        Self::Counters,
        Self::ApiKeys,
        Self::Audit,
    ];

    /// Its name, as in the metric's `table` label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revocations => "revocations",
            Self::RefreshFamilies => "refresh_families",
            Self::Sessions => "sessions",
            Self::OneTimeTokens => "one_time_tokens",
            Self::PendingStates => "pending_states",
            Self::LoginFailures => "login_failures",
            Self::Counters => "counters",
            Self::ApiKeys => "api_keys",
            Self::Audit => "audit",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one run deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    purged: Vec<(Table, u64)>,
    failed: Vec<Table>,
}

impl PurgeReport {
    /// How many rows of `table` went.
    #[must_use]
    pub fn purged(&self, table: Table) -> u64 {
        self.purged
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, n)| n)
            .sum()
    }

    /// How many rows went in all.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.purged.iter().map(|(_, n)| n).sum()
    }

    /// The tables whose purge failed (their store answered with an error; the next run tries
    /// again).
    #[must_use]
    pub fn failed(&self) -> &[Table] {
        &self.failed
    }
}

/// How long things are kept, in seconds, and how runs are paced: from
/// `AUTH__MAINTENANCE__*`, `AUTH__AUDIT__RETENTION_DAYS` and `AUTH__LOCKOUT__*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Schedule {
    interval: u64,
    batch: u64,
    max_batches: u64,
    api_keys: i64,
    counters: i64,
    /// 0: audit rows are kept.
    audit: i64,
    forget_failures: i64,
    remember_successes: i64,
}

fn secs(value: u64, unit: u64) -> i64 {
    i64::try_from(value.saturating_mul(unit)).unwrap_or(i64::MAX)
}

impl Schedule {
    fn of(config: &AuthConfig) -> Self {
        let m = &config.maintenance;
        let forget_failures = secs(config.lockout.forget_minutes, 60);
        Self {
            interval: m.interval_seconds.max(1),
            batch: m.batch_size.max(1),
            max_batches: m.max_batches.max(1),
            api_keys: secs(m.api_key_retention_days, 86_400),
            counters: secs(m.counter_retention_hours, 3_600).max(forget_failures),
            audit: secs(config.audit.retention_days, 86_400),
            forget_failures,
            remember_successes: secs(config.lockout.remember_clients_days, 86_400),
        }
    }
}

/// The lease runs are done under.
const LEASE: &str = "maintenance";

/// The scheduled purge. Cheap to clone; [`spawn`](Self::spawn) starts the schedule,
/// [`run_once`](Self::run_once) runs now.
#[derive(Clone)]
pub struct Maintenance {
    stores: Stores,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    /// This instance's name in the lease.
    holder: Arc<str>,
}

impl fmt::Debug for Maintenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Maintenance")
            .field("schedule", &self.schedule)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

impl Maintenance {
    /// The purge of `stores` (their revocations, refresh tokens, sessions, one-time tokens,
    /// pending states, lockout records, counters, API keys, audit log, and the lease) under `config`'s retention and pacing, timed by `clock`.
    #[must_use]
    pub fn new(stores: Stores, config: &AuthConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            stores,
            schedule: Schedule::of(config),
            clock,
            holder: uuid::Uuid::new_v4().simple().to_string().into(),
        }
    }

    /// Runs once now, if this instance gets the lease: `None` while another instance holds
    /// it. A table whose store fails is named in [`PurgeReport::failed`]; the others are
    /// purged all the same.
    ///
    /// # Errors
    /// [`StoreError`] when the lease cannot be asked for.
    pub async fn run_once(&self) -> Result<Option<PurgeReport>, StoreError> {
        if !self.lease().await? {
            metrics::counter!("auth_maintenance_runs_total", "outcome" => "skipped").increment(1);
            return Ok(None);
        }
        let mut report = PurgeReport::default();
        for table in Table::ALL {
            match self.purge_table(table).await {
                Ok(purged) => report.purged.push((table, purged)),
                Err(e) => {
                    tracing::warn!(error = %e, %table, "maintenance: purge failed");
                    report.failed.push(table);
                }
            }
            // Renewed between tables: a long run keeps its lease.
            if !self.lease().await? {
                tracing::warn!("maintenance: the lease went to another instance mid-run");
                break;
            }
        }
        let outcome = if report.failed.is_empty() {
            "done"
        } else {
            "failed"
        };
        metrics::counter!("auth_maintenance_runs_total", "outcome" => outcome).increment(1);
        if report.total() > 0 {
            tracing::info!(
                purged = report.total(),
                ?report,
                "maintenance: purged ended state"
            );
        }
        Ok(Some(report))
    }

    /// Runs every `AUTH__MAINTENANCE__INTERVAL_SECONDS`, the first run one interval from
    /// now, until the task is aborted.
    #[must_use]
    pub fn spawn(&self) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let period = Duration::from_secs(this.schedule.interval);
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(e) = this.run_once().await {
                    metrics::counter!("auth_maintenance_runs_total", "outcome" => "failed")
                        .increment(1);
                    tracing::warn!(error = %e, "maintenance: the lease store failed; next run at the next interval");
                }
            }
        })
    }

    async fn lease(&self) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let until = now.saturating_add(secs(self.schedule.interval, 1));
        self.stores
            .leases
            .acquire_lease(LEASE, &self.holder, now, until)
            .await
    }

    /// Deletes `table`'s ended rows, batch by batch, up to the run's limit.
    async fn purge_table(&self, table: Table) -> Result<u64, StoreError> {
        let Schedule { batch, .. } = self.schedule;
        let mut purged = 0;
        for _ in 0..self.schedule.max_batches {
            let now = self.clock.now();
            let Some(went) = self.purge_batch(table, now, batch).await? else {
                break;
            };
            purged += went;
            metrics::counter!("auth_maintenance_purged_total", "table" => table.as_str())
                .increment(went);
            if went < batch {
                break;
            }
        }
        Ok(purged)
    }

    /// One batch of `table`; `None` when the table is kept (audit retention 0).
    async fn purge_batch(
        &self,
        table: Table,
        now: i64,
        batch: u64,
    ) -> Result<Option<u64>, StoreError> {
        let s = &self.stores;
        let keep = |seconds: i64| now.saturating_sub(seconds);
        Ok(Some(match table {
            Table::Revocations => s.revocations.purge_expired(now, batch).await?,
            Table::RefreshFamilies => s.refresh_tokens.purge_expired_families(now, batch).await?,
            Table::Sessions => s.sessions.purge_ended_sessions(now, batch).await?,
            Table::OneTimeTokens => s.one_time_tokens.purge_expired(now, batch).await?,
            Table::PendingStates => s.pending.purge_expired(now, batch).await?,
            Table::LoginFailures => {
                s.lockout
                    .purge_stale(
                        keep(self.schedule.forget_failures),
                        keep(self.schedule.remember_successes),
                        batch,
                    )
                    .await?
            }
            Table::Counters => {
                s.counters
                    .purge_stale(keep(self.schedule.counters), batch)
                    .await?
            }
            Table::ApiKeys => {
                s.api_keys
                    .purge_dead_keys(keep(self.schedule.api_keys), batch)
                    .await?
            }
            Table::Audit if self.schedule.audit == 0 => return Ok(None),
            Table::Audit => {
                s.audit
                    .purge_before(keep(self.schedule.audit), batch)
                    .await?
            }
        }))
    }
}
