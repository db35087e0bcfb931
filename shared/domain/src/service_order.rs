//! Orders for services: what a customer is charged for a repair's labour and parts, or a
//! rental's rent and deposit. They live in the order flow like any order (one id, one
//! timeline, payments, `GET /orders/{id}`), made by the platform in an internal channel
//! named after their source ([`Channel::is_service`]: `repair`, `rental`) with the source
//! record's id as external id, unpaid.
//!
//! One rule keeps them off the stock path: an order of a service channel is never
//! allocated. It is stored `received` with nothing queued, allocation refuses it if it is
//! ever asked to plan it, and the index of orders by status leaves it out
//! ([`Order::waits_in_status_index`]) so the sweep never queues it again. Its lines are
//! what is charged, not units to take from a shelf (a repair's parts leave stock through
//! the ledger's `consume` entries when the repair starts, not through the order).
//!
//! Its status follows the service record instead ([`follow`]): `received` while the
//! service is under way, `delivered` once it is done (the repair completed, the rental
//! settled), `cancelled` when the record is cancelled. Each move is written in the same
//! atomic write as the record's own move, so the two never disagree.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::order::{Address, Channel, Charges, Customer, NewOrder, OrderLine};
use crate::{Currency, CustomerId, ExternalId, MerchantId, Order, OrderId, OrderNumber, OrderStatus, ValidationError};

/// What a service order is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCharge {
    /// A service channel ([`Channel::is_service`]).
    pub channel: Channel,
    /// The source record's id: the order's external id and number.
    pub source_id: String,
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub currency: Currency,
    /// Where the service's item goes back to, when it does (a repair picked up).
    pub address: Option<Address>,
    /// What is charged, one line per item of the charge.
    pub lines: Vec<OrderLine>,
}

/// The unpaid order of `charge`, received, with a note that it takes no stock.
pub fn service_order(charge: ServiceCharge, order_id: OrderId, now: DateTime<Utc>) -> Result<Order, ValidationError> {
    if !charge.channel.is_service() {
        return Err(ValidationError::new("channel", format!("{} is not a service channel", charge.channel)));
    }
    let new = NewOrder {
        channel: charge.channel,
        external_id: ExternalId::parse(&charge.source_id)?,
        order_number: OrderNumber::parse(&charge.source_id)?,
        merchant_id: charge.merchant_id,
        placed_at: now,
        currency: charge.currency,
        customer: Customer::known(charge.customer_id),
        shipping_address: charge.address.unwrap_or_else(crate::usecases::flash_sales::no_address),
        lines: charge.lines,
        charges: Charges::default(),
        channel_updated_at: now,
        cancelled_at: None,
        // Made by the platform: unpaid until the customer pays.
        paid: false,
        deliver_by: None,
    };
    let mut order = Order::receive(new, order_id, now);
    order.note(now, format!("a {} service order: charged, never allocated from stock", charge.channel));
    Ok(order)
}

/// How a service ended, for its order to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceEnd {
    /// The service was given: the order is `delivered`.
    Done,
    /// The service was called off: the order is `cancelled`.
    Cancelled,
}

/// `order` moved to where `end` puts it, with `detail` on its timeline; `None` when it
/// is final already (a staff cancel of the order itself), so there is nothing to write.
/// Refuses an order that is not a service order.
pub fn follow(order: &Order, end: ServiceEnd, at: DateTime<Utc>, detail: &str) -> Result<Option<Order>, ValidationError> {
    if !order.channel.is_service() {
        return Err(ValidationError::new("order", format!("order {} is not a service order", order.order_id)));
    }
    if order.status.is_final() {
        return Ok(None);
    }
    let status = match end {
        ServiceEnd::Done => OrderStatus::Delivered,
        ServiceEnd::Cancelled => OrderStatus::Cancelled,
    };
    let mut next = order.clone();
    next.status = status;
    next.timeline.push(crate::order::TimelineEvent { at, status, detail: detail.to_owned() });
    Ok(Some(next))
}

/// A line of `quantity` at `unit_price` of a service's own code (`sku`, a code of the
/// service rather than a stocked SKU, such as [`crate::repair::LABOUR_SKU`]).
pub fn charge_line(sku: &str, quantity: u32, unit_price: Decimal) -> Result<OrderLine, ValidationError> {
    OrderLine::new(crate::Sku::parse(sku)?, i64::from(quantity), unit_price)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(channel: Channel) -> ServiceCharge {
        ServiceCharge {
            channel,
            source_id: "rp_01JDREPAIR".into(),
            merchant_id: MerchantId::parse("m-1").unwrap(),
            customer_id: CustomerId::parse("c-1").unwrap(),
            currency: Currency::parse("EUR").unwrap(),
            address: None,
            lines: vec![charge_line("SERVICE-LABOUR", 1, Decimal::new(4500, 2)).unwrap()],
        }
    }

    #[test]
    fn a_service_order_is_received_unpaid_under_its_source_id() {
        let order = service_order(charge(Channel::Repair), OrderId::generate(), Utc::now()).unwrap();
        assert_eq!((order.status, order.paid, order.channel), (OrderStatus::Received, false, Channel::Repair));
        assert_eq!(order.external_id.as_str(), "rp_01JDREPAIR");
        assert!(!order.waits_in_status_index(), "never swept for allocation");
        assert!(service_order(charge(Channel::Auction), OrderId::generate(), Utc::now()).is_err());
    }

    #[test]
    fn a_service_order_follows_its_record_to_delivered_or_cancelled_once() {
        let order = service_order(charge(Channel::Rental), OrderId::generate(), Utc::now()).unwrap();
        let done = follow(&order, ServiceEnd::Done, Utc::now(), "rental settled").unwrap().unwrap();
        assert_eq!((done.status, done.timeline.last().unwrap().detail.as_str()), (OrderStatus::Delivered, "rental settled"));
        assert_eq!(follow(&done, ServiceEnd::Cancelled, Utc::now(), "late").unwrap(), None, "final stays final");
        let off = follow(&order, ServiceEnd::Cancelled, Utc::now(), "booking cancelled").unwrap().unwrap();
        assert_eq!(off.status, OrderStatus::Cancelled);
    }

    #[test]
    fn only_service_orders_follow_a_record() {
        let mut order = service_order(charge(Channel::Repair), OrderId::generate(), Utc::now()).unwrap();
        order.channel = Channel::Generic;
        assert!(follow(&order, ServiceEnd::Done, Utc::now(), "x").is_err());
        assert!(order.waits_in_status_index());
    }
}
