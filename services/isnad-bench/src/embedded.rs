//! A ledger server inside this process, on a temporary data directory: what the demo and its
//! test run against.

use std::net::SocketAddr;

use anyhow::Context as _;
use isnad_server::ServeOptions;
use isnad_server::init::{InitOptions, init};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::circuit::{Circuit, Who};

/// The origin line of an embedded server's log.
pub const ORIGIN: &str = "demo.isnad.test/log";

/// A running in-process server; its data directory is deleted when it is dropped.
#[derive(Debug)]
pub struct EmbeddedServer {
    /// Where it listens.
    pub address: SocketAddr,
    /// The log's verifier key, `name+hex8+base64`, for checkpoints to be checked against.
    pub log_vkey: String,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
    _data_dir: tempfile::TempDir,
}

impl EmbeddedServer {
    /// Creates a data directory whose genesis names `circuit`'s regulator, and serves it on a
    /// free port of 127.0.0.1.
    pub async fn start(circuit: &Circuit) -> anyhow::Result<EmbeddedServer> {
        let data_dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let regulator = circuit.participant(Who::Regulator);
        let outcome = init(&InitOptions {
            data_dir: data_dir.path().join("ledger"),
            origin: ORIGIN.to_owned(),
            regulator_party: regulator.party,
            regulator_name: regulator.name.clone(),
            regulator_sites: regulator.sites.clone(),
            regulator_keys: vec![regulator.public_key()],
        })
        .context("cannot create the ledger's data directory")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on 127.0.0.1")?;
        let address = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let options = ServeOptions {
            // The demo sends everything from one address as fast as it can.
            rate_limits: isnad_server::rate::RateLimits {
                per_second: 0,
                ..Default::default()
            },
            ..ServeOptions::new(data_dir.path().join("ledger"))
        };
        let task = tokio::spawn(isnad_server::run(options, listener, async {
            // A dropped sender stops the server as well.
            let _ = stop.await;
        }));
        Ok(EmbeddedServer {
            address,
            log_vkey: outcome.log_vkey,
            shutdown,
            task,
            _data_dir: data_dir,
        })
    }

    /// Stops the server: it drains in-flight requests and commits what it has taken.
    pub async fn stop(self) -> anyhow::Result<()> {
        // The server may have stopped on its own already; its result says why.
        let _ = self.shutdown.send(());
        self.task.await.context("the server task panicked")?
    }
}
