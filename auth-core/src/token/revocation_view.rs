//! A local view of the revocations, so verifying a token that nobody revoked costs no
//! network round trip.
//!
//! [`RevocationView`] wraps the shared [`RevocationStore`] and keeps every entry still in
//! force in memory. Revocations made here go to the store, into the view and onto the
//! [`ChangeBus`]; revocations made on other instances arrive over the bus. Checks answer from
//! memory while the view is known to be complete.
//!
//! **Staleness bound: 1 s.** A revocation on another instance is in force here as soon as
//! its bus message arrives (milliseconds on a LAN). Two things can keep a message from
//! arriving, and both are caught within a second:
//!
//! - *This instance's subscription drops or stops answering* its 500 ms heartbeat
//!   ([`Notice::Disconnected`]): the view stops answering and every check asks the store (so
//!   nothing revoked passes, and a store outage is a 503), until the bus is back and the view
//!   has reloaded ([`Notice::Resync`]).
//! - *The message was never sent* (the publishing instance lost its own connection to the
//!   bus, or died between writing and publishing): every revocation carries its number in the
//!   store's revocation sequence, and every 500 ms the view compares the store's number with
//!   the numbers it has applied. A gap still open at the next comparison means a missed
//!   message, and the view reloads from the store. A revocation is therefore in force
//!   everywhere at most two comparisons (1 s) and one reload after it was written, whether or
//!   not its message was delivered.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::revocation::{
    Revocation, RevocationCheck, RevocationSet, RevocationSnapshot, RevocationStore, UserCutoff,
};
use crate::clock::Clock;
use crate::error::StoreError;
use crate::invalidation::{Change, ChangeBus, Notice, Origin};

/// How often the view compares the store's revocation sequence with what it has applied.
const SEQUENCE_CHECK: Duration = Duration::from_millis(500);

/// Which revocation numbers the view has applied: every number up to `through`, and the
/// numbers in `ahead` (arrived out of order, waiting for the ones before them).
#[derive(Debug, Default)]
struct Applied {
    through: u64,
    ahead: BTreeSet<u64>,
}

impl Applied {
    fn mark(&mut self, seq: u64) {
        if seq <= self.through {
            return;
        }
        self.ahead.insert(seq);
        while self.ahead.remove(&(self.through + 1)) {
            self.through += 1;
        }
    }

    /// A reload made everything up to `sequence` applied.
    fn loaded(&mut self, sequence: u64) {
        self.through = self.through.max(sequence);
        let through = self.through;
        self.ahead.retain(|seq| *seq > through);
        while self.ahead.remove(&(self.through + 1)) {
            self.through += 1;
        }
    }
}

/// A [`RevocationStore`] that answers checks from memory, kept complete across instances by a
/// [`ChangeBus`] and the store's revocation sequence. See the module documentation for its
/// staleness bound.
pub struct RevocationView {
    store: Arc<dyn RevocationStore>,
    set: RwLock<RevocationSet>,
    /// Whether `set` holds every revocation in force (loaded, and the bus connected since).
    complete: AtomicBool,
    applied: Mutex<Applied>,
    bus: ChangeBus,
    origin: Origin,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RevocationView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationView")
            .field("store", &self.store)
            .field("complete", &self.is_complete())
            .field("applied_through", &self.applied().through)
            .finish_non_exhaustive()
    }
}

impl RevocationView {
    /// A view over `store` kept current through `bus`. It answers from the store until
    /// [`follow`](Self::follow) has loaded it.
    #[must_use]
    pub fn new(store: Arc<dyn RevocationStore>, bus: ChangeBus, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            set: RwLock::default(),
            complete: AtomicBool::new(false),
            applied: Mutex::default(),
            bus,
            origin: Origin::new(),
            clock,
        }
    }

    /// Whether checks are answered from memory right now.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    fn applied(&self) -> std::sync::MutexGuard<'_, Applied> {
        self.applied.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, seq: u64, revocation: Revocation) {
        self.set
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(revocation);
        self.applied().mark(seq);
    }

    /// Loads every revocation in force from the store; the view is complete afterwards.
    ///
    /// # Errors
    /// [`StoreError`]; the view then keeps asking the store.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let loaded = self.store.active(self.clock.now()).await?;
        let mut set = self.set.write().unwrap_or_else(PoisonError::into_inner);
        // Merge rather than replace: a change that arrived while loading stays.
        for revocation in loaded.set.iter() {
            set.insert(revocation);
        }
        self.applied().loaded(loaded.sequence);
        self.complete.store(true, Ordering::Release);
        Ok(())
    }

    /// Subscribes to the bus, loads the view, and keeps it current in a background task
    /// (ending when the view is dropped). Subscribing first means nothing published while
    /// loading is missed.
    pub fn follow(self: &Arc<Self>) -> JoinHandle<()> {
        let notices = self.bus.subscribe();
        let view = Arc::downgrade(self);
        tokio::spawn(keep_current(view, notices))
    }

    /// Applies a revocation written here, and tells the other instances. If the message does
    /// not get out, they find the gap in the sequence within the staleness bound.
    async fn record(&self, seq: u64, revocation: Revocation) {
        self.insert(seq, revocation.clone());
        self.bus
            .publish_or_warn(
                self.origin,
                Change::Revoked { seq, revocation },
                "through the revocation sequence, within a second",
            )
            .await;
    }

    /// Compares the store's revocation sequence with what the view has applied. `watch` is
    /// the store's number at the previous comparison if the view was behind it then; a view
    /// still behind that number now has missed a message, and stops answering until it has
    /// reloaded. Returns the number to watch next time.
    async fn check_sequence(&self, watch: Option<u64>) -> Option<u64> {
        // While the store does not answer, nobody can write a revocation to it either.
        let current = self.store.sequence().await.ok()?;
        let mut applied = self.applied();
        let store_reset = current < applied.through;
        let missed = watch.is_some_and(|seen| applied.through < seen);
        if store_reset || missed {
            if store_reset {
                *applied = Applied::default();
            }
            drop(applied);
            tracing::warn!(
                store_sequence = current,
                reset = store_reset,
                "revocation view missed a change (its message never arrived); reloading"
            );
            self.complete.store(false, Ordering::Release);
            return None;
        }
        (applied.through < current).then_some(current)
    }
}

async fn keep_current(view: Weak<RevocationView>, mut notices: broadcast::Receiver<Notice>) {
    let mut tick = tokio::time::interval(SEQUENCE_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Whether the bus delivers changes; loading while it does not would claim a completeness
    // the view cannot have.
    let mut connected = true;
    let mut watch = None;
    loop {
        if connected {
            let Some(view) = view.upgrade() else { return };
            if !view.is_complete() {
                watch = None;
                if view.reload().await.is_err() {
                    tracing::warn!("revocation view not loaded; checks ask the store");
                }
            }
        }
        let notice = tokio::select! {
            notice = notices.recv() => Some(notice),
            _ = tick.tick() => None,
        };
        let Some(view) = view.upgrade() else { return };
        match notice {
            None => {
                // A failed load is retried at the top of the loop.
                if connected && view.is_complete() {
                    watch = view.check_sequence(watch).await;
                }
            }
            Some(Ok(Notice::Change(envelope))) if envelope.origin != view.origin => {
                if let Change::Revoked { seq, revocation } = envelope.change {
                    view.insert(seq, revocation);
                }
            }
            Some(Ok(Notice::Disconnected)) => {
                connected = false;
                view.complete.store(false, Ordering::Release);
            }
            Some(Ok(Notice::Resync) | Err(broadcast::error::RecvError::Lagged(_))) => {
                connected = true;
                view.complete.store(false, Ordering::Release);
            }
            Some(Ok(_)) => {}
            Some(Err(broadcast::error::RecvError::Closed)) => return,
        }
    }
}

#[async_trait]
impl RevocationStore for RevocationView {
    async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<u64, StoreError> {
        let seq = self.store.revoke_token(jti, expires_at).await?;
        self.record(
            seq,
            Revocation::Token {
                jti: jti.to_owned(),
                expires_at,
            },
        )
        .await;
        Ok(seq)
    }

    async fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<u64, StoreError> {
        let seq = self.store.revoke_session(session_id, expires_at).await?;
        self.record(
            seq,
            Revocation::Session {
                id: session_id.to_owned(),
                expires_at,
            },
        )
        .await;
        Ok(seq)
    }

    async fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<u64, StoreError> {
        let seq = self.store.revoke_user(user_id, cutoff).await?;
        self.record(
            seq,
            Revocation::User {
                user_id: user_id.to_owned(),
                cutoff,
            },
        )
        .await;
        Ok(seq)
    }

    async fn sequence(&self) -> Result<u64, StoreError> {
        self.store.sequence().await
    }

    async fn is_revoked(&self, check: &RevocationCheck<'_>) -> Result<bool, StoreError> {
        if self.is_complete() {
            let set = self.set.read().unwrap_or_else(PoisonError::into_inner);
            return Ok(set.is_revoked(check));
        }
        self.store.is_revoked(check).await
    }

    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        self.set
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .purge(now);
        self.store.purge_expired(now, limit).await
    }

    async fn active(&self, now: i64) -> Result<RevocationSnapshot, StoreError> {
        self.store.active(now).await
    }
}

#[cfg(test)]
mod tests {
    use super::Applied;

    #[test]
    fn applied_numbers_close_their_gaps_in_any_order() {
        let mut applied = Applied::default();
        applied.mark(2);
        applied.mark(3);
        assert_eq!(applied.through, 0, "1 is missing");
        applied.mark(1);
        assert_eq!((applied.through, applied.ahead.len()), (3, 0));
        applied.mark(2);
        assert_eq!(applied.through, 3, "a repeat changes nothing");
        applied.mark(6);
        applied.loaded(4);
        assert_eq!(
            applied.through, 4,
            "the reload covers 4, 5 is still missing"
        );
        applied.mark(5);
        assert_eq!((applied.through, applied.ahead.len()), (6, 0));
        applied.loaded(2);
        assert_eq!(applied.through, 6, "an older snapshot never moves it back");
    }
}
