//! What the API test files share: the router `oms serve` hosts on a fresh embedded store,
//! with two merchants' operator and storefront tokens, and one call through it.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, ChannelSecrets, UnsignedPolicy};
use oms_domain::ports::{Ports, SystemClock};
use oms_embedded::Embedded;

/// Merchant `m-1`'s staff (orders and inventory, read and write) and its storefront.
pub const MERCHANT: &str = "m1-operator-token-0001";
pub const STOREFRONT: &str = "m1-storefront-token-01";
/// Merchant `m-2`'s staff and storefront.
pub const OTHER: &str = "m2-operator-token-0001";
pub const OTHER_SHOP: &str = "m2-storefront-token-01";

/// Every route on a fresh in-memory store, and its ports (to set the scene behind the
/// routes' back).
pub async fn app() -> (Router, Ports) {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let ports = store.ports(Arc::new(SystemClock));
    let operator = ["oms/inventory.read", "oms/inventory.write", "oms/orders.read", "oms/orders.write"];
    let grants = json!([
        { "token": MERCHANT, "merchant_id": "m-1", "scopes": operator },
        { "token": STOREFRONT, "merchant_id": "m-1", "scopes": ["oms/storefront"] },
        { "token": OTHER, "merchant_id": "m-2", "scopes": operator },
        { "token": OTHER_SHOP, "merchant_id": "m-2", "scopes": ["oms/storefront"] },
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
    (router, ports)
}

/// One request with `token` as its bearer (none: no `Authorization`), answered as its
/// status and JSON body (`Null` when the body is not JSON).
pub async fn call(router: &Router, token: Option<&str>, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response =
        router.clone().oneshot(request.body(Body::from(body.to_owned())).expect("a request")).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The error code of an error answer.
pub fn code(answer: &Value) -> Option<&str> {
    answer["error"]["code"].as_str()
}
