//! Turning a loading error into one a person can act on: the variable as it was written, and
//! the setting it was probably meant to be.

use figment::error::Kind;

use super::ConfigError;

/// A figment error as a [`ConfigError`]: an unknown field becomes
/// [`ConfigError::UnknownKey`], everything else [`ConfigError::Load`].
pub(super) fn load_error(error: figment::Error) -> ConfigError {
    let Kind::UnknownField(found, expected) = &error.kind else {
        return ConfigError::Load(Box::new(error));
    };
    let from_env = error
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment"));
    // The path ends with the unknown key itself.
    let section: Vec<&str> = error
        .path
        .iter()
        .map(String::as_str)
        .take(error.path.len().saturating_sub(1))
        .collect();
    let file = error
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .map(ToString::to_string);
    let spell = |key: &str| {
        if from_env {
            let mut parts = vec!["AUTH".to_owned()];
            parts.extend(section.iter().map(|p| p.to_uppercase()));
            parts.push(key.to_uppercase());
            parts.join("__")
        } else {
            let mut parts: Vec<&str> = section.clone();
            parts.push(key);
            format!("`{}`", parts.join("."))
        }
    };
    let key = match (&file, from_env) {
        (Some(file), false) => format!("{} in {file}", spell(found)),
        _ => spell(found),
    };
    ConfigError::UnknownKey {
        key,
        suggestion: nearest(found, expected).map(spell),
    }
}

/// The expected key closest to `found` by edit distance, if close enough to be a slip
/// (at most a third of its length, and at least two edits allowed).
fn nearest<'a>(found: &str, expected: &[&'a str]) -> Option<&'a str> {
    let found = found.to_lowercase();
    let limit = (found.chars().count() / 3).max(2);
    expected
        .iter()
        .map(|candidate| (edit_distance(&found, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{edit_distance, nearest};

    #[test]
    fn slips_find_their_setting() {
        assert_eq!(edit_distance("secrt_key", "secret_key"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let keys = ["secret_key", "algorithm", "issuer", "audience"];
        assert_eq!(nearest("secrt_key", &keys), Some("secret_key"));
        assert_eq!(nearest("SECRET_KEYS", &keys), Some("secret_key"));
        assert_eq!(nearest("colour", &keys), None);
    }
}
