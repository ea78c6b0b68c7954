//! Signed requests: a caller reads as an admitted party by signing each call with a key the
//! registry holds for its party (see `isnad_core::envelope::request` for the signed bytes and
//! the partner guide for the metadata).
//!
//! [`SignedChannel`] signs every call that goes through it, for any of the generated gRPC
//! clients: it reads the request's frame exactly as tonic encoded it (one message, already in
//! memory for a unary call), hashes the message, and adds the four metadata entries. Hashing
//! the bytes sent, rather than encoding the message a second time, leaves no room for the two
//! encodings to differ, and the method path comes from the request itself. A streamed request
//! (`CaptureStream`) signs the empty string's digest and is not read.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use http_body_util::{BodyExt, Full};
use isnad_core::envelope::request::{
    RequestClaim, RequestDigest, request_digest, sign_request, stream_digest,
};
use isnad_core::gs1::Gln;
use isnad_proto::contract::{
    CALLER_KEY_METADATA_KEY, CALLER_PARTY_METADATA_KEY, CALLER_SIGNATURE_METADATA_KEY,
    CALLER_TIME_METADATA_KEY, is_streamed_request,
};
use tonic::body::Body;
use tonic::codegen::http::{HeaderMap, HeaderValue, Request, Response};
use tonic::transport::Channel;

/// The error of a call through a [`SignedChannel`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The gRPC frame header: a compression flag byte and a 4-byte big-endian length.
const FRAME_HEADER_LEN: usize = 5;

/// Who signs requests, on which log.
#[derive(Clone)]
pub struct Credentials {
    party: Gln,
    key: SigningKey,
    origin: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private key.
        f.debug_struct("Credentials")
            .field("party", &self.party)
            .field(
                "public_key",
                &hex::encode(self.key.verifying_key().as_bytes()),
            )
            .field("origin", &self.origin)
            .finish()
    }
}

impl Credentials {
    /// `party` signing with `key` (registered to it) for the log named `origin`.
    pub fn new(party: Gln, key: SigningKey, origin: impl Into<String>) -> Credentials {
        Credentials {
            party,
            key,
            origin: origin.into(),
        }
    }

    /// The party requests are signed as.
    pub fn party(&self) -> &Gln {
        &self.party
    }

    /// Adds the caller metadata of a call to `method` whose message hashes to `digest`,
    /// signed at `time_unix_ms`.
    pub fn sign_headers(
        &self,
        headers: &mut HeaderMap,
        method: &str,
        digest: &RequestDigest,
        time_unix_ms: i64,
    ) {
        let party = self.party.to_string();
        let time = time_unix_ms.to_string();
        let claim = RequestClaim {
            method,
            party: &party,
            time: &time,
            digest,
        };
        let signature = sign_request(&self.key, &self.origin, &claim);
        let ascii = |text: String| HeaderValue::try_from(text).expect("digits and hex are ASCII");
        headers.insert(CALLER_PARTY_METADATA_KEY, ascii(party.clone()));
        headers.insert(
            CALLER_KEY_METADATA_KEY,
            ascii(hex::encode(self.key.verifying_key().as_bytes())),
        );
        headers.insert(CALLER_TIME_METADATA_KEY, ascii(time));
        headers.insert(CALLER_SIGNATURE_METADATA_KEY, ascii(hex::encode(signature)));
    }
}

/// A channel that signs every call with its credentials, or sends it anonymously without.
#[derive(Debug, Clone)]
pub struct SignedChannel {
    channel: Channel,
    credentials: Option<Arc<Credentials>>,
}

impl SignedChannel {
    /// Calls over `channel`, signed with `credentials` when given.
    pub fn new(channel: Channel, credentials: Option<Credentials>) -> SignedChannel {
        SignedChannel {
            channel,
            credentials: credentials.map(Arc::new),
        }
    }

    /// The channel underneath.
    pub fn into_channel(self) -> Channel {
        self.channel
    }

    /// The credentials calls are signed with, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_deref()
    }
}

impl tower::Service<Request<Body>> for SignedChannel {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower::Service::poll_ready(&mut self.channel, cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The channel made ready by `poll_ready` (it holds a place in the channel's buffer)
        // takes this call; a clone stays for the next.
        let ready = self.channel.clone();
        let mut channel = std::mem::replace(&mut self.channel, ready);
        let credentials = self.credentials.clone();
        Box::pin(async move {
            let request = match credentials {
                Some(credentials) => sign(request, &credentials).await?,
                None => request,
            };
            Ok(tower::Service::call(&mut channel, request).await?)
        })
    }
}

/// Signs `request` with `credentials` at the system clock's time.
async fn sign(
    request: Request<Body>,
    credentials: &Credentials,
) -> Result<Request<Body>, BoxError> {
    let method = request.uri().path().to_owned();
    let (mut parts, body, digest) = if is_streamed_request(&method) {
        let (parts, body) = request.into_parts();
        (parts, body, stream_digest())
    } else {
        let (parts, body) = request.into_parts();
        let bytes = body.collect().await?.to_bytes();
        let message = bytes
            .get(FRAME_HEADER_LEN..)
            .ok_or("a unary request body is one gRPC frame")?;
        let digest = request_digest(message);
        (parts, Body::new(Full::new(bytes)), digest)
    };
    credentials.sign_headers(&mut parts.headers, &method, &digest, now_unix_ms());
    Ok(Request::from_parts(parts, body))
}

/// The system clock in milliseconds since the Unix epoch.
fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
