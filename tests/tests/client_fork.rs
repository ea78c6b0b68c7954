//! Fork detection against real servers: two servers share one initialised data directory (so
//! one log key and one genesis) and then diverge. A client that trusted one of them detects
//! the other's split view, saves both signed checkpoints as evidence, and from then on refuses
//! to trust the log; a server merely behind the pinned checkpoint is refused, not recorded.

use std::path::{Path, PathBuf};
use std::process::Command;

use isnad_client::trust::ForkEvidence;
use isnad_log::checkpoint::NoteVerifier;
use isnad_tests::circuit::{Circuit, Isnad};
use isnad_tests::{DataDir, Server};

/// A copy of an initialised data directory, modes kept (the log key must stay 0600).
fn copy_of(data: &DataDir) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("data");
    let status = Command::new("cp")
        .arg("-a")
        .arg(data.path())
        .arg(&copy)
        .status()
        .expect("cp runs");
    assert!(status.success(), "copying the data directory failed");
    (dir, copy)
}

/// Admits `count` newcomers on the server `isnad` talks to, as the regulator: events the
/// other copy of the log never saw.
fn diverge(isnad: &Isnad, c: &Circuit, count: usize) {
    for n in 0..count {
        let key = isnad
            .path(&format!("newcomer{n}.key"))
            .display()
            .to_string();
        let shown = isnad.json(&["key", "generate", "--out", &key]);
        let party = isnad_testkit::gln(&format!("6110000009{n:02}"));
        c.by(
            0,
            &c.regulator,
            "admit",
            &[
                "--server",
                &isnad.server,
                "--party",
                &party.to_string(),
                "--name",
                "newcomer",
                "--role",
                "inspector",
                "--party-site",
                &party.to_string(),
                "--public-key",
                shown["public_key"].as_str().expect("a key"),
            ],
        );
    }
}

/// Reads the fork evidence of a trust store and checks both checkpoints are signed by the log
/// key, name different trees, and are the ones expected.
#[track_caller]
fn check_evidence(trust_dir: &Path, log_vkey: &str, pinned_size: u64, other_size: u64) {
    let text = std::fs::read_to_string(trust_dir.join("fork.json")).expect("fork evidence saved");
    let evidence: ForkEvidence = serde_json::from_str(&text).expect("fork evidence parses");
    let verifier = NoteVerifier::from_vkey(log_vkey).expect("the log key");
    let pinned = verifier
        .verify(&evidence.pinned_checkpoint)
        .expect("signed by the log key");
    let other = verifier
        .verify(&evidence.other_checkpoint)
        .expect("signed by the log key");
    assert_eq!((pinned.size.0, other.size.0), (pinned_size, other_size));
    assert_ne!(pinned.root, other.root);
    assert!(!evidence.problem.is_empty());
}

#[test]
fn a_split_view_is_detected_saved_and_refused() {
    let data = DataDir::init();
    let (_a_dir, a_data) = copy_of(&data);
    let (_b_dir, b_data) = copy_of(&data);
    let a = Server::start(&a_data);
    let b = Server::start(&b_data);

    // The circuit is admitted on A; the client trusts A and pins its latest checkpoint.
    let c = Circuit::admit(&data, &a);
    assert_eq!(c.isnad.json(&["audit"])["findings"], serde_json::json!([]));
    let a_size = c.pinned_size();

    // B's log goes another way, and grows past A's; a second client trusts B.
    let mut b_client = Isnad::new(&b.url());
    b_client.caller = c.isnad.caller.clone();
    b_client.ok(&[
        "trust",
        "init",
        "--regulator-key",
        &c.regulator.public_key,
        "--log-key",
        &data.log_vkey,
    ]);
    diverge(&b_client, &c, a_size as usize);
    assert_eq!(b_client.json(&["audit"])["entries"], a_size + 1);

    let unit = c.label("L1", "S1");
    let refused = c.isnad.expect(2, &["verify", &unit, "--server", &b.url()]);
    assert!(
        refused.stderr.contains("possible split view"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stdout.is_empty(),
        "nothing shown: {}",
        refused.stdout
    );
    check_evidence(&c.isnad.trust_dir(), &data.log_vkey, a_size, a_size + 1);

    // The client that trusts B sees A's smaller tree: A cannot prove it extends B's, which is
    // refused, but a smaller tree alone (a lagging replica looks the same) is not recorded as a
    // fork.
    let behind = b_client.expect(2, &["verify", &unit, "--server", &a.url()]);
    assert!(
        behind.stderr.contains("is behind the pinned checkpoint"),
        "{}",
        behind.stderr
    );
    assert!(!b_client.trust_dir().join("fork.json").exists());
    b_client.expect(1, &["verify", &unit]);

    // The store now refuses every server of this log, the honest one included.
    let again = c.isnad.expect(2, &["verify", &unit]);
    assert!(again.stderr.contains("fork"), "{}", again.stderr);
    let shown = c.isnad.expect(2, &["--json", "trust", "show"]).json();
    assert!(shown["fork"]["problem"].is_string(), "{shown}");
}
