//! `iamprove diff --git-base REF [PATHS...]`: compare every policy file changed since a git
//! revision with its version at that revision.
//!
//! Changes are discovered with the git command line: `git diff --name-status -M -z REF -- PATHS`
//! (committed, staged and unstaged changes of tracked files, renames detected) plus
//! `git ls-files --others --exclude-standard` (new files not yet added). The version at REF is read
//! with `git show REF:path`; the working-tree version from the file. A new file is compared with a
//! policy that allows nothing (every grant widens), a deleted file the other way round.

use crate::diff::{compare, side_from_json, DiffOptions, Direction, Finding, Findings};
use crate::json::Json;
use crate::model::Policy;
use crate::query::Side;
use crate::scenario::{looks_like_scenario, scenario_from_json, Errors, InputError, Scenario};
use crate::verdict::Verdict;
use serde::Serialize;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// How a file changed since the base revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Added,
    Modified,
    Deleted,
    Renamed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Modified => "modified",
            Status::Deleted => "deleted",
            Status::Renamed => "renamed",
        }
    }
}

/// One changed file: paths relative to the repository's top level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub status: Status,
    /// Path at the base revision (`None` for added files).
    pub old_path: Option<String>,
    /// Path in the working tree (`None` for deleted files).
    pub new_path: Option<String>,
}

impl Change {
    /// The path to report: the new one, or the old one for deleted files.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }
}

/// Run git with `args` in the current directory; stdout, or git's message.
fn git(args: &[OsString]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        Err(if msg.is_empty() {
            format!("git exited with {}", out.status)
        } else {
            msg
        })
    }
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// The repository's top-level directory.
pub fn toplevel() -> Result<PathBuf, String> {
    let out = git(&os(&["rev-parse", "--show-toplevel"]))
        .map_err(|e| format!("not a git repository (or git is not installed): {e}"))?;
    let text = String::from_utf8_lossy(&out)
        .trim_end_matches(['\n', '\r'])
        .to_owned();
    Ok(PathBuf::from(text))
}

/// Check that `base` names a commit.
pub fn verify_base(base: &str) -> Result<(), String> {
    if base.is_empty() || base.starts_with('-') {
        return Err(format!("invalid git revision `{base}`"));
    }
    git(&os(&["rev-parse", "--verify", "--quiet", &format!("{base}^{{commit}}")]))
        .map(|_| ())
        .map_err(|_| format!("unknown git revision `{base}` (is it fetched? in CI, fetch the base branch, e.g. `git fetch origin main` or `actions/checkout` with `fetch-depth: 0`)"))
}

/// Parse `git diff --name-status -z` output.
pub fn parse_name_status(out: &[u8]) -> Result<Vec<Change>, String> {
    let mut toks = out
        .split(|b| *b == 0)
        .map(|t| String::from_utf8_lossy(t).into_owned());
    let mut changes = Vec::new();
    while let Some(st) = toks.next() {
        if st.is_empty() {
            continue;
        }
        let mut next = || {
            toks.next()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| format!("unexpected `git diff` output after status `{st}`"))
        };
        let change = match st.as_bytes().first() {
            Some(b'A') => Change {
                status: Status::Added,
                old_path: None,
                new_path: Some(next()?),
            },
            Some(b'D') => Change {
                status: Status::Deleted,
                old_path: Some(next()?),
                new_path: None,
            },
            Some(b'R') => {
                let old = next()?;
                let new = next()?;
                Change {
                    status: Status::Renamed,
                    old_path: Some(old),
                    new_path: Some(new),
                }
            }
            Some(b'C') => {
                // a copy: the new file is new
                let _source = next()?;
                Change {
                    status: Status::Added,
                    old_path: None,
                    new_path: Some(next()?),
                }
            }
            // modified, type change, unmerged, unknown: compare both versions
            _ => {
                let p = next()?;
                Change {
                    status: Status::Modified,
                    old_path: Some(p.clone()),
                    new_path: Some(p),
                }
            }
        };
        changes.push(change);
    }
    Ok(changes)
}

/// Every file changed since `base` under `paths` (relative to the current directory; none means
/// the whole repository), untracked files included.
pub fn changed_files(base: &str, paths: &[PathBuf]) -> Result<Vec<Change>, String> {
    let pathspec = |args: &mut Vec<OsString>| {
        args.push("--".into());
        args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    };
    let mut args = os(&[
        "diff",
        "--name-status",
        "-z",
        "-M",
        "--no-ext-diff",
        "--no-color",
        base,
    ]);
    pathspec(&mut args);
    let mut changes = parse_name_status(&git(&args)?)?;
    let mut args = os(&[
        "ls-files",
        "-z",
        "--others",
        "--exclude-standard",
        "--full-name",
    ]);
    pathspec(&mut args);
    for p in git(&args)?.split(|b| *b == 0).filter(|t| !t.is_empty()) {
        let p = String::from_utf8_lossy(p).into_owned();
        // deleted from the index but back in the working tree: modified
        if let Some(c) = changes
            .iter_mut()
            .find(|c| c.status == Status::Deleted && c.old_path.as_deref() == Some(&p))
        {
            *c = Change {
                status: Status::Modified,
                old_path: Some(p.clone()),
                new_path: Some(p),
            };
            continue;
        }
        changes.push(Change {
            status: Status::Added,
            old_path: None,
            new_path: Some(p),
        });
    }
    changes.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(changes)
}

fn is_json_path(p: &str) -> bool {
    Path::new(p)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// One version of a changed file.
enum Version {
    Missing,
    /// Valid JSON that is neither a policy document nor a scenario.
    NotPolicy,
    /// Not JSON at all; `true` when the text mentions `"Statement"` (a broken policy).
    Invalid(String, bool),
    Policy(Json),
    Scenario(Json),
}

fn classify(text: Option<&str>) -> Version {
    let Some(text) = text else {
        return Version::Missing;
    };
    match crate::json::parse(text) {
        Err(e) => Version::Invalid(
            format!(
                "invalid JSON at line {}, column {}: {}",
                e.line, e.column, e.message
            ),
            text.contains("\"Statement\""),
        ),
        Ok(doc) => {
            if looks_like_scenario(&doc) {
                Version::Scenario(doc)
            } else if crate::parse::unwrap_envelope(&doc)
                .0
                .get("Statement")
                .is_some()
            {
                Version::Policy(doc)
            } else {
                Version::NotPolicy
            }
        }
    }
}

/// `a/b/../c` → `a/c`; `None` when the path leaves the repository or is absolute.
fn normalize(p: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// The file names a scenario refers to (policy documents given as paths).
fn scenario_refs(doc: &Json) -> Vec<String> {
    fn strings(v: &Json, out: &mut Vec<String>) {
        match v {
            Json::Str(s) => out.push(s.clone()),
            Json::Arr(items) => items.iter().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Json::Obj(entries) = doc {
        for (k, v) in entries {
            if k != "request" && k != "management_account" {
                strings(v, &mut out);
            }
        }
    }
    out
}

/// Reads both versions of files and builds sides.
struct Repo {
    top: PathBuf,
    base: String,
    /// Old versions of the files old scenarios refer to, laid out as in the repository.
    scratch: Option<tempfile::TempDir>,
}

impl Repo {
    fn read_old(&self, path: &str) -> Result<Option<String>, String> {
        let out = git(&[
            OsString::from("show"),
            OsString::from(format!("{}:{path}", self.base)),
        ])
        .map_err(|e| format!("cannot read `{path}` at {}: {e}", self.base))?;
        Ok(Some(String::from_utf8_lossy(&out).into_owned()))
    }

    fn read_new(&self, path: &str) -> Result<Option<String>, String> {
        std::fs::read_to_string(self.top.join(path))
            .map(Some)
            .map_err(|e| format!("cannot read `{path}`: {e}"))
    }

    fn old_name(&self, path: &str) -> String {
        format!("{}:{path}", self.base)
    }

    /// The side of one version. Old scenarios resolve their file references at the base revision.
    fn side(
        &mut self,
        v: &Version,
        path: &str,
        old: bool,
        other: Option<&Json>,
        opts: &DiffOptions,
    ) -> Result<Side, Errors> {
        let name = if old {
            self.old_name(path)
        } else {
            path.to_owned()
        };
        match v {
            Version::Policy(doc) => side_from_json(doc, Path::new(&name), opts.kind, other),
            Version::Scenario(doc) => {
                let dir = Path::new(path)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                let base = if old {
                    self.materialize_refs(doc, &dir)
                        .map_err(|e| vec![InputError::new(&name, None, e)])?
                } else {
                    self.top.join(&dir)
                };
                scenario_from_json(doc, &name, &base, false).map(Side::Scenario)
            }
            _ => Err(vec![InputError::new(&name, None, "not a policy document")]),
        }
    }

    /// Write the base-revision versions of the files a scenario refers to into a scratch
    /// directory; returns the scenario's directory there.
    fn materialize_refs(&mut self, doc: &Json, dir: &Path) -> Result<PathBuf, String> {
        if self.scratch.is_none() {
            self.scratch = Some(
                tempfile::tempdir()
                    .map_err(|e| format!("cannot create a temporary directory: {e}"))?,
            );
        }
        let root = self
            .scratch
            .as_ref()
            .map(|t| t.path().to_path_buf())
            .unwrap_or_default();
        for r in scenario_refs(doc) {
            let Some(rel) = normalize(&dir.join(&r)) else {
                continue;
            };
            // a reference missing at the base revision is reported by the scenario loader
            let Ok(out) = git(&[
                OsString::from("show"),
                OsString::from(format!("{}:{rel}", self.base)),
            ]) else {
                continue;
            };
            let dest = root.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot write {}: {e}", parent.display()))?;
            }
            std::fs::write(&dest, out)
                .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        }
        Ok(root.join(dir))
    }

    /// In reports, scratch paths read as `BASE:path` and working-tree paths relative to the
    /// repository's top level.
    fn scrub(&self, f: &mut Finding) {
        let mut pairs = vec![(format!("{}/", self.top.display()), String::new())];
        if let Some(t) = &self.scratch {
            pairs.insert(
                0,
                (
                    format!("{}/", t.path().display()),
                    format!("{}:", self.base),
                ),
            );
        }
        f.for_each_text(&mut |s: &mut String| {
            for (from, to) in &pairs {
                if s.contains(from.as_str()) {
                    *s = s.replace(from.as_str(), to);
                }
            }
        });
    }
}

/// A side that allows nothing, of the same shape as `like`.
pub fn nothing_like(like: &Side, name: &str) -> Side {
    match like {
        Side::Identity(_) => Side::Identity(Vec::new()),
        Side::Resource(p) => Side::Resource(Policy {
            name: name.to_owned(),
            kind: p.kind,
            version: Some("2012-10-17".into()),
            id: None,
            statements: Vec::new(),
        }),
        Side::Scenario(sc) => Side::Scenario(Scenario {
            request: sc.request.clone(),
            management_account: sc.management_account.clone(),
            ..Scenario::empty()
        }),
    }
}

/// The outcome for one file.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub change: Change,
    /// `widened`, `no_widening`, `unknown` or `error`.
    pub verdict: Verdict,
    /// With `--direction both`: `narrowed`, `no_narrowing` or `unknown`.
    pub narrowing: Option<Verdict>,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    pub errors: Vec<String>,
}

impl FileResult {
    fn error(change: &Change, errors: Vec<String>) -> FileResult {
        FileResult {
            change: change.clone(),
            verdict: Verdict::Error,
            narrowing: None,
            findings: Vec::new(),
            notes: Vec::new(),
            errors,
        }
    }
}

/// The JSON form of a [`FileResult`]: `path`, `status`, `verdict`, `findings`, `notes`, then
/// `old_path` (renames), `narrowing` (`--direction both`) and `errors` when present.
#[derive(Serialize)]
struct FileJson<'a> {
    path: &'a str,
    status: &'static str,
    verdict: Verdict,
    findings: &'a [Finding],
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    old_path: Option<&'a Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    narrowing: Option<Verdict>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    errors: &'a [String],
}

impl Serialize for FileResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FileJson {
            path: self.change.path(),
            status: self.change.status.name(),
            verdict: self.verdict,
            findings: &self.findings,
            notes: &self.notes,
            old_path: (self.change.status == Status::Renamed).then_some(&self.change.old_path),
            narrowing: self.narrowing,
            errors: &self.errors,
        }
        .serialize(s)
    }
}

/// The whole comparison.
#[derive(Debug, Clone)]
pub struct GitDiff {
    pub base: String,
    pub files: Vec<FileResult>,
    /// JSON files that are not policies (compared neither way).
    pub skipped: Vec<String>,
}

impl GitDiff {
    /// `error` if any file is, else `widened` if any file is, else `unknown` if any file is,
    /// else `no_widening`.
    pub fn verdict(&self) -> Verdict {
        [Verdict::Error, Verdict::Widened, Verdict::Unknown]
            .into_iter()
            .find(|v| self.files.iter().any(|f| f.verdict == *v))
            .unwrap_or(Verdict::NoWidening)
    }
}

/// The JSON form of [`GitDiff`]: `verdict`, `base`, `files`, `skipped`.
#[derive(Serialize)]
struct GitDiffJson<'a> {
    verdict: Verdict,
    base: &'a str,
    files: &'a [FileResult],
    skipped: &'a [String],
}

impl Serialize for GitDiff {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        GitDiffJson {
            verdict: self.verdict(),
            base: &self.base,
            files: &self.files,
            skipped: &self.skipped,
        }
        .serialize(s)
    }
}

/// Discover the changed files and compare each. `Err` for problems with git itself.
pub fn run_git_diff(base: &str, paths: &[PathBuf], opts: &DiffOptions) -> Result<GitDiff, String> {
    let top = toplevel()?;
    verify_base(base)?;
    let changes = changed_files(base, paths)?;
    let mut repo = Repo {
        top,
        base: base.to_owned(),
        scratch: None,
    };
    let mut out = GitDiff {
        base: base.to_owned(),
        files: Vec::new(),
        skipped: Vec::new(),
    };
    for ch in changes {
        let json_old = ch.old_path.as_deref().is_some_and(is_json_path);
        let json_new = ch.new_path.as_deref().is_some_and(is_json_path);
        if !json_old && !json_new {
            continue;
        }
        let old_text = match ch.old_path.as_deref().filter(|_| json_old) {
            Some(p) => repo.read_old(p),
            None => Ok(None),
        };
        let new_text = match ch.new_path.as_deref().filter(|_| json_new) {
            Some(p) => repo.read_new(p),
            None => Ok(None),
        };
        let (old_text, new_text) = match (old_text, new_text) {
            (Ok(o), Ok(n)) => (o, n),
            (o, n) => {
                out.files.push(FileResult::error(
                    &ch,
                    o.err().into_iter().chain(n.err()).collect(),
                ));
                continue;
            }
        };
        let (old, new) = (classify(old_text.as_deref()), classify(new_text.as_deref()));
        if let Some(r) = compare_versions(&mut repo, &ch, old, new, opts) {
            out.files.push(r);
        } else {
            out.skipped.push(ch.path().to_owned());
        }
    }
    Ok(out)
}

/// Compare the two versions of one file; `None` when neither is a policy.
fn compare_versions(
    repo: &mut Repo,
    ch: &Change,
    old: Version,
    new: Version,
    opts: &DiffOptions,
) -> Option<FileResult> {
    let is_policy = |v: &Version| {
        matches!(
            v,
            Version::Policy(_) | Version::Scenario(_) | Version::Invalid(_, true)
        )
    };
    if !is_policy(&old) && !is_policy(&new) {
        return None;
    }
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    let old_path = ch.old_path.clone().unwrap_or_default();
    let new_path = ch.new_path.clone().unwrap_or_default();
    for (v, name) in [(&old, repo.old_name(&old_path)), (&new, new_path.clone())] {
        if let Version::Invalid(msg, _) = v {
            errors.push(format!("{name}: {msg}"));
        }
    }
    if matches!(
        (&old, &new),
        (Version::Policy(_), Version::Scenario(_)) | (Version::Scenario(_), Version::Policy(_))
    ) {
        errors.push(format!(
            "{}: changed between a policy document and a scenario file; compare them by hand",
            ch.path()
        ));
    }
    if !errors.is_empty() {
        return Some(FileResult::error(ch, errors));
    }
    // a version that is not a policy counts as no policy at all
    for (v, name) in [(&old, repo.old_name(&old_path)), (&new, new_path.clone())] {
        if matches!(v, Version::NotPolicy) {
            notes.push(format!(
                "{name} is not a policy document; compared as a policy that allows nothing"
            ));
        }
    }
    let doc = |v: &Version| match v {
        Version::Policy(d) | Version::Scenario(d) => Some(d.clone()),
        _ => None,
    };
    let (old_doc, new_doc) = (doc(&old), doc(&new));
    let old_side = old_doc
        .as_ref()
        .map(|_| repo.side(&old, &old_path, true, new_doc.as_ref(), opts));
    let new_side = new_doc
        .as_ref()
        .map(|_| repo.side(&new, &new_path, false, old_doc.as_ref(), opts));
    let mut errs = Vec::new();
    let old_side = match old_side {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            errs.extend(e.iter().map(ToString::to_string));
            None
        }
        None => None,
    };
    let new_side = match new_side {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            errs.extend(e.iter().map(ToString::to_string));
            None
        }
        None => None,
    };
    if !errs.is_empty() {
        return Some(FileResult::error(ch, errs));
    }
    let (old_side, new_side) = match (old_side, new_side) {
        (Some(o), Some(n)) => (o, n),
        (Some(o), None) => {
            let n = nothing_like(&o, "(no policy)");
            (o, n)
        }
        (None, Some(n)) => (nothing_like(&n, "(no policy)"), n),
        (None, None) => return None,
    };
    let widen = compare(&old_side, &new_side, opts, "widened");
    let narrow = (opts.direction == Direction::Both)
        .then(|| compare(&new_side, &old_side, opts, "narrowed"));
    if let Some(e) = widen
        .internal
        .as_ref()
        .or(narrow.as_ref().and_then(|n| n.internal.as_ref()))
    {
        return Some(FileResult::error(
            ch,
            vec![format!(
                "{}: {e} (please report this with both versions of the file)",
                ch.path()
            )],
        ));
    }
    let verdict = verdict_of(&widen, Verdict::Widened, Verdict::NoWidening);
    let narrowing = narrow
        .as_ref()
        .map(|n| verdict_of(n, Verdict::Narrowed, Verdict::NoNarrowing));
    let mut findings = widen.findings.clone();
    notes.extend(widen.notes.iter().cloned());
    if let Some(u) = &widen.unknown {
        notes.push(format!("solver gave up: {u}"));
    }
    if let Some(n) = &narrow {
        findings.extend(n.findings.iter().cloned());
        if let Some(u) = &n.unknown {
            notes.push(format!("narrowing check gave up: {u}"));
        }
    }
    for f in &mut findings {
        repo.scrub(f);
    }
    Some(FileResult {
        change: ch.clone(),
        verdict,
        narrowing,
        findings,
        notes,
        errors: Vec::new(),
    })
}

fn verdict_of(f: &Findings, yes: Verdict, no: Verdict) -> Verdict {
    Verdict::of_search(!f.findings.is_empty(), f.unknown.is_some(), yes, no)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_status_parses_every_kind() {
        let out = b"M\0a.json\0A\0b.json\0D\0c.json\0R087\0d.json\0e/d.json\0T\0f.json\0";
        let ch = parse_name_status(out).unwrap();
        assert_eq!(ch.len(), 5);
        assert_eq!(
            ch[0],
            Change {
                status: Status::Modified,
                old_path: Some("a.json".into()),
                new_path: Some("a.json".into())
            }
        );
        assert_eq!(
            ch[1],
            Change {
                status: Status::Added,
                old_path: None,
                new_path: Some("b.json".into())
            }
        );
        assert_eq!(
            ch[2],
            Change {
                status: Status::Deleted,
                old_path: Some("c.json".into()),
                new_path: None
            }
        );
        assert_eq!(
            ch[3],
            Change {
                status: Status::Renamed,
                old_path: Some("d.json".into()),
                new_path: Some("e/d.json".into())
            }
        );
        assert_eq!(ch[4].status, Status::Modified);
        assert!(parse_name_status(b"R100\0only-one.json\0").is_err());
    }

    #[test]
    fn normalize_stays_inside_the_repository() {
        assert_eq!(
            normalize(Path::new("a/b/../c.json")).as_deref(),
            Some("a/c.json")
        );
        assert_eq!(normalize(Path::new("./x.json")).as_deref(), Some("x.json"));
        assert_eq!(normalize(Path::new("../x.json")), None);
        assert_eq!(normalize(Path::new("/etc/x.json")), None);
    }

    #[test]
    fn classify_tells_policies_from_other_json() {
        assert!(matches!(
            classify(Some(r#"{"Version":"2012-10-17","Statement":[]}"#)),
            Version::Policy(_)
        ));
        assert!(matches!(
            classify(Some(r#"{"PolicyVersion":{"Document":{"Statement":[]}}}"#)),
            Version::Policy(_)
        ));
        assert!(matches!(
            classify(Some(r#"{"identity_policies":[]}"#)),
            Version::Scenario(_)
        ));
        assert!(matches!(
            classify(Some(r#"{"name":"pkg","version":"1"}"#)),
            Version::NotPolicy
        ));
        assert!(matches!(
            classify(Some(r#"{"Statement": [}"#)),
            Version::Invalid(_, true)
        ));
        assert!(matches!(
            classify(Some("// a comment\n{}")),
            Version::Invalid(_, false)
        ));
        assert!(matches!(classify(None), Version::Missing));
    }
}
