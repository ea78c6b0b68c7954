//! The gRPC services over one [`Ledger`](crate::ledger::Ledger).

pub mod capture;
pub mod gate;
pub mod log;
pub mod verification;

use isnad_proto::contract::Reason;
use tonic::Status;

use crate::error::LedgerError;

/// Runs blocking store work (sled reads, proofs) off the async threads.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, LedgerError>
where
    F: FnOnce() -> Result<T, LedgerError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| LedgerError::Unavailable(format!("worker failed: {e}")))?
}

/// Parses a request field into a GS1 or other typed value, naming the field on failure.
pub(crate) fn parse_field<T>(field: &'static str, value: &str) -> Result<T, Status>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    isnad_proto::convert::gs1(field, value).map_err(|e| {
        Status::from(LedgerError::InvalidArgument {
            reason: Reason::MalformedField,
            message: e.to_string(),
            event: None,
        })
    })
}

/// Hashes as wire bytes.
pub(crate) fn hashes_to_wire(hashes: &[isnad_log::Hash]) -> Vec<Vec<u8>> {
    hashes.iter().map(|h| h.to_vec()).collect()
}
