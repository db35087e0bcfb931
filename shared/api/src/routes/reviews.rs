//! The buyer's side after the sale (`oms_domain::review`): `POST
//! /orders/{id}/delivery-confirmation` and `POST /orders/{id}/reviews`, each by the
//! merchant's storefront for the customer it vouches for, and `GET /skus/{sku}/reviews`,
//! a SKU's rating and newest reviews.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::review::{Rating, Review};
use oms_domain::usecases::reviews::{self as cases, NewReview};
use oms_domain::validation::parse_json;
use oms_domain::{CustomerId, Sku, ValidationError};

use super::orders::order_of;
use super::{acting_merchant, AppState, PathParams, RawBody};
use crate::answers::OrderAnswer;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::Authed;

/// Reviews answered when the caller does not say, and the most it may ask for.
const DEFAULT_REVIEWS: usize = 20;
const MAX_REVIEWS: usize = 100;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(confirm_delivery)).routes(routes!(review_order)).routes(routes!(sku_reviews))
}

/// The body of `POST /orders/{id}/delivery-confirmation`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationBody {
    /// The buyer, as the order names it: another customer's order is not found.
    pub customer_id: String,
}

/// The buyer confirms it has the goods: a shipped or in-transit order becomes
/// `delivered`; one the carrier delivered notes the buyer's word; again changes nothing.
#[utoipa::path(
    post,
    path = "/orders/{id}/delivery-confirmation",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id (`ord_...`)")),
    request_body = ConfirmationBody,
    responses(
        (status = 200, description = "The order, delivered", body = OrderAnswer),
        (status = 400, description = "`invalid_request`: malformed JSON, an unknown field, a malformed id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also another merchant's or another customer's order)", body = ErrorBody),
        (status = 409, description = "`not_shipped`: nothing or only part of it has shipped, or it is cancelled", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn confirm_delivery(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<OrderAnswer>, ApiError> {
    // The merchant's storefront backend vouches for the customer id it passes.
    let caller = caller.with(Scope::Storefront)?;
    let raw: ConfirmationBody = parse_json(&body)?;
    let customer = CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?;
    let order = order_of(&state, &caller, &id).await?;
    Ok(Json(cases::confirm_delivery(&state.ports, &order.order_id, &customer).await?.into()))
}

/// The body of `POST /orders/{id}/reviews`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// The buyer, as the order names it: another customer's order is not found.
    pub customer_id: String,
    /// A SKU the order bought.
    pub sku: String,
    /// 1 to 5 stars.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    /// At most 2,000 characters; may be left out.
    #[serde(default)]
    pub text: String,
}

/// One review. The storefront's view leaves out the order and the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewAnswer {
    pub sku: String,
    pub rating: u8,
    pub text: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

impl ReviewAnswer {
    fn of(review: Review, merchant_view: bool) -> Self {
        ReviewAnswer {
            sku: review.sku.to_string(),
            rating: review.rating,
            text: review.text,
            at: review.at,
            order_id: merchant_view.then(|| review.order_id.to_string()),
            customer_id: merchant_view.then(|| review.customer_id.to_string()),
        }
    }
}

/// The buyer reviews a SKU of its delivered order, once: stored and counted in the SKU's
/// rating. The same review again answers it (200); another for a SKU reviewed already is
/// refused.
#[utoipa::path(
    post,
    path = "/orders/{id}/reviews",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id (`ord_...`)")),
    request_body = ReviewBody,
    responses(
        (status = 201, description = "The review, stored", body = ReviewAnswer),
        (status = 200, description = "The same review, stored before", body = ReviewAnswer),
        (status = 400, description = "`invalid_request`, naming the field: a rating outside 1 to 5, a text over 2,000 characters, malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also another merchant's or another customer's order)", body = ErrorBody),
        (status = 409, description = "`already_reviewed`: the SKU of this order is reviewed, differently", body = ErrorBody),
        (status = 422, description = "`not_delivered`: the buyer does not have the goods yet; `not_bought`: the order has no line of the SKU", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn review_order(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ReviewAnswer>), ApiError> {
    let caller = caller.with(Scope::Storefront)?;
    let raw: ReviewBody = parse_json(&body)?;
    let asked = NewReview {
        customer: CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?,
        sku: Sku::parse(raw.sku).map_err(|e| e.within("sku"))?,
        rating: raw.rating,
        text: raw.text,
    };
    let order = order_of(&state, &caller, &id).await?;
    let (review, added) = cases::review(&state.ports, &order.order_id, asked).await?;
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ReviewAnswer::of(review, false))))
}

/// The query string of `GET /skus/{sku}/reviews`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReviewsParams {
    /// Whose SKU: the caller's own merchant by default; platform staff must name it.
    merchant_id: Option<String>,
    /// Most reviews: 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// A SKU's rating: how many reviews, their mean stars (absent with none), and whether
/// buyers rate it poorly (a mean under 3 over 3 reviews or more: recommendations leave it out).
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingAnswer {
    pub count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    pub poor: bool,
}

impl From<Rating> for RatingAnswer {
    fn from(rating: Rating) -> Self {
        RatingAnswer { count: rating.count, average: rating.average(), poor: rating.is_poor() }
    }
}

/// The answer of `GET /skus/{sku}/reviews`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkuReviewsAnswer {
    pub sku: String,
    pub merchant_id: String,
    pub rating: RatingAnswer,
    /// Newest first.
    pub reviews: Vec<ReviewAnswer>,
}

/// A merchant's SKU's rating and newest reviews: the storefront's view (no order or
/// customer) with `oms/storefront`, the merchant's with `oms/orders.read`.
#[utoipa::path(
    get,
    path = "/skus/{sku}/reviews",
    tag = "orders",
    params(("sku" = String, Path, description = "The SKU"), ReviewsParams),
    responses(
        (status = 200, description = "The rating and the newest reviews (none for a SKU never reviewed)", body = SkuReviewsAnswer),
        (status = 400, description = "`invalid_request`: a limit outside 1 to 100, a malformed SKU, (platform staff) no `merchant_id`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`, or names another merchant", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn sku_reviews(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(sku): PathParams<String>,
    params: Result<Query<ReviewsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SkuReviewsAnswer>, ApiError> {
    let (caller, merchant_view) = super::reader(caller)?;
    let Query(params) = params.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let limit = params.limit.unwrap_or(DEFAULT_REVIEWS);
    if !(1..=MAX_REVIEWS).contains(&limit) {
        return Err(ValidationError::new("limit", format!("must be 1 to {MAX_REVIEWS}")).into());
    }
    let merchant = acting_merchant(&caller, params.merchant_id.as_deref())?;
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    let rating = state.ports.reviews.rating_of(&merchant, &sku).await?;
    let reviews = state.ports.reviews.reviews_of(&merchant, &sku, limit).await?;
    Ok(Json(SkuReviewsAnswer {
        sku: sku.to_string(),
        merchant_id: merchant.to_string(),
        rating: rating.into(),
        reviews: reviews.into_iter().map(|review| ReviewAnswer::of(review, merchant_view)).collect(),
    }))
}
