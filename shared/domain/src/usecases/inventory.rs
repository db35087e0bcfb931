//! Warehouses and stock counts, as a WMS keeps them in sync.

use crate::ports::{Ports, SetOnHandOutcome, StoreError};
use crate::stock::{StockLevel, Warehouse};
use crate::{Sku, WarehouseId};

/// Why a stock count was refused.
#[derive(Debug, thiserror::Error)]
pub enum SetStockError {
    #[error("no warehouse {0}; register it with PUT /warehouses/{0} first")]
    UnknownWarehouse(WarehouseId),
    #[error("{reserved} units are reserved in this warehouse; on hand cannot go below that")]
    BelowReserved { reserved: u32 },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Sets the on-hand count of a SKU in a registered warehouse.
pub async fn set_on_hand(ports: &Ports, warehouse: &WarehouseId, sku: &Sku, on_hand: u32) -> Result<StockLevel, SetStockError> {
    if ports.warehouses.get_warehouse(warehouse).await?.is_none() {
        return Err(SetStockError::UnknownWarehouse(warehouse.clone()));
    }
    match ports.inventory.set_on_hand(warehouse, sku, on_hand).await? {
        SetOnHandOutcome::Set(level) => {
            tracing::info!(warehouse = %warehouse, sku = %sku, on_hand, "stock counted");
            Ok(level)
        }
        SetOnHandOutcome::BelowReserved { reserved } => Err(SetStockError::BelowReserved { reserved }),
    }
}

/// Registers or updates a warehouse.
pub async fn put_warehouse(ports: &Ports, warehouse: &Warehouse) -> Result<(), StoreError> {
    ports.warehouses.put_warehouse(warehouse).await?;
    tracing::info!(warehouse = %warehouse.warehouse_id, "warehouse registered");
    Ok(())
}
