//! iamprove: exact reasoning about AWS IAM policies.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod account;
pub mod json;
pub mod literal;
pub mod model;
pub mod parse;
pub mod eval;
pub mod matching;
pub mod request;
pub mod scenario;
pub mod cli;
pub mod validate;
