// One integration-test binary; modules are listed here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod account;
