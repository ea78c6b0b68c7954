//! A realistic circuit: who takes part, what they make, and the signed events they send.
//!
//! The circuit holds a regulator (whose key is the trust root given to `isnad-server init`),
//! two manufacturers with their GS1 company prefixes and products, a distributor, two
//! hospitals, an inspector, and the GLN of a pharmacy that the regulator never admitted. Every
//! participant has its own Ed25519 key.
//!
//! Events are built first ([`Unsigned`], cheap) and signed later ([`Circuit::sign_all`], on
//! every core), so that a benchmark can sign everything before it starts measuring.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use isnad_core::event::{
    Admit, DecommissionReason, DeviceClass, Event, EventId, Item, LotId, Payload, PublicKey,
    ReasonCode, Role, SerialRange, UnitId,
};
use isnad_core::gs1::{Gln, Gs1Date, Gtin, Serial, Sscc, check_digit};
use isnad_proto::pb;

/// Why a circuit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    /// The operating system's random source failed while making keys or the id namespace.
    #[error("no randomness for keys: {0}")]
    Randomness(String),
}

/// The participants of a circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// Admits everyone else; may recall.
    Regulator,
    /// The first manufacturer (syringes and catheters).
    Manufacturer1,
    /// The second manufacturer (diagnostic tests).
    Manufacturer2,
    /// Receives from manufacturers, repacks and ships to hospitals.
    Distributor,
    /// The first hospital.
    Hospital1,
    /// The second hospital.
    Hospital2,
    /// Scans units in the field.
    Inspector,
}

impl Who {
    /// Every participant, the regulator first (the order they are admitted in).
    pub const ALL: [Who; 7] = [
        Who::Regulator,
        Who::Manufacturer1,
        Who::Manufacturer2,
        Who::Distributor,
        Who::Hospital1,
        Who::Hospital2,
        Who::Inspector,
    ];

    /// Both manufacturers.
    pub const MANUFACTURERS: [Who; 2] = [Who::Manufacturer1, Who::Manufacturer2];

    /// Both hospitals.
    pub const HOSPITALS: [Who; 2] = [Who::Hospital1, Who::Hospital2];
}

/// One participant: its identity as the regulator admits it, and its signing key.
#[derive(Debug, Clone)]
pub struct Participant {
    /// The party GLN: its identity in every event.
    pub party: Gln,
    /// A name people recognise.
    pub name: String,
    /// What it may do.
    pub roles: Vec<Role>,
    /// Where it operates; it acts at the first one unless told otherwise.
    pub sites: Vec<Gln>,
    /// GS1 company prefixes under which it registers GTINs and numbers SSCCs.
    pub company_prefixes: Vec<String>,
    /// The key it signs with.
    pub signing_key: SigningKey,
}

impl Participant {
    /// Its main site.
    pub fn site(&self) -> Gln {
        self.sites[0]
    }

    /// Its public key, as registered.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing_key.verifying_key().to_bytes())
    }

    /// The admission the regulator signs for it.
    pub fn admission(&self) -> Admit {
        Admit {
            party: self.party,
            name: self.name.clone(),
            roles: self.roles.clone(),
            sites: self.sites.clone(),
            company_prefixes: self.company_prefixes.clone(),
            public_keys: vec![self.public_key()],
        }
    }
}

/// A product a manufacturer registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Its GTIN-14, under the manufacturer's company prefix.
    pub gtin: Gtin,
    /// Its name on the label.
    pub name: String,
    /// Its regulatory class.
    pub device_class: DeviceClass,
    /// Who makes it.
    pub manufacturer: Who,
}

/// A lot to commission: serialized units numbered by one serial range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// GTIN and lot number.
    pub id: LotId,
    /// Its expiry (AI 17).
    pub expiry: Gs1Date,
    /// Its serials.
    pub serials: SerialRange,
    /// Who makes it.
    pub manufacturer: Who,
}

impl Lot {
    /// The unit with the `position`-th serial of the range.
    pub fn unit(&self, position: u64) -> UnitId {
        UnitId {
            gtin: self.id.gtin,
            serial: serial_in_range(&self.serials, self.serials.first + position),
        }
    }

    /// Every unit of the lot, in serial order.
    pub fn units(&self) -> impl Iterator<Item = UnitId> + '_ {
        (0..u64::from(self.serials.count)).map(|position| self.unit(position))
    }

    /// The human-readable scan of a unit's label: GTIN, expiry, lot and serial.
    pub fn label(&self, unit: &UnitId) -> String {
        format!(
            "(01){}(17){}(10){}(21){}",
            unit.gtin, self.expiry, self.id.lot, unit.serial
        )
    }
}

/// The serial numbered `number` in `range`'s format: prefix, then the zero-padded number.
pub fn serial_in_range(range: &SerialRange, number: u64) -> Serial {
    let width = range.width as usize;
    format!("{}{number:0width$}", range.prefix)
        .parse()
        .expect("circuit serial ranges keep to the GS1 serial length and character set")
}

/// An event and who signs it.
#[derive(Debug, Clone)]
pub struct Unsigned {
    /// The signer.
    pub who: Who,
    /// The event body.
    pub event: Event,
}

/// The participants of a circuit, their products, and a source of event ids.
#[derive(Debug)]
pub struct Circuit {
    regulator: Participant,
    manufacturer1: Participant,
    manufacturer2: Participant,
    distributor: Participant,
    hospital1: Participant,
    hospital2: Participant,
    inspector: Participant,
    /// A pharmacy the regulator never admitted: goods found there were diverted.
    pub pharmacy_site: Gln,
    /// Every product, in registration order.
    pub products: Vec<Product>,
    /// The origin of the log the circuit's events are signed for: no other log accepts them.
    origin: String,
    /// Event ids are derived from this namespace and a counter: unique per circuit, cheap.
    id_namespace: [u8; 16],
    next_event: AtomicU64,
}

/// The first manufacturer's GS1 company prefix.
pub const MANUFACTURER1_PREFIX: &str = "6111234";
/// The second manufacturer's GS1 company prefix.
pub const MANUFACTURER2_PREFIX: &str = "6119876";
/// The distributor's GS1 company prefix, for the SSCCs of its pallets.
pub const DISTRIBUTOR_PREFIX: &str = "6115550";
/// The regulator's party GLN base (12 digits; the check digit is computed).
pub const REGULATOR_PARTY_BASE: &str = "611000100000";

impl Circuit {
    /// A circuit on the log named `origin`, with fresh random keys for everyone, the regulator
    /// included.
    pub fn generate(origin: &str) -> Result<Circuit, CircuitError> {
        let regulator_key = random_key()?;
        Circuit::with_regulator_sites(origin, gln(REGULATOR_PARTY_BASE), regulator_key)
    }

    /// A circuit whose regulator is an existing one (party and key), acting at its party GLN
    /// (the site `isnad-server init` records when given none); the other participants get
    /// fresh random keys.
    pub fn with_regulator(
        origin: &str,
        party: Gln,
        key: SigningKey,
    ) -> Result<Circuit, CircuitError> {
        let mut circuit = Circuit::with_regulator_sites(origin, party, key)?;
        circuit.regulator.sites = vec![party];
        Ok(circuit)
    }

    /// A circuit whose regulator has the given party and key and the circuit's own sites.
    fn with_regulator_sites(
        origin: &str,
        party: Gln,
        key: SigningKey,
    ) -> Result<Circuit, CircuitError> {
        let mut id_namespace = [0u8; 16];
        getrandom::fill(&mut id_namespace)
            .map_err(|error| CircuitError::Randomness(error.to_string()))?;
        let participant = |base: &str, name: &str, role: Role, prefix: Option<&str>| {
            Ok::<_, CircuitError>(Participant {
                party: gln(&format!("{base}0")),
                name: name.to_owned(),
                roles: vec![role],
                sites: vec![gln(&format!("{base}1")), gln(&format!("{base}2"))],
                company_prefixes: prefix.map(str::to_owned).into_iter().collect(),
                signing_key: random_key()?,
            })
        };
        let mut regulator = participant(
            "61100010000",
            "Agence marocaine du medicament",
            Role::Regulator,
            None,
        )?;
        regulator.party = party;
        regulator.signing_key = key;
        let manufacturer1 = participant(
            "61112340000",
            "Atlas Medical, Casablanca",
            Role::Manufacturer,
            Some(MANUFACTURER1_PREFIX),
        )?;
        let manufacturer2 = participant(
            "61198760000",
            "Maghreb Diagnostics, Tanger",
            Role::Manufacturer,
            Some(MANUFACTURER2_PREFIX),
        )?;
        Ok(Circuit {
            regulator,
            manufacturer1,
            manufacturer2,
            distributor: participant(
                "61155500000",
                "Sud Distribution Medicale, Agadir",
                Role::Distributor,
                Some(DISTRIBUTOR_PREFIX),
            )?,
            hospital1: participant(
                "61100020000",
                "CHU Ibn Sina, Rabat",
                Role::HealthFacility,
                None,
            )?,
            hospital2: participant(
                "61100030000",
                "CHU Hassan II, Fes",
                Role::HealthFacility,
                None,
            )?,
            inspector: participant(
                "61100040000",
                "Inspection de la pharmacie, Casablanca",
                Role::Inspector,
                None,
            )?,
            pharmacy_site: gln("611000900001"),
            products: products(),
            origin: origin.to_owned(),
            id_namespace,
            next_event: AtomicU64::new(0),
        })
    }

    /// A participant.
    pub fn participant(&self, who: Who) -> &Participant {
        match who {
            Who::Regulator => &self.regulator,
            Who::Manufacturer1 => &self.manufacturer1,
            Who::Manufacturer2 => &self.manufacturer2,
            Who::Distributor => &self.distributor,
            Who::Hospital1 => &self.hospital1,
            Who::Hospital2 => &self.hospital2,
            Who::Inspector => &self.inspector,
        }
    }

    /// The products of one manufacturer.
    pub fn products_of(&self, manufacturer: Who) -> impl Iterator<Item = &Product> {
        self.products
            .iter()
            .filter(move |product| product.manufacturer == manufacturer)
    }

    /// A lot of `product` numbered `lot_number`, with `count` serials
    /// `{lot_number}-{n:06}` from `first`.
    pub fn lot(
        &self,
        product: &Product,
        lot_number: &str,
        expiry: Gs1Date,
        first: u64,
        count: u32,
    ) -> Lot {
        Lot {
            id: LotId {
                gtin: product.gtin,
                lot: lot_number
                    .parse()
                    .expect("circuit lot numbers keep to the GS1 lot rules"),
            },
            expiry,
            serials: SerialRange {
                prefix: format!("{lot_number}-"),
                first,
                count,
                width: 6,
            },
            manufacturer: product.manufacturer,
        }
    }

    /// The `number`-th SSCC of `who` (under its company prefix, or the distributor's).
    pub fn sscc(&self, who: Who, number: u64) -> Sscc {
        let participant = self.participant(who);
        let prefix = participant
            .company_prefixes
            .first()
            .map_or(DISTRIBUTOR_PREFIX, String::as_str);
        let reference_digits = 16 - prefix.len();
        let base = format!("0{prefix}{number:0reference_digits$}");
        sscc(&base)
    }

    /// A fresh event id: the namespace and a counter, hashed.
    pub fn next_event_id(&self) -> EventId {
        let number = self.next_event.fetch_add(1, Ordering::Relaxed);
        isnad_client::sign::derived_event_id(&self.id_namespace, &number.to_be_bytes())
    }

    /// An event by `who` at its main site.
    pub fn event(&self, who: Who, payload: Payload) -> Unsigned {
        let site = self.participant(who).site();
        self.event_at(who, site, payload)
    }

    /// An event by `who` at `site`.
    pub fn event_at(&self, who: Who, site: Gln, payload: Payload) -> Unsigned {
        Unsigned {
            who,
            event: Event {
                id: self.next_event_id(),
                event_time_unix_ms: now_unix_ms(),
                actor: self.participant(who).party,
                site,
                payload,
            },
        }
    }

    /// The regulator admits `who`.
    pub fn admit(&self, who: Who) -> Unsigned {
        let admission = self.participant(who).admission();
        self.event(Who::Regulator, Payload::AdmitParticipant(admission))
    }

    /// Its manufacturer registers `product`.
    pub fn register_product(&self, product: &Product) -> Unsigned {
        self.event(
            product.manufacturer,
            Payload::RegisterProduct {
                gtin: product.gtin,
                name: product.name.clone(),
                device_class: product.device_class,
                made_in_morocco: true,
            },
        )
    }

    /// Its manufacturer commissions every unit of `lot` at its main site.
    pub fn commission(&self, lot: &Lot) -> Unsigned {
        self.event(
            lot.manufacturer,
            Payload::Commission {
                lot: lot.id.clone(),
                expiry: lot.expiry,
                production_date: None,
                serials: Vec::new(),
                serial_ranges: vec![lot.serials.clone()],
                quantity: 0,
            },
        )
    }

    /// `who` packs `items` into `sscc`.
    pub fn aggregate(&self, who: Who, sscc: Sscc, items: Vec<Item>) -> Unsigned {
        self.event(who, Payload::Aggregate { sscc, items })
    }

    /// `who` unpacks everything in `sscc`.
    pub fn disaggregate(&self, who: Who, sscc: Sscc) -> Unsigned {
        self.event(
            who,
            Payload::Disaggregate {
                sscc,
                items: Vec::new(),
            },
        )
    }

    /// `from` ships `items` to `to`'s main site. The shipment is named by the event's id.
    pub fn ship(&self, from: Who, items: Vec<Item>, to: Who) -> Unsigned {
        let destination = self.participant(to);
        self.event(
            from,
            Payload::Ship {
                items,
                destination_party: destination.party,
                destination_site: destination.site(),
            },
        )
    }

    /// `who` receives the whole shipment `shipment`.
    pub fn receive(&self, who: Who, shipment: EventId) -> Unsigned {
        self.event(
            who,
            Payload::Receive {
                shipment,
                missing: Vec::new(),
            },
        )
    }

    /// `who` takes `items` out of the circuit for `reason`.
    pub fn decommission(&self, who: Who, items: Vec<Item>, reason: DecommissionReason) -> Unsigned {
        self.event(who, Payload::Decommission { items, reason })
    }

    /// `who` (the lot's manufacturer or the regulator) recalls `lot`.
    pub fn recall(&self, who: Who, lot: &Lot, reason: &str) -> Unsigned {
        self.event(
            who,
            Payload::Recall {
                lot: lot.id.clone(),
                reason: reason.to_owned(),
            },
        )
    }

    /// The inspector records a sighting of `scan` at `site`.
    pub fn inspect(&self, site: Gln, scan: &str, verdict_seen: ReasonCode) -> Unsigned {
        self.event_at(
            Who::Inspector,
            site,
            Payload::Inspect {
                scan: scan.to_owned(),
                verdict_seen,
            },
        )
    }

    /// The origin of the log the circuit's events are signed for.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Signs one event with its signer's key, for the circuit's log.
    pub fn sign(&self, unsigned: &Unsigned) -> pb::SignedEvent {
        let key = &self.participant(unsigned.who).signing_key;
        isnad_client::sign::sign_event(key, &self.origin, &unsigned.event)
    }

    /// Signs every event, in order, on every core.
    pub fn sign_all(&self, events: &[Unsigned]) -> Vec<pb::SignedEvent> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk_len = events.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = events
                .chunks(chunk_len)
                .map(|chunk| scope.spawn(move || chunk.iter().map(|e| self.sign(e)).collect()))
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| -> Vec<pb::SignedEvent> {
                    handle.join().expect("signing does not panic")
                })
                .collect()
        })
    }
}

/// The products of the circuit: two of the first manufacturer, one of the second.
fn products() -> Vec<Product> {
    let product = |base: &str, name: &str, device_class, manufacturer| Product {
        gtin: gtin(base),
        name: name.to_owned(),
        device_class,
        manufacturer,
    };
    vec![
        product(
            &format!("0{MANUFACTURER1_PREFIX}00015"),
            "Seringue sterile 5 ml",
            DeviceClass::ClassIIa,
            Who::Manufacturer1,
        ),
        product(
            &format!("0{MANUFACTURER1_PREFIX}00022"),
            "Catheter intraveineux 20G",
            DeviceClass::ClassIIa,
            Who::Manufacturer1,
        ),
        product(
            &format!("0{MANUFACTURER2_PREFIX}00108"),
            "Test rapide de glycemie",
            DeviceClass::InVitroDiagnostic,
            Who::Manufacturer2,
        ),
    ]
}

fn random_key() -> Result<SigningKey, CircuitError> {
    isnad_client::keys::generate().map_err(|error| CircuitError::Randomness(error.to_string()))
}

/// Milliseconds since the Unix epoch by the system clock (the events' client time).
pub fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// A GLN-13 from its first 12 digits.
pub fn gln(base: &str) -> Gln {
    with_check_digit(base)
        .parse()
        .expect("a 12-digit base makes a GLN")
}

/// A GTIN-14 from its first 13 digits.
pub fn gtin(base: &str) -> Gtin {
    with_check_digit(base)
        .parse()
        .expect("a 13-digit base makes a GTIN")
}

/// An SSCC-18 from its first 17 digits.
pub fn sscc(base: &str) -> Sscc {
    with_check_digit(base)
        .parse()
        .expect("a 17-digit base makes an SSCC")
}

fn with_check_digit(base: &str) -> String {
    format!("{base}{}", char::from(check_digit(base.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use isnad_core::envelope;

    fn circuit() -> Circuit {
        Circuit::generate("test.isnad.test/log").expect("the test machine has randomness")
    }

    #[test]
    fn every_participant_has_its_own_key_and_party() {
        let circuit = circuit();
        let mut keys: Vec<PublicKey> = Who::ALL
            .iter()
            .map(|who| circuit.participant(*who).public_key())
            .collect();
        let mut parties: Vec<Gln> = Who::ALL
            .iter()
            .map(|who| circuit.participant(*who).party)
            .collect();
        keys.sort();
        keys.dedup();
        parties.sort();
        parties.dedup();
        assert_eq!(keys.len(), Who::ALL.len());
        assert_eq!(parties.len(), Who::ALL.len());
        let admitted_sites: Vec<Gln> = Who::ALL
            .iter()
            .flat_map(|who| circuit.participant(*who).sites.clone())
            .collect();
        assert!(!admitted_sites.contains(&circuit.pharmacy_site));
    }

    #[test]
    fn products_sit_under_their_manufacturer_prefix() {
        let circuit = circuit();
        for product in &circuit.products {
            let maker = circuit.participant(product.manufacturer);
            assert!(
                maker
                    .company_prefixes
                    .iter()
                    .any(|prefix| product.gtin.has_company_prefix(prefix)),
                "{} is not under {:?}",
                product.gtin,
                maker.company_prefixes
            );
        }
    }

    #[track_caller]
    fn check_serial(prefix: &str, width: u32, number: u64, expected: &str) {
        let range = SerialRange {
            prefix: prefix.to_owned(),
            first: 0,
            count: 1,
            width,
        };
        assert_eq!(serial_in_range(&range, number).as_str(), expected);
    }

    #[test]
    fn serials_follow_the_range_format() {
        check_serial("L1-", 6, 42, "L1-000042");
        check_serial("L1-", 0, 42, "L1-42");
        check_serial("", 3, 1234, "1234");
    }

    #[test]
    fn lot_units_and_labels() {
        let circuit = circuit();
        let product = &circuit.products[0];
        let lot = circuit.lot(product, "A26001", "301231".parse().expect("date"), 5, 3);
        let serials: Vec<String> = lot.units().map(|u| u.serial.to_string()).collect();
        assert_eq!(serials, ["A26001-000005", "A26001-000006", "A26001-000007"]);
        let label = lot.label(&lot.unit(0));
        let scan = isnad_core::scan::parse_scan(&label).expect("labels parse");
        assert_eq!(scan.unit(), Some(lot.unit(0)));
        assert_eq!(scan.lot, Some(lot.id.lot.clone()));
    }

    #[test]
    fn ssccs_are_distinct_and_valid() {
        let circuit = circuit();
        let first = circuit.sscc(Who::Manufacturer1, 1);
        let second = circuit.sscc(Who::Manufacturer1, 2);
        let distributor = circuit.sscc(Who::Distributor, 1);
        assert_ne!(first, second);
        assert_ne!(first, distributor);
        assert!(
            first
                .as_str()
                .starts_with(&format!("0{MANUFACTURER1_PREFIX}"))
        );
    }

    #[test]
    fn signed_events_verify_and_decode_to_the_event() {
        let circuit = circuit();
        let events: Vec<Unsigned> = Who::ALL[1..]
            .iter()
            .map(|who| circuit.admit(*who))
            .collect();
        let signed = circuit.sign_all(&events);
        assert_eq!(signed.len(), events.len());
        for (unsigned, signed) in events.iter().zip(&signed) {
            envelope::verify(
                circuit.origin(),
                &signed.public_key,
                &signed.signature,
                &signed.body,
            )
            .expect("a circuit signature verifies");
            let decoded = isnad_proto::decode_event_body(&signed.body).expect("bodies decode");
            assert_eq!(decoded, unsigned.event);
            assert_eq!(
                signed.public_key[..],
                circuit.participant(Who::Regulator).public_key().0
            );
        }
    }

    #[test]
    fn an_existing_regulator_acts_at_its_party_gln() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let party = gln("611000500000");
        let circuit =
            Circuit::with_regulator("test.isnad.test/log", party, key.clone()).expect("randomness");
        let regulator = circuit.participant(Who::Regulator);
        assert_eq!(
            (regulator.party, regulator.sites.clone()),
            (party, vec![party])
        );
        assert_eq!(regulator.public_key().0, key.verifying_key().to_bytes());
        assert_eq!(circuit.admit(Who::Distributor).event.site, party);
    }

    #[test]
    fn event_ids_are_unique() {
        let circuit = circuit();
        let mut ids: Vec<EventId> = (0..1_000).map(|_| circuit.next_event_id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1_000);
    }
}
