//! The signed envelope of an event, and the framing of a log entry.
//!
//! # Signatures
//!
//! A client serializes an `isnad.v1.EventBody` message and signs, with Ed25519 (RFC 8032, pure
//! Ed25519, no prehash), the bytes
//!
//! ```text
//! "isnad/v1/event" || 0x00 || body
//! ```
//!
//! The prefix ([`SIGNING_CONTEXT`]) keeps an event signature from ever being valid as any other
//! message the same key signs. The body is signed and stored exactly as sent: nothing is
//! re-encoded, so any protobuf library in any language can produce a valid event. Verification
//! is strict ([`verify`]): small-order keys and small-order or non-canonical `R` are refused,
//! so a signature accepted here is accepted by every strict verifier, the offline client's
//! included.
//!
//! The framing of a log entry, which holds the signed envelope, is in [`entry`].

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

pub mod entry;

pub use entry::{
    ENTRY_HEADER_LEN, ENTRY_KIND_EVENT, ENTRY_KIND_GENESIS, ENTRY_LEN_MAX, ENTRY_VERSION,
    EntryKind, EntryRef, decode_entry, encode_event_entry, encode_genesis_entry,
};

/// The domain-separation prefix of every event signature.
pub const SIGNING_CONTEXT: &[u8] = b"isnad/v1/event\x00";

/// The longest signed body, in bytes: the design's limit on one event.
pub const BODY_LEN_MAX: usize = 64 * 1024;

/// The length of an Ed25519 public key, in bytes.
pub const PUBLIC_KEY_LEN: usize = 32;

/// The length of an Ed25519 signature, in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// The most signatures [`verify_batch`] checks at once, which bounds the memory it copies
/// bodies into. It is above the 1,000 events one capture request may carry.
pub const BATCH_LEN_MAX: usize = 1024;

/// Why a signature or an entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The public key is not 32 bytes.
    #[error("public key is {len} bytes, expected {PUBLIC_KEY_LEN}")]
    PublicKeyLength {
        /// The length received.
        len: usize,
    },
    /// The signature is not 64 bytes.
    #[error("signature is {len} bytes, expected {SIGNATURE_LEN}")]
    SignatureLength {
        /// The length received.
        len: usize,
    },
    /// The signed body is longer than [`BODY_LEN_MAX`].
    #[error("signed body is {len} bytes, at most {BODY_LEN_MAX}")]
    BodyTooLong {
        /// The length received.
        len: usize,
    },
    /// The public key is not the encoding of a point on the curve.
    #[error("public key is not a valid Ed25519 point")]
    PublicKeyInvalid,
    /// The signature does not verify for this key and body.
    #[error("signature does not verify")]
    SignatureInvalid,
    /// More items than [`BATCH_LEN_MAX`] were given to [`verify_batch`].
    #[error("batch of {len} signatures, at most {BATCH_LEN_MAX}")]
    BatchTooLarge {
        /// The number of items received.
        len: usize,
    },
    /// One item of a batch is malformed or fails a strictness check before the batch equation.
    #[error("batch item {index}: {error}")]
    BatchItem {
        /// The item's position in the batch.
        index: usize,
        /// What is wrong with it.
        #[source]
        error: Box<EnvelopeError>,
    },
    /// The batch equation failed: at least one signature is invalid ([`first_invalid`] finds
    /// which).
    #[error("batch verification failed: at least one signature does not verify")]
    BatchInvalid,
    /// The entry is shorter than its header and fixed fields.
    #[error("entry is {len} bytes, shorter than the {needed} its kind needs")]
    EntryTooShort {
        /// The entry's length.
        len: usize,
        /// The least its kind needs.
        needed: usize,
    },
    /// The entry is longer than [`ENTRY_LEN_MAX`].
    #[error("entry is {len} bytes, at most {ENTRY_LEN_MAX}")]
    EntryTooLong {
        /// The entry's length.
        len: usize,
    },
    /// The entry's version byte is not [`ENTRY_VERSION`].
    #[error("entry version {version} is not supported (expected {ENTRY_VERSION})")]
    EntryVersion {
        /// The version byte found.
        version: u8,
    },
    /// The entry's kind byte is neither genesis nor event.
    #[error("entry kind {kind} is unknown")]
    EntryKind {
        /// The kind byte found.
        kind: u8,
    },
}

/// The bytes an event signature covers: [`SIGNING_CONTEXT`] followed by the body.
pub fn signing_bytes(body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SIGNING_CONTEXT.len() + body.len());
    bytes.extend_from_slice(SIGNING_CONTEXT);
    bytes.extend_from_slice(body);
    bytes
}

/// Signs an event body. A body longer than [`BODY_LEN_MAX`] gets a signature that [`verify`]
/// will refuse; callers check the length first.
pub fn sign(key: &SigningKey, body: &[u8]) -> [u8; SIGNATURE_LEN] {
    key.sign(&signing_bytes(body)).to_bytes()
}

/// Verifies an event signature strictly. Lengths are checked before any curve arithmetic.
pub fn verify(public_key: &[u8], signature: &[u8], body: &[u8]) -> Result<(), EnvelopeError> {
    let (key, signature) = parse(public_key, signature, body)?;
    key.verify_strict(&signing_bytes(body), &signature)
        .map_err(|_| EnvelopeError::SignatureInvalid)
}

/// Verifies many event signatures at once, faster per signature than [`verify`].
///
/// It accepts exactly what [`verify`] accepts (up to the batch equation's 2^-128 chance of a
/// false accept): before the batch equation, each key and each signature's `R` is checked the
/// way `verify_strict` checks them. On `Err(BatchInvalid)`, [`first_invalid`] names the item.
pub fn verify_batch(items: &[(&[u8], &[u8], &[u8])]) -> Result<(), EnvelopeError> {
    if items.len() > BATCH_LEN_MAX {
        return Err(EnvelopeError::BatchTooLarge { len: items.len() });
    }
    let mut keys = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    for (index, (public_key, signature, body)) in items.iter().enumerate() {
        let in_item = |error| EnvelopeError::BatchItem {
            index,
            error: Box::new(error),
        };
        let (key, signature) = parse(public_key, signature, body).map_err(in_item)?;
        check_strict(&key, &signature).map_err(in_item)?;
        keys.push(key);
        signatures.push(signature);
    }
    let messages: Vec<Vec<u8>> = items
        .iter()
        .map(|(_, _, body)| signing_bytes(body))
        .collect();
    let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys)
        .map_err(|_| EnvelopeError::BatchInvalid)
}

/// The position of the first item whose signature [`verify`] refuses, if any: the fallback
/// after a failed [`verify_batch`].
pub fn first_invalid(items: &[(&[u8], &[u8], &[u8])]) -> Option<usize> {
    items
        .iter()
        .position(|(public_key, signature, body)| verify(public_key, signature, body).is_err())
}

/// Checks the lengths and decodes the key and signature.
fn parse(
    public_key: &[u8],
    signature: &[u8],
    body: &[u8],
) -> Result<(VerifyingKey, Signature), EnvelopeError> {
    let public_key: &[u8; PUBLIC_KEY_LEN] =
        public_key
            .try_into()
            .map_err(|_| EnvelopeError::PublicKeyLength {
                len: public_key.len(),
            })?;
    let signature: &[u8; SIGNATURE_LEN] =
        signature
            .try_into()
            .map_err(|_| EnvelopeError::SignatureLength {
                len: signature.len(),
            })?;
    if body.len() > BODY_LEN_MAX {
        return Err(EnvelopeError::BodyTooLong { len: body.len() });
    }
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| EnvelopeError::PublicKeyInvalid)?;
    Ok((key, Signature::from_bytes(signature)))
}

/// The checks `verify_strict` makes beyond the equation that the batch equation does not: no
/// small-order key, and an `R` that is a canonical encoding of a point of large order.
///
/// The `R` checks are byte comparisons, because decompressing `R` here would cost about 4 us
/// per signature, a third of the batch equation's own cost; the batch equation decompresses it.
fn check_strict(key: &VerifyingKey, signature: &Signature) -> Result<(), EnvelopeError> {
    let r_bytes = signature.r_bytes();
    if key.is_weak() || !is_canonical_y(r_bytes) || has_small_order(r_bytes) {
        return Err(EnvelopeError::SignatureInvalid);
    }
    Ok(())
}

/// Whether a point encoding's y coordinate (its low 255 bits, little-endian) is below the field
/// prime 2^255 - 19. The only other non-canonical encodings, x = 0 with the sign bit set, are
/// of the points with y = 1 and y = -1, which [`has_small_order`] refuses.
fn is_canonical_y(encoding: &[u8; 32]) -> bool {
    let top = encoding[31] & 0x7f;
    let middle_all_ones = encoding[1..31].iter().all(|&byte| byte == 0xff);
    // p = 0x7fff...ffed: y >= p only when every byte above the lowest is at its maximum.
    !(top == 0x7f && middle_all_ones && encoding[0] >= 0xed)
}

/// The y coordinates (little-endian) of the 8 points of small order, each point with either
/// sign of x: 0 (order 4), 1 (order 1), p - 1 (order 2), and the two of order 8. The same list
/// as libsodium's `ge25519_has_small_order`; a test checks it against `VerifyingKey::is_weak`.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    {
        let mut one = [0; 32];
        one[0] = 1;
        one
    },
    {
        let mut minus_one = [0xff; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        minus_one
    },
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
];

/// Whether a canonical point encoding is of a point of small order.
fn has_small_order(encoding: &[u8; 32]) -> bool {
    let mut y = *encoding;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032, section 7.1, TEST 1: secret key.
    const RFC8032_SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public(key: &SigningKey) -> [u8; PUBLIC_KEY_LEN] {
        key.verifying_key().to_bytes()
    }

    #[test]
    fn library_matches_rfc8032_test_1() {
        let secret: [u8; 32] = hex::decode(RFC8032_SECRET)
            .expect("hex")
            .try_into()
            .expect("32");
        let key = SigningKey::from_bytes(&secret);
        assert_eq!(
            hex::encode(public(&key)),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(key.sign(b"").to_bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    /// Pins the signing format: a change to the context or to what is signed changes this hex.
    /// The same signature comes out of OpenSSL's Ed25519 over the same key and bytes.
    #[test]
    fn worked_example_signature_is_pinned() {
        let secret: [u8; 32] = hex::decode(RFC8032_SECRET)
            .expect("hex")
            .try_into()
            .expect("32");
        let key = SigningKey::from_bytes(&secret);
        let body = b"\x0a\x10worked-example-0";
        assert_eq!(
            signing_bytes(body),
            b"isnad/v1/event\x00\x0a\x10worked-example-0"
        );
        let signature = sign(&key, body);
        assert_eq!(
            hex::encode(signature),
            "4c87e3e587de686bd0eba9b9693f9226da4fdc453e3d5617144fa1673dd34e404a5114982d6ad0ac29da88c5f219d13026211d9ce6d293856520c007fe468306"
        );
        assert_eq!(verify(&public(&key), &signature, body), Ok(()));
    }

    #[track_caller]
    fn check(
        public_key: &[u8],
        signature: &[u8],
        body: &[u8],
        expected: Result<(), EnvelopeError>,
    ) {
        assert_eq!(verify(public_key, signature, body), expected);
        let batch = verify_batch(&[(public_key, signature, body)]);
        let expected_batch = match expected {
            Ok(()) => Ok(()),
            Err(EnvelopeError::SignatureInvalid) => {
                assert!(
                    matches!(
                        batch,
                        Err(EnvelopeError::BatchInvalid)
                            | Err(EnvelopeError::BatchItem { index: 0, .. })
                    ),
                    "batch of one accepted what verify refuses: {batch:?}"
                );
                return;
            }
            Err(error) => Err(EnvelopeError::BatchItem {
                index: 0,
                error: Box::new(error),
            }),
        };
        assert_eq!(batch, expected_batch);
    }

    #[test]
    fn verify_accepts_good_and_refuses_malformed() {
        let signer = key(7);
        let body = b"body bytes";
        let signature = sign(&signer, body);
        let public_key = public(&signer);
        check(&public_key, &signature, body, Ok(()));
        check(
            &public_key[..31],
            &signature,
            body,
            Err(EnvelopeError::PublicKeyLength { len: 31 }),
        );
        check(
            &[public_key.as_slice(), &[0]].concat(),
            &signature,
            body,
            Err(EnvelopeError::PublicKeyLength { len: 33 }),
        );
        check(
            &public_key,
            &signature[..63],
            body,
            Err(EnvelopeError::SignatureLength { len: 63 }),
        );
        check(
            &public_key,
            &[signature.as_slice(), &[0]].concat(),
            body,
            Err(EnvelopeError::SignatureLength { len: 65 }),
        );
        check(
            &[],
            &[],
            body,
            Err(EnvelopeError::PublicKeyLength { len: 0 }),
        );
        // y = 2 is not the y coordinate of any point on the curve.
        let mut not_a_point = [0u8; PUBLIC_KEY_LEN];
        not_a_point[0] = 2;
        check(
            &not_a_point,
            &signature,
            body,
            Err(EnvelopeError::PublicKeyInvalid),
        );
        // Another key's signature, or another body.
        check(
            &public(&key(8)),
            &signature,
            body,
            Err(EnvelopeError::SignatureInvalid),
        );
        check(
            &public_key,
            &signature,
            b"body bytez",
            Err(EnvelopeError::SignatureInvalid),
        );
        // A signature over the body alone, without the context, is not an event signature.
        check(
            &public_key,
            &signer.sign(body).to_bytes(),
            body,
            Err(EnvelopeError::SignatureInvalid),
        );
    }

    #[test]
    fn body_length_limit() {
        let signer = key(9);
        let longest = vec![0x5a; BODY_LEN_MAX];
        check(&public(&signer), &sign(&signer, &longest), &longest, Ok(()));
        let too_long = vec![0x5a; BODY_LEN_MAX + 1];
        let signature = sign(&signer, &too_long);
        check(
            &public(&signer),
            &signature,
            &too_long,
            Err(EnvelopeError::BodyTooLong {
                len: BODY_LEN_MAX + 1,
            }),
        );
    }

    #[test]
    fn every_flipped_bit_fails() {
        let signer = key(3);
        let body = b"\x0a\x05hello\x12\x03abc".to_vec();
        let public_key = public(&signer);
        let signature = sign(&signer, &body);
        let flip = |bytes: &[u8], bit: usize| {
            let mut flipped = bytes.to_vec();
            flipped[bit / 8] ^= 1 << (bit % 8);
            flipped
        };
        for bit in 0..body.len() * 8 {
            assert!(
                verify(&public_key, &signature, &flip(&body, bit)).is_err(),
                "body bit {bit}"
            );
        }
        for bit in 0..SIGNATURE_LEN * 8 {
            assert!(
                verify(&public_key, &flip(&signature, bit), &body).is_err(),
                "signature bit {bit}"
            );
        }
        for bit in 0..PUBLIC_KEY_LEN * 8 {
            assert!(
                verify(&flip(&public_key, bit), &signature, &body).is_err(),
                "key bit {bit}"
            );
        }
    }

    /// The identity point as key and as `R`, with `s = 0`, satisfies the batch equation for
    /// every message; `verify_strict` refuses the small-order key, and so must the batch.
    #[test]
    fn batch_refuses_what_strict_verification_refuses() {
        let mut identity = [0u8; PUBLIC_KEY_LEN];
        identity[0] = 1;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature[..32].copy_from_slice(&identity);
        let body = b"anything";
        let message = signing_bytes(body);
        let weak = VerifyingKey::from_bytes(&identity).expect("the identity is a point");
        let raw =
            ed25519_dalek::verify_batch(&[&message], &[Signature::from_bytes(&signature)], &[weak]);
        assert!(
            raw.is_ok(),
            "the library's batch equation alone accepts this"
        );
        check(
            &identity,
            &signature,
            body,
            Err(EnvelopeError::SignatureInvalid),
        );
        // A small-order R under a sound key is refused before the equation too.
        let mut small_r = sign(&key(1), body);
        small_r[..32].copy_from_slice(&identity);
        check(
            &public(&key(1)),
            &small_r,
            body,
            Err(EnvelopeError::SignatureInvalid),
        );
    }

    #[test]
    fn canonical_y_is_below_the_field_prime() {
        let encoding = |low: u8, top: u8| {
            let mut bytes = [0xff; 32];
            bytes[0] = low;
            bytes[31] = top;
            bytes
        };
        assert!(is_canonical_y(&encoding(0xec, 0x7f)), "p - 1");
        assert!(!is_canonical_y(&encoding(0xed, 0x7f)), "p");
        assert!(!is_canonical_y(&encoding(0xff, 0x7f)), "2^255 - 1");
        assert!(
            !is_canonical_y(&encoding(0xf0, 0xff)),
            "p + 3, sign bit set"
        );
        assert!(
            is_canonical_y(&encoding(0xff, 0x7e)),
            "below p in the top byte"
        );
        assert!(is_canonical_y(&[0; 32]));
    }

    #[test]
    fn small_order_list_is_exactly_the_weak_points() {
        let mut weak_points = Vec::new();
        for y in SMALL_ORDER_Y {
            for sign in [0, 0x80] {
                let mut encoding = y;
                encoding[31] |= sign;
                assert!(has_small_order(&encoding));
                if let Ok(point) = VerifyingKey::from_bytes(&encoding) {
                    assert!(point.is_weak(), "{}", hex::encode(encoding));
                    weak_points.push(point.to_edwards().compress().to_bytes());
                }
            }
        }
        weak_points.sort_unstable();
        weak_points.dedup();
        // Ed25519's torsion subgroup has exactly 8 points: the list misses none of them.
        assert_eq!(weak_points.len(), 8);
        for seed in 0..64 {
            let signature = sign(&key(seed), b"body");
            let r: [u8; 32] = signature[..32].try_into().expect("32 bytes");
            assert!(!has_small_order(&r) && is_canonical_y(&r));
        }
    }

    /// y = 3 is on the curve, so y = p + 3 decodes to the same point: only the encoding is
    /// wrong, and strict verification refuses it.
    #[test]
    fn non_canonical_r_is_refused_before_the_batch_equation() {
        let signer = key(4);
        let mut signature = sign(&signer, b"body");
        let canonical = check_strict(&signer.verifying_key(), &Signature::from_bytes(&signature));
        assert_eq!(canonical, Ok(()));
        let mut p_plus_3 = [0xff; 32];
        p_plus_3[0] = 0xf0;
        p_plus_3[31] = 0x7f;
        signature[..32].copy_from_slice(&p_plus_3);
        let refused = check_strict(&signer.verifying_key(), &Signature::from_bytes(&signature));
        assert_eq!(refused, Err(EnvelopeError::SignatureInvalid));
    }

    fn signed_items(count: usize) -> Vec<([u8; PUBLIC_KEY_LEN], [u8; SIGNATURE_LEN], Vec<u8>)> {
        (0..count)
            .map(|index| {
                let signer = key(u8::try_from(index % 256).expect("below 256"));
                let body = format!("event body number {index}").into_bytes();
                (public(&signer), sign(&signer, &body), body)
            })
            .collect()
    }

    fn as_items(
        owned: &[([u8; PUBLIC_KEY_LEN], [u8; SIGNATURE_LEN], Vec<u8>)],
    ) -> Vec<(&[u8], &[u8], &[u8])> {
        owned
            .iter()
            .map(|(key, signature, body)| (key.as_slice(), signature.as_slice(), body.as_slice()))
            .collect()
    }

    #[test]
    fn batch_finds_the_bad_signature() {
        assert_eq!(verify_batch(&[]), Ok(()));
        assert_eq!(first_invalid(&[]), None);
        let mut owned = signed_items(64);
        assert_eq!(verify_batch(&as_items(&owned)), Ok(()));
        assert_eq!(first_invalid(&as_items(&owned)), None);
        owned[37].2.push(b'!');
        assert_eq!(
            verify_batch(&as_items(&owned)),
            Err(EnvelopeError::BatchInvalid)
        );
        assert_eq!(first_invalid(&as_items(&owned)), Some(37));
        owned[5].1[0] ^= 1;
        assert_eq!(first_invalid(&as_items(&owned)), Some(5));
    }

    #[test]
    fn batch_reports_a_malformed_item_and_its_limit() {
        let owned = signed_items(3);
        let mut items = as_items(&owned);
        items[2].0 = &owned[2].0[..31];
        let expected = EnvelopeError::BatchItem {
            index: 2,
            error: Box::new(EnvelopeError::PublicKeyLength { len: 31 }),
        };
        assert_eq!(verify_batch(&items), Err(expected));
        assert_eq!(first_invalid(&items), Some(2));
        let owned = signed_items(BATCH_LEN_MAX + 1);
        let items = as_items(&owned);
        assert_eq!(verify_batch(&items[..BATCH_LEN_MAX]), Ok(()));
        assert_eq!(
            verify_batch(&items),
            Err(EnvelopeError::BatchTooLarge {
                len: BATCH_LEN_MAX + 1
            })
        );
    }
}
