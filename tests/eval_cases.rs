//! Data-driven evaluator and parser cases.
//!
//! * `tests/data/eval/*.json`: `{"cases":[{"name","rule","expect","scenario"}]}`, each scenario is
//!   decided by the evaluator and must give `expect` (`Allow`, `ExplicitDeny`, `ImplicitDeny`).
//! * `tests/data/bad/*.json`: `{"cases":[{"name","policy" | "raw","type","path","message_contains", "line"?}]}`,
//!   each document must be rejected with an error at `path` whose message contains `message_contains`
//!   (or, for malformed JSON, a message naming `line N`).
//! * `shared/conformance/eval-cases.json`, when present, runs through the same checks.
//!
//! Every failing case is printed with its name and rule; the test fails if any case fails.

use crate::util::shared_dir;
use iamprove::eval::evaluate;
use iamprove::json::{parse as parse_json, Json};
use iamprove::model::PolicyType;
use iamprove::parse::{parse_policy, parse_policy_text, ParseError};
use iamprove::scenario::scenario_from_json;
use std::path::{Path, PathBuf};

fn data_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(kind)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn load(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_json(&text).unwrap_or_else(|e| {
        panic!(
            "{}: invalid JSON at line {}, column {}: {}",
            path.display(),
            e.line,
            e.column,
            e.message
        )
    })
}

fn cases<'a>(doc: &'a Json, key: &str) -> &'a [Json] {
    match doc.get(key) {
        Some(Json::Arr(items)) => items,
        _ => &[],
    }
}

fn field<'a>(c: &'a Json, k: &str) -> &'a str {
    c.get(k).and_then(Json::as_str).unwrap_or("")
}

/// Decide one eval case; `Err` describes the failure.
fn run_eval_case(c: &Json, file: &Path) -> Result<(), String> {
    let expect = field(c, "expect");
    if !matches!(expect, "Allow" | "ExplicitDeny" | "ImplicitDeny") {
        return Err(format!("bad case: `expect` is `{expect}`"));
    }
    let scenario = c.get("scenario").ok_or("bad case: no `scenario`")?;
    let base = file.parent().unwrap_or(Path::new("."));
    let sc = scenario_from_json(scenario, field(c, "name"), base, true).map_err(|errs| {
        format!(
            "scenario rejected: {}",
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let req = sc.request.as_ref().ok_or("scenario has no request")?;
    let ev = evaluate(&sc, req);
    if ev.decision.name() == expect {
        Ok(())
    } else {
        Err(format!(
            "expected {expect}, got {} ({})",
            ev.decision.name(),
            ev.reason
        ))
    }
}

/// An error is at `want` when its path is `want` or inside it (`Statement[0].Effect` is inside
/// `Statement[0]`): the parser may name the exact key where the data names the statement.
fn path_matches(got: &ParseError, want: &str) -> bool {
    let p = got.path.to_string();
    p == want
        || p.strip_prefix(want)
            .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
}

/// Check one bad-policy case; `Err` describes the failure.
fn run_bad_case(c: &Json) -> Result<(), String> {
    let kind = PolicyType::parse(field(c, "type"))
        .ok_or_else(|| format!("bad case: unknown type `{}`", field(c, "type")))?;
    let result = match (c.get("raw"), c.get("policy")) {
        (Some(Json::Str(raw)), _) => parse_policy_text(raw, kind, "case"),
        (_, Some(doc)) => parse_policy(doc, kind, "case"),
        _ => return Err("bad case: neither `policy` nor `raw`".into()),
    };
    let errs = match result {
        Ok(_) => return Err("accepted, but must be rejected".into()),
        Err(e) => e,
    };
    let all = errs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if errs.iter().any(|e| e.message.trim().is_empty()) {
        return Err(format!("an error without a message: {all}"));
    }
    if let Some(Json::Num(line)) = c.get("line") {
        let needle = format!("line {line},");
        return if errs.iter().any(|e| e.message.contains(&needle)) {
            Ok(())
        } else {
            Err(format!("expected an error naming {needle} got: {all}"))
        };
    }
    let want_path = field(c, "path");
    let want_msg = field(c, "message_contains").to_lowercase();
    if errs
        .iter()
        .any(|e| path_matches(e, want_path) && e.message.to_lowercase().contains(&want_msg))
    {
        Ok(())
    } else {
        Err(format!(
            "expected an error at `{want_path}` containing `{want_msg}`, got: {all}"
        ))
    }
}

struct Tally {
    run: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, c: &Json, file: &Path, r: Result<(), String>) {
        self.run += 1;
        if let Err(why) = r {
            let rule = match field(c, "rule") {
                "" => String::new(),
                r => format!(" [{r}]"),
            };
            let f = file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            self.failures
                .push(format!("FAIL {f}: {}{rule}: {why}", field(c, "name")));
        }
    }

    fn finish(self, what: &str, at_least: usize) {
        for f in &self.failures {
            eprintln!("{f}");
        }
        eprintln!(
            "{what}: {} passed, {} failed",
            self.run - self.failures.len(),
            self.failures.len()
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} {what} cases failed (listed above)",
            self.failures.len(),
            self.run
        );
        assert!(
            self.run >= at_least,
            "only {} {what} cases ran; expected at least {at_least}",
            self.run
        );
    }
}

fn conformance() -> Option<(PathBuf, Json)> {
    let p = shared_dir()?.join("conformance/eval-cases.json");
    p.is_file().then(|| {
        let doc = load(&p);
        (p, doc)
    })
}

#[test]
fn eval_cases() {
    let mut t = Tally {
        run: 0,
        failures: Vec::new(),
    };
    let data = files(&data_dir("eval"));
    for f in &data {
        let doc = load(f);
        for c in cases(&doc, "cases") {
            t.record(c, f, run_eval_case(c, f));
        }
    }
    let from_data = t.run;
    if let Some((p, doc)) = conformance() {
        for c in cases(&doc, "cases") {
            t.record(c, &p, run_eval_case(c, &p));
        }
    }
    // The full data set has hundreds of cases; our own regression file alone has a dozen.
    let at_least = if data.len() > 2 { 150 } else { 10 };
    assert!(
        from_data >= at_least,
        "only {from_data} eval cases in tests/data/eval; expected at least {at_least}"
    );
    t.finish("eval", at_least);
}

#[test]
fn bad_policy_cases() {
    let mut t = Tally {
        run: 0,
        failures: Vec::new(),
    };
    for f in &files(&data_dir("bad")) {
        let doc = load(f);
        for c in cases(&doc, "cases") {
            t.record(c, f, run_bad_case(c));
        }
    }
    if let Some((p, doc)) = conformance() {
        // the conformance file's bad policies are identity policies without an expected path
        for c in cases(&doc, "bad_policies") {
            let r = match c.get("policy") {
                Some(doc) => match parse_policy(doc, PolicyType::Identity, "case") {
                    Ok(_) => Err("accepted, but must be rejected".to_owned()),
                    Err(errs) if errs.iter().all(|e| !e.message.is_empty()) => Ok(()),
                    Err(_) => Err("an error without a message".to_owned()),
                },
                None => Err("bad case: no `policy`".to_owned()),
            };
            t.record(c, &p, r);
        }
    }
    t.finish("bad-policy", 10);
}
