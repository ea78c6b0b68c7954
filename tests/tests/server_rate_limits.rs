//! Rate limits per caller over a real server: over its rate a caller is told when to retry and
//! recovers; failed authentications cost the address that made them; the table of buckets is
//! bounded. Before, there was no limit at all: every one of these requests was served
//! (confirmed by running these tests with the request layer bypassed: each failed).

use std::time::{Duration, Instant};

use isnad_proto::contract::RETRY_AFTER_METADATA_KEY;
use isnad_proto::pb;
use isnad_tests::callers::{
    As, Signing, channel_from, check_status, good, manufacturer_events, send, signed_request,
    world_with_args,
};
use isnad_tests::{DataDir, Server};
use tonic::Code;

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
