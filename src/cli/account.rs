//! The `can`, `who-can`, `escalations` and `gen-account` commands: run and print.

use super::{report_errors, Exit, Format};
use crate::account::escalate::{escalations, Escalation};
use crate::account::{
    can, principals_reaching, CanAnswer, Env, Graph, Inputs, Reach, Step, Verdict,
};
use crate::scenario::InputError;
use std::io::Write;

fn load(inputs: &Inputs, quiet: bool) -> Result<Env, Exit> {
    match Env::load(inputs) {
        Ok(mut e) => {
            e.progress = super::progress::Bar::for_stderr(quiet);
            Ok(e)
        }
        Err(errs) => Err(report_errors(&errs)),
    }
}

fn write_step(out: &mut impl Write, i: usize, s: &Step) -> std::io::Result<()> {
    let sess = s
        .session_name
        .as_deref()
        .map(|x| format!(" (session name `{x}`)"))
        .unwrap_or_default();
    writeln!(
        out,
        "  {}. {} → {} on {}{}",
        i + 1,
        s.principal,
        s.action,
        s.resource,
        sess
    )?;
    for st in &s.statements {
        let sid = st
            .sid
            .as_deref()
            .filter(|x| !x.is_empty())
            .map(|x| format!(" ({x})"))
            .unwrap_or_default();
        writeln!(
            out,
            "       {} {}{} in {} `{}`",
            st.effect,
            st.path,
            sid,
            st.set.label(),
            st.policy
        )?;
    }
    for c in &s.conditions {
        write_condition(out, "       needs ", c)?;
    }
    Ok(())
}

/// Keys whose witness value is the moment of the run: the condition is printed, not the value.
fn time_key(k: &str) -> bool {
    matches!(
        k.to_lowercase().as_str(),
        "aws:tokenissuetime" | "aws:currenttime" | "aws:epochtime"
    )
}

/// A needed context key, printed as the policy condition(s) that ask for it; the example value
/// follows unless it is the time of the run.
fn write_condition(
    out: &mut impl Write,
    prefix: &str,
    c: &crate::account::conditions::CondReq,
) -> std::io::Result<()> {
    if c.because.is_empty() {
        return writeln!(out, "{prefix}{} = {}", c.key, show_value(&c.value));
    }
    for b in &c.because {
        if time_key(&c.key) {
            writeln!(out, "{prefix}{b}")?;
        } else {
            writeln!(
                out,
                "{prefix}{b} (e.g. {} = {})",
                c.key,
                show_value(&c.value)
            )?;
        }
    }
    Ok(())
}

fn show_value(v: &Option<Vec<String>>) -> String {
    match v {
        None => "(absent)".into(),
        Some(v) if v.len() == 1 => v[0].clone(),
        Some(v) => format!("{v:?}"),
    }
}

pub(crate) fn cmd_can(
    inputs: &Inputs,
    principal: &str,
    action: &str,
    resource: &str,
    format: Format,
    quiet: bool,
) -> Exit {
    let env = match load(inputs, quiet) {
        Ok(e) => e,
        Err(x) => return x,
    };
    if !action.contains(':') && action != "*" {
        return report_errors(&vec![InputError::new(
            "(command line)",
            None,
            format!("invalid action `{action}`: expected `service:Action`"),
        )]);
    }
    let Some(start) = env.find(principal) else {
        return report_errors(&vec![InputError::new(
            &inputs.account.display().to_string(),
            None,
            format!("no user or role `{principal}` in the loaded accounts (give its ARN or its name in the analysed account)"),
        )]);
    };
    let graph = Graph::build(&env);
    let ans = can(&env, &graph, start, action, resource);
    let mut out = super::style::stdout();
    let res = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &ans)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        Format::Text => print_can(&mut out, &ans),
        Format::Sarif => return super::no_sarif("can"),
    };
    if res.is_err() {
        return Exit::Input;
    }
    match ans.verdict {
        Verdict::Yes | Verdict::OnlyUnderConditions => Exit::Ok,
        Verdict::No => Exit::Violated,
        Verdict::Unknown => Exit::Unknown,
    }
}

fn print_can(out: &mut impl Write, a: &CanAnswer) -> std::io::Result<()> {
    let v = match a.verdict {
        Verdict::Yes => "yes",
        Verdict::OnlyUnderConditions => "only-under-conditions",
        Verdict::No => "no",
        Verdict::Unknown => "unknown",
    };
    writeln!(
        out,
        "{v}: can {} perform {} on {}",
        a.principal, a.action, a.resource
    )?;
    if let Some(w) = &a.unknown_because {
        writeln!(out, "unknown because: {w}")?;
    }
    if !a.path.is_empty() {
        writeln!(out, "path:")?;
        for (i, s) in a.path.iter().enumerate() {
            write_step(out, i, s)?;
        }
    }
    if !a.conditions.is_empty() {
        writeln!(
            out,
            "conditions (a context satisfying them was confirmed by the evaluator):"
        )?;
        for c in &a.conditions {
            write_condition(out, "  ", c)?;
        }
    }
    if !a.blocked.is_empty() {
        writeln!(out, "why not (each candidate path):")?;
        for b in &a.blocked {
            let via = if b.via.is_empty() {
                String::new()
            } else {
                format!(" (via {})", b.via.join(" → "))
            };
            writeln!(out, "  {}{via}: {}", b.principal, b.layer)?;
            writeln!(out, "      {}", b.detail)?;
            if let Some(r) = &b.request {
                writeln!(out, "      checked on {r}")?;
            }
        }
    }
    Ok(())
}

pub(crate) fn cmd_who_can(
    inputs: &Inputs,
    action: &str,
    resource: Option<&str>,
    format: Format,
    quiet: bool,
) -> Exit {
    let env = match load(inputs, quiet) {
        Ok(e) => e,
        Err(x) => return x,
    };
    if !action.contains(':') && action != "*" {
        return report_errors(&vec![InputError::new(
            "(command line)",
            None,
            format!("invalid action `{action}`: expected `service:Action`"),
        )]);
    }
    let resource = resource.unwrap_or("*");
    let graph = Graph::build(&env);
    let reach = principals_reaching(&env, &graph, action, resource);
    let mut out = super::style::stdout();
    let res = match format {
        Format::Json => serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"action": action, "resource": resource, "principals": reach}),
        )
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out)),
        Format::Text => print_who(&mut out, action, resource, &reach),
        Format::Sarif => return super::no_sarif("who-can"),
    };
    if res.is_err() {
        return Exit::Input;
    }
    // under `--quiet` the answer is the exit status (as with `grep -q`): 1 when nobody can
    if quiet && reach.is_empty() {
        return Exit::Violated;
    }
    Exit::Ok
}

fn print_who(
    out: &mut impl Write,
    action: &str,
    resource: &str,
    reach: &[Reach],
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} principal(s) can perform {action} on {resource}",
        reach.len()
    )?;
    for r in reach {
        let c = if r.conditions.is_empty() {
            String::new()
        } else {
            " (only under conditions)".into()
        };
        writeln!(out, "{}{c}", r.arn)?;
        for (i, s) in r.path.iter().enumerate() {
            write_step(out, i, s)?;
        }
    }
    Ok(())
}

pub(crate) fn cmd_escalations(inputs: &Inputs, format: Format, quiet: bool) -> Exit {
    let env = match load(inputs, quiet) {
        Ok(e) => e,
        Err(x) => return x,
    };
    let graph = Graph::build(&env);
    let esc = escalations(&env, &graph);
    let mut out = super::style::stdout();
    let res = match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({"escalations": esc}))
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        }
        Format::Text => print_esc(&mut out, &esc),
        Format::Sarif => super::sarif::print(
            &mut out,
            &super::sarif::escalations_log(&esc, &env, inputs.resource_policies.as_deref()),
        ),
    };
    if res.is_err() {
        return Exit::Input;
    }
    if esc.is_empty() {
        Exit::Ok
    } else {
        Exit::Violated
    }
}

fn print_esc(out: &mut impl Write, esc: &[Escalation]) -> std::io::Result<()> {
    let mut ps: Vec<&str> = esc.iter().map(|e| e.principal.as_str()).collect();
    ps.dedup();
    writeln!(
        out,
        "{} escalation(s) by {} principal(s)",
        esc.len(),
        ps.len()
    )?;
    for e in esc {
        let t = e
            .target
            .as_deref()
            .map(|t| format!(" → {t}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{} [{}] {}{t}; gains {}",
            e.principal, e.kind, e.method, e.gains
        )?;
        if let Some(a) = &e.assumes {
            writeln!(out, "  assumes: {a}")?;
        }
        for (i, s) in e.path.iter().enumerate() {
            write_step(out, i, s)?;
        }
    }
    Ok(())
}

pub(crate) fn cmd_gen_account(principals: usize, seed: u64) -> Exit {
    let v = crate::account::gen::generate(principals, seed);
    let mut out = super::style::stdout();
    match serde_json::to_writer(&mut out, &v)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
    {
        Ok(()) => Exit::Ok,
        Err(_) => Exit::Input,
    }
}
