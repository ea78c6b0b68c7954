//! Durable sled storage for the log and the ledger state.
