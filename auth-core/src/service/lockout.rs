//! The lockout around password logins: the check before any hashing, the count after a
//! failure (telling the owner once when a delay starts), the success, and the unlock.

use std::sync::Arc;

use super::Context;
use crate::error::{AuthError, Result};
use crate::events::AuthEvent;
use crate::lockout::{client_key, login_key, LockoutPolicy, LockoutStore, LoginRecord};
use crate::mail::{send_template, Mailer, Templates};
use crate::throttle::CounterStore;
use crate::user::User;

/// One login attempt's keys, from [`LoginLockout::check`].
#[derive(Debug)]
pub(super) struct Attempt {
    account: String,
    client: String,
    /// The client address as the request gave it.
    client_ip: Option<String>,
    /// What the store held before the attempt.
    before: LoginRecord,
}

/// How long a client's remembered success is not written again when nothing else changed.
const SUCCESS_RESOLUTION: i64 = 3_600;

/// Counts failed logins and delays the next attempts; see [`crate::lockout`].
#[derive(Clone)]
pub(super) struct LoginLockout {
    pub(super) store: Arc<dyn LockoutStore>,
    pub(super) policy: LockoutPolicy,
    pub(super) ctx: Context,
    /// Where "the owner was told" is noted, so several instances mail once.
    pub(super) notices: Arc<dyn CounterStore>,
    pub(super) mailer: Arc<dyn Mailer>,
    pub(super) templates: Arc<Templates>,
}

impl LoginLockout {
    /// The attempt's keys (`account` a [`login_key`]), or [`AuthError::TooManyAttempts`]
    /// while its client (or its login name) waits. Reads the store only: no hashing, and the
    /// same answer whatever the password and whether or not the account exists.
    pub(super) async fn check(&self, account: String, client_ip: Option<&str>) -> Result<Attempt> {
        let client = client_key(client_ip).to_owned();
        let now = self.ctx.clock.now();
        let before = self
            .store
            .record(&account, &client, now, self.policy.forget_after)
            .await?;
        let attempt = Attempt {
            account,
            client,
            client_ip: client_ip.map(str::to_owned),
            before,
        };
        if let Some(until) = self.policy.blocked_until(&before, now) {
            let retry_after = u64::try_from(until - now).unwrap_or(1).max(1);
            self.ctx.emit(AuthEvent::LoginThrottled {
                login: attempt.account,
                client_ip: attempt.client_ip,
                retry_after,
            });
            return Err(AuthError::TooManyAttempts { retry_after });
        }
        Ok(attempt)
    }

    /// Counts a failed login; when it starts a delay, says so in an event and tells the
    /// account's owner (once per spell, on every instance together).
    pub(super) async fn failed(&self, attempt: Attempt, user: Option<&User>) -> Result<()> {
        let now = self.ctx.clock.now();
        let forget_after = self.policy.forget_after;
        let record = self
            .store
            .record_failure(&attempt.account, &attempt.client, now, forget_after)
            .await?;
        if !self.policy.just_locked(&record) {
            return Ok(());
        }
        let until = self.policy.blocked_until(&record, now).unwrap_or(now);
        self.ctx.emit(AuthEvent::LoginLocked {
            user_id: user.map(|u| u.id.to_string()),
            login: attempt.account.clone(),
            client_ip: attempt.client_ip.clone(),
            until,
        });
        if let Some(user) = user {
            let notice = format!("lockout-notice:{}", attempt.account);
            // A failure to note or send the notice never changes the login's answer.
            match self.notices.hit(&notice, now, forget_after).await {
                Ok(1) => send_template(
                    &self.mailer,
                    &self.templates,
                    &user.email,
                    "login_locked",
                    minijinja::context! {
                        username => user.username,
                        client_ip => attempt.client_ip.as_deref().unwrap_or("an unknown address"),
                        minutes => (self.policy.client.ceiling() + 59) / 60,
                    },
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not note the lockout notice"),
            }
        }
        Ok(())
    }

    /// A successful login: the client's failures end and the client is remembered (not
    /// written again within the hour when it had no failures). A store failure is logged; the
    /// login stands.
    pub(super) async fn succeeded(&self, attempt: Attempt) {
        let now = self.ctx.clock.now();
        let fresh = attempt
            .before
            .client_success
            .is_some_and(|at| now - at < SUCCESS_RESOLUTION);
        if attempt.before.client.count == 0 && fresh {
            return;
        }
        if let Err(e) = self
            .store
            .record_success(
                &attempt.account,
                &attempt.client,
                now,
                self.policy.remember_clients,
            )
            .await
        {
            tracing::warn!(error = %e, "could not record a successful login for the lockout");
        }
    }

    /// Forgets every failed login of `user`'s username and address, from every client.
    /// Returns whether there was any.
    pub(super) async fn unlock(&self, user: &User) -> Result<bool> {
        let by_name = self.store.forgive(&login_key(&user.username)).await?;
        let by_email = self.store.forgive(&login_key(&user.email)).await?;
        Ok(by_name || by_email)
    }
}
