//! Signing in with another provider (issue 20): the whole browser flow against this
//! framework's own provider over HTTP, each forged or replayed step refused, and the
//! account-linking rules, one test each.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use auth_axum::core::Clock as _;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::federation::Federation;
use tests::mfa::{claims, problem, PASSWORD};
use tests::provider::pkce;

/// The session cookies a 303 of the relying party set, for a `Cookie` header.
fn session_cookies(response: &reqwest::Response) -> String {
    tests::provider::cookies_of(response)
}

#[tokio::test]
async fn a_browser_signs_in_with_the_provider_and_gets_a_session() {
    let fed = Federation::start(|_| {}).await;
    let ada_at_idp = fed.idp_user("ada", true).await;

    // The start: a redirect to the provider with state, PKCE S256 and a nonce, all fresh.
    let started = fed.begin(&[("return_to", "/welcome")], None).await;
    assert_eq!(
        started.url.as_str().split('?').next().unwrap(),
        format!("{}/oauth/authorize", fed.idp.url)
    );
    assert_eq!(started.param("response_type"), "code");
    assert_eq!(started.param("client_id"), fed.client_id);
    assert_eq!(started.param("code_challenge_method"), "S256");
    for param in ["state", "nonce", "code_challenge"] {
        assert_eq!(started.param(param).len(), 43, "{param}");
    }
    assert!(started.param("scope").contains("openid"));
    assert!(
        started.set_cookie.contains("Max-Age=600"),
        "{}",
        started.set_cookie
    );
    let again = fed.begin(&[], None).await;
    assert_ne!(again.param("state"), started.param("state"));
    assert_ne!(again.param("nonce"), started.param("nonce"));

    // The provider's part, then the callback: 303 to return_to with a session cookie.
    let back = fed.sign_in_at_idp(&started, "ada").await;
    let response = fed.callback(&back, Some(&started.cookie)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/welcome");
    let cookies = session_cookies(&response);
    let me = fed.get_rp("/auth/me", &(), Some(&cookies)).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "ada");
    // Not trusted for addresses: the new account's address is not taken as verified.
    assert_eq!(me["is_verified"], false);

    // The identity: the provider's issuer and subject, never its email, is the link.
    let identities = fed.get_rp("/auth/identities", &(), Some(&cookies)).await;
    let identities: Value = identities.json().await.unwrap();
    assert_eq!(identities.as_array().unwrap().len(), 1, "{identities}");
    assert_eq!(identities[0]["provider"], "corp");
    assert_eq!(identities[0]["issuer"], fed.idp.url.as_str());
    assert_eq!(identities[0]["subject"], ada_at_idp.as_str());

    // Signing in again finds the same user; tokens mode answers with tokens whose `amr`
    // says a provider vouched.
    let users = fed.rp_users().await;
    let tokens = fed.tokens_for("ada").await;
    assert_eq!(fed.rp_users().await, users);
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["amr"], json!(["fed"]));
    let me = fed.rp.get("/auth/me", token).await;
    assert_eq!(me["username"], "ada");

    // The configured providers, for a sign-in page.
    let providers = fed.get_rp("/auth/oauth/providers", &(), None).await;
    let providers: Value = providers.json().await.unwrap();
    assert_eq!(
        providers,
        json!([{"name": "corp", "display_name": "corp", "authorize_path": "/auth/oauth/corp/authorize"}])
    );
}

#[tokio::test]
async fn callbacks_that_are_not_this_browsers_pending_sign_in_are_refused() {
    let fed = Federation::start(|_| {}).await;
    fed.idp_user("ada", true).await;
    let started = fed.begin(&[], None).await;
    let back = fed.sign_in_at_idp(&started, "ada").await;

    // A made-up state; no binding cookie; another browser's cookie: refused, and the real
    // sign-in is not spent by them... except the one that named its state: a callback is
    // good once, so the forged attempt ends it.
    let mut forged = back.clone();
    forged.insert("state".to_owned(), "x".repeat(43));
    let response = fed.callback(&forged, Some(&started.cookie)).await;
    problem(response, StatusCode::BAD_REQUEST, "invalid_state").await;
    let other_browser = fed.begin(&[], None).await;
    let response = fed.callback(&back, Some(&other_browser.cookie)).await;
    problem(response, StatusCode::BAD_REQUEST, "invalid_state").await;
    let response = fed.callback(&back, Some(&started.cookie)).await;
    problem(response, StatusCode::BAD_REQUEST, "invalid_state").await;

    // Without the cookie, a fresh sign-in is refused too.
    let started = fed.begin(&[], None).await;
    let back = fed.sign_in_at_idp(&started, "ada").await;
    let response = fed.callback(&back, None).await;
    problem(response, StatusCode::BAD_REQUEST, "invalid_state").await;

    // The right browser: signed in once; the same callback replayed is refused.
    let started = fed.begin(&[("mode", "tokens")], None).await;
    let back = fed.sign_in_at_idp(&started, "ada").await;
    let response = fed.callback(&back, Some(&started.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = fed.callback(&back, Some(&started.cookie)).await;
    problem(response, StatusCode::BAD_REQUEST, "invalid_state").await;

    // The used code under a fresh sign-in's state: the provider refuses it.
    let fresh = fed.begin(&[], Some(&started.cookie)).await;
    let mut replay = back.clone();
    replay.insert("state".to_owned(), fresh.param("state"));
    let response = fed.callback(&replay, Some(&started.cookie)).await;
    problem(response, StatusCode::UNAUTHORIZED, "code_rejected").await;

    // Another provider's callback path, and a provider's error answer.
    let response = fed
        .get_rp("/auth/oauth/nope/callback", &back, Some(&started.cookie))
        .await;
    problem(response, StatusCode::NOT_FOUND, "unknown_provider").await;
    let started = fed.begin(&[], None).await;
    let denied = [
        ("state", started.param("state")),
        ("error", "access_denied".to_owned()),
    ];
    let response = fed
        .get_rp("/auth/oauth/corp/callback", &denied, Some(&started.cookie))
        .await;
    let body = problem(response, StatusCode::UNAUTHORIZED, "provider_denied").await;
    assert!(body["detail"].as_str().unwrap().contains("access_denied"));

    // Bad starts: an unknown provider, a return path off this site, an unknown mode.
    let response = fed.get_rp("/auth/oauth/nope/authorize", &(), None).await;
    problem(response, StatusCode::NOT_FOUND, "unknown_provider").await;
    for return_to in ["https://evil.example/", "//evil.example", "/\\evil.example"] {
        let response = fed
            .get_rp(
                "/auth/oauth/corp/authorize",
                &[("return_to", return_to)],
                None,
            )
            .await;
        problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let response = fed
        .get_rp("/auth/oauth/corp/authorize", &[("mode", "x")], None)
        .await;
    problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_code_is_good_only_with_its_own_pkce_verifier() {
    let fed = Federation::start(|_| {}).await;
    fed.idp_user("ada", true).await;
    // Two sign-ins in one browser (the binding cookie is shared, so both may finish).
    let first = fed.begin(&[], None).await;
    let second = fed.begin(&[], Some(&first.cookie)).await;
    assert_eq!(second.cookie, first.cookie);
    // The first's code delivered under the second's state: exchanged with the second's
    // verifier, which does not match the first's challenge.
    let back = fed.sign_in_at_idp(&first, "ada").await;
    let mut injected = back.clone();
    injected.insert("state".to_owned(), second.param("state"));
    let response = fed.callback(&injected, Some(&first.cookie)).await;
    let body = problem(response, StatusCode::UNAUTHORIZED, "code_rejected").await;
    assert!(
        body["detail"].as_str().unwrap().contains("invalid_grant"),
        "{body}"
    );
    // And at the provider, the code without any verifier is refused as well: it lives only
    // in the relying party's server-side record.
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/oauth/token", fed.idp.url))
        .basic_auth(&fed.client_id, Some(&fed.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", back["code"].as_str()),
            ("redirect_uri", first.param("redirect_uri").as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let fed = Federation::start(|_| {}).await;
    fed.idp_user("ada", true).await;
    let started = fed.begin(&[], None).await;
    // The authorization request as sent, but for a nonce of someone else's.
    let query = started.query_with("nonce", "someone-elses-nonce");
    let back = fed.at_idp(&query, "ada").await;
    let response = fed.callback(&back, Some(&started.cookie)).await;
    let body = problem(response, StatusCode::UNAUTHORIZED, "invalid_id_token").await;
    assert!(body["detail"].as_str().unwrap().contains("nonce"), "{body}");
    assert!(fed.rp_user("ada").await.is_none());
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    // A sign-in that may take two hours, an ID token that lives as long as an access token.
    let fed = Federation::start_with(|_| {}, |rp| rp.oidc.state_minutes = 120).await;
    fed.idp_user("ada", true).await;
    let started = fed.begin(&[], None).await;
    let back = fed.sign_in_at_idp(&started, "ada").await;
    fed.rp.clock.advance(3600);
    let response = fed.callback(&back, Some(&started.cookie)).await;
    let body = problem(response, StatusCode::UNAUTHORIZED, "invalid_id_token").await;
    assert!(
        body["detail"].as_str().unwrap().contains("xpired"),
        "{body}"
    );
}

/// An ID token of the provider for `client` (a client of the provider with `redirect_uri`)
/// and `nonce`, by the code flow with the test's own PKCE verifier.
async fn id_token_for(fed: &Federation, client: &Value, nonce: &str) -> String {
    let (verifier, challenge) = pkce();
    let client_id = client["client_id"].as_str().unwrap();
    let redirect_uri = client["redirect_uris"][0].as_str().unwrap();
    let query: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid email profile"),
        ("state", "s"),
        ("nonce", nonce),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let back = fed.at_idp(&query, "ada").await;
    let answer = reqwest::Client::new()
        .post(format!("{}/oauth/token", fed.idp.url))
        .basic_auth(client_id, client["client_secret"].as_str())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", back["code"].as_str()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    body["id_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn id_tokens_for_another_client_or_out_of_date_are_refused() {
    use auth_axum::core::oauth::{GrantType, NewClient};
    let fed = Federation::start(|_| {}).await;
    fed.idp_user("ada", true).await;
    let service = fed.idp.module.service();
    let redirect = format!(
        "{}/auth/oauth/corp/callback",
        tests::federation::REDIRECT_BASE
    );
    let register = |name: &str| {
        NewClient::new(
            name,
            vec![GrantType::AuthorizationCode],
            "openid email profile",
        )
        .with_redirect_uris([redirect.clone()])
    };
    let other = service
        .register_client(&register("Other"), None)
        .await
        .unwrap();
    let other = serde_json::to_value(&other).unwrap();
    let ours = json!({
        "client_id": fed.client_id, "client_secret": fed.client_secret, "redirect_uris": [redirect],
    });
    let corp = fed.rp.service.sign_in_provider("corp").unwrap();
    let now = fed.rp.clock.now();

    // The relying party's own client's token, with its nonce: accepted (the control).
    let token = id_token_for(&fed, &ours, "n1").await;
    let profile = corp.verify_id_token(&token, Some("n1"), now).await.unwrap();
    assert_eq!(profile.email.as_deref(), Some("ada@example.com"));
    assert!(profile.email_verified);
    // Another nonce, an hour later, a byte changed: refused.
    let refused = |r: Result<_, auth_axum::core::AuthError>| r.unwrap_err().code();
    assert_eq!(
        refused(corp.verify_id_token(&token, Some("n2"), now).await),
        "invalid_id_token"
    );
    assert_eq!(
        refused(corp.verify_id_token(&token, Some("n1"), now + 3600).await),
        "invalid_id_token"
    );
    let mut tampered = token.clone().into_bytes();
    let at = tampered.len() - 5;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        refused(corp.verify_id_token(&tampered, Some("n1"), now).await),
        "invalid_id_token"
    );
    // The same provider's token for another client: the audience is not ours.
    let token = id_token_for(&fed, &other, "n1").await;
    let err = corp
        .verify_id_token(&token, Some("n1"), now)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_id_token");
    assert!(err.to_string().contains("audience"), "{err}");
}

#[tokio::test]
async fn an_untrusted_providers_address_never_signs_in_an_existing_account() {
    let fed = Federation::start(|_| {}).await;
    fed.rp.user("ada").await;
    fed.idp_user("ada", true).await;
    let users = fed.rp_users().await;
    let response = fed.sign_in("ada", &[]).await;
    problem(response, StatusCode::CONFLICT, "account_exists").await;
    assert_eq!(fed.rp_users().await, users);
    let ada = fed.rp_user("ada").await.unwrap();
    assert!(fed
        .rp
        .service
        .users()
        .get_by_id(&ada.id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_trusted_provider_links_only_addresses_it_verified() {
    let fed = Federation::start(|corp| corp.trust_email = true).await;
    // Unverified at the provider: refused even though the provider is trusted.
    fed.rp.user("ada").await;
    fed.idp_user("ada", false).await;
    let response = fed.sign_in("ada", &[]).await;
    problem(response, StatusCode::CONFLICT, "account_exists").await;
    // Verified there: signs in the existing account, and links it.
    fed.rp.user("bea").await;
    fed.idp_user("bea", true).await;
    let tokens = fed.tokens_for("bea").await;
    let token = tokens["access_token"].as_str().unwrap();
    let bea = fed.rp_user("bea").await.unwrap();
    assert_eq!(claims(token)["sub"], bea.id.to_string());
    let identities = fed.rp.get("/auth/identities", token).await;
    assert_eq!(identities.as_array().unwrap().len(), 1);
    // A new account from a trusted provider's verified address is verified.
    fed.idp_user("cat", true).await;
    let token = fed.tokens_for("cat").await;
    let me = fed
        .rp
        .get("/auth/me", token["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["is_verified"], true);
}

#[tokio::test]
async fn a_signed_in_user_links_a_provider_account_explicitly() {
    let fed = Federation::start(|_| {}).await;
    let bob = fed.rp.user("bob").await;
    // Bob's account at the provider has another name and address.
    fed.idp_user("robert", true).await;
    let response = fed
        .link(&bob, "robert", json!({"return_to": "/settings"}))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/settings");
    assert!(fed.rp_user("robert").await.is_none());
    // From now on, signing in with it is signing in as bob.
    let tokens = fed.tokens_for("robert").await;
    let me = fed
        .rp
        .get("/auth/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["username"], "bob");
    // Linking needs a signed-in caller.
    let response = fed.rp.post("/auth/oauth/corp/link", json!({}), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_provider_account_links_to_one_user_only() {
    let fed = Federation::start(|_| {}).await;
    fed.idp_user("ada", true).await;
    fed.tokens_for("ada").await; // linked to the new user `ada` here
    let carol = fed.rp.user("carol").await;
    let linked = fed.link(&carol, "ada", json!({})).await;
    problem(linked, StatusCode::CONFLICT, "identity_linked_elsewhere").await;
    let identities = fed.rp.get("/auth/identities", &carol).await;
    assert_eq!(identities, json!([]));
}

#[tokio::test]
async fn unlinking_keeps_a_way_to_sign_in() {
    let fed = Federation::start(|_| {}).await;
    fed.idp_user("ada", true).await;
    // Ada exists here only through the provider: no password, no passkey.
    let tokens = fed.tokens_for("ada").await;
    let ada = tokens["access_token"].as_str().unwrap().to_owned();
    let identities = fed.rp.get("/auth/identities", &ada).await;
    let id = identities[0]["id"].as_str().unwrap().to_owned();
    let response = fed
        .rp
        .delete(&format!("/auth/identities/{id}"), json!({}), &ada)
        .await;
    problem(response, StatusCode::CONFLICT, "last_sign_in_method").await;
    let response = fed
        .rp
        .delete("/auth/identities/nope", json!({}), &ada)
        .await;
    problem(response, StatusCode::NOT_FOUND, "identity_not_found").await;
    // Bob has a password: he may unlink, once.
    let bob = fed.rp.user("bob").await;
    fed.idp_user("robert", true).await;
    let linked = fed.link(&bob, "robert", json!({})).await;
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    let identities = fed.rp.get("/auth/identities", &bob).await;
    let id = identities[0]["id"].as_str().unwrap().to_owned();
    // Not Ada's to unlink.
    let response = fed
        .rp
        .delete(&format!("/auth/identities/{id}"), json!({}), &ada)
        .await;
    problem(response, StatusCode::NOT_FOUND, "identity_not_found").await;
    let path = format!("/auth/identities/{id}");
    assert_eq!(
        fed.rp.delete(&path, json!({}), &bob).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(fed.rp.get("/auth/identities", &bob).await, json!([]));
    let response = fed.rp.delete(&path, json!({}), &bob).await;
    problem(response, StatusCode::NOT_FOUND, "identity_not_found").await;
    assert!(
        fed.rp
            .logged(
                &fed.rp_user("bob").await.unwrap().id.to_string(),
                "identity_unlinked"
            )
            .await
    );
}

#[tokio::test]
async fn a_provider_that_does_not_sign_up_refuses_new_accounts() {
    let fed = Federation::start(|corp| corp.allow_signup = false).await;
    fed.idp_user("ada", true).await;
    let response = fed.sign_in("ada", &[]).await;
    problem(response, StatusCode::FORBIDDEN, "signup_disabled").await;
    assert_eq!(fed.rp_users().await, 0);
}

#[tokio::test]
async fn a_deactivated_user_cannot_sign_in_through_a_provider() {
    let fed = Federation::start(|_| {}).await;
    fed.idp_user("ada", true).await;
    fed.tokens_for("ada").await;
    let ada = fed.rp_user("ada").await.unwrap();
    fed.rp.service.deactivate_user(&ada.id).await.unwrap();
    let response = fed.sign_in("ada", &[("mode", "tokens")]).await;
    problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn a_user_with_a_second_factor_proves_it_after_the_provider() {
    let fed = Federation::start(|_| {}).await;
    // Bob: a password, TOTP, and a linked provider account.
    let bob = fed.rp.user("bob").await;
    let (mut app, _) = fed.rp.enable(&bob, "bob").await;
    fed.idp_user("robert", true).await;
    let linked = fed.link(&bob, "robert", json!({})).await;
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);

    // Cookie mode: no session yet, the challenge in the return path's fragment.
    let response = fed.sign_in("robert", &[("return_to", "/home")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers().get(SET_COOKIE).is_none());
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let (path, fragment) = location.split_once('#').unwrap();
    assert_eq!(path, "/home");
    let params: std::collections::HashMap<_, _> = url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(params["methods"], "totp,backup_code");
    // A wrong code is refused; the right one completes the login with both factors.
    let response = fed
        .rp
        .verify(&params["mfa_token"], json!({"code": "000000"}))
        .await;
    problem(response, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let response = fed
        .rp
        .verify(&params["mfa_token"], json!({"code": app.next_code()}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(SET_COOKIE).is_some());

    // Tokens mode: the challenge in the body; the tokens carry both factors.
    let response = fed.sign_in("robert", &[("mode", "tokens")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let challenge: Value = response.json().await.unwrap();
    assert_eq!(challenge["mfa_required"], true);
    let mfa_token = challenge["mfa_token"].as_str().unwrap();
    let response = fed
        .rp
        .verify(mfa_token, json!({"code": app.next_code()}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let amr = claims(tokens["access_token"].as_str().unwrap())["amr"].clone();
    assert_eq!(amr, json!(["fed", "otp"]));
    // Bob's password still works as it did.
    let _ = PASSWORD;
}

#[tokio::test]
async fn the_example_sign_in_page_signs_a_browser_in() {
    use auth_axum::core::config::OidcProviderConfig;
    use tests::example::ExampleService;
    let fed = Federation::start(|_| {}).await;
    fed.idp_user("ada", true).await;
    // The example service, its provider `corp` the same client of the same provider.
    let mut corp = OidcProviderConfig::default();
    corp.issuer = Some(fed.idp.url.clone());
    corp.client_id.clone_from(&fed.client_id);
    corp.client_secret = Some(fed.client_secret.clone().into());
    corp.display_name = Some("Corp <SSO>".to_owned());
    let example = ExampleService::start(|config| {
        config.oidc.redirect_base = Some(tests::federation::REDIRECT_BASE.to_owned());
        config.oidc.providers.insert("corp".to_owned(), corp);
    })
    .await;
    let page = fed
        .browser
        .get(example.server.url("/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let link = "/auth/oauth/corp/authorize?return_to=/login";
    assert!(
        html.contains(&format!(
            "<a href=\"{link}\">Sign in with Corp &lt;SSO&gt;</a>"
        )),
        "{html}"
    );

    // The link, the provider, and back to the page with a session.
    let start = fed
        .browser
        .get(example.server.url(link))
        .send()
        .await
        .unwrap();
    let started = Federation::started(start);
    let back = fed.sign_in_at_idp(&started, "ada").await;
    let response = fed
        .browser
        .get(example.server.url("/auth/oauth/corp/callback"))
        .query(&back)
        .header(reqwest::header::COOKIE, &started.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/login");
    let cookies = session_cookies(&response);
    let me = fed
        .browser
        .get(example.server.url("/auth/me"))
        .header(reqwest::header::COOKIE, cookies)
        .send()
        .await
        .unwrap();
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "ada");
}

#[tokio::test]
async fn a_rotated_provider_key_is_fetched_again_once_per_cooldown() {
    use auth_axum::core::config::JwtAlgorithm;
    use auth_axum::core::token::JwtKey;
    let fed = Federation::start_with(|_| {}, |rp| rp.oidc.refresh_cooldown_seconds = 3600).await;
    fed.idp_user("ada", true).await;
    fed.tokens_for("ada").await; // discovery: the key set as it is now
    let rotate = || {
        let (next, _) = JwtKey::generate(JwtAlgorithm::ES256).unwrap();
        fed.idp.module.service().tokens().rotate(next).unwrap();
    };
    // An ID token under a key id not seen yet: the key set is fetched again.
    rotate();
    fed.tokens_for("ada").await;
    // Another one within the cooldown: not fetched, so not verified.
    rotate();
    let response = fed.sign_in("ada", &[("mode", "tokens")]).await;
    let body = problem(response, StatusCode::UNAUTHORIZED, "invalid_id_token").await;
    assert!(
        body["detail"].as_str().unwrap().contains("Signature"),
        "{body}"
    );
}
