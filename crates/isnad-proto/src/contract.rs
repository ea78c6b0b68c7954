//! The wire contract beyond the `.proto` files, in one place: the metadata entries of a
//! refusal, every reason code the server sends, and the byte and count limits of requests and
//! answers. The server and the client both take them from here.
//!
//! The executor's own rejection codes (`isnad_core::rules::RejectCode`) are part of [`Reason`]
//! under the same names: [`Reason::from`] maps each of them, with an exhaustive match, so a new
//! core code does not compile until it has its place on the wire.

use std::fmt;
use std::str::FromStr;

use isnad_core::rules::{RejectClass, RejectCode};
use tonic::Code;

/// The metadata entry holding a refusal's machine-readable reason code ([`Reason::as_str`]).
pub const REASON_METADATA_KEY: &str = "isnad-reason";

/// The metadata entry holding the position of the refused event in its request (from 0).
pub const EVENT_INDEX_METADATA_KEY: &str = "isnad-event-index";

/// The metadata entry naming the caller's party (GLN-13) in a signed request; with the three
/// below, all four or none. See `isnad_core::envelope::request` for what is signed.
pub const CALLER_PARTY_METADATA_KEY: &str = "isnad-caller-party";

/// The metadata entry holding the caller's public key, 64 lowercase hex digits: a key the
/// registry holds for the caller's party, not revoked.
pub const CALLER_KEY_METADATA_KEY: &str = "isnad-caller-key";

/// The metadata entry holding the caller's clock when it signed, milliseconds since the Unix
/// epoch, in decimal digits.
pub const CALLER_TIME_METADATA_KEY: &str = "isnad-caller-time";

/// The metadata entry holding the request signature, 128 lowercase hex digits.
pub const CALLER_SIGNATURE_METADATA_KEY: &str = "isnad-caller-signature";

/// How far a signed request's time may be from the server's clock, either way; beyond it the
/// request is refused with [`Reason::CallerTimeSkew`]. It bounds how long a captured request
/// can be replayed, and leaves room for the clocks of handhelds.
pub const CALLER_TIME_WINDOW: std::time::Duration = std::time::Duration::from_secs(30);

/// The gRPC methods whose request is a stream of messages: a signed request to one of them
/// signs the digest of the empty string instead of a message's (`CaptureStream`'s events carry
/// their own signatures; reflection is public).
pub const STREAMED_REQUEST_METHODS: &[&str] = &[
    "/isnad.v1.Capture/CaptureStream",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// Whether the request of the method at `path` is a stream ([`STREAMED_REQUEST_METHODS`]).
pub fn is_streamed_request(path: &str) -> bool {
    STREAMED_REQUEST_METHODS.contains(&path)
}

/// The metadata entry of a [`Reason::RateLimited`] refusal: milliseconds after which the
/// caller's next request will be taken, in decimal digits.
pub const RETRY_AFTER_METADATA_KEY: &str = "retry-after-ms";

/// Bytes of one signed event body at most; a longer one is refused with
/// [`Reason::BodyTooLarge`]. The core decides with it, so it is defined there.
pub use isnad_core::envelope::BODY_LEN_MAX;

/// Bytes of one log entry at most: the header, key, signature and a body of
/// [`BODY_LEN_MAX`].
pub use isnad_core::envelope::ENTRY_LEN_MAX;

/// Serials one Commission event carries at most ([`Reason::TooManySerials`] beyond).
pub use isnad_core::limits::SERIALS_PER_COMMISSION_MAX;

/// Items (units, lots, SSCCs) one event carries at most ([`Reason::TooManyItems`] beyond).
pub use isnad_core::limits::ITEMS_PER_EVENT_MAX;

/// Bytes of one scan in a `Verify` request at most ([`Reason::ScanTooLong`] beyond).
pub use isnad_core::scan::SCAN_LEN_MAX;

/// Events in one capture request at most ([`Reason::TooManyEvents`] beyond). The server
/// counts them in the request's wire bytes before decoding it (see [`crate::codec`]).
pub const EVENTS_PER_REQUEST_MAX: usize = 1_000;

/// Serials and items one capture request carries at most, over all its events, each event
/// counting at least 1 (`isnad_core::limits::values_of`); [`Reason::RequestTooLarge`] beyond,
/// refused before the request reaches the sequencer.
pub use isnad_core::limits::VALUES_PER_REQUEST_MAX;

/// Bytes of one gRPC request message the server decodes at most: 4 MiB. It bounds what
/// decoding a request can cost (with the count of events before decoding, a few times the
/// message at most). The three limits of a capture request fit together this way: at most
/// [`EVENTS_PER_REQUEST_MAX`] events, each body at most [`BODY_LEN_MAX`], and all of them in
/// at most this many bytes, whichever comes first: 1,000 events of up to about 4 KiB, or 63
/// events of a full 64 KiB. A client with more splits its batch into several requests by
/// count and by bytes (`isnad_client::bulk::requests` does); each request is atomic on its
/// own. Beyond it the call is refused with `RESOURCE_EXHAUSTED` and
/// [`Reason::MessageTooLarge`].
pub const REQUEST_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Bytes of one `Registry.Submit` request at most: one signed event, its body at most
/// [`BODY_LEN_MAX`], plus its key, signature and framing. A larger message is refused with
/// [`Reason::MessageTooLarge`] before it is decoded.
pub const SIGNED_EVENT_BYTES_MAX: usize = BODY_LEN_MAX + 1024;

/// Bytes of one gRPC answer message the server encodes at most; clients accept answers this
/// large. Every answer is bounded below it: a `GetEntries` or `Follow` answer of
/// [`ENTRIES_PER_RESPONSE_MAX`] entries of [`ENTRY_LEN_MAX`] bytes (checked at compile time
/// below), a history's entries at [`ANSWER_ENTRY_BYTES_MAX`] plus their proofs, a page of
/// inbound shipments at [`INBOUND_SHIPMENTS_PAGE_BYTES_MAX`].
pub const RESPONSE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// The largest `GetEntries` answer fits [`RESPONSE_BYTES_MAX`]: each entry with up to 8 bytes
/// of framing.
const _: () =
    assert!(ENTRIES_PER_RESPONSE_MAX as usize * (ENTRY_LEN_MAX + 8) <= RESPONSE_BYTES_MAX);

/// Entries one `Log.GetEntries` answer (or one message of `Log.Follow`) carries at most
/// ([`Reason::RangeTooLong`] beyond).
pub const ENTRIES_PER_RESPONSE_MAX: u64 = 1_000;

/// `Log.Follow` streams the server serves at once at most, over all connections; one more is
/// refused with [`Reason::TooManyFollowers`]. Each follower holds at most
/// [`FOLLOW_MESSAGES_BUFFERED`] answers in the server's memory.
pub const FOLLOW_STREAMS_MAX: usize = 64;

/// Follow answers the server prepares ahead of a follower's reading, per stream: a follower
/// that stops reading stalls only its own stream, and holds at most this many answers (of up to
/// [`ENTRIES_PER_RESPONSE_MAX`] entries) besides what HTTP/2's flow control window holds.
pub const FOLLOW_MESSAGES_BUFFERED: usize = 1;

/// Concurrent calls (HTTP/2 streams) on one connection at most, as the server announces in
/// its HTTP/2 settings; a client opens more on another connection or waits.
pub const STREAMS_PER_CONNECTION_MAX: u32 = 128;

/// How long the server lets a unary call run, from its request to its answer; beyond it the
/// call ends with `CANCELLED` and no reason code. Streams are bounded by their own rules.
pub const UNARY_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Units per `LotUnits` page at most; a larger page size asked for is lowered to it.
pub const LOT_UNITS_PAGE_MAX: usize = 1_000;

/// Entries per `PartyEvents` page at most; a larger page size asked for is lowered to it.
pub const PARTY_EVENTS_PAGE_MAX: usize = 1_000;

/// Shipments per `InboundShipments` page at most; a larger page size asked for is lowered to
/// it.
pub const INBOUND_SHIPMENTS_PAGE_MAX: usize = 100;

/// Bytes of shipments (as encoded) one `InboundShipments` page carries at most: a page ends
/// early, after the shipment that reaches it, so it holds at least one shipment (of at most
/// about half a MiB: 10,000 items).
pub const INBOUND_SHIPMENTS_PAGE_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Entries in one `Verify` or `History` answer at most ([`Reason::HistoryTooLong`] beyond).
/// The search for a history stops one past it.
pub use isnad_core::limits::HISTORY_ENTRIES_MAX;

/// Sightings (Inspect events) of a unit that a `Verify` answer carries and its verdict
/// weighs: the latest ones. Older ones stay in the log.
pub use isnad_core::limits::SIGHTINGS_JUDGED_MAX;

/// Bytes of log entries one `Verify`, `History` or `PartyEvents` answer carries at most
/// ([`Reason::HistoryTooLong`] beyond): half of [`RESPONSE_BYTES_MAX`], which leaves room for
/// the inclusion proofs, so an answer is refused with a reason before it is built rather than
/// built and then refused by the transport.
pub const ANSWER_ENTRY_BYTES_MAX: usize = RESPONSE_BYTES_MAX / 2;

macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $code:ident;)*) => {
        /// Every reason code the server sends in [`REASON_METADATA_KEY`]. The names are stable:
        /// clients match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reason {
            $($(#[$doc])* $variant,)*
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Self::$variant,)*];

            /// The stable SCREAMING_CASE name sent on the wire, e.g. `NOT_HOLDER`.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// The gRPC status code a refusal with this reason carries.
            pub const fn status(&self) -> Code {
                match self {
                    $(Self::$variant => Code::$code,)*
                }
            }
        }
    };
}

reasons! {
    // Stateless checks of a capture request.
    /// A capture request without events.
    EmptyRequest => "EMPTY_REQUEST", InvalidArgument;
    /// More than [`EVENTS_PER_REQUEST_MAX`] events in one request.
    TooManyEvents => "TOO_MANY_EVENTS", ResourceExhausted;
    /// A signed body longer than [`BODY_LEN_MAX`].
    BodyTooLarge => "BODY_TOO_LARGE", ResourceExhausted;
    /// A public key that is not 32 bytes.
    MalformedKey => "MALFORMED_KEY", InvalidArgument;
    /// A signature that is not 64 bytes.
    MalformedSignature => "MALFORMED_SIGNATURE", InvalidArgument;
    /// A signed body that does not decode into a valid event; the message names the field.
    MalformedBody => "MALFORMED_BODY", InvalidArgument;
    /// A signature that does not verify for its body and key.
    BadSignature => "BAD_SIGNATURE", Unauthenticated;
    /// An event id used before by an event with other bytes.
    EventIdReused => "EVENT_ID_REUSED", AlreadyExists;
    /// The request carries more than [`VALUES_PER_REQUEST_MAX`] serials and items, or its
    /// events write more state than one atomic commit holds; send fewer.
    RequestTooLarge => "REQUEST_TOO_LARGE", ResourceExhausted;
    /// A registry-only call was given an event that is not a registry event.
    NotARegistryEvent => "NOT_A_REGISTRY_EVENT", InvalidArgument;
    /// A request message that is not a valid protobuf encoding of its type, or a call without
    /// the message its method takes.
    MalformedRequest => "MALFORMED_REQUEST", InvalidArgument;
    /// A request message longer than [`REQUEST_BYTES_MAX`] bytes ([`SIGNED_EVENT_BYTES_MAX`]
    /// for `Registry.Submit`).
    MessageTooLarge => "MESSAGE_TOO_LARGE", ResourceExhausted;

    // Callers (signed requests, the read policy, rate limits).
    /// The caller metadata is partial (some of the four entries, not all) or malformed: a party
    /// that is not a GLN-13, a key or signature that is not lowercase hex of its length, a time
    /// that is not decimal digits.
    CallerMalformed => "CALLER_MALFORMED", Unauthenticated;
    /// The caller's key is not registered to the party named, is revoked, or the party is
    /// suspended.
    CallerUnknown => "CALLER_UNKNOWN", Unauthenticated;
    /// The request signature does not verify for this key, method, party, time and message.
    CallerSignatureInvalid => "CALLER_SIGNATURE_INVALID", Unauthenticated;
    /// The request's time is further than [`CALLER_TIME_WINDOW`] from the server's clock.
    CallerTimeSkew => "CALLER_TIME_SKEW", Unauthenticated;
    /// The call reads what only some admitted parties may read: sign the request.
    AuthenticationRequired => "AUTHENTICATION_REQUIRED", Unauthenticated;
    /// The read policy does not let this caller read this.
    NotPermitted => "NOT_PERMITTED", PermissionDenied;
    /// The caller (its party, else its address) sent more requests than its rate allows; retry
    /// after the [`RETRY_AFTER_METADATA_KEY`] milliseconds.
    RateLimited => "RATE_LIMITED", ResourceExhausted;

    // Reads.
    /// A request field does not parse; the message names it.
    MalformedField => "MALFORMED_FIELD", InvalidArgument;
    /// A scan longer than [`SCAN_LEN_MAX`] bytes.
    ScanTooLong => "SCAN_TOO_LONG", ResourceExhausted;
    /// The client's known tree size is beyond this log's size: another log, or a split view.
    KnownSizeAhead => "KNOWN_SIZE_AHEAD", InvalidArgument;
    /// A unit's history has more than [`HISTORY_ENTRIES_MAX`] entries, or its entries more
    /// than [`ANSWER_ENTRY_BYTES_MAX`] bytes.
    HistoryTooLong => "HISTORY_TOO_LONG", ResourceExhausted;
    /// A tree size asked for is beyond the current tree.
    BeyondTreeSize => "BEYOND_TREE_SIZE", InvalidArgument;
    /// The leaf asked for is not in the tree of the size asked for.
    LeafNotInTree => "LEAF_NOT_IN_TREE", NotFound;
    /// No entry has the leaf hash asked for.
    UnknownLeaf => "UNKNOWN_LEAF", NotFound;
    /// An empty entry range or one beyond the tree, or consistency proof sizes out of order.
    BadRange => "BAD_RANGE", InvalidArgument;
    /// An entry range longer than [`ENTRIES_PER_RESPONSE_MAX`] entries.
    RangeTooLong => "RANGE_TOO_LONG", ResourceExhausted;
    /// More `Log.Follow` streams than [`FOLLOW_STREAMS_MAX`] at once; follow again later.
    TooManyFollowers => "TOO_MANY_FOLLOWERS", ResourceExhausted;

    // The server.
    /// The server is shutting down or its sequencer stopped; retry elsewhere or later.
    Unavailable => "UNAVAILABLE", Unavailable;
    /// The server has as many verifications waiting as it queues; retry shortly, with backoff.
    Overloaded => "OVERLOADED", ResourceExhausted;
    /// The server's storage failed: its fault, not the request's.
    Storage => "STORAGE", Internal;
    /// A log entry the answer needs is damaged in the server's storage (it no longer hashes to
    /// its leaf in the tree); the server refuses to serve it. Ask another replica.
    EntryCorrupt => "ENTRY_CORRUPT", DataLoss;
    /// The server failed while applying this request (its fault, logged): nothing of the
    /// request was applied, and the server goes on with other requests.
    Internal => "INTERNAL", Internal;

    // The executor's rules (`isnad_core::rules::RejectCode`, same names).
    /// A field is malformed, empty, too long, or contradicts another field.
    InvalidField => "INVALID_FIELD", InvalidArgument;
    /// An Inspect scan does not parse.
    MalformedScan => "MALFORMED_SCAN", InvalidArgument;
    /// The signing key is not registered.
    UnknownKey => "UNKNOWN_KEY", Unauthenticated;
    /// The signing key was revoked at or before this event's index.
    KeyRevoked => "KEY_REVOKED", Unauthenticated;
    /// The signing key belongs to another party than the actor.
    KeyNotActor => "KEY_NOT_ACTOR", PermissionDenied;
    /// The actor is suspended: its keys sign nothing.
    ParticipantSuspended => "PARTICIPANT_SUSPENDED", PermissionDenied;
    /// The actor has no role that may do this.
    WrongRole => "WRONG_ROLE", PermissionDenied;
    /// The event's site is not one of the actor's sites.
    ForeignSite => "FOREIGN_SITE", PermissionDenied;
    /// The GTIN is not under one of the manufacturer's company prefixes.
    PrefixNotOwned => "PREFIX_NOT_OWNED", PermissionDenied;
    /// The actor is not the product's or lot's manufacturer.
    NotManufacturer => "NOT_MANUFACTURER", PermissionDenied;
    /// The item is held by another party or at another site.
    NotHolder => "NOT_HOLDER", FailedPrecondition;
    /// The shipment is addressed to another party or site.
    NotAddressee => "NOT_ADDRESSEE", FailedPrecondition;
    /// The shipment is no longer in transit: it was received.
    NotInTransit => "NOT_IN_TRANSIT", FailedPrecondition;
    /// The item is in transit: nobody holds it until it is received.
    InTransit => "IN_TRANSIT", FailedPrecondition;
    /// The item is inside an SSCC: it moves only with it until disaggregated.
    InContainer => "IN_CONTAINER", FailedPrecondition;
    /// The item is not directly inside the SSCC named.
    NotInContainer => "NOT_IN_CONTAINER", FailedPrecondition;
    /// The lot is recalled.
    Recalled => "RECALLED", FailedPrecondition;
    /// The lot is already recalled.
    AlreadyRecalled => "ALREADY_RECALLED", FailedPrecondition;
    /// The item was decommissioned: that is terminal.
    Decommissioned => "DECOMMISSIONED", FailedPrecondition;
    /// The lot's expiry has passed at the recorded time.
    Expired => "EXPIRED", FailedPrecondition;
    /// A commission of an existing lot gives another expiry or production date.
    LotMismatch => "LOT_MISMATCH", FailedPrecondition;
    /// The holder has less of a non-serialized lot than the event moves.
    InsufficientQuantity => "INSUFFICIENT_QUANTITY", FailedPrecondition;
    /// The participant is already suspended.
    AlreadySuspended => "ALREADY_SUSPENDED", FailedPrecondition;
    /// The participant is not suspended.
    NotSuspended => "NOT_SUSPENDED", FailedPrecondition;
    /// The key is already revoked.
    KeyAlreadyRevoked => "KEY_ALREADY_REVOKED", FailedPrecondition;
    /// The shipment's addressee is suspended or cannot hold goods.
    DestinationRefused => "DESTINATION_REFUSED", FailedPrecondition;
    /// The serial was already commissioned, or is listed twice.
    DuplicateSerial => "DUPLICATE_SERIAL", AlreadyExists;
    /// The event id was already used.
    DuplicateEventId => "DUPLICATE_EVENT_ID", AlreadyExists;
    /// The GTIN is already registered.
    ProductExists => "PRODUCT_EXISTS", AlreadyExists;
    /// The party is already admitted.
    ParticipantExists => "PARTICIPANT_EXISTS", AlreadyExists;
    /// The public key is already registered.
    KeyExists => "KEY_EXISTS", AlreadyExists;
    /// No such participant.
    UnknownParticipant => "UNKNOWN_PARTICIPANT", NotFound;
    /// The site is not one of the named party's sites.
    UnknownSite => "UNKNOWN_SITE", NotFound;
    /// The GTIN is not registered.
    UnknownProduct => "UNKNOWN_PRODUCT", NotFound;
    /// The lot was never commissioned.
    UnknownLot => "UNKNOWN_LOT", NotFound;
    /// The unit was never commissioned.
    UnknownUnit => "UNKNOWN_UNIT", NotFound;
    /// The SSCC was never packed.
    UnknownSscc => "UNKNOWN_SSCC", NotFound;
    /// No Ship event has this id.
    UnknownShipment => "UNKNOWN_SHIPMENT", NotFound;
    /// The participant has no such key.
    KeyNotFound => "KEY_NOT_FOUND", NotFound;
    /// Too many items in one event (more than [`ITEMS_PER_EVENT_MAX`]).
    TooManyItems => "TOO_MANY_ITEMS", ResourceExhausted;
    /// Too many serials in one Commission (more than [`SERIALS_PER_COMMISSION_MAX`]).
    TooManySerials => "TOO_MANY_SERIALS", ResourceExhausted;
    /// Logistic units would nest deeper than allowed.
    NestingTooDeep => "NESTING_TOO_DEEP", ResourceExhausted;
}

impl From<RejectCode> for Reason {
    /// The wire reason of an executor refusal: the same name.
    fn from(code: RejectCode) -> Reason {
        match code {
            RejectCode::InvalidField => Reason::InvalidField,
            RejectCode::MalformedScan => Reason::MalformedScan,
            RejectCode::UnknownKey => Reason::UnknownKey,
            RejectCode::KeyRevoked => Reason::KeyRevoked,
            RejectCode::KeyNotActor => Reason::KeyNotActor,
            RejectCode::ParticipantSuspended => Reason::ParticipantSuspended,
            RejectCode::WrongRole => Reason::WrongRole,
            RejectCode::ForeignSite => Reason::ForeignSite,
            RejectCode::PrefixNotOwned => Reason::PrefixNotOwned,
            RejectCode::NotManufacturer => Reason::NotManufacturer,
            RejectCode::NotHolder => Reason::NotHolder,
            RejectCode::NotAddressee => Reason::NotAddressee,
            RejectCode::NotInTransit => Reason::NotInTransit,
            RejectCode::InTransit => Reason::InTransit,
            RejectCode::InContainer => Reason::InContainer,
            RejectCode::NotInContainer => Reason::NotInContainer,
            RejectCode::Recalled => Reason::Recalled,
            RejectCode::AlreadyRecalled => Reason::AlreadyRecalled,
            RejectCode::Decommissioned => Reason::Decommissioned,
            RejectCode::Expired => Reason::Expired,
            RejectCode::LotMismatch => Reason::LotMismatch,
            RejectCode::InsufficientQuantity => Reason::InsufficientQuantity,
            RejectCode::AlreadySuspended => Reason::AlreadySuspended,
            RejectCode::NotSuspended => Reason::NotSuspended,
            RejectCode::KeyAlreadyRevoked => Reason::KeyAlreadyRevoked,
            RejectCode::DestinationRefused => Reason::DestinationRefused,
            RejectCode::DuplicateSerial => Reason::DuplicateSerial,
            RejectCode::DuplicateEventId => Reason::DuplicateEventId,
            RejectCode::ProductExists => Reason::ProductExists,
            RejectCode::ParticipantExists => Reason::ParticipantExists,
            RejectCode::KeyExists => Reason::KeyExists,
            RejectCode::UnknownParticipant => Reason::UnknownParticipant,
            RejectCode::UnknownSite => Reason::UnknownSite,
            RejectCode::UnknownProduct => Reason::UnknownProduct,
            RejectCode::UnknownLot => Reason::UnknownLot,
            RejectCode::UnknownUnit => Reason::UnknownUnit,
            RejectCode::UnknownSscc => Reason::UnknownSscc,
            RejectCode::UnknownShipment => Reason::UnknownShipment,
            RejectCode::KeyNotFound => Reason::KeyNotFound,
            RejectCode::TooManyItems => Reason::TooManyItems,
            RejectCode::TooManySerials => Reason::TooManySerials,
            RejectCode::NestingTooDeep => Reason::NestingTooDeep,
        }
    }
}

/// The gRPC status code of each class of executor refusal.
pub const fn class_status(class: RejectClass) -> Code {
    match class {
        RejectClass::InvalidArgument => Code::InvalidArgument,
        RejectClass::Unauthenticated => Code::Unauthenticated,
        RejectClass::PermissionDenied => Code::PermissionDenied,
        RejectClass::FailedPrecondition => Code::FailedPrecondition,
        RejectClass::AlreadyExists => Code::AlreadyExists,
        RejectClass::NotFound => Code::NotFound,
        RejectClass::ResourceExhausted => Code::ResourceExhausted,
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason name this build does not know (a newer server may send one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reason code {0:?}")]
pub struct UnknownReason(pub String);

impl FromStr for Reason {
    type Err = UnknownReason;

    /// Parses a wire name back, e.g. `"NOT_HOLDER"`.
    fn from_str(name: &str) -> Result<Reason, UnknownReason> {
        Reason::ALL
            .iter()
            .find(|reason| reason.as_str() == name)
            .copied()
            .ok_or_else(|| UnknownReason(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// The partner guide, whose reason table must list every code.
    const INTEGRATION_GUIDE: &str = include_str!("../../../docs/integration.md");

    #[test]
    fn every_name_is_unique_and_parses_back() {
        let mut seen = BTreeSet::new();
        for reason in Reason::ALL {
            let name = reason.as_str();
            assert!(seen.insert(name), "{name} is used twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{name} is not SCREAMING_CASE"
            );
            assert_eq!(name.parse::<Reason>(), Ok(*reason));
            assert_eq!(reason.to_string(), name);
        }
        assert_eq!(
            "NOT_A_REASON".parse::<Reason>(),
            Err(UnknownReason("NOT_A_REASON".into()))
        );
    }

    #[test]
    fn every_core_code_keeps_its_name_and_status() {
        for code in RejectCode::ALL {
            let reason = Reason::from(*code);
            assert_eq!(reason.as_str(), code.as_str(), "{code:?}");
            assert_eq!(reason.status(), class_status(code.class()), "{code:?}");
        }
    }

    /// The heading of the guide's table of reason codes.
    const REASON_TABLE_HEADING: &str = "### Reason codes";

    /// The rows `| \`NAME\` | \`STATUS\` | meaning |` of the guide's reason table, by name.
    fn documented_reasons() -> BTreeMap<String, String> {
        let (_, section) = INTEGRATION_GUIDE
            .split_once(REASON_TABLE_HEADING)
            .expect("the guide has a table of reason codes");
        let table = section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .skip(2); // The header row and its separator.
        let mut rows = BTreeMap::new();
        for line in table {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, name, status, meaning, _] = cells[..] else {
                panic!("a reason row has three cells: {line}")
            };
            let (Some(name), Some(status)) = (unquote(name), unquote(status)) else {
                panic!("reason and status are code spans: {line}")
            };
            assert!(name.parse::<Reason>().is_ok(), "{name}: not a reason code");
            assert!(!meaning.is_empty(), "{name}: no meaning");
            let duplicate = rows.insert(name.to_owned(), status.to_owned());
            assert!(duplicate.is_none(), "{name} is documented twice");
        }
        rows
    }

    /// The text of a cell that is exactly one code span.
    fn unquote(cell: &str) -> Option<&str> {
        cell.strip_prefix('`')?.strip_suffix('`')
    }

    #[test]
    fn every_reason_is_documented_with_its_status() {
        let documented = documented_reasons();
        for reason in Reason::ALL {
            let status = documented
                .get(reason.as_str())
                .unwrap_or_else(|| panic!("{reason} is missing from docs/integration.md"));
            assert_eq!(
                status,
                &status_name(reason.status()),
                "{reason}: the guide gives another status"
            );
        }
    }

    /// The canonical name of a gRPC status code, as written in the guide.
    fn status_name(code: Code) -> String {
        let name = format!("{code:?}");
        let mut screaming = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                screaming.push('_');
            }
            screaming.push(c.to_ascii_uppercase());
        }
        screaming
    }
}
