//! The log and query services of the real server: checkpoints verify with the log's vkey,
//! entries and proofs verify against them, the follow stream delivers new entries, and the
//! circuit views (history, lot units, party events, inbound shipments) answer.

use futures::StreamExt;
use isnad_client::sign::sign_event;
use isnad_core::event::{Item, Payload};
use isnad_log::checkpoint::NoteVerifier;
use isnad_log::{LeafIndex, TreeSize};
use isnad_proto::contract::{REASON_METADATA_KEY, Reason};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, Server, mirror, scenario_keys};
use tonic::Code;

/// RFC 9162's MTH, computed the slow obvious way.
fn naive_root(leaves: &[isnad_log::Hash]) -> isnad_log::Hash {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let split = leaves.len().next_power_of_two() / 2;
    isnad_log::node_hash(&naive_root(&leaves[..split]), &naive_root(&leaves[split..]))
}

async fn serving() -> (DataDir, Server, Scenario) {
    let mut scenario = Scenario::today();
    let units = scenario.commission("L1", &["SN1", "SN2", "SN3"]);
    scenario.ship(
        Who::Manufacturer,
        vec![Item::Unit(units[0].clone())],
        Who::Distributor,
    );
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    (data, server, scenario)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_and_proofs_verify_against_signed_checkpoints() {
    let (data, server, scenario) = serving().await;
    let verifier = NoteVerifier::from_vkey(&data.log_vkey).expect("vkey");
    let mut log = server.log().await;
    let checkpoint = log
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("checkpoint")
        .into_inner();
    let signed = verifier
        .verify(&checkpoint.checkpoint)
        .expect("signed by the log");
    assert_eq!(signed.size, TreeSize(checkpoint.tree_size));
    assert_eq!(checkpoint.tree_size, scenario.entries.len() as u64);

    let entries = log
        .get_entries(pb::GetEntriesRequest {
            start: 0,
            end: checkpoint.tree_size,
        })
        .await
        .expect("entries")
        .into_inner()
        .entries;
    for (index, entry) in entries.iter().enumerate() {
        let leaf = isnad_log::leaf_hash(entry);
        let by_index = log
            .get_inclusion_proof(pb::GetInclusionProofRequest {
                leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(index as u64)),
                tree_size: 0,
            })
            .await
            .expect("proof by index")
            .into_inner();
        isnad_log::verify_inclusion_bytes(
            &leaf,
            LeafIndex(index as u64),
            signed.size,
            &by_index.hashes,
            &signed.root,
        )
        .expect("inclusion proof verifies");
        let by_hash = log
            .get_inclusion_proof(pb::GetInclusionProofRequest {
                leaf: Some(pb::get_inclusion_proof_request::Leaf::LeafHash(
                    leaf.to_vec(),
                )),
                tree_size: 0,
            })
            .await
            .expect("proof by leaf hash")
            .into_inner();
        assert_eq!(by_hash.leaf_index, index as u64);
        let decoded =
            isnad_proto::decode_history_entry(index as u64, entry).expect("entries decode");
        if index > 0 {
            assert_eq!(
                decoded.kind, scenario.entries[index].kind,
                "entry {index} is the event sent"
            );
        }
    }
    for first in 1..checkpoint.tree_size {
        let leaves: Vec<_> = entries[..first as usize]
            .iter()
            .map(|e| isnad_log::leaf_hash(e))
            .collect();
        let old_root = naive_root(&leaves);
        let proof = log
            .get_consistency_proof(pb::GetConsistencyProofRequest {
                first_size: first,
                second_size: 0,
            })
            .await
            .expect("consistency")
            .into_inner();
        isnad_log::verify_consistency_bytes(
            TreeSize(first),
            signed.size,
            &proof.hashes,
            &old_root,
            &signed.root,
        )
        .expect("consistency proof verifies");
    }
    // Bad requests name what is wrong.
    let err = log
        .get_entries(pb::GetEntriesRequest { start: 3, end: 2 })
        .await
        .expect_err("reversed");
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = log
        .get_entries(pb::GetEntriesRequest {
            start: 0,
            end: 5_000,
        })
        .await
        .expect_err("beyond");
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = log
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            leaf: Some(pb::get_inclusion_proof_request::Leaf::LeafHash(vec![7; 32])),
            tree_size: 0,
        })
        .await
        .expect_err("unknown leaf");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), Some(Reason::UnknownLeaf));
    // A leaf past the tree asked for, and a tree past the log, are two different refusals.
    let err = log
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(1)),
            tree_size: 1,
        })
        .await
        .expect_err("leaf beyond the tree asked for");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), Some(Reason::LeafNotInTree));
    let err = log
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(0)),
            tree_size: checkpoint.tree_size + 1,
        })
        .await
        .expect_err("tree beyond the log");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), Some(Reason::BeyondTreeSize));
}

/// The reason code a refusal carries.
fn reason(status: &tonic::Status) -> Option<Reason> {
    let name = status.metadata().get(REASON_METADATA_KEY)?.to_str().ok()?;
    Some(name.parse().expect("a reason code of the contract"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_streams_existing_then_new_entries() {
    let (_data, server, mut scenario) = serving().await;
    let size = scenario.entries.len() as u64;
    let mut stream = server
        .log()
        .await
        .follow(pb::FollowRequest { start: 0 })
        .await
        .expect("follow")
        .into_inner();
    let mut received = 0u64;
    while received < size {
        let message = stream.next().await.expect("a message").expect("ok");
        assert_eq!(message.start, received);
        received += message.entries.len() as u64;
    }
    let event = scenario.event(
        Who::Manufacturer,
        Payload::Recall {
            lot: scenario.lot("L1"),
            reason: "test".into(),
        },
    );
    let signed = sign_event(
        &scenario.manufacturer.signing_key,
        isnad_tests::ORIGIN,
        &event,
    );
    server
        .capture()
        .await
        .capture(pb::CaptureRequest {
            events: vec![signed],
        })
        .await
        .expect("accepted");
    // Generous: on a loaded machine the follower's wake-up may take a while; a lost entry
    // still fails the test.
    let wait = std::time::Duration::from_secs(60);
    let message = tokio::time::timeout(wait, stream.next())
        .await
        .unwrap_or_else(|_| panic!("the followed entry arrives within {wait:?}"))
        .expect("a message")
        .expect("ok");
    assert_eq!(message.start, size);
    assert_eq!(message.entries.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuit_views_answer() {
    let (_data, server, scenario) = serving().await;
    let mut views = server.verification().await;
    let units = views
        .lot_units(pb::LotUnitsRequest {
            gtin: scenario.gtin.to_string(),
            lot: "L1".into(),
            after_serial: String::new(),
            page_size: 2,
        })
        .await
        .expect("lot units")
        .into_inner();
    assert_eq!(units.units.len(), 2);
    assert_eq!(units.next_after_serial, "SN2");
    let rest = views
        .lot_units(pb::LotUnitsRequest {
            gtin: scenario.gtin.to_string(),
            lot: "L1".into(),
            after_serial: "SN2".into(),
            page_size: 2,
        })
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(rest.units.len(), 1);
    assert!(rest.next_after_serial.is_empty());

    let inbound = views
        .inbound_shipments(pb::InboundShipmentsRequest {
            party: scenario.distributor.party.to_string(),
            ..Default::default()
        })
        .await
        .expect("inbound")
        .into_inner();
    assert_eq!(
        inbound.shipments.len(),
        1,
        "one shipment in transit to the distributor"
    );

    let events = views
        .party_events(pb::PartyEventsRequest {
            party: scenario.manufacturer.party.to_string(),
            ..Default::default()
        })
        .await
        .expect("party events")
        .into_inner();
    assert!(
        events.entries.len() >= 3,
        "register, commission and ship by the manufacturer"
    );

    let history = views
        .history(pb::HistoryRequest {
            subject: Some(pb::history_request::Subject::Unit(pb::UnitRef {
                gtin: scenario.gtin.to_string(),
                serial: "SN1".into(),
            })),
        })
        .await
        .expect("history")
        .into_inner();
    assert!(history.history.len() >= 2, "commission and ship");

    let err = views
        .lot_units(pb::LotUnitsRequest {
            gtin: scenario.gtin.to_string(),
            lot: "NOPE".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown lot");
    assert_eq!(err.code(), Code::NotFound);
    let err = views
        .lot_units(pb::LotUnitsRequest {
            gtin: "123".into(),
            lot: "L1".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad GTIN");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("gtin"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_answer() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let data = DataDir::init();
    let server = Server::start(&data.path());
    let mut health = HealthClient::new(server.channel().await);
    for service in [
        "",
        "isnad.v1.Capture",
        "isnad.v1.Registry",
        "isnad.v1.Verification",
        "isnad.v1.Log",
    ] {
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|status| panic!("{service}: {status:?}"))
            .into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32, "{service}");
    }
    // Both reflection versions list every service: clients such as Python's grpcio-reflection
    // speak only v1alpha.
    let listed = [
        (
            "v1",
            reflection_v1_services(server.anonymous_channel().await).await,
        ),
        (
            "v1alpha",
            reflection_v1alpha_services(server.anonymous_channel().await).await,
        ),
    ];
    for (version, names) in listed {
        for service in [
            "isnad.v1.Capture",
            "isnad.v1.Registry",
            "isnad.v1.Verification",
            "isnad.v1.Log",
        ] {
            assert!(
                names.iter().any(|n| n == service),
                "{version}: {service} in {names:?}"
            );
        }
    }
}

/// The services listed by `grpc.reflection.v1`.
async fn reflection_v1_services(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = ServerReflectionClient::new(channel)
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection v1")
        .into_inner();
    let answer = answers.next().await.expect("an answer").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("a list of services, got {answer:?}")
    };
    list.service.into_iter().map(|s| s.name).collect()
}

/// The services listed by `grpc.reflection.v1alpha`.
async fn reflection_v1alpha_services(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = ServerReflectionClient::new(channel)
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection v1alpha")
        .into_inner();
    let answer = answers.next().await.expect("an answer").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("a list of services, got {answer:?}")
    };
    list.service.into_iter().map(|s| s.name).collect()
}
