// One integration-test binary; modules are listed here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod account;
mod activity;
mod arn;
mod cli;
mod commands;
mod corpus;
mod docs;
mod eval_cases;
mod federated;
mod gitci;
mod iac;
mod layers;
mod limits;
mod metamorphic;
mod props;
mod sarif;
mod scenario_errors;
mod snapshots;
mod soundness;
mod symbolic;
mod trust;
mod variables;
