//! Flash sales: a sale sets its units aside all or nothing; a claim is one atomic write
//! whose conditions (the idempotency key, the customer's limit, the shard's units) fail
//! as outcomes that write nothing; and many claims racing for few units take exactly the
//! units there are, each with the message that makes its order (and its order once that
//! message is consumed), through the one claim use case.

use chrono::{Duration, Utc};
use oms_domain::flash_sale::{Claim, ClaimId, FlashSale, IdempotencyKey, SaleId, SaleTerms};
use oms_domain::ledger::{HoldRef, LedgerKind};
use oms_domain::messages::{decode, AllocateOrder, ClaimOrder, Outgoing};
use oms_domain::order::{Address, Channel, OrderStatus};
use oms_domain::ports::{ClaimOutcome, CloseSaleOutcome, CreateSaleOutcome, Ports, Queue, StoreError, SystemClock};
use oms_domain::usecases::flash_sales::{self, make_claim_order, ClaimError, NewClaim};
use oms_domain::{Currency, CustomerId, OrderId};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
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

/// The message a claim is written with, as the use case builds it: the one that makes its order.
fn claim_message(claim: &Claim, address: Option<Address>) -> Vec<Outgoing> {
    let made = ClaimOrder { claim: claim.clone(), shipping_address: address };
    vec![Outgoing::of(&AllocateOrder { order_id: claim.order_id.clone(), claim: Some(made) })]
}

/// The claim written to the store with its message, as the use case builds it.
async fn store_claim(s: &Subject, sale: &FlashSale, claim: &Claim) -> ClaimOutcome {
    let send = claim_message(claim, Some(address()));
    s.flash_sales.claim(claim, sale.terms.per_customer_limit, &send).await.expect("claim failed")
}

/// Makes the order of every claim whose message was sent so far, as the allocate queue's
/// consumer does first (again for a message made before: it makes nothing twice).
pub(crate) async fn make_claimed_orders(s: &Subject) {
    let ports = ports(s);
    for sent in s.outbox.sent().await {
        let Ok(AllocateOrder { claim: Some(made), .. }) = decode::<AllocateOrder>(&sent.body) else { continue };
        assert!(make_claim_order(&ports, &made).await.expect("make_claim_order failed"), "the claim's sale exists");
    }
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
    assert_eq!(s.outbox.sent().await, claim_message(&claim, Some(address())), "the claim's message, written with it");
    assert_eq!(s.orders.get_order(&claim.order_id).await.expect("get_order failed"), None, "made from the message");
    make_claimed_orders(&s).await;
    make_claimed_orders(&s).await;
    let order = s.orders.get_order(&claim.order_id).await.expect("get_order failed").expect("the claim's order");
    assert_eq!(
        (order.channel, order.external_id.as_str(), order.status),
        (Channel::FlashSale, claim.claim_id.as_str(), OrderStatus::Received)
    );
    assert_eq!(order.lines[0].quantity, 2);
    assert_eq!(order.allocation.and_then(|a| a.claimed_from).map(|c| c.shard), Some(1), "planned from its shard");
}

pub async fn the_same_idempotency_key_again_is_the_first_claim_and_writes_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(5, 3, 1)).await;
    let first = claim_of(&sale, "k-1", "c-1", 1, 0);
    assert_eq!(store_claim(&s, &sale, &first).await, ClaimOutcome::Claimed);
    let again = claim_of(&sale, "k-1", "c-1", 1, 0);
    assert_eq!(store_claim(&s, &sale, &again).await, ClaimOutcome::Duplicate(Box::new(first.clone())));
    assert_eq!(units_left(&s, &sale).await, [4]);
    assert_eq!(s.outbox.sent().await, claim_message(&first, Some(address())), "one message, the first claim's");
}

pub async fn a_claim_past_the_customers_limit_writes_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(10, 1, 2)).await;
    assert_eq!(store_claim(&s, &sale, &claim_of(&sale, "k-1", "c-1", 1, 0)).await, ClaimOutcome::Claimed);
    let over = claim_of(&sale, "k-2", "c-1", 1, 1);
    assert_eq!(store_claim(&s, &sale, &over).await, ClaimOutcome::LimitExceeded { claimed: 1 });
    assert_eq!(units_left(&s, &sale).await, [4, 5]);
    assert_eq!(s.outbox.sent().await.len(), 1, "no message for the refused claim");
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
    assert_eq!(s.outbox.sent().await.len(), 1, "no message for the refused claims");
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
        auctions: s.auctions.clone(),
        group_buys: s.group_buys.clone(),
        rentals: s.rentals.clone(),
        reviews: s.reviews.clone(),
        repairs: s.repairs.clone(),
        returns: s.returns.clone(),
        merchants: s.merchants.clone(),
        storefronts: s.storefronts.clone(),
        browsing: s.browsing.clone(),
        products: s.products.clone(),
        rfqs: s.rfqs.clone(),
        buyer_requests: s.buyer_requests.clone(),
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
    make_claimed_orders(&s).await;
    let order = answers.iter().find_map(|a| a.as_ref().ok()).expect("a claim");
    let order = s.orders.get_order(&order.claim.order_id).await.expect("get_order failed").expect("its order");
    assert_eq!(order.status, OrderStatus::OnHold, "no address: held for one");
}

/// The sale's `ends_at` and a second: a moment the sale has ended.
fn after_end(sale: &FlashSale) -> chrono::DateTime<Utc> {
    sale.terms.ends_at + Duration::seconds(1)
}

/// `(warehouse, held delta)` of the ledger's releases of the sale's set-aside.
async fn sale_releases(s: &Subject, sale: &FlashSale) -> Vec<(String, i64)> {
    let hold = Some(HoldRef::flash_sale(&sale.sale_id));
    let entries = crate::ledger::entries(s, "SKU-1").await;
    entries
        .iter()
        .filter(|e| e.kind == LedgerKind::Release && e.hold == hold)
        .map(|e| (e.warehouse.to_string(), e.delta_held))
        .collect()
}

async fn set_aside_of(s: &Subject) -> Vec<(String, i64)> {
    let figures = s.inventory.stock_figures().await.expect("stock_figures failed");
    let mut found: Vec<(String, i64)> =
        figures.iter().filter(|f| f.sku.as_str() == "SKU-1").map(|f| (f.warehouse.to_string(), f.set_aside)).collect();
    found.sort();
    found
}

pub async fn an_ended_sale_closes_once_giving_exactly_its_unclaimed_units_back_to_stock(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    set(&s, "WH-2", "SKU-1", 6).await;
    // 10 units from WH-1 and 4 from WH-2, two shards each.
    let sale = created(&s, terms(14, 1, 4)).await;
    assert_eq!(units_left(&s, &sale).await, [5, 5, 2, 2]);
    assert_eq!(store_claim(&s, &sale, &claim_of(&sale, "k-1", "c-1", 1, 0)).await, ClaimOutcome::Claimed);
    assert_eq!(store_claim(&s, &sale, &claim_of(&sale, "k-2", "c-2", 1, 2)).await, ClaimOutcome::Claimed);
    let before = vec![level("WH-1", "SKU-1", 10, 10), level("WH-2", "SKU-1", 6, 4)];
    assert_eq!(stock(&s, "SKU-1").await, before);

    // Not over yet: nothing changes, and it is not listed as ended.
    let early = s.flash_sales.close_sale(&sale, Utc::now()).await.expect("close_sale failed");
    assert_eq!(early, CloseSaleOutcome::NotEnded);
    assert_eq!(stock(&s, "SKU-1").await, before);
    assert!(s.flash_sales.ended_open_sales(Utc::now(), 10).await.expect("ended_open_sales failed").is_empty());
    let listed = s.flash_sales.ended_open_sales(after_end(&sale), 10).await.expect("ended_open_sales failed");
    assert_eq!(listed, std::slice::from_ref(&sale.sale_id));
    assert_eq!(s.flash_sales.sale_closing(&sale.sale_id).await.expect("sale_closing failed"), None);

    let closed = s.flash_sales.close_sale(&sale, after_end(&sale)).await.expect("close_sale failed");
    let CloseSaleOutcome::Closed(closing) = closed else { panic!("the sale did not close: {closed:?}") };
    assert_eq!(closing.units_returned, 12, "every unit not claimed");
    assert_eq!(units_left(&s, &sale).await, [0, 0, 0, 0]);
    // The two claimed units stay set aside for their claims' orders; the rest is available.
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 1), level("WH-2", "SKU-1", 6, 1)]);
    assert_eq!(set_aside_of(&s).await, [("WH-1".to_owned(), 1), ("WH-2".to_owned(), 1)]);
    assert_eq!(sale_releases(&s, &sale).await, [("WH-1".to_owned(), -9), ("WH-2".to_owned(), -3)]);
    assert_eq!(s.flash_sales.sale_closing(&sale.sale_id).await.expect("sale_closing failed"), Some(closing));
    crate::ledger::assert_no_drift(&s).await;

    // A second close does nothing and says so; the sale is no longer listed.
    let again = s.flash_sales.close_sale(&sale, after_end(&sale)).await.expect("close_sale failed");
    assert_eq!(again, CloseSaleOutcome::AlreadyClosed(closing));
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 1), level("WH-2", "SKU-1", 6, 1)]);
    assert_eq!(sale_releases(&s, &sale).await.len(), 2);
    assert!(s.flash_sales.ended_open_sales(after_end(&sale), 10).await.expect("ended_open_sales failed").is_empty());
    // A late claim finds nothing to take.
    let late = claim_of(&sale, "k-3", "c-3", 1, 1);
    assert_eq!(store_claim(&s, &sale, &late).await, ClaimOutcome::ShardShort { units_left: 0 });
    let key = IdempotencyKey::parse("k-3").expect("a key");
    assert_eq!(s.flash_sales.claim_by_key(&sale.sale_id, &key).await.expect("claim_by_key failed"), None);
}

pub async fn the_sweep_closes_an_ended_sale_and_a_claim_expiring_after_gives_its_unit_to_stock(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(5, 1, 1)).await;
    let claim = claim_of(&sale, "k-1", "c-1", 1, 0);
    assert_eq!(store_claim(&s, &sale, &claim).await, ClaimOutcome::Claimed);
    make_claimed_orders(&s).await;
    // The claim's order holds its unit from the set-aside and waits, unpaid.
    let mut order = s.orders.get_order(&claim.order_id).await.expect("get_order failed").expect("the claim's order");
    let plan = oms_domain::reservation::Reservation::new(order.allocation.clone().expect("a plan").lines);
    let _ = crate::fixtures::reserved(s.inventory.hold_set_aside(&order.order_id, &plan).await.expect("hold_set_aside failed"));
    order.transition(OrderStatus::Allocated, Utc::now(), "planned").expect("a valid move");
    order.transition(OrderStatus::Reserved, Utc::now(), "1 unit held").expect("a valid move");
    let updated = s.orders.update_order(&order).await.expect("update_order failed");
    assert!(matches!(updated, oms_domain::ports::UpdateOutcome::Updated { .. }), "{updated:?}");
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 5)]);

    // Past the sale's end and the unpaid hold's time: one sweep closes the sale and expires
    // the claim's order.
    let later = after_end(&sale) + Duration::hours(1);
    let queue = Arc::new(crate::payments::Kept::default());
    let limits = oms_domain::usecases::sweep::SweepLimits::default();
    let report = oms_domain::usecases::sweep::sweep(&crate::payments::ports_at(&s, later, queue.clone()), &limits)
        .await
        .expect("sweep failed");
    let closed = oms_domain::usecases::flash_sales::ClosedSale { sale_id: sale.sale_id.clone(), units_returned: 4 };
    assert_eq!(report.sales_closed, [closed]);
    assert_eq!(report.expired, std::slice::from_ref(&claim.order_id));
    // Every unit is back in available stock: the 4 unclaimed by the close, the claimed one
    // by its expiry (never back into the closed sale's shard).
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 0)]);
    assert_eq!(units_left(&s, &sale).await, [0]);
    assert_eq!(set_aside_of(&s).await, [("WH-1".to_owned(), 0)]);
    let entries = crate::ledger::entries(&s, "SKU-1").await;
    let expired = entries.iter().find(|e| e.kind == LedgerKind::Expire).expect("the claim's expiry");
    assert_eq!((expired.delta_held, expired.hold.clone()), (-1, Some(HoldRef::order(&claim.order_id))));
    assert_eq!(sale_releases(&s, &sale).await, [("WH-1".to_owned(), -4)]);
    let closing = s.flash_sales.sale_closing(&sale.sale_id).await.expect("sale_closing failed").expect("closed");
    assert_eq!(closing.units_returned, 4);
    crate::ledger::assert_no_drift(&s).await;

    // The next sweep has no sale left to close.
    let again = oms_domain::usecases::sweep::sweep(&crate::payments::ports_at(&s, later, queue), &limits).await;
    assert!(again.expect("sweep failed").sales_closed.is_empty());
}

/// What a racer of the close race did.
#[derive(Debug)]
enum Raced {
    Claim(ClaimOutcome),
    Close(CloseSaleOutcome),
}

pub async fn late_claims_racing_the_close_never_take_a_released_unit_and_no_unit_is_released_twice(s: Subject) {
    set(&s, "WH-1", "SKU-1", 20).await;
    set(&s, "WH-2", "SKU-1", 20).await;
    // 15 units from each warehouse over 6 shards; 12 claims (written straight to the store,
    // as a claim that passed the window check just before the end would be) race 3 closes.
    let sale = created(&s, terms(30, 1, 6)).await;
    let end = after_end(&sale);
    let answers = crate::concurrency::race(15, |i| {
        let (s, sale) = (s.clone(), sale.clone());
        async move {
            if i % 5 == 4 {
                return Raced::Close(s.flash_sales.close_sale(&sale, end).await.expect("close_sale failed"));
            }
            let shard = u32::try_from(i % 6).expect("a shard");
            let claim = claim_of(&sale, &format!("k-{i}"), &format!("c-{i}"), 1, shard);
            Raced::Claim(store_claim(&s, &sale, &claim).await)
        }
    })
    .await;
    let claimed = answers.iter().filter(|a| matches!(a, Raced::Claim(ClaimOutcome::Claimed))).count();
    let late = answers.iter().filter(|a| matches!(a, Raced::Claim(ClaimOutcome::ShardShort { units_left: 0 }))).count();
    assert_eq!(claimed + late, 12, "a claim either takes a unit or finds its shard emptied: {answers:?}");
    let closings: Vec<_> = answers
        .iter()
        .filter_map(|a| match a {
            Raced::Close(CloseSaleOutcome::Closed(c)) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(closings.len(), 1, "exactly one close gives units back: {answers:?}");
    let returned = closings[0].units_returned;
    let others = answers.iter().filter(|a| matches!(a, Raced::Close(CloseSaleOutcome::AlreadyClosed(c)) if c == closings[0]));
    assert_eq!(others.count(), 2, "the other closes see the first one's figures");
    assert_eq!(claimed as u64 + returned, 30, "every unit is claimed or returned, none both");
    assert_eq!(units_left(&s, &sale).await.iter().sum::<u32>(), 0);
    let held: u32 = stock(&s, "SKU-1").await.iter().map(|l| l.reserved).sum();
    assert_eq!(held as usize, claimed, "only the claimed units stay set aside");
    let released: i64 = sale_releases(&s, &sale).await.iter().map(|(_, q)| -q).sum();
    assert_eq!(released, i64::try_from(returned).expect("a count"), "released once");
    crate::ledger::assert_no_drift(&s).await;
}

pub async fn a_sale_of_more_shards_than_one_write_holds_closes_whole(s: Subject) {
    for warehouse in ["WH-1", "WH-2", "WH-3"] {
        set(&s, warehouse, "SKU-1", 50).await;
    }
    // 150 shards of one unit, 50 per warehouse: more than one DynamoDB transaction holds.
    let sale = created(&s, terms(150, 1, 150)).await;
    assert_eq!(sale.shards.len(), 150);
    assert_eq!(store_claim(&s, &sale, &claim_of(&sale, "k-1", "c-1", 1, 0)).await, ClaimOutcome::Claimed);
    assert_eq!(store_claim(&s, &sale, &claim_of(&sale, "k-2", "c-2", 1, 149)).await, ClaimOutcome::Claimed);
    let closed = s.flash_sales.close_sale(&sale, after_end(&sale)).await.expect("close_sale failed");
    let CloseSaleOutcome::Closed(closing) = closed else { panic!("the sale did not close: {closed:?}") };
    assert_eq!(closing.units_returned, 148);
    assert!(units_left(&s, &sale).await.iter().all(|&u| u == 0));
    let reserved: Vec<u32> = stock(&s, "SKU-1").await.iter().map(|l| l.reserved).collect();
    assert_eq!(reserved.iter().sum::<u32>(), 2, "only the two claimed units stay set aside: {reserved:?}");
    let mut released: BTreeMap<String, i64> = BTreeMap::new();
    for (warehouse, q) in sale_releases(&s, &sale).await {
        *released.entry(warehouse).or_default() -= q;
    }
    assert_eq!(released.values().sum::<i64>(), 148, "{released:?}");
    assert_eq!(released.len(), 3, "every warehouse's units released: {released:?}");
    crate::ledger::assert_no_drift(&s).await;
    assert!(matches!(
        s.flash_sales.close_sale(&sale, after_end(&sale)).await.expect("close_sale failed"),
        CloseSaleOutcome::AlreadyClosed(c) if c.units_returned == 148
    ));
}

/// A claim stored, and its order made on hold for an address, as the use case and the
/// allocate queue's consumer make it.
async fn claim_without_address(s: &Subject, sale: &FlashSale, key: &str, customer: &str) -> Claim {
    let claim = claim_of(sale, key, customer, 1, 0);
    let send = claim_message(&claim, None);
    let outcome = s.flash_sales.claim(&claim, sale.terms.per_customer_limit, &send).await.expect("claim failed");
    assert_eq!(outcome, ClaimOutcome::Claimed);
    make_claimed_orders(s).await;
    claim
}

pub async fn a_claims_unheld_unit_goes_back_to_the_sale_or_after_the_close_to_stock_once(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(2, 1, 1)).await;
    let ports = crate::payments::ports_at(&s, Utc::now(), Arc::new(crate::payments::Kept::default()));
    let cancel = |order_id: OrderId| {
        let ports = ports.clone();
        async move { oms_domain::usecases::orders::cancel_order(&ports, &order_id, "customer changed their mind").await }
    };

    // On hold for its address, never held: cancelled, its unit goes back to the shard.
    let first = claim_without_address(&s, &sale, "k-1", "c-1").await;
    assert_eq!(units_left(&s, &sale).await, [1]);
    let cancelled = cancel(first.order_id.clone()).await.expect("cancel failed");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(units_left(&s, &sale).await, [2], "the unit is the sale's again");
    // Still set aside for the sale: the stock's figures did not move, so no ledger entry.
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 2)]);
    assert_eq!(set_aside_of(&s).await, [("WH-1".to_owned(), 2)]);
    assert!(sale_releases(&s, &sale).await.is_empty());
    // Once: a second cancel gives nothing back.
    cancel(first.order_id.clone()).await.expect("cancel failed");
    assert_eq!(units_left(&s, &sale).await, [2]);
    // The claim stays the customer's answer under its key, and counts against the limit.
    let again = claim_of(&sale, "k-1", "c-1", 1, 0);
    assert!(
        matches!(store_claim(&s, &sale, &again).await, ClaimOutcome::Duplicate(first_claim) if first_claim.claim_id == first.claim_id)
    );
    let over = claim_of(&sale, "k-9", "c-1", 1, 0);
    assert_eq!(store_claim(&s, &sale, &over).await, ClaimOutcome::LimitExceeded { claimed: 1 });

    // Another claim takes the returned unit; the sale ends and closes with the other one.
    let second = claim_without_address(&s, &sale, "k-2", "c-2").await;
    let closed = s.flash_sales.close_sale(&sale, after_end(&sale)).await.expect("close_sale failed");
    assert!(matches!(closed, CloseSaleOutcome::Closed(c) if c.units_returned == 1), "{closed:?}");
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 1)]);
    // Its order cancelled after the close: the unit goes to available stock, with a
    // release of the sale's hold, counted in the units the sale returned.
    cancel(second.order_id.clone()).await.expect("cancel failed");
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 0)]);
    assert_eq!(set_aside_of(&s).await, [("WH-1".to_owned(), 0)]);
    assert_eq!(units_left(&s, &sale).await, [0], "never back into a closed sale's shard");
    assert_eq!(sale_releases(&s, &sale).await, [("WH-1".to_owned(), -1), ("WH-1".to_owned(), -1)]);
    let entries = crate::ledger::entries(&s, "SKU-1").await;
    let returned = entries.last().expect("the return's entry");
    assert!(returned.reason.contains(second.order_id.as_str()), "{returned:?}");
    let closing = s.flash_sales.sale_closing(&sale.sale_id).await.expect("sale_closing failed").expect("closed");
    assert_eq!(closing.units_returned, 2);
    crate::ledger::assert_no_drift(&s).await;
    // Once again: nothing moves on a second cancel.
    cancel(second.order_id.clone()).await.expect("cancel failed");
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 0)]);
    let closing = s.flash_sales.sale_closing(&sale.sale_id).await.expect("sale_closing failed").expect("closed");
    assert_eq!(closing.units_returned, 2);
}

pub async fn a_sale_ended_early_takes_no_claim_after_and_closes_once_giving_its_unclaimed_units_back(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let sale = created(&s, terms(5, 1, 2)).await;
    let claim = claim_of(&sale, "k-1", "c-1", 1, 0);
    assert_eq!(store_claim(&s, &sale, &claim).await, ClaimOutcome::Claimed);
    let now = Utc::now();
    let ports = crate::payments::ports_at(&s, now, Arc::new(crate::payments::Kept::default()));

    let view = flash_sales::end_sale(&ports, &sale.sale_id).await.expect("end_sale failed");
    assert_eq!(view.state, oms_domain::flash_sale::SaleState::Ended);
    assert_eq!(view.sale.terms.ends_at, now, "the end is now");
    assert_eq!(view.sale.terms.starts_at, sale.terms.starts_at);
    let closing = view.closing.expect("closed with the end");
    assert_eq!((closing.units_returned, view.units_left, view.units_claimed), (4, 0, 1));
    assert_eq!(s.flash_sales.get_sale(&sale.sale_id).await.expect("get_sale failed").expect("the sale").terms.ends_at, now);
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 1)], "the claimed unit stays held");
    assert_eq!(sale_releases(&s, &sale).await, [("WH-1".to_owned(), -4)]);
    assert!(s.flash_sales.ended_open_sales(now + Duration::days(60), 10).await.expect("ended_open_sales failed").is_empty());
    crate::ledger::assert_no_drift(&s).await;

    // No claim from the end on; the claim made before still answers under its key.
    let new = |key: &str, customer: &str| NewClaim {
        customer_id: CustomerId::parse(customer).expect("a customer"),
        quantity: 1,
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
        shipping_address: Some(address()),
    };
    let late = flash_sales::claim(&ports, &sale.sale_id, new("k-2", "c-2")).await;
    assert!(matches!(late, Err(ClaimError::NotActive { .. })), "{late:?}");
    let repeated = flash_sales::claim(&ports, &sale.sale_id, new("k-1", "c-1")).await.expect("the first claim");
    assert!(repeated.repeated && repeated.claim.claim_id == claim.claim_id);

    // Ending it again changes nothing and answers the same sale.
    let later = crate::payments::ports_at(&s, now + Duration::minutes(5), Arc::new(crate::payments::Kept::default()));
    let again = flash_sales::end_sale(&later, &sale.sale_id).await.expect("end_sale failed");
    assert_eq!((again.sale.terms.ends_at, again.closing), (now, Some(closing)));
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 1)]);
    assert_eq!(sale_releases(&s, &sale).await.len(), 1);
    // A store asked to end it again answers that it has ended.
    let ended = s.flash_sales.get_sale(&sale.sale_id).await.expect("get_sale failed").expect("the sale");
    let outcome = s.flash_sales.end_sale(&ended, now + Duration::minutes(5)).await.expect("end_sale failed");
    assert_eq!(outcome, oms_domain::ports::EndSaleOutcome::AlreadyEnded);
    // With the terms as they were before the end, too (another end landed first).
    let outcome = s.flash_sales.end_sale(&sale, now - Duration::seconds(1)).await.expect("end_sale failed");
    assert_eq!(outcome, oms_domain::ports::EndSaleOutcome::AlreadyEnded);

    // A sale not started yet ends before it starts: it never opens.
    let mut upcoming = terms(2, 1, 1);
    upcoming.starts_at = now + Duration::hours(1);
    upcoming.ends_at = now + Duration::hours(2);
    let upcoming = created(&s, upcoming).await;
    let view = flash_sales::end_sale(&ports, &upcoming.sale_id).await.expect("end_sale failed");
    assert_eq!(
        (view.state, view.sale.terms.starts_at, view.sale.terms.ends_at),
        (oms_domain::flash_sale::SaleState::Ended, now, now)
    );
    assert_eq!(view.closing.map(|c| c.units_returned), Some(2));
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 10, 1)]);

    let unknown = flash_sales::end_sale(&ports, &SaleId::generate()).await;
    assert!(matches!(unknown, Err(flash_sales::EndSaleError::NotFound(_))), "{unknown:?}");
}
