//! Crash recovery of the real server: SIGKILL while several clients capture, restart, and
//! every acknowledged event is there, byte for byte as its client sent it, with a checkpoint
//! consistent with every one acknowledged.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use isnad_client::sign::sign_event;
use isnad_core::event::{Payload, SerialRange};
use isnad_log::checkpoint::NoteVerifier;
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, Server, mirror, scenario_keys, signed_events, tree_size};
use tokio::sync::{Mutex, watch};

/// Concurrent clients capturing while the server is killed.
const WRITERS: u32 = 4;

/// Acknowledgements (from all writers together) required before the kill.
const ACKNOWLEDGED_MIN: usize = 200;

/// How long the writers may take to collect [`ACKNOWLEDGED_MIN`] acknowledgements.
const ACKNOWLEDGED_TIMEOUT: Duration = Duration::from_secs(120);

/// An event a client sent and the receipt that acknowledged it.
type Acknowledged = (pb::SignedEvent, pb::Receipt);

/// A small commission by `writer`, its id unique to the round, writer and number.
fn commission(scenario: &mut Scenario, round: u32, writer: u32, n: u32) -> pb::SignedEvent {
    let name = format!("R{round}W{writer}N{n}");
    let payload = Payload::Commission {
        lot: scenario.lot(&name),
        expiry: scenario.expiry,
        production_date: None,
        serials: vec![],
        serial_ranges: vec![SerialRange {
            prefix: format!("{name}S"),
            first: 1,
            count: 10,
            width: 3,
        }],
        quantity: 0,
    };
    let mut event = scenario.event(Who::Manufacturer, payload);
    event.id.0[0] = u8::try_from(round).expect("a few rounds");
    event.id.0[1] = u8::try_from(writer).expect("a few writers");
    event.id.0[2..6].copy_from_slice(&n.to_be_bytes());
    sign_event(
        &scenario.manufacturer.signing_key,
        isnad_tests::ORIGIN,
        &event,
    )
}

/// Starts [`WRITERS`] clients that capture until the server goes away. Each acknowledgement
/// is recorded and counted in `count`; a refusal before `killed` is set fails the writer.
async fn start_writers(
    server: &Server,
    scenario: &Scenario,
    round: u32,
    killed: &Arc<AtomicBool>,
    acknowledged: &Arc<Mutex<Vec<Acknowledged>>>,
    count: &Arc<watch::Sender<usize>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let mut capture = server.capture().await;
        let mut scenario = scenario.clone();
        let (killed, acknowledged, count) = (killed.clone(), acknowledged.clone(), count.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let signed = commission(&mut scenario, round, writer, n);
                let request = pb::CaptureRequest {
                    events: vec![signed.clone()],
                };
                match capture.capture(request).await {
                    Ok(response) => {
                        let receipt = response.into_inner().receipts.remove(0);
                        acknowledged.lock().await.push((signed, receipt));
                        count.send_modify(|count| *count += 1);
                    }
                    // The server is gone: what it acknowledged is checked after the restart.
                    Err(_) if killed.load(Ordering::SeqCst) => return,
                    Err(status) => panic!(
                        "round {round}: writer {writer}'s event {n} refused before the kill: \
                         {status:?}"
                    ),
                }
            }
        }));
    }
    writers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigkill() {
    let scenario = Scenario::today();
    let data = DataDir::init();
    let verifier = NoteVerifier::from_vkey(&data.log_vkey).expect("init printed a valid vkey");
    for round in 0..3u32 {
        let server = Server::start(&data.path());
        if round == 0 {
            mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
        }
        let before = tree_size(&server).await;
        let killed = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(Vec::<Acknowledged>::new()));
        let (count, mut counted) = watch::channel(0usize);
        let count = Arc::new(count);
        let writers =
            start_writers(&server, &scenario, round, &killed, &acknowledged, &count).await;
        // The kill comes once many events from every writer have been acknowledged, while the
        // writers keep capturing.
        tokio::time::timeout(
            ACKNOWLEDGED_TIMEOUT,
            counted.wait_for(|count| *count >= ACKNOWLEDGED_MIN),
        )
        .await
        .unwrap_or_else(|_| {
            panic!(
                "round {round}: {ACKNOWLEDGED_MIN} acknowledgements within {ACKNOWLEDGED_TIMEOUT:?}"
            )
        })
        .expect("the writers hold the counter");
        killed.store(true, Ordering::SeqCst);
        server.kill();
        for writer in writers {
            writer
                .await
                .expect("a writer saw no refusal before the kill");
        }
        let acknowledged = acknowledged.lock().await.clone();
        assert!(acknowledged.len() >= ACKNOWLEDGED_MIN);

        let server = Server::start(&data.path());
        check_recovered(&server, &verifier, round, before, &acknowledged).await;
        server.kill();
    }
}

/// Every acknowledged event is in the restarted log, byte for byte as its client sent it, and
/// the restarted log extends every checkpoint a receipt carried.
async fn check_recovered(
    server: &Server,
    verifier: &NoteVerifier,
    round: u32,
    before: u64,
    acknowledged: &[Acknowledged],
) {
    let after = server
        .log()
        .await
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("checkpoint")
        .into_inner();
    let after_checkpoint = verifier
        .verify(&after.checkpoint)
        .expect("the new checkpoint is signed by the log");
    let highest = acknowledged
        .iter()
        .map(|(_, receipt)| receipt.leaf_index)
        .max()
        .expect("some acknowledgements");
    assert!(
        highest < after.tree_size,
        "round {round}: acknowledged entry {highest} is gone (tree size {})",
        after.tree_size
    );
    let logged = signed_events(server, before, after.tree_size).await;
    let mut indexes = BTreeSet::new();
    for (sent, receipt) in acknowledged {
        assert!(
            indexes.insert(receipt.leaf_index),
            "round {round}: two acknowledgements of entry {}",
            receipt.leaf_index
        );
        let position = usize::try_from(receipt.leaf_index - before).expect("fits");
        assert_eq!(
            &logged[position], sent,
            "round {round}: entry {} holds the bytes its client sent",
            receipt.leaf_index
        );
    }
    let mut log = server.log().await;
    let mut checked = BTreeSet::new();
    for (_, receipt) in acknowledged {
        let old = verifier
            .verify(&receipt.checkpoint)
            .expect("receipts carry signed checkpoints");
        if !checked.insert(old.size.0) || old.size.0 == after.tree_size {
            continue;
        }
        let proof = log
            .get_consistency_proof(pb::GetConsistencyProofRequest {
                first_size: old.size.0,
                second_size: after.tree_size,
            })
            .await
            .expect("consistency proof")
            .into_inner();
        isnad_log::verify_consistency_bytes(
            old.size,
            after_checkpoint.size,
            &proof.hashes,
            &old.root,
            &after_checkpoint.root,
        )
        .expect("the restarted log extends every acknowledged checkpoint");
    }
}
