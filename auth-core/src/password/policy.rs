//! The password policy (NIST SP 800-63B section 5.1.1.2, OWASP Authentication Cheat Sheet):
//! what a new password must be, checked at registration, change and reset, each failed rule
//! reported with a stable code so that a client can explain it in its own words.
//!
//! | rule | code | default |
//! |---|---|---|
//! | length in characters after NFKC | `password_too_short` / `password_too_long` | 8 to 128 |
//! | character classes | `password_missing_lowercase`, `_uppercase`, `_digit`, `_symbol` | none required |
//! | zxcvbn strength score, with username and email as user inputs | `password_too_weak` | 3 of 4 (0 turns it off) |
//! | not on the shipped list of 100,000 common passwords ([`breached`](super::breached)) | `password_breached` | on |
//! | not containing the username or the email address | `password_contains_identifier` | on |
//! | not one of the last N passwords of the account | `password_reused` | 5 (checked by the flows, which hold the hashes) |
//!
//! ```
//! use auth_core::config::PasswordConfig;
//! use auth_core::password::policy::{PasswordPolicy, PolicyInputs};
//!
//! let policy = PasswordPolicy::from_config(&PasswordConfig::default());
//! let ada = PolicyInputs::new("ada", "ada@example.com");
//! assert!(policy.check("correct horse battery staple", &ada).is_empty());
//! let codes: Vec<&str> = policy.check("password", &ada).iter().map(|v| v.code()).collect();
//! assert_eq!(codes, ["password_too_weak", "password_breached"]);
//! let codes: Vec<&str> = policy.check("ada", &ada).iter().map(|v| v.code()).collect();
//! assert_eq!(codes, ["password_too_short", "password_too_weak", "password_contains_identifier"]);
//! ```

use std::fmt;

use unicode_normalization::UnicodeNormalization as _;

use crate::config::PasswordConfig;
use crate::error::ValidationErrors;

/// zxcvbn reads at most this many characters: its matching grows faster than linearly with
/// the length, and a password this long that is weak in its first 64 characters is weak
/// enough to refuse.
const STRENGTH_PREFIX_CHARS: usize = 64;

/// Identifiers shorter than this are not looked for inside a password (`ab` is in too many).
const MIN_IDENTIFIER_CHARS: usize = 3;

/// A character class a policy may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CharClass {
    /// A lower-case letter.
    Lowercase,
    /// An upper-case letter.
    Uppercase,
    /// A digit.
    Digit,
    /// Anything else: punctuation, symbols, spaces.
    Symbol,
}

impl CharClass {
    fn matches(self, c: char) -> bool {
        match self {
            Self::Lowercase => c.is_lowercase(),
            Self::Uppercase => c.is_uppercase(),
            Self::Digit => c.is_numeric(),
            Self::Symbol => !c.is_alphanumeric(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Lowercase => "a lower-case letter",
            Self::Uppercase => "an upper-case letter",
            Self::Digit => "a digit",
            Self::Symbol => "a symbol or space",
        }
    }
}

/// One rule a password broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyViolation {
    /// Fewer characters (after NFKC) than the minimum.
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More characters (after NFKC) than the maximum.
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// No character of a required class.
    MissingClass(CharClass),
    /// zxcvbn's score is under the floor.
    TooWeak {
        /// The score the password got (0 to 4).
        score: u8,
        /// The floor.
        min: u8,
    },
    /// On the shipped list of common passwords.
    Breached,
    /// Contains the username or the email address (or its local part).
    ContainsIdentifier,
    /// One of the account's last passwords.
    Reused {
        /// How many past passwords are compared.
        history: usize,
    },
}

impl PolicyViolation {
    /// The stable machine code of the rule.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooLong { .. } => "password_too_long",
            Self::MissingClass(CharClass::Lowercase) => "password_missing_lowercase",
            Self::MissingClass(CharClass::Uppercase) => "password_missing_uppercase",
            Self::MissingClass(CharClass::Digit) => "password_missing_digit",
            Self::MissingClass(CharClass::Symbol) => "password_missing_symbol",
            Self::TooWeak { .. } => "password_too_weak",
            Self::Breached => "password_breached",
            Self::ContainsIdentifier => "password_contains_identifier",
            Self::Reused { .. } => "password_reused",
        }
    }
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Worded as before the policy had codes, which clients may match.
            Self::TooShort { min } => write!(f, "password must be at least {min} characters"),
            Self::TooLong { max } => write!(f, "password must be at most {max} characters"),
            Self::MissingClass(class) => write!(f, "must contain {}", class.name()),
            Self::TooWeak { score, min } => write!(
                f,
                "is too easy to guess (strength {score} of 4, at least {min} needed): use a \
                 longer phrase of unrelated words"
            ),
            Self::Breached => f.write_str("is one of the most common passwords"),
            Self::ContainsIdentifier => {
                f.write_str("must not contain your username or email address")
            }
            Self::Reused { history } => write!(f, "must differ from your last {history} passwords"),
        }
    }
}

/// Pushes each violation onto `errors` under `field`, with its code.
pub fn push_violations(
    violations: &[PolicyViolation],
    field: &'static str,
    errors: &mut ValidationErrors,
) {
    for violation in violations {
        errors.push_coded(field, violation.code(), violation.to_string());
    }
}

/// What a password is checked against besides itself: the account's identifiers, which
/// zxcvbn also counts as guessable words.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInputs<'a> {
    username: &'a str,
    email: &'a str,
}

impl<'a> PolicyInputs<'a> {
    /// The inputs of an account with this username and address.
    #[must_use]
    pub fn new(username: &'a str, email: &'a str) -> Self {
        Self { username, email }
    }
}

/// The password policy, from `[password]` in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_length: usize,
    max_length: usize,
    classes: Vec<CharClass>,
    min_strength: u8,
    check_breached: bool,
    forbid_identifiers: bool,
    history: usize,
}

impl PasswordPolicy {
    /// The policy `config` describes.
    #[must_use]
    pub fn from_config(config: &PasswordConfig) -> Self {
        let classes = [
            (config.require_lowercase, CharClass::Lowercase),
            (config.require_uppercase, CharClass::Uppercase),
            (config.require_digit, CharClass::Digit),
            (config.require_symbol, CharClass::Symbol),
        ]
        .into_iter()
        .filter_map(|(required, class)| required.then_some(class))
        .collect();
        Self {
            min_length: config.min_length,
            max_length: config.max_length,
            classes,
            min_strength: config.min_strength,
            check_breached: config.check_breached,
            forbid_identifiers: config.forbid_identifiers,
            history: config.history,
        }
    }

    /// How many past passwords (the current one included) a new one must differ from.
    #[must_use]
    pub fn history(&self) -> usize {
        self.history
    }

    /// Every rule `password` breaks, in the order of the table above (empty when it passes).
    /// History is not checked here: it needs the account's hashes and the hashing threads
    /// (the flows do it after this passes).
    #[must_use]
    pub fn check(&self, password: &str, inputs: &PolicyInputs<'_>) -> Vec<PolicyViolation> {
        let mut violations = Vec::new();
        // Over-long input is refused on its bytes first, before any normalisation work.
        if password.len() > self.max_length.saturating_mul(4) {
            violations.push(PolicyViolation::TooLong {
                max: self.max_length,
            });
            return violations;
        }
        let normalized: String = password.nfkc().collect();
        let length = normalized.chars().count();
        if length < self.min_length {
            violations.push(PolicyViolation::TooShort {
                min: self.min_length,
            });
        } else if length > self.max_length {
            violations.push(PolicyViolation::TooLong {
                max: self.max_length,
            });
            return violations;
        }
        for class in &self.classes {
            if !normalized.chars().any(|c| class.matches(c)) {
                violations.push(PolicyViolation::MissingClass(*class));
            }
        }
        let local_part = inputs
            .email
            .rsplit_once('@')
            .map_or(inputs.email, |(local, _)| local);
        if self.min_strength > 0 {
            let prefix: String = normalized.chars().take(STRENGTH_PREFIX_CHARS).collect();
            let score = u8::from(
                zxcvbn::zxcvbn(&prefix, &[inputs.username, inputs.email, local_part]).score(),
            );
            if score < self.min_strength {
                violations.push(PolicyViolation::TooWeak {
                    score,
                    min: self.min_strength,
                });
            }
        }
        if self.check_breached
            && (super::breached::contains(password)
                || (normalized != password && super::breached::contains(&normalized)))
        {
            violations.push(PolicyViolation::Breached);
        }
        if self.forbid_identifiers {
            let folded = normalized.to_lowercase();
            let contains = |identifier: &str| {
                let identifier = identifier.trim().to_lowercase();
                identifier.chars().count() >= MIN_IDENTIFIER_CHARS && folded.contains(&identifier)
            };
            if contains(inputs.username) || contains(local_part) {
                violations.push(PolicyViolation::ContainsIdentifier);
            }
        }
        violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(policy: &PasswordPolicy, password: &str) -> Vec<&'static str> {
        policy
            .check(
                password,
                &PolicyInputs::new("grace", "grace.hopper@example.com"),
            )
            .iter()
            .map(PolicyViolation::code)
            .collect()
    }

    fn policy(change: impl FnOnce(&mut PasswordConfig)) -> PasswordPolicy {
        let mut config = PasswordConfig::default();
        change(&mut config);
        PasswordPolicy::from_config(&config)
    }

    #[test]
    fn length_counts_characters_after_nfkc() {
        let p = policy(|c| c.min_strength = 0);
        // Eight characters, each a composed letter sent as a base letter and a combining
        // mark: sixteen code points, eight characters after NFKC.
        let composed = "e\u{301}".repeat(7);
        assert_eq!(codes(&p, &composed), ["password_too_short"]);
        assert!(codes(&p, &"e\u{301}".repeat(8)).is_empty());
        // A ligature is two characters after NFKC (and `fifififi` is a common password).
        assert_eq!(
            codes(&p, "\u{fb01}\u{fb01}\u{fb01}"),
            ["password_too_short", "password_breached"]
        );
        assert_eq!(
            codes(&p, "\u{fb01}\u{fb01}\u{fb01}\u{fb01}"),
            ["password_breached"]
        );
        assert_eq!(codes(&p, &"x".repeat(129)), ["password_too_long"]);
        assert_eq!(codes(&p, &"x".repeat(4 * 128 + 1)), ["password_too_long"]);
        assert!(codes(&p, &"xy".repeat(64)).is_empty());
    }

    #[test]
    fn classes_are_required_only_when_configured() {
        let p = policy(|c| {
            c.min_strength = 0;
            c.require_lowercase = true;
            c.require_uppercase = true;
            c.require_digit = true;
            c.require_symbol = true;
        });
        assert_eq!(
            codes(&p, "ALLUPPERCASE"),
            [
                "password_missing_lowercase",
                "password_missing_digit",
                "password_missing_symbol"
            ]
        );
        assert_eq!(codes(&p, "lower case 7"), ["password_missing_uppercase"]);
        assert!(codes(&p, "Ünïcödé 7!").is_empty());
        assert!(codes(&policy(|c| c.min_strength = 0), "alllowercase").is_empty());
    }

    #[test]
    fn strength_floor_uses_the_account_as_dictionary() {
        let p = PasswordPolicy::from_config(&PasswordConfig::default());
        assert_eq!(
            codes(&p, "qwertyuiop123"),
            ["password_too_weak", "password_breached"]
        );
        assert!(codes(&p, "correct horse battery staple").is_empty());
        // Strong to a dictionary that does not know the account (score 4), weak to one that
        // does (score 1).
        let p_no_ids = policy(|c| c.forbid_identifiers = false);
        assert_eq!(codes(&p_no_ids, "grace.hopper2024"), ["password_too_weak"]);
        let other = PolicyInputs::new("alan", "alan@example.com");
        assert!(p_no_ids.check("grace.hopper2024", &other).is_empty());
        assert!(codes(&policy(|c| c.min_strength = 0), "qwertyuiop").contains(&"password_breached"));
        assert!(
            !codes(&policy(|c| c.min_strength = 0), "qwertyuiop").contains(&"password_too_weak")
        );
    }

    #[test]
    fn breached_and_identifiers_can_be_turned_off() {
        let lax = policy(|c| {
            c.min_strength = 0;
            c.check_breached = false;
            c.forbid_identifiers = false;
        });
        assert!(codes(&lax, "password").is_empty());
        assert!(codes(&lax, "grace1234").is_empty());
        let strict = policy(|c| c.min_strength = 0);
        assert_eq!(codes(&strict, "PASSWORD"), ["password_breached"]);
        assert_eq!(
            codes(&strict, "my name is GRACE!"),
            ["password_contains_identifier"]
        );
        assert_eq!(
            codes(&strict, "grace.hopper rocks"),
            ["password_contains_identifier"]
        );
    }

    #[test]
    fn every_violation_has_its_own_code() {
        let all = [
            PolicyViolation::TooShort { min: 8 },
            PolicyViolation::TooLong { max: 128 },
            PolicyViolation::MissingClass(CharClass::Lowercase),
            PolicyViolation::MissingClass(CharClass::Uppercase),
            PolicyViolation::MissingClass(CharClass::Digit),
            PolicyViolation::MissingClass(CharClass::Symbol),
            PolicyViolation::TooWeak { score: 1, min: 3 },
            PolicyViolation::Breached,
            PolicyViolation::ContainsIdentifier,
            PolicyViolation::Reused { history: 5 },
        ];
        let codes: std::collections::HashSet<&str> = all.iter().map(|v| v.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert!(codes.iter().all(|c| c.starts_with("password_")));
    }
}
