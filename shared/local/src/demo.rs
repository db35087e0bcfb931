//! `oms demo`: a scripted day of business on sample data, through the real routes, the
//! real queue workers and a durable data directory, ending with a summary.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt as _;

use oms_api::admission::Admission;
use oms_api::{AppState, Authenticator, ChannelSecrets, PricingModel, TokenTable};
use oms_channels::signature;
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{Clock, Ports};
use oms_domain::usecases::sweep::{sweep, SweepLimits};
use oms_embedded::Embedded;
use oms_pricing::Purchase;
use rust_decimal::prelude::FromPrimitive as _;
use rust_decimal::Decimal;

mod bulk_trade;

const SECRET: &str = "demo-webhook-secret";
const MERCHANT: &str = "m-teahouse";
/// Another merchant of the platform, who keeps kites in the teahouse's Hangzhou warehouse.
const NEIGHBOUR: &str = "m-kitehouse";

const WAREHOUSES: [(&str, &str, &str, &str, f64, f64); 3] = [
    ("wh-hangzhou", "Hangzhou West", "Zhejiang", "Hangzhou", 30.27, 120.15),
    ("wh-shanghai", "Shanghai Pudong", "Shanghai", "Shanghai", 31.22, 121.54),
    ("wh-beijing", "Beijing Daxing", "Beijing", "Beijing", 39.73, 116.34),
];

/// (SKU, price, on hand in each warehouse above)
const CATALOGUE: [(&str, &str, [u32; 3]); 5] = [
    ("TEA-LONGJING-250G", "168.00", [40, 10, 10]),
    ("MUG-CELADON", "59.90", [12, 12, 6]),
    ("FAN-SILK", "35.50", [0, 15, 5]),
    ("KITE-DRAGON", "88.00", [2, 0, 3]),
    ("INK-SET", "120.00", [5, 5, 5]),
];

const BUYERS: [(&str, &str); 5] = [
    ("Zhejiang", "Hangzhou"),
    ("Shanghai", "Shanghai"),
    ("Beijing", "Beijing"),
    ("Guangdong", "Shenzhen"),
    ("Sichuan", "Chengdu"),
];

/// How many orders the day brings.
const ORDERS: usize = 36;

/// Runs the demo over `data_dir` and prints what happened.
pub async fn run(data_dir: &Path) -> anyhow::Result<()> {
    let embedded = Embedded::open(data_dir).with_context(|| format!("Failed to open {}", data_dir.display()))?;
    let secrets = ChannelSecrets::default()
        .with(Channel::Generic, SECRET)
        .with(Channel::Shopify, SECRET)
        .with_carrier("aftership", SECRET)
        .with_carrier("easypost", SECRET);
    let mut state = crate::server::app_state(&embedded, secrets, demo_tokens()?);
    state.reports = Some(Arc::new(oms_api::ReportDirectory(crate::reports::root(data_dir))));
    state.documents = Some(Arc::new(oms_embedded::DocumentDirectory::new(data_dir.join("documents"))));
    let pricing = state.pricing.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Local stand-ins of the warehouses' systems and the shops' APIs, told what they must know.
    let warehouse_ids: Vec<&str> = WAREHOUSES.iter().map(|w| w.0).collect();
    let fakes = oms_outbound::fakes::Fakes::start(&warehouse_ids).await.context("Failed to start the local fakes")?;
    let workers = crate::workers::spawn_with(
        &embedded,
        &state.ports,
        &stopped,
        SweepLimits::default(),
        oms_domain::allocation::merge::MergePolicy::default(),
        Some(fakes.destinations(&[MERCHANT])),
    );
    let ports = state.ports.clone();
    // The same routes with bot defence on: claims and bids must carry a proof of work.
    let guarded = oms_api::routes::all(AppState {
        admission: Admission::proof_of_work(BOT_DEFENCE_BITS).map_err(anyhow::Error::msg)?,
        ..state.clone()
    });
    let api = oms_api::routes::all(state);

    println!("OMS demo: data in {}\n", data_dir.display());
    println!("Morning: {} warehouses register and count their stock", WAREHOUSES.len());
    for (id, name, province, city, lat, lon) in WAREHOUSES {
        let body = json!({ "name": name, "merchant_id": MERCHANT, "province": province, "city": city, "lat": lat, "lon": lon });
        expect(&api, Method::PUT, &format!("/warehouses/{id}"), body, StatusCode::OK).await?;
    }
    for (sku, _, counts) in CATALOGUE {
        for ((warehouse, ..), on_hand) in WAREHOUSES.iter().zip(counts) {
            expect(&api, Method::PUT, &format!("/inventory/{warehouse}/{sku}"), json!({ "on_hand": on_hand }), StatusCode::OK)
                .await?;
        }
    }

    configure_costs(&api).await?;

    println!("Day: {ORDERS} orders arrive from the generic channel, signed");
    let mut accepted = Vec::new();
    for i in 0..ORDERS {
        let (status, receipt) = post_order(&api, &sample_order(i), true).await?;
        if status != StatusCode::ACCEPTED {
            bail!("order {i} was answered {status}: {receipt}");
        }
        accepted.push(receipt["order_id"].as_str().unwrap_or_default().to_owned());
    }
    let (status, receipt) = post_order(&api, &sample_order(0), true).await?;
    println!("  the channel delivers order A-1000 again: {status}, duplicate = {}", receipt["duplicate"]);
    let (status, refusal) = post_order(&api, &sample_order(ORDERS), false).await?;
    println!("  a forged webhook (bad signature): {status}, {}", refusal["error"]["code"]);
    let mut bad = sample_order(ORDERS + 1);
    bad["lines"][0]["quantity"] = json!(0);
    let (status, refusal) = post_order(&api, &bad, true).await?;
    println!("  an order with quantity 0: {status}, {}", refusal["error"]["message"]);

    if !crate::workers::wait_until_idle(&embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    println!("Afternoon: two buyers cancel; their stock goes back on the shelf");
    let mut cancelled = 0;
    for order_id in &accepted {
        if cancelled == 2 {
            break;
        }
        let order = call(&api, Method::GET, &format!("/orders/{order_id}"), Value::Null).await?.1;
        if order["status"] == OrderStatus::Reserved.as_str() {
            let body = json!({ "reason": "buyer changed their mind" });
            expect(&api, Method::POST, &format!("/orders/{order_id}/cancel"), body, StatusCode::OK).await?;
            cancelled += 1;
        }
    }

    let mut new_sku = sample_order(ORDERS + 2);
    new_sku["lines"] = json!([{ "sku": "TEA-NEW-HARVEST", "quantity": 1, "unit_price": "88.00" }]);
    let (status, receipt) = post_order(&api, &new_sku, true).await?;
    let held_id = receipt["order_id"].as_str().unwrap_or_default().to_owned();
    let (warehouse, ..) = WAREHOUSES[0];
    expect(&api, Method::PUT, &format!("/inventory/{warehouse}/TEA-NEW-HARVEST"), json!({ "on_hand": 5 }), StatusCode::OK)
        .await?;
    if !crate::workers::wait_until_idle(&embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let order = call(&api, Method::GET, &format!("/orders/{held_id}"), Value::Null).await?.1;
    println!(
        "  an order for TEA-NEW-HARVEST, not stocked yet: {status}, {} (an alert for staff); counted in at {warehouse}: {}",
        receipt["status"], order["status"]
    );

    evening(&api, &accepted).await?;
    if !crate::workers::wait_until_idle(&embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    shared_shelf(&api, &embedded).await?;
    explained_split(&api, &embedded).await?;
    flash_sale(&api, &embedded, &ports).await?;
    night(&api, &pricing, &ports).await?;
    let unpaid = unpaid_orders(&api, &embedded).await?;
    late_night(&ports).await?;
    expired(&api, &unpaid).await?;
    if !crate::workers::wait_until_idle(&embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    where_is_my_order(&api, &ports).await?;
    shipping(&api, &embedded, &ports).await?;
    merged_parcel(&api, &embedded).await?;
    if !crate::workers::wait_until_idle(&embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    told_outside(&api, &embedded, &fakes).await?;
    stock_ledger(&api, &ports).await?;
    restock(&api, &embedded).await?;
    lots(&api, &ports).await?;
    replenishment(&api, &embedded, &ports).await?;
    consignment(&api, &embedded).await?;
    staff_dashboard(&api).await?;
    carrier_choice(&api, &embedded).await?;
    fraud_review(&api, &embedded).await?;
    auctions(&api, &embedded, &ports).await?;
    bot_defence(&api, &guarded).await?;
    paperwork(&api, &accepted, data_dir).await?;
    group_buys(&api, &embedded, &ports).await?;
    rentals(&api).await?;
    after_the_sale(&api).await?;
    repairs(&api).await?;
    returns(&api, &embedded, &fakes).await?;
    learning_recommendations(&api, &pricing, &ports).await?;
    onboarding(&api, &embedded).await?;
    storefront(&api).await?;
    reviewed_catalogue(&api, &embedded).await?;
    bulk_trade::bulk_trade(&api, &embedded).await?;
    buyer_request(&api).await?;

    let _ = stop.send(true);
    for worker in workers {
        worker.await.context("A queue worker panicked")?;
    }
    print_summary(&embedded, &api, &accepted).await?;
    reports(&embedded, &api, data_dir).await
}

/// Closing time: a damaged unit is written off through an adjustment, the SKU's ledger
/// tells every move of its stock, and the reconciliation finds figures, holds and ledger
/// agreeing for every stock of the day.
async fn stock_ledger(api: &Router, ports: &Ports) -> anyhow::Result<()> {
    let (warehouse, ..) = WAREHOUSES[0];
    let sku = "MUG-CELADON";
    let body = json!({ "delta": -1, "reason": "dropped while packing" });
    let adjusted = expect(api, Method::POST, &format!("/inventory/{warehouse}/{sku}/adjustments"), body, StatusCode::OK).await?;
    println!(
        "Closing: one {sku} in {warehouse} is written off ({}): on hand {}, reserved {}",
        adjusted["entry"]["reason"].as_str().unwrap_or("?"),
        adjusted["stock"]["on_hand"],
        adjusted["stock"]["reserved"]
    );
    let ledger = expect(api, Method::GET, &format!("/inventory/{sku}/ledger?limit=100"), Value::Null, StatusCode::OK).await?;
    let mut kinds: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for entry in ledger["entries"].as_array().into_iter().flatten() {
        *kinds.entry(entry["kind"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
    }
    println!("  {sku}'s stock ledger: {kinds:?}");
    let report = oms_domain::usecases::reconcile::reconcile(ports).await?;
    print!("  {report}");
    if !report.is_clean() {
        bail!("the reconciliation found drift");
    }
    Ok(())
}

/// The configuration allocation costs plans with: one carrier's rates by distance and
/// weight, and the weights of the SKUs in the catalogue.
async fn configure_costs(api: &Router) -> anyhow::Result<()> {
    let band = |km: u32, kg: u32, price: &str, days: u32| json!({"service": "standard", "max_distance_km": km, "max_weight_g": kg * 1000, "price": price, "transit_days": days});
    let rates = json!({"currency": "CNY", "bands": [
        band(300, 1, "5.00", 1), band(300, 5, "9.00", 1),
        band(1500, 1, "18.00", 2), band(1500, 5, "26.00", 2),
        band(5000, 1, "22.00", 4), band(5000, 5, "34.00", 4),
    ]});
    // The platform keeps the carriers' rate tables for every merchant.
    expect_as(api, PLATFORM_STAFF, Method::PUT, "/carriers/zto/rates", rates, StatusCode::OK).await?;
    for (sku, name, weight_g, category, cost, list_price) in SKU_FACTS {
        let facts = json!({"merchant_id": MERCHANT, "name": name, "category": category, "cost": cost,
                           "list_price": list_price, "weight_g": weight_g, "dims_mm": [200, 150, 100], "traits": []});
        expect(api, Method::PUT, &format!("/skus/{sku}"), facts, StatusCode::OK).await?;
    }
    println!("  carrier zto's rates (by distance and weight) and {} SKUs' weights are configured", SKU_FACTS.len());
    Ok(())
}

/// (SKU, name, unit weight in g, category, cost, list price) of the catalogue: the
/// category is a pricing feature, cost (plus the least margin) and list price its guard rails.
const SKU_FACTS: [(&str, &str, u32, &str, &str, &str); 7] = [
    ("TEA-LONGJING-250G", "Longjing tea, 250 g", 320, "tea", "95.00", "188.00"),
    ("MUG-CELADON", "Celadon mug", 450, "teaware", "28.00", "69.90"),
    ("FAN-SILK", "Silk fan", 150, "crafts", "15.00", "39.90"),
    ("KITE-DRAGON", "Dragon kite", 600, "crafts", "40.00", "98.00"),
    ("INK-SET", "Ink set", 900, "crafts", "60.00", "135.00"),
    ("TEA-PUER-CAKE", "Pu'er cake, 357 g", 400, "tea", "120.00", "260.00"),
    ("FAN-SANDALWOOD", "Sandalwood fan", 200, "crafts", "22.00", "59.00"),
];

/// Dusk: an order whose two lines Hangzhou and Shanghai each hold one of, and Beijing both:
/// two near parcels cost less than one far one, so the plan splits, and says why.
async fn explained_split(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    for (warehouse, sku) in [
        ("wh-hangzhou", "TEA-PUER-CAKE"),
        ("wh-shanghai", "FAN-SANDALWOOD"),
        ("wh-beijing", "TEA-PUER-CAKE"),
        ("wh-beijing", "FAN-SANDALWOOD"),
    ] {
        expect(api, Method::PUT, &format!("/inventory/{warehouse}/{sku}"), json!({ "on_hand": 10 }), StatusCode::OK).await?;
    }
    let mut order = sample_order(ORDERS + 5);
    order["shipping_address"]["province"] = json!("Zhejiang");
    order["shipping_address"]["city"] = json!("Hangzhou");
    order["lines"] = json!([{ "sku": "TEA-PUER-CAKE", "quantity": 1, "unit_price": "98.00" },
                            { "sku": "FAN-SANDALWOOD", "quantity": 1, "unit_price": "45.00" }]);
    let (status, receipt) = post_order(api, &order, true).await?;
    if status != StatusCode::ACCEPTED {
        bail!("the split order was answered {status}: {receipt}");
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let id = receipt["order_id"].as_str().unwrap_or_default();
    let order = call(api, Method::GET, &format!("/orders/{id}"), Value::Null).await?.1;
    let explanation = &order["allocation"]["explanation"];
    println!("Dusk: a buyer in Hangzhou orders Pu'er (Hangzhou, Beijing hold it) and a sandalwood fan (Shanghai, Beijing)");
    println!("  {}: {}", order["status"].as_str().unwrap_or("?"), explanation["reason"].as_str().unwrap_or("no reason"));
    let chosen = &explanation["chosen"]["warehouses"];
    for candidate in explanation["candidates"].as_array().into_iter().flatten() {
        let warehouses: Vec<&str> = candidate["warehouses"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        println!(
            "    {:<28} {:>7}  {} shipment(s){}",
            warehouses.join(" + "),
            candidate["cost"].as_str().unwrap_or("?"),
            candidate["shipments"],
            if &candidate["warehouses"] == chosen { "  <- chosen" } else { "" }
        );
    }
    Ok(())
}

/// Dusk: a flash sale of three tins of tea, one per customer; five buyers rush in, one
/// retries, one tries for a second tin, the last finds it sold out; the claims' orders go
/// through allocation and reservation from the tins the sale set aside. Then a second sale
/// ends with tins unclaimed, and they go back to stock.
async fn flash_sale(api: &Router, embedded: &Embedded, ports: &Ports) -> anyhow::Result<()> {
    let (sku, ..) = CATALOGUE[0];
    let now = chrono::Utc::now();
    let body = json!({ "merchant_id": MERCHANT, "sku": sku, "units": 3, "per_customer_limit": 1, "shards": 2,
                       "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1),
                       "price": "99.00" });
    let sale = expect(api, Method::POST, "/flash-sales", body, StatusCode::CREATED).await?;
    let sale_id = sale["sale_id"].as_str().unwrap_or_default().to_owned();
    println!("Dusk: a flash sale of 3 x {sku} at 99.00, one per customer, in {} shards, set aside from stock", sale["shards"]);
    let claims = format!("/flash-sales/{sale_id}/claims");
    let claim = |customer: &str, key: &str| {
        let address =
            json!({ "name": customer, "line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN" });
        json!({ "customer_id": customer, "quantity": 1, "idempotency_key": key, "shipping_address": address })
    };
    let mut orders = Vec::new();
    for (customer, key) in [
        ("c-300", "c-300-a"),
        ("c-300", "c-300-a"),
        ("c-300", "c-300-b"),
        ("c-301", "c-301-a"),
        ("c-302", "c-302-a"),
        ("c-303", "c-303-a"),
    ] {
        let (status, answer) = call(api, Method::POST, &claims, claim(customer, key)).await?;
        let outcome = match answer["error"]["code"].as_str() {
            Some(code) => code.to_owned(),
            None => {
                orders.push(answer["order_id"].as_str().unwrap_or_default().to_owned());
                format!(
                    "claim {}, order {}",
                    answer["claim_id"].as_str().unwrap_or_default(),
                    answer["order_id"].as_str().unwrap_or_default()
                )
            }
        };
        println!("  {customer} claims (key {key}): {status}, {outcome}");
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let sale = expect(api, Method::GET, &format!("/flash-sales/{sale_id}"), Value::Null, StatusCode::OK).await?;
    let mut statuses = Vec::new();
    for order_id in orders.iter().collect::<std::collections::BTreeSet<_>>() {
        let order = call(api, Method::GET, &format!("/orders/{order_id}"), Value::Null).await?.1;
        statuses.push(order["status"].as_str().unwrap_or_default().to_owned());
    }
    println!(
        "  the sale is {}: {} claimed, {} left, {} claims; their orders (channel flash_sale, each made by the allocate worker from its claim's message): {statuses:?}",
        sale["state"], sale["units_claimed"], sale["units_left"], sale["claims"]
    );
    sale_leftovers(api, embedded, ports).await
}

/// The units of a SKU available over every warehouse, as `GET /inventory/{sku}` shows them.
async fn available_of(api: &Router, sku: &str) -> anyhow::Result<u64> {
    let stock = expect(api, Method::GET, &format!("/inventory/{sku}"), Value::Null, StatusCode::OK).await?;
    let warehouses = stock["warehouses"].as_array().cloned().unwrap_or_default();
    Ok(warehouses.iter().filter_map(|w| w["available"].as_u64()).sum())
}

/// Dusk, later: a short sale of five tins ends with two claimed; the sweeper closes it and
/// the three tins nobody claimed go back to available stock, once.
async fn sale_leftovers(api: &Router, embedded: &Embedded, ports: &Ports) -> anyhow::Result<()> {
    let (sku, ..) = CATALOGUE[0];
    let now = chrono::Utc::now();
    let ends_at = now + chrono::Duration::seconds(2);
    let body = json!({ "merchant_id": MERCHANT, "sku": sku, "units": 5, "per_customer_limit": 1, "shards": 2,
                       "starts_at": now - chrono::Duration::minutes(1), "ends_at": ends_at, "price": "99.00" });
    let sale = expect(api, Method::POST, "/flash-sales", body, StatusCode::CREATED).await?;
    let sale_id = sale["sale_id"].as_str().unwrap_or_default().to_owned();
    for customer in ["c-304", "c-305"] {
        let body = json!({ "customer_id": customer, "quantity": 1, "idempotency_key": format!("{customer}-short"),
                           "shipping_address": { "name": customer, "line1": "1 West Lake Rd", "city": "Hangzhou",
                                                 "province": "Zhejiang", "country": "CN" } });
        expect(api, Method::POST, &format!("/flash-sales/{sale_id}/claims"), body, StatusCode::CREATED).await?;
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let before = available_of(api, sku).await?;
    // Wait for the sale's end, then sweep as the periodic loop does.
    let wait = (ends_at - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(50);
    tokio::time::sleep(wait).await;
    let report = sweep(ports, &SweepLimits::default()).await?;
    let returned: u64 = report.sales_closed.iter().filter(|c| c.sale_id.as_str() == sale_id).map(|c| c.units_returned).sum();
    let after = available_of(api, sku).await?;
    let sale = expect(api, Method::GET, &format!("/flash-sales/{sale_id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  a second sale of 5 x {sku} ends with {} claimed; the sweeper closes it: {returned} unclaimed back in stock (available {before} -> {after}); GET shows it {}, units_returned {}",
        sale["units_claimed"], sale["state"], sale["units_returned"]
    );
    let again = sweep(ports, &SweepLimits::default()).await?;
    if again.sales_closed.iter().any(|c| c.sale_id.as_str() == sale_id) || available_of(api, sku).await? != after {
        bail!("a second sweep closed sale {sale_id} again");
    }
    sale_ended_early(api, embedded).await
}

/// Dusk, last: a third sale of four tins; a buyer claims one without an address and cancels
/// before giving one, so the tin goes back to the sale; another claims one; then the
/// merchant's operator ends the sale early and the unclaimed tins go back to stock, once.
async fn sale_ended_early(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    let (sku, ..) = CATALOGUE[0];
    let now = chrono::Utc::now();
    let body = json!({ "merchant_id": MERCHANT, "sku": sku, "units": 4, "per_customer_limit": 1, "shards": 2,
                       "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1),
                       "price": "99.00" });
    let sale = expect(api, Method::POST, "/flash-sales", body, StatusCode::CREATED).await?;
    let sale_id = sale["sale_id"].as_str().unwrap_or_default().to_owned();
    let claims = format!("/flash-sales/{sale_id}/claims");
    let body = json!({ "customer_id": "c-306", "quantity": 1, "idempotency_key": "c-306-early" });
    let held = expect(api, Method::POST, &claims, body, StatusCode::CREATED).await?;
    let order_id = held["order_id"].as_str().unwrap_or_default().to_owned();
    // The claim's order is made from its message by the allocate queue's worker.
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let body = json!({ "reason": "changed their mind" });
    expect(api, Method::POST, &format!("/orders/{order_id}/cancel"), body, StatusCode::OK).await?;
    let after_cancel = expect(api, Method::GET, &format!("/flash-sales/{sale_id}"), Value::Null, StatusCode::OK).await?;
    let body = json!({ "customer_id": "c-307", "quantity": 1, "idempotency_key": "c-307-early",
                       "shipping_address": { "name": "c-307", "line1": "1 West Lake Rd", "city": "Hangzhou",
                                             "province": "Zhejiang", "country": "CN" } });
    expect(api, Method::POST, &claims, body, StatusCode::CREATED).await?;
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let before = available_of(api, sku).await?;
    let end = format!("/flash-sales/{sale_id}/end");
    let ended = expect(api, Method::POST, &end, Value::Null, StatusCode::OK).await?;
    let after = available_of(api, sku).await?;
    println!(
        "  a third sale of 4 x {sku}: c-306 claims without an address and cancels, the tin goes back to the sale ({} left); c-307 claims one; the operator ends it early: {}, {} unclaimed back in stock (available {before} -> {after})",
        after_cancel["units_left"], ended["state"], ended["units_returned"]
    );
    let again = expect(api, Method::POST, &end, Value::Null, StatusCode::OK).await?;
    if again["units_returned"] != ended["units_returned"] || available_of(api, sku).await? != after {
        bail!("ending sale {sale_id} again gave units back twice");
    }
    Ok(())
}

/// Late night: the sweeper, as it runs every five minutes, looks two hours ahead: every
/// step went with its write, so nothing received or allocated is stuck; a backorder past
/// its hour is planned again only if its merchant has the stock now.
async fn late_night(ports: &Ports) -> anyhow::Result<()> {
    let later = Ports { clock: Arc::new(HoursLater(2)), ..ports.clone() };
    let report = sweep(&later, &SweepLimits::default()).await?;
    let stuck = report.count(OrderStatus::Received) + report.count(OrderStatus::Allocated);
    println!(
        "Late night: the sweeper, two hours on, finds {stuck} orders stuck received or allocated; {} backorders have stock now and are planned again, {} wait as they should",
        report.count(OrderStatus::Backordered),
        report.waiting
    );
    println!(
        "  {} unpaid orders held their stock past {} minutes: cancelled (payment_expired), their units back on the shelf",
        report.expired.len(),
        oms_domain::usecases::sweep::DEFAULT_UNPAID_HOLD_MINUTES
    );
    let returned: u64 = report.sales_closed.iter().map(|c| c.units_returned).sum();
    println!("  {} flash sales ended and were closed: {returned} unclaimed units back in stock", report.sales_closed.len());
    Ok(())
}

/// Evening payments: two orders arrive unpaid (`"paid": false`) and are reserved; one is
/// paid through `POST /orders/{id}/payments` (twice: the same reference is one payment).
/// Answers the id of the one left unpaid.
async fn unpaid_orders(api: &Router, embedded: &Embedded) -> anyhow::Result<String> {
    let mut ids = Vec::new();
    for i in [ORDERS + 20, ORDERS + 21] {
        let mut order = sample_order(i);
        order["paid"] = json!(false);
        order["lines"] = json!([{ "sku": "TEA-PUER-CAKE", "quantity": 1, "unit_price": "98.00" }]);
        let (status, receipt) = post_order(api, &order, true).await?;
        if status != StatusCode::ACCEPTED {
            bail!("an unpaid order was answered {status}: {receipt}");
        }
        ids.push(receipt["order_id"].as_str().unwrap_or_default().to_owned());
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let payment = json!({ "amount": "98.00", "currency": "CNY", "reference": "alipay-demo-0001" });
    let path = format!("/orders/{}/payments", ids[1]);
    let paid = expect(api, Method::POST, &path, payment.clone(), StatusCode::CREATED).await?;
    let again = expect(api, Method::POST, &path, payment, StatusCode::OK).await?;
    let unpaid = expect(api, Method::GET, &format!("/orders/{}", ids[0]), Value::Null, StatusCode::OK).await?;
    println!(
        "Before midnight: two Pu'er orders arrive unpaid and are {}; one is paid (alipay-demo-0001, sent twice: {} payment recorded): {}",
        unpaid["status"].as_str().unwrap_or("?"),
        again["payments"].as_array().map_or(0, Vec::len),
        paid["payment_status"].as_str().unwrap_or("?")
    );
    Ok(ids.swap_remove(0))
}

/// The unpaid order after the sweeper: cancelled for `payment_expired`, its hold given back
/// as a ledger `expire`.
async fn expired(api: &Router, order_id: &str) -> anyhow::Result<()> {
    let order = expect(api, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    let ledger = expect(api, Method::GET, "/inventory/TEA-PUER-CAKE/ledger?limit=100", Value::Null, StatusCode::OK).await?;
    let expiry = ledger["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["kind"] == "expire" && e["hold"]["id"] == order_id)
        .map_or_else(
            || "none".to_owned(),
            |e| {
                format!(
                    "{} held {} in {}",
                    e["kind"].as_str().unwrap_or("?"),
                    e["delta_held"],
                    e["warehouse"].as_str().unwrap_or("?")
                )
            },
        );
    println!(
        "  the unpaid Pu'er order is {} ({}); its ledger entry: {expiry}",
        order["status"].as_str().unwrap_or("?"),
        order["timeline"].as_array().and_then(|t| t.last()).and_then(|e| e["detail"].as_str()).unwrap_or("?")
    );
    Ok(())
}

/// After hours: a buyer asks where an order is, with no account: its number and phone,
/// as the "Where is my order?" page sends them. The lookup runs through the function the
/// route calls; a wrong phone, through the route itself, finds nothing.
async fn where_is_my_order(api: &Router, ports: &Ports) -> anyhow::Result<()> {
    use oms_api::routes::track::{find_for_customer, public_view, LookupBody};
    println!(
        "After hours: a buyer opens \"Where is my order?\" (oms serve: http://127.0.0.1:3000/track?merchant={MERCHANT}) and types A-1003 and 138 0000 0003"
    );
    let asked = LookupBody { merchant: MERCHANT.into(), order_number: "A-1003".into(), phone: "138 0000 0003".into() };
    let lookup = asked.parse().map_err(|e| anyhow::anyhow!("the demo's lookup is malformed: {e}"))?;
    let order = find_for_customer(ports, &lookup)
        .await
        .map_err(|e| anyhow::anyhow!("the lookup failed: {}: {}", e.code, e.message))?
        .context("order A-1003 is not found by its number and phone")?;
    let tracking = oms_domain::usecases::tracking::tracking_view(ports, &order).await?;
    let view = public_view(&order, &tracking);
    println!("  the page shows: {}", serde_json::to_string(&view).context("Failed to encode the view")?);
    let wrong = json!({ "merchant": MERCHANT, "order_number": "A-1003", "phone": "139 0000 0003" });
    let (status, answer) = call_as(api, None, Method::POST, "/track/lookup", wrong).await?;
    println!("  the same number with another phone: {status}, {}", answer["error"]["code"]);
    Ok(())
}

/// Shipping: two buyers in Hangzhou order Longjing; the warehouse ships the first, which
/// AfterShip reports in transit and EasyPost delivered 20 hours later (each signed its own
/// way), so the lane Zhejiang -> Zhejiang learns 20 h; the second ships, hears nothing, and
/// the sweeper a day and a half later finds it past its learned ETA: one alert.
async fn shipping(api: &Router, embedded: &Embedded, ports: &Ports) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    for (i, external_id) in ["SHIP-1", "SHIP-2"].into_iter().enumerate() {
        let mut order = sample_order(ORDERS + 10 + i);
        order["external_id"] = json!(external_id);
        order["shipping_address"]["province"] = json!("Zhejiang");
        order["shipping_address"]["city"] = json!("Hangzhou");
        order["lines"] = json!([line(0, 1)]);
        let (status, receipt) = post_order(api, &order, true).await?;
        if status != StatusCode::ACCEPTED {
            bail!("order {external_id} was answered {status}: {receipt}");
        }
        ids.push(receipt["order_id"].as_str().unwrap_or_default().to_owned());
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let (first, second) = (&ids[0], &ids[1]);
    let (sku, ..) = CATALOGUE[0];
    let parcel = |number: &str| json!({ "carrier": "sf", "tracking_number": number, "lines": [{ "sku": sku, "quantity": 1 }] });
    let shipped =
        expect(api, Method::POST, &format!("/orders/{first}/shipments"), parcel("SF-DEMO-1"), StatusCode::CREATED).await?;
    println!("Shipping: the Hangzhou warehouse hands SHIP-1 to SF: the order is {}", shipped["order_status"]);
    let now = chrono::Utc::now();
    let stamp = |hours: i64| (now + chrono::Duration::hours(hours)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let aftership = json!({ "event": "tracking_update", "event_id": "5e0c2f9a", "msg": {
        "tracking_number": "SF-DEMO-1", "slug": "sf-express", "tag": "InTransit", "subtag": "InTransit_007",
        "checkpoints": [{ "checkpoint_time": stamp(2), "tag": "InTransit", "subtag": "InTransit_007",
                          "message": "Departed the Hangzhou hub", "city": "Hangzhou", "country_name": "China" }] } });
    let (status, _) = post_carrier(api, "aftership", &aftership).await?;
    let order = call(api, Method::GET, &format!("/orders/{first}"), Value::Null).await?.1;
    println!("  AfterShip (aftership-hmac-sha256): {status}, in transit; the order is {}", order["status"]);
    let easypost = json!({ "id": "evt_demo", "object": "Event", "description": "tracker.updated", "result": {
        "object": "Tracker", "tracking_code": "SF-DEMO-1", "carrier": "SF", "status": "delivered",
        "tracking_details": [{ "object": "TrackingDetail", "status": "delivered", "message": "Signed for at the door",
                               "datetime": stamp(20), "tracking_location": { "city": "Hangzhou", "country": "CN" } }] } });
    let (status, _) = post_carrier(api, "easypost", &easypost).await?;
    let tracking = call(api, Method::GET, &format!("/orders/{first}/tracking"), Value::Null).await?.1;
    println!(
        "  EasyPost (X-Hmac-Signature): {status}, delivered; the order is {}, with {} carrier events",
        tracking["status"],
        tracking["shipments"][0]["events"].as_array().map_or(0, Vec::len)
    );
    let forged = json!({ "event_id": "x", "tracking_number": "SF-DEMO-1", "status": "lost", "at": stamp(21) });
    let (status, refusal) = post_carrier_signed(api, "aftership", &forged, "a-guess").await?;
    println!("  a forged carrier webhook: {status}, {}", refusal["error"]["code"]);

    expect(api, Method::POST, &format!("/orders/{second}/shipments"), parcel("SF-DEMO-2"), StatusCode::CREATED).await?;
    let tracking = call(api, Method::GET, &format!("/orders/{second}/tracking"), Value::Null).await?.1;
    println!("  SHIP-2 ships the same lane: its ETA, learned from SHIP-1's 20 h, is {}", tracking["eta"]);
    let later = Ports { clock: Arc::new(HoursLater(30)), ..ports.clone() };
    let report = sweep(&later, &SweepLimits::default()).await?;
    let alerts = call(api, Method::GET, "/alerts?status=open&limit=100", Value::Null).await?.1;
    let late: Vec<&Value> = alerts["alerts"].as_array().into_iter().flatten().filter(|a| a["kind"] == "shipment_late").collect();
    println!(
        "  30 h on, with no scan of SHIP-2, the sweeper checks {} parcels: {} late alert raised ({} open); again: none more",
        report.tracking.checked,
        report.tracking.late,
        late.len()
    );
    let again = sweep(&later, &SweepLimits::default()).await?;
    if again.tracking.late != 0 {
        bail!("the sweeper raised the late alert twice");
    }
    for (name, id) in [("SHIP-1", first), ("SHIP-2", second)] {
        let view = call(api, Method::GET, &format!("/orders/{id}/tracking"), Value::Null).await?.1;
        let parcel = &view["shipments"][0];
        println!(
            "  {name}: order {}, parcel {} {} with {} events, ETA {}",
            view["status"].as_str().unwrap_or("?"),
            parcel["tracking_number"].as_str().unwrap_or("?"),
            parcel["status"].as_str().unwrap_or("?"),
            parcel["events"].as_array().map_or(0, Vec::len),
            parcel["eta"].as_str().unwrap_or("unknown")
        );
    }
    // The buyer of SHIP-1 looks it up on the public page: no account, the number and phone.
    let phone = format!("138 0000 {:04}", (ORDERS + 10) % 12);
    let asked = json!({ "merchant": MERCHANT, "order_number": "SHIP-1", "phone": phone });
    let (_, seen) = call_as(api, None, Method::POST, "/track/lookup", asked).await?;
    let parcel = &seen["shipments"][0];
    println!(
        "  the buyer looks SHIP-1 up (POST /track/lookup, {phone}): \"{}\", parcel {} {} with {} scans",
        seen["status_text"].as_str().unwrap_or("?"),
        parcel["tracking_number"].as_str().unwrap_or("?"),
        parcel["status"].as_str().unwrap_or("?"),
        parcel["events"].as_array().map_or(0, Vec::len),
    );
    Ok(())
}

/// A buyer orders twice within the hour to one address: the second order joins the first's
/// parcel when planned (one parcel costs less than two), the warehouse ships one parcel
/// carrying both, and the carrier's one delivery scan delivers both orders.
async fn merged_parcel(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    for (i, external_id) in ["MERGE-1", "MERGE-2"].into_iter().enumerate() {
        let mut order = sample_order(ORDERS + 20);
        order["external_id"] = json!(external_id);
        order["placed_at"] = json!(format!("2026-11-20T20:{:02}:00Z", 10 * i));
        order["shipping_address"]["province"] = json!("Zhejiang");
        order["shipping_address"]["city"] = json!("Hangzhou");
        order["lines"] = json!([line(i, 1)]);
        let (status, receipt) = post_order(api, &order, true).await?;
        if status != StatusCode::ACCEPTED {
            bail!("order {external_id} was answered {status}: {receipt}");
        }
        ids.push(receipt["order_id"].as_str().unwrap_or_default().to_owned());
        // Planned one after the other, as orders placed apart are.
        if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
            bail!("the queues did not drain within 30 s");
        }
    }
    let (first, second) = (&ids[0], &ids[1]);
    let order = call(api, Method::GET, &format!("/orders/{second}"), Value::Null).await?.1;
    let merge = &order["allocation"]["merge"];
    if merge.is_null() {
        bail!("MERGE-2 was not merged with MERGE-1: {}", order["allocation"]);
    }
    println!(
        "Merging: one buyer orders twice in ten minutes to one address; MERGE-2 joins MERGE-1's parcel from {} (saves {})",
        merge["warehouses"][0].as_str().unwrap_or("?"),
        merge["saving"].as_str().unwrap_or("?")
    );
    let lines: Vec<Value> = [first, second]
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let (sku, ..) = CATALOGUE[i];
            if id == first {
                json!({ "sku": sku, "quantity": 1 })
            } else {
                json!({ "sku": sku, "quantity": 1, "order_id": id })
            }
        })
        .collect();
    let parcel = json!({ "carrier": "sf", "tracking_number": "SF-DEMO-MERGED", "lines": lines });
    let shipped = expect(api, Method::POST, &format!("/orders/{first}/shipments"), parcel, StatusCode::CREATED).await?;
    println!(
        "  the warehouse ships one parcel SF-DEMO-MERGED with both: MERGE-1 {}, MERGE-2 {}",
        shipped["order_status"].as_str().unwrap_or("?"),
        shipped["merged"][0]["order_status"].as_str().unwrap_or("?")
    );
    let stamp = (chrono::Utc::now() + chrono::Duration::hours(18)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let delivered = json!({ "event": "tracking_update", "event_id": "merged-1", "msg": {
        "tracking_number": "SF-DEMO-MERGED", "slug": "sf-express", "tag": "Delivered", "subtag": "Delivered_001",
        "checkpoints": [{ "checkpoint_time": stamp, "tag": "Delivered", "subtag": "Delivered_001",
                          "message": "Signed for at the door", "city": "Hangzhou", "country_name": "China" }] } });
    let (status, _) = post_carrier(api, "aftership", &delivered).await?;
    let mut statuses = Vec::new();
    for id in [first, second] {
        statuses.push(call(api, Method::GET, &format!("/orders/{id}"), Value::Null).await?.1["status"].clone());
    }
    println!("  one AfterShip delivery scan ({status}): MERGE-1 {}, MERGE-2 {}", statuses[0], statuses[1]);
    Ok(())
}

async fn post_carrier(api: &Router, carrier: &str, body: &Value) -> anyhow::Result<(StatusCode, Value)> {
    post_carrier_signed(api, carrier, body, SECRET).await
}

async fn post_carrier_signed(api: &Router, carrier: &str, body: &Value, secret: &str) -> anyhow::Result<(StatusCode, Value)> {
    let body = serde_json::to_vec(body).context("Failed to encode an event")?;
    let format = oms_channels::tracking::format_of(carrier);
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/carriers/{carrier}/events"))
        .header("content-type", "application/json")
        .header(signature::tracking_header_name(format), signature::sign_tracking(format, secret.as_bytes(), &body))
        .body(Body::from(body))
        .context("Failed to build a request")?;
    send(api, request).await
}

/// The wall clock, `.0` hours ahead.
struct HoursLater(i64);

impl Clock for HoursLater {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::hours(self.0)
    }
}

/// How much dearer each of [`BUYERS`]' provinces buys than the list price, in the
/// demo's pricing history.
const PROVINCE_MARKUP: [f64; 5] = [1.00, 1.03, 1.09, 0.98, 0.95];

/// The night: the teahouse's pricing models are trained on its sales history (every order
/// the day reserved, as `oms retrain` reads it from the store) and three months of past
/// purchases, with the catalogue's categories and guard rails; two customers in different
/// provinces are quoted the same tea, with the reason they differ.
async fn night(api: &Router, pricing: &PricingModel, ports: &Ports) -> anyhow::Result<()> {
    let stored = oms_pricing::stored::stored_histories(ports, Some(MERCHANT)).await?.remove(MERCHANT).unwrap_or_default();
    let today = stored.len();
    let mut history = pricing_history();
    history.extend(stored);
    let rows = history.len();
    let options =
        oms_pricing::stored::train_options(ports, MERCHANT, &history, "demo-1", oms_pricing::DEFAULT_MIN_MARGIN).await?;
    let artifact = oms_pricing::train(history, &options, &|_| ()).context("Failed to train the demo's pricing")?;
    println!(
        "Night: the teahouse's pricing models are trained on {rows} purchased lines ({today} from the orders reserved today, \
         the rest from three months before) with {} SKUs' categories and guard rails from the catalogue: {} candidates \
         compared on held-out rows; segments kept: {} (everyone's model: {})",
        options.categories.len(),
        artifact.report.candidates.len(),
        artifact.report.selected.len(),
        artifact.models.all.as_ref().map_or("none", |model| model.algorithm.name()),
    );
    let featurizer = artifact.featurizer.clone();
    pricing.replace(artifact);
    let (sku, list_price, _) = CATALOGUE[0];
    for customer in ["c-200", "c-202"] {
        let (province, city) = BUYERS[home_of(customer)];
        let body = json!({ "customer_id": customer, "sku": sku, "quantity": 2, "province": province, "city": city });
        let quote = expect(api, Method::POST, "/quotes", body, StatusCode::OK).await?;
        let percent = |effect: f64| (effect.exp() - 1.0) * 100.0;
        let province_effect = featurizer.province_effect.get(province).copied().unwrap_or(0.0);
        let own_level = featurizer.customers.get(customer).map_or(0.0, |history| history.price_level());
        println!(
            "  {customer} in {city}, {province}, 2 x {sku} (list {list_price}): {} {} from the {} model of segment {}; \
             {province} pays {:+.1} % against its SKUs' mean, {customer} {:+.1} % against its SKUs and city",
            quote["price"].as_str().unwrap_or_default(),
            quote["currency"].as_str().unwrap_or_default(),
            quote["algorithm"].as_str().unwrap_or_default(),
            quote["segment"].as_str().unwrap_or_default(),
            percent(province_effect),
            percent(own_level),
        );
    }
    // Offers for a customer of today's orders: what its merchant's other customers bought
    // with what it bought, each priced for it.
    let customer = "c-101";
    let offers = expect(api, Method::GET, &format!("/customers/{customer}/offers?limit=3"), Value::Null, StatusCode::OK).await?;
    println!("  offers for {customer}, who bought today:");
    for offer in offers["offers"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!(
            "    {:<18} {:>8} {} (score {:.2}): {}",
            offer["sku"].as_str().unwrap_or_default(),
            offer["price"].as_str().unwrap_or_default(),
            offer["currency"].as_str().unwrap_or_default(),
            offer["score"].as_f64().unwrap_or_default(),
            offer["reason"].as_str().unwrap_or_default(),
        );
    }
    // Recommendations: the same ranking, unpriced, kept to what the teahouse lists and has
    // in stock now, with where each would ship from and what was left out.
    let uri = format!("/customers/{customer}/recommendations?limit=3");
    let recommended = expect(api, Method::GET, &uri, Value::Null, StatusCode::OK).await?;
    println!("  recommendations for {customer} (in the catalogue, in stock):");
    for item in recommended["recommendations"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!(
            "    {:<18} {} units, ships from {} (score {:.2}): {}",
            item["sku"].as_str().unwrap_or_default(),
            item["available"].as_u64().unwrap_or_default(),
            item["ships_from"].as_str().unwrap_or_default(),
            item["score"].as_f64().unwrap_or_default(),
            item["reason"].as_str().unwrap_or_default(),
        );
    }
    for left in recommended["left_out"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!("    left out {}: {}", left["sku"].as_str().unwrap_or_default(), left["why"].as_str().unwrap_or_default());
    }
    Ok(())
}

/// Which of [`BUYERS`] a demo customer `c-2NN` lives in.
fn home_of(customer: &str) -> usize {
    customer.trim_start_matches("c-").parse::<usize>().unwrap_or_default() % BUYERS.len()
}

/// Three months of purchases by 40 customers (`c-200` to `c-239`, each in one of
/// [`BUYERS`]' provinces) of the catalogue: the list price times the province's markup,
/// 8 % off from 6 units, and a little noise.
fn pricing_history() -> Vec<Purchase> {
    let start =
        chrono::DateTime::parse_from_rfc3339("2026-08-01T08:00:00Z").map_or(chrono::DateTime::UNIX_EPOCH, |at| at.to_utc());
    (0..3_000u32)
        .map(|i| {
            let customer = format!("c-{}", 200 + i % 40);
            let home = home_of(&customer);
            let (sku, list_price, _) = CATALOGUE[(i / 7) as usize % CATALOGUE.len()];
            let quantity = 1 + i * 7 % 12;
            let price_break = if quantity >= 6 { 0.92 } else { 1.0 };
            let noise = 1.0 + 0.01 * (f64::from(i * 13 % 5) - 2.0);
            let list: f64 = list_price.parse().unwrap_or_default();
            let (province, city) = BUYERS[home];
            Purchase {
                customer_id: customer,
                sku: sku.to_owned(),
                quantity,
                unit_price: Decimal::from_f64(list * PROVINCE_MARKUP[home] * price_break * noise).unwrap_or_default().round_dp(2),
                purchased_at: start + chrono::Duration::minutes(i64::from(i) * 43),
                province: province.to_owned(),
                city: city.to_owned(),
                address: String::new(),
                merchant_id: Some(MERCHANT.to_owned()),
                currency: Some("CNY".to_owned()),
            }
        })
        .collect()
}

/// The evening: an operator's change that a late channel retry does not undo, a cancel from
/// the shop, another shop's order with the same number, and staff paging through a
/// customer's orders and the open alerts.
async fn evening(api: &Router, accepted: &[String]) -> anyhow::Result<()> {
    println!("Evening: staff and shops keep changing things");
    let order_id = &accepted[5];
    let address = json!({ "shipping_address": { "name": "Buyer 1", "line1": "88 Corrected Road", "city": "Shanghai",
                                                 "province": "Shanghai", "postal_code": "200000", "country": "CN" } });
    expect(api, Method::PATCH, &format!("/orders/{order_id}"), address, StatusCode::OK).await?;
    let (status, receipt) = post_order(api, &sample_order(5), true).await?;
    let line1 = call(api, Method::GET, &format!("/orders/{order_id}"), Value::Null).await?.1["shipping_address"]["line1"].clone();
    println!(
        "  an operator corrects A-1005's address; the shop's late retry of its first delivery: {status}, not applied ({}), address stays {line1}",
        receipt["not_applied_reason"]
    );

    let mut cancel = sample_order(7);
    cancel["updated_at"] = json!("2026-11-20T18:00:00Z");
    cancel["cancelled_at"] = json!("2026-11-20T18:00:00Z");
    let (status, _) = post_order(api, &cancel, true).await?;
    let order = call(api, Method::GET, &format!("/orders/{}", accepted[7]), Value::Null).await?.1;
    println!("  the shop cancels A-1007: {status}, the order is {} and its stock is back", order["status"]);

    let mut other_shop = sample_order(0);
    other_shop["merchant_id"] = json!(NEIGHBOUR);
    let (status, receipt) = post_order(api, &other_shop, true).await?;
    println!("  another shop on the platform sends its own order A-1000: {status}, duplicate = {}", receipt["duplicate"]);

    let mut pages = Vec::new();
    let mut uri = format!("/orders?merchant={MERCHANT}&customer=c-100&limit=2");
    loop {
        let page = expect(api, Method::GET, &uri, Value::Null, StatusCode::OK).await?;
        pages.push(page["orders"].as_array().map_or(0, Vec::len));
        match page["next"].as_str() {
            Some(cursor) => uri = format!("/orders?merchant={MERCHANT}&customer=c-100&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    println!("  staff page through customer c-100's orders two at a time: pages of {pages:?}");
    let alerts = expect(api, Method::GET, "/alerts?status=open", Value::Null, StatusCode::OK).await?;
    println!("  open alerts for staff: {}", alerts["alerts"].as_array().map_or(0, Vec::len));
    Ok(())
}

/// Night: a second merchant counts its own kites into the teahouse's Hangzhou warehouse.
/// Both merchants' stock of one SKU sits side by side, counted apart, and each merchant's
/// orders are reserved only from its own.
async fn shared_shelf(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    const KITE: &str = "KITE-DRAGON";
    let (warehouse, ..) = WAREHOUSES[0];
    println!("Night: {NEIGHBOUR} keeps its own {KITE}s in {warehouse}, beside {MERCHANT}'s");
    let count = json!({ "on_hand": 20, "merchant_id": NEIGHBOUR });
    let (status, refusal) = call(api, Method::PUT, &format!("/inventory/{warehouse}/{KITE}"), count.clone()).await?;
    println!("  {MERCHANT}'s staff may not count {NEIGHBOUR}'s units: {status}, {}", refusal["error"]["code"]);
    // Platform staff operate the shared warehouse and count every owner's units in it.
    expect_as(api, PLATFORM_STAFF, Method::PUT, &format!("/inventory/{warehouse}/{KITE}"), count, StatusCode::OK).await?;
    let mut greedy = sample_order(ORDERS + 3);
    greedy["lines"] = json!([{ "sku": KITE, "quantity": 10, "unit_price": "88.00" }]);
    let (_, teahouse) = post_order(api, &greedy, true).await?;
    let mut own = sample_order(ORDERS + 4);
    own["merchant_id"] = json!(NEIGHBOUR);
    own["lines"] = json!([{ "sku": KITE, "quantity": 2, "unit_price": "92.00" }]);
    let (_, kitehouse) = post_order(api, &own, true).await?;
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let stock = expect_as(api, PLATFORM_STAFF, Method::GET, &format!("/inventory/{KITE}"), Value::Null, StatusCode::OK).await?;
    for entry in stock["warehouses"].as_array().into_iter().flatten().filter(|entry| entry["warehouse"] == warehouse) {
        println!(
            "  GET /inventory/{KITE} in {warehouse}: {} has {} on hand, {} reserved",
            entry["merchant_id"].as_str().unwrap_or("?"),
            entry["on_hand"],
            entry["reserved"]
        );
    }
    for (who, receipt) in [(MERCHANT, &teahouse), (NEIGHBOUR, &kitehouse)] {
        let order_id = receipt["order_id"].as_str().unwrap_or_default();
        let order = call_as(api, Some(PLATFORM_STAFF), Method::GET, &format!("/orders/{order_id}"), Value::Null).await?.1;
        let lines = order["lines"].as_array().map_or(0, |lines| lines.iter().map(|l| l["quantity"].as_u64().unwrap_or(0)).sum());
        println!("  {who} orders {lines} {KITE}s: {}", order["status"].as_str().unwrap_or("?"));
    }
    println!("  ({MERCHANT}'s order is not reserved from {NEIGHBOUR}'s kites on the same shelf)");

    // Each merchant's staff see their own merchant's records only.
    let teahouse_order = teahouse["order_id"].as_str().unwrap_or_default();
    let (own, _) = call(api, Method::GET, &format!("/orders/{teahouse_order}"), Value::Null).await?;
    let (other, _) = call_as(api, Some(NEIGHBOUR_STAFF), Method::GET, &format!("/orders/{teahouse_order}"), Value::Null).await?;
    let (anonymous, _) = call_as(api, None, Method::GET, &format!("/orders/{teahouse_order}"), Value::Null).await?;
    let (read_only, _) =
        call_as(api, Some(NEIGHBOUR_STAFF), Method::POST, &format!("/orders/{teahouse_order}/cancel"), Value::Null).await?;
    println!(
        "  {MERCHANT}'s order read by its staff: {own}; by {NEIGHBOUR}'s staff: {other} (not 403: its existence does not leak); \
         with no token: {anonymous}; a cancel by {NEIGHBOUR}'s read-only staff: {read_only}"
    );
    let kites = expect_as(api, NEIGHBOUR_STAFF, Method::GET, &format!("/inventory/{KITE}"), Value::Null, StatusCode::OK).await?;
    let owners: std::collections::BTreeSet<&str> =
        kites["warehouses"].as_array().into_iter().flatten().filter_map(|entry| entry["merchant_id"].as_str()).collect();
    println!("  {NEIGHBOUR}'s staff see the {KITE} stock of {owners:?} only");
    Ok(())
}

/// Joint selling: the kite shop lets the teahouse sell its kites in the shared warehouse at
/// a transfer price; the teahouse's kite orders are served from the kite shop's units, and
/// each line names the owner and the price owed.
async fn consignment(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    const KITE: &str = "KITE-DRAGON";
    let (warehouse, ..) = WAREHOUSES[0];
    println!("Last thing: {NEIGHBOUR} lets {MERCHANT} sell its {KITE}s in {warehouse} on consignment");
    let grant = json!({ "owner": NEIGHBOUR, "seller": MERCHANT, "warehouses": [warehouse], "skus": [KITE],
                        "transfer_price": { "amount": "60.00", "currency": "CNY" } });
    let (status, refusal) = call(api, Method::PUT, "/consignments/kites-for-tea", grant.clone()).await?;
    println!("  {MERCHANT}'s staff may not grant {NEIGHBOUR}'s stock: {status}, {}", refusal["error"]["code"]);
    // The kite shop's staff here may only read; platform staff act for it.
    let granted = expect_as(api, PLATFORM_STAFF, Method::PUT, "/consignments/kites-for-tea", grant, StatusCode::CREATED).await?;
    println!(
        "  PUT /consignments/kites-for-tea: {}, version {}, {} {} a unit",
        StatusCode::CREATED,
        granted["version"],
        granted["transfer_price"]["amount"].as_str().unwrap_or("?"),
        granted["transfer_price"]["currency"].as_str().unwrap_or("?")
    );
    let mut order = sample_order(ORDERS + 9);
    order["external_id"] = json!("A-KITE-CONSIGNED");
    order["lines"] = json!([{ "sku": KITE, "quantity": 3, "unit_price": "95.00" }]);
    let (_, receipt) = post_order(api, &order, true).await?;
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let order_id = receipt["order_id"].as_str().unwrap_or_default();
    let order = call(api, Method::GET, &format!("/orders/{order_id}"), Value::Null).await?.1;
    println!("  {MERCHANT} orders 3 {KITE}s: {}", order["status"].as_str().unwrap_or("?"));
    for line in order["allocation"]["lines"].as_array().into_iter().flatten() {
        println!(
            "    {} x {} from {}, owner {}, transfer price {} {}",
            line["quantity"],
            line["sku"].as_str().unwrap_or("?"),
            line["warehouse"].as_str().unwrap_or("?"),
            line["merchant_id"].as_str().unwrap_or("?"),
            line["transfer_price"]["amount"].as_str().unwrap_or("-"),
            line["transfer_price"]["currency"].as_str().unwrap_or("")
        );
    }
    let seen = call(api, Method::GET, &format!("/inventory/{KITE}"), Value::Null).await?.1;
    for entry in seen["warehouses"].as_array().into_iter().flatten().filter(|entry| !entry["consignment"].is_null()) {
        println!(
            "  GET /inventory/{KITE} as {MERCHANT}: {} of {}'s units in {} left to sell under {} ({} reserved: the grant also \
             sent {MERCHANT}'s kite backorders back to planning)",
            entry["available"],
            entry["merchant_id"].as_str().unwrap_or("?"),
            entry["warehouse"].as_str().unwrap_or("?"),
            entry["consignment"]["consignment_id"].as_str().unwrap_or("?"),
            entry["reserved"]
        );
    }
    let revoked =
        expect_as(api, PLATFORM_STAFF, Method::DELETE, "/consignments/kites-for-tea", Value::Null, StatusCode::OK).await?;
    println!("  DELETE /consignments/kites-for-tea: active = {} (the units already held stay held)", revoked["active"]);
    Ok(())
}

/// A SKU runs short: a supplier, a purchase order for it, a backordered order that says
/// when stock is expected, and the receipt that brings the stock in and gets it reserved.
async fn restock(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    const PEONY: &str = "TEA-WHITE-PEONY";
    let (warehouse, ..) = WAREHOUSES[0];
    println!("Small hours: {PEONY} runs short in {warehouse} (1 left); the teahouse restocks from its supplier");
    expect(api, Method::PUT, &format!("/inventory/{warehouse}/{PEONY}"), json!({ "on_hand": 1 }), StatusCode::OK).await?;
    let supplier = json!({ "merchant_id": MERCHANT, "name": "Fuding Tea Garden", "lead_time_days": 6,
                           "skus": [{ "sku": PEONY, "unit_cost": "42.00", "pack_size": 10, "min_order": 20 }] });
    let supplier = expect(api, Method::PUT, "/suppliers/sup-fuding", supplier, StatusCode::CREATED).await?;
    println!("  PUT /suppliers/sup-fuding: {}, lead time {} days", supplier["name"], supplier["lead_time_days"]);
    let expected_at = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = json!({ "supplier_id": "sup-fuding", "warehouse": warehouse, "lines": [{ "sku": PEONY, "quantity": 20 }],
                       "expected_at": expected_at, "reference": "PO-2026-001" });
    let po = expect(api, Method::POST, "/purchase-orders", body.clone(), StatusCode::CREATED).await?;
    let po_id = po["purchase_order_id"].as_str().unwrap_or_default().to_owned();
    let again = expect(api, Method::POST, "/purchase-orders", body, StatusCode::OK).await?;
    println!(
        "  POST /purchase-orders: {po_id} {} for 20, expected {expected_at}; the same reference again: the same order ({})",
        po["status"],
        again["purchase_order_id"] == po["purchase_order_id"]
    );
    let view = expect(api, Method::GET, &format!("/inventory/{PEONY}"), Value::Null, StatusCode::OK).await?;
    let here = &view["warehouses"][0];
    println!(
        "  GET /inventory/{PEONY}: {} on hand, {} incoming, expected {}",
        here["on_hand"], here["incoming"], here["expected_at"]
    );

    let mut order = sample_order(ORDERS + 6);
    order["lines"] = json!([{ "sku": PEONY, "quantity": 3, "unit_price": "128.00" }]);
    let (_, receipt) = post_order(api, &order, true).await?;
    let order_id = receipt["order_id"].as_str().unwrap_or_default().to_owned();
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let order = expect(api, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    let note = order["timeline"].as_array().into_iter().flatten().rev().find(|e| e["status"] == "backordered");
    println!(
        "  an order for 3 x {PEONY}: {}: {}",
        order["status"].as_str().unwrap_or("?"),
        note.and_then(|e| e["detail"].as_str()).unwrap_or("no note")
    );

    let receipts = format!("/purchase-orders/{po_id}/receipts");
    let first = json!({ "receipt_id": "GRN-1", "lines": [{ "sku": PEONY, "quantity": 12 }] });
    let po = expect(api, Method::POST, &receipts, first.clone(), StatusCode::CREATED).await?;
    let (status, _) = call(api, Method::POST, &receipts, first).await?;
    let over = json!({ "receipt_id": "GRN-2", "lines": [{ "sku": PEONY, "quantity": 9 }] });
    let (over_status, refusal) = call(api, Method::POST, &receipts, over).await?;
    println!(
        "  receipt GRN-1 of 12 units: {}; sent again: {status} (applied once); 9 more: {over_status} {}",
        po["status"], refusal["error"]["code"]
    );
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let order = expect(api, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    let view = expect(api, Method::GET, &format!("/inventory/{PEONY}"), Value::Null, StatusCode::OK).await?;
    let here = &view["warehouses"][0];
    println!(
        "  the backordered order is planned again from the receipt: {}; {PEONY} now {} on hand, {} reserved, {} incoming",
        order["status"].as_str().unwrap_or("?"),
        here["on_hand"],
        here["reserved"],
        here["incoming"]
    );
    Ok(())
}

/// Lots and expiry: the teahouse receives mooncakes with no purchase order, in two lots
/// with their last days; a lot already past its day is refused; the lots are listed with
/// what remains of each (a sale takes from the lot expiring first); a week on, the day's
/// sweep writes off the expired lot's units, once.
async fn lots(api: &Router, ports: &Ports) -> anyhow::Result<()> {
    const MOONCAKE: &str = "TEA-MOONCAKE-BOX";
    let (warehouse, ..) = WAREHOUSES[0];
    let today = chrono::Utc::now().date_naive();
    let soon = today + chrono::Duration::days(2);
    let later = today + chrono::Duration::days(60);
    println!("\nLots and expiry: {MOONCAKE} arrives at {warehouse} with no purchase order, in two lots");
    let receipts = format!("/inventory/{warehouse}/receipts");
    let body =
        json!({ "receipt_id": "GR-MOON-1", "lines": [{ "sku": MOONCAKE, "quantity": 8, "lot": "MC-0901", "expires_on": soon }] });
    let first = expect(api, Method::POST, &receipts, body.clone(), StatusCode::CREATED).await?;
    let again = expect(api, Method::POST, &receipts, body, StatusCode::OK).await?;
    let body = json!({ "receipt_id": "GR-MOON-2", "lines": [{ "sku": MOONCAKE, "quantity": 12, "lot": "MC-0915", "expires_on": later }] });
    expect(api, Method::POST, &receipts, body, StatusCode::CREATED).await?;
    println!(
        "  GR-MOON-1: 8 boxes of lot MC-0901 (last day {soon}), {} ledger entry; sent again: duplicate = {}; GR-MOON-2: 12 of lot MC-0915 (last day {later})",
        first["entries"].as_array().map_or(0, Vec::len),
        again["duplicate"]
    );
    let stale = json!({ "receipt_id": "GR-MOON-3", "lines": [{ "sku": MOONCAKE, "quantity": 5, "lot": "MC-0801",
                         "expires_on": today - chrono::Duration::days(1) }] });
    let (status, refusal) = call(api, Method::POST, &receipts, stale).await?;
    println!("  a lot whose last day was yesterday: {status} {}", refusal["error"]["code"]);
    let sold = json!({ "delta": -3, "reason": "sold over the counter" });
    expect(api, Method::POST, &format!("/inventory/{warehouse}/{MOONCAKE}/adjustments"), sold, StatusCode::OK).await?;
    let listing = format!("/inventory/{warehouse}/lots?sku={MOONCAKE}");
    print_lots(
        "  3 boxes leave; the lot expiring first gives them",
        &expect(api, Method::GET, &listing, Value::Null, StatusCode::OK).await?,
    );

    let week_on = Ports { clock: Arc::new(HoursLater(24 * 7)), ..ports.clone() };
    // The sweeper's daily lot pass, alone: a whole sweep a week on would also expire
    // every unpaid hold of the day.
    let done = oms_domain::usecases::lots::write_off_expired(&week_on).await?;
    let written: Vec<String> = done
        .iter()
        .filter(|l| l.sku.as_str() == MOONCAKE)
        .map(|l| {
            format!(
                "{} boxes of lot {} (last day {})",
                l.written_off,
                l.lot,
                l.expires_on.map_or_else(String::new, |d| d.to_string())
            )
        })
        .collect();
    println!("  a week on, the day's sweep writes off {written:?}");
    if !oms_domain::usecases::lots::write_off_expired(&week_on).await?.is_empty() {
        bail!("a second sweep that day wrote lots off again");
    }
    let view = expect(api, Method::GET, &format!("/inventory/{MOONCAKE}"), Value::Null, StatusCode::OK).await?;
    println!("  a second sweep that day changes nothing; {MOONCAKE} now {} on hand", view["warehouses"][0]["on_hand"]);
    print_lots("  the lots now", &expect(api, Method::GET, &listing, Value::Null, StatusCode::OK).await?);
    Ok(())
}

/// Prints a `GET /inventory/{warehouse}/lots` answer, one lot a line.
fn print_lots(heading: &str, answer: &Value) {
    println!("{heading}:");
    for lot in answer["lots"].as_array().into_iter().flatten() {
        println!(
            "    {} lot {}: {} of {} received remain, last day {}{}",
            lot["sku"].as_str().unwrap_or("?"),
            lot["lot"].as_str().unwrap_or("?"),
            lot["remaining"],
            lot["received"],
            lot["expires_on"].as_str().unwrap_or("none"),
            if lot["expired"] == json!(true) { " (expired)" } else { "" }
        );
    }
}

/// Whom an invoice bills, when the buyer gave invoice details at checkout.
fn billed(bill_to: &Value) -> String {
    match (bill_to["company"].as_str(), bill_to["tax_id"].as_str()) {
        (Some(company), Some(tax_id)) => format!(", billed to {company} (tax number {tax_id})"),
        (Some(company), None) => format!(", billed to {company}"),
        _ => String::new(),
    }
}

/// Paperwork: the invoice and packing list of the day's first order still standing (not
/// cancelled, planned) that a business bought, as the API answers them in JSON, and the
/// pages that print written into the data directory.
async fn paperwork(api: &Router, accepted: &[String], data_dir: &Path) -> anyhow::Result<()> {
    // The first standing order a business bought (invoice details given at checkout), else
    // the first standing one.
    let mut standing = None;
    for order_id in accepted {
        let (status, _) = call(api, Method::GET, &format!("/orders/{order_id}/packing-list?format=json"), Value::Null).await?;
        if status != StatusCode::OK {
            continue;
        }
        let (_, invoice) = call(api, Method::GET, &format!("/orders/{order_id}/invoice?format=json"), Value::Null).await?;
        if invoice["bill_to"]["company"].is_string() {
            standing = Some(order_id);
            break;
        }
        standing = standing.or(Some(order_id));
    }
    let Some(order_id) = standing else { bail!("no order of the day has a packing list") };
    let invoice =
        expect(api, Method::GET, &format!("/orders/{order_id}/invoice?format=json"), Value::Null, StatusCode::OK).await?;
    let list =
        expect(api, Method::GET, &format!("/orders/{order_id}/packing-list?format=json"), Value::Null, StatusCode::OK).await?;
    println!(
        "Paperwork: invoice {} for order {}{}: {} lines, total {} {}, paid {}, due {}; packing list: {} parcel(s), {} units",
        invoice["number"].as_str().unwrap_or_default(),
        invoice["order_number"].as_str().unwrap_or_default(),
        billed(&invoice["bill_to"]),
        invoice["lines"].as_array().map_or(0, Vec::len),
        invoice["total"].as_str().unwrap_or_default(),
        invoice["currency"].as_str().unwrap_or_default(),
        invoice["paid"].as_str().unwrap_or_default(),
        invoice["balance_due"].as_str().unwrap_or_default(),
        list["parcels"].as_array().map_or(0, Vec::len),
        list["parcels"].as_array().into_iter().flatten().map(|p| p["units"].as_u64().unwrap_or_default()).sum::<u64>(),
    );
    let dir = data_dir.join("paperwork");
    std::fs::create_dir_all(&dir).with_context(|| format!("Failed to make {}", dir.display()))?;
    for kind in ["invoice", "packing-list"] {
        let request = Request::builder()
            .method(Method::GET)
            .uri(format!("/orders/{order_id}/{kind}"))
            .header("authorization", format!("Bearer {TEAHOUSE_STAFF}"))
            .body(Body::empty())
            .context("Failed to build a request")?;
        let response = api.clone().oneshot(request).await.context("The router failed")?;
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.context("Failed to read a page")?;
        let path = dir.join(format!("{kind}-{order_id}.html"));
        std::fs::write(&path, &bytes).with_context(|| format!("Failed to write {}", path.display()))?;
        println!("  {kind} to print: {}", path.display());
    }
    Ok(())
}

/// Leading zero bits of the demo's proof of work: about 65,000 hashes, a blink for a buyer.
const BOT_DEFENCE_BITS: u8 = 16;

/// Bot defence: with proof of work on (`oms serve --proof-of-work-bits`), a claim without
/// a proof is refused naming the challenge; one whose proof solves it for its own customer
/// and sale is taken.
async fn bot_defence(api: &Router, guarded: &Router) -> anyhow::Result<()> {
    let (sku, ..) = CATALOGUE[1];
    let now = chrono::Utc::now();
    let body = json!({ "merchant_id": MERCHANT, "sku": sku, "units": 2, "per_customer_limit": 1, "shards": 1,
                       "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1),
                       "price": "49.00" });
    let sale = expect(api, Method::POST, "/flash-sales", body, StatusCode::CREATED).await?;
    let sale_id = sale["sale_id"].as_str().unwrap_or_default().to_owned();
    let claims = format!("/flash-sales/{sale_id}/claims");
    let address = json!({ "line1": "2 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN" });
    let claim = json!({ "customer_id": "c-400", "quantity": 1, "idempotency_key": "c-400-a", "shipping_address": address });
    let (status, refused) = call(guarded, Method::POST, &claims, claim.clone()).await?;
    println!("Bot defence: a burst sale of 2 x {sku} asks a proof of work of {BOT_DEFENCE_BITS} bits");
    println!("  a claim without one: {status} {}", refused["error"]["code"].as_str().unwrap_or_default());
    let started = std::time::Instant::now();
    let nonce = oms_api::admission::solve(&sale_id, "c-400", BOT_DEFENCE_BITS, chrono::Utc::now());
    let took = started.elapsed();
    let request = Request::builder()
        .method(Method::POST)
        .uri(&claims)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {TEAHOUSE_STAFF}"))
        .header(oms_api::admission::PROOF_HEADER, &nonce)
        .body(Body::from(serde_json::to_vec(&claim).context("Failed to encode a claim")?))
        .context("Failed to build a request")?;
    let (status, taken) = send(guarded, request).await?;
    println!(
        "  solved in {} ms (nonce {nonce}); the claim with it: {status}, claim {}",
        took.as_millis(),
        taken["claim_id"].as_str().unwrap_or_default()
    );
    Ok(())
}

/// A suspicious order: one that looks like fraud (120 units in a line, a US phone for an address
/// in China) is held for review with its score and reasons, never allocated, until staff
/// release it; it then goes on to allocation like any order.
async fn fraud_review(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    let (sku, price, _) = CATALOGUE[0];
    let mut order = sample_order(ORDERS + 7);
    order["customer"]["phone"] = json!("+1 202 555 0100");
    order["lines"] = json!([{ "sku": sku, "quantity": 120, "unit_price": price }]);
    let (_, receipt) = post_order(api, &order, true).await?;
    let order_id = receipt["order_id"].as_str().unwrap_or_default().to_owned();
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let held = expect(api, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "A suspicious order: 120 x {sku} with a US phone to {}: {} ({}, score {})",
        order["shipping_address"]["city"].as_str().unwrap_or_default(),
        held["status"].as_str().unwrap_or("?"),
        held["hold"]["reason"].as_str().unwrap_or("?"),
        held["hold"]["score"]
    );
    for reason in held["hold"]["reasons"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!("  {}", reason.as_str().unwrap_or_default());
    }
    let note = json!({ "note": "a tea shop's opening stock; confirmed by phone" });
    let released = expect(api, Method::POST, &format!("/orders/{order_id}/release"), note, StatusCode::OK).await?;
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let after = expect(api, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  POST /orders/{order_id}/release: {}, then {} once allocation ran",
        released["status"].as_str().unwrap_or("?"),
        after["status"].as_str().unwrap_or("?")
    );
    one_card_many_buyers(api, embedded).await
}

/// One card behind many customer ids: six small orders within the hour, each by another
/// customer to another door but paid with one card, then a seventh of 150 units: held for
/// the card's velocity and the quantity, and cancelled by staff.
async fn one_card_many_buyers(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    const CARD: &str = "fp_7Hq2LxD9";
    let (sku, price, _) = CATALOGUE[1];
    let order_of = |k: usize, quantity: u32| {
        let mut order = sample_order(ORDERS + 20 + k);
        order["external_id"] = json!(format!("CARD-{k}"));
        order["customer"]["id"] = json!(format!("c-card-{k}"));
        order["customer"]["phone"] = json!(format!("+86 139 0000 {k:04}"));
        order["customer"]["card_fingerprint"] = json!(CARD);
        order["placed_at"] = json!(format!("2026-11-20T21:{:02}:00Z", 5 * k));
        order["lines"] = json!([{ "sku": sku, "quantity": quantity, "unit_price": price }]);
        order
    };
    for k in 0..6 {
        post_order(api, &order_of(k, 1), true).await?;
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let (_, receipt) = post_order(api, &order_of(6, 150), true).await?;
    let order_id = receipt["order_id"].as_str().unwrap_or_default().to_owned();
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let held = expect(api, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "One card behind seven customer ids within the hour, the seventh buying 150 x {sku}: {} (score {})",
        held["status"].as_str().unwrap_or("?"),
        held["hold"]["score"]
    );
    for reason in held["hold"]["reasons"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!("  {}", reason.as_str().unwrap_or_default());
    }
    // The card's holder reports it stolen: staff find every order paid with it and cancel them.
    let by_card = expect(api, Method::GET, &format!("/orders?card={CARD}"), Value::Null, StatusCode::OK).await?;
    let body = json!({ "reason": "card reported stolen by its holder" });
    let mut cancelled = 0;
    for order in by_card["orders"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let id = order["order_id"].as_str().unwrap_or_default();
        let answer = expect(api, Method::POST, &format!("/orders/{id}/cancel"), body.clone(), StatusCode::OK).await?;
        cancelled += usize::from(answer["status"] == "cancelled");
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    println!(
        "  the card reported stolen: GET /orders?card={CARD} finds {} orders ({order_id} among them), {cancelled} cancelled",
        by_card["orders"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

/// Dawn: eight weeks of a jasmine tea's sales (more at weekends), a recount that finds
/// little left, and the low-stock check raising one alert; `GET /replenishment` says what
/// to order from which supplier, with the forecast and its error.
async fn replenishment(api: &Router, embedded: &Embedded, ports: &Ports) -> anyhow::Result<()> {
    const JASMINE: &str = "TEA-JASMINE-100G";
    const WEEKS: i64 = 8;
    let (warehouse, ..) = WAREHOUSES[0];
    expect(api, Method::PUT, &format!("/inventory/{warehouse}/{JASMINE}"), json!({ "on_hand": 400 }), StatusCode::OK).await?;
    let supplier = json!({ "merchant_id": MERCHANT, "name": "Fuzhou Jasmine Co-op", "lead_time_days": 5,
                           "skus": [{ "sku": JASMINE, "unit_cost": "18.00", "pack_size": 12, "min_order": 24 }] });
    expect(api, Method::PUT, "/suppliers/sup-jasmine", supplier, StatusCode::CREATED).await?;
    let today = chrono::Utc::now().date_naive();
    let mut units = 0;
    for day in 1..=WEEKS * 7 {
        let date = today - chrono::Duration::days(day);
        let weekend = matches!(chrono::Datelike::weekday(&date), chrono::Weekday::Sat | chrono::Weekday::Sun);
        let quantity = if weekend { 4 } else { 1 + (day % 3) as usize };
        units += quantity;
        let mut order = sample_order(day as usize);
        order["external_id"] = json!(format!("J-{day}"));
        order["placed_at"] = json!(format!("{date}T10:00:00Z"));
        order["lines"] = json!([{ "sku": JASMINE, "quantity": quantity, "unit_price": "38.00" }]);
        post_order(api, &order, true).await?;
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(60)).await? {
        bail!("the queues did not drain within 60 s");
    }
    // The orders still hold what they reserved; the recount finds 5 units besides them.
    let view = expect(api, Method::GET, &format!("/inventory/{JASMINE}"), Value::Null, StatusCode::OK).await?;
    let reserved = view["warehouses"][0]["reserved"].as_u64().unwrap_or(0);
    let on_hand = reserved + 5;
    expect(api, Method::PUT, &format!("/inventory/{warehouse}/{JASMINE}"), json!({ "on_hand": on_hand }), StatusCode::OK).await?;
    println!(
        "Dawn: {JASMINE} sold {units} units over {WEEKS} weeks (more at weekends); a recount in {warehouse} finds {on_hand} \
         on hand, {reserved} of them held by orders"
    );
    let check = oms_domain::usecases::replenishment::check_low_stock(ports).await?;
    let again = oms_domain::usecases::replenishment::check_low_stock(ports).await?;
    let alerts = expect(api, Method::GET, "/alerts?status=open", Value::Null, StatusCode::OK).await?;
    let alert = alerts["alerts"].as_array().into_iter().flatten().find(|a| a["kind"] == "low_stock");
    println!(
        "  the low-stock check: {} of {} stocks low, {} alert raised; checked again: {} raised (one alert per crossing)",
        check.low,
        check.checked,
        check.raised.len(),
        again.raised.len()
    );
    if let Some(alert) = alert {
        println!("  alert {}: {}", alert["kind"].as_str().unwrap_or("?"), alert["message"].as_str().unwrap_or("?"));
    }
    let view = expect(api, Method::GET, &format!("/replenishment?sku={JASMINE}"), Value::Null, StatusCode::OK).await?;
    for s in view["suggestions"].as_array().into_iter().flatten() {
        let compared: Vec<String> = s["forecast"]["compared"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| format!("{} {:.2}", m["method"].as_str().unwrap_or("?"), m["error"].as_f64().unwrap_or(0.0)))
            .collect();
        println!(
            "  GET /replenishment?sku={JASMINE}: {} in {}: order {} from {} (reorder point {}, safety stock {}, {} available \
             and incoming); forecast {} at {:.2} a day, held-out error {:.2} per day (compared: {})",
            s["sku"].as_str().unwrap_or("?"),
            s["warehouse"].as_str().unwrap_or("?"),
            s["order_quantity"],
            s["supplier"]["name"].as_str().unwrap_or("no supplier"),
            s["reorder_point"],
            s["safety_stock"],
            s["position"],
            s["forecast"]["method"].as_str().unwrap_or("none"),
            s["forecast"]["daily"].as_f64().unwrap_or(0.0),
            s["forecast"]["error"].as_f64().unwrap_or(0.0),
            compared.join(", "),
        );
    }
    Ok(())
}

/// The generic-channel body of the demo's `i`th order: one or two SKUs, 1 to 4 units each.
fn sample_order(i: usize) -> Value {
    let (province, city) = BUYERS[i % BUYERS.len()];
    let mut lines = vec![line(i % CATALOGUE.len(), 1 + i % 4)];
    if i.is_multiple_of(3) {
        lines.push(line((i + 2) % CATALOGUE.len(), 1 + i % 2));
    }
    let mut order = json!({
        "external_id": format!("A-{}", 1000 + i),
        "merchant_id": MERCHANT,
        "placed_at": format!("2026-11-20T{:02}:{:02}:00Z", 8 + i / 6, (i * 7) % 60),
        "currency": "CNY",
        "customer": { "id": format!("c-{}", 100 + i % 12), "email": format!("buyer{}@example.com", i % 12),
                      "phone": format!("+86 138 0000 {:04}", i % 12) },
        "shipping_address": { "name": format!("Buyer {i}"), "line1": format!("{} Demo Road", 1 + i),
                              "city": city, "province": province, "postal_code": "100000", "country": "CN" },
        "lines": lines,
    });
    // Every fourth buyer is a business, giving its invoice details at checkout.
    if i.is_multiple_of(4) {
        order["customer"]["billing"] = json!({
            "company": format!("{city} Tea Traders No. {i}"),
            "tax_id": format!("9133010{i:04}MA27XQ"),
            "address": { "line1": format!("{} Commerce Street", 10 + i), "city": city, "province": province, "country": "CN" },
        });
    }
    order
}

fn line(catalogue_index: usize, quantity: usize) -> Value {
    let (sku, price, _) = CATALOGUE[catalogue_index];
    json!({ "sku": sku, "quantity": quantity, "unit_price": price })
}

async fn post_order(api: &Router, order: &Value, sign: bool) -> anyhow::Result<(StatusCode, Value)> {
    let body = serde_json::to_vec(order).context("Failed to encode an order")?;
    let secret = if sign { SECRET } else { "a-guess" };
    let request = Request::builder()
        .method(Method::POST)
        .uri("/channels/generic/orders")
        .header("content-type", "application/json")
        .header(signature::header_name(Channel::Generic), signature::sign(Channel::Generic, secret.as_bytes(), &body))
        .body(Body::from(body))
        .context("Failed to build a request")?;
    send(api, request).await
}

/// The teahouse's staff, with every scope a merchant's staff may hold.
const TEAHOUSE_STAFF: &str = "demo-teahouse-staff-token";
/// The kite shop's staff, who may read their own orders and stock.
const NEIGHBOUR_STAFF: &str = "demo-kitehouse-staff-token";
/// Platform staff, who operate the shared warehouses and see every merchant.
const PLATFORM_STAFF: &str = "demo-platform-staff-token";
/// A merchant joining the platform today, onboarding (`onboarding`).
const NEWCOMER: &str = "m-inkstone";
/// The newcomer's staff, with every scope a merchant's staff may hold.
const NEWCOMER_STAFF: &str = "demo-inkstone-staff-token";
/// The platform's own storefront, buying on its customers' behalf (bulk trade).
const PLATFORM_SHOP: &str = "demo-platform-storefront-token";

/// The bearer tokens `oms serve --tokens` would be given for the demo's three callers.
fn demo_tokens() -> anyhow::Result<Authenticator> {
    let merchant_scopes = ["oms/orders.read", "oms/orders.write", "oms/inventory.read", "oms/inventory.write", "oms/storefront"];
    let grants = json!([
        { "token": TEAHOUSE_STAFF, "merchant_id": MERCHANT, "scopes": merchant_scopes },
        { "token": NEIGHBOUR_STAFF, "merchant_id": NEIGHBOUR, "scopes": ["oms/orders.read", "oms/inventory.read"] },
        { "token": PLATFORM_STAFF, "scopes": ["oms/platform", "oms/admin", "oms/orders.read", "oms/inventory.read", "oms/inventory.write"] },
        { "token": NEWCOMER_STAFF, "merchant_id": NEWCOMER, "scopes": merchant_scopes },
        { "token": PLATFORM_SHOP, "scopes": ["oms/platform", "oms/storefront"] },
        { "token": bulk_trade::JOINING[0].staff, "merchant_id": bulk_trade::JOINING[0].merchant, "scopes": merchant_scopes },
        { "token": bulk_trade::JOINING[1].staff, "merchant_id": bulk_trade::JOINING[1].merchant, "scopes": merchant_scopes },
    ]);
    Ok(Authenticator::Tokens(Arc::new(TokenTable::from_json(&grants.to_string())?)))
}

/// A request as the teahouse's staff.
async fn call(api: &Router, method: Method, uri: &str, body: Value) -> anyhow::Result<(StatusCode, Value)> {
    call_as(api, Some(TEAHOUSE_STAFF), method, uri, body).await
}

/// A request with `token` as its bearer token (none: no `Authorization` header).
async fn call_as(
    api: &Router,
    token: Option<&str>,
    method: Method,
    uri: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let body =
        if body.is_null() { Body::empty() } else { Body::from(serde_json::to_vec(&body).context("Failed to encode a body")?) };
    let mut request = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(api, request.body(body).context("Failed to build a request")?).await
}

async fn expect(api: &Router, method: Method, uri: &str, body: Value, want: StatusCode) -> anyhow::Result<Value> {
    expect_as(api, TEAHOUSE_STAFF, method, uri, body, want).await
}

async fn expect_as(api: &Router, token: &str, method: Method, uri: &str, body: Value, want: StatusCode) -> anyhow::Result<Value> {
    let (status, answer) = call_as(api, Some(token), method.clone(), uri, body).await?;
    if status != want {
        bail!("{method} {uri} answered {status}: {answer}");
    }
    Ok(answer)
}

/// What the warehouses' systems and a shop were told: every reserved order's warehouses got
/// a signed fulfilment request, every cancel a cancellation; a Shopify order's parcel is
/// written back to the shop as a fulfillment with its tracking number.
async fn told_outside(api: &Router, embedded: &Embedded, fakes: &oms_outbound::fakes::Fakes) -> anyhow::Result<()> {
    let told = fakes.warehouse_requests();
    let requested = told.iter().filter(|r| r.event == "fulfilment.requested").count();
    println!(
        "Told outside: the warehouses' systems took {requested} signed fulfilment requests and {} cancellations",
        told.len() - requested
    );
    if let Some(first) = told.first() {
        let lines: Vec<String> = first.body["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| format!("{} x {}", l["quantity"], l["sku"].as_str().unwrap_or_default()))
            .collect();
        println!(
            "  e.g. {} was asked for {} of order {}, by {} to {}",
            first.warehouse,
            lines.join(", "),
            first.body["order_number"].as_str().unwrap_or_default(),
            first.body["carrier"].as_str().unwrap_or("any carrier"),
            first.body["ship_to"]["city"].as_str().unwrap_or_default()
        );
    }
    // A Shopify order: the shop knows it by its own ids, line items included.
    let (sku, price, _) = CATALOGUE[1];
    fakes.seed_shopify("820982911946154508", &[(466157049, sku, 1)]);
    let order = json!({
        "id": 820982911946154508u64, "name": "#1024", "email": "mei@example.com", "currency": "CNY",
        "created_at": chrono::Utc::now().to_rfc3339(), "financial_status": "paid",
        "customer": { "id": 115310627314723954u64, "email": "mei@example.com", "first_name": "Mei", "last_name": "Chen" },
        "shipping_address": { "name": "Mei Chen", "address1": "8 Nanjing Rd", "city": "Shanghai", "province": "Shanghai",
                              "zip": "200001", "country_code": "CN" },
        "line_items": [{ "id": 466157049, "sku": sku, "quantity": 1, "price": price }]
    });
    let body = serde_json::to_vec(&order).context("Failed to encode an order")?;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/channels/shopify/orders")
        .header("content-type", "application/json")
        .header("x-shopify-shop-domain", MERCHANT)
        .header(signature::header_name(Channel::Shopify), signature::sign(Channel::Shopify, SECRET.as_bytes(), &body))
        .body(Body::from(body))
        .context("Failed to build a request")?;
    let (status, receipt) = send(api, request).await?;
    if status != StatusCode::ACCEPTED {
        bail!("the Shopify order was answered {status}: {receipt}");
    }
    let order_id = receipt["order_id"].as_str().unwrap_or_default().to_owned();
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let order = call(api, Method::GET, &format!("/orders/{order_id}"), Value::Null).await?.1;
    let parcel = json!({ "carrier": "sf", "tracking_number": "SF-DEMO-SHOP-1", "lines": [{ "sku": sku, "quantity": 1 }] });
    expect(api, Method::POST, &format!("/orders/{order_id}/shipments"), parcel, StatusCode::CREATED).await?;
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let fulfilled = fakes.shopify_fulfillments("820982911946154508");
    println!(
        "  Shopify order #1024 ({}, from {}) shipped: the shop recorded {} fulfillment(s), tracking {} by {}",
        order["status"].as_str().unwrap_or_default(),
        order["allocation"]["lines"][0]["warehouse"].as_str().unwrap_or_default(),
        fulfilled.len(),
        fulfilled.first().and_then(|f| f["tracking_number"].as_str()).unwrap_or("none"),
        fulfilled.first().and_then(|f| f["tracking_company"].as_str()).unwrap_or("none"),
    );
    let problems = fakes.problems();
    if !problems.is_empty() {
        bail!("a fake refused a request the OMS sent: {problems:?}");
    }
    println!("  every request had the shape its API documents (the fakes refuse any other)");
    Ok(())
}

async fn send(api: &Router, request: Request<Body>) -> anyhow::Result<(StatusCode, Value)> {
    let response = api.clone().oneshot(request).await.context("The router failed")?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.context("Failed to read an answer")?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

async fn print_summary(embedded: &Embedded, api: &Router, accepted: &[String]) -> anyhow::Result<()> {
    println!("\nOrders by status");
    let counts: BTreeMap<String, usize> =
        embedded.order_counts_by_status().await?.into_iter().map(|(s, n)| (s.as_str().to_owned(), n)).collect();
    for status in OrderStatus::ALL {
        if let Some(n) = counts.get(status.as_str()) {
            println!("  {:<12} {n:>4}", status.as_str());
        }
    }
    println!("\nStock per warehouse and owner");
    println!("  {:<14} {:<20} {:<13} {:>8} {:>9} {:>10}", "warehouse", "sku", "owner", "on hand", "reserved", "available");
    for level in embedded.all_stock().await? {
        println!(
            "  {:<14} {:<20} {:<13} {:>8} {:>9} {:>10}",
            level.warehouse.as_str(),
            level.sku.as_str(),
            level.owner.as_str(),
            level.on_hand,
            level.reserved,
            level.available
        );
    }
    analytics(api).await?;
    for order_id in accepted.iter().take(1).chain(accepted.iter().skip(3).take(1)) {
        let order = call(api, Method::GET, &format!("/orders/{order_id}"), Value::Null).await?.1;
        println!(
            "\nTimeline of {} ({}, {})",
            order_id,
            order["external_id"].as_str().unwrap_or("?"),
            order["status"].as_str().unwrap_or("?")
        );
        for event in order["timeline"].as_array().into_iter().flatten() {
            println!(
                "  {}  {:<12} {}",
                event["at"].as_str().unwrap_or("?"),
                event["status"].as_str().unwrap_or("?"),
                event["detail"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// The day's sales by province, how long orders took to be reserved, and the rates, as
/// `GET /analytics` reports them.
async fn analytics(api: &Router) -> anyhow::Result<()> {
    let uri = "/analytics?from=2026-11-20&to=2026-11-20&by=province";
    let report = expect(api, Method::GET, uri, Value::Null, StatusCode::OK).await?;
    println!("\nSales of 2026-11-20 by province (GET {uri})");
    println!("  {:<12} {:>6} {:>6} {:>10}", "province", "orders", "units", "revenue");
    for row in report["rows"].as_array().into_iter().flatten() {
        println!(
            "  {:<12} {:>6} {:>6} {:>10} {}",
            row["key"].as_str().unwrap_or("?"),
            row["orders"],
            row["units"],
            row["revenue"].as_str().unwrap_or("?"),
            row["currency"].as_str().unwrap_or("")
        );
    }
    let reserving = &report["stages"][0];
    let rates = &report["rates"];
    let percent = |v: &Value| v.as_f64().map_or("-".to_owned(), |r| format!("{:.0} %", r * 100.0));
    println!(
        "  received to reserved: median {} s, p90 {} s over {} orders; fill rate {}, backorder rate {}, split rate {}, cancel rate {}",
        reserving["median_seconds"],
        reserving["p90_seconds"],
        reserving["orders"],
        percent(&rates["fill_rate"]),
        percent(&rates["backorder_rate"]),
        percent(&rates["split_rate"]),
        percent(&rates["cancel_rate"])
    );
    if let Some(all) = report["shipping_cost"].as_array().and_then(|costs| costs.first()) {
        println!("  planned shipping cost: {} per order over {} orders", all["per_order"].as_str().unwrap_or("?"), all["orders"]);
    }
    Ok(())
}

/// The staff dashboard: where it is, and what it reads with the staff's token (the counts
/// by status, a status's newest orders, the open alerts), as the page would.
async fn staff_dashboard(api: &Router) -> anyhow::Result<()> {
    let (status, _) = call_as(api, None, Method::GET, "/dashboard", Value::Null).await?;
    if status != StatusCode::OK {
        bail!("GET /dashboard answered {status}");
    }
    println!(
        "The staff dashboard (oms serve --tokens FILE: http://127.0.0.1:3000/dashboard; the page asks for a token once) reads, with the teahouse's token:"
    );
    let uri = "/analytics?by=status&from=2026-11-20&to=2026-11-20";
    let report = expect(api, Method::GET, uri, Value::Null, StatusCode::OK).await?;
    let mut counts: Vec<(String, u64)> = Vec::new();
    for row in report["rows"].as_array().into_iter().flatten() {
        let key = row["key"].as_str().unwrap_or("?").to_owned();
        let orders = row["orders"].as_u64().unwrap_or(0);
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += orders,
            None => counts.push((key, orders)),
        }
    }
    counts.sort();
    let counts: Vec<String> = counts.into_iter().map(|(key, n)| format!("{key} {n}")).collect();
    println!("  orders of 2026-11-20 by status (GET {uri}; the page counts the last 14 days): {}", counts.join(", "));
    let reserved = expect(api, Method::GET, "/orders?status=reserved&limit=3", Value::Null, StatusCode::OK).await?;
    let newest: Vec<&str> =
        reserved["orders"].as_array().into_iter().flatten().filter_map(|o| o["external_id"].as_str()).collect();
    println!("  the newest reserved orders (GET /orders?status=reserved&limit=3): {}", newest.join(", "));
    let alerts = expect(api, Method::GET, "/alerts?status=open", Value::Null, StatusCode::OK).await?;
    let open = alerts["alerts"].as_array().map_or(0, Vec::len);
    println!("  open alerts (GET /alerts?status=open), each with Acknowledge and Resolve: {open}");
    Ok(())
}

/// Last orders: a second carrier, sf, offers a dearer express service that arrives the same
/// day nearby and carries fragile and cold-chain parcels, beside zto's cheaper standard one
/// that carries neither. Each plan's shipment gets the carrier that suits it, with the
/// reason and the runner-up: the cheapest with no date promised, the one in time for a
/// promised date, the only one that takes a fragile teapot.
async fn carrier_choice(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    let band = |km: u32, price: &str, days: u32| {
        json!({"service": "express", "max_distance_km": km, "max_weight_g": 5000, "price": price, "transit_days": days,
               "handles": ["fragile", "cold_chain"], "max_side_mm": 600})
    };
    let rates = json!({"currency": "CNY", "bands": [band(300, "12.00", 0), band(5000, "40.00", 1)]});
    expect_as(api, PLATFORM_STAFF, Method::PUT, "/carriers/sf/rates", rates, StatusCode::OK).await?;
    let teapot = json!({"merchant_id": MERCHANT, "name": "Yixing teapot", "category": "teaware", "cost": "80.00",
                        "list_price": "198.00", "weight_g": 700, "dims_mm": [180, 140, 120], "traits": ["fragile"]});
    expect(api, Method::PUT, "/skus/TEAPOT-YIXING", teapot, StatusCode::OK).await?;
    let (warehouse, ..) = WAREHOUSES[0];
    expect(api, Method::PUT, &format!("/inventory/{warehouse}/TEAPOT-YIXING"), json!({ "on_hand": 5 }), StatusCode::OK).await?;
    println!("Last orders: carrier sf adds a dearer express service (same day within 300 km) that carries fragile parcels");

    let now = chrono::Utc::now();
    let today = now.date_naive().to_string();
    let tea = json!([{ "sku": "TEA-LONGJING-250G", "quantity": 1, "unit_price": "168.00" }]);
    let teapot = json!([{ "sku": "TEAPOT-YIXING", "quantity": 1, "unit_price": "198.00" }]);
    let cases = [
        ("Longjing tea, no date promised", tea.clone(), None),
        ("Longjing tea, delivery promised today", tea, Some(today)),
        ("a fragile Yixing teapot", teapot, None),
    ];
    let mut ids = Vec::new();
    for (i, (_, lines, deliver_by)) in cases.iter().enumerate() {
        // Buyers in Hangzhou (the first of `BUYERS`).
        let mut order = sample_order(ORDERS + 34 + i * BUYERS.len());
        order["placed_at"] = json!(now.to_rfc3339());
        order["lines"] = lines.clone();
        if let Some(date) = deliver_by {
            order["deliver_by"] = json!(date);
        }
        let (status, receipt) = post_order(api, &order, true).await?;
        if status != StatusCode::ACCEPTED {
            bail!("an order of the last ones was answered {status}: {receipt}");
        }
        ids.push(receipt["order_id"].as_str().unwrap_or_default().to_owned());
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    for ((label, ..), id) in cases.iter().zip(&ids) {
        let order = call(api, Method::GET, &format!("/orders/{id}"), Value::Null).await?.1;
        println!("  {label} (buyer in Hangzhou): {}", order["status"].as_str().unwrap_or("?"));
        for shipment in order["allocation"]["shipments"].as_array().into_iter().flatten() {
            println!(
                "    from {}: {} {} at {} in {} day(s): {}",
                shipment["warehouse"].as_str().unwrap_or("?"),
                shipment["carrier"].as_str().unwrap_or("none"),
                shipment["service"].as_str().unwrap_or("-"),
                shipment["price"].as_str().unwrap_or("-"),
                shipment["transit_days"],
                shipment["why"].as_str().unwrap_or("")
            );
            for lost in shipment["runners_up"].as_array().into_iter().flatten() {
                println!(
                    "      lost: {} {}: {}",
                    lost["carrier"].as_str().unwrap_or("?"),
                    lost["service"].as_str().unwrap_or("?"),
                    lost["why"].as_str().unwrap_or("")
                );
            }
        }
    }
    Ok(())
}

/// The day's reports (every template) as HTML with its charts, CSV and XLSX in the data
/// directory, as `oms report all --from 2026-11-20 --to 2026-11-20` writes them, and the
/// files `GET /reports` lists.
async fn reports(embedded: &Embedded, api: &Router, data_dir: &Path) -> anyhow::Result<()> {
    use oms_domain::reports::{ReportQuery, Template};
    let query = ReportQuery::parse(Some("2026-11-20"), Some("2026-11-20"), None, chrono::Utc::now())?;
    let documents = crate::reports::documents(embedded, &query, &Template::ALL, false).await?;
    let out = crate::reports::run_dir(data_dir, chrono::Utc::now());
    let written = crate::reports::write(&documents, crate::reports::Formats::ALL, &out)?;
    println!("\nReports of 2026-11-20 ({} files) in {}", written.len(), out.display());
    for path in written.iter().filter(|p| p.extension().is_some_and(|e| e == "html" || e == "xlsx")) {
        println!("  {}", path.display());
    }
    let listed = expect_as(api, PLATFORM_STAFF, Method::GET, "/reports", Value::Null, StatusCode::OK).await?;
    println!("  GET /reports (platform staff) lists {} files", listed["reports"].as_array().map_or(0, Vec::len));
    // They cover every merchant: a merchant's own credential is refused.
    expect(api, Method::GET, "/reports", Value::Null, StatusCode::FORBIDDEN).await?;
    println!("  GET /reports with the teahouse's credential: 403 forbidden (reports cover every merchant)");
    Ok(())
}

/// Auction night: the teahouse auctions one ink set (from 100 by 10, reserve 150, closing in
/// two minutes, a bid in the last five minutes moving the end to five minutes after it) and
/// a second one with a reserve nobody reaches. Two bids of the same amount at the same
/// instant: exactly one wins. The sweeper, an hour on, closes both: the first makes the
/// winner's order (channel `auction`, unpaid), allocated and reserved by the workers as any
/// order; the second ends with no order.
async fn auctions(api: &Router, embedded: &Embedded, ports: &Ports) -> anyhow::Result<()> {
    let (sku, ..) = CATALOGUE[4];
    let listing = |reserve: &str| {
        json!({ "merchant_id": MERCHANT, "sku": sku, "start_price": "100", "increment": "10", "reserve_price": reserve,
                "ends_at": chrono::Utc::now() + chrono::Duration::minutes(2),
                "anti_sniping": { "window_minutes": 5, "extension_minutes": 5, "max_extension_minutes": 15 } })
    };
    let auction = expect(api, Method::POST, "/auctions", listing("150"), StatusCode::CREATED).await?;
    let unsold = expect(api, Method::POST, "/auctions", listing("500"), StatusCode::CREATED).await?;
    let id = auction["auction_id"].as_str().unwrap_or_default().to_owned();
    let unsold_id = unsold["auction_id"].as_str().unwrap_or_default().to_owned();
    println!("\nAuction night: one {sku} from 100 by 10, reserve 150 (never shown to bidders), ends at {}", auction["ends_at"]);
    let bids = format!("/auctions/{id}/bids");
    let bid = |customer: &str, key: &str, amount: &str| {
        json!({ "customer_id": customer, "amount": amount, "idempotency_key": key,
                "shipping_address": { "name": customer, "line1": "8 Lingyin Rd", "city": "Hangzhou",
                                      "province": "Zhejiang", "country": "CN" } })
    };
    let first = expect(api, Method::POST, &bids, bid("c-400", "c-400-a", "100"), StatusCode::CREATED).await?;
    println!("  c-400 bids 100: accepted; the bid in the last five minutes moves the end to {}", first["ends_at"]);
    let (status, low) = call(api, Method::POST, &bids, bid("c-401", "c-401-a", "105")).await?;
    println!("  c-401 bids 105 (less than 100 + 10): {status}, {}", low["error"]["code"]);
    // Two bidders at the same instant with the same amount: one conditional write each on
    // the auction's version; the second finds the first's bid and is too low.
    let (a, b) = tokio::join!(
        call(api, Method::POST, &bids, bid("c-402", "c-402-a", "130")),
        call(api, Method::POST, &bids, bid("c-403", "c-403-a", "130"))
    );
    let (a, b) = (a?, b?);
    let won = [&a, &b].iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
    if won != 1 {
        bail!("two equal bids at once: {won} accepted ({a:?}, {b:?})");
    }
    println!("  c-402 and c-403 both bid 130 at the same instant: {} and {}, exactly one wins", a.0, b.0);
    let winner = if a.0 == StatusCode::CREATED { "c-402" } else { "c-403" };
    let best = expect(api, Method::POST, &bids, bid(winner, &format!("{winner}-b"), "160"), StatusCode::CREATED).await?;
    let again = expect(api, Method::POST, &bids, bid(winner, &format!("{winner}-b"), "160"), StatusCode::CREATED).await?;
    if again["bid_id"] != best["bid_id"] || again["repeated"] != json!(true) {
        bail!("a retried bid was not answered as the first: {again}");
    }
    let shown = expect(api, Method::GET, &format!("/auctions/{id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  {winner} raises to 160 (sent twice: one bid); the auction: best {}, {} bids, reserve met {}, ends {} (listed {})",
        shown["best_bid"], shown["bids"], shown["reserve_met"], shown["ends_at"], shown["listed_ends_at"]
    );
    expect(api, Method::POST, &format!("/auctions/{unsold_id}/bids"), bid("c-404", "c-404-a", "120"), StatusCode::CREATED)
        .await?;

    let later = Ports { clock: Arc::new(HoursLater(1)), ..ports.clone() };
    let report = sweep(&later, &SweepLimits::default()).await?;
    let closed: Vec<String> = report.auctions_closed.iter().map(|c| c.outcome.to_owned()).collect();
    let order_id = report
        .auctions_closed
        .iter()
        .find(|c| c.auction_id.as_str() == id)
        .and_then(|c| c.order_id.clone())
        .context("the auction was not won")?;
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let order = expect(api, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  an hour on, the sweeper closes both ({closed:?}): {winner} won at {}; order {order_id} (channel {}, external id the auction, unpaid) is {}",
        order["lines"][0]["unit_price"], order["channel"], order["status"]
    );
    let unsold = expect(api, Method::GET, &format!("/auctions/{unsold_id}"), Value::Null, StatusCode::OK).await?;
    println!("  the second auction's best bid 120 is below its reserve: {}, no order", unsold["outcome"]);
    let again = sweep(&later, &SweepLimits::default()).await?;
    if !again.auctions_closed.is_empty() {
        bail!("a second sweep closed an auction again");
    }
    Ok(())
}

/// Group buying: the teahouse offers tins of a new tea at a group price, 2 tins a buyer, for
/// 3 to 5 buyers (the 10 tins set aside at once from its Hangzhou stock), and a second offer
/// that needs 4 buyers. Three join the first (one sends its join twice: one join), so it
/// fills and every join becomes an unpaid order at the group price, allocated and reserved
/// from the set-aside tins by the workers. One buyer joins the second, which never fills:
/// the sweeper, past the deadline, gives back every tin of it and nobody is charged; the
/// first's two unjoined places go back too.
async fn group_buys(api: &Router, embedded: &Embedded, ports: &Ports) -> anyhow::Result<()> {
    const TIN: &str = "TEA-GROUP-TIN";
    let (warehouse, ..) = WAREHOUSES[0];
    expect(api, Method::PUT, &format!("/inventory/{warehouse}/{TIN}"), json!({ "on_hand": 20 }), StatusCode::OK).await?;
    let offer = |min_group: u32| {
        json!({ "merchant_id": MERCHANT, "sku": TIN, "price": "45.00", "min_group": min_group, "capacity": 5,
                "units_per_buyer": 2, "deadline": chrono::Utc::now() + chrono::Duration::minutes(30) })
    };
    let filling = expect(api, Method::POST, "/group-buys", offer(3), StatusCode::CREATED).await?;
    let lonely = expect(api, Method::POST, "/group-buys", offer(4), StatusCode::CREATED).await?;
    let id = filling["group_buy_id"].as_str().unwrap_or_default().to_owned();
    let lonely_id = lonely["group_buy_id"].as_str().unwrap_or_default().to_owned();
    println!(
        "\nGroup buying: {TIN} at 45.00 for 3 to 5 buyers, 2 tins each (10 tins set aside in {}), until {}",
        filling["warehouse_id"], filling["deadline"]
    );
    let join = |customer: &str| {
        json!({ "customer_id": customer, "idempotency_key": format!("{customer}-join"),
                "shipping_address": { "name": customer, "line1": "8 Lingyin Rd", "city": "Hangzhou",
                                      "province": "Zhejiang", "country": "CN" } })
    };
    let joins = format!("/group-buys/{id}/joins");
    let first = expect(api, Method::POST, &joins, join("c-500"), StatusCode::CREATED).await?;
    let again = expect(api, Method::POST, &joins, join("c-500"), StatusCode::CREATED).await?;
    if again["join_id"] != first["join_id"] || again["repeated"] != json!(true) {
        bail!("a repeated join was not answered as the first: {again}");
    }
    println!("  c-500 joins (sent twice: one join, {} joined, {} needed)", again["joined"], again["needed"]);
    expect(api, Method::POST, &joins, join("c-501"), StatusCode::CREATED).await?;
    let third = expect(api, Method::POST, &joins, join("c-502"), StatusCode::CREATED).await?;
    if third["state"] != json!("filled") {
        bail!("the third join did not fill the group: {third}");
    }
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let order_id = first["order_id"].as_str().unwrap_or_default();
    let order = expect(api, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  c-502 fills the group: every join becomes an order; c-500's {order_id} (channel {}, {} tins at {}, {}) is {}",
        order["channel"],
        order["lines"][0]["quantity"],
        order["lines"][0]["unit_price"],
        order["payment_status"],
        order["status"]
    );
    let lonely_join =
        expect(api, Method::POST, &format!("/group-buys/{lonely_id}/joins"), join("c-503"), StatusCode::CREATED).await?;
    println!("  c-503 joins the second offer: {} of 4 needed", lonely_join["joined"]);

    let later = Ports { clock: Arc::new(HoursLater(1)), ..ports.clone() };
    let report = sweep(&later, &SweepLimits::default()).await?;
    let settled: Vec<String> =
        report.group_buys_settled.iter().map(|g| format!("{} ({} tins back)", g.state.as_str(), g.units_returned)).collect();
    println!("  past the deadline the sweeper settles both: {settled:?}");
    let lonely_order = lonely_join["order_id"].as_str().unwrap_or_default();
    let (status, _) = call(api, Method::GET, &format!("/orders/{lonely_order}"), Value::Null).await?;
    if status != StatusCode::NOT_FOUND {
        bail!("the unfilled offer's join has an order: {status}");
    }
    println!(
        "  the second offer made no order: nobody charged (the first's orders, still unpaid an hour on, expire like any unpaid order's: {} expired)",
        report.expired.len()
    );
    if !sweep(&later, &SweepLimits::default()).await?.group_buys_settled.is_empty() {
        bail!("a second sweep settled a group buy again");
    }
    Ok(())
}

/// After the sale: the Hangzhou buyers review their Longjing. SHIP-2's buyer cannot review
/// before it has the tea, confirms delivery (the carrier never scanned it), then rates it;
/// SHIP-1's buyer (delivered by the carrier) rates it, its storefront retrying the same
/// review once; the SKU's rating is what a storefront shows.
async fn after_the_sale(api: &Router) -> anyhow::Result<()> {
    let (sku, ..) = CATALOGUE[0];
    let mut orders = Vec::new();
    for external_id in ["SHIP-1", "SHIP-2"] {
        let found = expect(api, Method::GET, &format!("/orders?external_id={external_id}"), Value::Null, StatusCode::OK).await?;
        let order = found["orders"][0].clone();
        if order.is_null() {
            bail!("no order {external_id}");
        }
        orders.push(order);
    }
    let (first, second) = (&orders[0], &orders[1]);
    let (first_id, second_id) = (first["order_id"].as_str().unwrap_or_default(), second["order_id"].as_str().unwrap_or_default());
    let review = |order: &Value, rating: u32, text: &str| json!({ "customer_id": order["customer"]["id"], "sku": sku, "rating": rating, "text": text });
    let early = review(second, 2, "Arrived late");
    let (status, refusal) = call(api, Method::POST, &format!("/orders/{second_id}/reviews"), early).await?;
    println!(
        "After the sale: SHIP-2's buyer reviews before it has the tea ({}): {status} {}",
        second["status"].as_str().unwrap_or("?"),
        refusal["error"]["code"].as_str().unwrap_or("?")
    );
    let buyer = json!({ "customer_id": second["customer"]["id"] });
    let confirmed =
        expect(api, Method::POST, &format!("/orders/{second_id}/delivery-confirmation"), buyer, StatusCode::OK).await?;
    println!(
        "  POST /orders/{second_id}/delivery-confirmation by its buyer: {} ({})",
        confirmed["status"].as_str().unwrap_or("?"),
        confirmed["timeline"].as_array().and_then(|t| t.last()).and_then(|e| e["detail"].as_str()).unwrap_or("?")
    );
    let late = review(second, 2, "Good tea, but it came a day and a half late");
    expect(api, Method::POST, &format!("/orders/{second_id}/reviews"), late, StatusCode::CREATED).await?;
    let praise = review(first, 5, "Fresh, grassy and sweet: the best Longjing I have had");
    let stored = expect(api, Method::POST, &format!("/orders/{first_id}/reviews"), praise.clone(), StatusCode::CREATED).await?;
    let (retried, _) = call(api, Method::POST, &format!("/orders/{first_id}/reviews"), praise).await?;
    let (changed, refusal) = call(api, Method::POST, &format!("/orders/{first_id}/reviews"), review(first, 1, "meh")).await?;
    println!(
        "  SHIP-1's buyer: {} stars; the same review again {retried}; a different one {changed} {}",
        stored["rating"],
        refusal["error"]["code"].as_str().unwrap_or("?")
    );
    let view = expect(api, Method::GET, &format!("/skus/{sku}/reviews"), Value::Null, StatusCode::OK).await?;
    println!(
        "  GET /skus/{sku}/reviews: {} reviews, {} stars on average, newest: {}",
        view["rating"]["count"], view["rating"]["average"], view["reviews"][0]["text"]
    );
    Ok(())
}

/// Rentals: a tea-ceremony set rented by the day. Two customers race for overlapping days
/// (exactly one wins, the other is told the days are taken), a third books days apart; the
/// winner's set is handed over, comes back two days late, is found chipped, and the
/// deposit is settled less the late fees and the damage.
async fn rentals(api: &Router) -> anyhow::Result<()> {
    let (warehouse, ..) = WAREHOUSES[0];
    let unit = json!({ "merchant_id": MERCHANT, "sku": "TEA-SET-CEREMONY", "warehouse_id": warehouse,
                       "daily_rate": "80.00", "deposit": "500.00", "late_fee_per_day": "60.00" });
    let registered = expect(api, Method::PUT, "/rental-units/tea-set-1", unit, StatusCode::OK).await?;
    let t = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    println!(
        "\nRentals: tea-set-1 ({}) at {} a day, deposit {}, late fee {} a day, kept in {warehouse} apart from sellable stock",
        t(&registered["sku"]),
        t(&registered["daily_rate"]),
        t(&registered["deposit"]),
        t(&registered["late_fee_per_day"])
    );
    let day = |n: i64| chrono::Utc::now().date_naive() + chrono::Duration::days(n);
    let book = |customer: &str, start: i64, end: i64| {
        json!({ "unit_id": "tea-set-1", "customer_id": customer, "idempotency_key": format!("{customer}-rent"),
                "start": day(start), "end": day(end) })
    };
    let (a, b) = tokio::join!(
        call(api, Method::POST, "/rentals", book("c-600", 1, 4)),
        call(api, Method::POST, "/rentals", book("c-601", 3, 6)),
    );
    let (a, b) = (a?, b?);
    let (winner, loser) = match (a.0, b.0) {
        (StatusCode::CREATED, StatusCode::CONFLICT) => (a.1, b.1),
        (StatusCode::CONFLICT, StatusCode::CREATED) => (b.1, a.1),
        _ => bail!("two overlapping bookings did not leave exactly one: {} {}, {} {}", a.0, a.1, b.0, b.1),
    };
    println!(
        "  c-600 ({} to {}) and c-601 ({} to {}) book at once: {} wins ({} days, {}); the other is told {}",
        day(1),
        day(4),
        day(3),
        day(6),
        t(&winner["customer_id"]),
        winner["days"],
        t(&winner["price"]),
        t(&loser["error"]["code"])
    );
    let apart = expect(api, Method::POST, "/rentals", book("c-602", 8, 10), StatusCode::CREATED).await?;
    println!("  c-602 books {} to {}, days apart: booked too", t(&apart["start"]), t(&apart["end"]));
    let order_path = format!("/orders/{}", t(&winner["order_id"]));
    let order = expect(api, Method::GET, &order_path, Value::Null, StatusCode::OK).await?;
    println!(
        "  the booking made its order: {} {} ({}), {} lines (the rent and the deposit), unpaid, never allocated",
        t(&order["channel"]),
        t(&order["order_id"]),
        t(&order["status"]),
        order["lines"].as_array().map_or(0, Vec::len)
    );
    let seen = expect(
        api,
        Method::GET,
        &format!("/rental-units/tea-set-1/availability?from={}&to={}", day(0), day(11)),
        Value::Null,
        StatusCode::OK,
    )
    .await?;
    println!(
        "  availability over 11 days: {} free, {} booked",
        seen["free"].as_array().map_or(0, Vec::len),
        seen["booked"].as_array().map_or(0, Vec::len)
    );

    let id = winner["booking_id"].as_str().unwrap_or_default().to_owned();
    let (start, end) = (winner["start"].clone(), winner["end"].as_str().unwrap_or_default().to_owned());
    let step = |name: &str| format!("/rentals/{id}/{name}");
    expect(api, Method::POST, &step("hand-over"), json!({ "on": start }), StatusCode::OK).await?;
    let end = chrono::NaiveDate::parse_from_str(&end, "%Y-%m-%d").context("the booking's end")?;
    let returned =
        expect(api, Method::POST, &step("return"), json!({ "on": end + chrono::Duration::days(2) }), StatusCode::OK).await?;
    println!("  handed over on {}, returned {} day(s) late", t(&start), t(&returned["late_days"]));
    let inspected =
        expect(api, Method::POST, &step("inspection"), json!({ "damage": "35.00", "note": "one cup chipped" }), StatusCode::OK)
            .await?;
    println!("  inspection: {} of damage ({})", t(&inspected["damage"]), t(&inspected["damage_note"]));
    let settled = expect(api, Method::POST, &step("settlement"), Value::Null, StatusCode::OK).await?;
    if settled["state"] != json!("settled") {
        bail!("the rental was not settled: {settled}");
    }
    println!(
        "  deposit {} settled: {} late fees, {} damage, {} back to the customer, {} owed beyond it",
        t(&settled["deposit"]),
        t(&settled["late_fees"]),
        t(&settled["damage"]),
        t(&settled["refund"]),
        t(&settled["owed"])
    );
    let order = expect(api, Method::GET, &order_path, Value::Null, StatusCode::OK).await?;
    println!("  the booking's order followed it: {}", t(&order["status"]));
    Ok(())
}

/// Repairs: two customers bring kettles with a burnt-out element, and the workshop has one
/// element left. Both quotes are accepted (each becomes an unpaid repair order, no stock
/// taken); both repairs start at once: one takes the last element, the other is told the
/// parts are short and nothing changes. The winner is completed, shipped back and closed
/// (its order delivered); the other customer cancels (its order cancelled with it).
async fn repairs(api: &Router) -> anyhow::Result<()> {
    let (workshop, ..) = WAREHOUSES[0];
    let t = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    expect(api, Method::PUT, &format!("/inventory/{workshop}/KETTLE-ELEMENT"), json!({ "on_hand": 1 }), StatusCode::OK).await?;
    println!("\nRepairs: the workshop at {workshop} has 1 KETTLE-ELEMENT left");
    let mut ids = Vec::new();
    for (customer, handover) in [
        ("c-700", json!({ "kind": "drop_off" })),
        ("c-701", json!({ "kind": "pickup", "address": { "line1": "8 Hefang St", "city": "Hangzhou", "country": "CN" } })),
    ] {
        let body = json!({ "customer_id": customer, "idempotency_key": format!("{customer}-repair"),
                           "item": { "description": "glass kettle", "serial": format!("K-{customer}") },
                           "fault": "does not heat", "photos": ["https://photos.example/kettle.jpg"],
                           "handover": handover, "workshop": workshop });
        let booked = expect(api, Method::POST, "/repairs", body, StatusCode::CREATED).await?;
        let id = t(&booked["repair_id"]);
        let quote = json!({ "currency": "CNY", "labour_minor": 6000,
                            "parts": [{ "sku": "KETTLE-ELEMENT", "quantity": 1, "unit_price": "35.00" }],
                            "valid_until": chrono::Utc::now() + chrono::Duration::days(7) });
        let quoted = expect(api, Method::POST, &format!("/repairs/{id}/quote"), quote, StatusCode::OK).await?;
        let me = json!({ "customer_id": customer });
        let accepted = expect(api, Method::POST, &format!("/repairs/{id}/accept"), me, StatusCode::OK).await?;
        println!(
            "  {customer} books a repair ({}), quoted {} (labour {}), accepts: repair order {}, unpaid",
            t(&booked["handover"]),
            t(&quoted["quote"]["total"]),
            t(&quoted["quote"]["labour"]),
            t(&accepted["order_id"])
        );
        ids.push((customer, id, t(&accepted["order_id"])));
    }
    let (first, second) = (format!("/repairs/{}/start", ids[0].1), format!("/repairs/{}/start", ids[1].1));
    let (a, b) = tokio::join!(call(api, Method::POST, &first, Value::Null), call(api, Method::POST, &second, Value::Null));
    let (a, b) = (a?, b?);
    let (won, lost) = match (a.0, b.0) {
        (StatusCode::OK, StatusCode::CONFLICT) => (&ids[0], (&ids[1], b.1)),
        (StatusCode::CONFLICT, StatusCode::OK) => (&ids[1], (&ids[0], a.1)),
        _ => bail!("two repairs racing for the last element did not leave exactly one started: {} {}, {} {}", a.0, a.1, b.0, b.1),
    };
    let stock = expect(api, Method::GET, "/inventory/KETTLE-ELEMENT", Value::Null, StatusCode::OK).await?;
    println!(
        "  both start at once: {}'s repair takes the element (on hand now {}); {} is told {}",
        won.0,
        stock["warehouses"][0]["on_hand"],
        lost.0 .0,
        t(&lost.1["error"]["code"])
    );
    let id = &won.1;
    expect(api, Method::POST, &format!("/repairs/{id}/complete"), json!({ "note": "element replaced" }), StatusCode::OK).await?;
    let ship = json!({ "carrier": "sf-express", "tracking_number": "SF-REPAIR-1" });
    expect(api, Method::POST, &format!("/repairs/{id}/ship"), ship, StatusCode::OK).await?;
    let closed = expect(api, Method::POST, &format!("/repairs/{id}/close"), Value::Null, StatusCode::OK).await?;
    let order = expect(api, Method::GET, &format!("/orders/{}", won.2), Value::Null, StatusCode::OK).await?;
    println!("  {}'s kettle repaired, shipped back, {}: its order {}", won.0, t(&closed["state"]), t(&order["status"]));
    let (customer, lost_id, lost_order) = lost.0;
    let me = json!({ "customer_id": customer });
    let cancelled = expect(api, Method::POST, &format!("/repairs/{lost_id}/cancel"), me, StatusCode::OK).await?;
    let order = expect(api, Method::GET, &format!("/orders/{lost_order}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  {customer} cancels rather than wait for parts: repair {}, its order {}",
        t(&cancelled["state"]),
        t(&order["status"])
    );
    Ok(())
}

/// The delivered order the channel knows as `external_id`: its id, customer and first line.
async fn delivered_order(api: &Router, external_id: &str) -> anyhow::Result<(String, String, String)> {
    let found = expect(api, Method::GET, &format!("/orders?external_id={external_id}"), Value::Null, StatusCode::OK).await?;
    let order = &found["orders"][0];
    if order["status"] != json!("delivered") {
        bail!("{external_id} is not delivered: {order}");
    }
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok((text(&order["order_id"]), text(&order["customer"]["id"]), text(&order["lines"][0]["sku"])))
}

/// Returns: SHIP-1's buyer sends the tea back (a second request for the same unit is
/// refused), ships it with a tracking number whose carrier scan receives it, and is refunded
/// less the restocking fee with the unit back on hand; MERGE-2's buyer exchanges a chipped
/// mug (no fee: defective), which goes to damaged stock, and gets a new unpaid order.
async fn returns(api: &Router, embedded: &Embedded, fakes: &oms_outbound::fakes::Fakes) -> anyhow::Result<()> {
    let t = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let (order, customer, sku) = delivered_order(api, "SHIP-1").await?;
    let ask = |key: &str, kind: &str, reason: &str| {
        json!({ "customer_id": customer, "kind": kind, "reason": reason, "reason_text": "not to my taste",
                "photos": ["https://img.example/returns/ship-1.jpg"], "idempotency_key": key,
                "lines": [{ "sku": sku, "quantity": 1 }] })
    };
    let path = format!("/orders/{order}/returns");
    let requested = expect(api, Method::POST, &path, ask("ret-1", "return", "changed_mind"), StatusCode::CREATED).await?;
    let id = t(&requested["return_id"]);
    println!("\nReturns: SHIP-1's buyer asks to return its {sku} (changed_mind): {} is {}", id, t(&requested["state"]));
    let (status, refused) = call(api, Method::POST, &path, ask("ret-2", "return", "changed_mind")).await?;
    println!("  asking again for the same unit under another key: {status}, {}", t(&refused["error"]["code"]));
    let step = |name: &str| format!("/returns/{id}/{name}");
    expect(api, Method::POST, &step("approve"), Value::Null, StatusCode::OK).await?;
    let ship = json!({ "carrier": "sf", "tracking_number": "SF-RETURN-1" });
    let shipped = expect(api, Method::POST, &step("ship"), ship, StatusCode::OK).await?;
    let stamp = (chrono::Utc::now() + chrono::Duration::hours(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let scan = json!({ "event": "tracking_update", "event_id": "return-1", "msg": {
        "tracking_number": "SF-RETURN-1", "slug": "sf-express", "tag": "Delivered", "subtag": "Delivered_001",
        "checkpoints": [{ "checkpoint_time": stamp, "tag": "Delivered", "subtag": "Delivered_001",
                          "message": "Received at the warehouse", "city": "Hangzhou", "country_name": "China" }] } });
    let (status, _) = post_carrier(api, "aftership", &scan).await?;
    let received = expect(api, Method::GET, &format!("/returns/{id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  approved; the buyer ships it ({}, {}); the carrier's delivery scan ({status}) makes it {}",
        t(&shipped["tracking_number"]),
        t(&shipped["state"]),
        t(&received["state"])
    );
    let warehouse = t(&received["lines"][0]["warehouse"]);
    let on_hand = |stock: &Value| {
        stock["warehouses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|w| w["warehouse"] == json!(warehouse))
            .map(|w| w["on_hand"].clone())
    };
    let before = expect(api, Method::GET, &format!("/inventory/{sku}"), Value::Null, StatusCode::OK).await?;
    let findings = json!({ "lines": [{ "sku": sku, "restock": 1, "damaged": 0 }], "note": "sealed, as sent" });
    let refunded = expect(api, Method::POST, &step("inspect"), findings, StatusCode::OK).await?;
    let after = expect(api, Method::GET, &format!("/inventory/{sku}"), Value::Null, StatusCode::OK).await?;
    let refund = &refunded["refund"];
    println!(
        "  inspected sellable: {warehouse} on hand {} -> {}; {}: {} paid, {} restocking fee ({}%), {} {} back",
        on_hand(&before).unwrap_or(Value::Null),
        on_hand(&after).unwrap_or(Value::Null),
        t(&refunded["state"]),
        t(&refund["gross"]),
        t(&refund["restocking_fee"]),
        t(&refund["restocking_fee_percent"]),
        t(&refund["amount"]),
        t(&refund["currency"])
    );

    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let told: Vec<Value> = fakes.refunds().into_iter().filter(|r| r["return_id"] == json!(id)).collect();
    let [refund] = told.as_slice() else {
        bail!("the payment system was told of return {id} {} times", told.len());
    };
    println!(
        "  the payment system is told once (signed refund.recorded, request {}): {} minor units of {}",
        t(&refund["request_id"]),
        refund["amount_minor"],
        t(&refund["currency"])
    );

    let (order, customer, sku) = delivered_order(api, "MERGE-2").await?;
    let exchange = json!({ "customer_id": customer, "kind": "exchange", "reason": "defective",
                           "reason_text": "the glaze is chipped", "idempotency_key": "exchange-1",
                           "lines": [{ "sku": sku, "quantity": 1 }] });
    let requested = expect(api, Method::POST, &format!("/orders/{order}/returns"), exchange, StatusCode::CREATED).await?;
    let id = t(&requested["return_id"]);
    let step = |name: &str| format!("/returns/{id}/{name}");
    expect(api, Method::POST, &step("approve"), Value::Null, StatusCode::OK).await?;
    expect(api, Method::POST, &step("ship"), json!({ "carrier": "sf", "tracking_number": "SF-RETURN-2" }), StatusCode::OK)
        .await?;
    expect(api, Method::POST, &step("receive"), Value::Null, StatusCode::OK).await?;
    let findings = json!({ "lines": [{ "sku": sku, "restock": 0, "damaged": 1 }], "note": "chipped glaze" });
    let exchanged = expect(api, Method::POST, &step("inspect"), findings, StatusCode::OK).await?;
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let made = t(&exchanged["exchange_order_id"]);
    let new_order = expect(api, Method::GET, &format!("/orders/{made}"), Value::Null, StatusCode::OK).await?;
    let warehouse = t(&exchanged["lines"][0]["warehouse"]);
    let damaged = expect(api, Method::GET, &format!("/inventory/{warehouse}/damaged"), Value::Null, StatusCode::OK).await?;
    println!(
        "  MERGE-2's buyer exchanges a chipped {sku} (defective, no fee): {}; the mug goes to {warehouse}'s damaged stock ({} unit(s), never allocated)",
        t(&exchanged["state"]),
        damaged["damaged"].as_array().into_iter().flatten().filter(|d| d["sku"] == json!(sku)).map(|d| d["units"].as_u64().unwrap_or(0)).sum::<u64>()
    );
    println!(
        "  the replacement: order {made} on channel {}, external id {} (the return), {}, {}",
        t(&new_order["channel"]),
        t(&new_order["external_id"]),
        t(&new_order["payment_status"]),
        t(&new_order["status"])
    );
    Ok(())
}

/// Recommendations that learn: the storefront reports what a new customer in Beijing
/// browsed (a retry of the batch stores nothing), the models are retrained on the orders,
/// the browsing and the returns, and the customer who never bought gets what goes with
/// what it browsed, each with its days in transit, the slower ones left out `too_slow`;
/// SHIP-1's buyer is not recommended back the tea it sent back.
async fn learning_recommendations(api: &Router, pricing: &PricingModel, ports: &Ports) -> anyhow::Result<()> {
    let customer = "c-900";
    let ago = |minutes: i64| (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339();
    let batch = json!({ "idempotency_key": "browse-c-900-1", "events": [
        { "kind": "view", "sku": "TEAPOT-YIXING", "at": ago(40) },
        { "kind": "view", "sku": "MUG-CELADON", "at": ago(35) },
        { "kind": "cart_add", "sku": "MUG-CELADON", "at": ago(30) },
        { "kind": "wishlist", "sku": "TEA-PUER-CAKE", "at": ago(20) },
    ] });
    let path = format!("/customers/{customer}/events");
    let stored = expect(api, Method::POST, &path, batch.clone(), StatusCode::ACCEPTED).await?;
    let (status, again) = call(api, Method::POST, &path, batch).await?;
    println!(
        "\nRecommendations that learn: the storefront reports {} browsing events of {customer}, who never bought (the batch again: {status}, duplicate {})",
        stored["events"], again["duplicate"]
    );
    let mut history = pricing_history();
    history.extend(oms_pricing::stored::stored_histories(ports, Some(MERCHANT)).await?.remove(MERCHANT).unwrap_or_default());
    let options =
        oms_pricing::stored::train_options(ports, MERCHANT, &history, "demo-2", oms_pricing::DEFAULT_MIN_MARGIN).await?;
    println!(
        "  retrained on {} purchased lines, {} browsing events and {} returned lines",
        history.len(),
        options.signals.browsing.len(),
        options.signals.returns.len()
    );
    let artifact = oms_pricing::train(history, &options, &|_| ()).context("Failed to retrain the demo's pricing")?;
    pricing.replace(artifact);
    let uri = format!("/customers/{customer}/recommendations?province=Beijing&limit=3&max_delivery_days=0");
    let recommended = expect(api, Method::GET, &uri, Value::Null, StatusCode::OK).await?;
    println!("  recommendations for {customer} in Beijing, delivered within 0 days (same day):");
    for item in recommended["recommendations"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!(
            "    {:<18} ships from {} in {} day(s) (score {:.2}): {}",
            item["sku"].as_str().unwrap_or_default(),
            item["ships_from"].as_str().unwrap_or_default(),
            item["delivery_days"],
            item["score"].as_f64().unwrap_or_default(),
            item["reason"].as_str().unwrap_or_default(),
        );
    }
    for left in recommended["left_out"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!("    left out {}: {}", left["sku"].as_str().unwrap_or_default(), left["why"].as_str().unwrap_or_default());
    }
    let (_, buyer, sent_back) = delivered_order(api, "SHIP-1").await?;
    let uri = format!("/customers/{buyer}/recommendations?limit=5");
    let theirs = expect(api, Method::GET, &uri, Value::Null, StatusCode::OK).await?;
    let skus: Vec<&str> = theirs["recommendations"].as_array().into_iter().flatten().filter_map(|r| r["sku"].as_str()).collect();
    println!(
        "  SHIP-1's buyer {buyer} sent its {sent_back} back: {} recommended back to it (its recommendations: {})",
        if skus.contains(&sent_back.as_str()) { "still" } else { "no longer" },
        skus.join(", ")
    );
    Ok(())
}

/// A file upload as the newcomer's staff: `bytes` of `content_type` as the raw body.
async fn upload_as_newcomer(api: &Router, name: &str, content_type: &str, bytes: &[u8]) -> anyhow::Result<(StatusCode, Value)> {
    upload_as(api, NEWCOMER_STAFF, NEWCOMER, name, content_type, bytes).await
}

/// `merchant`'s staff (`token`) uploads its application's document `name`.
async fn upload_as(
    api: &Router,
    token: &str,
    merchant: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> anyhow::Result<(StatusCode, Value)> {
    let request = Request::builder()
        .method(Method::PUT)
        .uri(format!("/merchants/{merchant}/application/documents/{name}"))
        .header("content-type", content_type)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(bytes.to_vec()))
        .context("Failed to build a request")?;
    send(api, request).await
}

/// Onboarding: an ink-stone maker registers and applies to open a shop; it may not list
/// products yet, and an order its shop takes meanwhile is held, not bounced. Platform staff
/// reject the first application with a reason; the merchant uploads a readable licence and
/// submits again; the approval lets it sell and releases the held order to allocation.
async fn onboarding(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    const SKU: &str = "INK-STONE-DUAN";
    const PDF: &[u8] = b"%PDF-1.7\n% a blurred licence scan\n%%EOF\n";
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    let t = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let merchant_path = format!("/merchants/{NEWCOMER}");
    let registration = json!({ "phone": "+86 139 2000 0001", "region": "广东" });
    let registered =
        expect_as(api, NEWCOMER_STAFF, Method::POST, "/merchants/register", registration, StatusCode::CREATED).await?;
    println!(
        "\nOnboarding: {NEWCOMER} registers (phone {}, region {}): {}",
        t(&registered["phone"]),
        t(&registered["region"]),
        t(&registered["status"])
    );
    let facts = json!({ "merchant_id": NEWCOMER, "name": "Duan ink stone", "category": "stationery", "cost": "120",
                        "list_price": "380", "weight_g": 900, "dims_mm": [200, 130, 30] });
    let (status, refused) = call_as(api, Some(NEWCOMER_STAFF), Method::PUT, &format!("/skus/{SKU}"), facts.clone()).await?;
    println!("  it tries to list {SKU} before approval: {status}, {}", t(&refused["error"]["code"]));

    let application = json!({ "shop_type": "specialty", "business_scope": "ink stones, brushes and paper",
                              "licence_number": "91440300MA5FXY1234",
                              "legal_representative": { "name": "Chen Mo", "id_number": "440301198805061234" } });
    expect_as(api, NEWCOMER_STAFF, Method::PUT, &format!("{merchant_path}/application"), application, StatusCode::OK).await?;
    let (status, _) = upload_as_newcomer(api, "business_licence", "application/pdf", PDF).await?;
    let (id_status, with_documents) = upload_as_newcomer(api, "representative_id", "image/png", PNG).await?;
    let (forged, forged_answer) = upload_as_newcomer(api, "representative_id", "image/png", b"<html>not an image</html>").await?;
    println!(
        "  writes its application ({} shop, ID number shown as {}), uploads its licence ({status}) and ID ({id_status}); \
         an HTML page sent as image/png: {forged}, {}",
        t(&with_documents["application"]["shop_type"]),
        t(&with_documents["application"]["legal_representative_id_number"]),
        t(&forged_answer["error"]["code"])
    );
    expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{merchant_path}/application/submit"), Value::Null, StatusCode::OK)
        .await?;
    let queue =
        expect_as(api, PLATFORM_STAFF, Method::GET, "/merchant-applications?status=submitted", Value::Null, StatusCode::OK)
            .await?;
    let waiting: Vec<String> = queue["merchants"].as_array().into_iter().flatten().map(|m| t(&m["merchant_id"])).collect();
    println!("  submitted; waiting for review: {waiting:?}");

    // Platform staff count the newcomer's stock in the shared warehouse; an order its shop
    // took meanwhile arrives, signed: it is stored on hold, not bounced.
    let (warehouse, ..) = WAREHOUSES[0];
    let count = json!({ "on_hand": 12, "merchant_id": NEWCOMER });
    expect_as(api, PLATFORM_STAFF, Method::PUT, &format!("/inventory/{warehouse}/{SKU}"), count, StatusCode::OK).await?;
    let mut order = sample_order(ORDERS + 40);
    order["merchant_id"] = json!(NEWCOMER);
    order["lines"] = json!([{ "sku": SKU, "quantity": 1, "unit_price": "380.00" }]);
    let (status, receipt) = post_order(api, &order, true).await?;
    let order_id = t(&receipt["order_id"]);
    let held = expect_as(api, NEWCOMER_STAFF, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    println!("  an order for its {SKU} arrives: {status}, {} ({})", t(&held["status"]), t(&held["hold"]["reason"]));

    let reason = json!({ "reason": "the licence scan is unreadable; upload a clearer one" });
    let rejected =
        expect_as(api, PLATFORM_STAFF, Method::POST, &format!("{merchant_path}/application/reject"), reason, StatusCode::OK)
            .await?;
    println!("  platform staff reject it: {} ({})", t(&rejected["status"]), t(&rejected["rejection_reason"]));
    let clearer = [PDF, b"% rescanned at 600 dpi\n".as_slice()].concat();
    let (_, edited) = upload_as_newcomer(api, "business_licence", "application/pdf", &clearer).await?;
    let resubmitted =
        expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{merchant_path}/application/submit"), Value::Null, StatusCode::OK)
            .await?;
    println!("  it uploads a clearer licence ({}) and submits again: {}", t(&edited["status"]), t(&resubmitted["status"]));
    let approved = expect_as(
        api,
        PLATFORM_STAFF,
        Method::POST,
        &format!("{merchant_path}/application/approve"),
        Value::Null,
        StatusCode::OK,
    )
    .await?;
    let (late, late_answer) = call_as(
        api,
        Some(PLATFORM_STAFF),
        Method::POST,
        &format!("{merchant_path}/application/reject"),
        json!({ "reason": "late" }),
    )
    .await?;
    println!(
        "  approved (may sell: {}), releasing {} held order(s); a second decision after it: {late}, {}",
        approved["may_sell"],
        approved["released_orders"].as_array().map_or(0, Vec::len),
        t(&late_answer["error"]["code"])
    );
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let after = expect_as(api, NEWCOMER_STAFF, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    let (status, _) = call_as(api, Some(NEWCOMER_STAFF), Method::PUT, &format!("/skus/{SKU}"), facts).await?;
    println!("  the held order, once allocation ran: {}; listing {SKU} now: {status}", t(&after["status"]));
    let timeline = expect_as(api, NEWCOMER_STAFF, Method::GET, &merchant_path, Value::Null, StatusCode::OK).await?;
    print_timeline(&timeline["timeline"]);
    Ok(())
}

/// A record's timeline (an onboarding record's, a listing's), a step a line: the time of
/// day, the status, what happened and by whom.
fn print_timeline(timeline: &Value) {
    let t = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    for step in timeline.as_array().into_iter().flatten() {
        println!(
            "    {} {:<9} {} ({})",
            t(&step["at"]).get(11..19).unwrap_or_default(),
            t(&step["status"]),
            t(&step["what"]),
            t(&step["by"])
        );
    }
}

/// A page (HTML) as `token` reads it: its status and text.
async fn page_as(api: &Router, token: &str, uri: &str, accept: &str) -> anyhow::Result<(StatusCode, String)> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header("accept", accept)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .context("Failed to build a request")?;
    let response = api.clone().oneshot(request).await.context("The router failed")?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.context("Failed to read a page")?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The storefront: platform staff publish a template; the ink-stone maker, approved above,
/// drafts its store on it, previews it and publishes it; a storefront backend reads the
/// published store as JSON and as a page; an edit stays in the draft until published again.
async fn storefront(api: &Router) -> anyhow::Result<()> {
    let t = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let template = json!({ "name": "Scholar's studio", "sections": ["hero_banner", "featured_grid", "about"],
                           "theme": { "primary": "#2f4f4f", "background": "#fdf6e3" }, "version": 1 });
    let stored = expect_as(api, PLATFORM_STAFF, Method::PUT, "/storefront-templates/scholar", template, StatusCode::OK).await?;
    println!(
        "\nStorefront: platform staff publish template {} v{} ({})",
        t(&stored["id"]),
        stored["version"],
        t(&stored["name"])
    );
    let store = format!("/stores/{NEWCOMER}");
    let (status, before) = call_as(api, Some(TEAHOUSE_STAFF), Method::GET, &store, Value::Null).await?;
    println!("  a shop reads {NEWCOMER}'s store before it publishes: {status}, {}", t(&before["error"]["code"]));
    let draft = |name: &str, version: Option<u64>| {
        json!({ "template": "scholar", "name": name, "introduction": "Duan stones <carved> by hand in Zhaoqing",
                "logo": "https://img.example.com/ink/logo.png", "banners": ["https://img.example.com/ink/banner.jpg"],
                "featured": ["INK-STONE-DUAN"], "version": version })
    };
    let (status, refused) = call_as(
        api,
        Some(NEWCOMER_STAFF),
        Method::PUT,
        &format!("{store}/draft"),
        json!({ "template": "scholar", "name": "Ink", "featured": ["TEA-LONGJING-250G"] }),
    )
    .await?;
    println!("  a draft featuring another merchant's SKU: {status}, {}", t(&refused["error"]["code"]));
    let saved =
        expect_as(api, NEWCOMER_STAFF, Method::PUT, &format!("{store}/draft"), draft("Duan Studio", None), StatusCode::OK)
            .await?;
    let (status, preview) = page_as(api, NEWCOMER_STAFF, &format!("{store}/preview"), "text/html").await?;
    println!(
        "  it drafts \"{}\" (version {}) and previews it: {status}, {} bytes of HTML, marked as a preview: {}, its text escaped: {}",
        t(&saved["profile"]["name"]),
        saved["version"],
        preview.len(),
        preview.contains("Preview of draft"),
        preview.contains("&lt;carved&gt;")
    );
    let published =
        expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{store}/publish"), Value::Null, StatusCode::OK).await?;
    let shown = expect_as(api, TEAHOUSE_STAFF, Method::GET, &store, Value::Null, StatusCode::OK).await?;
    let cards: Vec<String> = shown["featured"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| format!("{} at {} (in stock: {})", t(&c["name"]), t(&c["list_price"]), c["in_stock"]))
        .collect();
    println!(
        "  published (draft version {}); a shop reads it: \"{}\", featuring {cards:?}",
        published["draft_version"],
        t(&shown["name"])
    );
    let (status, page) = page_as(api, TEAHOUSE_STAFF, &store, "text/html").await?;
    println!(
        "  the same store as a page (Accept: text/html): {status}, {} bytes, names the stone: {}",
        page.len(),
        page.contains("Duan ink stone")
    );

    let edited = expect_as(
        api,
        NEWCOMER_STAFF,
        Method::PUT,
        &format!("{store}/draft"),
        draft("Duan Studio of Zhaoqing", saved["version"].as_u64()),
        StatusCode::OK,
    )
    .await?;
    let (status, stale) =
        call_as(api, Some(NEWCOMER_STAFF), Method::PUT, &format!("{store}/draft"), draft("A stale edit", Some(1))).await?;
    let still = expect_as(api, TEAHOUSE_STAFF, Method::GET, &store, Value::Null, StatusCode::OK).await?;
    println!(
        "  it renames the draft (version {}); an edit of version 1 after it: {status}, {}; shops still read \"{}\"",
        edited["version"],
        t(&stale["error"]["code"]),
        t(&still["name"])
    );
    expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{store}/publish"), Value::Null, StatusCode::OK).await?;
    let now_shown = expect_as(api, TEAHOUSE_STAFF, Method::GET, &store, Value::Null, StatusCode::OK).await?;
    println!("  published again: shops read \"{}\" (draft version {})", t(&now_shown["name"]), now_shown["draft_version"]);
    Ok(())
}

/// The newcomer's ink stone goes through the reviewed catalogue: its listing is rejected by
/// the rules for a banned word, edited, submitted again and approved by platform staff;
/// listed (its units were counted in earlier) and promoted, it sells; unlisted, a channel
/// order for it is held, and listing it again releases the order.
async fn reviewed_catalogue(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    const SKU: &str = "INK-STONE-DUAN";
    let t = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let product = format!("/products/{SKU}");
    let listing = |name: &str| {
        json!({ "name": name, "specification": "hand-carved Duan stone, 20 x 13 cm, with a rosewood lid",
                "model": "DS-20", "images": [{ "url": "https://img.example.com/ds-20-front.jpg", "bytes": 350_000 }],
                "attributes": { "stone": "Duan", "lid": "rosewood" },
                "wholesale_prices": [{ "min_quantity": 1, "unit_price": "380.00" },
                                     { "min_quantity": 10, "unit_price": "342.00" },
                                     { "min_quantity": 50, "unit_price": "310.00" }] })
    };
    expect_as(api, NEWCOMER_STAFF, Method::PUT, &product, listing("顶级 Duan ink stone"), StatusCode::CREATED).await?;
    let rejected =
        expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{product}/submit"), Value::Null, StatusCode::OK).await?;
    println!(
        "\nThe reviewed catalogue: {NEWCOMER} submits its {SKU} listing: {} by the rules ({})",
        t(&rejected["status"]),
        t(&rejected["rejection_reason"])
    );
    let edited = expect_as(api, NEWCOMER_STAFF, Method::PUT, &product, listing("Duan ink stone"), StatusCode::OK).await?;
    let in_review =
        expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{product}/submit"), Value::Null, StatusCode::OK).await?;
    let queue = expect_as(api, PLATFORM_STAFF, Method::GET, "/products?status=in_review", Value::Null, StatusCode::OK).await?;
    let waiting: Vec<String> = queue["products"].as_array().into_iter().flatten().map(|p| t(&p["sku"])).collect();
    println!(
        "  edited ({}) and submitted again: {}; the review queue: {waiting:?}",
        t(&edited["status"]),
        t(&in_review["status"])
    );
    let approved =
        expect_as(api, PLATFORM_STAFF, Method::POST, &format!("{product}/approve"), Value::Null, StatusCode::OK).await?;
    let listed = expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{product}/list"), Value::Null, StatusCode::OK).await?;
    let promoted =
        expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{product}/promote"), json!({ "rank": 1 }), StatusCode::OK).await?;
    let placements = expect_as(api, NEWCOMER_STAFF, Method::GET, "/catalogue/promoted", Value::Null, StatusCode::OK).await?;
    let tiers: Vec<String> = approved["wholesale_prices"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tier| format!("{}+ at {}", tier["min_quantity"], t(&tier["unit_price"])))
        .collect();
    println!(
        "  platform staff approve it ({}; wholesale {}), the merchant lists it ({}) and promotes it to placement {}: promoted {:?}",
        t(&approved["status"]),
        tiers.join(", "),
        t(&listed["status"]),
        promoted["promotion"],
        placements["products"].as_array().into_iter().flatten().map(|p| t(&p["sku"])).collect::<Vec<_>>()
    );

    let order_for = |i: usize| {
        let mut order = sample_order(ORDERS + i);
        order["merchant_id"] = json!(NEWCOMER);
        order["lines"] = json!([{ "sku": SKU, "quantity": 1, "unit_price": "380.00" }]);
        order
    };
    let (status, sold) = post_order(api, &order_for(41), true).await?;
    println!("  a shop order for it, listed and stocked: {status}, {}", t(&sold["status"]));
    expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{product}/unlist"), Value::Null, StatusCode::OK).await?;
    let (status, receipt) = post_order(api, &order_for(42), true).await?;
    let order_id = t(&receipt["order_id"]);
    let held = expect_as(api, NEWCOMER_STAFF, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  unlisted, the next order is {status}, {} ({}: {} {})",
        t(&held["status"]),
        t(&held["hold"]["reason"]),
        t(&held["hold"]["sku"]),
        t(&held["hold"]["why"])
    );
    let mut checkout = order_for(43);
    checkout["external_id"] = json!("checkout-7");
    let (status, refused) = call_as(api, Some(NEWCOMER_STAFF), Method::POST, "/checkout", checkout.clone()).await?;
    println!("  the platform's own checkout refuses it meanwhile, storing nothing: {status}, {}", t(&refused["error"]["code"]));
    let relisted = expect_as(api, NEWCOMER_STAFF, Method::POST, &format!("{product}/list"), Value::Null, StatusCode::OK).await?;
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let after = expect_as(api, NEWCOMER_STAFF, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    println!(
        "  listed again, releasing {} held order(s): once allocation ran it is {}",
        relisted["released_orders"].as_array().map_or(0, Vec::len),
        t(&after["status"])
    );
    let placed = expect_as(api, NEWCOMER_STAFF, Method::POST, "/checkout", checkout, StatusCode::CREATED).await?;
    println!("  and the same checkout now places order {} ({}, channel checkout)", t(&placed["order_id"]), t(&placed["status"]));
    let timeline = expect_as(api, NEWCOMER_STAFF, Method::GET, &product, Value::Null, StatusCode::OK).await?;
    print_timeline(&timeline["timeline"]);
    Ok(())
}

/// A buyer request matched: the teahouse lists a palm-sized "Duan inkstone 12 cm" stocked
/// in two warehouses; platform staff enter a buyer's request for "ink stone 120mm" to
/// Jiangsu; the proposal ranks every matching stock by landed price (the newcomer's larger
/// stone matches too, dearer), the buyer accepts, and the marketplace order is shown.
async fn buyer_request(api: &Router) -> anyhow::Result<()> {
    const SKU: &str = "INK-STONE-PALM";
    let t = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let facts = json!({"merchant_id": MERCHANT, "name": "Duan inkstone 12 cm", "category": "stationery", "cost": "60.00",
                       "list_price": "168.00", "weight_g": 600, "dims_mm": [130, 90, 30], "traits": []});
    expect(api, Method::PUT, &format!("/skus/{SKU}"), facts, StatusCode::OK).await?;
    let listing = json!({ "name": "Duan inkstone 12 cm", "specification": "palm-sized, for travel", "model": "DP-12",
                          "images": [{ "url": "https://img.example.com/dp-12.jpg", "bytes": 220_000 }],
                          "attributes": { "stone": "Duan" },
                          "wholesale_prices": [{ "min_quantity": 1, "unit_price": "128.00" },
                                               { "min_quantity": 5, "unit_price": "118.00" }] });
    let product = format!("/products/{SKU}");
    expect(api, Method::PUT, &product, listing, StatusCode::CREATED).await?;
    expect(api, Method::POST, &format!("{product}/submit"), Value::Null, StatusCode::OK).await?;
    expect_as(api, PLATFORM_STAFF, Method::POST, &format!("{product}/approve"), Value::Null, StatusCode::OK).await?;
    expect(api, Method::POST, &format!("{product}/list"), Value::Null, StatusCode::OK).await?;
    for (warehouse, on_hand) in [(WAREHOUSES[0].0, 20), (WAREHOUSES[2].0, 30)] {
        expect(api, Method::PUT, &format!("/inventory/{warehouse}/{SKU}"), json!({ "on_hand": on_hand }), StatusCode::OK).await?;
    }
    println!(
        "\nA buyer request matched: {MERCHANT} lists {SKU} \"Duan inkstone 12 cm\" (5+ at 118.00), stocked in {} and {}",
        WAREHOUSES[0].0, WAREHOUSES[2].0
    );

    let deadline = (chrono::Utc::now() + chrono::Duration::days(14)).to_rfc3339();
    let request = json!({ "request_id": "br-demo-1", "customer_id": "buyer-suzhou", "name": "ink stone",
                          "specification": "120mm", "quantity": 5, "region": "江苏", "deadline": deadline,
                          "shipping_address": { "name": "Wang Fang", "line1": "8 Pingjiang Rd", "city": "Suzhou",
                                                "province": "Jiangsu", "postal_code": "215000", "country": "CN" } });
    let posted = expect_as(api, PLATFORM_STAFF, Method::POST, "/buyer-requests", request, StatusCode::CREATED).await?;
    println!(
        "  platform staff enter a buyer's request for \"ink stone 120mm\" x5 to {}: {}",
        t(&posted["region"]),
        t(&posted["status"])
    );
    for (rank, offer) in posted["offers"].as_array().into_iter().flatten().enumerate() {
        println!(
            "  {}. {} of {} from {}: {} x {} = {} + shipping {} = landed {}",
            rank + 1,
            t(&offer["sku"]),
            t(&offer["merchant_id"]),
            t(&offer["warehouse_id"]),
            offer["quantity"],
            t(&offer["unit_price"]),
            t(&offer["goods"]),
            t(&offer["shipping"]),
            t(&offer["landed_price"])
        );
    }
    for left_out in posted["excluded"].as_array().into_iter().flatten() {
        println!("  left out: {} of {} ({})", t(&left_out["sku"]), t(&left_out["merchant_id"]), t(&left_out["explanation"]));
    }
    let accepted =
        expect_as(api, PLATFORM_STAFF, Method::POST, "/buyer-requests/br-demo-1/accept", Value::Null, StatusCode::OK).await?;
    let again =
        expect_as(api, PLATFORM_STAFF, Method::POST, "/buyer-requests/br-demo-1/accept", Value::Null, StatusCode::OK).await?;
    let order_id = t(&accepted["order_id"]);
    let order = expect_as(api, PLATFORM_STAFF, Method::GET, &format!("/orders/{order_id}"), Value::Null, StatusCode::OK).await?;
    let lines: Vec<String> = order["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| format!("{} x{} at {}", t(&l["sku"]), l["quantity"], t(&l["unit_price"])))
        .collect();
    println!(
        "  the buyer accepts the best offer ({}): order {order_id} (channel {}, external id {}, merchant {}, {}, {}); accepting again answers the same order: {}",
        t(&accepted["status"]),
        t(&order["channel"]),
        t(&order["external_id"]),
        t(&order["merchant_id"]),
        lines.join(", "),
        t(&order["status"]),
        again["order_id"] == accepted["order_id"]
    );
    Ok(())
}
