//! Real inputs for every target, from the fuzz log: the corpus starts from them, and the
//! replay test runs them on every change, so a seed that no longer parses is noticed.

use isnad_client::Evidence;
use isnad_client::keys::private_key_line;
use isnad_core::envelope::{self, EntryKind};
use isnad_core::verdict::HistoryKind;
use isnad_log::checkpoint::Checkpoint;
use isnad_proto::pb;
use prost::Message;

use super::fuzz_log;
use crate::signing_key;

/// Every seed, with the name of the target it is for.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut add = |target: &'static str, inputs: Vec<Vec<u8>>| {
        seeds.extend(inputs.into_iter().map(|input| (target, input)));
    };
    add("scan", scan_seeds());
    add("event_body", event_body_seeds());
    add("log_entry", fuzz_log().entries.clone());
    add("capture_request", capture_seeds());
    add("checkpoint", checkpoint_seeds());
    add(
        "verify_answer",
        answers().map(|(_, a)| a.encode_to_vec()).collect(),
    );
    add("evidence", evidence_seeds());
    add("key_file", key_seeds());
    add("cli_input", cli_input_seeds());
    seeds
}

fn scan_seeds() -> Vec<Vec<u8>> {
    let log = fuzz_log();
    let scan = isnad_core::scan::parse_scan(&log.label).expect("the label parses");
    let sscc = crate::sscc_number(7);
    [
        log.label.clone(),
        format!("]d2{}", scan.to_element_string()),
        scan.to_digital_link("https://id.example.com/path"),
        format!("(00){sscc}"),
        format!("]C1\u{1d}00{sscc}"),
        format!("(414){}", log.scenario.distributor.site),
        "0106111234000019\u{1d}10L1\u{1d}21S1".to_owned(),
        "https://id.gs1.org/01/09506000134352/10/AB%2F1/21/X?17=201225&11=200100".to_owned(),
        "]Q1https://example.com/01/09506000134352/21/S%25".to_owned(),
        "(01)09506000134352(17)201200(10)ABC(21)123".to_owned(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

fn event_body_seeds() -> Vec<Vec<u8>> {
    fuzz_log()
        .scenario
        .entries
        .iter()
        .map(|entry| match &entry.kind {
            HistoryKind::Genesis(genesis) => isnad_proto::encode_genesis(genesis),
            HistoryKind::Event(event) => isnad_proto::encode_event_body(event),
        })
        .collect()
}

/// The log's events as the signed envelopes their clients sent.
fn signed_events() -> Vec<pb::SignedEvent> {
    fuzz_log()
        .entries
        .iter()
        .filter_map(|entry| match envelope::decode_entry(entry).ok()?.kind {
            EntryKind::Genesis { .. } => None,
            EntryKind::Event {
                public_key,
                signature,
                body,
            } => Some(pb::SignedEvent {
                body: body.to_vec().into(),
                public_key: public_key.to_vec().into(),
                signature: signature.to_vec().into(),
            }),
        })
        .collect()
}

fn capture_seeds() -> Vec<Vec<u8>> {
    let events = signed_events();
    let mut seeds: Vec<Vec<u8>> = events.iter().map(Message::encode_to_vec).collect();
    seeds.push(pb::CaptureRequest { events }.encode_to_vec());
    seeds
}

fn checkpoint_seeds() -> Vec<Vec<u8>> {
    let log = fuzz_log();
    let mut seeds: Vec<String> = (0..=log.size())
        .map(|size| log.checkpoint_at(size))
        .collect();
    let latest = Checkpoint::from_note_unverified(&log.checkpoint_at(log.size()))
        .expect("the log's checkpoint parses");
    seeds.push(latest.body());
    seeds.push(log.signer.sign(&Checkpoint {
        extensions: vec!["extension line".to_owned()],
        ..latest
    }));
    seeds.push(log.signer.vkey());
    seeds.into_iter().map(String::into_bytes).collect()
}

/// Each question of the fuzz log with its honest answer.
fn answers() -> impl Iterator<Item = (pb::VerifyRequest, pb::VerifyResponse)> {
    let log = fuzz_log();
    log.questions().into_iter().map(|question| {
        let answer = log.answer(&question);
        (question, answer)
    })
}

fn evidence_seeds() -> Vec<Vec<u8>> {
    let log = fuzz_log();
    let trust = log.trust();
    let now = log.scenario.clock_unix_ms;
    answers()
        .map(|(question, answer)| {
            let verified = isnad_client::verify_answer(&question, &answer, &trust, now)
                .expect("an honest answer verifies");
            let evidence = Evidence::new("fuzz", &question, &answer, &trust, &verified, now);
            serde_json::to_vec_pretty(&evidence).expect("evidence serialises")
        })
        .collect()
}

fn key_seeds() -> Vec<Vec<u8>> {
    let log = fuzz_log();
    vec![
        private_key_line(log.signer.name(), &signing_key(99)).into_bytes(),
        private_key_line("regulator", &log.scenario.regulator.signing_key).into_bytes(),
    ]
}

fn cli_input_seeds() -> Vec<Vec<u8>> {
    let with_format = |format: u8, content: &str| {
        let mut input = vec![format];
        input.extend_from_slice(content.as_bytes());
        input
    };
    vec![
        with_format(
            0,
            "gtin,serial\n06111234000019,S1\n06111234000019,\"S 2\"\n",
        ),
        with_format(1, "\"S1\"\n{\"serial\":\"S2\",\"note\":1}\n\n"),
        with_format(2, "S1\n\n# comment\n S2 \n"),
    ]
}
