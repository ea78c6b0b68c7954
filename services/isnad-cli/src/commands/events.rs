//! The partner and regulator commands: each builds its event from the command line (and, for
//! bulk forms, from a file), validates every value before anything is sent, and submits.
//!
//! Events built from a file get ids derived from their content (see `isnad_client::bulk`), so a
//! re-run after a crash captures nothing twice; events built from the command line alone get
//! random ids, so that repeating a movement is a new event.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context as _, bail};
use ed25519_dalek::SigningKey;
use isnad_client::bulk::{CommissionLot, Job};
use isnad_client::sign::random_event_id;
use isnad_client::trust::parse_regulator_key;
use isnad_core::event::{
    Admit, DecommissionReason, DeviceClass, Event, EventId, Item, LotId, Payload, PublicKey,
    ReasonCode, Role,
};
use isnad_core::gs1::{Gln, Gs1Date, Serial};
use isnad_core::scan::parse_scan;

use super::capture::{Plan, submit};
use super::keys::signing_key;
use crate::args::{
    AdmitArgs, CommissionArgs, DecommissionArgs, DecommissionReasonArg, DeviceClassArg,
    InspectArgs, Items, KeyChangeArgs, PackArgs, PartyArgs, RecallArgs, ReceiveArgs,
    RegisterProductArgs, RevokeKeyArgs, RoleArg, ShipArgs, Signer, SuspendArgs,
};
use crate::input::{read_values, refuse_duplicates};
use crate::{Context, Exit, now_unix_ms};

/// The signer of a command: its key, party and site.
struct Signing {
    key: SigningKey,
    actor: Gln,
    site: Gln,
}

impl Signing {
    fn from_args(signer: &Signer, context: &Context) -> anyhow::Result<Signing> {
        Ok(Signing {
            key: signing_key(context.key_file()?)?,
            actor: context.actor()?,
            site: parse("site", &signer.site)?,
        })
    }

    /// One event with a random id.
    fn event(&self, payload: Payload) -> anyhow::Result<Event> {
        Ok(Event {
            id: fresh_id()?,
            event_time_unix_ms: now_unix_ms(),
            actor: self.actor,
            site: self.site,
            payload,
        })
    }

    /// A job whose events get ids derived from their content.
    fn job(&self, label: &str) -> Job {
        Job {
            actor: self.actor,
            site: self.site,
            event_time_unix_ms: now_unix_ms(),
            label: label.to_owned(),
        }
    }
}

/// A random event id.
fn fresh_id() -> anyhow::Result<EventId> {
    random_event_id().map_err(|error| anyhow::anyhow!("no randomness for an event id: {error}"))
}

/// Parses an option's value, naming the option when it is refused.
fn parse<T>(option: &str, text: &str) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.trim()
        .parse()
        .with_context(|| format!("--{option} {text:?}"))
}

/// Submits one event with a random id.
async fn single(context: &Context, signing: &Signing, payload: Payload) -> anyhow::Result<Exit> {
    let event = signing.event(payload)?;
    submit(context, &signing.key, vec![event], Plan::SINGLE).await
}

/// `register-product`.
pub(crate) async fn register_product(
    args: RegisterProductArgs,
    context: &Context,
) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    let payload = Payload::RegisterProduct {
        gtin: parse("gtin", &args.gtin)?,
        name: args.name,
        device_class: device_class(args.class),
        made_in_morocco: args.made_in_morocco,
    };
    single(context, &signing, payload).await
}

/// `commission`: serials listed or from a file, split into events within the limits; or a
/// quantity of units that are not serialized.
pub(crate) async fn commission(args: CommissionArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    let lot = CommissionLot {
        lot: LotId {
            gtin: parse("gtin", &args.gtin)?,
            lot: parse("lot", &args.lot)?,
        },
        expiry: Gs1Date::parse_for(&args.expiry, "17").context("--expiry")?,
        production_date: args
            .production_date
            .as_deref()
            .map(|date| Gs1Date::parse_for(date, "11").context("--production-date"))
            .transpose()?,
    };
    let from_file = args.serials_file.is_some();
    let serials = commission_serials(&args)?;
    match (args.quantity, serials.is_empty()) {
        (Some(_), false) => bail!("give serials or a --quantity, not both"),
        (None, true) => bail!("give serials (--serial, --serials-file) or a --quantity"),
        (Some(quantity), true) => {
            let payload = Payload::Commission {
                lot: lot.lot,
                expiry: lot.expiry,
                production_date: lot.production_date,
                serials: Vec::new(),
                serial_ranges: Vec::new(),
                quantity,
            };
            single(context, &signing, payload).await
        }
        (None, false) => {
            let job = signing.job(&args.bulk.job);
            let events = job.commission_events(&lot, &serials, args.serials_per_event);
            let plan = Plan {
                resumable: from_file,
                events_per_request: args.bulk.events_per_request,
            };
            submit(
                context,
                &signing.key,
                with_random_ids(events, from_file)?,
                plan,
            )
            .await
        }
    }
}

/// The serials of a commission: from `--serial` and `--serials-file`, each valid, none twice.
fn commission_serials(args: &CommissionArgs) -> anyhow::Result<Vec<Serial>> {
    let mut values: Vec<(String, String)> = args
        .serials
        .iter()
        .map(|text| ("--serial".to_owned(), text.clone()))
        .collect();
    if let Some(path) = &args.serials_file {
        let column = args.bulk.column.as_deref().unwrap_or("serial");
        values.extend(file_values(path, column, "serial")?);
    }
    values
        .iter()
        .map(|(place, text)| {
            text.parse::<Serial>()
                .with_context(|| format!("{place}: serial {text:?}"))
        })
        .collect()
}

/// The values of a file, each with where it came from, refusing a value given twice.
fn file_values(path: &Path, column: &str, what: &str) -> anyhow::Result<Vec<(String, String)>> {
    let values = read_values(path, column)?;
    refuse_duplicates(&values, what).with_context(|| format!("{}", path.display()))?;
    Ok(values
        .into_iter()
        .map(|value| {
            (
                format!("{} line {}", path.display(), value.line),
                value.text,
            )
        })
        .collect())
}

/// Events built from the command line alone get random ids: see the module documentation.
fn with_random_ids(events: Vec<Event>, from_file: bool) -> anyhow::Result<Vec<Event>> {
    if from_file {
        return Ok(events);
    }
    events
        .into_iter()
        .map(|mut event| {
            event.id = fresh_id()?;
            Ok(event)
        })
        .collect()
}

/// The items of a command: from `--item` and `--items-file`, each a unit or an SSCC, none
/// twice. Returns them with whether any came from a file.
fn items(args: &Items) -> anyhow::Result<(Vec<Item>, bool)> {
    let mut values: Vec<(String, String)> = args
        .items
        .iter()
        .map(|text| ("--item".to_owned(), text.clone()))
        .collect();
    if let Some(path) = &args.items_file {
        let column = args.bulk.column.as_deref().unwrap_or("scan");
        values.extend(file_values(path, column, "scan")?);
    }
    let items = values
        .iter()
        .map(|(place, text)| item(text).with_context(|| format!("{place}: item {text:?}")))
        .collect::<anyhow::Result<Vec<Item>>>()?;
    Ok((items, args.items_file.is_some()))
}

/// A scan naming one item: a unit (GTIN and serial) or a logistic unit (SSCC).
fn item(text: &str) -> anyhow::Result<Item> {
    let scan = parse_scan(text)?;
    if let Some(unit) = scan.unit() {
        return Ok(Item::Unit(unit));
    }
    match scan.sscc {
        Some(sscc) => Ok(Item::Sscc(sscc)),
        None => bail!("the scan names neither a unit (GTIN and serial) nor an SSCC"),
    }
}

/// Submits item events: split within the limits, ids derived from content for file input.
async fn item_command(
    context: &Context,
    signer: &Signer,
    items_args: &Items,
    payload: impl Fn(Vec<Item>) -> Payload,
) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(signer, context)?;
    let (items, from_file) = items(items_args)?;
    let job = signing.job(&items_args.bulk.job);
    let events = job.item_events(&items, items_args.items_per_event, payload);
    let events = with_random_ids(events, from_file)?;
    let plan = Plan {
        resumable: from_file,
        events_per_request: items_args.bulk.events_per_request,
    };
    submit(context, &signing.key, events, plan).await
}

/// `pack`: aggregate items into an SSCC.
pub(crate) async fn pack(args: PackArgs, context: &Context) -> anyhow::Result<Exit> {
    let sscc = parse("sscc", &args.sscc)?;
    if args.items.items.is_empty() && args.items.items_file.is_none() {
        bail!("name the items to pack (--item, --items-file)");
    }
    item_command(context, &args.signer, &args.items, |items| {
        Payload::Aggregate { sscc, items }
    })
    .await
}

/// `unpack`: disaggregate items, or everything, from an SSCC.
pub(crate) async fn unpack(args: PackArgs, context: &Context) -> anyhow::Result<Exit> {
    let sscc = parse("sscc", &args.sscc)?;
    item_command(context, &args.signer, &args.items, |items| {
        Payload::Disaggregate { sscc, items }
    })
    .await
}

/// `ship`.
pub(crate) async fn ship(args: ShipArgs, context: &Context) -> anyhow::Result<Exit> {
    let destination_party: Gln = parse("to", &args.to)?;
    let destination_site: Gln = parse("to-site", &args.to_site)?;
    if args.items.items.is_empty() && args.items.items_file.is_none() {
        bail!("name the items to ship (--item, --items-file)");
    }
    item_command(context, &args.signer, &args.items, |items| Payload::Ship {
        items,
        destination_party,
        destination_site,
    })
    .await
}

/// `receive`.
pub(crate) async fn receive(args: ReceiveArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    let shipment = event_id(&args.shipment).context("--shipment")?;
    let missing = args
        .missing
        .iter()
        .map(|text| item(text).with_context(|| format!("--missing {text:?}")))
        .collect::<anyhow::Result<Vec<Item>>>()?;
    single(context, &signing, Payload::Receive { shipment, missing }).await
}

fn event_id(text: &str) -> anyhow::Result<EventId> {
    let bytes = hex::decode(text.trim()).context("not hex")?;
    let id: [u8; 16] = bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| anyhow::anyhow!("{} bytes, expected 16", bytes.len()))?;
    Ok(EventId(id))
}

/// `decommission`.
pub(crate) async fn decommission(
    args: DecommissionArgs,
    context: &Context,
) -> anyhow::Result<Exit> {
    let reason = decommission_reason(args.reason);
    if args.items.items.is_empty() && args.items.items_file.is_none() {
        bail!("name the items to decommission (--item, --items-file)");
    }
    item_command(context, &args.signer, &args.items, |items| {
        Payload::Decommission { items, reason }
    })
    .await
}

/// `recall`.
pub(crate) async fn recall(args: RecallArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    let lot = LotId {
        gtin: parse("gtin", &args.gtin)?,
        lot: parse("lot", &args.lot)?,
    };
    let payload = Payload::Recall {
        lot,
        reason: args.reason,
    };
    single(context, &signing, payload).await
}

/// `inspect`: records the verdict seen, which by default is the proven verdict at the
/// inspector's site.
pub(crate) async fn inspect(args: InspectArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    parse_scan(&args.scan).context("the scan does not parse")?;
    let verdict_seen = match &args.verdict_seen {
        Some(name) => reason_code(name)?,
        None => proven_verdict(context, &args.scan, &signing.site).await?,
    };
    let payload = Payload::Inspect {
        scan: args.scan,
        verdict_seen,
    };
    single(context, &signing, payload).await
}

async fn proven_verdict(context: &Context, scan: &str, site: &Gln) -> anyhow::Result<ReasonCode> {
    let trust = context.trust.load()?;
    // The proof is for admitted parties: the inspector asks as itself (--actor, --key).
    let client = context.client().await?;
    let site = site.to_string();
    let checked = client
        .verify_checked(&trust, scan, Some(&site), now_unix_ms())
        .await
        .context("verifying the unit before recording the inspection")?;
    context
        .trust
        .advance(&checked.verified.advanced_trust(&trust)?)?;
    Ok(checked.verified.verdict.verdict)
}

fn reason_code(name: &str) -> anyhow::Result<ReasonCode> {
    ReasonCode::ALL
        .into_iter()
        .find(|code| code.as_str().eq_ignore_ascii_case(name.trim()))
        .with_context(|| format!("--verdict-seen {name:?} is not a reason code"))
}

/// `admit`.
pub(crate) async fn admit(args: AdmitArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    let admit = Admit {
        party: parse("party", &args.party)?,
        name: args.name,
        roles: args.roles.iter().map(|role| self::role(*role)).collect(),
        sites: args
            .sites
            .iter()
            .map(|site| parse("party-site", site))
            .collect::<anyhow::Result<_>>()?,
        company_prefixes: args.prefixes,
        public_keys: args
            .public_keys
            .iter()
            .map(|key| public_key(key))
            .collect::<anyhow::Result<_>>()?,
    };
    single(context, &signing, Payload::AdmitParticipant(admit)).await
}

fn public_key(text: &str) -> anyhow::Result<PublicKey> {
    // The same checks as a trust anchor: 32 bytes of hex, a key a secret key makes.
    parse_regulator_key(text)
        .map_err(|error| anyhow::anyhow!("public key {text:?}: {}", error_problem(&error)))
}

fn error_problem(error: &isnad_client::TrustError) -> String {
    match error {
        isnad_client::TrustError::RegulatorKey { problem, .. } => (*problem).to_owned(),
        other => other.to_string(),
    }
}

/// `suspend`.
pub(crate) async fn suspend(args: SuspendArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    let payload = Payload::SuspendParticipant {
        party: parse("party", &args.party)?,
        reason: args.reason,
    };
    single(context, &signing, payload).await
}

/// `reinstate`.
pub(crate) async fn reinstate(args: PartyArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    let payload = Payload::ReinstateParticipant {
        party: parse("party", &args.party)?,
    };
    single(context, &signing, payload).await
}

/// `add-key`.
pub(crate) async fn add_key(args: KeyChangeArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.signer, context)?;
    let payload = Payload::AddKey {
        party: parse("party", &args.party)?,
        public_key: public_key(&args.public_key)?,
    };
    single(context, &signing, payload).await
}

/// `revoke-key`.
pub(crate) async fn revoke_key(args: RevokeKeyArgs, context: &Context) -> anyhow::Result<Exit> {
    let signing = Signing::from_args(&args.key.signer, context)?;
    let payload = Payload::RevokeKey {
        party: parse("party", &args.key.party)?,
        public_key: public_key(&args.key.public_key)?,
        compromised_since_unix_ms: args.compromised_since_unix_ms,
    };
    single(context, &signing, payload).await
}

fn device_class(class: DeviceClassArg) -> DeviceClass {
    match class {
        DeviceClassArg::ClassI => DeviceClass::ClassI,
        DeviceClassArg::ClassIia => DeviceClass::ClassIIa,
        DeviceClassArg::ClassIib => DeviceClass::ClassIIb,
        DeviceClassArg::ClassIii => DeviceClass::ClassIII,
        DeviceClassArg::InVitroDiagnostic => DeviceClass::InVitroDiagnostic,
        DeviceClassArg::MedicinalProduct => DeviceClass::MedicinalProduct,
    }
}

fn decommission_reason(reason: DecommissionReasonArg) -> DecommissionReason {
    match reason {
        DecommissionReasonArg::Used => DecommissionReason::Used,
        DecommissionReasonArg::Dispensed => DecommissionReason::Dispensed,
        DecommissionReasonArg::Destroyed => DecommissionReason::Destroyed,
        DecommissionReasonArg::Exported => DecommissionReason::Exported,
        DecommissionReasonArg::Stolen => DecommissionReason::Stolen,
        DecommissionReasonArg::Sample => DecommissionReason::Sample,
    }
}

fn role(role: RoleArg) -> Role {
    match role {
        RoleArg::Regulator => Role::Regulator,
        RoleArg::Manufacturer => Role::Manufacturer,
        RoleArg::Distributor => Role::Distributor,
        RoleArg::HealthFacility => Role::HealthFacility,
        RoleArg::Inspector => Role::Inspector,
        RoleArg::Auditor => Role::Auditor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Result<&str, &str>) {
        match (item(text), expected) {
            (Ok(Item::Unit(unit)), Ok(serial)) => assert_eq!(unit.serial.as_str(), serial),
            (Ok(Item::Sscc(sscc)), Ok(number)) => assert_eq!(sscc.as_str(), number),
            (Err(error), Err(expected)) => {
                let shown = format!("{error:#}");
                assert!(shown.contains(expected), "{text}: {shown}");
            }
            (outcome, expected) => panic!("{text}: expected {expected:?}, got {outcome:?}"),
        }
    }

    #[test]
    fn items_are_units_or_ssccs() {
        check("(01)09506000134352(21)S1", Ok("S1"));
        check("(00)106141411234567897", Ok("106141411234567897"));
        check("(01)09506000134352(10)L1", Err("neither a unit"));
        check("(01)09506000134353(21)S1", Err("check digit"));
    }

    #[test]
    fn event_ids_are_32_hex_digits() {
        assert_eq!(
            event_id("000102030405060708090a0b0c0d0e0f")
                .expect("valid")
                .0[15],
            15
        );
        assert!(event_id("00").is_err());
        assert!(event_id("zz").is_err());
    }

    #[test]
    fn reason_codes_parse_by_name_in_any_case() {
        assert_eq!(reason_code("genuine").expect("known"), ReasonCode::Genuine);
        assert_eq!(
            reason_code("IN_TRANSIT").expect("known"),
            ReasonCode::InTransit
        );
        assert!(reason_code("FINE").is_err());
    }
}
