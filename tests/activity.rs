//! `why`, `generate` and `tighten` over the real CloudTrail corpus (`shared/corpora/cloudtrail`)
//! and the hand-written account in `tests/data/activity/` (the corpus has no dump of the logged
//! accounts; that dump is authored, the records and messages are real).

use crate::util::{iamprove, shared};
use iamprove::activity::cloudtrail::{load_events, Event, Resource};
use iamprove::activity::why::parse_message;
use iamprove::activity::{observe, request_of};
use iamprove::eval::{evaluate, Decision};
use iamprove::model::PolicyType;
use iamprove::scenario::Scenario;
use serde_json::Value;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/activity")
        .join(name)
}

fn ct() -> PathBuf {
    shared().join("corpora/cloudtrail")
}

fn invictus_files() -> Vec<PathBuf> {
    crate::util::json_files(&ct().join("real/invictus-ir__aws_dataset/CloudTrail"))
}

const BERT: &str = "arn:aws:iam::123837392027:user/bert-jan";

fn json_out(args: &[&str]) -> (Value, i32) {
    crate::util::run_json(args)
}

#[test]
fn every_corpus_message_with_a_reason_parses_to_its_layer() {
    let text = std::fs::read_to_string(ct().join("access-denied-messages.json")).unwrap();
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(list.len(), 48);
    let mut checked = 0;
    for e in &list {
        let msg = e["message"].as_str().unwrap();
        let deny = e["deny"].as_str().unwrap_or("");
        let parsed = parse_message(msg);
        match deny {
            "encoded-only" => assert!(parsed.unwrap().encoded_only, "{msg}"),
            "implicit" | "explicit" => {
                let m = parsed.unwrap_or_else(|| panic!("not parsed: {msg}"));
                assert_eq!(m.deny, Some(deny), "{msg}");
                assert!(m.action.is_some(), "{msg}");
                if let Some(pt) = e["policy_type"].as_str() {
                    let want = match pt {
                        p if p.starts_with("VPC endpoint") => "vpc_endpoint",
                        p if p.contains("service control") => "scp",
                        "permissions boundary" => "boundary",
                        p if p.contains("session") => "session",
                        p if p.contains("resource-based") || p.contains("trust") => {
                            "resource_policy"
                        }
                        "identity-based policy" if deny == "explicit" => "explicit_deny",
                        "identity-based policy" => "missing_allow",
                        other => panic!("unexpected policy_type {other}"),
                    };
                    assert_eq!(m.layer, Some(want), "{msg}");
                }
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(checked >= 30, "{checked}");
}

#[test]
fn every_real_record_loads_and_every_denial_rebuilds_a_request() {
    let mut n = 0;
    let mut denied = 0;
    let mut unknown = 0;
    let mut stratus = crate::util::json_files(&ct().join("real/datadog__stratus-red-team"));
    stratus.extend(invictus_files());
    for f in &stratus {
        let evs = load_events(f).unwrap();
        n += evs.len();
        for e in evs.iter().filter(|e| e.denied()) {
            denied += 1;
            let a = e.action().unwrap();
            // the resource is known, except for the two Cost Explorer denials whose message
            // ("IAM user access not activated") names no request
            if !matches!(e.resource(&a), Resource::Known(_)) {
                assert_eq!(
                    e.error_message(),
                    Some("IAM user access not activated"),
                    "{}",
                    e.label()
                );
                unknown += 1;
            }
            e.principal().unwrap();
        }
    }
    assert_eq!(n, 3210);
    assert_eq!(denied, 111);
    assert!(unknown <= 2);
}

#[test]
fn why_assume_role_event_blames_the_trust_policy_and_fixes_it() {
    let f = ct().join("real/invictus-ir__aws_dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json");
    let (v, code) = json_out(&[
        "why",
        "--account",
        data("account-invictus.json").to_str().unwrap(),
        "--event",
        f.to_str().unwrap(),
        "--event-id",
        "e4bad408-6272-4892-bf47-bd41b435ce40",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["decision"], "ImplicitDeny");
    assert_eq!(v["request"]["principal"], BERT);
    assert_eq!(v["request"]["action"], "sts:AssumeRole");
    assert_eq!(
        v["request"]["context"]["aws:SourceIp"], "192.168.10.20",
        "context from the record"
    );
    let b = v["blocking"].as_array().unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["layer"], "resource_policy");
    assert_eq!(v["fix"]["confirmed"], true);
    assert_eq!(v["fix"]["outside_account"], false);
    let c = &v["fix"]["changes"][0];
    assert_eq!(c["add"]["Principal"]["AWS"], BERT);
    assert_eq!(v["message"]["agrees"], true);
}

#[test]
fn why_names_the_scp_by_level_and_flags_a_disagreeing_message() {
    let (v, code) = json_out(&[
        "why",
        "--account",
        data("account-invictus.json").to_str().unwrap(),
        "--org",
        data("org-sandbox.json").to_str().unwrap(),
        "--message",
        "User: arn:aws:sts::123837392027:assumed-role/stratus-red-team-leave-org-role/aws-go-sdk-1688990515440126480 is not authorized to perform: organizations:LeaveOrganization on resource: * because no identity-based policy allows the organizations:LeaveOrganization action",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["decision"], "ExplicitDeny");
    let b = v["blocking"].as_array().unwrap();
    assert_eq!(b[0]["layer"], "scp");
    assert_eq!(b[0]["policy"], "SCP 0 at ou-sandbox");
    assert_eq!(b[0]["statement"], "Statement[1]");
    assert_eq!(b[0]["sid"], "StayInOrg");
    assert!(b.iter().any(|x| x["layer"] == "missing_allow"));
    assert_eq!(v["fix"]["outside_account"], true);
    assert_eq!(v["fix"]["confirmed"], true);
    assert_eq!(v["message"]["agrees"], false);
}

#[test]
fn why_boundary_and_identity_messages_agree_and_show_near_misses() {
    let acct = data("account-invictus.json");
    let (v, _) = json_out(&[
        "why", "--account", acct.to_str().unwrap(), "--format", "json", "--message",
        "User: arn:aws:iam::123837392027:user/dev is not authorized to perform: codecommit:ListRepositories because no permissions boundary allows the codecommit:ListRepositories action",
    ]);
    assert_eq!(v["blocking"][0]["layer"], "boundary");
    assert_eq!(v["fix"]["changes"][0]["policy"], "dev-boundary (v1)");
    assert_eq!(v["message"]["agrees"], true);
    let (v, _) = json_out(&[
        "why", "--account", acct.to_str().unwrap(), "--format", "json", "--message",
        "User: arn:aws:iam::123837392027:user/dev is not authorized to perform: ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action",
    ]);
    assert_eq!(v["blocking"][0]["layer"], "missing_allow");
    assert_eq!(v["near_misses"][0]["sid"], "FromOffice");
    assert_eq!(
        v["fix"]["changes"][0]["policy"],
        "user dev inline dev-inline"
    );
    // an explicit deny in the user's own policy
    let (v, _) = json_out(&[
        "why", "--account", acct.to_str().unwrap(), "--format", "json", "--message",
        "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: ce:GetCostAndUsage on resource: * with an explicit deny in an identity-based policy",
    ]);
    assert_eq!(v["decision"], "ExplicitDeny");
    assert_eq!(v["blocking"][0]["layer"], "explicit_deny");
    assert_eq!(v["blocking"][0]["sid"], "NoBilling");
    assert_eq!(v["fix"]["confirmed"], true);
    assert_eq!(v["message"]["agrees"], true);
}

#[test]
fn why_rejects_unusable_input_with_exit_2() {
    let acct = data("account-invictus.json");
    let out = iamprove()
        .args([
            "why",
            "--account",
            acct.to_str().unwrap(),
            "--message",
            "IAM user access not activated",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = iamprove()
        .args(["why", "--account", acct.to_str().unwrap(), "--message", "You are not authorized to perform this operation. Encoded authorization failure message: abc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("decode-authorization-message"));
    let dir = tempfile::tempdir().unwrap();
    let bad = crate::util::write(dir.path(), "bad.json", "{\"Records\": [{\"noEvent\": 1}]}");
    let out = iamprove()
        .args([
            "why",
            "--account",
            acct.to_str().unwrap(),
            "--event",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("Records[0]"),
        "{err}"
    );
}

fn load_all() -> Vec<Event> {
    invictus_files()
        .iter()
        .flat_map(|f| load_events(f).unwrap())
        .collect()
}

#[test]
fn generate_for_bert_jan_validates_and_every_observed_request_replays_as_allow() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.json");
    let mut args: Vec<String> = vec![
        "generate".into(),
        "--format".into(),
        "json".into(),
        "--principal".into(),
        BERT.into(),
        "--output".into(),
        out.display().to_string(),
        "--cloudtrail".into(),
    ];
    args.extend(invictus_files().iter().map(|p| p.display().to_string()));
    let o = iamprove().args(&args).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["proof"]["holds"], true);
    assert_eq!(report["over_grant"]["extra_actions"], 0);
    assert!(report["observed"]["denied"].as_array().unwrap().len() >= 10);
    iamprove()
        .args(["validate", out.to_str().unwrap()])
        .assert()
        .success();
    // an independent replay through the library
    let pol = iamprove::scenario::load_policy_file(&out, Some(PolicyType::Identity)).unwrap();
    let mut sc = Scenario::empty();
    sc.identity_policies = vec![pol];
    let events = load_all();
    let (obs, _, _) = observe(&events, |e| e.by(BERT));
    assert!(obs.len() > 2000);
    for o in obs
        .iter()
        .filter(|o| matches!(o.resource, Resource::Known(_)))
    {
        let req = request_of(o);
        if iamprove::eval::strict_resource(&req.action, &req.resource) {
            continue; // needs the resource's own policy too (see the proof's assumptions)
        }
        assert_eq!(evaluate(&sc, &req).decision, Decision::Allow, "{}", o.label);
    }
}

#[test]
fn generate_for_a_stratus_role_covers_its_sessions() {
    let f = ct().join("real/datadog__stratus-red-team/detonation-logs");
    let files = crate::util::json_files(&f);
    let mut args: Vec<String> = vec![
        "generate".into(),
        "--format".into(),
        "json".into(),
        "--principal".into(),
        "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role".into(),
        "--cloudtrail".into(),
    ];
    args.extend(files.iter().map(|p| p.display().to_string()));
    let (v, code) = {
        let o = iamprove().args(&args).output().unwrap();
        (
            serde_json::from_slice::<Value>(&o.stdout).unwrap_or(Value::Null),
            o.status.code(),
        )
    };
    // every session of that role is denied GetPasswordData: nothing succeeded, or what did is replayed
    if code == Some(0) {
        assert_eq!(v["proof"]["holds"], true);
    } else {
        assert_eq!(code, Some(2));
    }
}

#[test]
fn tighten_admin_to_bert_jans_activity_is_proven_by_diff() {
    let dir = tempfile::tempdir().unwrap();
    let old = crate::util::write(
        dir.path(),
        "old.json",
        r#"{"Version":"2012-10-17","Statement":[
          {"Sid":"Admin","Effect":"Allow","Action":"*","Resource":"*"},
          {"Sid":"Buckets","Effect":"Allow","NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::secret/*"},
          {"Sid":"Own","Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::*:user/${aws:username}"},
          {"Sid":"NoCe","Effect":"Deny","Action":"ce:*","Resource":"*"}]}"#,
    );
    let new = dir.path().join("new.json");
    let mut args: Vec<String> = vec![
        "tighten".into(),
        old.display().to_string(),
        "--format".into(),
        "json".into(),
        "--principal".into(),
        BERT.into(),
        "--output".into(),
        new.display().to_string(),
        "--cloudtrail".into(),
    ];
    args.extend(invictus_files().iter().map(|p| p.display().to_string()));
    let o = iamprove().args(&args).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["verdict"], "no_widening");
    assert_eq!(
        r["proof"]["observed_allowed"],
        r["proof"]["observed_replayed"]
    );
    assert!(r["removed"]["removed_total"].as_u64().unwrap() > 10_000);
    iamprove()
        .args(["validate", new.to_str().unwrap()])
        .assert()
        .success();
    // the proof, independently: `diff NEW OLD` through the command line
    iamprove()
        .args(["diff", old.to_str().unwrap(), new.to_str().unwrap()])
        .assert()
        .code(0);
    // the deny survives verbatim
    let text = std::fs::read_to_string(&new).unwrap();
    assert!(text.contains("\"NoCe\""));
}

#[test]
fn tighten_last_accessed_keeps_used_services_and_tracked_actions() {
    let dir = tempfile::tempdir().unwrap();
    let old = crate::util::write(
        dir.path(),
        "old.json",
        r#"{"Version":"2012-10-17","Statement":[
          {"Sid":"Broad","Effect":"Allow","Action":["s3:*","ec2:*","dynamodb:*"],"Resource":"*"},
          {"Sid":"Unused","Effect":"Allow","Action":"sqs:*","Resource":"*"}]}"#,
    );
    let la = crate::util::write(
        dir.path(),
        "la.json",
        r#"{"JobStatus":"COMPLETED","JobType":"ACTION_LEVEL","ServicesLastAccessed":[
          {"ServiceName":"Amazon S3","ServiceNamespace":"s3","LastAuthenticated":"2024-01-01T00:00:00Z","TotalAuthenticatedEntities":1,
           "TrackedActionsLastAccessed":[{"ActionName":"GetObject","LastAccessedTime":"2024-01-01T00:00:00Z"},{"ActionName":"PutObject"}]},
          {"ServiceName":"Amazon EC2","ServiceNamespace":"ec2","LastAuthenticated":"2024-01-01T00:00:00Z","TotalAuthenticatedEntities":1},
          {"ServiceName":"Amazon DynamoDB","ServiceNamespace":"dynamodb","TotalAuthenticatedEntities":0},
          {"ServiceName":"Amazon SQS","ServiceNamespace":"sqs","TotalAuthenticatedEntities":0}]}"#,
    );
    let (r, code) = json_out(&[
        "tighten",
        old.to_str().unwrap(),
        "--last-accessed",
        la.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(r["verdict"], "no_widening");
    let acts = r["policy"]["Statement"][0]["Action"].as_array().unwrap();
    let acts: Vec<&str> = acts.iter().filter_map(Value::as_str).collect();
    assert!(acts.contains(&"ec2:*"), "{acts:?}");
    assert!(acts.contains(&"s3:GetObject"));
    assert!(!acts.contains(&"s3:PutObject"));
    assert!(!acts.iter().any(|a| a.starts_with("dynamodb")));
    assert_eq!(r["policy"]["Statement"].as_array().unwrap().len(), 1);
    assert!(r["removed"]["services_removed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "sqs"));
}

#[test]
fn why_names_an_rcp_gap_by_ou_and_puts_its_fix_outside_the_account() {
    let f = ct().join("real/invictus-ir__aws_dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json");
    let (v, code) = json_out(&[
        "why",
        "--account",
        data("account-invictus.json").to_str().unwrap(),
        "--org",
        data("org-rcp-gap.json").to_str().unwrap(),
        "--event",
        f.to_str().unwrap(),
        "--event-id",
        "e4bad408-6272-4892-bf47-bd41b435ce40",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let layers: Vec<&str> = v["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["layer"].as_str())
        .collect();
    assert_eq!(layers, ["rcp", "resource_policy"]);
    assert_eq!(v["blocking"][0]["level"], "ou-sandbox");
    assert_eq!(v["fix"]["outside_account"], true);
    assert_eq!(v["fix"]["confirmed"], true);
    assert_eq!(v["fix"]["changes"][0]["add"]["Sid"], "RCPFullAWSAccess");
}

#[test]
fn why_takes_session_tags_from_the_assume_role_record() {
    let (v, code) = json_out(&[
        "why",
        "--account",
        data("account-invictus.json").to_str().unwrap(),
        "--event",
        data("session-tags.json").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        v["request"]["principal"],
        "arn:aws:sts::123837392027:assumed-role/tagged-app/sess1"
    );
    assert_eq!(v["request"]["resource"], "arn:aws:s3:::reports/q3.csv");
    // the session tag wins over the role's own tag (999)
    assert_eq!(
        v["request"]["context"]["aws:PrincipalTag/CostCenter"],
        "12345"
    );
    assert_eq!(v["decision"], "ImplicitDeny");
    assert_eq!(v["blocking"][0]["layer"], "missing_allow");
    assert_eq!(v["near_misses"][0]["sid"], "OwnCostCenter");
    assert_eq!(v["message"]["agrees"], true);
    assert_eq!(v["fix"]["confirmed"], true);
}

#[test]
fn why_applies_the_bucket_policy_to_an_object_and_names_its_deny() {
    let (v, code) = json_out(&[
        "why",
        "--account",
        data("account-invictus.json").to_str().unwrap(),
        "--resource-policies",
        data("resource-policies.json").to_str().unwrap(),
        "--format",
        "json",
        "--message",
        "User: arn:aws:iam::123837392027:user/dev is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::reports/q3.csv\" with an explicit deny in a resource-based policy",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["decision"], "ExplicitDeny");
    assert_eq!(v["blocking"][0]["layer"], "resource_policy");
    assert_eq!(v["blocking"][0]["sid"], "NoOutsideOffice");
    assert_eq!(v["message"]["agrees"], true);
}
