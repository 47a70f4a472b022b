//! Why a `can` question is answered **no**: for each candidate path (the principal itself and
//! every role it reaches), the layer that blocks it.
//!
//! For a candidate we ask the solver for a request matching the question that the candidate's
//! identity policies alone allow (every context key free). None: the block is a *missing allow*
//! (and, for `sts:` questions on roles, no trust policy names it). Otherwise that request is
//! replayed through the evaluator with the candidate's full scenario, and the evaluator names the
//! layer: an explicit deny (SCP of an OU or account, RCP, boundary, identity or resource policy,
//! with the statement), an SCP level or RCP level that allows nothing of it, or the boundary.

use super::pattern::{identity_witness, Question};
use super::{Env, Graph, Step};
use crate::eval::{Decision, SetName, StmtRef};
use serde::Serialize;

/// One blocked candidate path.
#[derive(Debug, Clone, Serialize)]
pub struct Blocked {
    /// The principal that would act last (the start, or a role it reaches).
    pub principal: String,
    /// Role assumptions leading to it.
    pub via: Vec<String>,
    /// `missing allow`, `explicit deny`, `SCP`, `RCP`, `permissions boundary`, ...
    pub layer: String,
    /// What blocks, in words.
    pub detail: String,
    /// The request the explanation was checked on (allowed by the identity policies alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// The statements involved.
    pub statements: Vec<StmtRef>,
}

fn layer_of(set: &SetName) -> String {
    match set {
        SetName::Scp(_) => "SCP".into(),
        SetName::Rcp(_) => "RCP".into(),
        SetName::PermissionsBoundary => "permissions boundary".into(),
        SetName::Identity => "identity policy".into(),
        SetName::Session => "session policy".into(),
        SetName::Resource => "resource policy".into(),
        SetName::VpcEndpoint => "VPC endpoint policy".into(),
    }
}

/// The blocking layer of a denied evaluation, in words.
fn classify(ev: &crate::eval::Evaluation) -> (String, String) {
    match ev.decision {
        Decision::ExplicitDeny => {
            let layers: Vec<String> = ev.statements.iter().map(|s| layer_of(&s.set)).collect();
            let what: Vec<String> = ev
                .statements
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
            (
                format!(
                    "explicit deny ({})",
                    layers.first().cloned().unwrap_or_default()
                ),
                format!("denied by {}", what.join("; ")),
            )
        }
        Decision::ImplicitDeny => {
            let r = ev.reason.to_lowercase();
            let layer = if r.contains("scp") {
                "SCP"
            } else if r.contains("rcp") {
                "RCP"
            } else if r.contains("boundary") {
                "permissions boundary"
            } else if r.contains("trust") || r.contains("key policy") {
                "missing trust or resource-policy grant"
            } else {
                "missing allow"
            };
            (layer.to_owned(), ev.reason.clone())
        }
        // allowed in the baseline context with other keys than the question allows
        Decision::Allow => (
            "conditions".into(),
            "allowed only with context values the question or the principal's facts exclude".into(),
        ),
    }
}

/// At most this many candidates are explained (the start first, then by path length).
const MAX_CANDIDATES: usize = 20;

/// Why no candidate path allows the question: one [`Blocked`] per candidate, each checked by the evaluator.
pub(crate) fn why_not(
    env: &Env,
    _graph: &Graph,
    start: usize,
    q: &Question,
    reach: &[(usize, Vec<Step>, bool)],
) -> Vec<Blocked> {
    let _ = start;
    let mut out = Vec::new();
    for (m, path, _) in reach.iter().take(MAX_CANDIDATES) {
        let via: Vec<String> = path.iter().map(|s| s.resource.clone()).collect();
        let principal = env.nodes[*m].arn.clone();
        match identity_witness(env, *m, q) {
            Err(e) => out.push(Blocked {
                principal,
                via,
                layer: "unknown".into(),
                detail: e,
                request: None,
                statements: Vec::new(),
            }),
            Ok(None) => out.push(Blocked {
                principal,
                via,
                layer: "missing allow".into(),
                detail: "no identity policy allows any request matching the question, and no resource or trust policy grants one".into(),
                request: None,
                statements: Vec::new(),
            }),
            Ok(Some((req, ev))) => {
                let (layer, detail) = classify(&ev);
                out.push(Blocked {
                    principal,
                    via,
                    layer,
                    detail,
                    request: Some(serde_json::json!({"action": req.action, "resource": req.resource})),
                    statements: ev.statements.clone(),
                })
            }
        }
    }
    // role assumptions that were tried and refused: roles outside the reach whose trust policy
    // names a reachable principal
    let reached: Vec<usize> = reach.iter().map(|(m, _, _)| *m).collect();
    let mut edges = 0;
    for (m, path, _) in reach {
        let p = env.principal_of(*m, None);
        for (r, node) in env.nodes.iter().enumerate() {
            if edges >= MAX_CANDIDATES || reached.contains(&r) {
                continue;
            }
            let Some(role) = env.role(r) else { continue };
            let names = role.trust.statements.iter().any(|s| {
                s.effect == crate::model::Effect::Allow
                    && s.principal.as_ref().is_some_and(|pe| {
                        !pe.negated && crate::rules::principal_grant(&pe.entries, &p).is_some()
                    })
            });
            if !names {
                continue;
            }
            edges += 1;
            let mut actor = super::Actor::new(env, *m);
            let o = actor.decide("sts:AssumeRole", &node.arn, &[], Some(&role.trust), None);
            let ev = o.evaluation();
            let (layer, detail) = classify(ev);
            let mut via: Vec<String> = path.iter().map(|s| s.resource.clone()).collect();
            via.push(node.arn.clone());
            out.push(Blocked {
                principal: env.nodes[*m].arn.clone(),
                via,
                layer: format!("role assumption refused: {layer}"),
                detail,
                request: Some(
                    serde_json::json!({"action": "sts:AssumeRole", "resource": node.arn}),
                ),
                statements: ev.statements.clone(),
            });
        }
    }
    out
}
