//! Second factors over HTTP on a manual clock (so each TOTP code has a step of its own): the
//! service with its auth routes and a service's own guarded routes, and the user's
//! authenticator app.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a test harness fails loudly"
)]

use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::audit::AuditQuery;
use auth_axum::core::config::AuthConfig;
use auth_axum::core::mfa::{Totp, TotpSecret, TotpSettings};
use auth_axum::core::service::Stores;
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::{AuthService, Clock as _, ManualClock};
use auth_axum::{AuthModule, AuthRouter};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::{eventually, sqlite_url, test_config, TestServer};

/// The password of every user these tests register.
pub const PASSWORD: &str = "correct horse battery";

/// The service on a manual clock, its auth routes on 127.0.0.1.
#[derive(Debug)]
pub struct MfaApp {
    /// The server.
    pub server: TestServer,
    /// The service behind it.
    pub service: AuthService,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    /// A client.
    pub http: reqwest::Client,
}

impl MfaApp {
    /// The service on `database_url` with `config` and `clock`, serving `routes` and the
    /// auth routes.
    pub async fn start(
        database_url: &str,
        config: AuthConfig,
        clock: Arc<ManualClock>,
        routes: AuthRouter<AuthModule>,
    ) -> Self {
        let store = SqlStore::connect(database_url, SqlOptions::default())
            .await
            .unwrap();
        let service = AuthService::builder(config.clone())
            .with_stores(Stores::sql(store))
            .with_clock(clock.clone())
            .build()
            .unwrap();
        let module = AuthModule::new(service.clone(), config);
        let router = routes
            .with_auth_routes(64 * 1024)
            .into_router()
            .with_state(module);
        Self {
            server: TestServer::spawn(router).await,
            service,
            clock,
            http: reqwest::Client::new(),
        }
    }

    /// The auth routes on a fresh SQLite file in `dir`, the test configuration as `change`
    /// leaves it, a manual clock at the current time, and `routes` beside.
    pub async fn on_sqlite(
        dir: &std::path::Path,
        change: impl FnOnce(&mut AuthConfig),
        routes: AuthRouter<AuthModule>,
    ) -> Self {
        let url = sqlite_url(dir);
        let mut config = test_config(&url, dir);
        change(&mut config);
        let clock = Arc::new(ManualClock::starting_now());
        Self::start(&url, config, clock, routes).await
    }

    /// POSTs `body` as JSON, with `token` as bearer when given.
    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Response {
        let mut request = self.http.post(self.server.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// DELETE with a JSON body, as the bearer of `token`.
    pub async fn delete(&self, path: &str, body: Value, token: &str) -> Response {
        let request = self.http.delete(self.server.url(path)).json(&body);
        request.bearer_auth(token).send().await.unwrap()
    }

    /// GETs `path` as the bearer of `token`: the body of a 200.
    pub async fn get(&self, path: &str, token: &str) -> Value {
        let response = self
            .http
            .get(self.server.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.unwrap()
    }

    /// `POST /auth/login`: the body, after checking the status.
    pub async fn login(&self, name: &str) -> Value {
        let body = json!({"username": name, "password": PASSWORD});
        let response = self.post("/auth/login", body, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Registers `name` and logs in: the access token.
    pub async fn user(&self, name: &str) -> String {
        let body =
            json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD});
        let response = self.post("/auth/register", body, None).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        self.login(name).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Enrols and confirms TOTP for the bearer of `token`: the authenticator and the backup
    /// codes.
    pub async fn enable(&self, token: &str, name: &str) -> (Authenticator, Vec<String>) {
        let response = self
            .post("/auth/mfa/totp/enroll", json!({}), Some(token))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let enrollment: Value = response.json().await.unwrap();
        let mut app = Authenticator::new(&enrollment, name, self.clock.clone());
        let code = app.next_code();
        let response = self
            .post("/auth/mfa/totp/confirm", json!({"code": code}), Some(token))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        let codes = body["backup_codes"].as_array().unwrap();
        let codes = codes
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (app, codes)
    }

    /// A login of `name` answered with a challenge: its `mfa_token`.
    pub async fn challenge(&self, name: &str) -> String {
        let body = self.login(name).await;
        assert_eq!(body["mfa_required"], true, "{body}");
        body["mfa_token"].as_str().unwrap().to_owned()
    }

    /// `POST /auth/mfa/step-up` with `proof` (`{code}`, `{backup_code}`, `{password}`) as the
    /// bearer of `token`.
    pub async fn step_up(&self, token: &str, proof: Value) -> Response {
        self.post("/auth/mfa/step-up", proof, Some(token)).await
    }

    /// A step-up with `proof` that succeeds: the new access token.
    pub async fn stepped_up(&self, token: &str, proof: Value) -> String {
        stepped(self.step_up(token, proof).await).await
    }

    /// `POST /auth/mfa/verify` for `mfa_token` with `proof` (`{code}`, `{backup_code}`).
    pub async fn verify(&self, mfa_token: &str, proof: Value) -> Response {
        let mut body = proof;
        body["mfa_token"] = json!(mfa_token);
        self.post("/auth/mfa/verify", body, None).await
    }

    /// Whether the audit log holds an event of `kind` about `user` (waiting for it).
    pub async fn logged(&self, user: &str, kind: &str) -> bool {
        let query = AuditQuery::for_user(user).of_kind(kind);
        eventually(Duration::from_secs(5), || async {
            !self
                .service
                .audit_log(&query)
                .await
                .unwrap()
                .events
                .is_empty()
        })
        .await
    }
}

/// The user's authenticator app, reading the service's manual clock; each code it gives is
/// of a step after the last one, the clock moved on when needed.
#[derive(Debug)]
pub struct Authenticator {
    totp: Totp,
    clock: Arc<ManualClock>,
    last_step: Option<u64>,
}

impl Authenticator {
    /// The app that scanned `enrollment` for account `name`.
    #[must_use]
    pub fn new(enrollment: &Value, name: &str, clock: Arc<ManualClock>) -> Self {
        let secret = TotpSecret::from_base32(enrollment["secret"].as_str().unwrap()).unwrap();
        let totp = Totp::new(&TotpSettings::new("test"), secret, name).unwrap();
        Self {
            totp,
            clock,
            last_step: None,
        }
    }

    /// A fresh code: the clock moves to a new step when the current one was used.
    pub fn next_code(&mut self) -> String {
        let step = self.totp.step_at(self.clock.now());
        if self.last_step.is_some_and(|last| last >= step) {
            self.clock.advance(30);
        }
        self.last_step = Some(self.totp.step_at(self.clock.now()));
        self.totp.code_at(self.clock.now())
    }

    /// The code last given (a replay).
    #[must_use]
    pub fn last_code(&self) -> String {
        self.totp.code_at(self.clock.now())
    }
}

/// The claims of an access token, unverified.
#[must_use]
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The access token of a 200 step-up answer (no-store, a bearer token and its lifetime).
pub async fn stepped(response: Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (&body["token_type"], body["expires_in"].is_u64()),
        (&json!("Bearer"), true)
    );
    body["access_token"].as_str().unwrap().to_owned()
}

/// Asserts `response` is a problem of `status` and `code`; its body.
pub async fn problem(response: Response, status: StatusCode, code: &str) -> Value {
    let actual = response.status();
    let body: Value = response.json().await.unwrap_or_default();
    assert_eq!(actual, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    body
}
