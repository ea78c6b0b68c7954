//! An independent auditor of the log: it rebuilds the Merkle tree from every entry the server
//! serves, checks it against the server's signed checkpoint and the pinned one, verifies every
//! event's signature and re-applies every event, in log order, with the executor's own rules.
//! Any entry the service should not have accepted is reported as a [`Finding`].
//!
//! A refused entry is reported and not applied, so later entries are judged against the state
//! an honest service would have had.

use isnad_core::envelope::{self, EntryKind, EnvelopeError};
use isnad_core::event::PublicKey;
use isnad_core::rules::{self, ApplyError, Context, Rejection};
use isnad_core::state::{MemState, StorageError};
use isnad_core::verdict::HistoryKind;
use isnad_log::checkpoint::Checkpoint;
use isnad_log::{LogError, MemNodeStore, TreeSize, TreeState};

use crate::trust::{Trust, TrustError};

/// An entry the service should not have accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The entry's log index.
    pub index: u64,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The entry's framing, body or genesis message does not decode.
    #[error("the entry does not decode: {0}")]
    Malformed(String),
    /// Entry 0 is not the pinned genesis, or a later entry is a genesis entry.
    #[error("{0}")]
    Genesis(String),
    /// The event's signature does not verify over its body.
    #[error("the signature does not verify: {0}")]
    Signature(EnvelopeError),
    /// The executor's rules refuse the event, given every entry before it.
    #[error("the rules refuse it: {0}")]
    Refused(Rejection),
    /// The entry's recorded time is before the previous entry's.
    #[error("recorded at {recorded_unix_ms} ms, before the previous entry's {previous_unix_ms} ms")]
    TimeWentBack {
        /// This entry's recorded time.
        recorded_unix_ms: i64,
        /// The previous entry's recorded time.
        previous_unix_ms: i64,
    },
}

/// Why an audit could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The server's checkpoint is not signed by the pinned log key.
    #[error("the checkpoint is refused: {0}")]
    Checkpoint(TrustError),
    /// A checkpoint names a larger tree than the entries audited.
    #[error("the checkpoint is of tree size {size}, but only {audited} entries were audited")]
    BeyondAudited {
        /// The checkpoint's size.
        size: u64,
        /// Entries audited.
        audited: u64,
    },
    /// The entries served do not hash to the checkpoint's root.
    #[error("the entries served do not hash to the root of the server's checkpoint of size {size}")]
    RootMismatch {
        /// The checkpoint's size.
        size: u64,
    },
    /// The entries served do not hash to the pinned checkpoint's root: this log is not the
    /// one the client pinned.
    #[error(
        "the entries served do not hash to the pinned checkpoint's root at tree size {size}: \
         possible split view (fork)"
    )]
    PinnedRootMismatch {
        /// The pinned checkpoint's size.
        size: u64,
    },
    /// The server sent another number of entries than asked for.
    #[error("asked for entries {start}..{end}, the server sent {sent}")]
    WrongEntryCount {
        /// The first index asked for.
        start: u64,
        /// One past the last index asked for.
        end: u64,
        /// Entries received.
        sent: usize,
    },
    /// The rebuilt tree failed: a bug.
    #[error("the rebuilt tree failed: {0}")]
    Tree(LogError),
    /// The replayed state failed: a bug.
    #[error("entry {index}: the replayed state failed: {error}")]
    Replay {
        /// The entry being applied.
        index: u64,
        /// What failed.
        error: StorageError,
    },
}

/// What an audit of a whole log found.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// The server's checkpoint the audit reached, proven to match every entry audited.
    pub checkpoint: Checkpoint,
    /// The same checkpoint as a signed note.
    pub checkpoint_note: String,
    /// Entries audited.
    pub entries: u64,
    /// Events audited (every entry after genesis).
    pub events: u64,
    /// Every entry the service should not have accepted.
    pub findings: Vec<Finding>,
}

/// The auditor's state: the rebuilt tree, the replayed ledger state and what it found.
#[derive(Debug)]
pub struct Auditor {
    trust: Trust,
    nodes: MemNodeStore,
    tree: TreeState,
    state: MemState,
    last_recorded_unix_ms: Option<i64>,
    events: u64,
    findings: Vec<Finding>,
}

impl Auditor {
    /// An auditor of the log `trust` pins, before its first entry.
    pub fn new(trust: Trust) -> Auditor {
        Auditor {
            trust,
            nodes: MemNodeStore::new(),
            tree: TreeState::empty(),
            state: MemState::new(),
            last_recorded_unix_ms: None,
            events: 0,
            findings: Vec::new(),
        }
    }

    /// Entries audited so far.
    pub fn audited(&self) -> u64 {
        self.tree.size.0
    }

    /// Events (entries after genesis) audited so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// What the audit found so far, in log order.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Audits the next entries of the log, in order.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<(), AuditError> {
        let first = self.tree.size.0;
        let leaves: Vec<_> = entries.iter().map(|e| isnad_log::leaf_hash(e)).collect();
        let (tree, writes) =
            isnad_log::append(&self.nodes, &self.tree, &leaves).map_err(AuditError::Tree)?;
        self.nodes.apply(writes);
        self.tree = tree;
        for (offset, entry) in entries.iter().enumerate() {
            let index = first + offset as u64;
            if let Err(problem) = self.apply(index, entry)? {
                self.findings.push(Finding { index, problem });
            }
        }
        Ok(())
    }

    /// Checks a checkpoint note: signed by the log key, and its root is the root of the
    /// entries audited up to its size.
    pub fn check_checkpoint(&self, note: &str) -> Result<Checkpoint, AuditError> {
        let checkpoint = self
            .trust
            .verify_checkpoint(note)
            .map_err(AuditError::Checkpoint)?;
        let size = checkpoint.size.0;
        if self.root_at(size)? != checkpoint.root {
            return Err(AuditError::RootMismatch { size });
        }
        Ok(checkpoint)
    }

    /// The report once the audit has reached `checkpoint` (checked by
    /// [`Auditor::check_checkpoint`]).
    pub fn report(self, checkpoint: Checkpoint, checkpoint_note: String) -> AuditReport {
        AuditReport {
            checkpoint,
            checkpoint_note,
            entries: self.tree.size.0,
            events: self.events,
            findings: self.findings,
        }
    }

    /// Checks that the entries audited hash to the pinned checkpoint's root at its size.
    pub fn check_pinned(&self) -> Result<(), AuditError> {
        let pinned = self.trust.checkpoint();
        if self.root_at(pinned.size.0)? != pinned.root {
            return Err(AuditError::PinnedRootMismatch {
                size: pinned.size.0,
            });
        }
        Ok(())
    }

    fn root_at(&self, size: u64) -> Result<isnad_log::Hash, AuditError> {
        if size > self.tree.size.0 {
            return Err(AuditError::BeyondAudited {
                size,
                audited: self.tree.size.0,
            });
        }
        isnad_log::root(&self.nodes, TreeSize(size)).map_err(AuditError::Tree)
    }

    /// Checks and applies one entry. The outer error is a failure of the audit itself, the
    /// inner one a finding about the entry.
    fn apply(&mut self, index: u64, entry: &[u8]) -> Result<Result<(), Problem>, AuditError> {
        let decoded = match isnad_proto::convert::decode_history_entry(index, entry) {
            Ok(decoded) => decoded,
            Err(error) => return Ok(Err(Problem::Malformed(error.to_string()))),
        };
        let recorded = decoded.recorded_unix_ms;
        if let Some(previous) = self.last_recorded_unix_ms
            && recorded < previous
        {
            self.findings.push(Finding {
                index,
                problem: Problem::TimeWentBack {
                    recorded_unix_ms: recorded,
                    previous_unix_ms: previous,
                },
            });
        }
        self.last_recorded_unix_ms = Some(recorded);
        match (index, decoded.kind) {
            (0, HistoryKind::Genesis(genesis)) => {
                if let Err(mismatch) = self.trust.check_genesis(&genesis) {
                    return Ok(Err(Problem::Genesis(mismatch.to_string())));
                }
                let context = Context {
                    index: 0,
                    recorded_unix_ms: recorded,
                    signer: genesis.log_public_key,
                };
                self.state.apply(&rules::apply_genesis(&genesis, &context));
                Ok(Ok(()))
            }
            (0, HistoryKind::Event(_)) => Ok(Err(Problem::Genesis(
                "entry 0 is an event, not the genesis entry".to_owned(),
            ))),
            (_, HistoryKind::Genesis(_)) => {
                Ok(Err(Problem::Genesis("a second genesis entry".to_owned())))
            }
            (_, HistoryKind::Event(event)) => {
                self.events += 1;
                if let Err(problem) = check_signature(self.trust.origin(), entry) {
                    return Ok(Err(problem));
                }
                let signer = decoded.signer.unwrap_or(PublicKey([0; 32]));
                let context = Context {
                    index,
                    recorded_unix_ms: recorded,
                    signer,
                };
                match rules::apply(&self.state, &event, &context) {
                    Ok(writes) => {
                        self.state.apply(&writes);
                        Ok(Ok(()))
                    }
                    Err(ApplyError::Rejected(rejection)) => Ok(Err(Problem::Refused(rejection))),
                    Err(ApplyError::Storage(error)) => Err(AuditError::Replay { index, error }),
                }
            }
        }
    }
}

/// Verifies an event entry's signature for the pinned log's origin.
fn check_signature(origin: &str, entry: &[u8]) -> Result<(), Problem> {
    let decoded = envelope::decode_entry(entry).map_err(|e| Problem::Malformed(e.to_string()))?;
    match decoded.kind {
        EntryKind::Genesis { .. } => Ok(()),
        EntryKind::Event {
            public_key,
            signature,
            body,
        } => envelope::verify(origin, &public_key, &signature, body).map_err(Problem::Signature),
    }
}

#[cfg(test)]
mod tests {
    use isnad_core::event::Item;
    use isnad_core::rules::RejectCode;
    use isnad_testkit::{Scenario, Who};

    use super::*;
    use crate::testlog::TestLog;

    /// A circuit: commission, ship, receive.
    fn scenario() -> Scenario {
        scenario_of(["S1", "S2"])
    }

    /// The same circuit with other serials.
    fn scenario_of(serials: [&str; 2]) -> Scenario {
        let mut scenario = Scenario::new();
        let units = scenario.commission("L1", &serials);
        scenario.deliver(
            Who::Manufacturer,
            vec![Item::Unit(units[0].clone())],
            Who::Distributor,
        );
        scenario
    }

    fn audit(log: &TestLog, pinned: u64) -> Auditor {
        let mut auditor = Auditor::new(log.trust_at(pinned));
        for chunk in log.entries.chunks(3) {
            auditor.append(chunk).expect("the audit runs");
        }
        auditor
    }

    #[test]
    fn an_honest_log_has_no_findings() {
        let log = TestLog::new(scenario());
        let auditor = audit(&log, 4);
        assert_eq!(auditor.findings(), []);
        assert_eq!(auditor.audited(), log.size());
        assert_eq!(auditor.events(), log.size() - 1);
        let checkpoint = auditor
            .check_checkpoint(&log.checkpoint_at(log.size()))
            .expect("the checkpoint matches the entries");
        assert_eq!(checkpoint.size.0, log.size());
        auditor
            .check_pinned()
            .expect("the pinned checkpoint matches");
    }

    #[test]
    fn an_entry_the_rules_refuse_is_found_and_not_applied() {
        let mut scenario = scenario();
        // The hospital ships a unit it never received: refused by the rules, so the scenario
        // cannot submit it; plant it in the log as a dishonest service would.
        let unit = scenario.unit("S2");
        let payload = scenario.ship_payload(vec![Item::Unit(unit)], Who::Distributor);
        let event = scenario.event(Who::Hospital, payload);
        let planted = scenario.entries.len() as u64;
        scenario.entries.push(isnad_core::verdict::HistoryEntry {
            index: planted,
            recorded_unix_ms: scenario.clock_unix_ms,
            signer: Some(scenario.hospital.public_key()),
            kind: HistoryKind::Event(event),
        });
        let log = TestLog::new(scenario);
        let auditor = audit(&log, 1);
        let [finding] = auditor.findings() else {
            panic!("expected one finding, got {:?}", auditor.findings());
        };
        assert_eq!(finding.index, planted);
        assert!(
            matches!(&finding.problem, Problem::Refused(r) if r.code == RejectCode::NotHolder),
            "{}",
            finding.problem
        );
    }

    #[test]
    fn a_bad_signature_is_found() {
        let log = TestLog::tampered(scenario(), Some((6, |entry| entry[70] ^= 1)));
        let auditor = audit(&log, 1);
        let problems: Vec<_> = auditor.findings().iter().map(|f| f.index).collect();
        // The commission is not applied, so the shipment and receipt of its unit that follow
        // are refused too.
        assert_eq!(problems, [6, 7, 8]);
        assert!(matches!(
            auditor.findings()[0].problem,
            Problem::Signature(_)
        ));
        assert!(matches!(
            &auditor.findings()[1].problem,
            Problem::Refused(r) if r.code == RejectCode::UnknownUnit
        ));
    }

    #[test]
    fn events_signed_for_another_log_are_found() {
        let log = TestLog::signed_for(scenario(), "isnad.sante.gov.ma/log");
        let auditor = audit(&log, 1);
        let first = auditor.findings().first().expect("findings");
        assert_eq!(first.index, 1, "the first event");
        assert!(matches!(
            first.problem,
            Problem::Signature(EnvelopeError::SignatureInvalid)
        ));
        assert!(audit(&TestLog::new(scenario()), 1).findings().is_empty());
    }

    #[test]
    fn checkpoints_of_other_entries_are_refused() {
        let log = TestLog::new(scenario());
        let other = TestLog::new(scenario_of(["S3", "S4"]));
        assert_eq!(log.size(), other.size());
        let auditor = audit(&log, 1);
        let error = auditor
            .check_checkpoint(&other.checkpoint_at(log.size()))
            .expect_err("refused");
        assert!(matches!(error, AuditError::RootMismatch { .. }), "{error}");
        let mut longer = other.scenario.clone();
        longer.commission("L2", &["S5"]);
        let longer = TestLog::new(longer);
        let error = auditor
            .check_checkpoint(&longer.checkpoint_at(longer.size()))
            .expect_err("refused");
        assert!(matches!(error, AuditError::BeyondAudited { .. }), "{error}");

        let mut pinned_elsewhere = Auditor::new(other.trust_at(other.size()));
        pinned_elsewhere
            .append(&log.entries)
            .expect("the audit runs");
        let error = pinned_elsewhere.check_pinned().expect_err("refused");
        assert!(
            matches!(error, AuditError::PinnedRootMismatch { .. }),
            "{error}"
        );
    }
}
