//! Infrastructure as code: `diff --terraform-plan PLAN.json` and `diff --cloudformation OLD NEW`.
//!
//! Both front ends turn their input into [`Part`]s: one policy-bearing attribute of one resource,
//! with its state before and after the change. Every part is then compared exactly like
//! `iamprove diff` compares two documents ([`crate::diff::compare`]); a value that cannot be known
//! from the input (Terraform's "known after apply", a CloudFormation intrinsic function) makes its
//! part `unknown`, never a guess.

pub mod bounds;
pub mod cloudformation;
pub mod coverage;
pub mod managed;
pub mod terraform;
pub mod yaml;

use crate::diff::{compare, DiffOptions, Direction, Finding, GrantRef};
use crate::json::{Json, JsonPath};
use crate::model::{Policy, PolicyType};
use crate::query::Side;
use crate::scenario::{locate, Errors, InputError};
use crate::verdict::Verdict;
use serde_json::Value;

/// Which policy type a part holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fixed(PolicyType),
    /// `resource` when a statement on either side names a principal, else `identity`.
    Detect,
    /// A permissions boundary (identity policy grammar): absent means no boundary, so removing
    /// one widens and adding one never does.
    Boundary,
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
    /// A verdict decided without comparing policies (`not analysed`, a public access block that
    /// only tightens, ...), with its reason.
    pub decided: Option<(Verdict, String)>,
    /// Where the resource is: file and JSON path (for SARIF locations).
    pub location: Option<(String, JsonPath)>,
}

impl Part {
    /// A part compared from its two states.
    pub fn new(
        address: &str,
        rtype: &str,
        attribute: &str,
        action: &str,
        kind: Kind,
        before: State,
        after: State,
    ) -> Part {
        Part {
            address: address.to_owned(),
            rtype: rtype.to_owned(),
            attribute: attribute.to_owned(),
            action: action.to_owned(),
            kind,
            before,
            after,
            unchanged: false,
            decided: None,
            location: None,
        }
    }

    /// This part with every known document, on both sides, rewritten by `f` (other fields kept).
    fn map_docs(&self, f: impl Fn(&Json) -> Json) -> Part {
        let side = |s: &State| match s {
            State::Known(ds) => State::Known(
                ds.iter()
                    .map(|d| Doc {
                        json: f(&d.json),
                        ..d.clone()
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        Part {
            before: side(&self.before),
            after: side(&self.after),
            ..self.clone()
        }
    }

    /// A part whose verdict is decided without a comparison.
    pub fn decided(
        address: &str,
        rtype: &str,
        attribute: &str,
        action: &str,
        verdict: Verdict,
        message: String,
    ) -> Part {
        let mut p = Part::new(
            address,
            rtype,
            attribute,
            action,
            Kind::Fixed(PolicyType::Identity),
            State::Absent,
            State::Absent,
        );
        p.decided = Some((verdict, message));
        p
    }
}

/// What the front ends hand over.
#[derive(Debug, Default)]
pub struct Input {
    pub parts: Vec<Part>,
    pub notes: Vec<String>,
}

/// The result for one part.
pub struct Report {
    pub part_index: usize,
    pub verdict: Verdict,
    /// Why the verdict is what it is (unknown reasons, one per side), for people.
    pub messages: Vec<String>,
    pub findings: Vec<Finding>,
    pub narrowing: Option<Verdict>,
    pub notes: Vec<String>,
    /// When the verdict depends on unresolved values: the values for which the change widens
    /// (with the replayed finding) and, when found, values for which it provably does not.
    pub witness: Option<Value>,
}

/// The report of `diff --terraform-plan` / `--cloudformation`: one [`Report`] per part.
pub struct IacReport {
    /// `widened`, `unknown` or `no_widening`.
    pub verdict: Verdict,
    pub parts: Vec<Part>,
    pub reports: Vec<Report>,
    pub notes: Vec<String>,
}

/// Why there is no report.
pub enum IacError {
    /// Located input errors (exit 2).
    Input(Errors),
    /// An internal error while comparing a part (exit 2, to be reported).
    Internal(String),
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
pub fn kind_of(part: &Part) -> PolicyType {
    match part.kind {
        Kind::Fixed(k) => k,
        Kind::Boundary => PolicyType::Identity,
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

/// The documents of one side as JSON (`None`: absent).
fn side_docs(state: &State) -> Option<Vec<Json>> {
    match state {
        State::Known(ds) => Some(ds.iter().map(|d| d.json.clone()).collect()),
        _ => None,
    }
}

/// Parse (bounded) documents; documents without statements grant nothing and are left out.
/// A parse error is located at the document it came from.
fn parse_docs(
    docs: &Option<Vec<Json>>,
    from: &State,
    kind: PolicyType,
    errs: &mut Errors,
) -> Option<Vec<Policy>> {
    let docs = docs.as_ref()?;
    let originals: &[Doc] = match from {
        State::Known(ds) => ds,
        _ => &[],
    };
    let mut out = Vec::new();
    for (i, j) in docs.iter().enumerate() {
        if bounds::statement_count(j) == 0 && j.get("Statement").is_some() {
            continue;
        }
        let (name, file, at) = originals
            .get(i)
            .map(|d| (d.name.clone(), d.file.clone(), d.at.clone()))
            .unwrap_or_default();
        match crate::parse::parse_policy(j, kind, &name) {
            Ok(p) => out.push(p),
            Err(e) => errs.extend(locate(&file, &at, e)),
        }
    }
    Some(out)
}

/// The side a set of documents stands for.
/// Located input errors as one message.
fn joined(errs: &Errors) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn side_for(
    part: &Part,
    kind: PolicyType,
    docs: &Option<Vec<Json>>,
    from: &State,
    label: &str,
    errs: &mut Errors,
) -> Side {
    let pols = parse_docs(docs, from, kind, errs);
    if part.kind == Kind::Boundary {
        let mut sc = crate::scenario::Scenario::empty();
        sc.identity_policies = crate::query::allow_all_policy().into_iter().collect();
        sc.permissions_boundary = pols.map(|ps| {
            let mut it = ps.into_iter();
            let first = it.next().unwrap_or_else(|| empty_policy(kind, label));
            it.fold(first, |mut acc, p| {
                acc.statements.extend(p.statements);
                acc
            })
        });
        return Side::Scenario(sc);
    }
    side_of(kind, pols, label)
}

/// Apply `f` to every document of a side.
fn map_docs(
    docs: &Option<Vec<Json>>,
    f: impl Fn(&Json) -> Result<Json, String>,
) -> Result<Option<Vec<Json>>, String> {
    docs.as_ref()
        .map(|ds| ds.iter().map(&f).collect::<Result<Vec<_>, _>>())
        .transpose()
}

/// One side's documents: lower bound, upper bound, generic instance, and the documents with
/// their markers (`None`: absent).
type Bounded<'a> = (
    &'a Option<Vec<Json>>,
    &'a Option<Vec<Json>>,
    &'a Option<Vec<Json>>,
    &'a Option<Vec<Json>>,
);

/// The outcome of comparing one part.
struct Outcome {
    verdict: Verdict,
    messages: Vec<String>,
    findings: Vec<Finding>,
    narrowing: Option<Verdict>,
    notes: Vec<String>,
    witness: Option<Value>,
}

/// One check: what `gain` allows that `base` does not, with the two bounds when values are
/// unresolved (see `bounds`): `Ok(true)` a widening (findings added), `Ok(false)` none, `Err`
/// undecided with a reason.
#[allow(clippy::too_many_arguments)]
fn check_pair(
    part: &Part,
    kind: PolicyType,
    base: Bounded,
    gain: Bounded,
    marked: bool,
    opts: &DiffOptions,
    label: &str,
    out: &mut Outcome,
) -> Result<Result<bool, String>, String> {
    // base: (lower, upper); gain: (lower, upper)
    let mut errs = Vec::new();
    let b_lo = side_for(
        part,
        kind,
        base.0,
        &part.before,
        &format!("{label} (before: none)"),
        &mut errs,
    );
    let g_up = side_for(
        part,
        kind,
        gain.1,
        &part.after,
        &format!("{label} (after: none)"),
        &mut errs,
    );
    if !errs.is_empty() {
        return Err(joined(&errs));
    }
    let first = compare(&b_lo, &g_up, opts, "widened");
    if let Some(e) = first.internal {
        return Err(format!("internal: {e}"));
    }
    out.notes.extend(first.notes);
    if first.findings.is_empty() {
        return Ok(match first.unknown {
            Some(u) => Err(format!("solver gave up: {u}")),
            None => Ok(false),
        });
    }
    if !marked {
        out.findings.extend(first.findings);
        return Ok(Ok(true));
    }
    // a widening for some value: is there one for every value?
    let b_up = side_for(
        part,
        kind,
        base.1,
        &part.before,
        &format!("{label} (before: none)"),
        &mut errs,
    );
    let g_lo = side_for(
        part,
        kind,
        gain.0,
        &part.after,
        &format!("{label} (after: none)"),
        &mut errs,
    );
    if !errs.is_empty() {
        return Err(joined(&errs));
    }
    let second = compare(&b_up, &g_lo, opts, "widened");
    if let Some(e) = second.internal {
        return Err(format!("internal: {e}"));
    }
    if !second.findings.is_empty() {
        out.findings.extend(second.findings);
        return Ok(Ok(true));
    }
    // the same generic value on both sides (one that equals nothing else in the policies)
    let b_t = side_for(
        part,
        kind,
        base.2,
        &part.before,
        &format!("{label} (before: none)"),
        &mut errs,
    );
    let g_t = side_for(
        part,
        kind,
        gain.2,
        &part.after,
        &format!("{label} (after: none)"),
        &mut errs,
    );
    if errs.is_empty() {
        let third = compare(&b_t, &g_t, opts, "widened");
        if let Some(e) = third.internal {
            return Err(format!("internal: {e}"));
        }
        // nothing before and no Deny after: substituting any value for the generic one keeps
        // every Allow match (the marked patterns match the same request parts), so the
        // widening holds for every value
        let empty_base = base
            .2
            .as_ref()
            .is_none_or(|ds| ds.iter().all(|d| bounds::statement_count(d) == 0));
        let no_deny = gain
            .2
            .iter()
            .flatten()
            .all(|d| bounds::denies_as_allows(d).is_none());
        if !third.findings.is_empty()
            && (empty_base || base_never_allows(part, kind, base.3, &third.findings[0]))
            && no_deny
            && kind != PolicyType::Scp
            && kind != PolicyType::Rcp
            && part.kind != Kind::Boundary
        {
            out.findings.extend(third.findings);
            return Ok(Ok(true));
        }
        if let Some(f) = third.findings.first() {
            if out.witness.is_none() {
                out.witness = Some(serde_json::json!({ "finding": f }));
            }
            return Ok(Err(format!(
                "generic:{} (request {})",
                f.summary, f.request
            )));
        }
    }
    Ok(Err(match second.unknown {
        Some(u) => format!("solver gave up: {u}"),
        None => "depends".into(),
    }))
}

/// The part with every unresolved value (marker) replaced by a policy variable shared by both
/// sides (`bounds::to_variables`). `None` when the part has no marker, or one stands where a
/// variable is not substituted.
fn with_variables(part: &Part) -> Option<Part> {
    let marked = [&part.before, &part.after]
        .iter()
        .any(|s| matches!(s, State::Known(ds) if ds.iter().any(|d| bounds::has_mark(&d.json))));
    if !marked {
        return None;
    }
    let conv = |s: &State| -> Option<State> {
        match s {
            State::Known(ds) => ds
                .iter()
                .map(|d| {
                    Some(Doc {
                        json: bounds::to_variables(&d.json)?,
                        ..d.clone()
                    })
                })
                .collect::<Option<Vec<_>>>()
                .map(State::Known),
            other => Some(other.clone()),
        }
    };
    Some(Part {
        before: conv(&part.before)?,
        after: conv(&part.after)?,
        ..part.clone()
    })
}

/// Does OLD deny the generic finding `f` for every value of the unresolved values, wherever
/// they put the request's resource and context? Sufficient: the generic values occur only in
/// the request's resource and context values (not in its principal or action), and OLD's upper
/// bound (`base_up`: every marked pattern starred, marked Deny statements dropped) with its Deny
/// statements dropped, every Allow statement on every resource (`bounds::allows_anywhere`) and
/// without conditions on the context keys holding a generic value still does not allow it:
/// that policy allows at least what OLD allows for any value, and its decision does not depend
/// on the parts that move with the values. Used with the generic-value widening of `check_pair`, whose
/// NEW side grants the request for every value.
fn base_never_allows(
    part: &Part,
    kind: PolicyType,
    base_marked: &Option<Vec<Json>>,
    f: &Finding,
) -> bool {
    let mut names = std::collections::BTreeSet::new();
    for d in side_docs(&part.before)
        .iter()
        .chain(side_docs(&part.after).iter())
        .flatten()
    {
        bounds::marks(d, &mut names);
    }
    // tokens that are not generic (`aws`, `amazonaws.com`) occur everywhere
    if names.is_empty()
        || names
            .iter()
            .any(|n| n == "AWS::Partition" || n == "AWS::URLSuffix")
    {
        return false;
    }
    let req = &f.request;
    let tokens: Vec<String> = names.iter().map(|n| bounds::token(n)).collect();
    let outside = format!("{} {}", req["principal"], req["action"]);
    if tokens.iter().any(|t| outside.contains(t.as_str())) {
        return false;
    }
    // context keys whose value holds a generic value move with it: OLD's conditions on them
    // are dropped (its Allow statements then apply at least as often)
    let moving: Vec<String> = req["context"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| {
            let v = v.to_string();
            tokens.iter().any(|t| v.contains(t.as_str()))
        })
        .map(|(k, _)| k.to_lowercase())
        .collect();
    let Some(docs) = base_marked else {
        // no policy before: it allows nothing (guardrail kinds never come here)
        return true;
    };
    let Ok(j) = crate::json::parse(&req.to_string()) else {
        return false;
    };
    let Ok(r) = crate::scenario::parse_request(&j, "finding") else {
        return false;
    };
    // a condition on a key the request does not carry (its context with the keys the
    // evaluator derives) decides the same for every value compared with it: kept, with the
    // generic values; every other marked element is bounded from above
    let absent = |k: &str| {
        let k = k.to_lowercase();
        !r.context.contains_key(&k) && !moving.contains(&k)
    };
    let mut anywhere = Vec::new();
    for d in docs {
        let Ok(up) = bounds::bound(&bounds::instantiate_conditions_on(d, &absent), true) else {
            return false;
        };
        anywhere.push(bounds::without_condition_keys(
            &bounds::allows_anywhere(&up),
            &moving,
        ));
    }
    let mut errs = Vec::new();
    let side = side_for(
        part,
        kind,
        &Some(anywhere),
        &part.before,
        "OLD on any resource",
        &mut errs,
    );
    if !errs.is_empty() {
        return false;
    }
    !crate::query::allows(&side, &r)
}

/// `name = "value"` pairs for messages.
fn shown(vs: &std::collections::BTreeMap<String, String>) -> String {
    vs.iter()
        .map(|(n, v)| format!("`{n}` = {}", Value::String(v.clone())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value each unresolved expression takes in the generic instance (`bounds::instantiate`):
/// its ARN-shaped form where it stands as a whole value, else its generic token.
fn generic_values(
    part: &Part,
    names: &std::collections::BTreeSet<String>,
) -> std::collections::BTreeMap<String, String> {
    let docs: Vec<Json> = side_docs(&part.before)
        .into_iter()
        .chain(side_docs(&part.after))
        .flatten()
        .collect();
    names
        .iter()
        .map(|n| {
            let whole = bounds::marker(n);
            let is_whole = docs.iter().any(|d| bounds::holds_string(d, &whole));
            let v = match bounds::instantiate(&Json::Str(whole)) {
                Json::Str(g) if is_whole => g,
                _ => bounds::token(n),
            };
            (n.clone(), v)
        })
        .collect()
}

/// Compare the two states of a part (both known or absent), then, when the verdict is
/// `unknown` with a replayed widening for the generic values, look for values for which the
/// change provably does not widen (`safe_value`): the verdict then depends on the values.
fn compare_part(part: &Part, kind: PolicyType, opts: &DiffOptions) -> Result<Outcome, String> {
    let partition = bounds::marker("AWS::Partition");
    let has_partition = [&part.before, &part.after].iter().any(|s| {
        matches!(s, State::Known(ds) if ds.iter().any(|d| bounds::contains_text(&d.json, &partition)))
    });
    if has_partition {
        return per_partition(part, kind, opts);
    }
    compare_values(part, kind, opts)
}

/// The partitions `AWS::Partition` may be (with their `AWS::URLSuffix`), when not given.
const PARTITIONS: [(&str, &str); 8] = [
    ("aws", "amazonaws.com"),
    ("aws-cn", "amazonaws.com.cn"),
    ("aws-us-gov", "amazonaws.com"),
    ("aws-iso", "c2s.ic.gov"),
    ("aws-iso-b", "sc2s.sgov.gov"),
    ("aws-iso-e", "cloud.adc-e.uk"),
    ("aws-iso-f", "csp.hci.ic.gov"),
    ("aws-eusc", "amazonaws.eu"),
];

/// A part with an unresolved `AWS::Partition`: compared once per partition (the value only
/// names a partition, and there are few), with the value substituted in OLD and NEW alike.
/// Widened in every partition: widened (the findings of `aws`); no widening in any: proved;
/// else `unknown`, naming the partitions each way.
fn per_partition(part: &Part, kind: PolicyType, opts: &DiffOptions) -> Result<Outcome, String> {
    let mut outs = Vec::new();
    for (p, suffix) in PARTITIONS {
        let values: std::collections::BTreeMap<String, String> = [
            ("AWS::Partition".to_owned(), p.to_owned()),
            ("AWS::URLSuffix".to_owned(), suffix.to_owned()),
        ]
        .into_iter()
        .collect();
        let one = part.map_docs(|j| bounds::substitute(j, &values));
        outs.push((p, compare_values(&one, kind, opts)?));
    }
    let list = |v: Verdict| {
        outs.iter()
            .filter(|(_, o)| o.verdict == v)
            .map(|(p, _)| *p)
            .collect::<Vec<_>>()
    };
    let (widened, safe) = (list(Verdict::Widened), list(Verdict::NoWidening));
    let note = format!(
        "`AWS::Partition` is not known from the input: compared in each partition ({}), `AWS::URLSuffix` with it",
        PARTITIONS.map(|p| p.0).join(", ")
    );
    let mut it = outs.into_iter();
    let Some((_, mut first)) = it.next() else {
        return compare_values(part, kind, opts);
    };
    if widened.len() == PARTITIONS.len() || safe.len() == PARTITIONS.len() {
        first.messages.insert(0, note);
        return Ok(first);
    }
    if widened.is_empty() && first.verdict == Verdict::Unknown {
        // undecided in `aws` already: its reasons
        first.messages.insert(0, note);
        return Ok(first);
    }
    let mut msgs = vec![format!(
        "{note}; not the same verdict in every partition: widened in {}, no widening in {}, undecided in the others",
        if widened.is_empty() { "none".to_owned() } else { widened.join(", ") },
        if safe.is_empty() { "none".to_owned() } else { safe.join(", ") },
    )];
    msgs.extend(first.messages.iter().map(|m| format!("in aws: {m}")));
    for (p, o) in it {
        if o.verdict != first.verdict {
            msgs.extend(o.messages.iter().map(|m| format!("in {p}: {m}")));
        }
    }
    Ok(Outcome {
        verdict: Verdict::Unknown,
        messages: msgs,
        findings: Vec::new(),
        narrowing: first.narrowing.map(|_| Verdict::Unknown),
        notes: first.notes,
        witness: first.witness,
    })
}

/// `compare_part` once the partition is known.
fn compare_values(part: &Part, kind: PolicyType, opts: &DiffOptions) -> Result<Outcome, String> {
    let mut out = compare_part_inner(part, kind, opts)?;
    let generic = out
        .witness
        .as_ref()
        .is_some_and(|w| w.get("widens_with").is_none());
    if out.verdict != Verdict::Unknown || !generic {
        return Ok(out);
    }
    let mut names = std::collections::BTreeSet::new();
    for d in side_docs(&part.before)
        .iter()
        .chain(side_docs(&part.after).iter())
        .flatten()
    {
        bounds::marks(d, &mut names);
    }
    let safe = safe_value(part, kind, opts, &names);
    let finding = out
        .witness
        .as_ref()
        .and_then(|w| w.get("finding").cloned())
        .unwrap_or(Value::Null);
    if let Some(safe) = &safe {
        if let Some(m) = out
            .messages
            .iter_mut()
            .find(|m| m.contains("with values equal to nothing else"))
        {
            m.push_str(&format!(
                "; with {} it does not widen (proved)",
                shown(safe)
            ));
        }
    } else if let Some(m) = out
        .messages
        .iter_mut()
        .find(|m| m.contains("with values equal to nothing else"))
    {
        m.push_str("; no value was found for which it does not widen, and the bounds could not show that it widens for every value");
    }
    out.witness = Some(serde_json::json!({
        "widens_with": generic_values(part, &names),
        "finding": finding,
        "no_widening_with": safe,
    }));
    Ok(out)
}

/// Compare the two states of a part (both known or absent). `Err`: an internal error.
///
/// Unresolved values are first compared exactly: each is one free value shared by OLD and NEW
/// (a policy variable every request assigns; `with_variables`). No widening there is a proof
/// for every value. A widening there holds for some value: the bounds (`compare_bounded`) then
/// decide whether it holds for every value, else the part is `unknown`, naming the values and
/// showing the replayed widening for the value the solver chose. Where variables cannot stand
/// for the values, only the bounds apply.
fn compare_part_inner(
    part: &Part,
    kind: PolicyType,
    opts: &DiffOptions,
) -> Result<Outcome, String> {
    let Some(vpart) = with_variables(part) else {
        return compare_bounded(part, kind, opts);
    };
    let mut names = std::collections::BTreeSet::new();
    for d in side_docs(&part.before)
        .iter()
        .chain(side_docs(&part.after).iter())
        .flatten()
    {
        bounds::marks(d, &mut names);
    }
    let named = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    // an input error in the variable form (which the bounds do not have) is not the user's:
    // the bounds alone decide then
    let Ok(exact) = compare_bounded(&vpart, kind, opts) else {
        return compare_bounded(part, kind, opts);
    };
    match exact.verdict {
        Verdict::NoWidening => {
            let mut out = exact;
            out.messages.push(format!(
                "holds for every value of {named} (not known from the input; each compared as one symbolic value shared by OLD and NEW)"
            ));
            Ok(out)
        }
        Verdict::Widened => {
            // the bounds decide for every value (widened), or prove there is no widening
            // for any value the expressions can really take
            let bounded = compare_bounded(part, kind, opts)?;
            if bounded.verdict != Verdict::Unknown {
                return Ok(bounded);
            }
            if let Some(out) = widened_for_every_principal(&vpart, kind, opts, &names, &named) {
                return Ok(out);
            }
            // a widening with a value for every expression (every deployment gives each one
            // a value: `Encoder::link_iac_values`), replayed with those values
            // with an unresolved principal, prefer a widening whose principal such a value can
            // name (the solver may otherwise pick one no ARN names, e.g. anonymous)
            let nameable = names
                .iter()
                .any(|n| {
                    let k = bounds::principal_is_key(n);
                    [&vpart.before, &vpart.after].iter().any(|s| {
                        matches!(s, State::Known(ds) if ds.iter().any(|d| d.json.to_value().to_string().contains(&k)))
                    })
                })
                .then(|| vpart.map_docs(bounds::with_nameable_principals_only))
                .and_then(|mut p| {
                    // a federated caller (an OIDC or SAML provider in a trust policy) has no
                    // `aws:PrincipalType` of its own: each one found is denied in turn (eight
                    // more comparisons at most), so the example is a user or role session
                    let mut last = None;
                    for _ in 0..8 {
                        let o = compare_bounded(&p, kind, opts).ok()?;
                        if o.verdict != Verdict::Widened {
                            break;
                        }
                        let federated = o
                            .findings
                            .iter()
                            .filter(|f| f.kind != Verdict::Narrowed)
                            .find_map(|f| {
                                let pr = f.request["principal"].as_str()?;
                                let oidc = !pr.starts_with("arn:")
                                    && pr != "anonymous"
                                    && pr.contains('.');
                                (oidc || pr.contains(":saml-provider/")).then(|| pr.to_owned())
                            });
                        last = Some(o);
                        match federated {
                            Some(provider) => {
                                p = p.map_docs(|j| bounds::with_federated_denied(j, &provider))
                            }
                            None => break,
                        }
                    }
                    last
                })
                .filter(|o| o.verdict == Verdict::Widened);
            let found = nameable
                .as_ref()
                .unwrap_or(&exact)
                .findings
                .iter()
                .filter(|f| f.kind != Verdict::Narrowed)
                .find_map(|f| {
                    let ctx = &f.request["context"];
                    let values = names
                        .iter()
                        .map(|n| {
                            let key = bounds::variable_key(n).to_lowercase();
                            let Some(v) = ctx.get(&key) else {
                                // an unresolved principal: whether it names the request's
                                // (an unresolved action: whether it matches the request's)
                                let find = |want: String| {
                                    let want = want.to_lowercase();
                                    ctx.as_object()?
                                        .iter()
                                        .find(|(k, _)| k.to_lowercase() == want)
                                        .and_then(|(_, v)| v.as_str())
                                };
                                if let Some(is) = find(bounds::principal_is_key(n)) {
                                    let p = f.request["principal"].as_str().unwrap_or("?");
                                    let not = if is == "true" { "" } else { "not " };
                                    return Some((n.clone(), format!("an ARN {not}naming {p}")));
                                }
                                let is = find(bounds::action_is_key(n))?;
                                let a = f.request["action"].as_str().unwrap_or("?");
                                let not = if is == "true" { "" } else { "not " };
                                return Some((
                                    n.clone(),
                                    format!("an action pattern {not}matching {a}"),
                                ));
                            };
                            let v = v.as_str().or_else(|| v[0].as_str())?;
                            Some((n.clone(), v.to_owned()))
                        })
                        .collect::<Option<std::collections::BTreeMap<String, String>>>()?;
                    Some((values, f.clone()))
                });
            let Some((values, finding)) = found else {
                return Ok(bounded);
            };
            // a value for which the change provably does not widen: then the verdict depends
            // on the value (else it is only not known whether some value is safe)
            let safe = safe_value(part, kind, opts, &names);
            let mut message = format!(
                "the verdict depends on values not known from the input: {named} (known only at deployment; for CloudFormation supply them with --parameter, --account-id, --region or --partition); with {} the change widens: {} (request {}, replayed)",
                shown(&values),
                finding.summary,
                finding.request
            );
            if let Some(safe) = &safe {
                message.push_str(&format!(
                    "; with {} it does not widen (proved)",
                    shown(safe)
                ));
            }
            let witness = serde_json::json!({
                "widens_with": values,
                "finding": finding,
                "no_widening_with": safe,
            });
            Ok(Outcome {
                verdict: Verdict::Unknown,
                messages: vec![message],
                findings: Vec::new(),
                narrowing: bounded.narrowing,
                notes: exact.notes,
                witness: Some(witness),
            })
        }
        // the solver gave up with variables: the bounds may still decide
        _ => compare_bounded(part, kind, opts),
    }
}

/// A widening that holds for every value of unresolved principals (`bounds::principal_is_key`):
/// `vpart` (the variable form) with `bounds::with_principal_guard` on both sides, which leaves
/// only requests whose principal no such value can name. A widening found there is a widening of
/// the original pair on the same request for every value (the guard's Deny statements do not
/// apply to it), replayed like any finding. `None` when another unresolved value remains
/// symbolic (its value would be the solver's choice) or no such widening exists.
fn widened_for_every_principal(
    vpart: &Part,
    kind: PolicyType,
    opts: &DiffOptions,
    names: &std::collections::BTreeSet<String>,
    named: &str,
) -> Option<Outcome> {
    // every principal Boolean of the variable form (a partial ARN's is named by its entry)
    let mut found = std::collections::BTreeSet::new();
    for s in [&vpart.before, &vpart.after] {
        if let State::Known(ds) = s {
            for d in ds {
                bounds::principal_keys(&d.json, &mut found);
            }
        }
    }
    found.extend(names.iter().map(|n| bounds::principal_is_key(n)));
    let keys: Vec<String> = found.into_iter().collect();
    let mut other_values = false;
    for s in [&vpart.before, &vpart.after] {
        if let State::Known(ds) = s {
            for d in ds {
                let text = d.json.to_value().to_string();
                // (an unresolved action's Boolean is the solver's choice too)
                other_values |= text.contains("${iamprove:") || text.contains("/isaction\"");
            }
        }
    }
    if other_values {
        return None;
    }
    let guarded = vpart.map_docs(|j| bounds::with_principal_guard(j, &keys));
    let mut out = compare_bounded(&guarded, kind, opts).ok()?;
    if out.verdict != Verdict::Widened {
        return None;
    }
    out.messages.push(format!(
        "widens for every value of {named} (not known from the input): the request's principal is one no such value names"
    ));
    Some(out)
}

/// Values of the unresolved expressions for which the part provably does not widen, tried
/// among the literal strings of both sides (one expression at a time set to one of them, the
/// others to their generic values): each candidate is substituted in OLD and NEW alike and the
/// concrete policies are compared. `None` when no candidate is proved safe (at most 16 tried).
fn safe_value(
    part: &Part,
    kind: PolicyType,
    opts: &DiffOptions,
    names: &std::collections::BTreeSet<String>,
) -> Option<std::collections::BTreeMap<String, String>> {
    let mut literals = std::collections::BTreeSet::new();
    for d in side_docs(&part.before)
        .iter()
        .chain(side_docs(&part.after).iter())
        .flatten()
    {
        bounds::literal_candidates(d, &mut literals);
    }
    let mut tried = 0;
    for n in names {
        for lit in &literals {
            if tried >= 16 {
                return None;
            }
            tried += 1;
            let values: std::collections::BTreeMap<String, String> =
                [(n.clone(), lit.clone())].into_iter().collect();
            let concrete = part.map_docs(|j| bounds::instantiate_with(j, &values));
            if let Ok(o) = compare_bounded(&concrete, kind, opts) {
                if o.verdict == Verdict::NoWidening {
                    let mut all = values.clone();
                    for m in names {
                        all.entry(m.clone()).or_insert_with(|| {
                            match bounds::instantiate(&Json::Str(bounds::marker(m))) {
                                Json::Str(g) => g,
                                _ => bounds::token(m),
                            }
                        });
                    }
                    return Some(all);
                }
            }
        }
    }
    None
}

/// Compare the two states of a part, bounding unresolved values (`bounds`) separately on each
/// side. `Err`: an internal error.
fn compare_bounded(part: &Part, kind: PolicyType, opts: &DiffOptions) -> Result<Outcome, String> {
    let mut out = Outcome {
        verdict: Verdict::NoWidening,
        messages: Vec::new(),
        findings: Vec::new(),
        narrowing: None,
        notes: Vec::new(),
        witness: None,
    };
    let label = format!("{} {}", part.address, part.attribute);
    let (old, new) = (side_docs(&part.before), side_docs(&part.after));
    let mut names = std::collections::BTreeSet::new();
    for d in old.iter().chain(new.iter()).flatten() {
        bounds::marks(d, &mut names);
    }
    let marked = !names.is_empty();
    let named = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let bnd = |docs: &Option<Vec<Json>>, upper: bool| map_docs(docs, |d| bounds::bound(d, upper));
    let bounded = (|| -> Result<_, String> {
        // statements that hold the same unresolved value on both sides are the same on both
        // sides: left out of the allow check (sound with the deny check below)
        let pairwise = matches!(
            kind,
            PolicyType::Identity | PolicyType::Resource | PolicyType::Trust
        ) && part.kind != Kind::Boundary;
        let shared: Vec<Json> = if marked && pairwise {
            let o: Vec<Json> = old
                .iter()
                .flatten()
                .flat_map(bounds::marked_allows)
                .collect();
            let n: Vec<Json> = new
                .iter()
                .flatten()
                .flat_map(bounds::marked_allows)
                .collect();
            o.into_iter().filter(|s| n.contains(s)).collect()
        } else {
            Vec::new()
        };
        // NEW's marked Allow statements that grant, for every value, only what one of OLD's
        // grants: left out of NEW's upper bound (what they allow OLD's statement allows, and
        // the deny check below covers OLD's Deny statements)
        let subsumed: Vec<Json> = if marked && pairwise {
            let o: Vec<Json> = old
                .iter()
                .flatten()
                .flat_map(bounds::marked_allows)
                .collect();
            new.iter()
                .flatten()
                .flat_map(bounds::marked_allows)
                .filter(|s| !shared.contains(s) && o.iter().any(|x| bounds::subsumed_by(s, x)))
                .collect()
        } else {
            Vec::new()
        };
        let strip = |docs: &Option<Vec<Json>>| map_docs(docs, |d| Ok(bounds::without(d, &shared)));
        let (old_s, new_s) = (strip(&old)?, strip(&new)?);
        let new_s = map_docs(&new_s, |d| Ok(bounds::without(d, &subsumed)))?;
        Ok((
            (bnd(&old_s, false)?, bnd(&old, true)?),
            (bnd(&new, false)?, bnd(&new_s, true)?),
            pairwise,
        ))
    })();
    let ((old_lo, old_up), (new_lo, new_up), pairwise) = match bounded {
        Ok(b) => b,
        Err(place) => {
            out.verdict = Verdict::Unknown;
            out.messages.push(format!(
                "an unresolved value ({named}) appears in {place}, which cannot be bounded; not compared"
            ));
            return Ok(out);
        }
    };
    let mut undecided: Vec<String> = Vec::new();
    let mut widened = false;
    let inst = |docs: &Option<Vec<Json>>| {
        map_docs(docs, |d| Ok(bounds::instantiate(d)))
            .ok()
            .flatten()
    };
    let (old_t, new_t) = (inst(&old), inst(&new));
    match check_pair(
        part,
        kind,
        (&old_lo, &old_up, &old_t, &old),
        (&new_lo, &new_up, &new_t, &new),
        marked,
        opts,
        &label,
        &mut out,
    )? {
        Ok(w) => widened |= w,
        Err(m) => undecided.push(m),
    }
    // a Deny that no longer applies widens whenever something else allows the request
    if pairwise {
        let da = |docs: &Option<Vec<Json>>| -> Option<Vec<Json>> {
            let v: Vec<Json> = docs
                .iter()
                .flatten()
                .filter_map(bounds::denies_as_allows)
                .collect();
            (!v.is_empty()).then_some(v)
        };
        let (od, nd) = (da(&old), da(&new));
        if od.is_some() && od != nd {
            let (nd_lo, nd_up, od_lo, od_up) = match (
                bnd(&nd, false),
                bnd(&nd, true),
                bnd(&od, false),
                bnd(&od, true),
            ) {
                (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
                _ => {
                    out.verdict = Verdict::Unknown;
                    out.messages.push(format!("an unresolved value ({named}) in a Deny statement cannot be bounded; not compared"));
                    return Ok(out);
                }
            };
            let deny_part = Part {
                kind: Kind::Fixed(PolicyType::Resource),
                ..part.clone()
            };
            let mut sub = Outcome {
                verdict: Verdict::NoWidening,
                messages: Vec::new(),
                findings: Vec::new(),
                narrowing: None,
                notes: Vec::new(),
                witness: None,
            };
            let (nd_t, od_t) = (inst(&nd), inst(&od));
            match check_pair(
                &deny_part,
                PolicyType::Resource,
                (&nd_lo, &nd_up, &nd_t, &nd),
                (&od_lo, &od_up, &od_t, &od),
                marked,
                opts,
                &format!("{label} (Deny statements)"),
                &mut sub,
            ) {
                Ok(Ok(true)) => {
                    widened = true;
                    out.messages.push("a Deny statement no longer applies to some requests: they are allowed wherever another policy allows them".into());
                    // the comparison ran on the Deny statements read as Allows (NEW's as the
                    // base): its decisions and statement list are about those, not the policies
                    let new_side = (!marked).then(|| {
                        let mut errs = Vec::new();
                        let side = side_for(part, kind, &new, &part.after, &label, &mut errs);
                        errs.is_empty().then_some(side)
                    });
                    let old_doc = match &part.before {
                        State::Known(ds) if ds.len() == 1 => Some(&ds[0]),
                        _ => None,
                    };
                    for f in sub.findings {
                        out.findings.push(deny_removal_finding(
                            f,
                            new_side.as_ref().and_then(Option::as_ref),
                            old_doc,
                        ));
                    }
                }
                Ok(Ok(false)) => {}
                Ok(Err(m)) => {
                    undecided.push(m.replacen("generic:", "generic:no longer denied: ", 1))
                }
                Err(e) if e.starts_with("internal: ") => return Err(e),
                Err(e) => undecided.push(format!("Deny statements not compared: {e}")),
            }
        }
    }
    out.findings.truncate(opts.max_findings.max(1) * 2);
    out.verdict = if widened {
        Verdict::Widened
    } else if undecided.is_empty() {
        Verdict::NoWidening
    } else {
        Verdict::Unknown
    };
    for m in &undecided {
        if let Some(example) = m.strip_prefix("generic:") {
            out.messages.push(format!(
                "the verdict depends on values not known from the input: {named} (known only at deployment; for CloudFormation supply them with --parameter, --account-id, --region or --partition); with values equal to nothing else in the policies ({}) the change widens: {example}",
                shown(&generic_values(part, &names))
            ));
        } else if m == "depends" {
            out.messages.push(format!(
                "the verdict depends on values not known from the input: {named} (known only at deployment; for CloudFormation supply them with --parameter, --account-id, --region or --partition)"
            ));
        } else if !out.messages.contains(m) {
            out.messages.push(m.clone());
        }
    }
    if marked && out.verdict == Verdict::NoWidening {
        out.messages.push(format!(
            "holds for every value of {named} (not known from the input; compared symbolically)"
        ));
    } else if marked && out.verdict == Verdict::Widened {
        out.messages.push(format!(
            "widens for every value of {named} (not known from the input; each finding was replayed with them as wildcards, left out, or a generic value)"
        ));
    }
    if opts.direction == Direction::Both {
        let mut errs = Vec::new();
        let n_lo = side_for(
            part,
            kind,
            &new_lo,
            &part.after,
            &format!("{label} (after: none)"),
            &mut errs,
        );
        let o_up = side_for(
            part,
            kind,
            &old_up,
            &part.before,
            &format!("{label} (before: none)"),
            &mut errs,
        );
        out.narrowing = Some(if !errs.is_empty() {
            Verdict::Unknown
        } else {
            let n = compare(&n_lo, &o_up, opts, "narrowed");
            if let Some(e) = n.internal {
                return Err(e.to_string());
            }
            if !n.findings.is_empty() {
                out.findings.extend(n.findings);
                Verdict::Narrowed
            } else if n.unknown.is_some() || marked {
                Verdict::Unknown
            } else {
                Verdict::NoNarrowing
            }
        });
    }
    Ok(out)
}

/// A finding of the Deny-removal check (`compare` of NEW's Deny statements against OLD's, both
/// read as Allow statements) in the terms of the policies: OLD denied the request explicitly,
/// NEW does not deny it (its own decision when known), and the statements named are the OLD
/// Deny statements that no longer apply.
fn deny_removal_finding(mut f: Finding, new_side: Option<&Side>, old_doc: Option<&Doc>) -> Finding {
    let s = f.summary.replacen("newly allows", "no longer denies", 1);
    // the statements are named below, in OLD's numbering
    f.summary = s.split("; granted by ").next().unwrap_or(&s).to_owned();
    f.old_decision = "ExplicitDeny";
    f.new_decision = new_side
        .and_then(|side| {
            let j = crate::json::parse(&f.request.to_string()).ok()?;
            let req = crate::scenario::parse_request(&j, "finding").ok()?;
            Some(crate::query::decision(side, &req).name())
        })
        .unwrap_or("NotExplicitlyDenied");
    // name the OLD document and the Deny statement's index in it (the comparison saw a
    // document of the Deny statements only)
    let denies: Vec<usize> = match old_doc.and_then(|d| d.json.get("Statement")) {
        Some(Json::Arr(a)) => a
            .iter()
            .enumerate()
            .filter(|(_, s)| s.get("Effect").and_then(Json::as_str) == Some("Deny"))
            .map(|(i, _)| i)
            .collect(),
        Some(_) => vec![0],
        None => Vec::new(),
    };
    let mut g: Vec<GrantRef> = std::mem::take(&mut f.granted_by);
    for e in &mut g {
        let k = e
            .statement
            .strip_prefix("Statement[")
            .and_then(|s| s.strip_suffix(']'))
            .and_then(|s| s.parse::<usize>().ok());
        match (old_doc, k.and_then(|k| denies.get(k))) {
            (Some(d), Some(i)) => {
                e.policy = d.name.clone();
                e.statement = format!("Statement[{i}]");
            }
            _ => e.policy = "OLD".into(),
        }
    }
    let named: Vec<String> = g
        .iter()
        .map(|e| match &e.sid {
            Some(sid) => format!("{} ({sid})", e.statement),
            None => e.statement.clone(),
        })
        .collect();
    if !named.is_empty() {
        f.summary = format!("{}; denied before by {}", f.summary, named.join(", "));
    }
    f.no_longer_denied_by = Some(g);
    f
}

/// Compare every part.
pub fn run(input: Input, opts: &DiffOptions) -> Result<IacReport, IacError> {
    // parse everything first: bad input is an input error before any solving
    let mut errs: Errors = Vec::new();
    for part in &input.parts {
        let kind = kind_of(part);
        for s in [&part.before, &part.after] {
            let docs = side_docs(s);
            for upper in [true, false] {
                if let Ok(b) = map_docs(&docs, |d| bounds::bound(d, upper)) {
                    parse_docs(&b, s, kind, &mut errs);
                }
            }
        }
    }
    if !errs.is_empty() {
        errs.dedup_by(|a, b| a.to_string() == b.to_string());
        return Err(IacError::Input(errs));
    }
    let mut reports = Vec::new();
    for (i, part) in input.parts.iter().enumerate() {
        let kind = kind_of(part);
        let mut r = Report {
            part_index: i,
            verdict: Verdict::NoWidening,
            messages: Vec::new(),
            findings: Vec::new(),
            narrowing: None,
            notes: Vec::new(),
            witness: None,
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
        if let Some((v, m)) = &part.decided {
            let v = *v;
            r.verdict = v;
            r.messages.push(m.clone());
            if opts.direction == Direction::Both {
                r.narrowing = Some(if v == Verdict::NoWidening {
                    Verdict::Unknown
                } else {
                    v
                });
            }
        } else if part.unchanged || same_docs {
            r.messages.push("policy unchanged".into());
            if opts.direction == Direction::Both {
                r.narrowing = Some(Verdict::NoNarrowing);
            }
        } else if !unknown.is_empty() {
            r.verdict = Verdict::Unknown;
            r.messages = unknown;
            if opts.direction == Direction::Both {
                r.narrowing = Some(Verdict::Unknown);
            }
        } else {
            match compare_part(part, kind, opts) {
                Ok(o) => {
                    r.verdict = o.verdict;
                    r.messages = o.messages;
                    r.findings = o.findings;
                    r.narrowing = o.narrowing;
                    r.notes = o.notes;
                    r.witness = o.witness;
                }
                Err(e) => {
                    return Err(IacError::Internal(format!(
                        "{}: {}: {e}",
                        part.address, part.attribute
                    )))
                }
            }
            if r.messages.is_empty() || r.verdict != Verdict::Unknown {
                r.messages.extend(describe_sides(part, kind));
            }
        }
        reports.push(r);
    }
    let verdict = if reports.iter().any(|r| r.verdict == Verdict::Widened) {
        Verdict::Widened
    } else if reports.iter().any(|r| r.verdict == Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::NoWidening
    };
    let mut notes = input.notes.clone();
    if input.parts.is_empty() {
        notes.push("no IAM-relevant resource changes".into());
    }
    Ok(IacReport {
        verdict,
        parts: input.parts,
        reports,
        notes,
    })
}

/// A short reading of a comparison against an absent side.
fn describe_sides(part: &Part, kind: PolicyType) -> Option<String> {
    let guard = matches!(kind, PolicyType::Scp | PolicyType::Rcp) || part.kind == Kind::Boundary;
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

/// `diff --terraform-plan PLAN.json`.
pub fn terraform(plan: &std::path::Path, opts: &DiffOptions) -> Result<IacReport, IacError> {
    run(terraform::load(plan).map_err(IacError::Input)?, opts)
}

/// `diff --cloudformation OLD_TEMPLATE NEW_TEMPLATE`.
pub fn cloudformation(
    old: &std::path::Path,
    new: &std::path::Path,
    params: &cloudformation::Params,
    opts: &DiffOptions,
) -> Result<IacReport, IacError> {
    run(
        cloudformation::load(old, new, params).map_err(IacError::Input)?,
        opts,
    )
}
