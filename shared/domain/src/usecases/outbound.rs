//! Delivering the notices of the `outbound` queue (`crate::outbound`): each is read against
//! the order as it is now, made into the [`Delivery`] its destination needs, and sent
//! through the [`Outbound`] port.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::alert::{Alert, AlertKind};
use crate::messages::{Consumer, Handled};
use crate::outbound::{
    ChannelShipment, Delivered, Delivery, DeliveryError, FulfilmentCancellation, FulfilmentRequest, Notice, OutboundNotice,
    PickLine, WarehouseOrder,
};
use crate::ports::{Outbound, Ports, StoreError};
use crate::shipment::Shipment;
use crate::{MerchantId, Order, OrderStatus, Sku, TrackingNumber, WarehouseId};

/// The consumer of the `outbound` queue: delivers each notice through `outbound`.
#[derive(Clone)]
pub struct Deliver {
    pub outbound: Arc<dyn Outbound>,
}

impl std::fmt::Debug for Deliver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliver").finish_non_exhaustive()
    }
}

#[async_trait]
impl Consumer for Deliver {
    type Message = OutboundNotice;

    async fn consume(&self, ports: &Ports, message: OutboundNotice) -> Result<Handled, StoreError> {
        deliver(ports, &*self.outbound, &message).await
    }
}

/// Delivers one notice (to each of its destinations): `Err` when a delivery may land on a
/// later attempt (the queue delivers the whole notice again; what landed is not done twice,
/// each delivery keeping its request id); a destination's refusal raises a
/// `notice_refused` alert and is not tried again.
pub async fn deliver(ports: &Ports, outbound: &dyn Outbound, message: &OutboundNotice) -> Result<Handled, StoreError> {
    let deliveries = match prepare(ports, message).await? {
        Ok(deliveries) => deliveries,
        Err(why) => {
            tracing::info!(request_id = %message.request_id, why = %why, "notice not sent");
            return Ok(Handled::Skipped(why));
        }
    };
    let mut done = Vec::new();
    let mut again = Vec::new();
    for delivery in &deliveries {
        let to = delivery.destination();
        let request_id = delivery.request_id();
        match outbound.deliver(delivery).await {
            Ok(Delivered::Sent) => {
                tracing::info!(request_id, to = %to, "notice delivered");
                done.push(format!("sent to {to}"));
            }
            Ok(Delivered::AlreadyThere) => done.push(format!("{to} had it already")),
            Ok(Delivered::NoDestination(why)) => {
                tracing::info!(request_id, to = %to, why = %why, "no destination for the notice");
                done.push(why);
            }
            Err(DeliveryError::Retry(why)) => again.push(format!("{to}: {why}")),
            Err(DeliveryError::Refused(why)) => {
                let text = format!("{to} refused notice {request_id}: {why}");
                let alert = Alert {
                    subject: request_id.to_owned(),
                    ..Alert::about_order(
                        AlertKind::NoticeRefused,
                        notice_order(&message.notice),
                        delivery.merchant_id(),
                        &text,
                        ports.clock.now(),
                    )
                };
                crate::usecases::alerts::raise_alert(ports, alert).await?;
                done.push(text);
            }
        }
    }
    if !again.is_empty() {
        return Err(StoreError::msg(format!("notice {} not delivered yet: {}", message.request_id, again.join("; "))));
    }
    Ok(Handled::Delivered(done.join("; ")))
}

fn notice_order(notice: &Notice) -> &crate::OrderId {
    match notice {
        Notice::FulfilmentRequested { order_id }
        | Notice::FulfilmentCancelled { order_id }
        | Notice::Shipped { order_id, .. }
        | Notice::RefundRecorded { order_id, .. } => order_id,
    }
}

/// The deliveries a notice asks for, read against the order now; `Err` says why there is
/// nothing (any more) to send.
pub async fn prepare(ports: &Ports, message: &OutboundNotice) -> Result<Result<Vec<Delivery>, String>, StoreError> {
    let order_id = notice_order(&message.notice);
    let Some(order) = ports.orders.get_order(order_id).await? else {
        return Ok(Err(format!("no order {order_id}")));
    };
    let shipments = ports.shipments.shipments_of(order_id).await?;
    let now = ports.clock.now();
    let parts = |what: &str| {
        let parts: Vec<WarehouseOrder> = planned_warehouses(&order)
            .into_iter()
            .filter_map(|warehouse| {
                let request_id = format!("{}.{warehouse}", message.request_id);
                warehouse_order(&order, &shipments, warehouse, request_id)
            })
            .collect();
        if parts.is_empty() {
            Err(format!("nothing of order {order_id} is left to ship: no {what} to send"))
        } else {
            Ok(parts)
        }
    };
    Ok(match &message.notice {
        Notice::FulfilmentRequested { .. } => {
            if order.status == OrderStatus::Cancelled {
                return Ok(Err("the order was cancelled since; its cancellation is sent instead".into()));
            }
            parts("request").map(|parts| {
                parts
                    .into_iter()
                    .map(|part| {
                        let choice = order.allocation.iter().flat_map(|a| &a.shipments).find(|s| s.warehouse == part.warehouse);
                        Delivery::Fulfilment(Box::new(FulfilmentRequest {
                            carrier: choice.and_then(|c| c.carrier.clone()),
                            service: choice.and_then(|c| c.service.clone()),
                            recipient: recipient(&order),
                            phone: order.customer.phone.clone(),
                            ship_to: order.shipping_address.clone(),
                            deliver_by: order.deliver_by,
                            requested_at: now,
                            order: part,
                        }))
                    })
                    .collect()
            })
        }
        Notice::FulfilmentCancelled { .. } => {
            let cancelled = order.timeline.iter().rev().find(|e| e.status == OrderStatus::Cancelled);
            let reason = cancelled.map_or_else(|| "cancelled".to_owned(), |e| e.detail.clone());
            let cancelled_at = cancelled.map_or(now, |e| e.at);
            parts("cancellation").map(|parts| {
                parts
                    .into_iter()
                    .map(|part| {
                        Delivery::Cancellation(FulfilmentCancellation { order: part, reason: reason.clone(), cancelled_at })
                    })
                    .collect()
            })
        }
        Notice::Shipped { tracking_number, .. } => {
            channel_shipment(&order, &shipments, tracking_number, message.request_id.clone()).map(|d| vec![d])
        }
        Notice::RefundRecorded { return_id, .. } => {
            let Some(ret) = ports.returns.get_return(return_id).await? else {
                return Ok(Err(format!("no return {return_id}")));
            };
            refund_notice(&order, &ret, message.request_id.clone()).map(|d| vec![d])
        }
    })
}

/// The payment system's news of the refund recorded on `ret`, a return of `order`.
fn refund_notice(order: &Order, ret: &crate::returns::Return, request_id: String) -> Result<Delivery, String> {
    let Some(refund) = ret.refund else {
        return Err(format!("return {} has no refund recorded", ret.return_id));
    };
    let decimal = |minor: i64| refund.money(minor).amount.to_string();
    Ok(Delivery::Refund(crate::outbound::RefundNotice {
        request_id,
        return_id: ret.return_id.clone(),
        order_id: order.order_id.clone(),
        order_number: order.order_number.clone(),
        merchant_id: order.merchant_id.clone(),
        channel: order.channel,
        external_id: order.external_id.clone(),
        customer_id: ret.customer_id.clone(),
        currency: refund.currency,
        amount: decimal(refund.amount_minor),
        amount_minor: refund.amount_minor,
        gross: decimal(refund.gross_minor),
        restocking_fee: decimal(refund.fee_minor),
        reason: ret.reason.as_str().to_owned(),
        recorded_at: ret.updated_at,
    }))
}

/// The warehouses of `order`'s plan, each once.
fn planned_warehouses(order: &Order) -> std::collections::BTreeSet<&WarehouseId> {
    order.allocation.iter().flat_map(|a| a.lines.iter().map(|l| &l.warehouse)).collect()
}

/// The channel's news of the parcel `tracking_number` of `order`.
fn channel_shipment(
    order: &Order,
    shipments: &[Shipment],
    tracking_number: &TrackingNumber,
    request_id: String,
) -> Result<Delivery, String> {
    let mut ordered: Vec<&Shipment> = shipments.iter().collect();
    ordered.sort_by(|a, b| (a.shipped_at, &a.shipment_id).cmp(&(b.shipped_at, &b.shipment_id)));
    let Some(index) = ordered.iter().position(|s| &s.tracking_number == tracking_number) else {
        return Err(format!("order {} has no shipment {tracking_number}", order.order_id));
    };
    let shipment = ordered[index];
    let mut units: BTreeMap<Sku, u32> = BTreeMap::new();
    for line in &shipment.lines {
        *units.entry(line.sku.clone()).or_default() += line.quantity;
    }
    let mut shipped: BTreeMap<&Sku, u32> = BTreeMap::new();
    for line in shipments.iter().flat_map(|s| &s.lines) {
        *shipped.entry(&line.sku).or_default() += line.quantity;
    }
    let order_complete = order.units_by_sku().iter().all(|(sku, wanted)| shipped.get(sku).copied().unwrap_or(0) >= *wanted);
    Ok(Delivery::ChannelShipment(ChannelShipment {
        request_id,
        channel: order.channel,
        merchant_id: order.merchant_id.clone(),
        external_id: order.external_id.clone(),
        order_number: order.order_number.clone(),
        carrier: shipment.carrier.clone(),
        tracking_number: shipment.tracking_number.clone(),
        lines: units.into_iter().collect(),
        shipped_at: shipment.shipped_at,
        package_number: u32::try_from(index + 1).unwrap_or(u32::MAX),
        order_complete,
    }))
}

/// The warehouse's part of `order` (the lines it is still to ship), if it has any left.
fn warehouse_order(order: &Order, shipments: &[Shipment], warehouse: &WarehouseId, request_id: String) -> Option<WarehouseOrder> {
    let lines = still_to_ship(order, shipments, warehouse);
    (!lines.is_empty()).then(|| WarehouseOrder {
        request_id,
        order_id: order.order_id.clone(),
        order_number: order.order_number.clone(),
        merchant_id: order.merchant_id.clone(),
        warehouse: warehouse.clone(),
        lines,
    })
}

/// The lines `warehouse` was planned to ship for `order`, less what it shipped already.
fn still_to_ship(order: &Order, shipments: &[Shipment], warehouse: &WarehouseId) -> Vec<PickLine> {
    let mut left: BTreeMap<(Sku, MerchantId), u32> = BTreeMap::new();
    for line in order.allocation.iter().flat_map(|a| &a.lines).filter(|l| &l.warehouse == warehouse) {
        *left.entry((line.sku.clone(), line.owner.clone())).or_default() += line.quantity;
    }
    for line in shipments.iter().flat_map(|s| &s.lines).filter(|l| &l.warehouse == warehouse) {
        if let Some(units) = left.get_mut(&(line.sku.clone(), line.owner.clone())) {
            *units = units.saturating_sub(line.quantity);
        }
    }
    left.into_iter().filter(|(_, q)| *q > 0).map(|((sku, owner), quantity)| PickLine { sku, quantity, owner }).collect()
}

/// Who the parcel is for: the address's name, else the customer's, else their id.
fn recipient(order: &Order) -> String {
    order.shipping_address.name.clone().or_else(|| order.customer.name.clone()).unwrap_or_else(|| order.customer.id.to_string())
}
