//! The wire contract where tonic decides before any handler runs.
//!
//! tonic's codec refuses a request message that does not decode (or a call without the message
//! its method takes) with `INTERNAL`, and one over the size limit with `OUT_OF_RANGE`, both
//! without a reason code. The contract says
//! `INVALID_ARGUMENT` ([`Reason::MalformedRequest`]) and `RESOURCE_EXHAUSTED`
//! ([`Reason::MessageTooLarge`]): [`contract_status`] rewrites these answers on their way out,
//! and [`stream_refusal`] the same refusals met inside a request stream.
//! A refusal of this server's own always carries a reason code, so it is never rewritten.

use isnad_proto::contract::{REASON_METADATA_KEY, Reason};
use tonic::Code;
use tonic::codegen::http;

/// What tonic says of a call that ended its request stream before sending the message a unary
/// or server-streaming method takes (it answers INTERNAL, as if the server had failed).
const MISSING_MESSAGE: &str = "Missing request message";

/// Rewrites a codec refusal (a trailers-only answer, its status in the headers) to the
/// contract's status and reason; every other answer passes unchanged.
pub fn contract_status<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers_mut();
    let Some(status) = tonic::Status::from_header_map(headers) else {
        return response;
    };
    if headers.contains_key(REASON_METADATA_KEY) {
        return response;
    }
    let Some(rewritten) = contract_refusal(&status) else {
        return response;
    };
    if let Err(error) = rewritten.add_header(headers) {
        tracing::warn!(%error, "cannot rewrite a codec refusal");
    }
    response
}

/// A message of a request stream that the codec refused (it does not decode, or it is over the
/// size limit), as the contract answers it: the streaming handler gets such a refusal as an
/// item of its request stream, after the answer's headers went out, where
/// [`contract_status`] cannot see it.
pub fn stream_refusal(status: tonic::Status) -> tonic::Status {
    if status.metadata().contains_key(REASON_METADATA_KEY) {
        return status;
    }
    contract_refusal(&status).unwrap_or(status)
}

/// The contract's refusal for a codec's refusal, `None` for any other status.
fn contract_refusal(status: &tonic::Status) -> Option<tonic::Status> {
    let (code, reason) = match status.code() {
        Code::Internal
            if status.message().contains("decod") || status.message().contains(MISSING_MESSAGE) =>
        {
            (Code::InvalidArgument, Reason::MalformedRequest)
        }
        Code::OutOfRange => (Code::ResourceExhausted, Reason::MessageTooLarge),
        _ => return None,
    };
    let mut rewritten = tonic::Status::new(code, status.message());
    rewritten.metadata_mut().insert(
        REASON_METADATA_KEY,
        reason.as_str().parse().expect("reason codes are ASCII"),
    );
    Some(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(from: tonic::Status, code: Code, reason: Option<Reason>) {
        let response = contract_status(from.into_http::<()>());
        let status = tonic::Status::from_header_map(response.headers()).expect("a status");
        assert_eq!(status.code(), code, "{status:?}");
        let got = response
            .headers()
            .get(REASON_METADATA_KEY)
            .and_then(|v| v.to_str().ok());
        assert_eq!(got, reason.map(|r| r.as_str()), "{status:?}");
    }

    #[test]
    fn codec_refusals_follow_the_contract() {
        check(
            tonic::Status::internal("failed to decode Protobuf message: invalid wire type"),
            Code::InvalidArgument,
            Some(Reason::MalformedRequest),
        );
        check(
            tonic::Status::internal("Missing request message."),
            Code::InvalidArgument,
            Some(Reason::MalformedRequest),
        );
        check(
            tonic::Status::out_of_range("Error, decoded message length too large"),
            Code::ResourceExhausted,
            Some(Reason::MessageTooLarge),
        );
        // The server's own refusals carry their reason and pass unchanged.
        let storage = tonic::Status::from(crate::error::LedgerError::Storage("disk".into()));
        check(storage, Code::Internal, Some(Reason::Storage));
    }

    #[test]
    fn stream_refusals_follow_the_contract() {
        let refusal = stream_refusal(tonic::Status::out_of_range(
            "decoded message length too large",
        ));
        assert_eq!(refusal.code(), Code::ResourceExhausted);
        assert_eq!(
            refusal
                .metadata()
                .get(REASON_METADATA_KEY)
                .and_then(|v| v.to_str().ok()),
            Some(Reason::MessageTooLarge.as_str())
        );
        let cancelled = stream_refusal(tonic::Status::cancelled("the client went away"));
        assert_eq!(cancelled.code(), Code::Cancelled);
        assert!(cancelled.metadata().get(REASON_METADATA_KEY).is_none());
    }
}
