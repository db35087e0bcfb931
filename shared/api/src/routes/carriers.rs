//! Carriers' rate tables: `PUT /carriers/{carrier}/rates`, `GET /carriers/{carrier}/rates`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::carrier::{RateTable, UncheckedBand};
use oms_domain::usecases::catalogue as catalogue_cases;
use oms_domain::validation::parse_json;
use oms_domain::{CarrierId, Currency, ValidationError};

use super::{decimal_field, AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_rates, get_rates))
}

/// The body of `PUT /carriers/{carrier}/rates`: the carrier's whole table.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RatesBody {
    /// ISO 4217; `CNY` by default. Allocation prices plans with CNY tables only.
    #[serde(default)]
    pub currency: Option<String>,
    /// 1 to 500 bands. A parcel is charged the cheapest band at least as far and as heavy
    /// as it.
    pub bands: Vec<BandBody>,
}

/// One price of one service.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct BandBody {
    /// A lower-case word (`standard`, `express`).
    pub service: String,
    /// 1 to 10,000 km.
    pub max_distance_km: i64,
    /// 1 g to 1,000,000 g.
    pub max_weight_g: i64,
    /// A decimal string, not negative.
    #[schema(examples("8.00"))]
    pub price: String,
    /// 0 to 60.
    pub transit_days: i64,
    /// The restricted SKU traits the service carries: up to 8 of `fragile`, `hazardous`,
    /// `cold_chain`. A parcel holding a unit with one of them goes only with a band that
    /// lists it. Absent or empty: none.
    #[serde(default)]
    pub handles: Vec<String>,
    /// The longest side of a parcel the band takes, 1 to 20,000 mm. Absent: no limit.
    #[serde(default)]
    pub max_side_mm: Option<i64>,
}

/// `PUT /carriers/{carrier}/rates` and `GET /carriers/{carrier}/rates`: the table as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatesAnswer {
    pub carrier: String,
    pub currency: String,
    pub bands: Vec<BandAnswer>,
}

/// One band as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BandAnswer {
    pub service: String,
    pub max_distance_km: u32,
    pub max_weight_g: u32,
    pub price: String,
    pub transit_days: u32,
    /// The restricted traits the band carries (empty: none).
    pub handles: Vec<String>,
    /// The longest side of a parcel it takes, in mm; `null`: no limit.
    pub max_side_mm: Option<u32>,
}

impl From<RateTable> for RatesAnswer {
    fn from(t: RateTable) -> Self {
        Self {
            carrier: t.carrier.into(),
            currency: t.currency.code().to_owned(),
            bands: t
                .bands
                .into_iter()
                .map(|b| BandAnswer {
                    service: b.service,
                    max_distance_km: b.max_distance_km,
                    max_weight_g: b.max_weight_g,
                    price: b.price.to_string(),
                    transit_days: b.transit_days,
                    handles: b.handles,
                    max_side_mm: b.max_side_mm,
                })
                .collect(),
        }
    }
}

fn parse(carrier: String, body: &[u8]) -> Result<RateTable, ValidationError> {
    let carrier = CarrierId::parse(carrier).map_err(|e| e.within("carrier"))?;
    let raw: RatesBody = parse_json(body)?;
    let currency = Currency::parse(raw.currency.as_deref().unwrap_or("CNY")).map_err(|e| e.within("currency"))?;
    let bands = raw
        .bands
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            Ok(UncheckedBand {
                price: decimal_field("price", &b.price).map_err(|e| e.within(&format!("bands[{i}]")))?,
                service: b.service,
                max_distance_km: b.max_distance_km,
                max_weight_g: b.max_weight_g,
                transit_days: b.transit_days,
                handles: b.handles,
                max_side_mm: b.max_side_mm,
            })
        })
        .collect::<Result<_, ValidationError>>()?;
    RateTable::new(carrier, currency, bands)
}

/// Record a carrier's rate table, replacing its earlier one whole. Allocation prices every
/// candidate shipment by the cheapest band of any carrier that fits it.
#[utoipa::path(
    put,
    path = "/carriers/{carrier}/rates",
    tag = "carriers",
    params(("carrier" = String, Path, description = "The carrier")),
    request_body = RatesBody,
    responses(
        (status = 200, description = "The table as recorded", body = RatesAnswer),
        (status = 400, description = "`invalid_request`, naming the field; nothing is stored", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the rate tables are the platform's; platform staff with `oms/admin` set them", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/admin"]))
)]
async fn put_rates(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(carrier): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<RatesAnswer>, ApiError> {
    // One rate table serves every merchant's plans: platform staff keep it.
    let caller = caller.with(Scope::Admin)?;
    if caller.merchant_id().is_some() {
        return Err(ApiError::new(ErrorCode::Forbidden, "carrier rate tables are set by platform staff"));
    }
    let table = parse(carrier, &body)?;
    catalogue_cases::put_rates(&state.ports, &table).await?;
    Ok(Json(table.into()))
}

/// A carrier's rate table.
#[utoipa::path(
    get,
    path = "/carriers/{carrier}/rates",
    tag = "carriers",
    params(("carrier" = String, Path, description = "The carrier")),
    responses(
        (status = 200, description = "The table as recorded", body = RatesAnswer),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 404, description = "`carrier_not_found`: the carrier has no rate table", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn get_rates(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(carrier): PathParams<String>,
) -> Result<Json<RatesAnswer>, ApiError> {
    caller.with(Scope::InventoryRead)?;
    let carrier = CarrierId::parse(carrier).map_err(|e| e.within("carrier"))?;
    match catalogue_cases::rates(&state.ports, &carrier).await? {
        Some(table) => Ok(Json(table.into())),
        None => Err(ApiError::new(ErrorCode::CarrierNotFound, format!("carrier {carrier} has no rate table"))),
    }
}
