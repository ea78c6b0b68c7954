//! RFC 9162 Merkle log, proofs and C2SP signed checkpoints.
