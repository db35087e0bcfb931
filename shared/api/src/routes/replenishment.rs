//! `GET /replenishment`: per SKU and warehouse of a merchant, the reorder point from a
//! demand forecast (or set by hand) and the supplier's lead time, and what to order.

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::replenishment::Suggestion;
use oms_domain::usecases::replenishment::{self as replenishment_cases, ReplenishmentQuery};
use oms_domain::{Sku, ValidationError, WarehouseId};

use super::{acting_merchant, AppState};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(replenishment))
}

/// The query string of `GET /replenishment`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReplenishmentFilter {
    /// Whose stock: required of platform staff; a merchant's staff see their own.
    merchant_id: Option<String>,
    /// One warehouse's stocks only.
    warehouse: Option<String>,
    /// One SKU only (default: every SKU the merchant's suppliers supply).
    sku: Option<String>,
    /// `true`: only stocks at or below their reorder point (default `false`).
    low_only: Option<String>,
}

/// The suggestions, low stocks first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplenishmentAnswer {
    pub merchant_id: String,
    /// `{"warehouse","sku","merchant_id","on_hand","available","incoming","position","basis",
    /// "reorder_point","safety_stock","low","order_quantity","supplier":{...}|null,
    /// "forecast":{"method","daily","error","compared":[{"method","error"}],"share",
    /// "history_days","holdout_days"}|null,"reason"}`
    #[schema(value_type = Vec<Object>)]
    pub suggestions: Vec<Suggestion>,
}

/// What to order, how much and from which supplier, per SKU and warehouse: the reorder
/// point covers the supplier's lead time from a demand forecast over the merchant's sales
/// history (Holt-Winters, Croston and SBA compared on held-out days, the better kept), or a
/// point set by hand in the SKU's catalogue facts.
#[utoipa::path(
    get,
    path = "/replenishment",
    tag = "inventory",
    params(ReplenishmentFilter),
    responses(
        (status = 200, description = "The suggestions, low stocks first", body = ReplenishmentAnswer),
        (status = 400, description = "`invalid_request`: a bad id or flag, or platform staff naming no merchant", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`, or names another merchant", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn replenishment(
    State(state): State<AppState>,
    caller: Authed,
    filter: Result<Query<ReplenishmentFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ReplenishmentAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let merchant = acting_merchant(&caller, filter.merchant_id.as_deref())?;
    let low_only = match given(&filter.low_only).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ValidationError::new("low_only", format!("give true or false, not {other:?}")).into()),
    };
    let query = ReplenishmentQuery {
        merchant,
        warehouse: given(&filter.warehouse).map(WarehouseId::parse).transpose().map_err(|e| e.within("warehouse"))?,
        sku: given(&filter.sku).map(Sku::parse).transpose().map_err(|e| e.within("sku"))?,
        low_only,
    };
    let suggestions = replenishment_cases::suggestions(&state.ports, &query).await?;
    Ok(Json(ReplenishmentAnswer { merchant_id: query.merchant.into(), suggestions }))
}
