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
        "AWS::S3::BucketPolicy" | "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" => {
            vec![("PolicyDocument", Shape::Doc, Resource)]
        }
        "AWS::KMS::Key" | "AWS::KMS::ReplicaKey" => vec![("KeyPolicy", Shape::Doc, Resource)],
        "AWS::SecretsManager::ResourcePolicy" => vec![("ResourcePolicy", Shape::Doc, Resource)],
        "AWS::ECR::Repository" => vec![("RepositoryPolicyText", Shape::Doc, Resource)],
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
pub fn load(old: &Path, new: &Path) -> Result<Input, Errors> {
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
    )
}

/// The parts of a pair of parsed templates.
pub fn from_json<'a>(
    old: &'a Json,
    old_file: &str,
    new: &'a Json,
    new_file: &str,
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
            let side =
                |r: Option<&(&'a str, &'a Json, &'a str)>, t: &Template<'a>| -> Option<Side<'a>> {
                    r.filter(|r| r.2 == rtype).map(|r| Side {
                        id,
                        res: r.1,
                        file: t.file.clone(),
                        prop,
                        shape,
                    })
                };
            let (so, sn) = (side(ro, &to), side(rn, &tn));
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
            match props.get("Type").map(|t| resolve(t, &tat)) {
                Some(Ok(Json::Str(t))) if t == "SERVICE_CONTROL_POLICY" => {
                    kind = Some(PolicyType::Scp)
                }
                Some(Ok(Json::Str(t))) if t == "RESOURCE_CONTROL_POLICY" => {
                    kind = Some(PolicyType::Rcp)
                }
                Some(Err((p, f))) => return Ok((None, self.unknown(&p, &f))),
                // tag, backup, AI opt-out policies: not IAM
                _ => return Ok((None, State::Absent)),
            }
        }
        let at = self.at();
        let resolved = match resolve(raw, &at) {
            Ok(v) => v,
            Err((p, f)) => return Ok((kind, self.unknown(&p, &f))),
        };
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

/// Resolve the intrinsic functions whose value is a literal; otherwise name the first function
/// that cannot be resolved and where it is.
fn resolve(j: &Json, at: &JsonPath) -> Result<Json, (String, String)> {
    match j {
        Json::Obj(entries)
            if entries.len() == 1
                && (entries[0].0 == "Ref" || entries[0].0.starts_with("Fn::")) =>
        {
            let (f, v) = &entries[0];
            let here = at.key(f);
            match (f.as_str(), v) {
                ("Fn::Sub", Json::Str(s)) => {
                    if let Some(t) = literal_sub(s) {
                        return Ok(Json::Str(t));
                    }
                }
                ("Fn::Sub", Json::Arr(a)) if a.len() == 2 => {
                    if let Some(t) = a[0].as_str().and_then(literal_sub) {
                        return Ok(Json::Str(t));
                    }
                }
                ("Fn::Join", Json::Arr(a)) if a.len() == 2 => {
                    if let (Json::Str(delim), Json::Arr(items)) = (&a[0], &a[1]) {
                        let mut parts = Vec::new();
                        for (i, x) in items.iter().enumerate() {
                            match resolve(x, &here.index(1).index(i))? {
                                Json::Str(s) => parts.push(s),
                                _ => return Err((here.to_string(), f.clone())),
                            }
                        }
                        return Ok(Json::Str(parts.join(delim)));
                    }
                }
                _ => {}
            }
            Err((at.to_string(), f.clone()))
        }
        Json::Obj(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((k.clone(), resolve(v, &at.key(k))?));
            }
            Ok(Json::Obj(out))
        }
        Json::Arr(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                out.push(resolve(v, &at.index(i))?);
            }
            Ok(Json::Arr(out))
        }
        other => Ok(other.clone()),
    }
}

/// The value of an `Fn::Sub` string without variables (`${!x}` is the literal `${x}`).
fn literal_sub(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let lit = after.strip_prefix('!')?;
        out.push_str("${");
        rest = lit;
    }
    out.push_str(rest);
    Some(out)
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
    fn resolve_names_the_first_unresolvable_function() {
        let j = crate::json::parse(
            r#"{"Resource":[{"Fn::Join":["",["arn:aws:s3:::","b"]]},{"Fn::Sub":"x${Bucket}"}]}"#,
        )
        .unwrap();
        let e = resolve(&j, &JsonPath::root().key("P")).unwrap_err();
        assert_eq!(e, ("P.Resource[1]".to_owned(), "Fn::Sub".to_owned()));
        let j =
            crate::json::parse(r#"{"Resource":{"Fn::Join":["",["arn:aws:s3:::","b"]]}}"#).unwrap();
        assert_eq!(
            resolve(&j, &JsonPath::root())
                .unwrap()
                .get("Resource")
                .and_then(Json::as_str),
            Some("arn:aws:s3:::b")
        );
    }
}
