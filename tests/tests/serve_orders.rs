//! The order routes of `oms serve`, end to end over real HTTP: the happy path, lookups,
//! cancel, and every kind of bad input (a JSON error, and nothing stored).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use oms_tests::{generic_order, spawn_app, TestApp};

async fn app_with_stock(dir: &tempfile::TempDir) -> TestApp {
    let app = spawn_app(dir.path()).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 10).await;
    app
}

fn assert_error(answer: &oms_tests::Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.body["error"]["code"], code, "{:?}", answer.body);
    assert!(answer.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{:?}", answer.body);
}

#[tokio::test]
async fn health_answers_ok() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    let answer = app.get("/health").await;
    assert_eq!((answer.status, answer.body), (StatusCode::OK, json!({"status": "ok"})));
}

#[tokio::test]
async fn a_signed_generic_order_is_received_allocated_and_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let answer = app.post_order(&generic_order("A-1001", "SKU-1", 2)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    assert_eq!(answer.body["status"], "received");
    assert_eq!(answer.body["duplicate"], false);
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();

    app.settle().await;
    let order = app.order(&order_id).await;
    assert_eq!(order["status"], "reserved");
    assert_eq!(order["channel"], "generic");
    assert_eq!(order["external_id"], "A-1001");
    assert_eq!(order["currency"], "CNY");
    assert_eq!(order["lines"], json!([{"sku": "SKU-1", "quantity": 2, "unit_price": "19.9"}]));
    assert_eq!(
        order["allocation"]["lines"],
        json!([{"warehouse": "wh-hz", "merchant_id": "m-1", "sku": "SKU-1", "quantity": 2}])
    );
    let statuses: Vec<&str> = order["timeline"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["received", "allocated", "reserved"]);
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 2, 8));
}

#[tokio::test]
async fn second_delivery_of_the_same_order_returns_the_first_order() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let first = app.post_order(&generic_order("A-1", "SKU-1", 1)).await;
    let second = app.post_order(&generic_order("A-1", "SKU-1", 1)).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["duplicate"], true);
    assert_eq!(second.body["order_id"], first.body["order_id"]);
    app.settle().await;
    assert_eq!(app.orders_with_external_id("A-1").await, 1);
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 1, 9));
}

#[tokio::test]
async fn an_order_larger_than_any_stock_is_backordered() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let answer = app.post_order(&generic_order("A-2", "SKU-1", 11)).await;
    app.settle().await;
    let order = app.order(answer.body["order_id"].as_str().unwrap()).await;
    assert_eq!(order["status"], "backordered");
    assert!(order["timeline"][1]["detail"].as_str().unwrap().contains("SKU-1"), "{order}");
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 0, 10));
}

#[tokio::test]
async fn an_order_is_split_across_warehouses_only_when_no_single_one_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    app.stock("wh-sh", "Shanghai", "SKU-1", 5).await;
    let answer = app.post_order(&generic_order("A-3", "SKU-1", 12)).await;
    app.settle().await;
    let order = app.order(answer.body["order_id"].as_str().unwrap()).await;
    assert_eq!(order["status"], "reserved");
    assert_eq!(order["allocation"]["lines"].as_array().unwrap().len(), 2, "{order}");
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 10, 0));
    assert_eq!(app.counts("wh-sh", "SKU-1").await, (5, 2, 3));
}

#[tokio::test]
async fn orders_are_found_by_customer_phone_channel_and_external_id() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let mut other = generic_order("B-1", "SKU-1", 1);
    other["customer"] = json!({"id": "c-2", "phone": "+86 139 0000 0000"});
    app.post_order(&generic_order("A-1", "SKU-1", 1)).await;
    app.post_order(&generic_order("A-2", "SKU-1", 1)).await;
    app.post_order(&other).await;

    let ids = |answer: oms_tests::Answer| -> Vec<String> {
        answer.body["orders"].as_array().unwrap().iter().map(|o| o["external_id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(app.get("/orders?merchant=m-1&customer=c-1").await), ["A-2", "A-1"], "newest first");
    assert_eq!(ids(app.get("/orders?merchant=m-1&phone=%2B8613900000000").await), ["B-1"]);
    assert_eq!(ids(app.get("/orders?merchant=m-1&channel=generic&external_id=A-2").await), ["A-2"]);
    assert_eq!(ids(app.get("/orders?merchant=m-1&order_number=A-2").await), ["A-2"], "a generic order's number is its id");
    assert_eq!(ids(app.get("/orders?merchant=m-1&customer=c-2&external_id=A-1").await), Vec::<String>::new());
    assert_eq!(ids(app.get("/orders?merchant=m-1&channel=generic").await).len(), 3);
    assert_eq!(ids(app.get("/orders?merchant=m-2&channel=generic").await).len(), 0, "another merchant's orders");
    assert_error(&app.get("/orders?merchant=m-1").await, StatusCode::BAD_REQUEST, "invalid_request");
    assert_error(&app.get("/orders?merchant=m-1&channel=fax").await, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn cancelling_a_reserved_order_gives_its_stock_back() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let answer = app.post_order(&generic_order("A-1", "SKU-1", 3)).await;
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 3, 7));

    let cancelled = app.post(&format!("/orders/{order_id}/cancel"), json!({"reason": "changed mind"})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 0, 10));

    let again = app.request(Method::POST, &format!("/orders/{order_id}/cancel"), None, &[]).await;
    assert_eq!((again.status, &again.body["status"]), (StatusCode::OK, &json!("cancelled")));
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 0, 10));
    assert_error(&app.post("/orders/ord_nope/cancel", json!({})).await, StatusCode::NOT_FOUND, "order_not_found");
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let body = generic_order("A-9", "SKU-1", 1).to_string().into_bytes();
    let path = "/channels/generic/orders";
    let forged =
        app.request(Method::POST, path, Some(body.clone()), &[("x-oms-signature", format!("sha256={}", "00".repeat(32)))]).await;
    assert_error(&forged, StatusCode::UNAUTHORIZED, "bad_signature");
    let missing = app.request(Method::POST, path, Some(body), &[]).await;
    assert_error(&missing, StatusCode::UNAUTHORIZED, "bad_signature");
    assert_eq!(app.orders_with_external_id("A-9").await, 0);
}

#[tokio::test]
async fn bad_order_bodies_get_a_400_naming_the_field_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let with = |pointer: &str, value: Value| {
        let mut order = generic_order("BAD-1", "SKU-1", 1);
        *order.pointer_mut(pointer).unwrap() = value;
        order
    };
    let cases = [
        (with("/lines/0/quantity", json!(0)), "lines[0].quantity"),
        (with("/lines/0/quantity", json!(-5)), "lines[0].quantity"),
        (with("/lines/0/quantity", json!(10_001)), "lines[0].quantity"),
        (with("/lines/0/quantity", json!(1e20)), "lines[0].quantity"),
        (with("/lines/0/quantity", json!("2")), "lines[0].quantity"),
        (with("/lines/0/unit_price", json!(19.9)), "lines[0].unit_price"),
        (with("/lines/0/unit_price", json!("-1.00")), "lines[0].unit_price"),
        (with("/lines/0/sku", Value::Null), "lines[0].sku"),
        (with("/lines", json!([])), "lines"),
        (with("/currency", json!("ZZZ")), "currency"),
        (with("/customer", json!("c-1")), "customer"),
        (with("/shipping_address/country", json!("China")), "shipping_address.country"),
    ];
    for (body, field) in cases {
        let answer = app.post_order(&body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(answer.body["error"]["field"], field, "{body}");
    }
    for raw in [&b"{\"external_id\": "[..], b"not json", b"[]", b""] {
        assert_error(&app.post_signed_bytes(raw.to_vec()).await, StatusCode::BAD_REQUEST, "invalid_request");
    }
    app.settle().await;
    assert_eq!(app.orders_with_external_id("BAD-1").await, 0);
}

#[tokio::test]
async fn an_order_for_an_unknown_sku_is_stored_on_hold_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let answer = app.post_order(&generic_order("U-1", "NO-SUCH-SKU", 1)).await;
    assert_eq!((answer.status, &answer.body["status"]), (StatusCode::ACCEPTED, &json!("on_hold")), "{:?}", answer.body);
    app.settle().await;
    let order = app.order(answer.body["order_id"].as_str().unwrap()).await;
    assert_eq!(order["status"], "on_hold");
    assert_eq!(order["hold"], json!({"reason": "unknown_sku", "sku": "NO-SUCH-SKU"}));
    assert_eq!(app.orders_with_external_id("U-1").await, 1);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let mut order = generic_order("BIG-1", "SKU-1", 1);
    order["padding"] = json!("x".repeat(300 * 1024));
    assert_error(&app.post_order(&order).await, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    assert_eq!(app.orders_with_external_id("BIG-1").await, 0);
}

#[tokio::test]
async fn unknown_channels_orders_and_routes_answer_404_json() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    assert_error(&app.post("/channels/fax/orders", json!({})).await, StatusCode::NOT_FOUND, "unknown_channel");
    assert_error(&app.get("/orders/ord_missing").await, StatusCode::NOT_FOUND, "order_not_found");
    assert_error(&app.get("/no/such/route").await, StatusCode::NOT_FOUND, "route_not_found");
    assert_error(&app.get("/orders/%FF").await, StatusCode::BAD_REQUEST, "invalid_request");
    assert_error(&app.request(Method::DELETE, "/orders", None, &[]).await, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn an_unsigned_channel_accepts_webhooks_locally() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    // The seller's own units: an order is planned only from its merchant's stock.
    for sku in ["AMZ-KETTLE-1L", "AMZ-FILTER-3PK"] {
        app.owned_stock("wh-1", "California", "A2SELLER7EXAMPLE", sku, 5).await;
    }
    // The test app signs every channel but amazon: an Amazon relay's order with no
    // signature header at all is taken in, as a signed one would be.
    let body = oms_tests::channel_fixture("amazon_order.json");
    let answer = app.request(Method::POST, "/channels/amazon/orders", Some(body), &[]).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    assert_eq!((&answer.body["status"], &answer.body["duplicate"]), (&json!("received"), &json!(false)));
    let order = app.order(answer.body["order_id"].as_str().unwrap()).await;
    assert_eq!((&order["channel"], &order["external_id"]), (&json!("amazon"), &json!("113-5539421-7261831")));
    assert_eq!(app.merchant_orders_with_external_id("A2SELLER7EXAMPLE", "113-5539421-7261831").await, 1);
}

#[tokio::test]
async fn an_order_is_modified_as_far_as_its_stage_allows_and_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let answer = app.post_order(&generic_order("M-1", "SKU-1", 20)).await;
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    assert_eq!(app.order(&order_id).await["status"], "backordered");

    // Backordered: the lines may still change, and the order is planned again.
    let patch = json!({"lines": [{"sku": "SKU-1", "quantity": 4, "unit_price": "19.90"}]});
    let answer = app.request(Method::PATCH, &format!("/orders/{order_id}"), Some(patch.to_string().into_bytes()), &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    app.settle().await;
    assert_eq!(app.order(&order_id).await["status"], "reserved");
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 4, 6));

    // Reserved: the address may change, the lines may not; asking for both changes nothing.
    let address = json!({"line1": "9 Lakeside Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN"});
    let both = json!({"shipping_address": address, "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "19.90"}]});
    let answer = app.request(Method::PATCH, &format!("/orders/{order_id}"), Some(both.to_string().into_bytes()), &[]).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "not_modifiable");
    assert_eq!(app.order(&order_id).await["shipping_address"]["line1"], "1 West Lake Rd");

    let only_address = json!({ "shipping_address": address });
    let answer =
        app.request(Method::PATCH, &format!("/orders/{order_id}"), Some(only_address.to_string().into_bytes()), &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["shipping_address"]["line1"], "9 Lakeside Rd");

    for bad in [json!({}), json!({"lines": [{"sku": "SKU-1", "quantity": 0, "unit_price": "1"}]}), json!({"colour": "red"})] {
        let answer = app.request(Method::PATCH, &format!("/orders/{order_id}"), Some(bad.to_string().into_bytes()), &[]).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let unknown = json!({"lines": [{"sku": "NO-SUCH", "quantity": 1, "unit_price": "1"}]});
    let answer = app.request(Method::PATCH, &format!("/orders/{order_id}"), Some(unknown.to_string().into_bytes()), &[]).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku");
    let answer = app.request(Method::PATCH, "/orders/ord_nope", Some(only_address.to_string().into_bytes()), &[]).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "order_not_found");
}

#[tokio::test]
async fn a_patch_with_an_address_line_over_200_characters_answers_422_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let answer = app.post_order(&generic_order("M-1", "SKU-1", 2)).await;
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    let before = app.order(&order_id).await;

    // Two such PATCHes of 200 KB each once made a 401 KB order, past DynamoDB's item limit.
    let long = "x".repeat(200 * 1024);
    let at_limit = "y".repeat(200);
    for (field, patch) in [
        ("shipping_address.line1", json!({"shipping_address": {"line1": long, "city": "Hangzhou", "country": "CN"}})),
        ("shipping_address.line1", json!({"shipping_address": {"line1": "y".repeat(201), "city": "Hangzhou", "country": "CN"}})),
        ("customer.name", json!({"customer": {"id": "c-1", "name": long}})),
    ] {
        let answer = app.request(Method::PATCH, &format!("/orders/{order_id}"), Some(patch.to_string().into_bytes()), &[]).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "field_too_long");
        assert_eq!(answer.body["error"]["field"], field);
        assert_eq!(app.order(&order_id).await, before, "nothing changes");
    }

    let patch = json!({"shipping_address": {"line1": at_limit, "city": "Hangzhou", "country": "CN"}});
    let answer = app.request(Method::PATCH, &format!("/orders/{order_id}"), Some(patch.to_string().into_bytes()), &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["shipping_address"]["line1"], at_limit);
}

#[tokio::test]
async fn a_cancel_reason_over_200_characters_answers_422_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let answer = app.post_order(&generic_order("M-1", "SKU-1", 2)).await;
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    let before = app.order(&order_id).await;

    let answer = app.post(&format!("/orders/{order_id}/cancel"), json!({"reason": "x".repeat(200 * 1024)})).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "field_too_long");
    assert_eq!(answer.body["error"]["field"], "reason");
    assert_eq!(app.order(&order_id).await, before, "nothing changes");

    let answer = app.post(&format!("/orders/{order_id}/cancel"), json!({"reason": "y".repeat(200)})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["status"], "cancelled");
}

#[tokio::test]
async fn oms_serve_describes_every_route_it_hosts_at_openapi_json() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    let answer = app.get("/openapi.json").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["openapi"], "3.1.0");
    let paths = answer.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/channels/{channel}/orders", "post"),
        ("/orders/{id}", "get"),
        ("/orders/{id}", "patch"),
        ("/inventory/{sku}", "get"),
        ("/warehouses/{id}", "put"),
        ("/quotes", "post"),
    ] {
        assert!(paths.get(path).is_some_and(|item| item.get(method).is_some()), "{method} {path} is described");
    }
    assert!(answer.body["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn a_lookup_by_customer_and_phone_finds_the_order_past_a_hundred_others() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let mut wanted = generic_order("C9-1", "SKU-1", 1);
    wanted["customer"] = json!({"id": "c-9", "phone": "+86 139 0000 0009"});
    assert_eq!(app.post_order(&wanted).await.status, StatusCode::ACCEPTED);
    // Newer orders of the same customer with another phone: more than one old FIND_LIMIT.
    for i in 0..105 {
        let mut other = generic_order(&format!("C9-X{i}"), "SKU-1", 1);
        other["customer"] = json!({"id": "c-9", "phone": "+86 138 0000 0000"});
        assert_eq!(app.post_order(&other).await.status, StatusCode::ACCEPTED);
    }
    let found = app.get("/orders?merchant=m-1&customer=c-9&phone=%2B8613900000009").await;
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    let ids: Vec<&str> = found.body["orders"].as_array().unwrap().iter().map(|o| o["external_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["C9-1"]);
    assert_eq!(found.body["next"], json!(null));
    let by_phone = app.get("/orders?merchant=m-1&phone=%2B8613900000009").await;
    assert_eq!(by_phone.body["orders"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn next_walks_every_page_of_a_lookup_once_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let mut posted = Vec::new();
    for i in 0..7 {
        let answer = app.post_order(&generic_order(&format!("P-{i}"), "SKU-1", 1)).await;
        posted.push(answer.body["order_id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut path = "/orders?merchant=m-1&customer=c-1&limit=3".to_owned();
    loop {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let orders = page.body["orders"].as_array().unwrap();
        sizes.push(orders.len());
        seen.extend(orders.iter().map(|o| o["order_id"].as_str().unwrap().to_owned()));
        match page.body["next"].as_str() {
            Some(next) => path = format!("/orders?merchant=m-1&customer=c-1&limit=3&cursor={next}"),
            None => break,
        }
    }
    posted.reverse();
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(seen, posted, "every order once, newest first");
}

#[tokio::test]
async fn a_bad_lookup_answers_400_with_the_json_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let answer = app.post_order(&generic_order("A-1", "SKU-1", 1)).await;
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    let before = app.order(&order_id).await;
    for path in [
        "/orders?merchant=m-1&customer=c-1&limit=0",
        "/orders?merchant=m-1&customer=c-1&limit=101",
        "/orders?merchant=m-1&customer=c-1&limit=-1",
        "/orders?merchant=m-1&customer=c-1&cursor=forged",
        "/orders?merchant=m-1&customer=c-1&cursor=bzE6aGVsbG8",
        "/orders?customer=c-1",
        "/orders?merchant=&customer=c-1",
    ] {
        let answer = app.get(path).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(answer.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{path}: {:?}", answer.body);
    }
    assert_eq!(app.order(&order_id).await, before, "a refused lookup changed the order");
    assert_eq!(app.orders_with_external_id("A-1").await, 1);
}

#[tokio::test]
async fn an_allocated_order_shows_the_carrier_chosen_for_its_shipment_and_a_shipment_sent_otherwise_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let tea = json!({"merchant_id": "m-1", "name": "Tea set", "category": "tea", "cost": "20", "list_price": "99",
                     "weight_g": 800, "dims_mm": [300, 200, 100], "traits": ["fragile"]});
    assert_eq!(app.put("/skus/SKU-1", tea).await.status, StatusCode::OK);
    // A cheap carrier that takes no fragile parcels, a dearer one that does.
    let band = |service: &str, price: &str, days: u32, handles: Value| {
        json!({"bands": [{"service": service, "max_distance_km": 3000, "max_weight_g": 5000, "price": price,
                          "transit_days": days, "handles": handles}]})
    };
    assert_eq!(app.put("/carriers/slow/rates", band("standard", "8.00", 4, json!([]))).await.status, StatusCode::OK);
    assert_eq!(app.put("/carriers/fast/rates", band("express", "15.00", 1, json!(["fragile"]))).await.status, StatusCode::OK);

    let mut order = generic_order("A-CARRIER", "SKU-1", 2);
    order["deliver_by"] = json!("2026-11-22");
    let answer = app.post_order(&order).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;

    let order = app.order(&order_id).await;
    assert_eq!((order["status"].as_str(), order["deliver_by"].as_str()), (Some("reserved"), Some("2026-11-22")));
    let shipments = order["allocation"]["shipments"].as_array().expect("the chosen carriers");
    assert_eq!(shipments.len(), 1, "{shipments:?}");
    let chosen = &shipments[0];
    assert_eq!(
        (&chosen["warehouse"], &chosen["carrier"], &chosen["service"], &chosen["price"], &chosen["transit_days"]),
        (&json!("wh-hz"), &json!("fast"), &json!("express"), &json!("15.00"), &json!(1)),
        "{chosen}"
    );
    assert!(chosen["why"].as_str().is_some_and(|why| why.starts_with("fast express: ")), "{chosen}");
    assert_eq!(
        chosen["runners_up"],
        json!([{"carrier": "slow", "service": "standard", "price": null, "transit_days": null, "why": "does not handle fragile"}])
    );

    // The warehouse ships with the other carrier: the timeline says which was planned.
    let ship = json!({"carrier": "slow", "tracking_number": "SLOW-1", "lines": [{"sku": "SKU-1", "quantity": 2}]});
    let answer = app.post(&format!("/orders/{order_id}/shipments"), ship).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let order = app.order(&order_id).await;
    let last = order["timeline"].as_array().unwrap().last().unwrap()["detail"].as_str().unwrap().to_owned();
    assert!(last.ends_with("by slow (SLOW-1): planned fast express, shipped with slow"), "{last}");
}

#[tokio::test]
async fn an_order_the_fraud_rules_hold_waits_for_staff_and_release_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 500).await;
    // A British phone for a Chinese address, and 150 units in a line: two rules, 70 points.
    let mut suspicious = generic_order("F-1", "SKU-1", 150);
    suspicious["customer"]["phone"] = json!("+447700900123");
    let answer = app.post_order(&suspicious).await;
    assert_eq!((answer.status, &answer.body["status"]), (StatusCode::ACCEPTED, &json!("on_hold")), "{:?}", answer.body);
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    let order = app.order(&order_id).await;
    assert_eq!(order["status"], "on_hold", "never allocated while held: {order}");
    assert_eq!((order["hold"]["reason"].as_str(), order["hold"]["score"].as_u64()), (Some("fraud_review"), Some(70)));
    let reasons = order["hold"]["reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r.as_str().unwrap().contains("+44 is GB")), "{order}");
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (500, 0, 500), "nothing held for it");

    let release = format!("/orders/{order_id}/release");
    for (body, code) in [
        (b"{not json".to_vec(), "invalid_request"),
        (br#"{"note": 5}"#.to_vec(), "invalid_request"),
        (br#"{"reason": "ok"}"#.to_vec(), "invalid_request"),
        (br#"[]"#.to_vec(), "invalid_request"),
    ] {
        let answer = app.request(Method::POST, &release, Some(body), &[("content-type", "application/json".into())]).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
    let long = app.post(&release, json!({"note": "x".repeat(201)})).await;
    assert_error(&long, StatusCode::UNPROCESSABLE_ENTITY, "field_too_long");
    assert_error(&app.post("/orders/ord_nope/release", json!({})).await, StatusCode::NOT_FOUND, "order_not_found");
    assert_eq!(app.order(&order_id).await["status"], "on_hold", "bad input changed nothing");

    let released = app.post(&release, json!({"note": "the school's bulk order, confirmed by phone"})).await;
    assert_eq!((released.status, &released.body["status"]), (StatusCode::OK, &json!("received")), "{:?}", released.body);
    app.settle().await;
    assert_eq!(app.order(&order_id).await["status"], "reserved");
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (500, 150, 350));
    assert_error(&app.post(&release, json!({})).await, StatusCode::CONFLICT, "not_on_hold");
}

#[tokio::test]
async fn an_order_prints_its_invoice_and_packing_list_escaped_and_refuses_what_it_has_not() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_stock(&dir).await;
    let mut order = generic_order("P-1", "SKU-1", 2);
    order["shipping_address"]["name"] = json!("<script>alert(1)</script> Li");
    let answer = app.post_order(&order).await;
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;

    let page = |path: String| {
        let client = app.client.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let response = client.get(url).send().await.expect("the server answers");
            let headers = response.headers().clone();
            (response.status(), headers, response.text().await.expect("a body"))
        }
    };
    let (status, headers, html) = page(format!("/orders/{order_id}/invoice")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(headers["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'; style-src 'sha256-"));
    assert!(html.contains("Invoice INV-P-1") && html.contains("39.80 CNY"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Li") && !html.contains("<script>"), "escaped: {html}");

    let invoice = app.get(&format!("/orders/{order_id}/invoice?format=json")).await;
    assert_eq!(invoice.status, StatusCode::OK);
    assert_eq!((&invoice.body["total"], &invoice.body["balance_due"]), (&json!("39.80"), &json!("0.00")), "{:?}", invoice.body);
    assert_eq!(invoice.body["lines"][0]["amount"], "39.80");
    assert_eq!(invoice.body["bill_to"]["address"]["city"], "Hangzhou", "no billing address: the shipping one");

    // Invoice details given at checkout are billed; bad ones refuse the order, storing nothing.
    let mut business = generic_order("P-3", "SKU-1", 1);
    business["customer"]["billing"] = json!({"company": "Acme <Trading>", "tax_id": "91330100ma27xyz", "address": {"line1": "1 Bund Rd", "city": "Shanghai", "country": "CN"}});
    let business_id = app.post_order(&business).await.body["order_id"].as_str().unwrap().to_owned();
    let billed = app.get(&format!("/orders/{business_id}/invoice?format=json")).await;
    let bill_to = &billed.body["bill_to"];
    assert_eq!((&bill_to["company"], &bill_to["tax_id"]), (&json!("Acme <Trading>"), &json!("91330100MA27XYZ")), "{bill_to}");
    assert_eq!(bill_to["address"]["city"], "Shanghai");
    let (_, _, html) = page(format!("/orders/{business_id}/invoice")).await;
    assert!(html.contains("Acme &lt;Trading&gt;") && html.contains("Tax number 91330100MA27XYZ"), "{html}");
    business["external_id"] = json!("P-4");
    business["customer"]["billing"]["tax_id"] = json!("12;34");
    let refused = app.post_order(&business).await;
    assert_eq!((refused.status, &refused.body["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("customer.billing.tax_id")));

    let (status, _, html) = page(format!("/orders/{order_id}/packing-list")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Parcel 1 of 1 from warehouse wh-hz"), "{html}");
    let list = app.get(&format!("/orders/{order_id}/packing-list?format=json")).await;
    assert_eq!(list.body["parcels"][0]["units"], 2, "{:?}", list.body);

    assert_error(&app.get(&format!("/orders/{order_id}/invoice?format=pdf")).await, StatusCode::BAD_REQUEST, "invalid_request");
    assert_error(&app.get("/orders/ord_nope/invoice").await, StatusCode::NOT_FOUND, "order_not_found");
    // On hold for a SKU nobody stocks: no plan, so nothing to pack.
    let held = app.post_order(&generic_order("P-2", "NOPE", 1)).await;
    let held_id = held.body["order_id"].as_str().unwrap().to_owned();
    assert_error(&app.get(&format!("/orders/{held_id}/packing-list")).await, StatusCode::UNPROCESSABLE_ENTITY, "not_planned");
    assert_eq!(app.post(&format!("/orders/{order_id}/cancel"), json!({})).await.status, StatusCode::OK);
    assert_error(&app.get(&format!("/orders/{order_id}/invoice")).await, StatusCode::UNPROCESSABLE_ENTITY, "not_invoiceable");
}
