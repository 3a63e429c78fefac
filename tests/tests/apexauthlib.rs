//! Services built on apexauthlib 0.3.1 work against the example auth service unchanged: its
//! calls over HTTP in the shapes its client reads (a contract test here), and the published
//! client itself, run in a venv this test makes (Python, from PyPI).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::AuthModule;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::example::ExampleService;
use tests::mfa::PASSWORD;
use tests::provider::{browser, sign_in_for_code, CALLBACK};
use tests::python;
use tests::{sqlite_url, test_config};

struct Service(ExampleService);

impl std::ops::Deref for Service {
    type Target = ExampleService;
    fn deref(&self) -> &ExampleService {
        &self.0
    }
}

impl Service {
    async fn start() -> Self {
        Self(ExampleService::start(|_| {}).await)
    }

    /// Registers `name` (an admin when `admin`): its id.
    async fn user(&self, name: &str, admin: bool) -> String {
        self.register(name, admin.then_some("admin")).await
    }

    /// apexauthlib's login: the OAuth password form with its placeholder client.
    async fn form_login(&self, name: &str) -> String {
        let response = self
            .http
            .post(self.server.url("/auth/login"))
            .form(&[
                ("grant_type", "password"),
                ("username", name),
                ("password", PASSWORD),
                ("scope", ""),
                ("client_id", "string"),
                ("client_secret", "string"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method.parse().unwrap(), self.server.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

#[tokio::test]
async fn every_call_of_the_client_answers_in_its_shape() {
    let service = Service::start().await;
    let root = service.user("root", true).await;
    let ada = service.user("ada", false).await;
    service.user("bob", false).await;
    let (root_token, ada_token, bob_token) = (
        service.form_login("root").await,
        service.form_login("ada").await,
        service.form_login("bob").await,
    );

    let (status, me) = service.call("GET", "/auth/user", &root_token, None).await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "email",
            "first_name",
            "hashed_password",
            "id",
            "is_admin",
            "last_name",
            "phone_number",
            "username"
        ]
    );
    assert_eq!(
        (&me["id"], &me["is_admin"], &me["hashed_password"]),
        (&json!(root), &json!(true), &json!(""))
    );
    assert_eq!(
        service.call("GET", "/auth/user", "junk", None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Services are registered by admins, with their admins.
    let new = json!({"service": "billing", "admins": [ada]});
    assert_eq!(
        service
            .call("POST", "/services", &ada_token, Some(new.clone()))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = service
        .call("POST", "/services", &root_token, Some(new))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["data"]["service"]["admins"], json!([ada]));
    let ghost = json!({"service": "x", "admins": ["nobody"]});
    assert_eq!(
        service
            .call("POST", "/services", &root_token, Some(ghost))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Permissions, one at a time, by the service's admin (ada); not by bob.
    let plan = json!({"name": "billing.plan", "label": "Plan", "description": "The plan",
                      "type": "string", "values": ["free", "pro"], "default": "free"});
    let seats = json!({"name": "billing.seats", "label": "Seats", "description": "Seats",
                       "type": "integer", "values": [], "default": 1});
    let path = "/services/billing/permissions";
    assert_eq!(
        service
            .call("POST", path, &bob_token, Some(plan.clone()))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    for permission in [&plan, &seats] {
        let (status, body) = service
            .call("POST", path, &ada_token, Some(permission.clone()))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["permission"]["id"], permission["name"]);
    }
    let wrong_default =
        json!({"name": "billing.tier", "type": "string", "values": ["a"], "default": "b"});
    assert_eq!(
        service
            .call("POST", path, &ada_token, Some(wrong_default))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (status, listed) = service.call("GET", path, &bob_token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed["data"]["permissions"],
        json!([
            {"id": "billing.plan", "name": "billing.plan", "label": "Plan", "description": "The plan",
             "type": "string", "values": ["free", "pro"], "default": "free"},
            {"id": "billing.seats", "name": "billing.seats", "label": "Seats", "description": "Seats",
             "type": "integer", "values": [], "default": 1},
        ])
    );

    // A member's values: set by an admin of the service, read by them and the member.
    let metadata = format!("/services/billing/metadata/{root}");
    let (status, body) = service
        .call(
            "PUT",
            &metadata,
            &ada_token,
            Some(json!({"billing.plan": "pro"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["metadata"]["metadata"],
        json!({"billing.plan": "pro", "billing.seats": 1})
    );
    let bad = service
        .call(
            "PUT",
            &metadata,
            &ada_token,
            Some(json!({"billing.plan": "gold"})),
        )
        .await;
    assert_eq!(bad.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        service
            .call("PUT", &metadata, &bob_token, Some(json!({})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        service.call("GET", &metadata, &bob_token, None).await.0,
        StatusCode::FORBIDDEN
    );
    let own = format!(
        "/services/billing/metadata/{}",
        service.user("cid", false).await
    );
    let cid_token = service.form_login("cid").await;
    let (status, body) = service.call("GET", &own, &cid_token, None).await;
    assert_eq!(
        (status, &body["data"]["metadata"]["metadata"]),
        (
            StatusCode::OK,
            &json!({"billing.plan": "free", "billing.seats": 1})
        )
    );

    let (status, body) = service
        .call(
            "GET",
            &format!("/services/billing/users/{ada}"),
            &ada_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let info = &body["data"]["user"];
    assert_eq!(
        (&info["user"]["username"], &info["is_service_admin"]),
        (&json!("ada"), &json!(true))
    );
    assert_eq!(info["user"]["hashed_password"], "");
    let (status, body) = service
        .call("GET", "/services/billing/users", &ada_token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let users = body["data"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 4);
    let root_info = users
        .iter()
        .find(|u| u["user"]["id"] == json!(root))
        .unwrap();
    assert_eq!(
        root_info["metadata"],
        json!({"billing.plan": "pro", "billing.seats": 1})
    );
    assert_eq!(
        service
            .call("GET", "/services/billing/users", &bob_token, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // The service's own client (scope `services:billing`) manages its schema: no password.
    let registered = service
        .module
        .service()
        .register_client(
            &auth_axum::core::oauth::NewClient::new(
                "Billing",
                vec![auth_axum::core::oauth::GrantType::ClientCredentials],
                "services:billing services:shipping.x",
            ),
            None,
        )
        .await
        .unwrap();
    let client_token = |scope: &'static str| {
        let registered = &registered;
        let service = &service;
        async move {
            let body: Value = service
                .http
                .post(service.server.url("/oauth/token"))
                .basic_auth(
                    &registered.client.client_id,
                    registered.client_secret.as_deref(),
                )
                .form(&[("grant_type", "client_credentials"), ("scope", scope)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let billing = client_token("services:billing").await;
    let export = json!({"name": "billing.export", "type": "boolean", "default": false});
    assert_eq!(
        service.call("POST", path, &billing, Some(export)).await.0,
        StatusCode::CREATED
    );
    let schema =
        json!([{"name": "billing.plan", "type": "string", "allowed_values": ["free", "pro"]}]);
    let (status, report) = service
        .call("PUT", path, &billing, Some(schema.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["deleted"],
        json!(["billing.export", "billing.seats"])
    );
    let other = client_token("services:shipping.x").await;
    assert_eq!(
        service.call("PUT", path, &other, Some(schema)).await.0,
        StatusCode::FORBIDDEN
    );
    let seats = json!({"name": "billing.seats", "type": "integer", "default": 1});
    assert_eq!(
        service.call("POST", path, &ada_token, Some(seats)).await.0,
        StatusCode::CREATED
    );

    // Deleting by id, as the client does; an unknown id is 404.
    let one = format!("{path}/billing.seats");
    let (status, body) = service.call("DELETE", &one, &ada_token, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(
        service.call("DELETE", &one, &ada_token, None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_published_apexauthlib_client_runs_against_the_service() {
    let Some(python) = python::venv(
        env!("CARGO_TARGET_TMPDIR"),
        "apexauthlib-0.3.1-venv",
        &["apexauthlib==0.3.1"],
    )
    .await
    else {
        return;
    };
    let service = Service::start().await;
    service.user("root", true).await;
    let member = service.user("ada", false).await;
    // A code for apexauthlib's AuthCodeApi: a confidential client registered without PKCE,
    // the user signed in through the authorization page.
    let client = service
        .module
        .service()
        .register_client(
            &serde_json::from_value(json!({
                "client_name": "Legacy", "redirect_uris": [CALLBACK],
                "token_endpoint_auth_method": "client_secret_post", "require_pkce": false
            }))
            .unwrap(),
            None,
        )
        .await
        .unwrap();
    let client_id = client.client.client_id.clone();
    let query = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("state", "s"),
    ];
    let code = sign_in_for_code(&browser(), &service.server.url(""), "ada", &query).await;
    let code = code["code"].clone();
    let secret = client.client_secret.clone().unwrap();
    let env = vec![
        ("AUTH_URL", service.server.url("")),
        ("ADMIN_USER", "root".to_owned()),
        ("ADMIN_PASSWORD", PASSWORD.to_owned()),
        ("MEMBER_ID", member),
        ("CLIENT_ID", client_id),
        ("CLIENT_SECRET", secret),
        ("CODE", code),
    ];
    python::run_ok(python, "apexauthlib_client.py", env).await;
}

#[tokio::test]
async fn the_first_admin_is_created_at_the_first_start_and_never_changed() {
    let dir = tempfile::tempdir().unwrap();
    let start = |password: &'static str| {
        let mut config = test_config(&sqlite_url(dir.path()), dir.path());
        config.bootstrap.admin_username = Some("root".to_owned());
        config.bootstrap.admin_password = Some(secrecy::SecretString::from(password));
        AuthModule::configure(config)
    };
    let first = start(PASSWORD).await.unwrap();
    let root = first
        .service()
        .users()
        .get_by_username("root")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(root.roles, ["user", "admin"]);
    assert_eq!(root.email, "root@localhost.invalid");
    drop(first);
    // A later start with another password changes nothing.
    let second = start("another horse battery staple").await.unwrap();
    let login = second
        .service()
        .login(auth_axum::core::service::LoginRequest::new(
            "root", PASSWORD,
        ))
        .await
        .unwrap();
    assert!(login.user.roles.iter().any(|r| r == "admin"));
    // A password the policy refuses stops the first start, naming the setting.
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&sqlite_url(dir.path()), dir.path());
    config.bootstrap.admin_username = Some("root".to_owned());
    config.bootstrap.admin_password = Some(secrecy::SecretString::from("short"));
    let refused = AuthModule::configure(config).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("AUTH__BOOTSTRAP__ADMIN_USERNAME"),
        "{refused}"
    );
}
