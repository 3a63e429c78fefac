//! A test kit, in the spirit of Spring's `@WithMockUser`: an in-memory auth stack with a
//! controllable clock, tokens minted for any user, roles and permissions, and requests sent
//! straight into a router.
//!
//! ```
//! use auth_axum::prelude::*;
//! use auth_axum::testing::{MockUser, TestKit};
//! use axum::{routing::get, Router};
//!
//! #[require_roles("editor")]
//! async fn edit() -> &'static str {
//!     "edited"
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let kit = TestKit::new();
//! let app = Router::new().route("/edit", get(edit)).with_state(kit.module());
//!
//! let editor = MockUser::new("alice").with_roles(["editor"]);
//! assert_eq!(kit.get("/edit").as_user(&editor).send(&app).await.status, 200);
//! assert_eq!(kit.get("/edit").as_user(&MockUser::new("bob")).send(&app).await.status, 403);
//! assert_eq!(kit.get("/edit").send(&app).await.status, 401);
//!
//! // Ids come from a seeded generator: the same seed mints the same token id.
//! let claims = |kit: &TestKit| kit.module().service().tokens().verify(&kit.token(&editor), auth_axum::core::TokenType::Access);
//! assert_eq!(claims(&TestKit::with_seed(7)).unwrap().jti, claims(&TestKit::with_seed(7)).unwrap().jti);
//!
//! // Tokens expire on the kit's clock, not the wall clock.
//! let token = kit.token(&editor);
//! kit.clock().advance(31 * 60);
//! assert_eq!(kit.get("/edit").bearer(&token).send(&app).await.status, 401);
//! # }
//! ```

use std::fmt;
use std::sync::Arc;

use auth_core::authz::RoleSchema;
use auth_core::config::{AuthConfig, JwtAlgorithm};
use auth_core::mail::MemoryMailer;
use auth_core::random::SeededRandom;
use auth_core::service::Stores;
use auth_core::token::{JwtKey, KeySet, TokenSubject};
use auth_core::{AuthService, ManualClock};
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use secrecy::SecretString;
use tower::ServiceExt;

use crate::AuthModule;

/// A user to act as: id, roles, permissions, tenant.
#[derive(Debug, Clone)]
pub struct MockUser(TokenSubject);

impl MockUser {
    /// A user with this id, its own session, and no roles or permissions.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        let id = id.into();
        Self(TokenSubject::access(id.clone()).with_session(format!("test-session-{id}")))
    }

    /// Sets the roles.
    #[must_use]
    pub fn with_roles<I: IntoIterator<Item = S>, S: Into<String>>(self, roles: I) -> Self {
        Self(self.0.with_roles(roles))
    }

    /// Sets the direct permissions.
    #[must_use]
    pub fn with_permissions<I: IntoIterator<Item = S>, S: Into<String>>(
        self,
        permissions: I,
    ) -> Self {
        Self(self.0.with_permissions(permissions))
    }

    /// Sets the tenant.
    #[must_use]
    pub fn with_tenant(self, tenant: impl Into<String>) -> Self {
        Self(self.0.with_tenant(tenant))
    }
}

/// An in-memory auth stack on a manual clock. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct TestKit {
    module: AuthModule,
    clock: ManualClock,
    mail: Arc<MemoryMailer>,
}

impl Default for TestKit {
    fn default() -> Self {
        Self::new()
    }
}

/// A random secret for the kit's keys: tests never share signing keys.
fn random_secret() -> String {
    let (_, secret) =
        JwtKey::generate(JwtAlgorithm::HS256).unwrap_or_else(|e| panic!("test kit: {e}"));
    secrecy::ExposeSecret::expose_secret(&secret).to_owned()
}

impl TestKit {
    /// A fresh stack: in-memory stores, a random HS256 key, cheap Argon2 parameters, a clock
    /// standing at the current time that only moves when told to, and ids and tokens drawn
    /// from a generator seeded with 0 (see [`with_seed`](Self::with_seed)).
    ///
    /// # Panics
    /// If the system random generator fails.
    #[must_use]
    pub fn new() -> Self {
        Self::with_seed(0)
    }

    /// As [`new`](Self::new), with token ids, session ids and refresh tokens drawn from a
    /// generator seeded with `seed`: the same test run twice sees the same values.
    ///
    /// # Panics
    /// If the system random generator fails.
    #[must_use]
    pub fn with_seed(seed: u64) -> Self {
        let clock = ManualClock::starting_now();
        let mut config = AuthConfig::default();
        config.password.memory_kib = 1024;
        config.password.iterations = 1;
        let key = JwtKey::hmac(JwtAlgorithm::HS256, random_secret().as_bytes(), None)
            .unwrap_or_else(|e| panic!("test kit: {e}"));
        let keys = KeySet::new(key).unwrap_or_else(|e| panic!("test kit: {e}"));
        let mail = Arc::new(MemoryMailer::new());
        let service = AuthService::builder(config.clone())
            .with_stores(Stores::memory())
            .with_keys(keys, SecretString::from(random_secret()))
            .with_clock(Arc::new(clock.clone()))
            .with_random(Arc::new(SeededRandom::new(seed)))
            .with_mailer(mail.clone())
            .build()
            .unwrap_or_else(|e| panic!("test kit: {e}"));
        Self {
            module: AuthModule::new(service, config),
            clock,
            mail,
        }
    }

    /// The mail the flows sent (verification and password-reset links, notices), in memory.
    /// Delivery runs in the background: a message shows up shortly after the request that
    /// sent it.
    #[must_use]
    pub fn mail(&self) -> &MemoryMailer {
        &self.mail
    }

    /// Uses the hierarchy of a `#[derive(Roles)]` enum, like
    /// [`AuthModule::with_role_schema`] (and with its shape).
    ///
    /// # Errors
    /// [`RoleError`](auth_core::authz::RoleError) when the union has a cycle or an unknown
    /// parent.
    pub fn with_role_schema<R: RoleSchema>(mut self) -> Result<Self, auth_core::authz::RoleError> {
        self.module = self.module.with_role_schema::<R>()?;
        Ok(self)
    }

    /// The module, to use as (part of) the router state.
    #[must_use]
    pub fn module(&self) -> AuthModule {
        self.module.clone()
    }

    /// The clock every token and check reads.
    #[must_use]
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// A valid access token for `user`.
    ///
    /// # Panics
    /// If signing fails (it cannot with the kit's key).
    #[must_use]
    pub fn token(&self, user: &MockUser) -> String {
        self.module
            .service()
            .tokens()
            .issue(&user.0)
            .unwrap_or_else(|e| panic!("test kit: {e}"))
            .token
    }

    /// A request to send into a router.
    pub fn request(&self, method: Method, uri: &str) -> TestRequest {
        TestRequest {
            kit: self.clone(),
            method,
            uri: uri.to_owned(),
            headers: HeaderMap::new(),
            body: Vec::new(),
        }
    }

    /// A GET request.
    pub fn get(&self, uri: &str) -> TestRequest {
        self.request(Method::GET, uri)
    }

    /// A POST request.
    pub fn post(&self, uri: &str) -> TestRequest {
        self.request(Method::POST, uri)
    }
}

/// A request being built by a [`TestKit`].
#[must_use]
pub struct TestRequest {
    kit: TestKit,
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl fmt::Debug for TestRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRequest")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

impl TestRequest {
    /// Sends it as `user` (a fresh bearer token).
    pub fn as_user(self, user: &MockUser) -> Self {
        let token = self.kit.token(user);
        self.bearer(&token)
    }

    /// Sends it with this bearer token.
    ///
    /// # Panics
    /// If the token is not a valid header value.
    pub fn bearer(self, token: &str) -> Self {
        self.header(header::AUTHORIZATION.as_str(), &format!("Bearer {token}"))
    }

    /// Adds a header.
    ///
    /// # Panics
    /// If the name or value is not valid in a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = header::HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|e| panic!("test kit: {e}"));
        let value =
            header::HeaderValue::from_str(value).unwrap_or_else(|e| panic!("test kit: {e}"));
        self.headers.append(name, value);
        self
    }

    /// Sets a JSON body.
    pub fn json<T: serde::Serialize>(mut self, body: &T) -> Self {
        self.body = serde_json::to_vec(body).unwrap_or_else(|e| panic!("test kit: {e}"));
        self.header(header::CONTENT_TYPE.as_str(), "application/json")
    }

    /// Sets a raw body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends it into `router` (no network) and collects the response.
    ///
    /// # Panics
    /// If the request cannot be built or the body cannot be read.
    pub async fn send(self, router: &Router) -> TestResponse {
        let mut request = Request::builder().method(self.method).uri(&self.uri);
        if let Some(headers) = request.headers_mut() {
            headers.extend(self.headers);
        }
        let request = request
            .body(Body::from(self.body))
            .unwrap_or_else(|e| panic!("test kit: {e}"));
        let response = router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|e| panic!("test kit: {e}"))
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }
}

/// A collected response.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TestResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON.
    ///
    /// # Panics
    /// If it is not JSON.
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("test kit: body is not JSON: {e}"))
    }
}

impl AuthModule {
    /// An in-memory stack for tests (seed 002's `AuthModule.stub()`); see [`TestKit`] for
    /// minting tokens and moving the clock.
    #[must_use]
    pub fn stub() -> Self {
        TestKit::new().module()
    }
}
