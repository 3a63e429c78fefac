//! Authenticator apps: enrolment (secret, `otpauth://` URI, QR codes), confirmation with a
//! first code (which hands out the backup codes), turning it off, and new backup codes.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;

use super::{MfaFlows, Proof};
use crate::error::{AuthError, Result};
use crate::events::AuthEvent;
use crate::mfa::{qr, FactorKind, Totp, TotpError, TotpRecord, TotpSecret};
use crate::user::User;

/// What enrolment shows the user once: the secret in every form an authenticator app takes.
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct TotpEnrollment {
    /// The secret, base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/...` URI (what the QR code holds).
    pub otpauth_uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
    /// The QR code as a PNG image, base64.
    pub qr_png: String,
    /// Digits per code.
    pub digits: u8,
    /// Seconds per code.
    pub period: u64,
}

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("digits", &self.digits)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// The name an authenticator app shows for the account: its address (`:` is not allowed).
fn account_name(user: &User) -> String {
    let name = if user.email.is_empty() {
        &user.username
    } else {
        &user.email
    };
    name.replace(':', "_")
}

fn settings_error(e: TotpError) -> AuthError {
    AuthError::Internal(format!("totp settings: {e}"))
}

impl MfaFlows {
    /// The user's authenticator from its sealed secret.
    pub(super) fn authenticator(&self, user: &User, sealed: &str) -> Result<Totp> {
        let bytes = self.keys.open(sealed, user.id.as_str()).map_err(|e| {
            tracing::error!(user_id = %user.id, error = %e, "a TOTP secret cannot be opened");
            AuthError::Internal(e.to_string())
        })?;
        let secret = TotpSecret::from_bytes(&bytes).map_err(settings_error)?;
        Totp::new(&self.totp, secret, &account_name(user)).map_err(settings_error)
    }

    /// Starts enrolment: a new secret, pending until a code confirms it (a pending one is
    /// replaced).
    pub(super) async fn enroll(&self, user: &User) -> Result<TotpEnrollment> {
        let secret = TotpSecret::generate(self.ctx.random.as_ref());
        let sealed = self.keys.seal(
            secret.expose_bytes(),
            user.id.as_str(),
            self.ctx.random.as_ref(),
        );
        let base32 = secret.to_base32();
        let totp = Totp::new(&self.totp, secret, &account_name(user)).map_err(settings_error)?;
        let uri = totp.provisioning_uri().map_err(settings_error)?;
        let qr_svg = qr::svg(&uri).map_err(|e| AuthError::Internal(e.to_string()))?;
        let qr_png = qr::png(&uri).map_err(|e| AuthError::Internal(e.to_string()))?;
        let record = TotpRecord::pending(user.id.clone(), sealed, self.ctx.clock.now());
        if !self.store.start_totp(&record).await? {
            return Err(AuthError::MfaAlreadyEnabled);
        }
        Ok(TotpEnrollment {
            secret: base32,
            otpauth_uri: uri,
            qr_svg,
            qr_png: STANDARD.encode(qr_png),
            digits: self.totp.digits,
            period: self.totp.period_seconds,
        })
    }

    /// Confirms the pending authenticator with a first code; the backup codes, shown once.
    pub(super) async fn confirm(&self, user: &User, code: &str) -> Result<Vec<String>> {
        let record = self
            .store
            .totp(&user.id)
            .await?
            .ok_or(AuthError::MfaNotEnabled)?;
        if record.is_confirmed() {
            return Err(AuthError::MfaAlreadyEnabled);
        }
        let now = self.ctx.clock.now();
        let step = match self
            .authenticator(user, &record.sealed_secret)?
            .verify(code, now, None)
        {
            Ok(step) => step,
            Err(TotpError::Malformed) => return Err(super::malformed_code(self.totp.digits)),
            Err(_) => {
                self.ctx.emit(AuthEvent::MfaFailed {
                    user_id: user.id.to_string(),
                    method: FactorKind::Totp.name().to_owned(),
                });
                return Err(AuthError::InvalidMfaCode);
            }
        };
        let (codes, tags) = self.new_backup_codes(&user.id);
        if !self.store.confirm_totp(&user.id, now, step, &tags).await? {
            return Err(AuthError::MfaAlreadyEnabled);
        }
        self.ctx.emit(AuthEvent::MfaEnrolled {
            user_id: user.id.to_string(),
            method: FactorKind::Totp.name().to_owned(),
        });
        Ok(codes)
    }

    /// Checks that `user` has a confirmed authenticator and that `proof` is theirs: what
    /// turning it off and new backup codes ask.
    async fn prove_enabled(
        &self,
        user: &User,
        proof: &Proof,
        client_ip: Option<&str>,
    ) -> Result<()> {
        let record = self.store.totp(&user.id).await?;
        if !record.is_some_and(|r| r.is_confirmed()) {
            return Err(AuthError::MfaNotEnabled);
        }
        self.prove_any(user, proof, client_ip).await.map(drop)
    }

    /// Turns the authenticator off (and its backup codes), given proof.
    pub(super) async fn disable(
        &self,
        user: &User,
        proof: &Proof,
        client_ip: Option<&str>,
    ) -> Result<()> {
        self.prove_enabled(user, proof, client_ip).await?;
        if !self.store.delete_totp(&user.id).await? {
            return Err(AuthError::MfaNotEnabled);
        }
        self.ctx.emit(AuthEvent::MfaDisabled {
            user_id: user.id.to_string(),
            method: FactorKind::Totp.name().to_owned(),
        });
        Ok(())
    }

    /// A new set of backup codes in place of the old, given proof; shown once.
    pub(super) async fn regenerate(
        &self,
        user: &User,
        proof: &Proof,
        client_ip: Option<&str>,
    ) -> Result<Vec<String>> {
        self.prove_enabled(user, proof, client_ip).await?;
        let (codes, tags) = self.new_backup_codes(&user.id);
        self.store
            .replace_backup_codes(&user.id, &tags, self.ctx.clock.now())
            .await?;
        self.ctx.emit(AuthEvent::BackupCodesRegenerated {
            user_id: user.id.to_string(),
        });
        Ok(codes)
    }
}
