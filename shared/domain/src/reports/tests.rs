use chrono::{Duration, TimeZone as _};

use super::*;
use crate::allocation::explain::{Candidate, Costing, Method};
use crate::allocation::{AllocatedLine, Allocation};
use crate::ids::{CarrierId, OrderId, Sku, TrackingNumber, WarehouseId};
use crate::order::tests::sample_new_order;
use crate::order::{Channel, OrderLine};
use crate::shipment::ShipmentStatus;
use crate::Currency;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn order(placed_at: DateTime<Utc>, province: &str, lines: &[(&str, u32, i64)]) -> Order {
    let mut new = sample_new_order("SKU-1", 1);
    new.placed_at = placed_at;
    new.shipping_address.province = Some(province.to_owned());
    new.lines = lines
        .iter()
        .map(|(sku, quantity, cents)| OrderLine {
            sku: Sku::parse(*sku).unwrap(),
            quantity: *quantity,
            unit_price: Decimal::new(*cents, 2),
        })
        .collect();
    Order::receive(new, OrderId::generate(), placed_at)
}

fn allocate(order: &mut Order, warehouses: &[&str], cost: i64) {
    let warehouses: Vec<WarehouseId> = warehouses.iter().map(|w| WarehouseId::parse(*w).unwrap()).collect();
    let lines = order
        .lines
        .iter()
        .zip(warehouses.iter().cycle())
        .map(|(line, warehouse)| AllocatedLine {
            warehouse: warehouse.clone(),
            owner: order.merchant_id.clone(),
            sku: line.sku.clone(),
            quantity: line.quantity,
            transfer_price: None,
        })
        .collect();
    let chosen = Candidate { warehouses, cost: Decimal::new(cost, 2), shipments: 1 };
    let costing = Costing { chosen: chosen.clone(), candidates: vec![chosen], considered: 1, method: Method::Exact, steps: 1 };
    order.allocation = Some(Allocation {
        lines,
        explanation: "cheapest".into(),
        costing: Some(costing),
        planned_at: order.placed_at,
        merge: None,
        shipments: Vec::new(),
        claimed_from: None,
    });
}

fn stock(sku: &str, warehouse: &str, owner: &str, on_hand: i64, held: i64) -> StockFigures {
    StockFigures {
        warehouse: WarehouseId::parse(warehouse).unwrap(),
        owner: MerchantId::parse(owner).unwrap(),
        sku: Sku::parse(sku).unwrap(),
        on_hand,
        held,
        available: on_hand - held,
        set_aside: 0,
    }
}

/// Three orders in November's first week (two in CNY, one in USD from Amazon), one after
/// it; the first delivered, the second split over two warehouses, the third backordered
/// then cancelled.
fn fixture() -> (ReportQuery, Vec<Order>, Shipment) {
    let query = ReportQuery { from: at(1, 0), to: at(8, 0), merchant: None };
    let mut delivered = order(at(2, 10), "Zhejiang", &[("SKU-1", 2, 1990)]);
    allocate(&mut delivered, &["WH-A"], 1200);
    delivered.transition(OrderStatus::Allocated, at(2, 10) + Duration::seconds(30), "planned").unwrap();
    delivered.transition(OrderStatus::Reserved, at(2, 10) + Duration::seconds(60), "held").unwrap();
    delivered.transition(OrderStatus::Shipped, at(2, 11), "shipped").unwrap();
    delivered.transition(OrderStatus::Delivered, at(3, 11) + Duration::hours(1), "delivered").unwrap();

    let mut split = order(at(3, 9), "Guangdong", &[("SKU-2", 1, 500), ("SKU-1", 1, 1990)]);
    split.channel = Channel::Amazon;
    split.currency = Currency::parse("USD").unwrap();
    allocate(&mut split, &["WH-A", "WH-B"], 2000);
    split.transition(OrderStatus::Allocated, at(3, 9) + Duration::seconds(10), "planned").unwrap();
    split.transition(OrderStatus::Reserved, at(3, 9) + Duration::seconds(120), "held").unwrap();

    let mut cancelled = order(at(3, 12), "Zhejiang", &[("SKU-1", 1, 1990)]);
    cancelled.transition(OrderStatus::Backordered, at(3, 12) + Duration::seconds(5), "short").unwrap();
    cancelled.transition(OrderStatus::Cancelled, at(3, 13), "customer").unwrap();

    let late = order(at(8, 0), "Zhejiang", &[("SKU-9", 5, 100)]);

    let mut shipment = Shipment::new(
        &delivered,
        CarrierId::parse("sf").unwrap(),
        TrackingNumber::parse("SF100").unwrap(),
        Vec::new(),
        None,
        None,
        at(2, 11),
    );
    shipment.status = ShipmentStatus::Delivered;
    (query, vec![delivered, split, cancelled, late], shipment)
}

fn collect(templates: &[Template], stock: &[StockFigures]) -> Vec<Document> {
    let (query, orders, shipment) = fixture();
    let mut collector = Collector::new(query, templates);
    for order in &orders {
        if collector.wants_shipments_of(order) {
            collector.add_shipments(std::slice::from_ref(&shipment));
        }
        collector.add_order(order);
    }
    collector.finish(stock)
}

fn table<'a>(document: &'a Document, name: &str) -> &'a Table {
    document.tables.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no table {name}"))
}

/// The rows as their CSV text, to compare whole tables at a glance.
fn text(table: &Table) -> Vec<String> {
    table.rows.iter().map(|row| row.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")).collect()
}

#[test]
fn the_sales_report_sums_per_currency_by_channel_province_sku_and_day() {
    let documents = collect(&[Template::Sales], &[]);
    assert_eq!(documents.len(), 1);
    let sales = &documents[0];
    assert_eq!(text(table(sales, "totals")), ["CNY,2,3,59.70", "USD,1,2,24.90"]);
    assert_eq!(table(sales, "by_channel").columns, ["currency", "channel", "orders", "units", "revenue"]);
    assert_eq!(text(table(sales, "by_channel")), ["CNY,generic,2,3,59.70", "USD,amazon,1,2,24.90"]);
    assert_eq!(text(table(sales, "by_province")), ["CNY,Zhejiang,2,3,59.70", "USD,Guangdong,1,2,24.90"]);
    assert_eq!(text(table(sales, "by_sku")), ["CNY,SKU-1,2,3,59.70", "USD,SKU-1,1,1,19.90", "USD,SKU-2,1,1,5.00"]);
    assert_eq!(
        text(table(sales, "by_day")),
        ["CNY,2026-11-02,1,2,39.80", "CNY,2026-11-03,1,1,19.90", "USD,2026-11-03,1,2,24.90"]
    );
    let by_day = &sales.charts[0];
    assert_eq!((by_day.name, by_day.kind), ("revenue_by_day", ChartKind::Line));
    assert_eq!(by_day.categories, ["2026-11-02", "2026-11-03"]);
    assert_eq!(by_day.series[0], Series { label: "CNY".into(), values: vec![39.8, 19.9] });
    assert_eq!(by_day.series[1], Series { label: "USD".into(), values: vec![0.0, 24.9] });
}

#[test]
fn the_performance_report_has_stage_percentiles_and_rates() {
    let documents = collect(&[Template::Performance], &[]);
    let performance = &documents[0];
    assert_eq!(
        text(table(performance, "stage_times")),
        [
            "received_to_reserved,2,60,120",
            "reserved_to_shipped,1,3540,3540",
            "shipped_to_delivered,1,90000,90000",
            "received_to_delivered,1,93600,93600"
        ]
    );
    assert_eq!(text(table(performance, "rates")), ["3,3,0.6667,0.3333,0.3333,0.3333"]);
    assert_eq!(performance.charts[0].series[0].values[0], 60.0 / 3600.0);
}

#[test]
fn the_logistics_report_has_cost_per_order_and_province_shipments_and_split_rate() {
    let documents = collect(&[Template::Logistics], &[]);
    let logistics = &documents[0];
    assert_eq!(
        text(table(logistics, "shipping_cost")),
        ["all,2,32.00,16.00", "Guangdong,1,20.00,20.00", "Zhejiang,1,12.00,12.00"]
    );
    assert_eq!(text(table(logistics, "shipments")), ["sf,delivered,1"]);
    assert_eq!(text(table(logistics, "split")), ["3,0.3333"]);
    assert_eq!(logistics.charts[0].categories, ["Guangdong", "Zhejiang"]);
}

#[test]
fn the_inventory_report_lists_zero_and_low_stock_first_and_one_merchants_own() {
    let figures =
        [stock("SKU-1", "WH-A", "m-1", 50, 5), stock("SKU-2", "WH-B", "m-1", 3, 3), stock("SKU-3", "WH-A", "m-2", 8, 1)];
    let documents = collect(&[Template::Inventory], &figures);
    assert_eq!(
        text(table(&documents[0], "stock")),
        ["SKU-2,WH-B,m-1,3,3,0,zero", "SKU-3,WH-A,m-2,8,1,7,low", "SKU-1,WH-A,m-1,50,5,45,ok"]
    );
    let (query, ..) = fixture();
    let one = ReportQuery { merchant: Some(MerchantId::parse("m-2").unwrap()), ..query };
    let documents = Collector::new(one, &[Template::Inventory]).finish(&figures);
    assert_eq!(text(table(&documents[0], "stock")), ["SKU-3,WH-A,m-2,8,1,7,low"]);
}

#[test]
fn a_merchants_report_leaves_other_merchants_orders_out() {
    let (query, orders, _) = fixture();
    let mut collector =
        Collector::new(ReportQuery { merchant: Some(MerchantId::parse("m-2").unwrap()), ..query }, &[Template::Sales]);
    orders.iter().for_each(|order| collector.add_order(order));
    let documents = collector.finish(&[]);
    assert!(table(&documents[0], "totals").rows.is_empty());
}

#[test]
fn templates_are_named_one_by_one_or_all() {
    assert_eq!(Template::parse_many("logistics"), Some(vec![Template::Logistics]));
    assert_eq!(Template::parse_many("all").map(|t| t.len()), Some(4));
    assert_eq!(Template::parse_many("colour"), None);
}

#[test]
fn a_report_query_reads_the_period_as_analytics_does_and_a_merchant() {
    let now = at(30, 12);
    let query = ReportQuery::parse(Some("2026-11-01"), Some("2026-11-07"), Some(" m-1 "), now).unwrap();
    assert_eq!((query.from, query.to), (at(1, 0), at(8, 0)), "a date as `to` includes that day");
    assert_eq!(query.merchant, Some(MerchantId::parse("m-1").unwrap()));
    let default = ReportQuery::parse(None, None, None, now).unwrap();
    assert_eq!((default.to - default.from, default.merchant), (Duration::days(30), None));
    assert_eq!(ReportQuery::parse(Some("last week"), None, None, now).unwrap_err().field, "from");
    assert!(ReportQuery::parse(None, None, Some("  "), now).is_err(), "an empty merchant");
}
