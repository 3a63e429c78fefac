//! The framework's ready auth routes served on 127.0.0.1 over a fresh SQLite file (or a
//! given database), with mail going to an outbox in the same temporary folder: what the
//! account, identifier and policy suites talk to.

use std::path::PathBuf;

use auth_axum::core::config::AuthConfig;
use auth_axum::{AuthModule, AuthRouter};
use reqwest::{Client, Response};
use serde_json::{json, Value};

use crate::{sqlite_url, test_config, TestServer};

/// A running service: the server, its module, a client, and the outbox its mail lands in.
#[derive(Debug)]
pub struct AuthApp {
    /// The server.
    pub server: TestServer,
    /// The module behind it, for the service's own API.
    pub module: AuthModule,
    /// A client.
    pub http: Client,
    /// Where its mail lands (`AUTH__MAIL__OUTBOX`).
    pub outbox: PathBuf,
    /// Holds the SQLite file, the keys and the outbox.
    pub dir: tempfile::TempDir,
}

impl AuthApp {
    /// Starts on `database_url` (a fresh SQLite file when `None`), with the test
    /// configuration as `change` leaves it; links in mail point to `https://app.example.com`.
    pub async fn start(database_url: Option<String>, change: impl FnOnce(&mut AuthConfig)) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = database_url.unwrap_or_else(|| sqlite_url(dir.path()));
        let mut config = test_config(&url, dir.path());
        config.mail.outbox = dir.path().join("outbox");
        config.mail.link_base_url = "https://app.example.com/".to_owned();
        change(&mut config);
        let outbox = config.mail.outbox.clone();
        let module = AuthModule::configure(config).await.expect("module");
        let router = AuthRouter::new()
            .with_auth_routes(64 * 1024)
            .into_router()
            .with_state(module.clone());
        Self {
            server: TestServer::spawn(router).await,
            module,
            http: Client::new(),
            outbox,
            dir,
        }
    }

    /// POSTs `body` as JSON to `path`, with `token` as bearer when given.
    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut request = self.http.post(self.server.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// `POST /auth/register`.
    pub async fn register(&self, username: &str, email: &str, password: &str) -> Response {
        let body = json!({"username": username, "email": email, "password": password});
        self.post("/auth/register", &body, None).await
    }

    /// `POST /auth/login` with a username or an address.
    pub async fn login(&self, login: &str, password: &str) -> Response {
        let body = json!({"username": login, "password": password});
        self.post("/auth/login", &body, None).await
    }

    /// `POST /auth/login` sent through a proxy for `client_ip` (`X-Forwarded-For`; the
    /// service must trust 127.0.0.1 as a proxy to take it).
    pub async fn login_from(&self, login: &str, password: &str, client_ip: &str) -> Response {
        self.http
            .post(self.server.url("/auth/login"))
            .header("x-forwarded-for", client_ip)
            .json(&json!({"username": login, "password": password}))
            .send()
            .await
            .expect("request")
    }

    /// `POST /auth/password/reset`.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Response {
        let body = json!({"token": token, "new_password": new_password});
        self.post("/auth/password/reset", &body, None).await
    }
}
