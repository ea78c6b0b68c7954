//! `isnad verify` and `isnad verify-evidence`: verdicts shown only once proven.

use std::path::Path;

use anyhow::Context as _;
use isnad_client::client::{CheckError, Checked};
use isnad_client::{Evidence, VerifiedAnswer};
use isnad_core::event::ReasonCode;
use isnad_core::gs1::year_of_unix_ms;
use isnad_core::verdict::{HistoryEntry, HistoryKind, UnitStatus, UnitView};
use serde_json::{Value, json};

use crate::args::VerifyArgs;
use crate::output::{Colour, payload_name, utc};
use crate::{Context, Exit, now_unix_ms};

/// Asks the server about a scan, proves the answer, pins the newer checkpoint, and prints the
/// verdict. A possible fork is recorded in the trust store, which then refuses the log.
pub(crate) async fn verify(args: VerifyArgs, context: &Context) -> anyhow::Result<Exit> {
    if !context.signs_requests() {
        return verify_unproven(args, context).await;
    }
    let trust = context.trust.load()?;
    let client = context.client().await?;
    let now = now_unix_ms();
    let checked = match client
        .verify_checked(&trust, &args.scan, args.site.as_deref(), now)
        .await
    {
        Ok(checked) => checked,
        Err(CheckError::Fork(evidence)) => return Err(fork(context, &client, &evidence)),
        Err(error) => return Err(error).context("the answer is refused"),
    };
    context
        .trust
        .advance(&checked.verified.advanced_trust(&trust)?)?;
    if let Some(path) = &args.evidence {
        save_evidence(path, client.url(), &checked, &trust, now)?;
    }
    let pinned = trust.checkpoint().size.0;
    let extra: Vec<(&str, String)> = args
        .evidence
        .iter()
        .map(|path| ("evidence", path.display().to_string()))
        .collect();
    print_verified(context, &checked.verified, pinned, now, &extra);
    Ok(exit_for(checked.verified.verdict.verdict))
}

/// Records a possible fork in the trust store, which then refuses the log; the error to show.
fn fork(
    context: &Context,
    client: &isnad_client::Client,
    evidence: &isnad_client::trust::ForkEvidence,
) -> anyhow::Error {
    match context.trust.record_fork(evidence) {
        Ok(path) => anyhow::anyhow!(
            "possible split view (fork) of the log at {}: {}. Both checkpoints are saved in {}; \
             this log is no longer trusted",
            client.url(),
            evidence.problem,
            path.display()
        ),
        Err(error) => anyhow::Error::from(error).context(format!(
            "possible split view (fork) of the log at {}: {}",
            client.url(),
            evidence.problem
        )),
    }
}

/// Without credentials the server withholds the history: the verdict is shown as the server's
/// unproven word, and no evidence can be saved. The exit status follows the verdict as usual.
async fn verify_unproven(args: VerifyArgs, context: &Context) -> anyhow::Result<Exit> {
    anyhow::ensure!(
        args.evidence.is_none(),
        "--evidence needs the proof, which the server gives only to admitted parties: sign \
         your requests with --actor and --key (or ISNAD_ACTOR and ISNAD_KEY)"
    );
    let trust = context.trust.load()?;
    let client = context.client().await?;
    let unproven = match client
        .verify_unproven(&trust, &args.scan, args.site.as_deref(), now_unix_ms())
        .await
    {
        Ok(unproven) => unproven,
        Err(CheckError::Fork(evidence)) => return Err(fork(context, &client, &evidence)),
        Err(error) => return Err(error).context("the answer is refused"),
    };
    context.trust.advance(&unproven.advanced_trust(&trust)?)?;
    let answer = &unproven.answer;
    let code = |value: i32| {
        isnad_proto::convert::reason_code_from_wire(value)
            .with_context(|| format!("the server sent an unknown reason code {value}"))
    };
    let verdict = code(answer.verdict)?;
    let reasons = answer
        .reasons
        .iter()
        .map(|r| code(*r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let reason_names: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
    const UNPROVEN: &str = "the server's word, NOT PROVEN: an anonymous caller gets no history \
                            to check it with; sign your requests with --actor and --key for \
                            the proof";
    let output = &context.output;
    if output.json {
        output.json_line(&json!({
            "verdict": verdict.as_str(),
            "reasons": reason_names,
            "scan_error": (!answer.scan_error.is_empty()).then_some(&answer.scan_error),
            "proven": false,
            "history_withheld": answer.history_withheld,
            "checkpoint": {
                "origin": unproven.checkpoint.origin,
                "tree_size": unproven.checkpoint.size.0,
                "root": hex::encode(unproven.checkpoint.root),
            },
        }));
    } else {
        output.line(&format!("{} (unproven)", output.verdict(verdict)));
        let mut rows = vec![("proof", output.paint(UNPROVEN, Colour::Red))];
        if !reason_names.is_empty() {
            rows.push(("reasons", reason_names.join(", ")));
        }
        if !answer.scan_error.is_empty() {
            rows.push(("scan", output.paint(&answer.scan_error, Colour::Red)));
        }
        rows.push((
            "checkpoint",
            format!(
                "{} at tree size {}, signed by the log key",
                unproven.checkpoint.origin, unproven.checkpoint.size.0
            ),
        ));
        output.fields(&rows);
    }
    Ok(exit_for(verdict))
}

fn save_evidence(
    path: &Path,
    server: &str,
    checked: &Checked,
    trust: &isnad_client::Trust,
    now: i64,
) -> anyhow::Result<()> {
    let evidence = Evidence::new(
        server,
        &checked.question,
        &checked.answer,
        trust,
        &checked.verified,
        now,
    );
    evidence
        .write(path)
        .with_context(|| format!("writing the evidence file {}", path.display()))
}

/// Re-checks an evidence file with no network. When this client has a trust store, the file
/// must name the same trust anchors.
pub(crate) fn verify_evidence(path: &Path, context: &Context) -> anyhow::Result<Exit> {
    let evidence = Evidence::read(path)?;
    if context.trust.exists() {
        let ours = context.trust.load_ignoring_fork()?;
        evidence.check_anchors(&ours)?;
    }
    let verified = evidence
        .verify()
        .with_context(|| format!("{} is refused", path.display()))?;
    let at = evidence.verified_at_unix_ms;
    let pinned = evidence.question.known_tree_size;
    let extra = [
        (
            "checked",
            format!("offline, as of {} (when the answer was verified)", utc(at)),
        ),
        ("server", evidence.server.clone()),
        ("regulator keys", evidence.trust.regulator_keys.join(", ")),
        ("log key", evidence.trust.log_vkey.clone()),
    ];
    print_verified(context, &verified, pinned, at, &extra);
    Ok(exit_for(verified.verdict.verdict))
}

fn exit_for(verdict: ReasonCode) -> Exit {
    if verdict == ReasonCode::Genuine {
        Exit::Success
    } else {
        Exit::Suspect
    }
}

/// Prints a proven verdict: the verdict, the unit's state, what was proven, `extra` rows (in
/// JSON, fields named by the labels with `_` for spaces), and the history.
fn print_verified(
    context: &Context,
    verified: &VerifiedAnswer,
    pinned: u64,
    now: i64,
    extra: &[(&str, String)],
) {
    let output = &context.output;
    if output.json {
        let mut value = verified_json(verified, pinned, now);
        for (label, text) in extra {
            value[label.replace(' ', "_")] = json!(text);
        }
        output.json_line(&value);
        return;
    }
    let verdict = &verified.verdict;
    output.line(&output.verdict(verdict.verdict));
    let mut rows = Vec::new();
    if !verdict.reasons.is_empty() {
        let reasons: Vec<&str> = verdict.reasons.iter().map(|r| r.as_str()).collect();
        rows.push(("reasons", reasons.join(", ")));
    }
    if let Some(error) = &verified.scan_error {
        rows.push(("scan", output.paint(error, Colour::Red)));
    }
    if let Some(state) = &verdict.state {
        rows.extend(state_rows(state, year_of_unix_ms(now)));
    }
    let authorizations = verified.history.len() - verified.event_count.min(verified.history.len());
    rows.push((
        "proof",
        format!(
            "{} events and {} authorizations, every signature and inclusion proof checked",
            verified.event_count, authorizations
        ),
    ));
    rows.push((
        "checkpoint",
        format!(
            "{} at tree size {}, consistent with the pinned size {pinned}",
            verified.checkpoint.origin, verified.checkpoint.size.0
        ),
    ));
    rows.extend(extra.iter().cloned());
    output.fields(&rows);
    if !verified.history.is_empty() {
        output.line(&output.paint("history", Colour::Dim));
        for entry in &verified.history {
            output.line(&format!("  {}", history_line(entry)));
        }
    }
}

fn state_rows(state: &UnitView, year: i32) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        (
            "unit",
            format!("GTIN {} serial {}", state.unit.gtin, state.unit.serial),
        ),
        (
            "lot",
            format!("{}, expires {}", state.lot, state.expiry.to_iso(year)),
        ),
        ("status", status_name(state.status).to_owned()),
        ("holder", format!("{} at site {}", state.holder, state.site)),
    ];
    if let Some((party, site)) = &state.destination {
        rows.push(("in transit to", format!("{party} at site {site}")));
    }
    if let Some(container) = &state.container {
        rows.push(("packed in", format!("SSCC {container}")));
    }
    if let Some(reason) = &state.decommission_reason {
        rows.push(("decommissioned", format!("{reason:?}").to_lowercase()));
    }
    rows
}

fn status_name(status: UnitStatus) -> &'static str {
    match status {
        UnitStatus::Active => "active",
        UnitStatus::InTransit => "in transit",
        UnitStatus::Decommissioned => "decommissioned",
        UnitStatus::Recalled => "recalled",
        UnitStatus::Expired => "expired",
    }
}

fn history_line(entry: &HistoryEntry) -> String {
    let what = match &entry.kind {
        HistoryKind::Genesis(genesis) => format!("{:<16} {}", "genesis", genesis.origin),
        HistoryKind::Event(event) => format!(
            "{:<16} by {} at {}",
            payload_name(&event.payload),
            event.actor,
            event.site
        ),
    };
    format!(
        "#{:<8} {}  {what}",
        entry.index,
        utc(entry.recorded_unix_ms)
    )
}

fn verified_json(verified: &VerifiedAnswer, pinned: u64, now: i64) -> Value {
    let verdict = &verified.verdict;
    let year = year_of_unix_ms(now);
    json!({
        "verdict": verdict.verdict.as_str(),
        "reasons": verdict.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "scan_error": verified.scan_error,
        "state": verdict.state.as_ref().map(|s| json!({
            "gtin": s.unit.gtin.to_string(),
            "serial": s.unit.serial.to_string(),
            "lot": s.lot.to_string(),
            "expiry": s.expiry.to_iso(year),
            "status": status_name(s.status),
            "holder": s.holder.to_string(),
            "site": s.site.to_string(),
            "container": s.container.map(|c| c.to_string()),
            "destination": s.destination.map(|(p, site)| json!({"party": p.to_string(), "site": site.to_string()})),
            "decommission_reason": s.decommission_reason.map(|r| format!("{r:?}").to_lowercase()),
        })),
        "checkpoint": {
            "origin": verified.checkpoint.origin,
            "tree_size": verified.checkpoint.size.0,
            "root": hex::encode(verified.checkpoint.root),
        },
        "pinned_tree_size": pinned,
        "events": verified.event_count,
        "history": verified.history.iter().map(history_json).collect::<Vec<_>>(),
    })
}

fn history_json(entry: &HistoryEntry) -> Value {
    let (kind, actor, site) = match &entry.kind {
        HistoryKind::Genesis(_) => ("genesis", None, None),
        HistoryKind::Event(event) => (
            payload_name(&event.payload),
            Some(event.actor.to_string()),
            Some(event.site.to_string()),
        ),
    };
    json!({
        "index": entry.index,
        "recorded": utc(entry.recorded_unix_ms),
        "type": kind,
        "actor": actor,
        "site": site,
    })
}
