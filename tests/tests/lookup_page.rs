//! The customers' "Where is my order?" page in a real browser: `oms serve` in process, a
//! signed generic order allocated and reserved, then headless Chromium opens `/track`,
//! types the order number and phone, submits and reads what the page rendered; then a
//! wrong phone, which must show the one generic not-found message; then the page renders
//! parcels, their events and the ETA from an answer of the tracking view's shape. One
//! browser launch.
//!
//! Needs Debian's `chromium` (`scripts/install-tools.sh` installs it; `CHROMIUM` names
//! another binary). Without one the test prints SKIPPED and returns.

use std::path::PathBuf;
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::Page;
use futures::StreamExt as _;
use reqwest::StatusCode;

use oms_api::routes::track::{status_text, NOT_FOUND_MESSAGE};
use oms_domain::OrderStatus;
use oms_tests::{generic_order, spawn_app};

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

/// The inner text of the first element matching `selector`.
async fn text(page: &Page, selector: &str) -> String {
    let element = page.find_element(selector).await.unwrap_or_else(|e| panic!("{selector} is on the page: {e}"));
    element.inner_text().await.expect("its text is read").unwrap_or_default()
}

/// The page's own word for where it is: `ready`, `loading`, `found`, `not_found`, ...
async fn state(page: &Page) -> String {
    let answer = page.evaluate("document.body.getAttribute('data-state')").await.expect("the page evaluates");
    answer.into_value().unwrap_or_default()
}

/// Types the number and phone into the form as a buyer would, submits it, and waits until
/// the page has settled on an answer; returns its state.
async fn submit(page: &Page, order_number: &str, phone: &str) -> String {
    page.evaluate("document.getElementById('order-number').value = ''; document.getElementById('phone').value = ''")
        .await
        .expect("the form is cleared");
    for (selector, typed) in [("#order-number", order_number), ("#phone", phone)] {
        let input = page.find_element(selector).await.expect("the field is on the page");
        input.click().await.expect("the field takes focus");
        input.type_str(typed).await.expect("the field takes the text");
    }
    page.find_element("#submit").await.expect("the button").click().await.expect("the button is pressed");
    // Not a timing assertion: a bound on how long to wait for the page to answer at all.
    for _ in 0..200 {
        let now = state(page).await;
        if now != "loading" && now != "ready" {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never answered: still {}", state(page).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_finds_an_order_by_number_and_phone_in_the_browser_and_a_wrong_phone_finds_nothing() {
    let Some(chromium) = chromium() else {
        println!("SKIPPED: no chromium on PATH (scripts/install-tools.sh installs Debian's chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 10).await;
    let answer = app.post_order(&generic_order("A-2001", "SKU-1", 2)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    app.settle().await;

    let profile = tempfile::tempdir().unwrap();
    let config = BrowserConfig::builder()
        .chrome_executable(chromium)
        .user_data_dir(profile.path())
        // Root in CI containers: Chromium's sandbox needs user namespaces it may not have.
        .no_sandbox()
        .build()
        .expect("a browser configuration");
    let (mut browser, mut handler) = Browser::launch(config).await.expect("chromium starts");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let page = browser.new_page(format!("{}/track?merchant=m-1", app.base)).await.expect("the page opens");
    page.wait_for_navigation().await.expect("the page loads");
    assert_eq!(state(&page).await, "ready");

    // The stored phone is +8613800000000; the buyer types it the local way.
    assert_eq!(submit(&page, "A-2001", "138 0000 0000").await, "found");
    assert_eq!(text(&page, "#order-number-out").await, "A-2001");
    assert_eq!(text(&page, "#status-text").await, status_text(OrderStatus::Reserved));
    assert_eq!(text(&page, "#phone-out").await, "138****0000");
    assert_eq!(text(&page, "#city").await, "Hangzhou");
    let mut timeline = Vec::new();
    for entry in page.find_elements("#timeline li").await.expect("the timeline") {
        timeline.push(entry.inner_text().await.expect("an entry's text").unwrap_or_default());
    }
    let steps = [OrderStatus::Received, OrderStatus::Allocated, OrderStatus::Reserved].map(status_text);
    assert_eq!(timeline.len(), steps.len(), "{timeline:?}");
    for (entry, step) in timeline.iter().zip(steps) {
        assert!(entry.starts_with(step), "{entry:?} is not {step:?}");
    }
    let shown = text(&page, "main").await;
    for secret in ["m-1", "a@example.com", "West Lake", "ord_"] {
        assert!(!shown.contains(secret), "{secret} shown on the page: {shown}");
    }

    assert_eq!(submit(&page, "A-2001", "139 0000 0000").await, "not_found");
    assert_eq!(text(&page, "#message").await, NOT_FOUND_MESSAGE);
    let result = page.find_element("#result").await.expect("the result section");
    assert!(result.attribute("hidden").await.expect("its attribute").is_some(), "the order found before is no longer shown");

    // Shipments and the ETA are not recorded yet; the page already renders the tracking
    // view's shape. The answer is stood in for in the page (same browser, no second launch).
    let shipped = serde_json::json!({
        "order_number": "A-2001", "status": "in_transit", "status_text": status_text(OrderStatus::InTransit),
        "placed_at": "2026-11-20T10:00:00Z", "city": "Hangzhou", "phone": "138****0000",
        "items": [{"sku": "SKU-1", "quantity": 2}],
        "timeline": [{"at": "2026-11-20T10:00:00Z", "status": "received", "detail": "Order received"}],
        "eta": "2026-11-23T18:00:00Z",
        "shipments": [{"tracking_number": "ZTO123456789", "status": "out_for_delivery", "events": [
            {"at": "2026-11-22T08:00:00Z", "status": "in_transit", "location": "Hangzhou hub", "description": "Arrived at the hub"},
            {"at": "2026-11-23T07:30:00Z", "status": "out_for_delivery", "location": "Xihu"}
        ]}]
    });
    page.evaluate(format!(
        "window.fetch = () => Promise.resolve(new Response(JSON.stringify({shipped}), {{status: 200, headers: {{'Content-Type': 'application/json'}}}}))"
    ))
    .await
    .expect("the answer is stood in for");
    assert_eq!(submit(&page, "A-2001", "138 0000 0000").await, "found");
    let parcels = text(&page, "#shipments").await;
    for shown in ["ZTO123456789", "out for delivery", "Hangzhou hub", "Arrived at the hub", "Xihu"] {
        assert!(parcels.contains(shown), "{shown} not in {parcels:?}");
    }
    assert!(!text(&page, "#eta").await.is_empty(), "the ETA is shown");
    assert_eq!(text(&page, "#status-text").await, status_text(OrderStatus::InTransit));

    browser.close().await.expect("chromium closes");
    let _ = browser.wait().await;
    events.await.expect("the event loop ends");
    app.running.shutdown().await;
}
