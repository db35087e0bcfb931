//! `GET /customers/{id}/offers`: the SKUs best suited to a customer, from its merchant's
//! history alone (`oms_pricing::offers`), each quoted as `POST /quotes` would quote one unit;
//! and `GET /customers/{id}/recommendations`: the same ranking, unpriced, kept to the
//! products the merchant can ship now (in its catalogue, with units available), each with
//! where it ships from, and saying what was left out and why.

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::allocation::geo::Place;
use oms_domain::carrier::RateTable;
use oms_domain::delivery::delivery_days;
use oms_domain::ports::{OrderQuery, Page};
use oms_domain::stock::StockLevel;
use oms_domain::{CustomerId, MerchantId, Sku, ValidationError, WarehouseId};

use oms_pricing::CataloguePrices;

use super::acting_merchant;
use super::{AppState, PathParams};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

/// Offers answered when the caller does not say, and the most it may ask for.
const DEFAULT_OFFERS: usize = 10;
const MAX_OFFERS: usize = 50;
/// The longest province a caller may name.
const MAX_PROVINCE_CHARS: usize = 200;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(offers)).routes(routes!(recommendations))
}

/// The recommendations' own query parameter.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DeliveryParams {
    /// Leave out what would take longer to reach the customer, in days (0 to 60); one whose
    /// delivery time is unknown is kept, without `delivery_days`.
    #[param(minimum = 0, maximum = 60)]
    max_delivery_days: Option<u32>,
}

/// The longest delivery a caller may ask to keep to, in days.
const MAX_DELIVERY_DAYS: u32 = 60;

/// The query string of `GET /customers/{id}/offers`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OffersParams {
    /// Most offers: 1 to 50, default 10.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<usize>,
    /// Whose customer: the caller's own merchant by default; platform staff must name it.
    merchant_id: Option<String>,
    /// The customer's province, when the caller knows it (else the history's, else its
    /// latest order's): the best sellers there are offered to a customer the history does not know.
    province: Option<String>,
}

/// One offer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferAnswer {
    pub sku: String,
    /// The SKU catalogue's name, when it has the SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The price of one unit for this customer (as `POST /quotes` answers), a decimal string.
    pub price: String,
    pub currency: String,
    /// 0 to 1: how well it suits the customer, relative to the best offer.
    pub score: f64,
    /// Why it is offered, in a few words.
    pub reason: String,
}

/// The answer of `GET /customers/{id}/offers`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OffersAnswer {
    pub customer_id: String,
    pub offers: Vec<OfferAnswer>,
}

/// The products best suited to a customer, best first: what customers who bought what it
/// bought also bought, the categories it buys, what it buys again when buying again is
/// typical (else nothing it bought in the last 30 days), filled with the best sellers of
/// its province; a customer the history does not know gets its province's best sellers
/// (every province's when the province is unknown). Each is priced for this customer by
/// the merchant's model, within the catalogue's guard rails. Only the merchant's own
/// history is used.
#[utoipa::path(
    get,
    path = "/customers/{id}/offers",
    tag = "quotes",
    params(("id" = String, Path, description = "The customer's id, as the merchant's orders carry it"), OffersParams),
    responses(
        (status = 200, description = "The offers, best first", body = OffersAnswer),
        (status = 400, description = "`invalid_request`: a limit outside 1 to 50, a malformed id, or (platform staff) no `merchant_id`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`, or names another merchant", body = ErrorBody),
        (status = 503, description = "`no_pricing_model`: no model of the merchant has been trained yet", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn offers(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    params: Result<Query<OffersParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OffersAnswer>, ApiError> {
    let Asked { customer, merchant, model, limit, province, city } = Asked::resolve(&state, caller, id, params).await?;
    let now = chrono::Utc::now();
    let mut answered = Vec::new();
    for offer in model.offers.offers(customer.as_str(), province.as_deref(), now, limit) {
        let Ok(sku) = Sku::parse(&offer.sku) else { continue };
        let facts = state.ports.catalogue.get_sku(&sku).await?.filter(|facts| facts.merchant_id == merchant);
        let catalogue = facts
            .as_ref()
            .map(|facts| (facts.category.clone(), CataloguePrices { cost: facts.cost, list_price: facts.list_price }));
        let query = oms_pricing::Query {
            customer_id: customer.as_str(),
            sku: sku.as_str(),
            quantity: 1,
            province: province.as_deref().unwrap_or_default(),
            city: &city,
            at: now,
            category: catalogue.as_ref().map(|(category, _)| category.as_str()),
        };
        let Ok(quote) = model.quote_with(&query, catalogue.as_ref().map(|(_, prices)| prices)) else { continue };
        answered.push(OfferAnswer {
            sku: offer.sku,
            name: facts.map(|facts| facts.name),
            price: quote.price.normalize().to_string(),
            currency: quote.currency,
            score: offer.score,
            reason: offer.reason,
        });
    }
    Ok(Json(OffersAnswer { customer_id: customer.to_string(), offers: answered }))
}

/// What an offers or recommendations request asks, checked: whose customer, its
/// merchant's model, and the place its best sellers are of.
struct Asked {
    customer: CustomerId,
    merchant: MerchantId,
    model: std::sync::Arc<oms_pricing::Artifact>,
    limit: usize,
    province: Option<String>,
    city: String,
}

impl Asked {
    async fn resolve(
        state: &AppState,
        caller: Authed,
        id: String,
        params: Result<Query<OffersParams>, axum::extract::rejection::QueryRejection>,
    ) -> Result<Asked, ApiError> {
        let caller = caller.with(Scope::Storefront)?;
        let Query(params) = params.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
        let customer = CustomerId::parse(id).map_err(|e| e.within("id"))?;
        let limit = params.limit.unwrap_or(DEFAULT_OFFERS);
        if !(1..=MAX_OFFERS).contains(&limit) {
            return Err(ValidationError::new("limit", format!("must be 1 to {MAX_OFFERS}")).into());
        }
        let merchant = acting_merchant(&caller, params.merchant_id.as_deref())?;
        let model = state.pricing.current(merchant.as_str()).ok_or_else(|| {
            ApiError::new(ErrorCode::NoPricingModel, format!("no pricing model of merchant {merchant} has been trained yet"))
        })?;
        let hint = params.province.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
        if hint.as_ref().is_some_and(|p| p.chars().count() > MAX_PROVINCE_CHARS) {
            return Err(ValidationError::new("province", format!("must be at most {MAX_PROVINCE_CHARS} characters")).into());
        }
        let (province, city) = match hint.or_else(|| model.offers.province_of(customer.as_str()).map(str::to_owned)) {
            Some(province) => (Some(province), String::new()),
            None => latest_place(state, &merchant, &customer).await?,
        };
        Ok(Asked { customer, merchant, model, limit, province, city })
    }
}

/// Candidates a recommendation weighs for each one it answers: enough that a few left out
/// (not in the catalogue, rated poorly, out of stock) still leave a full list.
const CANDIDATES_PER_ANSWER: usize = 3;

/// One recommendation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationAnswer {
    pub sku: String,
    /// The SKU catalogue's name and category.
    pub name: String,
    pub category: String,
    /// 0 to 1: how well it suits the customer, relative to the best candidate.
    pub score: f64,
    /// Why it is recommended, in a few words.
    pub reason: String,
    /// Units of the merchant's own stock available now, over every warehouse.
    pub available: u64,
    /// Where it would ship from: of the warehouses with units, the one that reaches the
    /// customer soonest (ties: the most units), or with the most units when the customer's
    /// place is unknown.
    pub ships_from: String,
    /// Days in transit from there to the customer (the carriers' rate tables: each
    /// carrier's band for the distance and weight, the fastest of them); absent when the
    /// customer's place is unknown or no carrier's band carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_days: Option<u32>,
    /// Buyers' mean stars (`GET /skus/{sku}/reviews`); absent before its first review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<f64>,
}

/// A candidate left out, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeftOut {
    pub sku: String,
    /// `not_in_catalogue` (not a product the merchant lists), `often_returned` (its buyers
    /// sent back 30 % of its units or more, over 5 sold or more), `poorly_rated` (buyers'
    /// mean under 3 stars over 3 reviews or more), `out_of_stock` (none of the merchant's
    /// units available: it would not ship soon) or `too_slow` (it would take more than
    /// `max_delivery_days` to reach the customer).
    pub why: &'static str,
}

/// The answer of `GET /customers/{id}/recommendations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationsAnswer {
    pub customer_id: String,
    /// The model whose index ranked them (`POST /quotes` prices from the same one).
    pub model_version: String,
    pub recommendations: Vec<RecommendationAnswer>,
    /// The better-ranked candidates left out, best first.
    pub left_out: Vec<LeftOut>,
}

/// The products the customer is most likely to buy next, best first, from the same
/// ranking as its offers (what customers who bought what it bought lately also bought,
/// the categories it buys, what it buys again when that is typical, its province's best
/// sellers), kept to products the merchant can ship now and buyers rate well: in the
/// merchant's SKU catalogue (a SKU it no longer lists is left out), not rated poorly by
/// its buyers' reviews, and with units of the merchant's own stock
/// available (an out-of-stock product would ship late). Unpriced: `POST /quotes` and
/// `GET /customers/{id}/offers` price them. Only the merchant's own history is used.
#[utoipa::path(
    get,
    path = "/customers/{id}/recommendations",
    tag = "quotes",
    params(("id" = String, Path, description = "The customer's id, as the merchant's orders carry it"), OffersParams, DeliveryParams),
    responses(
        (status = 200, description = "The recommendations, best first, and what was left out", body = RecommendationsAnswer),
        (status = 400, description = "`invalid_request`: a limit outside 1 to 50, a `max_delivery_days` outside 0 to 60, a malformed id, or (platform staff) no `merchant_id`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`, or names another merchant", body = ErrorBody),
        (status = 503, description = "`no_pricing_model`: no model of the merchant has been trained yet", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn recommendations(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    params: Result<Query<OffersParams>, axum::extract::rejection::QueryRejection>,
    delivery: Result<Query<DeliveryParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RecommendationsAnswer>, ApiError> {
    let Query(delivery) = delivery.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    if delivery.max_delivery_days.is_some_and(|days| days > MAX_DELIVERY_DAYS) {
        return Err(ValidationError::new("max_delivery_days", format!("must be 0 to {MAX_DELIVERY_DAYS}")).into());
    }
    let asked = Asked::resolve(&state, caller, id, params).await?;
    let place = oms_domain::delivery::place_of(asked.province.as_deref(), &asked.city);
    let rates = if place.is_some() { state.ports.rates.list_rates().await? } else { Vec::new() };
    let candidates = asked.model.offers.offers(
        asked.customer.as_str(),
        asked.province.as_deref(),
        chrono::Utc::now(),
        asked.limit * CANDIDATES_PER_ANSWER,
    );
    let mut answer = RecommendationsAnswer {
        customer_id: asked.customer.to_string(),
        model_version: asked.model.version.clone(),
        recommendations: Vec::new(),
        left_out: Vec::new(),
    };
    for candidate in candidates {
        if answer.recommendations.len() == asked.limit {
            break;
        }
        let Ok(sku) = Sku::parse(&candidate.sku) else { continue };
        let facts = state.ports.catalogue.get_sku(&sku).await?.filter(|facts| facts.merchant_id == asked.merchant);
        let Some(facts) = facts else {
            answer.left_out.push(LeftOut { sku: candidate.sku, why: "not_in_catalogue" });
            continue;
        };
        if asked.model.offers.is_often_returned(&candidate.sku) {
            answer.left_out.push(LeftOut { sku: candidate.sku, why: "often_returned" });
            continue;
        }
        let rating = state.ports.reviews.rating_of(&asked.merchant, &sku).await?;
        if rating.is_poor() {
            answer.left_out.push(LeftOut { sku: candidate.sku, why: "poorly_rated" });
            continue;
        }
        let stock = state.ports.inventory.stock_of(&sku).await?;
        let own: Vec<&StockLevel> = stock.iter().filter(|level| level.owner == asked.merchant && level.available > 0).collect();
        let available: u64 = own.iter().map(|level| u64::from(level.available)).sum();
        let Some((ships_from, delivery_days)) = ship_from(&state, &own, place, facts.weight_g, &rates).await? else {
            answer.left_out.push(LeftOut { sku: candidate.sku, why: "out_of_stock" });
            continue;
        };
        if delivery_days.zip(delivery.max_delivery_days).is_some_and(|(days, most)| days > most) {
            answer.left_out.push(LeftOut { sku: candidate.sku, why: "too_slow" });
            continue;
        }
        answer.recommendations.push(RecommendationAnswer {
            sku: candidate.sku,
            name: facts.name,
            category: facts.category,
            score: candidate.score,
            reason: candidate.reason,
            available,
            ships_from: ships_from.to_string(),
            delivery_days,
            rating: rating.average(),
        });
    }
    Ok(Json(answer))
}

/// Of the warehouses holding `own` units, where a unit would ship from and its days to
/// `place`: the soonest there (ties: the most units, then the first id); with the place
/// unknown, the most units and no days. `None` with no units.
async fn ship_from(
    state: &AppState,
    own: &[&StockLevel],
    place: Option<Place>,
    weight_g: u32,
    rates: &[RateTable],
) -> Result<Option<(WarehouseId, Option<u32>)>, ApiError> {
    let mut best: Option<(Option<u32>, u32, &WarehouseId)> = None;
    for level in own {
        let days = match (place, state.ports.warehouses.get_warehouse(&level.warehouse).await?) {
            (Some(place), Some(warehouse)) => delivery_days(Some(place), &warehouse, weight_g, rates),
            _ => None,
        };
        // Known days first, fewer better; then more units; then the first id.
        let better = best.is_none_or(|(best_days, units, id)| {
            let by_days = match (days, best_days) {
                (Some(a), Some(b)) => a.cmp(&b),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            by_days.then_with(|| units.cmp(&level.available)).then_with(|| level.warehouse.cmp(id)).is_lt()
        });
        if better {
            best = Some((days, level.available, &level.warehouse));
        }
    }
    Ok(best.map(|(days, _, id)| (id.clone(), days)))
}

/// The province and city of the customer's latest order with the merchant, if any.
async fn latest_place(
    state: &AppState,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<(Option<String>, String), ApiError> {
    let query = OrderQuery::of(merchant.clone()).customer(customer.clone());
    let found = state.ports.orders.find_orders(&query, &Page::first(1)).await?;
    Ok(found
        .orders
        .first()
        .map(|order| (order.shipping_address.province.clone(), order.shipping_address.city.clone()))
        .unwrap_or_default())
}
