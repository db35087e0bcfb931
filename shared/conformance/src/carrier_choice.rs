//! What choosing a carrier stores: rate bands' handled traits and longest side (`RateTables`),
//! an order's promised delivery date and its plan's chosen carriers (`OrderStore`), each
//! read back whole; absent on records written before them.

use chrono::NaiveDate;
use oms_domain::carrier_choice::{RunnerUp, ShipmentCarrier};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{InsertOutcome, UpdateOutcome};
use oms_domain::{CarrierId, Currency, Order, WarehouseId};
use rust_decimal::Decimal;

use crate::catalogue::rate_table;
use crate::fixtures::{self, noon, order, stored};
use crate::Subject;

pub async fn a_bands_handled_traits_and_longest_side_read_back_whole(s: Subject) {
    let mut table = rate_table("sf", &[(300, 800), (3000, 1500)]);
    table.bands[1].handles = vec!["fragile".into(), "cold_chain".into()];
    table.bands[1].max_side_mm = Some(600);
    s.rates.put_rates(&table).await.expect("put failed");
    let sf = CarrierId::parse("sf").expect("a valid carrier id");
    let read = s.rates.get_rates(&sf).await.expect("get failed").expect("the table");
    assert_eq!((&read.bands[0].handles, read.bands[0].max_side_mm), (&Vec::<String>::new(), None), "none by default");
    assert_eq!(read, table);
    assert_eq!(s.rates.list_rates().await.expect("list failed"), [table]);
}

pub async fn an_orders_promised_date_and_its_plans_chosen_carriers_read_back_whole(s: Subject) {
    let mut received = order(Channel::Generic, "A-PROMISED");
    received.deliver_by = NaiveDate::from_ymd_opt(2026, 11, 23);
    assert_eq!(s.orders.insert_order(&received).await.expect("insert failed"), InsertOutcome::Inserted);
    let mut current = s.orders.get_order(&received.order_id).await.expect("get failed").expect("stored");
    assert_eq!(current, stored(&received));

    let warehouse = |id: &str| WarehouseId::parse(id).expect("a valid warehouse id");
    let carrier = |id: &str| CarrierId::parse(id).expect("a valid carrier id");
    let chosen = ShipmentCarrier {
        warehouse: warehouse("WH-1"),
        carrier: Some(carrier("sf")),
        service: Some("express".into()),
        price: Some(Decimal::new(1500, 2)),
        currency: Some(Currency::parse("CNY").expect("CNY")),
        transit_days: Some(1),
        why: "sf express: the cheapest of 1 services that fit the parcel and arrive by 2026-11-23 (in 1 day)".into(),
        runners_up: vec![
            RunnerUp {
                carrier: carrier("zto"),
                service: "standard".into(),
                price: Some(Decimal::new(800, 2)),
                transit_days: Some(4),
                why: "arrives 1 day after deliver_by".into(),
            },
            RunnerUp {
                carrier: carrier("yto"),
                service: "standard".into(),
                price: None,
                transit_days: None,
                why: "does not handle fragile".into(),
            },
        ],
    };
    let none_fits = ShipmentCarrier {
        warehouse: warehouse("WH-2"),
        carrier: None,
        service: None,
        price: None,
        currency: None,
        transit_days: None,
        why: "none of 1 services fits the parcel".into(),
        runners_up: Vec::new(),
    };
    current.transition(OrderStatus::Allocated, noon(), "planned").expect("a valid move");
    let mut allocation = fixtures::complete_order().allocation.expect("an allocation");
    allocation.shipments = vec![chosen, none_fits];
    current.allocation = Some(allocation);
    assert_eq!(s.orders.update_order(&current).await.expect("update failed"), UpdateOutcome::Updated { version: 2 });
    let read = s.orders.get_order(&received.order_id).await.expect("get failed").expect("stored");
    assert_eq!(read, Order { version: 2, ..current });
}
