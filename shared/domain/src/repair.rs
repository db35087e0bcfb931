//! Repairs: a customer books a repair of an item (a SKU or a description, and its serial
//! number) with the fault in words and photos, brought to a workshop warehouse of the
//! merchant (drop-off) or picked up from an address; staff quote labour and parts, valid
//! until a time; the customer accepts (the charge becomes an order) or declines; staff
//! start the repair (its parts come out of stock), finish it, ship the item back, and
//! close it.
//!
//! The life ([`RepairState`]): `booked` → `quoted` (again `quoted` on a new quote) →
//! `accepted` | `declined`; `accepted` → `in_repair` → `repaired` → `shipped_back` →
//! `completed`; `booked`, `quoted` or `accepted` → `cancelled`.
//!
//! The charge: on acceptance the quote becomes an order of channel `repair` (external id
//! the repair id, unpaid): one line of labour ([`LABOUR_SKU`]) and one per part at its
//! quoted price. It is a service order (`crate::service_order`): never allocated; it is
//! delivered when the repair completes and cancelled when an accepted repair is cancelled,
//! in the write that moves the repair.
//!
//! Parts leave stock when the repair starts, not when it completes: that is when they are
//! taken off the shelf and fitted, so stock counts them gone from that moment, and a
//! shortage shows before work begins, when the repair can still wait for parts. The start
//! writes one `consume` ledger entry per part in the workshop's stock of the merchant,
//! each on condition that the units are available (on hand less held), all in the write
//! that moves the repair: short of any part, nothing changes (`parts_short`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::flash_sale::{minted_id, IdempotencyKey};
use crate::order::{Address, OrderLine};
use crate::{CarrierId, Currency, CustomerId, MerchantId, OrderId, Sku, TrackingNumber, ValidationError, WarehouseId};

/// Most photos of a fault.
pub const MAX_PHOTOS: usize = 8;
/// Longest photo URL.
pub const MAX_PHOTO_URL_LEN: usize = 500;
/// Longest fault description, serial number or item description, in characters.
pub const MAX_FAULT_CHARS: usize = 2000;
pub const MAX_SERIAL_CHARS: usize = 64;
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// Most part lines of a quote: they, the repair and the order fit one DynamoDB transaction.
pub const MAX_PARTS: usize = 20;
/// Most units of one part.
pub const MAX_PART_QUANTITY: u32 = 1000;
/// Highest labour charge in minor units, and highest part price.
pub const MAX_LABOUR_MINOR: u64 = 100_000_000;
pub const MAX_PART_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
/// Longest a quote may stay open.
pub const MAX_QUOTE_DAYS: i64 = 90;
/// The code of the labour line of a repair's order (a service, not a stocked SKU).
pub const LABOUR_SKU: &str = "SERVICE-REPAIR-LABOUR";

minted_id!(
    /// A repair: `rp_` and a ULID. Its order has it as external id (channel `repair`).
    RepairId,
    "rp_"
);

fn bounded_text(field: &str, raw: &str, most: usize) -> Result<String, ValidationError> {
    let text = crate::validation::clean_text(raw);
    if text.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if text.chars().count() > most {
        return Err(ValidationError::new(field, format!("at most {most} characters")));
    }
    Ok(text)
}

/// The item to repair: a SKU of the catalogue or a description, and its serial number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub serial: String,
}

impl RepairItem {
    /// A SKU or a description (or both), and a serial number; texts bounded.
    pub fn new(sku: Option<Sku>, description: Option<&str>, serial: &str) -> Result<Self, ValidationError> {
        let description = description.map(|d| bounded_text("item.description", d, MAX_DESCRIPTION_CHARS)).transpose()?;
        if sku.is_none() && description.is_none() {
            return Err(ValidationError::new("item", "needs a sku or a description"));
        }
        Ok(Self { sku, description, serial: bounded_text("item.serial", serial, MAX_SERIAL_CHARS)? })
    }
}

/// How the item reaches the workshop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Handover {
    /// Picked up from this address (and shipped back to it).
    Pickup { address: Address },
    /// Brought by the customer to the workshop.
    DropOff,
}

/// The photos of a fault: https URLs, at most [`MAX_PHOTOS`].
pub fn check_photos(raw: &[String]) -> Result<Vec<String>, ValidationError> {
    if raw.len() > MAX_PHOTOS {
        return Err(ValidationError::new("photos", format!("at most {MAX_PHOTOS} photos")));
    }
    raw.iter()
        .enumerate()
        .map(|(i, url)| {
            let field = format!("photos[{i}]");
            let host = url.strip_prefix("https://").unwrap_or_default();
            if host.is_empty() || host.starts_with('/') || url.len() > MAX_PHOTO_URL_LEN {
                return Err(ValidationError::new(
                    field,
                    format!("must be an https URL of at most {MAX_PHOTO_URL_LEN} characters"),
                ));
            }
            if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(ValidationError::new(field, "must not hold spaces or control characters"));
            }
            Ok(url.clone())
        })
        .collect()
}

/// A part a quote uses: units of a SKU at a price each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartLine {
    pub sku: Sku,
    pub quantity: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

/// A part's quantity: 1 to [`MAX_PART_QUANTITY`]; an error names `quantity`.
pub fn check_part_quantity(quantity: i64) -> Result<u32, ValidationError> {
    u32::try_from(quantity)
        .ok()
        .filter(|q| (1..=MAX_PART_QUANTITY).contains(q))
        .ok_or_else(|| ValidationError::new("quantity", format!("must be 1 to {MAX_PART_QUANTITY}, got {quantity}")))
}

impl PartLine {
    /// 1 to [`MAX_PART_QUANTITY`] units at 0 to [`MAX_PART_PRICE`] in the currency's digits.
    pub fn new(sku: Sku, quantity: i64, unit_price: Decimal, currency: Currency) -> Result<Self, ValidationError> {
        let quantity = check_part_quantity(quantity)?;
        if unit_price < Decimal::ZERO || unit_price > MAX_PART_PRICE {
            return Err(ValidationError::new("unit_price", format!("must be 0 to {MAX_PART_PRICE}")));
        }
        if unit_price.scale() > currency.minor_digits() {
            return Err(ValidationError::new("unit_price", format!("{currency} has {} decimal places", currency.minor_digits())));
        }
        Ok(Self { sku, quantity, unit_price })
    }
}

/// Staff's quote: labour and parts, in one currency, open until `valid_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: Currency,
    /// The labour charge, in minor units of the currency (cents).
    pub labour_minor: u64,
    pub parts: Vec<PartLine>,
    pub valid_until: DateTime<Utc>,
    pub quoted_at: DateTime<Utc>,
}

impl Quote {
    /// A quote made at `now`: labour at most [`MAX_LABOUR_MINOR`], at most [`MAX_PARTS`]
    /// parts with no SKU twice, valid from after `now` to [`MAX_QUOTE_DAYS`] ahead.
    pub fn new(
        currency: Currency,
        labour_minor: i64,
        parts: Vec<PartLine>,
        valid_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let labour_minor = u64::try_from(labour_minor)
            .ok()
            .filter(|l| *l <= MAX_LABOUR_MINOR)
            .ok_or_else(|| ValidationError::new("labour_minor", format!("must be 0 to {MAX_LABOUR_MINOR}")))?;
        if parts.len() > MAX_PARTS {
            return Err(ValidationError::new("parts", format!("at most {MAX_PARTS} parts")));
        }
        for (i, part) in parts.iter().enumerate() {
            if parts[..i].iter().any(|p| p.sku == part.sku) {
                return Err(ValidationError::new(format!("parts[{i}].sku"), format!("{} is listed twice", part.sku)));
            }
        }
        if labour_minor == 0 && parts.is_empty() {
            return Err(ValidationError::new("labour_minor", "a quote charges labour or parts"));
        }
        if valid_until <= now || valid_until > now + chrono::Duration::days(MAX_QUOTE_DAYS) {
            return Err(ValidationError::new(
                "valid_until",
                format!("must be after now and at most {MAX_QUOTE_DAYS} days ahead"),
            ));
        }
        Ok(Self { currency, labour_minor, parts, valid_until, quoted_at: now })
    }

    /// The labour charge as an amount of the currency.
    pub fn labour(&self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.labour_minor), self.currency.minor_digits())
    }

    /// Labour plus every part's units at its price.
    pub fn total(&self) -> Decimal {
        self.labour() + self.parts.iter().map(|p| p.unit_price * Decimal::from(p.quantity)).sum::<Decimal>()
    }

    /// The lines the repair's order charges: labour (when any), then each part.
    pub fn order_lines(&self) -> Result<Vec<OrderLine>, ValidationError> {
        let mut lines = Vec::new();
        if self.labour_minor > 0 {
            lines.push(crate::service_order::charge_line(LABOUR_SKU, 1, self.labour())?);
        }
        for part in &self.parts {
            lines.push(OrderLine::new(part.sku.clone(), i64::from(part.quantity), part.unit_price)?);
        }
        Ok(lines)
    }
}

/// Where a repair is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairState {
    Booked,
    Quoted,
    Accepted,
    /// The customer turned the quote down. Final.
    Declined,
    InRepair,
    Repaired,
    ShippedBack,
    /// Final.
    Completed,
    /// Called off before the repair started. Final.
    Cancelled,
}

impl RepairState {
    pub const ALL: [RepairState; 9] = [
        Self::Booked,
        Self::Quoted,
        Self::Accepted,
        Self::Declined,
        Self::InRepair,
        Self::Repaired,
        Self::ShippedBack,
        Self::Completed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Quoted => "quoted",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::InRepair => "in_repair",
            Self::Repaired => "repaired",
            Self::ShippedBack => "shipped_back",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Declined | Self::Completed | Self::Cancelled)
    }

    /// The state after `event`, or the refusal.
    pub fn on(self, event: &RepairEvent) -> Result<Self, InvalidRepairTransition> {
        use RepairEvent as E;
        use RepairState as S;
        match (self, event) {
            (S::Booked | S::Quoted, E::Quote(_)) => Ok(S::Quoted),
            (S::Quoted, E::Accept { .. }) => Ok(S::Accepted),
            (S::Quoted, E::Decline) => Ok(S::Declined),
            (S::Accepted, E::Start) => Ok(S::InRepair),
            (S::InRepair, E::Finish { .. }) => Ok(S::Repaired),
            (S::Repaired, E::ShipBack { .. }) => Ok(S::ShippedBack),
            (S::ShippedBack, E::Close) => Ok(S::Completed),
            (S::Booked | S::Quoted | S::Accepted, E::Cancel) => Ok(S::Cancelled),
            _ => Err(InvalidRepairTransition { from: self, event: event.name() }),
        }
    }
}

impl fmt::Display for RepairState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairEvent {
    /// Staff quote (or quote again).
    Quote(Quote),
    /// The customer accepts the quote at `at`; its order is `order_id`.
    Accept {
        at: DateTime<Utc>,
        order_id: OrderId,
    },
    Decline,
    /// Staff start the work: the quote's parts leave stock.
    Start,
    /// Staff finish the work, with a note of what was done.
    Finish {
        note: String,
    },
    /// The item goes back to the customer.
    ShipBack {
        carrier: CarrierId,
        tracking_number: TrackingNumber,
    },
    /// The customer has the item back: the repair's order is delivered.
    Close,
    Cancel,
}

impl RepairEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Quote(_) => "quote",
            Self::Accept { .. } => "accept",
            Self::Decline => "decline",
            Self::Start => "start",
            Self::Finish { .. } => "complete",
            Self::ShipBack { .. } => "ship",
            Self::Close => "close",
            Self::Cancel => "cancel",
        }
    }
}

/// A transition the state machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a repair that is {from} cannot take {event}")]
pub struct InvalidRepairTransition {
    pub from: RepairState,
    pub event: &'static str,
}

/// Why a repair could not take an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepairError {
    #[error(transparent)]
    Transition(#[from] InvalidRepairTransition),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The quote was valid until this time, and the acceptance came after it.
    #[error("the quote expired at {0}")]
    QuoteExpired(DateTime<Utc>),
}

/// The return shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnShipment {
    pub carrier: CarrierId,
    pub tracking_number: TrackingNumber,
}

/// A customer's booking of a repair, and what happened to it since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    pub repair_id: RepairId,
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    pub item: RepairItem,
    pub fault: String,
    pub photos: Vec<String>,
    pub handover: Handover,
    /// The merchant's warehouse that repairs it: where it is dropped off or taken to, and
    /// whose stock its parts come from.
    pub workshop: WarehouseId,
    pub state: RepairState,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    /// The order of the accepted quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<ReturnShipment>,
    pub updated_at: DateTime<Utc>,
}

/// A booking as the customer asks for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairRequest {
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    pub item: RepairItem,
    pub fault: String,
    pub photos: Vec<String>,
    pub handover: Handover,
    pub workshop: WarehouseId,
}

impl RepairRequest {
    /// Checks the fault text (required, bounded) and the photos.
    pub fn check(self) -> Result<Self, ValidationError> {
        Ok(Self { fault: bounded_text("fault", &self.fault, MAX_FAULT_CHARS)?, photos: check_photos(&self.photos)?, ..self })
    }
}

impl Repair {
    /// A new repair of `merchant`, booked.
    pub fn book(merchant_id: MerchantId, request: RepairRequest, now: DateTime<Utc>) -> Self {
        Self {
            repair_id: RepairId::generate(),
            merchant_id,
            customer_id: request.customer_id,
            idempotency_key: request.idempotency_key,
            item: request.item,
            fault: request.fault,
            photos: request.photos,
            handover: request.handover,
            workshop: request.workshop,
            state: RepairState::Booked,
            created_at: now,
            quote: None,
            order_id: None,
            repair_note: None,
            shipment: None,
            updated_at: now,
        }
    }

    /// The parts its start takes out of stock: the accepted quote's.
    pub fn parts(&self) -> &[PartLine] {
        self.quote.as_ref().map_or(&[], |q| q.parts.as_slice())
    }

    /// The repair after `event` at `now`: its state moved and what the event records kept.
    /// An acceptance after the quote's time is refused (`QuoteExpired`).
    pub fn apply(&self, event: RepairEvent, now: DateTime<Utc>) -> Result<Self, RepairError> {
        let state = self.state.on(&event)?;
        let mut next = self.clone();
        next.state = state;
        next.updated_at = now;
        match event {
            RepairEvent::Quote(quote) => next.quote = Some(quote),
            RepairEvent::Accept { at, order_id } => {
                let valid_until = self.quote.as_ref().map_or(at, |q| q.valid_until);
                if at > valid_until {
                    return Err(RepairError::QuoteExpired(valid_until));
                }
                next.order_id = Some(order_id);
            }
            RepairEvent::Finish { note } => {
                if note.chars().count() > MAX_FAULT_CHARS {
                    return Err(ValidationError::new("note", format!("at most {MAX_FAULT_CHARS} characters")).into());
                }
                let note = crate::validation::clean_text(&note);
                next.repair_note = (!note.is_empty()).then_some(note);
            }
            RepairEvent::ShipBack { carrier, tracking_number } => {
                next.shipment = Some(ReturnShipment { carrier, tracking_number });
            }
            RepairEvent::Decline | RepairEvent::Start | RepairEvent::Close | RepairEvent::Cancel => {}
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn part(sku: &str, q: i64, price: i64) -> PartLine {
        PartLine::new(Sku::parse(sku).unwrap(), q, Decimal::new(price, 2), eur()).unwrap()
    }

    fn quote(now: DateTime<Utc>) -> Quote {
        Quote::new(eur(), 4500, vec![part("SCREEN-6", 1, 8990)], now + chrono::Duration::days(7), now).unwrap()
    }

    fn repair() -> Repair {
        let request = RepairRequest {
            customer_id: CustomerId::parse("c-1").unwrap(),
            idempotency_key: IdempotencyKey::parse("k-1").unwrap(),
            item: RepairItem::new(Some(Sku::parse("PHONE-6").unwrap()), None, "SN123").unwrap(),
            fault: "cracked screen".into(),
            photos: vec!["https://img.example/1.jpg".into()],
            handover: Handover::DropOff,
            workshop: WarehouseId::parse("WH-1").unwrap(),
        };
        Repair::book(MerchantId::parse("m-1").unwrap(), request.check().unwrap(), Utc::now())
    }

    fn events(now: DateTime<Utc>) -> Vec<RepairEvent> {
        vec![
            RepairEvent::Quote(quote(now)),
            RepairEvent::Accept { at: now, order_id: OrderId::generate() },
            RepairEvent::Decline,
            RepairEvent::Start,
            RepairEvent::Finish { note: String::new() },
            RepairEvent::ShipBack {
                carrier: CarrierId::parse("dhl").unwrap(),
                tracking_number: TrackingNumber::parse("TN1").unwrap(),
            },
            RepairEvent::Close,
            RepairEvent::Cancel,
        ]
    }

    #[test]
    fn every_transition_the_machine_allows_and_no_other() {
        use RepairState as S;
        let allowed = [
            (S::Booked, "quote"),
            (S::Quoted, "quote"),
            (S::Quoted, "accept"),
            (S::Quoted, "decline"),
            (S::Accepted, "start"),
            (S::InRepair, "complete"),
            (S::Repaired, "ship"),
            (S::ShippedBack, "close"),
            (S::Booked, "cancel"),
            (S::Quoted, "cancel"),
            (S::Accepted, "cancel"),
        ];
        let expected = |s: S, e: &str| match e {
            "quote" => S::Quoted,
            "accept" => S::Accepted,
            "decline" => S::Declined,
            "start" => S::InRepair,
            "complete" => S::Repaired,
            "ship" => S::ShippedBack,
            "close" => S::Completed,
            "cancel" => S::Cancelled,
            _ => s,
        };
        for state in RepairState::ALL {
            assert_eq!(RepairState::parse(state.as_str()), Some(state));
            for event in events(Utc::now()) {
                let result = state.on(&event);
                if allowed.contains(&(state, event.name())) {
                    assert_eq!(result, Ok(expected(state, event.name())), "{state} takes {}", event.name());
                } else {
                    assert_eq!(result, Err(InvalidRepairTransition { from: state, event: event.name() }));
                }
            }
        }
        assert!(S::Declined.is_final() && S::Completed.is_final() && S::Cancelled.is_final() && !S::ShippedBack.is_final());
    }

    #[test]
    fn the_life_cycle_keeps_the_quote_the_order_and_the_return_shipment() {
        let now = Utc::now();
        let r = repair().apply(RepairEvent::Quote(quote(now)), now).unwrap();
        assert_eq!(r.quote.as_ref().unwrap().total(), Decimal::new(13490, 2), "45.00 labour and 89.90 of parts");
        let order_id = OrderId::generate();
        let r = r.apply(RepairEvent::Accept { at: now, order_id: order_id.clone() }, now).unwrap();
        assert_eq!((r.state, r.order_id.as_ref()), (RepairState::Accepted, Some(&order_id)));
        assert_eq!(r.parts().len(), 1);
        let r = r.apply(RepairEvent::Start, now).unwrap();
        let r = r.apply(RepairEvent::Finish { note: " new screen fitted ".into() }, now).unwrap();
        assert_eq!(r.repair_note.as_deref(), Some("new screen fitted"));
        let ship = RepairEvent::ShipBack {
            carrier: CarrierId::parse("dhl").unwrap(),
            tracking_number: TrackingNumber::parse("TN1").unwrap(),
        };
        let r = r.apply(ship, now).unwrap();
        assert_eq!(r.shipment.as_ref().unwrap().tracking_number.as_str(), "TN1");
        let r = r.apply(RepairEvent::Close, now).unwrap();
        assert_eq!(r.state, RepairState::Completed);
        assert!(matches!(r.apply(RepairEvent::Cancel, now), Err(RepairError::Transition(_))));
    }

    #[test]
    fn an_expired_quote_cannot_be_accepted() {
        let now = Utc::now();
        let r = repair().apply(RepairEvent::Quote(quote(now)), now).unwrap();
        let late = now + chrono::Duration::days(8);
        let refused = r.apply(RepairEvent::Accept { at: late, order_id: OrderId::generate() }, late);
        assert!(matches!(refused, Err(RepairError::QuoteExpired(_))));
        let requoted = r.apply(RepairEvent::Quote(quote(late)), late).unwrap();
        assert!(requoted.apply(RepairEvent::Accept { at: late, order_id: OrderId::generate() }, late).is_ok(), "a new quote");
    }

    #[test]
    fn a_quotes_order_lines_are_labour_then_parts() {
        let q = quote(Utc::now());
        let lines = q.order_lines().unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].sku.as_str(), lines[0].unit_price), (LABOUR_SKU, Decimal::new(4500, 2)));
        assert_eq!((lines[1].sku.as_str(), lines[1].quantity), ("SCREEN-6", 1));
        let jpy = Quote::new(Currency::parse("JPY").unwrap(), 4500, vec![], Utc::now() + chrono::Duration::days(1), Utc::now());
        assert_eq!(jpy.unwrap().labour(), Decimal::new(4500, 0), "a currency without minor units");
    }

    #[test]
    fn quotes_are_checked() {
        let now = Utc::now();
        let week = now + chrono::Duration::days(7);
        let field = |r: Result<Quote, ValidationError>| r.unwrap_err().field;
        assert_eq!(field(Quote::new(eur(), -1, vec![], week, now)), "labour_minor");
        assert_eq!(field(Quote::new(eur(), 0, vec![], week, now)), "labour_minor", "nothing charged");
        assert_eq!(field(Quote::new(eur(), i64::MAX, vec![], week, now)), "labour_minor");
        assert_eq!(field(Quote::new(eur(), 100, vec![], now, now)), "valid_until");
        assert_eq!(field(Quote::new(eur(), 100, vec![], now + chrono::Duration::days(91), now)), "valid_until");
        let twice = vec![part("A", 1, 100), part("A", 2, 100)];
        assert_eq!(field(Quote::new(eur(), 100, twice, week, now)), "parts[1].sku");
        let many = (0..=MAX_PARTS).map(|i| part(&format!("P{i}"), 1, 100)).collect();
        assert_eq!(field(Quote::new(eur(), 100, many, week, now)), "parts");
        let sku = || Sku::parse("A").unwrap();
        for q in [0, -1, i64::from(MAX_PART_QUANTITY) + 1] {
            assert_eq!(PartLine::new(sku(), q, Decimal::ONE, eur()).unwrap_err().field, "quantity");
        }
        assert_eq!(PartLine::new(sku(), 1, Decimal::new(-1, 0), eur()).unwrap_err().field, "unit_price");
        assert_eq!(PartLine::new(sku(), 1, Decimal::new(1, 3), eur()).unwrap_err().field, "unit_price");
    }

    #[test]
    fn a_booking_is_checked() {
        assert_eq!(RepairItem::new(None, None, "SN1").unwrap_err().field, "item");
        assert_eq!(RepairItem::new(None, Some("old radio"), " ").unwrap_err().field, "item.serial");
        assert!(RepairItem::new(None, Some("old radio"), "R-1").is_ok());
        assert_eq!(check_photos(&["http://x.example/a.jpg".into()]).unwrap_err().field, "photos[0]");
        assert_eq!(check_photos(&["https://".into()]).unwrap_err().field, "photos[0]");
        assert_eq!(check_photos(&["https://x.example/a b.jpg".into()]).unwrap_err().field, "photos[0]");
        assert_eq!(check_photos(&vec!["https://x.example/a.jpg".to_owned(); MAX_PHOTOS + 1]).unwrap_err().field, "photos");
        let mut request = RepairRequest {
            customer_id: CustomerId::parse("c-1").unwrap(),
            idempotency_key: IdempotencyKey::parse("k").unwrap(),
            item: RepairItem::new(None, Some("radio"), "R-1").unwrap(),
            fault: "  ".into(),
            photos: vec![],
            handover: Handover::DropOff,
            workshop: WarehouseId::parse("WH-1").unwrap(),
        };
        assert_eq!(request.clone().check().unwrap_err().field, "fault");
        request.fault = "x".repeat(MAX_FAULT_CHARS + 1);
        assert_eq!(request.check().unwrap_err().field, "fault");
    }
}
