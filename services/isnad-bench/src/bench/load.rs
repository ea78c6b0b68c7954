//! Load shapes: the single-unit journeys of units from manufacturer to use, commissions of
//! large lots, and lanes that send requests one after another, many lanes at once.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use isnad_core::event::{DecommissionReason, Item, UnitId};
use isnad_proto::pb;
use tokio::task::JoinSet;

use crate::circuit::{Circuit, Lot, Unsigned, Who};
use isnad_client::Client;

use super::stats::Latencies;

/// Steps of a unit's journey, each one single-unit event: shipped to the distributor,
/// received, shipped to a hospital, received, used.
pub const JOURNEY_STAGES: usize = 5;

/// Units per commissioned lot: the most one Commission may create.
pub const LOT_UNITS: u32 = 10_000;

/// The single-unit events of the journeys of `units`, from `manufacturer`'s site to use at
/// `hospital`, stopping after `stages` steps. Units go `chunk` at a time: every unit of a
/// chunk is shipped, then every one is received, and so on, so a request of `chunk *
/// JOURNEY_STAGES` events holds whole journeys.
pub fn journeys(
    circuit: &Circuit,
    route: (Who, Who),
    units: &[UnitId],
    chunk: usize,
    stages: usize,
) -> Vec<Unsigned> {
    let (manufacturer, hospital) = route;
    let mut events = Vec::with_capacity(units.len() * stages);
    for group in units.chunks(chunk.max(1)) {
        let outbound: Vec<Unsigned> = group
            .iter()
            .map(|unit| {
                circuit.ship(
                    manufacturer,
                    vec![Item::Unit(unit.clone())],
                    Who::Distributor,
                )
            })
            .collect();
        let received: Vec<Unsigned> = outbound
            .iter()
            .map(|ship| circuit.receive(Who::Distributor, ship.event.id))
            .collect();
        let onward: Vec<Unsigned> = group
            .iter()
            .map(|unit| circuit.ship(Who::Distributor, vec![Item::Unit(unit.clone())], hospital))
            .collect();
        let delivered: Vec<Unsigned> = onward
            .iter()
            .map(|ship| circuit.receive(hospital, ship.event.id))
            .collect();
        let used: Vec<Unsigned> = group
            .iter()
            .map(|unit| {
                circuit.decommission(
                    hospital,
                    vec![Item::Unit(unit.clone())],
                    DecommissionReason::Used,
                )
            })
            .collect();
        for stage in [outbound, received, onward, delivered, used]
            .into_iter()
            .take(stages)
        {
            events.extend(stage);
        }
    }
    events
}

/// The route of lane `lane`: lanes alternate between the manufacturers and the hospitals.
pub fn route(lane: usize) -> (Who, Who) {
    (Who::MANUFACTURERS[lane % 2], Who::HOSPITALS[lane % 2])
}

/// Commissioned units not yet sent on a journey, per manufacturer.
#[derive(Debug, Default)]
pub struct UnitPool {
    /// Lots with the position of their next free unit.
    lots: Vec<(Lot, u64)>,
}

impl UnitPool {
    /// Adds a commissioned lot.
    pub fn add(&mut self, lot: Lot) {
        self.lots.push((lot, 0));
    }

    /// Free units of `manufacturer`'s lots.
    pub fn available(&self, manufacturer: Who) -> u64 {
        self.lots
            .iter()
            .filter(|(lot, _)| lot.manufacturer == manufacturer)
            .map(|(lot, next)| u64::from(lot.serials.count) - next)
            .sum()
    }

    /// Takes `count` free units of `manufacturer`'s lots, or none if there are fewer.
    pub fn take(&mut self, manufacturer: Who, count: u64) -> Option<Vec<UnitId>> {
        if self.available(manufacturer) < count {
            return None;
        }
        let mut units = Vec::with_capacity(count as usize);
        for (lot, next) in self
            .lots
            .iter_mut()
            .filter(|(lot, _)| lot.manufacturer == manufacturer)
        {
            while *next < u64::from(lot.serials.count) && (units.len() as u64) < count {
                units.push(lot.unit(*next));
                *next += 1;
            }
        }
        Some(units)
    }
}

/// Lots of [`LOT_UNITS`] numbered from `first_number`, alternating manufacturers and products.
pub fn bench_lots(
    circuit: &Circuit,
    first_number: u64,
    count: u64,
    expiry: isnad_core::gs1::Gs1Date,
) -> Vec<Lot> {
    (first_number..first_number + count)
        .map(|number| {
            let manufacturer = Who::MANUFACTURERS[(number % 2) as usize];
            let products: Vec<_> = circuit.products_of(manufacturer).collect();
            let product = products[(number / 2) as usize % products.len()];
            circuit.lot(product, &format!("B{number:07}"), expiry, 1, LOT_UNITS)
        })
        .collect()
}

/// What a run of lanes did.
#[derive(Debug, Clone)]
pub struct LaneOutcome {
    /// Events accepted.
    pub events: u64,
    /// Requests sent.
    pub requests: u64,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    /// Time from sending a request to its receipts.
    pub request_latency: Latencies,
}

impl LaneOutcome {
    /// Events accepted per second.
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// Sends every lane's requests in order, all lanes at once, lane `i` over `clients[i %
/// clients.len()]`. Any refusal stops the run: a benchmark of refused events means nothing.
pub async fn run_lanes(
    clients: &[Client],
    lanes: Vec<Vec<Vec<pb::SignedEvent>>>,
) -> anyhow::Result<LaneOutcome> {
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (index, requests) in lanes.into_iter().enumerate() {
        let client = clients[index % clients.len()].clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(requests.len());
            let mut events = 0u64;
            for request in requests {
                let len = request.len() as u64;
                let sent = Instant::now();
                client
                    .capture(request)
                    .await
                    .with_context(|| format!("lane {index}"))?;
                latencies.push(sent.elapsed());
                events += len;
            }
            anyhow::Ok((events, latencies))
        });
    }
    let mut events = 0;
    let mut latencies = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (lane_events, lane_latencies) = joined.context("a lane panicked")??;
        events += lane_events;
        latencies.extend(lane_latencies);
    }
    Ok(LaneOutcome {
        events,
        requests: latencies.len() as u64,
        elapsed: started.elapsed(),
        request_latency: Latencies::of(latencies),
    })
}

/// Signs `events` and cuts them into requests of at most `batch` events.
pub fn signed_requests(
    circuit: &Circuit,
    events: &[Unsigned],
    batch: usize,
) -> Vec<Vec<pb::SignedEvent>> {
    let signed = circuit.sign_all(events);
    signed
        .chunks(batch.max(1))
        .map(<[pb::SignedEvent]>::to_vec)
        .collect()
}

/// Connects `count` separate HTTP/2 connections to `address`.
pub async fn connect_many(address: &str, count: usize) -> anyhow::Result<Vec<Client>> {
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        clients.push(
            Client::connect(&crate::url(address))
                .await
                .with_context(|| format!("cannot connect to {address}"))?,
        );
    }
    Ok(clients)
}

/// Sends `events` in order, `batch` at a time, over one client: set-up traffic that is not
/// measured.
pub async fn submit_in_order(
    circuit: &Circuit,
    client: &Client,
    events: &[Unsigned],
    batch: usize,
) -> anyhow::Result<()> {
    for request in signed_requests(circuit, events, batch) {
        if let Err(refusal) = client.capture(request).await {
            bail!("set-up request refused: {refusal}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use isnad_core::event::Payload;

    fn circuit() -> Circuit {
        Circuit::generate(crate::bench::server::ORIGIN).expect("randomness")
    }

    fn expiry() -> isnad_core::gs1::Gs1Date {
        "301231".parse().expect("a date")
    }

    #[test]
    fn journeys_keep_each_unit_in_causal_order() {
        let circuit = circuit();
        let lot = &bench_lots(&circuit, 1, 1, expiry())[0];
        let units: Vec<UnitId> = lot.units().take(7).collect();
        let events = journeys(&circuit, route(1), &units, 3, JOURNEY_STAGES);
        assert_eq!(events.len(), 7 * JOURNEY_STAGES);
        for unit in &units {
            let steps: Vec<&str> = events
                .iter()
                .filter(|e| mentions(&e.event.payload, unit, &events))
                .map(|e| kind(&e.event.payload))
                .collect();
            assert_eq!(
                steps,
                ["ship", "receive", "ship", "receive", "use"],
                "{unit:?}"
            );
        }
        let stopped = journeys(&circuit, route(0), &units, 3, 2);
        assert_eq!(stopped.len(), 7 * 2);
    }

    fn kind(payload: &Payload) -> &'static str {
        match payload {
            Payload::Ship { .. } => "ship",
            Payload::Receive { .. } => "receive",
            Payload::Decommission { .. } => "use",
            _ => "other",
        }
    }

    /// Whether `payload` moves `unit`, directly or by receiving a shipment of it.
    fn mentions(payload: &Payload, unit: &UnitId, all: &[Unsigned]) -> bool {
        let holds = |items: &[Item]| items.contains(&Item::Unit(unit.clone()));
        match payload {
            Payload::Ship { items, .. } | Payload::Decommission { items, .. } => holds(items),
            Payload::Receive { shipment, .. } => all.iter().any(|e| {
                e.event.id == *shipment
                    && matches!(&e.event.payload, Payload::Ship { items, .. } if holds(items))
            }),
            _ => false,
        }
    }

    #[test]
    fn the_pool_hands_out_each_unit_once_and_never_more_than_it_has() {
        let circuit = circuit();
        let mut pool = UnitPool::default();
        for lot in bench_lots(&circuit, 1, 4, expiry()) {
            pool.add(lot);
        }
        let manufacturer = Who::Manufacturer1;
        assert_eq!(pool.available(manufacturer), 2 * u64::from(LOT_UNITS));
        let first = pool.take(manufacturer, 15_000).expect("enough units");
        let second = pool.take(manufacturer, 5_000).expect("the rest");
        assert_eq!(pool.available(manufacturer), 0);
        assert!(pool.take(manufacturer, 1).is_none());
        let mut all: Vec<UnitId> = first.into_iter().chain(second).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 20_000);
        assert_eq!(pool.available(Who::Manufacturer2), 2 * u64::from(LOT_UNITS));
    }

    #[test]
    fn requests_hold_at_most_a_batch() {
        let circuit = circuit();
        let events: Vec<Unsigned> = (0..25).map(|_| circuit.admit(Who::Inspector)).collect();
        let sizes: Vec<usize> = signed_requests(&circuit, &events, 10)
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [10, 10, 5]);
    }
}
