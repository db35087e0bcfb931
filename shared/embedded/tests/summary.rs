//! The figures the demo's summary prints.

use oms_conformance::fixtures::{hold, line, merchant, order, order_id, sku, stored, warehouse_id};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{InventoryStore, OrderStore, UpdateOutcome};
use oms_domain::stock::{StockCounts, StockLevel};
use oms_embedded::Embedded;

#[tokio::test]
async fn order_counts_are_given_per_status_in_the_status_machine_order() {
    let store = Embedded::open_in_memory().unwrap();
    assert!(store.order_counts_by_status().await.unwrap().is_empty());
    for n in 0..3 {
        let _ = store.insert_order(&order(Channel::Generic, &format!("A-{n}"))).await.unwrap();
    }
    let cancelled = order(Channel::Amazon, "B-1");
    let _ = store.insert_order(&cancelled).await.unwrap();
    let mut moved = stored(&cancelled);
    moved.transition(OrderStatus::Cancelled, chrono::Utc::now(), "buyer changed their mind").unwrap();
    assert_eq!(store.update_order(&moved).await.unwrap(), UpdateOutcome::Updated { version: 2 });
    assert_eq!(store.order_counts_by_status().await.unwrap(), vec![(OrderStatus::Received, 3), (OrderStatus::Cancelled, 1)]);
}

#[tokio::test]
async fn all_stock_is_sorted_by_warehouse_then_sku() {
    let store = Embedded::open_in_memory().unwrap();
    for (w, s, n) in [("WH-2", "SKU-1", 5), ("WH-1", "SKU-2", 7), ("WH-1", "SKU-1", 9)] {
        let _ = store.set_on_hand(&warehouse_id(w), &merchant("m-1"), &sku(s), n).await.unwrap();
    }
    let _ = store.reserve(&order_id(), &hold([line("WH-1", "SKU-2", 2)])).await.unwrap();
    let level = |w: &str, s: &str, on_hand, reserved| {
        StockLevel::new(warehouse_id(w), merchant("m-1"), sku(s), StockCounts::new(on_hand, reserved).unwrap())
    };
    assert_eq!(
        store.all_stock().await.unwrap(),
        vec![level("WH-1", "SKU-1", 9, 0), level("WH-1", "SKU-2", 7, 2), level("WH-2", "SKU-1", 5, 0)]
    );
}
