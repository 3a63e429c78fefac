//! The published key set (`GET /.well-known/jwks.json`), checked against jsonwebtoken, an
//! implementation of its own: for RS256, ES256 and EdDSA a token of the service verifies with
//! the key the set publishes under the token's `kid`; a rotated key stays published through
//! its grace period and no longer; a verification-only key (public PEM) publishes the same key
//! as the key pair it came from; HMAC keys are never published.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;

use auth_axum::core::config::JwtAlgorithm;
use auth_axum::core::token::{JwtKey, KeySet, TokenSubject};
use auth_axum::core::{AuthService, ManualClock};
use auth_axum::{AuthModule, AuthRouter};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tests::{random_secret, test_config, TestServer};

/// The service with `keys`, on `clock`, serving its auth routes.
async fn serve(keys: KeySet, clock: Arc<ManualClock>) -> (TestServer, AuthService) {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config("sqlite::memory:", dir.path());
    let service = AuthService::builder(config.clone())
        .with_keys(keys, SecretString::from(random_secret()))
        .with_clock(clock)
        .build()
        .unwrap();
    let module = AuthModule::new(service.clone(), config);
    let router = AuthRouter::new()
        .with_auth_routes(64 * 1024)
        .into_router()
        .with_state(module);
    (TestServer::spawn(router).await, service)
}

async fn jwks(server: &TestServer) -> (Value, JwkSet) {
    let response = reqwest::get(server.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let body: Value = response.json().await.unwrap();
    (body.clone(), serde_json::from_value(body).unwrap())
}

fn jsonwebtoken_algorithm(algorithm: JwtAlgorithm) -> Algorithm {
    match algorithm {
        JwtAlgorithm::RS256 => Algorithm::RS256,
        JwtAlgorithm::ES256 => Algorithm::ES256,
        _ => Algorithm::EdDSA,
    }
}

/// Verifies `token` with jsonwebtoken, using the key `set` publishes under its `kid`.
fn verifies(set: &JwkSet, token: &str, algorithm: JwtAlgorithm) -> bool {
    let kid = decode_header(token).unwrap().kid.unwrap();
    let Some(jwk) = set.find(&kid) else {
        return false;
    };
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(jsonwebtoken_algorithm(algorithm));
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    decode::<Value>(token, &key, &validation).is_ok()
}

/// The SubjectPublicKeyInfo PEM of a generated key's PKCS#8 PEM.
fn public_pem(algorithm: JwtAlgorithm, private_pem: &str) -> String {
    let body: String = private_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).unwrap();
    let spki = match algorithm {
        JwtAlgorithm::ES256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .unwrap()
            .public_key()
            .as_der()
            .unwrap()
            .as_ref()
            .to_vec(),
        JwtAlgorithm::EdDSA => Ed25519KeyPair::from_pkcs8(&der)
            .unwrap()
            .public_key()
            .as_der()
            .unwrap()
            .as_ref()
            .to_vec(),
        _ => aws_lc_rs::rsa::KeyPair::from_pkcs8(&der)
            .unwrap()
            .public_key()
            .as_der()
            .unwrap()
            .as_ref()
            .to_vec(),
    };
    let lines: Vec<String> = STANDARD
        .encode(spki)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_keys_verify_the_service_s_tokens_through_a_rotation() {
    for algorithm in [
        JwtAlgorithm::RS256,
        JwtAlgorithm::ES256,
        JwtAlgorithm::EdDSA,
    ] {
        let (first, first_pem) = JwtKey::generate(algorithm).unwrap();
        let clock = Arc::new(ManualClock::starting_now());
        let (server, service) = serve(KeySet::new(first.clone()).unwrap(), clock.clone()).await;
        let issue = || {
            service
                .tokens()
                .issue(&TokenSubject::access("user-1"))
                .unwrap()
                .token
        };
        let before = issue();
        let (body, set) = jwks(&server).await;
        assert_eq!(body["keys"].as_array().unwrap().len(), 1, "{algorithm:?}");
        assert_eq!(body["keys"][0]["use"], "sig");
        assert_eq!(body["keys"][0]["alg"], algorithm.as_str());
        assert!(verifies(&set, &before, algorithm), "{algorithm:?}");
        // Nothing secret: no private component of any key type.
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                body["keys"][0].get(private).is_none(),
                "{algorithm:?} {private}"
            );
        }

        // Rotated: both published, the new key first; the old one's tokens still verify.
        let (second, _) = JwtKey::generate(algorithm).unwrap();
        service.tokens().rotate(second).unwrap();
        let after = issue();
        let (body, set) = jwks(&server).await;
        let kids: Vec<&str> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[1], first.kid());
        assert!(verifies(&set, &before, algorithm) && verifies(&set, &after, algorithm));
        // Past the grace period (jwt.key_rotation_grace_period_seconds), the old key is gone.
        let grace = test_config("sqlite::memory:", std::path::Path::new("."))
            .jwt
            .key_rotation_grace_period_seconds;
        clock.advance(i64::try_from(grace).unwrap() + 1);
        let (_, set) = jwks(&server).await;
        assert_eq!(set.keys.len(), 1);
        assert!(!verifies(&set, &before, algorithm) && verifies(&set, &after, algorithm));

        // A verification-only key publishes exactly what its key pair does.
        let pem = public_pem(algorithm, first_pem.expose_secret());
        let public =
            JwtKey::from_public_pem(algorithm, &pem, Some(first.kid().to_owned())).unwrap();
        assert_eq!(public.public_jwk(), first.public_jwk(), "{algorithm:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmac_keys_are_never_published() {
    let (key, _) = JwtKey::generate(JwtAlgorithm::HS256).unwrap();
    let (server, _) = serve(
        KeySet::new(key).unwrap(),
        Arc::new(ManualClock::starting_now()),
    )
    .await;
    let (body, _) = jwks(&server).await;
    assert_eq!(body, serde_json::json!({"keys": []}));
}
