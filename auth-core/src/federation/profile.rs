//! What a provider says about the account that signed in, normalised into one shape
//! whatever the provider: OpenID Connect's standard claims (Core section 5.1) with the
//! quirks of the big providers, and GitHub's user API.
//!
//! Only [`issuer`](ExternalProfile::issuer) and [`subject`](ExternalProfile::subject) name
//! the account; the email address is a claim like any other, trusted for linking only when
//! the provider says it is verified *and* the service trusts the provider for it.
//!
//! ```
//! use auth_core::federation::ExternalProfile;
//! use serde_json::json;
//!
//! // Google once sent `email_verified` as a string; both forms mean the same.
//! let claims = json!({"sub": "1077", "email": " Ada@Example.com ", "email_verified": "true",
//!                     "name": "Ada Lovelace", "hd": "example.com"});
//! let profile = ExternalProfile::from_claims("google", "https://accounts.google.com", &claims).unwrap();
//! assert_eq!(profile.subject, "1077");
//! assert_eq!(profile.email.as_deref(), Some("Ada@Example.com"));
//! assert!(profile.email_verified);
//! assert_eq!(profile.hosted_domain.as_deref(), Some("example.com"));
//!
//! // No subject, no profile.
//! assert!(ExternalProfile::from_claims("google", "https://accounts.google.com", &json!({"email": "a@b.c"})).is_none());
//! ```

use serde::Serialize;
use serde_json::Value;

/// A provider account as the flows see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExternalProfile {
    /// The configured provider it came through (`google`).
    pub provider: String,
    /// The issuer that vouches for it (an OIDC `iss`; `https://github.com` for GitHub).
    pub issuer: String,
    /// Its stable id at the issuer (`sub`; GitHub's numeric user id).
    pub subject: String,
    /// Its email address, as given (trimmed), if the provider shared one.
    pub email: Option<String>,
    /// Whether the provider says it verified that address.
    pub email_verified: bool,
    /// A username it suggests (`preferred_username`, GitHub's `login`).
    pub username: Option<String>,
    /// Its display name.
    pub name: Option<String>,
    /// A picture URL.
    pub picture: Option<String>,
    /// Google's `hd`: the Workspace domain of the account, absent for consumer accounts.
    pub hosted_domain: Option<String>,
}

/// A non-empty trimmed string claim.
fn text(claims: &Value, name: &str) -> Option<String> {
    let value = claims.get(name)?.as_str()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A boolean claim, also as the strings `"true"`/`"false"` some providers sent.
fn flag(claims: &Value, name: &str) -> bool {
    match claims.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl ExternalProfile {
    /// The profile of an OpenID Connect account from its (verified) ID token or userinfo
    /// claims; `None` without a `sub`.
    ///
    /// `email_verified` is false unless the claims say true: Microsoft Entra ID sends no
    /// such claim, and its `email` is whatever a tenant's admin typed, so a Microsoft
    /// address never counts as verified.
    #[must_use]
    pub fn from_claims(provider: &str, issuer: &str, claims: &Value) -> Option<Self> {
        let subject = text(claims, "sub")?;
        let name = text(claims, "name").or_else(|| {
            let parts: Vec<String> = ["given_name", "family_name"]
                .iter()
                .filter_map(|c| text(claims, c))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        Some(Self {
            provider: provider.to_owned(),
            issuer: issuer.to_owned(),
            subject,
            email: text(claims, "email"),
            email_verified: flag(claims, "email_verified"),
            username: text(claims, "preferred_username").or_else(|| text(claims, "nickname")),
            name,
            picture: text(claims, "picture"),
            hosted_domain: text(claims, "hd"),
        })
    }

    /// The profile of a GitHub account from `GET /user` and `GET /user/emails`: the
    /// subject is the numeric id (a login can be renamed and reused), the address the
    /// primary one of the list with its `verified` flag (the profile's public `email` is
    /// not known to be verified, so it is used only unverified, when the list is empty).
    #[must_use]
    pub fn from_github(
        provider: &str,
        issuer: &str,
        user: &Value,
        emails: &[Value],
    ) -> Option<Self> {
        let subject = match user.get("id")? {
            Value::Number(n) => n.to_string(),
            Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => return None,
        };
        let primary = emails
            .iter()
            .find(|e| flag(e, "primary"))
            .and_then(|e| Some((text(e, "email")?, flag(e, "verified"))));
        let (email, email_verified) = match primary {
            Some((email, verified)) => (Some(email), verified),
            None => (text(user, "email"), false),
        };
        Some(Self {
            provider: provider.to_owned(),
            issuer: issuer.to_owned(),
            subject,
            email,
            email_verified,
            username: text(user, "login"),
            name: text(user, "name"),
            picture: text(user, "avatar_url"),
            hosted_domain: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::ExternalProfile;

    #[test]
    fn oidc_claims_are_normalised() {
        let claims = json!({
            "sub": " 42 ", "email": "ada@example.com", "email_verified": true,
            "given_name": "Ada", "family_name": "Lovelace", "preferred_username": "ada",
            "picture": "https://example.com/a.png"
        });
        let p = ExternalProfile::from_claims("corp", "https://idp", &claims).unwrap();
        assert_eq!(p.subject, "42");
        assert_eq!(p.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(p.username.as_deref(), Some("ada"));
        assert!(p.email_verified);
        assert_eq!(p.hosted_domain, None);
        // Absent, false, "false", a number: not verified.
        for verified in [json!(null), json!(false), json!("false"), json!(1)] {
            let claims = json!({"sub": "1", "email": "a@b.c", "email_verified": verified});
            let p = ExternalProfile::from_claims("x", "y", &claims).unwrap();
            assert!(!p.email_verified, "{verified}");
        }
        assert!(ExternalProfile::from_claims("x", "y", &json!({"sub": "  "})).is_none());
        assert!(ExternalProfile::from_claims("x", "y", &json!({"sub": 5})).is_none());
    }

    #[test]
    fn github_uses_the_id_and_the_primary_address() {
        let user = json!({"id": 583231, "login": "octocat", "name": "The Octocat",
                          "email": "public@example.com", "avatar_url": "https://a/1"});
        let emails = [
            json!({"email": "other@example.com", "primary": false, "verified": true}),
            json!({"email": "octo@example.com", "primary": true, "verified": true}),
        ];
        let p =
            ExternalProfile::from_github("github", "https://github.com", &user, &emails).unwrap();
        assert_eq!(p.subject, "583231");
        assert_eq!(p.email.as_deref(), Some("octo@example.com"));
        assert!(p.email_verified);
        assert_eq!(p.username.as_deref(), Some("octocat"));
        // An unverified primary address stays unverified; no list: the public one, unverified.
        let unverified = [json!({"email": "octo@example.com", "primary": true, "verified": false})];
        let p = ExternalProfile::from_github("github", "https://github.com", &user, &unverified)
            .unwrap();
        assert!(!p.email_verified);
        let p = ExternalProfile::from_github("github", "https://github.com", &user, &[]).unwrap();
        assert_eq!(p.email.as_deref(), Some("public@example.com"));
        assert!(!p.email_verified);
        assert!(ExternalProfile::from_github("github", "h", &json!({"login": "x"}), &[]).is_none());
    }
}
