//! Crash recovery of the real server: SIGKILL while clients capture, restart, and every
//! acknowledged event is there, with a checkpoint consistent with every one acknowledged.

use std::sync::Arc;

use isnad_client::sign::sign_event;
use isnad_core::event::{Payload, SerialRange};
use isnad_core::testkit::{Scenario, Who, date};
use isnad_log::checkpoint::NoteVerifier;
use isnad_proto::pb;
use isnad_tests::{DataDir, Server, mirror, scenario_keys, tree_size};
use tokio::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigkill() {
    let scenario = Scenario::new();
    let data = DataDir::init();
    let verifier = NoteVerifier::from_vkey(&data.log_vkey).expect("init printed a valid vkey");
    for round in 0..3 {
        let server = Server::start(&data.path());
        if round == 0 {
            mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
        }
        let before = server
            .log()
            .await
            .get_checkpoint(pb::GetCheckpointRequest {})
            .await
            .expect("checkpoint")
            .into_inner();
        // Four writers commission small lots as fast as they can; the server is killed while
        // they run. Every receipt that came back is recorded.
        let acknowledged = Arc::new(Mutex::new(Vec::<pb::Receipt>::new()));
        let mut writers = Vec::new();
        for writer in 0..4u32 {
            let mut capture = server.capture().await;
            let acknowledged = acknowledged.clone();
            let mut scenario = scenario.clone();
            let key = scenario.manufacturer.signing_key.clone();
            writers.push(tokio::spawn(async move {
                for n in 0..10_000u32 {
                    let payload = Payload::Commission {
                        lot: scenario.lot(&format!("R{round}W{writer}N{n}")),
                        expiry: date("281231"),
                        production_date: None,
                        serials: vec![],
                        serial_ranges: vec![SerialRange {
                            prefix: format!("R{round}W{writer}N{n}S"),
                            first: 1,
                            count: 10,
                            width: 3,
                        }],
                        quantity: 0,
                    };
                    let mut event = scenario.event(Who::Manufacturer, payload);
                    event.id.0[0] = round as u8;
                    event.id.0[1] = writer as u8;
                    event.id.0[2..6].copy_from_slice(&n.to_be_bytes());
                    match capture
                        .capture(pb::CaptureRequest {
                            events: vec![sign_event(&key, isnad_tests::ORIGIN, &event)],
                        })
                        .await
                    {
                        Ok(response) => acknowledged
                            .lock()
                            .await
                            .extend(response.into_inner().receipts),
                        Err(_) => return,
                    }
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(300 + 200 * round)).await;
        server.kill();
        for writer in writers {
            writer.await.expect("writer task");
        }
        let acknowledged = acknowledged.lock().await.clone();
        assert!(
            !acknowledged.is_empty(),
            "round {round}: some captures were acknowledged before the kill"
        );

        let server = Server::start(&data.path());
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
        let mut log = server.log().await;
        for receipt in &acknowledged {
            assert!(
                receipt.leaf_index < after.tree_size,
                "round {round}: acknowledged entry {} is gone",
                receipt.leaf_index
            );
            let old = verifier
                .verify(&receipt.checkpoint)
                .expect("receipts carry signed checkpoints");
            let entries = log
                .get_entries(pb::GetEntriesRequest {
                    start: receipt.leaf_index,
                    end: receipt.leaf_index + 1,
                })
                .await
                .expect("entry")
                .into_inner()
                .entries;
            assert_eq!(
                isnad_log::leaf_hash(&entries[0]).to_vec(),
                receipt.leaf_hash,
                "round {round}: same entry"
            );
            if old.size.0 < after.tree_size {
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
        assert!(after.tree_size >= before.tree_size);
        assert_eq!(tree_size(&server).await, after.tree_size);
        server.kill();
    }
}
