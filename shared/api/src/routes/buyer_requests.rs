//! Buyer requests matched to the catalogue: post one (answered with its proposal), read
//! it, accept its best offer (an order, once). The handlers parse and answer; the use cases
//! (`oms_domain::usecases::matchmaking`) decide.
//!
//! A request is the platform's, not a merchant's: the platform's storefront (a platform
//! credential, naming no merchant, with `oms/storefront`) posts and accepts for its buyers,
//! and platform staff (`oms/platform`) enter them for buyers; a merchant's credential is
//! refused.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::matchmaking::{BuyerRequest, Exclusion, Offer, RequestDetails};
use oms_domain::usecases::matchmaking::{self as cases, NewRequest, Posted};
use oms_domain::validation::parse_json;
use oms_domain::{BuyerRequestId, CustomerId, ValidationError};

use super::flash_sales::AddressBody;
use super::{AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(post_request)).routes(routes!(get_request)).routes(routes!(accept_request))
}

/// The body of `POST /buyer-requests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyerRequestBody {
    /// The client's id of the request: the same id again answers the stored request.
    pub request_id: String,
    pub customer_id: String,
    /// What the buyer asks for, 1 to 200 characters.
    pub name: String,
    /// Size, material, model..., up to 500 characters.
    #[serde(default)]
    pub specification: String,
    /// 1 to 1,000,000 units.
    pub quantity: i64,
    /// The province the goods go to (English or Chinese).
    pub region: String,
    /// When the goods are needed by: in the future, at most 90 days on.
    #[schema(value_type = String, format = DateTime)]
    pub deadline: DateTime<Utc>,
    /// Where the order ships once accepted; without it the order waits on hold
    /// (`address_missing`).
    #[serde(default)]
    pub shipping_address: Option<AddressBody>,
}

/// One offer of a proposal: a merchant's stock priced landed in the buyer's region.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposedOfferAnswer {
    pub sku: String,
    pub merchant_id: String,
    pub warehouse_id: String,
    /// The listing's name.
    pub name: String,
    pub quantity: u32,
    /// The wholesale unit price at this quantity, a decimal string.
    pub unit_price: String,
    /// `unit_price` x `quantity`.
    pub goods: String,
    /// One parcel from the warehouse to the region's capital.
    pub shipping: String,
    /// `goods` + `shipping`: what the offers are ranked by.
    pub landed_price: String,
    /// How well the listing's text matched the request (BM25).
    pub text_score: f32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_stock: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = Date)]
    pub earliest_expiry: Option<NaiveDate>,
    /// Why it is offered, in words.
    pub why: String,
}

impl From<&Offer> for ProposedOfferAnswer {
    fn from(o: &Offer) -> Self {
        Self {
            sku: o.sku.to_string(),
            merchant_id: o.merchant_id.to_string(),
            warehouse_id: o.warehouse_id.to_string(),
            name: o.name.clone(),
            quantity: o.quantity,
            unit_price: o.unit_price.to_string(),
            goods: o.goods.to_string(),
            shipping: o.shipping.to_string(),
            landed_price: o.landed_price.to_string(),
            text_score: o.text_score,
            oldest_stock: o.oldest_stock,
            earliest_expiry: o.earliest_expiry,
            why: o.why.clone(),
        }
    }
}

/// A matching stock left out of the proposal, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExclusionAnswer {
    pub sku: String,
    pub merchant_id: String,
    pub warehouse_id: Option<String>,
    /// `not_sellable`, `no_price`, `short_of_stock` or `expires_before_deadline`.
    pub reason: String,
    pub explanation: String,
}

impl From<&Exclusion> for ExclusionAnswer {
    fn from(e: &Exclusion) -> Self {
        Self {
            sku: e.sku.to_string(),
            merchant_id: e.merchant_id.to_string(),
            warehouse_id: e.warehouse_id.as_ref().map(ToString::to_string),
            reason: e.reason.as_str().to_owned(),
            explanation: e.explanation.clone(),
        }
    }
}

/// A buyer request: `POST /buyer-requests` (201; 200 for an id posted before),
/// `GET /buyer-requests/{id}`, `POST /buyer-requests/{id}/accept`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BuyerRequestAnswer {
    pub request_id: String,
    pub customer_id: String,
    /// `proposed`, `no_match`, `accepted` or `expired`.
    pub status: String,
    pub name: String,
    pub specification: String,
    pub quantity: u32,
    pub region: String,
    #[schema(value_type = String, format = DateTime)]
    pub deadline: DateTime<Utc>,
    /// The best offer first, then the next few.
    pub offers: Vec<ProposedOfferAnswer>,
    /// The matching stock left out, with the reason.
    pub excluded: Vec<ExclusionAnswer>,
    /// The order, once accepted (channel `marketplace`, external id the request id).
    pub order_id: Option<String>,
    /// Who entered it: `storefront` or `platform`.
    pub entered_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// True when this answer is of a request stored before this call.
    pub repeated: bool,
}

impl BuyerRequestAnswer {
    fn of(request: &BuyerRequest, repeated: bool) -> Self {
        let d = &request.details;
        let (offers, excluded) = request.proposal.as_ref().map_or((Vec::new(), Vec::new()), |p| {
            (p.offers.iter().map(ProposedOfferAnswer::from).collect(), p.excluded.iter().map(ExclusionAnswer::from).collect())
        });
        Self {
            request_id: request.request_id.to_string(),
            customer_id: request.customer_id.to_string(),
            status: request.status.as_str().to_owned(),
            name: d.name.clone(),
            specification: d.specification.clone(),
            quantity: d.quantity,
            region: d.region.clone(),
            deadline: d.deadline,
            offers,
            excluded,
            order_id: request.order_id.as_ref().map(ToString::to_string),
            entered_by: request.entered_by.clone(),
            created_at: request.created_at,
            repeated,
        }
    }
}

impl From<Posted> for BuyerRequestAnswer {
    fn from(posted: Posted) -> Self {
        Self::of(&posted.request, posted.repeated)
    }
}

/// Who may work on buyer requests, and who entered one: the platform's storefront
/// (`storefront`: a platform credential, naming no merchant, with `oms/storefront`), or
/// platform staff (`platform`). A merchant's credential is refused: requests are matched
/// across every merchant.
fn buyer_desk(caller: Authed) -> Result<&'static str, ApiError> {
    if caller.0.merchant_id().is_some() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "buyer requests are the platform's: a merchant's credential cannot work on them",
        ));
    }
    if caller.0.has(Scope::Storefront) {
        return Ok("storefront");
    }
    caller.with(Scope::Platform)?;
    Ok("platform")
}

fn parse_request(body: &[u8], entered_by: &str, now: DateTime<Utc>) -> Result<NewRequest, ValidationError> {
    let raw: BuyerRequestBody = parse_json(body)?;
    Ok(NewRequest {
        request_id: BuyerRequestId::parse(raw.request_id).map_err(|e| e.within("request_id"))?,
        customer_id: CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?,
        details: RequestDetails::parse(&raw.name, &raw.specification, raw.quantity, &raw.region, raw.deadline, now)?,
        shipping_address: raw.shipping_address.as_ref().map(super::flash_sales::parse_address).transpose()?,
        entered_by: entered_by.to_owned(),
    })
}

fn request_id(raw: &str) -> Result<BuyerRequestId, ApiError> {
    BuyerRequestId::parse(raw).map_err(|_| ApiError::new(ErrorCode::BuyerRequestNotFound, format!("no buyer request {raw}")))
}

/// Posts a buyer request: matched at once against every merchant's listed, stocked
/// products; answered with its proposal (the best offer and the next few, each priced
/// landed in the region with why, and the matching stock left out with why).
#[utoipa::path(
    post,
    path = "/buyer-requests",
    tag = "buyer-requests",
    request_body = BuyerRequestBody,
    responses(
        (status = 201, description = "The request, `proposed` with its offers or `no_match`", body = BuyerRequestAnswer),
        (status = 200, description = "A request of this id was posted before: the stored one (`repeated`)", body = BuyerRequestAnswer),
        (status = 400, description = "`invalid_request`, naming the field; nothing stored", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a merchant's credential", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]), ("bearer" = ["oms/platform"]))
)]
async fn post_request(
    State(state): State<AppState>,
    caller: Authed,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<BuyerRequestAnswer>), ApiError> {
    let entered_by = buyer_desk(caller)?;
    let new = parse_request(&body, entered_by, state.ports.clock.now())?;
    let posted = cases::submit(&state.ports, new).await?;
    let status = if posted.repeated { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(posted.into())))
}

/// A buyer request with its proposal and, once accepted, its order.
#[utoipa::path(
    get,
    path = "/buyer-requests/{id}",
    tag = "buyer-requests",
    params(("id" = String, Path, description = "The request")),
    responses(
        (status = 200, description = "The request", body = BuyerRequestAnswer),
        (status = 404, description = "`buyer_request_not_found`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a merchant's credential", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]), ("bearer" = ["oms/platform"]))
)]
async fn get_request(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<BuyerRequestAnswer>, ApiError> {
    buyer_desk(caller)?;
    let request = cases::request(&state.ports, &request_id(&id)?).await?;
    Ok(Json(BuyerRequestAnswer::of(&request, false)))
}

/// The buyer accepts the proposal's best offer: it becomes an order through intake
/// (channel `marketplace`, external id the request id, the offer's merchant), unpaid.
/// Accepting again answers the same order.
#[utoipa::path(
    post,
    path = "/buyer-requests/{id}/accept",
    tag = "buyer-requests",
    params(("id" = String, Path, description = "The request")),
    responses(
        (status = 200, description = "The request, `accepted` with its order (`repeated` when accepted before)", body = BuyerRequestAnswer),
        (status = 404, description = "`buyer_request_not_found`", body = ErrorBody),
        (status = 409, description = "`buyer_request_state_conflict`: it matched nothing, or expired", body = ErrorBody),
        (status = 410, description = "`buyer_request_expired`: its deadline has passed", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a merchant's credential", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]), ("bearer" = ["oms/platform"]))
)]
async fn accept_request(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<BuyerRequestAnswer>, ApiError> {
    buyer_desk(caller)?;
    let accepted = cases::accept(&state.ports, &request_id(&id)?).await?;
    Ok(Json(accepted.into()))
}
