//! Local stand-ins of the systems the OMS tells things to: a warehouse's fulfilment
//! endpoint, a Shopify shop, a WooCommerce store, Amazon's SP-API (with its token
//! endpoint) and the payment system's refund endpoint, all on one loopback port. Each checks every request's shape as its real
//! API documents it (credentials, required fields, known ids, quantities it can take) and
//! answers as that API does: a request it would refuse is refused (and kept in
//! [`Fakes::problems`]), one it takes changes its state, which the readers show.
//!
//! `oms demo` and the tests use them: no real shop is reachable from either.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::{amazon, shopify, warehouse, woocommerce, Destinations};
use oms_channels::signature;
use oms_domain::order::Channel;

const WAREHOUSE_SECRET: &str = "fake-warehouse-secret";
const PAYMENTS_SECRET: &str = "fake-payments-secret";
const SHOPIFY_TOKEN: &str = "shpat_fake";
const WOO_KEY: &str = "ck_fake";
const WOO_SECRET: &str = "cs_fake";
const AMAZON_MARKETPLACE: &str = "ATVPDKIKX0DER";
const AMAZON_REFRESH: &str = "Atzr|fake-refresh";
const AMAZON_ACCESS: &str = "Atza|fake-access";

/// A request the fake warehouse took.
#[derive(Debug, Clone, PartialEq)]
pub struct WarehouseRequest {
    pub warehouse: String,
    pub request_id: String,
    pub event: String,
    pub body: Value,
}

#[derive(Debug, Default)]
struct ShopifyOrder {
    /// (line item id, SKU, quantity).
    lines: Vec<(u64, String, u32)>,
    fulfilled: BTreeMap<u64, u32>,
    fulfillments: Vec<Value>,
}

#[derive(Debug, Default)]
struct WooOrder {
    status: String,
    notes: Vec<String>,
}

#[derive(Debug, Default)]
struct AmazonOrder {
    /// (order item id, seller SKU, quantity ordered).
    items: Vec<(String, String, u32)>,
    packages: BTreeMap<String, Value>,
}

#[derive(Debug, Default)]
struct World {
    warehouse: Vec<WarehouseRequest>,
    /// The refunds the payment system took, by request id once.
    refunds: Vec<(String, Value)>,
    shopify: BTreeMap<String, ShopifyOrder>,
    woo: BTreeMap<String, WooOrder>,
    amazon: BTreeMap<String, AmazonOrder>,
    problems: Vec<String>,
    /// How many requests to answer 503 before serving again.
    unavailable: u32,
    /// How many times Amazon's access tokens were revoked: the current token names it.
    amazon_revoked: u32,
}

/// The fakes, serving until dropped.
#[derive(Debug)]
pub struct Fakes {
    addr: SocketAddr,
    world: Arc<Mutex<World>>,
    server: tokio::task::JoinHandle<()>,
    warehouses: Vec<String>,
}

impl Drop for Fakes {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Shared = Arc<Mutex<World>>;

fn lock(world: &Shared) -> std::sync::MutexGuard<'_, World> {
    world.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Fakes {
    /// Starts the fakes on a free loopback port, with a fulfilment endpoint for each of
    /// `warehouses`.
    pub async fn start(warehouses: &[&str]) -> std::io::Result<Fakes> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let world: Shared = Arc::default();
        let app = Router::new().fallback(handle).with_state(world.clone());
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(error = %err, "the fakes stopped");
            }
        });
        Ok(Fakes { addr, world, server, warehouses: warehouses.iter().map(|w| (*w).to_owned()).collect() })
    }

    /// The destinations that point at these fakes, with the credentials they accept: the
    /// three shops of each of `merchants`.
    pub fn destinations(&self, merchants: &[&str]) -> Destinations {
        let base = format!("http://{}", self.addr);
        let warehouses = self
            .warehouses
            .iter()
            .map(|w| {
                let endpoint = warehouse::Endpoint { url: format!("{base}/warehouse/{w}"), secret: WAREHOUSE_SECRET.into() };
                (w.clone(), endpoint)
            })
            .collect();
        let shopify = shopify::Shop {
            url: format!("{base}/shopify"),
            access_token: SHOPIFY_TOKEN.into(),
            api_version: shopify::DEFAULT_API_VERSION.into(),
        };
        let woocommerce = woocommerce::Shop {
            url: format!("{base}/woocommerce"),
            consumer_key: WOO_KEY.into(),
            consumer_secret: WOO_SECRET.into(),
        };
        let amazon = amazon::Seller {
            url: format!("{base}/amazon"),
            marketplace_id: AMAZON_MARKETPLACE.into(),
            lwa: Some(amazon::Lwa {
                token_url: format!("{base}/amazon/auth/o2/token"),
                client_id: "amzn1.application-oa2-client.fake".into(),
                client_secret: "fake".into(),
                refresh_token: AMAZON_REFRESH.into(),
            }),
            access_token: None,
        };
        fn each<T: Clone>(merchants: &[&str], shop: &T) -> BTreeMap<String, T> {
            merchants.iter().map(|m| ((*m).to_owned(), shop.clone())).collect()
        }
        Destinations {
            warehouses,
            shopify: each(merchants, &shopify),
            woocommerce: each(merchants, &woocommerce),
            amazon: each(merchants, &amazon),
            payments: Some(warehouse::Endpoint { url: format!("{base}/payments"), secret: PAYMENTS_SECRET.into() }),
        }
    }

    /// The shop has order `id` with these line items: (line item id, SKU, quantity).
    pub fn seed_shopify(&self, id: &str, lines: &[(u64, &str, u32)]) {
        let lines = lines.iter().map(|(i, s, q)| (*i, (*s).to_owned(), *q)).collect();
        lock(&self.world).shopify.insert(id.to_owned(), ShopifyOrder { lines, ..Default::default() });
    }

    /// The store has order `id`, processing.
    pub fn seed_woocommerce(&self, id: &str) {
        lock(&self.world).woo.insert(id.to_owned(), WooOrder { status: "processing".into(), notes: vec![] });
    }

    /// Amazon has order `id` with these items: (order item id, seller SKU, quantity).
    pub fn seed_amazon(&self, id: &str, items: &[(&str, &str, u32)]) {
        let items = items.iter().map(|(i, s, q)| ((*i).to_owned(), (*s).to_owned(), *q)).collect();
        lock(&self.world).amazon.insert(id.to_owned(), AmazonOrder { items, ..Default::default() });
    }

    /// Answers the next `n` requests 503, as a destination that is down for a while.
    pub fn be_unavailable_for(&self, n: u32) {
        lock(&self.world).unavailable = n;
    }

    /// Revokes every Amazon access token handed out: calls with one are refused 403 until a
    /// new one is exchanged.
    pub fn revoke_amazon_tokens(&self) {
        lock(&self.world).amazon_revoked += 1;
    }

    /// What the warehouses took, in order (each request id once).
    pub fn warehouse_requests(&self) -> Vec<WarehouseRequest> {
        lock(&self.world).warehouse.clone()
    }

    /// The fulfillments the shop recorded for order `id`.
    pub fn shopify_fulfillments(&self, id: &str) -> Vec<Value> {
        lock(&self.world).shopify.get(id).map(|o| o.fulfillments.clone()).unwrap_or_default()
    }

    /// The store's order `id`: its status and notes.
    pub fn woocommerce_order(&self, id: &str) -> Option<(String, Vec<String>)> {
        lock(&self.world).woo.get(id).map(|o| (o.status.clone(), o.notes.clone()))
    }

    /// The packages confirmed for Amazon order `id`, by package reference id.
    pub fn amazon_packages(&self, id: &str) -> BTreeMap<String, Value> {
        lock(&self.world).amazon.get(id).map(|o| o.packages.clone()).unwrap_or_default()
    }

    /// The refunds the payment system took, in order (each request id once).
    pub fn refunds(&self) -> Vec<Value> {
        lock(&self.world).refunds.iter().map(|(_, body)| body.clone()).collect()
    }

    /// Every request a fake refused, and why.
    pub fn problems(&self) -> Vec<String> {
        lock(&self.world).problems.clone()
    }
}

/// The Amazon access token the fake accepts now.
fn amazon_token(world: &World) -> String {
    format!("{AMAZON_ACCESS}-{}", world.amazon_revoked)
}

/// A refusal as the API would answer it, kept among the problems.
fn refuse(world: &mut World, status: StatusCode, why: String) -> Response {
    world.problems.push(why.clone());
    (status, axum::Json(json!({"errors": why}))).into_response()
}

async fn handle(State(world): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut world = lock(&world);
    if world.unavailable > 0 {
        world.unavailable -= 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response();
    }
    let path: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    match path.as_slice() {
        ["warehouse", id] if method == Method::POST => warehouse_request(&mut world, id, &header, &body),
        ["payments"] if method == Method::POST => refund_request(&mut world, &header, &body),
        ["shopify", "admin", "api", _, rest @ ..] => {
            if header("x-shopify-access-token").as_deref() != Some(SHOPIFY_TOKEN) {
                return refuse(&mut world, StatusCode::UNAUTHORIZED, "shopify: a call without the shop's access token".into());
            }
            shopify_call(&mut world, &method, rest, &body)
        }
        ["woocommerce", "wp-json", "wc", "v3", "orders", id, rest @ ..] => {
            let expected =
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{WOO_KEY}:{WOO_SECRET}")));
            if header("authorization").as_deref() != Some(expected.as_str()) {
                return refuse(&mut world, StatusCode::UNAUTHORIZED, "woocommerce: a call without the REST API key".into());
            }
            woo_call(&mut world, &method, id, rest, &body)
        }
        ["amazon", "auth", "o2", "token"] if method == Method::POST => {
            let form = String::from_utf8_lossy(&body);
            let refresh = format!("refresh_token={}", AMAZON_REFRESH.replace('|', "%7C"));
            if !form.contains("grant_type=refresh_token") || !form.contains(&refresh) {
                return refuse(
                    &mut world,
                    StatusCode::BAD_REQUEST,
                    format!("login with amazon: not a refresh-token grant: {form}"),
                );
            }
            let token = amazon_token(&world);
            axum::Json(json!({"access_token": token, "token_type": "bearer", "expires_in": 3600})).into_response()
        }
        ["amazon", "orders", "v0", "orders", id, rest @ ..] => {
            if header("x-amz-access-token") != Some(amazon_token(&world)) {
                return refuse(&mut world, StatusCode::FORBIDDEN, "amazon: a call without a current access token".into());
            }
            amazon_call(&mut world, &method, id, rest, &body)
        }
        _ => refuse(&mut world, StatusCode::NOT_FOUND, format!("no such API: {method} {}", uri.path())),
    }
}

fn warehouse_request(world: &mut World, id: &str, header: &dyn Fn(&str) -> Option<String>, body: &[u8]) -> Response {
    if let Err(err) =
        signature::verify(Channel::Generic, WAREHOUSE_SECRET.as_bytes(), header(warehouse::SIGNATURE_HEADER).as_deref(), body)
    {
        return refuse(world, StatusCode::UNAUTHORIZED, format!("warehouse {id}: {err}"));
    }
    let (Some(request_id), Some(event)) = (header(warehouse::REQUEST_ID_HEADER), header(warehouse::EVENT_HEADER)) else {
        return refuse(world, StatusCode::BAD_REQUEST, format!("warehouse {id}: no request id or event header"));
    };
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return refuse(world, StatusCode::BAD_REQUEST, format!("warehouse {id}: the body is not JSON"));
    };
    let lines_ok = body["lines"].as_array().is_some_and(|lines| {
        !lines.is_empty() && lines.iter().all(|l| l["sku"].is_string() && l["quantity"].as_u64().is_some_and(|q| q > 0))
    });
    if body["event"] != json!(event) || body["warehouse"] != json!(id) || body["order_id"].as_str().is_none() || !lines_ok {
        return refuse(world, StatusCode::UNPROCESSABLE_ENTITY, format!("warehouse {id}: not a fulfilment message: {body}"));
    }
    if event == "fulfilment.requested" && body["ship_to"]["line1"].as_str().is_none() {
        return refuse(world, StatusCode::UNPROCESSABLE_ENTITY, format!("warehouse {id}: a request with no address"));
    }
    if world.warehouse.iter().any(|r| r.request_id == request_id) {
        return (StatusCode::CONFLICT, axum::Json(json!({"duplicate": request_id}))).into_response();
    }
    world.warehouse.push(WarehouseRequest { warehouse: id.to_owned(), request_id, event, body });
    (StatusCode::ACCEPTED, axum::Json(json!({"accepted": true}))).into_response()
}

/// The payment system's refund webhook: signed, one request id once (a repeat is 409), a
/// `refund.recorded` body naming the return and a refund of at least zero minor units.
fn refund_request(world: &mut World, header: &dyn Fn(&str) -> Option<String>, body: &[u8]) -> Response {
    if let Err(err) =
        signature::verify(Channel::Generic, PAYMENTS_SECRET.as_bytes(), header(warehouse::SIGNATURE_HEADER).as_deref(), body)
    {
        return refuse(world, StatusCode::UNAUTHORIZED, format!("payments: {err}"));
    }
    let Some(request_id) = header(warehouse::REQUEST_ID_HEADER) else {
        return refuse(world, StatusCode::BAD_REQUEST, "payments: no request id header".into());
    };
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return refuse(world, StatusCode::BAD_REQUEST, "payments: the body is not JSON".into());
    };
    let shaped = body["event"] == json!("refund.recorded")
        && header(warehouse::EVENT_HEADER).as_deref() == Some("refund.recorded")
        && body["return_id"].as_str().is_some()
        && body["currency"].as_str().is_some()
        && body["amount_minor"].as_i64().is_some_and(|a| a >= 0);
    if !shaped {
        return refuse(world, StatusCode::UNPROCESSABLE_ENTITY, format!("payments: not a refund: {body}"));
    }
    if world.refunds.iter().any(|(id, _)| *id == request_id) {
        return (StatusCode::CONFLICT, axum::Json(json!({"duplicate": request_id}))).into_response();
    }
    world.refunds.push((request_id, body));
    (StatusCode::ACCEPTED, axum::Json(json!({"accepted": true}))).into_response()
}

fn shopify_call(world: &mut World, method: &Method, rest: &[&str], body: &[u8]) -> Response {
    match (method, rest) {
        (&Method::GET, ["orders", id, "fulfillments.json"]) => match world.shopify.get(*id) {
            Some(o) => axum::Json(json!({"fulfillments": o.fulfillments})).into_response(),
            None => refuse(world, StatusCode::NOT_FOUND, format!("shopify: no order {id}")),
        },
        (&Method::GET, ["orders", file]) if file.ends_with(".json") => {
            let id = file.trim_end_matches(".json");
            match world.shopify.get(id) {
                Some(o) => {
                    let items: Vec<Value> = o.lines.iter().map(|(i, s, q)| json!({"id": i, "sku": s, "quantity": q})).collect();
                    axum::Json(json!({"order": {"line_items": items}})).into_response()
                }
                None => refuse(world, StatusCode::NOT_FOUND, format!("shopify: no order {id}")),
            }
        }
        (&Method::GET, ["orders", id, "fulfillment_orders.json"]) => match world.shopify.get(*id) {
            Some(o) => {
                let lines: Vec<Value> = o
                    .lines
                    .iter()
                    .map(|(i, _, q)| {
                        let left = q - o.fulfilled.get(i).copied().unwrap_or(0);
                        json!({"id": i + 1000, "line_item_id": i, "quantity": q, "fulfillable_quantity": left})
                    })
                    .collect();
                let done = lines.iter().all(|l| l["fulfillable_quantity"] == 0);
                let status = if done { "closed" } else { "open" };
                axum::Json(json!({"fulfillment_orders": [{"id": fo_id(id), "status": status, "line_items": lines}]}))
                    .into_response()
            }
            None => refuse(world, StatusCode::NOT_FOUND, format!("shopify: no order {id}")),
        },
        (&Method::POST, ["fulfillments.json"]) => shopify_fulfil(world, body),
        _ => refuse(world, StatusCode::NOT_FOUND, format!("shopify: no such call {method} {}", rest.join("/"))),
    }
}

/// The fake shop's one fulfillment order of order `id`.
fn fo_id(id: &str) -> u64 {
    id.parse::<u64>().unwrap_or(0) * 10 + 1
}

fn shopify_fulfil(world: &mut World, body: &[u8]) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return refuse(world, StatusCode::BAD_REQUEST, "shopify: the body is not JSON".into());
    };
    let f = &body["fulfillment"];
    let Some(number) = f["tracking_info"]["number"].as_str().filter(|n| !n.is_empty()) else {
        return refuse(world, StatusCode::UNPROCESSABLE_ENTITY, format!("shopify: no tracking_info.number: {body}"));
    };
    let Some(groups) = f["line_items_by_fulfillment_order"].as_array().filter(|g| !g.is_empty()) else {
        return refuse(world, StatusCode::UNPROCESSABLE_ENTITY, format!("shopify: no line_items_by_fulfillment_order: {body}"));
    };
    let mut taking: Vec<(String, u64, u32)> = Vec::new();
    for group in groups {
        let fo = group["fulfillment_order_id"].as_u64().unwrap_or(0);
        let Some(order) = world.shopify.keys().find(|id| fo_id(id) == fo).cloned() else {
            return refuse(world, StatusCode::UNPROCESSABLE_ENTITY, format!("shopify: no fulfillment order {fo}"));
        };
        for item in group["fulfillment_order_line_items"].as_array().into_iter().flatten() {
            let line = item["id"].as_u64().unwrap_or(0).saturating_sub(1000);
            let quantity = item["quantity"].as_u64().and_then(|q| u32::try_from(q).ok()).unwrap_or(0);
            let o = &world.shopify[&order];
            let left = o.lines.iter().find(|(i, _, _)| *i == line).map(|(i, _, q)| q - o.fulfilled.get(i).copied().unwrap_or(0));
            match left {
                Some(left) if quantity >= 1 && quantity <= left => taking.push((order.clone(), line, quantity)),
                _ => {
                    return refuse(
                        world,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("shopify: cannot fulfil {quantity} of line {line}"),
                    )
                }
            }
        }
    }
    let Some(order) = taking.first().map(|t| t.0.clone()) else {
        return refuse(world, StatusCode::UNPROCESSABLE_ENTITY, "shopify: a fulfillment of no line items".into());
    };
    let o = world.shopify.get_mut(&order).expect("found above");
    for (_, line, quantity) in &taking {
        *o.fulfilled.entry(*line).or_default() += quantity;
    }
    let fulfillment = json!({
        "id": o.fulfillments.len() + 1, "order_id": order, "status": "success", "tracking_number": number,
        "tracking_numbers": [number], "tracking_company": f["tracking_info"]["company"],
        "line_items": taking.iter().map(|(_, l, q)| json!({"id": l, "quantity": q})).collect::<Vec<_>>(),
    });
    o.fulfillments.push(fulfillment.clone());
    (StatusCode::CREATED, axum::Json(json!({"fulfillment": fulfillment}))).into_response()
}

fn woo_call(world: &mut World, method: &Method, id: &str, rest: &[&str], body: &[u8]) -> Response {
    if !world.woo.contains_key(id) {
        return refuse(world, StatusCode::NOT_FOUND, format!("woocommerce: no order {id}"));
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (method, rest) {
        (&Method::GET, ["notes"]) => {
            let notes: Vec<Value> = world.woo[id]
                .notes
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"id": i + 1, "note": n, "customer_note": true}))
                .collect();
            axum::Json(Value::Array(notes)).into_response()
        }
        (&Method::PUT, []) => {
            const STATUSES: [&str; 7] = ["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"];
            match body["status"].as_str() {
                Some(status) if STATUSES.contains(&status) => {
                    let order = world.woo.get_mut(id).expect("checked above");
                    order.status = status.to_owned();
                    axum::Json(json!({"id": id, "status": status})).into_response()
                }
                _ => refuse(world, StatusCode::BAD_REQUEST, format!("woocommerce: not an order status: {body}")),
            }
        }
        (&Method::POST, ["notes"]) => match (body["note"].as_str(), body["customer_note"].as_bool()) {
            (Some(note), Some(_)) if !note.trim().is_empty() => {
                let order = world.woo.get_mut(id).expect("checked above");
                order.notes.push(note.to_owned());
                (StatusCode::CREATED, axum::Json(json!({"id": order.notes.len(), "note": note}))).into_response()
            }
            _ => refuse(world, StatusCode::BAD_REQUEST, format!("woocommerce: a note needs note and customer_note: {body}")),
        },
        _ => refuse(world, StatusCode::NOT_FOUND, format!("woocommerce: no such call {method} {}", rest.join("/"))),
    }
}

fn amazon_call(world: &mut World, method: &Method, id: &str, rest: &[&str], body: &[u8]) -> Response {
    if !world.amazon.contains_key(id) {
        return refuse(world, StatusCode::NOT_FOUND, format!("amazon: no order {id}"));
    }
    match (method, rest) {
        (&Method::GET, ["orderItems"]) => {
            let items: Vec<Value> = world.amazon[id]
                .items
                .iter()
                .map(|(i, s, q)| json!({"OrderItemId": i, "SellerSKU": s, "QuantityOrdered": q}))
                .collect();
            axum::Json(json!({"payload": {"AmazonOrderId": id, "OrderItems": items}})).into_response()
        }
        (&Method::POST, ["shipmentConfirmation"]) => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            match confirmation_problem(&world.amazon[id], &body) {
                Some(why) => refuse(world, StatusCode::BAD_REQUEST, format!("amazon: {why}: {body}")),
                None => {
                    let package = body["packageDetail"].clone();
                    let reference = package["packageReferenceId"].as_str().unwrap_or_default().to_owned();
                    world.amazon.get_mut(id).expect("checked above").packages.insert(reference, package);
                    StatusCode::NO_CONTENT.into_response()
                }
            }
        }
        _ => refuse(world, StatusCode::NOT_FOUND, format!("amazon: no such call {method} {}", rest.join("/"))),
    }
}

/// What is wrong with a `confirmShipment` body, if anything.
fn confirmation_problem(order: &AmazonOrder, body: &Value) -> Option<String> {
    if body["marketplaceId"] != json!(AMAZON_MARKETPLACE) {
        return Some("marketplaceId is not the seller's".into());
    }
    let p = &body["packageDetail"];
    let positive = p["packageReferenceId"].as_str().and_then(|r| r.parse::<u64>().ok()).is_some_and(|r| r > 0);
    if !positive {
        return Some("packageReferenceId must be a positive number".into());
    }
    match p["carrierCode"].as_str() {
        None | Some("") => return Some("carrierCode is required".into()),
        Some("Other") if p["carrierName"].as_str().is_none_or(str::is_empty) => {
            return Some("carrierName is required when carrierCode is Other".into())
        }
        _ => {}
    }
    if p["trackingNumber"].as_str().is_none_or(str::is_empty) {
        return Some("trackingNumber is required".into());
    }
    if p["shipDate"].as_str().and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok()).is_none() {
        return Some("shipDate must be an ISO 8601 date-time".into());
    }
    let Some(items) = p["orderItems"].as_array().filter(|i| !i.is_empty()) else {
        return Some("orderItems must list at least one item".into());
    };
    for item in items {
        let known = order.items.iter().find(|(i, _, _)| item["orderItemId"].as_str() == Some(i.as_str()));
        let quantity = item["quantity"].as_u64().unwrap_or(0);
        match known {
            Some((_, _, ordered)) if quantity >= 1 && quantity <= u64::from(*ordered) => {}
            _ => return Some(format!("order item {} cannot ship {quantity}", item["orderItemId"])),
        }
    }
    None
}
