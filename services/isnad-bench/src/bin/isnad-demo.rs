//! `isnad-demo`: plays a realistic circuit against a ledger started in this process and
//! prints the verdicts an inspector would get.

use std::io::Write;

use clap::Parser;
use isnad_bench::demo::{DEMO_UNITS, DemoOptions, play};

/// Plays a circuit of medical devices through a real Isnad ledger and prints the verdicts.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Serialized units to commission, across every lot.
    #[arg(long, default_value_t = DEMO_UNITS)]
    units: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Not locked for the whole run: the ledger may print too.
    let mut out = std::io::stdout();
    play(
        &DemoOptions {
            units_total: cli.units,
        },
        &mut out,
    )
    .await?;
    out.flush()?;
    Ok(())
}
