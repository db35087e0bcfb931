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
    for key in by_key.keys() {
        let key = IdempotencyKey::parse(format!("key-{key}")).expect("a key");
        let claim = s.flash_sales.claim_by_key(&sale.sale_id, &key).await.expect("claim_by_key failed").expect("the claim");
        let order = s.orders.get_order(&claim.order_id).await.expect("get_order failed").expect("every claim has its order");
        assert_eq!(order.external_id.as_str(), claim.claim_id.as_str());
    }
    assert_eq!(s.outbox.sent().await.len(), claims, "one allocation message per claim");
}
