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
    Time(Duration),
    /// At most this multiple of a baseline measured in the same run.
    Ratio { baseline: Duration, ratio: f64 },
    /// At most this many KiB.
    Kib { kib: i64, limit: i64 },
    /// At least `gbps` GB/s (10^9 bytes a second) moving `bytes` in the
    /// median sample's time.
    Throughput { bytes: u64, gbps: f64 },
    /// A count (errors, say) at most `limit`.
    Count { value: u64, limit: u64 },
    /// No target: a multiple of a baseline, shown to explain another figure
    /// (what the kernel alone charges, say).
    Reference { baseline: Duration },
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

    /// A ratio figure: `samples` against a baseline's median.
    pub fn ratio(
        name: impl Into<String>,
        samples: &[Duration],
        baseline: Duration,
        ratio: f64,
    ) -> Figure {
        Figure::new(name, samples, Target::Ratio { baseline, ratio })
    }

    /// A reference figure: `samples` against a baseline's median, no target.
    pub fn reference(name: impl Into<String>, samples: &[Duration], baseline: Duration) -> Figure {
        Figure::new(name, samples, Target::Reference { baseline })
    }

    /// A count figure.
    pub fn count(name: impl Into<String>, value: u64, limit: u64) -> Figure {
        let zero = [Duration::ZERO];
        Figure::new(name, &zero, Target::Count { value, limit })
    }

    /// A memory figure.
    pub fn memory(name: impl Into<String>, kib: i64, limit: i64) -> Figure {
        let zero = [Duration::ZERO];
        Figure::new(name, &zero, Target::Kib { kib, limit })
    }

    /// GB/s moving `bytes` in the median sample's time.
    fn measured_gbps(&self) -> Option<f64> {
        match self.target {
            Target::Throughput { bytes, .. } => {
                Some(bytes as f64 / 1e9 / self.median.as_secs_f64().max(1e-9))
            }
            _ => None,
        }
    }

    fn measured_ratio(&self) -> Option<f64> {
        match self.target {
            Target::Ratio { baseline, .. } | Target::Reference { baseline } => {
                Some(self.median.as_secs_f64() / baseline.as_secs_f64().max(1e-9))
            }
            _ => None,
        }
    }

    pub fn meets_target(&self) -> bool {
        match self.target {
            Target::Time(limit) => self.median <= limit,
            Target::Ratio { ratio, .. } => self.measured_ratio().is_some_and(|r| r <= ratio),
            Target::Kib { kib, limit } => kib <= limit,
            Target::Throughput { gbps, .. } => self.measured_gbps().is_some_and(|g| g >= gbps),
            Target::Count { value, limit } => value <= limit,
            Target::Reference { .. } => true,
        }
    }

    /// Whether the figure has a target to meet.
    pub fn has_target(&self) -> bool {
        !matches!(self.target, Target::Reference { .. })
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match (self.has_target(), self.meets_target()) {
            (false, _) => "reference",
            (true, true) => "ok",
            (true, false) => "MISSED",
        };
        let (value, target, extra) = match self.target {
            Target::Time(limit) => (
                format!("{:.2?}", self.median),
                format!("<= {limit:.1?}"),
                format!("(p90 {:.2?})", self.p90),
            ),
            Target::Ratio { baseline, ratio } => (
                format!("{:.2}x", self.measured_ratio().unwrap_or(f64::NAN)),
                format!("<= {ratio:.2}x"),
                format!("({:.2?} vs {:.2?})", self.median, baseline),
            ),
            Target::Reference { baseline } => (
                format!("{:.2}x", self.measured_ratio().unwrap_or(f64::NAN)),
                "-".to_owned(),
                format!("({:.2?} vs {:.2?})", self.median, baseline),
            ),
            Target::Throughput { bytes, gbps } => (
                format!("{:.2}GB/s", self.measured_gbps().unwrap_or(f64::NAN)),
                format!(">= {gbps:.2}GB/s"),
                format!(
                    "({bytes} bytes in {:.2?}, p90 {:.2?})",
                    self.median, self.p90
                ),
            ),
            Target::Count { value, limit } => {
                (value.to_string(), format!("<= {limit}"), String::new())
            }
            Target::Kib { kib, limit } => (
                format!("{:.1}MiB", kib as f64 / 1024.0),
                format!("<= {:.0}MiB", limit as f64 / 1024.0),
                String::new(),
            ),
        };
        write!(
            f,
            "{:<58} {value:>12} {target:>12} {verdict:>10}  {extra}",
            self.name
        )
    }
}
