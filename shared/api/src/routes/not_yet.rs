//! Routes of the contract whose functions are deployed but not built yet: they answer
//! 501 with a JSON error rather than pretend to succeed. They are in the OpenAPI document
//! as they are: routes that answer 501.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;

use super::AppState;
use crate::error::ErrorBody;
use crate::{ApiError, Authed};

pub(super) fn tracking() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_shipment)).routes(routes!(carrier_event)).routes(routes!(tracking_of))
}

/// The warehouse reports a shipment (not built yet).
#[utoipa::path(
    post,
    path = "/orders/{id}/shipments",
    tag = "tracking",
    params(("id" = String, Path, description = "Our order id")),
    responses(
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 501, description = "`not_implemented`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn record_shipment(caller: Authed) -> ApiError {
    caller.with(Scope::OrdersWrite).err().unwrap_or_else(|| ApiError::not_implemented("recording shipments"))
}

/// A carrier's tracking webhook (not built yet).
#[utoipa::path(
    post,
    path = "/carriers/{carrier}/events",
    tag = "tracking",
    params(("carrier" = String, Path, description = "The carrier")),
    responses((status = 501, description = "`not_implemented`", body = ErrorBody))
)]
async fn carrier_event() -> ApiError {
    ApiError::not_implemented("carrier tracking events")
}

/// An order's shipment timeline and ETA (not built yet).
#[utoipa::path(
    get,
    path = "/orders/{id}/tracking",
    tag = "tracking",
    params(("id" = String, Path, description = "Our order id")),
    responses(
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
        (status = 501, description = "`not_implemented`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn tracking_of(caller: Authed) -> ApiError {
    caller.with(Scope::OrdersRead).err().unwrap_or_else(|| ApiError::not_implemented("shipment tracking"))
}
