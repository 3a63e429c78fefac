use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a token is for. Verification states the type it expects, so one kind cannot stand in
/// for another (RFC 8725 section 3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenType {
    /// An access token, presented as a bearer credential.
    Access,
    /// A self-contained refresh token (the default flows use opaque refresh tokens instead).
    Refresh,
}

impl TokenType {
    /// The claim value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "access" => Ok(Self::Access),
            "refresh" => Ok(Self::Refresh),
            _ => Err(()),
        }
    }
}

/// The `aud` claim: one audience or several (RFC 7519 section 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `aud` names this audience.
    #[must_use]
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(a) => a == audience,
            Self::Many(list) => list.iter().any(|a| a == audience),
        }
    }
}

/// The claims of an access token issued by [`TokenManager`](super::TokenManager).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// Subject: the user id.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Unique token id; revocation is keyed on it, never on the token bytes.
    pub jti: String,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Session (login) the token belongs to; revoking the session kills the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Token type.
    pub typ: TokenType,
    /// The user's security epoch when the token was issued; bumping it kills older tokens.
    #[serde(default)]
    pub epc: i64,
    /// When the user authenticated (OIDC `auth_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// Authentication methods used (RFC 8176 values such as `pwd`, `otp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// Roles, when `jwt.include_roles` is on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Direct permissions, when `jwt.include_permissions` is on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// Tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The OAuth client the token was issued to (RFC 9068 `client_id`); for a
    /// `client_credentials` token it is also the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The OAuth scopes granted, space-separated (RFC 9068 `scope`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl Claims {
    /// Whether the token stands for an OAuth client itself (`client_credentials`), not a
    /// user: its subject is its client.
    #[must_use]
    pub fn is_client_token(&self) -> bool {
        self.sid.is_none() && self.client_id.as_deref() == Some(self.sub.as_str())
    }
}

/// What goes into a new token, besides what the [`TokenManager`](super::TokenManager) adds
/// (times, id, issuer, audience).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenSubject {
    /// The user id.
    pub user_id: String,
    /// The session id.
    pub session_id: Option<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// Direct permissions.
    pub permissions: Vec<String>,
    /// Tenant.
    pub tenant: Option<String>,
    /// The user's security epoch.
    pub security_epoch: i64,
    /// When the user authenticated.
    pub auth_time: Option<i64>,
    /// Authentication methods.
    pub amr: Vec<String>,
    /// Token type.
    pub token_type: TokenType,
    /// The OAuth client the token is issued to.
    pub client_id: Option<String>,
    /// The OAuth scopes granted, space-separated.
    pub scope: Option<String>,
}

impl TokenSubject {
    /// An access-token subject for a user id, with nothing else set.
    #[must_use]
    pub fn access(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            session_id: None,
            roles: Vec::new(),
            permissions: Vec::new(),
            tenant: None,
            security_epoch: 0,
            auth_time: None,
            amr: Vec::new(),
            token_type: TokenType::Access,
            client_id: None,
            scope: None,
        }
    }

    /// Sets the OAuth client and the scopes granted to it (space-separated; none when
    /// empty).
    #[must_use]
    pub fn for_client(mut self, client_id: impl Into<String>, scope: &str) -> Self {
        self.client_id = Some(client_id.into());
        self.scope = (!scope.is_empty()).then(|| scope.to_owned());
        self
    }

    /// Sets the session id.
    #[must_use]
    pub fn with_session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Sets the roles.
    #[must_use]
    pub fn with_roles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, roles: I) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the permissions.
    #[must_use]
    pub fn with_permissions<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        permissions: I,
    ) -> Self {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the tenant.
    #[must_use]
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Sets the token type.
    #[must_use]
    pub fn with_type(mut self, token_type: TokenType) -> Self {
        self.token_type = token_type;
        self
    }

    /// Sets the security epoch.
    #[must_use]
    pub fn with_epoch(mut self, epoch: i64) -> Self {
        self.security_epoch = epoch;
        self
    }
}
