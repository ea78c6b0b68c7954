//! The phases of a run, in order: set-up, commission, capture, verification, growth,
//! verification again, then memory, disk and a restart. Each phase prints a line and records
//! its figures, with the CPU time the server and this client spent on it.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::{Context as _, bail};
use isnad_client::Client;
use isnad_core::gs1::Gs1Date;
use serde_json::{Value, json};

use crate::circuit::{Circuit, Unsigned, Who};

use super::ceiling::{self, Ceiling};
use super::judge::{Measurements, VerifyRun};
use super::load::{
    JOURNEY_STAGES, LOT_UNITS, LaneOutcome, UnitPool, bench_lots, connect_many, journeys, route,
    run_lanes, signed_requests, submit_in_order,
};
use super::scale::{self, Growth, GrowthSample};
use super::server;
use super::target::Target;
use super::verify_load::{self, Population, ScanKind, VerifyOutcome};
use super::{
    BenchOptions, COMMISSION_CONCURRENCY, COMMISSION_LOTS_PER_REQUEST, CaptureConfig, Figures,
    VERIFY_CONNECTIONS, round,
};

/// Measures the ceiling before the server starts, so that nothing else competes.
pub(super) async fn measure_ceiling(
    options: &BenchOptions,
    out: &mut dyn Write,
    figures: &mut Figures,
) -> anyhow::Result<Ceiling> {
    let duration = options.ceiling_duration;
    let ceiling = tokio::task::spawn_blocking(move || ceiling::measure(duration)).await?;
    writeln!(
        out,
        "ceiling: Ed25519 batch verification {:.0}/s on {} cores (with the ledger's strict \
         checks {:.0}/s)",
        ceiling.batch_verify_per_s, ceiling.threads, ceiling.envelope_batch_verify_per_s
    )?;
    figures.set("cores", ceiling.threads);
    figures.set(
        "ed25519_batch_verify_per_s",
        round(ceiling.batch_verify_per_s, 0),
    );
    let strict = round(ceiling.envelope_batch_verify_per_s, 0);
    figures.set("ed25519_strict_batch_verify_per_s", strict);
    Ok(ceiling)
}

/// CPU time spent by the server and by this client since a phase started.
struct CpuMeter {
    server_s: Option<f64>,
    client_s: Option<f64>,
}

impl CpuMeter {
    fn start(target: &Target) -> CpuMeter {
        CpuMeter {
            server_s: target.cpu_seconds(),
            client_s: server::cpu_seconds(std::process::id()).ok(),
        }
    }

    /// Records `{prefix}_server_cpu_us` and `{prefix}_client_cpu_us`: CPU microseconds per
    /// item (event, unit or answer) since the start.
    fn record(&self, target: &Target, items: u64, prefix: &str, figures: &mut Figures) {
        let per_item = |before: Option<f64>, now: Option<f64>| {
            let spent = now? - before?;
            Some(round(spent * 1e6 / items.max(1) as f64, 1))
        };
        let client_now = server::cpu_seconds(std::process::id()).ok();
        if let Some(us) = per_item(self.server_s, target.cpu_seconds()) {
            figures.set(&format!("{prefix}_server_cpu_us"), us);
        }
        if let Some(us) = per_item(self.client_s, client_now) {
            figures.set(&format!("{prefix}_client_cpu_us"), us);
        }
    }
}

/// What every phase shares.
pub(super) struct Run<'a> {
    pub(super) options: &'a BenchOptions,
    pub(super) target: &'a mut Target,
    pub(super) circuit: Arc<Circuit>,
    pub(super) ceiling: Ceiling,
    /// The expiry of every benchmark lot.
    pub(super) expiry: Gs1Date,
    pub(super) out: &'a mut dyn Write,
    pub(super) figures: &'a mut Figures,
    /// What the targets are judged on.
    pub(super) measured: &'a mut Measurements,
}

impl Run<'_> {
    /// Every phase after the ceiling, in order.
    pub(super) async fn all(&mut self) -> anyhow::Result<()> {
        let address = self.target.address();
        let client = Client::connect(&crate::url(&address))
            .await
            .context("cannot connect to the server")?;
        self.set_up(&client).await?;
        let mut pool = UnitPool::default();
        let lots = self
            .options
            .commission_lots
            .max(capture_lots_needed(self.options));
        self.commission(lots, &mut pool).await?;
        self.capture_all(&mut pool).await?;
        let population = Arc::new(self.population(&client, lots + 1).await?);
        let verify = self.verify(&client, population.clone(), "verify").await?;
        self.measured.verify = Some(verify);
        self.grow(lots + 3).await?;
        let at_scale = self.verify(&client, population, "verify_at_scale").await?;
        self.measured.verify_at_scale = Some(at_scale);
        self.finish(&client).await
    }

    /// Admits the participants and registers the products.
    async fn set_up(&self, client: &Client) -> anyhow::Result<()> {
        let circuit = &self.circuit;
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

    /// Commissions `count` lots of 10,000 units, numbered from 1, into `pool`.
    async fn commission(&mut self, count: u64, pool: &mut UnitPool) -> anyhow::Result<()> {
        let lots = bench_lots(&self.circuit, 1, count, self.expiry);
        let events: Vec<Unsigned> = lots
            .iter()
            .map(|lot| self.circuit.commission(lot))
            .collect();
        let requests = signed_requests(&self.circuit, &events, COMMISSION_LOTS_PER_REQUEST);
        let mut lanes = vec![Vec::new(); COMMISSION_CONCURRENCY];
        for (index, request) in requests.into_iter().enumerate() {
            lanes[index % COMMISSION_CONCURRENCY].push(request);
        }
        let clients = connect_many(&self.target.address(), COMMISSION_CONCURRENCY).await?;
        let meter = CpuMeter::start(self.target);
        let outcome = run_lanes(&clients, lanes).await?;
        let units = lots.len() as u64 * u64::from(LOT_UNITS);
        meter.record(self.target, units, "commission", self.figures);
        let per_s = units as f64 / outcome.elapsed.as_secs_f64();
        let ratio = per_s / self.ceiling.batch_verify_per_s;
        writeln!(
            self.out,
            "commission: {units} units in {} lots in {:.2} s: {per_s:.0} units/s ({ratio:.2} x ceiling)",
            lots.len(),
            outcome.elapsed.as_secs_f64(),
        )?;
        self.figures.set("commission_units_per_s", round(per_s, 0));
        self.measured.commission_units_per_s = Some(per_s);
        self.figures
            .set("commission_ratio_to_ceiling", round(ratio, 3));
        self.figures.set(
            "commission_request_p50_ms",
            round(outcome.request_latency.p50_ms, 2),
        );
        lots.into_iter().for_each(|lot| pool.add(lot));
        Ok(())
    }

    /// The headline capture configuration, then the sweep.
    async fn capture_all(&mut self, pool: &mut UnitPool) -> anyhow::Result<()> {
        let headline = self.capture(&self.options.capture, pool).await?;
        let per_s = headline.events_per_s();
        self.measured.capture_ratio_to_ceiling = Some(per_s / self.ceiling.batch_verify_per_s);
        let figures = &mut *self.figures;
        figures.set("capture_events_per_s", round(per_s, 0));
        figures.set(
            "capture_ratio_to_ceiling",
            round(per_s / self.ceiling.batch_verify_per_s, 3),
        );
        figures.set("capture_batch", self.options.capture.batch);
        figures.set("capture_concurrency", self.options.capture.concurrency);
        figures.set(
            "capture_request_p50_ms",
            round(headline.request_latency.p50_ms, 2),
        );
        figures.set(
            "capture_request_p99_ms",
            round(headline.request_latency.p99_ms, 2),
        );
        let mut sweep = Vec::new();
        for config in &self.options.capture_sweep {
            let outcome = self.capture(config, pool).await?;
            let per_s = outcome.events_per_s();
            sweep.push(json!({
                "batch": config.batch,
                "concurrency": config.concurrency,
                "events_per_s": round(per_s, 0),
                "ratio_to_ceiling": round(per_s / self.ceiling.batch_verify_per_s, 3),
                "request_p50_ms": round(outcome.request_latency.p50_ms, 2),
                "request_p99_ms": round(outcome.request_latency.p99_ms, 2),
            }));
        }
        self.figures.set("capture_sweep", sweep);
        Ok(())
    }

    /// One capture run: single-unit journeys, signed beforehand, sent by `concurrency` lanes.
    async fn capture(
        &mut self,
        config: &CaptureConfig,
        pool: &mut UnitPool,
    ) -> anyhow::Result<LaneOutcome> {
        let lanes_count = config.concurrency.max(1);
        let units = config.events.div_ceil(JOURNEY_STAGES as u64);
        let units_per_lane = units.div_ceil(lanes_count as u64);
        let chunk = (config.batch / JOURNEY_STAGES).max(1);
        let mut lanes = Vec::with_capacity(lanes_count);
        for lane in 0..lanes_count {
            let route = route(lane);
            let Some(units) = pool.take(route.0, units_per_lane) else {
                bail!("not enough commissioned units for capture lane {lane}");
            };
            let events = journeys(&self.circuit, route, &units, chunk, JOURNEY_STAGES);
            lanes.push(signed_requests(&self.circuit, &events, config.batch));
        }
        let connections = lanes_count.min(2 * VERIFY_CONNECTIONS);
        let clients = connect_many(&self.target.address(), connections).await?;
        let meter = CpuMeter::start(self.target);
        let outcome = run_lanes(&clients, lanes).await?;
        let prefix = format!("capture_b{}_c{}", config.batch, lanes_count);
        meter.record(self.target, outcome.events, &prefix, self.figures);
        writeln!(
            self.out,
            "capture: batch {} x {lanes_count} in flight: {} events in {:.2} s: {:.0} events/s \
             ({:.2} x ceiling), request p50 {:.2} ms p99 {:.2} ms",
            config.batch,
            outcome.events,
            outcome.elapsed.as_secs_f64(),
            outcome.events_per_s(),
            outcome.events_per_s() / self.ceiling.batch_verify_per_s,
            outcome.request_latency.p50_ms,
            outcome.request_latency.p99_ms
        )?;
        Ok(outcome)
    }

    /// Units in every state the verification mix scans: lot `first_lot` (first manufacturer,
    /// to the first hospital) and lot `first_lot + 1` (second manufacturer), recalled.
    async fn population(&self, client: &Client, first_lot: u64) -> anyhow::Result<Population> {
        let circuit = &self.circuit;
        let lots = bench_lots(circuit, first_lot, 2, self.expiry);
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

    /// The verification mix at the configured rate, on the log as it is (its size read over
    /// `client` first); figures are named `{prefix}_...`.
    async fn verify(
        &mut self,
        client: &Client,
        population: Arc<Population>,
        prefix: &str,
    ) -> anyhow::Result<VerifyRun> {
        let tree_size = crate::tree_size(client).await?;
        // An inspector's verifications: signed requests, which get the whole answer (an
        // anonymous one gets the verdict alone), and cost the server a signature check each.
        let inspector = self.circuit.participant(Who::Inspector);
        let clients: Vec<Client> = connect_many(&self.target.address(), VERIFY_CONNECTIONS)
            .await?
            .into_iter()
            .map(|client| {
                client.with_credentials(isnad_client::Credentials::new(
                    inspector.party,
                    inspector.signing_key.clone(),
                    server::ORIGIN,
                ))
            })
            .collect();
        let (rate, duration) = (self.options.verify_rate_per_s, self.options.verify_duration);
        let meter = CpuMeter::start(self.target);
        let outcome = verify_load::run(&clients, population, rate, duration).await;
        meter.record(self.target, outcome.answered, prefix, self.figures);
        let latency = &outcome.latency;
        writeln!(
            self.out,
            "verify: log at {tree_size} entries, {} scheduled at {rate}/s, {} answered ({:.0}/s), \
             latency from the scheduled time p50 {:.3} ms p99 {:.3} ms p99.9 {:.3} ms max \
             {:.1} ms, {} wrong verdicts, {} errors, {} timed out, {} dropped, {:.0} bytes per \
             answer",
            outcome.scheduled,
            outcome.answered,
            outcome.answered_per_s,
            latency.p50_ms,
            latency.p99_ms,
            latency.p999_ms,
            latency.max_ms,
            outcome.wrong_verdicts,
            outcome.errors,
            outcome.timeouts,
            outcome.dropped,
            outcome.answer_bytes_mean
        )?;
        self.record_verify(prefix, &outcome, tree_size);
        Ok(VerifyRun {
            rate_per_s: rate,
            tree_size,
            outcome,
        })
    }

    fn record_verify(&mut self, prefix: &str, outcome: &VerifyOutcome, tree_size: u64) {
        let ceiling = self.ceiling.batch_verify_per_s;
        let mut set =
            |name: &str, value: Value| self.figures.set(&format!("{prefix}_{name}"), value);
        set("p50_ms", round(outcome.latency.p50_ms, 3).into());
        set("p99_ms", round(outcome.latency.p99_ms, 3).into());
        set("p999_ms", round(outcome.latency.p999_ms, 3).into());
        set("rate_per_s", round(outcome.answered_per_s, 0).into());
        set(
            "ratio_to_ceiling",
            round(outcome.answered_per_s / ceiling, 3).into(),
        );
        set("tree_size", tree_size.into());
        set("scheduled", outcome.scheduled.into());
        set("answered", outcome.answered.into());
        set("wrong_verdicts", outcome.wrong_verdicts.into());
        set("errors", outcome.errors.into());
        set("timeouts", outcome.timeouts.into());
        // Not sent: the server was this far behind (see `verify_load::IN_FLIGHT_MAX`).
        set("dropped", outcome.dropped.into());
        set(
            "answer_bytes_mean",
            round(outcome.answer_bytes_mean, 0).into(),
        );
    }

    /// Grows the log to the target size (or for the longest time allowed), sampling its
    /// size, the server's memory and the disk as it goes.
    async fn grow(&mut self, first_lot: u64) -> anyhow::Result<()> {
        let address = self.target.address();
        let client = Client::connect(&crate::url(&address)).await?;
        let size_before = crate::tree_size(&client).await?;
        let disk_before = self.target.disk_bytes();
        let started = Instant::now();
        let growth = Arc::new(Growth {
            circuit: self.circuit.clone(),
            expiry: self.expiry,
            next_lot: AtomicU64::new(first_lot),
            events: AtomicU64::new(0),
            events_target: self.options.scale_events.saturating_sub(size_before),
            deadline: started + self.options.scale_duration_max,
            commissioning: tokio::sync::Semaphore::new(1),
        });
        let clients = connect_many(&address, self.options.growth_lanes).await?;
        let meter = CpuMeter::start(self.target);
        let samples = self
            .sample_while(scale::grow(growth, &clients), &client, started)
            .await?;
        let added = samples.added;
        meter.record(self.target, added, "growth", self.figures);
        let last = *samples.list.last().expect("a sample is taken at the end");
        let elapsed = started.elapsed().as_secs_f64();
        writeln!(
            self.out,
            "growth: {added} events in {elapsed:.0} s ({:.0} events/s), log at {} entries",
            added as f64 / elapsed,
            last.tree_size
        )?;
        let figures = &mut *self.figures;
        figures.set("scale_target_events", self.options.scale_events);
        figures.set("scale_tree_size", last.tree_size);
        figures.set(
            "scale_growth_events_per_s",
            round(added as f64 / elapsed, 0),
        );
        if let (Some(before), Some(after)) = (disk_before, last.disk_bytes) {
            let per_event = after.saturating_sub(before) as f64 / added.max(1) as f64;
            figures.set("bytes_per_event_on_disk_growth", round(per_event, 0));
        }
        figures.set(
            "scale_trend",
            samples.list.iter().map(sample_json).collect::<Vec<_>>(),
        );
        Ok(())
    }

    /// Samples the log every `sample_every` until `growing` ends, and once more after.
    async fn sample_while(
        &mut self,
        growing: impl Future<Output = anyhow::Result<u64>>,
        client: &Client,
        started: Instant,
    ) -> anyhow::Result<Samples> {
        tokio::pin!(growing);
        let mut ticker = tokio::time::interval(self.options.sample_every);
        let mut list: Vec<GrowthSample> = Vec::new();
        let added = loop {
            tokio::select! {
                result = &mut growing => break result?,
                _ = ticker.tick() => {
                    let sample = sample(self.target, client, started, list.last()).await?;
                    print_sample(self.out, &sample)?;
                    list.push(sample);
                }
            }
        };
        let last = sample(self.target, client, started, list.last()).await?;
        print_sample(self.out, &last)?;
        list.push(last);
        Ok(Samples { added, list })
    }

    /// Memory and disk at the end, then a crash and a restart on the same data.
    async fn finish(&mut self, client: &Client) -> anyhow::Result<()> {
        if !self.target.is_running() {
            bail!("the server stopped during the run");
        }
        let tree_size = crate::tree_size(client).await?;
        self.figures.set("tree_size", tree_size);
        self.measured.tree_size_end = Some(tree_size);
        if let Some(memory) = self.target.memory() {
            let peak_mib = memory.peak_rss_kib as f64 / 1024.0;
            self.measured.server_rss_mib_max = Some(peak_mib);
            self.figures.set("server_rss_mib_max", round(peak_mib, 0));
            self.figures.set(
                "server_rss_mib_end",
                round(memory.rss_kib as f64 / 1024.0, 0),
            );
        }
        if let Some(bytes) = self.target.disk_bytes() {
            let per_event = bytes as f64 / tree_size.max(1) as f64;
            self.measured.bytes_per_event_on_disk = Some(per_event);
            self.figures.set("disk_bytes", bytes);
            self.figures
                .set("bytes_per_event_on_disk", round(per_event, 0));
        }
        if let Some((serving_in, size)) = self.target.restart().await? {
            writeln!(
                self.out,
                "restart: killed with SIGKILL at {tree_size} entries; serving again in {:.2} s \
                 with {size} entries",
                serving_in.as_secs_f64()
            )?;
            if size != tree_size {
                bail!("the restarted server has {size} entries, not the {tree_size} acknowledged");
            }
            self.measured.restart_to_serving_s = Some(serving_in.as_secs_f64());
            self.figures
                .set("restart_to_serving_s", round(serving_in.as_secs_f64(), 2));
        }
        Ok(())
    }
}

/// Lots the capture phases take their units from.
fn capture_lots_needed(options: &BenchOptions) -> u64 {
    let configs = std::iter::once(&options.capture).chain(&options.capture_sweep);
    configs
        .map(|config| {
            // Lanes alternate between the manufacturers, each taking from its own lots: half
            // the lots each, and one more each for the rounding of units per lane.
            let units = config.events.div_ceil(JOURNEY_STAGES as u64);
            2 * units.div_ceil(2 * u64::from(LOT_UNITS)) + 2
        })
        .sum()
}

/// The samples of a growth, and the events it added.
struct Samples {
    added: u64,
    list: Vec<GrowthSample>,
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

fn sample_json(sample: &GrowthSample) -> Value {
    json!({
        "s": round(sample.elapsed_s, 0),
        "tree_size": sample.tree_size,
        "events_per_s": round(sample.events_per_s, 0),
        "rss_mib": sample.rss_mib.map(|mib| round(mib, 0)),
        "disk_bytes": sample.disk_bytes,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_lots_are_commissioned_for_every_capture_lane() {
        let circuit = Circuit::generate(crate::bench::server::ORIGIN).expect("randomness");
        for options in [BenchOptions::full(), BenchOptions::short()] {
            let mut pool = UnitPool::default();
            let expiry = super::super::BENCH_EXPIRY.parse().expect("date");
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
}
