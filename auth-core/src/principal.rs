//! The authenticated caller as guards see it.

use serde::Serialize;

use crate::authz::any_permission_matches;
use crate::mfa::{Assurance, FactorKind};
use crate::token::Claims;
use crate::user::UserId;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialKind {
    /// A bearer access token in `Authorization`.
    Bearer,
    /// A browser session cookie.
    Cookie,
    /// An API key.
    ApiKey,
    /// OAuth2 client credentials (service to service).
    ClientCredentials,
}

impl CredentialKind {
    /// The name used in guards and logs: `bearer`, `cookie`, `api_key`, `client_credentials`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::Cookie => "cookie",
            Self::ApiKey => "api_key",
            Self::ClientCredentials => "client_credentials",
        }
    }
}

/// One satisfied authentication factor and when it was satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Factor {
    /// RFC 8176 method: `pwd`, `otp`, `hwk`, ... ([`FactorKind::amr`]).
    pub method: String,
    /// Seconds since the Unix epoch. From a token, the token's `auth_time` (when the latest
    /// factor was satisfied) for every factor.
    pub at: i64,
}

impl Factor {
    /// The kind of factor, for methods this crate issues.
    #[must_use]
    pub fn kind(&self) -> Option<FactorKind> {
        FactorKind::from_amr(&self.method)
    }
}

/// An authenticated caller: who, through which credential, in which tenant and session, with
/// which roles, permissions and factors.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The credential kind.
    pub credential: CredentialKind,
    /// Roles.
    pub roles: Vec<String>,
    /// Direct permissions.
    pub permissions: Vec<String>,
    /// Tenant.
    pub tenant: Option<String>,
    /// The session the credential belongs to.
    pub session_id: Option<String>,
    /// Satisfied factors.
    pub factors: Vec<Factor>,
    /// The token id, for bearer tokens.
    pub token_id: Option<String>,
    /// When the credential expires.
    pub expires_at: Option<i64>,
    /// The user's security epoch the credential was issued under.
    #[serde(skip)]
    pub security_epoch: i64,
    /// The scopes an API key limits the principal to (`None`: not limited). A permission
    /// check passes only when a scope covers it as well; a role check only with scope `*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

impl Principal {
    /// The principal a verified access token describes.
    #[must_use]
    pub fn from_claims(claims: &Claims) -> Self {
        let at = claims.auth_time.unwrap_or(claims.iat);
        Self {
            user_id: UserId(claims.sub.clone()),
            credential: if claims.is_client_token() {
                CredentialKind::ClientCredentials
            } else {
                CredentialKind::Bearer
            },
            roles: claims.roles.clone(),
            permissions: claims.permissions.clone(),
            tenant: claims.tenant.clone(),
            session_id: claims.sid.clone(),
            factors: claims
                .amr
                .iter()
                .map(|m| Factor {
                    method: m.clone(),
                    at,
                })
                .collect(),
            token_id: Some(claims.jti.clone()),
            expires_at: Some(claims.exp),
            security_epoch: claims.epc,
            scopes: None,
        }
    }

    /// The same principal limited to `scopes` (an API key's).
    #[must_use]
    pub fn with_scopes(mut self, scopes: Vec<String>) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// Whether the principal's scopes (if any) cover `permission`.
    #[must_use]
    pub fn scope_covers(&self, permission: &str) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|scopes| any_permission_matches(scopes, permission))
    }

    /// Whether the principal may use its roles: unlimited, or scoped `*`.
    #[must_use]
    pub fn may_use_roles(&self) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|scopes| scopes.iter().any(|s| s == "*"))
    }

    /// The same principal without its scopes: what its owner may do.
    #[must_use]
    pub fn unscoped(&self) -> Self {
        Self {
            scopes: None,
            ..self.clone()
        }
    }

    /// The same principal, authenticated through `credential` (claims of a session cookie
    /// describe a [`CredentialKind::Cookie`] principal).
    #[must_use]
    pub fn with_credential(mut self, credential: CredentialKind) -> Self {
        self.credential = credential;
        self
    }

    /// Whether the principal has this role (exactly; inheritance is resolved by the
    /// authorization layer before the roles reach the principal).
    #[must_use]
    pub fn has_role(&self, role: &str) -> bool {
        self.may_use_roles() && self.roles.iter().any(|r| r == role)
    }

    /// Whether the principal has any of these roles.
    #[must_use]
    pub fn has_any_role(&self, roles: &[&str]) -> bool {
        roles.iter().any(|r| self.has_role(r))
    }

    /// Whether a granted permission (wildcards allowed) covers `permission`.
    #[must_use]
    pub fn has_permission(&self, permission: &str) -> bool {
        self.scope_covers(permission) && any_permission_matches(&self.permissions, permission)
    }

    /// Whether a factor with this method was satisfied.
    #[must_use]
    pub fn has_factor(&self, method: &str) -> bool {
        self.factors.iter().any(|f| f.method == method)
    }

    /// The kinds of factor satisfied (methods this crate does not issue left out).
    pub fn factor_kinds(&self) -> impl Iterator<Item = FactorKind> + '_ {
        self.factors.iter().filter_map(Factor::kind)
    }

    /// Whether a factor of this kind was satisfied.
    #[must_use]
    pub fn satisfied(&self, kind: FactorKind) -> bool {
        self.factor_kinds().any(|k| k == kind)
    }

    /// The assurance level the satisfied factors reach.
    #[must_use]
    pub fn assurance(&self) -> Assurance {
        Assurance::of(self.factor_kinds())
    }

    /// Whether the caller proved a second factor ([`Assurance::Aal2`]).
    #[must_use]
    pub fn has_mfa(&self) -> bool {
        self.assurance() >= Assurance::Aal2
    }

    /// When the caller last authenticated (the latest factor), seconds since the Unix epoch.
    #[must_use]
    pub fn authenticated_at(&self) -> Option<i64> {
        self.factors.iter().map(|f| f.at).max()
    }

    /// The same principal without the roles in `demanding_mfa` when it has no second factor
    /// (`AUTH__MFA__REQUIRED_FOR_ROLES`); `None` when nothing changes.
    #[must_use]
    pub fn without_roles_needing_mfa(&self, demanding_mfa: &[String]) -> Option<Self> {
        if demanding_mfa.is_empty()
            || self.has_mfa()
            || !self.roles.iter().any(|r| demanding_mfa.contains(r))
        {
            return None;
        }
        let mut limited = self.clone();
        limited.roles.retain(|r| !demanding_mfa.contains(r));
        Some(limited)
    }
}
