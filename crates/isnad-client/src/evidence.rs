//! Evidence files: a verification answer kept whole, so that anyone can re-check it later with
//! no network, for a report or a court.
//!
//! An evidence file is JSON. It holds the question asked, the answer exactly as proven (entry
//! bytes in base64, proof hashes in hex, the signed checkpoint note as text), the trust the
//! client held (regulator root keys, log verifier key, pinned checkpoint) and the time of the
//! check. Re-checking it runs [`crate::verify::verify_answer`] again at that time, so the
//! verdict it proves is the one shown then. The `summary` is for people reading the file; it is
//! re-derived and must match.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use isnad_proto::pb;
use serde::{Deserialize, Serialize};

use crate::trust::{Trust, TrustError, TrustFile, write_json_atomically};
use crate::verify::{VerifiedAnswer, VerifyError, verify_answer};

/// The `format` field of an evidence file.
pub const EVIDENCE_FORMAT: &str = "isnad-evidence/v1";

/// The longest evidence file read, in bytes: the largest answer (64 MiB of protobuf) grows by
/// about a third in base64 and hex.
pub const EVIDENCE_FILE_LEN_MAX: u64 = 128 * 1024 * 1024;

/// Why an evidence file is refused.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The file is not an evidence file: bad JSON, unknown format, a field that does not
    /// decode.
    #[error("not a valid evidence file: {0}")]
    Format(String),
    /// The trust recorded in the file does not hold (a pinned checkpoint not signed by the log
    /// key, a malformed key).
    #[error("the trust recorded in the evidence is refused: {0}")]
    Trust(TrustError),
    /// The file names other trust anchors than the ones this client pinned.
    #[error("the evidence names {what} {found}, but this client trusts {expected}")]
    Anchors {
        /// Which anchor differs.
        what: &'static str,
        /// What the client trusts.
        expected: String,
        /// What the file names.
        found: String,
    },
    /// The answer does not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The summary does not say what the answer proves.
    #[error("the summary says {written}, but the answer proves {proven}")]
    Summary {
        /// The summary's verdict and reasons.
        written: String,
        /// The proven verdict and reasons.
        proven: String,
    },
}

/// A verification answer kept for later, with everything needed to re-check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Always [`EVIDENCE_FORMAT`].
    pub format: String,
    /// When the answer was verified, milliseconds since the Unix epoch: the verdict is
    /// re-derived at this time.
    pub verified_at_unix_ms: i64,
    /// The server that answered (for the record; nothing depends on it).
    pub server: String,
    /// What the answer proves, for people reading the file.
    pub summary: Summary,
    /// The trust the client held: the answer is checked against it.
    pub trust: TrustFile,
    /// The question asked.
    pub question: Question,
    /// The answer, as proven.
    pub answer: Answer,
}

/// What the answer proves, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// The verdict's reason code name, such as `GENUINE`.
    pub verdict: String,
    /// Every reason found, most serious first.
    pub reasons: Vec<String>,
    /// The size of the tree the answer is proven against.
    pub tree_size: u64,
}

/// The question of an answer (`isnad.v1.VerifyRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The scan as read.
    pub scan: String,
    /// Where the verifier stood (location GLN), or empty.
    pub verifier_site: String,
    /// The pinned checkpoint's size.
    pub known_tree_size: u64,
}

/// The answer (`isnad.v1.VerifyResponse`), with bytes as base64 and hashes as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The server's verdict.
    pub verdict: String,
    /// The server's reasons.
    pub reasons: Vec<String>,
    /// The server's unit state, when the unit is known.
    pub state: Option<UnitState>,
    /// The signed checkpoint note.
    pub checkpoint: String,
    /// The size the consistency proof starts from.
    pub consistency_from: u64,
    /// The consistency proof, hex hashes.
    pub consistency_proof: Vec<String>,
    /// The unit's events.
    pub history: Vec<ProvenEntry>,
    /// Genesis and the registry entries that authorize each signer.
    pub authorizations: Vec<ProvenEntry>,
    /// The parse error, for a malformed scan.
    pub scan_error: String,
}

/// A log entry with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenEntry {
    /// The entry's log index.
    pub index: u64,
    /// The entry bytes exactly as hashed, base64.
    pub entry: String,
    /// The inclusion proof, hex hashes.
    pub inclusion_proof: Vec<String>,
}

/// A unit's state as the server gave it (`isnad.v1.UnitState`), enums by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitState {
    /// GTIN-14.
    pub gtin: String,
    /// Serial.
    pub serial: String,
    /// Lot.
    pub lot: String,
    /// Expiry, YYMMDD.
    pub expiry: String,
    /// `UNIT_ACTIVE`, `UNIT_IN_TRANSIT`, ...
    pub status: String,
    /// The holder's party GLN.
    pub holder: String,
    /// The holder's site.
    pub site: String,
    /// The SSCC holding the unit, or empty.
    pub container: String,
    /// While in transit: the addressee.
    pub destination_party: String,
    /// While in transit: the addressee's site.
    pub destination_site: String,
    /// `USED`, `DISPENSED`, ... or `DECOMMISSION_REASON_UNSPECIFIED`.
    pub decommission_reason: String,
}

impl Evidence {
    /// Keeps an answer that `verified` proved, with the trust it was checked against.
    pub fn new(
        server: &str,
        question: &pb::VerifyRequest,
        answer: &pb::VerifyResponse,
        trust: &Trust,
        verified: &VerifiedAnswer,
        verified_at_unix_ms: i64,
    ) -> Evidence {
        Evidence {
            format: EVIDENCE_FORMAT.to_owned(),
            verified_at_unix_ms,
            server: server.to_owned(),
            summary: summary_of(verified),
            trust: trust.to_file(),
            question: Question {
                scan: question.scan.clone(),
                verifier_site: question.verifier_site.clone(),
                known_tree_size: question.known_tree_size,
            },
            answer: Answer::from_wire(answer),
        }
    }

    /// Re-checks the whole answer offline, at the time it was first verified.
    pub fn verify(&self) -> Result<VerifiedAnswer, EvidenceError> {
        if self.format != EVIDENCE_FORMAT {
            return Err(EvidenceError::Format(format!("format {:?}", self.format)));
        }
        let trust = Trust::from_file(&self.trust).map_err(EvidenceError::Trust)?;
        let verified = verify_answer(
            &self.question(),
            &self.answer.to_wire()?,
            &trust,
            self.verified_at_unix_ms,
        )?;
        let proven = summary_of(&verified);
        if proven != self.summary {
            return Err(EvidenceError::Summary {
                written: describe(&self.summary),
                proven: describe(&proven),
            });
        }
        Ok(verified)
    }

    /// Checks that the file names the same regulator keys and log key as `trust`: evidence
    /// made against another trust root proves nothing to this client.
    pub fn check_anchors(&self, trust: &Trust) -> Result<(), EvidenceError> {
        let ours = trust.to_file();
        if ours.log_vkey != self.trust.log_vkey {
            return Err(EvidenceError::Anchors {
                what: "log key",
                expected: ours.log_vkey,
                found: self.trust.log_vkey.clone(),
            });
        }
        let mut theirs = self.trust.regulator_keys.clone();
        theirs.sort();
        if ours.regulator_keys != theirs {
            return Err(EvidenceError::Anchors {
                what: "regulator keys",
                expected: ours.regulator_keys.join(", "),
                found: theirs.join(", "),
            });
        }
        Ok(())
    }

    /// The question, as sent.
    pub fn question(&self) -> pb::VerifyRequest {
        pb::VerifyRequest {
            scan: self.question.scan.clone(),
            verifier_site: self.question.verifier_site.clone(),
            known_tree_size: self.question.known_tree_size,
        }
    }

    /// Reads an evidence file.
    pub fn read(path: &Path) -> Result<Evidence, EvidenceError> {
        let io = |error| EvidenceError::Io {
            path: path.to_owned(),
            error,
        };
        let mut text = String::new();
        File::open(path)
            .map_err(io)?
            .take(EVIDENCE_FILE_LEN_MAX + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > EVIDENCE_FILE_LEN_MAX {
            return Err(EvidenceError::Format(format!(
                "longer than {EVIDENCE_FILE_LEN_MAX} bytes"
            )));
        }
        serde_json::from_str(&text).map_err(|e| EvidenceError::Format(e.to_string()))
    }

    /// Writes the evidence file atomically (a crash leaves no half-written file).
    pub fn write(&self, path: &Path) -> Result<(), EvidenceError> {
        write_json_atomically(path, self).map_err(|error| match error {
            TrustError::Io { path, error } => EvidenceError::Io { path, error },
            other => EvidenceError::Format(other.to_string()),
        })
    }
}

impl Answer {
    /// The JSON form of a wire answer.
    pub fn from_wire(answer: &pb::VerifyResponse) -> Answer {
        Answer {
            verdict: reason_name(answer.verdict),
            reasons: answer.reasons.iter().map(|r| reason_name(*r)).collect(),
            state: answer.state.as_ref().map(UnitState::from_wire),
            checkpoint: answer.checkpoint.clone(),
            consistency_from: answer.consistency_from,
            consistency_proof: answer.consistency_proof.iter().map(hex::encode).collect(),
            history: answer.history.iter().map(ProvenEntry::from_wire).collect(),
            authorizations: answer
                .authorizations
                .iter()
                .map(ProvenEntry::from_wire)
                .collect(),
            scan_error: answer.scan_error.clone(),
        }
    }

    /// The wire answer back, exactly as it was.
    pub fn to_wire(&self) -> Result<pb::VerifyResponse, EvidenceError> {
        Ok(pb::VerifyResponse {
            verdict: reason_value(&self.verdict)?,
            reasons: self
                .reasons
                .iter()
                .map(|r| reason_value(r))
                .collect::<Result<_, _>>()?,
            state: self.state.as_ref().map(UnitState::to_wire).transpose()?,
            checkpoint: self.checkpoint.clone(),
            consistency_from: self.consistency_from,
            consistency_proof: hashes("consistency_proof", &self.consistency_proof)?,
            history: entries_to_wire(&self.history)?,
            authorizations: entries_to_wire(&self.authorizations)?,
            scan_error: self.scan_error.clone(),
            // Evidence is made of proven answers only, never of one whose history was withheld.
            history_withheld: false,
        })
    }
}

impl ProvenEntry {
    fn from_wire(proven: &pb::ProvenEntry) -> ProvenEntry {
        ProvenEntry {
            index: proven.index,
            entry: STANDARD.encode(&proven.entry),
            inclusion_proof: proven.inclusion_proof.iter().map(hex::encode).collect(),
        }
    }

    fn to_wire(&self) -> Result<pb::ProvenEntry, EvidenceError> {
        let entry = STANDARD.decode(&self.entry).map_err(|_| {
            EvidenceError::Format(format!("entry {}: the entry is not base64", self.index))
        })?;
        Ok(pb::ProvenEntry {
            index: self.index,
            entry,
            inclusion_proof: hashes(
                &format!("entry {}'s inclusion proof", self.index),
                &self.inclusion_proof,
            )?,
        })
    }
}

impl UnitState {
    fn from_wire(state: &pb::UnitState) -> UnitState {
        let status = pb::UnitStatus::try_from(state.status)
            .map(|s| s.as_str_name().to_owned())
            .unwrap_or_else(|_| state.status.to_string());
        let reason = pb::DecommissionReason::try_from(state.decommission_reason)
            .map(|r| r.as_str_name().to_owned())
            .unwrap_or_else(|_| state.decommission_reason.to_string());
        UnitState {
            gtin: state.gtin.clone(),
            serial: state.serial.clone(),
            lot: state.lot.clone(),
            expiry: state.expiry.clone(),
            status,
            holder: state.holder.clone(),
            site: state.site.clone(),
            container: state.container.clone(),
            destination_party: state.destination_party.clone(),
            destination_site: state.destination_site.clone(),
            decommission_reason: reason,
        }
    }

    fn to_wire(&self) -> Result<pb::UnitState, EvidenceError> {
        let status = pb::UnitStatus::from_str_name(&self.status)
            .ok_or_else(|| EvidenceError::Format(format!("unit status {:?}", self.status)))?;
        let reason =
            pb::DecommissionReason::from_str_name(&self.decommission_reason).ok_or_else(|| {
                EvidenceError::Format(format!(
                    "decommission reason {:?}",
                    self.decommission_reason
                ))
            })?;
        Ok(pb::UnitState {
            gtin: self.gtin.clone(),
            serial: self.serial.clone(),
            lot: self.lot.clone(),
            expiry: self.expiry.clone(),
            status: status as i32,
            holder: self.holder.clone(),
            site: self.site.clone(),
            container: self.container.clone(),
            destination_party: self.destination_party.clone(),
            destination_site: self.destination_site.clone(),
            decommission_reason: reason as i32,
        })
    }
}

fn summary_of(verified: &VerifiedAnswer) -> Summary {
    Summary {
        verdict: verified.verdict.verdict.as_str().to_owned(),
        reasons: verified
            .verdict
            .reasons
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        tree_size: verified.checkpoint.size.0,
    }
}

fn describe(summary: &Summary) -> String {
    format!(
        "{} [{}] at tree size {}",
        summary.verdict,
        summary.reasons.join(", "),
        summary.tree_size
    )
}

fn reason_name(value: i32) -> String {
    pb::ReasonCode::try_from(value)
        .map(|code| code.as_str_name().to_owned())
        .unwrap_or_else(|_| value.to_string())
}

fn reason_value(name: &str) -> Result<i32, EvidenceError> {
    pb::ReasonCode::from_str_name(name)
        .map(|code| code as i32)
        .ok_or_else(|| EvidenceError::Format(format!("reason code {name:?}")))
}

fn hashes(what: &str, text: &[String]) -> Result<Vec<Vec<u8>>, EvidenceError> {
    text.iter()
        .map(|hash| {
            hex::decode(hash)
                .map_err(|_| EvidenceError::Format(format!("{what}: {hash:?} is not hex")))
        })
        .collect()
}

fn entries_to_wire(entries: &[ProvenEntry]) -> Result<Vec<pb::ProvenEntry>, EvidenceError> {
    entries.iter().map(ProvenEntry::to_wire).collect()
}

#[cfg(test)]
mod tests {
    use isnad_core::event::Item;
    use isnad_testkit::{Scenario, Who};

    use super::*;
    use crate::testlog::TestLog;

    /// Evidence of a delivered unit's verification, pinned at tree size 2.
    fn evidence() -> (TestLog, Evidence) {
        let mut scenario = Scenario::new();
        let units = scenario.commission("L1", &["S1"]);
        scenario.deliver(
            Who::Manufacturer,
            vec![Item::Unit(units[0].clone())],
            Who::Distributor,
        );
        let label = scenario.label(&units[0], "L1");
        let log = TestLog::new(scenario);
        let now = log.scenario.clock_unix_ms;
        let question = log.question(&label, None, 2);
        let answer = log.answer(&question, now);
        let trust = log.trust_at(2);
        let verified = verify_answer(&question, &answer, &trust, now).expect("verifies");
        let evidence = Evidence::new("http://test", &question, &answer, &trust, &verified, now);
        (log, evidence)
    }

    #[test]
    fn evidence_round_trips_through_a_file_and_verifies() {
        let (_, evidence) = evidence();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("evidence.json");
        evidence.write(&path).expect("written");
        let back = Evidence::read(&path).expect("read");
        assert_eq!(back, evidence);
        let verified = back.verify().expect("verifies offline");
        assert_eq!(verified.verdict.verdict.as_str(), "GENUINE");
        assert_eq!(back.summary.verdict, "GENUINE");
    }

    /// A change to an evidence file, and the refusal it must meet.
    type Row = (&'static str, fn(&mut Evidence), fn(&EvidenceError) -> bool);

    #[track_caller]
    fn check(name: &str, change: fn(&mut Evidence), expected: fn(&EvidenceError) -> bool) {
        let (_, mut evidence) = evidence();
        let honest = evidence.clone();
        change(&mut evidence);
        assert_ne!(evidence, honest, "{name}: nothing changed");
        match evidence.verify() {
            Ok(_) => panic!("{name}: accepted"),
            Err(error) => assert!(
                expected(&error),
                "{name}: refused for another reason: {error}"
            ),
        }
    }

    /// Flips one bit of base64 data, keeping it base64.
    fn flip_base64(text: &mut String, byte: usize) {
        let mut bytes = STANDARD.decode(&*text).expect("base64");
        bytes[byte] ^= 0x01;
        *text = STANDARD.encode(bytes);
    }

    /// Flips one bit of a hex hash, keeping it hex.
    fn flip_hex(text: &mut String) {
        let mut bytes = hex::decode(&*text).expect("hex");
        bytes[0] ^= 0x01;
        *text = hex::encode(bytes);
    }

    fn is_verify(error: &EvidenceError) -> bool {
        matches!(error, EvidenceError::Verify(_))
    }

    #[test]
    fn changed_evidence_is_refused() {
        let rows: &[Row] = &[
            (
                "event byte",
                |e| flip_base64(&mut e.answer.history[1].entry, 110),
                is_verify,
            ),
            (
                "signature byte",
                |e| flip_base64(&mut e.answer.history[1].entry, 60),
                is_verify,
            ),
            (
                "genesis byte",
                |e| flip_base64(&mut e.answer.authorizations[0].entry, 40),
                is_verify,
            ),
            (
                "proof hash",
                |e| flip_hex(&mut e.answer.history[0].inclusion_proof[0]),
                is_verify,
            ),
            (
                "consistency hash",
                |e| flip_hex(&mut e.answer.consistency_proof[0]),
                is_verify,
            ),
            (
                "checkpoint",
                |e| e.answer.checkpoint = e.answer.checkpoint.replacen('\n', "\n\n", 1),
                is_verify,
            ),
            (
                "pinned checkpoint",
                |e| e.trust.checkpoint = e.trust.checkpoint.replacen("\n2\n", "\n3\n", 1),
                |e| matches!(e, EvidenceError::Trust(_)),
            ),
            (
                "summary verdict",
                |e| e.summary.verdict = "RECALLED".into(),
                |e| matches!(e, EvidenceError::Summary { .. }),
            ),
            (
                "server verdict",
                |e| e.answer.verdict = "RECALLED".into(),
                is_verify,
            ),
            (
                "time of the check",
                |e| e.verified_at_unix_ms += 10 * 365 * isnad_testkit::DAY_MS,
                is_verify,
            ),
            (
                "entry not base64",
                |e| e.answer.history[0].entry.push('!'),
                |e| matches!(e, EvidenceError::Format(_)),
            ),
            (
                "unknown format",
                |e| e.format = "isnad-evidence/v0".into(),
                |e| matches!(e, EvidenceError::Format(_)),
            ),
        ];
        for (name, change, expected) in rows {
            check(name, *change, *expected);
        }
    }

    #[test]
    fn evidence_against_other_anchors_is_refused() {
        let (log, evidence) = evidence();
        assert!(evidence.check_anchors(&log.trust_at(log.size())).is_ok());
        let other = Trust::new(
            vec![log.scenario.hospital.public_key()],
            &log.vkey(),
            &log.checkpoint_at(2),
        )
        .expect("a valid trust");
        let error = evidence.check_anchors(&other).expect_err("refused");
        assert!(
            matches!(
                error,
                EvidenceError::Anchors {
                    what: "regulator keys",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn unknown_fields_and_overlong_files_are_refused() {
        let (_, evidence) = evidence();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("evidence.json");
        let mut value = serde_json::to_value(&evidence).expect("serializes");
        value["extra"] = serde_json::Value::Bool(true);
        std::fs::write(&path, value.to_string()).expect("written");
        let error = Evidence::read(&path).expect_err("refused");
        assert!(matches!(error, EvidenceError::Format(_)), "{error}");
    }
}
