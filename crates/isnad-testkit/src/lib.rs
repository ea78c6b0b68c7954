//! Test support for Isnad's tests (the core's integration tests, the client's unit tests and the
//! end-to-end tests): a scenario with a regulator, a manufacturer, a distributor, a hospital and
//! an inspector (each with a party GLN, a site and a deterministic Ed25519 key), helpers that
//! build events, and an in-memory ledger that applies them with the executor and keeps every
//! accepted entry as history; and TLS test certificates made at test time ([`tls`]).
//!
//! Never a dependency of a production crate: keys are derived from fixed seeds.

pub mod dates;
pub mod forgery;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod tls;

use ed25519_dalek::SigningKey;

use isnad_core::event::{
    Admit, DecommissionReason, DeviceClass, Event, EventId, Genesis, Item, LotId, Payload,
    PublicKey, ReasonCode, Role, SerialRange, UnitId,
};
use isnad_core::gs1::{Gln, Gs1Date, Gtin, Lot, Serial, Sscc, check_digit};
use isnad_core::queries;
use isnad_core::rules::{ApplyError, Context, RejectCode, apply, apply_genesis};
use isnad_core::scan::{Scan, parse_scan};
use isnad_core::state::MemState;
use isnad_core::verdict::{HistoryEntry, HistoryError, HistoryKind, Verdict, derive_verdict};

/// 2026-01-01T00:00:00Z: where a scenario's recorded clock starts.
pub const START_UNIX_MS: i64 = 1_767_225_600_000;

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// The recorded clock advances this much per accepted event.
pub const TICK_MS: i64 = 1_000;

/// The manufacturer's GS1 company prefix.
pub const MANUFACTURER_PREFIX: &str = "6111234";

/// The expiry of the scenario's lots against its own recorded clock (which starts at
/// [`START_UNIX_MS`]): 2028-12-31. A scenario replayed onto a real server, which judges expiry
/// by the wall clock, uses [`Scenario::today`] instead.
pub const EXPIRY: &str = "281231";

/// A valid GLN-13 from a 12-digit base (the check digit is computed).
pub fn gln(base: &str) -> Gln {
    with_check_digit(base)
        .parse()
        .expect("a 12-digit base makes a valid GLN")
}

/// A valid GTIN-14 from a 13-digit base.
pub fn gtin(base: &str) -> Gtin {
    with_check_digit(base)
        .parse()
        .expect("a 13-digit base makes a valid GTIN")
}

/// A valid SSCC-18 from a 17-digit base.
pub fn sscc(base: &str) -> Sscc {
    with_check_digit(base)
        .parse()
        .expect("a 17-digit base makes a valid SSCC")
}

/// The scenario manufacturer's SSCC number `n`.
pub fn sscc_number(n: u32) -> Sscc {
    sscc(&format!("0{MANUFACTURER_PREFIX}{n:09}"))
}

fn with_check_digit(base: &str) -> String {
    assert!(
        base.bytes().all(|b| b.is_ascii_digit()),
        "bases are digits: {base}"
    );
    format!("{base}{}", char::from(check_digit(base.as_bytes())))
}

/// A serial.
pub fn serial(text: &str) -> Serial {
    text.parse().expect("test serials are valid")
}

/// A lot number.
pub fn lot(text: &str) -> Lot {
    text.parse().expect("test lots are valid")
}

/// A GS1 date `YYMMDD`.
pub fn date(text: &str) -> Gs1Date {
    text.parse().expect("test dates are valid")
}

/// The participants of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Regulator,
    Manufacturer,
    Distributor,
    Hospital,
    Inspector,
}

impl Who {
    /// Every participant, the regulator first.
    pub const ALL: [Who; 5] = [
        Who::Regulator,
        Who::Manufacturer,
        Who::Distributor,
        Who::Hospital,
        Who::Inspector,
    ];
}

/// A participant with its signing key.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Its identity.
    pub party: Gln,
    /// Its first site, where it acts unless a test says otherwise.
    pub site: Gln,
    /// A second site of its own.
    pub other_site: Gln,
    /// Its admitted name.
    pub name: String,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Its GS1 company prefixes (the manufacturer's only).
    pub company_prefixes: Vec<String>,
    /// The key that signs its events; tests replace it to rotate keys.
    pub signing_key: SigningKey,
}

impl Actor {
    /// A participant numbered `n` (its GLNs and key derive from `n`).
    pub fn new(n: u8, name: &str, roles: Vec<Role>, company_prefixes: Vec<String>) -> Self {
        Self {
            party: gln(&format!("611000000{n:02}0")),
            site: gln(&format!("611000000{n:02}1")),
            other_site: gln(&format!("611000000{n:02}2")),
            name: name.to_owned(),
            roles,
            company_prefixes,
            signing_key: signing_key(n),
        }
    }

    /// Its current public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing_key.verifying_key().to_bytes())
    }

    /// The admission a regulator signs for it.
    pub fn admit(&self) -> Admit {
        Admit {
            party: self.party,
            name: self.name.clone(),
            roles: self.roles.clone(),
            sites: vec![self.site, self.other_site],
            company_prefixes: self.company_prefixes.clone(),
            public_keys: vec![self.public_key()],
        }
    }
}

/// An auditor (participant number 6), not admitted by [`Scenario::new`]: tests that need one
/// admit it with [`Actor::admit`], so the scenario's log indexes stay as they are.
pub fn auditor() -> Actor {
    Actor::new(6, "Inspection generale", vec![Role::Auditor], Vec::new())
}

/// A deterministic signing key from a seed byte.
pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Five participants, an in-memory state, the log of accepted entries, and a recorded clock.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Signs the registry; admitted at genesis.
    pub regulator: Actor,
    /// Registers the scenario's product and commissions its lots.
    pub manufacturer: Actor,
    /// Ships and receives.
    pub distributor: Actor,
    /// Receives, uses and dispenses.
    pub hospital: Actor,
    /// Inspects anywhere.
    pub inspector: Actor,
    /// Log entry 0.
    pub genesis: Genesis,
    /// The product the manufacturer registers in [`Scenario::new`].
    pub gtin: Gtin,
    /// Everything accepted so far, applied.
    pub state: MemState,
    /// Every accepted entry, genesis first: `entries[i].index == i`.
    pub entries: Vec<HistoryEntry>,
    /// The recorded time the next event gets.
    pub clock_unix_ms: i64,
    /// The expiry of the lots it commissions, as written on labels.
    pub expiry: Gs1Date,
    next_id: u64,
}

impl Default for Scenario {
    fn default() -> Self {
        Self::new()
    }
}

impl Scenario {
    /// Genesis only: the regulator is the one participant.
    pub fn bare() -> Self {
        let regulator = Actor::new(1, "Agence du medicament", vec![Role::Regulator], Vec::new());
        let genesis = Genesis {
            origin: "isnad.test/log".to_owned(),
            log_public_key: PublicKey(signing_key(99).verifying_key().to_bytes()),
            regulator: regulator.admit(),
            created_unix_ms: START_UNIX_MS,
        };
        let context = Context {
            index: 0,
            recorded_unix_ms: START_UNIX_MS,
            signer: regulator.public_key(),
        };
        let mut state = MemState::new();
        state.apply(&apply_genesis(&genesis, &context));
        let entry = HistoryEntry {
            index: 0,
            recorded_unix_ms: START_UNIX_MS,
            signer: None,
            kind: HistoryKind::Genesis(genesis.clone()),
        };
        Self {
            regulator,
            manufacturer: Actor::new(
                2,
                "Atlas Medical",
                vec![Role::Manufacturer],
                vec![MANUFACTURER_PREFIX.to_owned()],
            ),
            distributor: Actor::new(3, "Sud Distribution", vec![Role::Distributor], Vec::new()),
            hospital: Actor::new(4, "CHU Rabat", vec![Role::HealthFacility], Vec::new()),
            inspector: Actor::new(
                5,
                "Inspection Casablanca",
                vec![Role::Inspector],
                Vec::new(),
            ),
            genesis,
            gtin: gtin(&format!("0{MANUFACTURER_PREFIX}00001")),
            state,
            entries: vec![entry],
            clock_unix_ms: START_UNIX_MS + TICK_MS,
            expiry: date(EXPIRY),
            next_id: 1,
        }
    }

    /// Genesis, the four other participants admitted, and the product registered.
    pub fn new() -> Self {
        let mut scenario = Self::bare();
        for who in [
            Who::Manufacturer,
            Who::Distributor,
            Who::Hospital,
            Who::Inspector,
        ] {
            let admit = scenario.actor(who).admit();
            scenario.accept(Who::Regulator, Payload::AdmitParticipant(admit));
        }
        let product = scenario.register_product_payload(scenario.gtin);
        scenario.accept(Who::Manufacturer, product);
        scenario
    }

    /// [`Scenario::new`] whose lots expire [`dates::expiry_ahead`]: for a server that judges
    /// expiry by the wall clock, whatever the year the test runs in.
    pub fn today() -> Self {
        Self {
            expiry: date(&dates::expiry_ahead()),
            ..Self::new()
        }
    }

    /// A participant.
    pub fn actor(&self, who: Who) -> &Actor {
        match who {
            Who::Regulator => &self.regulator,
            Who::Manufacturer => &self.manufacturer,
            Who::Distributor => &self.distributor,
            Who::Hospital => &self.hospital,
            Who::Inspector => &self.inspector,
        }
    }

    /// A participant, to change its key in a test.
    pub fn actor_mut(&mut self, who: Who) -> &mut Actor {
        match who {
            Who::Regulator => &mut self.regulator,
            Who::Manufacturer => &mut self.manufacturer,
            Who::Distributor => &mut self.distributor,
            Who::Hospital => &mut self.hospital,
            Who::Inspector => &mut self.inspector,
        }
    }

    /// A fresh event id (deterministic: a counter).
    pub fn fresh_id(&mut self) -> EventId {
        let mut id = [0; 16];
        id[8..].copy_from_slice(&self.next_id.to_be_bytes());
        self.next_id += 1;
        EventId(id)
    }

    /// An event by `who` at its first site.
    pub fn event(&mut self, who: Who, payload: Payload) -> Event {
        let site = self.actor(who).site;
        self.event_at(who, site, payload)
    }

    /// An event by `who` at `site`.
    pub fn event_at(&mut self, who: Who, site: Gln, payload: Payload) -> Event {
        Event {
            id: self.fresh_id(),
            event_time_unix_ms: self.clock_unix_ms,
            actor: self.actor(who).party,
            site,
            payload,
        }
    }

    /// The context the next entry gets, signed with `signer`.
    pub fn context(&self, signer: PublicKey) -> Context {
        Context {
            index: self.entries.len() as u64,
            recorded_unix_ms: self.clock_unix_ms,
            signer,
        }
    }

    /// Applies `event` signed by `signer`; on success the entry joins the log and the clock
    /// ticks. On refusal nothing changes.
    pub fn submit_signed(&mut self, event: Event, signer: PublicKey) -> Result<u64, ApplyError> {
        let context = self.context(signer);
        let writes = apply(&self.state, &event, &context)?;
        self.state.apply(&writes);
        self.entries.push(HistoryEntry {
            index: context.index,
            recorded_unix_ms: context.recorded_unix_ms,
            signer: Some(signer),
            kind: HistoryKind::Event(event),
        });
        self.clock_unix_ms += TICK_MS;
        Ok(context.index)
    }

    /// Applies `event`, signed by `who`'s current key.
    pub fn submit(&mut self, who: Who, event: Event) -> Result<u64, ApplyError> {
        let signer = self.actor(who).public_key();
        self.submit_signed(event, signer)
    }

    /// Builds and applies an event by `who` at its first site.
    pub fn submit_payload(&mut self, who: Who, payload: Payload) -> Result<u64, ApplyError> {
        let event = self.event(who, payload);
        self.submit(who, event)
    }

    /// Builds and applies an event that must be accepted; returns its log index.
    #[track_caller]
    pub fn accept(&mut self, who: Who, payload: Payload) -> u64 {
        let event = self.event(who, payload);
        self.accept_event(who, event)
    }

    /// Applies an event that must be accepted; returns its log index.
    #[track_caller]
    pub fn accept_event(&mut self, who: Who, event: Event) -> u64 {
        let shown = format!("{:?}", event.payload);
        match self.submit(who, event) {
            Ok(index) => index,
            Err(error) => panic!("{who:?} was refused {shown}: {error}"),
        }
    }

    /// Builds and applies an event that must be refused; returns the code.
    #[track_caller]
    pub fn refuse(&mut self, who: Who, payload: Payload) -> RejectCode {
        let event = self.event(who, payload);
        self.refuse_event(who, event)
    }

    /// Applies an event that must be refused, checking that the state did not change.
    #[track_caller]
    pub fn refuse_event(&mut self, who: Who, event: Event) -> RejectCode {
        let before = self.state.digest();
        let shown = format!("{:?}", event.payload);
        let code = match self.submit(who, event) {
            Ok(index) => panic!("{who:?} was allowed {shown} at index {index}"),
            Err(ApplyError::Rejected(rejection)) => rejection.code,
            Err(ApplyError::Storage(error)) => panic!("storage failed: {error}"),
        };
        assert_eq!(
            before,
            self.state.digest(),
            "a refused event changed the state"
        );
        code
    }

    /// Moves the recorded clock forward.
    pub fn advance_days(&mut self, days: i64) {
        self.clock_unix_ms += days * DAY_MS;
    }

    /// A unit of the scenario product.
    pub fn unit(&self, serial_text: &str) -> UnitId {
        UnitId {
            gtin: self.gtin,
            serial: serial(serial_text),
        }
    }

    /// A lot of the scenario product.
    pub fn lot(&self, lot_text: &str) -> LotId {
        LotId {
            gtin: self.gtin,
            lot: lot(lot_text),
        }
    }

    /// RegisterProduct of `gtin`.
    pub fn register_product_payload(&self, gtin: Gtin) -> Payload {
        Payload::RegisterProduct {
            gtin,
            name: "Seringue 5 ml".to_owned(),
            device_class: DeviceClass::ClassIIa,
            made_in_morocco: true,
        }
    }

    /// Commission of listed serials of a lot of the scenario product, expiring [`Scenario::expiry`].
    pub fn commission_payload(&self, lot_text: &str, serials: &[&str]) -> Payload {
        Payload::Commission {
            lot: self.lot(lot_text),
            expiry: self.expiry,
            production_date: Some(date("260101")),
            serials: serials.iter().map(|text| serial(text)).collect(),
            serial_ranges: Vec::new(),
            quantity: 0,
        }
    }

    /// Commission of `count` serials `{prefix}{n:06}` from 1.
    pub fn commission_range_payload(&self, lot_text: &str, prefix: &str, count: u32) -> Payload {
        Payload::Commission {
            lot: self.lot(lot_text),
            expiry: self.expiry,
            production_date: Some(date("260101")),
            serials: Vec::new(),
            serial_ranges: vec![SerialRange {
                prefix: prefix.to_owned(),
                first: 1,
                count,
                width: 6,
            }],
            quantity: 0,
        }
    }

    /// Commission of a non-serialized quantity.
    pub fn commission_quantity_payload(&self, lot_text: &str, quantity: u64) -> Payload {
        Payload::Commission {
            lot: self.lot(lot_text),
            expiry: self.expiry,
            production_date: None,
            serials: Vec::new(),
            serial_ranges: Vec::new(),
            quantity,
        }
    }

    /// The manufacturer commissions serials of a lot; returns the units.
    #[track_caller]
    pub fn commission(&mut self, lot_text: &str, serials: &[&str]) -> Vec<UnitId> {
        let payload = self.commission_payload(lot_text, serials);
        self.accept(Who::Manufacturer, payload);
        serials.iter().map(|text| self.unit(text)).collect()
    }

    /// A Ship of `items` to `to`'s first site.
    pub fn ship_payload(&self, items: Vec<Item>, to: Who) -> Payload {
        let to = self.actor(to);
        Payload::Ship {
            items,
            destination_party: to.party,
            destination_site: to.site,
        }
    }

    /// `from` ships `items` to `to`; returns the shipment id.
    #[track_caller]
    pub fn ship(&mut self, from: Who, items: Vec<Item>, to: Who) -> EventId {
        let payload = self.ship_payload(items, to);
        let event = self.event(from, payload);
        let id = event.id;
        self.accept_event(from, event);
        id
    }

    /// `who` receives the whole shipment.
    #[track_caller]
    pub fn receive(&mut self, who: Who, shipment: EventId) -> u64 {
        self.accept(
            who,
            Payload::Receive {
                shipment,
                missing: Vec::new(),
            },
        )
    }

    /// `from` ships to `to`, and `to` receives everything.
    #[track_caller]
    pub fn deliver(&mut self, from: Who, items: Vec<Item>, to: Who) -> EventId {
        let shipment = self.ship(from, items, to);
        self.receive(to, shipment);
        shipment
    }

    /// `who` packs `items` into `sscc`.
    #[track_caller]
    pub fn aggregate(&mut self, who: Who, sscc: Sscc, items: Vec<Item>) -> u64 {
        self.accept(who, Payload::Aggregate { sscc, items })
    }

    /// `who` decommissions `items`.
    #[track_caller]
    pub fn decommission(&mut self, who: Who, items: Vec<Item>, reason: DecommissionReason) -> u64 {
        self.accept(who, Payload::Decommission { items, reason })
    }

    /// The inspector records a sighting of `scan_text` at `site`.
    #[track_caller]
    pub fn inspect_at(&mut self, site: Gln, scan_text: &str) -> u64 {
        let payload = Payload::Inspect {
            scan: scan_text.to_owned(),
            verdict_seen: ReasonCode::Genuine,
        };
        let event = self.event_at(Who::Inspector, site, payload);
        self.accept_event(Who::Inspector, event)
    }

    /// The human-readable scan of `unit` as the scenario labels it: lot and expiry included.
    pub fn label(&self, unit: &UnitId, lot_text: &str) -> String {
        format!(
            "(01){}(17){}(10){lot_text}(21){}",
            unit.gtin, self.expiry, unit.serial
        )
    }

    /// The history a verifier gets for `scan`: the entries [`queries::history_for_scan`]
    /// selects, in log order.
    pub fn history(&self, scan: &Scan) -> Vec<HistoryEntry> {
        let indexes = queries::history_for_scan(&self.state, scan).expect("in-memory state");
        let mut wanted: Vec<u64> = indexes
            .events
            .into_iter()
            .chain(indexes.authorizations)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        wanted
            .into_iter()
            .map(|index| self.entries[index as usize].clone())
            .collect()
    }

    /// The verdict on `scan_text` now, as a verifier derives it from the selected history.
    pub fn verdict(
        &self,
        scan_text: &str,
        verifier_site: Option<&Gln>,
    ) -> Result<Verdict, HistoryError> {
        let scan = parse_scan(scan_text).expect("test scans parse");
        derive_verdict(
            &scan,
            verifier_site,
            &self.history(&scan),
            self.clock_unix_ms,
        )
    }
}
