//! The error contract over gRPC against the real server: every status code of the design is
//! provoked, carries its reason code, and leaves the tree size unchanged.

use futures::StreamExt;
use isnad_client::sign::sign_event;
use isnad_core::event::{Item, Payload};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, Server, mirror, scenario_keys, tree_size};
use tonic::Code;

/// A server holding `scenario`'s log, and the scenario.
async fn serving() -> (DataDir, Server, Scenario) {
    let mut scenario = Scenario::today();
    scenario.commission("L1", &["SN1"]);
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    (data, server, scenario)
}

#[track_caller]
fn check(status: &tonic::Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let got = status
        .metadata()
        .get("isnad-reason")
        .and_then(|v| v.to_str().ok());
    assert_eq!(got, Some(reason), "{status:?}");
}

async fn capture(
    server: &Server,
    events: Vec<pb::SignedEvent>,
) -> Result<pb::CaptureResponse, tonic::Status> {
    server
        .capture()
        .await
        .capture(pb::CaptureRequest { events })
        .await
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_code_leaves_the_log_unchanged() {
    let (data, server, mut scenario) = serving().await;
    let size = tree_size(&server).await;
    let manufacturer = scenario.manufacturer.signing_key.clone();
    let distributor = scenario.distributor.signing_key.clone();
    let unit = Item::Unit(scenario.unit("SN1"));

    // INVALID_ARGUMENT: a body that is not an EventBody.
    let mut bad = sign_event(
        &manufacturer,
        isnad_tests::ORIGIN,
        &scenario.event(
            Who::Manufacturer,
            Payload::Recall {
                lot: scenario.lot("L1"),
                reason: "x".into(),
            },
        ),
    );
    bad.body = vec![0xff, 0xff, 0xff].into();
    let err = capture(&server, vec![bad]).await.expect_err("malformed");
    check(&err, Code::InvalidArgument, "MALFORMED_BODY");

    // UNAUTHENTICATED: a signature over other bytes.
    let event = scenario.event(
        Who::Manufacturer,
        scenario.ship_payload(vec![unit.clone()], Who::Distributor),
    );
    let mut forged = sign_event(&manufacturer, isnad_tests::ORIGIN, &event);
    let mut signature = forged.signature.to_vec();
    signature[0] ^= 1;
    forged.signature = signature.into();
    let err = capture(&server, vec![forged]).await.expect_err("forged");
    check(&err, Code::Unauthenticated, "BAD_SIGNATURE");

    // UNAUTHENTICATED: a key nobody admitted.
    let stranger = isnad_testkit::signing_key(77);
    let err = capture(
        &server,
        vec![sign_event(&stranger, isnad_tests::ORIGIN, &event)],
    )
    .await
    .expect_err("unknown key");
    check(&err, Code::Unauthenticated, "UNKNOWN_KEY");

    // PERMISSION_DENIED: a distributor may not register products.
    let product = scenario.register_product_payload(isnad_testkit::gtin("0611123400002"));
    let event = scenario.event(Who::Distributor, product);
    let err = capture(
        &server,
        vec![sign_event(&distributor, isnad_tests::ORIGIN, &event)],
    )
    .await
    .expect_err("wrong role");
    check(&err, Code::PermissionDenied, "WRONG_ROLE");

    // FAILED_PRECONDITION: the distributor does not hold the unit it ships.
    let event = scenario.event(
        Who::Distributor,
        scenario.ship_payload(vec![unit.clone()], Who::Hospital),
    );
    let err = capture(
        &server,
        vec![sign_event(&distributor, isnad_tests::ORIGIN, &event)],
    )
    .await
    .expect_err("not holder");
    check(&err, Code::FailedPrecondition, "NOT_HOLDER");

    // NOT_FOUND: receiving a shipment that does not exist.
    let event = scenario.event(
        Who::Distributor,
        Payload::Receive {
            shipment: isnad_core::event::EventId([9; 16]),
            missing: vec![],
        },
    );
    let err = capture(
        &server,
        vec![sign_event(&distributor, isnad_tests::ORIGIN, &event)],
    )
    .await
    .expect_err("unknown shipment");
    check(&err, Code::NotFound, "UNKNOWN_SHIPMENT");

    // ALREADY_EXISTS: an accepted event's id reused by another event.
    let accepted = scenario.entries.last().expect("entries").clone();
    let isnad_core::verdict::HistoryKind::Event(mut reused) = accepted.kind else {
        panic!("an event")
    };
    reused.event_time_unix_ms += 1;
    let err = capture(
        &server,
        vec![sign_event(&manufacturer, isnad_tests::ORIGIN, &reused)],
    )
    .await
    .expect_err("reused id");
    check(&err, Code::AlreadyExists, "EVENT_ID_REUSED");

    // RESOURCE_EXHAUSTED: one event over the per-request limit.
    let one = sign_event(
        &manufacturer,
        isnad_tests::ORIGIN,
        &scenario.event(
            Who::Manufacturer,
            Payload::Recall {
                lot: scenario.lot("L1"),
                reason: "x".into(),
            },
        ),
    );
    let err = capture(&server, vec![one; 1_001])
        .await
        .expect_err("too many");
    check(&err, Code::ResourceExhausted, "TOO_MANY_EVENTS");

    // An atomic request: a valid event followed by a refused one appends neither.
    let good = sign_event(
        &manufacturer,
        isnad_tests::ORIGIN,
        &scenario.event(
            Who::Manufacturer,
            scenario.ship_payload(vec![unit.clone()], Who::Distributor),
        ),
    );
    let bad = sign_event(
        &distributor,
        isnad_tests::ORIGIN,
        &scenario.event(
            Who::Distributor,
            scenario.ship_payload(vec![unit], Who::Hospital),
        ),
    );
    let err = capture(&server, vec![good, bad])
        .await
        .expect_err("second refused");
    // Refused against the state the first event left: the unit is now in transit.
    check(&err, Code::FailedPrecondition, "IN_TRANSIT");
    assert_eq!(
        err.metadata()
            .get("isnad-event-index")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );

    let err = server
        .verification()
        .await
        .verify(pb::VerifyRequest {
            scan: "x".repeat(513),
            ..Default::default()
        })
        .await;
    check(
        &err.expect_err("too long"),
        Code::ResourceExhausted,
        "SCAN_TOO_LONG",
    );

    assert_eq!(
        tree_size(&server).await,
        size,
        "no refused request changed the log"
    );

    // UNAVAILABLE: a follower is told when the server shuts down, and the server exits
    // cleanly instead of waiting on the stream.
    let mut follow = server
        .log()
        .await
        .follow(pb::FollowRequest { start: size })
        .await
        .expect("follow")
        .into_inner();
    let status = server.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let err = loop {
        match follow.next().await {
            Some(Ok(_)) => continue,
            Some(Err(err)) => break err,
            None => panic!("the stream ended without saying why"),
        }
    };
    check(&err, Code::Unavailable, "UNAVAILABLE");
    let server = Server::start(&data.path());
    assert_eq!(
        tree_size(&server).await,
        size,
        "nothing was written on the way down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubmitting_an_event_returns_its_original_receipt() {
    let (_data, server, scenario) = serving().await;
    let last = scenario.entries.last().expect("entries").clone();
    let isnad_core::verdict::HistoryKind::Event(event) = last.kind else {
        panic!("an event")
    };
    let signed = sign_event(
        &scenario.manufacturer.signing_key,
        isnad_tests::ORIGIN,
        &event,
    );
    let first = capture(&server, vec![signed.clone()])
        .await
        .expect("idempotent")
        .receipts;
    let again = capture(&server, vec![signed])
        .await
        .expect("idempotent")
        .receipts;
    assert_eq!(first, again);
    assert_eq!(first[0].leaf_index, last.index);
}

/// A Commission of 10,000 ranged serials of a fresh lot (about 30,000 state writes).
fn big_commission(scenario: &mut Scenario, lot: &str) -> pb::SignedEvent {
    let payload = scenario.commission_range_payload(lot, &format!("{lot}-"), 10_000);
    let event = scenario.event(Who::Manufacturer, payload);
    sign_event(
        &scenario.manufacturer.signing_key,
        isnad_tests::ORIGIN,
        &event,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_too_large_for_one_commit_are_refused_and_large_groups_split() {
    let (_data, server, mut scenario) = serving().await;
    let size = tree_size(&server).await;
    // Four full commissions in one atomic request write more than one commit may hold.
    let events = (0..4)
        .map(|n| big_commission(&mut scenario, &format!("BIG{n}")))
        .collect();
    let err = capture(&server, events).await.expect_err("too large");
    check(&err, Code::ResourceExhausted, "REQUEST_TOO_LARGE");
    assert_eq!(tree_size(&server).await, size, "nothing was written");
    // Three concurrent requests of three full commissions each fit one commit apiece: the
    // sequencer splits them over several groups, and all are accepted.
    let requests: Vec<Vec<pb::SignedEvent>> = (0..3)
        .map(|r| {
            (0..3)
                .map(|n| big_commission(&mut scenario, &format!("R{r}N{n}")))
                .collect()
        })
        .collect();
    let mut tasks = Vec::new();
    for events in requests {
        let mut client = server.capture().await;
        tasks.push(tokio::spawn(async move {
            client.capture(pb::CaptureRequest { events }).await
        }));
    }
    for task in tasks {
        let receipts = task
            .await
            .expect("task")
            .expect("accepted")
            .into_inner()
            .receipts;
        assert_eq!(receipts.len(), 3);
    }
    assert_eq!(tree_size(&server).await, size + 9);
}

/// `GetParticipant` of `party`.
async fn participant(server: &Server, party: &str) -> Result<pb::Participant, tonic::Status> {
    server
        .registry()
        .await
        .get_participant(pb::GetParticipantRequest {
            party: party.into(),
        })
        .await
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participant_look_ups_find_refuse_or_say_unknown() {
    let (_data, server, scenario) = serving().await;
    let size = tree_size(&server).await;

    // An admitted party: its record, as the regulator admitted it.
    let found = participant(&server, &scenario.manufacturer.party.to_string())
        .await
        .expect("an admitted party is found");
    let admitted = isnad_proto::convert::participant_to_wire(
        &isnad_core::queries::participant(&scenario.state, &scenario.manufacturer.party)
            .expect("in-memory state")
            .expect("admitted in the scenario"),
    );
    assert_eq!(found, admitted);
    assert_eq!(found.name, scenario.manufacturer.name);

    // A valid GLN nobody admitted.
    let unknown = isnad_testkit::gln("611999900000").to_string();
    let err = participant(&server, &unknown)
        .await
        .expect_err("unknown party");
    check(&err, Code::NotFound, "UNKNOWN_PARTICIPANT");
    assert!(err.message().contains(&unknown), "{err:?}");

    // A GLN whose check digit is wrong: refused before any look-up, naming the field.
    let mut malformed = unknown.clone();
    let last = malformed.pop().expect("13 digits");
    malformed.push(if last == '9' { '0' } else { '9' });
    let err = participant(&server, &malformed)
        .await
        .expect_err("malformed party");
    check(&err, Code::InvalidArgument, "MALFORMED_FIELD");
    assert!(err.message().contains("party"), "{err:?}");

    assert_eq!(tree_size(&server).await, size, "look-ups write nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kits_expiry_holds_on_a_server_clock_years_ahead() {
    // A server whose clock runs three years ahead still accepts the kit's commissions: their
    // expiry follows today, where a fixed date would one day be refused as EXPIRED.
    let mut scenario = Scenario::today();
    let data = DataDir::init();
    let years_ms = 3 * 366 * isnad_testkit::DAY_MS;
    let server = Server::start_skewed(&data.path(), years_ms);
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    let payload = scenario.commission_payload("LATER", &["LATER1"]);
    let event = scenario.event(Who::Manufacturer, payload);
    let size = tree_size(&server).await;
    let receipts = capture(
        &server,
        vec![sign_event(
            &scenario.manufacturer.signing_key,
            isnad_tests::ORIGIN,
            &event,
        )],
    )
    .await
    .unwrap_or_else(|status| panic!("refused on a clock three years ahead: {status:?}"))
    .receipts;
    assert_eq!(receipts[0].leaf_index, size);
}
