//! Signing events into the wire envelope.

use ed25519_dalek::SigningKey;
use isnad_core::envelope;
use isnad_core::event::{Event, EventId};
use isnad_proto::pb;

/// Encodes `event` as `EventBody` bytes and signs them for the log named `origin` (see
/// `isnad_core::envelope`): the envelope the service takes. Only a log of that origin accepts it.
pub fn sign_event(key: &SigningKey, origin: &str, event: &Event) -> pb::SignedEvent {
    sign_body(key, origin, isnad_proto::encode_event_body(event))
}

/// Signs already encoded `EventBody` bytes for the log named `origin`.
pub fn sign_body(key: &SigningKey, origin: &str, body: Vec<u8>) -> pb::SignedEvent {
    let signature = envelope::sign(key, origin, &body);
    pb::SignedEvent {
        body: body.into(),
        public_key: key.verifying_key().to_bytes().to_vec().into(),
        signature: signature.to_vec().into(),
    }
}

/// A fresh random event id.
pub fn random_event_id() -> Result<EventId, getrandom::Error> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id)?;
    Ok(EventId(id))
}

/// An event id derived from a namespace and the input that produced the event: re-running the
/// same bulk input after a crash yields the same ids, so nothing is captured twice.
pub fn derived_event_id(namespace: &[u8], input: &[u8]) -> EventId {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"isnad/v1/event-id\x00");
    hasher.update((namespace.len() as u64).to_be_bytes());
    hasher.update(namespace);
    hasher.update(input);
    let digest = hasher.finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    EventId(id)
}
