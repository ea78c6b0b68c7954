//! The executor's rules, table by table: every event type with its allowed cases and each
//! refused case with its reason code. Every row starts from the same scenario (regulator,
//! manufacturer, distributor, hospital, inspector admitted, one product registered), runs its
//! setup, submits one event, and checks the outcome through `check`: an accepted event changes
//! the state, a refused one leaves it exactly as it was.

use std::collections::BTreeSet;

use isnad_core::event::{
    DecommissionReason, Event, Item, Payload, PublicKey, ReasonCode, Role, SerialRange,
};
use isnad_core::limits::{
    ITEMS_PER_EVENT_MAX, NAME_LEN_MAX, PARTICIPANT_LIST_MAX, REASON_LEN_MAX,
    SERIALS_PER_COMMISSION_MAX, SSCC_NESTING_MAX,
};
use isnad_core::rules::{ApplyError, RejectClass, RejectCode};
use isnad_testkit::{Actor, DAY_MS, Scenario, Who, date, gln, gtin, signing_key, sscc_number};

/// What a row's setup hands to `check`: the signing key and the event to submit.
type Submission = (PublicKey, Event);

/// A row: its name, its setup, and the expected refusal (`None`: accepted).
type Row = (
    &'static str,
    fn(&mut Scenario) -> Submission,
    Option<RejectCode>,
);

#[track_caller]
fn check(name: &str, setup: fn(&mut Scenario) -> Submission, expected: Option<RejectCode>) {
    let mut scenario = Scenario::new();
    let (signer, event) = setup(&mut scenario);
    let before = scenario.state.digest();
    let outcome = scenario.submit_signed(event, signer);
    let after = scenario.state.digest();
    match (outcome, expected) {
        (Ok(_), None) => assert_ne!(before, after, "{name}: accepted but wrote nothing"),
        (Err(ApplyError::Rejected(rejection)), Some(code)) => {
            assert_eq!(
                rejection.code, code,
                "{name}: refused for another reason: {rejection}"
            );
            assert!(!rejection.message.is_empty(), "{name}: a refusal says why");
            assert_eq!(before, after, "{name}: a refused event changed the state");
        }
        (outcome, expected) => panic!("{name}: expected {expected:?}, got {outcome:?}"),
    }
}

fn check_table(rows: &[Row]) {
    for (name, setup, expected) in rows {
        check(name, *setup, *expected);
    }
}

/// `who` signs `payload` at its first site with its own key.
fn by(scenario: &mut Scenario, who: Who, payload: Payload) -> Submission {
    (
        scenario.actor(who).public_key(),
        scenario.event(who, payload),
    )
}

/// `who` signs `payload` at `site` with its own key.
fn at(
    scenario: &mut Scenario,
    who: Who,
    site: isnad_core::gs1::Gln,
    payload: Payload,
) -> Submission {
    (
        scenario.actor(who).public_key(),
        scenario.event_at(who, site, payload),
    )
}

fn newcomer() -> Actor {
    Actor::new(7, "Pharmacie Atlas", vec![Role::HealthFacility], Vec::new())
}

fn rival() -> Actor {
    Actor::new(
        8,
        "Rival Devices",
        vec![Role::Manufacturer],
        vec!["6119999".to_owned()],
    )
}

fn admit_rival(scenario: &mut Scenario) -> Actor {
    let rival = rival();
    scenario.accept(Who::Regulator, Payload::AdmitParticipant(rival.admit()));
    rival
}

fn suspend(scenario: &mut Scenario, who: Who) {
    let party = scenario.actor(who).party;
    scenario.accept(
        Who::Regulator,
        Payload::SuspendParticipant {
            party,
            reason: "audit".to_owned(),
        },
    );
}

/// Replaces `who`'s key by a new one; returns the revoked key.
fn rotate_key(scenario: &mut Scenario, who: Who) -> PublicKey {
    let party = scenario.actor(who).party;
    let old = scenario.actor(who).public_key();
    let new_key = signing_key(40 + who as u8);
    let public_key = PublicKey(new_key.verifying_key().to_bytes());
    scenario.accept(Who::Regulator, Payload::AddKey { party, public_key });
    scenario.accept(
        Who::Regulator,
        Payload::RevokeKey {
            party,
            public_key: old,
            compromised_since_unix_ms: None,
        },
    );
    scenario.actor_mut(who).signing_key = new_key;
    old
}

fn unit_item(scenario: &Scenario, serial: &str) -> Item {
    Item::Unit(scenario.unit(serial))
}

/// Commissions `SN1` and `SN2` of lot `L1`.
fn two_units(scenario: &mut Scenario) -> (Item, Item) {
    scenario.commission("L1", &["SN1", "SN2"]);
    (unit_item(scenario, "SN1"), unit_item(scenario, "SN2"))
}

/// Two units at the distributor, received.
fn units_at_distributor(scenario: &mut Scenario) -> (Item, Item) {
    let (first, second) = two_units(scenario);
    scenario.deliver(
        Who::Manufacturer,
        vec![first.clone(), second.clone()],
        Who::Distributor,
    );
    (first, second)
}

/// `SN1` and `SN2` packed into SSCC 1 at the manufacturer.
fn packed(scenario: &mut Scenario) -> Item {
    let (first, second) = two_units(scenario);
    scenario.aggregate(Who::Manufacturer, sscc_number(1), vec![first, second]);
    Item::Sscc(sscc_number(1))
}

fn recall_l1(scenario: &mut Scenario) {
    let lot = scenario.lot("L1");
    scenario.accept(
        Who::Manufacturer,
        Payload::Recall {
            lot,
            reason: "sterility".to_owned(),
        },
    );
}

fn signer_and_actor_rules_rows() -> Vec<Row> {
    vec![
        (
            "a registered key of the actor signs",
            |s| {
                by(
                    s,
                    Who::Regulator,
                    Payload::AdmitParticipant(newcomer().admit()),
                )
            },
            None,
        ),
        (
            "an unknown key signs",
            |s| {
                let (_, event) = by(
                    s,
                    Who::Regulator,
                    Payload::AdmitParticipant(newcomer().admit()),
                );
                (PublicKey(signing_key(77).verifying_key().to_bytes()), event)
            },
            Some(RejectCode::UnknownKey),
        ),
        (
            "a revoked key signs",
            |s| {
                let old = rotate_key(s, Who::Manufacturer);
                let (_, event) = by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]));
                (old, event)
            },
            Some(RejectCode::KeyRevoked),
        ),
        (
            "the rotated-in key signs",
            |s| {
                rotate_key(s, Who::Manufacturer);
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]))
            },
            None,
        ),
        (
            "another party's key signs for the actor",
            |s| {
                let (_, event) = by(
                    s,
                    Who::Regulator,
                    Payload::AdmitParticipant(newcomer().admit()),
                );
                (s.manufacturer.public_key(), event)
            },
            Some(RejectCode::KeyNotActor),
        ),
        (
            "a suspended participant signs",
            |s| {
                suspend(s, Who::Manufacturer);
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]))
            },
            Some(RejectCode::ParticipantSuspended),
        ),
        (
            "a reinstated participant signs",
            |s| {
                suspend(s, Who::Manufacturer);
                let party = s.manufacturer.party;
                s.accept(Who::Regulator, Payload::ReinstateParticipant { party });
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]))
            },
            None,
        ),
        (
            "the actor acts at another party's site",
            |s| {
                let site = s.distributor.site;
                at(
                    s,
                    Who::Manufacturer,
                    site,
                    s.commission_payload("L1", &["SN1"]),
                )
            },
            Some(RejectCode::ForeignSite),
        ),
        (
            "the actor acts at its second site",
            |s| {
                let site = s.manufacturer.other_site;
                at(
                    s,
                    Who::Manufacturer,
                    site,
                    s.commission_payload("L1", &["SN1"]),
                )
            },
            None,
        ),
        (
            "an event id is used twice",
            |s| {
                let (signer, event) =
                    by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]));
                s.accept_event(Who::Manufacturer, event.clone());
                let mut again = event;
                again.payload = s.commission_payload("L1", &["SN2"]);
                (signer, again)
            },
            Some(RejectCode::DuplicateEventId),
        ),
    ]
}

fn registry_events_rows() -> Vec<Row> {
    vec![
        (
            "the regulator admits",
            |s| {
                by(
                    s,
                    Who::Regulator,
                    Payload::AdmitParticipant(newcomer().admit()),
                )
            },
            None,
        ),
        (
            "a manufacturer admits",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    Payload::AdmitParticipant(newcomer().admit()),
                )
            },
            Some(RejectCode::WrongRole),
        ),
        (
            "an admitted party is admitted again",
            |s| {
                let admit = s.distributor.admit();
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Some(RejectCode::ParticipantExists),
        ),
        (
            "an admission reuses a registered key",
            |s| {
                let mut admit = newcomer().admit();
                admit.public_keys = vec![s.distributor.public_key()];
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Some(RejectCode::KeyExists),
        ),
        (
            "an admission without roles",
            |s| {
                let mut admit = newcomer().admit();
                admit.roles.clear();
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "an admission with a site twice",
            |s| {
                let mut admit = newcomer().admit();
                admit.sites = vec![admit.sites[0], admit.sites[0]];
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "an admission with a five-digit company prefix",
            |s| {
                let mut admit = rival().admit();
                admit.company_prefixes = vec!["61199".to_owned()];
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "an admission with an empty name",
            |s| {
                let mut admit = newcomer().admit();
                admit.name.clear();
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "an admission with a name at the length limit",
            |s| {
                let mut admit = newcomer().admit();
                admit.name = "N".repeat(NAME_LEN_MAX);
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            None,
        ),
        (
            "an admission with a name one past the length limit",
            |s| {
                let mut admit = newcomer().admit();
                admit.name = "N".repeat(NAME_LEN_MAX + 1);
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "an admission with one site past the list limit",
            |s| {
                let mut admit = newcomer().admit();
                admit.sites = (0..=PARTICIPANT_LIST_MAX)
                    .map(|n| gln(&format!("6120000{n:05}")))
                    .collect();
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "a suspension whose reason is one past the length limit",
            |s| {
                let party = s.distributor.party;
                let reason = "r".repeat(REASON_LEN_MAX + 1);
                by(
                    s,
                    Who::Regulator,
                    Payload::SuspendParticipant { party, reason },
                )
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "the regulator suspends",
            |s| {
                let party = s.distributor.party;
                by(
                    s,
                    Who::Regulator,
                    Payload::SuspendParticipant {
                        party,
                        reason: "audit".to_owned(),
                    },
                )
            },
            None,
        ),
        (
            "a distributor suspends",
            |s| {
                let party = s.hospital.party;
                by(
                    s,
                    Who::Distributor,
                    Payload::SuspendParticipant {
                        party,
                        reason: String::new(),
                    },
                )
            },
            Some(RejectCode::WrongRole),
        ),
        (
            "the regulator suspends itself",
            |s| {
                let party = s.regulator.party;
                by(
                    s,
                    Who::Regulator,
                    Payload::SuspendParticipant {
                        party,
                        reason: String::new(),
                    },
                )
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "a suspended party is suspended again",
            |s| {
                suspend(s, Who::Distributor);
                let party = s.distributor.party;
                by(
                    s,
                    Who::Regulator,
                    Payload::SuspendParticipant {
                        party,
                        reason: String::new(),
                    },
                )
            },
            Some(RejectCode::AlreadySuspended),
        ),
        (
            "an unknown party is suspended",
            |s| {
                let party = newcomer().party;
                by(
                    s,
                    Who::Regulator,
                    Payload::SuspendParticipant {
                        party,
                        reason: String::new(),
                    },
                )
            },
            Some(RejectCode::UnknownParticipant),
        ),
        (
            "the regulator reinstates",
            |s| {
                suspend(s, Who::Distributor);
                let party = s.distributor.party;
                by(s, Who::Regulator, Payload::ReinstateParticipant { party })
            },
            None,
        ),
        (
            "an active party is reinstated",
            |s| {
                let party = s.distributor.party;
                by(s, Who::Regulator, Payload::ReinstateParticipant { party })
            },
            Some(RejectCode::NotSuspended),
        ),
        (
            "the regulator adds a key",
            |s| {
                let party = s.distributor.party;
                let public_key = PublicKey(signing_key(60).verifying_key().to_bytes());
                by(s, Who::Regulator, Payload::AddKey { party, public_key })
            },
            None,
        ),
        (
            "a hospital adds a key",
            |s| {
                let party = s.hospital.party;
                let public_key = PublicKey(signing_key(60).verifying_key().to_bytes());
                by(s, Who::Hospital, Payload::AddKey { party, public_key })
            },
            Some(RejectCode::WrongRole),
        ),
        (
            "a registered key is added again",
            |s| {
                let party = s.distributor.party;
                let public_key = s.manufacturer.public_key();
                by(s, Who::Regulator, Payload::AddKey { party, public_key })
            },
            Some(RejectCode::KeyExists),
        ),
        (
            "a key is added to an unknown party",
            |s| {
                let party = newcomer().party;
                let public_key = PublicKey(signing_key(60).verifying_key().to_bytes());
                by(s, Who::Regulator, Payload::AddKey { party, public_key })
            },
            Some(RejectCode::UnknownParticipant),
        ),
        (
            "the regulator revokes a key as compromised",
            |s| {
                let (party, public_key) = (s.distributor.party, s.distributor.public_key());
                let since = Some(s.clock_unix_ms - DAY_MS);
                by(
                    s,
                    Who::Regulator,
                    Payload::RevokeKey {
                        party,
                        public_key,
                        compromised_since_unix_ms: since,
                    },
                )
            },
            None,
        ),
        (
            "a key of another party is revoked",
            |s| {
                let (party, public_key) = (s.distributor.party, s.hospital.public_key());
                by(
                    s,
                    Who::Regulator,
                    Payload::RevokeKey {
                        party,
                        public_key,
                        compromised_since_unix_ms: None,
                    },
                )
            },
            Some(RejectCode::KeyNotFound),
        ),
        (
            "a revoked key is revoked again",
            |s| {
                let old = rotate_key(s, Who::Distributor);
                let party = s.distributor.party;
                by(
                    s,
                    Who::Regulator,
                    Payload::RevokeKey {
                        party,
                        public_key: old,
                        compromised_since_unix_ms: None,
                    },
                )
            },
            Some(RejectCode::KeyAlreadyRevoked),
        ),
    ]
}

fn register_product_rows() -> Vec<Row> {
    vec![
        (
            "a GTIN under the manufacturer's prefix",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.register_product_payload(gtin("0611123400002")),
                )
            },
            None,
        ),
        (
            "a GTIN under another prefix",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.register_product_payload(gtin("0611999900002")),
                )
            },
            Some(RejectCode::PrefixNotOwned),
        ),
        (
            "a registered GTIN again",
            |s| by(s, Who::Manufacturer, s.register_product_payload(s.gtin)),
            Some(RejectCode::ProductExists),
        ),
        (
            "a distributor registers",
            |s| {
                by(
                    s,
                    Who::Distributor,
                    s.register_product_payload(gtin("0611123400002")),
                )
            },
            Some(RejectCode::WrongRole),
        ),
        (
            "a product without a name",
            |s| {
                let mut payload = s.register_product_payload(gtin("0611123400002"));
                if let Payload::RegisterProduct { name, .. } = &mut payload {
                    name.clear();
                }
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::InvalidField),
        ),
    ]
}

fn commission_with(scenario: &Scenario, change: impl FnOnce(&mut Payload)) -> Payload {
    let mut payload = scenario.commission_payload("L1", &["SN1"]);
    change(&mut payload);
    payload
}

fn commission_rows() -> Vec<Row> {
    vec![
        (
            "listed serials",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_payload("L1", &["SN1", "SN2"]),
                )
            },
            None,
        ),
        (
            "a range of serials",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_range_payload("L1", "R", 100),
                )
            },
            None,
        ),
        (
            "a non-serialized quantity",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_quantity_payload("Q1", 500),
                )
            },
            None,
        ),
        (
            "more serials of a lot, same dates",
            |s| {
                s.commission("L1", &["SN1"]);
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN2"]))
            },
            None,
        ),
        (
            "exactly the serial limit",
            |s| {
                let count = u32::try_from(SERIALS_PER_COMMISSION_MAX).expect("fits");
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_range_payload("L1", "R", count),
                )
            },
            None,
        ),
        (
            "one serial past the limit",
            |s| {
                let count = u32::try_from(SERIALS_PER_COMMISSION_MAX).expect("fits");
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission { serial_ranges, .. } = payload {
                        serial_ranges.push(SerialRange {
                            prefix: "R".to_owned(),
                            first: 1,
                            count,
                            width: 6,
                        });
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::TooManySerials),
        ),
        (
            "a distributor commissions",
            |s| by(s, Who::Distributor, s.commission_payload("L1", &["SN1"])),
            Some(RejectCode::WrongRole),
        ),
        (
            "at the distributor's site",
            |s| {
                let site = s.distributor.site;
                at(
                    s,
                    Who::Manufacturer,
                    site,
                    s.commission_payload("L1", &["SN1"]),
                )
            },
            Some(RejectCode::ForeignSite),
        ),
        (
            "an unregistered GTIN",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission { lot, .. } = payload {
                        lot.gtin = gtin("0611123400002");
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::UnknownProduct),
        ),
        (
            "another manufacturer's product",
            |s| {
                admit_rival(s);
                let rival = rival();
                let event = s.event(Who::Manufacturer, s.commission_payload("L1", &["SN1"]));
                let event = Event {
                    actor: rival.party,
                    site: rival.site,
                    ..event
                };
                (rival.public_key(), event)
            },
            Some(RejectCode::NotManufacturer),
        ),
        (
            "a serial already commissioned",
            |s| {
                s.commission("L1", &["SN1"]);
                by(s, Who::Manufacturer, s.commission_payload("L2", &["SN1"]))
            },
            Some(RejectCode::DuplicateSerial),
        ),
        (
            "a serial listed twice",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_payload("L1", &["SN1", "SN1"]),
                )
            },
            Some(RejectCode::DuplicateSerial),
        ),
        (
            "a serial both listed and in a range",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission {
                        serials,
                        serial_ranges,
                        ..
                    } = payload
                    {
                        *serials = vec!["R000002".parse().expect("valid serial")];
                        serial_ranges.push(SerialRange {
                            prefix: "R".to_owned(),
                            first: 1,
                            count: 3,
                            width: 6,
                        });
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::DuplicateSerial),
        ),
        (
            "a range whose serials are too long",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission { serial_ranges, .. } = payload {
                        serial_ranges.push(SerialRange {
                            prefix: "P".repeat(15),
                            first: 1,
                            count: 1,
                            width: 6,
                        });
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "a lot again with another expiry",
            |s| {
                s.commission("L1", &["SN1"]);
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission {
                        expiry, serials, ..
                    } = payload
                    {
                        *expiry = date("291231");
                        *serials = vec!["SN2".parse().expect("valid serial")];
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::LotMismatch),
        ),
        (
            "an expired lot",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission {
                        expiry,
                        production_date,
                        ..
                    } = payload
                    {
                        *expiry = date("251231");
                        *production_date = None;
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::Expired),
        ),
        (
            "produced after it expires",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission {
                        production_date, ..
                    } = payload
                    {
                        *production_date = Some(date("290101"));
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "nothing to commission",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission { serials, .. } = payload {
                        serials.clear();
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "more units of a recalled lot",
            |s| {
                s.commission("L1", &["SN1"]);
                recall_l1(s);
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN2"]))
            },
            Some(RejectCode::Recalled),
        ),
    ]
}

fn aggregate_rows() -> Vec<Row> {
    vec![
        (
            "units into a new SSCC",
            |s| {
                let (first, second) = two_units(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first, second],
                    },
                )
            },
            None,
        ),
        (
            "a unit into an existing SSCC",
            |s| {
                let (first, second) = two_units(s);
                s.aggregate(Who::Manufacturer, sscc_number(1), vec![first]);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![second],
                    },
                )
            },
            None,
        ),
        (
            "a case onto a pallet",
            |s| {
                let case = packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(2),
                        items: vec![case],
                    },
                )
            },
            None,
        ),
        (
            "an inspector packs",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Inspector,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Some(RejectCode::WrongRole),
        ),
        (
            "someone else's unit",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Distributor,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Some(RejectCode::NotHolder),
        ),
        (
            "a unit held at the actor's other site",
            |s| {
                let (first, _) = two_units(s);
                let site = s.manufacturer.other_site;
                at(
                    s,
                    Who::Manufacturer,
                    site,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Some(RejectCode::NotHolder),
        ),
        (
            "a unit in transit",
            |s| {
                let (first, _) = two_units(s);
                s.ship(Who::Manufacturer, vec![first.clone()], Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Some(RejectCode::InTransit),
        ),
        (
            "a decommissioned unit",
            |s| {
                let (first, _) = two_units(s);
                s.decommission(
                    Who::Manufacturer,
                    vec![first.clone()],
                    DecommissionReason::Destroyed,
                );
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Some(RejectCode::Decommissioned),
        ),
        (
            "a unit already packed",
            |s| {
                packed(s);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(2),
                        items: vec![first],
                    },
                )
            },
            Some(RejectCode::InContainer),
        ),
        (
            "a unit never commissioned",
            |s| {
                let ghost = unit_item(s, "GHOST");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![ghost],
                    },
                )
            },
            Some(RejectCode::UnknownUnit),
        ),
        (
            "a recalled unit",
            |s| {
                let (first, _) = two_units(s);
                recall_l1(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Some(RejectCode::Recalled),
        ),
        (
            "a lot quantity",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let item = Item::LotQuantity {
                    lot: s.lot("Q1"),
                    quantity: 5,
                };
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![item],
                    },
                )
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "an SSCC into itself",
            |s| {
                let case = packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![case],
                    },
                )
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "into an SSCC that is inside another",
            |s| {
                let case = packed(s);
                s.aggregate(Who::Manufacturer, sscc_number(2), vec![case]);
                s.commission("L1", &["SN3"]);
                let third = unit_item(s, "SN3");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![third],
                    },
                )
            },
            Some(RejectCode::InContainer),
        ),
        (
            "the same unit twice",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first.clone(), first],
                    },
                )
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "no items",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "one item past the limit",
            |s| {
                let items = (0..=ITEMS_PER_EVENT_MAX)
                    .map(|n| unit_item(s, &format!("N{n}")))
                    .collect();
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items,
                    },
                )
            },
            Some(RejectCode::TooManyItems),
        ),
        (
            "nesting at the limit",
            |s| {
                nest(s, SSCC_NESTING_MAX - 2);
                let top = Item::Sscc(sscc_number(SSCC_NESTING_MAX as u32 - 1));
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(100),
                        items: vec![top],
                    },
                )
            },
            None,
        ),
        (
            "nesting one level past the limit",
            |s| {
                nest(s, SSCC_NESTING_MAX - 1);
                let top = Item::Sscc(sscc_number(SSCC_NESTING_MAX as u32));
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(100),
                        items: vec![top],
                    },
                )
            },
            Some(RejectCode::NestingTooDeep),
        ),
    ]
}

/// A unit in SSCC 1, SSCC 1 in SSCC 2, and so on: `levels + 1` levels of SSCCs whose top is
/// SSCC `levels + 1`.
fn nest(scenario: &mut Scenario, levels: usize) {
    let (first, _) = two_units(scenario);
    scenario.aggregate(Who::Manufacturer, sscc_number(1), vec![first]);
    for level in 1..=levels as u32 {
        scenario.aggregate(
            Who::Manufacturer,
            sscc_number(level + 1),
            vec![Item::Sscc(sscc_number(level))],
        );
    }
}

fn disaggregate_rows() -> Vec<Row> {
    vec![
        (
            "everything out",
            |s| {
                packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            None,
        ),
        (
            "one unit out",
            |s| {
                packed(s);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            None,
        ),
        (
            "a received case, at the distributor",
            |s| {
                let case = packed(s);
                s.deliver(Who::Manufacturer, vec![case], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            None,
        ),
        (
            "an unknown SSCC",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(9),
                        items: Vec::new(),
                    },
                )
            },
            Some(RejectCode::UnknownSscc),
        ),
        (
            "someone else's SSCC",
            |s| {
                packed(s);
                by(
                    s,
                    Who::Distributor,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            Some(RejectCode::NotHolder),
        ),
        (
            "an SSCC in transit",
            |s| {
                let case = packed(s);
                s.ship(Who::Manufacturer, vec![case], Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            Some(RejectCode::InTransit),
        ),
        (
            "a unit that is not inside",
            |s| {
                packed(s);
                s.commission("L1", &["SN3"]);
                let third = unit_item(s, "SN3");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: vec![third],
                    },
                )
            },
            Some(RejectCode::NotInContainer),
        ),
    ]
}

fn ship_rows() -> Vec<Row> {
    vec![
        (
            "a unit",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            None,
        ),
        (
            "a case",
            |s| {
                let case = packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![case], Who::Distributor),
                )
            },
            None,
        ),
        (
            "a lot quantity",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let item = Item::LotQuantity {
                    lot: s.lot("Q1"),
                    quantity: 10,
                };
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![item], Who::Distributor),
                )
            },
            None,
        ),
        (
            "between the actor's own sites",
            |s| {
                let (first, _) = two_units(s);
                let (party, site) = (s.manufacturer.party, s.manufacturer.other_site);
                let payload = Payload::Ship {
                    items: vec![first],
                    destination_party: party,
                    destination_site: site,
                };
                by(s, Who::Manufacturer, payload)
            },
            None,
        ),
        (
            "to the site the goods are at",
            |s| {
                let (first, _) = two_units(s);
                let (party, site) = (s.manufacturer.party, s.manufacturer.site);
                let payload = Payload::Ship {
                    items: vec![first],
                    destination_party: party,
                    destination_site: site,
                };
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "an inspector ships",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Inspector,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Some(RejectCode::WrongRole),
        ),
        (
            "from another party's site",
            |s| {
                let (first, _) = two_units(s);
                let site = s.hospital.site;
                at(
                    s,
                    Who::Manufacturer,
                    site,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Some(RejectCode::ForeignSite),
        ),
        (
            "someone else's unit",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Distributor,
                    s.ship_payload(vec![first], Who::Hospital),
                )
            },
            Some(RejectCode::NotHolder),
        ),
        (
            "a unit already shipped",
            |s| {
                let (first, _) = two_units(s);
                s.ship(Who::Manufacturer, vec![first.clone()], Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Hospital),
                )
            },
            Some(RejectCode::InTransit),
        ),
        (
            "a unit shipped on by its new holder",
            |s| {
                let (first, _) = units_at_distributor(s);
                by(
                    s,
                    Who::Distributor,
                    s.ship_payload(vec![first], Who::Hospital),
                )
            },
            None,
        ),
        (
            "a unit by its former holder",
            |s| {
                let (first, _) = units_at_distributor(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Hospital),
                )
            },
            Some(RejectCode::NotHolder),
        ),
        (
            "a decommissioned unit",
            |s| {
                let (first, _) = two_units(s);
                s.decommission(
                    Who::Manufacturer,
                    vec![first.clone()],
                    DecommissionReason::Destroyed,
                );
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Some(RejectCode::Decommissioned),
        ),
        (
            "a recalled unit",
            |s| {
                let (first, _) = two_units(s);
                recall_l1(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Some(RejectCode::Recalled),
        ),
        (
            "a case holding a recalled unit",
            |s| {
                let case = packed(s);
                recall_l1(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![case], Who::Distributor),
                )
            },
            Some(RejectCode::Recalled),
        ),
        (
            "an expired unit",
            |s| {
                let (first, _) = two_units(s);
                s.advance_days(3 * 366);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Some(RejectCode::Expired),
        ),
        (
            "a unit inside a case",
            |s| {
                packed(s);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Some(RejectCode::InContainer),
        ),
        (
            "a case inside a pallet",
            |s| {
                let case = packed(s);
                s.aggregate(Who::Manufacturer, sscc_number(2), vec![case.clone()]);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![case], Who::Distributor),
                )
            },
            Some(RejectCode::InContainer),
        ),
        (
            "a unit never commissioned",
            |s| {
                let ghost = unit_item(s, "GHOST");
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![ghost], Who::Distributor),
                )
            },
            Some(RejectCode::UnknownUnit),
        ),
        (
            "more of a lot than held",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let item = Item::LotQuantity {
                    lot: s.lot("Q1"),
                    quantity: 11,
                };
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![item], Who::Distributor),
                )
            },
            Some(RejectCode::InsufficientQuantity),
        ),
        (
            "a quantity of a lot never commissioned",
            |s| {
                let item = Item::LotQuantity {
                    lot: s.lot("Q9"),
                    quantity: 1,
                };
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![item], Who::Distributor),
                )
            },
            Some(RejectCode::UnknownLot),
        ),
        (
            "to a party never admitted",
            |s| {
                let (first, _) = two_units(s);
                let stranger = newcomer();
                let payload = Payload::Ship {
                    items: vec![first],
                    destination_party: stranger.party,
                    destination_site: stranger.site,
                };
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::UnknownParticipant),
        ),
        (
            "to a site that is not the addressee's",
            |s| {
                let (first, _) = two_units(s);
                let (party, site) = (s.distributor.party, s.hospital.site);
                let payload = Payload::Ship {
                    items: vec![first],
                    destination_party: party,
                    destination_site: site,
                };
                by(s, Who::Manufacturer, payload)
            },
            Some(RejectCode::UnknownSite),
        ),
        (
            "to a suspended party",
            |s| {
                let (first, _) = two_units(s);
                suspend(s, Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Some(RejectCode::DestinationRefused),
        ),
        (
            "to an inspector",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Inspector),
                )
            },
            Some(RejectCode::DestinationRefused),
        ),
        (
            "exactly the item limit",
            |s| {
                let count = u32::try_from(ITEMS_PER_EVENT_MAX).expect("fits");
                s.accept(
                    Who::Manufacturer,
                    s.commission_range_payload("L1", "R", count),
                );
                let items = (1..=ITEMS_PER_EVENT_MAX)
                    .map(|n| unit_item(s, &format!("R{n:06}")))
                    .collect();
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(items, Who::Distributor),
                )
            },
            None,
        ),
        (
            "one item past the limit",
            |s| {
                let items = (0..=ITEMS_PER_EVENT_MAX)
                    .map(|n| unit_item(s, &format!("N{n}")))
                    .collect();
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(items, Who::Distributor),
                )
            },
            Some(RejectCode::TooManyItems),
        ),
    ]
}

fn receive_rows() -> Vec<Row> {
    vec![
        (
            "the whole shipment",
            |s| {
                let (first, second) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first, second], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            None,
        ),
        (
            "with a unit missing",
            |s| {
                let (first, second) = two_units(s);
                let shipment = s.ship(
                    Who::Manufacturer,
                    vec![first, second.clone()],
                    Who::Distributor,
                );
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: vec![second],
                    },
                )
            },
            None,
        ),
        (
            "with part of a quantity missing",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let lot = s.lot("Q1");
                let item = Item::LotQuantity {
                    lot: lot.clone(),
                    quantity: 10,
                };
                let shipment = s.ship(Who::Manufacturer, vec![item], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: vec![Item::LotQuantity { lot, quantity: 3 }],
                    },
                )
            },
            None,
        ),
        (
            "by a party it is not addressed to",
            |s| {
                let (first, _) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first], Who::Distributor);
                by(
                    s,
                    Who::Hospital,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Some(RejectCode::NotAddressee),
        ),
        (
            "by the addressee at another of its sites",
            |s| {
                let (first, _) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first], Who::Distributor);
                let site = s.distributor.other_site;
                at(
                    s,
                    Who::Distributor,
                    site,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Some(RejectCode::NotAddressee),
        ),
        (
            "a shipment already received",
            |s| {
                let (first, _) = two_units(s);
                let shipment = s.deliver(Who::Manufacturer, vec![first], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Some(RejectCode::NotInTransit),
        ),
        (
            "an unknown shipment",
            |s| {
                let shipment = s.fresh_id();
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Some(RejectCode::UnknownShipment),
        ),
        (
            "a missing item that was not shipped",
            |s| {
                let (first, second) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: vec![second],
                    },
                )
            },
            Some(RejectCode::InvalidField),
        ),
        (
            "an inspector receives",
            |s| {
                let (first, _) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first], Who::Distributor);
                by(
                    s,
                    Who::Inspector,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Some(RejectCode::WrongRole),
        ),
    ]
}

fn decommission_payload(items: Vec<Item>, reason: DecommissionReason) -> Payload {
    Payload::Decommission { items, reason }
}

fn decommission_rows() -> Vec<Row> {
    vec![
        (
            "a distributor destroys a unit",
            |s| {
                let (first, _) = units_at_distributor(s);
                by(
                    s,
                    Who::Distributor,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            None,
        ),
        (
            "a hospital uses a unit",
            |s| {
                let (first, _) = units_at_distributor(s);
                s.deliver(Who::Distributor, vec![first.clone()], Who::Hospital);
                by(
                    s,
                    Who::Hospital,
                    decommission_payload(vec![first], DecommissionReason::Used),
                )
            },
            None,
        ),
        (
            "a manufacturer destroys a case",
            |s| {
                let case = packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![case], DecommissionReason::Destroyed),
                )
            },
            None,
        ),
        (
            "a recalled unit is destroyed",
            |s| {
                let (first, _) = two_units(s);
                recall_l1(s);
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            None,
        ),
        (
            "a distributor dispenses",
            |s| {
                let (first, _) = units_at_distributor(s);
                by(
                    s,
                    Who::Distributor,
                    decommission_payload(vec![first], DecommissionReason::Dispensed),
                )
            },
            Some(RejectCode::WrongRole),
        ),
        (
            "someone else's unit",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Distributor,
                    decommission_payload(vec![first], DecommissionReason::Stolen),
                )
            },
            Some(RejectCode::NotHolder),
        ),
        (
            "a unit twice",
            |s| {
                let (first, _) = two_units(s);
                s.decommission(
                    Who::Manufacturer,
                    vec![first.clone()],
                    DecommissionReason::Sample,
                );
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            Some(RejectCode::Decommissioned),
        ),
        (
            "a unit inside a destroyed case",
            |s| {
                let case = packed(s);
                s.decommission(Who::Manufacturer, vec![case], DecommissionReason::Destroyed);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            Some(RejectCode::Decommissioned),
        ),
        (
            "a unit inside a case",
            |s| {
                packed(s);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            Some(RejectCode::InContainer),
        ),
        (
            "a unit in transit",
            |s| {
                let (first, _) = two_units(s);
                s.ship(Who::Manufacturer, vec![first.clone()], Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Stolen),
                )
            },
            Some(RejectCode::InTransit),
        ),
        (
            "more of a lot than held",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let item = Item::LotQuantity {
                    lot: s.lot("Q1"),
                    quantity: 11,
                };
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![item], DecommissionReason::Destroyed),
                )
            },
            Some(RejectCode::InsufficientQuantity),
        ),
    ]
}

fn recall_payload(scenario: &Scenario, lot: &str) -> Payload {
    Payload::Recall {
        lot: scenario.lot(lot),
        reason: "sterility".to_owned(),
    }
}

fn recall_rows() -> Vec<Row> {
    vec![
        (
            "the manufacturer recalls",
            |s| {
                two_units(s);
                by(s, Who::Manufacturer, recall_payload(s, "L1"))
            },
            None,
        ),
        (
            "the regulator recalls",
            |s| {
                two_units(s);
                by(s, Who::Regulator, recall_payload(s, "L1"))
            },
            None,
        ),
        (
            "a distributor recalls",
            |s| {
                units_at_distributor(s);
                by(s, Who::Distributor, recall_payload(s, "L1"))
            },
            Some(RejectCode::WrongRole),
        ),
        (
            "another manufacturer recalls",
            |s| {
                two_units(s);
                let rival = admit_rival(s);
                let event = s.event(Who::Manufacturer, recall_payload(s, "L1"));
                (
                    rival.public_key(),
                    Event {
                        actor: rival.party,
                        site: rival.site,
                        ..event
                    },
                )
            },
            Some(RejectCode::NotManufacturer),
        ),
        (
            "a lot never commissioned",
            |s| by(s, Who::Manufacturer, recall_payload(s, "L9")),
            Some(RejectCode::UnknownLot),
        ),
        (
            "a lot recalled twice",
            |s| {
                two_units(s);
                recall_l1(s);
                by(s, Who::Manufacturer, recall_payload(s, "L1"))
            },
            Some(RejectCode::AlreadyRecalled),
        ),
    ]
}

fn inspect_payload(scan: &str) -> Payload {
    Payload::Inspect {
        scan: scan.to_owned(),
        verdict_seen: ReasonCode::Genuine,
    }
}

fn inspect_rows() -> Vec<Row> {
    vec![
        (
            "a known unit, at a hospital's site",
            |s| {
                let (first, _) = units_at_distributor(s);
                let Item::Unit(unit) = first else {
                    unreachable!("a unit item")
                };
                let site = s.hospital.site;
                at(
                    s,
                    Who::Inspector,
                    site,
                    inspect_payload(&s.label(&unit, "L1")),
                )
            },
            None,
        ),
        (
            "a serial nobody commissioned",
            |s| {
                let ghost = s.unit("FAKE1");
                by(s, Who::Inspector, inspect_payload(&s.label(&ghost, "L1")))
            },
            None,
        ),
        (
            "a scan that does not parse",
            |s| by(s, Who::Inspector, inspect_payload("(01)12345")),
            Some(RejectCode::MalformedScan),
        ),
        (
            "a distributor inspects",
            |s| {
                let ghost = s.unit("FAKE1");
                by(s, Who::Distributor, inspect_payload(&s.label(&ghost, "L1")))
            },
            Some(RejectCode::WrongRole),
        ),
    ]
}

#[test]
fn reject_codes_have_stable_unique_names_and_classes() {
    let names: BTreeSet<&str> = RejectCode::ALL.iter().map(RejectCode::as_str).collect();
    assert_eq!(names.len(), RejectCode::ALL.len(), "names are unique");
    for code in RejectCode::ALL {
        let name = code.as_str();
        assert!(
            name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{name} is SCREAMING_SNAKE"
        );
    }
    let expected = [
        (RejectCode::InvalidField, RejectClass::InvalidArgument),
        (RejectCode::UnknownKey, RejectClass::Unauthenticated),
        (RejectCode::KeyRevoked, RejectClass::Unauthenticated),
        (RejectCode::WrongRole, RejectClass::PermissionDenied),
        (RejectCode::ForeignSite, RejectClass::PermissionDenied),
        (RejectCode::NotHolder, RejectClass::FailedPrecondition),
        (RejectCode::NotAddressee, RejectClass::FailedPrecondition),
        (RejectCode::Recalled, RejectClass::FailedPrecondition),
        (RejectCode::DuplicateEventId, RejectClass::AlreadyExists),
        (RejectCode::DuplicateSerial, RejectClass::AlreadyExists),
        (RejectCode::UnknownUnit, RejectClass::NotFound),
        (RejectCode::TooManyItems, RejectClass::ResourceExhausted),
    ];
    for (code, class) in expected {
        assert_eq!(code.class(), class, "{code}");
    }
    assert_eq!(RejectCode::NotHolder.to_string(), "NOT_HOLDER");
}

#[test]
fn signer_and_actor_rules() {
    check_table(&signer_and_actor_rules_rows());
}

#[test]
fn registry_events() {
    check_table(&registry_events_rows());
}

#[test]
fn register_product() {
    check_table(&register_product_rows());
}

#[test]
fn commission() {
    check_table(&commission_rows());
}

#[test]
fn aggregate() {
    check_table(&aggregate_rows());
}

#[test]
fn disaggregate() {
    check_table(&disaggregate_rows());
}

#[test]
fn ship() {
    check_table(&ship_rows());
}

#[test]
fn receive() {
    check_table(&receive_rows());
}

#[test]
fn decommission() {
    check_table(&decommission_rows());
}

#[test]
fn recall() {
    check_table(&recall_rows());
}

#[test]
fn inspect() {
    check_table(&inspect_rows());
}

/// Every rejection code is produced by some row: the tables are the executor's specification,
/// so a code no row reaches is either dead or untested.
#[test]
fn every_reject_code_is_exercised() {
    let tables = [
        signer_and_actor_rules_rows(),
        registry_events_rows(),
        register_product_rows(),
        commission_rows(),
        aggregate_rows(),
        disaggregate_rows(),
        ship_rows(),
        receive_rows(),
        decommission_rows(),
        recall_rows(),
        inspect_rows(),
    ];
    let expected: BTreeSet<RejectCode> = tables
        .iter()
        .flatten()
        .filter_map(|(_, _, code)| *code)
        .collect();
    for code in RejectCode::ALL {
        assert!(expected.contains(code), "no row expects {code}");
    }
}
