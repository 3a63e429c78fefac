//! Refusing weak secrets: known defaults, short ones, and guessable ones by estimate.

use super::ConfigError;

/// Values that ship in tutorials and templates; never accepted as a secret.
const KNOWN_WEAK_SECRETS: &[&str] = &[
    "change-me",
    "changeme",
    "change_me",
    "secret",
    "your-secret-key",
    "your_secret_key",
    "supersecret",
    "password",
    "default",
    "development",
    "test",
    "jwt-secret",
];

/// The fewest guesses (as a power of ten) a secret's estimate must reach: 10^18, about 60
/// bits. zxcvbn counts at most 2^64 guesses, and every random secret of the required length
/// reaches that cap; a secret made of words, repeats, sequences or keyboard rows does not.
const MIN_SECRET_GUESSES_LOG10: f64 = 18.0;

/// Refuses known defaults, placeholders, short secrets, and secrets an attacker would guess:
/// the estimate is zxcvbn's (Dropbox's password-strength estimator, as NIST SP 800-63B
/// section 5.1.1.2 suggests checking against patterns and dictionaries), which finds
/// repeats (`passwordpassword...`), sequences (`0123456789abcdef...`), keyboard rows and
/// dictionary words. The error gives the estimate and the kinds of pattern found, never the
/// secret or a part of it.
pub(super) fn check_secret(
    var: &'static str,
    secret: &str,
    min_bytes: usize,
) -> Result<(), ConfigError> {
    let normalized = secret.trim().to_ascii_lowercase();
    let weak = |reason: String| {
        Err(ConfigError::WeakSecret {
            var,
            reason,
            min_bytes,
        })
    };
    if KNOWN_WEAK_SECRETS.contains(&normalized.as_str())
        || normalized.contains("change-me")
        || normalized.contains("changeme")
        || normalized.contains("your-secret")
    {
        return weak("it is a well-known default or placeholder".to_owned());
    }
    if secret.len() < min_bytes {
        return weak("it is too short".to_owned());
    }
    let mut chars = secret.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return weak("it repeats a single character".to_owned());
        }
    }
    let estimate = zxcvbn::zxcvbn(secret, &[]);
    let guesses = estimate.guesses_log10();
    if guesses < MIN_SECRET_GUESSES_LOG10 {
        return weak(format!(
            "it follows a pattern ({}) and would fall to about 10^{guesses:.0} guesses \
             (about {bits:.0} bits; a random secret of this length is beyond 10^19)",
            patterns(&estimate),
            bits = guesses * std::f64::consts::LOG2_10,
        ));
    }
    Ok(())
}

/// The kinds of pattern zxcvbn found, for the error (no part of the secret).
fn patterns(estimate: &zxcvbn::Entropy) -> String {
    use zxcvbn::matching::patterns::MatchPattern;
    let mut kinds: Vec<&str> = Vec::new();
    for found in estimate.sequence() {
        let kind = match found.pattern {
            MatchPattern::Dictionary(_) => "words",
            MatchPattern::Spatial(_) => "keyboard rows",
            MatchPattern::Repeat(_) => "repetition",
            MatchPattern::Sequence(_) => "a sequence",
            MatchPattern::Regex(_) | MatchPattern::Date(_) => "dates or years",
            MatchPattern::BruteForce => continue,
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        "too little variety".to_owned()
    } else {
        kinds.join(", ")
    }
}
