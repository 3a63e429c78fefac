//! The claims fast path reads only what serde_json reads alike. Never a panic.

#![no_main]

use auth_core::token::{fuzzing, Claims};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(fast) = fuzzing::claims_fast_path(payload) {
        let general = serde_json::from_str::<Claims>(payload)
            .unwrap_or_else(|e| panic!("read what serde_json refuses ({e}): {payload}"));
        assert_eq!(fast, general, "{payload}");
    }
});
