//! Issue 13: start-up without Z3, input size limits, long strings. Every test asserts
//! behaviour (verdicts, exit codes, messages), never time.

use crate::util::{iamprove, write};
use iamprove::query::{allowed, Frame, Prepared, QueryOptions, Side, Solved};
use iamprove::symbolic::term::{and, not};
use predicates::prelude::*;

fn identity(text: &str) -> Side {
    let p = iamprove::parse::parse_policy_text(text, iamprove::model::PolicyType::Identity, "t")
        .unwrap();
    Side::Identity(vec![p])
}

fn policy(action: &str, resource: &str) -> String {
    serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":action,"Resource":resource}]}).to_string()
}

/// "Does `gain` allow what `base` does not?", prepared and solved in-process.
fn widening(base: &Side, gain: &Side) -> (Solved, bool) {
    let frame = Frame::of(&[base, gain]);
    let mut stmts = base.statements();
    stmts.extend(gain.statements());
    let mut p = Prepared::new(frame, &stmts, &QueryOptions::default(), Vec::new(), |enc| {
        let b = allowed(enc, base);
        let g = allowed(enc, gain);
        and([g, not(b)])
    })
    .unwrap();
    let confirm = |r: &iamprove::request::Request| {
        !iamprove::query::allows(base, r) && iamprove::query::allows(gain, r)
    };
    let solved = p.solve(&confirm);
    (solved, p.session.uses_z3())
}

#[test]
fn small_diffs_are_decided_without_creating_z3() {
    let get = identity(&policy("s3:GetObject", "arn:aws:s3:::b/*"));
    let put = identity(&policy("s3:PutObject", "arn:aws:s3:::b/*"));
    let (found, z3) = widening(&get, &put);
    assert!(matches!(found, Solved::Found { .. }));
    assert!(!z3, "a two-statement diff needs no Z3 context");
    let (none, z3) = widening(&get, &get);
    assert!(matches!(none, Solved::None));
    assert!(!z3);
}

#[test]
fn numeric_conditions_still_go_to_z3() {
    let base = identity(&policy("s3:GetObject", "*"));
    let gain = identity(
        &serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
            "Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}]})
        .to_string(),
    );
    // gain ⊆ base: a proof, by Z3 (numbers are not in the built-in search's fragment)
    let (none, z3) = widening(&base, &gain);
    assert!(matches!(none, Solved::None));
    assert!(z3);
}

/// Z3 is loaded when a query first needs it: without it, what the built-in search decides is
/// still decided, and a query that needs Z3 is `unknown` with the reason, never a verdict.
#[test]
fn without_z3_only_the_queries_that_need_it_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let get = write(dir.path(), "get.json", &policy("s3:GetObject", "*"));
    let put = write(dir.path(), "put.json", &policy("s3:PutObject", "*"));
    let numeric = write(
        dir.path(),
        "numeric.json",
        &serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
            "Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}]})
        .to_string(),
    );
    let missing = dir.path().join("no-such-libz3.so");
    let diff = |old: &std::path::Path, new: &std::path::Path| {
        let mut c = iamprove();
        c.env("IAMPROVE_LIBZ3", &missing)
            .args(["diff", "--format", "json"])
            .arg(old)
            .arg(new);
        c
    };
    diff(&get, &put)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"widened\""));
    diff(&get, &get)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"no_widening\""));
    // needs Z3 (numbers): unknown, naming the library and the variable, not a pass
    diff(&get, &numeric)
        .assert()
        .code(3)
        .stdout(predicate::str::contains("\"unknown\""))
        .stdout(predicate::str::contains("no-such-libz3.so"))
        .stdout(predicate::str::contains("IAMPROVE_LIBZ3"))
        // (a second query without the well-formed restriction would give up the same way)
        .stdout(predicate::str::contains("asked again").not());
    // the text headline says why, not "within the limits"
    iamprove()
        .env("IAMPROVE_LIBZ3", &missing)
        .arg("diff")
        .arg(&get)
        .arg(&numeric)
        .assert()
        .code(3)
        .stdout(predicate::str::contains(
            "unknown: no answer: this needs the SMT solver Z3, which could not be loaded",
        ))
        .stdout(predicate::str::contains("within the limits").not());
    // and with Z3 the same query is a proof
    iamprove()
        .args(["diff", "--format", "json"])
        .arg(&get)
        .arg(&numeric)
        .assert()
        .code(0);
}

#[test]
fn oversized_policy_is_an_input_error_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let small = write(dir.path(), "small.json", &policy("s3:GetObject", "*"));
    let huge = write(
        dir.path(),
        "huge.json",
        &policy(
            "s3:GetObject",
            &format!("arn:aws:s3:::b/{}", "a".repeat(2_100_000)),
        ),
    );
    iamprove()
        .args(["diff"])
        .arg(&small)
        .arg(&huge)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("huge.json"))
        .stderr(predicate::str::contains("over iamprove's limit of 2097152"))
        .stderr(predicate::str::contains("6,144 for a managed policy"));
}

#[test]
fn validate_of_a_10_mb_action_list_is_a_size_error() {
    let dir = tempfile::tempdir().unwrap();
    let actions: Vec<String> = (0..400_000).map(|i| format!("s3:Get{i:019}")).collect();
    let text = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":actions,"Resource":"*"}]}).to_string();
    assert!(text.len() > 10_000_000);
    let big = write(dir.path(), "big.json", &text);
    let out = iamprove()
        .args(["validate", "--format", "json"])
        .arg(&big)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["findings"][0]["code"], "size-limit");
    assert!(v["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("limit of 2097152"));
}

#[test]
fn validate_warns_above_the_aws_limit_for_the_type() {
    let dir = tempfile::tempdir().unwrap();
    let actions: Vec<String> = (0..400).map(|i| format!("s3:GetObject{i:04}")).collect();
    let text = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":actions,"Resource":"*"}]}).to_string();
    let f = write(dir.path(), "p.json", &text);
    iamprove()
        .args(["validate", "--type", "identity"])
        .arg(&f)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "more than AWS accepts for a managed policy",
        ))
        .stdout(predicate::str::contains("[aws-size-limit]"));
    iamprove()
        .args(["validate", "--type", "scp"])
        .arg(&f)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("service control policy: 5120"));
    let small = write(dir.path(), "s.json", &policy("s3:GetObject", "*"));
    iamprove()
        .args(["validate"])
        .arg(&small)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("aws-size-limit").not());
}

#[test]
fn long_resource_strings_below_the_limit_are_decided() {
    // 100,000 characters: quadratic automata took 2.5 GB and 14 s for this
    let long = format!("arn:aws:s3:::b/{}*", "ab".repeat(50_000));
    let base = identity(&policy("s3:GetObject", "arn:aws:s3:::b/*"));
    let gain = identity(&policy("s3:GetObject", &long));
    let (none, _) = widening(&base, &gain);
    assert!(
        matches!(none, Solved::None),
        "the long pattern is inside b/*"
    );
    let (found, _) = widening(&gain, &base);
    match found {
        Solved::Found { request, .. } => assert!(!request.resource.contains(&"ab".repeat(50_000))),
        _ => panic!("b/* allows more than the long pattern"),
    }
}
