//! Command-line front end: flags → validated configuration → a command → a printer.

pub mod account;
pub mod activity;
pub mod check;
pub mod diff;
pub mod gitdiff;
pub mod iac;
pub mod progress;
pub mod sarif;
pub mod shellgen;
pub mod style;
pub mod trust;
pub mod validate;

use crate::eval::{explain, Applies, Evaluation};
use crate::model::PolicyType;
use crate::scenario::{load_scenario, Errors, InputError};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Exit statuses, for every command (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Holds / no widening / valid / decided.
    Ok = 0,
    /// Violated / widened / invalid policy.
    Violated = 1,
    /// Usage or input error.
    Input = 2,
    /// Unknown: solver timeout or resource limit.
    Unknown = 3,
}

impl From<crate::verdict::Verdict> for Exit {
    fn from(v: crate::verdict::Verdict) -> Exit {
        match v.exit_code() {
            0 => Exit::Ok,
            1 => Exit::Violated,
            3 => Exit::Unknown,
            _ => Exit::Input,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0 (check, diff, validate, escalations, trust; docs/sarif.md).
    Sarif,
}

/// `--format sarif` on a command that has no SARIF printer: a usage error.
pub(crate) fn no_sarif(command: &str) -> Exit {
    let _ = writeln!(std::io::stderr(), "error: --format sarif is available for check, diff, validate and escalations (and trust), not for {command}");
    Exit::Input
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TypeArg {
    Identity,
    Resource,
    Trust,
    Scp,
    Rcp,
}

impl TypeArg {
    pub fn kind(self) -> PolicyType {
        match self {
            TypeArg::Identity => PolicyType::Identity,
            TypeArg::Resource => PolicyType::Resource,
            TypeArg::Trust => PolicyType::Trust,
            TypeArg::Scp => PolicyType::Scp,
            TypeArg::Rcp => PolicyType::Rcp,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "iamprove",
    version,
    long_version = crate::iac::managed::LONG_VERSION,
    about = "Prove properties of AWS IAM policies: exact evaluation, widening diffs and invariants, with replayable counterexamples"
)]
#[command(
    after_help = "Exit status: 0 holds / no widening / valid / decided; 1 violated / widened / invalid; 2 usage or input error; 3 unknown (timeout)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print nothing but errors: the exit status tells the verdict (also hides progress bars).
    /// Under `-q`, `eval` exits 1 when the request is denied and `who-can` when nobody can.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide one request exactly, like the IAM Policy Simulator.
    Eval {
        /// Scenario file: a request plus the policies that decide it.
        scenario: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check policy grammar and report hazards.
    Validate {
        /// Policy files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Policy type (default: `resource` when a statement names a principal, else `identity`).
        #[arg(long = "type", value_enum)]
        kind: Option<TypeArg>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Prove the invariants of a spec file; a violation comes with a replayed counterexample.
    Check {
        /// Spec file (see specs/README.md).
        spec: PathBuf,
        #[command(flatten)]
        solver: SolverArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Does NEW allow anything OLD does not? Each finding is a concrete, replayed request.
    /// With `--git-base REF [PATHS...]`: every policy file changed since REF against its version there.
    Diff {
        /// Old policy document or scenario file (with `--git-base`: a path to look for changes in).
        #[arg(required_unless_present_any = ["terraform_plan", "cloudformation", "git_base"])]
        old: Option<PathBuf>,
        /// New policy document or scenario file (with `--git-base`: a path to look for changes in).
        #[arg(required_unless_present_any = ["terraform_plan", "cloudformation", "git_base"])]
        new: Option<PathBuf>,
        /// With `--git-base`: more paths to look for changed policy files in (default: the whole repository).
        #[arg(requires = "git_base")]
        paths: Vec<PathBuf>,
        /// Compare every policy file changed since this git revision (committed, staged, unstaged
        /// and untracked changes) with its version at the revision.
        #[arg(long, value_name = "REF", conflicts_with_all = ["terraform_plan", "cloudformation"])]
        git_base: Option<String>,
        /// Instead of OLD NEW: every IAM-relevant change in a Terraform plan (`terraform show -json PLANFILE`).
        #[arg(long, value_name = "PLAN.json", conflicts_with_all = ["old", "new", "kind", "cloudformation"])]
        terraform_plan: Option<PathBuf>,
        /// Instead of OLD NEW: the IAM-relevant differences between two CloudFormation templates (JSON or YAML).
        #[arg(long, num_args = 2, value_names = ["OLD_TEMPLATE", "NEW_TEMPLATE"], conflicts_with_all = ["old", "new", "kind"])]
        cloudformation: Option<Vec<PathBuf>>,
        /// With `--cloudformation`: a template parameter's value (`KEY=VALUE`, repeatable). Parameters
        /// not given (and their defaults, which a deployment may override) stay symbolic.
        #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = parse_key_value, requires = "cloudformation")]
        parameters: Vec<(String, String)>,
        /// With `--cloudformation`: the value of `AWS::AccountId`.
        #[arg(long, value_name = "ID", requires = "cloudformation")]
        account_id: Option<String>,
        /// With `--cloudformation`: the value of `AWS::Region`.
        #[arg(long, value_name = "REGION", requires = "cloudformation")]
        region: Option<String>,
        /// With `--cloudformation`: the value of `AWS::Partition` (and so `AWS::URLSuffix`).
        #[arg(long, value_name = "PARTITION", requires = "cloudformation")]
        partition: Option<String>,
        /// Policy type of both documents (default: detected; a principal means `resource`).
        #[arg(long = "type", value_enum)]
        kind: Option<TypeArg>,
        /// Report at most this many findings (each a different kind of action).
        #[arg(long, default_value_t = 5)]
        max_findings: usize,
        /// `widen`: what NEW newly allows; `both`: also what it no longer allows.
        #[arg(long, value_enum, default_value_t = crate::diff::Direction::Widen)]
        direction: crate::diff::Direction,
        #[command(flatten)]
        solver: SolverArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Can a principal perform an action, directly or through role assumption? (exit 0 yes or only
    /// under conditions, 1 no, 3 unknown)
    Can {
        /// User or role: ARN, or name in the analysed account.
        principal: String,
        action: String,
        resource: String,
        #[command(flatten)]
        inputs: AccountArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Every principal that can perform an action, directly or through role chains.
    WhoCan {
        action: String,
        /// Resource ARN (default `*`).
        resource: Option<String>,
        #[command(flatten)]
        inputs: AccountArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Every principal that can gain permissions through known privilege-escalation methods
    /// (exit 1 when any is found).
    Escalations {
        #[command(flatten)]
        inputs: AccountArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Why was a request denied? From an AccessDenied message or a CloudTrail record: the
    /// rebuilt request, the blocking layers, and the smallest fix, re-evaluated to confirm.
    Why {
        /// The AccessDenied message text, as AWS printed it.
        #[arg(long, required_unless_present = "event")]
        message: Option<String>,
        /// A CloudTrail file (delivery file, array, one record or JSON lines).
        #[arg(long)]
        event: Option<PathBuf>,
        /// The `eventID` of the record to explain (default: every denied record of the file).
        #[arg(long, requires = "event")]
        event_id: Option<String>,
        #[command(flatten)]
        inputs: AccountArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write the least identity policy allowing every successful request a principal made in
    /// CloudTrail, proven by replay, with an over-grant report (by access level).
    Generate {
        /// CloudTrail files.
        #[arg(long, required = true, num_args = 1..)]
        cloudtrail: Vec<PathBuf>,
        /// The user ARN, role ARN (every session of the role) or session ARN.
        #[arg(long)]
        principal: String,
        /// Write the policy here (default: stdout; the report then goes to stderr).
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Narrow an identity policy to what CloudTrail or IAM last-accessed data shows was used;
    /// proven: `diff NEW OLD` is no_widening and every observed request stays allowed.
    Tighten {
        /// The identity policy to narrow.
        policy: PathBuf,
        /// CloudTrail files.
        #[arg(long, num_args = 1.., conflicts_with = "last_accessed")]
        cloudtrail: Vec<PathBuf>,
        /// Output of `aws iam get-service-last-accessed-details` (with action-level details where present).
        #[arg(long, value_name = "FILE")]
        last_accessed: Option<PathBuf>,
        /// Only this principal's requests (user, role or session ARN; default: every caller in the files).
        #[arg(long, requires = "cloudtrail")]
        principal: Option<String>,
        /// Write the policy here (default: stdout; the report then goes to stderr).
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        solver: SolverArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Who can assume these roles: every class of identities (AWS accounts and principals,
    /// services, OIDC and SAML identities, anonymous callers) with its conditions and a replayed
    /// witness, and trust hazards (exit 1 when a hazard of severity error is found; docs/trust.md).
    Trust {
        /// Trust policy documents, policy-version envelopes or `aws iam get-role` output.
        #[arg(required_unless_present = "account")]
        files: Vec<PathBuf>,
        /// Every role of this account dump (`aws iam get-account-authorization-details`).
        #[arg(long)]
        account: Option<PathBuf>,
        /// The organization (docs/account-formats.md): its accounts count as trusted and its ID
        /// pins `aws:PrincipalOrgID`.
        #[arg(long)]
        org: Option<PathBuf>,
        /// Accounts you own (comma-separated or repeated): no third-party hazards for them.
        #[arg(long = "trusted-accounts", value_name = "ACCOUNTS")]
        trusted_accounts: Vec<String>,
        #[command(flatten)]
        solver: SolverArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(hide = true)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) generated from the command-line definitions; with `--dir`, write
    /// `iamprove.1` and one `iamprove-COMMAND.1` page per command into that directory.
    #[command(hide = true)]
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print a synthetic account dump (for benchmarks).
    #[command(hide = true)]
    GenAccount {
        #[arg(long)]
        principals: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

/// Options shared by the commands that ask the solver.
#[allow(clippy::doc_markdown)]
#[derive(Debug, clap::Args)]
pub struct SolverArgs {
    /// Give up after this many seconds (the whole command, not each query); the verdict is then `unknown` (exit 3), never a pass. `0` answers unknown at the first solver question.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Write the SMT-LIB query to FILE (for bug reports; a diff of identity policies writes the
    /// query over the action patterns its change can reach)
    #[arg(long, value_name = "FILE")]
    pub dump_smt: Option<PathBuf>,
}

impl SolverArgs {
    pub fn options(&self) -> crate::query::QueryOptions {
        // the whole command, from the start of `run`, not each query
        crate::deadline::set_limit(std::time::Duration::from_secs_f64(
            // `--timeout 0`: no time at all, so every solver question answers unknown
            // (deterministic, for testing a pipeline's handling of exit 3)
            if self.timeout.is_nan() {
                0.0
            } else {
                self.timeout.clamp(0.0, 1e9)
            },
        ));
        crate::query::QueryOptions {
            timeout_ms: (self.timeout.max(0.001) * 1000.0).min(f64::from(u32::MAX)) as u32,
            limits: crate::query::query_limits(),
            dump_smt: self.dump_smt.clone(),
            well_formed: true,
            declared_shapes: true,
            slice: true,
        }
    }
}

/// Inputs of the account-wide commands (docs/account-formats.md).
#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    /// Output of `aws iam get-account-authorization-details`.
    #[arg(long)]
    pub account: PathBuf,
    /// The account's organization: SCP and RCP levels, management account.
    #[arg(long)]
    pub org: Option<PathBuf>,
    /// JSON object mapping resource ARNs to resource policies.
    #[arg(long = "resource-policies")]
    pub resource_policies: Option<PathBuf>,
    /// Another account's dump, for cross-account trust (repeatable).
    #[arg(long = "other-account")]
    pub other_account: Vec<PathBuf>,
}

impl AccountArgs {
    fn inputs(&self) -> crate::account::Inputs {
        crate::account::Inputs {
            account: self.account.clone(),
            org: self.org.clone(),
            resource_policies: self.resource_policies.clone(),
            other_accounts: self.other_account.clone(),
        }
    }
}

/// Print located input errors and return the input-error status.
/// `KEY=VALUE` for `--parameter`.
fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, found `{s}`")),
    }
}

pub(crate) fn report_errors(errs: &Errors) -> Exit {
    let mut stderr = std::io::stderr().lock();
    for e in errs {
        let _ = writeln!(stderr, "error: {e}");
    }
    Exit::Input
}

/// The command line, parsed as `Cli::parse` does (help, usage errors and versions exit). Only
/// `--version` loads Z3, to name the library a query would use (ripgrep names its PCRE2 the same
/// way); every other command loads it when a query first needs it.
pub fn parse_args() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cmd = Cli::command();
    if args.iter().skip(1).any(|a| a == "--version") {
        let z3 = match iamprove_symbolic::z3lib::version() {
            Ok(v) => format!("Z3 {v} (libz3, loaded at run time)"),
            Err(e) => format!("Z3 not loaded: {e}"),
        };
        // (clap takes a static text here; the process prints it and exits)
        let text = format!("{}\n{z3}", crate::iac::managed::LONG_VERSION);
        cmd = cmd.long_version(&*Box::leak(text.into_boxed_str()));
    }
    let matches = cmd.get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub fn run(cli: Cli) -> Exit {
    crate::deadline::start_clock();
    style::set_quiet(cli.quiet);
    let quiet = cli.quiet;
    match cli.command {
        Command::Eval { scenario, format } => cmd_eval(&scenario, format),
        Command::Validate {
            files,
            kind,
            format,
        } => validate::cmd_validate(&files, kind.map(TypeArg::kind), format),
        Command::Check {
            spec,
            solver,
            format,
        } => check::cmd_check(&spec, &solver.options(), format),
        Command::Diff {
            old,
            new,
            paths,
            git_base,
            terraform_plan,
            cloudformation,
            parameters,
            account_id,
            region,
            partition,
            kind,
            max_findings,
            direction,
            solver,
            format,
        } => {
            let opts = crate::diff::DiffOptions {
                kind: kind.map(TypeArg::kind),
                max_findings: max_findings.max(1),
                direction,
                query: solver.options(),
            };
            match (git_base, terraform_plan, cloudformation.as_deref(), old, new) {
                (Some(base), _, _, old, new) => {
                    let paths: Vec<PathBuf> = old.into_iter().chain(new).chain(paths).collect();
                    gitdiff::cmd_diff_git(&base, &paths, &opts, format)
                }
                (None, Some(plan), _, _, _) => iac::cmd_terraform(&plan, &opts, format),
                (None, None, Some([o, n]), _, _) => {
                    let params = crate::iac::cloudformation::Params::new(
                        &parameters,
                        account_id.as_deref(),
                        region.as_deref(),
                        partition.as_deref(),
                    );
                    iac::cmd_cloudformation(o, n, &params, &opts, format)
                }
                (None, None, None, Some(old), Some(new)) => diff::cmd_diff(&old, &new, &opts, format),
                _ => report_errors(&vec![InputError::new("iamprove diff", None, "expects OLD NEW, --git-base REF [PATHS...], --terraform-plan PLAN.json or --cloudformation OLD_TEMPLATE NEW_TEMPLATE")]),
            }
        }
        Command::Can {
            principal,
            action,
            resource,
            inputs,
            format,
        } => account::cmd_can(
            &inputs.inputs(),
            &principal,
            &action,
            &resource,
            format,
            quiet,
        ),
        Command::WhoCan {
            action,
            resource,
            inputs,
            format,
        } => account::cmd_who_can(
            &inputs.inputs(),
            &action,
            resource.as_deref(),
            format,
            quiet,
        ),
        Command::Escalations { inputs, format } => {
            account::cmd_escalations(&inputs.inputs(), format, quiet)
        }
        Command::Why {
            message,
            event,
            event_id,
            inputs,
            format,
        } => activity::cmd_why(
            &inputs.inputs(),
            message.as_deref(),
            event.as_deref(),
            event_id.as_deref(),
            format,
        ),
        Command::Generate {
            cloudtrail,
            principal,
            output,
            format,
        } => activity::cmd_generate(&cloudtrail, &principal, output.as_deref(), format),
        Command::Tighten {
            policy,
            cloudtrail,
            last_accessed,
            principal,
            output,
            solver,
            format,
        } => activity::cmd_tighten(
            &policy,
            &cloudtrail,
            last_accessed.as_deref(),
            principal.as_deref(),
            output.as_deref(),
            &solver.options(),
            format,
        ),
        Command::Trust {
            files,
            account,
            org,
            trusted_accounts,
            solver,
            format,
        } => trust::cmd_trust(
            &trust::TrustArgs {
                files,
                account,
                org,
                trusted_accounts,
                format,
            },
            solver.options(),
        ),
        Command::Completions { shell } => shellgen::cmd_completions(shell),
        Command::Man { dir } => shellgen::cmd_man(dir.as_deref()),
        Command::GenAccount { principals, seed } => account::cmd_gen_account(principals, seed),
    }
}

fn cmd_eval(path: &std::path::Path, format: Format) -> Exit {
    let sc = match load_scenario(path, true) {
        Ok(s) => s,
        Err(e) => return report_errors(&e),
    };
    let Some(req) = sc.request.as_ref() else {
        return report_errors(&vec![InputError::new(
            &path.display().to_string(),
            Some("request".into()),
            "missing `request`",
        )]);
    };
    let ev = explain(&sc, req);
    let mut out = style::stdout();
    let res = match format {
        Format::Json => print_eval_json(&mut out, &ev),
        Format::Text => print_eval_text(&mut out, &ev),
        Format::Sarif => return no_sarif("eval"),
    };
    match res {
        // Under `--quiet` the decision is the exit status, as with `grep -q`: 0 Allow, 1 denied.
        Ok(()) if style::quiet() && ev.decision != crate::eval::Decision::Allow => Exit::Violated,
        Ok(()) => Exit::Ok,
        Err(_) => Exit::Input,
    }
}

fn print_eval_json(out: &mut impl Write, ev: &Evaluation) -> std::io::Result<()> {
    let not_applied: Vec<serde_json::Value> = ev
        .trace
        .iter()
        .filter(|t| !matches!(t.outcome, Applies::Yes(_)))
        .map(|t| serde_json::json!({"policy": t.stmt.policy, "statement": t.stmt.path, "sid": t.stmt.sid, "why": t.detail}))
        .collect();
    let v = serde_json::json!({
        "decision": ev.decision.name(),
        "reason": ev.reason,
        "statements": ev.statements,
        "not_applied": not_applied,
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

fn print_eval_text(out: &mut impl Write, ev: &Evaluation) -> std::io::Result<()> {
    writeln!(out, "decision: {}", ev.decision.name())?;
    writeln!(out, "because:  {}", ev.reason)?;
    if !ev.statements.is_empty() {
        writeln!(out, "deciding statements:")?;
        for s in &ev.statements {
            let sid = s
                .sid
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} {}{} in {} `{}`",
                s.effect,
                s.path,
                sid,
                s.set.label(),
                s.policy
            )?;
        }
    }
    let others: Vec<_> = ev
        .trace
        .iter()
        .filter(|t| !matches!(t.outcome, Applies::Yes(_)))
        .collect();
    if !others.is_empty() {
        writeln!(out, "statements that did not apply:")?;
        for t in others {
            let sid = t
                .stmt
                .sid
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} {}{} in {} `{}`: {}",
                t.stmt.effect,
                t.stmt.path,
                sid,
                t.stmt.set.label(),
                t.stmt.policy,
                t.detail
            )?;
        }
    }
    Ok(())
}
