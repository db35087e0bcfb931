//! Bulk trade: requests for quotes. A buyer (the platform's storefront, `oms/storefront`
//! on a credential naming no merchant, or platform staff) posts a requirement list and
//! reads the cheapest cover of the quotes; merchants (`oms/inventory.write`) quote the
//! lines they stock; the buyer accepts, which makes one sub-order per merchant of the
//! cover. The handlers parse and answer; the use cases (`oms_domain::usecases::rfqs`)
//! decide.
//!
//! A merchant reading a request sees its lines, its own quotes and its own sub-order, not
//! the other merchants' prices nor the cover; each sub-order is an order of its merchant
//! like any other (`GET /orders/{id}` shows it to that merchant only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::onboarding::Region;
use oms_domain::rfq::request::{Rfq, RfqRequest};
use oms_domain::rfq::RequiredLine;
use oms_domain::usecases::rfqs::{self as cases, Parent};
use oms_domain::validation::parse_json;
use oms_domain::{CustomerId, MerchantId, RfqId, Sku, ValidationError};

use super::flash_sales::parse_address;
use super::{decimal_field, AddressBody, AppState, PathParams, RawBody};
use crate::answers::{AddressAnswer, StatusAnswer};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_rfq))
        .routes(routes!(get_rfq))
        .routes(routes!(quote_line))
        .routes(routes!(accept_rfq))
}

/// The body of `POST /rfqs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RfqBody {
    /// The buyer's id of the request: 1 to 48 characters; posting it again with the same
    /// terms answers the stored request.
    pub rfq_id: String,
    pub customer_id: String,
    /// The province the goods go to (English or Chinese name).
    pub region: String,
    pub shipping_address: AddressBody,
    /// 1 to 200 lines of distinct SKUs.
    pub lines: Vec<RfqLineBody>,
    /// When quotes close: in the future, at most 30 days on.
    #[schema(value_type = String, format = DateTime)]
    pub quotes_until: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RfqLineBody {
    pub sku: String,
    /// 1 to 1,000,000 units.
    pub quantity: i64,
}

/// The body of `POST /rfqs/{id}/quotes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteLineBody {
    /// The merchant quoting: the caller's own (platform staff name one).
    #[serde(default)]
    pub merchant_id: Option<String>,
    /// The SKU of the line quoted.
    pub sku: String,
    /// Price of one unit, a decimal string above 0 and at most 1,000,000,000.
    pub unit_price: String,
}

/// A request for quotes: `POST /rfqs`, `GET /rfqs/{id}`, and every step's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RfqAnswer {
    pub rfq_id: String,
    pub customer_id: String,
    pub region: String,
    pub shipping_address: AddressAnswer,
    #[schema(value_type = String, format = DateTime)]
    pub quotes_until: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// `open` (quotes taken), `closed` (past `quotes_until`) or `accepted`.
    pub state: String,
    pub lines: Vec<RfqLineAnswer>,
    /// The merchants weighed, with their one shipment's cost (a merchant: itself only).
    pub candidates: Vec<CandidateAnswer>,
    /// The merchants holding stock of the list that are not weighed, and why.
    pub left_out: Vec<LeftOutAnswer>,
    pub quotes: Vec<QuoteAnswer>,
    /// The cheapest cover of the quotes so far (the buyer's and staff's view only).
    pub proposal: Option<CoverAnswer>,
    /// The line no quote covers, when there is one.
    pub uncovered: Option<UncoveredAnswer>,
    /// Once accepted: the parent order and its sub-orders (a merchant: its own only).
    pub parent: Option<ParentAnswer>,
    pub version: u64,
    /// True when this answer is the one stored before (the same id posted or accepted again).
    pub repeated: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RfqLineAnswer {
    pub line: usize,
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateAnswer {
    pub merchant_id: String,
    /// One shipment of its lines to the buyer: the carriers' tariff and the handling.
    pub shipping: String,
    pub warehouses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeftOutAnswer {
    pub merchant_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteAnswer {
    pub merchant_id: String,
    pub line: usize,
    pub sku: String,
    pub unit_price: String,
    /// `listing` (the listing's wholesale price) or `merchant` (its own quote).
    pub source: String,
    #[schema(value_type = String, format = DateTime)]
    pub quoted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverAnswer {
    pub total: String,
    pub goods: String,
    pub shipping: String,
    /// Sets of merchants costed by the exact search.
    pub sets_costed: u64,
    pub explanation: String,
    pub merchants: Vec<SupplierAnswer>,
}

/// One merchant's share of a cover or a parent order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierAnswer {
    pub merchant_id: String,
    pub lines: Vec<SuppliedLineAnswer>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuppliedLineAnswer {
    pub line: usize,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UncoveredAnswer {
    pub line: usize,
    pub sku: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParentAnswer {
    /// Derived from the sub-orders' statuses whenever read (none before any is made).
    pub parent_status: Option<StatusAnswer>,
    /// False while a planned sub-order is not made yet: accepting again makes it.
    pub complete: bool,
    pub total: String,
    pub explanation: String,
    #[schema(value_type = String, format = DateTime)]
    pub accepted_at: DateTime<Utc>,
    pub children: Vec<ChildAnswer>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildAnswer {
    pub merchant_id: String,
    /// `<rfq id>-<merchant>`, on channel `rfq`.
    pub external_id: String,
    pub order_id: Option<String>,
    pub status: Option<StatusAnswer>,
    pub lines: Vec<SuppliedLineAnswer>,
}

/// Who reads an answer: the buyer's side sees everything, a merchant its own share.
#[derive(Debug, Clone, Copy)]
enum View<'a> {
    Buyer,
    Merchant(&'a MerchantId),
}

impl View<'_> {
    fn sees(&self, merchant: &MerchantId) -> bool {
        match self {
            View::Buyer => true,
            View::Merchant(own) => *own == merchant,
        }
    }
}

fn money(value: rust_decimal::Decimal) -> String {
    let mut value = value;
    value.rescale(2);
    value.to_string()
}

fn supplied(rfq: &Rfq, lines: &[(usize, rust_decimal::Decimal)]) -> Vec<SuppliedLineAnswer> {
    lines
        .iter()
        .map(|(line, price)| SuppliedLineAnswer {
            line: *line,
            sku: rfq.lines[*line].sku.to_string(),
            quantity: rfq.lines[*line].quantity,
            unit_price: money(*price),
        })
        .collect()
}

impl RfqAnswer {
    fn of(rfq: &Rfq, parent: Option<&Parent>, view: View<'_>, now: DateTime<Utc>, repeated: bool) -> Self {
        let state = match (&rfq.accepted, rfq.check_open(now)) {
            (Some(_), _) => "accepted",
            (None, Ok(())) => "open",
            (None, Err(_)) => "closed",
        };
        let cover = matches!(view, View::Buyer).then(|| rfq.proposal());
        Self {
            rfq_id: rfq.rfq_id.to_string(),
            customer_id: rfq.customer_id.to_string(),
            region: rfq.region.as_str().to_owned(),
            shipping_address: AddressAnswer::from(rfq.shipping_address.clone()),
            quotes_until: rfq.quotes_until,
            created_at: rfq.created_at,
            state: state.to_owned(),
            lines: rfq
                .lines
                .iter()
                .enumerate()
                .map(|(line, l)| RfqLineAnswer { line, sku: l.sku.to_string(), quantity: l.quantity })
                .collect(),
            candidates: rfq
                .candidates
                .iter()
                .filter(|c| view.sees(&c.merchant))
                .map(|c| CandidateAnswer {
                    merchant_id: c.merchant.to_string(),
                    shipping: money(c.shipping),
                    warehouses: c.warehouses.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            left_out: rfq
                .left_out
                .iter()
                .filter(|l| view.sees(&l.merchant))
                .map(|l| LeftOutAnswer { merchant_id: l.merchant.to_string(), reason: l.reason.clone() })
                .collect(),
            quotes: rfq
                .quotes
                .iter()
                .filter(|q| view.sees(&q.merchant))
                .map(|q| QuoteAnswer {
                    merchant_id: q.merchant.to_string(),
                    line: q.line,
                    sku: rfq.lines[q.line].sku.to_string(),
                    unit_price: money(q.unit_price),
                    source: q.source.as_str().to_owned(),
                    quoted_at: q.quoted_at,
                })
                .collect(),
            proposal: cover.as_ref().and_then(|c| c.as_ref().ok()).map(|c| CoverAnswer {
                total: money(c.total),
                goods: money(c.goods),
                shipping: money(c.shipping),
                sets_costed: c.sets_costed,
                explanation: c.explanation.clone(),
                merchants: c
                    .by_merchant
                    .iter()
                    .map(|(m, lines)| SupplierAnswer { merchant_id: m.to_string(), lines: supplied(rfq, lines) })
                    .collect(),
            }),
            uncovered: cover
                .as_ref()
                .and_then(|c| c.as_ref().err())
                .map(|u| UncoveredAnswer { line: u.line, sku: u.sku.to_string() }),
            parent: rfq.accepted.as_ref().zip(parent).map(|(accepted, parent)| ParentAnswer {
                parent_status: parent.status.map(StatusAnswer::from),
                complete: parent.complete(),
                total: money(accepted.total),
                explanation: accepted.explanation.clone(),
                accepted_at: accepted.accepted_at,
                children: parent
                    .children
                    .iter()
                    .filter(|c| view.sees(&c.planned.merchant))
                    .map(|c| ChildAnswer {
                        merchant_id: c.planned.merchant.to_string(),
                        external_id: c.planned.external_id.to_string(),
                        order_id: c.order.as_ref().map(|o| o.order_id.to_string()),
                        status: c.order.as_ref().map(|o| StatusAnswer::from(o.status)),
                        lines: supplied(rfq, &c.planned.lines),
                    })
                    .collect(),
            }),
            version: rfq.version,
            repeated,
        }
    }
}

/// The buyer's side: a credential naming no merchant, with `oms/storefront` (the
/// platform's storefront, vouching for the customer) or `oms/platform` (staff).
fn buyer(caller: Authed) -> Result<Caller, ApiError> {
    if caller.0.merchant_id().is_some() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "requests for quotes are posted and accepted by the platform's storefront or staff, not a merchant's credential",
        ));
    }
    if caller.0.has(Scope::Storefront) {
        caller.with(Scope::Storefront)
    } else {
        caller.with(Scope::Platform)
    }
}

fn rfq_id(raw: &str) -> Result<RfqId, ApiError> {
    RfqId::parse(raw).map_err(|_| ApiError::new(ErrorCode::RfqNotFound, format!("no request for quotes {raw}")))
}

fn parse_request(body: &[u8]) -> Result<RfqRequest, ValidationError> {
    let raw: RfqBody = parse_json(body)?;
    let lines = raw
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let field = |name: &str| format!("lines[{i}].{name}");
            let sku = Sku::parse(l.sku.clone()).map_err(|e| e.within(&field("sku")))?;
            let quantity =
                u32::try_from(l.quantity).map_err(|_| ValidationError::new(field("quantity"), "must be 1 to 1000000"))?;
            Ok(RequiredLine { sku, quantity })
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    Ok(RfqRequest {
        rfq_id: RfqId::parse(raw.rfq_id).map_err(|e| e.within("rfq_id"))?,
        customer_id: CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?,
        region: Region::parse(raw.region).map_err(|e| e.within("region"))?,
        shipping_address: parse_address(&raw.shipping_address)?,
        lines,
        quotes_until: raw.quotes_until,
    })
}

/// Post a requirement list: the merchants serving its region are weighed (those left out
/// are named with why) and their listings quote each line they can supply at once.
#[utoipa::path(
    post,
    path = "/rfqs",
    tag = "bulk trade",
    request_body = RfqBody,
    responses(
        (status = 201, description = "The request, with the quotes collected and the cheapest cover so far", body = RfqAnswer),
        (status = 200, description = "The same id posted again with the same terms: the stored request", body = RfqAnswer),
        (status = 400, description = "`invalid_request`, naming the field: no lines or more than 200, a quantity out of 1..1,000,000, a SKU twice, an unknown region, an address outside it, `quotes_until` not in the next 30 days", body = ErrorBody),
        (status = 409, description = "`rfq_state_conflict`: the id is taken by a request with other terms", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a merchant's credential, or neither `oms/storefront` nor `oms/platform`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]), ("bearer" = ["oms/platform"]))
)]
async fn open_rfq(
    State(state): State<AppState>,
    caller: Authed,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<RfqAnswer>), ApiError> {
    buyer(caller)?;
    let request = parse_request(&body)?;
    let (rfq, created) = cases::open(&state.ports, request).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let parent = parent_if_accepted(&state, &rfq).await?;
    Ok((status, Json(RfqAnswer::of(&rfq, parent.as_ref(), View::Buyer, state.ports.clock.now(), !created))))
}

async fn parent_if_accepted(state: &AppState, rfq: &Rfq) -> Result<Option<Parent>, ApiError> {
    match rfq.accepted {
        Some(_) => Ok(Some(cases::parent_of(&state.ports, rfq).await?)),
        None => Ok(None),
    }
}

/// A request: its lines, quotes and cheapest cover (or the line none covers), and once
/// accepted its parent order, whose status is derived from its sub-orders' now.
#[utoipa::path(
    get,
    path = "/rfqs/{id}",
    tag = "bulk trade",
    params(("id" = String, Path, description = "The request")),
    responses(
        (status = 200, description = "The request (a merchant: its own quotes and sub-order only, no cover)", body = RfqAnswer),
        (status = 404, description = "`rfq_not_found`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has none of `oms/storefront`, `oms/platform` (buyer), `oms/inventory.write`, `oms/orders.read` (merchant)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]), ("bearer" = ["oms/platform"]), ("bearer" = ["oms/inventory.write"]), ("bearer" = ["oms/orders.read"]))
)]
async fn get_rfq(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<RfqAnswer>, ApiError> {
    let merchant = caller.0.merchant_id().cloned();
    match &merchant {
        Some(_) if caller.0.has(Scope::InventoryWrite) => {}
        Some(_) => {
            caller.with(Scope::OrdersRead)?;
        }
        None => {
            buyer(caller)?;
        }
    }
    let rfq = cases::rfq_of(&state.ports, &rfq_id(&id)?).await?;
    let parent = parent_if_accepted(&state, &rfq).await?;
    let view = merchant.as_ref().map_or(View::Buyer, View::Merchant);
    Ok(Json(RfqAnswer::of(&rfq, parent.as_ref(), view, state.ports.clock.now(), false)))
}

/// A merchant quotes (or quotes again) one line: its unit price replaces its quote of the
/// line, the listing's included. Only an approved merchant stocking the SKU in a
/// warehouse that ships to the region quotes, before `quotes_until` and the acceptance.
#[utoipa::path(
    post,
    path = "/rfqs/{id}/quotes",
    tag = "bulk trade",
    params(("id" = String, Path, description = "The request")),
    request_body = QuoteLineBody,
    responses(
        (status = 200, description = "The request as the merchant sees it, with its quote", body = RfqAnswer),
        (status = 400, description = "`invalid_request`, naming the field: a SKU the request does not ask for, a price not above 0 or above 1,000,000,000", body = ErrorBody),
        (status = 404, description = "`rfq_not_found`", body = ErrorBody),
        (status = 409, description = "`rfq_state_conflict`: the request was accepted", body = ErrorBody),
        (status = 410, description = "`quotes_closed`: past `quotes_until`", body = ErrorBody),
        (status = 422, description = "`not_stocked`: the merchant is not approved, or holds none of the SKU where it ships to the region", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or names another merchant", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn quote_line(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RfqAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let raw: QuoteLineBody = parse_json(&body)?;
    let merchant = super::acting_merchant(&caller, raw.merchant_id.as_deref())?;
    let sku = Sku::parse(raw.sku).map_err(|e| e.within("sku"))?;
    let unit_price = decimal_field("unit_price", &raw.unit_price)?;
    let rfq = cases::quote(&state.ports, &rfq_id(&id)?, &merchant, &sku, unit_price).await?;
    Ok(Json(RfqAnswer::of(&rfq, None, View::Merchant(&merchant), state.ports.clock.now(), false)))
}

/// The buyer accepts the cheapest cover: the parent order is recorded with one planned
/// sub-order per merchant, then each is made through intake (channel `rfq`, external id
/// `<rfq id>-<merchant>`) and goes on like any order. Accepting again answers the same
/// parent and makes any sub-order a failure left unmade.
#[utoipa::path(
    post,
    path = "/rfqs/{id}/accept",
    tag = "bulk trade",
    params(("id" = String, Path, description = "The request")),
    responses(
        (status = 200, description = "The request with its parent order and sub-orders", body = RfqAnswer),
        (status = 404, description = "`rfq_not_found`", body = ErrorBody),
        (status = 422, description = "`uncovered`: no quote covers a line (named); nothing stored", body = ErrorBody),
        (status = 409, description = "`rfq_state_conflict`: changes kept racing the acceptance; try again", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a merchant's credential, or neither `oms/storefront` nor `oms/platform`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]), ("bearer" = ["oms/platform"]))
)]
async fn accept_rfq(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<RfqAnswer>, ApiError> {
    buyer(caller)?;
    let id = rfq_id(&id)?;
    let before = cases::rfq_of(&state.ports, &id).await?;
    let (rfq, parent) = cases::accept(&state.ports, &id).await?;
    let repeated = before.accepted.is_some();
    Ok(Json(RfqAnswer::of(&rfq, Some(&parent), View::Buyer, state.ports.clock.now(), repeated)))
}
