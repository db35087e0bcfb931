//! `GET /analytics` through the routers that host it, on the embedded store: a period
//! outside 2000-01-01 to 2100-12-31 is refused naming `from` or `to` (a date's end-exclusive
//! next day would otherwise leave the 4-digit years), one inside it is answered.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, Authenticator, ChannelSecrets, UnsignedPolicy};
use oms_domain::ports::SystemClock;
use oms_embedded::Embedded;

fn router() -> Router {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    routes::all(AppState {
        ports: store.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: Authenticator::Open,
        pricing: Default::default(),
        archive: Some(Arc::new(store.clone())),
        reports: None,
        admission: Default::default(),
        documents: None,
    })
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    let request = Request::builder().uri(uri).body(Body::empty()).expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn dates_outside_2000_to_2100_are_refused_naming_the_field() {
    let router = router();
    for (query, field) in [
        ("from=9999-12-01&to=9999-12-31", "to"),
        ("from=2100-12-01T00:00:00Z&to=2101-01-01T00:00:01Z", "to"),
        ("from=1999-12-31&to=2000-01-05", "from"),
        ("from=0001-01-01&to=0001-01-02", "to"),
    ] {
        let (status, answer) = get(&router, &format!("/analytics?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert_eq!(
            (answer["error"]["code"].as_str(), answer["error"]["field"].as_str()),
            (Some("invalid_request"), Some(field)),
            "{query}: {answer}"
        );
    }
    let (status, answer) = get(&router, "/analytics?from=2100-12-01&to=2100-12-31").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["to"].as_str(), Some("2101-01-01T00:00:00Z"), "the last day is taken whole: {answer}");
}
