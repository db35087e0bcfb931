//! What a restart keeps: orders, warehouses, stock and reservations written by one
//! process are there, unchanged, for the next one opening the same data directory.

use oms_conformance::fixtures::{hold, line, order, order_id, reserved, stored, warehouse};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{InsertOutcome, InventoryStore, OrderStore, ReserveOutcome, UpdateOutcome, WarehouseStore};
use oms_domain::Order;
use oms_embedded::{Embedded, DB_FILE};
use std::sync::Arc;

#[tokio::test]
async fn open_creates_the_data_directory_and_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested").join("data");
    let _store = Embedded::open(&data).unwrap();
    assert!(data.join(DB_FILE).is_file());
}

#[tokio::test]
async fn an_inserted_order_is_still_there_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let first = order(Channel::Shopify, "A-1");
    {
        let store = Embedded::open(dir.path()).unwrap();
        assert_eq!(store.insert_order(&first).await.unwrap(), InsertOutcome::Inserted);
    }
    let store = Embedded::open(dir.path()).unwrap();
    assert_eq!(store.get_order(&first.order_id).await.unwrap(), Some(stored(&first)));
    // ...and the channel key still guards against a second delivery.
    let again = store.insert_order(&order(Channel::Shopify, "A-1")).await.unwrap();
    assert_eq!(again, InsertOutcome::Duplicate(Box::new(stored(&first))));
}

#[tokio::test]
async fn an_updated_order_keeps_its_version_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let first = order(Channel::Generic, "A-1");
    let mut moved = stored(&first);
    moved.transition(OrderStatus::Allocated, chrono::Utc::now(), "planned").unwrap();
    {
        let store = Embedded::open(dir.path()).unwrap();
        let _ = store.insert_order(&first).await.unwrap();
        assert_eq!(store.update_order(&moved).await.unwrap(), UpdateOutcome::Updated { version: 2 });
    }
    let store = Embedded::open(dir.path()).unwrap();
    assert_eq!(store.get_order(&first.order_id).await.unwrap(), Some(Order { version: 2, ..moved.clone() }));
    assert_eq!(store.update_order(&moved).await.unwrap(), UpdateOutcome::VersionConflict);
}

#[tokio::test]
async fn stock_reservations_and_warehouses_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let held = order_id();
    let wh = warehouse("WH-1", "One");
    {
        let store = Embedded::open(dir.path()).unwrap();
        store.put_warehouse(&wh).await.unwrap();
        let _ = store.set_on_hand(&wh.warehouse_id, &wh.merchant_id, &oms_conformance::fixtures::sku("SKU-1"), 10).await.unwrap();
        reserved(store.reserve(&held, &hold([line("WH-1", "SKU-1", 4)])).await.unwrap());
    }
    let store = Embedded::open(dir.path()).unwrap();
    assert_eq!(store.list_warehouses().await.unwrap(), vec![wh]);
    assert_eq!(store.reservation(&held).await.unwrap().map(|h| h.reservation), Some(hold([line("WH-1", "SKU-1", 4)])));
    let stock = store.all_stock().await.unwrap();
    assert_eq!((stock[0].on_hand, stock[0].reserved, stock[0].available), (10, 4, 6));
}

/// Two stores on one directory stand for two processes: SQLite's locking (with
/// `BEGIN IMMEDIATE` and the busy timeout) must keep them from overselling too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_directory_never_oversell() {
    let dir = tempfile::tempdir().unwrap();
    let a = Embedded::open(dir.path()).unwrap();
    let b = Embedded::open(dir.path()).unwrap();
    let _ = a
        .set_on_hand(
            &oms_conformance::fixtures::warehouse_id("WH-1"),
            &oms_conformance::fixtures::merchant("m-1"),
            &oms_conformance::fixtures::sku("SKU-1"),
            30,
        )
        .await
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.reserve(&order_id(), &hold([line("WH-1", "SKU-1", 1)])).await.unwrap()
            })
        })
        .collect();
    let mut reserved = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), ReserveOutcome::Reserved { .. }) {
            reserved += 1;
        }
    }
    assert_eq!(reserved, 30);
    let stock = b.all_stock().await.unwrap();
    assert_eq!((stock[0].on_hand, stock[0].reserved, stock[0].available), (30, 30, 0));
}
