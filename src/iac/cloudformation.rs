//! CloudFormation: a pair of templates (JSON or YAML), resources matched by logical ID.
//!
//! Policy documents are objects in templates (a JSON string is accepted too). An intrinsic
//! function (`Ref`, `Fn::Sub`, `Fn::GetAtt`, `Fn::If`, ...) is resolved only when its value is a
//! plain literal (`Fn::Sub` without variables, `Fn::Join` of literals); any other makes that side
//! of the part `unknown`, naming the property path and the function. A resource with a
//! `Condition` exists only for some parameter values: also `unknown`.

use super::{parse_embedded, Doc, Input, Kind, Part, State};
use crate::json::{Json, JsonPath};
use crate::model::PolicyType;
use crate::scenario::{Errors, InputError};
use crate::verdict::Verdict;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One policy document.
    Doc,
    /// `Policies: [{PolicyName, PolicyDocument}]`: one set of identity policies.
    List,
    /// `AWS::Organizations::Policy` `Content`: an SCP or RCP by `Type`.
    Org,
}

fn props(rtype: &str) -> Vec<(&'static str, Shape, PolicyType)> {
    use PolicyType::{Identity, Resource, Scp, Trust};
    match rtype {
        "AWS::IAM::Policy"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::UserPolicy"
        | "AWS::IAM::GroupPolicy" => {
            vec![("PolicyDocument", Shape::Doc, Identity)]
        }
        "AWS::IAM::Role" => vec![
            ("AssumeRolePolicyDocument", Shape::Doc, Trust),
            ("Policies", Shape::List, Identity),
        ],
        "AWS::IAM::User" | "AWS::IAM::Group" => vec![("Policies", Shape::List, Identity)],
        "AWS::S3::BucketPolicy"
        | "AWS::SQS::QueuePolicy"
        | "AWS::SNS::TopicPolicy"
        | "AWS::SNS::TopicInlinePolicy"
        | "AWS::Logs::ResourcePolicy"
        | "AWS::S3::AccessPointPolicy" => vec![("PolicyDocument", Shape::Doc, Resource)],
        "AWS::KMS::Key" | "AWS::KMS::ReplicaKey" => vec![("KeyPolicy", Shape::Doc, Resource)],
        "AWS::SecretsManager::ResourcePolicy" => vec![("ResourcePolicy", Shape::Doc, Resource)],
        "AWS::ECR::Repository" => vec![("RepositoryPolicyText", Shape::Doc, Resource)],
        "AWS::ECR::RegistryPolicy" => vec![("PolicyText", Shape::Doc, Resource)],
        "AWS::ECR::PublicRepository" => vec![("RepositoryPolicyText", Shape::Doc, Resource)],
        "AWS::ApiGateway::RestApi" | "AWS::S3::AccessPoint" | "AWS::Events::EventBus" => {
            vec![("Policy", Shape::Doc, Resource)]
        }
        "AWS::OpenSearchService::Domain" | "AWS::Elasticsearch::Domain" => {
            vec![("AccessPolicies", Shape::Doc, Resource)]
        }
        "AWS::EFS::FileSystem" => vec![("FileSystemPolicy", Shape::Doc, Resource)],
        "AWS::Backup::BackupVault" => vec![("AccessPolicy", Shape::Doc, Resource)],
        "AWS::Logs::Destination" => vec![("DestinationPolicy", Shape::Doc, Resource)],
        "AWS::SSO::PermissionSet" => vec![("InlinePolicy", Shape::Doc, Identity)],
        "AWS::Organizations::Policy" => vec![("Content", Shape::Org, Scp)],
        _ => Vec::new(),
    }
}

/// Read a template: JSON when the file name ends in `.json` or the text starts with `{`, else YAML.
pub fn read_template(path: &Path) -> Result<Json, Errors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![InputError::new(
            &file,
            None,
            format!("cannot read file: {e}"),
        )]
    })?;
    let is_json = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    if is_json {
        crate::json::parse(&text).map_err(|e| {
            vec![InputError::new(
                &file,
                None,
                format!(
                    "invalid JSON at line {}, column {}: {}",
                    e.line, e.column, e.message
                ),
            )]
        })
    } else {
        super::yaml::parse(&text).map_err(|m| vec![InputError::new(&file, None, m)])
    }
}

/// One template: its file name and resources in order.
struct Template<'a> {
    file: String,
    resources: Vec<(&'a str, &'a Json, &'a str)>,
}

fn template<'a>(doc: &'a Json, file: &str) -> Result<Template<'a>, Errors> {
    let err = |p: Option<String>, m: String| vec![InputError::new(file, p, m)];
    let Json::Obj(_) = doc else {
        return Err(err(
            None,
            format!(
                "expected a CloudFormation template (an object), found {}",
                doc.type_name()
            ),
        ));
    };
    let root = JsonPath::root().key("Resources");
    let entries = match doc.get("Resources") {
        Some(Json::Obj(e)) => e,
        Some(other) => {
            return Err(err(
                Some(root.to_string()),
                format!("expected an object, found {}", other.type_name()),
            ))
        }
        None => {
            return Err(err(
                None,
                "not a CloudFormation template: no `Resources`".into(),
            ))
        }
    };
    let mut errs = Vec::new();
    let mut resources = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (id, r) in entries {
        let at = root.key(id);
        if !seen.insert(id.as_str()) {
            errs.push(InputError::new(
                file,
                Some(at.to_string()),
                format!("duplicate logical ID `{id}`"),
            ));
            continue;
        }
        match r.get("Type") {
            Some(Json::Str(t)) => resources.push((id.as_str(), r, t.as_str())),
            Some(other) => errs.push(InputError::new(
                file,
                Some(at.key("Type").to_string()),
                format!("expected a string, found {}", other.type_name()),
            )),
            None if matches!(r, Json::Obj(_)) => errs.push(InputError::new(
                file,
                Some(at.to_string()),
                "missing `Type`",
            )),
            None => errs.push(InputError::new(
                file,
                Some(at.to_string()),
                format!("expected a resource (an object), found {}", r.type_name()),
            )),
        }
    }
    if errs.is_empty() {
        Ok(Template {
            file: file.to_owned(),
            resources,
        })
    } else {
        Err(errs)
    }
}

/// Load both templates and pair their policy-bearing properties.
pub fn load(old: &Path, new: &Path, params: &Params) -> Result<Input, Errors> {
    let (o, n) = (read_template(old), read_template(new));
    let (o, n) = match (o, n) {
        (Ok(o), Ok(n)) => (o, n),
        (o, n) => return Err(o.err().into_iter().chain(n.err()).flatten().collect()),
    };
    from_json(
        &o,
        &old.display().to_string(),
        &n,
        &new.display().to_string(),
        params,
    )
}

/// The parts of a pair of parsed templates.
pub fn from_json(
    old: &Json,
    old_file: &str,
    new: &Json,
    new_file: &str,
    params: &Params,
) -> Result<Input, Errors> {
    let (po, pn) = (params.with_resources(old), params.with_resources(new));
    from_json_with(old, old_file, new, new_file, params, &po, &pn)
}

/// `from_json`, with each template's own values (`Params::with_resources`) for its policies.
fn from_json_with<'a>(
    old: &'a Json,
    old_file: &str,
    new: &'a Json,
    new_file: &str,
    params: &'a Params,
    po: &'a Params,
    pn: &'a Params,
) -> Result<Input, Errors> {
    let (to, tn) = (template(old, old_file), template(new, new_file));
    let (to, tn) = match (to, tn) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => return Err(a.err().into_iter().chain(b.err()).flatten().collect()),
    };
    let mut input = Input::default();
    for (doc, file) in [(old, old_file), (new, new_file)] {
        if doc.get("Transform").is_some() {
            input.notes.push(format!("{file}: the template uses `Transform`; resources the transform generates (SAM, macros) are not analysed"));
        }
    }
    // logical IDs: NEW's order, then those only in OLD
    let mut ids: Vec<&str> = tn.resources.iter().map(|r| r.0).collect();
    ids.extend(
        to.resources
            .iter()
            .map(|r| r.0)
            .filter(|id| !tn.resources.iter().any(|r| r.0 == *id)),
    );
    let mut errs = Vec::new();
    for id in ids {
        let ro = to.resources.iter().find(|r| r.0 == id);
        let rn = tn.resources.iter().find(|r| r.0 == id);
        let action = match (ro, rn) {
            (None, _) => "create",
            (_, None) => "delete",
            (Some(a), Some(b)) if a.1 == b.1 => "no-op",
            (Some(a), Some(b)) if a.2 != b.2 => "replace",
            _ => "update",
        };
        // properties present on either side, keyed by (resource type, property)
        let mut keys: Vec<(&str, &'static str, Shape, PolicyType)> = Vec::new();
        for r in [rn, ro].into_iter().flatten() {
            for (p, s, k) in props(r.2) {
                if !keys.iter().any(|x| x.0 == r.2 && x.1 == p) {
                    keys.push((r.2, p, s, k));
                }
            }
        }
        for (rtype, prop, shape, kind) in keys {
            let side = |r: Option<&(&'a str, &'a Json, &'a str)>,
                        t: &Template<'a>,
                        params: &'a Params|
             -> Option<Side<'a>> {
                r.filter(|r| r.2 == rtype).map(|r| Side {
                    params,
                    id,
                    res: r.1,
                    file: t.file.clone(),
                    prop,
                    shape,
                })
            };
            let (so, sn) = (side(ro, &to, po), side(rn, &tn, pn));
            let raw = |s: &Option<Side>| s.as_ref().and_then(|s| s.value());
            if raw(&so).is_none() && raw(&sn).is_none() {
                continue;
            }
            let unchanged = so.is_some()
                && sn.is_some()
                && raw(&so) == raw(&sn)
                && condition(so.as_ref()) == condition(sn.as_ref());
            let mut sides = Vec::new();
            for s in [&so, &sn] {
                match s.as_ref().map(Side::state).transpose() {
                    Ok(st) => sides.push(st.unwrap_or((None, State::Absent))),
                    Err(e) => {
                        errs.extend(e);
                        sides.push((None, State::Absent));
                    }
                }
            }
            let (kn, after) = sides.pop().unwrap_or((None, State::Absent));
            let (ko, before) = sides.pop().unwrap_or((None, State::Absent));
            let mut push = |kind: PolicyType, before: State, after: State| {
                input.parts.push(Part {
                    address: id.to_owned(),
                    rtype: rtype.to_owned(),
                    attribute: prop.to_owned(),
                    action: action.to_owned(),
                    kind: Kind::Fixed(kind),
                    before,
                    after,
                    unchanged,
                    decided: None,
                    location: None,
                });
            };
            match (ko, kn) {
                // an Organizations policy whose type changed: the old guardrail goes, a new one comes
                (Some(a), Some(b)) if a != b => {
                    push(a, before, State::Absent);
                    push(b, State::Absent, after);
                }
                (a, b) => push(b.or(a).unwrap_or(kind), before, after),
            }
        }
        let x = Extra {
            id,
            action,
            ro: ro.map(|r| (r.1, r.2)),
            rn: rn.map(|r| (r.1, r.2)),
            old,
            new,
            old_file,
            new_file,
            params,
        };
        match x.parts() {
            Ok(ps) => input.parts.extend(ps),
            Err(e) => errs.extend(e),
        }
        let file = if rn.is_some() { new_file } else { old_file };
        for p in input
            .parts
            .iter_mut()
            .filter(|p| p.address == id && p.location.is_none())
        {
            p.location = Some((file.to_owned(), JsonPath::root().key("Resources").key(id)));
        }
    }
    if errs.is_empty() {
        Ok(input)
    } else {
        Err(errs)
    }
}

fn condition<'a>(s: Option<&Side<'a>>) -> Option<&'a Json> {
    s.and_then(|s| s.res.get("Condition"))
}

/// One resource's property on one side.
struct Side<'a> {
    params: &'a Params,
    id: &'a str,
    res: &'a Json,
    file: String,
    prop: &'static str,
    shape: Shape,
}

impl<'a> Side<'a> {
    fn at(&self) -> JsonPath {
        JsonPath::root()
            .key("Resources")
            .key(self.id)
            .key("Properties")
            .key(self.prop)
    }

    /// The raw property value (with the Org policy's `Type` when it matters).
    fn value(&self) -> Option<Json> {
        let props = self.res.get("Properties")?;
        let v = props.get(self.prop)?.clone();
        Some(match self.shape {
            Shape::Org => Json::Arr(vec![v, props.get("Type").cloned().unwrap_or(Json::Null)]),
            _ => v,
        })
    }

    fn unknown(&self, path: &str, func: &str) -> State {
        State::Unknown(format!(
            "{} in {}: {path} uses `{func}`, which cannot be resolved from the template alone (its value is known only when the stack is deployed); not compared",
            self.id, self.file
        ))
    }

    /// The state of the property; for Organizations policies also the policy type (None when the
    /// policy is neither an SCP nor an RCP, then the state is absent).
    fn state(&self) -> Result<(Option<PolicyType>, State), Errors> {
        if let Some(c) = self.res.get("Condition") {
            let c = c
                .as_str()
                .map(|s| format!("`{s}`"))
                .unwrap_or_else(|| "a condition".into());
            return Ok((
                None,
                State::Unknown(format!("{} in {}: the resource exists only when {c} holds (it depends on parameters); not compared", self.id, self.file)),
            ));
        }
        let Some(props) = self.res.get("Properties") else {
            return Ok((None, State::Absent));
        };
        let Some(raw) = props.get(self.prop) else {
            return Ok((None, State::Absent));
        };
        let mut kind = None;
        if self.shape == Shape::Org {
            let tat = JsonPath::root()
                .key("Resources")
                .key(self.id)
                .key("Properties")
                .key("Type");
            match props.get("Type").map(|t| resolve(t, &tat, self.params)) {
                Some(Ok(Json::Str(t))) if t == "SERVICE_CONTROL_POLICY" => {
                    kind = Some(PolicyType::Scp)
                }
                Some(Ok(Json::Str(t))) if t == "RESOURCE_CONTROL_POLICY" => {
                    kind = Some(PolicyType::Rcp)
                }
                Some(Ok(Json::Str(t))) if t.contains(super::bounds::MARK) => {
                    return Ok((None, self.unknown(&tat.to_string(), "a parameter")))
                }
                Some(Err((p, f))) => return Ok((None, self.unknown(&p, &f))),
                // tag, backup, AI opt-out policies: not IAM
                _ => return Ok((None, State::Absent)),
            }
        }
        let at = self.at();
        let resolved = match resolve(raw, &at, self.params) {
            Ok(v) => v,
            Err((p, f)) => return Ok((kind, self.unknown(&p, &f))),
        };
        if let Json::Str(t) = &resolved {
            if t.contains(super::bounds::MARK) {
                let mut names = std::collections::BTreeSet::new();
                super::bounds::marks(&resolved, &mut names);
                let names: Vec<String> = names.into_iter().collect();
                return Ok((kind, self.unknown(&at.to_string(), &names.join("`, `"))));
            }
        }
        let file = self.file.as_str();
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
                other => Err(bad(&at, "a policy document", other)),
            }
        };
        let docs = match self.shape {
            Shape::Doc | Shape::Org => doc(
                &resolved,
                at.clone(),
                format!("{}.{} ({file})", self.id, self.prop),
            )?
            .into_iter()
            .collect(),
            Shape::List => {
                let Json::Arr(items) = &resolved else {
                    return Err(bad(&at, "a list of policies", &resolved));
                };
                let mut docs = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if !matches!(item, Json::Obj(_)) {
                        return Err(bad(
                            &at.index(i),
                            "a policy (an object with PolicyName and PolicyDocument)",
                            item,
                        ));
                    }
                    let label = match item.get("PolicyName") {
                        Some(Json::Str(n)) => n.clone(),
                        _ => i.to_string(),
                    };
                    let Some(d) = item.get("PolicyDocument") else {
                        return Err(vec![InputError::new(
                            file,
                            Some(at.index(i).to_string()),
                            "missing `PolicyDocument`",
                        )]);
                    };
                    let name = format!("{}.{}[{label}] ({file})", self.id, self.prop);
                    docs.extend(doc(d, at.index(i).key("PolicyDocument"), name)?);
                }
                docs
            }
        };
        Ok((
            kind,
            if docs.is_empty() {
                State::Absent
            } else {
                State::Known(docs)
            },
        ))
    }
}

/// Properties read beyond single policy documents.
#[derive(Debug, Clone, Copy)]
enum More {
    /// A list of managed policy ARNs: one identity part per ARN added or removed.
    ArnList(&'static str),
    /// A permissions boundary ARN (`AWS::SSO::PermissionSet`: `{ManagedPolicyArn}`).
    Boundary(&'static str),
    /// `Roles`, `Users`, `Groups` of `AWS::IAM::Policy` / `ManagedPolicy`: new holders get it.
    Holders,
    /// `TargetIds` of `AWS::Organizations::Policy`: a target removed loses the guardrail.
    OrgTargets,
    LambdaPermission,
    LambdaUrl,
    PublicAccessBlock,
    Provider(bool),
    /// Properties that grant access in a way not modelled: `unknown` when they change.
    Guard(&'static [&'static str], &'static str),
}

fn more(rtype: &str) -> &'static [More] {
    use More::*;
    match rtype {
        "AWS::IAM::Role" => &[
            ArnList("ManagedPolicyArns"),
            Boundary("PermissionsBoundary"),
        ],
        "AWS::IAM::User" => &[
            ArnList("ManagedPolicyArns"),
            Boundary("PermissionsBoundary"),
            Guard(
                &["Groups"],
                "group membership grants the groups' policies (not analysed)",
            ),
        ],
        "AWS::IAM::Group" => &[ArnList("ManagedPolicyArns")],
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => &[Holders],
        "AWS::IAM::OIDCProvider" => &[Provider(true)],
        "AWS::IAM::SAMLProvider" => &[Provider(false)],
        "AWS::IAM::InstanceProfile" => &[Guard(
            &["Roles"],
            "the role is handed to EC2 instances (not analysed)",
        )],
        "AWS::IAM::UserToGroupAddition" => &[Guard(
            &["Users", "GroupName"],
            "group membership grants the group's policies (not analysed)",
        )],
        "AWS::SSO::PermissionSet" => &[
            ArnList("ManagedPolicies"),
            Boundary("PermissionsBoundary"),
            Guard(
                &["CustomerManagedPolicyReferences"],
                "customer managed policies live in each provisioned account (not in the template)",
            ),
        ],
        "AWS::SSO::Assignment" => &[Guard(
            &[
                "PrincipalId",
                "PrincipalType",
                "PermissionSetArn",
                "TargetId",
            ],
            "an assignment grants a permission set in an account (not analysed)",
        )],
        "AWS::Lambda::Permission" => &[LambdaPermission],
        "AWS::Lambda::Url" => &[LambdaUrl],
        "AWS::Lambda::LayerVersionPermission" => &[Guard(
            &["Action", "Principal", "OrganizationId", "LayerVersionArn"],
            "layer permissions are not modelled",
        )],
        "AWS::Events::EventBusPolicy" => &[Guard(
            &[
                "Statement",
                "Action",
                "Principal",
                "Condition",
                "EventBusName",
            ],
            "EventBridge bus permissions are compared only as `AWS::Events::EventBus` `Policy`",
        )],
        "AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable" => &[Guard(
            &["ResourcePolicy", "Replicas"],
            "DynamoDB resource policies are not compared in CloudFormation",
        )],
        "AWS::S3::Bucket" => &[
            PublicAccessBlock,
            Guard(
                &["AccessControl", "OwnershipControls"],
                "S3 ACLs are not modelled",
            ),
        ],
        "AWS::Organizations::Policy" => &[OrgTargets],
        _ => &[],
    }
}

impl More {
    fn describe(self) -> (String, String) {
        use More::*;
        match self {
            ArnList(p) => (format!("`{p}`"), "each ARN added or removed: the managed policy's document (identity; `!Ref` to a managed policy of the template uses its document)".into()),
            Boundary(p) => (format!("`{p}`"), "the managed policy's document as permissions boundary (absent: no boundary)".into()),
            Holders => ("`Roles`, `Users`, `Groups`".into(), "each new holder: the policy document (identity)".into()),
            OrgTargets => ("`TargetIds`".into(), "each target removed: the content compared with no guardrail".into()),
            LambdaPermission => ("`Action`, `Principal`, `FunctionName`, `SourceArn`, `SourceAccount`, `PrincipalOrgID`, `EventSourceToken`, `FunctionUrlAuthType`".into(), "one resource-policy statement of the function".into()),
            LambdaUrl => ("`AuthType`, `TargetFunctionArn`, `Qualifier`".into(), "`NONE`: a statement letting anyone call `lambda:InvokeFunctionUrl`".into()),
            PublicAccessBlock => ("`PublicAccessBlockConfiguration`".into(), "only tightening (or no change) is `no_widening`; a setting turned off is `unknown`".into()),
            Provider(true) => ("`Url`, `ClientIdList`, `ThumbprintList`".into(), "deleting or removing audiences: `no_widening`; creating or adding: `unknown`".into()),
            Provider(false) => ("`SamlMetadataDocument`".into(), "deleting: `no_widening`; creating or new metadata: `unknown`".into()),
            Guard(p, why) => (p.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", "), format!("`unknown` when changed: {why}")),
        }
    }
}

/// Every CloudFormation type read (the coverage table).
pub fn coverage() -> Vec<super::coverage::Covered> {
    const TYPES: &[&str] = &[
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
        "AWS::IAM::Role",
        "AWS::IAM::User",
        "AWS::IAM::Group",
        "AWS::IAM::OIDCProvider",
        "AWS::IAM::SAMLProvider",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::UserToGroupAddition",
        "AWS::SSO::PermissionSet",
        "AWS::SSO::Assignment",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::S3::AccessPoint",
        "AWS::S3::AccessPointPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SNS::TopicInlinePolicy",
        "AWS::KMS::Key",
        "AWS::KMS::ReplicaKey",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::ECR::Repository",
        "AWS::ECR::RegistryPolicy",
        "AWS::ECR::PublicRepository",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Url",
        "AWS::Lambda::LayerVersionPermission",
        "AWS::ApiGateway::RestApi",
        "AWS::OpenSearchService::Domain",
        "AWS::Elasticsearch::Domain",
        "AWS::EFS::FileSystem",
        "AWS::Backup::BackupVault",
        "AWS::Logs::ResourcePolicy",
        "AWS::Logs::Destination",
        "AWS::Events::EventBus",
        "AWS::Events::EventBusPolicy",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::Organizations::Policy",
    ];
    TYPES
        .iter()
        .map(|t| {
            let mut reads = Vec::new();
            let mut how = Vec::new();
            for (p, shape, kind) in props(t) {
                reads.push(format!("`{p}`"));
                how.push(match shape {
                    Shape::Doc => format!("`{p}`: {} policy", kind.name()),
                    Shape::List => format!("`{p}`: inline identity policies (one set)"),
                    Shape::Org => format!("`{p}`: SCP or RCP by `Type` (absent: no guardrail)"),
                });
            }
            for m in more(t) {
                let (r, h) = m.describe();
                how.push(format!("{r}: {h}"));
                reads.push(r);
            }
            super::coverage::Covered {
                rtype: t,
                reads: reads.join(", "),
                how: how.join("; "),
            }
        })
        .collect()
}

/// One logical ID on both sides, for the readers of [`More`] and the not-analysed check.
struct Extra<'a> {
    id: &'a str,
    action: &'a str,
    ro: Option<(&'a Json, &'a str)>,
    rn: Option<(&'a Json, &'a str)>,
    old: &'a Json,
    new: &'a Json,
    old_file: &'a str,
    new_file: &'a str,
    params: &'a Params,
}

impl Extra<'_> {
    fn rtype(&self) -> &str {
        self.rn.or(self.ro).map(|r| r.1).unwrap_or("")
    }

    fn prop(&self, new: bool, p: &str) -> Option<Json> {
        let (r, _) = if new { self.rn? } else { self.ro? };
        let v = r.get("Properties")?.get(p)?;
        let at = JsonPath::root()
            .key("Resources")
            .key(self.id)
            .key("Properties")
            .key(p);
        resolve(v, &at, self.params)
            .ok()
            .filter(|v| !matches!(v, Json::Null))
    }

    fn raw(&self, new: bool, p: &str) -> Option<&Json> {
        let (r, _) = if new { self.rn? } else { self.ro? };
        r.get("Properties")?.get(p)
    }

    fn file(&self, new: bool) -> &str {
        if new {
            self.new_file
        } else {
            self.old_file
        }
    }

    fn at(&self, p: &str) -> JsonPath {
        JsonPath::root()
            .key("Resources")
            .key(self.id)
            .key("Properties")
            .key(p)
    }

    fn part(&self, attribute: &str, kind: Kind, before: State, after: State) -> Part {
        Part::new(
            self.id,
            self.rtype(),
            attribute,
            self.action,
            kind,
            before,
            after,
        )
    }

    fn decided(&self, attribute: &str, v: Verdict, m: String) -> Part {
        Part::decided(self.id, self.rtype(), attribute, self.action, v, m)
    }

    fn exists(&self, new: bool) -> bool {
        if new {
            self.rn.is_some()
        } else {
            self.ro.is_some()
        }
    }

    fn doc_state(
        &self,
        new: bool,
        json: Json,
        at: JsonPath,
        name: String,
    ) -> Result<State, Errors> {
        let json = match json {
            Json::Str(s) if s.contains(super::bounds::MARK) => {
                return Ok(State::Unknown(format!(
                    "{} in {}: {at} is not known from the template; not compared",
                    self.id,
                    self.file(new)
                )))
            }
            Json::Str(s) => parse_embedded(&s, self.file(new), &at).map_err(|e| vec![e])?,
            other => other,
        };
        Ok(State::Known(vec![Doc {
            json,
            file: self.file(new).to_owned(),
            at,
            name,
        }]))
    }

    /// The document of one ARN entry of a list (raw entry, for `!Ref` to a template policy).
    fn arn_state(
        &self,
        new: bool,
        raw: &Json,
        resolved: &Json,
        at: JsonPath,
    ) -> Result<State, Errors> {
        let tpl = if new { self.new } else { self.old };
        if let Some(Json::Str(target)) = raw.get("Ref") {
            if let Some(r) = tpl.get("Resources").and_then(|rs| rs.get(target)) {
                if r.get("Type").and_then(Json::as_str) == Some("AWS::IAM::ManagedPolicy") {
                    let pat = JsonPath::root()
                        .key("Resources")
                        .key(target)
                        .key("Properties")
                        .key("PolicyDocument");
                    let Some(d) = r.get("Properties").and_then(|p| p.get("PolicyDocument")) else {
                        return Ok(State::Absent);
                    };
                    let d = resolve(d, &pat, self.params).map_err(|(p, f)| {
                        vec![InputError::new(
                            self.file(new),
                            Some(p),
                            format!("cannot read `{f}`"),
                        )]
                    })?;
                    return self.doc_state(new, d, pat, format!("{target} ({})", self.file(new)));
                }
            }
        }
        let Some(arn) = resolved.as_str() else {
            return Ok(State::Unknown(format!(
                "{} in {}: {at}: not an ARN; not compared",
                self.id,
                self.file(new)
            )));
        };
        // a managed policy ARN whose partition is a parameter: every partition has the same policies
        let key = arn
            .find(":iam::aws:policy/")
            .map(|i| format!("arn:aws{}", &arn[i..]));
        if let Some(key) = key {
            return Ok(match super::managed::document(&key) {
                Ok((json, version)) => State::Known(vec![Doc {
                    json,
                    file: self.file(new).to_owned(),
                    at,
                    name: format!(
                        "{} (AWS managed, {version})",
                        arn.replace(super::bounds::MARK, "")
                    ),
                }]),
                Err(m) => State::Unknown(format!(
                    "{} in {}: {m}; not compared",
                    self.id,
                    self.file(new)
                )),
            });
        }
        Ok(State::Unknown(format!("{} in {}: the managed policy {} is not defined in the template (its document is unknown); not compared", self.id, self.file(new), arn.replace(super::bounds::MARK, "`"))))
    }

    fn list(&self, new: bool, p: &str) -> Vec<(Json, Json)> {
        let raw: Vec<Json> = match self.raw(new, p) {
            Some(Json::Arr(a)) => a.clone(),
            Some(other) => vec![other.clone()],
            None => Vec::new(),
        };
        match self.prop(new, p) {
            Some(Json::Arr(r)) if r.len() == raw.len() => raw.into_iter().zip(r).collect(),
            Some(Json::Arr(r)) => r.iter().map(|x| (x.clone(), x.clone())).collect(),
            Some(x) => vec![(raw.first().cloned().unwrap_or(Json::Null), x)],
            None => Vec::new(),
        }
    }

    fn changed(&self, p: &str) -> bool {
        self.raw(false, p) != self.raw(true, p)
    }

    fn parts(&self) -> Result<Vec<Part>, Errors> {
        let rtype = self.rtype().to_owned();
        let mut parts = Vec::new();
        if self.action == "no-op" {
            return Ok(parts);
        }
        let read = !props(&rtype).is_empty() || !more(&rtype).is_empty();
        let old_type = self.ro.map(|r| r.1);
        if !read {
            if super::coverage::CLOUDFORMATION_IRRELEVANT.contains(&rtype.as_str())
                && old_type.is_none_or(|t| {
                    t == rtype || super::coverage::CLOUDFORMATION_IRRELEVANT.contains(&t)
                })
            {
                return Ok(parts);
            }
            if let Some((_, guarded)) = super::coverage::CLOUDFORMATION_GUARDED
                .iter()
                .find(|(t, _)| *t == rtype)
            {
                let changed: Vec<&str> = guarded
                    .iter()
                    .copied()
                    .filter(|p| self.changed(p) && (self.rn.is_some()))
                    .collect();
                if changed.is_empty() {
                    return Ok(parts);
                }
                parts.push(self.decided(&changed.join(", "), Verdict::Unknown, format!("not analysed: {rtype} {} (`{}` changed: it grants access in a way iamprove does not model)", self.id, changed.join("`, `"))));
                return Ok(parts);
            }
            parts.push(self.decided("(resource)", Verdict::Unknown, format!("not analysed: {rtype} {} (this type may carry a policy or grant access and is not read; see docs/iac-coverage.md)", self.id)));
            return Ok(parts);
        }
        for m in more(&rtype) {
            match *m {
                More::ArnList(p) => {
                    let (b, n) = (self.list(false, p), self.list(true, p));
                    let same =
                        |x: &(Json, Json), ys: &[(Json, Json)]| ys.iter().any(|y| y.0 == x.0);
                    for x in n.iter().filter(|x| !same(x, &b)) {
                        let st = self.arn_state(true, &x.0, &x.1, self.at(p))?;
                        parts.push(self.part(
                            &format!("{p} {}", label(&x.1)),
                            Kind::Fixed(PolicyType::Identity),
                            State::Absent,
                            st,
                        ));
                    }
                    for x in b.iter().filter(|x| !same(x, &n)) {
                        let st = self.arn_state(false, &x.0, &x.1, self.at(p))?;
                        parts.push(self.part(
                            &format!("{p} {}", label(&x.1)),
                            Kind::Fixed(PolicyType::Identity),
                            st,
                            State::Absent,
                        ));
                    }
                }
                More::Boundary(p) => {
                    if !self.changed(p) {
                        continue;
                    }
                    let mut st = Vec::new();
                    for new in [false, true] {
                        let raw = self.raw(new, p).cloned();
                        let res = self.prop(new, p);
                        st.push(match (raw, res) {
                            (_, None) => State::Absent,
                            (Some(r), Some(v)) => {
                                let (r, v) = match (r.get("ManagedPolicyArn"), v.get("ManagedPolicyArn")) {
                                    (Some(a), Some(b)) => (a.clone(), b.clone()),
                                    _ if v.get("CustomerManagedPolicyReference").is_some() => {
                                        parts.push(self.decided(p, Verdict::Unknown, format!("{}: a customer managed policy as permissions boundary lives in each provisioned account, not in the template; not compared", self.id)));
                                        break;
                                    }
                                    _ => (r, v),
                                };
                                self.arn_state(new, &r, &v, self.at(p))?
                            }
                            (None, Some(_)) => State::Absent,
                        });
                    }
                    if st.len() == 2 {
                        let a = st.pop().unwrap_or(State::Absent);
                        let b = st.pop().unwrap_or(State::Absent);
                        parts.push(self.part(p, Kind::Boundary, b, a));
                    }
                }
                More::Holders => {
                    let holders = |new: bool| -> Vec<String> {
                        ["Roles", "Users", "Groups"]
                            .iter()
                            .flat_map(|k| {
                                self.list(new, k).into_iter().map(move |(r, _)| {
                                    format!("{} {}", k.trim_end_matches('s'), label(&r))
                                })
                            })
                            .collect()
                    };
                    let (b, n) = (holders(false), holders(true));
                    let added: Vec<&String> = n.iter().filter(|h| !b.contains(h)).collect();
                    if added.is_empty() || !self.exists(true) {
                        continue;
                    }
                    let doc = self.prop(true, "PolicyDocument");
                    for h in added {
                        let st = match &doc {
                            Some(d) => {
                                let d = if super::bounds::has_mark(d) && !matches!(d, Json::Obj(_))
                                {
                                    Json::Str(d.as_str().unwrap_or("").to_owned())
                                } else {
                                    d.clone()
                                };
                                self.doc_state(
                                    true,
                                    d,
                                    self.at("PolicyDocument"),
                                    format!("{}.PolicyDocument ({})", self.id, self.new_file),
                                )?
                            }
                            None => State::Absent,
                        };
                        parts.push(self.part(
                            &format!("PolicyDocument → {h}"),
                            Kind::Fixed(PolicyType::Identity),
                            State::Absent,
                            st,
                        ));
                    }
                }
                More::OrgTargets => {
                    let (b, n) = (self.list(false, "TargetIds"), self.list(true, "TargetIds"));
                    let removed: Vec<&(Json, Json)> =
                        b.iter().filter(|x| !n.iter().any(|y| y.0 == x.0)).collect();
                    if removed.is_empty() || !self.exists(true) {
                        continue;
                    }
                    let kind = match self.prop(false, "Type").as_ref().and_then(Json::as_str) {
                        Some("SERVICE_CONTROL_POLICY") => PolicyType::Scp,
                        Some("RESOURCE_CONTROL_POLICY") => PolicyType::Rcp,
                        _ => continue,
                    };
                    let st = match self.prop(false, "Content") {
                        Some(c) => self.doc_state(
                            false,
                            c,
                            self.at("Content"),
                            format!("{}.Content ({})", self.id, self.old_file),
                        )?,
                        None => State::Absent,
                    };
                    for (r, _) in removed {
                        parts.push(self.part(
                            &format!("TargetIds − {}", label(r)),
                            Kind::Fixed(kind),
                            st.clone(),
                            State::Absent,
                        ));
                    }
                }
                More::LambdaPermission | More::LambdaUrl => {
                    let b = self.synth(false, *m)?;
                    let a = self.synth(true, *m)?;
                    parts.push(self.part(
                        if matches!(m, More::LambdaUrl) {
                            "AuthType"
                        } else {
                            "statement"
                        },
                        Kind::Fixed(PolicyType::Resource),
                        b,
                        a,
                    ));
                }
                More::PublicAccessBlock => {
                    let p = "PublicAccessBlockConfiguration";
                    if !self.changed(p) {
                        continue;
                    }
                    let on = |new: bool, k: &str| {
                        self.prop(new, p)
                            .and_then(|c| c.get(k).cloned())
                            .is_some_and(|v| {
                                matches!(v, Json::Bool(true)) || v.as_str() == Some("true")
                            })
                    };
                    let keys = [
                        "BlockPublicAcls",
                        "BlockPublicPolicy",
                        "IgnorePublicAcls",
                        "RestrictPublicBuckets",
                    ];
                    let loosened: Vec<&str> = keys
                        .iter()
                        .copied()
                        .filter(|k| on(false, k) && !on(true, k))
                        .collect();
                    let marked = self
                        .prop(true, p)
                        .is_some_and(|v| super::bounds::has_mark(&v));
                    if marked {
                        parts.push(self.decided(
                            p,
                            Verdict::Unknown,
                            format!(
                                "{}: {p} depends on values not known from the template",
                                self.id
                            ),
                        ));
                    } else if loosened.is_empty() {
                        parts.push(
                            self.decided(
                                p,
                                Verdict::NoWidening,
                                "public access block tightened or unchanged: it can only restrict"
                                    .into(),
                            ),
                        );
                    } else {
                        parts.push(self.decided(p, Verdict::Unknown, format!("public access block loosened (`{}` no longer on): public bucket policies or ACLs may take effect (their effect is not modelled)", loosened.join("`, `"))));
                    }
                }
                More::Provider(oidc) => {
                    if !self.exists(true) {
                        parts.push(self.decided("(provider)", Verdict::NoWidening, "identity provider deleted: roles that trust it can no longer be assumed through it".into()));
                        continue;
                    }
                    let keys: &[&str] = if oidc {
                        &["Url", "ClientIdList", "ThumbprintList"]
                    } else {
                        &["SamlMetadataDocument"]
                    };
                    let grown = !self.exists(false)
                        || keys.iter().any(|k| {
                            let b: Vec<Json> =
                                self.list(false, k).into_iter().map(|x| x.0).collect();
                            self.list(true, k).into_iter().any(|x| !b.contains(&x.0))
                        });
                    if grown {
                        parts.push(self.decided("(provider)", Verdict::Unknown, format!("{}: identity provider created or extended: roles whose trust policy names it may be assumed through it (roles outside this template are not known)", self.id)));
                    } else if keys.iter().any(|k| self.changed(k)) {
                        parts.push(self.decided(
                            "(provider)",
                            Verdict::NoWidening,
                            "only audiences or thumbprints removed: it can only restrict".into(),
                        ));
                    }
                }
                More::Guard(ps, why) => {
                    let changed: Vec<&str> =
                        ps.iter().copied().filter(|p| self.changed(p)).collect();
                    if !changed.is_empty() && self.exists(true) {
                        parts.push(self.decided(
                            &changed.join(", "),
                            Verdict::Unknown,
                            format!(
                                "not analysed: {rtype} {} (`{}` changed: {why})",
                                self.id,
                                changed.join("`, `")
                            ),
                        ));
                    }
                }
            }
        }
        Ok(parts)
    }

    fn synth(&self, new: bool, m: More) -> Result<State, Errors> {
        if !self.exists(new) {
            return Ok(State::Absent);
        }
        let s = |k: &str| -> Option<String> {
            self.prop(new, k)
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        let function = |f: Option<String>, q: Option<String>| -> String {
            let f = f.unwrap_or_else(|| "*".into());
            let base =
                if f.starts_with("arn:") || f.contains(super::bounds::MARK) && f.contains(':') {
                    f
                } else {
                    format!("arn:aws:lambda:*:*:function:{f}")
                };
            match q {
                Some(q) => format!("{base}:{q}"),
                None => base,
            }
        };
        let stmt = if let More::LambdaUrl = m {
            if s("AuthType").as_deref() != Some("NONE") {
                return Ok(State::Absent);
            }
            serde_json::json!({"Sid": "function URL with AuthType NONE", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
                "Resource": function(s("TargetFunctionArn"), s("Qualifier")),
                "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}})
        } else {
            let principal = s("Principal").unwrap_or_else(|| "*".into());
            let p = if principal == "*" {
                serde_json::json!("*")
            } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
                serde_json::json!({"AWS": format!("arn:aws:iam::{principal}:root")})
            } else if principal.starts_with("arn:") || principal.contains(super::bounds::MARK) {
                serde_json::json!({"AWS": principal})
            } else {
                serde_json::json!({"Service": principal})
            };
            let mut cond = serde_json::Map::new();
            for (op, key, prop) in [
                ("ArnLike", "aws:SourceArn", "SourceArn"),
                ("StringEquals", "aws:SourceAccount", "SourceAccount"),
                ("StringEquals", "aws:PrincipalOrgID", "PrincipalOrgID"),
                (
                    "StringEquals",
                    "lambda:EventSourceToken",
                    "EventSourceToken",
                ),
                (
                    "StringEquals",
                    "lambda:FunctionUrlAuthType",
                    "FunctionUrlAuthType",
                ),
            ] {
                if let Some(v) = s(prop) {
                    let e = cond
                        .entry(op.to_owned())
                        .or_insert_with(|| serde_json::json!({}));
                    e[key] = serde_json::Value::String(v);
                }
            }
            let mut st = serde_json::json!({"Sid": "permission", "Effect": "Allow", "Principal": p,
                "Action": s("Action").unwrap_or_else(|| "lambda:InvokeFunction".into()),
                "Resource": function(s("FunctionName"), None)});
            if !cond.is_empty() {
                st["Condition"] = serde_json::Value::Object(cond);
            }
            st
        };
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [stmt]});
        Ok(State::Known(vec![Doc {
            json: Json::from_value(&doc),
            file: self.file(new).to_owned(),
            at: JsonPath::root()
                .key("Resources")
                .key(self.id)
                .key("Properties"),
            name: format!("{} ({})", self.id, self.file(new)),
        }]))
    }
}

/// A short readable label for a (raw or resolved) list entry.
fn label(j: &Json) -> String {
    match j {
        Json::Str(s) => s.replace(super::bounds::MARK, "`"),
        Json::Obj(o) if o.len() == 1 => {
            let (k, v) = &o[0];
            let v = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_value().to_string());
            if k == "Ref" {
                format!("!Ref {v}")
            } else {
                format!("{k} {v}")
            }
        }
        other => other.to_value().to_string(),
    }
}

/// Values supplied on the command line: `--parameter K=V`, `--account-id`, `--region`,
/// `--partition` (pseudo-parameters `AWS::AccountId`, `AWS::Region`, `AWS::Partition`,
/// `AWS::URLSuffix`).
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub values: std::collections::HashMap<String, String>,
}

impl Params {
    pub fn new(
        parameters: &[(String, String)],
        account: Option<&str>,
        region: Option<&str>,
        partition: Option<&str>,
    ) -> Params {
        let mut values: std::collections::HashMap<String, String> =
            parameters.iter().cloned().collect();
        if let Some(a) = account {
            values.insert("AWS::AccountId".into(), a.into());
        }
        if let Some(r) = region {
            values.insert("AWS::Region".into(), r.into());
        }
        if let Some(p) = partition {
            values.insert("AWS::Partition".into(), p.into());
            let suffix = if p == "aws-cn" {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            values.insert("AWS::URLSuffix".into(), suffix.into());
        }
        Params { values }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// These values and those a template fixes for its own resources: the ARN (`Ref` or
    /// `Fn::GetAtt X.Arn`, as AWS documents each type's return values) of a resource whose
    /// name property the template sets (`RoleName`, `TopicName`, `QueueName`, `BucketName`,
    /// `FunctionName`, `UserName`), with the account, region and partition from these
    /// values or else unresolved (markers; an ARN whose partition or region is unresolved is
    /// left out). A resource without its name property gets a generated name: its values
    /// stay unresolved.
    pub fn with_resources(&self, template: &Json) -> Params {
        let mut out = self.clone();
        let Some(Json::Obj(rs)) = template.get("Resources") else {
            return out;
        };
        for (id, r) in rs {
            let Some(t) = r.get("Type").and_then(Json::as_str) else {
                continue;
            };
            let props = r.get("Properties");
            let name_of = |k: &str| -> Option<String> {
                let v = props?.get(k)?;
                match resolve(v, &JsonPath::root(), self) {
                    Ok(Json::Str(s)) if !s.is_empty() => Some(s),
                    _ => None,
                }
            };
            let arn = |rest: &str| sub(&format!("arn:${{AWS::Partition}}:{rest}"), &[], self);
            // an unresolved partition or region would put a marker where a policy variable
            // may not stand (only the account and the resource part may hold one): such a
            // value stays one unresolved expression, compared exactly as a whole
            let mut put = |k: String, v: String| {
                let head_known = v
                    .split(':')
                    .take(4)
                    .all(|seg| !seg.contains(super::bounds::MARK));
                if head_known {
                    out.values.insert(k, v);
                }
            };
            match t {
                "AWS::IAM::Role" | "AWS::IAM::User" => {
                    let (key, kind) = if t == "AWS::IAM::Role" {
                        ("RoleName", "role")
                    } else {
                        ("UserName", "user")
                    };
                    if let Some(n) = name_of(key) {
                        let path = name_of("Path").unwrap_or_else(|| "/".into());
                        put(
                            format!("{id}.Arn"),
                            format!(
                                "{}{path}{n}",
                                arn(&format!("iam::${{AWS::AccountId}}:{kind}"))
                            ),
                        );
                    }
                }
                "AWS::SNS::Topic" => {
                    if let Some(n) = name_of("TopicName") {
                        let a = format!("{}{n}", arn("sns:${AWS::Region}:${AWS::AccountId}:"));
                        put(id.clone(), a.clone());
                        put(format!("{id}.TopicArn"), a);
                        put(format!("{id}.TopicName"), n);
                    }
                }
                "AWS::SQS::Queue" => {
                    if let Some(n) = name_of("QueueName") {
                        put(
                            format!("{id}.Arn"),
                            format!("{}{n}", arn("sqs:${AWS::Region}:${AWS::AccountId}:")),
                        );
                        put(format!("{id}.QueueName"), n);
                    }
                }
                "AWS::S3::Bucket" => {
                    if let Some(n) = name_of("BucketName") {
                        put(format!("{id}.Arn"), format!("{}{n}", arn("s3:::")));
                        put(id.clone(), n);
                    }
                }
                "AWS::Lambda::Function" => {
                    if let Some(n) = name_of("FunctionName") {
                        put(
                            format!("{id}.Arn"),
                            format!(
                                "{}{n}",
                                arn("lambda:${AWS::Region}:${AWS::AccountId}:function:")
                            ),
                        );
                        put(id.clone(), n);
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// Resolve intrinsic functions: parameters and pseudo-parameters from `params`, `Fn::Sub`,
/// `Fn::Join`, `Fn::Select` of known values; any value not known from the input becomes a
/// marker (`bounds::marker`) naming the expression, compared symbolically. `Ref AWS::NoValue`
/// removes the property (`Json::Null` here, dropped by the caller's containers). `Err` only for
/// malformed functions: (JSON path, function).
fn resolve(j: &Json, at: &JsonPath, params: &Params) -> Result<Json, (String, String)> {
    use super::bounds::marker;
    match j {
        Json::Obj(entries)
            if entries.len() == 1
                && (entries[0].0 == "Ref" || entries[0].0.starts_with("Fn::")) =>
        {
            let (f, v) = &entries[0];
            let here = at.key(f);
            let short = |x: &Json| -> String {
                let t = x.to_value().to_string();
                if t.len() > 60 {
                    format!(
                        "{}…",
                        &t[..t.char_indices().nth(57).map(|c| c.0).unwrap_or(t.len())]
                    )
                } else {
                    t
                }
            };
            match (f.as_str(), v) {
                ("Ref", Json::Str(name)) if name == "AWS::NoValue" => Ok(Json::Null),
                ("Ref", Json::Str(name)) => Ok(Json::Str(match params.get(name) {
                    Some(v) => v.to_owned(),
                    None => marker(name),
                })),
                ("Fn::Sub", Json::Str(s)) => Ok(Json::Str(sub(s, &[], params))),
                ("Fn::Sub", Json::Arr(a)) if a.len() == 2 => {
                    let Some(s) = a[0].as_str() else {
                        return Err((here.to_string(), f.clone()));
                    };
                    let mut vars = Vec::new();
                    if let Json::Obj(m) = &a[1] {
                        for (k, x) in m {
                            match resolve(x, &here.index(1).key(k), params)? {
                                Json::Str(v) => vars.push((k.clone(), v)),
                                other => vars.push((k.clone(), marker(&short(&other)))),
                            }
                        }
                    }
                    Ok(Json::Str(sub(s, &vars, params)))
                }
                ("Fn::Join", Json::Arr(a)) if a.len() == 2 => {
                    let Json::Str(delim) = &a[0] else {
                        return Err((here.to_string(), f.clone()));
                    };
                    match resolve(&a[1], &here.index(1), params)? {
                        Json::Arr(items) => {
                            let mut parts = Vec::new();
                            for x in items {
                                match x {
                                    Json::Str(s) => parts.push(s),
                                    Json::Null => {}
                                    other => parts.push(marker(&short(&other))),
                                }
                            }
                            Ok(Json::Str(parts.join(delim)))
                        }
                        _ => Ok(Json::Str(marker(&format!("Fn::Join {}", short(v))))),
                    }
                }
                ("Fn::Select", Json::Arr(a)) if a.len() == 2 => {
                    let idx = resolve(&a[0], &here.index(0), params)?;
                    let list = resolve(&a[1], &here.index(1), params)?;
                    let i = match &idx {
                        Json::Str(s) => s.parse::<usize>().ok(),
                        Json::Num(n) => n.parse::<usize>().ok(),
                        _ => None,
                    };
                    match (i, list) {
                        (Some(i), Json::Arr(items)) if i < items.len() => Ok(items[i].clone()),
                        _ => Ok(Json::Str(marker(&format!("Fn::Select {}", short(v))))),
                    }
                }
                ("Fn::GetAtt", _) => {
                    let name = match v {
                        Json::Arr(a) => a
                            .iter()
                            .map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| short(x)))
                            .collect::<Vec<_>>()
                            .join("."),
                        other => other
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| short(other)),
                    };
                    Ok(Json::Str(match params.get(&name) {
                        Some(v) => v.to_owned(),
                        None => marker(&format!("Fn::GetAtt {name}")),
                    }))
                }
                _ => Ok(Json::Str(marker(&format!("{f} {}", short(v))))),
            }
        }
        Json::Obj(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                match resolve(v, &at.key(k), params)? {
                    Json::Null if !matches!(v, Json::Null) => {}
                    r => out.push((k.clone(), r)),
                }
            }
            Ok(Json::Obj(out))
        }
        Json::Arr(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                match resolve(v, &at.index(i), params)? {
                    Json::Null if !matches!(v, Json::Null) => {}
                    r => out.push(r),
                }
            }
            Ok(Json::Arr(out))
        }
        other => Ok(other.clone()),
    }
}

/// The value of an `Fn::Sub` string: `${!x}` is the literal `${x}`; `${Name}` a variable of
/// the map, a parameter or pseudo-parameter, or else a marker.
fn sub(s: &str, vars: &[(String, String)], params: &Params) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        if let Some(lit) = after.strip_prefix('!') {
            out.push_str("${");
            rest = lit;
            continue;
        }
        let Some(end) = after.find('}') else {
            out.push_str("${");
            rest = after;
            continue;
        };
        let name = &after[..end];
        match vars.iter().find(|(k, _)| k == name) {
            Some((_, v)) => out.push_str(v),
            None => match params.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(&super::bounds::marker(name)),
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The value of an `Fn::Sub` string without variables, if it has none.
#[cfg(test)]
fn literal_sub(s: &str) -> Option<String> {
    let v = sub(s, &[], &Params::default());
    (!v.contains(super::bounds::MARK)).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_sub_only_without_variables() {
        assert_eq!(
            literal_sub("arn:aws:s3:::b/*").as_deref(),
            Some("arn:aws:s3:::b/*")
        );
        assert_eq!(
            literal_sub("a${!Literal}b").as_deref(),
            Some("a${Literal}b")
        );
        assert_eq!(literal_sub("arn:${AWS::Partition}:s3:::b"), None);
    }

    #[test]
    fn resolve_marks_unknown_values_and_uses_parameters() {
        let j = crate::json::parse(
            r#"{"Resource":[{"Fn::Join":["",["arn:aws:s3:::","b"]]},{"Fn::Sub":"x${Bucket}"},{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/r"}]}"#,
        )
        .unwrap();
        let none = Params::default();
        let r = resolve(&j, &JsonPath::root().key("P"), &none).unwrap();
        let res = r.get("Resource").unwrap().to_value();
        assert_eq!(res[0], "arn:aws:s3:::b");
        assert_eq!(res[1], format!("x{}", crate::iac::bounds::marker("Bucket")));
        let p = Params::new(
            &[("Bucket".into(), "logs".into())],
            Some("111122223333"),
            None,
            Some("aws"),
        );
        let r = resolve(&j, &JsonPath::root(), &p).unwrap().to_value();
        assert_eq!(r["Resource"][1], "xlogs");
        assert_eq!(r["Resource"][2], "arn:aws:iam::111122223333:role/r");
        let j =
            crate::json::parse(r#"{"A":{"Ref":"AWS::NoValue"},"B":[1,{"Ref":"AWS::NoValue"}]}"#)
                .unwrap();
        assert_eq!(
            resolve(&j, &JsonPath::root(), &none).unwrap().to_value(),
            serde_json::json!({"B":[1]})
        );
    }
}
