//! The authorization server over HTTP: the service with an ES256 key (so ID tokens can be
//! verified by anyone), a browser that does not follow redirects and keeps its cookies by
//! hand, and the client side of PKCE.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a test harness fails loudly"
)]

use std::collections::HashMap;

use auth_axum::core::config::{AuthConfig, JwtAlgorithm};
use auth_axum::core::token::JwtKey;
use auth_axum::core::user::UserId;
use auth_axum::AuthRouter;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::mfa::{MfaApp, PASSWORD};

/// Where the test clients' answers go (nothing listens there: the browser never follows).
pub const CALLBACK: &str = "http://127.0.0.1:9/callback";

/// The provider and a browser.
#[derive(Debug)]
pub struct Provider {
    /// The service, its clock and a JSON client.
    pub app: MfaApp,
    /// A browser that does not follow redirects.
    pub browser: reqwest::Client,
}

/// Signs with a fresh ES256 key (ID tokens need a public key).
pub fn es256(config: &mut AuthConfig) {
    let (_, pem) = JwtKey::generate(JwtAlgorithm::ES256).unwrap();
    config.jwt.algorithm = JwtAlgorithm::ES256;
    config.jwt.private_key = Some(pem);
    config.jwt.secret_key = None;
}

impl Provider {
    /// The service on a fresh SQLite file in `dir`, the test configuration as `change` leaves
    /// it.
    pub async fn start(dir: &std::path::Path, change: impl FnOnce(&mut AuthConfig)) -> Self {
        let app = MfaApp::on_sqlite(dir, change, AuthRouter::new()).await;
        Self {
            app,
            browser: browser(),
        }
    }

    /// The service with an ES256 key.
    pub async fn with_id_tokens(dir: &std::path::Path) -> Self {
        Self::start(dir, es256).await
    }

    /// Registers `name` (password [`PASSWORD`]) with the admin role: its access token.
    pub async fn admin(&self, name: &str) -> String {
        self.app.user(name).await;
        let user = self.user_id(name).await;
        self.app.service.assign_role(&user, "admin").await.unwrap();
        self.app.login(name).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The id of the user `name`.
    pub async fn user_id(&self, name: &str) -> UserId {
        self.app
            .service
            .users()
            .get_by_username(name)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// GETs `path` with no credentials: the JSON body.
    pub async fn public_json(&self, path: &str) -> Value {
        let response = self
            .browser
            .get(self.app.server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.unwrap()
    }

    /// `POST /oauth/register` with `body` as the bearer of `token`.
    pub async fn register_client(&self, token: Option<&str>, body: Value) -> Response {
        self.app.post("/oauth/register", body, token).await
    }

    /// A client registered by a fresh admin: the registration's answer.
    pub async fn client(&self, body: Value) -> Value {
        let admin = self
            .admin(&format!("admin{}", uuid::Uuid::new_v4().simple()))
            .await;
        let response = self.register_client(Some(&admin), body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// POSTs `form` to `path`, the client authenticated by HTTP Basic when `basic` is given.
    pub async fn form(&self, path: &str, form: &[(&str, &str)], basic: Option<&Value>) -> Response {
        let mut request = self.browser.post(self.app.server.url(path)).form(form);
        if let Some(client) = basic {
            let id = client["client_id"].as_str().unwrap();
            let secret = client["client_secret"].as_str().unwrap();
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }

    /// `POST /oauth/token` with `form`, the client `client` by HTTP Basic.
    pub async fn token(&self, client: &Value, form: &[(&str, &str)]) -> Response {
        self.form("/oauth/token", form, Some(client)).await
    }

    /// `GET /oauth/authorize?query` as the browser (with `cookies` when given).
    pub async fn authorize(&self, query: &[(&str, &str)], cookies: &str) -> Response {
        let mut request = self
            .browser
            .get(self.app.server.url("/oauth/authorize"))
            .query(query);
        if !cookies.is_empty() {
            request = request.header(COOKIE, cookies);
        }
        request.send().await.unwrap()
    }

    /// Submits the page `page` (an answer of the authorization endpoint) with `fields` and
    /// the cookies it set plus `cookies`.
    pub async fn submit(&self, page: Page, fields: &[(&str, &str)], cookies: &str) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("request", &page.request)];
        form.extend_from_slice(fields);
        let cookies = [page.cookies.as_str(), cookies]
            .iter()
            .filter(|c| !c.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("; ");
        self.browser
            .post(self.app.server.url("/oauth/authorize"))
            .header(COOKIE, cookies)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Runs the browser part for `name`: the authorization page, signing in and allowing.
    /// The `code` and `state` of the redirect, checked to go to `CALLBACK` with `iss`.
    pub async fn code_for(&self, name: &str, query: &[(&str, &str)]) -> HashMap<String, String> {
        let base = self.app.server.url("");
        sign_in_for_code(&self.browser, &base, name, query).await
    }
}

/// The browser part of the code flow at the service on `base` (`http://127.0.0.1:PORT`) for
/// `name` (password [`PASSWORD`]): the page, signing in, allowing; the redirect's query.
pub async fn sign_in_for_code(
    browser: &reqwest::Client,
    base: &str,
    name: &str,
    query: &[(&str, &str)],
) -> HashMap<String, String> {
    redirected(&sign_in_and_allow(browser, base, name, query).await)
}

/// The browser part of the code flow at the service on `base` for `name`: the page, signing
/// in, allowing; the answer (a redirect to the client).
pub async fn sign_in_and_allow(
    browser: &reqwest::Client,
    base: &str,
    name: &str,
    query: &[(&str, &str)],
) -> Response {
    let url = format!("{base}/oauth/authorize");
    let page = Page::of(browser.get(&url).query(query).send().await.unwrap()).await;
    browser
        .post(&url)
        .header(COOKIE, &page.cookies)
        .form(&[
            ("request", page.request.as_str()),
            ("username", name),
            ("password", PASSWORD),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap()
}

/// A browser that does not follow redirects.
#[must_use]
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An authorization page: its request id and the binding cookie it set.
#[derive(Debug, Clone)]
pub struct Page {
    /// The request id in its form.
    pub request: String,
    /// `name=value` of the cookie it set.
    pub cookies: String,
    /// The HTML.
    pub html: String,
}

impl Page {
    /// The page `response` shows (200 or 401), with its security headers checked.
    pub async fn of(response: Response) -> Self {
        assert!(
            matches!(response.status(), StatusCode::OK | StatusCode::UNAUTHORIZED),
            "{}",
            response.status()
        );
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        let cookies = cookies_of(&response);
        let html = response.text().await.unwrap();
        let request = field(&html, "request").expect("a request id in the page");
        Self {
            request,
            cookies,
            html,
        }
    }
}

/// The value of the hidden field `name` of `html`.
#[must_use]
pub fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// `name=value` of every cookie `response` sets, joined for a `Cookie` header.
#[must_use]
pub fn cookies_of(response: &Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The query of a 303 to [`CALLBACK`], with `iss` checked present.
#[must_use]
pub fn redirected(response: &Response) -> HashMap<String, String> {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    assert_eq!(
        format!("{}://{}{}", url.scheme(), url.authority(), url.path()),
        CALLBACK
    );
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert!(query.contains_key("iss"), "{location}");
    query
}

/// A PKCE verifier and its `S256` challenge, computed here as a client does.
#[must_use]
pub fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    (verifier, URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

/// A registration body for a client of the code flow redirecting to [`CALLBACK`].
#[must_use]
pub fn code_client(scope: &str, auth_method: &str) -> Value {
    json!({
        "client_name": "Notes <app>",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [CALLBACK],
        "scope": scope,
        "token_endpoint_auth_method": auth_method,
    })
}

/// An OAuth error answer of `status`: its `error`, with no caching.
pub async fn oauth_error(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert!(body["error_description"].is_string(), "{body}");
    body["error"].as_str().unwrap().to_owned()
}

/// HTTP Basic credentials, as a client sends them.
#[must_use]
pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}
