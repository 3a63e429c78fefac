//! One behaviour suite for the rate-limit and lockout counters: memory, SQLite, PostgreSQL
//! and Redis.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;

use auth_axum::core::store::redis::RedisStore;
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::store::MemoryStore;
use auth_axum::core::throttle::{window_start, CounterStore};
use tests::{redis_url, unique_prefix, PgDatabase};

async fn counters_conform(store: Arc<dyn CounterStore>) {
    let s = store.as_ref();
    assert_eq!(window_start(1_799, 900), 900);
    assert_eq!(s.count("login:ada", 1_000, 900).await.unwrap(), 0);
    assert_eq!(s.hit("login:ada", 1_000, 900).await.unwrap(), 1);
    assert_eq!(
        s.hit("login:ada", 1_799, 900).await.unwrap(),
        2,
        "same window"
    );
    assert_eq!(s.count("login:ada", 1_500, 900).await.unwrap(), 2);
    assert_eq!(
        s.hit("login:bob", 1_000, 900).await.unwrap(),
        1,
        "keys are separate"
    );
    // A new window starts again at one; the old count is gone.
    assert_eq!(s.count("login:ada", 1_800, 900).await.unwrap(), 0);
    assert_eq!(s.hit("login:ada", 1_800, 900).await.unwrap(), 1);
    s.reset("login:ada").await.unwrap();
    assert_eq!(s.count("login:ada", 1_800, 900).await.unwrap(), 0);
    s.reset("never-counted").await.unwrap();
    assert_eq!(s.count("login:bob", 1_000, 900).await.unwrap(), 1);

    // Concurrent hits are all counted.
    let hits: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.hit("ip:10.0.0.1", 5_000, 60).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for hit in hits {
        seen.push(hit.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=20).collect::<Vec<u64>>(),
        "each hit sees its own count"
    );
}

#[tokio::test]
async fn memory_counters_conform() {
    counters_conform(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_counters_conform() {
    let (_dir, store) = tests::sqlite_store().await;
    counters_conform(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_counters_conform() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = SqlStore::connect(&db.url, SqlOptions::default())
        .await
        .unwrap();
    counters_conform(Arc::new(store.clone())).await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_counters_conform() {
    let Some(url) = redis_url().await else {
        return;
    };
    let store = RedisStore::connect(&url, &format!("{}:", unique_prefix("counters")))
        .await
        .unwrap();
    counters_conform(Arc::new(store)).await;
}
