//! The HTTP routes of the contract, one router per function.

pub use axum::Router;

mod alerts;
mod analytics;
mod auctions;
mod browsing;
mod buyer_requests;
mod carriers;
mod catalogue;
mod checkout;
mod consignments;
mod dashboard;
mod flash_sales;
mod group_buys;
mod inventory;
mod lots;
mod merchants;
mod offers;
mod orders;
mod page;
mod paperwork;
mod products;
mod quotes;
mod rentals;
mod repairs;
mod replenishment;
mod reports;
mod returns;
mod reviews;
mod rfqs;
mod sku_mappings;
mod storefronts;
mod supply;
pub mod track;
mod tracking;

pub use auctions::{AntiSnipingBody, AuctionAnswer, AuctionBody, BidAnswer, BidBody, BidsAnswer, ListedBid};
pub use buyer_requests::{BuyerRequestAnswer, BuyerRequestBody, ExclusionAnswer, ProposedOfferAnswer};
pub use carriers::{BandBody, RatesAnswer, RatesBody};
pub use catalogue::{SkuAnswer, SkuBody};
pub use consignments::{ConsignmentAnswer, ConsignmentBody, ConsignmentsAnswer, PriceBody};
pub use flash_sales::{AddressBody, ClaimAnswer, ClaimBody, SaleAnswer, SaleBody};
pub use group_buys::{GroupBuyAnswer, GroupBuyBody, JoinAnswer, JoinBody};
pub use inventory::{OnHandBody, WarehouseBody};
pub use offers::{OfferAnswer, OffersAnswer};
pub use products::with_review_rules;
pub use quotes::{PricingModel, QuoteBody};
pub use rentals::{
    AvailabilityAnswer, BookedDay, BookingAnswer, BookingBody, InspectionBody, RentalUnitAnswer, RentalUnitBody, StepBody,
};
pub use repairs::{
    CustomerStepBody, HandoverBody, PartAnswer, PartBody, RepairAnswer, RepairBody, RepairItemAnswer, RepairItemBody,
    RepairNoteBody, RepairQuoteAnswer, RepairQuoteBody, RepairShipmentBody, ReturnShipmentAnswer,
};
pub use reports::{
    content_type as report_content_type, plain_name, ReportDirectory, ReportFileAnswer, ReportFiles, ReportsAnswer,
};
pub use returns::{
    with_return_policy, DamagedAnswer, FindingBody, InspectBody, RefundAnswer, RefusalBody, ReturnAnswer, ReturnBody,
    ReturnLineBody, ReturnsAnswer, ShipBackBody,
};
pub use rfqs::{QuoteLineBody, RfqAnswer, RfqBody, RfqLineBody};
pub use sku_mappings::{SkuMappingAnswer, SkuMappingBody};
pub use tracking::{EventsReceiptAnswer, ShipmentAnswer, ShipmentBody, ShipmentReceipt, TrackingAnswer};

use std::sync::Arc;

use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Json;
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_channels::MAX_BODY_BYTES;
use oms_domain::ports::{OrderArchive, Ports};

use crate::answers::HealthAnswer;
use crate::auth::Authenticator;
use crate::error::{log_failures, ErrorBody, ErrorCode};
use crate::webhook_secrets::WebhookSecrets;
use crate::ApiError;
use oms_channels::secrets::UnsignedPolicy;

/// What every handler can reach: the ports, the webhook secrets, how operator routes
/// know their caller, and the pricing model.
#[derive(Debug, Clone)]
pub struct AppState {
    pub ports: Ports,
    pub secrets: WebhookSecrets,
    pub unsigned: UnsignedPolicy,
    pub auth: Authenticator,
    /// Empty until a model is loaded (`oms serve` loads the data directory's current one).
    pub pricing: PricingModel,
    /// Where `GET /analytics` reads every order from (`oms serve`: SQLite; AWS: the order
    /// export); `None` answers 501.
    pub archive: Option<Arc<dyn OrderArchive>>,
    /// Where `GET /reports` finds the generated report files (`oms serve`: the data
    /// directory's `reports`; AWS: the bucket's `reports/`); `None` answers 501.
    pub reports: Option<Arc<dyn ReportFiles>>,
    /// Who the burst routes (flash-sale claims, auction bids) admit: a proof of work when
    /// the deployment asks for one (`crate::admission`).
    pub admission: crate::admission::Admission,
    /// Where uploaded documents are kept (`oms serve`: the data directory's `documents`;
    /// AWS: the bucket's `documents/`, in the functions that store them); `None` answers 501.
    pub documents: Option<Arc<dyn oms_domain::ports::DocumentStore>>,
}

/// What every OpenAPI document starts from: the title, and the error schema every route answers with.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "OMS",
        description = "The order management system's HTTP contract. Every error is `{\"error\":{\"code\",\"message\"}}` \
                       (plus `field` when one input field is at fault); each code has one status. Money is a decimal string."
    ),
    components(schemas(ErrorBody, ErrorCode)),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

/// The `bearer` security scheme operator routes name: a JWT (AWS) or a configured token
/// (`oms serve`), with OAuth scopes such as `oms/orders.read`.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        openapi.components.get_or_insert_with(Default::default).add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

fn base() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
}

/// `ingest-order`: channel webhooks, the platform's own checkout, order reads, cancel and modify, the buyer's delivery
/// confirmation and reviews, the alerts for staff
/// (until operations get a function of their own), the channels' SKU mappings (applied at
/// intake), `/health`, the customers' order lookup (`/track`) and the staff dashboard
/// (`/dashboard`, beside the operator routes it reads).
pub fn orders_api(state: AppState) -> Router {
    finish(
        base()
            .merge(orders::router())
            .merge(checkout::router())
            .merge(paperwork::router())
            .merge(reviews::router())
            .merge(alerts::router())
            .merge(sku_mappings::router())
            .merge(analytics::router())
            .routes(routes!(health))
            .merge(track::router())
            .merge(dashboard::router())
            .merge(reports::router()),
        state,
    )
}

/// `inventory`: warehouses and stock counts, goods receipts and lots, the SKU catalogue and the carriers' rate
/// tables (the configuration allocation costs plans with), suppliers and purchase orders,
/// replenishment, and consignment grants.
pub fn inventory_api(state: AppState) -> Router {
    finish(
        base()
            .merge(inventory::router())
            .merge(lots::router())
            .merge(catalogue::router())
            .merge(carriers::router())
            .merge(supply::router())
            .merge(replenishment::router())
            .merge(consignments::router()),
        state,
    )
}

/// `track-shipment`: shipments, carrier events, tracking.
pub fn tracking_api(state: AppState) -> Router {
    finish(base().merge(tracking::router()), state)
}

/// `quote-price`: per-customer price quotes, offers and recommendations from the state's
/// pricing models (in Lambda each merchant's current one in S3,
/// `oms_lambda::aws_pricing_state`), and the storefronts' browsing events they learn from.
pub fn quotes_api(state: AppState) -> Router {
    finish(base().merge(quotes::router()).merge(offers::router()).merge(browsing::router()), state)
}

/// `flash-sale-claim`: flash sales, their claims, and a sale's state.
pub fn flash_sales_api(state: AppState) -> Router {
    finish(base().merge(flash_sales::router()), state)
}

/// `auctions`: auctions, their bids, and an auction's state.
pub fn auctions_api(state: AppState) -> Router {
    finish(base().merge(auctions::router()), state)
}

/// `group-buys`: group-buy offers, their joins, and an offer's state.
pub fn group_buys_api(state: AppState) -> Router {
    finish(base().merge(group_buys::router()), state)
}

/// `rentals`: rental units, their availability, bookings and each booking's steps.
pub fn rentals_api(state: AppState) -> Router {
    finish(base().merge(rentals::router()), state)
}

/// `repairs`: repair bookings, their quotes and each repair's steps.
pub fn repairs_api(state: AppState) -> Router {
    finish(base().merge(repairs::router()), state)
}

/// `returns`: returns and exchanges (RMA), each return's steps, and the damaged stock they
/// put aside. Give it the deployment's policy with [`with_return_policy`].
pub fn returns_api(state: AppState) -> Router {
    finish(base().merge(returns::router()), state)
}

/// `merchants`: merchant onboarding (registration, the application and its documents,
/// submission, the administrators' decisions and review queue), the merchants'
/// storefronts (templates, drafts, previews, publication and the published stores) and the
/// reviewed catalogue (product listings, their review, listing and promoted placements).
pub fn merchants_api(state: AppState) -> Router {
    finish(base().merge(merchants::router()).merge(storefronts::router()).merge(products::router()), state)
}

/// `bulk-trade`: requests for quotes, merchants' quotes per line, the cheapest cover and
/// its acceptance into one sub-order per merchant.
pub fn bulk_trade_api(state: AppState) -> Router {
    finish(base().merge(rfqs::router()), state)
}

/// `matchmaking`: buyer requests matched to every merchant's listed products, their
/// proposals, and their acceptance as orders.
pub fn matchmaking_api(state: AppState) -> Router {
    finish(base().merge(buyer_requests::router()), state)
}

/// Every route of the contract in one router, as `oms serve` hosts them.
pub fn all(state: AppState) -> Router {
    let routes = base()
        .merge(orders::router())
        .merge(checkout::router())
        .merge(paperwork::router())
        .merge(reviews::router())
        .merge(alerts::router())
        .merge(sku_mappings::router())
        .routes(routes!(health))
        .merge(inventory::router())
        .merge(lots::router())
        .merge(catalogue::router())
        .merge(carriers::router())
        .merge(tracking::router())
        .merge(quotes::router())
        .merge(flash_sales::router())
        .merge(supply::router())
        .merge(analytics::router())
        .merge(track::router())
        .merge(offers::router())
        .merge(browsing::router())
        .merge(replenishment::router())
        .merge(consignments::router())
        .merge(dashboard::router())
        .merge(reports::router())
        .merge(auctions::router())
        .merge(group_buys::router())
        .merge(rentals::router())
        .merge(repairs::router())
        .merge(returns::router())
        .merge(merchants::router())
        .merge(storefronts::router())
        .merge(products::router())
        .merge(rfqs::router())
        .merge(buyer_requests::router());
    finish(routes, state)
}

/// Liveness.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "Up", body = HealthAnswer)))]
async fn health() -> Json<HealthAnswer> {
    Json(HealthAnswer { status: "ok" })
}

fn finish(routes: OpenApiRouter<AppState>, state: AppState) -> Router {
    let (router, doc) = routes.split_for_parts();
    with_common_layers(router.with_state(state), doc)
}

/// What every router has: `GET /openapi.json` (its own routes' description), JSON answers
/// for unknown routes and methods, and the one layer that logs failures with their cause.
fn with_common_layers(router: Router, doc: OpenApi) -> Router {
    // A document of strings, numbers and maps always serialises.
    let json = axum::body::Bytes::from(serde_json::to_vec(&doc).expect("an OpenAPI document serialises to JSON"));
    router
        .route("/openapi.json", get(move || async move { ([(header::CONTENT_TYPE, "application/json")], json).into_response() }))
        .fallback(|| async { ApiError::new(ErrorCode::RouteNotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "this route does not take that method")
        })
        .layer(axum::middleware::from_fn(log_failures))
}

/// The merchant a request acts on: the caller's own; platform staff name it (`named`,
/// the `merchant_id` of the query or body); a merchant naming another is refused (403).
pub(crate) fn acting_merchant(
    caller: &oms_domain::access::Caller,
    named: Option<&str>,
) -> Result<oms_domain::MerchantId, ApiError> {
    let named = named
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(oms_domain::MerchantId::parse)
        .transpose()
        .map_err(|e| e.within("merchant_id"))?;
    match caller.merchant_named(named.as_ref()) {
        Ok(Some(merchant)) => Ok(merchant),
        Ok(None) => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("this credential acts for its own merchant only, not {}", named.map(String::from).unwrap_or_default()),
        )),
        Err(_) => Err(oms_domain::ValidationError::new("merchant_id", "is required: platform staff name the merchant").into()),
    }
}

/// A caller reading a record that has two views: with `oms/orders.read` the merchant's
/// (true), else with `oms/storefront` the buyers' (false); neither scope is refused.
pub(crate) fn reader(caller: crate::Authed) -> Result<(oms_domain::access::Caller, bool), ApiError> {
    staff_or_storefront(caller, oms_domain::access::Scope::OrdersRead)
}

/// A caller acting as the merchant's staff when it holds `staff` (true), else as the
/// storefront on a buyer's behalf (false); neither scope is refused.
pub(crate) fn staff_or_storefront(
    caller: crate::Authed,
    staff: oms_domain::access::Scope,
) -> Result<(oms_domain::access::Caller, bool), ApiError> {
    let as_staff = caller.0.has(staff);
    let caller = if as_staff { caller.with(staff)? } else { caller.with(oms_domain::access::Scope::Storefront)? };
    Ok((caller, as_staff))
}

/// The `Idempotency-Key` header, if the request has one; a value that is not text is
/// refused, naming `idempotency_key`.
pub(crate) fn header_key(headers: &axum::http::HeaderMap) -> Result<Option<&str>, oms_domain::ValidationError> {
    headers
        .get("idempotency-key")
        .map(|value| {
            value
                .to_str()
                .map_err(|_| oms_domain::ValidationError::new("idempotency_key", "the Idempotency-Key header is not text"))
        })
        .transpose()
}

/// A customer action's idempotency key, given in the body (`body`) or the header
/// (`header`, [`header_key`]): the same in both is one key, two different keys are
/// refused, and one of them is required.
pub(crate) fn idempotency_key(
    body: Option<&str>,
    header: Option<&str>,
) -> Result<oms_domain::flash_sale::IdempotencyKey, oms_domain::ValidationError> {
    use oms_domain::ValidationError;
    let key = match (body, header) {
        (Some(body), Some(header)) if body != header => {
            return Err(ValidationError::new("idempotency_key", "differs from the Idempotency-Key header"))
        }
        (Some(key), _) | (None, Some(key)) => key,
        (None, None) => {
            return Err(ValidationError::new("idempotency_key", "is required (in the body or the Idempotency-Key header)"))
        }
    };
    oms_domain::flash_sale::IdempotencyKey::parse(key).map_err(|e| e.within("idempotency_key"))
}

/// An amount given as a plain decimal string (`"12.50"`, `"3"`): digits, then optionally a
/// point and more digits; no exponent, sign, or bare point (`"1e5"`, `"+1"`, `".5"` and
/// `"1."` are refused, naming `field`), and not negative.
fn decimal_field(field: &str, raw: &str) -> Result<rust_decimal::Decimal, oms_domain::ValidationError> {
    let not_plain = || oms_domain::ValidationError::new(field, format!("{raw:?} is not a plain decimal amount like \"12.50\""));
    let text = raw.trim();
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(not_plain());
    }
    let amount: rust_decimal::Decimal = text.parse().map_err(|_| not_plain())?;
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(oms_domain::ValidationError::new(field, "must not be negative"));
    }
    Ok(amount)
}

/// Path parameters, with a JSON error when they cannot be read (bad percent-encoding).
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParams(value))
            .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
    }
}

/// The raw request body, at most `MAX_BODY_BYTES` (a larger one is answered 413 before
/// it is read). Handlers parse it themselves so that errors name the field at fault, and
/// webhooks can check a signature over the exact bytes.
#[derive(Debug)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        read_body(req, MAX_BODY_BYTES).await.map(RawBody)
    }
}

/// Reads a request's body of at most `max` bytes: one declaring more (`Content-Length`),
/// or sending more, is answered 413 `body_too_large`; one slower than the request's
/// [`BodyReadLimit`] 408 `request_timeout`.
pub(crate) async fn read_body(req: Request, max: usize) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || {
        let size = if max >= 1024 * 1024 { format!("{} MiB", max / (1024 * 1024)) } else { format!("{} KiB", max / 1024) };
        ApiError::new(ErrorCode::BodyTooLarge, format!("the body is over {size}"))
    };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(too_large());
    }
    let limit = req.extensions().get::<BodyReadLimit>().map(|limit| limit.0);
    let read = axum::body::to_bytes(req.into_body(), max);
    let read = match limit {
        Some(limit) => tokio::time::timeout(limit, read).await.map_err(|_| {
            ApiError::new(
                ErrorCode::RequestTimeout,
                format!("the body did not arrive within {} s; send the request again", limit.as_secs()),
            )
        })?,
        None => read.await,
    };
    read.map_err(|_| too_large())
}

/// How long reading a request's body may take, set on the request by a server that
/// faces slow clients (`oms serve`); past it the answer is `408 request_timeout`.
/// Without it (behind API Gateway, which buffers the body) there is no limit here.
#[derive(Debug, Clone, Copy)]
pub struct BodyReadLimit(pub std::time::Duration);

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::http::{Method, StatusCode};
    use tower::ServiceExt;

    use oms_domain::ports::StoreError;

    use super::*;
    use crate::error::ErrorCause;

    #[test]
    fn amounts_are_plain_decimals() {
        for (raw, want) in [("12.50", "12.50"), ("3", "3"), (" 0.5 ", "0.5"), ("00012.0", "12.0")] {
            assert_eq!(decimal_field("amount", raw).map(|d| d.to_string()).as_deref(), Ok(want), "{raw}");
        }
        for raw in ["1e5", "1E-2", "+1.00", ".5", "1.", "", "-", "1.2.3", "NaN", "1,5", "0x10"] {
            let err = decimal_field("amount", raw).expect_err(raw);
            assert_eq!(err.field, "amount", "{raw}");
        }
        assert!(decimal_field("amount", "-1").is_err(), "negative");
    }

    /// Collects what the log writes.
    #[derive(Debug, Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().map(str::to_owned).collect()
        }
    }

    #[tokio::test]
    async fn a_failure_is_logged_once_with_its_cause_and_the_client_gets_the_clean_error() {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let failing = Router::new().route(
            "/orders/{id}",
            get(|| async { ApiError::from(StoreError::msg("the disk is on fire")) })
                .post(|| async { ApiError::not_implemented("x") }),
        );
        let router = with_common_layers(failing, OpenApi::default());
        let request = Request::builder().method(Method::GET).uri("/orders/o-1").body(Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();

        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.extensions().get::<ErrorCause>().is_none(), "the cause stops at the logging layer");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "internal", "message": "something went wrong on our side; try again"}})
        );
        let lines = log.lines();
        let logged: Vec<&String> = lines.iter().filter(|l| l.contains("the disk is on fire")).collect();
        assert_eq!(logged.len(), 1, "logged exactly once: {lines:?}");
        for part in ["ERROR", "GET", "/orders/o-1", "500"] {
            assert!(logged[0].contains(part), "{part} in {}", logged[0]);
        }

        // A 501 is a 5xx too: logged once, with no cause to give.
        let request = Request::builder().method(Method::POST).uri("/orders/o-1").body(Body::empty()).unwrap();
        assert_eq!(router.oneshot(request).await.unwrap().status(), StatusCode::NOT_IMPLEMENTED);
        let lines = log.lines();
        assert_eq!(lines.iter().filter(|l| l.contains("POST") && l.contains("501")).count(), 1, "{lines:?}");
    }
}
