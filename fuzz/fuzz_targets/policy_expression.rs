//! The `#[require_policy("...")]` expression parser of auth-macros (a compile-time parser,
//! compiled in here from its source): never a panic or a stack overflow on any source text;
//! what it parses generates code.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unreachable_pub)]
#[path = "../../auth-macros/src/guard/policy.rs"]
mod policy;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match policy::parse(source) {
        Ok(expr) => {
            let _ = policy::query_params(&expr);
            let _ = policy::codegen(&expr, &quote::quote!(::auth_axum::__private));
        }
        Err(e) => assert!(e.offset <= source.len(), "offset {} past the end", e.offset),
    }
});
