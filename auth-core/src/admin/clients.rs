//! `clients create` and `clients list`: OAuth clients registered from the command line, with
//! the same JSON answer as `POST /oauth/register` (feature `provider`).

use super::AdminError;
use crate::oauth::NewClient;
use crate::service::AuthService;

/// The usage line of `clients create`.
pub(super) const CREATE_USAGE: &str = "clients create <name> [--grant <grant>]... \
     [--redirect-uri <uri>]... [--scope <scopes>] [--auth-method <method>]";

/// The registration `args` (after `clients create`) describe.
pub(super) fn parse_create(args: &[&str]) -> Result<NewClient, AdminError> {
    let usage = || AdminError::Usage(CREATE_USAGE);
    let (name, mut rest) = args.split_first().ok_or_else(usage)?;
    if name.starts_with("--") {
        return Err(usage());
    }
    let mut new = NewClient {
        client_name: Some((*name).to_owned()),
        ..NewClient::default()
    };
    let mut grants = Vec::new();
    while let [flag, value, tail @ ..] = rest {
        match *flag {
            "--grant" => grants.push((*value).to_owned()),
            "--redirect-uri" => new.redirect_uris.push((*value).to_owned()),
            "--scope" => new.scope = Some((*value).to_owned()),
            "--auth-method" => new.token_endpoint_auth_method = Some((*value).to_owned()),
            _ => return Err(usage()),
        }
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(usage());
    }
    new.grant_types = (!grants.is_empty()).then_some(grants);
    Ok(new)
}

/// Registers the client: the registration's JSON, its secret in it this once.
pub(super) async fn create(service: &AuthService, new: &NewClient) -> Result<String, AdminError> {
    let registered = service
        .register_client(new, None)
        .await
        .map_err(AdminError::OAuth)?;
    serde_json::to_string_pretty(&registered).map_err(|e| AdminError::Output(e.to_string()))
}

/// Every client, as JSON (never a secret).
pub(super) async fn list(service: &AuthService) -> Result<String, AdminError> {
    let clients = service.oauth_clients().await.map_err(AdminError::OAuth)?;
    serde_json::to_string_pretty(&clients).map_err(|e| AdminError::Output(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_fill_the_registration() {
        let new = parse_create(&[
            "Reports",
            "--grant",
            "client_credentials",
            "--scope",
            "reports.read reports.write",
        ])
        .unwrap();
        assert_eq!(new.client_name.as_deref(), Some("Reports"));
        assert_eq!(new.grant_types, Some(vec!["client_credentials".to_owned()]));
        assert_eq!(new.scope.as_deref(), Some("reports.read reports.write"));
        assert!(new.validate().is_ok());
        let web = parse_create(&[
            "Web",
            "--redirect-uri",
            "https://a.example/cb",
            "--redirect-uri",
            "https://b.example/cb",
            "--auth-method",
            "none",
        ])
        .unwrap();
        assert_eq!(web.redirect_uris.len(), 2);
        assert_eq!(
            web.grant_types, None,
            "the default grant: authorization_code"
        );
        for bad in [
            &[][..],
            &["--grant", "x"],
            &["Bot", "--grant"],
            &["Bot", "--colour", "red"],
        ] {
            assert!(
                matches!(parse_create(bad), Err(AdminError::Usage(CREATE_USAGE))),
                "{bad:?}"
            );
        }
    }
}
