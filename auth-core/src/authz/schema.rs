use std::fmt;

use serde::Serialize;

use super::RoleHierarchy;

/// The value type of a permission in a service's schema (apexauthlib: string, integer, boolean).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PermissionKind {
    /// Granted or not.
    #[default]
    Boolean,
    /// A number.
    Integer,
    /// A string, optionally one of the allowed values.
    String,
}

/// One permission of a schema, as data a service can register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PermissionDef {
    /// The dotted name (`articles.write`).
    pub name: &'static str,
    /// A short human label.
    pub label: &'static str,
    /// What it allows.
    pub description: &'static str,
    /// The value type.
    pub kind: PermissionKind,
    /// Allowed values, for string permissions.
    pub allowed_values: &'static [&'static str],
    /// The default value, as text.
    pub default: Option<&'static str>,
}

impl PermissionDef {
    /// A definition; used by `#[derive(Permissions)]`.
    #[must_use]
    pub const fn new(
        name: &'static str,
        label: &'static str,
        description: &'static str,
        kind: PermissionKind,
        allowed_values: &'static [&'static str],
        default: Option<&'static str>,
    ) -> Self {
        Self {
            name,
            label,
            description,
            kind,
            allowed_values,
            default,
        }
    }
}

/// A name that is not a variant of a typed permission or role enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`")]
pub struct UnknownName {
    /// `permission` or `role`.
    pub kind: &'static str,
    /// The name given.
    pub name: String,
}

/// Implemented by `#[derive(Permissions)]`: a typed, closed set of permissions.
pub trait PermissionSchema: fmt::Display + Sized + Send + Sync + 'static {
    /// Every permission.
    const ALL: &'static [Self];
    /// The dotted name.
    fn name(&self) -> &'static str;
    /// The schema as data.
    fn schema() -> &'static [PermissionDef];
}

/// A role, by name or typed: what role administration
/// ([`AuthService::assign_role`](crate::AuthService::assign_role)) takes, so that
/// `assign_role(&id, Role::Editor)` and `assign_role(&id, "editor")` both work.
pub trait RoleName {
    /// The role's name.
    fn role_name(&self) -> &str;
}

impl RoleName for &str {
    fn role_name(&self) -> &str {
        self
    }
}

impl RoleName for String {
    fn role_name(&self) -> &str {
        self
    }
}

impl RoleName for &String {
    fn role_name(&self) -> &str {
        self
    }
}

impl<R: RoleSchema> RoleName for R {
    fn role_name(&self) -> &str {
        self.name()
    }
}

/// Implemented by `#[derive(Roles)]`: a typed role set with its hierarchy.
pub trait RoleSchema: fmt::Display + Sized + Send + Sync + 'static {
    /// Every role.
    const ALL: &'static [Self];
    /// The role name.
    fn name(&self) -> &'static str;
    /// The hierarchy (inheritance and granted permissions), checked for cycles when the enum
    /// compiles.
    fn hierarchy() -> RoleHierarchy;
}

impl PermissionKind {
    /// The stored name: `boolean`, `integer`, `string`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::String => "string",
        }
    }

    /// The kind a stored name stands for.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "boolean" => Some(Self::Boolean),
            "integer" => Some(Self::Integer),
            "string" => Some(Self::String),
            _ => None,
        }
    }
}
