//! `iamprove diff --terraform-plan` / `--cloudformation`: text, JSON and SARIF printers of
//! [`crate::iac::IacReport`].

use super::{report_errors, Exit, Format};
use crate::diff::DiffOptions;
use crate::iac::{IacError, IacReport, Part, Report};
use crate::verdict::Verdict;
use serde_json::{json, Value};
use std::io::Write;

/// `diff --terraform-plan PLAN.json`.
pub(crate) fn cmd_terraform(plan: &std::path::Path, opts: &DiffOptions, format: Format) -> Exit {
    print(crate::iac::terraform(plan, opts), format)
}

/// `diff --cloudformation OLD_TEMPLATE NEW_TEMPLATE`.
pub(crate) fn cmd_cloudformation(
    old: &std::path::Path,
    new: &std::path::Path,
    params: &crate::iac::cloudformation::Params,
    opts: &DiffOptions,
    format: Format,
) -> Exit {
    print(crate::iac::cloudformation(old, new, params, opts), format)
}

/// Print the report; the exit status follows the overall verdict.
fn print(report: Result<IacReport, IacError>, format: Format) -> Exit {
    let report = match report {
        Ok(r) => r,
        Err(IacError::Input(e)) => return report_errors(&e),
        Err(IacError::Internal(e)) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: {e}\nerror: please report this with the input files"
            );
            return Exit::Input;
        }
    };
    let IacReport {
        verdict,
        parts,
        reports,
        notes,
    } = &report;
    let verdict = *verdict;
    let mut out = std::io::stdout().lock();
    let res = match format {
        Format::Json => {
            let changes: Vec<Value> = reports
                .iter()
                .map(|r| report_json(&parts[r.part_index], r))
                .collect();
            let v = json!({"verdict": verdict, "changes": changes, "notes": notes});
            serde_json::to_writer_pretty(&mut out, &v)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        Format::Text => print_text(&mut out, verdict, parts, reports, notes),
        Format::Sarif => {
            // one log over every change: findings and unknown changes, each at its resource
            let mut items = Vec::new();
            for r in reports {
                let p = &parts[r.part_index];
                let (file, path) = match &p.location {
                    Some((f, at)) => (Some(f.clone()), Some(at.to_string())),
                    None => (None, None),
                };
                for f in &r.findings {
                    let kind = if f.kind == Verdict::Narrowed {
                        "narrowed"
                    } else {
                        "widened"
                    };
                    let mut props = serde_json::Map::new();
                    props.insert("request".into(), f.request.clone());
                    props.insert("old_decision".into(), Value::from(f.old_decision));
                    props.insert("new_decision".into(), Value::from(f.new_decision));
                    match &f.no_longer_denied_by {
                        None => props.insert("granted_by".into(), json!(f.granted_by)),
                        Some(d) => props.insert("no_longer_denied_by".into(), json!(d)),
                    };
                    props.insert("attribute".into(), Value::String(p.attribute.clone()));
                    items.push(super::sarif::IacResult {
                        kind,
                        file: file.clone(),
                        path: path.clone(),
                        address: p.address.clone(),
                        text: format!(
                            "{} {} ({}): {}. Replayable request: {}",
                            p.address, p.attribute, p.rtype, f.summary, f.request
                        ),
                        properties: props,
                    });
                }
                if r.verdict == Verdict::Unknown {
                    let mut props = serde_json::Map::new();
                    props.insert("attribute".into(), Value::String(p.attribute.clone()));
                    props.insert("type".into(), Value::String(p.rtype.clone()));
                    items.push(super::sarif::IacResult {
                        kind: "unknown",
                        file,
                        path,
                        address: p.address.clone(),
                        text: format!(
                            "{} {} ({}) not decided (this is not a pass): {}",
                            p.address,
                            p.attribute,
                            p.rtype,
                            r.messages.join("; ")
                        ),
                        properties: props,
                    });
                }
            }
            super::sarif::print(&mut out, &super::sarif::iac_log(&items))
        }
    };
    if res.is_err() {
        return Exit::Input;
    }
    Exit::from(verdict)
}

fn report_json(part: &Part, r: &Report) -> Value {
    let mut v = json!({
        "address": part.address,
        "type": part.rtype,
        "attribute": part.attribute,
        "action": part.action,
        "policy_type": crate::iac::kind_of(part).name(),
        "verdict": r.verdict,
        "findings": r.findings,
    });
    if !r.messages.is_empty() {
        v["message"] = Value::String(r.messages.join("; "));
    }
    if let Some(n) = r.narrowing {
        v["narrowing"] = Value::String(n.name().into());
    }
    if !r.notes.is_empty() {
        v["notes"] = json!(r.notes);
    }
    if let Some(w) = &r.witness {
        v["witness"] = w.clone();
    }
    v
}

fn print_text(
    out: &mut impl Write,
    verdict: Verdict,
    parts: &[Part],
    reports: &[Report],
    notes: &[String],
) -> std::io::Result<()> {
    let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
    let tally = format!(
        "{} widened, {} unknown, {} without widening",
        count(Verdict::Widened),
        count(Verdict::Unknown),
        count(Verdict::NoWidening)
    );
    match verdict {
        Verdict::Widened => writeln!(out, "widened: at least one change widens access ({tally})")?,
        Verdict::Unknown => writeln!(out, "unknown: some changes could not be decided; none widens access otherwise ({tally}; this is not a pass)")?,
        _ => writeln!(out, "no_widening: no change widens access (proved; {tally})")?,
    }
    for r in reports {
        let p = &parts[r.part_index];
        writeln!(
            out,
            "\n{:<12} {}  {}  [{}]",
            r.verdict.name(),
            p.address,
            p.attribute,
            p.action
        )?;
        for m in &r.messages {
            writeln!(out, "   {m}")?;
        }
        if let Some(n) = r.narrowing {
            writeln!(out, "   narrowing: {n}")?;
        }
        for (i, f) in r.findings.iter().enumerate() {
            super::diff::print_finding(out, i, f, "   ")?;
        }
        for n in &r.notes {
            writeln!(out, "   note: {n}")?;
        }
    }
    if !notes.is_empty() {
        writeln!(out)?;
    }
    for n in notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}
