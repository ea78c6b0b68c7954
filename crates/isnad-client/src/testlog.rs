//! An in-memory log for unit tests: the core's test scenario, with every entry encoded and
//! signed as the server does it, a Merkle tree over the entries, checkpoints signed with the
//! scenario's log key, and verification answers assembled the way the server assembles them.

use isnad_core::envelope;
use isnad_core::scan::parse_scan;
use isnad_core::verdict::{HistoryKind, derive_verdict, malformed_scan_verdict};
use isnad_log::checkpoint::{Checkpoint, NoteSigner};
use isnad_log::{LeafIndex, MemNodeStore, TreeSize, TreeState};
use isnad_proto::convert::{reason_code_to_wire, unit_view_to_wire};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who, signing_key};

use crate::trust::Trust;

/// The seed of the scenario's log key (see `isnad_testkit::Scenario::bare`).
const LOG_KEY_SEED: u8 = 99;

/// An alteration of one entry: its log index, and what to do to its bytes.
pub(crate) type EntryTamper = (u64, fn(&mut Vec<u8>));

/// A scenario and the log its entries make.
#[derive(Debug)]
pub(crate) struct TestLog {
    pub scenario: Scenario,
    pub entries: Vec<Vec<u8>>,
    nodes: MemNodeStore,
    tree: TreeState,
    signer: NoteSigner,
    /// An entry the log alters after encoding it, as a dishonest server would.
    tamper: Option<EntryTamper>,
    /// The origin events are signed for: the scenario's own, unless they were replayed from
    /// another deployment.
    signing_origin: String,
}

impl TestLog {
    /// The log of `scenario`'s entries so far.
    pub fn new(scenario: Scenario) -> TestLog {
        TestLog::tampered(scenario, None)
    }

    /// The log of `scenario`'s entries, with the entry at `tamper.0` altered by `tamper.1`
    /// before it is hashed into the tree: proofs of it hold, whatever the alteration broke.
    pub fn tampered(scenario: Scenario, tamper: Option<EntryTamper>) -> TestLog {
        let origin = scenario.genesis.origin.clone();
        TestLog::build(scenario, tamper, origin)
    }

    /// The log of `scenario`'s entries with every event signed for the log named `origin`, as
    /// if replayed from another deployment: genesis and checkpoints name the scenario's origin.
    pub fn signed_for(scenario: Scenario, origin: &str) -> TestLog {
        TestLog::build(scenario, None, origin.to_owned())
    }

    fn build(scenario: Scenario, tamper: Option<EntryTamper>, signing_origin: String) -> TestLog {
        let signer = NoteSigner::new(&scenario.genesis.origin, signing_key(LOG_KEY_SEED))
            .expect("the scenario's origin is a valid key name");
        let mut log = TestLog {
            signing_origin,
            scenario,
            entries: Vec::new(),
            nodes: MemNodeStore::new(),
            tree: TreeState::empty(),
            signer,
            tamper,
        };
        log.sync();
        log
    }

    /// Encodes, signs and appends the scenario's entries added since the last call.
    pub fn sync(&mut self) {
        let mut added: Vec<Vec<u8>> = self.scenario.entries[self.entries.len()..]
            .iter()
            .map(|entry| self.encode(entry))
            .collect();
        if let Some((index, alter)) = self.tamper
            && let Some(entry) = (index as usize)
                .checked_sub(self.entries.len())
                .and_then(|position| added.get_mut(position))
        {
            alter(entry);
        }
        if added.is_empty() {
            return;
        }
        let leaves: Vec<_> = added.iter().map(|e| isnad_log::leaf_hash(e)).collect();
        let (tree, writes) =
            isnad_log::append(&self.nodes, &self.tree, &leaves).expect("in-memory append");
        self.nodes.apply(writes);
        self.tree = tree;
        self.entries.extend(added);
    }

    fn encode(&self, entry: &isnad_core::verdict::HistoryEntry) -> Vec<u8> {
        match &entry.kind {
            HistoryKind::Genesis(genesis) => envelope::encode_genesis_entry(
                entry.recorded_unix_ms,
                &isnad_proto::encode_genesis(genesis),
            ),
            HistoryKind::Event(event) => {
                let signer = entry.signer.expect("events have signers");
                let key = Who::ALL
                    .iter()
                    .map(|who| &self.scenario.actor(*who).signing_key)
                    .find(|key| key.verifying_key().to_bytes() == signer.0)
                    .expect("the scenario signs with its actors' keys");
                let body = isnad_proto::encode_event_body(event);
                let signature = envelope::sign(key, &self.signing_origin, &body);
                envelope::encode_event_entry(entry.recorded_unix_ms, &signer.0, &signature, &body)
            }
        }
    }

    /// The current tree size.
    pub fn size(&self) -> u64 {
        self.tree.size.0
    }

    /// The log's verifier key string.
    pub fn vkey(&self) -> String {
        self.signer.vkey()
    }

    /// The signed checkpoint of the tree of `size` leaves.
    pub fn checkpoint_at(&self, size: u64) -> String {
        let root = isnad_log::root(&self.nodes, TreeSize(size)).expect("size within the tree");
        self.signer.sign(&Checkpoint {
            origin: self.signer.name().to_owned(),
            size: TreeSize(size),
            root,
            extensions: Vec::new(),
        })
    }

    /// Trust in the scenario's regulator and log, pinned at `size`.
    pub fn trust_at(&self, size: u64) -> Trust {
        Trust::new(
            vec![self.scenario.regulator.public_key()],
            &self.vkey(),
            &self.checkpoint_at(size),
        )
        .expect("the log's own checkpoint is trusted")
    }

    /// The question a client pinned at `known_size` asks about `scan`.
    pub fn question(&self, scan: &str, site: Option<&str>, known_size: u64) -> pb::VerifyRequest {
        pb::VerifyRequest {
            scan: scan.to_owned(),
            verifier_site: site.unwrap_or_default().to_owned(),
            known_tree_size: known_size,
        }
    }

    /// The answer the server gives to `question` at `now_unix_ms`.
    pub fn answer(&self, question: &pb::VerifyRequest, now_unix_ms: i64) -> pb::VerifyResponse {
        let size = TreeSize(self.size());
        let known = TreeSize(question.known_tree_size);
        let mut response = pb::VerifyResponse {
            checkpoint: self.checkpoint_at(size.0),
            consistency_from: known.0,
            consistency_proof: isnad_log::consistency_proof(&self.nodes, known, size)
                .expect("sizes within the tree")
                .iter()
                .map(|hash| hash.to_vec())
                .collect(),
            ..Default::default()
        };
        let scan = match parse_scan(&question.scan) {
            Ok(scan) => scan,
            Err(error) => {
                let verdict = malformed_scan_verdict();
                response.verdict = reason_code_to_wire(verdict.verdict) as i32;
                response.reasons = vec![response.verdict];
                response.scan_error = error.to_string();
                return response;
            }
        };
        let site = (!question.verifier_site.is_empty()).then(|| {
            question
                .verifier_site
                .parse()
                .expect("test sites are valid")
        });
        let indexes = isnad_core::queries::history_for_scan(&self.scenario.state, &scan)
            .expect("in-memory state");
        let history = self.scenario.history(&scan);
        let verdict =
            derive_verdict(&scan, site.as_ref(), &history, now_unix_ms).expect("history replays");
        response.verdict = reason_code_to_wire(verdict.verdict) as i32;
        response.reasons = verdict
            .reasons
            .iter()
            .map(|reason| reason_code_to_wire(*reason) as i32)
            .collect();
        response.state = verdict.state.as_ref().map(unit_view_to_wire);
        response.history = self.proven(&indexes.events);
        response.authorizations = self.proven(&indexes.authorizations);
        response
    }

    fn proven(&self, indexes: &[u64]) -> Vec<pb::ProvenEntry> {
        indexes
            .iter()
            .map(|&index| pb::ProvenEntry {
                index,
                entry: self.entries[index as usize].clone(),
                inclusion_proof: isnad_log::inclusion_proof(
                    &self.nodes,
                    LeafIndex(index),
                    self.tree.size,
                )
                .expect("index within the tree")
                .iter()
                .map(|hash| hash.to_vec())
                .collect(),
            })
            .collect()
    }
}
