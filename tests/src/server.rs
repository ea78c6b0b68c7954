//! The real `isnad-server` binary on a temporary data directory: initialise it, start it,
//! talk to it over gRPC on loopback, stop it (SIGTERM) or kill it (SIGKILL), start it again.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use isnad_client::{Credentials, SignedChannel};
use isnad_core::gs1::Gln;
use isnad_proto::pb;
use tonic::transport::Channel;

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server may take to exit after SIGTERM: it drains in-flight requests and commits
/// what is queued.
const TERMINATE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a gRPC connection to a listening server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often [`Server::terminate`] looks whether the process has exited.
const EXIT_POLL_INTERVAL: Duration = Duration::from_millis(20);

/// The directory holding the workspace's binaries (`target/debug` for tests).
pub fn binary_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/debug/deps/<test> -> target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps")
        .to_owned()
}

/// The path of a workspace binary, built once per test process so that it is never stale
/// (cargo does not rebuild another package's binaries for these tests by itself). All the
/// workspace's binaries are built together, as the test command does, so that features
/// resolve the same way and the build is a no-op when they are fresh.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--workspace", "--bins"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the workspace's binaries failed");
    });
    binary_dir().join(name)
}

/// A server's data directory, initialised with a regulator key.
#[derive(Debug)]
pub struct DataDir {
    /// Removed when dropped.
    pub dir: tempfile::TempDir,
    /// The regulator's signing key, the trust root named by genesis.
    pub regulator: SigningKey,
    /// The regulator's party GLN.
    pub regulator_party: String,
    /// The log's verifier key string, as `init` printed it.
    pub log_vkey: String,
}

/// The origin of every test log.
pub const ORIGIN: &str = "test.isnad.ma/log";

impl DataDir {
    /// Runs `isnad-server init` on a new temporary directory, with the regulator of
    /// `isnad_testkit::Scenario` as the trust root.
    pub fn init() -> DataDir {
        DataDir::init_with_origin(ORIGIN)
    }

    /// [`DataDir::init`] for a log of another origin, as another deployment that trusts the
    /// same regulator key.
    pub fn init_with_origin(origin: &str) -> DataDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let regulator = isnad_testkit::Scenario::bare().regulator;
        let sites = [regulator.site.to_string(), regulator.other_site.to_string()];
        let (regulator_party, regulator) = (regulator.party.to_string(), regulator.signing_key);
        let output = Command::new(binary("isnad-server"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args([
                "init",
                "--origin",
                origin,
                "--regulator-party",
                &regulator_party,
                "--regulator-key",
            ])
            .arg(hex::encode(regulator.verifying_key().to_bytes()))
            .args(["--regulator-site", &sites[0], "--regulator-site", &sites[1]])
            .output()
            .expect("isnad-server init runs");
        assert!(
            output.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let log_vkey = stdout
            .lines()
            .find_map(|l| l.strip_prefix("log verifier key: "))
            .expect("init prints the log verifier key")
            .to_owned();
        DataDir {
            dir,
            regulator,
            regulator_party,
            log_vkey,
        }
    }

    /// The data directory the server uses.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

/// A loopback address that refuses connections for as long as the returned socket lives: the
/// socket holds the port bound without listening, so no other server (a parallel test's) can
/// take it, as it could take the port of a server that was killed.
pub fn unreachable_address() -> (tokio::net::TcpSocket, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
    socket
        .bind("127.0.0.1:0".parse().expect("a socket address"))
        .expect("a free loopback port");
    let address = socket.local_addr().expect("a bound socket has an address");
    (socket, address)
}

/// A running `isnad-server` process.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Receives once the server's standard output closed: it exited.
    stdout_closed: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    /// Where it listens.
    pub address: SocketAddr,
}

impl Server {
    /// Starts the server binary on `data_dir`, on a free loopback port, and waits until it
    /// listens.
    pub fn start(data_dir: &Path) -> Server {
        Server::start_skewed(data_dir, 0)
    }

    /// Starts the server with its clock shifted by `skew_ms`, to test expiry.
    pub fn start_skewed(data_dir: &Path, skew_ms: i64) -> Server {
        Server::start_with(data_dir, skew_ms, &[])
    }

    /// Starts the server with more command-line arguments (a lowered limit, say).
    pub fn start_with_args(data_dir: &Path, args: &[&str]) -> Server {
        Server::start_with(data_dir, 0, args)
    }

    /// Starts the server binary on `data_dir` and kills it (SIGKILL) after `delay`, listening
    /// or not by then: a crash while it opens its store and recovers from the last one.
    pub fn kill_while_starting(data_dir: &Path, delay: Duration) {
        let mut child = Command::new(binary("isnad-server"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("isnad-server starts");
        std::thread::sleep(delay);
        child.kill().expect("kill");
        child.wait().expect("reap");
    }

    fn start_with(data_dir: &Path, skew_ms: i64, args: &[&str]) -> Server {
        let mut command = Command::new(binary("isnad-server"));
        command.env("ISNAD_CLOCK_SKEW_MS", skew_ms.to_string());
        Server::spawn(command, data_dir, args)
    }

    /// Starts the server with no file of its own able to grow past `file_bytes_max` (the
    /// shell's `ulimit -f`, with SIGXFSZ ignored so that a write past it fails with `EFBIG`
    /// instead of killing the process): a disk that fills up, for one process, without root.
    pub fn start_file_size_limited(data_dir: &Path, file_bytes_max: u64) -> Server {
        let mut command = Command::new("sh");
        // POSIX counts `ulimit -f` in 512-byte blocks; an ignored signal stays ignored
        // across `exec`.
        command
            .arg("-c")
            .arg(r#"trap '' XFSZ && ulimit -f "$1" && shift && exec "$@""#)
            .arg("sh")
            .arg((file_bytes_max / 512).to_string())
            .arg(binary("isnad-server"));
        Server::spawn(command, data_dir, &[])
    }

    /// Runs the server binary with `args` where it must refuse to start: waits, at most
    /// [`START_TIMEOUT`], for it to exit, and returns how (its stderr says why). A server that
    /// starts instead fails the test.
    pub fn refuses_to_start(data_dir: &Path, args: &[&str]) -> std::process::Output {
        let mut command = Command::new(binary("isnad-server"));
        listen_args(&mut command, data_dir, args);
        let child = command
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("isnad-server starts");
        let pid = child.id();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(child.wait_with_output());
        });
        match receiver.recv_timeout(START_TIMEOUT) {
            Ok(output) => {
                let output = output.expect("isnad-server's output");
                assert!(
                    !output.status.success(),
                    "isnad-server {args:?} started: {}",
                    String::from_utf8_lossy(&output.stdout)
                );
                output
            }
            Err(_) => {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
                panic!("isnad-server {args:?} did not exit within {START_TIMEOUT:?}");
            }
        }
    }

    fn spawn(mut command: Command, data_dir: &Path, args: &[&str]) -> Server {
        listen_args(&mut command, data_dir, args);
        let mut child = command
            .env("RUST_LOG", "warn")
            // Tests send requests as fast as they can from one address: no rate limit unless
            // a test asks for one (`--rate-per-caller`, which overrides this).
            .env("ISNAD_RATE_PER_CALLER", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("isnad-server starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = std::sync::mpsc::channel();
        let (closed, stdout_closed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on ") {
                    let _ = sender.send(address.trim().to_owned());
                }
            }
            let _ = closed.send(());
        });
        let printed = match receiver.recv_timeout(START_TIMEOUT) {
            Ok(printed) => printed,
            Err(error) => {
                let _ = child.kill();
                let exit = child.wait();
                panic!(
                    "isnad-server did not print \"listening on ADDRESS\" within \
                     {START_TIMEOUT:?} ({error}; exit: {exit:?})"
                );
            }
        };
        let address = printed
            .parse()
            .unwrap_or_else(|error| panic!("not a socket address: {printed:?}: {error}"));
        Server {
            child,
            address,
            stdout_closed: std::sync::Mutex::new(stdout_closed),
        }
    }

    /// The server's URL for tonic.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A gRPC channel to the server whose calls are signed as the regulator (the testkit
    /// scenario's, the trust root of every [`DataDir`]), which the read policy lets read
    /// everything.
    pub async fn channel(&self) -> SignedChannel {
        let regulator = isnad_testkit::Scenario::bare().regulator;
        self.channel_as(regulator.party, &regulator.signing_key)
            .await
    }

    /// A gRPC channel whose calls are signed as `party` with `key`, for the log this server
    /// serves (its origin read from its checkpoint).
    pub async fn channel_as(&self, party: Gln, key: &SigningKey) -> SignedChannel {
        let origin = self.origin().await;
        let credentials = Credentials::new(party, key.clone(), origin);
        SignedChannel::new(self.anonymous_channel().await, Some(credentials))
    }

    /// The origin of the log this server serves, as its checkpoint names it.
    pub async fn origin(&self) -> String {
        let note = pb::log_client::LogClient::new(self.anonymous_channel().await)
            .get_checkpoint(pb::GetCheckpointRequest {})
            .await
            .expect("the checkpoint is public")
            .into_inner()
            .checkpoint;
        note.lines()
            .next()
            .expect("a checkpoint begins with its origin")
            .to_owned()
    }

    /// A gRPC channel to the server whose calls are not signed: an anonymous caller.
    pub async fn anonymous_channel(&self) -> Channel {
        Channel::from_shared(self.url())
            .expect("valid URL")
            .connect_timeout(CONNECT_TIMEOUT)
            .connect()
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "no gRPC connection to {} within {CONNECT_TIMEOUT:?}: {error}",
                    self.address
                )
            })
    }

    /// The capture client, signed as the regulator ([`Server::channel`]).
    pub async fn capture(&self) -> pb::capture_client::CaptureClient<SignedChannel> {
        pb::capture_client::CaptureClient::new(self.channel().await)
    }

    /// The verification client, signed as the regulator.
    pub async fn verification(&self) -> pb::verification_client::VerificationClient<SignedChannel> {
        pb::verification_client::VerificationClient::new(self.channel().await)
    }

    /// The log client, signed as the regulator.
    pub async fn log(&self) -> pb::log_client::LogClient<SignedChannel> {
        pb::log_client::LogClient::new(self.channel().await)
    }

    /// The registry client, signed as the regulator.
    pub async fn registry(&self) -> pb::registry_client::RegistryClient<SignedChannel> {
        pb::registry_client::RegistryClient::new(self.channel().await)
    }

    /// The server process's peak resident memory so far, in KiB (`VmHWM` in Linux's
    /// `/proc/PID/status`): how much memory a request made it touch.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status is readable");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("/proc status has a VmHWM line in kB")
    }

    /// Waits, at most `timeout`, for the server to exit by itself; `None` if it is still
    /// running then (it is killed when dropped). The end of its standard output says it
    /// exited: nothing else holds that pipe.
    pub fn exited(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        self.stdout_closed
            .get_mut()
            .expect("no holder panicked")
            .recv_timeout(timeout)
            .ok()?;
        Some(self.child.wait().expect("reap"))
    }

    /// SIGKILL: no chance to flush or answer anything more.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then waits for the process to exit, at most [`TERMINATE_TIMEOUT`]; a server
    /// still running then is killed (SIGKILL) and the test fails.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        // The `kill` command sends the signal: the workspace forbids the `unsafe` a libc call needs.
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("the kill command runs");
        assert!(sent.success(), "SIGTERM sent to isnad-server: {sent:?}");
        let deadline = std::time::Instant::now() + TERMINATE_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("the process can be waited on") {
                return status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("isnad-server did not exit within {TERMINATE_TIMEOUT:?} of SIGTERM");
            }
            // Polling the exit status: a child process offers no wait with a deadline.
            std::thread::sleep(EXIT_POLL_INTERVAL);
        }
    }
}

/// The data directory, a loopback address on a free port unless `args` name another `--listen`,
/// then `args`.
fn listen_args(command: &mut Command, data_dir: &Path, args: &[&str]) {
    command.arg("--data-dir").arg(data_dir);
    if !args.contains(&"--listen") {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    command.args(args);
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Replays a core test scenario onto a real server: every entry of `scenario` from `from` on
/// (genesis excluded) is signed with its signer's key and captured, one request per event, in
/// log order, so the server's log mirrors the scenario's.
pub async fn mirror(
    server: &Server,
    scenario: &isnad_testkit::Scenario,
    keys: &[SigningKey],
    from: usize,
) -> Vec<pb::Receipt> {
    use isnad_core::verdict::HistoryKind;
    let mut capture = server.capture().await;
    let mut receipts = Vec::new();
    for entry in &scenario.entries[from.max(1)..] {
        let HistoryKind::Event(event) = &entry.kind else {
            continue;
        };
        let signer = entry.signer.expect("events have signers");
        let key = keys
            .iter()
            .find(|k| k.verifying_key().to_bytes() == signer.0)
            .expect("the scenario's signer is among the keys");
        let signed = isnad_client::sign::sign_event(key, ORIGIN, event);
        let response = capture
            .capture(pb::CaptureRequest {
                events: vec![signed],
            })
            .await
            .unwrap_or_else(|status| {
                panic!("entry {} refused by the server: {status:?}", entry.index)
            });
        let receipt = response.into_inner().receipts.remove(0);
        assert_eq!(
            receipt.leaf_index, entry.index,
            "the server's log mirrors the scenario's"
        );
        receipts.push(receipt);
    }
    receipts
}

/// Every signing key of a scenario's participants.
pub fn scenario_keys(scenario: &isnad_testkit::Scenario) -> Vec<SigningKey> {
    use isnad_testkit::Who;
    Who::ALL
        .iter()
        .map(|who| scenario.actor(*who).signing_key.clone())
        .collect()
}

/// The current tree size.
pub async fn tree_size(server: &Server) -> u64 {
    server
        .client()
        .await
        .checkpoint()
        .await
        .expect("checkpoint")
        .tree_size
}

/// The log entries of `[start, end)` as the server serves them (`GetEntries`, in pages of at
/// most the contract's limit).
pub async fn entries(server: &Server, start: u64, end: u64) -> Vec<Vec<u8>> {
    use isnad_proto::contract::ENTRIES_PER_RESPONSE_MAX;
    let client = server.client().await;
    let mut entries = Vec::new();
    let mut next = start;
    while next < end {
        let page_end = end.min(next.saturating_add(ENTRIES_PER_RESPONSE_MAX));
        let page = client
            .entries(next, page_end)
            .await
            .unwrap_or_else(|status| panic!("entries from {next} are served: {status:?}"));
        assert!(!page.is_empty(), "entries from {next} to {end} are served");
        next += page.len() as u64;
        entries.extend(page);
    }
    entries
}

/// The signed event a log entry holds, taken apart with the core's entry framing: its body,
/// key and signature must equal, byte for byte, what the client sent.
pub fn signed_event(entry: &[u8]) -> pb::SignedEvent {
    use isnad_core::envelope::{EntryKind, decode_entry};
    let decoded =
        decode_entry(entry).unwrap_or_else(|error| panic!("an entry is well formed: {error}"));
    let EntryKind::Event {
        public_key,
        signature,
        body,
    } = decoded.kind
    else {
        panic!("an entry of an event, not genesis");
    };
    pb::SignedEvent {
        body: body.to_vec().into(),
        public_key: public_key.to_vec().into(),
        signature: signature.to_vec().into(),
    }
}

/// The signed event held by each log entry of `[start, end)`, as the server serves it
/// ([`entries`], [`signed_event`]).
pub async fn signed_events(server: &Server, start: u64, end: u64) -> Vec<pb::SignedEvent> {
    entries(server, start, end)
        .await
        .iter()
        .map(|entry| signed_event(entry))
        .collect()
}
