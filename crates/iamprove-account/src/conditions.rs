//! Deciding one request with "only under conditions" answers.
//!
//! Design (see also the module docs of [`crate::account`]):
//! 1. The request is first evaluated in a *baseline* context: the keys that are facts about the
//!    principal and the moment (principal ARN/type/account/tags, `aws:CurrentTime`, for role
//!    sessions `aws:TokenIssueTime`), plus `aws:RequestedRegion = us-east-1` and
//!    `aws:SecureTransport = true`. Allowed there → **yes**.
//! 2. Otherwise we look for statements that would decide differently if the caller chose other
//!    context values: Allow statements that match on principal, action and resource but fail a
//!    condition, and applicable Deny statements whose conditions could be falsified. For each such
//!    condition we build a concrete witness value (or absence) from the operator and the policy
//!    values. Keys that are facts (principal keys, time) are never changed, with one exception:
//!    `aws:TokenIssueTime` may be made present with the value *now* (an IAM user can obtain
//!    temporary credentials with `sts:GetSessionToken`). A token issued in the past before some date
//!    is therefore correctly infeasible.
//! 3. The witnesses are merged into the context, the evaluator decides again, and the context is
//!    minimised (each added key is dropped if the decision stays Allow). Only an Allow **confirmed by
//!    the evaluator** becomes **only-under-conditions**, listing the keys and values used.
//! 4. If a candidate statement's condition could not be given a witness (policy variables in a value,
//!    unsupported operator), the answer is **unknown** rather than no.

use crate::eval::{evaluate, Decision, Evaluation, Matcher};
use crate::literal::{format_date, Decimal, IpNet};
use crate::model::*;
use crate::request::{Context, CtxValue, Request};
use crate::scenario::Scenario;
use serde::Serialize;

/// A context key the caller chose, and why.
///
/// In JSON the example `value` is left out for the keys whose example is the moment of the run
/// (`aws:TokenIssueTime`, `aws:CurrentTime`, `aws:EpochTime`): the condition in `because` is the
/// requirement, and the output stays the same from one run to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondReq {
    /// The key as written.
    pub key: String,
    /// `None`: the key must be absent.
    pub value: Option<Vec<String>>,
    /// The policy conditions that required it (`Bool aws:MultiFactorAuthPresent [true] in …`).
    pub because: Vec<String>,
}

/// Keys whose example value is a time taken from the run (printed as conditions only).
pub fn is_time_key(k: &str) -> bool {
    matches!(
        k.to_lowercase().as_str(),
        "aws:tokenissuetime" | "aws:currenttime" | "aws:epochtime"
    )
}

impl Serialize for CondReq {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let time = is_time_key(&self.key) && self.value.is_some();
        let mut st = s.serialize_struct("CondReq", if time { 2 } else { 3 })?;
        st.serialize_field("key", &self.key)?;
        if time {
            st.skip_field("value")?;
        } else {
            st.serialize_field("value", &self.value)?;
        }
        st.serialize_field("because", &self.because)?;
        st.end()
    }
}

#[derive(Debug, Clone)]
/// The answer to one request with "only under conditions" (see the module docs).
pub enum Outcome {
    /// Allowed in the baseline context.
    Yes(Evaluation),
    /// Allowed once the caller sets these keys: the evaluation, the keys, the confirmed request.
    Conditional(Evaluation, Vec<CondReq>, Box<Request>),
    /// Not allowed under any context the caller controls.
    No(Evaluation),
    /// Undecided: the evaluation and the reason.
    Unknown(Evaluation, String),
}

impl Outcome {
    /// Allowed, with or without conditions.
    pub fn allowed(&self) -> bool {
        matches!(self, Outcome::Yes(_) | Outcome::Conditional(..))
    }
    /// Allowed in the baseline context.
    pub(crate) fn is_yes(&self) -> bool {
        matches!(self, Outcome::Yes(_))
    }
    /// The evaluation behind the answer.
    pub fn evaluation(&self) -> &Evaluation {
        match self {
            Outcome::Yes(e)
            | Outcome::No(e)
            | Outcome::Conditional(e, ..)
            | Outcome::Unknown(e, _) => e,
        }
    }
    /// The keys the caller must set (empty unless conditional).
    pub fn conditions(&self) -> &[CondReq] {
        match self {
            Outcome::Conditional(_, c, _) => c,
            _ => &[],
        }
    }
}

/// Keys whose values are facts about the principal, the resource or the moment.
pub(crate) fn is_fixed_key(k: &str) -> bool {
    k.starts_with("aws:principaltag/")
        || matches!(
            k,
            "aws:principalarn"
                | "aws:principalaccount"
                | "aws:principaltype"
                | "aws:username"
                | "aws:userid"
                | "aws:principalorgid"
                | "aws:principalorgpaths"
                | "aws:principalisawsservice"
                | "aws:currenttime"
                | "aws:epochtime"
                | "aws:resourceaccount"
                | "iam:passedtoservice"
                | "iam:policyarn"
        )
}

#[derive(Debug, Clone, PartialEq)]
enum Witness {
    Absent,
    Value(Vec<String>, bool),
}

enum WitnessErr {
    /// The condition can only hold with a fact that does not hold.
    Infeasible,
    Unsupported(String),
}

fn lit_text(t: &Template) -> Option<String> {
    if t.has_vars() {
        return None;
    }
    Some(
        t.pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => s.clone(),
                Piece::Star => "x".into(),
                Piece::Quest => "x".into(),
                Piece::Var { .. } => String::new(),
            })
            .collect(),
    )
}

fn step_decimal(d: Decimal, up: bool) -> String {
    let one = 10i128.pow(d.scale);
    let m = if up { d.mant + one } else { d.mant - one };
    Decimal {
        mant: m,
        scale: d.scale,
    }
    .to_string()
}

/// A value that makes the base comparison hold for one policy value.
fn positive_value(c: &Condition) -> Result<String, WitnessErr> {
    let unsup =
        || WitnessErr::Unsupported(format!("no witness for `{}` on `{}`", c.op.raw, c.key_raw));
    match &c.values {
        CondValues::Str(ts) => ts.iter().find_map(lit_text).ok_or_else(unsup),
        CondValues::Binary(v) => v.first().cloned().ok_or_else(unsup),
        CondValues::Bool(v) => v.first().map(|b| b.to_string()).ok_or_else(unsup),
        CondValues::Num(v) => {
            let d = *v.first().ok_or_else(unsup)?;
            Ok(match c.op.base.cmp() {
                Some(Cmp::Gt) => step_decimal(d, true),
                Some(Cmp::Lt) => step_decimal(d, false),
                _ => d.to_string(),
            })
        }
        CondValues::Date(v) => {
            let d = *v.first().ok_or_else(unsup)?;
            Ok(format_date(match c.op.base.cmp() {
                Some(Cmp::Gt) => d + 1000,
                Some(Cmp::Lt) => d - 1000,
                _ => d,
            }))
        }
        CondValues::Ip(v) => {
            let n: &IpNet = v.first().ok_or_else(unsup)?;
            Ok(n.to_string()
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned())
        }
        CondValues::Null(_) => Err(unsup()),
    }
}

/// A value that matches none of the policy values (for a negated operator to hold, or a positive
/// one to fail while present).
fn negative_value(c: &Condition) -> Result<String, WitnessErr> {
    match &c.values {
        CondValues::Bool(v) => Ok((!v.first().copied().unwrap_or(true)).to_string()),
        CondValues::Str(_) | CondValues::Binary(_) => Ok("iamprove-unmatched".into()),
        _ => Err(WitnessErr::Unsupported(format!(
            "no non-matching witness for `{}` on `{}`",
            c.op.raw, c.key_raw
        ))),
    }
}

/// A context assignment that makes condition `c` evaluate to `want`.
fn witness(c: &Condition, want: bool, now_ms: i64) -> Result<Witness, WitnessErr> {
    let key = c.key.as_str();
    if key == "aws:tokenissuetime" {
        // present, issued now (GetSessionToken / AssumeRole), or absent (long-term keys)
        return Ok(Witness::Value(vec![format_date(now_ms)], false));
    }
    if is_fixed_key(key) {
        return Err(WitnessErr::Infeasible);
    }
    let multi = crate::model::is_multivalued_key(key) || c.op.set.is_some();
    if let CondValues::Null(v) = &c.values {
        let want_absent = v.first().copied().unwrap_or(true) == want;
        return Ok(if want_absent {
            Witness::Absent
        } else {
            Witness::Value(vec!["true".into()], multi)
        });
    }
    let negated = c.op.base.negated();
    match (c.op.set, want) {
        (Some(SetOp::ForAllValues), true) => Ok(Witness::Absent),
        (Some(SetOp::ForAnyValue), false) => Ok(Witness::Absent),
        (Some(SetOp::ForAllValues), false) => {
            let v = if negated {
                positive_value(c)?
            } else {
                negative_value(c)?
            };
            Ok(Witness::Value(vec![v], true))
        }
        (Some(SetOp::ForAnyValue), true) => {
            let v = if negated {
                negative_value(c)?
            } else {
                positive_value(c)?
            };
            Ok(Witness::Value(vec![v], true))
        }
        (None, true) => {
            if negated {
                Ok(Witness::Absent)
            } else {
                Ok(Witness::Value(vec![positive_value(c)?], multi))
            }
        }
        (None, false) => {
            if negated {
                Ok(Witness::Value(vec![positive_value(c)?], multi))
            } else if c.op.if_exists {
                Ok(Witness::Value(vec![negative_value(c)?], multi))
            } else {
                Ok(Witness::Absent)
            }
        }
    }
}

/// A condition in words, with its policy and statement (`Bool aws:MultiFactorAuthPresent [true] in …`).
pub fn describe(c: &Condition, policy: &Policy, s: &Statement) -> String {
    let vals: Vec<String> = match &c.values {
        CondValues::Str(t) => t.iter().map(|x| x.raw.clone()).collect(),
        CondValues::Num(v) => v.iter().map(|x| x.to_string()).collect(),
        CondValues::Date(v) => v.iter().map(|x| format_date(*x)).collect(),
        CondValues::Bool(v) => v.iter().map(|x| x.to_string()).collect(),
        CondValues::Binary(v) => v.clone(),
        CondValues::Ip(v) => v.iter().map(|x| x.to_string()).collect(),
        CondValues::Null(v) => v.iter().map(|x| x.to_string()).collect(),
    };
    format!(
        "{} {} {:?} in `{}` {}",
        c.op.raw, c.key_raw, vals, policy.name, s.path
    )
}

fn all_sets(sc: &Scenario) -> Vec<&Policy> {
    sc.all_policies()
}

fn apply_witness(ctx: &mut Context, key: &str, raw_key: &str, w: &Witness) {
    match w {
        Witness::Absent => {
            ctx.remove(key);
        }
        Witness::Value(v, multi) => {
            ctx.insert(
                key.to_owned(),
                CtxValue {
                    key: raw_key.to_owned(),
                    values: v.clone(),
                    multi: *multi,
                },
            );
        }
    }
}

fn with_ctx(req: &Request, ctx: Context) -> Request {
    Request {
        context: ctx,
        ..req.clone()
    }
}

/// Decide `req` against `sc`, finding (and confirming) a context that allows it when the baseline
/// does not. `now_ms` bounds `aws:TokenIssueTime`.
pub fn decide(sc: &Scenario, req: &Request, now_ms: i64) -> Outcome {
    let base = evaluate(sc, req);
    if base.decision == Decision::Allow {
        return Outcome::Yes(base);
    }
    let policies = all_sets(sc);
    // quick exit: nothing in the request's reach has conditions
    if !policies
        .iter()
        .any(|p| p.statements.iter().any(|s| !s.conditions.is_empty()))
    {
        return Outcome::No(base);
    }
    let mut ctx = req.context.clone();
    let mut chosen: Vec<(String, String, Witness, String)> = Vec::new(); // key, raw, witness, because
    let mut unsupported: Option<String> = None;
    let fixed_here = |k: &str| is_fixed_key(k);
    for _round in 0..6 {
        let cur = with_ctx(req, ctx.clone());
        let ev = evaluate(sc, &cur);
        if ev.decision == Decision::Allow {
            break;
        }
        let m = Matcher::new(&cur);
        let mut progress = false;
        for pol in &policies {
            for s in &pol.statements {
                if s.conditions.is_empty() {
                    continue;
                }
                let mut bare = s.clone();
                bare.conditions.clear();
                if !matches!(m.applies(pol, &bare), crate::eval::Applies::Yes(_)) {
                    continue;
                }
                let vars = pol.vars_enabled();
                match s.effect {
                    Effect::Allow => {
                        if s.conditions.iter().all(|c| m.condition(c, vars)) {
                            continue;
                        }
                        // satisfy every failing condition of this statement, if compatible
                        let mut adds = Vec::new();
                        let mut ok = true;
                        for c in &s.conditions {
                            if m.condition(c, vars) {
                                continue;
                            }
                            if chosen.iter().any(|(k, ..)| *k == c.key)
                                || (fixed_here(&c.key) && c.key != "aws:tokenissuetime")
                            {
                                ok = false;
                                break;
                            }
                            match witness(c, true, now_ms) {
                                Ok(w) => adds.push((
                                    c.key.clone(),
                                    c.key_raw.clone(),
                                    w,
                                    describe(c, pol, s),
                                )),
                                Err(WitnessErr::Infeasible) => {
                                    ok = false;
                                    break;
                                }
                                Err(WitnessErr::Unsupported(msg)) => {
                                    unsupported.get_or_insert(msg);
                                    ok = false;
                                    break;
                                }
                            }
                        }
                        if ok && !adds.is_empty() {
                            for (k, raw, w, why) in adds {
                                apply_witness(&mut ctx, &k, &raw, &w);
                                chosen.push((k, raw, w, why));
                            }
                            progress = true;
                        }
                    }
                    Effect::Deny => {
                        if !s.conditions.iter().all(|c| m.condition(c, vars)) {
                            continue;
                        }
                        // falsify one condition on a key we may choose
                        for c in &s.conditions {
                            if chosen.iter().any(|(k, ..)| *k == c.key)
                                || fixed_here(&c.key)
                                || c.key == "aws:tokenissuetime"
                            {
                                continue;
                            }
                            if let Ok(w) = witness(c, false, now_ms) {
                                let why = format!("to avoid Deny: {}", describe(c, pol, s));
                                apply_witness(&mut ctx, &c.key, &c.key_raw, &w);
                                chosen.push((c.key.clone(), c.key_raw.clone(), w, why));
                                progress = true;
                                break;
                            }
                        }
                    }
                }
            }
        }
        if !progress {
            break;
        }
    }
    let cur = with_ctx(req, ctx.clone());
    let ev = evaluate(sc, &cur);
    if ev.decision != Decision::Allow {
        return match unsupported {
            Some(msg) => Outcome::Unknown(base, msg),
            None => Outcome::No(base),
        };
    }
    // minimise: drop each chosen key if the request stays allowed without the change
    let mut kept = Vec::new();
    let mut ctx_min = ctx.clone();
    for (k, raw, w, why) in chosen.iter().rev() {
        let mut trial = ctx_min.clone();
        match req.context.get(k) {
            Some(orig) => {
                trial.insert(k.clone(), orig.clone());
            }
            None => {
                trial.remove(k);
            }
        }
        if evaluate(sc, &with_ctx(req, trial.clone())).decision == Decision::Allow {
            ctx_min = trial;
        } else {
            kept.push((k.clone(), raw.clone(), w.clone(), why.clone()));
        }
    }
    kept.reverse();
    let final_req = with_ctx(req, ctx_min);
    let ev = evaluate(sc, &final_req);
    if ev.decision != Decision::Allow {
        // cannot happen unless minimisation interacts; report the unminimised confirmed context
        let reqs = kept_to_reqs(&chosen);
        let ev2 = evaluate(sc, &cur);
        return Outcome::Conditional(ev2, reqs, Box::new(cur));
    }
    if kept.is_empty() {
        return Outcome::Yes(ev);
    }
    Outcome::Conditional(ev, kept_to_reqs(&kept), Box::new(final_req))
}

fn kept_to_reqs(kept: &[(String, String, Witness, String)]) -> Vec<CondReq> {
    let mut out: Vec<CondReq> = Vec::new();
    for (_, raw, w, why) in kept {
        let value = match w {
            Witness::Absent => None,
            Witness::Value(v, _) => Some(v.clone()),
        };
        match out.iter_mut().find(|c| c.key == *raw) {
            Some(c) => c.because.push(why.clone()),
            None => out.push(CondReq {
                key: raw.clone(),
                value,
                because: vec![why.clone()],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_policy_text;
    use crate::request::Principal;

    fn sc(identity: &str) -> Scenario {
        let mut s = Scenario::empty();
        s.identity_policies
            .push(parse_policy_text(identity, PolicyType::Identity, "p").unwrap());
        s
    }
    fn req(ctx: Context) -> Request {
        Request::new(
            Principal::parse("arn:aws:iam::111122223333:user/u").unwrap(),
            "iam:CreatePolicyVersion",
            "*",
            None,
            ctx,
        )
    }
    const NOW: i64 = 1_750_000_000_000;

    #[test]
    fn token_issue_time_in_the_past_is_infeasible_but_now_is_found() {
        let after = sc(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}}}"#,
        );
        match decide(&after, &req(Context::new()), NOW) {
            Outcome::Conditional(_, c, r) => {
                assert_eq!(c[0].key, "aws:TokenIssueTime");
                assert_eq!(evaluate(&after, &r).decision, Decision::Allow);
            }
            o => panic!("{o:?}"),
        }
        let before = sc(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}}}"#,
        );
        assert!(matches!(
            decide(&before, &req(Context::new()), NOW),
            Outcome::No(_)
        ));
    }

    #[test]
    fn deny_unless_mfa_is_avoided_with_mfa_and_principal_facts_are_never_invented() {
        let s = sc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","NotAction":"sts:GetSessionToken","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
        );
        match decide(&s, &req(Context::new()), NOW) {
            Outcome::Conditional(_, c, _) => {
                assert_eq!(c.len(), 1);
                assert_eq!(c[0].value.as_deref(), Some(&["true".to_string()][..]));
            }
            o => panic!("{o:?}"),
        }
        let tag = sc(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"admins"}}}}"#,
        );
        assert!(matches!(
            decide(&tag, &req(Context::new()), NOW),
            Outcome::No(_)
        ));
    }

    #[test]
    fn source_ip_and_numeric_witnesses_are_confirmed() {
        let s = sc(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}}"#,
        );
        match decide(&s, &req(Context::new()), NOW) {
            Outcome::Conditional(_, c, r) => {
                assert_eq!(c.len(), 2);
                assert_eq!(
                    r.context["aws:sourceip"].values,
                    vec!["203.0.113.0".to_string()]
                );
                assert_eq!(
                    r.context["aws:multifactorauthage"].values,
                    vec!["3599".to_string()]
                );
            }
            o => panic!("{o:?}"),
        }
    }
}
