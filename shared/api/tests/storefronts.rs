//! Storefronts through the router `oms serve` hosts, on the embedded store: the platform
//! publishes a template; an approved merchant drafts its store, previews it and publishes
//! it; buyers' storefront backends read the published store (JSON and page) and never the
//! draft; two editors racing on one version leave one edit; a withdrawn template refuses
//! publication; who may do what; and bad input of every kind refused with a clear JSON
//! error and nothing stored.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, UnsignedPolicy};
use oms_domain::catalogue::SkuFacts;
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::stock::Warehouse;
use oms_domain::{MerchantId, Sku, WarehouseId};

const MERCHANT: &str = "m1-operator-token-0001";
const OTHER: &str = "m2-operator-token-0001";
const SHOP: &str = "m2-storefront-token-01";
const ADMIN: &str = "platform-admin-token-01";
/// Platform staff acting for any merchant (not an administrator).
const STAFF: &str = "platform-staff-token-01";
const MERCHANT_ADMIN: &str = "m1-admin-scope-token-1";
const READ_ONLY: &str = "m1-read-only-token-001";

struct App {
    router: Router,
    ports: Ports,
}

async fn app() -> App {
    let (_, ports) = support::store(Arc::new(SystemClock));
    let operator = ["oms/inventory.write", "oms/orders.read", "oms/orders.write"];
    let grants = json!([
        { "token": MERCHANT, "merchant_id": "m-1", "scopes": operator },
        { "token": OTHER, "merchant_id": "m-2", "scopes": operator },
        { "token": SHOP, "merchant_id": "m-2", "scopes": ["oms/storefront"] },
        { "token": ADMIN, "scopes": ["oms/platform", "oms/admin"] },
        { "token": STAFF, "scopes": ["oms/platform", "oms/orders.write", "oms/orders.read"] },
        { "token": MERCHANT_ADMIN, "merchant_id": "m-1", "scopes": ["oms/admin", "oms/orders.write"] },
        { "token": READ_ONLY, "merchant_id": "m-1", "scopes": ["oms/orders.read"] },
    ]);
    let router = routes::all(AppState { unsigned: UnsignedPolicy::Accept, ..support::state(&ports, &grants) });
    App { router, ports }
}

/// One request: its status, headers and body text.
async fn raw(
    router: &Router,
    token: Option<&str>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response =
        router.clone().oneshot(request.body(Body::from(body.to_owned())).expect("a request")).await.expect("infallible");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, headers, String::from_utf8(bytes.to_vec()).expect("text"))
}

async fn call(router: &Router, token: Option<&str>, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let (status, _, text) = raw(router, token, method, path, &[], body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

fn merchant(id: &str) -> MerchantId {
    MerchantId::parse(id).expect("a merchant id")
}

/// A SKU of `owner` in the catalogue, with `on_hand` units in its warehouse.
async fn listed(ports: &Ports, owner: &str, sku: &str, name: &str, price: &str, on_hand: u32) {
    let facts = SkuFacts {
        sku: Sku::parse(sku).expect("a sku"),
        merchant_id: merchant(owner),
        name: name.to_owned(),
        category: "tea".to_owned(),
        cost: Decimal::ONE,
        list_price: price.parse().expect("a price"),
        weight_g: 100,
        dims_mm: [10, 10, 10],
        traits: vec![],
        reorder_point: None,
        reorder_quantity: None,
    };
    ports.catalogue.put_sku(&facts).await.expect("put sku");
    let warehouse = WarehouseId::parse(format!("wh-{owner}")).expect("a warehouse id");
    let wh = Warehouse {
        warehouse_id: warehouse.clone(),
        name: "Hangzhou".into(),
        merchant_id: merchant(owner),
        province: "Zhejiang".into(),
        city: "Hangzhou".into(),
        lat: 30.27,
        lon: 120.15,
        serves: vec![],
    };
    let _ = ports.warehouses.put_warehouse(&wh).await.expect("put warehouse");
    let _ = ports.inventory.set_on_hand(&warehouse, &merchant(owner), &facts.sku, on_hand).await.expect("stock");
}

fn template_body(version: u32, status: &str) -> String {
    json!({
        "name": "Classic",
        "sections": ["hero_banner", "featured_grid", "promoted", "about"],
        "theme": {"primary": "#8B0000", "background": "#fffaf0"},
        "version": version,
        "status": status,
    })
    .to_string()
}

fn draft_body(name: &str) -> Value {
    json!({
        "template": "classic",
        "name": name,
        "introduction": "Longjing from West Lake <b>since 1990</b>",
        "logo": "https://img.example.com/logo.png",
        "banners": ["https://img.example.com/banner-1.jpg"],
        "featured": ["TEA-1", "TEA-2"],
        "promoted": ["TEA-2"],
    })
}

/// The platform's template, merchant m-1 approved with two SKUs (one in stock), m-2
/// approved with one of its own.
async fn scene() -> App {
    let app = app().await;
    let (status, answer) =
        call(&app.router, Some(ADMIN), "PUT", "/storefront-templates/classic", &template_body(1, "published")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    support::onboarded(&app.ports, "m-1", true).await;
    support::onboarded(&app.ports, "m-2", true).await;
    listed(&app.ports, "m-1", "TEA-1", "Longjing 250g", "88.00", 10).await;
    listed(&app.ports, "m-1", "TEA-2", "Biluochun 100g", "45.50", 0).await;
    listed(&app.ports, "m-2", "CUP-1", "Celadon cup", "30.00", 3).await;
    app
}

#[tokio::test]
async fn an_approved_merchant_drafts_previews_and_publishes_and_buyers_see_only_the_published_store() {
    let app = scene().await;
    let r = &app.router;
    let (status, _) = call(r, Some(SHOP), "GET", "/stores/m-1", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, headers, text) =
        raw(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &[], &draft_body("West Lake Tea").to_string()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["etag"], "\"1\"");
    let draft: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["profile"]["featured"], json!(["TEA-1", "TEA-2"]));

    let (status, answer) = call(r, Some(SHOP), "GET", "/stores/m-1", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "store_not_published"), "a draft is never shown");

    let (status, headers, page) = raw(r, Some(MERCHANT), "GET", "/stores/m-1/preview", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.contains("Preview of draft version 1"), "{page}");
    assert!(page.contains("&lt;b&gt;since 1990&lt;/b&gt;"), "the introduction is escaped: {page}");

    let (status, published) = call(r, Some(MERCHANT), "POST", "/stores/m-1/publish", "").await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["draft_version"], 1);

    let (status, store) = call(r, Some(SHOP), "GET", "/stores/m-1", "").await;
    assert_eq!(status, StatusCode::OK, "{store}");
    assert_eq!(store["name"], "West Lake Tea");
    assert_eq!(store["template"]["theme"]["primary"], "#8b0000");
    let featured = store["featured"].as_array().unwrap();
    assert_eq!(
        featured[0],
        json!({"sku": "TEA-1", "name": "Longjing 250g", "list_price": "88.00", "rating": {"count": 0, "poor": false}, "in_stock": true})
    );
    assert_eq!((featured[1]["sku"].as_str(), featured[1]["in_stock"].as_bool()), (Some("TEA-2"), Some(false)));

    // The page, by Accept or by ?format=html.
    for (path, headers) in
        [("/stores/m-1", vec![("accept", "text/html,application/xhtml+xml")]), ("/stores/m-1?format=html", vec![])]
    {
        let (status, headers, page) = raw(r, Some(SHOP), "GET", path, &headers, "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("img-src https:"));
        for part in
            ["West Lake Tea", "Longjing 250g", "88.00", "In stock", "Out of stock", "https://img.example.com/banner-1.jpg"]
        {
            assert!(page.contains(part), "{part} in {page}");
        }
        assert!(!page.contains("Preview"), "the published page is no preview");
    }

    // An edit is invisible until published again.
    let mut body = draft_body("West Lake Tea House");
    body["version"] = json!(1);
    let (status, draft) = call(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &body.to_string()).await;
    assert_eq!((status, draft["version"].as_u64()), (StatusCode::OK, Some(2)), "{draft}");
    let (_, store) = call(r, Some(SHOP), "GET", "/stores/m-1", "").await;
    assert_eq!(store["name"], "West Lake Tea");
    let (status, _) = call(r, Some(MERCHANT), "POST", "/stores/m-1/publish", "").await;
    assert_eq!(status, StatusCode::OK);
    let (_, store) = call(r, Some(SHOP), "GET", "/stores/m-1", "").await;
    assert_eq!((store["name"].as_str(), store["draft_version"].as_u64()), (Some("West Lake Tea House"), Some(2)));

    // Unpublished: gone for buyers, the draft stays; twice is no error.
    let (status, answer) = call(r, Some(MERCHANT), "POST", "/stores/m-1/unpublish", "").await;
    assert_eq!((status, answer["was_published"].as_bool()), (StatusCode::OK, Some(true)));
    let (status, answer) = call(r, Some(MERCHANT), "POST", "/stores/m-1/unpublish", "").await;
    assert_eq!((status, answer["was_published"].as_bool()), (StatusCode::OK, Some(false)));
    let (status, answer) = call(r, Some(SHOP), "GET", "/stores/m-1", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "store_not_published"));
    let (status, draft) = call(r, Some(READ_ONLY), "GET", "/stores/m-1/draft", "").await;
    assert_eq!((status, draft["version"].as_u64()), (StatusCode::OK, Some(2)));
}

#[tokio::test]
async fn two_editors_of_one_version_leave_one_edit_and_a_retry_of_the_winner_answers_it() {
    let app = scene().await;
    let r = &app.router;
    let (status, _) = call(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &draft_body("Start").to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let first = draft_body("Editor A").to_string();
    let (status, _, text) = raw(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &[("if-match", "\"1\"")], &first).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let second = draft_body("Editor B").to_string();
    let (status, _, text) = raw(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &[("if-match", "\"1\"")], &second).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, "draft_version_conflict"), "{answer}");
    // A's request again (its answer lost): the same edit, answered as saved.
    let (status, _, text) = raw(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &[("if-match", "W/\"1\"")], &first).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (_, draft) = call(r, Some(MERCHANT), "GET", "/stores/m-1/draft", "").await;
    assert_eq!((draft["profile"]["name"].as_str(), draft["version"].as_u64()), (Some("Editor A"), Some(2)));
    // A first draft sent again when one exists is a conflict too.
    let (status, answer) = call(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &draft_body("Again").to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, "draft_version_conflict"));
    // If-Match and the body's version disagreeing, or a bad If-Match.
    let mut body = draft_body("X");
    body["version"] = json!(5);
    let (status, _, text) = raw(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &[("if-match", "\"2\"")], &body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let (status, _, _) = raw(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &[("if-match", "*")], &first).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn publication_needs_an_approved_merchant_and_a_template_not_withdrawn() {
    let app = scene().await;
    let r = &app.router;
    // A merchant registered but not approved drafts, and may not publish.
    support::onboarded(&app.ports, "m-3", false).await;
    listed(&app.ports, "m-3", "INK-1", "Ink stone", "120", 1).await;
    let (status, answer) = call(
        r,
        Some(STAFF),
        "PUT",
        "/stores/m-3/draft",
        &json!({"template": "classic", "name": "Ink", "featured": ["INK-1"]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = call(r, Some(STAFF), "POST", "/stores/m-3/publish", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, "merchant_not_approved"), "{answer}");
    // No onboarding record: no storefront.
    let (status, answer) =
        call(r, Some(STAFF), "PUT", "/stores/m-9/draft", &json!({"template": "classic", "name": "Nine"}).to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "merchant_not_found"));
    // Nothing drafted: nothing to publish.
    let (status, answer) = call(r, Some(OTHER), "POST", "/stores/m-2/publish", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "draft_not_found"));

    // Withdrawn after the draft was saved: publication refused, the published store stays.
    let (status, _) = call(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &draft_body("Tea").to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(r, Some(MERCHANT), "POST", "/stores/m-1/publish", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = call(r, Some(ADMIN), "PUT", "/storefront-templates/classic", &template_body(2, "withdrawn")).await;
    assert_eq!((status, answer["status"].as_str()), (StatusCode::OK, Some("withdrawn")));
    let (status, answer) = call(r, Some(MERCHANT), "POST", "/stores/m-1/publish", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, "template_withdrawn"), "{answer}");
    let (status, _) = call(r, Some(SHOP), "GET", "/stores/m-1", "").await;
    assert_eq!(status, StatusCode::OK, "stores published before stay");
    let mut body = draft_body("Tea");
    body["version"] = json!(1);
    let (status, answer) = call(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &body.to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, "template_withdrawn"));
    let (_, listed) = call(r, Some(MERCHANT), "GET", "/storefront-templates", "").await;
    assert_eq!(listed["templates"], json!([]), "a withdrawn template is not offered");
}

#[tokio::test]
async fn templates_are_platform_administration_and_change_by_version() {
    let app = app().await;
    let r = &app.router;
    for token in [MERCHANT, MERCHANT_ADMIN] {
        let (status, answer) = call(r, Some(token), "PUT", "/storefront-templates/classic", &template_body(1, "published")).await;
        assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, "forbidden"), "{token}");
    }
    let (status, _) = call(r, None, "GET", "/storefront-templates", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, stored) = call(r, Some(ADMIN), "PUT", "/storefront-templates/classic", &template_body(1, "published")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, again) = call(r, Some(ADMIN), "PUT", "/storefront-templates/classic", &template_body(1, "published")).await;
    assert_eq!((status, &again["updated_at"]), (StatusCode::OK, &stored["updated_at"]), "a retry answers it as stored");
    let (status, answer) = call(r, Some(ADMIN), "PUT", "/storefront-templates/classic", &template_body(1, "withdrawn")).await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, "template_version_conflict"));
    let (status, listed) = call(r, Some(SHOP), "GET", "/storefront-templates", "").await;
    assert_eq!(
        (status, listed["templates"][0]["sections"].clone()),
        (StatusCode::OK, json!(["hero_banner", "featured_grid", "promoted", "about"]))
    );

    let bad = [
        ("/storefront-templates/Classic!", template_body(1, "published"), "id"),
        ("/storefront-templates/c", "{".to_owned(), ""),
        ("/storefront-templates/c", "[]".to_owned(), ""),
        ("/storefront-templates/c", json!({"name": "C", "sections": ["sidebar"], "theme": {"primary": "#000000", "background": "#ffffff"}, "version": 1}).to_string(), "sections[0]"),
        ("/storefront-templates/c", json!({"name": "C", "sections": ["about"], "theme": {"primary": "red", "background": "#ffffff"}, "version": 1}).to_string(), "theme.primary"),
        ("/storefront-templates/c", json!({"name": "C", "sections": ["about"], "theme": {"primary": "#000000", "background": "#ffffff"}, "version": -1}).to_string(), "version"),
        ("/storefront-templates/c", json!({"name": "C", "sections": ["about"], "theme": {"primary": "#000000", "background": "#ffffff"}, "version": 0}).to_string(), "version"),
        ("/storefront-templates/c", json!({"name": "C", "sections": "about", "theme": {"primary": "#000000", "background": "#ffffff"}, "version": 1}).to_string(), "sections"),
        ("/storefront-templates/c", json!({"name": "C", "sections": ["about"], "theme": {"primary": "#000000", "background": "#ffffff"}, "version": 1, "status": "draft"}).to_string(), "status"),
        ("/storefront-templates/c", json!({"name": "C", "sections": ["about"], "theme": {"primary": "#000000", "background": "#ffffff"}, "version": 1, "colour": 1}).to_string(), ""),
    ];
    for (path, body, field) in bad {
        let (status, answer) = call(r, Some(ADMIN), "PUT", path, &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "invalid_request"), "{body}: {answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{body}");
        }
    }
    let (_, listed) = call(r, Some(SHOP), "GET", "/storefront-templates", "").await;
    assert_eq!(listed["templates"].as_array().map(Vec::len), Some(1), "nothing stored from a refusal");
}

#[tokio::test]
async fn a_merchant_works_on_its_own_store_only() {
    let app = scene().await;
    let r = &app.router;
    let (status, _) = call(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &draft_body("Tea").to_string()).await;
    assert_eq!(status, StatusCode::OK);
    for (method, path) in [
        ("GET", "/stores/m-1/draft"),
        ("GET", "/stores/m-1/preview"),
        ("POST", "/stores/m-1/publish"),
        ("POST", "/stores/m-1/unpublish"),
    ] {
        let (status, answer) = call(r, Some(OTHER), method, path, "").await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "draft_not_found"), "{method} {path}");
    }
    let (status, answer) = call(r, Some(OTHER), "PUT", "/stores/m-1/draft", &draft_body("Mine now").to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "draft_not_found"));
    // Scopes: reading is not writing; a storefront backend reads no draft; a shop reads.
    let (status, _) = call(r, Some(READ_ONLY), "POST", "/stores/m-1/publish", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(r, Some(SHOP), "GET", "/stores/m-2/draft", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(r, Some(MERCHANT), "GET", "/stores/m-1", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the published store is read with oms/storefront");
    let (status, _) = call(r, None, "GET", "/stores/m-1", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, draft) = call(r, Some(MERCHANT), "GET", "/stores/m-1/draft", "").await;
    assert_eq!(draft["profile"]["name"], "Tea", "the other merchant changed nothing");
}

#[tokio::test]
async fn bad_drafts_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = scene().await;
    let r = &app.router;
    let with = |change: Value| {
        let mut body = draft_body("Tea");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        body.to_string()
    };
    let cases: Vec<(String, StatusCode, &str, &str)> = vec![
        ("{".into(), StatusCode::BAD_REQUEST, "invalid_request", ""),
        ("\"a string\"".into(), StatusCode::BAD_REQUEST, "invalid_request", ""),
        (String::new(), StatusCode::BAD_REQUEST, "invalid_request", ""),
        (with(json!({"name": 7})), StatusCode::BAD_REQUEST, "invalid_request", "name"),
        (with(json!({"name": "  "})), StatusCode::BAD_REQUEST, "invalid_request", "name"),
        (with(json!({"name": "x".repeat(81)})), StatusCode::BAD_REQUEST, "invalid_request", "name"),
        (with(json!({"introduction": "x".repeat(2001)})), StatusCode::BAD_REQUEST, "invalid_request", "introduction"),
        (
            with(json!({"banners": vec!["https://img.example.com/b.jpg"; 6]})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "banners",
        ),
        (with(json!({"banners": ["http://img.example.com/b.jpg"]})), StatusCode::BAD_REQUEST, "invalid_request", "banners[0]"),
        (
            with(json!({"logo": format!("https://img.example.com/{}", "a".repeat(2048))})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "logo",
        ),
        (with(json!({"logo": "javascript:alert(1)"})), StatusCode::BAD_REQUEST, "invalid_request", "logo"),
        (with(json!({"featured": "TEA-1"})), StatusCode::BAD_REQUEST, "invalid_request", "featured"),
        (
            with(json!({"featured": (0..13).map(|i| format!("S-{i}")).collect::<Vec<_>>()})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "featured",
        ),
        (with(json!({"featured": ["TEA-1", "TEA-1"]})), StatusCode::BAD_REQUEST, "invalid_request", "featured[1]"),
        (with(json!({"version": -1})), StatusCode::BAD_REQUEST, "invalid_request", "version"),
        (with(json!({"version": 1e30})), StatusCode::BAD_REQUEST, "invalid_request", "version"),
        (with(json!({"theme": "dark"})), StatusCode::BAD_REQUEST, "invalid_request", ""),
        (with(json!({"template": "nope"})), StatusCode::UNPROCESSABLE_ENTITY, "unknown_template", ""),
        (with(json!({"featured": ["NOPE-1"]})), StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku", "featured"),
        (with(json!({"promoted": ["CUP-1"]})), StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku", "promoted"),
    ];
    for (body, status, want, field) in cases {
        let (got, answer) = call(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &body).await;
        assert_eq!((got, code(&answer)), (status, want), "{}: {answer}", &body[..body.len().min(120)]);
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{}", &body[..body.len().min(120)]);
        }
    }
    let (status, answer) = call(r, Some(MERCHANT), "GET", "/stores/m-1/draft", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "draft_not_found"), "nothing stored");
    // A template without a section for a part the draft fills.
    let narrow =
        json!({"name": "Bare", "sections": ["about"], "theme": {"primary": "#000000", "background": "#ffffff"}, "version": 1});
    let (status, _) = call(r, Some(ADMIN), "PUT", "/storefront-templates/bare", &narrow.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = call(r, Some(MERCHANT), "PUT", "/stores/m-1/draft", &with(json!({"template": "bare"}))).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("banners")), "{answer}");
    // A bad format of the public read.
    let (status, _) = call(r, Some(SHOP), "GET", "/stores/m-1?format=xml", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
