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
pub mod input;
mod output;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use isnad_client::{Client, ConnectOptions, Credentials, TrustStore};
use isnad_core::gs1::Gln;

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
        actor: cli.actor,
        key: cli.key,
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
    /// `--actor`: the party events and requests are signed as.
    pub actor: Option<String>,
    /// `--key`: the private key file that signs requests and events.
    pub key: Option<PathBuf>,
}

impl Context {
    /// A connection to the server, signing every request as `--actor` with `--key` when both
    /// are given, else anonymous.
    pub async fn client(&self) -> anyhow::Result<Client> {
        let client = self.anonymous_client().await?;
        let (Some(_), Some(key_file)) = (&self.actor, &self.key) else {
            return Ok(client);
        };
        let party = self.actor()?;
        let key = isnad_client::keys::read_private_key(key_file)
            .with_context(|| format!("reading the key {}", key_file.display()))?
            .key;
        let origin = self.origin(&client).await?;
        Ok(client.with_credentials(Credentials::new(party, key, origin)))
    }

    /// A connection to the server whose requests are not signed: for submitting events, which
    /// carry their own signatures (a request signature would only be refused first when the
    /// events are for another log, hiding why).
    pub async fn anonymous_client(&self) -> anyhow::Result<Client> {
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

    /// Whether requests are signed: `--actor` and `--key` are both given.
    pub fn signs_requests(&self) -> bool {
        self.actor.is_some() && self.key.is_some()
    }

    /// The `--actor` party, required by the commands that sign.
    pub fn actor(&self) -> anyhow::Result<Gln> {
        let text = self
            .actor
            .as_deref()
            .context("--actor (or ISNAD_ACTOR) must name your party GLN-13")?;
        text.trim()
            .parse()
            .with_context(|| format!("--actor {text:?}"))
    }

    /// The `--key` file, required by the commands that sign.
    pub fn key_file(&self) -> anyhow::Result<&std::path::Path> {
        self.key
            .as_deref()
            .context("--key (or ISNAD_KEY) must name your private key file")
    }

    /// The log's origin, which request signatures bind: the pinned one, else the one the
    /// server's checkpoint names (a wrong one only makes the server refuse the signature).
    async fn origin(&self, client: &Client) -> anyhow::Result<String> {
        if self.trust.exists() {
            return Ok(self.trust.load_ignoring_fork()?.origin().to_owned());
        }
        let note = client
            .checkpoint()
            .await
            .context("reading the log's origin")?;
        Ok(
            isnad_log::checkpoint::Checkpoint::from_note_unverified(&note)
                .context("the server's checkpoint")?
                .origin,
        )
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
