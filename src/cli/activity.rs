//! `iamprove why`, `generate` and `tighten`: load the inputs, run, print (text or JSON).

use super::{report_errors, Exit, Format};
use crate::activity::cloudtrail::{load_events, Event};
use crate::activity::generate::GenerateReport;
use crate::activity::tighten::TightenReport;
use crate::activity::{generate, load_all, tighten, why};
use crate::request::Principal;
use crate::scenario::{Errors, InputError};
use crate::verdict::Verdict;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

fn write_policy(policy: &Value, output: Option<&Path>) -> Result<(), Errors> {
    let text = serde_json::to_string_pretty(policy).unwrap_or_default() + "\n";
    match output {
        Some(p) => std::fs::write(p, text).map_err(|e| {
            vec![InputError::new(
                &p.display().to_string(),
                None,
                format!("cannot write: {e}"),
            )]
        }),
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            Ok(())
        }
    }
}

/// `iamprove why`.
pub(crate) fn cmd_why(
    inputs: &crate::account::Inputs,
    message: Option<&str>,
    event: Option<&Path>,
    event_id: Option<&str>,
    format: Format,
) -> Exit {
    if format == Format::Sarif {
        return super::no_sarif("why");
    }
    let env = match crate::account::Env::load(inputs) {
        Ok(e) => e,
        Err(e) => return report_errors(&e),
    };
    let parsed = match message.map(why::parse_message) {
        Some(None) => {
            return report_errors(&vec![InputError::new(
                "--message",
                None,
                "not an AccessDenied message: expected `User: ARN is not authorized to perform: ACTION ...` or an encoded authorization failure message",
            )])
        }
        Some(Some(m)) => Some(m),
        None => None,
    };
    let mut whys = Vec::new();
    let mut errs: Errors = Vec::new();
    match event {
        Some(path) => {
            let events = match load_events(path) {
                Ok(e) => e,
                Err(e) => return report_errors(&e),
            };
            let picked: Vec<&Event> = match event_id {
                Some(id) => events.iter().filter(|e| e.id() == Some(id)).collect(),
                None if events.len() == 1 => events.iter().collect(),
                None => events.iter().filter(|e| e.denied()).collect(),
            };
            if picked.is_empty() {
                let what = match event_id {
                    Some(id) => format!("no record with eventID `{id}`"),
                    None => {
                        "no AccessDenied or UnauthorizedOperation record; pick one with --event-id"
                            .into()
                    }
                };
                return report_errors(&vec![InputError::new(
                    &path.display().to_string(),
                    None,
                    what,
                )]);
            }
            for e in picked {
                let msg = parsed
                    .clone()
                    .or_else(|| e.error_message().and_then(why::parse_message));
                match why::rebuild(&env, msg.as_ref(), Some((e, &events))) {
                    Ok(rb) => whys.push(why::explain_request(
                        &env,
                        rb,
                        msg.as_ref(),
                        format!("{}#{}", e.file, e.path),
                    )),
                    Err(m) => errs.push(InputError::new(&e.file, Some(e.path.clone()), m)),
                }
            }
        }
        None => {
            let Some(m) = parsed.as_ref() else {
                return report_errors(&vec![InputError::new(
                    "iamprove why",
                    None,
                    "expects --message TEXT or --event FILE",
                )]);
            };
            match why::rebuild(&env, Some(m), None) {
                Ok(rb) => whys.push(why::explain_request(&env, rb, Some(m), "--message".into())),
                Err(e) => errs.push(InputError::new("--message", None, e)),
            }
        }
    }
    let mut out = super::style::stdout();
    match format {
        Format::Json => {
            let v = if whys.len() == 1 && errs.is_empty() {
                whys[0].to_json()
            } else {
                json!({"explanations": whys.iter().map(why::Why::to_json).collect::<Vec<_>>(),
                       "not_explained": errs.iter().map(|e| e.to_string()).collect::<Vec<_>>()})
            };
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            );
        }
        _ => {
            for (i, w) in whys.iter().enumerate() {
                if i > 0 {
                    let _ = writeln!(out);
                }
                let _ = write!(out, "{}", why_text(w));
            }
        }
    }
    if !errs.is_empty() {
        report_errors(&errs);
        return Exit::Input;
    }
    Exit::Ok
}

/// `iamprove generate`.
pub(crate) fn cmd_generate(
    files: &[PathBuf],
    principal: &str,
    output: Option<&Path>,
    format: Format,
) -> Exit {
    if format == Format::Sarif {
        return super::no_sarif("generate");
    }
    if let Err(e) = Principal::parse(principal) {
        return report_errors(&vec![InputError::new("--principal", None, e)]);
    }
    let events = match load_all(files) {
        Ok(e) => e,
        Err(e) => return report_errors(&e),
    };
    let report = match generate::generate(&events, principal) {
        Ok(r) => r,
        Err(e) => return report_errors(&vec![InputError::new("--cloudtrail", None, e)]),
    };
    if !report.proof.holds {
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error: the generated policy does not allow every observed request: {}",
            Value::Array(report.proof.failures.clone())
        );
        return Exit::Input;
    }
    finish(&report, &report.policy, None, output, format, generate_text)
}

/// Print a `generate`/`tighten` report (`verdict`: the tighten verdict, `None` for generate)
/// and give its exit status.
fn finish<R: serde::Serialize>(
    report: &R,
    policy: &Value,
    verdict: Option<Verdict>,
    output: Option<&Path>,
    format: Format,
    text: fn(&R) -> String,
) -> Exit {
    match format {
        Format::Json => {
            if let Some(p) = output {
                if let Err(e) = write_policy(policy, Some(p)) {
                    return report_errors(&e);
                }
            }
            let _ = writeln!(
                super::style::stdout(),
                "{}",
                serde_json::to_string_pretty(report).unwrap_or_default()
            );
        }
        _ => {
            if let Err(e) = write_policy(policy, output) {
                return report_errors(&e);
            }
            let summary = text(report);
            if output.is_some() {
                let _ = write!(super::style::stdout(), "{summary}");
            } else if !super::style::quiet() {
                let _ = write!(std::io::stderr(), "{summary}");
            }
        }
    }
    if verdict == Some(Verdict::Unknown) {
        Exit::Unknown
    } else {
        Exit::Ok
    }
}

fn generate_text(r: &GenerateReport) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let ob = &r.observed;
    let _ = writeln!(
        o,
        "observed: {} successful requests of {} ({} distinct, {} actions); {} denied, {} skipped",
        ob.successful_requests,
        r.principal,
        ob.distinct_requests,
        ob.actions,
        ob.denied.len(),
        ob.skipped.len()
    );
    let p = &r.proof;
    let _ = writeln!(
        o,
        "proof: {} of {} observed requests replayed as Allow through the evaluator",
        p.allowed, p.replayed
    );
    for a in &p.assumptions {
        let _ = writeln!(o, "  assuming: {a}");
    }
    let g = &r.over_grant;
    let _ = writeln!(
        o,
        "over-grant: no action beyond the observed ones; by access level:"
    );
    for (lvl, x) in &g.by_access_level {
        let _ = writeln!(
            o,
            "  {lvl}: {} actions, {} on any resource (resource not in the record), {} on generalised resources",
            x.allowed_actions, x.actions_on_any_resource, x.actions_on_generalised_resources
        );
    }
    for x in &g.generalised_resources {
        let _ = writeln!(
            o,
            "  {} on {} (observed {})",
            x.action,
            x.pattern,
            x.observed.len()
        );
    }
    for d in &ob.denied {
        let _ = writeln!(
            o,
            "denied (not in the policy): {} {}",
            d.action.as_deref().unwrap_or(&d.event),
            d.error.as_deref().unwrap_or("")
        );
    }
    o
}

/// `iamprove tighten`.
pub(crate) fn cmd_tighten(
    policy: &Path,
    cloudtrail: &[PathBuf],
    last_accessed: Option<&Path>,
    principal: Option<&str>,
    output: Option<&Path>,
    opts: &crate::query::QueryOptions,
    format: Format,
) -> Exit {
    if format == Format::Sarif {
        return super::no_sarif("tighten");
    }
    let report = match (cloudtrail.is_empty(), last_accessed) {
        (false, None) => {
            let events = match load_all(cloudtrail) {
                Ok(e) => e,
                Err(e) => return report_errors(&e),
            };
            tighten::tighten_cloudtrail(policy, &events, principal, opts)
        }
        (true, Some(la)) => tighten::tighten_last_accessed(policy, la, opts),
        _ => {
            return report_errors(&vec![InputError::new(
                "iamprove tighten",
                None,
                "expects POLICY with either --cloudtrail FILE... or --last-accessed FILE",
            )])
        }
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => return report_errors(&e),
    };
    if report.verdict == Verdict::Error {
        // printed as a JSON string, as before the report was typed
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error: {}",
            json!(report.error)
        );
        return Exit::Input;
    }
    finish(
        &report,
        &report.policy,
        Some(report.verdict),
        output,
        format,
        tighten_text,
    )
}

/// The text report of one explanation.
fn why_text(w: &why::Why) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let r = &w.request;
    let _ = writeln!(
        o,
        "request:  {} {} on {}",
        r.principal.raw, r.action, r.resource
    );
    let _ = writeln!(o, "from:     {}", w.source);
    let _ = writeln!(
        o,
        "decision: {} ({})",
        w.evaluation.decision.name(),
        w.evaluation.reason
    );
    if !w.blocking.is_empty() {
        let _ = writeln!(o, "blocked by:");
        for b in &w.blocking {
            let layer = b.layer;
            let pol = b.policy.as_deref().unwrap_or("-");
            match (&b.statement, &b.detail) {
                (Some(st), _) => {
                    let sid = b
                        .sid
                        .as_ref()
                        .and_then(Option::as_ref)
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default();
                    let _ = writeln!(o, "  {layer}: {st}{sid} of `{pol}` denies it explicitly");
                }
                (None, Some(d)) => {
                    let _ = writeln!(o, "  {layer}: {d}");
                }
                _ => {
                    let _ = writeln!(o, "  {layer}");
                }
            }
        }
    }
    if let Some(f) = &w.fix {
        let _ = writeln!(
            o,
            "smallest fix ({}):",
            if f.confirmed {
                "re-evaluated with the change: Allow".to_owned()
            } else {
                format!("not confirmed: re-evaluated as {}", f.decision_after)
            }
        );
        for c in &f.changes {
            let pol = &c.policy;
            match &c.edit {
                why::FixEdit::AddStatement { add } => {
                    let _ = writeln!(o, "  add to `{pol}` as {}: {add}", c.statement);
                }
                why::FixEdit::RemoveOrNarrowStatement { .. } => {
                    let _ = writeln!(
                        o,
                        "  remove or narrow {} of `{pol}` (it denies this request)",
                        c.statement
                    );
                }
            }
            if let Some(w) = &c.outside_reason {
                let _ = writeln!(o, "    outside the account: {w}");
            }
        }
    }
    if let Some(m) = &w.message {
        let said = match (m.deny, &m.policy_type) {
            (Some(d), Some(t)) => format!("{d} deny, {t}"),
            (Some(d), None) => format!("{d} deny"),
            _ if m.encoded_only => "encoded only".into(),
            _ => "no reason given".into(),
        };
        if m.agrees && m.deny.is_none() {
            let _ = writeln!(o, "message:  {said}: nothing to compare");
        } else if m.agrees {
            let _ = writeln!(o, "message:  {said}; agrees with the evaluation");
        } else {
            let _ = writeln!(o, "message:  {said}; DISAGREES with the evaluation:");
            for d in &m.disagreements {
                let _ = writeln!(o, "  - {d}");
            }
        }
    }
    for n in &w.near_misses {
        let _ = writeln!(
            o,
            "near miss: {} Statement {} of `{}`: {}",
            n.effect, n.statement, n.policy, n.why
        );
    }
    for n in &w.notes {
        let _ = writeln!(o, "note: {n}");
    }
    o
}

/// The readable summary of a `tighten` report.
fn tighten_text(r: &TightenReport) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let p = &r.proof;
    let _ = writeln!(o, "proof: diff NEW OLD: {}", p.diff_new_old);
    if let Some(d) = &p.diff_detail {
        let _ = writeln!(o, "  {d}");
    }
    if let Some(n) = p.observed_replayed {
        let allowed = p
            .observed_allowed
            .map_or_else(|| "null".to_owned(), |a| a.to_string());
        let _ = writeln!(o, "proof: {allowed} of {n} observed requests granted by the old policy replayed as Allow under the new one");
    }
    if let Some(n) = p.observed_without_resource.filter(|n| *n > 0) {
        let _ = writeln!(o, "  {n} more observed requests name no resource: their actions keep the statement's own resource element");
    }
    for a in p.assumptions.iter().flatten() {
        let _ = writeln!(o, "  assuming: {a}");
    }
    if let Some(ob) = &r.observed {
        let ng = &ob.not_granted_by_policy;
        if !ng.is_empty() {
            let _ = writeln!(o, "{} observed requests are not granted by this policy (granted elsewhere, or denied): ignored", ng.len());
        }
    }
    let rm = &r.removed;
    let _ = writeln!(o, "removed: {} catalog actions", rm.removed_total);
    for (lvl, n) in &rm.catalog_actions_removed {
        let before = rm.catalog_actions_before.get(lvl).copied().unwrap_or(0);
        let _ = writeln!(o, "  {lvl}: {n} of {before}");
    }
    if let Some(s) = Some(&rm.services_removed).filter(|s| !s.is_empty()) {
        let names: Vec<&str> = s.iter().map(String::as_str).collect();
        let more = names.len().saturating_sub(12);
        let shown = names[..names.len().min(12)].join(", ");
        if more > 0 {
            let _ = writeln!(o, "  services no longer granted: {shown} and {more} more");
        } else {
            let _ = writeln!(o, "  services no longer granted: {shown}");
        }
    }
    for c in &r.statements {
        let n = c
            .actions
            .as_ref()
            .map_or(String::new(), |a| format!(" to {} action(s)", a.len()));
        let _ = writeln!(o, "statement {}: {}{n}", c.statement, c.change);
        if let Some(Some(res)) = &c.resource {
            // the patterns as JSON lists, as before the report was typed
            let _ = writeln!(o, "  resource {} → {}", json!(res.from), json!(res.to));
        }
    }
    o
}
