//! The DynamoDB adapter's answers to the faults the emulator cannot make (see
//! `common::faults`): a transaction cancelled by a conflict, a throttled call, and an answer
//! lost after the write landed. Each fault is injected into the SDK's HTTP client, so the
//! adapter and the SDK meet it exactly as they would meet DynamoDB's.

mod common;

use std::sync::Arc;

use common::faults::Fault::{self, LostAnswer, Throttled, TransactionConflict};
use common::{aws_with_faults, order, sku, warehouse, wh};
use oms_aws::budget::SDK_MAX_ATTEMPTS;
use oms_conformance::fixtures::{hold, merchant, owned_line, reserved};
use oms_domain::messages::Handled;
use oms_domain::order::{AllocatedLine, Channel, OrderStatus};
use oms_domain::ports::{InsertOutcome, InventoryStore, OrderStore, ReserveOutcome, SystemClock, WarehouseStore};
use oms_domain::reservation::MAX_LINES_PER_WRITE;
use oms_domain::usecases::fulfilment::{allocate_order, reserve_order};
use oms_domain::usecases::orders::cancel_order;
use oms_domain::OrderId;

fn line(warehouse: &str, sku_id: &str, quantity: u32) -> AllocatedLine {
    owned_line(warehouse, "m-1", sku_id, quantity)
}

/// (reserved, available) of a SKU in its one warehouse.
async fn counts(store: &oms_aws::DynamoStore, sku_id: &str) -> (u32, u32) {
    let levels = store.stock_of(&sku(sku_id)).await.expect("stock_of failed");
    assert_eq!(levels.len(), 1, "{levels:?}");
    (levels[0].reserved, levels[0].available)
}

#[tokio::test]
async fn a_transaction_cancelled_by_a_conflict_is_sent_again_and_holds_once() {
    let (aws, faults) = aws_with_faults("conflict").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    faults.inject("TransactWriteItems", TransactionConflict);

    let order_id = OrderId::generate();
    let hold_id = reserved(store.reserve(&order_id, &hold([line("w1", "A", 2)])).await.unwrap());
    // The count before it was a transaction too (the stock and its ledger entry).
    assert_eq!(faults.seen("TransactWriteItems")[1..], [Some(TransactionConflict), None]);
    assert_eq!(counts(store, "A").await, (2, 3));
    assert_eq!(store.reservation(&order_id).await.unwrap().map(|h| h.hold_id), Some(hold_id));
}

#[tokio::test]
async fn a_transaction_that_conflicts_on_every_send_is_an_error_and_holds_nothing() {
    let (aws, faults) = aws_with_faults("conflicts").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    for _ in 0..oms_aws::budget::TRANSACT_ATTEMPTS {
        faults.inject("TransactWriteItems", TransactionConflict);
    }

    let order_id = OrderId::generate();
    let err = store.reserve(&order_id, &hold([line("w1", "A", 2)])).await.unwrap_err();
    assert!(format!("{:#}", anyhow::Error::from(err)).contains("transaction conflicts"));
    let sends = faults.seen("TransactWriteItems");
    assert_eq!(sends.len() - 1, oms_aws::budget::TRANSACT_ATTEMPTS as usize, "the adapter gave up within its budget");
    assert_eq!(counts(store, "A").await, (0, 5));
    assert_eq!(store.reservation(&order_id).await.unwrap(), None);
}

#[tokio::test]
async fn a_count_that_meets_a_reservations_transaction_is_sent_again_then_gives_up_within_the_budget() {
    let (aws, faults) = aws_with_faults("count-conflict").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    // A count is one transaction (the stock and its ledger entry): one that meets a
    // reservation's transaction on the stock item is cancelled as a conflict.
    faults.inject("TransactWriteItems", TransactionConflict);
    let counted = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 9).await.unwrap();
    assert!(matches!(counted, oms_domain::ports::SetOnHandOutcome::Set(ref level) if level.on_hand == 9), "{counted:?}");
    assert_eq!(faults.seen("TransactWriteItems")[1..], [Some(TransactionConflict), None]);

    for _ in 0..oms_aws::budget::TRANSACT_ATTEMPTS {
        faults.inject("TransactWriteItems", TransactionConflict);
    }
    assert!(store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 7).await.is_err());
    assert_eq!(counts(store, "A").await, (0, 9), "nothing written");
}

#[tokio::test]
async fn a_reservation_whose_second_part_fails_holds_nothing_once_it_answers() {
    let (aws, faults) = aws_with_faults("second-part").await;
    let store = aws.dynamo();
    let skus = oms_conformance::fixtures::many_skus(150);
    for sku_id in &skus {
        let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku(sku_id), 2).await.unwrap();
    }
    assert!(skus.len() > MAX_LINES_PER_WRITE);
    // The first part goes through; the second conflicts on every send, so it fails.
    faults.inject("TransactWriteItems", Fault::None);
    for _ in 0..oms_aws::budget::TRANSACT_ATTEMPTS {
        faults.inject("TransactWriteItems", TransactionConflict);
    }

    let order_id = OrderId::generate();
    let plan = hold(skus.iter().map(|sku_id| line("w1", sku_id, 1)));
    assert!(store.reserve(&order_id, &plan).await.is_err());
    assert_eq!(faults.pending(), 0);
    assert_eq!(store.reservation(&order_id).await.unwrap(), None, "the first part was given back");
    for sku_id in &skus {
        assert_eq!(counts(store, sku_id).await, (0, 2), "{sku_id} is still held");
    }
}

#[tokio::test]
async fn a_throttled_call_is_retried_by_the_sdk_within_its_budget_then_fails() {
    let (aws, faults) = aws_with_faults("throttled").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();

    // Throttled on every attempt but the last: the SDK's own retries carry the call.
    for _ in 1..SDK_MAX_ATTEMPTS {
        faults.inject("Query", Throttled);
    }
    assert_eq!(counts(store, "A").await, (0, 5));
    let mut expected: Vec<Option<Fault>> = vec![Some(Throttled); SDK_MAX_ATTEMPTS as usize - 1];
    expected.push(None);
    assert_eq!(faults.seen("Query"), expected);

    // Throttled on every attempt: after SDK_MAX_ATTEMPTS the adapter answers an error.
    for _ in 0..SDK_MAX_ATTEMPTS {
        faults.inject("Query", Throttled);
    }
    let err = store.stock_of(&sku("A")).await.unwrap_err();
    assert!(format!("{:#}", anyhow::Error::from(err)).contains("ThrottlingException"));
    assert_eq!(faults.seen("Query").len(), expected.len() + SDK_MAX_ATTEMPTS as usize, "no attempt beyond the budget");
    assert_eq!(faults.pending(), 0);
}

#[tokio::test]
async fn a_reservation_whose_answer_was_lost_holds_once() {
    let (aws, faults) = aws_with_faults("lost-reserve").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    faults.inject("TransactWriteItems", LostAnswer);

    let (order_id, plan) = (OrderId::generate(), hold([line("w1", "A", 2)]));
    let outcome = store.reserve(&order_id, &plan).await.unwrap();
    // The SDK sent it again; the hold was already there, so the order holds it once, and the
    // reserve consumer (AlreadyReserved with this very plan) takes the order as reserved.
    assert_eq!(faults.seen("TransactWriteItems")[1..], [Some(LostAnswer), None], "after the count's transaction");
    assert!(matches!(outcome, ReserveOutcome::AlreadyReserved | ReserveOutcome::Reserved { .. }), "{outcome:?}");
    assert_eq!(counts(store, "A").await, (2, 3));
    assert_eq!(store.reservation(&order_id).await.unwrap().map(|h| h.reservation), Some(plan));
}

#[tokio::test]
async fn a_reservation_whose_every_answer_is_lost_is_an_error_and_holds_nothing() {
    let (aws, faults) = aws_with_faults("lost-all").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    for _ in 0..SDK_MAX_ATTEMPTS {
        faults.inject("TransactWriteItems", LostAnswer);
    }

    // The first send landed, but no answer came back: reserve fails, and gives back the
    // hold it cannot know it placed before it says so.
    let order_id = OrderId::generate();
    assert!(store.reserve(&order_id, &hold([line("w1", "A", 2)])).await.is_err());
    assert_eq!(faults.pending(), 0);
    assert_eq!(store.reservation(&order_id).await.unwrap(), None);
    assert_eq!(counts(store, "A").await, (0, 5));
}

#[tokio::test]
async fn the_reserve_consumer_reserves_an_order_once_when_its_reservation_answer_is_lost() {
    let (aws, faults) = aws_with_faults("lost-consumer").await;
    let ports = aws.ports(Arc::new(SystemClock));
    let store = aws.dynamo();
    store.put_warehouse(&warehouse("WH-1")).await.unwrap();
    let _ = store.set_on_hand(&wh("WH-1"), &merchant("m-1"), &sku("SKU-1"), 10).await.unwrap();
    let placed = order(Channel::Generic, "A-1", "c-1", None);
    assert_eq!(store.insert_order(&placed).await.unwrap(), InsertOutcome::Inserted);
    assert_eq!(allocate_order(&ports, &placed.order_id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));

    faults.inject("TransactWriteItems", LostAnswer);
    assert_eq!(reserve_order(&ports, &placed.order_id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    let sends = faults.seen("TransactWriteItems");
    assert_eq!(
        sends[3..],
        [Some(LostAnswer), None, None],
        "the count, the insert, the plan with its outbox item, the reservation sent twice, then the order's move to reserved \
         with its sale (a transaction since the sale is written with it)"
    );
    assert_eq!(counts(store, "SKU-1").await, (2, 8), "held once");
}

#[tokio::test]
async fn an_insert_whose_answer_was_lost_answers_the_order_as_ours() {
    let (aws, faults) = aws_with_faults("lost-insert").await;
    let store = aws.dynamo();
    faults.inject("TransactWriteItems", LostAnswer);

    let first = order(Channel::Shopify, "A-1", "c-1", None);
    // The SDK sent it again. moto finds the marker and the adapter answers the order it
    // names, which is ours (DynamoDB itself may answer the resend from its idempotency token,
    // as written: either way the one order stored is this one).
    match store.insert_order(&first).await.unwrap() {
        InsertOutcome::Duplicate(kept) => assert_eq!(kept.order_id, first.order_id, "the order kept is our own"),
        InsertOutcome::Inserted => {}
    }
    assert_eq!(faults.seen("TransactWriteItems"), [Some(LostAnswer), None]);
    let stored = store.get_order(&first.order_id).await.unwrap().expect("the order is stored");
    assert_eq!((stored.order_id, stored.version), (first.order_id, 1));
}

#[tokio::test]
async fn an_update_whose_answer_was_lost_is_a_conflict_the_cancel_resolves() {
    let (aws, faults) = aws_with_faults("lost-update").await;
    let ports = aws.ports(Arc::new(SystemClock));
    let store = aws.dynamo();
    let placed = order(Channel::Generic, "A-1", "c-1", None);
    assert_eq!(store.insert_order(&placed).await.unwrap(), InsertOutcome::Inserted);
    faults.inject("TransactWriteItems", LostAnswer);

    // The cancel's write (the order with its hold condition, one transaction) lands; the
    // SDK sends it again, which finds the version moved on and answers a lost race; the
    // cancel reads the order again and finds it cancelled.
    let cancelled = cancel_order(&ports, &placed.order_id, "changed my mind").await.unwrap();
    assert_eq!(faults.seen("TransactWriteItems")[1..], [Some(LostAnswer), None], "the insert, then the cancel sent twice");
    assert_eq!((cancelled.status, cancelled.version), (OrderStatus::Cancelled, 2), "written once");
    let entries = cancelled.timeline.iter().filter(|e| e.status == OrderStatus::Cancelled).count();
    assert_eq!(entries, 1, "{:?}", cancelled.timeline);
}

/// A sale of `units` of SKU `F` from `w1` over `shards`, open for the next hour, stored.
async fn flash_sale(store: &oms_aws::DynamoStore, units: u32, shards: u32) -> oms_domain::flash_sale::FlashSale {
    use oms_domain::flash_sale::{FlashSale, SaleId, SaleTerms};
    use oms_domain::ports::{CreateSaleOutcome, FlashSaleStore};
    let now = chrono::Utc::now();
    let terms = SaleTerms {
        sku: sku("F"),
        units,
        per_customer_limit: 1,
        starts_at: now - chrono::Duration::minutes(1),
        ends_at: now + chrono::Duration::hours(1),
        shards,
        price: rust_decimal::Decimal::ONE,
        currency: oms_domain::Currency::parse("CNY").expect("a fixture"),
    };
    let stock = store.stock_of(&sku("F")).await.expect("a fixture");
    let sale = FlashSale::plan(SaleId::generate(), merchant("m-1"), terms, &stock, now).expect("a fixture");
    assert_eq!(store.create_sale(&sale).await.expect("a fixture"), CreateSaleOutcome::Created);
    sale
}

/// One unit of `shard` claimed for `customer`, straight to the store.
async fn claim_one(
    store: &oms_aws::DynamoStore,
    sale: &oms_domain::flash_sale::FlashSale,
    customer: &str,
    shard: u32,
) -> oms_domain::ports::ClaimOutcome {
    use oms_domain::flash_sale::{Claim, ClaimId, IdempotencyKey};
    use oms_domain::ports::FlashSaleStore;
    let claim = Claim {
        claim_id: ClaimId::generate(),
        sale_id: sale.sale_id.clone(),
        idempotency_key: IdempotencyKey::parse(format!("key-{customer}")).expect("a fixture"),
        customer_id: oms_domain::CustomerId::parse(customer).expect("a fixture"),
        quantity: 1,
        order_id: OrderId::generate(),
        shard,
        claimed_at: chrono::Utc::now(),
    };
    let made = oms_domain::messages::ClaimOrder { claim: claim.clone(), shipping_address: None };
    let send = [oms_domain::messages::Outgoing::of(&oms_domain::messages::AllocateOrder {
        order_id: claim.order_id.clone(),
        claim: Some(made),
    })];
    store.claim(&claim, 1, &send).await.expect("a fixture")
}

#[tokio::test]
async fn a_claim_landing_between_a_closes_read_and_its_write_keeps_its_unit_and_the_close_releases_the_rest_once() {
    use oms_domain::ports::{ClaimOutcome, CloseSaleOutcome, FlashSaleStore};
    let (aws, faults) = aws_with_faults("close-race").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("F"), 10).await.expect("a fixture");
    let sale = flash_sale(store, 4, 2).await;
    // Between the close's read of the shards and its transaction, a late claim takes a unit
    // of shard 0 (through a client of its own, past the faults).
    let plain = oms_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&common::emulator_config().await), store.table());
    let (late, sale_for_hook) = (Arc::new(std::sync::Mutex::new(None)), sale.clone());
    let answer = late.clone();
    faults.before(
        "TransactWriteItems",
        Box::new(move || {
            Box::pin(async move {
                let outcome = claim_one(&plain, &sale_for_hook, "c-late", 0).await;
                *answer.lock().unwrap() = Some(outcome);
            })
        }),
    );
    let ended = sale.terms.ends_at + chrono::Duration::seconds(1);
    let closed = store.close_sale(&sale, ended).await.unwrap();
    assert_eq!(*late.lock().unwrap(), Some(ClaimOutcome::Claimed), "the late claim landed first");
    let CloseSaleOutcome::Closed(closing) = closed else { panic!("not closed: {closed:?}") };
    assert_eq!(closing.units_returned, 3, "the claimed unit is not released");
    let levels = store.shard_levels(&sale).await.unwrap();
    assert_eq!(levels.iter().map(|l| l.units_left).collect::<Vec<_>>(), [0, 0]);
    assert_eq!(counts(store, "F").await, (1, 9), "the claim's unit stays set aside for its order");
    let figures = store.stock_figures().await.unwrap();
    assert_eq!(figures.iter().find(|f| f.sku == sku("F")).map(|f| f.set_aside), Some(1));
    // The close's first transaction lost the race and was written again after a new read.
    assert_eq!(faults.seen("TransactWriteItems").len(), 4, "count, sale, close lost, close");
}

#[tokio::test]
async fn a_close_whose_answer_was_lost_releases_its_units_once() {
    use oms_domain::ports::{CloseSaleOutcome, FlashSaleStore};
    let (aws, faults) = aws_with_faults("close-lost").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("F"), 10).await.unwrap();
    let sale = flash_sale(store, 4, 2).await;
    faults.inject("TransactWriteItems", LostAnswer);
    let ended = sale.terms.ends_at + chrono::Duration::seconds(1);
    // The SDK sends the close again after the lost answer: its conditions refuse it, and the
    // close reads that the sale is closed.
    let closed = store.close_sale(&sale, ended).await.unwrap();
    assert!(
        matches!(closed, CloseSaleOutcome::Closed(c) | CloseSaleOutcome::AlreadyClosed(c) if c.units_returned == 4),
        "{closed:?}"
    );
    assert_eq!(counts(store, "F").await, (0, 10), "released once");
    let again = store.close_sale(&sale, ended).await.unwrap();
    assert!(matches!(again, CloseSaleOutcome::AlreadyClosed(c) if c.units_returned == 4), "{again:?}");
    assert_eq!(counts(store, "F").await, (0, 10));
}
