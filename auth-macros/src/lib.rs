//! Procedural macros of the auth framework. Use them through `auth-axum`, which re-exports
//! them at the same version.
//!
//! The guard attributes, derives and `#[auth_module]` arrive with the declarative layer; this
//! crate is the place they live so that the runtime and the macros never skew.
