//! What a client sees when tonic's codec refuses a request before any handler runs: the
//! contract's status and reason, not the codec's own INTERNAL and OUT_OF_RANGE.

use isnad_proto::contract::REQUEST_BYTES_MAX;
use isnad_proto::pb;
use isnad_tests::{DataDir, Server, tree_size};
use tonic::Code;
use tonic::codegen::http;

#[track_caller]
fn check(status: &tonic::Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let got = status
        .metadata()
        .get("isnad-reason")
        .and_then(|v| v.to_str().ok());
    assert_eq!(got, Some(reason), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codec_refusals_carry_the_contract_status() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let size = tree_size(&server).await;

    // One byte past the request limit.
    let oversized = pb::CaptureRequest {
        events: vec![pb::SignedEvent {
            body: vec![0; REQUEST_BYTES_MAX].into(),
            public_key: vec![0; 32].into(),
            signature: vec![0; 64].into(),
        }],
    };
    let status = server
        .capture()
        .await
        .capture(oversized)
        .await
        .expect_err("too large");
    check(&status, Code::ResourceExhausted, "MESSAGE_TOO_LARGE");

    // Bytes that are not a CaptureRequest: field 1 (events) sent as a number.
    let mut grpc = tonic::client::Grpc::new(server.channel().await);
    grpc.ready().await.expect("ready");
    let codec = tonic_prost::ProstCodec::<pb::GetEntriesRequest, pb::CaptureResponse>::default();
    let status = grpc
        .unary(
            tonic::Request::new(pb::GetEntriesRequest { start: 5, end: 6 }),
            http::uri::PathAndQuery::from_static("/isnad.v1.Capture/Capture"),
            codec,
        )
        .await
        .expect_err("not a CaptureRequest");
    check(&status, Code::InvalidArgument, "MALFORMED_REQUEST");

    assert_eq!(tree_size(&server).await, size, "nothing was written");
}
