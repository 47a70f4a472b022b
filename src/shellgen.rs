//! Shell completions and the man page, generated from the clap definitions.

use crate::cli::{Cli, Exit};
use clap::CommandFactory;
use std::io::Write;

/// `iamprove completions SHELL`: the completion script on stdout.
pub fn cmd_completions(shell: clap_complete::Shell) -> Exit {
    let mut cmd = Cli::command();
    let mut out = crate::style::stdout();
    clap_complete::generate(shell, &mut cmd, "iamprove", &mut out);
    match out.flush() {
        Ok(()) => Exit::Ok,
        Err(_) => Exit::Input,
    }
}

/// `iamprove man`: the roff man page on stdout.
pub fn cmd_man() -> Exit {
    let mut out = crate::style::stdout();
    match clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .and_then(|()| out.flush())
    {
        Ok(()) => Exit::Ok,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the man page: {e}");
            Exit::Input
        }
    }
}
