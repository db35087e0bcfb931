//! `POST /quotes` through the router `oms serve` hosts, with a model trained on a small
//! history.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, ChannelSecrets, PricingModel, UnsignedPolicy};
use oms_domain::ports::SystemClock;
use oms_embedded::Embedded;
use oms_pricing::{Purchase, TrainOptions};

/// Two provinces, the far one 30 % dearer; a price break at 10 units.
fn history() -> Vec<Purchase> {
    (0..400)
        .map(|index: i64| {
            let far = index % 2 == 0;
            let quantity = (index % 17 + 1) as u32;
            let base = if quantity >= 10 { 80 } else { 100 };
            let price = if far { base * 13 / 10 } else { base };
            Purchase {
                customer_id: format!("c-{}", index % 7),
                sku: "SKU-1".into(),
                quantity,
                unit_price: Decimal::new(price, 0),
                purchased_at: chrono::DateTime::from_timestamp(1_790_000_000 + index * 3_600, 0).expect("a time"),
                province: if far { "Xinjiang" } else { "Zhejiang" }.into(),
                city: if far { "Urumqi" } else { "Hangzhou" }.into(),
                address: String::new(),
                merchant_id: None,
                currency: None,
            }
        })
        .collect()
}

fn router(pricing: PricingModel) -> Router {
    router_with(pricing, oms_api::Authenticator::Open).0
}

const M1_SHOP: &str = "merchant-one-storefront-token";
const M2_SHOP: &str = "merchant-two-storefront-token";

/// The router with `auth`, and the store behind it.
fn router_with(pricing: PricingModel, auth: oms_api::Authenticator) -> (Router, Embedded) {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let router = routes::all(AppState {
        ports: store.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth,
        pricing,
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    });
    (router, store)
}

fn storefront_tokens() -> oms_api::Authenticator {
    let grants = json!([
        { "token": M1_SHOP, "merchant_id": "m-1", "scopes": ["oms/storefront"] },
        { "token": M2_SHOP, "merchant_id": "m-2", "scopes": ["oms/storefront"] },
    ]);
    oms_api::Authenticator::Tokens(Arc::new(oms_api::TokenTable::from_json(&grants.to_string()).expect("the token list")))
}

/// m-1's model, trained on [`history`].
fn trained() -> PricingModel {
    let options = TrainOptions::new("v-test").for_merchant("m-1");
    let artifact = oms_pricing::train(history(), &options, &|_| ()).expect("a model");
    PricingModel::new(Some(artifact))
}

async fn post_quote(router: &Router, body: Value) -> (StatusCode, Value) {
    post_quote_as(router, None, body).await
}

async fn post_quote_as(router: &Router, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = Request::post("/quotes").header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Body::from(body.to_string())).expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("the body is read");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A quote's body as platform staff send it, naming m-1.
fn body(customer: &str, quantity: i64, province: &str, city: &str) -> Value {
    json!({"customer_id": customer, "sku": "SKU-1", "quantity": quantity, "province": province, "city": city,
           "merchant_id": "m-1"})
}

#[tokio::test]
async fn a_quote_answers_price_currency_model_version_algorithm_and_segment() {
    let router = router(trained());
    let (status, answer) = post_quote(&router, body("c-1", 2, "Zhejiang", "Hangzhou")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for field in ["price", "currency", "model_version", "algorithm", "segment"] {
        assert!(answer[field].is_string(), "{field} in {answer}");
    }
    assert_eq!(answer["model_version"], "v-test");
    let price: Decimal = answer["price"].as_str().and_then(|price| price.parse().ok()).expect("a decimal string");
    assert!(price > Decimal::new(90, 0) && price < Decimal::new(115, 0), "{answer}");
}

#[tokio::test]
async fn a_far_province_is_quoted_dearer_than_a_near_one() {
    let router = router(trained());
    let price = |answer: &Value| answer["price"].as_str().and_then(|price| price.parse::<Decimal>().ok()).expect("a price");
    let (_, near) = post_quote(&router, body("new-customer", 3, "Zhejiang", "Hangzhou")).await;
    let (_, far) = post_quote(&router, body("new-customer", 3, "Xinjiang", "Urumqi")).await;
    assert!(price(&far) > price(&near) * Decimal::new(115, 2), "near {near}, far {far}");
}

#[tokio::test]
async fn a_bad_quantity_is_refused_naming_the_field() {
    let router = router(trained());
    let (status, answer) = post_quote(&router, body("c-1", 0, "Zhejiang", "Hangzhou")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (answer["error"]["code"].as_str(), answer["error"]["field"].as_str()),
        (Some("invalid_request"), Some("quantity"))
    );
    let (status, answer) = post_quote(&router, body("c-1", 1, " ", "Hangzhou")).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("province")));
}

#[tokio::test]
async fn without_a_trained_model_a_quote_answers_503_no_pricing_model() {
    let (status, answer) = post_quote(&router(PricingModel::default()), body("c-1", 1, "Zhejiang", "Hangzhou")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer["error"]["code"], "no_pricing_model");
}

#[tokio::test]
async fn a_merchant_is_quoted_from_its_own_model_only_and_may_not_ask_for_anothers() {
    let (router, _) = router_with(trained(), storefront_tokens());
    let mut own = body("c-1", 2, "Zhejiang", "Hangzhou");
    own.as_object_mut().unwrap().remove("merchant_id");
    let (status, answer) = post_quote_as(&router, Some(M1_SHOP), own.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // m-2 has no model of its own: m-1's history never prices m-2's customers.
    let (status, answer) = post_quote_as(&router, Some(M2_SHOP), own).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("no_pricing_model")));
    let (status, answer) = post_quote_as(&router, Some(M2_SHOP), body("c-1", 2, "Zhejiang", "Hangzhou")).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
}

#[tokio::test]
async fn platform_staff_must_name_the_merchant() {
    let mut unnamed = body("c-1", 2, "Zhejiang", "Hangzhou");
    unnamed.as_object_mut().unwrap().remove("merchant_id");
    let (status, answer) = post_quote(&router(trained()), unnamed).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("merchant_id")));
}

#[tokio::test]
async fn the_catalogues_list_price_caps_and_its_cost_plus_margin_floors_the_quote() {
    use oms_domain::catalogue::{SkuFacts, UncheckedSkuFacts};
    let (router, store) = router_with(trained(), oms_api::Authenticator::Open);
    let (_, free) = post_quote(&router, body("c-1", 2, "Zhejiang", "Hangzhou")).await;
    let free: Decimal = free["price"].as_str().and_then(|p| p.parse().ok()).expect("a price");
    let put = |cost: i64, list_price: i64| {
        let facts = UncheckedSkuFacts {
            merchant_id: "m-1".into(),
            name: "Tea".into(),
            category: "tea".into(),
            cost: Decimal::new(cost, 0),
            list_price: Decimal::new(list_price, 0),
            weight_g: 100,
            dims_mm: [1, 1, 1],
            traits: vec![],
        };
        SkuFacts::new(oms_domain::Sku::parse("SKU-1").unwrap(), facts).unwrap()
    };
    use oms_domain::ports::SkuCatalogue as _;
    store.put_sku(&put(10, 50)).await.unwrap();
    let (_, capped) = post_quote(&router, body("c-1", 2, "Zhejiang", "Hangzhou")).await;
    assert_eq!((capped["price"].as_str(), capped["clamped"].as_str()), (Some("50"), Some("ceiling")), "model price {free}");
    store.put_sku(&put(200, 400)).await.unwrap();
    let (_, floored) = post_quote(&router, body("c-1", 2, "Zhejiang", "Hangzhou")).await;
    assert_eq!((floored["price"].as_str(), floored["clamped"].as_str()), (Some("210"), Some("floor")), "cost 200 + 5 %");
}

/// m-1's model over a history of two kinds of customer: tea drinkers (who also buy cups)
/// in Zhejiang, kite flyers (who also buy fans) in Xinjiang.
fn trained_with_baskets() -> PricingModel {
    let mut rows = history();
    let baskets = [("TEA", "CUP", "Zhejiang", "Hangzhou"), ("KITE", "FAN", "Xinjiang", "Urumqi")];
    for index in 0..60i64 {
        let (first, second, province, city) = baskets[(index % 2) as usize];
        for (offset, sku) in [first, second].into_iter().enumerate() {
            rows.push(Purchase {
                customer_id: format!("b-{index}"),
                sku: sku.into(),
                quantity: 1,
                unit_price: Decimal::new(50 + offset as i64 * 10, 0),
                purchased_at: chrono::DateTime::from_timestamp(1_790_000_000 + index * 3_600, 0).expect("a time"),
                province: province.into(),
                city: city.into(),
                address: String::new(),
                merchant_id: None,
                currency: None,
            });
        }
    }
    rows.push(Purchase { customer_id: "tea-fan".into(), sku: "TEA".into(), ..rows[rows.len() - 4].clone() });
    let artifact = oms_pricing::train(rows, &TrainOptions::new("v-offers").for_merchant("m-1"), &|_| ()).expect("a model");
    PricingModel::new(Some(artifact))
}

async fn get_offers(router: &Router, token: Option<&str>, uri: &str) -> (StatusCode, Value) {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router.clone().oneshot(request.body(Body::empty()).expect("a request")).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("the body is read");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_customer_is_offered_what_customers_who_bought_the_same_bought_each_priced() {
    let (router, _) = router_with(trained_with_baskets(), storefront_tokens());
    let (status, answer) = get_offers(&router, Some(M1_SHOP), "/customers/tea-fan/offers?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["customer_id"], "tea-fan");
    let offers = answer["offers"].as_array().expect("offers");
    assert_eq!(offers.len(), 2, "{answer}");
    assert_eq!(offers[0]["sku"], "CUP", "{answer}");
    assert!(offers[0]["reason"].as_str().is_some_and(|r| r.contains("TEA")), "{answer}");
    assert_eq!(offers[0]["score"], 1.0);
    // Bought two months ago: offered again, below what suits better, and said so.
    assert!(offers[1]["reason"].as_str().is_some_and(|r| r.contains("days ago")), "{answer}");
    for offer in offers {
        assert!(offer["price"].as_str().is_some_and(|p| p.parse::<Decimal>().is_ok()), "{offer}");
        assert_eq!(offer["currency"], "CNY");
    }
}

#[tokio::test]
async fn an_unknown_customer_is_offered_the_best_sellers_of_its_province() {
    let (router, _) = router_with(trained_with_baskets(), storefront_tokens());
    let (status, answer) = get_offers(&router, Some(M1_SHOP), "/customers/walk-in/offers?limit=3&province=Xinjiang").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let first = &answer["offers"][0];
    assert!(first["reason"].as_str().is_some_and(|r| r.contains("Xinjiang")), "{answer}");
    assert!(["SKU-1", "KITE", "FAN"].contains(&first["sku"].as_str().unwrap_or_default()), "{answer}");
}

#[tokio::test]
async fn offers_are_per_merchant_and_refuse_a_bad_limit() {
    let (router, _) = router_with(trained_with_baskets(), storefront_tokens());
    let (status, answer) = get_offers(&router, Some(M2_SHOP), "/customers/tea-fan/offers").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("no_pricing_model")));
    let (status, _) = get_offers(&router, Some(M2_SHOP), "/customers/tea-fan/offers?merchant_id=m-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get_offers(&router, None, "/customers/tea-fan/offers").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let long = "x".repeat(201);
    let (status, answer) = get_offers(&router, Some(M1_SHOP), &format!("/customers/tea-fan/offers?province={long}")).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("province")));
    for limit in ["0", "51", "-1", "ten"] {
        let (status, answer) = get_offers(&router, Some(M1_SHOP), &format!("/customers/tea-fan/offers?limit={limit}")).await;
        assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{limit}");
    }
}

/// The facts of a m-1 product.
fn listed(sku: &str, name: &str, merchant: &str) -> oms_domain::catalogue::SkuFacts {
    let facts = oms_domain::catalogue::UncheckedSkuFacts {
        merchant_id: merchant.into(),
        name: name.into(),
        category: "tea".into(),
        cost: Decimal::new(10, 0),
        list_price: Decimal::new(90, 0),
        weight_g: 100,
        dims_mm: [1, 1, 1],
        traits: vec![],
    };
    oms_domain::catalogue::SkuFacts::new(oms_domain::Sku::parse(sku).expect("a SKU"), facts).expect("valid facts")
}

#[tokio::test]
async fn recommendations_keep_what_the_merchant_lists_and_can_ship_now() {
    use oms_domain::{MerchantId, Sku, WarehouseId};
    let (router, store) = router_with(trained_with_baskets(), storefront_tokens());
    let ports = store.ports(Arc::new(SystemClock));
    let wh = WarehouseId::parse("WH-A").expect("an id");
    let platform = MerchantId::parse("platform").expect("a merchant");
    let warehouse = oms_domain::stock::Warehouse::new(wh.clone(), "WH-A", platform, "Zhejiang", "Hangzhou", 30.0, 120.0)
        .expect("a warehouse");
    ports.warehouses.put_warehouse(&warehouse).await.expect("stored");
    ports.catalogue.put_sku(&listed("CUP", "Celadon cup", "m-1")).await.expect("stored");
    ports.catalogue.put_sku(&listed("TEA", "Longjing tea", "m-1")).await.expect("stored");
    // SKU-1 is another merchant's product in the catalogue: not one m-1 lists.
    ports.catalogue.put_sku(&listed("SKU-1", "Someone else's", "m-2")).await.expect("stored");
    let (m1, m2) = (MerchantId::parse("m-1").expect("a merchant"), MerchantId::parse("m-2").expect("a merchant"));
    let cup = Sku::parse("CUP").expect("a SKU");
    assert!(ports.inventory.set_on_hand(&wh, &m1, &cup, 5).await.is_ok());
    // Only another merchant's units of TEA: m-1 has none to ship.
    assert!(ports.inventory.set_on_hand(&wh, &m2, &Sku::parse("TEA").expect("a SKU"), 9).await.is_ok());

    let (status, answer) = get_offers(&router, Some(M1_SHOP), "/customers/tea-fan/recommendations?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!((answer["customer_id"].as_str(), answer["model_version"].as_str()), (Some("tea-fan"), Some("v-offers")));
    let recommended = answer["recommendations"].as_array().expect("recommendations");
    assert_eq!(recommended.len(), 1, "only the cup is listed by m-1 and in its stock: {answer}");
    let first = &recommended[0];
    assert_eq!((first["sku"].as_str(), first["name"].as_str()), (Some("CUP"), Some("Celadon cup")), "{answer}");
    assert_eq!((first["available"].as_u64(), first["ships_from"].as_str()), (Some(5), Some("WH-A")), "{answer}");
    assert!(first["reason"].as_str().is_some_and(|r| r.contains("TEA")), "{answer}");
    assert!(first.get("price").is_none(), "recommendations are unpriced: {answer}");
    let left_out: Vec<(&str, &str)> = answer["left_out"]
        .as_array()
        .expect("left out")
        .iter()
        .map(|l| (l["sku"].as_str().unwrap_or_default(), l["why"].as_str().unwrap_or_default()))
        .collect();
    assert!(left_out.contains(&("TEA", "out_of_stock")), "{answer}");
    assert!(left_out.contains(&("SKU-1", "not_in_catalogue")), "{answer}");

    let (status, answer) = get_offers(&router, Some(M2_SHOP), "/customers/tea-fan/recommendations").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("no_pricing_model")));
    let (status, _) = get_offers(&router, None, "/customers/tea-fan/recommendations").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for bad in ["?limit=0", "?limit=51", "?limit=x", "?merchant_id=m-2"] {
        let (status, answer) = get_offers(&router, Some(M1_SHOP), &format!("/customers/tea-fan/recommendations{bad}")).await;
        assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::FORBIDDEN, "{bad}: {status} {answer}");
        assert!(answer["error"]["code"].is_string(), "{bad}: {answer}");
    }
    let (status, answer) = get_offers(&router, Some(M1_SHOP), "/customers/%20/recommendations").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{answer}");
}

/// m-1's model of [`trained_with_baskets`]' history, with 20 of the 30 cups sent back.
fn trained_with_returned_cups() -> PricingModel {
    let mut rows = history();
    let baskets = [("TEA", "CUP", "Zhejiang", "Hangzhou"), ("KITE", "FAN", "Xinjiang", "Urumqi")];
    for index in 0..60i64 {
        let (first, second, province, city) = baskets[(index % 2) as usize];
        for sku in [first, second] {
            rows.push(Purchase {
                customer_id: format!("b-{index}"),
                sku: sku.into(),
                quantity: 1,
                unit_price: Decimal::new(50, 0),
                purchased_at: chrono::DateTime::from_timestamp(1_790_000_000 + index * 3_600, 0).expect("a time"),
                province: province.into(),
                city: city.into(),
                address: String::new(),
                merchant_id: None,
                currency: None,
            });
        }
    }
    rows.push(Purchase { customer_id: "tea-fan".into(), sku: "TEA".into(), ..rows[rows.len() - 4].clone() });
    let mut options = TrainOptions::new("v-returns").for_merchant("m-1");
    options.signals.returns = (0..40)
        .step_by(2)
        .map(|index| oms_pricing::signals::Returned {
            customer_id: format!("b-{index}"),
            sku: "CUP".into(),
            units: 1,
            at: chrono::DateTime::from_timestamp(1_790_500_000, 0).expect("a time"),
        })
        .collect();
    let artifact = oms_pricing::train(rows, &options, &|_| ()).expect("a model");
    assert!(artifact.offers.is_often_returned("CUP"));
    PricingModel::new(Some(artifact))
}

#[tokio::test]
async fn recommendations_say_their_delivery_days_and_leave_out_the_often_returned_and_the_too_slow() {
    use oms_domain::{CarrierId, Currency, MerchantId, Sku, WarehouseId};
    let (router, store) = router_with(trained_with_returned_cups(), storefront_tokens());
    let ports = store.ports(Arc::new(SystemClock));
    let m1 = MerchantId::parse("m-1").expect("a merchant");
    for (id, province, city, lat, lon, sku) in
        [("WH-HZ", "Zhejiang", "Hangzhou", 30.27, 120.15, "KITE"), ("WH-UQ", "Xinjiang", "Urumqi", 43.83, 87.62, "FAN")]
    {
        let wh = WarehouseId::parse(id).expect("an id");
        let warehouse =
            oms_domain::stock::Warehouse::new(wh.clone(), id, m1.clone(), province, city, lat, lon).expect("a warehouse");
        ports.warehouses.put_warehouse(&warehouse).await.expect("stored");
        assert!(ports.inventory.set_on_hand(&wh, &m1, &Sku::parse(sku).expect("a SKU"), 5).await.is_ok());
    }
    for sku in ["CUP", "KITE", "FAN"] {
        ports.catalogue.put_sku(&listed(sku, sku, "m-1")).await.expect("stored");
    }
    let cup = Sku::parse("CUP").expect("a SKU");
    assert!(ports.inventory.set_on_hand(&WarehouseId::parse("WH-HZ").expect("an id"), &m1, &cup, 5).await.is_ok());
    let band = |km: i64, days: i64| oms_domain::carrier::UncheckedBand {
        service: "standard".into(),
        max_distance_km: km,
        max_weight_g: 5_000,
        price: Decimal::new(800, 2),
        transit_days: days,
        handles: Vec::new(),
        max_side_mm: None,
    };
    let rates = oms_domain::carrier::RateTable::new(
        CarrierId::parse("sf").expect("a carrier"),
        Currency::parse("CNY").expect("a currency"),
        vec![band(300, 1), band(5_000, 4)],
    )
    .expect("a rate table");
    ports.rates.put_rates(&rates).await.expect("stored");
    let why = |answer: &Value| -> Vec<(String, String)> {
        answer["left_out"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| (l["sku"].as_str().unwrap_or_default().to_owned(), l["why"].as_str().unwrap_or_default().to_owned()))
            .collect()
    };

    // tea-fan, in Xinjiang now: the fan ships from Urumqi in a day, the kite from Hangzhou
    // in four; the cup (what tea buyers buy) is sent back too often.
    let uri = "/customers/tea-fan/recommendations?limit=5&province=Xinjiang&max_delivery_days=2";
    let (status, answer) = get_offers(&router, Some(M1_SHOP), uri).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let fan = answer["recommendations"].as_array().expect("a list").iter().find(|r| r["sku"] == "FAN").cloned();
    let fan = fan.unwrap_or_else(|| panic!("the fan ships in time: {answer}"));
    assert_eq!((fan["ships_from"].as_str(), fan["delivery_days"].as_u64()), (Some("WH-UQ"), Some(1)), "{answer}");
    let left_out = why(&answer);
    assert!(left_out.contains(&("CUP".into(), "often_returned".into())), "{answer}");
    assert!(left_out.contains(&("KITE".into(), "too_slow".into())), "{answer}");
    let (_, unbounded) = get_offers(&router, Some(M1_SHOP), "/customers/tea-fan/recommendations?limit=5&province=Xinjiang").await;
    let kite = unbounded["recommendations"].as_array().expect("a list").iter().find(|r| r["sku"] == "KITE").cloned();
    assert_eq!(kite.map(|k| k["delivery_days"].clone()), Some(json!(4)), "without a limit it is kept: {unbounded}");

    // A customer whose place nobody knows: no delivery days, and nothing left out as slow.
    let (status, answer) =
        get_offers(&router, Some(M1_SHOP), "/customers/nobody/recommendations?limit=5&max_delivery_days=0").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let listed: Vec<&Value> = answer["recommendations"].as_array().expect("a list").iter().collect();
    assert!(!listed.is_empty() && listed.iter().all(|r| r.get("delivery_days").is_none()), "{answer}");
    assert!(why(&answer).iter().all(|(_, why)| why != "too_slow"), "{answer}");

    for bad in ["max_delivery_days=61", "max_delivery_days=-1", "max_delivery_days=x"] {
        let (status, answer) = get_offers(&router, Some(M1_SHOP), &format!("/customers/tea-fan/recommendations?{bad}")).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{bad}: {answer}"
        );
    }
}
