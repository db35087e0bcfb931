//! Flash sales: a sale sets its units aside all or nothing; a claim is one atomic write
//! whose conditions (the idempotency key, the customer's limit, the shard's units) fail
//! as outcomes that write nothing; and many claims racing for few units take exactly the
//! units there are, each with its order, through the one claim use case.

use chrono::{Duration, Utc};
use oms_domain::flash_sale::{Claim, ClaimId, FlashSale, IdempotencyKey, SaleId, SaleTerms};
use oms_domain::messages::{AllocateOrder, Outgoing};
use oms_domain::order::{Address, Channel, OrderStatus};
use oms_domain::ports::{ClaimOutcome, CreateSaleOutcome, Ports, Queue, StoreError, SystemClock};
use oms_domain::usecases::flash_sales::{self, claim_order, ClaimError, NewClaim};
use oms_domain::{Currency, CustomerId, OrderId};
use rust_decimal::Decimal;
use std::sync::Arc;

use crate::fixtures::{merchant, sku};
use crate::inventory::{level, set, stock};
use crate::Subject;

/// Terms of a sale of `units` of SKU-1 over `shards`, open for the next hour.
pub(crate) fn terms(units: u32, limit: u32, shards: u32) -> SaleTerms {
    let now = Utc::now();
    SaleTerms {
        sku: sku("SKU-1"),
        units,
        per_customer_limit: limit,
        starts_at: now - Duration::minutes(1),
        ends_at: now + Duration::hours(1),
        shards,
        price: Decimal::new(990, 2),
        currency: Currency::parse("CNY").expect("a currency"),
    }
}

/// A sale of m-1's units planned against the stock stored now.
async fn planned(s: &Subject, terms: SaleTerms) -> FlashSale {
    let stock = stock(s, "SKU-1").await;
    FlashSale::plan(SaleId::generate(), merchant("m-1"), terms, &stock, Utc::now()).expect("enough stock for the sale")
}

/// A sale stored, insisting that it is created.
pub(crate) async fn created(s: &Subject, terms: SaleTerms) -> FlashSale {
    let sale = planned(s, terms).await;
    assert_eq!(s.flash_sales.create_sale(&sale).await.expect("create_sale failed"), CreateSaleOutcome::Created);
    sale
}

fn claim_of(sale: &FlashSale, key: &str, customer: &str, quantity: u32, shard: u32) -> Claim {
    Claim {
        claim_id: ClaimId::generate(),
        sale_id: sale.sale_id.clone(),
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
        customer_id: CustomerId::parse(customer).expect("a customer"),
        quantity,
        order_id: OrderId::generate(),
        shard,
        claimed_at: Utc::now(),
    }
}

pub(crate) fn address() -> Address {
    Address {
        name: Some("Li Lei".into()),
        line1: "1 West Lake Rd".into(),
        line2: None,
        city: "Hangzhou".into(),
        province: Some("Zhejiang".into()),
        postal_code: None,
        country: "CN".into(),
    }
}

/// The claim written to the store with its order, as the use case builds it.
async fn store_claim(s: &Subject, sale: &FlashSale, claim: &Claim) -> ClaimOutcome {
    let (order, send) = claim_order(sale, claim, Some(address()), Utc::now()).expect("the claim's order");
    s.flash_sales.claim(claim, sale.terms.per_customer_limit, &order, &send).await.expect("claim failed")
}

pub(crate) async fn units_left(s: &Subject, sale: &FlashSale) -> Vec<u32> {
    s.flash_sales.shard_levels(sale).await.expect("shard_levels failed").iter().map(|l| l.units_left).collect()
}

pub async fn a_new_sale_sets_its_units_aside_and_reads_back_whole(s: Subject) {
    set(&s, "WH-1", "SKU-1", 30).await;
    let sale = created(&s, terms(12, 1, 4)).await;
    assert_eq!(s.flash_sales.get_sale(&sale.sale_id).await.expect("get_sale failed"), Some(sale.clone()));
    assert_eq!(units_left(&s, &sale).await, [3, 3, 3, 3]);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 30, 12)], "on hand = available + held");
    assert_eq!(s.flash_sales.get_sale(&SaleId::generate()).await.expect("get_sale failed"), None);
}

pub async fn a_sale_short_of_stock_is_insufficient_and_changes_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    set(&s, "WH-2", "SKU-1", 10).await;
    let sale = planned(&s, terms(15, 1, 3)).await;
    // Another order takes WH-2's units between the plan and the write.
    let taken = crate::fixtures::hold([crate::fixtures::line("WH-2", "SKU-1", 8)]);
    crate::fixtures::reserved(s.inventory.reserve(&OrderId::generate(), &taken).await.expect("reserve failed"));
    let outcome = s.flash_sales.create_sale(&sale).await.expect("create_sale failed");
    assert!(matches!(outcome, CreateSaleOutcome::Insufficient { available: 2, .. }), "{outcome:?}");
    assert_eq!(s.flash_sales.get_sale(&sale.sale_id).await.expect("get_sale failed"), None);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0), level("WH-2", "SKU-1", 10, 8)]);
}

pub async fn a_claim_takes_its_shards_units_and_stores_its_order_and_message_with_it(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(4, 2, 2)).await;
    let claim = claim_of(&sale, "k-1", "c-1", 2, 1);
    assert_eq!(store_claim(&s, &sale, &claim).await, ClaimOutcome::Claimed);
    assert_eq!(units_left(&s, &sale).await, [2, 0]);
    let levels = s.flash_sales.shard_levels(&sale).await.expect("shard_levels failed");
    assert_eq!(levels.iter().map(|l| l.claims).collect::<Vec<_>>(), [0, 1]);
    let key = IdempotencyKey::parse("k-1").expect("a key");
    assert_eq!(s.flash_sales.claim_by_key(&sale.sale_id, &key).await.expect("claim_by_key failed"), Some(claim.clone()));
    let order = s.orders.get_order(&claim.order_id).await.expect("get_order failed").expect("the claim's order");
    assert_eq!(
        (order.channel, order.external_id.as_str(), order.status),
        (Channel::FlashSale, claim.claim_id.as_str(), OrderStatus::Received)
    );
    assert_eq!(order.lines[0].quantity, 2);
    assert_eq!(s.outbox.sent().await, vec![Outgoing::of(&AllocateOrder { order_id: claim.order_id.clone() })]);
}

pub async fn the_same_idempotency_key_again_is_the_first_claim_and_writes_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(5, 3, 1)).await;
    let first = claim_of(&sale, "k-1", "c-1", 1, 0);
    assert_eq!(store_claim(&s, &sale, &first).await, ClaimOutcome::Claimed);
    let again = claim_of(&sale, "k-1", "c-1", 1, 0);
    assert_eq!(store_claim(&s, &sale, &again).await, ClaimOutcome::Duplicate(Box::new(first.clone())));
    assert_eq!(units_left(&s, &sale).await, [4]);
    assert_eq!(s.orders.get_order(&again.order_id).await.expect("get_order failed"), None);
    assert_eq!(s.outbox.sent().await.len(), 1, "one message, the first claim's");
}

pub async fn a_claim_past_the_customers_limit_writes_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(10, 1, 2)).await;
    assert_eq!(store_claim(&s, &sale, &claim_of(&sale, "k-1", "c-1", 1, 0)).await, ClaimOutcome::Claimed);
    let over = claim_of(&sale, "k-2", "c-1", 1, 1);
    assert_eq!(store_claim(&s, &sale, &over).await, ClaimOutcome::LimitExceeded { claimed: 1 });
    assert_eq!(units_left(&s, &sale).await, [4, 5]);
    assert_eq!(s.orders.get_order(&over.order_id).await.expect("get_order failed"), None);
    assert_eq!(store_claim(&s, &sale, &claim_of(&sale, "k-3", "c-2", 1, 1)).await, ClaimOutcome::Claimed, "another customer");
}

pub async fn a_claim_from_a_short_shard_writes_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(3, 2, 3)).await;
    assert_eq!(store_claim(&s, &sale, &claim_of(&sale, "k-1", "c-1", 1, 0)).await, ClaimOutcome::Claimed);
    let short = claim_of(&sale, "k-2", "c-2", 1, 0);
    assert_eq!(store_claim(&s, &sale, &short).await, ClaimOutcome::ShardShort { units_left: 0 });
    let two = claim_of(&sale, "k-3", "c-3", 2, 1);
    assert_eq!(store_claim(&s, &sale, &two).await, ClaimOutcome::ShardShort { units_left: 1 });
    assert_eq!(units_left(&s, &sale).await, [0, 1, 1]);
    assert_eq!(s.orders.get_order(&short.order_id).await.expect("get_order failed"), None);
    let key = IdempotencyKey::parse("k-2").expect("a key");
    assert_eq!(s.flash_sales.claim_by_key(&sale.sale_id, &key).await.expect("claim_by_key failed"), None);
}

/// The ports of the subject, for the claim use case (which queues nothing itself).
pub(crate) fn ports(s: &Subject) -> Ports {
    Ports {
        orders: s.orders.clone(),
        warehouses: s.warehouses.clone(),
        inventory: s.inventory.clone(),
        alerts: s.alerts.clone(),
        sku_mappings: s.sku_mappings.clone(),
        catalogue: s.catalogue.clone(),
        rates: s.rates.clone(),
        flash_sales: s.flash_sales.clone(),
        supply: s.supply.clone(),
        shipments: s.shipments.clone(),
        sales: s.sales.clone(),
        queue: Arc::new(NoQueue),
        clock: Arc::new(SystemClock),
        consignments: s.consignments.clone(),
    }
}

struct NoQueue;

#[async_trait::async_trait]
impl Queue for NoQueue {
    async fn send(&self, message: &Outgoing) -> Result<(), StoreError> {
        Err(StoreError::msg(format!("a claim sends its messages with its write, never apart: {}", message.kind)))
    }
}

pub async fn eighty_concurrent_claims_with_retries_for_twenty_units_take_exactly_twenty_each_with_its_order(s: Subject) {
    crate::races::claim_race(&s, 20, 4, 1, 80, 60).await;
}

pub async fn concurrent_claims_of_one_customer_never_pass_the_limit(s: Subject) {
    set(&s, "WH-1", "SKU-1", 50).await;
    let sale = created(&s, terms(40, 2, 4)).await;
    let ports = ports(&s);
    let answers = crate::concurrency::race(20, |i| {
        let (ports, sale_id) = (ports.clone(), sale.sale_id.clone());
        async move {
            let new = NewClaim {
                customer_id: CustomerId::parse("c-1").expect("a customer"),
                quantity: 1,
                idempotency_key: IdempotencyKey::parse(format!("key-{i}")).expect("a key"),
                shipping_address: None,
            };
            flash_sales::claim(&ports, &sale_id, new).await
        }
    })
    .await;
    let won = answers.iter().filter(|a| a.is_ok()).count();
    let refused = answers.iter().filter(|a| matches!(a, Err(ClaimError::LimitExceeded { .. }))).count();
    assert_eq!((won, refused), (2, 18));
    assert_eq!(units_left(&s, &sale).await.iter().sum::<u32>(), 38);
    let order = answers.iter().find_map(|a| a.as_ref().ok()).expect("a claim");
    let order = s.orders.get_order(&order.claim.order_id).await.expect("get_order failed").expect("its order");
    assert_eq!(order.status, OrderStatus::OnHold, "no address: held for one");
}
