//! What an accepted event does, stated per row and read back through the typed queries of
//! `isnad_core::queries`.

use isnad_core::event::{DecommissionReason, Event, Payload};
use isnad_core::gs1::{Gln, Sscc};
use isnad_core::queries;
use isnad_core::scan::parse_scan;
use isnad_core::state::MemState;
use isnad_core::verdict::UnitStatus;
use isnad_testkit::{Scenario, Who, gtin, signing_key, sscc_number};

/// Goods of the scenario product, named the way the rows name them.
#[derive(Debug, Clone, Copy)]
pub enum Goods {
    /// The unit of the scenario product with this serial.
    Unit(&'static str),
    /// The SSCC `sscc_number(n)`.
    Sscc(u32),
}

/// One of a participant's sites.
#[derive(Debug, Clone, Copy)]
pub enum Site {
    /// The participant's first site.
    First(Who),
    /// The participant's second site.
    Second(Who),
}

/// An effect of an accepted event. Each must not show before the event and must show after
/// it, except [`Effect::Kept`], which states what the event leaves as it was.
#[derive(Debug, Clone, Copy)]
pub enum Effect {
    /// The newcomer (party 7) is admitted by this event, not suspended, under a name of this
    /// many characters.
    NewcomerAdmitted { name_len: usize },
    /// The participant's suspension is as stated.
    Suspended(Who, bool),
    /// The key of `signing_key(seed)` belongs to the participant, valid from this event on.
    KeyAdded { to: Who, seed: u8 },
    /// The participant's current key is revoked by this event, marked compromised or not.
    KeyRevoked { of: Who, compromised: bool },
    /// The product `gtin(base)` is registered by this event, to this manufacturer.
    ProductRegistered { gtin_base: &'static str, by: Who },
    /// The lot of the scenario product has these commissioned counts.
    LotCommissioned {
        lot: &'static str,
        units: u64,
        quantity: u64,
    },
    /// The party holds this much of the non-serialized lot.
    Balance {
        lot: &'static str,
        holder: Who,
        quantity: u64,
    },
    /// The goods are held at this site, not in transit.
    HeldAt(Goods, Site),
    /// The goods are in transit to this site.
    InTransitTo(Goods, Site),
    /// The goods sit directly in this SSCC (`None`: in none).
    Container(Goods, Option<u32>),
    /// An SSCC directly holds this many items.
    ContentsLen(u32, usize),
    /// The unit's status.
    Status(&'static str, UnitStatus),
    /// The goods, or their nearest container, are decommissioned for this reason.
    Decommissioned(Goods, DecommissionReason),
    /// The lot is recalled by this event.
    Recalled(&'static str),
    /// This Ship event opened a shipment of this many items to this site.
    Shipped { to: Site, items: usize },
    /// The shipment this Receive names is received by it, with this many items missing.
    Received { missing: usize },
    /// This event is in the history a verifier gets for a scan of the unit.
    InHistory(&'static str),
    /// The effect showed before the event and still shows after it.
    Kept(&'static Effect),
}

/// Checks that each effect shows in the scenario's state and, unless kept, did not show in
/// `before`, the state before `event` was applied at log index `index`.
#[track_caller]
pub fn check_effects(
    name: &str,
    effects: &[Effect],
    scenario: &Scenario,
    before: &MemState,
    event: &Event,
    index: u64,
) {
    assert!(
        !effects.is_empty(),
        "{name}: an accepted row states its effect"
    );
    let reading = |view| Reading {
        scenario,
        view,
        event,
        index,
    };
    for effect in effects {
        let (effect, kept) = match effect {
            Effect::Kept(inner) => (*inner, true),
            other => (other, false),
        };
        if let Err(found) = reading(&scenario.state).shows(effect) {
            panic!("{name}: expected {effect:?} after the event, found {found}");
        }
        match (reading(before).shows(effect), kept) {
            (Ok(()), false) => panic!("{name}: {effect:?} already showed before the event"),
            (Err(found), true) => {
                panic!("{name}: {effect:?} is kept, but before the event found {found}")
            }
            _ => {}
        }
    }
}

/// One state to read an effect from, with the event and its log index.
struct Reading<'a> {
    scenario: &'a Scenario,
    view: &'a MemState,
    event: &'a Event,
    index: u64,
}

/// Who has goods and where, as the typed queries resolve it.
#[derive(Debug, PartialEq, Eq)]
struct Whereabouts {
    holder: Gln,
    site: Gln,
    /// While in transit: the addressee party and site.
    destination: Option<(Gln, Gln)>,
}

/// The outcome of reading an effect: `Err` says what was found instead.
type Shows = Result<(), String>;

/// `Ok` when `found` is `wanted`, else what was found.
fn expect_eq<T: PartialEq + std::fmt::Debug>(found: T, wanted: T) -> Shows {
    if found == wanted {
        Ok(())
    } else {
        Err(format!("{found:?}"))
    }
}

impl Reading<'_> {
    fn shows(&self, effect: &Effect) -> Shows {
        match *effect {
            Effect::NewcomerAdmitted { name_len } => self.newcomer_admitted(name_len),
            Effect::Suspended(who, suspended) => {
                let participant = self.participant(self.party(who))?;
                expect_eq(participant.suspended, suspended)
            }
            Effect::KeyAdded { to, seed } => self.key_added(to, seed),
            Effect::KeyRevoked { of, compromised } => self.key_revoked(of, compromised),
            Effect::ProductRegistered { gtin_base, by } => {
                let product = queries::product(self.view, &gtin(gtin_base))
                    .expect("in-memory state")
                    .map(|product| (product.manufacturer, product.registered_at_index));
                expect_eq(product, Some((self.party(by), self.index)))
            }
            Effect::LotCommissioned {
                lot,
                units,
                quantity,
            } => {
                let record = queries::lot(self.view, &self.scenario.lot(lot))
                    .expect("in-memory state")
                    .map(|lot| (lot.units_commissioned, lot.quantity_commissioned));
                expect_eq(record, Some((units, quantity)))
            }
            Effect::Balance {
                lot,
                holder,
                quantity,
            } => {
                let lot = self.scenario.lot(lot);
                let balance = queries::lot_balance(self.view, &lot, &self.party(holder));
                expect_eq(balance.expect("in-memory state"), quantity)
            }
            Effect::HeldAt(goods, site) => {
                let wanted = Whereabouts {
                    holder: self.party_of(site),
                    site: self.site(site),
                    destination: None,
                };
                expect_eq(self.whereabouts(goods)?, wanted)
            }
            Effect::InTransitTo(goods, site) => {
                let destination = self.whereabouts(goods)?.destination;
                expect_eq(destination, Some((self.party_of(site), self.site(site))))
            }
            Effect::Container(goods, container) => {
                expect_eq(self.container(goods)?, container.map(sscc_number))
            }
            Effect::ContentsLen(sscc, len) => {
                let contents = queries::sscc_contents(self.view, &sscc_number(sscc));
                expect_eq(contents.expect("in-memory state").len(), len)
            }
            Effect::Status(serial, status) => expect_eq(self.unit(serial)?.status, status),
            Effect::Decommissioned(goods, reason) => {
                expect_eq(self.decommission_reason(goods)?, Some(reason))
            }
            Effect::Recalled(lot) => {
                let record = queries::lot(self.view, &self.scenario.lot(lot))
                    .expect("in-memory state")
                    .ok_or("no lot")?;
                expect_eq(record.recalled_at_index, Some(self.index))
            }
            Effect::Shipped { to, items } => {
                let shipment = queries::shipment(self.view, &self.event.id)
                    .expect("in-memory state")
                    .map(|shipment| {
                        (
                            shipment.destination_party,
                            shipment.destination_site,
                            shipment.items.len(),
                            shipment.shipped_at_index,
                        )
                    });
                let wanted = (self.party_of(to), self.site(to), items, self.index);
                expect_eq(shipment, Some(wanted))
            }
            Effect::Received { missing } => self.received(missing),
            Effect::InHistory(serial) => {
                let unit = self.scenario.unit(serial);
                let scan = parse_scan(&self.scenario.label(&unit, "L1")).expect("labels parse");
                let history = queries::history_for_scan(self.view, &scan).expect("in-memory state");
                if history.events.contains(&self.index) {
                    Ok(())
                } else {
                    Err(format!("events {:?}", history.events))
                }
            }
            Effect::Kept(inner) => self.shows(inner),
        }
    }

    fn newcomer_admitted(&self, name_len: usize) -> Shows {
        let party = crate::support::newcomer().party;
        let participant = self.participant(party)?;
        expect_eq(
            (
                participant.admitted_at_index,
                participant.suspended,
                participant.name.chars().count(),
            ),
            (self.index, false, name_len),
        )
    }

    fn key_added(&self, to: Who, seed: u8) -> Shows {
        let public_key = isnad_core::event::PublicKey(signing_key(seed).verifying_key().to_bytes());
        let record = queries::key(self.view, &public_key)
            .expect("in-memory state")
            .ok_or("no key record")?;
        expect_eq(
            (
                record.party,
                record.valid_from_index,
                record.revoked_at_index,
            ),
            (self.party(to), self.index, None),
        )?;
        let participant = self.participant(self.party(to))?;
        if participant
            .keys
            .iter()
            .any(|key| key.public_key == public_key)
        {
            Ok(())
        } else {
            Err("the participant does not list the key".to_owned())
        }
    }

    fn key_revoked(&self, of: Who, compromised: bool) -> Shows {
        let public_key = self.scenario.actor(of).public_key();
        let record = queries::key(self.view, &public_key)
            .expect("in-memory state")
            .ok_or("no key record")?;
        expect_eq(
            (
                record.revoked_at_index,
                record.compromised_since_unix_ms.is_some(),
            ),
            (Some(self.index), compromised),
        )
    }

    fn received(&self, missing: usize) -> Shows {
        let Payload::Receive { shipment, .. } = &self.event.payload else {
            return Err("the event is not a Receive".to_owned());
        };
        let shipment = queries::shipment(self.view, shipment)
            .expect("in-memory state")
            .ok_or("no shipment")?;
        expect_eq(
            (shipment.received_at_index, shipment.missing.len()),
            (Some(self.index), missing),
        )
    }

    fn participant(&self, party: Gln) -> Result<queries::Participant, String> {
        queries::participant(self.view, &party)
            .expect("in-memory state")
            .ok_or_else(|| "no participant".to_owned())
    }

    fn unit(&self, serial: &str) -> Result<isnad_core::verdict::UnitView, String> {
        let unit = self.scenario.unit(serial);
        queries::unit(self.view, &unit, self.scenario.clock_unix_ms)
            .expect("in-memory state")
            .ok_or_else(|| format!("no unit {serial}"))
    }

    fn sscc(&self, n: u32) -> Result<queries::SsccView, String> {
        queries::sscc(self.view, &sscc_number(n))
            .expect("in-memory state")
            .ok_or_else(|| format!("no SSCC {n}"))
    }

    fn whereabouts(&self, goods: Goods) -> Result<Whereabouts, String> {
        Ok(match goods {
            Goods::Unit(serial) => {
                let unit = self.unit(serial)?;
                Whereabouts {
                    holder: unit.holder,
                    site: unit.site,
                    destination: unit.destination,
                }
            }
            Goods::Sscc(n) => {
                let sscc = self.sscc(n)?;
                Whereabouts {
                    holder: sscc.holder,
                    site: sscc.site,
                    destination: sscc.destination,
                }
            }
        })
    }

    fn container(&self, goods: Goods) -> Result<Option<Sscc>, String> {
        Ok(match goods {
            Goods::Unit(serial) => self.unit(serial)?.container,
            Goods::Sscc(n) => self.sscc(n)?.container,
        })
    }

    fn decommission_reason(&self, goods: Goods) -> Result<Option<DecommissionReason>, String> {
        Ok(match goods {
            Goods::Unit(serial) => self.unit(serial)?.decommission_reason,
            Goods::Sscc(n) => self.sscc(n)?.decommission_reason,
        })
    }

    fn party(&self, who: Who) -> Gln {
        self.scenario.actor(who).party
    }

    fn party_of(&self, site: Site) -> Gln {
        match site {
            Site::First(who) | Site::Second(who) => self.party(who),
        }
    }

    fn site(&self, site: Site) -> Gln {
        match site {
            Site::First(who) => self.scenario.actor(who).site,
            Site::Second(who) => self.scenario.actor(who).other_site,
        }
    }
}
