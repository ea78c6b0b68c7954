//! One module per family of commands; [`dispatch`] routes the parsed command line.

mod audit;
mod capture;
mod events;
mod keys;
mod scan;
mod trust;
mod verify;

use crate::args::Command;
use crate::{Context, Exit};

/// Runs `command`.
pub(crate) async fn dispatch(command: Command, context: &Context) -> anyhow::Result<Exit> {
    match command {
        Command::Key(command) => keys::run(command, context),
        Command::Trust(command) => trust::run(command, context).await,
        Command::Scan { scan } => scan::run(&scan, context),
        Command::Verify(args) => verify::verify(args, context).await,
        Command::VerifyEvidence { file } => verify::verify_evidence(&file, context),
        Command::Audit => audit::run(context).await,
        Command::RegisterProduct(args) => events::register_product(args, context).await,
        Command::Commission(args) => events::commission(args, context).await,
        Command::Pack(args) => events::pack(args, context).await,
        Command::Unpack(args) => events::unpack(args, context).await,
        Command::Ship(args) => events::ship(args, context).await,
        Command::Receive(args) => events::receive(args, context).await,
        Command::Decommission(args) => events::decommission(args, context).await,
        Command::Recall(args) => events::recall(args, context).await,
        Command::Inspect(args) => events::inspect(args, context).await,
        Command::Admit(args) => events::admit(args, context).await,
        Command::Suspend(args) => events::suspend(args, context).await,
        Command::Reinstate(args) => events::reinstate(args, context).await,
        Command::AddKey(args) => events::add_key(args, context).await,
        Command::RevokeKey(args) => events::revoke_key(args, context).await,
    }
}
