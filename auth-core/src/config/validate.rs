//! Checking a loaded configuration: every problem at once, each naming its variable.

use secrecy::ExposeSecret;

use super::secrets::check_secret;
use super::{AuthConfig, ConfigError};

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<ConfigError>);

impl Problems {
    fn push(&mut self, problem: ConfigError) {
        self.0.push(problem);
    }

    fn check(&mut self, result: Result<(), ConfigError>) {
        if let Err(problem) = result {
            self.push(problem);
        }
    }

    fn invalid(&mut self, var: &'static str, reason: &str) {
        self.push(ConfigError::Invalid {
            var,
            reason: reason.to_owned(),
        });
    }

    fn missing(&mut self, var: &'static str, reason: &'static str) {
        self.push(ConfigError::MissingSecret { var, reason });
    }

    /// One problem as itself, several as [`ConfigError::Several`].
    fn into_result(mut self) -> Result<(), ConfigError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.remove(0)),
            _ => Err(ConfigError::Several(self.0)),
        }
    }
}

impl AuthConfig {
    /// Checks ranges and secrets. In production every secret must be configured. Every
    /// problem is reported, not only the first: one alone is returned as itself, several as
    /// [`ConfigError::Several`] (one line each, naming the variable).
    ///
    /// # Errors
    /// [`ConfigError`] naming each variable at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Problems::default();
        problems.check(self.server.bind_addr().map(|_| ()));
        problems.check(self.server.trusted_proxies().map(|_| ()));
        self.validate_secrets(&mut problems);
        self.validate_ranges(&mut problems);
        self.validate_operations(&mut problems);
        if let Err(e) = self.authz.hierarchy() {
            problems.push(ConfigError::Invalid {
                var: "authz.roles",
                reason: e.to_string(),
            });
        }
        if self.database.url.trim().is_empty() {
            problems.invalid(
                "AUTH__DATABASE__URL",
                "write `sqlite://auth.db` or `postgres://user@host/db`",
            );
        }
        problems.into_result()
    }

    fn validate_secrets(&self, problems: &mut Problems) {
        let jwt = &self.jwt;
        let production = self.is_production();
        if jwt.algorithm.is_hmac() {
            match &jwt.secret_key {
                Some(secret) => problems.check(check_secret(
                    "AUTH__JWT__SECRET_KEY",
                    secret.expose_secret(),
                    jwt.algorithm.min_secret_bytes(),
                )),
                None if production => problems.missing(
                    "AUTH__JWT__SECRET_KEY",
                    "production needs a configured HMAC signing secret",
                ),
                None => {}
            }
        } else if production && jwt.private_key.is_none() && jwt.private_key_file.is_none() {
            problems.missing(
                "AUTH__JWT__PRIVATE_KEY_FILE",
                "production needs a configured signing key (PKCS#8 PEM) for asymmetric algorithms",
            );
        }
        if let Some(key) = &self.mfa.encryption_key {
            problems.check(check_secret(
                "AUTH__MFA__ENCRYPTION_KEY",
                key.expose_secret(),
                32,
            ));
        }
        match &jwt.refresh_token_secret {
            Some(secret) => problems.check(check_secret(
                "AUTH__JWT__REFRESH_TOKEN_SECRET",
                secret.expose_secret(),
                32,
            )),
            None if production => problems.missing(
                "AUTH__JWT__REFRESH_TOKEN_SECRET",
                "production needs a configured refresh-token secret",
            ),
            None => {}
        }
        for previous in &jwt.previous_keys {
            if let Some(secret) = &previous.secret_key {
                problems.check(check_secret(
                    "jwt.previous_keys.secret_key",
                    secret.expose_secret(),
                    previous.algorithm.min_secret_bytes(),
                ));
            }
        }
    }

    fn validate_smtp(&self, problems: &mut Problems) {
        let mail = &self.mail;
        let Some(host) = &mail.smtp_host else {
            return;
        };
        if cfg!(not(feature = "smtp")) {
            problems.invalid(
                "AUTH__MAIL__SMTP_HOST",
                "sending mail by SMTP needs the `smtp` feature of auth-core / auth-axum",
            );
        }
        let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]");
        if mail.smtp_tls == super::SmtpTls::None && self.is_production() && !loopback {
            problems.invalid(
                "AUTH__MAIL__SMTP_TLS",
                "`none` sends reset links in clear; in production only to a mail server on this machine",
            );
        }
        if mail.smtp_username.is_some() != mail.smtp_password.is_some() {
            problems.invalid(
                "AUTH__MAIL__SMTP_PASSWORD",
                "set both AUTH__MAIL__SMTP_USERNAME and AUTH__MAIL__SMTP_PASSWORD, or neither",
            );
        }
        if mail.smtp_timeout_seconds == 0 || mail.smtp_timeout_seconds > 300 {
            problems.invalid(
                "AUTH__MAIL__SMTP_TIMEOUT_SECONDS",
                "must be between 1 and 300",
            );
        }
    }

    fn validate_lockout(&self, problems: &mut Problems) {
        let lockout = &self.lockout;
        if !lockout.enabled {
            return;
        }
        if lockout.max_attempts == 0 {
            problems.invalid("AUTH__LOCKOUT__MAX_ATTEMPTS", "must be at least 1");
        }
        // A day at most: a longer wait would be a hard lock in all but name.
        if !(1..=1_440).contains(&lockout.lockout_minutes) {
            problems.invalid("AUTH__LOCKOUT__LOCKOUT_MINUTES", "must be 1 to 1440");
        }
        if lockout.base_delay_seconds == 0
            || lockout.base_delay_seconds > lockout.lockout_minutes.saturating_mul(60)
        {
            problems.invalid(
                "AUTH__LOCKOUT__BASE_DELAY_SECONDS",
                "must be at least 1 and at most LOCKOUT_MINUTES",
            );
        }
        // Counts forgotten before the longest wait ends would cut that wait short.
        if lockout.forget_minutes < lockout.lockout_minutes || lockout.forget_minutes > 525_600 {
            problems.invalid(
                "AUTH__LOCKOUT__FORGET_MINUTES",
                "must be at least LOCKOUT_MINUTES and at most a year",
            );
        }
        if self.audit.retention_days > 36_500 {
            problems.invalid(
                "AUTH__AUDIT__RETENTION_DAYS",
                "must be at most a hundred years",
            );
        }
        if lockout.remember_clients_days > 3_650 {
            problems.invalid(
                "AUTH__LOCKOUT__REMEMBER_CLIENTS_DAYS",
                "must be at most ten years",
            );
        }
    }

    /// `[metrics]` and `[maintenance]`.
    fn validate_operations(&self, problems: &mut Problems) {
        if self.redis.cluster && self.redis.url.is_none() {
            problems.invalid(
                "AUTH__REDIS__CLUSTER",
                "needs AUTH__REDIS__URL: one or more nodes of the cluster, comma-separated",
            );
        }
        if !self.redis.cluster && self.redis.url.as_deref().is_some_and(|u| u.contains(',')) {
            problems.invalid(
                "AUTH__REDIS__URL",
                "names several servers: set AUTH__REDIS__CLUSTER=true for a Redis Cluster",
            );
        }
        if self.metrics.address().is_err() {
            problems.invalid(
                "AUTH__METRICS__ADDRESS",
                "must be an address and port, like 127.0.0.1:9100",
            );
        }
        let maintenance = &self.maintenance;
        for (var, value, range, reason) in [
            (
                "AUTH__MAINTENANCE__INTERVAL_SECONDS",
                maintenance.interval_seconds,
                1..=604_800,
                "must be at least 1 and at most a week",
            ),
            (
                "AUTH__MAINTENANCE__BATCH_SIZE",
                maintenance.batch_size,
                1..=100_000,
                "must be at least 1 and at most 100000",
            ),
            (
                "AUTH__MAINTENANCE__MAX_BATCHES",
                maintenance.max_batches,
                1..=100_000,
                "must be at least 1 and at most 100000",
            ),
            (
                "AUTH__MAINTENANCE__API_KEY_RETENTION_DAYS",
                maintenance.api_key_retention_days,
                0..=36_500,
                "must be at most a hundred years",
            ),
            (
                "AUTH__MAINTENANCE__COUNTER_RETENTION_HOURS",
                maintenance.counter_retention_hours,
                1..=87_600,
                "must be at least 1 and at most ten years",
            ),
        ] {
            if !range.contains(&value) {
                problems.invalid(var, reason);
            }
        }
    }

    fn validate_ranges(&self, problems: &mut Problems) {
        let jwt = &self.jwt;
        if jwt.leeway_seconds > 60 {
            problems.invalid("AUTH__JWT__LEEWAY_SECONDS", "must be at most 60");
        }
        // A longer window would let a stolen refresh token be replayed that long after its
        // owner used it without tripping reuse detection.
        if jwt.refresh_reuse_grace_seconds > 60 {
            problems.invalid(
                "AUTH__JWT__REFRESH_REUSE_GRACE_SECONDS",
                "must be at most 60",
            );
        }
        let mfa = &self.mfa;
        if !(6..=8).contains(&mfa.digits) {
            problems.invalid("AUTH__MFA__DIGITS", "must be 6, 7 or 8");
        }
        if !(15..=120).contains(&mfa.period_seconds) {
            problems.invalid("AUTH__MFA__PERIOD_SECONDS", "must be 15 to 120");
        }
        if !matches!(mfa.algorithm.as_str(), "SHA1" | "SHA256" | "SHA512") {
            problems.invalid("AUTH__MFA__ALGORITHM", "must be SHA1, SHA256 or SHA512");
        }
        if mfa.skew > 4 {
            problems.invalid("AUTH__MFA__SKEW", "must be at most 4");
        }
        if !(1..=50).contains(&mfa.backup_codes) {
            problems.invalid("AUTH__MFA__BACKUP_CODES", "must be 1 to 50");
        }
        if !(1..=60).contains(&mfa.challenge_minutes) {
            problems.invalid("AUTH__MFA__CHALLENGE_MINUTES", "must be 1 to 60");
        }
        let passkeys = &self.passkeys;
        if !(1..=60).contains(&passkeys.ceremony_minutes) {
            problems.invalid("AUTH__PASSKEYS__CEREMONY_MINUTES", "must be 1 to 60");
        }
        for origin in std::iter::once(&passkeys.origin).chain(&passkeys.extra_origins) {
            let local = origin.starts_with("http://localhost");
            if !origin.starts_with("https://") && !local {
                problems.invalid(
                    "AUTH__PASSKEYS__ORIGIN",
                    "must be an https:// origin (http:// only for localhost)",
                );
            }
        }
        let provider = &self.provider;
        if !(1..=600).contains(&provider.code_seconds) {
            problems.invalid("AUTH__PROVIDER__CODE_SECONDS", "must be 1 to 600");
        }
        if !(1..=60).contains(&provider.authorize_minutes) {
            problems.invalid("AUTH__PROVIDER__AUTHORIZE_MINUTES", "must be 1 to 60");
        }
        let secure = |issuer: &str| {
            issuer.starts_with("https://")
                || issuer.starts_with("http://localhost")
                || issuer.starts_with("http://127.0.0.1")
        };
        let bootstrap = &self.bootstrap;
        if bootstrap.admin_username.is_some() != bootstrap.admin_password.is_some() {
            problems.invalid(
                "AUTH__BOOTSTRAP__ADMIN_PASSWORD",
                "set AUTH__BOOTSTRAP__ADMIN_USERNAME and AUTH__BOOTSTRAP__ADMIN_PASSWORD together",
            );
        }
        let remote = &self.remote;
        if cfg!(not(feature = "remote")) && remote.issuer.is_some() {
            problems.invalid(
                "AUTH__REMOTE__ISSUER",
                "this build lacks the `remote` feature (a resource server's remote issuer)",
            );
        }
        if remote.issuer.as_deref().is_some_and(|i| !secure(i)) {
            problems.invalid(
                "AUTH__REMOTE__ISSUER",
                "must be an https:// URL (http:// only for localhost)",
            );
        }
        if remote.mode == super::RemoteMode::Introspection
            && (remote.client_id.is_none() || remote.client_secret.is_none())
        {
            problems.invalid(
                "AUTH__REMOTE__MODE",
                "introspection needs AUTH__REMOTE__CLIENT_ID and AUTH__REMOTE__CLIENT_SECRET",
            );
        }
        if !(1..=300).contains(&remote.timeout_seconds) || remote.cache_seconds > 300 {
            problems.invalid(
                "AUTH__REMOTE__TIMEOUT_SECONDS",
                "timeout 1 to 300 seconds, cache at most 300",
            );
        }
        if provider.issuer.as_deref().is_some_and(|i| !secure(i)) {
            problems.invalid(
                "AUTH__PROVIDER__ISSUER",
                "must be an https:// URL (http:// only for localhost)",
            );
        }
        if jwt.access_token_expire_minutes == 0 {
            problems.invalid(
                "AUTH__JWT__ACCESS_TOKEN_EXPIRE_MINUTES",
                "must be at least 1",
            );
        }
        if jwt.refresh_token_expire_days == 0 {
            problems.invalid("AUTH__JWT__REFRESH_TOKEN_EXPIRE_DAYS", "must be at least 1");
        }
        // Bounded, so that the flows' seconds arithmetic never overflows.
        let lifetimes = self.lifetimes();
        for (var, lifetime) in [
            (
                "AUTH__JWT__ACCESS_TOKEN_EXPIRE_MINUTES",
                lifetimes.access_token,
            ),
            (
                "AUTH__JWT__REFRESH_TOKEN_EXPIRE_DAYS",
                lifetimes.refresh_token,
            ),
            (
                "AUTH__JWT__REFRESH_TOKEN_MAX_LIFETIME_DAYS",
                lifetimes.refresh_family,
            ),
            (
                "AUTH__JWT__KEY_ROTATION_GRACE_PERIOD_SECONDS",
                lifetimes.key_rotation_grace,
            ),
            ("AUTH__SESSION__TIMEOUT_MINUTES", lifetimes.cookie_idle),
            ("AUTH__ACCOUNT__RESET_TOKEN_MINUTES", lifetimes.reset_token),
            ("AUTH__ACCOUNT__VERIFY_TOKEN_HOURS", lifetimes.verify_token),
        ] {
            if lifetime > super::MAX_LIFETIME {
                problems.invalid(var, "must be at most ten years");
            }
        }
        if self.account.reset_token_minutes == 0 {
            problems.invalid("AUTH__ACCOUNT__RESET_TOKEN_MINUTES", "must be at least 1");
        }
        if self.account.verify_token_hours == 0 {
            problems.invalid("AUTH__ACCOUNT__VERIFY_TOKEN_HOURS", "must be at least 1");
        }
        self.validate_smtp(problems);
        self.validate_lockout(problems);
        if !(self.mail.link_base_url.starts_with("https://")
            || self.mail.link_base_url.starts_with("http://"))
        {
            problems.invalid(
                "AUTH__MAIL__LINK_BASE_URL",
                "must be an http:// or https:// address",
            );
        }
        if jwt.max_token_bytes < 256 {
            problems.invalid("AUTH__JWT__MAX_TOKEN_BYTES", "must be at least 256");
        }
        let pw = &self.password;
        if pw.min_length == 0 || pw.max_length < pw.min_length || pw.max_length > 4096 {
            problems.invalid(
                "AUTH__PASSWORD__MAX_LENGTH",
                "need 1 <= AUTH__PASSWORD__MIN_LENGTH <= AUTH__PASSWORD__MAX_LENGTH <= 4096",
            );
        }
        if pw.min_strength > 4 {
            problems.invalid(
                "AUTH__PASSWORD__MIN_STRENGTH",
                "must be a zxcvbn score from 0 (off) to 4",
            );
        }
        if pw.history > 24 {
            problems.invalid(
                "AUTH__PASSWORD__HISTORY",
                "must be at most 24 (each remembered password costs one hash at every change)",
            );
        }
        if pw.memory_kib > pw.max_memory_kib
            || pw.iterations > pw.max_iterations
            || pw.parallelism > pw.max_parallelism
        {
            problems.invalid("AUTH__PASSWORD__MEMORY_KIB", "the Argon2 parameters exceed the configured caps (max_memory_kib, max_iterations, max_parallelism)");
        }
        if !(0..=19).contains(&pw.hash_thread_nice) {
            problems.invalid(
                "AUTH__PASSWORD__HASH_THREAD_NICE",
                "must be between 0 and 19",
            );
        }
        if pw.max_concurrent_hashes == Some(0) {
            problems.invalid(
                "AUTH__PASSWORD__MAX_CONCURRENT_HASHES",
                "must be at least 1",
            );
        }
    }
}
