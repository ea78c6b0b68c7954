//! Compiles `proto/isnad/v1` with a vendored `protoc`, so a fresh machine needs nothing
//! installed, and emits a descriptor set for gRPC server reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read when the script runs, not when it is compiled (`env!`): a build script compiled in
    // another checkout (a copied target directory) would otherwise compile that checkout's
    // `.proto` files.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let files = [
        root.join("isnad/v1/events.proto"),
        root.join("isnad/v1/ledger.proto"),
    ];
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // Signed bodies stay `bytes::Bytes`: cheap to clone from the request, never re-encoded.
    config.bytes([".isnad.v1.SignedEvent"]);
    tonic_prost_build::configure()
        // prost's codec with a count of a capture request's events before decoding.
        .codec_path("crate::codec::LimitedCodec")
        .file_descriptor_set_path(out_dir.join("isnad_descriptor.bin"))
        .compile_with_config(config, &files, &[root])?;
    Ok(())
}
