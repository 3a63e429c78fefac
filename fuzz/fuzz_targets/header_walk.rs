//! The header: the fast walk reads only what the strict parse reads alike, and the strict
//! parse never accepts what jsonwebtoken's header type refuses. Never a panic.

#![no_main]

use auth_core::token::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let strict = fuzzing::header(json);
    if let Some((alg, kid)) = fuzzing::header_walk(json) {
        let (s_alg, s_kid, crit) = strict
            .as_ref()
            .unwrap_or_else(|e| panic!("walked what the strict parse refuses ({e}): {json}"));
        assert_eq!((&alg, &kid), (s_alg, s_kid), "{json}");
        assert!(!crit, "{json}");
    }
    if let Ok((_, _, false)) = strict {
        let theirs = serde_json::from_str::<jsonwebtoken::Header>(json);
        // jsonwebtoken knows fewer algorithms than a header may name; the names we accept
        // are all among its own.
        if let Err(e) = theirs {
            let ours_alg = fuzzing::header(json).map(|h| h.0).unwrap_or_default();
            let known = ["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"];
            assert!(
                !known.contains(&ours_alg.as_str()),
                "read a header jsonwebtoken refuses ({e}): {json}"
            );
        }
    }
});
