//! Who may read what, over a real server: signed requests and the read policy (rate limits
//! are in `server_rate_limits.rs`, the shared callers in `isnad_tests::callers`).
//!
//! Before the policy, anyone who reached the port read every party's shipments and events:
//! each refusal below was an answer (confirmed by running these tests against the server with
//! the request layer and the policy calls taken out: every "refused" row failed with `OK`, and
//! the anonymous `Verify` carried the whole history).

use isnad_client::SignedChannel;
use isnad_core::event::Payload;
use isnad_core::gs1::Gln;
use isnad_proto::pb;
use isnad_testkit::{Who, sscc_number};
use isnad_tests::callers::{
    As, Signing, World, check_status, good, manufacturer_events, now_ms, send, signed_request,
    world,
};
use isnad_tests::{mirror, scenario_keys, tree_size};
use tonic::Code;

/// A read the policy governs.
#[derive(Debug, Clone)]
enum Read {
    PartyEvents(Gln),
    InboundShipments(Gln),
    UnitHistory,
    SsccHistory,
    LotHistory,
    LotUnits,
    GetEntries,
    Genesis,
    Follow,
    Checkpoint,
    Participant,
}

/// Makes `read` over `channel`: `Ok` or the refusal.
async fn read(world: &World, channel: SignedChannel, read: &Read) -> Result<(), tonic::Status> {
    use pb::history_request::Subject;
    let mut verification = pb::verification_client::VerificationClient::new(channel.clone());
    let mut log = pb::log_client::LogClient::new(channel.clone());
    let unit = &world.units[0];
    let lot = || pb::LotQuantity {
        gtin: unit.gtin.to_string(),
        lot: "L1".into(),
        quantity: 0,
    };
    let history = |subject| pb::HistoryRequest {
        subject: Some(subject),
    };
    match read {
        Read::PartyEvents(party) => {
            let request = pb::PartyEventsRequest {
                party: party.to_string(),
                ..Default::default()
            };
            let answer = verification.party_events(request).await?.into_inner();
            assert!(!answer.entries.is_empty(), "the party has events");
        }
        Read::InboundShipments(party) => {
            let request = pb::InboundShipmentsRequest {
                party: party.to_string(),
                ..Default::default()
            };
            verification.inbound_shipments(request).await?;
        }
        Read::UnitHistory => {
            let subject = Subject::Unit(pb::UnitRef {
                gtin: unit.gtin.to_string(),
                serial: unit.serial.to_string(),
            });
            let answer = verification.history(history(subject)).await?.into_inner();
            assert!(!answer.history.is_empty());
        }
        Read::SsccHistory => {
            let subject = Subject::Sscc(sscc_number(1).to_string());
            verification.history(history(subject)).await?;
        }
        Read::LotHistory => {
            verification.history(history(Subject::Lot(lot()))).await?;
        }
        Read::LotUnits => {
            let request = pb::LotUnitsRequest {
                gtin: unit.gtin.to_string(),
                lot: "L1".into(),
                ..Default::default()
            };
            let answer = verification.lot_units(request).await?.into_inner();
            assert_eq!(answer.units.len(), 3);
        }
        Read::GetEntries => {
            log.get_entries(pb::GetEntriesRequest { start: 1, end: 3 })
                .await?;
        }
        Read::Genesis => {
            log.get_entries(pb::GetEntriesRequest { start: 0, end: 1 })
                .await?;
        }
        Read::Follow => {
            let mut stream = log
                .follow(pb::FollowRequest { start: 0 })
                .await?
                .into_inner();
            stream.message().await?.expect("a first batch");
        }
        Read::Checkpoint => {
            log.get_checkpoint(pb::GetCheckpointRequest {}).await?;
        }
        Read::Participant => {
            let mut registry = pb::registry_client::RegistryClient::new(channel);
            let request = pb::GetParticipantRequest {
                party: world.party(Who::Manufacturer).to_string(),
            };
            registry.get_participant(request).await?;
        }
    }
    Ok(())
}

/// What a read must answer: allowed, or refused with a status and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Required,
    Denied,
}

/// Each row of the policy table, allowed and refused, for an anonymous caller, a party the row
/// leaves out, the party it names, the regulator and an auditor. Before the policy every row
/// answered everyone (for example anonymous `PartyEvents` answered every event of the
/// manufacturer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_row_of_the_policy_answers_whom_it_names_and_refuses_the_others() {
    use As::*;
    use Expect::*;
    let w = world().await;
    let size = tree_size(&w.server).await;
    let manufacturer = w.party(Who::Manufacturer);
    let distributor = w.party(Who::Distributor);
    let everyone = [
        Anonymous,
        Manufacturer,
        Distributor,
        Inspector,
        Regulator,
        Auditor,
    ];
    let rows: Vec<(Read, Vec<(As, Expect)>)> = vec![
        (
            Read::PartyEvents(manufacturer),
            vec![
                (Anonymous, Required),
                (Distributor, Denied),
                (Inspector, Denied),
                (Manufacturer, Allowed),
                (Regulator, Allowed),
                (Auditor, Allowed),
            ],
        ),
        (
            Read::InboundShipments(distributor),
            vec![
                (Anonymous, Required),
                (Manufacturer, Denied),
                (Distributor, Allowed),
                (Regulator, Allowed),
                (Auditor, Allowed),
            ],
        ),
        (
            Read::LotHistory,
            vec![
                (Anonymous, Required),
                (Distributor, Denied),
                (Inspector, Denied),
                (Manufacturer, Allowed),
                (Regulator, Allowed),
                (Auditor, Allowed),
            ],
        ),
        (
            Read::LotUnits,
            vec![
                (Anonymous, Required),
                (Distributor, Denied),
                (Manufacturer, Allowed),
                (Regulator, Allowed),
                (Auditor, Allowed),
            ],
        ),
        (
            Read::UnitHistory,
            vec![
                (Anonymous, Required),
                (Inspector, Allowed),
                (Distributor, Allowed),
                (Auditor, Allowed),
            ],
        ),
        (
            Read::SsccHistory,
            vec![(Anonymous, Required), (Inspector, Allowed)],
        ),
        (
            Read::GetEntries,
            vec![
                (Anonymous, Required),
                (Manufacturer, Denied),
                (Inspector, Denied),
                (Regulator, Allowed),
                (Auditor, Allowed),
            ],
        ),
        (
            Read::Follow,
            vec![
                (Anonymous, Required),
                (Distributor, Denied),
                (Regulator, Allowed),
                (Auditor, Allowed),
            ],
        ),
        (
            Read::Genesis,
            everyone.iter().map(|who| (*who, Allowed)).collect(),
        ),
        (
            Read::Checkpoint,
            everyone.iter().map(|who| (*who, Allowed)).collect(),
        ),
        (
            Read::Participant,
            everyone.iter().map(|who| (*who, Allowed)).collect(),
        ),
    ];
    for (what, callers) in &rows {
        for (caller, expected) in callers {
            let got = read(&w, w.channel(*caller).await, what).await;
            let context = format!("{caller:?} reading {what:?}");
            match (expected, got) {
                (Allowed, Ok(())) => {}
                (Required, Err(status)) => {
                    check_status(&status, Code::Unauthenticated, "AUTHENTICATION_REQUIRED")
                }
                (Denied, Err(status)) => {
                    check_status(&status, Code::PermissionDenied, "NOT_PERMITTED")
                }
                (expected, got) => panic!("{context}: expected {expected:?}, got {got:?}"),
            }
        }
    }
    assert_eq!(tree_size(&w.server).await, size, "reads wrote nothing");
}

/// An anonymous `Verify` gets the verdict, its reasons and the signed checkpoint, and is told
/// the history was withheld; an admitted inspector gets everything. Before: the anonymous
/// answer carried the unit's state, its whole custody history and the authorizations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_verify_gets_the_verdict_without_the_history() {
    let w = world().await;
    let question = pb::VerifyRequest {
        scan: w.scenario.label(&w.units[0], "L1"),
        verifier_site: w.scenario.actor(Who::Distributor).site.to_string(),
        known_tree_size: 2,
    };
    let verify = |channel: SignedChannel| {
        let question = question.clone();
        async move {
            pb::verification_client::VerificationClient::new(channel)
                .verify(question)
                .await
                .expect("verify answers anyone")
                .into_inner()
        }
    };
    let full = verify(w.channel(As::Inspector).await).await;
    assert!(!full.history_withheld);
    assert!(full.state.is_some() && !full.history.is_empty() && !full.authorizations.is_empty());
    let anonymous = verify(w.channel(As::Anonymous).await).await;
    assert!(anonymous.history_withheld);
    assert_eq!(
        (anonymous.verdict, &anonymous.reasons),
        (full.verdict, &full.reasons)
    );
    assert_eq!(anonymous.checkpoint, full.checkpoint);
    assert!(anonymous.state.is_none());
    assert!(anonymous.history.is_empty() && anonymous.authorizations.is_empty());
    // The consistency proof stays: anyone can detect a fork.
    assert_eq!(anonymous.consistency_proof, full.consistency_proof);
    assert!(!anonymous.consistency_proof.is_empty());
}

/// Every way a signed request can be wrong is refused with `UNAUTHENTICATED` and its reason,
/// and writes nothing; the good request beside them is answered. A signature over another
/// method or another message does not carry over: replaying it fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_and_replayed_requests_are_refused() {
    let w = world().await;
    let channel = w.server.anonymous_channel().await;
    let size = tree_size(&w.server).await;
    send(&channel, signed_request(&w, &good(&w)))
        .await
        .expect("the good request is answered");
    let distributor = w.scenario.actor(Who::Distributor);
    let window_ms = isnad_proto::contract::CALLER_TIME_WINDOW.as_millis() as i64;
    let cases: Vec<(&str, Signing, &str)> = vec![
        (
            "another party's key",
            Signing {
                key: distributor.signing_key.clone(),
                ..good(&w)
            },
            "CALLER_UNKNOWN",
        ),
        (
            "a key nobody registered",
            Signing {
                key: isnad_testkit::signing_key(77),
                ..good(&w)
            },
            "CALLER_UNKNOWN",
        ),
        (
            "a stale time",
            Signing {
                time_ms: now_ms() - window_ms - 5_000,
                ..good(&w)
            },
            "CALLER_TIME_SKEW",
        ),
        (
            "a time ahead",
            Signing {
                time_ms: now_ms() + window_ms + 5_000,
                ..good(&w)
            },
            "CALLER_TIME_SKEW",
        ),
        (
            "a signature over another method",
            Signing {
                method: "/isnad.v1.Verification/InboundShipments".into(),
                ..good(&w)
            },
            "CALLER_SIGNATURE_INVALID",
        ),
        (
            "a signature over another message",
            Signing {
                signed_message: pb::PartyEventsRequest {
                    page_size: 5,
                    ..manufacturer_events(&w)
                },
                ..good(&w)
            },
            "CALLER_SIGNATURE_INVALID",
        ),
        (
            "a signature for another log",
            Signing {
                origin: "isnad.sante.gov.ma/log".into(),
                ..good(&w)
            },
            "CALLER_SIGNATURE_INVALID",
        ),
    ];
    for (name, signing, reason) in cases {
        let status = send(&channel, signed_request(&w, &signing))
            .await
            .expect_err(name);
        check_status(&status, Code::Unauthenticated, reason);
    }

    // Damaged metadata.
    type Damage = fn(&mut tonic::metadata::MetadataMap);
    let damages: Vec<(&str, Damage, &str)> = vec![
        (
            "a flipped signature",
            |m| {
                let signature = m
                    .get("isnad-caller-signature")
                    .and_then(|v| v.to_str().ok())
                    .expect("a signature")
                    .to_owned();
                let flipped = if signature.starts_with('0') { "1" } else { "0" };
                let value = format!("{flipped}{}", &signature[1..]);
                m.insert("isnad-caller-signature", value.parse().expect("ASCII"));
            },
            "CALLER_SIGNATURE_INVALID",
        ),
        (
            "no signature",
            |m| {
                m.remove("isnad-caller-signature");
            },
            "CALLER_MALFORMED",
        ),
        (
            "no party",
            |m| {
                m.remove("isnad-caller-party");
            },
            "CALLER_MALFORMED",
        ),
        (
            "an uppercase key",
            |m| {
                let key = m
                    .get("isnad-caller-key")
                    .and_then(|v| v.to_str().ok())
                    .expect("a key")
                    .to_uppercase();
                m.insert("isnad-caller-key", key.parse().expect("ASCII"));
            },
            "CALLER_MALFORMED",
        ),
        (
            "a time that is not digits",
            |m| {
                m.insert("isnad-caller-time", "-1".parse().expect("ASCII"));
            },
            "CALLER_MALFORMED",
        ),
        (
            "a party that is not a GLN",
            |m| {
                m.insert(
                    "isnad-caller-party",
                    "6111234000003".parse().expect("ASCII"),
                );
            },
            "CALLER_MALFORMED",
        ),
    ];
    for (name, damage, reason) in damages {
        let mut request = signed_request(&w, &good(&w));
        damage(request.metadata_mut());
        let status = send(&channel, request).await.expect_err(name);
        check_status(&status, Code::Unauthenticated, reason);
    }

    // Partial metadata is refused on a public method too.
    let mut request = tonic::Request::new(pb::GetCheckpointRequest {});
    request.metadata_mut().insert(
        "isnad-caller-party",
        "6110000000020".parse().expect("ASCII"),
    );
    let status = pb::log_client::LogClient::new(channel.clone())
        .get_checkpoint(request)
        .await
        .expect_err("partial metadata");
    check_status(&status, Code::Unauthenticated, "CALLER_MALFORMED");
    assert_eq!(tree_size(&w.server).await, size, "nothing was written");
}

/// A revoked key and a suspended party no longer authenticate; before, nothing was checked
/// (a request read everything without any key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_keys_and_suspended_parties_are_refused() {
    let mut w = world().await;
    let channel = w.server.anonymous_channel().await;
    let manufacturer = w.scenario.actor(Who::Manufacturer).clone();
    let distributor = w.scenario.actor(Who::Distributor).clone();
    // The distributor's key is revoked; the manufacturer is suspended.
    let from = w.scenario.entries.len();
    w.scenario.accept(
        Who::Regulator,
        Payload::RevokeKey {
            party: distributor.party,
            public_key: distributor.public_key(),
            compromised_since_unix_ms: None,
        },
    );
    w.scenario.accept(
        Who::Regulator,
        Payload::SuspendParticipant {
            party: manufacturer.party,
            reason: "inquiry".into(),
        },
    );
    mirror(&w.server, &w.scenario, &scenario_keys(&w.scenario), from).await;
    let size = tree_size(&w.server).await;
    let status = send(&channel, signed_request(&w, &good(&w)))
        .await
        .expect_err("a suspended party");
    check_status(&status, Code::Unauthenticated, "CALLER_UNKNOWN");
    let revoked = Signing {
        party: distributor.party,
        key: distributor.signing_key.clone(),
        ..good(&w)
    };
    let status = send(&channel, signed_request(&w, &revoked))
        .await
        .expect_err("a revoked key");
    check_status(&status, Code::Unauthenticated, "CALLER_UNKNOWN");
    assert_eq!(tree_size(&w.server).await, size, "nothing was written");
}
