//! Repairs: a storefront books a repair for its customer; staff quote, start, complete,
//! ship back and close it; the customer accepts (the charge becomes a `repair` order),
//! declines or cancels. The handlers parse and answer; the use cases
//! (`oms_domain::usecases::repairs`) decide.
//!
//! Booking and the customer's steps go through the merchant's storefront backend
//! (`oms/storefront`, which vouches for the customer id it passes; a booking takes an
//! idempotency key); staff steps need `oms/orders.write`; reading needs `oms/orders.read`
//! or `oms/storefront`. Another merchant's repair, or another customer's for a customer
//! step, is not found.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::repair::{Handover, Repair, RepairEvent, RepairId, RepairItem, RepairRequest};
use oms_domain::usecases::repairs as cases;
use oms_domain::validation::parse_json;
use oms_domain::{CarrierId, Currency, CustomerId, Sku, TrackingNumber, ValidationError, WarehouseId};

use super::flash_sales::AddressBody;
use super::{decimal_field, AppState, PathParams, RawBody};
use crate::answers::AddressAnswer;
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(book_repair))
        .routes(routes!(get_repair))
        .routes(routes!(quote_repair))
        .routes(routes!(start_repair))
        .routes(routes!(complete_repair))
        .routes(routes!(ship_repair))
        .routes(routes!(close_repair))
        .routes(routes!(accept_repair))
        .routes(routes!(decline_repair))
        .routes(routes!(cancel_repair))
}

/// The item of `POST /repairs`: a SKU or a description (or both), and its serial number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairItemBody {
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub serial: String,
}

/// How the item reaches the workshop: `{"kind":"drop_off"}`, or `{"kind":"pickup",
/// "address":{...}}` (picked up there and shipped back there).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverBody {
    /// `pickup` or `drop_off`.
    pub kind: String,
    #[serde(default)]
    pub address: Option<AddressBody>,
}

/// The body of `POST /repairs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairBody {
    /// The merchant: the storefront's own (platform staff name it).
    #[serde(default)]
    pub merchant_id: Option<String>,
    pub customer_id: String,
    pub item: RepairItemBody,
    /// The fault in the customer's words, at most 2000 characters.
    pub fault: String,
    /// Photos of the fault: https URLs, at most 8.
    #[serde(default)]
    pub photos: Vec<String>,
    pub handover: HandoverBody,
    /// The merchant's warehouse that repairs it (where it is dropped off or taken to).
    pub workshop: String,
    /// The client's key: the same customer and key again answers the first repair. It may
    /// come as the `Idempotency-Key` header instead (both given: they must be the same).
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A part of `POST /repairs/{id}/quote`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartBody {
    pub sku: String,
    /// 1 to 1000.
    pub quantity: i64,
    /// A decimal string; without it, the catalogue's list price of the merchant's SKU.
    #[serde(default)]
    pub unit_price: Option<String>,
}

/// The body of `POST /repairs/{id}/quote`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairQuoteBody {
    /// ISO 4217.
    pub currency: String,
    /// The labour charge in minor units of the currency (cents), 0 to 100000000.
    pub labour_minor: i64,
    /// At most 20 parts, no SKU twice; they leave the workshop's stock when the repair starts.
    #[serde(default)]
    pub parts: Vec<PartBody>,
    /// When the quote stops being acceptable: after now, at most 90 days ahead.
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: DateTime<Utc>,
}

/// The body of `POST /repairs/{id}/complete`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairNoteBody {
    /// What was done, at most 2000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// The body of `POST /repairs/{id}/ship`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairShipmentBody {
    pub carrier: String,
    pub tracking_number: String,
}

/// The body of a customer's step (`accept`, `decline`, `cancel`): whose repair it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerStepBody {
    pub customer_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepairItemAnswer {
    pub sku: Option<String>,
    pub description: Option<String>,
    pub serial: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartAnswer {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepairQuoteAnswer {
    pub currency: String,
    pub labour: String,
    pub parts: Vec<PartAnswer>,
    /// Labour and every part.
    pub total: String,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnShipmentAnswer {
    pub carrier: String,
    pub tracking_number: String,
}

/// A repair: `POST /repairs` (201), `GET /repairs/{id}` and every step's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepairAnswer {
    pub repair_id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub item: RepairItemAnswer,
    pub fault: String,
    pub photos: Vec<String>,
    /// `pickup` or `drop_off`.
    pub handover: String,
    /// The pickup address (the item goes back there).
    pub address: Option<AddressAnswer>,
    pub workshop: String,
    /// `booked`, `quoted`, `accepted`, `declined`, `in_repair`, `repaired`, `shipped_back`,
    /// `completed` or `cancelled`.
    pub state: String,
    pub quote: Option<RepairQuoteAnswer>,
    /// The order of the accepted quote (channel `repair`, external id the repair id).
    pub order_id: Option<String>,
    pub repair_note: Option<String>,
    pub return_shipment: Option<ReturnShipmentAnswer>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// True when this answer is the first booking's (same customer and key).
    pub repeated: bool,
}

/// An amount in its currency's minor digits.
fn amount(value: rust_decimal::Decimal, currency: Currency) -> String {
    let mut value = value;
    value.rescale(currency.minor_digits());
    value.to_string()
}

impl RepairAnswer {
    fn of(r: &Repair, repeated: bool) -> Self {
        let (handover, address) = match &r.handover {
            Handover::Pickup { address } => ("pickup", Some(AddressAnswer::from(address.clone()))),
            Handover::DropOff => ("drop_off", None),
        };
        Self {
            repair_id: r.repair_id.to_string(),
            merchant_id: r.merchant_id.to_string(),
            customer_id: r.customer_id.to_string(),
            item: RepairItemAnswer {
                sku: r.item.sku.as_ref().map(ToString::to_string),
                description: r.item.description.clone(),
                serial: r.item.serial.clone(),
            },
            fault: r.fault.clone(),
            photos: r.photos.clone(),
            handover: handover.to_owned(),
            address,
            workshop: r.workshop.to_string(),
            state: r.state.as_str().to_owned(),
            quote: r.quote.as_ref().map(|q| RepairQuoteAnswer {
                currency: q.currency.code().to_owned(),
                labour: amount(q.labour(), q.currency),
                parts: q
                    .parts
                    .iter()
                    .map(|p| PartAnswer {
                        sku: p.sku.to_string(),
                        quantity: p.quantity,
                        unit_price: amount(p.unit_price, q.currency),
                    })
                    .collect(),
                total: amount(q.total(), q.currency),
                valid_until: q.valid_until,
            }),
            order_id: r.order_id.as_ref().map(ToString::to_string),
            repair_note: r.repair_note.clone(),
            return_shipment: r
                .shipment
                .as_ref()
                .map(|s| ReturnShipmentAnswer { carrier: s.carrier.to_string(), tracking_number: s.tracking_number.to_string() }),
            created_at: r.created_at,
            updated_at: r.updated_at,
            repeated,
        }
    }
}

fn repair_not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::RepairNotFound, format!("no repair {raw}"))
}

/// The repair a path names, when the caller's merchant's.
async fn visible_repair(state: &AppState, caller: &Caller, raw: &str) -> Result<Repair, ApiError> {
    let id = RepairId::parse(raw).map_err(|_| repair_not_found(raw))?;
    match state.ports.repairs.get_repair(&id).await? {
        Some(r) if caller.sees(&r.merchant_id) => Ok(r),
        _ => Err(repair_not_found(raw)),
    }
}

fn parse_handover(raw: &HandoverBody) -> Result<Handover, ValidationError> {
    match (raw.kind.as_str(), &raw.address) {
        ("drop_off", None) => Ok(Handover::DropOff),
        ("drop_off", Some(_)) => Err(ValidationError::new("handover.address", "a drop-off has no address")),
        ("pickup", Some(address)) => {
            let address = super::flash_sales::parse_address(address).map_err(|e| {
                let field = e.field.strip_prefix("shipping_address").unwrap_or(&e.field);
                ValidationError::new(format!("handover.address{field}"), e.message)
            })?;
            Ok(Handover::Pickup { address })
        }
        ("pickup", None) => Err(ValidationError::new("handover.address", "a pickup needs the address")),
        (other, _) => Err(ValidationError::new("handover.kind", format!("{other:?} is not pickup or drop_off"))),
    }
}

fn parse_repair(body: &[u8], header_key: Option<&str>) -> Result<(RepairBody, RepairRequest), ValidationError> {
    let raw: RepairBody = parse_json(body)?;
    let idempotency_key = super::idempotency_key(raw.idempotency_key.as_deref(), header_key)?;
    let sku = raw.item.sku.as_deref().map(Sku::parse).transpose().map_err(|e| e.within("item.sku"))?;
    let request = RepairRequest {
        customer_id: CustomerId::parse(raw.customer_id.clone()).map_err(|e| e.within("customer_id"))?,
        idempotency_key,
        item: RepairItem::new(sku, raw.item.description.as_deref(), &raw.item.serial)?,
        fault: raw.fault.clone(),
        photos: raw.photos.clone(),
        handover: parse_handover(&raw.handover)?,
        workshop: WarehouseId::parse(raw.workshop.clone()).map_err(|e| e.within("workshop"))?,
    };
    Ok((raw, request.check()?))
}

/// Book a repair for the storefront's customer: the item, the fault (text and photos), and
/// how it reaches the workshop.
#[utoipa::path(
    post,
    path = "/repairs",
    tag = "repairs",
    params(("Idempotency-Key" = Option<String>, Header, description = "The booking's idempotency key, when the body has none")),
    request_body = RepairBody,
    responses(
        (status = 201, description = "The repair, booked (the same answer for the same customer and key)", body = RepairAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`unknown_warehouse`: the workshop is not one of the merchant's warehouses", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`, or names another merchant", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn book_repair(
    State(state): State<AppState>,
    caller: Authed,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<RepairAnswer>), ApiError> {
    let caller = caller.with(Scope::Storefront)?;
    let header_key = super::header_key(&headers)?;
    let (raw, request) = parse_repair(&body, header_key)?;
    let merchant = super::acting_merchant(&caller, raw.merchant_id.as_deref())?;
    let booked = cases::book(&state.ports, &merchant, request, state.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(RepairAnswer::of(&booked.repair, booked.repeated))))
}

/// A repair now.
#[utoipa::path(
    get,
    path = "/repairs/{id}",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    responses(
        (status = 200, description = "The repair", body = RepairAnswer),
        (status = 404, description = "`repair_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn get_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<RepairAnswer>, ApiError> {
    let (caller, _) = super::reader(caller)?;
    Ok(Json(RepairAnswer::of(&visible_repair(&state, &caller, &id).await?, false)))
}

/// A staff step on the repair a path names (when the caller's merchant's).
async fn staff_step(state: &AppState, caller: Authed, id: &str, event: RepairEvent) -> Result<Json<RepairAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let repair = visible_repair(state, &caller, id).await?;
    let now = state.ports.clock.now();
    let moved = cases::step(&state.ports, &repair.merchant_id, None, &repair.repair_id, event, now).await?;
    Ok(Json(RepairAnswer::of(&moved, false)))
}

/// The repair a customer step names, when the caller's merchant's and the body's
/// customer's (another customer's is not found), and that customer.
async fn customer_repair(state: &AppState, caller: Authed, id: &str, body: &[u8]) -> Result<(Repair, CustomerId), ApiError> {
    let caller = caller.with(Scope::Storefront)?;
    let raw: CustomerStepBody = parse_json(body)?;
    let customer = CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?;
    let repair = visible_repair(state, &caller, id).await?;
    if repair.customer_id != customer {
        return Err(repair_not_found(id));
    }
    Ok((repair, customer))
}

/// A customer step on the repair a path names.
async fn customer_step(
    state: &AppState,
    caller: Authed,
    id: &str,
    body: &[u8],
    event: RepairEvent,
) -> Result<Json<RepairAnswer>, ApiError> {
    let (repair, customer) = customer_repair(state, caller, id, body).await?;
    let now = state.ports.clock.now();
    let moved = cases::step(&state.ports, &repair.merchant_id, Some(&customer), &repair.repair_id, event, now).await?;
    Ok(Json(RepairAnswer::of(&moved, false)))
}

fn parse_quote(body: &[u8]) -> Result<cases::QuoteRequest, ValidationError> {
    let raw: RepairQuoteBody = parse_json(body)?;
    let currency = Currency::parse(&raw.currency).map_err(|e| e.within("currency"))?;
    let parts = raw
        .parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let within = |e: ValidationError| e.within(&format!("parts[{i}]"));
            Ok(cases::PartRequest {
                sku: Sku::parse(p.sku.clone()).map_err(|e| within(e.within("sku")))?,
                quantity: p.quantity,
                unit_price: p
                    .unit_price
                    .as_deref()
                    .map(|price| decimal_field("unit_price", price))
                    .transpose()
                    .map_err(within)?,
            })
        })
        .collect::<Result<_, ValidationError>>()?;
    Ok(cases::QuoteRequest { currency, labour_minor: raw.labour_minor, parts, valid_until: raw.valid_until })
}

/// Staff quote the repair (or quote it again): labour in minor units and parts, each at
/// its given price or the catalogue's, valid until a time.
#[utoipa::path(
    post,
    path = "/repairs/{id}/quote",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    request_body = RepairQuoteBody,
    responses(
        (status = 200, description = "The repair, quoted", body = RepairAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`repair_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`repair_state_conflict`: the repair is not booked or quoted", body = ErrorBody),
        (status = 422, description = "`unpriced_part`: a part has no price given and none in the catalogue", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn quote_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RepairAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let request = parse_quote(&body)?;
    let repair = visible_repair(&state, &caller, &id).await?;
    let now = state.ports.clock.now();
    let quoted = cases::quote(&state.ports, &repair.merchant_id, &repair.repair_id, request, now).await?;
    Ok(Json(RepairAnswer::of(&quoted, false)))
}

/// Staff start the repair: its parts leave the workshop's stock in the same write.
#[utoipa::path(
    post,
    path = "/repairs/{id}/start",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    responses(
        (status = 200, description = "The repair, in repair; its parts consumed", body = RepairAnswer),
        (status = 404, description = "`repair_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`repair_state_conflict`: not accepted; `parts_short`: too few of a part available, nothing changed", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn start_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<RepairAnswer>, ApiError> {
    staff_step(&state, caller, &id, RepairEvent::Start).await
}

/// Staff finish the work, with a note of what was done.
#[utoipa::path(
    post,
    path = "/repairs/{id}/complete",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    request_body = RepairNoteBody,
    responses(
        (status = 200, description = "The repair, repaired", body = RepairAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`repair_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`repair_state_conflict`: the repair is not in repair", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn complete_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RepairAnswer>, ApiError> {
    let raw: RepairNoteBody = if body.is_empty() { RepairNoteBody::default() } else { parse_json(&body)? };
    staff_step(&state, caller, &id, RepairEvent::Finish { note: raw.note.unwrap_or_default() }).await
}

/// The repaired item goes back to the customer.
#[utoipa::path(
    post,
    path = "/repairs/{id}/ship",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    request_body = RepairShipmentBody,
    responses(
        (status = 200, description = "The repair, shipped back", body = RepairAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`repair_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`repair_state_conflict`: the repair is not repaired", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn ship_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RepairAnswer>, ApiError> {
    let raw: RepairShipmentBody = parse_json(&body)?;
    let carrier = CarrierId::parse(raw.carrier).map_err(|e| e.within("carrier"))?;
    let tracking_number = TrackingNumber::parse(raw.tracking_number).map_err(|e| e.within("tracking_number"))?;
    staff_step(&state, caller, &id, RepairEvent::ShipBack { carrier, tracking_number }).await
}

/// The customer has the item back: the repair is completed and its order delivered.
#[utoipa::path(
    post,
    path = "/repairs/{id}/close",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    responses(
        (status = 200, description = "The repair, completed", body = RepairAnswer),
        (status = 404, description = "`repair_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`repair_state_conflict`: the repair is not shipped back", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn close_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<RepairAnswer>, ApiError> {
    staff_step(&state, caller, &id, RepairEvent::Close).await
}

/// The customer accepts the quote: the repair's charge becomes an order (channel
/// `repair`, unpaid, never allocated) in the same write.
#[utoipa::path(
    post,
    path = "/repairs/{id}/accept",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    request_body = CustomerStepBody,
    responses(
        (status = 200, description = "The repair, accepted, with its order id", body = RepairAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`repair_not_found` (also another merchant's or another customer's)", body = ErrorBody),
        (status = 409, description = "`repair_state_conflict`: the repair is not quoted", body = ErrorBody),
        (status = 422, description = "`quote_expired`: the quote is past its time; nothing changed", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn accept_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RepairAnswer>, ApiError> {
    let (repair, customer) = customer_repair(&state, caller, &id, &body).await?;
    let now = state.ports.clock.now();
    let accepted = cases::accept(&state.ports, &repair.merchant_id, &customer, &repair.repair_id, now).await?;
    Ok(Json(RepairAnswer::of(&accepted, false)))
}

/// The customer declines the quote. Final.
#[utoipa::path(
    post,
    path = "/repairs/{id}/decline",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    request_body = CustomerStepBody,
    responses(
        (status = 200, description = "The repair, declined", body = RepairAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`repair_not_found` (also another merchant's or another customer's)", body = ErrorBody),
        (status = 409, description = "`repair_state_conflict`: the repair is not quoted", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn decline_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RepairAnswer>, ApiError> {
    customer_step(&state, caller, &id, &body, RepairEvent::Decline).await
}

/// The customer cancels before the repair starts; an accepted repair's order is cancelled
/// in the same write.
#[utoipa::path(
    post,
    path = "/repairs/{id}/cancel",
    tag = "repairs",
    params(("id" = String, Path, description = "The repair")),
    request_body = CustomerStepBody,
    responses(
        (status = 200, description = "The repair, cancelled", body = RepairAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`repair_not_found` (also another merchant's or another customer's)", body = ErrorBody),
        (status = 409, description = "`repair_state_conflict`: the repair has started (or ended)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn cancel_repair(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RepairAnswer>, ApiError> {
    customer_step(&state, caller, &id, &body, RepairEvent::Cancel).await
}
