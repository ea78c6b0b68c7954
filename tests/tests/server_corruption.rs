//! Silent corruption on the real server: a bit flipped in an older entry of a stopped
//! server's segment file is refused after the restart (DATA_LOSS / ENTRY_CORRUPT), never
//! served, and the unit it belongs to gets no verdict instead of GENUINE.

use isnad_proto::pb;
use isnad_testkit::Scenario;
use isnad_tests::{DataDir, Server, mirror, scenario_keys, tree_size};
use tonic::Code;

/// Flips the last bit of `entry` where it lies in the store's first segment file.
fn flip_in_segment(data: &DataDir, entry: &[u8]) {
    let path = find_segment(&data.path());
    let mut bytes = std::fs::read(&path).expect("segment file");
    let at = bytes
        .windows(entry.len())
        .position(|window| window == entry)
        .expect("the entry is in the segment file");
    bytes[at + entry.len() - 1] ^= 1;
    std::fs::write(&path, bytes).expect("write");
}

/// The first segment file under `dir`, wherever the store's folder is.
fn find_segment(dir: &std::path::Path) -> std::path::PathBuf {
    for entry in std::fs::read_dir(dir).expect("data dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            let segment = path.join("entries").join("00000000.seg");
            if segment.exists() {
                return segment;
            }
        }
    }
    panic!("no segment file under {}", dir.display());
}

#[track_caller]
fn check_refused(status: &tonic::Status) {
    assert_eq!(status.code(), Code::DataLoss, "{status:?}");
    assert_eq!(
        status
            .metadata()
            .get("isnad-reason")
            .and_then(|v| v.to_str().ok()),
        Some("ENTRY_CORRUPT"),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_bit_in_an_older_entry_is_refused_not_served() {
    let mut scenario = Scenario::today();
    let units = scenario.commission("L1", &["SN1", "SN2"]);
    let scan = scenario.label(&units[0], "L1");
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    let request = pb::VerifyRequest {
        scan,
        verifier_site: String::new(),
        known_tree_size: 0,
    };
    let answer = server
        .verification()
        .await
        .verify(request.clone())
        .await
        .expect("verify")
        .into_inner();
    assert_eq!(answer.verdict, pb::ReasonCode::Genuine as i32);
    // The product's registration, the oldest entry of the history: not the last entry of the
    // log, which opening re-hashes.
    let size = tree_size(&server).await;
    let damaged = answer.history[0].clone();
    assert!(
        damaged.index + 1 < size,
        "the damaged entry is not the last"
    );
    assert!(server.terminate().success(), "clean shutdown");

    flip_in_segment(&data, &damaged.entry);
    let server = Server::start(&data.path());
    let status = server
        .verification()
        .await
        .verify(request)
        .await
        .expect_err("a damaged history gets no verdict");
    check_refused(&status);
    assert!(
        status
            .message()
            .contains(&format!("entry {}", damaged.index))
    );
    let mut log = server.log().await;
    let status = log
        .get_entries(pb::GetEntriesRequest {
            start: damaged.index,
            end: damaged.index + 1,
        })
        .await
        .expect_err("the damaged entry is not served");
    check_refused(&status);
    // Its neighbours still are, and nothing was written.
    log.get_entries(pb::GetEntriesRequest {
        start: damaged.index + 1,
        end: size,
    })
    .await
    .expect("undamaged entries are served");
    assert_eq!(tree_size(&server).await, size);
}
