//! `ReturnStore`: one row per return (unique per order, customer and idempotency key, and
//! per tracking number once the buyer ships it back), one per (order, SKU) counting the
//! units the order's returns claim, and one per (warehouse, SKU, owner) counting the damaged
//! units returns put aside (tables of schema step 24). Each write is one operation on the
//! database thread, in its own savepoint: a request looks its key up, checks and adds its
//! claims, and inserts the return; a move rewrites the row where its version is the one it
//! was read at, and in the same savepoint gives claims back, puts units back on stock with
//! their ledger entries and queues its messages.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oms_domain::ledger::LedgerLine;
use oms_domain::ports::{CreateReturnOutcome, MoveReturnOutcome, ReturnEffects, ReturnStore, StoreError};
use oms_domain::returns::{DamagedStock, Return, ReturnId, ReturnState};
use oms_domain::{MerchantId, OrderId, Sku, TrackingNumber, WarehouseId};
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::CachedStatements;
use crate::inventory::append_ledger;
use crate::Embedded;

/// Version 24: returns, the units they claim per order and SKU, and damaged stock.
pub(crate) const RETURNS: &str = "
CREATE TABLE IF NOT EXISTS returns (
    return_id       TEXT PRIMARY KEY NOT NULL,
    order_id        TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state           TEXT NOT NULL,
    version         INTEGER NOT NULL,
    tracking_number TEXT,
    body            TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS returns_by_key ON returns (order_id, customer_id, idempotency_key);
CREATE UNIQUE INDEX IF NOT EXISTS returns_by_tracking ON returns (tracking_number) WHERE tracking_number IS NOT NULL;
CREATE TABLE IF NOT EXISTS returned_units (
    order_id TEXT NOT NULL,
    sku      TEXT NOT NULL,
    units    INTEGER NOT NULL CHECK (units >= 0),
    PRIMARY KEY (order_id, sku)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS damaged_stock (
    warehouse   TEXT NOT NULL,
    sku         TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    units       INTEGER NOT NULL CHECK (units >= 0),
    PRIMARY KEY (warehouse, sku, merchant_id)
) WITHOUT ROWID;
";

/// Version 29: a merchant's returns by creation time, indexed on the stored return's own
/// fields (no column to fill in on the rows already there).
pub(crate) const RETURNS_BY_MERCHANT: &str = "
CREATE INDEX IF NOT EXISTS returns_by_merchant
    ON returns (json_extract(body, '$.merchant_id'), json_extract(body, '$.created_at'));
";

/// A merchant's returns from a time (to the second: a stored time's fraction varies in
/// length, so the caller keeps the exact ones), by the index of step 30.
pub(crate) const RETURNS_SINCE: &str = "SELECT body FROM returns
    WHERE json_extract(body, '$.merchant_id') = ?1 AND json_extract(body, '$.created_at') >= ?2";

fn decode(body: &str) -> anyhow::Result<Return> {
    serde_json::from_str(body).context("A stored return is not its layout")
}

fn encode(ret: &Return) -> anyhow::Result<String> {
    serde_json::to_string(ret).context("Failed to encode the return")
}

enum Creating {
    Created,
    Duplicate(String),
    TooMany { sku: Sku, returnable: u32 },
}

/// The units of `sku` the order's returns claim.
fn claimed(conn: &Connection, order: &str, sku: &Sku) -> anyhow::Result<i64> {
    Ok(conn
        .query_row_cached(
            "SELECT units FROM returned_units WHERE order_id = ?1 AND sku = ?2",
            params![order, sku.as_str()],
            |r| r.get(0),
        )
        .optional()
        .context("Failed to read the units claimed")?
        .unwrap_or(0))
}

/// Puts the inspected units back: sellable ones onto the stock's on hand, damaged ones into
/// the damaged stock, each with its ledger entry.
fn put_back(conn: &Connection, ret: &Return, effects: &ReturnEffects) -> anyhow::Result<()> {
    for back in &effects.stock {
        let (w, o, s) = (back.warehouse.as_str(), back.owner.as_str(), back.sku.as_str());
        if back.restock > 0 {
            conn.execute_cached(
                "INSERT INTO stock (warehouse, merchant_id, sku, on_hand, reserved) VALUES (?1, ?2, ?3, ?4, 0)
                 ON CONFLICT (warehouse, merchant_id, sku) DO UPDATE SET on_hand = on_hand + excluded.on_hand",
                params![w, o, s, back.restock],
            )
            .context("Failed to put returned units back on hand")?;
        }
        if back.damaged > 0 {
            conn.execute_cached(
                "INSERT INTO damaged_stock (warehouse, sku, merchant_id, units) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (warehouse, sku, merchant_id) DO UPDATE SET units = units + excluded.units",
                params![w, s, o, back.damaged],
            )
            .context("Failed to put returned units to damaged stock")?;
        }
        for line in LedgerLine::of_stock_back(back, &ret.return_id) {
            append_ledger(conn, &line)?;
        }
    }
    Ok(())
}

#[async_trait]
impl ReturnStore for Embedded {
    /// One savepoint: the key looked up, every line's claim checked, then added, and the
    /// row inserted.
    async fn create_return(&self, ret: &Return, delivered: &[(Sku, u32)]) -> Result<CreateReturnOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to store return {}", ret.return_id), e);
        let body = encode(ret).map_err(failed)?;
        let (id, order, customer, key) =
            (ret.return_id.to_string(), ret.order_id.to_string(), ret.customer_id.to_string(), ret.idempotency_key.to_string());
        let claims = ret.claimed_units();
        let delivered = delivered.to_vec();
        let state = ret.state.as_str();
        let version = i64::try_from(ret.version).context("a return's version out of range").map_err(failed)?;
        let outcome = self
            .db
            .call(move |conn| {
                let first: Option<String> = conn
                    .query_row_cached(
                        "SELECT body FROM returns WHERE order_id = ?1 AND customer_id = ?2 AND idempotency_key = ?3",
                        params![order, customer, key],
                        |r| r.get(0),
                    )
                    .optional()
                    .context("Failed to query the returns by key")?;
                if let Some(first) = first {
                    return Ok(Creating::Duplicate(first));
                }
                // Every line checked before any claim is added: an answer commits the savepoint.
                for (sku, units) in &claims {
                    let delivered = delivered.iter().find(|(s, _)| s == sku).map_or(0, |(_, d)| *d);
                    let returnable = (i64::from(delivered) - claimed(conn, &order, sku)?).max(0);
                    if i64::from(*units) > returnable {
                        return Ok(Creating::TooMany { sku: sku.clone(), returnable: u32::try_from(returnable).unwrap_or(0) });
                    }
                }
                for (sku, units) in &claims {
                    conn.execute_cached(
                        "INSERT INTO returned_units (order_id, sku, units) VALUES (?1, ?2, ?3)
                         ON CONFLICT (order_id, sku) DO UPDATE SET units = units + excluded.units",
                        params![order, sku.as_str(), units],
                    )
                    .context("Failed to claim the units")?;
                }
                conn.execute_cached(
                    "INSERT INTO returns (return_id, order_id, customer_id, idempotency_key, state, version, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![id, order, customer, key, state, version, body],
                )
                .context("Failed to write the return row")?;
                Ok(Creating::Created)
            })
            .await
            .map_err(failed)?;
        Ok(match outcome {
            Creating::Created => CreateReturnOutcome::Created,
            Creating::Duplicate(body) => CreateReturnOutcome::Duplicate(Box::new(decode(&body).map_err(failed)?)),
            Creating::TooMany { sku, returnable } => CreateReturnOutcome::TooMany { sku, returnable },
        })
    }

    async fn get_return(&self, id: &ReturnId) -> Result<Option<Return>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read return {id}"), e);
        let key = id.to_string();
        let body: Option<String> = self
            .db
            .read(move |conn| {
                conn.query_row_cached("SELECT body FROM returns WHERE return_id = ?1", [key.as_str()], |r| r.get(0))
                    .optional()
                    .context("Failed to query the returns")
            })
            .await
            .map_err(failed)?;
        body.map(|b| decode(&b)).transpose().map_err(failed)
    }

    /// The `returns_by_key` index's order prefix, by return id (ULIDs sort by creation).
    async fn returns_of(&self, order: &OrderId) -> Result<Vec<Return>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the returns of order {order}"), e);
        let key = order.to_string();
        let bodies: Vec<String> = self
            .db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM returns WHERE order_id = ?1 ORDER BY return_id")
                    .context("Failed to prepare the returns query")?;
                let rows = stmt
                    .query_map([key.as_str()], |r| r.get(0))
                    .context("Failed to query the returns")?
                    .collect::<Result<Vec<String>, _>>()
                    .context("Failed to read the returns")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        bodies.iter().map(|b| decode(b)).collect::<anyhow::Result<_>>().map_err(failed)
    }

    async fn return_by_tracking(&self, tracking: &TrackingNumber) -> Result<Option<Return>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the return of tracking number {tracking}"), e);
        let key = tracking.to_string();
        let body: Option<String> = self
            .db
            .read(move |conn| {
                conn.query_row_cached("SELECT body FROM returns WHERE tracking_number = ?1", [key.as_str()], |r| r.get(0))
                    .optional()
                    .context("Failed to query the returns by tracking number")
            })
            .await
            .map_err(failed)?;
        body.map(|b| decode(&b)).transpose().map_err(failed)
    }

    /// One savepoint: the tracking number checked free, the row rewritten where its version
    /// is `before`'s; then the claims given back, the units put back and the messages queued.
    async fn move_return(
        &self,
        before: &Return,
        next: &Return,
        effects: &ReturnEffects,
    ) -> Result<MoveReturnOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to move return {}", next.return_id), e);
        let body = encode(next).map_err(failed)?;
        let version = |v: u64| i64::try_from(v).context("a return's version out of range").map_err(failed);
        let (id, from, to, version) = (next.return_id.to_string(), version(before.version)?, next.state, version(next.version)?);
        let tracking = next.tracking_number.as_ref().map(ToString::to_string);
        let gives_back = before.state.claims_units() && !next.state.claims_units();
        let (before, next, effects) = (before.clone(), next.clone(), effects.clone());
        self.db
            .call(move |conn| {
                if let Some(tracking) = tracking.as_deref().filter(|_| before.tracking_number.is_none()) {
                    let holder: Option<String> = conn
                        .query_row_cached("SELECT return_id FROM returns WHERE tracking_number = ?1", [tracking], |r| r.get(0))
                        .optional()
                        .context("Failed to look the tracking number up")?;
                    if holder.is_some_and(|h| h != id) {
                        return Ok(MoveReturnOutcome::TrackingTaken);
                    }
                }
                let moved = conn
                    .execute_cached(
                        "UPDATE returns SET state = ?2, version = ?3, tracking_number = ?4, body = ?5
                         WHERE return_id = ?1 AND version = ?6",
                        params![id, to.as_str(), version, tracking, body, from],
                    )
                    .context("Failed to write the return row")?;
                if moved != 1 {
                    let now: Option<String> = conn
                        .query_row_cached("SELECT state FROM returns WHERE return_id = ?1", [id.as_str()], |r| r.get(0))
                        .optional()
                        .context("Failed to read the return's state")?;
                    return Ok(match now {
                        None => MoveReturnOutcome::NotFound,
                        Some(s) => {
                            MoveReturnOutcome::Conflict(ReturnState::parse(&s).context("A stored return state is corrupt")?)
                        }
                    });
                }
                if gives_back {
                    for (sku, units) in before.claimed_units() {
                        conn.execute_cached(
                            "UPDATE returned_units SET units = units - ?3 WHERE order_id = ?1 AND sku = ?2",
                            params![before.order_id.as_str(), sku.as_str(), units],
                        )
                        .context("Failed to give the claimed units back")?;
                    }
                }
                put_back(conn, &next, &effects)?;
                crate::queue::enqueue(conn, &effects.send)?;
                Ok(MoveReturnOutcome::Moved)
            })
            .await
            .map_err(failed)
    }

    /// The merchant's returns from the second of `since` by `returns_by_merchant`, the
    /// exact ones kept, oldest first.
    async fn returns_since(&self, merchant: &MerchantId, since: DateTime<Utc>) -> Result<Vec<Return>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the returns of merchant {merchant}"), e);
        let (key, from) = (merchant.to_string(), since.format("%Y-%m-%dT%H:%M:%S").to_string());
        let bodies: Vec<String> = self
            .db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(RETURNS_SINCE).context("Failed to prepare the returns query")?;
                let rows = stmt.query_map(params![key, from], |r| r.get(0)).context("Failed to query the returns")?;
                rows.collect::<Result<_, _>>().context("Failed to read the returns")
            })
            .await
            .map_err(failed)?;
        let mut returns: Vec<Return> = bodies.iter().map(|body| decode(body)).collect::<anyhow::Result<_>>().map_err(failed)?;
        returns.retain(|ret| ret.created_at >= since);
        returns.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.return_id.cmp(&b.return_id)));
        Ok(returns)
    }

    async fn damaged_stock(&self, warehouse: &WarehouseId) -> Result<Vec<DamagedStock>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the damaged stock of {warehouse}"), e);
        let key = warehouse.to_string();
        let rows: Vec<(String, String, i64)> = self
            .db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT sku, merchant_id, units FROM damaged_stock WHERE warehouse = ?1 ORDER BY sku, merchant_id",
                    )
                    .context("Failed to prepare the damaged stock query")?;
                let rows = stmt
                    .query_map([key.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .context("Failed to query the damaged stock")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the damaged stock")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        rows.into_iter()
            .map(|(sku, owner, units)| {
                Ok(DamagedStock {
                    warehouse: warehouse.clone(),
                    owner: MerchantId::parse(owner).context("A stored owner is invalid")?,
                    sku: Sku::parse(sku).context("A stored SKU is invalid")?,
                    units: u32::try_from(units).context("A stored damaged count is out of range")?,
                })
            })
            .collect::<anyhow::Result<_>>()
            .map_err(failed)
    }
}
