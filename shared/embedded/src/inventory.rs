//! `InventoryStore`: stock per (warehouse, owner, SKU) and the reservations held against it
//! (each reservation row names the owner whose units it holds).
//! Every operation runs in the savepoint the database thread opens for it (rolled back when
//! it answers an error), so a reservation is all or nothing and two reservations can never
//! both take the last unit. An operation decides before it writes: a path that answers an
//! outcome other than success writes nothing, and a path that finds a problem after writing
//! answers an error, so its writes are undone.

use anyhow::{bail, Context};
use async_trait::async_trait;
use oms_domain::ledger::{
    self, AdjustOutcome, Adjustment, HoldKind, HoldRef, LedgerEntry, LedgerKind, LedgerLine, LedgerPage, OpenHold, ReleaseNote,
    StockFigures,
};
use oms_domain::order::AllocatedLine;
use oms_domain::ports::{InventoryStore, ReleaseOutcome, ReserveOutcome, SetOnHandOutcome, StoreError};
use oms_domain::reservation::{Hold, HoldId, Reservation};
use oms_domain::stock::{StockCounts, StockLevel};
use oms_domain::{MerchantId, OrderId, Sku, WarehouseId};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::db::to_u32;
use crate::db::CachedStatements;
use crate::Embedded;

#[async_trait]
impl InventoryStore for Embedded {
    async fn set_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        on_hand: u32,
    ) -> Result<SetOnHandOutcome, StoreError> {
        let (w, o, s) = (warehouse.clone(), owner.clone(), sku.clone());
        self.db
            .call(move |conn| set_on_hand(conn, w, o, s, on_hand))
            .await
            .map_err(|e| StoreError::new(format!("Failed to set {owner}'s stock of {sku} in {warehouse}"), e))
    }

    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        let s = sku.clone();
        self.db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT warehouse, merchant_id, sku, on_hand, reserved FROM stock WHERE sku = ?1
                         ORDER BY warehouse, merchant_id",
                    )
                    .context("Failed to prepare the stock query")?;
                let rows = stmt
                    .query_map([s.as_str()], read_stock_row)
                    .context("Failed to query the stock")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the stock")?;
                rows.into_iter().map(decode_stock).collect()
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the stock of {sku}"), e))
    }

    async fn lots_of(&self, sku: &Sku) -> Result<Vec<oms_domain::lot::LotBalance>, StoreError> {
        let s = sku.clone();
        self.db
            .call(move |conn| crate::lots::lots_of(conn, &s))
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the lots of {sku}"), e))
    }

    async fn claim_lot_sweep(&self, day: chrono::NaiveDate) -> Result<bool, StoreError> {
        self.db
            .call(move |conn| crate::lots::claim_lot_sweep(conn, day))
            .await
            .map_err(|e| StoreError::new(format!("Failed to claim the lot sweep of {day}"), e))
    }

    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        let (id, owned) = (order_id.clone(), reservation.lines().to_vec());
        self.db
            .call(move |conn| reserve(conn, &id, &owned))
            .await
            .map_err(|e| StoreError::new(format!("Failed to reserve stock for order {order_id}"), e))
    }

    /// The reservation rows alone: the stock rows' `reserved` already counts the units.
    async fn hold_set_aside(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        let (id, owned) = (order_id.clone(), reservation.lines().to_vec());
        self.db
            .call(move |conn| hold_set_aside(conn, &id, &owned))
            .await
            .map_err(|e| StoreError::new(format!("Failed to hold set-aside stock for order {order_id}"), e))
    }

    async fn release(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<ReleaseOutcome, StoreError> {
        let (id, hold) = (order_id.clone(), hold_id.clone());
        self.db
            .call(move |conn| release(conn, &id, &hold, &ReleaseNote::release("released")))
            .await
            .map_err(|e| StoreError::new(format!("Failed to release the stock held for order {order_id}"), e))
    }

    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Hold>, StoreError> {
        let id = order_id.clone();
        self.db
            .call(move |conn| held(conn, &id))
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the reservation of order {order_id}"), e))
    }

    async fn adjust(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &Adjustment,
    ) -> Result<AdjustOutcome, StoreError> {
        let (w, o, s, a) = (warehouse.clone(), owner.clone(), sku.clone(), adjustment.clone());
        self.db
            .call(move |conn| adjust(conn, &w, &o, &s, &a))
            .await
            .map_err(|e| StoreError::new(format!("Failed to adjust {owner}'s stock of {sku} in {warehouse}"), e))
    }

    async fn ledger(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<LedgerPage, StoreError> {
        let (s, o, a) = (sku.clone(), owner.cloned(), after.map(str::to_owned));
        self.db
            .call(move |conn| ledger_page(conn, &s, o.as_ref(), a.as_deref(), limit))
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the ledger of {sku}"), e))
    }

    async fn stock_figures(&self) -> Result<Vec<StockFigures>, StoreError> {
        self.db.call(stock_figures).await.map_err(|e| StoreError::new("Failed to read every stock's figures", e))
    }

    async fn open_holds(&self) -> Result<Vec<OpenHold>, StoreError> {
        self.db.call(open_holds).await.map_err(|e| StoreError::new("Failed to read the open holds", e))
    }
}

/// Appends `line` to the stock ledger in the operation's savepoint: what every path that
/// changes a stock's figures does, beside the change (a shipment: one call per line of
/// `LedgerLine::ship`).
pub(crate) fn append_ledger(conn: &Connection, line: &LedgerLine) -> anyhow::Result<LedgerEntry> {
    let entry = line.clone().stamp(ledger::new_entry_id(), chrono::Utc::now());
    conn.execute_cached(
        "INSERT INTO stock_ledger (entry_id, sku, warehouse, merchant_id, kind, delta_on_hand, delta_held, hold_kind, hold_id, reason, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            entry.entry_id,
            entry.sku.as_str(),
            entry.warehouse.as_str(),
            entry.owner.as_str(),
            entry.kind.as_str(),
            entry.delta_on_hand,
            entry.delta_held,
            entry.hold.as_ref().map(|h| h.kind.as_str()),
            entry.hold.as_ref().map(|h| h.id.as_str()),
            entry.reason,
            entry.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ],
    )
    .with_context(|| format!("Failed to append to the ledger of {}", entry.sku))?;
    Ok(entry)
}

const LEDGER_COLUMNS: &str =
    "entry_id, sku, warehouse, merchant_id, kind, delta_on_hand, delta_held, hold_kind, hold_id, reason, at";

/// A `stock_ledger` row as read, in `LEDGER_COLUMNS` order.
type EntryRow = (String, String, String, String, String, i64, i64, Option<String>, Option<String>, String, String);

fn read_entry(row: &Row<'_>) -> rusqlite::Result<anyhow::Result<LedgerEntry>> {
    let raw: EntryRow = (
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
    );
    Ok(decode_entry(raw))
}

fn decode_entry(
    (entry_id, sku, warehouse, owner, kind, delta_on_hand, delta_held, hold_kind, hold_id, reason, at): EntryRow,
) -> anyhow::Result<LedgerEntry> {
    let hold = match (hold_kind, hold_id) {
        (Some(kind), Some(id)) => Some(HoldRef { kind: HoldKind::parse(&kind).context("A stored hold kind is invalid")?, id }),
        _ => None,
    };
    Ok(LedgerEntry {
        entry_id,
        sku: Sku::parse(sku).context("A stored SKU is invalid")?,
        warehouse: WarehouseId::parse(warehouse).context("A stored warehouse id is invalid")?,
        owner: MerchantId::parse(owner).context("A stored owner (merchant id) is invalid")?,
        kind: LedgerKind::parse(&kind).context("A stored ledger kind is invalid")?,
        delta_on_hand,
        delta_held,
        hold,
        reason,
        at: chrono::DateTime::parse_from_rfc3339(&at).context("A stored ledger time is invalid")?.with_timezone(&chrono::Utc),
    })
}

/// Up to `limit` entries of the SKU's ledger (of `owner`'s stock only, when given), oldest
/// first, after the entry `after`.
fn ledger_page(
    conn: &mut Connection,
    sku: &Sku,
    owner: Option<&MerchantId>,
    after: Option<&str>,
    limit: usize,
) -> anyhow::Result<LedgerPage> {
    let after_seq: i64 = match after {
        None => 0,
        Some(id) => conn
            .query_row_cached("SELECT seq FROM stock_ledger WHERE entry_id = ?1 AND sku = ?2", params![id, sku.as_str()], |r| {
                r.get(0)
            })
            .optional()
            .context("Failed to find the cursor's entry")?
            .unwrap_or(i64::MAX),
    };
    let take = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {LEDGER_COLUMNS} FROM stock_ledger WHERE sku = ?1 AND seq > ?2 AND (?3 IS NULL OR merchant_id = ?3)
             ORDER BY seq LIMIT ?4"
        ))
        .context("Failed to prepare the ledger query")?;
    let mut entries = stmt
        .query_map(params![sku.as_str(), after_seq, owner.map(MerchantId::as_str), take], read_entry)
        .context("Failed to query the ledger")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the ledger")?
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    let more = entries.len() > limit;
    entries.truncate(limit);
    let next = if more { entries.last().map(|e| e.entry_id.clone()) } else { None };
    Ok(LedgerPage { entries, next })
}

fn adjust(
    conn: &mut Connection,
    warehouse: &WarehouseId,
    owner: &MerchantId,
    sku: &Sku,
    adjustment: &Adjustment,
) -> anyhow::Result<AdjustOutcome> {
    let (on_hand, held) = counts(conn, warehouse, owner, sku)?.map_or((0, 0), |c| (c.on_hand(), c.reserved()));
    let line = match adjustment {
        Adjustment::Delta { delta, reason } => LedgerLine::adjust(warehouse, owner, sku, *delta, reason.clone()),
        Adjustment::CountAsOf { count, as_of, reason } => {
            let since = ledger::entry_id_floor(*as_of);
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {LEDGER_COLUMNS} FROM stock_ledger
                     WHERE sku = ?1 AND warehouse = ?2 AND merchant_id = ?3 AND entry_id >= ?4 ORDER BY seq"
                ))
                .context("Failed to prepare the ledger query")?;
            let since_count = stmt
                .query_map(params![sku.as_str(), warehouse.as_str(), owner.as_str(), since], read_entry)
                .context("Failed to query the ledger")?
                .collect::<Result<Vec<_>, _>>()
                .context("Failed to read the ledger")?
                .into_iter()
                .collect::<anyhow::Result<Vec<_>>>()?;
            let since_count: Vec<LedgerEntry> = since_count.into_iter().filter(|e| e.at > *as_of).collect();
            if let Some(newer) = since_count.iter().find(|e| e.kind == LedgerKind::Recount) {
                return Ok(AdjustOutcome::NewerCount { counted_at: newer.at });
            }
            let moved: i64 = since_count.iter().map(|e| e.delta_on_hand).sum();
            let target = i64::from(*count) + moved;
            let reason = format!("{reason} (count of {count} as of {}, {moved:+} moved since)", as_of.to_rfc3339());
            LedgerLine::adjust(warehouse, owner, sku, target - i64::from(on_hand), reason)
        }
    };
    let line = match adjustment {
        Adjustment::CountAsOf { .. } => LedgerLine { kind: LedgerKind::Recount, ..line },
        Adjustment::Delta { .. } => line,
    };
    let after = i64::from(on_hand) + line.delta_on_hand;
    if after < i64::from(held) || after > i64::from(oms_domain::stock::MAX_ON_HAND) {
        return Ok(AdjustOutcome::BelowHeld { held, on_hand_after: after });
    }
    let after = u32::try_from(after).context("on hand out of range")?;
    conn.execute_cached(
        "INSERT INTO stock (warehouse, merchant_id, sku, on_hand, reserved) VALUES (?1, ?2, ?3, ?4, 0)
         ON CONFLICT (warehouse, merchant_id, sku) DO UPDATE SET on_hand = excluded.on_hand",
        params![warehouse.as_str(), owner.as_str(), sku.as_str(), after],
    )
    .context("Failed to write the stock row")?;
    let entry = append_ledger(conn, &line)?;
    let counts = StockCounts::new(after, held).context("The new stock counts are inconsistent")?;
    Ok(AdjustOutcome::Adjusted { level: StockLevel::new(warehouse.clone(), owner.clone(), sku.clone(), counts), entry })
}

fn stock_figures(conn: &mut Connection) -> anyhow::Result<Vec<StockFigures>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT warehouse, merchant_id, sku, on_hand, reserved, set_aside FROM stock ORDER BY sku, warehouse, merchant_id",
        )
        .context("Failed to prepare the stock query")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .context("Failed to query the stock")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the stock")?;
    rows.into_iter()
        .map(|(warehouse, owner, sku, on_hand, held, set_aside)| {
            Ok(StockFigures {
                warehouse: WarehouseId::parse(warehouse).context("A stored warehouse id is invalid")?,
                owner: MerchantId::parse(owner).context("A stored owner (merchant id) is invalid")?,
                sku: Sku::parse(sku).context("A stored SKU is invalid")?,
                on_hand,
                held,
                // SQLite keeps no separate available: it is on hand less held by definition.
                available: on_hand - held,
                set_aside,
            })
        })
        .collect()
}

fn open_holds(conn: &mut Connection) -> anyhow::Result<Vec<OpenHold>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT order_id, warehouse, merchant_id, sku, quantity FROM reservations ORDER BY sku, warehouse, merchant_id, order_id",
        )
        .context("Failed to prepare the reservation query")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .context("Failed to query the reservations")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the reservations")?;
    rows.into_iter()
        .map(|(order, warehouse, owner, sku, quantity)| {
            Ok(OpenHold {
                hold: HoldRef { kind: HoldKind::Order, id: order },
                warehouse: WarehouseId::parse(warehouse).context("A stored warehouse id is invalid")?,
                owner: MerchantId::parse(owner).context("A stored owner (merchant id) is invalid")?,
                sku: Sku::parse(sku).context("A stored SKU is invalid")?,
                quantity: to_u32(quantity, "quantity")?,
            })
        })
        .collect()
}

/// Every stock level, by warehouse, SKU, then owner.
pub(crate) fn all_stock(conn: &mut Connection) -> anyhow::Result<Vec<StockLevel>> {
    let mut stmt = conn
        .prepare_cached("SELECT warehouse, merchant_id, sku, on_hand, reserved FROM stock ORDER BY warehouse, sku, merchant_id")
        .context("Failed to prepare the stock query")?;
    let rows = stmt
        .query_map([], read_stock_row)
        .context("Failed to query the stock")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the stock")?;
    rows.into_iter().map(decode_stock).collect()
}

fn set_on_hand(
    conn: &mut Connection,
    warehouse: WarehouseId,
    owner: MerchantId,
    sku: Sku,
    on_hand: u32,
) -> anyhow::Result<SetOnHandOutcome> {
    let (before, reserved) = counts(conn, &warehouse, &owner, &sku)?.map_or((0, 0), |c| (c.on_hand(), c.reserved()));
    if reserved > on_hand {
        return Ok(SetOnHandOutcome::BelowReserved { reserved });
    }
    if before != on_hand {
        append_ledger(conn, &LedgerLine::recount(&warehouse, &owner, &sku, before, on_hand, "counted"))?;
    }
    conn.execute_cached(
        "INSERT INTO stock (warehouse, merchant_id, sku, on_hand, reserved) VALUES (?1, ?2, ?3, ?4, 0)
         ON CONFLICT (warehouse, merchant_id, sku) DO UPDATE SET on_hand = excluded.on_hand",
        params![warehouse.as_str(), owner.as_str(), sku.as_str(), on_hand],
    )
    .context("Failed to write the stock row")?;
    let counts = StockCounts::new(on_hand, reserved).context("The new stock counts are inconsistent")?;
    Ok(SetOnHandOutcome::Set(StockLevel::new(warehouse, owner, sku, counts)))
}

/// The whole reservation in the operation's one savepoint: SQLite has no limit on the rows
/// of a transaction, so every part of a large reservation is written at once.
fn reserve(conn: &mut Connection, order_id: &OrderId, lines: &[AllocatedLine]) -> anyhow::Result<ReserveOutcome> {
    if held(conn, order_id)?.is_some() {
        return Ok(ReserveOutcome::AlreadyReserved);
    }
    for line in lines {
        let available = available(conn, line)?;
        if available < line.quantity {
            return Ok(ReserveOutcome::Insufficient {
                warehouse: line.warehouse.clone(),
                owner: line.owner.clone(),
                sku: line.sku.clone(),
                available,
            });
        }
    }
    for line in lines {
        raise_reserved(conn, line)?;
        append_ledger(conn, &LedgerLine::reserve(order_id, line))?;
    }
    record_hold(conn, order_id, lines)
}

/// Grows the reserved count of the line's stock by its quantity (checked by the caller).
pub(crate) fn raise_reserved(conn: &Connection, line: &AllocatedLine) -> anyhow::Result<()> {
    conn.execute_cached(
        "UPDATE stock SET reserved = reserved + ?4 WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3",
        params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), line.quantity],
    )
    .with_context(|| format!("Failed to hold {} of {}'s {} in {}", line.quantity, line.owner, line.sku, line.warehouse))?;
    Ok(())
}

/// The units of the line's stock available now (none for a stock never counted).
pub(crate) fn available(conn: &Connection, line: &AllocatedLine) -> anyhow::Result<u32> {
    Ok(counts(conn, &line.warehouse, &line.owner, &line.sku)?.map_or(0, |c| c.available()))
}

/// Takes `line`'s units out of its stock's on hand, used up by `source` (a repair's
/// parts), with their `consume` ledger entry; `Some(available)` and nothing written when
/// fewer are available (on hand less held).
pub(crate) fn consume(conn: &Connection, line: &AllocatedLine, source: &str) -> anyhow::Result<Option<u32>> {
    let available = available(conn, line)?;
    if available < line.quantity {
        return Ok(Some(available));
    }
    conn.execute_cached(
        "UPDATE stock SET on_hand = on_hand - ?4 WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3",
        params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), line.quantity],
    )
    .with_context(|| format!("Failed to use {} of {}'s {} in {}", line.quantity, line.owner, line.sku, line.warehouse))?;
    append_ledger(conn, &LedgerLine::consume(&line.warehouse, &line.owner, &line.sku, line.quantity, source))?;
    Ok(None)
}

/// A hold of units set aside already (a flash sale's): the reservation rows only.
pub(crate) fn hold_set_aside(
    conn: &mut Connection,
    order_id: &OrderId,
    lines: &[AllocatedLine],
) -> anyhow::Result<ReserveOutcome> {
    if held(conn, order_id)?.is_some() {
        return Ok(ReserveOutcome::AlreadyReserved);
    }
    for line in lines {
        let changed = conn
            .execute_cached(
                "UPDATE stock SET set_aside = set_aside - ?4
                 WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3 AND set_aside >= ?4",
                params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), line.quantity],
            )
            .context("Failed to take units from the set-aside")?;
        if changed != 1 {
            // An error, so what was taken so far is rolled back with the savepoint.
            bail!(
                "{}'s stock of {} in {} has fewer than {} units set aside",
                line.owner,
                line.sku,
                line.warehouse,
                line.quantity
            );
        }
        for entry in LedgerLine::from_set_aside(order_id, line) {
            append_ledger(conn, &entry)?;
        }
    }
    record_hold(conn, order_id, lines)
}

/// The reservation rows of a new hold of `lines` for the order.
fn record_hold(conn: &Connection, order_id: &OrderId, lines: &[AllocatedLine]) -> anyhow::Result<ReserveOutcome> {
    let hold_id = HoldId::generate();
    for line in lines {
        conn.execute_cached(
            "INSERT INTO reservations (order_id, hold_id, warehouse, merchant_id, sku, quantity) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                order_id.as_str(),
                hold_id.as_str(),
                line.warehouse.as_str(),
                line.owner.as_str(),
                line.sku.as_str(),
                line.quantity
            ],
        )
        .context("Failed to record the reservation")?;
    }
    Ok(ReserveOutcome::Reserved { hold_id })
}

/// True if the order holds any stock.
pub(crate) fn holds_any(conn: &Connection, order_id: &OrderId) -> anyhow::Result<bool> {
    Ok(held(conn, order_id)?.is_some())
}

/// True if the order's current hold is `hold_id`.
pub(crate) fn holds(conn: &Connection, order_id: &OrderId, hold_id: &HoldId) -> anyhow::Result<bool> {
    Ok(held(conn, order_id)?.is_some_and(|hold| &hold.hold_id == hold_id))
}

pub(crate) fn release(
    conn: &mut Connection,
    order_id: &OrderId,
    hold_id: &HoldId,
    note: &ReleaseNote,
) -> anyhow::Result<ReleaseOutcome> {
    let Some(hold) = held(conn, order_id)? else {
        return Ok(ReleaseOutcome::NothingHeld);
    };
    if &hold.hold_id != hold_id {
        return Ok(ReleaseOutcome::NotThatHold);
    }
    let lines = hold.reservation.lines();
    for line in lines {
        let changed = conn
            .execute_cached(
                "UPDATE stock SET reserved = reserved - ?4
                 WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3 AND reserved >= ?4",
                params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), line.quantity],
            )
            .with_context(|| {
                format!("Failed to give back {} of {}'s {} in {}", line.quantity, line.owner, line.sku, line.warehouse)
            })?;
        if changed != 1 && line.quantity > 0 {
            // An error, so the lines given back so far are rolled back with the savepoint.
            bail!(
                "{}'s stock of {} in {} holds fewer units than the reservation of {}",
                line.owner,
                line.sku,
                line.warehouse,
                line.quantity
            );
        }
        append_ledger(conn, &LedgerLine::release(order_id, line, note))?;
    }
    conn.execute_cached("DELETE FROM reservations WHERE order_id = ?1 AND hold_id = ?2", [order_id.as_str(), hold_id.as_str()])
        .context("Failed to drop the reservation")?;
    Ok(ReleaseOutcome::Released(hold.reservation))
}

/// The counts of one (warehouse, owner, SKU), if it was ever counted.
fn counts(conn: &Connection, warehouse: &WarehouseId, owner: &MerchantId, sku: &Sku) -> anyhow::Result<Option<StockCounts>> {
    let row: Option<(i64, i64)> = conn
        .query_row_cached(
            "SELECT on_hand, reserved FROM stock WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3",
            params![warehouse.as_str(), owner.as_str(), sku.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .with_context(|| format!("Failed to read {owner}'s stock of {sku} in {warehouse}"))?;
    row.map(|(on_hand, reserved)| {
        stored_counts(on_hand, reserved).with_context(|| format!("The stored stock of {owner}'s {sku} in {warehouse} is corrupt"))
    })
    .transpose()
}

/// The hold an order has, if any. Its rows all carry one hold id; rows under two would be
/// a corrupt store, and are an error.
fn held(conn: &Connection, order_id: &OrderId) -> anyhow::Result<Option<Hold>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT hold_id, warehouse, merchant_id, sku, quantity FROM reservations WHERE order_id = ?1
             ORDER BY warehouse, merchant_id, sku",
        )
        .context("Failed to prepare the reservation query")?;
    let rows = stmt
        .query_map([order_id.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })
        .context("Failed to query the reservation")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the reservation")?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let hold_id = HoldId::parse(first.0.clone()).context("A stored hold id is invalid")?;
    let lines = rows
        .into_iter()
        .map(|(hold, warehouse, owner, sku, quantity)| {
            if hold != hold_id.as_str() {
                bail!("The reservation of order {order_id} is stored under two holds, {hold_id} and {hold}");
            }
            Ok(AllocatedLine {
                warehouse: WarehouseId::parse(warehouse).context("A stored warehouse id is invalid")?,
                owner: MerchantId::parse(owner).context("A stored owner (merchant id) is invalid")?,
                sku: Sku::parse(sku).context("A stored SKU is invalid")?,
                quantity: to_u32(quantity, "quantity")?,
                transfer_price: None,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(Hold { hold_id, reservation: Reservation::new(lines) }))
}

type StockRow = (String, String, String, i64, i64);

fn read_stock_row(row: &Row<'_>) -> rusqlite::Result<StockRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn decode_stock((warehouse, owner, sku, on_hand, reserved): StockRow) -> anyhow::Result<StockLevel> {
    let counts = stored_counts(on_hand, reserved)
        .with_context(|| format!("The stored stock of {owner}'s {sku} in {warehouse} is corrupt"))?;
    Ok(StockLevel::new(
        WarehouseId::parse(warehouse).context("A stored warehouse id is invalid")?,
        MerchantId::parse(owner).context("A stored owner (merchant id) is invalid")?,
        Sku::parse(sku).context("A stored SKU is invalid")?,
        counts,
    ))
}

/// The counts of a stock row; more reserved than on hand is an error, never hidden.
fn stored_counts(on_hand: i64, reserved: i64) -> anyhow::Result<StockCounts> {
    Ok(StockCounts::new(to_u32(on_hand, "on hand")?, to_u32(reserved, "reserved")?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store whose one stock row has more reserved than on hand, written past the
    /// table's CHECK constraint as a damaged or hand-edited file could hold it.
    fn store_with_corrupt_stock() -> Embedded {
        let store = Embedded::open_in_memory().unwrap();
        store
            .db
            .call_now(|conn| {
                conn.execute_batch(
                    "PRAGMA ignore_check_constraints = ON;
                     INSERT INTO stock (warehouse, merchant_id, sku, on_hand, reserved) VALUES ('wh-1', 'm-1', 'SKU-1', 2, 5);
                     PRAGMA ignore_check_constraints = OFF;",
                )?;
                Ok(())
            })
            .unwrap();
        store
    }

    #[tokio::test]
    async fn a_release_that_fails_halfway_undoes_what_it_gave_back() {
        let store = Embedded::open_in_memory().unwrap();
        let (wh, order) = (WarehouseId::parse("wh-1").unwrap(), OrderId::parse("ord_1").unwrap());
        let owner = MerchantId::parse("m-1").unwrap();
        let (a, b) = (Sku::parse("SKU-A").unwrap(), Sku::parse("SKU-B").unwrap());
        for sku in [&a, &b] {
            let _ = store.set_on_hand(&wh, &owner, sku, 5).await.unwrap();
        }
        let lines = [(&a, 2), (&b, 3)].map(|(sku, quantity)| AllocatedLine {
            warehouse: wh.clone(),
            owner: owner.clone(),
            sku: sku.clone(),
            quantity,
            transfer_price: None,
        });
        let ReserveOutcome::Reserved { hold_id } = store.reserve(&order, &Reservation::new(lines)).await.unwrap() else {
            panic!("the reservation was refused");
        };
        // SKU-B now holds fewer reserved units than the reservation: the release gives back
        // SKU-A's first, then finds SKU-B short and answers an error.
        store.db.call_now(|conn| Ok(conn.execute("UPDATE stock SET reserved = 1 WHERE sku = 'SKU-B'", [])?)).unwrap();

        assert!(store.release(&order, &hold_id).await.is_err());
        let reserved: Vec<u32> = store.all_stock().await.unwrap().iter().map(|level| level.reserved).collect();
        assert_eq!(reserved, [2, 1], "SKU-A's units are still held: the operation's savepoint was rolled back");
        assert!(store.reservation(&order).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_stock_row_with_more_reserved_than_on_hand_is_an_error_not_zero_available() {
        let store = store_with_corrupt_stock();
        let sku = Sku::parse("SKU-1").unwrap();
        let err = anyhow::Error::from(store.stock_of(&sku).await.unwrap_err());
        assert!(format!("{err:#}").contains("5 units reserved exceed the 2 on hand"), "{err:#}");

        let order = OrderId::parse("ord_1").unwrap();
        let line = AllocatedLine {
            warehouse: WarehouseId::parse("wh-1").unwrap(),
            owner: MerchantId::parse("m-1").unwrap(),
            sku,
            quantity: 1,
            transfer_price: None,
        };
        let err = anyhow::Error::from(store.reserve(&order, &Reservation::new([line])).await.unwrap_err());
        assert!(format!("{err:#}").contains("is corrupt"), "{err:#}");
    }
}
