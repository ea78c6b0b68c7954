//! What every table shares: the row type, the one `check`, and the setups rows build on.

use isnad_core::event::{Event, Item, Payload, PublicKey, Role};
use isnad_core::rules::{ApplyError, RejectCode};
use isnad_testkit::{Actor, Scenario, Who, signing_key, sscc_number};

use crate::effects::{Effect, check_effects};

/// What a row's setup hands to `check`: the signing key and the event to submit.
pub type Submission = (PublicKey, Event);

/// A row: its name, its setup, and the expected outcome.
pub type Row = (&'static str, fn(&mut Scenario) -> Submission, Expect);

/// How a row's event ends.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Accepted, with what it did (at least one effect).
    Accepted(&'static [Effect]),
    /// Refused with this reason code, the state left exactly as it was.
    Refused(RejectCode),
}

pub use Expect::{Accepted, Refused};

/// The length of [`newcomer`]'s name.
pub const NEWCOMER_NAME_LEN: usize = NEWCOMER_NAME.len();

/// The name [`newcomer`] is admitted under.
const NEWCOMER_NAME: &str = "Pharmacie Atlas";

/// Runs one row from the common scenario: an accepted event must show each of its effects
/// (and have shown none of them before, unless kept); a refused one must give the expected
/// code and a message, and leave the state exactly as it was.
#[track_caller]
pub fn check(name: &str, setup: fn(&mut Scenario) -> Submission, expected: Expect) {
    let mut scenario = Scenario::new();
    let (signer, event) = setup(&mut scenario);
    let before = scenario.state.clone();
    let outcome = scenario.submit_signed(event.clone(), signer);
    match (outcome, expected) {
        (Ok(index), Accepted(effects)) => {
            assert_ne!(
                before.digest(),
                scenario.state.digest(),
                "{name}: accepted but wrote nothing"
            );
            check_effects(name, effects, &scenario, &before, &event, index);
        }
        (Err(ApplyError::Rejected(rejection)), Refused(code)) => {
            assert_eq!(
                rejection.code, code,
                "{name}: refused for another reason: {rejection}"
            );
            assert!(!rejection.message.is_empty(), "{name}: a refusal says why");
            assert_eq!(
                before.digest(),
                scenario.state.digest(),
                "{name}: a refused event changed the state"
            );
        }
        (outcome, expected) => panic!("{name}: expected {expected:?}, got {outcome:?}"),
    }
}

/// Checks every row of a table.
pub fn check_table(rows: &[Row]) {
    for (name, setup, expected) in rows {
        check(name, *setup, *expected);
    }
}

/// `who` signs `payload` at its first site with its own key.
pub fn by(scenario: &mut Scenario, who: Who, payload: Payload) -> Submission {
    (
        scenario.actor(who).public_key(),
        scenario.event(who, payload),
    )
}

/// `who` signs `payload` at `site` with its own key.
pub fn at(
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

pub fn newcomer() -> Actor {
    Actor::new(7, NEWCOMER_NAME, vec![Role::HealthFacility], Vec::new())
}

pub fn rival() -> Actor {
    Actor::new(
        8,
        "Rival Devices",
        vec![Role::Manufacturer],
        vec!["6119999".to_owned()],
    )
}

pub fn admit_rival(scenario: &mut Scenario) -> Actor {
    let rival = rival();
    scenario.accept(Who::Regulator, Payload::AdmitParticipant(rival.admit()));
    rival
}

pub fn suspend(scenario: &mut Scenario, who: Who) {
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
pub fn rotate_key(scenario: &mut Scenario, who: Who) -> PublicKey {
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

pub fn unit_item(scenario: &Scenario, serial: &str) -> Item {
    Item::Unit(scenario.unit(serial))
}

/// Commissions `SN1` and `SN2` of lot `L1`.
pub fn two_units(scenario: &mut Scenario) -> (Item, Item) {
    scenario.commission("L1", &["SN1", "SN2"]);
    (unit_item(scenario, "SN1"), unit_item(scenario, "SN2"))
}

/// Two units at the distributor, received.
pub fn units_at_distributor(scenario: &mut Scenario) -> (Item, Item) {
    let (first, second) = two_units(scenario);
    scenario.deliver(
        Who::Manufacturer,
        vec![first.clone(), second.clone()],
        Who::Distributor,
    );
    (first, second)
}

/// `SN1` and `SN2` packed into SSCC 1 at the manufacturer.
pub fn packed(scenario: &mut Scenario) -> Item {
    let (first, second) = two_units(scenario);
    scenario.aggregate(Who::Manufacturer, sscc_number(1), vec![first, second]);
    Item::Sscc(sscc_number(1))
}

pub fn recall_l1(scenario: &mut Scenario) {
    let lot = scenario.lot("L1");
    scenario.accept(
        Who::Manufacturer,
        Payload::Recall {
            lot,
            reason: "sterility".to_owned(),
        },
    );
}
