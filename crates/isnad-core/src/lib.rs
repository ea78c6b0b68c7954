//! Isnad's pure core: GS1 identifiers, events, custody rules and verdicts.
//!
//! Nothing here does I/O. The server uses these rules to decide; the client uses the very same
//! rules to re-check an answer offline. State is read through [`state::StateView`], so the
//! server backs it with sled and the client with an in-memory history.

pub mod envelope;
pub mod event;
pub mod gs1;
pub mod limits;
pub mod queries;
pub mod rules;
pub mod scan;
pub mod state;
pub mod verdict;
