//! `[redis]`: the state several instances share.

use serde::{Deserialize, Serialize};

/// Redis settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `AUTH__REDIS__URL`: `redis://127.0.0.1:6379`; shared state stays in SQL when unset.
    pub url: Option<String>,
    /// `AUTH__REDIS__PREFIX`: prefix of every key and channel this service uses, so several
    /// services can share one Redis. Default `auth:`.
    pub prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            prefix: "auth:".to_owned(),
        }
    }
}

impl RedisConfig {
    /// The pub/sub channel instances announce changes on: `<prefix>changes`.
    #[must_use]
    pub fn changes_channel(&self) -> String {
        format!("{}changes", self.prefix)
    }
}
