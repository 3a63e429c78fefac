//! `[authz]`: roles in configuration, the casbin model, where tenants come from.

use serde::{Deserialize, Serialize};

/// Authorization settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthzConfig {
    /// Roles by name, composed with the roles of a `#[derive(Roles)]` enum and of the store:
    ///
    /// ```toml
    /// [authz.roles.editor]
    /// inherits = ["viewer"]
    /// permissions = ["articles.write"]
    /// ```
    pub roles: std::collections::BTreeMap<String, RoleConfig>,
    /// Where tenant guards (`#[require_tenant_roles]`) find the request's tenant.
    pub tenant: TenantConfig,
    /// `AUTH__AUTHZ__MODEL`: a casbin model file for the policy engine. Default: RBAC with
    /// domains (`g, user, role, tenant`), which tenant guards read.
    pub model: Option<std::path::PathBuf>,
}

/// Where a request names its tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TenantFrom {
    /// The access token's `tenant` claim (the default).
    #[default]
    Token,
    /// A request header.
    Header,
    /// A path parameter of the route.
    Path,
}

/// `[authz.tenant]`: where tenant guards find the request's tenant.
///
/// ```toml
/// [authz.tenant]
/// from = "header"      # token (default) | header | path
/// name = "x-tenant-id" # the header or path parameter; defaults `x-tenant-id` and `tenant`
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TenantConfig {
    /// `AUTH__AUTHZ__TENANT__FROM`: `token`, `header` or `path`.
    pub from: TenantFrom,
    /// `AUTH__AUTHZ__TENANT__NAME`: the header or path parameter name.
    pub name: Option<String>,
}

impl TenantConfig {
    /// Tenants from the access token's `tenant` claim.
    #[must_use]
    pub fn token() -> Self {
        Self::default()
    }

    /// Tenants from the header `name`.
    #[must_use]
    pub fn header(name: impl Into<String>) -> Self {
        Self {
            from: TenantFrom::Header,
            name: Some(name.into()),
        }
    }

    /// Tenants from the path parameter `name`.
    #[must_use]
    pub fn path(name: impl Into<String>) -> Self {
        Self {
            from: TenantFrom::Path,
            name: Some(name.into()),
        }
    }

    /// The header or path parameter name, with its default.
    #[must_use]
    pub fn name(&self) -> &str {
        match (&self.name, self.from) {
            (Some(name), _) => name,
            (None, TenantFrom::Header) => "x-tenant-id",
            (None, _) => "tenant",
        }
    }
}

/// One role in configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RoleConfig {
    /// Roles it inherits from.
    pub inherits: Vec<String>,
    /// Permissions it grants (wildcards allowed).
    pub permissions: Vec<String>,
}

impl AuthzConfig {
    /// The configured roles as a hierarchy.
    ///
    /// # Errors
    /// [`RoleError`](crate::authz::RoleError) for a cycle or an unknown parent.
    pub fn hierarchy(&self) -> Result<crate::authz::RoleHierarchy, crate::authz::RoleError> {
        let mut builder = crate::authz::RoleHierarchy::builder();
        for (name, role) in &self.roles {
            let inherits: Vec<&str> = role.inherits.iter().map(String::as_str).collect();
            let permissions: Vec<&str> = role.permissions.iter().map(String::as_str).collect();
            builder = builder.role(name, &inherits, &permissions);
        }
        builder.build()
    }
}
