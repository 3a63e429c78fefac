//! Factors as state: which ways of proving who they are a caller satisfied, and when, and the
//! assurance level that follows (NIST SP 800-63B AAL1 / AAL2).
//!
//! A session keeps its factors ([`Session::factors`](crate::session::Session::factors)); tokens
//! carry them as `amr` (RFC 8176 method names) with `auth_time` the most recent one, and the
//! [`Principal`](crate::Principal) guards see holds them as [`Factor`] values.
//!
//! ```
//! use auth_core::mfa::{Assurance, FactorKind};
//!
//! assert_eq!(FactorKind::Totp.amr(), "otp");
//! assert_eq!(FactorKind::from_name("passkey"), Some(FactorKind::Passkey));
//! assert_eq!(Assurance::of([FactorKind::Password, FactorKind::Totp]), Assurance::Aal2);
//! assert_eq!(Assurance::of([FactorKind::Password]), Assurance::Aal1);
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// A way of proving who one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FactorKind {
    /// A password (`amr` `pwd`).
    Password,
    /// A code of an authenticator app (RFC 6238; `amr` `otp`).
    Totp,
    /// One of the single-use backup codes given at TOTP enrolment (`amr` `backup_code`).
    BackupCode,
    /// A passkey (WebAuthn; `amr` `hwk`, a key held in hardware or a platform authenticator).
    Passkey,
    /// An API key (`amr` `api_key`): a credential, never a second factor.
    ApiKey,
    /// An account of another provider (OpenID Connect, GitHub, SAML, LDAP; `amr` `fed`):
    /// the provider vouched for the user, one factor as far as this service can tell.
    Federated,
}

impl FactorKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::Password,
        Self::Totp,
        Self::BackupCode,
        Self::Passkey,
        Self::ApiKey,
        Self::Federated,
    ];

    /// The name guards and clients use: `password`, `totp`, `backup_code`, `passkey`,
    /// `api_key`, `federated`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Totp => "totp",
            Self::BackupCode => "backup_code",
            Self::Passkey => "passkey",
            Self::ApiKey => "api_key",
            Self::Federated => "federated",
        }
    }

    /// The `amr` value tokens carry (RFC 8176 where it names one).
    #[must_use]
    pub const fn amr(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::Totp => "otp",
            Self::BackupCode => "backup_code",
            Self::Passkey => "hwk",
            Self::ApiKey => "api_key",
            Self::Federated => "fed",
        }
    }

    /// The kind a guard name ([`name`](Self::name)) stands for.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind an `amr` value stands for; `None` for methods this crate does not issue.
    #[must_use]
    pub fn from_amr(amr: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.amr() == amr)
    }

    /// Whether the factor is something the user has (an authenticator app, printed codes, a
    /// passkey), as opposed to something they know.
    #[must_use]
    pub const fn is_possession(self) -> bool {
        matches!(self, Self::Totp | Self::BackupCode | Self::Passkey)
    }
}

impl fmt::Display for FactorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One satisfied factor and when, as a session stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SatisfiedFactor {
    /// Which factor.
    #[serde(with = "kind_name")]
    pub kind: FactorKind,
    /// When it was satisfied, seconds since the Unix epoch.
    pub at: i64,
}

impl SatisfiedFactor {
    /// `kind`, satisfied at `at`.
    #[must_use]
    pub const fn new(kind: FactorKind, at: i64) -> Self {
        Self { kind, at }
    }
}

/// Adds `factor` to `factors`, replacing an earlier satisfaction of the same kind.
pub fn record(factors: &mut Vec<SatisfiedFactor>, factor: SatisfiedFactor) {
    factors.retain(|f| f.kind != factor.kind);
    factors.push(factor);
}

/// What tokens carry of `factors`: their `amr` values and, as `auth_time`, when the latest
/// was satisfied.
#[must_use]
pub fn claims_of(factors: &[SatisfiedFactor]) -> (Vec<String>, Option<i64>) {
    let amr = factors.iter().map(|f| f.kind.amr().to_owned()).collect();
    (amr, factors.iter().map(|f| f.at).max())
}

/// `FactorKind` as its name in stored JSON.
mod kind_name {
    use serde::{de, Deserialize, Deserializer, Serializer};

    use super::FactorKind;

    pub(super) fn serialize<S: Serializer>(kind: &FactorKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FactorKind, D::Error> {
        let name = <&str>::deserialize(d)?;
        FactorKind::from_name(name)
            .ok_or_else(|| de::Error::custom(format_args!("unknown factor `{name}`")))
    }
}

/// How sure the service is of who the caller is (NIST SP 800-63B authenticator assurance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Assurance {
    /// One factor (a password, an API key).
    Aal1,
    /// Two distinct factors (a password and a code), or a passkey (something held, unlocked
    /// by the user's PIN or biometrics).
    Aal2,
}

impl Assurance {
    /// The level a set of satisfied factors reaches.
    #[must_use]
    pub fn of(factors: impl IntoIterator<Item = FactorKind>) -> Self {
        let (mut knows, mut has) = (false, false);
        for kind in factors {
            match kind {
                FactorKind::Passkey => return Self::Aal2,
                FactorKind::Password => knows = true,
                k if k.is_possession() => has = true,
                _ => {}
            }
        }
        if knows && has {
            Self::Aal2
        } else {
            Self::Aal1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{record, Assurance, FactorKind, SatisfiedFactor};

    #[test]
    fn names_and_amr_values_round_trip() {
        for kind in FactorKind::ALL {
            assert_eq!(FactorKind::from_name(kind.name()), Some(kind));
            assert_eq!(FactorKind::from_amr(kind.amr()), Some(kind));
        }
        assert_eq!(FactorKind::from_name("otp"), None);
        assert_eq!(FactorKind::from_amr("totp"), None);
    }

    #[test]
    fn two_kinds_of_factor_or_a_passkey_reach_aal2() {
        use FactorKind::*;
        assert_eq!(Assurance::of([Password, BackupCode]), Assurance::Aal2);
        assert_eq!(Assurance::of([Passkey]), Assurance::Aal2);
        assert_eq!(Assurance::of([Totp, BackupCode]), Assurance::Aal1);
        assert_eq!(Assurance::of([Password, ApiKey]), Assurance::Aal1);
        assert_eq!(Assurance::of([]), Assurance::Aal1);
    }

    #[test]
    fn a_factor_satisfied_again_keeps_its_latest_time() {
        let mut factors = vec![SatisfiedFactor::new(FactorKind::Password, 10)];
        record(&mut factors, SatisfiedFactor::new(FactorKind::Totp, 20));
        record(&mut factors, SatisfiedFactor::new(FactorKind::Password, 30));
        assert_eq!(
            factors,
            [
                SatisfiedFactor::new(FactorKind::Totp, 20),
                SatisfiedFactor::new(FactorKind::Password, 30)
            ]
        );
        let json = serde_json::to_string(&factors).unwrap();
        assert_eq!(
            json,
            r#"[{"kind":"totp","at":20},{"kind":"password","at":30}]"#
        );
        let back: Vec<SatisfiedFactor> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, factors);
        assert!(serde_json::from_str::<Vec<SatisfiedFactor>>(r#"[{"kind":"x","at":1}]"#).is_err());
    }
}
