//! A flood of `Verify` calls against the real server: gRPC health checks still answer while it
//! runs, and what the server cannot queue it refuses at once with `RESOURCE_EXHAUSTED` /
//! `OVERLOADED` instead of letting it wait without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use isnad_proto::pb;
use isnad_proto::pb::verification_client::VerificationClient;
use isnad_testkit::Scenario;
use isnad_tests::{DataDir, Server, mirror, scenario_keys, tree_size};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Inspections of the flooded unit: each is an entry of its history, read and proven by every
/// `Verify`, so that one answer is real work.
const SIGHTINGS: usize = 150;

/// Concurrent callers of the flood, over [`CONNECTIONS`] connections.
const CALLERS: usize = 128;

/// Connections the flood shares.
const CONNECTIONS: usize = 4;

/// How long the flood lasts.
const FLOOD: Duration = Duration::from_secs(8);

/// The longest a health check may take while the flood runs: generous for a busy machine,
/// far below what a health check waited behind the flood before (see the test).
const HEALTH_ANSWER_MAX: Duration = Duration::from_secs(2);

/// A bound on any single call, so that a stuck server fails the test instead of hanging it.
const CALL_DEADLINE: Duration = Duration::from_secs(60);

/// A log with one unit that has [`SIGHTINGS`] inspections; and its scan.
async fn serving(args: &[&str]) -> (DataDir, Server, String) {
    let mut scenario = Scenario::today();
    let units = scenario.commission("L1", &["SN1"]);
    let scan = scenario.label(&units[0], "L1");
    let site = scenario.inspector.site;
    for _ in 0..SIGHTINGS {
        scenario.inspect_at(site, &scan);
    }
    let data = DataDir::init();
    let server = Server::start_with_args(&data.path(), args);
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    (data, server, scan)
}

/// How the flood's calls ended.
#[derive(Debug, Default)]
struct Outcomes {
    answered: AtomicU64,
    overloaded: AtomicU64,
    /// Any other failure, with the last one seen.
    failed: AtomicU64,
    last_failure: std::sync::Mutex<Option<tonic::Status>>,
}

/// [`CALLERS`] tasks calling `Verify` of `scan` back to back until `until`.
async fn flood(server: &Server, scan: &str, until: Instant) -> Arc<Outcomes> {
    let outcomes = Arc::new(Outcomes::default());
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        channels.push(server.channel().await);
    }
    let mut callers = Vec::new();
    for caller in 0..CALLERS {
        let mut client = VerificationClient::new(channels[caller % CONNECTIONS].clone())
            .max_decoding_message_size(isnad_proto::contract::RESPONSE_BYTES_MAX);
        let (outcomes, scan) = (Arc::clone(&outcomes), scan.to_owned());
        callers.push(tokio::spawn(async move {
            while Instant::now() < until {
                let request = pb::VerifyRequest {
                    scan: scan.clone(),
                    ..Default::default()
                };
                let called = tokio::time::timeout(CALL_DEADLINE, client.verify(request)).await;
                match called.expect("a Verify call ends within its deadline") {
                    Ok(_) => outcomes.answered.fetch_add(1, Ordering::Relaxed),
                    Err(status) if is_overloaded(&status) => {
                        outcomes.overloaded.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(status) => {
                        *outcomes.last_failure.lock().expect("not poisoned") = Some(status);
                        outcomes.failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    for caller in callers {
        caller.await.expect("a caller ends");
    }
    outcomes
}

fn is_overloaded(status: &tonic::Status) -> bool {
    status.code() == Code::ResourceExhausted
        && status
            .metadata()
            .get("isnad-reason")
            .and_then(|v| v.to_str().ok())
            == Some("OVERLOADED")
}

/// Health checks, one every 100 ms on a connection of their own until `until`; the slowest
/// answer.
async fn health_checks(channel: Channel, until: Instant) -> Duration {
    let mut health = HealthClient::new(channel);
    let mut slowest = Duration::ZERO;
    while Instant::now() < until {
        let asked = Instant::now();
        let answer = tokio::time::timeout(
            CALL_DEADLINE,
            health.check(HealthCheckRequest {
                service: String::new(),
            }),
        )
        .await
        .expect("a health check ends within its deadline")
        .expect("health answers");
        assert_eq!(
            answer.into_inner().status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    slowest
}

/// While [`CALLERS`] callers flood `Verify` of a unit with a long history, every health check
/// answers within [`HEALTH_ANSWER_MAX`].
///
/// Before verification moved off the async worker threads, this failed on this machine (2
/// cores, debug build): with every `Verify` computed on the two workers, the slowest health
/// check of the flood took several seconds (see the commit message for the figures).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_answers_while_verify_is_flooded() {
    let (_data, server, scan) = serving(&[]).await;
    let size = tree_size(&server).await;
    // A monitor asks health without credentials.
    let health_channel = server.anonymous_channel().await;
    let until = Instant::now() + FLOOD;
    let (outcomes, slowest) = tokio::join!(
        flood(&server, &scan, until),
        health_checks(health_channel, until)
    );
    eprintln!("flood: {outcomes:?}; slowest health check {slowest:?}");
    assert!(
        outcomes.answered.load(Ordering::Relaxed) > 0,
        "some verifications were answered: {outcomes:?}"
    );
    assert_eq!(
        outcomes.failed.load(Ordering::Relaxed),
        0,
        "every call was answered or shed: {outcomes:?}"
    );
    assert!(
        slowest <= HEALTH_ANSWER_MAX,
        "a health check took {slowest:?} during the flood"
    );
    assert_eq!(tree_size(&server).await, size, "nothing was written");
}

/// With one verification thread and one place to wait, a flood is shed: the calls refused
/// carry `RESOURCE_EXHAUSTED` and the documented reason `OVERLOADED`, the others are answered,
/// and none fails otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verifications_beyond_the_queue_are_shed_as_overloaded() {
    let (_data, server, scan) =
        serving(&["--verify-threads", "1", "--verify-waiting-max", "1"]).await;
    let size = tree_size(&server).await;
    // Flood until some are shed, at most for the deadline: with 128 callers on one thread, the
    // first round of calls already finds the queue full.
    let deadline = Instant::now() + CALL_DEADLINE;
    let outcomes = loop {
        let outcomes = flood(&server, &scan, Instant::now() + Duration::from_secs(2)).await;
        if outcomes.overloaded.load(Ordering::Relaxed) > 0 || Instant::now() >= deadline {
            break outcomes;
        }
    };
    eprintln!("flood: {outcomes:?}");
    assert!(
        outcomes.overloaded.load(Ordering::Relaxed) > 0,
        "some calls were shed: {outcomes:?}"
    );
    assert!(
        outcomes.answered.load(Ordering::Relaxed) > 0,
        "some calls were answered: {outcomes:?}"
    );
    assert_eq!(
        outcomes.failed.load(Ordering::Relaxed),
        0,
        "every call was answered or shed: {outcomes:?}"
    );
    assert_eq!(tree_size(&server).await, size, "nothing was written");
}
