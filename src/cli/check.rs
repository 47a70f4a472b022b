//! `iamprove check SPEC`: text, JSON and SARIF printers of [`crate::check::CheckReport`].

use super::{report_errors, Exit, Format};
use crate::check::CheckError;
use crate::query::QueryOptions;
use serde_json::json;
use std::io::Write;
use std::path::Path;

fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// Run `check` and print its report.
pub fn cmd_check(spec_path: &Path, opts: &QueryOptions, format: Format) -> Exit {
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
                let status = r["status"].as_str().unwrap_or("");
                writeln!(out, "{} {}  [{}]", super::style::verdict_padded(status, 9), r["invariant"].as_str().unwrap_or(""), r["target"].as_str().unwrap_or(""))?;
                if status != "holds" {
                    writeln!(out, "          {}", r["detail"].as_str().unwrap_or(""))?;
                }
                if let Some(c) = r.get("counterexample").filter(|c| !c.is_null()) {
                    writeln!(out, "          counterexample: {c}")?;
                }
                for a in r["assumptions"].as_array().into_iter().flatten() {
                    writeln!(out, "          assumption: {}", a.as_str().unwrap_or(""))?;
                }
            }
            writeln!(out, "{} checked: {} violated, {} unknown", results.len(), violated, unknown)
        })(),
    };
    Exit::from(report.verdict())
}
