//! `POST /quotes`: a price for a customer, SKU and quantity from the current pricing
//! model (`oms_pricing`), within the SKU's guard rails.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::order::check_quantity;
use oms_domain::validation::parse_json;
use oms_domain::{CustomerId, MerchantId, Sku, ValidationError};
use oms_pricing::{Artifact, CataloguePrices, Query};

use super::{acting_merchant, AppState, RawBody};
use crate::answers::QuoteAnswer;
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

/// The longest province or city name a quote takes.
const MAX_PLACE_CHARS: usize = 200;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(quote))
}

/// The pricing models quotes are answered from, one per merchant (each trained on that
/// merchant's history only): none until one is trained and loaded; each replaced whole,
/// so a quote sees one model from start to end.
#[derive(Debug, Clone, Default)]
pub struct PricingModel(Arc<RwLock<HashMap<String, Arc<Artifact>>>>);

impl PricingModel {
    /// The models given, each its merchant's (`Artifact::merchant_id`).
    pub fn new(artifacts: impl IntoIterator<Item = Artifact>) -> Self {
        let models = artifacts.into_iter().map(|artifact| (artifact.merchant_id.clone(), Arc::new(artifact))).collect();
        PricingModel(Arc::new(RwLock::new(models)))
    }

    /// Makes `artifact` the model later quotes for its merchant use.
    pub fn replace(&self, artifact: Artifact) {
        if let Ok(mut models) = self.0.write() {
            models.insert(artifact.merchant_id.clone(), Arc::new(artifact));
        }
    }

    /// `merchant`'s model now, if any.
    pub fn current(&self, merchant: &str) -> Option<Arc<Artifact>> {
        self.0.read().ok().and_then(|models| models.get(merchant).cloned())
    }

    /// The version of each merchant's model now.
    pub fn versions(&self) -> HashMap<String, String> {
        self.0
            .read()
            .map(|models| models.iter().map(|(merchant, model)| (merchant.clone(), model.version.clone())).collect())
            .unwrap_or_default()
    }
}

/// The SKU catalogue's category and prices of `sku`, when the catalogue has the SKU for
/// `merchant`.
pub(super) async fn catalogued(
    state: &AppState,
    merchant: &MerchantId,
    sku: &Sku,
) -> Result<Option<(String, CataloguePrices)>, ApiError> {
    Ok(state
        .ports
        .catalogue
        .get_sku(sku)
        .await?
        .filter(|facts| &facts.merchant_id == merchant)
        .map(|facts| (facts.category, CataloguePrices { cost: facts.cost, list_price: facts.list_price })))
}

/// The body of `POST /quotes`: every field required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QuoteBody {
    pub customer_id: String,
    pub sku: String,
    /// 1 to 10,000.
    pub quantity: i64,
    /// 1 to 200 characters.
    pub province: String,
    /// 1 to 200 characters.
    pub city: String,
    /// Whose prices: the caller's own merchant by default; platform staff must name it.
    #[serde(default)]
    pub merchant_id: Option<String>,
}

struct QuoteRequest {
    merchant_id: Option<String>,
    customer_id: CustomerId,
    sku: Sku,
    quantity: u32,
    province: String,
    city: String,
}

impl QuoteBody {
    fn parse(body: &[u8]) -> Result<QuoteRequest, ValidationError> {
        let raw: QuoteBody = parse_json(body)?;
        Ok(QuoteRequest {
            merchant_id: raw.merchant_id,
            customer_id: CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?,
            sku: Sku::parse(raw.sku).map_err(|e| e.within("sku"))?,
            quantity: check_quantity(raw.quantity)?,
            province: place(raw.province, "province")?,
            city: place(raw.city, "city")?,
        })
    }
}

fn place(raw: String, field: &str) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_PLACE_CHARS {
        return Err(ValidationError::new(field, format!("must be 1 to {MAX_PLACE_CHARS} characters")));
    }
    Ok(trimmed.to_owned())
}

/// A price quote for a customer and SKU from the merchant's own model: the narrowest
/// segment with a model (the customer's own, the SKU's, the province's, everyone's)
/// predicts, with the SKU catalogue's category; the guard rails clamp (the catalogue's
/// cost plus the least margin and list price, else the history's lowest and highest
/// price), and `clamped` says which one did.
#[utoipa::path(
    post,
    path = "/quotes",
    tag = "quotes",
    request_body = QuoteBody,
    responses(
        (status = 200, description = "The quoted price and the model behind it", body = QuoteAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`, or names another merchant", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 503, description = "`no_pricing_model`: no model of the merchant has been trained yet", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn quote(State(state): State<AppState>, caller: Authed, RawBody(body): RawBody) -> Result<Json<QuoteAnswer>, ApiError> {
    // The merchant's storefront backend vouches for the customer id it passes.
    let caller = caller.with(Scope::Storefront)?;
    let request = QuoteBody::parse(&body)?;
    let merchant = acting_merchant(&caller, request.merchant_id.as_deref())?;
    let model = state.pricing.current(merchant.as_str()).ok_or_else(|| {
        ApiError::new(ErrorCode::NoPricingModel, format!("no pricing model of merchant {merchant} has been trained yet"))
    })?;
    let catalogue = catalogued(&state, &merchant, &request.sku).await?;
    let query = Query {
        customer_id: request.customer_id.as_str(),
        sku: request.sku.as_str(),
        quantity: request.quantity,
        province: &request.province,
        city: &request.city,
        at: chrono::Utc::now(),
        category: catalogue.as_ref().map(|(category, _)| category.as_str()),
    };
    let quote = model
        .quote_with(&query, catalogue.as_ref().map(|(_, prices)| prices))
        .map_err(|err| ApiError::new(ErrorCode::NoPricingModel, err.to_string()))?;
    Ok(Json(quote.into()))
}
