//! The HTTP routes of the contract, one router per function.

pub use axum::Router;

mod inventory;
mod not_yet;
mod orders;

use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Json;

use oms_domain::channels::MAX_BODY_BYTES;
use oms_domain::ports::Ports;

use crate::answers::HealthAnswer;
use crate::webhooks::{ChannelSecrets, UnsignedPolicy};
use crate::ApiError;

/// What every handler can reach: the ports, and the webhook secrets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub ports: Ports,
    pub secrets: ChannelSecrets,
    pub unsigned: UnsignedPolicy,
}

/// `ingest-order`: channel webhooks, order reads, cancel and modify, and `/health`.
pub fn orders_api(state: AppState) -> Router {
    with_fallbacks(orders::router().route("/health", get(health)).with_state(state))
}

/// `inventory`: warehouses and stock counts.
pub fn inventory_api(state: AppState) -> Router {
    with_fallbacks(inventory::router().with_state(state))
}

/// `track-shipment`: shipments, carrier events, tracking.
pub fn tracking_api() -> Router {
    with_fallbacks(not_yet::tracking())
}

/// `quote-price`: per-customer price quotes.
pub fn quotes_api() -> Router {
    with_fallbacks(not_yet::quotes())
}

/// `flash-sale-claim`: flash sales and claims.
pub fn flash_sales_api() -> Router {
    with_fallbacks(not_yet::flash_sales())
}

/// Every route of the contract in one router, as `oms serve` hosts them.
pub fn all(state: AppState) -> Router {
    with_fallbacks(
        orders::router()
            .route("/health", get(health))
            .merge(inventory::router())
            .with_state(state)
            .merge(not_yet::tracking())
            .merge(not_yet::quotes())
            .merge(not_yet::flash_sales()),
    )
}

async fn health() -> Json<HealthAnswer> {
    Json(HealthAnswer { status: "ok" })
}

fn with_fallbacks(router: Router) -> Router {
    router.fallback(|| async { ApiError::not_found("route_not_found", "no such route") }).method_not_allowed_fallback(|| async {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
    })
}

/// Path parameters, with a JSON error when they cannot be read (bad percent-encoding).
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParams(value))
            .map_err(|rejection| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", rejection.body_text()))
    }
}

/// The raw request body, at most `MAX_BODY_BYTES` (a larger one is answered 413 before
/// it is read). Handlers parse it themselves so that errors name the field at fault, and
/// webhooks can check a signature over the exact bytes.
#[derive(Debug)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is over {} KiB", MAX_BODY_BYTES / 1024),
            )
        };
        let declared =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES).await.map(RawBody).map_err(|_| too_large())
    }
}
