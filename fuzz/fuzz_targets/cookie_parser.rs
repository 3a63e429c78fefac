//! The `Cookie` header parser: never a panic; a value found is a non-empty piece of one
//! header value, with no `;` in it.

#![no_main]

use auth_core::session::cookie::cookie_value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The name first (up to a newline), then header values, one per line.
    let (name, headers) = text.split_once('\n').unwrap_or(("session", text));
    let values: Vec<&str> = headers.split('\n').collect();
    if let Some(value) = cookie_value(values.iter().copied(), name) {
        assert!(!value.is_empty());
        assert!(!value.contains(';'));
        assert!(values.iter().any(|v| v.contains(value)));
    }
});
