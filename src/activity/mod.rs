//! From real activity (CloudTrail records, AccessDenied messages, IAM last-accessed data):
//! `why` explains a denial, `generate` writes the least policy for observed requests, `tighten`
//! narrows an existing policy. Every result is checked by the evaluator (replay) and, for
//! `tighten`, by `diff::compare` (no widening).

pub mod cloudtrail;
pub mod generate;
pub mod tighten;
pub mod why;

use crate::catalog::Catalog;
use crate::cli::{report_errors, Exit, Format};
use crate::eval::{evaluate, strict_resource, Decision};
use crate::model::{Policy, PolicyType};
use crate::request::{Context, Principal, Request};
use crate::scenario::{Errors, InputError, Scenario};
use cloudtrail::{load_events, Event, Resource};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One observed successful request.
#[derive(Debug, Clone)]
pub struct Observation {
    pub label: String,
    pub principal: Principal,
    pub action: String,
    pub resource: Resource,
    pub context: Context,
}

/// Observed successful requests of the callers `keep` selects; denied and skipped records listed.
pub fn observe(
    events: &[Event],
    keep: impl Fn(&Event) -> bool,
) -> (Vec<Observation>, Vec<Value>, Vec<Value>) {
    let (mut obs, mut denied, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for e in events.iter().filter(|e| keep(e)) {
        if e.denied() {
            denied.push(json!({"record": format!("{}#{}", e.file, e.path), "event": e.name(), "action": e.action().ok(), "error": e.error_code(), "message": e.error_message()}));
            continue;
        }
        if let Some(code) = e.error_code() {
            skipped.push(json!({"record": format!("{}#{}", e.file, e.path), "event": e.name(), "reason": format!("failed with {code} (not an observed success)")}));
            continue;
        }
        let action = match e.action() {
            Ok(a) => a,
            Err(why) => {
                skipped.push(json!({"record": format!("{}#{}", e.file, e.path), "event": e.name(), "reason": why}));
                continue;
            }
        };
        let principal = match e.principal() {
            Ok(p) => p,
            Err(why) => {
                skipped.push(json!({"record": format!("{}#{}", e.file, e.path), "event": e.name(), "reason": why}));
                continue;
            }
        };
        obs.push(Observation {
            label: e.label(),
            resource: e.resource(&action),
            principal,
            action,
            context: e.context(),
        });
    }
    (obs, denied, skipped)
}

/// Access level of an action (`Unknown` when not in the catalog).
pub fn by_level(action: &str) -> &'static str {
    Catalog::get()
        .action(action)
        .map_or("Unknown", |(_, a)| a.access_level.as_str())
}

/// Parse a policy this module wrote.
pub fn parse_generated(doc: &Value, name: &str) -> Result<Policy, String> {
    crate::parse::parse_policy_text(&doc.to_string(), PolicyType::Identity, name).map_err(|e| {
        format!(
            "internal error: the written policy does not parse: {}",
            e.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

/// Result of replaying observations through the evaluator.
pub struct Replay {
    pub allowed: usize,
    pub failures: Vec<Value>,
    pub assumptions: Vec<String>,
}

/// The request of an observation (unknown resources replay as `*`).
pub fn request_of(o: &Observation) -> Request {
    let res = match &o.resource {
        Resource::Known(r) => r.clone(),
        Resource::Unknown(_) => "*".into(),
    };
    Request::new(
        o.principal.clone(),
        &o.action,
        &res,
        None,
        o.context.clone(),
    )
}

/// A resource policy admitting the caller's whole account (what an observed success across
/// accounts, or on a role or key, shows the resource side did).
fn admitting(req: &Request) -> Option<Policy> {
    let root = format!(
        "arn:{}:iam::{}:root",
        req.principal.partition, req.principal.account
    );
    let trust = crate::scenario::is_role_arn(&req.resource);
    let doc = if trust {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": root}, "Action": "*"}]})
    } else {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": root}, "Action": "*", "Resource": "*"}]})
    };
    crate::parse::parse_policy_text(
        &doc.to_string(),
        if trust {
            PolicyType::Trust
        } else {
            PolicyType::Resource
        },
        "assumed resource policy admitting the caller's account",
    )
    .ok()
}

/// Replay every observation through the evaluator with `policy` as the only identity policy.
pub fn replay(policy: &Policy, obs: &[Observation]) -> Replay {
    let mut sc = Scenario::empty();
    sc.identity_policies = vec![policy.clone()];
    let mut out = Replay {
        allowed: 0,
        failures: Vec::new(),
        assumptions: vec!["the policy alone on the identity side: no SCP, boundary or session policy limits the principal (they do not change what the policy grants)".into()],
    };
    let mut resource_side = false;
    let mut unknown = false;
    let mut federated = false;
    for o in obs {
        let req = request_of(o);
        let mut sc = sc.clone();
        if matches!(
            req.principal.kind,
            crate::request::PrincipalKind::FederatedUser { .. }
        ) {
            // a federated user has the intersection of its user's policies and the session
            // policy passed to GetFederationToken: the policy plays both parts
            sc.session_policies = vec![policy.clone()];
            federated = true;
        }
        let mut d = evaluate(&sc, &req).decision;
        if d != Decision::Allow
            && (strict_resource(&req.action, &req.resource) || !req.same_account())
        {
            let mut s2 = sc.clone();
            s2.resource_policy = admitting(&req);
            d = evaluate(&s2, &req).decision;
            resource_side = true;
        }
        if matches!(o.resource, Resource::Unknown(_)) {
            unknown = true;
        }
        if d == Decision::Allow {
            out.allowed += 1;
        } else {
            out.failures.push(json!({"record": o.label, "request": why::request_json(&req), "decision": d.name()}));
        }
    }
    if resource_side {
        out.assumptions.push("requests on roles, KMS keys or other accounts' resources replayed with a resource policy admitting the caller's account (the observed success shows the resource side admitted it; the identity side is what is proven)".into());
    }
    if federated {
        out.assumptions.push("federated-user sessions replayed with the policy as both the calling user's policy and the GetFederationToken session policy".into());
    }
    if unknown {
        out.assumptions.push("requests whose resource the record does not name replayed with resource `*` (their statements use `Resource: *`)".into());
    }
    out
}

fn load_all(files: &[PathBuf]) -> Result<Vec<Event>, Errors> {
    let mut events = Vec::new();
    let mut errs = Vec::new();
    for f in files {
        match load_events(f) {
            Ok(mut e) => events.append(&mut e),
            Err(e) => errs.extend(e),
        }
    }
    if errs.is_empty() {
        Ok(events)
    } else {
        Err(errs)
    }
}

fn write_policy(policy: &Value, output: Option<&Path>) -> Result<(), Errors> {
    let text = serde_json::to_string_pretty(policy).unwrap_or_default() + "\n";
    match output {
        Some(p) => std::fs::write(p, text).map_err(|e| {
            vec![InputError::new(
                &p.display().to_string(),
                None,
                format!("cannot write: {e}"),
            )]
        }),
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            Ok(())
        }
    }
}

/// `iamprove why`.
pub fn cmd_why(
    inputs: &crate::account::Inputs,
    message: Option<&str>,
    event: Option<&Path>,
    event_id: Option<&str>,
    format: Format,
) -> Exit {
    if format == Format::Sarif {
        return crate::cli::no_sarif("why");
    }
    let env = match crate::account::Env::load(inputs) {
        Ok(e) => e,
        Err(e) => return report_errors(&e),
    };
    let parsed = match message.map(why::parse_message) {
        Some(None) => {
            return report_errors(&vec![InputError::new(
                "--message",
                None,
                "not an AccessDenied message: expected `User: ARN is not authorized to perform: ACTION ...` or an encoded authorization failure message",
            )])
        }
        Some(Some(m)) => Some(m),
        None => None,
    };
    let mut whys = Vec::new();
    let mut errs: Errors = Vec::new();
    match event {
        Some(path) => {
            let events = match load_events(path) {
                Ok(e) => e,
                Err(e) => return report_errors(&e),
            };
            let picked: Vec<&Event> = match event_id {
                Some(id) => events.iter().filter(|e| e.id() == Some(id)).collect(),
                None if events.len() == 1 => events.iter().collect(),
                None => events.iter().filter(|e| e.denied()).collect(),
            };
            if picked.is_empty() {
                let what = match event_id {
                    Some(id) => format!("no record with eventID `{id}`"),
                    None => {
                        "no AccessDenied or UnauthorizedOperation record; pick one with --event-id"
                            .into()
                    }
                };
                return report_errors(&vec![InputError::new(
                    &path.display().to_string(),
                    None,
                    what,
                )]);
            }
            for e in picked {
                let msg = parsed
                    .clone()
                    .or_else(|| e.error_message().and_then(why::parse_message));
                match why::rebuild(&env, msg.as_ref(), Some((e, &events))) {
                    Ok(rb) => whys.push(why::explain_request(
                        &env,
                        rb,
                        msg.as_ref(),
                        format!("{}#{}", e.file, e.path),
                    )),
                    Err(m) => errs.push(InputError::new(&e.file, Some(e.path.clone()), m)),
                }
            }
        }
        None => {
            let Some(m) = parsed.as_ref() else {
                return report_errors(&vec![InputError::new(
                    "iamprove why",
                    None,
                    "expects --message TEXT or --event FILE",
                )]);
            };
            match why::rebuild(&env, Some(m), None) {
                Ok(rb) => whys.push(why::explain_request(&env, rb, Some(m), "--message".into())),
                Err(e) => errs.push(InputError::new("--message", None, e)),
            }
        }
    }
    let mut out = crate::cli::style::stdout();
    match format {
        Format::Json => {
            let v = if whys.len() == 1 && errs.is_empty() {
                whys[0].to_json()
            } else {
                json!({"explanations": whys.iter().map(why::Why::to_json).collect::<Vec<_>>(),
                       "not_explained": errs.iter().map(|e| e.to_string()).collect::<Vec<_>>()})
            };
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            );
        }
        _ => {
            for (i, w) in whys.iter().enumerate() {
                if i > 0 {
                    let _ = writeln!(out);
                }
                let _ = write!(out, "{}", w.to_text());
            }
        }
    }
    if !errs.is_empty() {
        report_errors(&errs);
        return Exit::Input;
    }
    Exit::Ok
}

/// `iamprove generate`.
pub fn cmd_generate(
    files: &[PathBuf],
    principal: &str,
    output: Option<&Path>,
    format: Format,
) -> Exit {
    if format == Format::Sarif {
        return crate::cli::no_sarif("generate");
    }
    if let Err(e) = Principal::parse(principal) {
        return report_errors(&vec![InputError::new("--principal", None, e)]);
    }
    let events = match load_all(files) {
        Ok(e) => e,
        Err(e) => return report_errors(&e),
    };
    let report = match generate::generate(&events, principal) {
        Ok(r) => r,
        Err(e) => return report_errors(&vec![InputError::new("--cloudtrail", None, e)]),
    };
    if report["proof"]["holds"] != json!(true) {
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error: the generated policy does not allow every observed request: {}",
            report["proof"]["failures"]
        );
        return Exit::Input;
    }
    finish(&report, output, format, generate_text)
}

fn finish(
    report: &Value,
    output: Option<&Path>,
    format: Format,
    text: fn(&Value) -> String,
) -> Exit {
    let policy = &report["policy"];
    match format {
        Format::Json => {
            if let Some(p) = output {
                if let Err(e) = write_policy(policy, Some(p)) {
                    return report_errors(&e);
                }
            }
            let _ = writeln!(
                crate::cli::style::stdout(),
                "{}",
                serde_json::to_string_pretty(report).unwrap_or_default()
            );
        }
        _ => {
            if let Err(e) = write_policy(policy, output) {
                return report_errors(&e);
            }
            let summary = text(report);
            if output.is_some() {
                let _ = write!(crate::cli::style::stdout(), "{summary}");
            } else if !crate::cli::style::quiet() {
                let _ = write!(std::io::stderr(), "{summary}");
            }
        }
    }
    if report["verdict"] == json!("unknown") {
        Exit::Unknown
    } else {
        Exit::Ok
    }
}

fn levels_text(v: &Value) -> String {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, x)| format!("{k} {}", x))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn generate_text(r: &Value) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let ob = &r["observed"];
    let _ = writeln!(
        o,
        "observed: {} successful requests of {} ({} distinct, {} actions); {} denied, {} skipped",
        ob["successful_requests"],
        r["principal"].as_str().unwrap_or(""),
        ob["distinct_requests"],
        ob["actions"],
        ob["denied"].as_array().map_or(0, Vec::len),
        ob["skipped"].as_array().map_or(0, Vec::len)
    );
    let p = &r["proof"];
    let _ = writeln!(
        o,
        "proof: {} of {} observed requests replayed as Allow through the evaluator",
        p["allowed"], p["replayed"]
    );
    for a in p["assumptions"].as_array().into_iter().flatten() {
        let _ = writeln!(o, "  assuming: {}", a.as_str().unwrap_or(""));
    }
    let g = &r["over_grant"];
    let _ = writeln!(
        o,
        "over-grant: no action beyond the observed ones; by access level:"
    );
    for (lvl, x) in g["by_access_level"].as_object().into_iter().flatten() {
        let _ = writeln!(
            o,
            "  {lvl}: {} actions, {} on any resource (resource not in the record), {} on generalised resources",
            x["allowed_actions"], x["actions_on_any_resource"], x["actions_on_generalised_resources"]
        );
    }
    for x in g["generalised_resources"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "  {} on {} (observed {})",
            x["action"].as_str().unwrap_or(""),
            x["pattern"].as_str().unwrap_or(""),
            x["observed"].as_array().map_or(0, Vec::len)
        );
    }
    for d in ob["denied"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "denied (not in the policy): {} {}",
            d["action"]
                .as_str()
                .unwrap_or(d["event"].as_str().unwrap_or("")),
            d["error"].as_str().unwrap_or("")
        );
    }
    let _ = levels_text;
    o
}

/// `iamprove tighten`.
pub fn cmd_tighten(
    policy: &Path,
    cloudtrail: &[PathBuf],
    last_accessed: Option<&Path>,
    principal: Option<&str>,
    output: Option<&Path>,
    opts: &crate::query::QueryOptions,
    format: Format,
) -> Exit {
    if format == Format::Sarif {
        return crate::cli::no_sarif("tighten");
    }
    let report = match (cloudtrail.is_empty(), last_accessed) {
        (false, None) => {
            let events = match load_all(cloudtrail) {
                Ok(e) => e,
                Err(e) => return report_errors(&e),
            };
            tighten::tighten_cloudtrail(policy, &events, principal, opts)
        }
        (true, Some(la)) => tighten::tighten_last_accessed(policy, la, opts),
        _ => {
            return report_errors(&vec![InputError::new(
                "iamprove tighten",
                None,
                "expects POLICY with either --cloudtrail FILE... or --last-accessed FILE",
            )])
        }
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => return report_errors(&e),
    };
    if report["verdict"] == json!("internal_error") {
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error: {}",
            report["error"]
        );
        return Exit::Input;
    }
    finish(&report, output, format, tighten::text)
}
