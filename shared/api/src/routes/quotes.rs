//! `POST /quotes`: a price for a customer, SKU and quantity from the current pricing
//! model (`oms_pricing`), within the SKU's guard rails.

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
use oms_domain::{CustomerId, Sku, ValidationError};
use oms_pricing::{Artifact, Query};

use super::{AppState, RawBody};
use crate::answers::QuoteAnswer;
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

/// The longest province or city name a quote takes.
const MAX_PLACE_CHARS: usize = 200;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(quote))
}

/// The pricing model quotes are answered from: none until one is trained and loaded;
/// replaced whole, so a quote sees one model from start to end.
#[derive(Debug, Clone, Default)]
pub struct PricingModel(Arc<RwLock<Option<Arc<Artifact>>>>);

impl PricingModel {
    pub fn new(artifact: Option<Artifact>) -> Self {
        PricingModel(Arc::new(RwLock::new(artifact.map(Arc::new))))
    }

    /// Makes `artifact` the model later quotes use.
    pub fn replace(&self, artifact: Artifact) {
        if let Ok(mut current) = self.0.write() {
            *current = Some(Arc::new(artifact));
        }
    }

    /// The model now, if any.
    pub fn current(&self) -> Option<Arc<Artifact>> {
        self.0.read().ok().and_then(|current| current.clone())
    }
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
}

struct QuoteRequest {
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

/// A price quote for a customer and SKU: the narrowest segment with a model (the
/// customer's own, the SKU's, the province's, everyone's) predicts; the SKU's guard rails
/// clamp, and `clamped` says which one did.
#[utoipa::path(
    post,
    path = "/quotes",
    tag = "quotes",
    request_body = QuoteBody,
    responses(
        (status = 200, description = "The quoted price and the model behind it", body = QuoteAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 503, description = "`no_pricing_model`: no model has been trained yet", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn quote(State(state): State<AppState>, caller: Authed, RawBody(body): RawBody) -> Result<Json<QuoteAnswer>, ApiError> {
    // The merchant's storefront backend vouches for the customer id it passes.
    caller.with(Scope::Storefront)?;
    let request = QuoteBody::parse(&body)?;
    let model = state
        .pricing
        .current()
        .ok_or_else(|| ApiError::new(ErrorCode::NoPricingModel, "no pricing model has been trained yet (oms retrain)"))?;
    let query = Query {
        customer_id: request.customer_id.as_str(),
        sku: request.sku.as_str(),
        quantity: request.quantity,
        province: &request.province,
        city: &request.city,
        at: chrono::Utc::now(),
    };
    let quote = model.quote(&query).map_err(|err| ApiError::new(ErrorCode::NoPricingModel, err.to_string()))?;
    Ok(Json(quote.into()))
}
