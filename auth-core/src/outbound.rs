//! Calls to other services (a resource server's issuer, the providers users sign in with):
//! one way to build the HTTP client they go through.

use std::sync::Arc;
use std::time::Duration;

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub(crate) struct ClientError(String);

/// An HTTP client for calls to another service: TLS by rustls with aws-lc-rs and the Mozilla
/// roots (webpki-roots), no redirects followed (an answer is the endpoint's own, never one
/// it points elsewhere to), and a time limit.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| ClientError(e.to_string()))
}
