//! `isnad-server`: parses the command line, starts tracing and calls the library.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;
use clap::{Parser, Subcommand};
use isnad_core::event::PublicKey;
use isnad_server::init::{InitOptions, init};
use isnad_server::{ServeOptions, run};

/// jemalloc rather than the system allocator: a large commission makes sled build and drop
/// well over 100 MiB of node copies in a second, and glibc's malloc kept most of that as
/// fragmented free memory for good (the resident size stayed near 500 MiB while the live heap
/// was under 100 MiB); jemalloc gives it back to the system within seconds.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The Isnad ledger: signed custody events of medical devices in a verifiable log.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The data directory (log key and store).
    #[arg(
        long,
        env = "ISNAD_DATA_DIR",
        default_value = "./isnad-data",
        global = true
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
    /// Shift the server's clock by this many milliseconds: for tests of expiry. Only in
    /// builds with the `test-clock` feature, never in a production binary.
    #[cfg(feature = "test-clock")]
    #[arg(
        long,
        env = "ISNAD_CLOCK_SKEW_MS",
        default_value_t = 0,
        hide = true,
        allow_hyphen_values = true
    )]
    clock_skew_ms: i64,
    /// Where to listen for gRPC.
    #[arg(long, env = "ISNAD_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Seconds between two background scrubs, which re-hash every entry against the tree.
    #[arg(long, env = "ISNAD_SCRUB_INTERVAL_S", default_value_t = isnad_server::scrub::SCRUB_INTERVAL_DEFAULT.as_secs())]
    scrub_interval_s: u64,
    /// Connections held open at most; beyond it the server accepts none until one closes.
    #[arg(long, env = "ISNAD_CONNECTIONS_MAX", default_value_t = isnad_server::transport::CONNECTIONS_MAX_DEFAULT)]
    connections_max: usize,
    /// Requests per second per caller (an authenticated party, else a peer address); 0 turns
    /// rate limiting off.
    #[arg(long, env = "ISNAD_RATE_PER_CALLER", default_value_t = isnad_server::rate::RATE_PER_CALLER_DEFAULT)]
    rate_per_caller: u32,
    /// Requests a caller may send at once beyond its rate.
    #[arg(long, env = "ISNAD_RATE_BURST", default_value_t = isnad_server::rate::RATE_BURST_DEFAULT)]
    rate_burst: u32,
    /// Callers whose rate is tracked at once at most; beyond it the oldest is forgotten.
    #[arg(long, env = "ISNAD_RATE_CALLERS_MAX", default_value_t = isnad_server::rate::BUCKETS_MAX_DEFAULT)]
    rate_callers_max: usize,
    /// `Verify` answers computed at once at most [default: one per core].
    #[arg(long, env = "ISNAD_VERIFY_THREADS")]
    verify_threads: Option<usize>,
    /// `Verify` calls waiting for a thread at most; more are refused at once with
    /// RESOURCE_EXHAUSTED / OVERLOADED.
    #[arg(long, env = "ISNAD_VERIFY_WAITING_MAX", default_value_t = isnad_server::service::gate::VERIFY_WAITING_MAX_DEFAULT)]
    verify_waiting_max: usize,
    #[command(flatten)]
    tls: TlsArgs,
}

/// TLS (rustls). Without `--tls-cert` the server speaks plain text, and only on a loopback
/// address unless `--insecure-plaintext` is given.
#[derive(Debug, clap::Args)]
struct TlsArgs {
    /// The server's TLS certificate chain (PEM, leaf first).
    #[arg(
        long,
        env = "ISNAD_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The server's TLS private key (PEM); refused when group or others may read it.
    #[arg(
        long,
        env = "ISNAD_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Mutual TLS: every client must present a certificate that chains to a CA in this file
    /// (PEM); connections without one are refused (see --tls-client-cert-optional).
    #[arg(
        long,
        env = "ISNAD_TLS_CLIENT_CA",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_client_ca: Option<PathBuf>,
    /// With --tls-client-ca: also accept clients without a certificate (a certificate that is
    /// presented must still chain to the CA).
    #[arg(
        long,
        env = "ISNAD_TLS_CLIENT_CERT_OPTIONAL",
        requires = "tls_client_ca"
    )]
    tls_client_cert_optional: bool,
    /// Serve plain text on a non-loopback address: anyone on the network can then read and
    /// alter the traffic. Without it such a --listen is refused unless TLS is configured.
    #[arg(long, env = "ISNAD_INSECURE_PLAINTEXT")]
    insecure_plaintext: bool,
}

impl TlsArgs {
    /// The server's TLS configuration, if any, read from its files.
    fn load(&self) -> anyhow::Result<Option<tonic::transport::ServerTlsConfig>> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let files = isnad_server::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: self.tls_client_ca.clone(),
            client_cert_optional: self.tls_client_cert_optional,
        };
        Ok(Some(isnad_server::tls::load(&files).context("TLS")?))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the data directory: a new log key (mode 0600) and the genesis entry naming the
    /// regulator's keys, the trust root.
    Init {
        /// The log's origin, the first line of every checkpoint (e.g. `isnad.sante.gov.ma/log`).
        #[arg(long)]
        origin: String,
        /// The regulator's party GLN-13.
        #[arg(long)]
        regulator_party: String,
        /// The regulator's name.
        #[arg(long, default_value = "Regulator")]
        regulator_name: String,
        /// A location GLN-13 the regulator acts from; repeat for several (default: its party GLN).
        #[arg(long = "regulator-site")]
        regulator_sites: Vec<String>,
        /// A regulator public key (32 bytes, hex or base64); repeat for several.
        #[arg(
            long = "regulator-key",
            required_unless_present = "generate_regulator_key"
        )]
        regulator_keys: Vec<String>,
        /// Also generate a regulator key pair, written to this file (mode 0600), and use its
        /// public key: for trying Isnad out. In production the regulator keeps its own key.
        #[arg(long, value_name = "FILE")]
        generate_regulator_key: Option<PathBuf>,
    },
    /// Serve the ledger (the default).
    Serve,
}

fn parse_public_key(text: &str) -> anyhow::Result<PublicKey> {
    let bytes = hex::decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
        .with_context(|| format!("regulator key {text:?} is neither hex nor base64"))?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("regulator key: {} bytes, expected 32", b.len()))?;
    ed25519_dalek::VerifyingKey::from_bytes(&key)
        .context("regulator key is not a valid Ed25519 public key")?;
    Ok(PublicKey(key))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    #[cfg(feature = "test-clock")]
    if cli.clock_skew_ms != 0 {
        tracing::warn!(skew_ms = cli.clock_skew_ms, "the clock is skewed");
        isnad_server::ledger::set_clock_skew_ms(cli.clock_skew_ms);
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Init {
            origin,
            regulator_party,
            regulator_name,
            regulator_sites,
            regulator_keys,
            generate_regulator_key,
        } => {
            let mut keys = regulator_keys
                .iter()
                .map(|k| parse_public_key(k))
                .collect::<anyhow::Result<Vec<_>>>()?;
            if let Some(path) = &generate_regulator_key {
                create_key_directory(path)?;
                let key = isnad_keys::generate()?;
                isnad_keys::write_private_key(path, "regulator", &key)?;
                println!("regulator key written to {} (mode 0600)", path.display());
                keys.push(PublicKey(key.verifying_key().to_bytes()));
            }
            let regulator_party = regulator_party.parse().context("--regulator-party")?;
            let mut sites = regulator_sites
                .iter()
                .map(|s| s.parse().context("--regulator-site"))
                .collect::<anyhow::Result<Vec<_>>>()?;
            if sites.is_empty() {
                sites.push(regulator_party);
            }
            let options = InitOptions {
                data_dir: cli.data_dir.clone(),
                origin,
                regulator_party,
                regulator_name,
                regulator_sites: sites,
                regulator_keys: keys,
            };
            let outcome = init(&options)?;
            println!("created {}", cli.data_dir.display());
            println!("log verifier key: {}", outcome.log_vkey);
            Ok(())
        }
        Command::Serve => {
            // Plain text on a non-loopback address is refused (or warned about) by `run`.
            let tls = cli.tls.load()?;
            let listener = tokio::net::TcpListener::bind(cli.listen)
                .await
                .with_context(|| format!("cannot listen on {}", cli.listen))?;
            run(
                ServeOptions {
                    scrub_interval: std::time::Duration::from_secs(cli.scrub_interval_s.max(1)),
                    connections_max: cli.connections_max.max(1),
                    rate_limits: isnad_server::rate::RateLimits {
                        per_second: cli.rate_per_caller,
                        burst: cli.rate_burst,
                        buckets_max: cli.rate_callers_max,
                    },
                    tls,
                    insecure_plaintext: cli.tls.insecure_plaintext,
                    verify_gate: isnad_server::service::gate::GateOptions {
                        threads: cli
                            .verify_threads
                            .unwrap_or(isnad_server::service::gate::GateOptions::default().threads),
                        waiting_max: cli.verify_waiting_max,
                    },
                    ..ServeOptions::new(cli.data_dir)
                },
                listener,
                shutdown_signal(),
            )
            .await
        }
    }
}

/// Creates the directory a new private key file goes in, mode 0700, when it does not exist
/// yet; an existing one is left as it is (the key file itself is 0600).
fn create_key_directory(key_file: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match key_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display())),
        _ => Ok(()),
    }
}

/// Resolves on SIGTERM or ctrl-c.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock skew shifts recorded time and so expiry verdicts: a production build (without
    /// `test-clock`) must not take it. `tests/run.sh` runs this test once with the feature off
    /// (`cargo test -p isnad-server --bin isnad-server`), and the workspace run has it on.
    #[test]
    fn only_a_test_build_takes_a_clock_skew() {
        let parsed = Cli::try_parse_from(["isnad-server", "--clock-skew-ms", "5"]);
        assert_eq!(
            parsed.is_ok(),
            cfg!(feature = "test-clock"),
            "{:?}",
            parsed.err()
        );
    }
}
