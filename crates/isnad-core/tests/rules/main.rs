//! The executor's rules, table by table: every event type with its allowed cases and each
//! refused case with its reason code. Every row starts from the same scenario (regulator,
//! manufacturer, distributor, hospital, inspector admitted, one product registered), runs its
//! setup, submits one event, and checks the outcome through `support::check`: an accepted
//! event shows each effect its row states (read back through the typed queries, see
//! `effects`), a refused one leaves the state exactly as it was.

mod custody;
mod effects;
mod goods;
mod packing;
mod registry;
mod support;

use std::collections::BTreeSet;

use isnad_core::rules::{RejectClass, RejectCode};

use crate::support::{Accepted, Refused};

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

/// Every rejection code is produced by some row: the tables are the executor's specification,
/// so a code no row reaches is either dead or untested.
#[test]
fn every_reject_code_is_exercised() {
    let tables = [
        registry::signer_and_actor_rules_rows(),
        registry::registry_events_rows(),
        registry::register_product_rows(),
        goods::commission_rows(),
        packing::aggregate_rows(),
        packing::disaggregate_rows(),
        custody::ship_rows(),
        custody::receive_rows(),
        goods::decommission_rows(),
        goods::recall_rows(),
        goods::inspect_rows(),
    ];
    let expected: BTreeSet<RejectCode> = tables
        .iter()
        .flatten()
        .filter_map(|(_, _, expected)| match expected {
            Refused(code) => Some(*code),
            Accepted(_) => None,
        })
        .collect();
    for code in RejectCode::ALL {
        assert!(expected.contains(code), "no row expects {code}");
    }
}
