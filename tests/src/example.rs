//! The example auth service (`auth_service::app`) on 127.0.0.1 over a fresh SQLite file, its
//! issuer its own address: what the provider's clients, resource servers and apexauthlib
//! talk to.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a test harness fails loudly"
)]

use auth_axum::core::config::AuthConfig;
use auth_axum::core::user::UserId;
use auth_axum::AuthModule;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::mfa::PASSWORD;
use crate::{sqlite_url, test_config, TestServer};

/// The running example service.
#[derive(Debug)]
pub struct ExampleService {
    /// The server.
    pub server: TestServer,
    /// Its module.
    pub module: AuthModule,
    /// Its address, which is its issuer (`http://127.0.0.1:PORT`).
    pub url: String,
    /// A client.
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl ExampleService {
    /// Starts it with the test configuration as `change` leaves it.
    pub async fn start(change: impl FnOnce(&mut AuthConfig)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(&sqlite_url(dir.path()), dir.path());
        config.provider.issuer = Some(url.clone());
        change(&mut config);
        let module = AuthModule::configure(config).await.unwrap();
        let app = auth_service::app(module.clone()).unwrap();
        Self {
            server: TestServer::serve(listener, app),
            module,
            url,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// Registers `name` (password [`PASSWORD`]), with `role` too when given: its id.
    pub async fn register(&self, name: &str, role: Option<&str>) -> String {
        let response = self
            .http
            .post(self.server.url("/auth/register"))
            .json(&json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let user: Value = response.json().await.unwrap();
        let id = user["id"].as_str().unwrap().to_owned();
        if let Some(role) = role {
            let service = self.module.service();
            service
                .assign_role(&UserId(id.clone()), role)
                .await
                .unwrap();
        }
        id
    }

    /// `POST /auth/login` as `name`: the token response.
    pub async fn login(&self, name: &str) -> Value {
        let response = self.post_login(name, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// `POST /auth/login` as `name` with a wrong `password`, refused with 401.
    pub async fn login_refused(&self, name: &str, password: &str) {
        let response = self.post_login(name, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    async fn post_login(&self, name: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.server.url("/auth/login"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .unwrap()
    }
}
