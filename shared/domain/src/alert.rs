//! Alerts for operations staff: something the system could not settle by itself (a
//! channel's cancel of an order that already shipped, ...). An alert is raised once per
//! kind and subject, then acknowledged and resolved by staff.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{AlertId, MerchantId, OrderId, ValidationError};

/// What an alert is about. Closed: every kind is named here, and a later feature adds its
/// own. Spelled in JSON and in both stores as `as_str` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A channel cancelled an order whose stage no longer allows it (it shipped): the
    /// order goes on, and staff must stop it or refund the buyer.
    ChannelCancelRefused,
    /// A paid order was stored on hold (it names a SKU no warehouse has counted): staff
    /// stock or map the SKU, and the order proceeds; the alert is then resolved.
    OrderOnHold,
    /// The sweeper queued an order's next step again several times and it still has not
    /// moved (its messages keep failing): staff look at why.
    OrderStuck,
    /// A carrier could not deliver a parcel (`failed_attempt`): staff contact the buyer.
    DeliveryFailed,
    /// A carrier returned a parcel to the sender: the order is `exception` until staff act.
    ShipmentReturned,
    /// A carrier lost a parcel: the order is `exception` until staff act.
    ShipmentLost,
    /// A parcel in transit has had no carrier scan for longer than the sweeper allows.
    ShipmentNoScan,
    /// A parcel is past its ETA (the carrier's promise, or the learned transit time) and
    /// not delivered.
    ShipmentLate,
    /// A stock's available and incoming units fell to its reorder point (forecast or set by
    /// hand): staff order from the supplier `GET /replenishment` names. Resolved by the
    /// check once the stock is above the point again.
    LowStock,
    /// A system outside the OMS refused a notice for good (a warehouse's endpoint or a
    /// shop's API answered 4xx to a fulfilment request, a cancellation or a shipment):
    /// staff fix its configuration and tell it by hand.
    NoticeRefused,
    /// Units of an expired lot are still on hand because orders hold them (the sweep wrote
    /// off the rest): staff cancel those orders or replace their units. One per lot.
    ExpiredStockHeld,
}

impl AlertKind {
    pub const ALL: [AlertKind; 11] = [
        AlertKind::ChannelCancelRefused,
        AlertKind::OrderOnHold,
        AlertKind::OrderStuck,
        AlertKind::DeliveryFailed,
        AlertKind::ShipmentReturned,
        AlertKind::ShipmentLost,
        AlertKind::ShipmentNoScan,
        AlertKind::ShipmentLate,
        AlertKind::LowStock,
        AlertKind::NoticeRefused,
        AlertKind::ExpiredStockHeld,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            AlertKind::ChannelCancelRefused => "channel_cancel_refused",
            AlertKind::OrderOnHold => "order_on_hold",
            AlertKind::OrderStuck => "order_stuck",
            AlertKind::DeliveryFailed => "delivery_failed",
            AlertKind::ShipmentReturned => "shipment_returned",
            AlertKind::ShipmentLost => "shipment_lost",
            AlertKind::ShipmentNoScan => "shipment_no_scan",
            AlertKind::ShipmentLate => "shipment_late",
            AlertKind::LowStock => "low_stock",
            AlertKind::NoticeRefused => "notice_refused",
            AlertKind::ExpiredStockHeld => "expired_stock_held",
        }
    }

    /// The kind spelled `raw`, as `as_str` spells it.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| ValidationError::new("kind", format!("{raw:?} is not an alert kind")))
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an alert is in staff's hands: `open` -> `acknowledged` -> `resolved`, or straight
/// from `open` to `resolved`. It never goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 3] = [AlertStatus::Open, AlertStatus::Acknowledged, AlertStatus::Resolved];

    pub fn as_str(&self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
        }
    }

    /// The status spelled `raw` (`open`, `acknowledged`, `resolved`).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            ValidationError::new("status", format!("{raw:?} is not an alert status: give open, acknowledged or resolved"))
        })
    }

    /// The statuses an alert may be in to move to `self` (never back, never to itself).
    pub fn reached_from(self) -> &'static [AlertStatus] {
        match self {
            AlertStatus::Open => &[],
            AlertStatus::Acknowledged => &[AlertStatus::Open],
            AlertStatus::Resolved => &[AlertStatus::Open, AlertStatus::Acknowledged],
        }
    }

    pub fn can_become(self, next: AlertStatus) -> bool {
        next.reached_from().contains(&self)
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert. Its JSON form is an item of `GET /alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub alert_id: AlertId,
    pub kind: AlertKind,
    /// What the alert is about, unique per kind: the order id for an order's alert. A
    /// second raise of the same kind and subject is the same alert.
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    pub merchant_id: MerchantId,
    pub message: String,
    pub status: AlertStatus,
    pub raised_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Alert {
    /// A new open alert about an order (its subject is the order id).
    pub fn about_order(
        kind: AlertKind,
        order_id: &OrderId,
        merchant_id: &MerchantId,
        message: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Alert { order_id: Some(order_id.clone()), ..Alert::about(kind, order_id.to_string(), merchant_id, message, now) }
    }

    /// A new open alert about one shipment of an order: its subject is the shipment id, so
    /// each kind is raised once per shipment however often it is found.
    pub fn about_shipment(
        kind: AlertKind,
        shipment: &crate::shipment::Shipment,
        message: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Alert {
            subject: shipment.shipment_id.to_string(),
            ..Alert::about_order(kind, &shipment.order_id, &shipment.merchant_id, message, now)
        }
    }

    /// A new open alert of `merchant_id` about `subject` (a stock's low-stock alert names
    /// the stock and the time it ran low: each crossing of the reorder point is one alert).
    pub fn about(
        kind: AlertKind,
        subject: String,
        merchant_id: &MerchantId,
        message: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Alert {
            alert_id: AlertId::generate(),
            kind,
            subject,
            order_id: None,
            merchant_id: merchant_id.clone(),
            message: message.into(),
            status: AlertStatus::Open,
            raised_at: now,
            updated_at: now,
        }
    }
}

/// One page of alerts, and where the next starts (`None`: this was the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPage {
    pub alerts: Vec<Alert>,
    pub next: Option<AlertId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_are_spelled_as_the_contract_spells_them() {
        for kind in AlertKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(AlertKind::parse(kind.as_str()).unwrap(), kind);
        }
        for status in AlertStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(AlertStatus::parse(status.as_str()).unwrap(), status);
        }
        assert_eq!(AlertStatus::parse("closed").unwrap_err().field, "status");
    }

    #[test]
    fn alerts_move_forward_only() {
        use AlertStatus::*;
        assert!(Open.can_become(Acknowledged) && Open.can_become(Resolved) && Acknowledged.can_become(Resolved));
        for status in AlertStatus::ALL {
            assert!(!status.can_become(Open));
            assert!(!status.can_become(status));
            assert!(!Resolved.can_become(status));
        }
    }
}
