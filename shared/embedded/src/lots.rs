//! Lots of each stock: `stock_lots`, one row per (warehouse, owner, SKU, lot code) with the
//! units received under that code, the first receipt's moment and the lot's expiry. What
//! remains of a lot is derived from these rows and the stock's on hand
//! (`oms_domain::lot::balances`), never stored. A receipt into stock (a purchase order's,
//! or a goods receipt with none, marked applied in `goods_receipts`) grows on hand,
//! appends its ledger entries and records its lots in one savepoint.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use oms_domain::ledger::{LedgerEntry, LedgerLine};
use oms_domain::lot::{self, LotBalance, LotReceipt, RecordedLot};
use oms_domain::ports::GoodsReceiptOutcome;
use oms_domain::supply::GoodsReceipt;
use oms_domain::{MerchantId, Sku, WarehouseId};
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{to_u32, CachedStatements};
use crate::inventory::append_ledger;

/// Version 32: the lots of each stock.
pub(crate) const LOTS: &str = "
CREATE TABLE IF NOT EXISTS stock_lots (
    warehouse   TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    sku         TEXT NOT NULL,
    lot         TEXT NOT NULL,
    expires_on  TEXT,
    received    INTEGER NOT NULL CHECK (received > 0),
    received_at TEXT NOT NULL,
    PRIMARY KEY (sku, warehouse, merchant_id, lot)
);
CREATE TABLE IF NOT EXISTS goods_receipts (
    warehouse   TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    receipt_id  TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (warehouse, merchant_id, receipt_id)
);
CREATE TABLE IF NOT EXISTS lot_sweeps (
    day TEXT PRIMARY KEY NOT NULL
);
";

/// Marks `day`'s expired-lot write-off taken; true when this call marked it.
pub(crate) fn claim_lot_sweep(conn: &Connection, day: NaiveDate) -> anyhow::Result<bool> {
    let marked = conn
        .execute_cached("INSERT INTO lot_sweeps (day) VALUES (?1) ON CONFLICT DO NOTHING", [day.to_string()])
        .context("Failed to mark the lot sweep")?;
    Ok(marked == 1)
}

/// Applies a goods receipt with no purchase order: its marker row, then the units into
/// stock with their ledger entries and lots, in the caller's savepoint.
pub(crate) fn receive_goods(conn: &Connection, receipt: &GoodsReceipt) -> anyhow::Result<GoodsReceiptOutcome> {
    let marked = conn
        .execute_cached(
            "INSERT INTO goods_receipts (warehouse, merchant_id, receipt_id, received_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            params![
                receipt.warehouse.as_str(),
                receipt.owner.as_str(),
                receipt.receipt.receipt_id.as_str(),
                receipt.receipt.received_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            ],
        )
        .context("Failed to mark the goods receipt applied")?;
    if marked == 0 {
        return Ok(GoodsReceiptOutcome::Duplicate);
    }
    match receive_into_stock(conn, &receipt.ledger_lines(), &receipt.lot_receipts())? {
        Ok(entries) => Ok(GoodsReceiptOutcome::Received(entries)),
        Err(full) => {
            conn.execute_cached(
                "DELETE FROM goods_receipts WHERE warehouse = ?1 AND merchant_id = ?2 AND receipt_id = ?3",
                params![receipt.warehouse.as_str(), receipt.owner.as_str(), receipt.receipt.receipt_id.as_str()],
            )
            .context("Failed to unmark the goods receipt")?;
            Ok(GoodsReceiptOutcome::StockFull(full))
        }
    }
}

/// Receives units into stock: per ledger line (a `receive` of one stock) its on hand grows
/// (a row at 0 when never counted) and its entry is appended; each lot receipt is
/// recorded. Answers the entries, or the SKU of the first line whose stock would pass
/// `MAX_ON_HAND` with nothing written. The caller's savepoint makes it one write with
/// whatever else the receipt changes.
pub(crate) fn receive_into_stock(
    conn: &Connection,
    lines: &[LedgerLine],
    lots: &[LotReceipt],
) -> anyhow::Result<Result<Vec<LedgerEntry>, Sku>> {
    // Decide every line before writing any.
    for line in lines {
        let on_hand: i64 = conn
            .query_row_cached(
                "SELECT on_hand FROM stock WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3",
                params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str()],
                |r| r.get(0),
            )
            .optional()
            .context("Failed to read the stock row")?
            .unwrap_or(0);
        if on_hand + line.delta_on_hand > i64::from(oms_domain::stock::MAX_ON_HAND) {
            return Ok(Err(line.sku.clone()));
        }
    }
    let mut entries = Vec::with_capacity(lines.len());
    for line in lines {
        conn.execute_cached(
            "INSERT INTO stock (warehouse, merchant_id, sku, on_hand, reserved) VALUES (?1, ?2, ?3, ?4, 0)
             ON CONFLICT (warehouse, merchant_id, sku) DO UPDATE SET on_hand = on_hand + excluded.on_hand",
            params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), line.delta_on_hand],
        )
        .context("Failed to write the stock row")?;
        entries.push(append_ledger(conn, line)?);
    }
    for receipt in lots {
        record_lot(conn, receipt)?;
    }
    Ok(Ok(entries))
}

/// Adds a lot receipt's units to its lot's row; the first receipt's moment and expiry stay.
fn record_lot(conn: &Connection, receipt: &LotReceipt) -> anyhow::Result<()> {
    conn.execute_cached(
        "INSERT INTO stock_lots (warehouse, merchant_id, sku, lot, expires_on, received, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (sku, warehouse, merchant_id, lot) DO UPDATE SET received = received + excluded.received",
        params![
            receipt.warehouse.as_str(),
            receipt.owner.as_str(),
            receipt.sku.as_str(),
            receipt.tag.lot,
            receipt.tag.expires_on.map(|d| d.to_string()),
            receipt.quantity,
            receipt.received_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ],
    )
    .with_context(|| format!("Failed to record lot {} of {}", receipt.tag.lot, receipt.sku))?;
    Ok(())
}

/// What remains of every lot of the SKU's stocks, by warehouse, owner, then leaving order.
pub(crate) fn lots_of(conn: &Connection, sku: &Sku) -> anyhow::Result<Vec<LotBalance>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT l.warehouse, l.merchant_id, l.lot, l.expires_on, l.received, l.received_at, COALESCE(s.on_hand, 0)
             FROM stock_lots l LEFT JOIN stock s
               ON s.warehouse = l.warehouse AND s.merchant_id = l.merchant_id AND s.sku = l.sku
             WHERE l.sku = ?1 ORDER BY l.warehouse, l.merchant_id",
        )
        .context("Failed to prepare the lots query")?;
    let rows = stmt
        .query_map([sku.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })
        .context("Failed to query the lots")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the lots")?;
    let mut stocks: Vec<((String, String), i64, Vec<RecordedLot>)> = Vec::new();
    for (warehouse, owner, code, expires_on, received, received_at, on_hand) in rows {
        let recorded = RecordedLot {
            expires_on: expires_on
                .map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d"))
                .transpose()
                .with_context(|| format!("The stored expiry of lot {code} is corrupt"))?,
            received: to_u32(received, "received")?,
            received_at: DateTime::parse_from_rfc3339(&received_at)
                .with_context(|| format!("The stored receipt time of lot {code} is corrupt"))?
                .with_timezone(&Utc),
            lot: code,
        };
        match stocks.last_mut() {
            Some((key, _, lots)) if key.0 == warehouse && key.1 == owner => lots.push(recorded),
            _ => stocks.push(((warehouse, owner), on_hand, vec![recorded])),
        }
    }
    let mut balances = Vec::new();
    for ((warehouse, owner), on_hand, lots) in stocks {
        let warehouse = WarehouseId::parse(warehouse).context("A stored warehouse id is invalid")?;
        let owner = MerchantId::parse(owner).context("A stored owner (merchant id) is invalid")?;
        balances.extend(lot::balances(&warehouse, &owner, sku, to_u32(on_hand, "on_hand")?, lots));
    }
    Ok(balances)
}
