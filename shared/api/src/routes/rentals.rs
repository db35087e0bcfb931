//! Rentals: register a unit, read its availability, book it, and move a booking through
//! hand-over, return, inspection and the deposit's settlement (or cancel it). The handlers
//! parse and answer; the use cases (`oms_domain::usecases::rentals`) decide.
//!
//! The merchant registers its units (`oms/inventory.write`) and moves its bookings
//! (`oms/orders.write`), and reads both (`oms/orders.read`); booking is a customer action
//! through the merchant's storefront backend (`oms/storefront`, with an idempotency key, as
//! group-buy joins), which also reads units, their availability and bookings, and may
//! cancel a booking before hand-over. Another merchant's unit or booking is not found.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::rental::{Booking, BookingId, RentalEvent, RentalUnit, RentalUnitId};
use oms_domain::usecases::rentals as cases;
use oms_domain::validation::parse_json;
use oms_domain::{Currency, CustomerId, MerchantId, Sku, ValidationError, WarehouseId};

use super::{decimal_field, AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_rental_unit, get_rental_unit))
        .routes(routes!(rental_availability))
        .routes(routes!(book_rental))
        .routes(routes!(get_booking))
        .routes(routes!(hand_over))
        .routes(routes!(return_rental))
        .routes(routes!(inspect_rental))
        .routes(routes!(settle_rental))
        .routes(routes!(cancel_rental))
}

/// The body of `PUT /rental-units/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RentalUnitBody {
    /// The merchant renting it out: the caller's own (platform staff name any).
    pub merchant_id: String,
    pub sku: String,
    /// One of the merchant's own warehouses: where it is handed over and returned.
    pub warehouse_id: String,
    /// Price of one day, a decimal string above 0.
    pub daily_rate: String,
    /// Taken with each booking, settled after inspection; a decimal string, 0 or more.
    pub deposit: String,
    /// Charged per day returned after the booking's end; a decimal string, 0 or more.
    pub late_fee_per_day: String,
    /// ISO 4217 (default CNY).
    #[serde(default)]
    pub currency: Option<String>,
    /// A retired unit takes no new bookings (default false).
    #[serde(default)]
    pub retired: Option<bool>,
}

/// A rental unit: `PUT /rental-units/{id}` and `GET /rental-units/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RentalUnitAnswer {
    pub unit_id: String,
    pub merchant_id: String,
    pub sku: String,
    pub warehouse_id: String,
    pub currency: String,
    pub daily_rate: String,
    pub deposit: String,
    pub late_fee_per_day: String,
    pub retired: bool,
}

impl From<&RentalUnit> for RentalUnitAnswer {
    fn from(u: &RentalUnit) -> Self {
        Self {
            unit_id: u.unit_id.to_string(),
            merchant_id: u.merchant_id.to_string(),
            sku: u.sku.to_string(),
            warehouse_id: u.warehouse.to_string(),
            currency: u.currency.code().to_owned(),
            daily_rate: amount(u.daily_rate, u.currency),
            deposit: amount(u.deposit, u.currency),
            late_fee_per_day: amount(u.late_fee_per_day, u.currency),
            retired: u.retired,
        }
    }
}

/// The query of `GET /rental-units/{id}/availability`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AvailabilityQuery {
    /// First day (`YYYY-MM-DD`).
    from: Option<String>,
    /// Day after the last (`YYYY-MM-DD`): at most 90 days after `from`.
    to: Option<String>,
}

/// A unit's days: `GET /rental-units/{id}/availability`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AvailabilityAnswer {
    pub unit_id: String,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The days nobody has booked.
    #[schema(value_type = Vec<String>)]
    pub free: Vec<NaiveDate>,
    /// The booked days, each with its booking (its id to the merchant only).
    pub booked: Vec<BookedDay>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookedDay {
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub booking_id: Option<String>,
}

/// The body of `POST /rentals`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    pub unit_id: String,
    pub customer_id: String,
    /// First day rented (`YYYY-MM-DD`): today or later, at most 365 days ahead.
    #[schema(value_type = String, format = Date)]
    pub start: NaiveDate,
    /// The return day (`YYYY-MM-DD`), not rented: after the start, at most 90 days on.
    #[schema(value_type = String, format = Date)]
    pub end: NaiveDate,
    /// The client's key: the same customer and key again answers the first booking. It may
    /// come as the `Idempotency-Key` header instead (both given: they must be the same).
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A booking: `POST /rentals` (201) and `GET /rentals/{id}`, and every step's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingAnswer {
    pub booking_id: String,
    pub unit_id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub sku: String,
    #[schema(value_type = String, format = Date)]
    pub start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub end: NaiveDate,
    pub days: i64,
    pub currency: String,
    /// Days × the daily rate.
    pub price: String,
    pub deposit: String,
    pub late_fee_per_day: String,
    /// `booked`, `handed_over`, `returned`, `inspected`, `settled` or `cancelled`.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = Date)]
    pub handed_over_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub returned_on: Option<NaiveDate>,
    /// Days returned after the end.
    pub late_days: i64,
    /// The damage charge found at inspection.
    pub damage: Option<String>,
    pub damage_note: Option<String>,
    /// Once settled: the late fees, the deposit paid back (never below 0) and what the
    /// charges come to beyond the deposit.
    pub late_fees: Option<String>,
    pub refund: Option<String>,
    pub owed: Option<String>,
    /// The booking's order (channel `rental`, external id the booking id, unpaid): the rent
    /// and the deposit; cancelled with the booking, delivered once it is settled.
    pub order_id: Option<String>,
    /// Once settled with charges beyond the deposit: the follow-up order of what is owed.
    pub owed_order_id: Option<String>,
    /// True when this answer is the first booking's (same customer and key).
    pub repeated: bool,
}

impl BookingAnswer {
    fn of(b: &Booking, repeated: bool) -> Self {
        let settled = b.settlement.as_ref();
        Self {
            booking_id: b.booking_id.to_string(),
            unit_id: b.unit_id.to_string(),
            merchant_id: b.merchant_id.to_string(),
            customer_id: b.customer_id.to_string(),
            sku: b.sku.to_string(),
            start: b.period.start,
            end: b.period.end,
            days: b.period.days(),
            currency: b.currency.code().to_owned(),
            price: amount(b.price, b.currency),
            deposit: amount(b.deposit, b.currency),
            late_fee_per_day: amount(b.late_fee_per_day, b.currency),
            state: b.state.as_str().to_owned(),
            created_at: b.created_at,
            handed_over_on: b.handed_over_on,
            returned_on: b.returned_on,
            late_days: b.late_days(),
            damage: b.damage.map(|d| amount(d, b.currency)),
            damage_note: b.damage_note.clone(),
            late_fees: settled.map(|s| amount(s.late_fees, b.currency)),
            refund: settled.map(|s| amount(s.refund, b.currency)),
            owed: settled.map(|s| amount(s.owed, b.currency)),
            order_id: b.order_id.as_ref().map(ToString::to_string),
            owed_order_id: b.owed_order_id.as_ref().map(ToString::to_string),
            repeated,
        }
    }
}

/// The body of `POST /rentals/{id}/hand-over` and `/return`: the day (default today).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub on: Option<NaiveDate>,
}

/// The body of `POST /rentals/{id}/inspection`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionBody {
    /// The damage charge, a decimal string, 0 or more (default 0).
    #[serde(default)]
    pub damage: Option<String>,
    /// What was found, at most 1000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// An amount in its currency's minor digits (`100` EUR is `"100.00"`).
fn amount(value: rust_decimal::Decimal, currency: Currency) -> String {
    let mut value = value;
    value.rescale(currency.minor_digits());
    value.to_string()
}

fn unit_not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::RentalUnitNotFound, format!("no rental unit {raw}"))
}

fn booking_not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::BookingNotFound, format!("no booking {raw}"))
}

fn parse_unit(id: &str, body: &[u8]) -> Result<RentalUnit, ValidationError> {
    let raw: RentalUnitBody = parse_json(body)?;
    let currency = Currency::parse(raw.currency.as_deref().unwrap_or("CNY")).map_err(|e| e.within("currency"))?;
    let unit = RentalUnit {
        unit_id: RentalUnitId::parse(id).map_err(|e| e.within("id"))?,
        merchant_id: MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?,
        sku: Sku::parse(raw.sku).map_err(|e| e.within("sku"))?,
        warehouse: WarehouseId::parse(raw.warehouse_id).map_err(|e| e.within("warehouse_id"))?,
        currency,
        daily_rate: decimal_field("daily_rate", &raw.daily_rate)?,
        deposit: decimal_field("deposit", &raw.deposit)?,
        late_fee_per_day: decimal_field("late_fee_per_day", &raw.late_fee_per_day)?,
        retired: raw.retired.unwrap_or(false),
    };
    unit.check()
}

/// The unit a path names, when the caller's merchant's.
async fn visible_unit(state: &AppState, caller: &Caller, raw: &str) -> Result<RentalUnit, ApiError> {
    let id = RentalUnitId::parse(raw).map_err(|_| unit_not_found(raw))?;
    match state.ports.rentals.get_rental_unit(&id).await? {
        Some(unit) if caller.sees(&unit.merchant_id) => Ok(unit),
        _ => Err(unit_not_found(raw)),
    }
}

/// The booking a path names, when the caller's merchant's.
async fn visible_booking(state: &AppState, caller: &Caller, raw: &str) -> Result<Booking, ApiError> {
    let id = BookingId::parse(raw).map_err(|_| booking_not_found(raw))?;
    match state.ports.rentals.get_booking(&id).await? {
        Some(b) if caller.sees(&b.merchant_id) => Ok(b),
        _ => Err(booking_not_found(raw)),
    }
}

/// Register a rental unit (or replace its terms): one physical item of a SKU, rented out
/// by the day. A rental unit is its own inventory, never counted in sellable stock.
#[utoipa::path(
    put,
    path = "/rental-units/{id}",
    tag = "rentals",
    params(("id" = String, Path, description = "The unit's id: 1 to 64 ASCII letters, digits, '-', '_' or '.'")),
    request_body = RentalUnitBody,
    responses(
        (status = 200, description = "The unit as stored", body = RentalUnitAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or names another merchant than the caller's", body = ErrorBody),
        (status = 404, description = "`unknown_warehouse`: not one of the merchant's warehouses", body = ErrorBody),
        (status = 409, description = "`rental_unit_taken`: another merchant registered a unit under that id", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn put_rental_unit(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RentalUnitAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let unit = parse_unit(&id, &body)?;
    if !caller.sees(&unit.merchant_id) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this credential registers its own merchant's rental units only"));
    }
    match state.ports.warehouses.get_warehouse(&unit.warehouse).await? {
        Some(w) if w.merchant_id == unit.merchant_id => {}
        _ => return Err(ApiError::new(ErrorCode::UnknownWarehouse, format!("no warehouse {} of the merchant", unit.warehouse))),
    }
    let unit = cases::register_unit(&*state.ports.rentals, unit).await?;
    Ok(Json(RentalUnitAnswer::from(&unit)))
}

/// A rental unit and its terms.
#[utoipa::path(
    get,
    path = "/rental-units/{id}",
    tag = "rentals",
    params(("id" = String, Path, description = "The unit")),
    responses(
        (status = 200, description = "The unit", body = RentalUnitAnswer),
        (status = 404, description = "`rental_unit_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn get_rental_unit(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<RentalUnitAnswer>, ApiError> {
    let (caller, _) = super::reader(caller)?;
    Ok(Json(RentalUnitAnswer::from(&visible_unit(&state, &caller, &id).await?)))
}

fn day_param(field: &str, raw: Option<&str>) -> Result<NaiveDate, ValidationError> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| ValidationError::new(field, "is required"))?;
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| ValidationError::new(field, format!("{raw:?} is not a day like 2026-12-24")))
}

/// A unit's free and booked days from `from` up to (not including) `to`.
#[utoipa::path(
    get,
    path = "/rental-units/{id}/availability",
    tag = "rentals",
    params(("id" = String, Path, description = "The unit"), AvailabilityQuery),
    responses(
        (status = 200, description = "The days", body = AvailabilityAnswer),
        (status = 400, description = "`invalid_request`: a missing or bad day, `to` not after `from`, more than 90 days", body = ErrorBody),
        (status = 404, description = "`rental_unit_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn rental_availability(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    query: Result<Query<AvailabilityQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AvailabilityAnswer>, ApiError> {
    let (caller, merchant_view) = super::reader(caller)?;
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let from = day_param("from", query.from.as_deref())?;
    let to = day_param("to", query.to.as_deref())?;
    let unit = visible_unit(&state, &caller, &id).await?;
    let seen = cases::availability(&*state.ports.rentals, &unit.merchant_id, &unit.unit_id, from, to).await?;
    Ok(Json(AvailabilityAnswer {
        unit_id: unit.unit_id.to_string(),
        from,
        to,
        free: seen.free,
        booked: seen
            .booked
            .into_iter()
            .map(|(day, b)| BookedDay { day, booking_id: merchant_view.then(|| b.to_string()) })
            .collect(),
    }))
}

fn parse_booking(
    body: &[u8],
    header_key: Option<&str>,
) -> Result<(BookingBody, RentalUnitId, CustomerId, IdempotencyKey), ValidationError> {
    let raw: BookingBody = parse_json(body)?;
    let key = super::idempotency_key(raw.idempotency_key.as_deref(), header_key)?;
    let unit = RentalUnitId::parse(raw.unit_id.clone()).map_err(|e| e.within("unit_id"))?;
    let customer = CustomerId::parse(raw.customer_id.clone()).map_err(|e| e.within("customer_id"))?;
    Ok((raw, unit, customer, key))
}

/// Book a unit for whole days: one conditional write of the booking and every day it
/// takes, so a unit is never booked twice for a day however many customers race for it.
#[utoipa::path(
    post,
    path = "/rentals",
    tag = "rentals",
    params(("Idempotency-Key" = Option<String>, Header, description = "The booking's idempotency key, when the body has none")),
    request_body = BookingBody,
    responses(
        (status = 201, description = "The booking (the same answer for the same customer and key)", body = BookingAnswer),
        (status = 400, description = "`invalid_request`, naming the field: the end not after the start, more than 90 days, a start in the past", body = ErrorBody),
        (status = 404, description = "`rental_unit_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`dates_taken`: the unit is booked on some of those days; nothing stored", body = ErrorBody),
        (status = 410, description = "`not_active`: the unit is retired", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn book_rental(
    State(state): State<AppState>,
    caller: Authed,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<BookingAnswer>), ApiError> {
    // The merchant's storefront backend vouches for the customer id it passes.
    let caller = caller.with(Scope::Storefront)?;
    let header_key = super::header_key(&headers)?;
    let (raw, unit_id, customer, key) = parse_booking(&body, header_key)?;
    let unit = visible_unit(&state, &caller, unit_id.as_str()).await?;
    let new = cases::NewBooking { customer_id: customer, idempotency_key: key, start: raw.start, end: raw.end };
    let booked = cases::book(&*state.ports.rentals, &unit.merchant_id, &unit.unit_id, new, state.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(BookingAnswer::of(&booked.booking, booked.repeated))))
}

/// A booking now.
#[utoipa::path(
    get,
    path = "/rentals/{id}",
    tag = "rentals",
    params(("id" = String, Path, description = "The booking")),
    responses(
        (status = 200, description = "The booking", body = BookingAnswer),
        (status = 404, description = "`booking_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn get_booking(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<BookingAnswer>, ApiError> {
    let (caller, _) = super::reader(caller)?;
    Ok(Json(BookingAnswer::of(&visible_booking(&state, &caller, &id).await?, false)))
}

/// Moves the booking a path names (when the caller's merchant's) by `event`.
async fn step(state: &AppState, caller: Caller, id: &str, event: RentalEvent) -> Result<Json<BookingAnswer>, ApiError> {
    let booking = visible_booking(state, &caller, id).await?;
    let (rentals, orders, now) = (&*state.ports.rentals, &*state.ports.orders, state.ports.clock.now());
    let moved = cases::advance(rentals, orders, &booking.merchant_id, &booking.booking_id, event, now).await?;
    Ok(Json(BookingAnswer::of(&moved, false)))
}

/// The day a step body names, else today.
fn step_day(state: &AppState, body: &[u8]) -> Result<NaiveDate, ValidationError> {
    let raw: StepBody = if body.is_empty() { StepBody::default() } else { parse_json(body)? };
    Ok(raw.on.unwrap_or_else(|| state.ports.clock.now().date_naive()))
}

/// The unit is handed over to the customer.
#[utoipa::path(
    post,
    path = "/rentals/{id}/hand-over",
    tag = "rentals",
    params(("id" = String, Path, description = "The booking")),
    request_body = StepBody,
    responses(
        (status = 200, description = "The booking, handed over", body = BookingAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`booking_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`booking_state_conflict`: the booking is not booked", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn hand_over(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<BookingAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let on = step_day(&state, &body)?;
    step(&state, caller, &id, RentalEvent::HandOver { on }).await
}

/// The unit is back: days after the booking's end are late.
#[utoipa::path(
    post,
    path = "/rentals/{id}/return",
    tag = "rentals",
    params(("id" = String, Path, description = "The booking")),
    request_body = StepBody,
    responses(
        (status = 200, description = "The booking, returned, its late days counted", body = BookingAnswer),
        (status = 400, description = "`invalid_request`, naming the field (a day before the start)", body = ErrorBody),
        (status = 404, description = "`booking_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`booking_state_conflict`: the booking is not handed over", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn return_rental(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<BookingAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let on = step_day(&state, &body)?;
    step(&state, caller, &id, RentalEvent::Return { on }).await
}

/// The returned unit is looked over: any damage charge is recorded.
#[utoipa::path(
    post,
    path = "/rentals/{id}/inspection",
    tag = "rentals",
    params(("id" = String, Path, description = "The booking")),
    request_body = InspectionBody,
    responses(
        (status = 200, description = "The booking, inspected", body = BookingAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 404, description = "`booking_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`booking_state_conflict`: the booking is not returned", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn inspect_rental(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<BookingAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let raw: InspectionBody = parse_json(&body)?;
    let damage = match raw.damage.as_deref() {
        None => rust_decimal::Decimal::ZERO,
        Some(d) => decimal_field("damage", d)?,
    };
    let note = raw.note.unwrap_or_default();
    step(&state, caller, &id, RentalEvent::Inspect { damage, note }).await
}

/// The deposit is settled: back to the customer less the late fees and damage, never below
/// zero; what the charges come to beyond it is said as `owed`.
#[utoipa::path(
    post,
    path = "/rentals/{id}/settlement",
    tag = "rentals",
    params(("id" = String, Path, description = "The booking")),
    responses(
        (status = 200, description = "The booking, settled", body = BookingAnswer),
        (status = 404, description = "`booking_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`booking_state_conflict`: the booking is not inspected (or settled already)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn settle_rental(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<BookingAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    step(&state, caller, &id, RentalEvent::Settle).await
}

/// Cancel a booking before hand-over: its days are free again, in the same write.
#[utoipa::path(
    post,
    path = "/rentals/{id}/cancel",
    tag = "rentals",
    params(("id" = String, Path, description = "The booking")),
    responses(
        (status = 200, description = "The booking, cancelled", body = BookingAnswer),
        (status = 404, description = "`booking_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`booking_state_conflict`: handed over already (or cancelled)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.write` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]), ("bearer" = ["oms/storefront"]))
)]
async fn cancel_rental(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<BookingAnswer>, ApiError> {
    let caller =
        if caller.0.has(Scope::OrdersWrite) { caller.with(Scope::OrdersWrite)? } else { caller.with(Scope::Storefront)? };
    step(&state, caller, &id, RentalEvent::Cancel).await
}
