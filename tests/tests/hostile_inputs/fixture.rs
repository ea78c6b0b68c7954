//! The scenario the rows refer to, and helpers that build hostile bytes.

use bytes::Bytes;
use ed25519_dalek::SigningKey;
use isnad_client::sign::{sign_body, sign_event};
use isnad_core::event::{Event, EventId, Item, Payload};
use isnad_proto::pb;
use isnad_proto::pb::event_body::Payload as Body;
use isnad_testkit::Who;
use isnad_tests::ORIGIN;
use prost::Message;

use super::*;

/// `text` with its last character (a check digit) changed.
pub(crate) fn bad_check_digit(text: &str) -> String {
    let mut text = text.to_owned();
    let last = text.pop().expect("an identifier");
    text.push(if last == '9' { '0' } else { '9' });
    text
}

/// A protobuf length-delimited field: tag, length, bytes.
pub(crate) fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![(number << 3) | 2];
    let mut len = bytes.len();
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(bytes);
    out
}

/// The commission inside a wire body.
pub(crate) fn commission_of(body: &mut pb::EventBody) -> &mut pb::Commission {
    match body.payload.as_mut() {
        Some(Body::Commission(commission)) => commission,
        other => panic!("not a commission: {other:?}"),
    }
}

/// The scenario on the server, and what the rows refer to.
pub(crate) struct Fixture {
    pub(crate) scenario: Scenario,
    /// The shipment of SN2 to the distributor, in transit.
    pub(crate) shipment: EventId,
    /// An event the log holds.
    pub(crate) accepted: Event,
    /// The tree size once set up.
    pub(crate) size: u64,
    /// Fresh lot names.
    pub(crate) lots: u32,
}

impl Fixture {
    pub(crate) fn key(&self, who: Who) -> SigningKey {
        self.scenario.actor(who).signing_key.clone()
    }

    pub(crate) fn party(&self, who: Who) -> String {
        self.scenario.actor(who).party.to_string()
    }

    pub(crate) fn gtin(&self) -> String {
        self.scenario.gtin.to_string()
    }

    /// A lot name no row used.
    pub(crate) fn fresh_lot(&mut self) -> String {
        self.lots += 1;
        format!("H{}", self.lots)
    }

    /// `payload` by `who`, signed with its key for this log.
    pub(crate) fn signed(&mut self, who: Who, payload: Payload) -> pb::SignedEvent {
        let event = self.scenario.event(who, payload);
        sign_event(&self.key(who), ORIGIN, &event)
    }

    /// `payload` by `who` as a wire body, changed by `change`, then signed with `who`'s key:
    /// a body only the signer could have made.
    pub(crate) fn mutated(
        &mut self,
        who: Who,
        payload: Payload,
        change: impl FnOnce(&mut pb::EventBody),
    ) -> pb::SignedEvent {
        let event = self.scenario.event(who, payload);
        let mut body = isnad_proto::convert::event_to_wire(&event);
        change(&mut body);
        sign_body(&self.key(who), ORIGIN, body.encode_to_vec())
    }

    /// A commission of a fresh lot by the manufacturer, its wire form changed by `change`.
    pub(crate) fn commission_with(
        &mut self,
        change: impl FnOnce(&mut pb::Commission),
    ) -> pb::SignedEvent {
        let lot = self.fresh_lot();
        let payload = self.scenario.commission_payload(&lot, &["X1"]);
        self.mutated(Who::Manufacturer, payload, |body| {
            change(commission_of(body))
        })
    }

    /// A valid commission of a fresh lot.
    pub(crate) fn commission(&mut self) -> pb::SignedEvent {
        self.commission_with(|_| {})
    }

    /// A ship of SN1 (held by the manufacturer) to the distributor.
    pub(crate) fn ship_sn1(&mut self) -> pb::SignedEvent {
        let unit = Item::Unit(self.scenario.unit("SN1"));
        let payload = self.scenario.ship_payload(vec![unit], Who::Distributor);
        self.signed(Who::Manufacturer, payload)
    }

    /// The stranger's admission, signed by `signer` as `actor`.
    pub(crate) fn admission(&mut self, actor: Who, signer: &SigningKey) -> pb::SignedEvent {
        let mut stranger = self.scenario.distributor.clone();
        stranger.party = isnad_testkit::gln("611000000900");
        stranger.signing_key = isnad_testkit::signing_key(90);
        let event = self
            .scenario
            .event(actor, Payload::AdmitParticipant(stranger.admit()));
        sign_event(signer, ORIGIN, &event)
    }
}

/// Flips one bit of `bytes` at `bit`.
pub(crate) fn flip(bytes: &Bytes, bit: usize) -> Bytes {
    let mut bytes = bytes.to_vec();
    bytes[bit / 8] ^= 1 << (bit % 8);
    bytes.into()
}
