//! Compile-time behaviour of the macros, through the public facade: what compiles, and the
//! exact errors for misuse (`TRYBUILD=overwrite cargo test -p auth-axum --test ui` refreshes
//! the `.stderr` files after a deliberate change).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/guard/pass/*.rs");
    t.compile_fail("tests/ui/guard/fail/*.rs");
    t.pass("tests/ui/derive/pass/*.rs");
    t.compile_fail("tests/ui/derive/fail/*.rs");
    t.pass("tests/ui/module/pass/*.rs");
    t.compile_fail("tests/ui/module/fail/*.rs");
}
