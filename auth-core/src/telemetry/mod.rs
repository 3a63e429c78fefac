//! What the runtime counts and measures, through the [`metrics`] facade: nothing is kept
//! unless the service installs a recorder (auth-axum's feature `metrics` installs the
//! Prometheus one and serves it at `/metrics`).
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `auth_events_total` | counter | `kind` | every [`AuthEvent`](crate::events::AuthEvent), by kind (`login_succeeded`, `token_refreshed`, ...) |
//! | `auth_logins_total` | counter | `outcome` | password logins: `succeeded`, `failed`, `throttled` (the lockout's wait), `locked` |
//! | `auth_refreshes_total` | counter | | refresh-token rotations |
//! | `auth_refresh_reuse_detected_total` | counter | | a used refresh token presented again: its family revoked |
//! | `auth_revocations_total` | counter | `kind` | `logout`, `session`, `all_sessions`, `user` (deactivation), `api_key` |
//! | `auth_http_refusals_total` | counter | `status`, `code` | 4xx and 5xx answers of the auth layer, by status and problem code (auth-axum) |
//! | `auth_password_hash_wait_seconds` | histogram | | how long a hash waited for a hashing slot |
//! | `auth_password_hash_queue_depth` | gauge | | hashes waiting for a slot |
//! | `auth_password_hash_refused_total` | counter | | hashes refused because the queue was full (503 `overloaded`) |
//! | `auth_token_verify_cache_total` | counter | `result` | verifications answered from the cache (`hit`) or checked in full (`miss`) |
//! | `auth_maintenance_purged_total` | counter | `table` | rows the scheduled purge deleted ([`maintenance`](crate::maintenance)) |
//! | `auth_maintenance_runs_total` | counter | `outcome` | purge runs: `done`, `skipped`, `failed` |
//! | `auth_store_duration_seconds` | histogram | `backend`, `store`, `operation`, `outcome` | each operation of the request path's stores ([`Timed`]; recorded when `AUTH__METRICS__ENABLED`): `backend` `sqlite`, `postgres`, `redis` or `memory`; `store` `users`, `revocations`, `refresh_tokens`, `sessions`, `counters`, `lockout`; `operation` the method (`get_session`, `rotate`, ...); `outcome` `ok` or `error` |
//!
//! No label carries a user, an address or a token: the label values are the fixed names
//! above and the framework's own codes.
//!
//! Each flow of [`AuthService`](crate::AuthService) (register, login, cookie login, refresh,
//! logout, MFA verification) runs in a `tracing` span `auth.flow` with the fields an operator
//! filters on: `flow`, `client_ip`, and, once known, `user_id`, `session_id` and `outcome`
//! (`ok` or the error's code, such as `invalid_credentials`). Never a password, token or
//! login name.

mod timed;

pub use self::timed::Timed;

use std::future::Future;
use std::time::Duration;

use tracing::field::Empty;
use tracing::{Instrument as _, Span};

use crate::error::AuthError;
use crate::events::AuthEvent;

/// Every metric this crate and auth-axum record: name, unit-less description. An exporter
/// describes them up front so that they appear before their first value.
pub const METRICS: [(&str, &str); 13] = [
    ("auth_events_total", "Auth events, by kind"),
    ("auth_logins_total", "Password logins, by outcome"),
    ("auth_refreshes_total", "Refresh-token rotations"),
    (
        "auth_refresh_reuse_detected_total",
        "Used refresh tokens presented again (family revoked)",
    ),
    ("auth_revocations_total", "Revocations, by kind"),
    (
        "auth_http_refusals_total",
        "Refusals of the auth layer, by HTTP status and problem code",
    ),
    (
        "auth_password_hash_wait_seconds",
        "Seconds a password hash waited for a hashing slot",
    ),
    (
        "auth_password_hash_queue_depth",
        "Password hashes waiting for a slot",
    ),
    (
        "auth_password_hash_refused_total",
        "Password hashes refused because the queue was full",
    ),
    (
        "auth_token_verify_cache_total",
        "Token verifications, by cache result",
    ),
    (
        "auth_maintenance_purged_total",
        "Rows deleted by the scheduled purge, by table",
    ),
    (
        "auth_maintenance_runs_total",
        "Scheduled purge runs, by outcome",
    ),
    (
        "auth_store_duration_seconds",
        "Seconds a store operation took, by backend, store, operation and outcome",
    ),
];

/// Counts `event` by kind, and in the named counters the operator dashboards start from.
pub(crate) fn event(event: &AuthEvent) {
    metrics::counter!("auth_events_total", "kind" => event.kind()).increment(1);
    let login = |outcome: &'static str| {
        metrics::counter!("auth_logins_total", "outcome" => outcome).increment(1);
    };
    let revocation = |kind: &'static str| {
        metrics::counter!("auth_revocations_total", "kind" => kind).increment(1);
    };
    match event {
        AuthEvent::LoginSucceeded { .. } => login("succeeded"),
        AuthEvent::LoginFailed { .. } => login("failed"),
        AuthEvent::LoginThrottled { .. } => login("throttled"),
        AuthEvent::LoginLocked { .. } => login("locked"),
        AuthEvent::LoggedOut { .. } => revocation("logout"),
        AuthEvent::SessionRevoked { .. } => revocation("session"),
        AuthEvent::AllSessionsRevoked { .. } => revocation("all_sessions"),
        AuthEvent::UserDeactivated { .. } => revocation("user"),
        AuthEvent::ApiKeyRevoked { .. } => revocation("api_key"),
        AuthEvent::TokenRefreshed { .. } => metrics::counter!("auth_refreshes_total").increment(1),
        AuthEvent::RefreshTokenReuseDetected { .. } => {
            metrics::counter!("auth_refresh_reuse_detected_total").increment(1);
        }
        _ => {}
    }
}

/// A password hash got its slot after waiting `waited`.
pub(crate) fn hash_waited(waited: Duration) {
    metrics::histogram!("auth_password_hash_wait_seconds").record(waited.as_secs_f64());
}

/// `depth` hashes wait for a slot now.
pub(crate) fn hash_queue(depth: usize) {
    // Exact below 2^53, far beyond any queue.
    #[allow(clippy::cast_precision_loss, reason = "a queue length")]
    metrics::gauge!("auth_password_hash_queue_depth").set(depth as f64);
}

/// A hash was refused: the queue was full.
pub(crate) fn hash_refused() {
    metrics::counter!("auth_password_hash_refused_total").increment(1);
}

/// A verification was answered from the cache (`hit`) or checked in full.
pub(crate) fn verify_cache(hit: bool) {
    // Literal labels make a static key: no allocation on the request path.
    if hit {
        metrics::counter!("auth_token_verify_cache_total", "result" => "hit").increment(1);
    } else {
        metrics::counter!("auth_token_verify_cache_total", "result" => "miss").increment(1);
    }
}

/// Runs `flow` (named `name`) in an `auth.flow` span, recording its outcome, and the user and
/// session `ids` picks from a success.
pub(crate) async fn in_flow_span<T>(
    name: &'static str,
    client_ip: Option<std::net::IpAddr>,
    flow: impl Future<Output = Result<T, AuthError>>,
    ids: impl FnOnce(&T) -> (Option<String>, Option<String>),
) -> Result<T, AuthError> {
    let span = tracing::info_span!(
        "auth.flow",
        flow = name,
        client_ip = client_ip.map(tracing::field::display),
        user_id = Empty,
        session_id = Empty,
        outcome = Empty,
    );
    let result = flow.instrument(span.clone()).await;
    record(&span, &result, ids);
    result
}

fn record<T>(
    span: &Span,
    result: &Result<T, AuthError>,
    ids: impl FnOnce(&T) -> (Option<String>, Option<String>),
) {
    match result {
        Ok(value) => {
            let (user, session) = ids(value);
            if let Some(user) = user {
                span.record("user_id", user.as_str());
            }
            if let Some(session) = session {
                span.record("session_id", session.as_str());
            }
            span.record("outcome", "ok");
        }
        Err(e) => {
            span.record("outcome", e.code());
        }
    }
}
