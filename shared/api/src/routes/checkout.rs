//! The platform's own checkout (`oms_domain::usecases::checkout`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::order::Channel;
use oms_domain::usecases::checkout;

use super::{acting_merchant, AppState, RawBody};
use crate::answers::ReceiptAnswer;
use crate::error::ErrorBody;
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(place_checkout))
}

/// A buyer's order placed through the merchant's storefront on the platform.
///
/// The body is the contract's generic order (`external_id` is the checkout id); the
/// storefront's backend vouches for the customer. Unlike a channel's order (stored and
/// held), a checkout the platform may not sell is refused and nothing is stored: the
/// merchant must be approved and every line's SKU sellable now (its listing approved and
/// listed, with a unit on hand; a SKU with no listing predates the review and sells). The
/// order then goes through allocation like any other, channel `checkout`.
#[utoipa::path(
    post,
    path = "/checkout",
    tag = "orders",
    request_body(content = Object, description = "The generic order; `external_id` is the checkout id", content_type = "application/json"),
    responses(
        (status = 201, description = "The order, received", body = ReceiptAnswer),
        (status = 200, description = "The same checkout id again: the first order, `duplicate: true`, nothing changed", body = ReceiptAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront` or names another merchant; `merchant_not_approved`: the merchant may not sell yet", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`product_not_sellable`: a line's listing is not approved, not listed or not stocked; nothing is stored", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn place_checkout(
    State(state): State<AppState>,
    caller: Authed,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ReceiptAnswer>), ApiError> {
    let caller = caller.with(Scope::Storefront)?;
    let new = oms_channels::normalise(Channel::Generic, &body)?;
    acting_merchant(&caller, Some(new.merchant_id.as_str()))?;
    let receipt = checkout::checkout(&state.ports, new).await?;
    let status = if receipt.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(receipt.into())))
}
