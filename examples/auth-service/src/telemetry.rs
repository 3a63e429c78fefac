//! The process's `tracing` subscriber: logs (filtered by `RUST_LOG`, default `info`) and, with
//! the feature `otel` and `OTEL_EXPORTER_OTLP_ENDPOINT` set, every span (the framework's
//! `auth.flow` spans among them) exported to an OpenTelemetry collector over OTLP/HTTP with
//! JSON bodies, at `<endpoint>/v1/traces`, as service `OTEL_SERVICE_NAME` (default
//! `auth-service`).

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// Where logs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTo {
    /// Standard output (the service).
    Stdout,
    /// Standard error, so that standard output carries a command's data alone.
    Stderr,
}

/// The installed subscriber's exporter, flushed by [`Telemetry::shutdown`].
#[derive(Debug)]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

/// Why tracing could not be set up.
pub type TelemetryError = Box<dyn std::error::Error + Send + Sync>;

impl Telemetry {
    /// Installs the process's subscriber: logs to `log_to`, and spans to `otlp_endpoint` when
    /// given (feature `otel`; without it the endpoint is refused).
    ///
    /// # Errors
    /// When a subscriber is installed already, the endpoint is unusable, or the build lacks
    /// the feature `otel` but an endpoint is given.
    pub fn init(log_to: LogTo, otlp_endpoint: Option<&str>) -> Result<Self, TelemetryError> {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let logs = match log_to {
            LogTo::Stdout => tracing_subscriber::fmt::layer()
                // Plain text when the log goes to a file or a pipe.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .boxed(),
            LogTo::Stderr => tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .boxed(),
        };
        let registry = tracing_subscriber::registry().with(logs.with_filter(filter));
        #[cfg(feature = "otel")]
        {
            let (layer, provider) = match otlp_endpoint {
                Some(endpoint) => {
                    let (layer, provider) = otel::layer(endpoint)?;
                    (Some(layer), Some(provider))
                }
                None => (None, None),
            };
            registry.with(layer).try_init()?;
            Ok(Self { provider })
        }
        #[cfg(not(feature = "otel"))]
        {
            if otlp_endpoint.is_some() {
                return Err("OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build has no OpenTelemetry exporter: build with the feature `otel`".into());
            }
            registry.try_init()?;
            Ok(Self {})
        }
    }

    /// Exports what is still buffered and stops the exporter.
    pub fn shutdown(self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider {
            if let Err(e) = provider.shutdown() {
                eprintln!("the OpenTelemetry exporter did not shut down cleanly: {e}");
            }
        }
    }
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{Protocol, WithExportConfig as _};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::Layer;

    use super::TelemetryError;

    /// The layer exporting spans to `endpoint` (the collector's base URL), and its provider.
    pub(super) fn layer<S>(
        endpoint: &str,
    ) -> Result<(Box<dyn Layer<S> + Send + Sync>, SdkTracerProvider), TelemetryError>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build()?;
        let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "auth-service".to_owned());
        let provider = SdkTracerProvider::builder()
            // Exported in batches from a thread of the SDK's own, off the request path.
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name(name)
                    .build(),
            )
            .build();
        let tracer = provider.tracer("auth-service");
        let layer = tracing_opentelemetry::layer().with_tracer(tracer).boxed();
        Ok((layer, provider))
    }
}
