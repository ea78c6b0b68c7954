//! Tamper tests against the real server: one flipped byte in any event, signature, proof or
//! checkpoint of a verification answer, or of an evidence file, and `isnad` refuses it with a
//! reason that says which part failed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use isnad_client::{Client, TrustStore, VerifyError, verify_answer};
use isnad_core::envelope::{ENTRY_HEADER_LEN, PUBLIC_KEY_LEN, SIGNATURE_LEN};
use isnad_proto::pb;
use isnad_testkit::dates::expiry_ahead;
use isnad_tests::circuit::Circuit;
use isnad_tests::{DataDir, Server};
use serde_json::Value;

/// Where in an event entry a flip lands: the recorded time, the signer's key, the signature,
/// the first and the last byte of the signed body.
const EVENT_POSITIONS: [(&str, usize); 4] = [
    ("recorded time", 5),
    ("public key", ENTRY_HEADER_LEN + 3),
    ("signature", ENTRY_HEADER_LEN + PUBLIC_KEY_LEN + 7),
    ("body", ENTRY_HEADER_LEN + PUBLIC_KEY_LEN + SIGNATURE_LEN),
];

/// A server holding a unit shipped to and received by the distributor, and a client that has
/// pinned an early checkpoint (so answers carry a consistency proof). Returns the unit's label.
fn delivered() -> (DataDir, Server, Circuit, String) {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let c = Circuit::admit(&data, &server);
    c.by(
        0,
        &c.manufacturer,
        "commission",
        &[
            "--gtin",
            &c.gtin,
            "--lot",
            "L1",
            "--expiry",
            &expiry_ahead(),
            "--serial",
            "S1",
            "--serial",
            "S2",
        ],
    );
    let unit = c.label("L1", "S1");
    let ship = c.by(
        0,
        &c.manufacturer,
        "ship",
        &[
            "--json",
            "--to",
            &c.distributor.party,
            "--to-site",
            &c.distributor.site,
            "--item",
            &unit,
        ],
    );
    let shipment = ship.json_lines()[0]["event_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    c.by(0, &c.distributor, "receive", &["--shipment", &shipment]);
    (data, server, c, unit)
}

/// Flips one bit of the base64 data at `pointer` in `value`, keeping it base64.
fn flip_base64(value: &mut Value, pointer: &str, byte: usize) {
    let field = value.pointer_mut(pointer).expect("the field exists");
    let mut bytes = STANDARD
        .decode(field.as_str().expect("text"))
        .expect("base64");
    let byte = byte.min(bytes.len() - 1);
    bytes[byte] ^= 0x01;
    *field = Value::String(STANDARD.encode(bytes));
}

/// Flips one bit of the hex hash at `pointer`.
fn flip_hex(value: &mut Value, pointer: &str) {
    let field = value.pointer_mut(pointer).expect("the field exists");
    let mut bytes = hex::decode(field.as_str().expect("text")).expect("hex");
    bytes[17] ^= 0x80;
    *field = Value::String(hex::encode(bytes));
}

/// Changes one character of the text at `pointer`, at `position` from its start.
fn change_char(value: &mut Value, pointer: &str, position: usize) {
    let field = value.pointer_mut(pointer).expect("the field exists");
    let text: String = field
        .as_str()
        .expect("text")
        .chars()
        .enumerate()
        .map(|(i, c)| match (i == position, c) {
            (false, c) => c,
            (true, 'A') => 'B',
            (true, _) => 'A',
        })
        .collect();
    *field = Value::String(text);
}

/// An alteration of an evidence file: its name, what it does, and words the refusal must hold.
type EvidenceCase = (String, Box<dyn Fn(&mut Value)>, &'static str);

/// An alteration of an answer: its name and what it does.
type AnswerCase = (String, Box<dyn Fn(&mut pb::VerifyResponse)>);

/// Every alteration of an evidence file to try, each with the words the refusal must hold.
fn evidence_alterations(evidence: &Value) -> Vec<EvidenceCase> {
    let mut cases: Vec<EvidenceCase> = Vec::new();
    for list in ["history", "authorizations"] {
        let entries = evidence["answer"][list].as_array().expect("entries");
        for (position, entry) in entries.iter().enumerate() {
            let entry_pointer = format!("/answer/{list}/{position}/entry");
            let genesis = entry["index"] == 0;
            for (part, byte) in EVENT_POSITIONS {
                let part = if genesis { "genesis" } else { part };
                let pointer = entry_pointer.clone();
                cases.push((
                    format!("{list} entry {position}: {part}"),
                    Box::new(move |v| flip_base64(v, &pointer, byte)),
                    "inclusion proof refused",
                ));
            }
            let hashes = entry["inclusion_proof"].as_array().expect("a proof").len();
            for hash in 0..hashes {
                let pointer = format!("/answer/{list}/{position}/inclusion_proof/{hash}");
                cases.push((
                    format!("{list} entry {position}: proof hash {hash}"),
                    Box::new(move |v| flip_hex(v, &pointer)),
                    "inclusion proof refused",
                ));
            }
        }
    }
    let consistency = evidence["answer"]["consistency_proof"]
        .as_array()
        .expect("a proof");
    assert!(
        !consistency.is_empty(),
        "the client pinned an earlier checkpoint"
    );
    for hash in 0..consistency.len() {
        let pointer = format!("/answer/consistency_proof/{hash}");
        cases.push((
            format!("consistency proof hash {hash}"),
            Box::new(move |v| flip_hex(v, &pointer)),
            "possible split view",
        ));
    }
    let note_len = evidence["answer"]["checkpoint"]
        .as_str()
        .expect("a note")
        .chars()
        .count();
    for position in [0, 20, 40, note_len - 30, note_len - 2] {
        cases.push((
            format!("checkpoint character {position}"),
            Box::new(move |v| change_char(v, "/answer/checkpoint", position)),
            "checkpoint is refused",
        ));
    }
    cases.push((
        "pinned checkpoint".to_owned(),
        Box::new(|v| change_char(v, "/trust/checkpoint", 30)),
        "trust recorded in the evidence is refused",
    ));
    cases.push((
        "summary".to_owned(),
        Box::new(|v| v["summary"]["verdict"] = Value::String("RECALLED".into())),
        "the summary says",
    ));
    cases
}

#[test]
fn a_changed_evidence_file_is_refused_with_the_reason() {
    let (_data, server, c, unit) = delivered();
    let isnad = &c.isnad;
    let file = isnad.path("evidence.json");
    let file_name = file.display().to_string();
    isnad.ok(&["verify", &unit, "--evidence", &file_name]);
    drop(server);
    let honest: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
    assert_eq!(honest["summary"]["verdict"], "GENUINE");
    isnad.ok(&["verify-evidence", &file_name]);
    let cases = evidence_alterations(&honest);
    assert!(cases.len() > 40, "only {} alterations", cases.len());
    for (name, alter, reason) in &cases {
        let mut changed = honest.clone();
        alter(&mut changed);
        assert_ne!(changed, honest, "{name}: nothing changed");
        let altered = isnad.path("altered.json");
        std::fs::write(&altered, changed.to_string()).expect("written");
        let run = isnad.expect(2, &["verify-evidence", &altered.display().to_string()]);
        assert!(run.stdout.is_empty(), "{name}: printed {}", run.stdout);
        assert!(
            run.stderr.contains(reason),
            "{name}: expected {reason:?} in {}",
            run.stderr
        );
    }
}

/// Every alteration of an answer to try: one flipped byte each.
fn answer_alterations(answer: &pb::VerifyResponse) -> Vec<AnswerCase> {
    let mut cases: Vec<AnswerCase> = Vec::new();
    for (list, entries) in [(false, &answer.history), (true, &answer.authorizations)] {
        for (position, proven) in entries.iter().enumerate() {
            for byte in [5, 20, 60, proven.entry.len() - 1] {
                cases.push((
                    format!("entry {} byte {byte}", proven.index),
                    Box::new(move |a| {
                        let entries = if list {
                            &mut a.authorizations
                        } else {
                            &mut a.history
                        };
                        entries[position].entry[byte] ^= 0x01;
                    }),
                ));
            }
            for hash in 0..proven.inclusion_proof.len() {
                cases.push((
                    format!("entry {} proof hash {hash}", proven.index),
                    Box::new(move |a| {
                        let entries = if list {
                            &mut a.authorizations
                        } else {
                            &mut a.history
                        };
                        entries[position].inclusion_proof[hash][9] ^= 0x01;
                    }),
                ));
            }
        }
    }
    for hash in 0..answer.consistency_proof.len() {
        cases.push((
            format!("consistency proof hash {hash}"),
            Box::new(move |a| a.consistency_proof[hash][0] ^= 0x01),
        ));
    }
    for position in 0..answer.checkpoint.len() {
        cases.push((
            format!("checkpoint byte {position}"),
            Box::new(move |a| {
                let mut bytes = a.checkpoint.clone().into_bytes();
                bytes[position] ^= 0x01;
                a.checkpoint = String::from_utf8_lossy(&bytes).into_owned();
            }),
        ));
    }
    cases
}

#[test]
fn a_changed_answer_from_the_real_server_is_refused() {
    let (_data, server, c, unit) = delivered();
    let trust = TrustStore::new(c.isnad.trust_dir())
        .load()
        .expect("trusted");
    let question = pb::VerifyRequest {
        scan: unit,
        verifier_site: c.distributor.site.clone(),
        known_tree_size: trust.checkpoint().size.0,
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let answer = runtime.block_on(async {
        // Signed as the regulator: an anonymous caller gets no history to tamper with.
        let regulator = isnad_testkit::Scenario::bare().regulator;
        let credentials = isnad_client::Credentials::new(
            regulator.party,
            regulator.signing_key,
            isnad_tests::ORIGIN,
        );
        let client = Client::connect(&server.url())
            .await
            .expect("connects")
            .with_credentials(credentials);
        client.verify(question.clone()).await.expect("answers")
    });
    let now = isnad_tests_now();
    let verified = verify_answer(&question, &answer, &trust, now).expect("the honest answer");
    assert_eq!(verified.verdict.verdict.as_str(), "GENUINE");
    let cases = answer_alterations(&answer);
    assert!(cases.len() > 100, "only {} alterations", cases.len());
    for (name, alter) in &cases {
        let mut changed = answer.clone();
        alter(&mut changed);
        let error = verify_answer(&question, &changed, &trust, now).expect_err(name);
        let expected = match name.split(' ').next() {
            Some("entry") => matches!(error, VerifyError::Inclusion { .. }),
            Some("consistency") => matches!(error, VerifyError::Inconsistent(_)),
            _ => matches!(error, VerifyError::Checkpoint(_)),
        };
        assert!(expected, "{name}: refused for another reason: {error}");
    }
}

fn isnad_tests_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}
