//! The example service's API document and its Swagger UI page: `GET /openapi.json` lists every
//! route of the access-control matrix with the security its guard enforces, passes an OpenAPI
//! 3.1 validator (openapi-spec-validator, from PyPI), and the page at `/docs` renders it in
//! headless Chromium (a screenshot is kept in the target directory).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::Access;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::example::ExampleService;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_matches_the_guards_and_the_page_renders_it() {
    let service = ExampleService::start(|_| {}).await;
    let response = service
        .http
        .get(service.server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "auth-service");

    // Every route of the matrix, with its guard's security.
    let state = auth_service::state(service.module.clone()).unwrap();
    let routes = auth_service::routes(&state);
    assert!(routes.routes().len() > 60, "{}", routes.routes().len());
    for route in routes.routes() {
        let path = route.path.replace("{*", "{");
        let operation = &doc["paths"][&path][route.method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{} {path} is missing", route.method);
        match &route.access {
            Access::Public => assert_eq!(operation["security"], json!([]), "{path}"),
            Access::Guarded(requirements) => {
                let described: Vec<String> = requirements.iter().map(|r| r.describe()).collect();
                assert_eq!(
                    operation["x-auth-requirements"],
                    json!(described),
                    "{} {path}",
                    route.method
                );
            }
            _ => unreachable!(),
        }
    }
    let admin = &doc["paths"]["/admin/users"]["get"];
    assert_eq!(admin["x-auth-roles"], json!(["admin"]), "{admin}");
    // The example's own annotations are kept, the security added.
    let articles = &doc["paths"]["/articles"]["get"];
    assert_eq!(
        articles["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"],
        "#/components/schemas/Article"
    );
    assert_eq!(articles["x-auth-permissions"], json!(["articles.read"]));
    assert!(doc["paths"]["/openapi.json"]["get"]["security"] == json!([]));
    // A `\|` of the routes table is a `|` in the document.
    let token = doc["paths"]["/oauth/token"]["post"]["description"]
        .as_str()
        .unwrap();
    assert!(
        token.contains("grant_type=authorization_code|refresh_token|client_credentials|password"),
        "{token}"
    );

    // A real validator accepts it.
    if let Some(python) = tests::python::venv(
        env!("CARGO_TARGET_TMPDIR"),
        "openapi-validator",
        &["openapi-spec-validator==0.7.2"],
    )
    .await
    {
        tests::python::run_ok(
            python,
            "validate_openapi.py",
            vec![("OPENAPI_URL", service.server.url("/openapi.json"))],
        )
        .await;
    }

    // The Swagger UI page renders the document in a browser.
    let Some(chromium) = tests::browser::chromium() else {
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let page = service.server.url("/docs/");
    let url = page.clone();
    let (chromium_, profile_) = (chromium.clone(), profile.path().to_owned());
    let dom = tokio::task::spawn_blocking(move || {
        tests::browser::rendered_dom(&chromium_, &profile_, &url)
    })
    .await
    .unwrap();
    for shown in [
        "opblock-summary-path",
        "/auth/login",
        "/articles",
        "/admin/users",
        "authorize",
    ] {
        assert!(dom.contains(shown), "{shown} not on the page:\n{dom}");
    }
    assert!(
        !dom.contains("Failed to load API definition"),
        "the page could not read the document"
    );
    let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("swagger-ui.png");
    let _ = std::fs::remove_file(&shot);
    let (to, profile_) = (shot.clone(), profile.path().to_owned());
    tokio::task::spawn_blocking(move || {
        tests::browser::screenshot(&chromium, &profile_, &page, &to);
    })
    .await
    .unwrap();
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "{}",
        png.len()
    );
    eprintln!("screenshot of the Swagger UI page: {}", shot.display());
}
