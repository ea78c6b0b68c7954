//! The code of every fuzz target: one function per parser that takes bytes from outside,
//! called by the one-line targets of the cargo-fuzz project in `tests/fuzz` and by the corpus
//! replay test, so a crash found by the fuzzer replays under `cargo test`.
//!
//! Each function takes any bytes, never panics on bad input, and asserts what must hold of
//! what its parser accepts (a parsed value re-rendered parses to the same value, a decoded
//! message re-encodes to the same bytes). A panic here is a bug in the parser or in its
//! re-rendering.

mod log;
mod seeds;

pub use log::{FuzzLog, PINNED_SIZE, fuzz_log};
pub use seeds::seeds;

use isnad_client::Evidence;
use isnad_client::keys::{parse_private_key_line, private_key_line};
use isnad_core::envelope::{self, EntryKind};
use isnad_core::scan::{SCAN_LEN_MAX, Scan, parse_scan};
use isnad_log::checkpoint::{Checkpoint, NoteVerifier};
use isnad_proto::pb;
use prost::Message;

/// A fuzz target: its name (the cargo-fuzz target and corpus directory) and its code.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, in the order the README lists them.
pub const TARGETS: &[Target] = &[
    ("scan", scan),
    ("event_body", event_body),
    ("log_entry", log_entry),
    ("capture_request", capture_request),
    ("checkpoint", checkpoint),
    ("verify_answer", verify_answer),
    ("evidence", evidence),
    ("key_file", key_file),
    ("cli_input", cli_input),
];

/// Where re-rendered Digital Link URIs point.
const DIGITAL_LINK_BASE: &str = "https://id.example.com";

/// The printable stand-ins for GS the scan parser reads as separators, in lower case.
const GS_STAND_INS: &[&str] = &[
    "<gs>", "{gs}", "[gs]", "<fnc1>", "{fnc1}", "^]", "\\x1d", "\\u001d",
];

/// A scan in any of the three forms (`isnad_core::scan::parse_scan`). What parses renders as
/// an element string, in the bracketed form and as a Digital Link, and each parses back to
/// the same scan.
pub fn scan(data: &[u8]) {
    // Scans reach the server as protobuf strings, which are UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scan) = parse_scan(text) else {
        return;
    };
    // The parser checks the AIs Isnad does not use (an order number, a content GTIN) and
    // drops them: a scan of those alone names nothing, and a lot kept beside a content GTIN
    // (02) lacks its requisite once rendered alone. Every kept field's requisite is a GTIN.
    let needs_gtin = scan.lot.is_some()
        || scan.serial.is_some()
        || scan.expiry.is_some()
        || scan.production_date.is_some();
    if scan == Scan::default() || (needs_gtin && scan.gtin.is_none()) {
        return;
    }
    // The two ambiguities the scan module documents, by construction of the forms: a value
    // holding a GS stand-in such as `<GS>` splits an element string (and a bracketed one: the
    // stand-ins are replaced first), one holding an AI in brackets such as `A(10)B` splits the
    // bracketed form. A Digital Link has neither.
    let values: Vec<String> = [scan.lot.as_ref().map(|v| v.to_string())]
        .into_iter()
        .chain([scan.serial.as_ref().map(|v| v.to_string())])
        .flatten()
        .map(|value| value.to_ascii_lowercase())
        .collect();
    let mut forms = Vec::new();
    if !values
        .iter()
        .any(|v| GS_STAND_INS.iter().any(|s| v.contains(s)))
    {
        forms.push(scan.to_element_string());
        if !values.iter().any(|v| v.contains('(')) {
            forms.push(scan.to_human_readable());
        }
    }
    // A scan without a GTIN, SSCC or GLN has no Digital Link form (see `to_digital_link`).
    if scan.gtin.is_some() || scan.sscc.is_some() || scan.gln.is_some() {
        forms.push(scan.to_digital_link(DIGITAL_LINK_BASE));
    }
    for form in forms {
        // Percent-encoding can make a Digital Link longer than the scan it came from.
        if form.len() > SCAN_LEN_MAX {
            continue;
        }
        match parse_scan(&form) {
            Ok(again) => assert_eq!(again, scan, "{form:?} (from {text:?}) parses otherwise"),
            Err(error) => panic!("{form:?} (from {text:?}) does not parse: {error}"),
        }
    }
}

/// Signed `EventBody` bytes and the genesis message, decoded and converted to domain types
/// (`isnad_proto::decode_event_body`, `decode_genesis`). What converts re-encodes to bytes
/// that decode to the same value and re-encode to the same bytes.
pub fn event_body(data: &[u8]) {
    if let Ok(event) = isnad_proto::decode_event_body(data) {
        let encoded = isnad_proto::encode_event_body(&event);
        let again = isnad_proto::decode_event_body(&encoded).expect("a re-encoded event decodes");
        assert_eq!(again, event, "decode, encode, decode changed the event");
        assert_eq!(isnad_proto::encode_event_body(&again), encoded);
    }
    if let Ok(genesis) = isnad_proto::decode_genesis(data) {
        let encoded = isnad_proto::encode_genesis(&genesis);
        let again = isnad_proto::decode_genesis(&encoded).expect("a re-encoded genesis decodes");
        assert_eq!(again, genesis, "decode, encode, decode changed the genesis");
    }
}

/// A log entry as a mirror or a verifier reads it (`isnad_core::envelope::decode_entry`, then
/// `isnad_proto::decode_history_entry`). The framing is exact: a decoded entry re-encodes to
/// the very bytes it came from.
pub fn log_entry(data: &[u8]) {
    let _ = isnad_proto::decode_history_entry(0, data);
    let Ok(entry) = envelope::decode_entry(data) else {
        return;
    };
    let encoded = match entry.kind {
        EntryKind::Genesis { genesis } => {
            envelope::encode_genesis_entry(entry.recorded_unix_ms, genesis)
        }
        EntryKind::Event {
            public_key,
            signature,
            body,
        } => {
            let origin = &fuzz_log().scenario.genesis.origin;
            let _ = envelope::verify(origin, &public_key, &signature, body);
            envelope::encode_event_entry(entry.recorded_unix_ms, &public_key, &signature, body)
        }
    };
    assert_eq!(encoded, data, "the entry does not re-encode to its bytes");
}

/// A `CaptureRequest` (and a `Registry.Submit` `SignedEvent`) through the server's own
/// stateless checks (`isnad_server::ledger::check_events`), and every refusal through the
/// server's mapping to a gRPC status. What passes keeps the exact bytes sent, and each of its
/// events verifies and decodes on its own.
pub fn capture_request(data: &[u8]) {
    let origin = &fuzz_log().scenario.genesis.origin;
    if let Ok(request) = pb::CaptureRequest::decode(data) {
        check_capture(origin, request.events);
    }
    if let Ok(signed) = pb::SignedEvent::decode(data) {
        check_capture(origin, vec![signed]);
    }
}

fn check_capture(origin: &str, events: Vec<pb::SignedEvent>) {
    match isnad_server::ledger::check_events(origin, events.clone()) {
        Ok(checked) => {
            assert_eq!(checked.len(), events.len());
            for (checked, sent) in checked.iter().zip(&events) {
                assert_eq!(checked.body, sent.body, "the body is stored as sent");
                assert_eq!(checked.public_key[..], sent.public_key[..]);
                assert_eq!(checked.signature[..], sent.signature[..]);
                envelope::verify(origin, &sent.public_key, &sent.signature, &sent.body)
                    .expect("an accepted event verifies on its own");
                let event = isnad_proto::decode_event_body(&sent.body)
                    .expect("an accepted event decodes on its own");
                assert_eq!(event, checked.event);
            }
        }
        Err(error) => {
            let _status: tonic::Status = error.into();
        }
    }
}

/// A C2SP signed note, a checkpoint body and a verifier key string, as a client, a mirror or
/// a witness reads them (`isnad_log::checkpoint`). A body that parses is exactly what
/// `Checkpoint::body` writes; a note the log's key verifies carries that body, and signing
/// its checkpoint again gives a note that verifies to the same checkpoint.
pub fn checkpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = Checkpoint::parse(text) {
        assert_eq!(
            parsed.body(),
            text,
            "a parsed body is not what body() writes"
        );
    }
    if let Ok(parsed) = Checkpoint::from_note_unverified(text) {
        assert_note_body(text, &parsed);
    }
    let log = fuzz_log();
    let verifier = NoteVerifier::from_vkey(&log.signer.vkey()).expect("the log's own vkey");
    if let Ok(verified) = verifier.verify(text) {
        assert_note_body(text, &verified);
        let signed = log.signer.sign(&verified);
        assert_eq!(verifier.verify(&signed).ok(), Some(verified));
    }
    if let Ok(other) = NoteVerifier::from_vkey(text) {
        let _ = other.verify(&log.checkpoint_at(log.size()));
    }
}

#[track_caller]
fn assert_note_body(note: &str, checkpoint: &Checkpoint) {
    let body = checkpoint.body();
    assert!(
        note.strip_prefix(body.as_str())
            .is_some_and(|rest| rest.starts_with('\n')),
        "the note {note:?} does not start with its checkpoint's body {body:?}"
    );
}

/// A `VerifyResponse` through the client's offline checks (`isnad_client::verify_answer`),
/// against the fuzz log's trust, for each of its questions. An answer that verifies makes an
/// evidence file that verifies to the same verdict.
pub fn verify_answer(data: &[u8]) {
    let Ok(answer) = pb::VerifyResponse::decode(data) else {
        return;
    };
    let log = fuzz_log();
    let trust = log.trust();
    let now = log.scenario.clock_unix_ms;
    for question in log.questions() {
        let Ok(verified) = isnad_client::verify_answer(&question, &answer, &trust, now) else {
            continue;
        };
        assert_eq!(verified.checkpoint_note, answer.checkpoint);
        let evidence = Evidence::new("fuzz", &question, &answer, &trust, &verified, now);
        let again = evidence
            .verify()
            .expect("the evidence of a verified answer verifies");
        assert_eq!(again.verdict, verified.verdict);
    }
}

/// An evidence file (JSON), as `isnad verify --evidence` reads it, checked offline
/// (`isnad_client::Evidence`). What reads writes back to JSON that reads to the same value,
/// and verifies the same way.
pub fn evidence(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(evidence) = serde_json::from_str::<Evidence>(text) else {
        return;
    };
    let written = serde_json::to_string(&evidence).expect("an evidence file serialises");
    let again: Evidence = serde_json::from_str(&written).expect("written evidence reads");
    assert_eq!(again, evidence, "write, read changed the evidence");
    let _ = evidence.check_anchors(&fuzz_log().trust());
    if let Ok(verified) = evidence.verify() {
        let verified_again = again.verify().expect("the same evidence verifies again");
        assert_eq!(verified_again.verdict, verified.verdict);
    }
}

/// A C2SP private key line, as read from a key file (`isnad_keys::parse_private_key_line`,
/// after the trim `read_private_key` does). A key that parses writes back the same line.
pub fn key_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let line = text.trim();
    let Ok(named) = parse_private_key_line(line) else {
        return;
    };
    assert_eq!(
        private_key_line(&named.name, &named.key),
        format!("{line}\n"),
        "a parsed key line does not write back as itself"
    );
}

/// A bulk input file of the `isnad` CLI (`isnad_cli::input::parse_values`): the first byte
/// picks the format (CSV, JSON lines, plain lines), the rest is the file. Values come out
/// trimmed, with strictly increasing line numbers from 1.
pub fn cli_input(data: &[u8]) {
    let Some((&format, content)) = data.split_first() else {
        return;
    };
    let extension = ["csv", "jsonl", "txt"][usize::from(format) % 3];
    let Ok(values) = isnad_cli::input::parse_values(content, extension, "serial") else {
        return;
    };
    let mut previous_line = 0;
    for value in &values {
        assert_eq!(value.text.trim(), value.text, "values are trimmed");
        assert!(
            value.line > previous_line,
            "line {} after line {previous_line} ({extension})",
            value.line
        );
        previous_line = value.line;
    }
    let _ = isnad_cli::input::refuse_duplicates(&values, "serial");
}
