//! iamprove: exact reasoning about AWS IAM policies.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

// The lower layers (crates/): re-exported under their old names, so `iamprove::eval`,
// `crate::query`, `crate::account::…` keep working in the commands, tests and benches.
pub use iamprove_account as account;
pub use iamprove_account::trust;
pub use iamprove_core::{
    automata, catalog, catalog_hint, deadline, errors, eval, json, literal, matching, model, parse,
    request, rules, scenario, verdict, wellformed,
};
pub use iamprove_symbolic::{query, slice, solver, symbolic, verify};

pub mod activity;
pub mod catalog_lint;
pub mod check;
pub mod cli;
pub mod diff;
pub mod gitdiff;
pub mod iac;

pub mod validate;
