use super::{Policy, PolicyContext, RoleHierarchy};
use crate::error::{AuthError, StepUpChallenge};
use crate::mfa::FactorKind;
use crate::principal::{CredentialKind, Principal};

/// Whether `principal` authenticated at most `max_age` seconds before `now`.
fn recent(principal: &Principal, max_age: u64, now: i64) -> bool {
    let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
    principal
        .authenticated_at()
        .is_some_and(|at| now.saturating_sub(at) <= max_age)
}

fn names(kinds: &[FactorKind]) -> Vec<&str> {
    kinds.iter().map(|k| k.name()).collect()
}

/// What a guard requires of an authenticated principal. Built at compile time by the guard
/// attributes (`#[require_roles]`, `#[require_permissions]`), checked on every request.
///
/// ```
/// use auth_core::authz::{Requirement, RoleHierarchy};
///
/// const EDITORS: Requirement = Requirement::AnyRole(&["editor", "admin"]);
/// assert_eq!(EDITORS.describe(), "requires any of the roles `editor`, `admin`");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// Any authenticated principal.
    Authenticated,
    /// An authenticated principal whose credential is one of these kinds
    /// (`#[require_auth(any(bearer, cookie))]`).
    AuthenticatedWith(&'static [CredentialKind]),
    /// At least one of these roles (inheritance honoured).
    AnyRole(&'static [&'static str]),
    /// Every one of these roles (inheritance honoured).
    AllRoles(&'static [&'static str]),
    /// Every one of these permissions (wildcard grants honoured).
    AllPermissions(&'static [&'static str]),
    /// A policy expression over the principal and the request (`#[require_policy("...")]`).
    Policy(&'static Policy),
    /// At least one of these roles in the request's tenant (`#[require_tenant_roles]`).
    TenantAnyRole(&'static [&'static str]),
    /// Every one of these roles in the request's tenant
    /// (`#[require_tenant_roles(all(...))]`).
    TenantAllRoles(&'static [&'static str]),
    /// A second factor: assurance level AAL2 (`#[require_mfa]`).
    Mfa,
    /// At least one of these factors (`#[require_factors(any(totp, passkey))]`).
    AnyFactor(&'static [FactorKind]),
    /// Every one of these factors (`#[require_factors(all(password, totp))]`).
    AllFactors(&'static [FactorKind]),
    /// An authentication (any factor) at most `max_age` seconds ago
    /// (`#[require_recent_auth(max_age = "5m")]`).
    RecentAuth {
        /// Seconds.
        max_age: u64,
    },
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Requirement {
    /// Whether the requirement needs the request's path and query parameters.
    #[must_use]
    pub const fn uses_request(&self) -> bool {
        matches!(self, Self::Policy(_))
    }

    /// Whether the requirement needs the time ([`PolicyContext::at`]).
    #[must_use]
    pub const fn uses_clock(&self) -> bool {
        matches!(self, Self::RecentAuth { .. })
    }

    /// Whether the requirement needs the request's tenant and the principal's roles there.
    #[must_use]
    pub const fn uses_tenant(&self) -> bool {
        matches!(self, Self::TenantAnyRole(_) | Self::TenantAllRoles(_))
    }

    /// Whether the principal of `ctx` meets the requirement; policies also read the request.
    #[must_use]
    pub fn is_met_in(&self, ctx: &PolicyContext<'_>) -> bool {
        match self {
            Self::Policy(policy) => (policy.eval)(ctx),
            Self::TenantAnyRole(required) => {
                ctx.principal().may_use_roles() && required.iter().any(|r| ctx.has_tenant_role(r))
            }
            Self::TenantAllRoles(required) => {
                ctx.principal().may_use_roles() && required.iter().all(|r| ctx.has_tenant_role(r))
            }
            Self::RecentAuth { max_age } => recent(ctx.principal(), *max_age, ctx.now()),
            other => other.is_met(ctx.principal(), ctx.roles()),
        }
    }

    /// Whether `principal` meets the requirement, with `roles` resolving inheritance and the
    /// permissions roles grant. A policy sees no request data here (and so denies when it
    /// needs any), and tenant requirements deny; guards use [`check_in`](Self::check_in).
    #[must_use]
    pub fn is_met(&self, principal: &Principal, roles: &RoleHierarchy) -> bool {
        let has_role = |r: &str| principal.may_use_roles() && roles.has_role(&principal.roles, r);
        match self {
            Self::Authenticated => true,
            Self::AuthenticatedWith(kinds) => kinds.contains(&principal.credential),
            Self::AnyRole(required) => required.iter().any(|r| has_role(r)),
            Self::AllRoles(required) => required.iter().all(|r| has_role(r)),
            Self::AllPermissions(required) => required.iter().all(|p| {
                principal.scope_covers(p)
                    && roles.has_permission(&principal.roles, &principal.permissions, p)
            }),
            Self::Policy(policy) => (policy.eval)(&PolicyContext::new(principal, roles, &[], &[])),
            Self::TenantAnyRole(_) | Self::TenantAllRoles(_) => false,
            Self::Mfa => principal.has_mfa(),
            Self::AnyFactor(kinds) => kinds.iter().any(|k| principal.satisfied(*k)),
            Self::AllFactors(kinds) => kinds.iter().all(|k| principal.satisfied(*k)),
            Self::RecentAuth { max_age } => recent(
                principal,
                *max_age,
                crate::clock::Clock::now(&crate::clock::SystemClock),
            ),
        }
    }

    /// For requirements on how the caller authenticated: what a step-up must prove. `None`
    /// for the others.
    #[must_use]
    pub fn step_up(&self) -> Option<StepUpChallenge> {
        let detail = self.describe();
        match self {
            Self::Mfa => Some(StepUpChallenge::second_factor(detail)),
            Self::AnyFactor(kinds) | Self::AllFactors(kinds) => {
                Some(StepUpChallenge::new(detail, names(kinds), None))
            }
            Self::RecentAuth { max_age } => {
                let mut challenge = StepUpChallenge::second_factor(detail);
                challenge.methods.insert(0, FactorKind::Password.name());
                challenge.max_age = Some(*max_age);
                Some(challenge)
            }
            _ => None,
        }
    }

    /// The refusal of a principal that does not meet the requirement: a challenge to
    /// authenticate more for requirements on factors (an API key cannot, and is forbidden),
    /// else `forbidden`.
    fn refusal(&self, principal: &Principal) -> AuthError {
        match self.step_up() {
            Some(challenge) if principal.credential != CredentialKind::ApiKey => {
                AuthError::InsufficientAuthentication(Box::new(challenge))
            }
            _ => AuthError::Forbidden(self.describe()),
        }
    }

    /// Checks the requirement.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] saying what is required;
    /// [`AuthError::InsufficientScope`] when only an API key's scopes stand in the way.
    pub fn check(&self, principal: &Principal, roles: &RoleHierarchy) -> Result<(), AuthError> {
        if self.is_met(principal, roles) {
            Ok(())
        } else if principal.scopes.is_some() && self.is_met(&principal.unscoped(), roles) {
            Err(AuthError::InsufficientScope(self.describe()))
        } else {
            Err(self.refusal(principal))
        }
    }

    /// Checks the requirement against a request.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] saying what is required;
    /// [`AuthError::InsufficientScope`] when only an API key's scopes stand in the way.
    pub fn check_in(&self, ctx: &PolicyContext<'_>) -> Result<(), AuthError> {
        if self.is_met_in(ctx) {
            return Ok(());
        }
        if ctx.principal().scopes.is_some() {
            let owner = ctx.principal().unscoped();
            if self.is_met_in(&ctx.for_principal(&owner)) {
                return Err(AuthError::InsufficientScope(self.describe()));
            }
        }
        Err(self.refusal(ctx.principal()))
    }

    /// What the requirement asks for, in words.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Authenticated => "requires authentication".to_owned(),
            Self::AuthenticatedWith(kinds) => {
                let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                format!("requires authentication with any of {}", list(&names))
            }
            Self::AnyRole(r) => format!("requires any of the roles {}", list(r)),
            Self::AllRoles(r) => format!("requires all of the roles {}", list(r)),
            Self::AllPermissions(p) if p.len() == 1 => format!("requires permission {}", list(p)),
            Self::AllPermissions(p) => format!("requires all of the permissions {}", list(p)),
            Self::Policy(policy) => format!("requires policy `{}`", policy.source),
            Self::TenantAnyRole(r) => {
                format!(
                    "requires any of the roles {} in the request's tenant",
                    list(r)
                )
            }
            Self::TenantAllRoles(r) => {
                format!(
                    "requires all of the roles {} in the request's tenant",
                    list(r)
                )
            }
            Self::Mfa => "requires a second factor".to_owned(),
            Self::AnyFactor(k) => format!("requires any of the factors {}", list(&names(k))),
            Self::AllFactors(k) => format!("requires all of the factors {}", list(&names(k))),
            Self::RecentAuth { max_age } => {
                format!("requires an authentication within the last {max_age} seconds")
            }
        }
    }
}
