//! Rentals: register a unit, book it for a period (one atomic conditional write of the
//! booking and its day claims, [`RentalStore::book`]), read its availability, and move a
//! booking through hand-over, return, inspection and the deposit's settlement, or cancel
//! it (its days freed in the same write).
//!
//! A merchant sees only its own units and bookings: another merchant's read as unknown.
//! A customer sees only its own bookings.

use chrono::{DateTime, NaiveDate, Utc};

use crate::flash_sale::IdempotencyKey;
use crate::ports::{BookOutcome, MoveBookingOutcome, PutRentalUnitOutcome, RentalStore, StoreError};
use crate::rental::{Booking, BookingId, InvalidRentalTransition, Period, RentalError, RentalEvent, RentalUnit, RentalUnitId};
use crate::{CustomerId, MerchantId, ValidationError};

/// Why a rental action did nothing. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum RentalActionError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no rental unit {0}")]
    UnknownUnit(RentalUnitId),
    #[error("rental unit {0} is registered by another merchant")]
    UnitTaken(RentalUnitId),
    #[error("rental unit {0} is retired")]
    Retired(RentalUnitId),
    #[error("no booking {0}")]
    UnknownBooking(BookingId),
    #[error("rental unit {0} is booked on some of those days")]
    DatesTaken(RentalUnitId),
    #[error(transparent)]
    Transition(#[from] InvalidRentalTransition),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<RentalError> for RentalActionError {
    fn from(e: RentalError) -> Self {
        match e {
            RentalError::Transition(t) => Self::Transition(t),
            RentalError::Invalid(v) => Self::Invalid(v),
        }
    }
}

/// Registers `unit` (already checked) for its merchant, or replaces its terms.
pub async fn register_unit(store: &dyn RentalStore, unit: RentalUnit) -> Result<RentalUnit, RentalActionError> {
    match store.put_rental_unit(&unit).await? {
        PutRentalUnitOutcome::Stored => {
            tracing::info!(unit_id = %unit.unit_id, sku = %unit.sku, "rental unit registered");
            Ok(unit)
        }
        PutRentalUnitOutcome::TakenByAnother => Err(RentalActionError::UnitTaken(unit.unit_id)),
    }
}

/// The unit, when `merchant` owns it (another merchant's reads as unknown).
pub async fn unit_of(store: &dyn RentalStore, merchant: &MerchantId, id: &RentalUnitId) -> Result<RentalUnit, RentalActionError> {
    match store.get_rental_unit(id).await? {
        Some(unit) if &unit.merchant_id == merchant => Ok(unit),
        _ => Err(RentalActionError::UnknownUnit(id.clone())),
    }
}

/// A booking made (or made before under this customer and key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub booking: Booking,
    /// True when this answer is the first booking's.
    pub repeated: bool,
}

/// A booking as the customer asks for it: `start` the first day rented, `end` the return
/// day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Books `unit_id` of `merchant` (the storefront's merchant) as `new` asks, on `now`'s day.
/// The same customer and key again answers the first booking.
pub async fn book(
    store: &dyn RentalStore,
    merchant: &MerchantId,
    unit_id: &RentalUnitId,
    new: NewBooking,
    now: DateTime<Utc>,
) -> Result<Booked, RentalActionError> {
    let period = Period::to_book(new.start, new.end, now.date_naive())?;
    let unit = unit_of(store, merchant, unit_id).await?;
    if unit.retired {
        return Err(RentalActionError::Retired(unit.unit_id));
    }
    let booking = Booking::new(&unit, new.customer_id, new.idempotency_key, period, now);
    match store.book(&booking).await? {
        BookOutcome::Booked => {
            tracing::info!(booking_id = %booking.booking_id, unit_id = %unit.unit_id, days = period.days(), "rental booked");
            Ok(Booked { booking, repeated: false })
        }
        BookOutcome::Duplicate(first) => Ok(Booked { booking: *first, repeated: true }),
        BookOutcome::Taken => Err(RentalActionError::DatesTaken(unit.unit_id)),
    }
}

/// The booking, when `merchant` owns it.
pub async fn booking_of(store: &dyn RentalStore, merchant: &MerchantId, id: &BookingId) -> Result<Booking, RentalActionError> {
    match store.get_booking(id).await? {
        Some(b) if &b.merchant_id == merchant => Ok(b),
        _ => Err(RentalActionError::UnknownBooking(id.clone())),
    }
}

/// Moves `merchant`'s booking by `event`, as one conditional write from the state it was
/// read in. A concurrent move in between answers the transition refused from the state it
/// left.
pub async fn advance(
    store: &dyn RentalStore,
    merchant: &MerchantId,
    id: &BookingId,
    event: RentalEvent,
) -> Result<Booking, RentalActionError> {
    let current = booking_of(store, merchant, id).await?;
    let name = event.name();
    let next = current.apply(event)?;
    match store.move_booking(&next, current.state).await? {
        MoveBookingOutcome::Moved => {
            tracing::info!(booking_id = %id, from = %current.state, to = %next.state, "rental booking moved");
            Ok(next)
        }
        MoveBookingOutcome::Conflict(now) => Err(InvalidRentalTransition { from: now, event: name }.into()),
        MoveBookingOutcome::NotFound => Err(RentalActionError::UnknownBooking(id.clone())),
    }
}

/// A unit's days over a range: which are booked, by which booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub unit_id: RentalUnitId,
    pub period: Period,
    pub free: Vec<NaiveDate>,
    pub booked: Vec<(NaiveDate, BookingId)>,
}

/// The availability of `merchant`'s unit (or a storefront's view of it) from `from` to `to`.
pub async fn availability(
    store: &dyn RentalStore,
    merchant: &MerchantId,
    unit_id: &RentalUnitId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Availability, RentalActionError> {
    let period = Period::to_read(from, to)?;
    unit_of(store, merchant, unit_id).await?;
    let booked = store.booked_days(unit_id, period).await?;
    let free = period.each_day().into_iter().filter(|d| !booked.iter().any(|(b, _)| b == d)).collect();
    Ok(Availability { unit_id: unit_id.clone(), period, free, booked })
}
