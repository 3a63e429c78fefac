//! The server of the load script (`bench/load.sh`): one handler served side by side, so that a
//! load generator on 127.0.0.1 compares them in one run.
//!
//! - `GET /bare`: no authentication;
//! - `GET /guarded`, `GET /hand-written`: our `#[require_permissions]` guard and a hand-written
//!   extractor on our runtime, HS256 (`tests::guarded`);
//! - `GET /eddsa/guarded`: our guard with EdDSA tokens;
//! - `GET /uncached/guarded`, `GET /eddsa-uncached/guarded`: the same with the verification
//!   cache off, so every request pays for the signature and the claims;
//! - `GET /jwt-middleware`: a hand-written axum middleware around `jsonwebtoken::decode`
//!   (HS256, pre-built key), what a service would write without a framework;
//! - `GET /protect-axum`: protect-axum's `GrantsLayer` with a jsonwebtoken extractor and its
//!   `#[protect]` macro;
//! - `GET /tokens`: `{"hs256": ..., "eddsa": ..., "eddsa_uncached": ...}`, tokens with
//!   permission `articles.read` (`hs256` is good for every HS256 variant).
//!
//! `bench-server [ADDR]` serves (default `127.0.0.1:8090`);
//! `bench-server argon2-floor SECONDS THREADS` prints the Argon2id verifications per second of
//! a raw loop at the default (OWASP) parameters, the floor of the login storm.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark tool: fail loudly"
)]

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use auth_axum::core::config::{AuthConfig, JwtAlgorithm};
use auth_axum::core::service::Stores;
use auth_axum::core::token::{JwtKey, KeySet, TokenSubject};
use auth_axum::core::AuthService;
use auth_axum::AuthModule;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::SecretString;
use serde::Deserialize;

/// The claims a hand-written middleware would read.
#[derive(Clone, Deserialize)]
struct AppClaims {
    #[allow(dead_code, reason = "read like a real middleware would")]
    sub: String,
    #[serde(default)]
    permissions: Vec<String>,
}

/// jsonwebtoken's key and validation, built once.
struct JwtKeys {
    decoding: DecodingKey,
    validation: Validation,
}

static JWT: OnceLock<JwtKeys> = OnceLock::new();

fn bearer(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn decode(request: &Request) -> Result<AppClaims, StatusCode> {
    let keys = JWT.get().expect("keys set at start");
    let token = bearer(request).ok_or(StatusCode::UNAUTHORIZED)?;
    jsonwebtoken::decode::<AppClaims>(token, &keys.decoding, &keys.validation)
        .map(|data| data.claims)
        .map_err(|_| StatusCode::UNAUTHORIZED)
}

/// The hand-written middleware: verify, check the permission, pass the claims on.
async fn jwt_middleware(mut request: Request, next: Next) -> Response {
    match decode(&request) {
        Ok(claims) if claims.permissions.iter().any(|p| p == "articles.read") => {
            request.extensions_mut().insert(claims);
            next.run(request).await
        }
        Ok(_) => StatusCode::FORBIDDEN.into_response(),
        Err(status) => status.into_response(),
    }
}

/// protect-axum's authority extractor: the token's permissions.
async fn authorities(request: &mut Request) -> Result<HashSet<String>, Response> {
    decode(request)
        .map(|claims| claims.permissions.into_iter().collect())
        .map_err(IntoResponse::into_response)
}

async fn ok() -> &'static str {
    "ok"
}

#[protect_axum::protect("articles.read")]
async fn protected() -> &'static str {
    "ok"
}

fn module(key: JwtKey, verify_cache: bool) -> AuthModule {
    let mut config = AuthConfig::default();
    if !verify_cache {
        config.jwt.verify_cache_entries = 0;
    }
    let service = AuthService::builder(config.clone())
        .with_stores(Stores::memory())
        .with_keys(
            KeySet::new(key).unwrap(),
            SecretString::from(tests::random_secret()),
        )
        .with_mailer(Arc::new(auth_axum::core::mail::NoMailer))
        .build()
        .unwrap();
    AuthModule::new(service, config)
}

fn token(module: &AuthModule) -> String {
    let subject = TokenSubject::access("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d10")
        .with_session("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d11")
        .with_roles(["editor", "viewer"])
        .with_permissions([tests::guarded::PERMISSION])
        .with_tenant("acme");
    module.service().tokens().issue(&subject).unwrap().token
}

async fn serve(addr: &str) {
    let secret = tests::random_secret();
    let hs256_key = JwtKey::hmac(JwtAlgorithm::HS256, secret.as_bytes(), None).unwrap();
    let hs256 = module(hs256_key.clone(), true);
    let uncached = module(hs256_key, false);
    let eddsa = module(JwtKey::generate(JwtAlgorithm::EdDSA).unwrap().0, true);
    let eddsa_uncached = module(JwtKey::generate(JwtAlgorithm::EdDSA).unwrap().0, false);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let _ = JWT.set(JwtKeys {
        decoding: DecodingKey::from_secret(secret.as_bytes()),
        validation,
    });
    let tokens = Arc::new(serde_json::json!({
        "hs256": token(&hs256),
        "eddsa": token(&eddsa),
        "eddsa_uncached": token(&eddsa_uncached),
    }));

    let app =
        tests::guarded::routes(hs256)
            .nest("/eddsa", tests::guarded::routes(eddsa))
            .nest("/uncached", tests::guarded::routes(uncached))
            .nest("/eddsa-uncached", tests::guarded::routes(eddsa_uncached))
            .route(
                "/jwt-middleware",
                get(ok).layer(middleware::from_fn(jwt_middleware)),
            )
            .route(
                "/protect-axum",
                get(protected).layer(protect_axum::GrantsLayer::with_extractor(authorities)),
            )
            .route(
                "/tokens",
                get(|State(tokens): State<Arc<serde_json::Value>>| async move {
                    Json((*tokens).clone())
                })
                .with_state(tokens),
            );
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    println!("listening on {}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

/// Raw Argon2id verifications per second on `threads` threads for `seconds`.
fn argon2_floor(seconds: u64, threads: usize) {
    let argon2 = argon2::Argon2::default();
    let salt = SaltString::encode_b64(b"bench-salt-16byt").unwrap();
    let hash = argon2
        .hash_password(b"correct horse battery", &salt)
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let total: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let parsed = PasswordHash::new(&hash).unwrap();
                    let mut done = 0;
                    while Instant::now() < deadline {
                        assert!(argon2
                            .verify_password(b"correct horse battery", &parsed)
                            .is_ok());
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    #[allow(clippy::cast_precision_loss, reason = "a rate")]
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("{rate:.1}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("argon2-floor") {
        let seconds = args.get(1).map_or(5, |s| s.parse().unwrap());
        let threads = args.get(2).map_or(2, |s| s.parse().unwrap());
        argon2_floor(seconds, threads);
        return;
    }
    let addr = args
        .first()
        .map_or("127.0.0.1:8090", String::as_str)
        .to_owned();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(serve(&addr));
}
