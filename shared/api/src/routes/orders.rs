//! Channel webhooks and the order routes.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_channels::{self as channels, signature};
use oms_domain::access::{Caller, Scope};
use oms_domain::order::normalise_phone;
use oms_domain::order::{Channel, MAX_TEXT_CHARS};
use oms_domain::usecases::intake;
use oms_domain::usecases::orders::{self as order_cases, GetError, OrderQuery, Page};
use oms_domain::validation::parse_json;
use oms_domain::{CustomerId, ExternalId, MerchantId, Order, OrderId, OrderNumber, OrderStatus, ValidationError};

use super::{AppState, PathParams, RawBody};
use crate::answers::{OrderAnswer, OrdersAnswer, ReceiptAnswer};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receive_webhook))
        .routes(routes!(find_orders))
        .routes(routes!(get_order, modify_order))
        .routes(routes!(cancel_order))
        .routes(routes!(record_payment))
        .routes(routes!(release_order))
}

/// A channel's order webhook.
///
/// The body is the channel's own payload: Shopify's `orders/create` / `orders/updated` /
/// `orders/cancelled` (merchant from `X-Shopify-Shop-Domain`, topic from `X-Shopify-Topic`),
/// WooCommerce's `order.created` / `order.updated` (merchant from `X-WC-Webhook-Source`),
/// Amazon's `{"seller_id", "order", "items"}` as a relay posts it, or the contract's generic
/// order (optional `updated_at`, `cancelled_at`). A delivery of an order we hold applies only
/// when the channel's own modification time is newer than the version applied (else
/// `not_applied_reason: stale`); a cancel cancels the order as its stage allows (a shipped
/// order raises an alert: `not_applied_reason: cancel_refused`); a cancel of an order never
/// seen stores it cancelled (202). Signed with HMAC-SHA256 of the raw body:
/// `X-Shopify-Hmac-Sha256`, `X-WC-Webhook-Signature` (base64) or `X-OMS-Signature:
/// sha256=<hex>` (generic and Amazon).
#[utoipa::path(
    post,
    path = "/channels/{channel}/orders",
    tag = "orders",
    params(("channel" = String, Path, description = "shopify, woocommerce, amazon or generic")),
    request_body(content = Object, description = "The channel's order payload", content_type = "application/json"),
    responses(
        (status = 202, description = "A new order, stored: `received`, or `on_hold` when it names a SKU no warehouse has counted (an alert `order_on_hold` is raised; stock of it releases the order)", body = ReceiptAnswer),
        (status = 200, description = "The same channel order again: the first order, `duplicate: true`, with what changed or `not_applied_reason`", body = ReceiptAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`bad_signature` or `channel_not_configured`", body = ErrorBody),
        (status = 404, description = "`unknown_channel`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    )
)]
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
    state.secrets.check(channel, state.unsigned, signature, &body).await?;
    let merchant_header = channels::Meta::merchant_header(channel).and_then(|name| headers.get(name));
    let topic_header = channels::Meta::topic_header(channel).and_then(|name| headers.get(name));
    let header_text = |v: Option<&axum::http::HeaderValue>| v.and_then(|v| v.to_str().ok()).map(str::to_owned);
    let meta = channels::Meta { merchant_id: header_text(merchant_header), topic: header_text(topic_header) };
    let new = channels::normalise_with_meta(channel, &body, &meta)?;
    let ports = &state.ports;
    let receipt = intake::receive_order(ports, new).await?;
    let status = if receipt.duplicate { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(receipt.into())))
}

fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(raw).map_err(|_| ApiError::new(ErrorCode::OrderNotFound, format!("no order {raw:?}")))
}

/// The order, when it is the caller's to see: another merchant's answers as not found,
/// so that its existence does not leak.
pub(super) async fn order_of(state: &AppState, caller: &Caller, raw: &str) -> Result<Order, ApiError> {
    let id = order_id(raw)?;
    let order = order_cases::get_order(&state.ports, &id).await?;
    if !caller.sees(&order.merchant_id) {
        return Err(GetError::NotFound(id).into());
    }
    Ok(order)
}

/// The canonical order with its status, allocation and timeline.
#[utoipa::path(
    get,
    path = "/orders/{id}",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id (`ord_...`)")),
    responses(
        (status = 200, description = "The order", body = OrderAnswer),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also for another merchant's order)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn get_order(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<OrderAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    Ok(Json(order_of(&state, &caller, &id).await?.into()))
}

/// The query string of `GET /orders`: one merchant's orders (the caller's own; platform
/// staff name the merchant) matching every filter given, at least one besides the
/// merchant; blank filters count as not given. A page holds `limit` orders (1 to 100,
/// default 50); `cursor` is the `next` of the previous page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OrderFilter {
    /// The merchant whose orders to look in: by default the caller's own; platform staff
    /// must name one. Another merchant's orders are never found.
    merchant: Option<String>,
    /// The customer's id.
    customer: Option<String>,
    /// A phone number, however it is typed (`+86 138-0000 0000`).
    phone: Option<String>,
    /// The fingerprint of the card paid with, as the channel gave it (what a fraud
    /// review's velocity counted).
    card: Option<String>,
    /// shopify, woocommerce, amazon, generic or import.
    channel: Option<String>,
    /// The channel's id of the order.
    external_id: Option<String>,
    /// The channel's own order number, as the buyer saw it (Shopify's `#1001`).
    order_number: Option<String>,
    /// The order's current status: received, on_hold, allocated, reserved, backordered,
    /// partially_shipped, shipped, in_transit, delivered, cancelled or exception.
    status: Option<String>,
    /// Most orders on the page: 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
    /// Where the page starts: the `next` of the previous page, as it was answered.
    cursor: Option<String>,
}

/// Orders on a page when the caller does not say.
const DEFAULT_PAGE_SIZE: usize = 50;

impl OrderFilter {
    /// Checks each filter given (blank ones count as not given) and the page, for
    /// `caller`; `None` when the merchant named is not the caller's (no order is found).
    fn parse(&self, caller: &Caller) -> Result<Option<(OrderQuery, Page)>, ValidationError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let named = given(&self.merchant).map(MerchantId::parse).transpose().map_err(|e| e.within("merchant"))?;
        let merchant = caller
            .merchant_named(named.as_ref())
            .map_err(|_| ValidationError::new("merchant", "is required: the merchant whose orders to look in"))?;
        let Some(merchant) = merchant else { return Ok(None) };
        let query = OrderQuery {
            merchant,
            customer: given(&self.customer).map(CustomerId::parse).transpose().map_err(|e| e.within("customer"))?,
            phone: given(&self.phone)
                .map(|p| normalise_phone(&p).ok_or_else(|| ValidationError::new("phone", format!("{p:?} is not a phone number"))))
                .transpose()?,
            address: None,
            card: given(&self.card),
            channel: given(&self.channel)
                .map(|c| Channel::parse(&c).ok_or_else(|| ValidationError::new("channel", format!("unknown channel {c:?}"))))
                .transpose()?,
            external_id: given(&self.external_id).map(ExternalId::parse).transpose().map_err(|e| e.within("external_id"))?,
            order_number: given(&self.order_number).map(OrderNumber::parse).transpose().map_err(|e| e.within("order_number"))?,
            status: given(&self.status)
                .map(|raw| {
                    OrderStatus::ALL
                        .into_iter()
                        .find(|status| status.as_str() == raw)
                        .ok_or_else(|| ValidationError::new("status", format!("unknown status {raw:?}")))
                })
                .transpose()?,
        };
        let after = self.cursor.as_deref().map(cursor::decode).transpose()?;
        let page = Page::new(self.limit.unwrap_or(DEFAULT_PAGE_SIZE), after)?;
        Ok(Some((query, page)))
    }
}

/// The opaque page cursor: base64url of a version tag and the last order of the page.
mod cursor {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use oms_domain::{OrderId, ValidationError};

    const TAG: &str = "o1:";

    pub(super) fn encode(last: &OrderId) -> String {
        URL_SAFE_NO_PAD.encode(format!("{TAG}{last}"))
    }

    /// The order a cursor starts after; anything this build did not answer is refused.
    pub(super) fn decode(cursor: &str) -> Result<OrderId, ValidationError> {
        let refused = || ValidationError::new("cursor", "is not a cursor this API answered");
        let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| refused())?;
        let text = String::from_utf8(bytes).map_err(|_| refused())?;
        let id = text.strip_prefix(TAG).filter(|id| id.starts_with("ord_")).ok_or_else(refused)?;
        OrderId::parse(id).map_err(|_| refused())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_cursor_reads_back_as_the_order_it_was_made_from() {
            let id = OrderId::parse("ord_01JDXYZ").unwrap();
            assert_eq!(decode(&encode(&id)).unwrap(), id);
        }

        #[test]
        fn a_forged_cursor_is_refused() {
            for forged in ["", "!!!", "b3JkXzE", "bzE6Y3VzdG9tZXI", &URL_SAFE_NO_PAD.encode("o1:")] {
                assert!(decode(forged).is_err(), "{forged:?} was taken");
            }
        }
    }
}

/// One merchant's orders, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/orders",
    tag = "orders",
    params(OrderFilter),
    responses(
        (status = 200, description = "A page of the merchant's orders matching every filter given, newest first; the filters are applied before the page is cut", body = OrdersAnswer),
        (status = 400, description = "`invalid_request`: no filter, a malformed one, a limit outside 1 to 100, a cursor this API did not answer, or (platform staff) no merchant", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn find_orders(
    State(state): State<AppState>,
    caller: Authed,
    filter: Result<Query<OrderFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OrdersAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let Some((query, page)) = filter.parse(&caller)? else {
        return Ok(Json(OrdersAnswer { next: None, orders: vec![] }));
    };
    let found = order_cases::find_orders(&state.ports, &query, &page).await?;
    Ok(Json(OrdersAnswer {
        next: found.next.as_ref().map(cursor::encode),
        orders: found.orders.into_iter().map(Into::into).collect(),
    }))
}

/// The optional body of `POST /orders/{id}/cancel`.
#[derive(Debug, Deserialize, ToSchema)]
struct CancelBody {
    /// Why, for the order's timeline: at most 200 characters.
    reason: Option<String>,
}

/// Cancel an order that has not shipped; any stock it held is released.
#[utoipa::path(
    post,
    path = "/orders/{id}/cancel",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id")),
    request_body(content = Option<CancelBody>, description = "Optional; an empty body is no reason"),
    responses(
        (status = 200, description = "The cancelled order (cancelling again answers it as it is)", body = OrderAnswer),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also for another merchant's order)", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`not_cancellable`: the order has shipped; `field_too_long`: a reason over 200 characters", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn cancel_order(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<OrderAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let id = order_of(&state, &caller, &id).await?.order_id;
    let reason = if body.iter().all(u8::is_ascii_whitespace) { None } else { parse_json::<CancelBody>(&body)?.reason };
    let reason = reason.as_deref().map(oms_domain::validation::clean_text);
    // The reason goes onto the timeline, which the order record carries: bounded as an
    // operator's other text is.
    if let Some(chars) = reason.as_deref().map(|r| r.trim().chars().count()).filter(|&n| n > MAX_TEXT_CHARS) {
        let message = format!("reason is {chars} characters; at most {MAX_TEXT_CHARS} are allowed");
        return Err(ApiError { field: Some("reason".to_owned()), ..ApiError::new(ErrorCode::FieldTooLong, message) });
    }
    let reason = reason.map(|r| format!("cancelled: {}", r.trim())).unwrap_or_else(|| "cancelled on request".to_owned());
    Ok(Json(order_cases::cancel_order(&state.ports, &id, &reason).await?.into()))
}

/// The optional body of `POST /orders/{id}/release`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    /// What the review found, for the order's timeline: at most 200 characters.
    note: Option<String>,
}

/// Release an order held for fraud review (`hold.reason` `fraud_review`): it goes back to
/// `received` and on to allocation, the note on its timeline, and its `order_on_hold`
/// alert is resolved. To refuse it, cancel it (`POST /orders/{id}/cancel`).
#[utoipa::path(
    post,
    path = "/orders/{id}/release",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id")),
    request_body(content = Option<ReleaseBody>, description = "Optional; an empty body is no note"),
    responses(
        (status = 200, description = "The released order, queued for allocation", body = OrderAnswer),
        (status = 400, description = "`invalid_request`: malformed JSON, an unknown field, a note that is not a string", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also for another merchant's order)", body = ErrorBody),
        (status = 409, description = "`not_on_hold`: the order is not on hold for fraud review (never held, or released already)", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`field_too_long`: a note over 200 characters", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn release_order(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<OrderAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let id = order_of(&state, &caller, &id).await?.order_id;
    let note = if body.iter().all(u8::is_ascii_whitespace) { None } else { parse_json::<ReleaseBody>(&body)?.note };
    let note = note.as_deref().map(oms_domain::validation::clean_text).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if let Some(chars) = note.as_deref().map(|n| n.chars().count()).filter(|&n| n > MAX_TEXT_CHARS) {
        let message = format!("note is {chars} characters; at most {MAX_TEXT_CHARS} are allowed");
        return Err(ApiError { field: Some("note".to_owned()), ..ApiError::new(ErrorCode::FieldTooLong, message) });
    }
    let note = note.unwrap_or_else(|| "no note".to_owned());
    Ok(Json(oms_domain::usecases::fraud::release(&state.ports, &id, &note).await?.into()))
}

/// The body of `POST /orders/{id}/payments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// A decimal string above zero, at most the currency's minor digits.
    pub amount: String,
    /// ISO 4217; the order's currency.
    pub currency: String,
    /// The payment provider's reference (1 to 128 characters): the same reference again is
    /// the same payment.
    pub reference: String,
}

/// Record a payment for an order and mark it paid (its hold of stock no longer expires).
/// Idempotent by reference: the same reference again answers 200 with the order as it is.
#[utoipa::path(
    post,
    path = "/orders/{id}/payments",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id")),
    request_body = PaymentBody,
    responses(
        (status = 201, description = "Recorded: the order, now paid", body = OrderAnswer),
        (status = 200, description = "A payment with this reference was recorded before: the order as it is", body = OrderAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also for another merchant's order)", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`not_payable`: the order is cancelled, or in another currency", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn record_payment(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<(axum::http::StatusCode, Json<OrderAnswer>), ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let id = order_of(&state, &caller, &id).await?.order_id;
    let raw: PaymentBody = parse_json(&body)?;
    let payment = order_cases::NewPayment::parse(&raw.amount, &raw.currency, &raw.reference)?;
    let (order, recorded) = order_cases::record_payment(&state.ports, &id, &payment).await?;
    let status = if recorded { axum::http::StatusCode::CREATED } else { axum::http::StatusCode::OK };
    Ok((status, Json(order.into())))
}

/// Modify an order, all or nothing.
///
/// Any of `customer`, `shipping_address`, `lines` in the generic channel's shapes: address
/// and contact until shipment, lines only before stock is planned or held (a backorder is
/// planned again).
#[utoipa::path(
    patch,
    path = "/orders/{id}",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id")),
    request_body(content = Object, description = "Any of `customer`, `shipping_address`, `lines`", content_type = "application/json"),
    responses(
        (status = 200, description = "The order as modified", body = OrderAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also for another merchant's order)", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`not_modifiable` (the order's stage), `unknown_sku`, or `field_too_long` (a text field over 200 characters, `field` names it)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn modify_order(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<OrderAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    // Prices are checked against the order's currency: read it first (the use case checks
    // again on the order it writes).
    let order = order_of(&state, &caller, &id).await?;
    let (id, currency) = (order.order_id, order.currency);
    let patch = channels::generic::parse_patch(&body, currency)?;
    Ok(Json(order_cases::modify_order(&state.ports, &id, patch).await?.into()))
}
