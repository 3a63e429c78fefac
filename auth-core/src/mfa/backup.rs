//! Backup codes: single-use codes given once at TOTP enrolment, for a user who lost their
//! authenticator.
//!
//! A code is ten characters of an alphabet without look-alikes (Crockford's base32: no `i`,
//! `l`, `o`, `u`), 50 bits, shown as `xxxxx-xxxxx`. Typed back, case, spaces and dashes do
//! not matter. Only a keyed tag of each is stored ([`MfaKeys::tag`](super::MfaKeys::tag)).
//!
//! ```
//! use auth_core::mfa::backup;
//! use auth_core::random::OsRandom;
//!
//! let codes = backup::generate(10, &OsRandom);
//! assert_eq!(codes.len(), 10);
//! assert_eq!(codes[0].len(), 11);
//! let typed = codes[0].to_uppercase().replace('-', " ");
//! assert_eq!(backup::normalize(&typed).as_deref(), Some(codes[0].replace('-', "").as_str()));
//! assert_eq!(backup::normalize("123456"), None); // a TOTP code is no backup code
//! ```

use crate::random::Random;

/// Crockford's base32 alphabet, lower case.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters per code.
pub const CODE_LEN: usize = 10;

/// `count` new codes, as shown to the user (`xxxxx-xxxxx`).
#[must_use]
pub fn generate(count: usize, random: &dyn Random) -> Vec<String> {
    (0..count)
        .map(|_| {
            let mut bytes = [0_u8; CODE_LEN];
            random.fill(&mut bytes);
            let chars: String = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A typed code in its compared form (lower case, no spaces or dashes, Crockford's
/// look-alikes read as the digits they stand for), or `None` when it cannot be a code.
#[must_use]
pub fn normalize(typed: &str) -> Option<String> {
    if typed.len() > 4 * CODE_LEN {
        return None;
    }
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect();
    let valid = code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::{generate, normalize};
    use crate::random::SeededRandom;

    #[test]
    fn codes_are_distinct_and_read_back_however_typed() {
        let codes = generate(10, &SeededRandom::new(3));
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            let plain = code.replace('-', "");
            assert_eq!(normalize(code).as_deref(), Some(plain.as_str()));
            assert_eq!(
                normalize(&format!(" {} ", code.to_uppercase())).as_deref(),
                Some(plain.as_str())
            );
        }
        assert_eq!(normalize("0o1il-abcde").as_deref(), Some("00111abcde"));
        assert_eq!(normalize("abcde-abcdu"), None);
        assert_eq!(normalize("abcde-abcd"), None);
        assert_eq!(normalize(&"a".repeat(100)), None);
    }
}
