//! `isnad audit`: an independent auditor of the service.

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use isnad_client::audit::AuditReport;
use isnad_client::client::CheckError;
use serde_json::json;

use crate::output::Colour;
use crate::{Context, Exit, now_unix_ms};

/// Audits the whole log against the pinned trust and pins the audited checkpoint. Exits with
/// [`Exit::Suspect`] when any entry should not have been accepted.
pub(crate) async fn run(context: &Context) -> anyhow::Result<Exit> {
    let trust = context.trust.load()?;
    let client = context.client().await?;
    let progress = progress_bar(context);
    let report = match client
        .audit(
            &trust,
            |done, total| {
                progress.set_length(total);
                progress.set_position(done);
            },
            now_unix_ms(),
        )
        .await
    {
        Ok(report) => report,
        Err(CheckError::Fork(evidence)) => {
            progress.finish_and_clear();
            let path = context.trust.record_fork(&evidence)?;
            anyhow::bail!(
                "possible split view (fork) of the log: {}. Both checkpoints are saved in {}; \
                 this log is no longer trusted",
                evidence.problem,
                path.display()
            );
        }
        Err(error) => {
            progress.finish_and_clear();
            return Err(error).context("the audit failed");
        }
    };
    progress.finish_and_clear();
    context
        .trust
        .advance(&trust.with_checkpoint(&report.checkpoint_note)?)?;
    print_report(context, &report, trust.checkpoint().size.0);
    Ok(if report.findings.is_empty() {
        Exit::Success
    } else {
        Exit::Suspect
    })
}

fn progress_bar(context: &Context) -> ProgressBar {
    if context.output.json {
        return ProgressBar::hidden();
    }
    // Drawn on stderr, and hidden by indicatif when stderr is not a terminal.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("auditing {bar:40} {pos}/{len} entries ({eta})")
            .expect("a valid template"),
    );
    bar
}

fn print_report(context: &Context, report: &AuditReport, pinned: u64) {
    let output = &context.output;
    if output.json {
        output.json_line(&json!({
            "entries": report.entries,
            "events": report.events,
            "tree_size": report.checkpoint.size.0,
            "root": hex::encode(report.checkpoint.root),
            "pinned_tree_size": pinned,
            "findings": report.findings.iter().map(|f| json!({
                "index": f.index,
                "problem": f.problem.to_string(),
            })).collect::<Vec<_>>(),
        }));
        return;
    }
    let verdict = if report.findings.is_empty() {
        output.paint("no finding", Colour::Green)
    } else {
        let count = report.findings.len();
        output.paint(
            &format!("{count} entries should not have been accepted"),
            Colour::Red,
        )
    };
    output.line(&verdict);
    output.fields(&[
        (
            "audited",
            format!(
                "{} entries ({} events), every signature checked and every event re-applied",
                report.entries, report.events
            ),
        ),
        (
            "checkpoint",
            format!(
                "{} at tree size {}, matches every entry, consistent with the pinned size {pinned}",
                report.checkpoint.origin, report.checkpoint.size.0
            ),
        ),
    ]);
    for finding in &report.findings {
        output.line(&format!("  entry {}: {}", finding.index, finding.problem));
    }
}
