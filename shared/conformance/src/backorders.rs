//! `OrderStore::backorders_waiting_for`: the index of backorders by SKU, kept by the store
//! in the same atomic write as the order.

use chrono::Duration;
use oms_domain::order::{Channel, OrderLine, OrderStatus};
use oms_domain::ports::{InsertOutcome, UpdateOutcome};
use oms_domain::{Order, OrderId};
use rust_decimal::Decimal;

use crate::fixtures::{noon, order, sku, stored};
use crate::Subject;

/// A received order of one unit of each of `skus`.
fn order_of_skus(external_id: &str, skus: &[&str]) -> Order {
    let mut order = order(Channel::Generic, external_id);
    order.lines = skus.iter().map(|raw| OrderLine { sku: sku(raw), quantity: 1, unit_price: Decimal::ONE }).collect();
    order
}

async fn insert(s: &Subject, order: &Order) -> Order {
    assert_eq!(s.orders.insert_order(order).await.expect("insert_order failed"), InsertOutcome::Inserted);
    stored(order)
}

/// Moves the stored `order` to `status` at `minutes` past noon and writes it.
async fn moved(s: &Subject, mut order: Order, status: OrderStatus, minutes: i64) -> Order {
    order.transition(status, noon() + Duration::minutes(minutes), "moved").expect("a valid move");
    match s.orders.update_order(&order).await.expect("update_order failed") {
        UpdateOutcome::Updated { version } => Order { version, ..order },
        UpdateOutcome::VersionConflict => panic!("writing {} lost a race nobody ran", order.order_id),
    }
}

async fn waiting(s: &Subject, raw_sku: &str, limit: usize) -> Vec<OrderId> {
    s.orders.backorders_waiting_for(&sku(raw_sku), limit).await.expect("backorders_waiting_for failed")
}

pub async fn backorders_are_indexed_per_sku_oldest_first_while_backordered(s: Subject) {
    let a = insert(&s, &order_of_skus("B-1", &["SKU-1"])).await;
    let b = insert(&s, &order_of_skus("B-2", &["SKU-1", "SKU-2"])).await;
    let c = insert(&s, &order_of_skus("B-3", &["SKU-1"])).await;
    assert!(waiting(&s, "SKU-1", 10).await.is_empty(), "a received order is not a backorder");
    // Backordered in the order c, a, b: the index follows the time, not the id.
    let c = moved(&s, c, OrderStatus::Backordered, 1).await;
    let a = moved(&s, a, OrderStatus::Backordered, 2).await;
    let b = moved(&s, b, OrderStatus::Backordered, 3).await;
    assert_eq!(waiting(&s, "SKU-1", 10).await, vec![c.order_id.clone(), a.order_id.clone(), b.order_id.clone()]);
    assert_eq!(waiting(&s, "SKU-1", 2).await, vec![c.order_id.clone(), a.order_id.clone()], "at most the limit");
    assert_eq!(waiting(&s, "SKU-2", 10).await, vec![b.order_id.clone()], "one entry per SKU of the lines");
    assert!(waiting(&s, "SKU-3", 10).await.is_empty());
    // A note on a backorder does not move it to the back.
    let mut noted = a.clone();
    noted.note(noon() + Duration::minutes(9), "customer called");
    assert!(matches!(s.orders.update_order(&noted).await.expect("update_order failed"), UpdateOutcome::Updated { .. }));
    assert_eq!(waiting(&s, "SKU-1", 10).await, vec![c.order_id, a.order_id, b.order_id]);
}

pub async fn a_backorder_leaves_the_index_when_allocated_or_cancelled(s: Subject) {
    let a = insert(&s, &order_of_skus("B-1", &["SKU-1", "SKU-2"])).await;
    let b = insert(&s, &order_of_skus("B-2", &["SKU-1"])).await;
    let a = moved(&s, a, OrderStatus::Backordered, 1).await;
    let b = moved(&s, b, OrderStatus::Backordered, 2).await;
    let a = moved(&s, a, OrderStatus::Allocated, 3).await;
    assert_eq!(waiting(&s, "SKU-1", 10).await, vec![b.order_id.clone()]);
    assert!(waiting(&s, "SKU-2", 10).await.is_empty(), "every SKU of an allocated order leaves the index");
    moved(&s, b, OrderStatus::Cancelled, 4).await;
    assert!(waiting(&s, "SKU-1", 10).await.is_empty(), "a cancelled order is not waiting");
    // Backordered again (a lost race for stock): back in the index, since its new move.
    moved(&s, a, OrderStatus::Backordered, 5).await;
    assert_eq!(waiting(&s, "SKU-2", 10).await.len(), 1);
}

pub async fn the_backorder_index_and_the_order_never_disagree(s: Subject) {
    let a = insert(&s, &order_of_skus("B-1", &["SKU-1"])).await;
    let a = moved(&s, a, OrderStatus::Backordered, 1).await;
    // A write that loses its race changes neither the order nor the index.
    let mut stale = Order { version: a.version - 1, ..a.clone() };
    stale.transition(OrderStatus::Allocated, noon() + Duration::minutes(2), "stale").expect("a valid move");
    assert_eq!(s.orders.update_order(&stale).await.expect("update_order failed"), UpdateOutcome::VersionConflict);
    assert_eq!(waiting(&s, "SKU-1", 10).await, vec![a.order_id.clone()]);
    // New lines of a backorder move its entries to the new SKUs, in the same write.
    let mut relined = a.clone();
    relined.lines = order_of_skus("B-1", &["SKU-2", "SKU-3"]).lines;
    assert!(matches!(s.orders.update_order(&relined).await.expect("update_order failed"), UpdateOutcome::Updated { .. }));
    assert!(waiting(&s, "SKU-1", 10).await.is_empty());
    assert_eq!(waiting(&s, "SKU-2", 10).await, vec![a.order_id.clone()]);
    assert_eq!(waiting(&s, "SKU-3", 10).await, vec![a.order_id.clone()]);
    // Every id the index names is an order stored as backordered.
    for raw in ["SKU-1", "SKU-2", "SKU-3"] {
        for id in waiting(&s, raw, 10).await {
            let order = s.orders.get_order(&id).await.expect("get_order failed").expect("the order exists");
            assert_eq!(order.status, OrderStatus::Backordered);
        }
    }
    // An order stored already backordered is indexed by its insert.
    let mut born = order_of_skus("B-2", &["SKU-4"]);
    born.transition(OrderStatus::Backordered, noon(), "short").expect("a valid move");
    insert(&s, &born).await;
    assert_eq!(waiting(&s, "SKU-4", 10).await, vec![born.order_id]);
}

/// An order on hold for an unknown SKU waits in the same index as a backorder: indexed
/// by its insert (intake stores it already on hold), and out of it once released.
pub async fn an_order_on_hold_is_indexed_like_a_backorder_until_released(s: Subject) {
    let mut held = order_of_skus("H-1", &["SKU-1", "NEW-1"]);
    held.transition(OrderStatus::OnHold, noon(), "unknown_sku NEW-1: no warehouse has ever counted it").expect("a valid move");
    let held = insert(&s, &held).await;
    assert_eq!(waiting(&s, "NEW-1", 10).await, vec![held.order_id.clone()]);
    assert_eq!(waiting(&s, "SKU-1", 10).await, vec![held.order_id.clone()]);
    let released = moved(&s, held, OrderStatus::Received, 5).await;
    assert!(waiting(&s, "NEW-1", 10).await.is_empty());
    assert!(waiting(&s, "SKU-1", 10).await.is_empty());
    // Backordered after its release: indexed again, since the move.
    let short = moved(&s, released, OrderStatus::Backordered, 6).await;
    assert_eq!(waiting(&s, "NEW-1", 10).await, vec![short.order_id]);
}
