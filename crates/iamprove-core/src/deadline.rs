//! The command-wide deadline behind `--timeout`: set once by the CLI, read by the solver
//! session (each check gets at most the time left) and by the automata budgets (an exploration
//! stops when it passes). Library callers that never set it get no global bound, only the
//! per-query timeouts and budgets they pass.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static START: OnceLock<Instant> = OnceLock::new();
static DEADLINE: OnceLock<Instant> = OnceLock::new();

thread_local! {
    /// An earlier deadline for one phase of the command on this thread (see [`within`]).
    static PHASE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Start the command's clock (first call wins). `cli::run` calls it before reading any input.
pub fn start_clock() -> Instant {
    *START.get_or_init(Instant::now)
}

/// Bound the whole command to `limit` from the clock's start (first call wins).
pub fn set_limit(limit: Duration) {
    let start = start_clock();
    let _ = DEADLINE.set(start.checked_add(limit).unwrap_or(start));
}

/// Time left before the deadline (the earlier of the command's and the current phase's);
/// `None` when neither is set.
pub fn remaining() -> Option<Duration> {
    let phase = PHASE.with(Cell::get);
    let end = match (DEADLINE.get().copied(), phase) {
        (Some(d), Some(p)) => Some(d.min(p)),
        (d, p) => d.or(p),
    };
    end.map(|d| d.saturating_duration_since(Instant::now()))
}

/// Run `f` on this thread with the deadline moved to at most `limit` from now (the command's
/// deadline and an enclosing phase's still apply); the previous phase is restored afterwards.
/// `diff::compare` uses it to keep time for its second query.
pub fn within<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PHASE.with(|p| p.set(self.0));
        }
    }
    let now = Instant::now();
    let end = now.checked_add(limit).unwrap_or(now);
    let prev = PHASE.with(Cell::get);
    PHASE.with(|p| p.set(Some(prev.map_or(end, |q| q.min(end)))));
    let _restore = Restore(prev);
    f()
}

/// Run `f` on this thread without the phases of [`within`] (the command's deadline still
/// applies); they are restored afterwards. `diff::compare` searches for more findings this way:
/// its first query's half of the time was kept for a second query that no longer runs once a
/// finding exists, and the wall clock should not decide how many findings are listed.
pub fn lifted<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PHASE.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(PHASE.with(|p| p.replace(None)));
    f()
}

/// Whether a deadline is set and has passed.
pub fn passed() -> bool {
    remaining().is_some_and(|r| r.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_moves_the_deadline_earlier_and_is_restored() {
        let outside = remaining().is_some();
        assert!(within(Duration::ZERO, passed));
        assert!(within(Duration::from_secs(3600), || {
            remaining().is_some_and(|r| r <= Duration::from_secs(3600))
                && !within(Duration::from_secs(7200), passed)
                && within(Duration::ZERO, passed)
        }));
        // an inner, longer phase does not extend an outer, shorter one
        assert!(within(Duration::ZERO, || within(
            Duration::from_secs(3600),
            passed
        )));
        assert_eq!(remaining().is_some(), outside);
    }

    #[test]
    fn lifting_drops_the_phases_and_restores_them() {
        // (no command deadline in unit tests: only the phase can pass)
        assert!(within(Duration::ZERO, || {
            !lifted(passed) && passed() && within(Duration::ZERO, || !lifted(passed) && passed())
        }));
        assert!(!passed());
    }
}
