//! Channel webhooks and the order routes.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use oms_domain::channels::{self, signature};
use oms_domain::order::normalise_phone;
use oms_domain::order::Channel;
use oms_domain::usecases::intake;
use oms_domain::usecases::orders::{self as order_cases, OrderQuery};
use oms_domain::validation::parse_json;
use oms_domain::{CustomerId, ExternalId, OrderId, ValidationError};

use super::{AppState, PathParams, RawBody};
use crate::answers::{OrderAnswer, OrdersAnswer, ReceiptAnswer};
use crate::error::ErrorCode;
use crate::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/channels/{channel}/orders", post(receive_webhook))
        .route("/orders", get(find_orders))
        .route("/orders/{id}", get(get_order).patch(modify_order))
        .route("/orders/{id}/cancel", post(cancel_order))
}

/// A channel's order webhook.
///
/// The body is the channel's own payload: Shopify's `orders/create` / `orders/updated`
/// (merchant from `X-Shopify-Shop-Domain`), WooCommerce's `order.created` (merchant from
/// `X-WC-Webhook-Source`), Amazon's `{"seller_id", "order", "items"}` as a relay posts it,
/// or the contract's generic order. Signed with HMAC-SHA256 of the raw body:
/// `X-Shopify-Hmac-Sha256`, `X-WC-Webhook-Signature` (base64) or `X-OMS-Signature:
/// sha256=<hex>` (generic and Amazon).
async fn receive_webhook(
    State(state): State<AppState>,
    PathParams(channel): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ReceiptAnswer>), ApiError> {
    let channel = Channel::parse(&channel).filter(|c| Channel::WEBHOOK.contains(c)).ok_or_else(|| {
        ApiError::new(ErrorCode::UnknownChannel, format!("no channel {channel:?}; one of shopify, woocommerce, amazon, generic"))
    })?;
    let signature = headers.get(signature::header_name(channel)).and_then(|v| v.to_str().ok());
    state.secrets.check(channel, state.unsigned, signature, &body)?;
    let merchant_header = channels::Meta::merchant_header(channel).and_then(|name| headers.get(name));
    let meta = channels::Meta { merchant_id: merchant_header.and_then(|v| v.to_str().ok()).map(str::to_owned) };
    let new = channels::normalise_with_meta(channel, &body, &meta)?;
    let ports = &state.ports;
    let receipt = intake::receive_order(&*ports.orders, &*ports.inventory, &*ports.queue, &*ports.clock, new).await?;
    let status = if receipt.duplicate { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(receipt.into())))
}

fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(raw).map_err(|_| ApiError::new(ErrorCode::OrderNotFound, format!("no order {raw:?}")))
}

/// The canonical order with its status, allocation and timeline.
async fn get_order(State(state): State<AppState>, PathParams(id): PathParams<String>) -> Result<Json<OrderAnswer>, ApiError> {
    let id = order_id(&id)?;
    Ok(Json(order_cases::get_order(&state.ports, &id).await?.into()))
}

/// The query string of `GET /orders?customer=&phone=&channel=&external_id=`: every filter
/// given must match, at least one is given; blank ones count as not given.
#[derive(Debug, Clone, Default, Deserialize)]
struct OrderFilter {
    /// The customer's id.
    customer: Option<String>,
    /// A phone number, however it is typed (`+86 138-0000 0000`).
    phone: Option<String>,
    /// shopify, woocommerce, amazon, generic or import.
    channel: Option<String>,
    /// The channel's id of the order.
    external_id: Option<String>,
}

impl OrderFilter {
    /// Checks each filter given; blank ones count as not given.
    fn parse(&self) -> Result<OrderQuery, ValidationError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        Ok(OrderQuery {
            customer: given(&self.customer).map(CustomerId::parse).transpose().map_err(|e| e.within("customer"))?,
            phone: given(&self.phone)
                .map(|p| normalise_phone(&p).ok_or_else(|| ValidationError::new("phone", format!("{p:?} is not a phone number"))))
                .transpose()?,
            channel: given(&self.channel)
                .map(|c| Channel::parse(&c).ok_or_else(|| ValidationError::new("channel", format!("unknown channel {c:?}"))))
                .transpose()?,
            external_id: given(&self.external_id).map(ExternalId::parse).transpose().map_err(|e| e.within("external_id"))?,
        })
    }
}

/// Order lookup, newest first.
async fn find_orders(
    State(state): State<AppState>,
    filter: Result<Query<OrderFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OrdersAnswer>, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let orders = order_cases::find_orders(&state.ports, &filter.parse()?).await?;
    Ok(Json(orders.into()))
}

/// The optional body of `POST /orders/{id}/cancel`.
#[derive(Debug, Deserialize)]
struct CancelBody {
    /// Why, for the order's timeline.
    reason: Option<String>,
}

/// Cancel an order that has not shipped; any stock it held is released.
async fn cancel_order(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<OrderAnswer>, ApiError> {
    let id = order_id(&id)?;
    let reason = if body.iter().all(u8::is_ascii_whitespace) { None } else { parse_json::<CancelBody>(&body)?.reason };
    let reason = reason.map(|r| format!("cancelled: {}", r.trim())).unwrap_or_else(|| "cancelled on request".to_owned());
    Ok(Json(order_cases::cancel_order(&state.ports, &id, &reason).await?.into()))
}

/// Modify an order, all or nothing.
///
/// Any of `customer`, `shipping_address`, `lines` in the generic channel's shapes: address
/// and contact until shipment, lines only before stock is planned or held (a backorder is
/// planned again).
async fn modify_order(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<OrderAnswer>, ApiError> {
    let id = order_id(&id)?;
    // Prices are checked against the order's currency: read it first (the use case checks
    // again on the order it writes).
    let currency = order_cases::get_order(&state.ports, &id).await?.currency;
    let patch = channels::generic::parse_patch(&body, currency)?;
    Ok(Json(order_cases::modify_order(&state.ports, &id, patch).await?.into()))
}
