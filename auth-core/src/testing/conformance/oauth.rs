//! The suite of [`ClientStore`].

use crate::oauth::client::secret_hash;
use crate::oauth::{ClientAuthMethod, ClientStore, GrantType, NewClient, OAuthClient};

fn client(id: &str, created_at: i64, new: &NewClient) -> OAuthClient {
    let mut client = new.validate().unwrap();
    client.client_id = id.to_owned();
    client.created_at = created_at;
    client
}

/// [`ClientStore`]: clients kept whole (grants, exact redirect URIs, scopes, the secret's
/// hash), one per id, listed oldest first, deleted once.
pub async fn clients(store: &dyn ClientStore) {
    let mut web = client(
        "web",
        2_000,
        &NewClient::new(
            "Web",
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            "openid profile articles.read",
        )
        .with_redirect_uris(["https://app.example/cb", "http://localhost:3000/cb"])
        .with_auth_method("client_secret_post"),
    );
    web.secret_hash = Some(secret_hash("cs_web"));
    web.require_pkce = false;
    web.created_by = Some("admin-1".to_owned());
    let spa = client(
        "spa",
        1_000,
        &NewClient::new("SPA", vec![GrantType::AuthorizationCode], "openid")
            .with_redirect_uris(["http://127.0.0.1:5173/cb"])
            .with_auth_method("none"),
    );
    for c in [&web, &spa] {
        store.insert_client(c).await.unwrap();
    }
    assert!(
        store.insert_client(&web).await.is_err(),
        "one client per id"
    );
    let found = store.client("web").await.unwrap().unwrap();
    assert_eq!(found, web);
    assert!(found.secret_matches("cs_web"));
    assert_eq!(found.auth_method, ClientAuthMethod::ClientSecretPost);
    assert!(!found.require_pkce);
    let public = store.client("spa").await.unwrap().unwrap();
    assert_eq!(public.secret_hash, None);
    assert!(public.require_pkce);
    assert!(public.is_public());
    assert_eq!(store.client("nobody").await.unwrap(), None);
    let ids: Vec<String> = store
        .clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids, ["spa", "web"]);
    assert!(store.delete_client("spa").await.unwrap());
    assert!(!store.delete_client("spa").await.unwrap());
    assert_eq!(store.client("spa").await.unwrap(), None);
}
