//! The request layer: who is calling, and whether it may call now.
//!
//! Every request passes here before tonic decodes it. Without caller metadata it is anonymous
//! and charged to its peer address's rate bucket. With the four entries of a signed request
//! (`isnad-caller-party`, `-key`, `-time`, `-signature`; see `isnad_core::envelope::request`
//! for the signed bytes) the layer checks, cheapest first: all four present and well formed,
//! the time within [`CALLER_TIME_WINDOW`] of the server's clock, the key registered to that
//! party and not revoked, the party admitted and not suspended, then the signature over the
//! method, the party, the time and the SHA-256 of the request message exactly as framed. For
//! that it collects the request body, at most one frame of [`REQUEST_BYTES_MAX`] bytes (the
//! limit is enforced while collecting, nothing more is buffered), and hands tonic the same
//! bytes. A streamed request (`CaptureStream`) signs the empty string's digest, and its body
//! is left alone.
//!
//! A request that fails any check is refused (`UNAUTHENTICATED` with its reason), whatever
//! the method, and charged to its peer address's bucket of failed attempts: forged requests
//! cost the forger, never the party they name. A signed request from an address with no such
//! token left is refused before its signature is checked. An authenticated request is charged
//! to its party, an anonymous one to its address. The [`Caller`] then goes into
//! the request's extensions for the handlers and the [`crate::policy`].

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use isnad_core::envelope::request::{
    RequestClaim, RequestDigest, request_digest, stream_digest, verify_request,
};
use isnad_core::event::PublicKey;
use isnad_core::gs1::Gln;
use isnad_core::queries;
use isnad_proto::contract::{
    CALLER_KEY_METADATA_KEY, CALLER_PARTY_METADATA_KEY, CALLER_SIGNATURE_METADATA_KEY,
    CALLER_TIME_METADATA_KEY, CALLER_TIME_WINDOW, REQUEST_BYTES_MAX, RETRY_AFTER_METADATA_KEY,
    Reason, is_streamed_request,
};
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::http::{HeaderMap, Request, Response};
use tonic::transport::server::TcpConnectInfo;

use crate::error::LedgerError;
use crate::ledger::Ledger;
use crate::policy::Caller;
use crate::rate::{CallerKey, RateLimiter, RateLimits};

/// The gRPC frame header: a compression flag byte and a 4-byte big-endian length.
const FRAME_HEADER_LEN: usize = 5;

/// The tower layer that puts [`Auth`] in front of every service.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    shared: Arc<Shared>,
}

impl AuthLayer {
    /// Authenticates callers against `ledger`'s registry and limits them to `limits`.
    pub fn new(ledger: Ledger, limits: RateLimits) -> AuthLayer {
        AuthLayer {
            shared: Arc::new(Shared {
                ledger,
                limiter: RateLimiter::new(limits),
            }),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The request layer's service (see the module documentation).
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    ledger: Ledger,
    limiter: RateLimiter,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S> tower::Service<Request<Body>> for Auth<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The service made ready by `poll_ready` handles this request; its clone stays for the
        // next one (tower's usual pattern for services called from a future).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            match shared.admit(request).await {
                Ok(request) => inner.call(request).await,
                Err(status) => {
                    // An operating event, not an error of the server: visible when debugging.
                    tracing::debug!(code = ?status.code(), message = status.message(), "request refused before any handler");
                    Ok(status.into_http())
                }
            }
        })
    }
}

/// The four caller entries, parsed.
#[derive(Debug)]
struct Credentials {
    party: Gln,
    party_text: String,
    key: [u8; 32],
    time_text: String,
    time_unix_ms: i64,
    signature: [u8; 64],
}

impl Shared {
    /// Authenticates and rate-limits one request; the request to serve (its body rebuilt when
    /// it was read), or the refusal.
    async fn admit(&self, mut request: Request<Body>) -> Result<Request<Body>, Status> {
        let peer = peer_address(&request);
        let (address, failures) = (CallerKey::address(peer), CallerKey::failed_attempts(peer));
        let credentials = match credentials(request.headers()) {
            Ok(Some(credentials)) => credentials,
            Ok(None) => {
                self.charge(address)?;
                request.extensions_mut().insert(Caller::Anonymous);
                return Ok(request);
            }
            Err(refusal) => {
                self.charge(failures)?;
                return Err(refusal.into());
            }
        };
        // An address that failed too often gets no signature checked.
        self.limiter
            .has_token(failures, Instant::now())
            .map_err(rate_limited)?;
        match self.authenticate(request, &credentials).await {
            Ok((mut request, caller)) => {
                self.charge(CallerKey::Party(credentials.party))?;
                request.extensions_mut().insert(caller);
                Ok(request)
            }
            Err(refusal) => {
                // Failed attempts cost the address that made them.
                self.charge(failures)?;
                Err(refusal)
            }
        }
    }

    /// Takes a token from `key`'s bucket, or refuses with `RATE_LIMITED`.
    fn charge(&self, key: CallerKey) -> Result<(), Status> {
        self.limiter.take(key, Instant::now()).map_err(rate_limited)
    }

    /// Checks a signed request (module documentation, in that order).
    async fn authenticate(
        &self,
        request: Request<Body>,
        credentials: &Credentials,
    ) -> Result<(Request<Body>, Caller), Status> {
        check_time(credentials.time_unix_ms, system_now_unix_ms())?;
        let caller = self.registered(credentials)?;
        let method = request.uri().path().to_owned();
        let (request, digest) = if is_streamed_request(&method) {
            (request, stream_digest())
        } else {
            read_message(request).await?
        };
        let claim = RequestClaim {
            method: &method,
            party: &credentials.party_text,
            time: &credentials.time_text,
            digest: &digest,
        };
        let origin = &self.ledger.genesis().origin;
        verify_request(origin, &credentials.key, &credentials.signature, &claim).map_err(|_| {
            unauthenticated(
                Reason::CallerSignatureInvalid,
                format!(
                    "the request signature does not verify for this key, method ({method}), \
                         party, time and message on log {origin}"
                ),
            )
        })?;
        Ok((request, caller))
    }

    /// The caller the registry knows: the key registered to the party, not revoked, and the
    /// party not suspended.
    fn registered(&self, credentials: &Credentials) -> Result<Caller, Status> {
        let store = self.ledger.store();
        let unknown = |message: String| unauthenticated(Reason::CallerUnknown, message);
        let key = queries::key(store.as_ref(), &PublicKey(credentials.key))
            .map_err(|e| Status::from(LedgerError::from(e)))?
            .filter(|record| record.party == credentials.party)
            .ok_or_else(|| {
                unknown(format!(
                    "the key is not registered to party {}",
                    credentials.party
                ))
            })?;
        if key.revoked_at_index.is_some() {
            return Err(unknown("the key is revoked".to_owned()));
        }
        let participant = queries::participant(store.as_ref(), &credentials.party)
            .map_err(|e| Status::from(LedgerError::from(e)))?
            .ok_or_else(|| unknown(format!("party {} is not admitted", credentials.party)))?;
        if participant.suspended {
            return Err(unknown(format!("party {} is suspended", credentials.party)));
        }
        Ok(Caller::Party {
            party: participant.party,
            roles: participant.roles,
        })
    }
}

/// The caller entries of `headers`: none, all four well formed, or a refusal.
fn credentials(headers: &HeaderMap) -> Result<Option<Credentials>, LedgerError> {
    let keys = [
        CALLER_PARTY_METADATA_KEY,
        CALLER_KEY_METADATA_KEY,
        CALLER_TIME_METADATA_KEY,
        CALLER_SIGNATURE_METADATA_KEY,
    ];
    let present = keys
        .iter()
        .filter(|key| headers.contains_key(**key))
        .count();
    if present == 0 {
        return Ok(None);
    }
    if present < keys.len() {
        return Err(malformed(format!(
            "a signed request carries all of {} or none",
            keys.join(", ")
        )));
    }
    let value = |key: &'static str| -> Result<&str, LedgerError> {
        let mut values = headers.get_all(key).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(malformed(format!("{key}: given more than once")));
        };
        value
            .to_str()
            .map_err(|_| malformed(format!("{key}: not ASCII")))
    };
    let party_text = value(CALLER_PARTY_METADATA_KEY)?;
    let party: Gln = party_text.parse().map_err(|error| {
        malformed(format!(
            "{CALLER_PARTY_METADATA_KEY}: not a GLN-13 ({error})"
        ))
    })?;
    let time_text = value(CALLER_TIME_METADATA_KEY)?;
    let time_unix_ms = decimal(time_text).ok_or_else(|| {
        malformed(format!(
            "{CALLER_TIME_METADATA_KEY}: not decimal milliseconds"
        ))
    })?;
    Ok(Some(Credentials {
        party,
        party_text: party_text.to_owned(),
        key: lower_hex(CALLER_KEY_METADATA_KEY, value(CALLER_KEY_METADATA_KEY)?)?,
        time_text: time_text.to_owned(),
        time_unix_ms,
        signature: lower_hex(
            CALLER_SIGNATURE_METADATA_KEY,
            value(CALLER_SIGNATURE_METADATA_KEY)?,
        )?,
    }))
}

/// Decimal digits without a sign, at most what an `i64` holds.
fn decimal(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Exactly `N` bytes as `2 N` lowercase hex digits.
fn lower_hex<const N: usize>(key: &str, text: &str) -> Result<[u8; N], LedgerError> {
    let lowercase = text
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let bytes = (lowercase && text.len() == 2 * N)
        .then(|| hex::decode(text).ok())
        .flatten()
        .ok_or_else(|| malformed(format!("{key}: expected {} lowercase hex digits", 2 * N)))?;
    Ok(bytes.try_into().expect("2 N hex digits are N bytes"))
}

/// Refuses a time further than [`CALLER_TIME_WINDOW`] from `now_unix_ms`.
fn check_time(time_unix_ms: i64, now_unix_ms: i64) -> Result<(), Status> {
    let window = CALLER_TIME_WINDOW.as_millis() as i64;
    let skew = now_unix_ms.saturating_sub(time_unix_ms);
    if skew.unsigned_abs() > window.unsigned_abs() {
        return Err(unauthenticated(
            Reason::CallerTimeSkew,
            format!(
                "the request was signed at {time_unix_ms} ms, {skew} ms from the server's clock; \
                 at most {window} ms either way"
            ),
        ));
    }
    Ok(())
}

/// Collects a unary request's one message, at most [`REQUEST_BYTES_MAX`] bytes; the request
/// with the same bytes as its body, and the message's digest.
async fn read_message(request: Request<Body>) -> Result<(Request<Body>, RequestDigest), Status> {
    let (parts, body) = request.into_parts();
    let collected = Limited::new(body, FRAME_HEADER_LEN + REQUEST_BYTES_MAX)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<LengthLimitError>() {
                Status::from(LedgerError::ResourceExhausted {
                    reason: Reason::MessageTooLarge,
                    message: format!("request message over {REQUEST_BYTES_MAX} bytes"),
                    event: None,
                })
            } else {
                Status::cancelled(format!("the request body was not received: {error}"))
            }
        })?;
    let bytes = collected.to_bytes();
    let digest = request_digest(one_frame(&bytes)?);
    Ok((
        Request::from_parts(parts, Body::new(Full::new(bytes))),
        digest,
    ))
}

/// The message of a body that is exactly one uncompressed gRPC frame.
fn one_frame(bytes: &Bytes) -> Result<&[u8], Status> {
    let malformed_request = |message: &str| {
        Status::from(LedgerError::InvalidArgument {
            reason: Reason::MalformedRequest,
            message: message.to_owned(),
            event: None,
        })
    };
    let Some((header, message)) = bytes.split_first_chunk::<FRAME_HEADER_LEN>() else {
        return Err(malformed_request("the request body is not one gRPC frame"));
    };
    if header[0] != 0 {
        return Err(malformed_request(
            "compressed request messages are not accepted",
        ));
    }
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    if usize::try_from(len).ok() != Some(message.len()) {
        return Err(malformed_request(
            "the request body is not exactly one gRPC frame",
        ));
    }
    Ok(message)
}

/// The peer's address, as tonic recorded it; the unspecified address when it did not (then
/// every such request shares one bucket).
fn peer_address<B>(request: &Request<B>) -> IpAddr {
    request
        .extensions()
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |address| address.ip())
}

/// The server's clock for request times: the system clock, never the test clock that shifts
/// recorded time, so that a server tested at another date still takes today's requests.
fn system_now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

fn malformed(message: String) -> LedgerError {
    LedgerError::Unauthenticated {
        reason: Reason::CallerMalformed,
        message,
    }
}

fn unauthenticated(reason: Reason, message: String) -> Status {
    LedgerError::Unauthenticated { reason, message }.into()
}

/// `RESOURCE_EXHAUSTED` / `RATE_LIMITED`, with the milliseconds to wait in
/// [`RETRY_AFTER_METADATA_KEY`].
fn rate_limited(wait: Duration) -> Status {
    let wait_ms = wait.as_millis().max(1);
    let mut status = Status::from(LedgerError::ResourceExhausted {
        reason: Reason::RateLimited,
        message: format!("too many requests from this caller; retry after {wait_ms} ms"),
        event: None,
    });
    status.metadata_mut().insert(
        RETRY_AFTER_METADATA_KEY,
        wait_ms.to_string().parse().expect("digits are ASCII"),
    );
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_one_uncompressed_frame() {
        let frame = |flag: u8, len: u32, message: &[u8]| {
            let mut bytes = vec![flag];
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(message);
            Bytes::from(bytes)
        };
        let good = frame(0, 3, b"abc");
        assert_eq!(one_frame(&good).expect("one frame"), b"abc");
        let empty = frame(0, 0, b"");
        assert_eq!(one_frame(&empty).expect("one frame"), b"");
        for bad in [
            frame(1, 3, b"abc"),
            frame(0, 4, b"abc"),
            frame(0, 2, b"abc"),
            Bytes::from_static(b"\x00\x00"),
        ] {
            let status = one_frame(&bad).expect_err("refused");
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn times_and_hex_are_strict() {
        assert_eq!(decimal("1700000000000"), Some(1_700_000_000_000));
        for bad in ["", "+1", "-1", "1e3", " 1", "99999999999999999999"] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
        assert!(lower_hex::<2>("k", "0aff").is_ok());
        assert!(lower_hex::<2>("k", "0AFF").is_err());
        assert!(lower_hex::<2>("k", "0af").is_err());
        assert!(lower_hex::<2>("k", "0aff00").is_err());
        let window = CALLER_TIME_WINDOW.as_millis() as i64;
        assert!(check_time(1_000_000, 1_000_000 + window).is_ok());
        assert!(check_time(1_000_000 + window, 1_000_000).is_ok());
        assert!(check_time(1_000_000, 1_000_001 + window).is_err());
        assert!(check_time(1_000_001 + window, 1_000_000).is_err());
        assert!(check_time(i64::MAX, 0).is_err());
    }
}
