//! Issue 9, part R: no false proofs over the request space. Regression tests for each reproduced
//! bug, and a solver-driven differential test whose generators cover catalog multivalued keys,
//! STRICT resources (KMS keys, roles for sts: actions), ARN wildcards in the region and account
//! segments and `sts:GetCallerIdentity`: every proof is checked against concrete requests, every
//! finding must be a request AWS can send.

use assert_cmd::Command;
use iamprove::diff::{compare, DiffOptions, Direction};
use iamprove::json::Json;
use iamprove::model::PolicyType;
use iamprove::query::{QueryOptions, Side};
use iamprove::request::{Context, CtxValue, Principal, Request};
use iamprove::scenario::Scenario;
use proptest::prelude::*;
use serde_json::{json, Value};

fn policy(doc: &Value, kind: PolicyType) -> iamprove::model::Policy {
    iamprove::parse::parse_policy(&Json::from_value(doc), kind, "test")
        .unwrap_or_else(|e| panic!("{doc}: {e:?}"))
}

fn identity(doc: &Value) -> Side {
    Side::Identity(vec![policy(doc, PolicyType::Identity)])
}

fn opts() -> DiffOptions {
    DiffOptions {
        kind: Some(PolicyType::Identity),
        max_findings: 3,
        direction: Direction::Widen,
        query: QueryOptions::default(),
    }
}

fn doc(stmts: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": stmts})
}

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

/// The oracle for identity-policy answers, written independently of `query::Side`: the policy
/// alone in the principal's account; a KMS key or a role (for sts: actions) with its own policy
/// delegating to the principal's account root (conformance.py's `strict_grant`).
pub(crate) fn oracle_allows(pol: &Value, req: &Request) -> bool {
    let mut sc = Scenario::empty();
    sc.identity_policies = vec![policy(pol, PolicyType::Identity)];
    let mut r = req.clone();
    r.resource_account = r.principal.account.clone();
    let strict_key = r.resource.contains(":kms:") && r.resource.contains(":key/");
    let strict_role = r.resource.starts_with("arn:aws:iam::")
        && r.resource.contains(":role/")
        && r.action.to_lowercase().starts_with("sts:");
    if strict_key || strict_role {
        let grant = doc(json!([{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{}:root", r.principal.account)},
            "Action": "*", "Resource": "*"}]));
        sc.resource_policy = Some(policy(&grant, PolicyType::Resource));
    }
    iamprove::eval::evaluate(&sc, &r).decision == iamprove::eval::Decision::Allow
}

fn request(action: &str, resource: &str, ctx: &[(&str, &[&str])]) -> Request {
    let mut context = Context::new();
    for (k, vs) in ctx {
        context.insert(
            k.to_lowercase(),
            CtxValue {
                key: k.to_string(),
                values: vs.iter().map(|v| v.to_string()).collect(),
                multi: vs.len() != 1,
            },
        );
    }
    Request::new(
        Principal::parse(ALICE).unwrap(),
        action,
        resource,
        None,
        context,
    )
}

fn assert_widened(old: &Value, new: &Value) -> Vec<Value> {
    let f = compare(&identity(old), &identity(new), &opts(), "widened");
    assert!(f.internal.is_none(), "{:?}", f.internal);
    assert!(f.unknown.is_none(), "{:?}", f.unknown);
    assert!(!f.findings.is_empty(), "expected a widening");
    // the findings in their JSON form (what the reports print)
    f.findings
        .iter()
        .map(|x| serde_json::to_value(x).unwrap())
        .collect()
}

fn assert_proved(old: &Value, new: &Value) -> Vec<String> {
    let f = compare(&identity(old), &identity(new), &opts(), "widened");
    assert!(f.internal.is_none(), "{:?}", f.internal);
    assert!(f.unknown.is_none(), "{:?}", f.unknown);
    assert!(
        f.findings.is_empty(),
        "expected no widening: {:?}",
        f.findings
    );
    f.assumptions
}

// ------------------------------------------------------------------------------ regressions

/// Issue 13: a multivalued key gets one value slot per *distinct* condition on it (plus one),
/// not one per occurrence. Three distinct conditions repeated in five identical statements:
/// four slots, and the only widening needs three values at once.
#[test]
fn repeated_conditions_on_a_multivalued_key_keep_every_needed_value() {
    let old = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]));
    let grant = json!({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
        "Condition": {
            "ForAnyValue:StringEquals": {"aws:TagKeys": "a"},
            "ForAnyValue:StringLike": {"aws:TagKeys": "b"},
            "ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": "c"}}});
    let mut stmts = vec![json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})];
    stmts.extend(std::iter::repeat_n(grant, 5));
    let new = doc(Value::Array(stmts));
    let f = compare(&identity(&old), &identity(&new), &opts(), "widened");
    assert!(
        f.internal.is_none() && f.unknown.is_none(),
        "{:?}",
        f.unknown
    );
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("`aws:TagKeys` is modelled with up to 4 values")),
        "{:?}",
        f.notes
    );
    let req = &f.findings.first().expect("a widening").request;
    assert_eq!(req["action"], "s3:PutObject");
    let mut keys: Vec<String> = req["context"]["aws:TagKeys"]
        .as_array()
        .unwrap_or_else(|| panic!("{req}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_lowercase())
        .collect();
    keys.sort();
    assert_eq!(keys, ["a", "b", "c"], "{req}");
}

#[test]
fn catalog_multivalued_key_in_a_deny_exception_widens() {
    let table = "arn:aws:dynamodb:us-east-1:111122223333:table/people";
    let allow = json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table});
    let old = doc(
        json!([allow, {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": table,
        "Condition": {"StringEquals": {"dynamodb:Attributes": "secret"}}}]),
    );
    let new = doc(
        json!([allow, {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": table,
        "Condition": {"StringEquals": {"dynamodb:Attributes": "secret"},
                      "StringNotEquals": {"dynamodb:Attributes": "id"}}}]),
    );
    let findings = assert_widened(&old, &new);
    let attrs = &findings[0]["request"]["context"]["dynamodb:Attributes"];
    assert!(
        attrs.as_array().is_some_and(|a| a.len() == 2),
        "{}",
        findings[0]["request"]
    );
    // the evaluator agrees on the reproduction's request
    let req = request(
        "dynamodb:GetItem",
        table,
        &[("dynamodb:Attributes", &["secret", "id"])],
    );
    assert!(oracle_allows(&new, &req) && !oracle_allows(&old, &req));
}

/// `ArnLike` with `**`: the evaluator splits the pattern into one part, not six, and matches
/// nothing; only `*` stands for every ARN. The automata read every all-`*` pattern as `*` and
/// proved OLD (`**`, allows nothing) equal to NEW (`*`, allows requests from any ARN): a false
/// `no_widening`.
#[test]
fn arn_like_double_star_is_not_star() {
    let cond = |p: &str| {
        doc(
            json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"ArnLike": {"aws:SourceArn": p}}}]),
        )
    };
    let findings = assert_widened(&cond("**"), &cond("*"));
    assert!(!findings.is_empty());
    let req = request(
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        &[("aws:SourceArn", &["arn:aws:sqs:us-east-1:111122223333:q"])],
    );
    assert!(oracle_allows(&cond("*"), &req) && !oracle_allows(&cond("**"), &req));
}

#[test]
fn identity_grant_on_kms_key_or_role_widens_under_a_listed_assumption() {
    let old = doc(
        json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]),
    );
    for (action, resource) in [
        ("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/*"),
        ("sts:AssumeRole", "arn:aws:iam::111122223333:role/deploy"),
    ] {
        let new = doc(json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"},
            {"Effect": "Allow", "Action": action, "Resource": resource}
        ]));
        let findings = assert_widened(&old, &new);
        assert_eq!(findings[0]["request"]["action"], action);
        assert_eq!(
            findings[0]["assumptions"].as_array().map(Vec::len),
            Some(1),
            "{}",
            findings[0]
        );
        // and a proof that depends on the key or trust policy says so (NEW with that grant
        // narrowed by a condition: a policy diffed with itself needs no assumption, since no
        // statement changed)
        let narrowed = doc(json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"},
            {"Effect": "Allow", "Action": action, "Resource": resource,
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
        ]));
        let assumptions = assert_proved(&new, &narrowed);
        assert!(
            assumptions.iter().any(|a| a.contains("delegate")),
            "{assumptions:?}"
        );
    }
    // a policy that cannot touch keys or roles needs no such assumption
    assert!(!assert_proved(&old, &old)
        .iter()
        .any(|a| a.contains("delegate")));
}

#[test]
fn wildcard_region_and_account_build_no_impossible_arn() {
    let old = doc(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudformation:DeleteStack", "Resource": "arn:aws:cloudformation:*:*:stack/A/*"}
    ]));
    let new = doc(
        json!([{"Effect": "Allow", "Action": "cloudformation:DeleteStack",
        "Resource": "arn:aws:cloudformation:*:*:stack/B/*"}]),
    );
    assert_proved(&old, &new);
    // a real widening still shows, with a resource AWS can form (real region, 12-digit account)
    let narrow = doc(
        json!([{"Effect": "Allow", "Action": "cloudformation:DeleteStack",
        "Resource": "arn:aws:cloudformation:*:*:stack/A/*"}]),
    );
    let findings = assert_widened(&narrow, &new);
    let res = findings[0]["request"]["resource"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        iamprove::wellformed::well_formed("cloudformation:deletestack", &res),
        "{res}"
    );
    let parts: Vec<&str> = res.split(':').collect();
    assert_eq!(parts[3], "us-east-1", "{res}");
    assert!(
        parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit()),
        "{res}"
    );
}

#[test]
fn resource_shapes_the_catalog_lacks_are_not_ruled_out() {
    // AWS's own policies grant codestar-connections actions on codeconnections ARNs and
    // ssmmessages:OpenDataChannel on session ARNs, which the catalog does not list: a shape the
    // policies pair with the action stays possible (no false proof from a lagging catalog)
    for (action, resource) in [
        (
            "codestar-connections:GetConnection",
            "arn:aws:codeconnections:*:*:connection/*",
        ),
        ("ssmmessages:OpenDataChannel", "arn:aws:ssm:*:*:session/*"),
    ] {
        let old = doc(json!([
            {"Effect": "Allow", "Action": action, "Resource": "*"},
            {"Effect": "Deny", "Action": action, "Resource": resource}
        ]));
        let new = doc(json!([{"Effect": "Allow", "Action": action, "Resource": "*"}]));
        let findings = assert_widened(&old, &new);
        assert_eq!(findings[0]["request"]["action"], action);
    }
}

/// A shape the policies pair with an action is one more format where no format of the action
/// overlaps it, decided on the exact shapes: read with any colon-free account,
/// `arn:aws:s3:::*b/x` overlapped the access-point format of `s3:ListBucket` and was dropped, so
/// `ListBucket` on `arn:aws:s3:::${team}-data/*` was `no_widening` while the same grant on
/// `arn:aws:s3:::red-data/*` widened (found by `variables::generated_abac_pairs_are_sound`).
#[test]
fn a_declared_shape_is_not_dropped_for_an_overlap_of_loosened_accounts() {
    let old = doc(json!([{"Effect": "Allow", "Action": "ec2:StartInstances", "Resource": "*"}]));
    for resource in [
        "arn:aws:s3:::red-data/*",
        "arn:aws:s3:::*b/x",
        "arn:aws:s3:::*/*",
        "arn:aws:s3:::${aws:PrincipalTag/team}-data/*",
    ] {
        let new =
            doc(json!([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": resource}]));
        let findings = assert_widened(&old, &new);
        assert_eq!(
            findings[0]["request"]["action"], "s3:ListBucket",
            "{resource}"
        );
    }
}

/// A finding names a resource of its action's catalog formats whenever a widening there exists:
/// a finding outside them is asked for again without the shapes the policies pair with actions
/// beyond the catalog. Before, `s3:ListBucket` granted on `arn:aws:s3:::logs/*` gave the finding
/// "ListBucket on `arn:aws:s3:::logs/`", an object ARN no bucket action is sent with (and
/// `GetObject` on the bucket), and `ec2:ModifyVolume` next to `instance/*` and `vpc/*` patterns
/// could name one ARN matching all of them (`arn:aws:ec2:::instance/:vpc/:volume/`).
#[test]
fn findings_name_resources_of_catalog_formats_where_they_can() {
    let old = doc(json!([{"Effect": "Allow", "Action": "ec2:StartInstances", "Resource": "*"}]));
    let news = [
        json!([{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
            "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"]}]),
        json!([{"Effect": "Allow", "Action": ["ec2:ModifyVolume", "ec2:AttachVolume"],
            "Resource": ["arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:*:*:vpc/*",
                         "arn:aws:ec2:*:*:volume/*"]}]),
    ];
    for new in news {
        let new = doc(new);
        let mut o = opts();
        o.max_findings = 5;
        let f = compare(&identity(&old), &identity(&new), &o, "widened");
        assert!(f.internal.is_none() && f.unknown.is_none(), "{new}");
        assert!(!f.findings.is_empty(), "{new}");
        for x in &f.findings {
            let a = x.action.example.to_lowercase();
            let r = &x.resource.example;
            assert!(
                iamprove::wellformed::resource_well_formed(&a, r),
                "{a} on {r}: outside the action's formats"
            );
        }
    }
}

#[test]
fn get_caller_identity_is_always_allowed() {
    let deny_all = doc(json!([{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]));
    let req = request("sts:GetCallerIdentity", "*", &[]);
    assert!(oracle_allows(&deny_all, &req));
    let unrelated = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]));
    assert!(oracle_allows(&unrelated, &req));
    // and the encoder agrees: denying sts:* never narrows GetCallerIdentity
    let allow =
        doc(json!([{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]));
    assert_proved(&deny_all, &allow);
    let f = compare(&identity(&allow), &identity(&deny_all), &opts(), "narrowed");
    assert!(f.internal.is_none(), "{:?}", f.internal);
    assert!(f.findings.is_empty(), "{:?}", f.findings);
}

fn bin() -> Command {
    Command::cargo_bin("iamprove").unwrap()
}

fn eval_json(scenario: &Value) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    std::fs::write(&p, scenario.to_string()).unwrap();
    let out = bin()
        .args(["eval", p.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn resource_policy_finding_on_a_role_arn_replays() {
    let old = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
        "Action": "iam:GetRole", "Resource": "arn:aws:iam::111122223333:role/a"}]),
    );
    let new = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
        "Action": "iam:GetRole", "Resource": "arn:aws:iam::111122223333:role/*"}]),
    );
    let f = compare(
        &Side::Resource(policy(&old, PolicyType::Resource)),
        &Side::Resource(policy(&new, PolicyType::Resource)),
        &opts(),
        "widened",
    );
    assert!(!f.findings.is_empty(), "{:?} {:?}", f.unknown, f.internal);
    let mut req = f.findings[0].request.clone();
    assert!(req["resource"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:iam::111122223333:role/"));
    // the documented scenario format, as conformance.py replays a resource-policy finding
    req["resource_account"] = json!("999988887777");
    let allow_all = doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]));
    for (pol, want) in [(&new, "Allow"), (&old, "ImplicitDeny")] {
        let sc = json!({"request": req, "resource_policy": pol, "identity_policies": [allow_all]});
        let (code, v) = eval_json(&sc);
        assert_eq!(code, 0, "{sc}");
        assert_eq!(v["decision"], want, "{sc}");
    }
}

#[test]
fn resource_policy_sts_finding_is_never_on_a_role() {
    // A document with a `Resource` element is not a trust policy, so it never decides sts:
    // calls on a role (a role's resource policy for those is its trust policy, which has no
    // `Resource`): granting sts:AssumeRole on roles in a bucket-style policy widens nothing, and
    // a finding there could not even be replayed as a scenario.
    let old = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]),
    );
    let new = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Principal": {"AWS": "444455556666"},
        "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::111122223333:role/*"}]),
    );
    let f = compare(
        &Side::Resource(policy(&old, PolicyType::Resource)),
        &Side::Resource(policy(&new, PolicyType::Resource)),
        &opts(),
        "widened",
    );
    assert!(f.findings.is_empty(), "{:?}", f.findings);
    assert!(
        f.unknown.is_none() && f.internal.is_none(),
        "{:?}",
        f.unknown
    );
}

#[test]
fn trust_policies_are_still_checked_as_trust_policies() {
    // a document that can only be a trust policy keeps the trust grammar
    let trust = doc(json!([{"Effect": "Allow", "Principal": {"AWS": ALICE},
        "Action": "sts:AssumeRole"}]));
    let sc = json!({"request": {"principal": ALICE, "action": "sts:AssumeRole",
        "resource": "arn:aws:iam::111122223333:role/r"}, "resource_policy": trust});
    let (code, v) = eval_json(&sc);
    assert_eq!(code, 0);
    assert_eq!(v["decision"], "Allow");
}

#[test]
fn assumptions_are_printed_in_json_text_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    // NEW narrows OLD's grant on keys: the proof reads the grant, so it depends on the key policy
    let pol = doc(json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]));
    let narrowed = doc(
        json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]),
    );
    std::fs::write(&old, pol.to_string()).unwrap();
    std::fs::write(&new, narrowed.to_string()).unwrap();
    let run = |fmt: &str| {
        let out = bin()
            .args([
                "diff",
                old.to_str().unwrap(),
                new.to_str().unwrap(),
                "--format",
                fmt,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let v: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(v["verdict"], "no_widening");
    let listed = |v: &Value| {
        v.as_array()
            .into_iter()
            .flatten()
            .any(|a| a.as_str().is_some_and(|a| a.contains("delegate")))
    };
    assert!(listed(&v["assumptions"]), "{v}");
    let text = run("text");
    assert!(
        text.contains("proved under the assumptions below"),
        "{text}"
    );
    assert!(text.contains("assumption: "), "{text}");
    let sarif: Value = serde_json::from_str(&run("sarif")).unwrap();
    assert!(
        listed(&sarif["runs"][0]["properties"]["assumptions"]),
        "{sarif}"
    );
}

#[test]
fn check_invariant_on_a_catalog_multivalued_key_is_refuted() {
    let dir = tempfile::tempdir().unwrap();
    let table = "arn:aws:dynamodb:us-east-1:111122223333:table/people";
    let pol = doc(json!([
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table},
        {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": table,
         "Condition": {"StringEquals": {"dynamodb:Attributes": "secret"},
                       "StringNotEquals": {"dynamodb:Attributes": "id"}}}
    ]));
    std::fs::write(dir.path().join("p.json"), pol.to_string()).unwrap();
    let spec = json!({"target": {"policy": "p.json"}, "invariants": [{"id": "no-secret",
        "forbid": {"Action": "dynamodb:GetItem", "Resource": table,
                   "Condition": {"ForAnyValue:StringEquals": {"dynamodb:Attributes": "secret"}}}}]});
    std::fs::write(dir.path().join("spec.json"), spec.to_string()).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["check", "spec.json", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["status"], "violated", "{v}");
    assert_eq!(out.status.code(), Some(1));
}

// ------------------------------------------------------------------ solver-driven differential

const ACTIONS: &[&str] = &[
    "*",
    "kms:*",
    "kms:Decrypt",
    "sts:*",
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
    "cloudformation:DeleteStack",
    "dynamodb:GetItem",
    "dynamodb:*",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:kms:*:*:key/*",
    "arn:aws:kms:us-east-1:111122223333:key/k1",
    "arn:aws:iam::*:role/*",
    "arn:aws:iam::111122223333:role/deploy",
    "arn:aws:cloudformation:*:*:stack/A/*",
    "arn:aws:cloudformation:*:*:stack/B/*",
    "arn:aws:cloudformation:us-east-1:*:stack/*",
    "arn:aws:dynamodb:*:*:table/people",
];
const CONDITIONS: &[&str] = &[
    r#"{"StringEquals": {"dynamodb:Attributes": "secret"}}"#,
    r#"{"StringNotEquals": {"dynamodb:Attributes": "id"}}"#,
    r#"{"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["id", "name"]}}"#,
    r#"{"ForAllValues:StringEquals": {"dynamodb:Attributes": ["id", "secret"]}}"#,
    r#"{"StringLike": {"dynamodb:Attributes": "s*"}}"#,
];

/// Requests AWS can send: catalog actions on resources of their formats.
fn requests() -> Vec<Request> {
    let ctxs: &[&[(&str, &[&str])]] = &[
        &[],
        &[("dynamodb:Attributes", &["secret"])],
        &[("dynamodb:Attributes", &["secret", "id"])],
        &[("dynamodb:Attributes", &["id"])],
        &[("dynamodb:Attributes", &["name", "secret"])],
    ];
    let pairs = [
        ("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k1"),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k2"),
        ("sts:AssumeRole", "arn:aws:iam::111122223333:role/deploy"),
        ("sts:AssumeRole", "arn:aws:iam::444455556666:role/other"),
        ("sts:GetCallerIdentity", "*"),
        (
            "cloudformation:DeleteStack",
            "arn:aws:cloudformation:us-east-1:111122223333:stack/A/1",
        ),
        (
            "cloudformation:DeleteStack",
            "arn:aws:cloudformation:eu-west-1:444455556666:stack/B/2",
        ),
        (
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:111122223333:table/people",
        ),
    ];
    let mut out = Vec::new();
    for (a, r) in pairs {
        for c in ctxs {
            if !c.is_empty() && !a.starts_with("dynamodb") {
                continue;
            }
            out.push(request(a, r, c));
        }
    }
    out
}

fn gen_statement(effect: bool, a: usize, r: usize, conds: Vec<usize>) -> Value {
    let mut s = json!({"Effect": if effect { "Allow" } else { "Deny" },
        "Action": ACTIONS[a % ACTIONS.len()], "Resource": RESOURCES[r % RESOURCES.len()]});
    if !conds.is_empty() {
        let mut c = serde_json::Map::new();
        for i in conds {
            let v: Value = serde_json::from_str(CONDITIONS[i % CONDITIONS.len()]).unwrap();
            for (op, kv) in v.as_object().unwrap() {
                c.entry(op.clone()).or_insert(kv.clone());
            }
        }
        s["Condition"] = Value::Object(c);
    }
    s
}

fn arb_policy() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop::bool::weighted(0.6),
            0usize..100,
            0usize..100,
            prop::collection::vec(0usize..100, 0..3),
        )
            .prop_map(|(e, a, r, c)| gen_statement(e, a, r, c)),
        1..4,
    )
    .prop_map(|stmts| doc(Value::Array(stmts)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// `diff` of random identity policies: a proof admits no concrete widening among requests
    /// AWS can send; every finding names a resource the action can have and replays.
    #[test]
    fn diff_proofs_hold_and_findings_are_well_formed(old in arb_policy(), new in arb_policy()) {
        let f = compare(&identity(&old), &identity(&new), &opts(), "widened");
        prop_assert!(f.internal.is_none(), "{:?}", f.internal);
        for finding in &f.findings {
            let req = &finding.request;
            let action = req["action"].as_str().unwrap_or("").to_lowercase();
            let resource = req["resource"].as_str().unwrap_or("");
            // an action the policies name literally ranges over its own ARN formats (actions
            // reached only through wildcards keep the general resource: see ARCHITECTURE.md)
            let literal = finding.action.matches.iter()
                .any(|m| !m.contains('*') && !m.contains('?'));
            // a shape the policies pair with the action and the catalog lacks stays possible
            let declared = [&old, &new].iter().flat_map(|d| d["Statement"].as_array().cloned().unwrap_or_default())
                .any(|st| {
                    let a = st["Action"].as_str().unwrap_or("").to_lowercase();
                    let r = st["Resource"].as_str().unwrap_or("*");
                    let hit = iamprove::matching::glob(&a).is_match(&action);
                    hit && r != "*" && !iamprove::wellformed::well_formed(&action, &r.replace('*', "x"))
                });
            prop_assert!(!literal || declared || iamprove::wellformed::well_formed(&action, resource),
                "impossible request {req} for OLD {old} NEW {new}");
        }
        if f.findings.is_empty() && f.unknown.is_none() {
            for req in requests() {
                prop_assert!(!oracle_allows(&new, &req) || oracle_allows(&old, &req),
                    "false proof: {} on {} ctx {:?} widens; OLD {old} NEW {new}",
                    req.action, req.resource, req.context);
            }
        }
    }
}

#[test]
fn dense_resources_are_decided_without_the_format_restriction_and_findings_stay_well_formed() {
    // AmazonConnectServiceLinkedRolePolicy v24 -> v25: with the catalog's ARN formats added, the
    // resource field exceeds the partition budget; the retry without the restriction decides it,
    // and each finding must still name a resource its action can act on.
    let dir = crate::util::shared()
        .join("corpora/aws-managed-policies/versions/AmazonConnectServiceLinkedRolePolicy");
    let out = bin()
        .args([
            "diff",
            dir.join("v24__61592b3709a0.json").to_str().unwrap(),
            dir.join("v25__73bce7ca3cbe.json").to_str().unwrap(),
            "--type",
            "identity",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "widened", "{v}");
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let a = f["request"]["action"].as_str().unwrap().to_lowercase();
        let r = f["request"]["resource"].as_str().unwrap();
        assert!(iamprove::wellformed::well_formed(&a, r), "{a} on {r}");
    }
}

// ------------------------------------------------------- widening questions on changed statements

/// A policy change as real version pairs make them: OLD's statements with a few edits (one
/// added, one removed, an effect flipped, an action, resource or condition changed), sometimes
/// split over two policies. The generator is a small xorshift, so the test can count how often
/// statements were left out.
fn edited_pair(seed: u64) -> (Side, Side, Value, Value) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: usize| -> usize {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let stmt = |next: &mut dyn FnMut(usize) -> usize| {
        let conds: Vec<usize> = (0..next(3)).map(|_| next(CONDITIONS.len())).collect();
        gen_statement(
            next(10) < 7,
            next(ACTIONS.len()),
            next(RESOURCES.len()),
            conds,
        )
    };
    let old: Vec<Value> = (0..3 + next(6)).map(|_| stmt(&mut next)).collect();
    let mut new = old.clone();
    for _ in 0..1 + next(2) {
        match next(6) {
            0 => new.push(stmt(&mut next)),
            1 if new.len() > 1 => {
                new.remove(next(new.len()));
            }
            2 => {
                let i = next(new.len());
                let e = if new[i]["Effect"] == "Allow" {
                    "Deny"
                } else {
                    "Allow"
                };
                new[i]["Effect"] = json!(e);
            }
            3 => {
                let i = next(new.len());
                new[i]["Action"] = json!(ACTIONS[next(ACTIONS.len())]);
            }
            4 => {
                let i = next(new.len());
                new[i]["Resource"] = json!(RESOURCES[next(RESOURCES.len())]);
            }
            _ => {
                let i = next(new.len());
                let c: Value = serde_json::from_str(CONDITIONS[next(CONDITIONS.len())]).unwrap();
                new[i]["Condition"] = c;
            }
        }
    }
    // both sides over two policies (the same split point) every third pair
    let split = seed % 3 == 0;
    let side = |stmts: &[Value]| -> Side {
        if split && stmts.len() > 1 {
            let (a, b) = stmts.split_at(stmts.len() / 2);
            Side::Identity(vec![
                policy(&doc(json!(a)), PolicyType::Identity),
                policy(&doc(json!(b)), PolicyType::Identity),
            ])
        } else {
            identity(&doc(json!(stmts)))
        }
    };
    (side(&old), side(&new), doc(json!(old)), doc(json!(new)))
}

/// The solver is asked about the changed statements and those sharing an action with them
/// (`iamprove::slice`): every answer must be the one the whole policies give, in both
/// directions, and a proof must hold on concrete requests.
#[test]
fn widening_questions_on_the_changed_statements_answer_as_the_whole_policies() {
    let mut whole = opts();
    whole.query.slice = false;
    let (mut sliced, mut decided) = (0, 0);
    for seed in 1..=120u64 {
        let (old, new, old_doc, new_doc) = edited_pair(seed);
        for (base, gain, base_doc, gain_doc) in [
            (&old, &new, &old_doc, &new_doc),
            (&new, &old, &new_doc, &old_doc),
        ] {
            if iamprove::slice::widening_slice(base, gain).is_some() {
                sliced += 1;
            }
            let a = compare(base, gain, &opts(), "widened");
            let b = compare(base, gain, &whole, "widened");
            assert!(a.internal.is_none() && b.internal.is_none(), "seed {seed}");
            if a.unknown.is_some() || b.unknown.is_some() {
                continue;
            }
            decided += 1;
            assert_eq!(
                a.findings.is_empty(),
                b.findings.is_empty(),
                "seed {seed}: sliced {} findings, whole {}; BASE {base_doc} GAIN {gain_doc}",
                a.findings.len(),
                b.findings.len()
            );
            if a.findings.is_empty() {
                for req in requests() {
                    assert!(
                        !oracle_allows(gain_doc, &req) || oracle_allows(base_doc, &req),
                        "seed {seed}: false proof on {} {}; BASE {base_doc} GAIN {gain_doc}",
                        req.action,
                        req.resource
                    );
                }
            }
        }
    }
    // the test is about something: most questions left statements out, and were decided
    assert!(sliced >= 120, "only {sliced} of 240 questions were sliced");
    assert!(
        decided >= 228,
        "only {decided} of 240 questions were decided"
    );
}
