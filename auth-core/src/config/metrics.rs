//! `[metrics]`: the Prometheus endpoint.

use serde::{Deserialize, Serialize};

/// The Prometheus endpoint (auth-axum's feature `metrics`; the metrics are listed in
/// [`telemetry`](crate::telemetry)).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MetricsConfig {
    /// `AUTH__METRICS__ENABLED`: record metrics and serve them at `GET /metrics`. Default
    /// false.
    pub enabled: bool,
    /// `AUTH__METRICS__ADDRESS`: serve `/metrics` on this address of its own (for example
    /// `127.0.0.1:9100`, reachable by the scraper only) instead of beside the service's
    /// routes. Unset by default.
    pub address: Option<String>,
}

impl MetricsConfig {
    /// The address of its own, parsed.
    ///
    /// # Errors
    /// The parse error, when `AUTH__METRICS__ADDRESS` is not `ip:port`.
    pub fn address(&self) -> Result<Option<std::net::SocketAddr>, std::net::AddrParseError> {
        self.address.as_deref().map(str::parse).transpose()
    }
}
