use auth_axum::{require_factors, require_mfa, require_recent_auth};

#[require_factors(any(totp, sms))]
async fn unknown_factor() {}

#[require_factors(totp, passkey)]
async fn without_any_or_all() {}

#[require_factors(any())]
async fn no_factor() {}

#[require_mfa(totp)]
async fn mfa_with_arguments() {}

#[require_recent_auth(max_age = "5 minutes")]
async fn malformed_duration() {}

#[require_recent_auth(max_age = "0s")]
async fn zero_duration() {}

#[require_recent_auth(within = "5m")]
async fn wrong_name() {}

#[require_recent_auth]
async fn no_duration() {}

#[require_mfa]
fn not_async() {}

fn main() {}
