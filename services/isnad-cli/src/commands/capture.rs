//! Submitting signed events: grouped into atomic capture requests, with a progress bar, each
//! event reported as soon as its receipt arrives.
//!
//! A resumable submission (events with ids derived from a bulk input) treats an event id the
//! server already holds (`EVENT_ID_REUSED`) as captured by an earlier run: that event leaves
//! the request and the rest is sent again. Since a request is atomic, an interrupted run left
//! each of its requests either wholly captured or not at all.

use anyhow::{Context as _, bail};
use ed25519_dalek::SigningKey;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use isnad_client::bulk;
use isnad_client::client::{Client, ClientError, Refusal};
use isnad_client::sign::sign_event;
use isnad_core::event::{Event, Payload};
use isnad_proto::contract::Reason;
use isnad_proto::pb;
use serde_json::json;

use crate::output::{Colour, payload_name};
use crate::{Context, Exit};

/// An event on its way to the server.
#[derive(Debug)]
struct Pending {
    id: String,
    name: &'static str,
    /// Serials or items it carries, for the progress bar.
    values: u64,
    /// Its share of a capture request.
    weight: bulk::EventWeight,
    signed: pb::SignedEvent,
}

/// How a submission went so far.
#[derive(Debug, Default)]
struct Tally {
    captured: u64,
    already_captured: u64,
}

/// How to submit a list of events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// The events' ids are derived from their content: see the module documentation.
    pub resumable: bool,
    /// Events per atomic request at most.
    pub events_per_request: usize,
}

impl Plan {
    /// One event with a random id.
    pub const SINGLE: Plan = Plan {
        resumable: false,
        events_per_request: 1,
    };
}

/// Signs `events` with `key` and submits them in order.
pub(crate) async fn submit(
    context: &Context,
    key: &SigningKey,
    events: Vec<Event>,
    plan: Plan,
) -> anyhow::Result<Exit> {
    let client = context.anonymous_client().await?;
    let origin = signing_origin(context, &client).await?;
    let pending: Vec<Pending> = events
        .iter()
        .map(|event| sign(key, &origin, event))
        .collect();
    let total: u64 = pending.iter().map(|p| p.values).sum();
    let progress = progress_bar(context, total, pending.len());
    let mut tally = Tally::default();
    let registry = events.len() == 1 && is_registry(&events[0].payload);
    let outcome = if registry {
        submit_registry(context, &client, pending, &mut tally).await
    } else {
        let requests = bulk::requests(pending, plan.events_per_request, |p| p.weight);
        let mut outcome = Ok(());
        for request in requests {
            outcome = submit_request(
                context,
                &client,
                request,
                plan.resumable,
                &mut tally,
                &progress,
            )
            .await;
            if outcome.is_err() {
                break;
            }
        }
        outcome
    };
    progress.finish_and_clear();
    print_tally(context, &tally);
    outcome?;
    Ok(Exit::Success)
}

/// The origin of the log the events are signed for, since only that log accepts them: the
/// pinned log's when a trust store is set up, else the one the server's checkpoint names.
async fn signing_origin(context: &Context, client: &Client) -> anyhow::Result<String> {
    if context.trust.exists() {
        // A recorded fork does not change which log the trust store pins.
        let trust = context.trust.load_ignoring_fork()?;
        return Ok(trust.origin().to_owned());
    }
    let note = client
        .checkpoint()
        .await
        .context("fetching the log's checkpoint for its origin")?;
    match note.lines().next() {
        Some(origin) if !origin.is_empty() => Ok(origin.to_owned()),
        _ => bail!("the server's checkpoint names no origin"),
    }
}

fn sign(key: &SigningKey, origin: &str, event: &Event) -> Pending {
    let signed = sign_event(key, origin, event);
    let weight = bulk::EventWeight::of(&signed, &event.payload);
    Pending {
        id: hex::encode(event.id.0),
        name: payload_name(&event.payload),
        values: weight.values as u64,
        weight,
        signed,
    }
}

fn is_registry(payload: &Payload) -> bool {
    matches!(
        payload,
        Payload::AdmitParticipant(_)
            | Payload::SuspendParticipant { .. }
            | Payload::ReinstateParticipant { .. }
            | Payload::AddKey { .. }
            | Payload::RevokeKey { .. }
    )
}

async fn submit_registry(
    context: &Context,
    client: &Client,
    mut pending: Vec<Pending>,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let event = pending.pop().expect("one registry event");
    match client.submit_registry(event.signed.clone()).await {
        Ok(receipt) => {
            report(context, &event, Some(&receipt));
            tally.captured += 1;
            Ok(())
        }
        Err(error) => Err(refused(error, &[event])),
    }
}

/// Sends one atomic request until it is captured, dropping events an earlier run captured.
async fn submit_request(
    context: &Context,
    client: &Client,
    mut request: Vec<Pending>,
    resumable: bool,
    tally: &mut Tally,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    while !request.is_empty() {
        let signed: Vec<pb::SignedEvent> = request.iter().map(|p| p.signed.clone()).collect();
        match client.capture(signed).await {
            Ok(receipts) => {
                for (event, receipt) in request.iter().zip(&receipts) {
                    progress.suspend(|| report(context, event, Some(receipt)));
                    progress.inc(event.values);
                }
                tally.captured += request.len() as u64;
                return Ok(());
            }
            Err(ClientError::Refused(refusal))
                if resumable && refusal.is(Reason::EventIdReused) =>
            {
                let Some(position) = refusal.event_index.filter(|&i| i < request.len()) else {
                    bail!("the server refused: {refusal}");
                };
                let event = request.remove(position);
                progress.suspend(|| report(context, &event, None));
                progress.inc(event.values);
                tally.already_captured += 1;
            }
            Err(error) => return Err(refused(error, &request)),
        }
    }
    Ok(())
}

/// The error for a refused request, naming the refused event when the server says which.
fn refused(error: ClientError, request: &[Pending]) -> anyhow::Error {
    let ClientError::Refused(refusal) = &error else {
        return error.into();
    };
    let Refusal { event_index, .. } = refusal;
    match event_index.and_then(|i| request.get(i)) {
        Some(event) if request.len() > 1 => anyhow::anyhow!(
            "{} event {} refused, and with it the {} other events of its request: {refusal}",
            event.name,
            event.id,
            request.len() - 1
        ),
        Some(event) => anyhow::anyhow!("{} event {} refused: {refusal}", event.name, event.id),
        None => anyhow::anyhow!("refused: {refusal}"),
    }
}

/// Reports one event: captured with its receipt, or already captured by an earlier run.
fn report(context: &Context, event: &Pending, receipt: Option<&pb::Receipt>) {
    let output = &context.output;
    if output.json {
        let mut line = json!({
            "event_id": event.id,
            "type": event.name,
            "values": event.values,
            "status": if receipt.is_some() { "captured" } else { "already_captured" },
        });
        if let Some(receipt) = receipt {
            line["leaf_index"] = json!(receipt.leaf_index);
            line["tree_size"] = json!(receipt.tree_size);
        }
        output.json_line(&line);
        return;
    }
    let status = match receipt {
        Some(receipt) => format!(
            "{} as log entry {}",
            output.paint("captured", Colour::Green),
            receipt.leaf_index
        ),
        None => format!(
            "{} by an earlier run (same content in this job; another --job makes it new)",
            output.paint("already captured", Colour::Yellow)
        ),
    };
    output.line(&format!("{:<16} {}  {status}", event.name, event.id));
}

fn print_tally(context: &Context, tally: &Tally) {
    let output = &context.output;
    if output.json {
        output.json_line(&json!({
            "captured": tally.captured,
            "already_captured": tally.already_captured,
        }));
    } else if tally.captured + tally.already_captured > 1 {
        output.line(&format!(
            "{} events captured, {} already captured",
            tally.captured, tally.already_captured
        ));
    }
}

fn progress_bar(context: &Context, total: u64, events: usize) -> ProgressBar {
    if context.output.json || events < 2 {
        return ProgressBar::hidden();
    }
    // Drawn on stderr, and hidden by indicatif when stderr is not a terminal.
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("capturing {bar:40} {pos}/{len} ({eta})")
            .expect("a valid template"),
    );
    bar
}
