//! `oms bench recommend`: how well the offers (`oms_pricing::offers`, the index that
//! `GET /customers/{id}/offers` and `GET /customers/{id}/recommendations` answer from)
//! foresee each customer's next purchase, against the best sellers, on a seeded generated
//! history: hit rate at 10 on each customer's held-out last purchase of a SKU it never
//! bought before (`oms_pricing::hit_rate`).
//!
//! The history: 30 categories of 20 SKUs (popularity within a category falls off like
//! Zipf's law), each SKU with two companions (the case for a phone, the filter for a tea
//! pot); each customer likes two categories and, half of them, moves on to a third some
//! time in the year; each purchase is a companion of one of its last three (35 %), a SKU
//! of a category it likes now (40 %), or a best seller of the whole shop (25 %).
//!
//! Printed: the customers measured, and for the best sellers and the offers with a
//! customer's purchases weighted by recency at several half-lives (none; 30, 60 (what
//! production serves) and 120 days), the hits and the hit rate, with the index's build
//! time and the offers answered per second.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use oms_pricing::hit_rate::{evaluate, hold_out_last};
use oms_pricing::offers::HALF_LIFE_DAYS;
use oms_pricing::{OfferIndex, Purchase};

const CATEGORIES: usize = 30;
const PER_CATEGORY: usize = 20;
const PROVINCES: [&str; 6] = ["Zhejiang", "Guangdong", "Beijing", "Sichuan", "Jiangsu", "Hubei"];
/// Hit rate at this many offers.
const K: usize = 10;

fn sku(category: usize, rank: usize) -> String {
    format!("C{category:02}-{rank:02}")
}

/// A rank within `n` drawn with weight 1 / (rank + 1): Zipf's law.
fn zipf(rng: &mut StdRng, n: usize) -> usize {
    let total: f64 = (1..=n).map(|r| 1.0 / r as f64).sum();
    let mut pick = rng.random::<f64>() * total;
    for rank in 0..n {
        pick -= 1.0 / (rank + 1) as f64;
        if pick <= 0.0 {
            return rank;
        }
    }
    n - 1
}

/// The generated history of `customers`, seeded, and each SKU's category.
pub fn generate(customers: usize, seed: u64) -> (Vec<Purchase>, HashMap<String, String>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let skus = CATEGORIES * PER_CATEGORY;
    // Two companions per SKU: one in its own category, one in the next.
    let companions: Vec<[usize; 2]> = (0..skus)
        .map(|i| {
            let (category, rank) = (i / PER_CATEGORY, i % PER_CATEGORY);
            let own = category * PER_CATEGORY + (rank + 1 + rng.random_range(0..PER_CATEGORY - 1)) % PER_CATEGORY;
            let next = ((category + 1) % CATEGORIES) * PER_CATEGORY + rng.random_range(0..PER_CATEGORY);
            [own, next]
        })
        .collect();
    let name = |i: usize| sku(i / PER_CATEGORY, i % PER_CATEGORY);
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
    let mut history = Vec::new();
    for c in 0..customers {
        let customer = format!("cust-{c:06}");
        let province = PROVINCES[rng.random_range(0..PROVINCES.len())];
        let mut likes = [rng.random_range(0..CATEGORIES), rng.random_range(0..CATEGORIES)];
        let purchases = rng.random_range(3..=15);
        let moves_at = if rng.random_bool(0.5) { rng.random_range(1..purchases) } else { usize::MAX };
        let mut day = rng.random_range(0..120_i64);
        let mut recent: Vec<usize> = Vec::new();
        for p in 0..purchases {
            if p == moves_at {
                likes[rng.random_range(0..2)] = rng.random_range(0..CATEGORIES);
            }
            let roll = rng.random::<f64>();
            let item = if roll < 0.35 && !recent.is_empty() {
                let from = recent[recent.len() - 1 - rng.random_range(0..recent.len().min(3))];
                companions[from][rng.random_range(0..2)]
            } else if roll < 0.75 {
                likes[rng.random_range(0..2)] * PER_CATEGORY + zipf(&mut rng, PER_CATEGORY)
            } else {
                let category = zipf(&mut rng, CATEGORIES);
                category * PER_CATEGORY + zipf(&mut rng, PER_CATEGORY)
            };
            recent.push(item);
            history.push(Purchase {
                customer_id: customer.clone(),
                sku: name(item),
                quantity: 1 + u32::from(rng.random_bool(0.2)),
                unit_price: Decimal::new(rng.random_range(500..20_000), 2),
                purchased_at: start + Duration::days(day) + Duration::minutes(rng.random_range(0..1440)),
                province: province.to_owned(),
                city: String::new(),
                address: String::new(),
                merchant_id: None,
                currency: None,
            });
            day += rng.random_range(1..25);
        }
    }
    let categories = (0..skus).map(|i| (name(i), format!("category-{:02}", i / PER_CATEGORY))).collect();
    (history, categories)
}

pub fn run(customers: usize, seed: u64) -> anyhow::Result<()> {
    let (history, categories) = generate(customers, seed);
    let (train, held) = hold_out_last(&history);
    println!(
        "recommendations: {} purchases of {customers} customers, {} SKUs in {CATEGORIES} categories, seed {seed}; {} customers' last new SKU held out",
        history.len(),
        categories.len(),
        held.len()
    );
    let started = Instant::now();
    let index = OfferIndex::build(&train, &categories);
    let build_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let answered: usize = held.iter().map(|h| index.offers(&h.customer, None, h.at, K).len()).sum();
    let per_second = held.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
    println!("  index built in {build_seconds:.2} s; {per_second:.0} customers' offers/s ({answered} offers, one thread)");
    println!("  | ranking | hits at {K} | hit rate at {K} |");
    println!("  | --- | --- | --- |");
    let mut served = None;
    for half_life in [None, Some(30.0), Some(HALF_LIFE_DAYS), Some(120.0)] {
        let evaluation = evaluate(&history, &categories, K, half_life);
        if half_life.is_none() {
            println!("  | best sellers (baseline) | {} | {:.1} % |", evaluation.popular_hits, evaluation.popular_rate() * 100.0);
        }
        let label = match half_life {
            None => "co-occurrence, no recency".to_owned(),
            Some(days) if days == HALF_LIFE_DAYS => format!("co-occurrence, {days}-day half-life (served)"),
            Some(days) => format!("co-occurrence, {days}-day half-life"),
        };
        println!("  | {label} | {} | {:.1} % |", evaluation.offer_hits, evaluation.offer_rate() * 100.0);
        if half_life == Some(HALF_LIFE_DAYS) {
            served = Some(evaluation);
        }
    }
    if let Some(served) = served {
        println!("  served offers against the best sellers: {:.2}x", served.offer_rate() / served.popular_rate().max(1e-9));
    }
    Ok(())
}
