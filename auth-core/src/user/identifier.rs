//! Identifiers that cannot impersonate each other.
//!
//! A username is prepared with the PRECIS `UsernameCasePreserved` profile of RFC 8265 (width
//! mapping, NFC, disallowed code points refused) before it is checked or stored, and compared
//! through its `UsernameCaseMapped` form (the same, case-mapped): `ａｄｍｉｎ`, `ADMIN` and
//! `admin` are one name, and so are `admín` sent precomposed and `admi\u{301}n` sent with a
//! combining accent.
//!
//! Beyond equality, two names may *look* alike: `аdmin` with a Cyrillic `а`, `рор` written
//! wholly in Cyrillic. Unicode TR39 gives each string a confusable *skeleton*; the stores keep
//! the skeleton beside the compared form and refuse a second user with the same one, with the
//! answer a taken name gets. Names that mix scripts are refused outright unless
//! [`UsernameRules::allow_mixed_scripts`] is set.
//!
//! Email addresses compare by their local part, case-insensitively, and their domain in IDNA
//! ASCII form (`bücher.example` is `xn--bcher-kva.example`); the local part has a skeleton too.
//!
//! ```
//! use auth_core::user::identifier::{check_username, username_key, IdentifierKeys, UsernameRules};
//!
//! assert_eq!(username_key("ＡＤＭＩＮ"), "admin");
//! assert_eq!(username_key("admi\u{301}n"), username_key("admín"));
//! assert!(check_username("аdmin", UsernameRules::default()).is_err()); // Cyrillic and Latin
//! assert_eq!(
//!     IdentifierKeys::new("рор", "a@example.com").username_skeleton,
//!     IdentifierKeys::new("pop", "b@example.com").username_skeleton,
//! );
//! ```

use precis_core::profile::Profile as _;
use precis_profiles::{UsernameCaseMapped, UsernameCasePreserved};
use unicode_security::{skeleton, MixedScript};

/// The version of the rules below. A stored user whose keys were computed by an older version
/// gets them recomputed when the SQL store starts; raise it whenever a key function changes.
pub const IDENTIFIER_VERSION: i64 = 1;

/// Options of the username check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UsernameRules {
    /// Accept names whose letters come from more than one script (`AUTH__USERS__ALLOW_MIXED_SCRIPTS`).
    /// Off by default: mixing is how `аdmin` passes for `admin`.
    pub allow_mixed_scripts: bool,
}

impl UsernameRules {
    /// Rules that accept mixed scripts when `allow` is true.
    #[must_use]
    pub fn allow_mixed_scripts(allow: bool) -> Self {
        Self {
            allow_mixed_scripts: allow,
        }
    }
}

/// Why a username was refused. The messages are the ones clients see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsernameError {
    /// Fewer than 3 or more than 64 characters once prepared.
    #[error("must be 3 to 64 characters")]
    Length,
    /// A character outside letters, digits, `.`, `_` and `-`, or one PRECIS disallows.
    #[error("may contain only letters, digits, `.`, `_` and `-`")]
    Characters,
    /// Letters of more than one script.
    #[error("may not mix letters of different scripts")]
    MixedScripts,
}

/// Prepares and checks a username, returning the form to store: width-mapped, NFC, case
/// kept. 3 to 64 characters of letters, digits, `.`, `_` and `-` (no `@`, so a login is never
/// ambiguous between a username and an email address), from one script unless the rules allow
/// more.
///
/// # Errors
/// The first rule the name breaks.
pub fn check_username(raw: &str, rules: UsernameRules) -> Result<String, UsernameError> {
    let prepared = UsernameCasePreserved::new()
        .enforce(raw.trim())
        .map_err(|_| UsernameError::Characters)?
        .into_owned();
    if !(3..=64).contains(&prepared.chars().count()) {
        return Err(UsernameError::Length);
    }
    if !prepared
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(UsernameError::Characters);
    }
    if !rules.allow_mixed_scripts && !prepared.is_single_script() {
        return Err(UsernameError::MixedScripts);
    }
    Ok(prepared)
}

/// The form usernames are compared by (unique, and looked up at login): PRECIS
/// `UsernameCaseMapped`. A name that profile refuses (stored before these rules, or typed at a
/// login form) compares by its trimmed lower-case form, as it did before.
#[must_use]
pub fn username_key(name: &str) -> String {
    let name = name.trim();
    match UsernameCaseMapped::new().enforce(name) {
        Ok(key) => key.into_owned(),
        Err(_) => name.to_lowercase(),
    }
}

/// The form email addresses are compared by: the local part lower-cased, the domain in IDNA
/// ASCII form (lower case). An address without `@` or with a domain IDNA refuses compares by
/// its trimmed lower-case form.
#[must_use]
pub fn email_key(email: &str) -> String {
    let email = email.trim();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email.to_lowercase();
    };
    match idna::domain_to_ascii(domain) {
        Ok(domain) => format!("{}@{domain}", local.to_lowercase()),
        Err(_) => email.to_lowercase(),
    }
}

/// Whether IDNA, with the STD3 rules of host names (letters, digits, hyphens) and DNS
/// lengths, accepts the domain of an address (used by the email check).
pub(crate) fn domain_is_valid(domain: &str) -> bool {
    idna::domain_to_ascii_strict(domain).is_ok_and(|ascii| !ascii.is_empty())
}

/// The TR39 confusable skeleton of a compared form, lower-cased so that a digit mapped to a
/// capital (`0` to `O`) meets the lower-case letter it imitates.
#[must_use]
pub fn confusable_skeleton(key: &str) -> String {
    skeleton(key).collect::<String>().to_lowercase()
}

/// The compared form of an address ([`email_key`]) and its skeleton: the local part's
/// skeleton with the domain as is (IDNA has already made it ASCII).
#[must_use]
pub fn email_keys(email: &str) -> (String, String) {
    let key = email_key(email);
    let skeleton = match key.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", confusable_skeleton(local)),
        None => confusable_skeleton(&key),
    };
    (key, skeleton)
}

/// The four derived columns a store keeps unique for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentifierKeys {
    /// [`username_key`] of the username.
    pub username: String,
    /// [`confusable_skeleton`] of that key.
    pub username_skeleton: String,
    /// [`email_key`] of the address.
    pub email: String,
    /// The skeleton of that key's local part, with its domain.
    pub email_skeleton: String,
}

impl IdentifierKeys {
    /// The keys of a username and an address.
    #[must_use]
    pub fn new(username: &str, email: &str) -> Self {
        let username = username_key(username);
        let (email, email_skeleton) = email_keys(email);
        Self {
            username_skeleton: confusable_skeleton(&username),
            username,
            email,
            email_skeleton,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_case_and_composition_give_one_key() {
        for variant in ["admin", "ADMIN", "ａｄｍｉｎ", " Admin "] {
            assert_eq!(username_key(variant), "admin", "{variant:?}");
        }
        assert_eq!(username_key("admi\u{301}n"), username_key("adm\u{ed}n"));
        assert_eq!(
            check_username("admi\u{301}n", UsernameRules::default()),
            Ok("adm\u{ed}n".to_owned())
        );
        assert_eq!(
            check_username("ＪｏｈｎＤｏｅ", UsernameRules::default()),
            Ok("JohnDoe".to_owned())
        );
    }

    #[test]
    fn usernames_break_each_rule() {
        let strict = UsernameRules::default();
        assert_eq!(check_username("ab", strict), Err(UsernameError::Length));
        assert_eq!(
            check_username(&"a".repeat(65), strict),
            Err(UsernameError::Length)
        );
        for bad in ["a b c", "me@home", "smile😀", "tab\tname", "a/b/c"] {
            assert_eq!(
                check_username(bad, strict),
                Err(UsernameError::Characters),
                "{bad:?}"
            );
        }
        assert_eq!(
            check_username("\u{430}dmin", strict),
            Err(UsernameError::MixedScripts)
        );
        assert_eq!(
            check_username("\u{430}dmin", UsernameRules::allow_mixed_scripts(true)),
            Ok("\u{430}dmin".to_owned())
        );
        // One script plus digits and punctuation (Common) is fine; so is Japanese, whose
        // writing mixes Han, Hiragana and Katakana by nature.
        for good in ["jörg_2024", "Иван.Петров", "山田たろう", "x-y.z"] {
            assert!(check_username(good, strict).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn confusables_share_a_skeleton() {
        let admin = IdentifierKeys::new("admin", "admin@example.com");
        let cyrillic = IdentifierKeys::new("\u{430}dmin", "\u{430}dmin@example.com");
        assert_eq!(admin.username_skeleton, cyrillic.username_skeleton);
        assert_eq!(admin.email_skeleton, cyrillic.email_skeleton);
        assert_ne!(admin.username, cyrillic.username);
        let latin = IdentifierKeys::new("pop", "x@example.com");
        let whole_cyrillic = IdentifierKeys::new("\u{440}\u{43e}\u{440}", "y@example.com");
        assert_eq!(latin.username_skeleton, whole_cyrillic.username_skeleton);
        assert_eq!(confusable_skeleton("paypa1"), confusable_skeleton("paypal"));
        assert_eq!(confusable_skeleton("g00gle"), confusable_skeleton("google"));
        assert_ne!(confusable_skeleton("alice"), confusable_skeleton("bob"));
    }

    #[test]
    fn email_domains_compare_in_idna_form() {
        assert_eq!(
            email_key(" Jörg@Bücher.Example "),
            "jörg@xn--bcher-kva.example"
        );
        assert_eq!(
            email_key("jörg@xn--bcher-kva.example"),
            email_key("JÖRG@bücher.example")
        );
        assert!(domain_is_valid("bücher.example"));
        assert!(!domain_is_valid("exa mple.com"));
        assert!(!domain_is_valid("under_score.example"));
        assert!(!domain_is_valid(&format!("{}.example", "a".repeat(64))));
    }
}
