//! Channel webhooks and the order routes.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use oms_channels::{self as channels, signature};
use oms_domain::order::{Channel, Order};
use oms_domain::usecases::intake::{self, Receipt};
use oms_domain::usecases::orders::{self as order_cases, OrderFilter};
use oms_domain::validation::parse_json;
use oms_domain::OrderId;

use super::{AppState, PathParams, RawBody};
use crate::webhooks::WebhookRefusal;
use crate::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/channels/{channel}/orders", post(receive_webhook))
        .route("/orders", get(find_orders))
        .route("/orders/{id}", get(get_order).patch(modify_order))
        .route("/orders/{id}/cancel", post(cancel_order))
}

/// `POST /channels/{channel}/orders`: 202 for a new order, 200 for a repeated delivery.
async fn receive_webhook(
    State(state): State<AppState>,
    PathParams(channel): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    let channel = Channel::parse(&channel).filter(|c| Channel::WEBHOOK.contains(c)).ok_or_else(|| {
        ApiError::not_found("unknown_channel", format!("no channel {channel:?}; one of shopify, woocommerce, amazon, generic"))
    })?;
    let signature = headers.get(signature::header_name(channel)).and_then(|v| v.to_str().ok());
    state.secrets.check(channel, state.unsigned, signature, &body).map_err(|refusal| {
        let code = match refusal {
            WebhookRefusal::NoSecret(_) => "channel_not_configured",
            WebhookRefusal::Signature(_) => "bad_signature",
        };
        ApiError::new(StatusCode::UNAUTHORIZED, code, refusal.to_string())
    })?;
    let merchant_header = channels::Meta::merchant_header(channel).and_then(|name| headers.get(name));
    let meta = channels::Meta { merchant_id: merchant_header.and_then(|v| v.to_str().ok()).map(str::to_owned) };
    let new = channels::normalise_with_meta(channel, &body, &meta)?;
    let ports = &state.ports;
    let receipt = intake::receive_order(&*ports.orders, &*ports.inventory, &*ports.queue, &*ports.clock, new).await?;
    let status = if receipt.duplicate { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(receipt)))
}

fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(raw).map_err(|_| ApiError::not_found("order_not_found", format!("no order {raw:?}")))
}

/// `GET /orders/{id}`.
async fn get_order(State(state): State<AppState>, PathParams(id): PathParams<String>) -> Result<Json<Order>, ApiError> {
    let id = order_id(&id)?;
    let order = state.ports.orders.get_order(&id).await?;
    order.map(Json).ok_or_else(|| ApiError::not_found("order_not_found", format!("no order {id}")))
}

/// `GET /orders?customer=&phone=&channel=&external_id=`.
async fn find_orders(
    State(state): State<AppState>,
    filter: Result<Query<OrderFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.body_text()))?;
    let orders = order_cases::find_orders(&*state.ports.orders, &filter).await?;
    Ok(Json(serde_json::json!({ "orders": orders })))
}

#[derive(Debug, Deserialize)]
struct CancelBody {
    reason: Option<String>,
}

/// `POST /orders/{id}/cancel` with an optional `{"reason": "..."}`.
async fn cancel_order(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<Order>, ApiError> {
    let id = order_id(&id)?;
    let reason = if body.iter().all(u8::is_ascii_whitespace) { None } else { parse_json::<CancelBody>(&body)?.reason };
    let reason = reason.map(|r| format!("cancelled: {}", r.trim())).unwrap_or_else(|| "cancelled on request".to_owned());
    let ports = &state.ports;
    let order = order_cases::cancel_order(&*ports.orders, &*ports.inventory, &*ports.clock, &id, &reason).await?;
    Ok(Json(order))
}

/// `PATCH /orders/{id}` with any of `customer`, `shipping_address`, `lines` (generic format).
async fn modify_order(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<Order>, ApiError> {
    let id = order_id(&id)?;
    let ports = &state.ports;
    Ok(Json(order_cases::modify_order(&*ports.orders, &*ports.inventory, &*ports.queue, &*ports.clock, &id, &body).await?))
}
