//! The ledger's errors and their one mapping to gRPC statuses (the design's error contract).
//!
//! Every refusal carries a machine-readable reason code in the `isnad-reason` metadata entry
//! and, for a batch, the refused event's position in `isnad-event-index`.

use isnad_core::rules::{RejectClass, Rejection};
use tonic::{Code, Status};

/// The metadata key of the machine-readable reason code.
pub const REASON_METADATA_KEY: &str = "isnad-reason";
/// The metadata key of the refused event's position within its request.
pub const EVENT_INDEX_METADATA_KEY: &str = "isnad-event-index";

/// Why the ledger refused or failed a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    /// Malformed input; the message names the field.
    #[error("{message}")]
    InvalidArgument {
        /// Stable reason code, such as `MALFORMED_BODY`.
        reason: &'static str,
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
        /// Stable reason code.
        reason: &'static str,
        /// What was not found.
        message: String,
    },
    /// A request is over one of the limits.
    #[error("{message}")]
    ResourceExhausted {
        /// Stable reason code, such as `TOO_MANY_EVENTS`.
        reason: &'static str,
        /// Which limit, and by how much.
        message: String,
        /// The event's position in its request, when one event is at fault.
        event: Option<usize>,
    },
    /// The ledger is shutting down or its sequencer is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed: an operating error of this server, not of the request.
    #[error("storage: {0}")]
    Storage(String),
}

impl From<LedgerError> for Status {
    fn from(error: LedgerError) -> Status {
        let message = error.to_string();
        let (code, reason, event) = match error {
            LedgerError::InvalidArgument { reason, event, .. } => {
                (Code::InvalidArgument, reason, event)
            }
            LedgerError::BadSignature { event, .. } => {
                (Code::Unauthenticated, "BAD_SIGNATURE", Some(event))
            }
            LedgerError::Rejected { rejection, event } => (
                reject_class_code(rejection.code.class()),
                rejection.code.as_str(),
                Some(event),
            ),
            LedgerError::EventIdReused { event, .. } => {
                (Code::AlreadyExists, "EVENT_ID_REUSED", Some(event))
            }
            LedgerError::NotFound { reason, .. } => (Code::NotFound, reason, None),
            LedgerError::ResourceExhausted { reason, event, .. } => {
                (Code::ResourceExhausted, reason, event)
            }
            LedgerError::Unavailable(_) => (Code::Unavailable, "UNAVAILABLE", None),
            LedgerError::Storage(_) => (Code::Internal, "STORAGE", None),
        };
        let mut status = Status::new(code, message);
        let metadata = status.metadata_mut();
        metadata.insert(
            REASON_METADATA_KEY,
            reason.parse().expect("reason codes are ASCII"),
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

/// The status code of each class of rule refusal.
fn reject_class_code(class: RejectClass) -> Code {
    match class {
        RejectClass::InvalidArgument => Code::InvalidArgument,
        RejectClass::Unauthenticated => Code::Unauthenticated,
        RejectClass::PermissionDenied => Code::PermissionDenied,
        RejectClass::FailedPrecondition => Code::FailedPrecondition,
        RejectClass::AlreadyExists => Code::AlreadyExists,
        RejectClass::NotFound => Code::NotFound,
        RejectClass::ResourceExhausted => Code::ResourceExhausted,
    }
}

impl From<isnad_store::StoreError> for LedgerError {
    fn from(error: isnad_store::StoreError) -> Self {
        LedgerError::Storage(error.to_string())
    }
}

impl From<isnad_core::state::StorageError> for LedgerError {
    fn from(error: isnad_core::state::StorageError) -> Self {
        LedgerError::Storage(error.0)
    }
}
