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
use std::path::Path;

/// Where a resource type keeps its policies.
#[derive(Debug, Clone, Copy)]
enum Attr {
    /// One policy as a JSON string.
    Policy(&'static str, Kind),
    /// A list of `{name, policy}` blocks (a role's `inline_policy`): one set of identity policies.
    Inline(&'static str),
    /// `aws_organizations_policy`: `content`, an SCP or RCP by `type`.
    OrgContent,
}

fn attrs(mode: &str, rtype: &str) -> Vec<Attr> {
    use Attr::{Inline, OrgContent, Policy};
    use Kind::{Detect, Fixed};
    match (mode, rtype) {
        ("data", "aws_iam_policy_document") => vec![Policy("json", Detect)],
        ("data", _) => Vec::new(),
        (
            _,
            "aws_iam_policy"
            | "aws_iam_role_policy"
            | "aws_iam_user_policy"
            | "aws_iam_group_policy",
        ) => {
            vec![Policy("policy", Fixed(PolicyType::Identity))]
        }
        (_, "aws_iam_role") => vec![
            Policy("assume_role_policy", Fixed(PolicyType::Trust)),
            Inline("inline_policy"),
        ],
        (
            _,
            "aws_s3_bucket_policy"
            | "aws_sqs_queue_policy"
            | "aws_sns_topic_policy"
            | "aws_kms_key"
            | "aws_secretsmanager_secret_policy"
            | "aws_ecr_repository_policy",
        ) => vec![Policy("policy", Fixed(PolicyType::Resource))],
        (_, "aws_organizations_policy") => vec![OrgContent],
        _ => Vec::new(),
    }
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
    for (i, rc) in changes.iter().enumerate() {
        let at = root.index(i);
        match resource_change(rc, &at, file) {
            Ok((parts, note)) => {
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
    if attrs.is_empty() {
        return Ok((Vec::new(), None));
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
    for attr in attrs {
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
            });
        };
        match attr {
            Attr::Policy(name, kind) => {
                let b = sides.state("before", name, false)?;
                let a = sides.state("after", name, false)?;
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
