//! `iamprove check SPEC`: prove invariants of a policy, a set of policies or a scenario.
//!
//! Spec format: see `specs/README.md`. Each invariant is `forbid` (no allowed request matches a
//! statement-like pattern), `require` (every request matching it is allowed), `no_public`
//! (no caller outside the accounts and organisation values the policy itself names, nor an
//! anonymous one, is allowed) or `no_admin` (no action of a service the policies never name is
//! allowed on `*`, i.e. nothing grants "everything").

use crate::json::{Json, JsonPath};
use crate::model::{Policy, PolicyType, PrincipalEntry};
use crate::query::{request_json, QueryOptions, Side};
use crate::request::Request;
use crate::scenario::{locate, read_json, Errors, InputError};
use crate::verdict::Verdict;
use crate::verify::{Mode, Property, RequestPattern, Verification, Verifier};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Kind {
    Forbid,
    Require,
}

/// A compiled invariant: a statement-like pattern and how to read it.
#[derive(Debug, Clone)]
pub struct Invariant {
    pub id: String,
    pub description: String,
    pub kind: Kind,
    /// The pattern as a statement (its principal element is handled by `principal`).
    pub pattern: Policy,
    /// `Principal` entries the request must match (None: any principal).
    pub principal: Option<Vec<PrincipalEntry>>,
    /// `NotPrincipal` entries the request must not match.
    pub not_principal: Vec<PrincipalEntry>,
    /// Where it came from (file), for reports.
    pub source: String,
}

#[derive(Debug, Clone)]
enum RawInvariant {
    Match {
        id: String,
        description: String,
        kind: Kind,
        body: Json,
        file: String,
        path: JsonPath,
    },
    NoPublic {
        id: String,
        description: String,
        trusted_accounts: Vec<String>,
        file: String,
    },
    NoAdmin {
        id: String,
        description: String,
        file: String,
    },
    /// `only_assumable_by` (trust policies; docs/trust.md).
    OnlyAssumableBy {
        id: String,
        description: String,
        allowed: crate::trust::Allowed,
        file: String,
    },
}

pub struct Spec {
    pub targets: Vec<(String, Side)>,
    /// An account-wide target (`{"account": ...}`), checked over every principal.
    pub account: Option<crate::account::Inputs>,
    raw: Vec<RawInvariant>,
    /// Raw invariant bodies with their `except` lists, for account targets.
    account_raw: Vec<AccountInvariant>,
}

/// An invariant over an account: no principal outside `except` is allowed any request matching
/// `question` (a statement-like pattern: `Action`/`NotAction`, `Resource`/`NotResource`,
/// `Condition`), directly, through role chains, or by escalating; or (`no_escalation`) no
/// principal outside `except` can escalate.
#[derive(Debug, Clone)]
pub struct AccountInvariant {
    pub id: String,
    pub description: String,
    pub question: Option<crate::account::pattern::Question>,
    /// The pattern as written (for reports).
    pub pattern_json: Value,
    pub except: Vec<String>,
    pub no_escalation: bool,
    /// `require`: the principals (ARN patterns) that must each be allowed every matching
    /// request (`None`: a `forbid` or `no_escalation` invariant).
    pub require: Option<Vec<String>>,
}

fn err(file: &str, path: &JsonPath, msg: impl Into<String>) -> InputError {
    InputError::new(file, Some(path.to_string()), msg)
}

fn strings(v: &Json, file: &str, path: &JsonPath) -> Result<Vec<String>, Errors> {
    match v {
        Json::Str(s) => Ok(vec![s.clone()]),
        Json::Arr(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| vec![err(file, &path.index(i), "expected a string")])
            })
            .collect(),
        _ => Err(vec![err(
            file,
            path,
            "expected a string or an array of strings",
        )]),
    }
}

/// Load a spec file (and the invariant files it includes).
pub fn load_spec(path: &Path) -> Result<Spec, Errors> {
    let doc = read_json(path)?;
    let file = path.display().to_string();
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = JsonPath::root();
    let Json::Obj(entries) = &doc else {
        return Err(vec![err(&file, &root, "expected a spec object")]);
    };
    if let Some(k) =
        crate::json::first_unknown_key(entries, &["target", "include", "invariants", "description"])
    {
        return Err(vec![err(
            &file,
            &root.key(k),
            format!("unknown key `{k}`; expected target, include, invariants or description"),
        )]);
    }
    let mut account = None;
    let targets = match doc.get("target") {
        Some(t) if t.get("account").is_some() => {
            account = Some(account_target(t, &file, &base, &root.key("target"))?);
            Vec::new()
        }
        Some(t) => load_target(t, &file, &base, &root.key("target"))?,
        None => {
            return Err(vec![err(
                &file,
                &root.key("target"),
                "missing `target`: the policies or scenario under test",
            )])
        }
    };
    let mut raw = Vec::new();
    let mut account_raw = Vec::new();
    if let Some(inc) = doc.get("include") {
        for rel in strings(inc, &file, &root.key("include"))? {
            let p = base.join(&rel);
            let idoc = read_json(&p)?;
            let ifile = p.display().to_string();
            match idoc.get("invariants") {
                Some(inv) if account.is_some() => account_raw.extend(parse_account_invariants(
                    inv,
                    &ifile,
                    &JsonPath::root().key("invariants"),
                )?),
                Some(inv) => raw.extend(parse_invariants(
                    inv,
                    &ifile,
                    &JsonPath::root().key("invariants"),
                )?),
                None => {
                    return Err(vec![err(
                        &ifile,
                        &JsonPath::root(),
                        "an included file needs `invariants`",
                    )])
                }
            }
        }
    }
    if let Some(inv) = doc.get("invariants") {
        if account.is_some() {
            account_raw.extend(parse_account_invariants(
                inv,
                &file,
                &root.key("invariants"),
            )?);
        } else {
            raw.extend(parse_invariants(inv, &file, &root.key("invariants"))?);
        }
    }
    if raw.is_empty() && account_raw.is_empty() {
        return Err(vec![err(
            &file,
            &root.key("invariants"),
            "no invariants (give `invariants` or `include`)",
        )]);
    }
    Ok(Spec {
        targets,
        account,
        raw,
        account_raw,
    })
}

fn account_target(
    t: &Json,
    file: &str,
    base: &Path,
    path: &JsonPath,
) -> Result<crate::account::Inputs, Errors> {
    let Json::Obj(entries) = t else {
        return Err(vec![err(file, path, "expected an object")]);
    };
    if let Some(k) = crate::json::first_unknown_key(
        entries,
        &["account", "org", "resource_policies", "other_accounts"],
    ) {
        return Err(vec![err(file, &path.key(k), format!("unknown key `{k}` in an account target; expected account, org, resource_policies, other_accounts"))]);
    }
    let one = |k: &str| -> Result<Option<PathBuf>, Errors> {
        match t.get(k) {
            None => Ok(None),
            Some(Json::Str(s)) => Ok(Some(base.join(s))),
            Some(_) => Err(vec![err(file, &path.key(k), "expected a file path")]),
        }
    };
    let account = one("account")?
        .ok_or_else(|| vec![err(file, &path.key("account"), "expected a file path")])?;
    let other_accounts = match t.get("other_accounts") {
        None => Vec::new(),
        Some(v) => strings(v, file, &path.key("other_accounts"))?
            .into_iter()
            .map(|s| base.join(s))
            .collect(),
    };
    Ok(crate::account::Inputs {
        account,
        org: one("org")?,
        resource_policies: one("resource_policies")?,
        other_accounts,
    })
}

/// Account-wide invariants: `forbid` with `Action` (and optional `Resource`), and `no_escalation`,
/// each with an optional `except` list of principal ARN patterns (`*` and `?` wildcards).
fn parse_account_invariants(
    v: &Json,
    file: &str,
    path: &JsonPath,
) -> Result<Vec<AccountInvariant>, Errors> {
    let Json::Arr(items) = v else {
        return Err(vec![err(file, path, "expected an array of invariants")]);
    };
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let p = path.index(i);
        let (id, description) = id_and_description(it, file, &p)?;
        let except = match it.get("except") {
            Some(v) => strings(v, file, &p.key("except"))?,
            None => Vec::new(),
        };
        let require = match (it.get("require"), it.get("principals")) {
            (Some(_), Some(v)) => {
                let ps = strings(v, file, &p.key("principals"))?;
                if ps.is_empty() {
                    return Err(vec![err(
                        file,
                        &p.key("principals"),
                        "`principals` must name at least one principal (ARN pattern)",
                    )]);
                }
                if it.get("except").is_some() {
                    return Err(vec![err(file, &p.key("except"), "`require` names its principals with `principals`; `except` belongs to `forbid` and `no_escalation`")]);
                }
                Some(ps)
            }
            (Some(_), None) => {
                return Err(vec![err(file, &p.key("principals"), "an account-wide `require` needs `principals`: the ARN patterns of the users and roles that must be allowed every matching request")]);
            }
            (None, Some(_)) => {
                return Err(vec![err(
                    file,
                    &p.key("principals"),
                    "`principals` belongs to `require`",
                )]);
            }
            (None, None) => None,
        };
        let (body_key, kind) = if require.is_some() {
            ("require", Kind::Require)
        } else {
            ("forbid", Kind::Forbid)
        };
        if let Some(body @ Json::Obj(entries)) = it.get(body_key) {
            const KEYS: &[&str] = &[
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Condition",
            ];
            for (k, _) in entries {
                if !KEYS.contains(&k.as_str()) {
                    return Err(vec![err(file, &p.key(body_key).key(k), format!("account-wide invariants take Action/NotAction, Resource/NotResource and Condition (found `{k}`; principals are chosen with `except`, or `principals` for `require`)"))]);
                }
            }
            if !entries
                .iter()
                .any(|(k, _)| k == "Action" || k == "NotAction")
            {
                return Err(vec![err(
                    file,
                    &p.key(body_key).key("Action"),
                    "missing `Action` (or `NotAction`)",
                )]);
            }
            let inv = compile_match(&id, &description, kind, body, file, &p.key(body_key))?;
            out.push(AccountInvariant {
                id,
                description,
                question: Some(crate::account::pattern::Question::from_policy(inv.pattern)),
                pattern_json: body.to_value(),
                except,
                no_escalation: false,
                require,
            });
        } else if it.get("no_escalation").is_some() {
            out.push(AccountInvariant {
                id,
                description,
                question: None,
                pattern_json: Value::Null,
                except,
                no_escalation: true,
                require: None,
            });
        } else {
            return Err(vec![err(file, &p, "account-wide invariants are `forbid` (Action, Resource) or `no_escalation`, each with an optional `except` list, or `require` (Action, Resource) with `principals`")]);
        }
    }
    Ok(out)
}

/// The `id` (required) and `description` of an invariant.
fn id_and_description(it: &Json, file: &str, p: &JsonPath) -> Result<(String, String), Errors> {
    let id = it
        .get("id")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| vec![err(file, &p.key("id"), "missing `id` (a string)")])?;
    let description = it
        .get("description")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    Ok((id, description))
}

fn excepted(arn: &str, except: &[String]) -> bool {
    except
        .iter()
        .any(|e| crate::matching::glob(e).is_match(arn))
}

/// Check account-wide invariants: every principal, through role chains and escalation paths.
/// Each principal's question is answered by the solver ([`crate::account::pattern`]); a
/// principal whose answer is unknown makes a violation-free invariant `unknown`, never `holds`.
pub fn check_account(
    inputs: &crate::account::Inputs,
    invs: &[AccountInvariant],
) -> Result<Vec<CheckEntry>, Errors> {
    // no progress bar: `Env` reports to `NoProgress` unless told otherwise
    let env = crate::account::Env::load(inputs)?;
    let graph = crate::account::Graph::build(&env);
    let escalations = crate::account::escalate::escalations(&env, &graph);
    let warnings: Vec<String> = env
        .org
        .as_ref()
        .map(|o| o.warnings.clone())
        .unwrap_or_default();
    let target = inputs.account.display().to_string();
    let mut results = Vec::new();
    for inv in invs {
        if let (Some(names), Some(q)) = (&inv.require, &inv.question) {
            results.push(CheckEntry::Require(require_account(
                &env,
                &graph,
                inv,
                names,
                q,
                target.clone(),
                warnings.clone(),
            )));
            continue;
        }
        let mut violators: Vec<AccountViolator> = Vec::new();
        let mut unknown: Vec<PrincipalUnknown> = Vec::new();
        if inv.no_escalation {
            for e in &escalations {
                if !excepted(&e.principal, &inv.except) {
                    violators.push(AccountViolator::Escalation(e.clone()));
                }
            }
        }
        if let Some(q) = &inv.question {
            let (reach, unk) = crate::account::principals_reaching_q(&env, &graph, q);
            for r in reach {
                if excepted(&r.arn, &inv.except) {
                    continue;
                }
                let last = r.path.last();
                violators.push(AccountViolator::Reach {
                    request: PathRequest {
                        principal: last.map(|s| s.principal.clone()),
                        action: last.map(|s| s.action.clone()),
                        resource: last.map(|s| s.resource.clone()),
                    },
                    principal: r.arn,
                    path: r.path,
                    conditions: r.conditions,
                });
            }
            for (arn, why) in unk {
                if !excepted(&arn, &inv.except) {
                    unknown.push(PrincipalUnknown {
                        principal: arn,
                        reason: why,
                    });
                }
            }
            // escalation gives arbitrary permissions: a principal that can escalate to admin
            // reaches the pattern too
            for e in &escalations {
                if e.kind == "self"
                    && e.gains.is_any_action()
                    && !excepted(&e.principal, &inv.except)
                    && !violators.iter().any(|v| v.principal() == e.principal)
                {
                    violators.push(AccountViolator::ViaEscalation {
                        principal: e.principal.clone(),
                        pattern: inv.pattern_json.clone(),
                        via_escalation: e.method.clone(),
                        path: e.path.clone(),
                    });
                }
            }
        }
        let status = if !violators.is_empty() {
            Verdict::Violated
        } else if !unknown.is_empty() {
            Verdict::Unknown
        } else {
            Verdict::Holds
        };
        let detail = if !violators.is_empty() {
            let names: Vec<&str> = violators
                .iter()
                .map(AccountViolator::principal)
                .take(5)
                .collect();
            format!(
                "{} principal path(s) reach it, e.g. {}",
                violators.len(),
                names.join(", ")
            )
        } else if let Some(u) = unknown.first() {
            format!(
                "{} principal(s) could not be decided, e.g. {}",
                unknown.len(),
                u.principal
            )
        } else {
            "proved: no principal outside the exceptions is allowed any matching request (direct, role chains, escalation)"
                .to_owned()
        };
        results.push(CheckEntry::Account(AccountResult {
            invariant: inv.id.clone(),
            description: inv.description.clone(),
            target: target.clone(),
            status,
            detail,
            counterexample: violators.first().cloned(),
            violators,
            unknown,
            warnings: warnings.clone(),
        }));
    }
    Ok(results)
}

/// The request in scenario form, without the keys whose value is the moment of the run (so
/// reports stay the same from run to run; the replay uses that moment).
fn request_value(r: &Request) -> Value {
    let mut v = crate::activity::why::request_json(r);
    if let Some(Value::Object(ctx)) = v.get_mut("context") {
        ctx.retain(|k, _| !crate::account::conditions::is_time_key(k));
        if ctx.is_empty() {
            if let Some(o) = v.as_object_mut() {
                o.remove("context");
            }
        }
    }
    v
}

/// `require` over an account (docs/account-patterns.md): each user or role matching one of
/// `names` must, itself or through a role it can assume unconditionally, be allowed **every**
/// request matching `q` (and at least one exists), in the baseline context. `holds` carries, per
/// principal, the identity that satisfies it, the path and an allowed witness (replayed);
/// `violated` carries a denied matching request (replayed) or "none is allowed" for the
/// principal itself.
fn require_account(
    env: &crate::account::Env,
    graph: &crate::account::Graph,
    inv: &AccountInvariant,
    names: &[String],
    q: &crate::account::pattern::Question,
    target: String,
    warnings: Vec<String>,
) -> RequireResult {
    use crate::account::pattern::{must, Must};
    let opts = QueryOptions::default();
    let mut satisfied: Vec<Satisfied> = Vec::new();
    let mut violators: Vec<RequireViolator> = Vec::new();
    let mut unknown: Vec<PrincipalUnknown> = Vec::new();
    for pat in names {
        let matched: Vec<usize> = (0..env.nodes.len())
            .filter(|&i| {
                !env.nodes[i].kind.is_outside()
                    && excepted(&env.nodes[i].arn, std::slice::from_ref(pat))
            })
            .collect();
        if matched.is_empty() {
            violators.push(RequireViolator::Missing {
                principal: pat.clone(),
                reason: "no user or role of the loaded accounts matches this pattern".to_owned(),
            });
        }
        for p in matched {
            let arn = env.nodes[p].arn.clone();
            let mut first: Option<Must> = None;
            let mut unk: Option<String> = None;
            let mut done = false;
            for (t, path, yes_path) in graph.reach(p) {
                if !yes_path {
                    continue;
                }
                let m = must(env, t, q, &opts);
                match &m {
                    Must::Holds { request, step } => {
                        let mut full = path.clone();
                        full.push(step.clone());
                        satisfied.push(Satisfied {
                            principal: arn.clone(),
                            via: env.nodes[t].arn.clone(),
                            request: request_value(request),
                            path: full,
                        });
                        done = true;
                    }
                    Must::Unknown(r) => {
                        unk.get_or_insert(format!("{}: {r}", env.nodes[t].arn));
                    }
                    _ => {}
                }
                if done {
                    break;
                }
                if first.is_none() {
                    first = Some(m);
                }
            }
            if done {
                continue;
            }
            if let Some(u) = unk {
                unknown.push(PrincipalUnknown {
                    principal: arn,
                    reason: u,
                });
                continue;
            }
            violators.push(match first {
                Some(Must::Denied {
                    request,
                    world,
                    evaluation,
                }) => RequireViolator::Denied {
                    principal: arn,
                    reason: format!(
                        "a matching request is not allowed ({}; {})",
                        evaluation.reason, world
                    ),
                    request: request_value(&request),
                    decision: evaluation.decision,
                    statements: evaluation.statements,
                },
                _ => RequireViolator::Missing {
                    principal: arn,
                    reason: "no matching request is allowed (baseline context), directly or through a role it can assume".to_owned(),
                },
            });
        }
    }
    let (status, detail) = if let Some(v) = violators.first() {
        (
            Verdict::Violated,
            format!(
                "{} required principal(s) lack it, e.g. {}: {}",
                violators.len(),
                v.principal(),
                v.reason()
            ),
        )
    } else if let Some(u) = unknown.first() {
        (
            Verdict::Unknown,
            format!(
                "{} principal(s) could not be decided, e.g. {}",
                unknown.len(),
                u.principal
            ),
        )
    } else {
        (
            Verdict::Holds,
            format!(
                "proved: each of the {} named principal(s) is allowed every matching request (itself or through a role it assumes unconditionally), witness replayed",
                satisfied.len()
            ),
        )
    };
    RequireResult {
        invariant: inv.id.clone(),
        description: inv.description.clone(),
        status,
        detail,
        counterexample: violators.first().cloned(),
        violators,
        satisfied,
        unknown,
        target,
        warnings,
    }
}

fn load_target(
    t: &Json,
    file: &str,
    base: &Path,
    path: &JsonPath,
) -> Result<Vec<(String, Side)>, Errors> {
    let kind = match t.get("type") {
        None => None,
        Some(Json::Str(s)) => match PolicyType::parse(s) {
            Some(k) => Some(k),
            None => {
                return Err(vec![err(
                    file,
                    &path.key("type"),
                    format!(
                        "unknown policy type `{s}`: expected identity, resource, trust, scp or rcp"
                    ),
                )])
            }
        },
        Some(_) => return Err(vec![err(file, &path.key("type"), "expected a string")]),
    };
    if let Some(s) = t.get("scenario") {
        let rel = s
            .as_str()
            .ok_or_else(|| vec![err(file, &path.key("scenario"), "expected a file path")])?;
        let p = base.join(rel);
        let sc = crate::scenario::load_scenario(&p, false)?;
        return Ok(vec![(p.display().to_string(), Side::Scenario(sc))]);
    }
    let files: Vec<String> = match (t.get("policy"), t.get("policies")) {
        (Some(p), None) => strings(p, file, &path.key("policy"))?,
        (None, Some(p)) => strings(p, file, &path.key("policies"))?,
        _ => {
            return Err(vec![err(
                file,
                path,
                "give exactly one of `policy`, `policies` or `scenario`",
            )])
        }
    };
    let mut loaded: Vec<(String, Json, JsonPath)> = Vec::new();
    for f in &files {
        let p: PathBuf = base.join(f);
        let doc = read_json(&p)?;
        let (d, prefix) = crate::parse::unwrap_envelope(&doc);
        loaded.push((p.display().to_string(), d.clone(), prefix));
    }
    let kind = kind.unwrap_or_else(|| {
        if loaded
            .iter()
            .any(|(_, d, _)| crate::parse::detect_type(d) == PolicyType::Resource)
        {
            PolicyType::Resource
        } else {
            PolicyType::Identity
        }
    });
    let mut policies = Vec::new();
    for (name, d, prefix) in &loaded {
        policies
            .push(crate::parse::parse_policy(d, kind, name).map_err(|e| locate(name, prefix, e))?);
    }
    Ok(match kind {
        PolicyType::Identity => vec![(files.join(", "), Side::Identity(policies))],
        PolicyType::Resource | PolicyType::Trust => policies
            .into_iter()
            .map(|p| (p.name.clone(), Side::Resource(p)))
            .collect(),
        PolicyType::Scp | PolicyType::Rcp => vec![(
            files.join(", "),
            crate::query::guardrail_side(kind, policies),
        )],
    })
}

/// The body of `only_assumable_by`: `{"aws": [...], "services": [...], "federated":
/// [{"provider": ..., "sub": [...], "aud": [...]}]}` (docs/trust.md).
fn parse_allowed(v: &Json, file: &str, path: &JsonPath) -> Result<crate::trust::Allowed, Errors> {
    let Json::Obj(entries) = v else {
        return Err(vec![err(
            file,
            path,
            "expected an object with `aws`, `services` and/or `federated`",
        )]);
    };
    let mut allowed = crate::trust::Allowed::default();
    let mut principal = serde_json::Map::new();
    for (k, val) in entries {
        match k.as_str() {
            "aws" => {
                principal.insert(
                    "AWS".into(),
                    serde_json::json!(strings(val, file, &path.key("aws"))?),
                );
            }
            "services" => {
                principal.insert(
                    "Service".into(),
                    serde_json::json!(strings(val, file, &path.key("services"))?),
                );
            }
            "federated" => {
                let Json::Arr(items) = val else {
                    return Err(vec![err(
                        file,
                        &path.key("federated"),
                        "expected an array of {\"provider\", \"sub\", \"aud\"} objects",
                    )]);
                };
                for (i, it) in items.iter().enumerate() {
                    let ip = path.key("federated").index(i);
                    let Some(provider) = it.get("provider").and_then(Json::as_str) else {
                        return Err(vec![err(
                            file,
                            &ip,
                            "expected `provider`: an oidc-provider/saml-provider ARN or a host",
                        )]);
                    };
                    if let Json::Obj(fields) = it {
                        if let Some(bad) =
                            crate::json::first_unknown_key(fields, &["provider", "sub", "aud"])
                        {
                            return Err(vec![err(
                                file,
                                &ip.key(bad),
                                format!("unknown key `{bad}`; expected provider, sub, aud"),
                            )]);
                        }
                    }
                    let opt = |key: &str| -> Result<Option<Vec<String>>, Errors> {
                        it.get(key)
                            .map(|v| strings(v, file, &ip.key(key)))
                            .transpose()
                    };
                    allowed.federated.push(crate::trust::AllowedFederated {
                        provider: provider.to_owned(),
                        sub: opt("sub")?,
                        aud: opt("aud")?,
                    });
                }
            }
            other => {
                return Err(vec![err(
                    file,
                    &path.key(other),
                    format!("unknown key `{other}`; expected aws, services, federated"),
                )])
            }
        }
    }
    if !principal.is_empty() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]});
        let pol = crate::parse::parse_policy(&Json::from_value(&doc), PolicyType::Trust, file)
            .map_err(|e| {
                e.into_iter()
                    .map(|pe| err(file, path, format!("invalid principal: {}", pe.message)))
                    .collect::<Vec<_>>()
            })?;
        if let Some(pe) = pol.statements.first().and_then(|s| s.principal.as_ref()) {
            allowed.principals = pe.entries.clone();
        }
    }
    Ok(allowed)
}

fn parse_invariants(v: &Json, file: &str, path: &JsonPath) -> Result<Vec<RawInvariant>, Errors> {
    let Json::Arr(items) = v else {
        return Err(vec![err(file, path, "expected an array of invariants")]);
    };
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let p = path.index(i);
        let Json::Obj(entries) = it else {
            return Err(vec![err(file, &p, "expected an invariant object")]);
        };
        if let Some(k) = crate::json::first_unknown_key(
            entries,
            &[
                "id",
                "description",
                "forbid",
                "require",
                "no_public",
                "no_admin",
                "only_assumable_by",
            ],
        ) {
            return Err(vec![err(file, &p.key(k), format!("unknown key `{k}`; expected id, description and one of forbid, require, no_public, no_admin, only_assumable_by"))]);
        }
        let (id, description) = id_and_description(it, file, &p)?;
        let kinds: Vec<&str> = [
            "forbid",
            "require",
            "no_public",
            "no_admin",
            "only_assumable_by",
        ]
        .into_iter()
        .filter(|k| it.get(k).is_some())
        .collect();
        if kinds.len() != 1 {
            return Err(vec![err(
                file,
                &p,
                "give exactly one of `forbid`, `require`, `no_public`, `no_admin`, `only_assumable_by`",
            )]);
        }
        out.push(match kinds[0] {
            "only_assumable_by" => RawInvariant::OnlyAssumableBy {
                id,
                description,
                allowed: parse_allowed(
                    it.get("only_assumable_by").unwrap_or(&Json::Null),
                    file,
                    &p.key("only_assumable_by"),
                )?,
                file: file.to_owned(),
            },
            "forbid" | "require" => RawInvariant::Match {
                id,
                description,
                kind: if kinds[0] == "forbid" {
                    Kind::Forbid
                } else {
                    Kind::Require
                },
                body: it.get(kinds[0]).cloned().unwrap_or(Json::Null),
                file: file.to_owned(),
                path: p.key(kinds[0]),
            },
            "no_public" => {
                let body = it.get("no_public").cloned().unwrap_or(Json::Null);
                let trusted_accounts = match body.get("trusted_accounts") {
                    Some(v) => strings(v, file, &p.key("no_public").key("trusted_accounts"))?,
                    None => Vec::new(),
                };
                RawInvariant::NoPublic {
                    id,
                    description,
                    trusted_accounts,
                    file: file.to_owned(),
                }
            }
            _ => RawInvariant::NoAdmin {
                id,
                description,
                file: file.to_owned(),
            },
        });
    }
    Ok(out)
}

/// Compile a statement-like pattern into an invariant.
fn compile_match(
    id: &str,
    description: &str,
    kind: Kind,
    body: &Json,
    file: &str,
    path: &JsonPath,
) -> Result<Invariant, Errors> {
    let Json::Obj(entries) = body else {
        return Err(vec![err(
            file,
            path,
            "expected a statement-like object (Action, Resource, Principal, Condition, ...)",
        )]);
    };
    let mut stmt: Vec<(String, Json)> = vec![("Effect".into(), Json::Str("Allow".into()))];
    let mut principal = None;
    let mut not_principal = Vec::new();
    for (k, v) in entries {
        match k.as_str() {
            "Principal" | "NotPrincipal" => {
                // parse the entries through a throwaway resource policy
                let probe = Json::Obj(vec![
                    ("Version".into(), Json::Str("2012-10-17".into())),
                    (
                        "Statement".into(),
                        Json::Obj(vec![
                            ("Effect".into(), Json::Str("Deny".into())),
                            ("Principal".into(), v.clone()),
                            ("Action".into(), Json::Str("*".into())),
                            ("Resource".into(), Json::Str("*".into())),
                        ]),
                    ),
                ]);
                let pol = crate::parse::parse_policy(&probe, PolicyType::Resource, file).map_err(
                    |e| {
                        e.into_iter()
                            .map(|x| err(file, &path.key(k), x.message))
                            .collect::<Vec<_>>()
                    },
                )?;
                let entries = pol
                    .statements
                    .first()
                    .and_then(|s| s.principal.as_ref())
                    .map(|p| p.entries.clone())
                    .unwrap_or_default();
                if k == "Principal" {
                    principal = Some(entries);
                } else {
                    not_principal = entries;
                }
            }
            "Effect" | "Sid" => {
                return Err(vec![err(
                    file,
                    &path.key(k),
                    format!("`{k}` has no meaning in an invariant pattern"),
                )])
            }
            _ => stmt.push((k.clone(), v.clone())),
        }
    }
    if !stmt.iter().any(|(k, _)| k == "Action" || k == "NotAction") {
        stmt.push(("Action".into(), Json::Str("*".into())));
    }
    if !stmt
        .iter()
        .any(|(k, _)| k == "Resource" || k == "NotResource")
    {
        stmt.push(("Resource".into(), Json::Str("*".into())));
    }
    let doc = Json::Obj(vec![
        ("Version".into(), Json::Str("2012-10-17".into())),
        ("Statement".into(), Json::Arr(vec![Json::Obj(stmt)])),
    ]);
    let pattern =
        crate::parse::parse_policy(&doc, PolicyType::Identity, &format!("invariant {id}"))
            .map_err(|e| {
                e.into_iter()
                    .map(|x| {
                        // Statement[0].X → the invariant's own path
                        let s = x.path.to_string();
                        let rest = s
                            .strip_prefix("Statement[0]")
                            .unwrap_or(&s)
                            .trim_start_matches('.');
                        let p = if rest.is_empty() {
                            path.to_string()
                        } else {
                            format!("{path}.{rest}")
                        };
                        InputError::new(file, Some(p), x.message)
                    })
                    .collect::<Vec<_>>()
            })?;
    Ok(Invariant {
        id: id.into(),
        description: description.into(),
        kind,
        pattern,
        principal,
        not_principal,
        source: file.into(),
    })
}

/// Accounts and identifying condition values a policy names (for `no_public`).
fn named_accounts(side: &Side) -> Vec<String> {
    let mut out = Vec::new();
    for p in side.policies() {
        for s in &p.statements {
            if let Some(pe) = &s.principal {
                for e in &pe.entries {
                    match e {
                        PrincipalEntry::Account { account, .. } => out.push(account.clone()),
                        PrincipalEntry::Arn(a) => {
                            if let Some(acct) = a.split(':').nth(4) {
                                out.push(acct.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Keys whose values identify the caller's account, organisation or network; a policy that pins
/// them to its own values is not public.
const TRUST_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:userid",
];

fn no_public_invariant(
    id: &str,
    description: &str,
    trusted: &[String],
    side: &Side,
    file: &str,
) -> Result<Invariant, Errors> {
    let mut accounts = named_accounts(side);
    accounts.extend(trusted.iter().cloned());
    accounts.sort();
    accounts.dedup();
    // values the policy pins identifying keys to
    let mut pinned: std::collections::BTreeMap<String, (String, Vec<String>)> = Default::default();
    for p in side.policies() {
        for s in &p.statements {
            for c in &s.conditions {
                if TRUST_KEYS.contains(&c.key.as_str()) {
                    if let crate::model::CondValues::Str(ts) = &c.values {
                        let e = pinned
                            .entry(c.key.clone())
                            .or_insert_with(|| (c.key_raw.clone(), Vec::new()));
                        e.1.extend(ts.iter().map(|t| t.raw.clone()));
                    }
                }
            }
        }
    }
    let mut conds: Vec<(String, Json)> = Vec::new();
    let mut single: Vec<(String, Json)> = Vec::new();
    let mut multi: Vec<(String, Json)> = Vec::new();
    for (key, (raw, vals)) in pinned {
        let arr = Json::Arr(vals.into_iter().map(Json::Str).collect());
        if crate::model::is_multivalued_key(&key) {
            multi.push((raw, arr));
        } else {
            single.push((raw, arr));
        }
    }
    if !accounts.is_empty() {
        single.push((
            "aws:PrincipalAccount".into(),
            Json::Arr(accounts.iter().cloned().map(Json::Str).collect()),
        ));
    }
    if !single.is_empty() {
        // merge duplicate keys (PrincipalAccount may be pinned already)
        let mut merged: Vec<(String, Json)> = Vec::new();
        for (k, v) in single {
            match merged
                .iter_mut()
                .find(|(mk, _)| mk.eq_ignore_ascii_case(&k))
            {
                Some((_, Json::Arr(items))) => {
                    if let Json::Arr(more) = v {
                        items.extend(more);
                    }
                }
                _ => merged.push((k, v)),
            }
        }
        conds.push(("StringNotLikeIfExists".into(), Json::Obj(merged)));
    }
    if !multi.is_empty() {
        conds.push(("ForAllValues:StringNotLike".into(), Json::Obj(multi)));
    }
    let pinned_federated = pinned_federated_providers(side, &accounts);
    let mut body = vec![];
    let mut not_principal: Vec<(String, Json)> = Vec::new();
    if !accounts.is_empty() {
        not_principal.push((
            "AWS".into(),
            Json::Arr(accounts.into_iter().map(Json::Str).collect()),
        ));
    }
    if !pinned_federated.is_empty() {
        not_principal.push((
            "Federated".into(),
            Json::Arr(pinned_federated.into_iter().map(Json::Str).collect()),
        ));
    }
    if !not_principal.is_empty() {
        body.push(("NotPrincipal".into(), Json::Obj(not_principal)));
    }
    if !conds.is_empty() {
        body.push(("Condition".into(), Json::Obj(conds)));
    }
    compile_match(
        id,
        description,
        Kind::Forbid,
        &Json::Obj(body),
        file,
        &JsonPath::root(),
    )
}

/// The federated providers a policy names whose callers are all under the account's control,
/// by the `trust` analysis of the policy read as a trust policy (`crate::trust`): when it finds no
/// hazard that admits outsiders through a provider (`oidc-no-sub`, and `oidc-wildcard-sub` or
/// `oidc-no-aud` at error severity: any subject, another owner, any application of a public
/// provider) and answered completely, every named provider is pinned and its callers are not
/// public. Otherwise none is excluded (the conservative reading: the query may then report a
/// caller of any named provider).
fn pinned_federated_providers(side: &Side, accounts: &[String]) -> Vec<String> {
    let Side::Resource(policy) = side else {
        return Vec::new();
    };
    let mut providers: Vec<String> = Vec::new();
    for st in &policy.statements {
        if let Some(pe) = st.principal.as_ref().filter(|pe| !pe.negated) {
            for e in &pe.entries {
                if let PrincipalEntry::Federated(f) = e {
                    if !providers.contains(f) {
                        providers.push(f.clone());
                    }
                }
            }
        }
    }
    if providers.is_empty() {
        return providers;
    }
    let mut opts = crate::trust::TrustOptions::default();
    opts.trusted_accounts.extend(accounts.iter().cloned());
    let report = crate::trust::analyze(
        &crate::trust::TrustRole {
            label: "no_public".into(),
            arn: format!(
                "arn:aws:iam::{}:role/no-public",
                crate::trust::PLACEHOLDER_ACCOUNT
            ),
            policy: policy.clone(),
        },
        &opts,
    );
    let open = report.hazards.iter().any(|h| {
        h.code == "oidc-no-sub"
            || (matches!(h.code, "oidc-wildcard-sub" | "oidc-no-aud")
                && h.severity == crate::trust::Severity::Error)
    });
    if open || !report.unknown.is_empty() {
        return Vec::new();
    }
    providers
}

fn no_admin_invariant(
    id: &str,
    description: &str,
    side: &Side,
    file: &str,
) -> Result<Invariant, Errors> {
    let mut services: Vec<String> = side
        .statements()
        .iter()
        .flat_map(|s| s.action.patterns.iter())
        .filter_map(|p| p.lower.split_once(':').map(|(svc, _)| svc.to_owned()))
        .filter(|svc| !svc.contains('*') && !svc.contains('?'))
        .collect();
    services.sort();
    services.dedup();
    let mut body = vec![("Resource".into(), Json::Str("*".into()))];
    if !services.is_empty() {
        body.push((
            "NotAction".into(),
            Json::Arr(
                services
                    .into_iter()
                    .map(|s| Json::Str(format!("{s}:*")))
                    .collect(),
            ),
        ));
    }
    compile_match(
        id,
        description,
        Kind::Forbid,
        &Json::Obj(body),
        file,
        &JsonPath::root(),
    )
}

impl Invariant {
    /// The requests this invariant is about, for the verifier.
    pub fn request_pattern(&self) -> RequestPattern<'_> {
        RequestPattern {
            pattern: &self.pattern,
            principal: self.principal.as_deref(),
            not_principal: &self.not_principal,
        }
    }

    /// Forbid or require, for the verifier.
    pub fn mode(&self) -> Mode {
        match self.kind {
            Kind::Forbid => Mode::Forbid,
            Kind::Require => Mode::Require,
        }
    }
}

/// The result of one invariant on one policy target. Its serde form is the JSON result
/// (account invariants have their own shape, built in `check_account`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub invariant: String,
    pub description: String,
    /// The spec file.
    pub source: String,
    pub target: String,
    /// `holds`, `violated`, `unknown` or `error` (an internal error).
    pub status: Verdict,
    pub detail: String,
    /// The replayed request (scenario format) of a violation; `null` otherwise.
    pub counterexample: Option<Value>,
    pub statements: Vec<crate::eval::StmtRef>,
    pub notes: Vec<String>,
    /// What a `holds` relies on (absent for `only_assumable_by`, which lists none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumptions: Option<Vec<String>>,
}

/// Result of one invariant on one target.
pub struct Outcome {
    pub status: Verdict,
    pub counterexample: Option<Value>,
    pub detail: String,
    pub notes: Vec<String>,
    /// What a `holds` relies on beyond the inputs (no silent narrowing).
    pub assumptions: Vec<String>,
    /// The statements that decided the counterexample (the synthetic allow-all policy left out).
    pub statements: Vec<crate::eval::StmtRef>,
}

pub fn check_one(side: &Side, inv: &Invariant, opts: &QueryOptions) -> Outcome {
    let pattern = inv.request_pattern();
    let property = Property::Invariant {
        side,
        pattern,
        mode: inv.mode(),
    };
    // the property (its formula and its replay) is defined in the verifier
    let mut v = match Verifier::new(property, opts) {
        Ok(v) => v,
        Err(e) => {
            return Outcome {
                status: Verdict::Unknown,
                counterexample: None,
                detail: e,
                notes: Vec::new(),
                assumptions: Vec::new(),
                statements: Vec::new(),
            }
        }
    };
    let mut notes = v.notes().to_vec();
    if matches!(inv.kind, Kind::Forbid) && pattern.names_get_caller_identity() {
        notes.push("sts:GetCallerIdentity needs no permission and no policy can deny it; it is not counted against this forbid invariant".into());
    }
    let assumptions = v.assumptions().to_vec();
    match v.ask() {
        Verification::Proved => Outcome {
            status: Verdict::Holds,
            counterexample: None,
            detail: if assumptions.is_empty() {
                "proved".into()
            } else {
                "proved under the listed assumptions".into()
            },
            notes,
            assumptions,
            statements: Vec::new(),
        },
        Verification::Unknown(r) => Outcome {
            status: Verdict::Unknown,
            counterexample: None,
            detail: r,
            notes,
            assumptions,
            statements: Vec::new(),
        },
        Verification::Disagreement(d) => Outcome {
            status: Verdict::Error,
            counterexample: None,
            detail: d.to_string(),
            notes,
            assumptions,
            statements: Vec::new(),
        },
        Verification::Counterexample { request, .. } => {
            let ev = side.evaluate(&request);
            let deciding: Vec<crate::eval::StmtRef> = ev
                .statements
                .iter()
                .filter(|s| {
                    s.policy != crate::query::ALLOW_ALL_NAME
                        && s.policy != crate::query::STRICT_GRANT_NAME
                })
                .cloned()
                .collect();
            let stmts: Vec<String> = deciding
                .iter()
                .map(|s| {
                    format!(
                        "{} {} in {} `{}`",
                        s.effect,
                        s.path,
                        s.set.label(),
                        s.policy
                    )
                })
                .collect();
            let detail = match inv.kind {
                Kind::Forbid => format!("allowed ({}) by {}", ev.reason, stmts.join("; ")),
                Kind::Require => format!("{}: {}", ev.decision.name(), ev.reason),
            };
            Outcome {
                status: Verdict::Violated,
                counterexample: Some(request_json(&request, &v.prepared().enc)),
                detail,
                notes,
                assumptions,
                statements: deciding,
            }
        }
    }
}

/// `only_assumable_by` on one trust-policy target: holds, or a replayed caller outside the list.
fn only_assumable_by(
    tname: &str,
    side: &Side,
    id: &str,
    description: &str,
    allowed: &crate::trust::Allowed,
    file: &str,
    opts: &QueryOptions,
) -> Result<CheckResult, Errors> {
    let Side::Resource(policy) = side else {
        return Err(vec![InputError::new(
            file,
            None,
            format!(
                "invariant `{id}`: only_assumable_by applies to trust policies (target type trust)"
            ),
        )]);
    };
    let role = crate::trust::TrustRole {
        label: tname.to_owned(),
        arn: format!(
            "arn:aws:iam::{}:role/iamprove-target",
            crate::trust::PLACEHOLDER_ACCOUNT
        ),
        policy: policy.clone(),
    };
    let topts = crate::trust::TrustOptions {
        query: QueryOptions {
            timeout_ms: opts.timeout_ms,
            limits: opts.limits,
            dump_smt: None,
            well_formed: opts.well_formed,
            declared_shapes: true,
            slice: true,
        },
        ..crate::trust::TrustOptions::default()
    };
    let (status, detail, cx) = match crate::trust::check_only_assumable_by(&role, allowed, &topts) {
        crate::trust::OnlyOutcome::Holds => (Verdict::Holds, String::new(), None),
        crate::trust::OnlyOutcome::Violated {
            counterexample,
            detail,
        } => (Verdict::Violated, detail, Some(counterexample)),
        crate::trust::OnlyOutcome::Unknown(why) => (Verdict::Unknown, why, None),
    };
    Ok(CheckResult {
        invariant: id.to_owned(),
        description: description.to_owned(),
        source: file.to_owned(),
        target: tname.to_owned(),
        status,
        detail,
        counterexample: cx,
        statements: Vec::new(),
        notes: Vec::new(),
        assumptions: None,
    })
}

// ---------------------------------------------------------------------------------------------
// account-invariant results (typed; their serde form is the JSON result, field for field)

/// One principal that an account invariant could not decide, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalUnknown {
    /// The principal's ARN.
    pub principal: String,
    /// Why it is undecided (a solver limit, a missing input).
    pub reason: String,
}

/// The final request of a reaching path: who acts, the action, the resource (`null` for an
/// empty path).
#[derive(Debug, Clone, Serialize)]
pub struct PathRequest {
    /// The acting principal.
    pub principal: Option<String>,
    /// The action.
    pub action: Option<String>,
    /// The resource.
    pub resource: Option<String>,
}

/// A principal that breaks a `forbid` or `no_escalation` account invariant.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AccountViolator {
    /// `no_escalation`: an escalation, as `escalations` reports it.
    Escalation(crate::account::escalate::Escalation),
    /// Allowed a matching request, directly or through role chains (replayed step by step).
    Reach {
        /// The principal's ARN.
        principal: String,
        /// The last step's request.
        request: PathRequest,
        /// Role assumptions, then the final action.
        path: Vec<crate::account::Step>,
        /// Context keys needed anywhere on the path.
        conditions: Vec<crate::account::conditions::CondReq>,
    },
    /// Can escalate to any action, so it reaches the pattern too.
    ViaEscalation {
        /// The principal's ARN.
        principal: String,
        /// The invariant's pattern as written.
        pattern: Value,
        /// The escalation method.
        via_escalation: crate::account::escalate::Method,
        /// Role assumptions and the escalating actions.
        path: Vec<crate::account::Step>,
    },
}

impl AccountViolator {
    /// The violating principal's ARN.
    pub fn principal(&self) -> &str {
        match self {
            AccountViolator::Escalation(e) => &e.principal,
            AccountViolator::Reach { principal, .. }
            | AccountViolator::ViaEscalation { principal, .. } => principal,
        }
    }
}

/// The result of a `forbid` or `no_escalation` invariant over an account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountResult {
    /// The invariant's id.
    pub invariant: String,
    /// Its description.
    pub description: String,
    /// The account directory.
    pub target: String,
    /// `holds`, `violated` or `unknown`.
    pub status: Verdict,
    /// One line about the result.
    pub detail: String,
    /// The first violator.
    pub counterexample: Option<AccountViolator>,
    /// Every violating principal path.
    pub violators: Vec<AccountViolator>,
    /// The undecided principals.
    pub unknown: Vec<PrincipalUnknown>,
    /// Warnings about the loaded account (organisation data).
    pub warnings: Vec<String>,
}

/// A named principal that lacks what a `require` account invariant demands.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RequireViolator {
    /// No matching request is allowed, or no principal matches the name.
    Missing {
        /// The principal's ARN (or the name that matched none).
        principal: String,
        /// Why.
        reason: String,
    },
    /// A matching request the evaluator denies (replayed).
    Denied {
        /// The principal's ARN.
        principal: String,
        /// Why, with the world it was asked in.
        reason: String,
        /// The denied request (scenario form).
        request: Value,
        /// The evaluator's decision.
        decision: crate::eval::Decision,
        /// The statements that decided.
        statements: Vec<crate::eval::StmtRef>,
    },
}

impl RequireViolator {
    /// The principal's ARN.
    pub fn principal(&self) -> &str {
        match self {
            RequireViolator::Missing { principal, .. }
            | RequireViolator::Denied { principal, .. } => principal,
        }
    }
    /// Why it violates.
    pub fn reason(&self) -> &str {
        match self {
            RequireViolator::Missing { reason, .. } | RequireViolator::Denied { reason, .. } => {
                reason
            }
        }
    }
}

/// A named principal that satisfies a `require` account invariant, and how.
#[derive(Debug, Clone, Serialize)]
pub struct Satisfied {
    /// The principal's ARN.
    pub principal: String,
    /// The identity (itself or a role it assumes) that is allowed every matching request.
    pub via: String,
    /// An allowed matching request (scenario form, replayed).
    pub request: Value,
    /// Role assumptions, then the request's step.
    pub path: Vec<crate::account::Step>,
}

/// The result of a `require` invariant over an account.
#[derive(Debug, Clone, Serialize)]
pub struct RequireResult {
    /// The invariant's id.
    pub invariant: String,
    /// Its description.
    pub description: String,
    /// `holds`, `violated` or `unknown`.
    pub status: Verdict,
    /// One line about the result.
    pub detail: String,
    /// The first violator.
    pub counterexample: Option<RequireViolator>,
    /// The named principals that lack it.
    pub violators: Vec<RequireViolator>,
    /// The named principals that have it.
    pub satisfied: Vec<Satisfied>,
    /// The undecided principals.
    pub unknown: Vec<PrincipalUnknown>,
    /// The account directory.
    pub target: String,
    /// Warnings about the loaded account (organisation data).
    pub warnings: Vec<String>,
}

/// One result of `check`: an invariant on a policy target or over an account. Its serde form
/// is the JSON result (each kind has its own fields).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum CheckEntry {
    /// An invariant on a policy target.
    Policy(CheckResult),
    /// A `forbid` or `no_escalation` invariant over an account.
    Account(AccountResult),
    /// A `require` invariant over an account.
    Require(RequireResult),
}

impl CheckEntry {
    /// The invariant's id.
    pub fn invariant(&self) -> &str {
        match self {
            CheckEntry::Policy(r) => &r.invariant,
            CheckEntry::Account(r) => &r.invariant,
            CheckEntry::Require(r) => &r.invariant,
        }
    }
    /// The invariant's description.
    pub fn description(&self) -> &str {
        match self {
            CheckEntry::Policy(r) => &r.description,
            CheckEntry::Account(r) => &r.description,
            CheckEntry::Require(r) => &r.description,
        }
    }
    /// The spec file (policy targets only; empty for account invariants).
    pub fn source(&self) -> &str {
        match self {
            CheckEntry::Policy(r) => &r.source,
            _ => "",
        }
    }
    /// The target's name (policy target) or the account directory.
    pub fn target(&self) -> &str {
        match self {
            CheckEntry::Policy(r) => &r.target,
            CheckEntry::Account(r) => &r.target,
            CheckEntry::Require(r) => &r.target,
        }
    }
    /// The verdict.
    pub fn status(&self) -> Verdict {
        match self {
            CheckEntry::Policy(r) => r.status,
            CheckEntry::Account(r) => r.status,
            CheckEntry::Require(r) => r.status,
        }
    }
    /// One line about the result.
    pub fn detail(&self) -> &str {
        match self {
            CheckEntry::Policy(r) => &r.detail,
            CheckEntry::Account(r) => &r.detail,
            CheckEntry::Require(r) => &r.detail,
        }
    }
    /// The counterexample as JSON (`null` when there is none): a replayed request for a policy
    /// target, the first violator for an account invariant.
    pub fn counterexample_json(&self) -> Value {
        let v = match self {
            CheckEntry::Policy(r) => serde_json::to_value(&r.counterexample),
            CheckEntry::Account(r) => serde_json::to_value(&r.counterexample),
            CheckEntry::Require(r) => serde_json::to_value(&r.counterexample),
        };
        v.unwrap_or(Value::Null)
    }
    /// The statements that decided a policy target's counterexample (none for accounts).
    pub fn statements(&self) -> &[crate::eval::StmtRef] {
        match self {
            CheckEntry::Policy(r) => &r.statements,
            _ => &[],
        }
    }
    /// What a `holds` relies on (policy targets; `None` when the result lists none).
    pub fn assumptions(&self) -> Option<&[String]> {
        match self {
            CheckEntry::Policy(r) => r.assumptions.as_deref(),
            _ => None,
        }
    }
    /// Warnings about a loaded account (empty for policy targets).
    pub fn warnings(&self) -> &[String] {
        match self {
            CheckEntry::Policy(_) => &[],
            CheckEntry::Account(r) => &r.warnings,
            CheckEntry::Require(r) => &r.warnings,
        }
    }
}

/// The report of `check`: one result per (invariant, target), in spec order (account
/// invariants first). Its JSON form is `{"results": [...], "summary": {...}}`.
pub struct CheckReport {
    /// Warnings of the account invariants (each once), for stderr.
    pub warnings: Vec<String>,
    pub results: Vec<CheckEntry>,
    pub violated: usize,
    pub unknown: usize,
    /// Results whose status is `error` (an internal error: exit 2).
    pub internal: usize,
    /// The policy targets: name and the names of their policies (for SARIF locations).
    pub targets: Vec<(String, Vec<String>)>,
}

impl CheckReport {
    /// The command's verdict: `error` if any result is, else `violated`, `unknown`, `holds`.
    pub fn verdict(&self) -> Verdict {
        if self.internal > 0 {
            Verdict::Error
        } else if self.violated > 0 {
            Verdict::Violated
        } else if self.unknown > 0 {
            Verdict::Unknown
        } else {
            Verdict::Holds
        }
    }
}

/// Why `check` produced no report: located input errors, after the warnings found until then.
pub struct CheckError {
    pub warnings: Vec<String>,
    pub errors: Errors,
}

/// The `check SPEC` command: every invariant on every target.
pub fn run(spec_path: &Path, opts: &QueryOptions) -> Result<CheckReport, CheckError> {
    let mut warnings: Vec<String> = Vec::new();
    let fail = |warnings: &mut Vec<String>, errors: Errors| CheckError {
        warnings: std::mem::take(warnings),
        errors,
    };
    let spec = match load_spec(spec_path) {
        Ok(s) => s,
        Err(e) => return Err(fail(&mut warnings, e)),
    };
    let mut results = Vec::new();
    let (mut violated, mut unknown, mut internal) = (0, 0, 0);
    if let Some(inputs) = &spec.account {
        match check_account(inputs, &spec.account_raw) {
            Ok(r) => {
                violated += r.iter().filter(|x| x.status() == Verdict::Violated).count();
                unknown += r.iter().filter(|x| x.status() == Verdict::Unknown).count();
                for w in r.iter().flat_map(CheckEntry::warnings) {
                    if !warnings.contains(w) {
                        warnings.push(w.clone());
                    }
                }
                results.extend(r);
            }
            Err(e) => return Err(fail(&mut warnings, e)),
        }
    }
    for (tname, side) in &spec.targets {
        for raw in &spec.raw {
            if let RawInvariant::OnlyAssumableBy {
                id,
                description,
                allowed,
                file,
            } = raw
            {
                let r = match only_assumable_by(tname, side, id, description, allowed, file, opts) {
                    Ok(r) => r,
                    Err(e) => return Err(fail(&mut warnings, e)),
                };
                match r.status {
                    Verdict::Violated => violated += 1,
                    Verdict::Unknown => unknown += 1,
                    _ => {}
                }
                results.push(CheckEntry::Policy(r));
                continue;
            }
            let inv = match raw {
                RawInvariant::Match {
                    id,
                    description,
                    kind,
                    body,
                    file,
                    path,
                } => compile_match(id, description, kind.clone(), body, file, path),
                RawInvariant::NoPublic {
                    id,
                    description,
                    trusted_accounts,
                    file,
                } => {
                    if !matches!(side, Side::Resource(_)) {
                        Err(vec![InputError::new(file, None, format!("invariant `{id}`: no_public applies to resource policies (target type resource)"))])
                    } else {
                        no_public_invariant(id, description, trusted_accounts, side, file)
                    }
                }
                RawInvariant::NoAdmin {
                    id,
                    description,
                    file,
                } => no_admin_invariant(id, description, side, file),
                RawInvariant::OnlyAssumableBy { .. } => continue,
            };
            let inv = match inv {
                Ok(i) => i,
                Err(e) => return Err(fail(&mut warnings, e)),
            };
            let o = check_one(side, &inv, opts);
            match o.status {
                Verdict::Violated => violated += 1,
                Verdict::Unknown => unknown += 1,
                Verdict::Error => internal += 1,
                _ => {}
            }
            results.push(CheckEntry::Policy(CheckResult {
                invariant: inv.id.clone(),
                description: inv.description.clone(),
                source: inv.source.clone(),
                target: tname.clone(),
                status: o.status,
                detail: o.detail,
                counterexample: o.counterexample,
                statements: o.statements,
                notes: o.notes,
                assumptions: Some(o.assumptions),
            }));
        }
    }
    let targets = spec
        .targets
        .iter()
        .map(|(name, side)| {
            let pols = side.policies().iter().map(|p| p.name.clone()).collect();
            (name.clone(), pols)
        })
        .collect();
    Ok(CheckReport {
        warnings,
        results,
        violated,
        unknown,
        internal,
        targets,
    })
}
