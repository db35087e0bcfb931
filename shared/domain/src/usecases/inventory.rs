//! Warehouses and stock counts, as a WMS keeps them in sync.

use crate::access::Caller;
use crate::ledger::{AdjustOutcome, Adjustment, LedgerEntry, LedgerPage};
use crate::ports::{Ports, PutWarehouse, SetOnHandOutcome, StoreError};
use crate::sku_mapping::SkuMapping;
use crate::stock::{StockLevel, Warehouse};
use crate::{MerchantId, Sku, WarehouseId};

/// Why a stock count was refused.
#[derive(Debug, thiserror::Error)]
pub enum SetStockError {
    #[error("no warehouse {0}; register it with PUT /warehouses/{0} first")]
    UnknownWarehouse(WarehouseId),
    #[error("{reserved} units of this stock are reserved; on hand cannot go below that")]
    BelowReserved { reserved: u32 },
    /// A merchant's caller named another merchant's units.
    #[error("this credential acts for merchant {0} only")]
    OthersUnits(MerchantId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Sets the on-hand count of a SKU in a registered warehouse, in the stock of `owner` (by
/// default the warehouse's own merchant: in a shared warehouse each merchant's units of a
/// SKU are counted apart). When units are available there after the count, the backorders
/// waiting for the SKU are queued for planning again (`requeue_backorders`, a bounded
/// number per count, whatever their merchant: planning an order that may not use these
/// units leaves it as it was). The trigger is "available after the count", not "more than
/// before": a count sent again (a WMS retry after a crash between the count and the
/// messages) queues them again, and planning a backorder that is still short changes
/// nothing.
///
/// A merchant's caller counts its own units in its own warehouses (another merchant's
/// warehouse is `UnknownWarehouse`, so that its existence does not leak); a shared
/// warehouse's other owners are counted by platform staff, who operate it.
pub async fn set_on_hand(
    ports: &Ports,
    caller: &Caller,
    warehouse: &WarehouseId,
    owner: Option<&MerchantId>,
    sku: &Sku,
    on_hand: u32,
) -> Result<StockLevel, SetStockError> {
    let registered = match ports.warehouses.get_warehouse(warehouse).await? {
        Some(registered) if caller.sees(&registered.merchant_id) => registered,
        _ => return Err(SetStockError::UnknownWarehouse(warehouse.clone())),
    };
    if let (Some(owner), Some(own)) = (owner, caller.merchant_id()) {
        if owner != own {
            return Err(SetStockError::OthersUnits(own.clone()));
        }
    }
    let owner = owner.unwrap_or(&registered.merchant_id);
    match ports.inventory.set_on_hand(warehouse, owner, sku, on_hand).await? {
        SetOnHandOutcome::Set(level) => {
            tracing::info!(warehouse = %warehouse, merchant_id = %owner, sku = %sku, on_hand, "stock counted");
            if level.available > 0 {
                crate::usecases::fulfilment::requeue_backorders(ports, [sku.clone()]).await?;
            }
            Ok(level)
        }
        SetOnHandOutcome::BelowReserved { reserved } => Err(SetStockError::BelowReserved { reserved }),
    }
}

/// Registers or updates a warehouse; another merchant's warehouse of that id answers
/// `OwnedByAnother` and is left as it is.
pub async fn put_warehouse(ports: &Ports, warehouse: &Warehouse) -> Result<PutWarehouse, StoreError> {
    let outcome = ports.warehouses.put_warehouse(warehouse).await?;
    if outcome == PutWarehouse::Stored {
        tracing::info!(warehouse = %warehouse.warehouse_id, "warehouse registered");
    }
    Ok(outcome)
}

/// Maps a channel's SKU to ours for one channel and merchant (replacing an earlier
/// mapping), then queues the orders waiting for the channel's SKU, as a stock count does:
/// an order held for it is released by allocation once its SKUs are all known. Later
/// deliveries naming the channel's SKU take ours at intake.
pub async fn map_sku(ports: &Ports, mapping: &SkuMapping) -> Result<(), StoreError> {
    ports.sku_mappings.put_sku_mapping(mapping).await?;
    tracing::info!(channel = %mapping.channel, merchant_id = %mapping.merchant_id, channel_sku = %mapping.channel_sku, sku = %mapping.sku, "channel SKU mapped");
    crate::usecases::fulfilment::requeue_backorders(ports, [mapping.channel_sku.clone()]).await?;
    Ok(())
}

/// Why a stock adjustment was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdjustError {
    #[error("no warehouse {0}; register it with PUT /warehouses/{0} first")]
    UnknownWarehouse(WarehouseId),
    #[error("{held} units of this stock are held; on hand would become {on_hand_after}")]
    BelowHeld { held: u32, on_hand_after: i64 },
    #[error("a count of this stock was recorded at {0}, after this one was taken")]
    NewerCount(chrono::DateTime<chrono::Utc>),
    /// A merchant's caller named another merchant's units.
    #[error("this credential acts for merchant {0} only")]
    OthersUnits(MerchantId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Adjusts the on-hand units of a SKU in a registered warehouse (the stock of `owner`, by
/// default the warehouse's merchant), with its ledger entry in the same write: a delta
/// (damaged, found) or a count as of a moment (`Adjustment::CountAsOf`). The same rules of
/// who may as [`set_on_hand`]; units available after it re-queue the SKU's backorders.
pub async fn adjust(
    ports: &Ports,
    caller: &Caller,
    warehouse: &WarehouseId,
    owner: Option<&MerchantId>,
    sku: &Sku,
    adjustment: &Adjustment,
) -> Result<(StockLevel, LedgerEntry), AdjustError> {
    let registered = match ports.warehouses.get_warehouse(warehouse).await? {
        Some(registered) if caller.sees(&registered.merchant_id) => registered,
        _ => return Err(AdjustError::UnknownWarehouse(warehouse.clone())),
    };
    if let (Some(owner), Some(own)) = (owner, caller.merchant_id()) {
        if owner != own {
            return Err(AdjustError::OthersUnits(own.clone()));
        }
    }
    let owner = owner.unwrap_or(&registered.merchant_id);
    match ports.inventory.adjust(warehouse, owner, sku, adjustment).await? {
        AdjustOutcome::Adjusted { level, entry } => {
            tracing::info!(warehouse = %warehouse, merchant_id = %owner, sku = %sku, delta = entry.delta_on_hand, on_hand = level.on_hand, "stock adjusted");
            if level.available > 0 {
                crate::usecases::fulfilment::requeue_backorders(ports, [sku.clone()]).await?;
            }
            Ok((level, entry))
        }
        AdjustOutcome::BelowHeld { held, on_hand_after } => Err(AdjustError::BelowHeld { held, on_hand_after }),
        AdjustOutcome::NewerCount { counted_at } => Err(AdjustError::NewerCount(counted_at)),
    }
}

/// One page of a SKU's stock ledger as `caller` may see it: a merchant's caller sees the
/// entries of its own stock only; platform staff see every owner's.
pub async fn ledger(
    ports: &Ports,
    caller: &Caller,
    sku: &Sku,
    after: Option<&str>,
    limit: usize,
) -> Result<LedgerPage, StoreError> {
    ports.inventory.ledger(sku, caller.merchant_id(), after, limit).await
}
