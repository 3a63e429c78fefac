//! Established OpenID Connect client libraries run against the service as against any
//! provider: openidconnect-rs (ramosbugs, on oauth2-rs) and Authlib (Python, in a venv made
//! from PyPI): discovery, the authorization code flow with PKCE and a nonce, ID token
//! verification with the keys found through discovery, userinfo, refresh, introspection and
//! revocation. Nothing of ours is on their side.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::oauth::{GrantType, NewClient, RegisteredClient};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata, CoreRevocableToken,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyAdditionalClaims, IntrospectionUrl,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RevocationUrl, Scope,
    TokenIntrospectionResponse, TokenResponse, UserInfoClaims,
};
use reqwest::header::COOKIE;
use tests::example::ExampleService;
use tests::mfa::PASSWORD;
use tests::provider::{browser, es256, redirected, Page, CALLBACK};
use tests::python;

#[tokio::test]
async fn openidconnect_rs_signs_a_user_in_and_manages_the_tokens() {
    let (provider, registered) = provider_with_client(es256).await;
    let (issuer, module, server) = (&provider.url, &provider.module, &provider.server);
    let browser = browser();

    // The relying party: everything it knows comes from discovery.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.to_owned()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.client.client_id.clone()),
        Some(ClientSecret::new(registered.client_secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.to_owned()).unwrap())
    .set_introspection_url(IntrospectionUrl::new(format!("{issuer}/oauth/introspect")).unwrap())
    .set_revocation_url(RevocationUrl::new(format!("{issuer}/oauth/revoke")).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(challenge)
        .url();

    // The user, in a browser: the page, the password, allow.
    let page = Page::of(browser.get(authorize_url.as_str()).send().await.unwrap()).await;
    let answer = browser
        .post(server.url("/oauth/authorize"))
        .header(COOKIE, &page.cookies)
        .form(&[
            ("request", page.request.as_str()),
            ("username", "ada"),
            ("password", PASSWORD),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let back = redirected(&answer);
    assert_eq!(&back["state"], state.secret());
    assert_eq!(&back["iss"], issuer);

    // Back at the relying party: the code for tokens, the ID token verified.
    let tokens = client
        .exchange_code(AuthorizationCode::new(back["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token for openid");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    let ada = module
        .service()
        .users()
        .get_by_username("ada")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(claims.subject().as_str(), ada.as_str());
    assert_eq!(claims.issuer().as_str(), issuer);
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@example.com"));
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("ada"));
    assert!(claims.auth_time().is_some());
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect();
    assert_eq!(amr, ["pwd"]);
    // A nonce other than the request's is refused by the library.
    assert!(id_token
        .claims(&client.id_token_verifier(), &Nonce::new("other".to_owned()))
        .is_err());

    let info: UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim> = client
        .user_info(
            tokens.access_token().to_owned(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.email().map(|e| e.as_str()), Some("ada@example.com"));

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let introspected = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(introspected.active());
    assert_eq!(
        introspected.client_id().map(|c| c.as_str()),
        Some(registered.client.client_id.as_str())
    );

    // oauth2-rs revokes over https only (`InsecureUrl` on this 127.0.0.1 server), so the
    // revocation is posted by hand, as RFC 7009 spells it; the library checks the outcome.
    let refresh: CoreRevocableToken = refreshed.refresh_token().unwrap().into();
    assert!(
        client.revoke_token(refresh).is_err(),
        "http: refused by the library"
    );
    let revoked = http
        .post(format!("{issuer}/oauth/revoke"))
        .basic_auth(
            &registered.client.client_id,
            registered.client_secret.as_deref(),
        )
        .form(&[
            (
                "token",
                refreshed.refresh_token().unwrap().secret().as_str(),
            ),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let after = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(
        !after.active(),
        "revoking the refresh token ends its session"
    );
}

#[tokio::test]
async fn authlib_signs_a_user_in_and_manages_the_tokens() {
    let Some(python) = python::venv(
        env!("CARGO_TARGET_TMPDIR"),
        "authlib-venv",
        &["authlib==1.6.*", "httpx"],
    )
    .await
    else {
        return;
    };
    // httpx, like a browser on a non-local host, sends no `Secure` cookie over plain http.
    let (provider, registered) = provider_with_client(|config| {
        es256(config);
        config.session.cookie_secure = false;
    })
    .await;
    let issuer = provider.url.clone();
    let env = vec![
        ("ISSUER", issuer),
        ("CLIENT_ID", registered.client.client_id.clone()),
        ("CLIENT_SECRET", registered.client_secret.clone().unwrap()),
        ("REDIRECT_URI", CALLBACK.to_owned()),
        ("USERNAME", "ada".to_owned()),
        ("PASSWORD", PASSWORD.to_owned()),
    ];
    python::run_ok(python, "oidc_client.py", env).await;
}

/// The example service with the test configuration as `change` leaves it, a confidential
/// client of the code flow redirecting to [`CALLBACK`], and the user `ada`.
async fn provider_with_client(
    change: impl FnOnce(&mut auth_axum::core::config::AuthConfig),
) -> (ExampleService, RegisteredClient) {
    let provider = ExampleService::start(change).await;
    let registered = provider
        .module
        .service()
        .register_client(
            &NewClient::new(
                "Notes",
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                "openid profile email",
            )
            .with_redirect_uris([CALLBACK]),
            None,
        )
        .await
        .unwrap();
    provider.register("ada", None).await;
    (provider, registered)
}
