//! The signed envelope of an event, and the framing of a log entry.
//!
//! # Signatures
//!
//! A client serializes an `isnad.v1.EventBody` message and signs, with Ed25519 (RFC 8032, pure
//! Ed25519, no prehash), the bytes
//!
//! ```text
//! "isnad/v1/event" || 0x00 || origin || 0x00 || body
//! ```
//!
//! The prefix ([`SIGNING_CONTEXT`]) keeps an event signature from ever being valid as any other
//! message the same key signs. The origin is the log's, as its genesis entry and every checkpoint
//! name it (for example `isnad.sante.gov.ma/log`), in UTF-8: an event signed for one log is
//! refused by every other, so events do not replay between a test log and a production log that
//! share a regulator key. An origin never holds a 0x00 byte (the server's `init` refuses one),
//! so the origin and the body cannot be shifted into each other. The body is signed and stored
//! exactly as sent: nothing is re-encoded, so any protobuf library in any language can produce
//! a valid event.
//!
//! # One definition of a valid signature
//!
//! [`verify`] is the definition, and the server, the offline client and the auditor all use it
//! (the server through [`verify_batch`], which applies it to each event). It is Ed25519
//! verification as `ed25519-dalek`'s `verify_strict` and libsodium do it: `S` below the group
//! order, neither the key `A` nor `R` of small order, and the cofactorless equation
//! `R = [S]B - [k]A` checked by comparing encodings, so `R` must be canonical.
//!
//! A batch equation is not used: it accepts more. An `R` with a torsion component passes it
//! whenever the batch's random coefficient kills that component (one chance in 8 for a
//! component of order 8, and the coefficients are derived from the signed data, so a forger can
//! search for such a signature), while every strict verifier refuses it. Ruling that out means
//! checking that each `R` lies in the prime-order subgroup, a scalar multiplication per
//! signature that costs as much as the single verification it would save.
//!
//! Keys that are registered (the genesis regulator keys, admitted participants' keys, added
//! keys) must pass [`check_public_key`]: points of the prime-order subgroup, as every key made
//! from a secret is. A key with a torsion component can make signatures that one strict
//! verifier accepts and another (cofactored) one refuses; such a key is never registered.
//!
//! The framing of a log entry, which holds the signed envelope, is in [`entry`]; the signature
//! a caller puts on a request (to read as an admitted party) is in [`request`].

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

pub mod entry;
pub mod request;

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

/// The most signatures [`verify_batch`] checks at once. It is above the 1,000 events one
/// capture request may carry.
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
    /// The public key is a point, but not one a secret key makes: a non-canonical encoding, a
    /// point of small order or one with a torsion component ([`check_public_key`]).
    #[error("public key is not a valid Ed25519 key: small order, torsion or non-canonical")]
    PublicKeyWeak,
    /// The signature does not verify for this key and body.
    #[error("signature does not verify")]
    SignatureInvalid,
    /// More items than [`BATCH_LEN_MAX`] were given to [`verify_batch`].
    #[error("batch of {len} signatures, at most {BATCH_LEN_MAX}")]
    BatchTooLarge {
        /// The number of items received.
        len: usize,
    },
    /// One item of a batch is malformed or its signature does not verify: the first such item.
    #[error("batch item {index}: {error}")]
    BatchItem {
        /// The item's position in the batch.
        index: usize,
        /// What is wrong with it.
        #[source]
        error: Box<EnvelopeError>,
    },
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

/// The bytes an event signature covers on the log named `origin`: [`SIGNING_CONTEXT`], the
/// origin, a 0x00 byte, then the body.
pub fn signing_bytes(origin: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SIGNING_CONTEXT.len() + origin.len() + 1 + body.len());
    bytes.extend_from_slice(SIGNING_CONTEXT);
    bytes.extend_from_slice(origin.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(body);
    bytes
}

/// Signs an event body for the log named `origin`. A body longer than [`BODY_LEN_MAX`] gets a
/// signature that [`verify`] will refuse; callers check the length first.
pub fn sign(key: &SigningKey, origin: &str, body: &[u8]) -> [u8; SIGNATURE_LEN] {
    key.sign(&signing_bytes(origin, body)).to_bytes()
}

/// Verifies an event signature for the log named `origin`: the one definition of a valid
/// signature (see the module documentation). Lengths are checked before any curve arithmetic.
pub fn verify(
    origin: &str,
    public_key: &[u8],
    signature: &[u8],
    body: &[u8],
) -> Result<(), EnvelopeError> {
    let (key, signature) = parse(public_key, signature, body)?;
    key.verify_strict(&signing_bytes(origin, body), &signature)
        .map_err(|_| EnvelopeError::SignatureInvalid)
}

/// Verifies every item with [`verify`], so it accepts exactly what [`verify`] accepts, and
/// names the first item refused.
pub fn verify_batch(origin: &str, items: &[(&[u8], &[u8], &[u8])]) -> Result<(), EnvelopeError> {
    if items.len() > BATCH_LEN_MAX {
        return Err(EnvelopeError::BatchTooLarge { len: items.len() });
    }
    for (index, (public_key, signature, body)) in items.iter().enumerate() {
        verify(origin, public_key, signature, body).map_err(|error| EnvelopeError::BatchItem {
            index,
            error: Box::new(error),
        })?;
    }
    Ok(())
}

/// Checks that a key may be registered (genesis regulator keys, admitted participants' keys,
/// added keys): the canonical encoding of a point of the prime-order subgroup other than the
/// identity, which is what every key made from a secret is.
pub fn check_public_key(public_key: &[u8; PUBLIC_KEY_LEN]) -> Result<(), EnvelopeError> {
    let point = CompressedEdwardsY(*public_key)
        .decompress()
        .ok_or(EnvelopeError::PublicKeyInvalid)?;
    if point.compress().0 != *public_key || point.is_small_order() || !point.is_torsion_free() {
        return Err(EnvelopeError::PublicKeyWeak);
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::IsIdentity;

    /// The origin of the log the tests sign for.
    const ORIGIN: &str = "test.isnad.ma/log";

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
            signing_bytes(ORIGIN, body),
            b"isnad/v1/event\x00test.isnad.ma/log\x00\x0a\x10worked-example-0"
        );
        let signature = sign(&key, ORIGIN, body);
        assert_eq!(
            hex::encode(signature),
            "be47cc6a0a4ae6a7e0714fc660bd3afa7137e8c7e2ea42e588b36c1c844ce6a69876de379440a719dae8b103aa114b1c1c86dfd17f620d3ee15f21505de43000"
        );
        assert_eq!(verify(ORIGIN, &public(&key), &signature, body), Ok(()));
    }

    #[track_caller]
    fn check(
        public_key: &[u8],
        signature: &[u8],
        body: &[u8],
        expected: Result<(), EnvelopeError>,
    ) {
        assert_eq!(verify(ORIGIN, public_key, signature, body), expected);
        let batch = verify_batch(ORIGIN, &[(public_key, signature, body)]);
        let expected_batch = expected.map_err(|error| EnvelopeError::BatchItem {
            index: 0,
            error: Box::new(error),
        });
        assert_eq!(batch, expected_batch);
    }

    #[test]
    fn verify_accepts_good_and_refuses_malformed() {
        let signer = key(7);
        let body = b"body bytes";
        let signature = sign(&signer, ORIGIN, body);
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
        // Nor is one over the context without the origin, the format before origins were bound.
        let mut unbound = SIGNING_CONTEXT.to_vec();
        unbound.extend_from_slice(body);
        check(
            &public_key,
            &signer.sign(&unbound).to_bytes(),
            body,
            Err(EnvelopeError::SignatureInvalid),
        );
    }

    /// An event signed for one log is refused by every other log, however close its origin.
    #[test]
    fn a_signature_is_bound_to_the_origin() {
        let signer = key(11);
        let body = b"\x0a\x05hello";
        let signature = sign(&signer, ORIGIN, body);
        assert_eq!(verify(ORIGIN, &public(&signer), &signature, body), Ok(()));
        for other in [
            "isnad.sante.gov.ma/log",
            "test.isnad.ma/lo",
            "test.isnad.ma/log2",
            "",
        ] {
            assert_eq!(
                verify(other, &public(&signer), &signature, body),
                Err(EnvelopeError::SignatureInvalid),
                "{other:?}"
            );
            let items = [(&public(&signer)[..], &signature[..], &body[..])];
            assert!(verify_batch(other, &items).is_err(), "{other:?}");
        }
        // Moving the first body byte into the origin changes the signed bytes.
        let shifted = sign(&signer, "test.isnad.ma/log\x0a", b"\x05hello");
        assert_ne!(shifted, signature);
    }

    #[test]
    fn body_length_limit() {
        let signer = key(9);
        let longest = vec![0x5a; BODY_LEN_MAX];
        check(
            &public(&signer),
            &sign(&signer, ORIGIN, &longest),
            &longest,
            Ok(()),
        );
        let too_long = vec![0x5a; BODY_LEN_MAX + 1];
        let signature = sign(&signer, ORIGIN, &too_long);
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
        let signature = sign(&signer, ORIGIN, &body);
        let flip = |bytes: &[u8], bit: usize| {
            let mut flipped = bytes.to_vec();
            flipped[bit / 8] ^= 1 << (bit % 8);
            flipped
        };
        for bit in 0..body.len() * 8 {
            assert!(
                verify(ORIGIN, &public_key, &signature, &flip(&body, bit)).is_err(),
                "body bit {bit}"
            );
        }
        for bit in 0..SIGNATURE_LEN * 8 {
            assert!(
                verify(ORIGIN, &public_key, &flip(&signature, bit), &body).is_err(),
                "signature bit {bit}"
            );
        }
        for bit in 0..PUBLIC_KEY_LEN * 8 {
            assert!(
                verify(ORIGIN, &flip(&public_key, bit), &signature, &body).is_err(),
                "key bit {bit}"
            );
        }
    }

    /// The identity point as key and as `R`, with `s = 0`, satisfies the batch equation for
    /// every message; `verify_strict` refuses the small-order key, and so does the batch.
    #[test]
    fn batch_refuses_what_strict_verification_refuses() {
        let mut identity = [0u8; PUBLIC_KEY_LEN];
        identity[0] = 1;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature[..32].copy_from_slice(&identity);
        let body = b"anything";
        let message = signing_bytes(ORIGIN, body);
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
        // A small-order R under a sound key is refused too.
        let mut small_r = sign(&key(1), ORIGIN, body);
        small_r[..32].copy_from_slice(&identity);
        check(
            &public(&key(1)),
            &small_r,
            body,
            Err(EnvelopeError::SignatureInvalid),
        );
    }

    /// Signs `message` with the secret scalar `a` and the nonce `r`, but with `r_point` as `R`
    /// and `public_key` as `A`: how a forger builds signatures with torsion components.
    fn raw_sign(
        a: Scalar,
        public_key: &[u8; 32],
        r: Scalar,
        r_point: EdwardsPoint,
        message: &[u8],
    ) -> [u8; SIGNATURE_LEN] {
        use sha2::{Digest, Sha512};
        let r_bytes = r_point.compress().0;
        let mut hasher = Sha512::new();
        hasher.update(r_bytes);
        hasher.update(public_key);
        hasher.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        let s = r + k * a;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature[..32].copy_from_slice(&r_bytes);
        signature[32..].copy_from_slice(s.as_bytes());
        signature
    }

    /// A point of order 8: the torsion component a forger adds.
    fn torsion_of_order_8() -> EdwardsPoint {
        let point = curve25519_dalek::constants::EIGHT_TORSION[1];
        let times_4 = point + point + point + point;
        assert!(!times_4.is_identity() && point.mul_by_cofactor().is_identity());
        point
    }

    /// `R' = [r]B + T`, with `T` of order 8 and `S = r + k a` over that `R'`: the single
    /// cofactorless equation fails (`[S]B - [k]A = R' - T`), so `verify_strict`, libsodium and
    /// the client refuse it, but the library's batch equation accepts it whenever the batch's
    /// coefficient is a multiple of 8. The coefficient is derived from the signed data, so
    /// trying bodies finds such a signature; the ledger once let these into its log.
    #[test]
    fn mixed_order_r_accepted_by_the_batch_equation_is_refused() {
        let a = Scalar::from_bytes_mod_order([7; 32]);
        let public_key = EdwardsPoint::mul_base(&a).compress().0;
        let key = VerifyingKey::from_bytes(&public_key).expect("a point");
        let r = Scalar::from_bytes_mod_order([9; 32]);
        let r_point = EdwardsPoint::mul_base(&r) + torsion_of_order_8();
        let found = (0..256u32).find_map(|attempt| {
            let body = format!("mixed-order R, attempt {attempt}").into_bytes();
            let signature = raw_sign(a, &public_key, r, r_point, &signing_bytes(ORIGIN, &body));
            let raw = ed25519_dalek::verify_batch(
                &[signing_bytes(ORIGIN, &body).as_slice()],
                &[Signature::from_bytes(&signature)],
                &[key],
            );
            raw.is_ok().then_some((body, signature))
        });
        let (body, signature) = found.expect("one coefficient in 8 is a multiple of 8");
        let signature_parsed = Signature::from_bytes(&signature);
        assert!(
            key.verify_strict(&signing_bytes(ORIGIN, &body), &signature_parsed)
                .is_err()
        );
        let r = CompressedEdwardsY(signature[..32].try_into().expect("32 bytes"));
        let r_decoded = r.decompress().expect("R is a point");
        assert!(
            !r_decoded.is_small_order() && r_decoded.compress() == r,
            "R is neither small-order nor non-canonical: only its torsion gives it away"
        );
        check(
            &public_key,
            &signature,
            &body,
            Err(EnvelopeError::SignatureInvalid),
        );
        // In a batch among honest signatures too.
        let mut owned = signed_items(5);
        owned[3] = (public_key, signature, body);
        assert_eq!(
            verify_batch(ORIGIN, &as_items(&owned)),
            Err(EnvelopeError::BatchItem {
                index: 3,
                error: Box::new(EnvelopeError::SignatureInvalid)
            })
        );
    }

    /// A key `A' = [a]B + T`, with `T` of order 8, signs events that `verify_strict` accepts
    /// whenever `k` is a multiple of 8 (`[k]T` vanishes), which a cofactored verifier or a batch
    /// equation judges otherwise. No honest key looks like this: registration refuses it.
    #[test]
    fn mixed_order_key_is_refused_at_registration() {
        let a = Scalar::from_bytes_mod_order([5; 32]);
        let public_key = (EdwardsPoint::mul_base(&a) + torsion_of_order_8())
            .compress()
            .0;
        let key = VerifyingKey::from_bytes(&public_key).expect("a point");
        let r = Scalar::from_bytes_mod_order([6; 32]);
        let r_point = EdwardsPoint::mul_base(&r);
        let accepted = (0..256u32).any(|attempt| {
            let body = format!("mixed-order key, attempt {attempt}").into_bytes();
            let signature = raw_sign(a, &public_key, r, r_point, &signing_bytes(ORIGIN, &body));
            verify(ORIGIN, &public_key, &signature, &body).is_ok()
        });
        assert!(accepted, "one k in 8 is a multiple of 8");
        assert!(!key.to_edwards().is_small_order());
        assert_eq!(
            check_public_key(&public_key),
            Err(EnvelopeError::PublicKeyWeak)
        );
    }

    #[test]
    fn registered_keys_are_prime_order_points() {
        #[track_caller]
        fn check_key(public_key: [u8; 32], expected: Result<(), EnvelopeError>) {
            assert_eq!(
                check_public_key(&public_key),
                expected,
                "{}",
                hex::encode(public_key)
            );
        }
        for seed in 0..16 {
            check_key(public(&key(seed)), Ok(()));
        }
        for torsion in curve25519_dalek::constants::EIGHT_TORSION {
            check_key(torsion.compress().0, Err(EnvelopeError::PublicKeyWeak));
        }
        let honest = EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order([3; 32]));
        check_key(
            (honest + torsion_of_order_8()).compress().0,
            Err(EnvelopeError::PublicKeyWeak),
        );
        // y = 2 is on no point; y = p + 3 encodes the point with y = 3, non-canonically.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        check_key(not_a_point, Err(EnvelopeError::PublicKeyInvalid));
        let mut p_plus_3 = [0xff; 32];
        p_plus_3[0] = 0xf0;
        p_plus_3[31] = 0x7f;
        check_key(p_plus_3, Err(EnvelopeError::PublicKeyWeak));
    }

    /// y = 3 is on the curve, so y = p + 3 decodes to the same point: only the encoding of `R`
    /// is wrong, and strict verification refuses it.
    #[test]
    fn non_canonical_r_is_refused() {
        let signer = key(4);
        let mut signature = sign(&signer, ORIGIN, b"body");
        let mut p_plus_3 = [0xff; 32];
        p_plus_3[0] = 0xf0;
        p_plus_3[31] = 0x7f;
        signature[..32].copy_from_slice(&p_plus_3);
        check(
            &public(&signer),
            &signature,
            b"body",
            Err(EnvelopeError::SignatureInvalid),
        );
    }

    fn signed_items(count: usize) -> Vec<([u8; PUBLIC_KEY_LEN], [u8; SIGNATURE_LEN], Vec<u8>)> {
        (0..count)
            .map(|index| {
                let signer = key(u8::try_from(index % 256).expect("below 256"));
                let body = format!("event body number {index}").into_bytes();
                (public(&signer), sign(&signer, ORIGIN, &body), body)
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
        let refused = |index| {
            Err(EnvelopeError::BatchItem {
                index,
                error: Box::new(EnvelopeError::SignatureInvalid),
            })
        };
        assert_eq!(verify_batch(ORIGIN, &[]), Ok(()));
        let mut owned = signed_items(64);
        assert_eq!(verify_batch(ORIGIN, &as_items(&owned)), Ok(()));
        owned[37].2.push(b'!');
        assert_eq!(verify_batch(ORIGIN, &as_items(&owned)), refused(37));
        owned[5].1[0] ^= 1;
        assert_eq!(verify_batch(ORIGIN, &as_items(&owned)), refused(5));
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
        assert_eq!(verify_batch(ORIGIN, &items), Err(expected));
        let owned = signed_items(BATCH_LEN_MAX + 1);
        let items = as_items(&owned);
        assert_eq!(verify_batch(ORIGIN, &items[..BATCH_LEN_MAX]), Ok(()));
        assert_eq!(
            verify_batch(ORIGIN, &items),
            Err(EnvelopeError::BatchTooLarge {
                len: BATCH_LEN_MAX + 1
            })
        );
    }
}
