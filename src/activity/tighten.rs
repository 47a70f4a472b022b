//! `iamprove tighten`: narrow an identity policy to what was used, proven by `diff NEW OLD`
//! (no widening, through `diff::compare`) and by replaying every observed request.

use super::cloudtrail::{Event, Resource};
use super::{by_level, observe, replay, request_of, Observation};
use crate::catalog::Catalog;
use crate::diff::{compare, DiffOptions, Direction};
use crate::eval::{evaluate, Applies, Decision, Matcher, Miss};
use crate::model::{ActionElem, Effect, Policy, PolicyType};
use crate::query::{QueryOptions, Side};
use crate::scenario::{locate, read_json, Errors, InputError, Scenario};
use crate::verdict::Verdict;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Catalog actions (lower case) an action element matches.
pub fn expand(a: &ActionElem) -> BTreeSet<&'static str> {
    let cat = Catalog::get();
    let mut m: BTreeSet<&'static str> = BTreeSet::new();
    for p in &a.patterns {
        m.extend(cat.matching_actions(&p.lower));
    }
    if a.negated {
        cat.lowercase_names()
            .iter()
            .copied()
            .filter(|n| !m.contains(n))
            .collect()
    } else {
        m
    }
}

fn allowed_actions(p: &Policy) -> BTreeSet<&'static str> {
    p.statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .flat_map(|s| expand(&s.action))
        .collect()
}

fn count_levels(actions: &BTreeSet<&'static str>) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for a in actions {
        *m.entry(by_level(a)).or_insert(0) += 1;
    }
    m
}

/// The policy file: parsed, and its statements as JSON (same order).
fn load(path: &Path) -> Result<(Policy, Value, Vec<Value>), Errors> {
    let doc = read_json(path)?;
    let file = path.display().to_string();
    let (inner, prefix) = crate::parse::unwrap_envelope(&doc);
    let pol = crate::parse::parse_policy(inner, PolicyType::Identity, &file)
        .map_err(|e| locate(&file, &prefix, e))?;
    let v = inner.to_value();
    let stmts = match v.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(o) => vec![o.clone()],
        None => Vec::new(),
    };
    if stmts.len() != pol.statements.len() {
        return Err(vec![InputError::new(
            &file,
            Some("Statement".into()),
            "statements could not be read back",
        )]);
    }
    Ok((pol, v, stmts))
}

fn one_or_list(v: Vec<String>) -> Value {
    if v.len() == 1 {
        json!(v[0])
    } else {
        json!(v)
    }
}

fn new_doc(orig: &Value, stmts: Vec<Value>) -> Value {
    let mut d = serde_json::Map::new();
    d.insert(
        "Version".into(),
        orig.get("Version").cloned().unwrap_or(json!("2012-10-17")),
    );
    if let Some(id) = orig.get("Id") {
        d.insert("Id".into(), id.clone());
    }
    d.insert("Statement".into(), Value::Array(stmts));
    Value::Object(d)
}

/// Prove NEW ⊆ OLD with `diff::compare` and report the verdict.
fn prove(old: &Policy, new: &Policy, opts: &QueryOptions) -> (Verdict, Option<String>) {
    let d = DiffOptions {
        kind: Some(PolicyType::Identity),
        max_findings: 1,
        direction: Direction::Widen,
        query: QueryOptions {
            timeout_ms: opts.timeout_ms,
            limits: opts.limits,
            dump_smt: opts.dump_smt.clone(),
            well_formed: opts.well_formed,
            declared_shapes: true,
            slice: true,
        },
    };
    let f = compare(
        &Side::Identity(vec![old.clone()]),
        &Side::Identity(vec![new.clone()]),
        &d,
        "widened",
    );
    if let Some(e) = f.internal {
        return (Verdict::Error, Some(e.to_string()));
    }
    if !f.findings.is_empty() {
        return (
            Verdict::Error,
            Some(format!(
                "the narrowed policy widens: {}",
                serde_json::to_string(&f.findings).unwrap_or_default()
            )),
        );
    }
    if let Some(u) = f.unknown {
        return (Verdict::Unknown, Some(u));
    }
    (Verdict::NoWidening, None)
}

/// The report of `tighten`: the narrowed policy, the proof that it does not widen, and what
/// it removes. Serialized with the field names (and order) the JSON report has always had.
#[derive(Debug, Clone, Serialize)]
pub struct TightenReport {
    /// `no_widening` (proved), `unknown` (`error` says why), or `error`: an internal error
    /// (the narrowed policy widens or loses an observed request; `error` says which), which
    /// the CLI reports with exit 2 instead of printing the report.
    pub verdict: Verdict,
    /// Why the verdict is not `no_widening` (`None` when it is).
    pub error: Option<String>,
    /// The narrowed policy document.
    pub policy: Value,
    /// The proof.
    pub proof: TightenProof,
    /// The observed requests (CloudTrail input only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<TightenObserved>,
    /// One entry per Allow statement: what became of it.
    pub statements: Vec<StatementChange>,
    /// What the narrowing removes, counted in catalog actions.
    pub removed: Removal,
}

/// What `tighten` did to one Allow statement of the policy.
#[derive(Debug, Clone, Serialize)]
pub struct StatementChange {
    /// Its Sid, or its JSON path without one.
    pub statement: String,
    /// `narrowed`, `kept`, or `removed (…why…)`.
    pub change: &'static str,
    /// The actions a narrowed statement keeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
    /// From CloudTrail, for a narrowed statement: its resource change (`null` when unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Option<ResourceChange>>,
}

impl StatementChange {
    fn new(statement: String, change: &'static str) -> StatementChange {
        StatementChange {
            statement,
            change,
            actions: None,
            resource: None,
        }
    }
}

/// The resource element of a narrowed statement, before and after.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceChange {
    /// The patterns before.
    pub from: Vec<String>,
    /// The patterns after.
    pub to: Vec<String>,
}

/// The proof part of a [`TightenReport`]; the `observed_*` fields come with CloudTrail input,
/// `used_actions_kept` with last-accessed input.
#[derive(Debug, Clone, Serialize)]
pub struct TightenProof {
    /// The verdict of `diff NEW OLD` (the report's verdict unless a check after it failed).
    pub diff_new_old: Verdict,
    /// Why that diff is not `no_widening`.
    pub diff_detail: Option<String>,
    /// Observed requests replayed as Allow under the narrowed policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_allowed: Option<usize>,
    /// Observed requests with a known resource (replayed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_replayed: Option<usize>,
    /// Observed requests that name no resource (not replayed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_without_resource: Option<usize>,
    /// Assumptions of the replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumptions: Option<Vec<String>>,
    /// Every used tracked action the old policy granted is still named by the new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_actions_kept: Option<bool>,
}

/// The observed requests of a CloudTrail [`TightenReport`].
#[derive(Debug, Clone, Serialize)]
pub struct TightenObserved {
    /// Successful requests with a known IAM action.
    pub successful_requests: usize,
    /// Those the policy grants.
    pub granted_by_policy: usize,
    /// Those it does not (granted elsewhere, or denied): `record`, `action`, `resource`.
    pub not_granted_by_policy: Vec<Value>,
    /// Denied requests in the input.
    pub denied: usize,
    /// Records skipped (not an observed success, or no known action).
    pub skipped: usize,
}

/// What a narrowing removes: catalog actions per access level before, after and removed.
#[derive(Debug, Clone, Serialize)]
pub struct Removal {
    /// Catalog actions the old policy allows, per access level.
    pub catalog_actions_before: BTreeMap<&'static str, usize>,
    /// Catalog actions the new policy allows, per access level.
    pub catalog_actions_after: BTreeMap<&'static str, usize>,
    /// Catalog actions removed, per access level.
    pub catalog_actions_removed: BTreeMap<&'static str, usize>,
    /// Catalog actions removed in all.
    pub removed_total: usize,
    /// Services no action of which is allowed any more.
    pub services_removed: Vec<String>,
}

fn removal(old: &Policy, new: &Policy) -> Removal {
    let (o, n) = (allowed_actions(old), allowed_actions(new));
    let removed: BTreeSet<&'static str> = o.difference(&n).copied().collect();
    let services = |s: &BTreeSet<&'static str>| -> BTreeSet<String> {
        s.iter()
            .filter_map(|a| a.split(':').next())
            .map(str::to_owned)
            .collect()
    };
    let removed_services: Vec<String> = services(&o).difference(&services(&n)).cloned().collect();
    Removal {
        catalog_actions_before: count_levels(&o),
        catalog_actions_after: count_levels(&n),
        catalog_actions_removed: count_levels(&removed),
        removed_total: removed.len(),
        services_removed: removed_services,
    }
}

/// Narrow to observed CloudTrail requests.
pub fn tighten_cloudtrail(
    path: &Path,
    events: &[Event],
    principal: Option<&str>,
    opts: &QueryOptions,
) -> Result<TightenReport, Errors> {
    let (old, orig, raw) = load(path)?;
    let file = path.display().to_string();
    let (obs, denied, skipped) = observe(events, |e| principal.is_none_or(|p| e.by(p)));
    let mut sc = Scenario::empty();
    sc.identity_policies = vec![old.clone()];
    // per statement: used actions, used resources, whether the resource must stay as is
    let n = old.statements.len();
    // per statement: action → (observed resources, some request's resource unknown)
    let mut per_action: Vec<BTreeMap<String, (BTreeSet<String>, bool)>> = vec![BTreeMap::new(); n];
    let mut granted: Vec<Observation> = Vec::new();
    let mut not_granted = Vec::new();
    for o in &obs {
        let req = request_of(o);
        let known = matches!(o.resource, Resource::Known(_));
        if known {
            let r = replay(&old, std::slice::from_ref(o));
            if r.allowed == 0 {
                not_granted
                    .push(json!({"record": o.label, "action": o.action, "resource": req.resource}));
                continue;
            }
        }
        let m = Matcher::new(&req);
        let mut covered = false;
        for (i, s) in old.statements.iter().enumerate() {
            if s.effect != Effect::Allow {
                continue;
            }
            let ok = match m.applies(&old, s) {
                Applies::Yes(_) => true,
                Applies::No(Miss::Resource) => !known,
                _ => false,
            };
            if ok {
                covered = true;
                let e = per_action[i].entry(o.action.clone()).or_default();
                match &o.resource {
                    Resource::Known(r) => {
                        e.0.insert(r.clone());
                    }
                    Resource::Unknown(_) => e.1 = true,
                }
            }
        }
        if covered {
            granted.push(o.clone());
        } else {
            not_granted
                .push(json!({"record": o.label, "action": o.action, "resource": req.resource}));
        }
    }
    let mut stmts = Vec::new();
    let mut changes = Vec::new();
    for (i, s) in old.statements.iter().enumerate() {
        let label = s.sid.clone().unwrap_or_else(|| s.path.clone());
        if s.effect == Effect::Deny {
            stmts.push(raw[i].clone());
            continue;
        }
        if per_action[i].is_empty() {
            changes.push(StatementChange::new(
                label,
                "removed (no observed request used it)",
            ));
            continue;
        }
        let res_elem = s.resource.as_ref();
        let was: Vec<String> = res_elem
            .map(|r| r.patterns.iter().map(|p| p.raw.clone()).collect())
            .unwrap_or_default();
        let negated = res_elem.is_some_and(|r| r.negated);
        let has_vars = was.iter().any(|p| p.contains("${"));
        // `Resource: *`: any pattern is narrower, so observed ARNs may be generalised as
        // `generate` does; otherwise only the exact observed ARNs are used
        let star = !negated && was.iter().any(|p| p == "*");
        // resource patterns → actions; `None`: the statement's own resource element
        let mut groups: BTreeMap<Option<Vec<String>>, Vec<String>> = BTreeMap::new();
        for (action, (arns, unknown)) in &per_action[i] {
            let literal = arns.iter().all(|r| !r.contains(['*', '?', '$']));
            let key = if *unknown || has_vars || !literal || res_elem.is_none() {
                None
            } else if star {
                Some(
                    super::generate::generalise(action, arns)
                        .into_iter()
                        .map(|(p, _)| p)
                        .collect(),
                )
            } else {
                Some(arns.iter().cloned().collect())
            };
            groups.entry(key).or_default().push(action.clone());
        }
        for (n, (res, acts)) in groups.into_iter().enumerate() {
            let mut st = raw[i].clone();
            let Some(obj) = st.as_object_mut() else {
                continue;
            };
            obj.remove("NotAction");
            obj.insert("Action".into(), one_or_list(acts.clone()));
            if n > 0 {
                if let Some(sid) = &s.sid {
                    obj.insert("Sid".into(), json!(format!("{sid}{}", n + 1)));
                }
            }
            let mut res_change = None;
            if let Some(new) = res {
                if new != was || negated {
                    obj.remove("NotResource");
                    obj.insert("Resource".into(), one_or_list(new.clone()));
                    res_change = Some(ResourceChange {
                        from: was.clone(),
                        to: new,
                    });
                }
            }
            changes.push(StatementChange {
                actions: Some(acts),
                resource: Some(res_change),
                ..StatementChange::new(label.clone(), "narrowed")
            });
            stmts.push(st);
        }
    }
    if !stmts
        .iter()
        .any(|s| s.get("Effect") == Some(&json!("Allow")))
    {
        return Err(vec![InputError::new(
            &file,
            None,
            format!("no observed request is granted by this policy ({} observed, {} granted elsewhere or not at all): nothing to keep; detach the policy instead", obs.len(), not_granted.len()),
        )]);
    }
    let doc = new_doc(&orig, stmts);
    let new = super::parse_generated(&doc, "tightened policy")
        .map_err(|e| vec![InputError::new(&file, None, e)])?;
    let (verdict, detail) = prove(&old, &new, opts);
    let known: Vec<Observation> = granted
        .iter()
        .filter(|o| matches!(o.resource, Resource::Known(_)))
        .cloned()
        .collect();
    let r = replay(&new, &known);
    let verdict = if !r.failures.is_empty() {
        Verdict::Error
    } else {
        verdict
    };
    let error = if r.failures.is_empty() {
        detail.clone()
    } else {
        Some(format!(
            "observed requests not allowed by the narrowed policy: {}",
            Value::Array(r.failures.clone())
        ))
    };
    Ok(TightenReport {
        verdict,
        error,
        removed: removal(&old, &new),
        policy: doc,
        proof: TightenProof {
            diff_new_old: verdict,
            diff_detail: detail,
            observed_allowed: Some(r.allowed),
            observed_replayed: Some(known.len()),
            observed_without_resource: Some(granted.len() - known.len()),
            assumptions: Some(r.assumptions),
            used_actions_kept: None,
        },
        observed: Some(TightenObserved {
            successful_requests: obs.len(),
            granted_by_policy: granted.len(),
            not_granted_by_policy: not_granted,
            denied: denied.len(),
            skipped: skipped.len(),
        }),
        statements: changes,
    })
}

/// Used service → (used tracked actions, all tracked actions), `None` without action-level data.
type LastAccessed = BTreeMap<String, Option<(BTreeSet<String>, BTreeSet<String>)>>;

/// `aws iam get-service-last-accessed-details` output: used services, and per service the
/// tracked actions used (`None`: no action-level data).
fn read_last_accessed(path: &Path) -> Result<LastAccessed, Errors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![InputError::new(&file, None, format!("cannot read: {e}"))])?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| vec![InputError::new(&file, None, format!("invalid JSON: {e}"))])?;
    let Some(Value::Array(list)) = v.get("ServicesLastAccessed") else {
        return Err(vec![InputError::new(
            &file,
            Some("ServicesLastAccessed".into()),
            "expected an array (output of `aws iam get-service-last-accessed-details`)",
        )]);
    };
    let mut out = BTreeMap::new();
    for (i, s) in list.iter().enumerate() {
        let Some(ns) = s.get("ServiceNamespace").and_then(Value::as_str) else {
            return Err(vec![InputError::new(
                &file,
                Some(format!("ServicesLastAccessed[{i}].ServiceNamespace")),
                "missing or not a string",
            )]);
        };
        let used = s.get("LastAuthenticated").is_some_and(|x| !x.is_null());
        if !used {
            continue;
        }
        let tracked = match s.get("TrackedActionsLastAccessed") {
            Some(Value::Array(acts)) => {
                let mut used_a = BTreeSet::new();
                let mut all = BTreeSet::new();
                for a in acts {
                    if let Some(n) = a.get("ActionName").and_then(Value::as_str) {
                        let full = format!("{}:{}", ns, n).to_lowercase();
                        all.insert(full.clone());
                        if a.get("LastAccessedTime").is_some_and(|x| !x.is_null()) {
                            used_a.insert(full);
                        }
                    }
                }
                Some((used_a, all))
            }
            _ => None,
        };
        out.insert(ns.to_lowercase(), tracked);
    }
    Ok(out)
}

/// Narrow to the services (and tracked actions) IAM reports as used.
pub fn tighten_last_accessed(
    path: &Path,
    la: &Path,
    opts: &QueryOptions,
) -> Result<TightenReport, Errors> {
    let (old, orig, raw) = load(path)?;
    let file = path.display().to_string();
    let used = read_last_accessed(la)?;
    let cat = Catalog::get();
    let mut stmts = Vec::new();
    let mut changes = Vec::new();
    for (i, s) in old.statements.iter().enumerate() {
        let label = s.sid.clone().unwrap_or_else(|| s.path.clone());
        if s.effect == Effect::Deny {
            stmts.push(raw[i].clone());
            continue;
        }
        let matched = expand(&s.action);
        let mut keep_patterns: Vec<String> = Vec::new();
        let mut kept_all = true;
        let mut by_service: BTreeMap<&str, Vec<&'static str>> = BTreeMap::new();
        for a in &matched {
            if let Some((svc, _)) = a.split_once(':') {
                by_service.entry(svc).or_default().push(a);
            }
        }
        for (svc, acts) in &by_service {
            let Some(tracked) = used.get(*svc) else {
                kept_all = false;
                continue;
            };
            let keep: Vec<&&str> = acts
                .iter()
                .filter(|a| match tracked {
                    Some((used_a, all)) => used_a.contains(**a) || !all.contains(**a),
                    None => true,
                })
                .collect();
            if keep.len() == acts.len() && !s.action.negated {
                // the whole service stays: keep the statement's own patterns for it
                let own: Vec<String> = s
                    .action
                    .patterns
                    .iter()
                    .filter(|p| p.lower.split_once(':').is_some_and(|(ps, _)| ps == *svc))
                    .map(|p| p.raw.clone())
                    .collect();
                if !own.is_empty() {
                    keep_patterns.extend(own);
                    continue;
                }
                if s.action.patterns.iter().any(|p| p.lower == "*") {
                    keep_patterns.push(format!("{svc}:*"));
                    continue;
                }
            } else {
                kept_all = false;
            }
            keep_patterns.extend(keep.iter().filter_map(|a| cat.display_name(a)));
        }
        keep_patterns.sort();
        keep_patterns.dedup();
        if keep_patterns.is_empty() {
            changes.push(StatementChange::new(label, "removed (no used service)"));
            continue;
        }
        if kept_all && !s.action.negated {
            stmts.push(raw[i].clone());
            changes.push(StatementChange::new(label, "kept"));
            continue;
        }
        let mut st = raw[i].clone();
        if let Some(obj) = st.as_object_mut() {
            obj.remove("NotAction");
            obj.insert("Action".into(), one_or_list(keep_patterns.clone()));
        }
        changes.push(StatementChange {
            actions: Some(keep_patterns),
            ..StatementChange::new(label, "narrowed")
        });
        stmts.push(st);
    }
    if !stmts
        .iter()
        .any(|s| s.get("Effect") == Some(&json!("Allow")))
    {
        return Err(vec![InputError::new(&file, None, "the last-accessed data shows no used service that this policy grants: nothing to keep; detach the policy instead")]);
    }
    let doc = new_doc(&orig, stmts);
    let new = super::parse_generated(&doc, "tightened policy")
        .map_err(|e| vec![InputError::new(&file, None, e)])?;
    let (verdict, detail) = prove(&old, &new, opts);
    // every used tracked action the old policy granted is still named by the new one
    let still = allowed_actions(&new);
    let before = allowed_actions(&old);
    let lost: Vec<&String> = used
        .values()
        .flatten()
        .flat_map(|(u, _)| u.iter())
        .filter(|a| before.contains(a.as_str()) && !still.contains(a.as_str()))
        .collect();
    let verdict = if lost.is_empty() {
        verdict
    } else {
        Verdict::Error
    };
    let _ = (evaluate, Decision::Allow);
    let error = if lost.is_empty() {
        detail.clone()
    } else {
        Some(format!("used actions lost: {lost:?}"))
    };
    Ok(TightenReport {
        verdict,
        error,
        removed: removal(&old, &new),
        policy: doc,
        proof: TightenProof {
            diff_new_old: verdict,
            diff_detail: detail,
            observed_allowed: None,
            observed_replayed: None,
            observed_without_resource: None,
            assumptions: None,
            used_actions_kept: Some(lost.is_empty()),
        },
        observed: None,
        statements: changes,
    })
}
