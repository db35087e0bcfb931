//! The OpenAPI document is the routers' own description: every operation it lists is
//! routed, and every route of DESIGN.md that is routed is in it. Checked over every router
//! a function deploys and over `routes::all`, which `oms serve` hosts.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, ChannelSecrets, ErrorCode, UnsignedPolicy};
use oms_domain::ports::SystemClock;
use oms_embedded::Embedded;

type Route = (String, String);

/// Every route of DESIGN.md's table, built or not.
const DESIGN_ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("POST", "/channels/{channel}/orders"),
    ("POST", "/checkout"),
    ("GET", "/orders/{id}"),
    ("GET", "/orders"),
    ("POST", "/orders/{id}/cancel"),
    ("PATCH", "/orders/{id}"),
    ("PUT", "/inventory/{warehouse}/{sku}"),
    ("GET", "/inventory/{sku}"),
    ("POST", "/carriers/{carrier}/events"),
    ("GET", "/orders/{id}/tracking"),
    ("POST", "/quotes"),
    ("POST", "/flash-sales"),
    ("POST", "/flash-sales/{id}/claims"),
    ("PUT", "/warehouses/{id}"),
    ("POST", "/orders/{id}/shipments"),
    ("GET", "/flash-sales/{id}"),
    ("GET", "/customers/{id}/offers"),
    ("GET", "/customers/{id}/recommendations"),
    ("POST", "/customers/{id}/events"),
    ("GET", "/alerts"),
    // Not in DESIGN.md's table: the staff's answers to an alert.
    ("POST", "/alerts/{id}/acknowledge"),
    ("POST", "/alerts/{id}/resolve"),
    ("GET", "/replenishment"),
    ("PUT", "/consignments/{id}"),
    ("GET", "/analytics"),
    ("PUT", "/skus/{sku}"),
    ("GET", "/skus/{sku}"),
    ("PUT", "/carriers/{carrier}/rates"),
    ("GET", "/carriers/{carrier}/rates"),
    // Not in DESIGN.md's table: a channel's SKU mapped to ours (a held order's way on).
    ("PUT", "/sku-mappings/{channel}/{merchant}/{channel_sku}"),
    // Not in DESIGN.md's table: suppliers and purchase orders (supplier lead time in allocation).
    ("PUT", "/suppliers/{id}"),
    ("GET", "/suppliers/{id}"),
    ("POST", "/purchase-orders"),
    ("GET", "/purchase-orders"),
    ("GET", "/purchase-orders/{id}"),
    ("POST", "/purchase-orders/{id}/receipts"),
    // Not in DESIGN.md's table: what to reorder, from the forecast and the supplier.
    ("GET", "/replenishment"),
    // Not in DESIGN.md's table: the customers' "Where is my order?" page and its lookup.
    ("GET", "/track"),
    ("POST", "/track/lookup"),
    // Not in DESIGN.md's table: the stock ledger and adjustments.
    ("POST", "/inventory/{warehouse}/{sku}/adjustments"),
    ("GET", "/inventory/{sku}/ledger"),
    ("POST", "/inventory/{warehouse}/receipts"),
    ("GET", "/inventory/{warehouse}/lots"),
    // Not in DESIGN.md's table: a payment recorded for an order.
    ("POST", "/orders/{id}/payments"),
    ("POST", "/orders/{id}/release"),
    ("GET", "/orders/{id}/invoice"),
    ("GET", "/orders/{id}/packing-list"),
    // Not in DESIGN.md's table: the buyer's delivery confirmation and reviews.
    ("POST", "/orders/{id}/delivery-confirmation"),
    ("POST", "/orders/{id}/reviews"),
    ("GET", "/skus/{sku}/reviews"),
    // Not in DESIGN.md's table: a consignment grant read, revoked, and a merchant's list.
    ("GET", "/consignments/{id}"),
    ("DELETE", "/consignments/{id}"),
    ("GET", "/consignments"),
    // Not in DESIGN.md's table: the staff dashboard's page.
    ("GET", "/dashboard"),
    // Not in DESIGN.md's table: the generated report files (`oms serve`; 501 in AWS).
    ("GET", "/reports"),
    ("GET", "/reports/{run}/{file}"),
    // Not in DESIGN.md's table: an operator ends a flash sale early.
    ("POST", "/flash-sales/{id}/end"),
    // Not in DESIGN.md's table (its auctions are named among the platform's own orders):
    // an auction listed, seen, bid on, and its bids.
    ("POST", "/auctions"),
    ("GET", "/auctions/{id}"),
    ("POST", "/auctions/{id}/bids"),
    ("GET", "/auctions/{id}/bids"),
    ("POST", "/group-buys"),
    ("GET", "/group-buys/{id}"),
    ("POST", "/group-buys/{id}/joins"),
    ("PUT", "/rental-units/{id}"),
    ("GET", "/rental-units/{id}"),
    ("GET", "/rental-units/{id}/availability"),
    ("POST", "/rentals"),
    ("GET", "/rentals/{id}"),
    ("POST", "/rentals/{id}/hand-over"),
    ("POST", "/rentals/{id}/return"),
    ("POST", "/rentals/{id}/inspection"),
    ("POST", "/rentals/{id}/settlement"),
    ("POST", "/rentals/{id}/cancel"),
    // Not in DESIGN.md's table (its repairs are named among the platform's own orders): a
    // repair booked, seen, quoted, and each of its steps.
    ("POST", "/repairs"),
    ("GET", "/repairs/{id}"),
    ("POST", "/repairs/{id}/quote"),
    ("POST", "/repairs/{id}/start"),
    ("POST", "/repairs/{id}/complete"),
    ("POST", "/repairs/{id}/ship"),
    ("POST", "/repairs/{id}/close"),
    ("POST", "/repairs/{id}/accept"),
    ("POST", "/repairs/{id}/decline"),
    ("POST", "/repairs/{id}/cancel"),
    ("POST", "/orders/{id}/returns"),
    ("GET", "/orders/{id}/returns"),
    ("GET", "/returns/{id}"),
    ("POST", "/returns/{id}/approve"),
    ("POST", "/returns/{id}/refuse"),
    ("POST", "/returns/{id}/cancel"),
    ("POST", "/returns/{id}/ship"),
    ("POST", "/returns/{id}/receive"),
    ("POST", "/returns/{id}/inspect"),
    ("POST", "/returns/{id}/settle"),
    ("GET", "/inventory/{warehouse}/damaged"),
    // Not in DESIGN.md's table: merchant onboarding (registration, the application and its
    // documents, the administrators' decisions and review queue).
    ("POST", "/merchants/register"),
    ("GET", "/merchants/{id}"),
    ("PUT", "/merchants/{id}/application"),
    ("PUT", "/merchants/{id}/application/documents/{name}"),
    ("GET", "/merchants/{id}/application/documents/{name}"),
    ("POST", "/merchants/{id}/application/submit"),
    ("POST", "/merchants/{id}/application/approve"),
    ("POST", "/merchants/{id}/application/reject"),
    ("GET", "/merchant-applications"),
    // Not in DESIGN.md's table: storefronts (the platform's templates, a merchant's draft,
    // preview and publication, the published store).
    ("PUT", "/storefront-templates/{id}"),
    ("GET", "/storefront-templates"),
    ("PUT", "/stores/{merchant}/draft"),
    ("GET", "/stores/{merchant}/draft"),
    ("GET", "/stores/{merchant}/preview"),
    ("POST", "/stores/{merchant}/publish"),
    ("POST", "/stores/{merchant}/unpublish"),
    ("GET", "/stores/{merchant}"),
    // Not in DESIGN.md's table: the reviewed catalogue (product listings, their review,
    // listing and promoted placements).
    ("PUT", "/products/{sku}"),
    ("GET", "/products/{sku}"),
    ("POST", "/products/{sku}/submit"),
    ("POST", "/products/{sku}/approve"),
    ("POST", "/products/{sku}/reject"),
    ("POST", "/products/{sku}/list"),
    ("POST", "/products/{sku}/unlist"),
    ("POST", "/products/{sku}/promote"),
    ("GET", "/products"),
    ("GET", "/catalogue/promoted"),
    // Not in DESIGN.md's table: bulk trade (requests for quotes, merchants' quotes, the
    // buyer's acceptance into sub-orders).
    ("POST", "/rfqs"),
    ("GET", "/rfqs/{id}"),
    ("POST", "/rfqs/{id}/quotes"),
    ("POST", "/rfqs/{id}/accept"),
    // Not in DESIGN.md's table: buyer requests matched to the catalogue.
    ("POST", "/buyer-requests"),
    ("GET", "/buyer-requests/{id}"),
    ("POST", "/buyer-requests/{id}/accept"),
];

fn state() -> AppState {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    AppState {
        ports: store.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: oms_api::Authenticator::Open,
        pricing: Default::default(),
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    }
}

fn routers() -> Vec<(&'static str, Router)> {
    vec![
        ("all", routes::all(state())),
        ("orders_api", routes::orders_api(state())),
        ("inventory_api", routes::inventory_api(state())),
        ("tracking_api", routes::tracking_api(state())),
        ("quotes_api", routes::quotes_api(state())),
        ("flash_sales_api", routes::flash_sales_api(state())),
        ("auctions_api", routes::auctions_api(state())),
        ("group_buys_api", routes::group_buys_api(state())),
        ("rentals_api", routes::rentals_api(state())),
        ("repairs_api", routes::repairs_api(state())),
        ("returns_api", routes::returns_api(state())),
        ("merchants_api", routes::merchants_api(state())),
        ("bulk_trade_api", routes::bulk_trade_api(state())),
        ("matchmaking_api", routes::matchmaking_api(state())),
    ]
}

async fn call(router: &Router, method: &str, path: &str) -> (StatusCode, Value) {
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let request = Request::builder().method(method).uri(path).body(Body::empty()).expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("the body is read");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The path with each `{param}` filled in.
fn concrete(path: &str) -> String {
    path.split('/').map(|part| if part.starts_with('{') { "p-1" } else { part }).collect::<Vec<_>>().join("/")
}

/// True unless the router answers the route with its 404 `route_not_found` or 405 fallback.
async fn routes(router: &Router, method: &str, path: &str) -> bool {
    let (status, body) = call(router, method, &concrete(path)).await;
    let code = &body["error"]["code"];
    !(status == StatusCode::METHOD_NOT_ALLOWED || code == ErrorCode::RouteNotFound.as_str())
}

async fn document(router: &Router) -> Value {
    let (status, doc) = call(router, "GET", "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    doc
}

fn operations(doc: &Value) -> BTreeSet<Route> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_router_serves_an_openapi_3_1_document_of_routes_it_routes() {
    for (name, router) in routers() {
        let doc = document(&router).await;
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{name}: {}", doc["openapi"]);
        let ops = operations(&doc);
        assert!(!ops.is_empty(), "{name} documents no route");
        for (method, path) in ops {
            assert!(routes(&router, &method, &path).await, "{name} documents {method} {path} but does not route it");
        }
    }
}

#[tokio::test]
async fn the_whole_document_holds_every_design_route_that_is_routed() {
    let all = routes::all(state());
    let documented = operations(&document(&all).await);
    let mut routed = BTreeSet::new();
    for (method, path) in DESIGN_ROUTES {
        if routes(&all, method, path).await {
            routed.insert((method.to_string(), path.to_string()));
            assert!(documented.contains(&(method.to_string(), path.to_string())), "{method} {path} is routed but not documented");
        }
    }
    // The document describes the contract's routes and nothing else.
    assert_eq!(documented, routed);
    // A hundred and twenty-nine of the routes above exist today (built, or answering 501);
    // this fails when one is added, to be added to the table above if it is new.
    assert_eq!(routed.len(), 129, "{routed:?}");
}

#[tokio::test]
async fn the_functions_documents_together_are_the_whole_document() {
    let mut parts = BTreeSet::new();
    let mut whole = BTreeSet::new();
    for (name, router) in routers() {
        let ops = operations(&document(&router).await);
        if name == "all" {
            whole = ops;
        } else {
            assert!(parts.is_disjoint(&ops), "{name} documents a route another function has");
            parts.extend(ops);
        }
    }
    assert_eq!(parts, whole);
}

#[tokio::test]
async fn the_document_describes_the_error_body_every_code_and_money_as_strings() {
    let doc = document(&routes::all(state())).await;
    let schemas = &doc["components"]["schemas"];
    let codes: BTreeSet<&str> =
        schemas["ErrorCode"]["enum"].as_array().expect("codes").iter().filter_map(Value::as_str).collect();
    assert_eq!(codes, ErrorCode::ALL.iter().map(|c| c.as_str()).collect());
    assert_eq!(schemas["ErrorBody"]["required"], serde_json::json!(["error"]));
    assert_eq!(schemas["LineAnswer"]["properties"]["unit_price"]["type"], "string");
    for field in ["discount", "shipping", "tax"] {
        assert_eq!(schemas["ChargesAnswer"]["properties"][field]["type"], "string", "{field}");
    }
    // Every operation says what its errors look like.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let errors: Vec<&Value> =
                op["responses"].as_object().unwrap().iter().filter(|(s, _)| s.as_str() >= "400").map(|(_, r)| r).collect();
            if path == "/health" {
                continue;
            }
            assert!(!errors.is_empty(), "{method} {path} lists no error answer");
            for r in errors {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn operator_routes_name_the_bearer_scheme_and_their_scope_and_webhooks_do_not() {
    let doc = document(&routes::all(state())).await;
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer", "{}", doc["components"]);
    let scopes = |path: &str, method: &str| doc["paths"][path][method]["security"][0]["bearer"].clone();
    assert_eq!(scopes("/orders/{id}", "get"), serde_json::json!(["oms/orders.read"]));
    assert_eq!(scopes("/orders/{id}/cancel", "post"), serde_json::json!(["oms/orders.write"]));
    assert_eq!(scopes("/inventory/{warehouse}/{sku}", "put"), serde_json::json!(["oms/inventory.write"]));
    assert_eq!(scopes("/quotes", "post"), serde_json::json!(["oms/storefront"]));
    assert!(doc["paths"]["/channels/{channel}/orders"]["post"]["security"].is_null(), "webhooks are signed, not authorised");
    assert!(doc["paths"]["/health"]["get"]["security"].is_null());
    assert!(doc["paths"]["/track/lookup"]["post"]["security"].is_null(), "customers look up orders with no account");
    assert!(doc["paths"]["/track"]["get"]["security"].is_null());
    assert!(doc["paths"]["/dashboard"]["get"]["security"].is_null(), "the page is public; its data needs the token");
}

#[tokio::test]
async fn the_order_lookup_is_documented_per_merchant_paged_and_with_order_numbers() {
    let doc = document(&routes::all(state())).await;
    let params = doc["paths"]["/orders"]["get"]["parameters"].as_array().expect("the lookup's parameters");
    let param = |name: &str| params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no parameter {name}"));
    for name in ["merchant", "customer", "phone", "channel", "external_id", "order_number", "status", "limit", "cursor"] {
        assert_eq!(param(name)["in"], "query", "{name}");
    }
    assert_ne!(param("merchant")["required"], true, "the caller's own merchant by default");
    assert_eq!(param("limit")["schema"]["maximum"], 100);
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["OrdersAnswer"]["properties"]["next"].is_object(), "{}", schemas["OrdersAnswer"]);
    assert_eq!(schemas["OrderAnswer"]["properties"]["order_number"]["type"], "string");
    assert!(schemas["OrderAnswer"]["required"].as_array().unwrap().contains(&serde_json::json!("order_number")));
}

#[tokio::test]
async fn a_flash_sale_is_documented_with_the_units_its_close_gave_back() {
    let doc = document(&routes::all(state())).await;
    let sale = &doc["components"]["schemas"]["SaleAnswer"]["properties"];
    assert!(sale["units_returned"].is_object(), "{sale}");
    assert!(sale["closed_at"].is_object(), "{sale}");
}
