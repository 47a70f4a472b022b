//! `iamprove why`: rebuild a denied request from an AccessDenied message or a CloudTrail record,
//! evaluate it against an account dump, name the blocking layers, and propose the smallest change
//! that allows it, re-evaluated to confirm.

use super::cloudtrail::{Event, Resource};
use crate::account::{Env, NodeKind};
use crate::eval::{evaluate, explain, Applies, Decision, Evaluation, Miss, SetName, StmtRef};
use crate::model::{Policy, PolicyType};
use crate::request::{Context, CtxValue, Principal, PrincipalKind, Request};
use crate::scenario::Scenario;
use serde::Serialize;
use serde_json::{json, Value};

/// What an AccessDenied message says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub principal: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    /// `explicit` or `implicit`, when the message gives a reason.
    pub deny: Option<&'static str>,
    /// The layer the message names (same names as `blocking[].layer`).
    pub layer: Option<&'static str>,
    /// The policy type as written.
    pub policy_type: Option<String>,
    /// The denying policy's ARN, when appended.
    pub policy_arn: Option<String>,
    /// Only an encoded authorization message (decode it with `aws sts decode-authorization-message`).
    pub encoded_only: bool,
}

fn layer_of_phrase(phrase: &str, explicit: bool) -> Option<&'static str> {
    let p = phrase.to_lowercase();
    Some(if p.starts_with("service control polic") {
        "scp"
    } else if p.starts_with("resource control polic") {
        "rcp"
    } else if p.starts_with("vpc endpoint polic") {
        "vpc_endpoint"
    } else if p.starts_with("permissions boundar") {
        "boundary"
    } else if p.starts_with("session polic") || p.starts_with("sessions polic") {
        "session"
    } else if p.starts_with("resource-based polic") || p.starts_with("role trust polic") {
        "resource_policy"
    } else if p.starts_with("identity-based polic") {
        if explicit {
            "explicit_deny"
        } else {
            "missing_allow"
        }
    } else {
        return None;
    })
}

const POLICY_PHRASES: &[&str] = &[
    "service control policy",
    "resource control policy",
    "VPC endpoint policy",
    "permissions boundary",
    "sessions policy",
    "session policy",
    "resource-based policy",
    "role trust policy",
    "identity-based policy",
];

/// Parse the AccessDenied message forms AWS prints (see docs/activity.md). `None` when the text
/// is not an authorization failure at all.
pub fn parse_message(text: &str) -> Option<Message> {
    let t = text.trim();
    let mut m = Message::default();
    const PERFORM: &str = "is not authorized to perform: ";
    let Some(i) = t.find(PERFORM) else {
        if t.contains("Encoded authorization failure message") {
            m.encoded_only = true;
            return Some(m);
        }
        return None;
    };
    if let Some(u) = t[..i].rfind("User: ") {
        let p = t[u + 6..i].trim();
        if !p.is_empty() {
            m.principal = Some(p.to_owned());
        }
    }
    let rest = &t[i + PERFORM.len()..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    m.action = Some(rest[..end].trim_end_matches(['.', ',']).to_owned());
    let mut rest = &rest[end..];
    // the reason, wherever it starts
    let reason_at = ["because no ", "with an explicit deny"]
        .iter()
        .filter_map(|k| rest.find(k))
        .min();
    let encoded_at = rest.find("Encoded authorization failure message");
    let cut = [reason_at, encoded_at].into_iter().flatten().min();
    if let Some(r) = rest.strip_prefix(" on resource: ") {
        let stop = cut.map_or(r.len(), |c| c.saturating_sub(" on resource: ".len()));
        let res = r[..stop.min(r.len())]
            .trim()
            .trim_end_matches('.')
            .trim_matches('"')
            .to_owned();
        if !res.is_empty() {
            m.resource = Some(res);
        }
    }
    if let Some(r) = reason_at {
        rest = &rest[r..];
        if let Some(after) = rest.strip_prefix("because no ") {
            m.deny = Some("implicit");
            if let Some(p) = POLICY_PHRASES.iter().find(|p| after.starts_with(*p)) {
                m.policy_type = Some((*p).to_owned());
                m.layer = layer_of_phrase(p, false);
            }
        } else if let Some(after) = rest.strip_prefix("with an explicit deny") {
            m.deny = Some("explicit");
            let after = after
                .trim_start()
                .trim_start_matches("in ")
                .trim_start_matches("an ")
                .trim_start_matches("a ")
                .trim_start_matches("the ");
            if let Some(p) = POLICY_PHRASES.iter().find(|p| after.starts_with(*p)) {
                m.policy_type = Some((*p).to_owned());
                m.layer = layer_of_phrase(p, true);
                if let Some(a) = after[p.len()..].strip_prefix(": ") {
                    let a = a.split_whitespace().next().unwrap_or("");
                    if a.starts_with("arn:") {
                        m.policy_arn = Some(a.trim_end_matches('.').to_owned());
                    }
                }
            }
        }
    }
    Some(m)
}

/// A policy layer of the evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layer {
    Identity,
    Boundary,
    Session,
    Scp(usize),
    Rcp(usize),
    Resource,
    Vpce,
}

impl Layer {
    fn of(set: &SetName) -> Layer {
        match set {
            SetName::Identity => Layer::Identity,
            SetName::PermissionsBoundary => Layer::Boundary,
            SetName::Session => Layer::Session,
            SetName::Scp(l) => Layer::Scp(*l),
            SetName::Rcp(l) => Layer::Rcp(*l),
            SetName::Resource => Layer::Resource,
            SetName::VpcEndpoint => Layer::Vpce,
        }
    }
    fn set(&self) -> SetName {
        match self {
            Layer::Identity => SetName::Identity,
            Layer::Boundary => SetName::PermissionsBoundary,
            Layer::Session => SetName::Session,
            Layer::Scp(l) => SetName::Scp(*l),
            Layer::Rcp(l) => SetName::Rcp(*l),
            Layer::Resource => SetName::Resource,
            Layer::Vpce => SetName::VpcEndpoint,
        }
    }
    fn name(&self, explicit: bool) -> &'static str {
        match self {
            Layer::Identity if explicit => "explicit_deny",
            Layer::Identity => "missing_allow",
            Layer::Boundary => "boundary",
            Layer::Session => "session",
            Layer::Scp(_) => "scp",
            Layer::Rcp(_) => "rcp",
            Layer::Resource => "resource_policy",
            Layer::Vpce => "vpc_endpoint",
        }
    }
    fn policies_mut<'s>(&self, sc: &'s mut Scenario) -> Vec<&'s mut Policy> {
        match self {
            Layer::Identity => sc.identity_policies.iter_mut().collect(),
            Layer::Boundary => sc.permissions_boundary.iter_mut().collect(),
            Layer::Session => sc.session_policies.iter_mut().collect(),
            Layer::Scp(l) => sc
                .scps
                .get_mut(*l)
                .map(|v| v.iter_mut().collect())
                .unwrap_or_default(),
            Layer::Rcp(l) => sc
                .rcps
                .get_mut(*l)
                .map(|v| v.iter_mut().collect())
                .unwrap_or_default(),
            Layer::Resource => sc.resource_policy.iter_mut().collect(),
            Layer::Vpce => sc.vpc_endpoint_policy.iter_mut().collect(),
        }
    }
}

/// The rebuilt request and where its parts came from.
pub struct Rebuilt {
    pub request: Request,
    pub scenario: Scenario,
    pub notes: Vec<String>,
    pub principal_label: String,
}

/// A change of the fix.
#[derive(Debug, Clone)]
struct Change {
    layer: Layer,
    policy: String,
    /// `Some(stmt)`: add this statement; `None`: remove `statement`.
    add: Option<Value>,
    statement: String,
    sid: Option<String>,
    outside: Option<String>,
}

/// The result of `why`.
pub struct Why {
    pub request: Request,
    pub evaluation: Evaluation,
    pub blocking: Vec<Blocking>,
    pub fix: Option<Fix>,
    pub message: Option<MessageCheck>,
    /// Statements that match the action and resource but fail a condition.
    pub near_misses: Vec<NearMiss>,
    pub notes: Vec<String>,
    pub source: String,
}

/// One reason the request is denied: an applicable Deny statement (`deny` = `explicit`), or a
/// layer without an applicable Allow (`implicit`). Serialized as `blocking[]`.
#[derive(Debug, Clone, Serialize)]
pub struct Blocking {
    /// The layer, as the AccessDenied message names it (`scp`, `missing_allow`, …).
    pub layer: &'static str,
    /// `explicit` or `implicit`.
    pub deny: &'static str,
    /// The Deny statement's policy, or the policies the missing Allow belongs in (`null` when
    /// no change adding an Allow helps).
    pub policy: Option<String>,
    /// The Deny statement's JSON path (`null` for an implicit deny).
    pub statement: Option<String>,
    /// Explicit denies: the statement's Sid (`null` when it has none); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<Option<String>>,
    /// Implicit denies with a fix: what is missing, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// SCP/RCP layers: the organization level (`ou-prod`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

/// The smallest change found that makes the request allowed. Serialized as `fix`.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// The edits, in the order AWS evaluates the layers.
    pub changes: Vec<FixChange>,
    /// Some edit is outside the account's control.
    pub outside_account: bool,
    /// Re-evaluated with every edit: the request is allowed.
    pub confirmed: bool,
    /// The decision after the edits.
    pub decision_after: &'static str,
}

/// One edit of a [`Fix`].
#[derive(Debug, Clone, Serialize)]
pub struct FixChange {
    /// The layer (`explicit_deny`-style names for removals, as in [`Blocking::layer`]).
    pub layer: &'static str,
    /// The policy to edit.
    pub policy: String,
    /// The statement to remove, or the path the added one gets.
    pub statement: String,
    /// The edit is outside the account's control (`outside_reason` says why).
    pub outside_account: bool,
    /// `action`: what to do, with its data.
    #[serde(flatten)]
    pub edit: FixEdit,
    /// Why the account cannot make this edit itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside_reason: Option<String>,
}

/// What a [`FixChange`] does: serialized as `"action": "add_statement", "add": {…}` or
/// `"action": "remove_or_narrow_statement", "sid": …`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FixEdit {
    /// Add this statement.
    AddStatement {
        /// The statement, as written.
        add: Value,
    },
    /// Remove or narrow the Deny statement.
    RemoveOrNarrowStatement {
        /// Its Sid (`null` when it has none).
        sid: Option<String>,
    },
}

/// What the AccessDenied message said, compared with the evaluation. Serialized as `message`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageCheck {
    /// `explicit` or `implicit`, when the message gives a reason.
    pub deny: Option<&'static str>,
    /// The layer the message names.
    pub layer: Option<&'static str>,
    /// The policy type as written.
    pub policy_type: Option<String>,
    /// The denying policy's ARN, when appended.
    pub policy_arn: Option<String>,
    /// Only an encoded authorization message.
    pub encoded_only: bool,
    /// The message and the evaluation agree.
    pub agrees: bool,
    /// Where they do not, in words.
    pub disagreements: Vec<String>,
}

/// A statement that matches the action and resource but not a condition. Serialized as
/// `near_misses[]`.
#[derive(Debug, Clone, Serialize)]
pub struct NearMiss {
    /// The policy's label.
    pub policy: String,
    /// The statement's JSON path.
    pub statement: String,
    /// Its Sid (`null` when it has none).
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// The condition that fails, in words.
    pub why: String,
}

fn put(ctx: &mut Context, k: &str, v: String) {
    ctx.insert(
        k.to_lowercase(),
        CtxValue {
            key: k.to_owned(),
            values: vec![v],
            multi: false,
        },
    );
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The dump's user or role behind a request principal.
fn find_node(env: &Env, p: &Principal, notes: &mut Vec<String>) -> Result<usize, String> {
    let (kind, name) = match &p.kind {
        PrincipalKind::User { name, .. } => (NodeKind::User, name.clone()),
        PrincipalKind::RoleSession { role, .. } => (NodeKind::Role, role.clone()),
        other => {
            return Err(format!(
                "principal `{}` ({other:?}) is not a user or role session of the dump; `why` explains users and role sessions",
                p.raw
            ))
        }
    };
    let main = env.main_account().id.clone();
    let same_name = |n: &&crate::account::Node| {
        n.kind == kind && n.arn.rsplit('/').next() == Some(name.as_str())
    };
    if let Some(i) = env
        .nodes
        .iter()
        .position(|n| same_name(&n) && n.account == p.account)
    {
        return Ok(i);
    }
    if !is_account_id(&p.account) {
        if let Some(i) = env
            .nodes
            .iter()
            .position(|n| same_name(&n) && n.account == main)
        {
            notes.push(format!(
                "the principal's account `{}` is redacted; matched {} `{name}` of the dump's account {main} by name",
                p.account,
                if kind == NodeKind::User { "user" } else { "role" }
            ));
            return Ok(i);
        }
    }
    Err(format!(
        "{} `{name}` of account {} is not in the account dump (its account is {main}); pass the dump of the caller's account",
        if kind == NodeKind::User { "user" } else { "role" },
        p.account
    ))
}

/// Rebuild the request and its scenario.
pub fn rebuild(
    env: &Env,
    msg: Option<&Message>,
    event: Option<(&Event, &[Event])>,
) -> Result<Rebuilt, String> {
    let mut notes = Vec::new();
    let (principal, action, resource) = if let Some((ev, _)) = event {
        let p = ev.principal()?;
        let a = ev.action()?;
        let r = match ev.resource(&a) {
            Resource::Known(r) => r,
            Resource::Unknown(why) => match msg.and_then(|m| m.resource.clone()) {
                Some(r) => {
                    notes.push(format!("resource taken from the message ({why})"));
                    r
                }
                None => return Err(format!("cannot rebuild the resource: {why}")),
            },
        };
        (p, a, r)
    } else {
        let m = msg.ok_or("nothing to explain: give --message or --event")?;
        if m.encoded_only {
            return Err("the message carries only an encoded authorization message: decode it with `aws sts decode-authorization-message`, or pass the CloudTrail record with --event".into());
        }
        let p = m
            .principal
            .as_deref()
            .ok_or("the message names no principal (`User: ARN is not authorized ...`)")?;
        let p = Principal::parse(p).map_err(|e| format!("the message's principal: {e}"))?;
        let a = m.action.clone().ok_or("the message names no action")?;
        let a = crate::catalog::Catalog::get().display_name(&a).unwrap_or(a);
        let r = match &m.resource {
            Some(r) if r.starts_with("arn:") || r == "*" => r.clone(),
            Some(r) => {
                notes.push(format!(
                    "the message's resource `{r}` is not an ARN; evaluated with `*`"
                ));
                "*".into()
            }
            None => {
                let takes = crate::catalog::Catalog::get()
                    .action(&a)
                    .is_some_and(|(_, x)| x.takes_resources());
                if takes {
                    notes.push("the message names no resource; evaluated with `*`".to_owned());
                }
                "*".into()
            }
        };
        (p, a, r)
    };
    // the account root: no identity policies; the account's SCPs still apply
    let root = principal.kind == PrincipalKind::Root
        && env.accounts.iter().any(|a| a.id == principal.account);
    let node = if root {
        None
    } else {
        Some(find_node(env, &principal, &mut notes)?)
    };
    let mut sc = match node {
        Some(n) => env.scenario_of(n),
        None => {
            let mut sc = Scenario::empty();
            sc.scps = env
                .org
                .as_ref()
                .and_then(|o| o.accounts.get(&principal.account))
                .map(|l| l.0.clone())
                .unwrap_or_default();
            sc.management_account = env.org.as_ref().and_then(|o| o.management_account.clone());
            sc
        }
    };
    // the principal with the dump's path and the record's session name
    let mut principal = principal;
    let session_arn = principal.session_arn();
    if let (PrincipalKind::RoleSession { path, .. }, Some(r)) =
        (&mut principal.kind, node.and_then(|n| env.role(n)))
    {
        *path = Some(r.path.clone());
    }
    let mut ctx = node.map(|n| env.baseline_context(n)).unwrap_or_default();
    if let Some((ev, all)) = event {
        for (k, v) in ev.context() {
            ctx.insert(k, v);
        }
        // the session's tags and session policy, from the AssumeRole record that created it
        if let Some(sa) = &session_arn {
            if let Some((_, tags, policy)) = all
                .iter()
                .filter_map(Event::session_created)
                .find(|(arn, _, _)| arn == sa)
            {
                for (k, v) in tags {
                    put(&mut ctx, &format!("aws:PrincipalTag/{k}"), v);
                }
                if let Some(text) = policy {
                    match crate::parse::parse_policy_text(
                        &text,
                        PolicyType::Identity,
                        "session policy (from the AssumeRole record)",
                    ) {
                        Ok(p) => sc.session_policies.push(p),
                        Err(_) => notes.push(
                            "the AssumeRole record's session policy does not parse; ignored".into(),
                        ),
                    }
                }
            } else if principal.is_session() {
                notes.push("no AssumeRole record for this session in the input: session tags and session policies unknown (taken as none)".into());
            }
        }
    } else {
        notes.push("context from the message: none; baseline values used (time now, region from the resource or us-east-1, TLS)".into());
        if let Some(region) = resource.split(':').nth(3).filter(|r| !r.is_empty()) {
            put(&mut ctx, "aws:RequestedRegion", region.to_owned());
        }
    }
    if principal.session_arn().is_some() && !principal.raw.contains(":assumed-role/") {
        principal.raw = principal.session_arn().unwrap_or_default();
    }
    let (principal_partition, principal_account) =
        (principal.partition.clone(), principal.account.clone());
    let req = Request::new(principal, &action, &resource, None, ctx);
    // resource side: a role's trust policy for AssumeRole*, else --resource-policies
    if action.to_lowercase().starts_with("sts:assumerole") {
        if let Some(&n) = env.by_arn.get(&resource) {
            if let Some(r) = env.role(n) {
                sc.resource_policy = Some(r.trust.clone());
            }
        } else {
            notes.push(format!(
                "role `{resource}` is not in the dump: its trust policy is unknown (taken as none)"
            ));
        }
    }
    if sc.resource_policy.is_none() {
        sc.resource_policy = env.resource_policies.get(&resource).cloned();
    }
    // an S3 object is governed by its bucket's policy
    if sc.resource_policy.is_none() {
        if let Some((bucket, _)) = resource
            .strip_prefix("arn:aws:s3:::")
            .and_then(|r| r.split_once('/'))
        {
            let arn = format!("arn:aws:s3:::{bucket}");
            if let Some(p) = env.resource_policies.get(&arn) {
                sc.resource_policy = Some(p.clone());
                notes.push(format!(
                    "the object is governed by the policy of bucket `{arn}`"
                ));
            }
        }
    }
    sc.rcps = env
        .org
        .as_ref()
        .and_then(|o| o.accounts.get(&req.resource_account))
        .map(|l| l.1.clone())
        .unwrap_or_default();
    if env.org.is_none() {
        notes.push("no --org: SCPs and RCPs not evaluated".into());
    }
    let principal_label = node.map_or_else(
        || {
            format!(
                "arn:{}:iam::{}:root",
                principal_partition, principal_account
            )
        },
        |n| env.nodes[n].arn.clone(),
    );
    Ok(Rebuilt {
        request: req,
        scenario: sc,
        notes,
        principal_label,
    })
}

fn has_allow(ev: &Evaluation, layer: &Layer) -> bool {
    let set = layer.set();
    ev.trace.iter().any(|t| {
        t.stmt.set == set && t.stmt.effect == "Allow" && matches!(t.outcome, Applies::Yes(_))
    })
}

fn fix_statement(layer: &Layer, req: &Request) -> Value {
    let principal = req
        .principal
        .principal_arn()
        .unwrap_or_else(|| req.principal.raw.clone());
    let base = json!({"Sid": "IamproveWhyFix", "Effect": "Allow", "Action": req.action});
    let mut s = base;
    match layer {
        Layer::Resource => {
            s["Principal"] = json!({"AWS": principal});
            if !req.action.to_lowercase().starts_with("sts:assumerole") {
                s["Resource"] = json!(req.resource);
            }
        }
        // the only Allow an RCP may hold is RCPFullAWSAccess
        Layer::Rcp(_) => {
            s = json!({"Sid": "RCPFullAWSAccess", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"});
        }
        Layer::Vpce => {
            s["Principal"] = json!("*");
            s["Resource"] = json!(req.resource);
        }
        _ => s["Resource"] = json!(req.resource),
    }
    s
}

fn kind_of(layer: &Layer, req: &Request) -> PolicyType {
    match layer {
        Layer::Resource if req.action.to_lowercase().starts_with("sts:assumerole") => {
            PolicyType::Trust
        }
        Layer::Resource | Layer::Vpce => PolicyType::Resource,
        Layer::Scp(_) => PolicyType::Scp,
        Layer::Rcp(_) => PolicyType::Rcp,
        _ => PolicyType::Identity,
    }
}

/// Append `stmt` to the layer's chosen policy (or a new one). Returns (policy name, statement path).
fn add_statement(
    sc: &mut Scenario,
    layer: &Layer,
    stmt: &Value,
    req: &Request,
    target: Option<&str>,
) -> Option<(String, String)> {
    let kind = kind_of(layer, req);
    let doc = json!({"Version": "2012-10-17", "Statement": [stmt]}).to_string();
    let mut parsed = crate::parse::parse_policy_text(&doc, kind, "fix").ok()?;
    let mut st = parsed.statements.pop()?;
    {
        let mut pols = layer.policies_mut(sc);
        let chosen = match target {
            Some(t) => pols.iter_mut().position(|p| p.name == t),
            None => (!pols.is_empty()).then_some(0),
        };
        if let Some(i) = chosen {
            let p = &mut pols[i];
            st.index = p.statements.len();
            st.path = format!("Statement[{}]", st.index);
            let path = st.path.clone();
            p.statements.push(st);
            return Some((p.name.clone(), path));
        }
    }
    let name = match layer {
        Layer::Identity => format!(
            "new inline policy of {}",
            req.principal.principal_arn().unwrap_or_default()
        ),
        Layer::Resource => format!("resource policy of {}", req.resource),
        Layer::Session => "a session policy passed at AssumeRole".into(),
        Layer::Vpce => "VPC endpoint policy".into(),
        Layer::Boundary => "permissions boundary".into(),
        Layer::Scp(l) => format!("a new SCP attached at {}", level_label(sc, *l)),
        Layer::Rcp(l) => format!("RCPFullAWSAccess attached at {}", level_label(sc, *l)),
    };
    parsed.name = name.clone();
    st.index = 0;
    st.path = "Statement[0]".into();
    parsed.statements.push(st);
    match layer {
        Layer::Identity => sc.identity_policies.push(parsed),
        Layer::Session => sc.session_policies.push(parsed),
        Layer::Resource => sc.resource_policy = Some(parsed),
        Layer::Vpce => sc.vpc_endpoint_policy = Some(parsed),
        Layer::Boundary => sc.permissions_boundary = Some(parsed),
        Layer::Scp(l) => sc.scps.get_mut(*l)?.push(parsed),
        Layer::Rcp(l) => sc.rcps.get_mut(*l)?.push(parsed),
    }
    Some((name, "Statement[0]".into()))
}

fn remove_statement(sc: &mut Scenario, s: &StmtRef) {
    let layer = Layer::of(&s.set);
    for p in layer.policies_mut(sc) {
        if p.name == s.policy {
            p.statements.retain(|x| x.index != s.statement);
        }
    }
}

/// The name of organization level `l` (`ou-prod`), from its policies' labels.
fn level_label(sc: &Scenario, l: usize) -> String {
    sc.scps
        .get(l)
        .into_iter()
        .chain(sc.rcps.get(l))
        .flatten()
        .find_map(|p| level_name(&p.name))
        .map_or_else(|| format!("level {l}"), str::to_owned)
}

/// The level names of SCP/RCP policies: `SCP 0 at Root` → `Root`.
fn level_name(policy: &str) -> Option<&str> {
    policy.split_once(" at ").map(|(_, n)| n)
}

fn outside_reason(layer: &Layer, policy: &str, req: &Request) -> Option<String> {
    match layer {
        Layer::Scp(_) | Layer::Rcp(_) => Some(format!(
            "`{policy}` is an organization policy: only the organization's management account (or a delegated administrator) can change it"
        )),
        Layer::Resource if !req.same_account() => Some(format!(
            "the resource belongs to account {}: its owner must change the resource policy",
            req.resource_account
        )),
        Layer::Session => Some("session policies are passed by whoever calls AssumeRole/GetFederationToken: change the calling code or tooling, not the account".into()),
        Layer::Vpce => Some("the VPC endpoint policy is set on the endpoint by the network owner".into()),
        _ => None,
    }
}

/// The identity policy a fix should edit: an inline or customer-managed one, never AWS-managed.
fn identity_target(env: &Env, sc: &Scenario) -> Option<String> {
    let acct = env.main_account();
    let aws_managed: Vec<String> = env
        .accounts
        .iter()
        .flat_map(|a| a.policies.values())
        .filter(|m| !m.is_customer())
        .map(|m| m.default_doc().name.clone())
        .collect();
    let _ = acct;
    sc.identity_policies
        .iter()
        .find(|p| p.name.contains(" inline "))
        .or_else(|| {
            sc.identity_policies
                .iter()
                .find(|p| !aws_managed.contains(&p.name))
        })
        .map(|p| p.name.clone())
}

/// Explain one rebuilt request.
pub fn explain_request(env: &Env, rb: Rebuilt, msg: Option<&Message>, source: String) -> Why {
    let Rebuilt {
        request: req,
        scenario: sc,
        mut notes,
        principal_label,
    } = rb;
    let ev = explain(&sc, &req);
    let explicit = ev.decision == Decision::ExplicitDeny;
    let mut blocking = Vec::new();
    let mut changes: Vec<Change> = Vec::new();
    let mut fixed = sc.clone();
    if explicit {
        for s in &ev.statements {
            let layer = Layer::of(&s.set);
            blocking.push(Blocking {
                layer: layer.name(true),
                deny: "explicit",
                policy: Some(s.policy.clone()),
                statement: Some(s.path.clone()),
                sid: Some(s.sid.clone()),
                detail: None,
                level: None,
            });
            remove_statement(&mut fixed, s);
            changes.push(Change {
                outside: outside_reason(&layer, &s.policy, &req),
                layer,
                policy: s.policy.clone(),
                add: None,
                statement: s.path.clone(),
                sid: s.sid.clone(),
            });
        }
    }
    let mut after = evaluate(&fixed, &req);
    let mut found = after.decision == Decision::Allow;
    if ev.decision != Decision::Allow && !found {
        let ev1 = explain(&fixed, &req);
        // every layer lacking an applicable Allow, in-account ones first
        let mut lacking: Vec<Layer> = vec![Layer::Identity];
        if fixed.permissions_boundary.is_some() {
            lacking.push(Layer::Boundary);
        }
        if req.principal.is_session()
            && (!fixed.session_policies.is_empty()
                || matches!(req.principal.kind, PrincipalKind::FederatedUser { .. }))
        {
            lacking.push(Layer::Session);
        }
        lacking.extend((0..fixed.scps.len()).map(Layer::Scp));
        lacking.extend((0..fixed.rcps.len()).map(Layer::Rcp));
        if fixed.vpc_endpoint_policy.is_some() {
            lacking.push(Layer::Vpce);
        }
        lacking.retain(|l| !has_allow(&ev1, l));
        let with =
            |layers: &[Layer], base: &Scenario| -> (Scenario, Vec<(Layer, String, String)>) {
                let mut s = base.clone();
                let mut done = Vec::new();
                for l in layers {
                    let target = match l {
                        Layer::Identity => identity_target(env, base),
                        _ => None,
                    };
                    if let Some((p, st)) =
                        add_statement(&mut s, l, &fix_statement(l, &req), &req, target.as_deref())
                    {
                        done.push((l.clone(), p, st));
                    }
                }
                (s, done)
            };
        let mut chosen = lacking.clone();
        let (s, _) = with(&chosen, &fixed);
        let mut ok = evaluate(&s, &req).decision == Decision::Allow;
        if !ok {
            chosen.push(Layer::Resource);
            ok = evaluate(&with(&chosen, &fixed).0, &req).decision == Decision::Allow;
        }
        if ok {
            // minimise: drop layers whose change is not needed, outside-account ones first
            let mut order = chosen.clone();
            order.sort_by_key(|l| match l {
                Layer::Resource => 0,
                Layer::Rcp(_) => 1,
                Layer::Scp(_) => 2,
                Layer::Vpce => 3,
                Layer::Session => 4,
                Layer::Boundary => 5,
                Layer::Identity => 6,
            });
            for l in order {
                let trial: Vec<Layer> = chosen.iter().filter(|x| **x != l).cloned().collect();
                if evaluate(&with(&trial, &fixed).0, &req).decision == Decision::Allow {
                    chosen = trial;
                }
            }
            // report in the order AWS evaluates: organization guardrails, the endpoint, the
            // resource side, the identity side, then the boundary and the session
            chosen.sort_by_key(|l| match l {
                Layer::Scp(i) => 10 + i,
                Layer::Rcp(i) => 1000 + i,
                Layer::Vpce => 2000,
                Layer::Resource => 2001,
                Layer::Identity => 2002,
                Layer::Boundary => 2003,
                Layer::Session => 2004,
            });
            let (s, done) = with(&chosen, &fixed);
            for (l, p, st) in done {
                let stmt = fix_statement(&l, &req);
                let (policy_label, missing) = match l {
                    Layer::Identity => (
                        format!("identity policies of {principal_label}"),
                        format!(
                            "no identity policy of {principal_label} allows {} on {}",
                            req.action, req.resource
                        ),
                    ),
                    Layer::Resource => (p.clone(), format!("`{p}` does not admit the caller")),
                    _ => (
                        p.clone(),
                        format!("no statement of the {} allows it", l.set().label()),
                    ),
                };
                let lvl_policies: Vec<String> = match &l {
                    Layer::Scp(i) => fixed
                        .scps
                        .get(*i)
                        .map(|v| v.iter().map(|p| p.name.clone()).collect())
                        .unwrap_or_default(),
                    Layer::Rcp(i) => fixed
                        .rcps
                        .get(*i)
                        .map(|v| v.iter().map(|p| p.name.clone()).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let level = match &l {
                    Layer::Scp(i) | Layer::Rcp(i) => Some(level_label(&fixed, *i)),
                    _ => None,
                };
                let (policy_label, missing) = match (&l, &level) {
                    (Layer::Scp(_), Some(n)) if lvl_policies.is_empty() => {
                        (format!("SCPs at {n}"), format!("no SCP is attached at {n}"))
                    }
                    (Layer::Rcp(_), Some(n)) if lvl_policies.is_empty() => (
                        format!("RCPs at {n}"),
                        format!("no RCP is attached at {n}, so nothing passes there"),
                    ),
                    (Layer::Scp(_) | Layer::Rcp(_), Some(n)) => (
                        lvl_policies.join(", "),
                        format!(
                            "no statement of the {} attached at {n} allows it",
                            if matches!(l, Layer::Scp(_)) {
                                "SCPs"
                            } else {
                                "RCPs"
                            }
                        ),
                    ),
                    _ => (policy_label, missing),
                };
                blocking.push(Blocking {
                    layer: l.name(false),
                    deny: "implicit",
                    policy: Some(policy_label),
                    statement: None,
                    sid: None,
                    detail: Some(missing),
                    level,
                });
                changes.push(Change {
                    outside: outside_reason(&l, &p, &req),
                    layer: l,
                    policy: p,
                    add: Some(stmt),
                    statement: st,
                    sid: None,
                });
            }
            fixed = s;
            after = evaluate(&fixed, &req);
            found = after.decision == Decision::Allow;
        } else {
            for l in &lacking {
                blocking.push(Blocking {
                    layer: l.name(false),
                    deny: "implicit",
                    policy: None,
                    statement: None,
                    sid: None,
                    detail: None,
                    level: None,
                });
            }
            notes.push("no change adding Allow statements makes the request allowed (for example a root-only or service-only action, or a principal kind no policy can admit)".into());
        }
    }
    // near misses: statements that match but for a condition
    let near: Vec<NearMiss> = ev
        .trace
        .iter()
        .filter(|t| matches!(t.outcome, Applies::No(Miss::Condition(_))))
        .map(|t| NearMiss {
            policy: t.stmt.policy.clone(),
            statement: t.stmt.path.clone(),
            sid: t.stmt.sid.clone(),
            effect: t.stmt.effect.clone(),
            why: t.detail.clone(),
        })
        .collect();
    if !near.is_empty() {
        notes.push(format!(
            "{} statement(s) match the action and resource but not a condition (near misses)",
            near.len()
        ));
    }
    let fix = if ev.decision == Decision::Allow {
        None
    } else {
        Some(Fix {
            changes: changes
                .iter()
                .map(|c| FixChange {
                    layer: c.layer.name(c.add.is_none()),
                    policy: c.policy.clone(),
                    statement: c.statement.clone(),
                    outside_account: c.outside.is_some(),
                    edit: match &c.add {
                        Some(s) => FixEdit::AddStatement { add: s.clone() },
                        None => FixEdit::RemoveOrNarrowStatement { sid: c.sid.clone() },
                    },
                    outside_reason: c.outside.clone(),
                })
                .collect(),
            outside_account: changes.iter().any(|c| c.outside.is_some()),
            confirmed: found,
            decision_after: after.decision.name(),
        })
    };
    let message = msg.map(|m| message_verdict(m, &req, &ev, &blocking, env));
    Why {
        request: req,
        evaluation: ev,
        blocking,
        fix,
        message,
        near_misses: near,
        notes,
        source,
    }
}

fn message_verdict(
    m: &Message,
    req: &Request,
    ev: &Evaluation,
    blocking: &[Blocking],
    env: &Env,
) -> MessageCheck {
    let mut disagreements: Vec<String> = Vec::new();
    if ev.decision == Decision::Allow {
        let mut hint = String::from(
            "the dump allows this request, so the denial came from something the inputs lack",
        );
        match m.layer {
            Some("scp") | Some("rcp") if env.org.is_none() => hint.push_str(": pass --org with the organization's policies"),
            Some("resource_policy") => hint.push_str(": pass the resource's policy with --resource-policies"),
            Some("session") => hint.push_str(": the session policy passed at AssumeRole is not in the inputs"),
            _ => hint.push_str(" (an SCP/RCP, session policy, resource policy, boundary, a changed policy since the dump, or a condition on context the record does not carry)"),
        }
        disagreements.push(hint);
    } else {
        match (m.deny, ev.decision) {
            (Some("explicit"), Decision::ImplicitDeny) => disagreements.push("the message reports an explicit deny, the evaluation finds none: a Deny statement is missing from the inputs, or the dump is of another account or time".into()),
            (Some("implicit"), Decision::ExplicitDeny) => disagreements.push("the message reports an implicit deny, the evaluation finds an explicit one: the dump is newer than the denial or the message is from another request".into()),
            _ => {}
        }
        if let Some(l) = m.layer {
            let ours: Vec<&str> = blocking.iter().map(|b| b.layer).collect();
            if !ours.contains(&l) && disagreements.is_empty() {
                disagreements.push(format!(
                    "the message blames the {}, the evaluation blames {}",
                    m.policy_type.as_deref().unwrap_or(l),
                    if ours.is_empty() {
                        "nothing".to_owned()
                    } else {
                        ours.join(", ")
                    }
                ));
            }
        }
    }
    if let Some(a) = &m.action {
        if !a.eq_ignore_ascii_case(&req.action) {
            disagreements.push(format!(
                "the message names action `{a}`, the request is `{}`",
                req.action
            ));
        }
    }
    if let Some(p) = &m.principal {
        if p != &req.principal.raw && Some(p.as_str()) != req.principal.principal_arn().as_deref() {
            disagreements.push(format!("the message names principal `{p}`, the request's is `{}` (anonymised or redacted logs?)", req.principal.raw));
        }
    }
    MessageCheck {
        deny: m.deny,
        layer: m.layer,
        policy_type: m.policy_type.clone(),
        policy_arn: m.policy_arn.clone(),
        encoded_only: m.encoded_only,
        agrees: disagreements.is_empty(),
        disagreements,
    }
}

/// The request in scenario format.
pub fn request_json(r: &Request) -> Value {
    let mut ctx = serde_json::Map::new();
    let derived = r.principal.derived_keys();
    for (k, v) in &r.context {
        if derived
            .iter()
            .any(|(dk, dv)| dk == k && v.values.len() == 1 && &v.values[0] == dv)
        {
            continue;
        }
        let val = if v.multi {
            json!(v.values)
        } else {
            json!(v.values.first().cloned().unwrap_or_default())
        };
        ctx.insert(v.key.clone(), val);
    }
    let mut o = json!({
        "principal": r.principal.raw,
        "action": r.action,
        "resource": r.resource,
        "resource_account": r.resource_account,
    });
    if !ctx.is_empty() {
        o["context"] = Value::Object(ctx);
    }
    o
}

impl Why {
    pub fn to_json(&self) -> Value {
        json!({
            "source": self.source,
            "decision": self.evaluation.decision.name(),
            "reason": self.evaluation.reason,
            "request": request_json(&self.request),
            "blocking": self.blocking,
            "fix": self.fix,
            "message": self.message,
            "near_misses": self.near_misses,
            "notes": self.notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_forms() {
        let m = parse_message("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because no permissions boundary allows the codedeploy:ListDeployments action").unwrap();
        assert_eq!(m.layer, Some("boundary"));
        assert_eq!(m.deny, Some("implicit"));
        assert_eq!(
            m.resource.as_deref(),
            Some("arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*")
        );
        let m = parse_message("User: arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-x").unwrap();
        assert_eq!((m.deny, m.layer), (Some("explicit"), Some("scp")));
        assert!(m.policy_arn.unwrap().starts_with("arn:aws:organizations::"));
        let m = parse_message("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action").unwrap();
        assert_eq!(
            (m.deny, m.layer, m.resource),
            (Some("implicit"), Some("missing_allow"), None)
        );
        let m = parse_message("You are not authorized to perform this operation. Encoded authorization failure message: abc").unwrap();
        assert!(m.encoded_only);
        let m = parse_message("User: arn:aws:iam::1:user/u is not authorized to perform: s3:ListBucket on resource: \"arn:aws:s3:::b\" with an explicit deny in a resource-based policy").unwrap();
        assert_eq!(m.resource.as_deref(), Some("arn:aws:s3:::b"));
        assert_eq!(m.layer, Some("resource_policy"));
        assert!(parse_message("IAM user access not activated").is_none());
    }
}
