//! End-to-end test support, one kit for every test of this crate: [`server`] starts the real
//! `isnad-server` binary on a temporary data directory and stops or kills it; [`circuit`]
//! drives the `isnad` binary through a circuit of admitted participants; [`call`] sends any
//! request, valid or not, through one client; [`callers`] signs requests as the participants
//! of a small circuit, right and wrong; [`tls`] writes test certificates and talks to a server
//! over TLS. The scenario, its fixed-seed keys, the dates relative to today and the
//! certificate generator come from `isnad-testkit`.

pub mod call;
pub mod callers;
pub mod circuit;
pub mod server;
pub mod tls;

pub use server::{
    DataDir, ORIGIN, Server, binary, binary_dir, entries, mirror, scenario_keys, signed_event,
    signed_events, tree_size,
};
