//! `[redis]`: the state several instances share.

use serde::{Deserialize, Serialize};

/// Redis settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `AUTH__REDIS__URL`: `redis://127.0.0.1:6379`; shared state stays in SQL when unset.
    /// With `cluster`, one or more nodes of the cluster, comma-separated
    /// (`redis://10.0.0.1:6379,redis://10.0.0.2:6379`).
    pub url: Option<String>,
    /// `AUTH__REDIS__CLUSTER`: the URL names nodes of a Redis Cluster. Default false.
    pub cluster: bool,
    /// `AUTH__REDIS__PREFIX`: prefix of every key and channel this service uses, so several
    /// services can share one Redis. Default `auth:`.
    pub prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            cluster: false,
            prefix: "auth:".to_owned(),
        }
    }
}

impl RedisConfig {
    /// Where the Redis is, when configured: [`RedisTarget`](crate::store::redis::RedisTarget)
    /// from `url` and `cluster`.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn target(&self) -> Option<crate::store::redis::RedisTarget> {
        self.url
            .as_deref()
            .map(|url| crate::store::redis::RedisTarget::from_url(url, self.cluster))
    }

    /// The pub/sub channel instances announce changes on: `<prefix>changes`.
    #[must_use]
    pub fn changes_channel(&self) -> String {
        format!("{}changes", self.prefix)
    }
}
