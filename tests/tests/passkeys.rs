//! Passkeys over HTTP with a software authenticator (webauthn-authenticator-rs): registration,
//! username-less login, a passkey as the second factor of a password login, refusals (a
//! replayed or mismatched ceremony, an answer to another challenge), removal, and a cloned
//! authenticator (its signature counter behind the stored one) refused.
//!
//! The software authenticators keep no resident keys, so for a username-less login the test
//! plays the part of the platform: it points the authenticator at the credential it holds and
//! hands back the user handle the passkey was created under (neither is signed; the signature
//! over the challenge, origin and counter is the authenticator's own).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::AuthRouter;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::mfa::{claims, problem, MfaApp};
use webauthn_authenticator_rs::prelude::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_authenticator_rs::{AuthenticatorBackend, WebauthnAuthenticator};
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};
use webauthn_rs_proto::AllowCredentials;

/// The origin the service's relying party accepts (`[passkeys]` defaults).
fn origin() -> Url {
    Url::parse("http://localhost:8080").unwrap()
}

/// A registered passkey, as the user's device holds it.
struct Device<T: AuthenticatorBackend> {
    authenticator: T,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
}

async fn start(h: &MfaApp, path: &str, body: Value, token: Option<&str>) -> (String, Value) {
    let response = h.post(path, body, token).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    (body["ceremony_id"].as_str().unwrap().to_owned(), body)
}

/// Registers a passkey on `backend` for the bearer of `token`.
async fn register<T: AuthenticatorBackend>(h: &MfaApp, token: &str, backend: T) -> Device<T> {
    let (ceremony, options) =
        start(h, "/auth/passkeys/register/start", json!({}), Some(token)).await;
    let options: CreationChallengeResponse = serde_json::from_value(options).unwrap();
    let user_handle = options.public_key.user.id.clone();
    let mut authenticator = backend;
    let credential = authenticator.do_registration(origin(), options).unwrap();
    let body = json!({"ceremony_id": ceremony, "name": "Laptop", "credential": credential});
    let response = h
        .post("/auth/passkeys/register/finish", body, Some(token))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let passkey: Value = response.json().await.unwrap();
    assert_eq!(passkey["name"], "Laptop");
    assert_eq!(passkey["last_used_at"], Value::Null);
    Device {
        credential_id: credential.raw_id.clone(),
        authenticator,
        user_handle,
    }
}

impl<T: AuthenticatorBackend> Device<T> {
    /// The device's answer to a login ceremony's options; username-less ones are pointed at
    /// the credential, and the answer carries the user handle, as a platform would.
    fn answer(&mut self, options: Value) -> PublicKeyCredential {
        let mut options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
        let discoverable = options.public_key.allow_credentials.is_empty();
        if discoverable {
            options.public_key.allow_credentials = vec![AllowCredentials {
                type_: "public-key".to_owned(),
                id: self.credential_id.clone(),
                transports: None,
            }];
        }
        let mut credential = self
            .authenticator
            .do_authentication(origin(), options)
            .unwrap();
        if discoverable {
            credential.response.user_handle = Some(self.user_handle.clone());
        }
        credential
    }

    /// The body finishing a step-up ceremony the bearer of `token` starts, answered.
    async fn step_up_answer(&mut self, h: &MfaApp, token: &str) -> Value {
        let path = "/auth/passkeys/step-up/start";
        let (ceremony, options) = start(h, path, json!({}), Some(token)).await;
        json!({"ceremony_id": ceremony, "credential": self.answer(options)})
    }

    /// A username-less login: the response.
    async fn login(&mut self, h: &MfaApp) -> reqwest::Response {
        let (ceremony, options) = start(h, "/auth/passkeys/login/start", json!({}), None).await;
        let credential = self.answer(options);
        let body = json!({"ceremony_id": ceremony, "credential": credential});
        h.post("/auth/passkeys/login/finish", body, None).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_register_and_sign_in_with_or_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let h = MfaApp::on_sqlite(dir.path(), |_| {}, AuthRouter::new()).await;
    let token = h.user("ada").await;
    let ada = claims(&token)["sub"].as_str().unwrap().to_owned();
    let anonymous = h
        .post("/auth/passkeys/register/start", json!({}), None)
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let mut device = register(&h, &token, SoftPasskey::new(true)).await;
    let listed = h.get("/auth/passkeys", &token).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let passkey_id = listed[0]["id"].as_str().unwrap().to_owned();
    let status = h.get("/auth/mfa", &token).await;
    assert_eq!(
        (&status["passkeys"], &status["methods"]),
        (&json!(1), &json!(["passkey"]))
    );

    // A registration ceremony is finished once, by the user who started it.
    let (ceremony, options) =
        start(&h, "/auth/passkeys/register/start", json!({}), Some(&token)).await;
    let options: CreationChallengeResponse = serde_json::from_value(options).unwrap();
    let mut other = SoftPasskey::new(true);
    let credential: RegisterPublicKeyCredential = other.do_registration(origin(), options).unwrap();
    let body = json!({"ceremony_id": ceremony, "credential": credential});
    let bob = h.user("bob").await;
    let stolen = h
        .post("/auth/passkeys/register/finish", body.clone(), Some(&bob))
        .await;
    problem(stolen, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    let used = h
        .post("/auth/passkeys/register/finish", body, Some(&token))
        .await;
    problem(used, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;

    // Step-up: the password session proves the passkey; a step-up ceremony answers neither
    // another user nor the login route.
    let body = device.step_up_answer(&h, &token).await;
    let elsewhere = h
        .post("/auth/passkeys/login/finish", body.clone(), None)
        .await;
    problem(
        elsewhere,
        StatusCode::BAD_REQUEST,
        "invalid_or_expired_token",
    )
    .await;
    let body = device.step_up_answer(&h, &token).await;
    let stranger = h
        .post("/auth/passkeys/step-up/finish", body.clone(), Some(&bob))
        .await;
    problem(
        stranger,
        StatusCode::BAD_REQUEST,
        "invalid_or_expired_token",
    )
    .await;
    let body = device.step_up_answer(&h, &token).await;
    let response = h
        .post("/auth/passkeys/step-up/finish", body, Some(&token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stepped: Value = response.json().await.unwrap();
    let access = claims(stepped["access_token"].as_str().unwrap());
    assert_eq!(
        (&access["amr"], &access["sid"]),
        (&json!(["pwd", "hwk"]), &claims(&token)["sid"])
    );
    let none = h
        .post("/auth/passkeys/step-up/start", json!({}), Some(&bob))
        .await;
    problem(none, StatusCode::CONFLICT, "mfa_not_enabled").await;

    // Username-less: the passkey alone signs in, as a strong factor.
    let response = device.login(&h).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        (&access["sub"], &access["amr"]),
        (&json!(ada), &json!(["hwk"]))
    );
    assert!(h.get("/auth/passkeys", &token).await[0]["last_used_at"].is_i64());

    // An answer to one ceremony's challenge does not finish another.
    let (_, first) = start(&h, "/auth/passkeys/login/start", json!({}), None).await;
    let (second, _) = start(&h, "/auth/passkeys/login/start", json!({}), None).await;
    let body = json!({"ceremony_id": second, "credential": device.answer(first)});
    let crossed = h
        .post("/auth/passkeys/login/finish", body.clone(), None)
        .await;
    problem(crossed, StatusCode::UNAUTHORIZED, "invalid_passkey").await;
    let again = h.post("/auth/passkeys/login/finish", body, None).await;
    problem(again, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;

    // With a passkey, a password login is challenged, and the passkey completes it.
    let mfa_token = h.challenge("ada").await;
    let (ceremony, options) = start(
        &h,
        "/auth/passkeys/login/start",
        json!({"mfa_token": mfa_token}),
        None,
    )
    .await;
    assert_eq!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let body = json!({"ceremony_id": ceremony, "credential": device.answer(options)});
    let response = h.post("/auth/passkeys/login/finish", body, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], json!(["pwd", "hwk"]));
    // The challenge is spent.
    let spent = h.verify(&mfa_token, json!({"code": "123456"})).await;
    problem(spent, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    let unknown = h
        .post(
            "/auth/passkeys/login/start",
            json!({"mfa_token": "nope"}),
            None,
        )
        .await;
    problem(unknown, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;

    // Removing one needs a recent authentication (AUTH__MFA__REAUTH_MINUTES, 15).
    let path = format!("/auth/passkeys/{passkey_id}");
    h.clock.advance(901);
    let stale = h
        .http
        .delete(h.server.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    problem(
        stale,
        StatusCode::UNAUTHORIZED,
        "insufficient_user_authentication",
    )
    .await;
    let token = h
        .stepped_up(&token, json!({"password": tests::mfa::PASSWORD}))
        .await;

    // Removed, it signs nothing in, and the password alone logs in again.
    let removed = h
        .http
        .delete(h.server.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let removed = h
        .http
        .delete(h.server.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    problem(removed, StatusCode::NOT_FOUND, "not_found").await;
    problem(
        device.login(&h).await,
        StatusCode::UNAUTHORIZED,
        "invalid_passkey",
    )
    .await;
    assert!(h.login("ada").await["access_token"].is_string());
    for kind in ["passkey_added", "passkey_removed", "mfa_verified"] {
        assert!(h.logged(&ada, kind).await, "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloned_authenticator_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let h = MfaApp::on_sqlite(dir.path(), |_| {}, AuthRouter::new()).await;
    let token = h.user("ada").await;
    let ada = claims(&token)["sub"].as_str().unwrap().to_owned();
    let (token_backend, _) = SoftToken::new(true).unwrap();
    let mut device = register(&h, &token, token_backend).await;
    // A copy of the authenticator as it is now (its key and its counter).
    let copy = SoftToken::from_cbor(&device.authenticator.to_cbor().unwrap()).unwrap();
    let mut clone = Device {
        authenticator: copy,
        credential_id: device.credential_id.clone(),
        user_handle: device.user_handle.clone(),
    };
    for _ in 0..2 {
        assert_eq!(device.login(&h).await.status(), StatusCode::OK);
    }
    // The clone signs with a counter the service has seen pass.
    problem(
        clone.login(&h).await,
        StatusCode::UNAUTHORIZED,
        "invalid_passkey",
    )
    .await;
    assert!(h.logged(&ada, "mfa_failed").await);
    // The genuine authenticator goes on.
    assert_eq!(device.login(&h).await.status(), StatusCode::OK);
    // A login with the password still asks for the passkey.
    assert_eq!(h.login("ada").await["methods"], json!(["passkey"]));
}
