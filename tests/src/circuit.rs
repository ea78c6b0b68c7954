//! Driving the `isnad` binary in end-to-end tests: a client with its own trust store and work
//! directory, and a circuit of participants whose keys are generated and admitted through it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::server::{DataDir, Server, binary};
use isnad_testkit::dates::expiry_ahead;
use isnad_testkit::{Actor, MANUFACTURER_PREFIX, Scenario};
use serde_json::Value;

/// The `isnad` binary, built once per test process so that it is never stale.
pub fn isnad_binary() -> PathBuf {
    binary("isnad")
}

/// How one run of `isnad` ended.
#[derive(Debug)]
pub struct Run {
    /// The exit status (-1 when killed by a signal).
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
}

impl Run {
    /// How a finished command ended.
    pub fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Every stdout line parsed as JSON.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"))
            })
            .collect()
    }

    /// The last stdout line parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        self.json_lines().pop().expect("some JSON output")
    }
}

/// A client: the `isnad` binary with its own trust store and a work directory for key files,
/// input files and evidence.
#[derive(Debug)]
pub struct Isnad {
    bin: PathBuf,
    /// The server's URL.
    pub server: String,
    /// The work directory; the trust store is its `trust` subdirectory.
    pub dir: tempfile::TempDir,
    /// Who requests are signed as when a command names no `--actor` and `--key` (through
    /// `ISNAD_ACTOR` and `ISNAD_KEY`): the party and its key file; `None` for anonymous.
    pub caller: Option<(String, PathBuf)>,
}

impl Isnad {
    /// A client of the server at `url`, with an empty trust store.
    pub fn new(url: &str) -> Isnad {
        Isnad {
            bin: isnad_binary(),
            server: url.to_owned(),
            dir: tempfile::tempdir().expect("temp dir"),
            caller: None,
        }
    }

    /// A file in the work directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The trust store's directory.
    pub fn trust_dir(&self) -> PathBuf {
        self.path("trust")
    }

    /// The command, with the server and trust store set through the environment and nothing
    /// inherited that would change what it does.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("ISNAD_SERVER", &self.server)
            .env("ISNAD_TRUST_DIR", self.trust_dir())
            .env("NO_COLOR", "1")
            .env_remove("ISNAD_KEY")
            .env_remove("ISNAD_ACTOR")
            .env_remove("ISNAD_SITE");
        if let Some((party, key)) = &self.caller {
            command.env("ISNAD_ACTOR", party).env("ISNAD_KEY", key);
        }
        command
    }

    /// Runs `isnad` with `args` to the end.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from_output(self.command(args).output().expect("isnad runs"))
    }

    /// Runs `isnad` with `args` to the end, anonymously whatever [`Isnad::caller`] says.
    pub fn run_anonymous(&self, args: &[&str]) -> Run {
        let mut command = self.command(args);
        command.env_remove("ISNAD_ACTOR").env_remove("ISNAD_KEY");
        Run::from_output(command.output().expect("isnad runs"))
    }

    /// Runs `isnad` and checks its exit status.
    #[track_caller]
    pub fn expect(&self, code: i32, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "isnad {args:?}\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        run
    }

    /// Runs `isnad`, which must succeed.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Run {
        self.expect(0, args)
    }

    /// Runs `isnad --json`, which must succeed; returns its last JSON line.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        self.ok(&with_json).json()
    }
}

/// A participant: its party and site GLNs and its key file.
#[derive(Debug, Clone)]
pub struct Party {
    /// Party GLN-13.
    pub party: String,
    /// Its first site's GLN-13.
    pub site: String,
    /// The private key file.
    pub key: PathBuf,
    /// The public key, hex.
    pub public_key: String,
}

impl Party {
    /// `--key FILE --actor PARTY --site SITE`.
    pub fn signer(&self) -> Vec<String> {
        vec![
            "--key".into(),
            self.key.display().to_string(),
            "--actor".into(),
            self.party.clone(),
            "--site".into(),
            self.site.clone(),
        ]
    }
}

/// Arguments as the `&[&str]` that [`Isnad::run`] takes.
pub fn strs(parts: &[String]) -> Vec<&str> {
    parts.iter().map(String::as_str).collect()
}

/// Owned arguments from string slices.
pub fn owned(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

/// A regulator, a manufacturer, a distributor, a hospital and an inspector (the GLNs of the
/// core's test scenario), each with a key generated by `isnad key generate`, admitted by the
/// regulator through `isnad admit`; the manufacturer's product registered.
#[derive(Debug)]
pub struct Circuit {
    /// The client, its trust store initialised.
    pub isnad: Isnad,
    /// The genesis regulator.
    pub regulator: Party,
    /// Registers, commissions, packs, ships.
    pub manufacturer: Party,
    /// Receives and ships.
    pub distributor: Party,
    /// Receives, uses.
    pub hospital: Party,
    /// Inspects.
    pub inspector: Party,
    /// The registered product's GTIN-14.
    pub gtin: String,
}

impl Circuit {
    /// Trusts `server`'s log, admits every participant and registers the product.
    ///
    /// The client signs its requests as the regulator unless a command says otherwise
    /// ([`Isnad::caller`]): the read policy lets it read everything.
    pub fn admit(data: &DataDir, server: &Server) -> Circuit {
        let mut isnad = Isnad::new(&server.url());
        let scenario = Scenario::bare();
        let regulator_key = isnad.path("regulator.key");
        isnad_client::keys::write_private_key(&regulator_key, "regulator", &data.regulator)
            .expect("the regulator's key file");
        let regulator = Party {
            party: data.regulator_party.clone(),
            site: scenario.regulator.site.to_string(),
            key: regulator_key,
            public_key: hex::encode(data.regulator.verifying_key().to_bytes()),
        };
        isnad.caller = Some((regulator.party.clone(), regulator.key.clone()));
        isnad.ok(&[
            "trust",
            "init",
            "--regulator-key",
            &regulator.public_key,
            "--log-key",
            &data.log_vkey,
        ]);
        let party = |name: &str, actor: &Actor| {
            let key = isnad.path(&format!("{name}.key"));
            let shown = isnad.json(&["key", "generate", "--out", &key.display().to_string()]);
            Party {
                party: actor.party.to_string(),
                site: actor.site.to_string(),
                key,
                public_key: shown["public_key"]
                    .as_str()
                    .expect("a public key")
                    .to_owned(),
            }
        };
        let circuit = Circuit {
            manufacturer: party("manufacturer", &scenario.manufacturer),
            distributor: party("distributor", &scenario.distributor),
            hospital: party("hospital", &scenario.hospital),
            inspector: party("inspector", &scenario.inspector),
            regulator,
            gtin: scenario.gtin.to_string(),
            isnad,
        };
        for (participant, role) in [
            (&circuit.manufacturer, "manufacturer"),
            (&circuit.distributor, "distributor"),
            (&circuit.hospital, "health-facility"),
            (&circuit.inspector, "inspector"),
        ] {
            circuit.admit_party(participant, role);
        }
        circuit.register_product();
        circuit
    }

    fn admit_party(&self, participant: &Party, role: &str) {
        let mut command = owned(&["admit"]);
        command.extend(self.regulator.signer());
        command.extend(owned(&[
            "--party",
            &participant.party,
            "--name",
            role,
            "--role",
            role,
            "--party-site",
            &participant.site,
            "--public-key",
            &participant.public_key,
        ]));
        if role == "manufacturer" {
            command.extend(owned(&["--prefix", MANUFACTURER_PREFIX]));
        }
        self.isnad.ok(&strs(&command));
    }

    fn register_product(&self) {
        let mut command = owned(&["register-product"]);
        command.extend(self.manufacturer.signer());
        command.extend(owned(&[
            "--gtin",
            &self.gtin,
            "--name",
            "Seringue 5 ml",
            "--class",
            "class-iia",
            "--made-in-morocco",
        ]));
        self.isnad.ok(&strs(&command));
    }

    /// Runs `isnad <command> <signer of party> <rest>` and checks the exit status.
    #[track_caller]
    pub fn by(&self, code: i32, party: &Party, command: &str, rest: &[&str]) -> Run {
        let mut all = owned(&[command]);
        all.extend(party.signer());
        all.extend(owned(rest));
        self.isnad.expect(code, &strs(&all))
    }

    /// The human-readable label of a unit of the product, of a lot expiring
    /// [`expiry_ahead`], as the tests commission them.
    pub fn label(&self, lot: &str, serial: &str) -> String {
        format!(
            "(01){}(17){}(10){lot}(21){serial}",
            self.gtin,
            expiry_ahead()
        )
    }

    /// The tree size the client's trust store has pinned.
    pub fn pinned_size(&self) -> u64 {
        self.isnad.json(&["trust", "show"])["tree_size"]
            .as_u64()
            .expect("a tree size")
    }
}

/// Writes `lines` to a file in `dir`, one per line.
pub fn write_lines(dir: &Path, name: &str, lines: impl IntoIterator<Item = String>) -> PathBuf {
    let path = dir.join(name);
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::write(&path, text).expect("input file written");
    path
}
