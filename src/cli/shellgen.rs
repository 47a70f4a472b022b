//! Shell completions and the man page, generated from the clap definitions.

use super::{Cli, Exit};
use clap::{Arg, Command, CommandFactory};
use std::io::Write;

/// `iamprove completions SHELL`: the completion script on stdout.
pub(crate) fn cmd_completions(shell: clap_complete::Shell) -> Exit {
    let mut cmd = Cli::command();
    let mut out = super::style::unquiet_stdout();
    clap_complete::generate(shell, &mut cmd, "iamprove", &mut out);
    match out.flush() {
        Ok(()) => Exit::Ok,
        Err(_) => Exit::Input,
    }
}

/// `iamprove man`: the roff man page on stdout, or every page (`iamprove.1` and the
/// `iamprove-COMMAND.1` pages it refers to, `iamprove-help.1` included) written into `dir`.
pub(crate) fn cmd_man(dir: Option<&std::path::Path>) -> Exit {
    let written = match dir {
        Some(d) => std::fs::create_dir_all(d).and_then(|()| {
            let mut cmd = Cli::command();
            // with clap's `help` subcommand, as on stdout and on the command line
            cmd.build();
            write_pages(&cmd, d)
        }),
        None => {
            let mut out = super::style::unquiet_stdout();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .and_then(|()| out.flush())
        }
    };
    match written {
        Ok(()) => Exit::Ok,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the man page: {e}");
            Exit::Input
        }
    }
}

/// Write the page of `cmd` and of each subcommand its page lists (`clap_mangen::generate_to`
/// would leave out the `help` subcommand that `iamprove help COMMAND` answers, while the
/// top page, like `iamprove man`, refers to `iamprove-help(1)`).
fn write_pages(cmd: &Command, dir: &std::path::Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            clap_mangen::Man::new(help_page(cmd, sub)).generate_to(dir)?;
        } else {
            write_pages(sub, dir)?;
        }
    }
    clap_mangen::Man::new(cmd.clone()).generate_to(dir)?;
    Ok(())
}

/// The page of clap's built-in `help` subcommand of `parent`: its argument is one of the
/// other subcommands (the built-in one lists them as subcommands, whose pages would not exist).
fn help_page(parent: &Command, help: &Command) -> Command {
    let name = parent
        .get_display_name()
        .unwrap_or_else(|| parent.get_name())
        .to_owned();
    let bin = parent.get_bin_name().unwrap_or(&name).to_owned();
    let commands: Vec<String> = parent
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_owned())
        .collect();
    let mut page = Command::new("help")
        .display_name(format!("{name}-help"))
        .bin_name(format!("{bin} help"))
        // `iamprove help` takes no flags
        .disable_help_flag(true)
        .arg(Arg::new("COMMAND").num_args(0..).help(format!(
            "The command (and its subcommands) whose help to print: {}",
            commands.join(", ")
        )));
    if let Some(about) = help.get_about() {
        page = page.about(about.clone());
    }
    page
}
