//! `isnad.v1.Capture` and `isnad.v1.Registry`: signed events in, durable receipts out.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use isnad_core::event::Payload;
use isnad_proto::contract::Reason;
use isnad_proto::pb;
use tonic::{Request, Response, Status, Streaming};

use crate::error::LedgerError;
use crate::ledger::Ledger;

/// The capture service.
#[derive(Debug, Clone)]
pub struct CaptureService {
    ledger: Ledger,
}

impl CaptureService {
    /// A capture service over the ledger.
    pub fn new(ledger: Ledger) -> Self {
        Self { ledger }
    }
}

type ResponseStream =
    Pin<Box<dyn Stream<Item = Result<pb::CaptureResponse, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl pb::capture_server::Capture for CaptureService {
    async fn capture(
        &self,
        request: Request<pb::CaptureRequest>,
    ) -> Result<Response<pb::CaptureResponse>, Status> {
        let receipts = self.ledger.capture(request.into_inner().events).await?;
        Ok(Response::new(pb::CaptureResponse { receipts }))
    }

    type CaptureStreamStream = ResponseStream;

    async fn capture_stream(
        &self,
        request: Request<Streaming<pb::CaptureRequest>>,
    ) -> Result<Response<Self::CaptureStreamStream>, Status> {
        let mut incoming = request.into_inner();
        let ledger = self.ledger.clone();
        let outgoing = async_stream(move |sender| async move {
            loop {
                let message = tokio::select! {
                    message = incoming.next() => match message {
                        Some(message) => message,
                        None => break,
                    },
                    () = ledger.closed() => {
                        let status = LedgerError::Unavailable("the server is shutting down; send the rest again later".into());
                        let _ = sender.send(Err(status.into())).await;
                        break;
                    }
                };
                let answer = match message {
                    Ok(batch) => ledger
                        .capture(batch.events)
                        .await
                        .map(|receipts| pb::CaptureResponse { receipts })
                        .map_err(Status::from),
                    Err(status) => Err(status),
                };
                let failed = answer.is_err();
                if sender.send(answer).await.is_err() || failed {
                    break;
                }
            }
        });
        Ok(Response::new(outgoing))
    }
}

/// A response stream fed by a task through a bounded channel: the task stops when the client
/// goes away (the send fails).
fn async_stream<F, Fut>(task: F) -> ResponseStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<pb::CaptureResponse, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    // Two batches in flight keep the client's pipeline full without buffering much.
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    tokio::spawn(task(sender));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver))
}

/// The registry service: the regulator's signed events, and look-ups.
#[derive(Debug, Clone)]
pub struct RegistryService {
    ledger: Ledger,
}

impl RegistryService {
    /// A registry service over the ledger.
    pub fn new(ledger: Ledger) -> Self {
        Self { ledger }
    }
}

#[tonic::async_trait]
impl pb::registry_server::Registry for RegistryService {
    async fn submit(
        &self,
        request: Request<pb::SignedEvent>,
    ) -> Result<Response<pb::Receipt>, Status> {
        let signed = request.into_inner();
        // The size first: nothing decodes a body over the limit.
        crate::ledger::check_body_len(0, &signed.body)?;
        let event = isnad_proto::decode_event_body(&signed.body).map_err(|e| {
            LedgerError::InvalidArgument {
                reason: Reason::MalformedBody,
                message: e.to_string(),
                event: Some(0),
            }
        })?;
        if !is_registry(&event.payload) {
            return Err(LedgerError::InvalidArgument {
                reason: Reason::NotARegistryEvent,
                message: "Registry.Submit takes admit, suspend, reinstate, add key and revoke key events; use Capture for the others".into(),
                event: Some(0),
            }
            .into());
        }
        let mut receipts = self.ledger.capture(vec![signed]).await?;
        let receipt = receipts
            .pop()
            .ok_or_else(|| Status::internal("no receipt for an accepted event"))?;
        Ok(Response::new(receipt))
    }

    async fn get_participant(
        &self,
        request: Request<pb::GetParticipantRequest>,
    ) -> Result<Response<pb::Participant>, Status> {
        let party = super::parse_field("party", &request.into_inner().party)?;
        let store = self.ledger.store().clone();
        let found =
            super::blocking(move || Ok(isnad_core::queries::participant(store.as_ref(), &party)?))
                .await?;
        let participant = found.ok_or_else(|| LedgerError::NotFound {
            reason: Reason::UnknownParticipant,
            message: format!("no participant {party}"),
        })?;
        Ok(Response::new(isnad_proto::convert::participant_to_wire(
            &participant,
        )))
    }
}

fn is_registry(payload: &Payload) -> bool {
    matches!(
        payload,
        Payload::AdmitParticipant(_)
            | Payload::SuspendParticipant { .. }
            | Payload::ReinstateParticipant { .. }
            | Payload::AddKey { .. }
            | Payload::RevokeKey { .. }
    )
}
