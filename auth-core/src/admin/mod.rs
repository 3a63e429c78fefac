//! Administration commands a service's own binary can offer, so that granting the first admin
//! role or disabling an account needs no code of the service's: parse the arguments with
//! [`AdminCommand::parse`] and [`run`](AdminCommand::run) the command on the service.
//!
//! | command | what it does |
//! |---|---|
//! | `users import FILE.jsonl` | loads users of another system with their password hashes (Argon2id; bcrypt and Django `pbkdf2_sha256` with the `legacy-hashes` feature, upgraded at each user's next login); one object per line: `{"username", "email", "password_hash"?, "roles"?, "is_verified"?, "is_active"?}` |
//! | `users collisions` | lists users whose usernames or addresses are one under the identifier rules (same compared form or confusable skeleton), which can only predate those rules; changes nothing |
//! | `users create USER EMAIL [ROLE...] [--admin]` (alias `create-user`) | registers a user (`--admin`: with the `admin` role) (the password from `AUTH_NEW_USER_PASSWORD`, else the first line of standard input; never an argument, which `ps` shows), with the default roles and these |
//! | `grant-role USER ROLE` | gives a user a role (from the next login or refresh) |
//! | `revoke-role USER ROLE` | takes it back |
//! | `deactivate-user USER` | refuses the user's logins and ends every session and token, on every instance |
//! | `reactivate-user USER` | lets the user log in again |
//! | `unlock-user USER` | forgets the user's failed logins, so no attempt waits any longer (the lockout) |
//! | `clients create NAME [--grant G]... [--redirect-uri URI]... [--scope "A B"] [--auth-method M]` | registers an OAuth client (feature `provider`) and prints the JSON `POST /oauth/register` answers, with the secret this once: print it, never log it ([`AdminCommand::prints_secret`]) |
//! | `clients list` | the registered OAuth clients as JSON, never a secret (feature `provider`) |
//!
//! ```no_run
//! use auth_core::admin::AdminCommand;
//! use auth_core::{AuthConfig, AuthService};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let args: Vec<String> = std::env::args().skip(1).collect();
//! let args: Vec<&str> = args.iter().map(String::as_str).collect();
//! if let Some(command) = AdminCommand::parse(&args) {
//!     let service = AuthService::from_config(&AuthConfig::load()?).await?;
//!     println!("{}", command?.run(&service).await?);
//! }
//! # Ok(()) }
//! ```

#[cfg(feature = "provider")]
mod clients;
mod collisions;
mod import;

use std::path::PathBuf;

use crate::error::AuthError;
use crate::service::{AuthService, RegisterRequest};
use crate::store::StoreError;

/// The usage line of the commands, for a binary's help.
pub const USAGE: &str =
    "users create <username> <email> [role...] [--admin] | users import <file.jsonl> | \
                         users collisions | \
                         grant-role <username> <role> | revoke-role <username> <role> | \
                         deactivate-user <username> | reactivate-user <username> | \
                         unlock-user <username> | \
                         clients create <name> [--grant <grant>]... [--redirect-uri <uri>]... \
                         [--scope <scopes>] [--auth-method <method>] | clients list";

/// The variable `users create` reads the new user's password from (else standard input).
pub const PASSWORD_VAR: &str = "AUTH_NEW_USER_PASSWORD";

/// One administration command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdminCommand {
    /// `users create USER EMAIL [ROLE...]` (or `create-user ...`).
    CreateUser {
        /// The username.
        username: String,
        /// The email.
        email: String,
        /// Roles beyond the configured default ones.
        roles: Vec<String>,
    },
    /// `users import FILE.jsonl`.
    ImportUsers {
        /// The file.
        file: PathBuf,
    },
    /// `users collisions`.
    Collisions,
    /// `grant-role USER ROLE`.
    GrantRole {
        /// The username.
        username: String,
        /// The role.
        role: String,
    },
    /// `revoke-role USER ROLE`.
    RevokeRole {
        /// The username.
        username: String,
        /// The role.
        role: String,
    },
    /// `deactivate-user USER`.
    DeactivateUser {
        /// The username.
        username: String,
    },
    /// `reactivate-user USER`.
    ReactivateUser {
        /// The username.
        username: String,
    },
    /// `unlock-user USER`.
    UnlockUser {
        /// The username.
        username: String,
    },
    /// `clients create NAME [--grant G]... [--redirect-uri URI]... [--scope S] [--auth-method M]`
    /// (feature `provider`).
    #[cfg(feature = "provider")]
    CreateClient(crate::oauth::NewClient),
    /// `clients list` (feature `provider`).
    #[cfg(feature = "provider")]
    ListClients,
}

/// Why a command could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The arguments name a command but do not fit it.
    #[error("usage: {0}")]
    Usage(&'static str),
    /// No user has this username.
    #[error("no user named `{0}`")]
    NoSuchUser(String),
    /// The import file could not be read.
    #[error("cannot read `{file}`: {source}")]
    ImportFile {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `users create` found no password in `AUTH_NEW_USER_PASSWORD` nor on standard input.
    #[error("no password: set {PASSWORD_VAR} or give it on the first line of standard input")]
    NoPassword,
    /// The flow failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A client registration was refused, or its store failed.
    #[error("{code}: {error}", code = .0.code(), error = .0)]
    OAuth(crate::oauth::OAuthError),
    /// The answer could not be written.
    #[error("cannot write the answer: {0}")]
    Output(String),
    /// The user store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AdminCommand {
    /// The command `args` (without the program name) spell: `None` when they name no
    /// administration command (the binary's own commands), `Some(Err)` when they name one
    /// with the wrong arguments.
    #[must_use]
    pub fn parse(args: &[&str]) -> Option<Result<Self, AdminError>> {
        let owned = |s: &&str| (*s).to_owned();
        let command = match args {
            ["users", "create", rest @ ..] | ["create-user", rest @ ..] => match rest {
                [username, email, roles @ ..] if !username.starts_with("--") => {
                    // `--admin` anywhere among the roles: the admin role.
                    let mut roles: Vec<String> = roles
                        .iter()
                        .map(|r| if *r == "--admin" { "admin" } else { r })
                        .map(str::to_owned)
                        .collect();
                    roles.dedup();
                    Ok(Self::CreateUser {
                        username: owned(username),
                        email: owned(email),
                        roles,
                    })
                }
                _ => Err(AdminError::Usage(
                    "users create <username> <email> [role...] [--admin]",
                )),
            },
            ["users", "import", rest @ ..] => match rest {
                [file] => Ok(Self::ImportUsers {
                    file: PathBuf::from(file),
                }),
                _ => Err(AdminError::Usage("users import <file.jsonl>")),
            },
            ["users", "collisions", rest @ ..] => match rest {
                [] => Ok(Self::Collisions),
                _ => Err(AdminError::Usage("users collisions")),
            },
            ["grant-role", rest @ ..] => match rest {
                [username, role] => Ok(Self::GrantRole {
                    username: owned(username),
                    role: owned(role),
                }),
                _ => Err(AdminError::Usage("grant-role <username> <role>")),
            },
            ["revoke-role", rest @ ..] => match rest {
                [username, role] => Ok(Self::RevokeRole {
                    username: owned(username),
                    role: owned(role),
                }),
                _ => Err(AdminError::Usage("revoke-role <username> <role>")),
            },
            ["deactivate-user", rest @ ..] => match rest {
                [username] => Ok(Self::DeactivateUser {
                    username: owned(username),
                }),
                _ => Err(AdminError::Usage("deactivate-user <username>")),
            },
            ["reactivate-user", rest @ ..] => match rest {
                [username] => Ok(Self::ReactivateUser {
                    username: owned(username),
                }),
                _ => Err(AdminError::Usage("reactivate-user <username>")),
            },
            ["unlock-user", rest @ ..] => match rest {
                [username] => Ok(Self::UnlockUser {
                    username: owned(username),
                }),
                _ => Err(AdminError::Usage("unlock-user <username>")),
            },
            #[cfg(feature = "provider")]
            ["clients", "create", rest @ ..] => clients::parse_create(rest).map(Self::CreateClient),
            #[cfg(feature = "provider")]
            ["clients", "list", rest @ ..] => match rest {
                [] => Ok(Self::ListClients),
                _ => Err(AdminError::Usage("clients list")),
            },
            _ => return None,
        };
        Some(command)
    }

    /// Whether the command's answer holds a secret (a new client's): a binary prints it on
    /// standard output for the operator, never into a log.
    #[must_use]
    pub fn prints_secret(&self) -> bool {
        #[cfg(feature = "provider")]
        if matches!(self, Self::CreateClient(_)) {
            return true;
        }
        false
    }

    /// Runs the command; what was done, in a sentence.
    ///
    /// # Errors
    /// [`AdminError`] naming what failed.
    pub async fn run(&self, service: &AuthService) -> Result<String, AdminError> {
        let user = |username: &str| {
            let username = username.to_owned();
            async move {
                service
                    .users()
                    .get_by_username(&username)
                    .await?
                    .ok_or(AdminError::NoSuchUser(username))
            }
        };
        match self {
            Self::CreateUser {
                username,
                email,
                roles,
            } => {
                let password = new_password().await?;
                let mut user = service
                    .register(RegisterRequest::new(username, email, password))
                    .await?;
                for role in roles {
                    user = service.assign_role(&user.id, role.as_str()).await?;
                }
                Ok(format!(
                    "created `{username}` (id {}) with roles {:?}",
                    user.id, user.roles
                ))
            }
            Self::ImportUsers { file } => {
                let contents = tokio::fs::read_to_string(file).await.map_err(|source| {
                    AdminError::ImportFile {
                        file: file.clone(),
                        source,
                    }
                })?;
                Ok(import::import(service, &contents).await?.summary())
            }
            Self::Collisions => Ok(collisions::report(
                &collisions::find(service.users().as_ref()).await?,
            )),
            Self::GrantRole { username, role } => {
                let user = service.assign_role(&user(username).await?.id, role).await?;
                Ok(format!(
                    "`{username}` now has roles {:?}; they take effect at the next login or refresh",
                    user.roles
                ))
            }
            Self::RevokeRole { username, role } => {
                let user = service.revoke_role(&user(username).await?.id, role).await?;
                Ok(format!(
                    "`{username}` now has roles {:?}; tokens already issued keep theirs until they expire",
                    user.roles
                ))
            }
            Self::DeactivateUser { username } => {
                service.deactivate_user(&user(username).await?.id).await?;
                Ok(format!(
                    "`{username}` is deactivated: logins refused, every session and token ended"
                ))
            }
            Self::ReactivateUser { username } => {
                service.reactivate_user(&user(username).await?.id).await?;
                Ok(format!("`{username}` may log in again"))
            }
            Self::UnlockUser { username } => {
                let forgiven = service.unlock_user(&user(username).await?.id).await?;
                Ok(if forgiven {
                    format!("`{username}`'s failed logins are forgotten; no attempt waits")
                } else {
                    format!("`{username}` had no failed logins to forget")
                })
            }
            #[cfg(feature = "provider")]
            Self::CreateClient(new) => clients::create(service, new).await,
            #[cfg(feature = "provider")]
            Self::ListClients => clients::list(service).await,
        }
    }
}

/// The new user's password: `AUTH_NEW_USER_PASSWORD`, else the first line of standard input.
async fn new_password() -> Result<String, AdminError> {
    let password = match std::env::var(PASSWORD_VAR) {
        Ok(password) => password,
        Err(_) => tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await
        .map_err(|_| AdminError::NoPassword)?
        .map_err(|_| AdminError::NoPassword)?
        .trim_end_matches(['\r', '\n'])
        .to_owned(),
    };
    if password.is_empty() {
        return Err(AdminError::NoPassword);
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::{AdminCommand, AdminError};

    #[test]
    fn commands_parse_and_other_arguments_are_left_alone() {
        assert_eq!(
            AdminCommand::parse(&["grant-role", "ada", "admin"]).map(Result::ok),
            Some(Some(AdminCommand::GrantRole {
                username: "ada".to_owned(),
                role: "admin".to_owned()
            }))
        );
        assert_eq!(
            AdminCommand::parse(&["create-user", "ada", "ada@example.com", "admin", "editor"])
                .map(Result::ok),
            Some(Some(AdminCommand::CreateUser {
                username: "ada".to_owned(),
                email: "ada@example.com".to_owned(),
                roles: vec!["admin".to_owned(), "editor".to_owned()],
            }))
        );
        assert_eq!(
            AdminCommand::parse(&["users", "create", "root", "root@example.com", "--admin"])
                .map(Result::ok),
            Some(Some(AdminCommand::CreateUser {
                username: "root".to_owned(),
                email: "root@example.com".to_owned(),
                roles: vec!["admin".to_owned()],
            }))
        );
        assert!(matches!(
            AdminCommand::parse(&["users", "create", "--admin", "root@example.com"]),
            Some(Err(AdminError::Usage(_)))
        ));
        assert_eq!(
            AdminCommand::parse(&["users", "create", "ada", "ada@example.com"]).map(Result::ok),
            AdminCommand::parse(&["create-user", "ada", "ada@example.com"]).map(Result::ok),
            "`create-user` is an alias"
        );
        assert!(matches!(
            AdminCommand::parse(&["users", "create", "ada"]),
            Some(Err(AdminError::Usage(
                "users create <username> <email> [role...] [--admin]"
            )))
        ));
        assert_eq!(
            AdminCommand::parse(&["users", "import", "users.jsonl"]).map(Result::ok),
            Some(Some(AdminCommand::ImportUsers {
                file: "users.jsonl".into()
            }))
        );
        assert!(matches!(
            AdminCommand::parse(&["users", "import"]),
            Some(Err(AdminError::Usage("users import <file.jsonl>")))
        ));
        assert_eq!(
            AdminCommand::parse(&["users", "collisions"]).map(Result::ok),
            Some(Some(AdminCommand::Collisions))
        );
        assert!(matches!(
            AdminCommand::parse(&["users", "collisions", "now"]),
            Some(Err(AdminError::Usage("users collisions")))
        ));
        assert!(AdminCommand::parse(&["serve"]).is_none());
        assert!(AdminCommand::parse(&[]).is_none());
        assert!(matches!(
            AdminCommand::parse(&["deactivate-user"]),
            Some(Err(AdminError::Usage("deactivate-user <username>")))
        ));
        assert!(matches!(
            AdminCommand::parse(&["revoke-role", "ada"]),
            Some(Err(AdminError::Usage("revoke-role <username> <role>")))
        ));
    }
}
