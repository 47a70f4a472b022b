//! The command-wide deadline behind `--timeout`: set once by the CLI, read by the solver
//! session (each check gets at most the time left) and by the automata budgets (an exploration
//! stops when it passes). Library callers that never set it get no global bound, only the
//! per-query timeouts and budgets they pass.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

static START: OnceLock<Instant> = OnceLock::new();
static DEADLINE: OnceLock<Instant> = OnceLock::new();

/// Start the command's clock (first call wins). `cli::run` calls it before reading any input.
pub fn start_clock() -> Instant {
    *START.get_or_init(Instant::now)
}

/// Bound the whole command to `limit` from the clock's start (first call wins).
pub fn set_limit(limit: Duration) {
    let start = start_clock();
    let _ = DEADLINE.set(start.checked_add(limit).unwrap_or(start));
}

/// Time left before the deadline; `None` when no deadline is set.
pub fn remaining() -> Option<Duration> {
    DEADLINE
        .get()
        .map(|d| d.saturating_duration_since(Instant::now()))
}

/// Whether a deadline is set and has passed.
pub fn passed() -> bool {
    remaining().is_some_and(|r| r.is_zero())
}
