//! `--format sarif`: every SARIF log validates against the official SARIF 2.1.0 schema
//! (`tests/data/sarif-schema-2.1.0.json`), and results point at the line of the responsible
//! statement.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run iamprove from the repository root; returns (exit code, parsed stdout).
fn sarif(args: &[&str]) -> (i32, Value) {
    sarif_in(root(), args)
}

/// Run iamprove in `dir`, check the log against the schema.
fn sarif_in(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("iamprove")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_schema_valid(&v);
    (out.status.code().unwrap(), v)
}

/// The official schema, with formats checked. Its `language` pattern
/// (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`) (twice) has a stray `]` that ECMA-262 reads as a literal
/// but the `regex` format check of the draft-07 meta-schema rejects, so the validator could not be
/// built with formats on; that one character is dropped in memory (the file stays as published).
/// iamprove emits no `language`.
fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("tests/data/sarif-schema-2.1.0.json")).unwrap();
    let bad = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(bad).count(), 2);
    let schema: Value =
        serde_json::from_str(&text.replace(bad, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}?$""#))
            .unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_schema_valid(v: &Value) {
    let validator = validator();
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF output violates the schema:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(v).unwrap()
    );
}

fn run(v: &Value) -> &Value {
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"]
        .as_str()
        .unwrap()
        .contains("sarif-schema-2.1.0"));
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let d = &runs[0]["tool"]["driver"];
    assert_eq!(d["name"], "iamprove");
    assert_eq!(d["version"], env!("CARGO_PKG_VERSION"));
    &runs[0]
}

fn rule_ids(run: &Value) -> Vec<String> {
    run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn results<'a>(run: &'a Value, rule: &str) -> Vec<&'a Value> {
    run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == rule)
        .collect()
}

/// (uri, startLine, startColumn, fullyQualifiedName) of a location.
fn at(loc: &Value) -> (String, u64, u64, String) {
    let pl = &loc["physicalLocation"];
    (
        pl["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        pl["region"]["startLine"].as_u64().unwrap_or(0),
        pl["region"]["startColumn"].as_u64().unwrap_or(0),
        loc["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("`{needle}` not in {file}"))
}

#[test]
fn check_violation_points_at_the_pass_role_statement() {
    let (code, v) = sarif(&["check", "examples/check/escalation-spec.json"]);
    assert_eq!(code, 1, "exit status unchanged: violated");
    let run = run(&v);
    let ids = rule_ids(run);
    // one rule per invariant, holding ones included
    for id in [
        "IAMP-CHECK-no-pass-role",
        "IAMP-CHECK-no-policy-version-rewrite",
    ] {
        assert!(ids.contains(&id.to_owned()), "{ids:?}");
    }
    assert_eq!(
        run["results"].as_array().unwrap().len(),
        1,
        "only the violated invariant is a result"
    );
    let r = results(run, "IAMP-CHECK-no-pass-role")[0];
    assert_eq!(r["level"], "error");
    assert_eq!(
        ids[r["ruleIndex"].as_u64().unwrap() as usize],
        "IAMP-CHECK-no-pass-role"
    );
    let text = r["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("iam:PassRole")
            && text.contains("\"resource\":\"arn:aws:iam::111122223333:role/app-worker\""),
        "{text}"
    );
    assert_eq!(r["properties"]["request"]["action"], "iam:PassRole");
    let file = "examples/check/app-role-policy.json";
    let line = line_of(file, "\"Sid\": \"PassOwnRole\"");
    assert_eq!(line, 6);
    assert_eq!(
        at(&r["locations"][0]),
        (file.to_owned(), line, 5, "Statement[2]".to_owned())
    );
}

#[test]
fn check_that_holds_has_rules_and_no_results() {
    let (code, v) = sarif(&["check", "examples/check/spec.json"]);
    assert_eq!(code, 0);
    let run = run(&v);
    assert_eq!(rule_ids(run).len(), 4);
    assert!(run["results"].as_array().unwrap().is_empty());
}

#[test]
fn diff_findings_point_at_the_granting_statements() {
    let (code, v) = sarif(&[
        "diff",
        "examples/diff/old.json",
        "examples/diff/new.json",
        "--direction",
        "both",
    ]);
    assert_eq!(code, 1, "exit status unchanged: widened");
    let run = run(&v);
    assert_eq!(
        rule_ids(run),
        [
            "IAMP-DIFF-WIDENED",
            "IAMP-DIFF-NARROWED",
            "IAMP-DIFF-UNKNOWN"
        ]
    );
    let widened = results(run, "IAMP-DIFF-WIDENED");
    assert!(widened.len() >= 2, "{widened:?}");
    let file = "examples/diff/new.json";
    let mut seen = Vec::new();
    for r in &widened {
        assert_eq!(r["level"], "error");
        assert!(r["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Replayable request: {"));
        assert!(r["properties"]["request"]["action"].is_string());
        let (uri, line, col, fqn) = at(&r["locations"][0]);
        assert_eq!(uri, file);
        assert_eq!(col, 5);
        let action = r["properties"]["request"]["action"].as_str().unwrap();
        if action.starts_with("cloudwatch:") {
            // the Metrics statement lost its condition
            assert_eq!(
                (line, fqn.as_str()),
                (line_of(file, "\"Sid\": \"Metrics\""), "Statement[1]")
            );
        } else {
            assert_eq!(
                (line, fqn.as_str()),
                (line_of(file, "\"Sid\": \"ReadLogs\""), "Statement[0]")
            );
        }
        seen.push(fqn);
    }
    assert!(
        seen.contains(&"Statement[1]".to_owned()) && seen.contains(&"Statement[0]".to_owned()),
        "{seen:?}"
    );
    // narrowing: OLD's ReadLogs allowed s3:ListBucket on arn:aws:s3:::logs... NEW still does; any
    // narrowing finding points into old.json
    for r in results(run, "IAMP-DIFF-NARROWED") {
        assert_eq!(r["level"], "note");
        assert_eq!(at(&r["locations"][0]).0, "examples/diff/old.json");
    }
}

#[test]
fn diff_of_scenarios_locates_embedded_policies() {
    let dir = tempfile::tempdir().unwrap();
    let req = r#""request": {"principal": "arn:aws:iam::111122223333:user/bob", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#;
    let old = format!("{{{req},\n \"identity_policies\": [{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}}]}}]}}");
    let new = format!(
        "{{{req},\n \"identity_policies\": [\n  {{\"Version\": \"2012-10-17\", \"Statement\": [\n    {{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}},\n    {{\"Effect\": \"Allow\", \"Action\": \"s3:PutObject\", \"Resource\": \"*\"}}]}}]}}"
    );
    std::fs::write(dir.path().join("old.json"), old).unwrap();
    std::fs::write(dir.path().join("new.json"), new).unwrap();
    let (code, v) = sarif(&[
        "diff",
        dir.path().join("old.json").to_str().unwrap(),
        dir.path().join("new.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let run = run(&v);
    let r = results(run, "IAMP-DIFF-WIDENED")[0];
    let (uri, line, col, fqn) = at(&r["locations"][0]);
    // outside the current directory: an absolute file URI
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/new.json"),
        "{uri}"
    );
    assert_eq!(
        (line, col, fqn.as_str()),
        (5, 5, "identity_policies[0].Statement[1]")
    );
}

#[test]
fn validate_findings_point_at_the_element() {
    let (code, v) = sarif(&[
        "validate",
        "tests/data/sarif/hazards.json",
        "tests/data/sarif/grammar-error.json",
    ]);
    assert_eq!(code, 1, "exit status unchanged: invalid policy");
    let run = run(&v);
    let ids = rule_ids(run);
    for id in [
        "IAMP-VALIDATE-grammar",
        "IAMP-VALIDATE-allow-all",
        "IAMP-VALIDATE-allow-not-action",
        "IAMP-VALIDATE-json",
    ] {
        assert!(ids.contains(&id.to_owned()), "{ids:?}");
    }
    let hz = "tests/data/sarif/hazards.json";
    let all = results(run, "IAMP-VALIDATE-allow-all");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["level"], "warning");
    // the file is a policy-version envelope: the path in the file has the `Document` prefix
    assert_eq!(
        at(&all[0]["locations"][0]),
        (
            hz.to_owned(),
            line_of(hz, "\"Sid\": \"Admin\""),
            7,
            "Document.Statement[1]".to_owned()
        )
    );
    let na = results(run, "IAMP-VALIDATE-allow-not-action");
    assert_eq!(
        at(&na[0]["locations"][0]),
        (
            hz.to_owned(),
            line_of(hz, "\"NotAction\""),
            40,
            "Document.Statement[2].NotAction".to_owned()
        )
    );
    let ge = "tests/data/sarif/grammar-error.json";
    let g = results(run, "IAMP-VALIDATE-grammar");
    assert_eq!(g[0]["level"], "error");
    let (uri, line, _, fqn) = at(&g[0]["locations"][0]);
    assert_eq!(
        (uri.as_str(), line, fqn.as_str()),
        (
            ge,
            line_of(ge, "StringEqualz"),
            "Statement[0].Condition.StringEqualz"
        )
    );
}

#[test]
fn validate_syntax_error_keeps_its_position() {
    let (code, v) = sarif(&["validate", "tests/data/sarif/broken.json"]);
    assert_eq!(code, 2, "exit status unchanged: input error");
    let run = run(&v);
    let r = results(run, "IAMP-VALIDATE-json");
    assert_eq!(r.len(), 1);
    let (uri, line, col, _) = at(&r[0]["locations"][0]);
    assert_eq!(
        (uri.as_str(), line, col),
        ("tests/data/sarif/broken.json", 3, 17)
    );
}

#[test]
fn escalations_point_into_the_account_dump() {
    let (code, v) = sarif(&["escalations", "--account", "tests/data/account/chain.json"]);
    assert_eq!(code, 1, "exit status unchanged: escalations found");
    let run = run(&v);
    let ids = rule_ids(run);
    assert!(
        ids.contains(&"IAMP-ESC-iam:PutUserPolicy".to_owned()),
        "{ids:?}"
    );
    // carol may put a policy on herself: her inline policy's statement is responsible
    let r = results(run, "IAMP-ESC-iam:PutUserPolicy");
    let r = r
        .iter()
        .find(|r| r["properties"]["principal"] == "arn:aws:iam::111111111111:user/carol")
        .unwrap();
    let (uri, line, _, fqn) = at(&r["locations"][0]);
    assert_eq!(uri, "tests/data/account/chain.json");
    assert!(
        fqn.starts_with("UserDetailList[")
            && fqn.ends_with("].UserPolicyList[0].PolicyDocument.Statement[0]"),
        "{fqn}"
    );
    let text = std::fs::read_to_string(root().join("tests/data/account/chain.json")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // the statement starts on that line, and its Action (two lines on) is PutUserPolicy
    assert_eq!(lines[line as usize - 1].trim(), "{");
    assert!(
        lines[line as usize + 1].contains("\"Action\": \"iam:PutUserPolicy\""),
        "{}",
        lines[line as usize + 1]
    );
    // user carol's inline policy, not another user's
    assert!(lines[..line as usize]
        .iter()
        .rev()
        .find(|l| l.contains("\"UserName\""))
        .unwrap()
        .contains("carol"));
    // every result is located in the dump
    for r in run["results"].as_array().unwrap() {
        assert!(!r["locations"].as_array().unwrap().is_empty());
        for l in r["locations"].as_array().unwrap() {
            assert_eq!(at(l).0, "tests/data/account/chain.json");
        }
    }
}

#[test]
fn commands_without_sarif_printer_refuse_it() {
    let out = Command::cargo_bin("iamprove")
        .unwrap()
        .current_dir(root())
        .args([
            "eval",
            "examples/eval/cross-account.json",
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--format sarif is available for check, diff, validate and escalations"));
}

#[test]
fn the_schema_check_is_not_vacuous() {
    let validator = validator();
    let ok = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.json"}, "region": {"startLine": 1}}}]}]}]});
    assert!(validator.is_valid(&ok));
    let mut zero_line = ok.clone();
    zero_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!validator.is_valid(&zero_line), "startLine has minimum 1");
    let mut bad_level = ok.clone();
    bad_level["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad_level));
    let mut no_message = ok;
    no_message["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&no_message));
}

#[test]
fn check_without_deciding_statement_points_at_the_target_and_scp_grants_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    w("p.json", "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::a/*\"}]}");
    w("scp.json", "{\"Version\": \"2012-10-17\",\n \"Statement\": [\n   {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}");
    w(
        "require.json",
        r#"{"target": {"policy": "p.json"}, "invariants": [{"id": "can-put", "require": {"Action": "s3:PutObject", "Resource": "arn:aws:s3:::a/*"}}]}"#,
    );
    w(
        "scp-spec.json",
        r#"{"target": {"policy": "scp.json", "type": "scp"}, "invariants": [{"id": "no-iam", "forbid": {"Action": "iam:*"}}]}"#,
    );
    // an implicit deny: no statement decided it, so the target's Statement array is the location
    let (code, v) = sarif_in(dir.path(), &["check", "require.json"]);
    assert_eq!(code, 1);
    let r = results(run(&v), "IAMP-CHECK-can-put");
    assert_eq!(
        at(&r[0]["locations"][0]),
        ("p.json".to_owned(), 2, 15, "Statement".to_owned())
    );
    // an SCP target: the SCP's Allow is located, the synthetic allow-all identity policy is not
    let (code, v) = sarif_in(dir.path(), &["check", "scp-spec.json"]);
    assert_eq!(code, 1);
    let r = results(run(&v), "IAMP-CHECK-no-iam");
    let locs = r[0]["locations"].as_array().unwrap();
    assert_eq!(locs.len(), 1);
    assert_eq!(
        at(&locs[0]),
        ("scp.json".to_owned(), 3, 4, "Statement[0]".to_owned())
    );
}
