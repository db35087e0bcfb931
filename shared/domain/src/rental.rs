//! Rentals: a merchant registers rental units (one physical item each, of a SKU, kept in a
//! warehouse, with a daily rate, a deposit and a late fee per day); a customer books a unit
//! for a period of whole days; the unit is handed over, returned (late or not), inspected,
//! and the deposit is settled: back to the customer less the late fees and any damage
//! charge, never below zero, with what is owed beyond the deposit said.
//!
//! A rental unit is its own inventory, apart from sellable stock: it is a serialised asset
//! the merchant keeps to rent out again and again, not a unit of stock that leaves with an
//! order, so it is never counted in the stock levels allocation reads (nothing to set aside
//! or release, nothing the ledger has to reconcile). Registering a unit only says it exists
//! and on what terms it rents; the merchant does not count it in `on_hand`.
//!
//! Availability is by day: a booking of days `start..end` (the end day is the return day,
//! not rented, so a unit returned in the morning can go out again the same day) claims one
//! `(unit, day)` for each of its days, and a store writes the booking and all its claims in
//! ONE conditional write that fails whole when any day is claimed already (a unique index
//! on SQLite, `attribute_not_exists` items in one transaction on DynamoDB). Two customers
//! booking overlapping days at once can therefore never both win, whatever the store's
//! interleaving; a cancelled booking frees its days in the write that cancels it.
//! [`MAX_DAYS`] bounds a booking so its claims, the booking and its idempotency item fit
//! one DynamoDB transaction (100 items).
//!
//! The booking's life ([`RentalState`]): `booked` → `handed_over` → `returned` →
//! `inspected` → `settled`, or `booked` → `cancelled`.
//!
//! The booking's order: the booking makes an order of channel `rental` (external id the
//! booking id, unpaid) for the rent and the deposit ([`Booking::charge_lines`]), in the
//! write that books it. It is a service order (`crate::service_order`): never allocated,
//! cancelled with the booking, delivered when the deposit is settled. The settlement's
//! late fees and damage are taken out of the deposit that order charged: its timeline
//! says how the deposit was settled (late fees, damage, the refund), and what the charges
//! come to beyond the deposit, when anything, is a follow-up order of its own
//! ([`Booking::owed_lines`], external id `<booking id>-owed`) made in the same write, so
//! the first order's lines and payments never change after the fact.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::flash_sale::{minted_id, IdempotencyKey};
use crate::{Currency, CustomerId, MerchantId, Sku, ValidationError, WarehouseId};

/// Longest booking, in days: its day claims, the booking and its key item fit one
/// DynamoDB transaction of at most 100 items.
pub const MAX_DAYS: i64 = 90;
/// Furthest ahead a booking may start, in days.
pub const MAX_AHEAD_DAYS: i64 = 365;
/// Highest daily rate, deposit, late fee or damage charge accepted.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);
/// Longest rental unit id.
pub const MAX_UNIT_ID_LEN: usize = 64;
/// The codes of a rental order's lines (services, not stocked SKUs): the rent (one per
/// day), the deposit, and on a follow-up order the late fees and the damage owed beyond it.
pub const RENT_SKU: &str = "SERVICE-RENTAL-DAY";
pub const DEPOSIT_SKU: &str = "SERVICE-RENTAL-DEPOSIT";
pub const LATE_FEE_SKU: &str = "SERVICE-RENTAL-LATE-DAY";
pub const DAMAGE_SKU: &str = "SERVICE-RENTAL-DAMAGE";

minted_id!(
    /// A booking of a rental unit: `rb_` and a ULID. The booking's order has it as its
    /// external id (channel `rental`).
    BookingId,
    "rb_"
);

/// A rental unit's id, chosen by the merchant (`PUT /rental-units/{id}`): 1 to
/// [`MAX_UNIT_ID_LEN`] ASCII letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RentalUnitId(String);

impl RentalUnitId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw: String = raw.into();
        if raw.is_empty() || raw.len() > MAX_UNIT_ID_LEN {
            return Err(ValidationError::new("", format!("must be 1 to {MAX_UNIT_ID_LEN} characters")));
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(ValidationError::new("", "only ASCII letters, digits, '-', '_' and '.'"));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RentalUnitId {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<RentalUnitId> for String {
    fn from(id: RentalUnitId) -> String {
        id.0
    }
}

impl fmt::Display for RentalUnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks an amount of `currency`: at least 0 (above 0 when `positive`), at most
/// [`MAX_AMOUNT`], with at most the currency's minor digits.
fn check_amount(field: &str, amount: Decimal, currency: Currency, positive: bool) -> Result<(), ValidationError> {
    if amount < Decimal::ZERO || (positive && amount.is_zero()) || amount > MAX_AMOUNT {
        let floor = if positive { "above 0" } else { "at least 0" };
        return Err(ValidationError::new(field, format!("must be {floor} and at most {MAX_AMOUNT}")));
    }
    if amount.scale() > currency.minor_digits() {
        return Err(ValidationError::new(field, format!("{currency} has at most {} decimal places", currency.minor_digits())));
    }
    Ok(())
}

/// A merchant's rentable item: one physical unit of a SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RentalUnit {
    pub unit_id: RentalUnitId,
    pub merchant_id: MerchantId,
    pub sku: Sku,
    /// Where the unit is handed over and returned.
    pub warehouse: WarehouseId,
    pub currency: Currency,
    /// Price of one day.
    pub daily_rate: Decimal,
    /// Taken with the booking, settled after inspection.
    pub deposit: Decimal,
    /// Charged per day returned after the booking's end.
    pub late_fee_per_day: Decimal,
    /// A retired unit takes no new bookings (its bookings stand).
    #[serde(default)]
    pub retired: bool,
}

impl RentalUnit {
    /// Checks the unit's amounts: a daily rate above 0, a deposit and a late fee at least 0,
    /// each at most [`MAX_AMOUNT`] in the currency's minor digits.
    pub fn check(self) -> Result<Self, ValidationError> {
        check_amount("daily_rate", self.daily_rate, self.currency, true)?;
        check_amount("deposit", self.deposit, self.currency, false)?;
        check_amount("late_fee_per_day", self.late_fee_per_day, self.currency, false)?;
        Ok(self)
    }
}

/// The days a booking takes: `start` (handed over) to `end` (returned), `end` not rented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    /// A period to book on `today`: the end after the start, at most [`MAX_DAYS`] days, not
    /// starting in the past nor more than [`MAX_AHEAD_DAYS`] ahead.
    pub fn to_book(start: NaiveDate, end: NaiveDate, today: NaiveDate) -> Result<Self, ValidationError> {
        if end <= start {
            return Err(ValidationError::new("end", "must be after the start"));
        }
        if (end - start).num_days() > MAX_DAYS {
            return Err(ValidationError::new("end", format!("a booking is at most {MAX_DAYS} days")));
        }
        if start < today {
            return Err(ValidationError::new("start", "must not be in the past"));
        }
        if (start - today).num_days() > MAX_AHEAD_DAYS {
            return Err(ValidationError::new("start", format!("at most {MAX_AHEAD_DAYS} days ahead")));
        }
        Ok(Self { start, end })
    }

    /// A range to read availability over: the end after the start, at most [`MAX_DAYS`].
    pub fn to_read(start: NaiveDate, end: NaiveDate) -> Result<Self, ValidationError> {
        if end <= start {
            return Err(ValidationError::new("to", "must be after from"));
        }
        if (end - start).num_days() > MAX_DAYS {
            return Err(ValidationError::new("to", format!("at most {MAX_DAYS} days at once")));
        }
        Ok(Self { start, end })
    }

    /// Number of days rented.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// Each day rented, in order: what the booking claims.
    pub fn each_day(&self) -> Vec<NaiveDate> {
        self.start.iter_days().take_while(|d| *d < self.end).collect()
    }

    /// Whether two periods share a rented day.
    pub fn overlaps(&self, other: &Period) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Where a booking is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RentalState {
    /// Its days are claimed; not handed over yet.
    Booked,
    /// The customer has the unit.
    HandedOver,
    /// The unit is back; its late days are counted.
    Returned,
    /// Looked over; any damage charge is known.
    Inspected,
    /// The deposit is settled. Final.
    Settled,
    /// Cancelled before hand-over; its days are free again. Final.
    Cancelled,
}

impl RentalState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::HandedOver => "handed_over",
            Self::Returned => "returned",
            Self::Inspected => "inspected",
            Self::Settled => "settled",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "booked" => Self::Booked,
            "handed_over" => Self::HandedOver,
            "returned" => Self::Returned,
            "inspected" => Self::Inspected,
            "settled" => Self::Settled,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Whether the booking holds its days: every state but `cancelled` (a unit returned and
    /// settled kept its days; they are in the past).
    pub fn holds_days(self) -> bool {
        self != Self::Cancelled
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Settled | Self::Cancelled)
    }

    /// The state after `event`, or the refusal.
    pub fn on(self, event: &RentalEvent) -> Result<Self, InvalidRentalTransition> {
        use RentalEvent as E;
        use RentalState as S;
        match (self, event) {
            (S::Booked, E::HandOver { .. }) => Ok(S::HandedOver),
            (S::Booked, E::Cancel) => Ok(S::Cancelled),
            (S::HandedOver, E::Return { .. }) => Ok(S::Returned),
            (S::Returned, E::Inspect { .. }) => Ok(S::Inspected),
            (S::Inspected, E::Settle) => Ok(S::Settled),
            _ => Err(InvalidRentalTransition { from: self, event: event.name() }),
        }
    }
}

impl fmt::Display for RentalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RentalEvent {
    HandOver {
        on: NaiveDate,
    },
    Return {
        on: NaiveDate,
    },
    /// The inspection's finding: a damage charge (0 when none) and a note.
    Inspect {
        damage: Decimal,
        note: String,
    },
    Settle,
    Cancel,
}

impl RentalEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::HandOver { .. } => "hand_over",
            Self::Return { .. } => "return",
            Self::Inspect { .. } => "inspect",
            Self::Settle => "settle",
            Self::Cancel => "cancel",
        }
    }
}

/// A transition the state machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a booking that is {from} cannot take {event}")]
pub struct InvalidRentalTransition {
    pub from: RentalState,
    pub event: &'static str,
}

/// How the deposit was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositSettlement {
    /// Days returned after the booking's end.
    pub late_days: i64,
    /// `late_days` × the late fee per day.
    pub late_fees: Decimal,
    /// The damage charge found at inspection.
    pub damage: Decimal,
    /// Paid back to the customer: the deposit less the late fees and damage, never below 0.
    pub refund: Decimal,
    /// What the charges come to beyond the deposit (0 when the deposit covers them).
    pub owed: Decimal,
}

/// The settlement of `deposit` for `late_days` at `late_fee_per_day` and `damage`.
pub fn settle_deposit(deposit: Decimal, late_days: i64, late_fee_per_day: Decimal, damage: Decimal) -> DepositSettlement {
    let late_days = late_days.max(0);
    let late_fees = late_fee_per_day * Decimal::from(late_days);
    let charges = late_fees + damage;
    DepositSettlement {
        late_days,
        late_fees,
        damage,
        refund: (deposit - charges).max(Decimal::ZERO),
        owed: (charges - deposit).max(Decimal::ZERO),
    }
}

/// A customer's booking of a unit, with the terms of the unit as they were when booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub booking_id: BookingId,
    pub unit_id: RentalUnitId,
    pub merchant_id: MerchantId,
    pub sku: Sku,
    pub warehouse: WarehouseId,
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    pub period: Period,
    pub currency: Currency,
    /// Days × the daily rate.
    pub price: Decimal,
    pub deposit: Decimal,
    pub late_fee_per_day: Decimal,
    pub state: RentalState,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_over_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<DepositSettlement>,
    /// The booking's order (none for a booking made before bookings made orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<crate::OrderId>,
    /// The follow-up order of what the settlement's charges came to beyond the deposit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owed_order_id: Option<crate::OrderId>,
}

impl Booking {
    /// A new booking of `unit` for `period`, booked: the price is the days × the unit's
    /// daily rate; the deposit and late fee are the unit's.
    pub fn new(
        unit: &RentalUnit,
        customer_id: CustomerId,
        idempotency_key: IdempotencyKey,
        period: Period,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            booking_id: BookingId::generate(),
            unit_id: unit.unit_id.clone(),
            merchant_id: unit.merchant_id.clone(),
            sku: unit.sku.clone(),
            warehouse: unit.warehouse.clone(),
            customer_id,
            idempotency_key,
            period,
            currency: unit.currency,
            price: unit.daily_rate * Decimal::from(period.days()),
            deposit: unit.deposit,
            late_fee_per_day: unit.late_fee_per_day,
            state: RentalState::Booked,
            created_at: now,
            handed_over_on: None,
            returned_on: None,
            damage: None,
            damage_note: None,
            settlement: None,
            order_id: Some(crate::OrderId::generate()),
            owed_order_id: None,
        }
    }

    /// What the booking's order charges: the rent (one line of the days at the daily rate)
    /// and the deposit, when there is one.
    pub fn charge_lines(&self) -> Result<Vec<crate::order::OrderLine>, ValidationError> {
        let days = u32::try_from(self.period.days()).map_err(|_| ValidationError::new("end", "too many days"))?;
        let rate = self.price / Decimal::from(days.max(1));
        let mut lines = vec![crate::service_order::charge_line(RENT_SKU, days, rate)?];
        if !self.deposit.is_zero() {
            lines.push(crate::service_order::charge_line(DEPOSIT_SKU, 1, self.deposit)?);
        }
        Ok(lines)
    }

    /// What the follow-up order charges once settled: the late days at the late fee and
    /// the damage, less the deposit they were taken from, so the lines come to `owed`;
    /// none when the deposit covered them.
    pub fn owed_lines(&self) -> Result<Vec<crate::order::OrderLine>, ValidationError> {
        let Some(s) = &self.settlement else { return Ok(Vec::new()) };
        if s.owed.is_zero() {
            return Ok(Vec::new());
        }
        // The deposit pays the late fees first, then the damage.
        let late_owed = (s.late_fees - self.deposit).max(Decimal::ZERO);
        let damage_owed = s.owed - late_owed;
        let mut lines = Vec::new();
        if !late_owed.is_zero() {
            lines.push(crate::service_order::charge_line(LATE_FEE_SKU, 1, late_owed)?);
        }
        if !damage_owed.is_zero() {
            lines.push(crate::service_order::charge_line(DAMAGE_SKU, 1, damage_owed)?);
        }
        Ok(lines)
    }

    /// Days returned after the end (0 before it is returned or when on time).
    pub fn late_days(&self) -> i64 {
        self.returned_on.map_or(0, |on| (on - self.period.end).num_days().max(0))
    }

    /// The booking after `event`: its state moved and what the event records kept (a
    /// settle computes the deposit's settlement). A damage charge is checked as an amount.
    pub fn apply(&self, event: RentalEvent) -> Result<Self, RentalError> {
        let state = self.state.on(&event)?;
        let mut next = self.clone();
        next.state = state;
        match event {
            RentalEvent::HandOver { on } => next.handed_over_on = Some(on),
            RentalEvent::Return { on } => {
                if on < self.period.start {
                    return Err(ValidationError::new("returned_on", "must not be before the start").into());
                }
                next.returned_on = Some(on);
            }
            RentalEvent::Inspect { damage, note } => {
                check_amount("damage", damage, self.currency, false)?;
                if note.chars().count() > 1000 {
                    return Err(ValidationError::new("note", "at most 1000 characters").into());
                }
                next.damage = Some(damage);
                next.damage_note = (!note.is_empty()).then_some(note);
            }
            RentalEvent::Settle => {
                let damage = self.damage.unwrap_or_default();
                next.settlement = Some(settle_deposit(self.deposit, self.late_days(), self.late_fee_per_day, damage));
                if next.owed_lines()?.is_empty() {
                    next.owed_order_id = None;
                } else {
                    next.owed_order_id = Some(crate::OrderId::generate());
                }
            }
            RentalEvent::Cancel => {}
        }
        Ok(next)
    }
}

/// Why a booking could not take an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RentalError {
    #[error(transparent)]
    Transition(#[from] InvalidRentalTransition),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn unit() -> RentalUnit {
        RentalUnit {
            unit_id: RentalUnitId::parse("drill-7").unwrap(),
            merchant_id: MerchantId::parse("m-1").unwrap(),
            sku: Sku::parse("DRILL").unwrap(),
            warehouse: WarehouseId::parse("WH-1").unwrap(),
            currency: Currency::parse("EUR").unwrap(),
            daily_rate: Decimal::new(1250, 2),
            deposit: Decimal::new(100, 0),
            late_fee_per_day: Decimal::new(20, 0),
            retired: false,
        }
    }

    fn booking(start: u32, end: u32) -> Booking {
        let period = Period::to_book(day(start), day(end), day(1)).unwrap();
        Booking::new(&unit(), CustomerId::parse("c-1").unwrap(), IdempotencyKey::parse("k-1").unwrap(), period, Utc::now())
    }

    #[test]
    fn a_booking_is_priced_days_times_the_daily_rate_and_claims_each_day() {
        let b = booking(3, 6);
        assert_eq!(b.price, Decimal::new(3750, 2));
        assert_eq!(b.period.each_day(), vec![day(3), day(4), day(5)], "the end day is the return day, not rented");
        assert_eq!((b.state, b.deposit), (RentalState::Booked, Decimal::new(100, 0)));
    }

    #[test]
    fn periods_are_checked() {
        assert_eq!(Period::to_book(day(5), day(5), day(1)).unwrap_err().field, "end");
        assert_eq!(Period::to_book(day(5), day(4), day(1)).unwrap_err().field, "end");
        assert_eq!(Period::to_book(day(2), day(4), day(3)).unwrap_err().field, "start", "in the past");
        let far = day(1) + chrono::Duration::days(MAX_DAYS + 1);
        assert_eq!(Period::to_book(day(1), far, day(1)).unwrap_err().field, "end", "too long");
        assert!(Period::to_book(day(1), day(1) + chrono::Duration::days(MAX_DAYS), day(1)).is_ok());
        let ahead = day(1) + chrono::Duration::days(MAX_AHEAD_DAYS + 1);
        assert_eq!(Period::to_book(ahead, ahead + chrono::Duration::days(1), day(1)).unwrap_err().field, "start");
        assert!(Period::to_book(day(1), day(2), day(1)).is_ok(), "today is bookable");
    }

    #[test]
    fn overlap_is_by_rented_day() {
        let p = |a, b| Period { start: day(a), end: day(b) };
        assert!(p(3, 6).overlaps(&p(5, 8)));
        assert!(p(5, 8).overlaps(&p(3, 6)));
        assert!(p(3, 6).overlaps(&p(4, 5)));
        assert!(!p(3, 6).overlaps(&p(6, 9)), "returned on the 6th, out again on the 6th");
        assert!(!p(6, 9).overlaps(&p(3, 6)));
    }

    #[test]
    fn unit_amounts_and_ids_are_checked() {
        assert!(unit().check().is_ok());
        assert_eq!(RentalUnit { daily_rate: Decimal::ZERO, ..unit() }.check().unwrap_err().field, "daily_rate");
        assert_eq!(RentalUnit { deposit: Decimal::new(-1, 0), ..unit() }.check().unwrap_err().field, "deposit");
        assert_eq!(RentalUnit { late_fee_per_day: Decimal::new(1, 3), ..unit() }.check().unwrap_err().field, "late_fee_per_day");
        assert_eq!(RentalUnit { deposit: MAX_AMOUNT + Decimal::ONE, ..unit() }.check().unwrap_err().field, "deposit");
        assert!(RentalUnitId::parse("").is_err());
        assert!(RentalUnitId::parse("a b").is_err());
        assert!(RentalUnitId::parse("x".repeat(MAX_UNIT_ID_LEN + 1)).is_err());
        assert!(RentalUnitId::parse("bike-3.blue_L").is_ok());
    }

    #[test]
    fn every_transition_the_machine_allows() {
        use RentalEvent as E;
        use RentalState as S;
        let inspect = E::Inspect { damage: Decimal::ZERO, note: String::new() };
        assert_eq!(S::Booked.on(&E::HandOver { on: day(3) }), Ok(S::HandedOver));
        assert_eq!(S::Booked.on(&E::Cancel), Ok(S::Cancelled));
        assert_eq!(S::HandedOver.on(&E::Return { on: day(6) }), Ok(S::Returned));
        assert_eq!(S::Returned.on(&inspect), Ok(S::Inspected));
        assert_eq!(S::Inspected.on(&E::Settle), Ok(S::Settled));
    }

    #[test]
    fn every_other_transition_is_refused() {
        use RentalEvent as E;
        use RentalState as S;
        let events = [
            E::HandOver { on: day(3) },
            E::Return { on: day(6) },
            E::Inspect { damage: Decimal::ZERO, note: String::new() },
            E::Settle,
            E::Cancel,
        ];
        let allowed = [
            (S::Booked, "hand_over"),
            (S::Booked, "cancel"),
            (S::HandedOver, "return"),
            (S::Returned, "inspect"),
            (S::Inspected, "settle"),
        ];
        let states = [S::Booked, S::HandedOver, S::Returned, S::Inspected, S::Settled, S::Cancelled];
        for state in states {
            assert_eq!(RentalState::parse(state.as_str()), Some(state));
            for event in &events {
                let result = state.on(event);
                if allowed.contains(&(state, event.name())) {
                    assert!(result.is_ok(), "{state} should take {}", event.name());
                } else {
                    assert_eq!(result, Err(InvalidRentalTransition { from: state, event: event.name() }));
                }
            }
        }
        assert!(S::Settled.is_final() && S::Cancelled.is_final() && !S::Inspected.is_final());
        assert!(!S::Cancelled.holds_days() && S::Settled.holds_days());
    }

    #[test]
    fn the_life_cycle_records_each_step_and_settles_the_deposit() {
        let b = booking(3, 6);
        let b = b.apply(RentalEvent::HandOver { on: day(3) }).unwrap();
        assert_eq!((b.state, b.handed_over_on), (RentalState::HandedOver, Some(day(3))));
        assert!(b.apply(RentalEvent::Return { on: day(2) }).is_err(), "returned before the start");
        let b = b.apply(RentalEvent::Return { on: day(8) }).unwrap();
        assert_eq!((b.state, b.late_days()), (RentalState::Returned, 2));
        let refused = b.apply(RentalEvent::Inspect { damage: Decimal::new(-5, 0), note: String::new() });
        assert!(matches!(refused, Err(RentalError::Invalid(e)) if e.field == "damage"));
        let b = b.apply(RentalEvent::Inspect { damage: Decimal::new(15, 0), note: "scratched case".into() }).unwrap();
        assert_eq!((b.damage, b.damage_note.as_deref()), (Some(Decimal::new(15, 0)), Some("scratched case")));
        let b = b.apply(RentalEvent::Settle).unwrap();
        assert_eq!(b.state, RentalState::Settled);
        let s = b.settlement.unwrap();
        assert_eq!((s.late_days, s.late_fees, s.damage), (2, Decimal::new(40, 0), Decimal::new(15, 0)));
        assert_eq!((s.refund, s.owed), (Decimal::new(45, 0), Decimal::ZERO), "100 less 40 late and 15 damage");
        assert!(matches!(b.apply(RentalEvent::Settle), Err(RentalError::Transition(_))), "settled once");
    }

    #[test]
    fn the_booking_order_charges_rent_and_deposit_and_the_follow_up_what_is_owed_beyond_it() {
        let b = booking(3, 6);
        let lines = b.charge_lines().unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].sku.as_str(), lines[0].quantity, lines[0].unit_price), (RENT_SKU, 3, Decimal::new(1250, 2)));
        assert_eq!((lines[1].sku.as_str(), lines[1].unit_price), (DEPOSIT_SKU, Decimal::new(100, 0)));
        assert!(b.order_id.is_some());
        let b = b.apply(RentalEvent::HandOver { on: day(3) }).unwrap();
        let b = b.apply(RentalEvent::Return { on: day(12) }).unwrap();
        let b = b.apply(RentalEvent::Inspect { damage: Decimal::new(30, 0), note: String::new() }).unwrap();
        let settled = b.apply(RentalEvent::Settle).unwrap();
        let owed = settled.owed_lines().unwrap();
        let total: Decimal = owed.iter().map(|l| l.unit_price * Decimal::from(l.quantity)).sum();
        assert_eq!(total, settled.settlement.unwrap().owed, "120 late and 30 damage less the 100 deposit");
        assert_eq!((owed[0].unit_price, owed[1].unit_price), (Decimal::new(20, 0), Decimal::new(30, 0)));
        assert_eq!((owed[0].sku.as_str(), owed[1].sku.as_str()), (LATE_FEE_SKU, DAMAGE_SKU));
        assert!(settled.owed_order_id.is_some());
        let on_time = booking(3, 6)
            .apply(RentalEvent::HandOver { on: day(3) })
            .and_then(|b| b.apply(RentalEvent::Return { on: day(6) }))
            .and_then(|b| b.apply(RentalEvent::Inspect { damage: Decimal::ZERO, note: String::new() }))
            .and_then(|b| b.apply(RentalEvent::Settle))
            .unwrap();
        assert!(on_time.owed_lines().unwrap().is_empty() && on_time.owed_order_id.is_none(), "the deposit covered it");
    }

    #[test]
    fn settlement_arithmetic() {
        let d = |n| Decimal::new(n, 0);
        let on_time = settle_deposit(d(100), 0, d(20), d(0));
        assert_eq!((on_time.refund, on_time.owed, on_time.late_fees), (d(100), d(0), d(0)));
        let early = settle_deposit(d(100), -3, d(20), d(0));
        assert_eq!((early.late_days, early.refund), (0, d(100)), "early is not late");
        let exact = settle_deposit(d(100), 4, d(20), d(20));
        assert_eq!((exact.refund, exact.owed), (d(0), d(0)), "charges equal to the deposit");
        let beyond = settle_deposit(d(100), 5, d(20), d(30));
        assert_eq!((beyond.refund, beyond.owed), (d(0), d(30)), "never below zero, the rest owed");
        let no_deposit = settle_deposit(d(0), 1, Decimal::new(250, 2), d(0));
        assert_eq!((no_deposit.refund, no_deposit.owed), (d(0), Decimal::new(250, 2)));
    }
}
