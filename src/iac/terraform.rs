//! Terraform plans: the output of `terraform show -json PLANFILE`.
//!
//! Every entry of `resource_changes` whose type carries an IAM policy becomes one [`Part`] per
//! policy attribute. Policies are JSON strings inside `change.before` / `change.after`; a value
//! that `change.after_unknown` marks (or that is missing from `change.after`) is known only after
//! apply and makes the part `unknown`.

use super::{any_true, parse_embedded, Doc, Input, Kind, Part, State};
use crate::json::{Json, JsonPath};
use crate::model::PolicyType;
use crate::scenario::{Errors, InputError};
use crate::verdict::Verdict;
use std::path::Path;

/// Where a resource type keeps its policies or grants access.
#[derive(Debug, Clone, Copy)]
enum Attr {
    /// One policy as a JSON string.
    Policy(&'static str, Kind),
    /// A list of `{name, policy}` blocks (a role's `inline_policy`): one set of identity policies.
    Inline(&'static str),
    /// `aws_organizations_policy`: `content`, an SCP or RCP by `type`.
    OrgContent,
    /// A set of managed policy ARNs (a role's `managed_policy_arns`): one part per ARN.
    ManagedArns(&'static str),
    /// One managed policy ARN: an attachment (identity) or a permissions boundary.
    PolicyArn(&'static str, Kind),
    /// `aws_iam_policy_attachment`: `policy_arn` for every user, role and group listed.
    PolicyArnTargets,
    /// `aws_lambda_permission`: one statement of the function's resource policy.
    LambdaPermission,
    /// `aws_lambda_function_url`: `authorization_type = NONE` lets anyone invoke the URL.
    FunctionUrl,
    /// `aws_kms_grant`: the grantee may perform the operations on the key.
    KmsGrant,
    /// S3 public access blocks: only tightening is proved.
    PublicAccessBlock,
    /// An OpenID Connect (`true`) or SAML identity provider.
    Provider(bool),
    /// `aws_organizations_policy_attachment`: attaching a guardrail only restricts.
    OrgAttachment,
    /// Identity Center: a customer managed policy referenced by name.
    SsoCustomerRef,
    /// Identity Center: `permissions_boundary` block (managed ARN or customer reference).
    SsoBoundary,
    /// Attributes that grant access in a way not modelled: `unknown` when they change.
    Guard(&'static [&'static str], &'static str),
    /// Only removes access (exclusive-attachment resources): `no_widening`.
    OnlyNarrows,
}

impl Attr {
    fn describe(self) -> (String, String) {
        use Attr::*;
        let kind = |k: Kind| match k {
            Kind::Fixed(t) => format!("{} policy", t.name()),
            Kind::Detect => {
                "policy (resource when a statement names a principal, else identity)".into()
            }
            Kind::Boundary => "permissions boundary (absent: no boundary)".into(),
        };
        match self {
            Policy(a, k) => (format!("`{a}`"), kind(k)),
            Inline(a) => (format!("`{a}`"), "inline identity policies (one set)".into()),
            OrgContent => ("`content`, `type`".into(), "SCP or RCP by `type` (absent: no guardrail); other types are not IAM".into()),
            ManagedArns(a) => (format!("`{a}`"), "each ARN added or removed: the managed policy's document (identity)".into()),
            PolicyArn(a, k) => (format!("`{a}`"), format!("the managed policy's document as {}", kind(k))),
            PolicyArnTargets => ("`policy_arn`, `users`, `roles`, `groups`".into(), "for each user, role and group: the managed policy's document (identity)".into()),
            LambdaPermission => ("`action`, `principal`, `function_name`, `qualifier`, `source_arn`, `source_account`, `principal_org_id`, `event_source_token`, `function_url_auth_type`".into(), "one resource-policy statement of the function".into()),
            FunctionUrl => ("`authorization_type`, `function_name`, `qualifier`".into(), "`NONE`: a statement letting anyone call `lambda:InvokeFunctionUrl` (resource policy); `AWS_IAM`: none".into()),
            KmsGrant => ("`grantee_principal`, `operations`, `key_id`, `constraints`".into(), "a resource-policy statement for the grantee; `constraints` give `unknown`".into()),
            PublicAccessBlock => ("`block_public_acls`, `block_public_policy`, `ignore_public_acls`, `restrict_public_buckets`".into(), "only tightening (or no change) is `no_widening`; any setting turned off is `unknown`".into()),
            Provider(true) => ("`url`, `client_id_list`, `thumbprint_list`".into(), "deleting or removing audiences/thumbprints: `no_widening`; creating or adding: `unknown` (roles trusting the provider)".into()),
            Provider(false) => ("`saml_metadata_document`".into(), "deleting: `no_widening`; creating or a new metadata document: `unknown`".into()),
            OrgAttachment => ("`policy_id`, `target_id`".into(), "attaching: `no_widening` (a guardrail only restricts); detaching: the policy's content compared with no guardrail (`unknown` when the content is not in the plan)".into()),
            SsoCustomerRef => ("`customer_managed_policy_reference`".into(), "`unknown` when it changes (the policy lives in each provisioned account)".into()),
            SsoBoundary => ("`permissions_boundary`".into(), "managed ARN: the document as a permissions boundary; customer reference: `unknown`".into()),
            Guard(a, why) => (a.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", "), format!("`unknown` when changed: {why}")),
            OnlyNarrows => ("(resource)".into(), "`no_widening`: it can only detach policies".into()),
        }
    }
}

/// Every Terraform resource type read, with what is read (the coverage table).
const TABLE: &[(&str, &[Attr])] = {
    use Attr::*;
    use Kind::{Boundary, Detect, Fixed};
    use PolicyType::{Identity, Resource, Trust};
    const ID: Kind = Fixed(Identity);
    const RES: Kind = Fixed(Resource);
    &[
        ("aws_iam_policy", &[Policy("policy", ID)]),
        ("aws_iam_role_policy", &[Policy("policy", ID)]),
        ("aws_iam_user_policy", &[Policy("policy", ID)]),
        ("aws_iam_group_policy", &[Policy("policy", ID)]),
        (
            "aws_iam_role",
            &[
                Policy("assume_role_policy", Fixed(Trust)),
                Inline("inline_policy"),
                ManagedArns("managed_policy_arns"),
                PolicyArn("permissions_boundary", Boundary),
            ],
        ),
        (
            "aws_iam_user",
            &[PolicyArn("permissions_boundary", Boundary)],
        ),
        (
            "aws_iam_role_policy_attachment",
            &[PolicyArn("policy_arn", ID)],
        ),
        (
            "aws_iam_user_policy_attachment",
            &[PolicyArn("policy_arn", ID)],
        ),
        (
            "aws_iam_group_policy_attachment",
            &[PolicyArn("policy_arn", ID)],
        ),
        ("aws_iam_policy_attachment", &[PolicyArnTargets]),
        ("aws_iam_role_policy_attachments_exclusive", &[OnlyNarrows]),
        ("aws_iam_user_policy_attachments_exclusive", &[OnlyNarrows]),
        ("aws_iam_group_policy_attachments_exclusive", &[OnlyNarrows]),
        ("aws_iam_role_policies_exclusive", &[OnlyNarrows]),
        ("aws_iam_user_policies_exclusive", &[OnlyNarrows]),
        ("aws_iam_group_policies_exclusive", &[OnlyNarrows]),
        ("aws_iam_openid_connect_provider", &[Provider(true)]),
        ("aws_iam_saml_provider", &[Provider(false)]),
        (
            "aws_iam_user_group_membership",
            &[Guard(
                &["groups"],
                "group membership grants the groups' policies (not analysed)",
            )],
        ),
        (
            "aws_iam_group_membership",
            &[Guard(
                &["users"],
                "group membership grants the group's policies (not analysed)",
            )],
        ),
        (
            "aws_iam_instance_profile",
            &[Guard(
                &["role"],
                "the role is handed to EC2 instances (not analysed)",
            )],
        ),
        (
            "aws_ssoadmin_permission_set_inline_policy",
            &[Policy("inline_policy", ID)],
        ),
        (
            "aws_ssoadmin_managed_policy_attachment",
            &[PolicyArn("managed_policy_arn", ID)],
        ),
        (
            "aws_ssoadmin_customer_managed_policy_attachment",
            &[SsoCustomerRef],
        ),
        (
            "aws_ssoadmin_permissions_boundary_attachment",
            &[SsoBoundary],
        ),
        (
            "aws_ssoadmin_account_assignment",
            &[Guard(
                &[
                    "principal_id",
                    "principal_type",
                    "permission_set_arn",
                    "target_id",
                ],
                "an assignment grants a permission set in an account (not analysed)",
            )],
        ),
        ("aws_s3_bucket_policy", &[Policy("policy", RES)]),
        (
            "aws_s3_bucket",
            &[
                Policy("policy", RES),
                Guard(&["acl", "grant"], "S3 ACLs are not modelled"),
            ],
        ),
        (
            "aws_s3_bucket_acl",
            &[Guard(
                &["acl", "access_control_policy"],
                "S3 ACLs are not modelled",
            )],
        ),
        (
            "aws_s3_bucket_ownership_controls",
            &[Guard(
                &["rule"],
                "object ownership decides whether ACLs apply (not modelled)",
            )],
        ),
        ("aws_s3_access_point", &[Policy("policy", RES)]),
        (
            "aws_s3control_access_point_policy",
            &[Policy("policy", RES)],
        ),
        ("aws_s3control_bucket_policy", &[Policy("policy", RES)]),
        ("aws_s3_bucket_public_access_block", &[PublicAccessBlock]),
        ("aws_s3_account_public_access_block", &[PublicAccessBlock]),
        ("aws_sqs_queue_policy", &[Policy("policy", RES)]),
        ("aws_sqs_queue", &[Policy("policy", RES)]),
        ("aws_sns_topic_policy", &[Policy("policy", RES)]),
        ("aws_sns_topic", &[Policy("policy", RES)]),
        ("aws_kms_key", &[Policy("policy", RES)]),
        ("aws_kms_key_policy", &[Policy("policy", RES)]),
        ("aws_kms_replica_key", &[Policy("policy", RES)]),
        ("aws_kms_grant", &[KmsGrant]),
        ("aws_secretsmanager_secret_policy", &[Policy("policy", RES)]),
        ("aws_secretsmanager_secret", &[Policy("policy", RES)]),
        ("aws_ecr_repository_policy", &[Policy("policy", RES)]),
        ("aws_ecr_registry_policy", &[Policy("policy", RES)]),
        ("aws_ecrpublic_repository_policy", &[Policy("policy", RES)]),
        ("aws_lambda_permission", &[LambdaPermission]),
        ("aws_lambda_function_url", &[FunctionUrl]),
        ("aws_api_gateway_rest_api_policy", &[Policy("policy", RES)]),
        ("aws_api_gateway_rest_api", &[Policy("policy", RES)]),
        (
            "aws_opensearch_domain_policy",
            &[Policy("access_policies", RES)],
        ),
        ("aws_opensearch_domain", &[Policy("access_policies", RES)]),
        (
            "aws_elasticsearch_domain_policy",
            &[Policy("access_policies", RES)],
        ),
        (
            "aws_elasticsearch_domain",
            &[Policy("access_policies", RES)],
        ),
        ("aws_efs_file_system_policy", &[Policy("policy", RES)]),
        ("aws_glacier_vault", &[Policy("access_policy", RES)]),
        ("aws_glacier_vault_lock", &[Policy("policy", RES)]),
        ("aws_backup_vault_policy", &[Policy("policy", RES)]),
        (
            "aws_cloudwatch_log_resource_policy",
            &[Policy("policy_document", RES)],
        ),
        (
            "aws_cloudwatch_log_destination_policy",
            &[Policy("access_policy", RES)],
        ),
        ("aws_cloudwatch_event_bus_policy", &[Policy("policy", RES)]),
        (
            "aws_cloudwatch_event_permission",
            &[Guard(
                &["principal", "action", "condition", "event_bus_name"],
                "EventBridge permissions are not modelled; use aws_cloudwatch_event_bus_policy",
            )],
        ),
        ("aws_dynamodb_resource_policy", &[Policy("policy", RES)]),
        ("aws_organizations_policy", &[OrgContent]),
        ("aws_organizations_policy_attachment", &[OrgAttachment]),
        ("data:aws_iam_policy_document", &[Policy("json", Detect)]),
    ]
};

fn attrs(mode: &str, rtype: &str) -> Option<&'static [Attr]> {
    let key = if mode == "data" {
        if rtype != "aws_iam_policy_document" {
            return None;
        }
        "data:aws_iam_policy_document"
    } else {
        rtype
    };
    TABLE.iter().find(|(t, _)| *t == key).map(|(_, a)| *a)
}

/// The coverage table rows (docs/iac-coverage.md).
pub fn coverage() -> Vec<super::coverage::Covered> {
    TABLE
        .iter()
        .filter(|(t, _)| !t.starts_with("data:"))
        .map(|(t, attrs)| {
            let (reads, how): (Vec<String>, Vec<String>) = attrs
                .iter()
                .map(|a| {
                    let (r, h) = a.describe();
                    (r.clone(), format!("{r}: {h}"))
                })
                .unzip();
            super::coverage::Covered {
                rtype: t,
                reads: reads.join(", "),
                how: how.join("; "),
            }
        })
        .collect()
}

/// Read a plan file and find its IAM-relevant changes.
pub fn load(path: &Path) -> Result<Input, Errors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![InputError::new(
            &file,
            None,
            format!("cannot read file: {e}"),
        )]
    })?;
    // serde_json's own recursion limit (128) guards the stack; plans nest deeper than policies
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg
            .rfind(" at line ")
            .map(|i| msg[..i].to_owned())
            .unwrap_or(msg);
        vec![InputError::new(
            &file,
            None,
            format!(
                "invalid JSON at line {}, column {}: {msg}",
                e.line(),
                e.column()
            ),
        )]
    })?;
    from_json(&Json::from_value(&value), &file)
}

/// The IAM-relevant changes of a parsed plan.
pub fn from_json(doc: &Json, file: &str) -> Result<Input, Errors> {
    let err = |path: Option<String>, m: String| vec![InputError::new(file, path, m)];
    let Json::Obj(_) = doc else {
        return Err(err(
            None,
            format!(
                "expected the output of `terraform show -json PLANFILE` (an object), found {}",
                doc.type_name()
            ),
        ));
    };
    if doc.get("format_version").is_none() {
        return Err(err(None, "not a Terraform plan: no `format_version` (expected the output of `terraform show -json PLANFILE`)".into()));
    }
    let root = JsonPath::root().key("resource_changes");
    let changes: &[Json] = match doc.get("resource_changes") {
        Some(Json::Arr(a)) => a,
        Some(other) => return Err(err(Some(root.to_string()), format!("expected an array, found {}", other.type_name()))),
        None if doc.get("planned_values").is_none() && doc.get("values").is_some() => {
            return Err(err(
                None,
                "this is Terraform state, not a plan: run `terraform plan -out=tfplan` and then `terraform show -json tfplan`".into(),
            ))
        }
        None => &[],
    };
    let mut input = Input::default();
    let mut errs: Errors = Vec::new();
    let plan = Plan::new(doc, changes);
    for (i, rc) in changes.iter().enumerate() {
        let at = root.index(i);
        match resource_change(rc, &at, file, &plan) {
            Ok((mut parts, note)) => {
                for p in &mut parts {
                    p.location = Some((file.to_owned(), at.clone()));
                }
                input.parts.extend(parts);
                input.notes.extend(note);
            }
            Err(e) => errs.extend(e),
        }
    }
    if errs.is_empty() {
        Ok(input)
    } else {
        Err(errs)
    }
}

fn string_field<'a>(
    obj: &'a Json,
    key: &str,
    at: &JsonPath,
    file: &str,
) -> Result<&'a str, Errors> {
    match obj.get(key) {
        Some(Json::Str(s)) => Ok(s),
        Some(other) => Err(vec![InputError::new(
            file,
            Some(at.key(key).to_string()),
            format!("expected a string, found {}", other.type_name()),
        )]),
        None => Err(vec![InputError::new(
            file,
            Some(at.to_string()),
            format!("missing `{key}`"),
        )]),
    }
}

/// The parts of one `resource_changes` entry (none for types without policies), and a note.
fn resource_change(
    rc: &Json,
    at: &JsonPath,
    file: &str,
    plan: &Plan,
) -> Result<(Vec<Part>, Option<String>), Errors> {
    if !matches!(rc, Json::Obj(_)) {
        return Err(vec![InputError::new(
            file,
            Some(at.to_string()),
            format!(
                "expected a resource change object, found {}",
                rc.type_name()
            ),
        )]);
    }
    let rtype = string_field(rc, "type", at, file)?;
    let mode = match rc.get("mode") {
        Some(Json::Str(m)) => m.as_str(),
        _ => "managed",
    };
    let attrs = attrs(mode, rtype);
    if attrs.is_none() && (mode == "data" || super::coverage::terraform_irrelevant(rtype)) {
        return Ok((Vec::new(), None));
    }
    if mode == "data" {
        // a policy document read during apply reaches the plan only through the resources that
        // use it, which are read (its `json` alone changes nothing)
        let unknown = rc
            .get("change")
            .and_then(|c| c.get("after_unknown"))
            .is_some_and(|u| matches!(u, Json::Bool(true)) || u.get("json").is_some_and(any_true));
        if unknown {
            return Ok((Vec::new(), None));
        }
    }
    let mut address = string_field(rc, "address", at, file)?.to_owned();
    if let Some(Json::Str(d)) = rc.get("deposed") {
        address.push_str(&format!(" (deposed object {d})"));
    }
    let cat = at.key("change");
    let change = match rc.get("change") {
        Some(c @ Json::Obj(_)) => c,
        Some(other) => {
            return Err(vec![InputError::new(
                file,
                Some(cat.to_string()),
                format!("expected an object, found {}", other.type_name()),
            )])
        }
        None => {
            return Err(vec![InputError::new(
                file,
                Some(at.to_string()),
                "missing `change`",
            )])
        }
    };
    let actions: Vec<&str> = match change.get("actions") {
        Some(Json::Arr(a)) => {
            let mut v = Vec::new();
            for (j, x) in a.iter().enumerate() {
                match x {
                    Json::Str(s) => v.push(s.as_str()),
                    other => {
                        return Err(vec![InputError::new(
                            file,
                            Some(cat.key("actions").index(j).to_string()),
                            format!("expected a string, found {}", other.type_name()),
                        )])
                    }
                }
            }
            v
        }
        Some(other) => {
            return Err(vec![InputError::new(
                file,
                Some(cat.key("actions").to_string()),
                format!("expected an array, found {}", other.type_name()),
            )])
        }
        None => {
            return Err(vec![InputError::new(
                file,
                Some(cat.to_string()),
                "missing `actions`",
            )])
        }
    };
    let action = match actions.as_slice() {
        ["delete", "create"] | ["create", "delete"] => "replace".to_owned(),
        [] => "no-op".to_owned(),
        a => a.join("+"),
    };
    if actions == ["forget"] {
        let note = format!("{address}: removed from Terraform state without being destroyed (`forget`): its policies stay as they are");
        return Ok((Vec::new(), Some(note)));
    }
    let no_change = matches!(actions.as_slice(), [] | ["no-op"] | ["read"]);
    let null = Json::Null;
    let before = change.get("before").unwrap_or(&null);
    let after = change.get("after").unwrap_or(&null);
    let empty = Json::Obj(Vec::new());
    let after_unknown = change.get("after_unknown").unwrap_or(&empty);
    for (name, v) in [("before", before), ("after", after)] {
        if !matches!(v, Json::Null | Json::Obj(_)) {
            return Err(vec![InputError::new(
                file,
                Some(cat.key(name).to_string()),
                format!("expected an object or null, found {}", v.type_name()),
            )]);
        }
    }
    let sides = Sides {
        file,
        address: &address,
        change_at: &cat,
        before,
        after,
        after_unknown,
    };
    let mut parts = Vec::new();
    let Some(attrs) = attrs else {
        if no_change {
            return Ok((parts, None));
        }
        // not read: relevant unless a guarded type whose access-granting attributes are as before
        if let Some((_, guarded)) = super::coverage::TERRAFORM_GUARDED
            .iter()
            .find(|(t, _)| *t == rtype)
        {
            let changed: Vec<&str> = guarded
                .iter()
                .copied()
                .filter(|a| sides.changed(a) && plan.configured(rc, a))
                .collect();
            if changed.is_empty() || actions == ["delete"] {
                return Ok((parts, None));
            }
            parts.push(Part::decided(&address, rtype, &changed.join(", "), &action, Verdict::Unknown, format!("not analysed: {rtype} {address} (`{}` changed: it grants access in a way iamprove does not model)", changed.join("`, `"))));
        } else {
            parts.push(Part::decided(&address, rtype, "(resource)", &action, Verdict::Unknown, format!("not analysed: {rtype} {address} (this type may carry a policy or grant access and is not read; see docs/iac-coverage.md)")));
        }
        return Ok((parts, None));
    };
    let ctx = Ctx {
        plan,
        sides: &sides,
        rc,
        address: &address,
        rtype,
        action: &action,
    };
    for &attr in attrs {
        if no_change && !matches!(attr, Attr::Policy(..) | Attr::Inline(_) | Attr::OrgContent) {
            continue;
        }
        if let Attr::Policy(name, _)
        | Attr::Inline(name)
        | Attr::ManagedArns(name)
        | Attr::PolicyArn(name, _) = attr
        {
            if !plan.configured(rc, name) || sides.nowhere(name) {
                continue;
            }
        }
        let mut push = |attribute: &str, kind: Kind, before: State, after: State| {
            parts.push(Part {
                address: address.clone(),
                rtype: rtype.to_owned(),
                attribute: attribute.to_owned(),
                action: action.clone(),
                kind,
                before,
                after,
                unchanged: false,
                decided: None,
                location: None,
            });
        };
        match attr {
            Attr::Policy(name, kind) => {
                let b = sides.state("before", name, false)?;
                let mut a = sides.state("after", name, false)?;
                if let State::Unknown(_) = a {
                    // `data.aws_iam_policy_document.X.json` read at apply: its statements, with
                    // the values known only after apply kept symbolic
                    if let Some((json, addr)) = plan.policy_document(rc, name) {
                        a = State::Known(vec![Doc {
                            json,
                            file: file.to_owned(),
                            at: at.key("change").key("after").key(name),
                            name: format!("{address}.{name} (after, from {addr})"),
                        }]);
                    } else if let (State::Unknown(m), Some(data)) =
                        (&a, plan.policy_document_name(rc, name))
                    {
                        a = State::Unknown(format!(
                            "{m}: it is `{data}`, which is not rebuilt from the plan (it is read during apply and merges other documents, is inside `count`/`for_each`, or puts a value known only after apply in a Deny statement, a Not… element or a negated condition, where the value may be a pattern)"
                        ));
                    }
                }
                push(name, kind, b, a);
            }
            Attr::Inline(name) => {
                let b = sides.state("before", name, true)?;
                let a = sides.state("after", name, true)?;
                push(name, Kind::Fixed(PolicyType::Identity), b, a);
            }
            Attr::OrgContent => {
                let kb = sides.org_kind("before");
                let ka = sides.org_kind("after");
                let b = sides.state("before", "content", false)?;
                let a = sides.state("after", "content", false)?;
                match (&kb, &ka) {
                    (OrgKind::NotIam, OrgKind::NotIam) => {}
                    (OrgKind::Unknown(m), other) => {
                        let k = if let OrgKind::Iam(k) = other {
                            *k
                        } else {
                            PolicyType::Scp
                        };
                        push("content", Kind::Fixed(k), State::Unknown(m.clone()), a);
                    }
                    (other, OrgKind::Unknown(m)) => {
                        let k = if let OrgKind::Iam(k) = other {
                            *k
                        } else {
                            PolicyType::Scp
                        };
                        push("content", Kind::Fixed(k), b, State::Unknown(m.clone()));
                    }
                    (OrgKind::Iam(x), OrgKind::Iam(y)) if x == y => {
                        push("content", Kind::Fixed(*x), b, a)
                    }
                    (kb, ka) => {
                        // the type changed (or one side is not an SCP/RCP): the old guardrail
                        // goes, a new one comes
                        if let OrgKind::Iam(x) = kb {
                            push("content", Kind::Fixed(*x), b, State::Absent);
                        }
                        if let OrgKind::Iam(y) = ka {
                            push("content", Kind::Fixed(*y), State::Absent, a);
                        }
                    }
                }
            }
            other => parts.extend(ctx.read(other)?),
        }
    }
    Ok((parts, None))
}

enum OrgKind {
    Iam(PolicyType),
    NotIam,
    Unknown(String),
}

struct Sides<'a> {
    file: &'a str,
    address: &'a str,
    change_at: &'a JsonPath,
    before: &'a Json,
    after: &'a Json,
    after_unknown: &'a Json,
}

impl Sides<'_> {
    fn values(&self, which: &str) -> &Json {
        if which == "before" {
            self.before
        } else {
            self.after
        }
    }

    /// Is `attr` unknown until apply on this side?
    fn unknown(&self, which: &str, attr: &str) -> Option<String> {
        if which != "after" || matches!(self.after, Json::Null) {
            return None;
        }
        let marked = match self.after_unknown {
            Json::Bool(b) => *b,
            u => u.get(attr).is_some_and(any_true),
        };
        if marked {
            return Some(format!(
                "{}: `{attr}` is known only after apply (after_unknown marks it); not compared",
                self.address
            ));
        }
        if self.after.get(attr).is_none() {
            return Some(format!("{}: `{attr}` is missing from the planned values (known only after apply); not compared", self.address));
        }
        None
    }

    /// The attribute is in neither side's values and not marked unknown: this provider version
    /// has no such attribute (or the resource does not set it).
    fn nowhere(&self, attr: &str) -> bool {
        let marked = match self.after_unknown {
            Json::Bool(b) => *b,
            u => u.get(attr).is_some_and(any_true),
        };
        !marked && self.before.get(attr).is_none() && self.after.get(attr).is_none()
    }

    /// Does `attr` differ between the sides (or is it known only after apply)?
    fn changed(&self, attr: &str) -> bool {
        let null = Json::Null;
        let b = self.before.get(attr).unwrap_or(&null);
        let a = self.after.get(attr).unwrap_or(&null);
        let unknown = !matches!(self.after, Json::Null)
            && match self.after_unknown {
                Json::Bool(x) => *x,
                u => u.get(attr).is_some_and(any_true),
            };
        let empty = |j: &Json| {
            matches!(j, Json::Null)
                || matches!(j, Json::Arr(x) if x.is_empty())
                || matches!(j, Json::Str(x) if x.is_empty())
        };
        unknown || (b != a && !(empty(b) && empty(a)))
    }

    /// Like `unknown`, but an attribute missing from the planned values is simply not set.
    fn unknown_if_set(&self, which: &str, attr: &str) -> Option<String> {
        if which != "after" || matches!(self.after, Json::Null) {
            return None;
        }
        let marked = match self.after_unknown {
            Json::Bool(b) => *b,
            u => u.get(attr).is_some_and(any_true),
        };
        marked.then(|| {
            format!(
                "{}: `{attr}` is known only after apply (after_unknown marks it); not compared",
                self.address
            )
        })
    }

    fn org_kind(&self, which: &str) -> OrgKind {
        let v = self.values(which);
        if matches!(v, Json::Null) {
            return OrgKind::NotIam;
        }
        if let Some(m) = self.unknown(which, "type") {
            return OrgKind::Unknown(m);
        }
        match v.get("type") {
            None | Some(Json::Null) => OrgKind::Iam(PolicyType::Scp),
            Some(Json::Str(s)) if s == "SERVICE_CONTROL_POLICY" => OrgKind::Iam(PolicyType::Scp),
            Some(Json::Str(s)) if s == "RESOURCE_CONTROL_POLICY" => OrgKind::Iam(PolicyType::Rcp),
            Some(_) => OrgKind::NotIam,
        }
    }

    /// The state of one attribute on one side.
    fn state(&self, which: &str, attr: &str, inline: bool) -> Result<State, Errors> {
        let values = self.values(which);
        if matches!(values, Json::Null) {
            return Ok(State::Absent);
        }
        if let Some(m) = self.unknown(which, attr) {
            return Ok(State::Unknown(m));
        }
        let at = self.change_at.key(which).key(attr);
        let file = self.file;
        let bad = |at: &JsonPath, what: &str, v: &Json| {
            vec![InputError::new(
                file,
                Some(at.to_string()),
                format!("expected {what}, found {}", v.type_name()),
            )]
        };
        let doc = |v: &Json, at: JsonPath, name: String| -> Result<Option<Doc>, Errors> {
            match v {
                Json::Null => Ok(None),
                Json::Str(s) if inline && s.trim().is_empty() => Ok(None),
                Json::Str(s) => Ok(Some(Doc {
                    json: parse_embedded(s, file, &at).map_err(|e| vec![e])?,
                    file: file.to_owned(),
                    at,
                    name,
                })),
                Json::Obj(_) => Ok(Some(Doc {
                    json: v.clone(),
                    file: file.to_owned(),
                    at,
                    name,
                })),
                other => Err(bad(&at, "a policy document as a JSON string", other)),
            }
        };
        let name = |suffix: &str| format!("{}.{attr}{suffix} ({which})", self.address);
        match values.get(attr) {
            None => Ok(State::Unknown(format!(
                "{}: `{attr}` is missing from the plan's `{which}` values; not compared",
                self.address
            ))),
            Some(Json::Null) => Ok(State::Absent),
            Some(Json::Arr(blocks)) if inline => {
                let mut docs = Vec::new();
                for (j, b) in blocks.iter().enumerate() {
                    if !matches!(b, Json::Obj(_)) {
                        return Err(bad(&at.index(j), "an inline_policy block (an object)", b));
                    }
                    let label = match b.get("name") {
                        Some(Json::Str(n)) => format!("[{n}]"),
                        _ => format!("[{j}]"),
                    };
                    if let Some(d) = doc(
                        b.get("policy").unwrap_or(&Json::Null),
                        at.index(j).key("policy"),
                        name(&label),
                    )? {
                        docs.push(d);
                    }
                }
                Ok(if docs.is_empty() {
                    State::Absent
                } else {
                    State::Known(docs)
                })
            }
            Some(v) if inline => Err(bad(&at, "a list of inline_policy blocks", v)),
            Some(v) => Ok(match doc(v, at.clone(), name(""))? {
                Some(d) => State::Known(vec![d]),
                None => State::Absent,
            }),
        }
    }
}

/// Plan-wide facts the readers look up: customer managed policies by ARN, Organizations policies
/// by id, and the configuration (which attributes a resource sets, what they reference).
struct Plan<'a> {
    doc: &'a Json,
    /// (side, ARN) → (policy JSON text, address)
    policies: Vec<(&'static str, String, String, String)>,
    /// address → after `policy` (None: known only after apply)
    policy_by_address: Vec<(String, Option<String>)>,
    /// Organizations policy id → (type, content)
    org: Vec<(String, String, String)>,
}

fn state_resources<'a>(module: &'a Json, out: &mut Vec<&'a Json>) {
    if let Some(Json::Arr(rs)) = module.get("resources") {
        out.extend(rs.iter());
    }
    if let Some(Json::Arr(cs)) = module.get("child_modules") {
        for c in cs {
            state_resources(c, out);
        }
    }
}

impl<'a> Plan<'a> {
    fn new(doc: &'a Json, changes: &'a [Json]) -> Plan<'a> {
        let mut plan = Plan {
            doc,
            policies: Vec::new(),
            policy_by_address: Vec::new(),
            org: Vec::new(),
        };
        let s = |j: Option<&Json>| j.and_then(Json::as_str).map(str::to_owned);
        let mut prior = Vec::new();
        if let Some(root) = doc
            .get("prior_state")
            .and_then(|p| p.get("values"))
            .and_then(|v| v.get("root_module"))
        {
            state_resources(root, &mut prior);
        }
        for r in prior {
            let (Some(t), Some(v)) = (s(r.get("type")), r.get("values")) else {
                continue;
            };
            let addr = s(r.get("address")).unwrap_or_default();
            if t == "aws_iam_policy" {
                if let (Some(arn), Some(pol)) = (s(v.get("arn")), s(v.get("policy"))) {
                    plan.policies.push(("prior", arn, pol, addr));
                }
            } else if t == "aws_organizations_policy" {
                if let (Some(id), Some(c)) = (s(v.get("id")), s(v.get("content"))) {
                    plan.org.push((
                        id,
                        s(v.get("type")).unwrap_or_else(|| "SERVICE_CONTROL_POLICY".into()),
                        c,
                    ));
                }
            }
        }
        for rc in changes {
            let (Some(t), Some(ch)) = (s(rc.get("type")), rc.get("change")) else {
                continue;
            };
            let addr = s(rc.get("address")).unwrap_or_default();
            if t == "aws_iam_policy" {
                for side in ["before", "after"] {
                    let Some(v) = ch.get(side) else { continue };
                    if let (Some(arn), Some(pol)) = (s(v.get("arn")), s(v.get("policy"))) {
                        plan.policies.push((side, arn, pol, addr.clone()));
                    }
                }
                let unknown = ch
                    .get("after_unknown")
                    .and_then(|u| u.get("policy"))
                    .is_some_and(any_true);
                let after = ch.get("after").and_then(|a| s(a.get("policy")));
                plan.policy_by_address
                    .push((addr, if unknown { None } else { after }));
            } else if t == "aws_organizations_policy" {
                if let Some(v) = ch.get("before") {
                    if let (Some(id), Some(c)) = (s(v.get("id")), s(v.get("content"))) {
                        plan.org.push((
                            id,
                            s(v.get("type")).unwrap_or_else(|| "SERVICE_CONTROL_POLICY".into()),
                            c,
                        ));
                    }
                }
            }
        }
        plan
    }

    /// A customer managed policy's document on one side (`before` also finds unchanged ones
    /// in `prior_state`; `after` finds them there unless the plan changes them).
    fn customer(&self, arn: &str, which: &str) -> Option<(String, String)> {
        let find = |side: &str| {
            self.policies
                .iter()
                .find(|(s, a, _, _)| *s == side && a == arn)
                .map(|(_, _, p, addr)| (p.clone(), addr.clone()))
        };
        match which {
            "before" => find("before").or_else(|| find("prior")),
            _ => find("after").or_else(|| {
                let p = find("prior")?;
                // changed or deleted in this plan: the prior document is not the after one
                (!self
                    .policies
                    .iter()
                    .any(|(s, _, _, addr)| *s == "before" && *addr == p.1))
                .then_some(p)
            }),
        }
    }

    /// The configuration block of a resource change (`None` when the plan has none for it).
    fn config(&self, rc: &Json) -> Option<&'a Json> {
        let mut module = self.doc.get("configuration")?.get("root_module")?;
        if let Some(Json::Str(m)) = rc.get("module_address") {
            let segs: Vec<&str> = m.split('.').collect();
            for pair in segs.chunks(2) {
                let name = pair.get(1)?;
                let name = name.split('[').next().unwrap_or(name);
                module = module.get("module_calls")?.get(name)?.get("module")?;
            }
        }
        let rtype = rc.get("type")?.as_str()?;
        let name = rc.get("name")?.as_str()?;
        let mode = rc.get("mode").and_then(Json::as_str).unwrap_or("managed");
        let want = if mode == "data" {
            format!("data.{rtype}.{name}")
        } else {
            format!("{rtype}.{name}")
        };
        match module.get("resources")? {
            Json::Arr(rs) => rs
                .iter()
                .find(|r| r.get("address").and_then(Json::as_str) == Some(want.as_str())),
            _ => None,
        }
    }

    /// Does the configuration set `attr` (true when the plan has no configuration for it)?
    fn configured(&self, rc: &Json, attr: &str) -> bool {
        match self.config(rc) {
            Some(c) => c.get("expressions").is_some_and(|e| e.get(attr).is_some()),
            None => true,
        }
    }

    /// The policy an attribute gets from a `data.aws_iam_policy_document` that is read during
    /// apply (listed in `resource_changes` with its planned statements): a document in which
    /// every value known only after apply is a marker (`bounds`).
    fn policy_document(&self, rc: &Json, attr: &str) -> Option<(Json, String)> {
        let refs = self
            .config(rc)?
            .get("expressions")?
            .get(attr)?
            .get("references")?;
        let Json::Arr(refs) = refs else { return None };
        let prefix = match rc.get("module_address") {
            Some(Json::Str(m)) => format!("{m}."),
            _ => String::new(),
        };
        let name = refs.iter().filter_map(Json::as_str).find_map(|r| {
            let rest = r.strip_prefix("data.aws_iam_policy_document.")?;
            Some(rest.split(['.', '[']).next().unwrap_or(rest).to_owned())
        })?;
        // the expression must read that document and nothing else (`data.X.json`): one that
        // also refers to other values (`merge(…)`, a `replace` with a variable) is not it.
        // (`terraform show -json` does not show function calls: a call on the document alone
        // with literal arguments cannot be told apart; see docs/iac-coverage.md)
        let base = format!("data.aws_iam_policy_document.{name}");
        let only_it = refs.iter().all(|r| {
            r.as_str().is_some_and(|r| {
                r == base || r == format!("{base}.json") || r == format!("{base}.minified_json")
            })
        });
        if !only_it {
            return None;
        }
        let address = format!("{prefix}data.aws_iam_policy_document.{name}");
        let changes = match self.doc.get("resource_changes") {
            Some(Json::Arr(a)) => a,
            _ => return None,
        };
        let hits: Vec<&Json> = changes
            .iter()
            .filter(|c| c.get("address").and_then(Json::as_str) == Some(address.as_str()))
            .collect();
        let [c] = hits.as_slice() else {
            // read during planning: its document is in the prior state
            return self.prior_policy_document(&address);
        };
        let ch = c.get("change")?;
        let after = ch.get("after")?;
        let unknown = ch
            .get("after_unknown")
            .cloned()
            .unwrap_or(Json::Obj(Vec::new()));
        // documents merged into the statements (`source_policy_documents`,
        // `override_policy_documents`, the deprecated `source_json`/`override_json`) are not
        // rebuilt: leaving them out could hide statements, so the policy stays unknown
        for k in [
            "source_json",
            "override_json",
            "source_policy_documents",
            "override_policy_documents",
        ] {
            let set = match after.get(k) {
                None | Some(Json::Null) => false,
                Some(Json::Arr(a)) => !a.is_empty(),
                Some(Json::Str(t)) => !t.is_empty(),
                Some(_) => true,
            };
            if set || unknown.get(k).is_some_and(any_true) {
                return None;
            }
        }
        let version = match after.get("version") {
            Some(Json::Str(v)) if !v.is_empty() => v.clone(),
            _ if unknown.get("version").is_some_and(any_true) => return None,
            _ => "2012-10-17".to_owned(),
        };
        if matches!(unknown, Json::Bool(true))
            || unknown
                .get("statement")
                .is_some_and(|u| matches!(u, Json::Bool(true)))
        {
            return None;
        }
        let stmts = match after.get("statement") {
            Some(Json::Arr(a)) => a,
            _ => return None,
        };
        let mut out = Vec::new();
        for (i, st) in stmts.iter().enumerate() {
            let u = unknown.get("statement").and_then(|s| match s {
                Json::Arr(a) => a.get(i),
                _ => None,
            });
            let label = |k: &str| format!("{address}.statement[{i}].{k}");
            // a list attribute with unknown entries: markers for them
            let list = |k: &str| -> Option<Json> {
                // only a non-empty list has entries here (`marked_list` also takes a string)
                let known = st
                    .get(k)
                    .filter(|v| matches!(v, Json::Arr(a) if !a.is_empty()));
                marked_list(known, u.and_then(|u| u.get(k)), &label(k))
            };
            let mut o: Vec<(String, Json)> = Vec::new();
            if let Some(Json::Str(sid)) = st.get("sid") {
                if !sid.is_empty() {
                    o.push(("Sid".into(), Json::Str(sid.clone())));
                }
            }
            let effect = st
                .get("effect")
                .and_then(Json::as_str)
                .filter(|e| !e.is_empty())
                .unwrap_or("Allow");
            o.push(("Effect".into(), Json::Str(effect.to_owned())));
            for (k, key) in [
                ("actions", "Action"),
                ("not_actions", "NotAction"),
                ("resources", "Resource"),
                ("not_resources", "NotResource"),
            ] {
                if let Some(v) = list(k) {
                    o.push((key.into(), v));
                }
            }
            for (k, key) in [
                ("principals", "Principal"),
                ("not_principals", "NotPrincipal"),
            ] {
                let Some(Json::Arr(ps)) = st.get(k) else {
                    continue;
                };
                if ps.is_empty() {
                    continue;
                }
                let uk = u.and_then(|u| u.get(k));
                if uk.is_some_and(|x| matches!(x, Json::Bool(true))) {
                    return None;
                }
                let mut m: Vec<(String, Json)> = Vec::new();
                for (pi, p) in ps.iter().enumerate() {
                    let up = uk.and_then(|x| match x {
                        Json::Arr(a) => a.get(pi),
                        _ => None,
                    });
                    if up.and_then(|x| x.get("type")).is_some_and(any_true) {
                        return None;
                    }
                    let t = p.get("type").and_then(Json::as_str)?;
                    // identifiers known only after apply (a role created in the same plan):
                    // markers, bounded over every value
                    let ids = marked_list(
                        p.get("identifiers"),
                        up.and_then(|x| x.get("identifiers")),
                        &format!("{}{k}[{pi}].identifiers", label("")),
                    )?;
                    if t == "*" {
                        m.push(("AWS".into(), Json::Str("*".into())));
                    } else {
                        m.push((t.to_owned(), ids));
                    }
                }
                // one entry known only after apply that the configuration shows is a role's
                // or user's ARN: named after that value (`aws_iam_role.app.arn`), which `bounds`
                // compares exactly as a principal shared by every use of it
                let unknown_entries: Vec<(usize, usize)> = m
                    .iter()
                    .enumerate()
                    .flat_map(|(bi, (_, ids))| match ids {
                        Json::Arr(a) => a
                            .iter()
                            .enumerate()
                            .filter(|(_, x)| super::bounds::has_mark(x))
                            .map(|(ei, _)| (bi, ei))
                            .collect::<Vec<_>>(),
                        x if super::bounds::has_mark(x) => vec![(bi, usize::MAX)],
                        _ => Vec::new(),
                    })
                    .collect();
                // (one entry, not the whole list: `…identifiers[j]`)
                let entry = |bi: usize, ei: usize| match &m[bi].1 {
                    Json::Arr(a) => a
                        .get(ei)
                        .and_then(Json::as_str)
                        .is_some_and(|x| x.ends_with(&format!("]{}", super::bounds::MARK))),
                    _ => false,
                };
                if let [(bi, ei)] = unknown_entries.as_slice() {
                    if k == "principals"
                        && m[*bi].0 == "AWS"
                        && *ei != usize::MAX
                        && entry(*bi, *ei)
                    {
                        if let Some(name) = self.principal_arn(c, i, k, stmts.len()) {
                            if let Json::Arr(a) = &mut m[*bi].1 {
                                a[*ei] = Json::Str(super::bounds::marker(&name));
                            }
                        }
                    }
                }
                // blocks of the same type are one list (`AWS: [...]`)
                let mut merged: Vec<(String, Json)> = Vec::new();
                for (t, ids) in m {
                    let as_list = |j: Json| match j {
                        Json::Arr(a) => a,
                        other => vec![other],
                    };
                    match merged.iter_mut().find(|(x, _)| *x == t) {
                        Some((_, prev)) => {
                            let mut all = as_list(std::mem::replace(prev, Json::Null));
                            all.extend(as_list(ids));
                            *prev = Json::Arr(all);
                        }
                        None => merged.push((t, ids)),
                    }
                }
                o.push((key.into(), Json::Obj(merged)));
            }
            if let Some(Json::Arr(conds)) = st.get("condition") {
                let uc = u.and_then(|u| u.get("condition"));
                if uc.is_some_and(|x| matches!(x, Json::Bool(true))) {
                    return None;
                }
                let mut ops: Vec<(String, Json)> = Vec::new();
                for (ci, c) in conds.iter().enumerate() {
                    let ucc = uc.and_then(|x| match x {
                        Json::Arr(a) => a.get(ci),
                        _ => None,
                    });
                    if ucc.is_some_and(|x| {
                        x.get("test").is_some_and(any_true)
                            || x.get("variable").is_some_and(any_true)
                    }) {
                        return None;
                    }
                    let test = c.get("test").and_then(Json::as_str)?;
                    let var = c.get("variable").and_then(Json::as_str)?;
                    // values known only after apply (a topic's ARN): markers
                    let vals = marked_list(
                        c.get("values"),
                        ucc.and_then(|x| x.get("values")),
                        &format!("{}condition[{ci}].values", label("")),
                    )?;
                    match ops.iter_mut().find(|(op, _)| op == test) {
                        Some((_, Json::Obj(keys))) => keys.push((var.to_owned(), vals)),
                        _ => ops.push((test.to_owned(), Json::Obj(vec![(var.to_owned(), vals)]))),
                    }
                }
                if !ops.is_empty() {
                    o.push(("Condition".into(), Json::Obj(ops)));
                }
            }
            let stmt = Json::Obj(o);
            // a value known only after apply is the whole entry, which may itself be a pattern
            // (`"${aws_s3_bucket.b.arn}/*"`); read as one literal value it is exact only where
            // matching more could only widen NEW: in an Allow statement's Resource, Action,
            // Principal and positive conditions. Elsewhere (a Deny, a Not… element, a negated
            // condition) the policy stays unknown
            // (a principal resolved to a role's or user's ARN is never a pattern, and an
            // `Action` entry is compared as "the request's action matches it" whatever
            // pattern it is (`bounds::action_is_key`): exact in a Deny too)
            let marked = |k: &str| stmt.get(k).is_some_and(super::bounds::has_mark);
            let negated = match stmt.get("Condition") {
                Some(Json::Obj(ops)) => ops
                    .iter()
                    .any(|(op, v)| op.contains("Not") && super::bounds::has_mark(v)),
                _ => false,
            };
            let pattern_marks = match &stmt {
                Json::Obj(fields) => fields.iter().any(|(k, v)| {
                    if k == "Principal" {
                        unresolved_principal_mark(v)
                    } else if k == "Action" {
                        false
                    } else {
                        super::bounds::has_mark(v)
                    }
                }),
                _ => false,
            };
            if pattern_marks
                && (effect != "Allow"
                    || marked("NotResource")
                    || marked("NotAction")
                    || marked("NotPrincipal")
                    || negated)
            {
                return None;
            }
            out.push(stmt);
        }
        if out.is_empty() {
            return None;
        }
        Some((
            Json::Obj(vec![
                ("Version".into(), Json::Str(version)),
                ("Statement".into(), Json::Arr(out)),
            ]),
            address,
        ))
    }

    /// The name of the value (`aws_iam_role.app.arn`, `module.m.aws_iam_user.u.arn`) that the
    /// one identifier known only after apply in the `k` blocks (`principals`) of statement `i`
    /// of the policy document read during apply `doc` (its resource change) stands for, by the
    /// plan's `configuration`. `None` unless the configuration's statements line up with the
    /// planned ones (`n` of them: `dynamic` blocks are left out of the configuration, so then
    /// they do not), exactly one of the statement's `k` blocks refers to anything, and its
    /// `identifiers` refer to exactly one value that resolves, through module variables and
    /// outputs, to the `arn` of an `aws_iam_role` or `aws_iam_user` (resource or data source).
    /// An account ID, a local or input value of the root module, a unique ID or name, or an
    /// expression reading more than one value: `None` (the identifier stays a bounded value).
    fn principal_arn(&self, doc: &Json, i: usize, k: &str, n: usize) -> Option<String> {
        let stmts = match self.config(doc)?.get("expressions")?.get("statement")? {
            Json::Arr(a) if a.len() == n => a,
            _ => return None,
        };
        // the planned blocks: as many as configured (a `dynamic` block, which the configuration
        // leaves out, could hold the unknown entry)
        let planned = doc
            .get("change")?
            .get("after")?
            .get("statement")
            .and_then(|st| match st {
                Json::Arr(a) => a.get(i),
                _ => None,
            })?
            .get(k)?;
        let blocks = match (stmts.get(i)?.get(k)?, planned) {
            (Json::Arr(a), Json::Arr(p)) if a.len() == p.len() => a,
            _ => return None,
        };
        let mut referring = blocks.iter().filter(|b| {
            b.get("identifiers")
                .is_none_or(|e| e.get("references").is_some() || e.get("constant_value").is_none())
                || b.get("type")
                    .is_none_or(|e| e.get("constant_value").is_none())
        });
        let (Some(block), None) = (referring.next(), referring.next()) else {
            return None;
        };
        if block.get("type")?.get("constant_value")?.as_str()? != "AWS" {
            return None;
        }
        let refs = block.get("identifiers")?.get("references")?;
        let module = match doc.get("module_address") {
            Some(Json::Str(m)) => module_segments(m)?,
            None => Vec::new(),
            Some(_) => return None,
        };
        self.resolve_arn(&module, refs, 0)
    }

    /// The configuration of the module at `path` (instance segments; their keys are ignored).
    fn module_config(&self, path: &[String]) -> Option<&'a Json> {
        let mut module = self.doc.get("configuration")?.get("root_module")?;
        for seg in path {
            let name = seg.strip_prefix("module.")?;
            let name = name.split('[').next().unwrap_or(name);
            module = module.get("module_calls")?.get(name)?.get("module")?;
        }
        Some(module)
    }

    /// `refs` (an expression's `references` in the module instance `path`) when they name
    /// exactly one role's or user's `arn`, directly or through one module variable or output
    /// at a time: its name, with the module instance prefix.
    fn resolve_arn(&self, path: &[String], refs: &Json, depth: usize) -> Option<String> {
        if depth > 16 {
            return None;
        }
        let Json::Arr(refs) = refs else { return None };
        let refs: Vec<&str> = refs.iter().map(Json::as_str).collect::<Option<_>>()?;
        let module = self.module_config(path)?;
        let prefix: String = path.iter().map(|s| format!("{s}.")).collect();
        match refs.as_slice() {
            // `var.V` of a child module: the module call's argument, in the parent
            [v] if v.starts_with("var.") && !path.is_empty() => {
                let var = v.strip_prefix("var.")?;
                let (last, parent) = path.split_last()?;
                let call = last.strip_prefix("module.")?;
                let call = call.split('[').next().unwrap_or(call);
                let arg = self
                    .module_config(parent)?
                    .get("module_calls")?
                    .get(call)?
                    .get("expressions")?
                    .get(var)?
                    .get("references")?;
                self.resolve_arn(parent, arg, depth + 1)
            }
            // `module.C.O`: the output's expression, in the child module (a call without
            // `count`/`for_each`: with them the reference holds a key)
            [out, call] if out.starts_with("module.") => {
                let c = call.strip_prefix("module.")?;
                let o = out.strip_prefix(call)?.strip_prefix('.')?;
                if c.contains(['.', '[']) || o.contains(['.', '[']) {
                    return None;
                }
                let expr = module
                    .get("module_calls")?
                    .get(c)?
                    .get("module")?
                    .get("outputs")?
                    .get(o)?
                    .get("expression")?
                    .get("references")?;
                let mut child = path.to_vec();
                child.push(format!("module.{c}"));
                self.resolve_arn(&child, expr, depth + 1)
            }
            // `TYPE.NAME.arn` (`[TYPE.NAME.arn, TYPE.NAME]`), or with an instance key
            // (`[TYPE.NAME[K].arn, TYPE.NAME[K], TYPE.NAME]`)
            [arn, inst] | [arn, inst, _] => {
                let base = match refs.as_slice() {
                    [_, _, b] => {
                        let key = inst.strip_prefix(b)?;
                        if !key.starts_with('[') {
                            return None;
                        }
                        b
                    }
                    _ => inst,
                };
                if arn.strip_prefix(inst)? != ".arn" {
                    return None;
                }
                let name = format!("{prefix}{arn}");
                if !super::bounds::is_terraform_role_or_user_arn(&name) {
                    return None;
                }
                // the resource is declared in that module
                let declared = match module.get("resources")? {
                    Json::Arr(rs) => rs
                        .iter()
                        .any(|r| r.get("address").and_then(Json::as_str) == Some(*base)),
                    _ => false,
                };
                declared.then_some(name)
            }
            _ => None,
        }
    }

    /// The document of a `data.aws_iam_policy_document` read during planning: its `json` in
    /// the prior state (`None` when it is not there).
    fn prior_policy_document(&self, address: &str) -> Option<(Json, String)> {
        let root = self
            .doc
            .get("prior_state")?
            .get("values")?
            .get("root_module")?;
        let mut rs = Vec::new();
        state_resources(root, &mut rs);
        let hits: Vec<&&Json> = rs
            .iter()
            .filter(|r| r.get("address").and_then(Json::as_str) == Some(address))
            .collect();
        let [r] = hits.as_slice() else { return None };
        let text = r.get("values")?.get("json")?.as_str()?;
        let doc = crate::json::parse(text).ok()?;
        Some((doc, address.to_owned()))
    }

    /// The `data.aws_iam_policy_document` an attribute's expression refers to, if any.
    fn policy_document_name(&self, rc: &Json, attr: &str) -> Option<String> {
        let refs = self
            .config(rc)?
            .get("expressions")?
            .get(attr)?
            .get("references")?;
        let Json::Arr(refs) = refs else { return None };
        refs.iter().filter_map(Json::as_str).find_map(|r| {
            let rest = r.strip_prefix("data.aws_iam_policy_document.")?;
            Some(format!(
                "data.aws_iam_policy_document.{}",
                rest.split(['.', '[']).next().unwrap_or(rest)
            ))
        })
    }

    /// The `aws_iam_policy` an attribute refers to, by the configuration's references.
    fn referenced_policy(&self, rc: &Json, attr: &str) -> Option<(String, Option<String>)> {
        let refs = self
            .config(rc)?
            .get("expressions")?
            .get(attr)?
            .get("references")?;
        let Json::Arr(refs) = refs else { return None };
        let prefix = match rc.get("module_address") {
            Some(Json::Str(m)) => format!("{m}."),
            _ => String::new(),
        };
        for r in refs.iter().filter_map(Json::as_str) {
            let Some(rest) = r.strip_prefix("aws_iam_policy.") else {
                continue;
            };
            let name = rest.split(['.', '[']).next().unwrap_or(rest);
            let base = format!("{prefix}aws_iam_policy.{name}");
            let hits: Vec<&(String, Option<String>)> = self
                .policy_by_address
                .iter()
                .filter(|(a, _)| {
                    *a == base || a.strip_prefix(&base).is_some_and(|x| x.starts_with('['))
                })
                .collect();
            if let [one] = hits.as_slice() {
                return Some((one.0.clone(), one.1.clone()));
            }
        }
        None
    }
}

/// What one resource-change reader needs.
struct Ctx<'a, 'b> {
    plan: &'b Plan<'a>,
    sides: &'b Sides<'b>,
    rc: &'b Json,
    address: &'b str,
    rtype: &'b str,
    action: &'b str,
}

/// A list of strings with the entries known only after apply (`unknown` marks them) as
/// markers named `label[i]` (the whole list when `unknown` is `true`). `None` when the list
/// is neither an array nor wholly unknown.
fn marked_list(list: Option<&Json>, unknown: Option<&Json>, label: &str) -> Option<Json> {
    if unknown.is_some_and(|x| matches!(x, Json::Bool(true))) {
        return Some(Json::Arr(vec![Json::Str(super::bounds::marker(label))]));
    }
    let Some(Json::Arr(items)) = list else {
        return match list {
            Some(s @ Json::Str(_)) => Some(s.clone()),
            _ => None,
        };
    };
    Some(Json::Arr(
        items
            .iter()
            .enumerate()
            .map(|(j, x)| {
                let unk = unknown.and_then(|m| match m {
                    Json::Arr(a) => a.get(j),
                    _ => None,
                });
                match (x, unk) {
                    (_, Some(Json::Bool(true))) | (Json::Null, _) => {
                        Json::Str(super::bounds::marker(&format!("{label}[{j}]")))
                    }
                    _ => x.clone(),
                }
            })
            .collect(),
    ))
}

/// Does a `Principal` element hold a value known only after apply that may be a pattern (any
/// marker but a whole entry resolved to a role's or user's ARN)?
fn unresolved_principal_mark(p: &Json) -> bool {
    match p {
        Json::Str(s) => {
            s.contains(super::bounds::MARK)
                && !s
                    .strip_prefix(super::bounds::MARK)
                    .and_then(|x| x.strip_suffix(super::bounds::MARK))
                    .is_some_and(|n| {
                        !n.contains(super::bounds::MARK)
                            && super::bounds::is_terraform_role_or_user_arn(n)
                    })
        }
        Json::Arr(a) => a.iter().any(unresolved_principal_mark),
        Json::Obj(o) => o
            .iter()
            .any(|(k, v)| k.contains(super::bounds::MARK) || unresolved_principal_mark(v)),
        _ => false,
    }
}

/// The instance segments of a module address (`module.a.module.b["x"]` → `module.a`,
/// `module.b["x"]`), keys kept whole (a key may hold a dot).
fn module_segments(address: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = address;
    while !rest.is_empty() {
        let r = rest.strip_prefix("module.")?;
        let mut end = r.find(['.', '[']).unwrap_or(r.len());
        if r[end..].starts_with('[') {
            // the key: a number or a quoted string (with `\"` escapes)
            let bytes = r.as_bytes();
            let mut j = end + 1;
            let mut quoted = false;
            while j < bytes.len() {
                match bytes[j] {
                    b'\\' if quoted => j += 1,
                    b'"' => quoted = !quoted,
                    b']' if !quoted => break,
                    _ => {}
                }
                j += 1;
            }
            if j >= bytes.len() {
                return None;
            }
            end = j + 1;
        }
        out.push(format!("module.{}", &r[..end]));
        rest = &r[end..];
        if let Some(x) = rest.strip_prefix('.') {
            rest = x;
            if rest.is_empty() {
                return None;
            }
        } else if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

fn strs(j: Option<&Json>) -> Vec<String> {
    match j {
        Some(Json::Arr(a)) => a
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Json::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

impl Ctx<'_, '_> {
    fn part(&self, attribute: &str, kind: Kind, before: State, after: State) -> Part {
        Part::new(
            self.address,
            self.rtype,
            attribute,
            self.action,
            kind,
            before,
            after,
        )
    }

    fn decided(&self, attribute: &str, verdict: Verdict, message: String) -> Part {
        Part::decided(
            self.address,
            self.rtype,
            attribute,
            self.action,
            verdict,
            message,
        )
    }

    fn doc(&self, text: &str, at: JsonPath, name: String) -> Result<State, Errors> {
        let json = parse_embedded(text, self.sides.file, &at).map_err(|e| vec![e])?;
        Ok(State::Known(vec![Doc {
            json,
            file: self.sides.file.to_owned(),
            at,
            name,
        }]))
    }

    /// The document of a managed policy ARN on one side.
    fn managed(&self, arn: &str, which: &str, at: JsonPath) -> Result<State, Errors> {
        if super::managed::is_aws_managed(arn) {
            return Ok(match super::managed::document(arn) {
                Ok((json, version)) => State::Known(vec![Doc {
                    json,
                    file: self.sides.file.to_owned(),
                    at,
                    name: format!("{arn} (AWS managed, {version})"),
                }]),
                Err(m) => State::Unknown(format!("{}: {m}; not compared", self.address)),
            });
        }
        match self.plan.customer(arn, which) {
            Some((text, addr)) => self.doc(&text, at, format!("{arn} ({addr}, {which})")),
            None => Ok(State::Unknown(format!(
                "{}: the customer managed policy {arn} is not defined in the plan (its document is unknown); not compared",
                self.address
            ))),
        }
    }

    fn values(&self, which: &str) -> &Json {
        self.sides.values(which)
    }

    fn at(&self, which: &str, attr: &str) -> JsonPath {
        self.sides.change_at.key(which).key(attr)
    }

    fn read(&self, attr: Attr) -> Result<Vec<Part>, Errors> {
        let sides = self.sides;
        let mut parts = Vec::new();
        match attr {
            Attr::ManagedArns(a) => {
                if !self.plan.configured(self.rc, a) {
                    return Ok(parts);
                }
                if let Some(m) = sides.unknown("after", a) {
                    parts.push(self.part(
                        a,
                        Kind::Fixed(PolicyType::Identity),
                        State::Absent,
                        State::Unknown(m),
                    ));
                    return Ok(parts);
                }
                let b = strs(self.values("before").get(a));
                let n = strs(self.values("after").get(a));
                for arn in n.iter().filter(|x| !b.contains(x)) {
                    let st = self.managed(arn, "after", self.at("after", a))?;
                    parts.push(self.part(
                        &format!("{a} {arn}"),
                        Kind::Fixed(PolicyType::Identity),
                        State::Absent,
                        st,
                    ));
                }
                for arn in b.iter().filter(|x| !n.contains(x)) {
                    let st = self.managed(arn, "before", self.at("before", a))?;
                    parts.push(self.part(
                        &format!("{a} {arn}"),
                        Kind::Fixed(PolicyType::Identity),
                        st,
                        State::Absent,
                    ));
                }
            }
            Attr::PolicyArn(a, kind) => {
                if kind == Kind::Boundary && !self.plan.configured(self.rc, a) {
                    return Ok(parts);
                }
                let set = |w: &str| {
                    self.values(w)
                        .get(a)
                        .and_then(Json::as_str)
                        .is_some_and(|x| !x.is_empty())
                };
                if set("before") || set("after") || sides.unknown_if_set("after", a).is_some() {
                    parts.push(self.arn_part(a, a, kind)?);
                }
            }
            Attr::PolicyArnTargets => {
                let ba = self
                    .values("before")
                    .get("policy_arn")
                    .and_then(Json::as_str)
                    .map(str::to_owned);
                let na = self
                    .values("after")
                    .get("policy_arn")
                    .and_then(Json::as_str)
                    .map(str::to_owned);
                let targets = |which: &str| -> Vec<String> {
                    let v = self.values(which);
                    ["users", "roles", "groups"]
                        .iter()
                        .flat_map(|k| {
                            strs(v.get(k))
                                .into_iter()
                                .map(move |x| format!("{} {x}", k.trim_end_matches('s')))
                        })
                        .collect()
                };
                let unknown = ["policy_arn", "users", "roles", "groups"]
                    .iter()
                    .find_map(|k| sides.unknown("after", k));
                if let Some(m) = unknown {
                    if !matches!(self.values("after"), Json::Null) {
                        parts.push(self.part(
                            "policy_arn",
                            Kind::Fixed(PolicyType::Identity),
                            State::Absent,
                            State::Unknown(m),
                        ));
                        return Ok(parts);
                    }
                }
                let (bt, nt) = (targets("before"), targets("after"));
                for t in &nt {
                    if ba == na && bt.contains(t) {
                        continue;
                    }
                    let Some(arn) = &na else { continue };
                    let st = self.managed(arn, "after", self.at("after", "policy_arn"))?;
                    parts.push(self.part(
                        &format!("policy_arn {arn} → {t}"),
                        Kind::Fixed(PolicyType::Identity),
                        State::Absent,
                        st,
                    ));
                }
                for t in &bt {
                    if ba == na && nt.contains(t) {
                        continue;
                    }
                    let Some(arn) = &ba else { continue };
                    let st = self.managed(arn, "before", self.at("before", "policy_arn"))?;
                    parts.push(self.part(
                        &format!("policy_arn {arn} → {t}"),
                        Kind::Fixed(PolicyType::Identity),
                        st,
                        State::Absent,
                    ));
                }
            }
            Attr::LambdaPermission | Attr::FunctionUrl | Attr::KmsGrant => {
                let mut st = Vec::new();
                for which in ["before", "after"] {
                    st.push(self.synthesized(attr, which)?);
                }
                let a = st.pop().unwrap_or(State::Absent);
                let b = st.pop().unwrap_or(State::Absent);
                let name = match attr {
                    Attr::LambdaPermission => "statement",
                    Attr::FunctionUrl => "authorization_type",
                    _ => "grant",
                };
                parts.push(self.part(name, Kind::Fixed(PolicyType::Resource), b, a));
            }
            Attr::PublicAccessBlock => parts.push(self.public_access_block()),
            Attr::Provider(oidc) => {
                let (b, a) = (self.values("before"), self.values("after"));
                let part = |v: Verdict, m: String| self.decided("(provider)", v, m);
                if matches!(a, Json::Null) {
                    parts.push(part(Verdict::NoWidening, "identity provider deleted: roles that trust it can no longer be assumed through it".into()));
                } else if oidc {
                    let added: Vec<String> = ["client_id_list", "thumbprint_list"]
                        .iter()
                        .flat_map(|k| {
                            let old = strs(b.get(k));
                            strs(a.get(k))
                                .into_iter()
                                .filter(move |x| !old.contains(x))
                                .map(move |x| format!("{k} + {x}"))
                        })
                        .collect();
                    let url_changed = b.get("url") != a.get("url");
                    let unknown = ["url", "client_id_list", "thumbprint_list"]
                        .iter()
                        .find_map(|k| sides.unknown("after", k));
                    if let Some(m) = unknown {
                        parts.push(part(Verdict::Unknown, m));
                    } else if matches!(b, Json::Null) || url_changed || !added.is_empty() {
                        parts.push(part(Verdict::Unknown, format!("OpenID Connect provider {}: roles whose trust policy names it may now be assumed with its tokens ({}); trust policies outside this plan are not known", a.get("url").and_then(Json::as_str).unwrap_or("?"), if added.is_empty() { "new provider or URL".into() } else { added.join(", ") })));
                    } else {
                        parts.push(part(
                            Verdict::NoWidening,
                            "only audiences or thumbprints removed: it can only restrict".into(),
                        ));
                    }
                } else if matches!(b, Json::Null)
                    || b.get("saml_metadata_document") != a.get("saml_metadata_document")
                {
                    parts.push(part(Verdict::Unknown, "SAML provider created or its metadata (signing keys) changed: roles that trust it may be assumed with assertions signed by new keys; not analysed".into()));
                } else {
                    parts.push(part(Verdict::NoWidening, "SAML metadata unchanged".into()));
                }
            }
            Attr::OrgAttachment => {
                let before = self.values("before");
                if matches!(before, Json::Null) {
                    parts.push(self.decided(
                        "(attachment)",
                        Verdict::NoWidening,
                        "guardrail attached: it can only restrict".into(),
                    ));
                } else {
                    let id = before.get("policy_id").and_then(Json::as_str).unwrap_or("");
                    let target = before
                        .get("target_id")
                        .and_then(Json::as_str)
                        .unwrap_or("?");
                    let found = if id == "p-FullAWSAccess" {
                        Some(("SERVICE_CONTROL_POLICY".to_owned(), r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.to_owned()))
                    } else {
                        self.plan
                            .org
                            .iter()
                            .find(|(i, _, _)| i == id)
                            .map(|(_, t, c)| (t.clone(), c.clone()))
                    };
                    match found {
                        Some((t, content)) if t == "SERVICE_CONTROL_POLICY" || t == "RESOURCE_CONTROL_POLICY" => {
                            let k = if t == "SERVICE_CONTROL_POLICY" { PolicyType::Scp } else { PolicyType::Rcp };
                            let st = self.doc(&content, self.at("before", "policy_id"), format!("{id} (detached from {target})"))?;
                            let mut p = self.part(&format!("policy_id {id}"), Kind::Fixed(k), st, State::Absent);
                            if !matches!(self.values("after"), Json::Null) && self.values("after").get("policy_id") == before.get("policy_id") && self.values("after").get("target_id") == before.get("target_id") {
                                p.unchanged = true;
                            }
                            parts.push(p);
                        }
                        Some(_) => {}
                        None => parts.push(self.decided(&format!("policy_id {id}"), Verdict::Unknown, format!("{}: policy {id} is detached from {target}, and its content is not in the plan; not compared", self.address))),
                    }
                }
            }
            Attr::SsoCustomerRef => {
                let r = self
                    .values("after")
                    .get("customer_managed_policy_reference")
                    .or_else(|| {
                        self.values("before")
                            .get("customer_managed_policy_reference")
                    });
                let name = r
                    .and_then(|r| match r {
                        Json::Arr(a) => a.first(),
                        x => Some(x),
                    })
                    .and_then(|x| x.get("name"))
                    .and_then(Json::as_str)
                    .unwrap_or("?");
                parts.push(self.decided("customer_managed_policy_reference", Verdict::Unknown, format!("{}: the customer managed policy `{name}` lives in each account the permission set is provisioned to; its document is not in the plan; not compared", self.address)));
            }
            Attr::SsoBoundary => {
                let arn = |which: &str| -> Option<Option<String>> {
                    let v = self.values(which);
                    if matches!(v, Json::Null) {
                        return Some(None);
                    }
                    let pb = match v.get("permissions_boundary") {
                        Some(Json::Arr(a)) => a.first()?,
                        Some(x) => x,
                        None => return None,
                    };
                    pb.get("managed_policy_arn")
                        .and_then(Json::as_str)
                        .map(|s| Some(s.to_owned()))
                };
                match (arn("before"), arn("after")) {
                    (Some(b), Some(a)) => {
                        let bs = match &b { Some(x) => self.managed(x, "before", self.at("before", "permissions_boundary"))?, None => State::Absent };
                        let as_ = match &a { Some(x) => self.managed(x, "after", self.at("after", "permissions_boundary"))?, None => State::Absent };
                        let mut p = self.part("permissions_boundary", Kind::Boundary, bs, as_);
                        p.unchanged = b == a;
                        parts.push(p);
                    }
                    _ => parts.push(self.decided("permissions_boundary", Verdict::Unknown, format!("{}: a customer managed policy as permissions boundary: its document is in each provisioned account, not in the plan; not compared", self.address))),
                }
            }
            Attr::Guard(attrs, why) => {
                let changed: Vec<&str> = attrs
                    .iter()
                    .copied()
                    .filter(|a| sides.changed(a) && self.plan.configured(self.rc, a))
                    .collect();
                if !changed.is_empty() {
                    parts.push(self.decided(
                        &changed.join(", "),
                        Verdict::Unknown,
                        format!(
                            "not analysed: {} {} (`{}` changed: {why})",
                            self.rtype,
                            self.address,
                            changed.join("`, `")
                        ),
                    ));
                }
            }
            Attr::OnlyNarrows => {
                parts.push(
                    self.decided(
                        "(resource)",
                        Verdict::NoWidening,
                        "it can only detach policies that are not listed: it never grants access"
                            .into(),
                    ),
                );
            }
            Attr::Policy(..) | Attr::Inline(_) | Attr::OrgContent => {}
        }
        Ok(parts)
    }

    /// A part for an attribute holding one managed policy ARN.
    fn arn_part(&self, attribute: &str, a: &str, kind: Kind) -> Result<Part, Errors> {
        let get = |which: &str| {
            self.values(which)
                .get(a)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (b, n) = (get("before"), get("after"));
        let bs = match &b {
            Some(arn) => self.managed(arn, "before", self.at("before", a))?,
            None => State::Absent,
        };
        let ns = if let Some(m) = self.sides.unknown("after", a) {
            // known after apply: the policy the configuration refers to, if it is in the plan
            match self.plan.referenced_policy(self.rc, a) {
                Some((addr, Some(text))) => self.doc(&text, self.at("after", a), format!("{addr} (after)"))?,
                Some((addr, None)) => State::Unknown(format!("{}: `{a}` refers to {addr}, whose policy is known only after apply; not compared", self.address)),
                None => State::Unknown(m),
            }
        } else {
            match &n {
                Some(arn) => self.managed(arn, "after", self.at("after", a))?,
                None => State::Absent,
            }
        };
        let label = match n.as_ref().or(b.as_ref()) {
            Some(arn) if b == n => format!("{attribute} {arn}"),
            _ => attribute.to_owned(),
        };
        let mut p = self.part(&label, kind, bs, ns);
        // the same ARN on both sides: the policy's own changes are compared where it is defined
        p.unchanged = b.is_some() && b == n && self.sides.unknown("after", a).is_none();
        Ok(p)
    }

    /// A statement built from a resource's attributes (Lambda permissions, function URLs, KMS
    /// grants), as a resource policy.
    fn synthesized(&self, attr: Attr, which: &str) -> Result<State, Errors> {
        let v = self.values(which);
        if matches!(v, Json::Null) {
            return Ok(State::Absent);
        }
        let s = |k: &str| {
            v.get(k)
                .and_then(Json::as_str)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
        };
        let fields: &[&str] = match attr {
            Attr::LambdaPermission => &[
                "action",
                "principal",
                "function_name",
                "qualifier",
                "source_arn",
                "source_account",
                "principal_org_id",
                "event_source_token",
                "function_url_auth_type",
            ],
            Attr::FunctionUrl => &["authorization_type", "function_name", "qualifier"],
            _ => &["grantee_principal", "operations", "key_id", "constraints"],
        };
        // values of a Lambda permission's conditions known only after apply (a new topic's ARN
        // as `source_arn`, ...) are symbolic: a marker named by the resource address
        // and attribute, the same on both sides (`super::bounds`)
        // (not the function's name: it may be a name or an ARN, which shapes the resource)
        let symbolic = [
            "source_arn",
            "source_account",
            "principal_org_id",
            "event_source_token",
        ];
        let mut marked: Vec<&str> = Vec::new();
        for f in fields {
            if let Some(m) = self.sides.unknown_if_set(which, f) {
                if matches!(attr, Attr::LambdaPermission) && symbolic.contains(f) {
                    marked.push(f);
                    continue;
                }
                return Ok(State::Unknown(m));
            }
        }
        let address = self.sides.address;
        let s = |k: &str| {
            if marked.contains(&k) {
                return Some(super::bounds::marker(&format!("{address}.{k}")));
            }
            s(k)
        };
        let function = |name: Option<String>, qualifier: Option<String>| -> String {
            let name = name.unwrap_or_else(|| "*".into());
            let base = if name.starts_with("arn:") {
                name
            } else {
                format!("arn:aws:lambda:*:*:function:{name}")
            };
            match qualifier {
                Some(q) if !base.ends_with(&format!(":{q}")) => format!("{base}:{q}"),
                _ => base,
            }
        };
        let stmt = match attr {
            Attr::LambdaPermission => {
                let principal = s("principal").unwrap_or_else(|| "*".into());
                let p = if principal == "*" {
                    serde_json::json!("*")
                } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
                    serde_json::json!({"AWS": format!("arn:aws:iam::{principal}:root")})
                } else if principal.starts_with("arn:") {
                    serde_json::json!({"AWS": principal})
                } else {
                    serde_json::json!({"Service": principal})
                };
                let mut cond = serde_json::Map::new();
                let mut add = |op: &str, key: &str, val: Option<String>| {
                    if let Some(val) = val {
                        let e = cond
                            .entry(op.to_owned())
                            .or_insert_with(|| serde_json::json!({}));
                        e[key] = serde_json::Value::String(val);
                    }
                };
                add("ArnLike", "aws:SourceArn", s("source_arn"));
                add("StringEquals", "aws:SourceAccount", s("source_account"));
                add("StringEquals", "aws:PrincipalOrgID", s("principal_org_id"));
                add(
                    "StringEquals",
                    "lambda:EventSourceToken",
                    s("event_source_token"),
                );
                add(
                    "StringEquals",
                    "lambda:FunctionUrlAuthType",
                    s("function_url_auth_type"),
                );
                let mut st = serde_json::json!({
                    "Sid": s("statement_id").unwrap_or_else(|| "permission".into()),
                    "Effect": "Allow",
                    "Principal": p,
                    "Action": s("action").unwrap_or_else(|| "lambda:InvokeFunction".into()),
                    "Resource": function(s("function_name"), s("qualifier")),
                });
                if !cond.is_empty() {
                    st["Condition"] = serde_json::Value::Object(cond);
                }
                st
            }
            Attr::FunctionUrl => {
                if s("authorization_type").as_deref() != Some("NONE") {
                    return Ok(State::Absent);
                }
                serde_json::json!({
                    "Sid": "function URL with authorization_type NONE",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "lambda:InvokeFunctionUrl",
                    "Resource": function(s("function_name"), s("qualifier")),
                    "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
                })
            }
            _ => {
                if !matches!(v.get("constraints"), None | Some(Json::Null))
                    && !matches!(v.get("constraints"), Some(Json::Arr(a)) if a.is_empty())
                {
                    return Ok(State::Unknown(format!("{}: grant `constraints` (encryption context) are not modelled; not compared", self.address)));
                }
                let key = s("key_id").unwrap_or_else(|| "*".into());
                let key = if key.starts_with("arn:") {
                    key
                } else {
                    format!("arn:aws:kms:*:*:key/{key}")
                };
                let ops: Vec<String> = strs(v.get("operations"))
                    .into_iter()
                    .map(|o| format!("kms:{o}"))
                    .collect();
                let grantee = s("grantee_principal").unwrap_or_else(|| "*".into());
                let p = if grantee.starts_with("arn:") {
                    serde_json::json!({"AWS": grantee})
                } else {
                    serde_json::json!({"Service": grantee})
                };
                serde_json::json!({"Sid": "grant", "Effect": "Allow", "Principal": p, "Action": ops, "Resource": key})
            }
        };
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [stmt]});
        Ok(State::Known(vec![Doc {
            json: Json::from_value(&doc),
            file: self.sides.file.to_owned(),
            at: self.sides.change_at.key(which),
            name: format!("{} ({which})", self.address),
        }]))
    }

    fn public_access_block(&self) -> Part {
        const KEYS: [&str; 4] = [
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ];
        let on = |which: &str, k: &str| matches!(self.values(which).get(k), Some(Json::Bool(true)));
        let mut loosened = Vec::new();
        for k in KEYS {
            if let Some(m) = self.sides.unknown_if_set("after", k) {
                return self.decided("(public access block)", Verdict::Unknown, m);
            }
            if on("before", k) && !on("after", k) {
                loosened.push(k);
            }
        }
        if loosened.is_empty() {
            self.decided(
                "(public access block)",
                Verdict::NoWidening,
                "public access block tightened or unchanged: it can only restrict".into(),
            )
        } else {
            self.decided("(public access block)", Verdict::Unknown, format!("public access block loosened (`{}` no longer on): public bucket policies or ACLs may take effect (their effect is not modelled)", loosened.join("`, `")))
        }
    }
}
