//! `iamprove validate`: grammar errors and hazard warnings.

use crate::model::{Effect, Policy, PolicyType};
use crate::scenario::{locate, read_json};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub path: String,
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
}

/// Hazards worth a warning in a valid policy.
pub fn hazards(p: &Policy, file: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut warn = |path: &str, code: &'static str, message: String| {
        out.push(Finding {
            file: file.to_owned(),
            path: path.to_owned(),
            severity: "warning",
            code,
            message,
        });
    };
    for s in &p.statements {
        let all_actions = !s.action.negated && s.action.patterns.iter().any(|a| a.lower == "*");
        let all_resources = s
            .resource
            .as_ref()
            .is_some_and(|r| !r.negated && r.patterns.iter().any(|t| t.is_star()));
        if s.effect == Effect::Allow && s.action.negated {
            warn(
                &format!("{}.NotAction", s.path),
                "allow-not-action",
                "Allow with NotAction grants every current and future action not listed".into(),
            );
        }
        if s.effect == Effect::Allow && all_actions && all_resources && s.conditions.is_empty() {
            warn(
                &s.path,
                "allow-all",
                "Allow `*` on `*` grants full administrator access".into(),
            );
        }
        if s.effect == Effect::Allow
            && all_actions
            && s.resource.as_ref().is_some_and(|r| r.negated)
        {
            warn(
                &format!("{}.NotResource", s.path),
                "allow-all-not-resource",
                "Allow `*` with NotResource lets the principal rewrite its own policies".into(),
            );
        }
        if let Some(pe) = &s.principal {
            if pe.negated {
                warn(&format!("{}.NotPrincipal", s.path), "not-principal", "NotPrincipal is error-prone (principals with a permissions boundary are always denied; sessions need account, role and session ARNs listed); prefer Principal \"*\" with an ArnNotEquals aws:PrincipalArn condition".into());
            } else if s.effect == Effect::Allow
                && p.kind == PolicyType::Resource
                && pe.entries.contains(&crate::model::PrincipalEntry::Any)
                && s.conditions.is_empty()
            {
                warn(&format!("{}.Principal", s.path), "public-principal", "wildcard principal without conditions: anyone, including anonymous callers, is allowed".into());
            }
        }
        if !p.vars_enabled() {
            let has_var = s.resource.as_ref().is_some_and(|r| r.patterns.iter().any(|t| t.raw.contains("${")))
                || s.conditions.iter().any(|c| matches!(&c.values, crate::model::CondValues::Str(v) if v.iter().any(|t| t.raw.contains("${"))));
            if has_var {
                warn(
                    &s.path,
                    "variables-literal",
                    "policy variables are literal text unless Version is \"2012-10-17\"".into(),
                );
            }
        }
        for a in &s.action.patterns {
            if a.raw.contains(char::is_whitespace) {
                warn(
                    &s.path,
                    "action-whitespace",
                    format!(
                        "action `{}` contains white space; it is matched as `{}`",
                        a.raw, a.lower
                    ),
                );
            }
            if let Some((svc, _)) = a.lower.split_once(':') {
                if svc.contains('*') || svc.contains('?') {
                    warn(&s.path, "service-wildcard", format!("wildcard in the service prefix of `{}` is not documented; it is matched as a glob over the whole action", a.raw));
                }
            }
        }
        if let Some(sid) = &s.sid {
            if p.kind == PolicyType::Identity && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                warn(
                    &format!("{}.Sid", s.path),
                    "sid-characters",
                    format!("IAM accepts only letters and digits in Sid `{sid}`"),
                );
            }
        }
    }
    // redundant statements: an identical statement earlier in the policy
    for (i, s) in p.statements.iter().enumerate() {
        let same = |t: &crate::model::Statement| {
            t.effect == s.effect
                && t.principal == s.principal
                && t.action == s.action
                && t.resource == s.resource
                && t.conditions == s.conditions
        };
        if let Some(prev) = p.statements[..i].iter().find(|t| same(t)) {
            warn(
                &s.path,
                "duplicate-statement",
                format!("repeats {} exactly", prev.path),
            );
        }
    }
    out
}

/// A warning when a document is larger than AWS accepts for its type (characters without
/// white space, as AWS counts them). Identity policies: 6,144 for a managed policy (a role's
/// inline policies may total 10,240, a group's 5,120, a user's 2,048: the file does not say
/// which kind it is, so the managed limit is named); SCPs and RCPs 5,120; resource policies
/// 20 KB (a bucket policy; other services accept less, a KMS key policy 32 KB).
pub fn aws_size_warning(
    doc: &crate::json::Json,
    kind: PolicyType,
    file: &str,
    path: &str,
) -> Option<Finding> {
    let n = doc.char_count();
    let (limit, what) = match kind {
        PolicyType::Identity => (
            6_144,
            "a managed policy (a role's inline policies may total 10,240)",
        ),
        PolicyType::Scp => (5_120, "a service control policy"),
        PolicyType::Rcp => (5_120, "a resource control policy"),
        PolicyType::Resource | PolicyType::Trust => (
            20_480,
            "a bucket policy (20 KB; a KMS key policy 32 KB, most others less)",
        ),
    };
    (n > limit).then(|| Finding {
        file: file.to_owned(),
        path: path.to_owned(),
        severity: "warning",
        code: "aws-size-limit",
        message: format!(
            "{n} characters (white space not counted): more than AWS accepts for {what}: {limit}"
        ),
    })
}

/// What `validate` found in a set of files: the findings in file order, and whether some file
/// could not be read as JSON (an input error, exit 2).
pub struct Report {
    pub findings: Vec<Finding>,
    pub input_error: bool,
}

impl Report {
    /// Number of findings of severity `error`.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == "error")
            .count()
    }
}

/// The `validate` command: grammar, hazards and catalog warnings of every file.
pub fn run(files: &[PathBuf], kind: Option<PolicyType>) -> Report {
    let mut findings = Vec::new();
    let mut input_error = false;
    for f in files {
        let file = f.display().to_string();
        let doc = match read_json(f) {
            Ok(d) => d,
            Err(errs) => {
                input_error = true;
                for e in errs {
                    findings.push(Finding {
                        file: file.clone(),
                        path: e.path.unwrap_or_default(),
                        severity: "error",
                        code: "json",
                        message: e.message,
                    });
                }
                continue;
            }
        };
        let (doc, prefix) = crate::parse::unwrap_envelope(&doc);
        let k = kind.unwrap_or_else(|| crate::parse::detect_type(doc));
        if let Some(message) = crate::parse::size_error(doc) {
            findings.push(Finding {
                file: file.clone(),
                path: prefix.to_string(),
                severity: "error",
                code: "size-limit",
                message,
            });
            continue;
        }
        if let Some(f) = aws_size_warning(doc, k, &file, &prefix.to_string()) {
            findings.push(f);
        }
        match crate::parse::parse_policy(doc, k, &file) {
            Ok(p) => {
                findings.extend(hazards(&p, &file));
                findings.extend(crate::catalog_lint::catalog_warnings(&p, &file));
            }
            Err(errs) => {
                for e in locate(&file, &prefix, errs) {
                    findings.push(Finding {
                        file: file.clone(),
                        path: e.path.unwrap_or_default(),
                        severity: "error",
                        code: "grammar",
                        message: e.message,
                    });
                }
            }
        }
    }
    Report {
        findings,
        input_error,
    }
}
