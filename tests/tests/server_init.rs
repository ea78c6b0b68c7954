//! `isnad-server init` from the command line.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use isnad_tests::binary;

#[test]
fn a_generated_regulator_key_gets_its_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("keys/regulator/reg.key");
    let output = Command::new(binary("isnad-server"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args([
            "init",
            "--origin",
            "test.isnad.ma/log",
            "--regulator-party",
            "6110000000000",
            "--generate-regulator-key",
        ])
        .arg(&key_file)
        .output()
        .expect("isnad-server init runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    };
    assert_eq!(mode(&key_file), 0o600);
    assert_eq!(mode(key_file.parent().expect("a directory")), 0o700);
    assert_eq!(mode(&dir.path().join("keys")), 0o700);
    assert_eq!(mode(&dir.path().join("data")), 0o700);
}
