//! Questions over patterns, answered by the solver (issue 10).
//!
//! A [`Question`] is a statement-like pattern (`Action`/`NotAction`, `Resource`/`NotResource`,
//! `Condition`): "is *any* request matching it allowed?". For one principal the question is split
//! into *worlds*, one per set of policies that can decide a request:
//!
//! * the **generic** world: the principal's identity policies, boundary, SCP path, and the RCPs of
//!   the resource's account, for any resource that has no resource policy we know of (split once
//!   more per account whose RCPs differ);
//! * one world per **resource policy** from `--resource-policies` (the resource pinned to its ARN;
//!   an ARN without an account, such as an S3 bucket's, belongs to the analysed account);
//! * one world per **loaded role** whose trust policy names the principal, for `sts:` actions on
//!   that role's ARN (the trust policy is the role's resource policy).
//!
//! Each world is one query through [`crate::query::Prepared`] with the principal fixed. Pass 1
//! pins the baseline context ([`super::Env::baseline_context`]: the principal's facts and defaults
//! for the moment, region and transport); a witness there is **yes**. Pass 2 pins only what we know
//! about the principal (its tags, its organisation when `--org` says) and leaves every other
//! context key free, the moment included; a witness there is **only under conditions**, listed
//! with the policy conditions that asked for them. No witness in any world, with every query
//! answered, is a proof of **no**. Every witness is replayed through the evaluator with the
//! world's scenario before it is reported.
//!
//! Principals of accounts we do not have (external nodes) act only on resources of the loaded
//! accounts: whatever their own account allows them, they reach this account only through what
//! its policies grant.

use super::conditions::{describe, CondReq};
use super::{Env, NodeKind, Step, Verdict};
use crate::eval::{evaluate, Applies, Decision, Matcher};
use crate::matching::Mode;
use crate::model::{ActionElem, Effect, Policy, PolicyType};
use crate::query::{Frame, QueryOptions, Solved};
use crate::request::{Context, PrincipalKind, Request};
use crate::scenario::Scenario;
use crate::symbolic::encode::{AtomKey, Encoder, ACTION_SLOT, RESOURCE_SLOT};
use crate::symbolic::term::{and, konst, not, or, T};
use crate::verdict::UnknownReason;
use crate::verify::{verify, Property, RequestPattern, Verification, Within};

/// A pattern question: one Allow statement whose elements are the patterns.
#[derive(Debug, Clone)]
pub struct Question {
    /// The statement's `Action`, `Resource` and `Condition` are the question's patterns.
    pub pattern: Policy,
}

impl Question {
    /// `ACTION` and `RESOURCE` as given on the command line (policy pattern language).
    pub fn new(actions: &[String], resources: &[String]) -> Result<Question, String> {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
        });
        let pattern =
            crate::parse::parse_policy_text(&doc.to_string(), PolicyType::Identity, "question")
                .map_err(|e| {
                    e.iter()
                        .map(|x| format!("{}: {}", x.path, x.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                })?;
        Ok(Question { pattern })
    }

    /// A question from a policy whose one Allow statement holds the patterns.
    pub fn from_policy(pattern: Policy) -> Question {
        Question { pattern }
    }

    fn action(&self) -> Option<&ActionElem> {
        self.pattern.statements.first().map(|s| &s.action)
    }

    /// Does the question cover this concrete request (action, resource, conditions)?
    pub fn covers(&self, req: &Request) -> bool {
        let m = Matcher::new(req);
        self.pattern
            .statements
            .first()
            .is_some_and(|s| matches!(m.applies(&self.pattern, s), Applies::Yes(_)))
    }
}

/// Could the question's actions be `sts:` actions?
fn may_be_sts(q: &Question) -> bool {
    let sts = crate::matching::tokens("sts:*", true);
    q.action().is_none_or(|a| {
        a.negated
            || a.patterns
                .iter()
                .any(|p| crate::matching::globs_intersect(&p.toks, &sts))
    })
}

/// Where a world's requests live.
#[derive(Debug, Clone)]
enum Restrict {
    /// Any resource without a known resource policy, in the given account (`None`: in none of
    /// `rcp_accounts`).
    Generic {
        account: Option<String>,
        rcp_accounts: Vec<String>,
        excluded: Vec<String>,
        /// `sts:` actions on these roles belong to their own worlds (`require` only).
        sts_roles: Vec<String>,
    },
    /// Exactly this resource (with its resource policy).
    Literal(String),
    /// `sts:` actions on this role.
    Role(String),
}

struct World {
    /// The world's full scenario: witnesses are replayed (and explained) in it.
    sc: Scenario,
    /// The same scenario with only the identity, boundary and session statements whose Action
    /// may match the question's ([`question_scenario`]): what the solver is given. For requests
    /// matching the question the evaluator decides both alike (a statement whose Action matches
    /// none of them never applies), and it is what makes principals with the same
    /// [`share_key`] ask literally the same question.
    qsc: Scenario,
    resource_account: Option<String>,
    restrict: Restrict,
    /// Resource accounts allowed (external principals: the loaded accounts only).
    loaded_only: Option<Vec<String>>,
    /// The session name the principal (a role) acts under in this world: the one a trust
    /// policy names in an `assumed-role` ARN of it (whoever assumes the role picks the name);
    /// `None`: the default session.
    session: Option<String>,
    label: String,
}

fn acct_pred(enc: &mut Encoder, acct: &str) -> T {
    enc.pred_of(
        RESOURCE_SLOT,
        vec![AtomKey::glob(&format!("arn:*:*:*:{acct}:*"), Mode::Arn)],
    )
}

/// The encoder's reading of "the resource's account is `acct`" (mirrors `Request::new`).
fn in_account(enc: &mut Encoder, acct: &str, principal_account: &str) -> T {
    let has = enc.pred_of(
        RESOURCE_SLOT,
        vec![AtomKey::glob("arn:*:*:*:?*:*", Mode::Arn)],
    );
    let a = acct_pred(enc, acct);
    or([a, and([not(has), konst(acct == principal_account)])])
}

impl World {
    fn restrict_term(&self, enc: &mut Encoder, principal_account: &str) -> T {
        let mut parts = Vec::new();
        match &self.restrict {
            Restrict::Generic {
                account,
                rcp_accounts,
                excluded,
                sts_roles,
            } => {
                for r in sts_roles {
                    let t = enc.pred_of(RESOURCE_SLOT, vec![AtomKey::literal(r)]);
                    let sts = enc.pred_of(ACTION_SLOT, vec![AtomKey::glob("sts:*", Mode::Plain)]);
                    parts.push(not(and([t, sts])));
                }
                match account {
                    Some(a) => parts.push(in_account(enc, a, principal_account)),
                    None => {
                        for a in rcp_accounts {
                            let t = in_account(enc, a, principal_account);
                            parts.push(not(t));
                        }
                    }
                }
                for r in excluded {
                    let t = enc.pred_of(RESOURCE_SLOT, vec![AtomKey::literal(r)]);
                    parts.push(not(t));
                }
            }
            Restrict::Literal(r) => {
                parts.push(enc.pred_of(RESOURCE_SLOT, vec![AtomKey::literal(r)]));
            }
            Restrict::Role(r) => {
                parts.push(enc.pred_of(RESOURCE_SLOT, vec![AtomKey::literal(r)]));
                parts.push(enc.pred_of(ACTION_SLOT, vec![AtomKey::glob("sts:*", Mode::Plain)]));
            }
        }
        if let Some(loaded) = &self.loaded_only {
            let ts: Vec<T> = loaded.iter().map(|a| acct_pred(enc, a)).collect();
            parts.push(or(ts));
        }
        and(parts)
    }

    fn restrict_ok(&self, req: &Request) -> bool {
        let ok = match &self.restrict {
            Restrict::Generic {
                account,
                rcp_accounts,
                excluded,
                sts_roles,
            } => {
                (match account {
                    Some(a) => &req.resource_account == a,
                    None => !rcp_accounts.contains(&req.resource_account),
                }) && !excluded.contains(&req.resource)
                    && !(sts_roles.contains(&req.resource)
                        && req.action.to_lowercase().starts_with("sts:"))
            }
            Restrict::Literal(r) => &req.resource == r,
            Restrict::Role(r) => {
                &req.resource == r && req.action.to_lowercase().starts_with("sts:")
            }
        };
        ok && self
            .loaded_only
            .as_ref()
            .is_none_or(|l| l.contains(&req.resource_account))
    }
}

/// The answer for one principal acting directly (no role chain).
#[derive(Debug, Clone)]
pub struct Direct {
    /// The answer.
    pub verdict: Verdict,
    /// The replayed witness request behind `step`.
    pub request: Option<Request>,
    /// The witness step (for yes / only-under-conditions).
    pub step: Option<Step>,
    /// Why, for no and unknown.
    pub why: Option<String>,
}

/// `p` with only the statements whose Action may match the question's action element.
fn relevant_policy(p: &Policy, qa: Option<&ActionElem>) -> Policy {
    let mut p = p.clone();
    p.statements
        .retain(|s| qa.is_none_or(|qa| s.action.may_overlap(qa)));
    p
}

/// The part of `sc` the question can read: identity policies, permissions boundary and session
/// policies keep only the statements whose Action may match the question's (`ActionElem::may_overlap`:
/// exact up to "may"); an identity policy left empty is dropped (identity policies are a union),
/// a boundary or session policy left empty is kept (it then allows no matching request, as
/// before). SCPs, RCPs and the resource policy are the same for every principal of an account
/// and are kept whole.
fn question_scenario(sc: &Scenario, q: &Question) -> Scenario {
    let qa = q.action();
    // every field named, so a field added to `Scenario` is a compile error here, not a silent drop
    Scenario {
        request: sc.request.clone(),
        identity_policies: sc
            .identity_policies
            .iter()
            .map(|p| relevant_policy(p, qa))
            .filter(|p| !p.statements.is_empty())
            .collect(),
        permissions_boundary: sc
            .permissions_boundary
            .as_ref()
            .map(|p| relevant_policy(p, qa)),
        session_policies: sc
            .session_policies
            .iter()
            .map(|p| relevant_policy(p, qa))
            .collect(),
        scps: sc.scps.clone(),
        rcps: sc.rcps.clone(),
        resource_policy: sc.resource_policy.clone(),
        vpc_endpoint_policy: sc.vpc_endpoint_policy.clone(),
        management_account: sc.management_account.clone(),
    }
}

/// The worlds of principal `n` for `q`. With `all` (for `require`), the worlds cover every
/// matching request: the generic worlds are kept even when no identity statement may allow the
/// question, and leave `sts:` requests on the roles that have their own world to those worlds.
/// The key policy AWS gives a KMS key by default: the key's account may use it through IAM
/// policies (`Principal` its root, `kms:*`). Assumed for keys whose policy is not loaded.
fn default_key_policy(account: &str) -> Option<crate::model::Policy> {
    // the account is quoted by serde_json, so no account text can make the document unreadable
    // (which would silently fall back to the strict reading)
    let root = serde_json::Value::String(format!("arn:aws:iam::{account}:root"));
    let text = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "AssumedDefaultKeyPolicy", "Effect": "Allow", "Principal": {{"AWS": {root}}}, "Action": "kms:*", "Resource": "*"}}]}}"#
    );
    crate::parse::parse_policy_text(
        &text,
        crate::model::PolicyType::Resource,
        "AWS's default key policy (assumed: the key's policy is not loaded)",
    )
    .ok()
}

fn worlds(env: &Env, n: usize, q: &Question, all: bool) -> Vec<World> {
    let node = &env.nodes[n];
    let base = env.scenario_of(n);
    let principal = env.principal_of(n, None);
    let loaded: Vec<String> = env.accounts.iter().map(|a| a.id.clone()).collect();
    let main = env.main_account().id.clone();
    let loaded_only = node.kind.is_outside().then(|| loaded.clone());
    let mut out = Vec::new();
    // accounts whose RCPs differ from "none"
    let rcp_accounts: Vec<String> = env
        .org
        .as_ref()
        .map(|o| {
            o.accounts
                .iter()
                .filter(|(_, l)| !l.1.is_empty())
                .map(|(a, _)| a.clone())
                .collect()
        })
        .unwrap_or_default();
    let excluded: Vec<String> = env.resource_policies.keys().cloned().collect();
    // `require` (all) reads strictly: a role trusting only a named session of this principal
    // does not count as trusting it (its sts: requests stay in the generic world, denied)
    let trusting = if may_be_sts(q) {
        trusting_roles(env, n, &principal, !all)
    } else {
        Vec::new()
    };
    let sts_roles: Vec<String> = if all {
        trusting
            .iter()
            .filter_map(|(m, _)| env.role(*m).map(|r| r.arn.clone()))
            .collect()
    } else {
        Vec::new()
    };
    // generic worlds: an external principal's generic world grants it nothing in our accounts
    // (cross-account needs a resource policy), so it is skipped
    if !node.kind.is_outside() {
        let q_action = q.action();
        let identity = &base.identity_policies;
        let may = identity.iter().any(|p| {
            p.statements.iter().any(|s| {
                s.effect == Effect::Allow && q_action.is_none_or(|qa| s.action.may_overlap(qa))
            })
        });
        if may || all {
            let mut accts: Vec<Option<String>> = rcp_accounts.iter().cloned().map(Some).collect();
            accts.push(None);
            // A KMS key is STRICT (its key policy must grant). A key whose policy is not loaded
            // may have AWS's default key policy, which delegates to IAM in its account: when
            // looking for allowed requests (forbid, can, who-can) that policy is assumed, so a
            // missing key policy never proves a denial. `require` (looking for denied requests)
            // keeps the strict reading, so neither answer rests on a guess in its favour.
            let assumed_key_policy = if all {
                None
            } else {
                default_key_policy(&principal.account)
            };
            for a in accts {
                let mut sc = base.clone();
                sc.rcps = match &a {
                    Some(a) => env.rcps_for(a),
                    None => Vec::new(),
                };
                if sc.resource_policy.is_none() {
                    sc.resource_policy = assumed_key_policy.clone();
                }
                out.push(World {
                    qsc: question_scenario(&sc, q),
                    sc,
                    resource_account: None,
                    restrict: Restrict::Generic {
                        account: a.clone(),
                        rcp_accounts: rcp_accounts.clone(),
                        excluded: excluded.clone(),
                        sts_roles: sts_roles.clone(),
                    },
                    loaded_only: loaded_only.clone(),
                    session: None,
                    label: match (a, all) {
                        (Some(a), false) => format!("resources of account {a} (KMS keys: AWS's default key policy assumed)"),
                        (Some(a), true) => format!("resources of account {a}"),
                        (None, false) => "resources without a loaded resource policy (KMS keys: AWS's default key policy assumed)".into(),
                        (None, true) => "resources without a resource policy".into(),
                    },
                });
            }
        }
    }
    // resource policies
    for (r, pol) in &env.resource_policies {
        let acct = crate::request::resource_account_of(r).unwrap_or_else(|| main.clone());
        let mut sc = base.clone();
        sc.resource_policy = Some(pol.clone());
        sc.rcps = env.rcps_for(&acct);
        out.push(World {
            qsc: question_scenario(&sc, q),
            sc,
            resource_account: Some(acct),
            restrict: Restrict::Literal(r.clone()),
            loaded_only: loaded_only.clone(),
            session: None,
            label: format!("resource policy of {r}"),
        });
    }
    // roles whose trust policy names the principal
    {
        for (m, session) in trusting {
            let other = &env.nodes[m];
            let Some(role) = env.role(m) else { continue };
            let mut sc = base.clone();
            sc.resource_policy = Some(role.trust.clone());
            sc.rcps = env.rcps_for(&other.account);
            out.push(World {
                qsc: question_scenario(&sc, q),
                sc,
                resource_account: Some(other.account.clone()),
                restrict: Restrict::Role(role.arn.clone()),
                loaded_only: loaded_only.clone(),
                label: match &session {
                    Some(s) => format!("trust policy of {} (as session `{s}`)", role.arn),
                    None => format!("trust policy of {}", role.arn),
                },
                session,
            });
        }
    }
    out
}

/// Loaded roles whose trust policy has an Allow statement naming `principal` (node `n`), with
/// the session name it must act under: `None` when the statement names the principal as it is;
/// with `sessions`, also each session name an `assumed-role` ARN of role `n` names in the
/// statement (whoever assumed `n` chose the session name, so every named one is reachable).
fn trusting_roles(
    env: &Env,
    n: usize,
    principal: &crate::request::Principal,
    sessions: bool,
) -> Vec<(usize, Option<String>)> {
    let grants = |s: &crate::model::Statement, p: &crate::request::Principal| {
        s.effect == Effect::Allow
            && s.principal.as_ref().is_some_and(|pe| {
                if pe.negated {
                    !crate::rules::not_principal_excludes(&pe.entries, p)
                } else {
                    crate::rules::principal_grant(&pe.entries, p).is_some()
                }
            })
    };
    let mut out = Vec::new();
    for m in 0..env.nodes.len() {
        let Some(role) = env.role(m) else { continue };
        if role.trust.statements.iter().any(|s| grants(s, principal)) {
            out.push((m, None));
            continue;
        }
        if !sessions || env.nodes[n].kind != NodeKind::Role {
            continue;
        }
        let mut names: Vec<String> = Vec::new();
        for s in &role.trust.statements {
            let Some(pe) = s.principal.as_ref().filter(|pe| !pe.negated) else {
                continue;
            };
            for e in &pe.entries {
                if let crate::model::PrincipalEntry::Arn(a) = e {
                    if let Some(name) = session_of(env, n, a) {
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
            }
        }
        for name in names {
            let p = env.principal_of(n, Some(&name));
            if role.trust.statements.iter().any(|s| grants(s, &p)) {
                out.push((m, Some(name)));
                break;
            }
        }
    }
    out
}

/// The session name of `arn` when it is an `assumed-role` ARN of role node `n`
/// (`arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE-NAME/SESSION`, the role's name without its path).
fn session_of(env: &Env, n: usize, arn: &str) -> Option<String> {
    let node = &env.nodes[n];
    let (head, rest) = arn.split_once(":assumed-role/")?;
    let (role_name, session) = rest.split_once('/')?;
    let name = env.role(n)?.name.as_str();
    let account = head.rsplit(':').next()?;
    (account == node.account && role_name == name && !session.is_empty())
        .then(|| session.to_owned())
}

/// Principal facts pinned in pass 2: tags, organisation.
fn facts(env: &Env, n: usize) -> Context {
    env.baseline_context(n)
        .into_iter()
        .filter(|(k, _)| k.starts_with("aws:principaltag/") || k == "aws:principalorgid")
        .collect()
}

/// How a world is asked.
#[derive(Clone, Copy, Default)]
struct Ask<'a> {
    /// Pass 1: no context key beyond the pinned ones (and `free`).
    closed: bool,
    /// Look for a matching request that is *not* allowed (`require`).
    denied: bool,
    /// Keys that stay free even in a closed pass (those the question's `Condition` tests, for
    /// `require`; a federated caller's claims).
    free: &'a [String],
}

fn run_world(
    env: &Env,
    n: usize,
    q: &Question,
    w: &World,
    ctx: &Context,
    ask: Ask,
    opts: &QueryOptions,
) -> Solved {
    let closed = ask.closed;
    let principal = env.principal_of(n, w.session.as_deref());
    let pacct = principal.account.clone();
    let frame = Frame {
        identity_only: false,
        principal: Some(principal.clone()),
        context: ctx.clone(),
        resource_account: w.resource_account.clone(),
    };
    // the solver is given the statements that may match the question (`World::qsc`); the
    // evaluator replays every witness in the world's full scenario (`World::sc`)
    let mut sc = w.qsc.clone();
    sc.request = Some(Request::new(
        principal,
        "iamprove:probe",
        "*",
        None,
        ctx.clone(),
    ));
    // keys we know to be absent for this principal: tags it does not have; its organisation
    // when the organisation is loaded
    // closed (pass 1): no key beyond the pinned ones
    let derived: Vec<&str> = sc
        .request
        .as_ref()
        .map(|r| r.principal.derived_keys().iter().map(|(k, _)| *k).collect())
        .unwrap_or_default();
    // a federated caller's token or assertion claims are whatever its provider issues: free in
    // every pass (the conditions that test them are printed with the answer)
    let claims = match &sc.request.as_ref().map(|r| &r.principal.kind) {
        Some(PrincipalKind::WebIdentity { provider }) => Some(provider.to_lowercase()),
        Some(PrincipalKind::Saml { .. }) => Some(String::new()),
        _ => None,
    };
    let is_claim = |k: &str| match &claims {
        Some(p) if p.is_empty() => crate::request::is_saml_key(k),
        Some(p) => crate::request::claim_key_provider(k).as_deref() == Some(p.as_str()),
        None => false,
    };
    let known_absent = |k: &str| {
        !ctx.contains_key(k)
            && !derived.contains(&k)
            && !ask.free.iter().any(|f| f == k)
            && !is_claim(k)
            && (closed
                || k.starts_with("aws:principaltag/")
                || (k == "aws:principalorgid" && env.org.is_some()))
    };
    let bounds = Bounds {
        world: w,
        principal_account: &pacct,
        ctx,
        known_absent: &known_absent,
    };
    // the question is the verifier's `Reach` property: the solver gets the reduced scenario
    // (`World::qsc`), and every witness is replayed in the world's full scenario (`World::sc`)
    let property = Property::Reach {
        scenario: &w.sc,
        query: &sc,
        frame: &frame,
        pattern: RequestPattern {
            pattern: &q.pattern,
            principal: None,
            not_principal: &[],
        },
        within: &bounds,
        denied: ask.denied,
    };
    match verify(property, opts) {
        Verification::Proved => Solved::None,
        Verification::Counterexample { request, model } => Solved::Found { request, model },
        Verification::Unknown(r) => Solved::Unknown(UnknownReason::Limit(r)),
        Verification::Disagreement(d) => Solved::Unknown(UnknownReason::Internal(d)),
    }
}

/// A world's bounds for the verifier: where its requests live ([`World::restrict_term`] and
/// [`World::restrict_ok`]), the context keys known absent, and the pinned context values.
struct Bounds<'a> {
    world: &'a World,
    principal_account: &'a str,
    ctx: &'a Context,
    known_absent: &'a dyn Fn(&str) -> bool,
}

impl Within for Bounds<'_> {
    fn encode(&self, enc: &mut Encoder) -> T {
        let mut parts = vec![self.world.restrict_term(enc, self.principal_account)];
        let absent: Vec<String> = enc
            .keys
            .keys()
            .filter(|k| (self.known_absent)(k))
            .cloned()
            .collect();
        for k in absent {
            let t = enc.present(&k);
            parts.push(not(t));
        }
        and(parts)
    }

    fn holds(&self, r: &Request) -> bool {
        self.world.restrict_ok(r)
            && !r.context.keys().any(|k| (self.known_absent)(k))
            && self.ctx.iter().all(|(k, v)| r.context.get(k) == Some(v))
    }
}

/// Cheap first try for pass 1: concrete requests built from the world's own Allow statements
/// (their literal actions or catalog actions matching their patterns, their resources with
/// wildcards filled in), each checked by the evaluator exactly like a solver witness. Finding
/// one is a witness; finding none proves nothing (the solver is asked next).
fn quick_yes(env: &Env, n: usize, q: &Question, w: &World, ctx: &Context) -> Option<Request> {
    const PER_PATTERN: usize = 3;
    const BUDGET: usize = 400;
    let fill = |t: &str| -> String { t.replace(['*', '?'], "x") };
    let mut actions: Vec<String> = Vec::new();
    let mut resources: Vec<String> = Vec::new();
    match &w.restrict {
        Restrict::Literal(r) | Restrict::Role(r) => resources.push(r.clone()),
        Restrict::Generic { .. } => {}
    }
    let mut stmts: Vec<&crate::model::Statement> =
        w.sc.identity_policies
            .iter()
            .chain(w.sc.resource_policy.iter())
            .flat_map(|p| p.statements.iter())
            .filter(|s| s.effect == Effect::Allow)
            .collect();
    stmts.extend(q.pattern.statements.iter());
    for s in &stmts {
        if !s.action.negated {
            for p in &s.action.patterns {
                if !p.lower.contains('*') && !p.lower.contains('?') {
                    actions.push(p.lower.clone());
                } else if let Some((svc, _)) = p.lower.split_once(':') {
                    if !svc.contains('*') && !svc.contains('?') {
                        actions.extend(
                            crate::catalog_hint::service_actions(svc)
                                .into_iter()
                                .filter(|a| p.matches_lower(a))
                                .take(PER_PATTERN)
                                .map(str::to_owned),
                        );
                    }
                }
            }
        }
        if matches!(w.restrict, Restrict::Generic { .. }) {
            if let Some(r) = s.resource.as_ref().filter(|r| !r.negated) {
                for t in &r.patterns {
                    if !t.has_vars() {
                        resources.push(fill(&t.raw));
                    }
                }
            }
        }
    }
    if matches!(w.restrict, Restrict::Generic { .. }) {
        resources.push("*".into());
    }
    actions.sort();
    actions.dedup();
    resources.sort();
    resources.dedup();
    let principal = env.principal_of(n, w.session.as_deref());
    let mut tries = 0;
    for a in &actions {
        // the catalog lookup once per action, not per (action, resource)
        let shown = crate::catalog_hint::display_action(a);
        for r in &resources {
            tries += 1;
            if tries > BUDGET {
                return None;
            }
            let req = Request::new(
                principal.clone(),
                &shown,
                r,
                w.resource_account.as_deref(),
                ctx.clone(),
            );
            if w.restrict_ok(&req)
                && q.covers(&req)
                && evaluate(&w.sc, &req).decision == Decision::Allow
            {
                return Some(req);
            }
        }
    }
    None
}

/// Does any policy of the world (or the question) have a condition or a policy variable (whose
/// value may come from a free context key)?
fn has_conditions(w: &World, q: &Question) -> bool {
    w.qsc
        .all_policies()
        .into_iter()
        .chain(std::iter::once(&q.pattern))
        .any(|p| {
            p.statements.iter().any(|s| {
                !s.conditions.is_empty()
                    || s.resource
                        .as_ref()
                        .is_some_and(|r| r.patterns.iter().any(|t| t.has_vars()))
            })
        })
}

/// Conditions a pass-2 witness needed: keys it sets differently from the baseline, with the
/// policy conditions (of statements that apply to it, conditions aside) that test them.
fn needed_conditions(sc: &Scenario, req: &Request, baseline: &Context) -> Vec<CondReq> {
    let mut keys: Vec<String> = Vec::new();
    for (k, v) in &req.context {
        if baseline.get(k) != Some(v) {
            keys.push(k.clone());
        }
    }
    for k in baseline.keys() {
        if !req.context.contains_key(k) {
            keys.push(k.clone());
        }
    }
    let m = Matcher::new(req);
    let mut out = Vec::new();
    for k in keys {
        let mut because = Vec::new();
        for pol in sc.all_policies() {
            for s in &pol.statements {
                if !s.conditions.iter().any(|c| c.key == k) {
                    continue;
                }
                let mut bare = s.clone();
                bare.conditions.clear();
                if !matches!(m.applies(pol, &bare), Applies::Yes(_)) {
                    continue;
                }
                for c in s.conditions.iter().filter(|c| c.key == k) {
                    let d = describe(c, pol, s);
                    if !because.contains(&d) {
                        because.push(d);
                    }
                }
            }
        }
        if because.is_empty() {
            continue;
        }
        let (raw, value) = match req.context.get(&k) {
            Some(cv) => (cv.key.clone(), Some(cv.values.clone())),
            None => (
                baseline.get(&k).map(|c| c.key.clone()).unwrap_or(k.clone()),
                None,
            ),
        };
        out.push(CondReq {
            key: raw,
            value,
            because,
        });
    }
    out
}

/// The first step of [`direct`]: a witness built from the worlds' own patterns ([`quick_yes`]),
/// replayed by the evaluator, before any solver call.
fn quick_direct(
    env: &Env,
    n: usize,
    q: &Question,
    ws: &[World],
    baseline: &Context,
) -> Option<Direct> {
    ws.iter().find_map(|w| {
        let request = quick_yes(env, n, q, w, baseline)?;
        let ev = crate::eval::explain(&w.sc, &request);
        Some(Direct {
            verdict: Verdict::Yes,
            request: Some(request.clone()),
            step: Some(Step {
                principal: env.nodes[n].arn.clone(),
                action: request.action.clone(),
                resource: request.resource.clone(),
                session_name: w.session.clone(),
                statements: ev.statements,
                conditions: Vec::new(),
            }),
            why: None,
        })
    })
}

/// Does principal `n` (acting directly) have any request matching `q` allowed?
pub fn direct(env: &Env, n: usize, q: &Question, opts: &QueryOptions) -> Direct {
    let ws = worlds(env, n, q, false);
    if ws.is_empty() {
        return Direct {
            verdict: Verdict::No,
            request: None,
            step: None,
            why: None,
        };
    }
    let baseline = env.baseline_context(n);
    // a witness built from the policies' own patterns, before any solver call
    if let Some(d) = quick_direct(env, n, q, &ws, &baseline) {
        return d;
    }
    let fact = facts(env, n);
    let mut unknown: Option<String> = None;
    for (pass, ctx) in [(1, &baseline), (2, &fact)] {
        for w in &ws {
            // without any condition, the context cannot change the answer of pass 1
            if pass == 2 && !has_conditions(w, q) {
                continue;
            }
            let ask = Ask {
                closed: pass == 1,
                ..Ask::default()
            };
            match run_world(env, n, q, w, ctx, ask, opts) {
                Solved::Found { request, .. } => {
                    let ev = crate::eval::explain(&w.sc, &request);
                    let conditions = if pass == 1 && env.nodes[n].kind != NodeKind::Federated {
                        Vec::new()
                    } else {
                        needed_conditions(&w.sc, &request, &baseline)
                    };
                    let yes = pass == 1 && conditions.is_empty();
                    let step = Step {
                        principal: env.nodes[n].arn.clone(),
                        action: request.action.clone(),
                        resource: request.resource.clone(),
                        session_name: w.session.clone(),
                        statements: ev.statements,
                        conditions,
                    };
                    return Direct {
                        request: Some(request.clone()),
                        verdict: if yes {
                            Verdict::Yes
                        } else {
                            Verdict::OnlyUnderConditions
                        },
                        step: Some(step),
                        why: None,
                    };
                }
                Solved::None => {}
                Solved::Unknown(r) => {
                    if unknown.is_none() {
                        unknown = Some(format!("{}: {r}", w.label));
                    }
                }
            }
        }
    }
    Direct {
        request: None,
        verdict: if unknown.is_some() {
            Verdict::Unknown
        } else {
            Verdict::No
        },
        step: None,
        why: unknown,
    }
}

/// A request matching `q` that principal `n`'s identity policies alone allow (context free but
/// for the principal's facts), with the evaluation of that request in the principal's full
/// generic scenario (for "no" explanations).
pub(crate) fn identity_witness(
    env: &Env,
    n: usize,
    q: &Question,
) -> Result<Option<(Request, crate::eval::Evaluation)>, String> {
    let mut only = Scenario::empty();
    only.identity_policies = env.scenario_of(n).identity_policies;
    let w = World {
        qsc: question_scenario(&only, q),
        sc: only,
        resource_account: None,
        restrict: Restrict::Generic {
            account: None,
            rcp_accounts: Vec::new(),
            excluded: Vec::new(),
            sts_roles: Vec::new(),
        },
        loaded_only: None,
        session: None,
        label: "identity policies alone".into(),
    };
    match run_world(
        env,
        n,
        q,
        &w,
        &facts(env, n),
        Ask::default(),
        &QueryOptions::default(),
    ) {
        Solved::Found { request, .. } => {
            let mut full = env.scenario_of(n);
            full.rcps = env.rcps_for(&request.resource_account);
            full.resource_policy = env.resource_policies.get(&request.resource).cloned();
            let ev = crate::eval::explain(&full, &request);
            Ok(Some((request, ev)))
        }
        Solved::None => Ok(None),
        Solved::Unknown(r) => Err(r.to_string()),
    }
}

/// Principals with the same key get the same answer to `q`, up to the principal's name: same
/// kind, account and service-linked status, the same identity and boundary statements (by
/// content) among those whose Action may match the question's, only generic worlds (no resource policies, no `sts:` question), and no policy or question
/// that can see the principal's name (no policy variables, no condition on `aws:principal*`,
/// `aws:user*`). `None`: answer this principal on its own.
pub fn share_key(env: &Env, n: usize, q: &Question) -> Option<String> {
    let node = &env.nodes[n];
    if node.kind.is_outside() || !env.resource_policies.is_empty() || may_be_sts(q) {
        return None;
    }
    let sc = env.scenario_of(n);
    let sees_principal = |p: &Policy| {
        p.statements.iter().any(|s| {
            s.principal.is_some()
                || s.conditions.iter().any(|c| {
                    c.key.starts_with("aws:principal")
                        || c.key.starts_with("aws:user")
                        || c.key.contains("${")
                        || matches!(&c.values, crate::model::CondValues::Str(ts) if ts.iter().any(|t| t.has_vars()))
                })
                || s
                    .resource
                    .as_ref()
                    .is_some_and(|r| r.patterns.iter().any(|t| t.has_vars()))
        })
    };
    // RCPs are added per world (by the resource's account), so they are read here too
    let rcps_see = env.org.as_ref().is_some_and(|o| {
        o.accounts
            .values()
            .flat_map(|l| l.1.iter().flatten())
            .any(sees_principal)
    });
    if rcps_see || sc.all_policies().into_iter().any(sees_principal) || sees_principal(&q.pattern) {
        return None;
    }
    let principal = env.principal_of(n, None);
    let mut key = format!(
        "{:?}|{}|{}|",
        node.kind,
        node.account,
        principal.is_service_linked_role()
    );
    // Only statements whose Action may match one of the question's actions can allow or deny a
    // request matching it (`ActionElem::may_overlap` is exact up to "may": negated elements count as
    // overlapping), so the others are left out of the key. Identity policies are a union of
    // statements (their grouping and order do not matter); the boundary is kept apart, and a
    // boundary with no relevant statement still differs from no boundary.
    let q_action = q.action();
    let relevant = |p: &Policy| -> Vec<String> {
        p.statements
            .iter()
            .filter(|s| q_action.is_none_or(|qa| s.action.may_overlap(qa)))
            .map(|s| {
                format!(
                    "{:?}{:?}{:?}{:?}",
                    s.effect, s.action, s.resource, s.conditions
                )
            })
            .collect()
    };
    let mut stmts: Vec<String> = sc.identity_policies.iter().flat_map(relevant).collect();
    stmts.sort_unstable();
    stmts.dedup();
    for s in &stmts {
        key.push_str(s);
        key.push(';');
    }
    key.push('|');
    if let Some(b) = &sc.permissions_boundary {
        let mut bs = relevant(b);
        bs.sort_unstable();
        bs.dedup();
        key.push_str("boundary:");
        for s in &bs {
            key.push_str(s);
            key.push(';');
        }
    }
    Some(key)
}

/// Reuse another principal's "yes" or "only under conditions" (same [`share_key`]): its witness
/// is replayed through the evaluator for this principal (`None` if it does not hold for it;
/// then the caller answers from scratch). A "no" or "unknown" is not handled here: see
/// [`shared`], which runs the principal's own cheap first step before taking it over.
pub fn reuse(env: &Env, n: usize, d: &Direct) -> Option<Direct> {
    match (&d.verdict, &d.request, &d.step) {
        (Verdict::No | Verdict::Unknown, _, _) => None,
        (_, Some(req), Some(step)) => {
            let principal = env.principal_of(n, None);
            let mut ctx = req.context.clone();
            for (k, _) in req.principal.derived_keys() {
                ctx.remove(k);
            }
            let r = Request::new(
                principal,
                &req.action,
                &req.resource,
                Some(&req.resource_account),
                ctx,
            );
            let mut sc = env.scenario_of(n);
            sc.rcps = env.rcps_for(&r.resource_account);
            let ev = crate::eval::explain(&sc, &r);
            if ev.decision != Decision::Allow {
                return None;
            }
            let mut step = step.clone();
            step.principal = env.nodes[n].arn.clone();
            step.statements = ev.statements;
            Some(Direct {
                verdict: d.verdict,
                request: Some(r),
                step: Some(step),
                why: None,
            })
        }
        _ => None,
    }
}

/// [`direct`] for principal `n`, given the answer `d` of a principal with the same
/// [`share_key`] (its representative). Equal to `direct(env, n, q, opts)`:
///
/// * a witness of `d` is replayed for `n` ([`reuse`]); if it does not hold, `n` is answered on
///   its own;
/// * for a "no" or "unknown", `n`'s own first step (`quick_yes` over its worlds, which reads its
///   full scenario) is run, and if it finds nothing, the solver part of `direct` would ask
///   exactly the representative's queries: the same worlds (kind, account, no resource
///   policies, no `sts:` question), the same statements (`question_scenario` keeps only those
///   in the key), the same pinned context up to values no statement reads (the principal's name
///   and tags: the key is `None` when a policy or the question can read them). So its answer
///   is the representative's.
pub fn shared(env: &Env, n: usize, q: &Question, d: &Direct, opts: &QueryOptions) -> Direct {
    match d.verdict {
        Verdict::Yes | Verdict::OnlyUnderConditions => {
            reuse(env, n, d).unwrap_or_else(|| direct(env, n, q, opts))
        }
        Verdict::No | Verdict::Unknown => {
            let ws = worlds(env, n, q, false);
            if !ws.is_empty() {
                if let Some(yes) = quick_direct(env, n, q, &ws, &env.baseline_context(n)) {
                    return yes;
                }
            }
            Direct {
                verdict: d.verdict,
                request: None,
                step: None,
                why: d.why.clone(),
            }
        }
    }
}

/// Answer of one identity to a `require` question (see [`must`]).
#[derive(Debug, Clone)]
pub enum Must {
    /// Every matching request is allowed; `request` is one of them, replayed.
    Holds {
        /// An allowed matching request, replayed.
        request: Request,
        /// The step it takes (principal, action, resource).
        step: Step,
    },
    /// No matching request is allowed (baseline context).
    NoneAllowed,
    /// A matching request the evaluator does not allow (replayed), in the named world.
    Denied {
        /// The denied matching request.
        request: Request,
        /// The world (account, RCP path) it was asked in.
        world: String,
        /// The evaluator's decision and statements for it.
        evaluation: crate::eval::Evaluation,
    },
    /// Undecided (a solver limit): the reason.
    Unknown(String),
}

/// Context keys the question's `Condition` tests (lower-case).
fn question_keys(q: &Question) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &q.pattern.statements {
        for c in &s.conditions {
            if !out.contains(&c.key) {
                out.push(c.key.clone());
            }
        }
    }
    out
}

/// `require` for one identity acting directly: **every** request matching `q` is allowed, and
/// at least one exists. Requests are those of the baseline context (the principal's facts, the
/// moment, `us-east-1`, TLS, no other key), except that the keys the question's `Condition` tests
/// range over every value the question admits. Both halves are solver questions over all worlds
/// (which then cover every matching request): an allowed witness (replayed, `Holds`), and no
/// matching request that is denied (one that is, replayed, is `Denied`).
pub fn must(env: &Env, n: usize, q: &Question, opts: &QueryOptions) -> Must {
    let free = question_keys(q);
    let mut ctx = env.baseline_context(n);
    for k in &free {
        ctx.remove(k);
    }
    let ws = worlds(env, n, q, true);
    let mut unknown: Option<String> = None;
    let mut witness: Option<(Request, &World)> = None;
    for w in &ws {
        if let Some(r) = quick_yes(env, n, q, w, &ctx) {
            witness = Some((r, w));
            break;
        }
    }
    if witness.is_none() {
        for w in &ws {
            let ask = Ask {
                closed: true,
                denied: false,
                free: &free,
            };
            match run_world(env, n, q, w, &ctx, ask, opts) {
                Solved::Found { request, .. } => {
                    witness = Some((request, w));
                    break;
                }
                Solved::None => {}
                Solved::Unknown(r) => {
                    unknown.get_or_insert(format!("{}: {r}", w.label));
                }
            }
        }
    }
    let Some((request, ww)) = witness else {
        return match unknown {
            Some(u) => Must::Unknown(u),
            None => Must::NoneAllowed,
        };
    };
    for w in &ws {
        let ask = Ask {
            closed: true,
            denied: true,
            free: &free,
        };
        match run_world(env, n, q, w, &ctx, ask, opts) {
            Solved::Found { request, .. } => {
                let evaluation = crate::eval::explain(&w.sc, &request);
                return Must::Denied {
                    request,
                    world: w.label.clone(),
                    evaluation,
                };
            }
            Solved::None => {}
            Solved::Unknown(r) => return Must::Unknown(format!("{}: {r}", w.label)),
        }
    }
    let ev = crate::eval::explain(&ww.sc, &request);
    let step = Step {
        principal: env.nodes[n].arn.clone(),
        action: request.action.clone(),
        resource: request.resource.clone(),
        session_name: None,
        statements: ev.statements,
        conditions: Vec::new(),
    };
    Must::Holds { request, step }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The claim [`question_scenario`] rests on: for every request matching the question, the
    /// evaluator decides the world's full scenario and the solver's reduced one alike. Checked on
    /// generated accounts over catalog actions, the statements' own resources and several
    /// contexts, in the worlds of `forbid` and of `require`.
    #[test]
    fn question_scenario_decides_matching_requests_like_the_full_scenario() {
        let ctx_with = |base: &Context, kvs: &[(&str, &str)]| {
            let mut c = base.clone();
            for (k, v) in kvs {
                c.insert(
                    k.to_lowercase(),
                    crate::request::CtxValue {
                        key: (*k).to_owned(),
                        values: vec![(*v).to_owned()],
                        multi: false,
                    },
                );
            }
            c
        };
        let mut checked = 0usize;
        let mut differ_in_size = 0usize;
        for seed in 1..=2u64 {
            let v = crate::gen::generate(40, seed);
            let acct = crate::load::account_from_json(&crate::json::Json::from_value(&v), "gen")
                .expect("generated dump loads");
            let env = Env::new(vec![acct], None, Default::default());
            for (a, r) in [
                ("iam:*", "*"),
                ("s3:Delete*", "arn:aws:s3:::bucket-1*"),
                ("kms:Decrypt", "*"),
                ("ec2:*", "*"),
            ] {
                let q = Question::new(&[a.to_owned()], &[r.to_owned()]).expect("question");
                let svc = a.split(':').next().unwrap_or_default();
                let actions: Vec<String> = crate::catalog_hint::service_actions(svc)
                    .into_iter()
                    .filter(|x| {
                        q.pattern.statements[0]
                            .action
                            .patterns
                            .iter()
                            .any(|p| p.matches_lower(x))
                    })
                    .step_by(7)
                    .map(crate::catalog_hint::display_action)
                    .collect();
                assert!(!actions.is_empty(), "{a}");
                for n in 0..env.nodes.len() {
                    let base = env.baseline_context(n);
                    let contexts = [
                        base.clone(),
                        ctx_with(&base, &[("aws:MultiFactorAuthPresent", "true")]),
                        ctx_with(
                            &base,
                            &[
                                ("aws:MultiFactorAuthPresent", "false"),
                                ("aws:SourceIp", "10.53.1.2"),
                                ("aws:SourceVpc", "vpc-9"),
                            ],
                        ),
                    ];
                    for all in [false, true] {
                        for w in worlds(&env, n, &q, all) {
                            let full: usize =
                                w.sc.all_policies().iter().map(|p| p.statements.len()).sum();
                            let reduced: usize = w
                                .qsc
                                .all_policies()
                                .iter()
                                .map(|p| p.statements.len())
                                .sum();
                            if reduced < full {
                                differ_in_size += 1;
                            }
                            let mut resources: Vec<String> = vec![
                                "*".into(),
                                "arn:aws:kms:us-east-1:123456789012:key/k1".into(),
                                "arn:aws:s3:::bucket-1x/o".into(),
                                "arn:aws:iam::123456789012:user/u".into(),
                            ];
                            for p in w.sc.all_policies() {
                                for s in &p.statements {
                                    if let Some(re) = &s.resource {
                                        resources.extend(
                                            re.patterns
                                                .iter()
                                                .map(|t| t.raw.replace(['*', '?'], "x")),
                                        );
                                    }
                                }
                            }
                            resources.sort();
                            resources.dedup();
                            let principal = env.principal_of(n, None);
                            for act in &actions {
                                for res in &resources {
                                    for ctx in &contexts {
                                        let req = Request::new(
                                            principal.clone(),
                                            act,
                                            res,
                                            w.resource_account.as_deref(),
                                            ctx.clone(),
                                        );
                                        if !q.covers(&req) {
                                            continue;
                                        }
                                        checked += 1;
                                        assert_eq!(
                                            evaluate(&w.sc, &req).decision,
                                            evaluate(&w.qsc, &req).decision,
                                            "{} {act} {res} in {}",
                                            env.nodes[n].arn,
                                            w.label
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "only {checked} requests checked");
        assert!(differ_in_size > 50, "only {differ_in_size} worlds reduced");
    }
}
