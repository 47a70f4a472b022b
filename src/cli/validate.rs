//! `iamprove validate`: text, JSON and SARIF printers of [`crate::validate::Report`].

use super::{Exit, Format};
use crate::model::PolicyType;
use std::io::Write;
use std::path::PathBuf;

/// Run `validate` and print its report.
pub(crate) fn cmd_validate(files: &[PathBuf], kind: Option<PolicyType>, format: Format) -> Exit {
    let report = crate::validate::run(files, kind);
    let findings = &report.findings;
    let input_error = report.input_error;
    let errors = report.errors();
    let mut out = super::style::stdout();
    let _ = match format {
        Format::Json => serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"valid": errors == 0, "findings": findings}),
        )
        .map_err(std::io::Error::other)
        .and_then(|()| writeln!(out)),
        Format::Sarif => super::sarif::print(&mut out, &super::sarif::validate_log(findings)),
        Format::Text => (|| {
            for f in findings {
                writeln!(
                    out,
                    "{}: {}: {}: {} [{}]",
                    f.file,
                    f.path,
                    super::style::verdict(f.severity),
                    f.message,
                    f.code
                )?;
            }
            let warnings = findings.len() - errors;
            writeln!(
                out,
                "{} file(s): {errors} error(s), {warnings} warning(s)",
                files.len()
            )
        })(),
    };
    if input_error {
        Exit::Input
    } else if errors > 0 {
        Exit::Violated
    } else {
        Exit::Ok
    }
}
