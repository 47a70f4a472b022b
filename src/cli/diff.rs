//! `iamprove diff OLD NEW`: text, JSON and SARIF printers of [`crate::diff::DiffReport`].

use super::{report_errors, Exit, Format};
use crate::diff::{DiffError, DiffOptions, DiffReport, Finding};
use crate::verdict::Verdict;
use std::io::Write;
use std::path::Path;

/// Run `diff OLD NEW` and print its report.
pub(crate) fn cmd_diff(
    old_path: &Path,
    new_path: &Path,
    opts: &DiffOptions,
    format: Format,
) -> Exit {
    let report = match crate::diff::run(old_path, new_path, opts) {
        Ok(r) => r,
        Err(DiffError::Input(errs)) => return report_errors(&errs),
        Err(DiffError::Internal(e)) => {
            let _ = writeln!(std::io::stderr(), "error: {e}\nerror: please report this with the two input files (re-run with --dump-smt FILE to capture the query)");
            return Exit::Input;
        }
    };
    let DiffReport {
        verdict,
        findings,
        notes,
        assumptions,
        narrowing,
    } = &report;
    let mut out = super::style::stdout();
    let res = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        Format::Text => print_text(&mut out, &report),
        Format::Sarif => super::sarif::print(
            &mut out,
            &super::sarif::diff_log_assuming(
                findings,
                *verdict,
                *narrowing,
                notes,
                assumptions,
                &old_path.display().to_string(),
                &new_path.display().to_string(),
            ),
        ),
    };
    if res.is_err() {
        return Exit::Input;
    }
    Exit::from(*verdict)
}

/// One finding in text: `N. [kind] summary`, the old decision and the replayable request, each
/// line prefixed by `indent`.
pub(crate) fn print_finding(
    out: &mut impl Write,
    i: usize,
    f: &Finding,
    indent: &str,
) -> std::io::Result<()> {
    writeln!(out, "{indent}{}. [{}] {}", i + 1, f.kind, f.summary)?;
    writeln!(out, "{indent}   old decision: {}", f.old_decision)?;
    for a in &f.assumptions {
        writeln!(out, "{indent}   assumes: {a}")?;
    }
    writeln!(out, "{indent}   request: {}", f.request)
}

fn print_text(out: &mut impl Write, r: &DiffReport) -> std::io::Result<()> {
    let word = super::style::verdict(r.verdict.name());
    match r.verdict {
        Verdict::Widened => writeln!(out, "{word}: NEW allows requests that OLD does not")?,
        Verdict::Unknown
            if r
                .notes
                .iter()
                .any(|n| n.contains(iamprove_symbolic::z3lib::MISSING)) =>
        {
            writeln!(
                out,
                "{word}: no answer: this needs the SMT solver Z3, which could not be loaded (see the note below; this is not a pass)"
            )?
        }
        Verdict::Unknown => writeln!(
            out,
            "{word}: no answer within the limits (this is not a pass)"
        )?,
        _ if !r.assumptions.is_empty() => writeln!(
            out,
            "{word}: everything NEW allows, OLD allows too (proved under the assumptions below)"
        )?,
        _ => writeln!(
            out,
            "{word}: everything NEW allows, OLD allows too (proved)"
        )?,
    }
    if let Some(n) = r.narrowing {
        writeln!(out, "narrowing: {n}")?;
    }
    for (i, f) in r.findings.iter().enumerate() {
        writeln!(out)?;
        print_finding(out, i, f, "")?;
    }
    for a in &r.assumptions {
        writeln!(out, "assumption: {a}")?;
    }
    for n in &r.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}
