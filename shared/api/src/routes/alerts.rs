//! Alerts for operations staff: list them by status, acknowledge, resolve.

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::usecases::alerts::{self as alert_cases, AlertQuery};
use oms_domain::AlertId;

use super::{AppState, PathParams, RawBody};
use crate::answers::{AlertAnswer, AlertsAnswer};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_alerts)).routes(routes!(acknowledge_alert)).routes(routes!(resolve_alert))
}

/// The query string of `GET /alerts?status=&limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AlertFilter {
    /// open (the default), acknowledged or resolved.
    status: Option<String>,
    /// Alerts per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// The `next` of the page before.
    cursor: Option<String>,
}

/// Alerts in one status, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/alerts",
    tag = "alerts",
    params(AlertFilter),
    responses(
        (status = 200, description = "One page of alerts and the cursor of the next (`null` on the last)", body = AlertsAnswer),
        (status = 400, description = "`invalid_request`: an unknown status, a bad limit or cursor", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn list_alerts(
    State(state): State<AppState>,
    caller: Authed,
    filter: Result<Query<AlertFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AlertsAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut query =
        AlertQuery::parse(given(&filter.status).as_deref(), given(&filter.cursor).as_deref(), given(&filter.limit).as_deref())?;
    // Merchant staff see their merchant's alerts; platform staff every merchant's.
    query.merchant = caller.merchant_id().cloned();
    Ok(Json(alert_cases::list_alerts(&state.ports, &query).await?.into()))
}

fn not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::AlertNotFound, format!("no alert {raw:?}"))
}

/// The id of an alert the caller may act on: another merchant's answers as not found.
async fn alert_of(state: &AppState, caller: &Caller, raw: &str) -> Result<AlertId, ApiError> {
    let id = AlertId::parse(raw).map_err(|_| not_found(raw))?;
    match state.ports.alerts.get_alert(&id).await? {
        Some(alert) if caller.sees(&alert.merchant_id) => Ok(id),
        _ => Err(not_found(raw)),
    }
}

/// Staff have seen the alert (acknowledging it again answers it as it is).
#[utoipa::path(
    post,
    path = "/alerts/{id}/acknowledge",
    tag = "alerts",
    params(("id" = String, Path, description = "The alert's id (`alt_...`)")),
    responses(
        (status = 200, description = "The alert, acknowledged", body = AlertAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`alert_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`alert_resolved`: it is resolved already", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn acknowledge_alert(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    // Read only to hold it to the body limit (413): the action takes no body.
    _body: RawBody,
) -> Result<Json<AlertAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let id = alert_of(&state, &caller, &id).await?;
    Ok(Json(alert_cases::acknowledge_alert(&state.ports, &id).await?.into()))
}

/// Staff have settled the alert (resolving it again answers it as it is).
#[utoipa::path(
    post,
    path = "/alerts/{id}/resolve",
    tag = "alerts",
    params(("id" = String, Path, description = "The alert's id (`alt_...`)")),
    responses(
        (status = 200, description = "The alert, resolved", body = AlertAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`alert_not_found` (also another merchant's)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn resolve_alert(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    _body: RawBody,
) -> Result<Json<AlertAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let id = alert_of(&state, &caller, &id).await?;
    Ok(Json(alert_cases::resolve_alert(&state.ports, &id).await?.into()))
}
