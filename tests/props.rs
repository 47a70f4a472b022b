//! Robustness properties: no input makes the parser, the scenario loader or the evaluator panic,
//! and every rejection carries a message.

use crate::util::managed_dir;
use iamprove::eval::{evaluate, explain};
use iamprove::json::{parse as parse_json, Json};
use iamprove::model::{Policy, PolicyType};
use iamprove::parse::parse_policy_text;
use iamprove::request::{Context, CtxValue, Principal, Request};
use iamprove::scenario::{scenario_from_json, Scenario};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::Path;

const KINDS: [PolicyType; 5] = [
    PolicyType::Identity,
    PolicyType::Resource,
    PolicyType::Trust,
    PolicyType::Scp,
    PolicyType::Rcp,
];

/// A policy of our own that exercises every operator family, variables, set qualifiers and principals.
const KITCHEN_SINK: &str = r#"{"Version":"2012-10-17","Id":"k","Statement":[
 {"Sid":"A","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/app"],"Service":"ec2.amazonaws.com"},
  "Action":["s3:Get*","sts:AssumeRole"],"Resource":["arn:aws:s3:::home/${aws:username}/*","arn:aws:s3:::team-${aws:PrincipalTag/team, 'x'}/*"],
  "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"NumericLessThan":{"s3:max-keys":"10.5"},
   "DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"Bool":{"aws:SecureTransport":true},
   "ForAllValues:StringLike":{"aws:TagKeys":["a*","b?"]},"ForAnyValue:StringEqualsIgnoreCase":{"aws:CalledVia":"Athena.amazonaws.com"},
   "ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:t"},"Null":{"aws:TokenIssueTime":"false"},"BinaryEquals":{"k":"QUJD"},
   "StringNotEqualsIfExists":{"aws:PrincipalAccount":["111122223333"]}}},
 {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/admin","111122223333"]},"NotAction":"iam:*","NotResource":"arn:aws:iam::*:role/x","Condition":{"DateNotEquals":{"aws:EpochTime":"1577836800"}}}
]}"#;

const MANAGED: [&str; 5] = [
    "AWSCloud9User",
    "AWSBatchServiceRole",
    "AWSCodeBuildDeveloperAccess",
    "AWSDeepRacerAccountAdminAccess",
    "AWSBackupOperatorPolicy",
];

fn seeds() -> Vec<Json> {
    let mut out = vec![parse_json(KITCHEN_SINK).unwrap()];
    for m in MANAGED {
        let text = std::fs::read_to_string(managed_dir().join(format!("{m}.json"))).unwrap();
        out.push(parse_json(&text).unwrap());
    }
    out
}

/// Serialise the raw tree back to JSON text, duplicates and number text included.
fn to_text(j: &Json, out: &mut String) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Num(n) => out.push_str(n),
        Json::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
        Json::Arr(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                to_text(v, out);
            }
            out.push(']');
        }
        Json::Obj(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                to_text(v, out);
            }
            out.push('}');
        }
    }
}

fn text(j: &Json) -> String {
    let mut s = String::new();
    to_text(j, &mut s);
    s
}

/// Junk in the shapes policies are made of: element names, operators, patterns, numbers.
fn junk_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("*".to_owned()),
        Just("Statement".to_owned()),
        Just("Allow".to_owned()),
        Just("Deny".to_owned()),
        Just("StringLike".to_owned()),
        Just("ForAnyValue:NumericLessThanIfExists".to_owned()),
        Just("arn:aws:s3:::b/*".to_owned()),
        Just("${aws:username}".to_owned()),
        Just("${".to_owned()),
        Just("1e400".to_owned()),
        Just("99999999999999999999999999999999999999999".to_owned()),
        Just("::/129".to_owned()),
        Just("2020-02-30T25:61:61+99:99".to_owned()),
        "[a-zA-Z0-9:*?${},'/. _-]{0,16}",
        any::<String>(),
    ]
}

fn junk_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        prop_oneof![
            Just("0".to_owned()),
            Just("-1.5".to_owned()),
            Just("1e308".to_owned()),
            Just("123456789012".to_owned()),
            "-?[0-9]{1,40}(\\.[0-9]{1,30})?"
        ]
        .prop_map(Json::Num),
        junk_string().prop_map(Json::Str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Arr),
            prop::collection::vec((junk_string(), inner), 0..4).prop_map(Json::Obj),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete,
    Replace(Json),
    Rename(String),
    ToggleCase,
    Insert(String, Json),
    Duplicate,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Delete),
        junk_value().prop_map(Mutation::Replace),
        junk_string().prop_map(Mutation::Rename),
        Just(Mutation::ToggleCase),
        (junk_string(), junk_value()).prop_map(|(k, v)| Mutation::Insert(k, v)),
        Just(Mutation::Duplicate),
    ]
}

fn count(j: &Json) -> usize {
    1 + match j {
        Json::Arr(a) => a.iter().map(count).sum(),
        Json::Obj(o) => o.iter().map(|(_, v)| count(v)).sum(),
        _ => 0,
    }
}

/// Apply `m` to the `target`-th node in pre-order (the node's entry in its parent for key edits).
fn mutate(j: &mut Json, target: &mut usize, m: &Mutation) -> bool {
    if *target == 0 {
        match m {
            Mutation::Replace(v) => *j = v.clone(),
            Mutation::Insert(k, v) => match j {
                Json::Obj(o) => o.push((k.clone(), v.clone())),
                Json::Arr(a) => a.push(v.clone()),
                other => *other = Json::Arr(vec![other.clone(), v.clone()]),
            },
            Mutation::Delete | Mutation::Rename(_) | Mutation::ToggleCase | Mutation::Duplicate => {
                // key edits happen at the parent; on a leaf, change its type instead
                *j = match j {
                    Json::Str(s) => Json::Arr(vec![Json::Str(s.clone())]),
                    Json::Arr(a) if a.len() == 1 => a[0].clone(),
                    _ => Json::Num("7".into()),
                };
            }
        }
        return true;
    }
    *target -= 1;
    match j {
        Json::Arr(items) => {
            for i in 0..items.len() {
                if *target == 0 && matches!(m, Mutation::Delete) {
                    items.remove(i);
                    return true;
                }
                if *target == 0 && matches!(m, Mutation::Duplicate) {
                    let v = items[i].clone();
                    items.insert(i, v);
                    return true;
                }
                if mutate(&mut items[i], target, m) {
                    return true;
                }
            }
        }
        Json::Obj(entries) => {
            for i in 0..entries.len() {
                if *target == 0 {
                    match m {
                        Mutation::Delete => {
                            entries.remove(i);
                            return true;
                        }
                        Mutation::Rename(k) => {
                            entries[i].0 = k.clone();
                            return true;
                        }
                        Mutation::ToggleCase => {
                            let k = &entries[i].0;
                            entries[i].0 = if k.chars().next().is_some_and(char::is_uppercase) {
                                k.to_lowercase()
                            } else {
                                k.to_uppercase()
                            };
                            return true;
                        }
                        Mutation::Duplicate => {
                            let e = entries[i].clone();
                            entries.insert(i, e);
                            return true;
                        }
                        _ => {}
                    }
                }
                if mutate(&mut entries[i].1, target, m) {
                    return true;
                }
            }
        }
        _ => {}
    }
    false
}

fn check_parse_all_kinds(text: &str) -> Vec<Policy> {
    let mut ok = Vec::new();
    for kind in KINDS {
        match parse_policy_text(text, kind, "prop") {
            Ok(p) => ok.push(p),
            Err(errs) => {
                assert!(!errs.is_empty(), "rejected without an error");
                for e in &errs {
                    assert!(!e.message.trim().is_empty(), "empty message at {}", e.path);
                }
            }
        }
    }
    ok
}

/// Embed `doc` in every policy slot of a scenario and load it: never a panic, messages non-empty.
fn check_scenario_loader(doc: &Json) {
    let req = parse_json(r#"{"principal":"arn:aws:iam::111122223333:role/app","action":"s3:GetObject","resource":"arn:aws:iam::111122223333:role/target"}"#).unwrap();
    let slots: [(&str, Json); 6] = [
        ("identity_policies", Json::Arr(vec![doc.clone()])),
        ("permissions_boundary", doc.clone()),
        ("scps", Json::Arr(vec![Json::Arr(vec![doc.clone()])])),
        ("rcps", Json::Arr(vec![doc.clone()])),
        ("resource_policy", doc.clone()),
        ("request", doc.clone()),
    ];
    for (key, v) in slots {
        let mut entries = vec![(key.to_owned(), v)];
        if key != "request" {
            entries.insert(0, ("request".to_owned(), req.clone()));
        }
        let sc = Json::Obj(entries);
        if let Err(errs) =
            scenario_from_json(&sc, "prop.json", Path::new("/nonexistent-base"), true)
        {
            assert!(!errs.is_empty());
            for e in errs {
                assert!(
                    !e.message.trim().is_empty(),
                    "empty message at {:?}",
                    e.path
                );
            }
        }
    }
}

const PRINCIPALS: [&str; 11] = [
    "arn:aws:iam::111122223333:user/admin",
    "arn:aws:iam::111122223333:role/app",
    "arn:aws:sts::111122223333:assumed-role/app/s1",
    "arn:aws:sts::444455556666:federated-user/f",
    "111122223333",
    "ec2.amazonaws.com",
    "anonymous",
    "arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX",
    "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
    "accounts.google.com",
    "arn:aws:iam::111122223333:saml-provider/Corp",
];

/// A request whose action comes from the policy's own patterns (wildcards filled in) or is random.
fn request_for(
    policies: &[Policy],
    pick: &[u16],
    junk: &str,
    ctx: &[(String, Vec<String>)],
) -> Request {
    let actions: Vec<&str> = policies
        .iter()
        .flat_map(|p| &p.statements)
        .flat_map(|s| &s.action.patterns)
        .map(|a| a.raw.as_str())
        .collect();
    let at = |i: usize| pick.get(i).copied().unwrap_or(0) as usize;
    let action = if actions.is_empty() || at(0) % 5 == 0 {
        format!("svc:{junk}")
    } else {
        actions[at(1) % actions.len()]
            .replace('*', junk)
            .replace('?', "x")
    };
    let resources = [
        "*",
        "arn:aws:s3:::home/admin/k",
        "arn:aws:iam::111122223333:role/x",
        "arn:aws:sqs:us-east-1:444455556666:q",
        "arn:aws:s3:::team-x/a:b",
    ];
    let resource = if at(2) % 7 == 0 {
        junk.to_owned()
    } else {
        resources[at(3) % resources.len()].to_owned()
    };
    let principal = Principal::parse(PRINCIPALS[at(4) % PRINCIPALS.len()]).unwrap();
    let mut context = Context::new();
    for (k, vals) in ctx {
        let multi = vals.len() != 1;
        context.insert(
            k.to_lowercase(),
            CtxValue {
                key: k.clone(),
                values: vals.clone(),
                multi,
            },
        );
    }
    Request::new(principal, &action, &resource, None, context)
}

fn ctx_strategy() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
    let key = prop_oneof![
        Just("aws:SourceIp"),
        Just("s3:max-keys"),
        Just("aws:CurrentTime"),
        Just("aws:EpochTime"),
        Just("aws:SecureTransport"),
        Just("aws:TagKeys"),
        Just("aws:CalledVia"),
        Just("aws:SourceArn"),
        Just("aws:TokenIssueTime"),
        Just("aws:PrincipalTag/team"),
        Just("aws:username"),
        Just("aws:RequestedRegion"),
        Just("ec2:ResourceTag/Name"),
        Just("token.actions.githubusercontent.com:sub"),
        Just("SAML:aud"),
    ];
    let val = prop_oneof![
        Just("10.1.2.3".to_owned()),
        Just("2001:db8::1".to_owned()),
        Just("3".to_owned()),
        Just("2024-05-01T00:00:00Z".to_owned()),
        Just("true".to_owned()),
        Just("arn:aws:sns:us-east-1:111122223333:t".to_owned()),
        junk_string(),
    ];
    prop::collection::vec(
        (
            key.prop_map(str::to_owned),
            prop::collection::vec(val, 0..3),
        ),
        0..5,
    )
}

/// Case count: the given default, or `PROPTEST_CASES` for longer local runs.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(Config { cases: cases(256), failure_persistence: None, ..Config::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        check_parse_all_kinds(&text);
        if let Ok(doc) = parse_json(&text) {
            check_scenario_loader(&doc);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(doc in junk_value()) {
        check_parse_all_kinds(&text(&doc));
        check_scenario_loader(&doc);
        // and the same value wrapped as a policy, so the statement parser is reached
        let wrapped = Json::Obj(vec![("Version".into(), Json::Str("2012-10-17".into())), ("Statement".into(), doc)]);
        check_parse_all_kinds(&text(&wrapped));
    }
}

proptest! {
    #![proptest_config(Config { cases: cases(512), failure_persistence: None, ..Config::default() })]

    /// Mutated real policies: parse under every type, load inside scenarios, and when a mutant is
    /// still valid, evaluate random requests against it in every policy set.
    #[test]
    fn mutated_policies_never_panic(
        seed in 0usize..6,
        muts in prop::collection::vec((any::<prop::sample::Index>(), mutation()), 0..4),
        pick in prop::collection::vec(any::<u16>(), 5),
        junk in "[a-zA-Z0-9:*/-]{0,10}",
        ctx in ctx_strategy(),
    ) {
        let mut doc = seeds().swap_remove(seed);
        for (at, m) in &muts {
            let mut target = at.index(count(&doc));
            mutate(&mut doc, &mut target, m);
        }
        let t = text(&doc);
        let valid = check_parse_all_kinds(&t);
        check_scenario_loader(&doc);
        for p in &valid {
            let req = request_for(std::slice::from_ref(p), &pick, &junk, &ctx);
            let mut sc = Scenario::empty();
            match p.kind {
                PolicyType::Identity => {
                    sc.identity_policies.push(p.clone());
                    sc.permissions_boundary = Some(p.clone());
                    sc.session_policies.push(p.clone());
                }
                PolicyType::Scp => sc.scps = vec![vec![p.clone()], vec![p.clone()]],
                PolicyType::Rcp => sc.rcps = vec![vec![p.clone()]],
                PolicyType::Resource => {
                    sc.resource_policy = Some(p.clone());
                    sc.vpc_endpoint_policy = Some(p.clone());
                }
                PolicyType::Trust => sc.resource_policy = Some(p.clone()),
            }
            let a = evaluate(&sc, &req);
            let b = explain(&sc, &req);
            prop_assert_eq!(a.decision, b.decision, "explaining must not change the decision");
            prop_assert!(!b.reason.is_empty());
        }
    }
}

#[test]
fn seeds_are_valid_identity_or_resource_policies() {
    // the mutation test starts from valid documents, so that small mutations reach deep code
    for (i, s) in seeds().iter().enumerate() {
        let kind = if i == 0 {
            PolicyType::Resource
        } else {
            PolicyType::Identity
        };
        let r = parse_policy_text(&text(s), kind, "seed");
        assert!(r.is_ok(), "seed {i}: {:?}", r.err());
    }
}
