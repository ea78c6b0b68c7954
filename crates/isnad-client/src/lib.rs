//! Isnad client library: sign, submit, and verify answers offline.
//!
//! A handheld or a partner's system builds domain events, signs them ([`sign`]), submits them
//! over gRPC, and checks every answer with nothing but the regulator's root key and the log's
//! verifier key.

pub mod keys;
pub mod sign;
