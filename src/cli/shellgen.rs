//! Shell completions and the man page, generated from the clap definitions.

use super::{Cli, Exit};
use clap::CommandFactory;
use std::io::Write;

/// `iamprove completions SHELL`: the completion script on stdout.
pub fn cmd_completions(shell: clap_complete::Shell) -> Exit {
    let mut cmd = Cli::command();
    let mut out = super::style::unquiet_stdout();
    clap_complete::generate(shell, &mut cmd, "iamprove", &mut out);
    match out.flush() {
        Ok(()) => Exit::Ok,
        Err(_) => Exit::Input,
    }
}

/// `iamprove man`: the roff man page on stdout, or every page (`iamprove.1` and the
/// `iamprove-COMMAND.1` pages it refers to) written into `dir`.
pub fn cmd_man(dir: Option<&std::path::Path>) -> Exit {
    let written = match dir {
        Some(d) => {
            std::fs::create_dir_all(d).and_then(|()| clap_mangen::generate_to(Cli::command(), d))
        }
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
