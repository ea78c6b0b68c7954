//! The gRPC client: one channel to a server, the calls of the four services, and the checked
//! operations built on them (establishing trust, verifying a scan) that prove every answer
//! before returning it.

use std::time::Duration;

use isnad_log::checkpoint::Checkpoint;
use isnad_proto::contract::{
    ENTRIES_PER_RESPONSE_MAX, EVENT_INDEX_METADATA_KEY, REASON_METADATA_KEY, REQUEST_BYTES_MAX,
    RESPONSE_BYTES_MAX, Reason, SIGNED_EVENT_BYTES_MAX,
};
use isnad_proto::pb;
use isnad_proto::pb::capture_client::CaptureClient;
use isnad_proto::pb::log_client::LogClient;
use isnad_proto::pb::registry_client::RegistryClient;
use isnad_proto::pb::verification_client::VerificationClient;
use tonic::transport::Endpoint;

use crate::auth::{Credentials, SignedChannel};

use crate::audit::{AuditError, AuditReport, Auditor};
use crate::connect::{ConnectError, ConnectOptions};
use crate::trust::{FORK_FORMAT, ForkEvidence, Trust, TrustError};
use crate::verify::{
    Inconsistency, VerifiedAnswer, VerifyError, verify_answer, verify_withheld_answer,
};

/// How long connecting may take before the server counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one call may take: a capture waits for an fsync, a verification for proofs.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A refusal or failure reported by the server, with its reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}{}: {message}", reason.as_ref().map(|r| format!(" {r}")).unwrap_or_default())]
pub struct Refusal {
    /// The gRPC status code.
    pub code: tonic::Code,
    /// The machine-readable reason, such as `NOT_HOLDER`, when the server gave one.
    pub reason: Option<String>,
    /// The position of the refused event in its request, when one event is at fault.
    pub event_index: Option<usize>,
    /// The server's message.
    pub message: String,
}

impl Refusal {
    /// Reads a status, with its reason and event position metadata.
    pub fn from_status(status: &tonic::Status) -> Refusal {
        let metadata = |key| {
            status
                .metadata()
                .get(key)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        Refusal {
            code: status.code(),
            reason: metadata(REASON_METADATA_KEY),
            event_index: metadata(EVENT_INDEX_METADATA_KEY).and_then(|i| i.parse().ok()),
            message: status.message().to_owned(),
        }
    }

    /// The reason code, when the server gave one this build knows.
    pub fn reason_code(&self) -> Option<Reason> {
        self.reason.as_deref()?.parse().ok()
    }

    /// Whether the server refused because of `reason`.
    pub fn is(&self, reason: Reason) -> bool {
        self.reason.as_deref() == Some(reason.as_str())
    }
}

/// Why a call did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server URL is not valid.
    #[error("server URL {url:?} is not valid")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        source: tonic::transport::Error,
    },
    /// The server cannot be reached.
    #[error("cannot reach the server at {url}")]
    Unreachable {
        /// The server's URL.
        url: String,
        /// The transport's error.
        source: tonic::transport::Error,
    },
    /// The connection options do not allow this URL (plain text beyond loopback), or cannot
    /// be used.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server refused the request or failed.
    #[error("the server refused: {0}")]
    Refused(Refusal),
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> ClientError {
        ClientError::Refused(Refusal::from_status(&status))
    }
}

/// Why a checked operation did not give a proven answer.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The call failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The server's checkpoint or genesis does not match the trust anchors.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The answer did not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The audit could not be completed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The server's signed tree is smaller than the pinned one, so it cannot prove that it
    /// extends it: a lagging replica, or a log that went back on what it signed. Not evidence
    /// of a fork by itself, so nothing is recorded; another server, or later, may answer.
    #[error(
        "the server's log (tree size {server_size}) is behind the pinned checkpoint (tree size \
         {pinned_size}): it cannot prove that it extends what this client has seen"
    )]
    Behind {
        /// The size of the server's signed checkpoint.
        server_size: u64,
        /// The size of the pinned checkpoint.
        pinned_size: u64,
    },
    /// The server's log does not extend the pinned checkpoint, and it cannot prove otherwise: a
    /// possible split view. Both checkpoints are in the evidence.
    #[error("possible split view (fork) of the log: {}", .0.problem)]
    Fork(Box<ForkEvidence>),
}

/// A question, its answer and what the answer proves.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The question sent.
    pub question: pb::VerifyRequest,
    /// The answer received, exactly as proven.
    pub answer: pb::VerifyResponse,
    /// What it proves.
    pub verified: VerifiedAnswer,
}

/// A connection to one server, anonymous or signing every call as a party.
#[derive(Debug, Clone)]
pub struct Client {
    url: String,
    channel: SignedChannel,
}

/// A verdict the server gave without its proof: what an anonymous caller gets.
#[derive(Debug, Clone)]
pub struct Unproven {
    /// The answer received: its verdict, reasons and scan error, nothing to check them with.
    pub answer: pb::VerifyResponse,
    /// The answer's checkpoint, checked to be signed by the log key and to extend the pinned
    /// one (nothing else in the answer can be checked).
    pub checkpoint: Checkpoint,
}

impl Unproven {
    /// The trust to keep after this answer: the newer checkpoint pinned, since it was proven
    /// to extend the pinned one.
    pub fn advanced_trust(&self, trust: &Trust) -> Result<Trust, TrustError> {
        if self.checkpoint.size <= trust.checkpoint().size {
            return Ok(trust.clone());
        }
        trust.with_checkpoint(&self.answer.checkpoint)
    }
}

impl Client {
    /// Connects to the server at `url` (such as `http://127.0.0.1:50051`, or
    /// `https://ledger.example` checked against the public web's roots); see
    /// [`Client::connect_with`].
    pub async fn connect(url: &str) -> Result<Client, ClientError> {
        Client::connect_with(url, &ConnectOptions::default()).await
    }

    /// Connects to the server at `url`: over TLS for `https://` (with the CA and client
    /// certificate of `options`), in plain text for `http://` to a loopback host only, unless
    /// `options.insecure`.
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Client, ClientError> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|source| ClientError::Url {
                url: url.to_owned(),
                source,
            })?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT);
        let endpoint = options.apply(endpoint)?;
        let channel = endpoint
            .connect()
            .await
            .map_err(|source| ClientError::Unreachable {
                url: url.to_owned(),
                source,
            })?;
        Ok(Client {
            url: url.to_owned(),
            channel: SignedChannel::new(channel, None),
        })
    }

    /// This client signing every call with `credentials`: it reads as that party.
    pub fn with_credentials(self, credentials: Credentials) -> Client {
        let Client { url, channel } = self;
        let channel = SignedChannel::new(channel.into_channel(), Some(credentials));
        Client { url, channel }
    }

    /// The credentials every call is signed with; `None` for an anonymous client.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.channel.credentials()
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn capture_client(&self) -> CaptureClient<SignedChannel> {
        CaptureClient::new(self.channel.clone())
            .max_decoding_message_size(RESPONSE_BYTES_MAX)
            .max_encoding_message_size(REQUEST_BYTES_MAX)
    }

    fn log_client(&self) -> LogClient<SignedChannel> {
        LogClient::new(self.channel.clone()).max_decoding_message_size(RESPONSE_BYTES_MAX)
    }

    fn verification_client(&self) -> VerificationClient<SignedChannel> {
        VerificationClient::new(self.channel.clone()).max_decoding_message_size(RESPONSE_BYTES_MAX)
    }

    /// Captures signed events as one atomic request: a receipt each, or a refusal of all.
    pub async fn capture(
        &self,
        events: Vec<pb::SignedEvent>,
    ) -> Result<Vec<pb::Receipt>, ClientError> {
        let request = pb::CaptureRequest { events };
        Ok(self
            .capture_client()
            .capture(request)
            .await?
            .into_inner()
            .receipts)
    }

    /// Submits a registry event (admit, suspend, reinstate, add or revoke a key).
    pub async fn submit_registry(
        &self,
        event: pb::SignedEvent,
    ) -> Result<pb::Receipt, ClientError> {
        let mut registry = RegistryClient::new(self.channel.clone())
            .max_encoding_message_size(SIGNED_EVENT_BYTES_MAX);
        Ok(registry.submit(event).await?.into_inner())
    }

    /// Asks for a verification answer, unchecked: see [`Client::verify_checked`].
    pub async fn verify(
        &self,
        question: pb::VerifyRequest,
    ) -> Result<pb::VerifyResponse, ClientError> {
        Ok(self
            .verification_client()
            .verify(question)
            .await?
            .into_inner())
    }

    /// A page of a lot's units, unchecked (a view for people who run the circuit).
    pub async fn lot_units(
        &self,
        request: pb::LotUnitsRequest,
    ) -> Result<pb::LotUnitsResponse, ClientError> {
        Ok(self
            .verification_client()
            .lot_units(request)
            .await?
            .into_inner())
    }

    /// A participant as the registry holds it, unchecked.
    pub async fn participant(&self, party: &str) -> Result<pb::Participant, ClientError> {
        let request = pb::GetParticipantRequest {
            party: party.to_owned(),
        };
        let mut registry = RegistryClient::new(self.channel.clone());
        Ok(registry.get_participant(request).await?.into_inner())
    }

    /// The latest signed checkpoint note, unchecked.
    pub async fn checkpoint(&self) -> Result<String, ClientError> {
        let request = pb::GetCheckpointRequest {};
        Ok(self
            .log_client()
            .get_checkpoint(request)
            .await?
            .into_inner()
            .checkpoint)
    }

    /// Log entries `[start, end)`, at most [`ENTRIES_PER_RESPONSE_MAX`], unchecked.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, ClientError> {
        let request = pb::GetEntriesRequest { start, end };
        Ok(self
            .log_client()
            .get_entries(request)
            .await?
            .into_inner()
            .entries)
    }

    /// The inclusion proof of entry `index` in the tree of `tree_size`, unchecked.
    pub async fn inclusion_proof(
        &self,
        index: u64,
        tree_size: u64,
    ) -> Result<Vec<Vec<u8>>, ClientError> {
        let request = pb::GetInclusionProofRequest {
            leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(index)),
            tree_size,
        };
        Ok(self
            .log_client()
            .get_inclusion_proof(request)
            .await?
            .into_inner()
            .hashes)
    }

    /// The consistency proof from the tree of `first` to the tree of `second`, unchecked.
    pub async fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Vec<Vec<u8>>, ClientError> {
        let request = pb::GetConsistencyProofRequest {
            first_size: first,
            second_size: second,
        };
        Ok(self
            .log_client()
            .get_consistency_proof(request)
            .await?
            .into_inner()
            .hashes)
    }

    /// Establishes trust in a log: fetches its checkpoint, its genesis entry and the proof
    /// that genesis is entry 0 of the checkpoint's tree, and checks that genesis names exactly
    /// `regulator_keys` and the key of `log_vkey`.
    pub async fn establish_trust(
        &self,
        regulator_keys: Vec<isnad_core::event::PublicKey>,
        log_vkey: &str,
    ) -> Result<Trust, CheckError> {
        let note = self.checkpoint().await?;
        let size = Checkpoint::from_note_unverified(&note)
            .map_err(TrustError::Checkpoint)?
            .size
            .0;
        let genesis = self.entries(0, 1).await?;
        let genesis = genesis
            .first()
            .ok_or_else(|| TrustError::GenesisDecode("the server sent no entry 0".to_owned()))?;
        let proof = self.inclusion_proof(0, size).await?;
        Ok(Trust::establish(
            regulator_keys,
            log_vkey,
            &note,
            genesis,
            &proof,
        )?)
    }

    /// Asks about `scan` (seen at `site`, if given) and proves the answer against `trust` at
    /// `now_unix_ms` before returning it.
    ///
    /// When the answer's checkpoint does not extend the pinned one, the server is asked once
    /// more for a consistency proof: a damaged proof is an error, a log that cannot prove
    /// consistency is a possible fork ([`CheckError::Fork`]), for the caller to record. A
    /// server whose tree is smaller than the pinned one is [`CheckError::Behind`].
    pub async fn verify_checked(
        &self,
        trust: &Trust,
        scan: &str,
        site: Option<&str>,
        now_unix_ms: i64,
    ) -> Result<Checked, CheckError> {
        let question = pb::VerifyRequest {
            scan: scan.to_owned(),
            verifier_site: site.unwrap_or_default().to_owned(),
            known_tree_size: trust.checkpoint().size.0,
        };
        let answer = match self.verify(question.clone()).await {
            Ok(answer) => answer,
            Err(ClientError::Refused(refusal)) if refusal.is(Reason::KnownSizeAhead) => {
                return Err(self.behind(trust).await);
            }
            Err(error) => return Err(error.into()),
        };
        match verify_answer(&question, &answer, trust, now_unix_ms) {
            Ok(verified) => Ok(Checked {
                question,
                answer,
                verified,
            }),
            Err(VerifyError::Inconsistent(inconsistency)) => {
                Err(self.confirm_fork(*inconsistency, now_unix_ms).await)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Asks about `scan` anonymously and returns the server's verdict unproven: the history is
    /// withheld from an anonymous caller. Only the checkpoint is checked: signed by the log key
    /// and extending the pinned one (a possible fork is [`CheckError::Fork`], as for
    /// [`Client::verify_checked`]). Nothing here may be recorded as evidence.
    pub async fn verify_unproven(
        &self,
        trust: &Trust,
        scan: &str,
        site: Option<&str>,
        now_unix_ms: i64,
    ) -> Result<Unproven, CheckError> {
        let question = pb::VerifyRequest {
            scan: scan.to_owned(),
            verifier_site: site.unwrap_or_default().to_owned(),
            known_tree_size: trust.checkpoint().size.0,
        };
        let answer = match self.verify(question.clone()).await {
            Ok(answer) => answer,
            Err(ClientError::Refused(refusal)) if refusal.is(Reason::KnownSizeAhead) => {
                return Err(self.behind(trust).await);
            }
            Err(error) => return Err(error.into()),
        };
        match verify_withheld_answer(&question, &answer, trust) {
            Ok(checkpoint) => Ok(Unproven { answer, checkpoint }),
            Err(VerifyError::Inconsistent(inconsistency)) => {
                Err(self.confirm_fork(*inconsistency, now_unix_ms).await)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Audits the server's whole log against `trust`: every entry re-checked and re-applied
    /// with the core's rules, the rebuilt tree checked against the server's checkpoint and the
    /// pinned one. `progress` is told the entries audited so far and the total.
    pub async fn audit(
        &self,
        trust: &Trust,
        mut progress: impl FnMut(u64, u64),
        now_unix_ms: i64,
    ) -> Result<AuditReport, CheckError> {
        let note = self.checkpoint().await?;
        let size = trust.verify_checkpoint(&note)?.size.0;
        if size < trust.checkpoint().size.0 {
            return Err(CheckError::Behind {
                server_size: size,
                pinned_size: trust.checkpoint().size.0,
            });
        }
        let mut auditor = Auditor::new(trust.clone());
        while auditor.audited() < size {
            let start = auditor.audited();
            let end = size.min(start + ENTRIES_PER_RESPONSE_MAX);
            let entries = self.entries(start, end).await?;
            if entries.len() as u64 != end - start {
                return Err(AuditError::WrongEntryCount {
                    start,
                    end,
                    sent: entries.len(),
                }
                .into());
            }
            auditor.append(&entries)?;
            progress(end, size);
        }
        let checkpoint = auditor.check_checkpoint(&note)?;
        if let Err(error) = auditor.check_pinned() {
            return Err(CheckError::Fork(Box::new(self.fork_evidence(
                trust.checkpoint_note(),
                &note,
                Vec::new(),
                error.to_string(),
                now_unix_ms,
            ))));
        }
        Ok(auditor.report(checkpoint, note))
    }

    /// The server refused to prove consistency from the pinned size, being smaller: its own
    /// checkpoint, once proven signed by the log key, says by how much.
    async fn behind(&self, trust: &Trust) -> CheckError {
        let note = match self.checkpoint().await {
            Ok(note) => note,
            Err(error) => return error.into(),
        };
        match trust.verify_checkpoint(&note) {
            Ok(checkpoint) => CheckError::Behind {
                server_size: checkpoint.size.0,
                pinned_size: trust.checkpoint().size.0,
            },
            Err(error) => error.into(),
        }
    }

    /// Asks the server for the consistency proof the answer lacked. A proof that verifies
    /// means only the answer was damaged; a smaller tree proves nothing either way (see
    /// [`CheckError::Behind`]); otherwise the fork stands.
    async fn confirm_fork(&self, inconsistency: Inconsistency, now_unix_ms: i64) -> CheckError {
        let sizes = (inconsistency.pinned_size, inconsistency.other_size);
        if sizes.1 < sizes.0 {
            return CheckError::Behind {
                server_size: sizes.1,
                pinned_size: sizes.0,
            };
        }
        if sizes.0 < sizes.1
            && let Ok(proof) = self.consistency_proof(sizes.0, sizes.1).await
            && consistent(&inconsistency, &proof)
        {
            return VerifyError::Inconsistent(Box::new(inconsistency)).into();
        }
        CheckError::Fork(Box::new(self.fork_evidence(
            &inconsistency.pinned_note,
            &inconsistency.other_note,
            inconsistency.proof.clone(),
            inconsistency.problem.clone(),
            now_unix_ms,
        )))
    }

    fn fork_evidence(
        &self,
        pinned: &str,
        other: &str,
        proof: Vec<Vec<u8>>,
        problem: String,
        now_unix_ms: i64,
    ) -> ForkEvidence {
        ForkEvidence {
            format: FORK_FORMAT.to_owned(),
            detected_unix_ms: now_unix_ms,
            server: self.url.clone(),
            pinned_checkpoint: pinned.to_owned(),
            other_checkpoint: other.to_owned(),
            consistency_proof: proof.iter().map(hex::encode).collect(),
            problem,
        }
    }
}

/// Whether `proof` shows the other checkpoint of `inconsistency` extends the pinned one. Both
/// notes were checked to be signed by the log key before.
fn consistent(inconsistency: &Inconsistency, proof: &[Vec<u8>]) -> bool {
    let parse = Checkpoint::from_note_unverified;
    let (Ok(pinned), Ok(other)) = (
        parse(&inconsistency.pinned_note),
        parse(&inconsistency.other_note),
    ) else {
        return false;
    };
    isnad_log::verify_consistency_bytes(pinned.size, other.size, proof, &pinned.root, &other.root)
        .is_ok()
}
