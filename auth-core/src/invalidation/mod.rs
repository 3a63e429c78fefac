//! Cross-instance invalidation: several instances of a service share one store, and a change
//! made on one (a policy rule added, a role redefined) must reach the in-memory views of the
//! others without a restart.
//!
//! A [`ChangeBus`] carries [`Change`]s between instances: [`ChangeBus::local`] within one
//! process, `ChangeBus::redis` (feature `redis`) between processes over Redis pub/sub. Each publisher stamps
//! its changes with an origin so it can skip its own. A subscriber that may have missed
//! messages (the Redis connection dropped, or it fell behind) receives [`Notice::Resync`] and
//! reloads everything from the store, so a missed message costs a reload, never a stale view.
//! Between losing the connection and getting it back they receive [`Notice::Disconnected`],
//! and views that must never be stale (revocations) ask the store meanwhile. The Redis
//! subscription is pinged every 500 ms with a 500 ms deadline, so even a connection that dies
//! silently is noticed within a second.
//!
//! ```
//! use auth_core::invalidation::{Change, ChangeBus, Notice, Origin};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::invalidation::BusError> {
//! let bus = ChangeBus::local();
//! let mut notices = bus.subscribe();
//! bus.publish(Origin::new(), Change::Roles).await?;
//! match notices.recv().await {
//!     Ok(Notice::Change(envelope)) => assert_eq!(envelope.change, Change::Roles),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok(()) }
//! ```

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
use crate::store::redis::RedisTarget;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many notices a slow subscriber may fall behind before it is told to resync.
const BACKLOG: usize = 1024;

/// Who published a change: subscribers skip changes of their own origin, which they have
/// already applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin(u64);

impl Origin {
    /// A fresh random origin, one per component that publishes.
    #[must_use]
    pub fn new() -> Self {
        Self(rand::random())
    }
}

impl Default for Origin {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether rules were added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyOp {
    /// Rules added.
    Add,
    /// Rules removed.
    Remove,
}

/// A change another instance must apply to its in-memory view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// casbin rules of one section (`p` or `g`) and type were added or removed; applied
    /// incrementally.
    Policy {
        /// Added or removed.
        op: PolicyOp,
        /// `p` or `g`.
        sec: String,
        /// The policy type, e.g. `p`, `g`, `g2`.
        ptype: String,
        /// The rules.
        rules: Vec<Vec<String>>,
    },
    /// The policies changed in a way that is not incremental: reload them all.
    PolicyReload,
    /// Stored role definitions changed: recompile the role hierarchy.
    Roles,
    /// A token, session or user's tokens were revoked.
    Revoked {
        /// The revocation's number in the store's revocation sequence: receivers notice a
        /// missed message as a gap.
        seq: u64,
        /// What was revoked.
        revocation: crate::token::revocation::Revocation,
    },
}

/// A change and who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The publisher.
    pub origin: Origin,
    /// The change.
    pub change: Change,
}

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A change, possibly of the subscriber's own origin.
    Change(Envelope),
    /// Changes may have been missed (the connection to Redis dropped and came back): reload
    /// everything from the store.
    Resync,
    /// The connection to Redis dropped or stopped answering: until [`Notice::Resync`], changes
    /// of other instances may not arrive, so views must ask the store instead.
    Disconnected,
}

/// Why a change could not be published or the bus could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// Redis refused or is unreachable.
    #[cfg(feature = "redis")]
    #[error("change bus: redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// A change could not be encoded.
    #[error("change bus: encoding: {0}")]
    Encode(#[from] serde_json::Error),
}

enum Backend {
    Local,
    #[cfg(feature = "redis")]
    Redis(self::redis::RedisBus),
}

struct Inner {
    tx: broadcast::Sender<Notice>,
    backend: Backend,
}

/// Carries [`Change`]s between the instances of a service. Cheap to clone; every clone is the
/// same bus.
#[derive(Clone)]
pub struct ChangeBus {
    inner: Arc<Inner>,
}

impl fmt::Debug for ChangeBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match self.inner.backend {
            Backend::Local => "local",
            #[cfg(feature = "redis")]
            Backend::Redis(_) => "redis",
        };
        f.debug_struct("ChangeBus")
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

impl ChangeBus {
    /// A bus within this process: for a single instance, and for tests that run several
    /// components side by side.
    #[must_use]
    pub fn local() -> Self {
        let (tx, _) = broadcast::channel(BACKLOG);
        Self {
            inner: Arc::new(Inner {
                tx,
                backend: Backend::Local,
            }),
        }
    }

    #[cfg(feature = "redis")]
    /// A bus over Redis pub/sub on `channel`, shared by every instance that connects to the
    /// same Redis and channel. Returns once subscribed, so nothing published afterwards is
    /// missed. If the connection drops later it reconnects by itself and subscribers get
    /// [`Notice::Resync`].
    ///
    /// # Errors
    /// [`BusError::Redis`] when Redis cannot be reached now.
    pub async fn redis(url: &str, channel: &str) -> Result<Self, BusError> {
        Self::redis_to(&RedisTarget::Single(url.to_owned()), channel).await
    }

    #[cfg(feature = "redis")]
    /// A bus over the pub/sub of one Redis or of a Redis Cluster (which delivers a message
    /// published on any node to subscribers on every node: the subscription is kept on one
    /// seed node, the next one taken when it fails).
    ///
    /// # Errors
    /// [`BusError::Redis`] when Redis cannot be reached now.
    pub async fn redis_to(target: &RedisTarget, channel: &str) -> Result<Self, BusError> {
        let (tx, _) = broadcast::channel(BACKLOG);
        let bus = self::redis::RedisBus::connect(target, channel, tx.clone()).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                tx,
                backend: Backend::Redis(bus),
            }),
        })
    }

    /// Publishes a change to every subscriber, in this process and (over Redis) in others.
    ///
    /// # Errors
    /// [`BusError`] when Redis cannot take it; the change is then applied here only, and
    /// other instances catch up on their next resync.
    pub async fn publish(&self, origin: Origin, change: Change) -> Result<(), BusError> {
        let envelope = Envelope { origin, change };
        match &self.inner.backend {
            Backend::Local => {
                // No subscriber is not an error: nobody needs to hear it.
                let _ = self.inner.tx.send(Notice::Change(envelope));
                Ok(())
            }
            #[cfg(feature = "redis")]
            Backend::Redis(bus) => bus.publish(&envelope).await,
        }
    }

    /// Publishes a change already made here; a failure is logged, not returned, with
    /// `catch_up`: how the other instances learn of the change without the notice.
    pub async fn publish_or_warn(&self, origin: Origin, change: Change, catch_up: &'static str) {
        let kind = match &change {
            Change::Policy { .. } | Change::PolicyReload => "policy",
            Change::Roles => "roles",
            Change::Revoked { .. } => "revocation",
        };
        if let Err(e) = self.publish(origin, change).await {
            tracing::warn!(error = %e, change = kind, catch_up, "change not published");
        }
    }

    /// A new subscription. A subscriber that falls more than 1 024 notices behind gets
    /// [`broadcast::error::RecvError::Lagged`]: treat it as [`Notice::Resync`].
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.inner.tx.subscribe()
    }
}
