//! Turning configuration into keys: configured secrets in production, generated and kept
//! keys in development.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::keys::{JwtKey, KeySet};
use super::TokenError;
use crate::config::{AuthConfig, JwtAlgorithm, JwtConfig};

/// Why the keys could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetupError {
    /// A configured key is invalid.
    #[error("{var}: {source}")]
    Key {
        /// The variable holding the key.
        var: &'static str,
        /// What is wrong.
        #[source]
        source: TokenError,
    },
    /// A key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The development key file is not valid JSON of the expected shape.
    #[error(
        "{path} is not a valid key file ({reason}); delete it to generate new development keys"
    )]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Production without configured keys.
    #[error("{var} must be set in production")]
    MissingInProduction {
        /// The variable to set.
        var: &'static str,
    },
    /// `AUTH__ENV` is unset, keys are missing, and the service listens beyond loopback: a
    /// deployment that forgot its configuration would sign with generated keys.
    #[error(
        "refusing to sign with generated development keys while listening on {bind}, which is \
         not a loopback address: set {vars} (and AUTH__ENV=production), or set \
         AUTH__ENV=development to use development keys there"
    )]
    GeneratedKeysOffLoopback {
        /// The listen address.
        bind: String,
        /// The variables to set, joined with `and`.
        vars: String,
    },
    /// The development key file can be read by other users of the machine.
    #[error(
        "{path} holds signing keys and is readable by other users (mode {mode:o}); run \
         `chmod 600 {path}`, or delete it to generate new development keys"
    )]
    KeyFileTooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// Where the keys came from, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// From configuration.
    Configured,
    /// Loaded from the development key file.
    DevelopmentFile(PathBuf),
    /// Generated now and written to the development key file.
    GeneratedDevelopmentFile(PathBuf),
}

/// The key material a service runs with.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoadedKeys {
    /// Signing key and previous keys.
    pub key_set: KeySet,
    /// The refresh-token chaining secret.
    pub refresh_secret: SecretString,
    /// Where the signing key came from.
    pub source: KeySource,
}

/// The development key file: generated secrets by algorithm, kept across restarts.
#[derive(Default, Serialize, Deserialize)]
struct DevKeyFile {
    #[serde(default)]
    signing_keys: BTreeMap<String, String>,
    #[serde(default)]
    refresh_token_secret: Option<String>,
}

impl DevKeyFile {
    /// Reads `jwt.keys_file`, generating (and writing back) what is missing: a signing key for
    /// `jwt.algorithm` when `need_signing`, a refresh secret when `need_refresh`.
    fn load_or_generate(
        jwt: &JwtConfig,
        need_signing: bool,
        need_refresh: bool,
    ) -> Result<(Self, KeySource), KeySetupError> {
        let path = &jwt.keys_file;
        let existing = Self::read(path)?;
        let loaded = existing.is_some();
        let mut file = existing.unwrap_or_default();
        let mut changed = false;
        if need_signing && !file.signing_keys.contains_key(jwt.algorithm.as_str()) {
            let (_, material) =
                JwtKey::generate(jwt.algorithm).map_err(|source| KeySetupError::Key {
                    var: "AUTH__JWT__ALGORITHM",
                    source,
                })?;
            file.signing_keys.insert(
                jwt.algorithm.as_str().to_owned(),
                material.expose_secret().to_owned(),
            );
            changed = true;
        }
        if need_refresh && file.refresh_token_secret.is_none() {
            let (_, material) =
                JwtKey::generate(JwtAlgorithm::HS256).map_err(|source| KeySetupError::Key {
                    var: "AUTH__JWT__REFRESH_TOKEN_SECRET",
                    source,
                })?;
            file.refresh_token_secret = Some(material.expose_secret().to_owned());
            changed = true;
        }
        if changed {
            file.write(path)?;
        }
        let source = if loaded && !changed {
            KeySource::DevelopmentFile(path.clone())
        } else {
            KeySource::GeneratedDevelopmentFile(path.clone())
        };
        Ok((file, source))
    }

    /// The kept signing key for `jwt.algorithm`.
    fn signing_key(&self, jwt: &JwtConfig) -> Result<JwtKey, KeySetupError> {
        let material = self
            .signing_keys
            .get(jwt.algorithm.as_str())
            .ok_or_else(|| KeySetupError::KeyFile {
                path: jwt.keys_file.clone(),
                reason: format!("no {} key", jwt.algorithm),
            })?;
        if jwt.algorithm.is_hmac() {
            JwtKey::hmac(jwt.algorithm, material.as_bytes(), jwt.key_id.clone())
        } else {
            JwtKey::from_private_pem(jwt.algorithm, material, jwt.key_id.clone())
        }
        .map_err(|source| KeySetupError::Key {
            var: "AUTH__JWT__KEYS_FILE",
            source,
        })
    }

    /// The kept refresh-token secret.
    fn refresh_secret(&self, path: &Path) -> Result<SecretString, KeySetupError> {
        self.refresh_token_secret
            .clone()
            .map(SecretString::from)
            .ok_or_else(|| KeySetupError::KeyFile {
                path: path.to_owned(),
                reason: "no refresh_token_secret".to_owned(),
            })
    }

    fn read(path: &Path) -> Result<Option<Self>, KeySetupError> {
        check_private(path)?;
        match fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| KeySetupError::KeyFile {
                    path: path.to_owned(),
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(KeySetupError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    fn write(&self, path: &Path) -> Result<(), KeySetupError> {
        let io_err = |source| KeySetupError::Io {
            path: path.to_owned(),
            source,
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| KeySetupError::KeyFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err)?;
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io_err)?;
        io::Write::write_all(&mut file, text.as_bytes()).map_err(io_err)
    }
}

/// Refuses a key file that users other than its owner may read or write (as OpenSSH refuses
/// a private key with open permissions). A missing file passes.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KeySetupError> {
    use std::os::unix::fs::PermissionsExt;
    match fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeySetupError::KeyFileTooOpen {
                    path: path.to_owned(),
                    mode,
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(KeySetupError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), KeySetupError> {
    Ok(())
}

fn signing_key_from_config(config: &AuthConfig) -> Result<Option<JwtKey>, KeySetupError> {
    let jwt = &config.jwt;
    let alg = jwt.algorithm;
    if alg.is_hmac() {
        return jwt
            .secret_key
            .as_ref()
            .map(|s| JwtKey::hmac(alg, s.expose_secret().as_bytes(), jwt.key_id.clone()))
            .transpose()
            .map_err(|source| KeySetupError::Key {
                var: "AUTH__JWT__SECRET_KEY",
                source,
            });
    }
    if let Some(pem) = &jwt.private_key {
        return JwtKey::from_private_pem(alg, pem.expose_secret(), jwt.key_id.clone())
            .map(Some)
            .map_err(|source| KeySetupError::Key {
                var: "AUTH__JWT__PRIVATE_KEY",
                source,
            });
    }
    if let Some(path) = &jwt.private_key_file {
        let pem = fs::read_to_string(path).map_err(|source| KeySetupError::Io {
            path: path.clone(),
            source,
        })?;
        return JwtKey::from_private_pem(alg, &pem, jwt.key_id.clone())
            .map(Some)
            .map_err(|source| KeySetupError::Key {
                var: "AUTH__JWT__PRIVATE_KEY_FILE",
                source,
            });
    }
    Ok(None)
}

/// With `AUTH__ENV` unset, development keys may only serve a loopback address: the one-command
/// local start keeps working, a deployment that forgot its configuration does not start.
fn refuse_off_loopback(
    config: &AuthConfig,
    need_signing: bool,
    need_refresh: bool,
) -> Result<(), KeySetupError> {
    if config
        .server
        .bind_addr()
        .is_ok_and(|bind| bind.ip().is_loopback())
    {
        return Ok(());
    }
    let mut vars = Vec::new();
    if need_signing {
        vars.push(config.jwt.algorithm.key_variable());
    }
    if need_refresh {
        vars.push("AUTH__JWT__REFRESH_TOKEN_SECRET");
    }
    Err(KeySetupError::GeneratedKeysOffLoopback {
        bind: config.server.bind.clone(),
        vars: vars.join(" and "),
    })
}

/// Builds the key set and refresh secret from `config`.
///
/// Configured keys are used as they are. Otherwise, outside production, keys are read from
/// `jwt.keys_file` or generated and written there (mode 0600) so tokens survive a restart; the
/// returned [`KeySource`] says which, for the start-up log. Production never generates keys,
/// and with `AUTH__ENV` unset they serve only a loopback `server.bind`
/// ([`KeySetupError::GeneratedKeysOffLoopback`]). A key file readable by other users is
/// refused ([`KeySetupError::KeyFileTooOpen`]).
///
/// # Errors
/// [`KeySetupError`] naming the variable or file at fault.
pub fn load_keys(config: &AuthConfig) -> Result<LoadedKeys, KeySetupError> {
    let jwt = &config.jwt;
    let configured = signing_key_from_config(config)?;
    let (signing, refresh_secret, source) = match (configured, &jwt.refresh_token_secret) {
        (Some(key), Some(secret)) => (key, secret.clone(), KeySource::Configured),
        (configured, secret) => {
            if config.is_production() {
                return Err(KeySetupError::MissingInProduction {
                    var: if configured.is_none() {
                        jwt.algorithm.key_variable()
                    } else {
                        "AUTH__JWT__REFRESH_TOKEN_SECRET"
                    },
                });
            }
            if config.env.is_none() {
                refuse_off_loopback(config, configured.is_none(), secret.is_none())?;
            }
            let (file, file_source) =
                DevKeyFile::load_or_generate(jwt, configured.is_none(), secret.is_none())?;
            let refresh_secret = match secret {
                Some(secret) => secret.clone(),
                None => file.refresh_secret(&jwt.keys_file)?,
            };
            match configured {
                Some(key) => (key, refresh_secret, KeySource::Configured),
                None => (file.signing_key(jwt)?, refresh_secret, file_source),
            }
        }
    };

    let mut key_set = KeySet::new(signing).map_err(|source| KeySetupError::Key {
        var: jwt.algorithm.key_variable(),
        source,
    })?;
    for previous in &jwt.previous_keys {
        let key = match (&previous.secret_key, &previous.public_key) {
            (Some(secret), _) => JwtKey::hmac(
                previous.algorithm,
                secret.expose_secret().as_bytes(),
                previous.key_id.clone(),
            ),
            (None, Some(pem)) => {
                JwtKey::from_public_pem(previous.algorithm, pem, previous.key_id.clone())
            }
            (None, None) => Err(TokenError::InvalidKey {
                algorithm: previous.algorithm,
                reason: "a previous key needs `secret_key` or `public_key`".to_owned(),
            }),
        }
        .map_err(|source| KeySetupError::Key {
            var: "jwt.previous_keys",
            source,
        })?;
        key_set = key_set.with_previous(key.retired(previous.retired_at));
    }
    Ok(LoadedKeys {
        key_set,
        refresh_secret,
        source,
    })
}
