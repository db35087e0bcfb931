//! The canonical order: what every channel's payload is normalised into, its status
//! machine, and the timeline of what happened to it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{Currency, CustomerId, ExternalId, MerchantId, Money, OrderId, Sku, WarehouseId};

/// Most units of one SKU a single order line may ask for.
pub const MAX_LINE_QUANTITY: u32 = 10_000;
/// Most lines one order may have.
pub const MAX_LINES: usize = 500;

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Shopify,
    #[serde(rename = "woocommerce")]
    WooCommerce,
    Amazon,
    Generic,
    /// Bulk import from a CSV file.
    Import,
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::Shopify, Channel::WooCommerce, Channel::Amazon, Channel::Generic, Channel::Import];
    /// The channels that deliver orders by webhook.
    pub const WEBHOOK: [Channel; 4] = [Channel::Shopify, Channel::WooCommerce, Channel::Amazon, Channel::Generic];

    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Shopify => "shopify",
            Channel::WooCommerce => "woocommerce",
            Channel::Amazon => "amazon",
            Channel::Generic => "generic",
            Channel::Import => "import",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Kept as digits with an optional leading `+`, so lookups match however it was typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Reduces a phone number to `+` and digits: "+86 138-0000 0000" and "+8613800000000" are one customer.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for (i, c) in raw.trim().chars().enumerate() {
        match c {
            '+' if i == 0 => out.push(c),
            '0'..='9' => out.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    (out.chars().filter(char::is_ascii_digit).count() >= 5).then_some(out)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    /// Province or state; some countries have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    pub quantity: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

/// Order-level amounts beyond the lines' unit prices, in the order's currency, each
/// non-negative and as the channel reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charges {
    /// Everything taken off: line and order discounts, coupons, promotions.
    pub discount: Decimal,
    /// What the buyer pays for shipping, before shipping discounts.
    pub shipping: Decimal,
    /// Tax on the items and on shipping.
    pub tax: Decimal,
    /// True when the unit prices already include `tax` (Shopify's `taxes_included`).
    #[serde(default)]
    pub taxes_included: bool,
}

/// An order as a channel delivered it, normalised, before we give it an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub channel: Channel,
    pub external_id: ExternalId,
    pub merchant_id: MerchantId,
    pub placed_at: DateTime<Utc>,
    pub currency: Currency,
    pub customer: Customer,
    pub shipping_address: Address,
    pub lines: Vec<OrderLine>,
    pub charges: Charges,
}

/// Where an order is in its life. See [`OrderStatus::can_become`] for the allowed moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    Allocated,
    Reserved,
    Backordered,
    Shipped,
    InTransit,
    Delivered,
    Cancelled,
    Exception,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::Received,
        OrderStatus::Allocated,
        OrderStatus::Reserved,
        OrderStatus::Backordered,
        OrderStatus::Shipped,
        OrderStatus::InTransit,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Exception,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::Allocated => "allocated",
            OrderStatus::Reserved => "reserved",
            OrderStatus::Backordered => "backordered",
            OrderStatus::Shipped => "shipped",
            OrderStatus::InTransit => "in_transit",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Exception => "exception",
        }
    }

    /// The status machine. Stock is held from `Reserved` until shipment; anything before
    /// shipment may be cancelled; after shipment only the carrier moves the order.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Received, Allocated | Backordered | Cancelled)
                | (Allocated, Reserved | Backordered | Cancelled)
                | (Backordered, Allocated | Cancelled)
                | (Reserved, Shipped | Cancelled)
                | (Shipped, InTransit | Delivered | Exception)
                | (InTransit, Delivered | Exception)
                | (Exception, InTransit | Delivered)
        )
    }

    /// Before shipment: the order can still be cancelled and its stock released.
    pub fn is_cancellable(self) -> bool {
        self.can_become(OrderStatus::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    pub status: OrderStatus,
    pub detail: String,
}

/// So many units of a SKU from one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AllocatedLine {
    pub warehouse: WarehouseId,
    pub sku: Sku,
    pub quantity: u32,
}

/// Which warehouses ship which lines, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub lines: Vec<AllocatedLine>,
    pub explanation: String,
    pub planned_at: DateTime<Utc>,
}

/// The move asked for is not allowed from where the order is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from} cannot become {to}")]
pub struct InvalidTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

/// What an update of an order changes (`applied`) and what the order's stage no longer
/// allows (`refused`), by part: customer, shipping_address, lines, merchant_id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderUpdate {
    pub applied: Vec<&'static str>,
    pub refused: Vec<&'static str>,
}

impl OrderUpdate {
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.refused.is_empty()
    }
}

/// The canonical order. Its JSON form is the `GET /orders/{id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub channel: Channel,
    pub external_id: ExternalId,
    pub merchant_id: MerchantId,
    pub placed_at: DateTime<Utc>,
    pub customer: Customer,
    pub shipping_address: Address,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
    #[serde(default)]
    pub charges: Charges,
    pub allocation: Option<Allocation>,
    pub timeline: Vec<TimelineEvent>,
    /// Bumped by the store on every write; updates are conditional on it.
    pub version: u64,
}

impl Order {
    /// A freshly received order.
    pub fn receive(new: NewOrder, order_id: OrderId, now: DateTime<Utc>) -> Self {
        Order {
            order_id,
            status: OrderStatus::Received,
            channel: new.channel,
            external_id: new.external_id,
            merchant_id: new.merchant_id,
            placed_at: new.placed_at,
            customer: new.customer,
            shipping_address: new.shipping_address,
            currency: new.currency,
            lines: new.lines,
            charges: new.charges,
            allocation: None,
            timeline: vec![TimelineEvent {
                at: now,
                status: OrderStatus::Received,
                detail: format!("received from {}", new.channel),
            }],
            version: 0,
        }
    }

    /// Moves the order to `next`, recording why on the timeline.
    pub fn transition(
        &mut self,
        next: OrderStatus,
        at: DateTime<Utc>,
        detail: impl Into<String>,
    ) -> Result<(), InvalidTransition> {
        if !self.status.can_become(next) {
            return Err(InvalidTransition { from: self.status, to: next });
        }
        self.status = next;
        self.timeline.push(TimelineEvent { at, status: next, detail: detail.into() });
        Ok(())
    }

    /// Records something on the timeline without changing the status.
    pub fn note(&mut self, at: DateTime<Utc>, detail: impl Into<String>) {
        self.timeline.push(TimelineEvent { at, status: self.status, detail: detail.into() });
    }

    /// What replacing this order's content with `new`'s would change, split by what the
    /// order's stage allows: contact and address until shipment; lines, currency and
    /// charges only while no stock is planned or held (received, backordered). The
    /// merchant never changes.
    pub fn compare_update(&self, new: &Order) -> OrderUpdate {
        let mut update = OrderUpdate::default();
        let before_shipment = self.status.is_cancellable();
        let stock_untouched = matches!(self.status, OrderStatus::Received | OrderStatus::Backordered);
        let lines_differ = self.lines != new.lines || self.currency != new.currency || self.charges != new.charges;
        for (part, differs, allowed) in [
            ("customer", self.customer != new.customer, before_shipment),
            ("shipping_address", self.shipping_address != new.shipping_address, before_shipment),
            ("lines", lines_differ, stock_untouched),
            ("merchant_id", self.merchant_id != new.merchant_id, false),
        ] {
            match (differs, allowed) {
                (true, true) => update.applied.push(part),
                (true, false) => update.refused.push(part),
                (false, _) => {}
            }
        }
        update
    }

    /// Takes from `new` what `compare_update` allows and notes on the timeline, in the
    /// name of `source` (a channel, or "request"), what was and was not applied.
    pub fn apply_update(&mut self, new: &Order, at: DateTime<Utc>, source: &str) -> OrderUpdate {
        let update = self.compare_update(new);
        for part in &update.applied {
            match *part {
                "customer" => self.customer = new.customer.clone(),
                "shipping_address" => self.shipping_address = new.shipping_address.clone(),
                "lines" => {
                    self.lines = new.lines.clone();
                    self.currency = new.currency;
                    self.charges = new.charges;
                }
                _ => {}
            }
        }
        if !update.applied.is_empty() {
            self.note(at, format!("updated by {source}: {}", update.applied.join(", ")));
        }
        if !update.refused.is_empty() {
            let refused = update.refused.join(", ");
            self.note(at, format!("update by {source} not applied to {refused}: the order is {}", self.status));
        }
        update
    }

    /// Sum of quantity times unit price over the lines.
    pub fn total(&self) -> Money {
        let amount = self.lines.iter().map(|l| l.unit_price * Decimal::from(l.quantity)).sum();
        Money { amount, currency: self.currency }
    }

    /// Units asked for per SKU (a SKU may appear on several lines).
    pub fn units_by_sku(&self) -> std::collections::BTreeMap<Sku, u32> {
        let mut units = std::collections::BTreeMap::new();
        for line in &self.lines {
            *units.entry(line.sku.clone()).or_insert(0) += line.quantity;
        }
        units
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_new_order(sku: &str, quantity: u32) -> NewOrder {
        NewOrder {
            channel: Channel::Generic,
            external_id: ExternalId::parse("A-1").unwrap(),
            merchant_id: MerchantId::parse("m-1").unwrap(),
            placed_at: Utc::now(),
            currency: Currency::parse("CNY").unwrap(),
            customer: Customer {
                id: CustomerId::parse("c-1").unwrap(),
                email: Some("a@example.com".into()),
                phone: Some("+8613800000000".into()),
                name: None,
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
            lines: vec![OrderLine { sku: Sku::parse(sku).unwrap(), quantity, unit_price: Decimal::new(1990, 2) }],
            charges: Charges::default(),
        }
    }

    #[test]
    fn a_received_order_starts_its_timeline() {
        let order = Order::receive(sample_new_order("SKU-1", 2), OrderId::generate(), Utc::now());
        assert_eq!(order.status, OrderStatus::Received);
        assert_eq!(order.timeline.len(), 1);
        assert_eq!(order.total().to_string(), "39.80 CNY");
    }

    #[test]
    fn shipped_orders_cannot_be_cancelled() {
        let mut order = Order::receive(sample_new_order("SKU-1", 1), OrderId::generate(), Utc::now());
        for next in [OrderStatus::Allocated, OrderStatus::Reserved, OrderStatus::Shipped] {
            order.transition(next, Utc::now(), "step").unwrap();
        }
        let err = order.transition(OrderStatus::Cancelled, Utc::now(), "too late").unwrap_err();
        assert_eq!(err.from, OrderStatus::Shipped);
        assert_eq!(order.timeline.len(), 4);
    }

    #[test]
    fn terminal_statuses_go_nowhere() {
        for next in OrderStatus::ALL {
            assert!(!OrderStatus::Delivered.can_become(next));
            assert!(!OrderStatus::Cancelled.can_become(next));
        }
    }

    #[test]
    fn statuses_serialise_as_the_contract_spells_them() {
        let names: Vec<String> =
            OrderStatus::ALL.iter().map(|s| serde_json::to_value(s).unwrap().as_str().unwrap().to_owned()).collect();
        assert_eq!(
            names,
            ["received", "allocated", "reserved", "backordered", "shipped", "in_transit", "delivered", "cancelled", "exception"]
        );
        for s in OrderStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn a_channel_update_changes_only_what_the_stage_allows() {
        let mut order = Order::receive(sample_new_order("SKU-1", 1), OrderId::generate(), Utc::now());
        let mut newer = sample_new_order("SKU-1", 3);
        newer.shipping_address.line1 = "2 West Lake Rd".into();
        let update = order.apply_update(&Order::receive(newer.clone(), OrderId::generate(), Utc::now()), Utc::now(), "generic");
        assert_eq!(update.applied, ["shipping_address", "lines"]);
        assert_eq!(order.lines[0].quantity, 3);

        order.transition(OrderStatus::Allocated, Utc::now(), "plan").unwrap();
        order.transition(OrderStatus::Reserved, Utc::now(), "held").unwrap();
        let mut later = newer.clone();
        later.lines[0].quantity = 9;
        later.shipping_address.line1 = "3 West Lake Rd".into();
        let update = order.apply_update(&Order::receive(later, OrderId::generate(), Utc::now()), Utc::now(), "generic");
        assert_eq!((update.applied, update.refused), (vec!["shipping_address"], vec!["lines"]));
        assert_eq!(order.lines[0].quantity, 3, "held stock is not silently changed");
        assert!(order.timeline.last().unwrap().detail.contains("not applied to lines"));
    }

    #[test]
    fn an_identical_redelivery_changes_nothing() {
        let new = sample_new_order("SKU-1", 1);
        let mut order = Order::receive(new.clone(), OrderId::generate(), Utc::now());
        let again = Order::receive(new, OrderId::generate(), Utc::now());
        assert!(order.apply_update(&again, Utc::now(), "generic").is_empty());
        assert_eq!(order.timeline.len(), 1);
    }

    #[test]
    fn phones_are_normalised() {
        assert_eq!(normalise_phone("+86 138-0000 0000").as_deref(), Some("+8613800000000"));
        assert_eq!(normalise_phone("(555) 010.1234").as_deref(), Some("5550101234"));
        assert_eq!(normalise_phone("call me"), None);
    }
}
