//! GitHub: OAuth 2 (GitHub issues no ID tokens) with PKCE, then the account read from its
//! API: `GET /user` for the stable numeric id, `GET /user/emails` for the primary address
//! and whether GitHub verified it.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde_json::Value;

use super::{token_error, unreachable, Provider, Secrets};
use crate::error::{AuthError, Result};
use crate::federation::ExternalProfile;

/// GitHub's endpoints (github.com's, or a GitHub Enterprise Server's).
pub(super) struct GithubApi {
    /// The issuer its accounts are linked under: the origin of its authorization endpoint
    /// (`https://github.com`, or the Enterprise Server's).
    pub(super) issuer: String,
    pub(super) authorization_url: String,
    pub(super) token_url: String,
    pub(super) api_url: String,
    pub(super) http: reqwest::Client,
}

fn internal(e: impl std::fmt::Display) -> AuthError {
    AuthError::Internal(format!("GitHub client: {e}"))
}

impl GithubApi {
    fn client(
        &self,
        provider: &Provider,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
    > {
        let mut client = BasicClient::new(ClientId::new(provider.client_id.clone()))
            .set_auth_uri(AuthUrl::new(self.authorization_url.clone()).map_err(internal)?)
            .set_token_uri(TokenUrl::new(self.token_url.clone()).map_err(internal)?)
            .set_redirect_uri(RedirectUrl::new(provider.redirect_uri.clone()).map_err(internal)?);
        if let Some(secret) = provider.secret() {
            client = client.set_client_secret(ClientSecret::new(secret.to_owned()));
        }
        Ok(client)
    }

    pub(super) fn authorization_url(
        &self,
        provider: &Provider,
        secrets: &Secrets,
    ) -> Result<String> {
        let state = secrets.state.clone();
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            secrets.pkce_verifier.clone(),
        ));
        let (url, _) = self
            .client(provider)?
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(provider.scopes.iter().map(|s| Scope::new(s.clone())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    pub(super) async fn finish(
        &self,
        provider: &Provider,
        code: &str,
        secrets: &Secrets,
    ) -> Result<ExternalProfile> {
        let response = self
            .client(provider)?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(secrets.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(&provider.name, e))?;
        let token = response.access_token().secret();
        let user = self.get(provider, token, "user").await?;
        // Without the `user:email` scope the list is refused: the public address, unverified.
        let emails = match self.get(provider, token, "user/emails").await {
            Ok(Value::Array(emails)) => emails,
            _ => Vec::new(),
        };
        ExternalProfile::from_github(&provider.name, &self.issuer, &user, &emails)
            .ok_or_else(|| unreachable(&provider.name, "GET /user answered no account id"))
    }

    async fn get(&self, provider: &Provider, token: &str, path: &str) -> Result<Value> {
        let response = self
            .http
            .get(format!("{}/{path}", self.api_url))
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json")
            .header("user-agent", "auth-core")
            .send()
            .await
            .map_err(|e| unreachable(&provider.name, e))?;
        if !response.status().is_success() {
            return Err(unreachable(
                &provider.name,
                format!("GET /{path} answered {}", response.status()),
            ));
        }
        response
            .json()
            .await
            .map_err(|e| unreachable(&provider.name, e))
    }
}
