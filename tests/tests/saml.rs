//! Signing in through a SAML 2.0 identity provider (issue 20): real signed documents from a
//! key and certificate the test makes, posted to the assertion consumer service over HTTP;
//! a tampered, a wrapped, an expired, a wrong-audience, a wrong-recipient, an unsigned and
//! another key's response, and a replayed one, each refused.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use auth_axum::core::config::SamlProviderConfig;
use auth_axum::AuthRouter;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::Value;
use tests::mfa::{claims, problem, MfaApp};
use tests::saml::{attribute, authn_request, Assertion, TestIdp, IDP_SSO_URL};

/// This service's public URL in these tests (the documents name it; the test posts to the
/// real address).
const BASE: &str = "http://127.0.0.1:9";
const ACS: &str = "http://127.0.0.1:9/auth/saml/corp/acs";
const SP_ENTITY_ID: &str = "http://127.0.0.1:9/auth/saml/corp/metadata";

struct Sp {
    idp: TestIdp,
    app: MfaApp,
    browser: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Sp {
    /// The service with the provider `corp` (its `groups` value `engineering` the role
    /// `editor`), as `change` leaves it.
    async fn start(change: impl FnOnce(&mut SamlProviderConfig)) -> Self {
        let idp = TestIdp::new();
        let dir = tempfile::tempdir().unwrap();
        let metadata = dir.path().join("idp-metadata.xml");
        std::fs::write(&metadata, &idp.metadata).unwrap();
        let mut corp = SamlProviderConfig::default();
        corp.metadata_file = metadata;
        corp.roles_attribute = Some("groups".to_owned());
        corp.roles
            .insert("engineering".to_owned(), "editor".to_owned());
        change(&mut corp);
        let app = MfaApp::on_sqlite(
            dir.path(),
            |config| {
                config.saml.base_url = Some(BASE.to_owned());
                config.saml.providers.insert("corp".to_owned(), corp);
            },
            AuthRouter::new(),
        )
        .await;
        Self {
            idp,
            app,
            browser: tests::provider::browser(),
            _dir: dir,
        }
    }

    /// Starts a sign-in (query `query`): the AuthnRequest's id and the RelayState.
    async fn begin(&self, query: &[(&str, &str)]) -> (String, String) {
        let response = self
            .browser
            .get(self.app.server.url("/auth/saml/corp/login"))
            .query(query)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let url = url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
        assert_eq!(url.as_str().split('?').next().unwrap(), IDP_SSO_URL);
        let request = authn_request(&url);
        assert_eq!(attribute(&request, "AssertionConsumerServiceURL"), ACS);
        let relay = url
            .query_pairs()
            .find(|(k, _)| k == "RelayState")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        (attribute(&request, "ID"), relay)
    }

    /// POSTs `xml` as the `SAMLResponse` with `relay`.
    async fn post(&self, xml: &str, relay: &str) -> reqwest::Response {
        self.browser
            .post(self.app.server.url("/auth/saml/corp/acs"))
            .form(&[
                ("SAMLResponse", STANDARD.encode(xml)),
                ("RelayState", relay.to_owned()),
            ])
            .send()
            .await
            .unwrap()
    }
}

fn assertion<'a>(name_id: &'a str, request_id: &'a str) -> Assertion<'a> {
    Assertion {
        name_id,
        request_id,
        audience: SP_ENTITY_ID,
        acs_url: ACS,
        attributes: vec![("email", name_id), ("groups", "engineering")],
    }
}

#[tokio::test]
async fn a_signed_response_signs_the_browser_in() {
    let sp = Sp::start(|_| {}).await;
    // This service's metadata, for the provider's administrator.
    let metadata = sp
        .browser
        .get(sp.app.server.url("/auth/saml/corp/metadata"))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), StatusCode::OK);
    assert_eq!(
        metadata.headers()["content-type"],
        "application/samlmetadata+xml"
    );
    let metadata = metadata.text().await.unwrap();
    assert!(
        metadata.contains(SP_ENTITY_ID) && metadata.contains(ACS),
        "{metadata}"
    );

    let (request_id, relay) = sp.begin(&[("return_to", "/home")]).await;
    assert_eq!(relay.len(), 43);
    let response = sp
        .idp
        .response(&assertion("ada@example.org", &request_id), |_| {});
    let signed = sp.idp.sign(&response);
    let answer = sp.post(&signed, &relay).await;
    if answer.status() != StatusCode::SEE_OTHER {
        panic!("{}", answer.text().await.unwrap());
    }
    assert_eq!(answer.headers()[LOCATION], "/home");
    let cookies = tests::provider::cookies_of(&answer);
    let me = sp
        .browser
        .get(sp.app.server.url("/auth/me"))
        .header(reqwest::header::COOKIE, cookies)
        .send()
        .await
        .unwrap();
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "ada");
    assert_eq!(me["email"], "ada@example.org");

    // The same response again, under its own RelayState or a fresh one: refused.
    let again = sp.post(&signed, &relay).await;
    problem(again, StatusCode::BAD_REQUEST, "invalid_state").await;
    let (_, fresh) = sp.begin(&[]).await;
    let again = sp.post(&signed, &fresh).await;
    let body = problem(again, StatusCode::UNAUTHORIZED, "invalid_assertion").await;
    assert!(
        body["detail"].as_str().unwrap().contains("InResponseTo"),
        "{body}"
    );

    // Tokens mode: the same user, the group's role, `amr` `fed`.
    let (request_id, relay) = sp.begin(&[("mode", "tokens")]).await;
    let response = sp
        .idp
        .response(&assertion("ada@example.org", &request_id), |_| {});
    let answer = sp.post(&sp.idp.sign(&response), &relay).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let tokens: Value = answer.json().await.unwrap();
    let claims = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["fed"]));
    assert!(
        claims["roles"]
            .as_array()
            .unwrap()
            .contains(&"editor".into()),
        "{claims}"
    );
    let identities = sp
        .app
        .get("/auth/identities", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(identities[0]["issuer"], tests::saml::IDP_ENTITY_ID);
    assert_eq!(identities[0]["subject"], "ada@example.org");
}

/// `xml` without its XML declaration.
fn without_declaration(xml: &str) -> &str {
    match xml.find("?>") {
        Some(end) if xml.starts_with("<?xml") => xml[end + 2..].trim_start(),
        _ => xml,
    }
}

/// A forged document for the request of the given id.
type Forgery<'a> = Box<dyn Fn(&TestIdp, &str) -> String + 'a>;

#[tokio::test]
async fn forged_or_misdirected_responses_are_refused() {
    let sp = Sp::start(|_| {}).await;
    let other_key = TestIdp::new();
    let now = chrono::Utc::now();
    let mut cases: Vec<(&str, Forgery<'_>)> = Vec::new();
    cases.push((
        "unsigned",
        Box::new(|idp, id| {
            let response = idp.response(&assertion("ada@example.org", id), |_| {});
            idp.unsigned(&response)
        }),
    ));
    cases.push((
        "signed by another key",
        Box::new(|_, id| {
            let response = other_key.response(&assertion("ada@example.org", id), |_| {});
            other_key.sign(&response)
        }),
    ));
    cases.push((
        "tampered after signing",
        Box::new(|idp, id| {
            let response = idp.response(&assertion("eve@example.org", id), |_| {});
            idp.sign(&response)
                .replace("eve@example.org", "ada@example.org")
        }),
    ));
    cases.push((
        "expired",
        Box::new(move |idp, id| {
            let response = idp.response(&assertion("ada@example.org", id), |r| {
                let past = now - chrono::Duration::hours(1);
                r.issue_instant = past;
                let a = r.assertion.as_mut().unwrap();
                a.issue_instant = past;
                a.conditions.as_mut().unwrap().not_on_or_after = Some(past);
                for c in a
                    .subject
                    .as_mut()
                    .unwrap()
                    .subject_confirmations
                    .as_mut()
                    .unwrap()
                {
                    c.subject_confirmation_data
                        .as_mut()
                        .unwrap()
                        .not_on_or_after = Some(past);
                }
            });
            idp.sign(&response)
        }),
    ));
    cases.push((
        "for another audience",
        Box::new(|idp, id| {
            let mut a = assertion("ada@example.org", id);
            a.audience = "https://other.example/sp";
            idp.sign(&idp.response(&a, |_| {}))
        }),
    ));
    cases.push((
        "with no audience at all",
        Box::new(|idp, id| {
            let response = idp.response(&assertion("ada@example.org", id), |r| {
                let a = r.assertion.as_mut().unwrap();
                a.conditions.as_mut().unwrap().audience_restrictions = None;
            });
            idp.sign(&response)
        }),
    ));
    cases.push((
        "for another recipient",
        Box::new(|idp, id| {
            let mut a = assertion("ada@example.org", id);
            a.acs_url = "https://evil.example/acs";
            idp.sign(&idp.response(&a, |_| {}))
        }),
    ));
    cases.push((
        "for another request",
        Box::new(|idp, _| {
            idp.sign(&idp.response(&assertion("ada@example.org", "id-someone-else"), |_| {}))
        }),
    ));
    cases.push((
        "wrapped: an unsigned assertion for ada beside eve's signed response",
        Box::new(|idp, id| {
            // Eve's own, validly signed response for this very request...
            let eve = idp.sign(&idp.response(&assertion("eve@example.org", id), |_| {}));
            let eve = without_declaration(&eve);
            // ... moved inside a new outer response that carries an assertion for ada.
            let ada = idp.unsigned(&idp.response(&assertion("ada@example.org", id), |_| {}));
            let ada = without_declaration(&ada);
            let open_end = ada.find('>').unwrap() + 1;
            let root = &ada[1..ada.find([' ', '>']).unwrap()];
            let prefix = root.split(':').next().unwrap();
            let (open, body) = ada.split_at(open_end);
            let body = body.trim_end().strip_suffix(&format!("</{root}>")).unwrap();
            format!("{open}<{prefix}:Extensions>{eve}</{prefix}:Extensions>{body}</{root}>")
        }),
    ));
    for (case, forge) in &cases {
        let (request_id, relay) = sp.begin(&[("mode", "tokens")]).await;
        let forged = forge(&sp.idp, &request_id);
        let answer = sp.post(&forged, &relay).await;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        // Never a session for ada.
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert_eq!(body["code"], "invalid_assertion", "{case}: {body}");
    }
    assert!(sp
        .app
        .service
        .users()
        .get_by_username("ada")
        .await
        .unwrap()
        .is_none());
    // A form that is no SAML response, and a RelayState of no request.
    let answer = sp.post("<x/>", "nope").await;
    problem(answer, StatusCode::BAD_REQUEST, "invalid_state").await;
    let answer = sp
        .browser
        .post(sp.app.server.url("/auth/saml/corp/acs"))
        .form(&[("RelayState", "x")])
        .send()
        .await
        .unwrap();
    problem(answer, StatusCode::BAD_REQUEST, "invalid_request").await;
    let answer = sp
        .browser
        .get(sp.app.server.url("/auth/saml/nope/login"))
        .send()
        .await
        .unwrap();
    problem(answer, StatusCode::NOT_FOUND, "unknown_provider").await;
    assert!(answer_has_no_cookie(&sp).await);
}

/// A start sets no cookie (the response comes back as a cross-site POST).
async fn answer_has_no_cookie(sp: &Sp) -> bool {
    let response = sp
        .browser
        .get(sp.app.server.url("/auth/saml/corp/login"))
        .send()
        .await
        .unwrap();
    response.headers().get(SET_COOKIE).is_none()
}

#[tokio::test]
async fn an_asserted_address_links_an_existing_account_only_when_trusted() {
    for trust in [false, true] {
        let sp = Sp::start(|corp| corp.trust_email = trust).await;
        let body = serde_json::json!({
            "username": "lovelace", "email": "ada@example.org", "password": tests::mfa::PASSWORD,
        });
        let registered = sp.app.post("/auth/register", body, None).await;
        assert_eq!(registered.status(), StatusCode::CREATED);
        let (request_id, relay) = sp.begin(&[("mode", "tokens")]).await;
        let response = sp
            .idp
            .response(&assertion("ada@example.org", &request_id), |_| {});
        let answer = sp.post(&sp.idp.sign(&response), &relay).await;
        if trust {
            assert_eq!(answer.status(), StatusCode::OK);
            let tokens: Value = answer.json().await.unwrap();
            let me = sp
                .app
                .get("/auth/me", tokens["access_token"].as_str().unwrap())
                .await;
            assert_eq!(me["username"], "lovelace");
        } else {
            problem(answer, StatusCode::CONFLICT, "account_exists").await;
        }
    }
}

#[tokio::test]
async fn a_provider_without_a_signing_certificate_stops_the_start() {
    use auth_axum::core::config::AuthConfig;
    use auth_axum::core::federation::saml::SamlProviders;
    let dir = tempfile::tempdir().unwrap();
    let metadata = dir.path().join("idp.xml");
    std::fs::write(
        &metadata,
        format!(
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\">\
             <md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
             <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" \
             Location=\"{IDP_SSO_URL}\"/></md:IDPSSODescriptor></md:EntityDescriptor>"
        ),
    )
    .unwrap();
    let mut config = AuthConfig::default();
    let mut corp = SamlProviderConfig::default();
    corp.metadata_file = metadata;
    config.saml.providers.insert("corp".to_owned(), corp);
    let err = SamlProviders::from_config(&config).unwrap_err().to_string();
    assert!(err.contains("signing certificate"), "{err}");
}
