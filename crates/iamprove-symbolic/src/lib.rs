//! iamprove-symbolic: questions over *all* requests.
//!
//! * [`symbolic`]: the term IR ([`symbolic::term`]) and the encoder ([`symbolic::encode`]) that
//!   mirrors `iamprove_core::eval` function by function;
//! * [`solver`]: terms to Z3 and models back to plain data; the only module of the workspace
//!   that uses Z3 (most queries are decided by its built-in finite search, and Z3 is loaded
//!   only when one is not);
//! * [`z3lib`]: the part of Z3's C API that [`solver`] uses, loaded on first use (the only
//!   `unsafe` code of the workspace);
//! * [`query`]: sides (identity, resource, scenario), prepare, solve, and turn a model into a
//!   concrete request that the evaluator replays before anyone sees it;
//! * [`slice`](mod@slice): the statements a widening question needs (a policy change touches a few);
//! * [`verify`]: the properties (no widening, invariant holds), each defined once, with a typed
//!   outcome (proved, replayed counterexample, unknown, internal disagreement).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

// The core's modules at this crate's root, so `crate::eval::…` paths read as before the split.
pub(crate) use iamprove_core::{
    automata, catalog, catalog_hint, deadline, eval, literal, matching, model, parse, request,
    rules, scenario, verdict, wellformed,
};

pub mod query;
pub mod slice;
pub mod solver;
pub mod symbolic;
pub mod verify;
pub mod z3lib;
