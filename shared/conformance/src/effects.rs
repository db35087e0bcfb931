//! `Effects`: what an order write does in the same atomic step (messages queued through
//! the outbox, a hold given back), and the index of orders by status and age.

use chrono::Duration;
use oms_domain::messages::{AllocateOrder, Outgoing, ReserveOrder};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{Effects, HoldEffect, InsertOutcome, StatusEntry, UpdateOutcome};
use oms_domain::reservation::HoldId;
use oms_domain::{Order, OrderId};

use crate::fixtures::{hold, line, merchant, noon, order, reserved, sku, stored, warehouse_id};
use crate::Subject;

fn allocate(order: &Order) -> Outgoing {
    Outgoing::of(&AllocateOrder::new(order.order_id.clone()))
}

fn reserve(order: &Order) -> Outgoing {
    Outgoing::of(&ReserveOrder { order_id: order.order_id.clone() })
}

async fn sent(s: &Subject) -> Vec<Outgoing> {
    let mut sent = s.outbox.sent().await;
    sent.sort_by(|a, b| a.body.cmp(&b.body));
    sent
}

async fn available(s: &Subject, warehouse: &str, raw_sku: &str) -> u32 {
    let levels = s.inventory.stock_of(&sku(raw_sku)).await.expect("stock_of failed");
    levels.iter().find(|l| l.warehouse == warehouse_id(warehouse)).map_or(0, |l| l.available)
}

pub async fn an_inserted_order_queues_its_messages_and_a_duplicate_queues_none(s: Subject) {
    let first = order(Channel::Generic, "E-1");
    let outcome = s.orders.insert_order_sending(&first, &[allocate(&first)]).await.expect("insert_order_sending failed");
    assert_eq!(outcome, InsertOutcome::Inserted);
    assert_eq!(sent(&s).await, vec![allocate(&first)], "the message lands with the order");
    let again = order(Channel::Generic, "E-1");
    let outcome = s.orders.insert_order_sending(&again, &[allocate(&again)]).await.expect("insert_order_sending failed");
    assert!(matches!(outcome, InsertOutcome::Duplicate(_)));
    assert_eq!(sent(&s).await, vec![allocate(&first)], "a duplicate writes nothing, its message neither");
}

pub async fn an_update_queues_its_messages_only_when_it_lands(s: Subject) {
    let placed = order(Channel::Generic, "E-2");
    assert_eq!(s.orders.insert_order(&placed).await.expect("insert_order failed"), InsertOutcome::Inserted);
    let mut moved = stored(&placed);
    moved.transition(OrderStatus::Allocated, noon(), "planned").expect("a valid move");
    let stale = Order { version: 7, ..moved.clone() };
    let outcome = s.orders.update_order_with(&stale, &Effects::send(reserve(&moved))).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::VersionConflict);
    assert!(sent(&s).await.is_empty(), "a lost race queues nothing");
    let outcome = s.orders.update_order_with(&moved, &Effects::send(reserve(&moved))).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::Updated { version: 2 });
    assert_eq!(sent(&s).await, vec![reserve(&moved)]);
}

/// An order reserved for 3 units of SKU-1 in WH-A (of 5), and its hold.
async fn reserved_order(s: &Subject, external_id: &str) -> (Order, HoldId) {
    assert!(s.inventory.set_on_hand(&warehouse_id("WH-A"), &merchant("m-1"), &sku("SKU-1"), 5).await.is_ok());
    let placed = order(Channel::Generic, external_id);
    assert_eq!(s.orders.insert_order(&placed).await.expect("insert_order failed"), InsertOutcome::Inserted);
    let hold_id =
        reserved(s.inventory.reserve(&placed.order_id, &hold([line("WH-A", "SKU-1", 3)])).await.expect("reserve failed"));
    (stored(&placed), hold_id)
}

pub async fn a_write_that_releases_the_orders_hold_gives_its_stock_back_with_it(s: Subject) {
    let (mut order, hold_id) = reserved_order(&s, "E-3").await;
    assert_eq!(available(&s, "WH-A", "SKU-1").await, 2);
    order.transition(OrderStatus::Cancelled, noon(), "cancelled").expect("a valid move");
    let effects = Effects { send: vec![], hold: HoldEffect::Release(hold_id), sale: None };
    let outcome = s.orders.update_order_with(&order, &effects).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::Updated { version: 2 });
    assert_eq!(available(&s, "WH-A", "SKU-1").await, 5, "the units came back with the write");
    assert_eq!(s.inventory.reservation(&order.order_id).await.expect("reservation failed"), None);
    let read = s.orders.get_order(&order.order_id).await.expect("get_order failed").expect("the order");
    assert_eq!(read.status, OrderStatus::Cancelled);
}

pub async fn a_write_naming_a_hold_the_order_no_longer_has_writes_nothing(s: Subject) {
    let (mut order, hold_id) = reserved_order(&s, "E-4").await;
    order.transition(OrderStatus::Cancelled, noon(), "cancelled").expect("a valid move");
    let other = Effects { send: vec![allocate(&order)], hold: HoldEffect::Release(HoldId::generate()), sale: None };
    let outcome = s.orders.update_order_with(&order, &other).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::VersionConflict, "another hold than the order's");
    let read = s.orders.get_order(&order.order_id).await.expect("get_order failed").expect("the order");
    assert_eq!((read.status, read.version), (OrderStatus::Received, 1), "the order is as it was");
    assert_eq!(available(&s, "WH-A", "SKU-1").await, 2, "the real hold still holds");
    assert!(sent(&s).await.is_empty(), "and nothing was queued");
    // Released meanwhile by someone else: the write's hold condition fails the same way.
    assert!(s.inventory.release(&order.order_id, &hold_id).await.is_ok());
    let gone = Effects { send: vec![], hold: HoldEffect::Release(hold_id), sale: None };
    assert_eq!(s.orders.update_order_with(&order, &gone).await.expect("update failed"), UpdateOutcome::VersionConflict);
    assert_eq!(available(&s, "WH-A", "SKU-1").await, 5, "given back once, not twice");
}

/// Inserts an order placed `minutes` past noon (so it came to `received` then).
async fn placed_at(s: &Subject, external_id: &str, minutes: i64) -> Order {
    let mut placed = order(Channel::Generic, external_id);
    placed.placed_at = noon() + Duration::minutes(minutes);
    placed.timeline.iter_mut().for_each(|event| event.at = placed.placed_at);
    assert_eq!(s.orders.insert_order(&placed).await.expect("insert_order failed"), InsertOutcome::Inserted);
    stored(&placed)
}

async fn in_status(s: &Subject, status: OrderStatus, minutes: i64, limit: usize) -> Vec<OrderId> {
    let before = noon() + Duration::minutes(minutes);
    let entries = s.orders.orders_in_status_since(status, before, None, limit).await.expect("orders_in_status_since failed");
    entries.into_iter().map(|entry| entry.order_id).collect()
}

pub async fn orders_are_found_by_status_and_age_oldest_first_and_final_ones_never(s: Subject) {
    let c = placed_at(&s, "S-3", 3).await;
    let a = placed_at(&s, "S-1", 1).await;
    let b = placed_at(&s, "S-2", 2).await;
    assert_eq!(
        in_status(&s, OrderStatus::Received, 10, 10).await,
        vec![a.order_id.clone(), b.order_id.clone(), c.order_id.clone()]
    );
    assert_eq!(in_status(&s, OrderStatus::Received, 3, 10).await, vec![a.order_id.clone(), b.order_id.clone()], "since before");
    assert_eq!(in_status(&s, OrderStatus::Received, 10, 1).await, vec![a.order_id.clone()], "at most the limit");
    // Moving on moves it in the index: allocated since its move, no longer received.
    let mut allocated = a.clone();
    allocated.transition(OrderStatus::Allocated, noon() + Duration::minutes(20), "planned").expect("a valid move");
    assert!(matches!(s.orders.update_order(&allocated).await.expect("update failed"), UpdateOutcome::Updated { .. }));
    assert_eq!(in_status(&s, OrderStatus::Received, 30, 10).await, vec![b.order_id.clone(), c.order_id.clone()]);
    assert!(in_status(&s, OrderStatus::Allocated, 20, 10).await.is_empty(), "allocated at minute 20, not before");
    assert_eq!(in_status(&s, OrderStatus::Allocated, 21, 10).await, vec![a.order_id.clone()]);
    // A final status is never listed.
    let mut cancelled = b.clone();
    cancelled.transition(OrderStatus::Cancelled, noon() + Duration::minutes(4), "cancelled").expect("a valid move");
    assert!(matches!(s.orders.update_order(&cancelled).await.expect("update failed"), UpdateOutcome::Updated { .. }));
    assert!(in_status(&s, OrderStatus::Cancelled, 60, 10).await.is_empty());
    assert_eq!(in_status(&s, OrderStatus::Received, 60, 10).await, vec![c.order_id]);
}

pub async fn orders_by_status_are_paged_oldest_first_and_each_entry_says_since_when(s: Subject) {
    // Three received at minute 1 (one instant: the order id breaks the tie), two at minute 2.
    let mut placed = Vec::new();
    for (i, minute) in [1, 1, 1, 2, 2].into_iter().enumerate() {
        placed.push(placed_at(&s, &format!("P-{i}"), minute).await);
    }
    let mut expected: Vec<StatusEntry> =
        placed.iter().map(|order| StatusEntry { since: order.placed_at, order_id: order.order_id.clone() }).collect();
    expected.sort();
    let before = noon() + Duration::minutes(10);
    let mut pages = Vec::new();
    let mut after: Option<StatusEntry> = None;
    loop {
        let page = s
            .orders
            .orders_in_status_since(OrderStatus::Received, before, after.as_ref(), 2)
            .await
            .expect("orders_in_status_since failed");
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        pages.push(page);
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1], "pages of at most the limit");
    assert_eq!(pages.concat(), expected, "every entry once, oldest first, ties by order id");
}

pub async fn a_write_that_must_find_no_hold_loses_to_a_hold_placed_meanwhile(s: Subject) {
    let (mut order, hold_id) = reserved_order(&s, "E-5").await;
    order.transition(OrderStatus::Cancelled, noon(), "cancelled").expect("a valid move");
    let none_held = Effects { send: vec![allocate(&order)], hold: HoldEffect::NoneHeld, sale: None };
    let outcome = s.orders.update_order_with(&order, &none_held).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::VersionConflict, "the order holds stock: nothing written");
    let read = s.orders.get_order(&order.order_id).await.expect("get_order failed").expect("the order");
    assert_eq!(read.status, OrderStatus::Received);
    assert!(sent(&s).await.is_empty());
    assert!(s.inventory.release(&order.order_id, &hold_id).await.is_ok());
    let outcome = s.orders.update_order_with(&order, &none_held).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::Updated { version: 2 }, "holding nothing now, it is written");
}
