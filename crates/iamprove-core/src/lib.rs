//! iamprove-core: the layer every other iamprove crate stands on, with neither a solver nor a
//! command line.
//!
//! * [`json`] and [`parse`] read policy text into the typed [`model`] (every error with its JSON
//!   path); [`literal`] holds the exact decimals, dates and IP networks conditions compare.
//! * [`eval`] is the concrete evaluator: the executable specification of IAM-SEMANTICS.md. It
//!   decides one [`request::Request`] against a [`scenario::Scenario`] (the policies in force).
//! * [`matching`] and [`automata`] implement the wildcard language; [`automata::partition`]
//!   splits a field's strings into the exact classes the symbolic layer reasons over.
//! * [`catalog`] is the embedded action catalog (built from `data/catalog.tsv` by `build.rs`),
//!   [`catalog_hint`] its use in descriptions, [`wellformed`] the ARN formats of an action.
//! * [`deadline`] is the process-wide time budget the CLI sets.
//!
//! Embedding: parse a policy with [`parse::parse_policy_text`], build a request and call
//! [`eval::evaluate`] (see `examples/embed_eval.rs` in the repository).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

pub mod automata;
pub mod catalog;
pub mod catalog_hint;
pub mod deadline;
pub mod errors;
pub mod eval;
pub mod fxhash;
pub mod json;
pub mod literal;
pub mod matching;
pub mod model;
pub mod parse;
pub mod request;
pub mod rules;
pub mod scenario;
pub mod verdict;
pub mod wellformed;
