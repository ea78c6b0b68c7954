//! The ledger server as a separate process, so that its memory can be read from
//! `/proc/<pid>/status` and its data directory measured on disk.

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::circuit::Participant;
use anyhow::{Context as _, bail};

use isnad_client::Client;

/// The binary's file name, looked for next to the benchmark's own.
pub const SERVER_BINARY: &str = "isnad-server";

/// The origin line of a benchmark log.
pub const ORIGIN: &str = "bench.isnad.test/log";

/// How long a starting server may take to print its address.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the `isnad-server` binary is: next to this executable (both are built into the same
/// `target/<profile>` directory).
pub fn binary_next_to_this_one() -> anyhow::Result<PathBuf> {
    let this = std::env::current_exe().context("cannot find this executable")?;
    let binary = this.with_file_name(SERVER_BINARY);
    if !binary.exists() {
        bail!(
            "{} is missing; build it first: cargo build --release -p isnad-server -p isnad-bench",
            binary.display()
        );
    }
    Ok(binary)
}

/// Creates a data directory whose genesis names the regulator: its party, sites and key.
pub fn init(binary: &Path, data_dir: &Path, regulator: &Participant) -> anyhow::Result<()> {
    let mut command = Command::new(binary);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(["init", "--origin", ORIGIN, "--regulator-party"])
        .arg(regulator.party.to_string())
        .arg("--regulator-key")
        .arg(hex::encode(regulator.public_key().0));
    for site in &regulator.sites {
        command.arg("--regulator-site").arg(site.to_string());
    }
    let output = command
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "isnad-server init failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// A running `isnad-server serve` process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Where it listens, `127.0.0.1:port`.
    pub address: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// How long it took from spawning to printing its address.
    pub started_in: Duration,
}

impl ServerProcess {
    /// Serves `data_dir` on a free port of 127.0.0.1; its log messages go to `log_file`.
    pub fn start(binary: &Path, data_dir: &Path, log_file: &Path) -> anyhow::Result<ServerProcess> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(log_file)
            .with_context(|| format!("cannot open {}", log_file.display()))?;
        let started = Instant::now();
        let mut child = Command::new(binary)
            .arg("--data-dir")
            .arg(data_dir)
            // One client address sends the whole load: no rate limit.
            .args(["--listen", "127.0.0.1:0", "--rate-per-caller", "0", "serve"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let address = match read_address(stdout) {
            Ok(address) => address,
            Err(error) => {
                // The process is ours and useless without an address.
                let _ = child.kill();
                let _ = child.wait();
                return Err(error.context(format!("see {}", log_file.display())));
            }
        };
        Ok(ServerProcess {
            child,
            address,
            data_dir: data_dir.to_owned(),
            started_in: started.elapsed(),
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it without warning (SIGKILL), as a crash would, and waits for it to exit.
    pub fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().context("cannot kill the server")?;
        self.child.wait().context("cannot reap the server")?;
        Ok(())
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // A benchmark that stops early must not leave its server running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads the server's stdout up to its `listening on ADDRESS` line; later output is dropped.
fn read_address(stdout: ChildStdout) -> anyhow::Result<String> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut sent = false;
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if !sent && let Some(address) = line.strip_prefix("listening on ") {
                let _ = sender.send(address.trim().to_owned());
                sent = true;
            }
        }
    });
    receiver
        .recv_timeout(START_TIMEOUT)
        .context("the server exited or did not say where it listens")
}

/// Memory of a process, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    /// Resident now (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// The most ever resident (`VmHWM`), KiB.
    pub peak_rss_kib: u64,
}

/// Reads a process's resident memory.
pub fn memory(pid: u32) -> anyhow::Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_memory(&status).with_context(|| format!("{path} has no VmRSS and VmHWM"))
}

fn parse_memory(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        peak_rss_kib: field("VmHWM:")?,
    })
}

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux for x86-64 and
/// arm64).
pub const CLOCK_TICKS_PER_S: f64 = 100.0;

/// CPU time a process has used so far (user and system), seconds: what it cost, whatever
/// else the machine was doing.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_cpu_seconds(&stat).with_context(|| format!("{path} is not a stat line"))
}

fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((user + system) as f64 / CLOCK_TICKS_PER_S)
}

/// Bytes a directory tree takes on disk (allocated blocks, as `du` counts them).
pub fn disk_bytes(path: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(path).with_context(|| format!("cannot list {}", path.display()))? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        total += if metadata.is_dir() {
            disk_bytes(&entry.path())?
        } else {
            metadata.blocks() * 512
        };
    }
    Ok(total)
}

/// Waits until a server answers a checkpoint request; returns its tree size.
pub async fn wait_until_serving(address: &str, timeout: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + timeout;
    loop {
        let attempt = async {
            let client = Client::connect(&crate::url(address)).await?;
            anyhow::Ok(crate::tree_size(&client).await?)
        };
        match attempt.await {
            Ok(size) => return Ok(size),
            Err(error) if Instant::now() >= deadline => {
                return Err(error.context("the server did not start serving in time"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(status: &str, expected: Option<Memory>) {
        assert_eq!(parse_memory(status), expected);
    }

    #[test]
    fn memory_lines_of_proc_status() {
        let status = "Name:\tisnad-server\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        check(
            status,
            Some(Memory {
                rss_kib: 102_400,
                peak_rss_kib: 204_800,
            }),
        );
        check("Name:\tx\nVmRSS:\t1 kB\n", None);
        check("VmHWM:\tmany kB\nVmRSS:\t1 kB\n", None);
    }

    #[test]
    fn cpu_time_of_proc_stat() {
        let stat = "4242 (isnad server) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 5";
        assert_eq!(parse_cpu_seconds(stat), Some(3.25));
        assert_eq!(parse_cpu_seconds("4242 (x) S 1 2"), None);
        assert_eq!(parse_cpu_seconds("no name here"), None);
        assert!(cpu_seconds(std::process::id()).expect("Linux has /proc") >= 0.0);
    }

    #[test]
    fn this_process_has_resident_memory() {
        let memory = memory(std::process::id()).expect("Linux has /proc");
        assert!(memory.rss_kib > 0 && memory.peak_rss_kib >= memory.rss_kib);
    }

    #[test]
    fn disk_bytes_counts_files_in_subdirectories() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        fs::create_dir(dir.path().join("inner")).expect("a subdirectory");
        fs::write(dir.path().join("inner/data"), vec![1u8; 10_000]).expect("a file");
        let bytes = disk_bytes(dir.path()).expect("readable");
        assert!(bytes >= 10_000, "{bytes}");
        assert!(disk_bytes(&dir.path().join("missing")).is_err());
    }
}
