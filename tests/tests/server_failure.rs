//! No input stops the one writer, and a writer that dies says so: health turns NOT_SERVING
//! for every service and the process exits non-zero, for its supervisor to restart it.

use std::time::Duration;

use isnad_client::sign::sign_event;
use isnad_core::event::Payload;
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, Server, mirror, scenario_keys, tree_size};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long a server whose sequencer failed may take to exit: its drain is bounded by
/// `isnad_server::FAILED_DRAIN_MAX` (5 s), with room for a loaded machine.
const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

async fn capture(
    server: &Server,
    event: pb::SignedEvent,
) -> Result<pb::CaptureResponse, tonic::Status> {
    server
        .capture()
        .await
        .capture(pb::CaptureRequest {
            events: vec![event],
        })
        .await
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_serial_width_is_refused_and_writes_go_on() {
    let mut scenario = Scenario::today();
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    let size = tree_size(&server).await;
    let manufacturer = scenario.manufacturer.signing_key.clone();

    // A width past 65,535 made formatting panic inside the sequencer; every later write was
    // then refused while health still said SERVING.
    let mut payload = scenario.commission_range_payload("L1", "R", 1);
    if let Payload::Commission { serial_ranges, .. } = &mut payload {
        serial_ranges[0].width = 70_000;
    }
    let huge = sign_event(
        &manufacturer,
        isnad_tests::ORIGIN,
        &scenario.event(Who::Manufacturer, payload),
    );
    let status = capture(&server, huge).await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status
            .message()
            .contains("commission.serial_ranges[0].width"),
        "{status:?}"
    );
    assert_eq!(tree_size(&server).await, size, "nothing was written");

    let valid = scenario.event(
        Who::Manufacturer,
        scenario.commission_range_payload("L1", "R", 3),
    );
    let receipts = capture(
        &server,
        sign_event(&manufacturer, isnad_tests::ORIGIN, &valid),
    )
    .await
    .expect("the sequencer still takes writes");
    assert_eq!(receipts.receipts[0].leaf_index, size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_server_and_a_restart_recovers() {
    let mut scenario = Scenario::today();
    let data = DataDir::init();
    let manufacturer = scenario.manufacturer.signing_key.clone();
    // No file of the server may grow past 12 MiB: sled's file takes 8 MiB as it opens, and
    // each commission of 10,000 units writes megabytes more, so `Store::append` soon meets
    // `EFBIG` (the error a full disk gives as `ENOSPC`) through its real write path.
    let mut server = Server::start_file_size_limited(&data.path(), 12 * 1024 * 1024);
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    let mut health = HealthClient::new(server.channel().await);
    let mut watch = health
        .watch(tonic_health::pb::HealthCheckRequest {
            service: "isnad.v1.Capture".into(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("a status").expect("open");
    assert_eq!(first.status, ServingStatus::Serving as i32);

    let mut committed = tree_size(&server).await;
    let mut refusal = None;
    for lot in 0..100 {
        let payload =
            scenario.commission_range_payload(&format!("L{lot}"), &format!("B{lot}-"), 10_000);
        let event = sign_event(
            &manufacturer,
            isnad_tests::ORIGIN,
            &scenario.event(Who::Manufacturer, payload),
        );
        match capture(&server, event).await {
            Ok(response) => committed = response.receipts[0].tree_size,
            Err(status) => {
                refusal = Some(status);
                break;
            }
        }
    }
    let refusal = refusal.expect("the file size limit is reached");
    assert_eq!(refusal.code(), Code::Unavailable, "{refusal:?}");

    let next = tokio::time::timeout(EXIT_TIMEOUT, watch.message())
        .await
        .expect("health changes once the sequencer stopped")
        .expect("a status")
        .expect("still open");
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    let exit = server
        .exited(EXIT_TIMEOUT)
        .expect("the server exits by itself");
    assert!(!exit.success(), "{exit:?}");

    // Freed of the limit, a restart recovers what was durable and takes writes again.
    let server = Server::start(&data.path());
    assert_eq!(tree_size(&server).await, committed);
    let payload = scenario.commission_payload("LAST", &["SN1"]);
    let event = sign_event(
        &manufacturer,
        isnad_tests::ORIGIN,
        &scenario.event(Who::Manufacturer, payload),
    );
    let receipts = capture(&server, event).await.expect("writes resume");
    assert_eq!(receipts.receipts[0].leaf_index, committed);
}
