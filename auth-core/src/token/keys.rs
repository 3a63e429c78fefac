//! Signing and verification keys, each bound to one algorithm and one `kid`.
//!
//! Keys are parsed once, when a [`JwtKey`] is built, never per request.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, PublicEncryptingKey};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ParsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use secrecy::SecretString;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::jwk::{Jwk, PublicComponents};
use super::{TokenError, TokenType};
use crate::config::JwtAlgorithm;

/// What a key signs with, parsed once from the key material.
#[allow(
    clippy::large_enum_variant,
    reason = "built once per key, kept behind an Arc"
)]
enum Signer {
    Hmac(hmac::Key),
    Ed25519(Ed25519KeyPair),
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// What a key verifies with, parsed once from the key material.
#[allow(
    clippy::large_enum_variant,
    reason = "built once per key, kept behind an Arc"
)]
enum Verifier {
    Hmac(hmac::Key),
    Public(ParsedPublicKey),
}

/// The JOSE header this crate writes. Field order is the serialized order.
#[derive(Serialize)]
struct WrittenHeader<'a> {
    typ: &'a str,
    alg: &'a str,
    kid: &'a str,
}

/// One key: its id, its algorithm, and the parsed material to verify (and maybe sign) with.
///
/// The cryptography is aws-lc-rs's, with keys parsed once when the `JwtKey` is built: an
/// HMAC key, an Ed25519/ECDSA/RSA key pair, or a parsed public key. Nothing is parsed per
/// token.
#[derive(Clone)]
pub struct JwtKey {
    kid: String,
    algorithm: JwtAlgorithm,
    signer: Option<Arc<Signer>>,
    verifier: Arc<Verifier>,
    /// The base64url headers this key writes: for access tokens (`typ: at+jwt`) and for other
    /// tokens (`typ: JWT`). A token carrying one of them needs no header parse.
    headers: [String; 2],
    retired_at: Option<i64>,
    /// What the key set publishes of it; `None` for HMAC keys (secrets).
    public: Option<PublicComponents>,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("can_sign", &self.signer.is_some())
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

fn invalid(algorithm: JwtAlgorithm, reason: impl Into<String>) -> TokenError {
    TokenError::InvalidKey {
        algorithm,
        reason: reason.into(),
    }
}

/// A key id derived from public material: the first 12 bytes of its SHA-256, base64url.
fn derive_kid(algorithm: JwtAlgorithm, material: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(algorithm.as_str().as_bytes());
    hasher.update(b":");
    hasher.update(material);
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..12])
}

/// The base64url of the header a key writes for tokens of type `typ`.
fn written_header(algorithm: JwtAlgorithm, kid: &str, typ: &str) -> Result<String, TokenError> {
    let json = serde_json::to_vec(&WrittenHeader {
        typ,
        alg: algorithm.as_str(),
        kid,
    })
    .map_err(|e| invalid(algorithm, e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

impl JwtKey {
    fn assemble(
        kid: String,
        algorithm: JwtAlgorithm,
        signer: Option<Signer>,
        verifier: Verifier,
        public: Option<PublicComponents>,
    ) -> Result<Self, TokenError> {
        let headers = [
            written_header(algorithm, &kid, "at+jwt")?,
            written_header(algorithm, &kid, "JWT")?,
        ];
        Ok(Self {
            kid,
            algorithm,
            signer: signer.map(Arc::new),
            verifier: Arc::new(verifier),
            headers,
            retired_at: None,
            public,
        })
    }

    /// An HMAC key (HS256/384/512) from a shared secret.
    ///
    /// # Errors
    /// [`TokenError::InvalidKey`] when the algorithm is not HMAC or the secret is shorter than
    /// the hash output (RFC 7518 section 3.2).
    pub fn hmac(
        algorithm: JwtAlgorithm,
        secret: &[u8],
        kid: Option<String>,
    ) -> Result<Self, TokenError> {
        if !algorithm.is_hmac() {
            return Err(invalid(
                algorithm,
                "a shared secret only works with HS256, HS384 or HS512",
            ));
        }
        if secret.len() < algorithm.min_secret_bytes() {
            return Err(invalid(
                algorithm,
                format!(
                    "the secret must be at least {} bytes",
                    algorithm.min_secret_bytes()
                ),
            ));
        }
        let hash = match algorithm {
            JwtAlgorithm::HS384 => hmac::HMAC_SHA384,
            JwtAlgorithm::HS512 => hmac::HMAC_SHA512,
            _ => hmac::HMAC_SHA256,
        };
        let key = hmac::Key::new(hash, secret);
        Self::assemble(
            kid.unwrap_or_else(|| derive_kid(algorithm, &Sha256::digest(secret))),
            algorithm,
            Some(Signer::Hmac(key.clone())),
            Verifier::Hmac(key),
            None,
        )
    }

    /// A signing key (RS256, ES256, EdDSA) from an unencrypted PKCS#8 PEM private key; the
    /// public key is derived from it.
    ///
    /// # Errors
    /// [`TokenError::InvalidKey`] when the PEM does not hold a key of this algorithm.
    pub fn from_private_pem(
        algorithm: JwtAlgorithm,
        pem: &str,
        kid: Option<String>,
    ) -> Result<Self, TokenError> {
        let der = pem_to_der(pem, "PRIVATE KEY").ok_or_else(|| {
            invalid(
                algorithm,
                "expected a `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM block",
            )
        })?;
        let rejected = |e: aws_lc_rs::error::KeyRejected| invalid(algorithm, e.to_string());
        let (public, components, signer) = match algorithm {
            JwtAlgorithm::EdDSA => {
                let pair = Ed25519KeyPair::from_pkcs8(&der).map_err(rejected)?;
                let public = pair.public_key().as_ref().to_vec();
                let components = PublicComponents::ed25519(&public);
                (public, components, Signer::Ed25519(pair))
            }
            JwtAlgorithm::ES256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(rejected)?;
                let public = pair.public_key().as_ref().to_vec();
                let components = PublicComponents::p256(&public);
                (public, components, Signer::Ecdsa(pair))
            }
            JwtAlgorithm::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(&der).map_err(rejected)?;
                if pair.public_modulus_len() < 256 {
                    return Err(invalid(algorithm, "RSA keys must be at least 2048 bits"));
                }
                let key = pair.public_key();
                let components = Some(PublicComponents::rsa(
                    key.modulus().big_endian_without_leading_zero(),
                    key.exponent().big_endian_without_leading_zero(),
                ));
                (key.as_ref().to_vec(), components, Signer::Rsa(pair))
            }
            _ => {
                return Err(invalid(
                    algorithm,
                    "HMAC algorithms take a secret, not a private key",
                ))
            }
        };
        let verifier = Verifier::Public(public_key(algorithm, &public)?);
        Self::assemble(
            kid.unwrap_or_else(|| derive_kid(algorithm, &public)),
            algorithm,
            Some(signer),
            verifier,
            components,
        )
    }

    /// A verification-only key (RS256, ES256, EdDSA) from a PEM public key (SPKI).
    ///
    /// # Errors
    /// [`TokenError::InvalidKey`] when the PEM cannot be parsed for this algorithm.
    pub fn from_public_pem(
        algorithm: JwtAlgorithm,
        pem: &str,
        kid: Option<String>,
    ) -> Result<Self, TokenError> {
        if algorithm.is_hmac() {
            return Err(invalid(
                algorithm,
                "HMAC algorithms take a secret, not a public key",
            ));
        }
        let der = pem_to_der(pem, "PUBLIC KEY").ok_or_else(|| {
            invalid(
                algorithm,
                "expected a `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) PEM block",
            )
        })?;
        if algorithm == JwtAlgorithm::RS256 {
            let bits = PublicEncryptingKey::from_der(&der)
                .map_err(|e| invalid(algorithm, e.to_string()))?
                .key_size_bits();
            if bits < 2048 {
                return Err(invalid(algorithm, "RSA keys must be at least 2048 bits"));
            }
        }
        let verifier = Verifier::Public(public_key(algorithm, &der)?);
        Self::assemble(
            kid.unwrap_or_else(|| derive_kid(algorithm, &der)),
            algorithm,
            None,
            verifier,
            PublicComponents::from_spki(algorithm, &der),
        )
    }

    /// Generates a fresh key: 64 random bytes for HMAC, P-256 for ES256, Ed25519 for EdDSA,
    /// RSA-2048 for RS256. Returns the key and its material as text (the secret, or PKCS#8 PEM)
    /// so that it can be kept.
    ///
    /// # Errors
    /// [`TokenError::InvalidKey`] if the system random generator fails.
    pub fn generate(algorithm: JwtAlgorithm) -> Result<(Self, SecretString), TokenError> {
        let rng = SystemRandom::new();
        let failed = |_| invalid(algorithm, "key generation failed");
        if algorithm.is_hmac() {
            let mut secret = [0_u8; 64];
            aws_lc_rs::rand::fill(&mut secret).map_err(failed)?;
            let text = URL_SAFE_NO_PAD.encode(secret);
            let key = Self::hmac(algorithm, text.as_bytes(), None)?;
            return Ok((key, SecretString::from(text)));
        }
        let der: Vec<u8> = match algorithm {
            JwtAlgorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            JwtAlgorithm::ES256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(failed)?
                    .as_ref()
                    .to_vec()
            }
            _ => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(failed)?;
                let pkcs8 =
                    AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(&pair).map_err(failed)?;
                pkcs8.as_ref().to_vec()
            }
        };
        let pem = der_to_pem(&der, "PRIVATE KEY");
        let key = Self::from_private_pem(algorithm, &pem, None)?;
        Ok((key, SecretString::from(pem)))
    }

    /// The key as a JSON Web Key, for the published key set; `None` for HMAC keys.
    #[must_use]
    pub fn public_jwk(&self) -> Option<Jwk> {
        self.public
            .as_ref()
            .map(|public| public.jwk(self.algorithm, &self.kid))
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm bound to this key.
    #[must_use]
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// When the key stopped signing, if it did.
    #[must_use]
    pub fn retired_at(&self) -> Option<i64> {
        self.retired_at
    }

    /// Marks the key as retired at `at` (seconds since the Unix epoch).
    #[must_use]
    pub fn retired(mut self, at: i64) -> Self {
        self.retired_at = Some(at);
        self
    }

    /// Whether this key can sign.
    #[must_use]
    pub fn can_sign(&self) -> bool {
        self.signer.is_some()
    }

    /// The base64url header this key writes for tokens of type `typ`.
    pub(crate) fn header(&self, typ: TokenType) -> &str {
        if typ == TokenType::Access {
            &self.headers[0]
        } else {
            &self.headers[1]
        }
    }

    /// Whether `header` is byte for byte one this key writes.
    pub(crate) fn writes_header(&self, header: &str) -> bool {
        self.headers.iter().any(|h| h == header)
    }

    /// Signs `message` (the JWS signing input); JWS encodings: the HMAC tag, the raw Ed25519
    /// signature, ECDSA `r || s`, RSASSA-PKCS1-v1_5.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, TokenError> {
        match self.signer.as_deref().ok_or(TokenError::Signing)? {
            Signer::Hmac(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
            Signer::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Signer::Ecdsa(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| TokenError::Signing),
            Signer::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(|_| TokenError::Signing)?;
                Ok(signature)
            }
        }
    }

    /// Whether `signature` is this key's valid signature of `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match &*self.verifier {
            Verifier::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Verifier::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

/// Parses a public key (raw or SubjectPublicKeyInfo) once, for the algorithm's verification.
fn public_key(algorithm: JwtAlgorithm, der: &[u8]) -> Result<ParsedPublicKey, TokenError> {
    let verification: &'static dyn aws_lc_rs::signature::VerificationAlgorithm = match algorithm {
        JwtAlgorithm::EdDSA => &ED25519,
        JwtAlgorithm::ES256 => &ECDSA_P256_SHA256_FIXED,
        _ => &RSA_PKCS1_2048_8192_SHA256,
    };
    ParsedPublicKey::new(verification, der).map_err(|e| invalid(algorithm, e.to_string()))
}

/// The keys a [`TokenManager`](super::TokenManager) knows: one current signing key, and older
/// keys accepted until their grace period ends.
#[derive(Debug, Clone)]
pub struct KeySet {
    current: Arc<JwtKey>,
    by_kid: HashMap<String, Arc<JwtKey>>,
}

impl KeySet {
    /// A key set whose current key is `current`.
    ///
    /// # Errors
    /// [`TokenError::InvalidKey`] when `current` cannot sign.
    pub fn new(current: JwtKey) -> Result<Self, TokenError> {
        if current.signer.is_none() {
            return Err(invalid(
                current.algorithm,
                "the current key must be able to sign",
            ));
        }
        let current = Arc::new(current);
        let mut by_kid = HashMap::new();
        by_kid.insert(current.kid.clone(), Arc::clone(&current));
        Ok(Self { current, by_kid })
    }

    /// Adds a retired key that is still accepted for verification during its grace period.
    #[must_use]
    pub fn with_previous(mut self, key: JwtKey) -> Self {
        if key.kid != self.current.kid {
            self.by_kid.insert(key.kid.clone(), Arc::new(key));
        }
        self
    }

    /// Makes `next` the signing key; the old one is retired at `now` and stays valid for the
    /// grace period.
    ///
    /// # Errors
    /// [`TokenError::InvalidKey`] when `next` cannot sign.
    pub fn rotated(&self, next: JwtKey, now: i64) -> Result<Self, TokenError> {
        let mut set = Self::new(next)?;
        for (kid, key) in &self.by_kid {
            if *kid == set.current.kid {
                continue;
            }
            let key = if Arc::ptr_eq(key, &self.current) {
                Arc::new((**key).clone().retired(now))
            } else {
                Arc::clone(key)
            };
            set.by_kid.insert(kid.clone(), key);
        }
        Ok(set)
    }

    /// The signing key.
    #[must_use]
    pub fn current(&self) -> &JwtKey {
        &self.current
    }

    /// The key with this id.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&JwtKey> {
        self.by_kid.get(kid).map(AsRef::as_ref)
    }

    /// The key that writes exactly this base64url header, if any: a token carrying it needs
    /// no header parse (the header names that key's id and algorithm and nothing else).
    pub(crate) fn by_header(&self, header: &str) -> Option<&JwtKey> {
        if self.current.writes_header(header) {
            return Some(&self.current);
        }
        self.by_kid
            .values()
            .map(AsRef::as_ref)
            .find(|key| key.writes_header(header))
    }

    /// Every key, current first.
    pub fn iter(&self) -> impl Iterator<Item = &JwtKey> {
        let current = self.current.as_ref();
        std::iter::once(current).chain(
            self.by_kid
                .values()
                .map(AsRef::as_ref)
                .filter(move |k| k.kid != current.kid),
        )
    }

    /// Every key id, current first.
    #[must_use]
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = vec![self.current.kid.as_str()];
        kids.extend(
            self.by_kid
                .keys()
                .map(String::as_str)
                .filter(|k| *k != self.current.kid),
        );
        kids
    }
}

/// Decodes the first PEM block whose label ends with `label_suffix` (so `PRIVATE KEY` also
/// matches `EC PRIVATE KEY` labels being refused later by the key parser).
pub(crate) fn pem_to_der(pem: &str, label_suffix: &str) -> Option<Vec<u8>> {
    let mut inside = false;
    let mut body = String::new();
    for line in pem.lines().map(str::trim) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            inside = label.ends_with(label_suffix);
            body.clear();
            continue;
        }
        if line.starts_with("-----END ") {
            if inside {
                return STANDARD.decode(body.as_bytes()).ok();
            }
            continue;
        }
        if inside {
            body.push_str(line);
        }
    }
    None
}

/// Encodes DER as a PEM block with 64-character lines (RFC 7468).
pub(crate) fn der_to_pem(der: &[u8], label: &str) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}
