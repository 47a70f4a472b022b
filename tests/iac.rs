//! `diff --terraform-plan` and `diff --cloudformation` on the fixtures in `tests/data/iac/`.

use crate::util::{iamprove, write};
use predicates::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/iac")
        .join(rel)
}

/// Run `iamprove diff ARGS --format json`, check the exit status, return the parsed output.
fn diff_json(args: &[&str], code: i32) -> Value {
    let out = iamprove()
        .arg("diff")
        .args(args)
        .args(["--format", "json"])
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn tf(name: &str) -> String {
    data(&format!("terraform/{name}")).display().to_string()
}

fn cfn(name: &str) -> String {
    data(&format!("cloudformation/{name}"))
        .display()
        .to_string()
}

/// The change for an address and attribute.
fn change<'a>(v: &'a Value, address: &str, attribute: &str) -> &'a Value {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address && c["attribute"] == attribute)
        .unwrap_or_else(|| panic!("no change for {address} {attribute} in {v:#}"))
}

fn verdicts(v: &Value) -> Vec<(String, String, String)> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_owned(),
                c["attribute"].as_str().unwrap().to_owned(),
                c["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn terraform_plan_reports_every_iam_change_with_its_verdict() {
    let v = diff_json(&["--terraform-plan", &tf("plan.json")], 1);
    assert_eq!(v["verdict"], "widened");
    let got = verdicts(&v);
    let want = [
        ("aws_iam_policy.app_read", "policy", "widened"),
        ("aws_s3_bucket_policy.logs", "policy", "no_widening"),
        ("aws_iam_role.app", "assume_role_policy", "no_widening"),
        ("aws_iam_role.app", "inline_policy", "no_widening"),
        ("aws_kms_key.data", "policy", "no_widening"),
        ("aws_iam_user_policy.legacy_deploy", "policy", "no_widening"),
        ("aws_organizations_policy.eu_only", "content", "no_widening"),
        ("aws_sqs_queue_policy.jobs", "policy", "unknown"),
        ("aws_iam_role.worker", "assume_role_policy", "widened"),
        ("aws_iam_role.worker", "inline_policy", "unknown"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    // aws_s3_bucket.logs carries no policy: not reported
    assert_eq!(got, want);

    let app = change(&v, "aws_iam_policy.app_read", "policy");
    assert_eq!(app["type"], "aws_iam_policy");
    assert_eq!(app["action"], "update");
    assert_eq!(app["policy_type"], "identity");
    let f = &app["findings"][0];
    assert_eq!(f["kind"], "widened");
    assert_eq!(f["old_decision"], "ImplicitDeny");
    let action = f["request"]["action"].as_str().unwrap();
    assert!(
        action == "s3:PutObject" || action == "s3:DeleteObject",
        "{action}"
    );
    assert!(f["request"]["resource"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:s3:::acme-reports/"));
    assert_eq!(f["granted_by"][0]["sid"], "ManageReports");

    let trust = change(&v, "aws_iam_role.worker", "assume_role_policy");
    assert_eq!(trust["policy_type"], "trust");
    assert_eq!(
        trust["findings"][0]["request"]["principal"],
        "ecs-tasks.amazonaws.com"
    );
    assert_eq!(trust["findings"][0]["request"]["action"], "sts:AssumeRole");

    let q = change(&v, "aws_sqs_queue_policy.jobs", "policy");
    assert_eq!(q["findings"], serde_json::json!([]));
    let m = q["message"].as_str().unwrap();
    assert!(
        m.contains("aws_sqs_queue_policy.jobs")
            && m.contains("`policy`")
            && m.contains("known only after apply"),
        "{m}"
    );
    let m = change(&v, "aws_iam_role.worker", "inline_policy")["message"]
        .as_str()
        .unwrap();
    assert!(
        m.contains("aws_iam_role.worker") && m.contains("`inline_policy`"),
        "{m}"
    );

    assert_eq!(change(&v, "aws_kms_key.data", "policy")["action"], "no-op");
    assert_eq!(
        change(&v, "aws_iam_user_policy.legacy_deploy", "policy")["action"],
        "delete"
    );
    assert_eq!(
        change(&v, "aws_organizations_policy.eu_only", "content")["policy_type"],
        "scp"
    );
}

#[test]
fn terraform_finding_replays_through_eval() {
    // the request of a finding is denied by the old policy and allowed by the new one
    let v = diff_json(&["--terraform-plan", &tf("plan.json")], 1);
    let req = change(&v, "aws_iam_policy.app_read", "policy")["findings"][0]["request"].clone();
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(tf("plan.json")).unwrap()).unwrap();
    let rc = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "aws_iam_policy.app_read")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (side, want) in [("before", "ImplicitDeny"), ("after", "Allow")] {
        let doc: Value =
            serde_json::from_str(rc["change"][side]["policy"].as_str().unwrap()).unwrap();
        let sc = serde_json::json!({"request": req, "identity_policies": [doc]});
        let f = write(dir.path(), &format!("{side}.json"), &sc.to_string());
        let out = iamprove()
            .arg("eval")
            .arg(&f)
            .args(["--format", "json"])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let e: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(e["decision"], want, "{side}");
    }
}

#[test]
fn terraform_verdicts_and_exit_statuses() {
    let v = diff_json(&["--terraform-plan", &tf("plan-no-widening.json")], 0);
    assert_eq!(v["verdict"], "no_widening");
    assert!(verdicts(&v).iter().all(|c| c.2 == "no_widening"));
    let v = diff_json(&["--terraform-plan", &tf("plan-unknown.json")], 3);
    assert_eq!(v["verdict"], "unknown");
    assert_eq!(
        change(&v, "aws_s3_bucket_policy.logs", "policy")["verdict"],
        "no_widening"
    );
    assert_eq!(
        change(&v, "aws_sqs_queue_policy.jobs", "policy")["verdict"],
        "unknown"
    );
}

#[test]
fn terraform_direction_both_reports_the_narrowing() {
    let v = diff_json(
        &[
            "--terraform-plan",
            &tf("plan-no-widening.json"),
            "--direction",
            "both",
        ],
        0,
    );
    let b = change(&v, "aws_s3_bucket_policy.logs", "policy");
    assert_eq!(b["verdict"], "no_widening");
    assert_eq!(b["narrowing"], "narrowed");
    assert!(b["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["kind"] == "narrowed"));
    assert!(!b["findings"].as_array().unwrap().is_empty());
    assert_eq!(
        change(&v, "aws_iam_user_policy.legacy_deploy", "policy")["narrowing"],
        "narrowed"
    );
    assert_eq!(
        change(&v, "aws_kms_key.data", "policy")["narrowing"],
        "no_narrowing"
    );
}

#[test]
fn terraform_text_output_has_one_block_per_change() {
    iamprove()
        .args(["diff", "--terraform-plan", &tf("plan-unknown.json")])
        .assert()
        .code(3)
        .stdout(predicate::str::starts_with("unknown: "))
        .stdout(predicate::str::contains(
            "no_widening  aws_s3_bucket_policy.logs  policy  [update]",
        ))
        .stdout(predicate::str::contains(
            "unknown      aws_sqs_queue_policy.jobs  policy  [create]",
        ))
        .stdout(predicate::str::contains(
            "`policy` is known only after apply",
        ));
}

#[test]
fn terraform_bad_input_is_a_located_error() {
    iamprove()
        .args(["diff", "--terraform-plan", &tf("plan-bad-policy.json")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "plan-bad-policy.json: resource_changes[0].change.after.policy.Statement[0].Condition.StringEqualz: unknown condition operator",
        ));
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "state.json",
            r#"{"format_version":"1.0","values":{"root_module":{}}}"#,
            "this is Terraform state, not a plan",
        ),
        (
            "policy.json",
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            "not a Terraform plan",
        ),
        (
            "syntax.json",
            "{\"format_version\": \"1.2\",",
            "invalid JSON at line 1",
        ),
        (
            "actions.json",
            r#"{"format_version":"1.2","resource_changes":[{"address":"aws_iam_policy.p","type":"aws_iam_policy","change":{"actions":"update"}}]}"#,
            "resource_changes[0].change.actions: expected an array",
        ),
        (
            "string.json",
            r#"{"format_version":"1.2","resource_changes":[{"address":"aws_iam_policy.p","type":"aws_iam_policy","change":{"actions":["create"],"before":null,"after":{"policy":"{\"Version\": "},"after_unknown":{}}}]}"#,
            "resource_changes[0].change.after.policy: the policy string is not valid JSON",
        ),
    ];
    for (name, text, msg) in cases {
        let f = write(dir.path(), name, text);
        iamprove()
            .arg("diff")
            .arg("--terraform-plan")
            .arg(&f)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(msg));
    }
}

#[test]
fn terraform_plan_without_iam_changes_is_no_widening() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "plan.json",
        r#"{"format_version":"1.2","terraform_version":"1.9.5","resource_changes":[{"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket","name":"b","change":{"actions":["create"],"before":null,"after":{"bucket":"b"},"after_unknown":{"id":true}}}]}"#,
    );
    let v = diff_json(&["--terraform-plan", f.to_str().unwrap()], 0);
    assert_eq!(v["verdict"], "no_widening");
    assert_eq!(v["changes"], serde_json::json!([]));
    assert_eq!(v["notes"][0], "no IAM-relevant resource changes");
}

#[test]
fn terraform_scp_removal_widens_and_creation_does_not() {
    // an absent SCP is no guardrail at all: deleting one lets through what it blocked
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(tf("plan.json")).unwrap()).unwrap();
    let mut rc = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "aws_organizations_policy")
        .unwrap()
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let before = rc["change"]["before"].clone();
    rc["change"]["actions"] = serde_json::json!(["delete"]);
    rc["change"]["after"] = Value::Null;
    let del = write(
        dir.path(),
        "del.json",
        &serde_json::json!({"format_version": "1.2", "resource_changes": [rc.clone()]}).to_string(),
    );
    let v = diff_json(&["--terraform-plan", del.to_str().unwrap()], 1);
    let c = change(&v, "aws_organizations_policy.eu_only", "content");
    assert_eq!(c["verdict"], "widened");
    assert!(c["message"].as_str().unwrap().contains("guardrail removed"));
    rc["change"]["actions"] = serde_json::json!(["create"]);
    rc["change"]["before"] = Value::Null;
    rc["change"]["after"] = before;
    let create = write(
        dir.path(),
        "create.json",
        &serde_json::json!({"format_version": "1.2", "resource_changes": [rc]}).to_string(),
    );
    let v = diff_json(&["--terraform-plan", create.to_str().unwrap()], 0);
    assert_eq!(
        change(&v, "aws_organizations_policy.eu_only", "content")["verdict"],
        "no_widening"
    );
}

#[test]
fn cloudformation_yaml_pair_with_short_form_tags() {
    let v = diff_json(&["--cloudformation", &cfn("old.yaml"), &cfn("new.yaml")], 1);
    assert_eq!(v["verdict"], "widened");
    let got = verdicts(&v);
    let want = [
        ("DataBucketPolicy", "PolicyDocument", "no_widening"),
        ("AppRole", "AssumeRolePolicyDocument", "no_widening"),
        ("AppRole", "Policies", "widened"),
        ("JobsQueuePolicy", "PolicyDocument", "unknown"),
        ("DataKey", "KeyPolicy", "no_widening"),
        ("AlertsTopicPolicy", "PolicyDocument", "widened"),
        ("LegacyPolicy", "PolicyDocument", "no_widening"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);

    let role = change(&v, "AppRole", "Policies");
    assert_eq!(role["type"], "AWS::IAM::Role");
    let action = role["findings"][0]["request"]["action"].as_str().unwrap();
    assert!(
        action == "dynamodb:PutItem" || action == "dynamodb:DeleteItem",
        "{action}"
    );
    assert!(role["findings"][0]["granted_by"][0]["policy"]
        .as_str()
        .unwrap()
        .starts_with("AppRole.Policies[ReadTable]"));

    let q = change(&v, "JobsQueuePolicy", "PolicyDocument");
    let m = q["message"].as_str().unwrap();
    assert!(m.contains("Resources.JobsQueuePolicy.Properties.PolicyDocument.Statement[0].Resource uses `Fn::GetAtt`"), "{m}");

    // Fn::Join of literals is resolved
    let topic = change(&v, "AlertsTopicPolicy", "PolicyDocument");
    assert_eq!(topic["action"], "create");
    assert_eq!(
        topic["findings"][0]["request"]["resource"],
        "arn:aws:sns:eu-west-1:111122223333:alerts"
    );
    assert_eq!(
        topic["findings"][0]["request"]["principal"],
        "cloudwatch.amazonaws.com"
    );

    // same text with unresolved !Sub on both sides: unchanged
    let key = change(&v, "DataKey", "KeyPolicy");
    assert_eq!(key["action"], "no-op");
    assert_eq!(key["message"], "policy unchanged");
    assert_eq!(
        change(&v, "LegacyPolicy", "PolicyDocument")["action"],
        "delete"
    );
}

#[test]
fn cloudformation_json_verdicts_and_exit_statuses() {
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("base.json"),
            &cfn("narrowing.json"),
        ],
        0,
    );
    assert_eq!(v["verdict"], "no_widening");
    assert_eq!(verdicts(&v).len(), 3);
    assert_eq!(change(&v, "GuardrailScp", "Content")["policy_type"], "scp");
    // the reverse direction widens
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("narrowing.json"),
            &cfn("base.json"),
        ],
        1,
    );
    assert_eq!(
        change(&v, "DeployPolicy", "PolicyDocument")["verdict"],
        "widened"
    );
    assert_eq!(
        change(&v, "DeployPolicy", "PolicyDocument")["findings"][0]["request"]["action"],
        "s3:PutObject"
    );
    assert_eq!(
        change(&v, "DeployRole", "AssumeRolePolicyDocument")["verdict"],
        "widened"
    );
    assert_eq!(change(&v, "GuardrailScp", "Content")["verdict"], "widened");

    let v = diff_json(
        &["--cloudformation", &cfn("base.json"), &cfn("unknown.json")],
        3,
    );
    assert_eq!(v["verdict"], "unknown");
    let m = change(&v, "DeployPolicy", "PolicyDocument")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        m.contains("Statement[1].Resource uses `Fn::Sub`") && m.contains("unknown.json"),
        "{m}"
    );
}

#[test]
fn cloudformation_conditional_resources_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.yaml",
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    let new = write(
        dir.path(),
        "new.yaml",
        "Conditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n  P:\n    Type: AWS::IAM::ManagedPolicy\n    Condition: IsProd\n    Properties:\n      PolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Action: s3:*\n            Resource: '*'\n",
    );
    let v = diff_json(
        &[
            "--cloudformation",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
        ],
        3,
    );
    let m = change(&v, "P", "PolicyDocument")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(m.contains("exists only when `IsProd` holds"), "{m}");
}

#[test]
fn cloudformation_bad_input_is_a_located_error() {
    iamprove()
        .args(["diff", "--cloudformation", &cfn("base.json"), &cfn("bad-effect.json")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad-effect.json: Resources.DeployPolicy.Properties.PolicyDocument.Statement[0].Effect: invalid Effect"));
    iamprove()
        .args([
            "diff",
            "--cloudformation",
            &cfn("old.yaml"),
            &cfn("bad-tag.yaml"),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad-tag.yaml: Resources.P.Properties.PolicyDocument: unknown tag `!Bogus`",
        ));
    let dir = tempfile::tempdir().unwrap();
    let yaml = write(dir.path(), "broken.yaml", "Resources:\n  P: [\n");
    iamprove()
        .args(["diff", "--cloudformation", &cfn("old.yaml")])
        .arg(&yaml)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid YAML"));
    let nores = write(dir.path(), "nores.yaml", "Description: x\n");
    iamprove()
        .args(["diff", "--cloudformation", &cfn("old.yaml")])
        .arg(&nores)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no `Resources`"));
}

#[test]
fn iac_flags_are_alternatives_to_old_new() {
    iamprove()
        .args([
            "diff",
            "--terraform-plan",
            &tf("plan.json"),
            "a.json",
            "b.json",
        ])
        .assert()
        .code(2);
    iamprove()
        .args([
            "diff",
            "--terraform-plan",
            &tf("plan.json"),
            "--cloudformation",
            "a",
            "b",
        ])
        .assert()
        .code(2);
    iamprove()
        .args(["diff", "--cloudformation", &cfn("base.json")])
        .assert()
        .code(2);
    iamprove().args(["diff"]).assert().code(2);
}
