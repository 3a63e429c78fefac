//! Which user a provider account signs in, by the rules of
//! [`federation`](crate::federation): a linked identity; an explicit link by a signed-in
//! user; an address the provider verified and is trusted for; or a new account.

use super::FederationFlows;
use crate::error::{AuthError, Result, StoreError};
use crate::events::{AuthEvent, RegisterAttempt};
use crate::federation::{ExternalProfile, FederatedIdentity, FederationError};
use crate::service::account::{active_user, Accounts};
use crate::user::identifier::check_username;
use crate::user::{User, UserId};

/// What a provider is trusted with.
#[derive(Debug, Clone, Copy)]
pub(super) struct LinkPolicy {
    /// Whether an address it verified signs in the user who has it.
    pub(super) trust_email: bool,
    /// Whether an account new here makes a user.
    pub(super) allow_signup: bool,
}

/// The user a provider account resolved to.
pub(super) enum Resolved {
    /// Sign this user in.
    SignIn(User),
    /// The account is linked (now or already) to the user who asked.
    #[cfg_attr(not(any(feature = "oidc", feature = "saml")), allow(dead_code))]
    Linked(FederatedIdentity),
}

impl FederationFlows {
    /// The user `profile` signs in, or the link a signed-in `link_user` asked for.
    pub(super) async fn resolve(
        &self,
        policy: LinkPolicy,
        profile: &ExternalProfile,
        link_user: Option<&UserId>,
        accounts: &Accounts,
    ) -> Result<Resolved> {
        let now = self.ctx.clock.now();
        if let Some(identity) = self
            .identities
            .identity(&profile.issuer, &profile.subject)
            .await?
        {
            return match link_user {
                Some(user) if *user == identity.user_id => Ok(Resolved::Linked(identity)),
                Some(_) => Err(FederationError::IdentityLinkedElsewhere.into()),
                None => {
                    self.identities.touch_identity(&identity.id, now).await?;
                    let user = active_user(self.users.as_ref(), &identity.user_id)
                        .await?
                        .ok_or(AuthError::InvalidCredentials)?;
                    Ok(Resolved::SignIn(user))
                }
            };
        }
        if let Some(user_id) = link_user {
            let user = active_user(self.users.as_ref(), user_id)
                .await?
                .ok_or(AuthError::UserNotFound)?;
            let identity = self.link(&user, profile).await?;
            return Ok(Resolved::Linked(identity));
        }
        let existing = match &profile.email {
            Some(email) => self.users.get_by_email(email).await?,
            None => None,
        };
        if let Some(user) = existing {
            // The nOAuth lesson: an address proves nothing unless the provider verified it
            // and the service trusts the provider to.
            if !(policy.trust_email && profile.email_verified) {
                return Err(FederationError::AccountExists.into());
            }
            if !user.is_active {
                return Err(AuthError::InvalidCredentials);
            }
            self.link(&user, profile).await?;
            return Ok(Resolved::SignIn(user));
        }
        if !policy.allow_signup {
            return Err(FederationError::SignupDisabled.into());
        }
        let user = self.sign_up(policy, profile, accounts).await?;
        self.link(&user, profile).await?;
        Ok(Resolved::SignIn(user))
    }

    /// Links `profile`'s account to `user`.
    async fn link(&self, user: &User, profile: &ExternalProfile) -> Result<FederatedIdentity> {
        let mut identity = FederatedIdentity::new(
            self.ctx.random.uuid().to_string(),
            user.id.clone(),
            &profile.provider,
            &profile.issuer,
            &profile.subject,
            self.ctx.clock.now(),
        );
        if let Some(email) = &profile.email {
            identity = identity.with_email(email);
        }
        match self.identities.insert_identity(&identity).await {
            Err(StoreError::Conflict { .. }) => {
                return Err(FederationError::IdentityLinkedElsewhere.into())
            }
            other => other?,
        }
        self.ctx.emit(AuthEvent::IdentityLinked {
            user_id: user.id.to_string(),
            provider: identity.provider.clone(),
            identity_id: identity.id.clone(),
        });
        Ok(identity)
    }

    /// A new user for `profile`: no password, the default roles, the address verified only
    /// when a trusted provider verified it, a username from the provider's suggestion or
    /// the address (made unique with a number when taken).
    async fn sign_up(
        &self,
        policy: LinkPolicy,
        profile: &ExternalProfile,
        accounts: &Accounts,
    ) -> Result<User> {
        let email = profile
            .email
            .as_deref()
            .ok_or(FederationError::EmailRequired)?;
        let mut errors = crate::error::ValidationErrors::default();
        crate::user::validate_email(email, &mut errors);
        if !errors.0.is_empty() {
            return Err(FederationError::EmailRequired.into());
        }
        let suggested = profile
            .username
            .clone()
            .or_else(|| email.split('@').next().map(str::to_owned))
            .unwrap_or_default();
        let base = check_username(&suggested, accounts.username_rules)
            .unwrap_or_else(|_| "user".to_owned());
        let ctx = &self.ctx;
        ctx.events
            .before_register(RegisterAttempt {
                username: &base,
                email,
            })
            .await?;
        for attempt in 0..8u32 {
            let username = if attempt == 0 && base.chars().count() >= 3 {
                base.clone()
            } else {
                let mut n = [0u8; 4];
                ctx.random.fill(&mut n);
                let suffix = u32::from_le_bytes(n) % 1_000_000;
                let stem: String = base.chars().take(48).collect();
                format!("{stem}-{suffix:06}")
            };
            let mut user = User::new(&username, email, None, ctx.clock.now_datetime());
            user.roles.clone_from(&accounts.default_roles);
            user.is_verified = policy.trust_email && profile.email_verified;
            match self.users.insert(&user).await {
                Ok(()) => {
                    ctx.emit(AuthEvent::UserRegistered {
                        user_id: user.id.to_string(),
                    });
                    return Ok(user);
                }
                Err(StoreError::Conflict { field: "username" }) => continue,
                // The address was taken meanwhile: the account-exists answer.
                Err(StoreError::Conflict { .. }) => {
                    return Err(FederationError::AccountExists.into())
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AuthError::Internal(
            "no free username for a new federated account".to_owned(),
        ))
    }

    /// Unlinks `user_id`'s identity `id`, unless it is the account's last way to sign in.
    pub(super) async fn unlink(&self, user_id: &UserId, id: &str) -> Result<()> {
        let identities = self.identities.identities_of(user_id).await?;
        let identity = identities
            .iter()
            .find(|i| i.id == id)
            .ok_or(FederationError::IdentityNotFound)?;
        let user = active_user(self.users.as_ref(), user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let has_password = user.password_hash.is_some();
        let has_passkey = !self.passkeys.passkeys_of(user_id).await?.is_empty();
        if identities.len() == 1 && !has_password && !has_passkey {
            return Err(FederationError::LastSignInMethod.into());
        }
        if !self.identities.delete_identity(user_id, id).await? {
            return Err(FederationError::IdentityNotFound.into());
        }
        self.ctx.emit(AuthEvent::IdentityUnlinked {
            user_id: user_id.to_string(),
            provider: identity.provider.clone(),
            identity_id: identity.id.clone(),
        });
        Ok(())
    }
}

#[cfg(any(feature = "ldap", feature = "saml"))]
impl crate::AuthService {
    /// The user with the roles of its groups at the provider (a directory's groups, a SAML
    /// attribute's values): every role `mapping` names that its `groups` give is added, every other role it names taken away; roles it does not name
    /// are the service's own and stay.
    pub(super) async fn sync_mapped_roles(
        &self,
        user: User,
        mapping: &std::collections::BTreeMap<String, String>,
        groups: &[String],
    ) -> Result<User> {
        if mapping.is_empty() {
            return Ok(user);
        }
        let held: Vec<&String> = mapping
            .iter()
            .filter(|(group, _)| groups.iter().any(|g| g.eq_ignore_ascii_case(group)))
            .map(|(_, role)| role)
            .collect();
        let managed: Vec<&String> = mapping.values().collect();
        let mut wanted: Vec<String> = user
            .roles
            .iter()
            .filter(|r| !managed.contains(r))
            .cloned()
            .collect();
        for role in held {
            if !wanted.contains(role) {
                wanted.push(role.clone());
            }
        }
        if wanted == user.roles {
            return Ok(user);
        }
        let accounts = &self.inner.accounts;
        accounts
            .change_roles(&user.id, |roles| {
                roles.retain(|r| !managed.contains(&r));
                for role in &wanted {
                    if !roles.contains(role) {
                        roles.push(role.clone());
                    }
                }
            })
            .await?;
        let mut user = user;
        user.roles = wanted;
        Ok(user)
    }
}
