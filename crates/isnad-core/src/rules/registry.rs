//! The registry: admitting participants, their keys, suspensions. Only a regulator signs
//! these (checked in `authorize`); every entry is indexed under the party it is about.

use crate::envelope;
use crate::event::{Admit, Event, PublicKey};
use crate::gs1::Gln;
use crate::limits::NAME_LEN_MAX;
use crate::queries::KeyRecord;
use crate::state::{StateView, read};

use super::records::{Link, ParticipantRecord};
use super::{
    ApplyError, Context, Out, RejectCode, check_company_prefix, check_list, check_text, keys,
    refuse,
};

/// Stateless checks of an admission.
pub(super) fn check_admit(admit: &Admit) -> Result<(), ApplyError> {
    check_text("name", &admit.name, 1, NAME_LEN_MAX)?;
    check_list("roles", &admit.roles, 1)?;
    check_list("sites", &admit.sites, 1)?;
    check_list("company_prefixes", &admit.company_prefixes, 0)?;
    check_list("public_keys", &admit.public_keys, 1)?;
    for (position, public_key) in admit.public_keys.iter().enumerate() {
        check_registered_key(&format!("public_keys[{position}]"), public_key)?;
    }
    admit
        .company_prefixes
        .iter()
        .try_for_each(|prefix| check_company_prefix(prefix))
}

/// A key to register must be one a secret key makes (see `envelope::check_public_key`): any
/// other could only sign events that some strict verifier refuses, or none at all.
pub(super) fn check_registered_key(field: &str, public_key: &PublicKey) -> Result<(), ApplyError> {
    match envelope::check_public_key(&public_key.0) {
        Ok(()) => Ok(()),
        Err(error) => refuse(
            RejectCode::InvalidField,
            format!("{field}: {}: {error}", hex::encode(public_key.0)),
        ),
    }
}

pub(super) fn admit<V: StateView + ?Sized>(
    view: &V,
    admit: &Admit,
    ctx: &Context,
    out: &mut Out,
) -> Result<(), ApplyError> {
    if view.get(&keys::participant(&admit.party))?.is_some() {
        return refuse(
            RejectCode::ParticipantExists,
            format!("party {} is already admitted", admit.party),
        );
    }
    for public_key in &admit.public_keys {
        if view.get(&keys::public_key(public_key))?.is_some() {
            return refuse(
                RejectCode::KeyExists,
                format!(
                    "public_keys: {} is already registered",
                    hex::encode(public_key.0)
                ),
            );
        }
    }
    admit_writes(admit, ctx, out);
    Ok(())
}

/// The writes of an admission (also genesis, which admits the regulator unchecked).
pub(super) fn admit_writes(admit: &Admit, ctx: &Context, out: &mut Out) {
    let record = ParticipantRecord {
        name: admit.name.clone(),
        roles: admit.roles.clone(),
        sites: admit.sites.clone(),
        company_prefixes: admit.company_prefixes.clone(),
        suspended: false,
        admitted_at_index: ctx.index,
        keys: admit.public_keys.clone(),
    };
    out.put(keys::participant(&admit.party), &record);
    for public_key in &admit.public_keys {
        put_new_key(admit.party, *public_key, ctx, out);
    }
    out.note(|index| keys::registry_log(&admit.party, index), Link::None);
}

fn put_new_key(party: Gln, public_key: PublicKey, ctx: &Context, out: &mut Out) {
    let record = KeyRecord {
        public_key,
        party,
        valid_from_index: ctx.index,
        revoked_at_index: None,
        compromised_since_unix_ms: None,
    };
    out.put(keys::public_key(&public_key), &record);
}

fn load_participant<V: StateView + ?Sized>(
    view: &V,
    party: &Gln,
) -> Result<ParticipantRecord, ApplyError> {
    match read::<ParticipantRecord, _>(view, &keys::participant(party))? {
        Some(record) => Ok(record),
        None => refuse(
            RejectCode::UnknownParticipant,
            format!("party {party} is not admitted"),
        ),
    }
}

pub(super) fn suspend<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    party: &Gln,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let mut record = load_participant(view, party)?;
    // A regulator suspending itself could leave nobody able to reinstate it.
    if *party == event.actor {
        return refuse(
            RejectCode::InvalidField,
            format!("party: {party} cannot suspend itself"),
        );
    }
    if record.suspended {
        return refuse(
            RejectCode::AlreadySuspended,
            format!("party {party} is already suspended"),
        );
    }
    record.suspended = true;
    out.put(keys::participant(party), &record);
    out.note(|index| keys::registry_log(party, index), Link::None);
    Ok(())
}

pub(super) fn reinstate<V: StateView + ?Sized>(
    view: &V,
    party: &Gln,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let mut record = load_participant(view, party)?;
    if !record.suspended {
        return refuse(
            RejectCode::NotSuspended,
            format!("party {party} is not suspended"),
        );
    }
    record.suspended = false;
    out.put(keys::participant(party), &record);
    out.note(|index| keys::registry_log(party, index), Link::None);
    Ok(())
}

pub(super) fn add_key<V: StateView + ?Sized>(
    view: &V,
    party: &Gln,
    public_key: &PublicKey,
    ctx: &Context,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let mut record = load_participant(view, party)?;
    if view.get(&keys::public_key(public_key))?.is_some() {
        return refuse(
            RejectCode::KeyExists,
            format!(
                "public_key: {} is already registered",
                hex::encode(public_key.0)
            ),
        );
    }
    record.keys.push(*public_key);
    out.put(keys::participant(party), &record);
    put_new_key(*party, *public_key, ctx, out);
    out.note(|index| keys::registry_log(party, index), Link::None);
    Ok(())
}

pub(super) fn revoke_key<V: StateView + ?Sized>(
    view: &V,
    party: &Gln,
    public_key: &PublicKey,
    compromised_since_unix_ms: Option<i64>,
    ctx: &Context,
    out: &mut Out,
) -> Result<(), ApplyError> {
    load_participant(view, party)?;
    let shown = hex::encode(public_key.0);
    let record = read::<KeyRecord, _>(view, &keys::public_key(public_key))?;
    let Some(mut record) = record.filter(|record| record.party == *party) else {
        return refuse(
            RejectCode::KeyNotFound,
            format!("public_key: {shown} is not a key of {party}"),
        );
    };
    if let Some(revoked) = record.revoked_at_index {
        return refuse(
            RejectCode::KeyAlreadyRevoked,
            format!("key {shown} was revoked at index {revoked}"),
        );
    }
    record.revoked_at_index = Some(ctx.index);
    record.compromised_since_unix_ms = compromised_since_unix_ms;
    out.put(keys::public_key(public_key), &record);
    out.note(|index| keys::registry_log(party, index), Link::None);
    Ok(())
}
