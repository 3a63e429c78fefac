//! What every flow that sets a password checks first: the policy (`password::policy`) with
//! the account's identifiers, and, for an existing account, that the password is none of its
//! last ones (`AUTH__PASSWORD__HISTORY`, the current one included).

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use super::super::login::password_error;
use crate::error::{AuthError, Result, ValidationErrors};
use crate::password::history::PasswordHistoryStore;
use crate::password::policy::{push_violations, PasswordPolicy, PolicyInputs, PolicyViolation};
use crate::password::{PasswordHasher, Verification};
use crate::user::User;

/// The policy, the history and the hasher that checks a password against past hashes.
#[derive(Clone)]
pub(in crate::service) struct NewPasswords {
    pub(in crate::service) policy: Arc<PasswordPolicy>,
    pub(in crate::service) history: Arc<dyn PasswordHistoryStore>,
    pub(in crate::service) hasher: PasswordHasher,
}

impl NewPasswords {
    /// Pushes every policy rule `password` breaks for an account with these identifiers onto
    /// `errors` under `field`. No hashing, but zxcvbn takes up to a few milliseconds on a
    /// long password, so the check runs on the blocking pool, not on the async runtime.
    pub(in crate::service) async fn check(
        &self,
        password: &str,
        username: &str,
        email: &str,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) -> Result<()> {
        let policy = Arc::clone(&self.policy);
        let password = SecretString::from(password.to_owned());
        let (username, email) = (username.to_owned(), email.to_owned());
        let violations = tokio::task::spawn_blocking(move || {
            policy.check(
                password.expose_secret(),
                &PolicyInputs::new(&username, &email),
            )
        })
        .await
        .map_err(|e| AuthError::Internal(format!("the password policy check failed: {e}")))?;
        push_violations(&violations, field, errors);
        Ok(())
    }

    /// [`check`](Self::check) for an existing account, then, when nothing else is wrong
    /// (`errors` empty: the costly part last), [`check_reuse`](Self::check_reuse).
    pub(in crate::service) async fn check_for(
        &self,
        user: &User,
        password: &str,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) -> Result<()> {
        self.check(password, &user.username, &user.email, field, errors)
            .await?;
        if errors.0.is_empty() {
            self.check_reuse(user, password, field, errors).await?;
        }
        Ok(())
    }

    /// Pushes `password_reused` when `password` is the account's current password or one of
    /// its remembered ones: one verification per hash, on the hashing threads, stopping at
    /// the first match. Hashes that cannot be checked (another algorithm without the feature,
    /// over the caps) are passed over.
    pub(in crate::service) async fn check_reuse(
        &self,
        user: &User,
        password: &str,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) -> Result<()> {
        let history = self.policy.history();
        if history == 0 {
            return Ok(());
        }
        let mut hashes: Vec<String> = user.password_hash.iter().cloned().collect();
        hashes.extend(self.history.recent(&user.id, history - 1).await?);
        for hash in &hashes {
            match self.hasher.verify(password, hash).await {
                Ok(Verification::Valid { .. }) => {
                    push_violations(&[PolicyViolation::Reused { history }], field, errors);
                    return Ok(());
                }
                Ok(Verification::Invalid) => {}
                Err(e @ crate::password::PasswordError::Busy) => return Err(password_error(e)),
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Remembers the hash `user` had before its password was replaced, keeping as many as
    /// the history compares.
    pub(in crate::service) async fn remember_previous(&self, user: &User, now: i64) -> Result<()> {
        let keep = self.policy.history().saturating_sub(1);
        match &user.password_hash {
            Some(previous) if keep > 0 => {
                self.history.remember(&user.id, previous, now, keep).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
