//! What the token test files share: one of our keys, and the same key on jsonwebtoken's side.

#![allow(dead_code, reason = "each test file uses part of it")]

use auth_core::config::JwtAlgorithm;
use auth_core::token::JwtKey;
use aws_lc_rs::signature::KeyPair as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// A key of ours and its jsonwebtoken counterparts.
pub(crate) struct KeyPair {
    /// Ours.
    pub(crate) key: JwtKey,
    /// jsonwebtoken's name of the algorithm.
    pub(crate) alg: Algorithm,
    /// jsonwebtoken's signing key.
    pub(crate) encoding: EncodingKey,
    /// jsonwebtoken's verifying key.
    pub(crate) decoding: DecodingKey,
}

/// The DER inside a PEM document.
pub(crate) fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("PEM base64")
}

/// A key of `alg`: an HMAC key over `secret`, or a fresh key pair.
pub(crate) fn key_pair(alg: JwtAlgorithm, secret: &[u8]) -> KeyPair {
    let hmac = |jwt_alg| KeyPair {
        key: JwtKey::hmac(alg, secret, None).expect("an HMAC key"),
        alg: jwt_alg,
        encoding: EncodingKey::from_secret(secret),
        decoding: DecodingKey::from_secret(secret),
    };
    match alg {
        JwtAlgorithm::HS256 => return hmac(Algorithm::HS256),
        JwtAlgorithm::HS384 => return hmac(Algorithm::HS384),
        JwtAlgorithm::HS512 => return hmac(Algorithm::HS512),
        _ => {}
    }
    let (key, pem) = JwtKey::generate(alg).expect("a key pair");
    let pem = secrecy::ExposeSecret::expose_secret(&pem).to_owned();
    let der = pem_body(&pem);
    let (alg, encoding, decoding) = match alg {
        JwtAlgorithm::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).expect("RSA");
            (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM"),
                DecodingKey::from_rsa_der(pair.public_key().as_ref()),
            )
        }
        JwtAlgorithm::ES256 => {
            let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
            )
            .expect("P-256");
            (
                Algorithm::ES256,
                EncodingKey::from_ec_pem(pem.as_bytes()).expect("EC PEM"),
                DecodingKey::from_ec_der(pair.public_key().as_ref()),
            )
        }
        _ => {
            let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&der).expect("Ed25519");
            (
                Algorithm::EdDSA,
                EncodingKey::from_ed_pem(pem.as_bytes()).expect("Ed25519 PEM"),
                DecodingKey::from_ed_der(pair.public_key().as_ref()),
            )
        }
    };
    KeyPair {
        key,
        alg,
        encoding,
        decoding,
    }
}
