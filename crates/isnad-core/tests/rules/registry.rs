//! Registry rules: who may sign, and the regulator's and manufacturers' registry events.

use isnad_core::event::{Payload, PublicKey};
use isnad_core::limits::{NAME_LEN_MAX, PARTICIPANT_LIST_MAX, REASON_LEN_MAX};
use isnad_core::rules::RejectCode;
use isnad_core::verdict::UnitStatus;
use isnad_testkit::{DAY_MS, Who, gln, gtin, signing_key};

use crate::effects::{Effect, Goods, Site};
use crate::support::{
    Accepted, NEWCOMER_NAME_LEN, Refused, Row, at, by, check_table, newcomer, rival, rotate_key,
    suspend,
};

/// Who may sign: the key, the actor, its state and its sites.
pub fn signer_and_actor_rules_rows() -> Vec<Row> {
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
            Accepted(&[Effect::NewcomerAdmitted {
                name_len: NEWCOMER_NAME_LEN,
            }]),
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
            Refused(RejectCode::UnknownKey),
        ),
        (
            "a revoked key signs",
            |s| {
                let old = rotate_key(s, Who::Manufacturer);
                let (_, event) = by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]));
                (old, event)
            },
            Refused(RejectCode::KeyRevoked),
        ),
        (
            "the rotated-in key signs",
            |s| {
                rotate_key(s, Who::Manufacturer);
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]))
            },
            Accepted(&[
                Effect::HeldAt(Goods::Unit("SN1"), Site::First(Who::Manufacturer)),
                Effect::Status("SN1", UnitStatus::Active),
            ]),
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
            Refused(RejectCode::KeyNotActor),
        ),
        (
            "a suspended participant signs",
            |s| {
                suspend(s, Who::Manufacturer);
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]))
            },
            Refused(RejectCode::ParticipantSuspended),
        ),
        (
            "a reinstated participant signs",
            |s| {
                suspend(s, Who::Manufacturer);
                let party = s.manufacturer.party;
                s.accept(Who::Regulator, Payload::ReinstateParticipant { party });
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN1"]))
            },
            Accepted(&[
                Effect::HeldAt(Goods::Unit("SN1"), Site::First(Who::Manufacturer)),
                Effect::Status("SN1", UnitStatus::Active),
            ]),
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
            Refused(RejectCode::ForeignSite),
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
            Accepted(&[Effect::HeldAt(
                Goods::Unit("SN1"),
                Site::Second(Who::Manufacturer),
            )]),
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
            Refused(RejectCode::DuplicateEventId),
        ),
    ]
}

/// The regulator's registry events: admissions, suspensions, keys.
pub fn registry_events_rows() -> Vec<Row> {
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
            Accepted(&[Effect::NewcomerAdmitted {
                name_len: NEWCOMER_NAME_LEN,
            }]),
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
            Refused(RejectCode::WrongRole),
        ),
        (
            "an admitted party is admitted again",
            |s| {
                let admit = s.distributor.admit();
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Refused(RejectCode::ParticipantExists),
        ),
        (
            "an admission reuses a registered key",
            |s| {
                let mut admit = newcomer().admit();
                admit.public_keys = vec![s.distributor.public_key()];
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Refused(RejectCode::KeyExists),
        ),
        (
            "an admission without roles",
            |s| {
                let mut admit = newcomer().admit();
                admit.roles.clear();
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "an admission with a site twice",
            |s| {
                let mut admit = newcomer().admit();
                admit.sites = vec![admit.sites[0], admit.sites[0]];
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "an admission with a five-digit company prefix",
            |s| {
                let mut admit = rival().admit();
                admit.company_prefixes = vec!["61199".to_owned()];
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "an admission with an empty name",
            |s| {
                let mut admit = newcomer().admit();
                admit.name.clear();
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "an admission with a name at the length limit",
            |s| {
                let mut admit = newcomer().admit();
                admit.name = "N".repeat(NAME_LEN_MAX);
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Accepted(&[Effect::NewcomerAdmitted {
                name_len: NAME_LEN_MAX,
            }]),
        ),
        (
            "an admission with a name one past the length limit",
            |s| {
                let mut admit = newcomer().admit();
                admit.name = "N".repeat(NAME_LEN_MAX + 1);
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Refused(RejectCode::InvalidField),
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
            Refused(RejectCode::InvalidField),
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
            Refused(RejectCode::InvalidField),
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
            Accepted(&[Effect::Suspended(Who::Distributor, true)]),
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
            Refused(RejectCode::WrongRole),
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
            Refused(RejectCode::InvalidField),
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
            Refused(RejectCode::AlreadySuspended),
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
            Refused(RejectCode::UnknownParticipant),
        ),
        (
            "the regulator reinstates",
            |s| {
                suspend(s, Who::Distributor);
                let party = s.distributor.party;
                by(s, Who::Regulator, Payload::ReinstateParticipant { party })
            },
            Accepted(&[Effect::Suspended(Who::Distributor, false)]),
        ),
        (
            "an active party is reinstated",
            |s| {
                let party = s.distributor.party;
                by(s, Who::Regulator, Payload::ReinstateParticipant { party })
            },
            Refused(RejectCode::NotSuspended),
        ),
        (
            "the regulator adds a key",
            |s| {
                let party = s.distributor.party;
                let public_key = PublicKey(signing_key(60).verifying_key().to_bytes());
                by(s, Who::Regulator, Payload::AddKey { party, public_key })
            },
            Accepted(&[Effect::KeyAdded {
                to: Who::Distributor,
                seed: 60,
            }]),
        ),
        (
            "the regulator adds the identity point, a small-order key",
            |s| {
                let party = s.distributor.party;
                let mut identity = [0; 32];
                identity[0] = 1;
                let public_key = PublicKey(identity);
                by(s, Who::Regulator, Payload::AddKey { party, public_key })
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "the regulator adds a key with a torsion component",
            |s| {
                let party = s.distributor.party;
                let honest = signing_key(60).verifying_key().to_edwards();
                let torsion = curve25519_dalek::constants::EIGHT_TORSION[1];
                let public_key = PublicKey((honest + torsion).compress().0);
                by(s, Who::Regulator, Payload::AddKey { party, public_key })
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "a participant is admitted with a key that is no point",
            |s| {
                let mut admit = newcomer().admit();
                let mut not_a_point = [0; 32];
                not_a_point[0] = 2;
                admit.public_keys.push(PublicKey(not_a_point));
                by(s, Who::Regulator, Payload::AdmitParticipant(admit))
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "a hospital adds a key",
            |s| {
                let party = s.hospital.party;
                let public_key = PublicKey(signing_key(60).verifying_key().to_bytes());
                by(s, Who::Hospital, Payload::AddKey { party, public_key })
            },
            Refused(RejectCode::WrongRole),
        ),
        (
            "a registered key is added again",
            |s| {
                let party = s.distributor.party;
                let public_key = s.manufacturer.public_key();
                by(s, Who::Regulator, Payload::AddKey { party, public_key })
            },
            Refused(RejectCode::KeyExists),
        ),
        (
            "a key is added to an unknown party",
            |s| {
                let party = newcomer().party;
                let public_key = PublicKey(signing_key(60).verifying_key().to_bytes());
                by(s, Who::Regulator, Payload::AddKey { party, public_key })
            },
            Refused(RejectCode::UnknownParticipant),
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
            Accepted(&[Effect::KeyRevoked {
                of: Who::Distributor,
                compromised: true,
            }]),
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
            Refused(RejectCode::KeyNotFound),
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
            Refused(RejectCode::KeyAlreadyRevoked),
        ),
    ]
}

/// RegisterProduct.
pub fn register_product_rows() -> Vec<Row> {
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
            Accepted(&[Effect::ProductRegistered {
                gtin_base: "0611123400002",
                by: Who::Manufacturer,
            }]),
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
            Refused(RejectCode::PrefixNotOwned),
        ),
        (
            "a registered GTIN again",
            |s| by(s, Who::Manufacturer, s.register_product_payload(s.gtin)),
            Refused(RejectCode::ProductExists),
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
            Refused(RejectCode::WrongRole),
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
            Refused(RejectCode::InvalidField),
        ),
    ]
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

/// An auditor reads; it signs no goods or registry events. Each event below is one its
/// author's role may sign (the regulator's or a handler's), signed instead by an admitted
/// auditor at its own site: every one is refused with `WRONG_ROLE` and changes nothing.
#[test]
fn an_auditor_signs_nothing() {
    use isnad_core::event::{Event, ReasonCode};
    use isnad_core::rules::ApplyError;
    let mut s = isnad_testkit::Scenario::new();
    let auditor = isnad_testkit::auditor();
    s.accept(Who::Regulator, Payload::AdmitParticipant(auditor.admit()));
    let units = s.commission("L1", &["SN1"]);
    let label = s.label(&units[0], "L1");
    let payloads = vec![
        Payload::AdmitParticipant(newcomer().admit()),
        s.register_product_payload(gtin("0611123400002")),
        s.commission_payload("L2", &["SN2"]),
        s.ship_payload(
            vec![isnad_core::event::Item::Unit(units[0].clone())],
            Who::Distributor,
        ),
        Payload::Recall {
            lot: s.lot("L1"),
            reason: "audit".into(),
        },
        Payload::Inspect {
            scan: label,
            verdict_seen: ReasonCode::Genuine,
        },
    ];
    for payload in payloads {
        let shown = format!("{payload:?}");
        let before = s.state.digest();
        let event = Event {
            id: s.fresh_id(),
            event_time_unix_ms: s.clock_unix_ms,
            actor: auditor.party,
            site: auditor.site,
            payload,
        };
        match s.submit_signed(event, auditor.public_key()) {
            Err(ApplyError::Rejected(rejection)) => {
                assert_eq!(rejection.code, RejectCode::WrongRole, "{shown}")
            }
            other => panic!("an auditor signed {shown}: {other:?}"),
        }
        assert_eq!(s.state.digest(), before, "{shown} changed the state");
    }
}
