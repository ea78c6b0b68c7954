//! Generated gRPC code for `isnad.v1` and conversions to the core's types.
//!
//! This is the one crate that compiles `proto/`. Wire types (here), domain types
//! (`isnad-core`) and storage encodings are three different things: validation happens once,
//! when a wire message is converted into a domain type, and every refusal names the field.

pub mod codec;
pub mod contract;
pub mod convert;

/// The generated `isnad.v1` messages, clients and servers.
#[allow(
    missing_docs,
    missing_debug_implementations,
    clippy::all,
    clippy::pedantic
)]
pub mod pb {
    tonic::include_proto!("isnad.v1");
}

/// The encoded file descriptor set of `isnad.v1`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("isnad_descriptor");

pub use convert::{
    ConvertError, decode_event_body, decode_genesis, decode_history_entry, encode_event_body,
    encode_genesis,
};
