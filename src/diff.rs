//! `iamprove diff OLD NEW`: does NEW allow anything OLD does not (and, with `--direction both`,
//! the reverse)? Findings are concrete, replayed requests with a generalised description.

use crate::eval::{Decision, SetName};
use crate::json::Json;
use crate::model::PolicyType;
use crate::query::{class_patterns, decision, request_json, Prepared, QueryOptions, Side};
use crate::scenario::{
    locate, looks_like_scenario, read_json, scenario_from_json, Errors, InputError,
};
use crate::symbolic::encode::{ACTION_SLOT, RESOURCE_SLOT};
use crate::verdict::{Disagreement, Verdict};
use crate::verify::{Property, Verification, Verifier};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Direction {
    /// Only what NEW newly allows.
    Widen,
    /// Also what NEW no longer allows.
    Both,
}

#[derive(Clone)]
pub struct DiffOptions {
    pub kind: Option<PolicyType>,
    pub max_findings: usize,
    pub direction: Direction,
    pub query: QueryOptions,
}

/// `a`, `b` → "`a`, `b`" for summaries.
fn backticked<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items
        .into_iter()
        .map(|a| format!("`{}`", a.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Load one side: a scenario file or a single policy document (its type from `kind`, else
/// detected; `other`, the document it is compared with, decides between identity and resource
/// policy when neither names a principal). Embedding API (`diff::run` reads both files itself);
/// tested by `diff::tests::load_side_reads_policies_and_reports_input_errors`.
pub fn load_side(
    path: &Path,
    kind: Option<PolicyType>,
    other: Option<&Json>,
) -> Result<Side, Errors> {
    let doc = read_json(path)?;
    side_from_json(&doc, path, kind, other)
}

pub fn side_from_json(
    doc: &Json,
    path: &Path,
    kind: Option<PolicyType>,
    other: Option<&Json>,
) -> Result<Side, Errors> {
    let file = path.display().to_string();
    if looks_like_scenario(doc) {
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        return scenario_from_json(doc, &file, &base, false).map(Side::Scenario);
    }
    // a policy: its type from --type, else from either document (a principal means resource)
    let (doc, prefix) = crate::parse::unwrap_envelope(doc);
    let other = other.map(|o| crate::parse::unwrap_envelope(o).0);
    let detected = |d: &Json| crate::parse::detect_type(d);
    let kind = kind.unwrap_or_else(|| match other {
        Some(o) if detected(o) == PolicyType::Resource => PolicyType::Resource,
        _ => detected(doc),
    });
    let pol =
        crate::parse::parse_policy(doc, kind, &file).map_err(|e| locate(&file, &prefix, e))?;
    Ok(match kind {
        PolicyType::Identity => Side::Identity(vec![pol]),
        PolicyType::Resource | PolicyType::Trust => Side::Resource(pol),
        // what the guardrail still lets an all-powerful principal do
        PolicyType::Scp | PolicyType::Rcp => crate::query::guardrail_side(kind, vec![pol]),
    })
}

/// A finding of `diff`: a replayed request that one side allows and the other does not, with
/// the class of requests it stands for. Its serde form is the JSON finding (field names and
/// order as they have always been; see the [`Serialize`] impl).
#[derive(Debug, Clone)]
pub struct Finding {
    /// What the finding relies on beyond the inputs (the assumed key or trust policy).
    pub assumptions: Vec<String>,
    /// The granting statements of the allowing side, as written.
    pub newly_allowed_by: Vec<Value>,
    /// `widened` or `narrowed`.
    pub kind: Verdict,
    /// One line for people.
    pub summary: String,
    /// The actions the finding stands for.
    pub action: ActionClass,
    /// The resources the finding stands for.
    pub resource: ResourceClass,
    /// The statements that grant the request (policy label, statement path, Sid). Empty (and
    /// not serialized) in a Deny-removal finding, whose statements are `no_longer_denied_by`.
    pub granted_by: Vec<GrantRef>,
    /// The evaluator's decision on the side that does not allow the request (a
    /// [`Decision`] name, or `NotExplicitlyDenied` in a Deny-removal finding).
    pub old_decision: &'static str,
    /// The evaluator's decision on the side that allows it.
    pub new_decision: &'static str,
    /// The request, in the scenario format (`iamprove eval` replays it). A JSON document
    /// because that format is open (any context key); its `action` and `resource` are
    /// `action.example` and `resource.example`.
    pub request: Value,
    /// Trust policies: the identities newly (no longer) admitted, in the provider's terms.
    pub identity: Option<FederatedIdentity>,
    /// IaC Deny-removal findings (`iac::deny_removal_finding`): the OLD Deny statements that
    /// no longer apply to the request, in place of `granted_by`.
    pub no_longer_denied_by: Option<Vec<GrantRef>>,
}

impl Finding {
    /// Every string of the finding (its fields and the strings inside its JSON documents, not
    /// object keys), for rewriting paths in place (`gitdiff` names files relative to the
    /// repository). The constants (decision names, `kind`, `identity.kind`) are not visited.
    pub fn for_each_text(&mut self, f: &mut impl FnMut(&mut String)) {
        fn walk(v: &mut Value, f: &mut impl FnMut(&mut String)) {
            match v {
                Value::String(s) => f(s),
                Value::Array(items) => items.iter_mut().for_each(|i| walk(i, f)),
                Value::Object(m) => m.values_mut().for_each(|i| walk(i, f)),
                _ => {}
            }
        }
        let grants = |g: &mut Vec<GrantRef>, f: &mut dyn FnMut(&mut String)| {
            for r in g {
                f(&mut r.policy);
                f(&mut r.statement);
                if let Some(s) = &mut r.sid {
                    f(s);
                }
            }
        };
        self.assumptions.iter_mut().for_each(&mut *f);
        self.newly_allowed_by.iter_mut().for_each(|v| walk(v, f));
        f(&mut self.summary);
        let a = &mut self.action;
        f(&mut a.example);
        a.matches.iter_mut().for_each(&mut *f);
        a.does_not_match.iter_mut().for_each(&mut *f);
        a.known_actions.iter_mut().for_each(&mut *f);
        let r = &mut self.resource;
        f(&mut r.example);
        r.matches.iter_mut().for_each(&mut *f);
        r.does_not_match.iter_mut().for_each(&mut *f);
        grants(&mut self.granted_by, f);
        walk(&mut self.request, f);
        if let Some(id) = &mut self.identity {
            f(&mut id.provider);
            f(&mut id.description);
            if let Some(sub) = &mut id.sub {
                if let Some(e) = &mut sub.example {
                    f(e);
                }
                sub.matches.iter_mut().for_each(&mut *f);
                sub.does_not_match.iter_mut().for_each(&mut *f);
            }
        }
        if let Some(g) = &mut self.no_longer_denied_by {
            grants(g, f);
        }
    }
}

/// The JSON form of an ordinary [`Finding`].
#[derive(Serialize)]
struct FindingJson<'a> {
    assumptions: &'a [String],
    newly_allowed_by: &'a [Value],
    kind: Verdict,
    summary: &'a str,
    action: &'a ActionClass,
    resource: &'a ResourceClass,
    granted_by: &'a [GrantRef],
    old_decision: &'static str,
    new_decision: &'static str,
    request: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<&'a FederatedIdentity>,
}

/// The JSON form of a Deny-removal [`Finding`]. Its field order is the one the IaC report has
/// always printed (it came from removing `granted_by` from a JSON object, which moved the last
/// field, `identity` or else `request`, into its place, and appending `no_longer_denied_by`).
#[derive(Serialize)]
struct DenyRemovalJson<'a> {
    assumptions: &'a [String],
    newly_allowed_by: &'a [Value],
    kind: Verdict,
    summary: &'a str,
    action: &'a ActionClass,
    resource: &'a ResourceClass,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<&'a FederatedIdentity>,
    /// `request` here when there is no `identity`
    #[serde(rename = "request", skip_serializing_if = "Option::is_none")]
    request_first: Option<&'a Value>,
    old_decision: &'static str,
    new_decision: &'static str,
    /// `request` here when there is an `identity`
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<&'a Value>,
    no_longer_denied_by: &'a [GrantRef],
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.no_longer_denied_by {
            None => FindingJson {
                assumptions: &self.assumptions,
                newly_allowed_by: &self.newly_allowed_by,
                kind: self.kind,
                summary: &self.summary,
                action: &self.action,
                resource: &self.resource,
                granted_by: &self.granted_by,
                old_decision: self.old_decision,
                new_decision: self.new_decision,
                request: &self.request,
                identity: self.identity.as_ref(),
            }
            .serialize(s),
            Some(denied) => DenyRemovalJson {
                assumptions: &self.assumptions,
                newly_allowed_by: &self.newly_allowed_by,
                kind: self.kind,
                summary: &self.summary,
                action: &self.action,
                resource: &self.resource,
                identity: self.identity.as_ref(),
                request_first: self.identity.is_none().then_some(&self.request),
                old_decision: self.old_decision,
                new_decision: self.new_decision,
                request: self.identity.is_some().then_some(&self.request),
                no_longer_denied_by: denied,
            }
            .serialize(s),
        }
    }
}

/// The federated identities a trust-policy finding stands for.
#[derive(Debug, Clone, Serialize)]
pub struct FederatedIdentity {
    /// `saml` or `oidc`.
    pub kind: &'static str,
    /// The provider as the request names it (its ARN or host).
    pub provider: String,
    /// One line for people, in the provider's terms; it also starts the finding's summary.
    pub description: String,
    /// OIDC: the `sub` claims of the class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<SubjectClass>,
}

/// The OIDC subjects (`sub` claims) a finding stands for.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectClass {
    /// The replayed request's subject (`null` when it has none).
    pub example: Option<String>,
    /// Subject patterns every subject of the class matches.
    pub matches: Vec<String>,
    /// Subject patterns no subject of the class matches.
    pub does_not_match: Vec<String>,
}

/// The actions a finding stands for.
#[derive(Debug, Clone, Serialize)]
pub struct ActionClass {
    pub example: String,
    /// Action patterns every action of the class matches.
    pub matches: Vec<String>,
    /// Patterns of the same service no action of the class matches.
    pub does_not_match: Vec<String>,
    /// The catalog's actions in the class.
    pub known_actions: Vec<String>,
    /// How many known actions of each access level.
    pub access_levels: std::collections::BTreeMap<String, usize>,
}

/// The resources a finding stands for.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceClass {
    pub example: String,
    pub matches: Vec<String>,
    pub does_not_match: Vec<String>,
}

/// A statement that grants a finding's request.
#[derive(Debug, Clone, Serialize)]
pub struct GrantRef {
    pub policy: String,
    /// The statement's JSON path (`Statement[2]`).
    pub statement: String,
    pub sid: Option<String>,
}

/// One direction's findings.
pub struct Findings {
    /// The replayed findings, at most `max_findings`.
    pub findings: Vec<Finding>,
    /// Why the search gave up (the direction's verdict is then `unknown`).
    pub unknown: Option<String>,
    /// The encoder and the evaluator disagree: an internal error, never a verdict.
    pub internal: Option<Disagreement>,
    pub notes: Vec<String>,
    /// What the answer relies on beyond the inputs (a proof holds under these).
    pub assumptions: Vec<String>,
    /// The actions (lower case) whose resources include a shape the policies pair with them
    /// beyond the catalog (`Encoder::shaped_actions`).
    shaped_actions: Vec<String>,
}

/// Find requests `gain` allows and `base` does not.
/// `kind` words the findings: `"narrowed"` when `gain` is OLD (`--direction both`), else
/// `"widened"` (a string, so the many callers in tests and benches need no change).
pub fn compare(base: &Side, gain: &Side, opts: &DiffOptions, kind: &str) -> Findings {
    let kind = if Verdict::Narrowed == kind {
        Verdict::Narrowed
    } else {
        Verdict::Widened
    };
    let first = compare_full(base, gain, opts, kind);
    // Findings name resources of the catalog's ARN formats where they can. A shape the policies
    // pair with an action beyond the catalog is one more format, and its wildcards may run past
    // colons: a witness on it can be an ARN no service forms (`arn:aws:ec2:::snapshot/:vpc/`,
    // one string matching several patterns) or an object ARN for a bucket action. When a
    // finding names such a resource, the query is asked again without those shapes
    // (`QueryOptions::declared_shapes`): a widening found there is one (replayed), on
    // catalog formats, and its findings replace the first ones (the first query's well-formed
    // findings of other actions are kept); otherwise the first stand. Only a finding on an
    // action that has such a shape counts: others (matched through a wildcard, or beyond the
    // format budget) keep the general resource in both queries. Asking that query first would
    // cost every `no_widening` two queries (the generated 5,000-statement pair B NEW→OLD took
    // 34 s instead of 22 s; docs/diff-benchmark.md).
    let malformed = first.findings.iter().any(|f| {
        !finding_is_well_formed(f)
            && first
                .shaped_actions
                .contains(&f.action.example.to_lowercase())
    });
    if !malformed
        || !opts.query.well_formed
        || !opts.query.declared_shapes
        || crate::deadline::passed()
    {
        return first;
    }
    let mut strict = opts.clone();
    strict.query.declared_shapes = false;
    let (found, _) = compare_once(base, gain, &strict, kind, false);
    if let Some(d) = found.internal {
        // the encoder and the evaluator disagree: an internal error, never hidden
        let mut first = first;
        first.internal = Some(d);
        return first;
    }
    if found.findings.is_empty() {
        return first;
    }
    // and the first query's well-formed findings of other actions, up to the limit
    let mut found = found;
    for f in first.findings {
        let seen = found.findings.iter().any(|g| {
            g.action.example == f.action.example
                || g.action
                    .known_actions
                    .iter()
                    .any(|a| f.action.known_actions.contains(a))
        });
        if found.findings.len() < opts.max_findings && !seen && finding_is_well_formed(&f) {
            found.findings.push(f);
        }
    }
    found
}

/// [`compare`] with every resource shape the policies pair with an action: the well-formed
/// query, and when it gives up the format-free one.
fn compare_full(base: &Side, gain: &Side, opts: &DiffOptions, kind: Verdict) -> Findings {
    // When a format-free second query is possible and the command has a deadline, the first
    // query gets at most half of the time left, so that the second can still run: on dense
    // resource patterns the catalog's ARN formats can make the first one run to the deadline.
    let first = match crate::deadline::remaining() {
        Some(left) if opts.query.well_formed => {
            crate::deadline::within(left / 2, || compare_once(base, gain, opts, kind, false).0)
        }
        _ => compare_once(base, gain, opts, kind, false).0,
    };
    // (after the command's deadline a second query could only answer unknown too; without Z3
    // it would give up the same way)
    if first.unknown.is_none()
        || !first.findings.is_empty()
        || !opts.query.well_formed
        || crate::deadline::passed()
        || first
            .unknown
            .as_deref()
            .is_some_and(|u| u.contains(iamprove_symbolic::z3lib::MISSING))
    {
        return first;
    }
    // The well-formed-resource restriction adds the catalog's ARN formats to the resource field;
    // on dense resource patterns that can exceed the partition budget. Without the restriction
    // the query only has more requests: "none" is still a proof, and a witness counts only when
    // it is itself well formed (else the first answer, unknown, stands).
    let mut loose = opts.clone();
    loose.query.well_formed = false;
    let (mut second, malformed) = compare_once(base, gain, &loose, kind, true);
    let mut first = first;
    if let Some(d) = second.internal.take() {
        // the encoder and the evaluator disagree: an internal error, never hidden
        first.internal = Some(d);
        return first;
    }
    if let Some(u) = second.unknown.as_ref() {
        first.notes.push(format!(
            "asked again without the well-formed-resource restriction (with a --timeout, the first query had at most half of the time left); that query gave up too: {u}"
        ));
        return first;
    }
    // a request outside the formats was found and no well-formed one: neither a proof nor a witness
    if let (Some(m), true) = (malformed, second.findings.is_empty()) {
        first.notes.push(format!("asked again without the well-formed-resource restriction: it found only requests on resources outside their actions' ARN formats (e.g. {m}), so the first answer stands"));
        return first;
    }
    second.notes.push(
        "decided without the well-formed-resource restriction (the catalog's ARN formats made the resource field too large to partition): no assumption about resource formats is needed, and every finding was checked to name a well-formed resource".into(),
    );
    second
}

/// The finding's request acts on `*` or on a resource of its action's ARN formats (or on an
/// action the catalog does not know).
fn finding_is_well_formed(f: &Finding) -> bool {
    // (and values AWS gives: S3 bucket names, account- and ARN-valued context keys)
    let context_ok = f
        .request
        .get("context")
        .and_then(|c| c.as_object())
        .into_iter()
        .flatten()
        .all(|(k, v)| {
            let k = k.to_lowercase();
            match v {
                serde_json::Value::String(s) => crate::wellformed::well_formed_context_value(&k, s),
                serde_json::Value::Array(a) => a.iter().all(|x| {
                    x.as_str()
                        .is_none_or(|s| crate::wellformed::well_formed_context_value(&k, s))
                }),
                _ => true,
            }
        });
    crate::wellformed::resource_well_formed(&f.action.example.to_lowercase(), &f.resource.example)
        && context_ok
}

/// Z3's resource limit (`rlimit`) per check in the search for more findings after the first:
/// the verdict stands, so that search gets a short budget, counted rather than timed so that the
/// findings listed do not depend on the machine's speed or load (issue 13; it was 3 s of wall
/// clock per check). Chosen by measuring the corpus (`docs/diff-benchmark.md`, 2026-12-01).
pub const MORE_FINDINGS_STEPS: u32 = 10_000_000;

/// How many witnesses outside the ARN formats the format-free query skips before it stops.
const MALFORMED_SKIPS: usize = 16;

/// One query. With `well_formed_only`, a witness whose resource is outside its action's ARN
/// formats is not reported: the search moves on to another kind of action (at most
/// [`MALFORMED_SKIPS`] times), and the first such request is returned beside the findings.
fn compare_once(
    base: &Side,
    gain: &Side,
    opts: &DiffOptions,
    kind: Verdict,
    well_formed_only: bool,
) -> (Findings, Option<String>) {
    compare_steps(
        base,
        gain,
        opts,
        kind,
        well_formed_only,
        MORE_FINDINGS_STEPS,
    )
}

/// [`compare_once`] with the step limit of the search for more findings as a parameter (tests
/// shrink it).
fn compare_steps(
    base: &Side,
    gain: &Side,
    opts: &DiffOptions,
    kind: Verdict,
    well_formed_only: bool,
    more_steps: u32,
) -> (Findings, Option<String>) {
    let mut malformed: Option<String> = None;
    let mut skipped = 0usize;
    let mut out = Findings {
        findings: Vec::new(),
        unknown: None,
        internal: None,
        notes: Vec::new(),
        assumptions: Vec::new(),
        shaped_actions: Vec::new(),
    };
    // the property (allowed(gain) ∧ ¬allowed(base) has no model) is defined in the verifier
    let mut v = match Verifier::new(Property::NoWidening { base, gain }, &opts.query) {
        Ok(v) => v,
        Err(e) => {
            out.unknown = Some(e);
            return (out, malformed);
        }
    };
    out.notes = v.notes().to_vec();
    out.assumptions = v.assumptions().to_vec();
    out.shaped_actions = v.prepared().enc.shaped_actions.clone();
    while out.findings.len() < opts.max_findings {
        // After the first finding the answer stands and `compare` asks no second query, so the
        // search for more runs without the first query's phase (half of the time left): only
        // the step limit and the command's --timeout bound it.
        let answer = if out.findings.is_empty() {
            v.ask()
        } else {
            crate::deadline::lifted(|| v.ask())
        };
        match answer {
            Verification::Counterexample { request, model } => {
                let finding = describe(v.prepared(), base, gain, &request, &model, kind);
                if well_formed_only && !finding_is_well_formed(&finding) {
                    skipped += 1;
                    malformed.get_or_insert_with(|| {
                        format!("{} on {}", request.action, request.resource)
                    });
                    if skipped > MALFORMED_SKIPS {
                        if !out.findings.is_empty() {
                            out.notes.push(format!(
                                "more findings may exist (the search stopped after skipping {skipped} requests on resources outside their actions' ARN formats)"
                            ));
                        }
                        break;
                    }
                } else {
                    out.findings.push(finding);
                }
                // the verdict stands; further findings get a short budget each, counted in Z3's
                // resource steps, not in time (the per-check timeout and --timeout still apply)
                v.set_step_limit(Some(more_steps));
                // next finding: another kind of action if the query depends on the action, else stop
                if !v.exclude_action_class(&model) {
                    break;
                }
            }
            Verification::Proved => break,
            Verification::Disagreement(d) => {
                out.internal = Some(d);
                break;
            }
            Verification::Unknown(r) => {
                if out.findings.is_empty() {
                    out.unknown = Some(r);
                } else {
                    out.notes.push(format!(
                        "more findings may exist (the search for another gave up: {r})"
                    ));
                }
                break;
            }
        }
    }
    (out, malformed)
}

fn describe(
    p: &Prepared,
    base: &Side,
    gain: &Side,
    req: &crate::request::Request,
    model: &crate::solver::Model,
    kind: Verdict,
) -> Finding {
    let (act_yes, mut act_no) = class_patterns(&p.enc, ACTION_SLOT, model);
    // only the patterns of the same service tell what is new
    let svc = format!(
        "{}:",
        req.action.split(':').next().unwrap_or("").to_lowercase()
    );
    act_no.retain(|a| a.starts_with(&svc));
    let like = p
        .enc
        .domain_of(ACTION_SLOT)
        .map(|d| {
            crate::catalog_hint::actions_like(&req.action.to_lowercase(), &d.compiled, &d.preds)
        })
        .unwrap_or_default();
    let mut levels: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, l) in &like {
        *levels.entry(l.clone()).or_default() += 1;
    }
    // "and not P" must hold for the whole class, not just the example: drop the patterns some
    // action of the class matches
    let mut moved: Vec<String> = Vec::new();
    act_no.retain(|pat| {
        let p = crate::automata::Pattern::glob(pat, crate::automata::Mode::Plain);
        let hit = like.iter().any(|(a, _)| p.is_match(&a.to_lowercase()));
        if hit {
            moved.push(pat.clone());
        }
        !hit
    });
    // and "matching" lists every pattern some action of the class matches
    let mut act_yes = act_yes;
    act_yes.extend(moved);
    let level_txt = levels
        .iter()
        .map(|(l, n)| format!("{n} {l}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (res_yes, res_no) = class_patterns(&p.enc, RESOURCE_SLOT, model);
    let ev = gain.evaluate(req);
    // the statements of NEW's own policies that grant the request
    let granting: Vec<&crate::eval::StmtRef> = ev
        .statements
        .iter()
        .filter(|s| {
            matches!(s.set, SetName::Identity | SetName::Resource)
                && s.effect == "Allow"
                && s.policy != crate::query::ALLOW_ALL_NAME
                && s.policy != crate::query::STRICT_GRANT_NAME
        })
        .collect();
    let granted: Vec<GrantRef> = granting
        .iter()
        .map(|s| GrantRef {
            policy: s.policy.clone(),
            statement: s.path.clone(),
            sid: s.sid.clone(),
        })
        .collect();
    let old_decision = decision(base, req);
    let granted_txt: Vec<String> = granting
        .iter()
        .map(|s| match &s.sid {
            Some(sid) => format!("{} ({sid})", s.path),
            None => s.path.clone(),
        })
        .fold(Vec::new(), |mut acc: Vec<String>, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        });
    let verb = if kind == Verdict::Widened {
        "newly allows"
    } else {
        "no longer allows"
    };
    let mut summary = if like.len() > 1 {
        format!(
            "{verb} {} known actions like {} ({level_txt}) on {}",
            like.len(),
            req.action,
            req.resource
        )
    } else if like.len() == 1 {
        format!("{verb} {} ({level_txt}) on {}", req.action, req.resource)
    } else {
        format!(
            "{verb} {} (not in the action catalog) on {}",
            req.action, req.resource
        )
    };
    if !act_yes.is_empty() {
        summary.push_str(&format!(" (actions matching {}", backticked(&act_yes)));
        if !act_no.is_empty() && act_no.len() <= 4 {
            summary.push_str(&format!(" and not {}", backticked(&act_no)));
        }
        summary.push(')');
    }
    let res_shown: Vec<&String> = res_yes.iter().filter(|r| r.as_str() != "*").collect();
    if !res_shown.is_empty() && req.resource != "*" {
        summary.push_str(&format!(
            " on resources matching {}",
            backticked(&res_shown)
        ));
    }
    if !granted_txt.is_empty() {
        summary.push_str(&format!("; granted by {}", granted_txt.join(", ")));
    }
    // trust policies: the identities newly admitted, in the provider's terms
    let identity = federated_identity(p, req, model, kind);
    if let Some(id) = &identity {
        summary = format!("{}: {summary}", id.description);
    }
    // the granting statements, as written: principals and conditions included
    let statements: Vec<Value> = granting
        .iter()
        .filter_map(|s| {
            gain.policies()
                .into_iter()
                .find(|p| p.name == s.policy)
                .and_then(|p| p.statements.iter().find(|st| st.index == s.statement))
        })
        .map(crate::model::statement_json)
        .collect();
    // the finding holds under the assumed key or trust policy (identity policy alone)
    let assumptions: Vec<String> = [base, gain]
        .iter()
        .any(|s| matches!(s, Side::Identity(_)))
        .then(|| crate::query::strict_grant_policy(req))
        .flatten()
        .map(|_| crate::query::STRICT_ASSUMPTION.to_owned())
        .into_iter()
        .collect();
    let (old_decision, new_decision) = if kind == Verdict::Narrowed {
        (Decision::Allow.name(), old_decision.name())
    } else {
        (old_decision.name(), Decision::Allow.name())
    };
    Finding {
        assumptions,
        newly_allowed_by: statements,
        kind,
        summary,
        action: ActionClass {
            example: req.action.clone(),
            matches: act_yes,
            does_not_match: act_no,
            known_actions: like.iter().map(|(a, _)| a.clone()).collect(),
            access_levels: levels,
        },
        resource: ResourceClass {
            example: req.resource.clone(),
            matches: res_yes,
            does_not_match: res_no,
        },
        granted_by: granted,
        old_decision,
        new_decision,
        request: request_json(req, &p.enc),
        identity,
        no_longer_denied_by: None,
    }
}

/// For a web-identity or SAML caller: who is (no longer) admitted, described in the provider's
/// own terms where its subject grammar is known (`crates/iamprove-account/data/oidc-providers.json`): the `sub` patterns
/// the finding's class matches, and those it does not.
fn federated_identity(
    p: &Prepared,
    req: &crate::request::Request,
    model: &crate::solver::Model,
    kind: Verdict,
) -> Option<FederatedIdentity> {
    use crate::request::PrincipalKind;
    use crate::trust::providers;
    let verb = if kind == Verdict::Narrowed {
        "no longer admits"
    } else {
        "now admits"
    };
    match &req.principal.kind {
        PrincipalKind::Saml { .. } => Some(FederatedIdentity {
            kind: "saml",
            provider: req.principal.raw.clone(),
            description: format!("{verb} SAML users of `{}`", req.principal.raw),
            sub: None,
        }),
        PrincipalKind::WebIdentity { .. } => {
            let host = providers::claim_prefix(&req.principal.raw);
            let prov = providers::provider_for(&host);
            let key = format!("{host}:sub");
            let (yes, no) = p
                .enc
                .keys
                .get(&key)
                .and_then(|k| k.slots.first())
                .map(|s| class_patterns(&p.enc, *s, model))
                .unwrap_or_default();
            let noun = match prov {
                Some(pv) => format!("{} {}", pv.name, pv.noun),
                None => format!("identities of `{host}`"),
            };
            let mut text = if yes.is_empty() {
                format!("{verb} {noun} with any subject")
            } else {
                let parts: Vec<String> = yes
                    .iter()
                    .map(|pat| {
                        prov.and_then(|pv| providers::describe_sub(pv, pat))
                            .map(|fs| {
                                fs.iter()
                                    .map(providers::FieldValue::show)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_else(|| format!("subject matching `{pat}`"))
                    })
                    .collect();
                format!("{verb} {noun} of {}", parts.join(" and "))
            };
            if !no.is_empty() && no.len() <= 4 {
                text.push_str(&format!(" (subject not matching {})", backticked(&no)));
            }
            let sub = req
                .context
                .get(&key)
                .and_then(|v| v.values.first().cloned());
            Some(FederatedIdentity {
                kind: "oidc",
                provider: req.principal.raw.clone(),
                description: text,
                sub: Some(SubjectClass {
                    example: sub,
                    matches: yes,
                    does_not_match: no,
                }),
            })
        }
        _ => None,
    }
}

/// Why `diff` produced no report.
#[derive(Debug)]
pub enum DiffError {
    /// Located input errors (exit 2).
    Input(Errors),
    /// The encoder and the evaluator disagree (exit 2, to be reported).
    Internal(Disagreement),
}

/// The report of `diff OLD NEW`. Its serde form is the `--format json` output.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    /// `widened`, `no_widening` or `unknown`.
    pub verdict: Verdict,
    /// Widening findings first, then (with `--direction both`) narrowing findings.
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    /// What the answer relies on beyond the inputs (a proof holds under these).
    pub assumptions: Vec<String>,
    /// With `--direction both`: `narrowed`, `no_narrowing` or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrowing: Option<Verdict>,
}

/// The `diff OLD NEW` command: load both files, compare (both ways with `--direction both`).
pub fn run(old_path: &Path, new_path: &Path, opts: &DiffOptions) -> Result<DiffReport, DiffError> {
    let (old_doc, new_doc) = match (read_json(old_path), read_json(new_path)) {
        (Ok(o), Ok(n)) => (o, n),
        (o, n) => {
            let mut errs = Vec::new();
            errs.extend(o.err().unwrap_or_default());
            errs.extend(n.err().unwrap_or_default());
            return Err(DiffError::Input(errs));
        }
    };
    let old = side_from_json(&old_doc, old_path, opts.kind, Some(&new_doc));
    let new = side_from_json(&new_doc, new_path, opts.kind, Some(&old_doc));
    let (old, new) = match (old, new) {
        (Ok(o), Ok(n)) => (o, n),
        (o, n) => {
            let mut errs = Vec::new();
            errs.extend(o.err().unwrap_or_default());
            errs.extend(n.err().unwrap_or_default());
            return Err(DiffError::Input(errs));
        }
    };
    if matches!(old, Side::Scenario(_)) != matches!(new, Side::Scenario(_)) {
        return Err(DiffError::Input(vec![InputError::new(
            &new_path.display().to_string(),
            None,
            "OLD and NEW must both be policy documents or both be scenario files",
        )]));
    }
    let widen = compare(&old, &new, opts, "widened");
    let narrow = if opts.direction == Direction::Both {
        Some(compare(&new, &old, opts, "narrowed"))
    } else {
        None
    };
    if let Some(e) = widen
        .internal
        .as_ref()
        .or(narrow.as_ref().and_then(|n| n.internal.as_ref()))
    {
        return Err(DiffError::Internal(e.clone()));
    }
    let verdict = Verdict::of_search(
        !widen.findings.is_empty(),
        widen.unknown.is_some(),
        Verdict::Widened,
        Verdict::NoWidening,
    );
    let mut findings = widen.findings.clone();
    if let Some(n) = &narrow {
        findings.extend(n.findings.iter().cloned());
    }
    let mut notes = widen.notes.clone();
    let mut assumptions = widen.assumptions.clone();
    if let Some(n) = &narrow {
        for a in &n.assumptions {
            if !assumptions.contains(a) {
                assumptions.push(a.clone());
            }
        }
    }
    if let Some(u) = &widen.unknown {
        notes.push(format!("solver gave up: {u}"));
    }
    if let Some(n) = &narrow {
        if let Some(u) = &n.unknown {
            notes.push(format!("narrowing check gave up: {u}"));
        }
    }
    let narrowing = narrow.as_ref().map(|n| {
        Verdict::of_search(
            !n.findings.is_empty(),
            n.unknown.is_some(),
            Verdict::Narrowed,
            Verdict::NoNarrowing,
        )
    });
    Ok(DiffReport {
        verdict,
        findings,
        notes,
        assumptions,
        narrowing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(identity: bool) -> Finding {
        Finding {
            assumptions: vec!["assumed".into()],
            newly_allowed_by: vec![json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})],
            kind: Verdict::Widened,
            summary: "newly allows s3:GetObject".into(),
            action: ActionClass {
                example: "s3:GetObject".into(),
                matches: vec!["s3:*".into()],
                does_not_match: Vec::new(),
                known_actions: vec!["s3:GetObject".into()],
                access_levels: [("Read".to_owned(), 1)].into_iter().collect(),
            },
            resource: ResourceClass {
                example: "*".into(),
                matches: vec!["*".into()],
                does_not_match: Vec::new(),
            },
            granted_by: vec![GrantRef {
                policy: "/repo/new.json".into(),
                statement: "Statement[0]".into(),
                sid: None,
            }],
            old_decision: "ImplicitDeny",
            new_decision: "Allow",
            request: json!({"principal": "arn:aws:iam::1:user/a", "action": "s3:GetObject", "resource": "*"}),
            identity: identity.then(|| FederatedIdentity {
                kind: "oidc",
                provider: "token.actions.githubusercontent.com".into(),
                description: "now admits GitHub Actions workflows".into(),
                sub: Some(SubjectClass {
                    example: None,
                    matches: vec!["repo:o/r:*".into()],
                    does_not_match: Vec::new(),
                }),
            }),
            no_longer_denied_by: None,
        }
    }

    /// The typed Deny-removal finding prints exactly what the IaC report printed when it edited
    /// the JSON object: `granted_by` removed (serde_json's `remove` swaps the last key into its
    /// place under `preserve_order`) and `no_longer_denied_by` appended.
    #[test]
    fn deny_removal_json_keeps_the_old_key_order() {
        for identity in [false, true] {
            let plain = finding(identity);
            let mut old = serde_json::to_value(&plain).unwrap();
            let g = old["granted_by"].clone();
            let o = old.as_object_mut().unwrap();
            o.remove("granted_by");
            o.insert("no_longer_denied_by".into(), g);
            let mut typed = plain.clone();
            typed.no_longer_denied_by = Some(std::mem::take(&mut typed.granted_by));
            assert_eq!(
                serde_json::to_string(&typed).unwrap(),
                serde_json::to_string(&old).unwrap(),
                "identity: {identity}"
            );
        }
    }

    /// `for_each_text` reaches every string the JSON form holds (what `gitdiff` rewrites).
    #[test]
    fn for_each_text_visits_every_string_value() {
        fn strings(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(m) => m.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut f = finding(true);
        f.no_longer_denied_by = Some(f.granted_by.clone());
        let mut seen = Vec::new();
        f.for_each_text(&mut |s: &mut String| seen.push(s.clone()));
        let mut all = Vec::new();
        strings(&serde_json::to_value(&f).unwrap(), &mut all);
        // the kinds and the decision names are not visited (constants, never a path)
        for s in all {
            if !["widened", "oidc", "ImplicitDeny", "Allow"].contains(&s.as_str()) {
                assert!(seen.contains(&s), "{s} not visited");
            }
        }
    }

    /// `load_side` (embedding API) loads the example policies; `compare` then finds the
    /// widening; a missing file is a located input error.
    #[test]
    fn load_side_reads_policies_and_reports_input_errors() {
        let old = load_side(Path::new("examples/diff/old.json"), None, None).unwrap();
        let new = load_side(Path::new("examples/diff/new.json"), None, None).unwrap();
        let opts = DiffOptions {
            kind: None,
            max_findings: 1,
            direction: Direction::Widen,
            query: crate::query::QueryOptions::default(),
        };
        let found = compare(&old, &new, &opts, "widened");
        assert!(found.internal.is_none() && found.unknown.is_none());
        assert_eq!(found.findings.len(), 1);
        assert_eq!(found.findings[0].kind, Verdict::Widened);
        assert!(!found.findings[0].granted_by.is_empty());
        let err = load_side(Path::new("examples/diff/missing.json"), None, None)
            .err()
            .unwrap();
        assert!(err[0].to_string().contains("missing.json"), "{err:?}");
    }

    /// Issue 13: after the first finding the search for more is bounded by counted Z3 steps
    /// ([`MORE_FINDINGS_STEPS`]), not by the wall clock, so the findings listed do not depend on
    /// the machine. With a tiny step limit the search stops after the first finding, whatever
    /// the timeout (it used to be 3 s of wall clock per check); with the default one, a
    /// per-check timeout twenty times larger lists the same findings.
    #[test]
    fn more_findings_are_bounded_by_steps_not_time() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.json");
        let new = dir.path().join("new.json");
        let old_doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        std::fs::write(&old, old_doc.to_string()).unwrap();
        // numeric conditions: the query goes to Z3 (the step limit applies to Z3 checks)
        let stmts: Vec<Value> = [
            "s3:PutObject",
            "ec2:RunInstances",
            "sqs:SendMessage",
            "sns:Publish",
        ]
        .iter()
        .enumerate()
        .map(|(i, a)| {
            json!({"Effect": "Allow", "Action": a, "Resource": "*",
                "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": (i + 1) * 600}}})
        })
        .collect();
        let new_doc = json!({"Version": "2012-10-17", "Statement": stmts});
        std::fs::write(&new, new_doc.to_string()).unwrap();
        // (actions found, notes, unknown), each run on a fresh thread: a fresh thread-local Z3
        // context, as in a fresh process (a context that already ran a query numbers its ASTs
        // differently, and Z3 may then list the same findings in another order)
        let run = |timeout_ms: u32, steps: u32| {
            let (old, new) = (old.clone(), new.clone());
            std::thread::spawn(move || {
                let old = load_side(&old, None, None).unwrap();
                let new = load_side(&new, None, None).unwrap();
                let opts = DiffOptions {
                    kind: None,
                    max_findings: 10,
                    direction: Direction::Widen,
                    query: crate::query::QueryOptions {
                        timeout_ms,
                        ..Default::default()
                    },
                };
                let f = compare_steps(&old, &new, &opts, Verdict::Widened, false, steps).0;
                let actions: Vec<String> = f
                    .findings
                    .iter()
                    .map(|x| x.action.example.clone())
                    .collect();
                (actions, f.notes, f.unknown, f.internal.is_some())
            })
            .join()
            .unwrap()
        };
        let default = run(30_000, MORE_FINDINGS_STEPS);
        assert!(default.2.is_none() && !default.3, "{default:?}");
        assert_eq!(default.0.len(), 4, "{default:?}");
        assert_eq!(run(600_000, MORE_FINDINGS_STEPS), default);
        // one step: the second check gives up at once, by count, even with ten minutes per check
        let tiny = run(600_000, 1);
        assert!(tiny.2.is_none() && !tiny.3, "{tiny:?}");
        assert_eq!(tiny.0, default.0[..1].to_vec());
        assert!(
            tiny.1.iter().any(|n| n.contains("more findings may exist")
                && n.contains(crate::solver::STEP_LIMIT_REASON)),
            "{tiny:?}"
        );
        assert_eq!(run(600_000, 1), tiny, "the same on every run");
    }
}
