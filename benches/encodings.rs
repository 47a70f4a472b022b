//! The encodings DESIGN.md measured, against iamprove's: `cargo bench --bench encodings`.
//!
//! Query: "NEW allows something OLD does not" over Allow and Deny statements without conditions
//! (generated policies have none; corpus policies have their `Condition` blocks removed, for all
//! three encodings alike). Encodings:
//! - **ours**: `iamprove::diff::compare` with one finding (partition into classes, Z3 over
//!   integers and Booleans, replay; the whole library call);
//! - **whole**: action and resource each one `z3::ast::String`; every pattern a Z3 regex
//!   (`*` → `re.all`, i.e. `re.*(re.allchar)`; `?` → one printable ASCII character, as Debian's
//!   Z3 4.8.12 C API has no `re.allchar`; literal runs → `str.to_re`); actions and
//!   action patterns lowercased (IAM compares actions case-insensitively);
//! - **split**: the action as service (string equality) + name (regex), lowercased; the
//!   resource as one string with regexes, as in *whole*.
//!
//! These two encodings exist here only for measurement: the library talks to Z3 in
//! `solver.rs` alone. They are not IAM-exact (e.g. `*` in a resource crosses `:`); they are the
//! naive encodings as DESIGN.md describes them, for timing.
//!
//! Inputs: random pairs (NEW = OLD + an added action and a widened resource) at 10, 50 and 200
//! statements, `IAMPROVE_BENCH_SEEDS` (default 1) pairs per size and profile (A: ARNs may have
//! `*` as region or account; B: never), in both directions (OLD→NEW
//! widens; NEW→OLD is unsatisfiable, a proof); and three real version pairs from
//! `shared/corpora/aws-managed-policies` (skipped with a message when the corpus is absent).
//! Timeout 60 s per query (`IAMPROVE_BENCH_TIMEOUT_S`). Each cell is the median of up to
//! `IAMPROVE_BENCH_REPS` (default 3) runs, fewer when the runs take over 5 s in total.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{fmt, median, side, strip_conditions, Gen};
use iamprove::diff::{compare, DiffOptions, Direction};
use iamprove::query::QueryOptions;
use serde_json::Value;
use std::time::{Duration, Instant};
use z3::ast::{Bool, Regexp, String as ZStr};
use z3::{Params, SatResult, Solver};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One statement as the naive encodings see it.
struct Stmt {
    deny: bool,
    not_action: bool,
    actions: Vec<String>,
    not_resource: bool,
    resources: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn stmts(doc: &Value) -> Vec<Stmt> {
    let list: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    };
    list.into_iter()
        .map(|s| {
            let not_action = s.get("NotAction").is_some();
            let not_resource = s.get("NotResource").is_some();
            let mut resources = strings(s.get(if not_resource {
                "NotResource"
            } else {
                "Resource"
            }));
            if resources.is_empty() && !not_resource {
                resources.push("*".into());
            }
            Stmt {
                deny: s.get("Effect").and_then(Value::as_str) == Some("Deny"),
                not_action,
                actions: strings(s.get(if not_action { "NotAction" } else { "Action" }))
                    .into_iter()
                    .map(|a| a.trim().to_lowercase())
                    .collect(),
                not_resource,
                resources,
            }
        })
        .collect()
}

/// A glob as a Z3 regex.
fn glob_re(p: &str) -> Regexp {
    let mut parts: Vec<Regexp> = Vec::new();
    let mut lit = String::new();
    for c in p.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    parts.push(Regexp::literal(&lit));
                    lit.clear();
                }
                // Debian's Z3 4.8.12 has no `Z3_mk_re_allchar` in its C API: `*` is `re.all`
                // (the same language as `re.*(re.allchar)`), `?` one printable ASCII character
                parts.push(if c == '*' {
                    Regexp::full()
                } else {
                    Regexp::range(&' ', &'~')
                });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() || parts.is_empty() {
        parts.push(Regexp::literal(&lit));
    }
    if parts.len() == 1 {
        parts.pop().unwrap()
    } else {
        Regexp::concat(&parts)
    }
}

fn any(v: Vec<Bool>) -> Bool {
    if v.is_empty() {
        Bool::from_bool(false)
    } else {
        Bool::or(&v)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Enc {
    Whole,
    Split,
}

/// The variables of one query.
struct Vars {
    action: ZStr,
    service: ZStr,
    name: ZStr,
    resource: ZStr,
}

fn action_match(enc: Enc, v: &Vars, p: &str) -> Bool {
    match enc {
        Enc::Whole => v.action.regex_matches(&glob_re(p)),
        Enc::Split => {
            if p == "*" {
                return Bool::from_bool(true);
            }
            let Some((s, n)) = p.split_once(':') else {
                let whole = ZStr::concat(&[v.service.clone(), ZStr::from(":"), v.name.clone()]);
                return whole.regex_matches(&glob_re(p));
            };
            let svc = if s.contains(['*', '?']) {
                v.service.regex_matches(&glob_re(s))
            } else {
                v.service.eq(ZStr::from(s))
            };
            if n == "*" {
                svc
            } else {
                Bool::and(&[svc, v.name.regex_matches(&glob_re(n))])
            }
        }
    }
}

/// (some Allow applies, some Deny applies)
fn allow_deny(enc: Enc, v: &Vars, sts: &[Stmt]) -> (Bool, Bool) {
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for s in sts {
        let a = any(s.actions.iter().map(|p| action_match(enc, v, p)).collect());
        let a = if s.not_action { a.not() } else { a };
        let r = any(s
            .resources
            .iter()
            .map(|p| v.resource.regex_matches(&glob_re(p)))
            .collect());
        let r = if s.not_resource { r.not() } else { r };
        let m = Bool::and(&[a, r]);
        if s.deny {
            deny.push(m);
        } else {
            allow.push(m);
        }
    }
    (any(allow), any(deny))
}

/// Time one naive query; the result is "sat", "unsat" or "timeout"/"unknown (reason)".
fn naive(enc: Enc, old: &[Stmt], new: &[Stmt], timeout_ms: u32) -> (Duration, String) {
    let t = Instant::now();
    let solver = Solver::new();
    let mut p = Params::new();
    p.set_u32("timeout", timeout_ms);
    solver.set_params(&p);
    let v = Vars {
        action: ZStr::new_const("action"),
        service: ZStr::new_const("service"),
        name: ZStr::new_const("name"),
        resource: ZStr::new_const("resource"),
    };
    let (oa, od) = allow_deny(enc, &v, old);
    let (na, nd) = allow_deny(enc, &v, new);
    let old_allows = Bool::and(&[oa, od.not()]);
    let new_allows = Bool::and(&[na, nd.not()]);
    solver.assert(Bool::and(&[new_allows, old_allows.not()]));
    let r = match solver.check() {
        SatResult::Sat => "sat".to_string(),
        SatResult::Unsat => "unsat".to_string(),
        SatResult::Unknown => {
            let why = solver.get_reason_unknown().unwrap_or_default();
            if why.contains("timeout") || why.contains("canceled") {
                "timeout".into()
            } else {
                format!("unknown ({why})")
            }
        }
    };
    (t.elapsed(), r)
}

fn ours(old: &Value, new: &Value, timeout_ms: u32) -> (Duration, String) {
    let (o, n) = (side(old, "old.json"), side(new, "new.json"));
    let opts = DiffOptions {
        kind: None,
        max_findings: 1,
        direction: Direction::Widen,
        query: QueryOptions {
            timeout_ms,
            ..Default::default()
        },
    };
    let t = Instant::now();
    let f = compare(&o, &n, &opts, "widened");
    let d = t.elapsed();
    let r = if let Some(e) = f.internal {
        format!("INTERNAL ERROR {e}")
    } else if !f.findings.is_empty() {
        "sat".into()
    } else if let Some(u) = f.unknown {
        format!("unknown ({})", u.chars().take(80).collect::<String>())
    } else {
        "unsat".into()
    };
    (d, r)
}

/// Median of up to `reps` runs (fewer once 5 s are spent or a run gives up).
fn measure(reps: usize, mut run: impl FnMut() -> (Duration, String)) -> String {
    let mut times = Vec::new();
    let mut res = String::new();
    let mut total = Duration::ZERO;
    for _ in 0..reps.max(1) {
        let (d, r) = run();
        total += d;
        times.push(d);
        let stop = r != "sat" && r != "unsat";
        res = r;
        if stop || total > Duration::from_secs(5) {
            break;
        }
    }
    let n = times.len();
    let m = median(&mut times);
    if res == "timeout" {
        format!("timeout ({})", fmt(m))
    } else {
        format!("{} {res} (n={n})", fmt(m))
    }
}

fn row(label: &str, old: &Value, new: &Value, reps: usize, timeout_ms: u32, out: &mut Vec<String>) {
    let (o, n) = (stmts(old), stmts(new));
    let patterns: usize = o.iter().map(|s| s.actions.len()).sum::<usize>();
    let ours = measure(reps, || ours(old, new, timeout_ms));
    let split = measure(reps, || naive(Enc::Split, &o, &n, timeout_ms));
    let whole = measure(reps, || naive(Enc::Whole, &o, &n, timeout_ms));
    let r = format!(
        "| {label} | {} | {patterns} | {ours} | {split} | {whole} |",
        o.len()
    );
    println!("{r}");
    out.push(r);
}

fn main() {
    let seeds: u64 = env_or("IAMPROVE_BENCH_SEEDS", 1);
    let reps: usize = env_or("IAMPROVE_BENCH_REPS", 3);
    let timeout_ms: u32 = env_or::<u32>("IAMPROVE_BENCH_TIMEOUT_S", 60) * 1000;
    let sizes: Vec<usize> = std::env::var("IAMPROVE_BENCH_SIZES")
        .unwrap_or_else(|_| "10,50,200".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!("machine: {}", common::machine());
    println!(
        "timeout {} s; median of up to {reps} runs",
        timeout_ms / 1000
    );
    println!("| input | statements (OLD) | action patterns (OLD) | ours | split (service = , name regex) | whole strings, regexes |");
    println!("|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for &n in &sizes {
        for seed in 1..=seeds {
            // profile A: ARNs may have `*` as region or account; profile B: they never do
            for star in [true, false] {
                let mut gen = Gen::new(seed * 7919 + n as u64, n, false);
                gen.star_region_account = star;
                let old = gen.policy(n);
                let (new, _) = gen.widen(&old);
                let p = if star { "A" } else { "B" };
                row(
                    &format!("random {n} {p}#{seed} OLD→NEW"),
                    &old,
                    &new,
                    reps,
                    timeout_ms,
                    &mut rows,
                );
                row(
                    &format!("random {n} {p}#{seed} NEW→OLD"),
                    &new,
                    &old,
                    reps,
                    timeout_ms,
                    &mut rows,
                );
            }
        }
    }
    match common::corpus() {
        None => println!(
            "shared/corpora/aws-managed-policies not found next to the crate or one level up: \
             skipping the real policy pairs"
        ),
        Some(c) => {
            for (p, a, b) in [
                ("AWSSupportServiceRolePolicy", "v43", "v44"),
                ("ViewOnlyAccess", "v28", "v29"),
                ("ReadOnlyAccess", "v139", "v140"),
            ] {
                let Some((old, new)) = common::version_pair(&c, p, a, b) else {
                    println!("{p} {a}→{b}: not in INDEX_version_pairs.csv, skipped");
                    continue;
                };
                let (old, new) = (strip_conditions(&old), strip_conditions(&new));
                row(
                    &format!("{p} {a}→{b}"),
                    &old,
                    &new,
                    reps,
                    timeout_ms,
                    &mut rows,
                );
                row(
                    &format!("{p} {b}→{a}"),
                    &new,
                    &old,
                    reps,
                    timeout_ms,
                    &mut rows,
                );
            }
        }
    }
    println!("\n| input | statements (OLD) | action patterns (OLD) | ours | split (service = , name regex) | whole strings, regexes |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
