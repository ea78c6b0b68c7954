#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the checks need, then runs the
# format check, the linter, the unused-dependency check and every test of the workspace
# (end-to-end tests start the real isnad-server binary).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust with rustup first" >&2
    exit 2
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
if ! command -v cargo-machete >/dev/null; then
    echo "installing cargo-machete (the unused-dependency check)"
    cargo install --locked --quiet cargo-machete --version 0.9.2
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Dependencies no code uses; a false positive is listed under
# [package.metadata.cargo-machete] in its crate's Cargo.toml.
cargo machete >/dev/null 2>&1 || { cargo machete; exit 1; }
# End-to-end tests start the real binaries: build them first (cargo test alone would not).
cargo build --workspace --bins --locked
cargo test --workspace --locked
# The server binary as an operator builds it (`-p isnad-server`, without the tests' test-clock
# feature): it must refuse the clock skew.
cargo test -p isnad-server --bin isnad-server --locked
