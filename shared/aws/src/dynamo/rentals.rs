//! `RentalStore` on DynamoDB: the unit item `RENTAL_UNIT#<unit id>` / `UNIT`; in the same
//! partition one item per claimed day, `DAY#<YYYY-MM-DD>` (its booking's id); the booking
//! item `RENTAL#<booking id>` / `BOOKING` (the booking and its `state`); and the booking
//! under its (unit, customer, idempotency key), `RENTAL_KEY#<unit>#<customer>#<key>` /
//! `BOOKING`. See `docs/dynamodb.md`, "Rentals".
//!
//! A booking is ONE `TransactWriteItems`: the key's item, the booking's item and every day
//! item, each `attribute_not_exists(pk)`. A day claimed already cancels the whole
//! transaction, so of concurrent bookings of overlapping days exactly one is written; a
//! booking is at most `MAX_DAYS` (90) days, so its items (at most 92, and the booking's
//! order and its dedupe marker: 94) fit the 100 a transaction takes. A move is one
//! transaction too: the booking's item put on `state = :from`, for a cancellation every
//! day item deleted (on `booking_id = :id`), and the booking's orders (its order put on its
//! version, a follow-up order's items `put_new`).

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::NaiveDate;
use oms_domain::ports::{BookOutcome, MoveBookingOutcome, PutRentalUnitOutcome, RentalStore, ServiceOrderWrite, StoreError};
use oms_domain::rental::{Booking, BookingId, Period, RentalState, RentalUnit, RentalUnitId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::{from_item, s, to_item, unexplained, CancelReason, DynamoStore, Key, Transact};
use crate::error::{build_error, sdk_error};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct UnitItem {
    pk: String,
    sk: String,
    merchant_id: String,
    unit: RentalUnit,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingItem {
    pk: String,
    sk: String,
    state: RentalState,
    booking: Booking,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DayItem {
    pk: String,
    sk: String,
    booking_id: String,
}

/// Free text as one key segment: `%` and `#` escaped, so it ends at the next `#`.
pub(super) fn segment(raw: &str) -> String {
    raw.replace('%', "%25").replace('#', "%23")
}

impl Key {
    /// A rental unit: `RENTAL_UNIT#<unit id>` / `UNIT`.
    pub fn rental_unit(id: &RentalUnitId) -> Self {
        Self { pk: format!("RENTAL_UNIT#{id}"), sk: "UNIT".to_owned() }
    }

    /// A claimed day of a unit, in the unit's partition: `RENTAL_UNIT#<unit id>` /
    /// `DAY#<YYYY-MM-DD>`.
    pub fn rental_day(id: &RentalUnitId, day: NaiveDate) -> Self {
        Self { pk: format!("RENTAL_UNIT#{id}"), sk: format!("DAY#{}", day.format("%Y-%m-%d")) }
    }

    /// A booking: `RENTAL#<booking id>` / `BOOKING`.
    pub fn rental_booking(id: &BookingId) -> Self {
        Self { pk: format!("RENTAL#{id}"), sk: "BOOKING".to_owned() }
    }

    /// A booking under its unit, customer and key: `RENTAL_KEY#<unit>#<customer>#<key>` /
    /// `BOOKING` (customer and key escaped as segments).
    pub fn rental_key(booking: &Booking) -> Self {
        Self {
            pk: format!(
                "RENTAL_KEY#{}#{}#{}",
                booking.unit_id,
                segment(booking.customer_id.as_str()),
                segment(booking.idempotency_key.as_str())
            ),
            sk: "BOOKING".to_owned(),
        }
    }
}

impl DynamoStore {
    fn booking_item(&self, key: Key, booking: &Booking, what: &str) -> Result<TransactWriteItem, StoreError> {
        self.put_new(
            to_item(&BookingItem { pk: key.pk, sk: key.sk, state: booking.state, booking: booking.clone() }, what)?,
            what,
        )
    }

    async fn read_booking(&self, key: Key, what: &str) -> Result<Option<BookingItem>, StoreError> {
        match self.get(key, what).await? {
            Some(item) => Ok(Some(from_item(item, what)?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl RentalStore for DynamoStore {
    /// A `PutItem` on `attribute_not_exists(pk) OR merchant_id = :merchant`; a failed
    /// condition is `TakenByAnother`.
    async fn put_rental_unit(&self, unit: &RentalUnit) -> Result<PutRentalUnitOutcome, StoreError> {
        let what = format!("rental unit {}", unit.unit_id);
        let key = Key::rental_unit(&unit.unit_id);
        let item = UnitItem { pk: key.pk, sk: key.sk, merchant_id: unit.merchant_id.to_string(), unit: unit.clone() };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item, &what)?))
            .condition_expression("attribute_not_exists(pk) OR merchant_id = :merchant")
            .expression_attribute_values(":merchant", s(unit.merchant_id.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutRentalUnitOutcome::Stored),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(PutRentalUnitOutcome::TakenByAnother),
                _ => Err(sdk_error(format!("Failed to store {what}"), err)),
            },
        }
    }

    /// A strongly consistent `GetItem`.
    async fn get_rental_unit(&self, id: &RentalUnitId) -> Result<Option<RentalUnit>, StoreError> {
        let what = format!("rental unit {id}");
        match self.get(Key::rental_unit(id), &what).await? {
            Some(item) => Ok(Some(from_item::<UnitItem>(item, &what)?.unit)),
            None => Ok(None),
        }
    }

    /// One `TransactWriteItems`: the key's item, the booking's, one per day and the
    /// order's items, all `put_new`. Cancelled by the key's item: `Duplicate` (its booking
    /// read as it is now); by a day: `Taken`.
    async fn book(&self, booking: &Booking, order: &oms_domain::Order) -> Result<BookOutcome, StoreError> {
        let what = format!("book rental unit {}", booking.unit_id);
        let mut items = vec![
            self.booking_item(Key::rental_key(booking), booking, &what)?,
            self.booking_item(Key::rental_booking(&booking.booking_id), booking, &what)?,
        ];
        for day in booking.period.each_day() {
            let key = Key::rental_day(&booking.unit_id, day);
            let item = DayItem { pk: key.pk, sk: key.sk, booking_id: booking.booking_id.to_string() };
            items.push(self.put_new(to_item(&item, &what)?, &what)?);
        }
        let days = items.len() - 2;
        items.extend(self.new_order_items(order, &[])?);
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(BookOutcome::Booked),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            let first = self
                .read_booking(Key::rental_key(booking), &what)
                .await?
                .ok_or_else(|| StoreError::msg(format!("Failed to {what}: its key's booking vanished")))?;
            // The key's item keeps the booking as first written; answer it as it is now.
            let now = self.get_booking(&first.booking.booking_id).await?.unwrap_or(first.booking);
            return Ok(BookOutcome::Duplicate(Box::new(now)));
        }
        if reasons.iter().skip(2).take(days).any(CancelReason::condition_failed) {
            return Ok(BookOutcome::Taken);
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// A strongly consistent `GetItem`.
    async fn get_booking(&self, id: &BookingId) -> Result<Option<Booking>, StoreError> {
        let what = format!("booking {id}");
        Ok(self.read_booking(Key::rental_booking(id), &what).await?.map(|item| item.booking))
    }

    /// One `TransactWriteItems`: the booking's item put on `state = :from`, for a
    /// cancellation each day item deleted on `booking_id = :id`, then the orders' items.
    /// Cancelled by the booking: read it (`NotFound` or `Conflict`); by an order's item:
    /// `OrderChanged`.
    async fn move_booking(
        &self,
        booking: &Booking,
        from: RentalState,
        orders: &[ServiceOrderWrite],
    ) -> Result<MoveBookingOutcome, StoreError> {
        let id = &booking.booking_id;
        let what = format!("move booking {id}");
        let key = Key::rental_booking(id);
        let item = BookingItem { pk: key.pk.clone(), sk: key.sk.clone(), state: booking.state, booking: booking.clone() };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&item, &what)?))
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":from", s(from.as_str()))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        if !booking.state.holds_days() {
            for day in booking.period.each_day() {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(Key::rental_day(&booking.unit_id, day).into_map()))
                    .condition_expression("booking_id = :id")
                    .expression_attribute_values(":id", s(id.as_str()))
                    .build()
                    .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
                items.push(TransactWriteItem::builder().delete(delete).build());
            }
        }
        let first_order = items.len();
        items.extend(self.service_order_items(orders)?);
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(MoveBookingOutcome::Moved),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            return Ok(match self.read_booking(Key::rental_booking(id), &what).await? {
                None => MoveBookingOutcome::NotFound,
                Some(stored) => MoveBookingOutcome::Conflict(stored.state),
            });
        }
        if reasons.iter().skip(first_order).any(CancelReason::condition_failed) {
            return Ok(MoveBookingOutcome::OrderChanged);
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// A strongly consistent `Query` of the unit's partition, `sk BETWEEN DAY#<start> AND
    /// DAY#<last day>`, following `LastEvaluatedKey`.
    async fn booked_days(&self, unit: &RentalUnitId, period: Period) -> Result<Vec<(NaiveDate, BookingId)>, StoreError> {
        let what = format!("the booked days of rental unit {unit}");
        let first = Key::rental_day(unit, period.start);
        let last = Key::rental_day(unit, period.end.pred_opt().unwrap_or(period.start));
        let values =
            HashMap::from([(":pk".to_owned(), s(&first.pk)), (":from".to_owned(), s(first.sk)), (":to".to_owned(), s(last.sk))]);
        let mut days = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
            for item in output.items.unwrap_or_default() {
                let item: DayItem = from_item(item, &what)?;
                let day = item
                    .sk
                    .strip_prefix("DAY#")
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .ok_or_else(|| StoreError::msg(format!("Failed to read {what}: a corrupt day {}", item.sk)))?;
                let booking =
                    BookingId::parse(item.booking_id).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))?;
                days.push((day, booking));
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(days),
            }
        }
    }
}
