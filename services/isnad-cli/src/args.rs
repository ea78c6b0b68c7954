//! The command line: every command, its options and their environment variables.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// isnad: verify medical devices against the Isnad ledger, capture custody events, audit the
/// log.
///
/// Exit status: 0 for success (and a GENUINE verdict), 1 for a suspect verdict or audit
/// findings, 2 for an error (bad input, unreachable server, a proof that fails).
#[derive(Debug, Parser)]
#[command(name = "isnad", version, about, long_about)]
pub struct Cli {
    /// The Isnad server's URL.
    #[arg(
        long,
        env = "ISNAD_SERVER",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub server: String,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// The trust store directory (pinned keys and checkpoint) [default: ~/.config/isnad].
    #[arg(long, env = "ISNAD_TRUST_DIR", global = true)]
    pub trust_dir: Option<PathBuf>,
    /// Print JSON for scripts instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,
    /// Your party GLN-13: the actor of the events you sign and, with --key, the party every
    /// request is signed as, to read what the ledger shows only to admitted parties (the proof
    /// of a verdict, your own events). Without both, requests are anonymous.
    #[arg(long, env = "ISNAD_ACTOR", global = true)]
    pub actor: Option<String>,
    /// Your private key file (mode 0600): it signs your events and your requests.
    #[arg(long, env = "ISNAD_KEY", global = true)]
    pub key: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach the server: TLS for `https://` URLs; plain text (`http://`) only to loopback.
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// CA certificates (PEM) the server's TLS certificate must chain to [default: the public
    /// web's roots].
    #[arg(long, env = "ISNAD_TLS_CA", value_name = "FILE", global = true)]
    pub tls_ca: Option<PathBuf>,
    /// A client certificate (PEM) for servers that require mutual TLS; with --tls-key.
    #[arg(
        long,
        env = "ISNAD_TLS_CLIENT_CERT",
        value_name = "FILE",
        global = true,
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM); refused when group or others may read it.
    #[arg(
        long,
        env = "ISNAD_TLS_CLIENT_KEY",
        value_name = "FILE",
        global = true,
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Allow a plain-text (`http://`) server URL that is not loopback: anyone on the way can
    /// then read and alter the traffic (the proofs still hold; privacy does not).
    #[arg(long, env = "ISNAD_INSECURE", global = true)]
    pub insecure: bool,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ed25519 key files: generate one, show its public key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The trust store: the regulator's root keys, the log's key, the last checkpoint seen.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Parse a scan (element string, human-readable form or Digital Link) and show its fields.
    Scan {
        /// The scan, as the scanner sent it.
        scan: String,
    },
    /// Ask the server about a scanned unit and prove the answer offline before showing it.
    Verify(VerifyArgs),
    /// Re-check an evidence file written by `verify --evidence`, with no network.
    VerifyEvidence {
        /// The evidence file.
        file: PathBuf,
    },
    /// Audit the whole log: every entry's signature, every event re-applied with the rules.
    Audit,
    /// Manufacturer: register a product (GTIN).
    RegisterProduct(RegisterProductArgs),
    /// Manufacturer: commission units of a lot (serials listed, from a file, or a quantity).
    Commission(CommissionArgs),
    /// Holder: pack units or SSCCs into a logistic unit (SSCC).
    Pack(PackArgs),
    /// Holder: take items out of a logistic unit (all of them when none is named).
    Unpack(PackArgs),
    /// Holder: ship items to a party's site.
    Ship(ShipArgs),
    /// Addressee: receive a shipment.
    Receive(ReceiveArgs),
    /// Holder: take items out of the circuit (used, dispensed, destroyed, ...).
    Decommission(DecommissionArgs),
    /// Manufacturer or regulator: recall a lot.
    Recall(RecallArgs),
    /// Inspector: record a sighting of a unit, with the verdict seen.
    Inspect(InspectArgs),
    /// Regulator: admit a participant.
    Admit(AdmitArgs),
    /// Regulator: suspend a participant.
    Suspend(SuspendArgs),
    /// Regulator: lift a participant's suspension.
    Reinstate(PartyArgs),
    /// Regulator: add a key to a participant.
    AddKey(KeyChangeArgs),
    /// Regulator: revoke a participant's key.
    RevokeKey(RevokeKeyArgs),
}

/// Key file commands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate an Ed25519 key pair; the private key file gets mode 0600 and is never printed.
    Generate {
        /// Where to write the private key (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
        /// The key's name in the file and in its verifier key string.
        #[arg(long, default_value = "isnad")]
        name: String,
    },
    /// Show the public key and verifier key string of the key file given with --key.
    Show,
}

/// Trust store commands.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Pin the regulator's root keys and the log's key, fetch the log's checkpoint and
    /// genesis entry, check that genesis names exactly these keys, and pin the checkpoint.
    Init {
        /// A regulator root public key, 64 hex digits; repeat for each key genesis names.
        #[arg(long = "regulator-key", required = true)]
        regulator_keys: Vec<String>,
        /// The log's verifier key string, as `isnad-server init` printed it.
        #[arg(long)]
        log_key: String,
        /// Replace an existing trust store.
        #[arg(long)]
        force: bool,
    },
    /// Show what is pinned, and any recorded fork.
    Show,
}

/// `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The scan, as the scanner sent it.
    pub scan: String,
    /// Where you stand: your location GLN-13, to check custody.
    #[arg(long)]
    pub site: Option<String>,
    /// Save the whole answer as a self-contained evidence file.
    #[arg(long)]
    pub evidence: Option<PathBuf>,
}

/// Where an event happens; who signs it is the global --actor with its --key.
#[derive(Debug, Args)]
pub struct Signer {
    /// The location GLN-13 where the event happens.
    #[arg(long, env = "ISNAD_SITE")]
    pub site: String,
}

/// Options of commands that read many values from a file and may be re-run after a crash.
#[derive(Debug, Args)]
pub struct Bulk {
    /// A label for this job: re-running the same input with the same label captures nothing
    /// twice; another label makes the same content new events.
    #[arg(long, default_value = "")]
    pub job: String,
    /// The CSV column or JSON field holding the values (CSV files need a header row).
    #[arg(long)]
    pub column: Option<String>,
    /// Events per capture request at most (1,000 is the ledger's limit). A request is atomic:
    /// all its events are captured, or none.
    #[arg(long, default_value_t = isnad_client::bulk::EVENTS_PER_REQUEST_MAX)]
    pub events_per_request: usize,
}

/// Items moved by an event: units or SSCCs, as scans.
#[derive(Debug, Args)]
pub struct Items {
    /// An item, as a scan naming a unit (GTIN and serial) or an SSCC; repeat for several.
    #[arg(long = "item")]
    pub items: Vec<String>,
    /// A file of item scans: one per line, a CSV column (default `scan`), or JSON lines.
    #[arg(long)]
    pub items_file: Option<PathBuf>,
    /// Items per event at most (10,000 is the ledger's limit); more items make more events.
    #[arg(long, default_value_t = isnad_client::bulk::ITEMS_PER_EVENT_MAX)]
    pub items_per_event: usize,
    #[command(flatten)]
    pub bulk: Bulk,
}

/// `register-product`.
#[derive(Debug, Args)]
pub struct RegisterProductArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The GTIN-14, under one of your company prefixes.
    #[arg(long)]
    pub gtin: String,
    /// The product's name.
    #[arg(long)]
    pub name: String,
    /// The device class.
    #[arg(long, value_enum)]
    pub class: DeviceClassArg,
    /// Made in Morocco.
    #[arg(long)]
    pub made_in_morocco: bool,
}

/// `commission`.
#[derive(Debug, Args)]
pub struct CommissionArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The product's GTIN-14.
    #[arg(long)]
    pub gtin: String,
    /// The lot number.
    #[arg(long)]
    pub lot: String,
    /// The expiry date, YYMMDD.
    #[arg(long)]
    pub expiry: String,
    /// The production date, YYMMDD.
    #[arg(long)]
    pub production_date: Option<String>,
    /// A serial; repeat for several.
    #[arg(long = "serial")]
    pub serials: Vec<String>,
    /// A file of serials: one per line, a CSV column (default `serial`), or JSON lines.
    #[arg(long)]
    pub serials_file: Option<PathBuf>,
    /// A quantity of units that are not serialized.
    #[arg(long)]
    pub quantity: Option<u64>,
    /// Serials per event at most (10,000 is the ledger's limit; events also stay within
    /// 64 KiB).
    #[arg(long, default_value_t = isnad_client::bulk::SERIALS_PER_EVENT_MAX)]
    pub serials_per_event: usize,
    #[command(flatten)]
    pub bulk: Bulk,
}

/// `pack` and `unpack`.
#[derive(Debug, Args)]
pub struct PackArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The logistic unit's SSCC-18.
    #[arg(long)]
    pub sscc: String,
    #[command(flatten)]
    pub items: Items,
}

/// `ship`.
#[derive(Debug, Args)]
pub struct ShipArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The addressee's party GLN-13.
    #[arg(long)]
    pub to: String,
    /// The addressee's site GLN-13.
    #[arg(long)]
    pub to_site: String,
    #[command(flatten)]
    pub items: Items,
}

/// `receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The shipment: the event id of its Ship event, 32 hex digits.
    #[arg(long)]
    pub shipment: String,
    /// An item that did not arrive, as a scan; repeat for several.
    #[arg(long = "missing")]
    pub missing: Vec<String>,
}

/// `decommission`.
#[derive(Debug, Args)]
pub struct DecommissionArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// Why the items leave the circuit.
    #[arg(long, value_enum)]
    pub reason: DecommissionReasonArg,
    #[command(flatten)]
    pub items: Items,
}

/// `recall`.
#[derive(Debug, Args)]
pub struct RecallArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The product's GTIN-14.
    #[arg(long)]
    pub gtin: String,
    /// The lot number.
    #[arg(long)]
    pub lot: String,
    /// Why, in words.
    #[arg(long)]
    pub reason: String,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The scan, as read.
    pub scan: String,
    /// The verdict your device showed; by default the unit is verified first (at your site)
    /// and its proven verdict recorded.
    #[arg(long)]
    pub verdict_seen: Option<String>,
}

/// `admit`.
#[derive(Debug, Args)]
pub struct AdmitArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The participant's party GLN-13.
    #[arg(long)]
    pub party: String,
    /// Its name.
    #[arg(long)]
    pub name: String,
    /// A role; repeat for several.
    #[arg(long = "role", value_enum, required = true)]
    pub roles: Vec<RoleArg>,
    /// A location GLN-13 it operates from; repeat for several.
    #[arg(long = "party-site")]
    pub sites: Vec<String>,
    /// A GS1 company prefix (manufacturers); repeat for several.
    #[arg(long = "prefix")]
    pub prefixes: Vec<String>,
    /// A public key, 64 hex digits; repeat for several.
    #[arg(long = "public-key", required = true)]
    pub public_keys: Vec<String>,
}

/// `suspend`.
#[derive(Debug, Args)]
pub struct SuspendArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The participant's party GLN-13.
    #[arg(long)]
    pub party: String,
    /// Why, in words.
    #[arg(long)]
    pub reason: String,
}

/// Commands that name only a party.
#[derive(Debug, Args)]
pub struct PartyArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The participant's party GLN-13.
    #[arg(long)]
    pub party: String,
}

/// `add-key`.
#[derive(Debug, Args)]
pub struct KeyChangeArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The participant's party GLN-13.
    #[arg(long)]
    pub party: String,
    /// The public key, 64 hex digits.
    #[arg(long)]
    pub public_key: String,
}

/// `revoke-key`.
#[derive(Debug, Args)]
pub struct RevokeKeyArgs {
    #[command(flatten)]
    pub key: KeyChangeArgs,
    /// The key is known compromised since this time (milliseconds since the Unix epoch):
    /// events it signed since then become suspect.
    #[arg(long)]
    pub compromised_since_unix_ms: Option<i64>,
}

/// Device classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceClassArg {
    /// Class I.
    ClassI,
    /// Class IIa.
    ClassIia,
    /// Class IIb.
    ClassIib,
    /// Class III.
    ClassIii,
    /// An in vitro diagnostic device.
    InVitroDiagnostic,
    /// A medicinal product.
    MedicinalProduct,
}

/// Reasons to decommission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecommissionReasonArg {
    /// Used on a patient (health facilities).
    Used,
    /// Dispensed to a patient (health facilities).
    Dispensed,
    /// Destroyed.
    Destroyed,
    /// Exported.
    Exported,
    /// Stolen.
    Stolen,
    /// Taken as a sample.
    Sample,
}

/// Participant roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A regulator.
    Regulator,
    /// A manufacturer.
    Manufacturer,
    /// A distributor.
    Distributor,
    /// A hospital, pharmacy or other health facility.
    HealthFacility,
    /// An inspector.
    Inspector,
    /// An auditor: reads every party's events and the log's entries, signs no events.
    Auditor,
}
