//! Tenant isolation through the HTTP routes, on both adapter sets (the embedded store and
//! DynamoDB through the emulator): merchant A's staff can neither read nor change merchant
//! B's orders, alerts, warehouses or stock, and are told "not found", never "forbidden",
//! about B's records, so that their existence does not leak; a credential without the
//! route's scope is refused (403), and none at all is 401.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt as _;

use oms_api::{AppState, Authenticator, ChannelSecrets, TokenTable, UnsignedPolicy};
use oms_aws::emulator::Emulator;
use oms_domain::alert::{Alert, AlertKind};
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::{MerchantId, OrderId};

const A_STAFF: &str = "merchant-a-staff-token";
const A_READER: &str = "merchant-a-read-only-token";
const B_STAFF: &str = "merchant-b-staff-token";
const PLATFORM: &str = "platform-staff-token-1";

fn tokens() -> Authenticator {
    let all = ["oms/orders.read", "oms/orders.write", "oms/inventory.read", "oms/inventory.write"];
    let grants = json!([
        { "token": A_STAFF, "merchant_id": "m-a", "scopes": all },
        { "token": A_READER, "merchant_id": "m-a", "scopes": ["oms/orders.read"] },
        { "token": B_STAFF, "merchant_id": "m-b", "scopes": all },
        { "token": PLATFORM, "scopes": ["oms/platform", "oms/orders.read", "oms/inventory.read", "oms/inventory.write"] },
    ]);
    Authenticator::Tokens(Arc::new(TokenTable::from_json(&grants.to_string()).expect("the token list")))
}

struct Api(axum::Router);

impl Api {
    fn over(ports: Ports) -> Api {
        let state = AppState {
            ports,
            secrets: ChannelSecrets::default().into(),
            unsigned: UnsignedPolicy::Accept,
            auth: tokens(),
            pricing: Default::default(),
            archive: None,
            reports: None,
            admission: Default::default(),
            documents: None,
        };
        Api(oms_api::routes::all(state))
    }

    async fn call(&self, token: Option<&str>, method: Method, uri: &str, body: Value) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri).header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = if body.is_null() { Body::empty() } else { Body::from(body.to_string()) };
        let response = self.0.clone().oneshot(request.body(body).expect("a request")).await.expect("the router answers");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Asserts the answer's status and error code (`None`: a success).
    async fn expect(
        &self,
        token: Option<&str>,
        method: Method,
        uri: &str,
        body: Value,
        want: (StatusCode, Option<&str>),
    ) -> Value {
        let (status, answer) = self.call(token, method.clone(), uri, body).await;
        assert_eq!((status, answer["error"]["code"].as_str()), want, "{method} {uri} as {token:?}: {answer}");
        answer
    }
}

fn order_of(merchant: &str, external_id: &str) -> Value {
    json!({
        "external_id": external_id, "merchant_id": merchant, "placed_at": "2026-11-20T10:00:00Z", "currency": "CNY",
        "customer": {"id": "c-1", "email": "a@example.com", "phone": "+8613800000000"},
        "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang",
                             "postal_code": "310000", "country": "CN"},
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "19.90"}]
    })
}

fn warehouse_of(merchant: &str) -> Value {
    json!({"name": "West", "merchant_id": merchant, "province": "Zhejiang", "city": "Hangzhou", "lat": 30.2, "lon": 120.1})
}

async fn isolation(ports: Ports) {
    use StatusCode as S;
    let api = Api::over(ports.clone());
    let ok = (S::OK, None);
    let not_found = |code| (S::NOT_FOUND, Some(code));

    // Each merchant registers a warehouse and counts stock; each sends an order (webhooks
    // need no credential).
    api.expect(Some(A_STAFF), Method::PUT, "/warehouses/wh-a", warehouse_of("m-a"), ok).await;
    api.expect(Some(B_STAFF), Method::PUT, "/warehouses/wh-b", warehouse_of("m-b"), ok).await;
    api.expect(Some(A_STAFF), Method::PUT, "/inventory/wh-a/SKU-1", json!({"on_hand": 5}), ok).await;
    api.expect(Some(B_STAFF), Method::PUT, "/inventory/wh-b/SKU-1", json!({"on_hand": 7}), ok).await;
    let a_order = api.expect(None, Method::POST, "/channels/generic/orders", order_of("m-a", "A-1"), (S::ACCEPTED, None)).await;
    let a_order = a_order["order_id"].as_str().expect("an order id").to_owned();
    api.expect(None, Method::POST, "/channels/generic/orders", order_of("m-b", "B-1"), (S::ACCEPTED, None)).await;
    let b_order_id = OrderId::generate();
    let alert = Alert::about_order(
        AlertKind::ChannelCancelRefused,
        &b_order_id,
        &MerchantId::parse("m-b").expect("a merchant id"),
        "late",
        chrono::Utc::now(),
    );
    oms_domain::usecases::alerts::raise_alert(&ports, alert.clone()).await.expect("the alert is raised");

    // A's own order: read by A; B, reading or changing it, is told it does not exist.
    let order_uri = format!("/orders/{a_order}");
    api.expect(Some(A_STAFF), Method::GET, &order_uri, Value::Null, ok).await;
    api.expect(Some(B_STAFF), Method::GET, &order_uri, Value::Null, not_found("order_not_found")).await;
    api.expect(Some(B_STAFF), Method::POST, &format!("{order_uri}/cancel"), Value::Null, not_found("order_not_found")).await;
    let patch = json!({"shipping_address": {"name": "Mallory", "line1": "2 Elsewhere", "city": "Hangzhou", "province": "Zhejiang",
                                            "postal_code": "310000", "country": "CN"}});
    api.expect(Some(B_STAFF), Method::PATCH, &order_uri, patch, not_found("order_not_found")).await;
    let unchanged = api.expect(Some(A_STAFF), Method::GET, &order_uri, Value::Null, ok).await;
    assert_eq!(unchanged["shipping_address"]["name"], "Li Lei", "B's PATCH changed nothing: {unchanged}");
    assert_ne!(unchanged["status"], "cancelled", "B's cancel changed nothing: {unchanged}");

    // Shipments and tracking of A's order: B is told it does not exist; a reader may not ship.
    let parcel = json!({"carrier": "sf", "tracking_number": "SF-B-1", "lines": [{"sku": "SKU-1", "quantity": 1}]});
    let ship_uri = format!("{order_uri}/shipments");
    api.expect(Some(B_STAFF), Method::POST, &ship_uri, parcel.clone(), not_found("order_not_found")).await;
    api.expect(Some(A_READER), Method::POST, &ship_uri, parcel, (S::FORBIDDEN, Some("forbidden"))).await;
    api.expect(Some(B_STAFF), Method::GET, &format!("{order_uri}/tracking"), Value::Null, not_found("order_not_found")).await;
    let tracking = api.expect(Some(A_READER), Method::GET, &format!("{order_uri}/tracking"), Value::Null, ok).await;
    assert_eq!(tracking["shipments"], json!([]), "nothing shipped: {tracking}");

    // Lookups: B's staff find none of A's orders, whatever merchant they name.
    let by_phone = "/orders?phone=%2B8613800000000";
    let mine = api.expect(Some(A_STAFF), Method::GET, by_phone, Value::Null, ok).await;
    assert_eq!(mine["orders"].as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(mine["orders"][0]["merchant_id"], "m-a");
    let theirs = api.expect(Some(B_STAFF), Method::GET, "/orders?merchant=m-a&phone=%2B8613800000000", Value::Null, ok).await;
    assert_eq!(theirs["orders"].as_array().map(Vec::len), Some(0), "{theirs}");
    let staff = api.expect(Some(PLATFORM), Method::GET, "/orders?merchant=m-a&phone=%2B8613800000000", Value::Null, ok).await;
    assert_eq!(staff["orders"].as_array().map(Vec::len), Some(1), "platform staff name the merchant: {staff}");
    api.expect(Some(PLATFORM), Method::GET, by_phone, Value::Null, (S::BAD_REQUEST, Some("invalid_request"))).await;

    // Alerts: B's alert is not in A's list and cannot be acted on by A.
    let alerts_of_a = api.expect(Some(A_STAFF), Method::GET, "/alerts?status=open", Value::Null, ok).await;
    assert_eq!(alerts_of_a["alerts"].as_array().map(Vec::len), Some(0), "{alerts_of_a}");
    let resolve = format!("/alerts/{}/resolve", alert.alert_id);
    api.expect(Some(A_STAFF), Method::POST, &resolve, Value::Null, not_found("alert_not_found")).await;
    let alerts_of_b = api.expect(Some(B_STAFF), Method::GET, "/alerts?status=open", Value::Null, ok).await;
    assert_eq!(alerts_of_b["alerts"].as_array().map(Vec::len), Some(1), "{alerts_of_b}");

    // Warehouses and stock: A cannot take over B's warehouse, count in it, or count B's units.
    api.expect(Some(A_STAFF), Method::PUT, "/warehouses/wh-b", warehouse_of("m-a"), not_found("unknown_warehouse")).await;
    api.expect(Some(A_STAFF), Method::PUT, "/warehouses/wh-x", warehouse_of("m-b"), (S::FORBIDDEN, Some("forbidden"))).await;
    api.expect(Some(A_STAFF), Method::PUT, "/inventory/wh-b/SKU-1", json!({"on_hand": 0}), not_found("unknown_warehouse")).await;
    let others_units = json!({"on_hand": 0, "merchant_id": "m-b"});
    api.expect(Some(A_STAFF), Method::PUT, "/inventory/wh-a/SKU-1", others_units, (S::FORBIDDEN, Some("forbidden"))).await;
    api.expect(
        Some(A_STAFF),
        Method::PUT,
        "/sku-mappings/generic/m-b/X-1",
        json!({"sku": "SKU-1"}),
        (S::FORBIDDEN, Some("forbidden")),
    )
    .await;
    let stock = api.expect(Some(A_STAFF), Method::GET, "/inventory/SKU-1", Value::Null, ok).await;
    let owners: Vec<&str> =
        stock["warehouses"].as_array().into_iter().flatten().filter_map(|w| w["merchant_id"].as_str()).collect();
    assert_eq!(owners, ["m-a"], "A sees its own units only: {stock}");
    let all = api.expect(Some(PLATFORM), Method::GET, "/inventory/SKU-1", Value::Null, ok).await;
    assert_eq!(all["warehouses"].as_array().map(Vec::len), Some(2), "{all}");
    let b_stock = api.expect(Some(B_STAFF), Method::GET, "/inventory/SKU-1", Value::Null, ok).await;
    assert_eq!(b_stock["warehouses"][0]["on_hand"], 7, "B's count is untouched: {b_stock}");

    // Scopes and credentials.
    api.expect(Some(A_READER), Method::POST, &format!("{order_uri}/cancel"), Value::Null, (S::FORBIDDEN, Some("forbidden")))
        .await;
    api.expect(None, Method::GET, &order_uri, Value::Null, (S::UNAUTHORIZED, Some("unauthenticated"))).await;
    api.expect(Some("not-a-token-we-issued"), Method::GET, &order_uri, Value::Null, (S::UNAUTHORIZED, Some("unauthenticated")))
        .await;
    api.expect(None, Method::GET, "/health", Value::Null, ok).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merchants_are_isolated_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = oms_embedded::Embedded::open(dir.path()).unwrap();
    isolation(embedded.ports(Arc::new(SystemClock))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merchants_are_isolated_on_dynamodb() {
    let aws = Emulator::shared().provisioned("tenancy").await;
    isolation(aws.ports(Arc::new(SystemClock))).await;
}
