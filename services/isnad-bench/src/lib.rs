//! The Isnad demo circuit and the ledger's benchmark.
//!
//! - [`circuit`]: the participants of a realistic circuit (a regulator, two manufacturers, a
//!   distributor, two hospitals, an inspector and a pharmacy nobody admitted), their keys, and
//!   builders for every signed event they send.
//! - [`demo`]: plays a whole circuit against a ledger started in this process and prints the
//!   verdicts an inspector gets, each proven offline with `isnad-client` (`isnad-demo`).
//! - [`bench`](mod@bench): the load generator (`isnad-bench`): capture, commission, verification and a
//!   grown log, against a real `isnad-server` process, each figure set against the machine's
//!   own Ed25519 batch-verification ceiling.

pub mod bench;
pub mod circuit;
pub mod demo;
pub mod embedded;

/// The server's URL for a `host:port` address.
pub fn url(address: &str) -> String {
    format!("http://{address}")
}

/// The size of the log a server holds, read from its latest checkpoint (not verified: for
/// progress and figures, not for trust).
pub async fn tree_size(client: &isnad_client::Client) -> anyhow::Result<u64> {
    let note = client.checkpoint().await?;
    Ok(
        isnad_log::checkpoint::Checkpoint::from_note_unverified(&note)?
            .size
            .0,
    )
}
