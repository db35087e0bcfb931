//! Warehouses and stock counts.

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::ledger::{Adjustment, MAX_REASON_CHARS};
use oms_domain::ports::{PutWarehouse, MAX_PAGE_SIZE};
use oms_domain::stock::{self, Warehouse};
use oms_domain::usecases::inventory as inventory_cases;
use oms_domain::validation::parse_json;
use oms_domain::{MerchantId, Sku, ValidationError, WarehouseId};

use super::{AppState, PathParams, RawBody};
use crate::answers::{AdjustmentAnswer, LedgerAnswer, StockAnswer, StockLevelAnswer, WarehouseAnswer};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_warehouse))
        .routes(routes!(set_on_hand))
        .routes(routes!(stock_of))
        .routes(routes!(adjust_stock))
        .routes(routes!(stock_ledger))
}

/// The body of `PUT /warehouses/{id}`: every field required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WarehouseBody {
    /// 1 to 200 characters.
    pub name: String,
    pub merchant_id: String,
    /// 1 to 200 characters.
    pub province: String,
    /// 1 to 200 characters.
    pub city: String,
    /// Degrees, -90 to 90.
    pub lat: f64,
    /// Degrees, -180 to 180.
    pub lon: f64,
    /// The provinces of China it ships to (English or Chinese names); everywhere when
    /// left out or empty. Allocation never plans a shipment from it to anywhere else.
    #[serde(default)]
    pub serves: Vec<String>,
}

impl WarehouseBody {
    /// Parses the body and checks it by the domain's rules for the warehouse `id`.
    fn parse(id: &str, body: &[u8]) -> Result<Warehouse, ValidationError> {
        let raw: WarehouseBody = parse_json(body)?;
        let warehouse_id = WarehouseId::parse(id).map_err(|e| e.within("warehouse_id"))?;
        let merchant_id = MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?;
        Warehouse::new(warehouse_id, &raw.name, merchant_id, &raw.province, &raw.city, raw.lat, raw.lon)?.serving(&raw.serves)
    }
}

/// The body of `PUT /inventory/{warehouse}/{sku}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OnHandBody {
    /// Units on hand, from 0 to 100,000,000.
    pub on_hand: i64,
    /// The merchant who owns the units counted (a shared warehouse holds several
    /// merchants' stock side by side); by default the warehouse's own merchant.
    #[serde(default)]
    pub merchant_id: Option<String>,
}

/// A stock count as `PUT /inventory` gives it: how many units, and whose (`None`: the
/// warehouse's merchant).
#[derive(Debug, Clone, PartialEq, Eq)]
struct OnHand {
    on_hand: u32,
    owner: Option<MerchantId>,
}

impl OnHandBody {
    fn parse(body: &[u8]) -> Result<OnHand, ValidationError> {
        let raw: OnHandBody = parse_json(body)?;
        let owner = raw.merchant_id.map(MerchantId::parse).transpose().map_err(|e| e.within("merchant_id"))?;
        Ok(OnHand { on_hand: stock::check_on_hand(raw.on_hand)?, owner })
    }
}

/// Register or update a warehouse.
#[utoipa::path(
    put,
    path = "/warehouses/{id}",
    tag = "inventory",
    params(("id" = String, Path, description = "The warehouse's id")),
    request_body = WarehouseBody,
    responses(
        (status = 200, description = "The warehouse as registered", body = WarehouseAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or the body names another merchant than the caller's", body = ErrorBody),
        (status = 404, description = "`unknown_warehouse`: the id is another merchant's warehouse", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn put_warehouse(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<WarehouseAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let warehouse = WarehouseBody::parse(&id, &body)?;
    if !caller.sees(&warehouse.merchant_id) {
        return Err(acts_for_another(&caller));
    }
    // Registering another merchant's warehouse id would take it over: the store refuses
    // it in the same write (a platform caller's body names the owner it keeps).
    if inventory_cases::put_warehouse(&state.ports, &warehouse).await? == PutWarehouse::OwnedByAnother {
        return Err(unknown_warehouse(&warehouse.warehouse_id));
    }
    Ok(Json(warehouse.into()))
}

/// Set the on-hand count of a merchant's SKU in a warehouse (a sync from a WMS); the
/// warehouse's own merchant unless the body names another.
#[utoipa::path(
    put,
    path = "/inventory/{warehouse}/{sku}",
    tag = "inventory",
    params(
        ("warehouse" = String, Path, description = "A registered warehouse"),
        ("sku" = String, Path, description = "The SKU counted"),
    ),
    request_body = OnHandBody,
    responses(
        (status = 200, description = "The owner's counts of the SKU in that warehouse now", body = StockLevelAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or a merchant's staff count another merchant's units", body = ErrorBody),
        (status = 404, description = "`unknown_warehouse` (also another merchant's warehouse)", body = ErrorBody),
        (status = 409, description = "`below_reserved`: on hand cannot go below what is reserved of the owner's units", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn set_on_hand(
    State(state): State<AppState>,
    caller: Authed,
    PathParams((warehouse, sku)): PathParams<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Json<StockLevelAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let warehouse = WarehouseId::parse(warehouse).map_err(|e| e.within("warehouse"))?;
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    let count = OnHandBody::parse(&body)?;
    let level =
        inventory_cases::set_on_hand(&state.ports, &caller, &warehouse, count.owner.as_ref(), &sku, count.on_hand).await?;
    Ok(Json(level.into()))
}

/// On hand, reserved and available per warehouse and owner; with consignment, the owner
/// sees who may sell its units and a seller sees the units others let it sell.
#[utoipa::path(
    get,
    path = "/inventory/{sku}",
    tag = "inventory",
    params(("sku" = String, Path, description = "The SKU")),
    responses(
        (status = 200, description = "The SKU's counts of every owner in every warehouse that has counted it or has units of it on an open purchase order, with those `incoming` units and the earliest `expected_at`", body = StockAnswer),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
        (status = 404, description = "`sku_not_found`: no warehouse has stock records of the caller's for it", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn stock_of(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(sku): PathParams<String>,
) -> Result<Json<StockAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    // A merchant's staff see the units their merchant owns, wherever they lie (with the
    // merchants that may sell them on consignment), and other merchants' units they may
    // sell on consignment; and their own units still to come on purchase orders.
    let views = oms_domain::usecases::consignments::stock_view(&state.ports, &caller, &sku).await?;
    let incoming = oms_domain::usecases::supply::incoming(&state.ports, &caller, &sku).await?;
    if views.is_empty() && incoming.is_empty() {
        return Err(ApiError::new(ErrorCode::SkuNotFound, format!("no warehouse has stock records for {sku}")));
    }
    Ok(Json(StockAnswer::seen(sku, views).add_incoming(&incoming)))
}

/// The body of `POST /inventory/{warehouse}/{sku}/adjustments`: a `delta` with its
/// `reason`, or a `count` taken at `as_of`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentBody {
    /// Units on hand gained (positive) or lost (negative), not 0; with `reason`.
    #[serde(default)]
    pub delta: Option<i64>,
    /// Units counted at `as_of` (0 to 100,000,000): on hand becomes this plus what the
    /// ledger moved on hand since `as_of`.
    #[serde(default)]
    pub count: Option<i64>,
    /// RFC 3339: when the count was taken; not in the future.
    #[serde(default)]
    pub as_of: Option<String>,
    /// Why (1 to 200 characters); required with a delta.
    #[serde(default)]
    pub reason: Option<String>,
    /// The merchant who owns the units; by default the warehouse's own merchant.
    #[serde(default)]
    pub merchant_id: Option<String>,
}

impl AdjustmentBody {
    fn parse(body: &[u8], now: chrono::DateTime<chrono::Utc>) -> Result<(Adjustment, Option<MerchantId>), ValidationError> {
        let raw: AdjustmentBody = parse_json(body)?;
        let owner = raw.merchant_id.map(MerchantId::parse).transpose().map_err(|e| e.within("merchant_id"))?;
        let reason = raw.reason.map(|r| r.trim().to_owned());
        if let Some(reason) = &reason {
            if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
                return Err(ValidationError::new("reason", format!("must be 1 to {MAX_REASON_CHARS} characters")));
            }
        }
        let adjustment = match (raw.delta, raw.count, raw.as_of) {
            (Some(delta), None, None) => {
                let bound = i64::from(stock::MAX_ON_HAND);
                if delta == 0 || !(-bound..=bound).contains(&delta) {
                    return Err(ValidationError::new(
                        "delta",
                        format!("must be from -{bound} to {bound} and not 0, got {delta}"),
                    ));
                }
                let reason = reason.ok_or_else(|| ValidationError::new("reason", "is required with a delta"))?;
                Adjustment::Delta { delta, reason }
            }
            (None, Some(count), Some(as_of)) => {
                let count = stock::check_on_hand(count).map_err(|e| ValidationError::new("count", e.message))?;
                let as_of = chrono::DateTime::parse_from_rfc3339(as_of.trim())
                    .map_err(|e| ValidationError::new("as_of", format!("is not an RFC 3339 time: {e}")))?
                    .with_timezone(&chrono::Utc);
                if as_of > now {
                    return Err(ValidationError::new("as_of", "must not be in the future"));
                }
                Adjustment::CountAsOf { count, as_of, reason: reason.unwrap_or_else(|| "counted".to_owned()) }
            }
            (None, Some(_), None) => return Err(ValidationError::new("as_of", "is required with a count")),
            (None, None, Some(_)) => return Err(ValidationError::new("count", "is required with as_of")),
            (None, None, None) => return Err(ValidationError::new("delta", "give a delta, or a count with as_of")),
            (Some(_), _, _) => return Err(ValidationError::new("delta", "give a delta or a count, not both")),
        };
        Ok((adjustment, owner))
    }
}

/// Adjust the on-hand units of a merchant's SKU in a warehouse: a delta with its reason
/// (damaged, found), or a count taken at a moment (on hand becomes the count plus the
/// ledger's on-hand movements since that moment, so shipments and receipts made after the
/// count are kept). Written with its stock ledger entry in one write.
#[utoipa::path(
    post,
    path = "/inventory/{warehouse}/{sku}/adjustments",
    tag = "inventory",
    params(
        ("warehouse" = String, Path, description = "A registered warehouse"),
        ("sku" = String, Path, description = "The SKU adjusted"),
    ),
    request_body = AdjustmentBody,
    responses(
        (status = 200, description = "The owner's counts now and the ledger entry written", body = AdjustmentAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or a merchant's staff adjust another merchant's units", body = ErrorBody),
        (status = 404, description = "`unknown_warehouse` (also another merchant's warehouse)", body = ErrorBody),
        (status = 409, description = "`newer_count`: a count of this stock was recorded after `as_of`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`below_held`: on hand would fall below the units held", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn adjust_stock(
    State(state): State<AppState>,
    caller: Authed,
    PathParams((warehouse, sku)): PathParams<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Json<AdjustmentAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let warehouse = WarehouseId::parse(warehouse).map_err(|e| e.within("warehouse"))?;
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    let (adjustment, owner) = AdjustmentBody::parse(&body, state.ports.clock.now())?;
    let (level, entry) = inventory_cases::adjust(&state.ports, &caller, &warehouse, owner.as_ref(), &sku, &adjustment).await?;
    Ok(Json(AdjustmentAnswer { stock: level.into(), entry: entry.into() }))
}

/// The query string of `GET /inventory/{sku}/ledger?limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LedgerFilter {
    /// Entries per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// The `next` of the page before.
    cursor: Option<String>,
}

/// The SKU's stock ledger, oldest first, a page at a time: every reserve, release, expiry,
/// shipment, receipt, count, adjustment and flash-sale set-aside of its stock (a merchant's
/// staff: of their merchant's units only).
#[utoipa::path(
    get,
    path = "/inventory/{sku}/ledger",
    tag = "inventory",
    params(("sku" = String, Path, description = "The SKU"), LedgerFilter),
    responses(
        (status = 200, description = "One page of entries and the cursor of the next (`null` on the last)", body = LedgerAnswer),
        (status = 400, description = "`invalid_request`: a bad limit or cursor", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn stock_ledger(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(sku): PathParams<String>,
    filter: Result<Query<LedgerFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<LedgerAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let limit = match given(&filter.limit) {
        None => DEFAULT_LEDGER_PAGE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| ValidationError::new("limit", format!("{raw:?} is not a page size from 1 to {MAX_PAGE_SIZE}")))?,
    };
    let cursor = given(&filter.cursor).map(|raw| oms_domain::ledger::parse_entry_id(&raw)).transpose()?;
    let page = inventory_cases::ledger(&state.ports, &caller, &sku, cursor.as_deref(), limit).await?;
    Ok(Json(page.into()))
}

/// Entries a ledger page holds when no limit is given.
const DEFAULT_LEDGER_PAGE: usize = 50;

fn unknown_warehouse(id: &WarehouseId) -> ApiError {
    ApiError::new(ErrorCode::UnknownWarehouse, format!("no warehouse {id}"))
}

pub(super) fn acts_for_another(caller: &Caller) -> ApiError {
    let own = caller.merchant_id().map_or_else(String::new, ToString::to_string);
    ApiError::new(ErrorCode::Forbidden, format!("this credential acts for merchant {own} only"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warehouse_body_is_checked_naming_the_field() {
        let body = |lat: f64, merchant: &str| {
            serde_json::json!({"name": "West", "merchant_id": merchant, "province": "Zhejiang", "city": "Hangzhou",
                               "lat": lat, "lon": 120.0})
            .to_string()
        };
        let wh = WarehouseBody::parse("wh-1", body(30.0, "m-1").as_bytes()).unwrap();
        assert_eq!((wh.warehouse_id.as_str(), wh.merchant_id.as_str()), ("wh-1", "m-1"));
        assert_eq!(WarehouseBody::parse("wh-1", body(91.0, "m-1").as_bytes()).unwrap_err().field, "lat");
        assert_eq!(WarehouseBody::parse("wh-1", body(30.0, " ").as_bytes()).unwrap_err().field, "merchant_id");
        assert_eq!(WarehouseBody::parse(" ", body(30.0, "m-1").as_bytes()).unwrap_err().field, "warehouse_id");
        let serving = r#"{"name": "W", "merchant_id": "m-1", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.0,
                           "lon": 120.0, "serves": ["Zhejiang", "上海"]}"#;
        assert_eq!(WarehouseBody::parse("wh-1", serving.as_bytes()).unwrap().serves, ["Zhejiang", "Shanghai"]);
        let unknown = br#"{"name": "W", "merchant_id": "m-1", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.0,
                           "lon": 120.0, "serves": ["Mars"]}"#;
        assert_eq!(WarehouseBody::parse("wh-1", unknown).unwrap_err().field, "serves[0]");
        assert_eq!(
            WarehouseBody::parse("wh-1", br#"{"name": "x"}"#).unwrap_err().field,
            "merchant_id",
            "the missing field named"
        );
    }

    #[test]
    fn an_adjustment_body_is_a_delta_with_a_reason_or_a_count_as_of_a_past_moment() {
        let now = chrono::Utc::now();
        let field = |body: &str| AdjustmentBody::parse(body.as_bytes(), now).unwrap_err().field;
        let (delta, owner) = AdjustmentBody::parse(br#"{"delta": -3, "reason": "damaged"}"#, now).unwrap();
        assert_eq!((delta, owner), (Adjustment::Delta { delta: -3, reason: "damaged".into() }, None));
        let (count, _) = AdjustmentBody::parse(br#"{"count": 40, "as_of": "2026-11-20T10:00:00Z"}"#, now).unwrap();
        assert!(matches!(count, Adjustment::CountAsOf { count: 40, .. }));
        assert_eq!(field(r#"{"delta": -3}"#), "reason");
        assert_eq!(field(r#"{"delta": 0, "reason": "x"}"#), "delta");
        assert_eq!(field(r#"{"delta": 100000001, "reason": "x"}"#), "delta");
        assert_eq!(field(r#"{"delta": "3", "reason": "x"}"#), "delta");
        assert_eq!(field(r#"{"delta": 1, "reason": " "}"#), "reason");
        assert_eq!(field(r#"{"count": 40}"#), "as_of");
        assert_eq!(field(r#"{"count": -1, "as_of": "2026-11-20T10:00:00Z"}"#), "count");
        assert_eq!(field(r#"{"count": 1, "as_of": "yesterday"}"#), "as_of");
        assert_eq!(field(r#"{"count": 1, "as_of": "2999-01-01T00:00:00Z"}"#), "as_of");
        assert_eq!(field(r#"{"delta": 1, "count": 1, "reason": "x"}"#), "delta");
        assert_eq!(field(r#"{}"#), "delta");
        assert!(AdjustmentBody::parse(br#"{"delta": 1, "reason": "x", "colour": 1}"#, now).is_err());
    }

    #[test]
    fn an_on_hand_body_is_a_count_within_bounds_and_an_optional_owner() {
        assert_eq!(OnHandBody::parse(br#"{"on_hand": 5}"#), Ok(OnHand { on_hand: 5, owner: None }));
        let owned = OnHandBody::parse(br#"{"on_hand": 5, "merchant_id": "m-2"}"#);
        assert_eq!(owned, Ok(OnHand { on_hand: 5, owner: Some(MerchantId::parse("m-2").unwrap()) }));
        assert_eq!(OnHandBody::parse(br#"{"on_hand": 5, "merchant_id": " "}"#).unwrap_err().field, "merchant_id");
        assert_eq!(OnHandBody::parse(br#"{"on_hand": 5, "merchant_id": 7}"#).unwrap_err().field, "merchant_id");
        let err = OnHandBody::parse(br#"{"on_hand": -1}"#).unwrap_err();
        assert_eq!((err.field.as_str(), err.message.as_str()), ("on_hand", "must be from 0 to 100000000, got -1"));
        assert_eq!(OnHandBody::parse(br#"{"on_hand": "5"}"#).unwrap_err().field, "on_hand");
        assert!(OnHandBody::parse(b"[5]").is_err());
    }
}
