//! Races of many claims for few units, shared by the conformance case and by the adapters'
//! own larger load tests.

use oms_domain::flash_sale::{ClaimId, IdempotencyKey};
use oms_domain::usecases::flash_sales::{self, ClaimError, NewClaim};
use oms_domain::CustomerId;
use std::collections::{BTreeMap, BTreeSet};

use crate::flash_sales::{address, created, ports, terms, units_left};
use crate::inventory::set;
use crate::Subject;

/// What a race of claims answered, checked against the store afterwards: exactly `units`
/// claimed, nobody past `limit`, every claim with its order, one claim per key, and sold
/// out answered only once no shard could serve a claim.
pub async fn claim_race(s: &Subject, units: u32, shards: u32, limit: u32, requests: usize, customers: usize) {
    set(s, "WH-1", "SKU-1", units + 10).await;
    let sale = created(s, terms(units, limit, shards)).await;
    let ports = ports(s);
    // Request i is customer i % customers; every fourth repeats the key of the request
    // before it (a client's retry), and the rest use keys of their own.
    let answers = crate::concurrency::race(requests, |i| {
        let ports = ports.clone();
        let sale_id = sale.sale_id.clone();
        let key_of = if i % 4 == 3 { i - 1 } else { i };
        let customer = format!("c-{}", key_of % customers);
        async move {
            let new = NewClaim {
                customer_id: CustomerId::parse(&customer).expect("a customer"),
                quantity: 1,
                idempotency_key: IdempotencyKey::parse(format!("key-{key_of}")).expect("a key"),
                shipping_address: Some(address()),
            };
            (key_of, customer, flash_sales::claim(&ports, &sale_id, new).await)
        }
    })
    .await;
    let mut by_key: BTreeMap<usize, ClaimId> = BTreeMap::new();
    let mut per_customer: BTreeMap<String, BTreeSet<ClaimId>> = BTreeMap::new();
    let mut sold_out = 0;
    for (key, customer, answer) in answers {
        match answer {
            Ok(claimed) => {
                let first = by_key.entry(key).or_insert_with(|| claimed.claim.claim_id.clone());
                assert_eq!(first, &claimed.claim.claim_id, "one key, one claim");
                per_customer.entry(customer).or_default().insert(claimed.claim.claim_id);
            }
            Err(ClaimError::SoldOut { units_left, .. }) => {
                assert_eq!(units_left, 0, "sold out answered while units remain");
                sold_out += 1;
            }
            Err(ClaimError::LimitExceeded { .. }) => {}
            Err(other) => panic!("a claim failed: {other}"),
        }
    }
    let claims: usize = per_customer.values().map(BTreeSet::len).sum();
    assert_eq!(claims, units as usize, "exactly the units are claimed ({sold_out} sold out)");
    assert!(per_customer.values().all(|c| c.len() <= limit as usize), "nobody past the limit");
    assert_eq!(units_left(s, &sale).await.iter().sum::<u32>(), 0);
    let levels = s.flash_sales.shard_levels(&sale).await.expect("shard_levels failed");
    assert_eq!(levels.iter().map(|l| l.claims as usize).sum::<usize>(), claims);
    assert_eq!(s.outbox.sent().await.len(), claims, "one message per claim, written with it");
    crate::flash_sales::make_claimed_orders(s).await;
    for key in by_key.keys() {
        let key = IdempotencyKey::parse(format!("key-{key}")).expect("a key");
        let claim = s.flash_sales.claim_by_key(&sale.sale_id, &key).await.expect("claim_by_key failed").expect("the claim");
        let order = s.orders.get_order(&claim.order_id).await.expect("get_order failed").expect("every claim has its order");
        assert_eq!(order.external_id.as_str(), claim.claim_id.as_str());
    }
}

/// `orders` orders of one unit each race for `units` units of one SKU spread over three
/// warehouses (each order tries them in its own turn, as a re-plan would): exactly `units`
/// are reserved. Then half the winners cancel while stock counts of the three warehouses
/// and the losers' second tries run at once: held is never negative nor above on hand,
/// held is what the holds hold, and the reconciliation finds no drift.
pub async fn ledger_race(s: &Subject, orders: usize, units: u32) {
    use oms_domain::ports::{ReleaseOutcome, ReserveOutcome};
    use oms_domain::reservation::HoldId;
    use oms_domain::OrderId;

    use crate::fixtures::{hold, line, order_id};

    const WAREHOUSES: [&str; 3] = ["WH-1", "WH-2", "WH-3"];
    let base: Vec<u32> = (0..3u32).map(|i| units / 3 + u32::from(i < units % 3)).collect();
    for (warehouse, count) in WAREHOUSES.iter().zip(&base) {
        set(s, warehouse, "SKU-R", *count).await;
    }
    let inventory = s.inventory.clone();
    let take = move |i: usize| {
        let inventory = inventory.clone();
        async move {
            let order = order_id();
            for turn in 0..WAREHOUSES.len() {
                let warehouse = WAREHOUSES[(i + turn) % WAREHOUSES.len()];
                match inventory.reserve(&order, &hold([line(warehouse, "SKU-R", 1)])).await.expect("reserve failed") {
                    ReserveOutcome::Reserved { hold_id } => return Some((order, hold_id)),
                    ReserveOutcome::Insufficient { .. } => {}
                    ReserveOutcome::AlreadyReserved => panic!("a fresh order already held stock"),
                }
            }
            None
        }
    };
    let won: Vec<(OrderId, HoldId)> = crate::concurrency::race(orders, take.clone()).await.into_iter().flatten().collect();
    assert_eq!(won.len(), units as usize, "exactly the units in stock are reserved");
    let levels = s.inventory.stock_of(&crate::fixtures::sku("SKU-R")).await.expect("stock_of failed");
    assert_eq!(levels.iter().map(|l| l.reserved).sum::<u32>(), units);
    assert!(levels.iter().all(|l| l.available == 0), "{levels:?}");

    // Cancels, counts and second tries, all at once.
    let cancels = won.len() / 2;
    let counts = 6;
    let retries = orders / 4;
    let to_cancel: Vec<(OrderId, HoldId)> = won[..cancels].to_vec();
    let inventory = s.inventory.clone();
    let base_counts = base.clone();
    let outcomes = crate::concurrency::race(cancels + counts + retries, move |i| {
        let inventory = inventory.clone();
        let take = take.clone();
        let cancel = to_cancel.get(i).cloned();
        let base_counts = base_counts.clone();
        async move {
            if let Some((order, hold_id)) = cancel {
                let released = inventory.release(&order, &hold_id).await.expect("release failed");
                assert!(matches!(released, ReleaseOutcome::Released(_)), "{released:?}");
                return (-1, None);
            }
            let i = i - cancels;
            if i < counts {
                let w = i % 3;
                let count = base_counts[w] + u32::try_from(i / 3).unwrap_or(0);
                let warehouse = crate::fixtures::warehouse_id(WAREHOUSES[w]);
                let _ = inventory
                    .set_on_hand(&warehouse, &crate::fixtures::merchant("m-1"), &crate::fixtures::sku("SKU-R"), count)
                    .await
                    .expect("set_on_hand failed");
                return (0, None);
            }
            (1, take(i).await)
        }
    })
    .await;
    let retried = outcomes.iter().filter(|(kind, won)| *kind == 1 && won.is_some()).count();
    let levels = s.inventory.stock_of(&crate::fixtures::sku("SKU-R")).await.expect("stock_of failed");
    assert!(levels.iter().all(|l| l.reserved <= l.on_hand), "{levels:?}");
    let reserved: u32 = levels.iter().map(|l| l.reserved).sum();
    assert_eq!(reserved as usize, won.len() - cancels + retried, "held is what the holds that stand hold");
    let holds = s.inventory.open_holds().await.expect("open_holds failed");
    assert_eq!(holds.iter().map(|h| h.quantity).sum::<u32>(), reserved);
    let report = crate::ledger::assert_no_drift(s).await;
    assert_eq!(report.stocks, 3);
}
