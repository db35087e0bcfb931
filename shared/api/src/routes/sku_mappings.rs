//! A channel's SKUs mapped to ours, per merchant.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::order::Channel;
use oms_domain::sku_mapping::SkuMapping;
use oms_domain::usecases::inventory as inventory_cases;
use oms_domain::validation::parse_json;
use oms_domain::{MerchantId, Sku, ValidationError};

use super::{AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_sku_mapping))
}

/// The body of `PUT /sku-mappings/{channel}/{merchant}/{channel_sku}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SkuMappingBody {
    /// Our SKU, as the warehouses count it.
    pub sku: String,
}

/// `PUT /sku-mappings/{channel}/{merchant}/{channel_sku}`: the mapping as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkuMappingAnswer {
    pub channel: String,
    pub merchant_id: String,
    pub channel_sku: String,
    pub sku: String,
}

impl From<SkuMapping> for SkuMappingAnswer {
    fn from(m: SkuMapping) -> Self {
        Self {
            channel: m.channel.as_str().to_owned(),
            merchant_id: m.merchant_id.to_string(),
            channel_sku: m.channel_sku.to_string(),
            sku: m.sku.to_string(),
        }
    }
}

fn parse(channel: &str, merchant: String, channel_sku: String, body: &[u8]) -> Result<SkuMapping, ValidationError> {
    let channel = Channel::parse(channel).filter(|c| Channel::WEBHOOK.contains(c)).ok_or_else(|| {
        ValidationError::new("channel", format!("{channel:?} is not one of shopify, woocommerce, amazon, generic"))
    })?;
    let merchant_id = MerchantId::parse(merchant).map_err(|e| e.within("merchant"))?;
    let channel_sku = Sku::parse(channel_sku).map_err(|e| e.within("channel_sku"))?;
    let raw: SkuMappingBody = parse_json(body)?;
    let sku = Sku::parse(raw.sku).map_err(|e| e.within("sku"))?;
    Ok(SkuMapping { channel, merchant_id, channel_sku, sku })
}

/// Map a channel's SKU to ours for one merchant. Later orders naming it take ours at
/// intake; orders on hold for it are queued, and proceed once every SKU is known.
#[utoipa::path(
    put,
    path = "/sku-mappings/{channel}/{merchant}/{channel_sku}",
    tag = "inventory",
    params(
        ("channel" = String, Path, description = "shopify, woocommerce, amazon or generic"),
        ("merchant" = String, Path, description = "The merchant (a Shopify shop domain, say)"),
        ("channel_sku" = String, Path, description = "The SKU as the channel names it"),
    ),
    request_body = SkuMappingBody,
    responses(
        (status = 200, description = "The mapping as stored (it replaces an earlier one)", body = SkuMappingAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or the path names another merchant than the caller's", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn put_sku_mapping(
    State(state): State<AppState>,
    caller: Authed,
    PathParams((channel, merchant, channel_sku)): PathParams<(String, String, String)>,
    RawBody(body): RawBody,
) -> Result<Json<SkuMappingAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let mapping = parse(&channel, merchant, channel_sku, &body)?;
    if !caller.sees(&mapping.merchant_id) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this credential maps its own merchant's SKUs only"));
    }
    inventory_cases::map_sku(&state.ports, &mapping).await?;
    Ok(Json(mapping.into()))
}
