//! Flash sales: create a sale, claim units of it, and see it. The handlers parse and
//! answer; the use cases (`oms_domain::usecases::flash_sales`) decide.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::flash_sale::{IdempotencyKey, SaleId, SaleTerms, MAX_PER_CUSTOMER, MAX_SHARDS, MAX_UNITS};
use oms_domain::order::{Address, AddressParts};
use oms_domain::usecases::flash_sales::{self as cases, Claimed, NewClaim, SaleView};
use oms_domain::validation::parse_json;
use oms_domain::{Currency, CustomerId, MerchantId, Sku, ValidationError};

use super::{AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_sale)).routes(routes!(claim)).routes(routes!(get_sale)).routes(routes!(end_sale))
}

/// Shards a sale gets when the body names none.
const DEFAULT_SHARDS: u32 = 16;

/// The body of `POST /flash-sales`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleBody {
    /// The merchant selling: the caller's own (platform staff name any).
    pub merchant_id: String,
    pub sku: String,
    /// Units offered, 1 to 1,000,000; set aside from the merchant's available stock.
    pub units: i64,
    /// Most units one customer may claim, 1 to 100.
    pub per_customer_limit: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, at most 31 days later.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    /// Shard records the units are split over, 1 to 200 and at most the units (default 16).
    #[serde(default)]
    pub shards: Option<i64>,
    /// The unit price of the claims' orders, a decimal string (default "0").
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub price: Option<String>,
    /// ISO 4217 (default CNY).
    #[serde(default)]
    pub currency: Option<String>,
}

/// A shipping address, as in a generic order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub name: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

/// The body of `POST /flash-sales/{id}/claims`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    pub customer_id: String,
    /// Units claimed, 1 to the sale's per-customer limit.
    pub quantity: i64,
    /// The client's key: the same key again answers the first claim.
    pub idempotency_key: String,
    /// Where the order ships; without it the order waits on hold (`address_missing`).
    #[serde(default)]
    pub shipping_address: Option<AddressBody>,
}

/// A sale: `POST /flash-sales` (201) and `GET /flash-sales/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SaleAnswer {
    pub sale_id: String,
    pub merchant_id: String,
    pub sku: String,
    /// `scheduled`, `active`, `sold_out` or `ended`.
    pub state: String,
    pub units: u32,
    pub units_left: u64,
    pub units_claimed: u64,
    /// Claims made (each with its order).
    pub claims: u64,
    pub per_customer_limit: u32,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    pub shards: u32,
    /// A decimal string.
    pub price: String,
    pub currency: String,
    /// Once the sale ended and was closed: the units it had left, given back to available
    /// stock (`units_left` is then 0); `null` until then.
    pub units_returned: Option<u64>,
    /// When the sale was closed (its leftover units back in stock); `null` until then.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<SaleView> for SaleAnswer {
    fn from(view: SaleView) -> Self {
        let terms = &view.sale.terms;
        Self {
            sale_id: view.sale.sale_id.to_string(),
            merchant_id: view.sale.merchant_id.to_string(),
            sku: terms.sku.to_string(),
            state: view.state.as_str().to_owned(),
            units: terms.units,
            units_left: view.units_left,
            units_claimed: view.units_claimed,
            claims: view.claims,
            per_customer_limit: terms.per_customer_limit,
            starts_at: terms.starts_at,
            ends_at: terms.ends_at,
            shards: terms.shards,
            price: terms.price.to_string(),
            currency: terms.currency.code().to_owned(),
            units_returned: view.closing.map(|c| c.units_returned),
            closed_at: view.closing.map(|c| c.closed_at),
        }
    }
}

/// A claim made: `POST /flash-sales/{id}/claims` (201, the same for a repeated key).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimAnswer {
    pub claim_id: String,
    pub quantity: u32,
    /// The order the claim made (channel `flash_sale`).
    pub order_id: String,
    pub sale_id: String,
    pub customer_id: String,
}

impl From<Claimed> for ClaimAnswer {
    fn from(claimed: Claimed) -> Self {
        let c = claimed.claim;
        Self {
            claim_id: c.claim_id.to_string(),
            quantity: c.quantity,
            order_id: c.order_id.to_string(),
            sale_id: c.sale_id.to_string(),
            customer_id: c.customer_id.to_string(),
        }
    }
}

/// A count from the body within `1..=max`, naming the field otherwise.
fn count(field: &str, value: i64, max: u32) -> Result<u32, ValidationError> {
    u32::try_from(value)
        .ok()
        .filter(|v| (1..=max).contains(v))
        .ok_or_else(|| ValidationError::new(field, format!("must be a whole number from 1 to {max}, not {value}")))
}

fn parse_sale(body: &[u8]) -> Result<(MerchantId, SaleTerms), ValidationError> {
    let raw: SaleBody = parse_json(body)?;
    let merchant = MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?;
    let sku = Sku::parse(raw.sku).map_err(|e| e.within("sku"))?;
    let currency = Currency::parse(raw.currency.as_deref().unwrap_or("CNY")).map_err(|e| e.within("currency"))?;
    let price = match raw.price.as_deref() {
        None => Default::default(),
        Some(price) => oms_domain::money::parse_price(price, currency).map_err(|e| e.within("price"))?,
    };
    let units = count("units", raw.units, MAX_UNITS)?;
    let terms = SaleTerms {
        sku,
        units,
        per_customer_limit: count("per_customer_limit", raw.per_customer_limit, MAX_PER_CUSTOMER)?,
        starts_at: raw.starts_at,
        ends_at: raw.ends_at,
        shards: count("shards", raw.shards.unwrap_or(i64::from(DEFAULT_SHARDS.min(units))), MAX_SHARDS)?,
        price,
        currency,
    };
    Ok((merchant, terms.check()?))
}

pub(super) fn parse_address(a: &AddressBody) -> Result<Address, ValidationError> {
    Address::parse(AddressParts {
        name: a.name.as_deref(),
        line1: a.line1.as_deref(),
        line2: a.line2.as_deref(),
        city: a.city.as_deref(),
        province: a.province.as_deref(),
        postal_code: a.postal_code.as_deref(),
        country: a.country.as_deref(),
    })
    .map_err(|e| e.within("shipping_address"))
}

fn parse_claim(body: &[u8]) -> Result<NewClaim, ValidationError> {
    let raw: ClaimBody = parse_json(body)?;
    Ok(NewClaim {
        customer_id: CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?,
        quantity: count("quantity", raw.quantity, MAX_PER_CUSTOMER)?,
        idempotency_key: IdempotencyKey::parse(raw.idempotency_key).map_err(|e| e.within("idempotency_key"))?,
        shipping_address: raw.shipping_address.as_ref().map(parse_address).transpose()?,
    })
}

/// The sale a path names; an id that is not a sale id names no sale.
fn sale_id(raw: String) -> Result<SaleId, ApiError> {
    SaleId::parse(&raw).map_err(|_| ApiError::new(ErrorCode::FlashSaleNotFound, format!("no flash sale {raw}")))
}

/// The sale, when it is the caller's merchant's: another merchant's answers as not found.
/// (Its terms never change, so the stores answer this from a cache.)
async fn visible_sale(state: &AppState, caller: &Caller, id: &SaleId) -> Result<(), ApiError> {
    match state.ports.flash_sales.get_sale(id).await? {
        Some(sale) if caller.sees(&sale.merchant_id) => Ok(()),
        _ => Err(ApiError::new(ErrorCode::FlashSaleNotFound, format!("no flash sale {id}"))),
    }
}

async fn view(state: &AppState, id: &SaleId) -> Result<SaleAnswer, ApiError> {
    let view = cases::view_sale(&state.ports, id).await?;
    view.map(SaleAnswer::from).ok_or_else(|| ApiError::new(ErrorCode::FlashSaleNotFound, format!("no flash sale {id}")))
}

/// Create a flash sale: its units are set aside from the merchant's available stock of the
/// SKU (across its warehouses) and split over shards.
#[utoipa::path(
    post,
    path = "/flash-sales",
    tag = "flash-sales",
    request_body = SaleBody,
    responses(
        (status = 201, description = "The sale, its units set aside", body = SaleAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 409, description = "`insufficient_stock`: the merchant has fewer units available; nothing is stored", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or names another merchant than the caller's", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`product_not_sellable`: the SKU's listing in the reviewed catalogue is not approved, not listed or not stocked; nothing is stored", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn create_sale(
    State(state): State<AppState>,
    caller: Authed,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<SaleAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let (merchant, terms) = parse_sale(&body)?;
    if !caller.sees(&merchant) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this credential sells its own merchant's stock only"));
    }
    let sale = cases::create_sale(&state.ports, &merchant, terms).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &sale.sale_id).await?)))
}

/// Claim units of a flash sale. One atomic write takes the units from a shard, counts them
/// against the customer's limit and makes the order.
#[utoipa::path(
    post,
    path = "/flash-sales/{id}/claims",
    tag = "flash-sales",
    params(("id" = String, Path, description = "The sale")),
    request_body = ClaimBody,
    responses(
        (status = 201, description = "The claim and its order (the same answer for the same idempotency key)", body = ClaimAnswer),
        (status = 400, description = "`invalid_request`, naming the field (also a key another customer used)", body = ErrorBody),
        (status = 404, description = "`flash_sale_not_found`", body = ErrorBody),
        (status = 409, description = "`sold_out`", body = ErrorBody),
        (status = 410, description = "`not_active`: before the start or after the end", body = ErrorBody),
        (status = 428, description = "`proof_required`: the deployment asks for a proof of work (`X-Proof-Of-Work`) and it is missing or does not solve the challenge the message names", body = ErrorBody),
        (status = 429, description = "`limit_exceeded`: past the per-customer limit (permanent; not throttling)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn claim(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ClaimAnswer>), ApiError> {
    // The merchant's storefront backend vouches for the customer id it passes.
    let caller = caller.with(Scope::Storefront)?;
    let id = sale_id(id)?;
    visible_sale(&state, &caller, &id).await?;
    let new = parse_claim(&body)?;
    let nonce = crate::admission::nonce_of(&headers);
    state.admission.admit(id.as_str(), new.customer_id.as_str(), nonce, state.ports.clock.now())?;
    let claimed = cases::claim(&state.ports, &id, new).await?;
    Ok((StatusCode::CREATED, Json(claimed.into())))
}

/// A flash sale: units left and claimed, claims made, and its state.
#[utoipa::path(
    get,
    path = "/flash-sales/{id}",
    tag = "flash-sales",
    params(("id" = String, Path, description = "The sale")),
    responses(
        (status = 200, description = "The sale now", body = SaleAnswer),
        (status = 404, description = "`flash_sale_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn get_sale(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<SaleAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let id = sale_id(id)?;
    visible_sale(&state, &caller, &id).await?;
    Ok(Json(view(&state, &id).await?))
}

/// End a flash sale now, before its end: it takes no claim from now on, and it is closed
/// as the sweeper closes a sale that ended (its unclaimed units back to available stock,
/// once). Ending a sale that has ended already changes nothing (it is closed if it was
/// not yet). Answers the sale as `GET /flash-sales/{id}` does.
#[utoipa::path(
    post,
    path = "/flash-sales/{id}/end",
    tag = "flash-sales",
    params(("id" = String, Path, description = "The sale")),
    responses(
        (status = 200, description = "The sale, ended and closed (the same for a sale ended before)", body = SaleAnswer),
        (status = 404, description = "`flash_sale_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn end_sale(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<SaleAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let id = sale_id(id)?;
    visible_sale(&state, &caller, &id).await?;
    let view = cases::end_sale(&state.ports, &id).await?;
    Ok(Json(view.into()))
}
