//! Findings name only ARNs a service can produce: in the catalog's ARN formats the account is
//! 12 digits, `aws` or (regional formats only) empty, and the region is empty or a run of
//! `[a-z0-9-]` (`crates/iamprove-core/src/wellformed.rs`).

use assert_cmd::Command;
use iamprove::diff::{compare, DiffOptions, Direction};
use iamprove::json::Json;
use iamprove::model::PolicyType;
use iamprove::query::{QueryOptions, Side};
use iamprove::wellformed::well_formed;
use serde_json::{json, Value};

fn identity(doc: &Value) -> Side {
    let p = iamprove::parse::parse_policy(&Json::from_value(doc), PolicyType::Identity, "test")
        .unwrap_or_else(|e| panic!("{doc}: {e:?}"));
    Side::Identity(vec![p])
}

fn opts() -> DiffOptions {
    DiffOptions {
        kind: Some(PolicyType::Identity),
        max_findings: 3,
        direction: Direction::Widen,
        query: QueryOptions::default(),
    }
}

fn pass_role(resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": resource}]})
}

/// Is `s` an account a service puts in an ARN: 12 ASCII digits, `aws` or empty?
fn real_account(s: &str) -> bool {
    s.is_empty() || s == "aws" || (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
}

fn bin() -> Command {
    Command::cargo_bin("iamprove").unwrap()
}

/// The decision of `iamprove eval` on one request against one identity policy.
fn eval_cli(policy: &Value, request: &Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    let sc = json!({"request": request, "identity_policies": [policy]});
    std::fs::write(&p, sc.to_string()).unwrap();
    let out = bin()
        .args(["eval", p.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["decision"].as_str().unwrap_or("?").to_owned()
}

/// The brief's example: OLD `????????????`, NEW `*` in the account of a role ARN. Before the
/// account syntax the finding was `arn:aws:iam:::role/x` (or `…::glue:role/x`): an account no
/// service forms. Now the only widening left is the AWS-owned account `aws` (a role cannot be
/// AWS-owned, but the format says `${Account}` and `aws` is kept for every such format: the
/// conservative reading); with `aws` covered by OLD the change is proved not to widen.
#[test]
fn a_wildcard_account_widens_only_on_real_account_shapes() {
    let old = pass_role("arn:aws:iam::????????????:role/x");
    let new = pass_role("arn:aws:iam::*:role/x");
    let f = compare(&identity(&old), &identity(&new), &opts(), "widened");
    assert!(f.internal.is_none(), "{:?}", f.internal);
    assert!(f.unknown.is_none(), "{:?}", f.unknown);
    assert!(!f.findings.is_empty());
    for finding in &f.findings {
        let req = &finding["request"];
        assert_eq!(req["resource"], "arn:aws:iam::aws:role/x", "{finding}");
        assert_eq!(eval_cli(&new, req), "Allow", "{req}");
        assert_eq!(eval_cli(&old, req), "ImplicitDeny", "{req}");
    }
    let old_aws = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:PassRole",
         "Resource": ["arn:aws:iam::????????????:role/x", "arn:aws:iam::aws:role/x"]}]});
    let f = compare(&identity(&old_aws), &identity(&new), &opts(), "widened");
    assert!(f.internal.is_none(), "{:?}", f.internal);
    assert!(f.unknown.is_none(), "{:?}", f.unknown);
    assert!(
        f.findings.is_empty(),
        "expected no widening: {:?}",
        f.findings
    );
    // a proof under the listed assumption, which says what an account is
    assert!(
        f.assumptions
            .iter()
            .any(|a| a.contains("well-formed requests") && a.contains("12 digits")),
        "{:?}",
        f.assumptions
    );
    // the CLI agrees (exit 0: no widening)
    let dir = tempfile::tempdir().unwrap();
    let (o, n) = (dir.path().join("old.json"), dir.path().join("new.json"));
    std::fs::write(&o, old_aws.to_string()).unwrap();
    std::fs::write(&n, new.to_string()).unwrap();
    let out = bin()
        .args(["diff", o.to_str().unwrap(), n.to_str().unwrap()])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "no_widening", "{v}");
    assert_eq!(out.status.code(), Some(0));
    // the evaluator: the malformed requests the old answer named are allowed by NEW only, but
    // no action can be sent on them
    for r in ["arn:aws:iam::glue:role/x", "arn:aws:iam:::role/x"] {
        assert!(!well_formed("iam:passrole", r), "{r}");
        let req = json!({"principal": "arn:aws:iam::111122223333:user/alice",
            "action": "iam:PassRole", "resource": r});
        assert_eq!(eval_cli(&new, &req), "Allow");
        assert_eq!(eval_cli(&old_aws, &req), "ImplicitDeny");
    }
}

#[test]
fn a_wildcard_role_name_still_widens_on_a_well_formed_arn() {
    let old = pass_role("arn:aws:iam::????????????:role/x");
    let new = pass_role("arn:aws:iam::*:role/*");
    let f = compare(&identity(&old), &identity(&new), &opts(), "widened");
    assert!(f.internal.is_none(), "{:?}", f.internal);
    assert!(f.unknown.is_none(), "{:?}", f.unknown);
    assert!(!f.findings.is_empty(), "expected a widening");
    for finding in &f.findings {
        let req = &finding["request"];
        let r = req["resource"].as_str().unwrap();
        assert!(well_formed("iam:passrole", r), "{r}");
        let account = r.split(':').nth(4).unwrap();
        assert!(real_account(account), "{r}");
        // replayed through the evaluator (the CLI): NEW allows it, OLD does not
        assert_eq!(eval_cli(&new, req), "Allow", "{req}");
        assert_eq!(eval_cli(&old, req), "ImplicitDeny", "{req}");
    }
}

#[test]
fn account_and_region_syntax_of_catalog_formats() {
    let ok = [
        ("iam:passrole", "arn:aws:iam::111122223333:role/x"),
        (
            "iam:getpolicy",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        // AWS-owned public resources of a regional format that says `${Account}`
        (
            "ssm:sendcommand",
            "arn:aws:ssm:us-east-1::document/AWS-RunShellScript",
        ),
        (
            "ssm:getparameter",
            "arn:aws:ssm:eu-west-3::parameter/aws/service/x",
        ),
        ("ssm:getparameter", "arn:aws:ssm:::parameter/x"),
        (
            "sqs:sendmessage",
            "arn:aws:sqs:us-gov-west-1:111122223333:q",
        ),
        ("s3:getobject", "arn:aws:s3:::b/k"),
    ];
    for (a, r) in ok {
        assert!(well_formed(a, r), "{a} on {r}");
    }
    let bad = [
        ("iam:passrole", "arn:aws:iam::glue:role/x"),
        ("iam:passrole", "arn:aws:iam::11112222333:role/x"),
        ("iam:passrole", "arn:aws:iam::1111222233334:role/x"),
        (
            "iam:passrole",
            "arn:aws:iam::１１１１２２２２３３３３:role/x",
        ),
        // a global format: AWS-owned resources say `aws`, never an empty account
        ("iam:passrole", "arn:aws:iam:::role/x"),
        ("sqs:sendmessage", "arn:aws:sqs:Ab!:111122223333:q"),
        ("sqs:sendmessage", "arn:aws:sqs:us-east-1:aws-x:q"),
        ("sqs:sendmessage", "arn:aws:sqs:us_east_1:111122223333:q"),
    ];
    for (a, r) in bad {
        assert!(!well_formed(a, r), "{a} on {r}");
    }
}

/// Real managed-policy version pairs whose findings (before this rule) named ARNs with an
/// account segment: every finding now names an account a service forms (or one the policies
/// themselves write literally, which the encoder keeps as a shape the catalog may lack).
#[test]
fn corpus_findings_name_real_accounts() {
    let base = crate::util::shared().join("corpora/aws-managed-policies");
    let mut checked = 0;
    for (old, new) in CORPUS_PAIRS {
        let (old, new) = (base.join(old), base.join(new));
        let out = bin()
            .args(["diff", old.to_str().unwrap(), new.to_str().unwrap()])
            .args(["--type", "identity", "--format", "json"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = format!(
            "{}{}",
            std::fs::read_to_string(&old).unwrap(),
            std::fs::read_to_string(&new).unwrap()
        );
        for f in v["findings"].as_array().into_iter().flatten() {
            let r = f["request"]["resource"].as_str().unwrap();
            let parts: Vec<&str> = r.splitn(6, ':').collect();
            if parts.len() < 6 {
                continue;
            }
            checked += 1;
            let literal = text.contains(&format!(":{}:", parts[4]));
            assert!(
                real_account(parts[4]) || literal,
                "{} -> {}: {r}",
                old.display(),
                new.display()
            );
            let region = parts[3];
            assert!(
                region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    || text.contains(&format!(":{region}:")),
                "{r}"
            );
        }
    }
    assert!(checked >= 20, "only {checked} findings named an ARN");
}

const CORPUS_PAIRS: &[(&str, &str)] = &[];
