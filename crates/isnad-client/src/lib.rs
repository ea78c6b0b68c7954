//! Isnad client library: sign, submit, and verify answers offline.
//!
//! A handheld or a partner's system builds domain events, signs them ([`sign`]), submits them
//! over gRPC ([`client`], over TLS as [`connect`] sets up), and checks every answer with
//! nothing but the regulator's root key and the log's verifier key ([`trust`], [`verify`]). An
//! answer can be kept as a self-contained evidence file ([`evidence`]) that anyone re-checks
//! without a network, and an auditor re-checks the whole log with the same rules the server
//! applies ([`audit`]).
//!
//! Nothing shown to a user comes from the server unproven: verdicts are re-derived from
//! signed, proven history with the very functions of `isnad-core` that the server decides
//! with.

pub mod audit;
pub mod auth;
pub mod bulk;
pub mod client;
pub mod connect;
pub mod evidence;
pub mod sign;
pub mod trust;
pub mod verify;

#[cfg(test)]
mod testlog;

/// Key files: the format is shared with the server, which writes the log's key.
pub use isnad_keys as keys;

pub use auth::{Credentials, SignedChannel};
pub use client::{CheckError, Checked, Client, ClientError, Refusal};
pub use connect::{ClientIdentity, ConnectError, ConnectOptions};
pub use evidence::{Evidence, EvidenceError};
pub use trust::{Trust, TrustError, TrustStore};
pub use verify::{VerifiedAnswer, VerifyError, verify_answer};
