//! The crash loop: the real server binary is killed (SIGKILL) [`KILLS`] times at random
//! moments while several clients capture, and restarted each time. After each restart every
//! acknowledged event (a receipt received) is in the log byte for byte as its client sent it
//! (the served entry's signed body, key and signature, not only the receipt's leaf hash), and
//! the new checkpoint, signed by the log's key, is consistent with every earlier one. The
//! requests the kill left unanswered are sent again, as a client retries: an event already
//! logged gets its entry's receipt, never a second entry. Some restarts are killed too, while
//! the server opens its store.
//!
//! The moments come from a seed, printed at the start; `ISNAD_CRASH_SEED=<seed>` replays a
//! run's kill moments (the server's own timing still varies).
//!
//! It replaces the three-kill recovery test it grew from. It can fail: with the store's sled
//! flush and fdatasync left out of `Store::append` (receipts sent while the batch sat in sled's
//! buffers), the first round answered "acknowledged entry 193 is gone (tree size 178)".

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use isnad_client::sign::sign_event;
use isnad_core::event::{Payload, SerialRange};
use isnad_log::checkpoint::{Checkpoint, NoteVerifier};
use isnad_log::{LeafIndex, TreeSize};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::call::Client;
use isnad_tests::{DataDir, Server, entries, mirror, scenario_keys, signed_event};
use tokio::sync::{Mutex, watch};

/// SIGKILLs in one run.
const KILLS: u32 = 20;

/// Clients capturing concurrently.
const WRITERS: u32 = 6;

/// Events in one capture request at most (each request takes 1 to this many).
const EVENTS_PER_REQUEST: u64 = 5;

/// The longest pause between a round's first acknowledgement and its kill.
const KILL_WINDOW_MS: u64 = 1_500;

/// One round in this many is killed within [`EARLY_KILL_WINDOW_MS`] of the server listening,
/// whether or not anything was acknowledged yet: while clients connect and send their first
/// requests.
const EARLY_KILL_ONE_IN: u64 = 5;

/// The longest pause before an early kill.
const EARLY_KILL_WINDOW_MS: u64 = 50;

/// One restart in this many is killed while the server opens its store (recovering from the
/// previous kill) before it listens: an extra kill, beyond [`KILLS`].
const RECOVERY_KILL_ONE_IN: u64 = 4;

/// The longest pause before a kill while the server opens its store.
const RECOVERY_KILL_WINDOW_MS: u64 = 300;

/// How long the writers may take to get a round's first acknowledgement: a bound on a hang,
/// not a measure of speed.
const FIRST_ACKNOWLEDGEMENT_WITHIN: Duration = Duration::from_secs(120);

/// The environment variable that sets the seed.
const SEED_VARIABLE: &str = "ISNAD_CRASH_SEED";

/// An event a client sent and the receipt that acknowledged it.
type Acknowledged = (pb::SignedEvent, pb::Receipt);

/// SplitMix64: a small, seedable generator of kill moments (statistical quality is beside the
/// point; replaying a seed is the point).
struct Moments(u64);

impl Moments {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// The seed: from [`SEED_VARIABLE`], else from the clock.
fn seed() -> u64 {
    match std::env::var(SEED_VARIABLE) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_VARIABLE}={text:?} is not a number")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_nanos() as u64,
    }
}

/// A small commission by `writer`, its id and lot unique to the round, writer and number.
fn commission(scenario: &mut Scenario, round: u32, writer: u32, n: u32) -> pb::SignedEvent {
    let name = format!("R{round}W{writer}N{n}");
    let payload = Payload::Commission {
        lot: scenario.lot(&name),
        expiry: scenario.expiry,
        production_date: None,
        serials: vec![],
        serial_ranges: vec![SerialRange {
            prefix: format!("{name}S"),
            first: 1,
            count: 10,
            width: 3,
        }],
        quantity: 0,
    };
    let mut event = scenario.event(Who::Manufacturer, payload);
    event.id.0[0] = u8::try_from(round).expect("a few rounds");
    event.id.0[1] = u8::try_from(writer).expect("a few writers");
    event.id.0[2..6].copy_from_slice(&n.to_be_bytes());
    sign_event(
        &scenario.manufacturer.signing_key,
        isnad_tests::ORIGIN,
        &event,
    )
}

/// What the writers of one round share.
#[derive(Clone)]
struct Round {
    number: u32,
    /// Set just before the kill: from then on a failed call is expected.
    killed: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<Acknowledged>>>,
    /// The request each writer had in flight at the kill, unanswered: sent again after the
    /// restart, as a client retries.
    unanswered: Arc<Mutex<Vec<Vec<pb::SignedEvent>>>>,
    /// Counts acknowledged requests.
    count: Arc<watch::Sender<usize>>,
}

/// Starts [`WRITERS`] clients, each on its own connection, that capture requests of 1 to
/// [`EVENTS_PER_REQUEST`] events until the server goes away. A refusal before the kill fails
/// the writer.
async fn start_writers(
    server: &Server,
    scenario: &Scenario,
    round: &Round,
    moments: &mut Moments,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let client = server.client().await;
        let mut scenario = scenario.clone();
        let round = round.clone();
        let mut sizes = Moments(moments.next());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            loop {
                let events: Vec<pb::SignedEvent> = (0..=sizes.below(EVENTS_PER_REQUEST))
                    .map(|_| {
                        n += 1;
                        commission(&mut scenario, round.number, writer, n)
                    })
                    .collect();
                match client.capture(events.clone()).await {
                    Ok(response) => {
                        assert_eq!(response.receipts.len(), events.len(), "a receipt per event");
                        let mut acknowledged = round.acknowledged.lock().await;
                        acknowledged.extend(events.into_iter().zip(response.receipts));
                        round.count.send_modify(|count| *count += 1);
                    }
                    // The server is gone: what it acknowledged is checked after the restart.
                    Err(_) if round.killed.load(Ordering::SeqCst) => {
                        round.unanswered.lock().await.push(events);
                        return;
                    }
                    Err(status) => panic!(
                        "round {}: writer {writer}'s request refused before the kill: {status:?}",
                        round.number
                    ),
                }
            }
        }));
    }
    writers
}

/// The checkpoints a restarted log must extend, verified.
#[derive(Default)]
struct Checkpoints {
    /// The checkpoint each restart began with, in order.
    restarts: Vec<Checkpoint>,
    /// The checkpoints of the last round's receipts, by tree size.
    receipts: BTreeMap<u64, Checkpoint>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_twenty_sigkills() {
    let seed = seed();
    println!("crash loop seed: {seed} (replay with {SEED_VARIABLE}={seed})");
    let mut moments = Moments(seed);
    let started = std::time::Instant::now();
    let scenario = Scenario::today();
    let data = DataDir::init();
    let verifier = NoteVerifier::from_vkey(&data.log_vkey).expect("init printed a valid vkey");
    let mut checkpoints = Checkpoints::default();
    let mut acknowledged_total = 0;
    // Events sent again that the log held already: their receipts were lost in a kill.
    let mut retried_held = 0;
    // The round before: its start size, what it acknowledged and what it left unanswered.
    let mut previous: Option<(u64, Vec<Acknowledged>, Vec<Vec<pb::SignedEvent>>)> = None;
    for round in 0..=KILLS {
        if round > 0 && moments.below(RECOVERY_KILL_ONE_IN) == 0 {
            let delay = Duration::from_millis(moments.below(RECOVERY_KILL_WINDOW_MS));
            println!("round {round}: killed while opening the store, after {delay:?}");
            Server::kill_while_starting(&data.path(), delay);
        }
        let server = Server::start(&data.path());
        let client = server.client().await;
        if let Some((start_size, acknowledged, unanswered)) = previous.take() {
            let before = round - 1;
            let logged = check_acknowledged(
                &server,
                &client,
                &verifier,
                before,
                start_size,
                &acknowledged,
            )
            .await;
            let (sent_again, held) =
                check_sent_again(&server, &client, before, start_size, &logged, unanswered).await;
            println!(
                "round {before}: {sent_again} unanswered events sent again, {held} already logged"
            );
            retried_held += held;
            checkpoints.receipts = acknowledged
                .iter()
                .map(|(_, receipt)| {
                    let signed = verifier
                        .verify(&receipt.checkpoint)
                        .expect("a receipt's checkpoint is signed by the log");
                    (signed.size.0, signed)
                })
                .collect();
        }
        check_restarted(&client, &verifier, round, &mut checkpoints).await;
        if round == KILLS {
            break;
        }
        if round == 0 {
            mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
        }
        let start_size = client.checkpoint().await.expect("checkpoint").tree_size;
        let (count, counted) = watch::channel(0usize);
        let shared = Round {
            number: round,
            killed: Arc::new(AtomicBool::new(false)),
            acknowledged: Arc::new(Mutex::new(Vec::new())),
            unanswered: Arc::new(Mutex::new(Vec::new())),
            count: Arc::new(count),
        };
        let writers = start_writers(&server, &scenario, &shared, &mut moments).await;
        let early = moments.below(EARLY_KILL_ONE_IN) == 0;
        wait_for_the_moment(early, counted, &mut moments, round).await;
        shared.killed.store(true, Ordering::SeqCst);
        server.kill();
        for writer in writers {
            writer
                .await
                .expect("a writer saw no refusal before the kill");
        }
        let acknowledged = shared.acknowledged.lock().await.clone();
        let unanswered = shared.unanswered.lock().await.clone();
        acknowledged_total += acknowledged.len();
        println!(
            "round {round}: killed {} with {} events acknowledged",
            if early { "early" } else { "under load" },
            acknowledged.len()
        );
        previous = Some((start_size, acknowledged, unanswered));
    }
    assert!(
        acknowledged_total > 0,
        "nothing was acknowledged in {KILLS} rounds"
    );
    println!(
        "crash loop: {KILLS} kills, {acknowledged_total} events acknowledged and found, \
         {retried_held} unanswered but logged, {:?}",
        started.elapsed()
    );
}

/// Waits for the kill: early, a few milliseconds after the start; else a random pause after
/// the round's first acknowledgement.
async fn wait_for_the_moment(
    early: bool,
    mut counted: watch::Receiver<usize>,
    moments: &mut Moments,
    round: u32,
) {
    if early {
        tokio::time::sleep(Duration::from_millis(moments.below(EARLY_KILL_WINDOW_MS))).await;
        return;
    }
    tokio::time::timeout(
        FIRST_ACKNOWLEDGEMENT_WITHIN,
        counted.wait_for(|count| *count > 0),
    )
    .await
    .unwrap_or_else(|_| {
        panic!("round {round}: no acknowledgement within {FIRST_ACKNOWLEDGEMENT_WITHIN:?}")
    })
    .expect("the writers hold the counter");
    tokio::time::sleep(Duration::from_millis(moments.below(KILL_WINDOW_MS))).await;
}

/// The restarted server's checkpoint: signed by the log's key, and consistent with every
/// checkpoint seen before (each earlier restart's and the last round's receipts'; those of
/// older rounds were checked against a later restart's, which this one extends).
async fn check_restarted(
    client: &Client,
    verifier: &NoteVerifier,
    round: u32,
    checkpoints: &mut Checkpoints,
) {
    let answer = client.checkpoint().await.expect("checkpoint");
    let now = verifier
        .verify(&answer.checkpoint)
        .expect("the restarted server's checkpoint is signed by the log");
    assert_eq!(now.size.0, answer.tree_size);
    let earlier = checkpoints
        .restarts
        .iter()
        .chain(checkpoints.receipts.values());
    for old in earlier {
        assert!(
            old.size <= now.size,
            "round {round}: the log shrank from {} to {}",
            old.size.0,
            now.size.0
        );
        check_consistent(client, old, &now, round).await;
    }
    checkpoints.restarts.push(now);
}

/// `new` extends `old`: a consistency proof from the server verifies between them.
async fn check_consistent(client: &Client, old: &Checkpoint, new: &Checkpoint, round: u32) {
    if old.size == new.size {
        assert_eq!(
            old.root, new.root,
            "round {round}: two roots for size {}",
            old.size.0
        );
        return;
    }
    let proof = client
        .consistency_proof(old.size.0, new.size.0)
        .await
        .expect("consistency proof");
    isnad_log::verify_consistency_bytes(old.size, new.size, &proof.hashes, &old.root, &new.root)
        .unwrap_or_else(|error| {
            panic!(
                "round {round}: the checkpoint of size {} does not extend that of size {}: {error}",
                new.size.0, old.size.0
            )
        });
}

/// After the restart that follows round `round`, every event acknowledged in it is in the log
/// at its receipt's index, byte for byte as sent, hashing to the receipt's leaf hash, with the
/// receipt's inclusion proof valid against the receipt's checkpoint. Returns the round's
/// entries, from `start_size` to the restarted tree's size.
async fn check_acknowledged(
    server: &Server,
    client: &Client,
    verifier: &NoteVerifier,
    round: u32,
    start_size: u64,
    acknowledged: &[Acknowledged],
) -> Vec<Vec<u8>> {
    let size = client.checkpoint().await.expect("checkpoint").tree_size;
    let entries = entries(server, start_size, size).await;
    let highest = acknowledged.iter().map(|(_, r)| r.leaf_index).max();
    if let Some(highest) = highest {
        assert!(
            highest < size,
            "round {round}: acknowledged entry {highest} is gone (tree size {size})"
        );
    }
    let mut seen = BTreeMap::new();
    for (sent, receipt) in acknowledged {
        let index = receipt.leaf_index;
        assert!(
            seen.insert(index, ()).is_none(),
            "round {round}: two acknowledgements of entry {index}"
        );
        let position = usize::try_from(index - start_size).expect("fits");
        assert_eq!(
            &signed_event(&entries[position]),
            sent,
            "round {round}: entry {index} holds the bytes its client sent"
        );
        let leaf = isnad_log::leaf_hash(&entries[position]);
        assert_eq!(
            receipt.leaf_hash,
            leaf.to_vec(),
            "round {round}: entry {index}'s leaf hash"
        );
        let checkpoint = verifier
            .verify(&receipt.checkpoint)
            .expect("a receipt's checkpoint is signed by the log");
        assert_eq!(checkpoint.size.0, receipt.tree_size);
        isnad_log::verify_inclusion_bytes(
            &leaf,
            LeafIndex(index),
            TreeSize(receipt.tree_size),
            &receipt.inclusion_proof,
            &checkpoint.root,
        )
        .unwrap_or_else(|error| panic!("round {round}: entry {index}'s receipt proof: {error}"));
    }
    entries
}

/// The requests left unanswered by the kill of round `round`, sent again as a client retries:
/// each is accepted, and an event the log already holds (durable, its receipt lost) gets the
/// receipt of that entry instead of a second one; every receipt points at the bytes sent.
/// `logged` are the log's entries from `start_size` on at the restart. Returns how many events
/// were sent again, and how many of them the log held already.
async fn check_sent_again(
    server: &Server,
    client: &Client,
    round: u32,
    start_size: u64,
    logged: &[Vec<u8>],
    unanswered: Vec<Vec<pb::SignedEvent>>,
) -> (usize, usize) {
    let (mut sent_again, mut held) = (0, 0);
    let mut logged_at = BTreeMap::new();
    for (position, entry) in logged.iter().enumerate() {
        let event = isnad_proto::decode_event_body(&signed_event(entry).body)
            .expect("logged bodies decode");
        let index = start_size + position as u64;
        let first = logged_at.insert(event.id, index);
        assert!(first.is_none(), "round {round}: event id logged twice");
    }
    for events in unanswered {
        let receipts = client
            .capture(events.clone())
            .await
            .unwrap_or_else(|status| panic!("round {round}: a request sent again: {status:?}"))
            .receipts;
        for (sent, receipt) in events.iter().zip(&receipts) {
            let id = isnad_proto::decode_event_body(&sent.body)
                .expect("sent bodies decode")
                .id;
            sent_again += 1;
            if let Some(&index) = logged_at.get(&id) {
                held += 1;
                assert_eq!(
                    receipt.leaf_index, index,
                    "round {round}: an event sent again got a second entry"
                );
            }
            let index = receipt.leaf_index;
            let entry = entries(server, index, index + 1).await;
            assert_eq!(
                &signed_event(&entry[0]),
                sent,
                "round {round}: entry {index}, sent again, holds its bytes"
            );
        }
    }
    (sent_again, held)
}
