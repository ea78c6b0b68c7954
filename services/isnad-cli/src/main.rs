//! `isnad`: parses the command line and runs the command.

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = isnad_cli::args::Cli::parse();
    let exit = isnad_cli::run(cli).await;
    std::process::exit(exit as i32);
}
