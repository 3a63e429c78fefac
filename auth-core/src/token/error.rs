use crate::config::JwtAlgorithm;

use super::TokenType;

/// Why a token was refused. Each reason is distinct so tests and logs can tell them apart;
/// clients only ever see the generic `invalid_token` code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Longer than `jwt.max_token_bytes`; refused before any parsing.
    #[error("token is larger than {max} bytes")]
    TooLarge {
        /// The configured limit.
        max: usize,
    },
    /// Not three base64url segments with a JSON header and claims.
    #[error("token is malformed")]
    Malformed,
    /// The header lists critical extensions (RFC 7515 section 4.1.11), none of which we implement.
    #[error("token header has unsupported critical extensions")]
    UnsupportedCritical,
    /// `alg` is `none`, unknown, or not one this service accepts.
    #[error("token algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The header has no `kid`.
    #[error("token header has no key id")]
    MissingKeyId,
    /// The `kid` names no key of this service.
    #[error("token key id is unknown")]
    UnknownKeyId,
    /// The key was rotated out and its grace period has ended.
    #[error("token was signed with a retired key")]
    KeyRetired,
    /// `alg` differs from the algorithm bound to the key (algorithm confusion).
    #[error("token algorithm does not match its key")]
    AlgorithmMismatch,
    /// The signature does not verify.
    #[error("token signature is invalid")]
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is still in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token was issued in the future")]
    IssuedInFuture,
    /// `iss` is missing or differs from the configured issuer.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// `aud` is missing or does not contain the configured audience.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// A required claim is absent.
    #[error("token lacks the `{0}` claim")]
    MissingClaim(&'static str),
    /// An access token where a refresh token was expected, or the reverse.
    #[error("token is a {found} token, expected {expected}")]
    WrongTokenType {
        /// What the caller asked for.
        expected: TokenType,
        /// What the token says it is.
        found: TokenType,
    },
    /// Revoked (logout, session revocation, password change).
    #[error("token has been revoked")]
    Revoked,
    /// The signing key cannot be used with this algorithm, or a key could not be parsed.
    #[error("invalid {algorithm} key: {reason}")]
    InvalidKey {
        /// The algorithm the key was meant for.
        algorithm: JwtAlgorithm,
        /// What is wrong with it.
        reason: String,
    },
    /// Signing failed.
    #[error("token could not be signed")]
    Signing,
}
