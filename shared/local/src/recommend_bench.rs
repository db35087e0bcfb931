//! `oms bench recommend`: how well the offers (`oms_pricing::offers`, the index that
//! `GET /customers/{id}/offers` and `GET /customers/{id}/recommendations` answer from)
//! foresee each customer's next purchase, against the best sellers, on a seeded generated
//! shop: hit rate at 10 on each customer's held-out last purchase of a SKU it never
//! bought before (`oms_pricing::hit_rate`), the index learning from what happened before
//! that purchase only.
//!
//! The history: 30 categories of 20 SKUs (popularity within a category falls off like
//! Zipf's law), each SKU with two companions (the case for a phone, the filter for a tea
//! pot); each customer likes two categories and, half of them, moves on to a third some
//! time in the year; each purchase is a companion of one of its last three kept purchases
//! (35 %), a SKU of a category it likes now (40 %), or a best seller of the whole shop
//! (25 %). Browsing: half the purchases viewed first, 30 % added to the cart first, and
//! after each purchase three views of its companions or of liked categories' SKUs. Returns:
//! one SKU in ten disappoints (40 % of its purchases come back, 4 % of the others'); a
//! customer buys none of a returned SKU's companions and, 60 % of the time, another SKU of
//! its category next.
//!
//! Printed: the customers measured, and for the best sellers, the offers learning from
//! orders only (with a customer's purchases weighted by recency at several half-lives:
//! none; 30, 60 and 120 days), from orders and browsing, and from orders, browsing and
//! returns (what production serves, at 60 days), the hits and the hit rate, with the
//! index's build time and the offers answered per second.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use oms_pricing::hit_rate::{evaluate, evaluate_with, hold_out_last};
use oms_pricing::offers::HALF_LIFE_DAYS;
use oms_pricing::signals::{Browse, Interest, Returned, Signals};
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

/// Of the SKUs, the share that disappoint (sent back often) and how often theirs and the
/// others' purchases are sent back.
const POOR_SHARE: f64 = 0.1;
const POOR_RETURNED: f64 = 0.4;
const FINE_RETURNED: f64 = 0.04;
/// The chance a purchase was viewed first, and added to the cart first.
const VIEWED_FIRST: f64 = 0.5;
const CARTED_FIRST: f64 = 0.3;
/// Views after each purchase of products it did not buy (a companion or a liked
/// category's), and the chance the next purchase replaces a returned one within its category.
const LOOKS_AROUND: usize = 3;
const REPLACES_RETURNED: f64 = 0.6;

/// A generated shop: its history, each SKU's category, and its customers' browsing and returns.
#[derive(Debug)]
pub struct Shop {
    pub history: Vec<Purchase>,
    pub categories: HashMap<String, String>,
    pub signals: Signals,
}

/// The generated history of `customers`, seeded: each SKU's category, and browsing (views
/// of what a customer goes on to buy, half the time, a cart add before it, 30 %, and
/// views of companions and liked categories after each purchase, more views than
/// purchases) and returns (10 % of SKUs disappoint and 40 % of their purchases come back,
/// 4 % of the others'; a customer does not buy a returned SKU's companions and, 60 % of
/// the time, buys another of its category next).
pub fn generate(customers: usize, seed: u64) -> Shop {
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
    let poor: Vec<bool> = (0..skus).map(|_| rng.random_bool(POOR_SHARE)).collect();
    let name = |i: usize| sku(i / PER_CATEGORY, i % PER_CATEGORY);
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
    let mut history = Vec::new();
    let mut signals = Signals::default();
    for c in 0..customers {
        let customer = format!("cust-{c:06}");
        let province = PROVINCES[rng.random_range(0..PROVINCES.len())];
        let mut likes = [rng.random_range(0..CATEGORIES), rng.random_range(0..CATEGORIES)];
        let purchases = rng.random_range(3..=15);
        let moves_at = if rng.random_bool(0.5) { rng.random_range(1..purchases) } else { usize::MAX };
        let mut day = rng.random_range(0..120_i64);
        let mut recent: Vec<usize> = Vec::new();
        let mut replacing: Option<usize> = None;
        for p in 0..purchases {
            if p == moves_at {
                likes[rng.random_range(0..2)] = rng.random_range(0..CATEGORIES);
            }
            let roll = rng.random::<f64>();
            let item = if let Some(returned) = replacing.take() {
                let category = returned / PER_CATEGORY;
                category * PER_CATEGORY + (returned % PER_CATEGORY + 1 + zipf(&mut rng, PER_CATEGORY - 1)) % PER_CATEGORY
            } else if roll < 0.35 && !recent.is_empty() {
                let from = recent[recent.len() - 1 - rng.random_range(0..recent.len().min(3))];
                companions[from][rng.random_range(0..2)]
            } else if roll < 0.75 {
                likes[rng.random_range(0..2)] * PER_CATEGORY + zipf(&mut rng, PER_CATEGORY)
            } else {
                let category = zipf(&mut rng, CATEGORIES);
                category * PER_CATEGORY + zipf(&mut rng, PER_CATEGORY)
            };
            let at = start + Duration::days(day) + Duration::minutes(rng.random_range(0..1440));
            let quantity = 1 + u32::from(rng.random_bool(0.2));
            let mut browse = |sku: usize, interest: Interest, at: DateTime<Utc>| {
                signals.browsing.push(Browse { customer_id: customer.clone(), sku: name(sku), interest, at });
            };
            if rng.random_bool(VIEWED_FIRST) {
                browse(item, Interest::View, at - Duration::minutes(rng.random_range(10..4320)));
            }
            if rng.random_bool(CARTED_FIRST) {
                browse(item, Interest::CartAdd, at - Duration::minutes(rng.random_range(1..60)));
            }
            for _ in 0..LOOKS_AROUND {
                let seen = if rng.random_bool(0.5) {
                    companions[item][rng.random_range(0..2)]
                } else {
                    likes[rng.random_range(0..2)] * PER_CATEGORY + zipf(&mut rng, PER_CATEGORY)
                };
                browse(seen, Interest::View, at + Duration::minutes(rng.random_range(10..14_400)));
            }
            let sent_back = rng.random_bool(if poor[item] { POOR_RETURNED } else { FINE_RETURNED });
            if sent_back {
                signals.returns.push(Returned {
                    customer_id: customer.clone(),
                    sku: name(item),
                    units: quantity,
                    at: at + Duration::days(rng.random_range(3..10)),
                });
                if rng.random_bool(REPLACES_RETURNED) {
                    replacing = Some(item);
                }
            } else {
                recent.push(item);
            }
            history.push(Purchase {
                customer_id: customer.clone(),
                sku: name(item),
                quantity,
                unit_price: Decimal::new(rng.random_range(500..20_000), 2),
                purchased_at: at,
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
    Shop { history, categories, signals }
}

pub fn run(customers: usize, seed: u64) -> anyhow::Result<()> {
    let Shop { history, categories, signals } = generate(customers, seed);
    let (train, held) = hold_out_last(&history);
    println!(
        "recommendations: {} purchases of {customers} customers, {} SKUs in {CATEGORIES} categories, {} browsing events, {} returns, seed {seed}; {} customers' last new SKU held out",
        history.len(),
        categories.len(),
        signals.browsing.len(),
        signals.returns.len(),
        held.len()
    );
    let started = Instant::now();
    let index = OfferIndex::build_from(&train, &signals, &categories, Some(HALF_LIFE_DAYS));
    let build_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let answered: usize = held.iter().map(|h| index.offers(&h.customer, None, h.at, K).len()).sum();
    let per_second = held.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
    println!("  index (orders, browsing and returns) built in {build_seconds:.2} s; {per_second:.0} customers' offers/s ({answered} offers, one thread)");
    println!("  | ranking | hits at {K} | hit rate at {K} |");
    println!("  | --- | --- | --- |");
    let row = |label: &str, hits: usize, rate: f64| println!("  | {label} | {hits} | {:.1} % |", rate * 100.0);
    for half_life in [None, Some(30.0), Some(HALF_LIFE_DAYS), Some(120.0)] {
        let evaluation = evaluate(&history, &categories, K, half_life);
        if half_life.is_none() {
            row("best sellers (baseline)", evaluation.popular_hits, evaluation.popular_rate());
        }
        let label = match half_life {
            None => "orders only, no recency".to_owned(),
            Some(days) => format!("orders only, {days}-day half-life"),
        };
        row(&label, evaluation.offer_hits, evaluation.offer_rate());
    }
    let browsing = Signals { browsing: signals.browsing.clone(), returns: Vec::new() };
    let with_browsing = evaluate_with(&history, &browsing, &categories, K, Some(HALF_LIFE_DAYS));
    row("orders + browsing", with_browsing.offer_hits, with_browsing.offer_rate());
    let served = evaluate_with(&history, &signals, &categories, K, Some(HALF_LIFE_DAYS));
    row("orders + browsing + returns (served)", served.offer_hits, served.offer_rate());
    println!("  served offers against the best sellers: {:.2}x", served.offer_rate() / served.popular_rate().max(1e-9));
    Ok(())
}
