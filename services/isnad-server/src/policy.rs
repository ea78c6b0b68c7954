//! The read policy, in one place: who may read what.
//!
//! A handler names what it is about to read ([`Access`]) and asks [`authorize`]; the table is
//! here and nowhere else. Who the caller is comes from the request layer
//! ([`crate::auth`]), which put a [`Caller`] in the request's extensions after checking its
//! signature against the registry.
//!
//! | what | who may read it |
//! | --- | --- |
//! | health, reflection, checkpoints, inclusion and consistency proofs, `GetParticipant` | anyone |
//! | `Log.GetEntries` of entry 0 alone (genesis: the trust anchors) | anyone |
//! | `Capture`, `CaptureStream`, `Registry.Submit` | anyone: each event carries its own signature |
//! | `Verify` | anyone; the history, state and authorizations only for an admitted party |
//! | `History` of a unit or an SSCC | any admitted party |
//! | `History` of a lot, `LotUnits` | the product's manufacturer, the regulator, auditors |
//! | `PartyEvents(P)`, `InboundShipments(P)` | `P` itself, the regulator, auditors |
//! | `Log.GetEntries`, `Log.Follow` | the regulator, auditors |
//!
//! The checkpoint and the proofs stay public so that anyone can detect a fork; the registry
//! stays public because every verifier needs it. A custody history shows who supplies whom,
//! when and how much: commercial flows that partners do not show their competitors, and a
//! serial read off a box proves nobody has the unit. So an anonymous `Verify` gets the verdict,
//! its reasons and the signed checkpoint, and the answer says that the history was withheld:
//! it is the server's word, which nobody can check offline.

use isnad_core::event::Role;
use isnad_core::gs1::Gln;
use isnad_proto::contract::Reason;

use crate::error::LedgerError;

/// Who sent a request, as the request layer established it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Caller {
    /// No signed request: only what is public.
    #[default]
    Anonymous,
    /// An admitted, active party whose registered key signed the request.
    Party {
        /// The party's GLN.
        party: Gln,
        /// Its roles, as the registry held them when the request arrived.
        roles: Vec<Role>,
    },
}

impl Caller {
    /// The caller of a request: the one the request layer recorded, else anonymous (a request
    /// that did not pass the layer proves nothing).
    pub fn of<T>(request: &tonic::Request<T>) -> Caller {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_default()
    }

    /// Whether the caller reads everything: the regulator and auditors.
    fn reads_everything(&self) -> bool {
        match self {
            Caller::Anonymous => false,
            Caller::Party { roles, .. } => roles
                .iter()
                .any(|role| matches!(role, Role::Regulator | Role::Auditor)),
        }
    }

    /// The caller's party, if admitted.
    fn party(&self) -> Option<&Gln> {
        match self {
            Caller::Anonymous => None,
            Caller::Party { party, .. } => Some(party),
        }
    }
}

/// What a handler is about to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<'a> {
    /// The genesis entry alone: the log key and the regulator's keys, which every client
    /// checks before it trusts a log.
    Genesis,
    /// The history of one unit or one logistic unit (SSCC).
    ItemHistory,
    /// A lot's history or its units; `manufacturer` is its product's, `None` when the product
    /// is not registered (then only those who read everything may look).
    Lot {
        /// The product's manufacturer.
        manufacturer: Option<&'a Gln>,
    },
    /// A party's events or the shipments addressed to it.
    Party(&'a Gln),
    /// The log's entries, in bulk (`GetEntries`, `Follow`).
    LogEntries,
}

/// How much of a verification answer a caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyAnswer {
    /// Everything: state, history with proofs, authorizations.
    Full,
    /// The verdict, its reasons, the scan error and the signed checkpoint (with the
    /// consistency proof asked for, which is about the log, not the unit).
    HistoryWithheld,
}

/// Whether `caller` may read `access`: `UNAUTHENTICATED` / `AUTHENTICATION_REQUIRED` for an
/// anonymous caller, `PERMISSION_DENIED` / `NOT_PERMITTED` for a party the table leaves out.
pub fn authorize(caller: &Caller, access: Access<'_>) -> Result<(), LedgerError> {
    if access == Access::Genesis {
        return Ok(());
    }
    let Some(party) = caller.party() else {
        return Err(LedgerError::Unauthenticated {
            reason: Reason::AuthenticationRequired,
            message: format!(
                "{}: sign the request as an admitted party",
                describe(access)
            ),
        });
    };
    let allowed = caller.reads_everything()
        || match access {
            Access::Genesis | Access::ItemHistory => true,
            Access::Lot { manufacturer } => manufacturer == Some(party),
            Access::Party(subject) => subject == party,
            Access::LogEntries => false,
        };
    if allowed {
        Ok(())
    } else {
        Err(LedgerError::PermissionDenied {
            reason: Reason::NotPermitted,
            message: format!("party {party} may not read {}", describe(access)),
        })
    }
}

/// How much of a verification answer `caller` gets.
pub fn verify_answer(caller: &Caller) -> VerifyAnswer {
    match caller {
        Caller::Anonymous => VerifyAnswer::HistoryWithheld,
        Caller::Party { .. } => VerifyAnswer::Full,
    }
}

/// What `access` reads, for a refusal's message.
fn describe(access: Access<'_>) -> String {
    match access {
        Access::Genesis => "the genesis entry".to_owned(),
        Access::ItemHistory => "a unit's history".to_owned(),
        Access::Lot { .. } => {
            "a lot's history and units (its manufacturer, the regulator and auditors may)"
                .to_owned()
        }
        Access::Party(party) => format!(
            "the events and shipments of party {party} (itself, the regulator and auditors may)"
        ),
        Access::LogEntries => "the log's entries (the regulator and auditors may)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(n: u8, roles: &[Role]) -> Caller {
        Caller::Party {
            party: isnad_testkit::gln(&format!("611000000{n:02}0")),
            roles: roles.to_vec(),
        }
    }

    #[track_caller]
    fn check(caller: &Caller, access: Access<'_>, expected: Option<Reason>) {
        let got = authorize(caller, access).err().map(|error| match error {
            LedgerError::Unauthenticated { reason, .. }
            | LedgerError::PermissionDenied { reason, .. } => reason,
            other => panic!("unexpected refusal {other:?}"),
        });
        assert_eq!(got, expected, "{caller:?} reading {access:?}");
    }

    /// The table of the module documentation, row by row.
    #[test]
    fn the_table() {
        let anonymous = Caller::Anonymous;
        let regulator = party(1, &[Role::Regulator]);
        let manufacturer = party(2, &[Role::Manufacturer]);
        let distributor = party(3, &[Role::Distributor]);
        let auditor = party(6, &[Role::Auditor]);
        let inspector = party(5, &[Role::Inspector]);
        let gln_of = |caller: &Caller| caller.party().copied().expect("a party");
        let (m, d) = (gln_of(&manufacturer), gln_of(&distributor));
        let denied = Some(Reason::NotPermitted);
        let required = Some(Reason::AuthenticationRequired);
        for access in [
            Access::ItemHistory,
            Access::Lot {
                manufacturer: Some(&m),
            },
            Access::Party(&d),
            Access::LogEntries,
        ] {
            check(&anonymous, access, required);
            check(&regulator, access, None);
            check(&auditor, access, None);
        }
        check(&inspector, Access::ItemHistory, None);
        check(&distributor, Access::ItemHistory, None);
        let lot = Access::Lot {
            manufacturer: Some(&m),
        };
        check(&manufacturer, lot, None);
        check(&distributor, lot, denied);
        check(&manufacturer, Access::Lot { manufacturer: None }, denied);
        check(&distributor, Access::Party(&d), None);
        check(&manufacturer, Access::Party(&d), denied);
        check(&inspector, Access::Party(&d), denied);
        check(&manufacturer, Access::LogEntries, denied);
        check(&inspector, Access::LogEntries, denied);
        check(&anonymous, Access::Genesis, None);
        assert_eq!(verify_answer(&anonymous), VerifyAnswer::HistoryWithheld);
        assert_eq!(verify_answer(&inspector), VerifyAnswer::Full);
    }
}
