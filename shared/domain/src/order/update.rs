//! Updating an order we hold: what a newer version of it may change at the order's stage.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::{Address, Customer, Order, OrderLine, OrderStatus};

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
    /// order's stage allows: contact and address until the first shipment; lines, currency and
    /// charges only while no stock is planned or held (received, on hold, backordered). The
    /// merchant never changes.
    pub fn compare_update(&self, new: &Order) -> OrderUpdate {
        let mut update = OrderUpdate::default();
        let before_shipment = self.status.is_before_shipment();
        let stock_untouched = matches!(self.status, OrderStatus::Received | OrderStatus::OnHold | OrderStatus::Backordered);
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

/// The replaceable parts of an order (`PATCH /orders/{id}`); a part left out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderPatch {
    pub customer: Option<Customer>,
    pub shipping_address: Option<Address>,
    pub lines: Option<Vec<OrderLine>>,
}

/// The most characters an operator may put in one free-text field of an order (a name, an
/// email, a phone, an address part) through `PATCH /orders/{id}`. Identifiers (customer id,
/// SKU) are bounded at [`crate::ids::MAX_ID_LEN`] and lines at [`super::MAX_LINES`], so a
/// patch within these limits keeps the stored order small whatever the body size.
pub const MAX_TEXT_CHARS: usize = 200;

/// A free-text field over [`MAX_TEXT_CHARS`]: its JSON path and its length in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlong {
    pub field: String,
    pub chars: usize,
}

impl OrderPatch {
    pub fn is_empty(&self) -> bool {
        self.customer.is_none() && self.shipping_address.is_none() && self.lines.is_none()
    }

    /// The first free-text field of this patch over [`MAX_TEXT_CHARS`], if any.
    pub fn first_overlong(&self) -> Option<Overlong> {
        let mut fields: Vec<(&str, Option<&str>)> = Vec::new();
        if let Some(c) = &self.customer {
            fields.extend([
                ("customer.email", c.email.as_deref()),
                ("customer.phone", c.phone.as_deref()),
                ("customer.name", c.name.as_deref()),
            ]);
        }
        if let Some(a) = &self.shipping_address {
            fields.extend([
                ("shipping_address.name", a.name.as_deref()),
                ("shipping_address.line1", Some(a.line1.as_str())),
                ("shipping_address.line2", a.line2.as_deref()),
                ("shipping_address.city", Some(a.city.as_str())),
                ("shipping_address.province", a.province.as_deref()),
                ("shipping_address.postal_code", a.postal_code.as_deref()),
            ]);
        }
        fields
            .into_iter()
            .filter_map(|(field, value)| value.map(|v| (field, v.chars().count())))
            .find(|&(_, chars)| chars > MAX_TEXT_CHARS)
            .map(|(field, chars)| Overlong { field: field.to_owned(), chars })
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
    fn an_identical_redelivery_changes_nothing() {
        let new = sample_new_order("SKU-1", 1);
        let mut order = Order::receive(new.clone(), OrderId::generate(), Utc::now());
        let again = Order::receive(new, OrderId::generate(), Utc::now());
        assert!(order.apply_update(&again, Utc::now(), "generic").is_empty());
        assert_eq!(order.timeline.len(), 1);
    }
}
