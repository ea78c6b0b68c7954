//! The `isnad` binary signs events for the log it trusts: the pinned log's origin when a trust
//! store is set up, else the origin the server's checkpoint names.

use isnad_testkit::Scenario;
use isnad_tests::circuit::{Isnad, Party, owned, strs};
use isnad_tests::{DataDir, Server};

/// A log of another deployment that trusts the same regulator key as the test log.
const PRODUCTION: &str = "isnad.sante.gov.ma/log";

/// The genesis regulator of `data`, its key written into `isnad`'s work directory.
fn regulator_of(isnad: &Isnad, data: &DataDir) -> Party {
    let key = isnad.path("regulator.key");
    isnad_client::keys::write_private_key(&key, "regulator", &data.regulator)
        .expect("the regulator's key file");
    Party {
        party: data.regulator_party.clone(),
        site: Scenario::bare().regulator.site.to_string(),
        key,
        public_key: hex::encode(data.regulator.verifying_key().to_bytes()),
    }
}

/// `isnad admit` of the test scenario's distributor, signed by `regulator`.
fn admit_distributor(regulator: &Party) -> Vec<String> {
    let distributor = Scenario::bare().distributor;
    let public_key = hex::encode(distributor.signing_key.verifying_key().to_bytes());
    let mut command = owned(&["admit"]);
    command.extend(regulator.signer());
    command.extend(owned(&[
        "--party",
        &distributor.party.to_string(),
        "--name",
        "distributor",
        "--role",
        "distributor",
        "--party-site",
        &distributor.site.to_string(),
        "--public-key",
        &public_key,
    ]));
    command
}

#[test]
fn events_are_signed_for_the_pinned_log_else_for_the_servers() {
    let test_data = DataDir::init();
    let test_server = Server::start(&test_data.path());
    let production_data = DataDir::init_with_origin(PRODUCTION);
    let production_server = Server::start(&production_data.path());

    // Pinned to the test log, the client signs for it: the production log refuses the event.
    let pinned = Isnad::new(&test_server.url());
    let regulator = regulator_of(&pinned, &test_data);
    pinned.ok(&[
        "trust",
        "init",
        "--regulator-key",
        &regulator.public_key,
        "--log-key",
        &test_data.log_vkey,
    ]);
    let command = admit_distributor(&regulator);
    let refused = pinned
        .command(&strs(&command))
        .env("ISNAD_SERVER", production_server.url())
        .output()
        .expect("isnad runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("BAD_SIGNATURE") || stdout.contains("BAD_SIGNATURE"),
        "stdout: {stdout}\nstderr: {stderr}"
    );

    // With no trust store, it signs for the origin the server's checkpoint names.
    let unpinned = Isnad::new(&production_server.url());
    let regulator = regulator_of(&unpinned, &production_data);
    unpinned.ok(&strs(&admit_distributor(&regulator)));
}
