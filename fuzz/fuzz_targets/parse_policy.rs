//! Feed arbitrary text to the policy parser under every policy type and to the scenario loader;
//! evaluate every policy that parses against a few fixed requests. Any panic is a bug.
#![no_main]

use iamprove::eval::{evaluate, explain};
use iamprove::model::PolicyType;
use iamprove::parse::parse_policy_text;
use iamprove::request::{Context, Principal, Request};
use iamprove::scenario::{scenario_from_json, Scenario};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const KINDS: [PolicyType; 5] = [
    PolicyType::Identity,
    PolicyType::Resource,
    PolicyType::Trust,
    PolicyType::Scp,
    PolicyType::Rcp,
];

fn requests() -> Vec<Request> {
    let mut out = Vec::new();
    for (p, a, r) in [
        (
            "arn:aws:iam::111122223333:user/alice",
            "s3:GetObject",
            "arn:aws:s3:::home/alice/k",
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/app/s1",
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/x",
        ),
        (
            "anonymous",
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:444455556666:q",
        ),
        ("ec2.amazonaws.com", "kms:Decrypt", "*"),
    ] {
        if let Ok(pr) = Principal::parse(p) {
            out.push(Request::new(pr, a, r, None, Context::new()));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        match parse_policy_text(text, kind, "fuzz") {
            Ok(p) => {
                let mut sc = Scenario::empty();
                match kind {
                    PolicyType::Identity => {
                        sc.identity_policies.push(p.clone());
                        sc.permissions_boundary = Some(p);
                    }
                    PolicyType::Scp => sc.scps = vec![vec![p]],
                    PolicyType::Rcp => sc.rcps = vec![vec![p]],
                    PolicyType::Resource | PolicyType::Trust => sc.resource_policy = Some(p),
                }
                for r in requests() {
                    let a = evaluate(&sc, &r);
                    assert_eq!(a.decision, explain(&sc, &r).decision);
                }
            }
            Err(errs) => assert!(!errs.is_empty() && errs.iter().all(|e| !e.message.is_empty())),
        }
    }
    if let Ok(doc) = iamprove::json::parse(text) {
        if let Err(errs) =
            scenario_from_json(&doc, "fuzz.json", Path::new("/nonexistent-base"), false)
        {
            assert!(errs.iter().all(|e| !e.message.is_empty()));
        }
    }
});
