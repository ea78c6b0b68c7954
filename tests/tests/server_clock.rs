//! Recorded time never goes backwards, also across a restart: a server whose clock was ahead
//! (a drifted clock, since corrected) recorded entries in the future; after the restart on the
//! right clock, the next entries are recorded no earlier than the last one.
//!
//! Before the fix the sequencer's clock started from the system clock at every start; this
//! test then failed with the second entry recorded a day before the first.

use isnad_core::envelope;
use isnad_core::verdict::HistoryKind;
use isnad_proto::pb;
use isnad_testkit::Scenario;
use isnad_tests::{DataDir, Server, mirror, scenario_keys};

const DAY_MS: i64 = 86_400_000;

async fn recorded_unix_ms(server: &Server, index: u64) -> i64 {
    let entry = server
        .log()
        .await
        .get_entries(pb::GetEntriesRequest {
            start: index,
            end: index + 1,
        })
        .await
        .expect("the entry")
        .into_inner()
        .entries
        .remove(0);
    envelope::decode_entry(&entry)
        .expect("entries decode")
        .recorded_unix_ms
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_time_never_goes_backwards_across_a_restart() {
    let mut scenario = Scenario::today();
    let setup = scenario.entries.len();
    scenario.commission("L1", &["S1"]);
    let keys = scenario_keys(&scenario);
    let data = DataDir::init();

    // A day ahead: every entry of the setup is recorded tomorrow.
    let ahead = Server::start_skewed(&data.path(), DAY_MS);
    let mut setup_only = scenario.clone();
    setup_only.entries.truncate(setup);
    mirror(&ahead, &setup_only, &keys, 1).await;
    let last_ahead = recorded_unix_ms(&ahead, setup as u64 - 1).await;
    assert!(ahead.terminate().success());

    // The clock is right again: the next entry is not recorded before the last one.
    let right = Server::start(&data.path());
    let HistoryKind::Event(commission) = &scenario.entries[setup].kind else {
        unreachable!("the commission is an event")
    };
    let key = &scenario.actor(isnad_testkit::Who::Manufacturer).signing_key;
    let receipt = right
        .capture()
        .await
        .capture(pb::CaptureRequest {
            events: vec![isnad_client::sign::sign_event(
                key,
                isnad_tests::ORIGIN,
                commission,
            )],
        })
        .await
        .expect("the commission is accepted")
        .into_inner()
        .receipts
        .remove(0);
    let after_restart = recorded_unix_ms(&right, receipt.leaf_index).await;
    assert!(
        after_restart >= last_ahead,
        "recorded at {after_restart} after an entry recorded at {last_ahead}"
    );
}
