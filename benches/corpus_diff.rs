//! Every real version pair of `../shared/corpora/aws-managed-policies` diffed in ONE process
//! (the second number of `docs/diff-benchmark.md`; `scripts/bench-diff.py` gives the
//! one-process-per-pair number). Same query as `iamprove diff OLD NEW --type identity`
//! (widening only, 5 findings, 30 s per query, no command-wide deadline).
//!
//! ```text
//! cargo bench --bench corpus_diff                      # all 2,968 pairs
//! IAMPROVE_BENCH_LIMIT=200 cargo bench --bench corpus_diff
//! IAMPROVE_CORPUS=/path/to/aws-managed-policies cargo bench --bench corpus_diff
//! ```
//!
//! Prints the verdict counts, the distribution of time per pair (wall clock, parse included)
//! and every pair that was not decided.

use iamprove::diff::{compare, side_from_json, DiffOptions, Direction};
use iamprove::model::PolicyType;
use iamprove::query::QueryOptions;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn corpus() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("IAMPROVE_CORPUS") {
        return Some(PathBuf::from(p));
    }
    [
        "../shared/corpora/aws-managed-policies",
        "../../shared/corpora/aws-managed-policies",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("INDEX_version_pairs.csv").exists())
}

fn main() {
    let Some(dir) = corpus() else {
        eprintln!("corpus not found (set IAMPROVE_CORPUS)");
        return;
    };
    let index = std::fs::read_to_string(dir.join("INDEX_version_pairs.csv")).unwrap_or_default();
    let mut lines = index.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(oc), Some(nc), Some(pc)) = (col("old_file"), col("new_file"), col("policy")) else {
        eprintln!("unexpected INDEX_version_pairs.csv header");
        return;
    };
    let limit: usize = std::env::var("IAMPROVE_BENCH_LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let opts = DiffOptions {
        kind: Some(PolicyType::Identity),
        max_findings: 5,
        direction: Direction::Widen,
        query: QueryOptions::default(),
    };
    let (mut widened, mut same, mut unknown, mut errors) = (0, 0, 0, 0);
    let mut times: Vec<f64> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let all = Instant::now();
    for line in lines.take(limit) {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(old), Some(new), Some(policy)) = (f.get(oc), f.get(nc), f.get(pc)) else {
            continue;
        };
        let t = Instant::now();
        let read = |p: &str| -> Option<iamprove::json::Json> {
            let text = std::fs::read_to_string(dir.join(p)).ok()?;
            iamprove::json::parse(&text).ok()
        };
        let (Some(o), Some(n)) = (read(old), read(new)) else {
            errors += 1;
            continue;
        };
        let sides = (
            side_from_json(&o, Path::new(old), opts.kind, Some(&n)),
            side_from_json(&n, Path::new(new), opts.kind, Some(&o)),
        );
        let (Ok(os), Ok(ns)) = sides else {
            errors += 1;
            problems.push(format!("{policy}: input error"));
            continue;
        };
        let out = compare(&os, &ns, &opts, "widened");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if out.internal.is_some() {
            errors += 1;
            problems.push(format!("{policy}: internal error"));
        } else if let Some(u) = out.unknown {
            unknown += 1;
            problems.push(format!("{policy} {old}: unknown: {u}"));
        } else if out.findings.is_empty() {
            same += 1;
        } else {
            widened += 1;
        }
    }
    let total = all.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    let q = |f: f64| {
        times
            .get(((times.len() as f64 * f) as usize).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let n = times.len();
    println!(
        "pairs {n}: widened {widened}, no_widening {same}, unknown {unknown}, errors {errors}"
    );
    println!(
        "decided {:.2} %",
        100.0 * (widened + same) as f64 / (n.max(1)) as f64
    );
    println!(
        "ms per pair: median {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  total {:.1} s",
        q(0.5),
        q(0.9),
        q(0.99),
        times.last().copied().unwrap_or(0.0),
        total
    );
    for p in problems {
        println!("  {p}");
    }
}
