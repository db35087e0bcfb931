//! Consignment grants: a merchant lets another sell its stock in named warehouses at a
//! transfer price (`oms_domain::consignment`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::consignment::{Consignment, ConsignmentTerms, Role};
use oms_domain::ports::MAX_PAGE_SIZE;
use oms_domain::usecases::consignments as cases;
use oms_domain::validation::parse_json;
use oms_domain::{ConsignmentId, Currency, MerchantId, Money, Sku, ValidationError, WarehouseId};

use super::inventory::acts_for_another;
use super::{decimal_field, AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_consignment, get_consignment, revoke_consignment)).routes(routes!(list_consignments))
}

/// The body of `PUT /consignments/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsignmentBody {
    /// The merchant whose stock is sold: the caller's own merchant (platform staff: any).
    pub owner: String,
    /// The merchant whose orders may take it; not the owner.
    pub seller: String,
    /// The warehouses (registered) where the owner's units may be sold: 1 to 100, each once.
    pub warehouses: Vec<String>,
    /// The SKUs that may be sold (1 to 500, each once); left out: every SKU.
    #[serde(default)]
    pub skus: Option<Vec<String>>,
    /// Per unit, whatever the SKU: what the seller owes the owner. One price per grant; a
    /// merchant with different prices per SKU gives one grant per price.
    pub transfer_price: PriceBody,
}

/// An amount per unit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBody {
    /// A decimal string, not negative (`"12.50"`).
    pub amount: String,
    /// ISO 4217 (`"CNY"`).
    pub currency: String,
}

impl From<oms_domain::Money> for PriceBody {
    /// The amount as given: never rounded, and with at least the currency's minor digits
    /// (`"12.50"`, `"9.999"`).
    fn from(price: oms_domain::Money) -> Self {
        let digits = (price.amount.scale() as usize).max(price.currency.minor_digits() as usize);
        PriceBody { amount: format!("{:.digits$}", price.amount), currency: price.currency.to_string() }
    }
}

impl ConsignmentBody {
    fn parse(body: &[u8]) -> Result<ConsignmentTerms, ValidationError> {
        let raw: ConsignmentBody = parse_json(body)?;
        let owner = MerchantId::parse(raw.owner).map_err(|e| e.within("owner"))?;
        let seller = MerchantId::parse(raw.seller).map_err(|e| e.within("seller"))?;
        let warehouses = raw
            .warehouses
            .into_iter()
            .enumerate()
            .map(|(i, w)| WarehouseId::parse(w).map_err(|e| e.within(&format!("warehouses[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        let skus = raw
            .skus
            .map(|skus| {
                skus.into_iter()
                    .enumerate()
                    .map(|(i, s)| Sku::parse(s).map_err(|e| e.within(&format!("skus[{i}]"))))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let currency = Currency::parse(&raw.transfer_price.currency).map_err(|e| e.within("transfer_price.currency"))?;
        let amount = decimal_field("transfer_price.amount", &raw.transfer_price.amount)?;
        ConsignmentTerms::new(owner, seller, warehouses, skus, Money { amount, currency })
    }
}

/// A grant as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsignmentAnswer {
    pub consignment_id: String,
    pub owner: String,
    pub seller: String,
    pub warehouses: Vec<String>,
    /// Absent: every SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skus: Option<Vec<String>>,
    pub transfer_price: PriceBody,
    /// Revoked grants are kept; allocation uses active ones only.
    pub active: bool,
    /// 1 when first stored, one more with every change.
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Consignment> for ConsignmentAnswer {
    fn from(c: Consignment) -> Self {
        Self {
            consignment_id: c.consignment_id.to_string(),
            owner: c.terms.owner.to_string(),
            seller: c.terms.seller.to_string(),
            warehouses: c.terms.warehouses.iter().map(ToString::to_string).collect(),
            skus: c.terms.skus.map(|skus| skus.iter().map(ToString::to_string).collect()),
            transfer_price: c.terms.transfer_price.into(),
            active: !c.revoked,
            version: c.version,
            updated_at: c.updated_at,
        }
    }
}

/// A page of grants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsignmentsAnswer {
    pub consignments: Vec<ConsignmentAnswer>,
    /// The `cursor` of the next page; `null` on the last.
    pub next: Option<String>,
}

fn id_of(raw: String) -> Result<ConsignmentId, ValidationError> {
    ConsignmentId::parse(raw).map_err(|e| e.within("consignment_id"))
}

/// Grant (or change, or grant again after a revoke) the right to sell the owner's stock in
/// the named warehouses at a transfer price. The same body again answers the grant as it
/// is (200, same version); other terms write the next version.
#[utoipa::path(
    put,
    path = "/consignments/{id}",
    tag = "consignments",
    params(("id" = String, Path, description = "The grant's id, chosen by the owner")),
    request_body = ConsignmentBody,
    responses(
        (status = 201, description = "The grant, created", body = ConsignmentAnswer),
        (status = 200, description = "The grant, unchanged (the same body again) or changed (its version bumped)", body = ConsignmentAnswer),
        (status = 400, description = "`invalid_request`, naming the field (also: owner and seller the same merchant, a warehouse or SKU named twice)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or its merchant is not the owner", body = ErrorBody),
        (status = 404, description = "`unknown_warehouse`: a warehouse named is not registered; nothing stored", body = ErrorBody),
        (status = 409, description = "`consignment_conflict`: the id is a grant between other merchants", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn put_consignment(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ConsignmentAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let id = id_of(id)?;
    let terms = ConsignmentBody::parse(&body)?;
    if !caller.sees(&terms.owner) {
        return Err(acts_for_another(&caller));
    }
    let granted = cases::put_consignment(&state.ports, &id, terms).await?;
    let status = if granted.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(granted.consignment.into())))
}

/// A grant, for its owner or its seller.
#[utoipa::path(
    get,
    path = "/consignments/{id}",
    tag = "consignments",
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "The grant", body = ConsignmentAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
        (status = 404, description = "`consignment_not_found` (also a grant between other merchants)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn get_consignment(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<ConsignmentAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let id = id_of(id)?;
    Ok(Json(cases::get_consignment(&state.ports, &caller, &id).await?.into()))
}

/// Revoke a grant (its owner): new plans stop using the owner's units at once; units
/// already held for the seller's orders stay held. The grant is kept, inactive; revoking
/// it again answers it as it is; a PUT grants it again.
#[utoipa::path(
    delete,
    path = "/consignments/{id}",
    tag = "consignments",
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "The grant, revoked", body = ConsignmentAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or is the seller's (only the owner revokes)", body = ErrorBody),
        (status = 404, description = "`consignment_not_found` (also a grant between other merchants)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn revoke_consignment(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<ConsignmentAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let id = id_of(id)?;
    Ok(Json(cases::revoke_consignment(&state.ports, &caller, &id).await?.into()))
}

/// The query string of `GET /consignments`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ConsignmentFilter {
    /// The merchant whose grants are listed: the caller's own (platform staff must name one).
    merchant: Option<String>,
    /// `granted` (it is the owner) or `received` (it is the seller); both when left out.
    role: Option<String>,
    /// Grants per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// The `next` of the page before: an id that is no grant of this listing is refused.
    cursor: Option<String>,
}

/// The grants a merchant gave and received, by id, a page at a time.
#[utoipa::path(
    get,
    path = "/consignments",
    tag = "consignments",
    params(ConsignmentFilter),
    responses(
        (status = 200, description = "One page of grants and the cursor of the next (`null` on the last)", body = ConsignmentsAnswer),
        (status = 400, description = "`invalid_request`: a bad merchant, role, limit or cursor; platform staff naming no merchant", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`, or names another merchant than its own", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn list_consignments(
    State(state): State<AppState>,
    caller: Authed,
    filter: Result<Query<ConsignmentFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ConsignmentsAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let named = given(&filter.merchant).map(MerchantId::parse).transpose().map_err(|e| e.within("merchant"))?;
    let merchant = caller
        .merchant_named(named.as_ref())
        .map_err(|e| ValidationError::new("merchant", e.to_string()))?
        .ok_or_else(|| acts_for_another(&caller))?;
    let role = match given(&filter.role).as_deref() {
        None => None,
        Some("granted") => Some(Role::Granted),
        Some("received") => Some(Role::Received),
        Some(other) => return Err(ValidationError::new("role", format!("{other:?} is not granted or received")).into()),
    };
    let limit = match given(&filter.limit) {
        None => DEFAULT_PAGE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| ValidationError::new("limit", format!("{raw:?} is not a page size from 1 to {MAX_PAGE_SIZE}")))?,
    };
    let cursor = given(&filter.cursor).map(ConsignmentId::parse).transpose().map_err(|e| e.within("cursor"))?;
    let (page, next) = cases::list_consignments(&state.ports, &merchant, role, cursor.as_ref(), limit).await?;
    Ok(Json(ConsignmentsAnswer { consignments: page.into_iter().map(Into::into).collect(), next: next.map(|id| id.to_string()) }))
}

/// Grants a page holds when no limit is given.
const DEFAULT_PAGE: usize = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consignment_body_is_checked_naming_the_field() {
        let field = |body: &str| ConsignmentBody::parse(body.as_bytes()).unwrap_err().field;
        let ok = r#"{"owner":"m-1","seller":"m-2","warehouses":["WH-A"],"transfer_price":{"amount":"12.50","currency":"CNY"}}"#;
        let terms = ConsignmentBody::parse(ok.as_bytes()).unwrap();
        assert_eq!((terms.owner.as_str(), terms.skus), ("m-1", None));
        assert_eq!(field(&ok.replace("m-2", "m-1")), "seller");
        assert_eq!(field(&ok.replace(r#"["WH-A"]"#, "[]")), "warehouses");
        assert_eq!(field(&ok.replace(r#"["WH-A"]"#, r#"["WH-A", " "]"#)), "warehouses[1]");
        assert_eq!(field(&ok.replace("12.50", "-1")), "transfer_price.amount");
        assert_eq!(field(&ok.replace("12.50", "lots")), "transfer_price.amount");
        assert_eq!(field(&ok.replace("CNY", "XYZ")), "transfer_price.currency");
        assert_eq!(field(&ok.replace(r#""warehouses""#, r#""skus":[],"warehouses""#)), "skus");
        assert_eq!(field(r#"{"owner":"m-1"}"#), "seller");
        assert!(ConsignmentBody::parse(ok.replace('}', r#","colour":1}"#).as_bytes()).is_err());
    }
}
