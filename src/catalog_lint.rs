//! `validate` warnings from the action catalog: actions, wildcard patterns and service prefixes
//! the catalog does not know, and unknown condition keys. Warnings, not errors: the catalog can
//! lag behind AWS, so every message names the catalog's date.

use crate::catalog::Catalog;
use crate::model::Policy;
use crate::validate::Finding;

/// What the catalog says about one action pattern (`lower`: in lower case; `shown`: as written),
/// if anything is wrong.
pub fn action_problem(cat: &Catalog, lower: &str, shown: &str) -> Option<(&'static str, String)> {
    let wildcard = lower.contains(['*', '?']);
    if lower == "*" {
        return None;
    }
    let (svc, name) = lower.split_once(':')?;
    let svc_wild = svc.contains(['*', '?']);
    if !svc_wild && cat.service(svc).is_none() {
        return Some(("unknown-service", format!("unknown service prefix `{svc}`")));
    }
    if !wildcard {
        if cat.action_by_lowercase(lower).is_none() {
            let hint = suggestion(cat, svc, name)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Some(("unknown-action", format!("unknown action `{shown}`{hint}")));
        }
        return None;
    }
    if cat.matching_indices(lower).is_empty() {
        let whose = if svc_wild {
            "any service".to_owned()
        } else {
            format!("service `{svc}`")
        };
        return Some((
            "action-matches-nothing",
            format!("pattern `{shown}` matches no known action of {whose}"),
        ));
    }
    None
}

/// The action of `svc` closest to `name` (at most two edits), in its display spelling.
fn suggestion(cat: &Catalog, svc: &str, name: &str) -> Option<String> {
    let service = cat.service(svc)?;
    service
        .actions
        .iter()
        .filter_map(|a| {
            let d = if a.name.is_ascii() && name.is_ascii() {
                edit_distance_within(a.name.as_bytes(), name.as_bytes(), 2)?
            } else {
                edit_distance(&a.name.to_ascii_lowercase(), name)
            };
            (d <= 2).then_some((d, a))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| format!("{}:{}", service.prefix, a.name))
}

/// [`edit_distance`] of two ASCII strings ignoring case when it is at most `max`, else `None`;
/// cheap when it is not (lengths further apart than `max`, or a row whose minimum passes `max`).
/// `validate` asks it for every unknown action against every action of its service, so a list
/// of thousands of unknown actions stays a matter of milliseconds.
fn edit_distance_within(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(!ca.eq_ignore_ascii_case(cb));
            let v = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            cur[j + 1] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            let best = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            cur.push(best);
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// Catalog warnings for a parsed policy.
pub fn catalog_warnings(p: &Policy, file: &str) -> Vec<Finding> {
    let cat = Catalog::get();
    if cat.action_count() == 0 {
        return Vec::new();
    }
    let date = cat.data_date();
    let lag = format!("(action catalog of {date}; it may lag behind AWS)");
    let mut out = Vec::new();
    for s in &p.statements {
        let elem = if s.action.negated {
            "NotAction"
        } else {
            "Action"
        };
        let mut services_told = Vec::new();
        for a in &s.action.patterns {
            if let Some((code, msg)) = action_problem(cat, &a.lower, a.raw.trim()) {
                // one warning per unknown service and statement
                if code == "unknown-service" {
                    let svc = a.lower.split(':').next().unwrap_or("");
                    if services_told.contains(&svc) {
                        continue;
                    }
                    services_told.push(svc);
                }
                out.push(Finding {
                    file: file.to_owned(),
                    path: format!("{}.{elem}", s.path),
                    severity: "warning",
                    code,
                    message: format!("{msg} {lag}"),
                });
            }
        }
        for c in &s.conditions {
            // OIDC and SAML keys are documented in the IAM guide, not in the catalog's source
            if !cat.condition_key_known(&c.key)
                && !crate::trust::providers::federated_key_known(&c.key)
            {
                out.push(Finding {
                    file: file.to_owned(),
                    path: format!("{}.Condition.{}.{}", s.path, c.op.raw, c.key_raw),
                    severity: "warning",
                    code: "unknown-condition-key",
                    message: format!("unknown condition key `{}` {lag}", c.key_raw),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_problems_of_action_patterns() {
        let cat = Catalog::get();
        assert_eq!(action_problem(cat, "s3:getobject", "s3:getobject"), None);
        assert_eq!(action_problem(cat, "s3:get*", "s3:get*"), None);
        assert_eq!(action_problem(cat, "*", "*"), None);
        assert_eq!(action_problem(cat, "s3:*", "s3:*"), None);
        let (code, msg) = action_problem(cat, "s3:getobjekt", "s3:getobjekt").unwrap();
        assert_eq!(code, "unknown-action");
        assert!(
            msg.contains("`s3:getobjekt`; did you mean `s3:GetObject`"),
            "{msg}"
        );
        assert_eq!(
            action_problem(cat, "s3:frobnicate*", "s3:frobnicate*")
                .unwrap()
                .0,
            "action-matches-nothing"
        );
        assert_eq!(
            action_problem(cat, "nosuchsvc:getthing", "nosuchsvc:getthing")
                .unwrap()
                .0,
            "unknown-service"
        );
        assert_eq!(
            action_problem(cat, "nosuchsvc:*", "nosuchsvc:*").unwrap().0,
            "unknown-service"
        );
        assert_eq!(
            action_problem(cat, "*:frobnicatezz", "*:frobnicatezz")
                .unwrap()
                .0,
            "action-matches-nothing"
        );
        assert_eq!(action_problem(cat, "*:getobject", "*:getobject"), None);
    }

    #[test]
    fn bounded_edit_distance_agrees() {
        let words = [
            "getobject",
            "GetObjects",
            "putobject",
            "getobj",
            "",
            "g",
            "getbucketacl",
            "GETOBJECT",
        ];
        for a in words {
            for b in words {
                let d = edit_distance(&a.to_ascii_lowercase(), &b.to_ascii_lowercase());
                for max in 0..4 {
                    let want = (d <= max).then_some(d);
                    assert_eq!(
                        edit_distance_within(a.as_bytes(), b.as_bytes(), max),
                        want,
                        "{a} {b} {max}"
                    );
                }
            }
        }
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("getobject", "getobjekt"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("listbucket", "listbuckets"), 1);
    }
}
