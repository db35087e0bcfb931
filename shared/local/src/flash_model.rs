//! The DynamoDB capacity model of a flash sale, and a small simulator of it
//! (`oms bench flash-sale --simulate`). See `docs/dynamodb.md`, "Flash sales".
//!
//! The model: one item lives in one partition, and a partition serves at most 1,000 WCU
//! and 3,000 RCU a second. A claim's transaction writes its shard item (under 1 KB) at
//! twice the cost of a plain write, 2 WCU, and a failed condition costs the same; the
//! claim's other items (claim, customer, order, marker, outbox) have keys of their own and
//! spread over the table's partitions. So one shard serves at most 500 claims a second,
//! and N shards 500 N. Past the sale's first read, each Lambda container keeps the sale's
//! terms (reading them again every 5 s, far below the item's partition's 3,000 RCU) and, once a consistent read of every shard found none that can serve, that it is
//! sold out (`oms_aws::CachedFlashSales`), so neither the sale item nor the shards are
//! read at the claim rate.
//!
//! The simulator plays claims arriving at a steady rate, one millisecond at a time, against
//! token buckets per shard partition (writes and reads), with the claim use case's walk:
//! a random shard, on a short one a consistent read of every shard and then only shards
//! that can serve, the SDK's retries with back-off on throttling. It reports what was
//! served, how fast, what was throttled or failed, and the units left whenever a claim was
//! answered sold out.

use std::fmt::Write as _;

/// Write capacity of one partition, WCU per second.
pub const PARTITION_WCU: u32 = 1_000;
/// Read capacity of one partition, RCU per second.
pub const PARTITION_RCU: u32 = 3_000;
/// WCU of one claim on its shard (a transactional write of an item under 1 KB).
pub const CLAIM_WCU: u32 = 2;
/// Claims one shard serves per second at most.
pub const SHARD_CLAIMS_PER_SECOND: u32 = PARTITION_WCU / CLAIM_WCU;
/// How often the SDK tries a throttled request (its standard retry mode).
const SDK_ATTEMPTS: u32 = 3;
/// RCU of one item in an eventually consistent read.
const READ_RCU: f64 = 0.5;
/// Shards a claim finds short before it reads every shard
/// (`oms_domain::usecases::flash_sales::SHORTS_BEFORE_READ`).
const SHORTS_BEFORE_READ: u32 = oms_domain::usecases::flash_sales::SHORTS_BEFORE_READ as u32;

/// One scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub rate: u32,
    pub units: u32,
    pub shards: u32,
    /// How long claims keep arriving, in milliseconds.
    pub millis: u32,
    /// Lambda containers serving claims (each with its own cache).
    pub containers: u32,
}

/// What a scenario came to.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub arrived: u64,
    pub served: u64,
    pub sold_out: u64,
    pub failed: u64,
    pub throttled_attempts: u64,
    /// Of those, reads of every shard.
    pub throttled_reads: u64,
    /// Requests that failed before the last unit was claimed.
    pub failed_before_sold_out: u64,
    /// Milliseconds until the last unit was claimed, if it was.
    pub sold_out_at: Option<u32>,
    /// The most units any shard still held when some claim was answered sold out.
    pub left_at_sold_out: u32,
    /// Peak claims served in one second (a sliding window of 1,000 ms).
    pub peak_served_per_second: u64,
}

#[derive(Debug, Clone)]
struct Request {
    container: usize,
    seed: u32,
    step: u32,
    /// Shards worth trying after a read of every shard, in this request's order.
    candidates: Option<Vec<u32>>,
    attempt: u32,
}

/// A token bucket refilled every millisecond, holding at most a tenth of a second's worth
/// (a partition's burst is not counted on).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    per_ms: f64,
    cap: f64,
}

impl Bucket {
    fn new(per_second: u32) -> Self {
        let per_ms = f64::from(per_second) / 1000.0;
        Self { tokens: per_ms * 100.0, per_ms, cap: per_ms * 100.0 }
    }
    fn refill(&mut self) {
        self.tokens = (self.tokens + self.per_ms).min(self.cap);
    }
    fn take(&mut self, n: f64) -> bool {
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// A small deterministic generator (xorshift), so runs repeat.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
}

/// Plays a scenario.
pub fn simulate(s: Scenario) -> Outcome {
    let count = s.shards.max(1);
    let shards = count as usize;
    let containers = s.containers.max(1) as usize;
    let mut units: Vec<u32> = (0..count).map(|i| s.units / count + u32::from(i < s.units % count)).collect();
    let mut writes = vec![Bucket::new(PARTITION_WCU); shards];
    let mut reads = vec![Bucket::new(PARTITION_RCU); shards];
    // What each container learned: shards found empty, and whether the sale is sold out.
    let mut known_empty = vec![vec![false; shards]; containers];
    let mut sold_out_known = vec![false; containers];
    let horizon = s.millis as usize + 2_000;
    let mut due: Vec<Vec<Request>> = vec![Vec::new(); horizon + 1];
    let mut served_at = vec![0u64; horizon + 1];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Outcome::default();
    let per_ms = f64::from(s.rate) / 1000.0;
    let mut owed = 0.0;
    let retry = |out: &mut Outcome, mut r: Request, now: usize, due: &mut Vec<Vec<Request>>| {
        out.throttled_attempts += 1;
        r.attempt += 1;
        if r.attempt >= SDK_ATTEMPTS {
            out.failed += 1;
            if out.sold_out_at.is_none() {
                out.failed_before_sold_out += 1;
            }
        } else {
            due[(now + (25usize << r.attempt)).min(horizon)].push(r);
        }
    };
    for now in 0..horizon {
        for b in writes.iter_mut().chain(reads.iter_mut()) {
            b.refill();
        }
        if now < s.millis as usize {
            owed += per_ms;
            while owed >= 1.0 {
                owed -= 1.0;
                out.arrived += 1;
                let container = (rng.next() as usize) % containers;
                due[now].push(Request { container, seed: rng.next(), step: 0, candidates: None, attempt: 0 });
            }
        }
        let mut work = std::mem::take(&mut due[now]);
        while let Some(mut r) = work.pop() {
            let c = r.container;
            if sold_out_known[c] {
                out.sold_out += 1;
                continue;
            }
            // The next shard to try: in this claim's own order, skipping shards this
            // container knows empty; after SHORTS_BEFORE_READ shorts (or none left to try),
            // a read of every shard.
            let next = match &r.candidates {
                None if r.step < SHORTS_BEFORE_READ => {
                    (0..count).map(|i| ((r.seed + r.step + i) % count) as usize).find(|shard| !known_empty[c][*shard])
                }
                None => None,
                Some(list) => list.iter().map(|s| *s as usize).find(|shard| !known_empty[c][*shard]),
            };
            if let Some(shard) = next {
                if !writes[shard].take(f64::from(CLAIM_WCU)) {
                    retry(&mut out, r, now, &mut due);
                    continue;
                }
                r.attempt = 0;
                if units[shard] > 0 {
                    units[shard] -= 1;
                    out.served += 1;
                    served_at[now] += 1;
                    if units.iter().all(|u| *u == 0) && out.sold_out_at.is_none() {
                        out.sold_out_at = Some(now as u32);
                    }
                } else {
                    known_empty[c][shard] = true;
                    r.step += 1;
                    due[now + 1].push(r);
                }
                continue;
            }
            // A read of every shard, eventually consistent (half an RCU each): a shard's
            // units only go down, so a lagging read never shows one empty too early.
            if !reads.iter().all(|b| b.tokens >= READ_RCU) {
                out.throttled_reads += 1;
                retry(&mut out, r, now, &mut due);
                continue;
            }
            for b in &mut reads {
                b.take(READ_RCU);
            }
            r.attempt = 0;
            for (shard, left) in units.iter().enumerate() {
                known_empty[c][shard] = *left == 0;
            }
            let candidates: Vec<u32> = (0..count).map(|i| (r.seed + i) % count).filter(|i| units[*i as usize] > 0).collect();
            if candidates.is_empty() {
                sold_out_known[c] = true;
                out.sold_out += 1;
                out.left_at_sold_out = out.left_at_sold_out.max(units.iter().sum());
                continue;
            }
            r.candidates = Some(candidates);
            due[now + 1].push(r);
        }
    }
    let mut window = 0u64;
    for (t, served) in served_at.iter().enumerate() {
        window += served;
        if t >= 1000 {
            window -= served_at[t - 1000];
        }
        out.peak_served_per_second = out.peak_served_per_second.max(window);
    }
    out
}

/// Shards a sale needs to serve `rate` claims a second at `utilisation` of each shard's capacity.
pub fn shards_for(rate: u32, utilisation: f64) -> u32 {
    (f64::from(rate) / (f64::from(SHARD_CLAIMS_PER_SECOND) * utilisation)).ceil() as u32
}

/// The model and a few scenarios at `rate`, as text.
pub fn report(rate: u32) -> String {
    let mut text = String::new();
    let needed = shards_for(rate, 0.7);
    let _ = writeln!(text, "DynamoDB capacity model of a flash sale ({rate} claims/s on one SKU)");
    let _ = writeln!(
        text,
        "  a shard item lives in one partition: {PARTITION_WCU} WCU/s; a claim costs it {CLAIM_WCU} WCU (transactional write), so {SHARD_CLAIMS_PER_SECOND} claims/s per shard"
    );
    let _ = writeln!(
        text,
        "  shards for {rate}/s at 70% of each shard's capacity: {needed} (one counter item: {SHARD_CLAIMS_PER_SECOND}/s)"
    );
    let _ = writeln!(
        text,
        "  {:>6} {:>7} {:>8} {:>8} {:>10} {:>9} {:>13} {:>13} {:>10} {:>15}",
        "shards",
        "units",
        "arrived",
        "served",
        "peak/s",
        "sold out",
        "failed:units",
        "failed:after",
        "throttled",
        "left@sold-out"
    );
    for (shards, units) in [(1, 10_000), (50, 10_000), (needed, 10_000), (needed, 100_000), (MAX_SIM_SHARDS, 100_000)] {
        let o = simulate(Scenario { rate, units, shards, millis: 3_000, containers: 1_500 });
        let left = if o.sold_out == 0 {
            "-".to_owned()
        } else {
            format!("{} ({:.3}%)", o.left_at_sold_out, 100.0 * f64::from(o.left_at_sold_out) / f64::from(units))
        };
        let _ = writeln!(
            text,
            "  {shards:>6} {units:>7} {:>8} {:>8} {:>10} {:>9} {:>13} {:>13} {:>10} {left:>15}",
            o.arrived,
            o.served,
            o.peak_served_per_second,
            o.sold_out,
            o.failed_before_sold_out,
            o.failed - o.failed_before_sold_out,
            o.throttled_attempts
        );
    }
    let _ = writeln!(
        text,
        "  (3 s of claims; failed:units = throttled past the SDK's 3 attempts while units were left; failed:after = the same once every unit was claimed, where a retry answers sold_out)"
    );
    let concurrency = u64::from(rate) * 30 / 1000;
    let _ = writeln!(text, "  what else must scale at {rate}/s (claims of about 30 ms each):");
    let _ = writeln!(
        text,
        "    Lambda: about {concurrency} concurrent flash-sale-claim invocations; set FlashSaleReservedConcurrency to that (the account's default quota is 1,000)"
    );
    let _ = writeln!(
        text,
        "    API Gateway: the account's 10,000 requests/s default quota must be raised past {rate}, and the claim route's FlashSaleClaimRateLimit with it"
    );
    let _ = writeln!(
        text,
        "    the rest of a claim's items (claim, customer, outbox) spread over the table: about {} WCU/s in all",
        u64::from(rate) * 6
    );
    let _ = writeln!(
        text,
        "    the claims' orders (order, marker) are made by allocate from the queued messages, off the claim's path: about {} WCU/s more, at the pace allocate's concurrency sets (the queue holds the burst)",
        u64::from(rate) * 6
    );
    text
}

/// The largest shard count a sale may have (`oms_domain::flash_sale::MAX_SHARDS`).
pub const MAX_SIM_SHARDS: u32 = oms_domain::flash_sale::MAX_SHARDS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_shards_serve_fifty_thousand_claims_a_second_and_report_sold_out_only_when_none_is_left() {
        let shards = shards_for(50_000, 0.7);
        let o = simulate(Scenario { rate: 50_000, units: 100_000, shards, millis: 3_000, containers: 1_500 });
        assert_eq!(o.served, 100_000, "{o:?}");
        assert_eq!(o.failed_before_sold_out, 0, "no claim fails while a unit is left: {o:?}");
        assert!(o.peak_served_per_second >= 45_000, "{o:?}");
        assert_eq!(o.left_at_sold_out, 0);
    }

    #[test]
    fn one_counter_item_caps_a_sale_near_five_hundred_claims_a_second() {
        let o = simulate(Scenario { rate: 50_000, units: 10_000, shards: 1, millis: 2_000, containers: 1_500 });
        assert!(o.peak_served_per_second <= 600, "{o:?}");
        assert!(o.failed > 0);
    }
}
