//! What the OMS tells systems outside it: a warehouse is asked to ship an order's lines (and
//! told when the order is cancelled), and the order's sales channel learns that it shipped.
//!
//! One mechanism carries all of them. The write that makes a notice due queues an
//! [`OutboundNotice`] with it (the outbox: the notice goes if and only if the write lands)
//! on the `outbound` queue; its consumer
//! ([`Deliver`](crate::usecases::outbound::Deliver)) reads the order as it is then, builds
//! the [`Delivery`] and hands it to the [`Outbound`](crate::ports::Outbound) port, whose
//! adapter speaks each destination's API. Delivery is at least once: a failure the
//! destination may get over (a timeout, a 5xx, a 429) leaves the message to be delivered
//! again, and after repeated failures the queue moves it to its dead letters; every
//! delivery carries its `request_id`, the same on every attempt, so the destination (or the
//! adapter, by reading first) does it once. A destination that refuses a notice for good
//! (a 4xx) raises a `notice_refused` alert for staff.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::messages::{Outgoing, QueueMessage, QueueName};
use crate::order::{Address, Channel};
use crate::{CarrierId, ExternalId, MerchantId, Order, OrderId, OrderNumber, Sku, TrackingNumber, WarehouseId};

/// What is due to be told, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    /// Each warehouse of the order's plan is asked to pick, pack and ship its lines.
    FulfilmentRequested { order_id: OrderId },
    /// Each warehouse that was asked to ship the order is told it is cancelled: ship
    /// nothing that has not left.
    FulfilmentCancelled { order_id: OrderId },
    /// The order's sales channel is told that a parcel left, with its tracking number.
    Shipped { order_id: OrderId, tracking_number: TrackingNumber },
    /// The payment system is told of a refund recorded on a return of the order.
    RefundRecorded { order_id: OrderId, return_id: crate::returns::ReturnId },
}

/// A notice on the `outbound` queue, under the id every delivery of it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundNotice {
    /// Unique per notice and the same on every attempt: made from the order, the notice
    /// and the version of the order write that queued it. A notice to several warehouses
    /// is one request per warehouse: this id, `.` and the warehouse id.
    pub request_id: String,
    #[serde(flatten)]
    pub notice: Notice,
}

impl QueueMessage for OutboundNotice {
    const QUEUE: QueueName = QueueName::Outbound;
    const KIND: &'static str = "outbound_notice";
}

impl OutboundNotice {
    /// Asks each warehouse of `order`'s plan to ship its lines, queued by the write of
    /// `order` as it is now (its version names the request). One message however many
    /// warehouses: a write carries a bounded number of items. Sent again when the address
    /// or contact of an order the warehouses work on changes: the newest request of an
    /// order is the one to follow.
    pub fn fulfilment_requests(order: &Order) -> Outgoing {
        Self::to_warehouses(order, "request", Notice::FulfilmentRequested { order_id: order.order_id.clone() })
    }

    /// Tells each warehouse of `order`'s plan that the order is cancelled.
    pub fn fulfilment_cancellations(order: &Order) -> Outgoing {
        Self::to_warehouses(order, "cancel", Notice::FulfilmentCancelled { order_id: order.order_id.clone() })
    }

    fn to_warehouses(order: &Order, what: &str, notice: Notice) -> Outgoing {
        Outgoing::of(&OutboundNotice { request_id: format!("{}.{what}.{}", order.order_id, order.version), notice })
    }

    /// Tells `order`'s channel that the parcel `tracking_number` left, when the channel
    /// takes such news (Shopify, WooCommerce, Amazon); nothing for the others.
    pub fn shipped(order: &Order, tracking_number: &TrackingNumber) -> Vec<Outgoing> {
        if !writes_back(order.channel) {
            return Vec::new();
        }
        let notice = OutboundNotice {
            request_id: format!("{}.{}.shipped", order.order_id, tracking_number),
            notice: Notice::Shipped { order_id: order.order_id.clone(), tracking_number: tracking_number.clone() },
        };
        vec![Outgoing::of(&notice)]
    }
}

impl OutboundNotice {
    /// Tells the payment system of the refund recorded on `refunded`: one notice per
    /// return (its id names the request), queued by the write that records the refund.
    pub fn refund_recorded(refunded: &crate::returns::Return) -> Self {
        OutboundNotice {
            request_id: format!("{}.refund", refunded.return_id),
            notice: Notice::RefundRecorded { order_id: refunded.order_id.clone(), return_id: refunded.return_id.clone() },
        }
    }
}

/// Whether an order in `status` has warehouses working on it: they were asked to ship it
/// (it is reserved, or partly shipped), so a change of its address or contact is sent to
/// them again and a cancel tells them to stop.
pub fn warehouses_told(status: crate::OrderStatus) -> bool {
    matches!(status, crate::OrderStatus::Reserved | crate::OrderStatus::PartiallyShipped)
}

/// Whether the OMS tells `channel` that its orders shipped.
pub fn writes_back(channel: Channel) -> bool {
    matches!(channel, Channel::Shopify | Channel::WooCommerce | Channel::Amazon)
}

/// One line for a warehouse to pick: units of a SKU, whose owner they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickLine {
    pub sku: Sku,
    pub quantity: u32,
    /// The merchant whose units these are (another than the order's, for units sold on
    /// consignment).
    pub owner: MerchantId,
}

/// What every message to a warehouse names: the request, the order and its lines there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseOrder {
    pub request_id: String,
    pub order_id: OrderId,
    pub order_number: OrderNumber,
    pub merchant_id: MerchantId,
    pub warehouse: WarehouseId,
    /// The lines of the plan this warehouse ships, less what it shipped already.
    pub lines: Vec<PickLine>,
}

/// What a warehouse is asked to ship: its JSON form is the body of the warehouse webhook
/// (`docs/outbound.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentRequest {
    #[serde(flatten)]
    pub order: WarehouseOrder,
    /// The carrier and service the plan chose for this warehouse's parcel, if it chose one.
    pub carrier: Option<CarrierId>,
    pub service: Option<String>,
    pub ship_to: Address,
    pub recipient: String,
    pub phone: Option<String>,
    /// The date promised to the buyer, if one was.
    pub deliver_by: Option<NaiveDate>,
    pub requested_at: DateTime<Utc>,
}

/// What a warehouse is told when an order it was asked to ship is cancelled: the lines
/// (what it was asked for, less what left already) are those it must not ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentCancellation {
    #[serde(flatten)]
    pub order: WarehouseOrder,
    pub reason: String,
    pub cancelled_at: DateTime<Utc>,
}

/// What a sales channel is told when a parcel of its order left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelShipment {
    pub request_id: String,
    pub channel: Channel,
    pub merchant_id: MerchantId,
    /// The order's id at the channel.
    pub external_id: ExternalId,
    pub order_number: OrderNumber,
    pub carrier: CarrierId,
    pub tracking_number: TrackingNumber,
    /// The units in the parcel, per SKU.
    pub lines: Vec<(Sku, u32)>,
    pub shipped_at: DateTime<Utc>,
    /// Which of the order's parcels this is, from 1 (Amazon's package reference).
    pub package_number: u32,
    /// True when nothing of the order is left to ship.
    pub order_complete: bool,
}

/// What the payment system is told of a refund: its JSON form is the body of the
/// `refund.recorded` webhook (`docs/outbound.md`). Amounts are decimal strings in the
/// currency's minor digits; `amount_minor` is the refund in integer minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotice {
    pub request_id: String,
    pub return_id: crate::returns::ReturnId,
    pub order_id: OrderId,
    pub order_number: OrderNumber,
    pub merchant_id: MerchantId,
    pub channel: Channel,
    /// The order's id at its channel.
    pub external_id: ExternalId,
    pub customer_id: crate::CustomerId,
    pub currency: crate::Currency,
    /// Paid back.
    pub amount: String,
    pub amount_minor: i64,
    /// The returned units' paid price, and the restocking fee kept of it.
    pub gross: String,
    pub restocking_fee: String,
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
}

/// A notice made ready to send, with everything its destination needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Boxed: a request is the largest by far.
    Fulfilment(Box<FulfilmentRequest>),
    Cancellation(FulfilmentCancellation),
    ChannelShipment(ChannelShipment),
    Refund(RefundNotice),
}

impl Delivery {
    /// The warehouse's part, for a delivery to a warehouse.
    pub fn warehouse_order(&self) -> Option<&WarehouseOrder> {
        match self {
            Delivery::Fulfilment(r) => Some(&r.order),
            Delivery::Cancellation(c) => Some(&c.order),
            Delivery::ChannelShipment(_) | Delivery::Refund(_) => None,
        }
    }

    pub fn request_id(&self) -> &str {
        match self {
            Delivery::Fulfilment(r) => &r.order.request_id,
            Delivery::Cancellation(c) => &c.order.request_id,
            Delivery::ChannelShipment(s) => &s.request_id,
            Delivery::Refund(r) => &r.request_id,
        }
    }

    /// Who it is for, in words: `warehouse wh-hz-1`, `shopify`.
    pub fn destination(&self) -> String {
        match self {
            Delivery::ChannelShipment(s) => s.channel.to_string(),
            Delivery::Fulfilment(r) => format!("warehouse {}", r.order.warehouse),
            Delivery::Cancellation(c) => format!("warehouse {}", c.order.warehouse),
            Delivery::Refund(_) => "the payment system".to_owned(),
        }
    }

    pub fn merchant_id(&self) -> &MerchantId {
        match self {
            Delivery::Fulfilment(r) => &r.order.merchant_id,
            Delivery::Cancellation(c) => &c.order.merchant_id,
            Delivery::ChannelShipment(s) => &s.merchant_id,
            Delivery::Refund(r) => &r.merchant_id,
        }
    }
}

/// What the destination made of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// It took it now.
    Sent,
    /// It had it already (an earlier attempt landed): nothing was sent again.
    AlreadyThere,
    /// Nothing is configured to receive it (a warehouse with no endpoint, a shop with no
    /// credentials): the notice is dropped, and says why.
    NoDestination(String),
}

/// Why a delivery did not land.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// It may land later (unreachable, a timeout, 429, 5xx): try again.
    #[error("not delivered yet: {0}")]
    Retry(String),
    /// The destination refused it and will refuse it again (a 4xx): staff must look.
    #[error("refused: {0}")]
    Refused(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::decode;

    #[test]
    fn a_notice_travels_with_its_kind_and_request_id_and_reads_back() {
        let notice = OutboundNotice {
            request_id: "ord_1.request.3".into(),
            notice: Notice::FulfilmentRequested { order_id: OrderId::parse("ord_1").unwrap() },
        };
        let sent = Outgoing::of(&notice);
        assert_eq!(sent.queue, QueueName::Outbound);
        let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"type": "outbound_notice", "notice": "fulfilment_requested", "request_id": "ord_1.request.3",
                "order_id": "ord_1"})
        );
        assert_eq!(decode::<OutboundNotice>(&sent.body).unwrap(), notice);
    }

    #[test]
    fn only_shops_that_take_news_of_shipments_are_written_back_to() {
        assert!(writes_back(Channel::Shopify) && writes_back(Channel::WooCommerce) && writes_back(Channel::Amazon));
        assert!(!writes_back(Channel::Generic) && !writes_back(Channel::Import) && !writes_back(Channel::FlashSale));
    }
}
