//! The demo's bulk trade: a stationery wholesaler's list of three SKUs, each sold by another
//! approved merchant (the ink-stone maker onboarded earlier, and a brush maker and a paper
//! mill that join now), so the cheapest cover needs all three. The platform weighs them,
//! the listings quote, the brush maker beats its own listing, the buyer accepts, and the
//! list splits into three sub-orders; one ships and the parent is partially shipped.

use std::time::Duration;

use anyhow::bail;
use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};

use oms_embedded::Embedded;

use super::{call_as, expect_as, upload_as, NEIGHBOUR, NEWCOMER, PLATFORM_SHOP, PLATFORM_STAFF, WAREHOUSES};

/// A merchant joining for the bulk trade: its staff's token, its warehouse and the SKU it sells.
pub(super) struct Joining {
    pub merchant: &'static str,
    pub staff: &'static str,
    warehouse: &'static str,
    city: &'static str,
    lat: f64,
    lon: f64,
    sku: &'static str,
    name: &'static str,
    /// Wholesale tiers: (least quantity, unit price).
    tiers: [(u32, &'static str); 2],
}

/// The brush maker and the paper mill.
pub(super) const JOINING: [Joining; 2] = [
    Joining {
        merchant: "m-brushworks",
        staff: "demo-brushworks-staff-token",
        warehouse: "wh-huzhou",
        city: "Huzhou",
        lat: 30.87,
        lon: 120.09,
        sku: "BRUSH-WOLF-HAIR",
        name: "Wolf-hair brush",
        tiers: [(1, "45.00"), (20, "38.00")],
    },
    Joining {
        merchant: "m-papermill",
        staff: "demo-papermill-staff-token",
        warehouse: "wh-jingxian",
        city: "Xuancheng",
        lat: 30.94,
        lon: 118.76,
        sku: "PAPER-XUAN-100",
        name: "Xuan paper, 100 sheets",
        tiers: [(1, "60.00"), (50, "52.00")],
    },
];

const INK_STONE: &str = "INK-STONE-DUAN";

fn t(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// `merchant` registered, applying with its two documents, and approved by platform staff.
async fn approved(api: &Router, merchant: &str, token: &str) -> anyhow::Result<()> {
    const PDF: &[u8] = b"%PDF-1.7\n% a licence scan\n%%EOF\n";
    let path = format!("/merchants/{merchant}");
    let registration = json!({ "phone": "+86 139 2000 0002", "region": "浙江" });
    expect_as(api, token, Method::POST, "/merchants/register", registration, StatusCode::CREATED).await?;
    let application = json!({ "shop_type": "specialty", "business_scope": "calligraphy supplies",
                              "licence_number": "91330500MA2B1C3D4E",
                              "legal_representative": { "name": "Zhou Yan", "id_number": "330501198204071234" } });
    expect_as(api, token, Method::PUT, &format!("{path}/application"), application, StatusCode::OK).await?;
    for document in ["business_licence", "representative_id"] {
        let (status, answer) = upload_as(api, token, merchant, document, "application/pdf", PDF).await?;
        if !status.is_success() {
            bail!("uploading {document} of {merchant} answered {status}: {answer}");
        }
    }
    expect_as(api, token, Method::POST, &format!("{path}/application/submit"), Value::Null, StatusCode::OK).await?;
    expect_as(api, PLATFORM_STAFF, Method::POST, &format!("{path}/application/approve"), Value::Null, StatusCode::OK).await?;
    Ok(())
}

/// `merchant`'s SKU on sale: its facts, its listing reviewed and approved by staff, listed.
async fn on_sale(api: &Router, merchant: &str, token: &str, sku: &str, name: &str, tiers: &[(u32, &str)]) -> anyhow::Result<()> {
    let facts = json!({ "merchant_id": merchant, "name": name, "category": "stationery", "cost": "10",
                        "list_price": tiers[0].1, "weight_g": 300, "dims_mm": [300, 60, 40] });
    expect_as(api, token, Method::PUT, &format!("/skus/{sku}"), facts, StatusCode::OK).await?;
    let product = format!("/products/{sku}");
    let prices: Vec<Value> = tiers.iter().map(|(q, p)| json!({ "min_quantity": q, "unit_price": p })).collect();
    let listing = json!({ "name": name, "specification": "for calligraphy", "model": sku, "wholesale_prices": prices });
    expect_as(api, token, Method::PUT, &product, listing, StatusCode::CREATED).await?;
    expect_as(api, token, Method::POST, &format!("{product}/submit"), Value::Null, StatusCode::OK).await?;
    expect_as(api, PLATFORM_STAFF, Method::POST, &format!("{product}/approve"), Value::Null, StatusCode::OK).await?;
    expect_as(api, token, Method::POST, &format!("{product}/list"), Value::Null, StatusCode::OK).await?;
    Ok(())
}

/// The brush maker and the paper mill join, each with a warehouse in the region and its SKU
/// on sale; the ink-stone maker's new delivery is counted in the shared warehouse; the kite
/// shop keeps some paper there without ever onboarding.
async fn scene(api: &Router) -> anyhow::Result<()> {
    for Joining { merchant, staff: token, warehouse, city, lat, lon, sku, name, tiers } in JOINING {
        approved(api, merchant, token).await?;
        let body = json!({ "name": format!("{city} depot"), "merchant_id": merchant, "province": "Zhejiang", "city": city,
                           "lat": lat, "lon": lon });
        expect_as(api, token, Method::PUT, &format!("/warehouses/{warehouse}"), body, StatusCode::OK).await?;
        expect_as(api, token, Method::PUT, &format!("/inventory/{warehouse}/{sku}"), json!({ "on_hand": 400 }), StatusCode::OK)
            .await?;
        on_sale(api, merchant, token, sku, name, &tiers).await?;
    }
    let (shared, ..) = WAREHOUSES[0];
    let ink_stones = json!({ "on_hand": 60, "merchant_id": NEWCOMER });
    expect_as(api, PLATFORM_STAFF, Method::PUT, &format!("/inventory/{shared}/{INK_STONE}"), ink_stones, StatusCode::OK).await?;
    let paper = JOINING[1].sku;
    let count = json!({ "on_hand": 500, "merchant_id": NEIGHBOUR });
    expect_as(api, PLATFORM_STAFF, Method::PUT, &format!("/inventory/{shared}/{paper}"), count, StatusCode::OK).await?;
    Ok(())
}

/// The lines of a cover or a parent's child, `SKU x quantity at price`.
fn lines_of(lines: &Value) -> String {
    let each: Vec<String> = lines
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| format!("{} x{} at {}", t(&l["sku"]), l["quantity"], t(&l["unit_price"])))
        .collect();
    each.join(", ")
}

pub(super) async fn bulk_trade(api: &Router, embedded: &Embedded) -> anyhow::Result<()> {
    scene(api).await?;
    let (brushworks, brush_staff, brush) = (JOINING[0].merchant, JOINING[0].staff, JOINING[0].sku);
    let paper = JOINING[1].sku;
    let until = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let list = json!({
        "rfq_id": "rfq-calligraphy-school", "customer_id": "cust-calligraphy-school", "region": "Zhejiang",
        "shipping_address": { "name": "West Lake Calligraphy School", "line1": "8 Beishan Rd", "city": "Hangzhou",
                              "province": "Zhejiang", "country": "CN" },
        "lines": [{ "sku": INK_STONE, "quantity": 10 }, { "sku": brush, "quantity": 40 }, { "sku": paper, "quantity": 60 }],
        "quotes_until": until,
    });
    let rfq = expect_as(api, PLATFORM_SHOP, Method::POST, "/rfqs", list, StatusCode::CREATED).await?;
    println!("\nBulk trade: a calligraphy school asks for quotes on {INK_STONE} x10, {brush} x40 and {paper} x60, to Zhejiang");
    for c in rfq["candidates"].as_array().into_iter().flatten() {
        println!("  weighed: {} (one shipment {})", t(&c["merchant_id"]), t(&c["shipping"]));
    }
    for l in rfq["left_out"].as_array().into_iter().flatten() {
        println!("  left out: {} ({})", t(&l["merchant_id"]), t(&l["reason"]));
    }
    let quote = json!({ "sku": brush, "unit_price": "35.00" });
    let path = "/rfqs/rfq-calligraphy-school";
    expect_as(api, brush_staff, Method::POST, &format!("{path}/quotes"), quote, StatusCode::OK).await?;
    let (status, refused) =
        call_as(api, Some(brush_staff), Method::POST, &format!("{path}/quotes"), json!({ "sku": paper, "unit_price": "1.00" }))
            .await?;
    println!(
        "  {brushworks} quotes its brushes at 35.00 itself; it tries to quote paper it does not stock: {status}, {}",
        t(&refused["error"]["code"])
    );
    let read = expect_as(api, PLATFORM_SHOP, Method::GET, path, Value::Null, StatusCode::OK).await?;
    for q in read["quotes"].as_array().into_iter().flatten() {
        println!("  quote: {} {} at {} ({})", t(&q["merchant_id"]), t(&q["sku"]), t(&q["unit_price"]), t(&q["source"]));
    }
    let proposal = &read["proposal"];
    println!(
        "  the cheapest cover: {} ({} goods + {} shipping)",
        t(&proposal["total"]),
        t(&proposal["goods"]),
        t(&proposal["shipping"])
    );
    println!("    {}", t(&proposal["explanation"]));

    let accepted = expect_as(api, PLATFORM_SHOP, Method::POST, &format!("{path}/accept"), Value::Null, StatusCode::OK).await?;
    let children: Vec<Value> = accepted["parent"]["children"].as_array().cloned().unwrap_or_default();
    println!("  accepted: {} sub-orders, one per merchant", children.len());
    for child in &children {
        println!(
            "    {} {} ({}): {}",
            t(&child["external_id"]),
            t(&child["order_id"]),
            t(&child["merchant_id"]),
            lines_of(&child["lines"])
        );
    }
    let again = expect_as(api, PLATFORM_SHOP, Method::POST, &format!("{path}/accept"), Value::Null, StatusCode::OK).await?;
    println!("  accepted again (a retry): the same parent, repeated = {}", again["repeated"]);
    if !crate::workers::wait_until_idle(embedded, Duration::from_secs(30)).await? {
        bail!("the queues did not drain within 30 s");
    }
    let brush_order = children.iter().find(|c| c["merchant_id"] == brushworks).map(|c| t(&c["order_id"])).unwrap_or_default();
    let ship = json!({ "carrier": "zto", "tracking_number": "ZTO7788990011", "lines": [{ "sku": brush, "quantity": 40 }] });
    expect_as(api, brush_staff, Method::POST, &format!("/orders/{brush_order}/shipments"), ship, StatusCode::CREATED).await?;
    let other = children.iter().find(|c| c["merchant_id"] != brushworks).map(|c| t(&c["order_id"])).unwrap_or_default();
    let (status, _) = call_as(api, Some(brush_staff), Method::GET, &format!("/orders/{other}"), Value::Null).await?;
    let parent = expect_as(api, PLATFORM_SHOP, Method::GET, path, Value::Null, StatusCode::OK).await?;
    let statuses: Vec<String> = parent["parent"]["children"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| format!("{} {}", t(&c["merchant_id"]), t(&c["status"])))
        .collect();
    println!(
        "  {brushworks} ships its brushes: the parent is {} ({}); {brushworks} reading another merchant's sub-order: {status}",
        t(&parent["parent"]["parent_status"]),
        statuses.join(", ")
    );
    Ok(())
}
