//! Signed requests: how a caller proves, call by call, that it is an admitted party.
//!
//! A caller signs, with one of the Ed25519 keys the registry holds for its party, the bytes
//!
//! ```text
//! "isnad/v1/request" || 0x00 || origin || 0x00 || method || 0x00 || party || 0x00
//!     || time || 0x00 || SHA-256(message)
//! ```
//!
//! where `origin` is the log's origin, `method` the gRPC path (`/isnad.v1.Log/GetEntries`),
//! `party` the caller's GLN-13 as sent, `time` the caller's clock in milliseconds since the Unix
//! epoch as the decimal digits sent, and `message` the request message's protobuf bytes
//! exactly as carried in the gRPC frame (no re-encoding: a partner in any language hashes what
//! it sends). A call whose request is a stream (`Capture.CaptureStream`) hashes the empty
//! string: its events carry their own signatures.
//!
//! The context differs from an event's (`isnad/v1/event`), so no request signature is ever
//! valid as an event signature or the other way round. The origin binds a request to one log,
//! the method and the digest bind it to one call and one message, and the time bounds how long
//! it can be replayed. No field holds a 0x00 byte (an origin never does, a method path and the
//! digits of a party and a time cannot), so no field can be shifted into the next.
//!
//! Validity is [`super::verify`]'s: `verify_strict`, the one definition of a valid signature.

use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

use super::{EnvelopeError, SIGNATURE_LEN};

/// The domain-separation prefix of every request signature.
pub const REQUEST_SIGNING_CONTEXT: &[u8] = b"isnad/v1/request\x00";

/// A SHA-256 digest of a request message.
pub type RequestDigest = [u8; 32];

/// What a request signature covers besides the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestClaim<'a> {
    /// The gRPC method path, such as `/isnad.v1.Log/GetEntries`.
    pub method: &'a str,
    /// The caller's party GLN-13, as sent.
    pub party: &'a str,
    /// The caller's clock, milliseconds since the Unix epoch, as the decimal digits sent.
    pub time: &'a str,
    /// SHA-256 of the request message's bytes ([`request_digest`]).
    pub digest: &'a RequestDigest,
}

/// SHA-256 of a request message's protobuf bytes, exactly as carried in the gRPC frame; for a
/// streamed request, of the empty string ([`stream_digest`]).
pub fn request_digest(message: &[u8]) -> RequestDigest {
    Sha256::digest(message).into()
}

/// The digest a streamed request signs: SHA-256 of the empty string.
pub fn stream_digest() -> RequestDigest {
    request_digest(b"")
}

/// The bytes a request signature covers on the log named `origin`.
pub fn request_signing_bytes(origin: &str, claim: &RequestClaim<'_>) -> Vec<u8> {
    let fields = [
        origin.as_bytes(),
        claim.method.as_bytes(),
        claim.party.as_bytes(),
        claim.time.as_bytes(),
    ];
    let len = REQUEST_SIGNING_CONTEXT.len()
        + fields.iter().map(|f| f.len() + 1).sum::<usize>()
        + claim.digest.len();
    let mut bytes = Vec::with_capacity(len);
    bytes.extend_from_slice(REQUEST_SIGNING_CONTEXT);
    for field in fields {
        bytes.extend_from_slice(field);
        bytes.push(0);
    }
    bytes.extend_from_slice(claim.digest);
    bytes
}

/// Signs a request for the log named `origin`.
pub fn sign_request(
    key: &SigningKey,
    origin: &str,
    claim: &RequestClaim<'_>,
) -> [u8; SIGNATURE_LEN] {
    key.sign(&request_signing_bytes(origin, claim)).to_bytes()
}

/// Verifies a request signature for the log named `origin`, strictly, as event signatures
/// are verified. Whether the key belongs to the party is the registry's question, not this.
pub fn verify_request(
    origin: &str,
    public_key: &[u8],
    signature: &[u8],
    claim: &RequestClaim<'_>,
) -> Result<(), EnvelopeError> {
    let (key, signature) = super::parse(public_key, signature, b"")?;
    key.verify_strict(&request_signing_bytes(origin, claim), &signature)
        .map_err(|_| EnvelopeError::SignatureInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "test.isnad.ma/log";

    fn claim<'a>(method: &'a str, time: &'a str, digest: &'a RequestDigest) -> RequestClaim<'a> {
        RequestClaim {
            method,
            party: "6110000000000",
            time,
            digest,
        }
    }

    #[test]
    fn a_signature_covers_origin_method_party_time_and_message() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let public = key.verifying_key().to_bytes();
        let digest = request_digest(b"\x08\x01");
        let signed = claim("/isnad.v1.Log/GetEntries", "1700000000000", &digest);
        let signature = sign_request(&key, ORIGIN, &signed);
        assert_eq!(verify_request(ORIGIN, &public, &signature, &signed), Ok(()));
        let other_digest = request_digest(b"\x08\x02");
        let changed = [
            claim("/isnad.v1.Log/Follow", "1700000000000", &digest),
            claim("/isnad.v1.Log/GetEntries", "1700000000001", &digest),
            claim("/isnad.v1.Log/GetEntries", "1700000000000", &other_digest),
            RequestClaim {
                party: "6110000000011",
                ..signed
            },
        ];
        for claim in &changed {
            assert_eq!(
                verify_request(ORIGIN, &public, &signature, claim),
                Err(EnvelopeError::SignatureInvalid),
                "{claim:?}"
            );
        }
        assert_eq!(
            verify_request("other.isnad.ma/log", &public, &signature, &signed),
            Err(EnvelopeError::SignatureInvalid)
        );
        // An event signature over the same bytes is never a request signature.
        let as_event = super::super::sign(&key, ORIGIN, &request_signing_bytes(ORIGIN, &signed));
        assert_eq!(
            verify_request(ORIGIN, &public, &as_event, &signed),
            Err(EnvelopeError::SignatureInvalid)
        );
    }

    #[test]
    fn the_signed_bytes_are_the_documented_ones() {
        let digest = stream_digest();
        let bytes = request_signing_bytes(
            ORIGIN,
            &claim("/isnad.v1.Capture/CaptureStream", "17", &digest),
        );
        let mut expected = b"isnad/v1/request\x00test.isnad.ma/log\x00/isnad.v1.Capture/CaptureStream\x006110000000000\x0017\x00".to_vec();
        expected.extend_from_slice(
            &hex::decode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .expect("hex"),
        );
        assert_eq!(bytes, expected);
    }
}
