//! The repair routes through the router `oms serve` hosts, on the embedded store: the life
//! cycle (booked, quoted, accepted into an unpaid `repair` order, started with its parts
//! consumed from the workshop's stock, completed, shipped back, closed with the order
//! delivered), a start short of parts refused with nothing changed, an expired quote,
//! who sees what (another merchant's repair and another customer's not at all), and bad
//! input refused with a clear JSON error and nothing stored.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use oms_api::routes::{self, Router};
use oms_domain::ports::{Clock, Ports};
use oms_domain::repair::RepairId;
use support::{call, code, merchants_tokens, Movable, MERCHANT, OTHER, OTHER_SHOP, STOREFRONT};

async fn app(clock: Arc<dyn Clock>) -> (Router, Ports) {
    let (_, ports) = support::store(clock);
    support::warehouse(&ports, "WH-1", "m-1").await;
    let router = routes::all(support::state(&ports, &merchants_tokens()));
    (router, ports)
}

fn repair_body(customer: &str, key: &str) -> Value {
    json!({
        "customer_id": customer, "idempotency_key": key,
        "item": {"sku": "PHONE-6", "serial": "SN-1"},
        "fault": "cracked screen", "photos": ["https://img.example/crack.jpg"],
        "handover": {"kind": "pickup", "address": {"line1": "1 West Lake Rd", "city": "Hangzhou", "country": "CN"}},
        "workshop": "WH-1"
    })
}

fn quote_body(screens: i64) -> Value {
    json!({
        "currency": "EUR", "labour_minor": 4500,
        "parts": [{"sku": "SCREEN-6", "quantity": screens, "unit_price": "89.90"}],
        "valid_until": Utc::now() + Duration::days(7)
    })
}

/// `m-1`'s stock of screens in the workshop.
async fn screens(router: &Router, on_hand: u32) {
    let body = json!({"on_hand": on_hand}).to_string();
    let (status, answer) = call(router, Some(MERCHANT), "PUT", "/inventory/WH-1/SCREEN-6", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn screens_on_hand(router: &Router) -> Value {
    let (_, stock) = call(router, Some(MERCHANT), "GET", "/inventory/SCREEN-6", "").await;
    stock["warehouses"][0]["on_hand"].clone()
}

/// A repair of `c-1` booked, quoted `screens` screens and accepted: its id.
async fn accepted(router: &Router, screens: i64) -> String {
    let (status, booked) = call(router, Some(STOREFRONT), "POST", "/repairs", &repair_body("c-1", "k-1").to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let id = booked["repair_id"].as_str().expect("an id").to_owned();
    let path = format!("/repairs/{id}/quote");
    let (status, quoted) = call(router, Some(MERCHANT), "POST", &path, &quote_body(screens).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{quoted}");
    let customer = json!({"customer_id": "c-1"}).to_string();
    let (status, accepted) = call(router, Some(STOREFRONT), "POST", &format!("/repairs/{id}/accept"), &customer).await;
    assert_eq!((status, &accepted["state"]), (StatusCode::OK, &json!("accepted")), "{accepted}");
    id
}

#[tokio::test]
async fn a_repair_runs_from_booking_to_completed_and_its_order_follows() {
    let (router, _) = app(Arc::new(Movable::default())).await;
    screens(&router, 3).await;
    let body = repair_body("c-1", "k-1").to_string();
    let (status, first) = call(&router, Some(STOREFRONT), "POST", "/repairs", &body).await;
    assert_eq!((status, &first["state"], &first["handover"]), (StatusCode::CREATED, &json!("booked"), &json!("pickup")));
    let id = first["repair_id"].as_str().expect("an id").to_owned();
    let (status, again) = call(&router, Some(STOREFRONT), "POST", "/repairs", &body).await;
    assert_eq!((status, &again["repair_id"], &again["repeated"]), (StatusCode::CREATED, &json!(id), &json!(true)));

    let step = |name: &str| format!("/repairs/{id}/{name}");
    let customer = json!({"customer_id": "c-1"}).to_string();
    let (status, refused) = call(&router, Some(STOREFRONT), "POST", &step("accept"), &customer).await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("repair_state_conflict")), "not quoted yet");
    let (status, quoted) = call(&router, Some(MERCHANT), "POST", &step("quote"), &quote_body(2).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{quoted}");
    assert_eq!((&quoted["quote"]["labour"], &quoted["quote"]["total"]), (&json!("45.00"), &json!("224.80")));
    let (status, accepted) = call(&router, Some(STOREFRONT), "POST", &step("accept"), &customer).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let order_id = accepted["order_id"].as_str().expect("an order").to_owned();
    let (status, order) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!((&order["channel"], &order["external_id"], &order["status"]), (&json!("repair"), &json!(id), &json!("received")));
    assert_eq!(order["lines"].as_array().expect("lines").len(), 2, "labour and the screens");
    assert_eq!(screens_on_hand(&router).await, json!(3), "accepting takes no stock");

    let (status, started) = call(&router, Some(MERCHANT), "POST", &step("start"), "").await;
    assert_eq!((status, &started["state"]), (StatusCode::OK, &json!("in_repair")), "{started}");
    assert_eq!(screens_on_hand(&router).await, json!(1), "the parts leave stock when the repair starts");
    let (_, ledger) = call(&router, Some(MERCHANT), "GET", "/inventory/SCREEN-6/ledger", "").await;
    let kinds: Vec<&Value> = ledger["entries"].as_array().expect("entries").iter().map(|e| &e["kind"]).collect();
    assert!(kinds.contains(&&json!("consume")), "{ledger}");
    let (status, refused) = call(&router, Some(STOREFRONT), "POST", &step("cancel"), &customer).await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("repair_state_conflict")), "not once started");

    let (status, done) =
        call(&router, Some(MERCHANT), "POST", &step("complete"), &json!({"note": "new screen"}).to_string()).await;
    assert_eq!((status, &done["repair_note"]), (StatusCode::OK, &json!("new screen")), "{done}");
    let ship = json!({"carrier": "sf-express", "tracking_number": "SF123"}).to_string();
    let (status, shipped) = call(&router, Some(MERCHANT), "POST", &step("ship"), &ship).await;
    assert_eq!((status, &shipped["return_shipment"]["tracking_number"]), (StatusCode::OK, &json!("SF123")), "{shipped}");
    let (status, closed) = call(&router, Some(MERCHANT), "POST", &step("close"), "").await;
    assert_eq!((status, &closed["state"]), (StatusCode::OK, &json!("completed")));
    let (_, order) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!(order["status"], json!("delivered"), "the order follows the repair");
    let (_, read) = call(&router, Some(STOREFRONT), "GET", &format!("/repairs/{id}"), "").await;
    assert_eq!(read["state"], json!("completed"));
}

#[tokio::test]
async fn a_start_short_of_parts_is_parts_short_and_changes_nothing() {
    let (router, _) = app(Arc::new(Movable::default())).await;
    screens(&router, 1).await;
    let id = accepted(&router, 2).await;
    let (status, refused) = call(&router, Some(MERCHANT), "POST", &format!("/repairs/{id}/start"), "").await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("parts_short")), "{refused}");
    assert_eq!(screens_on_hand(&router).await, json!(1));
    let (_, read) = call(&router, Some(MERCHANT), "GET", &format!("/repairs/{id}"), "").await;
    assert_eq!(read["state"], json!("accepted"));
    let customer = json!({"customer_id": "c-1"}).to_string();
    let (status, cancelled) = call(&router, Some(STOREFRONT), "POST", &format!("/repairs/{id}/cancel"), &customer).await;
    assert_eq!((status, &cancelled["state"]), (StatusCode::OK, &json!("cancelled")));
    let order_id = cancelled["order_id"].as_str().expect("an order");
    let (_, order) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!(order["status"], json!("cancelled"), "an accepted repair's cancel cancels its order");
}

#[tokio::test]
async fn an_expired_quote_cannot_be_accepted_and_a_decline_is_final() {
    let clock = Arc::new(Movable::default());
    let (router, ports) = app(clock.clone()).await;
    let (_, booked) = call(&router, Some(STOREFRONT), "POST", "/repairs", &repair_body("c-1", "k-1").to_string()).await;
    let id = booked["repair_id"].as_str().expect("an id").to_owned();
    let (status, _) = call(&router, Some(MERCHANT), "POST", &format!("/repairs/{id}/quote"), &quote_body(1).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    clock.set(Duration::days(8));
    let customer = json!({"customer_id": "c-1"}).to_string();
    let (status, refused) = call(&router, Some(STOREFRONT), "POST", &format!("/repairs/{id}/accept"), &customer).await;
    assert_eq!((status, code(&refused)), (StatusCode::UNPROCESSABLE_ENTITY, Some("quote_expired")), "{refused}");
    let stored = ports.repairs.get_repair(&RepairId::parse(&id).expect("an id")).await.expect("read").expect("stored");
    assert_eq!((stored.state.as_str(), stored.order_id), ("quoted", None), "nothing changed");
    let (status, declined) = call(&router, Some(STOREFRONT), "POST", &format!("/repairs/{id}/decline"), &customer).await;
    assert_eq!((status, &declined["state"]), (StatusCode::OK, &json!("declined")));
    let (status, refused) = call(&router, Some(STOREFRONT), "POST", &format!("/repairs/{id}/cancel"), &customer).await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("repair_state_conflict")));
}

#[tokio::test]
async fn another_merchants_or_customers_repair_is_not_found_and_scopes_are_kept() {
    let (router, _) = app(Arc::new(Movable::default())).await;
    let (_, booked) = call(&router, Some(STOREFRONT), "POST", "/repairs", &repair_body("c-1", "k-1").to_string()).await;
    let id = booked["repair_id"].as_str().expect("an id").to_owned();
    let mine = json!({"customer_id": "c-1"}).to_string();
    let someone_else = json!({"customer_id": "c-2"}).to_string();
    for (token, path, body) in [
        (OTHER, format!("/repairs/{id}"), String::new()),
        (OTHER, format!("/repairs/{id}/quote"), quote_body(1).to_string()),
        (OTHER_SHOP, format!("/repairs/{id}/cancel"), mine.clone()),
        (STOREFRONT, format!("/repairs/{id}/cancel"), someone_else),
        (MERCHANT, "/repairs/rp_nope".to_owned(), String::new()),
        (MERCHANT, "/repairs/rp_01ARZ3NDEKTSV4RRFFQ69G5FAV/start".to_owned(), String::new()),
    ] {
        let method = if body.is_empty() && !path.ends_with("start") { "GET" } else { "POST" };
        let (status, answer) = call(&router, Some(token), method, &path, &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("repair_not_found")), "{path}: {answer}");
    }
    let (_, read) = call(&router, Some(MERCHANT), "GET", &format!("/repairs/{id}"), "").await;
    assert_eq!(read["state"], json!("booked"), "no other tenant's step landed");
    let (status, _) = call(&router, Some(STOREFRONT), "POST", &format!("/repairs/{id}/quote"), &quote_body(1).to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a storefront does not quote");
    let (status, _) = call(&router, Some(MERCHANT), "POST", &format!("/repairs/{id}/cancel"), &mine).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the customer cancels, through the storefront");
    let (status, _) = call(&router, Some(MERCHANT), "POST", "/repairs", &repair_body("c-1", "k-2").to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "booking is the storefront's");
    let (status, answer) = call(&router, Some(OTHER_SHOP), "POST", "/repairs", &repair_body("c-1", "k-3").to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("unknown_warehouse")), "m-2 has no WH-1: {answer}");
    let (status, _) = call(&router, None, "GET", &format!("/repairs/{id}"), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_bookings_quotes_and_steps_are_refused_naming_the_field_and_store_nothing() {
    let (router, ports) = app(Arc::new(Movable::default())).await;
    let with = |patch: Value| {
        let mut body = repair_body("c-1", "k-1");
        body.as_object_mut().expect("an object").extend(patch.as_object().expect("an object").clone());
        body.to_string()
    };
    for (body, field) in [
        ("{not json".to_owned(), None),
        ("[]".to_owned(), None),
        (with(json!({"fault": 5})), None),
        (with(json!({"extra": 1})), None),
        (with(json!({"fault": "  "})), Some("fault")),
        (with(json!({"fault": "x".repeat(2001)})), Some("fault")),
        (with(json!({"photos": ["http://img.example/a.jpg"]})), Some("photos[0]")),
        (with(json!({"photos": vec!["https://img.example/a.jpg"; 9]})), Some("photos")),
        (with(json!({"item": {"serial": "SN-1"}})), Some("item")),
        (with(json!({"item": {"sku": "PHONE-6", "serial": ""}})), Some("item.serial")),
        (with(json!({"handover": {"kind": "pickup"}})), Some("handover.address")),
        (with(json!({"handover": {"kind": "teleport"}})), Some("handover.kind")),
        (
            with(json!({"handover": {"kind": "pickup", "address": {"line1": "x", "city": "y", "country": "CHN"}}})),
            Some("handover.address.country"),
        ),
        (with(json!({"idempotency_key": null})), Some("idempotency_key")),
        (with(json!({"customer_id": ""})), Some("customer_id")),
    ] {
        let (status, answer) = call(&router, Some(STOREFRONT), "POST", "/repairs", &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], json!(field), "{answer}");
        }
    }
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", "/repairs", &with(json!({"workshop": "WH-9"}))).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("unknown_warehouse")), "{answer}");

    let (_, booked) = call(&router, Some(STOREFRONT), "POST", "/repairs", &repair_body("c-1", "k-1").to_string()).await;
    let id = booked["repair_id"].as_str().expect("an id").to_owned();
    let quote = |patch: Value| {
        let mut body = quote_body(1);
        body.as_object_mut().expect("an object").extend(patch.as_object().expect("an object").clone());
        body.to_string()
    };
    let part = |p: Value| json!({"parts": [p]});
    for (body, field) in [
        ("{".to_owned(), None),
        (quote(json!({"labour_minor": "45"})), None),
        (quote(json!({"labour_minor": 1e30})), None),
        (quote(json!({"labour_minor": -1})), Some("labour_minor")),
        (quote(json!({"labour_minor": 100_000_001})), Some("labour_minor")),
        (quote(json!({"currency": "XXX1"})), Some("currency")),
        (quote(json!({"valid_until": Utc::now() - Duration::hours(1)})), Some("valid_until")),
        (quote(json!({"valid_until": "soon"})), None),
        (quote(part(json!({"sku": "SCREEN-6", "quantity": 0}))), Some("parts[0].quantity")),
        (quote(part(json!({"sku": "SCREEN-6", "quantity": 1_000_000_000_000_i64}))), Some("parts[0].quantity")),
        (quote(part(json!({"sku": "SCREEN-6", "quantity": -3}))), Some("parts[0].quantity")),
        (quote(part(json!({"sku": "SCREEN-6", "quantity": 1, "unit_price": "-1"}))), Some("parts[0].unit_price")),
        (quote(part(json!({"sku": "SCREEN-6", "quantity": 1, "unit_price": "1.999"}))), Some("parts[0].unit_price")),
        (quote(part(json!({"sku": "", "quantity": 1}))), Some("parts[0].sku")),
    ] {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", &format!("/repairs/{id}/quote"), &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], json!(field), "{answer}");
        }
    }
    let unpriced = quote(part(json!({"sku": "SCREEN-6", "quantity": 1})));
    let (status, answer) = call(&router, Some(MERCHANT), "POST", &format!("/repairs/{id}/quote"), &unpriced).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("unpriced_part")), "{answer}");
    for (name, token, body) in [
        ("accept", STOREFRONT, "{}"),
        ("accept", STOREFRONT, "{\"customer_id\": 7}"),
        ("ship", MERCHANT, "{\"carrier\": \"dhl\"}"),
        ("complete", MERCHANT, "{\"note\": 5}"),
    ] {
        let (status, answer) = call(&router, Some(token), "POST", &format!("/repairs/{id}/{name}"), body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{name} {body}: {answer}");
    }
    let stored = ports.repairs.get_repair(&RepairId::parse(&id).expect("an id")).await.expect("read").expect("stored");
    assert_eq!((stored.state.as_str(), stored.quote), ("booked", None), "no quote or step stored");
}
