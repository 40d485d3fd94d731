//! Progress on stderr through every phase of a run (loading the files,
//! checking instantiations as they are found): a bar on a terminal, or, when asked
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
    /// Plain lines: the last update, and when the last line was printed.
    Lines(Mutex<Option<(Progress, Instant)>>),
}

fn what(phase: Phase) -> String {
    match phase {
        Phase::Loading => "loading files".into(),
        Phase::LoadingStage(s) => format!("loading files: {}", s.describe()),
        Phase::Checking => "checking instantiations".into(),
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
                // The spinner and the clock move while a long stage runs.
                bar.enable_steady_tick(Duration::from_millis(200));
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
                let printed = match *last {
                    Some((q, at)) if q.phase == p.phase && now.duration_since(at) < LINE_EVERY => {
                        at
                    }
                    _ => {
                        line(p);
                        now
                    }
                };
                *last = Some((p, printed));
            }
        }
    }

    /// Clears the bar, or prints the last state as a line.
    pub fn finish(&self) {
        match self {
            Reporter::Off => {}
            Reporter::Bar(bar) => bar.finish_and_clear(),
            Reporter::Lines(last) => {
                if let Some((p, _)) = last.lock().ok().and_then(|l| *l) {
                    line(p);
                }
            }
        }
    }
}

fn line(p: Progress) {
    let _ = writeln!(
        std::io::stderr(),
        "progress: {} {}/{}",
        what(p.phase),
        p.done,
        p.total
    );
}
