//! `PUT|GET|DELETE /consignments/{id}`, `GET /consignments` and the consigned stock in
//! `GET /inventory/{sku}`, through the routers that host them (`oms serve`'s and the
//! `inventory` function's), on the embedded store: a grant is stored, read by its owner and
//! seller, listed, revoked; bad input and another merchant's attempt are refused with a
//! JSON error and nothing stored.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::auth::TokenTable;
use oms_api::routes::{self, Router};
use oms_api::{AppState, Authenticator, ChannelSecrets, UnsignedPolicy};
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::stock::Warehouse;
use oms_domain::{ConsignmentId, MerchantId, Sku, WarehouseId};
use oms_embedded::Embedded;

const M1: &str = "merchant-one-writer-token";
const M2: &str = "merchant-two-writer-token";
const M3: &str = "merchant-three-writer-token";
const M1_READER: &str = "merchant-one-reader-token";
const STAFF: &str = "platform-staff-token-0001";

/// A store where m-1 keeps 10 units of SKU-1 in the shared WH-A (and WH-B is registered),
/// and a token per caller.
async fn ports() -> Ports {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let ports = store.ports(Arc::new(SystemClock));
    let platform = MerchantId::parse("platform").expect("a merchant");
    for id in ["WH-A", "WH-B"] {
        let warehouse =
            Warehouse::new(WarehouseId::parse(id).expect("an id"), id, platform.clone(), "Zhejiang", "Hangzhou", 30.0, 120.0)
                .expect("a warehouse");
        ports.warehouses.put_warehouse(&warehouse).await.expect("stored");
    }
    let wh = WarehouseId::parse("WH-A").expect("an id");
    let (m1, sku) = (MerchantId::parse("m-1").expect("a merchant"), Sku::parse("SKU-1").expect("a SKU"));
    assert!(ports.inventory.set_on_hand(&wh, &m1, &sku, 10).await.is_ok());
    ports
}

fn router(ports: &Ports, inventory_only: bool) -> Router {
    let write = ["oms/inventory.read", "oms/inventory.write"];
    let grants = json!([
        { "token": M1, "merchant_id": "m-1", "scopes": write },
        { "token": M2, "merchant_id": "m-2", "scopes": write },
        { "token": M3, "merchant_id": "m-3", "scopes": write },
        { "token": M1_READER, "merchant_id": "m-1", "scopes": ["oms/inventory.read"] },
        { "token": STAFF, "scopes": ["oms/platform", "oms/inventory.read", "oms/inventory.write"] },
    ]);
    let state = AppState {
        ports: ports.clone(),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: Authenticator::Tokens(Arc::new(TokenTable::from_json(&grants.to_string()).expect("tokens"))),
        pricing: Default::default(),
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    };
    if inventory_only {
        routes::inventory_api(state)
    } else {
        routes::all(state)
    }
}

async fn call(router: &Router, token: &str, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
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

fn code(answer: &Value) -> (&str, &str) {
    (answer["error"]["code"].as_str().unwrap_or_default(), answer["error"]["field"].as_str().unwrap_or_default())
}

fn grant() -> Value {
    json!({"owner": "m-1", "seller": "m-2", "warehouses": ["WH-A"], "transfer_price": {"amount": "12.50", "currency": "CNY"}})
}

async fn stored(ports: &Ports, id: &str) -> bool {
    let id = ConsignmentId::parse(id).expect("an id");
    ports.consignments.get_consignment(&id).await.expect("the grant read").is_some()
}

#[tokio::test]
async fn a_grant_is_stored_idempotently_read_by_owner_and_seller_listed_and_revoked() {
    for inventory_only in [false, true] {
        let ports = ports().await;
        let router = router(&ports, inventory_only);
        let (status, put) = call(&router, M1, "PUT", "/consignments/g-1", &grant().to_string()).await;
        assert_eq!(status, StatusCode::CREATED, "{put}");
        assert_eq!(
            put,
            json!({"consignment_id": "g-1", "owner": "m-1", "seller": "m-2", "warehouses": ["WH-A"],
                   "transfer_price": {"amount": "12.50", "currency": "CNY"}, "active": true, "version": 1,
                   "updated_at": put["updated_at"]})
        );
        let (status, again) = call(&router, M1, "PUT", "/consignments/g-1", &grant().to_string()).await;
        assert_eq!((status, &again), (StatusCode::OK, &put), "the same body again: the same record");
        let mut changed = grant();
        changed["skus"] = json!(["SKU-1"]);
        let (status, changed) = call(&router, M1, "PUT", "/consignments/g-1", &changed.to_string()).await;
        assert_eq!((status, changed["version"].as_u64(), changed["skus"].clone()), (StatusCode::OK, Some(2), json!(["SKU-1"])));

        let (status, seen) = call(&router, M2, "GET", "/consignments/g-1", "").await;
        assert_eq!((status, seen["version"].as_u64()), (StatusCode::OK, Some(2)), "the seller reads it");
        let (status, listed) = call(&router, M2, "GET", "/consignments?role=received", "").await;
        assert_eq!(
            (status, listed["consignments"][0]["consignment_id"].as_str(), listed["next"].clone()),
            (StatusCode::OK, Some("g-1"), Value::Null)
        );
        let (_, none) = call(&router, M2, "GET", "/consignments?role=granted", "").await;
        assert_eq!(none["consignments"], json!([]));
        let (_, staff) = call(&router, STAFF, "GET", "/consignments?merchant=m-1", "").await;
        assert_eq!(staff["consignments"].as_array().map(Vec::len), Some(1));

        // The seller sees the units it may sell; the owner sees who may sell its units.
        let (status, stock) = call(&router, M2, "GET", "/inventory/SKU-1", "").await;
        assert_eq!(status, StatusCode::OK, "{stock}");
        assert_eq!(stock["warehouses"][0]["merchant_id"], "m-1");
        assert_eq!(stock["warehouses"][0]["available"], 10);
        assert_eq!(
            stock["warehouses"][0]["consignment"],
            json!({"consignment_id": "g-1", "transfer_price": {"amount": "12.50", "currency": "CNY"}})
        );
        let (_, own) = call(&router, M1, "GET", "/inventory/SKU-1", "").await;
        assert_eq!(own["warehouses"][0]["consigned_to"], json!(["m-2"]));
        assert!(own["warehouses"][0].get("consignment").is_none());

        // Only the owner revokes; revoking again answers it as it is.
        let (status, refused) = call(&router, M2, "DELETE", "/consignments/g-1", "").await;
        assert_eq!((status, code(&refused).0), (StatusCode::FORBIDDEN, "forbidden"));
        let (status, revoked) = call(&router, M1, "DELETE", "/consignments/g-1", "").await;
        assert_eq!((status, revoked["active"].as_bool(), revoked["version"].as_u64()), (StatusCode::OK, Some(false), Some(3)));
        let (_, again) = call(&router, M1, "DELETE", "/consignments/g-1", "").await;
        assert_eq!(again, revoked);
        let (status, stock) = call(&router, M2, "GET", "/inventory/SKU-1", "").await;
        assert_eq!(
            (status, code(&stock).0),
            (StatusCode::NOT_FOUND, "sku_not_found"),
            "a revoked grant shows the seller nothing"
        );
    }
}

#[tokio::test]
async fn bad_input_and_another_merchants_attempts_are_refused_and_nothing_is_stored() {
    let ports = ports().await;
    let router = router(&ports, false);
    let with = |field: &str, value: Value| {
        let mut body = grant();
        body[field] = value;
        body.to_string()
    };
    for (body, field) in [
        (with("seller", json!("m-1")), "seller"),
        (with("owner", json!(7)), "owner"),
        (with("warehouses", json!([])), "warehouses"),
        (with("skus", json!([])), "skus"),
        (with("warehouses", json!(["WH-A", "WH-B", "WH-A"])), "warehouses"),
        (with("skus", json!(["SKU-1", "SKU-2", "SKU-1"])), "skus"),
        (with("transfer_price", json!({"amount": "-1", "currency": "CNY"})), "transfer_price.amount"),
        (with("transfer_price", json!({"amount": "1", "currency": "ABC"})), "transfer_price.currency"),
        ("{not json".to_owned(), ""),
    ] {
        let (status, answer) = call(&router, M1, "PUT", "/consignments/g-1", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(code(&answer).0, "invalid_request");
        if !field.is_empty() {
            assert_eq!(code(&answer).1, field, "{body}");
        }
    }
    let (status, answer) = call(&router, M1, "PUT", "/consignments/g-1", &with("warehouses", json!(["WH-A", "WH-9"]))).await;
    assert_eq!((status, code(&answer).0), (StatusCode::NOT_FOUND, "unknown_warehouse"));
    // Another merchant may not grant m-1's stock; a reader may not grant at all.
    let (status, answer) = call(&router, M2, "PUT", "/consignments/g-1", &grant().to_string()).await;
    assert_eq!((status, code(&answer).0), (StatusCode::FORBIDDEN, "forbidden"), "{answer}");
    let (status, _) = call(&router, M1_READER, "PUT", "/consignments/g-1", &grant().to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let big = format!("{{\"owner\":\"{}\"}}", "x".repeat(300_000));
    let (status, _) = call(&router, M1, "PUT", "/consignments/g-1", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!stored(&ports, "g-1").await, "nothing stored on refusal");

    // A grant between m-1 and m-2 is not found by m-3, and its id is not m-3's to take.
    assert_eq!(call(&router, M1, "PUT", "/consignments/g-1", &grant().to_string()).await.0, StatusCode::CREATED);
    let (status, answer) = call(&router, M3, "GET", "/consignments/g-1", "").await;
    assert_eq!((status, code(&answer).0), (StatusCode::NOT_FOUND, "consignment_not_found"));
    let (status, answer) = call(&router, M3, "DELETE", "/consignments/g-1", "").await;
    assert_eq!((status, code(&answer).0), (StatusCode::NOT_FOUND, "consignment_not_found"));
    let theirs =
        json!({"owner": "m-3", "seller": "m-2", "warehouses": ["WH-A"], "transfer_price": {"amount": "1", "currency": "CNY"}});
    let (status, answer) = call(&router, M3, "PUT", "/consignments/g-1", &theirs.to_string()).await;
    assert_eq!((status, code(&answer).0), (StatusCode::CONFLICT, "consignment_conflict"));
    let (status, answer) = call(&router, M3, "GET", "/consignments?merchant=m-1", "").await;
    assert_eq!((status, code(&answer).0), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, answer) = call(&router, STAFF, "GET", "/consignments", "").await;
    assert_eq!((status, code(&answer).1), (StatusCode::BAD_REQUEST, "merchant"));
    let (status, answer) = call(&router, M1, "GET", "/consignments?role=both", "").await;
    assert_eq!((status, code(&answer).1), (StatusCode::BAD_REQUEST, "role"));
    let (status, answer) = call(&router, M1, "GET", "/consignments?limit=0", "").await;
    assert_eq!((status, code(&answer).1), (StatusCode::BAD_REQUEST, "limit"));
    let (status, answer) = call(&router, M1, "GET", "/consignments/nope", "").await;
    assert_eq!((status, code(&answer).0), (StatusCode::NOT_FOUND, "consignment_not_found"));
}

#[tokio::test]
async fn the_list_is_paged_by_id_over_both_roles() {
    let ports = ports().await;
    let router = router(&ports, false);
    for (id, owner, seller, token) in [("g-1", "m-1", "m-2", M1), ("g-2", "m-2", "m-1", M2), ("g-3", "m-1", "m-3", M1)] {
        let body = json!({"owner": owner, "seller": seller, "warehouses": ["WH-B"], "transfer_price": {"amount": "1", "currency": "CNY"}});
        assert_eq!(call(&router, token, "PUT", &format!("/consignments/{id}"), &body.to_string()).await.0, StatusCode::CREATED);
    }
    let (_, first) = call(&router, M1, "GET", "/consignments?limit=2", "").await;
    let ids = |page: &Value| {
        page["consignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["consignment_id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!((ids(&first), first["next"].as_str()), (vec!["g-1".to_owned(), "g-2".to_owned()], Some("g-2")));
    let (_, second) = call(&router, M1, "GET", "/consignments?limit=2&cursor=g-2", "").await;
    assert_eq!((ids(&second), second["next"].clone()), (vec!["g-3".to_owned()], Value::Null));
}

#[tokio::test]
async fn a_cursor_that_is_no_grant_of_the_listing_is_refused_naming_it() {
    let ports = ports().await;
    let router = router(&ports, true);
    for (id, owner, seller, token) in [("g-1", "m-1", "m-2", M1), ("g-2", "m-2", "m-1", M2), ("g-3", "m-2", "m-3", M2)] {
        let body = json!({"owner": owner, "seller": seller, "warehouses": ["WH-B"], "transfer_price": {"amount": "1", "currency": "CNY"}});
        assert_eq!(call(&router, token, "PUT", &format!("/consignments/{id}"), &body.to_string()).await.0, StatusCode::CREATED);
    }
    for query in [
        "cursor=garbage",
        "cursor=zzz",
        "cursor=g-3",              // a grant between other merchants
        "role=granted&cursor=g-2", // m-1's, but not one it granted
        "limit=1&cursor=g-0",
    ] {
        let (status, answer) = call(&router, M1, "GET", &format!("/consignments?{query}"), "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert_eq!(code(&answer), ("invalid_request", "cursor"), "{query}: {answer}");
    }
    // A page's own `next` still pages on.
    let (_, first) = call(&router, M1, "GET", "/consignments?limit=1", "").await;
    assert_eq!(first["next"].as_str(), Some("g-1"));
    let (status, second) = call(&router, M1, "GET", "/consignments?limit=1&cursor=g-1", "").await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!((second["consignments"][0]["consignment_id"].as_str(), second["next"].clone()), (Some("g-2"), Value::Null));
}
