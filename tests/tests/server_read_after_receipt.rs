//! Read after receipt: once a client holds a receipt of tree size N from a server, every later
//! read on that server answers from a tree of at least N: the checkpoint, the entries, and a
//! verification answer whose history holds the receipted event.
//!
//! Before the fix, the sequencer answered a group's requests and only then published the
//! group's tree to readers, so a client that read at once could see size N-1 (a checkpoint
//! smaller than its receipt's, "not within the tree" for its own entry, IN_TRANSIT after its
//! own receive). With the publish moved back after the answers, this test failed in every one
//! of five runs (25 to 72 stale reads of 480 rounds each); with the fix it finds none.

use std::sync::Arc;

use isnad_client::SignedChannel as Channel;
use isnad_client::sign::sign_event;
use isnad_core::event::Item;
use isnad_core::verdict::HistoryKind;
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, Server, mirror, scenario_keys};

/// Clients that capture and then read, each on its own connection, all at once: each one is
/// the load under which the others read.
const CLIENTS: usize = 8;
/// Capture-then-read rounds per client.
const ROUNDS: usize = 60;

/// One round's event, and the scan that names its unit.
struct Round {
    signed: pb::SignedEvent,
    scan: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_read_after_a_receipt_reflects_the_receipted_tree() {
    let mut scenario = Scenario::today();
    let serials: Vec<String> = (0..CLIENTS * ROUNDS).map(|n| format!("R{n}")).collect();
    let serials: Vec<&str> = serials.iter().map(String::as_str).collect();
    let units = scenario.commission("L1", &serials);
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let keys = scenario_keys(&scenario);
    mirror(&server, &scenario, &keys, 1).await;

    // One shipment per unit, manufacturer to distributor: independent events, so the clients
    // may capture them in any order.
    let shipped_from = scenario.entries.len();
    for unit in &units {
        scenario.ship(
            Who::Manufacturer,
            vec![Item::Unit(unit.clone())],
            Who::Distributor,
        );
    }
    let manufacturer = scenario.actor(Who::Manufacturer).signing_key.clone();
    let mut rounds: Vec<Round> = scenario.entries[shipped_from..]
        .iter()
        .zip(&units)
        .map(|(entry, unit)| {
            let HistoryKind::Event(event) = &entry.kind else {
                unreachable!("the scenario's shipments are events")
            };
            Round {
                signed: sign_event(&manufacturer, isnad_tests::ORIGIN, event),
                scan: scenario.label(unit, "L1"),
            }
        })
        .collect();

    let server = Arc::new(server);
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let mine: Vec<Round> = rounds.drain(..ROUNDS).collect();
        let channel = server.channel().await;
        clients.push(tokio::spawn(capture_then_read(channel, mine)));
    }
    let mut stale = Vec::new();
    for client in clients {
        stale.extend(client.await.expect("the client task completes"));
    }
    assert!(
        stale.is_empty(),
        "{} stale reads in {} rounds:\n{}",
        stale.len(),
        CLIENTS * ROUNDS,
        stale.join("\n")
    );
}

/// Captures each round's event, then reads on the same connection; returns every read that
/// did not reflect the receipt just received.
async fn capture_then_read(channel: Channel, rounds: Vec<Round>) -> Vec<String> {
    let mut capture = pb::capture_client::CaptureClient::new(channel.clone());
    let mut log = pb::log_client::LogClient::new(channel.clone());
    let mut verification = pb::verification_client::VerificationClient::new(channel);
    let mut stale = Vec::new();
    for round in rounds {
        let receipt = capture
            .capture(pb::CaptureRequest {
                events: vec![round.signed],
            })
            .await
            .expect("the shipment is accepted")
            .into_inner()
            .receipts
            .remove(0);
        let (index, size) = (receipt.leaf_index, receipt.tree_size);

        let checkpoint = log
            .get_checkpoint(pb::GetCheckpointRequest {})
            .await
            .expect("checkpoint")
            .into_inner();
        if checkpoint.tree_size < size {
            stale.push(format!(
                "checkpoint of size {} after a receipt of size {size}",
                checkpoint.tree_size
            ));
        }

        match log
            .get_entries(pb::GetEntriesRequest {
                start: index,
                end: index + 1,
            })
            .await
        {
            Ok(entries) => {
                let entries = entries.into_inner().entries;
                let hash = entries.first().map(|entry| isnad_log::leaf_hash(entry));
                assert_eq!(
                    hash.as_ref().map(|h| &h[..]),
                    Some(&receipt.leaf_hash[..]),
                    "entry {index} is the receipted one"
                );
            }
            Err(status) => stale.push(format!("entry {index} after its receipt: {status:?}")),
        }

        let answer = verification
            .verify(pb::VerifyRequest {
                scan: round.scan.clone(),
                ..Default::default()
            })
            .await
            .expect("verification answers")
            .into_inner();
        if !answer.history.iter().any(|entry| entry.index == index) {
            stale.push(format!(
                "verification of {} after the receipt of entry {index} (size {size}) leaves it out",
                round.scan
            ));
        }
    }
    stale
}
