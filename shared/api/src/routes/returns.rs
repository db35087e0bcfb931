//! Returns and exchanges (RMA): a buyer's request for a delivered order's units, staff's
//! approval or refusal, the buyer's ship-back with its tracking number, the parcel's
//! receipt and inspection (the units back to sellable or damaged stock), and the
//! settlement (a refund told to the payment system, or the exchange's order). The handlers
//! parse and answer; the use cases (`oms_domain::usecases::returns`) decide.
//!
//! A request and a ship-back are the buyer's, through the merchant's storefront backend
//! (`oms/storefront`, vouching for the customer; a request with an idempotency key); staff
//! approve, refuse, receive, inspect and settle (`oms/orders.write`); both read returns
//! (`oms/orders.read` or `oms/storefront`), and either may cancel before shipping. Another
//! merchant's order or return is not found; a storefront acts only for the order's own
//! customer.
//!
//! The return policy (window and restocking fee) is the deployment's configuration, given
//! to the router with [`with_return_policy`]; without it the defaults hold (30 days, 10%).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::returns::{
    Finding, PhotoUrl, ReasonCode, RequestedLine, Return, ReturnEvent, ReturnId, ReturnKind, ReturnPolicy, ReturnRequest,
};
use oms_domain::usecases::returns as cases;
use oms_domain::validation::parse_json;
use oms_domain::{CarrierId, CustomerId, Sku, TrackingNumber, ValidationError, WarehouseId};

use super::{AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_return, order_returns))
        .routes(routes!(get_return))
        .routes(routes!(approve_return))
        .routes(routes!(refuse_return))
        .routes(routes!(cancel_return))
        .routes(routes!(ship_return))
        .routes(routes!(receive_return))
        .routes(routes!(inspect_return))
        .routes(routes!(settle_return))
        .routes(routes!(damaged_stock))
}

/// `router` answering under `policy` (the deployment's window and restocking fee).
pub fn with_return_policy(router: super::Router, policy: ReturnPolicy) -> super::Router {
    router.layer(Extension(policy))
}

/// The policy the router was given, else the defaults.
fn policy_of(given: Option<Extension<ReturnPolicy>>) -> ReturnPolicy {
    given.map(|Extension(p)| p).unwrap_or_default()
}

/// A line of `POST /orders/{id}/returns`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineBody {
    pub sku: String,
    /// 1 up to the units delivered less what other returns claim.
    pub quantity: i64,
    /// An exchange's replacement SKU (default the same SKU); refused on a return.
    #[serde(default)]
    pub replacement_sku: Option<String>,
}

/// The body of `POST /orders/{id}/returns`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    /// The order's customer (the storefront vouches for it).
    pub customer_id: String,
    /// `return` (money back) or `exchange` (a replacement).
    pub kind: String,
    /// `defective`, `wrong_item`, `damaged_in_transit`, `not_as_described` (no restocking
    /// fee: the seller's fault), `no_longer_needed`, `changed_mind` or `other`.
    pub reason: String,
    /// The buyer's words, at most 1000 characters.
    #[serde(default)]
    pub reason_text: Option<String>,
    /// At most 5 `https` URLs.
    #[serde(default)]
    pub photos: Vec<String>,
    /// 1 to 20 lines, each SKU of the order once.
    pub lines: Vec<ReturnLineBody>,
    /// The client's key: the same customer and key again answers the first return. It may
    /// come as the `Idempotency-Key` header instead (both given: they must be the same).
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A line of a return as answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnLineAnswer {
    pub sku: String,
    pub quantity: u32,
    /// The price paid for one unit.
    pub unit_price: String,
    /// Where the units come back to.
    pub warehouse: String,
    pub replacement_sku: Option<String>,
    /// After inspection: units back to sellable stock, and to damaged stock.
    pub restocked: Option<u32>,
    pub damaged: Option<u32>,
}

/// A refund as recorded (and told to the payment system).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefundAnswer {
    pub currency: String,
    /// The returned units' paid price.
    pub gross: String,
    pub restocking_fee: String,
    /// The fee's percent as applied (0 when the reason waives it).
    pub restocking_fee_percent: String,
    /// Paid back: the gross less the fee, never below zero.
    pub amount: String,
    /// `amount` in integer minor units.
    pub amount_minor: i64,
}

/// A return: `POST /orders/{id}/returns` (201), `GET /returns/{id}` and every step's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnAnswer {
    pub return_id: String,
    pub order_id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub kind: String,
    pub reason: String,
    pub reason_text: String,
    pub photos: Vec<String>,
    pub lines: Vec<ReturnLineAnswer>,
    /// `requested`, `approved`, `refused`, `cancelled`, `in_transit`, `received`,
    /// `inspected`, `refunded` or `exchanged`.
    pub state: String,
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub delivered_at: DateTime<Utc>,
    pub refusal_reason: Option<String>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub inspection_note: Option<String>,
    pub refund: Option<RefundAnswer>,
    /// The exchange's order (channel `exchange`, external id the return id).
    pub exchange_order_id: Option<String>,
    /// True when this answer is the first request's (same customer and key).
    pub repeated: bool,
}

impl ReturnAnswer {
    fn of(r: &Return, repeated: bool) -> Self {
        let amount = |value: rust_decimal::Decimal| {
            let mut value = value;
            value.rescale(r.currency.minor_digits());
            value.to_string()
        };
        Self {
            return_id: r.return_id.to_string(),
            order_id: r.order_id.to_string(),
            merchant_id: r.merchant_id.to_string(),
            customer_id: r.customer_id.to_string(),
            kind: r.kind.as_str().to_owned(),
            reason: r.reason.as_str().to_owned(),
            reason_text: r.reason_text.clone(),
            photos: r.photos.iter().map(|p| p.as_str().to_owned()).collect(),
            lines: r
                .lines
                .iter()
                .map(|l| ReturnLineAnswer {
                    sku: l.sku.to_string(),
                    quantity: l.quantity,
                    unit_price: amount(l.unit_price),
                    warehouse: l.warehouse.to_string(),
                    replacement_sku: l.replacement.as_ref().map(ToString::to_string),
                    restocked: l.finding.map(|f| f.restock),
                    damaged: l.finding.map(|f| f.damaged),
                })
                .collect(),
            state: r.state.as_str().to_owned(),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            delivered_at: r.delivered_at,
            refusal_reason: r.refusal_reason.clone(),
            carrier: r.carrier.as_ref().map(ToString::to_string),
            tracking_number: r.tracking_number.as_ref().map(ToString::to_string),
            inspection_note: r.inspection_note.clone(),
            refund: r.refund.map(|f| RefundAnswer {
                currency: f.currency.code().to_owned(),
                gross: f.money(f.gross_minor).amount.to_string(),
                restocking_fee: f.money(f.fee_minor).amount.to_string(),
                restocking_fee_percent: f.fee_percent.to_string(),
                amount: f.money(f.amount_minor).amount.to_string(),
                amount_minor: f.amount_minor,
            }),
            exchange_order_id: r.exchange_order_id.as_ref().map(ToString::to_string),
            repeated,
        }
    }
}

/// `GET /orders/{id}/returns`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnsAnswer {
    pub returns: Vec<ReturnAnswer>,
}

/// The body of `POST /returns/{id}/refuse`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusalBody {
    /// Why, for the buyer: 1 to 1000 characters.
    pub reason: String,
}

/// The body of `POST /returns/{id}/ship`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipBackBody {
    pub carrier: String,
    /// The parcel's tracking number: its carrier's `delivered` event receives the return.
    pub tracking_number: String,
}

/// A line's finding in `POST /returns/{id}/inspect`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    pub sku: String,
    /// Units back to sellable stock.
    pub restock: i64,
    /// Units to damaged stock (never allocated).
    pub damaged: i64,
}

/// The body of `POST /returns/{id}/inspect`: every line's finding, adding up to its units.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectBody {
    pub lines: Vec<FindingBody>,
    /// What was found, at most 1000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// A SKU's damaged units in a warehouse.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DamagedLine {
    pub sku: String,
    pub merchant_id: String,
    pub units: u32,
}

/// `GET /inventory/{warehouse}/damaged`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DamagedAnswer {
    pub warehouse: String,
    pub damaged: Vec<DamagedLine>,
}

fn return_not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::ReturnNotFound, format!("no return {raw}"))
}

/// A count as a `u32`, naming `field` when it is negative or too large.
fn count(field: &str, raw: i64) -> Result<u32, ValidationError> {
    u32::try_from(raw).map_err(|_| ValidationError::new(field, "must be a whole number from 0 to 4294967295"))
}

fn parse_request(body: &[u8], header_key: Option<&str>) -> Result<(CustomerId, ReturnRequest), ValidationError> {
    let raw: ReturnBody = parse_json(body)?;
    let idempotency_key = super::idempotency_key(raw.idempotency_key.as_deref(), header_key)?;
    let customer_id = CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?;
    let kind = ReturnKind::parse(&raw.kind).map_err(|e| e.within("kind"))?;
    let reason = ReasonCode::parse(&raw.reason).map_err(|e| e.within("reason"))?;
    let photos = raw
        .photos
        .into_iter()
        .enumerate()
        .map(|(i, p)| PhotoUrl::parse(p).map_err(|e| e.within(&format!("photos[{i}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    let lines = raw
        .lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let at = |e: ValidationError| e.within(&format!("lines[{i}]"));
            Ok(RequestedLine {
                sku: Sku::parse(l.sku).map_err(|e| at(e.within("sku")))?,
                quantity: count("quantity", l.quantity).map_err(at)?,
                replacement: l.replacement_sku.map(Sku::parse).transpose().map_err(|e| at(e.within("replacement_sku")))?,
            })
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    let request = ReturnRequest {
        customer_id: customer_id.clone(),
        idempotency_key,
        kind,
        reason,
        reason_text: raw.reason_text.unwrap_or_default(),
        photos,
        lines,
    };
    Ok((customer_id, request))
}

/// The return a path names, when the caller's merchant's.
async fn visible_return(state: &AppState, caller: &Caller, raw: &str) -> Result<Return, ApiError> {
    let id = ReturnId::parse(raw).map_err(|_| return_not_found(raw))?;
    match state.ports.returns.get_return(&id).await? {
        Some(r) if caller.sees(&r.merchant_id) => Ok(r),
        _ => Err(return_not_found(raw)),
    }
}

/// Ask to return (or exchange) some of a delivered order's units, for its customer.
#[utoipa::path(
    post,
    path = "/orders/{id}/returns",
    tag = "returns",
    params(
        ("id" = String, Path, description = "The order"),
        ("Idempotency-Key" = Option<String>, Header, description = "The request's idempotency key, when the body has none"),
    ),
    request_body = ReturnBody,
    responses(
        (status = 201, description = "The return, requested (the same answer for the same customer and key)", body = ReturnAnswer),
        (status = 400, description = "`invalid_request`, naming the field: a SKU not in the order, more units than delivered, a photo that is not https, an unknown kind or reason", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also another merchant's, or another customer's)", body = ErrorBody),
        (status = 422, description = "`not_delivered`; `return_window_closed`; `return_quantity_exceeded`: other returns claim those units. Nothing stored", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn request_return(
    State(state): State<AppState>,
    policy: Option<Extension<ReturnPolicy>>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ReturnAnswer>), ApiError> {
    // The merchant's storefront backend vouches for the customer id it passes.
    let caller = caller.with(Scope::Storefront)?;
    let order = super::orders::order_of(&state, &caller, &id).await?;
    let (customer, request) = parse_request(&body, super::header_key(&headers)?)?;
    if customer != order.customer.id {
        return Err(ApiError::new(ErrorCode::OrderNotFound, format!("no order {id} of customer {customer}")));
    }
    let requested = cases::request_return(&state.ports, &order, request, &policy_of(policy)).await?;
    Ok((StatusCode::CREATED, Json(ReturnAnswer::of(&requested.ret, requested.repeated))))
}

/// The order's returns, oldest first.
#[utoipa::path(
    get,
    path = "/orders/{id}/returns",
    tag = "returns",
    params(("id" = String, Path, description = "The order")),
    responses(
        (status = 200, description = "Its returns", body = ReturnsAnswer),
        (status = 404, description = "`order_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn order_returns(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<ReturnsAnswer>, ApiError> {
    let (caller, _) = super::reader(caller)?;
    let order = super::orders::order_of(&state, &caller, &id).await?;
    let returns = state.ports.returns.returns_of(&order.order_id).await?;
    Ok(Json(ReturnsAnswer { returns: returns.iter().map(|r| ReturnAnswer::of(r, false)).collect() }))
}

/// A return now.
#[utoipa::path(
    get,
    path = "/returns/{id}",
    tag = "returns",
    params(("id" = String, Path, description = "The return")),
    responses(
        (status = 200, description = "The return", body = ReturnAnswer),
        (status = 404, description = "`return_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn get_return(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let (caller, _) = super::reader(caller)?;
    Ok(Json(ReturnAnswer::of(&visible_return(&state, &caller, &id).await?, false)))
}

/// Moves the return a path names (when the caller's merchant's) by `event`.
async fn step(
    state: &AppState,
    policy: ReturnPolicy,
    caller: Caller,
    id: &str,
    event: ReturnEvent,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let ret = visible_return(state, &caller, id).await?;
    let moved = cases::advance(&state.ports, &ret.return_id, event, &policy).await?;
    Ok(Json(ReturnAnswer::of(&moved, false)))
}

/// Staff agree to the return: the buyer may ship it back. Refused once the window closed.
#[utoipa::path(
    post,
    path = "/returns/{id}/approve",
    tag = "returns",
    params(("id" = String, Path, description = "The return")),
    responses(
        (status = 200, description = "The return, approved", body = ReturnAnswer),
        (status = 404, description = "`return_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`return_state_conflict`: the return is not requested", body = ErrorBody),
        (status = 422, description = "`return_window_closed`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn approve_return(
    State(state): State<AppState>,
    policy: Option<Extension<ReturnPolicy>>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    step(&state, policy_of(policy), caller, &id, ReturnEvent::Approve).await
}

/// Staff refuse the return, saying why: its units may be asked for again.
#[utoipa::path(
    post,
    path = "/returns/{id}/refuse",
    tag = "returns",
    params(("id" = String, Path, description = "The return")),
    request_body = RefusalBody,
    responses(
        (status = 200, description = "The return, refused", body = ReturnAnswer),
        (status = 400, description = "`invalid_request`: no reason, or over 1000 characters", body = ErrorBody),
        (status = 404, description = "`return_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`return_state_conflict`: the return is not requested", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn refuse_return(
    State(state): State<AppState>,
    policy: Option<Extension<ReturnPolicy>>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let raw: RefusalBody = parse_json(&body)?;
    step(&state, policy_of(policy), caller, &id, ReturnEvent::Refuse { reason: raw.reason }).await
}

/// The buyer (or staff) withdraw the return before it is shipped back.
#[utoipa::path(
    post,
    path = "/returns/{id}/cancel",
    tag = "returns",
    params(("id" = String, Path, description = "The return")),
    responses(
        (status = 200, description = "The return, cancelled", body = ReturnAnswer),
        (status = 404, description = "`return_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`return_state_conflict`: shipped back already (or refused, cancelled)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.write` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]), ("bearer" = ["oms/storefront"]))
)]
async fn cancel_return(
    State(state): State<AppState>,
    policy: Option<Extension<ReturnPolicy>>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let (caller, _) = super::staff_or_storefront(caller, Scope::OrdersWrite)?;
    step(&state, policy_of(policy), caller, &id, ReturnEvent::Cancel).await
}

/// The buyer shipped the approved return back: its carrier and tracking number.
#[utoipa::path(
    post,
    path = "/returns/{id}/ship",
    tag = "returns",
    params(("id" = String, Path, description = "The return")),
    request_body = ShipBackBody,
    responses(
        (status = 200, description = "The return, in transit (received at once when the carrier said it is delivered)", body = ReturnAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`return_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`return_state_conflict`: the return is not approved; `tracking_number_taken`: another return's parcel", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn ship_return(
    State(state): State<AppState>,
    policy: Option<Extension<ReturnPolicy>>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let caller = caller.with(Scope::Storefront)?;
    let raw: ShipBackBody = parse_json(&body)?;
    let carrier = CarrierId::parse(raw.carrier).map_err(|e| e.within("carrier"))?;
    let tracking = TrackingNumber::parse(raw.tracking_number).map_err(|e| e.within("tracking_number"))?;
    let ret = visible_return(&state, &caller, &id).await?;
    let moved = cases::ship_back(&state.ports, &ret.return_id, carrier, tracking, &policy_of(policy)).await?;
    Ok(Json(ReturnAnswer::of(&moved, false)))
}

/// The return parcel is at the warehouse (the carrier's `delivered` event does this too).
#[utoipa::path(
    post,
    path = "/returns/{id}/receive",
    tag = "returns",
    params(("id" = String, Path, description = "The return")),
    responses(
        (status = 200, description = "The return, received", body = ReturnAnswer),
        (status = 404, description = "`return_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`return_state_conflict`: the return is not in transit", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn receive_return(
    State(state): State<AppState>,
    policy: Option<Extension<ReturnPolicy>>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    step(&state, policy_of(policy), caller, &id, ReturnEvent::Receive).await
}

fn parse_findings(body: &[u8]) -> Result<(BTreeMap<Sku, Finding>, String), ValidationError> {
    let raw: InspectBody = parse_json(body)?;
    let mut findings = BTreeMap::new();
    for (i, line) in raw.lines.into_iter().enumerate() {
        let at = |e: ValidationError| e.within(&format!("lines[{i}]"));
        let sku = Sku::parse(line.sku).map_err(|e| at(e.within("sku")))?;
        let finding = Finding {
            restock: count("restock", line.restock).map_err(at)?,
            damaged: count("damaged", line.damaged).map_err(at)?,
        };
        if findings.insert(sku, finding).is_some() {
            return Err(at(ValidationError::new("sku", "names a SKU another line names")));
        }
    }
    Ok((findings, raw.note.unwrap_or_default()))
}

/// Inspect the received return: each line's units back to sellable stock or to damaged
/// stock (in the write that records it, with ledger entries), then settle it: a refund
/// (the paid price less the restocking fee, told to the payment system) or the exchange's
/// order.
#[utoipa::path(
    post,
    path = "/returns/{id}/inspect",
    tag = "returns",
    params(("id" = String, Path, description = "The return")),
    request_body = InspectBody,
    responses(
        (status = 200, description = "The return, refunded or exchanged (inspected when the settlement must be tried again)", body = ReturnAnswer),
        (status = 400, description = "`invalid_request`: a line missing or not the return's, restock and damaged not adding up to its units", body = ErrorBody),
        (status = 404, description = "`return_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`return_state_conflict`: the return is not received", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn inspect_return(
    State(state): State<AppState>,
    policy: Option<Extension<ReturnPolicy>>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let (findings, note) = parse_findings(&body)?;
    let ret = visible_return(&state, &caller, &id).await?;
    let done = cases::inspect(&state.ports, &ret.return_id, findings, note, &policy_of(policy)).await?;
    Ok(Json(ReturnAnswer::of(&done, false)))
}

/// Settle an inspected return again (when its settlement could not be made at inspection).
#[utoipa::path(
    post,
    path = "/returns/{id}/settle",
    tag = "returns",
    params(("id" = String, Path, description = "The return")),
    responses(
        (status = 200, description = "The return, refunded or exchanged", body = ReturnAnswer),
        (status = 404, description = "`return_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`return_state_conflict`: the return is not inspected (or settled already)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn settle_return(
    State(state): State<AppState>,
    policy: Option<Extension<ReturnPolicy>>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<ReturnAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let ret = visible_return(&state, &caller, &id).await?;
    let settled = cases::settle(&state.ports, &ret.return_id, &policy_of(policy)).await?;
    Ok(Json(ReturnAnswer::of(&settled, false)))
}

/// The damaged units returns put aside in a warehouse (the caller's merchant's own):
/// never on hand, never allocated.
#[utoipa::path(
    get,
    path = "/inventory/{warehouse}/damaged",
    tag = "returns",
    params(("warehouse" = String, Path, description = "The warehouse")),
    responses(
        (status = 200, description = "Its damaged units, by SKU and owner", body = DamagedAnswer),
        (status = 404, description = "`unknown_warehouse`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn damaged_stock(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(warehouse): PathParams<String>,
) -> Result<Json<DamagedAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let unknown = || ApiError::new(ErrorCode::UnknownWarehouse, format!("no warehouse {warehouse}"));
    let id = WarehouseId::parse(warehouse.clone()).map_err(|_| unknown())?;
    if state.ports.warehouses.get_warehouse(&id).await?.is_none() {
        return Err(unknown());
    }
    let damaged = state.ports.returns.damaged_stock(&id).await?;
    Ok(Json(DamagedAnswer {
        warehouse: id.to_string(),
        damaged: damaged
            .into_iter()
            .filter(|d| caller.sees(&d.owner))
            .map(|d| DamagedLine { sku: d.sku.to_string(), merchant_id: d.owner.to_string(), units: d.units })
            .collect(),
    }))
}
