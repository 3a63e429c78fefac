//! `resource-server`: serve the example resource server on `AUTH__SERVER__BIND`
//! (127.0.0.1:8080), trusting the auth service at `AUTH__REMOTE__ISSUER`
//! (`AUTH__REMOTE__MODE=jwks` or `introspection` with `AUTH__REMOTE__CLIENT_ID` and
//! `AUTH__REMOTE__CLIENT_SECRET`).

use std::process::ExitCode;

use auth_axum::prelude::*;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    let config = AuthConfig::load().map_err(|e| format!("refusing to start: {e}"))?;
    if config.remote.issuer.is_none() {
        return Err(
            "refusing to start: set AUTH__REMOTE__ISSUER to the auth service's URL".to_owned(),
        );
    }
    let bind = config.server.bind_addr().map_err(|e| e.to_string())?;
    let module = AuthModule::configure(config)
        .await
        .map_err(|e| format!("refusing to start: {e}"))?;
    let app = resource_server::app(module).map_err(|e| format!("refusing to start: {e}"))?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    tracing::info!("resource-server ready on http://{bind}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
    .map_err(|e| e.to_string())
}
