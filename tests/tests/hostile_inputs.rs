//! The hostile-input table: requests an attacker (a stranger or an admitted party) sends to
//! every service of the real server, each row with the exact gRPC status and `isnad-reason` the
//! contract gives it (`isnad_proto::contract::Reason`, the reason table of
//! `docs/integration.md`). After each row the tree size and the signed checkpoint are
//! unchanged, no refusal echoes the hostile input back at length, and after the whole table the
//! server still takes a valid write: no input stopped the sequencer.
//!
//! The rows live in `hostile_inputs/`: malformed capture envelopes and bodies
//! (`capture_rows`), claimed authority (`authority_rows`: signatures, keys, replays, rules, the
//! registry's door, the capture stream) and reads and malformed request messages
//! (`read_rows`). Rows that failed on the code they were written against say so, and how, in a
//! comment above them. A failing row is reported with its number and name; every row runs, so
//! one run lists them all.

use std::time::Duration;

use bytes::Bytes;
use isnad_core::event::Item;
use isnad_core::verdict::HistoryKind;
use isnad_proto::contract::{ENTRIES_PER_RESPONSE_MAX, Reason};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::call::{Client, method};
use isnad_tests::{DataDir, Server, mirror, scenario_keys};
use prost::Message;
use tonic::Code;

/// How long one row may take to be answered: a safety net for a server that hangs, not a
/// measure of speed.
const ANSWER_WITHIN: Duration = Duration::from_secs(120);

/// Bytes of a refusal's message at most: a refusal names the field at fault, it does not echo
/// a hostile value back at length.
const REFUSAL_MESSAGE_LEN_MAX: usize = 1_024;

/// What a row sends.
enum Call {
    /// One message (its bytes, valid or not) to a unary method.
    Unary(&'static str, Bytes),
    /// Messages to a streaming method; the answer is the stream's end.
    Stream(&'static str, Vec<Bytes>),
}

/// What the contract answers.
enum Expect {
    /// A refusal with this status and reason.
    Refused(Code, Reason),
    /// A verification answer with this verdict: a malformed scan is a verdict, not a refusal.
    Verdict(pb::ReasonCode),
    /// An answer: a hostile value the contract tolerates (a page size lowered to its cap, an
    /// empty time range).
    Answered,
}

use Expect::{Answered, Refused, Verdict};

/// One row of the table.
struct Row {
    name: &'static str,
    call: Call,
    expect: Expect,
}

fn row(name: &'static str, call: Call, expect: Expect) -> Row {
    Row { name, call, expect }
}

/// A unary call of `request`, encoded as any client would.
fn unary(method: &'static str, request: &impl Message) -> Call {
    Call::Unary(method, request.encode_to_vec().into())
}

/// A unary call of bytes that need not be a valid message.
fn raw(method: &'static str, bytes: &[u8]) -> Call {
    Call::Unary(method, Bytes::copy_from_slice(bytes))
}

fn capture(events: Vec<pb::SignedEvent>) -> Call {
    unary(method::CAPTURE, &pb::CaptureRequest { events })
}

fn capture_stream(batches: Vec<Vec<pb::SignedEvent>>) -> Call {
    let messages = batches
        .into_iter()
        .map(|events| pb::CaptureRequest { events }.encode_to_vec().into())
        .collect();
    Call::Stream(method::CAPTURE_STREAM, messages)
}

fn submit(event: pb::SignedEvent) -> Call {
    unary(method::SUBMIT, &event)
}

fn verify(scan: &str, verifier_site: &str, known_tree_size: u64) -> Call {
    let request = pb::VerifyRequest {
        scan: scan.into(),
        verifier_site: verifier_site.into(),
        known_tree_size,
    };
    unary(method::VERIFY, &request)
}

fn history(subject: Option<pb::history_request::Subject>) -> Call {
    unary(method::HISTORY, &pb::HistoryRequest { subject })
}

fn lot_units(gtin: &str, lot: &str, after_serial: &str, page_size: u32) -> Call {
    let request = pb::LotUnitsRequest {
        gtin: gtin.into(),
        lot: lot.into(),
        after_serial: after_serial.into(),
        page_size,
    };
    unary(method::LOT_UNITS, &request)
}

fn party_events(party: &str, from: i64, until: i64, after: u64, page_size: u32) -> Call {
    let request = pb::PartyEventsRequest {
        party: party.into(),
        from_unix_ms: from,
        until_unix_ms: until,
        after_index: after,
        page_size,
    };
    unary(method::PARTY_EVENTS, &request)
}

fn get_entries(start: u64, end: u64) -> Call {
    unary(method::GET_ENTRIES, &pb::GetEntriesRequest { start, end })
}

fn inclusion(leaf: Option<pb::get_inclusion_proof_request::Leaf>, tree_size: u64) -> Call {
    let request = pb::GetInclusionProofRequest { leaf, tree_size };
    unary(method::GET_INCLUSION_PROOF, &request)
}

fn consistency(first_size: u64, second_size: u64) -> Call {
    let request = pb::GetConsistencyProofRequest {
        first_size,
        second_size,
    };
    unary(method::GET_CONSISTENCY_PROOF, &request)
}

fn participant(party: &str) -> Call {
    let request = pb::GetParticipantRequest {
        party: party.into(),
    };
    unary(method::GET_PARTICIPANT, &request)
}

fn inbound(party: &str) -> Call {
    let request = pb::InboundShipmentsRequest {
        party: party.into(),
        ..Default::default()
    };
    unary(method::INBOUND_SHIPMENTS, &request)
}

#[path = "hostile_inputs/authority_rows.rs"]
mod authority_rows;
#[path = "hostile_inputs/capture_rows.rs"]
mod capture_rows;
#[path = "hostile_inputs/fixture.rs"]
mod fixture;
#[path = "hostile_inputs/read_rows.rs"]
mod read_rows;

use fixture::Fixture;

/// Sends the row's call and returns the answer's bytes (a stream's last answer).
async fn send(client: &Client, call: &Call) -> Result<Bytes, tonic::Status> {
    match call {
        Call::Unary(method, message) => client.send(method, message.clone()).await,
        Call::Stream(method, messages) => {
            let mut answers = client.open_stream(method, messages.clone()).await?;
            let mut last = Bytes::new();
            while let Some(answer) = answers.message().await? {
                last = answer;
            }
            Ok(last)
        }
    }
}

/// Sends `row` and checks its answer, and that the log did not change: `Err` says what went
/// wrong.
async fn check(client: &Client, row: &Row) -> Result<(), String> {
    let before = client
        .checkpoint()
        .await
        .map_err(|status| format!("no checkpoint before the row: {status:?}"))?;
    let answer = tokio::time::timeout(ANSWER_WITHIN, send(client, &row.call))
        .await
        .map_err(|_| format!("no answer within {ANSWER_WITHIN:?}"))?;
    match (&row.expect, answer) {
        (Refused(code, reason), Err(status)) => {
            let got = status
                .metadata()
                .get(isnad_proto::contract::REASON_METADATA_KEY)
                .and_then(|v| v.to_str().ok());
            if status.code() != *code || got != Some(reason.as_str()) {
                return Err(format!(
                    "expected {code:?} {reason}, got {:?} {got:?}: {}",
                    status.code(),
                    shorten(status.message())
                ));
            }
            if status.message().len() > REFUSAL_MESSAGE_LEN_MAX {
                return Err(format!(
                    "a refusal message of {} bytes: {}",
                    status.message().len(),
                    shorten(status.message())
                ));
            }
        }
        (Refused(code, reason), Ok(_)) => {
            return Err(format!("answered, where {code:?} {reason} was expected"));
        }
        (Verdict(verdict), Ok(bytes)) => {
            let answer = pb::VerifyResponse::decode(bytes)
                .map_err(|error| format!("not a verification answer: {error}"))?;
            if answer.verdict != *verdict as i32 {
                return Err(format!(
                    "verdict {:?}, expected {verdict:?}",
                    pb::ReasonCode::try_from(answer.verdict)
                ));
            }
        }
        (Answered, Ok(_)) => {}
        (_, Err(status)) => {
            return Err(format!(
                "refused with {:?} {:?}: {}",
                status.code(),
                status.metadata().get("isnad-reason"),
                shorten(status.message())
            ));
        }
    }
    let after = client
        .checkpoint()
        .await
        .map_err(|status| format!("no checkpoint after the row: {status:?}"))?;
    if after != before {
        return Err(format!(
            "the log changed: tree size {} -> {}",
            before.tree_size, after.tree_size
        ));
    }
    Ok(())
}

/// The first 200 characters of `text`.
fn shorten(text: &str) -> String {
    text.chars().take(200).collect()
}

/// A server holding a scenario with a unit in transit and more than
/// [`ENTRIES_PER_RESPONSE_MAX`] entries.
async fn serving() -> (DataDir, Server, Fixture) {
    let mut scenario = Scenario::today();
    let units = scenario.commission("L1", &["SN1", "SN2"]);
    let shipment = scenario.ship(
        Who::Manufacturer,
        vec![Item::Unit(units[1].clone())],
        Who::Distributor,
    );
    let HistoryKind::Event(accepted) = scenario.entries.last().expect("entries").kind.clone()
    else {
        panic!("the last entry is the ship");
    };
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    let mut fx = Fixture {
        scenario,
        shipment,
        accepted,
        size: 0,
        lots: 0,
    };
    let client = server.client().await;
    let filler = usize::try_from(ENTRIES_PER_RESPONSE_MAX).expect("fits") / 2 + 1;
    for _ in 0..2 {
        let events = (0..filler)
            .map(|_| {
                let lot = fx.fresh_lot();
                let payload = fx.scenario.commission_quantity_payload(&lot, 1);
                fx.signed(Who::Manufacturer, payload)
            })
            .collect();
        client
            .capture(events)
            .await
            .expect("the filler is accepted");
    }
    fx.size = client.checkpoint().await.expect("checkpoint").tree_size;
    assert!(fx.size > ENTRIES_PER_RESPONSE_MAX);
    (data, server, fx)
}

/// Each row: the exact status and reason, a short message, the same tree and checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_request_gets_its_contract_status_and_writes_nothing() {
    let (_data, mut server, mut fx) = serving().await;
    let client = server.client().await;
    let mut rows = capture_rows::capture_rows(&mut fx);
    rows.extend(authority_rows::authority_rows(&mut fx));
    rows.extend(read_rows::read_rows(&fx));
    assert!(rows.len() >= 60, "{} rows", rows.len());
    let mut failures = Vec::new();
    for (number, row) in rows.iter().enumerate() {
        if let Err(problem) = check(&client, row).await {
            failures.push(format!("row {number} \"{}\": {problem}", row.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    // No row stopped the server or its sequencer: a valid event is still accepted.
    assert!(
        server.exited(Duration::ZERO).is_none(),
        "the server exited during the table"
    );
    let size = client.checkpoint().await.expect("checkpoint").tree_size;
    let receipts = client
        .capture(vec![fx.commission()])
        .await
        .expect("a valid event is accepted after the whole table")
        .receipts;
    assert_eq!(receipts[0].leaf_index, size);
}
