//! The suite of [`RateLimiterBackend`].

use std::time::Duration;

use crate::rate_limit::{Quota, RateLimiterBackend};

/// [`RateLimiterBackend`]: a burst of the quota, then refusals saying when to come back; keys
/// and quota names count apart.
pub async fn rate_limiter(backend: &dyn RateLimiterBackend) {
    let limiter = backend.limiter("conformance", Quota::per_minute(3));
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let decision = limiter.check("10.0.0.1").await.unwrap();
        assert!(decision.allowed, "{decision:?}");
        assert!(
            decision.reset_after <= Duration::from_secs(60),
            "{decision:?}"
        );
        remaining.push(decision.remaining);
    }
    assert_eq!(remaining, [2, 1, 0], "the burst counts down");
    let refused = limiter.check("10.0.0.1").await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    assert!(
        refused.retry_after > Duration::from_secs(15)
            && refused.retry_after <= Duration::from_secs(20),
        "one request's allowance comes back after 20 s: {refused:?}"
    );
    assert!(
        !limiter.check("10.0.0.1").await.unwrap().allowed,
        "a refusal is not counted, but does not help"
    );
    assert!(
        limiter.check("10.0.0.2").await.unwrap().allowed,
        "keys count apart"
    );
    let other = backend.limiter("conformance-other", Quota::per_minute(3));
    assert!(
        other.check("10.0.0.1").await.unwrap().allowed,
        "quota names count apart"
    );
}
