//! The client's address, resolved once for every part that records or limits by it.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use auth_core::client::TrustedProxies;
use auth_core::events::origin::{self, RequestOrigin};
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::header::{FORWARDED, USER_AGENT};
use axum::http::request::Parts;
use axum::http::HeaderName;

use crate::AuthModule;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address: the socket peer, or, when the peer is one of
/// `AUTH__SERVER__TRUSTED_PROXIES`, the client the proxies' `Forwarded` or `X-Forwarded-For`
/// headers name ([`TrustedProxies::resolve`]). `None` when the server does not record
/// peers: serve with `into_make_service_with_connect_info::<SocketAddr>()`.
///
/// Sessions, lockout, rate limits and the audit log all take the address from here, so they
/// agree on who the client is.
///
/// ```
/// use auth_axum::ClientAddr;
///
/// async fn whoami(ClientAddr(addr): ClientAddr) -> String {
///     addr.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
/// }
/// # let _ = axum::Router::<auth_axum::AuthModule>::new().route("/whoami", axum::routing::get(whoami));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientAddr
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let module = AuthModule::from_ref(state);
        Ok(Self(client_addr(module.trusted_proxies(), parts)))
    }
}

/// Records each request's origin (socket peer, forwarding headers, `User-Agent`) for the
/// events its flows emit ([`auth_core::events::origin`]); needs no state, so the routers
/// [`AuthRouter`](crate::AuthRouter) builds carry it already. The client address is resolved
/// when an event is emitted, with the service's trusted proxies, as [`ClientAddr`] resolves it.
#[derive(Debug, Clone, Copy, Default)]
pub struct OriginLayer;

impl<S> tower::Layer<S> for OriginLayer {
    type Service = OriginService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginService { inner }
    }
}

/// The service of [`OriginLayer`].
#[derive(Debug, Clone)]
pub struct OriginService<S> {
    inner: S,
}

impl<S> tower::Service<axum::extract::Request> for OriginService<S>
where
    S: tower::Service<axum::extract::Request> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::extract::Request) -> Self::Future {
        let headers = request.headers();
        let joined = |name: &HeaderName| {
            let values: Vec<&str> = headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        };
        let origin = RequestOrigin::new(
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip()),
            joined(&FORWARDED),
            joined(&X_FORWARDED_FOR),
            joined(&USER_AGENT),
        );
        Box::pin(origin::scope(origin, self.inner.call(request)))
    }
}

/// The client's address of a request (see [`ClientAddr`]).
#[must_use]
pub fn client_addr(proxies: &TrustedProxies, parts: &Parts) -> Option<IpAddr> {
    let ConnectInfo(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>()?;
    let peer = peer.ip();
    if !proxies.contains(peer) {
        return Some(auth_core::client::canonical(peer));
    }
    // Every occurrence of a header counts, in order (RFC 9110 section 5.3).
    let joined = |name: &HeaderName| {
        let values: Vec<&str> = parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    Some(proxies.resolve(
        peer,
        joined(&FORWARDED).as_deref(),
        joined(&X_FORWARDED_FOR).as_deref(),
    ))
}
