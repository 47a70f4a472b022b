//! Shared by `benches/scaling.rs` and `benches/encodings.rs`: a deterministic generator of
//! realistic random identity policies (real actions and ARN formats from the embedded catalog),
//! the edits that turn OLD into a wider NEW, and the location of the shared corpus.
#![allow(dead_code)]

use iamprove::catalog::Catalog;
use iamprove::model::PolicyType;
use iamprove::parse::parse_policy_text;
use iamprove::query::Side;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// xorshift64*: deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `p` percent.
    pub fn pct(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Services that real policies mention most; the generator draws half its services from here.
const POPULAR: &[&str] = &[
    "s3",
    "ec2",
    "iam",
    "lambda",
    "dynamodb",
    "sqs",
    "sns",
    "kms",
    "logs",
    "cloudwatch",
    "sts",
    "secretsmanager",
    "ssm",
    "ecr",
    "ecs",
    "rds",
    "cloudformation",
    "elasticloadbalancing",
    "autoscaling",
    "route53",
];

/// One service as the generator sees it.
struct Svc {
    prefix: &'static str,
    actions: Vec<&'static str>,
    arn_formats: Vec<&'static str>,
}

pub struct Gen {
    rng: Rng,
    services: Vec<Svc>,
    /// Whether ~20% of statements get conditions.
    pub conditions: bool,
    /// Whether every name placeholder of an ARN format may become a wildcard (`*`, `word-*`);
    /// when false only the last one may, the others get literal names.
    pub inner_wildcards: bool,
    /// Whether the region and account fields of an ARN may be `*`.
    pub star_region_account: bool,
}

const WORDS: &[&str] = &[
    "prod", "staging", "dev", "data", "logs", "backup", "app", "web", "etl", "ml", "billing",
    "audit",
];
const ACCOUNTS: &[&str] = &["111122223333", "444455556666"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "*"];

impl Gen {
    /// A generator drawing from `services` services (popular ones first, then random ones).
    pub fn new(seed: u64, statements: usize, conditions: bool) -> Gen {
        let mut rng = Rng::new(seed);
        let cat = Catalog::get();
        let all: Vec<&iamprove::catalog::Service> =
            cat.services().filter(|s| !s.actions.is_empty()).collect();
        let want = (4 + statements / 15).min(80);
        let mut chosen: Vec<&iamprove::catalog::Service> = Vec::new();
        for p in POPULAR {
            if chosen.len() >= want.div_ceil(2) {
                break;
            }
            if let Some(s) = cat.service(p) {
                if rng.pct(70) {
                    chosen.push(s);
                }
            }
        }
        let mut guard = 0;
        while chosen.len() < want && guard < 10_000 {
            guard += 1;
            let s = *rng.pick(&all);
            if !chosen.iter().any(|c| c.prefix == s.prefix) {
                chosen.push(s);
            }
        }
        let services = chosen
            .into_iter()
            .map(|s| Svc {
                prefix: s.prefix,
                actions: s.actions.iter().map(|a| a.name).collect(),
                arn_formats: s
                    .resource_types
                    .iter()
                    .flat_map(|r| r.arn_formats.iter().copied())
                    .collect(),
            })
            .collect();
        Gen {
            rng,
            services,
            conditions,
            inner_wildcards: true,
            star_region_account: true,
        }
    }

    fn svc(&mut self) -> usize {
        self.rng.below(self.services.len())
    }

    /// An exact action name of service `i`.
    pub fn exact_action(&mut self, i: usize) -> String {
        let s = &self.services[i];
        let a = *self.rng.pick(&s.actions);
        format!("{}:{a}", s.prefix)
    }

    fn action_pattern(&mut self, i: usize) -> String {
        let prefix = self.services[i].prefix;
        match self.rng.below(100) {
            0..=59 => self.exact_action(i),
            60..=74 => format!("{prefix}:Get*"),
            75..=84 => format!("{prefix}:List*"),
            85..=89 => format!("{prefix}:Describe*"),
            90..=94 => format!("{prefix}:*"),
            _ => {
                // a verb prefix taken from a real action: `Create*`, `Put*`, `Update*` …
                let a = self.exact_action(i);
                let name = a.split(':').nth(1).unwrap_or("Get").to_string();
                let verb: String = name
                    .char_indices()
                    .take_while(|(k, c)| *k == 0 || c.is_lowercase())
                    .map(|(_, c)| c)
                    .collect();
                format!("{prefix}:{verb}*")
            }
        }
    }

    /// A resource ARN of service `i` from its catalog formats, placeholders filled with
    /// names, name prefixes or wildcards.
    pub fn arn(&mut self, i: usize) -> String {
        let prefix = self.services[i].prefix;
        if self.services[i].arn_formats.is_empty() {
            return format!("arn:aws:{prefix}:*:{}:*", self.rng.pick(ACCOUNTS));
        }
        let fmt = *self.rng.pick(&self.services[i].arn_formats);
        let mut out = String::new();
        let mut rest = fmt;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                rest = after;
                break;
            };
            let name = &after[..end];
            let last = !after[end + 1..].contains("${");
            let fill = match name {
                "Partition" => "aws".to_string(),
                "Region" => {
                    let r = self.rng.pick(REGIONS).to_string();
                    if r == "*" && !self.star_region_account {
                        "us-west-2".into()
                    } else {
                        r
                    }
                }
                "Account" | "AccountId" => {
                    if self.star_region_account && self.rng.pct(15) {
                        "*".into()
                    } else {
                        self.rng.pick(ACCOUNTS).to_string()
                    }
                }
                _ if !self.inner_wildcards && !last => {
                    format!("{}-{}", self.rng.pick(WORDS), self.rng.below(100))
                }
                _ => match self.rng.below(10) {
                    0..=3 => "*".into(),
                    4..=6 => format!("{}-*", self.rng.pick(WORDS)),
                    _ => format!("{}-{}", self.rng.pick(WORDS), self.rng.below(100)),
                },
            };
            out.push_str(&fill);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A resource ARN of the catalog service `prefix` (added to the generator's services).
    pub fn arn_for(&mut self, prefix: &str) -> String {
        let i = match self.services.iter().position(|s| s.prefix == prefix) {
            Some(i) => i,
            None => {
                let Some(s) = Catalog::get().service(prefix) else {
                    return format!("arn:aws:{prefix}:::*");
                };
                self.services.push(Svc {
                    prefix: s.prefix,
                    actions: s.actions.iter().map(|a| a.name).collect(),
                    arn_formats: s
                        .resource_types
                        .iter()
                        .flat_map(|r| r.arn_formats.iter().copied())
                        .collect(),
                });
                self.services.len() - 1
            }
        };
        self.arn(i)
    }

    fn condition(&mut self, deny: bool) -> Value {
        if deny {
            return match self.rng.below(3) {
                0 => json!({"Bool": {"aws:SecureTransport": "false"}}),
                1 => {
                    json!({"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]}})
                }
                _ => {
                    json!({"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}})
                }
            };
        }
        let mut c = serde_json::Map::new();
        let n = 1 + self.rng.below(2);
        for _ in 0..n {
            let (op, key, val): (&str, &str, Value) = match self.rng.below(7) {
                0 => (
                    "StringEquals",
                    "aws:PrincipalTag/team",
                    json!([self.rng.pick(WORDS), self.rng.pick(WORDS)]),
                ),
                1 => (
                    "StringLike",
                    "aws:PrincipalTag/project",
                    json!(format!("{}-*", self.rng.pick(WORDS))),
                ),
                2 => (
                    "StringEquals",
                    "aws:SourceVpce",
                    json!(format!("vpce-0{:08x}", self.rng.next() as u32)),
                ),
                3 => (
                    "IpAddress",
                    "aws:SourceIp",
                    json!([
                        format!("10.{}.0.0/16", self.rng.below(256)),
                        format!("192.0.2.{}/32", self.rng.below(256))
                    ]),
                ),
                4 => ("Bool", "aws:SecureTransport", json!("true")),
                5 => (
                    "NumericLessThan",
                    "aws:MultiFactorAuthAge",
                    json!(format!("{}", 600 * (1 + self.rng.below(12)))),
                ),
                _ => (
                    "StringEquals",
                    "aws:ResourceTag/env",
                    json!(self.rng.pick(WORDS)),
                ),
            };
            let entry = c.entry(op.to_string()).or_insert_with(|| json!({}));
            if let Value::Object(m) = entry {
                m.insert(key.to_string(), val);
            }
        }
        Value::Object(c)
    }

    fn statement(&mut self, k: usize) -> Value {
        let deny = self.rng.pct(7);
        let mut st = serde_json::Map::new();
        st.insert("Sid".into(), json!(format!("S{k}")));
        st.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
        let main = self.svc();
        if !deny && self.rng.pct(3) {
            // "everything but writes, on these resources of one service"
            let prefix = self.services[main].prefix;
            st.insert(
                "NotAction".into(),
                json!([format!("{prefix}:Delete*"), format!("{prefix}:Put*")]),
            );
            let rs: Vec<String> = (0..1 + self.rng.below(2)).map(|_| self.arn(main)).collect();
            st.insert("Resource".into(), json!(rs));
        } else {
            let n = 1 + self.rng.below(6);
            let mut acts = Vec::new();
            for _ in 0..n {
                // mostly the statement's service, sometimes another one
                let i = if self.rng.pct(80) { main } else { self.svc() };
                acts.push(self.action_pattern(i));
            }
            acts.sort();
            acts.dedup();
            st.insert("Action".into(), json!(acts));
            if self.rng.pct(30) {
                st.insert("Resource".into(), json!("*"));
            } else {
                let n = 1 + self.rng.below(3);
                let rs: Vec<String> = (0..n).map(|_| self.arn(main)).collect();
                st.insert("Resource".into(), json!(rs));
            }
        }
        if self.conditions && self.rng.pct(if deny { 60 } else { 20 }) {
            st.insert("Condition".into(), self.condition(deny));
        }
        Value::Object(st)
    }

    /// A policy of `n` statements.
    pub fn policy(&mut self, n: usize) -> Value {
        let st: Vec<Value> = (0..n).map(|k| self.statement(k)).collect();
        json!({"Version": "2012-10-17", "Statement": st})
    }

    /// NEW = OLD with three widening edits: one added action, one widened resource, one
    /// removed condition (each on an Allow statement; an edit is skipped when no statement
    /// fits). Every edit only widens, so "OLD allows something NEW does not" is unsatisfiable.
    pub fn widen(&mut self, old: &Value) -> (Value, Vec<String>) {
        let mut new = old.clone();
        let mut done = Vec::new();
        let Some(sts) = new.get_mut("Statement").and_then(Value::as_array_mut) else {
            return (new, done);
        };
        let allows = |sts: &Vec<Value>, f: &dyn Fn(&Value) -> bool| -> Vec<usize> {
            sts.iter()
                .enumerate()
                .filter(|(_, s)| s["Effect"] == "Allow" && f(s))
                .map(|(i, _)| i)
                .collect()
        };
        // 1. an added action
        let c = allows(sts, &|s| s.get("Action").is_some());
        if !c.is_empty() {
            let i = *self.rng.pick(&c);
            let svc = self.svc();
            let a = self.exact_action(svc);
            if let Some(v) = sts[i].get_mut("Action").and_then(Value::as_array_mut) {
                v.push(json!(a));
                done.push(format!("added action {a} to statement {i}"));
            }
        }
        // 2. a widened resource: `arn:aws:svc:…` → `arn:aws:svc:*`
        let c = allows(sts, &|s| {
            s["Resource"]
                .as_array()
                .is_some_and(|v| v.iter().any(|r| r.as_str().is_some_and(|r| r != "*")))
        });
        if !c.is_empty() {
            let i = *self.rng.pick(&c);
            if let Some(v) = sts[i].get_mut("Resource").and_then(Value::as_array_mut) {
                if let Some(r) = v.iter_mut().find(|r| r.as_str().is_some_and(|r| r != "*")) {
                    let old_r = r.as_str().unwrap_or("").to_string();
                    let wide: Vec<&str> = old_r.splitn(4, ':').take(3).collect();
                    let wide = format!("{}:*", wide.join(":"));
                    done.push(format!(
                        "widened resource {old_r} to {wide} in statement {i}"
                    ));
                    *r = json!(wide);
                }
            }
        }
        // 3. a removed condition operator
        let c = allows(sts, &|s| s.get("Condition").is_some());
        if !c.is_empty() {
            let i = *self.rng.pick(&c);
            if let Some(obj) = sts[i].as_object_mut() {
                let mut empty = false;
                if let Some(Value::Object(cond)) = obj.get_mut("Condition") {
                    if let Some(op) = cond.keys().next().cloned() {
                        cond.remove(&op);
                        done.push(format!("removed condition {op} from statement {i}"));
                    }
                    empty = cond.is_empty();
                }
                if empty {
                    obj.remove("Condition");
                }
            }
        }
        (new, done)
    }
}

/// Parse a generated or corpus document as one identity policy.
pub fn side(doc: &Value, name: &str) -> Side {
    let text = doc.to_string();
    match parse_policy_text(&text, PolicyType::Identity, name) {
        Ok(p) => Side::Identity(vec![p]),
        Err(e) => {
            eprintln!("{name}: does not parse: {e:?}");
            std::process::exit(2)
        }
    }
}

/// The policy document of a corpus version file (`{"Document": …}`).
pub fn document(v: &Value) -> Value {
    v.get("Document").cloned().unwrap_or_else(|| v.clone())
}

/// The same document without any `Condition` block.
pub fn strip_conditions(doc: &Value) -> Value {
    let mut d = doc.clone();
    if let Some(sts) = d.get_mut("Statement").and_then(Value::as_array_mut) {
        for s in sts {
            if let Some(o) = s.as_object_mut() {
                o.remove("Condition");
            }
        }
    } else if let Some(o) = d.get_mut("Statement").and_then(Value::as_object_mut) {
        o.remove("Condition");
    }
    d
}

/// `shared/corpora/aws-managed-policies` next to the crate or one level up.
pub fn corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [root.join("../shared"), root.join("../../shared")]
        .into_iter()
        .map(|p| p.join("corpora/aws-managed-policies"))
        .find(|p| p.join("INDEX_version_pairs.csv").is_file())
}

/// The old and new version files of `policy` `old`→`new` from `INDEX_version_pairs.csv`.
pub fn version_pair(corpus: &Path, policy: &str, old: &str, new: &str) -> Option<(Value, Value)> {
    let index = std::fs::read_to_string(corpus.join("INDEX_version_pairs.csv")).ok()?;
    let mut lines = index.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n);
    let (p, o, n, of, nf) = (
        col("policy")?,
        col("old_version")?,
        col("new_version")?,
        col("old_file")?,
        col("new_file")?,
    );
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f.get(p) == Some(&policy) && f.get(o) == Some(&old) && f.get(n) == Some(&new) {
            let read = |rel: &str| -> Option<Value> {
                serde_json::from_str(&std::fs::read_to_string(corpus.join(rel)).ok()?).ok()
            };
            return Some((document(&read(f.get(of)?)?), document(&read(f.get(nf)?)?)));
        }
    }
    None
}

pub fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    if v.is_empty() {
        Duration::ZERO
    } else {
        v[v.len() / 2]
    }
}

pub fn fmt(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Machine description for the report header.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{model}, {cpus} CPUs, {}", z3::full_version())
}
