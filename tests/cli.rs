//! The command-line contract: output formats, exit statuses, located error messages.

use crate::util::{iamprove, write};
use predicates::prelude::*;

const REQ: &str = r#""request":{"principal":"arn:aws:iam::111122223333:user/bob","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#;

fn scenario(rest: &str) -> String {
    format!("{{{REQ},{rest}}}")
}

const ALLOW_GET_DENY_PUT: &str = r#""identity_policies":[{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:Get*","Resource":"*"},{"Effect":"Deny","Action":"s3:Put*","Resource":"*"}]}]"#;

#[test]
fn eval_text_names_decision_and_deciding_statement() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "sc.json", &scenario(ALLOW_GET_DENY_PUT));
    iamprove()
        .arg("eval")
        .arg(&f)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("decision: Allow"))
        .stdout(predicate::str::contains(
            "Allow Statement[0] (Read) in identity policy",
        ))
        .stdout(
            predicate::str::contains("Statement[1]")
                .and(predicate::str::contains("action does not match")),
        );
}

#[test]
fn eval_json_has_decision_statements_and_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "sc.json", &scenario(ALLOW_GET_DENY_PUT));
    let out = iamprove()
        .arg("eval")
        .arg(&f)
        .args(["--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["decision"], "Allow");
    assert_eq!(v["statements"][0]["path"], "Statement[0]");
    assert_eq!(v["statements"][0]["sid"], "Read");
    assert_eq!(v["statements"][0]["set"], "identity");
    assert_eq!(v["not_applied"][0]["statement"], "Statement[1]");
}

#[test]
fn eval_exits_zero_for_every_decision() {
    let dir = tempfile::tempdir().unwrap();
    for (policies, want) in [
        (
            r#""identity_policies":[{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}]"#,
            "ExplicitDeny",
        ),
        (r#""identity_policies":[]"#, "ImplicitDeny"),
    ] {
        let f = write(dir.path(), "sc.json", &scenario(policies));
        let out = iamprove()
            .arg("eval")
            .arg(&f)
            .args(["--format", "json"])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["decision"], want);
    }
}

/// Run `eval` on a scenario text expected to be rejected: exit 2, no panic, message contains each of `needles`.
fn rejected(text: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "scenario.json", text);
    let out = iamprove()
        .arg("eval")
        .arg(&f)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout for bad input: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("scenario.json"),
        "message names the file: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in: {err}");
    }
}

#[test]
fn eval_bad_embedded_policy_names_its_json_path() {
    rejected(
        &scenario(
            r#""identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"allow","Action":"s3:*","Resource":"*"}]}]"#,
        ),
        &["identity_policies[0].Statement[1].Effect", "case-sensitive"],
    );
    rejected(
        &scenario(
            r#""scps":[[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}],[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"stringEquals":{"aws:x":"y"}}}}]]"#,
        ),
        &[
            "scps[1][0].Statement.Condition.stringEquals",
            "did you mean `StringEquals`",
        ],
    );
    rejected(
        &scenario(
            r#""resource_policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        ),
        &["resource_policy.Statement[0].Principal", "missing"],
    );
}

#[test]
fn eval_malformed_json_gives_line_and_column() {
    rejected(
        "{\"request\": {\"principal\": 1,\n \"action\": }}",
        &["line 2, column"],
    );
}

#[test]
fn eval_rejects_unknown_and_duplicate_keys() {
    rejected(
        &scenario(r#""identity_policy":[]"#),
        &["identity_policy", "unknown scenario key"],
    );
    rejected(
        &scenario(r#""identity_policies":[],"identity_policies":[]"#),
        &["identity_policies: duplicate key"],
    );
    rejected(
        r#"{"request":{"principal":"arn:aws:iam::111122223333:user/bob","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource":"arn:aws:s3:::c/k"}}"#,
        &["request.resource: duplicate key"],
    );
    rejected(
        &scenario(
            r#""identity_policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Action":"ec2:*"}}]"#,
        ),
        &["identity_policies[0].Statement.Action: duplicate key"],
    );
    rejected(
        r#"{"request":{"principal":"arn:aws:iam::111122223333:user/bob","action":"s3:GetObject"}}"#,
        &["request.resource", "missing"],
    );
}

#[test]
fn eval_missing_file_is_an_input_error() {
    let out = iamprove()
        .args(["eval", "/nonexistent/scenario.json"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/scenario.json") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn eval_policy_given_as_relative_path() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "deny.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}"#,
    );
    let f = write(
        dir.path(),
        "sc.json",
        &scenario(r#""identity_policies":["deny.json"]"#),
    );
    iamprove()
        .arg("eval")
        .arg(&f)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("decision: ExplicitDeny"));
    write(
        dir.path(),
        "deny.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3","Resource":"*"}}"#,
    );
    let out = iamprove()
        .arg("eval")
        .arg(&f)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("deny.json: Statement.Action: invalid action"),
        "{err}"
    );
}

#[test]
fn validate_exit_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
    );
    iamprove()
        .arg("validate")
        .arg(&good)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 error(s)"));

    let hazard = write(
        dir.path(),
        "hazard.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#,
    );
    iamprove()
        .arg("validate")
        .arg(&hazard)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("allow-not-action"));

    let invalid = write(
        dir.path(),
        "invalid.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/99"}}}]}"#,
    );
    iamprove()
        .arg("validate")
        .arg(&invalid)
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("Statement[0].Condition.IpAddress.aws:SourceIp")
                .and(predicate::str::contains("invalid.json")),
        );

    let malformed = write(
        dir.path(),
        "malformed.json",
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}",
    );
    let out = iamprove()
        .arg("validate")
        .arg(&malformed)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("line 4") && !text.contains("panicked"),
        "{text}"
    );

    // an input error wins over an invalid policy when both occur
    iamprove()
        .arg("validate")
        .arg(&invalid)
        .arg(&malformed)
        .assert()
        .code(2);
}

#[test]
fn validate_type_flag_and_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "trust.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}"#,
    );
    let out = iamprove()
        .arg("validate")
        .arg(&f)
        .args(["--type", "trust", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["findings"][0]["path"], "Statement.Resource");
    // the same document is a fine resource policy
    iamprove()
        .arg("validate")
        .arg(&f)
        .args(["--type", "resource"])
        .assert()
        .code(0);
}

#[test]
fn usage_errors_exit_two() {
    iamprove().assert().code(2);
    iamprove().args(["eval"]).assert().code(2);
    iamprove()
        .args(["validate", "x.json", "--type", "nonsense"])
        .assert()
        .code(2);
}

#[test]
fn quiet_eval_exit_status_is_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    let sc = |allow: bool| {
        serde_json::json!({
            "request": {"principal": "arn:aws:iam::111122223333:user/dev", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"},
            "identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": if allow {"Allow"} else {"Deny"}, "Action": "s3:GetObject", "Resource": "*"}]}]
        })
    };
    for (allow, code) in [(true, 0), (false, 1)] {
        let p = dir.path().join(format!("s{allow}.json"));
        std::fs::write(&p, sc(allow).to_string()).unwrap();
        let out = assert_cmd::Command::cargo_bin("iamprove")
            .unwrap()
            .args(["-q", "eval", p.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "allow={allow}");
        assert!(out.stdout.is_empty());
        // without -q, eval exits 0 whenever it decided
        let out = assert_cmd::Command::cargo_bin("iamprove")
            .unwrap()
            .args(["eval", p.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn quiet_does_not_blank_completions_or_man() {
    for args in [&["-q", "completions", "bash"][..], &["-q", "man"][..]] {
        let out = assert_cmd::Command::cargo_bin("iamprove")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(out.stdout.len() > 1000, "{args:?} printed nothing");
    }
}

#[test]
fn man_dir_writes_the_pages_it_refers_to() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("iamprove")
        .unwrap()
        .args(["man", "--dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    for page in [
        "iamprove.1",
        "iamprove-diff.1",
        "iamprove-check.1",
        "iamprove-eval.1",
    ] {
        assert!(dir.path().join(page).exists(), "{page} missing");
    }
}

#[test]
fn closed_pipe_is_not_an_input_error() {
    use std::process::{Command, Stdio};
    // `iamprove man | head -c 0`: the reader is gone before the first write (the unit tests of
    // style::PipeTolerant cover the writer itself); no input error (exit 2), no panic.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("iamprove"))
        .args(["man"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--version` names the Z3 library a query would load (or why none loads), like ripgrep names
/// its PCRE2; `-V` stays one line and loads nothing.
#[test]
fn long_version_names_the_solver_library() {
    let out = iamprove().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("iamprove "), "{text}");
    assert!(text.contains("AWS managed policies: "), "{text}");
    let z3 = text
        .lines()
        .find(|l| l.starts_with("Z3 "))
        .unwrap_or_default();
    assert!(
        z3.contains("loaded at run time") || z3.starts_with("Z3 not loaded: "),
        "{text}"
    );
    // a library that cannot be loaded is named as such, with the variable to set
    let out = iamprove()
        .arg("--version")
        .env("IAMPROVE_LIBZ3", "/nonexistent/libz3.so")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Z3 not loaded: ") && text.contains("IAMPROVE_LIBZ3"),
        "{text}"
    );
    iamprove()
        .arg("-V")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Z3").not());
}
