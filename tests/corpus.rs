//! Real policies from `shared/corpora/`: the parser accepts what AWS accepts, and rejects bad input
//! with a located message.

use crate::util::{json_files, managed_dir, shared};
use iamprove::model::PolicyType;
use iamprove::parse::parse_policy_text;

#[test]
fn every_aws_managed_policy_parses_as_an_identity_policy() {
    let files = json_files(&managed_dir());
    assert!(
        files.len() >= 1500,
        "expected the full managed-policy corpus, found {} files",
        files.len()
    );
    let mut failures = Vec::new();
    let mut statements = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        match parse_policy_text(&text, PolicyType::Identity, &f.display().to_string()) {
            Ok(p) => {
                assert!(!p.statements.is_empty(), "{}: no statements", f.display());
                statements += p.statements.len();
            }
            Err(errs) => failures.push(format!(
                "{}: {}",
                f.display(),
                errs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} managed policies failed to parse:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert!(
        statements > 5000,
        "suspiciously few statements: {statements}"
    );
}

/// The policy types a file's folder suggests, most likely first.
fn plausible_types(rel: &str) -> Vec<PolicyType> {
    let r = rel.to_lowercase();
    if r.contains("vpc_endpoint") {
        vec![PolicyType::Resource]
    } else if r.contains("resource_control") || r.contains("resourcecontrol") || r.contains("rcp") {
        vec![PolicyType::Rcp, PolicyType::Resource]
    } else {
        vec![PolicyType::Scp, PolicyType::Identity, PolicyType::Resource]
    }
}

/// A message is located when it names a JSON path (`Statement[0].Effect: ...`) or a line and column.
fn located(msg: &str) -> bool {
    (msg.contains("line ") && msg.contains("column "))
        || msg.starts_with("Statement")
        || msg.starts_with("Version")
        || msg.starts_with("Id")
}

#[test]
fn org_policies_parse_or_are_rejected_with_a_location() {
    let dir = shared().join("corpora/org-policies");
    let files = json_files(&dir);
    assert!(
        files.len() >= 100,
        "expected the org-policy corpus, found {} files",
        files.len()
    );
    let (mut parsed, mut rejected) = (0, Vec::new());
    for f in &files {
        let rel = f.strip_prefix(&dir).unwrap().display().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        let mut first_errors = None;
        let mut ok = false;
        for kind in plausible_types(&rel) {
            match parse_policy_text(&text, kind, &rel) {
                Ok(_) => {
                    ok = true;
                    break;
                }
                Err(errs) => {
                    assert!(!errs.is_empty(), "{rel}: rejected without a message");
                    first_errors.get_or_insert(errs);
                }
            }
        }
        if ok {
            parsed += 1;
            continue;
        }
        let errs = first_errors.unwrap_or_default();
        for e in &errs {
            let msg = e.to_string();
            assert!(
                located(&msg),
                "{rel}: error without a JSON path or position: {msg}"
            );
        }
        // Upstream samples are valid apart from `<placeholders>` and `${Region}`-style template slots; the one invalid-JSON file is known.
        assert!(
            errs.iter().any(|e| e.message.contains('<')
                || e.message.contains("${")
                || e.message.contains("invalid JSON")),
            "{rel}: rejected for something other than a placeholder: {}",
            errs[0]
        );
        rejected.push(format!("{rel}: {}", errs[0]));
    }
    // The corpus is mostly valid; the known-bad file (a missing comma upstream) must be among the rejects.
    assert!(
        parsed * 10 >= files.len() * 8,
        "only {parsed} of {} org policies parsed; rejected:\n{}",
        files.len(),
        rejected.join("\n")
    );
    assert!(
        rejected.iter().any(
            |r| r.contains("deny-service-specific-credential-by-type.json") && r.contains("line ")
        ),
        "the upstream-invalid JSON file must be rejected with a line and column; rejected:\n{}",
        rejected.join("\n")
    );
    eprintln!(
        "org policies: {parsed} parsed, {} rejected:\n{}",
        rejected.len(),
        rejected.join("\n")
    );
}
