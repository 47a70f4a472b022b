//! Raw JSON → typed [`Policy`], with a JSON path on every error.
//!
//! The parser keeps going after an error so that `validate` can report every problem at once.

use crate::json::{Json, JsonPath, KeyProblem};
use crate::literal::{parse_date, Decimal, IpNet};
use crate::matching::Kind;
use crate::model::*;
use std::collections::HashSet;

pub use crate::errors::ParseError;

/// Parse a policy document of the given type. `name` labels the policy in reports.
/// The largest policy document iamprove reads, in characters without white space
/// ([`Json::char_count`]): 2 Mi. AWS accepts 6,144 for a customer managed policy and at most
/// 32 KB for any resource policy (a KMS key policy), but its own service-role managed policies
/// are exempt and reach 135,200 (`AWSSupportServiceRolePolicy`, 2026), and the scaling
/// benchmark's generated 5,000-statement policies have 1.2 M: the limit leaves room for both.
/// Beyond it no policy can be real, and a clear error is better than minutes of work (the
/// automata are linear in pattern length, so everything below it is merely slow).
pub(crate) const MAX_POLICY_CHARS: usize = 2_097_152;

/// The error for a document over `MAX_POLICY_CHARS`, if it is.
pub fn size_error(doc: &Json) -> Option<String> {
    let n = doc.char_count();
    (n > MAX_POLICY_CHARS).then(|| {
        format!(
            "policy document of {n} characters (white space not counted) is over iamprove's limit of {MAX_POLICY_CHARS}; AWS accepts far less: 6,144 for a managed policy, 10,240 for a role's inline policies, 20 KB for a bucket policy, 5,120 for an SCP"
        )
    })
}

/// Parse a policy document of the given type; `name` labels it in reports. Every problem is returned, each with its JSON path.
pub fn parse_policy(doc: &Json, kind: PolicyType, name: &str) -> Result<Policy, Vec<ParseError>> {
    if let Some(message) = size_error(doc) {
        return Err(vec![ParseError {
            path: JsonPath::root(),
            message,
        }]);
    }
    let mut p = Parser {
        errors: Vec::new(),
        kind,
        vars: false,
    };
    let policy = p.policy(doc, name);
    match policy {
        Some(pol) if p.errors.is_empty() => Ok(pol),
        _ => {
            if p.errors.is_empty() {
                p.err(&JsonPath::root(), "invalid policy document".into());
            }
            Err(p.errors)
        }
    }
}

/// Parse policy text (JSON syntax errors become a single error at the document root with position).
pub fn parse_policy_text(
    text: &str,
    kind: PolicyType,
    name: &str,
) -> Result<Policy, Vec<ParseError>> {
    match crate::json::parse(text) {
        Ok(doc) => parse_policy(&doc, kind, name),
        Err(e) => Err(vec![ParseError {
            path: JsonPath::root(),
            message: format!(
                "invalid JSON at line {}, column {}: {}",
                e.line, e.column, e.message
            ),
        }]),
    }
}

/// The policy document inside a policy-version envelope: `{"Document": {...}, "VersionId": ...}`
/// (as stored by policy archives) or `{"PolicyVersion": {"Document": ...}}` (as printed by
/// `aws iam get-policy-version`). Other documents are returned as they are.
pub fn unwrap_envelope(doc: &Json) -> (&Json, JsonPath) {
    if doc.get("Statement").is_none() {
        if let Some(pv) = doc.get("PolicyVersion") {
            if let Some(d) = pv.get("Document") {
                return (d, JsonPath::root().key("PolicyVersion").key("Document"));
            }
        }
        if let Some(d @ Json::Obj(_)) = doc.get("Document") {
            return (d, JsonPath::root().key("Document"));
        }
    }
    (doc, JsonPath::root())
}

/// Guess the type of a document: `resource` when any statement names a principal, else `identity`.
pub fn detect_type(doc: &Json) -> PolicyType {
    let has_principal = |s: &Json| s.get("Principal").is_some() || s.get("NotPrincipal").is_some();
    match doc.get("Statement") {
        Some(Json::Arr(items)) if items.iter().any(has_principal) => PolicyType::Resource,
        Some(s @ Json::Obj(_)) if has_principal(s) => PolicyType::Resource,
        _ => PolicyType::Identity,
    }
}

struct Parser {
    errors: Vec<ParseError>,
    kind: PolicyType,
    vars: bool,
}

type Entries<'a> = &'a [(String, Json)];

impl Parser {
    fn err(&mut self, path: &JsonPath, message: String) {
        self.errors.push(ParseError {
            path: path.clone(),
            message,
        });
    }

    /// Check an object's keys: each known at most once, none unknown.
    fn keys(&mut self, entries: Entries, path: &JsonPath, known: &[&str], what: &str) {
        for problem in crate::json::key_problems(entries, known) {
            let (k, msg) = match problem {
                KeyProblem::Unknown { key: k, hint: Some(c) } => (k, format!("unknown key `{k}` in {what} (element names are case-sensitive: did you mean `{c}`?)")),
                KeyProblem::Unknown { key: k, hint: None } => (k, format!("unknown key `{k}` in {what}; expected one of {}", known.join(", "))),
                KeyProblem::Duplicate(k) => (k, format!("duplicate key `{k}`")),
            };
            self.err(&path.key(k), msg);
        }
    }

    fn policy(&mut self, doc: &Json, name: &str) -> Option<Policy> {
        let root = JsonPath::root();
        let Json::Obj(entries) = doc else {
            self.err(
                &root,
                format!(
                    "expected a policy document (a JSON object), found {}",
                    doc.type_name()
                ),
            );
            return None;
        };
        self.keys(
            entries,
            &root,
            &["Version", "Id", "Statement"],
            "policy document",
        );
        let version = match doc.get("Version") {
            None => {
                if matches!(self.kind, PolicyType::Scp | PolicyType::Rcp) {
                    self.err(
                        &root.key("Version"),
                        format!(
                            "missing `Version`: required in {} policies",
                            self.kind.name().to_uppercase()
                        ),
                    );
                }
                None
            }
            Some(Json::Str(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(other) => {
                self.err(
                    &root.key("Version"),
                    format!(
                        "invalid Version {}: expected \"2012-10-17\" or \"2008-10-17\"",
                        show(other)
                    ),
                );
                None
            }
        };
        self.vars = version.as_deref() == Some("2012-10-17");
        let id = match doc.get("Id") {
            None => None,
            Some(Json::Str(s)) => Some(s.clone()),
            Some(other) => {
                self.err(
                    &root.key("Id"),
                    format!("expected a string, found {}", other.type_name()),
                );
                None
            }
        };
        let spath = root.key("Statement");
        let statements = match doc.get("Statement") {
            None => {
                self.err(&spath, "missing `Statement`".into());
                Vec::new()
            }
            Some(s @ Json::Obj(_)) => self.statement(s, 0, &spath).into_iter().collect(),
            Some(Json::Arr(items)) => {
                if items.is_empty() {
                    self.err(&spath, "`Statement` is an empty array".into());
                }
                let mut out = Vec::new();
                for (i, s) in items.iter().enumerate() {
                    if let Some(st) = self.statement(s, i, &spath.index(i)) {
                        out.push(st);
                    }
                }
                out
            }
            Some(other) => {
                self.err(
                    &spath,
                    format!(
                        "expected a statement object or an array of them, found {}",
                        other.type_name()
                    ),
                );
                Vec::new()
            }
        };
        let mut sids = HashSet::new();
        for s in &statements {
            if let Some(sid) = &s.sid {
                if !sids.insert(sid.clone()) {
                    self.err(
                        &JsonPath::root().key("Statement").index(s.index).key("Sid"),
                        format!("duplicate Sid `{sid}`"),
                    );
                }
            }
        }
        Some(Policy {
            name: name.to_owned(),
            kind: self.kind,
            version,
            id,
            statements,
        })
    }

    fn statement(&mut self, s: &Json, index: usize, path: &JsonPath) -> Option<Statement> {
        let Json::Obj(entries) = s else {
            self.err(
                path,
                format!("expected a statement object, found {}", s.type_name()),
            );
            return None;
        };
        const KEYS: &[&str] = &[
            "Sid",
            "Effect",
            "Principal",
            "NotPrincipal",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
        ];
        let before = self.errors.len();
        self.keys(entries, path, KEYS, "statement");
        let sid = match s.get("Sid") {
            None => None,
            Some(Json::Str(v)) => Some(v.clone()),
            Some(other) => {
                self.err(
                    &path.key("Sid"),
                    format!("expected a string, found {}", other.type_name()),
                );
                None
            }
        };
        let effect = match s.get("Effect") {
            Some(Json::Str(e)) if e == "Allow" => Some(Effect::Allow),
            Some(Json::Str(e)) if e == "Deny" => Some(Effect::Deny),
            Some(other) => {
                self.err(
                    &path.key("Effect"),
                    format!(
                        "invalid Effect {}: expected \"Allow\" or \"Deny\" (case-sensitive)",
                        show(other)
                    ),
                );
                None
            }
            None => {
                self.err(&path.key("Effect"), "missing `Effect`".into());
                None
            }
        };
        let principal = self.principal_elem(s, path, effect);
        let action = self.action_elem(s, path);
        let resource = self.resource_elem(s, path);
        let conditions = match s.get("Condition") {
            None => Vec::new(),
            Some(c) => self.conditions(c, &path.key("Condition")),
        };
        if self.kind == PolicyType::Rcp && effect == Some(Effect::Allow) && !is_full_access(s) {
            self.err(&path.key("Effect"), "RCP statements must be `Deny` (the only Allow is the AWS-managed RCPFullAWSAccess: Principal, Action and Resource `*`, no Condition)".into());
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Statement {
            index,
            path: path.to_string(),
            sid,
            effect: effect?,
            principal,
            action: action?,
            resource,
            conditions,
        })
    }

    fn principal_elem(
        &mut self,
        s: &Json,
        path: &JsonPath,
        effect: Option<Effect>,
    ) -> Option<PrincipalElem> {
        let (p, np) = (s.get("Principal"), s.get("NotPrincipal"));
        let kind = self.kind;
        if !kind.takes_principal() {
            for (name, v) in [("Principal", p), ("NotPrincipal", np)] {
                if v.is_some() {
                    self.err(
                        &path.key(name),
                        format!("`{name}` is not allowed in {} policies", kind.name()),
                    );
                }
            }
            return None;
        }
        match (p, np) {
            (Some(_), Some(_)) => {
                self.err(
                    &path.key("NotPrincipal"),
                    "a statement cannot have both `Principal` and `NotPrincipal`".into(),
                );
                None
            }
            (None, None) => {
                self.err(
                    &path.key("Principal"),
                    format!("missing `Principal`: required in {} policies", kind.name()),
                );
                None
            }
            (Some(v), None) => {
                let entries = self.principal_value(v, &path.key("Principal"))?;
                if kind == PolicyType::Rcp && entries != [PrincipalEntry::Any] {
                    self.err(
                        &path.key("Principal"),
                        "RCP statements must use `\"Principal\": \"*\"`".into(),
                    );
                }
                Some(PrincipalElem {
                    negated: false,
                    entries,
                })
            }
            (None, Some(v)) => {
                let npath = path.key("NotPrincipal");
                if kind != PolicyType::Resource {
                    self.err(
                        &npath,
                        format!("`NotPrincipal` is not allowed in {} policies", kind.name()),
                    );
                } else if effect == Some(Effect::Allow) {
                    self.err(
                        &npath,
                        "`NotPrincipal` is only supported with `\"Effect\": \"Deny\"`".into(),
                    );
                }
                let entries = self.principal_value(v, &npath)?;
                Some(PrincipalElem {
                    negated: true,
                    entries,
                })
            }
        }
    }

    fn principal_value(&mut self, v: &Json, path: &JsonPath) -> Option<Vec<PrincipalEntry>> {
        match v {
            Json::Str(s) if s == "*" => Some(vec![PrincipalEntry::Any]),
            Json::Str(s) => {
                self.err(path, format!("invalid principal `{s}`: a string principal must be \"*\"; use {{\"AWS\": ...}}, {{\"Service\": ...}} or {{\"Federated\": ...}}"));
                None
            }
            Json::Obj(entries) => {
                self.keys(
                    entries,
                    path,
                    &["AWS", "Service", "Federated", "CanonicalUser"],
                    "principal",
                );
                let mut out = Vec::new();
                for (k, val) in entries {
                    let kp = path.key(k);
                    let Some(items) = self.strings(val, &kp) else {
                        continue;
                    };
                    for (i, item) in items.iter().enumerate() {
                        let ip = if matches!(val, Json::Arr(_)) {
                            kp.index(i)
                        } else {
                            kp.clone()
                        };
                        if item.contains("${") {
                            self.err(&ip, format!("invalid principal `{item}`: policy variables are not allowed in principals"));
                            continue;
                        }
                        let entry = match k.as_str() {
                            "AWS" => self.aws_principal(item, &ip),
                            "Service" => Some(PrincipalEntry::Service(item.clone())),
                            "Federated" => Some(PrincipalEntry::Federated(item.clone())),
                            "CanonicalUser" => Some(PrincipalEntry::CanonicalUser(item.clone())),
                            _ => None,
                        };
                        out.extend(entry);
                    }
                }
                if out.is_empty() && !entries.is_empty() {
                    return None;
                }
                if entries.is_empty() {
                    self.err(path, "empty principal object".into());
                    return None;
                }
                Some(out)
            }
            other => {
                self.err(
                    path,
                    format!(
                        "expected \"*\" or a principal object, found {}",
                        other.type_name()
                    ),
                );
                None
            }
        }
    }

    fn aws_principal(&mut self, s: &str, path: &JsonPath) -> Option<PrincipalEntry> {
        if s == "*" {
            return Some(PrincipalEntry::Any);
        }
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Some(PrincipalEntry::Account {
                partition: "aws".into(),
                account: s.to_owned(),
            });
        }
        if s.starts_with("arn:") {
            if s.contains('*') || s.contains('?') {
                self.err(path, format!("invalid principal `{s}`: partial wildcards are not allowed in principals; use \"*\" with an `aws:PrincipalArn` condition"));
                return None;
            }
            let parts: Vec<&str> = s.splitn(6, ':').collect();
            if parts.len() != 6 || parts[1].is_empty() || !(parts[2] == "iam" || parts[2] == "sts")
            {
                self.err(
                    path,
                    format!("invalid principal ARN `{s}`: expected an IAM or STS ARN"),
                );
                return None;
            }
            if parts[2] == "iam" && parts[5] == "root" {
                return Some(PrincipalEntry::Account {
                    partition: parts[1].to_owned(),
                    account: parts[4].to_owned(),
                });
            }
            return Some(PrincipalEntry::Arn(s.to_owned()));
        }
        if s.len() >= 16
            && s.starts_with('A')
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Some(PrincipalEntry::UniqueId(s.to_owned()));
        }
        self.err(path, format!("invalid AWS principal `{s}`: expected \"*\", a 12-digit account ID or an IAM/STS ARN"));
        None
    }

    /// A string or a non-empty array of strings.
    fn strings(&mut self, v: &Json, path: &JsonPath) -> Option<Vec<String>> {
        match v {
            Json::Str(s) => Some(vec![s.clone()]),
            Json::Arr(items) => {
                if items.is_empty() {
                    self.err(path, "empty array: at least one value is required".into());
                    return None;
                }
                let mut out = Vec::new();
                let mut ok = true;
                for (i, it) in items.iter().enumerate() {
                    match it {
                        Json::Str(s) => out.push(s.clone()),
                        other => {
                            self.err(
                                &path.index(i),
                                format!("expected a string, found {}", other.type_name()),
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }
            other => {
                self.err(
                    path,
                    format!(
                        "expected a string or an array of strings, found {}",
                        other.type_name()
                    ),
                );
                None
            }
        }
    }

    fn action_elem(&mut self, s: &Json, path: &JsonPath) -> Option<ActionElem> {
        let (elem, negated) = match (s.get("Action"), s.get("NotAction")) {
            (Some(_), Some(_)) => {
                self.err(
                    &path.key("NotAction"),
                    "a statement cannot have both `Action` and `NotAction`".into(),
                );
                return None;
            }
            (None, None) => {
                self.err(
                    &path.key("Action"),
                    "missing `Action` (or `NotAction`)".into(),
                );
                return None;
            }
            (Some(a), None) => (a, false),
            (None, Some(a)) => (a, true),
        };
        let epath = path.key(if negated { "NotAction" } else { "Action" });
        let items = self.strings(elem, &epath)?;
        let mut patterns = Vec::new();
        let mut ok = true;
        for (i, raw) in items.iter().enumerate() {
            // (made only for an error: a path clones its segments, and policies such as
            // AWSSupportServiceRolePolicy list thousands of actions)
            let ip = || {
                if matches!(elem, Json::Arr(_)) {
                    epath.index(i)
                } else {
                    epath.clone()
                }
            };
            // IAM has stored actions with stray white space (`amplifybackend: *`, `x:Y `);
            // matching ignores it [UNV: we read it as absent; `validate` warns]
            let stripped: std::borrow::Cow<str> = if raw.chars().any(char::is_whitespace) {
                raw.chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .into()
            } else {
                raw.as_str().into()
            };
            let a: &str = &stripped;
            if a.contains("${") {
                self.err(
                    &ip(),
                    format!("invalid action `{a}`: policy variables are not allowed in actions"),
                );
                ok = false;
            } else if a != "*" && !valid_action(a) {
                self.err(&ip(), format!("invalid action `{a}`: expected `service:Action` (wildcards `*` and `?` allowed) or `*`"));
                ok = false;
            } else {
                let mut p = ActionPattern::new(a);
                p.raw = raw.clone();
                patterns.push(p);
            }
        }
        if self.kind == PolicyType::Rcp && negated {
            self.err(
                &epath,
                "`NotAction` is not allowed in RCP statements; use `Action`".into(),
            );
            ok = false;
        }
        let full_access_allow =
            is_full_access(s) && matches!(s.get("Effect"), Some(Json::Str(e)) if e == "Allow");
        if self.kind == PolicyType::Rcp
            && !negated
            && !full_access_allow
            && patterns.iter().any(|p| p.raw == "*")
        {
            self.err(&epath, "a bare `*` action is not allowed in customer RCP statements: list the services' actions (e.g. `s3:*`)".into());
            ok = false;
        }
        if self.kind == PolicyType::Trust && !negated {
            for p in &patterns {
                if !p.lower.starts_with("sts:") && p.lower != "*" {
                    self.err(&epath, format!("action `{}` is not valid in a trust policy: expected sts:AssumeRole, sts:AssumeRoleWithSAML, sts:AssumeRoleWithWebIdentity, sts:TagSession, sts:SetSourceIdentity or sts:SetContext", p.raw));
                    ok = false;
                }
            }
        }
        ok.then_some(ActionElem { negated, patterns })
    }

    fn resource_elem(&mut self, s: &Json, path: &JsonPath) -> Option<ResourceElem> {
        let (elem, negated) = match (s.get("Resource"), s.get("NotResource")) {
            (Some(_), Some(_)) => {
                self.err(
                    &path.key("NotResource"),
                    "a statement cannot have both `Resource` and `NotResource`".into(),
                );
                return None;
            }
            (None, None) => {
                if matches!(
                    self.kind,
                    PolicyType::Identity | PolicyType::Scp | PolicyType::Rcp
                ) {
                    self.err(
                        &path.key("Resource"),
                        format!(
                            "missing `Resource` (or `NotResource`): required in {} policies",
                            self.kind.name()
                        ),
                    );
                }
                return None;
            }
            (Some(r), None) => (r, false),
            (None, Some(r)) => (r, true),
        };
        let name = if negated { "NotResource" } else { "Resource" };
        let epath = path.key(name);
        if self.kind == PolicyType::Trust {
            self.err(
                &epath,
                format!(
                    "`{name}` is not allowed in trust policies (\"Has prohibited field {name}\")"
                ),
            );
            return None;
        }
        let items = self.strings(elem, &epath)?;
        let mut patterns = Vec::new();
        for (i, r) in items.iter().enumerate() {
            let ip = if matches!(elem, Json::Arr(_)) {
                epath.index(i)
            } else {
                epath.clone()
            };
            if self.vars {
                // `${iamprove:…}` stands for a value an IaC template leaves unresolved
                // (`iac::bounds::to_variables`), which may be any part of the ARN
                let user_var = r
                    .match_indices("${")
                    .map(|(i, _)| i)
                    .find(|&i| !r[i..].starts_with("${iamprove:"));
                // AWS documents variables after the fifth colon, but publishes them in the
                // account segment too (`arn:*:kms:*:${aws:PrincipalAccount}:key/*` in
                // AmazonTimestreamInfluxDBServiceRolePolicy): the account segment is accepted,
                // the value substituted literally as everywhere else
                if let Some(at) = user_var {
                    if r[..at].matches(':').count() < 4 {
                        self.err(&ip, format!("invalid resource `{r}`: policy variables are allowed only in the account segment of an ARN or in its resource part (after the fifth colon)"));
                        continue;
                    }
                }
            }
            if r != "*" && !r.starts_with("arn:") && !r.starts_with("${") {
                self.err(&ip, format!("invalid resource `{r}`: expected `*` or an ARN (`arn:partition:service:region:account:resource`)"));
                continue;
            }
            match template(r, Kind::Resource, self.vars) {
                Ok(t) => patterns.push(t),
                Err(m) => self.err(&ip, m),
            }
        }
        Some(ResourceElem { negated, patterns })
    }

    fn conditions(&mut self, c: &Json, path: &JsonPath) -> Vec<Condition> {
        let Json::Obj(ops) = c else {
            self.err(
                path,
                format!(
                    "expected an object of condition operators, found {}",
                    c.type_name()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen_ops = HashSet::new();
        for (op_name, body) in ops {
            let opath = path.key(op_name);
            if !seen_ops.insert(op_name.as_str()) {
                self.err(&opath, format!("duplicate condition operator `{op_name}`"));
                continue;
            }
            let Some(op) = self.operator(op_name, &opath) else {
                continue;
            };
            let Json::Obj(keys) = body else {
                self.err(
                    &opath,
                    format!(
                        "expected an object of condition keys, found {}",
                        body.type_name()
                    ),
                );
                continue;
            };
            if keys.is_empty() {
                self.err(&opath, "empty condition block".into());
            }
            let mut seen_keys: HashSet<String> = HashSet::new();
            for (key, vals) in keys {
                let kpath = opath.key(key);
                let lower = key.to_lowercase();
                if !seen_keys.insert(lower) {
                    self.err(&kpath, format!("duplicate condition key `{key}` under `{op_name}` (key names are case-insensitive)"));
                    continue;
                }
                if key.is_empty() {
                    self.err(&kpath, "empty condition key".into());
                    continue;
                }
                if key.contains("${") {
                    self.err(&kpath, format!("invalid condition key `{key}`: policy variables are not allowed in condition key names"));
                    continue;
                }
                if let Some(values) = self.cond_values(&op, vals, &kpath) {
                    out.push(Condition {
                        op: op.clone(),
                        key: key.to_lowercase(),
                        key_raw: key.clone(),
                        values,
                    });
                }
            }
        }
        out
    }

    fn operator(&mut self, raw: &str, path: &JsonPath) -> Option<Operator> {
        let (set, rest) = if let Some(r) = raw.strip_prefix("ForAllValues:") {
            (Some(SetOp::ForAllValues), r)
        } else if let Some(r) = raw.strip_prefix("ForAnyValue:") {
            (Some(SetOp::ForAnyValue), r)
        } else {
            (None, raw)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let Some(base) = BaseOp::from_name(base_name) else {
            let hint = BaseOp::ALL
                .iter()
                .find(|o| o.name().eq_ignore_ascii_case(base_name));
            let msg = match hint {
                Some(h) => format!("unknown condition operator `{raw}` (operator names are case-sensitive: did you mean `{}`?)", h.name()),
                None => format!("unknown condition operator `{raw}`"),
            };
            self.err(path, msg);
            return None;
        };
        if base == BaseOp::Null && (if_exists || set.is_some()) {
            self.err(path, format!("invalid condition operator `{raw}`: `Null` takes neither `IfExists` nor a set qualifier"));
            return None;
        }
        Some(Operator {
            raw: raw.to_owned(),
            set,
            base,
            if_exists,
        })
    }

    fn cond_values(&mut self, op: &Operator, v: &Json, path: &JsonPath) -> Option<CondValues> {
        // canonical string forms of each value, with their paths
        let items: Vec<(String, JsonPath)> = match v {
            Json::Arr(items) => {
                if items.is_empty() {
                    self.err(path, "empty array: at least one value is required".into());
                    return None;
                }
                let mut out = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    out.push((self.scalar(it, &path.index(i))?, path.index(i)));
                }
                out
            }
            other => vec![(self.scalar(other, path)?, path.clone())],
        };
        let fam = op.base.family();
        let mut bad = false;
        macro_rules! each {
            ($f:expr, $what:expr) => {{
                let mut out = Vec::new();
                for (s, p) in &items {
                    match $f(s.as_str()) {
                        Some(x) => out.push(x),
                        None => {
                            self.err(p, format!("invalid {} `{}` for `{}`", $what, s, op.raw));
                            bad = true;
                        }
                    }
                }
                out
            }};
        }
        let values = match fam {
            Family::String | Family::Arn => {
                let kind = op.base.string_match().map_or(Kind::Exact, Kind::from);
                let mut out = Vec::new();
                for (s, p) in &items {
                    match template(s, kind, self.vars) {
                        Ok(t) => out.push(t),
                        Err(m) => {
                            self.err(p, m);
                            bad = true;
                        }
                    }
                }
                CondValues::Str(out)
            }
            Family::Numeric => CondValues::Num(each!(Decimal::parse, "number")),
            Family::Date => CondValues::Date(each!(parse_date, "date")),
            Family::Bool => CondValues::Bool(each!(
                parse_bool,
                "boolean (expected \"true\" or \"false\")"
            )),
            Family::Null => CondValues::Null(each!(
                parse_bool,
                "Null value (expected \"true\" or \"false\")"
            )),
            Family::Ip => CondValues::Ip(each!(IpNet::parse, "IP address or CIDR")),
            Family::Binary => CondValues::Binary(each!(
                |s: &str| is_base64(s).then(|| s.to_owned()),
                "base64 value"
            )),
        };
        (!bad).then_some(values)
    }

    fn scalar(&mut self, v: &Json, path: &JsonPath) -> Option<String> {
        match v {
            Json::Str(s) => Some(s.clone()),
            Json::Num(n) => Some(n.clone()),
            Json::Bool(b) => Some(b.to_string()),
            other => {
                self.err(
                    path,
                    format!(
                        "expected a string, number or boolean, found {}",
                        other.type_name()
                    ),
                );
                None
            }
        }
    }
}

fn is_full_access(s: &Json) -> bool {
    let star = |k: &str| matches!(s.get(k), Some(Json::Str(v)) if v == "*");
    star("Principal") && star("Action") && star("Resource") && s.get("Condition").is_none()
}

fn valid_action(a: &str) -> bool {
    match a.split_once(':') {
        Some((svc, name)) => {
            !svc.is_empty()
                && !name.is_empty()
                && svc
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?')
                && !name.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn is_base64(s: &str) -> bool {
    let t = s.trim_end_matches('=');
    s.len() - t.len() <= 2
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

fn show(v: &Json) -> String {
    match v {
        Json::Str(s) => format!("\"{s}\""),
        other => other.type_name().to_owned(),
    }
}

/// Tokenise a pattern and, when it has no variables, compile it for its use. `kind`: where it
/// is used; `*`/`?` are wildcards when [`Kind::wildcards`] (else literal). `vars`: `${...}` is a
/// policy variable (Version 2012-10-17); otherwise it is literal text.
pub fn template(s: &str, kind: Kind, vars: bool) -> Result<Template, String> {
    let wildcards = kind.wildcards();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, pieces: &mut Vec<Piece>| {
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(lit)));
        }
    };
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if vars && rest.starts_with("${") {
            if let Some(end) = rest.find('}') {
                let inner = &rest[2..end];
                rest = &rest[end + 1..];
                match inner {
                    "*" | "?" | "$" => lit.push_str(inner),
                    _ => {
                        let (key, default) = match inner.split_once(',') {
                            Some((k, d)) => {
                                let d = d.trim();
                                let Some(d) =
                                    d.strip_prefix('\'').and_then(|d| d.strip_suffix('\''))
                                else {
                                    return Err(format!("invalid policy variable `${{{inner}}}`: a default value is written `${{key, 'default'}}`"));
                                };
                                (k.trim(), Some(d.to_owned()))
                            }
                            None => (inner.trim(), None),
                        };
                        if key.is_empty() || key.contains(char::is_whitespace) {
                            return Err(format!("invalid policy variable `${{{inner}}}`"));
                        }
                        flush(&mut lit, &mut pieces);
                        pieces.push(Piece::Var {
                            key: key.to_lowercase(),
                            default,
                        });
                    }
                }
                continue;
            }
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '*' if wildcards => {
                flush(&mut lit, &mut pieces);
                pieces.push(Piece::Star);
            }
            '?' if wildcards => {
                flush(&mut lit, &mut pieces);
                pieces.push(Piece::Quest);
            }
            _ => lit.push(c),
        }
    }
    flush(&mut lit, &mut pieces);
    let mut t = Template {
        raw: s.to_owned(),
        pieces,
        toks: Vec::new(),
        compiled: None,
    };
    if !t.has_vars() {
        t.toks = t.resolve(&|_| None).unwrap_or_default();
        t.compiled = Some(crate::matching::compile_kind(&t.toks, kind));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, kind: PolicyType) -> Result<Policy, Vec<ParseError>> {
        parse_policy_text(text, kind, "test")
    }

    fn first_err(text: &str, kind: PolicyType) -> String {
        parse(text, kind).unwrap_err()[0].to_string()
    }

    #[test]
    fn statement_object_or_array() {
        let p = parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#, PolicyType::Identity).unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.statements[0].path, "Statement");
    }

    #[test]
    fn located_errors() {
        // an action's error names its place in an array, or the element itself
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3 GetObject","${aws:username}"],"Resource":"*"}]}"#,
            PolicyType::Identity,
        );
        assert!(
            e.starts_with("Statement[0].Action[1]: invalid action `s3GetObject`"),
            "{e}"
        );
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"x:${aws:username}","Resource":"*"}]}"#,
            PolicyType::Identity,
        );
        assert!(
            e.starts_with(
                "Statement[0].Action: invalid action `x:${aws:username}`: policy variables"
            ),
            "{e}"
        );
        // stray white space is read as absent (IAM stored `amplifybackend: *`)
        let p = parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["amplifybackend: *","s3:GetObject "],"Resource":"*"}}"#,
            PolicyType::Identity,
        )
        .unwrap();
        let lower: Vec<&str> = p.statements[0]
            .action
            .patterns
            .iter()
            .map(|a| a.lower.as_str())
            .collect();
        assert_eq!(lower, ["amplifybackend:*", "s3:getobject"]);
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#,
            PolicyType::Identity,
        );
        assert!(
            e.starts_with("Statement[1].Condition.StringEqualz: unknown condition operator"),
            "{e}"
        );
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}"#,
            PolicyType::Identity,
        );
        assert!(e.starts_with("Statement[0].Effect: invalid Effect"), "{e}");
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","10.0.0.0/99"]}}}]}"#,
            PolicyType::Identity,
        );
        assert!(
            e.starts_with("Statement[0].Condition.IpAddress.aws:SourceIp[1]: invalid IP"),
            "{e}"
        );
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}]}"#,
            PolicyType::Identity,
        );
        assert!(e.contains("both `Action` and `NotAction`"), "{e}");
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Effect":"Deny"}]}"#,
            PolicyType::Identity,
        );
        assert!(e.contains("duplicate key `Effect`"), "{e}");
        let e = first_err(
            r#"{"Version":"2012-10-17","statement":[]}"#,
            PolicyType::Identity,
        );
        assert!(e.contains("did you mean `Statement`"), "{e}");
        let e = first_err(
            "{\n\"Version\": \"2012-10-17\",\n\"Statement\": [\n}",
            PolicyType::Identity,
        );
        assert!(e.contains("line 4"), "{e}");
    }

    #[test]
    fn principals() {
        let p = parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::210987654321:root","arn:aws:iam::123456789012:role/x","AROAEXAMPLEEXAMPLE12"],"Service":"ecs.amazonaws.com"},"Action":"s3:*","Resource":"*"}}"#, PolicyType::Resource).unwrap();
        let e = &p.statements[0].principal.as_ref().unwrap().entries;
        assert_eq!(e.len(), 5);
        assert!(
            matches!(&e[1], PrincipalEntry::Account { account, .. } if account == "210987654321")
        );
        assert!(matches!(&e[3], PrincipalEntry::UniqueId(_)));
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:role/x"},"Action":"s3:*","Resource":"*"}}"#,
            PolicyType::Resource,
        );
        assert!(e.contains("partial wildcards"), "{e}");
        let e = first_err(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
            PolicyType::Identity,
        );
        assert!(e.contains("not allowed in identity"), "{e}");
    }

    #[test]
    fn variables_in_the_account_segment_are_accepted() {
        // AmazonTimestreamInfluxDBServiceRolePolicy (v2) names keys this way
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:*:kms:*:${aws:PrincipalAccount}:key/*"}]}"#;
        assert!(parse(ok, PolicyType::Identity).is_ok());
        let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:${aws:RequestedRegion}:1:key/*"}]}"#;
        assert!(first_err(bad, PolicyType::Identity).contains("after the fifth colon"));
        // unresolved template values (`iac::bounds::to_variables`) may stand anywhere
        let iac = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"${iamprove:cfn/GetAtt/Queue.Arn}"}]}"#;
        assert!(parse(iac, PolicyType::Identity).is_ok());
    }

    #[test]
    fn templates_and_variables() {
        let t = template(
            "arn:aws:s3:::home/${aws:username}/*${*}${?}${$}",
            Kind::Resource,
            true,
        )
        .unwrap();
        assert!(t.toks.is_empty());
        assert_eq!(
            t.pieces,
            vec![
                Piece::Lit("arn:aws:s3:::home/".into()),
                Piece::Var {
                    key: "aws:username".into(),
                    default: None
                },
                Piece::Lit("/".into()),
                Piece::Star,
                Piece::Lit("*?$".into()),
            ]
        );
        let t = template(
            "team-${aws:PrincipalTag/team, 'company-wide'}",
            Kind::Exact,
            true,
        )
        .unwrap();
        assert_eq!(
            t.pieces[1],
            Piece::Var {
                key: "aws:principaltag/team".into(),
                default: Some("company-wide".into())
            }
        );
        let t = template("${aws:username}", Kind::Like, false).unwrap();
        assert_eq!(t.pieces, vec![Piece::Lit("${aws:username}".into())]);
    }

    #[test]
    fn condition_values_typed() {
        let p = parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":10},"ForAnyValue:StringLikeIfExists":{"AWS:TagKeys":["a*"]},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"Bool":{"aws:SecureTransport":true}}}}"#, PolicyType::Identity).unwrap();
        let c = &p.statements[0].conditions;
        assert_eq!(c.len(), 4);
        assert_eq!(c[1].key, "aws:tagkeys");
        assert_eq!(c[1].op.set, Some(SetOp::ForAnyValue));
        assert!(c[1].op.if_exists);
        assert_eq!(c[3].values, CondValues::Bool(vec![true]));
    }
}
