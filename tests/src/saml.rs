//! A SAML 2.0 identity provider for the tests: a key and certificate made by the test, its
//! metadata in a file the service reads, and responses signed with samael's own signing
//! (libxmlsec1), as given or changed before (expired, another audience) or after signing
//! (tampered, wrapped), or not signed at all.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a test harness fails loudly"
)]

use std::io::Read as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use samael::crypto::{CertificateDer, Crypto, CryptoProvider as _};
use samael::idp::response_builder::{build_response_template, ResponseAttribute};
use samael::idp::sp_extractor::RequiredAttribute;
use samael::idp::{CertificateParams, IdentityProvider, KeyType, Rsa};
use samael::schema::Response;
use samael::traits::ToXml as _;

/// The identity provider's entity id.
pub const IDP_ENTITY_ID: &str = "https://idp.example.test/saml";
/// Its sign-in URL.
pub const IDP_SSO_URL: &str = "https://idp.example.test/sso";

/// The test identity provider.
pub struct TestIdp {
    idp: IdentityProvider,
    cert: CertificateDer,
    /// Its metadata, as the service reads it.
    pub metadata: String,
}

impl std::fmt::Debug for TestIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestIdp")
    }
}

/// What a response says: who, for which request, audience and recipient, with which
/// attributes.
#[derive(Debug, Clone)]
pub struct Assertion<'a> {
    /// The NameID.
    pub name_id: &'a str,
    /// `InResponseTo`.
    pub request_id: &'a str,
    /// The audience.
    pub audience: &'a str,
    /// `Destination` and `Recipient`.
    pub acs_url: &'a str,
    /// `(name, value)` attributes.
    pub attributes: Vec<(&'a str, &'a str)>,
}

impl TestIdp {
    /// A fresh key and a certificate for it.
    #[must_use]
    pub fn new() -> Self {
        let idp = IdentityProvider::generate_new(KeyType::Rsa(Rsa::Rsa2048)).unwrap();
        let cert = idp
            .create_certificate(&CertificateParams {
                common_name: "idp.example.test",
                issuer_name: "idp.example.test",
                days_until_expiration: 30,
            })
            .unwrap();
        let metadata = format!(
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" \
             xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{IDP_ENTITY_ID}\">\
             <md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
             <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}\
             </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
             <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" \
             Location=\"{IDP_SSO_URL}\"/></md:IDPSSODescriptor></md:EntityDescriptor>",
            cert = STANDARD.encode(cert.der_data()),
        );
        Self {
            idp,
            cert,
            metadata,
        }
    }

    /// The response for `assertion`, as `change` leaves it, unsigned.
    pub fn response(
        &self,
        assertion: &Assertion<'_>,
        change: impl FnOnce(&mut Response),
    ) -> Response {
        let attributes: Vec<ResponseAttribute<'_>> = assertion
            .attributes
            .iter()
            .map(|(name, value)| ResponseAttribute {
                required_attribute: RequiredAttribute {
                    name: (*name).to_owned(),
                    format: None,
                },
                value,
            })
            .collect();
        let mut response = build_response_template(
            &self.cert,
            assertion.name_id,
            assertion.audience,
            IDP_ENTITY_ID,
            assertion.acs_url,
            assertion.request_id,
            &attributes,
        );
        // Digests by SHA-256, as the service requires (samael's template says SHA-1).
        if let Some(signature) = response.signature.as_mut() {
            for reference in &mut signature.signed_info.reference {
                reference.digest_method.algorithm = samael::signature::DigestAlgorithm::Sha256;
            }
        }
        // Valid for five minutes, as identity providers issue them.
        let until = chrono::Utc::now() + chrono::Duration::minutes(5);
        if let Some(inner) = response.assertion.as_mut() {
            if let Some(conditions) = inner.conditions.as_mut() {
                conditions.not_on_or_after = Some(until);
            }
            let confirmations = inner
                .subject
                .as_mut()
                .and_then(|s| s.subject_confirmations.as_mut());
            for confirmation in confirmations.into_iter().flatten() {
                if let Some(data) = confirmation.subject_confirmation_data.as_mut() {
                    data.not_on_or_after = Some(until);
                }
            }
        }
        change(&mut response);
        response
    }

    /// The XML of `response`, signed with the provider's key.
    #[must_use]
    pub fn sign(&self, response: &Response) -> String {
        let xml = response.to_string().unwrap();
        let key = self.idp.export_private_key_der().unwrap();
        Crypto::sign_xml(xml.as_str(), key.as_slice()).unwrap()
    }

    /// The XML of `response`, unsigned (its signature template dropped).
    #[must_use]
    pub fn unsigned(&self, response: &Response) -> String {
        let mut response = response.clone();
        response.signature = None;
        response.to_string().unwrap()
    }
}

impl Default for TestIdp {
    fn default() -> Self {
        Self::new()
    }
}

/// The `SAMLRequest` of a redirect-binding URL, inflated: the AuthnRequest's XML.
#[must_use]
pub fn authn_request(url: &url::Url) -> String {
    let encoded = url
        .query_pairs()
        .find(|(k, _)| k == "SAMLRequest")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let deflated = STANDARD.decode(encoded).unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// The value of the attribute `name` of the first element that has one in `xml`.
#[must_use]
pub fn attribute(xml: &str, name: &str) -> String {
    let marker = format!(" {name}=\"");
    let start = xml.find(&marker).unwrap() + marker.len();
    let end = xml[start..].find('"').unwrap();
    xml[start..start + end].to_owned()
}
