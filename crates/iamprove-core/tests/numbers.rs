//! Number-valued condition values keep their exact text in the core crate on its own, where
//! serde_json is built without `arbitrary_precision` (only the `iamprove` binary crate enables
//! it). `cargo test -p iamprove-core --test numbers` builds core alone, so this is the embedder's
//! view; `.ci/run` also checks with `cargo tree` that the feature does not reach core.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iamprove_core::eval::{evaluate, Decision};
use iamprove_core::json::{self, Json};
use iamprove_core::scenario::{scenario_from_json, Scenario};
use std::path::Path;

/// The scenario: a request with `s3:max-keys` = `value` under `NumericEquals` `literal` (written
/// into the policy text as a JSON number).
fn scenario(literal: &str, value: &str) -> Result<Scenario, String> {
    let text = format!(
        r#"{{"request": {{"principal": "arn:aws:iam::111122223333:user/alice",
              "action": "s3:ListBucket", "resource": "arn:aws:s3:::b",
              "context": {{"s3:max-keys": "{value}"}}}},
            "identity_policies": [{{"Version": "2012-10-17", "Statement": [{{
              "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
              "Condition": {{"NumericEquals": {{"s3:max-keys": {literal}}}}}}}]}}]}}"#
    );
    let doc = json::parse(&text).unwrap();
    scenario_from_json(&doc, "test", Path::new("."), true).map_err(|e| e[0].to_string())
}

fn decide(literal: &str, value: &str) -> Decision {
    let sc = scenario(literal, value).unwrap();
    let req = sc.request.clone().unwrap();
    evaluate(&sc, &req).decision
}

#[test]
fn numbers_keep_their_text_without_arbitrary_precision() {
    let j = json::parse(
        r#"[1.10, 1.00000000000000001, 123456789012345678901, -0.5e3, {"a": "x\"1", "b": 2}, "9"]"#,
    )
    .unwrap();
    let Json::Arr(items) = j else {
        panic!("not an array")
    };
    let texts: Vec<String> = items
        .iter()
        .map(|x| match x {
            Json::Num(n) => n.clone(),
            Json::Obj(o) => format!("{:?}", o),
            Json::Str(s) => format!("str {s}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        texts[..4],
        [
            "1.10",
            "1.00000000000000001",
            "123456789012345678901",
            "-0.5e3"
        ]
    );
    assert_eq!(
        items[4],
        Json::Obj(vec![
            ("a".into(), Json::Str("x\"1".into())),
            ("b".into(), Json::Num("2".into()))
        ])
    );
    assert_eq!(texts[5], "str 9");
}

#[test]
fn numeric_conditions_are_exact_without_arbitrary_precision() {
    // 1.10 is the number 1.1
    assert_eq!(decide("1.10", "1.1"), Decision::Allow);
    // a float would round 1.00000000000000001 to 1 and allow 1
    assert_eq!(
        decide("1.00000000000000001", "1.00000000000000001"),
        Decision::Allow
    );
    assert_ne!(decide("1.00000000000000001", "1"), Decision::Allow);
    // 2^53 + 1: exact as an integer (a float would make it 2^53)
    assert_eq!(
        decide("9007199254740993", "9007199254740993"),
        Decision::Allow
    );
    assert_ne!(
        decide("9007199254740993", "9007199254740992"),
        Decision::Allow
    );
    // beyond 64 bits the literal is rejected, and the message quotes it as written (serde_json
    // alone would hand over the float 1.2345678901234568e20)
    let err = scenario("123456789012345678901", "1").unwrap_err();
    assert!(
        err.contains("invalid number `123456789012345678901`"),
        "{err}"
    );
}
