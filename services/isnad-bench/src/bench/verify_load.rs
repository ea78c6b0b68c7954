//! The verification load: a mix of genuine and suspect scans at a fixed rate (open loop: a
//! request leaves on schedule whether or not earlier ones have been answered), each answered
//! with its full proof bundle. A request's latency runs from the time the schedule made it
//! due, so a queue in front of the server, or in this client, shows in the figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use isnad_core::event::ReasonCode;
use isnad_proto::convert::reason_code_to_wire;
use isnad_proto::pb;
use prost::Message as _;
use tokio::sync::mpsc;

use isnad_client::Client;

use super::stats::Latencies;

/// Requests waiting for an answer at most; beyond it the server is not keeping up, and the
/// request is counted as dropped instead of piling up in the client.
pub const IN_FLIGHT_MAX: u64 = 2_000;

/// How long to wait for the last answers once every request is sent: longer than
/// [`ANSWER_TIMEOUT`], so every request reports, answered or timed out, before it passes.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The kinds of scans in the mix, and how many of each in 100.
pub const MIX_PERCENT: [(ScanKind, u64); 6] = [
    (ScanKind::Genuine, 60),
    (ScanKind::Diverted, 10),
    (ScanKind::Used, 10),
    (ScanKind::Recalled, 5),
    (ScanKind::InTransit, 5),
    (ScanKind::Unknown, 10),
];

/// A kind of scan an inspector or a hospital makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanKind {
    /// A unit at the hospital that holds it.
    Genuine,
    /// A hospital's unit found at the unlisted pharmacy.
    Diverted,
    /// A used unit scanned again at its hospital.
    Used,
    /// A unit of a recalled lot.
    Recalled,
    /// A unit shipped and not yet received, scanned at its addressee.
    InTransit,
    /// A serial nobody commissioned.
    Unknown,
}

impl ScanKind {
    /// The verdict the ledger must give.
    pub fn expected(self) -> ReasonCode {
        match self {
            ScanKind::Genuine => ReasonCode::Genuine,
            ScanKind::Diverted => ReasonCode::CustodyMismatch,
            ScanKind::Used => ReasonCode::AlreadyDecommissioned,
            ScanKind::Recalled => ReasonCode::Recalled,
            ScanKind::InTransit => ReasonCode::InTransit,
            ScanKind::Unknown => ReasonCode::UnknownSerial,
        }
    }
}

/// Labels to scan, by kind, with the site each is scanned at.
#[derive(Debug, Clone, Default)]
pub struct Population {
    /// Per kind: (label, verifier site GLN) pairs.
    pub scans: Vec<(ScanKind, Vec<(String, String)>)>,
}

/// One verification to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The scan.
    pub scan: String,
    /// Where it is scanned.
    pub site: String,
    /// The verdict expected.
    pub expected: ReasonCode,
}

impl Population {
    /// The `number`-th probe: its kind follows [`MIX_PERCENT`], its label is spread over the
    /// kind's labels.
    pub fn probe(&self, number: u64) -> Probe {
        let spread = mix(number);
        let mut bucket = spread % 100;
        let kind = MIX_PERCENT
            .iter()
            .find(|(_, percent)| {
                let inside = bucket < *percent;
                bucket = bucket.saturating_sub(*percent);
                inside
            })
            .map(|(kind, _)| *kind)
            .expect("the mix adds up to 100");
        let labels = self
            .scans
            .iter()
            .find(|(found, _)| *found == kind)
            .map(|(_, labels)| labels)
            .expect("the population has every kind");
        let (scan, site) = &labels[((spread / 100) % labels.len() as u64) as usize];
        Probe {
            scan: scan.clone(),
            site: site.clone(),
            expected: kind.expected(),
        }
    }
}

/// A well-spread number from a counter (splitmix64's finaliser): a reproducible mix with no
/// random number generator.
fn mix(number: u64) -> u64 {
    let mut z = number.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What a verification run measured.
#[derive(Debug, Clone, Default)]
pub struct VerifyOutcome {
    /// Latency of the answered requests, from the time each was due by the schedule to its
    /// whole answer: time spent queued in this client counts, as it would for a scanner.
    pub latency: Latencies,
    /// Requests the schedule asked for: answered, dropped, errors and timeouts add up to it.
    pub scheduled: u64,
    /// Answers received.
    pub answered: u64,
    /// Requests not sent because [`IN_FLIGHT_MAX`] were waiting.
    pub dropped: u64,
    /// Requests that failed (refused, or the connection broke).
    pub errors: u64,
    /// Requests not answered within [`ANSWER_TIMEOUT`] of their scheduled time.
    pub timeouts: u64,
    /// Answers whose verdict was not the expected one.
    pub wrong_verdicts: u64,
    /// Answers per second over the run.
    pub answered_per_s: f64,
    /// The mean encoded size of an answer (verdict, history, proofs, checkpoint), bytes.
    pub answer_bytes_mean: f64,
}

/// The result of one request sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Answered in time.
    Answered {
        /// From its scheduled time to the whole answer.
        latency: Duration,
        /// Whether the verdict was the expected one.
        right: bool,
        /// The answer's encoded size.
        bytes: usize,
    },
    /// Refused, or the call failed.
    Failed,
    /// Not answered within [`ANSWER_TIMEOUT`] of its scheduled time.
    TimedOut,
}

/// How long a request may take from its scheduled time before it counts as timed out.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `rate_per_s` verifications a second for `duration`, spread over `clients`.
pub async fn run(
    clients: &[Client],
    population: Arc<Population>,
    rate_per_s: u32,
    duration: Duration,
) -> VerifyOutcome {
    let (sender, mut receiver) = mpsc::unbounded_channel::<Answer>();
    let in_flight = Arc::new(AtomicU64::new(0));
    let total = (f64::from(rate_per_s) * duration.as_secs_f64()) as u64;
    let started = Instant::now();
    let (mut sent, mut dropped) = (0u64, 0u64);
    while sent + dropped < total {
        let due = ((started.elapsed().as_secs_f64() * f64::from(rate_per_s)) as u64).min(total);
        while sent + dropped < due {
            let number = sent + dropped;
            if in_flight.load(Ordering::Relaxed) >= IN_FLIGHT_MAX {
                dropped += 1;
                continue;
            }
            in_flight.fetch_add(1, Ordering::Relaxed);
            let client = clients[(number % clients.len() as u64) as usize].clone();
            let probe = population.probe(number);
            let scheduled = scheduled_at(started, number, rate_per_s);
            let (sender, in_flight) = (sender.clone(), in_flight.clone());
            tokio::spawn(async move {
                let answer = verify_one(client, probe, scheduled).await;
                in_flight.fetch_sub(1, Ordering::Relaxed);
                let _ = sender.send(answer);
            });
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    drop(sender);
    let mut tally = Tally::new(total, dropped);
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    while let Ok(Some(answer)) = tokio::time::timeout_at(deadline, receiver.recv()).await {
        tally.add(answer);
    }
    tally.outcome(started.elapsed())
}

/// When the `number`-th request is due: the schedule is `rate_per_s` requests a second from
/// `started`, whenever the sending loop gets to it.
fn scheduled_at(started: Instant, number: u64, rate_per_s: u32) -> Instant {
    started + Duration::from_secs_f64(number as f64 / f64::from(rate_per_s.max(1)))
}

/// Sends one verification, due at `scheduled`, and times it from then.
async fn verify_one(client: Client, probe: Probe, scheduled: Instant) -> Answer {
    let question = pb::VerifyRequest {
        scan: probe.scan,
        verifier_site: probe.site,
        known_tree_size: 0,
    };
    let deadline = tokio::time::Instant::from_std(scheduled + ANSWER_TIMEOUT);
    match tokio::time::timeout_at(deadline, client.verify(question)).await {
        Ok(Ok(answer)) => Answer::Answered {
            latency: Instant::now().saturating_duration_since(scheduled),
            right: answer.verdict == reason_code_to_wire(probe.expected) as i32,
            bytes: answer.encoded_len(),
        },
        Ok(Err(_)) => Answer::Failed,
        Err(_) => Answer::TimedOut,
    }
}

/// The answers of a run as they arrive.
#[derive(Debug)]
struct Tally {
    scheduled: u64,
    dropped: u64,
    latencies: Vec<Duration>,
    errors: u64,
    timeouts: u64,
    wrong: u64,
    bytes: u64,
}

impl Tally {
    fn new(scheduled: u64, dropped: u64) -> Tally {
        Tally {
            scheduled,
            dropped,
            latencies: Vec::with_capacity(scheduled.saturating_sub(dropped) as usize),
            errors: 0,
            timeouts: 0,
            wrong: 0,
            bytes: 0,
        }
    }

    fn add(&mut self, answer: Answer) {
        match answer {
            Answer::Answered {
                latency,
                right,
                bytes,
            } => {
                self.latencies.push(latency);
                self.wrong += u64::from(!right);
                self.bytes += bytes as u64;
            }
            Answer::Failed => self.errors += 1,
            Answer::TimedOut => self.timeouts += 1,
        }
    }

    /// The outcome after `elapsed`; a request sent that never reported (only if the drain
    /// deadline passed first) counts as timed out.
    fn outcome(self, elapsed: Duration) -> VerifyOutcome {
        let answered = self.latencies.len() as u64;
        let reported = answered + self.dropped + self.errors + self.timeouts;
        let timeouts = self.timeouts + self.scheduled.saturating_sub(reported);
        VerifyOutcome {
            latency: Latencies::of(self.latencies),
            scheduled: self.scheduled,
            answered,
            dropped: self.dropped,
            errors: self.errors,
            timeouts,
            wrong_verdicts: self.wrong,
            answered_per_s: answered as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
            answer_bytes_mean: if answered == 0 {
                0.0
            } else {
                self.bytes as f64 / answered as f64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population() -> Population {
        let kinds = MIX_PERCENT.iter().map(|(kind, _)| {
            let labels = (0..3)
                .map(|i| (format!("{kind:?}-{i}"), format!("site-{i}")))
                .collect();
            (*kind, labels)
        });
        Population {
            scans: kinds.collect(),
        }
    }

    #[test]
    fn every_scheduled_request_is_counted_once() {
        let mut tally = Tally::new(10, 2);
        let answered = |ms, right| Answer::Answered {
            latency: Duration::from_millis(ms),
            right,
            bytes: 100,
        };
        for answer in [
            answered(3, true),
            answered(5, false),
            answered(7, true),
            Answer::Failed,
            Answer::TimedOut,
        ] {
            tally.add(answer);
        }
        let outcome = tally.outcome(Duration::from_secs(1));
        assert_eq!(outcome.answered, 3);
        assert_eq!(outcome.dropped, 2);
        assert_eq!(outcome.errors, 1);
        // One timed out, and three sent never reported before the deadline.
        assert_eq!(outcome.timeouts, 4);
        assert_eq!(outcome.wrong_verdicts, 1);
        assert_eq!(outcome.latency.count, 3);
        assert_eq!(outcome.latency.max_ms, 7.0);
        assert_eq!(outcome.answer_bytes_mean, 100.0);
    }

    #[test]
    fn requests_are_due_on_the_schedule_not_when_they_are_sent() {
        let started = Instant::now();
        assert_eq!(scheduled_at(started, 0, 5_000), started);
        assert_eq!(
            scheduled_at(started, 5_000, 5_000),
            started + Duration::from_secs(1)
        );
        assert_eq!(
            scheduled_at(started, 1, 4),
            started + Duration::from_millis(250)
        );
    }

    #[test]
    fn the_mix_adds_up_to_a_hundred() {
        assert_eq!(
            MIX_PERCENT.iter().map(|(_, percent)| percent).sum::<u64>(),
            100
        );
    }

    #[test]
    fn probes_follow_the_mix_and_cover_every_label() {
        let population = population();
        let probes: Vec<Probe> = (0..100_000).map(|n| population.probe(n)).collect();
        for (kind, percent) in MIX_PERCENT {
            let count = probes
                .iter()
                .filter(|p| p.expected == kind.expected())
                .count();
            let share = count as f64 / probes.len() as f64 * 100.0;
            assert!(
                (share - percent as f64).abs() < 1.0,
                "{kind:?}: {share:.2}% for {percent}%"
            );
            for i in 0..3 {
                let label = format!("{kind:?}-{i}");
                assert!(
                    probes.iter().any(|p| p.scan == label),
                    "{label} is never scanned"
                );
            }
        }
        assert_eq!(
            population.probe(7),
            population.probe(7),
            "probes are reproducible"
        );
    }
}
