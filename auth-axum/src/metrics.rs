//! Prometheus metrics (feature `metrics`): the recorder of what the runtime and the routes
//! count ([`auth_core::telemetry`] lists them), and `GET /metrics` in the Prometheus text
//! format, beside the service's routes or on an address of its own
//! (`AUTH__METRICS__ADDRESS`).
//!
//! ```no_run
//! # async fn run(module: auth_axum::AuthModule, app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = auth_axum::metrics::install()?;
//! let app = match module.config().metrics.address()? {
//!     // A listener of its own, for the scraper only.
//!     Some(addr) => {
//!         auth_axum::metrics::serve(addr, metrics).await?;
//!         app
//!     }
//!     None => app.merge(auth_axum::metrics::router(metrics)),
//! };
//! # let _ = app; Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::task::JoinHandle;

/// Why the recorder could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("the metrics recorder could not be installed: {0}")]
pub struct MetricsError(String);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's `metrics` recorder (once; later calls
/// return the same handle) and describes every metric of [`auth_core::telemetry::METRICS`].
///
/// # Errors
/// [`MetricsError`] when another recorder was installed first.
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    // Histograms, not summaries (summaries do not add up across instances). The hashing
    // wait: from a free slot (0) to the seconds of a storm.
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("auth_password_hash_wait_seconds".to_owned()),
            &[0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
        )
        .map_err(|e| MetricsError(e.to_string()))?
        // Store operations: from an in-memory answer (tens of microseconds) to a struggling
        // database.
        .set_buckets_for_metric(
            Matcher::Full("auth_store_duration_seconds".to_owned()),
            &[
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5,
            ],
        )
        .map_err(|e| MetricsError(e.to_string()))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| MetricsError(e.to_string()))?;
    for (name, help) in auth_core::telemetry::METRICS {
        metrics::describe_counter!(name, help);
    }
    let handle = HANDLE.get_or_init(|| handle);
    Ok(handle.clone())
}

/// `GET /metrics`: the metrics in the Prometheus text format.
pub fn router<S: Clone + Send + Sync + 'static>(handle: PrometheusHandle) -> Router<S> {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    handle.render(),
                )
            }
        }),
    )
}

/// Serves [`router`] alone on `addr` until the process ends.
///
/// # Errors
/// The I/O error when `addr` cannot be listened on.
pub async fn serve(addr: SocketAddr, handle: PrometheusHandle) -> std::io::Result<JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router::<()>(handle)).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    }))
}
