//! The scenario loader locates every problem: file, JSON path, message.

use iamprove::json::parse;
use iamprove::scenario::{scenario_from_json, Errors};
use std::path::Path;

fn load(text: &str) -> Result<iamprove::scenario::Scenario, Errors> {
    scenario_from_json(
        &parse(text).unwrap(),
        "sc.json",
        Path::new("/nonexistent-base"),
        true,
    )
}

/// The loader's errors, rendered `file: path: message`.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

fn assert_error(text: &str, prefix: &str, contains: &str) {
    let errs = errors(text);
    assert!(
        errs.iter()
            .any(|e| e.starts_with(prefix) && e.contains(contains)),
        "expected `{prefix}` … `{contains}` in {errs:#?}"
    );
}

const REQ: &str = r#""request":{"principal":"arn:aws:iam::111122223333:user/bob","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#;
const GOOD: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;

#[test]
fn embedded_policy_errors_carry_the_scenario_path() {
    let bad_stmt = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Permit","Action":"*","Resource":"*"}]}"#;
    for (slot, want) in [
        (
            format!(r#""identity_policies":[{GOOD},{bad_stmt}]"#),
            "sc.json: identity_policies[1].Statement[1].Effect: ",
        ),
        (
            format!(r#""session_policies":[{bad_stmt}]"#),
            "sc.json: session_policies[0].Statement[1].Effect: ",
        ),
        (
            format!(r#""permissions_boundary":{bad_stmt}"#),
            "sc.json: permissions_boundary.Statement[1].Effect: ",
        ),
        (
            format!(r#""scps":[[{GOOD}],[{GOOD},{bad_stmt}]]"#),
            "sc.json: scps[1][1].Statement[1].Effect: ",
        ),
        (
            r#""vpc_endpoint_policy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}"#.to_owned(),
            "sc.json: vpc_endpoint_policy.Statement.Condition.Bool.aws:SecureTransport: ",
        ),
    ] {
        assert_error(&format!("{{{REQ},{slot}}}"), want, "invalid");
    }
}

#[test]
fn a_single_document_at_an_org_level_is_located_too() {
    let rcp = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#;
    assert_error(
        &format!(r#"{{{REQ},"rcps":[{rcp}]}}"#),
        "sc.json: rcps[0].Statement.Effect: ",
        "must be `Deny`",
    );
}

#[test]
fn policy_type_follows_the_slot() {
    // a Principal is an error in an identity slot, required in a resource slot
    let with_principal = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#;
    assert_error(
        &format!(r#"{{{REQ},"identity_policies":[{with_principal}]}}"#),
        "sc.json: identity_policies[0].Statement.Principal: ",
        "not allowed",
    );
    assert_error(
        &format!(r#"{{{REQ},"resource_policy":{GOOD}}}"#),
        "sc.json: resource_policy.Statement.Principal: ",
        "missing",
    );
    // the resource policy of a role is its trust policy: no Resource element
    let trust_req = r#""request":{"principal":"arn:aws:iam::111122223333:user/bob","action":"sts:AssumeRole","resource":"arn:aws:iam::111122223333:role/r"}"#;
    assert_error(
        &format!(r#"{{{trust_req},"resource_policy":{with_principal}}}"#),
        "sc.json: resource_policy.Statement.Resource: ",
        "not allowed in trust policies",
    );
}

#[test]
fn wrong_shapes_are_named() {
    assert_error(
        &format!(r#"{{{REQ},"identity_policies":{GOOD}}}"#),
        "sc.json: identity_policies: ",
        "expected an array",
    );
    assert_error(
        &format!(r#"{{{REQ},"identity_policies":[7]}}"#),
        "sc.json: identity_policies[0]: ",
        "expected a policy document or a file path",
    );
    assert_error(
        &format!(r#"{{{REQ},"management_account":111122223333}}"#),
        "sc.json: management_account: ",
        "expected an account ID string",
    );
    assert_error("[]", "sc.json: ", "expected a scenario object");
}

#[test]
fn request_problems_are_named() {
    let base = r#""principal":"arn:aws:iam::111122223333:user/bob","action":"s3:GetObject","resource":"arn:aws:s3:::b/k""#;
    assert_error(
        &format!(r#"{{"request":{{{base},"contxt":{{}}}}}}"#),
        "sc.json: request.contxt: ",
        "unknown request key",
    );
    assert_error(
        &format!(r#"{{"request":{{{base},"context":{{"aws:SourceIp":{{"a":1}}}}}}}}"#),
        "sc.json: request.context.aws:SourceIp: ",
        "expected a string",
    );
    assert_error(
        &format!(
            r#"{{"request":{{{base},"context":{{"aws:SourceIp":"1.2.3.4","AWS:sourceip":"1.2.3.5"}}}}}}"#
        ),
        "sc.json: request.context.AWS:sourceip: ",
        "given twice",
    );
    assert_error(
        r#"{"request":{"principal":"bob","action":"s3:GetObject","resource":"*"}}"#,
        "sc.json: request.principal: ",
        "unsupported principal",
    );
    assert_error(
        r#"{"request":{"principal":"arn:aws:iam::111122223333:user/bob","action":"GetObject","resource":"*"}}"#,
        "sc.json: request.action: ",
        "service:Action",
    );
    assert_error(
        r#"{"request":{"principal":"arn:aws:iam::111122223333:user/bob","action":["s3:GetObject"],"resource":"*"}}"#,
        "sc.json: request.action: ",
        "expected a string",
    );
    assert_error(
        r#"{"identity_policies":[]}"#,
        "sc.json: request: ",
        "missing `request`",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let errs = errors(&format!(
        r#"{{{REQ},"bogus":1,"identity_policies":[{{"Statement":{{"Effect":"allow","Action":"s3","Resource":"x"}}}}]}}"#
    ));
    assert!(
        errs.len() >= 4,
        "expected the unknown key and three statement errors: {errs:#?}"
    );
}

#[test]
fn referenced_policy_file_errors_name_that_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.json"), "{\n\"Version\": \"2012-10-17\",\n\"Statement\": {\"Effect\": \"Allow\" \"Action\": \"*\"}}").unwrap();
    let doc = parse(&format!(
        r#"{{{REQ},"identity_policies":["p.json","missing.json"]}}"#
    ))
    .unwrap();
    let errs: Vec<String> = scenario_from_json(&doc, "sc.json", dir.path(), true)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        errs.iter()
            .any(|e| e.contains("p.json") && e.contains("line 3, column")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("missing.json") && e.contains("cannot read")),
        "{errs:#?}"
    );
}

#[test]
fn a_valid_scenario_loads_every_set() {
    let rcp = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}"#;
    let sc = load(&format!(r#"{{{REQ},"identity_policies":[{GOOD},{GOOD}],"permissions_boundary":{GOOD},"session_policies":[{GOOD}],"scps":[[{GOOD}],{GOOD}],"rcps":[[{rcp}]],"management_account":"999999999999"}}"#)).unwrap();
    assert_eq!(sc.identity_policies.len(), 2);
    assert_eq!(sc.scps.len(), 2);
    assert_eq!(sc.rcps[0].len(), 1);
    assert_eq!(sc.management_account.as_deref(), Some("999999999999"));
    assert_eq!(sc.identity_policies[1].name, "sc.json#identity_policies[1]");
}
