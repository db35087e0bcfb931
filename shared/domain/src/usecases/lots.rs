//! Lots: goods received into stock without a purchase order, what remains of each lot a
//! caller owns in a warehouse, and the sweeper's write-off of expired lots (see
//! [`crate::lot`]: what remains of a lot is derived first-expiry-first-out).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::access::Caller;
use crate::alert::{Alert, AlertKind};
use crate::ledger::{AdjustOutcome, Adjustment, LedgerEntry};
use crate::lot::LotBalance;
use crate::ports::{GoodsReceiptOutcome, Ports, StoreError};
use crate::supply::{GoodsReceipt, Receipt};
use crate::{MerchantId, Sku, WarehouseId};

/// Why a goods receipt was refused: nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum GoodsReceiptError {
    #[error("no warehouse {0}; register it with PUT /warehouses/{0} first")]
    UnknownWarehouse(WarehouseId),
    /// A merchant's caller named another merchant's stock.
    #[error("this credential acts for merchant {0} only")]
    OthersUnits(MerchantId),
    #[error("the stock of {0} in this warehouse cannot hold that many units")]
    StockFull(Sku),
    #[error("lot {lot} of {sku} expired on {expires_on}; expired goods are not received")]
    ExpiredOnReceipt { sku: Sku, lot: String, expires_on: NaiveDate },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Receives goods into `owner`'s stock in a registered warehouse with no purchase order
/// (a merchant stocking a shared warehouse): on hand and available grow, one `receive`
/// ledger entry per line and the lines' lots, in one write (`SupplyStore::receive_goods`),
/// once per (warehouse, owner, receipt id). A merchant's caller receives into its own stock
/// only (`owner` left out or its own); platform staff name the owner, by default the
/// warehouse's merchant. Then the backorders waiting for those SKUs are queued for planning
/// again, a duplicate too (a crash between the write and the messages loses nothing).
/// Answers the entries written and whether the receipt was a duplicate.
pub async fn receive_goods(
    ports: &Ports,
    caller: &Caller,
    warehouse: &WarehouseId,
    owner: Option<&MerchantId>,
    receipt: Receipt,
) -> Result<(Vec<LedgerEntry>, bool), GoodsReceiptError> {
    let Some(registered) = ports.warehouses.get_warehouse(warehouse).await? else {
        return Err(GoodsReceiptError::UnknownWarehouse(warehouse.clone()));
    };
    let owner = match (owner, caller.merchant_id()) {
        (Some(named), Some(own)) if named != own => return Err(GoodsReceiptError::OthersUnits(own.clone())),
        (_, Some(own)) => own.clone(),
        (Some(named), None) => named.clone(),
        (None, None) => registered.merchant_id.clone(),
    };
    if let Some((sku, tag)) = receipt.expired_lot(ports.clock.now().date_naive()) {
        return Err(GoodsReceiptError::ExpiredOnReceipt {
            sku: sku.clone(),
            lot: tag.lot.clone(),
            expires_on: tag.expires_on.unwrap_or_default(),
        });
    }
    let skus: Vec<Sku> = receipt.lines.iter().map(|l| l.sku.clone()).collect();
    let goods = GoodsReceipt { warehouse: warehouse.clone(), owner, receipt };
    let answer = match ports.supply.receive_goods(&goods).await? {
        GoodsReceiptOutcome::Received(entries) => {
            tracing::info!(warehouse = %warehouse, merchant_id = %goods.owner, receipt_id = %goods.receipt.receipt_id, lines = entries.len(), "goods received");
            (entries, false)
        }
        GoodsReceiptOutcome::Duplicate => (Vec::new(), true),
        GoodsReceiptOutcome::StockFull(sku) => return Err(GoodsReceiptError::StockFull(sku)),
    };
    crate::usecases::fulfilment::requeue_backorders(ports, skus).await?;
    Ok(answer)
}

/// Why a lots listing was refused.
#[derive(Debug, thiserror::Error)]
pub enum LotsError {
    #[error("no warehouse {0}")]
    UnknownWarehouse(WarehouseId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// What remains of the lots in a registered warehouse that the caller owns (platform
/// staff: every owner's), of one SKU or of every SKU stocked there, by SKU, owner, then
/// the order units leave them. Without a SKU every stock's figures are read first (a
/// `Scan` on DynamoDB), then each SKU's lots.
pub async fn lots_in(
    ports: &Ports,
    caller: &Caller,
    warehouse: &WarehouseId,
    sku: Option<&Sku>,
) -> Result<Vec<LotBalance>, LotsError> {
    if ports.warehouses.get_warehouse(warehouse).await?.is_none() {
        return Err(LotsError::UnknownWarehouse(warehouse.clone()));
    }
    let skus: Vec<Sku> = match sku {
        Some(sku) => vec![sku.clone()],
        None => {
            let mut skus: Vec<Sku> = ports
                .inventory
                .stock_figures()
                .await?
                .into_iter()
                .filter(|f| &f.warehouse == warehouse && caller.sees(&f.owner))
                .map(|f| f.sku)
                .collect();
            skus.sort();
            skus.dedup();
            skus
        }
    };
    let mut lots = Vec::new();
    for sku in &skus {
        let of_sku = ports.inventory.lots_of(sku).await?;
        lots.extend(of_sku.into_iter().filter(|l| &l.warehouse == warehouse && caller.sees(&l.owner)));
    }
    Ok(lots)
}

/// Units of an expired lot the sweep wrote off, or could not because orders hold them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiredLot {
    pub warehouse: WarehouseId,
    #[serde(rename = "merchant_id")]
    pub owner: MerchantId,
    pub sku: Sku,
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    /// Units taken off on hand by this sweep.
    pub written_off: u32,
    /// Units of the lot left on hand because orders hold them (an alert tells staff).
    pub held: u32,
}

/// The sweeper's pass over expired lots, once a day (the first sweep of the clock's day
/// claims it: `InventoryStore::claim_lot_sweep`; a lot expires by whole days, so later
/// sweeps that day would find nothing new): every stock with lots past their last day has
/// what remains of them written off, lot by lot in the order units leave
/// (`Adjustment::Delta` down, reason `expired lot <code>`, with its ledger entry), never
/// below the units held; what orders hold raises one `expired_stock_held` alert per lot.
/// Idempotent: a written-off lot has nothing left, so a second pass changes nothing. Reads
/// every stock's figures (a `Scan` on DynamoDB) and the lots of each SKU stocked. A pass
/// that fails midway is taken again the next day.
pub async fn write_off_expired(ports: &Ports) -> Result<Vec<ExpiredLot>, StoreError> {
    let now = ports.clock.now();
    let today = now.date_naive();
    if !ports.inventory.claim_lot_sweep(today).await? {
        return Ok(Vec::new());
    }
    let figures = ports.inventory.stock_figures().await?;
    let mut skus: Vec<&Sku> = figures.iter().map(|f| &f.sku).collect();
    skus.sort();
    skus.dedup();
    let mut done = Vec::new();
    for sku in skus {
        let lots = ports.inventory.lots_of(sku).await?;
        for lot in lots.iter().filter(|l| l.is_expired(today) && l.remaining > 0) {
            let Some(stock) = figures.iter().find(|f| f.warehouse == lot.warehouse && f.owner == lot.owner && &f.sku == sku)
            else {
                continue;
            };
            done.push(write_off(ports, lot, stock.held, now).await?);
        }
    }
    Ok(done)
}

/// Writes off what remains of one expired lot, never below `held_at_read` units of its
/// stock (read again by the store, which refuses to go below what is held now).
async fn write_off(ports: &Ports, lot: &LotBalance, held_at_read: i64, now: DateTime<Utc>) -> Result<ExpiredLot, StoreError> {
    let mut done = ExpiredLot {
        warehouse: lot.warehouse.clone(),
        owner: lot.owner.clone(),
        sku: lot.sku.clone(),
        lot: lot.lot.clone(),
        expires_on: lot.expires_on,
        written_off: 0,
        held: 0,
    };
    // Read again: an earlier lot of this stock may have been written off this sweep.
    let on_hand = ports
        .inventory
        .stock_of(&lot.sku)
        .await?
        .into_iter()
        .find(|l| l.warehouse == lot.warehouse && l.owner == lot.owner)
        .map_or(0, |l| l.on_hand);
    let held = u32::try_from(held_at_read.max(0)).unwrap_or(u32::MAX);
    let room = on_hand.saturating_sub(held);
    let units = lot.remaining.min(room);
    if units > 0 {
        let adjustment = Adjustment::Delta { delta: -i64::from(units), reason: format!("expired lot {}", lot.lot) };
        match ports.inventory.adjust(&lot.warehouse, &lot.owner, &lot.sku, &adjustment).await? {
            AdjustOutcome::Adjusted { .. } => {
                tracing::info!(warehouse = %lot.warehouse, merchant_id = %lot.owner, sku = %lot.sku, lot = %lot.lot, units, "expired lot written off");
                done.written_off = units;
            }
            // Held meanwhile: the next sweep tries again with fresh figures.
            AdjustOutcome::BelowHeld { .. } | AdjustOutcome::NewerCount { .. } => return Ok(done),
        }
    }
    done.held = lot.remaining - done.written_off;
    if done.held > 0 {
        let message = format!(
            "{} units of lot {} of {} in {} (merchant {}) expired on {} but orders hold them: cancel or replace those orders' units",
            done.held,
            lot.lot,
            lot.sku,
            lot.warehouse,
            lot.owner,
            lot.expires_on.map_or_else(String::new, |d| d.to_string()),
        );
        let subject = format!("{}#{}#{}#{}", lot.warehouse, lot.owner, lot.sku, lot.lot);
        let alert = Alert::about(AlertKind::ExpiredStockHeld, subject, &lot.owner, message, now);
        // One alert per lot, however many sweeps find it (a raise is idempotent).
        let _ = ports.alerts.raise(&alert).await?;
    }
    Ok(done)
}
