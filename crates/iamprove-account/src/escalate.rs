//! Privilege escalation (§6.3).
//!
//! **Gains permissions**, concretely: a method takes principal P to a *result* — P with modified
//! policies (self-modification), another principal T whose credentials or sessions P obtains
//! (access keys, login profiles, role assumption, a role passed to a service that runs P's code),
//! or, for the `grant` kind, another principal P can give arbitrary permissions to. The result
//! *gains* if some **probe** request is allowed for the result and not for P, both decided by the
//! evaluator in the baseline context. Probes are `*`, a fixed list of sensitive actions (on `*`),
//! and, for an existing target principal, every Allow statement's action pattern taken literally
//! with its first resource (so "T has a statement P's policies do not cover" counts). Self-modifying
//! methods are modelled as P plus an `Allow * on *` policy (still under P's boundary, SCPs and its
//! remaining explicit denies), which is what `PutUserPolicy` on oneself gives.
//!
//! Kinds: `self` — P itself ends up with more permissions (the usual meaning); `grant` — P can
//! give another principal permissions P does not have but cannot act as it (a delegated
//! escalation: any identity P colludes with, or later compromises, gains them).
//!
//! Methods that need non-IAM resources the dump cannot show (an existing Lambda function, stack,
//! Glue endpoint, EC2 instance, SageMaker notebook running as a role) are checked on a placeholder
//! resource in the account and carry an `assumes` note naming that resource and role.

#![allow(clippy::type_complexity)]

use super::conditions::CondReq;
use super::{may_allow, progress, Actor, Env, Graph, NodeKind, Step, REGION};
use crate::model::{Policy, PolicyType};
use crate::request::{Principal, PrincipalKind, Request};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::OnceLock;

const FIXED_PROBES: &[&str] = &[
    "*",
    "iam:*",
    "iam:PutUserPolicy",
    "iam:AttachRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateUser",
    "iam:PassRole",
    "sts:AssumeRole",
    "ec2:*",
    "ec2:RunInstances",
    "s3:*",
    "s3:GetObject",
    "lambda:*",
    "lambda:CreateFunction",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "ssm:SendCommand",
    "dynamodb:*",
    "organizations:*",
    "cloudformation:*",
];

/// Cap on the statement-derived probes of one principal (AWS-managed read-only policies list
/// thousands of actions).
const MAX_OWN_PROBES: usize = 300;

/// How an escalation is done: a method of IAM-SEMANTICS.md §6.3 by name, used directly or at the
/// end of an `sts:AssumeRole` chain. Serialized as its text (`sts:AssumeRole chain, then NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// The method's name (`iam:CreatePolicyVersion`, `iam:PassRole+lambda`, …).
    pub name: String,
    /// Reached after assuming one or more roles.
    pub via_chain: bool,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.via_chain {
            write!(f, "sts:AssumeRole chain, then {}", self.name)
        } else {
            f.write_str(&self.name)
        }
    }
}

impl Serialize for Method {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What an escalation gains: a probe request (action on resource) allowed after it and not
/// before. Serialized as its text: `ACTION` when the resource is `*`, else `ACTION on RESOURCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gain {
    /// The probe's action (`*` for every action).
    pub action: String,
    /// The probe's resource (`*` for any).
    pub resource: String,
}

impl Gain {
    /// Every action (`*`): administrator access, so every pattern question is reached too.
    pub fn is_any_action(&self) -> bool {
        self.action == "*"
    }
}

impl std::fmt::Display for Gain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.resource == "*" {
            f.write_str(&self.action)
        } else {
            write!(f, "{} on {}", self.action, self.resource)
        }
    }
}

impl Serialize for Gain {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Serialize)]
/// One privilege escalation of a principal (see the module docs).
pub struct Escalation {
    /// The escalating principal.
    pub principal: String,
    /// The method (`iam:CreatePolicyVersion`, `iam:PassRole+lambda`, …).
    pub method: Method,
    /// `self` or `grant` (see module docs).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The principal whose permissions are gained, when another one.
    pub target: Option<String>,
    /// A probe (action on resource) allowed after the escalation and not before.
    pub gains: Gain,
    /// Role assumptions and the escalating actions.
    pub path: Vec<Step>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Context keys the path needs.
    pub conditions: Vec<CondReq>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The role whose session the gains are used through, if any.
    pub assumes: Option<String>,
}

fn admin_policy() -> Option<Policy> {
    let doc = crate::json::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .ok()?;
    crate::parse::parse_policy(
        &doc,
        PolicyType::Identity,
        "policy the attacker writes (Allow * on *)",
    )
    .ok()
}

fn probes_of(pols: &[Policy]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = FIXED_PROBES
        .iter()
        .map(|a| ((*a).to_owned(), "*".to_owned()))
        .collect();
    let mut own = 0;
    'outer: for p in pols {
        for s in &p.statements {
            if s.effect != crate::model::Effect::Allow || s.action.negated {
                continue;
            }
            let res = match &s.resource {
                Some(r) if !r.negated => r
                    .patterns
                    .iter()
                    .find(|t| !t.has_vars())
                    .map(|t| t.raw.clone())
                    .unwrap_or_else(|| "*".into()),
                _ => "*".into(),
            };
            for a in &s.action.patterns {
                let pr = (a.raw.clone(), res.clone());
                if !v.contains(&pr) {
                    v.push(pr);
                    own += 1;
                    if own >= MAX_OWN_PROBES {
                        break 'outer;
                    }
                }
            }
        }
    }
    v
}

/// The probes an actor is allowed (baseline context, unconditional).
fn allowed_probes(actor: &mut Actor, probes: &[(String, String)]) -> Vec<(String, String)> {
    probes
        .iter()
        .filter(|(a, r)| actor.allowed(a, r))
        .cloned()
        .collect()
}

/// First probe allowed for the result and not for P.
fn gained(p: &mut Actor, result_allowed: &[(String, String)]) -> Option<(String, String)> {
    result_allowed
        .iter()
        .find(|(a, r)| !p.allowed(a, r))
        .cloned()
}

struct Ctx<'e> {
    env: &'e Env,
    graph: &'e Graph,
    profiles: Vec<OnceLock<Vec<(String, String)>>>,
    admin: Option<Policy>,
    /// Per role node: services whose principal the trust policy admits.
    services: Vec<Vec<&'static str>>,
    /// Nodes ordered by descending privilege (admins first): target search order.
    order: Vec<usize>,
    is_admin: Vec<bool>,
}

impl<'e> Ctx<'e> {
    fn profile(&self, n: usize) -> &Vec<(String, String)> {
        self.profiles[n].get_or_init(|| {
            let mut a = Actor::new(self.env, n);
            let probes = probes_of(&a.sc.identity_policies);
            allowed_probes(&mut a, &probes)
        })
    }
    fn modified_profile(&self, n: usize, sc: crate::scenario::Scenario) -> Vec<(String, String)> {
        let mut a = Actor::with_scenario(self.env, n, sc);
        let probes = probes_of(&[]);
        allowed_probes(&mut a, &probes)
    }
    fn with_admin(&self, sc: &crate::scenario::Scenario) -> crate::scenario::Scenario {
        let mut s = sc.clone();
        s.identity_policies.extend(self.admin.clone());
        s
    }
}

const SERVICES: &[&str] = &[
    "ec2",
    "lambda",
    "glue",
    "cloudformation",
    "datapipeline",
    "codebuild",
    "sagemaker",
];

/// PassRole-to-service methods: (method, service, required actions, alternatives (any one)).
type Req = (&'static str, &'static str);
struct PassMethod {
    name: &'static str,
    service: &'static str,
    needs_profile: bool,
    all: &'static [Req],
    any: &'static [&'static [Req]],
    /// `Some`: the method uses an existing resource running as the role.
    existing: Option<&'static str>,
}

const PASS_METHODS: &[PassMethod] = &[
    PassMethod { name: "iam:PassRole+ec2:RunInstances", service: "ec2", needs_profile: true, all: &[("ec2:RunInstances", "arn:aws:ec2:{R}:{A}:instance/*")], any: &[], existing: None },
    PassMethod {
        name: "iam:PassRole+lambda:CreateFunction",
        service: "lambda",
        needs_profile: false,
        all: &[("lambda:CreateFunction", "arn:aws:lambda:{R}:{A}:function:iamprove-escalation")],
        any: &[
            &[("lambda:InvokeFunction", "arn:aws:lambda:{R}:{A}:function:iamprove-escalation")],
            &[("lambda:CreateEventSourceMapping", "*")],
            &[("lambda:AddPermission", "arn:aws:lambda:{R}:{A}:function:iamprove-escalation")],
        ],
        existing: None,
    },
    PassMethod { name: "iam:PassRole+glue:CreateDevEndpoint", service: "glue", needs_profile: false, all: &[("glue:CreateDevEndpoint", "arn:aws:glue:{R}:{A}:devEndpoint/iamprove-escalation")], any: &[], existing: None },
    PassMethod { name: "iam:PassRole+cloudformation:CreateStack", service: "cloudformation", needs_profile: false, all: &[("cloudformation:CreateStack", "arn:aws:cloudformation:{R}:{A}:stack/iamprove-escalation/*")], any: &[], existing: None },
    PassMethod {
        name: "iam:PassRole+datapipeline:CreatePipeline",
        service: "datapipeline",
        needs_profile: false,
        all: &[("datapipeline:CreatePipeline", "*"), ("datapipeline:PutPipelineDefinition", "arn:aws:datapipeline:{R}:{A}:pipeline/df-iamprove")],
        any: &[],
        existing: None,
    },
    PassMethod {
        name: "iam:PassRole+codebuild:CreateProject",
        service: "codebuild",
        needs_profile: false,
        all: &[("codebuild:CreateProject", "arn:aws:codebuild:{R}:{A}:project/iamprove-escalation"), ("codebuild:StartBuild", "arn:aws:codebuild:{R}:{A}:project/iamprove-escalation")],
        any: &[],
        existing: None,
    },
    PassMethod {
        name: "iam:PassRole+sagemaker",
        service: "sagemaker",
        needs_profile: false,
        all: &[],
        any: &[
            &[("sagemaker:CreateNotebookInstance", "arn:aws:sagemaker:{R}:{A}:notebook-instance/iamprove-escalation"), ("sagemaker:CreatePresignedNotebookInstanceUrl", "arn:aws:sagemaker:{R}:{A}:notebook-instance/iamprove-escalation")],
            &[("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:{R}:{A}:training-job/iamprove-escalation")],
            &[("sagemaker:CreateProcessingJob", "arn:aws:sagemaker:{R}:{A}:processing-job/iamprove-escalation")],
        ],
        existing: None,
    },
    PassMethod { name: "lambda:UpdateFunctionCode", service: "lambda", needs_profile: false, all: &[("lambda:UpdateFunctionCode", "arn:aws:lambda:{R}:{A}:function:existing-function")], any: &[], existing: Some("an existing Lambda function runs as the role") },
    PassMethod { name: "glue:UpdateDevEndpoint", service: "glue", needs_profile: false, all: &[("glue:UpdateDevEndpoint", "arn:aws:glue:{R}:{A}:devEndpoint/existing-endpoint")], any: &[], existing: Some("an existing Glue development endpoint runs as the role") },
    PassMethod { name: "cloudformation:UpdateStack", service: "cloudformation", needs_profile: false, all: &[("cloudformation:UpdateStack", "arn:aws:cloudformation:{R}:{A}:stack/existing-stack/*")], any: &[], existing: Some("an existing CloudFormation stack uses the role as its service role") },
    PassMethod {
        name: "ssm:SendCommand",
        service: "ec2",
        needs_profile: true,
        all: &[("ssm:SendCommand", "arn:aws:ec2:{R}:{A}:instance/i-existing"), ("ssm:SendCommand", "arn:aws:ssm:{R}::document/AWS-RunShellScript")],
        any: &[],
        existing: Some("an existing EC2 instance (SSM-managed) runs with the role's instance profile"),
    },
    PassMethod { name: "ssm:StartSession", service: "ec2", needs_profile: true, all: &[("ssm:StartSession", "arn:aws:ec2:{R}:{A}:instance/i-existing")], any: &[], existing: Some("an existing EC2 instance (SSM-managed) runs with the role's instance profile") },
    PassMethod {
        name: "ec2-instance-connect:SendSSHPublicKey",
        service: "ec2",
        needs_profile: true,
        all: &[("ec2-instance-connect:SendSSHPublicKey", "arn:aws:ec2:{R}:{A}:instance/i-existing")],
        any: &[],
        existing: Some("an existing EC2 instance with EC2 Instance Connect runs with the role's instance profile"),
    },
    PassMethod {
        name: "sagemaker:CreatePresignedNotebookInstanceUrl",
        service: "sagemaker",
        needs_profile: false,
        all: &[("sagemaker:CreatePresignedNotebookInstanceUrl", "arn:aws:sagemaker:{R}:{A}:notebook-instance/existing-notebook")],
        any: &[],
        existing: Some("an existing SageMaker notebook instance runs as the role"),
    },
];

fn fill(t: &str, acct: &str) -> String {
    t.replace("{R}", REGION).replace("{A}", acct)
}

/// Check that every request is allowed; the steps and whether all were unconditional.
fn all_allowed(
    actor: &mut Actor,
    reqs: &[(String, String, Vec<(&str, String)>)],
) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for (a, r, extra) in reqs {
        let ex: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let o = actor.decide(a, r, &ex, None, None);
        if !o.allowed() {
            return None;
        }
        steps.push(Step {
            principal: actor.env.nodes[actor.node].arn.clone(),
            action: a.clone(),
            resource: r.clone(),
            session_name: None,
            statements: o.evaluation().statements.clone(),
            conditions: o.conditions().to_vec(),
        });
    }
    Some(steps)
}

fn trust_naming(principal_arn: &str) -> Option<Policy> {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal_arn}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    crate::parse::parse_policy_text(&text, PolicyType::Trust, "trust policy the attacker writes")
        .ok()
}

/// Find the escalations of one principal (first-order: its own permissions).
fn first_order(cx: &Ctx, p: usize) -> Vec<Escalation> {
    let env = cx.env;
    let node = &env.nodes[p];
    let Some(acct) = env.account_of(p) else {
        return Vec::new();
    };
    let a = acct.id.clone();
    let mut me = Actor::new(env, p);
    if cx.is_admin[p] {
        // allowed `*` on `*` already: nothing left to gain that a probe could show
        return Vec::new();
    }
    let idp = me.sc.identity_policies.clone();
    let may = |x: &str| may_allow(&idp, x);
    let mut out: Vec<Escalation> = Vec::new();
    let arn = node.arn.clone();
    let admin_arn = "arn:aws:iam::aws:policy/AdministratorAccess".to_owned();
    let mk = |method: &str,
              kind: &'static str,
              target: Option<String>,
              probe: (String, String),
              path: Vec<Step>,
              assumes: Option<String>| Escalation {
        principal: arn.clone(),
        method: Method {
            name: method.to_owned(),
            via_chain: false,
        },
        kind,
        target,
        gains: Gain {
            action: probe.0,
            resource: probe.1,
        },
        conditions: crate::merge_conditions(&path),
        path,
        assumes,
    };
    // --- self-modification: P plus an admin policy
    let admin_profile = OnceLock::new();
    let admin_gain = |me: &mut Actor| -> Option<(String, String)> {
        let prof = admin_profile.get_or_init(|| cx.modified_profile(p, cx.with_admin(&me.sc)));
        gained(me, prof)
    };
    let mut self_methods: Vec<(String, Vec<(String, String, Vec<(&str, String)>)>)> = Vec::new();
    if let Some(u) = env.user(p) {
        self_methods.push((
            "iam:PutUserPolicy".into(),
            vec![("iam:PutUserPolicy".into(), u.arn.clone(), vec![])],
        ));
        self_methods.push((
            "iam:AttachUserPolicy".into(),
            vec![(
                "iam:AttachUserPolicy".into(),
                u.arn.clone(),
                vec![("iam:PolicyARN", admin_arn.clone())],
            )],
        ));
        for g in &u.groups {
            if let Some(g) = acct.group(g) {
                self_methods.push((
                    "iam:PutGroupPolicy".into(),
                    vec![("iam:PutGroupPolicy".into(), g.arn.clone(), vec![])],
                ));
                self_methods.push((
                    "iam:AttachGroupPolicy".into(),
                    vec![(
                        "iam:AttachGroupPolicy".into(),
                        g.arn.clone(),
                        vec![("iam:PolicyARN", admin_arn.clone())],
                    )],
                ));
            }
        }
    }
    if let Some(r) = env.role(p) {
        self_methods.push((
            "iam:PutRolePolicy".into(),
            vec![("iam:PutRolePolicy".into(), r.arn.clone(), vec![])],
        ));
        self_methods.push((
            "iam:AttachRolePolicy".into(),
            vec![(
                "iam:AttachRolePolicy".into(),
                r.arn.clone(),
                vec![("iam:PolicyARN", admin_arn.clone())],
            )],
        ));
    }
    // own customer-managed policies (direct and through groups)
    let mut own_policies: Vec<String> = Vec::new();
    if let Some(u) = env.user(p) {
        own_policies.extend(u.attached.iter().cloned());
        for g in &u.groups {
            if let Some(g) = acct.group(g) {
                own_policies.extend(g.attached.iter().cloned());
            }
        }
    }
    if let Some(r) = env.role(p) {
        own_policies.extend(r.attached.iter().cloned());
    }
    own_policies.dedup();
    for m in &self_methods {
        if !m.1.iter().all(|(x, ..)| may(x)) {
            continue;
        }
        if let Some(path) = all_allowed(&mut me, &m.1) {
            if let Some(g) = admin_gain(&mut me) {
                out.push(mk(&m.0, "self", Some(arn.clone()), g, path, None));
            }
        }
    }
    if may("iam:CreatePolicyVersion") {
        for pa in &own_policies {
            let Some(mp) = acct.policies.get(pa) else {
                continue;
            };
            if !mp.is_customer() {
                continue;
            }
            if let Some(path) = all_allowed(
                &mut me,
                &[("iam:CreatePolicyVersion".into(), pa.clone(), vec![])],
            ) {
                let mut sc = me.sc.clone();
                sc.identity_policies.retain(|x| x != mp.default_doc());
                sc.identity_policies.extend(cx.admin.clone());
                let prof = cx.modified_profile(p, sc);
                if let Some(g) = gained(&mut me, &prof) {
                    out.push(mk(
                        "iam:CreatePolicyVersion",
                        "self",
                        Some(pa.clone()),
                        g,
                        path,
                        None,
                    ));
                    break;
                }
            }
        }
    }
    if may("iam:SetDefaultPolicyVersion") {
        'pol: for pa in &own_policies {
            let Some(mp) = acct.policies.get(pa) else {
                continue;
            };
            for (i, (_vid, doc)) in mp.versions.iter().enumerate() {
                if i == mp.default {
                    continue;
                }
                if let Some(path) = all_allowed(
                    &mut me,
                    &[("iam:SetDefaultPolicyVersion".into(), pa.clone(), vec![])],
                ) {
                    let mut sc = me.sc.clone();
                    sc.identity_policies.retain(|x| x != mp.default_doc());
                    sc.identity_policies.push(doc.clone());
                    let probes = probes_of(std::slice::from_ref(doc));
                    let mut alt = Actor::with_scenario(env, p, sc);
                    let prof = allowed_probes(&mut alt, &probes);
                    if let Some(g) = gained(&mut me, &prof) {
                        out.push(mk(
                            "iam:SetDefaultPolicyVersion",
                            "self",
                            Some(format!("{pa} version {_vid}")),
                            g,
                            path,
                            None,
                        ));
                        break 'pol;
                    }
                }
            }
        }
    }
    // boundary removal / replacement
    if me.sc.permissions_boundary.is_some() {
        let (del, put) = if node.kind == NodeKind::User {
            (
                "iam:DeleteUserPermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
            )
        } else {
            (
                "iam:DeleteRolePermissionsBoundary",
                "iam:PutRolePermissionsBoundary",
            )
        };
        for act in [del, put] {
            if !may(act) {
                continue;
            }
            if let Some(path) = all_allowed(&mut me, &[(act.into(), arn.clone(), vec![])]) {
                let mut sc = me.sc.clone();
                sc.permissions_boundary = None;
                let probes = probes_of(&sc.identity_policies);
                let mut alt = Actor::with_scenario(env, p, sc);
                let prof = allowed_probes(&mut alt, &probes);
                if let Some(g) = gained(&mut me, &prof) {
                    out.push(mk(act, "self", Some(arn.clone()), g, path, None));
                    break;
                }
            }
        }
    }
    // AddUserToGroup: join a group whose policies add something
    if node.kind == NodeKind::User && may("iam:AddUserToGroup") {
        let mine = env.user(p).map(|u| u.groups.clone()).unwrap_or_default();
        for g in &acct.groups {
            if mine.contains(&g.name) {
                continue;
            }
            if let Some(path) = all_allowed(
                &mut me,
                &[("iam:AddUserToGroup".into(), g.arn.clone(), vec![])],
            ) {
                let mut sc = me.sc.clone();
                let mut added: Vec<Policy> = g.inline.clone();
                added.extend(
                    g.attached
                        .iter()
                        .filter_map(|x| acct.policies.get(x).map(|m| m.default_doc().clone())),
                );
                sc.identity_policies.extend(added.iter().cloned());
                let probes = probes_of(&added);
                let mut alt = Actor::with_scenario(env, p, sc);
                let prof = allowed_probes(&mut alt, &probes);
                if let Some(gn) = gained(&mut me, &prof) {
                    out.push(mk(
                        "iam:AddUserToGroup",
                        "self",
                        Some(g.arn.clone()),
                        gn,
                        path,
                        None,
                    ));
                    break;
                }
            }
        }
    }
    // --- acting as other principals
    for act in [
        "iam:CreateAccessKey",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
    ] {
        if !may(act) {
            continue;
        }
        for &t in &cx.order {
            if t == p || env.nodes[t].kind != NodeKind::User || env.nodes[t].account != a {
                continue;
            }
            let tarn = env.nodes[t].arn.clone();
            if let Some(path) = all_allowed(&mut me, &[(act.into(), tarn.clone(), vec![])]) {
                if let Some(g) = gained(&mut me, cx.profile(t)) {
                    out.push(mk(act, "self", Some(tarn), g, path, None));
                    break;
                }
            }
        }
    }
    if may("iam:UpdateAssumeRolePolicy") {
        let my_arn = env
            .principal_of(p, None)
            .principal_arn()
            .unwrap_or_default();
        if let Some(trust) = trust_naming(&my_arn) {
            for &t in &cx.order {
                let Some(role) = env.role(t) else { continue };
                if t == p || env.nodes[t].account != a {
                    continue;
                }
                if let Some(mut path) = all_allowed(
                    &mut me,
                    &[(
                        "iam:UpdateAssumeRolePolicy".into(),
                        role.arn.clone(),
                        vec![],
                    )],
                ) {
                    let o = me.decide("sts:AssumeRole", &role.arn, &[], Some(&trust), None);
                    if !o.allowed() {
                        continue;
                    }
                    path.push(Step {
                        principal: arn.clone(),
                        action: "sts:AssumeRole".into(),
                        resource: role.arn.clone(),
                        session_name: None,
                        statements: o.evaluation().statements.clone(),
                        conditions: o.conditions().to_vec(),
                    });
                    if let Some(g) = gained(&mut me, cx.profile(t)) {
                        out.push(mk(
                            "iam:UpdateAssumeRolePolicy+sts:AssumeRole",
                            "self",
                            Some(role.arn.clone()),
                            g,
                            path,
                            None,
                        ));
                        break;
                    }
                }
            }
        }
    }
    // PassRole to a service, or an existing resource running as a role
    for m in PASS_METHODS {
        let needs_pass = m.existing.is_none();
        if needs_pass && !may("iam:PassRole") {
            continue;
        }
        if !m.all.iter().all(|(x, _)| may(x))
            || (!m.any.is_empty() && !m.any.iter().any(|alt| alt.iter().all(|(x, _)| may(x))))
        {
            continue;
        }
        // the service actions first (they do not depend on the role)
        let base: Vec<(String, String, Vec<(&str, String)>)> = m
            .all
            .iter()
            .map(|(x, r)| ((*x).to_owned(), fill(r, &a), vec![]))
            .collect();
        let Some(mut svc_steps) = all_allowed(&mut me, &base) else {
            continue;
        };
        if !m.any.is_empty() {
            let mut found = None;
            for alt in m.any {
                let reqs: Vec<(String, String, Vec<(&str, String)>)> = alt
                    .iter()
                    .map(|(x, r)| ((*x).to_owned(), fill(r, &a), vec![]))
                    .collect();
                if let Some(s) = all_allowed(&mut me, &reqs) {
                    found = Some(s);
                    break;
                }
            }
            match found {
                Some(s) => svc_steps.extend(s),
                None => continue,
            }
        }
        for &t in &cx.order {
            let Some(role) = env.role(t) else { continue };
            if t == p || env.nodes[t].account != a || !cx.services[t].contains(&m.service) {
                continue;
            }
            if m.needs_profile && role.instance_profiles.is_empty() {
                continue;
            }
            let mut path = Vec::new();
            if needs_pass {
                let svc = format!("{}.amazonaws.com", m.service);
                match all_allowed(
                    &mut me,
                    &[(
                        "iam:PassRole".into(),
                        role.arn.clone(),
                        vec![("iam:PassedToService", svc)],
                    )],
                ) {
                    Some(s) => path.extend(s),
                    None => continue,
                }
            }
            if let Some(g) = gained(&mut me, cx.profile(t)) {
                path.extend(svc_steps.iter().cloned());
                let assumes = m.existing.map(|e| format!("{e} `{}`", role.arn));
                out.push(mk(m.name, "self", Some(role.arn.clone()), g, path, assumes));
                break;
            }
        }
    }
    // role assumption chains to a more privileged principal
    for (t, path, _) in cx.graph.reach(p) {
        if t == p || path.is_empty() {
            continue;
        }
        if let Some(g) = gained(&mut me, cx.profile(t)) {
            out.push(mk(
                "sts:AssumeRole chain",
                "self",
                Some(env.nodes[t].arn.clone()),
                g,
                path,
                None,
            ));
            break;
        }
    }
    // --- grant: give another principal permissions P lacks
    if out.is_empty() {
        let grants: [(&str, NodeKind); 4] = [
            ("iam:PutUserPolicy", NodeKind::User),
            ("iam:AttachUserPolicy", NodeKind::User),
            ("iam:PutRolePolicy", NodeKind::Role),
            ("iam:AttachRolePolicy", NodeKind::Role),
        ];
        'g: for (act, kind) in grants {
            if !may(act) {
                continue;
            }
            for &t in &cx.order {
                if t == p || env.nodes[t].kind != kind || env.nodes[t].account != a {
                    continue;
                }
                let tarn = env.nodes[t].arn.clone();
                let extra = if act.contains("Attach") {
                    vec![("iam:PolicyARN", admin_arn.clone())]
                } else {
                    vec![]
                };
                if let Some(path) = all_allowed(&mut me, &[(act.into(), tarn.clone(), extra)]) {
                    let tsc = cx.with_admin(&env.scenario_of(t));
                    let prof = cx.modified_profile(t, tsc);
                    if let Some(g) = gained(&mut me, &prof) {
                        out.push(mk(act, "grant", Some(tarn), g, path, None));
                        break 'g;
                    }
                }
            }
        }
        if out.is_empty() {
            for act in [
                "iam:PutGroupPolicy",
                "iam:AttachGroupPolicy",
                "iam:AddUserToGroup",
            ] {
                if !may(act) || acct.groups.is_empty() {
                    continue;
                }
                let extra = if act.contains("Attach") {
                    vec![("iam:PolicyARN", admin_arn.clone())]
                } else {
                    vec![]
                };
                for g in &acct.groups {
                    if let Some(path) =
                        all_allowed(&mut me, &[(act.into(), g.arn.clone(), extra.clone())])
                    {
                        // the group's policies (or an admin policy) on a member
                        let mut added: Vec<Policy> = g.inline.clone();
                        added.extend(
                            g.attached.iter().filter_map(|x| {
                                acct.policies.get(x).map(|m| m.default_doc().clone())
                            }),
                        );
                        let mut sc = crate::scenario::Scenario::empty();
                        if act == "iam:AddUserToGroup" {
                            sc.identity_policies = added.clone();
                        } else {
                            sc.identity_policies.extend(cx.admin.clone());
                        }
                        sc.scps = me.sc.scps.clone();
                        let probes = probes_of(&added);
                        let mut alt = Actor::with_scenario(env, p, sc);
                        let prof = allowed_probes(&mut alt, &probes);
                        if let Some(gn) = gained(&mut me, &prof) {
                            out.push(mk(act, "grant", Some(g.arn.clone()), gn, path, None));
                            break;
                        }
                    }
                }
                if !out.is_empty() {
                    break;
                }
            }
        }
        if out.is_empty() && may("iam:CreatePolicyVersion") {
            for mp in acct
                .policies
                .values()
                .filter(|m| m.is_customer() && !own_policies.contains(&m.arn))
            {
                if let Some(path) = all_allowed(
                    &mut me,
                    &[("iam:CreatePolicyVersion".into(), mp.arn.clone(), vec![])],
                ) {
                    let prof =
                        cx.modified_profile(p, cx.with_admin(&crate::scenario::Scenario::empty()));
                    if let Some(g) = gained(&mut me, &prof) {
                        out.push(mk(
                            "iam:CreatePolicyVersion",
                            "grant",
                            Some(mp.arn.clone()),
                            g,
                            path,
                            None,
                        ));
                        break;
                    }
                }
            }
        }
    }
    out
}

/// Services (of [`SERVICES`]) whose principal the role's trust policy admits.
fn trusted_services(env: &Env, n: usize) -> Vec<&'static str> {
    let Some(role) = env.role(n) else {
        return Vec::new();
    };
    let mut sc = crate::scenario::Scenario::empty();
    sc.resource_policy = Some(role.trust.clone());
    SERVICES
        .iter()
        .copied()
        .filter(|s| {
            let p = Principal {
                raw: format!("{s}.amazonaws.com"),
                partition: "aws".into(),
                account: String::new(),
                kind: PrincipalKind::Service(format!("{s}.amazonaws.com")),
            };
            let req = Request::new(p, "sts:AssumeRole", &role.arn, None, Default::default());
            crate::eval::evaluate(&sc, &req).decision == crate::eval::Decision::Allow
        })
        .collect()
}

/// Every escalation of every principal of the loaded accounts.
pub fn escalations(env: &Env, graph: &Graph) -> Vec<Escalation> {
    let n = env.nodes.len();
    let services: Vec<Vec<&'static str>> = (0..n)
        .into_par_iter()
        .map(|i| trusted_services(env, i))
        .collect();
    let is_admin: Vec<bool> = (0..n)
        .into_par_iter()
        .map(|i| {
            // `*` taken literally is also matched by NotAction allows: require the concrete
            // sensitive actions too
            let mut a = Actor::new(env, i);
            !env.nodes[i].kind.is_outside()
                && a.allowed("*", "*")
                && super::SENSITIVE_ACTIONS.iter().all(|x| a.allowed(x, "*"))
        })
        .collect();
    let mut order: Vec<usize> = (0..n)
        .filter(|&i| !env.nodes[i].kind.is_outside())
        .collect();
    order.sort_by_key(|&i| !is_admin[i]);
    let cx = Ctx {
        env,
        graph,
        profiles: (0..n).map(|_| OnceLock::new()).collect(),
        admin: admin_policy(),
        services,
        order,
        is_admin,
    };
    // starting principals: users and roles whose credentials a person can hold (not external
    // placeholders, not service-linked roles, which only their service can assume)
    let starts: Vec<bool> = (0..n)
        .map(|i| {
            !env.nodes[i].kind.is_outside() && !env.principal_of(i, None).is_service_linked_role()
        })
        .collect();
    let pb = progress(env, n, "escalations");
    let first: Vec<Vec<Escalation>> = (0..n)
        .into_par_iter()
        .map(|p| {
            let r = if starts[p] {
                first_order(&cx, p)
            } else {
                Vec::new()
            };
            pb.inc();
            r
        })
        .collect();
    drop(pb);
    // second order: reach a role that can escalate itself
    let mut out: Vec<Escalation> = Vec::new();
    // an administrator role that any AWS account (the whole internet) can assume
    // or that callers of an identity provider outside the account's control can assume: any
    // subject of a public OIDC provider, or another owner's (trust hazards `oidc-no-sub`,
    // `oidc-wildcard-sub` at error severity, `public-trust`; see `crate::trust`)
    let outside = |p: usize| {
        matches!(
            env.nodes[p].kind,
            NodeKind::AnyAccount | NodeKind::Federated
        )
    };
    for p in (0..n).filter(|&p| outside(p)) {
        for (t, path, _) in graph.reach(p) {
            if t == p || !cx.is_admin[t] || path.is_empty() {
                continue;
            }
            let method = if env.nodes[p].kind == NodeKind::Federated {
                let first = path[0].resource.clone();
                let Some(hazard) = public_federated_hazard(env, &first) else {
                    continue;
                };
                format!(
                    "{} of an administrator role whose trust policy admits callers of {} outside the account's control ({hazard})",
                    path[0].action, env.nodes[p].arn
                )
            } else {
                "sts:AssumeRole of an administrator role whose trust policy admits any AWS account (\"AWS\": \"*\")".into()
            };
            out.push(Escalation {
                principal: env.nodes[p].arn.clone(),
                method: Method {
                    name: method,
                    via_chain: false,
                },
                kind: "self",
                target: Some(env.nodes[t].arn.clone()),
                gains: Gain {
                    action: "*".into(),
                    resource: "*".into(),
                },
                conditions: crate::merge_conditions(&path),
                path,
                assumes: None,
            });
        }
    }
    for p in 0..n {
        if !starts[p] {
            continue;
        }
        out.extend(first[p].iter().cloned());
        if first[p].iter().any(|e| e.kind == "self") {
            continue;
        }
        let mut me = Actor::new(env, p);
        for (t, path, _) in graph.reach(p) {
            if t == p {
                continue;
            }
            if let Some(e) = first[t]
                .iter()
                .find(|e| e.kind == "self" && !me.allowed(&e.gains.action, &e.gains.resource))
            {
                let mut full = path.clone();
                full.extend(e.path.iter().cloned());
                out.push(Escalation {
                    principal: env.nodes[p].arn.clone(),
                    method: Method {
                        name: e.method.name.clone(),
                        via_chain: true,
                    },
                    kind: "self",
                    target: e.target.clone(),
                    gains: e.gains.clone(),
                    conditions: crate::merge_conditions(&full),
                    path: full,
                    assumes: e.assumes.clone(),
                });
                break;
            }
        }
    }
    out
}

/// The trust hazard (code and message) that makes a role's federated trust open to callers the
/// account does not control: `oidc-no-sub`, `oidc-wildcard-sub` or `public-trust` at error
/// severity, from the `trust` analysis of the role's trust policy (`None`: the role is pinned).
fn public_federated_hazard(env: &Env, role_arn: &str) -> Option<String> {
    let role = env.by_arn.get(role_arn).and_then(|&r| env.role(r))?;
    let mut opts = crate::trust::TrustOptions::default();
    for a in &env.accounts {
        opts.trusted_accounts.insert(a.id.clone());
    }
    if let Some(o) = &env.org {
        opts.trusted_accounts.extend(o.accounts.keys().cloned());
        opts.org_id = o.org_id.clone();
    }
    let report = crate::trust::analyze(
        &crate::trust::TrustRole {
            label: role.arn.clone(),
            arn: role.arn.clone(),
            policy: role.trust.clone(),
        },
        &opts,
    );
    report
        .hazards
        .iter()
        .find(|h| {
            h.severity == crate::trust::Severity::Error
                && matches!(h.code, "oidc-no-sub" | "oidc-wildcard-sub" | "public-trust")
        })
        .map(|h| format!("{}: {}", h.code, h.message))
}
