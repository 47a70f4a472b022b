//! `iamprove why`, `generate` and `tighten`: load the inputs, run, print (text or JSON).

use super::{report_errors, Exit, Format};
use crate::activity::cloudtrail::{load_events, Event};
use crate::activity::{generate, load_all, tighten, why};
use crate::request::Principal;
use crate::scenario::{Errors, InputError};
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
pub fn cmd_why(
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
                let _ = write!(out, "{}", w.to_text());
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
pub fn cmd_generate(
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
    if report["proof"]["holds"] != json!(true) {
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error: the generated policy does not allow every observed request: {}",
            report["proof"]["failures"]
        );
        return Exit::Input;
    }
    finish(&report, output, format, generate_text)
}

fn finish(
    report: &Value,
    output: Option<&Path>,
    format: Format,
    text: fn(&Value) -> String,
) -> Exit {
    let policy = &report["policy"];
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
    if report["verdict"] == json!("unknown") {
        Exit::Unknown
    } else {
        Exit::Ok
    }
}

fn levels_text(v: &Value) -> String {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, x)| format!("{k} {}", x))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn generate_text(r: &Value) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let ob = &r["observed"];
    let _ = writeln!(
        o,
        "observed: {} successful requests of {} ({} distinct, {} actions); {} denied, {} skipped",
        ob["successful_requests"],
        r["principal"].as_str().unwrap_or(""),
        ob["distinct_requests"],
        ob["actions"],
        ob["denied"].as_array().map_or(0, Vec::len),
        ob["skipped"].as_array().map_or(0, Vec::len)
    );
    let p = &r["proof"];
    let _ = writeln!(
        o,
        "proof: {} of {} observed requests replayed as Allow through the evaluator",
        p["allowed"], p["replayed"]
    );
    for a in p["assumptions"].as_array().into_iter().flatten() {
        let _ = writeln!(o, "  assuming: {}", a.as_str().unwrap_or(""));
    }
    let g = &r["over_grant"];
    let _ = writeln!(
        o,
        "over-grant: no action beyond the observed ones; by access level:"
    );
    for (lvl, x) in g["by_access_level"].as_object().into_iter().flatten() {
        let _ = writeln!(
            o,
            "  {lvl}: {} actions, {} on any resource (resource not in the record), {} on generalised resources",
            x["allowed_actions"], x["actions_on_any_resource"], x["actions_on_generalised_resources"]
        );
    }
    for x in g["generalised_resources"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "  {} on {} (observed {})",
            x["action"].as_str().unwrap_or(""),
            x["pattern"].as_str().unwrap_or(""),
            x["observed"].as_array().map_or(0, Vec::len)
        );
    }
    for d in ob["denied"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "denied (not in the policy): {} {}",
            d["action"]
                .as_str()
                .unwrap_or(d["event"].as_str().unwrap_or("")),
            d["error"].as_str().unwrap_or("")
        );
    }
    let _ = levels_text;
    o
}

/// `iamprove tighten`.
pub fn cmd_tighten(
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
    if report["verdict"] == json!("internal_error") {
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error: {}",
            report["error"]
        );
        return Exit::Input;
    }
    finish(&report, output, format, tighten::text)
}
