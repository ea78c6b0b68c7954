//! Rows of reads, and of request messages that are not protobuf of their type.

use bytes::Bytes;
use isnad_proto::contract::{ENTRIES_PER_RESPONSE_MAX, REQUEST_BYTES_MAX, Reason, SCAN_LEN_MAX};
use isnad_proto::pb;
use isnad_testkit::Who;
use isnad_tests::call::method;
use tonic::Code;

use super::*;
use crate::fixture::*;

/// The rows about reads and malformed request messages.
pub(crate) fn read_rows(fx: &Fixture) -> Vec<Row> {
    use Reason as R;
    use pb::get_inclusion_proof_request::Leaf;
    use pb::history_request::Subject;
    let bad = Code::InvalidArgument;
    let too_much = Code::ResourceExhausted;
    let not_found = Code::NotFound;
    let size = fx.size;
    let gtin = fx.gtin();
    let manufacturer = fx.party(Who::Manufacturer);
    let distributor = fx.party(Who::Distributor);
    let site = fx.scenario.inspector.site.to_string();
    let label = fx.scenario.label(&fx.scenario.unit("SN1"), "L1");
    let unit = |gtin: &str, serial: &str| {
        Some(Subject::Unit(pb::UnitRef {
            gtin: gtin.into(),
            serial: serial.into(),
        }))
    };
    vec![
        // Registry look-ups.
        row(
            "participant: a GLN with a wrong check digit",
            participant(&bad_check_digit(&manufacturer)),
            Refused(bad, R::MalformedField),
        ),
        row(
            "participant: an empty GLN",
            participant(""),
            Refused(bad, R::MalformedField),
        ),
        row(
            "participant: 60,000 characters (not echoed back)",
            participant(&"6".repeat(60_000)),
            Refused(bad, R::MalformedField),
        ),
        row(
            "participant: 100,000 characters, past the registry's message limit",
            participant(&"6".repeat(100_000)),
            Refused(too_much, R::MessageTooLarge),
        ),
        row(
            "participant: a GLN with a newline",
            participant(&format!("{manufacturer}\n")),
            Refused(bad, R::MalformedField),
        ),
        row(
            "participant: a GLN nobody admitted",
            participant(&isnad_testkit::gln("611999900000").to_string()),
            Refused(not_found, R::UnknownParticipant),
        ),
        // Verify.
        row(
            "verify: a scan of 513 bytes",
            verify(&"0".repeat(SCAN_LEN_MAX + 1), "", 0),
            Refused(too_much, R::ScanTooLong),
        ),
        row(
            "verify: a scan of 1 MiB",
            verify(&"(".repeat(1 << 20), "", 0),
            Refused(too_much, R::ScanTooLong),
        ),
        row(
            "verify: a scan of control characters",
            verify("\u{0}\u{1d}\u{7f}\u{1b}[0m", "", 0),
            Verdict(pb::ReasonCode::MalformedScan),
        ),
        row(
            "verify: an empty scan",
            verify("", "", 0),
            Verdict(pb::ReasonCode::MalformedScan),
        ),
        row(
            "verify: a GTIN with a wrong check digit",
            verify(&format!("(01){}(21)SN1", bad_check_digit(&gtin)), "", 0),
            Verdict(pb::ReasonCode::MalformedScan),
        ),
        row(
            "verify: a Digital Link with Unicode digits",
            verify(
                "https://id.example/01/０６１１１２３４０００００１/21/SN1",
                "",
                0,
            ),
            Verdict(pb::ReasonCode::MalformedScan),
        ),
        row(
            "verify: a verifier site with a wrong check digit",
            verify(&label, &bad_check_digit(&site), 0),
            Refused(bad, R::MalformedField),
        ),
        row(
            "verify: a known tree size of u64::MAX",
            verify(&label, &site, u64::MAX),
            Refused(bad, R::KnownSizeAhead),
        ),
        row(
            "verify: a known tree size one past the log",
            verify(&label, &site, size + 1),
            Refused(bad, R::KnownSizeAhead),
        ),
        // History.
        row(
            "history: no subject",
            history(None),
            Refused(bad, R::MalformedField),
        ),
        row(
            "history: a unit whose GTIN has a wrong check digit",
            history(unit(&bad_check_digit(&gtin), "SN1")),
            Refused(bad, R::MalformedField),
        ),
        row(
            "history: a serial of 21 characters",
            history(unit(&gtin, &"S".repeat(21))),
            Refused(bad, R::MalformedField),
        ),
        row(
            "history: a lot with no lot number",
            history(Some(Subject::Lot(pb::LotQuantity {
                gtin: gtin.clone(),
                lot: String::new(),
                quantity: 0,
            }))),
            Refused(bad, R::MalformedField),
        ),
        row(
            "history: an SSCC with a wrong check digit",
            history(Some(Subject::Sscc(bad_check_digit(
                &isnad_testkit::sscc_number(1).to_string(),
            )))),
            Refused(bad, R::MalformedField),
        ),
        // Lot units.
        row(
            "lot units: a GTIN with a wrong check digit",
            lot_units(&bad_check_digit(&gtin), "L1", "", 0),
            Refused(bad, R::MalformedField),
        ),
        row(
            "lot units: no lot number",
            lot_units(&gtin, "", "", 0),
            Refused(bad, R::MalformedField),
        ),
        row(
            "lot units: a paging serial with a control character",
            lot_units(&gtin, "L1", "SN\u{8}", 0),
            Refused(bad, R::MalformedField),
        ),
        row(
            "lot units: a lot never commissioned",
            lot_units(&gtin, "NOPE", "", 0),
            Refused(not_found, R::UnknownLot),
        ),
        row(
            "lot units: a page size of u32::MAX (lowered to the cap)",
            lot_units(&gtin, "L1", "", u32::MAX),
            Answered,
        ),
        // Party events and inbound shipments.
        row(
            "party events: a GLN with a wrong check digit",
            party_events(&bad_check_digit(&distributor), 0, 0, 0, 0),
            Refused(bad, R::MalformedField),
        ),
        row(
            "party events: an empty GLN",
            party_events("", 0, 0, 0, 0),
            Refused(bad, R::MalformedField),
        ),
        row(
            "party events: page size u32::MAX after index u64::MAX",
            party_events(&distributor, 0, 0, u64::MAX, u32::MAX),
            Answered,
        ),
        row(
            "party events: a time range that ends before it starts",
            party_events(&distributor, i64::MAX, i64::MIN, 0, 0),
            Answered,
        ),
        row(
            "inbound shipments: a GLN with a wrong check digit",
            inbound(&bad_check_digit(&distributor)),
            Refused(bad, R::MalformedField),
        ),
        row(
            "inbound shipments: a GLN in Arabic-Indic digits",
            inbound("٦١١٠٠٠٠٠٠٠٣٠٥"),
            Refused(bad, R::MalformedField),
        ),
        // The log.
        row(
            "entries: an empty range",
            get_entries(0, 0),
            Refused(bad, R::BadRange),
        ),
        row(
            "entries: a range that ends before it starts",
            get_entries(5, 3),
            Refused(bad, R::BadRange),
        ),
        row(
            "entries: a range one past the tree",
            get_entries(0, size + 1),
            Refused(bad, R::BadRange),
        ),
        row(
            "entries: a range up to u64::MAX",
            get_entries(0, u64::MAX),
            Refused(bad, R::BadRange),
        ),
        row(
            "entries: the last range before u64::MAX",
            get_entries(u64::MAX - 1, u64::MAX),
            Refused(bad, R::BadRange),
        ),
        row(
            "entries: 1,001 entries",
            get_entries(0, ENTRIES_PER_RESPONSE_MAX + 1),
            Refused(too_much, R::RangeTooLong),
        ),
        row(
            "inclusion: no leaf",
            inclusion(None, 0),
            Refused(bad, R::MalformedField),
        ),
        row(
            "inclusion: a leaf hash of 31 bytes",
            inclusion(Some(Leaf::LeafHash(vec![7; 31])), 0),
            Refused(bad, R::MalformedField),
        ),
        row(
            "inclusion: a leaf hash nobody logged",
            inclusion(Some(Leaf::LeafHash(vec![0; 32])), 0),
            Refused(not_found, R::UnknownLeaf),
        ),
        row(
            "inclusion: leaf u64::MAX",
            inclusion(Some(Leaf::Index(u64::MAX)), 0),
            Refused(not_found, R::LeafNotInTree),
        ),
        row(
            "inclusion: leaf 5 in the tree of size 3",
            inclusion(Some(Leaf::Index(5)), 3),
            Refused(not_found, R::LeafNotInTree),
        ),
        row(
            "inclusion: a tree size of u64::MAX",
            inclusion(Some(Leaf::Index(0)), u64::MAX),
            Refused(bad, R::BeyondTreeSize),
        ),
        row(
            "consistency: from size 0",
            consistency(0, 0),
            Refused(bad, R::BadRange),
        ),
        row(
            "consistency: from a larger size to a smaller",
            consistency(5, 3),
            Refused(bad, R::BadRange),
        ),
        row(
            "consistency: to size u64::MAX",
            consistency(1, u64::MAX),
            Refused(bad, R::BeyondTreeSize),
        ),
        row(
            "consistency: from u64::MAX to the current size",
            consistency(u64::MAX, 0),
            Refused(bad, R::BadRange),
        ),
        // Request messages that are not protobuf of their type.
        row(
            "capture: events sent as a number",
            raw(method::CAPTURE, &[0x08, 0x01]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "capture: a length past the message's end",
            raw(method::CAPTURE, &[0x0a, 0x7f, 0x00]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "capture: a varint of 11 bytes",
            raw(
                method::CAPTURE,
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                ],
            ),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "capture: field number 0",
            raw(method::CAPTURE, &[0x02, 0x00]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "capture: a deprecated group",
            raw(method::CAPTURE, &[0x0b, 0x0c]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "submit: bytes that are not a SignedEvent",
            raw(method::SUBMIT, &[0xff; 16]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "verify: a scan that is not UTF-8",
            raw(method::VERIFY, &field(1, &[0xc3, 0x28])),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "participant: a party that is not UTF-8",
            raw(method::GET_PARTICIPANT, &field(1, &[0xff, 0xfe])),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "entries: start sent as bytes",
            raw(method::GET_ENTRIES, &field(1, b"0")),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "checkpoint: garbage",
            raw(method::GET_CHECKPOINT, &[0x0a, 0x05]),
            Refused(bad, R::MalformedRequest),
        ),
        // Before the fix these three answered tonic's INTERNAL "Missing request message."
        // without a reason code: a client's fault reported as the server's.
        row(
            "capture: a unary call without its message",
            Call::Stream(method::CAPTURE, vec![]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "verify: a unary call without its message",
            Call::Stream(method::VERIFY, vec![]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "follow: a call without its message",
            Call::Stream(method::FOLLOW, vec![]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "capture: two messages to a unary call, the second not protobuf",
            Call::Stream(
                method::CAPTURE,
                vec![Bytes::new(), Bytes::from_static(&[0xff])],
            ),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "capture: two empty messages to a unary call",
            Call::Stream(method::CAPTURE, vec![Bytes::new(), Bytes::new()]),
            Refused(bad, R::EmptyRequest),
        ),
        row(
            "follow: garbage",
            Call::Stream(method::FOLLOW, vec![Bytes::from_static(&[0x0a, 0x05])]),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "verify: a message past the size limit",
            raw(method::VERIFY, &field(1, &vec![b'0'; REQUEST_BYTES_MAX])),
            Refused(too_much, R::MessageTooLarge),
        ),
        row(
            "capture: a message past the size limit",
            raw(
                method::CAPTURE,
                &field(1, &field(1, &vec![0; REQUEST_BYTES_MAX])),
            ),
            Refused(too_much, R::MessageTooLarge),
        ),
    ]
}
