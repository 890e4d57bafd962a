//! Timing and reporting.

use std::fmt;
use std::time::{Duration, Instant};

/// Times `f` `n` times (after one warm-up) and returns the sorted samples.
pub fn sample(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    f();
    let mut samples: Vec<Duration> = (0..n.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples
}

/// The median of sorted samples.
pub fn median(samples: &[Duration]) -> Duration {
    samples[samples.len() / 2]
}

/// How a figure is judged.
#[derive(Debug)]
pub enum Target {
    /// An absolute upper bound.
    AtMost(Duration),
}

/// One reported figure.
#[derive(Debug)]
pub struct Figure {
    pub name: String,
    pub median: Duration,
    pub p90: Duration,
    pub target: Target,
}

impl Figure {
    pub fn new(name: impl Into<String>, samples: &[Duration], target: Target) -> Figure {
        let p90 = samples[(samples.len() * 9 / 10).min(samples.len() - 1)];
        Figure {
            name: name.into(),
            median: median(samples),
            p90,
            target,
        }
    }

    pub fn meets_target(&self) -> bool {
        match self.target {
            Target::AtMost(limit) => self.median <= limit,
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match self.target {
            Target::AtMost(limit) => format!("<= {:.1?}", limit),
        };
        let verdict = if self.meets_target() { "ok" } else { "MISSED" };
        let median = format!("{:.2?}", self.median);
        write!(
            f,
            "{:<58} {median:>12} {target:>12} {verdict:>10}  (p90 {:.2?})",
            self.name, self.p90
        )
    }
}
