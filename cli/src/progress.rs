//! Progress on stderr through every phase of a run (loading, preparing
//! rules, checking instantiations): a bar on a terminal, or, when asked
//! for with `--progress always` and stderr is not a terminal (a CI log),
//! a line per phase and one every few seconds.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use loweq_verify::{Phase, Progress};

/// How often line-mode progress prints while a phase runs.
const LINE_EVERY: Duration = Duration::from_secs(2);

/// Where progress goes.
pub enum Reporter {
    /// Nowhere.
    Off,
    /// An indicatif bar on a terminal.
    Bar(indicatif::ProgressBar),
    /// Plain lines; the phase and when the last line was printed.
    Lines(Mutex<Option<(Phase, Instant)>>),
}

fn what(phase: Phase) -> &'static str {
    match phase {
        Phase::Loading => "loading files",
        Phase::Preparing => "preparing rules",
        Phase::Checking => "checking instantiations",
    }
}

impl Reporter {
    /// A reporter: `show` says whether progress is wanted at all, and
    /// `terminal` whether stderr is a terminal.
    pub fn new(show: bool, terminal: bool) -> Reporter {
        match (show, terminal) {
            (false, _) => Reporter::Off,
            (true, false) => Reporter::Lines(Mutex::new(None)),
            (true, true) => {
                let bar = indicatif::ProgressBar::new(0);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} {msg} {pos}/{len} {wide_bar} {elapsed}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                Reporter::Bar(bar)
            }
        }
    }

    /// Shows one update.
    pub fn update(&self, p: Progress) {
        match self {
            Reporter::Off => {}
            Reporter::Bar(bar) => {
                bar.set_message(what(p.phase));
                bar.set_length(p.total as u64);
                bar.set_position(p.done as u64);
            }
            Reporter::Lines(last) => {
                let Ok(mut last) = last.lock() else { return };
                let now = Instant::now();
                let new_phase = last.is_none_or(|(ph, _)| ph != p.phase);
                let due = last.is_some_and(|(_, t)| now.duration_since(t) >= LINE_EVERY);
                let finished = p.done == p.total && p.done > 0;
                if new_phase || due || finished {
                    let _ = writeln!(
                        std::io::stderr(),
                        "progress: {} {}/{}",
                        what(p.phase),
                        p.done,
                        p.total
                    );
                    *last = Some((p.phase, now));
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Reporter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
