//! Rentals: register a unit, book it for a period (one atomic conditional write of the
//! booking, its day claims and its order, [`RentalStore::book`]), read its availability,
//! and move a booking through hand-over, return, inspection and the deposit's settlement
//! (its order delivered, and what is owed beyond the deposit a follow-up order, in the
//! same write), or cancel it (its days freed and its order cancelled in the same write).
//!
//! A merchant sees only its own units and bookings: another merchant's read as unknown.
//! A customer sees only its own bookings.

use chrono::{DateTime, NaiveDate, Utc};

use crate::flash_sale::IdempotencyKey;
use crate::order::Channel;
use crate::ports::{
    BookOutcome, MoveBookingOutcome, OrderStore, PutRentalUnitOutcome, RentalStore, ServiceOrderWrite, StoreError,
};
use crate::rental::{Booking, BookingId, InvalidRentalTransition, Period, RentalError, RentalEvent, RentalUnit, RentalUnitId};
use crate::service_order::{follow, service_order, ServiceCharge, ServiceEnd};
use crate::{CustomerId, MerchantId, Order, OrderId, ValidationError};

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
    #[error("the booking's order kept changing; try again")]
    Busy,
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
    let order = booking_order(&booking, now)?;
    match store.book(&booking, &order).await? {
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

/// The booking's order: its rent and deposit, unpaid (see `crate::rental`).
pub fn booking_order(booking: &Booking, now: DateTime<Utc>) -> Result<Order, RentalActionError> {
    let order_id = booking.order_id.clone().unwrap_or_else(OrderId::generate);
    rental_order(booking, booking.booking_id.to_string(), booking.charge_lines()?, order_id, now)
}

fn rental_order(
    booking: &Booking,
    source_id: String,
    lines: Vec<crate::order::OrderLine>,
    order_id: OrderId,
    now: DateTime<Utc>,
) -> Result<Order, RentalActionError> {
    let charge = ServiceCharge {
        channel: Channel::Rental,
        source_id,
        merchant_id: booking.merchant_id.clone(),
        customer_id: booking.customer_id.clone(),
        currency: booking.currency,
        address: None,
        lines,
    };
    Ok(service_order(charge, order_id, now)?)
}

/// Moves `merchant`'s booking by `event` at `now`, as one conditional write from the state
/// it was read in, with what the move does to its orders. A concurrent move in between
/// answers the transition refused from the state it left; an order that changed in between
/// is read again (a bounded number of times).
pub async fn advance(
    store: &dyn RentalStore,
    orders: &dyn OrderStore,
    merchant: &MerchantId,
    id: &BookingId,
    event: RentalEvent,
    now: DateTime<Utc>,
) -> Result<Booking, RentalActionError> {
    let current = booking_of(store, merchant, id).await?;
    let name = event.name();
    let next = current.apply(event)?;
    for _ in 0..super::CONFLICT_RETRIES {
        let writes = order_writes(orders, &next, now).await?;
        match store.move_booking(&next, current.state, &writes).await? {
            MoveBookingOutcome::Moved => {
                tracing::info!(booking_id = %id, from = %current.state, to = %next.state, "rental booking moved");
                return Ok(next);
            }
            MoveBookingOutcome::Conflict(now) => return Err(InvalidRentalTransition { from: now, event: name }.into()),
            MoveBookingOutcome::NotFound => return Err(RentalActionError::UnknownBooking(id.clone())),
            MoveBookingOutcome::OrderChanged => continue,
        }
    }
    Err(RentalActionError::Busy)
}

/// What moving to `next` does to the booking's orders: cancelled with it; delivered once
/// settled, the settlement on its timeline, and a follow-up order of what is owed beyond
/// the deposit. A booking made before bookings made orders has none to move.
async fn order_writes(
    orders: &dyn OrderStore,
    next: &Booking,
    now: DateTime<Utc>,
) -> Result<Vec<ServiceOrderWrite>, RentalActionError> {
    let end = match next.state {
        crate::rental::RentalState::Cancelled => ServiceEnd::Cancelled,
        crate::rental::RentalState::Settled => ServiceEnd::Done,
        _ => return Ok(Vec::new()),
    };
    let mut writes = Vec::new();
    if let Some(order_id) = &next.order_id {
        let order = orders
            .get_order(order_id)
            .await?
            .ok_or_else(|| StoreError::msg(format!("the order {order_id} of booking {} is missing", next.booking_id)))?;
        let detail = match &next.settlement {
            Some(s) => format!(
                "booking {} settled: deposit {} less late fees {} and damage {}; refund {}, owed beyond it {}",
                next.booking_id, next.deposit, s.late_fees, s.damage, s.refund, s.owed
            ),
            None => format!("booking {} {}", next.booking_id, next.state),
        };
        if let Some(moved) = follow(&order, end, now, &detail)? {
            writes.push(ServiceOrderWrite::Update(Box::new(moved)));
        }
    }
    if let Some(owed_id) = &next.owed_order_id {
        let source = format!("{}-owed", next.booking_id);
        writes.push(ServiceOrderWrite::Insert(Box::new(rental_order(next, source, next.owed_lines()?, owed_id.clone(), now)?)));
    }
    Ok(writes)
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
