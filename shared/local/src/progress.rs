//! Progress of long work (`oms import`, `oms retrain`, `oms reconcile`, `oms report`, the
//! benchmarks): a bar with rate and time left on a terminal, and a plain line every few
//! seconds when the output goes to a file or a pipe, so logs stay readable. Both write to
//! stderr; stdout keeps the results.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often the plain form prints a line.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// One piece of long work with a known size, shared by the threads or tasks doing it.
#[derive(Debug)]
pub struct Progress {
    what: String,
    unit: &'static str,
    total: u64,
    done: AtomicU64,
    started: Instant,
    shown: Shown,
}

#[derive(Debug)]
enum Shown {
    Bar(ProgressBar),
    /// The last time a plain line was printed.
    Lines(Mutex<Instant>),
}

impl Progress {
    /// `total` pieces of work, counted in `unit` ("orders", "rows"), described as `what`.
    pub fn new(what: impl Into<String>, total: u64, unit: &'static str) -> Progress {
        let what = what.into();
        let started = Instant::now();
        let shown = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            let template = format!("{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} {{per_sec}} {{eta}} left");
            bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
            bar.set_message(what.clone());
            Shown::Bar(bar)
        } else {
            Shown::Lines(Mutex::new(started))
        };
        Progress { what, unit, total, done: AtomicU64::new(0), started, shown }
    }

    /// `n` more pieces are done.
    pub fn add(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        match &self.shown {
            Shown::Bar(bar) => bar.set_position(done),
            Shown::Lines(last) => {
                let Ok(mut last) = last.try_lock() else { return };
                if last.elapsed() >= PLAIN_EVERY {
                    *last = Instant::now();
                    eprintln!("{}", self.line(done));
                }
            }
        }
    }

    /// The work is over (all of it, or as much as there was); clears the bar or prints the
    /// last line.
    pub fn finish(&self) {
        let done = self.done.load(Ordering::Relaxed);
        match &self.shown {
            Shown::Bar(bar) => bar.finish_and_clear(),
            Shown::Lines(_) => eprintln!("{}", self.line(done)),
        }
    }

    /// `import: 12,000/100,000 rows (12 %), 3,400 rows/s, about 26 s left`.
    fn line(&self, done: u64) -> String {
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 { done as f64 / seconds } else { 0.0 };
        let percent = done.saturating_mul(100).checked_div(self.total).unwrap_or(100);
        let left = if rate > 0.0 && done < self.total {
            format!(", about {:.0} s left", self.total.saturating_sub(done) as f64 / rate)
        } else {
            String::new()
        };
        format!("{}: {done}/{} {} ({percent} %), {rate:.0} {}/s{left}", self.what, self.total, self.unit, self.unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_says_how_far_how_fast_and_how_long_is_left() {
        let progress = Progress {
            what: "import".into(),
            unit: "rows",
            total: 100,
            done: AtomicU64::new(0),
            started: Instant::now() - Duration::from_secs(10),
            shown: Shown::Lines(Mutex::new(Instant::now())),
        };
        let line = progress.line(25);
        assert!(line.starts_with("import: 25/100 rows (25 %), "), "{line}");
        assert!(line.ends_with("rows/s, about 30 s left"), "{line}");
        assert!(!progress.line(100).contains("left"), "nothing is left at the end");
    }
}
