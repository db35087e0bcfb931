//! Merchant onboarding through the router `oms serve` hosts, on the embedded store: the
//! life cycle (registered, applied with documents, rejected with a reason, edited,
//! submitted again, approved), what a merchant not yet approved may not do (list products:
//! 403; its channel orders held, never bounced, and released by the approval), who sees
//! and decides what, retries that change nothing, and bad input of every kind refused with
//! a clear JSON error and nothing stored.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, UnsignedPolicy};
use oms_domain::onboarding::OnboardingStatus;
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::MerchantId;
use oms_embedded::DocumentDirectory;
use support::{call, code, send};

const MERCHANT: &str = "m9-operator-token-0001";
const OTHER: &str = "m2-operator-token-0001";
const ADMIN: &str = "platform-admin-token-01";
/// A merchant's credential that was (wrongly) given the admin scope: it still decides nothing.
const MERCHANT_ADMIN: &str = "m9-admin-scope-token-1";
const READ_ONLY: &str = "m9-read-only-token-001";

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

struct App {
    router: Router,
    ports: Ports,
    _documents: tempfile::TempDir,
}

async fn app() -> App {
    app_with_documents(true).await
}

async fn app_with_documents(documents: bool) -> App {
    let (_, ports) = support::store(Arc::new(SystemClock));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let operator = ["oms/inventory.write", "oms/orders.read", "oms/orders.write"];
    let grants = json!([
        { "token": MERCHANT, "merchant_id": "m-9", "scopes": operator },
        { "token": OTHER, "merchant_id": "m-2", "scopes": operator },
        { "token": ADMIN, "scopes": ["oms/platform", "oms/admin"] },
        { "token": MERCHANT_ADMIN, "merchant_id": "m-9", "scopes": ["oms/admin", "oms/orders.write"] },
        { "token": READ_ONLY, "merchant_id": "m-9", "scopes": ["oms/orders.read"] },
    ]);
    let documents: Option<Arc<dyn oms_domain::ports::DocumentStore>> =
        documents.then(|| Arc::new(DocumentDirectory::new(dir.path().join("documents"))) as _);
    let state = support::state(&ports, &grants);
    let router = routes::all(AppState { unsigned: UnsignedPolicy::Accept, documents, ..state });
    App { router, ports, _documents: dir }
}

async fn upload(router: &Router, name: &str, content_type: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let path = format!("/merchants/m-9/application/documents/{name}");
    send(router, Some(MERCHANT), "PUT", &path, content_type, bytes.to_vec()).await
}

fn application(scope: &str) -> String {
    json!({
        "shop_type": "flagship", "business_scope": scope, "licence_number": "91330100ma27xk1234",
        "legal_representative": {"name": "Wang Fang", "id_number": "33010619900101123X"}
    })
    .to_string()
}

async fn register(router: &Router) -> Value {
    let body = json!({"phone": "+86 138 0000 0000", "region": "浙江"}).to_string();
    let (status, answer) = call(router, Some(MERCHANT), "POST", "/merchants/register", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

/// Registered, the application written and both documents uploaded, submitted.
async fn submitted(router: &Router) -> Value {
    register(router).await;
    submitted_after_register(router).await
}

/// The application and documents of a registered merchant, submitted.
async fn submitted_after_register(router: &Router) -> Value {
    let (status, answer) = call(router, Some(MERCHANT), "PUT", "/merchants/m-9/application", &application("tea")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(upload(router, "business_licence", "application/pdf", PDF).await.0, StatusCode::OK);
    assert_eq!(upload(router, "representative_id", "image/png", PNG).await.0, StatusCode::OK);
    let (status, answer) = call(router, Some(MERCHANT), "POST", "/merchants/m-9/application/submit", "").await;
    assert_eq!((status, &answer["status"]), (StatusCode::OK, &json!("submitted")), "{answer}");
    answer
}

fn generic_order(external_id: &str) -> String {
    json!({
        "external_id": external_id, "merchant_id": "m-9", "placed_at": "2026-11-20T10:00:00Z", "currency": "CNY",
        "customer": {"id": "c-1", "email": "a@example.com", "phone": "+8613800000000"},
        "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang",
                             "postal_code": "310000", "country": "CN"},
        "lines": [{"sku": "TEA-1", "quantity": 2, "unit_price": "19.90"}]
    })
    .to_string()
}

#[tokio::test]
async fn a_merchant_applies_is_rejected_edits_resubmits_and_is_approved_with_every_step_on_its_timeline() {
    let App { router, .. } = app().await;
    let registered = register(&router).await;
    assert_eq!(
        (&registered["status"], &registered["phone"], &registered["region"], &registered["may_sell"]),
        (&json!("draft"), &json!("+8613800000000"), &json!("Zhejiang"), &json!(false))
    );
    let submitted = submitted_after_register(&router).await;
    assert_eq!(submitted["application"]["legal_representative_id_number"], json!("330***********123X"), "masked");
    assert_eq!(submitted["application"]["licence_number"], json!("91330100MA27XK1234"));
    assert_eq!(submitted["documents"].as_array().map(Vec::len), Some(2));

    // The review queue holds it.
    let (status, queue) = call(&router, Some(ADMIN), "GET", "/merchant-applications", "").await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    assert_eq!((queue["merchants"][0]["merchant_id"].as_str(), &queue["next"]), (Some("m-9"), &Value::Null));

    let reason = json!({"reason": "the licence scan is unreadable"}).to_string();
    let (status, rejected) = call(&router, Some(ADMIN), "POST", "/merchants/m-9/application/reject", &reason).await;
    assert_eq!((status, &rejected["status"]), (StatusCode::OK, &json!("rejected")), "{rejected}");
    assert_eq!(rejected["rejection_reason"], json!("the licence scan is unreadable"));
    // Not decided twice: a second decision finds it rejected.
    let (status, refused) = call(&router, Some(ADMIN), "POST", "/merchants/m-9/application/approve", "").await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("onboarding_state_conflict")), "{refused}");

    // The merchant sees why, uploads a readable scan and submits again.
    let (status, seen) = call(&router, Some(MERCHANT), "GET", "/merchants/m-9", "").await;
    assert_eq!((status, &seen["rejection_reason"]), (StatusCode::OK, &json!("the licence scan is unreadable")));
    let clearer = [PDF, b"% a clearer scan\n"].concat();
    let (status, edited) = upload(&router, "business_licence", "application/pdf", &clearer).await;
    assert_eq!((status, &edited["status"]), (StatusCode::OK, &json!("draft")), "{edited}");
    let (status, again) = call(&router, Some(MERCHANT), "POST", "/merchants/m-9/application/submit", "").await;
    assert_eq!((status, &again["status"]), (StatusCode::OK, &json!("submitted")), "{again}");
    let (status, approved) = call(&router, Some(ADMIN), "POST", "/merchants/m-9/application/approve", "").await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(
        (&approved["status"], &approved["may_sell"], &approved["released_orders"]),
        (&json!("approved"), &json!(true), &json!([]))
    );

    let steps: Vec<(&str, &str)> = approved["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .map(|e| (e["status"].as_str().unwrap_or_default(), e["by"].as_str().unwrap_or_default()))
        .collect();
    let merchant = "merchant m-9";
    assert_eq!(
        steps,
        [
            ("draft", merchant),
            ("draft", merchant),
            ("draft", merchant),
            ("draft", merchant),
            ("submitted", merchant),
            ("rejected", "platform staff"),
            ("draft", merchant),
            ("submitted", merchant),
            ("approved", "platform staff"),
        ]
    );

    // The document as uploaded, to the merchant and the reviewers.
    let request = |token: &str| {
        Request::builder()
            .uri("/merchants/m-9/application/documents/business_licence")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("a request")
    };
    for token in [MERCHANT, ADMIN] {
        let response = router.clone().oneshot(request(token)).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/pdf");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        assert_eq!(bytes.as_ref(), clearer.as_slice(), "the last upload");
    }
}

#[tokio::test]
async fn an_order_for_a_merchant_not_yet_approved_is_held_never_bounced_and_released_by_the_approval() {
    let App { router, ports, .. } = app().await;
    submitted(&router).await;
    let (status, receipt) = call(&router, None, "POST", "/channels/generic/orders", &generic_order("A-1")).await;
    assert_eq!((status, &receipt["status"]), (StatusCode::ACCEPTED, &json!("on_hold")), "{receipt}");
    let order_id = receipt["order_id"].as_str().expect("an order id").to_owned();
    let (status, order) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!((status, &order["hold"]["reason"]), (StatusCode::OK, &json!("merchant_not_approved")), "{order}");
    // The same delivery again is the same order.
    let (status, again) = call(&router, None, "POST", "/channels/generic/orders", &generic_order("A-1")).await;
    assert_eq!((status, &again["order_id"], &again["duplicate"]), (StatusCode::OK, &json!(order_id), &json!(true)));

    let (status, approved) = call(&router, Some(ADMIN), "POST", "/merchants/m-9/application/approve", "").await;
    assert_eq!((status, &approved["released_orders"]), (StatusCode::OK, &json!([order_id])), "{approved}");
    let (_, order) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!((&order["status"], &order["hold"]), (&json!("received"), &Value::Null), "{order}");
    let details: Vec<&str> =
        order["timeline"].as_array().expect("a timeline").iter().filter_map(|e| e["detail"].as_str()).collect();
    assert!(details.iter().any(|d| d.contains("the merchant is approved")), "{details:?}");

    // An order after the approval is not held for it.
    let (status, later) = call(&router, None, "POST", "/channels/generic/orders", &generic_order("A-2")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{later}");
    let id = oms_domain::OrderId::parse(later["order_id"].as_str().expect("an id")).expect("an id");
    let stored = ports.orders.get_order(&id).await.expect("read").expect("stored");
    assert_ne!(stored.hold(), Some(oms_domain::order::HoldReason::MerchantNotApproved));
}

#[tokio::test]
async fn the_catalogue_refuses_a_merchant_not_approved_and_takes_one_that_predates_onboarding() {
    let App { router, ports, .. } = app().await;
    let sku = |merchant: &str| {
        json!({"merchant_id": merchant, "name": "Longjing tea", "category": "tea", "cost": "40", "list_price": "168",
               "weight_g": 250, "dims_mm": [100, 80, 60]})
        .to_string()
    };
    // m-2 has no onboarding record: it predates onboarding and lists products.
    let (status, listed) = call(&router, Some(OTHER), "PUT", "/skus/TEA-2", &sku("m-2")).await;
    assert_eq!(status, StatusCode::OK, "{listed}");

    register(&router).await;
    let (status, refused) = call(&router, Some(MERCHANT), "PUT", "/skus/TEA-1", &sku("m-9")).await;
    assert_eq!((status, code(&refused)), (StatusCode::FORBIDDEN, Some("merchant_not_approved")), "{refused}");
    let tea = oms_domain::Sku::parse("TEA-1").expect("a sku");
    assert_eq!(ports.catalogue.get_sku(&tea).await.expect("read"), None, "nothing stored");

    submitted_after_register(&router).await;
    let (status, _) = call(&router, Some(ADMIN), "POST", "/merchants/m-9/application/approve", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, listed) = call(&router, Some(MERCHANT), "PUT", "/skus/TEA-1", &sku("m-9")).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
}

#[tokio::test]
async fn an_upload_is_checked_by_size_type_and_bytes_and_a_refused_one_stores_nothing() {
    let App { router, ports, .. } = app().await;
    register(&router).await;
    let too_large = vec![b'%'; oms_domain::document::MAX_DOCUMENT_BYTES + 1];
    let cases: [(&str, &str, &[u8], StatusCode, &str); 6] = [
        ("business_licence", "application/pdf", &too_large, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        ("business_licence", "text/html", b"<html></html>", StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (
            "business_licence",
            "image/png",
            b"<html>not a png</html>",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        ("business_licence", "application/pdf", PNG, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("business_licence", "application/pdf", b"", StatusCode::BAD_REQUEST, "invalid_request"),
        ("passport", "application/pdf", PDF, StatusCode::BAD_REQUEST, "invalid_request"),
    ];
    for (name, content_type, bytes, want, want_code) in cases {
        let (status, answer) = upload(&router, name, content_type, bytes).await;
        assert_eq!((status, code(&answer)), (want, Some(want_code)), "{name} {content_type}: {answer}");
    }
    let record = ports.merchants.get_merchant(&MerchantId::parse("m-9").expect("an id")).await.expect("read").expect("stored");
    assert_eq!((record.documents.len(), record.version), (0, 1), "nothing stored");

    // The same bytes again change nothing; a document of another merchant is not found.
    let (_, first) = upload(&router, "business_licence", "application/pdf", PDF).await;
    let (status, again) = upload(&router, "business_licence", "application/pdf", PDF).await;
    assert_eq!((status, &again["version"]), (StatusCode::OK, &first["version"]), "{again}");
    let (status, hidden) = call(&router, Some(OTHER), "GET", "/merchants/m-9/application/documents/business_licence", "").await;
    assert_eq!((status, code(&hidden)), (StatusCode::NOT_FOUND, Some("merchant_not_found")));
    let (status, none) = call(&router, Some(MERCHANT), "GET", "/merchants/m-9/application/documents/representative_id", "").await;
    assert_eq!((status, code(&none)), (StatusCode::NOT_FOUND, Some("document_not_found")));

    // Without document storage the upload is not available, and says so.
    let App { router, .. } = app_with_documents(false).await;
    register(&router).await;
    let (status, answer) = upload(&router, "business_licence", "application/pdf", PDF).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_IMPLEMENTED, Some("not_implemented")));
}

#[tokio::test]
async fn a_merchant_sees_and_changes_only_its_own_record_and_only_platform_administrators_decide() {
    let App { router, .. } = app().await;
    submitted(&router).await;
    for (method, path) in
        [("GET", "/merchants/m-9"), ("PUT", "/merchants/m-9/application"), ("POST", "/merchants/m-9/application/submit")]
    {
        let (status, answer) = call(&router, Some(OTHER), method, path, &application("x")).await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("merchant_not_found")), "{method} {path}");
    }
    let body = json!({"merchant_id": "m-9", "phone": "+8613800000000", "region": "Zhejiang"}).to_string();
    let (status, answer) = call(&router, Some(OTHER), "POST", "/merchants/register", &body).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "{answer}");
    for token in [MERCHANT, MERCHANT_ADMIN] {
        let (status, answer) = call(&router, Some(token), "POST", "/merchants/m-9/application/approve", "").await;
        assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "{token}: {answer}");
        let (status, _) = call(&router, Some(token), "GET", "/merchant-applications", "").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, answer) = call(&router, Some(READ_ONLY), "POST", "/merchants/m-9/application/submit", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "reads only");
    let (status, answer) = call(&router, None, "GET", "/merchants/m-9", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let (status, seen) = call(&router, Some(ADMIN), "GET", "/merchants/m-9", "").await;
    assert_eq!((status, &seen["status"]), (StatusCode::OK, &json!("submitted")), "an administrator reads any");
    // Under review, the application does not change.
    let (status, answer) = call(&router, Some(MERCHANT), "PUT", "/merchants/m-9/application", &application("more tea")).await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, Some("onboarding_state_conflict")), "{answer}");
}

#[tokio::test]
async fn retries_change_nothing_a_registration_an_application_and_a_submission() {
    let App { router, .. } = app().await;
    register(&router).await;
    let body = json!({"phone": "+8613900000000", "region": "Shanghai"}).to_string();
    let (status, again) = call(&router, Some(MERCHANT), "POST", "/merchants/register", &body).await;
    assert_eq!((status, &again["phone"], &again["version"]), (StatusCode::OK, &json!("+8613800000000"), &json!(1)), "{again}");
    let (_, first) = call(&router, Some(MERCHANT), "PUT", "/merchants/m-9/application", &application("tea")).await;
    let (_, second) = call(&router, Some(MERCHANT), "PUT", "/merchants/m-9/application", &application("tea")).await;
    assert_eq!(first["version"], second["version"]);
    upload(&router, "business_licence", "application/pdf", PDF).await;
    upload(&router, "representative_id", "image/png", PNG).await;
    let (_, submitted) = call(&router, Some(MERCHANT), "POST", "/merchants/m-9/application/submit", "").await;
    let (status, resubmitted) = call(&router, Some(MERCHANT), "POST", "/merchants/m-9/application/submit", "").await;
    assert_eq!((status, &resubmitted["version"]), (StatusCode::OK, &submitted["version"]));
}

#[tokio::test]
async fn bad_input_of_every_kind_is_refused_with_a_clear_json_error_and_nothing_stored() {
    let App { router, ports, .. } = app().await;
    let register_cases = [
        ("{", "invalid_request"),
        ("[]", "invalid_request"),
        (r#"{"phone": 13800000000, "region": "Zhejiang"}"#, "invalid_request"),
        (r#"{"phone": "13800000000", "region": "Zhejiang"}"#, "invalid_request"),
        (r#"{"phone": "+8613800000000", "region": "Atlantis"}"#, "invalid_request"),
        (r#"{"phone": "+8613800000000"}"#, "invalid_request"),
        (r#"{"phone": "+8613800000000", "region": "Zhejiang", "extra": 1}"#, "invalid_request"),
    ];
    for (body, want) in register_cases {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", "/merchants/register", body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some(want)), "{body}: {answer}");
        assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (_, answer) =
        call(&router, Some(MERCHANT), "POST", "/merchants/register", r#"{"phone": "123", "region": "Zhejiang"}"#).await;
    assert_eq!(answer["error"]["field"], json!("phone"));
    let m9 = MerchantId::parse("m-9").expect("an id");
    assert_eq!(ports.merchants.get_merchant(&m9).await.expect("read"), None, "nothing stored");

    // Before registering, nothing else exists.
    let (status, answer) = call(&router, Some(MERCHANT), "PUT", "/merchants/m-9/application", &application("tea")).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("merchant_not_found")));

    register(&router).await;
    let bad_applications = [
        (
            json!({"shop_type": "kiosk", "business_scope": "tea", "licence_number": "91330100MA27XK1234",
                "legal_representative": {"name": "W", "id_number": "330106199001011234"}}),
            "shop_type",
        ),
        (
            json!({"shop_type": "flagship", "business_scope": "x".repeat(501), "licence_number": "91330100MA27XK1234",
                "legal_representative": {"name": "W", "id_number": "330106199001011234"}}),
            "business_scope",
        ),
        (
            json!({"shop_type": "flagship", "business_scope": "tea", "licence_number": "-1",
                "legal_representative": {"name": "W", "id_number": "330106199001011234"}}),
            "licence_number",
        ),
        (
            json!({"shop_type": "flagship", "business_scope": "tea", "licence_number": "91330100MA27XK1234",
                "legal_representative": {"name": "W", "id_number": "1e18"}}),
            "legal_representative.id_number",
        ),
        (
            json!({"shop_type": "flagship", "business_scope": "tea", "licence_number": 913301001234567_i64,
                "legal_representative": {"name": "W", "id_number": "330106199001011234"}}),
            "licence_number",
        ),
    ];
    for (body, field) in bad_applications {
        let (status, answer) = call(&router, Some(MERCHANT), "PUT", "/merchants/m-9/application", &body.to_string()).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}");
        assert_eq!(answer["error"]["field"], json!(field), "{answer}");
    }
    let huge = "x".repeat(300 * 1024);
    let (status, answer) = call(&router, Some(MERCHANT), "PUT", "/merchants/m-9/application", &application(&huge)).await;
    assert_eq!((status, code(&answer)), (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large")));
    // Submitting without the application names what is missing.
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/merchants/m-9/application/submit", "").await;
    assert_eq!((status, &answer["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("application")), "{answer}");
    let record = ports.merchants.get_merchant(&m9).await.expect("read").expect("stored");
    assert_eq!((record.version, record.application, record.status), (1, None, OnboardingStatus::Draft), "nothing stored");

    // Decisions: a reason is required; unknown merchants are not found.
    submitted_after_register(&router).await;
    for body in ["{}", r#"{"reason": ""}"#, r#"{"reason": 5}"#, &json!({"reason": "x".repeat(501)}).to_string()] {
        let (status, answer) = call(&router, Some(ADMIN), "POST", "/merchants/m-9/application/reject", body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
    }
    let (status, answer) = call(&router, Some(ADMIN), "POST", "/merchants/nobody/application/approve", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("merchant_not_found")));
    let record = ports.merchants.get_merchant(&m9).await.expect("read").expect("stored");
    assert_eq!(record.status, OnboardingStatus::Submitted, "still waiting for a decision");

    // The review queue's filters.
    for query in ["?status=open", "?limit=0", "?limit=101", "?limit=-1", "?limit=ten", "?cursor=%%%"] {
        let (status, answer) = call(&router, Some(ADMIN), "GET", &format!("/merchant-applications{query}"), "").await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{query}: {answer}");
    }
}

#[tokio::test]
async fn the_review_queue_pages_oldest_first() {
    let App { router, .. } = app().await;
    submitted(&router).await;
    let (_, page) = call(&router, Some(ADMIN), "GET", "/merchant-applications?status=submitted&limit=1", "").await;
    assert_eq!((page["merchants"].as_array().map(Vec::len), &page["next"]), (Some(1), &Value::Null), "{page}");
    let (_, drafts) = call(&router, Some(ADMIN), "GET", "/merchant-applications?status=draft", "").await;
    assert_eq!(drafts["merchants"], json!([]));
}
