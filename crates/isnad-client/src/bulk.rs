//! Bulk capture: events built from large inputs (a lot's serials, a shipment's scanned codes),
//! split to fit the limits, with event ids derived from their content, so that a re-run of the
//! same input after a crash submits the same ids and nothing is captured twice.
//!
//! An event's id is derived from a job label and the event's body encoded with a zero id and
//! a zero time: the same actor, site and payload in the same job always get the same id, and
//! the server refuses a second capture of it (`EVENT_ID_REUSED`, or the original receipt when
//! the bytes are identical). Another job label makes the same content a new event, for the
//! rare case of a movement really repeated.

use isnad_core::event::{Event, EventId, Item, LotId, Payload};
use isnad_core::gs1::{Gln, Gs1Date, Serial};
use isnad_proto::contract::{
    BODY_LEN_MAX, REQUEST_BYTES_MAX, SERIALS_PER_COMMISSION_MAX, VALUES_PER_REQUEST_MAX,
};
use isnad_proto::pb;
use prost::Message;

use crate::sign::derived_event_id;

/// Serials one Commission event carries at most: the executor's limit.
pub const SERIALS_PER_EVENT_MAX: usize = SERIALS_PER_COMMISSION_MAX;

/// Items one event carries at most: the executor's limit.
pub use isnad_proto::contract::ITEMS_PER_EVENT_MAX;

/// Bytes kept free under [`BODY_LEN_MAX`] when filling an event: the length prefix of the
/// payload grows by up to two bytes as values are added, and the event time may take more
/// bytes than the zero the estimate is made with.
const BODY_SLACK_LEN: usize = 32;

/// Events in one capture request at most: the server's limit.
pub use isnad_proto::contract::EVENTS_PER_REQUEST_MAX;

/// Bytes of signed events in one capture request at most: half the server's message limit
/// ([`REQUEST_BYTES_MAX`], 4 MiB), which leaves room for framing and keeps one request's work
/// short: 2 MiB, so 1,000 events of up to 2 KiB, or 31 events of a full 64 KiB body.
pub const REQUEST_BODY_BUDGET_LEN: usize = REQUEST_BYTES_MAX / 2;

/// Serials or items in one capture request at most, counted as the server counts them
/// ([`value_count`]): as many as one full event carries, within the server's limit
/// ([`VALUES_PER_REQUEST_MAX`]), so that one request is one full commission at most.
pub const REQUEST_VALUES_MAX: usize = SERIALS_PER_EVENT_MAX;

const _: () = assert!(REQUEST_VALUES_MAX as u64 <= VALUES_PER_REQUEST_MAX);

/// The prefix of the namespace of every derived event id.
const JOB_NAMESPACE: &[u8] = b"isnad-bulk/";

/// What every event of a bulk job shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The acting party.
    pub actor: Gln,
    /// Where the events happen.
    pub site: Gln,
    /// The client's clock when the job ran.
    pub event_time_unix_ms: i64,
    /// A label that makes the same content a different event when it changes; empty by
    /// default.
    pub label: String,
}

/// A lot to commission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionLot {
    /// GTIN and lot number.
    pub lot: LotId,
    /// AI 17.
    pub expiry: Gs1Date,
    /// AI 11, when known.
    pub production_date: Option<Gs1Date>,
}

impl Job {
    /// An event of this job with `payload`, its id derived from its content.
    pub fn event(&self, payload: Payload) -> Event {
        let mut event = Event {
            id: EventId([0; 16]),
            event_time_unix_ms: 0,
            actor: self.actor,
            site: self.site,
            payload,
        };
        let content = isnad_proto::encode_event_body(&event);
        let namespace = [JOB_NAMESPACE, self.label.as_bytes()].concat();
        event.id = derived_event_id(&namespace, &content);
        event.event_time_unix_ms = self.event_time_unix_ms;
        event
    }

    /// Commission events for `serials` of `lot`, at most `serials_per_event` each (capped at
    /// [`SERIALS_PER_EVENT_MAX`]) and each body within [`BODY_LEN_MAX`].
    pub fn commission_events(
        &self,
        lot: &CommissionLot,
        serials: &[Serial],
        serials_per_event: usize,
    ) -> Vec<Event> {
        let payload = |serials: Vec<Serial>| Payload::Commission {
            lot: lot.lot.clone(),
            expiry: lot.expiry,
            production_date: lot.production_date,
            serials,
            serial_ranges: Vec::new(),
            quantity: 0,
        };
        let base_len = self.body_len(payload(Vec::new()));
        let limit = serials_per_event.clamp(1, SERIALS_PER_EVENT_MAX);
        let cost = |serial: &Serial| field_len(serial.as_str().len());
        split(serials, limit, base_len, cost)
            .into_iter()
            .map(|chunk| self.checked(payload(chunk.to_vec())))
            .collect()
    }

    /// Events moving `items`, at most `items_per_event` each (capped at
    /// [`ITEMS_PER_EVENT_MAX`]), each body within [`BODY_LEN_MAX`]; `payload` makes one
    /// event's payload from its share of the items.
    pub fn item_events(
        &self,
        items: &[Item],
        items_per_event: usize,
        payload: impl Fn(Vec<Item>) -> Payload,
    ) -> Vec<Event> {
        let base_len = self.body_len(payload(Vec::new()));
        let limit = items_per_event.clamp(1, ITEMS_PER_EVENT_MAX);
        let cost = |item: &Item| field_len(isnad_proto::convert::item_to_wire(item).encoded_len());
        split(items, limit, base_len, cost)
            .into_iter()
            .map(|chunk| self.checked(payload(chunk.to_vec())))
            .collect()
    }

    fn body_len(&self, payload: Payload) -> usize {
        isnad_proto::encode_event_body(&self.event(payload)).len()
    }

    /// The event of `payload`, whose size the split has bounded.
    fn checked(&self, payload: Payload) -> Event {
        let event = self.event(payload);
        let len = isnad_proto::encode_event_body(&event).len();
        assert!(
            len <= BODY_LEN_MAX,
            "the split made a body of {len} bytes, above {BODY_LEN_MAX}"
        );
        event
    }
}

/// The encoded length of a length-delimited field of `len` bytes: a one-byte tag (every
/// repeated field of the payloads has a number below 16), the length, the bytes.
fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// Splits `values` into consecutive chunks of at most `limit` values whose costs, added to
/// `base_len`, stay within [`BODY_LEN_MAX`] less the slack. Every value lands in exactly one
/// chunk, in order. An empty input gives one empty chunk, so that a payload without values is
/// still one event.
fn split<T>(values: &[T], limit: usize, base_len: usize, cost: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let budget = BODY_LEN_MAX - BODY_SLACK_LEN;
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut len = base_len;
    for (position, value) in values.iter().enumerate() {
        let value_len = cost(value);
        let full = position - start == limit || len + value_len > budget;
        if full && position > start {
            chunks.push(&values[start..position]);
            start = position;
            len = base_len;
        }
        len += value_len;
    }
    if start < values.len() || chunks.is_empty() {
        chunks.push(&values[start..]);
    }
    chunks
}

/// What one event weighs in a capture request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventWeight {
    /// Its signed envelope's encoded length.
    pub bytes: usize,
    /// The serials or items it carries (1 for an event without any).
    pub values: usize,
}

impl EventWeight {
    /// The weight of a signed event carrying `payload`.
    pub fn of(signed: &pb::SignedEvent, payload: &Payload) -> EventWeight {
        EventWeight {
            bytes: signed.encoded_len(),
            values: value_count(payload),
        }
    }
}

/// The serials or items an event carries, at least 1: the server's count
/// (`isnad_core::limits::values_of`), serial ranges included.
pub fn value_count(payload: &Payload) -> usize {
    usize::try_from(isnad_core::limits::values_of(payload)).unwrap_or(usize::MAX)
}

/// Groups events into capture requests of at most `events_per_request` events (capped at
/// [`EVENTS_PER_REQUEST_MAX`]), [`REQUEST_BODY_BUDGET_LEN`] bytes and
/// [`REQUEST_VALUES_MAX`] serials or items, in order; `weight` weighs each event. A request
/// is atomic: smaller requests commit in smaller steps.
pub fn requests<T>(
    events: Vec<T>,
    events_per_request: usize,
    weight: impl Fn(&T) -> EventWeight,
) -> Vec<Vec<T>> {
    let limit = events_per_request.clamp(1, EVENTS_PER_REQUEST_MAX);
    let mut requests: Vec<Vec<T>> = Vec::new();
    let mut total = EventWeight {
        bytes: 0,
        values: 0,
    };
    for event in events {
        let event_weight = weight(&event);
        let start_new = match requests.last() {
            None => true,
            Some(last) => {
                last.len() == limit
                    || total.bytes + event_weight.bytes > REQUEST_BODY_BUDGET_LEN
                    || total.values + event_weight.values > REQUEST_VALUES_MAX
            }
        };
        if start_new {
            requests.push(Vec::new());
            total = EventWeight {
                bytes: 0,
                values: 0,
            };
        }
        total.bytes += event_weight.bytes;
        total.values += event_weight.values;
        requests
            .last_mut()
            .expect("a request was just pushed")
            .push(event);
    }
    requests
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use isnad_core::event::UnitId;
    use isnad_testkit::{date, gln, gtin, lot, serial, sscc_number};

    use super::*;

    fn job(label: &str) -> Job {
        Job {
            actor: gln("611000000020"),
            site: gln("611000000021"),
            event_time_unix_ms: 1_790_000_000_000,
            label: label.to_owned(),
        }
    }

    fn commission_lot() -> CommissionLot {
        CommissionLot {
            lot: LotId {
                gtin: gtin("0611123400001"),
                lot: lot("L1"),
            },
            expiry: date("281231"),
            production_date: Some(date("260101")),
        }
    }

    /// `count` distinct serials of `width` hexadecimal digits.
    fn serials(count: usize, width: usize) -> Vec<Serial> {
        let serials: Vec<Serial> = (0..count)
            .map(|n| serial(&format!("{n:0width$x}")))
            .collect();
        assert!(serials.iter().all(|s| s.as_str().len() == width));
        serials
    }

    fn commissioned(events: &[Event]) -> Vec<Serial> {
        events
            .iter()
            .flat_map(|event| match &event.payload {
                Payload::Commission { serials, .. } => serials.clone(),
                other => panic!("not a commission: {other:?}"),
            })
            .collect()
    }

    #[track_caller]
    fn check(count: usize, width: usize, per_event: usize, expected_events: usize) {
        let input = serials(count, width);
        let events = job("").commission_events(&commission_lot(), &input, per_event);
        assert_eq!(events.len(), expected_events, "{count} serials of {width}");
        assert_eq!(commissioned(&events), input, "every serial once, in order");
        for event in &events {
            let len = isnad_proto::encode_event_body(event).len();
            assert!(len <= BODY_LEN_MAX, "{len} bytes");
        }
        let ids: BTreeSet<EventId> = events.iter().map(|event| event.id).collect();
        assert_eq!(ids.len(), events.len(), "ids are distinct");
    }

    #[test]
    fn commissions_split_by_count_and_by_size() {
        // 8-character serials cost 10 bytes each: about 6,550 fit in 64 KiB.
        check(100_000, 8, SERIALS_PER_EVENT_MAX, 16);
        // 4-character serials: the count limit binds first.
        check(25_000, 4, SERIALS_PER_EVENT_MAX, 3);
        // 20-character serials: 22 bytes each, about 2,970 per event.
        check(10_000, 20, SERIALS_PER_EVENT_MAX, 4);
        check(1_000, 8, 100, 10);
        check(1, 8, SERIALS_PER_EVENT_MAX, 1);
        // One past the limit makes a second event.
        check(SERIALS_PER_EVENT_MAX + 1, 4, SERIALS_PER_EVENT_MAX, 2);
        // A request for more per event than the limit is capped.
        check(20_000, 4, 50_000, 2);
    }

    #[test]
    fn ids_are_derived_from_content_and_label_only() {
        let input = serials(20_000, 8);
        let first = job("").commission_events(&commission_lot(), &input, 5_000);
        let mut later = job("");
        later.event_time_unix_ms += 3_600_000;
        let again = later.commission_events(&commission_lot(), &input, 5_000);
        let ids = |events: &[Event]| events.iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&again), "a re-run later gets the same ids");
        let relabelled = job("second run").commission_events(&commission_lot(), &input, 5_000);
        assert!(ids(&first).iter().all(|id| !ids(&relabelled).contains(id)));
        let mut other_site = job("");
        other_site.site = gln("611000000022");
        let moved = other_site.commission_events(&commission_lot(), &input, 5_000);
        assert_ne!(ids(&first), ids(&moved));
    }

    #[test]
    fn items_split_and_keep_every_item_once() {
        let units: Vec<Item> = (0..25_000)
            .map(|n| {
                Item::Unit(UnitId {
                    gtin: gtin("0611123400001"),
                    serial: serial(&format!("S{n:07}")),
                })
            })
            .chain((0..10).map(|n| Item::Sscc(sscc_number(n))))
            .collect();
        let destination = (gln("611000000030"), gln("611000000031"));
        let events = job("").item_events(&units, ITEMS_PER_EVENT_MAX, |items| Payload::Ship {
            items,
            destination_party: destination.0,
            destination_site: destination.1,
        });
        let shipped: Vec<Item> = events
            .iter()
            .flat_map(|event| match &event.payload {
                Payload::Ship { items, .. } => items.clone(),
                other => panic!("not a shipment: {other:?}"),
            })
            .collect();
        assert_eq!(shipped, units);
        assert!(events.len() >= 3, "{} events", events.len());
        for event in &events {
            assert!(isnad_proto::encode_event_body(event).len() <= BODY_LEN_MAX);
        }
    }

    #[test]
    fn no_values_make_one_event() {
        let events = job("").item_events(&[], 10, |items| Payload::Disaggregate {
            sscc: sscc_number(1),
            items,
        });
        assert_eq!(events.len(), 1);
    }

    fn weigh(values: usize) -> impl Fn(&pb::SignedEvent) -> EventWeight {
        move |event| EventWeight {
            bytes: event.encoded_len(),
            values,
        }
    }

    #[test]
    fn requests_hold_at_most_a_thousand_events_the_byte_budget_and_one_events_values() {
        let small = pb::SignedEvent {
            body: vec![0; 100].into(),
            public_key: vec![0; 32].into(),
            signature: vec![0; 64].into(),
        };
        let grouped = requests(vec![small.clone(); 2_500], 5_000, weigh(1));
        let sizes: Vec<usize> = grouped.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1_000, 1_000, 500]);
        let grouped = requests(vec![small.clone(); 5], 2, weigh(1));
        let sizes: Vec<usize> = grouped.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
        let grouped = requests(vec![small.clone(); 2], 0, weigh(1));
        assert_eq!(grouped.len(), 2, "at least one event per request");
        let large = pb::SignedEvent {
            body: vec![0; BODY_LEN_MAX].into(),
            ..small.clone()
        };
        let commissions = requests(
            vec![small.clone(); 16],
            EVENTS_PER_REQUEST_MAX,
            weigh(6_500),
        );
        assert_eq!(commissions.len(), 16, "one full commission per request");
        let smaller = requests(
            vec![small.clone(); 100],
            EVENTS_PER_REQUEST_MAX,
            weigh(1_000),
        );
        assert_eq!(smaller.len(), 10, "ten events of 1,000 serials per request");
        let grouped = requests(vec![large; 300], EVENTS_PER_REQUEST_MAX, weigh(1));
        assert!(grouped.len() >= 3, "{} requests", grouped.len());
        for request in &grouped {
            let len: usize = request.iter().map(Message::encoded_len).sum();
            assert!(len <= REQUEST_BODY_BUDGET_LEN, "{len} bytes");
        }
        assert_eq!(grouped.iter().map(Vec::len).sum::<usize>(), 300);
    }
}
