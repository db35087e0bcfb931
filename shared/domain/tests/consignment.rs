//! Consignment through the order flow: an order of the seller is planned and reserved from
//! the owner's units under an active grant, and a revoked grant stops it, at planning and
//! at reservation.

use std::sync::Arc;

use oms_conformance::fixtures::{self, merchant, sku, warehouse, warehouse_id};
use oms_domain::access::{Caller, Scope};
use oms_domain::consignment::ConsignmentTerms;
use oms_domain::order::Channel;
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::usecases::consignments::{put_consignment, revoke_consignment, stock_view};
use oms_domain::usecases::fulfilment::{allocate_order, reserve_order};
use oms_domain::usecases::intake::receive_order;
use oms_domain::usecases::inventory::{put_warehouse, set_on_hand};
use oms_domain::usecases::orders::get_order;
use oms_domain::{ConsignmentId, Currency, Money, OrderId, OrderStatus};
use oms_embedded::Embedded;
use rust_decimal::Decimal;

/// The fixture orders are m-1's; m-2 keeps 10 units of SKU-1 in WH-1 and m-1 none.
async fn world() -> Ports {
    let ports = Embedded::open_in_memory().expect("an in-memory store").ports(Arc::new(SystemClock));
    put_warehouse(&ports, &warehouse("WH-1", "Shared")).await.expect("the warehouse registered");
    let staff = Caller::platform_with_every_scope();
    set_on_hand(&ports, &staff, &warehouse_id("WH-1"), Some(&merchant("m-2")), &sku("SKU-1"), 10)
        .await
        .expect("m-2's units counted");
    ports
}

fn terms() -> ConsignmentTerms {
    let price = Money { amount: Decimal::new(1250, 2), currency: Currency::parse("CNY").expect("CNY") };
    ConsignmentTerms::new(merchant("m-2"), merchant("m-1"), vec![warehouse_id("WH-1")], None, price).expect("valid terms")
}

async fn order_of_m1(ports: &Ports, external_id: &str) -> OrderId {
    let order = fixtures::order(Channel::Generic, external_id);
    assert_eq!(order.merchant_id.as_str(), "m-1");
    let new = oms_domain::order::NewOrder {
        channel: order.channel,
        external_id: order.external_id,
        order_number: order.order_number,
        merchant_id: order.merchant_id,
        placed_at: order.placed_at,
        currency: order.currency,
        customer: order.customer,
        shipping_address: order.shipping_address,
        lines: order.lines,
        charges: order.charges,
        channel_updated_at: order.channel_updated_at,
        cancelled_at: None,
        paid: true,
        deliver_by: None,
    };
    receive_order(ports, new).await.expect("the order received").order_id
}

async fn m2_reserved(ports: &Ports) -> u32 {
    let levels = ports.inventory.stock_of(&sku("SKU-1")).await.expect("the stock read");
    levels.iter().find(|l| l.owner.as_str() == "m-2").expect("m-2's stock").reserved
}

#[tokio::test]
async fn an_order_of_the_seller_is_planned_and_reserved_from_the_owners_units_under_an_active_grant() {
    let ports = world().await;
    let id = ConsignmentId::parse("g-1").unwrap();
    let granted = put_consignment(&ports, &id, terms()).await.unwrap();
    assert!(granted.created && granted.consignment.version == 1);
    let again = put_consignment(&ports, &id, terms()).await.unwrap();
    assert_eq!((again.created, again.consignment), (false, granted.consignment.clone()), "the same terms again change nothing");

    let order_id = order_of_m1(&ports, "C-1").await;
    allocate_order(&ports, &order_id).await.unwrap();
    let order = get_order(&ports, &order_id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Allocated, "{:?}", order.timeline);
    let plan = order.allocation.unwrap();
    let line = &plan.lines[0];
    assert_eq!((line.owner.as_str(), line.transfer_price), ("m-2", Some(terms().transfer_price)));
    assert!(plan.explanation.contains("on consignment"), "{}", plan.explanation);
    reserve_order(&ports, &order_id).await.unwrap();
    assert_eq!(get_order(&ports, &order_id).await.unwrap().status, OrderStatus::Reserved);
    assert_eq!(m2_reserved(&ports).await, line.quantity, "the owner's units are held");

    // The seller sees the consigned stock it may sell; the owner sees who may sell its units.
    let seller = Caller::merchant(merchant("m-1"), [Scope::InventoryRead]);
    let seen = stock_view(&ports, &seller, &sku("SKU-1")).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].consigned, Some((id.clone(), terms().transfer_price)));
    assert_eq!(seen[0].level.available, 10 - line.quantity);
    let owner = Caller::merchant(merchant("m-2"), [Scope::InventoryRead]);
    let seen = stock_view(&ports, &owner, &sku("SKU-1")).await.unwrap();
    assert_eq!((seen[0].consigned_to.clone(), seen[0].consigned.clone()), (vec![merchant("m-1")], None));

    // A revoke keeps the hold placed, and stops new plans.
    let staff = Caller::platform_with_every_scope();
    let revoked = revoke_consignment(&ports, &staff, &id).await.unwrap();
    assert!(revoked.revoked && revoked.version == 2);
    assert_eq!(m2_reserved(&ports).await, line.quantity);
    let later = order_of_m1(&ports, "C-2").await;
    allocate_order(&ports, &later).await.unwrap();
    let later = get_order(&ports, &later).await.unwrap();
    // No stock of the SKU is m-1's to sell any more: the order waits on hold, as for a SKU
    // never stocked, and nothing of m-2's is planned.
    assert_eq!((later.status, later.allocation), (OrderStatus::OnHold, None));
    assert!(stock_view(&ports, &seller, &sku("SKU-1")).await.unwrap().is_empty(), "nothing left for the seller to see");
}

#[tokio::test]
async fn a_grant_revoked_between_plan_and_reserve_holds_none_of_the_owners_units() {
    let ports = world().await;
    let id = ConsignmentId::parse("g-1").unwrap();
    put_consignment(&ports, &id, terms()).await.unwrap();
    let order_id = order_of_m1(&ports, "C-1").await;
    allocate_order(&ports, &order_id).await.unwrap();
    assert_eq!(get_order(&ports, &order_id).await.unwrap().status, OrderStatus::Allocated);

    revoke_consignment(&ports, &Caller::merchant(merchant("m-2"), [Scope::InventoryWrite]), &id).await.unwrap();
    reserve_order(&ports, &order_id).await.unwrap();
    let order = get_order(&ports, &order_id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Backordered, "{:?}", order.timeline);
    assert_eq!(m2_reserved(&ports).await, 0, "the reserve re-checked the grant");
    assert!(ports.inventory.reservation(&order_id).await.unwrap().is_none());
}

#[tokio::test]
async fn only_the_owner_revokes_and_a_grant_between_others_is_not_found() {
    let ports = world().await;
    let id = ConsignmentId::parse("g-1").unwrap();
    put_consignment(&ports, &id, terms()).await.unwrap();
    let seller = Caller::merchant(merchant("m-1"), [Scope::InventoryWrite]);
    let err = revoke_consignment(&ports, &seller, &id).await.unwrap_err();
    assert!(matches!(err, oms_domain::usecases::consignments::ConsignmentError::NotOwner(_)), "{err}");
    let stranger = Caller::merchant(merchant("m-3"), [Scope::InventoryWrite]);
    let err = revoke_consignment(&ports, &stranger, &id).await.unwrap_err();
    assert!(matches!(err, oms_domain::usecases::consignments::ConsignmentError::NotFound(_)), "{err}");
    // An unknown warehouse stores nothing.
    let mut bad = terms();
    bad.warehouses = vec![warehouse_id("WH-9")];
    let other = ConsignmentId::parse("g-2").unwrap();
    assert!(put_consignment(&ports, &other, bad).await.is_err());
    assert!(ports.consignments.get_consignment(&other).await.unwrap().is_none());
}
