//! `isnad key generate` and `isnad key show`.

use std::path::Path;

use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use isnad_client::keys;
use serde_json::json;

use crate::args::KeyCommand;
use crate::{Context, Exit};

/// Runs a key command.
pub(crate) fn run(command: KeyCommand, context: &Context) -> anyhow::Result<Exit> {
    match command {
        KeyCommand::Generate { out, name } => {
            let key = keys::generate()?;
            keys::write_private_key(&out, &name, &key)?;
            show(context, &out, &name, &key);
        }
        KeyCommand::Show => {
            let key = context.key_file()?;
            let named = keys::read_private_key(key)?;
            show(context, key, &named.name, &named.key);
        }
    }
    Ok(Exit::Success)
}

/// Prints the public key and the verifier key string; never the private key.
fn show(context: &Context, file: &Path, name: &str, key: &SigningKey) {
    let public_key = hex::encode(key.verifying_key().to_bytes());
    let verifier_key = isnad_log::checkpoint::vkey(name, &key.verifying_key());
    let output = &context.output;
    if output.json {
        output.json_line(&json!({
            "file": file.display().to_string(),
            "name": name,
            "public_key": public_key,
            "verifier_key": verifier_key,
        }));
        return;
    }
    output.fields(&[
        (
            "file",
            format!("{} (private key, mode 0600)", file.display()),
        ),
        ("public key", public_key),
        ("verifier key", verifier_key),
    ]);
}

/// Reads a signing key file for a command that signs.
pub(crate) fn signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let named = keys::read_private_key(path)
        .with_context(|| format!("reading the signing key {}", path.display()))?;
    Ok(named.key)
}
