//! What sessions and revocation cost per request, per backend, side by side in one run:
//! a revocation check (the question every authenticated request asks) and a session lookup
//! (what a cookie request costs on a cache miss), in memory, SQLite, PostgreSQL and Redis on
//! loopback, and the revocation check answered by the local view.
//!
//! `cargo bench -p tests --bench sessions` (PostgreSQL and Redis variants run when they
//! answer on 127.0.0.1, as on the project's machines).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::Arc;

use auth_axum::core::invalidation::ChangeBus;
use auth_axum::core::session::{Device, SessionManager, SessionSettings, SessionStore};
use auth_axum::core::store::redis::RedisStore;
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::store::MemoryStore;
use auth_axum::core::token::revocation::{RevocationCheck, RevocationStore};
use auth_axum::core::token::RevocationView;
use auth_axum::core::{ManualClock, SystemClock};
use criterion::{criterion_group, criterion_main, Criterion};

const FAR: i64 = 4_000_000_000;

/// A realistic revocation set: some revoked tokens, sessions and user cut-offs.
async fn fill(store: &dyn RevocationStore) {
    for i in 0..200 {
        store.revoke_token(&format!("jti-{i}"), FAR).await.unwrap();
        store
            .revoke_session(&format!("sid-{i}"), FAR)
            .await
            .unwrap();
    }
}

async fn sessions(store: Arc<dyn SessionStore>) -> SessionManager {
    let manager = SessionManager::new(
        store,
        Arc::new(ManualClock::new(1_000)),
        SessionSettings::new(3_600, 86_400, None),
    );
    for i in 0..200 {
        manager
            .create(
                &format!("s-{i}"),
                &format!("u-{}", i % 20),
                Device::named("bench"),
            )
            .await
            .unwrap();
    }
    manager
}

struct Backend {
    name: &'static str,
    revocations: Arc<dyn RevocationStore>,
    sessions: Option<SessionManager>,
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (backends, _keep) = rt.block_on(async {
        let mut backends = Vec::new();
        let memory = Arc::new(MemoryStore::new());
        fill(memory.as_ref()).await;
        backends.push(Backend {
            name: "memory",
            revocations: memory.clone(),
            sessions: Some(sessions(memory).await),
        });
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Arc::new(
            SqlStore::connect(&tests::sqlite_url(dir.path()), SqlOptions::default())
                .await
                .unwrap(),
        );
        fill(sqlite.as_ref()).await;
        backends.push(Backend {
            name: "sqlite",
            revocations: sqlite.clone(),
            sessions: Some(sessions(sqlite.clone()).await),
        });
        let pg = tests::PgDatabase::create().await;
        if let Some(db) = &pg {
            let store = Arc::new(
                SqlStore::connect(&db.url, SqlOptions::default())
                    .await
                    .unwrap(),
            );
            fill(store.as_ref()).await;
            backends.push(Backend {
                name: "postgres",
                revocations: store.clone(),
                sessions: Some(sessions(store).await),
            });
        }
        if let Some(url) = tests::redis_url().await {
            let prefix = format!("{}:", tests::unique_prefix("bench"));
            let store = Arc::new(RedisStore::connect(&url, &prefix).await.unwrap());
            fill(store.as_ref()).await;
            backends.push(Backend {
                name: "redis",
                revocations: store.clone(),
                sessions: Some(sessions(store.clone()).await),
            });
            let view = Arc::new(RevocationView::new(
                store,
                ChangeBus::redis(&url, &format!("{prefix}changes"))
                    .await
                    .unwrap(),
                Arc::new(SystemClock),
            ));
            drop(view.follow());
            while !view.is_complete() {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            backends.push(Backend {
                name: "local_view_over_redis",
                revocations: view,
                sessions: None,
            });
        }
        (backends, (dir, pg))
    });

    // A token nobody revoked: the common case, and the one that must be cheap.
    let check = RevocationCheck {
        jti: "jti-live",
        session_id: Some("sid-live"),
        user_id: "u-1",
        issued_at: 1_000,
        epoch: 0,
    };
    let mut group = c.benchmark_group("revocation_check");
    for backend in &backends {
        let store = Arc::clone(&backend.revocations);
        group.bench_function(backend.name, |b| {
            b.to_async(&rt)
                .iter(|| async { store.is_revoked(black_box(&check)).await.unwrap() });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("session_lookup");
    for backend in &backends {
        let Some(manager) = &backend.sessions else {
            continue;
        };
        group.bench_function(backend.name, |b| {
            b.to_async(&rt).iter(|| async {
                manager
                    .use_session(black_box("s-7"))
                    .await
                    .unwrap()
                    .unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
