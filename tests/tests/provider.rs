//! The authorization server's endpoints other than the browser's: discovery, client
//! registration (RFC 7591), client authentication, the `client_credentials` and `password`
//! grants, introspection (RFC 7662) and revocation (RFC 7009) of their tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::mfa::{claims, problem, PASSWORD};
use tests::provider::{basic, oauth_error, Provider, CALLBACK};

#[tokio::test]
async fn discovery_names_the_endpoints_and_each_answers() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(dir.path(), |c| {
        c.provider.issuer = Some("http://localhost:7000/".to_owned());
    })
    .await;
    let response = provider
        .browser
        .get(provider.app.server.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let meta: Value = response.json().await.unwrap();
    assert_eq!(meta["issuer"], "http://localhost:7000", "no trailing slash");
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["response_types_supported"], json!(["code"]));
    assert_eq!(
        meta["scopes_supported"],
        json!(["profile", "email", "offline_access"]),
        "no openid with an HMAC key: nobody could verify the ID tokens"
    );
    // Every endpoint it names is served here (a method it does not take is 405, not 404).
    for (name, method) in [
        ("authorization_endpoint", "POST"),
        ("token_endpoint", "GET"),
        ("jwks_uri", "GET"),
        ("userinfo_endpoint", "GET"),
        ("registration_endpoint", "GET"),
        ("introspection_endpoint", "GET"),
        ("revocation_endpoint", "GET"),
    ] {
        let url = meta[name].as_str().unwrap();
        let path = url.strip_prefix("http://localhost:7000").unwrap();
        let response = provider
            .browser
            .request(method.parse().unwrap(), provider.app.server.url(path))
            .send()
            .await
            .unwrap();
        assert_ne!(response.status(), StatusCode::NOT_FOUND, "{name}");
    }

    let dir = tempfile::tempdir().unwrap();
    let oidc = Provider::with_id_tokens(dir.path()).await;
    let meta = oidc.public_json("/.well-known/openid-configuration").await;
    assert_eq!(meta["issuer"], "http://localhost:8080");
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(meta["scopes_supported"][0], "openid");
}

#[tokio::test]
async fn only_admins_register_clients_and_the_secret_is_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(dir.path(), |_| {}).await;
    let body = json!({
        "client_name": "Reports",
        "grant_types": ["client_credentials"],
        "scope": "reports.read reports.write",
    });
    let anonymous = provider.register_client(None, body.clone()).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let user = provider.app.user("bob").await;
    let refused = provider.register_client(Some(&user), body.clone()).await;
    problem(refused, StatusCode::FORBIDDEN, "forbidden").await;

    let admin = provider.admin("root").await;
    let response = provider.register_client(Some(&admin), body.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let client: Value = response.json().await.unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("cs_") && secret.len() == 46, "{secret}");
    assert_eq!(client["client_secret_expires_at"], 0);
    assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(client["grant_types"], json!(["client_credentials"]));
    assert_eq!(client["scope"], "reports.read reports.write");
    assert!(client["client_id_issued_at"].is_i64());
    // The store keeps its hash only: a listing never shows it.
    let listed = provider.app.service.oauth_clients().await.unwrap();
    let listed = serde_json::to_string(&listed).unwrap();
    assert!(listed.contains(client["client_id"].as_str().unwrap()));
    assert!(!listed.contains(secret));

    // A public client has no secret.
    let public = provider
        .register_client(
            Some(&admin),
            json!({"client_name": "SPA", "redirect_uris": [CALLBACK],
                   "token_endpoint_auth_method": "none"}),
        )
        .await;
    assert_eq!(public.status(), StatusCode::CREATED);
    let public: Value = public.json().await.unwrap();
    assert!(public.get("client_secret").is_none());
    assert_eq!(public["grant_types"], json!(["authorization_code"]));
    assert_eq!(public["response_types"], json!(["code"]));

    for (bad, error) in [
        (
            json!({"client_name": "Web", "redirect_uris": ["http://app.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"client_name": "Web", "redirect_uris": ["https://app.example/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (json!({"client_name": "Web"}), "invalid_redirect_uri"),
        (
            json!({"client_name": "", "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"client_name": "Web", "grant_types": ["implicit"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"client_name": "Bot", "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "none"}),
            "invalid_client_metadata",
        ),
    ] {
        let response = provider.register_client(Some(&admin), bad.clone()).await;
        assert_eq!(
            oauth_error(response, StatusCode::BAD_REQUEST).await,
            error,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_service_gets_a_token_of_its_own_scopes_and_nothing_for_wrong_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(dir.path(), |_| {}).await;
    let client = provider
        .client(json!({
            "client_name": "Reports",
            "grant_types": ["client_credentials"],
            "scope": "reports.read reports.write",
        }))
        .await;
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();

    let response = provider
        .token(
            &client,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "reports.read"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "reports.read");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let access = body["access_token"].as_str().unwrap();
    let token = claims(access);
    assert_eq!(
        (&token["sub"], &token["client_id"]),
        (&json!(id), &json!(id))
    );
    assert_eq!(token["permissions"], json!(["reports.read"]));
    assert!(token.get("sid").is_none());
    // The service sees a client, not a user.
    let principal = provider.app.service.authenticate(access).await.unwrap();
    assert_eq!(principal.credential.as_str(), "client_credentials");
    assert!(principal.has_permission("reports.read"));
    assert!(!principal.has_permission("reports.write"));
    // No scope asked: all of the client's.
    let all: Value = provider
        .token(&client, &[("grant_type", "client_credentials")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["scope"], "reports.read reports.write");

    // Wrong secret, unknown client, secret in the form of a Basic client, nothing at all:
    // 401 invalid_client with a challenge.
    let url = provider.app.server.url("/oauth/token");
    let grant = [("grant_type", "client_credentials")];
    let attempts = [
        provider
            .browser
            .post(&url)
            .header("authorization", basic(id, "cs_wrong"))
            .form(&grant),
        provider
            .browser
            .post(&url)
            .header("authorization", basic("nobody", secret))
            .form(&grant),
        provider.browser.post(&url).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ]),
        provider.browser.post(&url).form(&grant),
        provider
            .browser
            .post(&url)
            .header("authorization", "Basic !!")
            .form(&grant),
    ];
    for attempt in attempts {
        let response = attempt.send().await.unwrap();
        assert!(response.headers().contains_key("www-authenticate"));
        assert_eq!(
            oauth_error(response, StatusCode::UNAUTHORIZED).await,
            "invalid_client"
        );
    }
    // Basic with percent-encoded parts (RFC 6749 section 2.3.1) works.
    let encoded = provider
        .browser
        .post(&url)
        .header("authorization", basic(id, &secret.replace('_', "%5F")))
        .form(&grant)
        .send()
        .await
        .unwrap();
    assert_eq!(encoded.status(), StatusCode::OK);

    for (form, error) in [
        (
            vec![("grant_type", "client_credentials"), ("scope", "admin")],
            "invalid_scope",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "a"),
                ("password", "b"),
            ],
            "unauthorized_client",
        ),
        (vec![("grant_type", "implicit")], "unsupported_grant_type"),
        (vec![("scope", "reports.read")], "invalid_request"),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("grant_type", "password"),
            ],
            "invalid_request",
        ),
    ] {
        let response = provider.token(&client, &form).await;
        assert_eq!(
            oauth_error(response, StatusCode::BAD_REQUEST).await,
            error,
            "{form:?}"
        );
    }

    // Introspection by a confidential client: active with its scope, then revoked.
    let introspected: Value = provider
        .form("/oauth/introspect", &[("token", access)], Some(&client))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["client_id"], id);
    assert_eq!(introspected["scope"], "reports.read");
    assert_eq!(introspected["token_type"], "Bearer");
    assert!(introspected.get("username").is_none(), "no user behind it");
    // Another client cannot revoke it (RFC 7009: refused), nor a user's own token.
    let stranger = provider
        .client(json!({"client_name": "Stranger", "grant_types": ["client_credentials"]}))
        .await;
    let refused = provider
        .form("/oauth/revoke", &[("token", access)], Some(&stranger))
        .await;
    assert_eq!(
        oauth_error(refused, StatusCode::BAD_REQUEST).await,
        "unauthorized_client"
    );
    let own_login = provider.app.user("carol").await;
    let refused = provider
        .form(
            "/oauth/revoke",
            &[("token", own_login.as_str())],
            Some(&client),
        )
        .await;
    assert_eq!(
        oauth_error(refused, StatusCode::BAD_REQUEST).await,
        "unauthorized_client"
    );
    assert!(provider.app.service.authenticate(&own_login).await.is_ok());
    let revoked = provider
        .form("/oauth/revoke", &[("token", access)], Some(&client))
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let after: Value = provider
        .form("/oauth/introspect", &[("token", access)], Some(&client))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after,
        json!({"active": false}),
        "nothing else for an inactive token"
    );
    assert!(provider.app.service.authenticate(access).await.is_err());
    for junk in ["", "not-a-token", "a.b.c"] {
        let answer: Value = provider
            .form("/oauth/introspect", &[("token", junk)], Some(&client))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer, json!({"active": false}), "{junk:?}");
        let revoked = provider
            .form("/oauth/revoke", &[("token", junk)], Some(&client))
            .await;
        assert_eq!(
            revoked.status(),
            StatusCode::OK,
            "unknown tokens are no error"
        );
    }
    let missing = provider.form("/oauth/introspect", &[], Some(&client)).await;
    assert_eq!(
        oauth_error(missing, StatusCode::BAD_REQUEST).await,
        "invalid_request"
    );
}

#[tokio::test]
async fn the_password_grant_is_for_clients_allowed_it_and_accounts_without_a_second_factor() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(dir.path(), |_| {}).await;
    let client = provider
        .client(json!({
            "client_name": "CLI",
            "grant_types": ["password", "refresh_token"],
            "scope": "profile email",
            "token_endpoint_auth_method": "client_secret_post",
        }))
        .await;
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    let ada = provider.app.user("ada").await;
    let form = |password: &'static str| {
        vec![
            ("grant_type", "password"),
            ("username", "ada"),
            ("password", password),
            ("client_id", id),
            ("client_secret", secret),
        ]
    };
    let response = provider.form("/oauth/token", &form(PASSWORD), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["scope"], "profile email");
    let token = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(token["client_id"], id);
    assert_eq!(token["amr"], json!(["pwd"]));
    assert!(token["sid"].is_string());
    let wrong = provider
        .form("/oauth/token", &form("wrong password"), None)
        .await;
    assert_eq!(
        oauth_error(wrong, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );
    // A client secret sent by Basic when the client registered client_secret_post.
    let basic_auth = provider
        .browser
        .post(provider.app.server.url("/oauth/token"))
        .header("authorization", basic(id, secret))
        .form(&[
            ("grant_type", "password"),
            ("username", "ada"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        oauth_error(basic_auth, StatusCode::UNAUTHORIZED).await,
        "invalid_client"
    );

    // The client's refresh token works for it, and only for it: not at the service's own
    // refresh route, not for another client.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let own_route = provider
        .app
        .post("/auth/refresh", json!({"refresh_token": refresh}), None)
        .await;
    problem(own_route, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let other = provider
        .client(
            json!({"client_name": "Other", "grant_types": ["refresh_token", "client_credentials"]}),
        )
        .await;
    let stolen = provider
        .token(
            &other,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(
        oauth_error(stolen, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );
    let refreshed = provider
        .form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", id),
                ("client_secret", secret),
            ],
            None,
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(refreshed["scope"], "profile email");
    assert_ne!(refreshed["refresh_token"], tokens["refresh_token"]);

    // An account with a second factor is sent to the authorization code flow.
    let (_app, _codes) = provider.app.enable(&ada, "ada").await;
    let challenged = provider.form("/oauth/token", &form(PASSWORD), None).await;
    let body: Value = challenged.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("authorization code"));
}
