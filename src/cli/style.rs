//! Terminal habits: colour for verdict words (only on a terminal, never with `NO_COLOR`) and the
//! global `--quiet` flag (stdout goes nowhere; errors on stderr and the exit status stay).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Set by `--quiet`/`-q`: suppress everything but errors and the exit status.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Where commands print their reports: stdout, or nothing under `--quiet`. A reader that closes
/// the pipe early (`iamprove diff … | head`) is not an error: the rest of the report is dropped
/// and the command keeps its exit status.
pub fn stdout() -> Box<dyn Write> {
    if quiet() {
        Box::new(std::io::sink())
    } else {
        unquiet_stdout()
    }
}

/// Stdout even under `--quiet`, for commands whose output is the product (`completions`, `man`).
pub(crate) fn unquiet_stdout() -> Box<dyn Write> {
    Box::new(PipeTolerant {
        inner: std::io::stdout().lock(),
        closed: false,
    })
}

/// A writer that turns a closed pipe into a silent sink.
pub struct PipeTolerant<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> PipeTolerant<W> {
    /// Wrap `inner`.
    pub fn new(inner: W) -> Self {
        PipeTolerant {
            inner,
            closed: false,
        }
    }
}

impl<W: Write> Write for PipeTolerant<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            r => r,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => r,
        }
    }
}

/// Colour decision: a terminal, and `NO_COLOR` unset or empty (<https://no-color.org>).
pub(crate) fn color_wanted(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

fn color_enabled() -> bool {
    color_wanted(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// ANSI colour code of a verdict or severity word, if it has one.
pub(crate) fn color_of(word: &str) -> Option<&'static str> {
    match word {
        "holds" | "no_widening" | "valid" => Some("32"),
        "violated" | "widened" | "error" | "invalid" => Some("31"),
        "unknown" | "warning" => Some("33"),
        _ => None,
    }
}

/// `word` in its colour when stdout is a terminal that wants colour.
pub fn verdict(word: &str) -> String {
    paint(word, color_enabled())
}

/// `word` padded with spaces to `width` columns, coloured like [`verdict`] (the padding is not).
pub(crate) fn verdict_padded(word: &str, width: usize) -> String {
    let pad = " ".repeat(width.saturating_sub(word.chars().count()));
    format!("{}{pad}", verdict(word))
}

/// `word`, coloured when `color` is set and the word has a colour.
pub(crate) fn paint(word: &str, color: bool) -> String {
    match color_of(word) {
        Some(code) if color => format!("\x1b[{code}m{word}\x1b[0m"),
        _ => word.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(color_wanted(true, None));
        assert!(color_wanted(true, Some(OsStr::new(""))));
        assert!(!color_wanted(true, Some(OsStr::new("1"))));
        assert!(!color_wanted(false, None));
    }

    #[test]
    fn verdict_words_get_their_colours() {
        assert_eq!(paint("holds", true), "\x1b[32mholds\x1b[0m");
        assert_eq!(paint("widened", true), "\x1b[31mwidened\x1b[0m");
        assert_eq!(paint("unknown", true), "\x1b[33munknown\x1b[0m");
        assert_eq!(paint("holds", false), "holds");
        assert_eq!(paint("narrowed", true), "narrowed");
    }
}

#[cfg(test)]
mod pipe_tests {
    #![allow(clippy::unwrap_used)]
    use super::PipeTolerant;
    use std::io::Write;

    /// Accepts `room` bytes, then reports a closed pipe.
    struct Closing {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.got.len() >= self.room {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.room - self.got.len());
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_becomes_a_sink() {
        let mut w = PipeTolerant::new(Closing {
            room: 4,
            got: vec![],
        });
        writeln!(w, "hello world").unwrap();
        writeln!(w, "more").unwrap();
        w.flush().unwrap();
        assert_eq!(w.inner.got, b"hell");
        assert!(w.closed);
    }

    #[test]
    fn other_errors_still_fail() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::StorageFull.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut w = PipeTolerant::new(Full);
        assert!(writeln!(w, "x").is_err());
    }
}
