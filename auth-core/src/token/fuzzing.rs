//! The token reader's inner parsers, exposed for the fuzz targets in `fuzz/` (feature
//! `fuzzing`; not an API).

use super::error::TokenError;
use super::{fast_json, header, Claims};

/// The fast header walk: `alg` and `kid`, when it reads `json` itself.
#[must_use]
pub fn header_walk(json: &str) -> Option<(String, Option<String>)> {
    fast_json::header(json).map(|h| (h.alg.into_owned(), h.kid.map(|k| k.into_owned())))
}

/// The strict header parse: `alg`, `kid`, and whether `crit` is present.
///
/// # Errors
/// As the token reader refuses the header.
pub fn header(json: &str) -> Result<(String, Option<String>, bool), TokenError> {
    header::parse(json).map(|h| {
        (
            h.alg.into_owned(),
            h.kid.map(|k| k.into_owned()),
            h.crit.is_some(),
        )
    })
}

/// The claims fast path: the claims, when `payload` has the shape this crate writes.
#[must_use]
pub fn claims_fast_path(payload: &str) -> Option<Claims> {
    fast_json::claims(payload)
}
