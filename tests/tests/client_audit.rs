//! `isnad audit` as an independent auditor of the service: an entry that breaks the rules,
//! validly signed and appended straight into the stopped server's store with the log's own
//! key (as a dishonest or broken service would), is reported with the rule it breaks.

use std::path::Path;

use isnad_client::keys::read_private_key;
use isnad_client::sign::{random_event_id, sign_event};
use isnad_core::envelope::encode_event_entry;
use isnad_core::event::{Event, Item, Payload, UnitId};
use isnad_log::checkpoint::NoteSigner;
use isnad_store::Store;
use isnad_testkit::dates::expiry_ahead;
use isnad_tests::circuit::Circuit;
use isnad_tests::{DataDir, Server};

/// The log key's file and the store's directory inside a data directory (see
/// `isnad-server`'s `init`).
const LOG_KEY_FILE: &str = "log.key";
const STORE_DIR: &str = "store";

/// Appends one event entry, signed by `event_key` and recorded now, to the log in `data_dir`
/// (its server stopped), with a checkpoint signed by the log's key; no state changes. Returns
/// the entry's log index.
fn plant(data_dir: &Path, event_key: &Path, event: &Event) -> u64 {
    let key = read_private_key(event_key)
        .expect("the participant's key")
        .key;
    let signed = sign_event(&key, isnad_tests::ORIGIN, event);
    let recorded_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    let entry = encode_event_entry(
        recorded_unix_ms,
        &signed.public_key[..].try_into().expect("32 bytes"),
        &signed.signature[..].try_into().expect("64 bytes"),
        &signed.body,
    );
    let log_key = read_private_key(&data_dir.join(LOG_KEY_FILE)).expect("the log key");
    let signer = NoteSigner::new(&log_key.name, log_key.key).expect("the log's key name");
    let store = Store::open(&data_dir.join(STORE_DIR)).expect("the stopped server's store");
    let outcome = store
        .append(&[entry], Vec::new(), &signer)
        .expect("appended");
    outcome.first_index.0
}

#[test]
fn the_audit_reports_an_entry_the_service_should_not_have_accepted() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let c = Circuit::admit(&data, &server);
    c.by(
        0,
        &c.manufacturer,
        "commission",
        &[
            "--gtin",
            &c.gtin,
            "--lot",
            "L1",
            "--expiry",
            &expiry_ahead(),
            "--serial",
            "S1",
        ],
    );
    let clean = c.isnad.json(&["audit"]);
    assert_eq!(clean["findings"], serde_json::json!([]));
    assert!(server.terminate().success());

    // The distributor ships a unit the manufacturer holds: the rules refuse it (NOT_HOLDER).
    let ship = Event {
        id: random_event_id().expect("randomness"),
        event_time_unix_ms: 1,
        actor: c.distributor.party.parse().expect("a GLN"),
        site: c.distributor.site.parse().expect("a GLN"),
        payload: Payload::Ship {
            items: vec![Item::Unit(UnitId {
                gtin: c.gtin.parse().expect("a GTIN"),
                serial: "S1".parse().expect("a serial"),
            })],
            destination_party: c.hospital.party.parse().expect("a GLN"),
            destination_site: c.hospital.site.parse().expect("a GLN"),
        },
    };
    let planted = plant(&data.path(), &c.distributor.key, &ship);

    let restarted = Server::start(&data.path());
    let url = restarted.url();
    let report = c
        .isnad
        .expect(1, &["--json", "audit", "--server", &url])
        .json();
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["index"], planted);
    let problem = findings[0]["problem"].as_str().expect("a problem");
    assert!(problem.contains("NOT_HOLDER"), "{problem}");
    assert_eq!(report["entries"], planted + 1);

    let human = c.isnad.expect(1, &["audit", "--server", &url]);
    assert!(
        human
            .stdout
            .contains("1 entries should not have been accepted"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains(&format!("entry {planted}: the rules refuse it: NOT_HOLDER")),
        "{}",
        human.stdout
    );
}
