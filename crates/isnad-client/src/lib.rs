//! Isnad client library: sign, submit, and verify answers offline.
