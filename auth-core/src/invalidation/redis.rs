//! The Redis pub/sub transport of the change bus.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use super::{BusError, Envelope, Notice};
use crate::store::redis::{RedisConnection, RedisTarget};

/// How long to wait between attempts to resubscribe after the connection dropped.
const RETRY_MIN: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);
/// How often the subscription is pinged, and how long a ping may take.
const HEARTBEAT: Duration = Duration::from_millis(500);

pub(super) struct RedisBus {
    publisher: RedisConnection,
    channel: String,
    subscriber: JoinHandle<()>,
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        self.subscriber.abort();
    }
}

impl RedisBus {
    pub(super) async fn connect(
        target: &RedisTarget,
        channel: &str,
        tx: broadcast::Sender<Notice>,
    ) -> Result<Self, BusError> {
        let clients = target
            .nodes()
            .iter()
            .map(|url| redis::Client::open(url.as_str()))
            .collect::<Result<Vec<_>, _>>()?;
        let publisher = RedisConnection::connect(target, 2).await?;
        let (ready_tx, ready_rx) = oneshot::channel();
        let subscriber = tokio::spawn(subscribe_loop(
            clients,
            channel.to_owned(),
            tx,
            Some(ready_tx),
        ));
        match ready_rx.await {
            Ok(Ok(())) => Ok(Self {
                publisher,
                channel: channel.to_owned(),
                subscriber,
            }),
            Ok(Err(e)) => Err(e.into()),
            // The task ended without answering: it can only have panicked.
            Err(_) => Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "the change bus subscriber stopped",
            ))
            .into()),
        }
    }

    pub(super) async fn publish(&self, envelope: &Envelope) -> Result<(), BusError> {
        let payload = serde_json::to_string(envelope)?;
        let mut conn = self.publisher.clone();
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(payload)
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }
}

/// Subscribes, forwards every message, and on a dropped connection resubscribes with backoff
/// (to the next of `clients`, the nodes of a cluster: any of them hears every message) and
/// tells subscribers to resync. `ready` hears the outcome of the first attempt.
async fn subscribe_loop(
    clients: Vec<redis::Client>,
    channel: String,
    tx: broadcast::Sender<Notice>,
    mut ready: Option<oneshot::Sender<redis::RedisResult<()>>>,
) {
    let mut delay = RETRY_MIN;
    let mut attempt = 0usize;
    loop {
        let Some(client) = clients.get(attempt % clients.len().max(1)) else {
            if let Some(ready) = ready.take() {
                let _ = ready.send(Err(redis::RedisError::from((
                    redis::ErrorKind::InvalidClientConfig,
                    "no Redis node to subscribe on",
                ))));
            }
            return;
        };
        attempt = attempt.wrapping_add(1);
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        }
        .await;
        let pubsub = match (subscribed, ready.take()) {
            (Ok(pubsub), Some(ready)) => {
                let _ = ready.send(Ok(()));
                pubsub
            }
            // At the start, each node once before giving up.
            (Err(_), Some(waiting)) if attempt < clients.len() => {
                ready = Some(waiting);
                continue;
            }
            (Err(e), Some(ready)) => {
                let _ = ready.send(Err(e));
                return;
            }
            (Ok(pubsub), None) => {
                tracing::info!(%channel, "change bus: resubscribed to Redis; resyncing");
                let _ = tx.send(Notice::Resync);
                pubsub
            }
            (Err(e), None) => {
                tracing::warn!(%channel, error = %e, "change bus: Redis unreachable; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(RETRY_MAX);
                continue;
            }
        };
        delay = RETRY_MIN;
        let (mut sink, mut messages) = pubsub.split();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = messages.next() => {
                    let Some(msg) = msg else { break };
                    let envelope = msg
                        .get_payload::<String>()
                        .ok()
                        .and_then(|payload| serde_json::from_str::<Envelope>(&payload).ok());
                    match envelope {
                        Some(envelope) => {
                            let _ = tx.send(Notice::Change(envelope));
                        }
                        None => tracing::warn!(%channel, "change bus: ignoring a malformed message"),
                    }
                }
                _ = heartbeat.tick() => {
                    let pong = tokio::time::timeout(HEARTBEAT, sink.ping::<redis::Value>()).await;
                    if !matches!(pong, Ok(Ok(_))) {
                        break;
                    }
                }
            }
        }
        tracing::warn!(%channel, "change bus: Redis subscription lost; reconnecting");
        let _ = tx.send(Notice::Disconnected);
    }
}
