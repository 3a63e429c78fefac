//! Refresh-token rotation throughput on one core, EdDSA access tokens, sessions, refresh
//! families and revocations in Redis on 127.0.0.1 (users in SQLite). 64 sessions rotate their
//! refresh tokens concurrently on a single-threaded runtime; each rotation is a full
//! `AuthService::refresh`: token lookup, compare-and-swap rotation, session check, a new
//! EdDSA-signed access token.
//!
//! `cargo bench -p tests --bench refresh` (skips with a message when Redis does not answer).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::time::Instant;

use auth_axum::core::config::JwtAlgorithm;
use auth_axum::core::service::{LoginRequest, RegisterRequest};
use auth_axum::core::AuthService;

const SESSIONS: usize = 64;
const ROTATIONS_PER_SESSION: usize = 100;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let Some(redis) = tests::redis_url().await else {
            println!("refresh: Redis does not answer on 127.0.0.1:6379; skipped");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut config = tests::test_config(&tests::sqlite_url(dir.path()), dir.path());
        config.jwt.algorithm = JwtAlgorithm::EdDSA;
        config.jwt.secret_key = None;
        config.redis.url = Some(redis);
        config.redis.prefix = format!("{}:", tests::unique_prefix("refresh-bench"));
        let service = AuthService::from_config(&config).await.unwrap();
        service
            .register(RegisterRequest::new(
                "bench",
                "bench@example.com",
                "correct horse battery",
            ))
            .await
            .unwrap();
        let mut tokens = Vec::new();
        for _ in 0..SESSIONS {
            let login = service
                .login(LoginRequest::new("bench", "correct horse battery"))
                .await
                .unwrap();
            tokens.push(login.refresh_token);
        }
        let started = Instant::now();
        let chains = tokens.into_iter().map(|mut token| {
            let service = service.clone();
            async move {
                for _ in 0..ROTATIONS_PER_SESSION {
                    token = service.refresh(&token).await.unwrap().refresh_token;
                }
            }
        });
        futures_util::future::join_all(chains).await;
        let elapsed = started.elapsed();
        #[allow(clippy::cast_precision_loss, reason = "a rate")]
        let rate = (SESSIONS * ROTATIONS_PER_SESSION) as f64 / elapsed.as_secs_f64();
        println!(
            "refresh: {} rotations on one core in {:.2} s: {rate:.0}/s (EdDSA, Redis)",
            SESSIONS * ROTATIONS_PER_SESSION,
            elapsed.as_secs_f64()
        );
    });
}
