//! Who may read what, over a real server: signed requests, the read policy and rate limits.
//!
//! Before the policy, anyone who reached the port read every party's shipments and events:
//! each refusal below was an answer (confirmed by running these tests against the server with
//! the request layer and the policy calls taken out: every "refused" row failed with `OK`, and
//! the anonymous `Verify` carried the whole history).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use isnad_client::SignedChannel;
use isnad_core::envelope::request::{RequestClaim, request_digest, sign_request};
use isnad_core::event::{Item, Payload, UnitId};
use isnad_core::gs1::Gln;
use isnad_proto::contract::{REASON_METADATA_KEY, RETRY_AFTER_METADATA_KEY};
use isnad_proto::pb;
use isnad_testkit::{Actor, Scenario, Who, sscc_number};
use isnad_tests::{DataDir, ORIGIN, Server, mirror, scenario_keys, tree_size};
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

/// A server whose log holds the scenario: every participant and an auditor admitted, lot `L1`
/// of three units commissioned, `S1` shipped to the distributor, `S2` packed in an SSCC.
struct World {
    _data: DataDir,
    server: Server,
    scenario: Scenario,
    auditor: Actor,
    units: Vec<UnitId>,
}

async fn world() -> World {
    world_with_args(&[]).await
}

async fn world_with_args(args: &[&str]) -> World {
    let data = DataDir::init();
    let server = Server::start_with_args(&data.path(), args);
    let mut scenario = Scenario::today();
    let auditor = isnad_testkit::auditor();
    scenario.accept(Who::Regulator, Payload::AdmitParticipant(auditor.admit()));
    let units = scenario.commission("L1", &["S1", "S2", "S3"]);
    scenario.ship(
        Who::Manufacturer,
        vec![Item::Unit(units[0].clone())],
        Who::Distributor,
    );
    scenario.aggregate(
        Who::Manufacturer,
        sscc_number(1),
        vec![Item::Unit(units[1].clone())],
    );
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    World {
        _data: data,
        server,
        scenario,
        auditor,
        units,
    }
}

/// The callers of the policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum As {
    Anonymous,
    Regulator,
    Auditor,
    Manufacturer,
    Distributor,
    Inspector,
}

impl World {
    async fn channel(&self, caller: As) -> SignedChannel {
        let actor = match caller {
            As::Anonymous => {
                return SignedChannel::new(self.server.anonymous_channel().await, None);
            }
            As::Regulator => self.scenario.actor(Who::Regulator),
            As::Auditor => &self.auditor,
            As::Manufacturer => self.scenario.actor(Who::Manufacturer),
            As::Distributor => self.scenario.actor(Who::Distributor),
            As::Inspector => self.scenario.actor(Who::Inspector),
        };
        self.server
            .channel_as(actor.party, &actor.signing_key)
            .await
    }

    fn party(&self, who: Who) -> Gln {
        self.scenario.actor(who).party
    }
}

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

#[track_caller]
fn check_status(status: &tonic::Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(
        status
            .metadata()
            .get(REASON_METADATA_KEY)
            .and_then(|v| v.to_str().ok()),
        Some(reason),
        "{status:?}"
    );
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

/// The system clock in milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// The method every forged request below is sent to.
const PARTY_EVENTS: &str = "/isnad.v1.Verification/PartyEvents";

/// How a forged request departs from a good one.
#[derive(Debug, Clone)]
struct Signing {
    party: Gln,
    key: SigningKey,
    time_ms: i64,
    origin: String,
    /// The method the signature covers.
    method: String,
    /// The message the signature covers (the one sent is the manufacturer's PartyEvents).
    signed_message: pb::PartyEventsRequest,
}

/// A `PartyEvents` request for the manufacturer's events with the caller metadata of `signing`.
fn signed_request(w: &World, signing: &Signing) -> tonic::Request<pb::PartyEventsRequest> {
    let sent = manufacturer_events(w);
    let digest = request_digest(&signing.signed_message.encode_to_vec());
    let (party, time) = (signing.party.to_string(), signing.time_ms.to_string());
    let claim = RequestClaim {
        method: &signing.method,
        party: &party,
        time: &time,
        digest: &digest,
    };
    let signature = sign_request(&signing.key, &signing.origin, &claim);
    let mut request = tonic::Request::new(sent);
    let metadata = request.metadata_mut();
    let ascii = |text: String| text.parse().expect("ASCII");
    metadata.insert("isnad-caller-party", ascii(party));
    metadata.insert(
        "isnad-caller-key",
        ascii(hex::encode(signing.key.verifying_key().to_bytes())),
    );
    metadata.insert("isnad-caller-time", ascii(time));
    metadata.insert("isnad-caller-signature", ascii(hex::encode(signature)));
    request
}

fn manufacturer_events(w: &World) -> pb::PartyEventsRequest {
    pb::PartyEventsRequest {
        party: w.party(Who::Manufacturer).to_string(),
        ..Default::default()
    }
}

/// The manufacturer's good signature over its own `PartyEvents`, now.
fn good(w: &World) -> Signing {
    let manufacturer = w.scenario.actor(Who::Manufacturer);
    Signing {
        party: manufacturer.party,
        key: manufacturer.signing_key.clone(),
        time_ms: now_ms(),
        origin: ORIGIN.to_owned(),
        method: PARTY_EVENTS.to_owned(),
        signed_message: manufacturer_events(w),
    }
}

async fn send(
    channel: &Channel,
    request: tonic::Request<pb::PartyEventsRequest>,
) -> Result<(), tonic::Status> {
    pb::verification_client::VerificationClient::new(channel.clone())
        .party_events(request)
        .await
        .map(|_| ())
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

/// Over its rate a caller gets `RESOURCE_EXHAUSTED` / `RATE_LIMITED` with a retry hint, and is
/// answered again once it waited; other callers, a party at the same address included, keep
/// their own buckets. Before: no limit, every request was served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_its_rate_is_told_when_to_retry_and_recovers() {
    // One request a second with bursts of 20 (the set-up's captures fit): 100 requests sent
    // at once cannot all pass, however slow the machine (they would take 80 seconds).
    let w = world_with_args(&["--rate-per-caller", "1", "--rate-burst", "20"]).await;
    // Made first: making a channel reads the origin, anonymously.
    let mut inspector = pb::log_client::LogClient::new(w.channel(As::Inspector).await);
    let mut log = pb::log_client::LogClient::new(w.server.anonymous_channel().await);
    let mut limited = None;
    for _ in 0..100 {
        match log.get_checkpoint(pb::GetCheckpointRequest {}).await {
            Ok(_) => {}
            Err(status) => {
                limited = Some(status);
                break;
            }
        }
    }
    let status = limited.expect("100 requests at 1/s with bursts of 20 are limited");
    check_status(&status, Code::ResourceExhausted, "RATE_LIMITED");
    let retry_ms: u64 = status
        .metadata()
        .get(RETRY_AFTER_METADATA_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a retry-after-ms hint");
    assert!((1..=1_000).contains(&retry_ms), "{retry_ms}");

    // An admitted party at the same address has its own bucket.
    inspector
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("the party's own bucket");

    // Waiting as told, the anonymous caller is answered again.
    tokio::time::sleep(Duration::from_millis(retry_ms)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match log.get_checkpoint(pb::GetCheckpointRequest {}).await {
            Ok(_) => break,
            Err(status) if Instant::now() < deadline => {
                check_status(&status, Code::ResourceExhausted, "RATE_LIMITED");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("still limited after 30 s: {status:?}"),
        }
    }
}

/// A channel to `server` from the loopback address `source` (127.0.0.2, say): another caller
/// address on the same machine.
async fn channel_from(server: &Server, source: std::net::IpAddr) -> Channel {
    let target = server.address;
    let connector = tower::service_fn(move |_: tonic::codegen::http::Uri| async move {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::new(source, 0))?;
        let stream = socket.connect(target).await?;
        Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
    });
    tonic::transport::Endpoint::from_shared(server.url())
        .expect("valid URL")
        .connect_with_connector(connector)
        .await
        .expect("connects from another loopback address")
}

/// Failed authentications are charged to the address that sent them, never to the party they
/// name: once a forger's address is out of attempts, the party itself, signing properly from
/// its own address, is still answered. Before: no limit at all; a forger could make the server
/// check signatures without end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_requests_cost_the_forger_not_the_party_they_name() {
    let w = world_with_args(&["--rate-per-caller", "1", "--rate-burst", "20"]).await;
    let forger = std::net::IpAddr::from([127, 0, 0, 2]);
    let channel = channel_from(&w.server, forger).await;
    let mut manufacturer =
        pb::verification_client::VerificationClient::new(w.channel(As::Manufacturer).await);
    let forged = Signing {
        key: isnad_testkit::signing_key(77),
        ..good(&w)
    };
    let mut limited = false;
    for _ in 0..100 {
        let status = send(&channel, signed_request(&w, &forged))
            .await
            .expect_err("a forged request");
        if status.code() == Code::ResourceExhausted {
            check_status(&status, Code::ResourceExhausted, "RATE_LIMITED");
            limited = true;
            break;
        }
        check_status(&status, Code::Unauthenticated, "CALLER_UNKNOWN");
    }
    assert!(limited, "the forger's address ran out of attempts");
    manufacturer
        .party_events(manufacturer_events(&w))
        .await
        .expect("the party named by the forger is answered");
}

/// The table of rate buckets is bounded (`--rate-callers-max`): with room for two callers, a
/// caller out of tokens is forgotten once two other addresses have called, and starts again
/// with a full bucket. A spray of addresses therefore cannot grow the table; the price is that
/// a forgotten caller regains one burst. (The table's bound under 100,000 addresses, with a
/// controlled clock, is `rate::tests::the_table_stays_bounded`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bucket_table_forgets_the_oldest_caller_when_full() {
    let data = DataDir::init();
    let server = Server::start_with_args(
        &data.path(),
        &[
            "--rate-per-caller",
            "1",
            "--rate-burst",
            "1",
            "--rate-callers-max",
            "2",
        ],
    );
    let address = |n: u8| std::net::IpAddr::from([127, 0, 0, n]);
    let mut a = pb::log_client::LogClient::new(channel_from(&server, address(3)).await);
    let mut others = Vec::new();
    for n in [4, 5] {
        others.push(pb::log_client::LogClient::new(
            channel_from(&server, address(n)).await,
        ));
    }
    let checkpoint = || pb::GetCheckpointRequest {};
    let mut limited = false;
    for _ in 0..100 {
        if let Err(status) = a.get_checkpoint(checkpoint()).await {
            check_status(&status, Code::ResourceExhausted, "RATE_LIMITED");
            limited = true;
            break;
        }
    }
    assert!(limited, "one request a second: 100 at once are limited");
    for other in &mut others {
        other
            .get_checkpoint(checkpoint())
            .await
            .expect("a new caller has a full bucket");
    }
    a.get_checkpoint(checkpoint())
        .await
        .expect("forgotten, the first caller has a full bucket again");
}
