//! `isnad trust init` and `isnad trust show`.

use isnad_client::Trust;
use isnad_client::trust::parse_regulator_key;
use serde_json::json;

use crate::args::TrustCommand;
use crate::output::{Colour, utc};
use crate::{Context, Exit};

/// Runs a trust command.
pub(crate) async fn run(command: TrustCommand, context: &Context) -> anyhow::Result<Exit> {
    match command {
        TrustCommand::Init {
            regulator_keys,
            log_key,
            force,
        } => init(&regulator_keys, &log_key, force, context).await,
        TrustCommand::Show => show(context),
    }
}

async fn init(
    regulator_keys: &[String],
    log_key: &str,
    force: bool,
    context: &Context,
) -> anyhow::Result<Exit> {
    let keys = regulator_keys
        .iter()
        .map(|key| parse_regulator_key(key))
        .collect::<Result<Vec<_>, _>>()?;
    if !force && context.trust.exists() {
        return Err(isnad_client::TrustError::Exists {
            dir: context.trust.dir().to_owned(),
        }
        .into());
    }
    let client = context.client().await?;
    let trust = client.establish_trust(keys, log_key).await?;
    context.trust.save(&trust, force)?;
    print_trust(context, &trust, None);
    Ok(Exit::Success)
}

fn show(context: &Context) -> anyhow::Result<Exit> {
    let trust = context.trust.load_ignoring_fork()?;
    let fork = context.trust.fork()?;
    print_trust(context, &trust, fork.as_ref());
    Ok(if fork.is_some() {
        Exit::Failure
    } else {
        Exit::Success
    })
}

fn print_trust(context: &Context, trust: &Trust, fork: Option<&isnad_client::trust::ForkEvidence>) {
    let output = &context.output;
    let keys: Vec<String> = trust
        .regulator_keys()
        .iter()
        .map(|k| hex::encode(k.0))
        .collect();
    let checkpoint = trust.checkpoint();
    if output.json {
        output.json_line(&json!({
            "trust_dir": context.trust.dir().display().to_string(),
            "origin": trust.origin(),
            "log_key": trust.log_vkey(),
            "regulator_keys": keys,
            "tree_size": checkpoint.size.0,
            "root": hex::encode(checkpoint.root),
            "fork": fork.map(|f| json!({
                "file": context.trust.fork_path().display().to_string(),
                "detected": utc(f.detected_unix_ms),
                "server": f.server,
                "problem": f.problem,
            })),
        }));
        return;
    }
    let mut rows = vec![
        ("trust store", context.trust.dir().display().to_string()),
        ("log", trust.origin().to_owned()),
        ("log key", trust.log_vkey().to_owned()),
        ("regulator keys", keys.join(", ")),
        (
            "pinned",
            format!(
                "tree size {}, root {}",
                checkpoint.size.0,
                hex::encode(checkpoint.root)
            ),
        ),
    ];
    if let Some(fork) = fork {
        let warning = format!(
            "POSSIBLE FORK seen {} at {}: {} (evidence in {})",
            utc(fork.detected_unix_ms),
            fork.server,
            fork.problem,
            context.trust.fork_path().display()
        );
        rows.push(("status", output.paint(&warning, Colour::Red)));
    }
    output.fields(&rows);
}
