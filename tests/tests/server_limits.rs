//! The transport's limits on the real server: follow streams beyond the cap are refused with
//! a reason while other calls still answer, and connections beyond the cap wait without
//! stopping the server from answering the clients it holds.

use std::time::Duration;

use isnad_proto::contract::FOLLOW_STREAMS_MAX;
use isnad_proto::pb;
use isnad_tests::{DataDir, Server};
use tonic::Code;

/// A bound on how long a call that must complete may take: a safety net, not a pause.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

async fn checkpoint(log: &mut pb::log_client::LogClient<isnad_client::SignedChannel>) -> u64 {
    tokio::time::timeout(
        ANSWER_WITHIN,
        log.get_checkpoint(pb::GetCheckpointRequest {}),
    )
    .await
    .expect("the server answers")
    .expect("checkpoint")
    .into_inner()
    .tree_size
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_streams_beyond_the_cap_are_refused_and_verify_still_answers() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let mut log = server.log().await;
    // Followers that never read: each holds its place and at most its buffered answer.
    let mut followers = Vec::new();
    for _ in 0..FOLLOW_STREAMS_MAX {
        let stream = log
            .follow(pb::FollowRequest { start: 0 })
            .await
            .expect("a follow stream within the cap");
        followers.push(stream.into_inner());
    }
    let status = log
        .follow(pb::FollowRequest { start: 0 })
        .await
        .expect_err("one past the cap is refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        status
            .metadata()
            .get("isnad-reason")
            .and_then(|v| v.to_str().ok()),
        Some("TOO_MANY_FOLLOWERS"),
        "{status:?}"
    );
    let answer = server
        .verification()
        .await
        .verify(pb::VerifyRequest {
            scan: "(01)06111234000019(10)L1(21)SN1".into(),
            verifier_site: String::new(),
            known_tree_size: 0,
        })
        .await
        .expect("verify answers beside the followers");
    assert!(!answer.into_inner().checkpoint.is_empty());
    assert_eq!(checkpoint(&mut log).await, 1, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_and_existing_clients_are_answered() {
    let data = DataDir::init();
    let server = Server::start_with_args(&data.path(), &["--connections-max", "4"]);
    let mut existing = server.log().await;
    assert_eq!(checkpoint(&mut existing).await, 1);
    // Idle sockets that never speak: three take the remaining places, the rest wait in the
    // kernel's backlog.
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(
            tokio::net::TcpStream::connect(server.address)
                .await
                .expect("connects"),
        );
    }
    for _ in 0..20 {
        assert_eq!(
            checkpoint(&mut existing).await,
            1,
            "the held client is answered"
        );
    }
    // A new client waits for a place: its call does not complete while the idle sockets hold
    // every place...
    let mut waiting = tokio::spawn({
        let url = server.url();
        async move {
            let channel = tonic::transport::Channel::from_shared(url)
                .expect("valid URL")
                .connect()
                .await
                .expect("connects");
            pb::log_client::LogClient::new(channel)
                .get_checkpoint(pb::GetCheckpointRequest {})
                .await
                .expect("checkpoint")
                .into_inner()
                .tree_size
        }
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut waiting)
            .await
            .is_err(),
        "a connection beyond the cap was served"
    );
    // ...and is served once they close.
    drop(idle);
    let size = tokio::time::timeout(ANSWER_WITHIN, waiting)
        .await
        .expect("served once places are free")
        .expect("the client task");
    assert_eq!(size, 1);
    assert_eq!(checkpoint(&mut existing).await, 1);
}
