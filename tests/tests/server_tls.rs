//! TLS end to end: the real server binary with certificates made at test time, reached over
//! loopback by the client library and the `isnad` binary; mutual TLS; plain text only on
//! loopback; key files others may read are refused.

use std::error::Error;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use isnad_client::{Client, ClientError, ConnectError, ConnectOptions};
use isnad_proto::pb;
use isnad_testkit::Scenario;
use isnad_tests::circuit::{Isnad, Run};
use isnad_tests::tls::{TlsFiles, https_url, set_mode, text};
use isnad_tests::{DataDir, Server, mirror, scenario_keys};

/// How long a test waits for what the server does by itself (a handshake timing out).
const DEADLINE: Duration = Duration::from_secs(60);

/// A log with one commissioned unit, served over TLS with `args`; and the unit's scan.
async fn serving_over_tls(data: &DataDir, args: &[String]) -> (Server, String) {
    let mut scenario = Scenario::today();
    let units = scenario.commission("L1", &["SN1"]);
    let scan = scenario.label(&units[0], "L1");
    // Captured in plain text on loopback, then the same data directory is served over TLS.
    let plain = Server::start(&data.path());
    mirror(&plain, &scenario, &scenario_keys(&scenario), 1).await;
    plain.terminate();
    (start(data, args), scan)
}

fn start(data: &DataDir, args: &[String]) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_with_args(&data.path(), &args)
}

fn options(ca: &Path, client: Option<(&Path, &Path)>) -> ConnectOptions {
    ConnectOptions::from_files(Some(ca), client, false).expect("the test certificates are readable")
}

/// `isnad trust init` of the test log, with `tls` arguments, ending with exit status `code`.
#[track_caller]
fn trust_init(isnad: &Isnad, data: &DataDir, code: i32, tls: &[&str]) -> Run {
    let regulator = hex::encode(data.regulator.verifying_key().to_bytes());
    let mut args = tls.to_vec();
    args.extend([
        "trust",
        "init",
        "--regulator-key",
        &regulator,
        "--log-key",
        &data.log_vkey,
    ]);
    isnad.expect(code, &args)
}

/// An error and all its sources on one line.
fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Connects and reads the checkpoint: a refused handshake shows either when connecting or,
/// for a client certificate the server refuses after TLS 1.3's handshake, at the first call.
async fn checkpoint(url: &str, options: &ConnectOptions) -> Result<String, String> {
    let client = Client::connect_with(url, options)
        .await
        .map_err(|e| chain(&e))?;
    client.checkpoint().await.map_err(|e| chain(&e))
}

/// The client library and the `isnad` binary verify a unit over TLS, trusting the test CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_and_the_cli_verify_over_tls() {
    let files = TlsFiles::generate();
    let data = DataDir::init();
    let (server, scan) = serving_over_tls(&data, &files.server_args()).await;
    let url = https_url(&server);

    let client = Client::connect_with(&url, &options(&files.ca, None))
        .await
        .expect("a TLS connection");
    let answer = client
        .verify(pb::VerifyRequest {
            scan: scan.clone(),
            ..Default::default()
        })
        .await
        .expect("an answer over TLS");
    assert_eq!(answer.verdict, pb::ReasonCode::Genuine as i32);

    let isnad = Isnad::new(&url);
    let ca = text(&files.ca);
    trust_init(&isnad, &data, 0, &["--tls-ca", &ca]);
    let run = isnad.expect(0, &["--tls-ca", &ca, "verify", &scan]);
    assert!(run.stdout.contains("GENUINE"), "{}", run.stdout);
}

/// A server whose certificate does not chain to the CA the client trusts is refused, and the
/// error says why; so is a server of another CA for the `isnad` binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_from_another_ca_is_refused() {
    let files = TlsFiles::generate();
    let data = DataDir::init();
    let server = start(&data, &files.server_args());
    let url = https_url(&server);

    let refused = checkpoint(&url, &options(&files.other_ca, None))
        .await
        .expect_err("a certificate from an untrusted CA");
    assert!(refused.contains("invalid peer certificate"), "{refused}");
    // Without a CA file the public web's roots are used, which do not hold the test CA either.
    let refused = checkpoint(&url, &ConnectOptions::default())
        .await
        .expect_err("a certificate no public root issued");
    assert!(refused.contains("invalid peer certificate"), "{refused}");
    // Plain text to a TLS server gets no answer.
    let plain = checkpoint(&server.url(), &ConnectOptions::default()).await;
    assert!(plain.is_err(), "{plain:?}");

    let isnad = Isnad::new(&url);
    let run = trust_init(&isnad, &data, 2, &["--tls-ca", &text(&files.other_ca)]);
    assert!(
        run.stderr.contains("invalid peer certificate"),
        "{}",
        run.stderr
    );
}

/// Mutual TLS: without a client certificate, or with one from another CA, the server refuses;
/// with one from its client CA, it answers. With `--tls-client-cert-optional` a client without
/// a certificate is served, one with a certificate from another CA still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_takes_only_certificates_of_the_client_ca() {
    let files = TlsFiles::generate();
    let data = DataDir::init();
    let server = start(&data, &files.mutual_server_args());
    let url = https_url(&server);

    let refused = checkpoint(&url, &options(&files.ca, None))
        .await
        .expect_err("no client certificate");
    assert!(!refused.is_empty());
    let stranger = Some((
        files.other_client_cert.as_path(),
        files.other_client_key.as_path(),
    ));
    checkpoint(&url, &options(&files.ca, stranger))
        .await
        .expect_err("a client certificate from another CA");
    let partner = Some((files.client_cert.as_path(), files.client_key.as_path()));
    let note = checkpoint(&url, &options(&files.ca, partner))
        .await
        .expect("a client certificate of the client CA");
    assert!(note.starts_with(isnad_tests::ORIGIN), "{note}");

    // The `isnad` binary without and with its certificate.
    let isnad = Isnad::new(&url);
    let ca = text(&files.ca);
    let refused = trust_init(&isnad, &data, 2, &["--tls-ca", &ca]);
    assert!(refused.stderr.contains("isnad: "), "{}", refused.stderr);
    let (cert, key) = (text(&files.client_cert), text(&files.client_key));
    trust_init(
        &isnad,
        &data,
        0,
        &["--tls-ca", &ca, "--tls-cert", &cert, "--tls-key", &key],
    );
    drop(server);

    let mut args = files.mutual_server_args();
    args.push("--tls-client-cert-optional".into());
    let server = start(&data, &args);
    let url = https_url(&server);
    checkpoint(&url, &options(&files.ca, None))
        .await
        .expect("no certificate, which is optional");
    checkpoint(&url, &options(&files.ca, stranger))
        .await
        .expect_err("a certificate from another CA, even where one is optional");
    checkpoint(&url, &options(&files.ca, partner))
        .await
        .expect("a certificate of the client CA");
}

/// A TLS private key file that group or others can read is refused: by the server at start,
/// and by the `isnad` binary for its client key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_key_others_can_read_is_refused() {
    let files = TlsFiles::generate();
    let data = DataDir::init();
    set_mode(&files.server_key, 0o640);
    let args = files.server_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = Server::refuses_to_start(&data.path(), &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mode 640 lets others read a private key"),
        "{stderr}"
    );

    set_mode(&files.client_key, 0o644);
    let isnad = Isnad::new("https://127.0.0.1:1");
    let (ca, cert, key) = (
        text(&files.ca),
        text(&files.client_cert),
        text(&files.client_key),
    );
    let run = trust_init(
        &isnad,
        &data,
        2,
        &["--tls-ca", &ca, "--tls-cert", &cert, "--tls-key", &key],
    );
    assert!(
        run.stderr
            .contains("mode 644 lets others read a private key"),
        "{}",
        run.stderr
    );
}

/// Plain text on a non-loopback address is refused at start with a message that names the
/// way out; `--insecure-plaintext` serves it (reached here through loopback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_beyond_loopback_needs_the_insecure_flag() {
    let data = DataDir::init();
    let output = Server::refuses_to_start(&data.path(), &["--listen", "0.0.0.0:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to serve plain text on 0.0.0.0:")
            && stderr.contains("--insecure-plaintext"),
        "{stderr}"
    );

    let server = Server::start_with_args(
        &data.path(),
        &["--listen", "0.0.0.0:0", "--insecure-plaintext"],
    );
    let url = format!("http://127.0.0.1:{}", server.address.port());
    let note = checkpoint(&url, &ConnectOptions::default())
        .await
        .expect("served in plain text, reached through loopback");
    assert!(note.starts_with(isnad_tests::ORIGIN), "{note}");
    drop(server);

    // TLS on any address needs no flag.
    let files = TlsFiles::generate();
    let mut args = files.server_args();
    args.extend(["--listen".into(), "0.0.0.0:0".into()]);
    let server = start(&data, &args);
    let url = https_url(&server);
    checkpoint(&url, &options(&files.ca, None))
        .await
        .expect("TLS on every address");
}

/// The client refuses a plain-text URL to a host that is not loopback before sending anything;
/// no connection is attempted (the address is a documentation address, TEST-NET-1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_refuses_plain_text_beyond_loopback() {
    let url = "http://192.0.2.1:50051";
    match Client::connect(url).await {
        Err(ClientError::Connect(ConnectError::PlaintextNotLoopback { host })) => {
            assert_eq!(host, "192.0.2.1");
        }
        other => panic!("expected a refusal of plain text, got {other:?}"),
    }
    let isnad = Isnad::new(url);
    let data = DataDir::init();
    let run = trust_init(&isnad, &data, 2, &[]);
    assert!(
        run.stderr
            .contains("refusing plain text (http://) to 192.0.2.1")
            && run.stderr.contains("--insecure"),
        "{}",
        run.stderr
    );
}

/// A client that opens a connection and never says hello holds a connection slot only for the
/// TLS handshake timeout: with one slot, a real client gets in once it expires. Before the
/// handshake was bounded, the silent socket held the only slot for good (checked by building
/// the server without the timeout: the socket stayed open and the real client never connected
/// within the deadline).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_handshake_frees_its_slot() {
    let files = TlsFiles::generate();
    let data = DataDir::init();
    let mut args = files.server_args();
    args.extend(["--connections-max".into(), "1".into()]);
    let server = start(&data, &args);

    let mut silent = std::net::TcpStream::connect(server.address).expect("a TCP connection");
    silent
        .set_read_timeout(Some(DEADLINE))
        .expect("a read timeout");
    let started = std::time::Instant::now();
    let closed = tokio::task::spawn_blocking(move || {
        let mut buffer = [0u8; 16];
        silent.read(&mut buffer)
    });
    let note = tokio::time::timeout(DEADLINE, async {
        loop {
            if let Ok(note) = checkpoint(&https_url(&server), &options(&files.ca, None)).await {
                return note;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("a real client connects once the silent handshake timed out");
    assert!(note.starts_with(isnad_tests::ORIGIN), "{note}");
    let read = closed.await.expect("join");
    assert!(
        matches!(read, Ok(0)),
        "the server closed the silent connection: {read:?}"
    );
    assert!(
        started.elapsed() >= isnad_server::tls::TLS_HANDSHAKE_TIMEOUT / 2,
        "the slot was held while the handshake could still come"
    );
}
