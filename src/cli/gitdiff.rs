//! `iamprove diff --git-base REF`: text, JSON and SARIF printers of [`crate::gitdiff::GitDiff`].

use super::{Exit, Format};
use crate::diff::DiffOptions;
use crate::gitdiff::{run_git_diff, GitDiff, Status};
use crate::verdict::Verdict;
use std::io::Write;
use std::path::PathBuf;

/// The `diff --git-base` command.
pub(crate) fn cmd_diff_git(
    base: &str,
    paths: &[PathBuf],
    opts: &DiffOptions,
    format: Format,
) -> Exit {
    let result = match run_git_diff(base, paths, opts) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return Exit::Input;
        }
    };
    {
        let mut stderr = std::io::stderr().lock();
        for f in &result.files {
            for e in &f.errors {
                let _ = writeln!(stderr, "error: {e}");
            }
        }
    }
    let mut out = super::style::stdout();
    let res = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &result)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        Format::Text => print_text(&mut out, &result),
        Format::Sarif => {
            // findings of every changed file in one log; their `granted_by` names the file
            let findings: Vec<crate::diff::Finding> = result
                .files
                .iter()
                .flat_map(|f| f.findings.iter().cloned())
                .collect();
            let notes: Vec<String> = result
                .files
                .iter()
                .flat_map(|f| {
                    f.notes
                        .iter()
                        .map(move |n| format!("{}: {n}", f.change.path()))
                })
                .collect();
            super::sarif::print(
                &mut out,
                &super::sarif::diff_log(&findings, result.verdict(), None, &notes, "", ""),
            )
        }
    };
    if res.is_err() {
        return Exit::Input;
    }
    Exit::from(result.verdict())
}

fn print_text(out: &mut impl Write, r: &GitDiff) -> std::io::Result<()> {
    use super::style::verdict_padded;
    for f in &r.files {
        let path = match (&f.change.status, &f.change.old_path) {
            (Status::Renamed, Some(old)) => format!("{old} -> {}", f.change.path()),
            _ => f.change.path().to_owned(),
        };
        writeln!(
            out,
            "{} {:<9} {path}",
            verdict_padded(f.verdict.name(), 12),
            f.change.status.name()
        )?;
        if let Some(n) = f.narrowing {
            writeln!(out, "   narrowing: {}", super::style::verdict(n.name()))?;
        }
        for e in &f.errors {
            writeln!(out, "   error: {e}")?;
        }
        for (i, x) in f.findings.iter().enumerate() {
            writeln!(out, "   {}. [{}] {}", i + 1, x.kind, x.summary)?;
            writeln!(out, "      old decision: {}", x.old_decision)?;
            writeln!(out, "      request: {}", x.request)?;
        }
        for n in &f.notes {
            writeln!(out, "   note: {n}")?;
        }
    }
    let count = |v: Verdict| r.files.iter().filter(|f| f.verdict == v).count();
    let skipped = if r.skipped.is_empty() {
        String::new()
    } else {
        format!(
            "; {} other JSON file(s) skipped (not policies)",
            r.skipped.len()
        )
    };
    if r.files.is_empty() {
        writeln!(out, "no policy files changed since {}{skipped}", r.base)?;
    } else {
        writeln!(
            out,
            "{} policy file(s) changed since {}: {} widened, {} unknown, {} error(s){skipped}",
            r.files.len(),
            r.base,
            count(Verdict::Widened),
            count(Verdict::Unknown),
            count(Verdict::Error)
        )?;
    }
    writeln!(
        out,
        "verdict: {}",
        super::style::verdict(r.verdict().name())
    )
}
