//! Issue 9, part P: federated callers (OIDC and SAML providers) and principal-derived keys.
//! Each test is a reproduced case: the CLI is run as a user would, and every finding is replayed.

use crate::util::{iamprove, write};
use serde_json::{json, Value};
use std::path::Path;

const GITHUB: &str = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

fn trust(principal: Value, action: &str, cond: Value) -> Value {
    let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": action});
    if !cond.is_null() {
        s["Condition"] = cond;
    }
    json!({"Version": "2012-10-17", "Statement": [s]})
}

fn github_trust(sub: Option<&str>) -> Value {
    let mut eq = json!({"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"});
    if let Some(s) = sub {
        eq["token.actions.githubusercontent.com:sub"] = json!(s);
    }
    trust(
        json!({"Federated": GITHUB}),
        "sts:AssumeRoleWithWebIdentity",
        json!({"StringEquals": eq}),
    )
}

/// `iamprove eval` on a scenario: the decision.
fn eval(dir: &Path, scenario: &Value) -> String {
    let p = write(dir, "scenario.json", &scenario.to_string());
    let out = iamprove()
        .args(["eval", p.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["decision"].as_str().unwrap().to_owned()
}

/// `iamprove diff OLD NEW [extra]` → (exit code, report).
fn diff(dir: &Path, old: &Value, new: &Value, extra: &[&str]) -> (i32, Value) {
    let o = write(dir, "old.json", &old.to_string());
    let n = write(dir, "new.json", &new.to_string());
    let out = iamprove()
        .args([
            "diff",
            o.to_str().unwrap(),
            n.to_str().unwrap(),
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "unreadable diff output: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v)
}

/// The trust policy alone decides a federated finding (conformance.py's replay).
fn replay_trust(dir: &Path, policy: &Value, request: &Value) -> String {
    eval(dir, &json!({"request": request, "resource_policy": policy}))
}

fn oidc_request(sub: &str) -> Value {
    json!({"principal": GITHUB, "action": "sts:AssumeRoleWithWebIdentity",
           "resource": "arn:aws:iam::111122223333:role/deploy",
           "context": {"token.actions.githubusercontent.com:sub": sub,
                       "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}})
}

#[test]
fn eval_accepts_web_identity_callers() {
    let dir = tempfile::tempdir().unwrap();
    let pol = github_trust(Some("repo:my-org/app:ref:refs/heads/main"));
    let ok = oidc_request("repo:my-org/app:ref:refs/heads/main");
    assert_eq!(replay_trust(dir.path(), &pol, &ok), "Allow");
    let other = oidc_request("repo:someone-else/app:ref:refs/heads/main");
    assert_eq!(replay_trust(dir.path(), &pol, &other), "ImplicitDeny");
    // a web-identity caller cannot call anything but its STS actions, nor a non-role resource
    let mut wrong = ok.clone();
    wrong["action"] = json!("sts:AssumeRole");
    let any = trust(json!({"Federated": GITHUB}), "sts:*", Value::Null);
    assert_eq!(replay_trust(dir.path(), &any, &wrong), "ImplicitDeny");
    let mut tag = ok.clone();
    tag["action"] = json!("sts:TagSession");
    assert_eq!(replay_trust(dir.path(), &any, &tag), "Allow");
    let mut saml_action = ok;
    saml_action["action"] = json!("sts:AssumeRoleWithSAML");
    assert_eq!(replay_trust(dir.path(), &any, &saml_action), "ImplicitDeny");
}

#[test]
fn well_known_hosts_are_federated_callers_not_services() {
    let dir = tempfile::tempdir().unwrap();
    let req = json!({"principal": "accounts.google.com", "action": "sts:AssumeRoleWithWebIdentity",
                     "resource": "arn:aws:iam::111122223333:role/web",
                     "context": {"accounts.google.com:aud": "my-app"}});
    let fed = trust(
        json!({"Federated": "accounts.google.com"}),
        "sts:AssumeRoleWithWebIdentity",
        json!({"StringEquals": {"accounts.google.com:aud": "my-app"}}),
    );
    assert_eq!(replay_trust(dir.path(), &fed, &req), "Allow");
    // the same name under `Service` names a service principal, which this caller is not
    let svc = trust(
        json!({"Service": "accounts.google.com"}),
        "sts:AssumeRoleWithWebIdentity",
        Value::Null,
    );
    assert_eq!(replay_trust(dir.path(), &svc, &req), "ImplicitDeny");
    // and an account entry does not name the providers of that account
    let acct = trust(
        json!({"AWS": "111122223333"}),
        "sts:AssumeRoleWithWebIdentity",
        Value::Null,
    );
    assert_eq!(
        replay_trust(
            dir.path(),
            &acct,
            &oidc_request("repo:my-org/app:ref:refs/heads/main")
        ),
        "ImplicitDeny"
    );
}

#[test]
fn saml_callers() {
    let dir = tempfile::tempdir().unwrap();
    let pol = trust(
        json!({"Federated": "arn:aws:iam::111122223333:saml-provider/Corp"}),
        "sts:AssumeRoleWithSAML",
        json!({"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}),
    );
    let req = |p: &str| {
        json!({"principal": p, "action": "sts:AssumeRoleWithSAML",
        "resource": "arn:aws:iam::111122223333:role/sso",
        "context": {"SAML:aud": "https://signin.aws.amazon.com/saml"}})
    };
    assert_eq!(
        replay_trust(
            dir.path(),
            &pol,
            &req("arn:aws:iam::111122223333:saml-provider/Corp")
        ),
        "Allow"
    );
    assert_eq!(
        replay_trust(
            dir.path(),
            &pol,
            &req("arn:aws:iam::111122223333:saml-provider/Other")
        ),
        "ImplicitDeny"
    );
}

/// Every finding replays: NEW allows its request, OLD does not (trust policy alone).
fn assert_widened_and_replays(dir: &Path, old: &Value, new: &Value, extra: &[&str]) -> Vec<Value> {
    let (code, report) = diff(dir, old, new, extra);
    assert_eq!(code, 1, "expected widened: {report}");
    assert_eq!(report["verdict"], "widened");
    let findings = report["findings"].as_array().unwrap().clone();
    assert!(!findings.is_empty());
    for f in &findings {
        let r = &f["request"];
        assert_eq!(replay_trust(dir, new, r), "Allow", "{r}");
        assert_ne!(replay_trust(dir, old, r), "Allow", "{r}");
    }
    findings
}

#[test]
fn dropping_the_sub_condition_widens() {
    let dir = tempfile::tempdir().unwrap();
    let old = github_trust(Some("repo:my-org/app:ref:refs/heads/main"));
    let new = github_trust(None);
    for extra in [&[][..], &["--type", "trust"][..]] {
        let f = assert_widened_and_replays(dir.path(), &old, &new, extra);
        // the finding shows who the caller is: another repository's subject
        let sub = &f[0]["request"]["context"]["token.actions.githubusercontent.com:sub"];
        assert!(
            sub.as_str()
                .is_some_and(|s| s != "repo:my-org/app:ref:refs/heads/main"),
            "{f:?}"
        );
    }
    // widening the subject with a wildcard widens too
    let wide = trust(
        json!({"Federated": GITHUB}),
        "sts:AssumeRoleWithWebIdentity",
        json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
               "StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org/*"}}),
    );
    assert_widened_and_replays(dir.path(), &old, &wide, &[]);
    // reordering the same conditions is no widening
    let (code, report) = diff(dir.path(), &old, &old, &[]);
    assert_eq!((code, report["verdict"].as_str()), (0, Some("no_widening")));
}

#[test]
fn adding_a_saml_provider_widens() {
    let dir = tempfile::tempdir().unwrap();
    let cond = json!({"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}});
    let old = trust(
        json!({"Federated": "arn:aws:iam::111122223333:saml-provider/Corp"}),
        "sts:AssumeRoleWithSAML",
        cond.clone(),
    );
    let new = trust(
        json!({"Federated": ["arn:aws:iam::111122223333:saml-provider/Corp",
                             "arn:aws:iam::111122223333:saml-provider/NotMine"]}),
        "sts:AssumeRoleWithSAML",
        cond,
    );
    let f = assert_widened_and_replays(dir.path(), &old, &new, &[]);
    assert_eq!(
        f[0]["request"]["principal"],
        "arn:aws:iam::111122223333:saml-provider/NotMine"
    );
    // and adding a new web-identity provider without an ARN
    let google = trust(
        json!({"Federated": ["arn:aws:iam::111122223333:saml-provider/Corp", "accounts.google.com"]}),
        "sts:AssumeRoleWithSAML",
        Value::Null,
    );
    let google = {
        let mut g = google;
        g["Statement"][0]["Action"] =
            json!(["sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"]);
        g
    };
    assert_widened_and_replays(dir.path(), &old, &google, &[]);
}

#[test]
fn check_forbid_everything_on_a_federated_trust_policy_is_violated() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "trust.json",
        &github_trust(Some("repo:my-org/app:ref:refs/heads/main")).to_string(),
    );
    let spec = write(
        dir.path(),
        "spec.json",
        &json!({"target": {"policy": "trust.json", "type": "trust"},
                "invariants": [{"id": "nothing", "forbid": {"Action": "*"}},
                               {"id": "only-my-org", "forbid": {"Action": "*", "Condition": {"StringNotLike": {"token.actions.githubusercontent.com:sub": "repo:my-org/*"}}}}]})
        .to_string(),
    );
    let out = iamprove()
        .args(["check", spec.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(GITHUB), "{text}");
    let verdict = |id: &str| {
        text.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.len() >= 2 && w[1] == id)
            .map(|w| w[0].to_owned())
    };
    assert_eq!(verdict("nothing").as_deref(), Some("violated"), "{text}");
    assert_eq!(verdict("only-my-org").as_deref(), Some("holds"), "{text}");
}

/// Principal-derived keys are functions of the principal: a policy naming a principal and one
/// naming `*` with the matching key condition are equivalent, in both directions.
#[test]
fn principal_keys_follow_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    let res = "arn:aws:sqs:us-east-1:444455556666:q";
    let pol = |principal: Value, cond: Value| {
        let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": res});
        if !cond.is_null() {
            s["Condition"] = cond;
        }
        json!({"Version": "2012-10-17", "Statement": [s]})
    };
    let pairs = [
        (
            pol(json!({"AWS": "111122223333"}), Value::Null),
            pol(
                json!("*"),
                json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}),
            ),
        ),
        (
            pol(
                json!({"AWS": "arn:aws:iam::111122223333:user/alice"}),
                Value::Null,
            ),
            pol(
                json!("*"),
                json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}}),
            ),
        ),
        (
            pol(
                json!({"AWS": "arn:aws:iam::111122223333:role/app"}),
                Value::Null,
            ),
            pol(
                json!("*"),
                json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/app"}}),
            ),
        ),
        (
            pol(
                json!({"AWS": "arn:aws:iam::111122223333:user/alice"}),
                Value::Null,
            ),
            pol(
                json!({"AWS": "111122223333"}),
                json!({"StringEquals": {"aws:username": "alice", "aws:PrincipalType": "User"}}),
            ),
        ),
    ];
    // (a role ARN entry also names sessions of the role under another path, which a
    // PrincipalArn condition does not; a user named alice under another path has the same
    // aws:username: those directions really differ in the model)
    let named_no_wider = [true, true, false, true];
    let key_no_wider = [true, true, true, false];
    for (i, (a, b)) in pairs.iter().enumerate() {
        if named_no_wider[i] {
            let (code, report) = diff(dir.path(), b, a, &[]);
            assert_eq!(code, 0, "pair {i} (named principal is no wider): {report}");
        }
        if key_no_wider[i] {
            let (code, report) = diff(dir.path(), a, b, &[]);
            assert_eq!(code, 0, "pair {i} (key condition is no wider): {report}");
        }
    }
    // a real widening is still found, with a consistent principal
    let old = pol(
        json!("*"),
        json!({"StringEquals": {"aws:PrincipalType": "User", "aws:PrincipalAccount": "111122223333"}}),
    );
    let new = pol(
        json!("*"),
        json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}),
    );
    let (code, report) = diff(dir.path(), &old, &new, &[]);
    assert_eq!(code, 1, "{report}");
    let r = &report["findings"][0]["request"];
    let p = r["principal"].as_str().unwrap();
    assert!(p.contains(":111122223333:") && !p.contains(":user/"), "{r}");
    if let Some(t) = r["context"].get("aws:PrincipalType") {
        assert_ne!(t, "User", "{r}");
    }
}
