//! CloudTrail records → requests: the principal (`userIdentity`), the IAM action (`eventSource` +
//! `eventName` through the catalog), the resource (the record's `resources`, ARNs in its parameters
//! or response, or the catalog's ARN format filled from `requestParameters`) and the context the
//! record carries (source IP, region, MFA, time, VPC endpoint, session tags).

use crate::catalog::Catalog;
use crate::request::{Context, CtxValue, Principal, PrincipalKind};
use crate::scenario::{Errors, InputError};
use serde_json::Value;
use std::path::Path;

/// One CloudTrail record.
#[derive(Debug, Clone)]
pub struct Event {
    /// File it came from.
    pub file: String,
    /// JSON path of the record in that file (`Records[3]`, `[3]`, `line 4`).
    pub path: String,
    pub raw: Value,
}

/// What an `AssumeRole*` record created: the session ARN, its session tags and its session
/// policy text.
pub type SessionCreated = (String, Vec<(String, String)>, Option<String>);

/// Where a request's resource came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// An exact ARN (or `*` for actions that take no resource type).
    Known(String),
    /// Not recoverable from the record; the reason.
    Unknown(String),
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Read CloudTrail records: `{"Records":[...]}` (delivery files), a bare array (Stratus
/// detonation logs), one record, or JSON lines (one record, or `{"record": {...}}`, per line).
pub fn load_events(path: &Path) -> Result<Vec<Event>, Errors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![InputError::new(&file, None, format!("cannot read: {e}"))])?;
    let mut out = Vec::new();
    let push = |out: &mut Vec<Event>, v: Value, p: String| -> Result<(), Errors> {
        if !v.is_object() || v.get("eventName").is_none() {
            return Err(vec![InputError::new(
                &file,
                Some(p),
                "expected a CloudTrail record (an object with `eventName`)",
            )]);
        }
        out.push(Event {
            file: file.clone(),
            path: p,
            raw: v,
        });
        Ok(())
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(mut o)) => {
            if let Some(recs) = o.remove("Records") {
                let Value::Array(recs) = recs else {
                    return Err(vec![InputError::new(
                        &file,
                        Some("Records".into()),
                        "expected an array of CloudTrail records",
                    )]);
                };
                for (i, r) in recs.into_iter().enumerate() {
                    push(&mut out, r, format!("Records[{i}]"))?;
                }
            } else if let Some(r) = o.remove("record") {
                push(&mut out, r, "record".into())?;
            } else {
                push(&mut out, Value::Object(o), "(root)".into())?;
            }
        }
        Ok(Value::Array(recs)) => {
            for (i, r) in recs.into_iter().enumerate() {
                let r = match r {
                    Value::Object(mut o) if o.contains_key("record") => {
                        o.remove("record").unwrap_or(Value::Null)
                    }
                    r => r,
                };
                push(&mut out, r, format!("[{i}]"))?;
            }
        }
        Ok(_) => {
            return Err(vec![InputError::new(
            &file,
            None,
            "expected CloudTrail records: {\"Records\":[...]}, an array, a record or JSON lines",
        )])
        }
        Err(whole) => {
            // JSON lines
            let mut any = false;
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                any = true;
                let v: Value = serde_json::from_str(line).map_err(|e| {
                    vec![InputError::new(
                        &file,
                        Some(format!("line {}", n + 1)),
                        format!("invalid JSON: {e}"),
                    )]
                })?;
                let v = match v {
                    Value::Object(mut o) if o.contains_key("record") => {
                        o.remove("record").unwrap_or(Value::Null)
                    }
                    v => v,
                };
                push(&mut out, v, format!("line {}", n + 1))?;
            }
            if !any {
                return Err(vec![InputError::new(
                    &file,
                    None,
                    format!("invalid JSON: {whole}"),
                )]);
            }
        }
    }
    Ok(out)
}

/// Service prefixes whose event source differs from the IAM action prefix.
const SOURCE_PREFIX: &[(&str, &str)] = &[
    ("monitoring", "cloudwatch"),
    ("email", "ses"),
    ("elasticfilesystem", "elasticfilesystem"),
    ("es", "es"),
    ("sso-directory", "sso-directory"),
    ("tagging", "tag"),
    ("resource-explorer-2", "resource-explorer-2"),
];

/// Event names whose IAM action has another name (AWS's "Actions, resources and condition
/// keys" pages and the S3 operation → permission table).
const RENAMED: &[(&str, &str)] = &[
    ("s3:ListBuckets", "s3:ListAllMyBuckets"),
    ("s3:HeadBucket", "s3:ListBucket"),
    ("s3:ListObjects", "s3:ListBucket"),
    ("s3:ListObjectsV2", "s3:ListBucket"),
    ("s3:ListObjectVersions", "s3:ListBucketVersions"),
    ("s3:HeadObject", "s3:GetObject"),
    ("s3:DeleteObjects", "s3:DeleteObject"),
    (
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
    ),
    ("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    ("s3:PutBucketEncryption", "s3:PutEncryptionConfiguration"),
    ("s3:DeleteBucketEncryption", "s3:PutEncryptionConfiguration"),
    ("s3:GetBucketLifecycle", "s3:GetLifecycleConfiguration"),
    (
        "s3:GetBucketLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
    ),
    ("s3:PutBucketLifecycle", "s3:PutLifecycleConfiguration"),
    (
        "s3:PutBucketLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
    ),
    ("s3:GetBucketReplication", "s3:GetReplicationConfiguration"),
    (
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
    ),
    ("s3:DeleteBucketPolicy", "s3:DeleteBucketPolicy"),
    ("s3:CopyObject", "s3:PutObject"),
    ("s3:PutBucketReplication", "s3:PutReplicationConfiguration"),
    (
        "s3:DeleteBucketReplication",
        "s3:PutReplicationConfiguration",
    ),
    (
        "s3:DeleteBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
    ),
    ("s3:DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"),
    ("s3:GetBucketCors", "s3:GetBucketCORS"),
    ("s3:PutBucketCors", "s3:PutBucketCORS"),
    ("s3:DeleteBucketCors", "s3:PutBucketCORS"),
    ("s3:DeleteBucketTagging", "s3:PutBucketTagging"),
    (
        "s3:DeleteBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
    ),
    ("s3:CreateMultipartUpload", "s3:PutObject"),
    ("s3:UploadPart", "s3:PutObject"),
    ("s3:CompleteMultipartUpload", "s3:PutObject"),
];

/// The IAM action of an event source and name, when the catalog knows it.
pub fn action_of(source: &str, name: &str) -> Option<String> {
    let prefix = source.strip_suffix(".amazonaws.com").unwrap_or(source);
    let prefix = SOURCE_PREFIX
        .iter()
        .find(|(s, _)| *s == prefix)
        .map_or(prefix, |(_, p)| *p);
    // Lambda's versioned API names: ListFunctions20150331, GetFunction20150331v2
    let mut name = name.to_owned();
    if prefix == "lambda" {
        let t = name.trim_end_matches(|c: char| c == 'v' || c.is_ascii_digit());
        let stripped = name.len() - t.len();
        if stripped >= 8 {
            name = t.to_owned();
        }
    }
    let full = format!("{prefix}:{name}");
    let full = RENAMED
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(&full))
        .map_or(full, |(_, a)| (*a).to_owned());
    Catalog::get().display_name(&full)
}

/// Does `arn` fit the ARN format `fmt` (`${X}` = any non-empty text)? Returns the placeholder values.
pub fn fit_format(fmt: &str, arn: &str) -> Option<Vec<(String, String)>> {
    fn go(f: &str, a: &str, out: &mut Vec<(String, String)>) -> bool {
        if f.is_empty() {
            return a.is_empty();
        }
        if let Some(rest) = f.strip_prefix("${") {
            let Some(end) = rest.find('}') else {
                return false;
            };
            let (name, tail) = (&rest[..end], &rest[end + 1..]);
            // shortest non-empty run first, so a literal separator after it anchors
            let simple = matches!(name, "Partition" | "Region" | "Account" | "BucketName");
            for (i, _) in a
                .char_indices()
                .skip(1)
                .chain(std::iter::once((a.len(), ' ')))
            {
                if simple && a[..i].contains([':', '/']) {
                    break;
                }
                out.push((name.to_owned(), a[..i].to_owned()));
                if go(tail, &a[i..], out) {
                    return true;
                }
                out.pop();
            }
            return false;
        }
        let mut fc = f.chars();
        let mut ac = a.chars();
        match (fc.next(), ac.next()) {
            (Some(x), Some(y)) if x == y => go(fc.as_str(), ac.as_str(), out),
            _ => false,
        }
    }
    let mut out = Vec::new();
    go(fmt, arn, &mut out).then_some(out)
}

/// Placeholder → request-parameter names to try, beyond the placeholder's own name.
fn param_names(placeholder: &str) -> Vec<String> {
    let p = placeholder.to_lowercase();
    let mut v = vec![p.clone()];
    for suffix in ["withpath", "withoutleadingslash"] {
        if let Some(b) = p.strip_suffix(suffix) {
            v.push(b.to_owned());
        }
    }
    if let Some(stem) = p.strip_suffix("id") {
        v.push(format!("{stem}identifier"));
    }
    match p.as_str() {
        "objectname" => v.push("key".into()),
        "bucketname" => v.push("bucket".into()),
        "keyid" => v.push("key".into()),
        "parameternamewithoutleadingslash" => v.push("name".into()),
        "secretid" => v.push("name".into()),
        "trailname" => v.push("name".into()),
        "securitygroupid" => v.push("groupid".into()),
        "username" | "rolename" | "groupname" => {}
        _ => {}
    }
    v
}

/// First scalar string value of a key (compared ignoring case) anywhere under `v`.
fn find_param(v: &Value, key: &str) -> Option<String> {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k.to_lowercase() == key {
                    match x {
                        Value::String(s) if !s.is_empty() => return Some(s.clone()),
                        Value::Number(n) => return Some(n.to_string()),
                        _ => {}
                    }
                }
            }
            o.values().find_map(|x| find_param(x, key))
        }
        Value::Array(a) => a.iter().find_map(|x| find_param(x, key)),
        _ => None,
    }
}

fn all_arns(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with("arn:") => out.push(s.clone()),
        Value::Object(o) => o.values().for_each(|x| all_arns(x, out)),
        Value::Array(a) => a.iter().for_each(|x| all_arns(x, out)),
        _ => {}
    }
}

impl Event {
    pub fn id(&self) -> Option<&str> {
        s(&self.raw, "eventID")
    }
    pub fn source(&self) -> &str {
        s(&self.raw, "eventSource").unwrap_or("")
    }
    pub fn name(&self) -> &str {
        s(&self.raw, "eventName").unwrap_or("")
    }
    pub fn time(&self) -> Option<&str> {
        s(&self.raw, "eventTime")
    }
    pub fn error_code(&self) -> Option<&str> {
        s(&self.raw, "errorCode").filter(|c| !c.is_empty())
    }
    pub fn error_message(&self) -> Option<&str> {
        s(&self.raw, "errorMessage")
    }
    pub fn succeeded(&self) -> bool {
        self.error_code().is_none()
    }
    /// `AccessDenied`, `Client.UnauthorizedOperation` and the like.
    pub fn denied(&self) -> bool {
        self.error_code()
            .is_some_and(|c| c.contains("AccessDenied") || c.contains("UnauthorizedOperation"))
    }
    fn identity(&self) -> &Value {
        self.raw.get("userIdentity").unwrap_or(&Value::Null)
    }
    /// A readable name of the record for reports.
    pub fn label(&self) -> String {
        format!(
            "{}#{} ({} {})",
            self.file,
            self.path,
            self.source(),
            self.name()
        )
    }

    /// The IAM action of the record.
    pub fn action(&self) -> Result<String, String> {
        action_of(self.source(), self.name()).ok_or_else(|| {
            format!(
                "no IAM action in the catalog for event `{}` from `{}`",
                self.name(),
                self.source()
            )
        })
    }

    /// The ARN of the role behind an assumed-role session (`sessionIssuer.arn`).
    pub fn session_issuer(&self) -> Option<&str> {
        self.identity()
            .get("sessionContext")
            .and_then(|c| c.get("sessionIssuer"))
            .and_then(|i| s(i, "arn"))
    }

    /// The caller, from `userIdentity`. Role sessions take the role's path from the session
    /// issuer when the record has it.
    pub fn principal(&self) -> Result<Principal, String> {
        let ui = self.identity();
        let ty = s(ui, "type").unwrap_or("");
        match ty {
            "IAMUser" | "AssumedRole" | "FederatedUser" | "Root" => {
                let arn = s(ui, "arn").ok_or_else(|| {
                    format!("userIdentity of type {ty} has no `arn` in {}", self.label())
                })?;
                let mut p = match Principal::parse(arn) {
                    Ok(p) => p,
                    // an anonymised session ARN without a session part: the issuer names the role
                    Err(e) => match (ty, self.session_issuer().map(Principal::parse)) {
                        ("AssumedRole", Some(Ok(mut ip))) => {
                            if let PrincipalKind::RoleSession { role, session, .. } = &mut ip.kind {
                                let s = s(ui, "principalId")
                                    .and_then(|id| id.split_once(':'))
                                    .map_or("unknown", |x| x.1);
                                *session = Some(s.to_owned());
                                ip.raw = format!(
                                    "arn:{}:sts::{}:assumed-role/{role}/{s}",
                                    ip.partition, ip.account
                                );
                            }
                            ip
                        }
                        _ => return Err(e),
                    },
                };
                if let (PrincipalKind::RoleSession { path, .. }, Some(issuer)) =
                    (&mut p.kind, self.session_issuer())
                {
                    if let Ok(ip) = Principal::parse(issuer) {
                        if let PrincipalKind::RoleSession {
                            path: Some(ipath), ..
                        } = ip.kind
                        {
                            *path = Some(ipath);
                        }
                    }
                }
                Ok(p)
            }
            "AWSAccount" => {
                let a = s(ui, "accountId").ok_or_else(|| {
                    format!(
                        "userIdentity of type AWSAccount has no `accountId` in {}",
                        self.label()
                    )
                })?;
                Principal::parse(a)
            }
            "AWSService" => {
                let svc = s(ui, "invokedBy").ok_or_else(|| {
                    format!(
                        "userIdentity of type AWSService has no `invokedBy` in {}",
                        self.label()
                    )
                })?;
                Principal::parse(svc)
            }
            "" => Err(format!("record {} has no userIdentity type", self.label())),
            other => Err(format!(
                "userIdentity type `{other}` is not modelled (the record names no role session)"
            )),
        }
    }

    /// Does the record's caller match `who`: a user or session ARN exactly, or a role ARN (every
    /// session of the role)?
    pub fn by(&self, who: &str) -> bool {
        let ui = self.identity();
        if s(ui, "arn") == Some(who) {
            return true;
        }
        if self.session_issuer() == Some(who) {
            return true;
        }
        // a role ARN against a session ARN without issuer: same account and role name
        match (Principal::parse(who), self.principal()) {
            (Ok(w), Ok(p)) => match (&w.kind, &p.kind) {
                (
                    PrincipalKind::RoleSession {
                        role: a,
                        session: None,
                        ..
                    },
                    PrincipalKind::RoleSession { role: b, .. },
                ) => a == b && w.account == p.account,
                _ => false,
            },
            _ => false,
        }
    }

    fn account(&self) -> Option<&str> {
        s(&self.raw, "recipientAccountId").or_else(|| s(self.identity(), "accountId"))
    }

    /// The resource of the request for `action`.
    pub fn resource(&self, action: &str) -> Resource {
        let cat = Catalog::get();
        let Some((svc, act)) = cat.action(action) else {
            return Resource::Unknown(format!("`{action}` is not in the catalog"));
        };
        if !act.takes_resources() {
            return Resource::Known("*".into());
        }
        // a denial's message names the resource AWS denied
        if let Some(m) = self.error_message().and_then(super::why::parse_message) {
            if let Some(r) = m.resource.filter(|r| r.starts_with("arn:") || r == "*") {
                return Resource::Known(r);
            }
        }
        let mut types: Vec<_> = act.resource_types().collect();
        types.sort_by_key(|t| !t.required);
        let required: Vec<&str> = types
            .iter()
            .filter(|t| t.required)
            .map(|t| t.name)
            .collect();
        if required.len() > 1 {
            // AWS authorizes such a request once per resource type; one ARN would not do
            return Resource::Unknown(format!(
                "AWS authorizes `{action}` on several required resource types ({}); a single request resource cannot stand for them",
                required.join(", ")
            ));
        }
        let formats: Vec<&str> = types
            .iter()
            .filter_map(|t| svc.resource_type(t.name))
            .flat_map(|rt| rt.arn_formats.iter().copied())
            .collect();
        // 1. ARNs the record names (resources[], parameters, response), in that order
        let mut arns = Vec::new();
        if let Some(Value::Array(rs)) = self.raw.get("resources") {
            for r in rs {
                if let Some(a) = s(r, "ARN").or_else(|| s(r, "arn")) {
                    arns.push(a.to_owned());
                }
            }
        }
        if let Some(p) = self.raw.get("requestParameters") {
            all_arns(p, &mut arns);
        }
        if let Some(p) = self.raw.get("responseElements") {
            all_arns(p, &mut arns);
        }
        for f in &formats {
            if let Some(a) = arns.iter().find(|a| fit_format(f, a).is_some()) {
                return Resource::Known(a.clone());
            }
        }
        // 2. the catalog's ARN format filled from the parameters
        let params = self.raw.get("requestParameters").unwrap_or(&Value::Null);
        let response = self.raw.get("responseElements").unwrap_or(&Value::Null);
        let partition = s(self.identity(), "arn")
            .and_then(|a| a.split(':').nth(1))
            .unwrap_or("aws")
            .to_owned();
        'format: for f in &formats {
            let mut out = String::new();
            let mut rest = *f;
            while let Some(i) = rest.find("${") {
                out.push_str(&rest[..i]);
                let Some(end) = rest[i..].find('}') else {
                    continue 'format;
                };
                let name = &rest[i + 2..i + end];
                let value = match name {
                    "Partition" => Some(partition.clone()),
                    "Region" => s(&self.raw, "awsRegion").map(str::to_owned),
                    "Account" => self.account().map(str::to_owned),
                    _ => param_names(name)
                        .iter()
                        .find_map(|k| find_param(params, k).or_else(|| find_param(response, k)))
                        .filter(|v| !v.starts_with("arn:")),
                };
                let Some(mut value) = value else {
                    continue 'format;
                };
                if name.ends_with("WithoutLeadingSlash") {
                    value = value.trim_start_matches('/').to_owned();
                }
                out.push_str(&value);
                rest = &rest[i + end + 1..];
            }
            out.push_str(rest);
            return Resource::Known(out);
        }
        Resource::Unknown(format!(
            "the record names no resource of `{action}` (types: {})",
            types.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
        ))
    }

    /// Context keys the record carries.
    pub fn context(&self) -> Context {
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
        if let Some(t) = self.time() {
            put("aws:CurrentTime", t.to_owned());
            if let Some(ms) = crate::literal::parse_date(t) {
                put("aws:EpochTime", (ms / 1000).to_string());
            }
        }
        if let Some(r) = s(&self.raw, "awsRegion") {
            put("aws:RequestedRegion", r.to_owned());
        }
        if let Some(ip) = s(&self.raw, "sourceIPAddress") {
            if crate::literal::parse_ip(ip).is_some() {
                put("aws:SourceIp", ip.to_owned());
            } else if ip.ends_with(".amazonaws.com") {
                put("aws:ViaAWSService", "true".into());
            }
        }
        if let Some(v) = s(&self.raw, "vpcEndpointId") {
            put("aws:SourceVpce", v.to_owned());
        }
        let ui = self.identity();
        if let Some(id) = s(ui, "principalId") {
            put("aws:userid", id.to_owned());
        }
        if let Some(attrs) = ui.get("sessionContext").and_then(|c| c.get("attributes")) {
            if let Some(m) = s(attrs, "mfaAuthenticated") {
                put("aws:MultiFactorAuthPresent", m.to_owned());
            }
            if let Some(t) = s(attrs, "creationDate") {
                put("aws:TokenIssueTime", t.to_owned());
            }
        }
        if let Some(si) = ui
            .get("sessionContext")
            .and_then(|c| s(c, "sourceIdentity"))
        {
            put("aws:SourceIdentity", si.to_owned());
        }
        if s(&self.raw, "tlsDetails").is_some() || self.raw.get("tlsDetails").is_some() {
            put("aws:SecureTransport", "true".into());
        }
        ctx
    }

    /// For an `AssumeRole*` record that succeeded: the session ARN it created, its session
    /// tags and its inline session policy text.
    pub fn session_created(&self) -> Option<SessionCreated> {
        if !self.name().starts_with("AssumeRole") || !self.succeeded() {
            return None;
        }
        let arn = self
            .raw
            .get("responseElements")
            .and_then(|r| r.get("assumedRoleUser"))
            .and_then(|u| s(u, "arn"))?
            .to_owned();
        let params = self.raw.get("requestParameters").unwrap_or(&Value::Null);
        let mut tags = Vec::new();
        if let Some(Value::Array(ts)) = params.get("tags") {
            for t in ts {
                if let (Some(k), Some(v)) = (s(t, "key"), s(t, "value")) {
                    tags.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        for key in ["principalTags", "incomingTransitiveTags"] {
            if let Some(Value::Object(o)) = params.get(key) {
                for (k, v) in o {
                    if let Some(v) = v.as_str() {
                        tags.push((k.clone(), v.to_owned()));
                    }
                }
            }
        }
        let policy = s(params, "policy").map(str::to_owned);
        Some((arn, tags, policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_from_event_names() {
        assert_eq!(
            action_of("s3.amazonaws.com", "ListBuckets").as_deref(),
            Some("s3:ListAllMyBuckets")
        );
        assert_eq!(
            action_of("lambda.amazonaws.com", "ListFunctions20150331").as_deref(),
            Some("lambda:ListFunctions")
        );
        assert_eq!(
            action_of("monitoring.amazonaws.com", "DescribeAlarms").as_deref(),
            Some("cloudwatch:DescribeAlarms")
        );
        assert_eq!(action_of("signin.amazonaws.com", "ConsoleLogin"), None);
    }

    #[test]
    fn formats_fit() {
        let v = fit_format(
            "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
            "arn:aws:s3:::b/k/x",
        )
        .unwrap();
        assert_eq!(v[1], ("BucketName".into(), "b".into()));
        assert_eq!(v[2], ("ObjectName".into(), "k/x".into()));
        assert!(fit_format(
            "arn:${Partition}:s3:::${BucketName}",
            "arn:aws:iam::1:role/x"
        )
        .is_none());
    }
}
