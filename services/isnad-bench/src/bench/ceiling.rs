//! The machine's ceiling: Ed25519 batch verification on every core, the work a capture
//! cannot avoid. Every throughput the benchmark reports is also given as a ratio to it.

use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use isnad_core::envelope;

/// Signatures per batch: what the ed25519-dalek figures of reference are quoted at.
pub const CEILING_BATCH_LEN: usize = 64;

/// Bytes per signed message: about a single-unit event's body with its signing context.
pub const CEILING_MESSAGE_LEN: usize = 300;

/// The origin the ceiling's messages are signed for, as long as a benchmark log's.
const CEILING_ORIGIN: &str = super::server::ORIGIN;

/// What the machine does per second, on every core at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ceiling {
    /// `ed25519_dalek::verify_batch`, batches of [`CEILING_BATCH_LEN`]: the ceiling.
    pub batch_verify_per_s: f64,
    /// The same signatures through `isnad_core::envelope::verify_batch`, which verifies each
    /// one strictly, as the ledger does: what capture really pays.
    pub envelope_batch_verify_per_s: f64,
    /// Threads used: one per core.
    pub threads: usize,
}

/// One batch of signed messages, each by its own key.
struct Batch {
    bodies: Vec<Vec<u8>>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<Signature>,
    keys: Vec<VerifyingKey>,
}

impl Batch {
    fn new() -> Batch {
        let mut batch = Batch {
            bodies: Vec::new(),
            messages: Vec::new(),
            signatures: Vec::new(),
            keys: Vec::new(),
        };
        for index in 0..CEILING_BATCH_LEN {
            let key = SigningKey::from_bytes(&[index as u8 + 1; 32]);
            let unsigned_len = CEILING_MESSAGE_LEN - envelope::SIGNING_CONTEXT.len();
            let body = vec![index as u8; unsigned_len - CEILING_ORIGIN.len() - 1];
            let message = envelope::signing_bytes(CEILING_ORIGIN, &body);
            batch.signatures.push(key.sign(&message));
            batch.keys.push(key.verifying_key());
            batch.bodies.push(body);
            batch.messages.push(message);
        }
        batch
    }

    fn verify_raw(&self) {
        let messages: Vec<&[u8]> = self.messages.iter().map(Vec::as_slice).collect();
        ed25519_dalek::verify_batch(&messages, &self.signatures, &self.keys)
            .expect("the ceiling's own signatures verify");
    }

    fn verify_envelope(&self) {
        let keys: Vec<[u8; 32]> = self.keys.iter().map(VerifyingKey::to_bytes).collect();
        let signatures: Vec<[u8; 64]> = self.signatures.iter().map(Signature::to_bytes).collect();
        let items: Vec<(&[u8], &[u8], &[u8])> = (0..CEILING_BATCH_LEN)
            .map(|i| (&keys[i][..], &signatures[i][..], &self.bodies[i][..]))
            .collect();
        envelope::verify_batch(CEILING_ORIGIN, &items)
            .expect("the ceiling's own signatures verify");
    }
}

/// Measures both batch verifications for about `duration` each, on every core.
pub fn measure(duration: Duration) -> Ceiling {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let batch = Batch::new();
    let batch_verify_per_s = on_every_core(threads, duration, || batch.verify_raw());
    let envelope_batch_verify_per_s = on_every_core(threads, duration, || batch.verify_envelope());
    Ceiling {
        batch_verify_per_s,
        envelope_batch_verify_per_s,
        threads,
    }
}

/// Signatures per second when `threads` threads repeat `verify` (one batch) for `duration`.
fn on_every_core(threads: usize, duration: Duration, verify: impl Fn() + Sync) -> f64 {
    let start = Instant::now();
    let batches: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut batches = 0u64;
                    while start.elapsed() < duration {
                        verify();
                        batches += 1;
                    }
                    batches
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("verification does not panic"))
            .sum()
    });
    (batches * CEILING_BATCH_LEN as u64) as f64 / start.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_is_positive_and_strict_checks_cost_something() {
        let ceiling = measure(Duration::from_millis(200));
        assert!(ceiling.threads >= 1);
        assert!(ceiling.batch_verify_per_s > 0.0);
        assert!(ceiling.envelope_batch_verify_per_s > 0.0);
    }
}
