//! Growing the log to a large size with realistic traffic: lanes that each commission a lot
//! and send its units on their journeys, 1,000 events per request, signing as they go.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use isnad_core::gs1::Gs1Date;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::circuit::Circuit;
use isnad_client::Client;

use super::load::{JOURNEY_STAGES, bench_lots, journeys, signed_requests};

/// Events per growth request: the most the ledger takes in one.
pub const GROWTH_REQUEST_EVENTS: usize = 1_000;

/// What the growing lanes share.
#[derive(Debug)]
pub struct Growth {
    /// The circuit that signs.
    pub circuit: Arc<Circuit>,
    /// The expiry of every lot.
    pub expiry: Gs1Date,
    /// The number of the next lot to commission.
    pub next_lot: AtomicU64,
    /// Events accepted so far by every lane.
    pub events: AtomicU64,
    /// Stop once the log would hold this many entries.
    pub events_target: u64,
    /// Stop sending after this instant.
    pub deadline: Instant,
    /// One commission in flight at a time: a lot is about 30,000 state writes, and the
    /// server's sequencer stops for good when one group goes over 100,000.
    pub commissioning: Semaphore,
}

impl Growth {
    fn done(&self) -> bool {
        self.events.load(Ordering::Relaxed) >= self.events_target || Instant::now() >= self.deadline
    }
}

/// Runs one lane per client until the target or the deadline; returns the events added.
pub async fn grow(growth: Arc<Growth>, clients: &[Client]) -> anyhow::Result<u64> {
    let mut lanes = JoinSet::new();
    for client in clients {
        lanes.spawn(lane(growth.clone(), client.clone()));
    }
    while let Some(joined) = lanes.join_next().await {
        joined.context("a growth lane panicked")??;
    }
    Ok(growth.events.load(Ordering::Relaxed))
}

async fn lane(growth: Arc<Growth>, client: Client) -> anyhow::Result<()> {
    while !growth.done() {
        let number = growth.next_lot.fetch_add(1, Ordering::Relaxed);
        let prepared = growth.clone();
        // Signing is CPU work: off the async threads, while other lanes send.
        let requests = tokio::task::spawn_blocking(move || {
            let circuit = &prepared.circuit;
            let lot = bench_lots(circuit, number, 1, prepared.expiry).remove(0);
            let units: Vec<_> = lot.units().collect();
            let mut events = vec![circuit.commission(&lot)];
            let chunk = GROWTH_REQUEST_EVENTS / JOURNEY_STAGES;
            let route = (lot.manufacturer, super::load::route(number as usize).1);
            events.extend(journeys(circuit, route, &units, chunk, JOURNEY_STAGES));
            // The commission goes alone, so that every later request is whole journeys.
            let rest = events.split_off(1);
            let mut requests = signed_requests(circuit, &events, 1);
            requests.extend(signed_requests(circuit, &rest, GROWTH_REQUEST_EVENTS));
            requests
        })
        .await
        .context("signing failed")?;
        for (position, request) in requests.into_iter().enumerate() {
            // The limits hold within a lot too: a lot is 50,001 events, tens of seconds here.
            if growth.done() {
                break;
            }
            let len = request.len() as u64;
            // The first request of a lot is its commission.
            let permit = match position {
                0 => Some(
                    growth
                        .commissioning
                        .acquire()
                        .await
                        .context("never closed")?,
                ),
                _ => None,
            };
            let sent = client.capture(request).await;
            drop(permit);
            sent.with_context(|| format!("growth lot {number}"))?;
            growth.events.fetch_add(len, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// One observation of the growing log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthSample {
    /// Seconds since growth started.
    pub elapsed_s: f64,
    /// Entries in the log.
    pub tree_size: u64,
    /// Events accepted per second since the previous sample.
    pub events_per_s: f64,
    /// The server's resident memory, MiB, when it is known.
    pub rss_mib: Option<f64>,
    /// The data directory on disk, bytes, when it is known.
    pub disk_bytes: Option<u64>,
}
