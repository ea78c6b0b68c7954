//! The `isnad` binary as an anonymous caller and as an admitted party: `verify` without
//! credentials shows the server's unproven verdict and keeps its exit codes, refuses
//! `--evidence`; with `--actor` and `--key` everything is proven as before; an auditor is
//! admitted with `--role auditor`, reads the whole log, and signs no events.

use isnad_testkit::dates::expiry_ahead;
use isnad_tests::circuit::{Circuit, Party, owned, strs};
use isnad_tests::{DataDir, Server};

const GENUINE: i32 = 0;
const SUSPECT: i32 = 1;
const ERROR: i32 = 2;

/// `--actor PARTY --key FILE` of `party`.
fn credentials(party: &Party) -> Vec<String> {
    owned(&[
        "--actor",
        &party.party,
        "--key",
        &party.key.display().to_string(),
    ])
}

/// Without credentials the verdict is shown marked as unproven (history withheld), with the
/// same exit status as a proven one, and no evidence file is written; with the inspector's
/// credentials the same verdict is proven. Before: `isnad verify` had no notion of a caller,
/// and the server gave anyone the whole history.
#[test]
fn verify_without_credentials_is_the_servers_unproven_word() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let c = Circuit::admit(&data, &server);
    c.by(
        GENUINE,
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
        ],
    );
    let genuine = c.label("L1", "S1");
    let unknown = c.label("L1", "S404");

    let shown = c.isnad.run_anonymous(&["verify", &genuine]);
    assert_eq!(shown.code, GENUINE, "{shown:?}");
    assert!(shown.stdout.contains("GENUINE"), "{}", shown.stdout);
    assert!(shown.stdout.contains("NOT PROVEN"), "{}", shown.stdout);
    let suspect = c.isnad.run_anonymous(&["--json", "verify", &unknown]);
    assert_eq!(suspect.code, SUSPECT, "{suspect:?}");
    let answer = suspect.json();
    assert_eq!(answer["verdict"], "UNKNOWN_SERIAL");
    assert_eq!(answer["proven"], false);
    assert_eq!(answer["history_withheld"], true);

    let evidence = c.isnad.path("evidence.json");
    let refused = c.isnad.run_anonymous(&[
        "verify",
        &genuine,
        "--evidence",
        &evidence.display().to_string(),
    ]);
    assert_eq!(refused.code, ERROR, "{refused:?}");
    assert!(refused.stderr.contains("--evidence"), "{}", refused.stderr);
    assert!(!evidence.exists(), "no evidence file without the proof");

    let mut args = owned(&["--json", "verify", &genuine, "--evidence"]);
    args.push(evidence.display().to_string());
    args.extend(credentials(&c.inspector));
    let proven = c.isnad.run_anonymous(&strs(&args));
    assert_eq!(proven.code, GENUINE, "{proven:?}");
    let answer = proven.json();
    assert_eq!(answer["verdict"], "GENUINE");
    assert!(answer["events"].as_u64().expect("a count") >= 2, "{answer}");
    assert!(evidence.exists());
}

/// The regulator admits an auditor with `--role auditor`; the auditor audits the whole log
/// (which needs the log's entries, refused to an anonymous caller and to other parties), and
/// the rules refuse any event it signs with `WRONG_ROLE`. Before: there was no auditor role,
/// and `isnad audit` read the entries of anyone who asked.
#[test]
fn an_auditor_audits_and_signs_nothing() {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    let c = Circuit::admit(&data, &server);
    let key = c.isnad.path("auditor.key");
    let shown = c
        .isnad
        .json(&["key", "generate", "--out", &key.display().to_string()]);
    let auditor = Party {
        party: isnad_testkit::auditor().party.to_string(),
        site: isnad_testkit::auditor().site.to_string(),
        key,
        public_key: shown["public_key"].as_str().expect("a key").to_owned(),
    };
    let mut admit = owned(&["admit"]);
    admit.extend(c.regulator.signer());
    admit.extend(owned(&[
        "--party",
        &auditor.party,
        "--name",
        "Inspection generale",
        "--role",
        "auditor",
        "--party-site",
        &auditor.site,
        "--public-key",
        &auditor.public_key,
    ]));
    c.isnad.ok(&strs(&admit));

    let anonymous = c.isnad.run_anonymous(&["audit"]);
    assert_eq!(anonymous.code, ERROR, "{anonymous:?}");
    assert!(
        anonymous.stderr.contains("AUTHENTICATION_REQUIRED"),
        "{}",
        anonymous.stderr
    );
    let mut as_inspector = owned(&["audit"]);
    as_inspector.extend(credentials(&c.inspector));
    let refused = c.isnad.run_anonymous(&strs(&as_inspector));
    assert_eq!(refused.code, ERROR, "{refused:?}");
    assert!(
        refused.stderr.contains("NOT_PERMITTED"),
        "{}",
        refused.stderr
    );
    let mut as_auditor = owned(&["--json", "audit"]);
    as_auditor.extend(credentials(&auditor));
    let audit = c.isnad.run_anonymous(&strs(&as_auditor));
    assert_eq!(audit.code, GENUINE, "{audit:?}");
    assert_eq!(audit.json()["findings"], serde_json::json!([]));

    let signed = c.by(
        ERROR,
        &auditor,
        "commission",
        &[
            "--gtin",
            &c.gtin,
            "--lot",
            "L9",
            "--expiry",
            &expiry_ahead(),
            "--serial",
            "S1",
        ],
    );
    assert!(
        signed.stderr.contains("WRONG_ROLE") || signed.stdout.contains("WRONG_ROLE"),
        "{signed:?}"
    );
}
