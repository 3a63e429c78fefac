//! Support for testing services and backends built on the framework (feature `test-util`).
//!
//! | module | what it holds |
//! |---|---|
//! | [`conformance`] | the behaviour suite of every store trait, for backends of your own |

pub mod conformance;
