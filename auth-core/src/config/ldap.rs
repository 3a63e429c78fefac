//! `[ldap]`: signing in with a directory account (feature `ldap`): the user's entry found by
//! a service account, then a bind as the user with the password given.

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The directory, and how its entries become users.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LdapConfig {
    /// `AUTH__LDAP__URL`: `ldaps://ldap.example.com` (TLS from the start) or
    /// `ldap://ldap.example.com` (with `STARTTLS`, or plain on a loopback address only).
    /// Unset: directory sign-in is off.
    pub url: Option<String>,
    /// `AUTH__LDAP__STARTTLS`: upgrade an `ldap://` connection with StartTLS before
    /// anything is sent. Default false.
    pub starttls: bool,
    /// `AUTH__LDAP__CA_FILE`: a PEM file of certificate authorities to trust besides the
    /// Mozilla roots (a company CA).
    pub ca_file: Option<PathBuf>,
    /// `AUTH__LDAP__BIND_DN`: the service account that searches for users
    /// (`cn=auth,ou=services,dc=example,dc=org`).
    pub bind_dn: String,
    /// `AUTH__LDAP__BIND_PASSWORD`: its password.
    #[serde(skip_serializing)]
    pub bind_password: Option<SecretString>,
    /// `AUTH__LDAP__USER_BASE`: where users are searched (`ou=people,dc=example,dc=org`).
    pub user_base: String,
    /// `AUTH__LDAP__USER_FILTER`: the search filter, `{username}` replaced by the escaped
    /// name typed. Default `(uid={username})`; Active Directory: `(sAMAccountName={username})`.
    pub user_filter: String,
    /// `AUTH__LDAP__USERNAME_ATTRIBUTE`: the attribute a new user's name comes from. Default
    /// `uid`.
    pub username_attribute: String,
    /// `AUTH__LDAP__EMAIL_ATTRIBUTE`: the address. Default `mail`.
    pub email_attribute: String,
    /// `AUTH__LDAP__ID_ATTRIBUTE`: what names an entry for good, whatever it is renamed to.
    /// Default `entryUUID` (Active Directory: `objectGUID`); the DN when the entry has none.
    pub id_attribute: String,
    /// `AUTH__LDAP__GROUP_BASE`: where groups are searched; unset, no group is read.
    pub group_base: Option<String>,
    /// `AUTH__LDAP__GROUP_FILTER`: the groups of a user, `{dn}` replaced by the escaped DN of
    /// its entry. Default `(member={dn})`.
    pub group_filter: String,
    /// `AUTH__LDAP__GROUP_NAME_ATTRIBUTE`: a group's name. Default `cn`.
    pub group_name_attribute: String,
    /// `[ldap.roles]`: group name to role (`admins = "admin"`). Each sign-in gives the user
    /// the roles of its groups and takes away the roles named here whose group it left;
    /// other roles are left alone.
    pub roles: BTreeMap<String, String>,
    /// `AUTH__LDAP__TRUST_EMAIL`: whether a directory entry whose address an existing user
    /// has signs in that user. Default false: the user links the directory account by
    /// signing in to it.
    pub trust_email: bool,
    /// `AUTH__LDAP__ALLOW_SIGNUP`: whether an entry that matches no user makes one. Default
    /// true.
    pub allow_signup: bool,
    /// `AUTH__LDAP__TIMEOUT_SECONDS`: how long connecting and each operation may take; a
    /// directory slower than that is 503. Default 5.
    pub timeout_seconds: u64,
}

impl Default for LdapConfig {
    fn default() -> Self {
        Self {
            url: None,
            starttls: false,
            ca_file: None,
            bind_dn: String::new(),
            bind_password: None,
            user_base: String::new(),
            user_filter: "(uid={username})".to_owned(),
            username_attribute: "uid".to_owned(),
            email_attribute: "mail".to_owned(),
            id_attribute: "entryUUID".to_owned(),
            group_base: None,
            group_filter: "(member={dn})".to_owned(),
            group_name_attribute: "cn".to_owned(),
            roles: BTreeMap::new(),
            trust_email: false,
            allow_signup: true,
            timeout_seconds: 5,
        }
    }
}
