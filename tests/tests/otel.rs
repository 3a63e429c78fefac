//! The example's OpenTelemetry exporter (feature `otel`): the flows' `auth.flow` spans reach
//! a collector over OTLP/HTTP with JSON, with their fields as attributes and no secret. The
//! collector is a small server of this test's own on 127.0.0.1.
//!
//! One test in this binary: the subscriber is the process's.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::{Arc, Mutex};

use auth_service::telemetry::{LogTo, Telemetry};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tests::example::ExampleService;
use tests::TestServer;

/// The spans of every export request, flattened: name and attributes as `key=value`.
fn spans(requests: &[Value]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for request in requests {
        for resource in request["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let attributes = span["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            let value = &a["value"];
                            let text = value["stringValue"]
                                .as_str()
                                .map_or_else(|| value.to_string(), str::to_owned);
                            format!("{}={text}", a["key"].as_str().unwrap_or_default())
                        })
                        .collect();
                    out.push((
                        span["name"].as_str().unwrap_or_default().to_owned(),
                        attributes,
                    ));
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_spans_reach_an_opentelemetry_collector() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = Arc::clone(&received);
    let collector = TestServer::spawn(Router::new().route(
        "/v1/traces",
        post(move |Json(body): Json<Value>| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push(body);
                Json(json!({}))
            }
        }),
    ))
    .await;
    let telemetry = Telemetry::init(LogTo::Stderr, Some(&collector.url(""))).unwrap();

    let service = ExampleService::start(|_| {}).await;
    service.register("otto", None).await;
    service.login("otto").await;
    service
        .login_refused("otto", "not the password at all")
        .await;
    // Exports what is buffered, from the SDK's thread, to the collector.
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .unwrap();

    let requests = received.lock().unwrap().clone();
    let text = serde_json::to_string(&requests).unwrap();
    assert!(
        text.contains("\"auth-service\""),
        "the service name: {text}"
    );
    let flows: Vec<Vec<String>> = spans(&requests)
        .into_iter()
        .filter(|(name, _)| name == "auth.flow")
        .map(|(_, attributes)| attributes)
        .collect();
    let has = |flow: &str, outcome: &str| {
        flows.iter().any(|a| {
            a.contains(&format!("flow={flow}")) && a.contains(&format!("outcome={outcome}"))
        })
    };
    assert!(has("register", "ok"), "{flows:?}");
    assert!(has("login", "ok"), "{flows:?}");
    assert!(has("login", "invalid_credentials"), "{flows:?}");
    assert!(
        flows
            .iter()
            .all(|a| a.iter().any(|kv| kv.starts_with("client_ip="))),
        "{flows:?}"
    );
    assert!(
        !text.contains("not the password at all"),
        "a password in a span"
    );
    assert!(!text.contains(tests::mfa::PASSWORD), "a password in a span");
}
