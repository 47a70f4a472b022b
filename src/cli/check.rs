//! `iamprove check SPEC`: text, JSON and SARIF printers of [`crate::check::CheckReport`].

use super::{report_errors, Exit, Format};
use crate::check::CheckError;
use crate::query::QueryOptions;
use crate::verdict::Verdict;
use serde_json::json;
use std::io::Write;
use std::path::Path;

fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// Run `check` and print its report.
pub(crate) fn cmd_check(spec_path: &Path, opts: &QueryOptions, format: Format) -> Exit {
    let report = match crate::check::run(spec_path, opts) {
        Ok(r) => r,
        Err(CheckError { warnings, errors }) => {
            warn(&warnings);
            return report_errors(&errors);
        }
    };
    warn(&report.warnings);
    let (results, violated, unknown) = (&report.results, report.violated, report.unknown);
    let mut out = super::style::stdout();
    let _ = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &json!({"results": results, "summary": {"violated": violated, "unknown": unknown, "checked": results.len()}}))
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        Format::Sarif => {
            let targets: Vec<super::sarif::CheckTarget> = report
                .targets
                .iter()
                .map(|(name, policies)| super::sarif::CheckTarget { name: name.clone(), policies: policies.clone() })
                .collect();
            super::sarif::print(&mut out, &super::sarif::check_log(results, &targets))
        }
        Format::Text => (|| {
            for r in results {
                let status = r.status();
                writeln!(out, "{} {}  [{}]", super::style::verdict_padded(status.name(), 9), r.invariant(), r.target())?;
                if status != Verdict::Holds {
                    writeln!(out, "          {}", r.detail())?;
                }
                let c = r.counterexample_json();
                if !c.is_null() {
                    writeln!(out, "          counterexample: {c}")?;
                }
                for a in r.assumptions().unwrap_or_default() {
                    writeln!(out, "          assumption: {a}")?;
                }
            }
            writeln!(out, "{} checked: {} violated, {} unknown", results.len(), violated, unknown)
        })(),
    };
    Exit::from(report.verdict())
}
