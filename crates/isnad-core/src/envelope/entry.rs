//! The framing of a log entry.
//!
//! The log's leaf hash is `SHA-256(0x00 || entry)` (RFC 9162), over these bytes, which the
//! server encodes once, stores, and serves unchanged:
//!
//! ```text
//! entry = version || kind || recorded_unix_ms || rest
//!   version           1 byte, 0x01 (ENTRY_VERSION)
//!   kind              1 byte: 0x00 genesis, 0x01 event
//!   recorded_unix_ms  8 bytes, signed 64-bit integer, big-endian (two's complement):
//!                     milliseconds since the Unix epoch at which the log's sequencer
//!                     recorded the entry (not the client's event time)
//!   rest, kind 0x00   the protobuf encoding of the isnad.v1.Genesis message, to the end
//!   rest, kind 0x01   public_key (32 bytes) || signature (64 bytes) || body (to the end),
//!                     where body is the signed EventBody bytes, at most 65,536 bytes
//! ```
//!
//! No length prefix is needed: each entry is served as one byte string, and the last field runs
//! to its end. An entry is at most [`ENTRY_LEN_MAX`] bytes. For example, an event recorded at
//! `1_700_000_000_000` ms begins `01 01 00 00 01 8b cf e5 68 00`, followed by the key, the
//! signature and the body.

use super::{BODY_LEN_MAX, EnvelopeError, PUBLIC_KEY_LEN, SIGNATURE_LEN};

/// The entry format this code writes and reads.
pub const ENTRY_VERSION: u8 = 1;

/// The entry kind byte of the genesis entry.
pub const ENTRY_KIND_GENESIS: u8 = 0;

/// The entry kind byte of an event entry.
pub const ENTRY_KIND_EVENT: u8 = 1;

/// Version, kind and recorded time: the bytes every entry starts with.
pub const ENTRY_HEADER_LEN: usize = 1 + 1 + 8;

/// The longest entry, in bytes: a header, a key, a signature and the longest body. A genesis
/// entry has the same bound.
pub const ENTRY_LEN_MAX: usize = ENTRY_HEADER_LEN + PUBLIC_KEY_LEN + SIGNATURE_LEN + BODY_LEN_MAX;

/// What a log entry holds after its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind<'a> {
    /// Entry 0: the protobuf-encoded `isnad.v1.Genesis` message.
    Genesis {
        /// The `Genesis` message bytes.
        genesis: &'a [u8],
    },
    /// A signed event, exactly as the client sent it.
    Event {
        /// The signer's Ed25519 public key.
        public_key: [u8; PUBLIC_KEY_LEN],
        /// The signature over [`signing_bytes`](super::signing_bytes) of the log's origin and the body.
        signature: [u8; SIGNATURE_LEN],
        /// The signed `EventBody` bytes.
        body: &'a [u8],
    },
}

/// A decoded log entry, borrowing from the entry bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// When the log's sequencer recorded the entry, in milliseconds since the Unix epoch.
    pub recorded_unix_ms: i64,
    /// The entry's kind and contents.
    pub kind: EntryKind<'a>,
}

/// Encodes an event entry.
///
/// # Panics
///
/// When `body` is longer than [`BODY_LEN_MAX`]: the server verifies every event before it
/// encodes one, and [`verify`] refuses such a body, so a longer one here is a bug.
pub fn encode_event_entry(
    recorded_unix_ms: i64,
    public_key: &[u8; PUBLIC_KEY_LEN],
    signature: &[u8; SIGNATURE_LEN],
    body: &[u8],
) -> Vec<u8> {
    assert!(
        body.len() <= BODY_LEN_MAX,
        "an event body of {} bytes was never verified",
        body.len()
    );
    let mut entry = header(
        ENTRY_KIND_EVENT,
        recorded_unix_ms,
        PUBLIC_KEY_LEN + SIGNATURE_LEN + body.len(),
    );
    entry.extend_from_slice(public_key);
    entry.extend_from_slice(signature);
    entry.extend_from_slice(body);
    entry
}

/// Encodes the genesis entry.
///
/// # Panics
///
/// When the entry would be longer than [`ENTRY_LEN_MAX`]: the genesis message is built by the
/// server itself and is a few hundred bytes, so a longer one is a bug.
pub fn encode_genesis_entry(recorded_unix_ms: i64, genesis: &[u8]) -> Vec<u8> {
    assert!(
        ENTRY_HEADER_LEN + genesis.len() <= ENTRY_LEN_MAX,
        "a genesis message of {} bytes cannot be an entry",
        genesis.len()
    );
    let mut entry = header(ENTRY_KIND_GENESIS, recorded_unix_ms, genesis.len());
    entry.extend_from_slice(genesis);
    entry
}

fn header(kind: u8, recorded_unix_ms: i64, rest_len: usize) -> Vec<u8> {
    let mut entry = Vec::with_capacity(ENTRY_HEADER_LEN + rest_len);
    entry.push(ENTRY_VERSION);
    entry.push(kind);
    entry.extend_from_slice(&recorded_unix_ms.to_be_bytes());
    entry
}

/// Decodes an entry's framing. The genesis message and the event body are returned as bytes;
/// decoding them is the protobuf layer's work.
pub fn decode_entry(bytes: &[u8]) -> Result<EntryRef<'_>, EnvelopeError> {
    if bytes.len() > ENTRY_LEN_MAX {
        return Err(EnvelopeError::EntryTooLong { len: bytes.len() });
    }
    let Some((header, rest)) = bytes.split_first_chunk::<ENTRY_HEADER_LEN>() else {
        return Err(EnvelopeError::EntryTooShort {
            len: bytes.len(),
            needed: ENTRY_HEADER_LEN,
        });
    };
    let [version, kind, time @ ..] = *header;
    if version != ENTRY_VERSION {
        return Err(EnvelopeError::EntryVersion { version });
    }
    let recorded_unix_ms = i64::from_be_bytes(time);
    let kind = match kind {
        ENTRY_KIND_GENESIS => EntryKind::Genesis { genesis: rest },
        ENTRY_KIND_EVENT => decode_event(bytes.len(), rest)?,
        kind => return Err(EnvelopeError::EntryKind { kind }),
    };
    Ok(EntryRef {
        recorded_unix_ms,
        kind,
    })
}

fn decode_event(entry_len: usize, rest: &[u8]) -> Result<EntryKind<'_>, EnvelopeError> {
    let needed = ENTRY_HEADER_LEN + PUBLIC_KEY_LEN + SIGNATURE_LEN;
    let too_short = EnvelopeError::EntryTooShort {
        len: entry_len,
        needed,
    };
    let (public_key, rest) = rest
        .split_first_chunk::<PUBLIC_KEY_LEN>()
        .ok_or(too_short.clone())?;
    let (signature, body) = rest.split_first_chunk::<SIGNATURE_LEN>().ok_or(too_short)?;
    // The entry's own bound already keeps the body within BODY_LEN_MAX.
    debug_assert!(body.len() <= BODY_LEN_MAX);
    Ok(EntryKind::Event {
        public_key: *public_key,
        signature: *signature,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn entry_header_worked_example() {
        let entry = encode_event_entry(1_700_000_000_000, &[0xaa; 32], &[0xbb; 64], b"body");
        assert_eq!(
            hex::encode(&entry[..ENTRY_HEADER_LEN]),
            "01010000018bcfe56800"
        );
        assert_eq!(entry.len(), ENTRY_HEADER_LEN + 96 + 4);
        assert_eq!(&entry[ENTRY_HEADER_LEN..ENTRY_HEADER_LEN + 32], &[0xaa; 32]);
        assert_eq!(
            &entry[ENTRY_HEADER_LEN + 32..ENTRY_HEADER_LEN + 96],
            &[0xbb; 64]
        );
        assert_eq!(&entry[ENTRY_HEADER_LEN + 96..], b"body");
        let genesis = encode_genesis_entry(-1, b"\x0a\x01x");
        assert_eq!(hex::encode(genesis), "0100ffffffffffffffff0a0178");
    }

    #[test]
    fn entries_round_trip_at_the_edges() {
        let longest = vec![7u8; BODY_LEN_MAX];
        for recorded_unix_ms in [i64::MIN, -1, 0, 1_700_000_000_000, i64::MAX] {
            for body in [&b""[..], b"x", &longest] {
                let entry = encode_event_entry(recorded_unix_ms, &[1; 32], &[2; 64], body);
                let expected = EntryKind::Event {
                    public_key: [1; 32],
                    signature: [2; 64],
                    body,
                };
                assert_eq!(
                    decode_entry(&entry),
                    Ok(EntryRef {
                        recorded_unix_ms,
                        kind: expected
                    })
                );
                let entry = encode_genesis_entry(recorded_unix_ms, body);
                let expected = EntryKind::Genesis { genesis: body };
                assert_eq!(
                    decode_entry(&entry),
                    Ok(EntryRef {
                        recorded_unix_ms,
                        kind: expected
                    })
                );
            }
        }
        let longest_entry = encode_event_entry(0, &[1; 32], &[2; 64], &longest);
        assert_eq!(longest_entry.len(), ENTRY_LEN_MAX);
    }

    #[test]
    fn decode_refuses_malformed_entries() {
        let event = encode_event_entry(5, &[1; 32], &[2; 64], b"body");
        let with = |index: usize, byte: u8| {
            let mut changed = event.clone();
            changed[index] = byte;
            changed
        };
        let too_short = |len| EnvelopeError::EntryTooShort {
            len,
            needed: ENTRY_HEADER_LEN,
        };
        let event_too_short = |len| EnvelopeError::EntryTooShort {
            len,
            needed: ENTRY_HEADER_LEN + 96,
        };
        let cases: Vec<(Vec<u8>, EnvelopeError)> = vec![
            (vec![], too_short(0)),
            (
                event[..ENTRY_HEADER_LEN - 1].to_vec(),
                too_short(ENTRY_HEADER_LEN - 1),
            ),
            (
                event[..ENTRY_HEADER_LEN].to_vec(),
                event_too_short(ENTRY_HEADER_LEN),
            ),
            (
                event[..ENTRY_HEADER_LEN + 95].to_vec(),
                event_too_short(ENTRY_HEADER_LEN + 95),
            ),
            (with(0, 0), EnvelopeError::EntryVersion { version: 0 }),
            (with(0, 2), EnvelopeError::EntryVersion { version: 2 }),
            (with(1, 2), EnvelopeError::EntryKind { kind: 2 }),
            (with(1, 255), EnvelopeError::EntryKind { kind: 255 }),
            (
                vec![ENTRY_VERSION; ENTRY_LEN_MAX + 1],
                EnvelopeError::EntryTooLong {
                    len: ENTRY_LEN_MAX + 1,
                },
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(decode_entry(&bytes), Err(expected));
        }
        // An event entry of exactly header, key and signature holds an empty body.
        let empty = decode_entry(&event[..ENTRY_HEADER_LEN + 96]).expect("valid framing");
        assert!(matches!(empty.kind, EntryKind::Event { body: b"", .. }));
    }

    #[test]
    fn encoding_past_the_limit_is_a_bug_that_panics() {
        let too_long = vec![0u8; BODY_LEN_MAX + 1];
        let event =
            std::panic::catch_unwind(|| encode_event_entry(0, &[0; 32], &[0; 64], &too_long));
        assert!(event.is_err());
        let genesis_too_long = vec![0u8; ENTRY_LEN_MAX - ENTRY_HEADER_LEN + 1];
        let genesis = std::panic::catch_unwind(|| encode_genesis_entry(0, &genesis_too_long));
        assert!(genesis.is_err());
        assert_eq!(
            encode_genesis_entry(0, &genesis_too_long[1..]).len(),
            ENTRY_LEN_MAX
        );
    }

    proptest! {
        #[test]
        fn any_event_entry_round_trips(
            recorded_unix_ms in any::<i64>(),
            public_key in any::<[u8; 32]>(),
            signature in proptest::collection::vec(any::<u8>(), 64),
            body in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let signature: [u8; 64] = signature.try_into().expect("64 bytes");
            let entry = encode_event_entry(recorded_unix_ms, &public_key, &signature, &body);
            let kind = EntryKind::Event { public_key, signature, body: &body };
            prop_assert_eq!(decode_entry(&entry), Ok(EntryRef { recorded_unix_ms, kind }));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_entry(&bytes);
        }
    }
}
