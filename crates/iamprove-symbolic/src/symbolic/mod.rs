//! Symbolic side: the term IR and the encoder that mirrors the evaluator.
pub mod encode;
pub mod term;
