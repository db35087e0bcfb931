//! `POST /customers/{id}/events` through the router `oms serve` hosts, on the embedded
//! store: a storefront's batch stored once per idempotency key, tenant isolation, and bad
//! input of every kind refused with a clear JSON error and nothing stored.

mod support;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use oms_domain::ports::Ports;
use oms_domain::MerchantId;
use support::{app, call, code, MERCHANT, OTHER_SHOP, STOREFRONT};

/// A product of `merchant` in the catalogue.
async fn listed(ports: &Ports, sku: &str, merchant: &str) {
    let facts = oms_domain::catalogue::UncheckedSkuFacts {
        merchant_id: merchant.into(),
        name: sku.into(),
        category: "tea".into(),
        cost: Decimal::new(10, 0),
        list_price: Decimal::new(90, 0),
        weight_g: 100,
        dims_mm: [1, 1, 1],
        traits: vec![],
    };
    let facts = oms_domain::catalogue::SkuFacts::new(oms_domain::Sku::parse(sku).expect("a SKU"), facts).expect("valid facts");
    ports.catalogue.put_sku(&facts).await.expect("stored");
}

fn minutes_ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339()
}

fn events(key: &str, events: Value) -> String {
    json!({ "idempotency_key": key, "events": events }).to_string()
}

/// Every event stored for `merchant`, as (customer, kind, SKU).
async fn stored(ports: &Ports, merchant: &str) -> Vec<(String, String, String)> {
    let merchant = MerchantId::parse(merchant).expect("a merchant");
    let read = ports.browsing.browsing_between(&merchant, Utc::now() - Duration::days(91), Utc::now() + Duration::hours(1));
    let events = read.await.expect("the store answers");
    events.into_iter().map(|e| (e.customer_id.to_string(), e.kind.as_str().to_owned(), e.sku.to_string())).collect()
}

#[tokio::test]
async fn a_storefronts_batch_is_stored_once_per_key_and_read_back_by_the_merchant() {
    let (router, ports) = app().await;
    listed(&ports, "TEA-1", "m-1").await;
    listed(&ports, "CUP-1", "m-1").await;
    let batch = events(
        "b-1",
        json!([
            { "kind": "view", "sku": "TEA-1", "at": minutes_ago(30) },
            { "kind": "cart_add", "sku": "TEA-1", "at": minutes_ago(20) },
            { "kind": "wishlist", "sku": "CUP-1", "at": minutes_ago(10) },
        ]),
    );
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", "/customers/c-1/events", &batch).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer, json!({ "customer_id": "c-1", "events": 3, "duplicate": false }));
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", "/customers/c-1/events", &batch).await;
    assert_eq!((status, answer["duplicate"].as_bool()), (StatusCode::OK, Some(true)), "a retry: {answer}");
    let kinds: Vec<String> = stored(&ports, "m-1").await.into_iter().map(|(_, kind, _)| kind).collect();
    assert_eq!(kinds, ["view", "cart_add", "wishlist"], "stored once, oldest first");
}

/// The storefront's POST of `body` to c-1's events with `key` in the `Idempotency-Key` header.
async fn post_keyed(router: &oms_api::routes::Router, body: &str, key: &str) -> StatusCode {
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/customers/c-1/events")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {STOREFRONT}"))
        .header("idempotency-key", key)
        .body(axum::body::Body::from(body.to_owned()))
        .expect("a request");
    tower::ServiceExt::oneshot(router.clone(), request).await.expect("infallible").status()
}

#[tokio::test]
async fn the_idempotency_key_header_serves_as_the_batchs_key() {
    let (router, ports) = app().await;
    listed(&ports, "TEA-1", "m-1").await;
    let body = json!({ "events": [{ "kind": "view", "sku": "TEA-1", "at": minutes_ago(1) }] }).to_string();
    assert_eq!(post_keyed(&router, &body, "h-1").await, StatusCode::ACCEPTED);
    assert_eq!(post_keyed(&router, &body, "h-1").await, StatusCode::OK);
    assert_eq!(stored(&ports, "m-1").await.len(), 1);
}

#[tokio::test]
async fn a_merchant_reports_only_its_own_customers_browsing_of_its_own_products() {
    let (router, ports) = app().await;
    listed(&ports, "TEA-1", "m-1").await;
    listed(&ports, "FAN-2", "m-2").await;
    let theirs = events("b-1", json!([{ "kind": "view", "sku": "FAN-2", "at": minutes_ago(5) }]));
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", "/customers/c-1/events", &theirs).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_sku")), "{answer}");
    let mine = events("b-1", json!([{ "kind": "view", "sku": "TEA-1", "at": minutes_ago(5) }]));
    let (status, answer) = call(&router, Some(OTHER_SHOP), "POST", "/customers/c-1/events", &mine).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_sku")), "m-2 does not list TEA-1");
    let named = json!({ "idempotency_key": "b-1", "merchant_id": "m-1", "events": [{ "kind": "view", "sku": "FAN-2", "at": minutes_ago(5) }] });
    let (status, answer) = call(&router, Some(OTHER_SHOP), "POST", "/customers/c-1/events", &named.to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "{answer}");
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", "/customers/c-1/events", &mine).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let same_key = events("b-1", json!([{ "kind": "view", "sku": "FAN-2", "at": minutes_ago(5) }]));
    let (status, answer) = call(&router, Some(OTHER_SHOP), "POST", "/customers/c-1/events", &same_key).await;
    assert_eq!((status, answer["duplicate"].as_bool()), (StatusCode::ACCEPTED, Some(false)), "keys are per merchant: {answer}");
    assert_eq!(stored(&ports, "m-1").await, [("c-1".to_owned(), "view".to_owned(), "TEA-1".to_owned())]);
    assert_eq!(stored(&ports, "m-2").await, [("c-1".to_owned(), "view".to_owned(), "FAN-2".to_owned())]);
}

#[tokio::test]
async fn bad_batches_are_refused_with_a_clear_error_and_nothing_stored() {
    let (router, ports) = app().await;
    listed(&ports, "TEA-1", "m-1").await;
    let view = |at: String| json!({ "kind": "view", "sku": "TEA-1", "at": at });
    let hundred_and_one: Vec<Value> = (0..101).map(|_| view(minutes_ago(1))).collect();
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        ("malformed JSON", "{\"events\": [".to_owned(), StatusCode::BAD_REQUEST, "invalid_request"),
        ("not an object", "[]".to_owned(), StatusCode::BAD_REQUEST, "invalid_request"),
        ("no events field", json!({ "idempotency_key": "k" }).to_string(), StatusCode::BAD_REQUEST, "invalid_request"),
        ("events not a list", events("k", json!("view")), StatusCode::BAD_REQUEST, "invalid_request"),
        ("no events", events("k", json!([])), StatusCode::BAD_REQUEST, "invalid_request"),
        ("over 100 events", events("k", json!(hundred_and_one)), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "an unknown kind",
            events("k", json!([{ "kind": "purchase", "sku": "TEA-1", "at": minutes_ago(1) }])),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "a kind of the wrong type",
            events("k", json!([{ "kind": 3, "sku": "TEA-1", "at": minutes_ago(1) }])),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "a time that is no time",
            events("k", json!([{ "kind": "view", "sku": "TEA-1", "at": "yesterday" }])),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "an event in the future",
            events("k", json!([view((Utc::now() + Duration::hours(1)).to_rfc3339())])),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "an event 91 days old",
            events("k", json!([view((Utc::now() - Duration::days(91)).to_rfc3339())])),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "a blank SKU",
            events("k", json!([{ "kind": "view", "sku": " ", "at": minutes_ago(1) }])),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "an unknown field",
            json!({ "idempotency_key": "k", "events": [view(minutes_ago(1))], "extra": 1 }).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "no idempotency key",
            json!({ "events": [view(minutes_ago(1))] }).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "an unknown SKU",
            events("k", json!([view(minutes_ago(2)), { "kind": "view", "sku": "NOPE", "at": minutes_ago(1) }])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sku",
        ),
    ];
    for (what, body, status, expected) in cases {
        let (answer_status, answer) = call(&router, Some(STOREFRONT), "POST", "/customers/c-1/events", &body).await;
        assert_eq!((answer_status, code(&answer)), (status, Some(expected)), "{what}: {answer}");
        assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {answer}");
    }
    let (status, answer) =
        call(&router, Some(STOREFRONT), "POST", "/customers/%20/events", &events("k", json!([view(minutes_ago(1))]))).await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "a blank customer: {answer}");
    let (status, _) = call(&router, None, "POST", "/customers/c-1/events", &events("k", json!([view(minutes_ago(1))]))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) =
        call(&router, Some(MERCHANT), "POST", "/customers/c-1/events", &events("k", json!([view(minutes_ago(1))]))).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "staff tokens lack oms/storefront: {answer}");
    assert!(stored(&ports, "m-1").await.is_empty(), "nothing stored from a refused batch");
}
