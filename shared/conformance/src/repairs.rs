//! Repairs: a repair is stored once per (merchant, customer, idempotency key); a move is
//! conditional on the state it started from; the acceptance inserts the repair's service
//! order (channel `repair`, unpaid, never allocated) in the same write; the start takes
//! the parts out of stock with `consume` ledger entries, or, short of a part, changes
//! nothing; two repairs racing for the last unit of a part leave one started; the close
//! delivers the order and a cancel after acceptance cancels it.

use chrono::{DateTime, Duration, Utc};
use oms_domain::catalogue::SkuFacts;
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::ledger::LedgerKind;
use oms_domain::order::Channel;
use oms_domain::ports::{CreateRepairOutcome, MoveRepairOutcome, Ports, ServiceOrderWrite};
use oms_domain::repair::{Handover, Repair, RepairEvent, RepairItem, RepairRequest, RepairState};
use oms_domain::usecases::repairs::{self, PartRequest, QuoteRequest, RepairActionError};
use oms_domain::{Currency, CustomerId, OrderStatus};
use rust_decimal::Decimal;

use crate::fixtures::{merchant, sku, warehouse, warehouse_id};
use crate::Subject;

fn request(customer: &str, key: &str) -> RepairRequest {
    RepairRequest {
        customer_id: CustomerId::parse(customer).expect("a customer"),
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
        item: RepairItem::new(Some(sku("PHONE-6")), None, "SN-1").expect("an item"),
        fault: "cracked screen".into(),
        photos: vec!["https://img.example/crack.jpg".into()],
        handover: Handover::DropOff,
        workshop: warehouse_id("WH-1"),
    }
}

/// The workshop `WH-1` of `m-1` with `screens` screens on hand.
async fn workshop(s: &Subject, screens: u32) -> Ports {
    s.warehouses.put_warehouse(&warehouse("WH-1", "Workshop")).await.expect("put warehouse");
    let (wh, m, part) = (warehouse_id("WH-1"), merchant("m-1"), sku("SCREEN-6"));
    let _ = s.inventory.set_on_hand(&wh, &m, &part, screens).await.expect("set on hand");
    crate::flash_sales::ports(s)
}

fn quote_request(now: DateTime<Utc>, screens: i64) -> QuoteRequest {
    QuoteRequest {
        currency: Currency::parse("EUR").expect("a currency"),
        labour_minor: 4500,
        parts: vec![PartRequest { sku: sku("SCREEN-6"), quantity: screens, unit_price: None }],
        valid_until: now + Duration::days(7),
    }
}

/// A repair of `customer`, booked, quoted `screens` screens (at the catalogue's price) and
/// accepted.
async fn accepted(p: &Ports, customer: &str, screens: i64) -> Repair {
    let now = Utc::now();
    let m = merchant("m-1");
    let booked = repairs::book(p, &m, request(customer, "k-1"), now).await.expect("book");
    let id = booked.repair.repair_id;
    repairs::quote(p, &m, &id, quote_request(now, screens), now).await.expect("quote");
    repairs::accept(p, &m, &CustomerId::parse(customer).expect("a customer"), &id, now).await.expect("accept")
}

async fn on_hand(s: &Subject) -> u32 {
    let levels = s.inventory.stock_of(&sku("SCREEN-6")).await.expect("stock_of");
    levels.iter().map(|l| l.on_hand).sum()
}

async fn consumed(s: &Subject) -> Vec<i64> {
    let page = s.inventory.ledger(&sku("SCREEN-6"), None, None, 100).await.expect("ledger");
    page.entries.iter().filter(|e| e.kind == LedgerKind::Consume).map(|e| e.delta_on_hand).collect()
}

async fn screen_facts(s: &Subject) {
    let facts = SkuFacts {
        sku: sku("SCREEN-6"),
        merchant_id: merchant("m-1"),
        name: "Screen".into(),
        category: "parts".into(),
        cost: Decimal::new(40, 0),
        list_price: Decimal::new(8990, 2),
        weight_g: 100,
        dims_mm: [150, 70, 5],
        traits: vec![],
        reorder_point: None,
        reorder_quantity: None,
    };
    s.catalogue.put_sku(&facts).await.expect("put sku");
}

pub async fn a_repair_is_stored_once_per_customer_and_key(s: Subject) {
    let first = Repair::book(merchant("m-1"), request("c-1", "k-1"), Utc::now());
    assert_eq!(s.repairs.create_repair(&first).await.expect("create"), CreateRepairOutcome::Created);
    assert_eq!(s.repairs.get_repair(&first.repair_id).await.expect("get"), Some(first.clone()));
    let again = Repair::book(merchant("m-1"), request("c-1", "k-1"), Utc::now());
    assert_eq!(s.repairs.create_repair(&again).await.expect("create"), CreateRepairOutcome::Duplicate(Box::new(first.clone())));
    assert_eq!(s.repairs.get_repair(&again.repair_id).await.expect("get"), None, "nothing written for the repeat");
    let other_key = Repair::book(merchant("m-1"), request("c-1", "k-2"), Utc::now());
    assert_eq!(s.repairs.create_repair(&other_key).await.expect("create"), CreateRepairOutcome::Created);
    let other_merchant = Repair::book(merchant("m-2"), request("c-1", "k-1"), Utc::now());
    assert_eq!(s.repairs.create_repair(&other_merchant).await.expect("create"), CreateRepairOutcome::Created);
}

pub async fn a_repair_move_is_conditional_on_its_state(s: Subject) {
    let r = Repair::book(merchant("m-1"), request("c-1", "k-1"), Utc::now());
    let none = ServiceOrderWrite::Untouched;
    assert_eq!(s.repairs.move_repair(&r, RepairState::Booked, &none, &[]).await.expect("move"), MoveRepairOutcome::NotFound);
    let _ = s.repairs.create_repair(&r).await.expect("create");
    let cancelled = r.apply(RepairEvent::Cancel, Utc::now()).expect("cancel");
    assert_eq!(s.repairs.move_repair(&cancelled, RepairState::Booked, &none, &[]).await.expect("move"), MoveRepairOutcome::Moved);
    assert_eq!(
        s.repairs.move_repair(&cancelled, RepairState::Booked, &none, &[]).await.expect("move"),
        MoveRepairOutcome::Conflict(RepairState::Cancelled)
    );
    assert_eq!(s.repairs.get_repair(&r.repair_id).await.expect("get"), Some(cancelled));
}

pub async fn a_repair_runs_from_booking_to_completed_with_its_order_and_parts(s: Subject) {
    let p = workshop(&s, 5).await;
    screen_facts(&s).await;
    let m = merchant("m-1");
    let r = accepted(&p, "c-1", 2).await;
    let order_id = r.order_id.clone().expect("an order");
    let order = s.orders.get_order(&order_id).await.expect("get order").expect("the repair's order");
    assert_eq!((order.channel, order.external_id.as_str()), (Channel::Repair, r.repair_id.as_str()));
    assert_eq!((order.status, order.paid, order.version), (OrderStatus::Received, false, 1));
    assert_eq!(order.total().amount, Decimal::new(22480, 2), "45.00 labour and two screens at the catalogue's 89.90");
    assert_eq!(on_hand(&s).await, 5, "accepting takes no stock");

    let now = Utc::now();
    let id = r.repair_id.clone();
    let started = repairs::step(&p, &m, None, &id, RepairEvent::Start, now).await.expect("start");
    assert_eq!(started.state, RepairState::InRepair);
    assert_eq!((on_hand(&s).await, consumed(&s).await), (3, vec![-2]), "the parts leave stock when the repair starts");
    repairs::step(&p, &m, None, &id, RepairEvent::Finish { note: "screen replaced".into() }, now).await.expect("finish");
    let ship = RepairEvent::ShipBack {
        carrier: oms_domain::CarrierId::parse("dhl").expect("a carrier"),
        tracking_number: oms_domain::TrackingNumber::parse("TN-1").expect("a tracking number"),
    };
    repairs::step(&p, &m, None, &id, ship, now).await.expect("ship");
    let done = repairs::step(&p, &m, None, &id, RepairEvent::Close, now).await.expect("close");
    assert_eq!(s.repairs.get_repair(&id).await.expect("get"), Some(done));
    let order = s.orders.get_order(&order_id).await.expect("get order").expect("the order");
    assert_eq!(order.status, OrderStatus::Delivered, "the order follows the repair");
    assert!(matches!(
        repairs::step(&p, &merchant("m-2"), None, &id, RepairEvent::Close, now).await,
        Err(RepairActionError::UnknownRepair(_))
    ));
}

pub async fn a_repair_short_of_parts_does_not_start_and_changes_nothing(s: Subject) {
    let p = workshop(&s, 1).await;
    screen_facts(&s).await;
    let m = merchant("m-1");
    let r = accepted(&p, "c-1", 2).await;
    let refused = repairs::step(&p, &m, None, &r.repair_id, RepairEvent::Start, Utc::now()).await;
    assert!(matches!(refused, Err(RepairActionError::PartsShort { available: 1, .. })), "{refused:?}");
    assert_eq!(s.repairs.get_repair(&r.repair_id).await.expect("get"), Some(r.clone()), "still accepted");
    assert_eq!((on_hand(&s).await, consumed(&s).await), (1, vec![]));
    // Cancelled before it started: its order is cancelled with it.
    let customer = CustomerId::parse("c-1").expect("a customer");
    repairs::step(&p, &m, Some(&customer), &r.repair_id, RepairEvent::Cancel, Utc::now()).await.expect("cancel");
    let order = s.orders.get_order(r.order_id.as_ref().expect("an order")).await.expect("get").expect("the order");
    assert_eq!(order.status, OrderStatus::Cancelled);
}

pub async fn two_repairs_racing_for_the_last_part_leave_one_started(s: Subject) {
    let p = workshop(&s, 1).await;
    screen_facts(&s).await;
    let m = merchant("m-1");
    let mut started = Vec::new();
    for customer in ["c-1", "c-2", "c-3", "c-4"] {
        let r = accepted(&p, customer, 1).await;
        let (p, m) = (p.clone(), m.clone());
        started
            .push(tokio::spawn(async move { repairs::step(&p, &m, None, &r.repair_id, RepairEvent::Start, Utc::now()).await }));
    }
    let mut won = 0;
    for task in started {
        match task.await.expect("a task") {
            Ok(r) => {
                assert_eq!(r.state, RepairState::InRepair);
                won += 1;
            }
            Err(RepairActionError::PartsShort { available: 0, .. }) => {}
            Err(other) => panic!("a lost race is parts_short, not {other:?}"),
        }
    }
    assert_eq!(won, 1, "one repair takes the last screen");
    assert_eq!((on_hand(&s).await, consumed(&s).await), (0, vec![-1]), "never below zero");
}
