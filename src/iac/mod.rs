//! Infrastructure as code: `diff --terraform-plan PLAN.json` and `diff --cloudformation OLD NEW`.
//!
//! Both front ends turn their input into [`Part`]s: one policy-bearing attribute of one resource,
//! with its state before and after the change. Every part is then compared exactly like
//! `iamprove diff` compares two documents ([`crate::diff::compare`]); a value that cannot be known
//! from the input (Terraform's "known after apply", a CloudFormation intrinsic function) makes its
//! part `unknown`, never a guess.

pub mod cloudformation;
pub mod terraform;
pub mod yaml;

use crate::cli::{Exit, Format};
use crate::diff::{compare, DiffOptions, Direction};
use crate::json::{Json, JsonPath};
use crate::model::{Policy, PolicyType};
use crate::query::Side;
use crate::scenario::{locate, Errors, InputError};
use serde_json::{json, Value};
use std::io::Write;

/// Which policy type a part holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fixed(PolicyType),
    /// `resource` when a statement on either side names a principal, else `identity`.
    Detect,
}

/// One policy document found in the input, with where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub json: Json,
    pub file: String,
    /// JSON path of the document inside `file` (prefix for parse errors).
    pub at: JsonPath,
    /// Label used in findings (`granted_by[].policy`).
    pub name: String,
}

/// The value of a policy attribute on one side of a change.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// No policy (the resource does not exist, or the attribute is not set).
    Absent,
    /// The documents (several for a set of inline policies; one otherwise).
    Known(Vec<Doc>),
    /// Not known from the input; the message says why.
    Unknown(String),
}

/// One policy-bearing attribute of one resource, before and after the change.
#[derive(Debug, Clone)]
pub struct Part {
    pub address: String,
    pub rtype: String,
    pub attribute: String,
    /// What happens to the resource (`create`, `update`, `delete`, `replace`, `no-op`, ...).
    pub action: String,
    pub kind: Kind,
    pub before: State,
    pub after: State,
    /// The attribute's text is the same on both sides: no comparison needed.
    pub unchanged: bool,
}

/// What the front ends hand over.
#[derive(Debug, Default)]
pub struct Input {
    pub parts: Vec<Part>,
    pub notes: Vec<String>,
}

/// The result for one part.
struct Report {
    part_index: usize,
    verdict: &'static str,
    /// Why the verdict is what it is (unknown reasons, one per side), for people.
    messages: Vec<String>,
    findings: Vec<Value>,
    narrowing: Option<&'static str>,
    notes: Vec<String>,
}

/// An empty policy: grants nothing.
fn empty_policy(kind: PolicyType, name: &str) -> Policy {
    Policy {
        name: name.to_owned(),
        kind,
        version: Some("2012-10-17".into()),
        id: None,
        statements: Vec::new(),
    }
}

/// The side a set of policies of one type stands for, as `diff` reads single documents
/// (`diff::side_from_json`). `None` is the absent policy: an identity or resource policy that
/// grants nothing, or, for SCPs and RCPs, no guardrail at all (everything passes).
fn side_of(kind: PolicyType, pols: Option<Vec<Policy>>, label: &str) -> Side {
    match kind {
        PolicyType::Identity => Side::Identity(pols.unwrap_or_default()),
        PolicyType::Resource | PolicyType::Trust => {
            let mut it = pols.unwrap_or_default().into_iter();
            let first = it.next().unwrap_or_else(|| empty_policy(kind, label));
            // several resource documents for one attribute do not occur; merge to be safe
            let merged = it.fold(first, |mut acc, p| {
                acc.statements.extend(p.statements);
                acc
            });
            Side::Resource(merged)
        }
        PolicyType::Scp | PolicyType::Rcp => {
            crate::query::guardrail_side(kind, pols.unwrap_or_default())
        }
    }
}

/// The policy type of a part, detected from both sides when not fixed.
fn kind_of(part: &Part) -> PolicyType {
    match part.kind {
        Kind::Fixed(k) => k,
        Kind::Detect => {
            let docs = [&part.before, &part.after];
            let resource = docs.iter().any(|s| match s {
                State::Known(ds) => ds
                    .iter()
                    .any(|d| crate::parse::detect_type(&d.json) == PolicyType::Resource),
                _ => false,
            });
            if resource {
                PolicyType::Resource
            } else {
                PolicyType::Identity
            }
        }
    }
}

fn parse_state(state: &State, kind: PolicyType, errs: &mut Errors) -> Option<Vec<Policy>> {
    let State::Known(docs) = state else {
        return None;
    };
    let mut out = Vec::new();
    for d in docs {
        match crate::parse::parse_policy(&d.json, kind, &d.name) {
            Ok(p) => out.push(p),
            Err(e) => errs.extend(locate(&d.file, &d.at, e)),
        }
    }
    Some(out)
}

/// Parse JSON text found inside a file (a policy stored as a string), located at `at`.
pub fn parse_embedded(text: &str, file: &str, at: &JsonPath) -> Result<Json, InputError> {
    crate::json::parse(text).map_err(|e| {
        InputError::new(
            file,
            Some(at.to_string()),
            format!(
                "the policy string is not valid JSON (line {}, column {} of the string): {}",
                e.line, e.column, e.message
            ),
        )
    })
}

/// Does a Terraform `after_unknown` subtree mark anything unknown?
pub fn any_true(j: &Json) -> bool {
    match j {
        Json::Bool(b) => *b,
        Json::Arr(a) => a.iter().any(any_true),
        Json::Obj(o) => o.iter().any(|(_, v)| any_true(v)),
        _ => false,
    }
}

/// Compare every part; print; the exit status follows the overall verdict.
pub fn run(input: Input, opts: &DiffOptions, format: Format) -> Exit {
    // parse everything first: bad input is an input error before any solving
    let mut errs: Errors = Vec::new();
    let mut parsed = Vec::new();
    for part in &input.parts {
        let kind = kind_of(part);
        let b = parse_state(&part.before, kind, &mut errs);
        let a = parse_state(&part.after, kind, &mut errs);
        parsed.push((kind, b, a));
    }
    if !errs.is_empty() {
        return crate::cli::report_errors(&errs);
    }
    let mut reports = Vec::new();
    for (i, (part, (kind, before, after))) in input.parts.iter().zip(parsed).enumerate() {
        let mut r = Report {
            part_index: i,
            verdict: "no_widening",
            messages: Vec::new(),
            findings: Vec::new(),
            narrowing: None,
            notes: Vec::new(),
        };
        let mut unknown: Vec<String> = Vec::new();
        for s in [&part.before, &part.after] {
            if let State::Unknown(m) = s {
                if !unknown.contains(m) {
                    unknown.push(m.clone());
                }
            }
        }
        let same_docs = match (&part.before, &part.after) {
            (State::Known(a), State::Known(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.json == y.json)
            }
            _ => false,
        };
        if part.unchanged || same_docs {
            r.messages.push("policy unchanged".into());
            if opts.direction == Direction::Both {
                r.narrowing = Some("no_narrowing");
            }
        } else if !unknown.is_empty() {
            r.verdict = "unknown";
            r.messages = unknown;
            if opts.direction == Direction::Both {
                r.narrowing = Some("unknown");
            }
        } else {
            let label = format!("{} {}", part.address, part.attribute);
            let old = side_of(kind, before, &format!("{label} (before: none)"));
            let new = side_of(kind, after, &format!("{label} (after: none)"));
            let widen = compare(&old, &new, opts, "widened");
            let narrow =
                (opts.direction == Direction::Both).then(|| compare(&new, &old, opts, "narrowed"));
            if let Some(e) = widen
                .internal
                .as_ref()
                .or(narrow.as_ref().and_then(|n| n.internal.as_ref()))
            {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: {}: {}: {e}\nerror: please report this with the input files",
                    part.address,
                    part.attribute
                );
                return Exit::Input;
            }
            r.verdict = if !widen.findings.is_empty() {
                "widened"
            } else if widen.unknown.is_some() {
                "unknown"
            } else {
                "no_widening"
            };
            if let Some(u) = &widen.unknown {
                r.messages.push(format!("solver gave up: {u}"));
            }
            r.findings = widen.findings;
            r.notes = widen.notes;
            if let Some(n) = narrow {
                r.narrowing = Some(if !n.findings.is_empty() {
                    "narrowed"
                } else if n.unknown.is_some() {
                    "unknown"
                } else {
                    "no_narrowing"
                });
                r.findings.extend(n.findings);
            }
            if r.messages.is_empty() {
                r.messages.extend(describe_sides(part, kind));
            }
        }
        reports.push(r);
    }
    let verdict = if reports.iter().any(|r| r.verdict == "widened") {
        "widened"
    } else if reports.iter().any(|r| r.verdict == "unknown") {
        "unknown"
    } else {
        "no_widening"
    };
    let mut notes = input.notes.clone();
    if input.parts.is_empty() {
        notes.push("no IAM-relevant resource changes".into());
    }
    let mut out = std::io::stdout().lock();
    let res = match format {
        Format::Json => {
            let changes: Vec<Value> = reports
                .iter()
                .map(|r| report_json(&input.parts[r.part_index], r))
                .collect();
            let v = json!({"verdict": verdict, "changes": changes, "notes": notes});
            serde_json::to_writer_pretty(&mut out, &v)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        Format::Text => print_text(&mut out, verdict, &input.parts, &reports, &notes),
        Format::Sarif => {
            // one log over every change: findings tagged with their resource address
            let mut all: Vec<Value> = Vec::new();
            let mut all_notes = notes.clone();
            for r in &reports {
                let address = &input.parts[r.part_index].address;
                for f in &r.findings {
                    let mut f = f.clone();
                    if let Some(s) = f
                        .get("summary")
                        .and_then(Value::as_str)
                        .map(|s| format!("{address}: {s}"))
                    {
                        f["summary"] = Value::String(s);
                    }
                    all.push(f);
                }
                all_notes.extend(
                    r.messages
                        .iter()
                        .filter(|_| r.verdict == "unknown")
                        .map(|m| format!("{address}: {m}")),
                );
            }
            crate::sarif::print(
                &mut out,
                &crate::sarif::diff_log(&all, verdict, None, &all_notes, "", ""),
            )
        }
    };
    if res.is_err() {
        return Exit::Input;
    }
    match verdict {
        "widened" => Exit::Violated,
        "unknown" => Exit::Unknown,
        _ => Exit::Ok,
    }
}

/// A short reading of a comparison against an absent side.
fn describe_sides(part: &Part, kind: PolicyType) -> Option<String> {
    let guard = matches!(kind, PolicyType::Scp | PolicyType::Rcp);
    match (&part.before, &part.after) {
        (State::Absent, _) if guard => {
            Some("new guardrail (compared against no guardrail: it can only restrict)".into())
        }
        (_, State::Absent) if guard => Some(
            "guardrail removed (compared against no guardrail: everything it blocked now passes)"
                .into(),
        ),
        (State::Absent, _) => {
            Some("new policy (compared against none: everything it allows is new)".into())
        }
        (_, State::Absent) => {
            Some("policy removed (narrowing: nothing is allowed by it any more)".into())
        }
        _ => None,
    }
}

fn report_json(part: &Part, r: &Report) -> Value {
    let mut v = json!({
        "address": part.address,
        "type": part.rtype,
        "attribute": part.attribute,
        "action": part.action,
        "policy_type": kind_of(part).name(),
        "verdict": r.verdict,
        "findings": r.findings,
    });
    if !r.messages.is_empty() {
        v["message"] = Value::String(r.messages.join("; "));
    }
    if let Some(n) = r.narrowing {
        v["narrowing"] = Value::String(n.into());
    }
    if !r.notes.is_empty() {
        v["notes"] = json!(r.notes);
    }
    v
}

fn print_text(
    out: &mut impl Write,
    verdict: &str,
    parts: &[Part],
    reports: &[Report],
    notes: &[String],
) -> std::io::Result<()> {
    let count = |v: &str| reports.iter().filter(|r| r.verdict == v).count();
    let tally = format!(
        "{} widened, {} unknown, {} without widening",
        count("widened"),
        count("unknown"),
        count("no_widening")
    );
    match verdict {
        "widened" => writeln!(out, "widened: at least one change widens access ({tally})")?,
        "unknown" => writeln!(out, "unknown: some changes could not be decided; none widens access otherwise ({tally}; this is not a pass)")?,
        _ => writeln!(out, "no_widening: no change widens access (proved; {tally})")?,
    }
    for r in reports {
        let p = &parts[r.part_index];
        writeln!(
            out,
            "\n{:<12} {}  {}  [{}]",
            r.verdict, p.address, p.attribute, p.action
        )?;
        for m in &r.messages {
            writeln!(out, "   {m}")?;
        }
        if let Some(n) = r.narrowing {
            writeln!(out, "   narrowing: {n}")?;
        }
        for (i, f) in r.findings.iter().enumerate() {
            crate::diff::print_finding(out, i, f, "   ")?;
        }
        for n in &r.notes {
            writeln!(out, "   note: {n}")?;
        }
    }
    if !notes.is_empty() {
        writeln!(out)?;
    }
    for n in notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}

/// `diff --terraform-plan PLAN.json`.
pub fn cmd_terraform(plan: &std::path::Path, opts: &DiffOptions, format: Format) -> Exit {
    match terraform::load(plan) {
        Ok(input) => run(input, opts, format),
        Err(e) => crate::cli::report_errors(&e),
    }
}

/// `diff --cloudformation OLD_TEMPLATE NEW_TEMPLATE`.
pub fn cmd_cloudformation(
    old: &std::path::Path,
    new: &std::path::Path,
    opts: &DiffOptions,
    format: Format,
) -> Exit {
    match cloudformation::load(old, new) {
        Ok(input) => run(input, opts, format),
        Err(e) => crate::cli::report_errors(&e),
    }
}
