//! Hashes of other systems a service migrates from (feature `legacy-hashes`): bcrypt
//! (`$2a$`, `$2b$`, `$2y$`, by the `bcrypt` crate) and Django's PBKDF2-SHA256
//! (`pbkdf2_sha256$...`, by `djangohashers`). They verify, always with `needs_rehash`, so the
//! next successful login stores an Argon2id hash in their place.

use super::{PasswordError, Verification};

/// The costliest legacy hashes this verifier computes: beyond them a stored hash is refused
/// like an Argon2 hash over the caps (a planted hash must not buy seconds of CPU per login).
const MAX_BCRYPT_COST: u32 = 15;
const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;

/// A hash format of another system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Legacy {
    /// `$2a$`, `$2b$`, `$2y$`.
    Bcrypt,
    /// Django's `pbkdf2_sha256$<iterations>$<salt>$<hash>`.
    DjangoPbkdf2,
}

impl Legacy {
    /// The legacy format of `stored`, if it is one.
    pub(super) fn of(stored: &str) -> Option<Self> {
        if ["$2a$", "$2b$", "$2y$"]
            .iter()
            .any(|p| stored.starts_with(p))
        {
            Some(Self::Bcrypt)
        } else if stored.starts_with("pbkdf2_sha256$") {
            Some(Self::DjangoPbkdf2)
        } else {
            None
        }
    }

    /// Whether the hash's work factor is within the caps (read from its fixed positions; the
    /// crates verify the rest).
    pub(super) fn within_caps(self, stored: &str) -> bool {
        let factor = match self {
            Self::Bcrypt => stored.get(4..6),
            Self::DjangoPbkdf2 => stored.split('$').nth(1),
        };
        let Some(factor) = factor.and_then(|f| f.parse::<u32>().ok()) else {
            return false;
        };
        match self {
            Self::Bcrypt => factor <= MAX_BCRYPT_COST,
            Self::DjangoPbkdf2 => factor <= MAX_PBKDF2_ITERATIONS,
        }
    }

    /// Checks `password` against `stored` (CPU-bound: run on a hashing thread).
    pub(super) fn verify(
        self,
        password: &str,
        stored: &str,
    ) -> Result<Verification, PasswordError> {
        let valid = match self {
            Self::Bcrypt => {
                bcrypt::verify(password, stored).map_err(|_| PasswordError::UnsupportedHash)?
            }
            Self::DjangoPbkdf2 => djangohashers::check_password(password, stored)
                .map_err(|_| PasswordError::UnsupportedHash)?,
        };
        Ok(if valid {
            Verification::Valid { needs_rehash: true }
        } else {
            Verification::Invalid
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Legacy;
    use crate::password::Verification;

    #[test]
    fn bcrypt_and_django_hashes_verify_and_ask_for_a_rehash() {
        let bcrypt = bcrypt::hash("correct horse", 4).unwrap();
        assert_eq!(Legacy::of(&bcrypt), Some(Legacy::Bcrypt));
        assert!(Legacy::Bcrypt.within_caps(&bcrypt));
        assert_eq!(
            Legacy::Bcrypt.verify("correct horse", &bcrypt).unwrap(),
            Verification::Valid { needs_rehash: true }
        );
        assert_eq!(
            Legacy::Bcrypt.verify("wrong", &bcrypt).unwrap(),
            Verification::Invalid
        );
        // Django 1.4's 10,000 iterations: the format is the same, the test fast.
        let django = djangohashers::make_password_core(
            "correct horse",
            "seasalt",
            djangohashers::Algorithm::PBKDF2,
            djangohashers::DjangoVersion::V1_4,
        );
        assert!(django.starts_with("pbkdf2_sha256$"), "{django}");
        assert_eq!(Legacy::of(&django), Some(Legacy::DjangoPbkdf2));
        assert!(Legacy::DjangoPbkdf2.within_caps(&django));
        assert_eq!(
            Legacy::DjangoPbkdf2
                .verify("correct horse", &django)
                .unwrap(),
            Verification::Valid { needs_rehash: true }
        );
        assert_eq!(
            Legacy::DjangoPbkdf2.verify("wrong", &django).unwrap(),
            Verification::Invalid
        );
    }

    #[test]
    fn costly_and_malformed_hashes_are_refused() {
        assert!(!Legacy::Bcrypt
            .within_caps("$2b$31$abcdefghijklmnopqrstuuxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012"));
        assert!(!Legacy::DjangoPbkdf2.within_caps("pbkdf2_sha256$99999999$salt$hash"));
        assert!(!Legacy::DjangoPbkdf2.within_caps("pbkdf2_sha256$many$salt$hash"));
        assert_eq!(
            Legacy::of("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
            None
        );
        assert!(Legacy::Bcrypt.verify("x", "$2b$04$tooshort").is_err());
        for malformed in [
            "pbkdf2_sha256$10000",
            "pbkdf2_sha256$10000$salt",
            "pbkdf2_sha256$10000$salt$",
            "pbkdf2_sha256$10000$salt$!!notbase64!!",
        ] {
            assert!(
                !matches!(
                    Legacy::DjangoPbkdf2.verify("x", malformed),
                    Ok(crate::password::Verification::Valid { .. })
                ),
                "{malformed}"
            );
        }
    }
}
