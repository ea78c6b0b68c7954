//! Latency percentiles over recorded samples.

use std::time::Duration;

/// Percentiles of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latencies {
    /// Samples recorded.
    pub count: usize,
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// 99.9th percentile, milliseconds.
    pub p999_ms: f64,
    /// The slowest, milliseconds.
    pub max_ms: f64,
}

impl Latencies {
    /// Percentiles of `samples` (nearest rank); all zero when there are none.
    pub fn of(mut samples: Vec<Duration>) -> Latencies {
        if samples.is_empty() {
            return Latencies::default();
        }
        samples.sort_unstable();
        let at = |quantile: f64| {
            let rank = (quantile * samples.len() as f64).ceil() as usize;
            let index = rank.clamp(1, samples.len()) - 1;
            samples[index].as_secs_f64() * 1_000.0
        };
        Latencies {
            count: samples.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: at(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(samples_ms: &[u64], p50: f64, p99: f64, max: f64) {
        let samples = samples_ms
            .iter()
            .map(|ms| Duration::from_millis(*ms))
            .collect();
        let latencies = Latencies::of(samples);
        assert_eq!(latencies.count, samples_ms.len());
        assert_eq!(
            (latencies.p50_ms, latencies.p99_ms, latencies.max_ms),
            (p50, p99, max)
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        check(&[], 0.0, 0.0, 0.0);
        check(&[7], 7.0, 7.0, 7.0);
        check(&[3, 1, 2], 2.0, 3.0, 3.0);
        let hundred: Vec<u64> = (1..=100).rev().collect();
        check(&hundred, 50.0, 99.0, 100.0);
    }
}
