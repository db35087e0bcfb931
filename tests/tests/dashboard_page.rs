//! The staff dashboard in a real browser: `oms serve` in process with a token file, a few
//! signed generic orders allocated and reserved and one on hold (which raises an alert),
//! then headless Chromium opens `/dashboard`, takes the token, and the test reads what the
//! page rendered (the counts by status, the alerts, the orders of one status, an order's
//! timeline, the day chart) against the API's own answers; acknowledges the alert from the
//! page; reloads (the token is kept for the tab); and saves a screenshot. One browser
//! launch. A second test checks, without a browser, the reads the page relies on.
//!
//! Needs Debian's `chromium` (`scripts/install-tools.sh` installs it; `CHROMIUM` names
//! another binary). Without one the browser test prints SKIPPED and returns.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use futures::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use oms_api::{Authenticator, ChannelSecrets, TokenTable};
use oms_domain::order::Channel;
use oms_local::server::{self, ServeOptions};
use oms_tests::{generic_order, Answer, TestApp, SECRET};

/// Merchant `m-1`'s staff token, as the token file lists it.
const STAFF: &str = "m1-staff-token-for-the-dashboard";

/// The browser binary: `CHROMIUM` if set (a wrong one fails the test, it does not skip
/// it), else the first of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let dirs: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH")?).collect();
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|path| path.is_file())
}

/// `oms serve` over `dir` with the token file `dir/tokens.json` (one staff token of
/// `m-1`, every order and inventory scope), read as `oms serve --tokens` reads it.
async fn serve_with_tokens(dir: &Path) -> TestApp {
    let file = dir.join("tokens.json");
    let scopes = ["oms/orders.read", "oms/orders.write", "oms/inventory.read", "oms/inventory.write"];
    std::fs::write(&file, json!([{ "token": STAFF, "merchant_id": "m-1", "scopes": scopes }]).to_string())
        .expect("the token file is written");
    let table = TokenTable::from_json(&std::fs::read_to_string(&file).expect("the token file is read")).expect("the token file");
    let options = ServeOptions {
        secrets: ChannelSecrets::default().with(Channel::Generic, SECRET),
        auth: Authenticator::Tokens(Arc::new(table)),
        ..ServeOptions::local(SocketAddr::from(([127, 0, 0, 1], 0)), dir.join("data"))
    };
    let running = server::start(options).await.expect("oms serve starts");
    TestApp { base: format!("http://{}", running.addr), client: reqwest::Client::new(), running }
}

/// A request with the staff token.
async fn authed(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Answer {
    let bearer = [("authorization", format!("Bearer {STAFF}"))];
    app.request(method, path, body.map(|b| b.to_string().into_bytes()), &bearer).await
}

/// Three orders of `SKU-1` reserved and one of a SKU no warehouse has counted, on hold
/// with an `order_on_hold` alert; all placed now, so that they are in the last 14 days.
async fn orders_through_to_reserved(app: &TestApp) {
    let warehouse =
        json!({"name": "wh-hz", "merchant_id": "m-1", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.0, "lon": 120.0});
    assert_eq!(authed(app, Method::PUT, "/warehouses/wh-hz", Some(warehouse)).await.status, StatusCode::OK);
    let count = authed(app, Method::PUT, "/inventory/wh-hz/SKU-1", Some(json!({"on_hand": 10, "merchant_id": "m-1"}))).await;
    assert_eq!(count.status, StatusCode::OK, "{:?}", count.body);
    let now = chrono::Utc::now().to_rfc3339();
    for (id, sku, quantity) in [("D-1", "SKU-1", 2), ("D-2", "SKU-1", 1), ("D-3", "SKU-1", 1), ("D-4", "SKU-NEW", 1)] {
        let mut order = generic_order(id, sku, quantity);
        order["placed_at"] = json!(now);
        let answer = app.post_order(&order).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    }
    app.settle().await;
}

/// The API's counts by status over the page's period, summed over currencies.
async fn api_counts(app: &TestApp) -> BTreeMap<String, u64> {
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(13);
    let answer = authed(app, Method::GET, &format!("/analytics?by=status&from={from}&to={today}"), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let mut counts = BTreeMap::new();
    for row in answer.body["rows"].as_array().expect("rows") {
        *counts.entry(row["key"].as_str().expect("a key").to_owned()).or_default() += row["orders"].as_u64().expect("a count");
    }
    counts
}

fn ids(answer: &Answer, list: &str, field: &str) -> Vec<String> {
    answer.body[list].as_array().expect("a list").iter().map(|o| o[field].as_str().expect("an id").to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reads_the_dashboard_makes_answer_orders_by_status_and_their_counts() {
    let dir = tempfile::tempdir().unwrap();
    let app = serve_with_tokens(dir.path()).await;
    orders_through_to_reserved(&app).await;

    let counts = api_counts(&app).await;
    assert_eq!(counts, BTreeMap::from([("on_hold".to_owned(), 1), ("reserved".to_owned(), 3)]));
    let reserved = authed(&app, Method::GET, "/orders?status=reserved", None).await;
    assert_eq!(reserved.status, StatusCode::OK, "{:?}", reserved.body);
    assert_eq!(ids(&reserved, "orders", "external_id"), ["D-3", "D-2", "D-1"], "newest first");
    assert!(reserved.body["orders"].as_array().unwrap().iter().all(|o| o["status"] == "reserved"));
    let page = authed(&app, Method::GET, "/orders?status=reserved&limit=2", None).await;
    assert_eq!(ids(&page, "orders", "external_id"), ["D-3", "D-2"]);
    let next = page.body["next"].as_str().expect("a next page");
    let rest = authed(&app, Method::GET, &format!("/orders?status=reserved&limit=2&cursor={next}"), None).await;
    assert_eq!((ids(&rest, "orders", "external_id"), &rest.body["next"]), (vec!["D-1".to_owned()], &Value::Null));
    let held = authed(&app, Method::GET, "/orders?status=on_hold&channel=generic", None).await;
    assert_eq!(ids(&held, "orders", "external_id"), ["D-4"]);
    assert_eq!(
        ids(&authed(&app, Method::GET, "/orders?status=delivered", None).await, "orders", "external_id"),
        Vec::<String>::new()
    );
    let bad = authed(&app, Method::GET, "/orders?status=lost", None).await;
    assert_eq!(
        (bad.status, &bad.body["error"]["code"], &bad.body["error"]["field"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_request"), &json!("status"))
    );
    let bad = authed(&app, Method::GET, "/analytics?by=colour", None).await;
    assert_eq!((bad.status, &bad.body["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("by")));
    // Without the token: the page yes, its data no.
    assert_eq!(app.get("/orders?status=reserved").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/analytics?by=status").await.status, StatusCode::UNAUTHORIZED);
    let page = app.client.get(format!("{}/dashboard", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("connect-src 'self'"));
    app.running.shutdown().await;
}

/// The page's own word for where it is: `signed_out`, `loading`, `ready`, `error`.
async fn state(page: &Page) -> String {
    let answer = page.evaluate("document.body.getAttribute('data-state')").await.expect("the page evaluates");
    answer.into_value().unwrap_or_default()
}

/// Marks the page as waiting, runs `act`, and waits until the page has settled again.
async fn settled(page: &Page, act: impl std::future::Future<Output = ()>) {
    page.evaluate("document.body.setAttribute('data-state', 'waiting')").await.expect("the page evaluates");
    act.await;
    // Not a timing assertion: a bound on how long to wait for the page to answer at all.
    for _ in 0..200 {
        match state(page).await.as_str() {
            "ready" => return,
            "waiting" | "loading" => tokio::time::sleep(Duration::from_millis(50)).await,
            other => {
                let note = text(page, "#message").await;
                panic!("the page is {other}: {note}");
            }
        }
    }
    panic!("the page never settled: still {}", state(page).await);
}

async fn click(page: &Page, selector: &str) {
    let element = page.find_element(selector).await.unwrap_or_else(|e| panic!("{selector} is on the page: {e}"));
    element.click().await.unwrap_or_else(|e| panic!("{selector} is clicked: {e}"));
}

async fn text(page: &Page, selector: &str) -> String {
    let element = page.find_element(selector).await.unwrap_or_else(|e| panic!("{selector} is on the page: {e}"));
    element.inner_text().await.expect("its text is read").unwrap_or_default()
}

/// For each element matching `selector`: its `attribute` and the text of its `cell`.
async fn rows(page: &Page, selector: &str, attribute: &str, cell: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for row in page.find_elements(selector).await.expect("the rows") {
        let key = row.attribute(attribute).await.expect("the attribute is read").unwrap_or_default();
        let value = row.find_element(cell).await.expect("the cell").inner_text().await.expect("its text").unwrap_or_default();
        found.push((key, value.trim().to_owned()));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_open_the_dashboard_with_their_token_and_see_the_apis_counts_alerts_and_an_orders_timeline() {
    let Some(chromium) = chromium() else {
        println!("SKIPPED: no chromium on PATH (scripts/install-tools.sh installs Debian's chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = serve_with_tokens(dir.path()).await;
    orders_through_to_reserved(&app).await;
    let counts = api_counts(&app).await;
    let open = authed(&app, Method::GET, "/alerts?status=open", None).await;
    let alerts: Vec<(String, String)> = open.body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["alert_id"].as_str().unwrap().to_owned(), a["message"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(alerts.len(), 1, "the order on hold raised one alert: {:?}", open.body);

    let profile = tempfile::tempdir().unwrap();
    let config = BrowserConfig::builder()
        .chrome_executable(chromium)
        .user_data_dir(profile.path())
        .window_size(1280, 1024)
        // Root in CI containers: Chromium's sandbox needs user namespaces it may not have.
        .no_sandbox()
        .build()
        .expect("a browser configuration");
    let (mut browser, mut handler) = Browser::launch(config).await.expect("chromium starts");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let page = browser.new_page(format!("{}/dashboard", app.base)).await.expect("the page opens");
    page.wait_for_navigation().await.expect("the page loads");
    assert_eq!(state(&page).await, "signed_out", "the page asks for the token first");

    let field = page.find_element("#token").await.expect("the token field");
    field.click().await.expect("the field takes focus");
    field.type_str(STAFF).await.expect("the field takes the token");
    settled(&page, click(&page, "#sign-in")).await;

    // The counts: every status the API counts, as the API counts it; the rest zero.
    let shown = rows(&page, "#status-counts tbody tr", "data-status", "td.count").await;
    assert_eq!(shown.len(), 11, "{shown:?}");
    for (status, count) in &shown {
        let expected = counts.get(status).copied().unwrap_or(0);
        assert_eq!(count, &expected.to_string(), "{status}: {shown:?}");
    }
    assert_eq!(counts.values().sum::<u64>(), 4);

    // The alerts, as the API lists them.
    let listed = rows(&page, "#alerts tbody tr", "data-alert-id", "td.text").await;
    assert_eq!(listed, alerts);

    // A status's newest orders, and one order's timeline.
    settled(&page, click(&page, "#status-counts tr[data-status='reserved'] button")).await;
    let reserved = authed(&app, Method::GET, "/orders?status=reserved", None).await;
    let listed: Vec<String> =
        rows(&page, "#orders tbody tr", "data-order-id", "td").await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(listed, ids(&reserved, "orders", "order_id"));
    let first = listed[0].clone();
    settled(&page, click(&page, &format!("#orders tr[data-order-id='{first}'] button"))).await;
    assert_eq!(text(&page, "#detail-id").await, first);
    let order = authed(&app, Method::GET, &format!("/orders/{first}"), None).await.body;
    let steps: Vec<String> = rows(&page, "#timeline li", "data-status", "strong").await.into_iter().map(|(s, _)| s).collect();
    let expected: Vec<String> =
        order["timeline"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap().to_owned()).collect();
    assert_eq!(steps, expected);
    assert_eq!(steps.first().map(String::as_str), Some("received"));
    assert_eq!(steps.last().map(String::as_str), Some("reserved"));

    // The day chart: 14 bars, today's holds every order placed today.
    let bars = page.find_elements("#chart-day svg rect").await.expect("the bars");
    assert_eq!(bars.len(), 14);
    // SVG text has no innerText: read its textContent.
    let values: Vec<String> = page
        .evaluate("Array.from(document.querySelectorAll('#chart-day svg text.value')).map(t => t.textContent)")
        .await
        .expect("the page evaluates")
        .into_value()
        .expect("a list of texts");
    assert_eq!(values.last().map(String::as_str), Some("4"), "{values:?}");
    assert!(page.find_element("#chart-revenue [data-currency='CNY'] svg").await.is_ok(), "revenue in CNY is drawn");
    let channels: String =
        page.evaluate("document.getElementById('chart-channel').textContent").await.expect("evaluates").into_value().unwrap();
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(13);
    let by_channel = authed(&app, Method::GET, &format!("/analytics?by=channel&from={from}&to={today}"), None).await.body;
    let row = &by_channel["rows"][0];
    assert_eq!((row["key"].as_str(), by_channel["rows"].as_array().map(Vec::len)), (Some("generic"), Some(1)), "{by_channel}");
    let note =
        format!("generic{} orders, {} {}", row["orders"], row["currency"].as_str().unwrap(), row["revenue"].as_str().unwrap());
    assert_eq!(channels, note, "the channel chart says what the API says");

    // Acknowledging from the page moves the alert as the API says.
    let (alert_id, _) = &alerts[0];
    settled(&page, click(&page, &format!("#alerts tr[data-alert-id='{alert_id}'] button[data-action='acknowledge']"))).await;
    let acknowledged = authed(&app, Method::GET, "/alerts?status=acknowledged", None).await;
    assert_eq!(ids(&acknowledged, "alerts", "alert_id"), vec![alert_id.to_owned()]);
    assert_eq!(
        rows(&page, "#alerts tbody tr", "data-alert-id", "td.status").await,
        [(alert_id.clone(), "acknowledged".to_owned())]
    );

    let shots = tempfile::tempdir().unwrap();
    let path = shots.path().join("dashboard.png");
    let params = ScreenshotParams::builder().full_page(true).build();
    page.save_screenshot(params, &path).await.expect("a screenshot");
    let png = std::fs::read(&path).expect("the screenshot is saved");
    assert!(png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG of {} bytes", png.len());
    // To look at it: `DASHBOARD_SCREENSHOT=/some/file.png` keeps a copy.
    if let Some(keep) = std::env::var_os("DASHBOARD_SCREENSHOT") {
        std::fs::copy(&path, keep).expect("the screenshot is copied");
    }

    // The token is kept for the tab: a reload opens the board without asking again.
    page.reload().await.expect("the page reloads");
    for _ in 0..200 {
        if state(&page).await == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state(&page).await, "ready");
    assert_eq!(rows(&page, "#status-counts tbody tr", "data-status", "td.count").await, shown);

    browser.close().await.expect("chromium closes");
    let _ = browser.wait().await;
    events.await.expect("the event loop ends");
    app.running.shutdown().await;
}
