//! The hot paths, run a fixed number of times each for the instruction-count regression gate
//! (`bench/instructions.py`, under `valgrind --tool=callgrind`). Instruction counts do not
//! depend on what else the machine is doing, so the gate can compare them with a committed
//! baseline where a timing could not.
//!
//! `hot_paths NAME` runs one path: only the `measure_*` function's instructions are counted
//! (callgrind `--toggle-collect`), not the set-up. `hot_paths --list` names the paths,
//! `hot_paths --iterations` says how many times each measured function runs its path.
//! Without a name it runs each once, as a smoke test (this is what `cargo bench` does).
//!
//! `hot_paths --time [--rounds N] NAME...` times the named paths instead, interleaved round by
//! round, and prints medians and ratios to the first: on a shared, noisy machine the ratio of
//! interleaved runs holds where criterion's one-after-the-other groups drift. For example
//! `cargo bench -p tests --bench hot_paths -- --time handler_hand_written handler_macro_guard`.
//! `--time` also knows paths the gate leaves out: the asymmetric verifications and their raw
//! floors (`verify_rs256_floor verify_rs256`, and `eddsa`, `es256`), and jsonwebtoken's
//! `decode` of the HS256 token (`verify_hs256_jsonwebtoken`).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::Arc;

use auth_axum::core::authz::RoleHierarchy;
use auth_axum::core::config::{JwtAlgorithm, JwtConfig};
use auth_axum::core::mfa::{Totp, TotpSecret, TotpSettings};
use auth_axum::core::random::SeededRandom;
use auth_axum::core::token::{Claims, JwtKey, KeySet, TokenManager, TokenSubject, TokenType};
use auth_axum::core::ManualClock;
use auth_axum::testing::{MockUser, TestKit};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret as _;
use tower::ServiceExt;

/// Iterations per measured call; the gate divides by it.
const ITERATIONS: usize = 1_000;

/// Paths `--time` knows besides [`PATHS`], kept out of the gate: asymmetric signatures cost
/// too many instructions to run 1 000 times under callgrind in CI.
const TIMED_ONLY: [&str; 8] = [
    "verify_hs256_jsonwebtoken",
    "handler_api_key",
    "verify_eddsa_floor",
    "verify_eddsa",
    "verify_es256_floor",
    "verify_es256",
    "verify_rs256_floor",
    "verify_rs256",
];

/// Every path the gate measures.
const PATHS: [&str; 10] = [
    "verify_hs256_floor",
    "verify_hs256",
    "verify_hs256_cached",
    "sign_hs256",
    "authz_check",
    "totp_verify",
    "handler_bare",
    "handler_macro_guard",
    "handler_hand_written",
    "handler_hand_written_minimal",
];

#[inline(never)]
fn measure_verify_hs256_floor(key: &aws_lc_rs::hmac::Key, token: &str) {
    let (input, signature) = token.rsplit_once('.').unwrap();
    for _ in 0..ITERATIONS {
        let tag = URL_SAFE_NO_PAD.decode(black_box(signature)).unwrap();
        assert!(aws_lc_rs::hmac::verify(key, black_box(input).as_bytes(), &tag).is_ok());
    }
}

#[inline(never)]
fn measure_verify_public_floor(key: &ParsedPublicKey, token: &str) {
    let (input, signature) = token.rsplit_once('.').unwrap();
    for _ in 0..ITERATIONS {
        let signature = URL_SAFE_NO_PAD.decode(black_box(signature)).unwrap();
        assert!(key
            .verify_sig(black_box(input).as_bytes(), &signature)
            .is_ok());
    }
}

#[inline(never)]
fn measure_verify(tokens: &TokenManager, token: &str) {
    for _ in 0..ITERATIONS {
        assert!(tokens.verify(black_box(token), TokenType::Access).is_ok());
    }
}

#[inline(never)]
fn measure_verify_jsonwebtoken(key: &DecodingKey, validation: &Validation, token: &str) {
    for _ in 0..ITERATIONS {
        assert!(jsonwebtoken::decode::<Claims>(black_box(token), key, validation).is_ok());
    }
}

#[inline(never)]
fn measure_verify_hs256_cached(tokens: &TokenManager, token: &str) {
    for _ in 0..ITERATIONS {
        assert!(tokens
            .verify_shared(black_box(token), TokenType::Access)
            .is_ok());
    }
}

#[inline(never)]
fn measure_sign_hs256(tokens: &TokenManager, token: &str) {
    let claims = tokens.verify(token, TokenType::Access).unwrap();
    for _ in 0..ITERATIONS {
        black_box(tokens.sign(black_box(&claims)).unwrap());
    }
}

#[inline(never)]
fn measure_authz_check(roles: &RoleHierarchy, held: &[String], permission: &str) {
    for _ in 0..ITERATIONS {
        assert!(roles.has_permission(black_box(held), &[], black_box(permission)));
    }
}

#[inline(never)]
fn measure_totp_verify(totp: &Totp, code: &str, now: i64, last_step: u64) {
    for _ in 0..ITERATIONS {
        assert!(totp
            .verify(black_box(code), black_box(now), Some(last_step))
            .is_ok());
    }
}

#[inline(never)]
fn measure_handler(
    runtime: &tokio::runtime::Runtime,
    router: &Router,
    path: &str,
    authorization: &str,
) {
    runtime.block_on(async {
        for _ in 0..ITERATIONS {
            let request = Request::get(path)
                .header("authorization", authorization)
                .body(Body::empty())
                .unwrap();
            let response = router.clone().oneshot(black_box(request)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
    });
}

/// A stored user granted the guarded route's permission, and an API key of theirs scoped to it.
async fn api_key_fixture(kit: &TestKit) -> String {
    use auth_axum::core::service::{NewApiKey, RegisterRequest};
    let service = kit.module().service().clone();
    let user = service
        .register(RegisterRequest::new(
            "bench",
            "bench@example.com",
            "correct horse battery",
        ))
        .await
        .unwrap();
    let mut stored = service.users().get_by_id(&user.id).await.unwrap().unwrap();
    stored.permissions = vec![tests::guarded::PERMISSION.to_owned()];
    service.users().update(&stored).await.unwrap();
    let token = kit.token(&MockUser::new(user.id.as_str()));
    let owner = service.authenticate(&token).await.unwrap();
    let scopes = vec![tests::guarded::PERMISSION.to_owned()];
    let (_, key) = service
        .create_api_key(&owner, NewApiKey::new("bench", scopes))
        .await
        .unwrap();
    key.expose_secret().to_owned()
}

/// 100 roles in chains of ten; the user holds the sixth role of the first chain and asks for a
/// permission granted five hops up.
fn roles() -> RoleHierarchy {
    let mut builder = RoleHierarchy::builder();
    for i in 0..100 {
        let parent = format!("r{}", i.max(1) - 1);
        let parents: &[&str] = if i % 10 == 0 { &[] } else { &[&parent] };
        let grants = [format!("res{i}.read"), format!("res{i}.write")];
        builder = builder.role(&format!("r{i}"), parents, &[&grants[0], &grants[1]]);
    }
    builder.build().unwrap()
}

const SECRET: &[u8] = b"a benchmark hs256 secret, long enough for the key!";

/// A manager over a known HS256 key, with or without the verification cache (the lean path
/// is measured without), and a typical access token: session, roles, permission, tenant.
/// (The handler paths use the test kit's defaults: the cache is on there, as in a service,
/// and the token is the same on every request.)
fn token_fixture(verify_cache: bool) -> (TokenManager, String) {
    let key = JwtKey::hmac(JwtAlgorithm::HS256, SECRET, None).unwrap();
    manager_and_token(key, verify_cache)
}

/// A manager over `key` alone and a token it issued for a typical subject: session, roles,
/// permission, tenant.
fn manager_and_token(key: JwtKey, verify_cache: bool) -> (TokenManager, String) {
    let mut config = JwtConfig::default();
    if !verify_cache {
        config.verify_cache_entries = 0;
    }
    let tokens = TokenManager::new(
        KeySet::new(key).unwrap(),
        &config,
        Arc::new(ManualClock::new(1_800_000_000)),
    )
    .with_random(Arc::new(SeededRandom::new(0)));
    let subject = TokenSubject::access("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d10")
        .with_session("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d11")
        .with_roles(["editor", "viewer"])
        .with_permissions([tests::guarded::PERMISSION])
        .with_tenant("acme");
    let token = tokens.issue(&subject).unwrap().token;
    (tokens, token)
}

/// The algorithm a `verify_<alg>[_floor]` path name asks for.
fn public_algorithm(name: &str) -> JwtAlgorithm {
    match name.split('_').nth(1) {
        Some("eddsa") => JwtAlgorithm::EdDSA,
        Some("es256") => JwtAlgorithm::ES256,
        _ => JwtAlgorithm::RS256,
    }
}

/// An asymmetric key of `alg` (fresh), a manager over it without the verification cache,
/// a typical access token, and the raw floor's public key parsed beforehand.
fn public_key_fixture(alg: JwtAlgorithm) -> (TokenManager, String, ParsedPublicKey) {
    let (key, pem) = JwtKey::generate(alg).unwrap();
    let body: String = pem
        .expose_secret()
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).unwrap();
    let public = match alg {
        JwtAlgorithm::EdDSA => {
            let pair = signature::Ed25519KeyPair::from_pkcs8(&der).unwrap();
            ParsedPublicKey::new(&signature::ED25519, pair.public_key().as_ref())
        }
        JwtAlgorithm::ES256 => {
            let pair = signature::EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
            )
            .unwrap();
            ParsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                pair.public_key().as_ref(),
            )
        }
        _ => {
            let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).unwrap();
            ParsedPublicKey::new(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                pair.public_key().as_ref(),
            )
        }
    }
    .unwrap();
    let (tokens, token) = manager_and_token(key, false);
    (tokens, token, public)
}

/// A path with its fixtures built: each call runs the measured function once.
fn prepare(name: &str) -> Box<dyn FnMut()> {
    match name {
        "verify_hs256_floor" => {
            let (_, token) = token_fixture(false);
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
            Box::new(move || measure_verify_hs256_floor(&key, &token))
        }
        "verify_hs256" => {
            let (tokens, token) = token_fixture(false);
            Box::new(move || measure_verify(&tokens, &token))
        }
        "verify_hs256_jsonwebtoken" => {
            // What a hand-written middleware calls: jsonwebtoken 10 (aws-lc-rs backend), the
            // key built beforehand, the same token.
            let (_, token) = token_fixture(false);
            let key = DecodingKey::from_secret(SECRET);
            let mut validation = Validation::new(Algorithm::HS256);
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp", "sub"]);
            Box::new(move || measure_verify_jsonwebtoken(&key, &validation, &token))
        }
        "verify_hs256_cached" => {
            let (tokens, token) = token_fixture(true);
            assert!(tokens.verify_shared(&token, TokenType::Access).is_ok());
            Box::new(move || measure_verify_hs256_cached(&tokens, &token))
        }
        "verify_eddsa_floor" | "verify_es256_floor" | "verify_rs256_floor" => {
            let (_, token, public) = public_key_fixture(public_algorithm(name));
            Box::new(move || measure_verify_public_floor(&public, &token))
        }
        "verify_eddsa" | "verify_es256" | "verify_rs256" => {
            let (tokens, token, _) = public_key_fixture(public_algorithm(name));
            Box::new(move || measure_verify(&tokens, &token))
        }
        "sign_hs256" => {
            let (tokens, token) = token_fixture(false);
            Box::new(move || measure_sign_hs256(&tokens, &token))
        }
        "authz_check" => {
            let (roles, held) = (roles(), ["r5".to_owned()]);
            Box::new(move || measure_authz_check(&roles, &held, "res0.read"))
        }
        "totp_verify" => {
            let secret = TotpSecret::from_bytes(b"a 20-byte totp key!!").unwrap();
            let totp = Totp::new(&TotpSettings::new("Bench"), secret, "ada").unwrap();
            let now = 1_800_000_000;
            let code = totp.code_at(now);
            let last_step = totp.step_at(now) - 5;
            Box::new(move || measure_totp_verify(&totp, &code, now, last_step))
        }
        "handler_api_key" => {
            // The guarded handler of `handler_macro_guard`, with an API key of a stored user
            // (served from the verification cache) instead of a bearer token.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let kit = runtime.block_on(async { TestKit::new() });
            let key = runtime.block_on(api_key_fixture(&kit));
            let router = tests::guarded::routes(kit.module());
            let authorization = format!("ApiKey {key}");
            Box::new(move || measure_handler(&runtime, &router, "/guarded", &authorization))
        }
        handler => {
            let path = match handler {
                "handler_bare" => "/bare",
                "handler_macro_guard" => "/guarded",
                "handler_hand_written" => "/hand-written",
                "handler_hand_written_minimal" => "/hand-written-minimal",
                _ => panic!("unknown path {name}; one of {PATHS:?} or {TIMED_ONLY:?}"),
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let kit = runtime.block_on(async { TestKit::new() });
            let user = MockUser::new("0193a5e0-7b7c-7c52-9d4e-3f1c2b8a9d10")
                .with_roles(["editor", "viewer"])
                .with_permissions([tests::guarded::PERMISSION]);
            let authorization = format!("Bearer {}", kit.token(&user));
            let router = tests::guarded::routes(kit.module());
            Box::new(move || measure_handler(&runtime, &router, path, &authorization))
        }
    }
}

/// Times `names` interleaved: each round runs every path once (in an order that rotates from
/// round to round), so that a load spike on the shared machine hits all of them alike. Prints
/// the median time per iteration and the ratio to the first path.
fn time_interleaved(names: &[&str], rounds: usize) {
    let mut paths: Vec<_> = names.iter().map(|name| prepare(name)).collect();
    paths.iter_mut().for_each(|run| run());
    let mut samples = vec![Vec::with_capacity(rounds); names.len()];
    for round in 0..rounds {
        for k in 0..names.len() {
            let i = (round + k) % names.len();
            let start = std::time::Instant::now();
            paths[i]();
            samples[i].push(start.elapsed().as_nanos() as f64 / ITERATIONS as f64);
        }
    }
    let medians: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect();
    println!("| path | median ns per iteration | ratio to {} |", names[0]);
    println!("|---|---:|---:|");
    for (name, median) in names.iter().zip(&medians) {
        println!("| {name} | {median:.0} | {:.2}x |", median / medians[0]);
    }
}

fn main() {
    // `cargo bench` appends `--bench` to a harness-less benchmark's arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("--list") => PATHS.iter().for_each(|name| println!("{name}")),
        Some("--iterations") => println!("{ITERATIONS}"),
        Some("--time") => {
            let mut names: Vec<&str> = args[1..].iter().map(String::as_str).collect();
            let mut rounds = 31;
            if let Some(at) = names.iter().position(|a| *a == "--rounds") {
                rounds = names[at + 1].parse().expect("--rounds N");
                names.drain(at..=at + 1);
            }
            if names.is_empty() {
                names = PATHS.to_vec();
            }
            time_interleaved(&names, rounds);
        }
        Some(name) if !name.starts_with('-') => prepare(name)(),
        _ => PATHS.iter().for_each(|name| prepare(name)()),
    }
}
