//! `FlashSaleStore`: a sale's body, one row per shard, the customers' totals and the claims
//! (tables of schema step 10). A claim is decided by the sale's book in memory, held by one
//! connection at a time, and answered once journaled (`claim_books.rs`); the claims
//! answered are written together a moment later, each one's rows (the claim, the
//! customer's total, the shard) and the message that makes its order in one savepoint, so
//! they land together or not at all. JSON is encoded and decoded on the caller's task; the
//! database thread only moves rows.
//!
//! A sale's row also keeps its end (`ends_at`, the index times' fixed-width RFC 3339) and,
//! once closed, `closed_at` and `units_returned` (schema step 19); the partial index
//! `flash_sales_open` holds the sales not closed by end time, what the sweeper reads.

use anyhow::{bail, Context};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oms_domain::flash_sale::{Claim, FlashSale, IdempotencyKey, SaleClosing, SaleId, ShardLevel};
use oms_domain::messages::Outgoing;
use oms_domain::order::AllocatedLine;
use oms_domain::ports::{
    ClaimOutcome, ClaimReturn, CloseSaleOutcome, CreateSaleOutcome, EndSaleOutcome, FlashSaleStore, StoreError,
};
use oms_records::{ClaimRecord, SaleRecord};
use rusqlite::{params, Connection, OptionalExtension};
use std::sync::Arc;

use crate::db::{index_time, to_u32, CachedStatements};
use crate::inventory::{available, raise_reserved};
use crate::Embedded;

#[async_trait]
impl FlashSaleStore for Embedded {
    /// The stock rows' `reserved`, the sale row and its shard rows in one savepoint.
    async fn create_sale(&self, sale: &FlashSale) -> Result<CreateSaleOutcome, StoreError> {
        let id = sale.sale_id.clone();
        let failed = |e| StoreError::new(format!("Failed to create flash sale {id}"), e);
        let body = serde_json::to_string(&SaleRecord::from(sale)).context("Failed to encode the sale").map_err(failed)?;
        let set_aside = sale.set_aside().lines().to_vec();
        let shards: Vec<u32> = sale.shards.iter().map(|s| s.units).collect();
        let sale_id = sale.sale_id.to_string();
        let ends_at = index_time(sale.terms.ends_at);
        self.db.call(move |conn| create(conn, &sale_id, &body, &ends_at, &set_aside, &shards)).await.map_err(failed)
    }

    /// The sale as this store read it while it holds the sale (`claim_books.rs`: no other
    /// connection changes its row meanwhile), else its row, read every time: an early end
    /// changes it, and another connection to the file may be the one that ended it.
    async fn get_sale(&self, id: &SaleId) -> Result<Option<FlashSale>, StoreError> {
        let key = id.to_string();
        let failed = |e| StoreError::new(format!("Failed to read flash sale {id}"), e);
        let (held, hold) = self.held_sale(id.as_str());
        if let Some(sale) = held {
            return Ok(Some(sale));
        }
        let sale = self.read_sale(id, key).await.map_err(failed)?;
        if let (Some(hold), Some(sale)) = (hold, &sale) {
            Self::keep_held_sale(hold, sale);
        }
        Ok(sale)
    }

    /// The levels as the sale's book has them (`claim_books.rs`): the file's, less the
    /// claims answered and not yet written; the sale is held first.
    async fn shard_levels(&self, sale: &FlashSale) -> Result<Vec<ShardLevel>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the shards of flash sale {}", sale.sale_id), e);
        let levels = self.levels_held(sale.sale_id.as_str()).await.map_err(failed)?;
        Ok(levels.into_iter().map(|(units_left, claims)| ShardLevel { units_left, claims }).collect())
    }

    /// From the sale's book: a claim answered is found before it is written.
    async fn claim_by_key(&self, sale: &SaleId, key: &IdempotencyKey) -> Result<Option<Claim>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the claim of flash sale {sale} under key {key}"), e);
        let body = self.claim_by_key_held(sale.as_str(), key.as_str()).await.map_err(failed)?;
        body.map(|body| decode_claim(&body)).transpose().map_err(failed)
    }

    /// Decided by the sale's book and answered once journaled (`claim_books.rs`); written to
    /// the file with the claims answered beside it a moment later.
    async fn claim(&self, claim: &Claim, limit: u32, send: &[Outgoing]) -> Result<ClaimOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to claim from flash sale {}", claim.sale_id), e);
        let claiming = Arc::new(Claiming::new(claim, limit, send).map_err(failed)?);
        self.claim_in_book(claiming).await.map_err(failed)
    }

    /// One operation: the sale's row (not closed, else its figures), every shard's units,
    /// the stock rows' `reserved` and `set_aside` per (warehouse, owner), their ledger
    /// entries, the shards zeroed and the sale marked closed, in its savepoint.
    async fn close_sale(&self, sale: &FlashSale, now: DateTime<Utc>) -> Result<CloseSaleOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to close flash sale {}", sale.sale_id), e);
        if now < sale.terms.ends_at {
            return Ok(CloseSaleOutcome::NotEnded);
        }
        let closing = Closing {
            sale_id: sale.sale_id.to_string(),
            stocks: sale.set_aside().lines().iter().map(|l| (l.warehouse.clone(), l.owner.clone())).collect(),
            shards: sale.shards.iter().map(|s| (s.warehouse.clone(), s.owner.clone())).collect(),
            sku: sale.terms.sku.clone(),
            now,
        };
        // Held, with its book closed first: every claim answered is written before it.
        let closed = self.db.call(move |conn| close(conn, &closing));
        self.close_held(sale.sale_id.as_str(), closed).await.map_err(failed)
    }

    async fn sale_closing(&self, id: &SaleId) -> Result<Option<SaleClosing>, StoreError> {
        let key = id.to_string();
        let failed = |e| StoreError::new(format!("Failed to read how flash sale {id} closed"), e);
        self.db.read(move |conn| closing_of(conn, &key)).await.map_err(failed)
    }

    /// The sale's row (its body and its end column) rewritten with the new end, with the sale
    /// held, on the condition that its end column is still the one `sale` has, after `now`, and that
    /// it is not closed.
    async fn end_sale(&self, sale: &FlashSale, now: DateTime<Utc>) -> Result<EndSaleOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to end flash sale {}", sale.sale_id), e);
        if sale.terms.ends_at <= now {
            return Ok(EndSaleOutcome::AlreadyEnded);
        }
        let mut ended = sale.clone();
        ended.terms.ends_at = now;
        ended.terms.starts_at = ended.terms.starts_at.min(now);
        let body = serde_json::to_string(&SaleRecord::from(&ended)).context("Failed to encode the sale").map_err(failed)?;
        let (sale_id, before, after) = (sale.sale_id.to_string(), index_time(sale.terms.ends_at), index_time(now));
        let write = self.db.call(move |conn| {
            conn.execute_cached(
                "UPDATE flash_sales SET body = ?2, ends_at = ?4
                 WHERE sale_id = ?1 AND ends_at = ?3 AND ?4 < ends_at AND closed_at IS NULL",
                params![sale_id, body, before, after],
            )
            .context("Failed to write the sale's new end")
        });
        // Held: while a store holds a sale, only it changes the sale's row.
        let changed = self.end_held(sale.sale_id.as_str(), write).await.map_err(failed)?;
        Ok(if changed == 1 { EndSaleOutcome::Ended(Box::new(ended)) } else { EndSaleOutcome::AlreadyEnded })
    }

    /// The partial index `flash_sales_open`, from its start to `now`.
    async fn ended_open_sales(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<SaleId>, StoreError> {
        let failed = |e| StoreError::new("Failed to list the flash sales that ended", e);
        let ids = self
            .db
            .due_ids(
                "SELECT sale_id FROM flash_sales WHERE closed_at IS NULL AND ends_at <= ?1 ORDER BY ends_at, sale_id LIMIT ?2",
                now,
                limit,
            )
            .await
            .map_err(failed)?;
        ids.into_iter().map(|id| SaleId::parse(id).context("A stored id is corrupt").map_err(failed)).collect()
    }
}

impl Embedded {
    /// The sale's row, read on the caller's thread (the reader connection: no hand-off to
    /// the database thread) and compared with the body decoded last time, which is answered
    /// again when it is the same.
    async fn read_sale(&self, id: &SaleId, key: String) -> anyhow::Result<Option<FlashSale>> {
        let known = self.sales.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(id).cloned();
        let known_body = known.as_ref().map(|(body, _)| body.clone());
        // The row's body, unless it is the one decoded before (compared in place).
        let read: Option<Option<String>> = self
            .db
            .read(move |conn| {
                conn.query_row_cached("SELECT body FROM flash_sales WHERE sale_id = ?1", [key.as_str()], |row| {
                    let body = row.get_ref(0)?.as_str()?;
                    Ok((known_body.as_deref() != Some(body)).then(|| body.to_owned()))
                })
                .optional()
                .context("Failed to query the flash sales")
            })
            .await?;
        match read {
            None => Ok(None),
            Some(None) => Ok(known.map(|(_, sale)| sale)),
            Some(Some(body)) => {
                let sale = decode_sale(&body)?;
                let mut sales = self.sales.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if sales.len() >= KNOWN_SALES {
                    sales.clear();
                }
                sales.insert(id.clone(), (std::sync::Arc::from(body), sale.clone()));
                Ok(Some(sale))
            }
        }
    }
}

/// Most sales whose decoded terms are kept beside their row (`Embedded::sales`).
const KNOWN_SALES: usize = 256;

/// Version 19: each sale's end and, once it is closed, when and how many units went back
/// to stock; the partial index of the sales not closed by end time. The ends of the sales
/// stored before are filled from their bodies. Idempotent.
pub(crate) fn step_19_open_sales(tx: &Connection) -> anyhow::Result<()> {
    let has = |column: &str| -> anyhow::Result<bool> {
        let found: i64 =
            tx.query_row("SELECT COUNT(*) FROM pragma_table_info('flash_sales') WHERE name = ?1", [column], |row| row.get(0))?;
        Ok(found > 0)
    };
    for (column, kind) in [("ends_at", "TEXT"), ("closed_at", "TEXT"), ("units_returned", "INTEGER")] {
        if !has(column)? {
            tx.execute_batch(&format!("ALTER TABLE flash_sales ADD COLUMN {column} {kind};"))?;
        }
    }
    let stored: Vec<(String, String)> = {
        let mut stmt = tx.prepare("SELECT sale_id, body FROM flash_sales WHERE ends_at IS NULL")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        rows
    };
    for (sale_id, body) in stored {
        let sale = decode_sale(&body).with_context(|| format!("Failed to read flash sale {sale_id}"))?;
        tx.execute("UPDATE flash_sales SET ends_at = ?2 WHERE sale_id = ?1", params![sale_id, index_time(sale.terms.ends_at)])?;
    }
    tx.execute_batch("CREATE INDEX IF NOT EXISTS flash_sales_open ON flash_sales (ends_at, sale_id) WHERE closed_at IS NULL;")?;
    Ok(())
}

fn decode_sale(body: &str) -> anyhow::Result<FlashSale> {
    let record: SaleRecord = serde_json::from_str(body).context("A stored flash sale is not its layout")?;
    FlashSale::try_from(record).context("A stored flash sale is corrupt")
}

pub(crate) fn decode_claim(body: &str) -> anyhow::Result<Claim> {
    let record: ClaimRecord = serde_json::from_str(body).context("A stored claim is not its layout")?;
    Claim::try_from(record).context("A stored claim is corrupt")
}

fn create(
    conn: &mut Connection,
    sale_id: &str,
    body: &str,
    ends_at: &str,
    set_aside: &[AllocatedLine],
    shards: &[u32],
) -> anyhow::Result<CreateSaleOutcome> {
    for line in set_aside {
        let available = available(conn, line)?;
        if available < line.quantity {
            return Ok(CreateSaleOutcome::Insufficient {
                warehouse: line.warehouse.clone(),
                owner: line.owner.clone(),
                sku: line.sku.clone(),
                available,
            });
        }
    }
    for line in set_aside {
        raise_reserved(conn, line)?;
        conn.execute_cached(
            "UPDATE stock SET set_aside = set_aside + ?4 WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3",
            params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), line.quantity],
        )
        .context("Failed to count the set-aside units")?;
        crate::inventory::append_ledger(conn, &oms_domain::ledger::LedgerLine::set_aside(sale_id, line))?;
    }
    conn.execute_cached("INSERT INTO flash_sales (sale_id, body, ends_at) VALUES (?1, ?2, ?3)", params![sale_id, body, ends_at])
        .context("Failed to write the sale row")?;
    for (index, units) in shards.iter().enumerate() {
        conn.execute_cached(
            "INSERT INTO flash_sale_shards (sale_id, shard, units_left, claims) VALUES (?1, ?2, ?3, 0)",
            params![sale_id, i64::try_from(index)?, units],
        )
        .context("Failed to write a shard row")?;
    }
    Ok(CreateSaleOutcome::Created)
}

/// Each shard's units left and claims made, as the file has them, by shard index.
pub(crate) fn file_levels(conn: &Connection, sale_id: &str) -> anyhow::Result<Vec<(u32, u32)>> {
    let mut stmt = conn
        .prepare_cached("SELECT units_left, claims FROM flash_sale_shards WHERE sale_id = ?1 ORDER BY shard")
        .context("Failed to prepare the shard query")?;
    let rows = stmt
        .query_map([sale_id], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))
        .context("Failed to query the shards")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the shards")?;
    rows.into_iter().map(|(left, claims)| Ok((to_u32(left, "units_left")?, to_u32(claims, "claims")?))).collect()
}

pub(crate) fn claim_body(conn: &Connection, sale_id: &str, key: &str) -> anyhow::Result<Option<String>> {
    conn.query_row_cached(
        "SELECT body FROM flash_sale_claims WHERE sale_id = ?1 AND idempotency_key = ?2",
        params![sale_id, key],
        |row| row.get(0),
    )
    .optional()
    .context("Failed to query the claims")
}

/// One claim's rows, encoded.
#[derive(Debug)]
pub(crate) struct Claiming {
    pub(crate) sale_id: String,
    pub(crate) key: String,
    pub(crate) customer: String,
    pub(crate) quantity: u32,
    pub(crate) shard: u32,
    pub(crate) limit: u32,
    pub(crate) body: String,
    pub(crate) send: Vec<Outgoing>,
}

impl Claiming {
    pub(crate) fn new(claim: &Claim, limit: u32, send: &[Outgoing]) -> anyhow::Result<Self> {
        Ok(Self {
            sale_id: claim.sale_id.to_string(),
            key: claim.idempotency_key.to_string(),
            customer: claim.customer_id.to_string(),
            quantity: claim.quantity,
            shard: claim.shard,
            limit,
            body: {
                let mut body = Vec::with_capacity(384);
                serde_json::to_writer(&mut body, &ClaimRecord::from(claim)).context("Failed to encode the claim")?;
                String::from_utf8(body).context("serde_json writes UTF-8")?
            },
            send: send.to_vec(),
        })
    }
}

/// Takes `units` of `claims` claims from a shard, on the condition that it holds them:
/// false (nothing written) when it holds fewer. Both claim paths write a shard this way.
pub(crate) fn take_from_shard(conn: &Connection, sale_id: &str, shard: u32, units: u32, claims: u32) -> anyhow::Result<bool> {
    let taken = conn
        .execute_cached(
            "UPDATE flash_sale_shards SET units_left = units_left - ?3, claims = claims + ?4
             WHERE sale_id = ?1 AND shard = ?2 AND units_left >= ?3",
            params![sale_id, shard, units, claims],
        )
        .context("Failed to take the units from the shard")?;
    Ok(taken > 0)
}

/// Grows the customer's units claimed in the sale by the claim's, on the condition that
/// they stay within its limit: false (nothing written) when they would not.
pub(crate) fn count_customer(conn: &Connection, c: &Claiming) -> anyhow::Result<bool> {
    let counted = conn
        .execute_cached(
            "INSERT INTO flash_sale_customers (sale_id, customer_id, claimed) VALUES (?1, ?2, ?3)
             ON CONFLICT (sale_id, customer_id) DO UPDATE SET claimed = claimed + excluded.claimed
             WHERE claimed + excluded.claimed <= ?4",
            params![c.sale_id, c.customer, c.quantity, c.limit],
        )
        .context("Failed to count the customer's claim")?;
    Ok(counted > 0)
}

/// Writes the claim's row under its key and queues its messages, on the condition that the
/// key has no claim: false (nothing written) when it has.
pub(crate) fn write_claim(conn: &Connection, c: &Claiming) -> anyhow::Result<bool> {
    if !insert_claim(conn, c)? {
        return Ok(false);
    }
    crate::queue::enqueue(conn, &c.send)?;
    Ok(true)
}

/// Writes the claim's row under its key, on the condition that the key has no claim: false
/// (nothing written) when it has.
pub(crate) fn insert_claim(conn: &Connection, c: &Claiming) -> anyhow::Result<bool> {
    let new = conn
        .execute_cached(
            "INSERT INTO flash_sale_claims (sale_id, idempotency_key, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![c.sale_id, c.key, c.body],
        )
        .context("Failed to write the claim row")?;
    Ok(new > 0)
}

/// What a close needs of the sale: its stocks, in set-aside order, and each shard's stock.
struct Closing {
    sale_id: String,
    stocks: Vec<(oms_domain::WarehouseId, oms_domain::MerchantId)>,
    shards: Vec<(oms_domain::WarehouseId, oms_domain::MerchantId)>,
    sku: oms_domain::Sku,
    now: DateTime<Utc>,
}

fn closing_of(conn: &Connection, sale_id: &str) -> anyhow::Result<Option<SaleClosing>> {
    let row: Option<(Option<String>, Option<i64>)> = conn
        .query_row_cached("SELECT closed_at, units_returned FROM flash_sales WHERE sale_id = ?1", [sale_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
        .context("Failed to query the flash sales")?;
    let Some((Some(closed_at), returned)) = row else { return Ok(None) };
    let closed_at = DateTime::parse_from_rfc3339(&closed_at).context("A stored close time is corrupt")?.with_timezone(&Utc);
    let units_returned = u64::try_from(returned.unwrap_or(0)).context("A stored units_returned is negative")?;
    Ok(Some(SaleClosing { closed_at, units_returned }))
}

/// Reads the shards, gives their units back per stock, zeroes them and marks the sale
/// closed: all in the operation's savepoint, so a claim (one operation too) comes wholly
/// before or wholly after it.
fn close(conn: &mut Connection, c: &Closing) -> anyhow::Result<CloseSaleOutcome> {
    if let Some(first) = closing_of(conn, &c.sale_id)? {
        return Ok(CloseSaleOutcome::AlreadyClosed(first));
    }
    let levels = file_levels(conn, &c.sale_id)?;
    if levels.len() != c.shards.len() {
        bail!("Flash sale {} has {} shard rows for {} shards", c.sale_id, levels.len(), c.shards.len());
    }
    let mut per_stock: Vec<u32> = vec![0; c.stocks.len()];
    for ((units_left, _), stock) in levels.iter().zip(&c.shards) {
        let index = c
            .stocks
            .iter()
            .position(|s| s == stock)
            .with_context(|| format!("A shard of flash sale {} names a stock the sale did not set aside", c.sale_id))?;
        per_stock[index] += units_left;
    }
    for ((warehouse, owner), units) in c.stocks.iter().zip(per_stock.iter().copied()) {
        if units == 0 {
            continue;
        }
        let changed = conn
            .execute_cached(
                "UPDATE stock SET reserved = reserved - ?4, set_aside = set_aside - ?4
                 WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3 AND set_aside >= ?4 AND reserved >= ?4",
                params![warehouse.as_str(), owner.as_str(), c.sku.as_str(), units],
            )
            .context("Failed to give the sale's units back to stock")?;
        if changed != 1 {
            // An error, so nothing of the close stays (the savepoint is rolled back).
            bail!(
                "{owner}'s stock of {} in {warehouse} has fewer than {units} units set aside for flash sale {}",
                c.sku,
                c.sale_id
            );
        }
        let line = AllocatedLine {
            warehouse: warehouse.clone(),
            owner: owner.clone(),
            sku: c.sku.clone(),
            quantity: units,
            transfer_price: None,
        };
        crate::inventory::append_ledger(conn, &oms_domain::ledger::LedgerLine::sale_release(&c.sale_id, &line))?;
    }
    conn.execute_cached("UPDATE flash_sale_shards SET units_left = 0 WHERE sale_id = ?1", [c.sale_id.as_str()])
        .context("Failed to empty the shards")?;
    // A book kept by another connection is read again.
    conn.execute_cached("UPDATE flash_sale_books SET version = version + 1 WHERE sale_id = ?1", [c.sale_id.as_str()])
        .context("Failed to raise the sale's book version")?;
    let units_returned: u64 = per_stock.iter().map(|u| u64::from(*u)).sum();
    conn.execute_cached(
        "UPDATE flash_sales SET closed_at = ?2, units_returned = ?3 WHERE sale_id = ?1",
        params![c.sale_id, index_time(c.now), i64::try_from(units_returned)?],
    )
    .context("Failed to mark the sale closed")?;
    // As it reads back: to the microsecond.
    let closed_at = DateTime::parse_from_rfc3339(&index_time(c.now))?.with_timezone(&Utc);
    Ok(CloseSaleOutcome::Closed(SaleClosing { closed_at, units_returned }))
}

/// Gives a claim's units back (`HoldEffect::ReturnClaim`), in the order's savepoint: to its
/// shard while the sale is not closed, else to available stock with a `release` ledger
/// entry of the sale's hold and the sale's `units_returned` grown. The close is one
/// operation too, so the sale is wholly closed or not at all here.
pub(crate) fn return_claim(conn: &Connection, c: &ClaimReturn) -> anyhow::Result<()> {
    let sale_id = c.sale_id.as_str();
    let closed = closing_of(conn, sale_id)?.is_some();
    let quantity = c.line.quantity;
    if !closed {
        let changed = conn
            .execute_cached(
                "UPDATE flash_sale_shards SET units_left = units_left + ?3 WHERE sale_id = ?1 AND shard = ?2",
                params![sale_id, c.shard, quantity],
            )
            .context("Failed to give the claim's units back to its shard")?;
        if changed != 1 {
            bail!("Flash sale {sale_id} has no shard {} to give order {}'s units back to", c.shard, c.order_id);
        }
        return Ok(());
    }
    let line = &c.line;
    let changed = conn
        .execute_cached(
            "UPDATE stock SET reserved = reserved - ?4, set_aside = set_aside - ?4
             WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3 AND set_aside >= ?4 AND reserved >= ?4",
            params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), quantity],
        )
        .context("Failed to give the claim's units back to stock")?;
    if changed != 1 {
        // An error, so nothing of the order's write stays (the savepoint is rolled back).
        bail!(
            "{}'s stock of {} in {} has fewer than {quantity} units set aside for flash sale {sale_id}",
            line.owner,
            line.sku,
            line.warehouse
        );
    }
    crate::inventory::append_ledger(conn, &oms_domain::ledger::LedgerLine::claim_returned(sale_id, &c.order_id, line))?;
    conn.execute_cached(
        "UPDATE flash_sales SET units_returned = COALESCE(units_returned, 0) + ?2 WHERE sale_id = ?1",
        params![sale_id, quantity],
    )
    .context("Failed to count the units returned")?;
    Ok(())
}
