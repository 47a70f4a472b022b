//! Account-wide analysis: `can`, `who-can`, `escalations`.
//!
//! # Model
//! An [`Env`] holds the analysed account (from `aws iam get-account-authorization-details`), other
//! accounts' dumps (`--other-account`), the organization (`--org`: SCP and RCP levels, management
//! account) and resource policies (`--resource-policies`). Every user and role becomes a [`Node`];
//! principals named in trust policies of accounts we were not given become *external* nodes, and
//! any AWS account (`"AWS": "*"`), anonymous callers and service principals named in trust or
//! resource policies become outside nodes too; their own account is assumed to allow them
//! everything, but they reach the loaded accounts only through what our policies grant.
//!
//! For each node we build the evaluator's [`Scenario`]: identity policies (inline, attached managed
//! policies' default versions, and for users every group's inline and managed policies), the
//! permissions boundary, the SCP levels of its account and the management account. Each question is
//! then one concrete request decided by [`crate::eval::evaluate`]; there is no second evaluator.
//!
//! # Role assumption
//! An edge A → R exists when the request `(A, sts:AssumeRole, R's ARN)` is allowed with R's trust
//! policy as the resource policy, R's account's RCPs, and A's identity policies, boundary and SCPs
//! (§6.1: same-account trust naming A directly needs nothing more; naming the account needs an
//! identity allow; cross-account needs both sides). When A is a role and R's trust names a specific
//! session of A (`assumed-role/A/name`), the session is given that name: whoever assumed A chose it.
//!
//! # Conditions
//! See [`conditions`]: a request allowed in the baseline context (facts only) is **yes**; one that is
//! allowed only after the caller picks values for other keys (MFA, source IP, external ID, a fresh
//! session token, …) is **only-under-conditions**, with the keys and values listed; the allow is
//! always re-confirmed by the evaluator with the concrete context before it is reported. A path's
//! conditions are the union over its hops.
//!
//! # Questions over patterns
//! `can`, `who-can` and account invariants ask whether *any* request matching the action and
//! resource patterns is allowed: see [`pattern`] (one solver query per principal and world, the
//! witness replayed through the evaluator).
//!
//! # Escalation
//! See [`escalate`] for the methods and the definition of "gains permissions".

#![allow(clippy::type_complexity)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

// The lower crates' modules at this crate's root, so `crate::eval::…` paths read as before the
// split; `crate::account` is this crate.
#[allow(unused_imports)]
pub(crate) use crate as account;
pub(crate) use iamprove_core::{
    catalog_hint, eval, json, literal, matching, model, parse, request, rules, scenario, verdict,
};
pub(crate) use iamprove_symbolic::{query, solver, symbolic, verify};

pub mod conditions;
pub mod escalate;
pub mod explain;
pub mod gen;
pub mod load;
pub mod pattern;
// `trust` moved here from the top crate (escalations ask it whether a federated provider is open to
// outsiders).
pub mod trust;

use crate::eval::StmtRef;
use crate::model::{Effect, Policy, PolicyType, PrincipalEntry};
use crate::request::{Context, CtxValue, Principal, PrincipalKind, Request};
use crate::scenario::{Errors, Scenario};
use conditions::{decide, CondReq, Outcome};
use load::{arn_account, Account, Org};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

/// Actions of the privilege-escalation methods (§6.3): an administrator is allowed all of them.
pub(crate) const SENSITIVE_ACTIONS: &[&str] = &[
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:PassRole",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:CreateUser",
    "iam:CreateRole",
    "sts:AssumeRole",
    "ec2:RunInstances",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "lambda:UpdateFunctionCode",
    "glue:CreateDevEndpoint",
    "glue:UpdateDevEndpoint",
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "datapipeline:CreatePipeline",
    "codebuild:CreateProject",
    "sagemaker:CreateNotebookInstance",
    "ssm:SendCommand",
    "ssm:StartSession",
];

/// The region of requests and ARNs the analysis builds (account analysis is region-agnostic).
pub const REGION: &str = "us-east-1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
/// What a node of the account graph is.
pub enum NodeKind {
    /// An IAM user of a loaded account.
    User,
    /// An IAM role of a loaded account.
    Role,
    /// A principal of an account whose dump we do not have.
    External,
    /// Any principal of any AWS account (a trust or resource policy naming `"AWS": "*"`),
    /// represented by the root of [`ANY_ACCOUNT`].
    AnyAccount,
    /// An unauthenticated caller (resource policies naming `"*"`).
    Anonymous,
    /// An AWS service principal named in a trust or resource policy.
    Service,
    /// Every caller of a web-identity (OIDC) or SAML provider named by a trust policy's
    /// `Federated` entry (the node's ARN is the provider's ARN or host). What its tokens or
    /// assertions must carry is printed as the conditions of its path.
    Federated,
}

impl NodeKind {
    /// A principal from outside the loaded accounts (an entry point, not a user or role we see).
    pub fn is_outside(self) -> bool {
        !matches!(self, NodeKind::User | NodeKind::Role)
    }
}

/// The account standing for "any AWS account" (`"AWS": "*"`): no real account has this ID, and
/// no policy we load names it, so it gets exactly what `*` grants.
pub const ANY_ACCOUNT: &str = "000000000000";

#[derive(Debug, Clone)]
/// A principal of the analysis: a user or role of a loaded account, or an outside caller.
pub struct Node {
    /// The principal's ARN (the account root for outside accounts, the name for services).
    pub arn: String,
    /// What kind of principal.
    pub kind: NodeKind,
    /// Its account ID (empty for services and anonymous callers).
    pub account: String,
    /// Index into `Env::accounts` and into that account's users/roles.
    pub loc: Option<(usize, usize)>,
}

/// Everything the analysis sees.
pub struct Env {
    /// The loaded accounts; the first is the analysed one.
    pub accounts: Vec<Account>,
    /// The organization (`--org`), if given.
    pub org: Option<Org>,
    /// Resource policies (`--resource-policies`) by resource ARN.
    pub resource_policies: BTreeMap<String, Policy>,
    /// Every principal, loaded and outside.
    pub nodes: Vec<Node>,
    /// Node index by ARN.
    pub by_arn: HashMap<String, usize>,
    /// For each role node: its trust policy's AssumeRole edges' candidate callers.
    pub now_ms: i64,
    /// Where long steps report their progress ([`NoProgress`] unless the caller sets one).
    pub progress: std::sync::Arc<dyn Progress>,
}

/// Input files of the account commands.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The analysed account's dump.
    pub account: PathBuf,
    /// The organization file.
    pub org: Option<PathBuf>,
    /// The resource-policies file.
    pub resource_policies: Option<PathBuf>,
    /// Other accounts' dumps (`--other-account`).
    pub other_accounts: Vec<PathBuf>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What we assume the own account of an outside principal allows it: everything (we cannot
/// see its policies, and its owner may grant it anything). It still reaches the loaded accounts
/// only through what their resource and trust policies grant (see [`pattern`]).
fn external_policy() -> Option<Policy> {
    let doc = crate::json::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .ok()?;
    crate::parse::parse_policy(
        &doc,
        PolicyType::Identity,
        "assumed policy of an outside principal (its account is not loaded)",
    )
    .ok()
}

impl Env {
    /// Load every input file; all input errors are returned together.
    pub fn load(inputs: &Inputs) -> Result<Env, Errors> {
        let mut errs = Vec::new();
        let mut accounts = Vec::new();
        match load::load_account(&inputs.account) {
            Ok(a) => accounts.push(a),
            Err(e) => return Err(e),
        }
        for p in &inputs.other_accounts {
            match load::load_account(p) {
                Ok(a) => accounts.push(a),
                Err(e) => errs.extend(e),
            }
        }
        let main = accounts[0].id.clone();
        let org = match &inputs.org {
            Some(p) => match load::load_org(p, &main) {
                Ok(o) => Some(o),
                Err(e) => {
                    errs.extend(e);
                    None
                }
            },
            None => None,
        };
        let rp = match &inputs.resource_policies {
            Some(p) => match load::load_resource_policies(p) {
                Ok(r) => r,
                Err(e) => {
                    errs.extend(e);
                    BTreeMap::new()
                }
            },
            None => BTreeMap::new(),
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Env::new(accounts, org, rp))
    }

    /// Load one account dump with no organization or resource policies.
    pub fn from_paths(account: &Path) -> Result<Env, Errors> {
        Env::load(&Inputs {
            account: account.to_owned(),
            ..Inputs::default()
        })
    }

    /// The environment of loaded accounts (the first is the analysed one): builds the nodes, outside ones included.
    pub fn new(
        accounts: Vec<Account>,
        org: Option<Org>,
        resource_policies: BTreeMap<String, Policy>,
    ) -> Env {
        let mut nodes = Vec::new();
        for (ai, a) in accounts.iter().enumerate() {
            for (i, u) in a.users.iter().enumerate() {
                nodes.push(Node {
                    arn: u.arn.clone(),
                    kind: NodeKind::User,
                    account: a.id.clone(),
                    loc: Some((ai, i)),
                });
            }
            for (i, r) in a.roles.iter().enumerate() {
                nodes.push(Node {
                    arn: r.arn.clone(),
                    kind: NodeKind::Role,
                    account: a.id.clone(),
                    loc: Some((ai, i)),
                });
            }
        }
        let loaded: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
        // external principals named in trust policies
        let mut ext: Vec<String> = Vec::new();
        for a in &accounts {
            for r in &a.roles {
                for s in &r.trust.statements {
                    let Some(pe) = &s.principal else { continue };
                    if s.effect != Effect::Allow || pe.negated {
                        continue;
                    }
                    for e in &pe.entries {
                        let arn = match e {
                            PrincipalEntry::Account { partition, account } => {
                                format!("arn:{partition}:iam::{account}:root")
                            }
                            // a session of a role in an account we do not have (`assumed-role`
                            // ARN) is an entry point of its own: whoever can assume that role
                            // there picks the session name (sessions of loaded roles are the
                            // role nodes acting under that name)
                            PrincipalEntry::Arn(a) => a.clone(),
                            _ => continue,
                        };
                        let Some(acct) = arn_account(&arn) else {
                            continue;
                        };
                        if !loaded.iter().any(|l| l == acct) && !ext.contains(&arn) {
                            ext.push(arn);
                        }
                    }
                }
            }
        }
        for arn in ext {
            let account = arn_account(&arn).unwrap_or_default().to_owned();
            nodes.push(Node {
                arn,
                kind: NodeKind::External,
                account,
                loc: None,
            });
        }
        // entry points from outside: any AWS account, anonymous callers, service principals
        let mut any_account = false;
        let mut anonymous = false;
        let mut services: Vec<String> = Vec::new();
        let mut federated: Vec<String> = Vec::new();
        let trusts = accounts
            .iter()
            .flat_map(|a| a.roles.iter().map(|r| (&r.trust, true)));
        let rps = resource_policies.values().map(|p| (p, false));
        for (pol, is_trust) in trusts.chain(rps) {
            for s in &pol.statements {
                let Some(pe) = &s.principal else { continue };
                if s.effect != Effect::Allow || pe.negated {
                    continue;
                }
                for e in &pe.entries {
                    match e {
                        PrincipalEntry::Any => {
                            any_account = true;
                            // roles cannot be assumed anonymously
                            anonymous |= !is_trust;
                        }
                        PrincipalEntry::Service(svc) if !services.contains(svc) => {
                            services.push(svc.clone());
                        }
                        PrincipalEntry::Federated(f)
                            if is_trust
                                && !federated.contains(f)
                                && Principal::parse(f).is_ok_and(|p| {
                                    matches!(
                                        p.kind,
                                        PrincipalKind::WebIdentity { .. }
                                            | PrincipalKind::Saml { .. }
                                    )
                                }) =>
                        {
                            federated.push(f.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
        if any_account {
            nodes.push(Node {
                arn: format!("arn:aws:iam::{ANY_ACCOUNT}:root"),
                kind: NodeKind::AnyAccount,
                account: ANY_ACCOUNT.into(),
                loc: None,
            });
        }
        if anonymous {
            nodes.push(Node {
                arn: "anonymous".into(),
                kind: NodeKind::Anonymous,
                account: String::new(),
                loc: None,
            });
        }
        federated.sort();
        for f in federated {
            nodes.push(Node {
                account: arn_account(&f).unwrap_or_default().to_owned(),
                arn: f,
                kind: NodeKind::Federated,
                loc: None,
            });
        }
        services.sort();
        for svc in services {
            nodes.push(Node {
                arn: svc,
                kind: NodeKind::Service,
                account: String::new(),
                loc: None,
            });
        }
        let by_arn = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.arn.clone(), i))
            .collect();
        Env {
            accounts,
            org,
            resource_policies,
            nodes,
            by_arn,
            now_ms: now_ms(),
            progress: std::sync::Arc::new(NoProgress),
        }
    }

    /// The analysed account.
    pub fn main_account(&self) -> &Account {
        &self.accounts[0]
    }

    /// Find a node by ARN or by user/role name in the analysed account.
    pub fn find(&self, s: &str) -> Option<usize> {
        if let Some(&i) = self.by_arn.get(s) {
            return Some(i);
        }
        let main = &self.accounts[0].id;
        self.nodes.iter().position(|n| {
            &n.account == main && !n.kind.is_outside() && n.arn.rsplit('/').next() == Some(s)
        })
    }

    /// The IAM user behind node `n`, if it is one.
    pub fn user(&self, n: usize) -> Option<&load::User> {
        let node = &self.nodes[n];
        match (node.kind, node.loc) {
            (NodeKind::User, Some((a, i))) => self.accounts[a].users.get(i),
            _ => None,
        }
    }

    /// The IAM role behind node `n`, if it is one.
    pub fn role(&self, n: usize) -> Option<&load::Role> {
        let node = &self.nodes[n];
        match (node.kind, node.loc) {
            (NodeKind::Role, Some((a, i))) => self.accounts[a].roles.get(i),
            _ => None,
        }
    }

    /// The loaded account of node `n`, if it has one.
    pub(crate) fn account_of(&self, n: usize) -> Option<&Account> {
        self.nodes[n].loc.map(|(a, _)| &self.accounts[a])
    }

    fn scps_for(&self, account: &str) -> Vec<Vec<Policy>> {
        self.org
            .as_ref()
            .and_then(|o| o.accounts.get(account))
            .map(|l| l.0.clone())
            .unwrap_or_default()
    }

    fn rcps_for(&self, account: &str) -> Vec<Vec<Policy>> {
        self.org
            .as_ref()
            .and_then(|o| o.accounts.get(account))
            .map(|l| l.1.clone())
            .unwrap_or_default()
    }

    /// The identity-side policies of a node: (identity policies, boundary).
    pub(crate) fn identity_of(&self, n: usize) -> (Vec<Policy>, Option<Policy>) {
        let mut pols = Vec::new();
        let mut boundary = None;
        let Some(acct) = self.account_of(n) else {
            return match self.nodes[n].kind {
                NodeKind::External | NodeKind::AnyAccount => {
                    (external_policy().into_iter().collect(), None)
                }
                _ => (Vec::new(), None),
            };
        };
        let managed = |arn: &str| acct.policies.get(arn).map(|m| m.default_doc().clone());
        if let Some(u) = self.user(n) {
            pols.extend(u.inline.iter().cloned());
            pols.extend(u.attached.iter().filter_map(|a| managed(a)));
            for g in &u.groups {
                if let Some(g) = acct.group(g) {
                    pols.extend(g.inline.iter().cloned());
                    pols.extend(g.attached.iter().filter_map(|a| managed(a)));
                }
            }
            boundary = u.boundary.as_deref().and_then(managed);
        } else if let Some(r) = self.role(n) {
            pols.extend(r.inline.iter().cloned());
            pols.extend(r.attached.iter().filter_map(|a| managed(a)));
            boundary = r.boundary.as_deref().and_then(managed);
        }
        (pols, boundary)
    }

    /// The evaluator scenario of a node (no resource policy yet).
    pub fn scenario_of(&self, n: usize) -> Scenario {
        let (identity_policies, permissions_boundary) = self.identity_of(n);
        let mut sc = Scenario::empty();
        sc.identity_policies = identity_policies;
        sc.permissions_boundary = permissions_boundary;
        sc.scps = self.scps_for(&self.nodes[n].account);
        sc.management_account = self.org.as_ref().and_then(|o| o.management_account.clone());
        sc
    }

    /// The request principal of a node; roles act through a session (named `session`).
    pub(crate) fn principal_of(&self, n: usize, session: Option<&str>) -> Principal {
        let node = &self.nodes[n];
        let partition = node.arn.split(':').nth(1).unwrap_or("aws").to_owned();
        let account = node.account.clone();
        match node.kind {
            NodeKind::User => {
                let (path, name) = self
                    .user(n)
                    .map(|u| (u.path.clone(), u.name.clone()))
                    .unwrap_or_default();
                Principal {
                    raw: node.arn.clone(),
                    partition,
                    account,
                    kind: PrincipalKind::User { path, name },
                }
            }
            NodeKind::Role => {
                let (path, name) = self
                    .role(n)
                    .map(|r| (r.path.clone(), r.name.clone()))
                    .unwrap_or_default();
                let s = session.unwrap_or("iamprove").to_owned();
                Principal {
                    raw: format!("arn:{partition}:sts::{account}:assumed-role/{name}/{s}"),
                    partition,
                    account,
                    kind: PrincipalKind::RoleSession {
                        role: name,
                        path: Some(path),
                        session: Some(s),
                    },
                }
            }
            _ => Principal::parse(&node.arn).unwrap_or(Principal {
                raw: node.arn.clone(),
                partition,
                account: account.clone(),
                kind: PrincipalKind::Root,
            }),
        }
    }

    /// Facts about the caller and the moment, plus default values for common request keys.
    pub fn baseline_context(&self, n: usize) -> Context {
        let mut ctx = Context::new();
        let mut put = |k: &str, v: String| {
            ctx.insert(
                k.to_lowercase(),
                CtxValue {
                    key: k.to_owned(),
                    values: vec![v],
                    multi: false,
                },
            );
        };
        let now = self.now_ms;
        put("aws:CurrentTime", crate::literal::format_date(now));
        put("aws:EpochTime", (now / 1000).to_string());
        put("aws:RequestedRegion", REGION.into());
        put("aws:SecureTransport", "true".into());
        let tags = match self.nodes[n].kind {
            NodeKind::User => self.user(n).map(|u| u.tags.clone()).unwrap_or_default(),
            NodeKind::Role => {
                put("aws:TokenIssueTime", crate::literal::format_date(now));
                self.role(n).map(|r| r.tags.clone()).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        for (k, v) in tags {
            put(&format!("aws:PrincipalTag/{k}"), v);
        }
        if let Some(o) = &self.org {
            if let (Some(id), true) = (&o.org_id, o.accounts.contains_key(&self.nodes[n].account)) {
                put("aws:PrincipalOrgID", id.clone());
            }
        }
        ctx
    }
}

/// One principal acting: its scenario and principal, reused for many requests.
pub(crate) struct Actor<'e> {
    /// The environment.
    pub env: &'e Env,
    /// The acting node.
    pub node: usize,
    /// Its scenario (identity policies, boundary, SCPs).
    pub sc: Scenario,
    /// Its baseline context (facts about the principal and the moment).
    pub base: Context,
    /// Memo of [`Actor::allowed`] (the scenario of an actor never changes).
    cache: HashMap<(String, String), bool>,
}

impl<'e> Actor<'e> {
    /// The actor for node `n` with the scenario the environment gives it.
    pub fn new(env: &'e Env, node: usize) -> Actor<'e> {
        Actor {
            env,
            node,
            sc: env.scenario_of(node),
            base: env.baseline_context(node),
            cache: HashMap::new(),
        }
    }

    /// The actor for node `n` with a given scenario.
    pub(crate) fn with_scenario(env: &'e Env, node: usize, sc: Scenario) -> Actor<'e> {
        Actor {
            env,
            node,
            sc,
            base: env.baseline_context(node),
            cache: HashMap::new(),
        }
    }

    /// Decide `action` on `resource` with extra context keys and an explicit resource policy
    /// (`None`: the one from `--resource-policies`, if any).
    pub fn decide(
        &mut self,
        action: &str,
        resource: &str,
        extra: &[(&str, &str)],
        rbp: Option<&Policy>,
        session: Option<&str>,
    ) -> Outcome {
        let principal = self.env.principal_of(self.node, session);
        let mut ctx = self.base.clone();
        for (k, v) in extra {
            ctx.insert(
                k.to_lowercase(),
                CtxValue {
                    key: (*k).to_owned(),
                    values: vec![(*v).to_owned()],
                    multi: false,
                },
            );
        }
        let req = Request::new(principal, action, resource, None, ctx);
        self.sc.resource_policy = rbp
            .cloned()
            .or_else(|| self.env.resource_policies.get(resource).cloned());
        self.sc.rcps = self.env.rcps_for(&req.resource_account);
        let out = decide(&self.sc, &req, self.env.now_ms);
        self.sc.resource_policy = None;
        out
    }

    /// Allowed unconditionally (baseline context)?
    pub fn allowed(&mut self, action: &str, resource: &str) -> bool {
        let key = (action.to_owned(), resource.to_owned());
        if let Some(&v) = self.cache.get(&key) {
            return v;
        }
        let v = self.decide(action, resource, &[], None, None).is_yes();
        self.cache.insert(key, v);
        v
    }
}

/// Does any Allow statement of these policies name an action matching `action` (ignoring resource
/// and conditions)? A cheap filter before real evaluation.
pub(crate) fn may_allow(pols: &[Policy], action: &str) -> bool {
    let a = action.to_lowercase();
    pols.iter().any(|p| {
        p.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.action.patterns.iter().any(|x| x.matches_lower(&a)) != s.action.negated
        })
    })
}

/// One hop: acting principal, action, resource; the statements that allowed it and the context keys
/// it needed.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The acting principal's ARN.
    pub principal: String,
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The session name chosen for a role assumption.
    pub session_name: Option<String>,
    /// The statements that allowed it.
    pub statements: Vec<StmtRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// The context keys it needed.
    pub conditions: Vec<CondReq>,
}

#[derive(Debug, Clone)]
/// A role assumption the evaluator allows.
pub struct Edge {
    /// The assumed role's node.
    pub to: usize,
    /// Allowed without conditions (else only under the step's conditions).
    pub yes: bool,
    /// The assumption as a step of a path.
    pub step: Step,
}

/// Trust-policy entries of a role that may admit `sts:AssumeRole` callers: candidate nodes.
/// `may_assume[n]`: whether node `n`'s identity policies may allow `sts:AssumeRole` at all
/// ([`may_allow`], computed once per node rather than once per node and role).
fn trust_candidates(
    env: &Env,
    role: &load::Role,
    may_assume: &[bool],
) -> Vec<(usize, Option<String>)> {
    let mut out: Vec<(usize, Option<String>)> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::new();
    let mut push = |n: usize, s: Option<String>, out: &mut Vec<(usize, Option<String>)>| {
        if seen.insert(n) {
            out.push((n, s));
        }
    };
    for s in &role.trust.statements {
        let Some(pe) = &s.principal else { continue };
        if s.effect != Effect::Allow || pe.negated {
            continue;
        }
        let names =
            |a: &str| s.action.patterns.iter().any(|x| x.matches_lower(a)) != s.action.negated;
        // federated callers: their own action
        for e in &pe.entries {
            if let PrincipalEntry::Federated(f) = e {
                if let Some(&n) = env.by_arn.get(f) {
                    if names(&assume_action(env, n).to_lowercase()) {
                        push(n, None, &mut out);
                    }
                }
            }
        }
        if !names("sts:assumerole") {
            continue;
        }
        for e in &pe.entries {
            match e {
                PrincipalEntry::Any => {
                    let role_account = arn_account(&role.arn).unwrap_or_default();
                    for (n, node) in env.nodes.iter().enumerate() {
                        if may_assume[n] || node.account == role_account {
                            push(n, None, &mut out);
                        }
                    }
                }
                PrincipalEntry::Account { account, .. } => {
                    for (n, node) in env.nodes.iter().enumerate() {
                        if &node.account == account && (node.kind.is_outside() || may_assume[n]) {
                            push(n, None, &mut out);
                        }
                    }
                    let root = format!("arn:aws:iam::{account}:root");
                    if let Some(&n) = env.by_arn.get(&root) {
                        push(n, None, &mut out);
                    }
                }
                PrincipalEntry::Arn(a) => {
                    if let Some(rest) = a.split_once(":assumed-role/") {
                        // a session of a role in an account we do not have: its own node
                        if let Some(&n) = env.by_arn.get(a) {
                            push(n, None, &mut out);
                        }
                        // a session of a role: whoever assumed that role picked the session name
                        if let Some((rname, sess)) = rest.1.split_once('/') {
                            let acct = arn_account(a).unwrap_or_default();
                            for (n, node) in env.nodes.iter().enumerate() {
                                if node.kind == NodeKind::Role
                                    && node.account == acct
                                    && node.arn.rsplit('/').next() == Some(rname)
                                {
                                    push(n, Some(sess.to_owned()), &mut out);
                                }
                            }
                        }
                    } else if let Some(&n) = env.by_arn.get(a) {
                        push(n, None, &mut out);
                    } else if let Some(acct) = arn_account(a) {
                        // role ARNs in trust policies may differ from the node's in path only by
                        // the path: match roles by name
                        if let Some(name) = a.strip_prefix(&format!("arn:aws:iam::{acct}:role/")) {
                            let name = name.rsplit('/').next().unwrap_or(name);
                            for (n, node) in env.nodes.iter().enumerate() {
                                if node.kind == NodeKind::Role
                                    && node.account == acct
                                    && node.arn.rsplit('/').next() == Some(name)
                                {
                                    push(n, None, &mut out);
                                }
                            }
                        }
                    }
                }
                PrincipalEntry::Service(svc) => {
                    if let Some(&n) = env.by_arn.get(svc) {
                        push(n, None, &mut out);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The action with which node `n` assumes a role: `sts:AssumeRoleWithWebIdentity` or
/// `sts:AssumeRoleWithSAML` for federated callers, `sts:AssumeRole` for everyone else.
pub(crate) fn assume_action(env: &Env, n: usize) -> &'static str {
    if env.nodes[n].kind != NodeKind::Federated {
        return "sts:AssumeRole";
    }
    match env.principal_of(n, None).kind {
        PrincipalKind::Saml { .. } => "sts:AssumeRoleWithSAML",
        _ => "sts:AssumeRoleWithWebIdentity",
    }
}

/// Progress of a long step of the analysis (role assumption, direct permissions, escalations),
/// reported as it runs. The account crate never prints: the caller decides how to show it (the
/// CLI draws a bar on a terminal, see `src/cli/progress.rs`). Units are principals; `inc` is
/// called from worker threads.
pub trait Progress: Send + Sync {
    /// A step named `label` with `total` units starts (it replaces any unfinished one).
    fn start(&self, label: &str, total: usize);
    /// One more unit of the current step is done.
    fn inc(&self);
    /// The current step is over.
    fn finish(&self);
}

/// Progress that shows nothing: the default of [`Env`] (library use, `check`, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _label: &str, _total: usize) {}
    fn inc(&self) {}
    fn finish(&self) {}
}

/// Start a step on `env`'s progress; the returned [`StepProgress`] ends it when dropped.
pub(crate) fn progress<'a>(env: &'a Env, total: usize, label: &str) -> StepProgress<'a> {
    env.progress.start(label, total);
    StepProgress(env.progress.as_ref())
}

/// One running step of [`Progress`]; finished when dropped.
pub(crate) struct StepProgress<'a>(&'a dyn Progress);

impl StepProgress<'_> {
    /// One more unit done.
    pub(crate) fn inc(&self) {
        self.0.inc();
    }
}

impl Drop for StepProgress<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// The role-assumption graph: for each node, the roles it can assume (checked by the evaluator).
pub struct Graph {
    /// Outgoing edges per node.
    pub edges: Vec<Vec<Edge>>,
}

impl Graph {
    /// Build the graph: one evaluator question per (caller, role whose trust names it).
    pub fn build(env: &Env) -> Graph {
        let may_assume: Vec<bool> = (0..env.nodes.len())
            .into_par_iter()
            .map(|n| may_allow(&env.identity_of(n).0, "sts:AssumeRole"))
            .collect();
        let roles: Vec<usize> = (0..env.nodes.len())
            .filter(|&n| env.nodes[n].kind == NodeKind::Role)
            .collect();
        // candidate callers per role
        let cands: Vec<(usize, Vec<(usize, Option<String>)>)> = roles
            .par_iter()
            .filter_map(|&r| {
                env.role(r)
                    .map(|role| (r, trust_candidates(env, role, &may_assume)))
            })
            .collect();
        let mut by_caller: Vec<Vec<(usize, Option<String>)>> = vec![Vec::new(); env.nodes.len()];
        for (r, cs) in cands {
            for (c, sess) in cs {
                if c != r {
                    by_caller[c].push((r, sess));
                }
            }
        }
        let pb = progress(env, env.nodes.len(), "role assumption");
        let edges: Vec<Vec<Edge>> = by_caller
            .into_par_iter()
            .enumerate()
            .map(|(c, targets)| {
                let mut out = Vec::new();
                if !targets.is_empty() {
                    let mut actor = Actor::new(env, c);
                    for (r, sess) in targets {
                        let Some(role) = env.role(r) else { continue };
                        let action = assume_action(env, c);
                        let o = actor.decide(
                            action,
                            &role.arn,
                            &[],
                            Some(&role.trust),
                            sess.as_deref(),
                        );
                        if o.allowed() {
                            out.push(Edge {
                                to: r,
                                yes: o.is_yes(),
                                step: Step {
                                    principal: env.nodes[c].arn.clone(),
                                    action: action.into(),
                                    resource: role.arn.clone(),
                                    session_name: sess,
                                    statements: o.evaluation().statements.clone(),
                                    conditions: o.conditions().to_vec(),
                                },
                            });
                        }
                    }
                }
                pb.inc();
                out
            })
            .collect();
        drop(pb);
        Graph { edges }
    }

    /// Every node reachable from `start` (itself included), with the best path: all-unconditional
    /// paths first, then the shortest.
    pub fn reach(&self, start: usize) -> Vec<(usize, Vec<Step>, bool)> {
        let mut out: Vec<(usize, Vec<Step>, bool)> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        for pass_yes in [true, false] {
            let mut parent: HashMap<usize, (usize, usize)> = HashMap::new();
            let mut q = VecDeque::new();
            let mut visited: HashSet<usize> = HashSet::new();
            q.push_back(start);
            visited.insert(start);
            while let Some(n) = q.pop_front() {
                if seen.insert(n) {
                    // reconstruct
                    let mut steps = Vec::new();
                    let mut cur = n;
                    while let Some(&(p, ei)) = parent.get(&cur) {
                        steps.push(self.edges[p][ei].step.clone());
                        cur = p;
                    }
                    steps.reverse();
                    out.push((n, steps, pass_yes));
                }
                for (ei, e) in self.edges[n].iter().enumerate() {
                    if pass_yes && !e.yes {
                        continue;
                    }
                    if visited.insert(e.to) {
                        parent.insert(e.to, (n, ei));
                        q.push_back(e.to);
                    }
                }
            }
        }
        out
    }
}

/// One principal that reaches an action, with its path.
#[derive(Debug, Clone, Serialize)]
pub struct Reach {
    /// The principal's ARN.
    pub arn: String,
    /// What kind of principal.
    pub kind: NodeKind,
    /// Role assumptions, then the final action.
    pub path: Vec<Step>,
    /// Context keys needed anywhere on the path (empty: unconditional).
    pub conditions: Vec<CondReq>,
}

/// Final verdict of a reachability question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Allowed in the baseline context.
    Yes,
    /// Allowed only when the caller sets some context keys.
    OnlyUnderConditions,
    /// Not allowed (proved).
    No,
    /// Undecided (a solver limit): the reason is given.
    Unknown,
}

/// Answer of `can`.
#[derive(Debug, Clone, Serialize)]
pub struct CanAnswer {
    /// The answer.
    pub verdict: Verdict,
    /// The principal asked about.
    pub principal: String,
    /// The action asked about.
    pub action: String,
    /// The resource asked about.
    pub resource: String,
    /// Role assumptions, then the final action.
    pub path: Vec<Step>,
    /// Context keys the path needs.
    pub conditions: Vec<CondReq>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Why the answer is unknown.
    pub unknown_because: Option<String>,
    /// For `no`: why each candidate path is blocked (layer, policy, statement).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<explain::Blocked>,
}

/// The distinct conditions of every step of `path`, in order of first appearance.
pub(crate) fn merge_conditions(path: &[Step]) -> Vec<CondReq> {
    let mut out: Vec<CondReq> = Vec::new();
    for s in path {
        for c in &s.conditions {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
    }
    out
}

/// `can PRINCIPAL ACTION RESOURCE`: ACTION and RESOURCE are patterns (see [`pattern`]).
pub fn can(env: &Env, graph: &Graph, start: usize, action: &str, resource: &str) -> CanAnswer {
    match pattern::Question::new(&[action.to_owned()], &[resource.to_owned()]) {
        Ok(q) => can_q(env, graph, start, &q, action, resource),
        Err(e) => CanAnswer {
            verdict: Verdict::Unknown,
            principal: env.nodes[start].arn.clone(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            path: Vec::new(),
            conditions: Vec::new(),
            unknown_because: Some(format!("invalid question: {e}")),
            blocked: Vec::new(),
        },
    }
}

fn rank(v: Verdict, yes_path: bool) -> u8 {
    match (v, yes_path) {
        (Verdict::Yes, true) => 0,
        (Verdict::Yes, false) | (Verdict::OnlyUnderConditions, _) => 1,
        (Verdict::Unknown, _) => 2,
        (Verdict::No, _) => 3,
    }
}

/// [`can`] for a compiled question; `action`/`resource` are only echoed.
pub(crate) fn can_q(
    env: &Env,
    graph: &Graph,
    start: usize,
    q: &pattern::Question,
    action: &str,
    resource: &str,
) -> CanAnswer {
    let opts = crate::query::QueryOptions::default();
    let reach = graph.reach(start);
    let results: Vec<(usize, Vec<Step>, bool, pattern::Direct)> = reach
        .par_iter()
        .map(|(n, path, yes_path)| {
            let d = pattern::direct(env, *n, q, &opts);
            (*n, path.clone(), *yes_path, d)
        })
        .collect();
    let best = results
        .iter()
        .min_by_key(|r| (rank(r.3.verdict, r.2), r.1.len()));
    let mut ans = CanAnswer {
        verdict: Verdict::No,
        principal: env.nodes[start].arn.clone(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        path: Vec::new(),
        conditions: Vec::new(),
        unknown_because: None,
        blocked: Vec::new(),
    };
    if let Some((_, path, _, d)) = best {
        match (d.verdict, &d.step) {
            (Verdict::Yes | Verdict::OnlyUnderConditions, Some(step)) => {
                let mut p = path.clone();
                p.push(step.clone());
                let conds = merge_conditions(&p);
                ans.verdict = if conds.is_empty() && d.verdict == Verdict::Yes {
                    Verdict::Yes
                } else {
                    Verdict::OnlyUnderConditions
                };
                ans.conditions = conds;
                ans.path = p;
            }
            (Verdict::Unknown, _) => {
                ans.verdict = Verdict::Unknown;
                ans.unknown_because = d.why.clone();
            }
            _ => {}
        }
    }
    if ans.verdict == Verdict::No {
        ans.blocked = explain::why_not(env, graph, start, q, &reach);
    }
    ans
}

/// Every principal that can perform some request matching `action` on `resource` (patterns),
/// directly or through role chains.
pub fn principals_reaching(env: &Env, graph: &Graph, action: &str, resource: &str) -> Vec<Reach> {
    match pattern::Question::new(&[action.to_owned()], &[resource.to_owned()]) {
        Ok(q) => principals_reaching_q(env, graph, &q).0,
        Err(_) => Vec::new(),
    }
}

/// [`principals_reaching`] for a compiled question; also the principals whose answer is unknown
/// (with the reason). This is the hook for account-wide invariants (`check`).
pub fn principals_reaching_q(
    env: &Env,
    graph: &Graph,
    q: &pattern::Question,
) -> (Vec<Reach>, Vec<(String, String)>) {
    reaching(env, graph, q, true)
}

/// [`principals_reaching_q`] with every principal answered on its own (no [`pattern::share_key`]
/// groups): the reference the shared answers are tested against.
#[doc(hidden)]
pub fn principals_reaching_unshared(
    env: &Env,
    graph: &Graph,
    q: &pattern::Question,
) -> (Vec<Reach>, Vec<(String, String)>) {
    reaching(env, graph, q, false)
}

fn reaching(
    env: &Env,
    graph: &Graph,
    q: &pattern::Question,
    share: bool,
) -> (Vec<Reach>, Vec<(String, String)>) {
    let n = env.nodes.len();
    let opts = crate::query::QueryOptions::default();
    let pb = progress(env, n, "direct permissions");
    // principals that must get the same answer share one query (see `pattern::share_key`)
    let keys: Vec<Option<String>> = (0..n)
        .into_par_iter()
        .map(|i| share.then(|| pattern::share_key(env, i, q)).flatten())
        .collect();
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    let mut rep: Vec<usize> = (0..n).collect();
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k {
            rep[i] = *first_of.entry(k.as_str()).or_insert(i);
        }
    }
    let firsts: Vec<Option<pattern::Direct>> = (0..n)
        .into_par_iter()
        .map(|i| {
            if rep[i] != i {
                return None;
            }
            let d = pattern::direct(env, i, q, &opts);
            pb.inc();
            Some(d)
        })
        .collect();
    let direct: Vec<pattern::Direct> = (0..n)
        .into_par_iter()
        .map(|i| {
            if let Some(d) = &firsts[i] {
                return d.clone();
            }
            let d = match &firsts[rep[i]] {
                Some(d) => pattern::shared(env, i, q, d, &opts),
                None => pattern::direct(env, i, q, &opts),
            };
            pb.inc();
            d
        })
        .collect();
    drop(pb);
    // Reverse breadth-first search from the principals allowed directly: one pass over the
    // graph instead of one search per principal. Pass 0: unconditional edges into principals
    // allowed unconditionally (rank 0); pass 1: any edge into any allowed principal (rank 1).
    let mut rev: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (from, es) in graph.edges.iter().enumerate() {
        for (ei, e) in es.iter().enumerate() {
            rev[e.to].push((from, ei));
        }
    }
    // next[i] = (edge index of i towards the target, or None at the target itself)
    let mut next: Vec<Option<Option<usize>>> = vec![None; n];
    let mut rank_of: Vec<u8> = vec![u8::MAX; n];
    for pass in 0..2u8 {
        // pass 1 also continues from everything pass 0 reached
        let mut q: VecDeque<usize> = (0..n).filter(|&i| next[i].is_some()).collect();
        for (i, d) in direct.iter().enumerate() {
            let ok = match pass {
                0 => d.verdict == Verdict::Yes,
                _ => matches!(d.verdict, Verdict::Yes | Verdict::OnlyUnderConditions),
            };
            if ok && d.step.is_some() && next[i].is_none() {
                next[i] = Some(None);
                rank_of[i] = pass;
                q.push_back(i);
            }
        }
        while let Some(t) = q.pop_front() {
            for &(from, ei) in &rev[t] {
                if next[from].is_some() || (pass == 0 && !graph.edges[from][ei].yes) {
                    continue;
                }
                next[from] = Some(Some(ei));
                rank_of[from] = pass;
                q.push_back(from);
            }
        }
    }
    // principals that reach an unknown answer (and nothing allowed)
    let mut unknown_via: Vec<Option<usize>> = vec![None; n];
    let mut q: VecDeque<usize> = VecDeque::new();
    for (i, d) in direct.iter().enumerate() {
        if d.verdict == Verdict::Unknown {
            unknown_via[i] = Some(i);
            q.push_back(i);
        }
    }
    while let Some(t) = q.pop_front() {
        for &(from, _) in &rev[t] {
            if unknown_via[from].is_none() {
                unknown_via[from] = unknown_via[t];
                q.push_back(from);
            }
        }
    }
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..n {
        if next[i].is_some() {
            let mut path = Vec::new();
            let mut cur = i;
            let mut guard = 0;
            while let Some(Some(ei)) = next[cur] {
                let e = &graph.edges[cur][ei];
                path.push(e.step.clone());
                cur = e.to;
                guard += 1;
                if guard > n {
                    break;
                }
            }
            if let Some(step) = &direct[cur].step {
                path.push(step.clone());
            }
            let _ = rank_of[i];
            out.push(Reach {
                arn: env.nodes[i].arn.clone(),
                kind: env.nodes[i].kind,
                conditions: merge_conditions(&path),
                path,
            });
        } else if let Some(m) = unknown_via[i] {
            unknown.push((
                env.nodes[i].arn.clone(),
                format!(
                    "{}: {}",
                    env.nodes[m].arn,
                    direct[m].why.clone().unwrap_or_default()
                ),
            ));
        }
    }
    out.sort_by(|a, b| a.arn.cmp(&b.arn));
    (out, unknown)
}

impl Env {
    /// [`principals_reaching`] with the role graph built on the fly: the entry point for
    /// account-wide invariants in `check` ("no principal outside X reaches `iam:*`").
    pub fn principals_reaching(&self, action: &str, resource: &str) -> Vec<Reach> {
        let graph = Graph::build(self);
        principals_reaching(self, &graph, action, resource)
    }
}
