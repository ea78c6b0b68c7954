//! The gRPC codec of every generated client and server: prost's, with one check before
//! decoding.
//!
//! A protobuf message's repeated field costs far more decoded than on the wire: an empty
//! `SignedEvent` is two bytes in a `CaptureRequest` and about a hundred once decoded, so a
//! request of a few MiB could make the server build millions of events before it counts them.
//! [`LimitedCodec`] counts the events of a `CaptureRequest` in its wire bytes first and refuses
//! one with more than [`EVENTS_PER_REQUEST_MAX`] with `RESOURCE_EXHAUSTED` /
//! [`Reason::TooManyEvents`], before prost allocates anything. Every other message passes to
//! prost unchanged: its size limit alone bounds what decoding it costs, since no other request
//! has a repeated field.

use std::any::TypeId;
use std::marker::PhantomData;

use bytes::Buf;
use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

use crate::contract::{EVENTS_PER_REQUEST_MAX, REASON_METADATA_KEY, Reason};
use crate::pb;

/// The protobuf field number of `CaptureRequest.events`.
const CAPTURE_EVENTS_FIELD: u64 = 1;

/// prost's codec, with a count of a capture request's events before it is decoded.
#[derive(Debug, Clone)]
pub struct LimitedCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for LimitedCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for LimitedCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = LimitedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::default().encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        LimitedDecoder {
            inner: ProstCodec::<T, U>::default().decoder(),
        }
    }
}

/// prost's decoder, behind [`events_within_limit`] for capture requests.
#[derive(Debug)]
pub struct LimitedDecoder<U> {
    inner: ProstDecoder<U>,
}

impl<U: Message + Default + 'static> Decoder for LimitedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        if TypeId::of::<U>() == TypeId::of::<pb::CaptureRequest>() {
            // A DecodeBuf holds one whole message in one contiguous buffer.
            let wire = buf.chunk();
            events_within_limit(wire)?;
        }
        self.inner.decode(buf)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}

/// Refuses a `CaptureRequest` whose wire bytes hold more than [`EVENTS_PER_REQUEST_MAX`]
/// events. Reads only the top-level records' keys and lengths; a malformed encoding is left
/// for prost to refuse with its own message.
pub fn events_within_limit(wire: &[u8]) -> Result<(), Status> {
    let events = count_field_records(wire, CAPTURE_EVENTS_FIELD, EVENTS_PER_REQUEST_MAX + 1);
    if events > EVENTS_PER_REQUEST_MAX {
        let mut status = Status::resource_exhausted(format!(
            "more than {EVENTS_PER_REQUEST_MAX} events in one request; at most \
             {EVENTS_PER_REQUEST_MAX}"
        ));
        status.metadata_mut().insert(
            REASON_METADATA_KEY,
            Reason::TooManyEvents
                .as_str()
                .parse()
                .expect("reason codes are ASCII"),
        );
        return Err(status);
    }
    Ok(())
}

/// How many top-level length-delimited records (a message, bytes, a string) of field `number`
/// the protobuf encoding `wire` holds, counting
/// up to `stop` (the count stops there). Stops early, with the count so far, at anything that
/// is not a well-formed record.
fn count_field_records(mut wire: &[u8], number: u64, stop: usize) -> usize {
    let mut count = 0;
    while !wire.is_empty() && count < stop {
        let Some(key) = varint(&mut wire) else {
            break;
        };
        let skipped = match key & 0x7 {
            0 => varint(&mut wire).map(|_| 0),
            1 => Some(8),
            2 => varint(&mut wire).and_then(|len| usize::try_from(len).ok()),
            5 => Some(4),
            // Groups (3, 4) and unknown wire types: prost decides.
            _ => None,
        };
        let Some(skipped) = skipped.filter(|&len| len <= wire.len()) else {
            break;
        };
        wire = &wire[skipped..];
        if key >> 3 == number && key & 0x7 == 2 {
            count += 1;
        }
    }
    count
}

/// Reads one base-128 varint off the front of `wire`; `None` when truncated or too long.
fn varint(wire: &mut &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for (position, &byte) in wire.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * position);
        if byte & 0x80 == 0 {
            *wire = &wire[position + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_of(events: usize) -> Vec<u8> {
        pb::CaptureRequest {
            events: vec![pb::SignedEvent::default(); events],
        }
        .encode_to_vec()
    }

    #[test]
    fn counts_events_without_decoding() {
        for events in [0, 1, 999, 1_000] {
            let wire = request_of(events);
            assert_eq!(count_field_records(&wire, 1, usize::MAX), events);
            assert!(events_within_limit(&wire).is_ok(), "{events}");
        }
        let status = events_within_limit(&request_of(1_001)).expect_err("one past the limit");
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            status
                .metadata()
                .get(REASON_METADATA_KEY)
                .and_then(|v| v.to_str().ok()),
            Some("TOO_MANY_EVENTS")
        );
    }

    #[test]
    fn the_count_stops_at_its_bound_and_at_malformed_bytes() {
        // Two million empty events: the count stops at its bound.
        let wire = [0x0a, 0x00].repeat(2_000_000);
        assert_eq!(count_field_records(&wire, 1, 1_001), 1_001);
        // Other fields, and field 1 with another wire type (prost refuses it), are skipped.
        let mut mixed = vec![0x10, 0x96, 0x01, 0x1d, 1, 2, 3, 4, 0x09];
        mixed.extend_from_slice(&[0; 8]);
        mixed.extend_from_slice(&[0x0a, 0x02, 0xff, 0xff]);
        assert_eq!(count_field_records(&mixed, 1, usize::MAX), 1);
        // A length past the end, a truncated varint, a group: counted up to there.
        assert_eq!(count_field_records(&[0x0a, 0x00, 0x0a, 0x05, 1], 1, 10), 1);
        assert_eq!(count_field_records(&[0x0a, 0x00, 0x0a, 0x80], 1, 10), 1);
        assert_eq!(count_field_records(&[0x0a, 0x00, 0x0b, 0x0c], 1, 10), 1);
        assert_eq!(count_field_records(&[0xff; 12], 1, 10), 0);
    }
}
