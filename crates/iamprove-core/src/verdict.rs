//! Typed results shared by the commands: the verdict words and why an answer is missing.
//!
//! These are data, not presentation: the printers in `cli/` turn them into text, JSON and SARIF.
//! The JSON form of every type is its serde form, with the field names the reports have always
//! used.

use serde::Serialize;
use std::fmt;

/// The answer of a command or of one of its parts (an invariant, a changed file, a diff
/// direction). Serialized (and displayed) as its snake_case name: `no_widening`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An invariant holds: proved for every request (possibly under listed assumptions).
    Holds,
    /// An invariant is violated: a replayed counterexample exists.
    Violated,
    /// NEW allows a request OLD does not (a replayed finding exists).
    Widened,
    /// Everything NEW allows, OLD allows too (proved).
    NoWidening,
    /// OLD allows a request NEW does not (`--direction both`).
    Narrowed,
    /// Everything OLD allows, NEW allows too (proved; `--direction both`).
    NoNarrowing,
    /// No answer within the limits: never a pass.
    Unknown,
    /// The part could not be decided because of an input or internal error.
    Error,
}

impl Verdict {
    /// The verdict word, as printed and serialized.
    pub const fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Widened => "widened",
            Verdict::NoWidening => "no_widening",
            Verdict::Narrowed => "narrowed",
            Verdict::NoNarrowing => "no_narrowing",
            Verdict::Unknown => "unknown",
            Verdict::Error => "error",
        }
    }

    /// The exit status this verdict gives when it is a command's verdict (DESIGN.md): 0 holds /
    /// no widening, 1 violated / widened, 2 error, 3 unknown. A narrowing is information, not a
    /// failure: `diff --direction both` exits on its widening verdict, so `narrowed` is 0.
    pub const fn exit_code(self) -> u8 {
        match self {
            Verdict::Holds | Verdict::NoWidening | Verdict::Narrowed | Verdict::NoNarrowing => 0,
            Verdict::Violated | Verdict::Widened => 1,
            Verdict::Error => 2,
            Verdict::Unknown => 3,
        }
    }

    /// The verdict of one direction of a diff: `found` when there is a finding, else `unknown`
    /// when the search gave up, else `none` (a proof).
    pub fn of_search(has_findings: bool, gave_up: bool, found: Verdict, none: Verdict) -> Verdict {
        if has_findings {
            found
        } else if gave_up {
            Verdict::Unknown
        } else {
            none
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq<&str> for Verdict {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// The encoder and the evaluator disagree about a request the model is exact for: a bug in
/// iamprove, never a finding and never `unknown` (exit 2, with a request to report it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// What the evaluator said about the solver's request.
    pub why: String,
    /// Where the query was written (`--dump-smt`), as a suffix of the message, or empty.
    pub dumped: String,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "internal error: encoder and evaluator disagree: {}{}",
            self.why, self.dumped
        )
    }
}

/// Why a question has no answer: a limit (timeout, budget; the verdict is `unknown`, exit 3) or
/// an internal error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownReason {
    /// A solver timeout, a resource limit or refinement that did not converge.
    Limit(String),
    /// The encoder and the evaluator disagree.
    Internal(Disagreement),
}

impl UnknownReason {
    /// An internal error rather than a limit.
    pub fn is_internal(&self) -> bool {
        matches!(self, UnknownReason::Internal(_))
    }
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnknownReason::Limit(why) => f.write_str(why),
            UnknownReason::Internal(d) => d.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_serialize_as_their_names_and_map_to_exit_codes() {
        let all = [
            (Verdict::Holds, "holds", 0),
            (Verdict::Violated, "violated", 1),
            (Verdict::Widened, "widened", 1),
            (Verdict::NoWidening, "no_widening", 0),
            (Verdict::Narrowed, "narrowed", 0),
            (Verdict::NoNarrowing, "no_narrowing", 0),
            (Verdict::Unknown, "unknown", 3),
            (Verdict::Error, "error", 2),
        ];
        for (v, name, code) in all {
            assert_eq!(v.to_string(), name);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(name));
            assert_eq!(v.exit_code(), code, "{v}");
        }
    }

    #[test]
    fn an_internal_error_reads_as_before() {
        let d = Disagreement {
            why: "the evaluator denies".into(),
            dumped: String::new(),
        };
        let r = UnknownReason::Internal(d);
        assert!(r.is_internal());
        assert_eq!(
            r.to_string(),
            "internal error: encoder and evaluator disagree: the evaluator denies"
        );
        assert!(!UnknownReason::Limit("timeout".into()).is_internal());
    }
}
