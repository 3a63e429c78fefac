//! One connection type over a single Redis and a Redis Cluster, so that every store and the
//! change bus run the same commands on either.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// How long connecting and each reply may take, on either kind.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Where the Redis is: one server, or the seed nodes of a cluster (any of its nodes; the rest
/// are discovered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One Redis server (`redis://host:port/db`).
    Single(String),
    /// A Redis Cluster, by one or more of its nodes (`redis://host:port`).
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// The target `AUTH__REDIS__URL` and `AUTH__REDIS__CLUSTER` describe: with `cluster`, `url`
    /// is a comma-separated list of seed nodes.
    #[must_use]
    pub fn from_url(url: &str, cluster: bool) -> Self {
        if cluster {
            Self::Cluster(
                url.split(',')
                    .map(str::trim)
                    .filter(|node| !node.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        } else {
            Self::Single(url.trim().to_owned())
        }
    }

    /// The servers to try, in order: the one server, or the cluster's seed nodes.
    #[must_use]
    pub fn nodes(&self) -> &[String] {
        match self {
            Self::Single(url) => std::slice::from_ref(url),
            Self::Cluster(nodes) => nodes,
        }
    }

    /// Whether this is a cluster.
    #[must_use]
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

/// A multiplexed connection that reconnects by itself: to one server, or to every node of a
/// cluster, each command routed to the node that holds its key's slot.
#[derive(Clone)]
pub(crate) enum RedisConnection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Connects to `target`, a failed attempt retried `retries` times.
    pub(crate) async fn connect(target: &RedisTarget, retries: usize) -> redis::RedisResult<Self> {
        match target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(TIMEOUT))
                    .set_response_timeout(Some(TIMEOUT))
                    .set_number_of_retries(retries)
                    .set_max_delay(Duration::from_secs(1));
                Ok(Self::Single(
                    client.get_connection_manager_with_config(config).await?,
                ))
            }
            RedisTarget::Cluster(nodes) => {
                let client = ClusterClientBuilder::new(nodes.iter().map(String::as_str))
                    .connection_timeout(TIMEOUT)
                    .response_timeout(TIMEOUT)
                    .retries(u32::try_from(retries).unwrap_or(u32::MAX))
                    .build()?;
                Ok(Self::Cluster(client.get_async_connection().await?))
            }
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}
