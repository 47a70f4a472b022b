//! `iamprove generate`: the least identity policy that allows every observed successful request
//! of one principal, with a replay proof and an over-grant report.

use super::cloudtrail::{fit_format, Event, Resource};
use super::{by_level, replay, DeniedRecord, Observation, Replay, SkippedRecord};
use crate::catalog::Catalog;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Collapse the observed ARNs of one action: ARNs fitting the same catalog ARN format keep
/// the placeholder values they share and get `*` where they differ; one ARN stays exact.
pub fn generalise(action: &str, arns: &BTreeSet<String>) -> Vec<(String, Vec<String>)> {
    let cat = Catalog::get();
    let formats: Vec<&str> = cat
        .action(action)
        .map(|(svc, act)| {
            act.resource_types()
                .filter_map(|t| svc.resource_type(t.name))
                .flat_map(|rt| rt.arn_formats.iter().copied())
                .collect()
        })
        .unwrap_or_default();
    type Fitted = (String, Vec<(String, String)>);
    let mut groups: BTreeMap<usize, Vec<Fitted>> = BTreeMap::new();
    let mut out = Vec::new();
    for a in arns {
        match formats
            .iter()
            .enumerate()
            .find_map(|(i, f)| fit_format(f, a).map(|v| (i, v)))
        {
            // an ARN holding wildcard characters is kept literally (it already is a pattern)
            Some((i, vals)) if !a.contains(['*', '?', '$']) => {
                groups.entry(i).or_default().push((a.clone(), vals))
            }
            _ => out.push((a.clone(), vec![a.clone()])),
        }
    }
    for (i, members) in groups {
        if members.len() == 1 {
            let (a, _) = &members[0];
            out.push((a.clone(), vec![a.clone()]));
            continue;
        }
        let fmt = formats[i];
        let mut pattern = String::new();
        let mut rest = fmt;
        let mut k = 0;
        while let Some(p) = rest.find("${") {
            pattern.push_str(&rest[..p]);
            let end = rest[p..].find('}').map_or(rest.len(), |e| p + e + 1);
            let first = &members[0].1.get(k).map(|x| x.1.clone()).unwrap_or_default();
            let same = members
                .iter()
                .all(|(_, v)| v.get(k).map(|x| &x.1) == Some(first));
            if same {
                pattern.push_str(first);
            } else {
                // the longest common prefix of the values, then `*`
                let mut prefix: &str = first;
                for (_, v) in &members {
                    let x = v.get(k).map_or("", |x| x.1.as_str());
                    let n = prefix
                        .char_indices()
                        .zip(x.chars())
                        .take_while(|((_, a), b)| a == b)
                        .last()
                        .map_or(0, |((i, a), _)| i + a.len_utf8());
                    prefix = &prefix[..n];
                }
                pattern.push_str(prefix);
                pattern.push('*');
            }
            rest = &rest[end..];
            k += 1;
        }
        pattern.push_str(rest);
        out.push((pattern, members.into_iter().map(|(a, _)| a).collect()));
    }
    out.sort();
    out
}

fn sid_base(service: &str) -> String {
    let mut s: String = service
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if let Some(f) = s.get(..1) {
        s = f.to_uppercase() + &s[1..];
    }
    s
}

/// Build the policy document from observations: one statement per service and resource set.
pub fn build_policy(obs: &[Observation]) -> (Value, Vec<Generalised>, Vec<AnyResource>) {
    let mut per_action: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for o in obs {
        let e = per_action.entry(o.action.clone()).or_default();
        match &o.resource {
            Resource::Known(r) => {
                e.0.insert(r.clone());
            }
            Resource::Unknown(why) => e.1.push(why.clone()),
        }
    }
    let mut generalised = Vec::new();
    let mut unknown = Vec::new();
    // (service, resource patterns) → actions
    let mut stmts: BTreeMap<(String, Vec<String>), BTreeSet<String>> = BTreeMap::new();
    for (action, (arns, unk)) in &per_action {
        let service = action.split(':').next().unwrap_or("").to_owned();
        let patterns: Vec<String> = if !unk.is_empty() || arns.contains("*") {
            if !unk.is_empty() {
                unknown.push(AnyResource {
                    action: action.clone(),
                    reason: unk[0].clone(),
                    requests: unk.len(),
                });
            }
            vec!["*".into()]
        } else {
            let g = generalise(action, arns);
            for (p, members) in &g {
                if members.len() > 1 || members.first() != Some(p) {
                    generalised.push(Generalised {
                        action: action.clone(),
                        pattern: p.clone(),
                        observed: members.clone(),
                    });
                }
            }
            g.into_iter().map(|(p, _)| p).collect()
        };
        stmts
            .entry((service, patterns))
            .or_default()
            .insert(action.clone());
    }
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let statements: Vec<Value> = stmts
        .into_iter()
        .map(|((service, res), actions)| {
            let n = count.entry(service.clone()).or_default();
            *n += 1;
            let acts: Vec<String> = actions.into_iter().collect();
            json!({
                "Sid": format!("{}{}", sid_base(&service), n),
                "Effect": "Allow",
                "Action": if acts.len() == 1 { json!(acts[0]) } else { json!(acts) },
                "Resource": if res.len() == 1 { json!(res[0]) } else { json!(res) },
            })
        })
        .collect();
    (
        json!({"Version": "2012-10-17", "Statement": statements}),
        generalised,
        unknown,
    )
}

/// The report of `generate`: the policy, what was observed, the replay proof and the
/// over-grant. Serialized with the field names (and order) the JSON report has always had.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateReport {
    /// The principal whose activity was read.
    pub principal: String,
    /// The generated policy document.
    pub policy: Value,
    /// What the input held.
    pub observed: GenerateObserved,
    /// Every observed request replayed through the evaluator under the policy.
    pub proof: GenerateProof,
    /// What the policy grants beyond the observed requests.
    pub over_grant: OverGrant,
}

/// The observed part of a [`GenerateReport`].
#[derive(Debug, Clone, Serialize)]
pub struct GenerateObserved {
    /// Successful requests with a known IAM action.
    pub successful_requests: usize,
    /// Distinct (action, resource) pairs among them.
    pub distinct_requests: usize,
    /// Distinct actions among them.
    pub actions: usize,
    /// Denied requests.
    pub denied: Vec<DeniedRecord>,
    /// Skipped records.
    pub skipped: Vec<SkippedRecord>,
}

/// The replay proof of a [`GenerateReport`].
#[derive(Debug, Clone, Serialize)]
pub struct GenerateProof {
    /// Requests replayed.
    pub replayed: usize,
    /// Replayed as Allow.
    pub allowed: usize,
    /// Requests the policy does not allow (an internal error when not empty).
    pub failures: Vec<Value>,
    /// Assumptions of the replay.
    pub assumptions: Vec<String>,
    /// Every observed request is allowed (`failures` is empty).
    pub holds: bool,
}

/// The over-grant part of a [`GenerateReport`].
#[derive(Debug, Clone, Serialize)]
pub struct OverGrant {
    /// Allowed actions that were not observed: always 0 (statements name observed actions).
    pub extra_actions: usize,
    /// Counts per access level.
    pub by_access_level: BTreeMap<&'static str, LevelCounts>,
    /// Resources generalised to a pattern.
    pub generalised_resources: Vec<Generalised>,
    /// Actions granted on `*` because some request's resource is unknown.
    pub any_resource_because_unknown: Vec<AnyResource>,
}

/// An action whose observed resources are granted through a pattern.
#[derive(Debug, Clone, Serialize)]
pub struct Generalised {
    /// The action.
    pub action: String,
    /// The resource pattern in the policy.
    pub pattern: String,
    /// The observed ARNs it covers.
    pub observed: Vec<String>,
}

/// An action granted on `*` because some request's resource is not in its record.
#[derive(Debug, Clone, Serialize)]
pub struct AnyResource {
    /// The action.
    pub action: String,
    /// Why the first such request's resource is unknown.
    pub reason: String,
    /// How many requests of the action have an unknown resource.
    pub requests: usize,
}

/// Action counts of one access level in [`OverGrant`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct LevelCounts {
    /// Observed actions.
    pub observed_actions: usize,
    /// Allowed actions.
    pub allowed_actions: usize,
    /// Allowed actions not observed.
    pub extra_actions: usize,
    /// Actions granted on any resource.
    pub actions_on_any_resource: usize,
    /// Actions granted on generalised resources.
    pub actions_on_generalised_resources: usize,
}

/// `generate`: the report (policy included).
pub fn generate(events: &[Event], principal: &str) -> Result<GenerateReport, String> {
    let (obs, denied, skipped) = super::observe(events, |e| e.by(principal));
    if obs.is_empty() {
        return Err(format!(
            "no successful request of `{principal}` with a known IAM action in the input ({} denied, {} skipped)",
            denied.len(),
            skipped.len()
        ));
    }
    let (policy, generalised, unknown) = build_policy(&obs);
    let pol = super::parse_generated(&policy, "generated policy")?;
    let Replay {
        allowed,
        failures,
        assumptions,
    } = replay(&pol, &obs);
    // over-grant: every allowed action is an observed one; resources may be wider
    let mut levels: BTreeMap<&'static str, LevelCounts> = BTreeMap::new();
    let observed_actions: BTreeSet<&str> = obs.iter().map(|o| o.action.as_str()).collect();
    let any_resource: BTreeSet<&str> = unknown.iter().map(|u| u.action.as_str()).collect();
    let gen_actions: BTreeSet<&str> = generalised.iter().map(|g| g.action.as_str()).collect();
    for a in &observed_actions {
        let lvl = by_level(a);
        let e = levels.entry(lvl).or_default();
        e.observed_actions += 1;
        e.allowed_actions += 1;
        e.actions_on_any_resource += usize::from(any_resource.contains(a));
        e.actions_on_generalised_resources += usize::from(gen_actions.contains(a));
    }
    let distinct: BTreeSet<(String, String)> = obs
        .iter()
        .map(|o| {
            (
                o.action.clone(),
                match &o.resource {
                    Resource::Known(r) => r.clone(),
                    Resource::Unknown(_) => "?".into(),
                },
            )
        })
        .collect();
    Ok(GenerateReport {
        principal: principal.to_owned(),
        policy,
        observed: GenerateObserved {
            successful_requests: obs.len(),
            distinct_requests: distinct.len(),
            actions: observed_actions.len(),
            denied,
            skipped,
        },
        proof: GenerateProof {
            replayed: obs.len(),
            allowed,
            holds: failures.is_empty(),
            failures,
            assumptions,
        },
        over_grant: OverGrant {
            extra_actions: 0,
            by_access_level: levels,
            generalised_resources: generalised,
            any_resource_because_unknown: unknown,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalises_only_what_varies() {
        let arns: BTreeSet<String> = ["arn:aws:s3:::b/k1", "arn:aws:s3:::b/dir/k2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let g = generalise("s3:GetObject", &arns);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].0, "arn:aws:s3:::b/*");
        let one: BTreeSet<String> = ["arn:aws:s3:::b/k1".to_string()].into_iter().collect();
        assert_eq!(generalise("s3:GetObject", &one)[0].0, "arn:aws:s3:::b/k1");
    }
}
