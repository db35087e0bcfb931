//! Returns and exchanges (RMA): after an order is delivered its buyer asks to send some of
//! its units back (lines and quantities, a reason code and text, photos), for their money
//! (`return`) or for a replacement (`exchange`, naming the replacement SKU, the same SKU by
//! default). Staff approve or refuse it with a reason; the buyer ships the parcel back and
//! gives its carrier and tracking number; the warehouse receives it (staff, or the carrier's
//! `delivered` event for that tracking number) and inspects each line: every unit goes back
//! to sellable stock (`restock`) or to the warehouse's damaged stock, which allocation never
//! sees (`damaged`). Then the return is settled: a refund of the paid price less the
//! restocking fee, recorded on the return and told to the payment system once, or a new
//! order for the replacement (channel `exchange`, external id the return id, unpaid).
//!
//! The life of a return ([`ReturnState`]):
//! `requested` → `approved` | `refused`; `approved` → `in_transit` (the buyer ships it) →
//! `received` → `inspected` → `refunded` (a return) | `exchanged` (an exchange); the buyer
//! may `cancel` before shipping (`requested` or `approved`).
//!
//! The window ([`ReturnPolicy::window_days`], `OMS_RETURN_WINDOW_DAYS`, default 30) runs
//! from the order's delivery: a request and an approval after it closed are refused.
//!
//! A return is written with a version: every move is conditional on the version it was read
//! at, so of two staff steps racing from one state exactly one lands. A request claims its
//! units per (order, SKU) in the write that stores it, never more than were delivered, so
//! two requests racing for the same units cannot both land; a refused or cancelled return
//! gives its units back in the write that moves it.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use crate::flash_sale::{minted_id, IdempotencyKey};
use crate::{CarrierId, Currency, CustomerId, MerchantId, Money, Order, OrderId, OrderStatus, Sku, TrackingNumber};
use crate::{ValidationError, WarehouseId};

/// Most lines one return names (its claims fit one DynamoDB transaction with room to spare).
pub const MAX_LINES: usize = 20;
/// Most photos one return carries.
pub const MAX_PHOTOS: usize = 5;
/// Longest photo URL.
pub const MAX_PHOTO_URL_LEN: usize = 500;
/// Longest reason text, refusal reason or inspection note, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Longest return window a deployment may configure, in days.
pub const MAX_WINDOW_DAYS: u32 = 365;

minted_id!(
    /// A return (RMA): `ret_` and a ULID. An exchange's order has it as its external id
    /// (channel `exchange`).
    ReturnId,
    "ret_"
);

/// What the buyer wants for the units sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnKind {
    /// The money back (less the restocking fee).
    Return,
    /// A replacement, shipped as a new order.
    Exchange,
}

impl ReturnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Return => "return",
            Self::Exchange => "exchange",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "return" => Ok(Self::Return),
            "exchange" => Ok(Self::Exchange),
            _ => Err(ValidationError::new("", format!("{raw:?} is not return or exchange"))),
        }
    }
}

/// Why the buyer sends the units back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// It does not work.
    Defective,
    /// Not what was ordered.
    WrongItem,
    /// It arrived broken.
    DamagedInTransit,
    /// It is not what the listing said.
    NotAsDescribed,
    /// The buyer no longer needs it.
    NoLongerNeeded,
    /// The buyer changed their mind.
    ChangedMind,
    Other,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 7] = [
        Self::Defective,
        Self::WrongItem,
        Self::DamagedInTransit,
        Self::NotAsDescribed,
        Self::NoLongerNeeded,
        Self::ChangedMind,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Defective => "defective",
            Self::WrongItem => "wrong_item",
            Self::DamagedInTransit => "damaged_in_transit",
            Self::NotAsDescribed => "not_as_described",
            Self::NoLongerNeeded => "no_longer_needed",
            Self::ChangedMind => "changed_mind",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|r| r.as_str()).collect();
            ValidationError::new("", format!("{raw:?} is not a reason code (one of {})", known.join(", ")))
        })
    }

    /// Whether the fault is the seller's (the unit was faulty, wrong or broken on arrival):
    /// then the buyer pays no restocking fee.
    pub fn waives_restocking_fee(self) -> bool {
        matches!(self, Self::Defective | Self::WrongItem | Self::DamagedInTransit | Self::NotAsDescribed)
    }
}

/// A photo of the returned goods: an `https` URL of at most [`MAX_PHOTO_URL_LEN`]
/// characters, with a host and no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhotoUrl(String);

impl PhotoUrl {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw: String = raw.into();
        if raw.len() > MAX_PHOTO_URL_LEN {
            return Err(ValidationError::new("", format!("at most {MAX_PHOTO_URL_LEN} characters")));
        }
        let host = raw.strip_prefix("https://").map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
        let fine = host.is_some_and(|h| !h.is_empty()) && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
        if !fine {
            return Err(ValidationError::new("", "must be an https URL with a host (https://...)"));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhotoUrl {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<PhotoUrl> for String {
    fn from(p: PhotoUrl) -> String {
        p.0
    }
}

/// Text a person wrote (a reason, a refusal, a note): trimmed, at most [`MAX_TEXT_CHARS`].
fn text(field: &str, raw: &str, required: bool) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if required && trimmed.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if trimmed.chars().count() > MAX_TEXT_CHARS {
        return Err(ValidationError::new(field, format!("at most {MAX_TEXT_CHARS} characters")));
    }
    Ok(trimmed.to_owned())
}

/// The deployment's terms for returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnPolicy {
    /// Days after delivery a return may be asked for and approved (`OMS_RETURN_WINDOW_DAYS`).
    pub window_days: u32,
    /// Percent of the returned units' paid price kept as a restocking fee
    /// (`OMS_RESTOCKING_FEE_PERCENT`), unless the reason is the seller's fault.
    pub restocking_fee_percent: Decimal,
}

impl Default for ReturnPolicy {
    /// 30 days, a 10% restocking fee.
    fn default() -> Self {
        Self { window_days: 30, restocking_fee_percent: Decimal::TEN }
    }
}

impl ReturnPolicy {
    /// Checks the terms: a window of 1 to [`MAX_WINDOW_DAYS`] days, a fee of 0 to 100
    /// percent with at most two decimal places.
    pub fn check(self) -> Result<Self, ValidationError> {
        if self.window_days == 0 || self.window_days > MAX_WINDOW_DAYS {
            return Err(ValidationError::new("window_days", format!("must be 1 to {MAX_WINDOW_DAYS} days")));
        }
        let fee = self.restocking_fee_percent;
        if fee < Decimal::ZERO || fee > Decimal::ONE_HUNDRED || fee.scale() > 2 {
            return Err(ValidationError::new("restocking_fee_percent", "must be 0 to 100, at most 2 decimal places"));
        }
        Ok(self)
    }

    /// The last moment a return of an order delivered at `delivered_at` may be asked for.
    pub fn window_closes(&self, delivered_at: DateTime<Utc>) -> DateTime<Utc> {
        delivered_at + Duration::days(i64::from(self.window_days))
    }

    /// Whether the window is open at `now`.
    pub fn is_open(&self, delivered_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now <= self.window_closes(delivered_at)
    }
}

/// What inspection found of one line's units: how many go back to sellable stock and how
/// many to damaged stock (together the line's quantity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub restock: u32,
    pub damaged: u32,
}

/// A line of a return: units of one SKU of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub sku: Sku,
    pub quantity: u32,
    /// The price paid for one unit (the order line's).
    pub unit_price: Decimal,
    /// The warehouse the units shipped from, where they come back to.
    pub warehouse: WarehouseId,
    /// The merchant whose stock they were (and become again).
    pub owner: MerchantId,
    /// For an exchange: the SKU sent in their place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Sku>,
    /// Set by inspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<Finding>,
}

/// A refund as recorded for the payment system, in integer minor units of the currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub currency: Currency,
    /// The returned units' paid price.
    pub gross_minor: i64,
    /// The restocking fee kept (0 when the reason waives it).
    pub fee_minor: i64,
    /// Paid back: the gross less the fee, never below zero.
    pub amount_minor: i64,
    /// The fee's percent as applied.
    pub fee_percent: Decimal,
}

impl Refund {
    /// `minor` units of the refund's currency as money.
    pub fn money(&self, minor: i64) -> Money {
        Money { amount: Decimal::new(minor, self.currency.minor_digits()), currency: self.currency }
    }
}

/// `amount` in integer minor units of `currency` (rounded half away from zero).
pub fn to_minor(amount: Decimal, currency: Currency) -> i64 {
    let scaled = amount * Decimal::from(10_i64.pow(currency.minor_digits()));
    scaled.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero).to_i64().unwrap_or(i64::MAX)
}

/// The refund of `lines` of a return for `reason` under `policy`: every unit's paid price,
/// less the restocking fee (rounded down, in the buyer's favour; none when the reason is the
/// seller's fault), never below zero.
pub fn refund_for(lines: &[ReturnLine], currency: Currency, reason: ReasonCode, policy: &ReturnPolicy) -> Refund {
    let gross_minor: i64 = lines.iter().map(|l| to_minor(l.unit_price, currency).saturating_mul(i64::from(l.quantity))).sum();
    let fee_percent = if reason.waives_restocking_fee() { Decimal::ZERO } else { policy.restocking_fee_percent };
    let fee = Decimal::from(gross_minor) * fee_percent / Decimal::ONE_HUNDRED;
    let fee_minor = fee.floor().to_i64().unwrap_or(0).clamp(0, gross_minor.max(0));
    Refund { currency, gross_minor, fee_minor, amount_minor: (gross_minor - fee_minor).max(0), fee_percent }
}

/// Where a return is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnState {
    /// Asked for; staff have not decided.
    Requested,
    /// Staff agreed: the buyer may ship it back.
    Approved,
    /// Staff said no, with a reason. Final.
    Refused,
    /// The buyer withdrew it before shipping. Final.
    Cancelled,
    /// The buyer shipped it back (carrier and tracking number known).
    InTransit,
    /// The parcel is at the warehouse.
    Received,
    /// Every unit is restocked or put to damaged stock.
    Inspected,
    /// The money is recorded as paid back. Final.
    Refunded,
    /// The replacement's order is made. Final.
    Exchanged,
}

impl ReturnState {
    pub const ALL: [ReturnState; 9] = [
        Self::Requested,
        Self::Approved,
        Self::Refused,
        Self::Cancelled,
        Self::InTransit,
        Self::Received,
        Self::Inspected,
        Self::Refunded,
        Self::Exchanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::Cancelled => "cancelled",
            Self::InTransit => "in_transit",
            Self::Received => "received",
            Self::Inspected => "inspected",
            Self::Refunded => "refunded",
            Self::Exchanged => "exchanged",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the return still claims its units of the order: all but a refused or
    /// cancelled one (a settled return keeps them: they came back).
    pub fn claims_units(self) -> bool {
        !matches!(self, Self::Refused | Self::Cancelled)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Refused | Self::Cancelled | Self::Refunded | Self::Exchanged)
    }

    /// The state after `event`, or the refusal. Settling depends on the kind: a return is
    /// refunded, an exchange exchanged.
    pub fn on(self, kind: ReturnKind, event: &ReturnEvent) -> Result<Self, InvalidReturnTransition> {
        use ReturnEvent as E;
        use ReturnState as S;
        match (self, event) {
            (S::Requested, E::Approve) => Ok(S::Approved),
            (S::Requested, E::Refuse { .. }) => Ok(S::Refused),
            (S::Requested | S::Approved, E::Cancel) => Ok(S::Cancelled),
            (S::Approved, E::Ship { .. }) => Ok(S::InTransit),
            (S::InTransit, E::Receive) => Ok(S::Received),
            (S::Received, E::Inspect { .. }) => Ok(S::Inspected),
            (S::Inspected, E::Refund(_)) if kind == ReturnKind::Return => Ok(S::Refunded),
            (S::Inspected, E::Exchange { .. }) if kind == ReturnKind::Exchange => Ok(S::Exchanged),
            _ => Err(InvalidReturnTransition { from: self, event: event.name() }),
        }
    }
}

impl fmt::Display for ReturnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnEvent {
    Approve,
    Refuse {
        reason: String,
    },
    Cancel,
    /// The buyer shipped the parcel back.
    Ship {
        carrier: CarrierId,
        tracking_number: TrackingNumber,
    },
    /// The parcel is at the warehouse.
    Receive,
    /// Each line's finding, by SKU, and a note.
    Inspect {
        findings: BTreeMap<Sku, Finding>,
        note: String,
    },
    /// The money paid back, as computed by [`refund_for`].
    Refund(Refund),
    /// The replacement's order.
    Exchange {
        order_id: OrderId,
    },
}

impl ReturnEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Refuse { .. } => "refuse",
            Self::Cancel => "cancel",
            Self::Ship { .. } => "ship",
            Self::Receive => "receive",
            Self::Inspect { .. } => "inspect",
            Self::Refund(_) => "refund",
            Self::Exchange { .. } => "exchange",
        }
    }
}

/// A transition the state machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a return that is {from} cannot take {event}")]
pub struct InvalidReturnTransition {
    pub from: ReturnState,
    pub event: &'static str,
}

/// One line as the buyer asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedLine {
    pub sku: Sku,
    pub quantity: u32,
    /// For an exchange: the replacement (default the same SKU). Refused on a return.
    pub replacement: Option<Sku>,
}

/// A return as the buyer asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRequest {
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    pub kind: ReturnKind,
    pub reason: ReasonCode,
    pub reason_text: String,
    pub photos: Vec<PhotoUrl>,
    pub lines: Vec<RequestedLine>,
}

/// Why a return cannot be asked for or moved (besides its state).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRuleError {
    #[error("order {0} is not delivered: only a delivered order's units can be returned")]
    NotDelivered(OrderId),
    #[error("the return window closed at {closed_at} ({days} days after delivery)")]
    WindowClosed { closed_at: DateTime<Utc>, days: u32 },
}

/// Why a return cannot take an event or be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error(transparent)]
    Transition(#[from] InvalidReturnTransition),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Rule(#[from] ReturnRuleError),
}

/// When the order was delivered: the last time its timeline entered `delivered`.
pub fn delivered_at(order: &Order) -> Option<DateTime<Utc>> {
    if order.status != OrderStatus::Delivered {
        return None;
    }
    order.timeline.iter().rev().find(|e| e.status == OrderStatus::Delivered).map(|e| e.at)
}

/// The units of each SKU the order delivered (its lines, summed by SKU).
pub fn delivered_units(order: &Order) -> BTreeMap<Sku, u32> {
    let mut units = BTreeMap::new();
    for line in &order.lines {
        *units.entry(line.sku.clone()).or_insert(0u32) += line.quantity;
    }
    units
}

/// A return of the order's units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    pub return_id: ReturnId,
    pub order_id: OrderId,
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    pub kind: ReturnKind,
    pub reason: ReasonCode,
    pub reason_text: String,
    pub photos: Vec<PhotoUrl>,
    pub currency: Currency,
    pub lines: Vec<ReturnLine>,
    pub state: ReturnState,
    /// 1 when made, one more on every move: moves are conditional on it.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the order was delivered: the window runs from it.
    pub delivered_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<CarrierId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<TrackingNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Refund>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_order_id: Option<OrderId>,
}

impl Return {
    /// A new return of `order`'s units as `request` asks, at `now` under `policy`. Checks
    /// the order is delivered and the window open, the lines (1 to [`MAX_LINES`], each SKU
    /// of the order once, 1 unit up to what the order delivered of it: the store checks
    /// what earlier returns claimed), the texts and photos. Each line comes back to the
    /// warehouse that shipped it (the plan's first line of the SKU) at the price paid.
    pub fn request(
        order: &Order,
        request: ReturnRequest,
        policy: &ReturnPolicy,
        now: DateTime<Utc>,
    ) -> Result<Self, ReturnError> {
        let delivered_at = delivered_at(order).ok_or_else(|| ReturnRuleError::NotDelivered(order.order_id.clone()))?;
        if !policy.is_open(delivered_at, now) {
            return Err(ReturnRuleError::WindowClosed {
                closed_at: policy.window_closes(delivered_at),
                days: policy.window_days,
            }
            .into());
        }
        let reason_text = text("reason_text", &request.reason_text, false)?;
        if request.photos.len() > MAX_PHOTOS {
            return Err(ValidationError::new("photos", format!("at most {MAX_PHOTOS} photos")).into());
        }
        if request.lines.is_empty() || request.lines.len() > MAX_LINES {
            return Err(ValidationError::new("lines", format!("1 to {MAX_LINES} lines")).into());
        }
        let delivered = delivered_units(order);
        let mut lines = Vec::with_capacity(request.lines.len());
        for (i, asked) in request.lines.into_iter().enumerate() {
            let at = |e: ValidationError| e.within(&format!("lines[{i}]"));
            if lines.iter().any(|l: &ReturnLine| l.sku == asked.sku) {
                return Err(at(ValidationError::new("sku", "names a SKU another line names")).into());
            }
            let Some(&units) = delivered.get(&asked.sku) else {
                return Err(at(ValidationError::new("sku", format!("order {} has no {}", order.order_id, asked.sku))).into());
            };
            if asked.quantity == 0 || asked.quantity > units {
                return Err(at(ValidationError::new("quantity", format!("must be 1 to {units} (delivered)"))).into());
            }
            let replacement = match (request.kind, asked.replacement) {
                (ReturnKind::Return, Some(_)) => {
                    return Err(at(ValidationError::new("replacement_sku", "only an exchange names a replacement")).into())
                }
                (ReturnKind::Return, None) => None,
                (ReturnKind::Exchange, named) => Some(named.unwrap_or_else(|| asked.sku.clone())),
            };
            let unit_price = order.lines.iter().find(|l| l.sku == asked.sku).map_or(Decimal::ZERO, |l| l.unit_price);
            let shipped = order.allocation.as_ref().and_then(|a| a.lines.iter().find(|l| l.sku == asked.sku));
            let Some(shipped) = shipped else {
                return Err(at(ValidationError::new("sku", format!("order {} has no plan line of it", order.order_id))).into());
            };
            lines.push(ReturnLine {
                sku: asked.sku,
                quantity: asked.quantity,
                unit_price,
                warehouse: shipped.warehouse.clone(),
                owner: shipped.owner.clone(),
                replacement,
                finding: None,
            });
        }
        Ok(Self {
            return_id: ReturnId::generate(),
            order_id: order.order_id.clone(),
            merchant_id: order.merchant_id.clone(),
            customer_id: request.customer_id,
            idempotency_key: request.idempotency_key,
            kind: request.kind,
            reason: request.reason,
            reason_text,
            photos: request.photos,
            currency: order.currency,
            lines,
            state: ReturnState::Requested,
            version: 1,
            created_at: now,
            updated_at: now,
            delivered_at,
            refusal_reason: None,
            carrier: None,
            tracking_number: None,
            inspection_note: None,
            refund: None,
            exchange_order_id: None,
        })
    }

    /// The units this return claims of each SKU of its order.
    pub fn claimed_units(&self) -> Vec<(Sku, u32)> {
        self.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect()
    }

    /// The return after `event` at `now` under `policy`: its state moved, its version one
    /// more, and what the event records kept. An approval is refused once the window has
    /// closed; an inspection must give every line a finding adding up to its quantity.
    pub fn apply(&self, event: ReturnEvent, policy: &ReturnPolicy, now: DateTime<Utc>) -> Result<Self, ReturnError> {
        let state = self.state.on(self.kind, &event)?;
        let mut next = self.clone();
        next.state = state;
        next.version = self.version + 1;
        next.updated_at = now;
        match event {
            ReturnEvent::Approve => {
                if !policy.is_open(self.delivered_at, now) {
                    let closed_at = policy.window_closes(self.delivered_at);
                    return Err(ReturnRuleError::WindowClosed { closed_at, days: policy.window_days }.into());
                }
            }
            ReturnEvent::Refuse { reason } => next.refusal_reason = Some(text("reason", &reason, true)?),
            ReturnEvent::Cancel | ReturnEvent::Receive => {}
            ReturnEvent::Ship { carrier, tracking_number } => {
                next.carrier = Some(carrier);
                next.tracking_number = Some(tracking_number);
            }
            ReturnEvent::Inspect { findings, note } => {
                if let Some(extra) = findings.keys().find(|sku| !self.lines.iter().any(|l| &l.sku == *sku)) {
                    return Err(ValidationError::new("lines", format!("the return has no line of {extra}")).into());
                }
                for (i, line) in next.lines.iter_mut().enumerate() {
                    let finding = findings
                        .get(&line.sku)
                        .copied()
                        .ok_or_else(|| ValidationError::new(format!("lines[{i}]"), format!("no finding for {}", line.sku)))?;
                    if u64::from(finding.restock) + u64::from(finding.damaged) != u64::from(line.quantity) {
                        let message = format!("restock and damaged must add up to the {} units returned", line.quantity);
                        return Err(ValidationError::new(format!("lines[{i}]"), message).into());
                    }
                    line.finding = Some(finding);
                }
                let note = text("note", &note, false)?;
                next.inspection_note = (!note.is_empty()).then_some(note);
            }
            ReturnEvent::Refund(refund) => next.refund = Some(refund),
            ReturnEvent::Exchange { order_id } => next.exchange_order_id = Some(order_id),
        }
        Ok(next)
    }

    /// The refund this return is owed under `policy`.
    pub fn refund_due(&self, policy: &ReturnPolicy) -> Refund {
        refund_for(&self.lines, self.currency, self.reason, policy)
    }
}

/// Where the units of an inspected line go, as a store writes them with the inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockBack {
    pub warehouse: WarehouseId,
    pub owner: MerchantId,
    pub sku: Sku,
    /// Back to sellable on hand (a `return` ledger entry).
    pub restock: u32,
    /// To the damaged stock, never on hand (a `return_damaged` ledger entry).
    pub damaged: u32,
}

impl StockBack {
    /// What the inspected return's lines put back, one per line with units.
    pub fn of(inspected: &Return) -> Vec<StockBack> {
        inspected
            .lines
            .iter()
            .filter_map(|l| {
                let f = l.finding?;
                Some(StockBack {
                    warehouse: l.warehouse.clone(),
                    owner: l.owner.clone(),
                    sku: l.sku.clone(),
                    restock: f.restock,
                    damaged: f.damaged,
                })
            })
            .filter(|s| s.restock + s.damaged > 0)
            .collect()
    }
}

/// Units of a SKU kept apart as damaged in a warehouse: never on hand, never allocated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamagedStock {
    pub warehouse: WarehouseId,
    pub owner: MerchantId,
    pub sku: Sku,
    pub units: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::{AllocatedLine, Allocation};
    use crate::order::{Address, Channel, Charges, Customer, NewOrder, OrderLine, TimelineEvent};
    use crate::{ExternalId, OrderNumber};

    fn t(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-11-{day:02}T10:00:00Z")).unwrap().with_timezone(&Utc)
    }

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn delivered_order() -> Order {
        let new = NewOrder {
            channel: Channel::Generic,
            external_id: ExternalId::parse("A-1").unwrap(),
            order_number: OrderNumber::parse("A-1").unwrap(),
            merchant_id: MerchantId::parse("m-1").unwrap(),
            placed_at: t(1),
            currency: Currency::parse("CNY").unwrap(),
            customer: Customer::known(CustomerId::parse("c-1").unwrap()),
            shipping_address: Address {
                name: None,
                line1: "1 West Lake Rd".into(),
                line2: None,
                city: "Hangzhou".into(),
                province: None,
                postal_code: None,
                country: "CN".into(),
            },
            lines: vec![
                OrderLine { sku: sku("TEA"), quantity: 3, unit_price: Decimal::new(1990, 2) },
                OrderLine { sku: sku("CUP"), quantity: 1, unit_price: Decimal::new(50, 0) },
            ],
            charges: Charges::default(),
            channel_updated_at: t(1),
            cancelled_at: None,
            paid: true,
            deliver_by: None,
        };
        let mut order = Order::receive(new, OrderId::generate(), t(1));
        let line = |s: &str, q| AllocatedLine {
            warehouse: WarehouseId::parse("WH-1").unwrap(),
            owner: MerchantId::parse("m-1").unwrap(),
            sku: sku(s),
            quantity: q,
            transfer_price: None,
        };
        order.allocation = Some(Allocation {
            lines: vec![line("TEA", 3), line("CUP", 1)],
            explanation: String::new(),
            costing: None,
            planned_at: t(1),
            merge: None,
            shipments: vec![],
            claimed_from: None,
        });
        order.status = OrderStatus::Delivered;
        order.timeline.push(TimelineEvent { at: t(3), status: OrderStatus::Delivered, detail: "delivered".into() });
        order
    }

    fn ask(kind: ReturnKind, reason: ReasonCode, lines: Vec<RequestedLine>) -> ReturnRequest {
        ReturnRequest {
            customer_id: CustomerId::parse("c-1").unwrap(),
            idempotency_key: IdempotencyKey::parse("k-1").unwrap(),
            kind,
            reason,
            reason_text: "  it leaks  ".into(),
            photos: vec![PhotoUrl::parse("https://img.example/1.jpg").unwrap()],
            lines,
        }
    }

    fn tea(quantity: u32) -> RequestedLine {
        RequestedLine { sku: sku("TEA"), quantity, replacement: None }
    }

    fn requested() -> Return {
        Return::request(
            &delivered_order(),
            ask(ReturnKind::Return, ReasonCode::ChangedMind, vec![tea(2)]),
            &ReturnPolicy::default(),
            t(5),
        )
        .unwrap()
    }

    #[test]
    fn a_request_takes_the_paid_price_and_the_shipping_warehouse_of_each_line() {
        let r = requested();
        assert_eq!((r.state, r.version, r.reason_text.as_str()), (ReturnState::Requested, 1, "it leaks"));
        assert_eq!(r.delivered_at, t(3));
        let line = &r.lines[0];
        assert_eq!((line.quantity, line.unit_price, line.warehouse.as_str()), (2, Decimal::new(1990, 2), "WH-1"));
        assert_eq!(r.claimed_units(), vec![(sku("TEA"), 2)]);
    }

    #[test]
    fn an_exchange_names_its_replacement_the_same_sku_by_default() {
        let lines = vec![tea(1), RequestedLine { sku: sku("CUP"), quantity: 1, replacement: Some(sku("CUP-BLUE")) }];
        let r = Return::request(
            &delivered_order(),
            ask(ReturnKind::Exchange, ReasonCode::WrongItem, lines),
            &ReturnPolicy::default(),
            t(5),
        )
        .unwrap();
        assert_eq!(r.lines[0].replacement, Some(sku("TEA")));
        assert_eq!(r.lines[1].replacement, Some(sku("CUP-BLUE")));
        let named = vec![RequestedLine { sku: sku("TEA"), quantity: 1, replacement: Some(sku("X")) }];
        let refused = Return::request(
            &delivered_order(),
            ask(ReturnKind::Return, ReasonCode::Other, named),
            &ReturnPolicy::default(),
            t(5),
        );
        assert!(matches!(refused, Err(ReturnError::Invalid(e)) if e.field == "lines[0].replacement_sku"));
    }

    #[test]
    fn a_request_is_refused_for_bad_lines_photos_and_texts() {
        let policy = ReturnPolicy::default();
        let field = |lines: Vec<RequestedLine>| match Return::request(
            &delivered_order(),
            ask(ReturnKind::Return, ReasonCode::Other, lines),
            &policy,
            t(5),
        ) {
            Err(ReturnError::Invalid(e)) => e.field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(vec![]), "lines");
        assert_eq!(field(vec![tea(4)]), "lines[0].quantity", "more than delivered");
        assert_eq!(field(vec![tea(0)]), "lines[0].quantity");
        assert_eq!(field(vec![tea(1), tea(1)]), "lines[1].sku", "a SKU twice");
        assert_eq!(field(vec![RequestedLine { sku: sku("NOPE"), quantity: 1, replacement: None }]), "lines[0].sku");
        let mut many = ask(ReturnKind::Return, ReasonCode::Other, vec![tea(1)]);
        many.photos = vec![PhotoUrl::parse("https://a.example/p").unwrap(); MAX_PHOTOS + 1];
        assert!(
            matches!(Return::request(&delivered_order(), many, &policy, t(5)), Err(ReturnError::Invalid(e)) if e.field == "photos")
        );
        let mut long = ask(ReturnKind::Return, ReasonCode::Other, vec![tea(1)]);
        long.reason_text = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(
            matches!(Return::request(&delivered_order(), long, &policy, t(5)), Err(ReturnError::Invalid(e)) if e.field == "reason_text")
        );
        assert!(PhotoUrl::parse("http://a.example/p.jpg").is_err());
        assert!(PhotoUrl::parse("https:///p.jpg").is_err());
        assert!(PhotoUrl::parse("https://a.example/a b.jpg").is_err());
        assert!(PhotoUrl::parse(format!("https://a.example/{}", "p".repeat(MAX_PHOTO_URL_LEN))).is_err());
        assert!(ReasonCode::parse("because").is_err() && ReturnKind::parse("swap").is_err());
    }

    #[test]
    fn only_a_delivered_order_within_the_window_takes_a_request() {
        let policy = ReturnPolicy::default();
        let late = Return::request(
            &delivered_order(),
            ask(ReturnKind::Return, ReasonCode::Other, vec![tea(1)]),
            &policy,
            t(3) + Duration::days(31),
        );
        assert!(matches!(late, Err(ReturnError::Rule(ReturnRuleError::WindowClosed { days: 30, .. }))));
        let last_moment = t(3) + Duration::days(30);
        assert!(Return::request(
            &delivered_order(),
            ask(ReturnKind::Return, ReasonCode::Other, vec![tea(1)]),
            &policy,
            last_moment
        )
        .is_ok());
        let mut shipped = delivered_order();
        shipped.status = OrderStatus::Shipped;
        let refused = Return::request(&shipped, ask(ReturnKind::Return, ReasonCode::Other, vec![tea(1)]), &policy, t(5));
        assert!(matches!(refused, Err(ReturnError::Rule(ReturnRuleError::NotDelivered(_)))));
    }

    #[test]
    fn an_approval_after_the_window_closed_is_refused() {
        let r = requested();
        let policy = ReturnPolicy { window_days: 7, ..ReturnPolicy::default() };
        let late = r.apply(ReturnEvent::Approve, &policy, t(3) + Duration::days(8));
        assert!(matches!(late, Err(ReturnError::Rule(ReturnRuleError::WindowClosed { days: 7, .. }))));
        assert_eq!(r.apply(ReturnEvent::Approve, &policy, t(9)).unwrap().state, ReturnState::Approved);
    }

    fn every_event() -> Vec<ReturnEvent> {
        let refund = refund_for(&requested().lines, Currency::parse("CNY").unwrap(), ReasonCode::Other, &ReturnPolicy::default());
        vec![
            ReturnEvent::Approve,
            ReturnEvent::Refuse { reason: "worn".into() },
            ReturnEvent::Cancel,
            ReturnEvent::Ship {
                carrier: CarrierId::parse("sf").unwrap(),
                tracking_number: TrackingNumber::parse("SF1").unwrap(),
            },
            ReturnEvent::Receive,
            ReturnEvent::Inspect { findings: BTreeMap::new(), note: String::new() },
            ReturnEvent::Refund(refund),
            ReturnEvent::Exchange { order_id: OrderId::generate() },
        ]
    }

    #[test]
    fn every_transition_the_machine_allows_and_no_other() {
        use ReturnKind as K;
        use ReturnState as S;
        let allowed = [
            (S::Requested, "approve", None),
            (S::Requested, "refuse", None),
            (S::Requested, "cancel", None),
            (S::Approved, "cancel", None),
            (S::Approved, "ship", None),
            (S::InTransit, "receive", None),
            (S::Received, "inspect", None),
            (S::Inspected, "refund", Some(K::Return)),
            (S::Inspected, "exchange", Some(K::Exchange)),
        ];
        for kind in [K::Return, K::Exchange] {
            for state in ReturnState::ALL {
                assert_eq!(ReturnState::parse(state.as_str()), Some(state));
                for event in every_event() {
                    let result = state.on(kind, &event);
                    let ok = allowed.iter().any(|(s, e, k)| *s == state && *e == event.name() && k.is_none_or(|k| k == kind));
                    if ok {
                        assert!(result.is_ok(), "{state} ({}) should take {}", kind.as_str(), event.name());
                    } else {
                        assert_eq!(result, Err(InvalidReturnTransition { from: state, event: event.name() }));
                    }
                }
            }
        }
        assert!(S::Refused.is_final() && S::Exchanged.is_final() && !S::Inspected.is_final());
        assert!(!S::Refused.claims_units() && !S::Cancelled.claims_units() && S::Refunded.claims_units());
    }

    #[test]
    fn the_life_of_a_return_records_each_step_and_bumps_the_version() {
        let policy = ReturnPolicy::default();
        let r = requested().apply(ReturnEvent::Approve, &policy, t(6)).unwrap();
        let ship = ReturnEvent::Ship {
            carrier: CarrierId::parse("sf").unwrap(),
            tracking_number: TrackingNumber::parse("SF9").unwrap(),
        };
        let r = r.apply(ship, &policy, t(7)).unwrap();
        assert_eq!(
            (r.state, r.version, r.tracking_number.as_ref().map(|t| t.as_str())),
            (ReturnState::InTransit, 3, Some("SF9"))
        );
        let r = r.apply(ReturnEvent::Receive, &policy, t(9)).unwrap();
        let short = BTreeMap::from([(sku("TEA"), Finding { restock: 1, damaged: 0 })]);
        let refused = r.apply(ReturnEvent::Inspect { findings: short, note: String::new() }, &policy, t(10));
        assert!(matches!(refused, Err(ReturnError::Invalid(e)) if e.field == "lines[0]"), "1 of 2 units found");
        let stranger =
            BTreeMap::from([(sku("TEA"), Finding { restock: 2, damaged: 0 }), (sku("CUP"), Finding { restock: 1, damaged: 0 })]);
        assert!(
            r.apply(ReturnEvent::Inspect { findings: stranger, note: String::new() }, &policy, t(10)).is_err(),
            "CUP is not returned"
        );
        let found = BTreeMap::from([(sku("TEA"), Finding { restock: 1, damaged: 1 })]);
        let r = r.apply(ReturnEvent::Inspect { findings: found, note: "one cracked".into() }, &policy, t(10)).unwrap();
        let back = StockBack::of(&r);
        assert_eq!((back.len(), back[0].restock, back[0].damaged), (1, 1, 1));
        let refund = r.refund_due(&policy);
        let r = r.apply(ReturnEvent::Refund(refund), &policy, t(11)).unwrap();
        assert_eq!((r.state, r.version, r.refund.map(|f| f.amount_minor)), (ReturnState::Refunded, 6, Some(3582)));
        assert!(matches!(r.apply(ReturnEvent::Refund(refund), &policy, t(12)), Err(ReturnError::Transition(_))), "refunded once");
        let refused = requested().apply(ReturnEvent::Refuse { reason: "  ".into() }, &policy, t(6));
        assert!(matches!(refused, Err(ReturnError::Invalid(e)) if e.field == "reason"), "a refusal says why");
    }

    #[test]
    fn the_refund_is_the_paid_price_less_the_fee_in_minor_units_never_negative() {
        let cny = Currency::parse("CNY").unwrap();
        let lines = requested().lines; // 2 × 19.90
        let policy = ReturnPolicy::default();
        let r = refund_for(&lines, cny, ReasonCode::ChangedMind, &policy);
        assert_eq!((r.gross_minor, r.fee_minor, r.amount_minor), (3980, 398, 3582));
        assert_eq!(r.money(r.amount_minor).to_string(), "35.82 CNY");
        let waived = refund_for(&lines, cny, ReasonCode::Defective, &policy);
        assert_eq!((waived.fee_minor, waived.amount_minor, waived.fee_percent), (0, 3980, Decimal::ZERO), "the seller's fault");
        let odd = ReturnPolicy { restocking_fee_percent: Decimal::new(125, 1), ..policy };
        assert_eq!(refund_for(&lines, cny, ReasonCode::Other, &odd).fee_minor, 497, "497.5 rounded down for the buyer");
        let all = ReturnPolicy { restocking_fee_percent: Decimal::ONE_HUNDRED, ..policy };
        assert_eq!(refund_for(&lines, cny, ReasonCode::Other, &all).amount_minor, 0, "never below zero");
        let free = vec![ReturnLine { unit_price: Decimal::ZERO, ..lines[0].clone() }];
        assert_eq!(refund_for(&free, cny, ReasonCode::Other, &policy).amount_minor, 0);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(to_minor(Decimal::new(1500, 0), jpy), 1500);
        assert_eq!(to_minor(Decimal::new(19905, 3), cny), 1991, "19.905 to the cent, half away from zero");
    }

    #[test]
    fn the_policy_is_checked() {
        assert!(ReturnPolicy::default().check().is_ok());
        assert_eq!(ReturnPolicy { window_days: 0, ..ReturnPolicy::default() }.check().unwrap_err().field, "window_days");
        assert_eq!(ReturnPolicy { window_days: 366, ..ReturnPolicy::default() }.check().unwrap_err().field, "window_days");
        let fee = |p: Decimal| ReturnPolicy { restocking_fee_percent: p, ..ReturnPolicy::default() }.check();
        assert!(fee(Decimal::new(-1, 0)).is_err() && fee(Decimal::new(101, 0)).is_err() && fee(Decimal::new(1, 3)).is_err());
        assert!(fee(Decimal::ZERO).is_ok() && fee(Decimal::new(1250, 2)).is_ok());
    }
}
