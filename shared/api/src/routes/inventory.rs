//! Warehouses and stock counts.

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};

use oms_domain::stock::{self, StockLevel, Warehouse};
use oms_domain::usecases::inventory as inventory_cases;
use oms_domain::{Sku, WarehouseId};

use super::{AppState, PathParams, RawBody};
use crate::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/warehouses/{id}", put(put_warehouse))
        .route("/inventory/{warehouse}/{sku}", put(set_on_hand))
        .route("/inventory/{sku}", get(stock_of))
}

/// `PUT /warehouses/{id}`.
async fn put_warehouse(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<Warehouse>, ApiError> {
    let warehouse = Warehouse::parse(&id, &body)?;
    inventory_cases::put_warehouse(&state.ports, &warehouse).await?;
    Ok(Json(warehouse))
}

/// `PUT /inventory/{warehouse}/{sku}` with `{"on_hand": N}`.
async fn set_on_hand(
    State(state): State<AppState>,
    PathParams((warehouse, sku)): PathParams<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Json<StockLevel>, ApiError> {
    let warehouse = WarehouseId::parse(warehouse).map_err(|e| e.within("warehouse"))?;
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    let on_hand = stock::parse_on_hand(&body)?;
    let ports = &state.ports;
    Ok(Json(inventory_cases::set_on_hand(ports, &warehouse, &sku, on_hand).await?))
}

#[derive(Debug, serde::Serialize)]
struct SkuStock {
    sku: Sku,
    warehouses: Vec<WarehouseStock>,
}

#[derive(Debug, serde::Serialize)]
struct WarehouseStock {
    warehouse: WarehouseId,
    on_hand: u32,
    reserved: u32,
    available: u32,
}

/// `GET /inventory/{sku}`: on hand, reserved and available per warehouse.
async fn stock_of(State(state): State<AppState>, PathParams(sku): PathParams<String>) -> Result<Json<SkuStock>, ApiError> {
    let sku = Sku::parse(sku).map_err(|e| e.within("sku"))?;
    let levels = state.ports.inventory.stock_of(&sku).await?;
    if levels.is_empty() {
        return Err(ApiError::not_found("unknown_sku", format!("no warehouse has stock records for {sku}")));
    }
    let warehouses = levels
        .into_iter()
        .map(|l| WarehouseStock { warehouse: l.warehouse, on_hand: l.on_hand, reserved: l.reserved, available: l.available })
        .collect();
    Ok(Json(SkuStock { sku, warehouses }))
}
