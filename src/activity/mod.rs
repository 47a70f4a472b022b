//! From real activity (CloudTrail records, AccessDenied messages, IAM last-accessed data):
//! `why` explains a denial, `generate` writes the least policy for observed requests, `tighten`
//! narrows an existing policy. Every result is checked by the evaluator (replay) and, for
//! `tighten`, by `diff::compare` (no widening).

pub mod cloudtrail;
pub mod generate;
pub mod tighten;
pub mod why;

use crate::catalog::Catalog;
use crate::eval::{evaluate, Decision};
use crate::model::{Policy, PolicyType};
use crate::request::{Context, Principal, Request};
use crate::rules::strict_resource;
use crate::scenario::{Errors, Scenario};
use cloudtrail::{load_events, Event, Resource};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;

/// One observed successful request.
#[derive(Debug, Clone)]
pub struct Observation {
    pub label: String,
    pub principal: Principal,
    pub action: String,
    pub resource: Resource,
    pub context: Context,
}

/// A denied record of the input (listed in `generate`'s report, not in the policy).
#[derive(Debug, Clone, Serialize)]
pub struct DeniedRecord {
    /// `file#path` of the record.
    pub record: String,
    /// The event name.
    pub event: String,
    /// Its IAM action, when known.
    pub action: Option<String>,
    /// The error code.
    pub error: Option<String>,
    /// The error message.
    pub message: Option<String>,
}

/// A record skipped as an observation, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedRecord {
    /// `file#path` of the record.
    pub record: String,
    /// The event name.
    pub event: String,
    /// Why it is not an observed success with a known action and principal.
    pub reason: String,
}

/// Observed successful requests of the callers `keep` selects; denied and skipped records listed.
pub fn observe(
    events: &[Event],
    keep: impl Fn(&Event) -> bool,
) -> (Vec<Observation>, Vec<DeniedRecord>, Vec<SkippedRecord>) {
    let (mut obs, mut denied, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for e in events.iter().filter(|e| keep(e)) {
        if e.denied() {
            denied.push(DeniedRecord {
                record: format!("{}#{}", e.file, e.path),
                event: e.name().to_owned(),
                action: e.action().ok(),
                error: e.error_code().map(str::to_owned),
                message: e.error_message().map(str::to_owned),
            });
            continue;
        }
        if let Some(code) = e.error_code() {
            skipped.push(SkippedRecord {
                record: format!("{}#{}", e.file, e.path),
                event: e.name().to_owned(),
                reason: format!("failed with {code} (not an observed success)"),
            });
            continue;
        }
        let action = match e.action() {
            Ok(a) => a,
            Err(why) => {
                skipped.push(SkippedRecord {
                    record: format!("{}#{}", e.file, e.path),
                    event: e.name().to_owned(),
                    reason: why,
                });
                continue;
            }
        };
        let principal = match e.principal() {
            Ok(p) => p,
            Err(why) => {
                skipped.push(SkippedRecord {
                    record: format!("{}#{}", e.file, e.path),
                    event: e.name().to_owned(),
                    reason: why,
                });
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

/// The events of every file, or the errors of all of them.
pub fn load_all(files: &[PathBuf]) -> Result<Vec<Event>, Errors> {
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
