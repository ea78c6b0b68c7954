//! `isnad-bench`: parses the command line and runs the benchmark.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use isnad_bench::bench::target::ExternalServer;
use isnad_bench::bench::{BenchOptions, CaptureConfig, run};

/// Benchmarks the Isnad ledger: capture, commission and verification against a real
/// `isnad-server` process, a log grown to 10^7 entries, and a restart. Each target is judged
/// met, missed or not measured; the last line printed is one JSON object with every figure.
/// Exits with a failure when the ledger gave a wrong verdict.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The reduced run (under two minutes), with the same JSON line.
    #[arg(long)]
    short: bool,
    /// Benchmark a server already running at this `host:port` instead of starting one. Its
    /// log must be fresh, with the regulator given by --regulator-party and --regulator-key.
    #[arg(long, requires_all = ["origin", "regulator_party", "regulator_key"])]
    server: Option<String>,
    /// The origin of the log of the server given by --server (the first line of its
    /// checkpoints): the events are signed for that log only.
    #[arg(long)]
    origin: Option<String>,
    /// The regulator party GLN of the server given by --server.
    #[arg(long)]
    regulator_party: Option<String>,
    /// The regulator's private key file (as `isnad-server init --generate-regulator-key`
    /// writes it) for the server given by --server.
    #[arg(long)]
    regulator_key: Option<PathBuf>,
    /// The process id of the server given by --server, to read its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The data directory of the server given by --server, to measure it.
    #[arg(long)]
    server_data_dir: Option<PathBuf>,
    /// Where to create the temporary data directory of the server this starts.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Events per capture request.
    #[arg(long)]
    capture_batch: Option<usize>,
    /// Capture requests in flight.
    #[arg(long)]
    capture_concurrency: Option<usize>,
    /// Single-unit events to capture.
    #[arg(long)]
    capture_events: Option<u64>,
    /// Lots of 10,000 units to commission.
    #[arg(long)]
    commission_lots: Option<u64>,
    /// Verifications per second.
    #[arg(long)]
    verify_rate: Option<u32>,
    /// Seconds each verification phase runs.
    #[arg(long)]
    verify_seconds: Option<u64>,
    /// Grow the log to this many entries.
    #[arg(long)]
    scale_events: Option<u64>,
    /// Stop growing the log after this many seconds, whatever its size.
    #[arg(long)]
    scale_seconds_max: Option<u64>,
}

impl Cli {
    fn options(self) -> anyhow::Result<BenchOptions> {
        let mut options = if self.short {
            BenchOptions::short()
        } else {
            BenchOptions::full()
        };
        let capture = options.capture;
        options.capture = CaptureConfig {
            batch: self.capture_batch.unwrap_or(capture.batch),
            concurrency: self.capture_concurrency.unwrap_or(capture.concurrency),
            events: self.capture_events.unwrap_or(capture.events),
        };
        options.commission_lots = self.commission_lots.unwrap_or(options.commission_lots);
        options.verify_rate_per_s = self.verify_rate.unwrap_or(options.verify_rate_per_s);
        if let Some(seconds) = self.verify_seconds {
            options.verify_duration = Duration::from_secs(seconds);
        }
        options.scale_events = self.scale_events.unwrap_or(options.scale_events);
        if let Some(seconds) = self.scale_seconds_max {
            options.scale_duration_max = Duration::from_secs(seconds);
        }
        options.external = external(&self)?;
        options.work_parent = self.work_dir;
        Ok(options)
    }
}

/// The server given by `--server`, if any, with its regulator's key read from its file.
fn external(cli: &Cli) -> anyhow::Result<Option<ExternalServer>> {
    let Some(address) = &cli.server else {
        return Ok(None);
    };
    let party = cli
        .regulator_party
        .as_ref()
        .context("--regulator-party is required with --server")?;
    let key_file = cli
        .regulator_key
        .as_ref()
        .context("--regulator-key is required with --server")?;
    let key = isnad_client::keys::read_private_key(key_file)?;
    let origin = cli
        .origin
        .clone()
        .context("--origin is required with --server")?;
    Ok(Some(ExternalServer {
        address: address.clone(),
        origin,
        regulator_party: party.parse().context("--regulator-party")?,
        regulator_key: key.key,
        pid: cli.server_pid,
        data_dir: cli.server_data_dir.clone(),
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let options = Cli::parse().options()?;
    let mut out = std::io::stdout();
    let report = run(&options, &mut out).await?;
    out.flush()?;
    // Everything is printed first: the figures of a run with wrong verdicts are still worth
    // reading, but the run is a failure.
    if report.judgements.run_fails() {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
