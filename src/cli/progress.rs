//! The progress bar of the account commands: the account crate reports its long steps through
//! [`crate::account::Progress`] and never prints; this draws them on stderr, on a terminal only,
//! and not under `--quiet`.

use crate::account::Progress;
use std::io::IsTerminal;
use std::sync::Mutex;

/// An indicatif bar per step, on stderr.
#[derive(Default)]
pub struct Bar {
    current: Mutex<Option<indicatif::ProgressBar>>,
}

impl Bar {
    /// The progress to give the account crate: a bar on a terminal, nothing when stderr is piped
    /// or `quiet` is set.
    pub fn for_stderr(quiet: bool) -> std::sync::Arc<dyn Progress> {
        if quiet || !std::io::stderr().is_terminal() {
            std::sync::Arc::new(crate::account::NoProgress)
        } else {
            std::sync::Arc::new(Bar::default())
        }
    }

    fn bar(&self) -> Option<indicatif::ProgressBar> {
        // a poisoned lock only means another thread panicked while drawing: draw nothing more
        self.current.lock().ok().and_then(|g| g.clone())
    }
}

impl Progress for Bar {
    fn start(&self, label: &str, total: usize) {
        let pb = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
        {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(label.to_owned());
        if let Ok(mut g) = self.current.lock() {
            if let Some(old) = g.replace(pb) {
                old.finish_and_clear();
            }
        }
    }

    fn inc(&self) {
        if let Some(pb) = self.bar() {
            pb.inc(1);
        }
    }

    fn finish(&self) {
        if let Ok(mut g) = self.current.lock() {
            if let Some(pb) = g.take() {
                pb.finish_and_clear();
            }
        }
    }
}
