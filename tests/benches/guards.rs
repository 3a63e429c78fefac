//! What a guard costs per request, in process, side by side in one run: the same handler
//! bare, behind `#[require_permissions]`, behind a hand-written extractor doing the same on the
//! same runtime, and behind a minimal one (`tests::guarded` says what each does). Requests
//! go through the axum router with `tower::ServiceExt::oneshot`; stores are in memory.
//!
//! `cargo bench -p tests --bench guards`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::hint::black_box;

use auth_axum::testing::{MockUser, TestKit};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use tower::ServiceExt;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let kit = rt.block_on(async { TestKit::new() });
    let token = kit.token(&MockUser::new("user-1").with_permissions([tests::guarded::PERMISSION]));
    let router: Router = tests::guarded::routes(kit.module());
    let request = |path: &str| {
        Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    for path in [
        "/bare",
        "/guarded",
        "/hand-written",
        "/hand-written-minimal",
    ] {
        let status = rt
            .block_on(router.clone().oneshot(request(path)))
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK, "{path}");
    }

    let mut group = c.benchmark_group("guarded_handler_in_process");
    for (name, path) in [
        ("bare", "/bare"),
        ("macro_guard", "/guarded"),
        ("hand_written_extractor", "/hand-written"),
        ("hand_written_minimal", "/hand-written-minimal"),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let response = router
                    .clone()
                    .oneshot(black_box(request(path)))
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
