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
pub mod load;
pub mod scale;
pub mod server;
pub mod stats;
pub mod target;
pub mod verify_load;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use isnad_core::gs1::Gs1Date;
use serde_json::{Map, Value, json};

use crate::circuit::{Circuit, Unsigned, Who};
use ceiling::Ceiling;
use isnad_client::Client;
use load::{
    JOURNEY_STAGES, LOT_UNITS, LaneOutcome, UnitPool, bench_lots, connect_many, journeys, route,
    run_lanes, signed_requests, submit_in_order,
};
use scale::{Growth, GrowthSample};
use target::{ExternalServer, Target};
use verify_load::{Population, ScanKind, VerifyOutcome};

/// Lots per commission request in the commission phase.
pub const COMMISSION_LOTS_PER_REQUEST: usize = 5;

/// Commission requests in flight at once.
pub const COMMISSION_CONCURRENCY: usize = 2;

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
    /// Verification latency, median and 99th percentile, milliseconds.
    pub const VERIFY_P50_MS_MAX: f64 = 1.0;
    /// See [`VERIFY_P50_MS_MAX`].
    pub const VERIFY_P99_MS_MAX: f64 = 5.0;
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
            verify_rate_per_s: 5_000,
            verify_duration: Duration::from_secs(30),
            scale_events: 10_000_000,
            scale_duration_max: Duration::from_secs(1_800),
            growth_lanes: 4,
            sample_every: Duration::from_secs(15),
        }
    }

    /// A reduced run for quick checks, under two minutes.
    pub fn short() -> BenchOptions {
        BenchOptions {
            short: true,
            ceiling_duration: Duration::from_secs(1),
            commission_lots: 10,
            capture: CaptureConfig {
                events: 100_000,
                ..BenchOptions::full().capture
            },
            capture_sweep: Vec::new(),
            verify_duration: Duration::from_secs(5),
            scale_events: 300_000,
            scale_duration_max: Duration::from_secs(30),
            sample_every: Duration::from_secs(5),
            ..BenchOptions::full()
        }
    }
}

/// Figures gathered along the run, printed at the end as one JSON object.
#[derive(Debug, Default)]
struct Figures(Map<String, Value>);

impl Figures {
    fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.0.insert(key.to_owned(), value.into());
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.0.get(key).and_then(Value::as_f64)
    }
}

/// Runs the benchmark, printing progress to `out`; returns the figures (also printed last,
/// as one JSON line).
pub async fn run(options: &BenchOptions, out: &mut dyn Write) -> anyhow::Result<Value> {
    let started = Instant::now();
    let mut figures = Figures::default();
    figures.set("short", options.short);
    figures.set("started_unix_s", crate::circuit::now_unix_ms() / 1_000);
    let ceiling = measure_ceiling(options, out, &mut figures).await?;
    let (mut target, circuit) = Target::start(
        options.external.as_ref(),
        options.work_parent.as_deref(),
        out,
    )?;
    let circuit = Arc::new(circuit);
    let address = target.address();
    let client = Client::connect(&crate::url(&address))
        .await
        .context("cannot connect to the server")?;
    set_up(&circuit, &client).await?;
    let expiry: Gs1Date = BENCH_EXPIRY
        .parse()
        .expect("the benchmark expiry is a GS1 date");
    let mut pool = UnitPool::default();
    let lots_needed = capture_lots_needed(options);
    commission_phase(
        &circuit,
        &address,
        options,
        lots_needed,
        expiry,
        &mut pool,
        &ceiling,
        out,
        &mut figures,
    )
    .await?;
    let next_lot = 1 + options.commission_lots.max(lots_needed);
    capture_phases(
        &circuit,
        &address,
        options,
        &mut pool,
        &ceiling,
        out,
        &mut figures,
    )
    .await?;
    let population = Arc::new(population(&circuit, &client, next_lot, expiry).await?);
    let outcome = verify_phase(&address, options, population.clone(), out).await?;
    record_verify(&mut figures, "verify", &outcome, &ceiling);
    grow_phase(
        circuit.clone(),
        &target,
        options,
        next_lot + 2,
        expiry,
        out,
        &mut figures,
    )
    .await?;
    let outcome = verify_phase(&address, options, population, out).await?;
    record_verify(&mut figures, "verify_at_scale", &outcome, &ceiling);
    finish(&mut target, &client, out, &mut figures).await?;
    figures.set("run_s", round(started.elapsed().as_secs_f64(), 1));
    judge(&mut figures, out)?;
    let summary = Value::Object(figures.0);
    writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    Ok(summary)
}

async fn measure_ceiling(
    options: &BenchOptions,
    out: &mut dyn Write,
    figures: &mut Figures,
) -> anyhow::Result<Ceiling> {
    let duration = options.ceiling_duration;
    let ceiling = tokio::task::spawn_blocking(move || ceiling::measure(duration)).await?;
    writeln!(
        out,
        "ceiling: Ed25519 batch verification {:.0}/s on {} cores (with the ledger's strict checks {:.0}/s)",
        ceiling.batch_verify_per_s, ceiling.threads, ceiling.envelope_batch_verify_per_s
    )?;
    figures.set("cores", ceiling.threads);
    figures.set(
        "ed25519_batch_verify_per_s",
        round(ceiling.batch_verify_per_s, 0),
    );
    figures.set(
        "ed25519_strict_batch_verify_per_s",
        round(ceiling.envelope_batch_verify_per_s, 0),
    );
    Ok(ceiling)
}

/// Admits the participants and registers the products.
async fn set_up(circuit: &Circuit, client: &Client) -> anyhow::Result<()> {
    let mut events: Vec<Unsigned> = Who::ALL[1..]
        .iter()
        .map(|who| circuit.admit(*who))
        .collect();
    events.extend(
        circuit
            .products
            .iter()
            .map(|product| circuit.register_product(product)),
    );
    submit_in_order(circuit, client, &events, events.len()).await
}

/// Lots the capture phases take their units from.
fn capture_lots_needed(options: &BenchOptions) -> u64 {
    let configs = std::iter::once(&options.capture).chain(&options.capture_sweep);
    configs
        .map(|config| {
            // Each lane takes its units from one manufacturer's lots: half the lots each.
            let units = config.events.div_ceil(JOURNEY_STAGES as u64);
            2 * units.div_ceil(2 * u64::from(LOT_UNITS)) + 2
        })
        .sum()
}

#[allow(clippy::too_many_arguments)]
async fn commission_phase(
    circuit: &Circuit,
    address: &str,
    options: &BenchOptions,
    lots_needed: u64,
    expiry: Gs1Date,
    pool: &mut UnitPool,
    ceiling: &Ceiling,
    out: &mut dyn Write,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let lots = bench_lots(circuit, 1, options.commission_lots.max(lots_needed), expiry);
    let events: Vec<Unsigned> = lots.iter().map(|lot| circuit.commission(lot)).collect();
    let requests = signed_requests(circuit, &events, COMMISSION_LOTS_PER_REQUEST);
    let mut lanes = vec![Vec::new(); COMMISSION_CONCURRENCY];
    for (index, request) in requests.into_iter().enumerate() {
        lanes[index % COMMISSION_CONCURRENCY].push(request);
    }
    let clients = connect_many(address, COMMISSION_CONCURRENCY).await?;
    let outcome = run_lanes(&clients, lanes).await?;
    let units = lots.len() as f64 * f64::from(LOT_UNITS);
    let per_s = units / outcome.elapsed.as_secs_f64();
    writeln!(
        out,
        "commission: {units:.0} units in {} lots in {:.2} s: {per_s:.0} units/s ({:.2} x ceiling)",
        lots.len(),
        outcome.elapsed.as_secs_f64(),
        per_s / ceiling.batch_verify_per_s
    )?;
    figures.set("commission_units_per_s", round(per_s, 0));
    figures.set(
        "commission_ratio_to_ceiling",
        round(per_s / ceiling.batch_verify_per_s, 3),
    );
    figures.set(
        "commission_request_p50_ms",
        round(outcome.request_latency.p50_ms, 2),
    );
    lots.into_iter().for_each(|lot| pool.add(lot));
    Ok(())
}

async fn capture_phases(
    circuit: &Circuit,
    address: &str,
    options: &BenchOptions,
    pool: &mut UnitPool,
    ceiling: &Ceiling,
    out: &mut dyn Write,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let headline = capture(circuit, address, &options.capture, pool, ceiling, out).await?;
    let per_s = headline.events_per_s();
    figures.set("capture_events_per_s", round(per_s, 0));
    figures.set(
        "capture_ratio_to_ceiling",
        round(per_s / ceiling.batch_verify_per_s, 3),
    );
    figures.set("capture_batch", options.capture.batch);
    figures.set("capture_concurrency", options.capture.concurrency);
    figures.set(
        "capture_request_p50_ms",
        round(headline.request_latency.p50_ms, 2),
    );
    figures.set(
        "capture_request_p99_ms",
        round(headline.request_latency.p99_ms, 2),
    );
    let mut sweep = Vec::new();
    for config in &options.capture_sweep {
        let outcome = capture(circuit, address, config, pool, ceiling, out).await?;
        sweep.push(json!({
            "batch": config.batch,
            "concurrency": config.concurrency,
            "events_per_s": round(outcome.events_per_s(), 0),
            "ratio_to_ceiling": round(outcome.events_per_s() / ceiling.batch_verify_per_s, 3),
            "request_p50_ms": round(outcome.request_latency.p50_ms, 2),
            "request_p99_ms": round(outcome.request_latency.p99_ms, 2),
        }));
    }
    figures.set("capture_sweep", sweep);
    Ok(())
}

/// One capture run: single-unit journeys, pre-signed, sent by `concurrency` lanes.
async fn capture(
    circuit: &Circuit,
    address: &str,
    config: &CaptureConfig,
    pool: &mut UnitPool,
    ceiling: &Ceiling,
    out: &mut dyn Write,
) -> anyhow::Result<LaneOutcome> {
    let lanes_count = config.concurrency.max(1);
    let units_per_lane = config
        .events
        .div_ceil(JOURNEY_STAGES as u64)
        .div_ceil(lanes_count as u64);
    let chunk = (config.batch / JOURNEY_STAGES).max(1);
    let mut lanes = Vec::with_capacity(lanes_count);
    for lane in 0..lanes_count {
        let route = route(lane);
        let Some(units) = pool.take(route.0, units_per_lane) else {
            bail!("not enough commissioned units for capture lane {lane}");
        };
        let events = journeys(circuit, route, &units, chunk, JOURNEY_STAGES);
        lanes.push(signed_requests(circuit, &events, config.batch));
    }
    let clients = connect_many(address, lanes_count.min(VERIFY_CONNECTIONS * 2)).await?;
    let outcome = run_lanes(&clients, lanes).await?;
    writeln!(
        out,
        "capture: batch {} x {} in flight: {} events in {:.2} s: {:.0} events/s ({:.2} x ceiling), request p50 {:.2} ms p99 {:.2} ms",
        config.batch,
        lanes_count,
        outcome.events,
        outcome.elapsed.as_secs_f64(),
        outcome.events_per_s(),
        outcome.events_per_s() / ceiling.batch_verify_per_s,
        outcome.request_latency.p50_ms,
        outcome.request_latency.p99_ms
    )?;
    Ok(outcome)
}

/// Units in every state the verification mix scans, with their labels: lot `first_lot`
/// (first manufacturer, to the first hospital) and lot `first_lot + 1` (second
/// manufacturer), recalled.
async fn population(
    circuit: &Circuit,
    client: &Client,
    first_lot: u64,
    expiry: Gs1Date,
) -> anyhow::Result<Population> {
    let lots = bench_lots(circuit, first_lot, 2, expiry);
    let (main, recalled) = (&lots[0], &lots[1]);
    let units: Vec<_> = main.units().take(3_000).collect();
    let route = (main.manufacturer, Who::Hospital1);
    let mut events: Vec<Unsigned> = lots.iter().map(|lot| circuit.commission(lot)).collect();
    events.extend(journeys(circuit, route, &units[..2_000], 200, 4));
    events.extend(journeys(
        circuit,
        route,
        &units[2_000..2_500],
        200,
        JOURNEY_STAGES,
    ));
    events.extend(journeys(circuit, route, &units[2_500..], 200, 1));
    events.push(circuit.recall(recalled.manufacturer, recalled, "benchmark recall"));
    submit_in_order(circuit, client, &events, 1_000).await?;
    let site = |who: Who| circuit.participant(who).site().to_string();
    let labels = |range: std::ops::Range<u64>, at: String| -> Vec<(String, String)> {
        range
            .map(|position| (main.label(&main.unit(position)), at.clone()))
            .collect()
    };
    let recalled_labels = (0..500)
        .map(|position| {
            (
                recalled.label(&recalled.unit(position)),
                site(recalled.manufacturer),
            )
        })
        .collect();
    Ok(Population {
        scans: vec![
            (ScanKind::Genuine, labels(0..2_000, site(Who::Hospital1))),
            (
                ScanKind::Diverted,
                labels(0..2_000, circuit.pharmacy_site.to_string()),
            ),
            (ScanKind::Used, labels(2_000..2_500, site(Who::Hospital1))),
            (
                ScanKind::InTransit,
                labels(2_500..3_000, site(Who::Distributor)),
            ),
            (ScanKind::Recalled, recalled_labels),
            (
                ScanKind::Unknown,
                labels(20_000..22_000, site(Who::Hospital1)),
            ),
        ],
    })
}

async fn verify_phase(
    address: &str,
    options: &BenchOptions,
    population: Arc<Population>,
    out: &mut dyn Write,
) -> anyhow::Result<VerifyOutcome> {
    let clients = connect_many(address, VERIFY_CONNECTIONS).await?;
    let outcome = verify_load::run(
        &clients,
        population,
        options.verify_rate_per_s,
        options.verify_duration,
    )
    .await;
    writeln!(
        out,
        "verify: {} scheduled at {}/s, {} answered ({:.0}/s), p50 {:.3} ms p99 {:.3} ms p99.9 {:.3} ms max {:.1} ms, {} wrong verdicts, {} errors, {} dropped, {:.0} bytes per answer",
        outcome.scheduled,
        options.verify_rate_per_s,
        outcome.answered,
        outcome.answered_per_s,
        outcome.latency.p50_ms,
        outcome.latency.p99_ms,
        outcome.latency.p999_ms,
        outcome.latency.max_ms,
        outcome.wrong_verdicts,
        outcome.errors,
        outcome.dropped,
        outcome.answer_bytes_mean
    )?;
    Ok(outcome)
}

fn record_verify(figures: &mut Figures, prefix: &str, outcome: &VerifyOutcome, ceiling: &Ceiling) {
    figures.set(
        &format!("{prefix}_p50_ms"),
        round(outcome.latency.p50_ms, 3),
    );
    figures.set(
        &format!("{prefix}_p99_ms"),
        round(outcome.latency.p99_ms, 3),
    );
    figures.set(
        &format!("{prefix}_p999_ms"),
        round(outcome.latency.p999_ms, 3),
    );
    figures.set(
        &format!("{prefix}_rate_per_s"),
        round(outcome.answered_per_s, 0),
    );
    figures.set(
        &format!("{prefix}_ratio_to_ceiling"),
        round(outcome.answered_per_s / ceiling.batch_verify_per_s, 3),
    );
    figures.set(&format!("{prefix}_wrong_verdicts"), outcome.wrong_verdicts);
    figures.set(
        &format!("{prefix}_errors"),
        outcome.errors + outcome.dropped,
    );
    figures.set(
        &format!("{prefix}_answer_bytes_mean"),
        round(outcome.answer_bytes_mean, 0),
    );
}

async fn grow_phase(
    circuit: Arc<Circuit>,
    target: &Target,
    options: &BenchOptions,
    first_lot: u64,
    expiry: Gs1Date,
    out: &mut dyn Write,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let address = target.address();
    let client = Client::connect(&crate::url(&address)).await?;
    let size_before = crate::tree_size(&client).await?;
    let disk_before = target.disk_bytes();
    let started = Instant::now();
    let growth = Arc::new(Growth {
        circuit,
        expiry,
        next_lot: AtomicU64::new(first_lot),
        events: AtomicU64::new(0),
        events_target: options.scale_events.saturating_sub(size_before),
        deadline: started + options.scale_duration_max,
    });
    let clients = connect_many(&address, options.growth_lanes).await?;
    let growing = scale::grow(growth, &clients);
    tokio::pin!(growing);
    let mut ticker = tokio::time::interval(options.sample_every);
    let mut samples: Vec<GrowthSample> = Vec::new();
    let added = loop {
        tokio::select! {
            result = &mut growing => break result?,
            _ = ticker.tick() => {
                let sample = sample(target, &client, started, samples.last()).await?;
                print_sample(out, &sample)?;
                samples.push(sample);
            }
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let last = sample(target, &client, started, samples.last()).await?;
    print_sample(out, &last)?;
    samples.push(last);
    writeln!(
        out,
        "growth: {added} events in {elapsed:.0} s ({:.0} events/s), log at {} entries",
        added as f64 / elapsed,
        last.tree_size
    )?;
    figures.set("scale_target_events", options.scale_events);
    figures.set("scale_tree_size", last.tree_size);
    figures.set(
        "scale_growth_events_per_s",
        round(added as f64 / elapsed, 0),
    );
    if let (Some(before), Some(after)) = (disk_before, last.disk_bytes) {
        figures.set(
            "bytes_per_event_on_disk_growth",
            round(after.saturating_sub(before) as f64 / added.max(1) as f64, 0),
        );
    }
    let trend: Vec<Value> = samples
        .iter()
        .map(|s| json!({"s": round(s.elapsed_s, 0), "tree_size": s.tree_size, "events_per_s": round(s.events_per_s, 0), "rss_mib": s.rss_mib.map(|m| round(m, 0)), "disk_bytes": s.disk_bytes}))
        .collect();
    figures.set("scale_trend", trend);
    Ok(())
}

async fn sample(
    target: &Target,
    client: &Client,
    started: Instant,
    previous: Option<&GrowthSample>,
) -> anyhow::Result<GrowthSample> {
    let tree_size = crate::tree_size(client).await?;
    let elapsed_s = started.elapsed().as_secs_f64();
    let events_per_s = match previous {
        Some(previous) if elapsed_s > previous.elapsed_s => {
            (tree_size - previous.tree_size) as f64 / (elapsed_s - previous.elapsed_s)
        }
        _ => 0.0,
    };
    Ok(GrowthSample {
        elapsed_s,
        tree_size,
        events_per_s,
        rss_mib: target.memory().map(|memory| memory.rss_kib as f64 / 1024.0),
        disk_bytes: target.disk_bytes(),
    })
}

fn print_sample(out: &mut dyn Write, sample: &GrowthSample) -> std::io::Result<()> {
    let rss = sample
        .rss_mib
        .map_or_else(|| "?".to_owned(), |mib| format!("{mib:.0}"));
    let disk = sample.disk_bytes.map_or_else(
        || "?".to_owned(),
        |bytes| format!("{:.0}", bytes as f64 / 1_048_576.0),
    );
    writeln!(
        out,
        "growth: {:>6.0} s  {:>10} entries  {:>7.0} events/s  server RSS {rss} MiB  disk {disk} MiB",
        sample.elapsed_s, sample.tree_size, sample.events_per_s
    )
}

/// Memory and disk at the end, then a crash and a restart on the same data.
async fn finish(
    target: &mut Target,
    client: &Client,
    out: &mut dyn Write,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    if !target.is_running() {
        bail!("the server stopped during the run");
    }
    let tree_size = crate::tree_size(client).await?;
    figures.set("tree_size", tree_size);
    if let Some(memory) = target.memory() {
        figures.set(
            "server_rss_mib_max",
            round(memory.peak_rss_kib as f64 / 1024.0, 0),
        );
        figures.set(
            "server_rss_mib_end",
            round(memory.rss_kib as f64 / 1024.0, 0),
        );
    }
    if let Some(bytes) = target.disk_bytes() {
        figures.set("disk_bytes", bytes);
        figures.set(
            "bytes_per_event_on_disk",
            round(bytes as f64 / tree_size as f64, 0),
        );
    }
    if let Some((serving_in, size)) = target.restart().await? {
        writeln!(
            out,
            "restart: killed with SIGKILL at {tree_size} entries; serving again in {:.2} s with {size} entries",
            serving_in.as_secs_f64()
        )?;
        if size != tree_size {
            bail!("the restarted server has {size} entries, not the {tree_size} acknowledged");
        }
        figures.set("restart_to_serving_s", round(serving_in.as_secs_f64(), 2));
    }
    Ok(())
}

/// Sets `targets_met`: each target of this machine class, met or not (absent when not
/// measured).
fn judge(figures: &mut Figures, out: &mut dyn Write) -> std::io::Result<()> {
    use targets::*;
    let at_most = |key: &str, max: f64| figures.number(key).map(|value| value <= max);
    let at_least = |key: &str, min: f64| figures.number(key).map(|value| value >= min);
    let checks = [
        (
            "capture",
            at_least("capture_ratio_to_ceiling", CAPTURE_RATIO_MIN),
        ),
        (
            "commission",
            at_least("commission_units_per_s", COMMISSION_UNITS_PER_S_MIN),
        ),
        ("verify_p50", at_most("verify_p50_ms", VERIFY_P50_MS_MAX)),
        ("verify_p99", at_most("verify_p99_ms", VERIFY_P99_MS_MAX)),
        (
            "verify_at_scale_p50",
            at_most(
                "verify_at_scale_p50_ms",
                VERIFY_P50_MS_MAX * AT_SCALE_FACTOR,
            ),
        ),
        (
            "verify_at_scale_p99",
            at_most(
                "verify_at_scale_p99_ms",
                VERIFY_P99_MS_MAX * AT_SCALE_FACTOR,
            ),
        ),
        (
            "bytes_per_event",
            at_most("bytes_per_event_on_disk", BYTES_PER_EVENT_MAX),
        ),
        (
            "server_rss",
            at_most("server_rss_mib_max", SERVER_RSS_MIB_MAX),
        ),
        ("restart", at_most("restart_to_serving_s", RESTART_S_MAX)),
    ];
    let mut met = Map::new();
    for (name, verdict) in checks {
        if let Some(verdict) = verdict {
            writeln!(
                out,
                "target {name}: {}",
                if verdict { "met" } else { "MISSED" }
            )?;
            met.insert(name.to_owned(), Value::Bool(verdict));
        }
    }
    figures.set("targets_met", Value::Object(met));
    Ok(())
}

/// `value` rounded to `digits` decimals, for a readable JSON line.
fn round(value: f64, digits: i32) -> f64 {
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

    #[test]
    fn enough_lots_are_commissioned_for_every_capture_lane() {
        let circuit = Circuit::generate().expect("randomness");
        for options in [BenchOptions::full(), BenchOptions::short()] {
            let mut pool = UnitPool::default();
            let expiry = BENCH_EXPIRY.parse().expect("date");
            for lot in bench_lots(&circuit, 1, capture_lots_needed(&options), expiry) {
                pool.add(lot);
            }
            for config in std::iter::once(&options.capture).chain(&options.capture_sweep) {
                let per_lane = config
                    .events
                    .div_ceil(5)
                    .div_ceil(config.concurrency as u64);
                for lane in 0..config.concurrency {
                    assert!(
                        pool.take(route(lane).0, per_lane).is_some(),
                        "{config:?} lane {lane}"
                    );
                }
            }
        }
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

    #[test]
    fn targets_are_judged_only_when_measured() {
        let mut figures = Figures::default();
        figures.set("capture_ratio_to_ceiling", 0.31);
        figures.set("verify_p99_ms", 6.0);
        let mut out = Vec::new();
        judge(&mut figures, &mut out).expect("writing to memory");
        let met = figures.0["targets_met"]
            .as_object()
            .expect("an object")
            .clone();
        assert_eq!(met.len(), 2);
        assert_eq!(met["capture"], Value::Bool(true));
        assert_eq!(met["verify_p99"], Value::Bool(false));
        assert!(
            String::from_utf8(out)
                .expect("text")
                .contains("target verify_p99: MISSED")
        );
    }
}
