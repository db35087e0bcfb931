//! The rental routes through the router `oms serve` hosts, on the embedded store: the life
//! cycle (a unit registered, booked, an overlapping booking refused with `dates_taken`,
//! handed over, returned late, inspected with damage, the deposit settled), who sees what
//! (another merchant's unit and booking not at all), and bad input refused with a clear
//! JSON error and nothing stored.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use oms_api::routes::{self, Router};
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::rental::{Period, RentalUnitId};
use support::{call, code, merchants_tokens, MERCHANT, OTHER, OTHER_SHOP, STOREFRONT};

async fn app() -> (Router, Ports) {
    let (_, ports) = support::store(Arc::new(SystemClock));
    support::warehouse(&ports, "WH-1", "m-1").await;
    let router = routes::all(support::state(&ports, &merchants_tokens()));
    (router, ports)
}

/// `n` days from today.
fn day(n: i64) -> NaiveDate {
    Utc::now().date_naive() + Duration::days(n)
}

fn unit_body() -> String {
    json!({
        "merchant_id": "m-1", "sku": "DRILL", "warehouse_id": "WH-1", "currency": "EUR",
        "daily_rate": "12.50", "deposit": "100", "late_fee_per_day": "20"
    })
    .to_string()
}

fn booking_body(customer: &str, key: &str, start: i64, end: i64) -> String {
    json!({"unit_id": "drill-1", "customer_id": customer, "idempotency_key": key, "start": day(start), "end": day(end)})
        .to_string()
}

async fn register(router: &Router) {
    let (status, answer) = call(router, Some(MERCHANT), "PUT", "/rental-units/drill-1", &unit_body()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!((&answer["daily_rate"], &answer["retired"]), (&json!("12.50"), &json!(false)));
}

async fn booked_days(ports: &Ports) -> usize {
    let unit = RentalUnitId::parse("drill-1").expect("an id");
    let period = Period::to_read(day(0), day(60)).expect("a range");
    ports.rentals.booked_days(&unit, period).await.expect("days").len()
}

#[tokio::test]
async fn a_rental_runs_from_booking_through_a_late_return_and_damage_to_the_settled_deposit() {
    let (router, _) = app().await;
    register(&router).await;
    let (status, first) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-1", "k-1", 1, 4)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!((&first["state"], &first["price"], &first["days"]), (&json!("booked"), &json!("37.50"), &json!(3)));
    let id = first["booking_id"].as_str().expect("an id").to_owned();
    let (status, again) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-1", "k-1", 1, 4)).await;
    assert_eq!((status, &again["booking_id"], &again["repeated"]), (StatusCode::CREATED, &json!(id), &json!(true)));
    let (status, refused) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-2", "k-2", 3, 6)).await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("dates_taken")), "{refused}");
    let (status, _) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-2", "k-3", 4, 6)).await;
    assert_eq!(status, StatusCode::CREATED, "the return day is bookable");

    let path = format!("/rental-units/drill-1/availability?from={}&to={}", day(0), day(7));
    let (status, seen) = call(&router, Some(MERCHANT), "GET", &path, "").await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["free"], json!([day(0), day(6)]));
    assert_eq!(seen["booked"][0], json!({"day": day(1), "booking_id": id}));
    let (_, shop_view) = call(&router, Some(STOREFRONT), "GET", &path, "").await;
    assert_eq!(shop_view["booked"][0], json!({"day": day(1)}), "a storefront does not see whose booking");

    let step = |name: &str| format!("/rentals/{id}/{name}");
    let (status, refused) = call(&router, Some(MERCHANT), "POST", &step("return"), "").await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("booking_state_conflict")));
    let body = json!({"on": day(1)}).to_string();
    let (status, handed) = call(&router, Some(MERCHANT), "POST", &step("hand-over"), &body).await;
    assert_eq!((status, &handed["state"]), (StatusCode::OK, &json!("handed_over")), "{handed}");
    let (status, refused) = call(&router, Some(STOREFRONT), "POST", &step("cancel"), "").await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("booking_state_conflict")), "not after hand-over");
    let body = json!({"on": day(6)}).to_string();
    let (status, returned) = call(&router, Some(MERCHANT), "POST", &step("return"), &body).await;
    assert_eq!((status, &returned["late_days"]), (StatusCode::OK, &json!(2)), "{returned}");
    let body = json!({"damage": "15.00", "note": "scratched case"}).to_string();
    let (status, inspected) = call(&router, Some(MERCHANT), "POST", &step("inspection"), &body).await;
    assert_eq!((status, &inspected["damage"]), (StatusCode::OK, &json!("15.00")), "{inspected}");
    let (status, settled) = call(&router, Some(MERCHANT), "POST", &step("settlement"), "").await;
    assert_eq!(status, StatusCode::OK, "{settled}");
    assert_eq!(
        (&settled["state"], &settled["late_fees"], &settled["refund"], &settled["owed"]),
        (&json!("settled"), &json!("40.00"), &json!("45.00"), &json!("0.00"))
    );
    let (_, read) = call(&router, Some(STOREFRONT), "GET", &format!("/rentals/{id}"), "").await;
    assert_eq!(read["state"], json!("settled"));
}

#[tokio::test]
async fn a_cancelled_booking_frees_its_days() {
    let (router, ports) = app().await;
    register(&router).await;
    let (_, b) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-1", "k-1", 2, 5)).await;
    assert_eq!(booked_days(&ports).await, 3);
    let id = b["booking_id"].as_str().expect("an id");
    let order_path = format!("/orders/{}", b["order_id"].as_str().expect("the booking's order"));
    let (status, order) = call(&router, Some(MERCHANT), "GET", &order_path, "").await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!((&order["channel"], &order["external_id"], &order["status"]), (&json!("rental"), &json!(id), &json!("received")));
    assert_eq!(order["lines"].as_array().expect("lines").len(), 2, "the rent and the deposit");
    let (status, cancelled) = call(&router, Some(STOREFRONT), "POST", &format!("/rentals/{id}/cancel"), "").await;
    assert_eq!((status, &cancelled["state"]), (StatusCode::OK, &json!("cancelled")));
    assert_eq!(booked_days(&ports).await, 0);
    let (_, order) = call(&router, Some(MERCHANT), "GET", &order_path, "").await;
    assert_eq!(order["status"], json!("cancelled"), "the booking's order is cancelled with it");
    let (status, _) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-2", "k-2", 2, 5)).await;
    assert_eq!(status, StatusCode::CREATED);

    let retired = unit_body().replace("\"late_fee_per_day\"", "\"retired\":true,\"late_fee_per_day\"");
    let (status, answer) = call(&router, Some(MERCHANT), "PUT", "/rental-units/drill-1", &retired).await;
    assert_eq!((status, &answer["retired"]), (StatusCode::OK, &json!(true)), "{answer}");
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-3", "k-3", 8, 9)).await;
    assert_eq!((status, code(&answer)), (StatusCode::GONE, Some("not_active")), "a retired unit takes no new booking");
    assert_eq!(booked_days(&ports).await, 3, "its bookings stand");
}

#[tokio::test]
async fn another_merchants_unit_and_booking_are_not_found() {
    let (router, _) = app().await;
    register(&router).await;
    let (_, b) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-1", "k-1", 2, 5)).await;
    let id = b["booking_id"].as_str().expect("an id");
    for (token, method, path, body) in [
        (OTHER, "GET", "/rental-units/drill-1".to_owned(), String::new()),
        (OTHER_SHOP, "POST", "/rentals".to_owned(), booking_body("c-9", "k-9", 10, 12)),
        (OTHER, "GET", format!("/rentals/{id}"), String::new()),
        (OTHER, "POST", format!("/rentals/{id}/hand-over"), String::new()),
        (OTHER_SHOP, "POST", format!("/rentals/{id}/cancel"), String::new()),
        (MERCHANT, "GET", "/rentals/rb_nope".to_owned(), String::new()),
        (MERCHANT, "GET", "/rental-units/nothing-here".to_owned(), String::new()),
    ] {
        let (status, answer) = call(&router, Some(token), method, &path, &body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert!(matches!(code(&answer), Some("rental_unit_not_found" | "booking_not_found")), "{answer}");
    }
    let theirs = unit_body().replace("m-1", "m-2");
    let (status, answer) = call(&router, Some(OTHER), "PUT", "/rental-units/drill-1", &theirs).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("unknown_warehouse")), "m-2 has no WH-1: {answer}");
    let (status, _) = call(&router, Some(OTHER), "PUT", "/rental-units/drill-1", &unit_body()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "registering for another merchant");
    let (status, _) = call(&router, Some(STOREFRONT), "PUT", "/rental-units/drill-2", &unit_body()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a storefront registers nothing");
    let (status, _) = call(&router, Some(MERCHANT), "POST", "/rentals", &booking_body("c-1", "k-5", 10, 12)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "booking is the storefront's");
    let (status, _) = call(&router, None, "GET", "/rental-units/drill-1", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_units_bookings_and_steps_are_refused_naming_the_field_and_store_nothing() {
    let (router, ports) = app().await;
    let unit = |patch: Value| {
        let mut body: Value = serde_json::from_str(&unit_body()).expect("json");
        body.as_object_mut().expect("an object").extend(patch.as_object().expect("an object").clone());
        body.to_string()
    };
    for (body, field) in [
        ("{not json".to_owned(), None),
        (unit(json!({"daily_rate": 12})), None),
        (unit(json!({"daily_rate": "0"})), Some("daily_rate")),
        (unit(json!({"deposit": "-5"})), Some("deposit")),
        (unit(json!({"late_fee_per_day": "1.234"})), Some("late_fee_per_day")),
        (unit(json!({"extra": 1})), None),
    ] {
        let (status, answer) = call(&router, Some(MERCHANT), "PUT", "/rental-units/drill-1", &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], json!(field), "{answer}");
        }
    }
    let (status, _) = call(&router, Some(MERCHANT), "PUT", "/rental-units/bad%20id", &unit_body()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let unknown = RentalUnitId::parse("drill-1").expect("an id");
    assert_eq!(ports.rentals.get_rental_unit(&unknown).await.expect("read"), None, "nothing stored");

    register(&router).await;
    let with = |patch: Value| {
        let mut body: Value = serde_json::from_str(&booking_body("c-1", "k-1", 2, 4)).expect("json");
        body.as_object_mut().expect("an object").extend(patch.as_object().expect("an object").clone());
        body.to_string()
    };
    for (body, field) in [
        ("[]".to_owned(), None),
        (with(json!({"start": 5})), None),
        (with(json!({"end": "not-a-day"})), None),
        (with(json!({"end": day(2)})), Some("end")),
        (with(json!({"end": day(1)})), Some("end")),
        (with(json!({"end": day(2 + 91)})), Some("end")),
        (with(json!({"start": day(-1)})), Some("start")),
        (with(json!({"idempotency_key": null})), Some("idempotency_key")),
        (with(json!({"customer_id": ""})), Some("customer_id")),
    ] {
        let (status, answer) = call(&router, Some(STOREFRONT), "POST", "/rentals", &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], json!(field), "{answer}");
        }
    }
    assert_eq!(booked_days(&ports).await, 0, "nothing booked");
    for path in [
        "/rental-units/drill-1/availability?from=2026-01-01",
        "/rental-units/drill-1/availability?from=2026-01-05&to=2026-01-01",
        "/rental-units/drill-1/availability?from=2026-01-01&to=2026-12-01",
        "/rental-units/drill-1/availability?from=yesterday&to=2026-01-01",
    ] {
        let (status, answer) = call(&router, Some(MERCHANT), "GET", path, "").await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{path}: {answer}");
    }
    let (_, b) = call(&router, Some(STOREFRONT), "POST", "/rentals", &booking_body("c-1", "k-1", 2, 4)).await;
    let id = b["booking_id"].as_str().expect("an id");
    for (name, body) in
        [("hand-over", "{\"on\": 3}"), ("hand-over", "{\"at\": \"2026-01-01\"}"), ("inspection", "{\"damage\": \"x\"}")]
    {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", &format!("/rentals/{id}/{name}"), body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{name} {body}: {answer}");
    }
    let (_, read) = call(&router, Some(MERCHANT), "GET", &format!("/rentals/{id}"), "").await;
    assert_eq!(read["state"], json!("booked"), "no step stored");
}
