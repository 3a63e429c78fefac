//! Signing in with another provider, over HTTP: this framework's own example service as the
//! upstream OpenID Connect provider (an ES256 key, its issuer its own address), and a relying
//! party (the auth routes on a manual clock) configured with it as the provider `corp`.
//! The browser follows no redirect: each hop is read and sent on by hand, cookies included.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a test harness fails loudly"
)]

use std::collections::HashMap;

use auth_axum::core::config::{AuthConfig, OidcProviderConfig};
use auth_axum::core::oauth::{GrantType, NewClient};
use auth_axum::core::user::UserId;
use auth_axum::AuthRouter;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::Value;

use crate::example::ExampleService;
use crate::mfa::MfaApp;
use crate::provider::{browser, es256, sign_in_and_allow};

/// Where the provider sends browsers back to (nothing listens there: the test carries each
/// answer to the relying party itself).
pub const REDIRECT_BASE: &str = "http://127.0.0.1:9";

/// The provider, a client registered there for the relying party, and the relying party.
#[derive(Debug)]
pub struct Federation {
    /// The upstream provider.
    pub idp: ExampleService,
    /// The relying party's client id there.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The relying party.
    pub rp: MfaApp,
    /// A browser that follows no redirect.
    pub browser: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A sign-in started at the relying party: the provider URL it redirected to, and the
/// binding cookie it set (`name=value`).
#[derive(Debug, Clone)]
pub struct Started {
    /// The provider's authorization URL.
    pub url: url::Url,
    /// `oauth_binding=...`.
    pub cookie: String,
    /// The whole `Set-Cookie` value.
    pub set_cookie: String,
}

impl Started {
    /// A query parameter of the authorization URL.
    #[must_use]
    pub fn param(&self, name: &str) -> String {
        self.url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }

    /// The authorization URL's query with `name` set to `value`.
    #[must_use]
    pub fn query_with(&self, name: &str, value: &str) -> Vec<(String, String)> {
        self.url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == name {
                    value.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect()
    }
}

impl Federation {
    /// The provider and a relying party whose provider `corp` is as `change` leaves it.
    pub async fn start(change: impl FnOnce(&mut OidcProviderConfig)) -> Self {
        Self::start_with(change, |_| {}).await
    }

    /// As [`start`](Self::start), the relying party's configuration as `rp` leaves it.
    pub async fn start_with(
        change: impl FnOnce(&mut OidcProviderConfig),
        rp: impl FnOnce(&mut AuthConfig),
    ) -> Self {
        let idp = ExampleService::start(es256).await;
        let client = NewClient::new(
            "Relying party",
            vec![GrantType::AuthorizationCode],
            "openid email profile",
        )
        .with_redirect_uris([format!("{REDIRECT_BASE}/auth/oauth/corp/callback")]);
        let registered = idp
            .module
            .service()
            .register_client(&client, None)
            .await
            .unwrap();
        let registered = serde_json::to_value(&registered).unwrap();
        let client_id = registered["client_id"].as_str().unwrap().to_owned();
        let client_secret = registered["client_secret"].as_str().unwrap().to_owned();
        let mut provider = OidcProviderConfig::default();
        provider.issuer = Some(idp.url.clone());
        provider.client_id.clone_from(&client_id);
        provider.client_secret = Some(SecretString::from(client_secret.clone()));
        change(&mut provider);
        let dir = tempfile::tempdir().unwrap();
        let rp = MfaApp::on_sqlite(
            dir.path(),
            |config| {
                config.oidc.redirect_base = Some(REDIRECT_BASE.to_owned());
                config.oidc.providers.insert("corp".to_owned(), provider);
                rp(config);
            },
            AuthRouter::new(),
        )
        .await;
        Self {
            idp,
            client_id,
            client_secret,
            rp,
            browser: browser(),
            _dir: dir,
        }
    }

    /// Registers `name` at the provider (`name@example.com`), its address verified there
    /// when `verified`: its id there.
    pub async fn idp_user(&self, name: &str, verified: bool) -> String {
        let id = self.idp.register(name, None).await;
        if verified {
            let users = self.idp.module.service().users();
            users.mark_verified(&UserId(id.clone())).await.unwrap();
        }
        id
    }

    /// `GET /auth/oauth/corp/authorize?query` at the relying party, with `cookie` when
    /// given: the 303's target and cookie, after checking them.
    pub async fn begin(&self, query: &[(&str, &str)], cookie: Option<&str>) -> Started {
        let response = self
            .get_rp("/auth/oauth/corp/authorize", query, cookie)
            .await;
        Self::started(response)
    }

    /// The sign-in a 303 of the relying party started, its binding cookie checked.
    pub fn started(response: Response) -> Started {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let url = url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
        let set = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(set.starts_with("oauth_binding="), "{set}");
        for attribute in ["HttpOnly", "Path=/auth/oauth", "SameSite=Lax", "Max-Age="] {
            assert!(set.contains(attribute), "{set}");
        }
        let cookie = set.split(';').next().unwrap().to_owned();
        Started {
            url,
            cookie,
            set_cookie: set,
        }
    }

    /// GET `path?query` at the relying party with `cookie`.
    pub async fn get_rp<Q: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
        cookie: Option<&str>,
    ) -> Response {
        let mut request = self.browser.get(self.rp.server.url(path)).query(query);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// The provider's part for `name`: its page, signing in, allowing, with `query` (the
    /// authorization request); the query it sends the browser back with, checked to go to
    /// the relying party's callback.
    pub async fn at_idp(&self, query: &[(String, String)], name: &str) -> HashMap<String, String> {
        let query: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = sign_in_and_allow(&self.browser, &self.idp.url, name, &query).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let location = url::Url::parse(answer.headers()[LOCATION].to_str().unwrap()).unwrap();
        assert_eq!(
            location.as_str().split('?').next().unwrap(),
            format!("{REDIRECT_BASE}/auth/oauth/corp/callback")
        );
        location.query_pairs().into_owned().collect()
    }

    /// The provider's part of `started` for `name`, unchanged.
    pub async fn sign_in_at_idp(&self, started: &Started, name: &str) -> HashMap<String, String> {
        let query: Vec<(String, String)> = started.url.query_pairs().into_owned().collect();
        self.at_idp(&query, name).await
    }

    /// `GET /auth/oauth/corp/callback?query` with `cookie`.
    pub async fn callback(
        &self,
        query: &HashMap<String, String>,
        cookie: Option<&str>,
    ) -> Response {
        self.get_rp("/auth/oauth/corp/callback", query, cookie)
            .await
    }

    /// A whole sign-in of `name` (query `query` at the start): the callback's answer.
    pub async fn sign_in(&self, name: &str, query: &[(&str, &str)]) -> Response {
        let started = self.begin(query, None).await;
        let back = self.sign_in_at_idp(&started, name).await;
        self.callback(&back, Some(&started.cookie)).await
    }

    /// A whole sign-in of `name` in tokens mode that succeeds: the token response.
    pub async fn tokens_for(&self, name: &str) -> Value {
        let response = self.sign_in(name, &[("mode", "tokens")]).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// `POST /auth/oauth/corp/link` as the bearer of `token` with `body`, then the provider's
    /// part for `name`: the callback's answer.
    pub async fn link(&self, token: &str, name: &str, body: Value) -> Response {
        let response = self
            .rp
            .post("/auth/oauth/corp/link", body, Some(token))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        let url = url::Url::parse(body["authorization_url"].as_str().unwrap()).unwrap();
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let back = self.at_idp(&query, name).await;
        self.callback(&back, Some(&cookie)).await
    }

    /// The relying party's user called `name`, if any.
    pub async fn rp_user(&self, name: &str) -> Option<auth_axum::core::User> {
        self.rp.service.users().get_by_username(name).await.unwrap()
    }

    /// How many users the relying party has.
    pub async fn rp_users(&self) -> u64 {
        self.rp.service.users().count().await.unwrap()
    }
}
