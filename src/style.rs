//! Terminal habits: colour for verdict words (only on a terminal, never with `NO_COLOR`) and the
//! global `--quiet` flag (stdout goes nowhere; errors on stderr and the exit status stay).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Set by `--quiet`/`-q`: suppress everything but errors and the exit status.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Where commands print their reports: stdout, or nothing under `--quiet`.
pub fn stdout() -> Box<dyn Write> {
    if quiet() {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stdout().lock())
    }
}

/// Colour decision: a terminal, and `NO_COLOR` unset or empty (<https://no-color.org>).
pub fn color_wanted(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

fn color_enabled() -> bool {
    color_wanted(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// ANSI colour code of a verdict or severity word, if it has one.
pub fn color_of(word: &str) -> Option<&'static str> {
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
pub fn verdict_padded(word: &str, width: usize) -> String {
    let pad = " ".repeat(width.saturating_sub(word.chars().count()));
    format!("{}{pad}", verdict(word))
}

/// `word`, coloured when `color` is set and the word has a colour.
pub fn paint(word: &str, color: bool) -> String {
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
