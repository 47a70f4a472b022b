//! Account-wide analysis: hand-built accounts and the IAM-Vulnerable corpus.

use assert_cmd::Command;
use iamprove::account::escalate::escalations;
use iamprove::account::{can, principals_reaching, Env, Graph, Inputs, Verdict};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/account")
        .join(name)
}

fn env_with(org: Option<&str>, other: &[&str], rp: Option<&str>) -> Env {
    let inputs = Inputs {
        account: data("chain.json"),
        org: org.map(data),
        resource_policies: rp.map(data),
        other_accounts: other.iter().map(|o| data(o)).collect(),
    };
    match Env::load(&inputs) {
        Ok(e) => e,
        Err(errs) => panic!("load failed: {errs:?}"),
    }
}

fn ask(env: &Env, who: &str, action: &str, resource: &str) -> iamprove::account::CanAnswer {
    let g = Graph::build(env);
    let start = env.find(who).expect("principal");
    can(env, &g, start, action, resource)
}

const A: &str = "111111111111";

#[test]
fn chain_of_four_roles_with_mfa_condition_in_a_trust_policy() {
    let env = env_with(None, &[], None);
    let a = ask(&env, "alice", "iam:CreateUser", "*");
    assert_eq!(a.verdict, Verdict::OnlyUnderConditions);
    let hops: Vec<&str> = a
        .path
        .iter()
        .map(|s| s.resource.rsplit('/').next().unwrap_or(""))
        .collect();
    assert_eq!(hops, ["r1", "r2", "r3", "r4", "*"]);
    assert_eq!(a.conditions.len(), 1);
    assert_eq!(a.conditions[0].key, "aws:MultiFactorAuthPresent");
    assert_eq!(
        a.conditions[0].value.as_deref(),
        Some(&["true".to_string()][..])
    );
    // the hop into r3 is the conditional one
    assert!(a.path[2]
        .conditions
        .iter()
        .any(|c| c.key == "aws:MultiFactorAuthPresent"));
    assert!(a.path[0].conditions.is_empty());
}

#[test]
fn unconditional_chain_is_yes_and_stops_where_nothing_allows() {
    let env = env_with(None, &[], None);
    let a = ask(&env, "alice", "s3:PutObject", "arn:aws:s3:::b/k");
    assert_eq!(a.verdict, Verdict::Yes);
    assert!(a.conditions.is_empty());
    // bob's own Deny iam:* does not matter for s3, but nothing allows him s3 either
    assert_eq!(
        ask(&env, "bob", "s3:PutObject", "arn:aws:s3:::b/k").verdict,
        Verdict::No
    );
}

#[test]
fn boundary_on_a_role_in_the_chain_cuts_the_role_principal_grant() {
    let env = env_with(None, &[], None);
    let g = Graph::build(&env);
    let rb = env.find("rb").unwrap();
    let rb2 = env.find("rb2").unwrap();
    let rc = env.find("rc").unwrap();
    let rc2 = env.find("rc2").unwrap();
    // rb's boundary does not allow sts:AssumeRole: the trust policy naming rb is not enough
    assert!(!g.edges[rb].iter().any(|e| e.to == rc));
    assert!(g.edges[rb2].iter().any(|e| e.to == rc2));
    let ans = can(&env, &g, rb, "s3:DeleteBucket", "arn:aws:s3:::x");
    // rb itself has no identity policy: the boundary alone grants nothing
    assert_eq!(ans.verdict, Verdict::No);
}

#[test]
fn scp_deny_cuts_the_path() {
    let env = env_with(Some("org-deny-r4.json"), &[], None);
    let a = ask(&env, "alice", "iam:CreateUser", "*");
    assert_eq!(a.verdict, Verdict::No);
    assert!(a.path.is_empty());
    // "no" explains itself: the refused hop r3 → r4 names the SCP statement of ou-prod
    let hop = a
        .blocked
        .iter()
        .find(|b| b.via.last().is_some_and(|v| v.ends_with("role/r4")))
        .unwrap_or_else(|| panic!("{:?}", a.blocked));
    assert!(hop.layer.contains("explicit deny (SCP)"), "{hop:?}");
    assert!(hop.detail.contains("ou-prod"), "{hop:?}");
    // and alice's own candidate: nothing allows her iam:CreateUser
    assert!(a
        .blocked
        .iter()
        .any(|b| b.principal.ends_with("user/alice") && b.layer == "missing allow"));
    // without the organization the same question is only-under-conditions
    let env = env_with(None, &[], None);
    assert_eq!(
        ask(&env, "alice", "iam:CreateUser", "*").verdict,
        Verdict::OnlyUnderConditions
    );
}

#[test]
fn cross_account_trust_needs_both_sides_and_the_external_id() {
    let env = env_with(None, &["other.json"], None);
    let a = ask(
        &env,
        "arn:aws:iam::222222222222:user/dave",
        "dynamodb:GetItem",
        &format!("arn:aws:dynamodb:us-east-1:{A}:table/t"),
    );
    assert_eq!(a.verdict, Verdict::OnlyUnderConditions);
    assert_eq!(a.conditions[0].key, "sts:ExternalId");
    assert_eq!(
        a.conditions[0].value.as_deref(),
        Some(&["s3cr3t".to_string()][..])
    );
    // eve's account trusts her nothing: the trust policy alone does not do it
    let e = ask(
        &env,
        "arn:aws:iam::222222222222:user/eve",
        "dynamodb:GetItem",
        &format!("arn:aws:dynamodb:us-east-1:{A}:table/t"),
    );
    assert_eq!(e.verdict, Verdict::No);
}

#[test]
fn resource_policies_admit_cross_account_callers_directly() {
    let env = env_with(None, &["other.json"], Some("resource-policies.json"));
    let g = Graph::build(&env);
    let who = principals_reaching(&env, &g, "s3:GetObject", "arn:aws:s3:::shared-bucket/k");
    let arns: Vec<&str> = who.iter().map(|r| r.arn.as_str()).collect();
    // eve has no identity policy: cross-account needs both sides, so she is not listed
    assert!(
        !arns.contains(&"arn:aws:iam::222222222222:user/eve"),
        "{arns:?}"
    );
    // rc and rc2 have s3:* and the bucket is in no account (S3 ARNs carry none): same-account rules
    assert!(arns.iter().any(|a| a.ends_with("role/rc2")));
}

#[test]
fn who_can_lists_chains_with_conditions() {
    let env = env_with(None, &[], None);
    let g = Graph::build(&env);
    let who = principals_reaching(&env, &g, "iam:*", "*");
    let alice = who
        .iter()
        .find(|r| r.arn.ends_with("user/alice"))
        .expect("alice reaches iam:* through r4");
    assert!(!alice.conditions.is_empty());
    let r4 = who
        .iter()
        .find(|r| r.arn.ends_with("role/r4"))
        .expect("r4 directly");
    assert!(r4.conditions.is_empty());
    assert_eq!(r4.path.len(), 1);
    assert!(!who.iter().any(|r| r.arn.ends_with("user/bob")));
}

#[test]
fn explicit_deny_blocks_escalation() {
    let env = env_with(None, &[], None);
    let g = Graph::build(&env);
    let esc = escalations(&env, &g);
    let by = |who: &str| {
        esc.iter()
            .filter(|e| e.principal.ends_with(who))
            .collect::<Vec<_>>()
    };
    assert!(
        by("user/bob").is_empty(),
        "bob's Deny iam:* blocks PutUserPolicy: {:?}",
        by("user/bob")
    );
    let carol = by("user/carol");
    assert_eq!(carol.len(), 1);
    assert_eq!(carol[0].method.to_string(), "iam:PutUserPolicy");
    assert_eq!(carol[0].kind, "self");
    // rb cannot chain to rc (boundary), so it has no escalation
    assert!(by("role/rb").is_empty());
}

#[test]
fn malformed_dumps_are_located_errors() {
    for (f, path) in [
        ("bad-policy.json", "RoleDetailList[0].RolePolicyList[0].PolicyDocument.Statement[0].Condition.StringEqualz"),
        ("bad-type.json", "UserDetailList[0].GroupList"),
        ("bad-key.json", "UserDetailList[0].AttachedManagedPolicy"),
    ] {
        let out = Command::cargo_bin("iamprove").unwrap().args(["escalations", "--account"]).arg(data(f)).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{f}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(path), "{f}: {err}");
        assert!(err.contains(f), "{f}: {err}");
    }
}

#[test]
fn can_cli_exit_codes_and_json() {
    let run = |args: &[&str]| {
        Command::cargo_bin("iamprove")
            .unwrap()
            .args(args)
            .arg("--account")
            .arg(data("chain.json"))
            .output()
            .unwrap()
    };
    let out = run(&[
        "can",
        "alice",
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "yes");
    assert_eq!(v["path"][0]["action"], "sts:AssumeRole");
    assert_eq!(
        run(&["can", "bob", "s3:GetObject", "arn:aws:s3:::b/k"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&["can", "nobody", "s3:GetObject", "*"]).status.code(),
        Some(2)
    );
    // under -q the exit status is the answer: someone can (0), nobody can (1)
    assert_eq!(run(&["-q", "who-can", "iam:*"]).status.code(), Some(0));
    assert_eq!(
        run(&[
            "-q",
            "who-can",
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:999999999999:q"
        ])
        .status
        .code(),
        Some(1)
    );
    let out = run(&["who-can", "iam:*", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["principals"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["arn"] == format!("arn:aws:iam::{A}:role/r4")));
    let out = run(&["escalations", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &v["escalations"][0];
    assert!(e["principal"].is_string() && e["method"].is_string() && e["path"].is_array());
}

fn corpus() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [root.join("../shared"), root.join("../../shared")]
        .into_iter()
        .find(|p| p.join("corpora/account-dumps").is_dir())
}

#[test]
fn iam_vulnerable_recall_and_no_false_positives() {
    let Some(shared) = corpus() else {
        eprintln!("skipping: ../shared/corpora not found");
        return;
    };
    let base = shared.join("corpora/account-dumps/iam-vulnerable");
    let env =
        Env::from_paths(&base.join("examples/files/example.iam-vulnerable-pure.2023-07-01.json"))
            .expect("dump loads");
    let g = Graph::build(&env);
    let esc = escalations(&env, &g);
    let labels = std::fs::read_to_string(base.join("INDEX_iam_vulnerable_labels.csv")).unwrap();
    let (mut exp, mut hit, mut missed, mut fps) = (0, 0, Vec::new(), Vec::new());
    let reported = |arn: &str| esc.iter().any(|e| e.principal == arn);
    for line in labels.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 5 || f[0] != "pure_2023" {
            continue;
        }
        let (kind, arn, label) = (f[1], f[3], f[4]);
        let found = if kind == "group" {
            // a group is not a principal: count it when a member escalates
            let name = arn.rsplit('/').next().unwrap();
            env.main_account()
                .users
                .iter()
                .any(|u| u.groups.iter().any(|g| g == name) && reported(&u.arn))
        } else {
            reported(arn)
        };
        match label {
            "exploitable" => {
                exp += 1;
                if found {
                    hit += 1;
                } else {
                    missed.push(arn.to_owned());
                }
            }
            "not_exploitable" if found => fps.push(arn.to_owned()),
            _ => {}
        }
    }
    eprintln!("IAM-Vulnerable recall {hit}/{exp}; missed {missed:?}");
    assert!(fps.is_empty(), "false positives: {fps:?}");
    assert!(
        hit * 10 >= exp * 9,
        "recall {hit}/{exp} below 90%; missed {missed:?}"
    );
    // every reported escalation names a principal of the dump and a non-empty checked path
    assert!(esc
        .iter()
        .all(|e| !e.path.is_empty() && env.find(&e.principal).is_some()));
}

// ---------------------------------------------------------------- questions over patterns (issue 10)

fn pat(name: &str) -> PathBuf {
    data("patterns").join(name)
}

fn check_status(spec: &str) -> (Option<i32>, serde_json::Value) {
    let out = Command::cargo_bin("iamprove")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(pat(spec))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{spec}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

#[test]
fn account_forbid_quantifies_over_action_and_resource_patterns() {
    // alice may iam:CreateUser / iam:DeleteUser on user/*: every pattern covering one of those
    // requests is violated, whatever the invariant's resource
    for spec in [
        "spec-iam-star.json",
        "spec-create-user.json",
        "spec-delete-list.json",
        "spec-literal.json",
    ] {
        let (code, v) = check_status(spec);
        assert_eq!(code, Some(1), "{spec}: {v}");
        let r = &v["results"][0];
        assert_eq!(r["status"], "violated", "{spec}: {v}");
        assert!(r["violators"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["principal"] == "arn:aws:iam::111111111111:user/alice"));
        // the witness request is concrete and inside the invariant's patterns
        let c = &r["counterexample"]["request"];
        let act = c["action"].as_str().unwrap_or("");
        assert!(act.starts_with("iam:"), "{spec}: {c}");
        assert!(!act.contains('*'), "{spec}: {c}");
    }
    // iam actions on SQS ARNs: nothing allows them
    let (code, v) = check_status("spec-sqs.json");
    assert_eq!(code, Some(0), "{v}");
}

fn pattern_env() -> Env {
    Env::from_paths(&pat("users.json")).expect("loads")
}

#[test]
fn can_and_who_can_take_patterns() {
    let env = pattern_env();
    let g = Graph::build(&env);
    let alice = env.find("alice").unwrap();
    assert_eq!(can(&env, &g, alice, "iam:*", "*").verdict, Verdict::Yes);
    let a = can(&env, &g, alice, "iam:Delete*", "*");
    assert_eq!(a.verdict, Verdict::Yes);
    let last = a.path.last().unwrap();
    assert_eq!(last.action, "iam:DeleteUser");
    assert!(last.resource.starts_with("arn:aws:iam::111111111111:user/"));
    assert_eq!(
        can(
            &env,
            &g,
            alice,
            "iam:CreateUser",
            "arn:aws:sqs:us-east-1:111111111111:q"
        )
        .verdict,
        Verdict::No
    );
    // s3 on an SQS ARN: nobody
    let who = principals_reaching(
        &env,
        &g,
        "s3:PutObject",
        "arn:aws:sqs:us-east-1:111111111111:q",
    );
    assert!(who.is_empty(), "{who:?}");
    let who = principals_reaching(&env, &g, "s3:PutObject", "*");
    assert_eq!(who.len(), 1);
    assert!(who[0].arn.ends_with("user/sam"));
    // kms:Decrypt needs MFA: only under conditions, the condition printed as a condition
    let sam = env.find("sam").unwrap();
    let k = can(&env, &g, sam, "kms:Decrypt", "*");
    assert_eq!(k.verdict, Verdict::OnlyUnderConditions, "{k:?}");
    assert_eq!(k.conditions[0].key, "aws:MultiFactorAuthPresent");
    assert!(k.conditions[0].because[0].contains("aws:MultiFactorAuthPresent"));
}

#[test]
fn can_and_who_can_agree_on_role_assumption() {
    let env = env_with(None, &[], None);
    let g = Graph::build(&env);
    let alice = env.find("alice").unwrap();
    let r1 = format!("arn:aws:iam::{A}:role/r1");
    let a = can(&env, &g, alice, "sts:AssumeRole", &r1);
    assert_eq!(a.verdict, Verdict::Yes, "{a:?}");
    let who = principals_reaching(&env, &g, "sts:AssumeRole", &r1);
    assert!(who.iter().any(|r| r.arn.ends_with("user/alice")), "{who:?}");
    // every step of a printed path answers yes (or under conditions) with `can`
    let p = can(&env, &g, alice, "iam:CreateUser", "*");
    for s in &p.path {
        let n = env.find(&s.principal).unwrap();
        let v = can(&env, &g, n, &s.action, &s.resource).verdict;
        assert_ne!(v, Verdict::No, "{s:?}");
    }
}

#[test]
fn a_level_of_scps_without_allow_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.json");
    std::fs::write(
        &org,
        r#"{"levels": [{"name": "Root", "scps": [{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}]}]}"#,
    )
    .unwrap();
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        format!(
            r#"{{"target": {{"account": {:?}, "org": "org.json"}}, "invariants": [{{"id": "x", "forbid": {{"Action": "iam:*"}}}}]}}"#,
            pat("users.json").display().to_string()
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("iamprove")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(&spec)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("contain no Allow statement"), "{err}");
    assert!(
        err.contains("levels[0].scps") || err.contains("Root"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["status"], "holds");
    assert!(!v["results"][0]["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn outside_identities_are_entry_points_but_get_only_what_we_grant() {
    let env = Env::from_paths(&pat("open.json")).expect("loads");
    let g = Graph::build(&env);
    // the whole internet can assume the admin role: who-can, check and escalations say so
    let who = principals_reaching(&env, &g, "iam:CreateUser", "*");
    let arns: Vec<&str> = who.iter().map(|r| r.arn.as_str()).collect();
    assert!(arns.contains(&"arn:aws:iam::000000000000:root"), "{arns:?}");
    // the partner account's root gets iam:CreateUser only through a role of ours (open-admin
    // admits any account), never directly "in its own account" with no statement behind it
    for r in who.iter().filter(|r| r.kind.is_outside()) {
        assert!(r.path.len() >= 2, "{r:?}");
        assert_eq!(r.path[0].action, "sts:AssumeRole", "{r:?}");
        assert!(
            r.path.last().unwrap().principal.contains(":111111111111:"),
            "{r:?}"
        );
    }
    let esc = escalations(&env, &g);
    assert!(
        esc.iter()
            .any(|e| e.principal == "arn:aws:iam::000000000000:root"
                && e.target.as_deref() == Some("arn:aws:iam::111111111111:role/open-admin")),
        "{esc:?}"
    );
    let (code, v) = check_status("spec-open.json");
    assert_eq!(code, Some(1), "{v}");
    assert!(v["results"][0]["violators"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["principal"] == "arn:aws:iam::000000000000:root"));
}

#[test]
fn diff_both_directions_prints_narrowing_decisions_the_right_way_round() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    std::fs::write(&old, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#).unwrap();
    std::fs::write(&new, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#).unwrap();
    let out = Command::cargo_bin("iamprove")
        .unwrap()
        .args(["diff", "--direction", "both", "--format", "json"])
        .arg(&old)
        .arg(&new)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "narrowed")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["old_decision"], "Allow", "{f}");
    assert_eq!(f["new_decision"], "ImplicitDeny", "{f}");
}

/// Every other role of a generated dump is trusted by GitHub Actions instead (alternately with
/// and without a `sub` pin), or by a SAML provider.
fn with_federated_trusts(v: &mut serde_json::Value) {
    let roles = v["RoleDetailList"].as_array_mut().expect("roles");
    for (i, r) in roles.iter_mut().enumerate() {
        let fed = match i % 4 {
            0 => serde_json::json!({"Effect": "Allow", "Principal": {"Federated": GH},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}),
            1 => serde_json::json!({"Effect": "Allow", "Principal": {"Federated": GH},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org/*"}}}),
            2 => {
                serde_json::json!({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/idp"},
                "Action": "sts:AssumeRoleWithSAML"})
            }
            _ => continue,
        };
        r["AssumeRolePolicyDocument"] =
            serde_json::json!({"Version": "2012-10-17", "Statement": [fed]});
    }
}

/// Every third role of a generated dump (but the first) is trusted by a named session of the role
/// before it instead, and every fifth also by a session of a role in an account that is not loaded.
fn with_session_trusts(v: &mut serde_json::Value) {
    let roles = v["RoleDetailList"].as_array_mut().expect("roles");
    let names: Vec<String> = roles
        .iter()
        .map(|r| r["RoleName"].as_str().unwrap_or_default().to_owned())
        .collect();
    for (i, r) in roles.iter_mut().enumerate() {
        if i == 0 || i % 3 != 0 {
            continue;
        }
        let mut who = vec![format!(
            "arn:aws:sts::123456789012:assumed-role/{}/s{i}",
            names[i - 1]
        )];
        if i % 5 == 0 {
            who.push(format!("arn:aws:sts::210987654321:assumed-role/ci/b{i}"));
        }
        r["AssumeRolePolicyDocument"] = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": who}, "Action": "sts:AssumeRole"}]});
    }
}

/// Consistency over generated accounts: every step printed in any `who-can` path answers yes (or
/// only-under-conditions) with `can`, and `who-can` lists every principal `can` says yes for.
/// Seed 3 has federated trusts, seed 4 trusts in named sessions (issue 10, session names).
#[test]
fn can_and_who_can_are_consistent_on_generated_accounts() {
    use iamprove::account::load::account_from_json;
    for seed in 1..=4u64 {
        let mut v = iamprove::account::gen::generate(if seed == 4 { 30 } else { 14 }, seed);
        if seed == 3 {
            with_federated_trusts(&mut v);
        }
        if seed == 4 {
            with_session_trusts(&mut v);
        }
        let acct = account_from_json(&iamprove::json::Json::from_value(&v), "generated")
            .expect("generated dump loads");
        let env = Env::new(vec![acct], None, Default::default());
        let g = Graph::build(&env);
        let questions: &[(&str, &str)] = if seed == 3 {
            &[("iam:*", "*"), ("sts:AssumeRoleWith*", "*")]
        } else {
            &[
                ("iam:*", "*"),
                ("s3:Delete*", "arn:aws:s3:::bucket-1*"),
                ("sts:AssumeRole", "*"),
            ]
        };
        for &(action, resource) in questions {
            let who = principals_reaching(&env, &g, action, resource);
            for r in &who {
                for s in &r.path {
                    let n = env.find(&s.principal).expect("step principal is a node");
                    let v = can(&env, &g, n, &s.action, &s.resource).verdict;
                    assert_ne!(v, Verdict::No, "seed {seed} {action}: step {s:?}");
                }
            }
            for n in 0..env.nodes.len() {
                let v = can(&env, &g, n, action, resource).verdict;
                if matches!(v, Verdict::Yes | Verdict::OnlyUnderConditions) {
                    assert!(
                        who.iter().any(|r| r.arn == env.nodes[n].arn),
                        "seed {seed} {action}: can says {v:?} for {} but who-can omits it",
                        env.nodes[n].arn
                    );
                }
            }
        }
    }
}

/// `require` in account specs (issue 10): each named principal must be allowed every matching
/// request (itself or through a role it assumes unconditionally), with an allowed witness and,
/// for violations, a denied matching request, both replayed.
#[test]
fn account_require_needs_every_matching_request_allowed() {
    let (code, v) = check_status("spec-require.json");
    assert_eq!(code, Some(1), "{v}");
    let results = v["results"].as_array().unwrap();
    let by_id = |id: &str| {
        results
            .iter()
            .find(|r| r["invariant"] == id)
            .unwrap_or_else(|| panic!("{id}: {v}"))
    };
    let status = |id: &str| by_id(id)["status"].as_str().unwrap_or("").to_owned();
    // ops holds through the role it assumes; the witness is on logs/ and replays
    assert_eq!(status("ops-reads-logs"), "holds", "{v}");
    let sat = &by_id("ops-reads-logs")["satisfied"][0];
    assert_eq!(
        sat["via"], "arn:aws:iam::111111111111:role/ops-role",
        "{sat}"
    );
    assert_eq!(sat["path"][0]["action"], "sts:AssumeRole", "{sat}");
    let req = &sat["request"];
    assert!(req["resource"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:s3:::logs/"));
    // dev reaches only logs/public/*: a denied object outside it is the counterexample
    assert_eq!(status("dev-reads-logs"), "violated", "{v}");
    let c = &by_id("dev-reads-logs")["counterexample"];
    let res = c["request"]["resource"].as_str().unwrap();
    assert!(
        res.starts_with("arn:aws:s3:::logs/") && !res.starts_with("arn:aws:s3:::logs/public/"),
        "{c}"
    );
    assert_eq!(c["request"]["action"], "s3:GetObject", "{c}");
    assert_eq!(c["decision"], "ImplicitDeny", "{c}");
    assert_eq!(status("dev-reads-public-logs"), "holds", "{v}");
    assert_eq!(status("dev-writes-logs"), "violated", "{v}");
    // an explicit deny on part of the pattern violates it
    assert_eq!(status("sam-deletes-data"), "violated", "{v}");
    let c = &by_id("sam-deletes-data")["counterexample"];
    assert_eq!(c["decision"], "ExplicitDeny", "{c}");
    assert!(c["request"]["resource"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:s3:::data-keep/"));
    assert_eq!(status("sam-reads-data"), "holds", "{v}");
    // the question's own condition is part of the request; without it MFA is absent
    assert_eq!(status("sam-reads-table-with-mfa"), "holds", "{v}");
    assert_eq!(status("sam-reads-table"), "violated", "{v}");
    // a named principal that does not exist is a violation, not a vacuous proof
    assert_eq!(status("ghost"), "violated", "{v}");
}

#[test]
fn account_require_needs_principals() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        format!(
            r#"{{"target": {{"account": {:?}}}, "invariants": [{{"id": "x", "require": {{"Action": "s3:GetObject"}}}}]}}"#,
            pat("require.json").display().to_string()
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("iamprove")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invariants[0].principals"), "{err}");
}

const GH: &str = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";

/// Federated (OIDC/SAML) callers are entry points: who-can, can, check and escalations see a
/// role that any GitHub repository can assume; the pinned role is reached only under its `sub`
/// condition and is not an escalation.
#[test]
fn federated_identities_are_entry_points() {
    let env = Env::from_paths(&pat("federated.json")).expect("loads");
    let g = Graph::build(&env);
    let gh = env.find(GH).expect("the OIDC provider is a node");
    let saml = env
        .find("arn:aws:iam::111111111111:saml-provider/corp-idp")
        .expect("the SAML provider is a node");
    let who = principals_reaching(&env, &g, "iam:CreateUser", "*");
    let r = who
        .iter()
        .find(|r| r.arn == GH)
        .unwrap_or_else(|| panic!("{who:?}"));
    assert_eq!(r.path[0].action, "sts:AssumeRoleWithWebIdentity", "{r:?}");
    // every step answers with `can` (consistency), and `can` agrees with who-can
    for s in &r.path {
        let n = env.find(&s.principal).expect("step principal is a node");
        assert_ne!(
            can(&env, &g, n, &s.action, &s.resource).verdict,
            Verdict::No,
            "{s:?}"
        );
    }
    let a = can(&env, &g, gh, "iam:CreateUser", "*");
    assert_ne!(a.verdict, Verdict::No, "{a:?}");
    // the token's audience is a condition, printed as one
    assert!(
        a.conditions.iter().any(|c| c.key.ends_with(":aud")),
        "{a:?}"
    );
    // the pinned role: reached only with the pinned subject
    let p = can(
        &env,
        &g,
        gh,
        "sts:AssumeRoleWithWebIdentity",
        "arn:aws:iam::111111111111:role/gh-pinned",
    );
    assert_eq!(p.verdict, Verdict::OnlyUnderConditions, "{p:?}");
    assert!(
        p.conditions.iter().any(|c| c.key.ends_with(":sub")),
        "{p:?}"
    );
    // SAML: reaches its read role, and nothing of IAM
    let s = can(&env, &g, saml, "s3:GetObject", "arn:aws:s3:::reports/*");
    assert_ne!(s.verdict, Verdict::No, "{s:?}");
    assert_eq!(s.path[0].action, "sts:AssumeRoleWithSAML", "{s:?}");
    assert_eq!(can(&env, &g, saml, "iam:*", "*").verdict, Verdict::No);
    // escalations: the open role, not the pinned one
    let esc = escalations(&env, &g);
    let fed: Vec<_> = esc.iter().filter(|e| e.principal == GH).collect();
    assert_eq!(fed.len(), 1, "{esc:?}");
    assert_eq!(
        fed[0].target.as_deref(),
        Some("arn:aws:iam::111111111111:role/gh-admin")
    );
    assert!(
        fed[0].method.to_string().contains("oidc-no-sub"),
        "{:?}",
        fed[0]
    );
    // check: the provider violates "no principal reaches iam:*"
    let (code, v) = check_status("spec-federated.json");
    assert_eq!(code, Some(1), "{v}");
    assert!(v["results"][0]["violators"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["principal"] == GH));
}

/// escalations JSON is the same from run to run: a condition on `aws:TokenIssueTime` is printed
/// as the condition, without the time of the run as an example value.
#[test]
fn escalations_json_is_deterministic() {
    let run = || {
        let out = Command::cargo_bin("iamprove")
            .unwrap()
            .args(["escalations", "--format", "json", "--account"])
            .arg(pat("federated.json"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let a = run();
    assert!(a.contains("aws:TokenIssueTime"), "{a}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(a, run());
}

/// `no_public` on a trust policy: a GitHub OIDC trust pinned to the owner's repository is not
/// public; the same trust without a `sub` condition is (any repository can assume the role).
#[test]
fn no_public_is_exact_for_federated_trust() {
    let dir = tempfile::tempdir().unwrap();
    let run = |cond: serde_json::Value| {
        let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": GH},
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": cond}]});
        std::fs::write(dir.path().join("trust.json"), trust.to_string()).unwrap();
        std::fs::write(
            dir.path().join("spec.json"),
            r#"{"target": {"policy": "trust.json", "type": "resource"}, "invariants": [{"id": "np", "no_public": {}}]}"#,
        )
        .unwrap();
        let out = Command::cargo_bin("iamprove")
            .unwrap()
            .args(["check", "--format", "json"])
            .arg(dir.path().join("spec.json"))
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    let (code, v) = run(serde_json::json!({
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org/app:*"}}));
    assert_eq!(code, Some(0), "{v}");
    let (code, v) = run(serde_json::json!({
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}));
    assert_eq!(code, Some(1), "{v}");
    // another owner's repositories: public
    let (code, v) = run(serde_json::json!({
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}));
    assert_eq!(code, Some(1), "{v}");
}

/// A user of a hand-built dump with inline policies (statement lists).
fn inline_user(name: &str, policies: &[serde_json::Value]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = policies
        .iter()
        .enumerate()
        .map(|(i, st)| {
            serde_json::json!({"PolicyName": format!("{name}-{i}"),
                "PolicyDocument": {"Version": "2012-10-17", "Statement": st}})
        })
        .collect();
    serde_json::json!({"Path": "/", "UserName": name, "UserId": format!("AIDA{name}"),
        "Arn": format!("arn:aws:iam::123456789012:user/{name}"), "CreateDate": "2024-01-01T00:00:00Z",
        "UserPolicyList": list, "GroupList": [], "AttachedManagedPolicies": [], "Tags": []})
}

/// Shared answers (issue 10 item 6): principals whose statements differ only in statements
/// that cannot match the question's actions share one query; a relevant Deny keeps them apart.
#[test]
fn share_key_ignores_statements_that_cannot_match_the_question() {
    use iamprove::account::load::account_from_json;
    use iamprove::account::pattern::{share_key, Question};
    let allow_iam = serde_json::json!([{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]);
    let s3_read =
        serde_json::json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]);
    let deny_s3 = serde_json::json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]);
    let deny_create =
        serde_json::json!([{"Effect": "Deny", "Action": "iam:Create*", "Resource": "*"}]);
    let deny_user =
        serde_json::json!([{"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}]);
    let deny_all = serde_json::json!([{"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}]);
    let users = vec![
        inline_user("u1", std::slice::from_ref(&allow_iam)),
        inline_user("u2", &[allow_iam.clone(), s3_read.clone()]),
        inline_user("u3", &[s3_read.clone(), allow_iam.clone(), deny_s3]),
        inline_user("u4", &[allow_iam.clone(), deny_create]),
        inline_user("u5", &[allow_iam.clone(), deny_all]),
        inline_user("u6", &[s3_read]),
        inline_user("u7", &[allow_iam, deny_user]),
    ];
    let v = serde_json::json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": [], "Policies": []});
    let acct = account_from_json(&iamprove::json::Json::from_value(&v), "hand-built").unwrap();
    let env = Env::new(vec![acct], None, Default::default());
    let q = Question::new(&["iam:Delete*".to_owned()], &["*".to_owned()]).unwrap();
    let key = |u: &str| share_key(&env, env.find(u).unwrap(), &q).unwrap();
    // statements whose actions cannot match iam:Delete* do not count, wherever they are
    assert_eq!(key("u1"), key("u2"));
    assert_eq!(key("u1"), key("u3"));
    assert_eq!(key("u1"), key("u4"));
    // a NotAction Deny and a Deny on a matching action do
    assert_ne!(key("u1"), key("u5"));
    assert_ne!(key("u1"), key("u6"));
    assert_ne!(key("u1"), key("u7"));
    let g = Graph::build(&env);
    let who: Vec<String> = principals_reaching(&env, &g, "iam:Delete*", "*")
        .into_iter()
        .map(|r| r.arn.rsplit('/').next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(who, ["u1", "u2", "u3", "u4", "u7"], "{who:?}");
}

/// Exactness of shared answers on generated accounts: every principal sharing a key with
/// another gets the same verdict when asked on its own, and some keys are shared.
#[test]
fn shared_answers_equal_unshared_answers_on_generated_accounts() {
    use iamprove::account::load::account_from_json;
    use iamprove::account::pattern::{direct, share_key, Question};
    use std::collections::HashMap;
    let opts = iamprove::query::QueryOptions::default();
    let mut shared = 0;
    for seed in 1..=2u64 {
        let v = iamprove::account::gen::generate(60, seed);
        let acct = account_from_json(&iamprove::json::Json::from_value(&v), "generated")
            .expect("generated dump loads");
        let env = Env::new(vec![acct], None, Default::default());
        for (a, r) in [
            ("iam:*", "*"),
            ("s3:Delete*", "arn:aws:s3:::bucket-1*"),
            ("kms:Decrypt", "*"),
        ] {
            let q = Question::new(&[a.to_owned()], &[r.to_owned()]).unwrap();
            let mut first: HashMap<String, (usize, Verdict)> = HashMap::new();
            for n in 0..env.nodes.len() {
                let Some(k) = share_key(&env, n, &q) else {
                    continue;
                };
                let d = direct(&env, n, &q, &opts).verdict;
                match first.get(&k) {
                    Some((m, v)) => {
                        shared += 1;
                        assert_eq!(
                            *v, d,
                            "seed {seed} {a}: {} and {} share a key",
                            env.nodes[*m].arn, env.nodes[n].arn
                        );
                    }
                    None => {
                        first.insert(k, (n, d));
                    }
                }
            }
        }
    }
    assert!(shared > 20, "only {shared} shared answers");
}

/// The principals `check SPEC` lists as violators of its first invariant, which must be violated.
fn first_violators(spec: &str) -> (serde_json::Value, Vec<String>) {
    let (code, v) = check_status(spec);
    assert_eq!(code, Some(1), "{v}");
    let r = &v["results"][0];
    assert_eq!(r["status"], "violated", "{v}");
    let violators = r["violators"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["principal"].as_str().map(str::to_owned))
        .collect();
    (v, violators)
}

/// Issue 10: role-814 and app-1089 (cut from `gen-account --principals 10000 --seed 1`) both hold
/// policy-321 Statement[5] (Allow kms:Decrypt under IpAddress aws:SourceIp 10.53.0.0/16); `can`
/// answers yes for both, but the forbid listed only app-1089 as a violator: a false "no" for
/// role-814 (a KMS key without a loaded key policy counted as denying; now AWS's default key
/// policy is assumed).
#[test]
fn account_forbid_issue10_every_principal_can_reaches_is_a_violator() {
    let (v, violators) = first_violators("spec-issue10-kms.json");
    for p in [
        "arn:aws:iam::123456789012:role/app-1089",
        "arn:aws:iam::123456789012:role/role-814",
    ] {
        assert!(
            violators.iter().any(|x| x == p),
            "{p} missing from violators: {v}"
        );
    }
}

/// Issue 10, minimal form: a role whose only kms:Decrypt grant (on `arn:aws:kms:…:*`) is under
/// IpAddress aws:SourceIp; `can` answered only-under-conditions, yet `forbid kms:Decrypt` (no
/// Condition at all) answered "holds": a false proof.
#[test]
fn account_forbid_issue10_minimal_source_ip_grant_is_a_violator() {
    let (v, violators) = first_violators("spec-issue10-min.json");
    assert!(
        violators
            .iter()
            .any(|x| x == "arn:aws:iam::123456789012:role/only-ip"),
        "{v}"
    );
}

/// Scale (issue 10 item 6): `who-can`/account invariants answer each group of principals with the
/// same share key once, taking a representative's "no" or "unknown" over after the member's own
/// quick witness search. On generated accounts the shared answers equal answering every
/// principal on its own: the same principals reach each question, with the same unknowns.
#[test]
fn shared_no_answers_equal_unshared_answers_on_generated_accounts() {
    use iamprove::account::load::account_from_json;
    use iamprove::account::pattern::Question;
    use iamprove::account::{principals_reaching_q, principals_reaching_unshared};
    let questions: Vec<Question> = [
        r#"{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}"#,
        r#"{"Effect": "Allow", "Action": "s3:Delete*", "Resource": "arn:aws:s3:::bucket-1*"}"#,
        r#"{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1234"}}}"#,
        r#"{"Effect": "Allow", "Action": "dynamodb:*", "NotResource": "arn:aws:dynamodb:*:*:table/table-1"}"#,
    ]
    .iter()
    .map(|st| {
        let text = format!(r#"{{"Version": "2012-10-17", "Statement": [{st}]}}"#);
        let p = iamprove::parse::parse_policy_text(
            &text,
            iamprove::model::PolicyType::Identity,
            "question",
        )
        .unwrap();
        Question::from_policy(p)
    })
    .collect();
    let mut reached = 0;
    for seed in [1u64, 3] {
        let v = iamprove::account::gen::generate(80, seed);
        let acct = account_from_json(&iamprove::json::Json::from_value(&v), "generated")
            .expect("generated dump loads");
        let env = Env::new(vec![acct], None, Default::default());
        let g = Graph::build(&env);
        for q in &questions {
            let (a, ua) = principals_reaching_q(&env, &g, q);
            let (b, ub) = principals_reaching_unshared(&env, &g, q);
            let names = |r: &[iamprove::account::Reach]| -> Vec<String> {
                r.iter().map(|x| x.arn.clone()).collect()
            };
            assert_eq!(names(&a), names(&b), "seed {seed}");
            let un =
                |u: &[(String, String)]| -> Vec<String> { u.iter().map(|x| x.0.clone()).collect() };
            assert_eq!(un(&ua), un(&ub), "seed {seed}");
            reached += a.len();
        }
    }
    assert!(
        reached > 50,
        "only {reached} principals reach the questions"
    );
}

/// Issue 10, session principals: a role's trust policy naming one session of another role
/// (`arn:aws:sts::ACCT:assumed-role/deployer/release`). Whoever assumes `deployer` picks the
/// session name, so `deployer` (and alice, who can assume it) can assume `reader`: `can` and
/// `who-can` said so for the path to `s3:GetObject`, but asked about `sts:AssumeRole` on
/// `reader` directly, `deployer` acted only as a session named `iamprove`: `can` answered `no`,
/// `who-can` listed nobody and `forbid sts:AssumeRole` on `reader` answered **holds** (a false
/// proof, found while writing this test). A session of a role in an account that is not loaded
/// (`ci/build` in 999999999999) was no node at all.
#[test]
fn trust_in_a_named_session_admits_the_role_under_that_session_name() {
    let inputs = Inputs {
        account: pat("sessions.json"),
        ..Default::default()
    };
    let env = Env::load(&inputs).expect("loads");
    let g = Graph::build(&env);
    let reader = format!("arn:aws:iam::{A}:role/reader");
    let deployer = env
        .find(&format!("arn:aws:iam::{A}:role/deployer"))
        .unwrap();
    let alice = env.find(&format!("arn:aws:iam::{A}:user/alice")).unwrap();
    // the chain through the named session
    let a = can(&env, &g, alice, "s3:GetObject", "*");
    assert_eq!(a.verdict, Verdict::Yes, "{a:?}");
    assert_eq!(a.path.len(), 3, "{a:?}");
    // every step of it answers yes on its own
    for step in &a.path {
        let from = env.find(&step.principal).unwrap();
        let s = can(&env, &g, from, &step.action, &step.resource);
        assert_eq!(s.verdict, Verdict::Yes, "{step:?}: {s:?}");
    }
    let d = can(&env, &g, deployer, "sts:AssumeRole", &reader);
    assert_eq!(d.verdict, Verdict::Yes, "{d:?}");
    let who: Vec<String> = principals_reaching(&env, &g, "sts:AssumeRole", &reader)
        .into_iter()
        .map(|r| r.arn)
        .collect();
    // a session of a role in an account we do not have is an entry point of its own
    assert_eq!(
        who,
        [
            format!("arn:aws:iam::{A}:role/deployer"),
            format!("arn:aws:iam::{A}:user/alice"),
            "arn:aws:sts::999999999999:assumed-role/ci/build".to_owned(),
        ],
        "{who:?}"
    );
    let (v, violators) = first_violators("spec-sessions.json");
    assert!(
        violators.iter().any(|x| x.ends_with("role/deployer"))
            && violators.iter().any(|x| x.ends_with("user/alice")),
        "{v}"
    );
}

/// The account crate reports its long steps through `Env::progress` (it never prints): every
/// step starts with its principal count, each principal is counted once, and every step finishes.
#[test]
fn long_steps_report_progress_through_the_callback() {
    use iamprove::account::Progress;
    use std::sync::{Arc, Mutex};
    #[derive(Default)]
    struct Log(Mutex<Vec<(String, usize, usize, bool)>>);
    impl Progress for Log {
        fn start(&self, label: &str, total: usize) {
            self.0
                .lock()
                .unwrap()
                .push((label.to_owned(), total, 0, false));
        }
        fn inc(&self) {
            self.0.lock().unwrap().last_mut().unwrap().2 += 1;
        }
        fn finish(&self) {
            self.0.lock().unwrap().last_mut().unwrap().3 = true;
        }
    }
    let log = Arc::new(Log::default());
    let mut env = env_with(None, &[], None);
    env.progress = log.clone();
    let n = env.nodes.len();
    let g = Graph::build(&env);
    let _ = escalations(&env, &g);
    let _ = principals_reaching(&env, &g, "iam:CreateUser", "*");
    let steps = log.0.lock().unwrap().clone();
    let labels: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        labels,
        ["role assumption", "escalations", "direct permissions"]
    );
    for (label, total, done, finished) in &steps {
        assert_eq!(*total, n, "{label}");
        assert_eq!(*done, n, "{label}: every principal counted once");
        assert!(finished, "{label} finished");
    }
}
