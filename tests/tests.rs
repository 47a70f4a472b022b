// One integration-test binary; modules are listed here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod account;
mod cli;
mod commands;
mod corpus;
mod eval_cases;
mod federated;
mod gitci;
mod iac;
mod metamorphic;
mod props;
mod sarif;
mod scenario_errors;
mod symbolic;
mod trust;
