//! What the API test files share: the router `oms serve` hosts on a fresh embedded store,
//! with two merchants' operator and storefront tokens, a clock a test moves on, and one
//! call through it.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, ChannelSecrets, UnsignedPolicy};
use oms_domain::ports::{Clock, Ports, SystemClock};
use oms_domain::stock::Warehouse;
use oms_domain::{MerchantId, WarehouseId};
use oms_embedded::Embedded;

/// Merchant `m-1`'s staff (orders and inventory, read and write) and its storefront.
pub const MERCHANT: &str = "m1-operator-token-0001";
pub const STOREFRONT: &str = "m1-storefront-token-01";
/// Merchant `m-2`'s staff and storefront.
pub const OTHER: &str = "m2-operator-token-0001";
pub const OTHER_SHOP: &str = "m2-storefront-token-01";

/// A clock that a test moves on: the system's time plus the offset it holds.
#[derive(Default)]
pub struct Movable(pub Mutex<Duration>);

impl Movable {
    /// Sets the clock `offset` from the system's time.
    pub fn set(&self, offset: Duration) {
        *self.0.lock().expect("the clock's lock") = offset;
    }
}

impl Clock for Movable {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.0.lock().expect("the clock's lock")
    }
}

/// What a merchant's operator tokens may do here: orders and inventory, read and write.
pub const OPERATOR: [&str; 4] = ["oms/inventory.read", "oms/inventory.write", "oms/orders.read", "oms/orders.write"];

/// The four tokens: each merchant's operator and storefront.
pub fn merchants_tokens() -> Value {
    json!([
        { "token": MERCHANT, "merchant_id": "m-1", "scopes": OPERATOR },
        { "token": STOREFRONT, "merchant_id": "m-1", "scopes": ["oms/storefront"] },
        { "token": OTHER, "merchant_id": "m-2", "scopes": OPERATOR },
        { "token": OTHER_SHOP, "merchant_id": "m-2", "scopes": ["oms/storefront"] },
    ])
}

/// The state `oms serve` would build on `ports`, its bearer tokens `grants`, unsigned
/// channel orders refused, nothing else configured.
pub fn state(ports: &Ports, grants: &Value) -> AppState {
    AppState {
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
    }
}

/// A fresh in-memory store on `clock`, and its ports (to set the scene behind the routes'
/// back).
pub fn store(clock: Arc<dyn Clock>) -> (Embedded, Ports) {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let ports = store.ports(clock);
    (store, ports)
}

/// Every route on a fresh in-memory store, with the four tokens, and its ports.
pub async fn app() -> (Router, Ports) {
    app_at(Arc::new(SystemClock)).await
}

/// [`app`] on `clock`.
pub async fn app_at(clock: Arc<dyn Clock>) -> (Router, Ports) {
    let (_, ports) = store(clock);
    (routes::all(state(&ports, &merchants_tokens())), ports)
}

/// Registers warehouse `id` of `merchant` in Hangzhou.
pub async fn warehouse(ports: &Ports, id: &str, merchant: &str) {
    let merchant = MerchantId::parse(merchant).expect("a merchant");
    let stored = Warehouse::new(WarehouseId::parse(id).expect("an id"), id, merchant, "Zhejiang", "Hangzhou", 30.0, 120.0);
    ports.warehouses.put_warehouse(&stored.expect("a warehouse")).await.expect("stored");
}

/// One request with `token` as its bearer (none: no `Authorization`), answered as its
/// status and JSON body (`Null` when the body is not JSON).
pub async fn call(router: &Router, token: Option<&str>, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    send(router, token, method, path, "application/json", body.as_bytes().to_vec()).await
}

/// [`call`] with a body of any content type.
pub async fn send(
    router: &Router,
    token: Option<&str>,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path).header("content-type", content_type);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router.clone().oneshot(request.body(Body::from(body)).expect("a request")).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The error code of an error answer.
pub fn code(answer: &Value) -> Option<&str> {
    answer["error"]["code"].as_str()
}

/// `id` registered and, when `approve`, approved.
pub async fn onboarded(ports: &Ports, id: &str, approve: bool) {
    use oms_domain::document::{DocumentKey, DocumentRef, DocumentType};
    use oms_domain::onboarding::{Application, DocumentKind, MerchantRecord, Phone, Region};
    let now = Utc::now();
    let phone = Phone::parse("+8613800000000").expect("a phone");
    let mut record = MerchantRecord::register(
        MerchantId::parse(id).expect("a merchant id"),
        phone,
        Region::parse("Zhejiang").expect("a region"),
        id,
        now,
    );
    let created = ports.merchants.create_merchant(&record).await.expect("create");
    assert_eq!(created, oms_domain::ports::CreateMerchantOutcome::Created);
    if !approve {
        return;
    }
    let read = record.clone();
    let application =
        Application::parse("specialty", "tea", "91330100MA27XK1234", "Wang Fang", "330106199001011234").expect("an application");
    record.save_application(application, id, now).expect("a draft takes its application");
    for kind in DocumentKind::ALL {
        let document = DocumentRef {
            key: DocumentKey::parse(format!("merchants/{id}/{}", kind.as_str())).expect("a key"),
            content_type: DocumentType::Pdf,
            bytes: 10,
            sha256: "ab".repeat(32),
            uploaded_at: now,
        };
        record.attach_document(kind, document, id, now).expect("a draft takes documents");
    }
    record.submit(id, now).expect("submitted");
    record.approve("admin", now).expect("approved");
    let updated = ports.merchants.update_merchant(&read, &record).await.expect("update");
    assert_eq!(updated, oms_domain::ports::UpdateMerchantOutcome::Updated);
}
