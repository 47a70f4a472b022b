//! Scaling of `iamprove diff` on random realistic identity policies: `cargo bench --bench scaling`.
//!
//! For 10, 100, 1,000 and 5,000 statements: OLD is a generated policy (real catalog actions and
//! ARN formats, wildcards, a few `NotAction` and `Deny` statements, ~20% of statements with
//! conditions; profile A: ARNs may have `*` as region or account, profile B: never), NEW is OLD
//! plus three widening edits (an added action, a widened resource, a
//! removed condition). Reported per size and direction (OLD→NEW finds widenings; NEW→OLD has none,
//! so it is a proof):
//! - `iamprove::diff::compare` wall time (build, partition, solve, replay, describe), median;
//! - a cheap phase split of the first query (encode, partition, load into Z3, first Z3 check);
//! - classes per string field after partitioning;
//! - the CLI end to end (`iamprove diff OLD NEW --format json`, process start included), median;
//! - then the resource partition of one service's patterns alone, as their number grows.
//!
//! Environment: `IAMPROVE_BENCH_SIZES` (default `10,100,1000,5000`), `IAMPROVE_BENCH_REPS`
//! (default 5; fewer once a measurement has taken 10 s), `IAMPROVE_BENCH_TIMEOUT_S` (default 30,
//! the CLI default),
//! `IAMPROVE_BENCH_SEED` (default 1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{fmt, median, side, Gen};
use iamprove::automata::{partition, Mode, Pattern};
use iamprove::diff::{compare, DiffOptions, Direction};
use iamprove::query::{allowed, Frame, QueryOptions, Side};
use iamprove::solver::{Outcome, Session};
use iamprove::symbolic::encode::{Encoder, ACTION_SLOT};
use iamprove::symbolic::term::{and, not};
use iamprove_core::fxhash::FxHashMap;
use std::process::Command;
use std::time::{Duration, Instant};

/// Per-query solver timeout (the CLI's default); `IAMPROVE_BENCH_TIMEOUT_S` overrides it.
fn timeout_ms() -> u32 {
    env_or::<u32>("IAMPROVE_BENCH_TIMEOUT_S", 30) * 1000
}

/// Repetitions stop early once they have taken this long in total.
const ENOUGH: Duration = Duration::from_secs(10);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn opts() -> DiffOptions {
    DiffOptions {
        kind: None,
        max_findings: 5,
        direction: Direction::Widen,
        query: QueryOptions {
            timeout_ms: timeout_ms(),
            ..Default::default()
        },
    }
}

struct Phases {
    encode: Duration,
    partition: Duration,
    load: Duration,
    z3: Duration,
    outcome: &'static str,
    /// (field, atoms, classes, handed to the string theory)
    classes: Vec<(String, usize, usize, bool)>,
}

/// The first query of `compare`, step by step (the same steps as `query::Prepared::new`, with
/// the catalog's action names as preferred witnesses).
fn phases(base: &Side, gain: &Side) -> Phases {
    let t0 = Instant::now();
    let frame = Frame::of(&[base, gain]);
    let mut stmts = base.statements();
    stmts.extend(gain.statements());
    let mut enc = Encoder::new(
        frame.principal,
        frame.context,
        frame.resource_account,
        &stmts,
        frame.identity_only,
    );
    let b = allowed(&mut enc, base);
    let g = allowed(&mut enc, gain);
    let q = and([g, not(b)]);
    if let Some(d) = enc.domain_mut(ACTION_SLOT) {
        d.prefer = iamprove::catalog_hint::action_candidates(
            &d.atoms.iter().map(|a| a.text()).collect::<Vec<_>>(),
        );
    }
    let encode = t0.elapsed();
    let t1 = Instant::now();
    let parted = enc.partition(&iamprove::query::query_limits());
    let partition = t1.elapsed();
    if let Err(e) = parted {
        eprintln!("partition gave up: {e}");
        return Phases {
            encode,
            partition,
            load: Duration::ZERO,
            z3: Duration::ZERO,
            outcome: "partition gave up",
            classes: Vec::new(),
        };
    }
    let t2 = Instant::now();
    let mut memo = FxHashMap::default();
    let q = enc.resolve(&q, &mut memo);
    let bg: Vec<_> = enc
        .background
        .iter()
        .map(|b| enc.resolve(b, &mut memo))
        .collect();
    let mut session = Session::new(timeout_ms());
    for b in &bg {
        session.assert(b, &enc);
    }
    session.assert(&q, &enc);
    let load = t2.elapsed();
    let t3 = Instant::now();
    let outcome = match session.check() {
        Outcome::Sat(_) => "sat",
        Outcome::Unsat => "unsat",
        Outcome::Unknown(_) => "unknown",
    };
    let z3 = t3.elapsed();
    let classes = enc
        .domains
        .iter()
        .filter(|d| !d.preds.is_empty())
        .map(|d| {
            (
                d.name.clone(),
                d.atoms.len(),
                if d.fallback { 0 } else { d.classes.len() },
                d.fallback,
            )
        })
        .collect();
    Phases {
        encode,
        partition,
        load,
        z3,
        outcome,
        classes,
    }
}

fn verdict(f: &iamprove::diff::Findings) -> String {
    if f.internal.is_some() {
        "INTERNAL ERROR".into()
    } else if !f.findings.is_empty() {
        format!("widened ({} findings)", f.findings.len())
    } else if f.unknown.is_some() {
        "unknown".into()
    } else {
        "no_widening".into()
    }
}

/// Partition of one service's resource patterns alone, as their number grows: with `*` allowed
/// as region or account (profile A) and without (profile B).
fn resource_series(seed: u64) {
    println!("\n| service | patterns | profile A: classes, time | profile B: classes, time |");
    println!("|---|---|---|---|");
    for svc in ["ec2", "s3", "logs"] {
        for k in [5, 10, 15, 20, 25, 30, 40, 60] {
            let mut cells = Vec::new();
            for star in [true, false] {
                let mut gen = Gen::new(seed, 10, false);
                gen.star_region_account = star;
                let mut pats: Vec<String> = (0..k).map(|_| gen.arn_for(svc)).collect();
                pats.sort();
                pats.dedup();
                let atoms: Vec<Pattern> = pats
                    .iter()
                    .map(|p| Pattern::glob(p, Mode::Resource))
                    .collect();
                let t = Instant::now();
                let r = partition(&atoms, &[], &iamprove::query::query_limits());
                let d = t.elapsed();
                cells.push(match r {
                    Ok(p) => format!("{} classes, {}", p.classes.len(), fmt(d)),
                    Err(_) => format!("gave up, {}", fmt(d)),
                });
            }
            println!("| {svc} | {k} | {} | {} |", cells[0], cells[1]);
        }
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("IAMPROVE_BENCH_SIZES")
        .unwrap_or_else(|_| "10,100,1000,5000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let reps: usize = env_or("IAMPROVE_BENCH_REPS", 5);
    let seed: u64 = env_or("IAMPROVE_BENCH_SEED", 1);
    let bin = env!("CARGO_BIN_EXE_iamprove");
    let dir = tempfile::tempdir().unwrap();
    println!("machine: {}", common::machine());
    println!(
        "repetitions: {reps} (median reported), seed {seed}, timeout {} s",
        timeout_ms() / 1000
    );
    let mut rows = Vec::new();
    for (&n, star) in sizes.iter().flat_map(|n| [(n, true), (n, false)]) {
        let profile = if star { "A" } else { "B" };
        let mut gen = Gen::new(seed * 1000 + n as u64, n, true);
        gen.star_region_account = star;
        let old_doc = gen.policy(n);
        let (new_doc, edits) = gen.widen(&old_doc);
        let old_path = dir.path().join(format!("old-{n}.json"));
        let new_path = dir.path().join(format!("new-{n}.json"));
        std::fs::write(&old_path, serde_json::to_string_pretty(&old_doc).unwrap()).unwrap();
        std::fs::write(&new_path, serde_json::to_string_pretty(&new_doc).unwrap()).unwrap();
        let t = Instant::now();
        let old = side(&old_doc, "old.json");
        let new = side(&new_doc, "new.json");
        let parse = t.elapsed() / 2;
        let patterns: usize = old
            .statements()
            .iter()
            .map(|s| s.action.patterns.len() + s.resource.as_ref().map_or(0, |r| r.patterns.len()))
            .sum();
        let conds = old
            .statements()
            .iter()
            .filter(|s| !s.conditions.is_empty())
            .count();
        println!(
            "\n== profile {profile}, {n} statements ({patterns} action+resource patterns, {conds} statements with conditions; \
             parse {} per side); edits: {}",
            fmt(parse),
            edits.join("; ")
        );
        for (label, base, gain, a, b) in [
            ("OLD→NEW", &old, &new, &old_path, &new_path),
            ("NEW→OLD", &new, &old, &new_path, &old_path),
        ] {
            let mut lib = Vec::new();
            let mut v = String::new();
            for _ in 0..reps {
                let t = Instant::now();
                let f = compare(base, gain, &opts(), "widened");
                lib.push(t.elapsed());
                v = verdict(&f);
                if lib.iter().sum::<Duration>() > ENOUGH {
                    break;
                }
            }
            let mut ph: Vec<Phases> = Vec::new();
            for _ in 0..reps.min(3) {
                ph.push(phases(base, gain));
                if ph
                    .iter()
                    .map(|p| p.encode + p.partition + p.load + p.z3)
                    .sum::<Duration>()
                    > ENOUGH
                {
                    break;
                }
            }
            let pm = |f: &dyn Fn(&Phases) -> Duration| {
                let mut v: Vec<Duration> = ph.iter().map(f).collect();
                median(&mut v)
            };
            let mut cli = Vec::new();
            let mut cli_v = String::new();
            for _ in 0..reps {
                let t = Instant::now();
                let out = Command::new(bin)
                    .args([
                        "diff",
                        "--format",
                        "json",
                        "--type",
                        "identity",
                        "--timeout",
                        "60",
                    ])
                    .arg(a)
                    .arg(b)
                    .output()
                    .unwrap();
                cli.push(t.elapsed());
                let j: serde_json::Value =
                    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
                cli_v = j["verdict"].as_str().unwrap_or("error").to_string();
                if cli.iter().sum::<Duration>() > ENOUGH {
                    break;
                }
            }
            let classes = ph[0]
                .classes
                .iter()
                .map(|(d, a, c, fb)| {
                    if *fb {
                        format!("**{d} {a}→string theory**")
                    } else {
                        format!("{d} {a}→{c}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let row = format!(
                "| {n} {profile} | {label} | {v} | {} (n={}) | {} | {} | {} | {} | {} ({}) | {} ({cli_v}) | {classes} |",
                fmt(median(&mut lib)),
                lib.len(),
                fmt(pm(&|p| p.encode)),
                fmt(pm(&|p| p.partition)),
                fmt(pm(&|p| p.load)),
                fmt(pm(&|p| p.z3)),
                fmt(pm(&|p| p.encode + p.partition + p.load + p.z3)),
                ph[0].outcome,
                fmt(median(&mut cli)),
            );
            println!("{row}");
            rows.push(row);
        }
    }
    resource_series(seed);
    println!(
        "\n| statements, profile | direction | verdict | `compare` median | encode | partition | load Z3 | Z3 check | first query (outcome) | CLI median (verdict) | atoms→classes per field |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
