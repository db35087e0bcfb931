//! `GET /analytics`: sales by a dimension, stage times, rates and shipping cost over a
//! period, computed from the order archive (`oms serve`: the SQLite store).

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::analytics::Report;
use oms_domain::usecases::analytics::{self as analytics_cases, AnalyticsQuery};
use oms_domain::MerchantId;

use super::AppState;
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(analytics))
}

/// The query string of `GET /analytics?from=&to=&by=&merchant_id=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AnalyticsFilter {
    /// Orders placed from this time or date (default: 30 days before `to`).
    from: Option<String>,
    /// Up to this time, or through this date (default: now); at most 366 days after `from`.
    to: Option<String>,
    /// channel (default), province, city, sku, merchant, day or status (the current one).
    by: Option<String>,
    /// Platform staff: one merchant's orders only (default: every merchant's).
    merchant_id: Option<String>,
}

/// Orders, units and revenue by a dimension and per currency; median and p90 times from
/// received to reserved, reserved to shipped, shipped to delivered; fill, backorder, split
/// and cancel rates; planned shipping cost per order, overall and per province.
#[utoipa::path(
    get,
    path = "/analytics",
    tag = "analytics",
    params(AnalyticsFilter),
    responses(
        (status = 200, description = "`{\"from\",\"to\",\"by\",\"rows\":[{\"key\",\"currency\",\"orders\",\"units\",\"revenue\"}],\"stages\":[{\"stage\",\"orders\",\"median_seconds\",\"p90_seconds\"}],\"rates\":{...},\"shipping_cost\":[{\"key\",\"orders\",\"total\",\"per_order\"}]}`", body = Object),
        (status = 400, description = "`invalid_request`: a bad date (outside 2000-01-01 to 2100-12-31), period or dimension", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`, or names another merchant", body = ErrorBody),
        (status = 501, description = "`not_implemented`: a function with no order archive (in AWS, ingest-order reads the order export)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn analytics(
    State(state): State<AppState>,
    caller: Authed,
    filter: Result<Query<AnalyticsFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut query = AnalyticsQuery::parse(
        given(&filter.from).as_deref(),
        given(&filter.to).as_deref(),
        given(&filter.by).as_deref(),
        state.ports.clock.now(),
    )?;
    let named = given(&filter.merchant_id).map(MerchantId::parse).transpose()?;
    query.merchant = match (caller.merchant_id(), named) {
        (None, named) => named,
        (Some(own), None) => Some(own.clone()),
        (Some(own), Some(named)) if &named == own => Some(named),
        (Some(_), Some(named)) => {
            return Err(ApiError::new(ErrorCode::Forbidden, format!("this credential acts for its own merchant, not {named}")))
        }
    };
    let Some(archive) = &state.archive else {
        return Err(ApiError::not_implemented("analytics in this function (it has no order archive)"));
    };
    Ok(Json(analytics_cases::report(archive.as_ref(), &query).await?))
}
