//! Embedding iamprove in Rust, part 2: does a policy change grant anything new?
//! `cargo run --example embed_diff`
//!
//! `diff::compare` is the proof the `diff` command runs: it asks the solver for a request the
//! new policy allows and the old one does not, and replays every such request through the
//! evaluator before returning it. No finding and no `unknown` means "no widening" is proved.
use iamprove::diff::{compare, DiffOptions, Direction};
use iamprove::model::PolicyType;
use iamprove::parse::parse_policy_text;
use iamprove::query::{QueryOptions, Side};

const OLD: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
   "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]}]}"#;

const NEW: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:Get*", "s3:ListBucket"],
   "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]}]}"#;

fn side(text: &str, name: &str) -> Result<Side, String> {
    let policy = parse_policy_text(text, PolicyType::Identity, name).map_err(|errs| {
        errs.iter()
            .map(|e| format!("{name}: {}: {}", e.path, e.message))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok(Side::Identity(vec![policy]))
}

fn main() -> Result<(), String> {
    let (old, new) = (side(OLD, "old.json")?, side(NEW, "new.json")?);
    let opts = DiffOptions {
        kind: Some(PolicyType::Identity),
        max_findings: 3,
        direction: Direction::Widen,
        query: QueryOptions::default(),
    };
    let found = compare(&old, &new, &opts, "identity");
    if let Some(reason) = found.internal.map(|d| d.to_string()).or(found.unknown) {
        // not a proof either way: the CLI exits 3 (or 2 for an internal error)
        return Err(format!("unknown: {reason}"));
    }
    if found.findings.is_empty() {
        println!("no_widening (proved)");
    } else {
        println!(
            "widened: {} example request(s), each replayed:",
            found.findings.len()
        );
        for f in &found.findings {
            println!("  {}", f.request);
        }
    }
    for a in &found.assumptions {
        println!("assumption: {a}");
    }
    Ok(())
}
