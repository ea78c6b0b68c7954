//! One way to send a request to the real server: [`Client`]. Every call goes over
//! [`Client::send`] (unary) or [`Client::open_stream`] (streams) with the method's path and
//! the request message's bytes exactly as framed on the wire, so that whatever a request must
//! carry besides its message (a caller's credentials, which sign the path and a digest of
//! these bytes) is added in one place. The bytes need not be a valid message: the hostile
//! table sends malformed ones through the same path. A unary method's body of other than one
//! message cannot be signed (the signature covers the one message's digest): it goes
//! without credentials, as a stranger would send it.

use bytes::{Buf, BufMut, Bytes};
use isnad_client::SignedChannel;
use isnad_proto::contract::{RESPONSE_BYTES_MAX, is_streamed_request};
use isnad_proto::pb;
use prost::Message;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

use crate::Server;

/// The path of each `isnad.v1` method.
pub mod method {
    /// `Capture.Capture`.
    pub const CAPTURE: &str = "/isnad.v1.Capture/Capture";
    /// `Capture.CaptureStream`.
    pub const CAPTURE_STREAM: &str = "/isnad.v1.Capture/CaptureStream";
    /// `Registry.Submit`.
    pub const SUBMIT: &str = "/isnad.v1.Registry/Submit";
    /// `Registry.GetParticipant`.
    pub const GET_PARTICIPANT: &str = "/isnad.v1.Registry/GetParticipant";
    /// `Verification.Verify`.
    pub const VERIFY: &str = "/isnad.v1.Verification/Verify";
    /// `Verification.History`.
    pub const HISTORY: &str = "/isnad.v1.Verification/History";
    /// `Verification.LotUnits`.
    pub const LOT_UNITS: &str = "/isnad.v1.Verification/LotUnits";
    /// `Verification.PartyEvents`.
    pub const PARTY_EVENTS: &str = "/isnad.v1.Verification/PartyEvents";
    /// `Verification.InboundShipments`.
    pub const INBOUND_SHIPMENTS: &str = "/isnad.v1.Verification/InboundShipments";
    /// `Log.GetCheckpoint`.
    pub const GET_CHECKPOINT: &str = "/isnad.v1.Log/GetCheckpoint";
    /// `Log.GetEntries`.
    pub const GET_ENTRIES: &str = "/isnad.v1.Log/GetEntries";
    /// `Log.GetInclusionProof`.
    pub const GET_INCLUSION_PROOF: &str = "/isnad.v1.Log/GetInclusionProof";
    /// `Log.GetConsistencyProof`.
    pub const GET_CONSISTENCY_PROOF: &str = "/isnad.v1.Log/GetConsistencyProof";
    /// `Log.Follow`.
    pub const FOLLOW: &str = "/isnad.v1.Log/Follow";
}

/// A gRPC client of one server connection that sends message bytes as given, signed as the
/// test scenario's regulator (see [`Server::channel`]), and of one connection without
/// credentials for what cannot be signed.
#[derive(Debug, Clone)]
pub struct Client {
    channel: SignedChannel,
    anonymous: Channel,
}

impl Server {
    /// A [`Client`] on a new connection to the server.
    pub async fn client(&self) -> Client {
        Client {
            channel: self.channel().await,
            anonymous: self.anonymous_channel().await,
        }
    }
}

impl Client {
    /// A gRPC client over the signed channel, accepting answers as large as the contract
    /// allows.
    async fn grpc(&self) -> Result<tonic::client::Grpc<SignedChannel>, Status> {
        grpc_over(self.channel.clone()).await
    }

    /// Sends one unary request, `message` the bytes of its request message, and returns the
    /// bytes of the answer message.
    pub async fn send(&self, method: &'static str, message: Bytes) -> Result<Bytes, Status> {
        let mut grpc = self.grpc().await?;
        let answer = grpc
            .unary(
                tonic::Request::new(message),
                PathAndQuery::from_static(method),
                RawCodec,
            )
            .await?;
        Ok(answer.into_inner())
    }

    /// Opens a streaming call (client, server or both) that sends `messages` and then ends its
    /// side; the answers are read from the returned stream.
    pub async fn open_stream(
        &self,
        method: &'static str,
        messages: Vec<Bytes>,
    ) -> Result<tonic::Streaming<Bytes>, Status> {
        let outgoing = futures::stream::iter(messages.clone());
        let request = tonic::Request::new(outgoing);
        let path = PathAndQuery::from_static(method);
        let answers = if is_streamed_request(method) || messages.len() == 1 {
            self.grpc().await?.streaming(request, path, RawCodec).await?
        } else {
            let mut grpc = grpc_over(self.anonymous.clone()).await?;
            grpc.streaming(request, path, RawCodec).await?
        };
        Ok(answers.into_inner())
    }

    /// Sends `request` to the unary `method` and decodes its answer.
    pub async fn unary<Answer: Message + Default>(
        &self,
        method: &'static str,
        request: &impl Message,
    ) -> Result<Answer, Status> {
        let answer = self.send(method, request.encode_to_vec().into()).await?;
        Answer::decode(answer).map_err(|error| {
            Status::internal(format!("the answer to {method} does not decode: {error}"))
        })
    }

    /// `Capture.Capture` of `events`.
    pub async fn capture(
        &self,
        events: Vec<pb::SignedEvent>,
    ) -> Result<pb::CaptureResponse, Status> {
        self.unary(method::CAPTURE, &pb::CaptureRequest { events })
            .await
    }

    /// `Log.GetCheckpoint`.
    pub async fn checkpoint(&self) -> Result<pb::CheckpointResponse, Status> {
        self.unary(method::GET_CHECKPOINT, &pb::GetCheckpointRequest {})
            .await
    }

    /// `Log.GetEntries` of `[start, end)`.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, Status> {
        let answer: pb::GetEntriesResponse = self
            .unary(method::GET_ENTRIES, &pb::GetEntriesRequest { start, end })
            .await?;
        Ok(answer.entries)
    }

    /// `Log.GetConsistencyProof` from `first_size` to `second_size`.
    pub async fn consistency_proof(
        &self,
        first_size: u64,
        second_size: u64,
    ) -> Result<pb::ConsistencyProof, Status> {
        let request = pb::GetConsistencyProofRequest {
            first_size,
            second_size,
        };
        self.unary(method::GET_CONSISTENCY_PROOF, &request).await
    }
}

/// A codec of message bytes as they are: the request is sent unchanged (valid or not), and the
/// answer is returned undecoded.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// A gRPC client over `channel`, ready, accepting answers as large as the contract allows.
async fn grpc_over<T>(channel: T) -> Result<tonic::client::Grpc<T>, Status>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let mut grpc = tonic::client::Grpc::new(channel)
        .max_decoding_message_size(RESPONSE_BYTES_MAX)
        .max_encoding_message_size(usize::MAX);
    grpc.ready()
        .await
        .map_err(|error| {
            let error: tonic::codegen::StdError = error.into();
            Status::unavailable(format!("connection not ready: {error}"))
        })?;
    Ok(grpc)
}
