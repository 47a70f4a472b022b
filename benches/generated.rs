//! The project's random-pair generator as a decided-rate benchmark, and the big-policy targets
//! of issue 13: `cargo bench --bench generated`.
//!
//! **Decided rate.** `IAMPROVE_BENCH_PAIRS` (default 300) random pairs from `benches/common`
//! (real catalog actions and ARN formats, conditions on ~20 % of statements, NEW = OLD + three
//! widening edits), sizes cycling through 5, 10, 20, 50 and 100 statements, profiles A (`*` may
//! be an ARN's region or account) and B (never) alternating, seeds 1…N. Each pair is diffed in
//! both directions with `diff::compare` (the query of `iamprove diff --type identity`): OLD→NEW
//! must widen, NEW→OLD must not. Prints the verdict counts, the decided rate and every pair that
//! was not decided (with its reason), so a regression names its input.
//!
//! **Big policies.** `IAMPROVE_BENCH_BIG` (default `1000A,5000B`; empty to skip): for each
//! size and profile, the generated pair is written to a temporary directory and
//! `iamprove diff OLD NEW --format json --type identity --timeout 60` is run on it in both
//! directions, process start and parsing included; wall and CPU time of the child are printed.
//! `IAMPROVE_BENCH_KEEP=DIR` keeps the generated files in DIR.
//!
//! `IAMPROVE_BENCH_SEEDS=3,23,43` runs the decided-rate part on these seeds only (the pairs
//! keep the size and profile they have in the full run); with `IAMPROVE_BENCH_KEEP=DIR` their
//! policies are written to DIR too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{side, Gen};
use iamprove::diff::{compare, DiffOptions, Direction};
use iamprove::query::QueryOptions;
use std::process::Command;
use std::time::Instant;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn opts() -> DiffOptions {
    DiffOptions {
        kind: None,
        max_findings: 1,
        direction: Direction::Widen,
        query: QueryOptions {
            timeout_ms: 30_000,
            ..Default::default()
        },
    }
}

fn verdict(f: &iamprove::diff::Findings) -> &'static str {
    if f.internal.is_some() {
        "internal"
    } else if !f.findings.is_empty() {
        "widened"
    } else if f.unknown.is_some() {
        "unknown"
    } else {
        "no_widening"
    }
}

fn decided_rate() {
    let pairs: u64 = env_or("IAMPROVE_BENCH_PAIRS", 300);
    let sizes = [5usize, 10, 20, 50, 100];
    let (mut widened, mut none, mut unknown, mut wrong) = (0u32, 0u32, 0u32, 0u32);
    let mut times = Vec::new();
    // (time, which query): the slowest are printed, to re-run them with IAMPROVE_BENCH_SEEDS
    let mut labelled: Vec<(std::time::Duration, String)> = Vec::new();
    let mut undecided = Vec::new();
    // `IAMPROVE_BENCH_SEEDS=3,23` runs only these seeds (to look at the pairs a run left undecided)
    let only: Vec<u64> = std::env::var("IAMPROVE_BENCH_SEEDS")
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_default();
    let seeds: Vec<u64> = if only.is_empty() {
        (1..=pairs).collect()
    } else {
        only.clone()
    };
    for seed in seeds {
        let n = sizes[(seed as usize) % sizes.len()];
        let star = seed % 2 == 1;
        let mut gen = Gen::new(seed, n, true);
        gen.star_region_account = star;
        let old_doc = gen.policy(n);
        let (new_doc, _) = gen.widen(&old_doc);
        if let (Ok(dir), false) = (std::env::var("IAMPROVE_BENCH_KEEP"), only.is_empty()) {
            let profile = if star { "A" } else { "B" };
            for (doc, which) in [(&old_doc, "old"), (&new_doc, "new")] {
                let path = std::path::Path::new(&dir)
                    .join(format!("seed{seed}-{n}{profile}-{which}.json"));
                std::fs::write(path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
            }
        }
        let old = side(&old_doc, "old.json");
        let new = side(&new_doc, "new.json");
        let profile = if star { "A" } else { "B" };
        for (label, base, gain, must_widen) in [
            ("OLD→NEW", &old, &new, true),
            ("NEW→OLD", &new, &old, false),
        ] {
            let t = Instant::now();
            let f = compare(base, gain, &opts(), "widened");
            times.push(t.elapsed());
            labelled.push((t.elapsed(), format!("seed {seed} {n} {profile} {label}")));
            match verdict(&f) {
                "widened" => {
                    widened += 1;
                    if !must_widen {
                        wrong += 1;
                        undecided.push(format!(
                            "seed {seed} {n} {profile} {label}: WRONG (widened)"
                        ));
                    }
                }
                "no_widening" => {
                    none += 1;
                    // OLD→NEW may legitimately not widen when the edits were subsumed
                }
                v => {
                    unknown += 1;
                    let why = f
                        .unknown
                        .or(f.internal.map(|d| d.to_string()))
                        .unwrap_or_default();
                    undecided.push(format!("seed {seed} {n} {profile} {label}: {v}: {why}"));
                }
            }
        }
    }
    times.sort();
    labelled.sort_by_key(|x| std::cmp::Reverse(x.0));
    let total = widened + none + unknown;
    let q = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize];
    println!(
        "generated pairs: {pairs} ({total} queries): {widened} widened / {none} no_widening / {unknown} unknown or internal; \
         decided {:.2} %; NEW→OLD widened (must not happen): {wrong}",
        100.0 * f64::from(widened + none) / f64::from(total.max(1))
    );
    println!(
        "time per query (in process): median {:?}, p90 {:?}, p99 {:?}, max {:?}",
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
    for (t, which) in labelled.iter().take(3) {
        println!("  slow: {which}: {t:?}");
    }
    for u in &undecided {
        println!("  {u}");
    }
}

fn big() {
    let spec = std::env::var("IAMPROVE_BENCH_BIG").unwrap_or_else(|_| "1000A,5000B".into());
    let bin = env!("CARGO_BIN_EXE_iamprove");
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var("IAMPROVE_BENCH_KEEP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let star = item.ends_with('A');
        let n: usize = item.trim_end_matches(['A', 'B']).parse().unwrap_or(1000);
        let profile = if star { "A" } else { "B" };
        // the seed scheme of benches/scaling.rs (seed 1)
        let mut gen = Gen::new(1000 + n as u64, n, true);
        gen.star_region_account = star;
        let old_doc = gen.policy(n);
        let (new_doc, _) = gen.widen(&old_doc);
        let a = dir.join(format!("old-{n}{profile}.json"));
        let b = dir.join(format!("new-{n}{profile}.json"));
        std::fs::write(&a, serde_json::to_string_pretty(&old_doc).unwrap()).unwrap();
        std::fs::write(&b, serde_json::to_string_pretty(&new_doc).unwrap()).unwrap();
        for (label, x, y) in [("OLD→NEW", &a, &b), ("NEW→OLD", &b, &a)] {
            // CPU time of the child through GNU time when it is installed
            let timer = std::path::Path::new("/usr/bin/time");
            let mut cmd = if timer.exists() {
                let mut c = Command::new(timer);
                c.args(["-f", "cpu %U %S", bin]);
                c
            } else {
                Command::new(bin)
            };
            let t = Instant::now();
            let out = cmd
                .args([
                    "diff",
                    "--format",
                    "json",
                    "--type",
                    "identity",
                    "--timeout",
                    "60",
                ])
                .arg(x)
                .arg(y)
                .output()
                .unwrap();
            let wall = t.elapsed();
            let cpu: f64 = String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("cpu "))
                .map(|l| l.split(' ').filter_map(|x| x.parse::<f64>().ok()).sum())
                .unwrap_or(f64::NAN);
            let j: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
            let v = j["verdict"].as_str().unwrap_or("error");
            let why = if v == "unknown" {
                j["notes"]
                    .as_array()
                    .and_then(|n| n.last())
                    .and_then(|n| n.as_str())
                    .unwrap_or("")
            } else {
                ""
            };
            println!(
                "| {n} {profile} | {label} | {v} | {:.2} s | {cpu:.2} s | {why}",
                wall.as_secs_f64()
            );
        }
    }
}

fn main() {
    println!("machine: {}", common::machine());
    if env_or::<u64>("IAMPROVE_BENCH_PAIRS", 300) > 0 {
        decided_rate();
    }
    big();
}
