//! Building blocks for the cases: test orders, warehouses and lines built from the
//! domain's own types, with valid ids throughout.

use chrono::{DateTime, TimeZone, Utc};
use oms_domain::order::{Address, AllocatedLine, Allocation, Channel, Charges, Customer, NewOrder, OrderLine, OrderStatus};
use oms_domain::ports::ReserveOutcome;
use oms_domain::reservation::{HoldId, Reservation};
use oms_domain::stock::Warehouse;
use oms_domain::{Currency, CustomerId, ExternalId, MerchantId, Order, OrderId, OrderNumber, Sku, WarehouseId};
use rust_decimal::Decimal;

/// The phone of the default test customer, already normalised.
pub const PHONE: &str = "+8613800000000";

/// A fixed instant, so stored and expected orders compare equal to the nanosecond.
pub fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().expect("a valid instant")
}

/// A freshly received order from `channel` with the channel's id `external_id`,
/// for customer `c-1` with phone [`PHONE`], two units of `SKU-1`.
pub fn order(channel: Channel, external_id: &str) -> Order {
    order_for(channel, external_id, "c-1", Some(PHONE))
}

/// [`order`] with every part a store keeps filled in, so that a stored layout test sees
/// them all: a fixed id (`ord_01JDXYZ`), WooCommerce order `WC-1001`, charges, and an
/// allocation of two `SKU-1` from `WH-1` with its timeline event.
pub fn complete_order() -> Order {
    let mut order = order(Channel::WooCommerce, "WC-1001");
    order.order_id = OrderId::parse("ord_01JDXYZ").expect("a valid order id");
    order.customer.card = Some("fp_4242".into());
    order.charges =
        Charges { discount: Decimal::new(250, 2), shipping: Decimal::new(8, 0), tax: Decimal::ZERO, taxes_included: true };
    order.transition(OrderStatus::Allocated, noon(), "planned").expect("a received order can be allocated");
    let lines = vec![line("WH-1", "SKU-1", 2)];
    order.allocation = Some(Allocation {
        lines,
        explanation: "WH-1 is nearest".into(),
        costing: None,
        planned_at: noon(),
        merge: None,
        shipments: Vec::new(),
        claimed_from: None,
    });
    order
}

/// A freshly received order for the given customer and (normalised) phone.
pub fn order_for(channel: Channel, external_id: &str, customer: &str, phone: Option<&str>) -> Order {
    let placed_at = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).single().expect("a valid instant");
    let new = NewOrder {
        channel,
        external_id: ExternalId::parse(external_id).expect("a valid external id"),
        order_number: OrderNumber::parse(format!("#{external_id}")).expect("a valid order number"),
        merchant_id: MerchantId::parse("m-1").expect("a valid merchant id"),
        placed_at,
        currency: Currency::parse("CNY").expect("a valid currency"),
        customer: Customer {
            id: CustomerId::parse(customer).expect("a valid customer id"),
            email: Some("a@example.com".into()),
            phone: phone.map(str::to_owned),
            name: Some("Li Lei".into()),
            card: None,
            billing: None,
        },
        shipping_address: Address {
            name: Some("Li Lei".into()),
            line1: "1 West Lake Rd".into(),
            line2: None,
            city: "Hangzhou".into(),
            province: Some("Zhejiang".into()),
            postal_code: Some("310000".into()),
            country: "CN".into(),
        },
        lines: vec![OrderLine { sku: sku("SKU-1"), quantity: 2, unit_price: Decimal::new(1990, 2) }],
        charges: Default::default(),
        channel_updated_at: placed_at,
        cancelled_at: None,
        paid: true,
        deliver_by: None,
    };
    Order::receive(new, OrderId::generate(), noon())
}

/// The fixtures' orders are numbered `#<external id>`.
pub fn order_number(raw: &str) -> OrderNumber {
    OrderNumber::parse(raw).expect("a valid order number")
}

/// `order` as the store keeps it after the insert: at version 1.
pub fn stored(order: &Order) -> Order {
    Order { version: 1, ..order.clone() }
}

/// Orders sorted newest first (order ids are `ord_` + a ULID, so they sort by creation).
pub fn newest_first(orders: &[&Order]) -> Vec<Order> {
    let mut sorted: Vec<Order> = orders.iter().map(|o| stored(o)).collect();
    sorted.sort_by(|a, b| b.order_id.cmp(&a.order_id));
    sorted
}

/// A SKU from a literal known to be valid.
pub fn sku(raw: &str) -> Sku {
    Sku::parse(raw).expect("a valid SKU")
}

/// A warehouse id from a literal known to be valid.
pub fn warehouse_id(raw: &str) -> WarehouseId {
    WarehouseId::parse(raw).expect("a valid warehouse id")
}

/// A fresh order id with no order behind it.
pub fn order_id() -> OrderId {
    OrderId::generate()
}

/// `quantity` units of `sku` from `warehouse`, of the stock merchant `m-1` (the fixtures'
/// merchant) owns there.
pub fn line(warehouse: &str, sku_id: &str, quantity: u32) -> AllocatedLine {
    owned_line(warehouse, "m-1", sku_id, quantity)
}

/// `quantity` units of `sku` from the stock `owner` keeps in `warehouse`.
pub fn owned_line(warehouse: &str, owner: &str, sku_id: &str, quantity: u32) -> AllocatedLine {
    AllocatedLine { warehouse: warehouse_id(warehouse), owner: merchant(owner), sku: sku(sku_id), quantity, transfer_price: None }
}

/// A merchant id from a literal known to be valid.
pub fn merchant(raw: &str) -> MerchantId {
    MerchantId::parse(raw).expect("a valid merchant id")
}

/// A warehouse of merchant `m-1` in Hangzhou.
pub fn warehouse(id: &str, name: &str) -> Warehouse {
    Warehouse {
        warehouse_id: warehouse_id(id),
        name: name.to_owned(),
        merchant_id: MerchantId::parse("m-1").expect("a valid merchant id"),
        province: "Zhejiang".into(),
        city: "Hangzhou".into(),
        lat: 30.2741,
        lon: 120.1551,
        serves: Vec::new(),
    }
}

/// `lines` sorted, to compare reservations whose order the ports leave open.
pub fn sorted(lines: impl Into<Vec<AllocatedLine>>) -> Vec<AllocatedLine> {
    let mut lines = lines.into();
    lines.sort();
    lines
}

/// A reservation of `lines`.
pub fn hold(lines: impl IntoIterator<Item = AllocatedLine>) -> Reservation {
    Reservation::new(lines)
}

/// The hold a reservation placed, insisting that it was placed.
#[track_caller]
pub fn reserved(outcome: ReserveOutcome) -> HoldId {
    match outcome {
        ReserveOutcome::Reserved { hold_id } => hold_id,
        other => panic!("expected Reserved, got {other:?}"),
    }
}

/// `count` distinct SKUs (`SKU-000`, ...), for reservations larger than one write.
pub fn many_skus(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("SKU-{i:03}")).collect()
}
