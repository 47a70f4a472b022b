//! Embedding iamprove in Rust, part 1: decide one request with the concrete evaluator.
//! `cargo run --example embed_eval`
//!
//! Only the core crate is needed for this (`iamprove-core`: no solver, no command line); the
//! `iamprove` crate re-exports it under the same module names (`iamprove::eval`, …).
use iamprove_core::eval::{evaluate, Decision};
use iamprove_core::json;
use iamprove_core::scenario::scenario_from_json;
use std::path::Path;

/// A scenario in DESIGN.md's format: the request and the policies in force.
const SCENARIO: &str = r#"{
  "request": {
    "principal": "arn:aws:iam::111122223333:user/alice",
    "action": "s3:GetObject",
    "resource": "arn:aws:s3:::reports/2024/q1.csv",
    "context": {"aws:SecureTransport": "true"}
  },
  "identity_policies": [{
    "Version": "2012-10-17",
    "Statement": [
      {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::reports/*"},
      {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ]
  }]
}"#;

fn main() -> Result<(), String> {
    let doc = json::parse(SCENARIO).map_err(|e| format!("line {}: {}", e.line, e.message))?;
    // Errors name the file (here a label) and the JSON path, as the CLI prints them.
    let scenario = scenario_from_json(&doc, "embedded", Path::new("."), true).map_err(|errs| {
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let request = scenario
        .request
        .as_ref()
        .ok_or("the scenario has no request")?;
    let result = evaluate(&scenario, request);
    println!("{}: {}", result.decision.name(), result.reason);
    for s in &result.statements {
        println!("  decided by {s:?}");
    }
    if result.decision != Decision::Allow {
        return Err("expected Allow".into());
    }
    Ok(())
}
