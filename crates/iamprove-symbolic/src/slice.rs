//! The statements a widening question needs (issue 13).
//!
//! A real policy change touches a few statements of a long policy, or a few actions of a long
//! statement. A statement matches a request when one of its `Action` patterns does and its
//! other elements do, so a statement is the union of its *pieces*, one per action pattern. Between
//! two sets of identity policies, a request that NEW allows and OLD does not is matched by a
//! *changed* piece: an Allow piece of NEW that OLD does not have, or a Deny piece of OLD that NEW
//! does not have. (NEW allows it through some Allow piece; were that piece in OLD too, OLD's Allow
//! would match, so some Deny piece of OLD matches; were that one in NEW too, NEW would deny.)
//! The request's action then matches a changed piece's pattern, and every piece that matches
//! the request has a pattern that shares an action with a changed one. Patterns that share no
//! action with any changed one match none of these requests: leaving them out of both sides
//! (and statements left without patterns) changes the answer of no such request, and adds no
//! widening either (the argument holds for the reduced sides, whose changed pieces are the
//! same). The question asked of the solver is exact, and much smaller: the SageMaker Studio
//! policies keep a few statements of hundreds, AWSSupportServiceRolePolicy a few actions of a
//! statement of thousands.
//!
//! "The same piece" is an equal pattern (lowercased, as actions match) in a statement whose other
//! elements are equal as parsed (effect, principal, resource, conditions; the `Sid` and the
//! position do not count), in a policy that substitutes policy variables exactly when the other
//! does. Unequal spellings of one meaning count as changed: more is kept, never less.
//! `NotAction` statements are kept whole; a changed one leaves nothing out.
//!
//! Counterexamples are still replayed against the full sides ([`crate::verify::Verifier`]).

use crate::model::{ActionPattern, Effect, Policy, Statement};
use crate::query::Side;
use iamprove_core::fxhash::FxHashMap;

/// The sides of "does `gain` allow a request `base` does not?" reduced to the statements, and
/// the action patterns of statements, that can take part in such a request (module docs), or
/// `None` when nothing can be left out: the sides are not both identity policies, a changed
/// statement uses `NotAction`, or every pattern is needed.
pub fn widening_slice(base: &Side, gain: &Side) -> Option<(Side, Side)> {
    let (Side::Identity(bp), Side::Identity(gp)) = (base, gain) else {
        return None;
    };
    // the changed pieces: NEW's Allow patterns that no Allow of OLD with the same other
    // elements has, and OLD's Deny patterns that no Deny of NEW with the same others has
    let mut changed: Vec<&ActionPattern> = Vec::new();
    for (ps, other, effect) in [(gp, bp, Effect::Allow), (bp, gp, Effect::Deny)] {
        let index = RestIndex::new(other, effect);
        for p in ps {
            let vars = p.vars_enabled();
            for s in p.statements.iter().filter(|s| s.effect == effect) {
                let twins = index.twins(s, vars);
                if s.action.negated {
                    if !twins.iter().any(|t| t.action == s.action) {
                        return None;
                    }
                    continue;
                }
                for pat in &s.action.patterns {
                    let unchanged = twins.iter().any(|t| {
                        !t.action.negated && t.action.patterns.iter().any(|q| q.lower == pat.lower)
                    });
                    if !unchanged {
                        changed.push(pat);
                    }
                }
            }
        }
    }
    let meets = ChangedActions::new(&changed);
    let mut memo: FxHashMap<String, bool> = FxHashMap::default();
    let mut kept = |p: &ActionPattern| -> bool {
        if let Some(&m) = memo.get(p.lower.as_str()) {
            return m;
        }
        let m = meets.any_meets(p);
        memo.insert(p.lower.clone(), m);
        m
    };
    let mut left_out = 0usize;
    let mut reduce = |ps: &[Policy]| -> Vec<Policy> {
        ps.iter()
            .map(|p| {
                let mut statements: Vec<Statement> = Vec::new();
                for s in &p.statements {
                    if s.action.negated {
                        statements.push(s.clone());
                        continue;
                    }
                    let patterns: Vec<ActionPattern> = s
                        .action
                        .patterns
                        .iter()
                        .filter(|q| kept(q))
                        .cloned()
                        .collect();
                    left_out += s.action.patterns.len() - patterns.len();
                    if patterns.is_empty() {
                        continue;
                    }
                    let mut s = s.clone();
                    s.action.patterns = patterns;
                    statements.push(s);
                }
                Policy {
                    name: p.name.clone(),
                    kind: p.kind,
                    version: p.version.clone(),
                    id: p.id.clone(),
                    statements,
                }
            })
            .collect()
    };
    let (b, g) = (reduce(bp), reduce(gp));
    (left_out > 0).then_some((Side::Identity(b), Side::Identity(g)))
}

/// The statements of one effect in a set of policies, by everything but their `Action`: a
/// statement's *twins* are those whose other elements are equal (effect, principal, resource,
/// conditions, as parsed; the `Sid` and the position do not count), in a policy that
/// substitutes variables exactly when the statement's does.
struct RestIndex<'a> {
    by_key: FxHashMap<String, Vec<&'a Statement>>,
}

impl<'a> RestIndex<'a> {
    fn new(ps: &'a [Policy], effect: Effect) -> RestIndex<'a> {
        let mut by_key: FxHashMap<String, Vec<&'a Statement>> = FxHashMap::default();
        for p in ps {
            for s in p.statements.iter().filter(|s| s.effect == effect) {
                by_key
                    .entry(rest_key(s, p.vars_enabled()))
                    .or_default()
                    .push(s);
            }
        }
        RestIndex { by_key }
    }

    fn twins(&self, s: &Statement, vars: bool) -> Vec<&'a Statement> {
        self.by_key
            .get(&rest_key(s, vars))
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|t| {
                        t.effect == s.effect
                            && t.principal == s.principal
                            && t.resource == s.resource
                            && t.conditions == s.conditions
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A statement's elements other than `Action` as text (equal elements give equal text; the
/// index confirms with `==`).
fn rest_key(s: &Statement, vars: bool) -> String {
    format!(
        "{vars}\u{1}{:?}\u{1}{:?}\u{1}{:?}\u{1}{:?}",
        s.effect, s.principal, s.resource, s.conditions
    )
}

/// The action patterns of the changed statements, by the service their text names literally
/// (`s3:Get*` names `s3`; `s3*` and `*` name none). Two patterns that both name a service, and
/// not the same one, share no action: an action's service ends at its first `:`.
struct ChangedActions<'a> {
    by_service: FxHashMap<&'a str, Vec<&'a ActionPattern>>,
    any_service: Vec<&'a ActionPattern>,
}

impl<'a> ChangedActions<'a> {
    fn new(changed: &[&'a ActionPattern]) -> ChangedActions<'a> {
        let mut out = ChangedActions {
            by_service: FxHashMap::default(),
            any_service: Vec::new(),
        };
        let mut seen: FxHashMap<&str, ()> = FxHashMap::default();
        for &p in changed {
            if seen.insert(p.lower.as_str(), ()).is_some() {
                continue;
            }
            match service(p) {
                Some(s) => out.by_service.entry(s).or_default().push(p),
                None => out.any_service.push(p),
            }
        }
        out
    }

    /// Does `p` share an action with some changed pattern?
    fn any_meets(&self, p: &ActionPattern) -> bool {
        let meet = |q: &&ActionPattern| crate::matching::globs_intersect(&p.toks, &q.toks);
        match service(p) {
            Some(s) => {
                self.by_service.get(s).is_some_and(|v| v.iter().any(meet))
                    || self.any_service.iter().any(meet)
            }
            None => self
                .by_service
                .values()
                .flatten()
                .chain(&self.any_service)
                .any(meet),
        }
    }
}

/// The service an action pattern names literally: the text before its first `:` when no
/// wildcard comes before that colon.
fn service(p: &ActionPattern) -> Option<&str> {
    let colon = p.lower.find(':')?;
    let head = p.lower.get(..colon)?;
    (!head.contains(['*', '?'])).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PolicyType;

    fn policy(stmts: &str) -> Policy {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":{stmts}}}"#);
        crate::parse::parse_policy_text(&text, PolicyType::Identity, "p.json").unwrap()
    }

    fn actions(side: &Side) -> Vec<String> {
        side.statements()
            .iter()
            .map(|s| {
                let a: Vec<&str> = s.action.patterns.iter().map(|p| p.raw.as_str()).collect();
                format!("{:?} {}", s.effect, a.join(","))
            })
            .collect()
    }

    #[test]
    fn only_patterns_that_share_an_action_with_a_changed_piece_are_kept() {
        let old = policy(
            r#"[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b/*"},
                {"Effect":"Allow","Action":["ec2:Describe*","iam:Get*"],"Resource":"*"},
                {"Effect":"Deny","Action":"ec2:DescribeRegions","Resource":"*"},
                {"Effect":"Deny","Action":"sqs:*","Resource":"*"}]"#,
        );
        // NEW adds s3:Put* to the first statement and a statement on iam:GetRole, and drops the
        // Deny on sqs:*; the Sid does not count
        let new = policy(
            r#"[{"Sid":"A","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","S3:Put*"],"Resource":"arn:aws:s3:::b/*"},
                {"Effect":"Allow","Action":["ec2:Describe*","iam:Get*"],"Resource":"*"},
                {"Effect":"Deny","Action":"ec2:DescribeRegions","Resource":"*"},
                {"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::*:role/x"}]"#,
        );
        let (b, g) = widening_slice(
            &Side::Identity(vec![old.clone()]),
            &Side::Identity(vec![new.clone()]),
        )
        .unwrap();
        // changed: NEW's `S3:Put*` and `iam:GetRole`, OLD's Deny `sqs:*`; `iam:Get*` meets one
        assert_eq!(actions(&b), ["Allow iam:Get*", "Deny sqs:*"]);
        assert_eq!(
            actions(&g),
            ["Allow S3:Put*", "Allow iam:Get*", "Allow iam:GetRole"]
        );
        // the other direction: every Allow piece of OLD is in NEW, every Deny piece of NEW in OLD
        let (b, g) =
            widening_slice(&Side::Identity(vec![new]), &Side::Identity(vec![old])).unwrap();
        assert!(actions(&b).is_empty() && actions(&g).is_empty());
    }

    #[test]
    fn nothing_is_left_out_when_a_changed_statement_uses_not_action_or_versions_differ() {
        let old = policy(r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]"#);
        let new = policy(
            r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
                {"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]"#,
        );
        assert!(widening_slice(
            &Side::Identity(vec![old.clone()]),
            &Side::Identity(vec![new])
        )
        .is_none());
        // a statement under another Version substitutes variables differently: changed
        let mut unversioned = policy(
            r#"[{"Effect":"Allow","Action":["s3:GetObject","ec2:RunInstances"],"Resource":"*"}]"#,
        );
        unversioned.version = None;
        let (b, g) = widening_slice(
            &Side::Identity(vec![unversioned]),
            &Side::Identity(vec![old]),
        )
        .unwrap();
        assert_eq!(actions(&b), ["Allow s3:GetObject"]);
        assert_eq!(actions(&g), ["Allow s3:GetObject"]);
    }

    #[test]
    fn services_named_literally_tell_patterns_apart() {
        let p = |s: &str| ActionPattern::new(s);
        assert_eq!(service(&p("S3:Get*")), Some("s3"));
        assert_eq!(service(&p("s3*:Get")), None);
        assert_eq!(service(&p("*")), None);
        let pats = [p("s3:Get*"), p("s*:List*")];
        let refs: Vec<&ActionPattern> = pats.iter().collect();
        let c = ChangedActions::new(&refs);
        assert!(c.any_meets(&p("s3:*Object")));
        assert!(c.any_meets(&p("sqs:ListQueues")));
        assert!(!c.any_meets(&p("sqs:SendMessage")));
        assert!(!c.any_meets(&p("s3:PutObject")));
        // (`s3:get:putobject` matches both: glob intersection is over all strings)
        assert!(c.any_meets(&p("*:PutObject")));
        assert!(!c.any_meets(&p("ec2:*")));
        assert!(c.any_meets(&p("*")));
    }
}
