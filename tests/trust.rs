//! `iamprove trust` (issue 11): identity classes, witnesses that replay through the evaluator,
//! hazards with stable codes, CLI formats and exit statuses, `validate` on federated keys.

use crate::util::iamprove;
use iamprove::eval::{evaluate, Decision};
use iamprove::json::Json;
use iamprove::request::Principal;
use iamprove::trust::{self, Kind, RoleReport, Severity, TrustOptions};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/trust")
        .join(name)
}

fn analyze(name: &str, trusted: &[&str]) -> (trust::TrustRole, RoleReport) {
    let role = trust::load_file(&data(name)).unwrap();
    let opts = TrustOptions {
        trusted_accounts: trusted.iter().map(|s| (*s).to_owned()).collect(),
        ..TrustOptions::default()
    };
    let rep = trust::analyze(&role, &opts);
    (role, rep)
}

fn codes(rep: &RoleReport) -> Vec<(&'static str, Severity)> {
    rep.hazards.iter().map(|h| (h.code, h.severity)).collect()
}

/// Replay a witness (scenario request) the way docs/trust.md says: the trust policy as the role's
/// resource policy, plus an allow-all identity policy for signed AWS principals.
fn replay(role: &trust::TrustRole, witness: &serde_json::Value) -> Decision {
    let doc = serde_json::json!({ "request": witness });
    let mut sc = iamprove::scenario::scenario_from_json(
        &Json::from_value(&doc),
        "witness",
        Path::new("."),
        true,
    )
    .unwrap();
    let req = sc.request.take().unwrap();
    let full = if witness["action"] == "sts:AssumeRole" {
        trust::aws_replay_scenario(role, &req)
    } else {
        let mut s = iamprove::scenario::Scenario::empty();
        s.resource_policy = Some(role.policy.clone());
        s
    };
    evaluate(&full, &req).decision
}

const FIXTURES: &[&str] = &[
    "eks-any-namespace.json",
    "eks-irsa.json",
    "get-role.json",
    "github-no-sub.json",
    "github-org-wildcard.json",
    "github-pinned.json",
    "gitlab.json",
    "google.json",
    "org-pinned.json",
    "public.json",
    "saml-no-aud.json",
    "saml.json",
    "service-guarded.json",
    "service-unguarded.json",
    "terraform-cloud.json",
    "third-party-external-id.json",
    "third-party-no-external-id.json",
];

#[test]
fn every_witness_replays_through_eval() {
    for f in FIXTURES {
        let (role, rep) = analyze(f, &[]);
        assert!(rep.unknown.is_empty(), "{f}: {:?}", rep.unknown);
        assert!(!rep.assumable_by.is_empty(), "{f}: nobody");
        for id in &rep.assumable_by {
            assert_eq!(
                replay(&role, &id.witness),
                Decision::Allow,
                "{f}: {}",
                id.witness
            );
            assert_eq!(id.witness["resource"], serde_json::json!(role.arn), "{f}");
        }
        for h in &rep.hazards {
            if let Some(w) = &h.witness {
                assert_eq!(replay(&role, w), Decision::Allow, "{f}: {} {w}", h.code);
            }
        }
    }
}

/// Completeness over probes: every probe caller the evaluator lets assume the role belongs to a
/// reported class (its kind, and a principal entry of the class that names it, or `*`).
#[test]
fn classes_cover_every_allowed_probe() {
    let probes = [
        "arn:aws:iam::444455556666:root",
        "arn:aws:iam::444455556666:user/alice",
        "arn:aws:sts::444455556666:assumed-role/ops/s",
        "arn:aws:iam::111122223333:root",
        "arn:aws:sts::111122223333:assumed-role/admin/s",
        "arn:aws:iam::777788889999:user/mallory",
        "lambda.amazonaws.com",
        "ec2.amazonaws.com",
        "config.amazonaws.com",
        "anonymous",
    ];
    let contexts = [
        serde_json::json!({}),
        serde_json::json!({"sts:ExternalId": "12345"}),
        serde_json::json!({"sts:ExternalId": "Unique-ID-Assigned-by-Example-Corp"}),
        serde_json::json!({"aws:PrincipalOrgID": "o-a1b2c3d4e5"}),
    ];
    for f in FIXTURES {
        let (role, rep) = analyze(f, &[]);
        for p in probes {
            for ctx in &contexts {
                let w = serde_json::json!({
                    "principal": p, "action": "sts:AssumeRole", "resource": role.arn,
                    "resource_account": role.account(), "context": ctx,
                });
                if replay(&role, &w) != Decision::Allow {
                    continue;
                }
                let pr = Principal::parse(p).unwrap();
                let covered = rep.assumable_by.iter().any(|id| {
                    let pats = id.patterns.entries();
                    pats.iter().any(|x| {
                        let x = x.as_str();
                        x == "*"
                            || x == p
                            || (x.ends_with(":root") && x.split(':').nth(4) == Some(&pr.account))
                            || (x.contains(":role/")
                                && p.contains(":assumed-role/")
                                && x.rsplit('/').next() == p.split('/').nth(1))
                    })
                });
                assert!(
                    covered,
                    "{f}: allowed probe {p} {ctx} is in no reported class"
                );
            }
        }
    }
}

#[test]
fn github_pinned_has_one_class_and_no_hazard() {
    let (_, rep) = analyze("github-pinned.json", &[]);
    assert_eq!(rep.assumable_by.len(), 1);
    let id = &rep.assumable_by[0];
    assert_eq!(id.kind, Kind::Oidc);
    assert!(
        id.description
            .contains("owner `my-org`, repository `app`, branch `main`"),
        "{}",
        id.description
    );
    assert!(rep.hazards.is_empty(), "{:?}", rep.hazards);
}

#[test]
fn github_hazards() {
    let (_, rep) = analyze("github-no-sub.json", &[]);
    assert!(codes(&rep).contains(&("oidc-no-sub", Severity::Error)));
    let (_, rep) = analyze("github-org-wildcard.json", &[]);
    assert_eq!(codes(&rep), [("oidc-wildcard-sub", Severity::Warning)]);
    assert!(rep.assumable_by[0].description.contains("any repository"));
    // any owner: an error
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("github-org-wildcard.json"))
        .unwrap()
        .replace("repo:my-org/*", "repo:*");
    let p = crate::util::write(dir.path(), "any-owner.json", &text);
    let role = trust::load_file(&p).unwrap();
    let rep = trust::analyze(&role, &TrustOptions::default());
    assert!(codes(&rep).contains(&("oidc-wildcard-sub", Severity::Error)));
    assert!(rep.assumable_by[0].description.contains("any owner"));
}

#[test]
fn two_repositories_are_two_classes() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("github-pinned.json"))
        .unwrap()
        .replace(
            "\"repo:my-org/app:ref:refs/heads/main\"",
            "[\"repo:my-org/app:ref:refs/heads/main\", \"repo:my-org/infra:environment:prod\"]",
        );
    let p = crate::util::write(dir.path(), "two.json", &text);
    let role = trust::load_file(&p).unwrap();
    let rep = trust::analyze(&role, &TrustOptions::default());
    let mut d: Vec<&str> = rep
        .assumable_by
        .iter()
        .map(|i| i.description.as_str())
        .collect();
    d.sort_unstable();
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d.iter().any(|x| x.contains("environment `prod`")), "{d:?}");
    assert!(d.iter().any(|x| x.contains("branch `main`")), "{d:?}");
}

#[test]
fn eks_gitlab_terraform_saml_google() {
    let (_, rep) = analyze("eks-irsa.json", &[]);
    assert!(rep.hazards.is_empty(), "{:?}", rep.hazards);
    assert!(rep.assumable_by[0]
        .description
        .contains("namespace `default`, service account `my-service-account`"));
    let (_, rep) = analyze("eks-any-namespace.json", &[]);
    assert!(codes(&rep).contains(&("oidc-wildcard-sub", Severity::Error)));
    assert!(codes(&rep).contains(&("oidc-no-aud", Severity::Warning)));
    let (_, rep) = analyze("gitlab.json", &[]);
    assert!(rep.hazards.is_empty(), "{:?}", rep.hazards);
    let (_, rep) = analyze("terraform-cloud.json", &[]);
    assert_eq!(codes(&rep), [("oidc-wildcard-sub", Severity::Warning)]);
    let (_, rep) = analyze("saml.json", &[]);
    assert!(rep.hazards.is_empty());
    assert_eq!(rep.assumable_by[0].kind, Kind::Saml);
    let (_, rep) = analyze("saml-no-aud.json", &[]);
    assert_eq!(codes(&rep), [("saml-no-aud", Severity::Warning)]);
    let (_, rep) = analyze("google.json", &[]);
    assert!(codes(&rep).contains(&("oidc-no-aud", Severity::Error)));
    assert!(codes(&rep).contains(&("oidc-no-sub", Severity::Error)));
}

#[test]
fn aws_and_service_hazards() {
    let (_, rep) = analyze("third-party-no-external-id.json", &[]);
    assert!(codes(&rep).contains(&("third-party-no-external-id", Severity::Error)));
    assert!(codes(&rep).contains(&("cross-account-root", Severity::Warning)));
    // the account is ours: no third-party hazard, root trust is informational
    let (_, rep) = analyze("third-party-no-external-id.json", &["444455556666"]);
    assert_eq!(codes(&rep), [("cross-account-root", Severity::Info)]);
    assert_eq!(rep.assumable_by[0].trusted, Some(true));
    let (_, rep) = analyze("third-party-external-id.json", &[]);
    assert!(!codes(&rep)
        .iter()
        .any(|c| c.0 == "third-party-no-external-id"));
    let (_, rep) = analyze("public.json", &[]);
    assert_eq!(codes(&rep), [("public-trust", Severity::Error)]);
    let (_, rep) = analyze("org-pinned.json", &[]);
    assert!(rep.hazards.is_empty(), "{:?}", rep.hazards);
    let (_, rep) = analyze("service-unguarded.json", &[]);
    assert_eq!(
        codes(&rep),
        [
            ("service-no-source-guard", Severity::Warning),
            ("service-no-source-guard", Severity::Warning)
        ]
    );
    assert_eq!(rep.assumable_by.len(), 2);
    let (_, rep) = analyze("service-guarded.json", &[]);
    assert!(rep.hazards.is_empty(), "{:?}", rep.hazards);
}

#[test]
fn get_role_envelope_names_the_role_and_both_entries() {
    let (role, rep) = analyze("get-role.json", &[]);
    assert_eq!(rep.role, "arn:aws:iam::111122223333:role/vendor-access");
    assert_eq!(role.account(), "111122223333");
    let mut d: Vec<&str> = rep
        .assumable_by
        .iter()
        .map(|i| i.description.as_str())
        .collect();
    d.sort_unstable();
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d[0].contains("444455556666"), "{d:?}");
    assert!(d[1].contains("role/admin"), "{d:?}");
    // both require the external ID
    for i in &rep.assumable_by {
        assert_eq!(i.conditions, ["StringEquals sts:ExternalId `12345`"]);
    }
}

/// A Deny on the claim narrows the class; the witness avoids it.
#[test]
fn deny_statement_narrows_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let p = crate::util::write(
        dir.path(),
        "deny.json",
        r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
           "Action":"sts:AssumeRoleWithWebIdentity",
           "Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
                        "StringLike":{"token.actions.githubusercontent.com:sub":"repo:my-org/*"}}},
          {"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity",
           "Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:my-org/*:pull_request"}}}]}"#,
    );
    let role = trust::load_file(&p).unwrap();
    let rep = trust::analyze(&role, &TrustOptions::default());
    assert_eq!(rep.assumable_by.len(), 1, "{:?}", rep.assumable_by);
    let id = &rep.assumable_by[0];
    assert!(id.description.contains("and not"), "{}", id.description);
    assert_eq!(replay(&role, &id.witness), Decision::Allow);
}

#[test]
fn cli_formats_and_exit_statuses() {
    // error hazard: exit 1; JSON shape of the issue
    let out = iamprove()
        .args(["trust", "--format", "json"])
        .arg(data("github-no-sub.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["roles"][0];
    assert_eq!(r["assumable_by"][0]["kind"], "oidc");
    assert!(r["assumable_by"][0]["witness"]["context"].is_object());
    assert_eq!(r["hazards"][0]["code"], "oidc-no-sub");
    assert_eq!(r["hazards"][0]["statement"], "Statement[0]");
    // no error hazard: exit 0
    iamprove()
        .arg("trust")
        .arg(data("github-pinned.json"))
        .assert()
        .code(0);
    // --trusted-accounts turns the third-party error off
    iamprove()
        .args(["trust", "--trusted-accounts", "444455556666"])
        .arg(data("third-party-no-external-id.json"))
        .assert()
        .code(0);
    // SARIF: rule ids IAMP-TRUST-<code>, located at the statement
    let out = iamprove()
        .args(["trust", "--format", "sarif"])
        .arg(data("eks-any-namespace.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "IAMP-TRUST-oidc-wildcard-sub"));
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert!(region["startLine"].as_u64().unwrap() >= 3, "{region}");
    // bad input: exit 2 with the file named
    let dir = tempfile::tempdir().unwrap();
    let bad = crate::util::write(
        dir.path(),
        "bad.json",
        r#"{"Statement": [{"Effect": "Allow"}]}"#,
    );
    let out = iamprove().arg("trust").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}

#[test]
fn account_dump_roles() {
    let dump = crate::util::shared()
        .join("corpora/account-dumps/cloudmapper-demo/iam-get-account-authorization-details.json");
    let out = iamprove()
        .args(["trust", "--format", "json", "--account"])
        .arg(&dump)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let roles = v["roles"].as_array().unwrap();
    let bad = roles
        .iter()
        .find(|r| r["role"].as_str().unwrap().ends_with(":role/bad_role"))
        .unwrap();
    assert_eq!(bad["hazards"][0]["code"], "public-trust");
    assert!(roles.iter().all(|r| r["unknown"].is_null()));
}

#[test]
fn validate_knows_federated_keys() {
    for f in [
        "github-pinned.json",
        "eks-irsa.json",
        "saml.json",
        "gitlab.json",
    ] {
        let out = iamprove()
            .args(["validate", "--format", "json"])
            .arg(data(f))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("unknown-condition-key"), "{f}: {text}");
    }
}

#[test]
fn only_assumable_by_invariant() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/github-oidc-pinned.json");
    iamprove().arg("check").arg(&spec).assert().code(0);
    // the same spec on a trust policy that admits every repository of the owner: violated,
    // with a counterexample that replays through eval
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "../examples/trust/github-main.json",
        data("github-org-wildcard.json").to_str().unwrap(),
    );
    let p = crate::util::write(dir.path(), "spec.json", &text);
    let out = iamprove()
        .args(["check", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["status"], "violated");
    let cx = &r["counterexample"];
    let sub = cx["context"]["token.actions.githubusercontent.com:sub"]
        .as_str()
        .unwrap();
    assert!(sub.starts_with("repo:my-org/") && sub != "repo:my-org/app:ref:refs/heads/main");
    let role = trust::load_file(&data("github-org-wildcard.json")).unwrap();
    assert_eq!(replay(&role, cx), Decision::Allow);
    // AWS principals: a role ARN admits its sessions; an unlisted one is a counterexample
    let vendor = crate::util::write(
        dir.path(),
        "vendor.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::111122223333:role/admin"]},
            "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"12345"}}}]}"#,
    );
    let spec = crate::util::write(
        dir.path(),
        "aws.json",
        r#"{"target": {"policy": "vendor.json", "type": "trust"}, "invariants": [
            {"id": "listed", "only_assumable_by": {"aws": ["arn:aws:iam::111122223333:role/admin", "444455556666"]}},
            {"id": "own-only", "only_assumable_by": {"aws": ["111122223333"]}}]}"#,
    );
    let out = iamprove()
        .args(["check", "--format", "json"])
        .arg(&spec)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["status"], "holds");
    assert_eq!(v["results"][1]["status"], "violated");
    assert_eq!(
        v["results"][1]["counterexample"]["principal"],
        "arn:aws:iam::444455556666:root"
    );
    let _ = vendor;
    // an unlisted provider is a violation; a policy that never tests sub violates a sub list
    let spec = crate::util::write(
        dir.path(),
        "nosub.json",
        &format!(
            r#"{{"target": {{"policy": "{}", "type": "trust"}}, "invariants": [
            {{"id": "pinned", "only_assumable_by": {{"federated": [{{"provider": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com", "sub": ["repo:my-org/app:*"]}}]}}}},
            {{"id": "nobody", "only_assumable_by": {{}}}}]}}"#,
            data("github-no-sub.json").display()
        ),
    );
    let out = iamprove()
        .args(["check", "--format", "json"])
        .arg(&spec)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["status"], "violated", "{v}");
    assert_eq!(v["results"][1]["status"], "violated", "{v}");
    let role = trust::load_file(&data("github-no-sub.json")).unwrap();
    for r in v["results"].as_array().unwrap() {
        assert_eq!(replay(&role, &r["counterexample"]), Decision::Allow, "{r}");
    }
}

#[test]
fn sarif_output_is_schema_valid_and_covers_the_dump() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
    )
    .unwrap();
    // the official schema's one broken pattern (as in tests/sarif.rs)
    let bad = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    let schema: serde_json::Value =
        serde_json::from_str(&text.replace(bad, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}?$""#))
            .unwrap();
    let validator = jsonschema::options().build(&schema).unwrap();
    let dump = crate::util::shared()
        .join("corpora/account-dumps/cloudmapper-demo/iam-get-account-authorization-details.json");
    let out = iamprove()
        .args(["trust", "--format", "sarif", "--account"])
        .arg(&dump)
        .arg(data("get-role.json"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let public = results
        .iter()
        .find(|r| r["ruleId"] == "IAMP-TRUST-public-trust")
        .unwrap();
    // located in the dump file, at the role's trust statement
    let loc = &public["locations"][0]["physicalLocation"];
    assert!(loc["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("iam-get-account-authorization-details.json"));
    assert!(loc["region"]["startLine"].as_u64().unwrap() > 1);
}

#[test]
fn diff_of_trust_policies_names_the_newly_admitted_identities() {
    // issue 11, item 5: pinned main branch → any repository of the owner
    let dir = tempfile::tempdir().unwrap();
    let stmt = |cond: serde_json::Value| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": cond}]})
    };
    let old = stmt(serde_json::json!({"StringEquals": {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:my-org/app:ref:refs/heads/main"}}));
    let new = stmt(serde_json::json!({
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org/*"}}));
    let (o, n) = (dir.path().join("old.json"), dir.path().join("new.json"));
    std::fs::write(&o, old.to_string()).unwrap();
    std::fs::write(&n, new.to_string()).unwrap();
    let out = assert_cmd::Command::cargo_bin("iamprove")
        .unwrap()
        .args([
            "diff",
            o.to_str().unwrap(),
            n.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = &v["findings"][0]["identity"];
    assert_eq!(id["kind"], "oidc", "{v}");
    let d = id["description"].as_str().unwrap();
    assert!(
        d.starts_with("now admits GitHub Actions workflows of owner `my-org`, any repository"),
        "{d}"
    );
    assert_eq!(id["sub"]["matches"][0], "repo:my-org/*");
    // the text report leads with it
    let out = assert_cmd::Command::cargo_bin("iamprove")
        .unwrap()
        .args(["diff", o.to_str().unwrap(), n.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("now admits GitHub Actions workflows of owner `my-org`"));
    // dropping `sub` altogether: any subject
    let none = stmt(
        serde_json::json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}),
    );
    std::fs::write(&n, none.to_string()).unwrap();
    let out = assert_cmd::Command::cargo_bin("iamprove")
        .unwrap()
        .args([
            "diff",
            o.to_str().unwrap(),
            n.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["findings"][0]["identity"]["description"]
            .as_str()
            .unwrap()
            .contains("with any subject"),
        "{v}"
    );
}
