//! Where a request came from, for the events its flows emit: the HTTP adapter records the
//! socket peer, the forwarding headers and the `User-Agent` around each request ([`scope`]),
//! and the extractor that authenticates it notes the principal ([`note_principal`]); the
//! [`EventHub`](super::EventHub) resolves the client address with the configured trusted
//! proxies when an event is emitted. Outside a scope (a flow called in process) events carry
//! no circumstances.
//!
//! ```
//! use auth_core::events::origin::{self, RequestOrigin};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let request = RequestOrigin::new(Some("10.0.0.7".parse().unwrap()), None, None, Some("curl/8".into()));
//! let claims: auth_core::Claims = serde_json::from_value(serde_json::json!({
//!     "sub": "user-1", "sid": "session-1", "exp": 2, "iat": 1, "nbf": 1, "jti": "j", "typ": "access",
//! })).unwrap();
//! origin::scope(request, async {
//!     origin::note_principal(&std::sync::Arc::new(claims));
//!     let current = origin::current().unwrap();
//!     assert_eq!(current.user_agent(), Some("curl/8"));
//!     assert_eq!(current.principal(), Some(("user-1".to_owned(), Some("session-1".to_owned()))));
//! })
//! .await;
//! assert!(origin::current().is_none());
//! # }
//! ```

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::client::TrustedProxies;
use crate::token::Claims;

tokio::task_local! {
    static ORIGIN: Arc<RequestOrigin>;
}

/// The origin of one request; see the [module documentation](self).
#[derive(Debug, Default)]
pub struct RequestOrigin {
    peer: Option<IpAddr>,
    forwarded: Option<String>,
    x_forwarded_for: Option<String>,
    user_agent: Option<String>,
    /// The authenticated claims, once an extractor noted them.
    principal: Mutex<Option<Arc<Claims>>>,
}

/// The longest `User-Agent` kept.
const MAX_USER_AGENT: usize = 256;

impl RequestOrigin {
    /// A request from `peer` with these `Forwarded` and `X-Forwarded-For` values (every
    /// occurrence joined with `,`) and `User-Agent`.
    #[must_use]
    pub fn new(
        peer: Option<IpAddr>,
        forwarded: Option<String>,
        x_forwarded_for: Option<String>,
        user_agent: Option<String>,
    ) -> Self {
        Self {
            peer,
            forwarded,
            x_forwarded_for,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
            principal: Mutex::new(None),
        }
    }

    /// The client address, resolved through `proxies` (see [`TrustedProxies::resolve`]).
    #[must_use]
    pub fn client_ip(&self, proxies: &TrustedProxies) -> Option<IpAddr> {
        let peer = self.peer?;
        Some(proxies.resolve(
            peer,
            self.forwarded.as_deref(),
            self.x_forwarded_for.as_deref(),
        ))
    }

    /// The `User-Agent`.
    #[must_use]
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// The authenticated user and session, when noted.
    #[must_use]
    pub fn principal(&self) -> Option<(String, Option<String>)> {
        self.principal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|claims| (claims.sub.clone(), claims.sid.clone()))
    }
}

/// Runs `future` as the request `origin`: events its flows emit carry it.
pub async fn scope<F: Future>(origin: RequestOrigin, future: F) -> F::Output {
    ORIGIN.scope(Arc::new(origin), future).await
}

/// Runs `future` with the origin of the current request, if any (for work a request hands
/// to a task of its own).
pub async fn inherit<F: Future>(origin: Option<Arc<RequestOrigin>>, future: F) -> F::Output {
    match origin {
        Some(origin) => ORIGIN.scope(origin, future).await,
        None => future.await,
    }
}

/// The current request's origin, inside a [`scope`].
#[must_use]
pub fn current() -> Option<Arc<RequestOrigin>> {
    ORIGIN.try_with(Arc::clone).ok()
}

/// Notes whose verified `claims` authenticate the current request (does nothing outside a
/// [`scope`]; inside, a reference count, no copy).
pub fn note_principal(claims: &Arc<Claims>) {
    let _ = ORIGIN.try_with(|origin| {
        *origin
            .principal
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(claims));
    });
}
