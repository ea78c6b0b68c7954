//! The ledger: stateless checks, the sequencer with group commit, and receipts.
//!
//! A capture request is checked without state (limits, decoding, signatures), then queued to
//! the sequencer, one thread that owns every write. It takes whatever requests are waiting
//! (up to [`GROUP_EVENTS_MAX`] events), applies them in order with the core's deterministic
//! executor over an overlay of the stored state, appends the accepted entries and their state
//! writes as one atomic batch, makes it durable, signs a checkpoint, and only then answers.
//! A request is atomic: when one of its events is refused, none of them is applied.
//!
//! No request can stop the writer: a panic while applying one request's rules refuses that
//! request alone (INTERNAL), its writes rolled back. A sequencer that stops anyway (a storage
//! error, a panic outside a request) says so through [`Ledger::failed`], and the server stops.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use isnad_core::envelope;
use isnad_core::event::{Event, Genesis, PublicKey};
use isnad_core::limits::values_of;
use isnad_core::queries;
use isnad_core::rules::{self, ApplyError, Context};
use isnad_core::state::Overlay;
use isnad_log::checkpoint::NoteSigner;
use isnad_log::{LeafIndex, TreeSize, TreeState};
use isnad_proto::contract::{BODY_LEN_MAX, Reason, VALUES_PER_REQUEST_MAX};
use isnad_proto::pb;
use isnad_store::{APPEND_ENTRIES_MAX, STATE_WRITES_MAX, Store};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::LedgerError;

/// Events in one capture request at most (the contract's limit).
pub use isnad_proto::contract::EVENTS_PER_REQUEST_MAX;

/// Events the sequencer applies and commits as one group at most: large enough that an fsync
/// is shared by thousands of events, small enough that one group's batch stays a few MiB.
pub const GROUP_EVENTS_MAX: usize = 8_192;

/// Requests waiting for the sequencer at most; callers wait for a place beyond that.
pub const SEQUENCER_QUEUE_MAX: usize = 4_096;

/// A signed event that passed the stateless checks.
#[derive(Debug, Clone)]
pub struct CheckedEvent {
    /// The decoded, validated body.
    pub event: Event,
    /// The signed body bytes, stored unchanged.
    pub body: Bytes,
    /// The signer's key.
    pub public_key: [u8; 32],
    /// The signature over `SIGNING_CONTEXT || origin || 0x00 || body`.
    pub signature: [u8; 64],
}

/// What the sequencer publishes after each commit: followers and readers watch it.
#[derive(Debug, Clone)]
pub struct Published {
    /// The tree after the commit.
    pub tree: TreeState,
    /// The signed checkpoint of that tree.
    pub checkpoint: String,
}

struct Job {
    events: Vec<CheckedEvent>,
    reply: oneshot::Sender<Result<Vec<pb::Receipt>, LedgerError>>,
}

/// The ledger service's state shared by every gRPC handler.
#[derive(Debug, Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<Store>,
    genesis: Genesis,
    jobs: mpsc::Sender<Job>,
    published: watch::Receiver<Published>,
    /// Set when the server begins to shut down: streams end and new writes are refused.
    closing: watch::Sender<bool>,
    /// Why the sequencer stopped, once it has stopped on a failure; `None` while it runs.
    failure: watch::Receiver<Option<String>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("events", &self.events.len())
            .finish()
    }
}

impl Ledger {
    /// Starts the sequencer thread over an opened store. The store must hold the genesis entry.
    pub fn start(store: Arc<Store>, signer: NoteSigner) -> Result<Ledger, LedgerError> {
        let genesis = crate::init::read_genesis(&store)?;
        let tree = store.tree_state();
        let checkpoint = store.latest_checkpoint()?.ok_or_else(|| {
            LedgerError::Storage("the store has entries but no checkpoint".into())
        })?;
        let last_recorded_unix_ms = last_recorded_unix_ms(&store, tree.size)?;
        let (published_tx, published) = watch::channel(Published { tree, checkpoint });
        let (jobs, jobs_rx) = mpsc::channel(SEQUENCER_QUEUE_MAX);
        let sequencer = Sequencer {
            store: store.clone(),
            signer,
            published: published_tx,
            last_recorded_unix_ms,
        };
        let (failure_tx, failure) = watch::channel(None);
        std::thread::Builder::new()
            .name("isnad-sequencer".into())
            .spawn(move || {
                // Whatever stops the writer, other than the end of the queue, is reported: the
                // server must not keep answering with a dead writer.
                let stopped = match catch_unwind(AssertUnwindSafe(|| sequencer.run(jobs_rx))) {
                    Ok(Ok(())) => return,
                    Ok(Err(error)) => format!("commit failed: {error}"),
                    Err(panic) => format!("the sequencer panicked: {}", panic_message(&*panic)),
                };
                tracing::error!(reason = %stopped, "the sequencer stopped");
                failure_tx.send_replace(Some(stopped));
            })
            .map_err(|e| LedgerError::Storage(format!("cannot start the sequencer: {e}")))?;
        Ok(Ledger {
            inner: Arc::new(Inner {
                store,
                genesis,
                jobs,
                published,
                closing: watch::Sender::new(false),
                failure,
            }),
        })
    }

    /// Resolves, with the reason, once the sequencer has stopped on a failure: no write can be
    /// taken any more, and only a restart recovers (from what is durable). Never resolves
    /// while the sequencer runs or after it stopped cleanly.
    pub async fn failed(&self) -> String {
        let mut failure = self.inner.failure.clone();
        let reason = failure
            .wait_for(Option::is_some)
            .await
            .map(|reason| reason.clone().unwrap_or_default());
        match reason {
            Ok(reason) => reason,
            // The sequencer ended without a failure: the queue closed.
            Err(_) => std::future::pending().await,
        }
    }

    /// Begins the shutdown: new writes are refused with UNAVAILABLE and long-lived streams
    /// (follow, capture streams) end, so that the server's drain does not wait on them.
    pub fn begin_shutdown(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Whether the shutdown has begun.
    pub fn is_closing(&self) -> bool {
        *self.inner.closing.borrow()
    }

    /// Resolves once the shutdown has begun.
    pub async fn closed(&self) {
        let mut closing = self.inner.closing.subscribe();
        // An error means the ledger is gone, which is closed too.
        let _ = closing.wait_for(|closing| *closing).await;
    }

    /// The store, for reads.
    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// The genesis entry: origin, log key and regulator.
    pub fn genesis(&self) -> &Genesis {
        &self.inner.genesis
    }

    /// The latest committed tree and its checkpoint.
    pub fn published(&self) -> Published {
        self.inner.published.borrow().clone()
    }

    /// A receiver that changes after every commit.
    pub fn watch(&self) -> watch::Receiver<Published> {
        self.inner.published.clone()
    }

    /// Waits until every request queued before this call is committed and answered.
    pub async fn shutdown(&self) {
        let (reply, answer) = oneshot::channel();
        // An empty job is answered after everything queued before it: the queue is in order.
        if self
            .inner
            .jobs
            .send(Job {
                events: Vec::new(),
                reply,
            })
            .await
            .is_ok()
        {
            let _ = answer.await;
        }
    }

    /// Checks, sequences and commits one atomic request; returns a receipt per event, sent
    /// only once every entry of the request is durable.
    pub async fn capture(
        &self,
        events: Vec<pb::SignedEvent>,
    ) -> Result<Vec<pb::Receipt>, LedgerError> {
        self.check_open()?;
        let origin = self.inner.genesis.origin.clone();
        let checked = if events.len() > 64 {
            tokio::task::spawn_blocking(move || check_events(&origin, events))
                .await
                .map_err(|e| LedgerError::Unavailable(format!("checking task failed: {e}")))??
        } else {
            check_events(&origin, events)?
        };
        self.sequence(checked).await
    }

    /// Refuses a write once the shutdown has begun.
    fn check_open(&self) -> Result<(), LedgerError> {
        if self.is_closing() {
            return Err(LedgerError::Unavailable(
                "the server is shutting down; retry on another replica or later".into(),
            ));
        }
        Ok(())
    }

    /// Sequences and commits one atomic request of events that passed [`check_events`].
    pub async fn sequence(
        &self,
        checked: Vec<CheckedEvent>,
    ) -> Result<Vec<pb::Receipt>, LedgerError> {
        self.check_open()?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .jobs
            .send(Job {
                events: checked,
                reply,
            })
            .await
            .map_err(|_| LedgerError::Unavailable("the sequencer has stopped".into()))?;
        answer
            .await
            .map_err(|_| LedgerError::Unavailable("the sequencer has stopped".into()))?
    }
}

/// The writes the values of one request make at most, beside a few per event: three state
/// records per serial or item (a unit's record, its lot's list and its index entry), so that
/// a request within [`VALUES_PER_REQUEST_MAX`] fits one commit. A Receive or an unpacking of a
/// whole SSCC writes for what the state holds, which no stateless check sees: the sequencer
/// stops applying a request as soon as it is over (see `place_job`).
const _: () =
    assert!(3 * VALUES_PER_REQUEST_MAX as usize + 8 * EVENTS_PER_REQUEST_MAX <= STATE_WRITES_MAX);

/// The stateless checks: limits, decoding, the core's checks of fields and per-event limits,
/// the serials and items of the whole request, and signatures (each verified strictly for this
/// log's `origin`, as the client and the auditor verify them). Every limit here is checked
/// before the request reaches the sequencer, and the signatures, the costliest check, last.
pub fn check_events(
    origin: &str,
    events: Vec<pb::SignedEvent>,
) -> Result<Vec<CheckedEvent>, LedgerError> {
    if events.is_empty() {
        return Err(LedgerError::InvalidArgument {
            reason: Reason::EmptyRequest,
            message: "a capture request needs at least one event".into(),
            event: None,
        });
    }
    if events.len() > EVENTS_PER_REQUEST_MAX {
        return Err(LedgerError::ResourceExhausted {
            reason: Reason::TooManyEvents,
            message: format!(
                "{} events in one request; at most {EVENTS_PER_REQUEST_MAX}",
                events.len()
            ),
            event: None,
        });
    }
    let checked = events
        .into_iter()
        .enumerate()
        .map(|(position, signed)| check_shape(position, signed))
        .collect::<Result<Vec<_>, _>>()?;
    check_values(&checked)?;
    let items: Vec<(&[u8], &[u8], &[u8])> = checked
        .iter()
        .map(|c| (&c.public_key[..], &c.signature[..], &c.body[..]))
        .collect();
    // Every item passed check_shape, so the only refusal left is a signature that does not
    // verify: the same definition the client and the auditor apply to what the log serves.
    if let Err(error) = envelope::verify_batch(origin, &items) {
        let position = match error {
            envelope::EnvelopeError::BatchItem { index, .. } => index,
            _ => 0,
        };
        return Err(LedgerError::BadSignature {
            message: format!(
                "event {position}: the signature does not verify for this body and key"
            ),
            event: position,
        });
    }
    Ok(checked)
}

/// Refuses a signed body longer than [`BODY_LEN_MAX`], before anything decodes it.
pub fn check_body_len(position: usize, body: &[u8]) -> Result<(), LedgerError> {
    if body.len() > BODY_LEN_MAX {
        return Err(LedgerError::ResourceExhausted {
            reason: Reason::BodyTooLarge,
            message: format!(
                "event {position}: body is {} bytes; at most {BODY_LEN_MAX}",
                body.len()
            ),
            event: Some(position),
        });
    }
    Ok(())
}

fn check_shape(position: usize, signed: pb::SignedEvent) -> Result<CheckedEvent, LedgerError> {
    let invalid = |reason: Reason, message: String| LedgerError::InvalidArgument {
        reason,
        message: format!("event {position}: {message}"),
        event: Some(position),
    };
    check_body_len(position, &signed.body)?;
    let public_key: [u8; 32] = signed.public_key[..].try_into().map_err(|_| {
        invalid(
            Reason::MalformedKey,
            format!("public_key: {} bytes, expected 32", signed.public_key.len()),
        )
    })?;
    let signature: [u8; 64] = signed.signature[..].try_into().map_err(|_| {
        invalid(
            Reason::MalformedSignature,
            format!("signature: {} bytes, expected 64", signed.signature.len()),
        )
    })?;
    let event = isnad_proto::decode_event_body(&signed.body)
        .map_err(|e| invalid(Reason::MalformedBody, e.to_string()))?;
    // The executor's checks that need no state (serials per commission counted without
    // expanding a range, items per event, field sizes): refused here, they cost no sequencer
    // time. The executor runs them again, as part of its rules.
    rules::check_fields(&event).map_err(|error| match error {
        ApplyError::Rejected(rejection) => LedgerError::Rejected {
            rejection,
            event: position,
        },
        ApplyError::Storage(error) => error.into(),
    })?;
    Ok(CheckedEvent {
        event,
        body: signed.body,
        public_key,
        signature,
    })
}

/// Refuses a request whose events carry more than [`VALUES_PER_REQUEST_MAX`] serials and
/// items together (ranges counted, never expanded).
fn check_values(checked: &[CheckedEvent]) -> Result<(), LedgerError> {
    let values = checked.iter().fold(0u64, |total, c| {
        total.saturating_add(values_of(&c.event.payload))
    });
    if values > VALUES_PER_REQUEST_MAX {
        return Err(LedgerError::ResourceExhausted {
            reason: Reason::RequestTooLarge,
            message: format!(
                "the request's {} events carry {values} serials and items; at most \
                 {VALUES_PER_REQUEST_MAX} per request: send them in smaller requests",
                checked.len()
            ),
            event: None,
        });
    }
    Ok(())
}

/// Shifts the server's clock, for drills and tests of time-dependent rules (expiry); zero in
/// production. Set once at start-up, before any request.
static CLOCK_SKEW_MS: AtomicI64 = AtomicI64::new(0);

/// Sets the clock skew added to the system clock (see [`now_unix_ms`]).
pub fn set_clock_skew_ms(skew_ms: i64) {
    CLOCK_SKEW_MS.store(skew_ms, Ordering::Relaxed);
}

/// Milliseconds since the Unix epoch by the system clock, plus the configured skew.
pub fn now_unix_ms() -> i64 {
    let system = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    system + CLOCK_SKEW_MS.load(Ordering::Relaxed)
}

/// The recorded time of the log's last entry: the sequencer's clock starts there, so that
/// recorded time never goes backwards across a restart, even when the system clock did (or a
/// previous run's clock was ahead).
fn last_recorded_unix_ms(store: &Store, size: TreeSize) -> Result<i64, LedgerError> {
    let Some(last) = size.0.checked_sub(1) else {
        return Ok(0);
    };
    let entry = stored_entry(store, last)?;
    let decoded = envelope::decode_entry(&entry)
        .map_err(|e| LedgerError::Storage(format!("entry {last} does not decode: {e}")))?;
    Ok(decoded.recorded_unix_ms)
}

/// The single writer.
struct Sequencer {
    store: Arc<Store>,
    signer: NoteSigner,
    published: watch::Sender<Published>,
    /// Recorded time never goes backwards, even if the system clock does.
    last_recorded_unix_ms: i64,
}

/// Where an accepted event's receipt comes from.
#[derive(Debug, Clone, Copy)]
enum Placement {
    /// Appended in this group at this index.
    New(u64),
    /// Already in the log at this index: the original receipt is served again.
    Existing(u64),
}

impl Sequencer {
    /// Commits groups until the queue closes (`Ok`) or a commit fails (`Err`).
    fn run(mut self, mut jobs: mpsc::Receiver<Job>) -> Result<(), LedgerError> {
        // Requests that did not fit the last group; they lead the next one, in order.
        let mut carried: Vec<Job> = Vec::new();
        loop {
            let mut group = std::mem::take(&mut carried);
            if group.is_empty() {
                match jobs.blocking_recv() {
                    Some(job) => group.push(job),
                    None => break,
                }
            }
            let mut events: usize = group.iter().map(|job| job.events.len()).sum();
            while events < GROUP_EVENTS_MAX {
                match jobs.try_recv() {
                    Ok(job) => {
                        events += job.events.len();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            let started = std::time::Instant::now();
            let requests = group.len();
            match self.commit_group(group) {
                Ok(deferred) => {
                    tracing::debug!(
                        requests = requests - deferred.len(),
                        events,
                        micros = started.elapsed().as_micros() as u64,
                        "group committed"
                    );
                    carried = deferred;
                }
                // A failed write leaves the on-disk state unknown to this process: stop
                // taking writes; a restart recovers from what is durable. The group's callers
                // and those still queued are answered UNAVAILABLE as their replies drop.
                Err(error) => return Err(error),
            }
        }
        tracing::info!("sequencer drained and stopped");
        Ok(())
    }

    /// Applies and commits as many of `group`'s requests as fit one store append, answers
    /// them, and returns the requests that did not fit, for the next group.
    fn commit_group(&mut self, mut group: Vec<Job>) -> Result<Vec<Job>, LedgerError> {
        self.last_recorded_unix_ms = self.last_recorded_unix_ms.max(now_unix_ms());
        let recorded = self.last_recorded_unix_ms;
        let base = self.store.tree_state().size.0;
        let mut overlay = Overlay::new(self.store.as_ref());
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut outcomes = Vec::with_capacity(group.len());
        let mut deferred = Vec::new();
        for position in 0..group.len() {
            let job = &group[position];
            let mark = overlay.mark();
            let entries_mark = entries.len();
            // A panic in the rules refuses this request alone: everything it wrote to the
            // overlay and the entries is rolled back below like any refusal's.
            let mut outcome = catch_unwind(AssertUnwindSafe(|| {
                place_job(
                    &self.store,
                    &mut overlay,
                    &mut entries,
                    base,
                    recorded,
                    &job.events,
                )
            }))
            .unwrap_or_else(|panic| Err(rules_panicked(&*panic, job.events.len())));
            // `place_job` stopped as soon as the group went over what one commit holds.
            let over = matches!(outcome, Ok(None));
            if over {
                if position == 0 {
                    // Alone in its group and still too large: it can never be committed.
                    outcome = Err(too_large(job.events.len()));
                } else {
                    // It fits a group of its own: it leads the next one.
                    overlay.rollback(mark);
                    entries.truncate(entries_mark);
                    deferred = group.split_off(position);
                    break;
                }
            }
            if outcome.is_err() {
                overlay.rollback(mark);
                entries.truncate(entries_mark);
            }
            outcomes.push(outcome.map(|placed| placed.unwrap_or_default()));
        }
        let writes = overlay.into_writes();
        let published = if entries.is_empty() {
            self.published.borrow().clone()
        } else {
            let outcome = self.store.append(&entries, writes.0, &self.signer)?;
            Published {
                tree: outcome.tree,
                checkpoint: outcome.checkpoint,
            }
        };
        let appended = Appended::new(&self.store, base, &entries, &published);
        // Publish, then answer: every read that starts after a client holds a receipt of size
        // N answers from a tree of at least N (readers take the published tree, never the
        // store's own size). Publishing after the answers let a fast client read N-1.
        self.published.send_replace(published.clone());
        // Durability: `Store::append` returned only after the batch was flushed and fdatasync'ed,
        // so every receipt sent below names entries that survive a crash or power loss.
        for (job, outcome) in group.into_iter().zip(outcomes) {
            let answer = match (outcome, &appended) {
                (Ok(placements), Ok(appended)) => receipts(&self.store, appended, &placements),
                (Ok(_), Err(error)) => Err(LedgerError::Storage(error.to_string())),
                (Err(error), _) => Err(error),
            };
            // The caller may have gone away; its events are committed all the same.
            let _ = job.reply.send(answer);
        }
        Ok(deferred)
    }
}

/// The refusal of a request whose rules panicked: a bug of this server, logged; the request is
/// refused and nothing of it is applied, and the sequencer goes on with the next one.
fn rules_panicked(panic: &(dyn std::any::Any + Send), events: usize) -> LedgerError {
    tracing::error!(
        panic = panic_message(panic),
        events,
        "applying a request panicked; the request is refused"
    );
    LedgerError::Internal(
        "the server failed while applying this request; nothing of it was applied".into(),
    )
}

/// The message a panic carried, when it carried text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The refusal of a request whose state writes alone exceed one store append.
fn too_large(events: usize) -> LedgerError {
    LedgerError::ResourceExhausted {
        reason: Reason::RequestTooLarge,
        message: format!(
            "the request's {events} events write more than {STATE_WRITES_MAX} state records together; send them in smaller requests"
        ),
        event: None,
    }
}

/// Applies one request's events over the overlay; appends their entries. On error the caller
/// rolls back both. `Ok(None)` when the group went over what one commit holds
/// ([`STATE_WRITES_MAX`] state writes or [`APPEND_ENTRIES_MAX`] entries): it stops at the event
/// that went over, so a request whose events write for what the state holds (a Receive of a
/// large shipment) costs at most one commit's worth of work before it is refused or deferred.
fn place_job(
    store: &Store,
    overlay: &mut Overlay<'_, Store>,
    entries: &mut Vec<Vec<u8>>,
    base: u64,
    recorded: i64,
    events: &[CheckedEvent],
) -> Result<Option<Vec<Placement>>, LedgerError> {
    let mut placements = Vec::with_capacity(events.len());
    for (position, checked) in events.iter().enumerate() {
        if let Some(index) = queries::event_index(overlay, &checked.event.id)? {
            let stored = if index < base {
                stored_entry(store, index)?
            } else {
                entries[(index - base) as usize].clone()
            };
            if !same_event(&stored, checked) {
                return Err(LedgerError::EventIdReused {
                    event_id: hex::encode(checked.event.id.0),
                    event: position,
                });
            }
            placements.push(if index < base {
                Placement::Existing(index)
            } else {
                Placement::New(index)
            });
            continue;
        }
        let index = base + entries.len() as u64;
        let context = Context {
            index,
            recorded_unix_ms: recorded,
            signer: PublicKey(checked.public_key),
        };
        match rules::apply(&*overlay, &checked.event, &context) {
            Ok(writes) => overlay.apply(writes),
            Err(ApplyError::Rejected(rejection)) => {
                return Err(LedgerError::Rejected {
                    rejection,
                    event: position,
                });
            }
            Err(ApplyError::Storage(error)) => return Err(error.into()),
        }
        entries.push(envelope::encode_event_entry(
            recorded,
            &checked.public_key,
            &checked.signature,
            &checked.body,
        ));
        placements.push(Placement::New(index));
        if overlay.pending_len() > STATE_WRITES_MAX || entries.len() > APPEND_ENTRIES_MAX {
            return Ok(None);
        }
    }
    Ok(Some(placements))
}

fn stored_entry(store: &Store, index: u64) -> Result<Vec<u8>, LedgerError> {
    store
        .entry(LeafIndex(index))?
        .ok_or_else(|| LedgerError::Storage(format!("entry {index} is indexed but missing")))
}

/// Whether a stored entry carries exactly this signed event.
fn same_event(entry: &[u8], checked: &CheckedEvent) -> bool {
    match envelope::decode_entry(entry) {
        Ok(envelope::EntryRef {
            kind:
                envelope::EntryKind::Event {
                    public_key,
                    signature,
                    body,
                },
            ..
        }) => {
            public_key == checked.public_key
                && signature == checked.signature
                && body == &checked.body[..]
        }
        _ => false,
    }
}

/// What one group appended, for its receipts: the leaf hashes and inclusion proofs of its
/// entries, computed together (neighbouring leaves share most of their proofs).
struct Appended<'a> {
    base: u64,
    leaf_hashes: Vec<isnad_log::Hash>,
    proofs: Vec<Vec<isnad_log::Hash>>,
    published: &'a Published,
}

impl<'a> Appended<'a> {
    fn new(
        store: &Store,
        base: u64,
        entries: &[Vec<u8>],
        published: &'a Published,
    ) -> Result<Appended<'a>, LedgerError> {
        let end = base + entries.len() as u64;
        Ok(Appended {
            base,
            leaf_hashes: entries.iter().map(|e| isnad_log::leaf_hash(e)).collect(),
            proofs: store.inclusion_proofs(base..end, published.tree.size)?,
            published,
        })
    }

    fn receipt(&self, index: u64) -> pb::Receipt {
        let position = (index - self.base) as usize;
        pb::Receipt {
            leaf_index: index,
            leaf_hash: self.leaf_hashes[position].to_vec(),
            tree_size: self.published.tree.size.0,
            inclusion_proof: self.proofs[position].iter().map(|h| h.to_vec()).collect(),
            checkpoint: self.published.checkpoint.clone(),
        }
    }
}

fn receipts(
    store: &Store,
    appended: &Appended<'_>,
    placements: &[Placement],
) -> Result<Vec<pb::Receipt>, LedgerError> {
    placements
        .iter()
        .map(|placement| match *placement {
            Placement::New(index) => Ok(appended.receipt(index)),
            Placement::Existing(index) => original_receipt(store, index),
        })
        .collect()
}

/// The receipt of an entry committed earlier: against the checkpoint of the group it was
/// committed in, so a resubmission gets exactly the receipt the first submission got.
pub fn original_receipt(store: &Store, index: u64) -> Result<pb::Receipt, LedgerError> {
    let (size, checkpoint) = store
        .checkpoint_covering(LeafIndex(index))?
        .ok_or_else(|| LedgerError::Storage(format!("no checkpoint covers entry {index}")))?;
    receipt(store, index, size.0, checkpoint)
}

fn receipt(
    store: &Store,
    index: u64,
    size: u64,
    checkpoint: String,
) -> Result<pb::Receipt, LedgerError> {
    let entry = store
        .entry(LeafIndex(index))?
        .ok_or_else(|| LedgerError::Storage(format!("entry {index} is missing")))?;
    Ok(pb::Receipt {
        leaf_index: index,
        leaf_hash: isnad_log::leaf_hash(&entry).to_vec(),
        tree_size: size,
        inclusion_proof: store
            .inclusion_proof(LeafIndex(index), TreeSize(size))?
            .iter()
            .map(|h| h.to_vec())
            .collect(),
        checkpoint,
    })
}
