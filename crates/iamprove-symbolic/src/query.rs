//! Queries over the encoder: build "allowed" formulas for each side, solve, turn models into
//! concrete requests, replay them through the evaluator, refine abstractions.
//!
//! Every request this module returns has been replayed through [`crate::eval`].

use crate::automata::{self, Limits, Pattern, PatternSpec};
use crate::eval::{Decision, Evaluation};
use crate::literal::format_date;
use crate::model::{Policy, PolicyType, Statement};
use crate::request::{Context, CtxValue, Principal, Request};
use crate::scenario::Scenario;
use crate::solver::{Model, Outcome, Session};
use crate::symbolic::encode::{Encoder, PrincipalMode, ACTION_SLOT, RESOURCE_SLOT};
use crate::symbolic::term::{self, and, ff, not, or, Term, T};
use crate::verdict::{Disagreement, UnknownReason};
use iamprove_core::fxhash::FxHashMap;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What one side of a comparison (or the target of a check) is.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per query side; boxing would buy nothing
pub enum Side {
    /// The identity policies of one principal, evaluated alone in the principal's account.
    Identity(Vec<Policy>),
    /// One resource policy, evaluated for a caller from another account whose identity side
    /// allows everything.
    Resource(Policy),
    /// A full scenario: a fixed principal and every policy set.
    Scenario(Scenario),
}

impl Side {
    /// Every policy of the side.
    pub fn policies(&self) -> Vec<&Policy> {
        match self {
            Side::Identity(ps) => ps.iter().collect(),
            Side::Resource(p) => vec![p],
            Side::Scenario(s) => s.all_policies(),
        }
    }
    /// Every statement of every policy of the side.
    pub fn statements(&self) -> Vec<&Statement> {
        self.policies()
            .into_iter()
            .flat_map(|p| p.statements.iter())
            .collect()
    }

    /// Decide `req` with the evaluator, as this side would be replayed (the scenario it stands for).
    pub fn evaluate(&self, req: &Request) -> Evaluation {
        self.run(req, true)
    }

    /// [`Side::evaluate`], with (`explain`) or without the trace of every statement, in the
    /// scenario this side stands for (mirrors conformance's replay). The side's policies are
    /// borrowed, not copied: a finding is minimised by thousands of replays (copying the
    /// SageMaker Studio policies for each was a third of a diff's time).
    /// - identity policies: the resource in the caller's account; a STRICT resource (a KMS key,
    ///   a role for `sts:`) gets the assumed key or trust policy (see `STRICT_ASSUMPTION`);
    /// - a resource policy: an allow-all identity policy, the resource in a foreign account; a
    ///   document with a `Resource` element is not a trust policy, so it does not decide `sts:`
    ///   calls on a role (mirrors `allowed`);
    /// - a scenario: as it is.
    fn run(&self, req: &Request, explain: bool) -> Evaluation {
        let go = |sc: &crate::eval::ScenarioRef<'_>, r: &Request| {
            if explain {
                crate::eval::explain_ref(sc, r)
            } else {
                crate::eval::evaluate_ref(sc, r)
            }
        };
        match self {
            Side::Identity(ps) => {
                let mut r = req.clone();
                r.resource_account = r.principal.account.clone();
                let strict = strict_grant_policy(&r);
                let sc = crate::eval::ScenarioRef {
                    identity_policies: ps,
                    resource_policy: strict.as_ref(),
                    ..Default::default()
                };
                go(&sc, &r)
            }
            Side::Resource(p) => {
                let not_trust = p.statements.iter().any(|s| s.resource.is_some());
                let rp = (!(not_trust && crate::rules::role_sts(&req.action, &req.resource)))
                    .then_some(p);
                let allow_all: Vec<Policy> = allow_all_policy().into_iter().collect();
                let mut r = req.clone();
                r.resource_account = foreign_account(&r.principal.account);
                let sc = crate::eval::ScenarioRef {
                    identity_policies: &allow_all,
                    resource_policy: rp,
                    ..Default::default()
                };
                go(&sc, &r)
            }
            Side::Scenario(s) => go(&crate::eval::ScenarioRef::of(s), req),
        }
    }
}

/// Name of the synthetic identity policy that allows everything (resource-policy replays and
/// guardrail targets); reports leave it out.
pub const ALLOW_ALL_NAME: &str = "allow-all identity policy";

/// `Allow * on *` as an identity policy.
pub fn allow_all_policy() -> Option<Policy> {
    crate::parse::parse_policy_text(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        PolicyType::Identity,
        ALLOW_ALL_NAME,
    )
    .ok()
}

/// What SCPs (or RCPs) still let a principal whose identity policies allow everything do: one
/// level holding `policies` (no level at all when there are none: no guardrail).
pub fn guardrail_side(kind: PolicyType, policies: Vec<Policy>) -> Side {
    let mut sc = Scenario::empty();
    sc.identity_policies = allow_all_policy().into_iter().collect();
    if !policies.is_empty() {
        if kind == PolicyType::Scp {
            sc.scps = vec![policies];
        } else {
            sc.rcps = vec![policies];
        }
    }
    Side::Scenario(sc)
}

/// The account a resource-policy replay puts the resource in (never the caller's).
pub(crate) fn foreign_account(principal_account: &str) -> String {
    if principal_account == "999988887777" {
        "999988887776".into()
    } else {
        "999988887777".into()
    }
}

/// The principal, fixed context and resource account shared by both sides of a query.
pub struct Frame {
    /// Symbolic principals may only be IAM users and role sessions (identity-policy queries).
    pub identity_only: bool,
    /// The fixed principal, when a side is a scenario.
    pub principal: Option<Principal>,
    /// Context values the sides fix.
    pub context: Context,
    /// The resource account the sides fix.
    pub resource_account: Option<String>,
}

impl Frame {
    /// The frame shared by these sides.
    pub fn of(sides: &[&Side]) -> Frame {
        for s in sides {
            if let Side::Scenario(sc) = s {
                if let Some(r) = &sc.request {
                    let explicit: Context = r.context.clone();
                    return Frame {
                        identity_only: false,
                        principal: Some(r.principal.clone()),
                        context: explicit,
                        resource_account: None,
                    };
                }
                return Frame {
                    identity_only: false,
                    principal: Some(default_principal()),
                    context: Context::new(),
                    resource_account: None,
                };
            }
        }
        let identity_only = sides.iter().all(|s| matches!(s, Side::Identity(_)));
        Frame {
            identity_only,
            principal: None,
            context: Context::new(),
            resource_account: None,
        }
    }
}

/// The principal of single-policy queries before a model picks one: a user in account `999988887777`.
pub fn default_principal() -> Principal {
    Principal {
        raw: "arn:aws:iam::111122223333:role/iamprove-principal".into(),
        partition: "aws".into(),
        account: "111122223333".into(),
        kind: crate::request::PrincipalKind::RoleSession {
            role: "iamprove-principal".into(),
            path: Some("/".into()),
            session: None,
        },
    }
}

/// Encode "this side allows the request".
pub fn allowed(enc: &mut Encoder, side: &Side) -> T {
    match side {
        Side::Identity(ps) => {
            // alone in the principal's account. A resource whose own policy must allow (a role
            // for sts:AssumeRole*, a KMS key: §4.4) is assumed to have a policy that delegates to
            // the principal's account (the default key policy; the usual trust policy), so the
            // identity policy decides; the report lists that assumption (`strict_assumption`)
            let refs: Vec<&Policy> = ps.iter().collect();
            let (a, d) = enc.allow_deny(&refs);
            if may_touch_strict(ps) {
                enc.assume(STRICT_ASSUMPTION);
            }
            let free = enc.always_allowed();
            or([free, and([a, not(d)])])
        }
        Side::Resource(p) => {
            // a federated caller (only a trust policy names it) makes only its STS calls
            // an STS federated-user session has no session policy in this replay, so nothing
            // admits it (mirrors `eval`, §4.3)
            let (a, d) = enc.allow_deny(&[p]);
            let free = enc.always_allowed();
            let fed = enc.federated_action_ok();
            let fed_user = enc.federated_user();
            // a role's resource policy for the sts: actions is its trust policy, which has no
            // `Resource` element: a document with one never decides sts: calls on a role, so
            // such requests are not requests this policy can see (and a finding on one could
            // not be replayed as a scenario)
            let not_trust = p.statements.iter().any(|s| s.resource.is_some());
            let role_sts = if not_trust { enc.role_sts() } else { ff() };
            or([free, and([a, not(d), fed, not(fed_user), not(role_sts)])])
        }
        Side::Scenario(sc) => enc.allowed_scenario(sc),
    }
}

/// The assumption under which identity-policy-only answers about roles and KMS keys hold.
pub const STRICT_ASSUMPTION: &str = "identity policy alone: a KMS key's key policy, or a role's trust policy for sts: actions, is assumed to delegate to the principal's account (the default key policy; the usual trust policy), so the identity policy decides; give a scenario with the real key or trust policy for an exact answer";

/// Could a statement of these identity policies apply to a STRICT resource (an sts: action on a
/// role, any action on a KMS key)? Then the answer depends on the key or trust policy, and the
/// report lists [`STRICT_ASSUMPTION`]. Decided over the catalog's sts and kms actions and one
/// action outside the catalog per service (a wildcard or `NotAction` may name one):
/// conservative, never missing a policy that touches them.
fn may_touch_strict(ps: &[Policy]) -> bool {
    // (the build-time index: no whole-catalog parse)
    let strict_actions: Vec<String> = crate::catalog::index::names_with_prefix("kms:")
        .into_iter()
        .chain(crate::catalog::index::names_with_prefix("sts:"))
        .map(str::to_owned)
        .chain(["sts:x-unknown".to_owned(), "kms:x-unknown".to_owned()])
        .collect();
    ps.iter().flat_map(|p| p.statements.iter()).any(|s| {
        strict_actions.iter().any(|a| {
            let hit = s.action.patterns.iter().any(|p| p.matches_lower(a));
            hit != s.action.negated
        })
    })
}

/// The resource's own policy under [`STRICT_ASSUMPTION`]: it delegates to the principal's account
/// root (as conformance's `strict_grant`).
pub fn strict_grant_policy(req: &Request) -> Option<Policy> {
    if !crate::rules::strict_resource(&req.action, &req.resource)
        || req.principal.account.is_empty()
    {
        return None;
    }
    let root = format!(
        "arn:{}:iam::{}:root",
        req.principal.partition, req.principal.account
    );
    let text = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": root}, "Action": "*", "Resource": "*"}]})
    .to_string();
    crate::parse::parse_policy_text(&text, PolicyType::Resource, STRICT_GRANT_NAME).ok()
}

/// Name of the assumed key or trust policy of [`strict_grant_policy`].
pub const STRICT_GRANT_NAME: &str = "assumed key or trust policy (delegates to the account)";

/// A verdict-independent solving result.
#[allow(clippy::large_enum_variant)] // one per solve; the large variant is the common answer
pub enum Solved {
    /// A concrete request, replayed: it satisfies the query according to the evaluator.
    Found {
        /// The request.
        request: Request,
        /// The solver's model it was built from.
        model: Model,
    },
    /// No request satisfies the query (a proof, unless the query was refined: see `Prepared`).
    None,
    /// No answer: a limit (the verdict is `unknown`), or the encoder and the evaluator disagree
    /// (an internal error, exit 2).
    Unknown(UnknownReason),
}

/// Exploration budget for one field's partition: past it the field goes to the solver's string
/// theory (exact, slower) rather than spending seconds in the automata.
pub fn query_limits() -> Limits {
    Limits {
        max_states: 200_000,
        max_steps: 10_000_000,
    }
}

#[derive(Clone)]
/// Options of one query.
pub struct QueryOptions {
    /// Solver timeout per check, in milliseconds.
    pub timeout_ms: u32,
    /// Exploration budget of the automata (per field).
    pub limits: Limits,
    /// Write the query in SMT-LIB 2 to this file.
    pub dump_smt: Option<std::path::PathBuf>,
    /// Restrict resources to the ARN formats of the actions named (`Encoder::well_formed_resources`).
    /// Leaving it out only adds requests: a proof without it is still a proof.
    pub well_formed: bool,
    /// With `well_formed`: also admit the resource shapes the policies pair with an action that
    /// no catalog format of it overlaps (a resource type the catalog may not list yet). Without
    /// them the query has fewer requests: its witnesses name catalog formats only, and a proof
    /// is not a proof under the listed assumption (`diff` then asks again with them).
    pub declared_shapes: bool,
    /// A widening question between identity policies encodes only the statements that can take
    /// part in a widening (`crate::slice`): the answer is the same, the query smaller. Off only
    /// in tests that compare the two.
    pub slice: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            timeout_ms: 30_000,
            limits: query_limits(),
            dump_smt: None,
            well_formed: true,
            declared_shapes: true,
            slice: true,
        }
    }
}

/// A prepared query: encoder partitioned, formula resolved, solver loaded.
pub struct Prepared {
    /// The encoder the query was built with (variables, domains, keys).
    pub enc: Encoder,
    /// The solver session holding the query.
    pub session: Session,
    memo: FxHashMap<usize, (T, T)>,
    /// A spurious model was blocked: an UNSAT answer is then not a proof.
    refined: bool,
    /// The resolved query (for diagnostics).
    pub query: T,
}

impl Prepared {
    /// `build` creates the query formula with the encoder; the rest is generic.
    pub fn new(
        frame: Frame,
        statements: &[&Statement],
        opts: &QueryOptions,
        prefer_principals: Vec<String>,
        build: impl FnOnce(&mut Encoder) -> T,
    ) -> Result<Prepared, String> {
        let mut enc = Encoder::new(
            frame.principal,
            frame.context,
            frame.resource_account,
            statements,
            frame.identity_only,
        );
        let q = build(&mut enc);
        // only requests AWS can send: resources of the formats of the actions named
        if opts.well_formed {
            enc.well_formed_resources(opts.declared_shapes);
        }
        // account- and ARN-valued context keys, and S3 bucket names for every action (a few
        // atoms, kept when the catalog's formats are left out)
        well_formed_values(&mut enc);
        // principal-derived keys as functions of a symbolic principal (needs the query's patterns)
        enc.link_principal_keys();
        // unresolved IaC values (`${iamprove:…}`) have a value in every deployment
        enc.link_iac_values();
        // candidate witnesses: real actions, readable resources and principals
        add_preferences(&mut enc, prefer_principals);
        // policy variables compared exactly: equal values lie in one class (needs every predicate)
        enc.link_variable_equalities();
        // a variable whose key equals a literal the policies compare it with: the pattern
        // reading it is then an ordinary pattern (needs every predicate of the key)
        link_variable_literals(&mut enc);
        enc.partition(&opts.limits)?;
        // predicates realised lazily that hold on every string
        universal_predicates(&mut enc);
        link_variable_singletons(&mut enc);
        let mut memo = FxHashMap::default();
        let q = enc.resolve(&q, &mut memo);
        let bg: Vec<T> = enc
            .background
            .iter()
            .map(|b| enc.resolve(b, &mut memo))
            .collect();
        let mut session = Session::new(opts.timeout_ms);
        for b in &bg {
            session.assert(b, &enc);
        }
        session.assert(&q, &enc);
        if let Some(path) = &opts.dump_smt {
            let text = session.to_smt2().map_err(|e| format!("--dump-smt: {e}"))?;
            std::fs::write(path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(Prepared {
            enc,
            session,
            memo,
            refined: false,
            query: q,
        })
    }

    /// Replace abstracted atoms (policy variables) in `t` by their current encoding.
    pub fn resolve(&mut self, t: &T) -> T {
        self.enc.resolve(t, &mut self.memo)
    }

    /// Solve; turn the model into a request; check it with `confirm` (the evaluator); refine
    /// abstractions when the model was spurious.
    pub fn solve(&mut self, confirm: &dyn Fn(&Request) -> bool) -> Solved {
        let mut last = String::new();
        // refinements of abstracted variable patterns (not proofs) and lazy-string blocks (proofs)
        // have separate budgets
        let (mut rounds, mut lazy_blocks) = (0u32, 0u32);
        while rounds < 32 {
            match self.session.check() {
                // after a refinement the abstraction is no longer an over-approximation
                Outcome::Unsat if self.refined => {
                    return Solved::Unknown(UnknownReason::Limit(format!(
                        "patterns with policy variables could not be decided exactly (a candidate request could not be built: {last})"
                    )))
                }
                Outcome::Unsat => return Solved::None,
                Outcome::Unknown(r) => return Solved::Unknown(UnknownReason::Limit(r)),
                Outcome::Sat(mut model) => match realize_lazy(&self.enc, &mut model) {
                    Lazy::Unrealizable(block) => {
                        lazy_blocks += 1;
                        if lazy_blocks > 200 {
                            return Solved::Unknown(UnknownReason::Limit("more than 200 combinations of string patterns were refuted without an answer".into()));
                        }
                        // a proved fact about strings: the abstraction stays exact
                        self.session.block(&[], &block, &self.enc);
                        continue;
                    }
                    Lazy::GaveUp(why) => return Solved::Unknown(UnknownReason::Limit(why)),
                    Lazy::Done => match build_request(&self.enc, &model) {
                    Ok(req) if confirm(&req) => {
                        let alike = |a: &str, b: &str| same_atoms(&self.enc, RESOURCE_SLOT, a, b);
                        return Solved::Found { request: minimize(req, confirm, &alike), model };
                    }
                    res => {
                        let exact = self.enc.abstract_atoms.is_empty() && !self.enc.vars_inexact && !self.enc.keys.values().any(|k| k.families.len() > 1);
                        if exact {
                            let q = self.query.clone();
                            let at = self.session.first_disagreement(&q, &model, &self.enc).map(|d| format!(" (first differing term: {d})")).unwrap_or_default();
                            let why = match res {
                                Ok(r) => format!("the evaluator does not confirm the solver's request {}{at}", request_json(&r, &self.enc)),
                                Err(e) => format!("{e}{at}"),
                            };
                            let dump = std::env::temp_dir().join(format!("iamprove-internal-{}.smt2", std::process::id()));
                            let dumped = match self.session.to_smt2().map(|text| std::fs::write(&dump, text)) {
                                Ok(Ok(())) => format!("; query written to {}", dump.display()),
                                _ => String::new(),
                            };
                            return Solved::Unknown(UnknownReason::Internal(Disagreement { why, dumped }));
                        }
                        last = match res {
                            Ok(r) => format!("the evaluator rejected {}", request_json(&r, &self.enc)),
                            Err(e) => e,
                        };
                        self.block(&model);
                        self.refined = true;
                        rounds += 1;
                    }
                    },
                },
            }
        }
        Solved::Unknown(UnknownReason::Limit(format!("could not build a concrete request for an abstracted pattern after 32 refinements (last: {last})")))
    }

    /// Exclude this model's choices of string classes and abstract Booleans.
    /// (A field realised lazily, in whole or in part, is left out, as when it had no class
    /// variable: its string is searched per model anyway, and the block stays as coarse.)
    fn block(&mut self, model: &Model) {
        let classes: Vec<(usize, u32)> = model
            .classes
            .iter()
            .filter(|(k, _)| !self.enc.domain_of(**k).is_some_and(|d| d.fallback))
            .map(|(k, v)| (*k, *v))
            .collect();
        let bools: Vec<(usize, bool)> = self
            .enc
            .abstract_atoms
            .iter()
            .map(|a| (a.var, model.bools.get(&a.var).copied().unwrap_or(false)))
            .chain(
                self.enc
                    .var_eqs
                    .iter()
                    .map(|e| (e.var, model.bools.get(&e.var).copied().unwrap_or(false))),
            )
            .collect();
        self.session.block(&classes, &bools, &self.enc);
    }
}

/// Whether every pattern of `slot`'s field but the catalog's ARN formats matches `a` exactly
/// when it matches `b` (so what a finding says about the patterns its example matches, which
/// [`class_patterns`] reads from the same atoms, stays true).
fn same_atoms(enc: &Encoder, slot: usize, a: &str, b: &str) -> bool {
    enc.domain_of(slot).is_none_or(|d| {
        d.atoms
            .iter()
            .zip(&d.compiled)
            .filter(|(k, _)| k.mode != crate::matching::Mode::Format)
            .all(|(_, p)| p.is_match(a) == p.is_match(b))
    })
}

/// Simplify a confirmed request while it stays confirmed: the resource `*` where it works, and
/// no context key the finding does not need. `alike(a, b)`: resources `a` and `b` match the
/// same patterns of the query.
fn minimize(
    req: Request,
    confirm: &dyn Fn(&Request) -> bool,
    alike: &dyn Fn(&str, &str) -> bool,
) -> Request {
    let mut best = req;
    if best.resource != "*" {
        let mut r = best.clone();
        r.resource = "*".into();
        if confirm(&r) {
            best = r;
        }
    }
    // an ARN whose region or account no service forms (the encoder may read an account
    // segment as any colon-free run where no pattern tells accounts apart,
    // `wellformed::account_insensitive`, and actions the formats leave out have any resource):
    // a real region and account where the finding does not depend on them
    if let Some(r) = real_region_and_account(&best.resource, &best.principal.account) {
        let mut req = best.clone();
        req.resource = r;
        if confirm(&req) {
            best = req;
        }
    }
    // a resource outside every ARN format of its action (the well-formed restriction also
    // admits the shapes the policies pair with the action, whose `*` may be empty:
    // `arn:aws:ec2:::network-interface/`): an example of one of the action's formats instead,
    // where it matches the same patterns and the finding stands on it
    let action = best.action.to_lowercase();
    if best.resource != "*" && !crate::wellformed::resource_well_formed(&action, &best.resource) {
        for f in crate::wellformed::action_formats(&action).unwrap_or_default() {
            // (each example against its own format only: `well_formed` would compile them all)
            let example = crate::wellformed::format_example(&f, &best.principal.account);
            if !crate::matching::compile(&f, crate::matching::Mode::Format).is_match(&example)
                || !crate::wellformed::s3_arn_well_formed(&example)
                || !alike(&best.resource, &example)
            {
                continue;
            }
            let mut req = best.clone();
            req.resource = example;
            if confirm(&req) {
                best = req;
                break;
            }
        }
    }
    // principal keys spelled out with another value than the principal implies: use the implied
    // value where the finding does not depend on it (a consistent, more realistic request)
    for (k, v) in best.principal.derived_keys() {
        let differs = best
            .context
            .get(k)
            .is_some_and(|cv| cv.multi || cv.values != [v.clone()]);
        if differs {
            let spelled = best
                .context
                .get(k)
                .and_then(|cv| (cv.values.len() == 1).then(|| cv.values[0].clone()));
            let mut r = best.clone();
            if let Some(cv) = r.context.get_mut(k) {
                cv.values = vec![v.clone()];
                cv.multi = false;
            }
            if confirm(&r) {
                best = r;
                continue;
            }
            // the value also stands where a policy variable put it (`${aws:PrincipalAccount}`
            // as an ARN's account): the implied value there too, in colon-separated segments
            // of the resource and of the other context values
            let Some(o) = spelled.filter(|o| !o.is_empty() && *o != v) else {
                continue;
            };
            let swap = |s: &str| -> String {
                s.split(':')
                    .map(|seg| if seg == o { v.as_str() } else { seg })
                    .collect::<Vec<_>>()
                    .join(":")
            };
            r.resource = swap(&r.resource);
            for (key, cv) in r.context.iter_mut() {
                if key != k {
                    cv.values = cv.values.iter().map(|x| swap(x)).collect();
                }
            }
            if confirm(&r) {
                best = r;
            }
        }
    }
    // an `aws:PrincipalArn` that names another principal than the request's (the principal is
    // built from `aws:username` and `aws:PrincipalAccount`; the ARN may come from policy
    // variables): the principal it names, else the principal's own ARN with the name put into
    // the other keys that spelled the old one, where the finding stands on it (after the account
    // above: the ARN's account segment is then the principal's)
    if let Some(r) = consistent_principal_arn(&best, confirm) {
        best = r;
    }
    let derived: Vec<&str> = best
        .principal
        .derived_keys()
        .iter()
        .map(|(k, _)| *k)
        .collect();
    let keys: Vec<String> = best
        .context
        .keys()
        .filter(|k| !derived.contains(&k.as_str()))
        .cloned()
        .collect();
    // a web-identity caller named by its provider ARN always carries `sub` and `aud` (OIDC
    // ID-token claims): keep them, they show who the caller is
    let identity_claims: Vec<String> = match &best.principal.kind {
        crate::request::PrincipalKind::WebIdentity { provider }
            if best.principal.raw.starts_with("arn:") =>
        {
            let p = provider.to_lowercase();
            vec![format!("{p}:sub"), format!("{p}:aud")]
        }
        _ => Vec::new(),
    };
    for k in keys {
        // an unresolved IaC value (`${iamprove:…}`) has a value in every deployment
        // (`Encoder::link_iac_values`): a request without it stands for no deployment
        if identity_claims.contains(&k) || k.starts_with("iamprove:") {
            continue;
        }
        let mut r = best.clone();
        r.context.remove(&k);
        if confirm(&r) {
            best = r;
            continue;
        }
        // a multivalued key: drop the values it does not need
        let n = best
            .context
            .get(&k)
            .map(|v| if v.multi { v.values.len() } else { 0 })
            .unwrap_or(0);
        for i in (0..n).rev() {
            let mut r = best.clone();
            if let Some(v) = r.context.get_mut(&k) {
                v.values.remove(i);
            }
            if confirm(&r) {
                best = r;
            }
        }
    }
    best
}

/// [`minimize`]'s step for a request whose `aws:PrincipalArn` (one value) is not the ARN its
/// principal has. The first request `confirm` accepts of: the principal that ARN names (an IAM
/// user, a session of the role, root, an STS session or federated user); the principal's own
/// ARN in the key, its name in place of the old name in the other keys (`${aws:PrincipalTag/role}`
/// realised as the role's name); and for a user or role ARN without a name (`…:role/`), a user
/// or role named `example-user` / `example-role` in the key, the principal and those keys.
/// `None` when none stands.
fn consistent_principal_arn(req: &Request, confirm: &dyn Fn(&Request) -> bool) -> Option<Request> {
    const KEY: &str = "aws:principalarn";
    let cv = req
        .context
        .get(KEY)
        .filter(|v| !v.multi && v.values.len() == 1)?;
    let arn = cv.values.first()?.clone();
    let own = req.principal.principal_arn()?;
    if own == arn {
        return None;
    }
    let name = |a: &str| a.rsplit(['/', ':']).next().unwrap_or_default().to_string();
    // the request with `arn` as the key, `principal`, and `to` in place of `from` in other keys
    let with = |arn: &str, principal: Option<&str>, from: &str, to: &str| -> Option<Request> {
        let mut r = req.clone();
        if let Some(p) = principal {
            r.principal = Principal::parse(p).ok()?;
        }
        for (k, v) in r.context.iter_mut() {
            if k == KEY {
                v.values = vec![arn.to_string()];
            } else if from != to && !v.multi && v.values.len() == 1 && v.values[0] == from {
                v.values = vec![to.to_string()];
            }
        }
        confirm(&r).then_some(r)
    };
    // the principal an ARN names: a role's ARN is that of each of its sessions
    let named = |arn: &str| -> Option<String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", part, "iam", "", acct, res] if res.starts_with("role/") => Some(format!(
                "arn:{part}:sts::{acct}:assumed-role/{}/session",
                name(res)
            )),
            ["arn", _, "iam", "", _, res] if *res == "root" || res.starts_with("user/") => {
                Some(arn.to_string())
            }
            ["arn", _, "sts", "", _, res]
                if res.starts_with("assumed-role/") || res.starts_with("federated-user/") =>
            {
                Some(arn.to_string())
            }
            _ => None,
        }
    };
    let old = name(&arn);
    if !old.is_empty() {
        if let Some(r) = named(&arn).and_then(|p| with(&arn, Some(&p), "", "")) {
            return Some(r);
        }
    }
    if let Some(r) = with(&own, None, &old, &name(&own)) {
        return Some(r);
    }
    // a user or role ARN without a name: one with a name
    let fill = if arn.ends_with(":role/") {
        "example-role"
    } else if arn.ends_with(":user/") {
        "example-user"
    } else {
        return None;
    };
    let filled = format!("{arn}{fill}");
    with(&filled, named(&filled).as_deref(), "", fill)
}

/// Values AWS can give (`crate::wellformed`, part of the well-formed assumption): an
/// account-valued context key (`aws:SourceAccount`, …) holds 12 digits whenever present, an
/// ARN-valued one (`aws:SourceArn`, `aws:PrincipalArn`) an ARN with a real region and account,
/// and an S3 ARN without region and account names a bucket (no `:` or `/` in its name), for
/// every action: the catalog formats say so only for the actions they constrain.
///
/// Like [`Encoder::well_formed_resources`] this only removes requests no service sends (a proof
/// stays a proof; it lists `wellformed::WELL_FORMED_VALUES_ASSUMPTION`). Unlike it, it is kept
/// when the catalog's formats are left out (`QueryOptions::well_formed` false). Keys read with non-string operators, multivalued
/// uses and fixed values are left as they are; the S3 rule is added only when some resource
/// pattern other than `*` may name a malformed S3 ARN.
fn well_formed_values(enc: &mut Encoder) {
    use crate::symbolic::encode::AtomKey;
    let format = |toks: Vec<crate::matching::Tok>| AtomKey {
        toks,
        mode: crate::matching::Mode::Format,
        ignore_case: false,
    };
    let mut facts: Vec<T> = Vec::new();
    let keys: Vec<(String, usize, usize)> = enc
        .keys
        .values()
        .filter(|k| {
            !k.multi
                && k.families == [crate::model::Family::String]
                && !enc.fixed.contains_key(&k.key)
        })
        .map(|k| (k.key.clone(), k.slots[0], k.presence))
        .collect();
    for (key, slot, presence) in keys {
        let Some(formats) = crate::wellformed::context_value_formats(&key, !enc.identity_only)
        else {
            continue;
        };
        let wf = enc.pred_of(slot, formats.into_iter().map(format).collect());
        facts.push(term::implies(term::bvar(presence), wf));
    }
    // S3 ARNs: only when a resource pattern (not `*`) may name a malformed one
    let prefix = crate::wellformed::s3_arn_prefix();
    let arns = crate::wellformed::s3_arns();
    let prefix_p = Pattern::compile(&format(prefix.clone()).spec());
    let arns_p: Vec<Pattern> = arns
        .iter()
        .map(|t| Pattern::compile(&format(t.clone()).spec()))
        .collect();
    let small = Limits {
        max_states: 20_000,
        max_steps: 200_000,
    };
    let may_be_malformed = enc
        .domain_of(RESOURCE_SLOT)
        .map(|d| {
            d.atoms.iter().any(|a| {
                if a.mode == crate::matching::Mode::Format {
                    return false;
                }
                // (cheap test first: the service part may be `s3`)
                let t = a.text();
                let svc = t.split(':').nth(2);
                let maybe_s3 = !t.starts_with("arn:")
                    || svc.is_none_or(|s| s == "s3" || s.contains(['*', '?']));
                if !maybe_s3 {
                    return false;
                }
                let p = Pattern::compile(&a.spec());
                if p.is_universal() {
                    return false;
                }
                let neg: Vec<&Pattern> = arns_p.iter().collect();
                !matches!(
                    automata::find_witness(&[&p, &prefix_p], &neg, &small),
                    Ok(None)
                )
            })
        })
        .unwrap_or(false);
    if may_be_malformed {
        let is_s3 = enc.pred_of(RESOURCE_SLOT, vec![format(prefix)]);
        let wf = enc.pred_of(RESOURCE_SLOT, arns.into_iter().map(format).collect());
        facts.push(term::implies(is_s3, wf));
    }
    if !facts.is_empty() {
        enc.assume(crate::wellformed::WELL_FORMED_VALUES_ASSUMPTION);
        enc.background.extend(facts);
    }
}

/// `resource` with a real region (`us-east-1`) and account (`account` when it is 12 digits, else
/// `111122223333`) in place of a region that is not `[a-z0-9-]*` or an account that is not 12
/// digits, `aws` or empty; `None` when it has both already or is not an ARN.
fn real_region_and_account(resource: &str, account: &str) -> Option<String> {
    let mut parts: Vec<&str> = resource.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return None;
    }
    let twelve = |a: &str| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
    let region_ok = parts[3].chars().all(automata::is_region_char);
    let account_ok = parts[4].is_empty() || parts[4] == "aws" || twelve(parts[4]);
    if region_ok && account_ok {
        return None;
    }
    if !region_ok {
        parts[3] = "us-east-1";
    }
    if !account_ok {
        parts[4] = if twelve(account) {
            account
        } else {
            "111122223333"
        };
    }
    Some(parts.join(":"))
}

fn add_preferences(enc: &mut Encoder, principals: Vec<String>) {
    let _ = crate::symbolic::encode::PRINCIPAL_KEYS;
    if let Some(d) = enc.domain_mut(ACTION_SLOT) {
        d.prefer = crate::catalog_hint::action_candidates(
            &d.atoms.iter().map(|a| a.text()).collect::<Vec<_>>(),
        );
    }
    let account = match &enc.principal {
        PrincipalMode::Fixed(p) if p.account.len() == 12 => p.account.clone(),
        _ => "111122223333".to_string(),
    };
    // accounts the principal patterns name (for readable roles and principals)
    let mut principal_accounts: Vec<String> = Vec::new();
    if let PrincipalMode::Symbolic { slot } = enc.principal {
        if let Some(d) = enc.domain_of(slot) {
            for a in &d.atoms {
                let t = a.text();
                let parts: Vec<&str> = t.splitn(6, ':').collect();
                if parts.len() == 6
                    && parts[4].len() == 12
                    && parts[4].bytes().all(|b| b.is_ascii_digit())
                    && !principal_accounts.iter().any(|x| x == parts[4])
                {
                    principal_accounts.push(parts[4].to_string());
                }
            }
        }
    }
    if let Some(d) = enc.domain_mut(RESOURCE_SLOT) {
        let mut v = vec!["*".to_string()];
        // real-looking ARNs of the formats of the actions named (region us-east-1, 12-digit account)
        for a in &d.atoms {
            if a.mode == crate::matching::Mode::Format {
                v.push(crate::wellformed::format_example(&a.toks, &account));
            }
        }
        for a in &d.atoms {
            // a readable instance of each pattern: a wildcard region or account becomes a real
            // one, other wildcards `example`
            let t = a.text();
            if t.starts_with("arn:")
                && a.mode != crate::matching::Mode::Format
                && t != "arn:*:iam:*:*:role/*"
            {
                v.push(readable_arn(&t, &account));
            }
        }
        // the role a federated caller assumes: in the provider's account
        for acct in &principal_accounts {
            v.push(format!("arn:aws:iam::{acct}:role/example-role"));
        }
        v.push("arn:aws:iam::111122223333:role/example-role".into());
        d.prefer = v;
    }
    // context values: the literals the policies mention, then a neutral word (a real account
    // or ARN first for keys that hold one: a witness names a value AWS gives when the policies
    // allow one)
    let key_slots: Vec<(usize, String)> = enc
        .keys
        .values()
        .flat_map(|k| k.slots.iter().map(|s| (*s, k.key.clone())))
        .collect();
    for (slot, key) in key_slots {
        let account_key = crate::wellformed::ACCOUNT_KEYS.contains(&key.as_str());
        let arn_key = crate::wellformed::ARN_KEYS.contains(&key.as_str());
        if let Some(d) = enc.domain_mut(slot) {
            if d.prefer.is_empty() {
                let mut v: Vec<String> = d
                    .atoms
                    .iter()
                    .map(|a| a.text())
                    .filter(|t| !t.contains('*') && !t.contains('?'))
                    .collect();
                // web-identity subjects: another owner's repository reads better than `example`
                let others: Vec<String> = v
                    .iter()
                    .filter_map(|t| {
                        let rest = t.strip_prefix("repo:")?;
                        let i = rest.find('/')?;
                        Some(format!("repo:someone-else{}", &rest[i..]))
                    })
                    .collect();
                v.extend(others);
                if account_key {
                    v.push(account.clone());
                    v.push("777788889999".into());
                }
                if arn_key {
                    let arns: Vec<String> = d
                        .atoms
                        .iter()
                        .map(|a| a.text())
                        .filter(|t| t.starts_with("arn:"))
                        .map(|t| readable_arn(&t, &account))
                        .collect();
                    v.extend(arns);
                    v.push(format!("arn:aws:iam::{account}:role/example-role"));
                }
                v.push("example".into());
                v.push("777788889999".into());
                d.prefer = v;
            }
        }
    }
    if let PrincipalMode::Symbolic { slot } = enc.principal {
        if let Some(d) = enc.domain_mut(slot) {
            let mut v = principals;
            v.push("arn:aws:iam::777788889999:user/outsider".into());
            v.push("arn:aws:sts::777788889999:assumed-role/outsider-role/session".into());
            v.push("arn:aws:iam::777788889999:role/outsider-role".into());
            v.push("arn:aws:iam::777788889999:root".into());
            v.push("arn:aws:sts::777788889999:federated-user/outsider".into());
            let mut accounts: Vec<String> = Vec::new();
            for a in &d.atoms {
                let t = a.text();
                if t.starts_with("arn:") && !t.contains('*') && !t.contains('?') {
                    v.push(t.clone());
                }
                let parts: Vec<&str> = t.splitn(6, ':').collect();
                if parts.len() == 6
                    && parts[4].len() == 12
                    && parts[4].bytes().all(|b| b.is_ascii_digit())
                {
                    accounts.push(parts[4].to_string());
                }
            }
            for acct in accounts {
                v.push(format!("arn:aws:iam::{acct}:user/example-user"));
                v.push(format!(
                    "arn:aws:sts::{acct}:assumed-role/example-role/session"
                ));
                v.push(format!("arn:aws:iam::{acct}:role/example-role"));
                v.push(format!("arn:aws:iam::{acct}:root"));
                v.push(format!("arn:aws:sts::{acct}:federated-user/example"));
            }
            v.push("anonymous".into());
            // federated callers: the providers the policies name (atoms above), then others
            for h in crate::request::WEB_IDENTITY_HOSTS {
                v.push((*h).to_string());
            }
            v.push("arn:aws:iam::777788889999:oidc-provider/oidc.example.com".into());
            v.push("arn:aws:iam::777788889999:saml-provider/example-idp".into());
            d.prefer = v;
        }
    }
}

/// `arn:aws:ec2:*:*:instance/*` → `arn:aws:ec2:us-east-1:ACCOUNT:instance/example`.
fn readable_arn(pattern: &str, account: &str) -> String {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    if parts.len() < 6 {
        return pattern.replace('*', "example").replace('?', "x");
    }
    let seg = |i: usize, real: &str| -> String {
        if parts[i] == "*" {
            real.to_string()
        } else {
            parts[i].replace('*', "example").replace('?', "x")
        }
    };
    [
        parts[0].to_string(),
        seg(1, "aws"),
        parts[2].replace('*', "example").replace('?', "x"),
        seg(3, "us-east-1"),
        seg(4, account),
        parts[5].replace('*', "example").replace('?', "x"),
    ]
    .join(":")
}

/// Lazily realised predicates with a member that matches every string (`*`) hold on every
/// string: say so up front (a proved fact, like the empty predicates `Encoder::partition`
/// rules out), so the solver does not propose a combination that makes one false only to have
/// it refuted and blocked (each block costs a solver check, seconds on a large policy).
fn universal_predicates(enc: &mut Encoder) {
    let mut facts = Vec::new();
    for (&(slot, p), &var) in &enc.pred_vars {
        let Some(d) = enc.domain_of(slot) else {
            continue;
        };
        let universal = d.preds.get(p).is_some_and(|members| {
            members
                .iter()
                .any(|&a| d.compiled.get(a).is_some_and(Pattern::is_universal))
        });
        if universal {
            facts.push(var);
        }
    }
    facts.sort_unstable();
    enc.background.extend(facts.into_iter().map(term::bvar));
}

enum Lazy {
    Done,
    /// These (variable, value) choices are jointly unrealisable: block them.
    Unrealizable(Vec<(usize, bool)>),
    GaveUp(String),
}

/// For slots of unpartitioned domains, find a string with exactly the predicate values the model
/// chose (exhaustive over the predicates' member patterns, so "none" is a proof).
fn realize_lazy(enc: &Encoder, m: &mut Model) -> Lazy {
    let mut by_slot: BTreeMap<usize, Vec<(usize, usize, bool)>> = BTreeMap::new();
    for (&(slot, pred), &var) in &enc.pred_vars {
        if let Some(&val) = m.bools.get(&var) {
            by_slot.entry(slot).or_default().push((pred, var, val));
        }
    }
    for (slot, mut lits) in by_slot {
        lits.sort_unstable();
        let Some(d) = enc.domain_of(slot) else {
            continue;
        };
        let want = |s: &str| {
            lits.iter().all(|&(p, _, val)| {
                d.preds[p]
                    .iter()
                    .any(|&a| d.compiled.get(a).is_some_and(|x| x.is_match(s)))
                    == val
            })
        };
        // a partly partitioned domain (`Domain::lazy_atoms`): a partitioned class's witness;
        // the lazy class is searched like a wholly lazy field, over every pattern, so a
        // refutation is a fact about all strings
        if let (Some(lc), Some(&c)) = (d.lazy_class(), m.classes.get(&slot)) {
            match d.classes.get(c as usize).map(|cl| &cl.witness) {
                Some(w) if c < lc && want(w) => {
                    m.strings.insert(slot, w.clone());
                    continue;
                }
                _ => {}
            }
        }
        if let Some(c) = d.prefer.iter().find(|c| want(c)) {
            m.strings.insert(slot, c.clone());
            continue;
        }
        let members: Vec<Vec<&Pattern>> = lits
            .iter()
            .map(|&(p, _, _)| {
                d.preds[p]
                    .iter()
                    .filter_map(|&a| d.compiled.get(a))
                    .collect()
            })
            .collect();
        let literals: Vec<automata::Literal<'_>> = members
            .iter()
            .zip(&lits)
            .map(|(m, l)| (m.as_slice(), l.2))
            .collect();
        match automata::realize_literals(&literals, &LAZY_LIMITS, 5_000) {
            Ok(Some(w)) => {
                m.strings.insert(slot, w);
            }
            Ok(None) => {
                // block the smallest refuted part of the combination (a proof too), so one block
                // excludes every combination that shares it and the loop converges
                let core = automata::refuted_core(&literals, &LAZY_LIMITS, 1_000, 400);
                return Lazy::Unrealizable(
                    core.iter()
                        .filter_map(|&i| lits.get(i))
                        .map(|&(_, var, val)| (var, val))
                        .collect(),
                );
            }
            Err(e) => return Lazy::GaveUp(format!("{}: {e}", d.name)),
        }
    }
    Lazy::Done
}

/// The limits of one search realising a lazily handled field (`realize_lazy` and the searches
/// that realise abstracted patterns on such a field).
const LAZY_LIMITS: Limits = Limits {
    max_states: 200_000,
    max_steps: 20_000_000,
};

/// The model's truth of each predicate of a lazily realised field, with the predicate's member
/// patterns, in predicate order.
fn lazy_truths<'e>(enc: &'e Encoder, m: &Model, slot: usize) -> Vec<(Vec<&'e Pattern>, bool)> {
    let Some(d) = enc.domain_of(slot) else {
        return Vec::new();
    };
    let mut lits: Vec<(usize, bool)> = enc
        .pred_vars
        .iter()
        .filter(|((s, _), _)| *s == slot)
        .filter_map(|(&(_, p), var)| m.bools.get(var).map(|&v| (p, v)))
        .collect();
    lits.sort_unstable();
    lits.into_iter()
        .map(|(p, truth)| {
            let members = d
                .preds
                .get(p)
                .into_iter()
                .flatten()
                .filter_map(|&a| d.compiled.get(a))
                .collect();
            (members, truth)
        })
        .collect()
}

/// The string of a lazily realised field (`realize_lazy`) with the model's predicate truths that
/// also matches every pattern of `pos` and none of `neg` (abstracted patterns resolved with the
/// request's values): the model's string when it does, else an exhaustive search.
fn realize_fallback_with(
    enc: &Encoder,
    m: &Model,
    slot: usize,
    pos: &[Pattern],
    neg: &[Pattern],
) -> Result<String, String> {
    let Some(d) = enc.domain_of(slot) else {
        return Err("policy variables: slot without a string domain".into());
    };
    let fits = |s: &str| pos.iter().all(|p| p.is_match(s)) && !neg.iter().any(|p| p.is_match(s));
    if let Some(s) = m.strings.get(&slot).filter(|s| fits(s)) {
        return Ok(s.clone());
    }
    let truths = lazy_truths(enc, m, slot);
    let singles: Vec<[&Pattern; 1]> = pos.iter().chain(neg).map(|p| [p]).collect();
    let literals: Vec<automata::Literal<'_>> = truths
        .iter()
        .map(|(members, truth)| (members.as_slice(), *truth))
        .chain(
            singles
                .iter()
                .enumerate()
                .map(|(i, p)| (p.as_slice(), i < pos.len())),
        )
        .collect();
    match automata::realize_literals(&literals, &LAZY_LIMITS, 5_000) {
        Ok(Some(w)) => Ok(w),
        Ok(None) => {
            Err("no string satisfies the patterns chosen for a variable-dependent field".into())
        }
        Err(e) => Err(format!("{}: {e}", d.name)),
    }
}

/// A string matching some member of each of `pos` and no pattern of `neg` (exhaustive, so
/// `Ok(None)` is a proof; `automata::realize_literals`).
fn choose(
    pos: &[Vec<&Pattern>],
    neg: &[&Pattern],
    limits: &Limits,
) -> Result<Option<String>, String> {
    let negs: Vec<[&Pattern; 1]> = neg.iter().map(|&p| [p]).collect();
    let lits: Vec<automata::Literal<'_>> = pos
        .iter()
        .map(|m| (m.as_slice(), true))
        .chain(negs.iter().map(|n| (n.as_slice(), false)))
        .collect();
    automata::realize_literals(&lits, limits, 5_000)
}

/// Turn a model into a concrete request.
pub(crate) fn build_request(enc: &Encoder, m: &Model) -> Result<Request, String> {
    let class_witness = |slot: usize| -> Option<String> {
        if let Some(s) = m.strings.get(&slot) {
            return Some(s.clone());
        }
        let d = enc.domain_of(slot)?;
        let c = m.classes.get(&slot).copied()?;
        d.classes.get(c as usize).map(|c| c.witness.clone())
    };
    // 1. context values of free keys
    let mut ctx: Context = enc.fixed.clone();
    // keys derived from a fixed principal are re-derived by the evaluator; keep only explicit ones
    if let PrincipalMode::Fixed(p) = &enc.principal {
        for (k, _) in p.derived_keys() {
            ctx.remove(k);
        }
    }
    let mut slot_values: BTreeMap<usize, String> = BTreeMap::new();
    for info in enc.keys.values() {
        let n = if info.multi {
            m.counts.get(&info.presence).copied().unwrap_or(0) as usize
        } else if m.bools.get(&info.presence).copied().unwrap_or(false) {
            1
        } else {
            0
        };
        let mut values = Vec::new();
        for &slot in info.slots.iter().take(n) {
            let v = slot_value(enc, m, slot, &class_witness);
            slot_values.insert(slot, v.clone());
            values.push(v);
        }
        if n > 0 {
            ctx.insert(
                info.key.clone(),
                CtxValue {
                    key: info.raw.clone(),
                    values,
                    multi: info.multi,
                },
            );
        }
    }
    // policy variables compared exactly: equal slots get one value, unequal ones distinct values
    realize_var_eqs(enc, m, &mut ctx)?;
    // a variable read by a pattern the model makes true: its value cut out of a string of the
    // field's class that matches the pattern's widened shape
    choose_variable_values_jointly(enc, m, &mut ctx);
    choose_variable_values(enc, m, &mut ctx);
    // 2. string slots refined for abstracted patterns (policy variables). A slot that another
    // slot's patterns read as a variable goes first, and each refined value is in the context at
    // once, so the patterns refined after it resolve with the value the request will carry
    // (`aws:PrincipalTag/team` cut to `*alice`, then the resource `b/${aws:PrincipalTag/team}/*`).
    let mut refined: BTreeMap<usize, String> = BTreeMap::new();
    let abstract_slots: Vec<usize> = {
        let read: Vec<usize> = enc
            .abstract_atoms
            .iter()
            .flat_map(|a| a.template.vars())
            .filter_map(|k| enc.keys.get(k))
            .filter(|i| !i.multi)
            .filter_map(|i| i.slots.first().copied())
            .collect();
        let mut v: Vec<usize> = enc.abstract_atoms.iter().map(|a| a.slot).collect();
        v.sort_unstable();
        v.dedup();
        // (stable: the read slots first, each group in slot order)
        v.sort_by_key(|s| !read.contains(s));
        v
    };
    for slot in abstract_slots {
        let Some(d) = enc.domain_of(slot) else {
            continue;
        };
        let lookup = |k: &str| single_value(&ctx, k);
        let mut pos: Vec<Pattern> = Vec::new();
        let mut neg: Vec<Pattern> = Vec::new();
        if !d.fallback {
            let c = m.classes.get(&slot).copied().unwrap_or(0) as usize;
            let Some(class) = d.classes.get(c) else {
                continue;
            };
            for (i, p) in d.compiled.iter().enumerate() {
                if class.atoms.get(i) {
                    pos.push(p.clone());
                } else {
                    neg.push(p.clone());
                }
            }
        }
        // the abstracted patterns the model makes false, with their place in `neg`
        let mut false_atoms: Vec<(usize, &crate::symbolic::encode::AbstractAtom)> = Vec::new();
        for a in enc.abstract_atoms.iter().filter(|a| a.slot == slot) {
            let want = m.bools.get(&a.var).copied().unwrap_or(false);
            // a pattern on its own variable's field (`${aws:PrincipalTag/team}-*` on that tag):
            // with the key present its truth is fixed (`Encoder::equal_to_variable`) and holds
            // for every value, so it constrains nothing here (resolving it with the value before
            // the refinement would)
            let on_itself = crate::symbolic::encode::one_variable(&a.template, a.mode).is_some_and(
                |(key, nullable)| {
                    nullable == want
                        && lookup(key).is_some()
                        && enc
                            .keys
                            .get(key)
                            .is_some_and(|i| !i.multi && i.slots.first() == Some(&slot))
                },
            );
            if on_itself {
                continue;
            }
            match a.template.resolve(&lookup) {
                Some(toks) => {
                    let pat = a.pattern(toks);
                    if want {
                        pos.push(pat);
                    } else {
                        false_atoms.push((neg.len(), a));
                        neg.push(pat);
                    }
                }
                None => {
                    if want {
                        return Err(format!(
                            "pattern `{}` needs a variable the request lacks",
                            a.template.raw
                        ));
                    }
                }
            }
        }
        // the exact equalities the slot takes part in, against the other slot's value as it
        // stands (refined already, or as realised above): a string cut for an abstracted pattern
        // (`${aws:PrincipalTag/team}*`) must not become equal to a value the model keeps
        // unequal (`aws:ResourceTag/team` ≠ `${aws:PrincipalTag/team}`), nor differ from one it
        // makes equal
        for e in enc.var_eqs.iter().filter(|e| e.a == slot || e.b == slot) {
            let other = if e.a == slot { e.b } else { e.a };
            let value = refined
                .get(&other)
                .cloned()
                .or_else(|| context_slot_value(enc, &ctx, other));
            if let Some(v) = value {
                let lit = Pattern::compile(&PatternSpec::literal(&v));
                if m.bools.get(&e.var).copied().unwrap_or(false) {
                    pos.push(lit);
                } else {
                    neg.push(lit);
                }
            }
        }
        if d.fallback {
            // a field realised lazily (`realize_lazy`): its string must also give the
            // abstracted patterns, under the values chosen above, the model's truths
            let w = realize_fallback_with(enc, m, slot, &pos, &neg)?;
            set_slot_value(enc, &mut ctx, slot, &w);
            refined.insert(slot, w);
            continue;
        }
        let mut found = {
            let pr: Vec<&Pattern> = pos.iter().collect();
            let nr: Vec<&Pattern> = neg.iter().collect();
            automata::find_witness(&pr, &nr, &Limits::default())
        };
        // Variables that only the false patterns read got values chosen alike (`example` for
        // both `${aws:userid}` and `${aws:PrincipalTag/team}`), so a false pattern can resolve
        // to a true one: other values for those, once.
        if matches!(found, Ok(None))
            && retry_false_variables(enc, m, slot, &mut ctx, &false_atoms, &mut neg)
        {
            let pr: Vec<&Pattern> = pos.iter().collect();
            let nr: Vec<&Pattern> = neg.iter().collect();
            found = automata::find_witness(&pr, &nr, &Limits::default());
        }
        match found {
            Ok(Some(w)) => {
                set_slot_value(enc, &mut ctx, slot, &w);
                refined.insert(slot, w);
            }
            Ok(None) => {
                return Err(
                    "no string satisfies the patterns chosen for a variable-dependent field".into(),
                )
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let _ = PatternSpec::literal("");
    let action_lower = refined
        .get(&ACTION_SLOT)
        .cloned()
        .or_else(|| class_witness(ACTION_SLOT))
        .unwrap_or_else(|| "iamprove:action".into());
    let action = crate::catalog_hint::display_action(&action_lower);
    let resource = refined
        .get(&RESOURCE_SLOT)
        .cloned()
        .or_else(|| class_witness(RESOURCE_SLOT))
        .unwrap_or_else(|| "*".into());
    // 3. the principal
    let principal = match &enc.principal {
        PrincipalMode::Fixed(p) => p.clone(),
        PrincipalMode::Symbolic { slot } => {
            // only the shape constraint mentions the principal: pick one consistent with the keys
            let constrained = enc.domain_of(*slot).is_some_and(|d| d.preds.len() > 1);
            // the principal the chosen keys describe, when it lies in the chosen class
            let from_keys = identity_principal(&ctx)
                .ok()
                .filter(|p| !constrained || fits_class(enc, m, *slot, &p.raw));
            let w = if from_keys.is_some() {
                from_keys.map(|p| p.raw)
            } else if constrained {
                refined.get(slot).cloned().or_else(|| class_witness(*slot))
            } else {
                None
            };
            match w {
                Some(w) => Principal::parse(&w)
                    .map_err(|e| format!("solver chose an unusable principal: {e}"))?,
                None => identity_principal(&ctx)?,
            }
        }
    };
    Ok(Request::new(
        principal,
        &action,
        &resource,
        enc.resource_account.as_deref(),
        ctx,
    ))
}

/// For [`build_request`]: give each variable that the false abstracted patterns of `slot` read,
/// and that no true pattern of the slot reads, no exact equality ties and the request carries
/// (single-valued), another string of its class than the values of the request's other
/// single-valued keys; then resolve those patterns again into `neg`. Whether a value changed.
/// Only a better candidate: the request is still replayed.
fn retry_false_variables(
    enc: &Encoder,
    m: &Model,
    slot: usize,
    ctx: &mut Context,
    false_atoms: &[(usize, &crate::symbolic::encode::AbstractAtom)],
    neg: &mut [Pattern],
) -> bool {
    let true_keys: Vec<&str> = enc
        .abstract_atoms
        .iter()
        .filter(|a| a.slot == slot && m.bools.get(&a.var).copied().unwrap_or(false))
        .flat_map(|a| a.template.vars())
        .collect();
    let tied = |s: usize| enc.var_eqs.iter().any(|e| e.a == s || e.b == s);
    let mut changed = false;
    let mut done: Vec<&str> = Vec::new();
    for (_, a) in false_atoms {
        for k in a.template.vars() {
            if true_keys.contains(&k) || done.contains(&k) {
                continue;
            }
            done.push(k);
            let Some(info) = enc.keys.get(k) else {
                continue;
            };
            let Some(&vslot) = info.slots.first() else {
                continue;
            };
            if info.multi || tied(vslot) || !ctx.contains_key(&info.key) {
                continue;
            }
            let avoid: Vec<String> = ctx
                .values()
                .filter(|cv| !cv.multi)
                .flat_map(|cv| cv.values.iter().cloned())
                .collect();
            if let Ok(v) = other_in_class(enc, m, vslot, &avoid) {
                set_slot_value(enc, ctx, vslot, &v);
                changed = true;
            }
        }
    }
    if !changed {
        return false;
    }
    let lookup = |k: &str| single_value(ctx, k);
    for (i, a) in false_atoms {
        if let (Some(toks), Some(x)) = (a.template.resolve(&lookup), neg.get_mut(*i)) {
            *x = a.pattern(toks);
        }
    }
    true
}

/// The value of a key the request carries with exactly one value (how a policy variable reads
/// it); `None` for a missing or multivalued key.
fn single_value(ctx: &Context, k: &str) -> Option<String> {
    match ctx.get(k) {
        Some(cv) if cv.values.len() == 1 && !cv.multi => Some(cv.values[0].clone()),
        _ => None,
    }
}

/// The value `slot` has in the request's context, when its key is there with that many values.
fn context_slot_value(enc: &Encoder, ctx: &Context, slot: usize) -> Option<String> {
    let (k, i) = slot_key(enc, slot)?;
    ctx.get(&k)?.values.get(i).cloned()
}

/// Give `slot` the value `w` in the request's context (when its key is present there).
fn set_slot_value(enc: &Encoder, ctx: &mut Context, slot: usize, w: &str) {
    if let Some((k, i)) = slot_key(enc, slot) {
        if let Some(x) = ctx.get_mut(&k).and_then(|cv| cv.values.get_mut(i)) {
            *x = w.to_owned();
        }
    }
}

/// Does `s` give `slot`'s predicates the truths the model chose: its class's, or for a field
/// realised lazily (`realize_lazy`) the model's predicate Booleans? (A value cut for a policy
/// variable on such a field was never taken before.)
fn fits_model(enc: &Encoder, m: &Model, slot: usize, s: &str) -> bool {
    if !enc.domain_of(slot).is_some_and(|d| d.fallback) {
        return fits_class(enc, m, slot, s);
    }
    let truths = lazy_truths(enc, m, slot);
    !truths.is_empty()
        && truths
            .iter()
            .all(|(members, truth)| members.iter().any(|p| p.is_match(s)) == *truth)
}

/// Does `s` belong to the class the model chose for `slot` (partitioned domains only)?
fn fits_class(enc: &Encoder, m: &Model, slot: usize, s: &str) -> bool {
    let (Some(d), Some(&c)) = (enc.domain_of(slot), m.classes.get(&slot)) else {
        return false;
    };
    if d.fallback || m.strings.contains_key(&slot) {
        return false;
    }
    let bits: Vec<bool> = d.compiled.iter().map(|p| p.is_match(s)).collect();
    let pv: Vec<bool> = d
        .preds
        .iter()
        .map(|atoms| atoms.iter().any(|&a| bits.get(a).copied().unwrap_or(false)))
        .collect();
    d.classes.get(c as usize).is_some_and(|cl| cl.preds == pv)
}

/// A principal for identity-policy queries consistent with the chosen principal keys.
fn identity_principal(ctx: &Context) -> Result<Principal, String> {
    let account = ctx
        .get("aws:principalaccount")
        .and_then(|v| v.values.first())
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .cloned()
        .unwrap_or_else(|| "111122223333".into());
    let arn = match ctx.get("aws:username").and_then(|v| v.values.first()) {
        Some(name) if !name.is_empty() && !name.contains('/') => {
            format!("arn:aws:iam::{account}:user/{name}")
        }
        Some(_) => format!("arn:aws:iam::{account}:user/example-user"),
        None => format!("arn:aws:sts::{account}:assumed-role/example-role/session"),
    };
    Principal::parse(&arn)
}

fn slot_value(
    enc: &Encoder,
    m: &Model,
    slot: usize,
    class_witness: &dyn Fn(usize) -> Option<String>,
) -> String {
    if let Some(Some(v)) = m.nums.get(&slot) {
        let scale = enc.num_scale(slot);
        return crate::literal::Decimal { mant: *v, scale }.to_string();
    }
    if let Some(Some(d)) = m.dates.get(&slot) {
        return format_date(*d);
    }
    if let Some(Some(ip)) = m.ips.get(&slot) {
        return ip.to_string();
    }
    let bool_name = format!("istrue:{slot}");
    if let Some(i) = enc.vars.bools.iter().position(|b| *b == bool_name) {
        if !m.classes.contains_key(&slot) {
            return if m.bools.get(&i).copied().unwrap_or(false) {
                "true".into()
            } else {
                "false".into()
            };
        }
    }
    if let Some(w) = class_witness(slot) {
        return w;
    }
    // unconstrained (or must not parse as number / date / IP): any text
    "example".into()
}

/// The request in scenario format.
pub fn request_json(r: &Request, enc: &Encoder) -> Value {
    let mut ctx = serde_json::Map::new();
    for (k, v) in &r.context {
        // keys derived from the principal are implied; free keys are spelled out
        let derived = r
            .principal
            .derived_keys()
            .iter()
            .any(|(dk, dv)| dk == k && !v.multi && v.values.len() == 1 && &v.values[0] == dv);
        if derived && !enc.keys.contains_key(k) {
            continue;
        }
        let val = if v.multi {
            Value::Array(v.values.iter().map(|s| Value::String(s.clone())).collect())
        } else {
            Value::String(v.values.first().cloned().unwrap_or_default())
        };
        ctx.insert(v.key.clone(), val);
    }
    let mut o = json!({
        "principal": r.principal.raw,
        "action": r.action,
        "resource": r.resource,
    });
    if enc.resource_account.is_some() {
        o["resource_account"] = Value::String(r.resource_account.clone());
    }
    if !ctx.is_empty() {
        o["context"] = Value::Object(ctx);
    }
    o
}

/// Did the evaluator decide Allow?
pub fn allows(side: &Side, req: &Request) -> bool {
    side.run(req, false).decision == Decision::Allow
}

/// The evaluator's decision of `req` on this side (as replayed).
pub fn decision(side: &Side, req: &Request) -> Decision {
    side.run(req, false).decision
}

/// Describe a string class by the patterns it matches and avoids (for findings).
pub fn class_patterns(enc: &Encoder, slot: usize, m: &Model) -> (Vec<String>, Vec<String>) {
    let mut yes = Vec::new();
    let mut no = Vec::new();
    // (a field realised lazily, even in part, has no class that names its string's patterns:
    // the string is searched for per model, and refined for policy variables)
    if let (Some(d), Some(c)) = (
        enc.domain_of(slot).filter(|d| !d.fallback),
        m.classes.get(&slot),
    ) {
        if let Some(class) = d.classes.get(*c as usize) {
            for (i, a) in d.atoms.iter().enumerate() {
                let t = a.text();
                // internal atoms: request shapes, STRICT and account tests, ARN formats
                if t == "?*:?*"
                    || a.mode == crate::matching::Mode::Format
                    || t == "*" && a.toks == [crate::matching::Tok::Lit('*')]
                    || t.starts_with("arn:*:*:*:")
                    || t.starts_with("arn:*:iam:*:*:role/")
                    || t.starts_with("arn:*:kms:*:*:key/")
                {
                    continue;
                }
                if class.atoms.get(i) {
                    yes.push(t);
                } else if !crate::request::WEB_IDENTITY_ACTIONS.contains(&t.as_str())
                    && !crate::request::SAML_ACTIONS.contains(&t.as_str())
                {
                    // (the federated callers' actions are atoms of every resource-policy query)
                    no.push(t);
                }
            }
        }
    }
    (yes, no)
}

/// Whether a term mentions a slot (for deciding what to block for diverse findings).
pub fn mentions_slot(t: &Term, slot: usize) -> bool {
    match t {
        Term::ClassIn { slot: s, .. } => *s == slot,
        Term::Not(x) => mentions_slot(x, slot),
        Term::And(xs) | Term::Or(xs) => xs.iter().any(|x| mentions_slot(x, slot)),
        _ => false,
    }
}

/// `Some(b)` when the term is the constant `b`.
pub fn is_trivially(t: &T) -> Option<bool> {
    if term::is_true(t) {
        Some(true)
    } else if term::is_false(t) {
        Some(false)
    } else {
        None
    }
}

/// The assignment a concrete request induces on the encoder's variables (for differential
/// tests: the encoding evaluated under it must agree with the evaluator). `None` when a value
/// cannot be represented (e.g. more decimals than the encoding's scale).
pub fn concretize(enc: &Encoder, req: &Request) -> Option<Model> {
    use crate::literal::{parse_date, parse_ip, Decimal};
    let mut m = Model::default();
    let class_of = |slot: usize, s: &str| -> Option<u32> {
        let d = enc.domain_of(slot)?;
        let lazy_class = d.lazy_class();
        if d.preds.is_empty() || (d.fallback && lazy_class.is_none()) {
            return Some(0);
        }
        let bits: Vec<bool> = d.compiled.iter().map(|p| p.is_match(s)).collect();
        // a partly partitioned domain: a string of a lazily realised atom takes the lazy class
        if let Some(lc) = lazy_class {
            if d.lazy_atoms
                .iter()
                .any(|&a| bits.get(a).copied().unwrap_or(false))
            {
                return Some(lc);
            }
        }
        let pv: Vec<bool> = d
            .preds
            .iter()
            .map(|atoms| atoms.iter().any(|&a| bits[a]))
            .collect();
        d.classes
            .iter()
            .position(|c| c.preds == pv)
            .map(|i| i as u32)
    };
    m.classes.insert(
        ACTION_SLOT,
        class_of(ACTION_SLOT, &req.action.to_lowercase())?,
    );
    m.classes
        .insert(RESOURCE_SLOT, class_of(RESOURCE_SLOT, &req.resource)?);
    if let PrincipalMode::Symbolic { slot } = enc.principal {
        m.classes.insert(slot, class_of(slot, &req.principal.raw)?);
    }
    for info in enc.keys.values() {
        let values: Vec<String> = req
            .context
            .get(&info.key)
            .map(|c| c.values.clone())
            .unwrap_or_default();
        if info.multi {
            if values.len() > info.slots.len() {
                return None;
            }
            m.counts.insert(info.presence, values.len() as u32);
        } else {
            if values.len() > 1 {
                return None;
            }
            m.bools.insert(info.presence, !values.is_empty());
        }
        for (i, &slot) in info.slots.iter().enumerate() {
            let Some(v) = values.get(i) else { continue };
            if enc.domain_of(slot).is_some() {
                m.classes.insert(slot, class_of(slot, v)?);
            }
            let scale = enc.num_scale(slot);
            m.scales.insert(slot, scale);
            m.nums.insert(
                slot,
                match Decimal::parse(v) {
                    Some(d) => Some(crate::symbolic::encode::scaled(&d, scale)?),
                    None => None,
                },
            );
            m.dates.insert(slot, parse_date(v));
            m.ips.insert(slot, parse_ip(v));
            let bool_name = format!("istrue:{slot}");
            if let Some(b) = enc.vars.bools.iter().position(|n| *n == bool_name) {
                m.bools.insert(b, v.eq_ignore_ascii_case("true"));
            }
        }
    }
    // predicates of unpartitioned domains: their concrete truth
    let mut strings = Vec::new();
    strings.push((ACTION_SLOT, req.action.to_lowercase()));
    strings.push((RESOURCE_SLOT, req.resource.clone()));
    if let PrincipalMode::Symbolic { slot } = enc.principal {
        strings.push((slot, req.principal.raw.clone()));
    }
    for info in enc.keys.values() {
        if let Some(cv) = req.context.get(&info.key) {
            for (i, &slot) in info.slots.iter().enumerate() {
                if let Some(v) = cv.values.get(i) {
                    strings.push((slot, v.clone()));
                }
            }
        }
    }
    for (slot, s) in strings {
        if let Some(d) = enc.domain_of(slot).filter(|d| d.fallback) {
            for p in 0..d.preds.len() {
                if let Some(&v) = enc.pred_vars.get(&(slot, p)) {
                    let truth = d.preds[p]
                        .iter()
                        .any(|&a| d.compiled.get(a).is_some_and(|x| x.is_match(&s)));
                    m.bools.insert(v, truth);
                }
            }
        }
    }
    // exact variable equalities: their concrete truth
    for e in &enc.var_eqs {
        let (a, b) = (slot_text(enc, req, e.a), slot_text(enc, req, e.b));
        m.bools.insert(e.var, a.is_some() && a == b);
    }
    // abstracted patterns: their concrete truth
    let lookup = |k: &str| -> Option<String> {
        match req.context.get(k) {
            Some(cv) if cv.values.len() == 1 => Some(cv.values[0].clone()),
            _ => None,
        }
    };
    for a in &enc.abstract_atoms {
        let value: Option<String> = match a.slot {
            ACTION_SLOT => Some(req.action.to_lowercase()),
            RESOURCE_SLOT => Some(req.resource.clone()),
            s => enc.keys.values().find_map(|k| {
                k.slots.iter().position(|x| *x == s).and_then(|i| {
                    req.context
                        .get(&k.key)
                        .and_then(|c| c.values.get(i).cloned())
                })
            }),
        };
        let truth = match (value, a.template.resolve(&lookup)) {
            (Some(v), Some(toks)) => a.pattern(toks).is_match(&v),
            _ => false,
        };
        m.bools.insert(a.var, truth);
    }
    Some(m)
}

// ---------------------------------------------------------------- policy variables, exact

/// At most this many literal values per variable, and facts per query, for
/// [`link_variable_literals`] (each adds a pattern to the field's partition; no pattern is
/// started once the facts reach the cap).
const VARIABLE_LITERALS: usize = 8;
const VARIABLE_LITERAL_FACTS: usize = 64;

/// Where a policy variable's key has a value the policies compare it with literally
/// (`StringNotEquals aws:PrincipalTag/B ""`, `Null`, `StringEquals … "x"`), an abstracted
/// one-variable pattern reading it is an ordinary pattern:
/// `key present ∧ key = x ⇒ (atom ⇔ field matches t[v := x])`. A fact about every request (the
/// evaluator substitutes the same literal text), so answers stay exact; it spares the
/// refinement loop models the abstraction allowed and no request has (issue 13: a tag modelled
/// as `""` while `arn:aws:s3:::${aws:PrincipalTag/B}` held on a well-formed bucket ARN, until
/// the loop ran out of rounds). Patterns with several variables are left to the loop: the
/// widened facts they would need added enough patterns to the resource field of the SageMaker
/// Studio policies to make its partition give up.
fn link_variable_literals(enc: &mut Encoder) {
    use crate::matching::Tok;
    use crate::symbolic::encode::AtomKey;
    let atoms = enc.abstract_atoms.clone();
    let mut facts: Vec<T> = Vec::new();
    for a in &atoms {
        let mut vars: Vec<&str> = a.template.vars().collect();
        vars.dedup();
        let [v] = vars.as_slice() else { continue };
        let Some(info) = enc.keys.get(*v).cloned() else {
            continue;
        };
        if info.multi || enc.fixed.contains_key(*v) {
            continue;
        }
        let vslot = info.slots[0];
        // the key's literal patterns (case-sensitive, no wildcard) and their text
        let literals: Vec<(AtomKey, String)> = enc
            .domain_of(vslot)
            .map(|d| {
                d.atoms
                    .iter()
                    .filter(|k| !k.ignore_case)
                    .filter_map(|k| {
                        let text: Option<String> = k
                            .toks
                            .iter()
                            .map(|t| match t {
                                Tok::Lit(c) => Some(*c),
                                _ => None,
                            })
                            .collect();
                        text.map(|x| (k.clone(), x))
                    })
                    .take(VARIABLE_LITERALS)
                    .collect()
            })
            .unwrap_or_default();
        for (lit, x) in literals {
            // t[v := x] (its one variable)
            let Some(toks) = a.template.resolve(&|_| Some(x.clone())) else {
                continue;
            };
            let is_x = and([enc.present(v), enc.pred_of(vslot, vec![lit])]);
            let field = enc.pred_of(
                a.slot,
                vec![AtomKey {
                    toks,
                    mode: a.mode,
                    ignore_case: a.ignore_case,
                }],
            );
            let atom = term::bvar(a.var);
            facts.push(term::implies(
                and([is_x.clone(), atom.clone()]),
                field.clone(),
            ));
            facts.push(term::implies(and([is_x, field]), atom));
        }
        if facts.len() >= VARIABLE_LITERAL_FACTS {
            break;
        }
    }
    enc.background.extend(facts);
}

/// The value a request gives a context-key slot (`None`: the key has no value there).
fn slot_text(enc: &Encoder, req: &Request, slot: usize) -> Option<String> {
    enc.keys.values().find_map(|k| {
        let i = k.slots.iter().position(|x| *x == slot)?;
        req.context.get(&k.key)?.values.get(i).cloned()
    })
}

/// (key, position) of a context-key slot.
fn slot_key(enc: &Encoder, slot: usize) -> Option<(String, usize)> {
    enc.keys.values().find_map(|k| {
        let i = k.slots.iter().position(|x| *x == slot)?;
        Some((k.key.clone(), i))
    })
}

/// The second half of the exact meaning of [`crate::symbolic::encode::VarEq`]: two slots in the
/// same class may differ only when that class holds two strings or more. Singleton classes are
/// found exhaustively (`choose` over the predicates' member patterns, the witness excluded); a
/// search over budget leaves the class unconstrained and marks the encoding inexact.
fn link_variable_singletons(enc: &mut Encoder) {
    if enc.var_eqs.is_empty() {
        return;
    }
    let limits = Limits {
        max_states: 50_000,
        max_steps: 2_000_000,
    };
    let mut singletons: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    let mut inexact = false;
    let mut terms = Vec::new();
    for e in enc.var_eqs.clone() {
        let Some(d) = enc.vars.slots.get(e.a).and_then(|s| s.domain) else {
            continue;
        };
        let dom = &enc.domains[d];
        if dom.fallback || dom.classes.len() > 512 {
            inexact = true;
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = singletons.entry(d) {
            let mut single = Vec::new();
            for (k, class) in dom.classes.iter().enumerate() {
                let members = |p: usize| -> Vec<&Pattern> {
                    dom.preds[p]
                        .iter()
                        .filter_map(|&a| dom.compiled.get(a))
                        .collect()
                };
                let mut pos: Vec<Vec<&Pattern>> = Vec::new();
                let mut neg_owned: Vec<Pattern> =
                    vec![Pattern::compile(&PatternSpec::literal(&class.witness))];
                let mut neg: Vec<&Pattern> = Vec::new();
                for (p, &truth) in class.preds.iter().enumerate() {
                    if truth {
                        pos.push(members(p));
                    } else {
                        neg.extend(members(p));
                    }
                }
                pos.sort_by_key(Vec::len);
                let lit = neg_owned.remove(0);
                neg.push(&lit);
                match choose(&pos, &neg, &limits) {
                    Ok(Some(_)) => {}
                    Ok(None) => single.push(k as u32),
                    Err(_) => inexact = true,
                }
            }
            slot.insert(single);
        }
        let n = enc.domains[d].classes.len() as u32;
        for &k in singletons.get(&d).map(Vec::as_slice).unwrap_or(&[]) {
            let both = and([
                term::class_in(e.a, vec![k], n),
                term::class_in(e.b, vec![k], n),
            ]);
            terms.push(or([term::bvar(e.var), not(both)]));
        }
    }
    enc.vars_inexact |= inexact;
    enc.background.extend(terms);
}

/// Give the slots of the model's variable equalities their values: one value per group of
/// equal slots, and distinct values where the model says unequal (another string of the same
/// class, found exhaustively). An error means the model cannot be realised this way.
fn realize_var_eqs(enc: &Encoder, m: &Model, ctx: &mut Context) -> Result<(), String> {
    if enc.var_eqs.is_empty() {
        return Ok(());
    }
    let get = |ctx: &Context, slot: usize| context_slot_value(enc, ctx, slot);
    let set = |ctx: &mut Context, slot: usize, v: &str| set_slot_value(enc, ctx, slot, v);
    // groups of equal slots (union-find over the true equalities)
    let mut slots: Vec<usize> = enc.var_eqs.iter().flat_map(|e| [e.a, e.b]).collect();
    slots.sort_unstable();
    slots.dedup();
    let mut root: BTreeMap<usize, usize> = slots.iter().map(|&s| (s, s)).collect();
    fn find(root: &BTreeMap<usize, usize>, mut s: usize) -> usize {
        while let Some(&r) = root.get(&s) {
            if r == s {
                break;
            }
            s = r;
        }
        s
    }
    for e in &enc.var_eqs {
        if m.bools.get(&e.var).copied().unwrap_or(false) {
            let (ra, rb) = (find(&root, e.a), find(&root, e.b));
            if ra != rb {
                root.insert(ra.max(rb), ra.min(rb));
            }
        }
    }
    let group_of = |s: usize| find(&root, s);
    // one value per group: the first present member's
    let mut value: BTreeMap<usize, String> = BTreeMap::new();
    for &s in &slots {
        if let Some(v) = get(ctx, s) {
            value.entry(group_of(s)).or_insert(v);
        }
    }
    // unequal groups with the same value: pick another string of the class
    let unequal: Vec<(usize, usize)> = enc
        .var_eqs
        .iter()
        .filter(|e| !m.bools.get(&e.var).copied().unwrap_or(false))
        .map(|e| (group_of(e.a), group_of(e.b)))
        .collect();
    for &(ga, gb) in &unequal {
        if ga == gb {
            return Err("policy variables: the model makes a slot unequal to itself".into());
        }
        let (Some(va), Some(vb)) = (value.get(&ga), value.get(&gb)) else {
            continue;
        };
        if va != vb {
            continue;
        }
        // values gb must avoid: those of every group it must differ from
        let avoid: Vec<String> = unequal
            .iter()
            .filter_map(|&(x, y)| {
                if x == gb {
                    value.get(&y).cloned()
                } else if y == gb {
                    value.get(&x).cloned()
                } else {
                    None
                }
            })
            .collect();
        let w = other_in_class(enc, m, gb, &avoid)?;
        value.insert(gb, w);
    }
    for &s in &slots {
        if let Some(v) = value.get(&group_of(s)) {
            if get(ctx, s).is_some() {
                set(ctx, s, v);
            }
        }
    }
    Ok(())
}

/// A string of the model's class for `slot` other than the `avoid` values.
fn other_in_class(
    enc: &Encoder,
    m: &Model,
    slot: usize,
    avoid: &[String],
) -> Result<String, String> {
    let d = enc
        .domain_of(slot)
        .ok_or("policy variables: slot without a string domain")?;
    let lits: Vec<Pattern> = avoid
        .iter()
        .map(|v| Pattern::compile(&PatternSpec::literal(v)))
        .collect();
    let c = m.classes.get(&slot).copied().unwrap_or(0) as usize;
    let class = match d.classes.get(c) {
        Some(class) => class,
        // a field realised lazily, or the lazy class of one partly partitioned: the model's
        // predicate truths, searched with the values to avoid
        None if d.fallback => {
            return realize_fallback_with(enc, m, slot, &[], &lits)
                .map_err(|e| format!("policy variables: {e}"))
        }
        // a field no pattern reads: any other string
        None if d.preds.is_empty() => {
            return (0..=avoid.len())
                .map(|i| format!("example-{}", i + 1))
                .find(|w| !avoid.contains(w))
                .ok_or_else(|| "policy variables: no second string".into())
        }
        None => return Err("policy variables: the model chose no class".into()),
    };
    let mut pos: Vec<Vec<&Pattern>> = Vec::new();
    let mut neg: Vec<&Pattern> = lits.iter().collect();
    for (p, &truth) in class.preds.iter().enumerate() {
        let members: Vec<&Pattern> = d.preds[p]
            .iter()
            .filter_map(|&a| d.compiled.get(a))
            .collect();
        if truth {
            pos.push(members);
        } else {
            neg.extend(members);
        }
    }
    pos.sort_by_key(Vec::len);
    match choose(&pos, &neg, &Limits::default()) {
        Ok(Some(w)) => Ok(w),
        Ok(None) => {
            Err("policy variables: no second string in the class chosen for unequal values".into())
        }
        Err(e) => Err(format!("policy variables: {e}")),
    }
}

/// For each abstracted pattern with one variable that the model makes true: when the variable's
/// current value does not let the field's class match the pattern, find a string of the class
/// that matches the widened pattern (variable → `*`) and cut the variable's value out of it (a
/// value that also lies in the variable's own class). Only a better candidate: the request is
/// still replayed.
fn choose_variable_values(enc: &Encoder, m: &Model, ctx: &mut Context) {
    for a in &enc.abstract_atoms {
        if !m.bools.get(&a.var).copied().unwrap_or(false) {
            continue;
        }
        let mut keys: Vec<String> = a.template.vars().map(str::to_owned).collect();
        keys.sort_unstable();
        keys.dedup();
        for v in &keys {
            // a pattern with more variables (`corp/${aws:PrincipalTag/team}/${aws:username}/*`):
            // the others at their current values (or defaults), this one cut
            let template = if keys.len() == 1 {
                a.template.clone()
            } else {
                match with_others_fixed(&a.template, v, ctx) {
                    Some(t) => t,
                    None => continue,
                }
            };
            choose_value_for(enc, m, ctx, a, &template, v);
        }
    }
}

/// `t` with every variable but `v` replaced by its value in `ctx` (single-valued) or its
/// default; `None` when one has neither.
fn with_others_fixed(
    t: &crate::model::Template,
    v: &str,
    ctx: &Context,
) -> Option<crate::model::Template> {
    let mut pieces = Vec::with_capacity(t.pieces.len());
    for p in &t.pieces {
        match p {
            crate::model::Piece::Var { key, default } if key != v => {
                let value = match single_value(ctx, key) {
                    Some(v) => v,
                    None => default.clone()?,
                };
                pieces.push(crate::model::Piece::Lit(value));
            }
            other => pieces.push(other.clone()),
        }
    }
    Some(crate::model::Template {
        raw: t.raw.clone(),
        pieces,
        toks: Vec::new(),
        compiled: None,
    })
}

/// The constraints the model puts on one string field: its class's atoms, or for a field
/// realised lazily (`realize_lazy`) the model's predicate truths.
struct FieldConstraints<'e> {
    lazy: bool,
    pos: Vec<&'e Pattern>,
    neg: Vec<&'e Pattern>,
    preds: Vec<(Vec<&'e Pattern>, bool)>,
}

impl<'e> FieldConstraints<'e> {
    fn of(enc: &'e Encoder, m: &Model, slot: usize) -> Option<Self> {
        let d = enc.domain_of(slot)?;
        let mut out = FieldConstraints {
            lazy: d.fallback,
            pos: Vec::new(),
            neg: Vec::new(),
            preds: Vec::new(),
        };
        if d.fallback {
            out.preds = lazy_truths(enc, m, slot);
        } else {
            let c = m.classes.get(&slot).copied().unwrap_or(0) as usize;
            let class = d.classes.get(c)?;
            for (i, p) in d.compiled.iter().enumerate() {
                if class.atoms.get(i) {
                    out.pos.push(p);
                } else {
                    out.neg.push(p);
                }
            }
        }
        Some(out)
    }

    /// A string of the field's constraints that also matches every pattern of `extra`.
    fn witness_with(&self, extra: &[&Pattern]) -> Option<String> {
        if self.lazy {
            let literals: Vec<automata::Literal<'_>> = self
                .preds
                .iter()
                .map(|(m, t)| (m.as_slice(), *t))
                .chain(extra.iter().map(|p| (std::slice::from_ref(p), true)))
                .collect();
            automata::realize_literals(&literals, &LAZY_LIMITS, 5_000)
                .ok()
                .flatten()
        } else {
            let mut pp = self.pos.clone();
            pp.extend_from_slice(extra);
            automata::find_witness(&pp, &self.neg, &Limits::default())
                .ok()
                .flatten()
        }
    }
}

/// What a variable of an abstracted pattern reads while values are cut ([`cut_jointly`]).
#[derive(Clone)]
enum Reading {
    /// This text (literal, as a substituted value is).
    Text(String),
    /// Any run: a value not chosen yet.
    Any,
    /// Any non-empty run (`?*`).
    NonEmpty,
}

/// The tokens of abstracted pattern `a` with each variable read by `read(key, default)`;
/// `None` when a variable reads nothing (a missing key without a default).
fn tokens_reading(
    a: &crate::symbolic::encode::AbstractAtom,
    read: &dyn Fn(&str, &Option<String>) -> Option<Reading>,
) -> Option<Vec<crate::matching::Tok>> {
    use crate::matching::Tok;
    use crate::model::Piece;
    let mut toks = Vec::new();
    for p in &a.template.pieces {
        match p {
            Piece::Lit(s) => toks.extend(s.chars().map(Tok::Lit)),
            Piece::Star => toks.push(Tok::Run),
            Piece::Quest => toks.push(Tok::One),
            Piece::Var { key, default } => match read(key, default)? {
                Reading::Text(v) => toks.extend(v.chars().map(Tok::Lit)),
                Reading::Any => toks.push(Tok::Run),
                Reading::NonEmpty => toks.extend([Tok::One, Tok::Run]),
            },
        }
    }
    Some(toks)
}

/// The longest string [`cut_jointly`] cuts values from (its substrings are the candidates).
const JOINT_CUT_MAX_CHARS: usize = 160;
/// How many full assignments [`cut_jointly`] tries.
const JOINT_CUT_MAX_TRIES: usize = 4_096;

/// When the true abstracted patterns of one field read two or more variables, their values are
/// cut together out of one string of the field's class that matches all their widened shapes,
/// a string with non-empty values first. Cut apart ([`choose_value_for`]), each from its own
/// string, they may fit no common string
/// (`home/` for `corp/${aws:PrincipalTag/team, 'shared'}/*` beside any user name for
/// `corp/home/${aws:username}/*`), and the refinement loop then ran out of candidates. Only a
/// better candidate: the request is still replayed.
fn choose_variable_values_jointly(enc: &Encoder, m: &Model, ctx: &mut Context) {
    use crate::symbolic::encode::AbstractAtom;
    let truth = |a: &AbstractAtom| m.bools.get(&a.var).copied().unwrap_or(false);
    let mut slots: Vec<usize> = enc
        .abstract_atoms
        .iter()
        .filter(|a| truth(a))
        .map(|a| a.slot)
        .collect();
    slots.sort_unstable();
    slots.dedup();
    for slot in slots {
        let (trues, falses): (Vec<&AbstractAtom>, Vec<&AbstractAtom>) = enc
            .abstract_atoms
            .iter()
            .filter(|a| a.slot == slot)
            .partition(|a| truth(a));
        // (one pattern with one variable: `choose_value_for` cuts it, minding the exact
        // equalities the variable's field takes part in)
        let vars_read = trues.iter().flat_map(|a| a.template.vars()).count();
        if trues.len() < 2 && vars_read < 2 {
            continue;
        }

        // the keys to cut: single-valued, in the request, read on another field
        let mut keys: Vec<(String, usize)> = Vec::new();
        for k in trues.iter().flat_map(|a| a.template.vars()) {
            let Some(info) = enc.keys.get(k) else {
                continue;
            };
            match info.slots.first() {
                Some(&vslot)
                    if !info.multi
                        && vslot != slot
                        && ctx.contains_key(&info.key)
                        && !keys.iter().any(|(x, _)| x == k) =>
                {
                    keys.push((k.to_owned(), vslot));
                }
                _ => {}
            }
        }
        if keys.is_empty() {
            continue;
        }
        let Some(field) = FieldConstraints::of(enc, m, slot) else {
            continue;
        };
        // a string with a non-empty run for each variable reads best; else any
        for nonempty in [true, false] {
            // (a candidate's shape: a variable before an ARN's fifth colon is a run too, though
            // its value could hold a colon; every variable reads something, so none is left out)
            let each = if nonempty {
                Reading::NonEmpty
            } else {
                Reading::Any
            };
            let shapes: Vec<Pattern> = trues
                .iter()
                .filter_map(|a| tokens_reading(a, &|_, _| Some(each.clone())).map(|t| a.pattern(t)))
                .collect();
            let refs: Vec<&Pattern> = shapes.iter().collect();
            let Some(f) = field.witness_with(&refs) else {
                continue;
            };
            if let Some(values) = cut_jointly(enc, m, ctx, &trues, &falses, &keys, &f) {
                for ((k, vslot), y) in keys.iter().zip(values) {
                    if let Some(info) = enc.keys.get(k.as_str()) {
                        ctx.insert(
                            info.key.clone(),
                            CtxValue {
                                key: info.raw.clone(),
                                values: vec![y.clone()],
                                multi: false,
                            },
                        );
                    }
                    set_equal_slots(enc, m, ctx, *vslot, &y);
                }
                break;
            }
        }
    }
}

/// Values for `keys` (in order), each a substring of `f` (in its key's class first), under which
/// every pattern of `trues` matches `f` and no pattern of `falses` does (the request's other variables
/// at their values or defaults); `None` when the bounded search finds none.
fn cut_jointly(
    enc: &Encoder,
    m: &Model,
    ctx: &Context,
    trues: &[&crate::symbolic::encode::AbstractAtom],
    falses: &[&crate::symbolic::encode::AbstractAtom],
    keys: &[(String, usize)],
    f: &str,
) -> Option<Vec<String>> {
    let chars: Vec<char> = f.chars().collect();
    if chars.len() > JOINT_CUT_MAX_CHARS {
        return None;
    }
    let other = |key: &str, default: &Option<String>| -> Option<Reading> {
        single_value(ctx, key)
            .or_else(|| default.clone())
            .map(Reading::Text)
    };
    // candidates per key: the substrings under which each true pattern reading it matches `f`
    // (the other keys to cut read as any run); non-empty ones first, shortest first
    let mut cands: Vec<Vec<String>> = Vec::with_capacity(keys.len());
    for (k, vslot) in keys {
        let readers: Vec<&&crate::symbolic::encode::AbstractAtom> = trues
            .iter()
            .filter(|a| a.template.vars().any(|v| v == k))
            .collect();
        // (a cheap necessary test first: the literal text around the variable in each reader)
        let around: Vec<Around> = readers
            .iter()
            .filter_map(|a| Around::of(&a.template, k, a.ignore_case))
            .collect();
        let mut seen: std::collections::BTreeSet<String> = Default::default();
        // (values outside the class the model chose for the key come last: they may still make
        // a request the evaluator confirms)
        let mut list = Vec::new();
        let mut outside = Vec::new();
        let lens = (1..=chars.len()).chain(std::iter::once(0));
        for len in lens {
            for start in 0..=chars.len() - len {
                let cut = &chars[start..start + len];
                let y: String = cut.iter().collect();
                if !seen.insert(y.clone()) || !around.iter().all(|r| r.admits(&chars, cut)) {
                    continue;
                }
                let ok = readers.iter().all(|a| {
                    tokens_reading(a, &|key, default| {
                        if key == k {
                            Some(Reading::Text(y.clone()))
                        } else if keys.iter().any(|(x, _)| x == key) {
                            Some(Reading::Any)
                        } else {
                            other(key, default)
                        }
                    })
                    .is_some_and(|t| a.pattern(t).is_match(f))
                });
                if !ok {
                    continue;
                }
                // (the class test reads every pattern of the key's field: only for values that match)
                let fits_var = enc
                    .domain_of(*vslot)
                    .is_none_or(|vd| vd.preds.is_empty() || fits_model(enc, m, *vslot, &y));
                if fits_var {
                    list.push(y);
                } else {
                    outside.push(y);
                }
            }
        }
        list.append(&mut outside);
        if list.is_empty() {
            return None;
        }
        cands.push(list);
    }
    // every assignment of the candidates, in order, up to the bound
    let mut idx = vec![0usize; keys.len()];
    for _ in 0..JOINT_CUT_MAX_TRIES {
        let value = |key: &str| {
            keys.iter()
                .position(|(x, _)| x == key)
                .and_then(|i| cands.get(i)?.get(*idx.get(i)?))
                .cloned()
        };
        let read = |key: &str, default: &Option<String>| match value(key) {
            Some(y) => Some(Reading::Text(y)),
            None => other(key, default),
        };
        let holds = |a: &&crate::symbolic::encode::AbstractAtom| {
            tokens_reading(a, &read).is_some_and(|t| a.pattern(t).is_match(f))
        };
        if trues.iter().all(holds) && !falses.iter().any(holds) {
            return Some(keys.iter().filter_map(|(k, _)| value(k)).collect());
        }
        // next assignment (odometer)
        let mut i = 0;
        loop {
            let (Some(x), Some(c)) = (idx.get_mut(i), cands.get(i)) else {
                return None;
            };
            *x += 1;
            if *x < c.len() {
                break;
            }
            *x = 0;
            i += 1;
        }
    }
    None
}

/// The literal text a template puts right around the first occurrence of one variable, and
/// whether that text reaches the template's start (end). In any match of the template with the
/// variable's value `y` substituted, `y` stands in the matched string between those texts:
/// literal tokens match consecutive characters in every mode. [`cut_jointly`] and
/// [`choose_value_for`] test this before compiling a pattern per candidate substring (AWSIdentityCenterExternalManagementPolicy
/// v1→v2 cut 32 strings of 60 characters, 1,830 substrings and compiled patterns each, 0.9 s).
struct Around {
    before: Vec<char>,
    at_start: bool,
    after: Vec<char>,
    at_end: bool,
    ignore_case: bool,
}

impl Around {
    /// Around the first `${key}` of `t` (`None` when `t` does not read `key`).
    fn of(t: &crate::model::Template, key: &str, ignore_case: bool) -> Option<Around> {
        use crate::model::Piece;
        let i = t
            .pieces
            .iter()
            .position(|p| matches!(p, Piece::Var { key: k, .. } if k == key))?;
        let (left, right) = (t.pieces.get(..i)?, t.pieces.get(i + 1..)?);
        // the literal pieces next to the variable: a wildcard or another variable ends them
        let literal = |p: &Piece| matches!(p, Piece::Lit(_));
        let text = |ps: &[Piece]| -> Vec<char> {
            ps.iter()
                .flat_map(|p| match p {
                    Piece::Lit(s) => s.chars().collect(),
                    _ => Vec::new(),
                })
                .collect()
        };
        let from = left.iter().rposition(|p| !literal(p)).map_or(0, |j| j + 1);
        let to = right
            .iter()
            .position(|p| !literal(p))
            .unwrap_or(right.len());
        Some(Around {
            before: text(left.get(from..)?),
            at_start: from == 0,
            after: text(right.get(..to)?),
            at_end: to == right.len(),
            ignore_case,
        })
    }

    /// May `y` stand at some place of `f` between the texts?
    fn admits(&self, f: &[char], y: &[char]) -> bool {
        let same = |a: &[char], b: &[char]| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, z)| {
                    x == z || (self.ignore_case && automata::fold(*x) == automata::fold(*z))
                })
        };
        let (b, m, e) = (self.before.len(), y.len(), self.after.len());
        if b + m + e > f.len() {
            return false;
        }
        (b..=f.len() - m - e).any(|p| {
            (!self.at_start || p == b)
                && (!self.at_end || p + m + e == f.len())
                && f.get(p - b..p).is_some_and(|t| same(t, &self.before))
                && f.get(p..p + m).is_some_and(|t| same(t, y))
                && f.get(p + m..p + m + e)
                    .is_some_and(|t| same(t, &self.after))
        })
    }
}

/// [`choose_variable_values`] for one true abstracted pattern `a`, read as `template` (its
/// variables but `v` fixed).
fn choose_value_for(
    enc: &Encoder,
    m: &Model,
    ctx: &mut Context,
    a: &crate::symbolic::encode::AbstractAtom,
    template: &crate::model::Template,
    v: &str,
) {
    {
        let Some(info) = enc.keys.get(v) else {
            return;
        };
        // (a key the model leaves out stays out: the pattern then reads its default)
        if info.multi || !ctx.contains_key(&info.key) {
            return;
        }
        let Some(&vslot) = info.slots.first() else {
            return;
        };
        let Some(field) = FieldConstraints::of(enc, m, a.slot) else {
            return;
        };
        let witness_with = |extra: &Pattern| field.witness_with(&[extra]);
        let resolved_with = |val: &str| {
            let look = |k: &str| if k == v { Some(val.to_owned()) } else { None };
            template.resolve(&look).map(|toks| a.pattern(toks))
        };
        // the current value works already?
        if let Some(cur) = ctx.get(&info.key).and_then(|cv| cv.values.first()).cloned() {
            if resolved_with(&cur).is_some_and(|p| witness_with(&p).is_some()) {
                return;
            }
        }
        // the variable's preferred values (real accounts for an account key) that lie in its
        // class: the first that lets the field's class match the pattern
        let preferred: Vec<String> = enc
            .domain_of(vslot)
            .map(|vd| {
                vd.prefer
                    .iter()
                    .filter(|y| !vd.preds.is_empty() && fits_model(enc, m, vslot, y))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let works = |y: &str| resolved_with(y).is_some_and(|p| witness_with(&p).is_some());
        if let Some(y) = preferred.iter().take(8).find(|y| works(y)) {
            ctx.insert(
                info.key.clone(),
                CtxValue {
                    key: info.raw.clone(),
                    values: vec![y.clone()],
                    multi: false,
                },
            );
            set_equal_slots(enc, m, ctx, vslot, y);
            return;
        }
        let Some(w) = crate::symbolic::encode::widened(template, a.mode, a.ignore_case) else {
            return;
        };
        let wp = Pattern::compile(&w.spec());
        let Some(f) = witness_with(&wp) else {
            return;
        };
        // cut: the longest value y with f matching the pattern under v = y (substrings that do
        // not stand between the literal text around the variable cannot: skipped first)
        let chars: Vec<char> = f.chars().collect();
        let around = Around::of(template, v, a.ignore_case);
        let mut found: Option<String> = None;
        'cut: for len in (0..=chars.len()).rev() {
            for start in 0..=chars.len() - len {
                let cut = &chars[start..start + len];
                if around.as_ref().is_some_and(|r| !r.admits(&chars, cut)) {
                    continue;
                }
                let y: String = cut.iter().collect();
                let fits_var = enc
                    .domain_of(vslot)
                    .is_none_or(|vd| vd.preds.is_empty() || fits_model(enc, m, vslot, &y));
                if !fits_var {
                    continue;
                }
                if resolved_with(&y).is_some_and(|p| p.is_match(&f)) {
                    found = Some(y);
                    break 'cut;
                }
            }
        }
        if let Some(y) = found {
            ctx.insert(
                info.key.clone(),
                CtxValue {
                    key: info.raw.clone(),
                    values: vec![y.clone()],
                    multi: false,
                },
            );
            set_equal_slots(enc, m, ctx, vslot, &y);
        }
    }
}

/// The slots the model makes equal to `slot` (its true `VarEq` Booleans, transitively) take
/// `slot`'s new value `y` too, as `realize_var_eqs` gave them one value before: a tag cut to
/// `home` for `corp/${aws:PrincipalTag/team}/*` keeps `aws:ResourceTag/team =
/// ${aws:PrincipalTag/team}` true.
fn set_equal_slots(enc: &Encoder, m: &Model, ctx: &mut Context, slot: usize, y: &str) {
    let mut group = vec![slot];
    let mut i = 0;
    while let Some(&s) = group.get(i) {
        i += 1;
        for e in &enc.var_eqs {
            if !m.bools.get(&e.var).copied().unwrap_or(false) {
                continue;
            }
            let other = if e.a == s {
                e.b
            } else if e.b == s {
                e.a
            } else {
                continue;
            };
            if !group.contains(&other) {
                group.push(other);
            }
        }
    }
    for &s in group.iter().skip(1) {
        set_slot_value(enc, ctx, s, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: in a field partitioned except for one group, the lazy class is realised by a
    /// search over every pattern, so its refutations hold for all strings. Here the lazily
    /// realised group alone cannot give the truths the model chose (`role/ab*` without
    /// `role/a*`) but a partitioned string can (`s3:::x/*` alone): the search finds it. A search
    /// over the lazy atoms only would refute the combination, and blocking that for every class
    /// would prove "nothing allowed" falsely. A partitioned class is realised by its witness.
    #[test]
    fn a_lazy_class_search_covers_every_pattern() {
        let pol = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ex:Act", "Resource": [
                "arn:aws:iam::*:role/ab*", "arn:aws:iam::*:role/ab*c*d*", "arn:aws:s3:::x/*"]},
            {"Effect": "Deny", "Action": "*", "Resource": [
                "arn:aws:iam::*:role/a*", "arn:aws:iam::*:role/*c*d*"]},
            {"Effect": "Allow", "Action": "ex:Other", "Resource": [
                "arn:aws:sqs:*:*:q1", "arn:aws:sns:*:*:t1", "arn:aws:kms:*:*:key/k1",
                "arn:aws:ec2:*:*:vpc/v1", "arn:aws:s3:::y/*", "arn:aws:s3:::z/*"]}
        ]});
        let p = crate::parse::parse_policy(
            &iamprove_core::json::Json::from_value(&pol),
            PolicyType::Identity,
            "t",
        )
        .unwrap();
        let side = Side::Identity(vec![p]);
        let stmts = side.statements();
        // a budget small enough that the `role/` group is left out, not the single `s3` atom
        let opts = QueryOptions {
            limits: Limits {
                max_states: 4,
                max_steps: 60,
            },
            ..QueryOptions::default()
        };
        let mut prep = Prepared::new(Frame::of(&[&side]), &stmts, &opts, Vec::new(), |enc| {
            allowed(enc, &side)
        })
        .unwrap();
        // (no candidate strings: the lazy class is realised by search)
        prep.enc.domain_mut(RESOURCE_SLOT).unwrap().prefer.clear();
        let enc = &prep.enc;
        let d = enc.domain_of(RESOURCE_SLOT).unwrap();
        let lazy = d.lazy_class().expect("partly partitioned");
        let pred = |n: usize| d.preds.iter().position(|atoms| atoms.len() == n).unwrap();
        let (allow, deny) = (pred(3), pred(2));
        let s3 = d
            .compiled
            .iter()
            .position(|a| a.is_match("arn:aws:s3:::x/y"))
            .unwrap();
        assert!(!d.lazy_atoms.contains(&s3) && d.lazy_atoms.len() >= 4);
        let model_in = |class: u32| {
            let mut m = Model::default();
            m.classes.insert(RESOURCE_SLOT, class);
            for p in 0..d.preds.len() {
                m.bools
                    .insert(enc.pred_vars[&(RESOURCE_SLOT, p)], p == allow && p != deny);
            }
            m
        };
        let mut m = model_in(lazy);
        assert!(matches!(realize_lazy(enc, &mut m), Lazy::Done));
        assert!(m.strings[&RESOURCE_SLOT].starts_with("arn:aws:s3:::x/"));
        let class = d
            .classes
            .iter()
            .position(|c| c.preds[allow] && !c.preds[deny])
            .unwrap() as u32;
        let mut m = model_in(class);
        assert!(matches!(realize_lazy(enc, &mut m), Lazy::Done));
        assert!(m.strings[&RESOURCE_SLOT].starts_with("arn:aws:s3:::x/"));
    }

    /// `Around::admits` is a necessary condition: whenever a template with the value `y`
    /// substituted (the other variable read as any run) matches `f`, it admits `y` in `f`.
    /// Random templates over `a`, `b`, `/`, `*`, `?` and two variables, in `Plain` and
    /// `Resource` modes and ignoring case; every string up to four characters, every substring.
    #[test]
    fn literal_text_around_a_variable_never_rejects_a_value_that_matches() {
        use crate::matching::{Kind, Mode};
        use crate::symbolic::encode::AbstractAtom;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as usize
        };
        let parts = ["a", "b", "/", "*", "?", "${x}", "${x}", "${z}", "A"];
        let alphabet = ['a', 'b', '/', 'A'];
        let (mut tried, mut rejected) = (0usize, 0usize);
        for round in 0..150 {
            let mut text = String::new();
            for _ in 0..1 + next(5) {
                text.push_str(parts[next(parts.len() as u64)]);
            }
            if !text.contains("${x}") {
                text.push_str("${x}");
            }
            let (mode, kind, prefix) = if round % 2 == 0 {
                (Mode::Plain, Kind::Like, "")
            } else {
                (Mode::Resource, Kind::Resource, "arn:aws:s3:::")
            };
            let a = AbstractAtom {
                var: 0,
                slot: 0,
                template: crate::parse::template(&format!("{prefix}{text}"), kind, true).unwrap(),
                mode,
                ignore_case: round % 3 == 0,
            };
            let around = Around::of(&a.template, "x", a.ignore_case).unwrap();
            for len in 0..=4u32 {
                for code in 0..4usize.pow(len) {
                    let mut c = code;
                    let body: String = (0..len)
                        .map(|_| {
                            let ch = alphabet[c % 4];
                            c /= 4;
                            ch
                        })
                        .collect();
                    let f: Vec<char> = format!("{prefix}{body}").chars().collect();
                    let fs: String = f.iter().collect();
                    for i in 0..=f.len() {
                        for j in i..=f.len() {
                            let y: String = f[i..j].iter().collect();
                            let toks = tokens_reading(&a, &|key, _| {
                                Some(if key == "x" {
                                    Reading::Text(y.clone())
                                } else {
                                    Reading::Any
                                })
                            })
                            .unwrap();
                            let matches = a.pattern(toks).is_match(&fs);
                            let admitted = around.admits(&f, &f[i..j]);
                            assert!(
                                !matches || admitted,
                                "{} rejects {y:?} in {fs:?}",
                                a.template.raw
                            );
                            tried += 1;
                            rejected += usize::from(!admitted);
                        }
                    }
                }
            }
        }
        // and it is a test that rejects: most substrings are not the variable's value
        assert!(rejected * 2 > tried, "{rejected} of {tried}");
    }
}
