//! Group buys: offer one, see it, join it. The handlers parse and answer; the use cases
//! (`oms_domain::usecases::group_buys`) decide. Settling at the deadline is the sweeper's,
//! never a client's.
//!
//! The merchant (`oms/inventory.write`) creates its own offers and sees them
//! (`oms/orders.read`), with the warehouse its units are set aside in; joining is a
//! customer action through the merchant's storefront backend (`oms/storefront`, as
//! flash-sale claims), which sees the offer without the warehouse.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::group_buy::{GroupBuy, GroupBuyId, GroupBuyTerms, MAX_CAPACITY, MAX_UNITS_PER_BUYER};
use oms_domain::usecases::group_buys::{self as cases, GroupBuyView, NewJoin};
use oms_domain::validation::parse_json;
use oms_domain::{Currency, CustomerId, MerchantId, Sku, ValidationError};

use super::flash_sales::AddressBody;
use super::{decimal_field, AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_group_buy)).routes(routes!(get_group_buy)).routes(routes!(join_group_buy))
}

/// The body of `POST /group-buys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBuyBody {
    /// The merchant selling: the caller's own (platform staff name any).
    pub merchant_id: String,
    pub sku: String,
    /// The unit price every join's order carries, a decimal string above 0.
    pub price: String,
    /// ISO 4217 (default CNY).
    #[serde(default)]
    pub currency: Option<String>,
    /// Buyers needed for the group to fill: 1 to the capacity.
    pub min_group: i64,
    /// Most buyers: 1 to 10,000. The units of the whole capacity are set aside at once.
    pub capacity: i64,
    /// Units each buyer's join takes: 1 to 10 (default 1).
    #[serde(default)]
    pub units_per_buyer: Option<i64>,
    /// Joins are taken until before it: in the future, at most 31 days on.
    #[schema(value_type = String, format = DateTime)]
    pub deadline: DateTime<Utc>,
}

/// The body of `POST /group-buys/{id}/joins`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    pub customer_id: String,
    /// The client's key: the same key (or the same customer) again answers the first join.
    /// It may come as the `Idempotency-Key` header instead (both given: they must be the same).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Where the order ships once the group fills; without it the order waits on hold
    /// (`address_missing`).
    #[serde(default)]
    pub shipping_address: Option<AddressBody>,
}

/// A group buy: `POST /group-buys` (201) and `GET /group-buys/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupBuyAnswer {
    pub group_buy_id: String,
    pub merchant_id: String,
    pub sku: String,
    pub price: String,
    pub currency: String,
    pub min_group: u32,
    pub capacity: u32,
    pub units_per_buyer: u32,
    #[schema(value_type = String, format = DateTime)]
    pub deadline: DateTime<Utc>,
    /// `open`, `filled`, `closed` (filled, past its deadline) or `expired` (unfilled, past
    /// its deadline: every unit back, nobody charged).
    pub state: String,
    /// Buyers joined.
    pub joined: u32,
    /// Buyers still needed for the group to fill (0 once filled).
    pub needed: u32,
    /// Places not taken yet.
    pub places_left: u32,
    /// The warehouse the units are set aside in; shown to the merchant only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub warehouse_id: Option<String>,
    /// Once settled at the deadline: when, and the units given back to stock.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub settled_at: Option<DateTime<Utc>>,
    pub units_returned: Option<u32>,
}

impl GroupBuyAnswer {
    fn of(view: &GroupBuyView, merchant_view: bool) -> Self {
        let (o, t) = (&view.offer, &view.offer.terms);
        Self {
            group_buy_id: o.group_buy_id.to_string(),
            merchant_id: o.merchant_id.to_string(),
            sku: t.sku.to_string(),
            price: t.price.to_string(),
            currency: t.currency.code().to_owned(),
            min_group: t.min_group,
            capacity: t.capacity,
            units_per_buyer: t.units_per_buyer,
            deadline: t.deadline,
            state: view.status.state.as_str().to_owned(),
            joined: view.status.joined,
            needed: view.needed,
            places_left: t.capacity.saturating_sub(view.status.joined),
            warehouse_id: Some(o.warehouse.to_string()).filter(|_| merchant_view),
            settled_at: view.status.settled.map(|s| s.at),
            units_returned: view.status.settled.map(|s| s.units_returned),
        }
    }
}

/// A join: `POST /group-buys/{id}/joins` (201, the same for a repeated key or customer).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JoinAnswer {
    pub join_id: String,
    pub group_buy_id: String,
    pub customer_id: String,
    /// The join's order (channel `group_buy`, external id the join id, unpaid): made once
    /// the group fills; `ordered` says whether it is made yet.
    pub order_id: String,
    pub ordered: bool,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: DateTime<Utc>,
    /// The offer's state after this join.
    pub state: String,
    pub joined: u32,
    pub needed: u32,
    /// True when this answer is the first join's (same key, or same customer).
    pub repeated: bool,
}

fn whole(field: &str, value: i64, least: u32, most: u32) -> Result<u32, ValidationError> {
    u32::try_from(value)
        .ok()
        .filter(|v| (least..=most).contains(v))
        .ok_or_else(|| ValidationError::new(field, format!("must be a whole number from {least} to {most}, not {value}")))
}

fn parse_group_buy(body: &[u8], now: DateTime<Utc>) -> Result<(MerchantId, GroupBuyTerms), ValidationError> {
    let raw: GroupBuyBody = parse_json(body)?;
    let merchant = MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?;
    let sku = Sku::parse(raw.sku).map_err(|e| e.within("sku"))?;
    let currency = Currency::parse(raw.currency.as_deref().unwrap_or("CNY")).map_err(|e| e.within("currency"))?;
    let price = decimal_field("price", &raw.price)?;
    let price = oms_domain::money::check_price(price, currency).map_err(|e| e.within("price"))?;
    let capacity = whole("capacity", raw.capacity, 1, MAX_CAPACITY)?;
    let terms = GroupBuyTerms {
        sku,
        price,
        currency,
        min_group: whole("min_group", raw.min_group, 1, capacity)?,
        capacity,
        units_per_buyer: whole("units_per_buyer", raw.units_per_buyer.unwrap_or(1), 1, MAX_UNITS_PER_BUYER)?,
        deadline: raw.deadline,
    };
    Ok((merchant, terms.check(now)?))
}

fn parse_join(body: &[u8], header_key: Option<&str>) -> Result<NewJoin, ValidationError> {
    let raw: JoinBody = parse_json(body)?;
    let key = super::idempotency_key(raw.idempotency_key.as_deref(), header_key)?;
    Ok(NewJoin {
        customer_id: CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?,
        idempotency_key: key,
        shipping_address: raw.shipping_address.as_ref().map(super::flash_sales::parse_address).transpose()?,
    })
}

fn not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::GroupBuyNotFound, format!("no group buy {raw}"))
}

/// The offer a path names, when it is the caller's merchant's: an id that is not a group
/// buy id, or another merchant's offer, answers as not found.
async fn visible(state: &AppState, caller: &Caller, raw: &str) -> Result<GroupBuyView, ApiError> {
    let id = GroupBuyId::parse(raw).map_err(|_| not_found(raw))?;
    match cases::view_group_buy(&state.ports, &id).await? {
        Some(view) if caller.sees(&view.offer.merchant_id) => Ok(view),
        _ => Err(not_found(raw)),
    }
}

/// Offer a SKU at a group price: the units of the whole capacity are set aside from the
/// merchant's own stock in one warehouse now; when `min_group` buyers joined, every join
/// becomes an unpaid order at the group price; at the deadline an unfilled offer gives
/// every unit back and nobody is charged.
#[utoipa::path(
    post,
    path = "/group-buys",
    tag = "group-buys",
    request_body = GroupBuyBody,
    responses(
        (status = 201, description = "The offer, as its merchant sees it", body = GroupBuyAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or names another merchant than the caller's", body = ErrorBody),
        (status = 409, description = "`insufficient_stock` (field `capacity`): no warehouse holds the whole capacity of the merchant's own available units; nothing is stored", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`product_not_sellable`: the SKU's listing in the reviewed catalogue is not approved, not listed or not stocked; nothing is stored", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn create_group_buy(
    State(state): State<AppState>,
    caller: Authed,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<GroupBuyAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let (merchant, terms) = parse_group_buy(&body, state.ports.clock.now())?;
    if !caller.sees(&merchant) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this credential offers its own merchant's group buys only"));
    }
    let offer: GroupBuy = cases::create_group_buy(&state.ports, &merchant, terms).await?;
    let view =
        cases::view_group_buy(&state.ports, &offer.group_buy_id).await?.ok_or_else(|| not_found(offer.group_buy_id.as_str()))?;
    Ok((StatusCode::CREATED, Json(GroupBuyAnswer::of(&view, true))))
}

/// A group buy now: joined, needed, state and deadline. The merchant (`oms/orders.read`)
/// also sees the warehouse; a storefront (`oms/storefront`) does not.
#[utoipa::path(
    get,
    path = "/group-buys/{id}",
    tag = "group-buys",
    params(("id" = String, Path, description = "The group buy")),
    responses(
        (status = 200, description = "The offer now", body = GroupBuyAnswer),
        (status = 404, description = "`group_buy_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn get_group_buy(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<GroupBuyAnswer>, ApiError> {
    let (caller, merchant_view) = super::reader(caller)?;
    let view = visible(&state, &caller, &id).await?;
    Ok(Json(GroupBuyAnswer::of(&view, merchant_view)))
}

/// Join a group buy: one conditional write, never past the capacity. The join that fills
/// the group turns every join into an unpaid order at the group price (channel
/// `group_buy`); a join after filling becomes its order at once.
#[utoipa::path(
    post,
    path = "/group-buys/{id}/joins",
    tag = "group-buys",
    params(
        ("id" = String, Path, description = "The group buy"),
        ("Idempotency-Key" = Option<String>, Header, description = "The join's idempotency key, when the body has none"),
    ),
    request_body = JoinBody,
    responses(
        (status = 201, description = "The join (the same answer for the same idempotency key or customer)", body = JoinAnswer),
        (status = 400, description = "`invalid_request`, naming the field (also a key another customer used)", body = ErrorBody),
        (status = 404, description = "`group_buy_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`group_buy_full`: every place is taken; nothing stored", body = ErrorBody),
        (status = 410, description = "`not_active`: past the deadline, or settled", body = ErrorBody),
        (status = 428, description = "`proof_required`: the deployment asks for a proof of work (`X-Proof-Of-Work`) and it is missing or does not solve the challenge the message names", body = ErrorBody),
        (status = 429, description = "`rate_limited`: this customer sent this group buy too many joins this second (`Retry-After`)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn join_group_buy(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<JoinAnswer>), ApiError> {
    // The merchant's storefront backend vouches for the customer id it passes.
    let caller = caller.with(Scope::Storefront)?;
    let view = visible(&state, &caller, &id).await?;
    let header_key = super::header_key(&headers)?;
    let new = parse_join(&body, header_key)?;
    let nonce = crate::admission::nonce_of(&headers);
    state.admission.admit(view.offer.group_buy_id.as_str(), new.customer_id.as_str(), nonce, state.ports.clock.now())?;
    let joined = cases::join_group_buy(&state.ports, &view.offer.group_buy_id, new).await?;
    let now = cases::view_group_buy(&state.ports, &view.offer.group_buy_id).await?.ok_or_else(|| not_found(&id))?;
    let ordered = state.ports.orders.get_order(&joined.join.order_id).await?.is_some();
    let j = joined.join;
    Ok((
        StatusCode::CREATED,
        Json(JoinAnswer {
            join_id: j.join_id.to_string(),
            group_buy_id: j.group_buy_id.to_string(),
            customer_id: j.customer_id.to_string(),
            order_id: j.order_id.to_string(),
            ordered,
            joined_at: j.joined_at,
            state: now.status.state.as_str().to_owned(),
            joined: now.status.joined,
            needed: now.needed,
            repeated: joined.repeated,
        }),
    ))
}
