//! Rate limits per caller: a token bucket per authenticated party, else per peer address.
//!
//! The table of buckets is bounded ([`RateLimits::buckets_max`]): a spray of addresses cannot
//! grow it. IPv6 addresses count per /64, the block one subscriber usually holds, so one host
//! cannot spray from its own block. When the table is full, buckets that have refilled (idle
//! callers, which a fresh bucket would treat the same) are dropped, at most once per
//! [`PURGE_INTERVAL`]; between purges, or when none is idle, the oldest bucket is dropped, so
//! its caller starts again with a full bucket. That caller gains at most one burst: the price
//! of bounded memory, and one an attacker with that many addresses has anyway.
//!
//! Time is passed in (`now`), so tests control it.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use isnad_core::gs1::Gln;

/// Requests per second per caller by default: far above what a handheld or a partner's system
/// sends (a capture request carries up to 1,000 events), low enough that one caller cannot
/// take the server from the others.
pub const RATE_PER_CALLER_DEFAULT: u32 = 1_000;

/// Requests a caller may send at once beyond its rate, by default.
pub const RATE_BURST_DEFAULT: u32 = 2_000;

/// Buckets the table holds at most by default: about 64 bytes each, a few MiB in all.
pub const BUCKETS_MAX_DEFAULT: usize = 65_536;

/// Idle buckets are swept out of a full table at most this often: a sweep reads the whole
/// table, and under a spray of new addresses it must not run for each of them.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(1);

/// How fast callers may send requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per second per caller; 0 turns rate limiting off.
    pub per_second: u32,
    /// Requests a caller may send at once (at least 1 when limiting).
    pub burst: u32,
    /// Buckets the table holds at most.
    pub buckets_max: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_second: RATE_PER_CALLER_DEFAULT,
            burst: RATE_BURST_DEFAULT,
            buckets_max: BUCKETS_MAX_DEFAULT,
        }
    }
}

/// Whose bucket a request is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// An authenticated party.
    Party(Gln),
    /// A peer address (IPv6 masked to its /64): its anonymous requests.
    Address(IpAddr),
    /// A peer address's failed authentications: kept apart from its anonymous requests, so
    /// that a flood of those does not lock out the parties behind the same address.
    FailedAttempts(IpAddr),
}

impl CallerKey {
    /// The key of a peer address: IPv4 as is, IPv6 by its /64 (an IPv4-mapped IPv6 address
    /// counts as its IPv4 address).
    pub fn address(address: IpAddr) -> CallerKey {
        CallerKey::Address(masked(address))
    }

    /// The key of a peer address's failed authentications (masked as [`CallerKey::address`]).
    pub fn failed_attempts(address: IpAddr) -> CallerKey {
        CallerKey::FailedAttempts(masked(address))
    }
}

/// IPv4 as is, IPv6 by its /64, an IPv4-mapped IPv6 address as its IPv4 address.
fn masked(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// A token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets, the order they were made in, and when idle ones were last swept out.
#[derive(Debug)]
struct Table {
    buckets: HashMap<CallerKey, Bucket>,
    /// Keys in the order their buckets were made, oldest first; it may also hold keys whose
    /// bucket is gone (swept out), and is rebuilt when it grows past twice the table.
    order: VecDeque<CallerKey>,
    purged: Option<Instant>,
}

/// Every caller's bucket.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    table: Mutex<Table>,
}

impl RateLimiter {
    /// A limiter with `limits`; with `per_second` 0 it lets everything through.
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits: RateLimits {
                burst: limits.burst.max(1),
                buckets_max: limits.buckets_max.max(1),
                ..limits
            },
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                order: VecDeque::new(),
                purged: None,
            }),
        }
    }

    /// Takes a token from `key`'s bucket; when it has none, how long until it has one.
    pub fn take(&self, key: CallerKey, now: Instant) -> Result<(), Duration> {
        self.check(key, now, true)
    }

    /// Whether `key`'s bucket has a token, without taking it; when not, how long until it has.
    pub fn has_token(&self, key: CallerKey, now: Instant) -> Result<(), Duration> {
        self.check(key, now, false)
    }

    /// Buckets held now.
    pub fn buckets(&self) -> usize {
        self.lock().buckets.len()
    }

    fn check(&self, key: CallerKey, now: Instant, take: bool) -> Result<(), Duration> {
        if self.limits.per_second == 0 {
            return Ok(());
        }
        let (rate, burst) = (
            f64::from(self.limits.per_second),
            f64::from(self.limits.burst),
        );
        let mut table = self.lock();
        if !table.buckets.contains_key(&key) {
            if !take {
                return Ok(()); // A fresh bucket is full.
            }
            self.make_room(&mut table, now);
            table.order.push_back(key);
        }
        let bucket = table.buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            if take {
                bucket.tokens -= 1.0;
            }
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// Makes room for one more bucket in a full table (see the module documentation).
    fn make_room(&self, table: &mut Table, now: Instant) {
        if table.buckets.len() < self.limits.buckets_max {
            return;
        }
        let sweep = table
            .purged
            .is_none_or(|purged| now.saturating_duration_since(purged) >= PURGE_INTERVAL);
        if sweep {
            table.purged = Some(now);
            let refill = Duration::from_secs_f64(
                f64::from(self.limits.burst) / f64::from(self.limits.per_second),
            );
            table
                .buckets
                .retain(|_, bucket| now.saturating_duration_since(bucket.updated) < refill);
        }
        // The oldest bucket goes: a queue keeps this O(1), where picking one out of the map
        // would scan it.
        while table.buckets.len() >= self.limits.buckets_max {
            let oldest = table
                .order
                .pop_front()
                .expect("every bucket's key is in the order");
            table.buckets.remove(&oldest);
        }
        if table.order.len() > 2 * self.limits.buckets_max {
            table.order = table.buckets.keys().copied().collect();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves a table of buckets, each consistent.
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    fn address(n: u32) -> CallerKey {
        CallerKey::address(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n)))
    }

    #[test]
    fn a_bucket_empties_then_refills_at_its_rate() {
        let limiter = RateLimiter::new(RateLimits {
            per_second: 10,
            burst: 3,
            buckets_max: 16,
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(address(1), start), Ok(()));
        }
        let wait = limiter
            .take(address(1), start)
            .expect_err("the burst is spent");
        assert_eq!(wait, Duration::from_millis(100));
        assert_eq!(limiter.has_token(address(1), start), Err(wait));
        // Another caller has its own bucket.
        assert_eq!(limiter.take(address(2), start), Ok(()));
        let later = start + Duration::from_millis(100);
        assert_eq!(limiter.has_token(address(1), later), Ok(()));
        assert_eq!(limiter.take(address(1), later), Ok(()));
        assert!(limiter.take(address(1), later).is_err());
    }

    #[test]
    fn zero_turns_limiting_off() {
        let limiter = RateLimiter::new(RateLimits {
            per_second: 0,
            burst: 1,
            buckets_max: 1,
        });
        let now = Instant::now();
        for _ in 0..1_000 {
            assert_eq!(limiter.take(address(1), now), Ok(()));
        }
        assert_eq!(limiter.buckets(), 0);
    }

    /// A spray of 100,000 addresses, all active, leaves at most `buckets_max` buckets; once
    /// they are idle, a sweep drops them.
    #[test]
    fn the_table_stays_bounded() {
        let limiter = RateLimiter::new(RateLimits {
            per_second: 1,
            burst: 2,
            buckets_max: 1_000,
        });
        let start = Instant::now();
        for n in 0..100_000 {
            limiter
                .take(address(n), start)
                .expect("a new caller has a token");
            assert!(limiter.buckets() <= 1_000);
        }
        assert_eq!(limiter.buckets(), 1_000);
        let idle = start + Duration::from_secs(3);
        limiter.take(address(200_000), idle).expect("a token");
        assert_eq!(limiter.buckets(), 1, "the idle buckets were swept out");
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().expect("an address");
        let b: Ipv6Addr = "2001:db8:1:2:bbbb::2".parse().expect("an address");
        let c: Ipv6Addr = "2001:db8:1:3::1".parse().expect("an address");
        let key = |v6: Ipv6Addr| CallerKey::address(IpAddr::V6(v6));
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        let mapped: Ipv6Addr = "::ffff:10.0.0.1".parse().expect("an address");
        assert_eq!(key(mapped), address(1));
    }
}
