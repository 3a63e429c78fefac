//! Signing in through a SAML 2.0 identity provider (feature `saml`, over samael with its
//! `xmlsec` verification): this service as the service provider, its metadata, the
//! `AuthnRequest` (HTTP-Redirect binding), and the response the provider posts back
//! (HTTP-POST binding) checked before anything of it is read.
//!
//! The checks, all of them on every response:
//!
//! - a signature on the response or the assertion by the certificate of the provider's
//!   metadata (a provider without one stops the start: nothing unsigned is accepted), by
//!   an RSA or ECDSA SHA-2 algorithm; the document is then reduced to what the signature
//!   covers, and the signed assertion must be the response's own: a document that wraps a
//!   signed element around or beside another assertion (signature wrapping) is refused;
//! - `Destination` and the subject confirmation's `Recipient`: this service's ACS URL;
//! - `InResponseTo`: the id of the request this browser's sign-in sent, kept server-side
//!   and taken once (a replayed response finds nothing); unsolicited (IdP-initiated)
//!   responses are refused;
//! - the issuer: the provider's entity id;
//! - `IssueInstant`, `NotBefore`, `NotOnOrAfter` with `AUTH__SAML__CLOCK_SKEW_SECONDS`;
//! - an `AudienceRestriction` naming this service's entity id (required, not only checked
//!   when present).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use samael::crypto::AllowedSignatureAlgorithm;
use samael::metadata::EntityDescriptor;
use samael::schema::Assertion;
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;

use super::{ExternalProfile, FederationError};
use crate::config::{AuthConfig, ConfigError, SamlProviderConfig};
use crate::error::{AuthError, Result};

/// The HTTP-Redirect binding.
const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// Addresses under these attribute names, besides the configured one.
const EMAIL_ATTRIBUTES: [&str; 4] = [
    "email",
    "mail",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
];

/// A provider's account whose response passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SamlAccount {
    /// The account: issuer the provider's entity id, subject its NameID.
    pub profile: ExternalProfile,
    /// The values of the roles attribute (`ROLES_ATTRIBUTE`).
    pub groups: Vec<String>,
}

/// One identity provider.
pub struct SamlProvider {
    name: String,
    display_name: String,
    sp: ServiceProvider,
    sso_url: String,
    sp_entity_id: String,
    idp_entity_id: String,
    config: SamlProviderConfig,
}

impl fmt::Debug for SamlProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SamlProvider")
            .field("name", &self.name)
            .field("idp_entity_id", &self.idp_entity_id)
            .field("sp_entity_id", &self.sp_entity_id)
            .finish_non_exhaustive()
    }
}

fn invalid(reason: String) -> ConfigError {
    ConfigError::Invalid {
        var: "AUTH__SAML__PROVIDERS",
        reason,
    }
}

impl SamlProvider {
    fn from_config(
        name: &str,
        config: &SamlProviderConfig,
        base: &str,
        skew: i64,
    ) -> Result<Self, ConfigError> {
        if !super::valid_provider_name(name) {
            return Err(invalid(format!(
                "`{name}` cannot name a provider: use lowercase letters, digits, `-` and `_`"
            )));
        }
        let fail =
            |what: &str, e: &dyn fmt::Display| invalid(format!("provider `{name}`: {what}: {e}"));
        let xml = std::fs::read_to_string(&config.metadata_file).map_err(|e| {
            fail(
                &format!("METADATA_FILE {}", config.metadata_file.display()),
                &e,
            )
        })?;
        let metadata: EntityDescriptor = xml
            .parse()
            .map_err(|e| fail("its metadata cannot be read", &e))?;
        let idp_entity_id = metadata
            .entity_id
            .clone()
            .ok_or_else(|| invalid(format!("provider `{name}`: its metadata names no entityID")))?;
        let metadata_url = format!("{base}/auth/saml/{name}/metadata");
        let acs_url = format!("{base}/auth/saml/{name}/acs");
        let sp_entity_id = config
            .sp_entity_id
            .clone()
            .unwrap_or_else(|| metadata_url.clone());
        let sp = ServiceProviderBuilder::default()
            .entity_id(sp_entity_id.clone())
            .metadata_url(metadata_url)
            .acs_url(acs_url)
            .idp_metadata(metadata)
            .allow_idp_initiated(false)
            .max_clock_skew(chrono::Duration::seconds(skew))
            .max_issue_delay(chrono::Duration::seconds(300))
            .allowed_signature_algorithms(vec![
                AllowedSignatureAlgorithm::RsaSha256,
                AllowedSignatureAlgorithm::RsaSha384,
                AllowedSignatureAlgorithm::RsaSha512,
                AllowedSignatureAlgorithm::EcdsaSha256,
                AllowedSignatureAlgorithm::EcdsaSha384,
                AllowedSignatureAlgorithm::EcdsaSha512,
            ])
            .build()
            .map_err(|e| fail("service provider", &e))?;
        // Without a signing certificate samael would accept unsigned responses.
        let certs = sp
            .idp_signing_certs()
            .map_err(|e| fail("its signing certificate", &e))?;
        if certs.is_none_or(|c| c.is_empty()) {
            return Err(invalid(format!(
                "provider `{name}`: its metadata has no signing certificate (KeyDescriptor use=\"signing\")"
            )));
        }
        let sso_url = sp
            .sso_binding_location(REDIRECT_BINDING)
            .ok_or_else(|| {
                invalid(format!(
                    "provider `{name}`: its metadata has no SingleSignOnService with the HTTP-Redirect binding"
                ))
            })?;
        Ok(Self {
            name: name.to_owned(),
            display_name: config
                .display_name
                .clone()
                .unwrap_or_else(|| name.to_owned()),
            sp,
            sso_url,
            sp_entity_id,
            idp_entity_id,
            config: config.clone(),
        })
    }

    /// Its name (`corp`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What a sign-in page shows.
    #[must_use]
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The settings it was made from.
    #[must_use]
    pub fn config(&self) -> &SamlProviderConfig {
        &self.config
    }

    /// This service's metadata for the provider (`EntityDescriptor` XML): its entity id and
    /// assertion consumer service.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when samael cannot write it.
    pub fn metadata_xml(&self) -> Result<String> {
        self.sp
            .metadata()
            .and_then(|m| m.to_string())
            .map_err(|e| AuthError::Internal(format!("SAML metadata: {e}")))
    }

    /// The URL that sends the browser to the provider with an `AuthnRequest` of id
    /// `request_id` (HTTP-Redirect binding) and `relay_state`.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when samael cannot encode it.
    pub fn authn_request_url(&self, request_id: &str, relay_state: &str) -> Result<String> {
        let internal =
            |e: Box<dyn std::error::Error>| AuthError::Internal(format!("AuthnRequest: {e}"));
        let mut request = self
            .sp
            .make_authentication_request(&self.sso_url)
            .map_err(internal)?;
        request.id = request_id.to_owned();
        let url = request.redirect(relay_state).map_err(internal)?;
        url.map(|u| u.to_string())
            .ok_or_else(|| AuthError::Internal("AuthnRequest: no redirect URL".to_owned()))
    }

    /// The account of a posted `SAMLResponse` (base64) answering request `request_id`,
    /// when it passes every check (see the module's documentation).
    ///
    /// # Errors
    /// [`FederationError::InvalidAssertion`] naming the check that failed.
    pub fn verify(&self, saml_response: &str, request_id: &str) -> Result<SamlAccount> {
        let refused = |why: String| AuthError::from(FederationError::InvalidAssertion(why));
        if saml_response.len() > 256 * 1024 {
            return Err(refused("the response is too large".to_owned()));
        }
        let assertion = self
            .sp
            .parse_base64_response(saml_response.trim(), Some(&[request_id]))
            .map_err(|e| refused(e.to_string()))?;
        // What the signature covers must be the document's own assertion: a response that
        // wraps a signed element (signature wrapping) around or beside another assertion is
        // refused, not just read for its signed part.
        let own = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            saml_response.trim(),
        )
        .ok()
        .and_then(|xml| String::from_utf8(xml).ok())
        .and_then(|xml| xml.parse::<samael::schema::Response>().ok())
        .and_then(|response| response.assertion)
        .is_some_and(|own| own.id == assertion.id);
        if !own {
            return Err(refused(
                "the signed assertion is not the response's own (signature wrapping)".to_owned(),
            ));
        }
        // An assertion for anyone is not one for us: the audience must be named.
        let for_us = assertion
            .conditions
            .as_ref()
            .and_then(|c| c.audience_restrictions.as_ref())
            .is_some_and(|r| r.iter().any(|r| r.audience.contains(&self.sp_entity_id)));
        if !for_us {
            return Err(refused(format!(
                "the assertion's audience is not `{}`",
                self.sp_entity_id
            )));
        }
        self.account(&assertion)
            .ok_or_else(|| refused("the assertion names no subject".to_owned()))
    }

    fn account(&self, assertion: &Assertion) -> Option<SamlAccount> {
        let subject = assertion
            .subject
            .as_ref()?
            .name_id
            .as_ref()?
            .value
            .trim()
            .to_owned();
        let attributes = attributes(assertion);
        let first = |name: &str| attributes.get(name).and_then(|v| v.first()).cloned();
        let config = &self.config;
        let email = config
            .email_attribute
            .as_deref()
            .and_then(first)
            .or_else(|| EMAIL_ATTRIBUTES.iter().find_map(|a| first(a)));
        let username = config
            .username_attribute
            .as_deref()
            .and_then(first)
            .or_else(|| subject.split('@').next().map(str::to_owned));
        let mut claims = serde_json::Map::new();
        claims.insert("sub".to_owned(), subject.into());
        if let Some(email) = email {
            claims.insert("email".to_owned(), email.into());
            // The identity provider is the organisation's own record of the address.
            claims.insert("email_verified".to_owned(), true.into());
        }
        if let Some(username) = username {
            claims.insert("preferred_username".to_owned(), username.into());
        }
        let profile =
            ExternalProfile::from_claims(&self.name, &self.idp_entity_id, &claims.into())?;
        let groups = config
            .roles_attribute
            .as_deref()
            .and_then(|a| attributes.get(a).cloned())
            .unwrap_or_default();
        Some(SamlAccount { profile, groups })
    }
}

/// The assertion's attribute values by name (and friendly name).
fn attributes(assertion: &Assertion) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in assertion.attribute_statements.iter().flatten() {
        for attribute in &statement.attributes {
            let values: Vec<String> = attribute
                .values
                .iter()
                .filter_map(|v| v.value.as_deref().map(str::trim))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
            for name in [&attribute.name, &attribute.friendly_name]
                .into_iter()
                .flatten()
            {
                out.entry(name.clone())
                    .or_default()
                    .extend(values.iter().cloned());
            }
        }
    }
    out
}

/// The configured identity providers, by name.
#[derive(Debug, Default)]
pub struct SamlProviders {
    by_name: BTreeMap<String, Arc<SamlProvider>>,
}

impl SamlProviders {
    /// The providers of `[saml]`, their endpoints under `AUTH__SAML__BASE_URL`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the provider and what is wrong with it.
    pub fn from_config(config: &AuthConfig) -> Result<Self, ConfigError> {
        let saml = &config.saml;
        let base = saml
            .base_url
            .clone()
            .or_else(|| config.oidc.redirect_base.clone())
            .unwrap_or_else(|| config.provider.issuer_or(config.jwt.issuer.as_deref()));
        let base = base.trim_end_matches('/');
        let skew = i64::try_from(saml.clock_skew_seconds).unwrap_or(60);
        let mut by_name = BTreeMap::new();
        for (name, provider) in &saml.providers {
            let provider = SamlProvider::from_config(name, provider, base, skew)?;
            by_name.insert(name.clone(), Arc::new(provider));
        }
        Ok(Self { by_name })
    }

    /// The provider called `name`.
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`].
    pub fn get(&self, name: &str) -> Result<&Arc<SamlProvider>, FederationError> {
        self.by_name
            .get(name)
            .ok_or_else(|| FederationError::UnknownProvider(name.chars().take(64).collect()))
    }
}
