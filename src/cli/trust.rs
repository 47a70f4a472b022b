//! `iamprove trust`: inputs, text / JSON / SARIF printers, exit status.

use super::{report_errors, Exit, Format};
use crate::trust::{
    analyze, load_file, roles_of_account, RoleReport, Severity, TrustOptions, TrustRole,
};
use std::io::Write;
use std::path::PathBuf;

pub(crate) struct TrustArgs {
    pub files: Vec<PathBuf>,
    pub account: Option<PathBuf>,
    pub org: Option<PathBuf>,
    pub trusted_accounts: Vec<String>,
    pub format: Format,
}

/// Run the command.
pub(crate) fn cmd_trust(args: &TrustArgs, query: crate::query::QueryOptions) -> Exit {
    let mut opts = TrustOptions {
        query,
        ..TrustOptions::default()
    };
    for a in &args.trusted_accounts {
        for one in a.split(',') {
            let one = one.trim();
            if one.is_empty() {
                continue;
            }
            if one.len() != 12 || !one.bytes().all(|b| b.is_ascii_digit()) {
                return report_errors(&vec![crate::scenario::InputError::new(
                    "--trusted-accounts",
                    None,
                    format!("`{one}` is not a 12-digit account ID"),
                )]);
            }
            opts.trusted_accounts.insert(one.to_owned());
        }
    }
    let mut roles: Vec<TrustRole> = Vec::new();
    let mut errors = Vec::new();
    let mut dump: Option<crate::account::load::Account> = None;
    if let Some(path) = &args.account {
        match crate::account::load::load_account(path) {
            Ok(a) => {
                roles.extend(roles_of_account(&a));
                dump = Some(a);
            }
            Err(e) => errors.extend(e),
        }
    }
    if let Some(org) = &args.org {
        let main = dump.as_ref().map(|a| a.id.clone()).unwrap_or_default();
        match crate::account::load::load_org(org, &main) {
            Ok(o) => {
                opts.trusted_accounts.extend(o.accounts.keys().cloned());
                opts.trusted_accounts
                    .extend(o.management_account.iter().cloned());
                opts.org_id = o.org_id.clone();
            }
            Err(e) => errors.extend(e),
        }
    }
    for f in &args.files {
        match load_file(f) {
            Ok(r) => roles.push(r),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return report_errors(&errors);
    }
    if roles.is_empty() {
        return report_errors(&vec![crate::scenario::InputError::new(
            "iamprove trust",
            None,
            "expects trust policy files or --account DUMP",
        )]);
    }
    let reports: Vec<RoleReport> = roles.iter().map(|r| analyze(r, &opts)).collect();
    let mut out = super::style::stdout();
    let res = match args.format {
        Format::Json => print_json(&mut out, &reports),
        Format::Text => print_text(&mut out, &reports),
        Format::Sarif => {
            let sources = |label: &str| -> Option<(String, String)> {
                let a = dump.as_ref()?;
                let p = a.sources.get(label)?;
                Some((a.file.clone(), p.to_string()))
            };
            super::sarif::print(&mut out, &super::sarif::trust_log(&reports, &sources))
        }
    };
    if res.is_err() {
        return Exit::Input;
    }
    exit_of(&reports)
}

/// 1 when an error-severity hazard was found, else 3 when some answer is incomplete, else 0.
pub(crate) fn exit_of(reports: &[RoleReport]) -> Exit {
    if reports.iter().any(|r| r.worst() == Some(Severity::Error)) {
        Exit::Violated
    } else if reports.iter().any(|r| !r.unknown.is_empty()) {
        Exit::Unknown
    } else {
        Exit::Ok
    }
}

/// The JSON form of `trust`: `{"roles": [...]}`.
#[derive(serde::Serialize)]
struct TrustJson<'a> {
    roles: &'a [RoleReport],
}

fn print_json(out: &mut impl Write, reports: &[RoleReport]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &TrustJson { roles: reports })
        .map_err(std::io::Error::other)?;
    writeln!(out)
}

fn print_text(out: &mut impl Write, reports: &[RoleReport]) -> std::io::Result<()> {
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "role {}", r.role)?;
        if r.assumable_by.is_empty() {
            writeln!(out, "  assumable by: nobody")?;
        } else {
            writeln!(out, "  assumable by:")?;
        }
        for id in &r.assumable_by {
            let trusted = match id.trusted {
                Some(true) => " (trusted)",
                Some(false) => " (outside --trusted-accounts and the organization)",
                None => "",
            };
            writeln!(out, "  - [{}] {}{trusted}", id.kind.name(), id.description)?;
            for c in &id.conditions {
                writeln!(out, "      if {c}")?;
            }
            writeln!(out, "      granted by {}", id.statements.join(", "))?;
            writeln!(out, "      witness: {}", id.witness)?;
        }
        if !r.hazards.is_empty() {
            writeln!(out, "  hazards:")?;
        }
        for h in &r.hazards {
            writeln!(
                out,
                "  - {} {} at {}: {}",
                super::style::verdict(h.severity.name()),
                h.code,
                h.statement,
                h.message
            )?;
        }
        for u in &r.unknown {
            writeln!(out, "  unknown: {u}")?;
        }
    }
    Ok(())
}
