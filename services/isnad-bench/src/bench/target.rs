//! The server under test: an `isnad-server` process this benchmark starts on a temporary
//! data directory, or one already running at a given address.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use isnad_core::gs1::Gln;

use crate::circuit::{Circuit, Who};

use super::server::{self, Memory, ServerProcess};

/// How long a restarted server may take to answer.
pub const RESTART_TIMEOUT: Duration = Duration::from_secs(300);

/// A server started elsewhere: its address, its regulator, and what can be measured of it.
#[derive(Debug, Clone)]
pub struct ExternalServer {
    /// `host:port`.
    pub address: String,
    /// The origin of its log (the first line of its checkpoints): events are signed for it.
    pub origin: String,
    /// The regulator named by its genesis.
    pub regulator_party: Gln,
    /// The regulator's signing key.
    pub regulator_key: SigningKey,
    /// Its process id on this machine, to read its memory.
    pub pid: Option<u32>,
    /// Its data directory on this machine, to measure it.
    pub data_dir: Option<PathBuf>,
}

/// The server under test.
#[derive(Debug)]
pub enum Target {
    /// Started here; removed with its data when dropped.
    Spawned {
        /// The running process (absent only while restarting).
        process: Option<ServerProcess>,
        /// The binary, to restart it.
        binary: PathBuf,
        /// Its log messages.
        log_file: PathBuf,
        /// Holds the data directory.
        work_dir: tempfile::TempDir,
    },
    /// Started by someone else.
    External(ExternalServer),
}

impl Target {
    /// Starts a server for a new circuit in a temporary directory under `parent` (the system's
    /// temporary directory when `None`), or uses `external` with its regulator.
    pub fn start(
        external: Option<&ExternalServer>,
        parent: Option<&Path>,
        out: &mut dyn Write,
    ) -> anyhow::Result<(Target, Circuit)> {
        if let Some(external) = external {
            let circuit = Circuit::with_regulator(
                &external.origin,
                external.regulator_party,
                external.regulator_key.clone(),
            )?;
            writeln!(out, "server: {} (started elsewhere)", external.address)?;
            return Ok((Target::External(external.clone()), circuit));
        }
        let circuit = Circuit::generate(server::ORIGIN)?;
        let binary = server::binary_next_to_this_one()?;
        let work_dir = match parent {
            Some(parent) => tempfile::tempdir_in(parent),
            None => tempfile::tempdir(),
        }
        .context("cannot create a temporary directory")?;
        let data_dir = work_dir.path().join("ledger");
        let log_file = work_dir.path().join("server.log");
        let regulator = circuit.participant(Who::Regulator);
        server::init(&binary, &data_dir, regulator)?;
        let process = ServerProcess::start(&binary, &data_dir, &log_file)?;
        writeln!(
            out,
            "server: {} pid {} on {} (started in {:.0} ms)",
            binary.display(),
            process.pid(),
            process.address,
            process.started_in.as_secs_f64() * 1e3
        )?;
        let target = Target::Spawned {
            process: Some(process),
            binary,
            log_file,
            work_dir,
        };
        Ok((target, circuit))
    }

    /// Where the server listens.
    pub fn address(&self) -> String {
        match self {
            Target::Spawned { process, .. } => process
                .as_ref()
                .map(|process| process.address.clone())
                .expect("a spawned target has a process between restarts"),
            Target::External(external) => external.address.clone(),
        }
    }

    /// The server's process id, when it is on this machine.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Target::Spawned { process, .. } => process.as_ref().map(ServerProcess::pid),
            Target::External(external) => external.pid,
        }
    }

    /// The server's data directory, when it is on this machine.
    pub fn data_dir(&self) -> Option<PathBuf> {
        match self {
            Target::Spawned { work_dir, .. } => Some(work_dir.path().join("ledger")),
            Target::External(external) => external.data_dir.clone(),
        }
    }

    /// The server's memory, when it is on this machine.
    pub fn memory(&self) -> Option<Memory> {
        self.pid().and_then(|pid| server::memory(pid).ok())
    }

    /// CPU seconds the server has used so far, when it is on this machine.
    pub fn cpu_seconds(&self) -> Option<f64> {
        self.pid().and_then(|pid| server::cpu_seconds(pid).ok())
    }

    /// Its data directory's size on disk, when it is on this machine.
    pub fn disk_bytes(&self) -> Option<u64> {
        self.data_dir()
            .and_then(|dir| server::disk_bytes(&dir).ok())
    }

    /// Kills the server (SIGKILL, as a crash) and starts it again on the same data; returns
    /// the time from starting it to its first answer and the tree size it answers with.
    /// `None` for a server started elsewhere.
    pub async fn restart(&mut self) -> anyhow::Result<Option<(Duration, u64)>> {
        let Target::Spawned {
            process,
            binary,
            log_file,
            work_dir,
        } = self
        else {
            return Ok(None);
        };
        if let Some(running) = process.take() {
            running.kill()?;
        }
        let started = Instant::now();
        let restarted = ServerProcess::start(binary, &work_dir.path().join("ledger"), log_file)?;
        let size = server::wait_until_serving(&restarted.address, RESTART_TIMEOUT).await?;
        let serving_in = started.elapsed();
        *process = Some(restarted);
        Ok(Some((serving_in, size)))
    }

    /// The last `lines` lines of a spawned server's log messages, to explain a failure before
    /// its temporary directory is removed.
    pub fn log_tail(&self, lines: usize) -> Option<String> {
        let Target::Spawned { log_file, .. } = self else {
            return None;
        };
        let log = std::fs::read_to_string(log_file).ok()?;
        let all: Vec<&str> = log.lines().collect();
        Some(all[all.len().saturating_sub(lines)..].join("\n"))
    }

    /// Whether the spawned server is still running (a server started elsewhere is assumed
    /// to be).
    pub fn is_running(&mut self) -> bool {
        match self {
            Target::Spawned { process, .. } => {
                process.as_mut().is_some_and(ServerProcess::is_running)
            }
            Target::External(_) => true,
        }
    }
}
