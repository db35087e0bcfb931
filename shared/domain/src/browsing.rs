//! Browsing events: what a merchant's storefront saw a customer do with a product short of
//! buying it (a view, a cart add, a wish-list add), reported in batches so that the
//! recommendations learn from more than orders.
//!
//! A batch holds 1 to [`MAX_EVENTS`] events of one customer; each happened at most
//! [`MAX_SKEW_MINUTES`] after the batch is received (clocks differ a little) and at most
//! [`MAX_AGE_DAYS`] before it (older ones would have expired: events are kept
//! [`RETENTION_DAYS`]). A batch is stored once per (merchant, customer, idempotency key):
//! a storefront that retries after a lost answer stores nothing twice.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::flash_sale::IdempotencyKey;
use crate::{CustomerId, MerchantId, Sku, ValidationError};

/// Most events one batch holds.
pub const MAX_EVENTS: usize = 100;
/// How far after its receipt an event may say it happened, in minutes.
pub const MAX_SKEW_MINUTES: i64 = 5;
/// How long before its receipt an event may have happened, in days.
pub const MAX_AGE_DAYS: i64 = 90;
/// How long events are kept, in days (the DynamoDB items' TTL; the retraining reads no older).
pub const RETENTION_DAYS: i64 = 90;

/// What the customer did with the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowsingKind {
    View,
    CartAdd,
    Wishlist,
}

impl BrowsingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::CartAdd => "cart_add",
            Self::Wishlist => "wishlist",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "view" => Ok(Self::View),
            "cart_add" => Ok(Self::CartAdd),
            "wishlist" => Ok(Self::Wishlist),
            _ => Err(ValidationError::new("", format!("{raw:?} is not view, cart_add or wishlist"))),
        }
    }
}

/// One event of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowsingEvent {
    pub customer_id: CustomerId,
    pub kind: BrowsingKind,
    pub sku: Sku,
    pub at: DateTime<Utc>,
}

/// One customer's events as the storefront reported them together, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowsingBatch {
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    pub received_at: DateTime<Utc>,
    pub events: Vec<BrowsingEvent>,
}

impl BrowsingBatch {
    /// The batch of `events` (kind, SKU, when) of `customer`, received at `now`: 1 to
    /// [`MAX_EVENTS`] of them, each within [`MAX_AGE_DAYS`] before `now` and
    /// [`MAX_SKEW_MINUTES`] after. An error names the event (`events[3].at`).
    pub fn new(
        merchant_id: MerchantId,
        customer_id: CustomerId,
        idempotency_key: IdempotencyKey,
        events: Vec<(BrowsingKind, Sku, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        if events.is_empty() || events.len() > MAX_EVENTS {
            return Err(ValidationError::new("events", format!("must hold 1 to {MAX_EVENTS} events")));
        }
        let (earliest, latest) = (now - Duration::days(MAX_AGE_DAYS), now + Duration::minutes(MAX_SKEW_MINUTES));
        let mut checked = Vec::with_capacity(events.len());
        for (index, (kind, sku, at)) in events.into_iter().enumerate() {
            if at > latest {
                return Err(ValidationError::new(format!("events[{index}].at"), "is in the future"));
            }
            if at < earliest {
                return Err(ValidationError::new(format!("events[{index}].at"), format!("is more than {MAX_AGE_DAYS} days ago")));
            }
            checked.push(BrowsingEvent { customer_id: customer_id.clone(), kind, sku, at });
        }
        Ok(Self { merchant_id, customer_id, idempotency_key, received_at: now, events: checked })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn batch(events: Vec<(BrowsingKind, Sku, DateTime<Utc>)>) -> Result<BrowsingBatch, ValidationError> {
        let ids = (MerchantId::parse("m-1").unwrap(), CustomerId::parse("c-1").unwrap());
        BrowsingBatch::new(ids.0, ids.1, IdempotencyKey::parse("k-1").unwrap(), events, at("2026-12-01T12:00:00Z"))
    }

    fn view(when: &str) -> (BrowsingKind, Sku, DateTime<Utc>) {
        (BrowsingKind::View, Sku::parse("TEA-1").unwrap(), at(when))
    }

    #[test]
    fn a_batch_takes_events_from_ninety_days_ago_to_a_few_minutes_ahead() {
        let stored = batch(vec![view("2026-09-02T12:00:00Z"), view("2026-12-01T12:04:00Z")]).unwrap();
        assert_eq!(stored.events.len(), 2);
        assert_eq!(stored.events[0].customer_id.as_str(), "c-1");
    }

    #[test]
    fn an_event_in_the_future_or_too_old_is_refused_naming_it() {
        let future = batch(vec![view("2026-12-01T11:00:00Z"), view("2026-12-01T12:06:00Z")]).unwrap_err();
        assert_eq!(future.field, "events[1].at");
        let old = batch(vec![view("2026-09-01T11:00:00Z")]).unwrap_err();
        assert_eq!((old.field.as_str(), old.message.contains("90 days")), ("events[0].at", true));
    }

    #[test]
    fn a_batch_holds_one_to_a_hundred_events() {
        assert_eq!(batch(Vec::new()).unwrap_err().field, "events");
        let many = (0..=MAX_EVENTS).map(|_| view("2026-12-01T11:00:00Z")).collect();
        assert_eq!(batch(many).unwrap_err().field, "events");
    }

    #[test]
    fn kinds_read_as_the_contract_names_them() {
        for kind in [BrowsingKind::View, BrowsingKind::CartAdd, BrowsingKind::Wishlist] {
            assert_eq!(BrowsingKind::parse(kind.as_str()).unwrap(), kind);
        }
        assert!(BrowsingKind::parse("purchase").is_err());
    }
}
