//! The Isnad ledger gRPC service.
