//! The ledger's errors and their one mapping to gRPC statuses (the design's error contract).
//!
//! Every refusal carries a machine-readable reason code in the `isnad-reason` metadata entry
//! and, for a batch, the refused event's position in `isnad-event-index`.

use isnad_core::rules::Rejection;
use isnad_proto::contract::{EVENT_INDEX_METADATA_KEY, REASON_METADATA_KEY, Reason, class_status};
use tonic::{Code, Status};

/// Why the ledger refused or failed a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    /// Malformed input; the message names the field.
    #[error("{message}")]
    InvalidArgument {
        /// The reason code, such as [`Reason::MalformedBody`].
        reason: Reason,
        /// What is wrong, naming the field.
        message: String,
        /// The event's position in its request, when one event is at fault.
        event: Option<usize>,
    },
    /// A signature does not verify.
    #[error("{message}")]
    BadSignature {
        /// What is wrong.
        message: String,
        /// The event's position in its request.
        event: usize,
    },
    /// The rules refused an event.
    #[error("{}", rejection.message)]
    Rejected {
        /// The executor's decision.
        rejection: Rejection,
        /// The event's position in its request.
        event: usize,
    },
    /// An event id was used before with other bytes.
    #[error("event id {event_id} was already used by another event")]
    EventIdReused {
        /// The event id, hex.
        event_id: String,
        /// The event's position in its request.
        event: usize,
    },
    /// Something asked for does not exist.
    #[error("{message}")]
    NotFound {
        /// The reason code.
        reason: Reason,
        /// What was not found.
        message: String,
    },
    /// A request is over one of the limits.
    #[error("{message}")]
    ResourceExhausted {
        /// The reason code, such as [`Reason::TooManyEvents`].
        reason: Reason,
        /// Which limit, and by how much.
        message: String,
        /// The event's position in its request, when one event is at fault.
        event: Option<usize>,
    },
    /// The caller did not prove who it is, or must (a signed request).
    #[error("{message}")]
    Unauthenticated {
        /// The reason code, such as [`Reason::CallerSignatureInvalid`].
        reason: Reason,
        /// What is wrong.
        message: String,
    },
    /// The read policy does not let the caller read this.
    #[error("{message}")]
    PermissionDenied {
        /// The reason code: [`Reason::NotPermitted`].
        reason: Reason,
        /// What was refused, and who may read it.
        message: String,
    },
    /// The ledger is shutting down or its sequencer is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed: an operating error of this server, not of the request.
    #[error("storage: {0}")]
    Storage(String),
    /// A stored entry the answer needs is damaged (it no longer hashes to its leaf): it is
    /// refused rather than served, so no client is given a verdict built on it.
    #[error("storage: {0}; this server will not serve it, ask another replica")]
    DataLoss(String),
    /// Applying the request failed inside this server (a bug, logged); nothing of the request
    /// was applied and the server goes on.
    #[error("{0}")]
    Internal(String),
}

impl From<LedgerError> for Status {
    fn from(error: LedgerError) -> Status {
        let message = error.to_string();
        let (code, reason, event) = match error {
            LedgerError::InvalidArgument { reason, event, .. } => {
                (Code::InvalidArgument, reason, event)
            }
            LedgerError::BadSignature { event, .. } => {
                (Code::Unauthenticated, Reason::BadSignature, Some(event))
            }
            LedgerError::Rejected { rejection, event } => (
                class_status(rejection.code.class()),
                Reason::from(rejection.code),
                Some(event),
            ),
            LedgerError::EventIdReused { event, .. } => {
                (Code::AlreadyExists, Reason::EventIdReused, Some(event))
            }
            LedgerError::NotFound { reason, .. } => (Code::NotFound, reason, None),
            LedgerError::ResourceExhausted { reason, event, .. } => {
                (Code::ResourceExhausted, reason, event)
            }
            LedgerError::Unauthenticated { reason, .. } => (Code::Unauthenticated, reason, None),
            LedgerError::PermissionDenied { reason, .. } => (Code::PermissionDenied, reason, None),
            LedgerError::Unavailable(_) => (Code::Unavailable, Reason::Unavailable, None),
            LedgerError::Storage(_) => (Code::Internal, Reason::Storage, None),
            LedgerError::DataLoss(_) => (Code::DataLoss, Reason::EntryCorrupt, None),
            LedgerError::Internal(_) => (Code::Internal, Reason::Internal, None),
        };
        // The variant decides the status; a reason given with another variant than the one the
        // contract (and the partner guide) pairs it with is a bug at the refusing site.
        debug_assert_eq!(
            code,
            reason.status(),
            "{reason} is refused with another status than the contract's"
        );
        let mut status = Status::new(code, message);
        let metadata = status.metadata_mut();
        metadata.insert(
            REASON_METADATA_KEY,
            reason.as_str().parse().expect("reason codes are ASCII"),
        );
        if let Some(event) = event {
            metadata.insert(
                EVENT_INDEX_METADATA_KEY,
                event.to_string().parse().expect("digits are ASCII"),
            );
        }
        status
    }
}

impl From<isnad_store::StoreError> for LedgerError {
    fn from(error: isnad_store::StoreError) -> Self {
        match error {
            isnad_store::StoreError::EntryCorrupt { .. } => {
                LedgerError::DataLoss(error.to_string())
            }
            error => LedgerError::Storage(error.to_string()),
        }
    }
}

impl From<isnad_core::state::StorageError> for LedgerError {
    fn from(error: isnad_core::state::StorageError) -> Self {
        LedgerError::Storage(error.0)
    }
}

#[cfg(test)]
mod tests {
    use isnad_core::rules::RejectCode;

    use super::*;

    /// The status `error` becomes: its code, reason and event position.
    #[track_caller]
    fn check(error: LedgerError, code: Code, reason: Reason, event: Option<&str>) {
        let status = Status::from(error);
        assert_eq!(status.code(), code, "{status:?}");
        let metadata = |key| status.metadata().get(key).and_then(|v| v.to_str().ok());
        assert_eq!(metadata(REASON_METADATA_KEY), Some(reason.as_str()));
        assert_eq!(metadata(EVENT_INDEX_METADATA_KEY), event);
    }

    #[test]
    fn every_variant_carries_its_status_reason_and_position() {
        let message = String::from("what is wrong");
        check(
            LedgerError::InvalidArgument {
                reason: Reason::MalformedKey,
                message: message.clone(),
                event: Some(3),
            },
            Code::InvalidArgument,
            Reason::MalformedKey,
            Some("3"),
        );
        check(
            LedgerError::BadSignature {
                message: message.clone(),
                event: 0,
            },
            Code::Unauthenticated,
            Reason::BadSignature,
            Some("0"),
        );
        check(
            LedgerError::Rejected {
                rejection: Rejection::new(RejectCode::NotHolder, message.clone()),
                event: 7,
            },
            Code::FailedPrecondition,
            Reason::NotHolder,
            Some("7"),
        );
        check(
            LedgerError::EventIdReused {
                event_id: "00".into(),
                event: 1,
            },
            Code::AlreadyExists,
            Reason::EventIdReused,
            Some("1"),
        );
        check(
            LedgerError::NotFound {
                reason: Reason::UnknownLeaf,
                message: message.clone(),
            },
            Code::NotFound,
            Reason::UnknownLeaf,
            None,
        );
        check(
            LedgerError::ResourceExhausted {
                reason: Reason::TooManyEvents,
                message,
                event: None,
            },
            Code::ResourceExhausted,
            Reason::TooManyEvents,
            None,
        );
        check(
            LedgerError::Unavailable("closing".into()),
            Code::Unavailable,
            Reason::Unavailable,
            None,
        );
        check(
            LedgerError::Internal("a bug".into()),
            Code::Internal,
            Reason::Internal,
            None,
        );
        check(
            LedgerError::Storage("disk".into()),
            Code::Internal,
            Reason::Storage,
            None,
        );
        check(
            LedgerError::from(isnad_store::StoreError::EntryCorrupt { index: 7 }),
            Code::DataLoss,
            Reason::EntryCorrupt,
            None,
        );
    }
}
