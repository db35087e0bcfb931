//! "Where is my order?": the customers' order lookup, with no account. `GET /track` is a
//! small page (HTML, CSS and JS embedded in the binary, no third-party code) whose form
//! posts `POST /track/lookup` `{"merchant","order_number","phone"}`; the answer is the
//! order's public view, or one `404 not_found` whichever of number and phone is wrong.
//!
//! The lookup is per merchant, as every order index of both stores is (an order number is
//! unique per channel and merchant, not globally): the shop links its buyers to
//! `/track?merchant=<its id>` and the page sends that id along. Of the merchant's orders
//! with the number (any channel), only those whose phone matches count, and the newest of
//! them is answered.

use std::sync::LazyLock;

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::order::normalise_phone;
use oms_domain::ports::{OrderQuery, Page, Ports};
use oms_domain::usecases::orders as order_cases;
use oms_domain::usecases::tracking::{tracking_view, ShipmentView, TrackingView};
use oms_domain::validation::parse_json;
use oms_domain::{MerchantId, Order, OrderNumber, OrderStatus, ValidationError};

use super::page::EmbeddedPage;
use super::AppState;
use crate::answers::StatusAnswer;
use crate::error::{ErrorBody, ErrorCode};
use crate::ApiError;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(track_page)).routes(routes!(lookup))
}

/// The largest lookup body: three short fields need far less.
pub const MAX_LOOKUP_BODY_BYTES: usize = 2 * 1024;

/// How many of a merchant's orders with one number the lookup reads (the same number on
/// several channels; more than this are never expected, and older ones are not looked at).
const MAX_SAME_NUMBER: usize = 20;

/// The one answer for every miss: it says nothing of which field was wrong.
pub const NOT_FOUND_MESSAGE: &str =
    "We could not find an order with that order number and phone number. Check both and try again.";

/// What the page's form sends.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LookupBody {
    /// The shop's merchant id, from the link the shop gave (`/track?merchant=m-1`).
    pub merchant: String,
    /// The order number as the buyer saw it (Shopify's `#1001`; the generic channel's
    /// external id).
    pub order_number: String,
    /// The phone number the order was placed with, however it is typed (`138 0000 0000`,
    /// `+86-138-0000-0000`).
    pub phone: String,
}

/// A lookup's input, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub merchant: MerchantId,
    pub order_number: OrderNumber,
    /// In [`national_phone`] form.
    pub phone: String,
}

impl LookupBody {
    /// Checks the form of each field; says nothing about whether an order exists.
    pub fn parse(&self) -> Result<Lookup, ValidationError> {
        let merchant = MerchantId::parse(self.merchant.trim()).map_err(|e| e.within("merchant"))?;
        let order_number = OrderNumber::parse(self.order_number.trim()).map_err(|e| e.within("order_number"))?;
        let phone = national_phone(&self.phone)
            .ok_or_else(|| ValidationError::new("phone", "is not a phone number (digits, spaces, dashes, a leading +)"))?;
        Ok(Lookup { merchant, order_number, phone })
    }
}

/// A phone number reduced to what identifies it in China, where the shops sell: its
/// formatting (spaces, dashes, dots, brackets) dropped and the country code (`+86`,
/// `0086`, or `86` before an 11-digit mobile number) taken off, so `+86 138-0000-0000`
/// and `13800000000` are one number. `None` when it is not a phone number.
pub fn national_phone(raw: &str) -> Option<String> {
    let normal = normalise_phone(raw)?;
    let digits = normal.trim_start_matches('+');
    let national = if normal.starts_with('+') {
        digits.strip_prefix("86").unwrap_or(digits)
    } else if let Some(rest) = digits.strip_prefix("0086") {
        rest
    } else {
        digits.strip_prefix("86").filter(|rest| rest.len() == 11 && rest.starts_with('1')).unwrap_or(digits)
    };
    (national.len() >= 5).then(|| national.to_owned())
}

/// The phone as the page shows it: the first three and the last four digits of a mobile
/// number (`138****0000`), only the last two of a shorter one.
pub fn mask_phone(national: &str) -> String {
    let n = national.chars().count();
    let (head, tail) = if n >= 11 { (3, 4) } else { (0, 2.min(n)) };
    national.chars().enumerate().map(|(i, c)| if i < head || i >= n - tail { c } else { '*' }).collect()
}

/// The order a customer asked for: the newest of the merchant's orders with that number
/// whose phone matches, or `None` (an unknown number and a wrong phone alike). Both cases
/// run the same one index query; only its rows differ.
pub async fn find_for_customer(ports: &Ports, lookup: &Lookup) -> Result<Option<Order>, ApiError> {
    let query = OrderQuery::of(lookup.merchant.clone()).order_number(lookup.order_number.clone());
    let found = order_cases::find_orders(ports, &query, &Page::first(MAX_SAME_NUMBER)).await?;
    // Newest first: the first match is the newest.
    Ok(found
        .orders
        .into_iter()
        .find(|order| order.customer.phone.as_deref().and_then(national_phone).is_some_and(|phone| phone == lookup.phone)))
}

/// What a customer sees of an order: its number, status, when it was placed, the city it
/// goes to, the masked phone, the items, the timeline in customers' words, and the
/// tracking view (ETA, shipments with their events). Never the merchant, our ids, the
/// address beyond the city, the email or the full phone.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicOrderView {
    #[schema(examples("#1001"))]
    pub order_number: String,
    pub status: StatusAnswer,
    /// The status in customers' words.
    pub status_text: String,
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: DateTime<Utc>,
    /// The city the order is going to.
    pub city: String,
    /// The phone the order was placed with, masked (`138****0000`).
    pub phone: String,
    pub items: Vec<PublicItem>,
    /// Oldest first; repeated steps of one status (a retry, a staff note) shown once.
    pub timeline: Vec<PublicTimelineEntry>,
    /// When the order is expected, once a carrier has given an estimate.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub eta: Option<DateTime<Utc>>,
    /// The parcels, once the warehouse has shipped.
    pub shipments: Vec<PublicShipment>,
}

/// One line of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicItem {
    pub sku: String,
    pub quantity: u32,
}

/// One step of the order's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicTimelineEntry {
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub status: StatusAnswer,
    /// The step in customers' words (never the staff's notes).
    pub detail: String,
}

/// A parcel, as `GET /orders/{id}/tracking` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicShipment {
    pub tracking_number: String,
    /// The carrier's status: in_transit, out_for_delivery, delivered, failed_attempt, returned, lost.
    pub status: String,
    /// Oldest first.
    pub events: Vec<PublicShipmentEvent>,
}

/// A carrier's scan of a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicShipmentEvent {
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub status: String,
    #[schema(nullable = false, required = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[schema(nullable = false, required = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An order's status in customers' words.
pub fn status_text(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Received => "Order received",
        OrderStatus::OnHold => "On hold: the shop is looking into your order",
        OrderStatus::Allocated => "A warehouse has been chosen",
        OrderStatus::Reserved => "Your items are set aside at the warehouse",
        OrderStatus::Backordered => "Waiting for stock",
        OrderStatus::PartiallyShipped => "Part of your order has shipped",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::InTransit => "On its way",
        OrderStatus::Delivered => "Delivered",
        OrderStatus::Cancelled => "Cancelled",
        OrderStatus::Exception => "There is a problem with the delivery; the shop is on it",
    }
}

/// The public view of `order` and its `tracking` (`usecases::tracking::tracking_view`):
/// what `POST /track/lookup` answers. Until shipments are recorded `eta` is null and
/// `shipments` empty; then each parcel shows its carrier's status and scans, oldest first.
pub fn public_view(order: &Order, tracking: &TrackingView) -> PublicOrderView {
    let mut timeline: Vec<PublicTimelineEntry> = Vec::with_capacity(order.timeline.len());
    for event in &order.timeline {
        let status = StatusAnswer::from(event.status);
        if timeline.last().is_some_and(|last| last.status == status) {
            continue;
        }
        timeline.push(PublicTimelineEntry { at: event.at, status, detail: status_text(event.status).to_owned() });
    }
    let phone = order.customer.phone.as_deref().and_then(national_phone).map(|p| mask_phone(&p)).unwrap_or_default();
    PublicOrderView {
        order_number: order.order_number.to_string(),
        status: order.status.into(),
        status_text: status_text(order.status).to_owned(),
        placed_at: order.placed_at,
        city: order.shipping_address.city.clone(),
        phone,
        items: order.lines.iter().map(|line| PublicItem { sku: line.sku.to_string(), quantity: line.quantity }).collect(),
        timeline,
        eta: tracking.eta,
        shipments: tracking.shipments.iter().map(public_shipment).collect(),
    }
}

/// A parcel as the buyer sees it: its number, its carrier's status and scans.
fn public_shipment(view: &ShipmentView) -> PublicShipment {
    let events = view
        .events
        .iter()
        .map(|event| PublicShipmentEvent {
            at: event.at,
            status: event.status.as_str().to_owned(),
            location: event.location.clone(),
            description: event.description.clone(),
        })
        .collect();
    PublicShipment {
        tracking_number: view.shipment.tracking_number.to_string(),
        status: view.shipment.status.as_str().to_owned(),
        events,
    }
}

/// The lookup's body, at most [`MAX_LOOKUP_BODY_BYTES`] (a larger one is answered 413
/// before it is read).
#[derive(Debug)]
struct SmallBody(axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for SmallBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let too_large = || ApiError::new(ErrorCode::BodyTooLarge, format!("the body is over {MAX_LOOKUP_BODY_BYTES} bytes"));
        let declared =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > MAX_LOOKUP_BODY_BYTES) {
            return Err(too_large());
        }
        axum::body::to_bytes(req.into_body(), MAX_LOOKUP_BODY_BYTES).await.map(SmallBody).map_err(|_| too_large())
    }
}

/// Look up an order with its number and phone (no account needed).
///
/// One `404 not_found` with one message whether the number is unknown or the phone does not
/// match it (the same query runs either way). Throttled per client address more tightly
/// than operator routes (`oms serve --lookup-rate-limit`; the API's route throttle in AWS).
#[utoipa::path(
    post,
    path = "/track/lookup",
    tag = "track",
    request_body = LookupBody,
    responses(
        (status = 200, description = "The order's public view", body = PublicOrderView),
        (status = 400, description = "`invalid_request`: not JSON, a field missing or malformed, naming the field", body = ErrorBody),
        (status = 404, description = "`not_found`: no order of the merchant has that number and phone", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 2 KiB", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = ErrorBody),
    )
)]
async fn lookup(State(state): State<AppState>, SmallBody(body): SmallBody) -> Result<Response, ApiError> {
    let lookup = parse_json::<LookupBody>(&body)?.parse()?;
    let Some(order) = find_for_customer(&state.ports, &lookup).await? else {
        return Err(ApiError::new(ErrorCode::NotFound, NOT_FOUND_MESSAGE));
    };
    let tracking = tracking_view(&state.ports, &order).await?;
    let mut response = Json(public_view(&order, &tracking)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

const PAGE_HTML: &str = include_str!("../../assets/track.html");
const PAGE_CSS: &str = include_str!("../../assets/track.css");
const PAGE_JS: &str = include_str!("../../assets/track.js");

static PAGE: LazyLock<EmbeddedPage> = LazyLock::new(|| EmbeddedPage::inline(PAGE_HTML, PAGE_CSS, PAGE_JS));

/// The "Where is my order?" page.
#[utoipa::path(
    get,
    path = "/track",
    tag = "track",
    params(("merchant" = Option<String>, Query, description = "The shop's merchant id; the page asks for it when absent")),
    responses(
        (status = 200, description = "The page (HTML with its style and script inline; no third-party code)", content_type = "text/html"),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = ErrorBody),
    )
)]
async fn track_page() -> Response {
    PAGE.response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Method, StatusCode};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde_json::{json, Value};
    use sha2::{Digest as _, Sha256};
    use tower::ServiceExt;

    use oms_domain::order::Channel;
    use oms_domain::ports::SystemClock;
    use oms_domain::usecases::intake;
    use oms_domain::ExternalId;
    use oms_embedded::Embedded;

    use super::*;
    use crate::routes::{self, Router};
    use crate::{ChannelSecrets, UnsignedPolicy};

    fn generic(external_id: &str, phone: &str) -> Vec<u8> {
        json!({
            "external_id": external_id, "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z",
            "currency": "CNY", "customer": {"id": "c-1", "email": "a@example.com", "phone": phone},
            "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou",
                                 "province": "Zhejiang", "postal_code": "310000", "country": "CN"},
            "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "19.90"}]
        })
        .to_string()
        .into_bytes()
    }

    async fn app() -> (Router, Ports) {
        let store = Embedded::open_in_memory().expect("an in-memory store");
        let ports = store.ports(Arc::new(SystemClock));
        let state = AppState {
            ports: ports.clone(),
            secrets: ChannelSecrets::default().into(),
            unsigned: UnsignedPolicy::Accept,
            auth: crate::Authenticator::Open,
            pricing: Default::default(),
            archive: None,
            reports: None,
            admission: Default::default(),
            documents: None,
        };
        let new = oms_channels::normalise_with_meta(Channel::Generic, &generic("A-1001", "+8613800000000"), &Default::default())
            .expect("the sample order");
        intake::receive_order(&ports, new).await.expect("stored");
        (routes::all(state), ports)
    }

    async fn post(router: &Router, body: impl Into<Body>) -> (StatusCode, Value, Option<String>) {
        let request = Request::builder().method(Method::POST).uri("/track/lookup").body(body.into()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let cache = response.headers().get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), cache)
    }

    fn ask(merchant: &str, number: &str, phone: &str) -> String {
        json!({"merchant": merchant, "order_number": number, "phone": phone}).to_string()
    }

    #[test]
    fn phones_compare_without_formatting_or_the_china_country_code() {
        for typed in [
            "13800000000",
            "138 0000 0000",
            "138-0000-0000",
            "+86 138 0000 0000",
            "+8613800000000",
            "0086 13800000000",
            "8613800000000",
        ] {
            assert_eq!(national_phone(typed).as_deref(), Some("13800000000"), "{typed}");
        }
        assert_eq!(national_phone("+1 555 010 1234").as_deref(), Some("15550101234"));
        assert_eq!(national_phone("0571-8888 1234").as_deref(), Some("057188881234"), "a landline keeps its area code");
        assert_eq!(national_phone("call me"), None);
        assert_eq!(national_phone("+86"), None);
    }

    #[test]
    fn a_phone_is_masked_but_its_ends() {
        assert_eq!(mask_phone("13800001234"), "138****1234");
        assert_eq!(mask_phone("5550123"), "*****23");
    }

    #[tokio::test]
    async fn the_right_number_and_phone_answer_the_public_view_however_the_phone_is_typed() {
        let (router, _) = app().await;
        for phone in ["13800000000", "+86 138-0000-0000", " 138 0000 0000 "] {
            let (status, view, cache) = post(&router, ask("m-1", "A-1001", phone)).await;
            assert_eq!(status, StatusCode::OK, "{phone}: {view}");
            assert_eq!(cache.as_deref(), Some("no-store"));
            assert_eq!(view["order_number"], "A-1001");
            // No warehouse has counted SKU-1 here: a paid order waits on hold.
            assert_eq!(view["status"], "on_hold");
            assert_eq!(view["status_text"], status_text(OrderStatus::OnHold));
            assert_eq!(view["city"], "Hangzhou");
            assert_eq!(view["phone"], "138****0000");
            assert_eq!(view["items"], json!([{"sku": "SKU-1", "quantity": 2}]));
            let last = view["timeline"].as_array().and_then(|t| t.last()).cloned().unwrap_or_default();
            assert_eq!(
                (last["status"].clone(), last["detail"].clone()),
                (json!("on_hold"), json!(status_text(OrderStatus::OnHold)))
            );
            assert_eq!((view["eta"].clone(), view["shipments"].clone()), (Value::Null, json!([])));
            let text = view.to_string();
            for secret in ["m-1", "ord_", "a@example.com", "West Lake", "310000", "Li Lei", "13800000000", "c-1"] {
                assert!(!text.contains(secret), "{secret} leaks in {text}");
            }
        }
    }

    #[tokio::test]
    async fn a_wrong_phone_an_unknown_number_and_another_merchant_get_one_and_the_same_answer() {
        let (router, _) = app().await;
        let mut answers = Vec::new();
        for body in
            [ask("m-1", "A-1001", "13900000000"), ask("m-1", "A-9999", "13800000000"), ask("m-2", "A-1001", "13800000000")]
        {
            let (status, answer, _) = post(&router, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            answers.push(answer);
        }
        assert_eq!(answers[0], json!({"error": {"code": "not_found", "message": NOT_FOUND_MESSAGE}}));
        assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    }

    #[tokio::test]
    async fn of_orders_sharing_a_number_only_the_one_whose_phone_matches_is_answered() {
        let (router, ports) = app().await;
        // The same number on another channel of the merchant, placed by someone else.
        let mut other =
            oms_channels::normalise_with_meta(Channel::Generic, &generic("A-1001", "+8613911112222"), &Default::default())
                .expect("the sample order");
        other.channel = Channel::Shopify;
        other.external_id = ExternalId::parse("shopify-77").unwrap();
        other.shipping_address.city = "Suzhou".to_owned();
        intake::receive_order(&ports, other).await.expect("stored");

        let (status, view, _) = post(&router, ask("m-1", "A-1001", "139 1111 2222")).await;
        assert_eq!((status, view["city"].clone()), (StatusCode::OK, json!("Suzhou")), "{view}");
        let (status, view, _) = post(&router, ask("m-1", "A-1001", "13800000000")).await;
        assert_eq!((status, view["city"].clone()), (StatusCode::OK, json!("Hangzhou")), "{view}");
    }

    #[tokio::test]
    async fn bad_input_is_a_json_400_naming_the_field_and_a_large_body_413() {
        let (router, _) = app().await;
        let cases = [
            ("not json".to_owned(), ""),
            (json!({"merchant": "m-1", "order_number": "A-1001"}).to_string(), "phone"),
            (json!({"merchant": "m-1", "order_number": 1001, "phone": "13800000000"}).to_string(), "order_number"),
            (ask("m-1", "A-1001", "call me"), "phone"),
            (ask("m-1", "", "13800000000"), "order_number"),
            (ask("", "A-1001", "13800000000"), "merchant"),
        ];
        for (body, field) in cases {
            let (status, answer, _) = post(&router, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["error"]["code"], "invalid_request", "{body}");
            if !field.is_empty() {
                assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
            }
        }
        let big = ask("m-1", &"9".repeat(MAX_LOOKUP_BODY_BYTES), "13800000000");
        let (status, answer, _) = post(&router, big).await;
        assert_eq!((status, answer["error"]["code"].clone()), (StatusCode::PAYLOAD_TOO_LARGE, json!("body_too_large")));
    }

    #[tokio::test]
    async fn the_page_is_served_with_a_policy_that_allows_only_its_own_style_and_script() {
        let (router, _) = app().await;
        let request = Request::builder().uri("/track?merchant=m-1").body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let page = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(page.contains("Where is my order?") && page.contains("id=\"lookup\""));
        assert!(!page.contains("/*STYLE*/") && !page.contains("/*SCRIPT*/"));
        assert!(!page.contains("http://") && !page.contains("https://"), "no third-party code");
        let style = page.split("<style>").nth(1).and_then(|rest| rest.split("</style>").next()).unwrap();
        let script = page.split("<script>").nth(1).and_then(|rest| rest.split("</script>").next()).unwrap();
        let hash = |text: &str| STANDARD.encode(Sha256::digest(text.as_bytes()));
        assert!(policy.contains(&format!("script-src 'sha256-{}'", hash(script))), "{policy}");
        assert!(policy.contains(&format!("style-src 'sha256-{}'", hash(style))), "{policy}");
        assert!(policy.contains("default-src 'none'"));
    }

    /// Once the order ships, the buyer sees each parcel, its carrier status and the ETA.
    #[tokio::test]
    async fn a_shipped_order_shows_its_parcel_and_eta() {
        use oms_domain::usecases::fulfilment::{allocate_order, reserve_order};
        use oms_domain::usecases::tracking::{record_shipment, ShipLine, ShipRequest};
        let (router, ports) = app().await;
        let (status, before, _) = post(&router, ask("m-1", "A-1001", "13800000000")).await;
        assert_eq!((status, before["shipments"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
        assert_eq!(before["eta"], Value::Null);

        let warehouse = oms_conformance::fixtures::warehouse("WH-A", "Hangzhou A");
        oms_domain::usecases::inventory::put_warehouse(&ports, &warehouse).await.expect("registered");
        let sku = oms_domain::Sku::parse("SKU-1").expect("a SKU");
        let caller = oms_domain::access::Caller::platform_with_every_scope();
        oms_domain::usecases::inventory::set_on_hand(&ports, &caller, &warehouse.warehouse_id, None, &sku, 5)
            .await
            .expect("counted");
        let asked = LookupBody { merchant: "m-1".into(), order_number: "A-1001".into(), phone: "13800000000".into() };
        let found = find_for_customer(&ports, &asked.parse().expect("a lookup")).await.expect("looked up");
        let order_id = found.expect("the order").order_id;
        allocate_order(&ports, &order_id).await.expect("allocated");
        reserve_order(&ports, &order_id).await.expect("reserved");
        let request = ShipRequest {
            carrier: oms_domain::CarrierId::parse("sf").expect("a carrier"),
            tracking_number: oms_domain::TrackingNumber::parse("SF1001").expect("a number"),
            lines: vec![ShipLine { sku, quantity: 2, warehouse: None, order_id: None }],
        };
        record_shipment(&ports, &order_id, &request).await.expect("shipped");
        let promised = chrono::Utc::now() + chrono::Duration::days(2);
        let scan = oms_domain::shipment::TrackingEvent {
            event_id: oms_domain::TrackingEventId::parse("ev-1").expect("an event id"),
            tracking_number: request.tracking_number.clone(),
            carrier: request.carrier.clone(),
            status: oms_domain::shipment::ShipmentStatus::InTransit,
            at: chrono::Utc::now(),
            location: Some("Hangzhou hub".into()),
            description: Some("Departed the hub".into()),
            promised: Some(promised),
            received_at: chrono::Utc::now(),
        };
        oms_domain::usecases::tracking::receive_events(&ports, &[scan]).await.expect("received");

        let (status, after, _) = post(&router, ask("m-1", "A-1001", "13800000000")).await;
        assert_eq!(status, StatusCode::OK, "{after}");
        assert_eq!(after["status"], "in_transit", "the order follows its parcel");
        assert_eq!(after["shipments"][0]["tracking_number"], "SF1001", "{after}");
        assert!(after["shipments"][0]["status"].as_str().is_some_and(|s| !s.is_empty()), "{after}");
        assert_eq!(after["shipments"][0]["events"][0]["location"], "Hangzhou hub", "{after}");
        let eta: chrono::DateTime<chrono::Utc> = serde_json::from_value(after["eta"].clone()).expect("an ETA");
        assert_eq!(eta, promised, "the carrier's promise: {after}");
        assert!(after.get("order_id").is_none() && after.get("merchant_id").is_none(), "still nothing private: {after}");
    }
}
