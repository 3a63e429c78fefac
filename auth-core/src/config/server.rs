//! `[server]` and `[database]`: where the service listens and what it stores in.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// `AUTH__SERVER__BIND`: listen address. Default `127.0.0.1:8080`.
    pub bind: String,
    /// `AUTH__SERVER__BODY_LIMIT_BYTES`: largest accepted request body on auth routes. Default 16 KiB.
    pub body_limit_bytes: usize,
    /// `AUTH__SERVER__TRUSTED_PROXIES`: addresses or CIDR ranges of the proxies whose
    /// `Forwarded` / `X-Forwarded-For` headers name the client (`["10.0.0.0/8"]`). Default
    /// none: the socket peer is the client and those headers are ignored.
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            body_limit_bytes: 16 * 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// The parsed trusted proxies.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the entry that is neither an address nor a range.
    pub fn trusted_proxies(&self) -> Result<crate::client::TrustedProxies, ConfigError> {
        crate::client::TrustedProxies::parse(&self.trusted_proxies).map_err(|e| {
            ConfigError::Invalid {
                var: "AUTH__SERVER__TRUSTED_PROXIES",
                reason: e.to_string(),
            }
        })
    }

    /// The parsed listen address.
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.bind.parse().map_err(|_| ConfigError::Invalid {
            var: "AUTH__SERVER__BIND",
            reason: format!(
                "`{}` is not a socket address; write it as `127.0.0.1:8080`",
                self.bind
            ),
        })
    }
}

/// Database settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// `AUTH__DATABASE__URL`: `sqlite://path.db` (created if missing) or `postgres://...`.
    /// Default `sqlite://auth.db`.
    pub url: String,
    /// `AUTH__DATABASE__MAX_CONNECTIONS`: pool size. Default 10.
    pub max_connections: u32,
    /// `AUTH__DATABASE__ACQUIRE_TIMEOUT_SECONDS`: how long a request waits for a connection
    /// before the store is reported unavailable. Default 5.
    pub acquire_timeout_seconds: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://auth.db".to_owned(),
            max_connections: 10,
            acquire_timeout_seconds: 5,
        }
    }
}
