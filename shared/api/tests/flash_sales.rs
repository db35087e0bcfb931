//! The flash-sale routes through the router `oms serve` hosts, on the embedded store: the
//! answers of the contract, and bad input refused with a clear JSON error and nothing stored.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::admission::{solve, Admission, PROOF_HEADER};
use oms_api::routes::{self, Router};
use oms_api::{AppState, ChannelSecrets, UnsignedPolicy};
use oms_domain::ports::{Clock, Ports, SystemClock};
use oms_domain::stock::Warehouse;
use oms_domain::{MerchantId, Sku, WarehouseId};
use oms_embedded::Embedded;

/// The router over a store where merchant m-1 has 100 units of SKU-1 in WH-1.
async fn app() -> (Router, Ports) {
    app_at(Arc::new(SystemClock)).await
}

/// `app` on the time `clock` tells.
async fn app_at(clock: Arc<dyn Clock>) -> (Router, Ports) {
    app_admitting(clock, Admission::default()).await
}

/// `app_at`, with the burst routes admitting as `admission` says.
async fn app_admitting(clock: Arc<dyn Clock>, admission: Admission) -> (Router, Ports) {
    let (router, ports, _) = app_and_store(clock, admission).await;
    (router, ports)
}

/// Runs the allocate queue's consumer over every message queued: what makes a claim's order.
async fn allocate_queued(store: &Embedded, ports: &Ports) {
    use oms_domain::messages::{consume, QueueName};
    let allocate = oms_domain::usecases::fulfilment::Allocate::default();
    for delivery in store.receive(QueueName::Allocate, 100, std::time::Duration::from_secs(60)).await.expect("receive") {
        consume(&allocate, ports, &delivery.body).await.expect("the claim's order made and planned");
        store.ack(delivery.id).await.expect("ack");
    }
}

/// `app_admitting`, and the store behind it.
async fn app_and_store(clock: Arc<dyn Clock>, admission: Admission) -> (Router, Ports, Embedded) {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let ports = store.ports(clock);
    let warehouse = Warehouse::new(
        WarehouseId::parse("WH-1").expect("a valid value"),
        "Hangzhou 1",
        m1(),
        "Zhejiang",
        "Hangzhou",
        30.0,
        120.0,
    )
    .expect("a warehouse");
    ports.warehouses.put_warehouse(&warehouse).await.expect("stored");
    let counted =
        ports.inventory.set_on_hand(&warehouse.warehouse_id, &m1(), &Sku::parse("SKU-1").expect("a valid value"), 100).await;
    assert!(counted.is_ok());
    let router = routes::all(AppState {
        ports: ports.clone(),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: oms_api::Authenticator::Open,
        pricing: Default::default(),
        archive: None,
        reports: None,
        admission,
        documents: None,
    });
    (router, ports, store)
}

fn m1() -> MerchantId {
    MerchantId::parse("m-1").expect("a valid value")
}

async fn call(router: &Router, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A sale of `units` open now for an hour.
fn sale_body(units: i64, limit: i64) -> Value {
    let now = Utc::now();
    json!({
        "merchant_id": "m-1", "sku": "SKU-1", "units": units, "per_customer_limit": limit,
        "starts_at": now - Duration::minutes(1), "ends_at": now + Duration::hours(1), "shards": 2
    })
}

async fn create(router: &Router, body: Value) -> String {
    let (status, answer) = call(router, "POST", "/flash-sales", &body.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["sale_id"].as_str().expect("a sale id").to_owned()
}

fn claim_body(customer: &str, key: &str, quantity: i64) -> String {
    let address = json!({"line1": "1 West Lake Rd", "city": "Hangzhou", "country": "CN"});
    json!({"customer_id": customer, "quantity": quantity, "idempotency_key": key, "shipping_address": address}).to_string()
}

async fn reserved(ports: &Ports) -> u32 {
    ports.inventory.stock_of(&Sku::parse("SKU-1").expect("a valid value")).await.expect("stock")[0].reserved
}

#[tokio::test]
async fn a_sale_is_created_claimed_to_sold_out_and_shows_its_state() {
    let (router, ports, store) = app_and_store(Arc::new(SystemClock), Admission::default()).await;
    let id = create(&router, sale_body(2, 1)).await;
    assert_eq!(reserved(&ports).await, 2, "the units are set aside");
    let claims = format!("/flash-sales/{id}/claims");
    let (status, first) = call(&router, "POST", &claims, &claim_body("c-1", "k-1", 1)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["quantity"], 1);
    let order_id = first["order_id"].as_str().expect("an order id");
    // The claim's order is made from its message, by the allocate queue's consumer.
    let (status, _) = call(&router, "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not made yet");
    allocate_queued(&store, &ports).await;
    let (status, order) = call(&router, "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!(
        (status, order["channel"].as_str(), &order["external_id"]),
        (StatusCode::OK, Some("flash_sale"), &first["claim_id"])
    );
    let (status, again) = call(&router, "POST", &claims, &claim_body("c-1", "k-1", 1)).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first), "the same key answers the first claim");
    let (status, over) = call(&router, "POST", &claims, &claim_body("c-1", "k-2", 1)).await;
    assert_eq!((status, over["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("limit_exceeded")));
    let (status, _) = call(&router, "POST", &claims, &claim_body("c-2", "k-3", 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, gone) = call(&router, "POST", &claims, &claim_body("c-3", "k-4", 1)).await;
    assert_eq!((status, gone["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("sold_out")));
    let (status, sale) = call(&router, "GET", &format!("/flash-sales/{id}"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((&sale["state"], &sale["units_left"], &sale["claims"]), (&json!("sold_out"), &json!(0), &json!(2)));
}

#[tokio::test]
async fn a_claim_before_the_start_is_not_active_and_an_unknown_sale_is_not_found() {
    let (router, _) = app().await;
    let mut body = sale_body(5, 1);
    body["starts_at"] = json!(Utc::now() + Duration::hours(1));
    body["ends_at"] = json!(Utc::now() + Duration::hours(2));
    let id = create(&router, body).await;
    let (status, early) = call(&router, "POST", &format!("/flash-sales/{id}/claims"), &claim_body("c-1", "k-1", 1)).await;
    assert_eq!((status, early["error"]["code"].as_str()), (StatusCode::GONE, Some("not_active")));
    for path in ["/flash-sales/fs_01ARZ3NDEKTSV4RRFFQ69G5FAV", "/flash-sales/nope"] {
        let (status, unknown) = call(&router, "GET", path, "").await;
        assert_eq!((status, unknown["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("flash_sale_not_found")));
        let (status, _) = call(&router, "POST", &format!("{path}/claims"), &claim_body("c-1", "k-1", 1)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn bad_sales_are_refused_naming_the_field_and_nothing_is_set_aside() {
    let (router, ports) = app().await;
    let with = |field: &str, value: Value| {
        let mut body = sale_body(10, 1);
        body[field] = value;
        body.to_string()
    };
    let now = Utc::now();
    let cases = [
        ("{", ""),
        ("[]", ""),
        (&with("units", json!(0)) as &str, "units"),
        (&with("units", json!(-5)), "units"),
        (&with("units", json!(10_000_000_000_i64)), "units"),
        (&with("units", json!("ten")), "units"),
        (&with("per_customer_limit", json!(0)), "per_customer_limit"),
        (&with("shards", json!(0)), "shards"),
        (&with("shards", json!(201)), "shards"),
        (&with("ends_at", json!(now - Duration::hours(1))), "ends_at"),
        (&with("starts_at", json!("tomorrow")), "starts_at"),
        (&with("price", json!("-1")), "price"),
        (&with("surprise", json!(1)), ""),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, "POST", "/flash-sales", body).await;
        assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"].as_str(), Some(field), "{body}: {answer}");
        }
    }
    let (status, short) = call(&router, "POST", "/flash-sales", &sale_body(101, 1).to_string()).await;
    assert_eq!((status, short["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("insufficient_stock")), "{short}");
    assert_eq!(reserved(&ports).await, 0, "nothing is set aside by a refused sale");
}

#[tokio::test]
async fn bad_claims_are_refused_naming_the_field_and_take_nothing() {
    let (router, _) = app().await;
    let id = create(&router, sale_body(10, 2)).await;
    let claims = format!("/flash-sales/{id}/claims");
    let cases = [
        (claim_body("c-1", "k-1", 0), "quantity"),
        (claim_body("c-1", "k-1", -1), "quantity"),
        (claim_body("c-1", "k-1", 1_000_000), "quantity"),
        (claim_body("", "k-1", 1), "customer_id"),
        (claim_body("c-1", "", 1), "idempotency_key"),
        (json!({"customer_id": "c-1", "quantity": "1", "idempotency_key": "k"}).to_string(), "quantity"),
        (
            json!({"customer_id": "c-1", "quantity": 1, "idempotency_key": "k", "shipping_address": {"city": "X"}}).to_string(),
            "shipping_address.country",
        ),
        ("not json".to_owned(), ""),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, "POST", &claims, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"].as_str(), Some(field), "{body}: {answer}");
        }
    }
    let (status, over) = call(&router, "POST", &claims, &claim_body("c-1", "k-1", 3)).await;
    assert_eq!((status, over["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("limit_exceeded")));
    let (_, sale) = call(&router, "GET", &format!("/flash-sales/{id}"), "").await;
    assert_eq!((&sale["units_left"], &sale["claims"], &sale["state"]), (&json!(10), &json!(0), &json!("active")));
}

/// A clock that a test moves on.
#[derive(Default)]
struct Movable(std::sync::Mutex<Duration>);

impl Clock for Movable {
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now() + *self.0.lock().expect("the clock's lock")
    }
}

#[tokio::test]
async fn an_ended_sale_shows_ended_and_once_swept_the_units_it_gave_back_to_stock() {
    use oms_domain::usecases::sweep::{sweep, SweepLimits};
    let clock = Arc::new(Movable::default());
    let (router, ports) = app_at(clock.clone()).await;
    let id = create(&router, sale_body(5, 1)).await;
    let claims = format!("/flash-sales/{id}/claims");
    let (status, _) = call(&router, "POST", &claims, &claim_body("c-1", "k-1", 1)).await;
    assert_eq!(status, StatusCode::CREATED);

    // Two hours on, the sale has ended; nothing went back yet.
    *clock.0.lock().expect("the clock's lock") = Duration::hours(2);
    let (_, sale) = call(&router, "GET", &format!("/flash-sales/{id}"), "").await;
    assert_eq!((&sale["state"], &sale["units_left"], &sale["units_returned"]), (&json!("ended"), &json!(4), &Value::Null));
    let (status, late) = call(&router, "POST", &claims, &claim_body("c-2", "k-2", 1)).await;
    assert_eq!((status, late["error"]["code"].as_str()), (StatusCode::GONE, Some("not_active")));

    let report = sweep(&ports, &SweepLimits::default()).await.expect("sweep failed");
    assert_eq!(report.sales_closed.iter().map(|c| c.units_returned).collect::<Vec<_>>(), [4]);
    let (_, sale) = call(&router, "GET", &format!("/flash-sales/{id}"), "").await;
    assert_eq!(
        (&sale["state"], &sale["units_left"], &sale["units_claimed"], &sale["units_returned"]),
        (&json!("ended"), &json!(0), &json!(1), &json!(4))
    );
    assert!(sale["closed_at"].is_string(), "{sale}");
    let (_, stock) = call(&router, "GET", "/inventory/SKU-1", "").await;
    assert_eq!((&stock["warehouses"][0]["available"], &stock["warehouses"][0]["reserved"]), (&json!(99), &json!(1)), "{stock}");

    // Once: the next sweep finds nothing to close.
    let again = sweep(&ports, &SweepLimits::default()).await.expect("sweep failed");
    assert!(again.sales_closed.is_empty());
    assert_eq!(reserved(&ports).await, 1);
}

/// `call` with a bearer token.
async fn call_as(router: &Router, token: &str, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_owned()))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_operator_ends_a_sale_early_once_its_unclaimed_units_go_back_and_claims_stop() {
    let (open, ports) = app().await;
    let grants = json!([
        { "token": "m1-operator-token-0001", "merchant_id": "m-1", "scopes": ["oms/inventory.write", "oms/orders.read"] },
        { "token": "m1-storefront-token-01", "merchant_id": "m-1", "scopes": ["oms/storefront"] },
        { "token": "m2-operator-token-0001", "merchant_id": "m-2", "scopes": ["oms/inventory.write"] },
    ]);
    let router = routes::all(AppState {
        ports: ports.clone(),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: oms_api::Authenticator::Tokens(Arc::new(
            oms_api::auth::TokenTable::from_json(&grants.to_string()).expect("tokens"),
        )),
        pricing: Default::default(),
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    });
    let id = create(&open, sale_body(5, 1)).await;
    let claims = format!("/flash-sales/{id}/claims");
    let (status, _) = call(&open, "POST", &claims, &claim_body("c-1", "k-1", 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let end = format!("/flash-sales/{id}/end");

    // Only the sale's merchant's operators: another merchant's sale is not found, a
    // storefront credential may not, and nobody unauthenticated.
    let (status, other) = call_as(&router, "m2-operator-token-0001", "POST", &end, "").await;
    assert_eq!((status, other["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("flash_sale_not_found")));
    let (status, shop) = call_as(&router, "m1-storefront-token-01", "POST", &end, "").await;
    assert_eq!((status, shop["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) = call(&router, "POST", &end, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(reserved(&ports).await, 5, "nothing moved");

    let (status, ended) = call_as(&router, "m1-operator-token-0001", "POST", &end, "").await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(
        (&ended["state"], &ended["units_left"], &ended["units_claimed"], &ended["units_returned"]),
        (&json!("ended"), &json!(0), &json!(1), &json!(4))
    );
    assert!(ended["closed_at"].is_string(), "{ended}");
    let ends_at: chrono::DateTime<Utc> = serde_json::from_value(ended["ends_at"].clone()).expect("a time");
    assert!(ends_at <= Utc::now() && ends_at > Utc::now() - Duration::minutes(1), "the end is now: {ended}");
    assert_eq!(reserved(&ports).await, 1, "the unclaimed units are available again");
    let (status, shown) = call_as(&router, "m1-operator-token-0001", "GET", &format!("/flash-sales/{id}"), "").await;
    assert_eq!((status, &shown), (StatusCode::OK, &ended), "answered as GET shows it");

    // No claim from now on; the first claim's key still answers it.
    let (status, late) = call(&open, "POST", &claims, &claim_body("c-2", "k-2", 1)).await;
    assert_eq!((status, late["error"]["code"].as_str()), (StatusCode::GONE, Some("not_active")));
    let (status, _) = call(&open, "POST", &claims, &claim_body("c-1", "k-1", 1)).await;
    assert_eq!(status, StatusCode::CREATED);

    // Again: the same sale, nothing given back twice.
    let (status, again) = call_as(&router, "m1-operator-token-0001", "POST", &end, "").await;
    assert_eq!((status, &again), (StatusCode::OK, &ended));
    assert_eq!(reserved(&ports).await, 1);

    for path in ["/flash-sales/fs_01ARZ3NDEKTSV4RRFFQ69G5FAV/end", "/flash-sales/nope/end"] {
        let (status, unknown) = call(&open, "POST", path, "").await;
        assert_eq!((status, unknown["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("flash_sale_not_found")));
    }
}

/// A claim to `path` carrying `proof` in the proof-of-work header.
async fn claim_with_proof(router: &Router, path: &str, body: &str, proof: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .header(PROOF_HEADER, proof)
        .body(Body::from(body.to_owned()))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn with_proof_of_work_on_a_claim_needs_a_proof_of_its_own_customer_and_sale() {
    let (router, ports) = app_admitting(Arc::new(SystemClock), Admission::proof_of_work(10).expect("bits")).await;
    let id = create(&router, sale_body(5, 1)).await;
    let claims = format!("/flash-sales/{id}/claims");
    let (status, answer) = call(&router, "POST", &claims, &claim_body("c-1", "k-1", 1)).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::PRECONDITION_REQUIRED, Some("proof_required")));
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("oms-pow:v1:{id}:c-1:")), "the challenge is named: {message}");
    for wrong in [solve(id.as_str(), "c-2", 10, Utc::now()), solve("fs_other", "c-1", 10, Utc::now()), "x y".to_owned()] {
        let (status, answer) = claim_with_proof(&router, &claims, &claim_body("c-1", "k-1", 1), &wrong).await;
        assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::PRECONDITION_REQUIRED, Some("proof_required")));
    }
    let (_, sale) = call(&router, "GET", &format!("/flash-sales/{id}"), "").await;
    assert_eq!(sale["claims"], 0, "refused claims store nothing: {sale}");
    let proof = solve(id.as_str(), "c-1", 10, Utc::now());
    let (status, answer) = claim_with_proof(&router, &claims, &claim_body("c-1", "k-1", 1), &proof).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(reserved(&ports).await, 5, "the claim took a set-aside unit");
}
