//! These pin the stored layout: the exact JSON of a record, which is byte for byte the
//! SQLite body and, attribute by attribute, the DynamoDB item's fields. A change here is a
//! change of what is stored (and of what old data must still read as), not a refactoring.

use chrono::{DateTime, Utc};
use oms_conformance::fixtures;
use oms_domain::allocation::{Candidate, Costing, Method};
use oms_domain::order::{Allocation, Channel, Charges, OrderLine};
use oms_domain::stock::Warehouse;
use oms_domain::{Order, OrderId, OrderNumber, OrderStatus};
use rust_decimal::Decimal;

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The suite's order with every part filled in: a fixed id, a second line, charges, an
/// allocation and a second timeline event; the customer's name left out.
fn sample_order() -> Order {
    let mut order = fixtures::order(Channel::WooCommerce, "WC-1001");
    order.order_id = OrderId::parse("ord_01JDXYZ").unwrap();
    order.order_number = OrderNumber::parse("#1001").unwrap();
    order.customer.name = None;
    order.lines.push(OrderLine { sku: fixtures::sku("SKU-2"), quantity: 1, unit_price: Decimal::new(5, 0) });
    order.charges =
        Charges { discount: Decimal::new(250, 2), shipping: Decimal::new(8, 0), tax: Decimal::ZERO, taxes_included: true };
    let planned = at("2026-11-20T12:00:01.250Z");
    order.transition(OrderStatus::Allocated, planned, "planned").unwrap();
    order.allocation = Some(Allocation {
        lines: vec![fixtures::line("WH-1", "SKU-1", 2), fixtures::owned_line("WH-2", "m-2", "SKU-2", 1)],
        explanation: "WH-1 is nearest".into(),
        costing: Some(Costing {
            chosen: Candidate {
                warehouses: vec![fixtures::warehouse_id("WH-1"), fixtures::warehouse_id("WH-2")],
                cost: Decimal::new(1230, 2),
                shipments: 2,
            },
            candidates: vec![Candidate {
                warehouses: vec![fixtures::warehouse_id("WH-1")],
                cost: Decimal::new(1500, 2),
                shipments: 1,
            }],
            considered: 2,
            method: Method::Exact,
            steps: 4,
        }),
        planned_at: planned,
        merge: Some(oms_domain::allocation::merge::Merge {
            group: OrderId::parse("ord_01JDXYW").unwrap(),
            with: vec![OrderId::parse("ord_01JDXYW").unwrap()],
            warehouses: vec![fixtures::warehouse_id("WH-1")],
            saving: Decimal::new(1050, 2),
        }),
        shipments: Vec::new(),
        claimed_from: None,
    });
    order
}

/// The record of `sample_order` at version 1, byte for byte.
const SAMPLE_RECORD: &str = concat!(
    r#"{"order_id":"ord_01JDXYZ","status":"allocated","channel":"woocommerce","external_id":"WC-1001","#,
    r##""order_number":"#1001","merchant_id":"m-1","placed_at":"2026-11-20T10:00:00Z","##,
    r#""customer":{"id":"c-1","email":"a@example.com","phone":"+8613800000000"},"#,
    r#""shipping_address":{"name":"Li Lei","line1":"1 West Lake Rd","city":"Hangzhou","province":"Zhejiang","#,
    r#""postal_code":"310000","country":"CN"},"#,
    r#""currency":"CNY","#,
    r#""lines":[{"sku":"SKU-1","quantity":2,"unit_price":"19.90"},{"sku":"SKU-2","quantity":1,"unit_price":"5"}],"#,
    r#""charges":{"discount":"2.50","shipping":"8","tax":"0","taxes_included":true},"#,
    r#""allocation":{"lines":[{"warehouse":"WH-1","merchant_id":"m-1","sku":"SKU-1","quantity":2},"#,
    r#"{"warehouse":"WH-2","merchant_id":"m-2","sku":"SKU-2","quantity":1}],"#,
    r#""explanation":"WH-1 is nearest","#,
    r#""costing":{"chosen":{"warehouses":["WH-1","WH-2"],"cost":"12.30","shipments":2},"#,
    r#""candidates":[{"warehouses":["WH-1"],"cost":"15.00","shipments":1}],"considered":2,"method":"exact","steps":4},"#,
    r#""planned_at":"2026-11-20T12:00:01.250Z","#,
    r#""merge":{"group":"ord_01JDXYW","with":["ord_01JDXYW"],"warehouses":["WH-1"],"saving":"10.50"}},"#,
    r#""timeline":[{"at":"2026-11-20T12:00:00Z","status":"received","detail":"received from woocommerce"},"#,
    r#"{"at":"2026-11-20T12:00:01.250Z","status":"allocated","detail":"planned"}],"#,
    r#""channel_updated_at":"2026-11-20T10:00:00Z","version":1}"#,
);

fn read(json: &str) -> Result<Order, CorruptRecord> {
    Order::try_from(serde_json::from_str::<OrderRecord>(json).unwrap())
}

#[test]
fn an_order_record_is_exactly_the_documented_json() {
    assert_eq!(serde_json::to_string(&OrderRecord::new(&sample_order(), 1)).unwrap(), SAMPLE_RECORD);
}

#[test]
fn an_order_record_in_todays_layout_reads_back_as_the_order() {
    assert_eq!(read(SAMPLE_RECORD).unwrap(), Order { version: 1, ..sample_order() });
}

#[test]
fn a_record_without_charges_reads_with_zero_charges_and_no_allocation_is_null() {
    let charges = r#""charges":{"discount":"2.50","shipping":"8","tax":"0","taxes_included":true},"#;
    assert_eq!(read(&SAMPLE_RECORD.replace(charges, "")).unwrap().charges, Charges::default());

    let order = Order { allocation: None, ..sample_order() };
    let json = serde_json::to_string(&OrderRecord::new(&order, 1)).unwrap();
    assert!(json.contains(r#""allocation":null,"#), "{json}");
}

#[test]
fn a_record_without_a_channel_version_holds_its_placed_time_as_the_version() {
    let old = SAMPLE_RECORD.replace(r#""channel_updated_at":"2026-11-20T10:00:00Z","#, "");
    assert_ne!(old, SAMPLE_RECORD);
    let order = read(&old).unwrap();
    assert_eq!(order.channel_updated_at, order.placed_at);
}

#[test]
fn a_record_without_an_order_number_reads_with_its_external_id_as_the_number() {
    let order = read(&SAMPLE_RECORD.replace(r##""order_number":"#1001","##, "")).unwrap();
    assert_eq!(order.order_number.as_str(), "WC-1001");
}

#[test]
fn an_allocated_line_without_an_owner_is_read_as_the_orders_merchants() {
    let old = SAMPLE_RECORD.replace(r#""merchant_id":"m-2","#, "");
    assert_ne!(old, SAMPLE_RECORD);
    let order = read(&old).unwrap();
    let owners: Vec<String> = order.allocation.unwrap().lines.into_iter().map(|l| l.owner.to_string()).collect();
    assert_eq!(owners, ["m-1", "m-1"]);
}

#[test]
fn a_corrupt_record_is_an_error_naming_the_field() {
    let corrupt = SAMPLE_RECORD.replace(r#""status":"allocated","detail""#, r#""status":"misplaced","detail""#);
    let err = read(&corrupt).unwrap_err();
    assert_eq!(err, CorruptRecord::new("timeline.status", "unknown status \"misplaced\""));
    assert_eq!(err.to_string(), "the stored field timeline.status is invalid: unknown status \"misplaced\"");

    let corrupt = SAMPLE_RECORD.replace(r#""warehouse":"WH-2""#, r#""warehouse":"""#);
    assert_eq!(read(&corrupt).unwrap_err().field, "allocation.lines.warehouse");

    let corrupt = SAMPLE_RECORD.replace(r#""unit_price":"5""#, r#""unit_price":"lots""#);
    assert!(serde_json::from_str::<OrderRecord>(&corrupt).is_err());
}

/// A warehouse record, byte for byte.
const WAREHOUSE_RECORD: &str = r#"{"warehouse_id":"WH-1","name":"Hangzhou North","merchant_id":"m-1","province":"Zhejiang","city":"Hangzhou","lat":30.2741,"lon":120.1551}"#;

#[test]
fn a_warehouse_record_is_exactly_the_documented_json_and_reads_back() {
    let warehouse = fixtures::warehouse("WH-1", "Hangzhou North");
    assert_eq!(serde_json::to_string(&WarehouseRecord::from(&warehouse)).unwrap(), WAREHOUSE_RECORD);
    let record: WarehouseRecord = serde_json::from_str(WAREHOUSE_RECORD).unwrap();
    assert_eq!(Warehouse::try_from(record).unwrap(), warehouse);
}

#[test]
fn a_record_keeps_the_newest_fifty_entries_and_counts_the_ones_moved_out() {
    let mut order = sample_order();
    for i in 0..58 {
        order.note(at("2026-11-21T00:00:00Z"), format!("note {i}"));
    }
    assert_eq!(order.timeline.len(), 60);
    let record = OrderRecord::new(&order, 3);
    assert_eq!((record.timeline.len(), record.timeline_moved), (TIMELINE_KEPT, 10));
    assert_eq!(record.timeline[0].detail, "note 8", "the newest fifty, oldest first");
    assert_eq!(serde_json::to_value(&record).unwrap()["timeline_moved"], 10);

    let moved: Vec<_> = newly_moved(&order, 0).into_iter().map(|(_, e)| e).collect();
    assert_eq!(newly_moved(&order, 7).iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), [7, 8, 9]);
    assert!(Order::try_from(record.clone()).is_err(), "a record without its moved entries is not the whole order");
    assert!(record.clone().with_moved(moved[1..].to_vec()).is_err(), "a missing moved entry is an error");
    let whole = Order::try_from(record.with_moved(moved).unwrap()).unwrap();
    assert_eq!(whole, Order { version: 3, ..order });
}

#[test]
fn a_plan_stored_before_plans_were_costed_reads_without_costing() {
    let old = SAMPLE_RECORD.replace(
        &SAMPLE_RECORD
            [SAMPLE_RECORD.find(r#""costing""#).unwrap()..SAMPLE_RECORD.find(r#""planned_at":"2026-11-20T12:00:01"#).unwrap()],
        "",
    );
    let order = read(&old).unwrap();
    let allocation = order.allocation.unwrap();
    assert_eq!((allocation.explanation.as_str(), allocation.costing), ("WH-1 is nearest", None));
}

#[test]
fn a_plan_stored_before_orders_merged_reads_as_shipping_alone() {
    let start = SAMPLE_RECORD.find(r#","merge""#).unwrap();
    let end = SAMPLE_RECORD[start..].find("}}").unwrap() + start + 1;
    let old = format!("{}{}", &SAMPLE_RECORD[..start], &SAMPLE_RECORD[end..]);
    let order = read(&old).unwrap();
    assert_eq!(order.allocation.as_ref().unwrap().merge, None);
    assert_eq!(order.merge_group(), &order.order_id, "an order that never merged is its own group");
}

#[test]
fn sku_facts_and_rate_tables_round_trip_through_their_records() {
    let facts = oms_domain::catalogue::SkuFacts::new(
        fixtures::sku("TEA-1"),
        oms_domain::catalogue::UncheckedSkuFacts {
            merchant_id: "m-1".into(),
            name: "Tea".into(),
            category: "tea".into(),
            cost: Decimal::new(125, 1),
            list_price: Decimal::new(399, 1),
            weight_g: 300,
            dims_mm: [1, 2, 3],
            traits: vec!["fragile".into()],
        },
    )
    .unwrap();
    let json = serde_json::to_string(&SkuRecord::from(&facts)).unwrap();
    assert_eq!(
        json,
        r#"{"sku":"TEA-1","merchant_id":"m-1","name":"Tea","category":"tea","cost":"12.5","list_price":"39.9","weight_g":300,"dims_mm":[1,2,3],"traits":["fragile"]}"#
    );
    assert_eq!(oms_domain::catalogue::SkuFacts::try_from(serde_json::from_str::<SkuRecord>(&json).unwrap()).unwrap(), facts);

    let table = oms_domain::carrier::RateTable::new(
        oms_domain::CarrierId::parse("sf").unwrap(),
        oms_domain::Currency::parse("CNY").unwrap(),
        vec![oms_domain::carrier::UncheckedBand {
            service: "standard".into(),
            max_distance_km: 300,
            max_weight_g: 1000,
            price: Decimal::new(800, 2),
            transit_days: 1,
            handles: Vec::new(),
            max_side_mm: None,
        }],
    )
    .unwrap();
    let json = serde_json::to_string(&RateTableRecord::from(&table)).unwrap();
    assert_eq!(
        json,
        r#"{"carrier_id":"sf","currency":"CNY","bands":[{"service":"standard","max_distance_km":300,"max_weight_g":1000,"price":"8","transit_days":1}]}"#
    );
    assert_eq!(oms_domain::carrier::RateTable::try_from(serde_json::from_str::<RateTableRecord>(&json).unwrap()).unwrap(), table);
}

#[test]
fn invoice_details_are_stored_in_the_customer_and_read_back() {
    let mut order = sample_order();
    let shanghai = Address {
        name: None,
        line1: "1 Bund Rd".into(),
        line2: None,
        city: "Shanghai".into(),
        province: None,
        postal_code: None,
        country: "CN".into(),
    };
    order.customer.billing =
        Some(Billing { company: Some("Acme".into()), tax_id: Some("91330100MA27".into()), address: Some(shanghai) });
    let json = serde_json::to_string(&OrderRecord::new(&order, 1)).unwrap();
    let stored = r#""billing":{"company":"Acme","tax_id":"91330100MA27","address":{"line1":"1 Bund Rd","city":"Shanghai","country":"CN"}}}"#;
    assert!(json.contains(stored), "{json}");
    assert_eq!(read(&json).unwrap(), Order { version: 1, ..order });
}
