//! `Capture.CaptureStream` against the real server: batches are answered in order, a refused
//! batch ends the stream with its status and reason while the batches before it stay in the
//! log, and a shutdown (SIGTERM) ends an open stream with UNAVAILABLE.

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use isnad_client::sign::sign_event;
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, Server, mirror, scenario_keys, signed_events, tree_size};
use tonic::{Code, Status, Streaming};

/// A server holding `Scenario::today()`'s log, and the scenario.
async fn serving() -> (DataDir, Server, Scenario) {
    let scenario = Scenario::today();
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    (data, server, scenario)
}

/// A batch of one commission of two fresh serials of a fresh lot `lot`, signed by the
/// manufacturer.
fn commission(scenario: &mut Scenario, lot: &str) -> pb::CaptureRequest {
    let serials = [format!("{lot}-1"), format!("{lot}-2")];
    let payload = scenario.commission_payload(lot, &[&serials[0], &serials[1]]);
    let event = scenario.event(Who::Manufacturer, payload);
    pb::CaptureRequest {
        events: vec![sign_event(
            &scenario.manufacturer.signing_key,
            isnad_tests::ORIGIN,
            &event,
        )],
    }
}

/// A stream opened on `server`, with the sender that feeds it batches.
async fn open(
    server: &Server,
) -> (
    mpsc::Sender<pb::CaptureRequest>,
    Streaming<pb::CaptureResponse>,
) {
    let (sender, receiver) = mpsc::channel(4);
    let answers = server
        .capture()
        .await
        .capture_stream(receiver)
        .await
        .expect("the stream opens")
        .into_inner();
    (sender, answers)
}

#[track_caller]
fn check(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let got = status
        .metadata()
        .get("isnad-reason")
        .and_then(|v| v.to_str().ok());
    assert_eq!(got, Some(reason), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_answered_in_order() {
    let (_data, server, mut scenario) = serving().await;
    let size = tree_size(&server).await;
    let (mut sender, mut answers) = open(&server).await;
    let batches: Vec<pb::CaptureRequest> = (0..5)
        .map(|n| commission(&mut scenario, &format!("ORDER{n}")))
        .collect();
    for batch in &batches {
        sender
            .send(batch.clone())
            .await
            .expect("the stream is open");
    }
    drop(sender);
    for (n, batch) in batches.iter().enumerate() {
        let answer = answers
            .next()
            .await
            .expect("an answer per batch")
            .unwrap_or_else(|status| panic!("batch {n} refused: {status:?}"));
        assert_eq!(answer.receipts.len(), 1, "one receipt per event");
        let index = answer.receipts[0].leaf_index;
        assert_eq!(index, size + n as u64, "batch {n} answered in its order");
        assert_eq!(
            signed_events(&server, index, index + 1).await,
            batch.events,
            "receipt {n} names the entry of batch {n}"
        );
    }
    assert!(
        answers.next().await.is_none(),
        "the stream ends once the client has sent everything"
    );
    assert_eq!(tree_size(&server).await, size + 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_ends_the_stream_and_keeps_the_earlier_ones() {
    let (_data, server, mut scenario) = serving().await;
    let size = tree_size(&server).await;
    let (mut sender, mut answers) = open(&server).await;
    let first = commission(&mut scenario, "KEPT");
    let mut refused = commission(&mut scenario, "REFUSED");
    refused.events[0].body = vec![0xff, 0xff, 0xff].into();
    let after = commission(&mut scenario, "NEVER");
    for batch in [first.clone(), refused, after] {
        sender.send(batch).await.expect("the stream is open");
    }
    let answer = answers
        .next()
        .await
        .expect("an answer")
        .expect("the first batch is accepted");
    let status = answers
        .next()
        .await
        .expect("an answer")
        .expect_err("the malformed batch is refused");
    check(&status, Code::InvalidArgument, "MALFORMED_BODY");
    assert!(
        answers.next().await.is_none(),
        "a refusal ends the stream: the batch after it is not answered"
    );
    assert_eq!(
        tree_size(&server).await,
        size + 1,
        "the first batch alone is in the log"
    );
    assert_eq!(answer.receipts[0].leaf_index, size);
    assert_eq!(signed_events(&server, size, size + 1).await, first.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_an_open_stream_with_unavailable() {
    let (data, server, mut scenario) = serving().await;
    let (mut sender, mut answers) = open(&server).await;
    sender
        .send(commission(&mut scenario, "BEFORE"))
        .await
        .expect("the stream is open");
    let answer = answers.next().await.expect("an answer").expect("accepted");
    let size = answer.receipts[0].leaf_index + 1;
    // The client keeps the stream open (`sender` lives on) while the server shuts down.
    let exit = server.terminate();
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
    let status = answers
        .next()
        .await
        .expect("the server says why the stream ends")
        .expect_err("no answer without a batch");
    check(&status, Code::Unavailable, "UNAVAILABLE");
    drop(sender);
    let server = Server::start(&data.path());
    assert_eq!(
        tree_size(&server).await,
        size,
        "the accepted batch survives the shutdown"
    );
}
