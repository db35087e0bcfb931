//! The SKU catalogue: `PUT /skus/{sku}`, `GET /skus/{sku}`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::catalogue::{SkuFacts, UncheckedSkuFacts};
use oms_domain::usecases::catalogue as catalogue_cases;
use oms_domain::validation::parse_json;
use oms_domain::{Sku, ValidationError};

use super::{decimal_field, AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_sku, get_sku))
}

/// The body of `PUT /skus/{sku}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SkuBody {
    pub merchant_id: String,
    /// 1 to 200 characters.
    pub name: String,
    /// 1 to 200 characters.
    pub category: String,
    /// What a unit costs the merchant: a decimal string, not negative.
    #[schema(examples("12.50"))]
    pub cost: String,
    /// The price a unit is listed at: a decimal string, not negative.
    #[schema(examples("39.90"))]
    pub list_price: String,
    /// One unit, packed: 0 to 1,000,000 g. Allocation weighs parcels by it.
    pub weight_g: i64,
    /// Length, width, height of one unit packed, 0 to 20,000 mm each.
    pub dims_mm: [i64; 3],
    /// Lower-case words (`fragile`, `hazardous`, `cold_chain`, ...); none by default.
    #[serde(default)]
    pub traits: Vec<String>,
    /// A reorder point set by hand for each warehouse's stock (0 to 100,000,000 units):
    /// replenishment and the low-stock alerts use it instead of the forecast's.
    #[serde(default)]
    pub reorder_point: Option<i64>,
    /// Units to order at the point (1 to 100,000,000; needs `reorder_point`).
    #[serde(default)]
    pub reorder_quantity: Option<i64>,
}

/// `PUT /skus/{sku}` and `GET /skus/{sku}`: the SKU's facts as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkuAnswer {
    pub sku: String,
    pub merchant_id: String,
    pub name: String,
    pub category: String,
    pub cost: String,
    pub list_price: String,
    pub weight_g: u32,
    pub dims_mm: [u32; 3],
    pub traits: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reorder_quantity: Option<u32>,
}

impl From<SkuFacts> for SkuAnswer {
    fn from(f: SkuFacts) -> Self {
        Self {
            sku: f.sku.into(),
            merchant_id: f.merchant_id.into(),
            name: f.name,
            category: f.category,
            cost: f.cost.to_string(),
            list_price: f.list_price.to_string(),
            weight_g: f.weight_g,
            dims_mm: f.dims_mm,
            traits: f.traits,
            reorder_point: f.reorder_point,
            reorder_quantity: f.reorder_quantity,
        }
    }
}

fn parse(sku: String, body: &[u8]) -> Result<SkuFacts, ValidationError> {
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    let raw: SkuBody = parse_json(body)?;
    let facts = UncheckedSkuFacts {
        merchant_id: raw.merchant_id,
        name: raw.name,
        category: raw.category,
        cost: decimal_field("cost", &raw.cost)?,
        list_price: decimal_field("list_price", &raw.list_price)?,
        weight_g: raw.weight_g,
        dims_mm: raw.dims_mm,
        traits: raw.traits,
    };
    SkuFacts::new(sku, facts)?.with_reorder(raw.reorder_point, raw.reorder_quantity)
}

/// Record a SKU's facts (weight, dimensions, traits, cost, list price), replacing any
/// earlier ones.
#[utoipa::path(
    put,
    path = "/skus/{sku}",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    request_body = SkuBody,
    responses(
        (status = 200, description = "The facts as recorded", body = SkuAnswer),
        (status = 400, description = "`invalid_request`, naming the field; nothing is stored", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or the body names another merchant than the caller's; `merchant_not_approved`: the merchant's onboarding is not approved yet", body = ErrorBody),
        (status = 404, description = "`sku_not_found`: the SKU's facts are another merchant's", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn put_sku(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(sku): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<SkuAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let facts = parse(sku, &body)?;
    if !caller.sees(&facts.merchant_id) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this credential records its own merchant's SKUs only"));
    }
    // Another merchant's facts of the SKU are not the caller's to replace.
    if let Some(existing) = catalogue_cases::sku(&state.ports, &facts.sku).await? {
        if !caller.sees(&existing.merchant_id) {
            return Err(sku_not_found(&facts.sku));
        }
    }
    catalogue_cases::put_sku(&state.ports, &facts).await?;
    Ok(Json(facts.into()))
}

/// A SKU's facts.
#[utoipa::path(
    get,
    path = "/skus/{sku}",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    responses(
        (status = 200, description = "The facts as recorded", body = SkuAnswer),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 404, description = "`sku_not_found`: the catalogue has no facts of it (or they are another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn get_sku(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(sku): PathParams<String>,
) -> Result<Json<SkuAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    match catalogue_cases::sku(&state.ports, &sku).await? {
        Some(facts) if caller.sees(&facts.merchant_id) => Ok(Json(facts.into())),
        _ => Err(sku_not_found(&sku)),
    }
}

fn sku_not_found(sku: &Sku) -> ApiError {
    ApiError::new(ErrorCode::SkuNotFound, format!("the catalogue has no facts of {sku}"))
}
