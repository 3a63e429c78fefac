//! A local view of the revocations, so verifying a token that nobody revoked costs no
//! network round trip.
//!
//! [`RevocationView`] wraps the shared [`RevocationStore`] (SQL) and keeps every entry still in
//! force in memory. Revocations made here go to the store, into the view and onto the
//! [`ChangeBus`]; revocations made on other instances arrive over the bus. Checks answer from
//! memory while the view is known to be complete.
//!
//! **Staleness bound.** A revocation on another instance is in force here as soon as its bus
//! message arrives (milliseconds on a LAN). When the bus connection drops or stops answering
//! its 500 ms heartbeat ([`Notice::Disconnected`]), the view stops answering and every check
//! asks the store (so nothing revoked passes, and a store outage is a 503), until the bus is
//! back and the view has reloaded from the store ([`Notice::Resync`]). A revocation can
//! therefore be missed for at most the time it takes to notice a dead connection: one
//! heartbeat interval plus its deadline, 1 s.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::revocation::{Revocation, RevocationCheck, RevocationSet, RevocationStore, UserCutoff};
use crate::clock::Clock;
use crate::invalidation::{Change, ChangeBus, Notice, Origin};
use crate::store::StoreError;

/// A [`RevocationStore`] that answers checks from memory, kept complete across instances by a
/// [`ChangeBus`]. See the module documentation for its staleness bound.
pub struct RevocationView {
    store: Arc<dyn RevocationStore>,
    set: RwLock<RevocationSet>,
    /// Whether `set` holds every revocation in force (loaded, and the bus connected since).
    complete: AtomicBool,
    bus: ChangeBus,
    origin: Origin,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RevocationView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationView")
            .field("store", &self.store)
            .field("complete", &self.is_complete())
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

    fn insert(&self, revocation: Revocation) {
        self.set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(revocation);
    }

    /// Loads every revocation in force from the store; the view is complete afterwards.
    ///
    /// # Errors
    /// [`StoreError`]; the view then keeps asking the store.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let loaded = self.store.active(self.clock.now()).await?;
        let mut set = self
            .set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Merge rather than replace: a change that arrived while loading stays.
        for revocation in loaded.iter() {
            set.insert(revocation);
        }
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

    async fn record(&self, revocation: Revocation) {
        self.insert(revocation.clone());
        // Other instances are disconnected from the same bus then, so they ask the store.
        self.bus
            .publish_or_warn(
                self.origin,
                Change::Revoked(revocation),
                "from the store, while the bus is down",
            )
            .await;
    }
}

async fn keep_current(view: Weak<RevocationView>, mut notices: broadcast::Receiver<Notice>) {
    let mut retry = tokio::time::interval(std::time::Duration::from_millis(500));
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Whether the bus delivers changes; loading while it does not would claim a completeness
    // the view cannot have.
    let mut connected = true;
    loop {
        let mut failed = false;
        if connected {
            let Some(view) = view.upgrade() else { return };
            if !view.is_complete() && view.reload().await.is_err() {
                tracing::warn!("revocation view not loaded; checks ask the store");
                failed = true;
            }
        }
        let notice = tokio::select! {
            notice = notices.recv() => notice,
            // Only after a failed load: retry now and then.
            _ = retry.tick(), if failed => continue,
        };
        let Some(view) = view.upgrade() else { return };
        match notice {
            Ok(Notice::Change(envelope)) if envelope.origin != view.origin => {
                if let Change::Revoked(revocation) = envelope.change {
                    view.insert(revocation);
                }
            }
            Ok(Notice::Disconnected) => {
                connected = false;
                view.complete.store(false, Ordering::Release);
            }
            Ok(Notice::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                connected = true;
                view.complete.store(false, Ordering::Release);
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[async_trait]
impl RevocationStore for RevocationView {
    async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        self.store.revoke_token(jti, expires_at).await?;
        self.record(Revocation::Token {
            jti: jti.to_owned(),
            expires_at,
        })
        .await;
        Ok(())
    }

    async fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<(), StoreError> {
        self.store.revoke_session(session_id, expires_at).await?;
        self.record(Revocation::Session {
            id: session_id.to_owned(),
            expires_at,
        })
        .await;
        Ok(())
    }

    async fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<(), StoreError> {
        self.store.revoke_user(user_id, cutoff).await?;
        self.record(Revocation::User {
            user_id: user_id.to_owned(),
            cutoff,
        })
        .await;
        Ok(())
    }

    async fn is_revoked(&self, check: &RevocationCheck<'_>) -> Result<bool, StoreError> {
        if self.is_complete() {
            let set = self
                .set
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return Ok(set.is_revoked(check));
        }
        self.store.is_revoked(check).await
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .purge(now);
        self.store.purge_expired(now).await
    }

    async fn active(&self, now: i64) -> Result<RevocationSet, StoreError> {
        self.store.active(now).await
    }
}
