//! Failed-login counts of the lockout.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::lockout::{Failures, LockoutStore, LoginRecord};

/// One key of the lockout: a login name (client `""`) or a login name and a client.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LockoutEntry {
    failures: Failures,
    success: Option<i64>,
}

/// The failures of `entry` at `now`, none once forgotten.
fn current(entry: Option<&LockoutEntry>, now: i64, forget_after: i64) -> Failures {
    entry.map_or_else(Failures::default, |e| {
        Failures::as_of(
            i64::from(e.failures.count),
            e.failures.last,
            now,
            forget_after,
        )
    })
}

fn key(account: &str, client: &str) -> (String, String) {
    (account.to_owned(), client.to_owned())
}

#[async_trait]
impl LockoutStore for MemoryStore {
    async fn record(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError> {
        let state = self.state();
        let pair = state.lockout.get(&key(account, client));
        Ok(LoginRecord {
            account: current(state.lockout.get(&key(account, "")), now, forget_after),
            client: current(pair, now, forget_after),
            client_success: pair.and_then(|e| e.success),
        })
    }

    async fn record_failure(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError> {
        let mut state = self.state();
        let mut bump = |key| {
            let entry: &mut LockoutEntry = state.lockout.entry(key).or_default();
            let before = current(Some(entry), now, forget_after);
            entry.failures = Failures {
                count: before.count.saturating_add(1),
                last: now,
            };
            *entry
        };
        let whole = bump(key(account, ""));
        let pair = bump(key(account, client));
        Ok(LoginRecord {
            account: whole.failures,
            client: pair.failures,
            client_success: pair.success,
        })
    }

    async fn record_success(
        &self,
        account: &str,
        client: &str,
        now: i64,
        _remember: i64,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let entry = state.lockout.entry(key(account, client)).or_default();
        entry.failures = Failures::default();
        entry.success = Some(now);
        Ok(())
    }

    async fn forgive(&self, account: &str) -> Result<bool, StoreError> {
        let mut forgiven = false;
        for ((name, _), entry) in &mut self.state().lockout {
            if name == account && entry.failures.count > 0 {
                entry.failures = Failures::default();
                forgiven = true;
            }
        }
        Ok(forgiven)
    }

    async fn purge_stale(
        &self,
        failures_before: i64,
        successes_before: i64,
        limit: u64,
    ) -> Result<u64, StoreError> {
        Ok(super::remove_at_most(
            &mut self.state().lockout,
            limit,
            |e| e.failures.last < failures_before && e.success.is_none_or(|s| s < successes_before),
        ))
    }
}
