//! A small log for the verification targets: the scenario's entries encoded and signed as the
//! server does it, a Merkle tree over them, signed checkpoints, and verification answers
//! assembled the way the server assembles them. Its trust and questions are fixed, so the
//! same input always meets the same checks.

use std::sync::OnceLock;

use isnad_client::Trust;
use isnad_core::envelope;
use isnad_core::event::Item;
use isnad_core::scan::parse_scan;
use isnad_core::verdict::{HistoryEntry, HistoryKind, derive_verdict, malformed_scan_verdict};
use isnad_log::checkpoint::{Checkpoint, NoteSigner};
use isnad_log::{LeafIndex, MemNodeStore, TreeSize, TreeState};
use isnad_proto::convert::{reason_code_to_wire, unit_view_to_wire};
use isnad_proto::pb;

use crate::{Scenario, Who, signing_key};

/// The seed of the scenario's log key (see [`Scenario::bare`]).
const LOG_KEY_SEED: u8 = 99;

/// The tree size the answering client has pinned.
pub const PINNED_SIZE: u64 = 2;

/// The scenario and the log its entries make.
#[derive(Debug)]
pub struct FuzzLog {
    /// The scenario whose entries the log holds.
    pub scenario: Scenario,
    /// Every entry, encoded as the server stores it.
    pub entries: Vec<Vec<u8>>,
    /// The log's checkpoint signer (the scenario's log key).
    pub signer: NoteSigner,
    /// The label of a unit delivered to the distributor.
    pub label: String,
    nodes: MemNodeStore,
    tree: TreeState,
}

/// The one log the targets use, built on first use.
pub fn fuzz_log() -> &'static FuzzLog {
    static LOG: OnceLock<FuzzLog> = OnceLock::new();
    LOG.get_or_init(FuzzLog::new)
}

impl FuzzLog {
    /// A unit commissioned, shipped to the distributor and received; a unit of its lot left
    /// with the manufacturer, another destroyed by the distributor.
    fn new() -> FuzzLog {
        let mut scenario = Scenario::new();
        let units = scenario.commission("L1", &["S1", "S2", "S3"]);
        scenario.deliver(
            Who::Manufacturer,
            vec![Item::Unit(units[0].clone()), Item::Unit(units[2].clone())],
            Who::Distributor,
        );
        scenario.decommission(
            Who::Distributor,
            vec![Item::Unit(units[2].clone())],
            isnad_core::event::DecommissionReason::Destroyed,
        );
        let label = scenario.label(&units[0], "L1");
        let signer = NoteSigner::new(&scenario.genesis.origin, signing_key(LOG_KEY_SEED))
            .expect("the scenario's origin is a valid key name");
        let entries: Vec<Vec<u8>> = scenario
            .entries
            .iter()
            .map(|e| encode(&scenario, e))
            .collect();
        let nodes = MemNodeStore::new();
        let leaves: Vec<_> = entries.iter().map(|e| isnad_log::leaf_hash(e)).collect();
        let (tree, writes) =
            isnad_log::append(&nodes, &TreeState::empty(), &leaves).expect("in-memory append");
        let mut log = FuzzLog {
            scenario,
            entries,
            signer,
            label,
            nodes,
            tree,
        };
        log.nodes.apply(writes);
        log
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.tree.size.0
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

    /// Trust in the scenario's regulator and log, pinned at [`PINNED_SIZE`].
    pub fn trust(&self) -> Trust {
        Trust::new(
            vec![self.scenario.regulator.public_key()],
            &self.signer.vkey(),
            &self.checkpoint_at(PINNED_SIZE),
        )
        .expect("the log's own checkpoint is trusted")
    }

    /// The questions the verification target asks of every answer: the delivered unit from
    /// the distributor's site, the destroyed unit from nowhere, and a malformed scan.
    pub fn questions(&self) -> Vec<pb::VerifyRequest> {
        let destroyed = self.label.replace("(21)S1", "(21)S3");
        let site = self.scenario.distributor.site.to_string();
        [
            (self.label.clone(), site),
            (destroyed, String::new()),
            ("(01)12345".to_owned(), String::new()),
        ]
        .into_iter()
        .map(|(scan, verifier_site)| pb::VerifyRequest {
            scan,
            verifier_site,
            known_tree_size: PINNED_SIZE,
        })
        .collect()
    }

    /// The honest answer to `question` at the scenario's clock.
    pub fn answer(&self, question: &pb::VerifyRequest) -> pb::VerifyResponse {
        let size = self.tree.size;
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
                .expect("the questions' sites are valid")
        });
        let indexes = isnad_core::queries::history_for_scan(&self.scenario.state, &scan)
            .expect("in-memory state");
        let history = self.scenario.history(&scan);
        let verdict = derive_verdict(&scan, site.as_ref(), &history, self.scenario.clock_unix_ms)
            .expect("history replays");
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

/// The entry bytes the server would store for `entry`, events signed for the scenario's log.
fn encode(scenario: &Scenario, entry: &HistoryEntry) -> Vec<u8> {
    match &entry.kind {
        HistoryKind::Genesis(genesis) => envelope::encode_genesis_entry(
            entry.recorded_unix_ms,
            &isnad_proto::encode_genesis(genesis),
        ),
        HistoryKind::Event(event) => {
            let signer = entry.signer.expect("events have signers");
            let key = Who::ALL
                .iter()
                .map(|who| &scenario.actor(*who).signing_key)
                .find(|key| key.verifying_key().to_bytes() == signer.0)
                .expect("the scenario signs with its actors' keys");
            let body = isnad_proto::encode_event_body(event);
            let signature = envelope::sign(key, &scenario.genesis.origin, &body);
            envelope::encode_event_entry(entry.recorded_unix_ms, &signer.0, &signature, &body)
        }
    }
}
