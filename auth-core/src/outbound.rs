//! Calls to other services (a resource server's issuer, the providers users sign in with, a
//! directory): one TLS configuration, and the HTTP client they go through.

use std::sync::Arc;

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the client: {0}")]
pub(crate) struct ClientError(String);

/// TLS by rustls with aws-lc-rs, trusting the Mozilla roots (webpki-roots) and the
/// certificate authorities of the PEM file `extra_roots` (a company CA).
pub(crate) fn tls_config(
    extra_roots: Option<&std::path::Path>,
) -> Result<rustls::ClientConfig, ClientError> {
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_roots {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::CertificateDer;
        let fail = |e: &dyn std::fmt::Display| ClientError(format!("{}: {e}", path.display()));
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| fail(&e))? {
            roots
                .add(cert.map_err(|e| fail(&e))?)
                .map_err(|e| fail(&e))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// An HTTP client for calls to another service: [`tls_config`] with the Mozilla roots, no
/// redirects followed (an answer is the endpoint's own, never one it points elsewhere to),
/// and a time limit.
#[cfg(any(feature = "remote", feature = "oidc"))]
pub(crate) fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_config(None)?)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| ClientError(e.to_string()))
}
