//! Updating an order we hold: what a newer version of it may change at the order's stage.

use chrono::{DateTime, Utc};

use super::{Order, OrderStatus};

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
}
