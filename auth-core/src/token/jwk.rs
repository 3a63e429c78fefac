//! Public keys as JSON Web Keys (RFC 7517, RFC 7518 section 6, RFC 8037): what a resource
//! server needs to verify this service's tokens itself, published as the key set
//! (`GET /.well-known/jwks.json`).
//!
//! The components are read once, when a key is built: from the key pair aws-lc-rs holds
//! (RSA modulus and exponent, the ECDSA point, the Ed25519 key), or from the
//! SubjectPublicKeyInfo of a verification-only key (decoded by RustCrypto's `spki`, after
//! aws-lc-rs accepted the key). HMAC keys are secrets and are never published.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use crate::config::JwtAlgorithm;

/// One public key (RFC 7517 section 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Jwk {
    /// Key type: `RSA`, `EC` or `OKP`.
    pub kty: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// The algorithm tokens signed with it name.
    pub alg: &'static str,
    /// The key id tokens signed with it carry.
    pub kid: String,
    /// Curve: `P-256` or `Ed25519`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    /// RSA modulus, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The x coordinate (EC) or the public key (OKP), base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The y coordinate (EC), base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// A key set (RFC 7517 section 5): `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JwkSet {
    /// The keys, the signing key first.
    pub keys: Vec<Jwk>,
}

/// The public components of a key, base64url, without its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicComponents {
    Rsa { n: String, e: String },
    Ec { x: String, y: String },
    Okp { x: String },
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl PublicComponents {
    /// RSA from the big-endian modulus and exponent.
    pub(crate) fn rsa(modulus: &[u8], exponent: &[u8]) -> Self {
        Self::Rsa {
            n: b64(modulus),
            e: b64(exponent),
        }
    }

    /// P-256 from an uncompressed SEC1 point (`04 || x || y`); `None` for anything else.
    pub(crate) fn p256(point: &[u8]) -> Option<Self> {
        match point {
            [4, rest @ ..] if rest.len() == 64 => Some(Self::Ec {
                x: b64(&rest[..32]),
                y: b64(&rest[32..]),
            }),
            _ => None,
        }
    }

    /// Ed25519 from its 32-byte public key; `None` for anything else.
    pub(crate) fn ed25519(key: &[u8]) -> Option<Self> {
        (key.len() == 32).then(|| Self::Okp { x: b64(key) })
    }

    /// The components of a SubjectPublicKeyInfo (DER) aws-lc-rs accepted for `algorithm`.
    pub(crate) fn from_spki(algorithm: JwtAlgorithm, der: &[u8]) -> Option<Self> {
        match algorithm {
            JwtAlgorithm::RS256 => {
                let key = aws_lc_rs::rsa::PublicKey::from_der(der).ok()?;
                Some(Self::rsa(
                    key.modulus().big_endian_without_leading_zero(),
                    key.exponent().big_endian_without_leading_zero(),
                ))
            }
            JwtAlgorithm::ES256 | JwtAlgorithm::EdDSA => {
                let info = spki::SubjectPublicKeyInfoRef::try_from(der).ok()?;
                let key = info.subject_public_key.as_bytes()?;
                if algorithm == JwtAlgorithm::ES256 {
                    Self::p256(key)
                } else {
                    Self::ed25519(key)
                }
            }
            _ => None,
        }
    }

    /// The JWK of these components for a key `kid` of `algorithm`.
    pub(crate) fn jwk(&self, algorithm: JwtAlgorithm, kid: &str) -> Jwk {
        let mut jwk = Jwk {
            kty: "RSA",
            use_: "sig",
            alg: algorithm.as_str(),
            kid: kid.to_owned(),
            crv: None,
            n: None,
            e: None,
            x: None,
            y: None,
        };
        match self {
            Self::Rsa { n, e } => (jwk.n, jwk.e) = (Some(n.clone()), Some(e.clone())),
            Self::Ec { x, y } => {
                (jwk.kty, jwk.crv) = ("EC", Some("P-256"));
                (jwk.x, jwk.y) = (Some(x.clone()), Some(y.clone()));
            }
            Self::Okp { x } => {
                (jwk.kty, jwk.crv, jwk.x) = ("OKP", Some("Ed25519"), Some(x.clone()));
            }
        }
        jwk
    }
}
