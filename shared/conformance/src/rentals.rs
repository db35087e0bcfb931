//! Rentals: a unit is stored once per id (only its merchant replaces its terms); a booking
//! is one conditional write of the booking and one claim per day (a repeat under its
//! customer and key is the first booking; any claimed day refuses it whole); a move is
//! conditional on the state it started from, and a cancellation frees its days; and
//! customers booking overlapping days of one unit at once leave exactly one booking, while
//! bookings of days apart all succeed.

use chrono::{Duration, NaiveDate, Utc};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::order::Channel;
use oms_domain::ports::{BookOutcome, MoveBookingOutcome, PutRentalUnitOutcome, RentalStore, StoreError};
use oms_domain::rental::{Booking, Period, RentalEvent, RentalState, RentalUnit, RentalUnitId};
use oms_domain::usecases::rentals::{self, NewBooking, RentalActionError};
use oms_domain::{Currency, CustomerId, OrderStatus};
use rust_decimal::Decimal;

use crate::fixtures::{merchant, sku, warehouse_id};
use crate::Subject;

fn unit(id: &str, owner: &str) -> RentalUnit {
    RentalUnit {
        unit_id: RentalUnitId::parse(id).expect("a unit id"),
        merchant_id: merchant(owner),
        sku: sku("DRILL"),
        warehouse: warehouse_id("WH-1"),
        currency: Currency::parse("EUR").expect("a currency"),
        daily_rate: Decimal::new(1250, 2),
        deposit: Decimal::new(100, 0),
        late_fee_per_day: Decimal::new(20, 0),
        retired: false,
    }
    .check()
    .expect("valid terms")
}

/// `n` days from today.
fn day(n: i64) -> NaiveDate {
    Utc::now().date_naive() + Duration::days(n)
}

fn booking(unit: &RentalUnit, customer: &str, key: &str, start: i64, end: i64) -> Booking {
    let period = Period::to_book(day(start), day(end), day(0)).expect("a period");
    Booking::new(
        unit,
        CustomerId::parse(customer).expect("a customer"),
        IdempotencyKey::parse(key).expect("a key"),
        period,
        Utc::now(),
    )
}

/// Books `b` with its order, as the booking use case writes it.
async fn book(r: &std::sync::Arc<dyn RentalStore>, b: &Booking) -> Result<BookOutcome, StoreError> {
    let order = rentals::booking_order(b, Utc::now()).expect("the booking's order");
    r.book(b, &order).await
}

async fn registered(s: &Subject, id: &str) -> RentalUnit {
    rentals::register_unit(&*s.rentals, unit(id, "m-1")).await.expect("register failed")
}

async fn booked_days(s: &Subject, u: &RentalUnit, from: i64, to: i64) -> Vec<NaiveDate> {
    let period = Period::to_read(day(from), day(to)).expect("a range");
    s.rentals.booked_days(&u.unit_id, period).await.expect("booked days").into_iter().map(|(d, _)| d).collect()
}

pub async fn a_rental_unit_is_stored_and_only_its_merchant_replaces_its_terms(s: Subject) {
    let r = &s.rentals;
    let u = registered(&s, "drill-1").await;
    assert_eq!(r.get_rental_unit(&u.unit_id).await.expect("get"), Some(u.clone()));
    let dearer = RentalUnit { daily_rate: Decimal::new(15, 0), ..u.clone() };
    assert_eq!(r.put_rental_unit(&dearer).await.expect("put"), PutRentalUnitOutcome::Stored);
    assert_eq!(r.get_rental_unit(&u.unit_id).await.expect("get"), Some(dearer.clone()));
    let theirs = unit("drill-1", "m-2");
    assert_eq!(r.put_rental_unit(&theirs).await.expect("put"), PutRentalUnitOutcome::TakenByAnother);
    assert_eq!(r.get_rental_unit(&u.unit_id).await.expect("get"), Some(dearer), "another merchant's write left nothing");
    let unknown = RentalUnitId::parse("nothing-here").expect("an id");
    assert_eq!(r.get_rental_unit(&unknown).await.expect("get"), None);
}

pub async fn a_booking_claims_its_days_and_its_key_again_answers_the_first(s: Subject) {
    let r = &s.rentals;
    let u = registered(&s, "drill-2").await;
    let first = booking(&u, "c-1", "k-1", 2, 5);
    assert_eq!(book(r, &first).await.expect("book"), BookOutcome::Booked);
    assert_eq!(r.get_booking(&first.booking_id).await.expect("get"), Some(first.clone()));
    assert_eq!(booked_days(&s, &u, 0, 10).await, vec![day(2), day(3), day(4)], "the return day is free");
    let again = booking(&u, "c-1", "k-1", 7, 9);
    assert_eq!(book(r, &again).await.expect("book"), BookOutcome::Duplicate(Box::new(first.clone())));
    assert_eq!(r.get_booking(&again.booking_id).await.expect("get"), None, "the repeat wrote nothing");
    assert_eq!(booked_days(&s, &u, 0, 10).await, vec![day(2), day(3), day(4)]);
}

pub async fn a_booking_overlapping_another_is_refused_whole_and_one_beside_it_is_taken(s: Subject) {
    let r = &s.rentals;
    let u = registered(&s, "drill-3").await;
    let first = booking(&u, "c-1", "k-1", 3, 6);
    assert_eq!(book(r, &first).await.expect("book"), BookOutcome::Booked);
    for (start, end) in [(1, 4), (5, 8), (4, 5), (1, 10)] {
        let clash = booking(&u, "c-2", &format!("k-{start}-{end}"), start, end);
        assert_eq!(book(r, &clash).await.expect("book"), BookOutcome::Taken, "{start}..{end}");
        assert_eq!(r.get_booking(&clash.booking_id).await.expect("get"), None);
    }
    assert_eq!(booked_days(&s, &u, 0, 10).await, vec![day(3), day(4), day(5)], "no day of a refused booking claimed");
    let before = booking(&u, "c-2", "k-before", 1, 3);
    let after = booking(&u, "c-3", "k-after", 6, 8);
    assert_eq!(book(r, &before).await.expect("book"), BookOutcome::Booked);
    assert_eq!(book(r, &after).await.expect("book"), BookOutcome::Booked);
    let other_unit = registered(&s, "drill-3b").await;
    assert_eq!(book(r, &booking(&other_unit, "c-2", "k-x", 3, 6)).await.expect("book"), BookOutcome::Booked);
    assert_eq!(booked_days(&s, &u, 0, 10).await, (1..8).map(day).collect::<Vec<_>>());
}

pub async fn a_move_is_conditional_on_its_state_and_a_cancellation_frees_the_days(s: Subject) {
    let r = &s.rentals;
    let u = registered(&s, "drill-4").await;
    let b = booking(&u, "c-1", "k-1", 2, 4);
    assert_eq!(book(r, &b).await.expect("book"), BookOutcome::Booked);
    let cancelled = b.apply(RentalEvent::Cancel).expect("cancel");
    let handed = b.apply(RentalEvent::HandOver { on: day(2) }).expect("hand over");
    assert_eq!(r.move_booking(&cancelled, RentalState::Booked, &[]).await.expect("move"), MoveBookingOutcome::Moved);
    let repeat = booking(&u, "c-1", "k-1", 6, 8);
    assert_eq!(
        book(r, &repeat).await.expect("book"),
        BookOutcome::Duplicate(Box::new(cancelled.clone())),
        "a repeat answers the first booking as it is now"
    );
    assert_eq!(
        r.move_booking(&handed, RentalState::Booked, &[]).await.expect("move"),
        MoveBookingOutcome::Conflict(RentalState::Cancelled),
        "a stale move writes nothing"
    );
    assert_eq!(r.get_booking(&b.booking_id).await.expect("get"), Some(cancelled));
    assert!(booked_days(&s, &u, 0, 10).await.is_empty(), "the days are free again");
    let next = booking(&u, "c-2", "k-2", 2, 4);
    assert_eq!(book(r, &next).await.expect("book"), BookOutcome::Booked, "and bookable");
    let ghost = booking(&u, "c-3", "k-3", 5, 6);
    assert_eq!(r.move_booking(&ghost, RentalState::Booked, &[]).await.expect("move"), MoveBookingOutcome::NotFound);

    // Two steps from one state at once: one lands, the other finds the state moved.
    let handed = next.apply(RentalEvent::HandOver { on: day(2) }).expect("hand over");
    let cancelled = next.apply(RentalEvent::Cancel).expect("cancel");
    let (a, b) =
        tokio::join!(r.move_booking(&handed, RentalState::Booked, &[]), r.move_booking(&cancelled, RentalState::Booked, &[]));
    let outcomes = [a.expect("move"), b.expect("move")];
    let won = outcomes.iter().filter(|o| **o == MoveBookingOutcome::Moved).count();
    assert_eq!(won, 1, "{outcomes:?}");
    let stored = r.get_booking(&next.booking_id).await.expect("get").expect("stored");
    assert!(outcomes.contains(&MoveBookingOutcome::Conflict(stored.state)), "{outcomes:?}");
    let days_held = if stored.state == RentalState::Cancelled { 0 } else { 2 };
    assert_eq!(booked_days(&s, &u, 0, 10).await.len(), days_held, "the days follow the winner");
}

pub async fn a_rental_runs_from_booking_to_the_settled_deposit_and_keeps_its_days(s: Subject) {
    let r = &*s.rentals;
    let m = merchant("m-1");
    let u = registered(&s, "drill-5").await;
    let booked = rentals::book(
        r,
        &m,
        &u.unit_id,
        NewBooking {
            customer_id: CustomerId::parse("c-1").expect("a customer"),
            idempotency_key: IdempotencyKey::parse("k-1").expect("a key"),
            start: day(0),
            end: day(3),
        },
        Utc::now(),
    )
    .await
    .expect("book");
    let id = booked.booking.booking_id.clone();
    assert_eq!(booked.booking.price, Decimal::new(3750, 2));
    let order_id = booked.booking.order_id.clone().expect("the booking's order");
    let order = s.orders.get_order(&order_id).await.expect("get order").expect("stored with the booking");
    assert_eq!((order.channel, order.external_id.as_str(), order.paid), (Channel::Rental, id.as_str(), false));
    assert_eq!((order.status, order.total().amount), (OrderStatus::Received, Decimal::new(13750, 2)), "rent and deposit");
    let other = merchant("m-2");
    assert!(matches!(
        rentals::advance(r, &*s.orders, &other, &id, RentalEvent::HandOver { on: day(0) }, Utc::now()).await,
        Err(RentalActionError::UnknownBooking(_))
    ));
    rentals::advance(r, &*s.orders, &m, &id, RentalEvent::HandOver { on: day(0) }, Utc::now()).await.expect("hand over");
    assert!(matches!(
        rentals::advance(r, &*s.orders, &m, &id, RentalEvent::Cancel, Utc::now()).await,
        Err(RentalActionError::Transition(_))
    ));
    rentals::advance(r, &*s.orders, &m, &id, RentalEvent::Return { on: day(5) }, Utc::now()).await.expect("return");
    rentals::advance(
        r,
        &*s.orders,
        &m,
        &id,
        RentalEvent::Inspect { damage: Decimal::new(25, 0), note: "dented".into() },
        Utc::now(),
    )
    .await
    .expect("inspect");
    let settled = rentals::advance(r, &*s.orders, &m, &id, RentalEvent::Settle, Utc::now()).await.expect("settle");
    let s2 = settled.settlement.expect("settled");
    assert_eq!((s2.late_days, s2.late_fees, s2.refund, s2.owed), (2, Decimal::new(40, 0), Decimal::new(35, 0), Decimal::ZERO));
    assert_eq!(r.get_booking(&id).await.expect("get"), Some(settled.clone()));
    let order = s.orders.get_order(&order_id).await.expect("get order").expect("the order");
    assert_eq!(order.status, OrderStatus::Delivered, "the order follows the settled booking");
    assert!(order.timeline.last().expect("an entry").detail.contains("refund 35"), "{:?}", order.timeline);
    assert_eq!(settled.owed_order_id, None, "the deposit covered the charges");
    let seen = rentals::availability(r, &m, &u.unit_id, day(0), day(4)).await.expect("availability");
    assert_eq!(seen.free, vec![day(3)]);
    assert_eq!(seen.booked.iter().map(|(d, _)| *d).collect::<Vec<_>>(), vec![day(0), day(1), day(2)]);
    assert!(matches!(rentals::availability(r, &other, &u.unit_id, day(0), day(4)).await, Err(RentalActionError::UnknownUnit(_))));
}

pub async fn customers_racing_for_overlapping_days_of_one_unit_leave_exactly_one_booking(s: Subject) {
    let u = registered(&s, "drill-6").await;
    let mut tasks = Vec::new();
    for i in 0..24_i64 {
        // Every period covers day 10; they start and end apart.
        let b = booking(&u, &format!("c-{i}"), "k", 10 - i % 4, 11 + i % 3);
        let r = s.rentals.clone();
        tasks.push(tokio::spawn(async move { (book(&r, &b).await.expect("book failed"), b) }));
    }
    let mut won = Vec::new();
    for task in tasks {
        let (outcome, b) = task.await.expect("a task");
        match outcome {
            BookOutcome::Booked => won.push(b),
            BookOutcome::Taken => {}
            BookOutcome::Duplicate(_) => panic!("no customer booked twice"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one of the overlapping bookings wins");
    let claimed = booked_days(&s, &u, 0, 20).await;
    assert_eq!(claimed, won[0].period.each_day(), "the winner's days, and only those, are claimed");

    // Bookings of days apart, at once, all succeed.
    let other = registered(&s, "drill-7").await;
    let mut tasks = Vec::new();
    for i in 0..12_i64 {
        let b = booking(&other, &format!("c-{i}"), "k", 2 * i + 1, 2 * i + 3);
        let r = s.rentals.clone();
        tasks.push(tokio::spawn(async move { book(&r, &b).await.expect("book failed") }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("a task"), BookOutcome::Booked);
    }
    assert_eq!(booked_days(&s, &other, 0, 30).await, (1..25).map(day).collect::<Vec<_>>());
}

pub async fn a_cancelled_booking_cancels_its_order_and_charges_beyond_the_deposit_are_a_follow_up_order(s: Subject) {
    let r = &*s.rentals;
    let m = merchant("m-1");
    let u = registered(&s, "drill-8").await;
    let new = |customer: &str, start: i64, end: i64| NewBooking {
        customer_id: CustomerId::parse(customer).expect("a customer"),
        idempotency_key: IdempotencyKey::parse("k-1").expect("a key"),
        start: day(start),
        end: day(end),
    };
    let first = rentals::book(r, &m, &u.unit_id, new("c-1", 1, 3), Utc::now()).await.expect("book").booking;
    let cancelled =
        rentals::advance(r, &*s.orders, &m, &first.booking_id, RentalEvent::Cancel, Utc::now()).await.expect("cancel");
    let order = s.orders.get_order(cancelled.order_id.as_ref().expect("an order")).await.expect("get").expect("the order");
    assert_eq!(order.status, OrderStatus::Cancelled, "cancelled in the booking's write");

    let second = rentals::book(r, &m, &u.unit_id, new("c-2", 0, 2), Utc::now()).await.expect("book").booking;
    let id = second.booking_id.clone();
    let orders = &*s.orders;
    for event in [
        RentalEvent::HandOver { on: day(0) },
        RentalEvent::Return { on: day(7) },
        RentalEvent::Inspect { damage: Decimal::new(30, 0), note: String::new() },
    ] {
        rentals::advance(r, orders, &m, &id, event, Utc::now()).await.expect("a step");
    }
    let settled = rentals::advance(r, orders, &m, &id, RentalEvent::Settle, Utc::now()).await.expect("settle");
    assert_eq!(settled.settlement.expect("settled").owed, Decimal::new(30, 0), "5 late days at 20 and 30 damage less 100");
    let owed = s.orders.get_order(settled.owed_order_id.as_ref().expect("a follow-up")).await.expect("get").expect("stored");
    assert_eq!((owed.channel, owed.external_id.as_str()), (Channel::Rental, format!("{id}-owed").as_str()));
    assert_eq!((owed.status, owed.paid, owed.total().amount), (OrderStatus::Received, false, Decimal::new(30, 0)));
    let first_order = s.orders.get_order(second.order_id.as_ref().expect("an order")).await.expect("get").expect("stored");
    assert_eq!(first_order.status, OrderStatus::Delivered);
}
