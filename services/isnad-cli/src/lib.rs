//! `isnad`: the command-line client of the Isnad ledger, for inspectors, partners and
//! auditors, and the reference for handheld apps built on `isnad-client`.
//!
//! Every answer from the server is proven before it is shown: verification answers are
//! checked offline against the pinned trust (regulator root keys, log key, last checkpoint),
//! and the verdict is re-derived from the proven history with the core's own rules.
//!
//! Exit status: [`Exit::Success`] (0), [`Exit::Suspect`] (1) for a suspect verdict or audit
//! findings, [`Exit::Failure`] (2) for any error.

pub mod args;
mod commands;
mod input;
mod output;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use isnad_client::{Client, ConnectOptions, TrustStore};

use crate::args::{Cli, TlsArgs};
use crate::output::Output;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done; a verdict was GENUINE; an audit found nothing.
    Success = 0,
    /// A verdict other than GENUINE, or audit findings.
    Suspect = 1,
    /// An error: bad input, an unreachable server, a refused event, a proof that fails.
    Failure = 2,
}

/// Runs one command; errors are printed on stderr and end in [`Exit::Failure`].
pub async fn run(cli: Cli) -> Exit {
    let context = Context {
        output: Output::new(cli.json),
        server: cli.server,
        tls: cli.tls,
        trust: TrustStore::new(cli.trust_dir.unwrap_or_else(default_trust_dir)),
    };
    match commands::dispatch(cli.command, &context).await {
        Ok(exit) => exit,
        Err(error) => {
            eprintln!("isnad: {error:#}");
            Exit::Failure
        }
    }
}

/// What every command may need.
#[derive(Debug)]
pub(crate) struct Context {
    /// Where results go.
    pub output: Output,
    /// The server's URL.
    pub server: String,
    /// How to reach it (TLS files, plain text beyond loopback).
    pub tls: TlsArgs,
    /// The trust store.
    pub trust: TrustStore,
}

impl Context {
    /// A connection to the server.
    pub async fn client(&self) -> anyhow::Result<Client> {
        let tls = &self.tls;
        let options = ConnectOptions::from_files(
            tls.tls_ca.as_deref(),
            tls.tls_cert.as_deref().zip(tls.tls_key.as_deref()),
            tls.insecure,
        )
        .context("TLS options")?;
        Client::connect_with(&self.server, &options)
            .await
            .context("connecting to the server")
    }
}

/// `$XDG_CONFIG_HOME/isnad`, else `$HOME/.config/isnad`, else `./.isnad`.
fn default_trust_dir() -> PathBuf {
    if let Some(config) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(config).join("isnad");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".config").join("isnad"),
        None => PathBuf::from(".isnad"),
    }
}

/// The system clock in milliseconds since the Unix epoch.
pub(crate) fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
