//! `auth-service`: run the example auth service.
//!
//! ```text
//! auth-service                       serve (default), on AUTH__SERVER__BIND (127.0.0.1:8080)
//! auth-service routes                print the access-control matrix
//! auth-service users create USER EMAIL [ROLE...]
//!                                    register a user (password from AUTH_NEW_USER_PASSWORD or
//!                                    the first line of standard input)
//! auth-service grant-role USER ROLE  give a user a role (for example the first admin)
//! auth-service revoke-role USER ROLE take it back
//! auth-service deactivate-user USER  refuse the user's logins and end every session and token
//! auth-service reactivate-user USER  let the user log in again
//! auth-service unlock-user USER      forget the user's failed logins (the lockout)
//! auth-service clients create NAME [--grant G]... [--redirect-uri URI]... [--scope S]
//!                                    [--auth-method M]
//!                                    register an OAuth client; prints its JSON, with the
//!                                    secret this once
//! auth-service clients list          the registered OAuth clients (JSON)
//! ```
//!
//! The administration commands are the framework's own (`auth_core::admin`): a service's
//! binary offers them with the same few lines.

use std::process::ExitCode;

use auth_axum::core::admin::{self, AdminCommand};
use auth_axum::prelude::*;
use auth_service::telemetry::{LogTo, Telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    let prints_data = matches!(AdminCommand::parse(&strs), Some(Ok(c)) if c.prints_secret());
    // Standard output carries a command's JSON alone, for a script to read.
    let log_to = if prints_data {
        LogTo::Stderr
    } else {
        LogTo::Stdout
    };
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok();
    let telemetry = match Telemetry::init(log_to, endpoint.as_deref()) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("refusing to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = run(args).await;
    telemetry.shutdown();
    code
}

async fn run(args: Vec<String>) -> ExitCode {
    let config = match AuthConfig::load() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("refusing to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Some(command) = AdminCommand::parse(&args) {
        return match administer(&config, command).await {
            // A new client's secret goes to the operator, never into the log.
            Ok((done, true)) => {
                println!("{done}");
                ExitCode::SUCCESS
            }
            Ok((done, false)) => {
                tracing::info!("{done}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let usage = format!("usage: auth-service [serve | routes | {}]", admin::USAGE);
    let result = match args.as_slice() {
        [] | ["serve"] => serve(config).await,
        ["routes"] => {
            // The matrix needs no database: print it from an in-memory stack.
            auth_service::route_table().map(|table| print!("{table}"))
        }
        ["help" | "--help" | "-h"] => {
            println!("{usage}");
            Ok(())
        }
        _ => Err(usage),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: AuthConfig) -> Result<(), String> {
    let bind = config.server.bind_addr().map_err(|e| e.to_string())?;
    if !config.is_production() && config.mail.smtp_host.is_none() {
        // No mail server outside production: mail (password reset links) goes to files.
        tracing::info!(
            "mail is written to the outbox folder {} (AUTH__MAIL__OUTBOX), one .eml file per message",
            config.mail.outbox.display()
        );
    }
    let module = AuthModule::configure(config)
        .await
        .map_err(|e| format!("refusing to start: {e}"))?;
    let metrics = &module.config().metrics;
    if let (true, Ok(Some(addr))) = (metrics.enabled, metrics.address()) {
        let handle =
            auth_axum::metrics::install().map_err(|e| format!("refusing to start: {e}"))?;
        auth_axum::metrics::serve(addr, handle)
            .await
            .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
    }
    let app = auth_service::app(module).map_err(|e| format!("refusing to start: {e}"))?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("auth-service ready on http://{addr}");
    // Connect info gives sessions the client's IP address.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Runs an administration command on the service `config` describes: what it did, and
/// whether that holds a secret to print rather than log. With Redis configured the running
/// instances hear of it on the change bus; without, they read the same database.
async fn administer(
    config: &AuthConfig,
    command: Result<AdminCommand, admin::AdminError>,
) -> Result<(String, bool), String> {
    let command = command.map_err(|e| e.to_string())?;
    let service = AuthService::from_config(config)
        .await
        .map_err(|e| e.to_string())?
        .with_user_model::<auth_service::Member>();
    let done = command.run(&service).await.map_err(|e| e.to_string())?;
    Ok((done, command.prints_secret()))
}
