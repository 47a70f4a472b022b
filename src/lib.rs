//! iamprove: exact reasoning about AWS IAM policies.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod account;
pub mod activity;
pub mod automata;
pub mod catalog;
pub mod catalog_hint;
pub mod catalog_lint;
pub mod check;
pub mod cli;
pub mod deadline;
pub mod diff;
pub mod eval;
pub mod gitdiff;
pub mod iac;
pub mod json;
pub mod literal;
pub mod matching;
pub mod model;
pub mod parse;
pub mod query;
pub mod request;
pub mod scenario;
pub mod solver;
pub mod symbolic;
pub mod trust;
pub mod validate;
pub mod verdict;
pub mod wellformed;
