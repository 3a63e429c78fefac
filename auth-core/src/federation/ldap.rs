//! Signing in with a directory account (feature `ldap`, over ldap3): the entry of the name
//! typed is found by a service account, then the password is checked by a bind as that
//! entry; its groups are read for role mapping.
//!
//! What the field learned the hard way, done here:
//!
//! - an empty password is refused before anything is sent: to many servers a simple bind
//!   with a DN and no password is an *unauthenticated* bind (RFC 4513 section 5.1.2), which
//!   succeeds as anonymous, so "any user, empty password" would sign in;
//! - the name typed is escaped into the filter (RFC 4515), the DN into the group filter, so
//!   `*` or `)(uid=*` match nothing they should not;
//! - a name that matches no entry, or several, is a wrong password, after the same round
//!   trips;
//! - every connection and operation has a time limit; a directory that is down, slow, or
//!   refuses the service account is [`AuthError::AuthServiceUnavailable`] (503), never a
//!   pass and never "wrong password";
//! - `ldaps://`, or `ldap://` with StartTLS, by rustls; plain `ldap://` only on a loopback
//!   address.

use std::sync::Arc;
use std::time::Duration;

use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use secrecy::{ExposeSecret, SecretString};

use super::ExternalProfile;
use crate::config::{ConfigError, LdapConfig};
use crate::error::{AuthError, Result};

/// A directory account whose password was right.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectoryAccount {
    /// Its entry.
    pub dn: String,
    /// The account as a provider's: issuer the directory's URL, subject its id attribute.
    pub profile: ExternalProfile,
    /// The names of its groups.
    pub groups: Vec<String>,
}

/// The configured directory.
pub struct Directory {
    url: String,
    settings: LdapConnSettings,
    bind_dn: String,
    bind_password: SecretString,
    config: LdapConfig,
    timeout: Duration,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("url", &self.url)
            .field("bind_dn", &self.bind_dn)
            .finish_non_exhaustive()
    }
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        reason: reason.into(),
    }
}

fn unavailable(e: impl std::fmt::Display) -> AuthError {
    AuthError::AuthServiceUnavailable(format!("directory: {e}"))
}

impl Directory {
    /// The directory `[ldap]` names; `None` without `AUTH__LDAP__URL`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the setting to fix.
    pub fn from_config(config: &LdapConfig) -> Result<Option<Self>, ConfigError> {
        let Some(url) = config.url.as_deref() else {
            return Ok(None);
        };
        let parsed = url::Url::parse(url)
            .map_err(|e| invalid("AUTH__LDAP__URL", format!("`{url}`: {e}")))?;
        // `ldap:` is not a special scheme to the URL parser: its host is text.
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        match parsed.scheme() {
            "ldaps" => {}
            "ldap" if config.starttls || loopback => {}
            "ldap" => return Err(invalid(
                "AUTH__LDAP__URL",
                "plain ldap:// sends passwords in clear: use ldaps://, or set AUTH__LDAP__STARTTLS",
            )),
            _ => return Err(invalid("AUTH__LDAP__URL", "use ldaps:// or ldap://")),
        }
        if config.user_base.trim().is_empty() {
            return Err(invalid(
                "AUTH__LDAP__USER_BASE",
                "set where users are searched",
            ));
        }
        if !config.user_filter.contains("{username}") {
            return Err(invalid(
                "AUTH__LDAP__USER_FILTER",
                "must contain `{username}`",
            ));
        }
        if config.group_base.is_some() && !config.group_filter.contains("{dn}") {
            return Err(invalid("AUTH__LDAP__GROUP_FILTER", "must contain `{dn}`"));
        }
        let timeout = Duration::from_secs(config.timeout_seconds.max(1));
        let tls = crate::outbound::tls_config(config.ca_file.as_deref())
            .map_err(|e| invalid("AUTH__LDAP__CA_FILE", e.to_string()))?;
        let settings = LdapConnSettings::new()
            .set_conn_timeout(timeout)
            .set_starttls(config.starttls && parsed.scheme() == "ldap")
            .set_config(Arc::new(tls));
        Ok(Some(Self {
            url: url.trim_end_matches('/').to_owned(),
            settings,
            bind_dn: config.bind_dn.clone(),
            bind_password: config
                .bind_password
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            config: config.clone(),
            timeout,
        }))
    }

    /// The issuer its accounts are linked under: its URL.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.url
    }

    /// The settings it was made from.
    #[must_use]
    pub fn config(&self) -> &LdapConfig {
        &self.config
    }

    async fn connect(&self) -> Result<Ldap> {
        let (conn, mut ldap) = LdapConnAsync::with_settings(self.settings.clone(), &self.url)
            .await
            .map_err(unavailable)?;
        ldap3::drive!(conn);
        ldap.with_timeout(self.timeout);
        Ok(ldap)
    }

    /// The account of `username` when `password` is its password; `None` for a wrong
    /// password, an unknown or ambiguous name, or an empty password (refused before any
    /// bind).
    ///
    /// # Errors
    /// [`AuthError::AuthServiceUnavailable`] when the directory cannot be reached in time or
    /// refuses the service account.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<DirectoryAccount>> {
        if password.is_empty()
            || username.trim().is_empty()
            || username.len() > 256
            || username.chars().any(char::is_control)
        {
            return Ok(None);
        }
        let mut ldap = self.connect().await?;
        let result = self
            .find_and_bind(&mut ldap, username.trim(), password)
            .await;
        // Best effort: the connection ends with the task either way.
        let _ = ldap.unbind().await;
        result
    }

    async fn find_and_bind(
        &self,
        ldap: &mut Ldap,
        username: &str,
        password: &str,
    ) -> Result<Option<DirectoryAccount>> {
        let service = self.bind_password.expose_secret();
        ldap.simple_bind(&self.bind_dn, service)
            .await
            .map_err(unavailable)?
            .success()
            .map_err(|e| unavailable(format!("the service account's bind: {e}")))?;
        let config = &self.config;
        let filter = config
            .user_filter
            .replace("{username}", &ldap_escape(username));
        let id = config.id_attribute.as_str();
        let attributes = [
            config.username_attribute.as_str(),
            config.email_attribute.as_str(),
            id,
            "cn",
            "displayName",
        ];
        let (entries, _) = ldap
            .search(
                &config.user_base,
                Scope::Subtree,
                &filter,
                attributes.to_vec(),
            )
            .await
            .map_err(unavailable)?
            .success()
            .map_err(unavailable)?;
        let [entry] = entries.as_slice() else {
            return Ok(None);
        };
        let entry = SearchEntry::construct(entry.clone());
        let groups = self.groups(ldap, &entry.dn).await?;
        // The password, checked by the directory itself.
        let bound = ldap
            .simple_bind(&entry.dn, password)
            .await
            .map_err(unavailable)?;
        // `invalidCredentials` (49), and a locked or expired account and its like: not
        // signed in, and not a 503.
        if bound.rc != 0 {
            return Ok(None);
        }
        let first = |name: &str| {
            entry
                .attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.first())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        // A binary id (objectGUID) arrives in bin_attrs: its hex.
        let binary_id = entry
            .bin_attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(id))
            .and_then(|(_, v)| v.first())
            .map(|v| v.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let subject = first(id).or(binary_id).unwrap_or_else(|| entry.dn.clone());
        let mut claims = serde_json::Map::new();
        claims.insert("sub".to_owned(), subject.into());
        if let Some(email) = first(&config.email_attribute) {
            claims.insert("email".to_owned(), email.into());
            // The directory is the organisation's own record of the address.
            claims.insert("email_verified".to_owned(), true.into());
        }
        if let Some(name) = first(&config.username_attribute) {
            claims.insert("preferred_username".to_owned(), name.into());
        }
        if let Some(name) = first("displayName").or_else(|| first("cn")) {
            claims.insert("name".to_owned(), name.into());
        }
        let profile = ExternalProfile::from_claims("ldap", &self.url, &claims.into())
            .ok_or_else(|| AuthError::Internal("directory entry without id".to_owned()))?;
        Ok(Some(DirectoryAccount {
            dn: entry.dn,
            profile,
            groups,
        }))
    }

    /// The names of the groups whose members include `dn`; none without a group base.
    async fn groups(&self, ldap: &mut Ldap, dn: &str) -> Result<Vec<String>> {
        let config = &self.config;
        let Some(base) = &config.group_base else {
            return Ok(Vec::new());
        };
        let filter = config.group_filter.replace("{dn}", &ldap_filter_dn(dn));
        let name = config.group_name_attribute.as_str();
        let (entries, _) = ldap
            .search(base, Scope::Subtree, &filter, vec![name])
            .await
            .map_err(unavailable)?
            .success()
            .map_err(unavailable)?;
        Ok(entries
            .into_iter()
            .filter_map(|e| {
                let entry = SearchEntry::construct(e);
                entry
                    .attrs
                    .into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.into_iter().next())
            })
            .collect())
    }
}

/// A DN as a value inside a search filter: the filter's own escaping (RFC 4515) over the DN
/// as the directory wrote it.
fn ldap_filter_dn(dn: &str) -> String {
    ldap_escape(dn).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{ldap_filter_dn, Directory};
    use crate::config::LdapConfig;

    fn config(url: &str) -> LdapConfig {
        LdapConfig {
            url: Some(url.to_owned()),
            user_base: "ou=people,dc=example,dc=org".to_owned(),
            ..LdapConfig::default()
        }
    }

    #[test]
    fn passwords_never_cross_the_network_in_clear() {
        assert!(Directory::from_config(&config("ldaps://ldap.example.com")).is_ok());
        assert!(Directory::from_config(&config("ldap://127.0.0.1:3389")).is_ok());
        let err = Directory::from_config(&config("ldap://ldap.example.com")).unwrap_err();
        assert!(err.to_string().contains("STARTTLS"), "{err}");
        let mut starttls = config("ldap://ldap.example.com");
        starttls.starttls = true;
        assert!(Directory::from_config(&starttls).is_ok());
        assert!(Directory::from_config(&LdapConfig::default())
            .unwrap()
            .is_none());
        let mut no_placeholder = config("ldaps://ldap.example.com");
        no_placeholder.user_filter = "(uid=admin)".to_owned();
        assert!(Directory::from_config(&no_placeholder).is_err());
    }

    #[test]
    fn dns_are_escaped_into_filters() {
        assert_eq!(ldap_filter_dn("uid=a*(b),dc=x"), "uid=a\\2a\\28b\\29,dc=x");
    }
}
