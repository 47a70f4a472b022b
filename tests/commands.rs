//! End-to-end runs of `check` and `diff` on the bundled examples: verdicts, exit statuses, and
//! that every printed counterexample replays through `eval`.

use assert_cmd::Command;
use serde_json::Value;

fn run(args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("iamprove")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), v)
}

fn eval_decision(scenario: &Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    std::fs::write(&p, scenario.to_string()).unwrap();
    let out = Command::cargo_bin("iamprove")
        .unwrap()
        .args(["eval", p.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["decision"].as_str().unwrap().to_owned()
}

#[test]
fn check_example_holds() {
    let (code, v) = run(&["check", "examples/check/spec.json", "--format", "json"]);
    assert_eq!(code, 0, "{v}");
    let statuses: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["holds"; 4]);
}

#[test]
fn check_escalation_library_finds_pass_role_and_it_replays() {
    let (code, v) = run(&[
        "check",
        "examples/check/escalation-spec.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let results = v["results"].as_array().unwrap();
    let violated: Vec<&Value> = results
        .iter()
        .filter(|r| r["status"] == "violated")
        .collect();
    assert_eq!(violated.len(), 1, "{v}");
    assert_eq!(violated[0]["invariant"], "no-pass-role");
    let req = violated[0]["counterexample"].clone();
    assert_eq!(req["action"], "iam:PassRole");
    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/check/app-role-policy.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut req = req;
    req["resource_account"] = Value::String("111122223333".into());
    let scenario = serde_json::json!({"request": req, "identity_policies": [policy]});
    assert_eq!(eval_decision(&scenario), "Allow");
}

#[test]
fn check_public_bucket_policy_is_violated_by_an_outsider() {
    let (code, v) = run(&[
        "check",
        "examples/check/bucket-spec.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let r = &v["results"][0];
    assert_eq!(r["status"], "violated");
    let req = &r["counterexample"];
    // the org-restricted ListBucket statement must not be the reason
    assert_eq!(req["action"], "s3:GetObject", "{req}");
    assert!(
        req["resource"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:s3:::shared-reports/public/")
            || req["resource"] == "*",
        "{req}"
    );
    let principal = req["principal"].as_str().unwrap();
    assert!(
        !principal.contains("444455556666"),
        "a named account is not public: {principal}"
    );
}

#[test]
fn diff_example_widens_and_findings_replay() {
    let (code, v) = run(&[
        "diff",
        "examples/diff/old.json",
        "examples/diff/new.json",
        "--format",
        "json",
        "--direction",
        "both",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "widened");
    assert_eq!(v["narrowing"], "no_narrowing");
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() >= 2, "several distinct findings: {v}");
    let old: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/diff/old.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let new: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/diff/new.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for f in findings {
        let mut req = f["request"].clone();
        req["resource_account"] = Value::String("111122223333".into());
        assert_ne!(
            eval_decision(&serde_json::json!({"request": req, "identity_policies": [old]})),
            "Allow",
            "{f}"
        );
        assert_eq!(
            eval_decision(&serde_json::json!({"request": req, "identity_policies": [new]})),
            "Allow",
            "{f}"
        );
        assert!(
            f["action"]["known_actions"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "findings name catalog actions: {f}"
        );
    }
}

#[test]
fn diff_identical_is_proved() {
    let (code, v) = run(&[
        "diff",
        "examples/diff/new.json",
        "examples/diff/new.json",
        "--format",
        "json",
    ]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("no_widening")));
}

#[test]
fn account_invariants_cover_chains_and_escalation() {
    let (code, v) = run(&["check", "examples/account/spec.json", "--format", "json"]);
    assert_eq!(code, 1);
    let r = v["results"].as_array().unwrap();
    let iam = r
        .iter()
        .find(|x| x["invariant"] == "only-admins-reach-iam")
        .unwrap();
    assert_eq!(iam["status"], "violated");
    // alice reaches iam:* only through a chain of roles
    let alice = iam["violators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["principal"] == "arn:aws:iam::111111111111:user/alice")
        .expect("alice via the role chain");
    assert!(alice["path"].as_array().unwrap().len() >= 3, "{alice}");
}

#[test]
fn timeout_is_unknown_never_a_pass() {
    let dir = crate::util::shared()
        .join("corpora/aws-managed-policies/versions/AWSConfigServiceRolePolicy");
    let old = dir.join("v59__092e3888caee.json");
    let new = dir.join("v60__24e659b50fa4.json");
    let (code, v) = run(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "json",
        "--timeout",
        "0",
    ]);
    // `--timeout 0` leaves no time for any solver question: deterministic whatever the load
    // (a 1 ms timeout answered "widened" on a fast run)
    assert_eq!((code, v["verdict"].as_str()), (3, Some("unknown")), "{v}");
}
