//! The concrete evaluator: the executable specification of IAM-SEMANTICS.md §2–§4.
//!
//! Pure Rust, no solver. The symbolic encoder mirrors this module rule by rule.

use crate::matching::Kind;
use crate::model::Scenario;
use crate::model::*;
use crate::request::{PrincipalKind, Request};
pub use crate::rules::Grant;
use crate::rules::{
    is_role_arn, needs_no_permission, not_principal_excludes, principal_grant, strict_resource,
    RCP_SERVICES,
};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
/// The evaluator's answer for one request (IAM-SEMANTICS §4).
pub enum Decision {
    /// Some statement allows and nothing denies.
    Allow,
    /// A Deny statement applies.
    ExplicitDeny,
    /// No statement allows (or a required layer does not).
    ImplicitDeny,
}

impl Decision {
    /// The decision as printed (`Allow`, `ExplicitDeny`, `ImplicitDeny`).
    pub fn name(self) -> &'static str {
        match self {
            Decision::Allow => "Allow",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
        }
    }
}

/// Which policy set a statement belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "set", content = "level")]
pub enum SetName {
    /// An identity-based policy of the principal.
    Identity,
    /// The principal's permissions boundary.
    PermissionsBoundary,
    /// A session policy.
    Session,
    /// An SCP at this level of the organization (0 = root).
    Scp(usize),
    /// An RCP at this level of the organization (0 = root).
    Rcp(usize),
    /// The resource-based policy (or a role's trust policy).
    Resource,
    /// The VPC endpoint policy.
    VpcEndpoint,
}

impl SetName {
    /// The set in words (`SCP level 1`), for reports.
    pub fn label(&self) -> String {
        match self {
            SetName::Identity => "identity policy".into(),
            SetName::PermissionsBoundary => "permissions boundary".into(),
            SetName::Session => "session policy".into(),
            SetName::Scp(l) => format!("SCP level {l}"),
            SetName::Rcp(l) => format!("RCP level {l}"),
            SetName::Resource => "resource policy".into(),
            SetName::VpcEndpoint => "VPC endpoint policy".into(),
        }
    }
}

/// A statement that took part in the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StmtRef {
    /// Name of the policy (file or scenario path).
    pub policy: String,
    #[serde(flatten)]
    /// The set the policy belongs to.
    pub set: SetName,
    /// Index of the statement in the policy.
    pub statement: usize,
    /// JSON path of the statement.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The statement's `Sid`, if any.
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: String,
}

/// Why a statement did not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The `Principal`/`NotPrincipal` element did not match.
    Principal,
    /// The `Action`/`NotAction` element did not match.
    Action,
    /// The `Resource`/`NotResource` element did not match.
    Resource,
    /// Index of the failing condition.
    Condition(usize),
}

/// Outcome of matching one statement against the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// It applied, with the grant class of a resource-policy principal match.
    Yes(Option<Grant>),
    /// It did not, and why.
    No(Miss),
}

/// A statement and whether it applied, for explanations.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The statement.
    pub stmt: StmtRef,
    /// Whether it applied.
    pub outcome: Applies,
    /// The reason in words.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
/// The result of evaluating one request: decision, reason and the deciding statements.
pub struct Evaluation {
    /// Allow, explicit deny or implicit deny.
    pub decision: Decision,
    /// The rule that decided, in words.
    pub reason: String,
    /// The statements that decided: the denies for an explicit deny, the allows that were needed
    /// for an allow; empty for an implicit deny.
    pub statements: Vec<StmtRef>,
    #[serde(skip)]
    /// Every statement tried (filled by [`explain`], empty from [`evaluate`]).
    pub trace: Vec<Trace>,
}

/// Matching primitives shared with explanations.
pub struct Matcher<'r> {
    /// The request being matched.
    pub req: &'r Request,
    action_lower: String,
}

impl<'r> Matcher<'r> {
    /// A matcher for `req` (lowercases the action once).
    pub fn new(req: &'r Request) -> Self {
        Matcher {
            req,
            action_lower: req.action.to_lowercase(),
        }
    }

    /// Match one statement against the request (§4.1 `applies`).
    pub fn applies(&self, policy: &Policy, s: &Statement) -> Applies {
        let vars = policy.vars_enabled();
        let grant = match &s.principal {
            None => None,
            Some(pe) => {
                let g = principal_grant(&pe.entries, &self.req.principal);
                if pe.negated {
                    // NotPrincipal: applies to principals not (fully) listed
                    if not_principal_excludes(&pe.entries, &self.req.principal) {
                        return Applies::No(Miss::Principal);
                    }
                    Some(Grant::Direct)
                } else {
                    match g {
                        Some(g) => Some(g),
                        None => return Applies::No(Miss::Principal),
                    }
                }
            }
        };
        let action_hit = s
            .action
            .patterns
            .iter()
            .any(|p| p.matches_lower(&self.action_lower));
        if action_hit == s.action.negated {
            return Applies::No(Miss::Action);
        }
        if let Some(r) = &s.resource {
            let hit = r
                .patterns
                .iter()
                .any(|t| self.template_match(t, vars, Kind::Resource, &self.req.resource));
            if hit == r.negated {
                return Applies::No(Miss::Resource);
            }
        }
        for (i, c) in s.conditions.iter().enumerate() {
            if !self.condition(c, vars) {
                return Applies::No(Miss::Condition(i));
            }
        }
        Applies::Yes(grant)
    }

    fn template_match(&self, t: &Template, vars: bool, kind: Kind, value: &str) -> bool {
        crate::rules::template_match(&self.req.context, t, vars, kind, value)
    }

    /// §3: one condition ([`crate::rules::condition`] on the request's context).
    pub fn condition(&self, c: &Condition, vars: bool) -> bool {
        crate::rules::condition(&self.req.context, c, vars)
    }
}

/// Results of matching every policy set against the request.
struct SetResult {
    allows: Vec<StmtRef>,
    denies: Vec<StmtRef>,
    grants: Vec<Grant>,
    /// Deny+NotPrincipal statements whose other elements apply (the boundary rule of §2.4).
    not_principal_denies: Vec<StmtRef>,
}

fn stmt_ref(policy: &Policy, s: &Statement, set: &SetName) -> StmtRef {
    StmtRef {
        policy: policy.name.clone(),
        set: set.clone(),
        statement: s.index,
        path: s.path.clone(),
        sid: s.sid.clone(),
        effect: s.effect.to_string(),
    }
}

fn run_set(
    m: &Matcher,
    policies: &[&Policy],
    set: SetName,
    trace: &mut Vec<Trace>,
    explain: bool,
) -> SetResult {
    let mut r = SetResult {
        allows: Vec::new(),
        denies: Vec::new(),
        grants: Vec::new(),
        not_principal_denies: Vec::new(),
    };
    for pol in policies {
        for s in &pol.statements {
            let outcome = m.applies(pol, s);
            let is_np = s.principal.as_ref().is_some_and(|p| p.negated);
            if is_np && s.effect == Effect::Deny && outcome == Applies::No(Miss::Principal) {
                // the other elements may still apply: needed for the boundary special case
                let mut probe = s.clone();
                probe.principal = None;
                if matches!(m.applies(pol, &probe), Applies::Yes(_)) {
                    r.not_principal_denies.push(stmt_ref(pol, s, &set));
                }
            }
            if explain {
                trace.push(Trace {
                    stmt: stmt_ref(pol, s, &set),
                    outcome,
                    detail: describe_miss(s, outcome),
                });
            }
            if let Applies::Yes(g) = outcome {
                match s.effect {
                    Effect::Allow => {
                        r.allows.push(stmt_ref(pol, s, &set));
                        r.grants.extend(g);
                    }
                    Effect::Deny => {
                        r.denies.push(stmt_ref(pol, s, &set));
                        if is_np {
                            r.not_principal_denies.push(stmt_ref(pol, s, &set));
                        }
                    }
                }
            }
        }
    }
    r
}

fn describe_miss(s: &Statement, o: Applies) -> String {
    match o {
        Applies::Yes(_) => "applies".into(),
        Applies::No(Miss::Principal) => "principal does not match".into(),
        Applies::No(Miss::Action) => {
            if s.action.negated {
                "action is listed in NotAction".into()
            } else {
                "action does not match".into()
            }
        }
        Applies::No(Miss::Resource) => {
            if s.resource.as_ref().is_some_and(|r| r.negated) {
                "resource is listed in NotResource".into()
            } else {
                "resource does not match".into()
            }
        }
        Applies::No(Miss::Condition(i)) => match s.conditions.get(i) {
            Some(c) => format!("condition `{}` on `{}` is not met", c.op.raw, c.key_raw),
            None => "a condition is not met".into(),
        },
    }
}

/// Decide a request against a scenario's policy sets (§4).
pub fn evaluate(sc: &Scenario, req: &Request) -> Evaluation {
    evaluate_with(&ScenarioRef::of(sc), req, false)
}

/// As [`evaluate`], also recording why each statement did or did not apply.
pub fn explain(sc: &Scenario, req: &Request) -> Evaluation {
    evaluate_with(&ScenarioRef::of(sc), req, true)
}

/// A [`Scenario`] whose policies are borrowed: replays that put a side's policies in a
/// scenario for every candidate request (`query::Side::evaluate`, thousands of times while a
/// finding is minimised) need not copy them each time.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScenarioRef<'a> {
    /// The principal's identity-based policies.
    pub identity_policies: &'a [Policy],
    /// The permissions boundary, if any.
    pub permissions_boundary: Option<&'a Policy>,
    /// Session policies, if any.
    pub session_policies: &'a [Policy],
    /// SCPs per organization level, root first.
    pub scps: &'a [Vec<Policy>],
    /// RCPs per organization level, root first.
    pub rcps: &'a [Vec<Policy>],
    /// The resource's policy.
    pub resource_policy: Option<&'a Policy>,
    /// The VPC endpoint policy, if the request goes through one.
    pub vpc_endpoint_policy: Option<&'a Policy>,
    /// Principals of this account skip SCPs; its resources skip RCPs.
    pub management_account: Option<&'a str>,
}

impl<'a> ScenarioRef<'a> {
    /// The view of a whole scenario.
    pub fn of(sc: &'a Scenario) -> ScenarioRef<'a> {
        ScenarioRef {
            identity_policies: &sc.identity_policies,
            permissions_boundary: sc.permissions_boundary.as_ref(),
            session_policies: &sc.session_policies,
            scps: &sc.scps,
            rcps: &sc.rcps,
            resource_policy: sc.resource_policy.as_ref(),
            vpc_endpoint_policy: sc.vpc_endpoint_policy.as_ref(),
            management_account: sc.management_account.as_deref(),
        }
    }
}

/// [`evaluate`] over a borrowed scenario.
pub fn evaluate_ref(sc: &ScenarioRef<'_>, req: &Request) -> Evaluation {
    evaluate_with(sc, req, false)
}

/// [`explain`] over a borrowed scenario.
pub fn explain_ref(sc: &ScenarioRef<'_>, req: &Request) -> Evaluation {
    evaluate_with(sc, req, true)
}

fn refs(v: &[Policy]) -> Vec<&Policy> {
    v.iter().collect()
}

fn evaluate_with(sc: &ScenarioRef<'_>, req: &Request, explain: bool) -> Evaluation {
    let m = Matcher::new(req);
    let mut trace = Vec::new();
    let p = &req.principal;
    // every signed caller; an unsigned (anonymous) request is not authenticated at all, and a
    // web-identity or SAML caller has no AWS credentials yet (it presents a token to STS)
    if needs_no_permission(&req.action)
        && p.kind != PrincipalKind::Anonymous
        && !p.is_federated_caller()
    {
        return Evaluation {
            decision: Decision::Allow,
            reason: "sts:GetCallerIdentity needs no permission and no policy can deny it".into(),
            statements: Vec::new(),
            trace,
        };
    }

    let idp = run_set(
        &m,
        &refs(sc.identity_policies),
        SetName::Identity,
        &mut trace,
        explain,
    );
    let pb = sc
        .permissions_boundary
        .as_ref()
        .map(|b| run_set(&m, &[b], SetName::PermissionsBoundary, &mut trace, explain));
    let sp = run_set(
        &m,
        &refs(sc.session_policies),
        SetName::Session,
        &mut trace,
        explain,
    );
    let scp: Vec<SetResult> = sc
        .scps
        .iter()
        .enumerate()
        .map(|(l, pols)| run_set(&m, &refs(pols), SetName::Scp(l), &mut trace, explain))
        .collect();
    let rcp: Vec<SetResult> = sc
        .rcps
        .iter()
        .enumerate()
        .map(|(l, pols)| run_set(&m, &refs(pols), SetName::Rcp(l), &mut trace, explain))
        .collect();
    let rbp = sc
        .resource_policy
        .as_ref()
        .map(|r| run_set(&m, &[r], SetName::Resource, &mut trace, explain));
    let vpce = sc
        .vpc_endpoint_policy
        .as_ref()
        .map(|v| run_set(&m, &[v], SetName::VpcEndpoint, &mut trace, explain));

    let service_principal = matches!(p.kind, PrincipalKind::Service(_));
    let anonymous = p.kind == PrincipalKind::Anonymous;
    // web-identity and SAML callers are unsigned: no identity side, no SCPs (they are no
    // principal of an account); the trust policy, RCPs and a VPC endpoint policy still apply
    let federated = p.is_federated_caller();
    let mgmt = sc.management_account;
    let slr = p.is_service_linked_role();
    let scp_exempt =
        service_principal || anonymous || federated || slr || mgmt == Some(p.account.as_str());
    let service = req.action.split(':').next().unwrap_or("").to_lowercase();
    let rcp_exempt = slr
        || mgmt == Some(req.resource_account.as_str())
        || !RCP_SERVICES.contains(&service.as_str())
        || req.action.eq_ignore_ascii_case("kms:RetireGrant");
    // identity-side sets do not apply to service principals and anonymous callers
    let identity_side = !(service_principal || anonymous || federated);

    // 1. explicit deny anywhere
    let mut denies: Vec<StmtRef> = Vec::new();
    if identity_side {
        denies.extend(idp.denies.iter().cloned());
        if let Some(pb) = &pb {
            denies.extend(pb.denies.iter().cloned());
        }
        if p.is_session() {
            denies.extend(sp.denies.iter().cloned());
        }
    }
    if !scp_exempt {
        denies.extend(scp.iter().flat_map(|l| l.denies.iter().cloned()));
    }
    if !rcp_exempt {
        denies.extend(rcp.iter().flat_map(|l| l.denies.iter().cloned()));
    }
    if let Some(r) = &rbp {
        denies.extend(r.denies.iter().cloned());
        if sc.permissions_boundary.is_some() && identity_side {
            for d in &r.not_principal_denies {
                if !denies.contains(d) {
                    denies.push(d.clone());
                }
            }
        }
    }
    if let Some(v) = &vpce {
        denies.extend(v.denies.iter().cloned());
    }
    if !denies.is_empty() {
        return Evaluation {
            decision: Decision::ExplicitDeny,
            reason: "an applicable Deny statement (an explicit deny in any policy is final)".into(),
            statements: denies,
            trace,
        };
    }
    let implicit = |reason: String, trace: Vec<Trace>| Evaluation {
        decision: Decision::ImplicitDeny,
        reason,
        statements: Vec::new(),
        trace,
    };

    // 2. organization guardrails and the VPC endpoint: every level must allow
    let mut used: Vec<StmtRef> = Vec::new();
    if !scp_exempt {
        for (l, lvl) in scp.iter().enumerate() {
            if lvl.allows.is_empty() {
                return implicit(format!("no SCP statement at level {l} of the principal's account path allows the request"), trace);
            }
            used.extend(lvl.allows.iter().cloned());
        }
    }
    if !rcp_exempt {
        for (l, lvl) in rcp.iter().enumerate() {
            if lvl.allows.is_empty() {
                return implicit(format!("no RCP statement at level {l} of the resource account's path allows the request"), trace);
            }
            used.extend(lvl.allows.iter().cloned());
        }
    }
    if let Some(v) = &vpce {
        if v.allows.is_empty() {
            return implicit(
                "the VPC endpoint policy does not allow the request".into(),
                trace,
            );
        }
        used.extend(v.allows.iter().cloned());
    }

    let rb_grants: Vec<Grant> = rbp.as_ref().map(|r| r.grants.clone()).unwrap_or_default();
    let rb_allows: Vec<StmtRef> = rbp.as_ref().map(|r| r.allows.clone()).unwrap_or_default();
    let has = |g: Grant| rb_grants.contains(&g);
    let allow = |mut used: Vec<StmtRef>, extra: &[StmtRef], reason: &str, trace: Vec<Trace>| {
        used.extend(extra.iter().cloned());
        Evaluation {
            decision: Decision::Allow,
            reason: reason.into(),
            statements: used,
            trace,
        }
    };

    // 3. callers that only the resource side can admit (§4.6)
    if anonymous {
        let direct_any: Vec<StmtRef> = rbp.as_ref().map(|r| r.allows.clone()).unwrap_or_default();
        if has(Grant::Direct) {
            return allow(used, &direct_any, "the resource policy allows everyone (`Principal: *`); anonymous callers need nothing else", trace);
        }
        return implicit(
            "anonymous callers are allowed only by a resource policy with `Principal: *`".into(),
            trace,
        );
    }
    if federated {
        if !p.federated_action_ok(&req.action) || !is_role_arn(&req.resource) {
            return implicit(
                format!(
                    "a {} caller can only call {} on a role",
                    if matches!(p.kind, PrincipalKind::Saml { .. }) {
                        "SAML"
                    } else {
                        "web-identity"
                    },
                    if matches!(p.kind, PrincipalKind::Saml { .. }) {
                        "sts:AssumeRoleWithSAML (with sts:TagSession, sts:SetSourceIdentity)"
                    } else {
                        "sts:AssumeRoleWithWebIdentity (with sts:TagSession, sts:SetSourceIdentity)"
                    }
                ),
                trace,
            );
        }
        if has(Grant::Direct) {
            return allow(
                used,
                &rb_allows,
                "the trust policy names the identity provider (`Federated`) and its conditions hold",
                trace,
            );
        }
        return implicit(
            "federated callers are allowed only by a trust-policy statement that names their provider (`Federated`) and whose conditions hold".into(),
            trace,
        );
    }
    if service_principal {
        if has(Grant::Service) || has(Grant::Direct) {
            return allow(
                used,
                &rb_allows,
                "the resource policy allows the service principal",
                trace,
            );
        }
        return implicit(
            "service principals are allowed only by a resource policy naming the service".into(),
            trace,
        );
    }

    let pb_ok = pb.as_ref().is_none_or(|b| !b.allows.is_empty());
    let sp_ok = match &p.kind {
        PrincipalKind::RoleSession { .. } => {
            sc.session_policies.is_empty() || !sp.allows.is_empty()
        }
        PrincipalKind::FederatedUser { .. } => !sp.allows.is_empty(),
        _ => true,
    };
    let mut limits: Vec<StmtRef> = Vec::new();
    if let Some(b) = &pb {
        limits.extend(b.allows.iter().cloned());
    }
    if p.is_session() {
        limits.extend(sp.allows.iter().cloned());
    }
    let limit_reason = || -> String {
        if !pb_ok {
            "the permissions boundary does not allow the request".into()
        } else if p.is_session() && sc.session_policies.is_empty() {
            "a federated-user session without session policies has no permissions".into()
        } else {
            "the session policies do not allow the request".into()
        }
    };
    let strict = strict_resource(&req.action, &req.resource);
    let root = p.kind == PrincipalKind::Root;
    let idp_allow = !idp.allows.is_empty();

    if req.same_account() {
        // §4.4
        if root {
            if strict {
                if rb_grants.is_empty() {
                    return implicit("the root user needs the resource's own policy (trust or key policy) to admit it".into(), trace);
                }
                return allow(
                    used,
                    &rb_allows,
                    "the resource policy admits the account root",
                    trace,
                );
            }
            return allow(
                used,
                &idp.allows,
                "the root user of the account is allowed unless denied",
                trace,
            );
        }
        if has(Grant::Direct) {
            return allow(
                used,
                &rb_allows,
                "the resource policy names the principal directly (same account: sufficient alone)",
                trace,
            );
        }
        if has(Grant::Role) && pb_ok && sp_ok {
            let mut u = used;
            u.extend(limits.iter().cloned());
            return allow(u, &rb_allows, "the resource policy names the principal's role (same account; boundary and session policies allow)", trace);
        }
        if strict && !(has(Grant::Account) || has(Grant::Role)) {
            return implicit("the resource's own policy (trust or key policy) does not admit the principal or its account".into(), trace);
        }
        if idp_allow && pb_ok && sp_ok {
            let mut u = used;
            u.extend(limits.iter().cloned());
            u.extend(rb_allows.iter().cloned());
            return allow(
                u,
                &idp.allows,
                "an identity policy allows the request (same account)",
                trace,
            );
        }
        if !idp_allow {
            return implicit(
                "no identity policy or resource policy statement allows the request".into(),
                trace,
            );
        }
        return implicit(limit_reason(), trace);
    }

    // §4.5 cross account: both sides must allow
    let trusted = (idp_allow || root) && pb_ok && sp_ok;
    let trusting = has(Grant::Direct) || has(Grant::Role) || has(Grant::Account);
    if trusted && trusting {
        let mut u = used;
        u.extend(limits.iter().cloned());
        u.extend(idp.allows.iter().cloned());
        return allow(
            u,
            &rb_allows,
            "cross-account: the principal's account and the resource policy both allow",
            trace,
        );
    }
    if !trusting {
        return implicit(
            "cross-account: the resource policy does not allow the principal".into(),
            trace,
        );
    }
    if !(idp_allow || root) {
        return implicit(
            "cross-account: no identity policy in the principal's account allows the request"
                .into(),
            trace,
        );
    }
    implicit(limit_reason(), trace)
}
