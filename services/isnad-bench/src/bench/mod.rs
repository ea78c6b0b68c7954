//! The benchmark: a real `isnad-server` process under capture, commission and verification
//! load, then grown to a large log and verified again, killed and restarted.
//!
//! Everything a measured phase sends is signed before the phase starts, so the figures are
//! the server's and not the client's signing. Every acknowledgement the server sends is
//! durable (it answers only after fdatasync). The client runs on the same machine as the
//! server and takes its share of the cores: the figures are for the whole machine.
//!
//! The last line printed is one JSON object with every figure.

pub mod ceiling;
pub mod judge;
pub mod load;
mod phases;
pub mod scale;
pub mod server;
pub mod stats;
pub mod target;
pub mod verify_load;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use judge::{Judgements, Measurements};
use target::{ExternalServer, Target};

/// Lots per commission request in the commission phase. One: a lot of 10,000 units is about
/// 30,000 state writes, and the server's sequencer stops for good when one group of requests
/// goes over the store's 100,000 writes per append (reported to the server's owners).
pub const COMMISSION_LOTS_PER_REQUEST: usize = 1;

/// Commission requests in flight at once: two lots at most in one group.
pub const COMMISSION_CONCURRENCY: usize = 2;

/// Lines of the server's log shown when the run fails.
pub const SERVER_LOG_LINES: usize = 20;

/// HTTP/2 connections the verification load is spread over.
pub const VERIFY_CONNECTIONS: usize = 4;

/// The expiry of every benchmark lot (GS1 `YYMMDD`): far enough to never expire mid-run.
pub const BENCH_EXPIRY: &str = "391231";

/// The measured targets of this machine class.
pub mod targets {
    /// Capture of single-unit events, as a share of the Ed25519 batch-verification ceiling.
    pub const CAPTURE_RATIO_MIN: f64 = 0.30;
    /// Units commissioned per second.
    pub const COMMISSION_UNITS_PER_S_MIN: f64 = 100_000.0;
    /// Verifications per second the latency targets are specified at.
    pub const VERIFY_RATE_PER_S: u32 = 5_000;
    /// Verification latency, median and 99th percentile, milliseconds.
    pub const VERIFY_P50_MS_MAX: f64 = 1.0;
    /// See [`VERIFY_P50_MS_MAX`].
    pub const VERIFY_P99_MS_MAX: f64 = 5.0;
    /// The full log size, entries: the size the memory, disk, restart and verification at
    /// scale targets are defined at.
    pub const SCALE_ENTRIES: u64 = 10_000_000;
    /// At the full log size the latencies may double.
    pub const AT_SCALE_FACTOR: f64 = 2.0;
    /// Disk per single-unit event, bytes.
    pub const BYTES_PER_EVENT_MAX: f64 = 600.0;
    /// Server memory at the full log size, MiB.
    pub const SERVER_RSS_MIB_MAX: f64 = 512.0;
    /// From restart to serving at the full log size, seconds.
    pub const RESTART_S_MAX: f64 = 5.0;
}

/// One capture configuration: events per request and requests in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Events per request.
    pub batch: usize,
    /// Requests in flight (lanes).
    pub concurrency: usize,
    /// Single-unit events to send.
    pub events: u64,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The reduced run.
    pub short: bool,
    /// A server started elsewhere; by default one is started here.
    pub external: Option<ExternalServer>,
    /// Where to put the temporary data directory (default: the system's temporary directory).
    pub work_parent: Option<PathBuf>,
    /// How long each ceiling measurement runs.
    pub ceiling_duration: Duration,
    /// Lots of 10,000 units in the commission phase.
    pub commission_lots: u64,
    /// The capture configuration the headline figure is measured with.
    pub capture: CaptureConfig,
    /// Further capture configurations, for the table.
    pub capture_sweep: Vec<CaptureConfig>,
    /// Verifications per second.
    pub verify_rate_per_s: u32,
    /// How long each verification phase runs.
    pub verify_duration: Duration,
    /// Grow the log to this many entries.
    pub scale_events: u64,
    /// Stop growing after this long, whatever the size reached.
    pub scale_duration_max: Duration,
    /// Lanes (connections) that grow the log.
    pub growth_lanes: usize,
    /// How often to sample the log's size, memory and disk while growing.
    pub sample_every: Duration,
}

impl BenchOptions {
    /// The whole benchmark: 10^7 entries.
    pub fn full() -> BenchOptions {
        BenchOptions {
            short: false,
            external: None,
            work_parent: None,
            ceiling_duration: Duration::from_secs(3),
            commission_lots: 60,
            capture: CaptureConfig {
                batch: 100,
                concurrency: 16,
                events: 500_000,
            },
            capture_sweep: vec![
                CaptureConfig {
                    batch: 1,
                    concurrency: 64,
                    events: 100_000,
                },
                CaptureConfig {
                    batch: 10,
                    concurrency: 32,
                    events: 150_000,
                },
                CaptureConfig {
                    batch: 1_000,
                    concurrency: 4,
                    events: 250_000,
                },
            ],
            verify_rate_per_s: targets::VERIFY_RATE_PER_S,
            verify_duration: Duration::from_secs(30),
            scale_events: targets::SCALE_ENTRIES,
            scale_duration_max: Duration::from_secs(1_800),
            growth_lanes: 4,
            sample_every: Duration::from_secs(60),
        }
    }

    /// A reduced run for quick checks, under two minutes.
    pub fn short() -> BenchOptions {
        BenchOptions {
            short: true,
            ceiling_duration: Duration::from_secs(1),
            commission_lots: 10,
            capture: CaptureConfig {
                events: 60_000,
                ..BenchOptions::full().capture
            },
            capture_sweep: Vec::new(),
            verify_duration: Duration::from_secs(5),
            scale_events: 300_000,
            scale_duration_max: Duration::from_secs(25),
            sample_every: Duration::from_secs(5),
            ..BenchOptions::full()
        }
    }
}

/// Figures gathered along the run, printed at the end as one JSON object.
#[derive(Debug, Default)]
pub(crate) struct Figures(Map<String, Value>);

impl Figures {
    pub(crate) fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.0.insert(key.to_owned(), value.into());
    }
}

/// What a run printed: every figure, and the judgement of every target.
#[derive(Debug, Clone)]
pub struct Report {
    /// The figures, as printed last as one JSON line.
    pub summary: Value,
    /// Met, missed or not measured, per target; whether the run fails.
    pub judgements: Judgements,
}

/// Runs the benchmark, printing progress to `out`, then each target's judgement and, last,
/// the figures as one JSON line.
pub async fn run(options: &BenchOptions, out: &mut dyn Write) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut figures = Figures::default();
    let mut measured = Measurements::default();
    figures.set("short", options.short);
    figures.set("started_unix_s", crate::circuit::now_unix_ms() / 1_000);
    // Other work on the machine skews every figure: say how busy it was.
    figures.set("load_average_1m_start", load_average());
    let ceiling = phases::measure_ceiling(options, out, &mut figures).await?;
    let (mut target, circuit) = Target::start(
        options.external.as_ref(),
        options.work_parent.as_deref(),
        out,
    )?;
    let mut phases = phases::Run {
        options,
        target: &mut target,
        circuit: Arc::new(circuit),
        ceiling,
        expiry: BENCH_EXPIRY
            .parse()
            .expect("the benchmark expiry is a GS1 date"),
        out: &mut *out,
        figures: &mut figures,
        measured: &mut measured,
    };
    let finished = phases.all().await;
    if let Err(error) = finished {
        // The server answers before it logs why it failed: give it a moment to write.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let log = target.log_tail(SERVER_LOG_LINES).unwrap_or_default();
        return Err(error.context(format!("the server's last log lines:\n{log}")));
    }
    figures.set("run_s", round(started.elapsed().as_secs_f64(), 1));
    figures.set("load_average_1m_end", load_average());
    let judgements = judge::judge(&measured);
    judgements.print(out)?;
    record_judgements(&mut figures, &judgements);
    let summary = Value::Object(figures.0);
    writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    Ok(Report {
        summary,
        judgements,
    })
}

/// Sets `targets_met` (each judged target, met or not; absent when not measured),
/// `targets_not_measured` (each target not measured, with why) and `wrong_verdicts`.
fn record_judgements(figures: &mut Figures, judgements: &Judgements) {
    figures.set("targets_met", judgements.met_json());
    figures.set("targets_not_measured", judgements.not_measured_json());
    figures.set("wrong_verdicts", judgements.wrong_verdicts);
}

/// The machine's one-minute load average, from `/proc/loadavg`; `null` when unreadable.
fn load_average() -> Value {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(Value::Null, Value::from)
}

/// `value` rounded to `digits` decimals, for a readable JSON line.
pub(crate) fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_run_is_smaller_in_every_phase() {
        let (full, short) = (BenchOptions::full(), BenchOptions::short());
        assert!(short.short && !full.short);
        assert!(short.commission_lots < full.commission_lots);
        assert!(short.capture.events < full.capture.events);
        assert!(short.capture_sweep.is_empty());
        assert!(short.verify_duration < full.verify_duration);
        assert!(short.scale_events < full.scale_events);
        assert_eq!(full.scale_events, 10_000_000);
    }

    #[track_caller]
    fn check_round(value: f64, digits: i32, expected: f64) {
        assert_eq!(round(value, digits), expected);
    }

    #[test]
    fn rounding_for_the_summary() {
        check_round(1234.5678, 0, 1235.0);
        check_round(1234.5678, 2, 1234.57);
        check_round(0.0004, 3, 0.0);
    }
}
