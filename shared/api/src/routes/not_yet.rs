//! Routes of the contract whose functions are deployed but not built yet: they answer
//! 501 with a JSON error rather than pretend to succeed.

use axum::routing::{get, post};
use axum::Router;

use crate::ApiError;

fn pending(what: &'static str) -> axum::routing::MethodRouter {
    post(move || async move { ApiError::not_implemented(what) })
}

pub(super) fn tracking() -> Router {
    Router::new()
        .route("/orders/{id}/shipments", pending("recording shipments"))
        .route("/carriers/{carrier}/events", pending("carrier tracking events"))
        .route("/orders/{id}/tracking", get(|| async { ApiError::not_implemented("shipment tracking") }))
}

pub(super) fn quotes() -> Router {
    Router::new().route("/quotes", pending("price quotes"))
}

pub(super) fn flash_sales() -> Router {
    Router::new().route("/flash-sales", pending("flash sales")).route("/flash-sales/{id}/claims", pending("flash-sale claims"))
}
