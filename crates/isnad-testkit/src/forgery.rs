//! Signatures a forger builds, for the tests that show they are refused: a small-order key, a
//! non-canonical `S`, and an `R` with a torsion component that the batch equation can accept
//! where a strict single verification refuses it.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::SigningKey;
use isnad_core::envelope;
use sha2::{Digest, Sha512};

/// The Ed25519 group order `L`, little-endian: an `S` of `S + L` is the same scalar, written
/// non-canonically.
const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The identity point's encoding: a public key (or `R`) of small order.
pub const IDENTITY_POINT: [u8; 32] = {
    let mut point = [0; 32];
    point[0] = 1;
    point
};

/// The signature that the identity point as key satisfies for every message under the
/// cofactored or batch equation: `R` the identity and `S = 0`.
pub fn identity_signature() -> [u8; 64] {
    let mut signature = [0; 64];
    signature[..32].copy_from_slice(&IDENTITY_POINT);
    signature
}

/// `signature` with `S` replaced by `S + L`: the same scalar, a second encoding that strict
/// verification refuses (signatures would not be unique otherwise).
pub fn non_canonical_s(signature: &[u8; 64]) -> [u8; 64] {
    let mut out = *signature;
    let mut carry = 0u16;
    for (byte, order) in out[32..].iter_mut().zip(GROUP_ORDER) {
        let sum = u16::from(*byte) + u16::from(order) + carry;
        *byte = sum as u8; // The low byte; the rest carries.
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S < L, so S + L fits 256 bits");
    out
}

/// Signs `body` for the log `origin` with `key`'s secret scalar, but with `R' = [r]B + T`,
/// `T` of order 8: the single (cofactorless) equation fails, since `[S]B - [k]A = R' - T`.
/// ed25519-dalek's batch equation accepts it whenever the batch coefficient is a multiple of 8.
pub fn sign_with_mixed_order_r(key: &SigningKey, origin: &str, body: &[u8]) -> [u8; 64] {
    let r = Scalar::from_bytes_mod_order([9; 32]);
    let r_point = EdwardsPoint::mul_base(&r) + curve25519_dalek::constants::EIGHT_TORSION[1];
    let r_bytes = r_point.compress().0;
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(key.verifying_key().as_bytes());
    hasher.update(envelope::signing_bytes(origin, body));
    let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
    let s = r + k * key.to_scalar();
    let mut signature = [0; 64];
    signature[..32].copy_from_slice(&r_bytes);
    signature[32..].copy_from_slice(s.as_bytes());
    signature
}

/// A body from `next_body` signed with a mixed-order `R` ([`sign_with_mixed_order_r`]) that
/// ed25519-dalek's batch equation accepts: its coefficient depends on the signed data, so
/// trying bodies (with fresh event ids, say) finds one that is a multiple of 8 (one in 8 is).
pub fn mixed_order_r_the_batch_accepts(
    key: &SigningKey,
    origin: &str,
    mut next_body: impl FnMut() -> Vec<u8>,
) -> (Vec<u8>, [u8; 64]) {
    for _ in 0..256 {
        let body = next_body();
        let signature = sign_with_mixed_order_r(key, origin, &body);
        let batch = ed25519_dalek::verify_batch(
            &[envelope::signing_bytes(origin, &body).as_slice()],
            &[ed25519_dalek::Signature::from_bytes(&signature)],
            &[key.verifying_key()],
        );
        if batch.is_ok() {
            return (body, signature);
        }
    }
    panic!("no body in 256 gave a batch coefficient that is a multiple of 8");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_forgery_is_refused_by_strict_verification() {
        const ORIGIN: &str = "isnad.test/log";
        let key = crate::signing_key(2);
        let public_key = key.verifying_key().to_bytes();
        let body = b"a body";
        let honest = envelope::sign(&key, ORIGIN, body);
        assert_eq!(envelope::verify(ORIGIN, &public_key, &honest, body), Ok(()));
        let refused = Err(envelope::EnvelopeError::SignatureInvalid);
        let forged = non_canonical_s(&honest);
        assert_ne!(forged, honest);
        assert_eq!(
            envelope::verify(ORIGIN, &public_key, &forged, body),
            refused
        );
        let forged = sign_with_mixed_order_r(&key, ORIGIN, body);
        assert_eq!(
            envelope::verify(ORIGIN, &public_key, &forged, body),
            refused
        );
        let weak = envelope::verify(ORIGIN, &IDENTITY_POINT, &identity_signature(), body);
        assert!(weak.is_err(), "{weak:?}");
    }
}
