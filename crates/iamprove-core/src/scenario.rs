//! Scenario files: a request plus the policy sets that decide it (DESIGN.md "Scenario format").

use crate::json::{Json, JsonPath, KeyProblem};
use crate::model::{Policy, PolicyType};
use crate::parse::parse_policy;
use crate::request::{Context, CtxValue, Principal, Request};
use std::path::{Path, PathBuf};

pub use crate::errors::{locate, read_json, Errors, InputError};

/// Load one policy file.
pub fn load_policy_file(path: &Path, kind: Option<PolicyType>) -> Result<Policy, Errors> {
    let raw = read_json(path)?;
    let (doc, prefix) = crate::parse::unwrap_envelope(&raw);
    let kind = kind.unwrap_or_else(|| crate::parse::detect_type(doc));
    let file = path.display().to_string();
    parse_policy(doc, kind, &file).map_err(|e| locate(&file, &prefix, e))
}

/// The scenario type lives in the model (the evaluator takes it without depending on this
/// loader); it is re-exported here under its old path.
pub use crate::model::Scenario;

const SCENARIO_KEYS: &[&str] = &[
    "request",
    "identity_policies",
    "permissions_boundary",
    "session_policies",
    "scps",
    "rcps",
    "resource_policy",
    "vpc_endpoint_policy",
    "management_account",
];

/// Load a scenario file. `require_request`: `eval` needs one; `diff` does not.
pub fn load_scenario(path: &Path, require_request: bool) -> Result<Scenario, Errors> {
    let doc = read_json(path)?;
    let file = path.display().to_string();
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    scenario_from_json(&doc, &file, &base, require_request)
}

/// Is this JSON document a scenario (rather than a policy document)?
pub fn looks_like_scenario(doc: &Json) -> bool {
    match doc {
        Json::Obj(entries) => {
            !entries.is_empty()
                && entries
                    .iter()
                    .all(|(k, _)| SCENARIO_KEYS.contains(&k.as_str()))
                && doc.get("Statement").is_none()
        }
        _ => false,
    }
}

/// Read a scenario from a parsed JSON document; `file` labels errors and `base` resolves policy paths given as file names.
pub fn scenario_from_json(
    doc: &Json,
    file: &str,
    base: &Path,
    require_request: bool,
) -> Result<Scenario, Errors> {
    let mut errs: Errors = Vec::new();
    let root = JsonPath::root();
    let Json::Obj(entries) = doc else {
        return Err(vec![InputError::new(
            file,
            None,
            format!("expected a scenario object, found {}", doc.type_name()),
        )]);
    };
    for problem in crate::json::key_problems(entries, SCENARIO_KEYS) {
        // the raw layer keeps duplicates; a last-wins reading would silently drop policies
        let (k, msg) = match problem {
            KeyProblem::Unknown { key: k, .. } => (
                k,
                format!(
                    "unknown scenario key `{k}`; expected one of {}",
                    SCENARIO_KEYS.join(", ")
                ),
            ),
            KeyProblem::Duplicate(k) => (k, format!("duplicate key `{k}`")),
        };
        errs.push(InputError::new(file, Some(k.to_owned()), msg));
    }
    let mut sc = Scenario::empty();
    let load = |v: &Json, p: JsonPath, kind: PolicyType, errs: &mut Errors| -> Option<Policy> {
        match v {
            Json::Str(rel) => {
                let fp: PathBuf = base.join(rel);
                match load_policy_file(&fp, Some(kind)) {
                    Ok(pol) => Some(pol),
                    Err(e) => {
                        errs.extend(e);
                        None
                    }
                }
            }
            Json::Obj(_) => match parse_policy(v, kind, &format!("{file}#{p}")) {
                Ok(pol) => Some(pol),
                Err(e) => {
                    errs.extend(locate(file, &p, e));
                    None
                }
            },
            other => {
                errs.push(InputError::new(
                    file,
                    Some(p.to_string()),
                    format!(
                        "expected a policy document or a file path, found {}",
                        other.type_name()
                    ),
                ));
                None
            }
        }
    };
    let list = |key: &str, errs: &mut Errors| -> Vec<(JsonPath, Json)> {
        match doc.get(key) {
            None => Vec::new(),
            Some(Json::Arr(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (root.key(key).index(i), v.clone()))
                .collect(),
            Some(other) => {
                errs.push(InputError::new(
                    file,
                    Some(key.into()),
                    format!("expected an array, found {}", other.type_name()),
                ));
                Vec::new()
            }
        }
    };
    for (p, v) in list("identity_policies", &mut errs) {
        sc.identity_policies
            .extend(load(&v, p, PolicyType::Identity, &mut errs));
    }
    for (p, v) in list("session_policies", &mut errs) {
        sc.session_policies
            .extend(load(&v, p, PolicyType::Identity, &mut errs));
    }
    if let Some(v) = doc.get("permissions_boundary") {
        sc.permissions_boundary = load(
            v,
            root.key("permissions_boundary"),
            PolicyType::Identity,
            &mut errs,
        );
    }
    for (key, kind) in [("scps", PolicyType::Scp), ("rcps", PolicyType::Rcp)] {
        let mut levels = Vec::new();
        for (p, level) in list(key, &mut errs) {
            let mut pols = Vec::new();
            match &level {
                Json::Arr(items) => {
                    for (i, v) in items.iter().enumerate() {
                        pols.extend(load(v, p.index(i), kind, &mut errs));
                    }
                }
                // a single document at a level is accepted too
                other => pols.extend(load(other, p.clone(), kind, &mut errs)),
            }
            levels.push(pols);
        }
        if kind == PolicyType::Scp {
            sc.scps = levels;
        } else {
            sc.rcps = levels;
        }
    }
    if let Some(v) = doc.get("management_account") {
        match v {
            Json::Str(s) => sc.management_account = Some(s.clone()),
            other => errs.push(InputError::new(
                file,
                Some("management_account".into()),
                format!("expected an account ID string, found {}", other.type_name()),
            )),
        }
    }
    // The request decides whether the resource policy is a trust policy (resource is a role).
    let request = match doc.get("request") {
        Some(r) => match parse_request(r, file) {
            Ok(req) => Some(req),
            Err(e) => {
                errs.extend(e);
                None
            }
        },
        None => {
            if require_request {
                errs.push(InputError::new(
                    file,
                    Some("request".into()),
                    "missing `request`",
                ));
            }
            None
        }
    };
    if let Some(v) = doc.get("resource_policy") {
        // a role's resource policy is its trust policy for the sts: actions it governs; for
        // other actions on a role ARN (a finding of a resource-policy diff, say `iam:GetRole`)
        // it is an ordinary resource policy, so such findings replay
        let is_role = request
            .as_ref()
            .is_some_and(|r| crate::rules::role_sts(&r.action, &r.resource));
        let kind = if is_role {
            PolicyType::Trust
        } else {
            PolicyType::Resource
        };
        sc.resource_policy = load(v, root.key("resource_policy"), kind, &mut errs);
    }
    if let Some(v) = doc.get("vpc_endpoint_policy") {
        sc.vpc_endpoint_policy = load(
            v,
            root.key("vpc_endpoint_policy"),
            PolicyType::Resource,
            &mut errs,
        );
    }
    sc.request = request;
    if errs.is_empty() {
        Ok(sc)
    } else {
        Err(errs)
    }
}

pub use crate::rules::is_role_arn;

/// Parse the `request` object of a scenario (also the `request` of every finding).
pub fn parse_request(r: &Json, file: &str) -> Result<Request, Errors> {
    let here = |k: &str| Some(format!("request.{k}"));
    let Json::Obj(entries) = r else {
        return Err(vec![InputError::new(
            file,
            Some("request".into()),
            format!("expected an object, found {}", r.type_name()),
        )]);
    };
    let mut errs = Vec::new();
    const KEYS: &[&str] = &[
        "principal",
        "action",
        "resource",
        "resource_account",
        "context",
    ];
    for problem in crate::json::key_problems(entries, KEYS) {
        let (k, msg) = match problem {
            KeyProblem::Unknown { key: k, .. } => (
                k,
                format!(
                    "unknown request key `{k}`; expected one of {}",
                    KEYS.join(", ")
                ),
            ),
            KeyProblem::Duplicate(k) => (k, format!("duplicate key `{k}`")),
        };
        errs.push(InputError::new(file, here(k), msg));
    }
    let string = |k: &str, required: bool, errs: &mut Errors| -> Option<String> {
        match r.get(k) {
            Some(Json::Str(s)) => Some(s.clone()),
            Some(other) => {
                errs.push(InputError::new(
                    file,
                    here(k),
                    format!("expected a string, found {}", other.type_name()),
                ));
                None
            }
            None => {
                if required {
                    errs.push(InputError::new(file, here(k), format!("missing `{k}`")));
                }
                None
            }
        }
    };
    let principal_s = string("principal", true, &mut errs);
    let action = string("action", true, &mut errs);
    let resource = string("resource", true, &mut errs);
    let resource_account = string("resource_account", false, &mut errs);
    if let Some(a) = &action {
        if a != "*" && !a.contains(':') {
            errs.push(InputError::new(
                file,
                here("action"),
                format!("invalid action `{a}`: expected `service:Action`"),
            ));
        }
    }
    let principal = match principal_s.as_deref().map(Principal::parse) {
        Some(Ok(p)) => Some(p),
        Some(Err(m)) => {
            errs.push(InputError::new(file, here("principal"), m));
            None
        }
        None => None,
    };
    let mut context = Context::new();
    match r.get("context") {
        None => {}
        Some(Json::Obj(keys)) => {
            for (k, v) in keys {
                let lower = k.to_lowercase();
                if context.contains_key(&lower) {
                    errs.push(InputError::new(
                        file,
                        Some(format!("request.context.{k}")),
                        format!("context key `{k}` given twice (key names are case-insensitive)"),
                    ));
                    continue;
                }
                let scalar = |v: &Json| -> Option<String> {
                    match v {
                        Json::Str(s) => Some(s.clone()),
                        Json::Num(n) => Some(n.clone()),
                        Json::Bool(b) => Some(b.to_string()),
                        _ => None,
                    }
                };
                let value =
                    match v {
                        Json::Arr(items) => items
                            .iter()
                            .map(scalar)
                            .collect::<Option<Vec<_>>>()
                            .map(|vals| CtxValue {
                                key: k.clone(),
                                values: vals,
                                multi: true,
                            }),
                        other => scalar(other).map(|s| CtxValue {
                            key: k.clone(),
                            values: vec![s],
                            multi: false,
                        }),
                    };
                match value {
                    Some(cv) => {
                        context.insert(lower, cv);
                    }
                    None => errs.push(InputError::new(
                        file,
                        Some(format!("request.context.{k}")),
                        "expected a string, number, boolean or a list of them",
                    )),
                }
            }
        }
        Some(other) => errs.push(InputError::new(
            file,
            here("context"),
            format!("expected an object, found {}", other.type_name()),
        )),
    }
    match (principal, action, resource) {
        (Some(p), Some(a), Some(res)) if errs.is_empty() => Ok(Request::new(
            p,
            &a,
            &res,
            resource_account.as_deref(),
            context,
        )),
        _ => Err(errs),
    }
}
