//! Metamorphic tests of `diff` on real AWS managed-policy versions (issue 3):
//! a policy diffed against itself never widens; adding a Deny never widens; adding an Allow of an
//! action the policy does not grant always widens, with a finding naming that action.
//! A deterministic sample runs by default; `IAMPROVE_FULL_CORPUS=1` runs every version pair.

use crate::util::shared;
use iamprove::diff::{compare, DiffOptions, Direction};
use iamprove::json::Json;
use iamprove::model::PolicyType;
use iamprove::query::{allows, QueryOptions, Side};
use iamprove::request::{Context, Principal, Request};
use serde_json::{json, Value};

fn opts() -> DiffOptions {
    DiffOptions {
        kind: Some(PolicyType::Identity),
        max_findings: 3,
        direction: Direction::Widen,
        query: QueryOptions::default(),
    }
}

fn side(doc: &Value, name: &str) -> Side {
    let p = iamprove::parse::parse_policy(&Json::from_value(doc), PolicyType::Identity, name)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    Side::Identity(vec![p])
}

/// The documents of the sampled version files.
fn sample() -> Vec<(String, Value)> {
    let dir = shared().join("corpora/aws-managed-policies");
    let index = std::fs::read_to_string(dir.join("INDEX_version_pairs.csv")).unwrap();
    let full = std::env::var("IAMPROVE_FULL_CORPUS").is_ok();
    let mut out = Vec::new();
    for (i, line) in index.lines().skip(1).enumerate() {
        if !full && i % 50 != 0 {
            continue;
        }
        let cols: Vec<&str> = line.split(',').collect();
        let path = dir.join(cols[6]);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        out.push((format!("{} {}", cols[0], cols[2]), v["Document"].clone()));
    }
    out
}

fn with_statement(doc: &Value, stmt: Value) -> Value {
    let mut d = doc.clone();
    let stmts = match d.get("Statement").cloned() {
        Some(Value::Array(a)) => a,
        Some(o) => vec![o],
        None => vec![],
    };
    let mut stmts = stmts;
    stmts.push(stmt);
    d["Statement"] = Value::Array(stmts);
    d
}

/// A catalog action of a service the policy never names, that the policy does not allow on `*`.
fn foreign_action(doc: &Value, old: &Side) -> Option<String> {
    let text = doc.to_string().to_lowercase();
    let principal = Principal::parse("arn:aws:iam::111122223333:role/probe").ok()?;
    for cand in [
        "gamelift:DescribeFleetAttributes",
        "braket:GetDevice",
        "iotwireless:ListDevices",
        "sumerian:GetProject",
        "wellarchitected:GetLens",
    ] {
        let svc = cand.split(':').next()?.to_lowercase();
        if text.contains(&format!("\"{svc}:")) {
            continue;
        }
        let req = Request::new(principal.clone(), cand, "*", None, Context::new());
        if !allows(old, &req) {
            return Some(cand.to_string());
        }
    }
    None
}

#[test]
fn metamorphic_diffs_on_real_policies() {
    let mut checked = 0;
    let mut widen_checked = 0;
    for (name, doc) in sample() {
        let old = side(&doc, &name);
        // 1. identical: no widening, proved
        let r = compare(&old, &side(&doc, &name), &opts(), "widened");
        assert!(
            r.findings.is_empty() && r.unknown.is_none() && r.internal.is_none(),
            "{name}: self-diff not proved: {:?} {:?}",
            r.unknown,
            r.internal
        );
        // 2. plus a Deny: no widening
        let deny = with_statement(
            &doc,
            json!({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        );
        let r = compare(&old, &side(&deny, &name), &opts(), "widened");
        assert!(
            r.findings.is_empty() && r.unknown.is_none() && r.internal.is_none(),
            "{name}: adding a Deny widened or was not proved: {:?} {:?} {:?}",
            r.findings.first(),
            r.unknown,
            r.internal
        );
        // 3. plus an Allow of an action the policy lacks: widened, and a finding names it
        if let Some(action) = foreign_action(&doc, &old) {
            let more = with_statement(
                &doc,
                json!({"Effect": "Allow", "Action": action, "Resource": "*"}),
            );
            let r = compare(&old, &side(&more, &name), &opts(), "widened");
            assert!(r.internal.is_none(), "{name}: {:?}", r.internal);
            let named = r
                .findings
                .iter()
                .any(|f| f.action.example.eq_ignore_ascii_case(&action));
            assert!(
                named,
                "{name}: adding {action} gave findings {:?}",
                r.findings
                    .iter()
                    .map(|f| f.summary.clone())
                    .collect::<Vec<_>>()
            );
            widen_checked += 1;
        }
        checked += 1;
    }
    assert!(checked >= 50, "sample too small: {checked}");
    assert!(
        widen_checked >= 40,
        "too few policies to add a foreign action to: {widen_checked}"
    );
}
