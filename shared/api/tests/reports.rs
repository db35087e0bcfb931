//! `GET /reports` and `GET /reports/{run}/{file}` over a report directory: the files listed
//! newest first, served with their content type, names that leave the directory refused,
//! staff only; without a directory (Lambda) 501.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::auth::TokenTable;
use oms_api::routes::{self, Router};
use oms_api::{AppState, Authenticator, ChannelSecrets, UnsignedPolicy};
use oms_domain::ports::SystemClock;
use oms_embedded::Embedded;

const STAFF: &str = "platform-staff-reader-0001";
const MERCHANT: &str = "merchant-one-reader-token";
const STOCK_ONLY: &str = "platform-stock-reader-001";

fn app(reports: Option<std::path::PathBuf>) -> Router {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let grants = json!([
        { "token": STAFF, "scopes": ["oms/platform", "oms/orders.read"] },
        { "token": MERCHANT, "merchant_id": "m-1", "scopes": ["oms/orders.read"] },
        { "token": STOCK_ONLY, "scopes": ["oms/platform", "oms/inventory.read"] },
    ]);
    routes::all(AppState {
        ports: store.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: Authenticator::Tokens(Arc::new(TokenTable::from_json(&grants.to_string()).expect("tokens"))),
        pricing: Default::default(),
        archive: None,
        reports: reports.map(|dir| Arc::new(oms_api::ReportDirectory(dir)) as Arc<dyn oms_api::ReportFiles>),
        admission: Default::default(),
        documents: None,
    })
}

async fn get(router: &Router, token: Option<&str>, path: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let mut request = Request::builder().method("GET").uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router.clone().oneshot(request.body(Body::empty()).expect("a request")).await.expect("infallible");
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, content_type, bytes.to_vec())
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// Two runs, the second newer, and a secret beside the report directory.
fn report_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(data.path().join("oms.db"), "secret").expect("written");
    let root = data.path().join("reports");
    for (run, age) in [("20261130T000000Z", 7200), ("20261201T000000Z", 60)] {
        std::fs::create_dir_all(root.join(run)).expect("created");
        for (name, body) in [("sales.html", "<html><svg></svg></html>"), ("sales-totals.csv", "currency,orders\nCNY,2\n")] {
            let path = root.join(run).join(name);
            std::fs::write(&path, body).expect("written");
            let file = std::fs::File::options().write(true).open(&path).expect("opened");
            file.set_modified(SystemTime::now() - Duration::from_secs(age)).expect("time set");
        }
    }
    data
}

#[tokio::test]
async fn staff_list_report_files_newest_first() {
    let data = report_dir();
    let router = app(Some(data.path().join("reports")));
    let (status, _, body) = get(&router, Some(STAFF), "/reports").await;
    assert_eq!(status, StatusCode::OK);
    let listed = json_of(&body);
    let paths: Vec<&str> = listed["reports"].as_array().expect("a list").iter().filter_map(|r| r["path"].as_str()).collect();
    assert_eq!(
        paths,
        [
            "20261201T000000Z/sales-totals.csv",
            "20261201T000000Z/sales.html",
            "20261130T000000Z/sales-totals.csv",
            "20261130T000000Z/sales.html"
        ]
    );
    assert_eq!(listed["reports"][0]["content_type"], "text/csv; charset=utf-8");
    assert_eq!(listed["reports"][0]["bytes"], 22);
}

#[tokio::test]
async fn a_report_file_is_served_with_its_content_type() {
    let data = report_dir();
    let router = app(Some(data.path().join("reports")));
    let (status, content_type, body) = get(&router, Some(STAFF), "/reports/20261201T000000Z/sales-totals.csv").await;
    assert_eq!((status, content_type.as_deref()), (StatusCode::OK, Some("text/csv; charset=utf-8")));
    assert_eq!(body, b"currency,orders\nCNY,2\n");
    let (status, content_type, _) = get(&router, Some(STAFF), "/reports/20261130T000000Z/sales.html").await;
    assert_eq!((status, content_type.as_deref()), (StatusCode::OK, Some("text/html; charset=utf-8")));
}

#[tokio::test]
async fn names_that_leave_the_report_directory_or_are_unknown_answer_404() {
    let data = report_dir();
    let router = app(Some(data.path().join("reports")));
    for path in [
        "/reports/..%2F..%2Foms.db/x",
        "/reports/%2E%2E/oms.db",
        "/reports/20261201T000000Z/..%2F..%2Foms.db",
        "/reports/20261201T000000Z/%2Fetc%2Fpasswd",
        "/reports/20261201T000000Z/.hidden",
        "/reports/20261201T000000Z/missing.csv",
        "/reports/20261201T000000Z/sales.html%00.csv",
    ] {
        let (status, content_type, body) = get(&router, Some(STAFF), path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(content_type.as_deref(), Some("application/json"), "{path}");
        assert_eq!(json_of(&body)["error"]["code"], "not_found", "{path}");
        assert!(!String::from_utf8_lossy(&body).contains("secret"), "{path}");
    }
    // Symbolic links (a file, or a run directory) never lead out of the reports.
    let root = data.path().join("reports");
    std::os::unix::fs::symlink(data.path().join("oms.db"), root.join("20261201T000000Z").join("linked.csv")).expect("linked");
    std::os::unix::fs::symlink(data.path(), root.join("20261202T000000Z")).expect("linked");
    for path in ["/reports/20261201T000000Z/linked.csv", "/reports/20261202T000000Z/oms.db"] {
        let (status, _, body) = get(&router, Some(STAFF), path).await;
        assert_eq!((status, json_of(&body)["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{path}");
        assert!(!String::from_utf8_lossy(&body).contains("secret"), "{path}");
    }
    // A name that is not UTF-8 is a JSON 400 like every other bad request.
    let (status, content_type, body) = get(&router, Some(STAFF), "/reports/20261201T000000Z/%c0%ae%c0%ae").await;
    assert_eq!((status, content_type.as_deref()), (StatusCode::BAD_REQUEST, Some("application/json")));
    assert_eq!(json_of(&body)["error"]["code"], "invalid_request");
}

#[tokio::test]
async fn reports_are_for_staff_with_the_orders_read_scope() {
    let data = report_dir();
    let router = app(Some(data.path().join("reports")));
    for (token, want, code) in [
        (None, StatusCode::UNAUTHORIZED, "unauthenticated"),
        (Some("not-a-token-of-this-table"), StatusCode::UNAUTHORIZED, "unauthenticated"),
        (Some(MERCHANT), StatusCode::FORBIDDEN, "forbidden"),
        (Some(STOCK_ONLY), StatusCode::FORBIDDEN, "forbidden"),
    ] {
        for path in ["/reports", "/reports/20261201T000000Z/sales.html"] {
            let (status, _, body) = get(&router, token, path).await;
            assert_eq!((status, json_of(&body)["error"]["code"].as_str()), (want, Some(code)), "{token:?} {path}");
        }
    }
}

#[tokio::test]
async fn without_a_report_directory_the_routes_answer_501_and_an_empty_directory_lists_none() {
    let (status, _, body) = get(&app(None), Some(STAFF), "/reports").await;
    assert_eq!((status, json_of(&body)["error"]["code"].as_str()), (StatusCode::NOT_IMPLEMENTED, Some("not_implemented")));
    let empty = tempfile::tempdir().expect("a temporary directory");
    let (status, _, body) = get(&app(Some(empty.path().join("reports"))), Some(STAFF), "/reports").await;
    assert_eq!((status, json_of(&body)), (StatusCode::OK, json!({"reports": []})));
}
