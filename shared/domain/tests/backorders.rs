//! Backorders only when they must be: orders racing for stock spread over many warehouses
//! all get it, as long as the stock they may use covers them.

use std::sync::Arc;

use oms_conformance::fixtures::{self, sku, warehouse};
use oms_domain::order::Channel;
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::usecases::fulfilment::{allocate_order, reserve_order};
use oms_domain::usecases::intake::receive_order;
use oms_domain::usecases::inventory::{put_warehouse, set_on_hand};
use oms_domain::{OrderStatus, WarehouseId};
use oms_embedded::Embedded;

/// What the reserve queue does with one order's message: deliver it until the consumer
/// succeeds, at most as often as the queue's redrive allows (5 receives).
async fn reserve_with_redelivery(ports: &Ports, id: &oms_domain::OrderId) {
    for _ in 0..5 {
        if reserve_order(ports, id).await.is_ok() {
            return;
        }
    }
    panic!("order {id} failed five deliveries: it would reach the dead-letter queue");
}

fn delivery(external_id: &str, quantity: u32) -> oms_domain::order::NewOrder {
    let order = fixtures::order(Channel::Generic, external_id);
    let mut lines = order.lines.clone();
    lines[0].quantity = quantity;
    oms_domain::order::NewOrder {
        channel: order.channel,
        external_id: order.external_id,
        order_number: order.order_number,
        merchant_id: order.merchant_id,
        placed_at: order.placed_at,
        currency: order.currency,
        customer: order.customer,
        shipping_address: order.shipping_address,
        lines,
        charges: order.charges,
        channel_updated_at: order.channel_updated_at,
        cancelled_at: None,
        paid: true,
        deliver_by: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_racing_one_unit_orders_for_sixty_units_over_twenty_warehouses_are_all_reserved() {
    let store = Embedded::open_in_memory().unwrap();
    let ports: Ports = store.ports(Arc::new(SystemClock));
    for w in 0..20 {
        let id = format!("WH-{w:02}");
        put_warehouse(&ports, &warehouse(&id, &id)).await.unwrap();
        set_on_hand(
            &ports,
            &oms_domain::access::Caller::platform_with_every_scope(),
            &WarehouseId::parse(id).unwrap(),
            None,
            &sku("SKU-1"),
            3,
        )
        .await
        .unwrap();
    }
    let mut ids = Vec::new();
    for n in 0..60 {
        ids.push(receive_order(&ports, delivery(&format!("R-{n}"), 1)).await.unwrap().order_id);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(ids.len()));
    let tasks: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            let (ports, barrier) = (ports.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                allocate_order(&ports, &id).await.unwrap();
                reserve_with_redelivery(&ports, &id).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut statuses = std::collections::HashMap::new();
    for id in &ids {
        *statuses.entry(ports.orders.get_order(id).await.unwrap().unwrap().status).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&OrderStatus::Reserved), Some(&60), "{statuses:?}");
    let levels = ports.inventory.stock_of(&sku("SKU-1")).await.unwrap();
    assert!(levels.iter().all(|l| l.available == 0), "every unit is held: {levels:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_is_backordered_only_when_the_stock_it_may_use_cannot_cover_it() {
    let store = Embedded::open_in_memory().unwrap();
    let ports: Ports = store.ports(Arc::new(SystemClock));
    for w in 0..3 {
        let id = format!("WH-{w}");
        put_warehouse(&ports, &warehouse(&id, &id)).await.unwrap();
        set_on_hand(
            &ports,
            &oms_domain::access::Caller::platform_with_every_scope(),
            &WarehouseId::parse(id).unwrap(),
            None,
            &sku("SKU-1"),
            2,
        )
        .await
        .unwrap();
    }
    let mut ids = Vec::new();
    for n in 0..9 {
        ids.push(receive_order(&ports, delivery(&format!("S-{n}"), 1)).await.unwrap().order_id);
    }
    let tasks: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            let ports = ports.clone();
            tokio::spawn(async move {
                allocate_order(&ports, &id).await.unwrap();
                reserve_with_redelivery(&ports, &id).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut reserved = 0;
    for id in &ids {
        match ports.orders.get_order(id).await.unwrap().unwrap().status {
            OrderStatus::Reserved => reserved += 1,
            OrderStatus::Backordered => {}
            other => panic!("an order ended {other}"),
        }
    }
    assert_eq!(reserved, 6, "six units, six one-unit orders reserved; the other three backordered");
}
