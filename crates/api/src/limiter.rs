//! The token buckets that query cost is charged to: one per token, one per anonymous
//! client address; and the rows of partner snapshots, one allowance per token
//! ([`BucketKey::Export`]).
//!
//! Buckets live in this replica's memory ([`LocalBuckets`]) unless a shared store is
//! configured, in which case they live in Redis and every replica draws on the same
//! allowance ([`SharedStoreConfig`]). When the shared store cannot be reached the
//! limiter keeps serving on its local buckets, says so in the log and in
//! [`RateLimiter::store_status`], and goes back to the shared store once it answers.
//!
//! The local store is bounded: a bucket that has refilled to full holds nothing worth
//! keeping and is dropped by a sweep (at most every [`SWEEP_INTERVAL`], run by whichever
//! charge comes first), and the store never holds more than `max_buckets` buckets. Once
//! full, new *addresses* share one overflow bucket, so a flood of (spoofed or rotating)
//! addresses shares one allowance instead of pushing out the drained buckets of real
//! clients; a new *token* (which an attacker cannot mint at will) takes the place of an
//! address bucket.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use uuid::Uuid;

/// How often the local store drops buckets that have refilled to full.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Buckets the local store holds at most, by default.
pub const DEFAULT_MAX_BUCKETS: usize = 100_000;
/// Key prefix of buckets in the shared store, by default.
pub const DEFAULT_SHARED_PREFIX: &str = "parkgraph:bucket:";
/// Longest wait for one shared-store call, by default.
pub const DEFAULT_SHARED_TIMEOUT: Duration = Duration::from_millis(250);
/// After a shared-store failure, how long the limiter stays on local buckets before it
/// tries the shared store again (so an outage costs requests no waiting).
const RETRY_SHARED_AFTER: Duration = Duration::from_secs(1);
/// Shortest time between two warnings of the same kind.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// A bucket's state, as reported in `extensions.cost.throttleStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    /// Points the bucket holds when full.
    pub maximum_available: u64,
    /// Points available now.
    pub currently_available: u64,
    /// Points restored per second.
    pub restore_rate: u64,
}

/// The bucket cannot pay for the request yet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttled {
    /// Seconds until enough points are back.
    pub retry_after_seconds: u64,
    /// The bucket now.
    pub status: ThrottleStatus,
}

/// Bucket sizes and refill rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketConfig {
    /// Points when full.
    pub maximum: u64,
    /// Points restored per second.
    pub restore_per_second: u64,
}

impl BucketConfig {
    fn status(self, available: f64) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: self.maximum,
            currently_available: available.max(0.0).floor() as u64,
            restore_rate: self.restore_per_second,
        }
    }

    /// The answer to a charge of `cost` that left `available` points (`paid`) or found
    /// only `available` (not paid).
    fn outcome(self, paid: bool, available: f64, cost: u64) -> Result<ThrottleStatus, Throttled> {
        if paid {
            return Ok(self.status(available));
        }
        let missing = cost as f64 - available;
        let rate = self.restore_per_second.max(1) as f64;
        Err(Throttled { retry_after_seconds: (missing / rate).ceil().max(1.0) as u64, status: self.status(available) })
    }
}

/// Whose bucket a request is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketKey {
    /// An authenticated caller: its token's `jti`.
    Token(Uuid),
    /// The rows a token's partner snapshots (`/bulk/{kind}.ndjson`) stream: an allowance
    /// of its own, apart from the token's query-cost bucket.
    Export(Uuid),
    /// An anonymous caller: its client address. IPv6 addresses share the bucket of their
    /// /64 (one subscriber's usual allocation), and IPv4-mapped IPv6 addresses are IPv4.
    Address(IpAddr),
    /// An anonymous caller whose address is not known (no peer address was attached).
    UnknownAddress,
}

impl BucketKey {
    /// The key of an anonymous caller at `address`, if known.
    pub fn anonymous(address: Option<IpAddr>) -> Self {
        address.map_or(Self::UnknownAddress, Self::Address)
    }

    /// The key as stored: addresses grouped as documented on [`BucketKey::Address`].
    fn normalized(self) -> Self {
        match self {
            Self::Address(ip) => match ip.to_canonical() {
                IpAddr::V6(v6) => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self::Address(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
                v4 => Self::Address(v4),
            },
            other => other,
        }
    }

    fn is_address(self) -> bool {
        matches!(self, Self::Address(_))
    }

    fn redis_key(self, prefix: &str) -> String {
        match self {
            Self::Token(jti) => format!("{prefix}token:{jti}"),
            Self::Export(jti) => format!("{prefix}export:{jti}"),
            Self::Address(ip) => format!("{prefix}addr:{ip}"),
            Self::UnknownAddress => format!("{prefix}addr:unknown"),
        }
    }
}

/// Where buckets live and how many this replica may keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Most buckets the local store keeps (see the module documentation).
    pub max_buckets: usize,
    /// The shared store, when buckets are shared by replicas.
    pub shared: Option<SharedStoreConfig>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { max_buckets: DEFAULT_MAX_BUCKETS, shared: None }
    }
}

/// A Redis server holding the buckets of every replica.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedStoreConfig {
    url: String,
    /// Prefix of every bucket key.
    pub prefix: String,
    /// Longest wait for one call; beyond it the request is charged locally.
    pub timeout: Duration,
}

impl std::fmt::Debug for SharedStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("SharedStoreConfig").field("prefix", &self.prefix).field("timeout", &self.timeout).finish()
    }
}

/// A shared-store URL that Redis cannot use.
#[derive(Debug, thiserror::Error)]
#[error("limits.shared_store is not a usable Redis URL (redis://HOST:PORT[/DB]): {reason}")]
pub struct InvalidStoreUrl {
    reason: String,
}

impl SharedStoreConfig {
    /// Checks `url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`) without connecting.
    pub fn new(url: &str, prefix: impl Into<String>, timeout: Duration) -> Result<Self, InvalidStoreUrl> {
        redis::Client::open(url).map_err(|err| InvalidStoreUrl { reason: err.to_string() })?;
        Ok(Self { url: url.to_string(), prefix: prefix.into(), timeout })
    }
}

/// Where the limiter keeps its buckets right now, as `/readyz` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    /// In this replica's memory, as configured.
    Local,
    /// In the shared store.
    Shared,
    /// In this replica's memory because the shared store does not answer.
    SharedUnreachable,
}

impl std::fmt::Display for StoreStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Local => "local",
            Self::Shared => "shared",
            Self::SharedUnreachable => "local (shared store unreachable)",
        })
    }
}

/// The callers' buckets: shared by replicas when configured, else (and whenever the
/// shared store does not answer) in this replica's memory.
pub struct RateLimiter {
    local: LocalBuckets,
    shared: Option<SharedBuckets>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self { local: LocalBuckets::new(DEFAULT_MAX_BUCKETS), shared: None }
    }
}

impl RateLimiter {
    /// A limiter over `config`. It does not connect: the shared store is reached on first
    /// use, so a server starts while Redis is down. Call within a Tokio runtime.
    pub fn new(config: &StoreConfig) -> Self {
        let shared = config.shared.as_ref().and_then(|shared| match SharedBuckets::new(shared) {
            Ok(buckets) => {
                let (store, prefix) = (&buckets.address, &buckets.prefix);
                tracing::info!(%store, %prefix, "buckets are shared by replicas through this store (reached on first use)");
                Some(buckets)
            }
            Err(err) => {
                tracing::error!(%err, "cannot use the shared bucket store: buckets are per replica");
                None
            }
        });
        Self { local: LocalBuckets::new(config.max_buckets), shared }
    }

    /// Takes `cost` points from `key`'s bucket, or says how long to wait.
    pub async fn charge(&self, key: BucketKey, cost: u64, config: BucketConfig) -> Result<ThrottleStatus, Throttled> {
        let key = key.normalized();
        if let Some(shared) = &self.shared
            && let Some((paid, available)) = shared.run(Operation::Charge, key, cost, config).await
        {
            return config.outcome(paid, available, cost);
        }
        self.local.charge(key, cost, config)
    }

    /// Gives back points charged but not used.
    pub async fn refund(&self, key: BucketKey, points: u64, config: BucketConfig) -> ThrottleStatus {
        let key = key.normalized();
        if let Some(shared) = &self.shared
            && let Some((_, available)) = shared.run(Operation::Refund, key, points, config).await
        {
            return config.status(available);
        }
        self.local.refund(key, points, config)
    }

    /// Where buckets are kept now. With a shared store, asks it (within its timeout)
    /// unless it failed a moment ago.
    pub async fn store_status(&self) -> StoreStatus {
        match &self.shared {
            None => StoreStatus::Local,
            Some(shared) if shared.ping().await => StoreStatus::Shared,
            Some(_) => StoreStatus::SharedUnreachable,
        }
    }

    /// Buckets held in this replica's memory.
    pub fn local_buckets(&self) -> usize {
        self.local.len()
    }
}

/// The local store: a map of buckets, bounded as the module documentation says.
pub struct LocalBuckets {
    max_buckets: usize,
    state: Mutex<LocalState>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    available: f64,
    updated: Instant,
    /// When the bucket will be full again: from then on it can be dropped.
    full_at: Instant,
}

impl Bucket {
    fn full(config: BucketConfig, now: Instant) -> Self {
        Self { available: config.maximum as f64, updated: now, full_at: now }
    }

    fn refill(&mut self, config: BucketConfig, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        let maximum = config.maximum as f64;
        self.available = (self.available + elapsed * config.restore_per_second as f64).min(maximum);
        self.updated = now;
    }

    fn settle(&mut self, config: BucketConfig) {
        let missing = (config.maximum as f64 - self.available).max(0.0);
        // A bucket that never refills is never full again once charged: keep it.
        let seconds = if config.restore_per_second == 0 && missing > 0.0 {
            1e9
        } else {
            (missing / config.restore_per_second.max(1) as f64).min(1e9)
        };
        self.full_at = self.updated.checked_add(Duration::from_secs_f64(seconds)).unwrap_or(self.updated);
    }
}

struct LocalState {
    buckets: HashMap<BucketKey, Bucket>,
    /// Shared by new addresses while the store is full (`None`: full).
    overflow: Option<Bucket>,
    last_sweep: Instant,
    /// Charges sent to the overflow bucket since the last warning.
    overflowed: u64,
    last_overflow_warning: Option<Instant>,
}

enum Slot {
    Own(BucketKey),
    Overflow,
    /// A refund to a bucket that is no longer kept (it was full).
    Gone,
}

impl LocalBuckets {
    /// An empty store holding at most `max_buckets` buckets (at least one).
    pub fn new(max_buckets: usize) -> Self {
        let state = LocalState {
            buckets: HashMap::new(),
            overflow: None,
            last_sweep: Instant::now(),
            overflowed: 0,
            last_overflow_warning: None,
        };
        Self { max_buckets: max_buckets.max(1), state: Mutex::new(state) }
    }

    /// Buckets held.
    pub fn len(&self) -> usize {
        self.lock().buckets.len()
    }

    /// True when no bucket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LocalState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes `cost` points from `key`'s bucket, or says how long to wait.
    pub fn charge(&self, key: BucketKey, cost: u64, config: BucketConfig) -> Result<ThrottleStatus, Throttled> {
        self.charge_at(key.normalized(), cost, config, Instant::now())
    }

    /// Gives back points charged but not used.
    pub fn refund(&self, key: BucketKey, points: u64, config: BucketConfig) -> ThrottleStatus {
        self.refund_at(key.normalized(), points, config, Instant::now())
    }

    fn charge_at(
        &self,
        key: BucketKey,
        cost: u64,
        config: BucketConfig,
        now: Instant,
    ) -> Result<ThrottleStatus, Throttled> {
        let mut state = self.lock();
        if now.saturating_duration_since(state.last_sweep) >= SWEEP_INTERVAL {
            state.buckets.retain(|_, bucket| bucket.full_at > now);
            state.last_sweep = now;
        }
        let slot = if state.buckets.contains_key(&key) {
            Slot::Own(key)
        } else if state.buckets.len() < self.max_buckets || (!key.is_address() && Self::make_room(&mut state)) {
            state.buckets.insert(key, Bucket::full(config, now));
            Slot::Own(key)
        } else {
            state.overflowed += 1;
            if state.last_overflow_warning.is_none_or(|at| now.saturating_duration_since(at) >= WARN_EVERY) {
                tracing::warn!(
                    max_buckets = self.max_buckets,
                    charges = state.overflowed,
                    "the bucket store is full: new client addresses share one overflow bucket"
                );
                state.last_overflow_warning = Some(now);
                state.overflowed = 0;
            }
            Slot::Overflow
        };
        Self::apply(&mut state, slot, config, now, |available| {
            let paid = *available >= cost as f64;
            if paid {
                *available -= cost as f64;
            }
            config.outcome(paid, *available, cost)
        })
    }

    fn refund_at(&self, key: BucketKey, points: u64, config: BucketConfig, now: Instant) -> ThrottleStatus {
        let mut state = self.lock();
        let slot = if state.buckets.contains_key(&key) {
            Slot::Own(key)
        } else if key.is_address() && state.buckets.len() >= self.max_buckets {
            Slot::Overflow
        } else {
            Slot::Gone
        };
        Self::apply(&mut state, slot, config, now, |available| {
            *available = (*available + points as f64).min(config.maximum as f64);
            config.status(*available)
        })
    }

    /// Drops the address bucket closest to full (the one that owes least) to make room
    /// for a token's; false when there is none. A scan, but only when the store is full
    /// and a token it has never seen arrives.
    fn make_room(state: &mut LocalState) -> bool {
        let victim = state
            .buckets
            .iter()
            .filter(|(key, _)| key.is_address())
            .min_by_key(|(_, bucket)| bucket.full_at)
            .map(|(key, _)| *key);
        victim.is_some_and(|key| state.buckets.remove(&key).is_some())
    }

    fn apply<T>(
        state: &mut LocalState,
        slot: Slot,
        config: BucketConfig,
        now: Instant,
        f: impl FnOnce(&mut f64) -> T,
    ) -> T {
        let mut gone = Bucket::full(config, now);
        let bucket = match slot {
            Slot::Own(key) => state.buckets.entry(key).or_insert_with(|| Bucket::full(config, now)),
            Slot::Overflow => state.overflow.get_or_insert_with(|| Bucket::full(config, now)),
            Slot::Gone => &mut gone,
        };
        bucket.refill(config, now);
        let answer = f(&mut bucket.available);
        bucket.settle(config);
        answer
    }
}

#[derive(Debug, Clone, Copy)]
enum Operation {
    Charge,
    Refund,
}

/// Charge or refund in one round trip. The bucket is a hash {tokens, ts}; it refills by
/// the time elapsed on the *server's* clock (`TIME`), so replicas' clocks do not matter;
/// a bucket back to full is deleted, and every key expires once it would be full.
/// ARGV: maximum, restore per second, amount, "charge" | "refund".
/// Returns {1 if paid (always 1 for a refund), points available as a string}.
const BUCKET_SCRIPT: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local maximum = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = maximum
  ts = now
end
if now > ts then
  tokens = math.min(maximum, tokens + (now - ts) * rate)
end
local paid = 1
if ARGV[4] == 'charge' then
  if tokens >= amount then
    tokens = tokens - amount
  else
    paid = 0
  end
else
  tokens = math.min(maximum, tokens + amount)
end
if tokens >= maximum then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
  local ttl = math.ceil((maximum - tokens) / math.max(rate, 1)) + 1
  redis.call('EXPIRE', KEYS[1], ttl)
end
return {paid, tostring(tokens)}
";

struct SharedBuckets {
    connection: ConnectionManager,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    address: String,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    /// The last call failed: stay local until `retry_at`.
    down: bool,
    retry_at: Option<Instant>,
    last_warning: Option<Instant>,
    failures: u64,
}

impl SharedBuckets {
    fn new(config: &SharedStoreConfig) -> redis::RedisResult<Self> {
        let client = redis::Client::open(config.url.as_str())?;
        let address = client.get_connection_info().addr().to_string();
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(RETRY_SHARED_AFTER);
        let connection = ConnectionManager::new_lazy_with_config(client, manager)?;
        Ok(Self {
            connection,
            script: redis::Script::new(BUCKET_SCRIPT),
            prefix: config.prefix.clone(),
            timeout: config.timeout,
            address,
            health: Mutex::new(Health::default()),
        })
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// False while a recent failure says not to wait on the store. Once the wait is
    /// over, one caller probes the store and the others stay local until it answers.
    fn worth_trying(&self) -> bool {
        let mut health = self.health();
        if !health.down {
            return true;
        }
        let now = Instant::now();
        if health.retry_at.is_some_and(|at| now < at) {
            return false;
        }
        health.retry_at = Some(now + RETRY_SHARED_AFTER);
        true
    }

    fn succeeded(&self) {
        let mut health = self.health();
        if health.down {
            tracing::info!(
                store = %self.address,
                failures = health.failures,
                "the shared bucket store answers again: buckets are shared by replicas"
            );
            *health = Health::default();
        }
    }

    fn failed(&self, err: &dyn std::fmt::Display) {
        let now = Instant::now();
        let mut health = self.health();
        health.failures += 1;
        health.retry_at = Some(now + RETRY_SHARED_AFTER);
        let first = !health.down;
        health.down = true;
        if first || health.last_warning.is_none_or(|at| now.saturating_duration_since(at) >= WARN_EVERY) {
            tracing::warn!(
                store = %self.address,
                failures = health.failures,
                %err,
                "the shared bucket store does not answer: charging this replica's local buckets"
            );
            health.last_warning = Some(now);
        }
    }

    /// Runs the bucket script; `None` when the store did not answer in time (the caller
    /// then uses the local buckets).
    async fn run(
        &self,
        operation: Operation,
        key: BucketKey,
        amount: u64,
        config: BucketConfig,
    ) -> Option<(bool, f64)> {
        if !self.worth_trying() {
            return None;
        }
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(key.redis_key(&self.prefix));
        invocation.arg(config.maximum).arg(config.restore_per_second).arg(amount).arg(match operation {
            Operation::Charge => "charge",
            Operation::Refund => "refund",
        });
        let call = invocation.invoke_async::<(i64, String)>(&mut connection);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok((paid, available))) => match available.parse::<f64>() {
                Ok(available) => {
                    self.succeeded();
                    Some((paid == 1, available))
                }
                Err(_) => {
                    self.failed(&format_args!("the bucket script answered {available:?}"));
                    None
                }
            },
            Ok(Err(err)) => {
                self.failed(&err);
                None
            }
            Err(_) => {
                self.failed(&format_args!("no answer within {} ms", self.timeout.as_millis()));
                None
            }
        }
    }

    async fn ping(&self) -> bool {
        if !self.worth_trying() {
            return false;
        }
        let mut connection = self.connection.clone();
        let ping = redis::cmd("PING");
        let call = ping.query_async::<String>(&mut connection);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(_)) => {
                self.succeeded();
                true
            }
            Ok(Err(err)) => {
                self.failed(&err);
                false
            }
            Err(_) => {
                self.failed(&format_args!("no answer within {} ms", self.timeout.as_millis()));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANONYMOUS: BucketConfig = BucketConfig { maximum: 100, restore_per_second: 10 };
    const SLOW: BucketConfig = BucketConfig { maximum: 100, restore_per_second: 1 };

    fn address(n: u32) -> BucketKey {
        BucketKey::Address(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n)))
    }

    #[test]
    fn a_bucket_empties_and_refills() {
        let buckets = LocalBuckets::new(10);
        let config = BucketConfig { maximum: 100, restore_per_second: 1000 };
        let key = BucketKey::Token(Uuid::now_v7());
        let start = Instant::now();
        assert!(buckets.charge_at(key, 60, config, start).is_ok());
        let throttled = buckets.charge_at(key, 60, config, start).expect_err("only 40 left");
        assert!(throttled.retry_after_seconds >= 1);
        assert_eq!(throttled.status.currently_available, 40);
        let later = start + Duration::from_millis(30);
        assert!(buckets.charge_at(key, 60, config, later).is_ok(), "refilled at 1000/s");
    }

    #[test]
    fn two_hundred_thousand_addresses_never_grow_the_store_past_its_cap() {
        let buckets = LocalBuckets::new(10_000);
        let start = Instant::now();
        for n in 0..200_000u32 {
            // Spread over 20 s, so sweeps run but nothing has refilled yet (50 points
            // come back in 50 s at 1 per second).
            let now = start + Duration::from_micros(u64::from(n) * 100);
            let _ = buckets.charge_at(address(n), 50, SLOW, now);
            assert!(buckets.len() <= 10_000);
        }
        assert_eq!(buckets.len(), 10_000);
    }

    #[test]
    fn idle_buckets_that_refilled_are_dropped() {
        let buckets = LocalBuckets::new(1_000);
        let start = Instant::now();
        for n in 0..500 {
            assert!(buckets.charge_at(address(n), 50, ANONYMOUS, start).is_ok());
        }
        let drained = BucketKey::Token(Uuid::now_v7());
        assert!(buckets.charge_at(drained, 100, ANONYMOUS, start).is_ok());
        assert_eq!(buckets.len(), 501);
        // 6 s later the addresses (50 short at 10/s) are full again; the token (100 short)
        // is not, and must keep its debt.
        let later = start + Duration::from_secs(6);
        assert!(buckets.charge_at(address(9_999), 1, ANONYMOUS, later).is_ok());
        assert_eq!(buckets.len(), 2, "only the drained token and the new address remain");
        let status = buckets.charge_at(drained, 0, ANONYMOUS, later).expect("free");
        assert_eq!(status.currently_available, 60, "the drained bucket kept its state");
    }

    #[test]
    fn at_the_cap_new_addresses_share_one_overflow_bucket() {
        let buckets = LocalBuckets::new(3);
        let now = Instant::now();
        for n in 0..3 {
            assert!(buckets.charge_at(address(n), 100, ANONYMOUS, now).is_ok(), "each drains its own");
        }
        // Spoofed newcomers share one allowance of 100.
        assert!(buckets.charge_at(address(100), 60, ANONYMOUS, now).is_ok());
        let throttled = buckets.charge_at(address(101), 60, ANONYMOUS, now).expect_err("the overflow holds 40");
        assert_eq!(throttled.status.currently_available, 40);
        assert_eq!(buckets.refund_at(address(101), 10, ANONYMOUS, now).currently_available, 50);
        // The real clients' drained buckets were not pushed out.
        assert!(buckets.charge_at(address(0), 1, ANONYMOUS, now).is_err(), "still drained");
        assert_eq!(buckets.len(), 3);
        // A token still gets a bucket of its own, in place of the address owing least.
        assert!(buckets.refund_at(address(2), 90, ANONYMOUS, now).currently_available == 90);
        let token = BucketKey::Token(Uuid::now_v7());
        assert!(buckets.charge_at(token, 100, ANONYMOUS, now).is_ok());
        assert!(buckets.charge_at(token, 1, ANONYMOUS, now).is_err(), "its own, drained");
        assert_eq!(buckets.len(), 3);
        assert!(buckets.charge_at(address(1), 1, ANONYMOUS, now).is_err(), "address 1 kept its debt");
    }

    #[test]
    fn ipv6_addresses_share_their_slash_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(BucketKey::Address(a).normalized(), BucketKey::Address(b).normalized());
        assert_ne!(BucketKey::Address(a).normalized(), BucketKey::Address(c).normalized());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(BucketKey::Address(mapped).normalized(), BucketKey::Address("192.0.2.7".parse().expect("ip")));
    }

    #[test]
    fn a_refund_never_overfills() {
        let buckets = LocalBuckets::new(10);
        let key = BucketKey::UnknownAddress;
        let now = Instant::now();
        assert!(buckets.charge_at(key, 30, ANONYMOUS, now).is_ok());
        assert_eq!(buckets.refund_at(key, 500, ANONYMOUS, now).currently_available, 100);
    }

    #[test]
    fn a_tokens_export_allowance_is_apart_from_its_query_bucket() {
        let buckets = LocalBuckets::new(10);
        let jti = Uuid::now_v7();
        let now = Instant::now();
        assert!(buckets.charge_at(BucketKey::Export(jti), 100, ANONYMOUS, now).is_ok());
        assert!(buckets.charge_at(BucketKey::Export(jti), 1, ANONYMOUS, now).is_err(), "the export rows are spent");
        assert!(buckets.charge_at(BucketKey::Token(jti), 100, ANONYMOUS, now).is_ok(), "queries still have theirs");
        assert_ne!(BucketKey::Export(jti).redis_key("p:"), BucketKey::Token(jti).redis_key("p:"));
    }
}
