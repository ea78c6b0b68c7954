//! A bulk commission of 100,000 serials through `isnad`, killed (SIGKILL) midway and run
//! again: the lot ends with exactly the 100,000 units of the input, none twice, because event
//! ids are derived from the input and the second run recognises what the first captured.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use isnad_client::Client;
use isnad_proto::pb;
use isnad_testkit::dates::expiry_ahead;
use isnad_tests::circuit::{Circuit, owned, strs, write_lines};
use isnad_tests::{DataDir, ORIGIN, Server};

/// Serials in the lot.
const SERIALS: usize = 100_000;

/// Serials per event: small events make many requests, so the kill lands midway.
const SERIALS_PER_EVENT: usize = 1_000;

/// Events the first run captures before it is killed.
const EVENTS_BEFORE_KILL: usize = 30;

/// Every serial of the lot, as the server lists them to the regulator (a lot's units are for
/// its manufacturer, the regulator and auditors).
fn lot_serials(url: &str, gtin: &str, lot: &str) -> Vec<String> {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let regulator = isnad_testkit::Scenario::bare().regulator;
        let credentials =
            isnad_client::Credentials::new(regulator.party, regulator.signing_key, ORIGIN);
        let client = Client::connect(url)
            .await
            .expect("connects")
            .with_credentials(credentials);
        let mut serials = Vec::new();
        let mut after = String::new();
        loop {
            let page = client
                .lot_units(pb::LotUnitsRequest {
                    gtin: gtin.to_owned(),
                    lot: lot.to_owned(),
                    after_serial: after.clone(),
                    page_size: 1_000,
                })
                .await
                .expect("a page of units");
            serials.extend(page.units.into_iter().map(|unit| unit.serial));
            if page.next_after_serial.is_empty() {
                return serials;
            }
            after = page.next_after_serial;
        }
    })
}

#[test]
fn a_killed_bulk_commission_rerun_commissions_every_serial_once() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let c = Circuit::admit(&data, &server);
    let input: Vec<String> = (0..SERIALS).map(|n| format!("SN{n:07}")).collect();
    let file = write_lines(c.isnad.dir.path(), "serials.txt", input.iter().cloned());
    let mut command = owned(&["--json", "commission"]);
    command.extend(c.manufacturer.signer());
    command.extend(owned(&[
        "--gtin",
        &c.gtin,
        "--lot",
        "L1",
        "--expiry",
        &expiry_ahead(),
        "--serials-file",
        &file.display().to_string(),
        "--serials-per-event",
        &SERIALS_PER_EVENT.to_string(),
        "--events-per-request",
        "1",
    ]));
    let command = strs(&command);

    // The first run is killed once it has reported some events captured.
    let mut first = c
        .isnad
        .command(&command)
        .stdout(Stdio::piped())
        .spawn()
        .expect("isnad starts");
    let stdout = first.stdout.take().expect("piped");
    let reported = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take(EVENTS_BEFORE_KILL)
        .count();
    first.kill().expect("killed");
    first.wait().expect("reaped");
    assert_eq!(reported, EVENTS_BEFORE_KILL);
    let partial = lot_serials(&server.url(), &c.gtin, "L1").len();
    assert!(
        (EVENTS_BEFORE_KILL * SERIALS_PER_EVENT..SERIALS).contains(&partial),
        "killed midway: {partial} units"
    );

    // The second run finishes the job and captures nothing twice.
    let second = c.isnad.ok(&command);
    let summary = second.json();
    let events = SERIALS / SERIALS_PER_EVENT;
    let already = summary["already_captured"].as_u64().expect("a count") as usize;
    let captured = summary["captured"].as_u64().expect("a count") as usize;
    assert_eq!(already, partial / SERIALS_PER_EVENT, "{summary}");
    assert_eq!(already + captured, events, "{summary}");

    let serials = lot_serials(&server.url(), &c.gtin, "L1");
    assert_eq!(serials.len(), SERIALS, "exactly the input's units");
    let distinct: BTreeSet<&String> = serials.iter().collect();
    assert_eq!(distinct.len(), SERIALS, "none twice");
    assert_eq!(distinct, input.iter().collect(), "the input's serials");

    // A third run changes nothing.
    let size = c.isnad.json(&["audit"])["entries"].clone();
    let third = c.isnad.ok(&command).json();
    assert_eq!(third["already_captured"], events);
    assert_eq!(third["captured"], 0);
    assert_eq!(c.isnad.json(&["audit"])["entries"], size);
}
