// One integration-test binary; modules are listed here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod cli;
mod commands;
mod corpus;
mod eval_cases;
mod metamorphic;
mod props;
mod scenario_errors;
mod symbolic;
mod account;
