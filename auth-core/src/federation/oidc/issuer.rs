//! An OpenID Connect issuer: its discovery document (read at the first sign-in, again after
//! a failure), its key set (fetched again for an unknown key id, at most once per cooldown),
//! the authorization request, the code exchange, and ID tokens verified by `openidconnect`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    JsonWebKeySet, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};
use tokio::sync::{Mutex, RwLock};

use super::{token_error, unreachable, Provider, Secrets};
use crate::config::ConfigError;
use crate::error::Result;
use crate::federation::{ExternalProfile, FederationError};

/// How far in the future an ID token's `iat` may be (clocks differ a little).
const IAT_SKEW_SECONDS: i64 = 300;

/// What discovery found, with the keys as last fetched.
struct Discovered {
    metadata: CoreProviderMetadata,
    keys: RwLock<CoreJsonWebKeySet>,
    /// When the keys were last fetched for an unknown key id.
    refreshed: Mutex<Option<Instant>>,
}

/// An OpenID Connect issuer.
pub(super) struct Issuer {
    url: IssuerUrl,
    http: reqwest::Client,
    cooldown: Duration,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

fn id_token_error(e: impl std::fmt::Display) -> crate::error::AuthError {
    FederationError::InvalidIdToken(e.to_string()).into()
}

impl Issuer {
    pub(super) fn new(
        issuer: &str,
        http: reqwest::Client,
        cooldown: Duration,
    ) -> Result<Self, ConfigError> {
        let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| ConfigError::Invalid {
            var: "AUTH__OIDC__PROVIDERS",
            reason: format!("issuer `{issuer}`: {e}"),
        })?;
        Ok(Self {
            url,
            http,
            cooldown,
            discovered: RwLock::new(None),
        })
    }

    /// The discovery document, read now if it was not yet (or the last read failed).
    async fn discovered(&self, provider: &str) -> Result<Arc<Discovered>> {
        if let Some(found) = self.discovered.read().await.as_ref() {
            return Ok(Arc::clone(found));
        }
        let mut slot = self.discovered.write().await;
        if let Some(found) = slot.as_ref() {
            return Ok(Arc::clone(found));
        }
        // Checks that the document names this issuer, and fetches its key set.
        let metadata = CoreProviderMetadata::discover_async(self.url.clone(), &self.http)
            .await
            .map_err(|e| unreachable(provider, format!("discovery: {e}")))?;
        let keys = metadata.jwks().clone();
        let found = Arc::new(Discovered {
            metadata,
            keys: RwLock::new(keys),
            refreshed: Mutex::new(None),
        });
        *slot = Some(Arc::clone(&found));
        Ok(found)
    }

    pub(super) async fn authorization_url(
        &self,
        provider: &Provider,
        secrets: &Secrets,
    ) -> Result<String> {
        let found = self.discovered(&provider.name).await?;
        let client = CoreClient::from_provider_metadata(
            found.metadata.clone(),
            ClientId::new(provider.client_id.clone()),
            provider.secret().map(|s| ClientSecret::new(s.to_owned())),
        );
        let state = secrets.state.clone();
        let nonce = secrets.nonce.clone();
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            secrets.pkce_verifier.clone(),
        ));
        let redirect = RedirectUrl::new(provider.redirect_uri.clone())
            .map_err(|e| crate::error::AuthError::Internal(format!("redirect URI: {e}")))?;
        let (url, _, _) = client
            .set_redirect_uri(redirect)
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scopes(
                provider
                    .scopes
                    .iter()
                    .filter(|s| *s != "openid")
                    .map(|s| Scope::new(s.clone())),
            )
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    pub(super) async fn finish(
        &self,
        provider: &Provider,
        code: &str,
        secrets: &Secrets,
        now: i64,
    ) -> Result<ExternalProfile> {
        let found = self.discovered(&provider.name).await?;
        let redirect = RedirectUrl::new(provider.redirect_uri.clone())
            .map_err(|e| crate::error::AuthError::Internal(format!("redirect URI: {e}")))?;
        let client = CoreClient::from_provider_metadata(
            found.metadata.clone(),
            ClientId::new(provider.client_id.clone()),
            provider.secret().map(|s| ClientSecret::new(s.to_owned())),
        )
        .set_redirect_uri(redirect);
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| unreachable(&provider.name, e))?
            .set_pkce_verifier(PkceCodeVerifier::new(secrets.pkce_verifier.clone()));
        let response = request
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(&provider.name, e))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| id_token_error("the token response has no ID token"))?;
        self.verify_id_token(provider, &id_token.to_string(), Some(&secrets.nonce), now)
            .await
    }

    pub(super) async fn verify_id_token(
        &self,
        provider: &Provider,
        raw: &str,
        nonce: Option<&str>,
        now: i64,
    ) -> Result<ExternalProfile> {
        let found = self.discovered(&provider.name).await?;
        let token = CoreIdToken::from_str(raw).map_err(id_token_error)?;
        let keys = found.keys.read().await.clone();
        let claims = match self.check(provider, &found, &token, keys, nonce, now) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // The issuer may have rotated its keys: fetch them again, once per cooldown.
                let keys = self.refresh_keys(&provider.name, &found).await?;
                self.check(provider, &found, &token, keys, nonce, now)
            }
            other => other,
        }
        .map_err(id_token_error)?;
        ExternalProfile::from_claims(&provider.name, self.url.as_str(), &claims)
            .ok_or_else(|| id_token_error("the ID token names no subject"))
    }

    /// The claims of `token` as JSON, when it passes every check with `keys`.
    fn check(
        &self,
        provider: &Provider,
        found: &Discovered,
        token: &CoreIdToken,
        keys: CoreJsonWebKeySet,
        nonce: Option<&str>,
        now: i64,
    ) -> Result<serde_json::Value, ClaimsVerificationError> {
        let client_id = ClientId::new(provider.client_id.clone());
        let verifier = match provider.secret() {
            Some(secret) => CoreIdTokenVerifier::new_confidential_client(
                client_id,
                ClientSecret::new(secret.to_owned()),
                self.url.clone(),
                keys,
            ),
            None => CoreIdTokenVerifier::new_public_client(client_id, self.url.clone(), keys),
        };
        let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
        let latest_iat = chrono::DateTime::from_timestamp(now.saturating_add(IAT_SKEW_SECONDS), 0)
            .unwrap_or_default();
        let verifier = verifier
            .set_allowed_algs(allowed_algorithms(&found.metadata))
            .set_time_fn(move || at)
            .set_issue_time_verifier_fn(move |iat| {
                if iat <= latest_iat {
                    Ok(())
                } else {
                    Err(format!("issued in the future ({iat})"))
                }
            });
        let claims = match nonce {
            Some(nonce) => token.claims(&verifier, &Nonce::new(nonce.to_owned()))?,
            None => token.claims(&verifier, |_: Option<&Nonce>| Ok(()))?,
        };
        serde_json::to_value(claims).map_err(|e| ClaimsVerificationError::Other(e.to_string()))
    }

    /// The issuer's key set fetched again, unless it was within the cooldown.
    async fn refresh_keys(&self, provider: &str, found: &Discovered) -> Result<CoreJsonWebKeySet> {
        let mut refreshed = found.refreshed.lock().await;
        if refreshed.is_some_and(|at| at.elapsed() < self.cooldown) {
            return Ok(found.keys.read().await.clone());
        }
        *refreshed = Some(Instant::now());
        let keys = JsonWebKeySet::fetch_async(found.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| unreachable(provider, format!("key set: {e}")))?;
        *found.keys.write().await = keys.clone();
        Ok(keys)
    }
}

/// The asymmetric algorithms the issuer signs ID tokens with (never `HS*`, never `none`).
fn allowed_algorithms(metadata: &CoreProviderMetadata) -> Vec<CoreJwsSigningAlgorithm> {
    use CoreJwsSigningAlgorithm as A;
    metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|alg| {
            matches!(
                alg,
                A::RsaSsaPkcs1V15Sha256
                    | A::RsaSsaPkcs1V15Sha384
                    | A::RsaSsaPkcs1V15Sha512
                    | A::RsaSsaPssSha256
                    | A::RsaSsaPssSha384
                    | A::RsaSsaPssSha512
                    | A::EcdsaP256Sha256
                    | A::EcdsaP384Sha384
                    | A::EdDsa
            )
        })
        .cloned()
        .collect()
}
