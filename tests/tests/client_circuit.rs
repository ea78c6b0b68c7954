//! The full circuit driven only through the `isnad` binary against the real server: keys,
//! trust, admissions, a commission from a file, packing, shipping, receiving, use, inspection,
//! recall; every verdict proven offline with the exit status it calls for; an evidence file
//! re-checked with the server gone; and a clean audit.

use std::os::unix::fs::PermissionsExt;

use isnad_testkit::dates::expiry_ahead;
use isnad_tests::circuit::{Circuit, Isnad, Run, write_lines};
use isnad_tests::{DataDir, Server};
use serde_json::Value;

/// The exit status of a GENUINE verdict, of a suspect one, and of an error.
const GENUINE: i32 = 0;
const SUSPECT: i32 = 1;
const ERROR: i32 = 2;

/// The first event id a capture printed (`--json`).
fn event_id(lines: &[Value]) -> String {
    lines[0]["event_id"]
        .as_str()
        .expect("an event id")
        .to_owned()
}

/// Verifies `scan` (at `site`, if given) with `--json`, checks the exit status, and returns
/// the verdict and the whole answer.
#[track_caller]
fn verify(isnad: &Isnad, code: i32, scan: &str, site: Option<&str>) -> (String, Value) {
    let mut args = vec!["--json", "verify", scan];
    if let Some(site) = site {
        args.extend(["--site", site]);
    }
    let answer = isnad.expect(code, &args).json();
    let verdict = answer["verdict"].as_str().expect("a verdict").to_owned();
    (verdict, answer)
}

#[test]
fn the_whole_circuit_through_isnad() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let c = Circuit::admit(&data, &server);
    let isnad = &c.isnad;

    let serials = write_lines(
        isnad.dir.path(),
        "serials.csv",
        std::iter::once("serial,note".to_owned()).chain((1..=100).map(|n| format!("S{n:04},x"))),
    );
    let serials = serials.display().to_string();
    let commission = c.by(
        0,
        &c.manufacturer,
        "commission",
        &[
            "--json",
            "--gtin",
            &c.gtin,
            "--lot",
            "L1",
            "--expiry",
            &expiry_ahead(),
            "--serials-file",
            &serials,
        ],
    );
    assert_eq!(commission.json()["captured"], 1);

    let (u1, u2, u3) = (
        c.label("L1", "S0001"),
        c.label("L1", "S0002"),
        c.label("L1", "S0003"),
    );
    let pallet = "(00)061112340000000019";
    let sscc = &pallet[4..];
    c.by(
        0,
        &c.manufacturer,
        "pack",
        &["--sscc", sscc, "--item", &u1, "--item", &u2],
    );
    let ship = c.by(
        0,
        &c.manufacturer,
        "ship",
        &[
            "--json",
            "--to",
            &c.distributor.party,
            "--to-site",
            &c.distributor.site,
            "--item",
            pallet,
        ],
    );
    let at_distributor = Some(c.distributor.site.as_str());
    assert_eq!(verify(isnad, SUSPECT, &u1, at_distributor).0, "IN_TRANSIT");

    c.by(
        0,
        &c.distributor,
        "receive",
        &["--shipment", &event_id(&ship.json_lines())],
    );
    let (verdict, answer) = verify(isnad, GENUINE, &u1, at_distributor);
    assert_eq!(verdict, "GENUINE");
    assert_eq!(answer["state"]["holder"], c.distributor.party.as_str());
    assert_eq!(answer["state"]["container"], sscc);
    let at_hospital = Some(c.hospital.site.as_str());
    assert_eq!(
        verify(isnad, SUSPECT, &u1, at_hospital).0,
        "CUSTODY_MISMATCH"
    );

    c.by(0, &c.distributor, "unpack", &["--sscc", sscc]);
    let items = write_lines(
        isnad.dir.path(),
        "items.jsonl",
        [serde_json::json!({"scan": u1}).to_string()],
    );
    let ship = c.by(
        0,
        &c.distributor,
        "ship",
        &[
            "--json",
            "--to",
            &c.hospital.party,
            "--to-site",
            &c.hospital.site,
            "--items-file",
            &items.display().to_string(),
        ],
    );
    c.by(
        0,
        &c.hospital,
        "receive",
        &["--shipment", &event_id(&ship.json_lines())],
    );
    let evidence = isnad.path("u1.evidence.json").display().to_string();
    let run = isnad.ok(&[
        "verify",
        &u1,
        "--site",
        &c.hospital.site,
        "--evidence",
        &evidence,
    ]);
    assert!(run.stdout.starts_with("GENUINE\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("every signature and inclusion proof checked"),
        "{}",
        run.stdout
    );

    c.by(
        0,
        &c.hospital,
        "decommission",
        &["--reason", "used", "--item", &u1],
    );
    let (verdict, answer) = verify(isnad, SUSPECT, &u1, None);
    assert_eq!(verdict, "ALREADY_DECOMMISSIONED");
    assert_eq!(answer["state"]["decommission_reason"], "used");

    // The inspector's device verifies first and records the proven verdict.
    let inspect = c.by(0, &c.inspector, "inspect", &["--json", &u2]);
    assert_eq!(inspect.json()["captured"], 1);

    c.by(
        0,
        &c.manufacturer,
        "recall",
        &["--gtin", &c.gtin, "--lot", "L1", "--reason", "sterility"],
    );
    let (verdict, answer) = verify(isnad, SUSPECT, &u3, Some(&c.manufacturer.site));
    assert_eq!(verdict, "RECALLED");
    assert_eq!(answer["reasons"], serde_json::json!(["RECALLED"]));

    let audit = isnad.json(&["audit"]);
    assert_eq!(audit["findings"], serde_json::json!([]));
    let size = isnad_tests_tree_size(&server);
    assert_eq!(audit["entries"], size);
    assert_eq!(c.pinned_size(), size, "the audited checkpoint is pinned");

    server.kill();
    let offline = isnad.json(&["verify-evidence", &evidence]);
    assert_eq!(offline["verdict"], "GENUINE");
    assert_eq!(offline["state"]["holder"], c.hospital.party.as_str());
    // The killed server's port may already serve a parallel test: ask one that refuses.
    let (_held, refusing) = isnad_tests::server::unreachable_address();
    let output = isnad
        .command(&["verify", &u1])
        .env("ISNAD_SERVER", format!("http://{refusing}"))
        .output()
        .expect("isnad runs");
    let unreachable = Run::from_output(output);
    assert_eq!(unreachable.code, ERROR, "{unreachable:?}");
    assert!(
        unreachable.stderr.contains("cannot reach the server"),
        "{}",
        unreachable.stderr
    );
}

/// The tree size by the server's own checkpoint.
fn isnad_tests_tree_size(server: &Server) -> u64 {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(isnad_tests::tree_size(server))
}

#[test]
fn bad_input_is_refused_with_the_reason_and_changes_nothing() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let c = Circuit::admit(&data, &server);
    let isnad = &c.isnad;
    let before = isnad_tests_tree_size(&server);

    let duplicated = write_lines(
        isnad.dir.path(),
        "dup.txt",
        ["A1", "A2", "A1"].map(String::from),
    );
    let run = c.by(
        ERROR,
        &c.manufacturer,
        "commission",
        &[
            "--gtin",
            &c.gtin,
            "--lot",
            "L1",
            "--expiry",
            &expiry_ahead(),
            "--serials-file",
            &duplicated.display().to_string(),
        ],
    );
    assert!(
        run.stderr
            .contains("\"A1\" appears twice, on lines 1 and 3"),
        "{}",
        run.stderr
    );

    let bad = write_lines(isnad.dir.path(), "bad.txt", ["A1", "A 2"].map(String::from));
    let run = c.by(
        ERROR,
        &c.manufacturer,
        "commission",
        &[
            "--gtin",
            &c.gtin,
            "--lot",
            "L1",
            "--expiry",
            &expiry_ahead(),
            "--serials-file",
            &bad.display().to_string(),
        ],
    );
    assert!(
        run.stderr.contains("bad.txt line 2: serial \"A 2\""),
        "{}",
        run.stderr
    );

    let run = c.by(
        ERROR,
        &c.manufacturer,
        "commission",
        &[
            "--gtin", &c.gtin, "--lot", "L1", "--expiry", "281332", "--serial", "A1",
        ],
    );
    assert!(run.stderr.contains("--expiry"), "{}", run.stderr);

    // A unit nobody commissioned cannot be shipped: the server's reason is shown.
    let run = c.by(
        ERROR,
        &c.distributor,
        "ship",
        &[
            "--to",
            &c.hospital.party,
            "--to-site",
            &c.hospital.site,
            "--item",
            &c.label("L1", "NONE"),
        ],
    );
    assert!(run.stderr.contains("UNKNOWN_UNIT"), "{}", run.stderr);

    // The distributor may not commission.
    let run = c.by(
        ERROR,
        &c.distributor,
        "commission",
        &[
            "--gtin",
            &c.gtin,
            "--lot",
            "L9",
            "--expiry",
            &expiry_ahead(),
            "--serial",
            "Z1",
        ],
    );
    assert!(run.stderr.contains("WRONG_ROLE"), "{}", run.stderr);

    assert_eq!(
        isnad_tests_tree_size(&server),
        before,
        "nothing was captured"
    );
}

#[test]
fn keys_are_private_and_scans_parse_offline() {
    let isnad = Isnad::new("http://127.0.0.1:9");
    let key = isnad.path("mine.key").display().to_string();
    let generated = isnad.json(&["key", "generate", "--out", &key, "--name", "pharmacie"]);
    let mode = std::fs::metadata(&key)
        .expect("key file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let secret = std::fs::read_to_string(&key).expect("readable");
    // PRIVATE+KEY+<name>+<key id>+<base64 seed>: the base64 may itself hold '+', so the
    // material is everything after the fourth '+', not after the last.
    let secret = secret
        .trim()
        .splitn(5, '+')
        .nth(4)
        .expect("key material")
        .to_owned();
    assert!(secret.len() > 40, "the whole key material: {secret}");
    let shown = isnad.ok(&["key", "show", "--key", &key]);
    assert!(!shown.stdout.contains(&secret) && !shown.stderr.contains(&secret));
    assert!(
        shown
            .stdout
            .contains(generated["public_key"].as_str().expect("hex"))
    );
    assert!(
        shown.stdout.contains("pharmacie+"),
        "the verifier key: {}",
        shown.stdout
    );
    let again = isnad.expect(ERROR, &["key", "generate", "--out", &key]);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    let scan = isnad.json(&["scan", "\u{1d}01095060001343521728020010ABC\u{1d}21S1"]);
    assert_eq!(
        scan,
        serde_json::json!({"gtin": "09506000134352", "expiry": "2028-02-29", "lot": "ABC", "serial": "S1"})
    );
    let bad = isnad.expect(ERROR, &["scan", "(01)09506000134353(21)S1"]);
    assert!(bad.stdout.is_empty());
    assert!(bad.stderr.contains("check digit"), "{}", bad.stderr);
    assert!(bad.stderr.contains("AI          (01)"), "{}", bad.stderr);
    let caps = isnad.expect(ERROR, &["--json", "scan", "]D20109506000134352"]);
    assert_eq!(caps.json()["hint"], "check_caps_lock", "{}", caps.stdout);

    let untrusted = isnad.expect(ERROR, &["verify", "(01)09506000134352(21)S1"]);
    assert!(
        untrusted.stderr.contains("isnad trust init"),
        "{}",
        untrusted.stderr
    );
}

#[test]
fn regulator_commands_change_what_verification_proves() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let c = Circuit::admit(&data, &server);
    let isnad = &c.isnad;
    c.by(
        0,
        &c.manufacturer,
        "commission",
        &[
            "--gtin",
            &c.gtin,
            "--lot",
            "L1",
            "--expiry",
            &expiry_ahead(),
            "--serial",
            "S1",
            "--serial",
            "S2",
        ],
    );
    let (s1, s2) = (c.label("L1", "S1"), c.label("L1", "S2"));
    let at_manufacturer = Some(c.manufacturer.site.as_str());

    let manufacturer = ["--party", c.manufacturer.party.as_str()];
    c.by(
        0,
        &c.regulator,
        "suspend",
        &[&manufacturer[..], &["--reason", "audit"]].concat(),
    );
    assert_eq!(
        verify(isnad, SUSPECT, &s1, at_manufacturer).0,
        "SUSPENDED_HOLDER"
    );
    c.by(0, &c.regulator, "reinstate", &manufacturer);
    assert_eq!(verify(isnad, GENUINE, &s1, at_manufacturer).0, "GENUINE");

    // The hospital gets a second key and receives with it, reporting one unit missing.
    let second = isnad.path("hospital2.key").display().to_string();
    let shown = isnad.json(&["key", "generate", "--out", &second]);
    let second_public = shown["public_key"].as_str().expect("a key").to_owned();
    c.by(
        0,
        &c.regulator,
        "add-key",
        &["--party", &c.hospital.party, "--public-key", &second_public],
    );
    let ship = c.by(
        0,
        &c.manufacturer,
        "ship",
        &[
            "--json",
            "--to",
            &c.hospital.party,
            "--to-site",
            &c.hospital.site,
            "--item",
            &s1,
            "--item",
            &s2,
        ],
    );
    let mut hospital = c.hospital.clone();
    hospital.key = second.clone().into();
    c.by(
        0,
        &hospital,
        "receive",
        &[
            "--shipment",
            &event_id(&ship.json_lines()),
            "--missing",
            &s2,
        ],
    );
    let at_hospital = Some(c.hospital.site.as_str());
    assert_eq!(verify(isnad, GENUINE, &s1, at_hospital).0, "GENUINE");
    assert_eq!(verify(isnad, SUSPECT, &s2, None).0, "IN_TRANSIT");

    // The second key turns out compromised since before it signed the receipt.
    c.by(
        0,
        &c.regulator,
        "revoke-key",
        &[
            "--party",
            &c.hospital.party,
            "--public-key",
            &second_public,
            "--compromised-since-unix-ms",
            "1",
        ],
    );
    assert_eq!(
        verify(isnad, SUSPECT, &s1, at_hospital).0,
        "COMPROMISED_SIGNER"
    );
    let refused = c.by(
        ERROR,
        &hospital,
        "decommission",
        &["--reason", "used", "--item", &s1],
    );
    assert!(refused.stderr.contains("KEY_REVOKED"), "{}", refused.stderr);
}

#[test]
fn trust_is_refused_when_genesis_names_other_keys() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let isnad = Isnad::new(&server.url());
    let stranger = hex::encode(isnad_testkit::signing_key(9).verifying_key().to_bytes());
    let run = isnad.expect(
        ERROR,
        &[
            "trust",
            "init",
            "--regulator-key",
            &stranger,
            "--log-key",
            &data.log_vkey,
        ],
    );
    assert!(
        run.stderr.contains("genesis names regulator keys"),
        "{}",
        run.stderr
    );
    assert!(
        !isnad.trust_dir().join("trust.json").exists(),
        "nothing pinned"
    );
    let run = isnad.expect(
        ERROR,
        &[
            "trust",
            "init",
            "--regulator-key",
            "00ff",
            "--log-key",
            &data.log_vkey,
        ],
    );
    assert!(run.stderr.contains("not 32 bytes"), "{}", run.stderr);
}
