//! iamprove: exact reasoning about AWS IAM policies.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
pub mod catalog;
