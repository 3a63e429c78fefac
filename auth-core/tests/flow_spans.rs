//! Each flow runs in an `auth.flow` span with the fields an operator filters on (flow,
//! outcome, user and session ids), and never a secret: no password, token or login name.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use auth_core::config::{AuthConfig, JwtAlgorithm};
use auth_core::principal::Principal;
use auth_core::service::{LoginRequest, RegisterRequest};
use auth_core::token::{JwtKey, KeySet, TokenType};
use auth_core::AuthService;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

const PASSWORD: &str = "correct horse battery staple";

type Fields = BTreeMap<String, String>;

/// Keeps the fields of every closed `auth.flow` span.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Fields>>>);

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "auth.flow" {
            return;
        }
        let mut fields = Fields::new();
        attrs.record(&mut Collect(&mut fields));
        ctx.span(id).unwrap().extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<Fields>() {
            values.record(&mut Collect(fields));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(fields) = ctx.span(&id).unwrap().extensions_mut().remove::<Fields>() {
            self.0.lock().unwrap().push(fields);
        }
    }
}

fn service(dir: &std::path::Path) -> AuthService {
    let mut config = AuthConfig::default();
    // The verification mail of the registration lands here.
    config.mail.outbox = dir.join("outbox");
    config.password.memory_kib = 1024;
    config.password.iterations = 1;
    let (key, refresh_secret) = JwtKey::generate(JwtAlgorithm::HS256).unwrap();
    AuthService::builder(config)
        .with_keys(KeySet::new(key).unwrap(), refresh_secret)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn every_flow_has_a_span_with_its_outcome_and_no_secret() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let dir = tempfile::tempdir().unwrap();
    let auth = service(dir.path());
    let user = auth
        .register(RegisterRequest::new("grace", "grace@example.com", PASSWORD))
        .await
        .unwrap();
    let wrong = auth
        .login(LoginRequest::new("grace", "not the password"))
        .await;
    assert!(wrong.is_err());
    let tokens = auth
        .login(LoginRequest::new("grace", PASSWORD))
        .await
        .unwrap();
    let refreshed = auth.refresh(&tokens.refresh_token).await.unwrap();
    let claims = auth
        .tokens()
        .verify(&refreshed.access_token, TokenType::Access)
        .unwrap();
    auth.logout(&Principal::from_claims(&claims), None)
        .await
        .unwrap();
    assert!(auth.refresh("no such token").await.is_err());

    let spans = capture.0.lock().unwrap().clone();
    let seen: Vec<(&str, &str)> = spans
        .iter()
        .map(|f| (f["flow"].as_str(), f["outcome"].as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("register", "ok"),
            ("login", "invalid_credentials"),
            ("login", "ok"),
            ("refresh", "ok"),
            ("logout", "ok"),
            ("refresh", "invalid_grant"),
        ]
    );
    let id = user.id.to_string();
    assert_eq!(spans[0].get("user_id"), Some(&id));
    assert!(!spans[1].contains_key("user_id"), "unknown on a failure");
    assert_eq!(spans[2].get("user_id"), Some(&id));
    assert_eq!(spans[2].get("session_id"), Some(&tokens.session_id));
    assert_eq!(spans[4].get("session_id"), Some(&tokens.session_id));
    let everything = format!("{spans:?}");
    for secret in [
        PASSWORD,
        "not the password",
        "grace",
        tokens.refresh_token.as_str(),
        tokens.access_token.as_str(),
        refreshed.refresh_token.as_str(),
    ] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
}
