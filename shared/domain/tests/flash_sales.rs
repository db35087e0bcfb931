//! The flash-sale use cases over the embedded adapters (in memory): a sale's window, the
//! limit, repeated keys, and a claim's order carried through the normal flow to reserved
//! from the units the sale set aside, so stock stays on hand = available + held.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};

use oms_conformance::fixtures::{sku, warehouse, warehouse_id};
use oms_domain::alert::AlertStatus;
use oms_domain::flash_sale::{IdempotencyKey, SaleState, SaleTerms};
use oms_domain::messages::{Handled, Outgoing};
use oms_domain::order::{Address, Channel, HoldReason, OrderPatch};
use oms_domain::ports::{Clock, Ports};
use oms_domain::usecases::flash_sales::{claim, create_sale, view_sale, ClaimError, CreateSaleError, NewClaim};
use oms_domain::usecases::fulfilment::{allocate_order, reserve_order};
use oms_domain::usecases::inventory::{put_warehouse, set_on_hand};
use oms_domain::usecases::orders::{cancel_order, modify_order, ModifyError};
use oms_domain::{Currency, CustomerId, MerchantId, OrderStatus};
use oms_embedded::Embedded;

/// A clock tests move by hand.
#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("the clock")
    }
}

struct World {
    ports: Ports,
    clock: Arc<TestClock>,
    store: Embedded,
}

impl World {
    /// Merchant m-1 with 100 units of SKU-1 in WH-1.
    async fn new() -> Self {
        let store = Embedded::open_in_memory().expect("the store opens");
        let clock = Arc::new(TestClock(Mutex::new(Utc::now())));
        let ports = store.ports(clock.clone());
        put_warehouse(&ports, &warehouse("WH-1", "Hangzhou 1")).await.expect("warehouse");
        set_on_hand(
            &ports,
            &oms_domain::access::Caller::platform_with_every_scope(),
            &warehouse_id("WH-1"),
            None,
            &sku("SKU-1"),
            100,
        )
        .await
        .expect("stock");
        Self { ports, clock, store }
    }

    fn at(&self, at: DateTime<Utc>) {
        *self.clock.0.lock().expect("the clock") = at;
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn stock(&self) -> (u32, u32, u32) {
        let levels = self.ports.inventory.stock_of(&sku("SKU-1")).await.expect("stock");
        (levels[0].on_hand, levels[0].reserved, levels[0].available)
    }
}

fn m1() -> MerchantId {
    MerchantId::parse("m-1").expect("a merchant")
}

/// A sale of `units` of SKU-1 that starts in a minute and runs an hour.
fn terms(world: &World, units: u32, limit: u32) -> SaleTerms {
    let starts_at = world.now() + Duration::minutes(1);
    SaleTerms {
        sku: sku("SKU-1"),
        units,
        per_customer_limit: limit,
        starts_at,
        ends_at: starts_at + Duration::hours(1),
        shards: 4,
        price: Decimal::new(9900, 2),
        currency: Currency::parse("CNY").expect("a currency"),
    }
}

fn address() -> Address {
    Address {
        name: Some("Li Lei".into()),
        line1: "1 West Lake Rd".into(),
        line2: None,
        city: "Hangzhou".into(),
        province: Some("Zhejiang".into()),
        postal_code: Some("310000".into()),
        country: "CN".into(),
    }
}

fn new_claim(customer: &str, key: &str, quantity: u32, address: Option<Address>) -> NewClaim {
    NewClaim {
        customer_id: CustomerId::parse(customer).expect("a customer"),
        quantity,
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
        shipping_address: address,
    }
}

#[tokio::test]
async fn a_sale_sets_its_units_aside_so_on_hand_stays_available_plus_held() {
    let world = World::new().await;
    let sale = create_sale(&world.ports, &m1(), terms(&world, 30, 1)).await.expect("the sale");
    assert_eq!(world.stock().await, (100, 30, 70));
    let view = view_sale(&world.ports, &sale.sale_id).await.expect("view").expect("the sale");
    assert_eq!((view.state, view.units_left, view.claims), (SaleState::Scheduled, 30, 0));
}

#[tokio::test]
async fn a_sale_of_more_than_the_merchant_has_available_is_refused_and_sets_nothing_aside() {
    let world = World::new().await;
    let err = create_sale(&world.ports, &m1(), terms(&world, 101, 1)).await.expect_err("too many units");
    assert!(matches!(err, CreateSaleError::NotEnoughStock(ref short) if short.available == 100), "{err:?}");
    assert_eq!(world.stock().await, (100, 0, 100));
    let other = MerchantId::parse("m-2").expect("a merchant");
    assert!(create_sale(&world.ports, &other, terms(&world, 1, 1)).await.is_err(), "m-1's units are not m-2's to sell");
}

#[tokio::test]
async fn a_claim_before_the_start_or_after_the_end_is_not_active_and_stores_nothing() {
    let world = World::new().await;
    let sale = create_sale(&world.ports, &m1(), terms(&world, 10, 1)).await.expect("the sale");
    let early = claim(&world.ports, &sale.sale_id, new_claim("c-1", "k-1", 1, Some(address()))).await;
    assert!(matches!(early, Err(ClaimError::NotActive { state: SaleState::Scheduled, .. })), "{early:?}");
    world.at(sale.terms.ends_at);
    let late = claim(&world.ports, &sale.sale_id, new_claim("c-1", "k-1", 1, Some(address()))).await;
    assert!(matches!(late, Err(ClaimError::NotActive { state: SaleState::Ended, .. })), "{late:?}");
    let view = view_sale(&world.ports, &sale.sale_id).await.expect("view").expect("the sale");
    assert_eq!((view.state, view.units_left, view.claims), (SaleState::Ended, 10, 0));
}

#[tokio::test]
async fn with_a_limit_of_one_a_second_claim_is_limit_exceeded_and_the_same_key_again_is_the_first_claim() {
    let world = World::new().await;
    let sale = create_sale(&world.ports, &m1(), terms(&world, 10, 1)).await.expect("the sale");
    world.at(sale.terms.starts_at);
    let first = claim(&world.ports, &sale.sale_id, new_claim("c-1", "k-1", 1, Some(address()))).await.expect("a claim");
    assert!(!first.repeated);
    let again = claim(&world.ports, &sale.sale_id, new_claim("c-1", "k-1", 1, Some(address()))).await.expect("the same");
    assert_eq!((again.claim.clone(), again.repeated), (first.claim.clone(), true));
    let second = claim(&world.ports, &sale.sale_id, new_claim("c-1", "k-2", 1, Some(address()))).await;
    assert!(matches!(second, Err(ClaimError::LimitExceeded { limit: 1, claimed: 1, .. })), "{second:?}");
    let too_many = claim(&world.ports, &sale.sale_id, new_claim("c-2", "k-3", 2, Some(address()))).await;
    assert!(matches!(too_many, Err(ClaimError::LimitExceeded { limit: 1, claimed: 0, wanted: 2 })), "{too_many:?}");
    let stolen = claim(&world.ports, &sale.sale_id, new_claim("c-3", "k-1", 1, Some(address()))).await;
    assert!(matches!(stolen, Err(ClaimError::KeyReused(_))), "{stolen:?}");
    // After the end, the first key still answers its claim.
    world.at(sale.terms.ends_at);
    let late = claim(&world.ports, &sale.sale_id, new_claim("c-1", "k-1", 1, Some(address()))).await.expect("the same");
    assert_eq!(late.claim, first.claim);
}

#[tokio::test]
async fn the_last_units_are_claimed_from_whichever_shard_holds_them_then_the_sale_is_sold_out() {
    let world = World::new().await;
    let sale = create_sale(&world.ports, &m1(), terms(&world, 5, 1)).await.expect("the sale");
    world.at(sale.terms.starts_at);
    for i in 0..5 {
        claim(&world.ports, &sale.sale_id, new_claim(&format!("c-{i}"), &format!("k-{i}"), 1, None)).await.expect("a unit left");
    }
    let sold_out = claim(&world.ports, &sale.sale_id, new_claim("c-9", "k-9", 1, None)).await;
    assert!(matches!(sold_out, Err(ClaimError::SoldOut { units_left: 0, .. })), "{sold_out:?}");
    let view = view_sale(&world.ports, &sale.sale_id).await.expect("view").expect("the sale");
    assert_eq!((view.state, view.units_left, view.units_claimed, view.claims), (SaleState::SoldOut, 0, 5, 5));
}

#[tokio::test]
async fn a_claims_order_goes_through_the_normal_flow_to_reserved_from_the_units_set_aside() {
    let world = World::new().await;
    let sale = create_sale(&world.ports, &m1(), terms(&world, 10, 2)).await.expect("the sale");
    world.at(sale.terms.starts_at);
    let made = claim(&world.ports, &sale.sale_id, new_claim("c-1", "k-1", 2, Some(address()))).await.expect("a claim");
    let id = &made.claim.order_id;
    let queued: Vec<Outgoing> = world
        .store
        .pending(oms_domain::messages::QueueName::Allocate)
        .await
        .expect("rows")
        .into_iter()
        .map(|row| Outgoing::stored(oms_domain::messages::QueueName::Allocate, row.body))
        .collect();
    assert_eq!(queued.len(), 1, "the message that makes the claim's order was queued with it");
    assert_eq!(world.ports.orders.get_order(id).await.expect("read"), None, "made from the message");
    let allocate = oms_domain::usecases::fulfilment::Allocate::default();
    let made_and_planned = oms_domain::messages::consume(&allocate, &world.ports, &queued[0].body).await;
    assert_eq!(made_and_planned.expect("allocate"), Handled::Moved(OrderStatus::Allocated));
    assert_eq!(reserve_order(&world.ports, id).await.expect("reserve"), Handled::Moved(OrderStatus::Reserved));
    let order = world.ports.orders.get_order(id).await.expect("read").expect("the order");
    assert_eq!((order.channel, order.external_id.as_str()), (Channel::FlashSale, made.claim.claim_id.as_str()));
    assert_eq!(order.merchant_id, m1());
    assert_eq!(world.stock().await, (100, 10, 90), "the order's hold is inside the set-aside, not on top of it");
    let hold = world.ports.inventory.reservation(id).await.expect("read").expect("a hold");
    assert_eq!(hold.reservation.units(), 2);
    // A cancel gives the units back to stock.
    cancel_order(&world.ports, id, "changed my mind").await.expect("cancel");
    assert_eq!(world.stock().await, (100, 8, 92));
}

#[tokio::test]
async fn a_claim_without_an_address_waits_on_hold_until_one_is_given_and_its_lines_never_change() {
    let world = World::new().await;
    let sale = create_sale(&world.ports, &m1(), terms(&world, 10, 1)).await.expect("the sale");
    world.at(sale.terms.starts_at);
    let made = claim(&world.ports, &sale.sale_id, new_claim("c-1", "k-1", 1, None)).await.expect("a claim");
    let id = &made.claim.order_id;
    let [message] = &world.store.pending(oms_domain::messages::QueueName::Allocate).await.expect("rows")[..] else {
        panic!("one message, the claim's")
    };
    let allocate = oms_domain::usecases::fulfilment::Allocate::default();
    let made_on_hold = oms_domain::messages::consume(&allocate, &world.ports, &message.body).await.expect("made");
    assert!(matches!(made_on_hold, Handled::Skipped(_)), "{made_on_hold:?}");
    let order = world.ports.orders.get_order(id).await.expect("read").expect("the order");
    assert_eq!((order.status, order.hold()), (OrderStatus::OnHold, Some(HoldReason::AddressMissing)));
    assert!(matches!(allocate_order(&world.ports, id).await.expect("allocate"), Handled::Skipped(_)));
    let lines = OrderPatch { lines: Some(order.lines.clone()), ..OrderPatch::default() };
    assert!(matches!(modify_order(&world.ports, id, lines).await, Err(ModifyError::NotModifiable { .. })));
    let patch = OrderPatch { shipping_address: Some(address()), ..OrderPatch::default() };
    modify_order(&world.ports, id, patch).await.expect("the address is given");
    assert_eq!(allocate_order(&world.ports, id).await.expect("allocate"), Handled::Moved(OrderStatus::Allocated));
    assert_eq!(reserve_order(&world.ports, id).await.expect("reserve"), Handled::Moved(OrderStatus::Reserved));
    for status in [AlertStatus::Open, AlertStatus::Resolved] {
        let alerts = world.ports.alerts.list_alerts(status, None, None, 10).await.expect("alerts");
        assert!(alerts.alerts.is_empty(), "a missing address is the buyer's to give, not staff's: {alerts:?}");
    }
}
