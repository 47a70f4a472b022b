//! Bridge between the symbolic engine and the action catalog: candidate witnesses and display
//! names, so counterexamples name real actions.

use crate::automata::Pattern;
use crate::catalog::index;

/// Literal service prefix of an action pattern (`s3` for `s3:Get*`), if it has one.
fn literal_service(pattern: &str) -> Option<&str> {
    let (svc, _) = pattern.split_once(':')?;
    (!svc.contains('*') && !svc.contains('?')).then_some(svc)
}

/// Catalog actions (lowercase) of one service (from the build-time index: no catalog parse).
pub fn service_actions(svc: &str) -> Vec<&'static str> {
    crate::catalog::index::names_with_prefix(&format!("{svc}:"))
}

/// Catalog actions (lowercase) worth offering as witnesses for these action patterns: every
/// action of each service a pattern names, and one action of every other service (for patterns
/// such as `*` or `NotAction` that reach services the policies never name).
pub fn action_candidates(patterns: &[String]) -> Vec<String> {
    let mut services: Vec<&str> = patterns.iter().filter_map(|p| literal_service(p)).collect();
    services.sort_unstable();
    services.dedup();
    let mut out: Vec<String> = Vec::new();
    for s in &services {
        out.extend(service_actions(s).into_iter().map(str::to_owned));
    }
    let wildcard_service = patterns
        .iter()
        .any(|p| literal_service(p).is_none() && p != "?*:?*");
    if wildcard_service {
        for (prefix, actions) in index::services() {
            if services.binary_search(&prefix).is_err() {
                if let Some(first) =
                    index::lowercase_name(actions.start).filter(|_| !actions.is_empty())
                {
                    out.push(first.to_owned());
                }
            }
        }
    }
    out
}

/// `s3:getobject` → `s3:GetObject` when the catalog knows the action.
pub fn display_action(lower: &str) -> String {
    index::find(&lower.to_ascii_lowercase())
        .and_then(index::display_name)
        .unwrap_or_else(|| lower.to_owned())
}

/// The catalog actions of the witness's service that behave like the witness for the query: the
/// same truth for every predicate (a union of `atoms`, one per statement element). These are the
/// real actions a finding stands for. Returns display names and access levels.
pub fn actions_like(
    witness: &str,
    atoms: &[Pattern],
    preds: &[Vec<usize>],
) -> Vec<(String, String)> {
    let Some(svc) = literal_service(witness) else {
        return Vec::new();
    };
    let vector = |s: &str| -> Vec<bool> {
        let bits: Vec<bool> = atoms.iter().map(|a| a.is_match(s)).collect();
        preds
            .iter()
            .map(|p| p.iter().any(|&i| bits.get(i).copied().unwrap_or(false)))
            .collect()
    };
    let want = vector(witness);
    service_actions(svc)
        .into_iter()
        .filter(|name| vector(name) == want)
        .filter_map(|name| {
            let i = index::find(name)?;
            Some((index::display_name(i)?, index::access_level(i)?.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_cover_named_services() {
        let c = action_candidates(&["s3:get*".into()]);
        assert!(c.iter().any(|a| a == "s3:getobject"));
        assert!(!c.iter().any(|a| a.starts_with("ec2:")));
        let c = action_candidates(&["*".into()]);
        assert!(
            c.iter().any(|a| a.starts_with("ec2:")),
            "one action per service for wildcard services"
        );
        assert_eq!(display_action("s3:getobject"), "s3:GetObject");
        assert_eq!(display_action("s3:nosuchaction"), "s3:nosuchaction");
    }
}
