//! Loading `aws iam get-account-authorization-details` dumps and the optional inputs
//! (`--org`, `--resource-policies`, `--other-account`). Every malformed part is a located error.

#![allow(clippy::type_complexity)]

use crate::json::{Json, JsonPath};
use crate::model::{Policy, PolicyType};
use crate::parse::parse_policy;
use crate::scenario::{locate, read_json, Errors, InputError};
use std::collections::BTreeMap;
use std::path::Path;

/// One managed policy of the dump with every stored version.
#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    /// The policy's ARN.
    pub arn: String,
    /// The policy's name.
    pub name: String,
    /// Index into `versions` of the default version.
    pub default: usize,
    /// Every stored version: version ID and document.
    pub versions: Vec<(String, Policy)>,
}

impl ManagedPolicy {
    /// The default version's document.
    pub fn default_doc(&self) -> &Policy {
        &self.versions[self.default].1
    }
    /// Customer-managed (modifiable) policies live in the account, AWS-managed ones under `aws`.
    pub fn is_customer(&self) -> bool {
        !self.arn.starts_with("arn:aws:iam::aws:") && !self.arn.contains(":iam::aws:policy")
    }
}

#[derive(Debug, Clone)]
/// An IAM user of a dump.
#[allow(missing_docs)] // fields as in `get-account-authorization-details`
pub struct User {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub groups: Vec<String>,
    pub inline: Vec<Policy>,
    pub attached: Vec<String>,
    pub boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
/// An IAM group of a dump.
#[allow(missing_docs)] // fields as in `get-account-authorization-details`
pub struct Group {
    pub arn: String,
    pub name: String,
    pub inline: Vec<Policy>,
    pub attached: Vec<String>,
}

#[derive(Debug, Clone)]
/// An IAM role of a dump.
#[allow(missing_docs)] // fields as in `get-account-authorization-details`
pub struct Role {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub trust: Policy,
    pub inline: Vec<Policy>,
    pub attached: Vec<String>,
    pub boundary: Option<String>,
    pub instance_profiles: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// One account's IAM configuration.
#[derive(Debug, Clone)]
pub struct Account {
    /// The 12-digit account ID.
    pub id: String,
    /// The dump's file.
    pub file: String,
    /// Users.
    pub users: Vec<User>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Roles.
    pub roles: Vec<Role>,
    /// Managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Policy label → path of its document in `file` (reports locate statements with it).
    pub sources: BTreeMap<String, JsonPath>,
}

impl Account {
    /// The group with this name.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }
}

/// The organization around the analysed account (`--org`).
#[derive(Debug, Clone, Default)]
pub struct Org {
    /// The management account's ID.
    pub management_account: Option<String>,
    /// The organization's ID.
    pub org_id: Option<String>,
    /// Per account: SCP levels and RCP levels, root first.
    pub accounts: BTreeMap<String, (Vec<Vec<Policy>>, Vec<Vec<Policy>>)>,
    /// Things the user should know (a level of SCPs that allows nothing, ...).
    pub warnings: Vec<String>,
}

const TOP_KEYS: &[&str] = &[
    "UserDetailList",
    "GroupDetailList",
    "RoleDetailList",
    "Policies",
    "IsTruncated",
    "Marker",
    "ResponseMetadata",
];
const USER_KEYS: &[&str] = &[
    "Path",
    "UserName",
    "UserId",
    "Arn",
    "CreateDate",
    "UserPolicyList",
    "GroupList",
    "AttachedManagedPolicies",
    "PermissionsBoundary",
    "Tags",
    "PasswordLastUsed",
];
const GROUP_KEYS: &[&str] = &[
    "Path",
    "GroupName",
    "GroupId",
    "Arn",
    "CreateDate",
    "GroupPolicyList",
    "AttachedManagedPolicies",
];
const ROLE_KEYS: &[&str] = &[
    "Path",
    "RoleName",
    "RoleId",
    "Arn",
    "CreateDate",
    "AssumeRolePolicyDocument",
    "InstanceProfileList",
    "RolePolicyList",
    "AttachedManagedPolicies",
    "PermissionsBoundary",
    "Tags",
    "RoleLastUsed",
    "Description",
    "MaxSessionDuration",
];
const POLICY_KEYS: &[&str] = &[
    "PolicyName",
    "PolicyId",
    "Arn",
    "Path",
    "DefaultVersionId",
    "AttachmentCount",
    "PermissionsBoundaryUsageCount",
    "IsAttachable",
    "Description",
    "CreateDate",
    "UpdateDate",
    "PolicyVersionList",
    "Tags",
];
const VERSION_KEYS: &[&str] = &["Document", "VersionId", "IsDefaultVersion", "CreateDate"];
const INLINE_KEYS: &[&str] = &["PolicyName", "PolicyDocument"];
const ATTACHED_KEYS: &[&str] = &["PolicyName", "PolicyArn"];
const BOUNDARY_KEYS: &[&str] = &["PermissionsBoundaryType", "PermissionsBoundaryArn"];
const TAG_KEYS: &[&str] = &["Key", "Value"];
const PROFILE_KEYS: &[&str] = &[
    "Path",
    "InstanceProfileName",
    "InstanceProfileId",
    "Arn",
    "CreateDate",
    "Roles",
    "Tags",
];
const LAST_USED_KEYS: &[&str] = &["LastUsedDate", "Region"];

/// A cursor over the dump that records located errors.
pub(crate) struct Reader<'a> {
    pub file: &'a str,
    pub errs: Errors,
    /// Where each policy document was read: label → path in the file (for SARIF locations).
    pub sources: BTreeMap<String, JsonPath>,
}

impl<'a> Reader<'a> {
    pub fn new(file: &'a str) -> Self {
        Reader {
            file,
            errs: Vec::new(),
            sources: BTreeMap::new(),
        }
    }
    pub fn err(&mut self, p: &JsonPath, msg: impl Into<String>) {
        self.errs
            .push(InputError::new(self.file, Some(p.to_string()), msg));
    }
    pub fn obj<'j>(
        &mut self,
        v: &'j Json,
        p: &JsonPath,
        allowed: &[&str],
    ) -> Option<&'j [(String, Json)]> {
        match v {
            Json::Obj(entries) => {
                // duplicates are read as the format allows (not reported here)
                for problem in crate::json::key_problems(entries, allowed) {
                    if let crate::json::KeyProblem::Unknown { key: k, .. } = problem {
                        self.err(
                            &p.key(k),
                            format!(
                                "unknown field `{k}`; expected one of {}",
                                allowed.join(", ")
                            ),
                        );
                    }
                }
                Some(entries)
            }
            other => {
                self.err(
                    p,
                    format!("expected an object, found {}", other.type_name()),
                );
                None
            }
        }
    }
    pub fn arr<'j>(&mut self, v: Option<&'j Json>, p: &JsonPath) -> &'j [Json] {
        match v {
            None | Some(Json::Null) => &[],
            Some(Json::Arr(a)) => a,
            Some(other) => {
                self.err(p, format!("expected an array, found {}", other.type_name()));
                &[]
            }
        }
    }
    pub fn string(&mut self, v: &Json, key: &str, p: &JsonPath, required: bool) -> Option<String> {
        match v.get(key) {
            Some(Json::Str(s)) => Some(s.clone()),
            None if !required => None,
            None => {
                self.err(&p.key(key), format!("missing `{key}`"));
                None
            }
            Some(other) => {
                self.err(
                    &p.key(key),
                    format!("expected a string, found {}", other.type_name()),
                );
                None
            }
        }
    }
    /// A policy document: a JSON object, or a (URL-encoded) JSON string.
    pub fn document(
        &mut self,
        v: Option<&Json>,
        p: &JsonPath,
        kind: PolicyType,
        name: &str,
    ) -> Option<Policy> {
        let Some(v) = v else {
            self.err(p, "missing policy document");
            return None;
        };
        let owned;
        let doc = match v {
            Json::Obj(_) => v,
            Json::Str(s) => {
                let decoded = if s.trim_start().starts_with('{') {
                    s.clone()
                } else {
                    match percent_encoding::percent_decode_str(s).decode_utf8() {
                        Ok(d) => d.into_owned(),
                        Err(e) => {
                            self.err(p, format!("URL-encoded policy document is not UTF-8: {e}"));
                            return None;
                        }
                    }
                };
                match crate::json::parse(&decoded) {
                    Ok(j) => {
                        owned = j;
                        &owned
                    }
                    Err(e) => {
                        self.err(
                            p,
                            format!(
                                "policy document string is not valid JSON (line {}, column {}): {}",
                                e.line, e.column, e.message
                            ),
                        );
                        return None;
                    }
                }
            }
            other => {
                self.err(
                    p,
                    format!(
                        "expected a policy document (object or URL-encoded string), found {}",
                        other.type_name()
                    ),
                );
                return None;
            }
        };
        match parse_policy(doc, kind, name) {
            Ok(pol) => {
                self.sources
                    .entry(name.to_owned())
                    .or_insert_with(|| p.clone());
                Some(pol)
            }
            Err(es) => {
                self.errs.extend(locate(self.file, p, es));
                None
            }
        }
    }
    fn tags(&mut self, v: &Json, p: &JsonPath) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let tp = p.key("Tags");
        for (i, t) in self.arr(v.get("Tags"), &tp).iter().enumerate() {
            let ip = tp.index(i);
            if self.obj(t, &ip, TAG_KEYS).is_some() {
                if let (Some(k), Some(val)) = (
                    self.string(t, "Key", &ip, true),
                    self.string(t, "Value", &ip, true),
                ) {
                    out.push((k, val));
                }
            }
        }
        out
    }
    fn inline(&mut self, v: &Json, key: &str, p: &JsonPath, owner: &str) -> Vec<Policy> {
        let mut out = Vec::new();
        let lp = p.key(key);
        for (i, item) in self.arr(v.get(key), &lp).iter().enumerate() {
            let ip = lp.index(i);
            if self.obj(item, &ip, INLINE_KEYS).is_none() {
                continue;
            }
            let name = self
                .string(item, "PolicyName", &ip, true)
                .unwrap_or_default();
            let label = format!("{owner} inline {name}");
            out.extend(self.document(
                item.get("PolicyDocument"),
                &ip.key("PolicyDocument"),
                PolicyType::Identity,
                &label,
            ));
        }
        out
    }
    fn attached(&mut self, v: &Json, p: &JsonPath) -> Vec<(String, JsonPath)> {
        let mut out = Vec::new();
        let lp = p.key("AttachedManagedPolicies");
        for (i, item) in self
            .arr(v.get("AttachedManagedPolicies"), &lp)
            .iter()
            .enumerate()
        {
            let ip = lp.index(i);
            if self.obj(item, &ip, ATTACHED_KEYS).is_none() {
                continue;
            }
            if let Some(a) = self.string(item, "PolicyArn", &ip, true) {
                out.push((a, ip.key("PolicyArn")));
            }
        }
        out
    }
    fn boundary(&mut self, v: &Json, p: &JsonPath) -> Option<(String, JsonPath)> {
        let b = v.get("PermissionsBoundary")?;
        let bp = p.key("PermissionsBoundary");
        self.obj(b, &bp, BOUNDARY_KEYS)?;
        self.string(b, "PermissionsBoundaryArn", &bp, true)
            .map(|a| (a, bp.key("PermissionsBoundaryArn")))
    }
}

/// The account segment of an IAM ARN.
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && !parts[4].is_empty()).then_some(parts[4])
}

/// Load a dump file.
pub fn load_account(path: &Path) -> Result<Account, Errors> {
    let doc = read_json(path)?;
    account_from_json(&doc, &path.display().to_string())
}

/// Read an account dump (`aws iam get-account-authorization-details` output) from parsed JSON.
pub fn account_from_json(doc: &Json, file: &str) -> Result<Account, Errors> {
    let mut r = Reader::new(file);
    let root = JsonPath::root();
    if r.obj(doc, &root, TOP_KEYS).is_none() {
        return Err(r.errs);
    }
    // managed policies first: attachments refer to them
    let mut policies = BTreeMap::new();
    let pp = root.key("Policies");
    for (i, item) in r.arr(doc.get("Policies"), &pp).iter().enumerate() {
        let ip = pp.index(i);
        if r.obj(item, &ip, POLICY_KEYS).is_none() {
            continue;
        }
        let (Some(arn), name) = (
            r.string(item, "Arn", &ip, true),
            r.string(item, "PolicyName", &ip, true).unwrap_or_default(),
        ) else {
            continue;
        };
        let default_id = r.string(item, "DefaultVersionId", &ip, false);
        let vp = ip.key("PolicyVersionList");
        let mut versions = Vec::new();
        let mut flagged = None;
        for (j, v) in r.arr(item.get("PolicyVersionList"), &vp).iter().enumerate() {
            let jp = vp.index(j);
            if r.obj(v, &jp, VERSION_KEYS).is_none() {
                continue;
            }
            let vid = r.string(v, "VersionId", &jp, true).unwrap_or_default();
            match v.get("IsDefaultVersion") {
                Some(Json::Bool(true)) => flagged = Some(versions.len()),
                Some(Json::Bool(false)) | None => {}
                Some(other) => r.err(
                    &jp.key("IsDefaultVersion"),
                    format!("expected a boolean, found {}", other.type_name()),
                ),
            }
            let label = format!("{name} ({vid})");
            if let Some(pol) = r.document(
                v.get("Document"),
                &jp.key("Document"),
                PolicyType::Identity,
                &label,
            ) {
                versions.push((vid, pol));
            }
        }
        let by_id = default_id
            .as_ref()
            .and_then(|d| versions.iter().position(|(v, _)| v == d));
        let default = match (by_id, flagged) {
            (Some(a), Some(b)) if a != b => {
                r.err(
                    &ip.key("DefaultVersionId"),
                    "DefaultVersionId disagrees with the version marked IsDefaultVersion",
                );
                continue;
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => {
                if versions.is_empty()
                    && r.errs.iter().any(|e| {
                        e.path
                            .as_deref()
                            .is_some_and(|p| p.starts_with(&ip.to_string()))
                    })
                {
                    continue; // the version's own error was reported
                }
                r.err(
                    &ip,
                    format!("managed policy `{arn}` has no default version in PolicyVersionList"),
                );
                continue;
            }
        };
        policies.insert(
            arn.clone(),
            ManagedPolicy {
                arn,
                name,
                default,
                versions,
            },
        );
    }

    let check_attached = |r: &mut Reader, list: Vec<(String, JsonPath)>| -> Vec<String> {
        let mut out = Vec::new();
        for (a, p) in list {
            if policies.contains_key(&a) {
                out.push(a);
            } else {
                r.err(
                    &p,
                    format!("managed policy `{a}` is not in the dump's Policies list"),
                );
            }
        }
        out
    };

    let mut groups = Vec::new();
    let gp = root.key("GroupDetailList");
    for (i, g) in r.arr(doc.get("GroupDetailList"), &gp).iter().enumerate() {
        let ip = gp.index(i);
        if r.obj(g, &ip, GROUP_KEYS).is_none() {
            continue;
        }
        let (Some(arn), Some(name)) = (
            r.string(g, "Arn", &ip, true),
            r.string(g, "GroupName", &ip, true),
        ) else {
            continue;
        };
        let inline = r.inline(g, "GroupPolicyList", &ip, &format!("group {name}"));
        let att = r.attached(g, &ip);
        let attached = check_attached(&mut r, att);
        groups.push(Group {
            arn,
            name,
            inline,
            attached,
        });
    }

    let mut users = Vec::new();
    let up = root.key("UserDetailList");
    for (i, u) in r.arr(doc.get("UserDetailList"), &up).iter().enumerate() {
        let ip = up.index(i);
        if r.obj(u, &ip, USER_KEYS).is_none() {
            continue;
        }
        let (Some(arn), Some(name)) = (
            r.string(u, "Arn", &ip, true),
            r.string(u, "UserName", &ip, true),
        ) else {
            continue;
        };
        let path = r
            .string(u, "Path", &ip, false)
            .unwrap_or_else(|| "/".into());
        let mut gl = Vec::new();
        let glp = ip.key("GroupList");
        for (j, g) in r.arr(u.get("GroupList"), &glp).iter().enumerate() {
            match g {
                Json::Str(s) => {
                    if groups.iter().any(|x: &Group| &x.name == s) {
                        gl.push(s.clone());
                    } else {
                        r.err(
                            &glp.index(j),
                            format!("group `{s}` is not in GroupDetailList"),
                        );
                    }
                }
                other => r.err(
                    &glp.index(j),
                    format!("expected a group name, found {}", other.type_name()),
                ),
            }
        }
        let inline = r.inline(u, "UserPolicyList", &ip, &format!("user {name}"));
        let att = r.attached(u, &ip);
        let attached = check_attached(&mut r, att);
        let boundary = r
            .boundary(u, &ip)
            .map(|b| check_attached(&mut r, vec![b]))
            .and_then(|v| v.into_iter().next());
        let tags = r.tags(u, &ip);
        users.push(User {
            arn,
            name,
            path,
            groups: gl,
            inline,
            attached,
            boundary,
            tags,
        });
    }

    let mut roles = Vec::new();
    let rp = root.key("RoleDetailList");
    for (i, ro) in r.arr(doc.get("RoleDetailList"), &rp).iter().enumerate() {
        let ip = rp.index(i);
        if r.obj(ro, &ip, ROLE_KEYS).is_none() {
            continue;
        }
        let (Some(arn), Some(name)) = (
            r.string(ro, "Arn", &ip, true),
            r.string(ro, "RoleName", &ip, true),
        ) else {
            continue;
        };
        let path = r
            .string(ro, "Path", &ip, false)
            .unwrap_or_else(|| "/".into());
        let trust = r.document(
            ro.get("AssumeRolePolicyDocument"),
            &ip.key("AssumeRolePolicyDocument"),
            PolicyType::Trust,
            &format!("trust policy of role {name}"),
        );
        let inline = r.inline(ro, "RolePolicyList", &ip, &format!("role {name}"));
        let att = r.attached(ro, &ip);
        let attached = check_attached(&mut r, att);
        let boundary = r
            .boundary(ro, &ip)
            .map(|b| check_attached(&mut r, vec![b]))
            .and_then(|v| v.into_iter().next());
        let tags = r.tags(ro, &ip);
        let mut instance_profiles = Vec::new();
        let pl = ip.key("InstanceProfileList");
        for (j, prof) in r.arr(ro.get("InstanceProfileList"), &pl).iter().enumerate() {
            let jp = pl.index(j);
            if r.obj(prof, &jp, PROFILE_KEYS).is_some() {
                instance_profiles.extend(r.string(prof, "Arn", &jp, true));
            }
        }
        if let Some(lu) = ro.get("RoleLastUsed") {
            r.obj(lu, &ip.key("RoleLastUsed"), LAST_USED_KEYS);
        }
        if let Some(trust) = trust {
            roles.push(Role {
                arn,
                name,
                path,
                trust,
                inline,
                attached,
                boundary,
                instance_profiles,
                tags,
            });
        }
    }
    if !r.errs.is_empty() {
        return Err(r.errs);
    }
    let id = users
        .iter()
        .map(|u| u.arn.as_str())
        .chain(roles.iter().map(|x| x.arn.as_str()))
        .chain(groups.iter().map(|g| g.arn.as_str()))
        .chain(
            policies
                .values()
                .filter(|p| p.is_customer())
                .map(|p| p.arn.as_str()),
        )
        .find_map(arn_account)
        .map(str::to_owned);
    let Some(id) = id else {
        return Err(vec![InputError::new(
            file,
            None,
            "cannot tell the account ID: the dump has no user, group, role or customer policy",
        )]);
    };
    Ok(Account {
        id,
        file: file.to_owned(),
        users,
        groups,
        roles,
        policies,
        sources: r.sources,
    })
}

/// `--resource-policies FILE`: `{ "ARN": policy document, ... }`.
pub(crate) fn load_resource_policies(path: &Path) -> Result<BTreeMap<String, Policy>, Errors> {
    let doc = read_json(path)?;
    let file = path.display().to_string();
    let mut r = Reader::new(&file);
    let mut out = BTreeMap::new();
    let Json::Obj(entries) = &doc else {
        return Err(vec![InputError::new(
            &file,
            None,
            format!(
                "expected an object mapping resource ARNs to policy documents, found {}",
                doc.type_name()
            ),
        )]);
    };
    for (arn, v) in entries {
        let p = JsonPath::root().key(arn);
        if !arn.starts_with("arn:") {
            r.err(&p, format!("`{arn}` is not an ARN"));
            continue;
        }
        if out.contains_key(arn) {
            r.err(&p, format!("resource `{arn}` listed twice"));
            continue;
        }
        let kind = if crate::scenario::is_role_arn(arn) {
            PolicyType::Trust
        } else {
            PolicyType::Resource
        };
        if let Some(pol) = r.document(Some(v), &p, kind, &format!("resource policy of {arn}")) {
            out.insert(arn.clone(), pol);
        }
    }
    if r.errs.is_empty() {
        Ok(out)
    } else {
        Err(r.errs)
    }
}

/// `--org FILE`; see docs/account-formats.md.
pub fn load_org(path: &Path, main_account: &str) -> Result<Org, Errors> {
    let doc = read_json(path)?;
    let file = path.display().to_string();
    let mut r = Reader::new(&file);
    let root = JsonPath::root();
    let mut org = Org::default();
    if r.obj(
        &doc,
        &root,
        &["management_account", "org_id", "levels", "accounts"],
    )
    .is_none()
    {
        return Err(r.errs);
    }
    org.management_account = r.string(&doc, "management_account", &root, false);
    org.org_id = r.string(&doc, "org_id", &root, false);
    let mut warns: Vec<String> = Vec::new();
    let mut levels = |r: &mut Reader,
                      v: Option<&Json>,
                      p: &JsonPath|
     -> (Vec<Vec<Policy>>, Vec<Vec<Policy>>) {
        let (mut scps, mut rcps) = (Vec::new(), Vec::new());
        for (i, lvl) in r.arr(v, p).iter().enumerate() {
            let lp = p.index(i);
            if r.obj(lvl, &lp, &["name", "scps", "rcps"]).is_none() {
                continue;
            }
            let name = r
                .string(lvl, "name", &lp, false)
                .unwrap_or_else(|| format!("level {i}"));
            for (key, kind, dst) in [
                ("scps", PolicyType::Scp, &mut scps),
                ("rcps", PolicyType::Rcp, &mut rcps),
            ] {
                let kp = lp.key(key);
                // no list at a level: the default FullAWSAccess / RCPFullAWSAccess, i.e. no
                // restriction (an explicit empty list is a level that allows nothing)
                if lvl.get(key).is_none() {
                    continue;
                }
                let mut pols = Vec::new();
                for (j, d) in r.arr(lvl.get(key), &kp).iter().enumerate() {
                    pols.extend(r.document(
                        Some(d),
                        &kp.index(j),
                        kind,
                        &format!("{} {j} at {name}", key.trim_end_matches('s').to_uppercase()),
                    ));
                }
                // a level of SCPs (or RCPs) with no Allow statement allows nothing: every
                // request of the accounts below is denied, and every `forbid` holds
                let allows = pols.iter().any(|p: &Policy| {
                    p.statements
                        .iter()
                        .any(|s| s.effect == crate::model::Effect::Allow)
                });
                if !allows {
                    warns.push(format!(
                            "{}: the {} of level `{name}` contain no Allow statement, so they allow nothing (add FullAWSAccess or an allow list); every request below this level is denied",
                            lp,
                            key.to_uppercase(),
                        ));
                }
                dst.push(pols);
            }
        }
        (scps, rcps)
    };
    if doc.get("levels").is_some() {
        let l = levels(&mut r, doc.get("levels"), &root.key("levels"));
        org.accounts.insert(main_account.to_owned(), l);
    }
    if let Some(accts) = doc.get("accounts") {
        let ap = root.key("accounts");
        match accts {
            Json::Obj(entries) => {
                for (acct, v) in entries {
                    let l = levels(&mut r, Some(v), &ap.key(acct));
                    org.accounts.insert(acct.clone(), l);
                }
            }
            other => r.err(
                &ap,
                format!(
                    "expected an object mapping account IDs to level lists, found {}",
                    other.type_name()
                ),
            ),
        }
    }
    org.warnings = warns;
    if r.errs.is_empty() {
        Ok(org)
    } else {
        Err(r.errs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_documents_and_default_versions() {
        let text = r#"{"UserDetailList":[],"GroupDetailList":[],"Policies":[
          {"PolicyName":"p","Arn":"arn:aws:iam::111122223333:policy/p","DefaultVersionId":"v2","PolicyVersionList":[
            {"VersionId":"v1","IsDefaultVersion":false,"Document":"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%7D"},
            {"VersionId":"v2","IsDefaultVersion":true,"Document":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}}]}],
          "RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111122223333:role/r","AttachedManagedPolicies":[{"PolicyName":"p","PolicyArn":"arn:aws:iam::111122223333:policy/p"}],
            "AssumeRolePolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"}]}"#;
        let a = account_from_json(&crate::json::parse(text).unwrap(), "t.json").unwrap();
        assert_eq!(a.id, "111122223333");
        let p = &a.policies["arn:aws:iam::111122223333:policy/p"];
        assert_eq!(p.versions.len(), 2);
        assert_eq!(p.versions[p.default].0, "v2");
        assert_eq!(a.roles[0].trust.kind, PolicyType::Trust);
    }

    #[test]
    fn missing_managed_policy_and_disagreeing_default_are_errors() {
        let text = r#"{"UserDetailList":[{"UserName":"u","Arn":"arn:aws:iam::1:user/u","AttachedManagedPolicies":[{"PolicyName":"x","PolicyArn":"arn:aws:iam::1:policy/x"}]}],
          "Policies":[{"PolicyName":"p","Arn":"arn:aws:iam::1:policy/p","DefaultVersionId":"v1","PolicyVersionList":[
            {"VersionId":"v1","IsDefaultVersion":false,"Document":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}},
            {"VersionId":"v2","IsDefaultVersion":true,"Document":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}}]}]}"#;
        let errs = account_from_json(&crate::json::parse(text).unwrap(), "t.json").unwrap_err();
        let paths: Vec<String> = errs.iter().filter_map(|e| e.path.clone()).collect();
        assert!(
            paths.contains(&"Policies[0].DefaultVersionId".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"UserDetailList[0].AttachedManagedPolicies[0].PolicyArn".to_string()),
            "{paths:?}"
        );
    }
}
