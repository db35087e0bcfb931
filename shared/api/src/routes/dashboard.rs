//! The staff dashboard: `GET /dashboard` is a static page (HTML, CSS and JS embedded in
//! the binary, no third-party code), public like `/track`. Every figure it shows comes
//! from the authenticated API, called from the page with the bearer token staff type in
//! once (kept in the tab's `sessionStorage`): orders by status (`GET
//! /analytics?by=status`) and a status's newest orders (`GET /orders?status=`), an order's
//! timeline (`GET /orders/{id}`), open and acknowledged alerts with their actions, and the
//! last 14 days by day and by channel (`GET /analytics?by=day`, `?by=channel`), drawn as
//! inline SVG by the page's own script. It links to the reports (`/reports`).

use std::sync::LazyLock;

use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::page::EmbeddedPage;
use super::AppState;
use crate::error::ErrorBody;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboard_page))
}

const PAGE_HTML: &str = include_str!("../../assets/dashboard.html");
const PAGE_CSS: &str = include_str!("../../assets/dashboard.css");
const PAGE_JS: &str = include_str!("../../assets/dashboard.js");

static PAGE: LazyLock<EmbeddedPage> = LazyLock::new(|| EmbeddedPage::inline(PAGE_HTML, PAGE_CSS, PAGE_JS));

/// The staff dashboard. The page itself holds no data and needs no token; it asks staff
/// for their bearer token and reads every figure from the API with it.
#[utoipa::path(
    get,
    path = "/dashboard",
    tag = "dashboard",
    responses(
        (status = 200, description = "The page (HTML with its style and script inline; no third-party code)", content_type = "text/html"),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = ErrorBody),
    )
)]
async fn dashboard_page() -> Response {
    PAGE.response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::extract::Request;
    use axum::http::{header, Method, StatusCode};
    use axum::Router;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use oms_domain::ports::SystemClock;
    use oms_embedded::Embedded;
    use sha2::{Digest as _, Sha256};
    use tower::ServiceExt;

    use super::*;
    use crate::auth::{Authenticator, TokenTable};

    /// The orders router (where the dashboard is, as in Lambda) over a fresh store, with
    /// one configured token: operator routes need it, the page does not.
    fn app() -> Router {
        let embedded = Embedded::open_in_memory().unwrap();
        let grants =
            serde_json::json!([{ "token": "staff-token-0123456789", "merchant_id": "m-1", "scopes": ["oms/orders.read"] }]);
        let state = AppState {
            ports: embedded.ports(Arc::new(SystemClock)),
            secrets: crate::ChannelSecrets::default().into(),
            unsigned: crate::UnsignedPolicy::Accept,
            auth: Authenticator::Tokens(Arc::new(TokenTable::from_json(&grants.to_string()).unwrap())),
            pricing: Default::default(),
            archive: None,
            reports: None,
            admission: Default::default(),
            documents: None,
        };
        super::super::orders_api(state)
    }

    async fn get(router: &Router, method: Method, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_page_is_served_without_a_token_with_a_policy_that_allows_only_its_own_style_and_script() {
        let router = app();
        let (status, headers, page) = get(&router, Method::GET, "/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        assert!(page.contains("<title>OMS staff dashboard</title>") && page.contains("id=\"token-form\""));
        for part in ["id=\"status-counts\"", "id=\"alerts\"", "id=\"chart-day\"", "id=\"chart-channel\"", "href=\"reports\""] {
            assert!(page.contains(part), "{part} is not on the page");
        }
        assert!(!page.contains("/*STYLE*/") && !page.contains("/*SCRIPT*/"));
        // The one URL on the page is the SVG namespace the charts are drawn in (a name, never fetched).
        let outside = page.replace("\"http://www.w3.org/2000/svg\"", "");
        assert!(!outside.contains("http://") && !outside.contains("https://"), "no third-party code");
        let style = page.split("<style>").nth(1).and_then(|rest| rest.split("</style>").next()).unwrap();
        let script = page.split("<script>").nth(1).and_then(|rest| rest.split("</script>").next()).unwrap();
        assert_eq!((style, script), (PAGE_CSS, PAGE_JS), "the assets, whole, inline");
        let hash = |text: &str| STANDARD.encode(Sha256::digest(text.as_bytes()));
        assert!(policy.contains(&format!("script-src 'sha256-{}'", hash(script))), "{policy}");
        assert!(policy.contains(&format!("style-src 'sha256-{}'", hash(style))), "{policy}");
        for directive in ["default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'"] {
            assert!(policy.contains(directive), "{directive} not in {policy}");
        }
        // The page never writes data as markup: text nodes and SVG elements only.
        assert!(!PAGE_JS.contains("innerHTML") && !PAGE_JS.contains("outerHTML") && !PAGE_JS.contains("insertAdjacentHTML"));
        assert!(!PAGE_JS.contains("document.write") && !PAGE_JS.contains("eval("));
        assert!(PAGE_JS.contains("sessionStorage"), "the token is kept for the tab only");
        assert!(!PAGE_JS.contains("localStorage"), "the token never outlives the tab");
    }

    #[tokio::test]
    async fn the_page_is_public_but_what_it_reads_needs_the_token() {
        let router = app();
        let (status, _, _) = get(&router, Method::GET, "/dashboard").await;
        assert_eq!(status, StatusCode::OK, "no token needed for the page");
        let (status, _, body) = get(&router, Method::GET, "/alerts").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let request = Request::builder()
            .uri("/alerts")
            .header(header::AUTHORIZATION, "Bearer staff-token-0123456789")
            .body(Body::empty())
            .unwrap();
        assert_eq!(router.clone().oneshot(request).await.unwrap().status(), StatusCode::OK);
        let (status, _, body) = get(&router, Method::POST, "/dashboard").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(body.contains("method_not_allowed"), "{body}");
    }
}
