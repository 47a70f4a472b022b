//! Evaluator throughput on real policies: `cargo bench --bench eval`.
//!
//! Loads the 20 largest AWS managed policies (by statement count) plus ReadOnlyAccess from
//! `shared/corpora/` as identity policies, generates 10,000 random but realistic requests (real
//! action names taken from those policies, ARNs of the action's service, common context keys) and
//! reports statement evaluations per second and requests per second on one core.
//! Set `IAMPROVE_BENCH_REQUESTS` to change the request count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iamprove::eval::{evaluate, explain, Decision};
use iamprove::model::{Policy, PolicyType};
use iamprove::parse::parse_policy_text;
use iamprove::request::{Context, CtxValue, Principal, Request};
use iamprove::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
}

fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [root.join("../shared"), root.join("../../shared")]
        .into_iter()
        .map(|p| p.join("corpora/aws-managed-policies/current"))
        .find(|p| p.is_dir())
        .expect("shared/corpora/aws-managed-policies/current not found next to the crate or one level up")
}

fn load_policies() -> Vec<Policy> {
    let mut all: Vec<Policy> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| {
            parse_policy_text(
                &std::fs::read_to_string(&p).unwrap(),
                PolicyType::Identity,
                &p.display().to_string(),
            )
            .ok()
        })
        .collect();
    all.sort_by(|a, b| {
        b.statements
            .len()
            .cmp(&a.statements.len())
            .then(a.name.cmp(&b.name))
    });
    let mut chosen: Vec<Policy> = all.iter().take(20).cloned().collect();
    if !chosen
        .iter()
        .any(|p| p.name.ends_with("/ReadOnlyAccess.json"))
    {
        chosen.extend(
            all.iter()
                .find(|p| p.name.ends_with("/ReadOnlyAccess.json"))
                .cloned(),
        );
    }
    chosen
}

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn fill_wildcards(pattern: &str, rng: &mut Rng) -> String {
    let mut out = String::new();
    for c in pattern.chars() {
        match c {
            '*' => {
                for _ in 0..rng.below(8) {
                    out.push(rng.pick(LETTERS) as char);
                }
            }
            '?' => out.push(rng.pick(LETTERS) as char),
            c => out.push(c),
        }
    }
    out
}

fn requests(policies: &[Policy], n: usize, rng: &mut Rng) -> Vec<Request> {
    let actions: Vec<&str> = policies
        .iter()
        .flat_map(|p| &p.statements)
        .flat_map(|s| &s.action.patterns)
        .map(|a| a.raw.as_str())
        .filter(|a| *a != "*")
        .collect();
    let resources: Vec<&str> = policies
        .iter()
        .flat_map(|p| &p.statements)
        .filter_map(|s| s.resource.as_ref())
        .flat_map(|r| &r.patterns)
        .map(|t| t.raw.as_str())
        .filter(|r| r.starts_with("arn:") && !r.contains("${"))
        .collect();
    let keys: Vec<&str> = policies
        .iter()
        .flat_map(|p| &p.statements)
        .flat_map(|s| &s.conditions)
        .map(|c| c.key_raw.as_str())
        .collect();
    let principals = [
        "arn:aws:iam::111122223333:user/dev/alice",
        "arn:aws:sts::111122223333:assumed-role/Deploy/s-1",
        "arn:aws:iam::111122223333:role/service-role/Builder",
    ];
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    (0..n)
        .map(|_| {
            let action = fill_wildcards(rng.pick(&actions), rng);
            let svc = action.split(':').next().unwrap_or("s3").to_owned();
            let resource = match rng.below(4) {
                0 => "*".to_owned(),
                1 if !resources.is_empty() => fill_wildcards(rng.pick(&resources), rng),
                _ => format!(
                    "arn:aws:{svc}:{}:111122223333:thing/{}",
                    rng.pick(&regions),
                    fill_wildcards("res-*", rng)
                ),
            };
            let mut ctx = Context::new();
            let mut put = |k: &str, v: String| {
                ctx.insert(
                    k.to_lowercase(),
                    CtxValue {
                        key: k.to_owned(),
                        values: vec![v],
                        multi: false,
                    },
                );
            };
            put("aws:SourceIp", format!("203.0.113.{}", rng.below(256)));
            put("aws:RequestedRegion", rng.pick(&regions).to_owned());
            put(
                "aws:SecureTransport",
                if rng.below(2) == 0 {
                    "true".into()
                } else {
                    "false".into()
                },
            );
            if !keys.is_empty() {
                for _ in 0..rng.below(3) {
                    let k = rng.pick(&keys);
                    let v = match rng.below(3) {
                        0 => svc.clone() + ".amazonaws.com",
                        1 => "true".to_owned(),
                        _ => fill_wildcards("v-*", rng),
                    };
                    put(k, v);
                }
            }
            Request::new(
                Principal::parse(rng.pick(&principals)).unwrap(),
                &action,
                &resource,
                None,
                ctx,
            )
        })
        .collect()
}

fn main() {
    // `cargo test --benches` runs bench targets with `--test`-like flags; do a tiny run then.
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");
    let n: usize = std::env::var("IAMPROVE_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 100 } else { 10_000 });
    let t0 = Instant::now();
    let policies = load_policies();
    let load = t0.elapsed();
    let statements: usize = policies.iter().map(|p| p.statements.len()).sum();
    let patterns: usize = policies
        .iter()
        .flat_map(|p| &p.statements)
        .map(|s| s.action.patterns.len())
        .sum();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let reqs = requests(&policies, n, &mut rng);
    let mut sc = Scenario::empty();
    sc.identity_policies = policies;

    // warm-up, then the timed runs: best of three
    for r in reqs.iter().take(200) {
        std::hint::black_box(evaluate(&sc, r));
    }
    let mut best = f64::MAX;
    let mut allows = 0;
    for _ in 0..3 {
        let start = Instant::now();
        allows = 0;
        for r in &reqs {
            if std::hint::black_box(evaluate(&sc, r)).decision == Decision::Allow {
                allows += 1;
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    // explain() also records why every statement did not apply (the `eval` command's output)
    let m = reqs.len().min(1000);
    let start = Instant::now();
    for r in &reqs[..m] {
        std::hint::black_box(explain(&sc, r));
    }
    let explain_rate = m as f64 / start.elapsed().as_secs_f64();
    let evals = (statements * reqs.len()) as f64;
    println!("policies: {} ({statements} statements, {patterns} action patterns), loaded and parsed in {:.2?}", sc.identity_policies.len(), load);
    println!("requests: {} ({allows} allowed)", reqs.len());
    println!("time:     {:.3} s (best of 3)", best);
    println!("requests/s:             {:>12.0}", reqs.len() as f64 / best);
    println!("statement evaluations/s: {:>12.0}", evals / best);
    println!("explain requests/s:     {:>12.0}", explain_rate);
}
