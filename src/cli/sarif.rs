//! SARIF 2.1.0 output (`--format sarif`) for `check`, `diff`, `validate` and `escalations`.
//!
//! Each command prints one log with one run. Rule ids are stable (docs/sarif.md):
//! `IAMP-CHECK-<invariant id>`, `IAMP-DIFF-WIDENED` / `-NARROWED` / `-UNKNOWN`,
//! `IAMP-VALIDATE-<code>`, `IAMP-ESC-<method>`. Every result points at the statement responsible
//! for it: the file (relative to the current directory when it is below it), the line and column
//! where the statement starts ([`location`]) and its JSON path as a logical location.
//!
//! The structs are hand-rolled: the few SARIF objects used here are smaller than a dependency,
//! and `tests/sarif.rs` validates the output against the official schema.

pub mod location;

use crate::account::escalate::{Escalation, Method};
use crate::account::Env;
use crate::validate::Finding;
use crate::verdict::Verdict;
use location::{find_longest, find_yaml_keys, parse_path, Seg};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

pub(crate) const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// `informationUri`: Cargo's `repository` field (omitted while it is not set).
pub(crate) const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

#[derive(Debug, Clone, Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    pub results: Vec<SarifResult>,
    pub column_kind: &'static str,
    /// Run-level facts: `assumptions` a diff's verdict relies on.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub properties: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub information_uri: &'static str,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub text: String,
}

fn msg(text: impl Into<String>) -> Message {
    Message { text: text.into() }
}

/// A `reportingDescriptor`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub short_description: Message,
    pub full_description: Message,
    pub help: Message,
    pub default_configuration: Configuration,
}

#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    pub level: Level,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: Level,
    pub message: Message,
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<Location>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub properties: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArtifactLocation {
    pub uri: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
    pub start_column: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    pub fully_qualified_name: String,
}

/// Print a log (pretty JSON and a newline).
pub fn print(out: &mut impl Write, log: &Log) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, log).map_err(std::io::Error::other)?;
    writeln!(out)
}

/// Rules and results of one run; rules are deduplicated by id, in order of first use.
struct Builder {
    rules: Vec<Rule>,
    results: Vec<SarifResult>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            rules: Vec::new(),
            results: Vec::new(),
        }
    }
    fn rule(
        &mut self,
        id: &str,
        name: &str,
        short: &str,
        full: &str,
        help: &str,
        level: Level,
    ) -> usize {
        if let Some(i) = self.rules.iter().position(|r| r.id == id) {
            return i;
        }
        self.rules.push(Rule {
            id: id.to_owned(),
            name: name.to_owned(),
            short_description: msg(short),
            full_description: msg(full),
            help: msg(help),
            default_configuration: Configuration { level },
        });
        self.rules.len() - 1
    }
    fn result(
        &mut self,
        rule: usize,
        level: Level,
        text: String,
        locations: Vec<Location>,
        related: Vec<Location>,
        properties: serde_json::Map<String, Value>,
    ) {
        let rule_id = self
            .rules
            .get(rule)
            .map(|r| r.id.clone())
            .unwrap_or_default();
        self.results.push(SarifResult {
            rule_id,
            rule_index: rule,
            level,
            message: msg(text),
            locations,
            related_locations: related,
            properties,
        });
    }
    fn log(self) -> Log {
        let version = env!("CARGO_PKG_VERSION");
        Log {
            schema: SCHEMA_URI,
            version: "2.1.0",
            runs: vec![Run {
                tool: Tool {
                    driver: Driver {
                        name: "iamprove",
                        version,
                        semantic_version: version,
                        information_uri: INFORMATION_URI,
                        rules: self.rules,
                    },
                },
                results: self.results,
                column_kind: "utf16CodeUnits",
                properties: serde_json::Map::new(),
            }],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Locations

/// A URI reference for a file: relative to the current directory (forward slashes) when the file
/// is below it, else an absolute `file://` URI.
pub(crate) fn file_uri(file: &str) -> String {
    let cwd = std::env::current_dir().ok().map(|c| normalize(&c));
    let p = Path::new(file);
    let abs = match (&cwd, p.is_absolute()) {
        (Some(c), false) => normalize(&c.join(p)),
        _ => normalize(p),
    };
    let parts = |p: &Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(encode(&s.to_string_lossy())),
                _ => None,
            })
            .collect()
    };
    match cwd.as_ref().and_then(|c| abs.strip_prefix(c).ok()) {
        Some(rel) if rel.components().next().is_some() => parts(rel).join("/"),
        _ => {
            let mut s = String::from("file://");
            for c in abs.components() {
                match c {
                    Component::Prefix(pre) => {
                        s.push('/');
                        s.push_str(&encode(&pre.as_os_str().to_string_lossy()));
                    }
                    Component::Normal(n) => {
                        s.push('/');
                        s.push_str(&encode(&n.to_string_lossy()));
                    }
                    _ => {}
                }
            }
            s
        }
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

const URI_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URI_ESCAPES).to_string()
}

fn show_path(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() {
        "(document)".into()
    } else {
        s
    }
}

/// Where a policy lives: a file and the path of the document inside it.
type Source = (String, Vec<Seg>);
type SourceFn<'a> = Box<dyn Fn(&str) -> Option<Source> + 'a>;

/// Finds statements in files: reads each file once.
pub struct Locator<'a> {
    texts: HashMap<String, Option<String>>,
    /// Policies that are not files of their own (account dumps): label → file and path.
    extra: SourceFn<'a>,
}

impl<'a> Locator<'a> {
    pub fn new() -> Self {
        Locator {
            texts: HashMap::new(),
            extra: Box::new(|_| None),
        }
    }
    pub(crate) fn with_sources(extra: impl Fn(&str) -> Option<Source> + 'a) -> Self {
        Locator {
            texts: HashMap::new(),
            extra: Box::new(extra),
        }
    }
    fn text(&mut self, file: &str) -> Option<&str> {
        self.texts
            .entry(file.to_owned())
            .or_insert_with(|| std::fs::read_to_string(file).ok())
            .as_deref()
    }
    /// The file and document path of a policy named `policy` (a file, `file#path` for a policy
    /// embedded in a scenario, or a label the extra sources know); None for synthetic policies.
    fn source(&mut self, policy: &str) -> Option<Source> {
        if let Some(s) = (self.extra)(policy) {
            return Some(s);
        }
        if let Some((file, path)) = policy.rsplit_once('#') {
            if self.text(file).is_some() {
                return Some((file.to_owned(), parse_path(path)));
            }
        }
        let text = self.text(policy)?;
        // a policy-version envelope: statement paths are relative to its document
        let prefix = crate::json::parse(text)
            .map(|doc| crate::parse::unwrap_envelope(&doc).1.to_string())
            .unwrap_or_default();
        let prefix = if prefix == "(document)" {
            Vec::new()
        } else {
            parse_path(&prefix)
        };
        Some((policy.to_owned(), prefix))
    }
    /// A location for `path` (a printed JSON path) inside file `file`, which it is relative to.
    pub(crate) fn in_file(
        &mut self,
        file: &str,
        segs: &[Seg],
        message: Option<String>,
    ) -> Location {
        let fqn = show_path(segs);
        let region = self
            .text(file)
            .and_then(|t| find_longest(t, segs))
            .map(|(p, _)| Region {
                start_line: p.line,
                start_column: p.column,
            });
        let exists = self.text(file).is_some();
        Location {
            id: None,
            physical_location: exists.then(|| PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: file_uri(file),
                },
                region,
            }),
            logical_locations: vec![LogicalLocation {
                fully_qualified_name: fqn,
            }],
            message: message.map(msg),
        }
    }
    /// A location for a statement (or an element of it) of the policy named `policy`; `path` is
    /// relative to the policy document.
    pub(crate) fn in_policy(
        &mut self,
        policy: &str,
        path: &str,
        message: Option<String>,
    ) -> Location {
        let rel = if path.is_empty() {
            Vec::new()
        } else {
            parse_path(path)
        };
        match self.source(policy) {
            Some((file, mut segs)) => {
                segs.extend(rel);
                self.in_file(&file, &segs, message)
            }
            None => Location {
                id: None,
                physical_location: None,
                logical_locations: vec![LogicalLocation {
                    fully_qualified_name: show_path(&rel),
                }],
                message: message.map(msg),
            },
        }
    }
}

impl Default for Locator<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// A statement a result points at: the policy's label, the statement's JSON path
/// (`Statement[2]`), its Sid and (when the reference carries it) its effect.
struct StatementAt<'a> {
    policy: &'a str,
    path: &'a str,
    sid: Option<&'a str>,
    effect: Option<&'a str>,
}

impl<'a> From<&'a crate::eval::StmtRef> for StatementAt<'a> {
    fn from(r: &'a crate::eval::StmtRef) -> Self {
        StatementAt {
            policy: &r.policy,
            path: &r.path,
            sid: r.sid.as_deref(),
            effect: Some(&r.effect),
        }
    }
}

impl<'a> From<&'a crate::diff::GrantRef> for StatementAt<'a> {
    fn from(r: &'a crate::diff::GrantRef) -> Self {
        StatementAt {
            policy: &r.policy,
            path: &r.statement,
            sid: r.sid.as_deref(),
            effect: None,
        }
    }
}

fn statement_message(v: &StatementAt) -> String {
    let sid = v.sid.map(|s| format!(" ({s})")).unwrap_or_default();
    let effect = v.effect.map(|e| format!("{e} ")).unwrap_or_default();
    format!("{effect}{}{sid} in `{}`", v.path, v.policy)
}

/// Locations of statement references.
fn statement_locations(loc: &mut Locator, refs: &[StatementAt]) -> Vec<Location> {
    refs.iter()
        .map(|r| loc.in_policy(r.policy, r.path, Some(statement_message(r))))
        .collect()
}

fn numbered(mut locs: Vec<Location>) -> Vec<Location> {
    for (i, l) in locs.iter_mut().enumerate() {
        l.id = Some(i);
    }
    locs
}

fn props(pairs: Vec<(&str, Value)>) -> serde_json::Map<String, Value> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// check

/// One target of a check: its name in the results and the names of its policies.
pub struct CheckTarget {
    pub name: String,
    pub policies: Vec<String>,
}

/// `check --format sarif`: one rule per invariant, one result per violated or unknown invariant
/// (holding invariants have a rule and no result).
pub(crate) fn check_log(results: &[crate::check::CheckEntry], targets: &[CheckTarget]) -> Log {
    let mut b = Builder::new();
    let mut loc = Locator::new();
    for r in results {
        let id = r.invariant();
        let description = r.description();
        let source = r.source();
        let short = if description.is_empty() {
            format!("Invariant `{id}`")
        } else {
            description.to_owned()
        };
        let rule = b.rule(
            &format!("IAMP-CHECK-{id}"),
            id,
            &short,
            &format!("Invariant `{id}` (defined in {source}){}. iamprove proves it over every request, or reports a concrete request that breaks it.", if description.is_empty() { String::new() } else { format!(": {description}") }),
            "A violation carries a counterexample request, already replayed through iamprove's evaluator: paste it into a scenario and run `iamprove eval` to see the deciding statements. Fix the statement the result points at, or change the invariant if the access is intended. `unknown` means the solver gave up (raise --timeout); it is not a pass.",
            Level::Error,
        );
        let status = r.status();
        let target = r.target();
        let detail = r.detail();
        let counterexample = r.counterexample_json();
        let (level, text) = match status {
            Verdict::Violated => (Level::Error, format!("Invariant `{id}` is violated on {target}: {detail}. Counterexample (replayable request): {counterexample}")),
            Verdict::Unknown => (Level::Warning, format!("Invariant `{id}` could not be decided on {target} (this is not a pass): {detail}")),
            Verdict::Error => (Level::Error, format!("Internal error while checking invariant `{id}` on {target}: {detail}")),
            _ => continue,
        };
        let mut stmts: Vec<&crate::eval::StmtRef> = r.statements().iter().collect();
        // the grants first (GitHub shows the first location); boundaries, SCPs, ... after them
        stmts.sort_by_key(|s| {
            !matches!(
                s.set,
                crate::eval::SetName::Identity | crate::eval::SetName::Resource
            )
        });
        let refs: Vec<StatementAt> = stmts.into_iter().map(StatementAt::from).collect();
        let mut locations = statement_locations(&mut loc, &refs);
        if locations.is_empty() {
            // nothing decided (an implicit deny, or no answer): point at the target's statements
            let policies = targets
                .iter()
                .find(|t| t.name == target)
                .map(|t| t.policies.clone())
                .unwrap_or_default();
            locations = policies
                .iter()
                .map(|p| loc.in_policy(p, "Statement", Some(format!("policy `{p}` under test"))))
                .collect();
        }
        b.result(
            rule,
            level,
            text,
            numbered(locations),
            Vec::new(),
            props(vec![
                ("status", Value::from(status.name())),
                ("target", Value::from(target)),
                ("request", counterexample),
            ]),
        );
    }
    // what holding invariants rely on (no silent narrowing)
    let mut assumptions: Vec<Value> = Vec::new();
    for a in results
        .iter()
        .flat_map(|r| r.assumptions().unwrap_or_default())
    {
        let a = Value::from(a.as_str());
        if !assumptions.contains(&a) {
            assumptions.push(a);
        }
    }
    let mut log = b.log();
    if !assumptions.is_empty() {
        for run in &mut log.runs {
            run.properties
                .insert("assumptions".into(), Value::Array(assumptions.clone()));
        }
    }
    log
}

// ---------------------------------------------------------------------------------------------
// diff

/// `diff --format sarif`: rules `IAMP-DIFF-WIDENED`, `IAMP-DIFF-NARROWED`, `IAMP-DIFF-UNKNOWN`.
pub(crate) fn diff_log(
    findings: &[crate::diff::Finding],
    verdict: Verdict,
    narrowed: Option<Verdict>,
    notes: &[String],
    old: &str,
    new: &str,
) -> Log {
    diff_log_assuming(findings, verdict, narrowed, notes, &[], old, new)
}

/// [`diff_log`] for a verdict that holds under `assumptions` (no silent narrowing): they are
/// listed in the run's `properties.assumptions` and in the text of each finding that relies on one.
pub(crate) fn diff_log_assuming(
    findings: &[crate::diff::Finding],
    verdict: Verdict,
    narrowed: Option<Verdict>,
    notes: &[String],
    assumptions: &[String],
    old: &str,
    new: &str,
) -> Log {
    let mut log = diff_log_inner(findings, verdict, narrowed, notes, old, new);
    if !assumptions.is_empty() {
        for run in &mut log.runs {
            run.properties
                .insert("assumptions".into(), serde_json::json!(assumptions));
        }
    }
    log
}

fn diff_log_inner(
    findings: &[crate::diff::Finding],
    verdict: Verdict,
    narrowed: Option<Verdict>,
    notes: &[String],
    old: &str,
    new: &str,
) -> Log {
    let mut b = Builder::new();
    let help = "Each finding carries a request (scenario format) that the old policy denies and the new one allows (or the reverse), replayed through iamprove's evaluator: paste it into a scenario and run `iamprove eval` to confirm. Narrow the statement the result points at if the access is not intended.";
    let widened = b.rule(
        "IAMP-DIFF-WIDENED",
        "Widened",
        "The new policy allows requests the old one does not",
        "A widening: the new policy allows a class of requests that the old policy denies. The result names the statement of the new policy that grants it.",
        help,
        Level::Error,
    );
    let narrowed_rule = b.rule(
        "IAMP-DIFF-NARROWED",
        "Narrowed",
        "The new policy no longer allows requests the old one allows",
        "A narrowing (reported with --direction both): the old policy allows a class of requests that the new policy denies. The result names the statement of the old policy that granted it.",
        help,
        Level::Note,
    );
    let unknown = b.rule(
        "IAMP-DIFF-UNKNOWN",
        "Unknown",
        "The comparison did not finish",
        "The solver gave up (timeout or resource limit) before deciding whether the new policy widens access; this is not a pass.",
        "Re-run with a larger --timeout, or split the policy.",
        Level::Warning,
    );
    let mut loc = Locator::new();
    for f in findings {
        let (rule, level, file) = if f.kind == Verdict::Narrowed {
            (narrowed_rule, Level::Note, old)
        } else {
            (widened, Level::Error, new)
        };
        let refs: Vec<StatementAt> = f.granted_by.iter().map(StatementAt::from).collect();
        let mut locations = statement_locations(&mut loc, &refs);
        if locations.is_empty() {
            locations.push(loc.in_policy(file, "Statement", None));
        }
        let mut text = format!(
            "{}. Old decision: {}. Replayable request: {}",
            f.summary, f.old_decision, f.request
        );
        for a in &f.assumptions {
            text.push_str(&format!(". Assumes: {a}"));
        }
        b.result(
            rule,
            level,
            text,
            numbered(locations),
            Vec::new(),
            props(vec![
                ("request", f.request.clone()),
                ("old_decision", Value::from(f.old_decision)),
                ("new_decision", Value::from(f.new_decision)),
            ]),
        );
    }
    if verdict == Verdict::Unknown || narrowed == Some(Verdict::Unknown) {
        let what = if verdict == Verdict::Unknown {
            "whether NEW widens access"
        } else {
            "whether NEW narrows access"
        };
        let text = format!(
            "No answer within the limits on {what} (this is not a pass). {}",
            notes.join(" ")
        );
        let l = loc.in_policy(new, "Statement", None);
        b.result(
            unknown,
            Level::Warning,
            text.trim_end().to_owned(),
            vec![l],
            Vec::new(),
            serde_json::Map::new(),
        );
    }
    b.log()
}

// ---------------------------------------------------------------------------------------------
// validate

/// The codes of `validate`: (code, level, short description, full description).
pub(crate) const VALIDATE_RULES: &[(&str, Level, &str, &str)] = &[
    ("json", Level::Error, "The file is not readable JSON", "The file cannot be read or is not valid JSON."),
    ("grammar", Level::Error, "The policy does not follow the IAM policy grammar", "An element is missing, misspelt, of the wrong type, or not allowed in this policy type; IAM would reject the policy."),
    ("allow-not-action", Level::Warning, "Allow with NotAction", "Allow with NotAction grants every current and future action not listed."),
    ("allow-all", Level::Warning, "Allow `*` on `*`", "An unconditional Allow of every action on every resource grants full administrator access."),
    ("allow-all-not-resource", Level::Warning, "Allow `*` with NotResource", "Allow of every action with NotResource lets the principal rewrite its own policies."),
    ("not-principal", Level::Warning, "NotPrincipal", "NotPrincipal is error-prone: principals with a permissions boundary are always denied, and sessions need account, role and session ARNs listed. Prefer Principal \"*\" with an ArnNotEquals aws:PrincipalArn condition."),
    ("public-principal", Level::Warning, "Wildcard principal without conditions", "A resource policy allows Principal \"*\" without conditions: anyone, including anonymous callers, is allowed."),
    ("variables-literal", Level::Warning, "Policy variables are literal", "Policy variables are literal text unless Version is \"2012-10-17\"."),
    ("action-whitespace", Level::Warning, "White space in an action", "An action contains white space; IAM stores it, and it is matched without the white space."),
    ("service-wildcard", Level::Warning, "Wildcard in a service prefix", "A wildcard in the service prefix of an action is not documented; iamprove matches it as a glob over the whole action."),
    ("sid-characters", Level::Warning, "Sid with characters IAM rejects", "IAM accepts only letters and digits in the Sid of an identity policy."),
    ("duplicate-statement", Level::Warning, "Duplicate statement", "A statement repeats an earlier statement of the same policy exactly."),
];

/// One result of `diff --terraform-plan` / `--cloudformation`: a finding or an undecided change
/// of one resource.
pub struct IacResult {
    /// `widened`, `narrowed` or `unknown`.
    pub kind: &'static str,
    /// The plan or template file and the resource's JSON path in it (`resource_changes[3]`,
    /// `Resources.Role`).
    pub file: Option<String>,
    pub path: Option<String>,
    /// Resource address or logical ID.
    pub address: String,
    pub text: String,
    pub properties: serde_json::Map<String, Value>,
}

/// The SARIF log of an IaC diff: every finding and every `unknown` change (as a warning), each at
/// its resource in the plan or template (line and column; YAML templates by logical ID).
pub(crate) fn iac_log(items: &[IacResult]) -> Log {
    let mut b = Builder::new();
    let help = "Each finding carries a request (scenario format) that the old configuration denies and the new one allows, replayed through iamprove's evaluator. An unknown change was not decided (or its resource type is not analysed): review it by hand; it is not a pass.";
    let mut loc = Locator::new();
    for it in items {
        let (id, name, short, level) = match it.kind {
            "widened" => (
                "IAMP-DIFF-WIDENED",
                "Widened",
                "The change allows requests that were denied before",
                Level::Error,
            ),
            "narrowed" => (
                "IAMP-DIFF-NARROWED",
                "Narrowed",
                "The change denies requests that were allowed before",
                Level::Note,
            ),
            _ => (
                "IAMP-IAC-UNKNOWN",
                "Unknown",
                "A change that was not decided or not analysed (not a pass)",
                Level::Warning,
            ),
        };
        let rule = b.rule(id, name, short, short, help, level);
        let mut l = match (&it.file, &it.path) {
            (Some(f), Some(p)) => {
                let segs = parse_path(p);
                let mut l = loc.in_file(f, &segs, Some(it.address.clone()));
                let yaml = !f.to_ascii_lowercase().ends_with(".json");
                if yaml {
                    let keys: Vec<&str> = segs
                        .iter()
                        .filter_map(|s| match s {
                            Seg::Key(k) => Some(k.as_str()),
                            Seg::Index(_) => None,
                        })
                        .collect();
                    let pos = std::fs::read_to_string(f)
                        .ok()
                        .and_then(|t| find_yaml_keys(&t, &keys));
                    if let Some(pl) = l.physical_location.as_mut() {
                        pl.region = pos.map(|p| Region {
                            start_line: p.line,
                            start_column: p.column,
                        });
                    }
                }
                l
            }
            _ => Location {
                id: None,
                physical_location: None,
                logical_locations: Vec::new(),
                message: Some(msg(it.address.clone())),
            },
        };
        l.logical_locations = vec![LogicalLocation {
            fully_qualified_name: it.address.clone(),
        }];
        b.result(
            rule,
            level,
            it.text.clone(),
            numbered(vec![l]),
            Vec::new(),
            it.properties.clone(),
        );
    }
    b.log()
}

/// `validate --format sarif`: one rule per finding code (every known code is listed).
pub(crate) fn validate_log(findings: &[Finding]) -> Log {
    let mut b = Builder::new();
    let help = "Run `iamprove validate FILE` for the same findings as text; the result points at the element concerned.";
    for (code, level, short, full) in VALIDATE_RULES {
        b.rule(
            &format!("IAMP-VALIDATE-{code}"),
            code,
            short,
            full,
            help,
            *level,
        );
    }
    let mut loc = Locator::new();
    for f in findings {
        let level = if f.severity == "error" {
            Level::Error
        } else {
            Level::Warning
        };
        let rule = b.rule(
            &format!("IAMP-VALIDATE-{}", f.code),
            f.code,
            f.code,
            f.code,
            help,
            level,
        );
        let segs = if f.path.is_empty() {
            Vec::new()
        } else {
            parse_path(&f.path)
        };
        let mut l = match f.code {
            // input errors already carry the path in the file
            "json" | "grammar" => loc.in_file(&f.file, &segs, None),
            _ => loc.in_policy(&f.file, &f.path, None),
        };
        if f.code == "json" {
            // the syntax error's own position
            if let (Some(pl), Some((line, column))) =
                (l.physical_location.as_mut(), syntax_position(&f.message))
            {
                pl.region = Some(Region {
                    start_line: line,
                    start_column: column,
                });
            }
        }
        let text = if f.path.is_empty() {
            f.message.clone()
        } else {
            format!("{}: {}", f.path, f.message)
        };
        b.result(
            rule,
            level,
            text,
            vec![l],
            Vec::new(),
            serde_json::Map::new(),
        );
    }
    b.log()
}

/// `invalid JSON at line L, column C: ...` → (L, C).
fn syntax_position(message: &str) -> Option<(usize, usize)> {
    let rest = &message[message.find("at line ")? + "at line ".len()..];
    let (line, rest) = rest.split_once(", column ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.parse().ok()?, col.parse::<usize>().ok()?.max(1)))
}

// ---------------------------------------------------------------------------------------------
// escalations

/// The escalation method a rule is named after (a role chain is reported under the method the
/// reached role uses).
pub(crate) fn escalation_rule_id(method: &Method) -> String {
    format!(
        "IAMP-ESC-{}",
        method.name.split_whitespace().collect::<Vec<_>>().join("-")
    )
}

/// `escalations --format sarif`: one rule per escalation method found, one result per escalation,
/// located at the statements that allow its last step (earlier steps are related locations).
pub(crate) fn escalations_log(
    esc: &[Escalation],
    env: &Env,
    resource_policies: Option<&Path>,
) -> Log {
    let mut b = Builder::new();
    let mut loc = Locator::with_sources(|label: &str| {
        for a in &env.accounts {
            if let Some(p) = a.sources.get(label) {
                return Some((a.file.clone(), parse_path(&p.to_string())));
            }
        }
        let arn = label.strip_prefix("resource policy of ")?;
        Some((
            resource_policies?.display().to_string(),
            vec![Seg::Key(arn.to_owned())],
        ))
    });
    for e in esc {
        let method = e.method.name.as_str();
        let rule = b.rule(
            &escalation_rule_id(&e.method),
            method,
            &format!("Privilege escalation through {method}"),
            &format!("A principal can gain permissions it does not have through {method} (IAM-SEMANTICS.md §6.3), directly or after assuming roles."),
            "The result lists the path: each step's action and the statements that allow it. Remove or condition the permission the result points at, or add a permissions boundary.",
            Level::Error,
        );
        let target = e
            .target
            .as_deref()
            .map(|t| format!(" on {t}"))
            .unwrap_or_default();
        let assumes = e
            .assumes
            .as_deref()
            .map(|a| format!(" Assumes: {a}."))
            .unwrap_or_default();
        let steps: Vec<String> = e
            .path
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{}. {} → {} on {}",
                    i + 1,
                    s.principal,
                    s.action,
                    s.resource
                )
            })
            .collect();
        let text = format!(
            "{} can escalate ({}) through {}{target}; gains {}.{assumes} Path: {}",
            e.principal,
            e.kind,
            e.method,
            e.gains,
            steps.join("; ")
        );
        fn refs(s: &crate::account::Step) -> Vec<StatementAt<'_>> {
            s.statements
                .iter()
                // the grants; boundaries and SCPs only let them through
                .filter(|r| {
                    r.effect == "Allow"
                        && matches!(
                            r.set,
                            crate::eval::SetName::Identity | crate::eval::SetName::Resource
                        )
                })
                .map(StatementAt::from)
                .collect()
        }
        let (last, earlier) = match e.path.split_last() {
            Some((l, rest)) => (refs(l), rest.iter().flat_map(refs).collect::<Vec<_>>()),
            None => (Vec::new(), Vec::new()),
        };
        let locations = numbered(statement_locations(&mut loc, &last));
        let mut related = statement_locations(&mut loc, &earlier);
        for (i, l) in related.iter_mut().enumerate() {
            l.id = Some(locations.len() + i);
        }
        b.result(
            rule,
            Level::Error,
            text,
            locations,
            related,
            props(vec![
                ("principal", Value::from(e.principal.clone())),
                ("kind", Value::from(e.kind)),
                ("gains", Value::from(e.gains.to_string())),
            ]),
        );
    }
    b.log()
}

// ---------------------------------------------------------------------------------------------
// trust

/// `trust --format sarif`: one rule per hazard code (`IAMP-TRUST-<code>`, every code listed), one
/// result per hazard, located at its statement; `sources` maps account-dump policy labels to
/// their file and path.
pub(crate) fn trust_log(
    reports: &[crate::trust::RoleReport],
    sources: &dyn Fn(&str) -> Option<(String, String)>,
) -> Log {
    let mut b = Builder::new();
    let help = "Run `iamprove trust FILE` for the identities that can assume the role and a replayable witness of each hazard (docs/trust.md).";
    let level_of = |s: &str| match s {
        "error" => Level::Error,
        "warning" => Level::Warning,
        _ => Level::Note,
    };
    for (code, sev, full) in crate::trust::HAZARDS {
        b.rule(
            &format!("IAMP-TRUST-{code}"),
            code,
            code,
            full,
            help,
            level_of(sev),
        );
    }
    let mut loc = Locator::with_sources(|label: &str| {
        sources(label).map(|(file, path)| (file, parse_path(&path)))
    });
    for r in reports {
        for h in &r.hazards {
            let rule = b.rule(
                &format!("IAMP-TRUST-{}", h.code),
                h.code,
                h.code,
                h.code,
                help,
                level_of(h.severity.name()),
            );
            let l = loc.in_policy(&r.policy_name, &h.statement, None);
            let mut p = vec![("role", Value::String(r.role.clone()))];
            if let Some(w) = &h.witness {
                p.push(("witness", w.clone()));
            }
            b.result(
                rule,
                level_of(h.severity.name()),
                format!("{}: {}", r.role, h.message),
                vec![l],
                Vec::new(),
                props(p),
            );
        }
    }
    b.log()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_with_forward_slashes() {
        assert_eq!(
            file_uri("examples/check/../check/app-role-policy.json"),
            "examples/check/app-role-policy.json"
        );
        assert_eq!(file_uri("./a b#c.json"), "a%20b%23c.json");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            file_uri(&cwd.join("x/y.json").display().to_string()),
            "x/y.json"
        );
        assert!(file_uri("/definitely/elsewhere/p.json").starts_with("file:///"));
        assert!(file_uri("/definitely/elsewhere/p.json").ends_with("/definitely/elsewhere/p.json"));
    }

    #[test]
    fn synthetic_policies_get_only_a_logical_location() {
        let mut loc = Locator::new();
        let l = loc.in_policy("allow-all identity policy", "Statement[0]", None);
        assert!(l.physical_location.is_none());
        assert_eq!(l.logical_locations[0].fully_qualified_name, "Statement[0]");
    }

    #[test]
    fn envelopes_and_embedded_policies_are_prefixed() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("v.json");
        std::fs::write(&env, "{\"Document\": {\"Version\": \"2012-10-17\",\n \"Statement\": [\n  {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}}").unwrap();
        let mut loc = Locator::new();
        let l = loc.in_policy(&env.display().to_string(), "Statement[0]", None);
        assert_eq!(
            l.logical_locations[0].fully_qualified_name,
            "Document.Statement[0]"
        );
        let r = l.physical_location.unwrap().region.unwrap();
        assert_eq!((r.start_line, r.start_column), (3, 3));
        let sc = dir.path().join("s.json");
        std::fs::write(
            &sc,
            "{\"identity_policies\": [{\n \"Statement\": []}, {\"Statement\": [\n {}, {}]}]}",
        )
        .unwrap();
        let l = loc.in_policy(
            &format!("{}#identity_policies[1]", sc.display()),
            "Statement[1]",
            None,
        );
        assert_eq!(
            l.logical_locations[0].fully_qualified_name,
            "identity_policies[1].Statement[1]"
        );
        let r = l.physical_location.unwrap().region.unwrap();
        assert_eq!((r.start_line, r.start_column), (3, 6));
    }

    #[test]
    fn syntax_errors_keep_their_position() {
        assert_eq!(
            syntax_position("invalid JSON at line 3, column 7: expected `,`"),
            Some((3, 7))
        );
        assert_eq!(syntax_position("cannot read file"), None);
    }

    #[test]
    fn chains_share_the_rule_of_their_method() {
        let m = |name: &str, via_chain| Method {
            name: name.into(),
            via_chain,
        };
        assert_eq!(
            escalation_rule_id(&m("iam:PassRole+ec2:RunInstances", false)),
            "IAMP-ESC-iam:PassRole+ec2:RunInstances"
        );
        let chained = m("iam:PutUserPolicy", true);
        assert_eq!(
            chained.to_string(),
            "sts:AssumeRole chain, then iam:PutUserPolicy"
        );
        assert_eq!(escalation_rule_id(&chained), "IAMP-ESC-iam:PutUserPolicy");
        assert_eq!(
            escalation_rule_id(&m("sts:AssumeRole chain", false)),
            "IAMP-ESC-sts:AssumeRole-chain"
        );
    }
}
