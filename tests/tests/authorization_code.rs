//! The authorization code flow in a browser's shoes: the sign-in and consent page, PKCE
//! `S256`, exact redirect URIs, single-use codes, ID tokens verified with the published keys
//! (jsonwebtoken), refresh, userinfo, introspection and revocation of the tokens it gave; and
//! every way a request is refused, none of them redirecting anywhere the client did not
//! register.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::mfa::{claims, PASSWORD};
use tests::provider::{
    code_client, cookies_of, field, oauth_error, pkce, redirected, Page, Provider, CALLBACK,
};

/// The claims of `id_token`, verified with the key the provider publishes for its `kid`.
async fn verified_id_token(provider: &Provider, id_token: &str, client_id: &str) -> Value {
    let keys: JwkSet =
        serde_json::from_value(provider.public_json("/.well-known/jwks.json").await).unwrap();
    let header = decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    let key = DecodingKey::from_jwk(keys.find(&header.kid.unwrap()).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&["http://localhost:8080"]);
    decode::<Value>(id_token, &key, &validation).unwrap().claims
}

#[tokio::test]
async fn a_user_signs_in_and_the_client_gets_tokens_for_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::with_id_tokens(dir.path()).await;
    let client = provider
        .client(code_client(
            "openid profile email notes.read",
            "client_secret_basic",
        ))
        .await;
    let id = client["client_id"].as_str().unwrap();
    provider.app.user("ada").await;
    let (verifier, challenge) = pkce();
    let query = [
        ("response_type", "code"),
        ("client_id", id),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email"),
        ("state", "xyz<&>"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("nonce", "n-0S6_WzA2Mj"),
    ];
    let page = Page::of(provider.authorize(&query, "").await).await;
    assert!(
        page.html.contains("Notes &lt;app&gt;"),
        "the client's name, escaped"
    );
    assert!(page.html.contains("<li>email</li>"));
    assert!(page.html.contains("name=\"password\""));
    assert!(page.cookies.starts_with("oauth_request="));
    // A wrong password shows the page again, under a new request id.
    let wrong = provider
        .submit(
            page.clone(),
            &[
                ("username", "ada"),
                ("password", "nope"),
                ("action", "allow"),
            ],
            "",
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let again = Page::of(wrong).await;
    assert!(again.html.contains("Wrong username or password."));
    assert_ne!(again.request, page.request);
    // The old id is spent.
    let replay = provider
        .submit(
            page,
            &[
                ("username", "ada"),
                ("password", PASSWORD),
                ("action", "allow"),
            ],
            "",
        )
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let answer = provider
        .submit(
            again,
            &[
                ("username", "ada"),
                ("password", PASSWORD),
                ("action", "allow"),
            ],
            "",
        )
        .await;
    let session_cookies = cookies_of(&answer);
    assert!(
        session_cookies.contains("__Host-session="),
        "{session_cookies}"
    );
    let result = redirected(&answer);
    assert_eq!(result["state"], "xyz<&>");
    assert_eq!(result["iss"], "http://localhost:8080");
    let code = result["code"].as_str();

    // The exchange: the code's client, redirect URI and verifier.
    let exchange = |code: String, verifier: String| {
        let provider = &provider;
        let client = &client;
        async move {
            provider
                .token(
                    client,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", CALLBACK),
                        ("code_verifier", &verifier),
                    ],
                )
                .await
        }
    };
    let response = exchange(code.to_owned(), verifier.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["scope"], "openid email");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let ada = provider.user_id("ada").await.to_string();
    let token = claims(access);
    assert_eq!(
        (&token["sub"], &token["client_id"]),
        (&json!(ada), &json!(id))
    );
    let id_token = verified_id_token(&provider, tokens["id_token"].as_str().unwrap(), id).await;
    assert_eq!(id_token["sub"], ada);
    assert_eq!(id_token["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id_token["amr"], json!(["pwd"]));
    assert_eq!(id_token["azp"], id);
    assert!(id_token["auth_time"].is_i64());
    assert_eq!(id_token["email"], "ada@example.com");
    assert!(
        id_token.get("preferred_username").is_none(),
        "profile was not asked for"
    );
    // An ID token is no access token.
    assert!(provider
        .app
        .service
        .authenticate(tokens["id_token"].as_str().unwrap())
        .await
        .is_err());

    // Userinfo releases what the scopes allow.
    let info = provider.app.get("/oauth/userinfo", access).await;
    assert_eq!(
        info,
        json!({"sub": ada, "email": "ada@example.com", "email_verified": false})
    );

    // The browser is signed in now: a second request only asks for consent.
    let (verifier2, challenge2) = pkce();
    let query2 = [
        ("response_type", "code"),
        ("client_id", id),
        ("scope", "notes.read"),
        ("state", "s2"),
        ("code_challenge", &challenge2),
        ("code_challenge_method", "S256"),
    ];
    let consent = Page::of(provider.authorize(&query2, &session_cookies).await).await;
    assert!(!consent.html.contains("name=\"password\""));
    let answer = provider
        .submit(consent, &[("action", "allow")], &session_cookies)
        .await;
    let second = redirected(&answer);
    // The redirect URI was left out of the request (the client has one): the exchange may
    // leave it out too; a wrong verifier fails and spends the code.
    let wrong_verifier = provider
        .token(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &second["code"]),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(
        oauth_error(wrong_verifier, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );
    let spent = exchange(second["code"].clone(), verifier2).await;
    assert_eq!(
        oauth_error(spent, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );

    // Refresh for this client; introspection shows the refresh token; revoking it ends the
    // session, and with it the access token.
    let refreshed = provider
        .token(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(
        claims(refreshed["access_token"].as_str().unwrap())["scope"],
        "openid email"
    );
    let next_refresh = refreshed["refresh_token"].as_str().unwrap();
    let introspected: Value = provider
        .form(
            "/oauth/introspect",
            &[("token", next_refresh)],
            Some(&client),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["token_type"], "refresh_token");
    assert_eq!(introspected["username"], "ada");
    assert_eq!(introspected["client_id"], id);
    let user_token = refreshed["access_token"].as_str().unwrap();
    let revoked = provider
        .form(
            "/oauth/revoke",
            &[
                ("token", next_refresh),
                ("token_type_hint", "refresh_token"),
            ],
            Some(&client),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let gone: Value = provider
        .form("/oauth/introspect", &[("token", user_token)], Some(&client))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gone, json!({"active": false}));
    let userinfo = provider
        .browser
        .get(provider.app.server.url("/oauth/userinfo"))
        .bearer_auth(user_token)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refused_requests_never_go_to_an_unregistered_address() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(dir.path(), |_| {}).await;
    let client = provider.client(code_client("profile openid", "none")).await;
    let id = client["client_id"].as_str().unwrap().to_owned();
    let (_, challenge) = pkce();
    let base = |changes: &[(&'static str, Option<&str>)]| {
        let mut query: Vec<(&'static str, String)> = vec![
            ("response_type", "code".to_owned()),
            ("client_id", id.clone()),
            ("redirect_uri", CALLBACK.to_owned()),
            ("scope", "profile".to_owned()),
            ("state", "st".to_owned()),
            ("code_challenge", challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
        ];
        for (name, value) in changes {
            query.retain(|(n, _)| n != name);
            if let Some(value) = value {
                query.push((name, (*value).to_owned()));
            }
        }
        query
    };
    let get = |query: Vec<(&'static str, String)>| {
        let provider = &provider;
        async move {
            let pairs: Vec<(&str, &str)> = query.iter().map(|(n, v)| (*n, v.as_str())).collect();
            provider.authorize(&pairs, "").await
        }
    };
    // The client or its redirect URI cannot be trusted: a page, no redirect.
    for changes in [
        vec![("client_id", Some("unknown"))],
        vec![("client_id", None)],
        vec![("redirect_uri", Some("http://127.0.0.1:9/elsewhere"))],
        vec![("redirect_uri", Some("http://127.0.0.1:9/callback/"))],
        vec![("redirect_uri", Some("https://evil.example/callback"))],
    ] {
        let response = get(base(&changes)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{changes:?}");
        assert!(!response.headers().contains_key("location"));
        assert!(response.text().await.unwrap().contains("cannot go on"));
    }
    // The rest goes back to the client with the error and its state.
    for (changes, error) in [
        (
            vec![("response_type", Some("token"))],
            "unsupported_response_type",
        ),
        (vec![("state", None)], "invalid_request"),
        (vec![("code_challenge", None)], "invalid_request"),
        (
            vec![("code_challenge_method", Some("plain"))],
            "invalid_request",
        ),
        (vec![("code_challenge_method", None)], "invalid_request"),
        (vec![("code_challenge", Some("short"))], "invalid_request"),
        (vec![("scope", Some("admin"))], "invalid_scope"),
        (vec![("scope", Some("openid"))], "invalid_scope"),
    ] {
        let response = get(base(&changes)).await;
        let answer = redirected(&response);
        assert_eq!(answer["error"], error, "{changes:?}");
        assert!(answer.contains_key("error_description"));
        if changes[0].0 != "state" {
            assert_eq!(answer["state"], "st");
        }
    }
    // Denying sends access_denied.
    let page = Page::of(get(base(&[])).await).await;
    let denied = provider.submit(page, &[("action", "deny")], "").await;
    let answer = redirected(&denied);
    assert_eq!(
        (answer["error"].as_str(), answer["state"].as_str()),
        ("access_denied", "st")
    );
    // A page submitted without its browser's binding cookie (another browser, a forged
    // form) or after it was used is refused, and nothing is redirected.
    provider.app.user("ada").await;
    let page = Page::of(get(base(&[])).await).await;
    let mut unbound = page.clone();
    unbound.cookies = String::new();
    let forged = provider
        .submit(
            unbound,
            &[
                ("username", "ada"),
                ("password", PASSWORD),
                ("action", "allow"),
            ],
            "",
        )
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(!forged.headers().contains_key("location"));
    let mut swapped = page.clone();
    swapped.cookies = "oauth_request=someone-elses".to_owned();
    let forged = provider.submit(swapped, &[("action", "allow")], "").await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    // Not signed in and no credentials: the sign-in page again.
    let unsigned = provider.submit(page, &[("action", "allow")], "").await;
    let shown = Page::of(unsigned).await;
    assert!(shown.html.contains("name=\"password\""));
    // A public client exchanges with its id and the verifier alone.
    let (verifier, challenge) = pkce();
    let query = base(&[("code_challenge", Some(&challenge))]);
    let pairs: Vec<(&str, &str)> = query.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let code = provider.code_for("ada", &pairs).await;
    let tokens = provider
        .form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &id),
                ("code", &code["code"]),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &verifier),
            ],
            None,
        )
        .await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens: Value = tokens.json().await.unwrap();
    assert!(tokens.get("id_token").is_none(), "no openid asked for");
    // A public client cannot introspect.
    let introspect = provider
        .form(
            "/oauth/introspect",
            &[
                ("token", tokens["access_token"].as_str().unwrap()),
                ("client_id", &id),
            ],
            None,
        )
        .await;
    assert_eq!(
        oauth_error(introspect, StatusCode::UNAUTHORIZED).await,
        "invalid_client"
    );
}

#[tokio::test]
async fn an_account_with_a_second_factor_gives_its_code_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::with_id_tokens(dir.path()).await;
    let client = provider
        .client(code_client("openid", "client_secret_basic"))
        .await;
    let id = client["client_id"].as_str().unwrap();
    let token = provider.app.user("ada").await;
    let (mut app, _codes) = provider.app.enable(&token, "ada").await;
    let (verifier, challenge) = pkce();
    let query = [
        ("response_type", "code"),
        ("client_id", id),
        ("scope", "openid"),
        ("state", "s"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = Page::of(provider.authorize(&query, "").await).await;
    let asked = provider
        .submit(
            page,
            &[
                ("username", "ada"),
                ("password", PASSWORD),
                ("action", "allow"),
            ],
            "",
        )
        .await;
    let factor_page = Page::of(asked).await;
    let mfa_token = field(&factor_page.html, "mfa_token").expect("the second factor's step");
    let wrong = provider
        .submit(
            factor_page,
            &[
                ("mfa_token", &mfa_token),
                ("code", "000000"),
                ("action", "allow"),
            ],
            "",
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let again = Page::of(wrong).await;
    assert!(again.html.contains("Wrong code."));
    let code = app.next_code();
    let answer = provider
        .submit(
            again,
            &[
                ("mfa_token", &mfa_token),
                ("code", &code),
                ("action", "allow"),
            ],
            "",
        )
        .await;
    let result = redirected(&answer);
    let tokens: Value = provider
        .token(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &result["code"]),
                ("code_verifier", &verifier),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let id_token = verified_id_token(&provider, tokens["id_token"].as_str().unwrap(), id).await;
    assert_eq!(id_token["amr"], json!(["pwd", "otp"]));
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );
}

#[tokio::test]
async fn a_confidential_client_may_be_registered_without_pkce_and_exchange_at_the_legacy_endpoint()
{
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(dir.path(), |_| {}).await;
    let admin = provider.admin("root").await;
    let public = provider
        .register_client(
            Some(&admin),
            json!({"client_name": "SPA", "redirect_uris": [CALLBACK],
                   "token_endpoint_auth_method": "none", "require_pkce": false}),
        )
        .await;
    assert_eq!(
        oauth_error(public, StatusCode::BAD_REQUEST).await,
        "invalid_client_metadata"
    );
    let client = provider
        .client(json!({"client_name": "Legacy", "redirect_uris": [CALLBACK],
                       "token_endpoint_auth_method": "client_secret_post", "require_pkce": false}))
        .await;
    assert_eq!(client["require_pkce"], false);
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    provider.app.user("ada").await;
    let query = [("response_type", "code"), ("client_id", id), ("state", "s")];
    let code = provider.code_for("ada", &query).await;
    let legacy = |code: String| {
        let provider = &provider;
        async move {
            provider
                .form(
                    "/auth/oauth/token",
                    &[
                        ("code", code.as_str()),
                        ("client_id", id),
                        ("client_secret", secret),
                    ],
                    None,
                )
                .await
        }
    };
    let response = legacy(code["code"].clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["client_id"],
        id
    );
    // A code works once, and a second exchange ends what the first one started (a replayed
    // code was likely stolen): its tokens stop working.
    let access = tokens["access_token"].as_str().unwrap();
    let active = |token: &str| {
        let token = token.to_owned();
        let provider = &provider;
        async move {
            let answer: Value = provider
                .form(
                    "/oauth/introspect",
                    &[
                        ("token", token.as_str()),
                        ("client_id", id),
                        ("client_secret", secret),
                    ],
                    None,
                )
                .await
                .json()
                .await
                .unwrap();
            answer["active"] == true
        }
    };
    assert!(active(access).await);
    let again = legacy(code["code"].clone()).await;
    assert_eq!(
        oauth_error(again, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );
    assert!(!active(access).await, "the first exchange's session ended");
    // A request that does carry PKCE is held to it.
    let (_, challenge) = pkce();
    let with_pkce = [
        ("response_type", "code"),
        ("client_id", id),
        ("state", "s"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = provider.code_for("ada", &with_pkce).await;
    let unverified = legacy(code["code"].clone()).await;
    assert_eq!(
        oauth_error(unverified, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );
}
