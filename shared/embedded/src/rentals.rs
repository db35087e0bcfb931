//! `RentalStore`: one row per rental unit, one per booking (unique per unit, customer and
//! idempotency key) and one per claimed day, keyed by (unit, day) (tables of schema step
//! 23). A booking is one operation on the database thread, in its own savepoint: the key
//! and the days are looked up, then the booking and its day rows inserted. The primary key
//! of `rental_days` is what cannot be double-booked: were two connections on one file to
//! pass the look-up together (they cannot, `BEGIN IMMEDIATE` serialises their writes), the
//! second insert of a day would fail and roll its whole booking back. The booking's order
//! is inserted in the same savepoint. Cancelling deletes the booking's day rows, and a move
//! writes the booking's orders (`crate::orders::write_service_orders`), in the savepoint
//! that moves it: the orders first, so a changed order leaves nothing written.

use anyhow::Context;
use async_trait::async_trait;
use chrono::NaiveDate;
use oms_domain::ports::{BookOutcome, MoveBookingOutcome, PutRentalUnitOutcome, RentalStore, ServiceOrderWrite, StoreError};
use oms_domain::rental::{Booking, BookingId, Period, RentalState, RentalUnit, RentalUnitId};
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::orders::{insert, write_service_orders, EncodedOrder, ServiceRow};
use crate::Embedded;

/// Version 23: rental units, their bookings and the days they claim.
pub(crate) const RENTALS: &str = "
CREATE TABLE IF NOT EXISTS rental_units (
    unit_id     TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL,
    body        TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rental_bookings (
    booking_id      TEXT PRIMARY KEY NOT NULL,
    unit_id         TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state           TEXT NOT NULL,
    body            TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS rental_bookings_by_key ON rental_bookings (unit_id, customer_id, idempotency_key);
CREATE TABLE IF NOT EXISTS rental_days (
    unit_id    TEXT NOT NULL,
    day        TEXT NOT NULL,
    booking_id TEXT NOT NULL,
    PRIMARY KEY (unit_id, day)
) WITHOUT ROWID;
";

/// A day as the claims keep it: `YYYY-MM-DD`, which sorts as the days do.
fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn decode_unit(body: &str) -> anyhow::Result<RentalUnit> {
    serde_json::from_str(body).context("A stored rental unit is not its layout")
}

fn decode_booking(body: &str) -> anyhow::Result<Booking> {
    serde_json::from_str(body).context("A stored rental booking is not its layout")
}

enum Writing {
    Written,
    Duplicate(String),
    Taken,
}

#[async_trait]
impl RentalStore for Embedded {
    /// An upsert that leaves another merchant's row alone.
    async fn put_rental_unit(&self, unit: &RentalUnit) -> Result<PutRentalUnitOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to store rental unit {}", unit.unit_id), e);
        let body = serde_json::to_string(unit).context("Failed to encode the rental unit").map_err(failed)?;
        let (id, merchant) = (unit.unit_id.to_string(), unit.merchant_id.to_string());
        self.db
            .call(move |conn| {
                let written = conn
                    .execute_cached(
                        "INSERT INTO rental_units (unit_id, merchant_id, body) VALUES (?1, ?2, ?3)
                         ON CONFLICT (unit_id) DO UPDATE SET body = excluded.body WHERE merchant_id = excluded.merchant_id",
                        params![id, merchant, body],
                    )
                    .context("Failed to write the rental unit row")?;
                Ok(if written == 1 { PutRentalUnitOutcome::Stored } else { PutRentalUnitOutcome::TakenByAnother })
            })
            .await
            .map_err(failed)
    }

    async fn get_rental_unit(&self, id: &RentalUnitId) -> Result<Option<RentalUnit>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read rental unit {id}"), e);
        let key = id.to_string();
        let body: Option<String> = self
            .db
            .read(move |conn| {
                conn.query_row_cached("SELECT body FROM rental_units WHERE unit_id = ?1", [key.as_str()], |r| r.get(0))
                    .optional()
                    .context("Failed to query the rental units")
            })
            .await
            .map_err(failed)?;
        body.map(|b| decode_unit(&b)).transpose().map_err(failed)
    }

    /// One savepoint: the key looked up, the period's claimed days counted, the booking and
    /// one `rental_days` row per day inserted.
    async fn book(&self, booking: &Booking, order: &oms_domain::Order) -> Result<BookOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to book rental unit {}", booking.unit_id), e);
        let body = serde_json::to_string(booking).context("Failed to encode the booking").map_err(failed)?;
        let order = EncodedOrder::new(order, 1).map_err(failed)?;
        let (id, unit, customer, key) = (
            booking.booking_id.to_string(),
            booking.unit_id.to_string(),
            booking.customer_id.to_string(),
            booking.idempotency_key.to_string(),
        );
        let (from, to) = (day_key(booking.period.start), day_key(booking.period.end));
        let days: Vec<String> = booking.period.each_day().into_iter().map(day_key).collect();
        let state = booking.state.as_str();
        let outcome = self
            .db
            .call(move |conn| {
                let first: Option<String> = conn
                    .query_row_cached(
                        "SELECT body FROM rental_bookings WHERE unit_id = ?1 AND customer_id = ?2 AND idempotency_key = ?3",
                        params![unit, customer, key],
                        |r| r.get(0),
                    )
                    .optional()
                    .context("Failed to query the bookings by key")?;
                if let Some(first) = first {
                    return Ok(Writing::Duplicate(first));
                }
                let claimed: i64 = conn
                    .query_row_cached(
                        "SELECT count(*) FROM rental_days WHERE unit_id = ?1 AND day >= ?2 AND day < ?3",
                        params![unit, from, to],
                        |r| r.get(0),
                    )
                    .context("Failed to count the claimed days")?;
                if claimed > 0 {
                    return Ok(Writing::Taken);
                }
                conn.execute_cached(
                    "INSERT INTO rental_bookings (booking_id, unit_id, customer_id, idempotency_key, state, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![id, unit, customer, key, state, body],
                )
                .context("Failed to write the booking row")?;
                for day in &days {
                    // The primary key refuses a day claimed twice: an error, so the savepoint
                    // rolls the whole booking back.
                    conn.execute_cached(
                        "INSERT INTO rental_days (unit_id, day, booking_id) VALUES (?1, ?2, ?3)",
                        params![unit, day, id],
                    )
                    .with_context(|| format!("Failed to claim {day} of rental unit {unit}"))?;
                }
                if insert(conn, &order, &[])?.is_some() {
                    // The order's external id is the new booking's id: taken means a corrupt store.
                    anyhow::bail!("The order of booking {id} exists already");
                }
                Ok(Writing::Written)
            })
            .await
            .map_err(failed)?;
        Ok(match outcome {
            Writing::Written => BookOutcome::Booked,
            Writing::Duplicate(body) => BookOutcome::Duplicate(Box::new(decode_booking(&body).map_err(failed)?)),
            Writing::Taken => BookOutcome::Taken,
        })
    }

    async fn get_booking(&self, id: &BookingId) -> Result<Option<Booking>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read booking {id}"), e);
        let key = id.to_string();
        let body: Option<String> = self
            .db
            .read(move |conn| {
                conn.query_row_cached("SELECT body FROM rental_bookings WHERE booking_id = ?1", [key.as_str()], |r| r.get(0))
                    .optional()
                    .context("Failed to query the bookings")
            })
            .await
            .map_err(failed)?;
        body.map(|b| decode_booking(&b)).transpose().map_err(failed)
    }

    /// One savepoint: the state checked, the orders written, the row rewritten where its
    /// state is `from`; a cancellation deletes the booking's day rows with it.
    async fn move_booking(
        &self,
        booking: &Booking,
        from: RentalState,
        orders: &[ServiceOrderWrite],
    ) -> Result<MoveBookingOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to move booking {}", booking.booking_id), e);
        let body = serde_json::to_string(booking).context("Failed to encode the booking").map_err(failed)?;
        let orders = ServiceRow::encode(orders).map_err(failed)?;
        let (id, to, frees) = (booking.booking_id.to_string(), booking.state, !booking.state.holds_days());
        self.db
            .call(move |conn| {
                let now: Option<String> = conn
                    .query_row_cached("SELECT state FROM rental_bookings WHERE booking_id = ?1", [id.as_str()], |r| r.get(0))
                    .optional()
                    .context("Failed to read the booking's state")?;
                match now {
                    None => return Ok(MoveBookingOutcome::NotFound),
                    Some(s) if s != from.as_str() => {
                        let state = RentalState::parse(&s).context("A stored booking state is corrupt")?;
                        return Ok(MoveBookingOutcome::Conflict(state));
                    }
                    Some(_) => {}
                }
                if !write_service_orders(conn, &orders)? {
                    return Ok(MoveBookingOutcome::OrderChanged);
                }
                conn.execute_cached(
                    "UPDATE rental_bookings SET state = ?2, body = ?3 WHERE booking_id = ?1 AND state = ?4",
                    params![id, to.as_str(), body, from.as_str()],
                )
                .context("Failed to write the booking row")?;
                if frees {
                    conn.execute_cached("DELETE FROM rental_days WHERE booking_id = ?1", [id.as_str()])
                        .context("Failed to free the booking's days")?;
                }
                Ok(MoveBookingOutcome::Moved)
            })
            .await
            .map_err(failed)
    }

    /// The primary key of `rental_days` from the period's start to its end.
    async fn booked_days(&self, unit: &RentalUnitId, period: Period) -> Result<Vec<(NaiveDate, BookingId)>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the booked days of rental unit {unit}"), e);
        let (key, from, to) = (unit.to_string(), day_key(period.start), day_key(period.end));
        let rows: Vec<(String, String)> = self
            .db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT day, booking_id FROM rental_days WHERE unit_id = ?1 AND day >= ?2 AND day < ?3 ORDER BY day",
                    )
                    .context("Failed to prepare the booked days query")?;
                let rows = stmt
                    .query_map(params![key, from, to], |r| Ok((r.get(0)?, r.get(1)?)))
                    .context("Failed to query the booked days")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the booked days")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        rows.into_iter()
            .map(|(day, booking)| {
                let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").context("A stored day is corrupt")?;
                Ok((day, BookingId::parse(booking)?))
            })
            .collect::<anyhow::Result<_>>()
            .map_err(failed)
    }
}
