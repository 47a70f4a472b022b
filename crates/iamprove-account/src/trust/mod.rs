//! `iamprove trust`: who can assume a role. For each role, the complete set of identities its
//! trust policy admits, as classes the solver computes (the realisable classes of the caller
//! fields), each with the conditions it must meet and a witness request replayed through the
//! evaluator; and hazards with stable codes, located at their statement (docs/trust.md).
//!
//! Two queries per role:
//! - AWS accounts, IAM principals, services and anonymous callers: the trust policy as a
//!   resource policy over a symbolic principal, action `sts:AssumeRole`, resource the role; the
//!   principal's classes are enumerated by blocking each class the solver returns.
//! - OIDC and SAML providers (`Federated`): per provider, the statements that apply to it over
//!   the provider's claim keys (`HOST:sub`, `HOST:aud`, `SAML:aud`, ...), which are free; the
//!   classes of the claim values are enumerated the same way. The witness names the provider as
//!   the request principal and the claims in `context` (DESIGN.md's federated scenario form).

pub mod providers;

use crate::eval::{explain, Applies, Decision, Evaluation, Matcher};
use crate::model::{
    CondValues, Condition, Effect, Policy, PolicyType, PrincipalEntry, ResourceElem, Statement,
    Template,
};
use crate::query::{self, Frame, Prepared, QueryOptions, Side, Solved};
use crate::request::{Context, Principal, PrincipalKind, Request};
use crate::scenario::Scenario;
use crate::solver::Model;
use crate::symbolic::encode::{AtomKey, Encoder, PrincipalMode, ACTION_SLOT, RESOURCE_SLOT};
use crate::symbolic::term::{and, bvar, not, T};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The action a role assumption through an OIDC provider asks for.
pub(crate) const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
/// The action a role assumption through a SAML provider asks for.
pub(crate) const WITH_SAML: &str = "sts:AssumeRoleWithSAML";

/// Account of a role given as a bare trust policy (no ARN known): used for nothing else.
pub const PLACEHOLDER_ACCOUNT: &str = "000000000000";

/// Condition keys that pin the caller to an account, organization or principal.
const PINNING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
];

/// The confused-deputy guards of a service principal.
const SOURCE_GUARDS: &[&str] = &[
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
];

/// One role to analyse.
#[derive(Debug, Clone)]
pub struct TrustRole {
    /// The role's ARN, or the file name for a bare trust policy.
    pub label: String,
    /// The role's ARN (a placeholder in account [`PLACEHOLDER_ACCOUNT`] for bare documents).
    pub arn: String,
    /// The trust policy.
    pub policy: Policy,
}

impl TrustRole {
    /// The role's account (from its ARN; [`PLACEHOLDER_ACCOUNT`] when the ARN has none).
    pub fn account(&self) -> String {
        self.arn
            .split(':')
            .nth(4)
            .filter(|a| !a.is_empty())
            .unwrap_or(PLACEHOLDER_ACCOUNT)
            .to_owned()
    }
}

/// How `trust` reads a role: which accounts are the user's, and the solver's limits.
pub struct TrustOptions {
    /// Accounts the user owns (`--trusted-accounts`, the organization's accounts).
    pub trusted_accounts: BTreeSet<String>,
    /// The organization's ID (`--org`): `aws:PrincipalOrgID` equal to it keeps a caller inside.
    pub org_id: Option<String>,
    /// Give up enumerating after this many solver classes per query (the answer is then unknown).
    pub max_classes: usize,
    /// The solver options of each query.
    pub query: QueryOptions,
}

impl Default for TrustOptions {
    fn default() -> Self {
        TrustOptions {
            trusted_accounts: BTreeSet::new(),
            org_id: None,
            max_classes: 200,
            query: QueryOptions::default(),
        }
    }
}

/// What kind of caller a class of identities is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// AWS accounts and IAM principals (`"AWS"` entries).
    Aws,
    /// AWS service principals.
    Service,
    /// Subjects of an OIDC provider (`sts:AssumeRoleWithWebIdentity`).
    Oidc,
    /// Users of a SAML provider (`sts:AssumeRoleWithSAML`).
    Saml,
    /// Unauthenticated callers (`"*"` read as anyone).
    Anonymous,
}

impl Kind {
    /// The kind's word, as serialized.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Aws => "aws",
            Kind::Service => "service",
            Kind::Oidc => "oidc",
            Kind::Saml => "saml",
            Kind::Anonymous => "anonymous",
        }
    }
}

/// One class of identities that can assume the role.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// What kind of caller.
    pub kind: Kind,
    /// The class in words.
    pub description: String,
    /// The class in pattern form: the principal entries or the claim patterns it matches.
    pub patterns: IdentityPatterns,
    /// What the caller must also meet (alternatives per granting statement).
    pub conditions: Vec<String>,
    /// The granting statements.
    pub statements: Vec<String>,
    /// For AWS principals: whether the account is the role's own, in `--trusted-accounts` or in
    /// the organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted: Option<bool>,
    /// A request of this class, in scenario form, that the evaluator allows (docs/trust.md says
    /// which policies to replay it with).
    pub witness: Value,
}

/// The class of an [`Identity`] in pattern form. Serialized as the object of its variant's
/// fields (`{"principal": [...]}`, `{"service": [...]}` or the provider's claim patterns).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum IdentityPatterns {
    /// AWS principals and anonymous callers: the principal entries of the class (`*`, account
    /// roots, ARNs).
    Principal {
        /// The entries.
        principal: Vec<String>,
    },
    /// Service principals.
    Service {
        /// The service names.
        service: Vec<String>,
    },
    /// Callers of an OIDC or SAML provider: the claim patterns the class matches and does not.
    Federated {
        /// The provider (ARN or host).
        provider: String,
        /// `sub` patterns the class matches.
        sub: Vec<String>,
        /// `sub` patterns it does not match.
        sub_not: Vec<String>,
        /// Audience patterns it matches.
        aud: Vec<String>,
        /// Audience patterns it does not match.
        aud_not: Vec<String>,
        /// The `sub` patterns in the provider's terms (fields of its subject grammar).
        sub_described: Vec<Value>,
    },
}

impl IdentityPatterns {
    /// The principal or service entries (empty for a federated class).
    pub fn entries(&self) -> &[String] {
        match self {
            IdentityPatterns::Principal { principal } => principal,
            IdentityPatterns::Service { service } => service,
            IdentityPatterns::Federated { .. } => &[],
        }
    }
}

/// How serious a hazard is (ordered: `Info` < `Warning` < `Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Likely too broad.
    Warning,
    /// Lets callers in that should not be.
    Error,
}

impl Severity {
    /// The severity's word, as serialized.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Hazard codes, their severities and one-line descriptions (docs/trust.md, SARIF rules).
pub const HAZARDS: &[(&str, &str, &str)] = &[
    ("public-trust", "error", "Any AWS account can assume the role: `\"AWS\": \"*\"` (or `\"*\"`) without a condition that pins the caller's account, organization or ARN."),
    ("oidc-no-sub", "error", "Any subject of the OIDC provider can assume the role (any repository, any service account): no condition on the `sub` claim."),
    ("oidc-wildcard-sub", "error", "A `sub` class admits another owner (error) or any branch, environment or service account of one owner (warning)."),
    ("oidc-no-aud", "warning", "No condition on the audience (`aud`, `app_id`) claim; an error for providers whose audience names the application (Google, Cognito, Facebook, Amazon)."),
    ("saml-no-aud", "warning", "A SAML provider without a `SAML:aud` condition: assertions for any recipient are accepted."),
    ("third-party-no-external-id", "error", "An account outside `--trusted-accounts` and the organization can assume the role without `sts:ExternalId` (confused deputy)."),
    ("service-no-source-guard", "warning", "A service principal can assume the role without `aws:SourceAccount`, `aws:SourceArn` or `aws:SourceOrgID` (confused deputy)."),
    ("cross-account-root", "info", "Another account's root is trusted: every principal of that account whose own policies allow it can assume the role (a warning outside the organization)."),
];

/// A hazard of a trust policy, located at its statement.
#[derive(Debug, Clone, Serialize)]
pub struct Hazard {
    /// The stable code (one of [`HAZARDS`]).
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong, in words.
    pub message: String,
    /// JSON path of the statement (`Statement[0]`).
    pub statement: String,
    /// A replayed request that shows it, in scenario form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<Value>,
}

/// The `trust` report of one role: who can assume it, and its hazards.
#[derive(Debug, Clone, Serialize)]
pub struct RoleReport {
    /// The role's label (its ARN, or the file name of a bare trust policy).
    pub role: String,
    /// The trust policy's name (file, `file#path` or dump label), for locations.
    #[serde(skip)]
    pub policy_name: String,
    /// The classes of identities that can assume the role.
    pub assumable_by: Vec<Identity>,
    /// The hazards found.
    pub hazards: Vec<Hazard>,
    /// Why the set of identities may be incomplete (solver timeout, class limit).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}

impl RoleReport {
    /// The most serious hazard's severity (`None` without hazards).
    pub fn worst(&self) -> Option<Severity> {
        self.hazards.iter().map(|h| h.severity).max()
    }
}

/// Analyse one role.
pub fn analyze(role: &TrustRole, opts: &TrustOptions) -> RoleReport {
    let mut rep = RoleReport {
        role: role.label.clone(),
        policy_name: role.policy.name.clone(),
        assumable_by: Vec::new(),
        hazards: Vec::new(),
        unknown: Vec::new(),
    };
    aws_side(role, opts, &mut rep);
    federated_side(role, opts, &mut rep);
    wildcard_federated(role, &mut rep);
    let mut seen = BTreeSet::new();
    rep.hazards
        .retain(|h| seen.insert((h.code, h.statement.clone(), h.message.clone())));
    rep.hazards.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.statement.cmp(&b.statement))
    });
    rep
}

// ------------------------------------------------------------------------------------------
// AWS principals, services, anonymous callers

/// The scenario that replays an `sts:AssumeRole` witness: the trust policy as the role's
/// resource policy, and for signed AWS principals an identity policy that allows everything
/// (the caller's own account must allow the call too).
pub fn aws_replay_scenario(role: &TrustRole, req: &Request) -> Scenario {
    let mut sc = Scenario::empty();
    sc.resource_policy = Some(role.policy.clone());
    if !matches!(
        req.principal.kind,
        PrincipalKind::Service(_) | PrincipalKind::Anonymous
    ) {
        sc.identity_policies = query::allow_all_policy().into_iter().collect();
    }
    sc
}

fn is_federated_raw(s: &str) -> bool {
    s.contains(":oidc-provider/")
        || s.contains(":saml-provider/")
        || Principal::parse(s).is_ok_and(|p| {
            matches!(
                p.kind,
                PrincipalKind::WebIdentity { .. } | PrincipalKind::Saml { .. }
            )
        })
}

/// Named principals of the trust policy, as readable witness candidates.
fn preferred_principals(role: &TrustRole) -> Vec<String> {
    let mut v = Vec::new();
    for s in &role.policy.statements {
        let Some(pe) = &s.principal else { continue };
        for e in &pe.entries {
            match e {
                PrincipalEntry::Account { partition, account } => {
                    v.push(format!("arn:{partition}:iam::{account}:root"));
                }
                PrincipalEntry::Arn(a) if a.contains(":role/") => {
                    // a session of the role
                    if let Some((head, name)) = a.rsplit_once('/') {
                        let acct_head = head.split(":role").next().unwrap_or(head);
                        v.push(format!(
                            "{}:assumed-role/{name}/session",
                            acct_head.replacen(":iam:", ":sts:", 1)
                        ));
                    }
                    v.push(a.clone());
                }
                PrincipalEntry::Arn(a) | PrincipalEntry::Service(a) => v.push(a.clone()),
                _ => {}
            }
        }
    }
    v.push("arn:aws:iam::777788889999:root".into());
    v
}

/// Is the key absent from the request (true when the query never mentions it)?
fn absent(enc: &Encoder, key: &str) -> T {
    match enc.keys.get(key) {
        Some(k) if !k.multi => not(bvar(k.presence)),
        Some(_) => crate::symbolic::term::ff(),
        None => crate::symbolic::term::tt(),
    }
}

/// Build the `sts:AssumeRole` query over a symbolic principal, with `extra` conjoined.
fn prepare_aws(
    role: &TrustRole,
    opts: &TrustOptions,
    extra: &dyn Fn(&mut Encoder) -> T,
) -> Result<Prepared, String> {
    let side = Side::Resource(role.policy.clone());
    let stmts: Vec<&Statement> = role.policy.statements.iter().collect();
    let frame = Frame {
        identity_only: false,
        principal: None,
        context: Context::new(),
        resource_account: Some(role.account()),
    };
    let arn = role.arn.clone();
    Prepared::new(
        frame,
        &stmts,
        &opts.query,
        preferred_principals(role),
        |enc| {
            let a = query::allowed(enc, &side);
            let act = enc.pred_of(ACTION_SLOT, vec![AtomKey::literal("sts:assumerole")]);
            let res = enc.pred_of(RESOURCE_SLOT, vec![AtomKey::literal(&arn)]);
            let x = extra(enc);
            // one predicate per principal entry: classes then tell entries of one statement
            // apart (the partition's classes are as fine as the predicates)
            for st in &role.policy.statements {
                if let Some(pe) = &st.principal {
                    for e in &pe.entries {
                        let _ = enc.principal_match(std::slice::from_ref(e));
                    }
                }
            }
            and([a, act, res, x])
        },
    )
}

/// The literals that block the principal's class in this model.
/// Literals that block a choice: (slot, class) pairs and (Boolean variable, value) pairs.
type Block = (Vec<(usize, u32)>, Vec<(usize, bool)>);

fn principal_block(enc: &Encoder, m: &Model) -> Option<Block> {
    let PrincipalMode::Symbolic { slot } = enc.principal else {
        return None;
    };
    slot_block(enc, m, slot)
}

fn slot_block(enc: &Encoder, m: &Model, slot: usize) -> Option<Block> {
    if let Some(c) = m.classes.get(&slot) {
        return Some((vec![(slot, *c)], Vec::new()));
    }
    let bools: Vec<(usize, bool)> = enc
        .pred_vars
        .iter()
        .filter(|((s, _), _)| *s == slot)
        .map(|(_, v)| (*v, m.bools.get(v).copied().unwrap_or(false)))
        .collect();
    (!bools.is_empty()).then_some((Vec::new(), bools))
}

/// Witness JSON of an AWS-side request.
fn aws_witness(req: &Request, enc: &Encoder) -> Value {
    query::request_json(req, enc)
}

/// Allow statements of the trust policy whose principal and action match the request (their
/// conditions may or may not hold), and Deny statements that apply ignoring conditions.
fn candidate_statements<'p>(
    policy: &'p Policy,
    req: &Request,
) -> (Vec<&'p Statement>, Vec<&'p Statement>) {
    let m = Matcher::new(req);
    let mut allows = Vec::new();
    let mut denies = Vec::new();
    for s in &policy.statements {
        let hit = matches!(
            m.applies(policy, s),
            Applies::Yes(_) | Applies::No(crate::eval::Miss::Condition(_))
        );
        if hit {
            match s.effect {
                Effect::Allow => allows.push(s),
                Effect::Deny => denies.push(s),
            }
        }
    }
    (allows, denies)
}

/// A condition as `Operator key [values]`, for reports.
pub(crate) fn show_condition(c: &Condition) -> String {
    let vals: Vec<String> = match &c.values {
        CondValues::Str(ts) => ts.iter().map(|t| t.raw.clone()).collect(),
        CondValues::Num(ns) => ns.iter().map(ToString::to_string).collect(),
        CondValues::Date(ds) => ds.iter().map(|d| crate::literal::format_date(*d)).collect(),
        CondValues::Bool(bs) | CondValues::Null(bs) => bs.iter().map(ToString::to_string).collect(),
        CondValues::Binary(bs) => bs.clone(),
        CondValues::Ip(ns) => ns.iter().map(ToString::to_string).collect(),
    };
    let shown = if vals.len() == 1 {
        format!("`{}`", vals[0])
    } else {
        format!(
            "one of {}",
            vals.iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!("{} {} {}", c.op.raw, c.key_raw, shown)
}

/// The conditions a caller must meet: for each granting statement its conditions (one
/// alternative per statement), and the conditions of Deny statements it must avoid.
fn conditions_of(allows: &[&Statement], denies: &[&Statement]) -> Vec<String> {
    let mut out = Vec::new();
    let with_conds: Vec<&&Statement> = allows.iter().filter(|s| !s.conditions.is_empty()).collect();
    let unconditional = allows.iter().any(|s| s.conditions.is_empty());
    if !unconditional {
        for s in &with_conds {
            let cs: Vec<String> = s.conditions.iter().map(show_condition).collect();
            if allows.len() > 1 {
                out.push(format!("either ({}) {}", s.path, cs.join(" and ")));
            } else {
                out.extend(cs);
            }
        }
    }
    for d in denies {
        if d.conditions.is_empty() {
            continue;
        }
        let cs: Vec<String> = d.conditions.iter().map(show_condition).collect();
        out.push(format!("not ({}, Deny) {}", d.path, cs.join(" and ")));
    }
    out
}

fn has_positive_condition(s: &Statement, keys: &[&str]) -> bool {
    s.conditions.iter().any(|c| {
        keys.contains(&c.key.as_str())
            && !matches!(
                c.op.base,
                crate::model::BaseOp::StringNotEquals
                    | crate::model::BaseOp::StringNotEqualsIgnoreCase
                    | crate::model::BaseOp::StringNotLike
                    | crate::model::BaseOp::ArnNotEquals
                    | crate::model::BaseOp::ArnNotLike
                    | crate::model::BaseOp::Null
            )
            && !c.op.if_exists
    })
}

fn describe_entry(e: &PrincipalEntry, role_account: &str) -> String {
    match e {
        PrincipalEntry::Any => "any principal of any AWS account".into(),
        PrincipalEntry::Account { account, .. } if account == role_account => {
            format!("principals of the role's own account {account} whose own policies allow sts:AssumeRole")
        }
        PrincipalEntry::Account { account, .. } => {
            format!("principals of account {account} whose own policies allow sts:AssumeRole")
        }
        PrincipalEntry::Arn(a) if a.contains(":role/") => format!("role {a} (its sessions)"),
        PrincipalEntry::Arn(a) if a.contains(":user/") => format!("user {a}"),
        PrincipalEntry::Arn(a) => format!("principal {a}"),
        PrincipalEntry::Service(s) => format!("service {s}"),
        PrincipalEntry::Federated(f) => format!("federated {f}"),
        PrincipalEntry::UniqueId(u) | PrincipalEntry::CanonicalUser(u) => format!("principal {u}"),
    }
}

fn entry_pattern(e: &PrincipalEntry) -> String {
    match e {
        PrincipalEntry::Any => "*".into(),
        PrincipalEntry::Account { partition, account } => {
            format!("arn:{partition}:iam::{account}:root")
        }
        PrincipalEntry::Arn(a)
        | PrincipalEntry::Service(a)
        | PrincipalEntry::Federated(a)
        | PrincipalEntry::UniqueId(a)
        | PrincipalEntry::CanonicalUser(a) => a.clone(),
    }
}

fn entry_account(e: &PrincipalEntry) -> Option<String> {
    match e {
        PrincipalEntry::Account { account, .. } => Some(account.clone()),
        PrincipalEntry::Arn(a) => a.split(':').nth(4).map(str::to_owned),
        _ => None,
    }
}

fn is_trusted(acct: &str, role: &TrustRole, opts: &TrustOptions) -> bool {
    acct == role.account() || opts.trusted_accounts.contains(acct)
}

fn aws_side(role: &TrustRole, opts: &TrustOptions, rep: &mut RoleReport) {
    let mut prep = match prepare_aws(role, opts, &|_| crate::symbolic::term::tt()) {
        Ok(p) => p,
        Err(e) => {
            rep.unknown.push(format!("AWS principals: {e}"));
            return;
        }
    };
    let confirm = |r: &Request| {
        r.resource == role.arn
            && !is_federated_raw(&r.principal.raw)
            && crate::eval::evaluate(&aws_replay_scenario(role, r), r).decision == Decision::Allow
    };
    let mut rounds = 0;
    loop {
        rounds += 1;
        if rounds > opts.max_classes {
            rep.unknown.push(format!(
                "AWS principals: more than {} principal classes; the list may be incomplete",
                opts.max_classes
            ));
            break;
        }
        match prep.solve(&confirm) {
            Solved::Found { request, model } => {
                let witness = aws_witness(&request, &prep.enc);
                record_aws(role, opts, &request, witness, rep);
                match principal_block(&prep.enc, &model) {
                    Some((cs, bs)) => prep.session.block(&cs, &bs, &prep.enc),
                    None => break,
                }
            }
            Solved::None => break,
            Solved::Unknown(why) => {
                rep.unknown.push(format!("AWS principals: {why}"));
                break;
            }
        }
    }
    aws_hazards(role, opts, rep);
}

fn record_aws(
    role: &TrustRole,
    opts: &TrustOptions,
    req: &Request,
    witness: Value,
    rep: &mut RoleReport,
) {
    let (allows, denies) = candidate_statements(&role.policy, req);
    let p = &req.principal;
    let role_account = role.account();
    let (kind, entries): (Kind, Vec<PrincipalEntry>) = {
        let mut named: Vec<PrincipalEntry> = Vec::new();
        let mut any = false;
        for s in &allows {
            let Some(pe) = &s.principal else { continue };
            if pe.negated {
                continue;
            }
            for e in &pe.entries {
                if crate::rules::entry_grant(e, p).is_some() {
                    if *e == PrincipalEntry::Any {
                        any = true;
                    } else if !named.contains(e) {
                        named.push(e.clone());
                    }
                }
            }
        }
        let kind = match p.kind {
            PrincipalKind::Service(_) => Kind::Service,
            PrincipalKind::Anonymous => Kind::Anonymous,
            _ => Kind::Aws,
        };
        if named.is_empty() && any {
            named.push(PrincipalEntry::Any);
        }
        (kind, named)
    };
    let conditions = conditions_of(&allows, &denies);
    let description = match kind {
        Kind::Anonymous => "anonymous (unsigned) callers".to_owned(),
        _ if entries.is_empty() => {
            // NotPrincipal statements
            format!("principals not excluded by NotPrincipal, such as {}", p.raw)
        }
        _ => entries
            .iter()
            .map(|e| describe_entry(e, &role_account))
            .collect::<Vec<_>>()
            .join("; "),
    };
    let trusted = match kind {
        Kind::Aws => Some(
            if entries.contains(&PrincipalEntry::Any) || entries.is_empty() {
                // inside only when every granting statement pins the organization
                opts.org_id.as_ref().is_some_and(|org| {
                allows.iter().all(|s| {
                    s.conditions.iter().any(|c| {
                        c.key == "aws:principalorgid"
                            && matches!(&c.values, CondValues::Str(ts) if ts.iter().all(|t| &t.raw == org))
                    })
                })
            })
            } else {
                entries
                    .iter()
                    .filter_map(entry_account)
                    .all(|a| is_trusted(&a, role, opts))
            },
        ),
        _ => None,
    };
    let patterns = match kind {
        Kind::Service => IdentityPatterns::Service {
            service: entries.iter().map(entry_pattern).collect(),
        },
        _ => IdentityPatterns::Principal {
            principal: entries.iter().map(entry_pattern).collect(),
        },
    };
    let statements: Vec<String> = allows.iter().map(|s| s.path.clone()).collect();
    // one identity per (kind, description, conditions): principal classes that differ only in
    // the shape of the principal (user, role session, root) describe the same grant
    if rep
        .assumable_by
        .iter()
        .any(|i| i.kind == kind && i.description == description && i.conditions == conditions)
    {
        return;
    }
    rep.assumable_by.push(Identity {
        kind,
        description,
        patterns,
        conditions,
        statements,
        trusted,
        witness,
    });
}

fn solve_one(
    role: &TrustRole,
    opts: &TrustOptions,
    extra: &dyn Fn(&mut Encoder) -> T,
) -> Result<Option<(Request, Value)>, String> {
    let mut prep = prepare_aws(role, opts, extra)?;
    let confirm = |r: &Request| {
        r.resource == role.arn
            && !is_federated_raw(&r.principal.raw)
            && crate::eval::evaluate(&aws_replay_scenario(role, r), r).decision == Decision::Allow
    };
    match prep.solve(&confirm) {
        Solved::Found { request, .. } => {
            let w = aws_witness(&request, &prep.enc);
            Ok(Some((request, w)))
        }
        Solved::None => Ok(None),
        Solved::Unknown(why) => Err(why.to_string()),
    }
}

/// The Allow statements that granted a replayed witness.
/// A hazard found by a solver query (`solve_one`): one per statement that grants the replayed
/// witness; a query that gave up is recorded as unknown for `subject`.
#[allow(clippy::too_many_arguments)]
fn witnessed_hazard(
    role: &TrustRole,
    res: Result<Option<(Request, Value)>, String>,
    code: &'static str,
    severity: Severity,
    message: String,
    subject: &str,
    found: &mut Vec<Hazard>,
    unknown: &mut Vec<String>,
) {
    match res {
        Ok(Some((req, w))) => {
            let sc = aws_replay_scenario(role, &req);
            for path in granting(role, &req, &sc) {
                found.push(Hazard {
                    code,
                    severity,
                    message: message.clone(),
                    statement: path,
                    witness: Some(w.clone()),
                });
            }
        }
        Ok(None) => {}
        Err(e) => unknown.push(format!("{code} for {subject}: {e}")),
    }
}

fn granting(role: &TrustRole, req: &Request, sc: &Scenario) -> Vec<String> {
    let ev: Evaluation = explain(sc, req);
    let v: Vec<String> = ev
        .statements
        .iter()
        .filter(|s| s.policy == role.policy.name && s.effect == "Allow")
        .map(|s| s.path.clone())
        .collect();
    if v.is_empty() {
        vec!["Statement".into()]
    } else {
        v
    }
}

fn aws_hazards(role: &TrustRole, opts: &TrustOptions, rep: &mut RoleReport) {
    let mut found: Vec<Hazard> = Vec::new();
    // public-trust: the class "any account" with a granting statement that pins nothing
    for id in &rep.assumable_by {
        if id.kind != Kind::Aws {
            continue;
        }
        let any = match &id.patterns {
            IdentityPatterns::Principal { principal } => {
                principal.iter().any(|p| p == "*") || principal.is_empty()
            }
            _ => false,
        };
        if !any {
            continue;
        }
        for path in &id.statements {
            let Some(s) = role.policy.statements.iter().find(|s| &s.path == path) else {
                continue;
            };
            if !has_positive_condition(s, PINNING_KEYS) {
                found.push(Hazard {
                    code: "public-trust",
                    severity: Severity::Error,
                    message: format!(
                        "any AWS principal of any account can assume the role{}",
                        if s.conditions.is_empty() {
                            String::new()
                        } else {
                            " (the statement's conditions do not pin the caller's account, organization or ARN)".into()
                        }
                    ),
                    statement: s.path.clone(),
                    witness: Some(id.witness.clone()),
                });
            }
        }
    }
    // cross-account-root and third-party-no-external-id, per named account entry
    let role_account = role.account();
    let mut untrusted: Vec<(String, Vec<PrincipalEntry>)> = Vec::new();
    for s in &role.policy.statements {
        if s.effect != Effect::Allow {
            continue;
        }
        let Some(pe) = &s.principal else { continue };
        if pe.negated {
            continue;
        }
        for e in &pe.entries {
            let Some(acct) = entry_account(e) else {
                continue;
            };
            if acct == role_account {
                continue;
            }
            if let PrincipalEntry::Account { .. } = e {
                let inside = is_trusted(&acct, role, opts);
                let assumable = rep.assumable_by.iter().any(|i| {
                    i.statements.contains(&s.path)
                        && matches!(&i.patterns, IdentityPatterns::Principal { principal }
                            if principal.iter().any(|p| *p == entry_pattern(e)))
                });
                if assumable {
                    found.push(Hazard {
                        code: "cross-account-root",
                        severity: if inside { Severity::Info } else { Severity::Warning },
                        message: format!(
                            "account {acct} ({}) is trusted as a whole: any of its principals whose own policies allow sts:AssumeRole can assume the role",
                            if inside { "trusted" } else { "not in --trusted-accounts or the organization" }
                        ),
                        statement: s.path.clone(),
                        witness: None,
                    });
                }
            }
            if !is_trusted(&acct, role, opts) {
                match untrusted.iter_mut().find(|(a, _)| *a == acct) {
                    Some((_, es)) => es.push(e.clone()),
                    None => untrusted.push((acct, vec![e.clone()])),
                }
            }
        }
    }
    for (acct, entries) in untrusted {
        let res = solve_one(role, opts, &|enc| {
            let m = enc.principal_match(&entries);
            and([m, absent(enc, "sts:externalid")])
        });
        witnessed_hazard(
            role,
            res,
            "third-party-no-external-id",
            Severity::Error,
            format!("account {acct}, outside --trusted-accounts and the organization, can assume the role without sts:ExternalId"),
            &format!("account {acct}"),
            &mut found,
            &mut rep.unknown,
        );
    }
    // service-no-source-guard, per service entry
    let mut services: Vec<String> = Vec::new();
    for s in &role.policy.statements {
        if s.effect != Effect::Allow {
            continue;
        }
        if let Some(pe) = s.principal.as_ref().filter(|pe| !pe.negated) {
            for e in &pe.entries {
                if let PrincipalEntry::Service(name) = e {
                    if !services.contains(name) {
                        services.push(name.clone());
                    }
                }
            }
        }
    }
    for svc in services {
        let entry = vec![PrincipalEntry::Service(svc.clone())];
        let res = solve_one(role, opts, &|enc| {
            let m = enc.principal_match(&entry);
            let mut parts = vec![m];
            for k in SOURCE_GUARDS {
                parts.push(absent(enc, k));
            }
            and(parts)
        });
        witnessed_hazard(
            role,
            res,
            "service-no-source-guard",
            Severity::Warning,
            format!("service {svc} can assume the role without aws:SourceAccount, aws:SourceArn or aws:SourceOrgID (confused deputy)"),
            &svc,
            &mut found,
            &mut rep.unknown,
        );
    }
    rep.hazards.extend(found);
}

// ------------------------------------------------------------------------------------------
// OIDC and SAML providers

fn star_resource() -> Option<ResourceElem> {
    Some(ResourceElem {
        negated: false,
        patterns: vec![Template::star_resource()],
    })
}

/// Does a statement's principal element cover the federated provider `f`?
fn covers_federated(s: &Statement, f: &str) -> bool {
    match &s.principal {
        None => false,
        Some(pe) if pe.negated => !pe
            .entries
            .iter()
            .any(|e| *e == PrincipalEntry::Any || *e == PrincipalEntry::Federated(f.to_owned())),
        Some(pe) => pe
            .entries
            .iter()
            .any(|e| *e == PrincipalEntry::Any || *e == PrincipalEntry::Federated(f.to_owned())),
    }
}

/// The statements of the trust policy that apply to callers of provider `f`, with the principal
/// element decided (removed) and the resource `*`: an identity-style policy over the claims.
pub(crate) fn provider_policy(policy: &Policy, f: &str) -> Policy {
    let statements = policy
        .statements
        .iter()
        .filter(|s| covers_federated(s, f))
        .map(|s| {
            let mut c = s.clone();
            c.principal = None;
            c.resource = star_resource();
            c
        })
        .collect();
    Policy {
        name: policy.name.clone(),
        kind: PolicyType::Identity,
        version: policy.version.clone(),
        id: policy.id.clone(),
        statements,
    }
}

fn federated_providers(policy: &Policy) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for s in &policy.statements {
        if s.effect != Effect::Allow {
            continue;
        }
        if let Some(pe) = s.principal.as_ref().filter(|pe| !pe.negated) {
            for e in &pe.entries {
                if let PrincipalEntry::Federated(f) = e {
                    if !v.contains(f) {
                        v.push(f.clone());
                    }
                }
            }
        }
    }
    v
}

/// The witness of a federated class in DESIGN.md's scenario form.
/// The provider's account (from its ARN), else the role's.
fn provider_account(role: &TrustRole, provider: &str) -> String {
    provider
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| role.account())
}

fn federated_witness(role: &TrustRole, provider: &str, action: &str, req: &Request) -> Value {
    let mut ctx = serde_json::Map::new();
    let derived: Vec<&str> = req
        .principal
        .derived_keys()
        .iter()
        .map(|(k, _)| *k)
        .collect();
    for (k, v) in &req.context {
        if derived.contains(&k.as_str()) {
            continue;
        }
        let val = if v.multi {
            Value::Array(v.values.iter().map(|s| Value::String(s.clone())).collect())
        } else {
            Value::String(v.values.first().cloned().unwrap_or_default())
        };
        ctx.insert(v.key.clone(), val);
    }
    let acct = provider_account(role, provider);
    let mut o = json!({
        "principal": provider,
        "action": action,
        "resource": role.arn,
        "resource_account": acct,
    });
    if !ctx.is_empty() {
        o["context"] = Value::Object(ctx);
    }
    o
}

/// Replay a federated witness through the evaluator with the trust policy as the role's
/// resource policy, when the request model knows the provider as a principal. `None`: the
/// provider cannot be a request principal in this build (then the claims were replayed against
/// [`provider_policy`]).
pub(crate) fn replay_federated(role: &TrustRole, witness: &Value) -> Option<Decision> {
    let p = Principal::parse(witness["principal"].as_str()?).ok()?;
    if matches!(p.kind, PrincipalKind::Service(_) | PrincipalKind::Anonymous) {
        return None;
    }
    let doc = json!({"request": witness});
    let mut sc = crate::scenario::scenario_from_json(
        &crate::json::Json::from_value(&doc),
        "witness",
        &std::path::PathBuf::from("."),
        true,
    )
    .ok()?;
    let req = sc.request.take()?;
    sc.resource_policy = Some(role.policy.clone());
    Some(crate::eval::evaluate(&sc, &req).decision)
}

/// The class of one claim key's value: the key's patterns it matches and those it does not (each
/// pattern is its own predicate, so the class decides every pattern). `None` when the key is not
/// in the query or the request lacks it.
fn key_class(enc: &Encoder, req: &Request, key: &str) -> Option<(Vec<String>, Vec<String>)> {
    let info = enc.keys.get(key)?;
    let slot = *info.slots.first()?;
    let d = enc.domain_of(slot)?;
    let value = req.context.get(key)?.values.first()?.clone();
    let mut yes = Vec::new();
    let mut no = Vec::new();
    for (i, a) in d.atoms.iter().enumerate() {
        let Some(p) = d.compiled.get(i) else { continue };
        if p.is_match(&value) {
            yes.push(a.text());
        } else {
            no.push(a.text());
        }
    }
    Some((yes, no))
}

/// Patterns of `key` that a caller must avoid: those of negated operators in Allow statements and
/// of positive operators in Deny statements.
fn negative_patterns(q: &Policy, key: &str) -> Vec<String> {
    use crate::model::BaseOp::*;
    let mut v = Vec::new();
    for s in &q.statements {
        for c in s.conditions.iter().filter(|c| c.key == key) {
            let negated = matches!(
                c.op.base,
                StringNotEquals
                    | StringNotEqualsIgnoreCase
                    | StringNotLike
                    | ArnNotEquals
                    | ArnNotLike
            );
            if negated == (s.effect == Effect::Allow) {
                if let CondValues::Str(ts) = &c.values {
                    v.extend(ts.iter().map(|t| t.raw.clone()));
                }
            }
        }
    }
    v
}

fn show_alternatives(pats: &[String]) -> String {
    pats.iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A prepared query over one federated provider's callers.
struct FedQuery {
    prep: Prepared,
    /// The scenario that replays a request of the query.
    confirm_sc: Scenario,
    /// The policy whose statements decide (the trust policy, or [`provider_policy`]).
    q: Policy,
    /// The provider is a request principal of the request model (the trust policy decides).
    native: bool,
}

/// Prepare "the trust policy lets a caller of provider `prov` call `action` on the role", with
/// `extra` conjoined. With the federated request model (the provider parses as a request
/// principal) the trust policy itself decides; otherwise the statements that apply to the
/// provider, over the claims (`provider_policy`).
fn prepare_federated(
    role: &TrustRole,
    prov: &str,
    action: &str,
    sub_key: &str,
    aud_key: &str,
    opts: &TrustOptions,
    extra: &dyn Fn(&mut Encoder) -> T,
) -> Result<FedQuery, String> {
    let native = Principal::parse(prov).ok().filter(|p| {
        matches!(
            p.kind,
            PrincipalKind::WebIdentity { .. } | PrincipalKind::Saml { .. }
        )
    });
    let q = if native.is_some() {
        role.policy.clone()
    } else {
        provider_policy(&role.policy, prov)
    };
    let confirm_sc = {
        let mut sc = Scenario::empty();
        if native.is_some() {
            sc.resource_policy = Some(role.policy.clone());
        } else {
            sc.identity_policies = vec![q.clone()];
        }
        sc
    };
    let stmts: Vec<&Statement> = q.statements.iter().collect();
    let frame = Frame {
        identity_only: false,
        principal: Some(native.clone().unwrap_or_else(query::default_principal)),
        context: Context::new(),
        resource_account: native.as_ref().map(|_| provider_account(role, prov)),
    };
    let action_lower = action.to_ascii_lowercase();
    let arn = role.arn.clone();
    let is_native = native.is_some();
    let prep = Prepared::new(frame, &stmts, &opts.query, Vec::new(), |enc| {
        let allowed = if is_native {
            enc.allowed_scenario(&confirm_sc)
        } else {
            let (a, d) = enc.allow_deny(&[&q]);
            and([a, not(d)])
        };
        let act = enc.pred_of(ACTION_SLOT, vec![AtomKey::literal(&action_lower)]);
        let mut parts = vec![allowed, act];
        if is_native {
            parts.push(enc.pred_of(RESOURCE_SLOT, vec![AtomKey::literal(&arn)]));
        }
        // one predicate per claim pattern: one class per pattern combination
        let slots: Vec<usize> = enc
            .keys
            .values()
            .filter_map(|k| k.slots.first().copied())
            .collect();
        for slot in slots {
            let atoms: Vec<AtomKey> = enc
                .domain_of(slot)
                .map(|d| d.atoms.clone())
                .unwrap_or_default();
            for atom in atoms {
                let _ = enc.pred_of(slot, vec![atom]);
            }
        }
        // a token always carries its subject and audience (IAM User Guide)
        for k in [sub_key, aud_key] {
            if let Some(info) = enc.keys.get(k) {
                if !info.multi {
                    parts.push(bvar(info.presence));
                }
            }
        }
        parts.push(extra(enc));
        and(parts)
    })?;
    Ok(FedQuery {
        prep,
        confirm_sc,
        q,
        native: is_native,
    })
}

fn federated_side(role: &TrustRole, opts: &TrustOptions, rep: &mut RoleReport) {
    for prov in federated_providers(&role.policy) {
        let saml = providers::is_saml(&prov);
        let action = if saml { WITH_SAML } else { WEB_IDENTITY };
        let prefix = providers::claim_prefix(&prov);
        let table = if saml {
            None
        } else {
            providers::provider_for(&prefix)
        };
        let aud_claim = table.map_or("aud", |t| t.aud_key.as_str());
        let sub_key = format!("{prefix}:sub");
        let aud_key = format!("{prefix}:{aud_claim}");
        let fq = match prepare_federated(role, &prov, action, &sub_key, &aud_key, opts, &|_| {
            crate::symbolic::term::tt()
        }) {
            Ok(f) => f,
            Err(e) => {
                rep.unknown.push(format!("{prov}: {e}"));
                continue;
            }
        };
        let FedQuery {
            mut prep,
            confirm_sc,
            q,
            native: is_native,
        } = fq;
        let confirm = |r: &Request| {
            (!is_native || r.resource == role.arn)
                && crate::eval::evaluate(&confirm_sc, r).decision == Decision::Allow
        };
        let claim_prefix = format!("{prefix}:");
        let mut rounds = 0;
        loop {
            rounds += 1;
            if rounds > opts.max_classes {
                rep.unknown.push(format!(
                    "{prov}: more than {} classes of claim values; the list may be incomplete",
                    opts.max_classes
                ));
                break;
            }
            match prep.solve(&confirm) {
                Solved::Found { request, model } => {
                    let request = readable_claims(&prep.enc, request, &confirm);
                    let witness = federated_witness(role, &prov, action, &request);
                    if let Some(dec) = replay_federated(role, &witness) {
                        if dec != Decision::Allow {
                            rep.unknown.push(format!(
                                "{prov}: internal error: the witness {witness} does not replay through the trust policy ({})",
                                dec.name()
                            ));
                            break;
                        }
                    }
                    let paths = granting_in(&q, &request, &confirm_sc);
                    record_federated(
                        &prov, saml, table, &sub_key, &aud_key, &prep.enc, &model, &q, &request,
                        witness, paths, rep,
                    );
                    // block this combination of claim classes
                    let mut cs = Vec::new();
                    let mut bs = Vec::new();
                    for info in prep.enc.keys.values() {
                        if !info.key.starts_with(&claim_prefix) || info.multi {
                            continue;
                        }
                        let present = model.bools.get(&info.presence).copied().unwrap_or(false);
                        bs.push((info.presence, present));
                        if present {
                            if let Some(slot) = info.slots.first() {
                                if let Some((c, b)) = slot_block(&prep.enc, &model, *slot) {
                                    cs.extend(c);
                                    bs.extend(b);
                                }
                            }
                        }
                    }
                    if cs.is_empty() && bs.is_empty() {
                        break;
                    }
                    prep.session.block(&cs, &bs, &prep.enc);
                }
                Solved::None => break,
                Solved::Unknown(why) => {
                    rep.unknown.push(format!("{prov}: {why}"));
                    break;
                }
            }
        }
    }
}

/// Replace solver-made claim values (`repo:my-org/`) by readable instances of the policy's own
/// patterns (`repo:my-org/example`) with the same truth value for every pattern of the key, as
/// long as the evaluator still allows the request.
fn readable_claims(enc: &Encoder, req: Request, confirm: &dyn Fn(&Request) -> bool) -> Request {
    let mut best = req;
    for info in enc.keys.values() {
        if info.multi {
            continue;
        }
        let Some(slot) = info.slots.first() else {
            continue;
        };
        let Some(d) = enc.domain_of(*slot) else {
            continue;
        };
        let Some(cur) = best
            .context
            .get(&info.key)
            .and_then(|v| v.values.first())
            .cloned()
        else {
            continue;
        };
        let bits = |s: &str| -> Vec<bool> { d.compiled.iter().map(|p| p.is_match(s)).collect() };
        let want = bits(&cur);
        for a in &d.atoms {
            let cand = a.text().replace('*', "example").replace('?', "x");
            if cand == cur || bits(&cand) != want {
                continue;
            }
            let mut r = best.clone();
            if let Some(v) = r.context.get_mut(&info.key) {
                v.values = vec![cand];
            }
            if confirm(&r) {
                best = r;
                break;
            }
        }
    }
    best
}

fn granting_in(q: &Policy, req: &Request, sc: &Scenario) -> Vec<String> {
    let ev = explain(sc, req);
    let v: Vec<String> = ev
        .statements
        .iter()
        .filter(|s| s.policy == q.name && s.effect == "Allow")
        .map(|s| s.path.clone())
        .collect();
    if v.is_empty() {
        vec!["Statement".into()]
    } else {
        v
    }
}

#[allow(clippy::too_many_arguments)]
fn record_federated(
    prov: &str,
    saml: bool,
    table: Option<&providers::Provider>,
    sub_key: &str,
    aud_key: &str,
    enc: &Encoder,
    m: &Model,
    q: &Policy,
    req: &Request,
    witness: Value,
    paths: Vec<String>,
    rep: &mut RoleReport,
) {
    let _ = m;
    let (sub_yes, sub_no) = key_class(enc, req, sub_key).unwrap_or_default();
    let (aud_yes, aud_no) = key_class(enc, req, aud_key).unwrap_or_default();
    let sub_neg = negative_patterns(q, sub_key);
    let sub_no: Vec<String> = sub_no.into_iter().filter(|p| sub_neg.contains(p)).collect();
    let aud_neg = negative_patterns(q, aud_key);
    let aud_no: Vec<String> = aud_no.into_iter().filter(|p| aud_neg.contains(p)).collect();
    // a negative pattern the value matches is no constraint on the class: only positives count
    let sub_yes: Vec<String> = sub_yes
        .into_iter()
        .filter(|p| !sub_neg.contains(p))
        .collect();
    let aud_yes: Vec<String> = aud_yes
        .into_iter()
        .filter(|p| !aud_neg.contains(p))
        .collect();
    let (allows, denies) = candidate_statements(q, req);
    let conditions = conditions_of(&allows, &denies);
    let kind = if saml { Kind::Saml } else { Kind::Oidc };
    let loc = paths.first().cloned().unwrap_or_else(|| "Statement".into());
    let mut hazard = |code: &'static str, severity: Severity, message: String| {
        rep.hazards.push(Hazard {
            code,
            severity,
            message,
            statement: loc.clone(),
            witness: Some(witness.clone()),
        });
    };
    // the subject in the provider's terms
    let mut sub_desc: Vec<String> = Vec::new();
    let mut described = Vec::new();
    let sub_claim = if saml { "SAML:sub" } else { "sub" };
    if sub_yes.is_empty() {
        if !saml {
            hazard(
                "oidc-no-sub",
                Severity::Error,
                format!(
                    "any subject of {prov} can assume the role{} (no condition on `{sub_key}`)",
                    table.map_or(String::new(), |t| format!(" (any {} of any owner)", t.noun))
                ),
            );
        }
        sub_desc.push(format!("any {sub_claim}"));
    } else {
        // the subject must match one pattern of each satisfied predicate; describe the last
        // (most specific) group in provider terms
        {
            for pat in &sub_yes {
                let fields = table.and_then(|t| providers::describe_sub(t, pat));
                match (table, fields) {
                    (Some(t), Some(fs)) => {
                        let scope_wild = fs.iter().any(|f| f.scope && f.is_wild());
                        let other_wild: Vec<&providers::FieldValue> =
                            fs.iter().filter(|f| !f.scope && f.is_wild()).collect();
                        if scope_wild {
                            hazard(
                                "oidc-wildcard-sub",
                                Severity::Error,
                                format!(
                                    "`{pat}` admits {} of another {}",
                                    t.noun,
                                    fs.iter()
                                        .find(|f| f.scope)
                                        .map_or("owner", |f| f.label.as_str())
                                ),
                            );
                        } else if !other_wild.is_empty() {
                            hazard(
                                "oidc-wildcard-sub",
                                Severity::Warning,
                                format!(
                                    "`{pat}` admits {}",
                                    other_wild
                                        .iter()
                                        .map(|f| f.show())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            );
                        }
                        described.push(json!({"sub": pat, "fields": fs.iter().map(|f| (f.name.clone(), Value::String(f.value.clone()))).collect::<serde_json::Map<_,_>>()}));
                        sub_desc.push(
                            fs.iter()
                                .map(providers::FieldValue::show)
                                .collect::<Vec<_>>()
                                .join(", "),
                        );
                    }
                    _ => {
                        if pat.contains(['*', '?']) {
                            // unknown grammar: a wildcard may admit anyone's workloads
                            let sev = if table.is_some() || pat == "*" {
                                Severity::Error
                            } else {
                                Severity::Warning
                            };
                            hazard(
                                "oidc-wildcard-sub",
                                sev,
                                format!("`{pat}` has a wildcard in a subject whose owner cannot be told from it"),
                            );
                        }
                        described.push(json!({"sub": pat}));
                        sub_desc.push(format!("{sub_claim} `{pat}`"));
                    }
                }
            }
        }
    }
    if aud_yes.is_empty() {
        if saml {
            hazard(
                "saml-no-aud",
                Severity::Warning,
                format!("SAML provider {prov} is trusted without a `SAML:aud` condition"),
            );
        } else {
            let required = table.is_none_or(|t| t.aud_required);
            hazard(
                "oidc-no-aud",
                if required && table.is_some() {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!(
                    "no condition on `{aud_key}`: tokens {prov} issued to any audience are accepted"
                ),
            );
        }
    }
    let who = match (saml, table) {
        (true, _) => format!("SAML users of {prov}"),
        (false, Some(t)) => format!("{} {} ({prov})", t.name, t.noun),
        (false, None) => format!("web identities of {prov}"),
    };
    let mut description = format!("{who}: {}", sub_desc.join("; and "));
    if !sub_no.is_empty() && !sub_yes.is_empty() {
        description.push_str(&format!(" (and not {})", show_alternatives(&sub_no)));
    } else if !sub_no.is_empty() {
        description.push_str(&format!(" except {}", show_alternatives(&sub_no)));
    }
    if !aud_yes.is_empty() {
        description.push_str(&format!("; audience {}", show_alternatives(&aud_yes)));
    }
    let patterns = IdentityPatterns::Federated {
        provider: prov.to_owned(),
        sub: sub_yes,
        sub_not: sub_no,
        aud: aud_yes,
        aud_not: aud_no,
        sub_described: described,
    };
    rep.assumable_by.push(Identity {
        kind,
        description,
        patterns,
        conditions,
        statements: paths,
        trusted: None,
        witness,
    });
}

/// `"Principal": "*"` (or `{"AWS": "*"}`) in an Allow that covers a federated assume action:
/// any provider registered in the account can be used. Reported, never silently dropped.
fn wildcard_federated(role: &TrustRole, rep: &mut RoleReport) {
    for s in &role.policy.statements {
        if s.effect != Effect::Allow {
            continue;
        }
        let any = s
            .principal
            .as_ref()
            .is_some_and(|pe| !pe.negated && pe.entries.contains(&PrincipalEntry::Any));
        if !any {
            continue;
        }
        for action in [WEB_IDENTITY, WITH_SAML] {
            let lower = action.to_ascii_lowercase();
            let covers =
                s.action.patterns.iter().any(|p| p.matches_lower(&lower)) != s.action.negated;
            if covers {
                rep.unknown.push(format!(
                    "{}: `Principal: *` with {action}: callers of any identity provider registered in the role's account may be admitted; iamprove does not enumerate providers it is not given (listed as public-trust)",
                    s.path
                ));
                rep.hazards.push(Hazard {
                    code: "public-trust",
                    severity: Severity::Error,
                    message: format!(
                        "`Principal: *` allows {action}: identities of any provider in the account"
                    ),
                    statement: s.path.clone(),
                    witness: None,
                });
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Inputs

/// Load a trust policy file: a bare document, a policy-version envelope, or `aws iam get-role`
/// output (`{"Role": {"Arn": ..., "AssumeRolePolicyDocument": ...}}`).
pub fn load_file(path: &std::path::Path) -> Result<TrustRole, crate::scenario::Errors> {
    use crate::json::{Json, JsonPath};
    use crate::scenario::{locate, read_json, InputError};
    let raw = read_json(path)?;
    let file = path.display().to_string();
    if let Some(r @ Json::Obj(_)) = raw.get("Role") {
        let arn = r.get("Arn").and_then(Json::as_str).map(str::to_owned);
        let prefix = JsonPath::root().key("Role").key("AssumeRolePolicyDocument");
        let doc = match r.get("AssumeRolePolicyDocument") {
            Some(d @ Json::Obj(_)) => d.clone(),
            Some(Json::Str(s)) => {
                let text = percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .unwrap_or_else(|_| s.clone());
                crate::json::parse(&text).map_err(|e| {
                    vec![InputError::new(
                        &file,
                        Some(prefix.to_string()),
                        format!("invalid JSON in the encoded document: {}", e.message),
                    )]
                })?
            }
            _ => {
                return Err(vec![InputError::new(
                    &file,
                    Some("Role".into()),
                    "get-role output without `AssumeRolePolicyDocument`",
                )])
            }
        };
        let name = format!("{file}#{prefix}");
        let policy = crate::parse::parse_policy(&doc, PolicyType::Trust, &name)
            .map_err(|e| locate(&file, &prefix, e))?;
        let arn = arn.unwrap_or_else(|| placeholder_arn(path));
        return Ok(TrustRole {
            label: arn.clone(),
            arn,
            policy,
        });
    }
    let (doc, prefix) = crate::parse::unwrap_envelope(&raw);
    let policy = crate::parse::parse_policy(doc, PolicyType::Trust, &file)
        .map_err(|e| locate(&file, &prefix, e))?;
    Ok(TrustRole {
        label: file,
        arn: placeholder_arn(path),
        policy,
    })
}

fn placeholder_arn(path: &std::path::Path) -> String {
    let stem: String = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = if stem.is_empty() { "role".into() } else { stem };
    format!("arn:aws:iam::{PLACEHOLDER_ACCOUNT}:role/{name}")
}

/// The roles of an account dump (`--account`).
pub fn roles_of_account(acct: &crate::account::load::Account) -> Vec<TrustRole> {
    acct.roles
        .iter()
        .map(|r| TrustRole {
            label: r.arn.clone(),
            arn: r.arn.clone(),
            policy: r.trust.clone(),
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// `only_assumable_by` (check spec invariant)

/// A federated identity an `only_assumable_by` invariant admits: a provider (ARN or host) and,
/// optionally, the `sub` and audience patterns (StringLike globs) its tokens must match.
#[derive(Debug, Clone)]
pub struct AllowedFederated {
    /// The provider's ARN or host.
    pub provider: String,
    /// Patterns the `sub` claim must match (`None`: any).
    pub sub: Option<Vec<String>>,
    /// Patterns the audience claim must match (`None`: any).
    pub aud: Option<Vec<String>>,
}

/// Everyone an `only_assumable_by` invariant admits.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// `AWS` (accounts, role and user ARNs) and `Service` entries.
    pub principals: Vec<PrincipalEntry>,
    /// The admitted federated identities.
    pub federated: Vec<AllowedFederated>,
}

/// The answer of an `only_assumable_by` invariant.
#[derive(Debug, Clone)]
pub enum OnlyOutcome {
    /// Proved: only the admitted callers can assume the role.
    Holds,
    /// A replayed request of a caller outside the list, and what it is.
    Violated {
        /// The replayed request (scenario form).
        counterexample: Value,
        /// Who the caller is, in words.
        detail: String,
    },
    /// Undecided (a solver limit): the reason.
    Unknown(String),
}

fn glob_any(pats: &[String], v: &str) -> bool {
    pats.iter().any(|p| crate::matching::glob(p).is_match(v))
}

fn same_provider(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || providers::claim_prefix(a) == providers::claim_prefix(b)
}

/// Prove that only the listed identities can assume the role, or give a replayed request of a
/// caller outside the list.
pub fn check_only_assumable_by(
    role: &TrustRole,
    allowed: &Allowed,
    opts: &TrustOptions,
) -> OnlyOutcome {
    // AWS principals and services
    let entries = allowed.principals.clone();
    let prep = prepare_aws(role, opts, &|enc| not(enc.principal_match(&entries)));
    let mut prep = match prep {
        Ok(p) => p,
        Err(e) => return OnlyOutcome::Unknown(e),
    };
    let confirm = |r: &Request| {
        r.resource == role.arn
            && !is_federated_raw(&r.principal.raw)
            && crate::rules::principal_grant(&allowed.principals, &r.principal).is_none()
            && crate::eval::evaluate(&aws_replay_scenario(role, r), r).decision == Decision::Allow
    };
    match prep.solve(&confirm) {
        Solved::Found { request, .. } => {
            return OnlyOutcome::Violated {
                counterexample: aws_witness(&request, &prep.enc),
                detail: format!("{} can assume the role", request.principal.raw),
            }
        }
        Solved::None => {}
        Solved::Unknown(why) => return OnlyOutcome::Unknown(why.to_string()),
    }
    let mut wild = RoleReport {
        role: String::new(),
        policy_name: String::new(),
        assumable_by: Vec::new(),
        hazards: Vec::new(),
        unknown: Vec::new(),
    };
    wildcard_federated(role, &mut wild);
    if let Some(u) = wild.unknown.first() {
        return OnlyOutcome::Unknown(u.clone());
    }
    // federated providers
    for prov in federated_providers(&role.policy) {
        let saml = providers::is_saml(&prov);
        let action = if saml { WITH_SAML } else { WEB_IDENTITY };
        let prefix = providers::claim_prefix(&prov);
        let table = if saml {
            None
        } else {
            providers::provider_for(&prefix)
        };
        let aud_claim = if saml {
            "aud"
        } else {
            table.map_or("aud", |t| t.aud_key.as_str())
        };
        let sub_key = format!("{prefix}:sub");
        let aud_key = format!("{prefix}:{aud_claim}");
        let listed = allowed
            .federated
            .iter()
            .find(|a| same_provider(&a.provider, &prov));
        let bad_value = |enc: &mut Encoder, key: &str, pats: &Option<Vec<String>>| -> T {
            let Some(pats) = pats else {
                return crate::symbolic::term::ff();
            };
            if pats.iter().any(|p| p == "*") {
                return crate::symbolic::term::ff();
            }
            let Some(info) = enc.keys.get(key) else {
                // the policy never tests the claim: any value passes
                return crate::symbolic::term::tt();
            };
            let (presence, slot) = (info.presence, info.slots.first().copied());
            let Some(slot) = slot else {
                return crate::symbolic::term::tt();
            };
            let atoms = pats
                .iter()
                .map(|p| AtomKey::glob(p, crate::matching::Mode::Plain))
                .collect();
            let m = enc.pred_of(slot, atoms);
            and([bvar(presence), not(m)])
        };
        let (sub_pats, aud_pats) = match listed {
            Some(a) => (a.sub.clone(), a.aud.clone()),
            None => (None, None),
        };
        let fq = prepare_federated(role, &prov, action, &sub_key, &aud_key, opts, &|enc| {
            if listed.is_none() {
                return crate::symbolic::term::tt();
            }
            let s = bad_value(enc, &sub_key, &sub_pats);
            let a = bad_value(enc, &aud_key, &aud_pats);
            crate::symbolic::term::or([s, a])
        });
        let FedQuery {
            mut prep,
            confirm_sc,
            native,
            ..
        } = match fq {
            Ok(f) => f,
            Err(e) => return OnlyOutcome::Unknown(format!("{prov}: {e}")),
        };
        // a claim the policy never tests gets a value outside the list
        let fill = |r: &Request| -> Request {
            let mut r = r.clone();
            for (key, pats) in [(&sub_key, &sub_pats), (&aud_key, &aud_pats)] {
                if let Some(pats) = pats {
                    if !r.context.contains_key(key.as_str()) {
                        let raw = if key == &aud_key && saml {
                            "SAML:aud".to_owned()
                        } else {
                            key.clone()
                        };
                        let v = ["iamprove-unlisted-value", "x"]
                            .into_iter()
                            .find(|v| !glob_any(pats, v))
                            .unwrap_or("iamprove-unlisted-value");
                        r.context.insert(
                            key.clone(),
                            crate::request::CtxValue {
                                key: raw,
                                values: vec![v.to_owned()],
                                multi: false,
                            },
                        );
                    }
                }
            }
            r
        };
        let outside = |r: &Request| -> bool {
            if listed.is_none() {
                return true;
            }
            let val = |k: &str| {
                r.context
                    .get(k)
                    .and_then(|v| v.values.first().cloned())
                    .unwrap_or_default()
            };
            sub_pats
                .as_ref()
                .is_some_and(|p| !glob_any(p, &val(&sub_key)))
                || aud_pats
                    .as_ref()
                    .is_some_and(|p| !glob_any(p, &val(&aud_key)))
        };
        let confirm = |r: &Request| {
            let r = fill(r);
            (!native || r.resource == role.arn)
                && outside(&r)
                && crate::eval::evaluate(&confirm_sc, &r).decision == Decision::Allow
        };
        match prep.solve(&confirm) {
            Solved::Found { request, .. } => {
                let request = readable_claims(&prep.enc, fill(&request), &confirm);
                let w = federated_witness(role, &prov, action, &request);
                let sub = request
                    .context
                    .get(&sub_key)
                    .and_then(|v| v.values.first().cloned());
                return OnlyOutcome::Violated {
                    detail: match (listed, sub) {
                        (None, _) => format!("callers of {prov}, which is not listed, can assume the role"),
                        (Some(_), Some(s)) => format!("a caller of {prov} with sub = {s} (outside the listed sub/aud patterns) can assume the role"),
                        (Some(_), None) => format!("a caller of {prov} outside the listed sub/aud patterns can assume the role"),
                    },
                    counterexample: w,
                };
            }
            Solved::None => {}
            Solved::Unknown(why) => return OnlyOutcome::Unknown(format!("{prov}: {why}")),
        }
    }
    OnlyOutcome::Holds
}
