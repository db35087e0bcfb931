//! Updating an order we hold: what a newer version of it may change at the order's stage.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::{order_lines, Address, AddressParts, Customer, Order, OrderLine, OrderStatus};
use crate::money::{self, Currency};
use crate::validation::parse_json;
use crate::{Sku, ValidationError};

/// A part of an order that an update may replace, named as the order's JSON names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderPart {
    Customer,
    ShippingAddress,
    /// The lines, with the currency and charges they are priced in.
    Lines,
    MerchantId,
}

impl OrderPart {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderPart::Customer => "customer",
            OrderPart::ShippingAddress => "shipping_address",
            OrderPart::Lines => "lines",
            OrderPart::MerchantId => "merchant_id",
        }
    }

    /// The parts as a message lists them: "shipping_address, lines".
    pub fn join(parts: &[OrderPart]) -> String {
        parts.iter().map(OrderPart::as_str).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for OrderPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an update of an order changes (`applied`) and what the order's stage no longer
/// allows (`refused`), by part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderUpdate {
    pub applied: Vec<OrderPart>,
    pub refused: Vec<OrderPart>,
}

impl OrderUpdate {
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.refused.is_empty()
    }
}

impl Order {
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
            (OrderPart::Customer, self.customer != new.customer, before_shipment),
            (OrderPart::ShippingAddress, self.shipping_address != new.shipping_address, before_shipment),
            (OrderPart::Lines, lines_differ, stock_untouched),
            (OrderPart::MerchantId, self.merchant_id != new.merchant_id, false),
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
            match part {
                OrderPart::Customer => self.customer = new.customer.clone(),
                OrderPart::ShippingAddress => self.shipping_address = new.shipping_address.clone(),
                OrderPart::Lines => {
                    self.lines = new.lines.clone();
                    self.currency = new.currency;
                    self.charges = new.charges;
                }
                // Never applied: compare_update refuses every change of merchant.
                OrderPart::MerchantId => {}
            }
        }
        if !update.applied.is_empty() {
            self.note(at, format!("updated by {source}: {}", OrderPart::join(&update.applied)));
        }
        if !update.refused.is_empty() {
            let refused = OrderPart::join(&update.refused);
            self.note(at, format!("update by {source} not applied to {refused}: the order is {}", self.status));
        }
        update
    }
}

/// The replaceable parts of an order, as `PATCH /orders/{id}` gives them in the generic
/// channel's shapes; a part left out stays as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPatch {
    pub customer: Option<Customer>,
    pub shipping_address: Option<Address>,
    pub lines: Option<Vec<OrderLine>>,
}

impl OrderPatch {
    /// Parses a `PATCH /orders/{id}` body; prices are in the order's `currency`. Each part
    /// goes through the checks a channel's order does, and errors name the same fields.
    pub fn parse(body: &[u8], currency: Currency) -> Result<OrderPatch, ValidationError> {
        let raw: PatchBody = parse_json(body)?;
        if raw.customer.is_none() && raw.shipping_address.is_none() && raw.lines.is_none() {
            return Err(ValidationError::new("", "give at least one of customer, shipping_address, lines"));
        }
        let customer = raw
            .customer
            .map(|c| {
                Customer::parse(&c.id, c.email.as_deref(), c.phone.as_deref(), c.name.as_deref())
                    .map_err(|e| e.within("customer"))
            })
            .transpose()?;
        let shipping_address = raw
            .shipping_address
            .map(|a| {
                Address::parse(AddressParts {
                    name: a.name.as_deref(),
                    line1: a.line1.as_deref(),
                    line2: a.line2.as_deref(),
                    city: a.city.as_deref(),
                    province: a.province.as_deref(),
                    postal_code: a.postal_code.as_deref(),
                    country: a.country.as_deref(),
                })
                .map_err(|e| e.within("shipping_address"))
            })
            .transpose()?;
        let lines = raw.lines.map(|lines| order_lines(&lines, "lines", |l| l.parse(currency))).transpose()?;
        Ok(OrderPatch { customer, shipping_address, lines })
    }
}

/// The body of `PATCH /orders/{id}`: the generic channel's customer, address and line shapes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    customer: Option<PatchCustomer>,
    shipping_address: Option<PatchAddress>,
    lines: Option<Vec<PatchLine>>,
}

#[derive(Debug, Deserialize)]
struct PatchCustomer {
    id: String,
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PatchAddress {
    name: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    province: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PatchLine {
    sku: Option<String>,
    quantity: i64,
    unit_price: String,
}

impl PatchLine {
    /// The checks (and messages) of the channels' `order_line`: a SKU, then the quantity,
    /// then the price text in the order's currency.
    fn parse(&self, currency: Currency) -> Result<OrderLine, ValidationError> {
        let sku = match self.sku.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Sku::parse(s).map_err(|e| e.within("sku"))?,
            _ => return Err(ValidationError::new("sku", "the line has no SKU; every line must name one")),
        };
        super::check_quantity(self.quantity)?;
        let unit_price = money::parse_price(&self.unit_price, currency).map_err(|e| e.within("unit_price"))?;
        OrderLine::new(sku, self.quantity, unit_price)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample_new_order;
    use super::*;
    use crate::OrderId;

    #[test]
    fn a_channel_update_changes_only_what_the_stage_allows() {
        let mut order = Order::receive(sample_new_order("SKU-1", 1), OrderId::generate(), Utc::now());
        let mut newer = sample_new_order("SKU-1", 3);
        newer.shipping_address.line1 = "2 West Lake Rd".into();
        let update = order.apply_update(&Order::receive(newer.clone(), OrderId::generate(), Utc::now()), Utc::now(), "generic");
        assert_eq!(update.applied, [OrderPart::ShippingAddress, OrderPart::Lines]);
        assert_eq!(order.lines[0].quantity, 3);

        order.transition(OrderStatus::Allocated, Utc::now(), "plan").unwrap();
        order.transition(OrderStatus::Reserved, Utc::now(), "held").unwrap();
        let mut later = newer.clone();
        later.lines[0].quantity = 9;
        later.shipping_address.line1 = "3 West Lake Rd".into();
        let update = order.apply_update(&Order::receive(later, OrderId::generate(), Utc::now()), Utc::now(), "generic");
        assert_eq!((update.applied, update.refused), (vec![OrderPart::ShippingAddress], vec![OrderPart::Lines]));
        assert_eq!(order.lines[0].quantity, 3, "held stock is not silently changed");
        assert!(order.timeline.last().unwrap().detail.contains("not applied to lines"));
        assert!(order.timeline.iter().any(|e| e.detail == "updated by generic: shipping_address, lines"));
    }

    #[test]
    fn parts_are_named_as_the_order_names_them() {
        let parts = [OrderPart::Customer, OrderPart::ShippingAddress, OrderPart::Lines, OrderPart::MerchantId];
        let json = serde_json::to_value(parts).unwrap();
        assert_eq!(json, serde_json::json!(["customer", "shipping_address", "lines", "merchant_id"]));
        for (i, part) in parts.iter().enumerate() {
            assert_eq!(json[i], part.as_str());
            assert_eq!(part.to_string(), part.as_str());
        }
        assert_eq!(OrderPart::join(&parts[1..3]), "shipping_address, lines");
    }

    #[test]
    fn a_patch_names_each_bad_field() {
        let cny = Currency::parse("CNY").unwrap();
        let patch = OrderPatch::parse(br#"{"lines":[{"sku":"SKU-1","quantity":2,"unit_price":"19.90"}]}"#, cny).unwrap();
        assert_eq!((patch.customer, patch.shipping_address), (None, None));
        assert_eq!(patch.lines.unwrap()[0].unit_price.to_string(), "19.9");
        let cases: [(&[u8], &str); 7] = [
            (br#"{}"#, ""),
            (br#"{"note":"x"}"#, "note"),
            (br#"{"lines":[]}"#, "lines"),
            (br#"{"lines":[{"sku":" ","quantity":1,"unit_price":"1"}]}"#, "lines[0].sku"),
            (br#"{"lines":[{"sku":"A","quantity":0,"unit_price":"x"}]}"#, "lines[0].quantity"),
            (br#"{"customer":{"id":"c-1","phone":"call me"}}"#, "customer.phone"),
            (br#"{"shipping_address":{"line1":"1 Rd","city":"X","country":"CHN"}}"#, "shipping_address.country"),
        ];
        for (body, field) in cases {
            let err = OrderPatch::parse(body, cny).unwrap_err();
            assert_eq!(err.field, field, "{}: {err}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn an_identical_redelivery_changes_nothing() {
        let new = sample_new_order("SKU-1", 1);
        let mut order = Order::receive(new.clone(), OrderId::generate(), Utc::now());
        let again = Order::receive(new, OrderId::generate(), Utc::now());
        assert!(order.apply_update(&again, Utc::now(), "generic").is_empty());
        assert_eq!(order.timeline.len(), 1);
    }
}
