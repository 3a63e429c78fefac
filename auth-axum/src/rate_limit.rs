//! Rate limits over HTTP: the per-address quotas of the built-in route groups (the
//! [`PerIp`] extractor the ready routes take), a [`RateLimitLayer`] for a service's own
//! routes, and the `RateLimit-Policy` / `RateLimit` headers of the IETF httpapi draft
//! (`draft-ietf-httpapi-ratelimit-headers`).

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::client::TrustedProxies;
use auth_core::rate_limit::{NamedLimiter, Quota, RateLimitStatus, RouteGroup, Scope};
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::{client_addr, AuthModule, Problem};

static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Adds `RateLimit-Policy: "<name>";q=<limit>;w=<seconds>` and
/// `RateLimit: "<name>";r=<remaining>;t=<seconds to full>` for `status`.
pub fn insert_headers(status: &RateLimitStatus, headers: &mut HeaderMap) {
    let policy = format!(
        "\"{}\";q={};w={}",
        status.policy,
        status.quota.limit(),
        status.quota.period().as_secs()
    );
    let state = format!(
        "\"{}\";r={};t={}",
        status.policy,
        status.decision.remaining,
        status.reset_seconds()
    );
    for (name, value) in [(&RATELIMIT_POLICY, policy), (&RATELIMIT, state)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name.clone(), value);
        }
    }
}

/// The client address as a rate-limit key: the address, or `unknown` when the server does not
/// record peers.
fn ip_key(proxies: &TrustedProxies, parts: &Parts) -> String {
    let ip = client_addr(proxies, parts).map(|ip| ip.to_string());
    auth_core::client::client_key(ip.as_deref()).to_owned()
}

/// A group of the built-in routes, as a type ([`PerIp<Login>`]).
pub trait QuotaGroup: Send + Sync + 'static {
    /// The group.
    const GROUP: RouteGroup;
}

macro_rules! groups {
    ($($name:ident),*) => {$(
        #[doc = concat!("The `", stringify!($name), "` routes' quotas (`RouteGroup::", stringify!($name), "`).")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl QuotaGroup for $name {
            const GROUP: RouteGroup = RouteGroup::$name;
        }
    )*};
}

groups!(Login, Register, Password, Verify, Refresh, Mfa);

/// Counts the request against the per-address quota of the group `G`
/// (`AUTH__RATE_LIMIT__<GROUP>__PER_IP`), refusing it with 429 `rate_limited`, `Retry-After`
/// and the `RateLimit` headers when the quota is spent. The built-in routes take it first.
#[derive(Debug, Clone, Copy)]
pub struct PerIp<G>(PhantomData<G>);

impl<S, G> FromRequestParts<S> for PerIp<G>
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
    G: QuotaGroup,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let module = AuthModule::from_ref(state);
        let key = ip_key(module.trusted_proxies(), parts);
        module
            .service()
            .rate_limits()
            .check(G::GROUP, Scope::Ip, &key)
            .await?;
        Ok(Self(PhantomData))
    }
}

/// A per-address quota on a service's own routes, counted where the auth routes' quotas are
/// (in Redis when instances share it): refuses with 429 `rate_limited` and `Retry-After`, and
/// adds the `RateLimit-Policy` / `RateLimit` headers to every answer.
///
/// ```
/// use auth_axum::rate_limit::RateLimitLayer;
/// use auth_axum::core::rate_limit::Quota;
/// # async fn run(module: auth_axum::AuthModule) {
/// let search = axum::Router::<()>::new()
///     .route("/search", axum::routing::get(|| async { "results" }))
///     .layer(RateLimitLayer::per_ip(&module, "search", Quota::per_minute(30)));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: Arc<NamedLimiter>,
    proxies: Arc<TrustedProxies>,
}

impl RateLimitLayer {
    /// `quota` per client address, named `name` in the headers (and in Redis's keys).
    #[must_use]
    pub fn per_ip(module: &AuthModule, name: &str, quota: Quota) -> Self {
        Self {
            limiter: Arc::new(module.service().rate_limits().limiter(name, quota)),
            proxies: Arc::new(module.trusted_proxies().clone()),
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of a [`RateLimitLayer`].
#[derive(Debug, Clone)]
pub struct RateLimitService<S> {
    inner: S,
    layer: RateLimitLayer,
}

impl<S> Service<Request> for RateLimitService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone that was polled ready serves this request (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let key = ip_key(&layer.proxies, &parts);
            let status = match layer.limiter.check(&key).await {
                Ok(status) => status,
                Err(refused) => return Ok(Problem::from(refused).into_response()),
            };
            let mut response = inner.call(Request::from_parts(parts, body)).await?;
            insert_headers(&status, response.headers_mut());
            Ok(response)
        })
    }
}
