//! `InventoryStore`: stock per (warehouse, owner, SKU) and the reservations held against it
//! (each reservation row names the owner whose units it holds).
//! Every operation runs in the savepoint the database thread opens for it (rolled back when
//! it answers an error), so a reservation is all or nothing and two reservations can never
//! both take the last unit. An operation decides before it writes: a path that answers an
//! outcome other than success writes nothing, and a path that finds a problem after writing
//! answers an error, so its writes are undone.

use anyhow::{bail, Context};
use async_trait::async_trait;
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
            .call(move |conn| release(conn, &id, &hold))
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
    let reserved = counts(conn, &warehouse, &owner, &sku)?.map_or(0, |c| c.reserved());
    if reserved > on_hand {
        return Ok(SetOnHandOutcome::BelowReserved { reserved });
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

/// A hold of units set aside already (a flash sale's): the reservation rows only.
fn hold_set_aside(conn: &mut Connection, order_id: &OrderId, lines: &[AllocatedLine]) -> anyhow::Result<ReserveOutcome> {
    if held(conn, order_id)?.is_some() {
        return Ok(ReserveOutcome::AlreadyReserved);
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

pub(crate) fn release(conn: &mut Connection, order_id: &OrderId, hold_id: &HoldId) -> anyhow::Result<ReleaseOutcome> {
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
        };
        let err = anyhow::Error::from(store.reserve(&order, &Reservation::new([line])).await.unwrap_err());
        assert!(format!("{err:#}").contains("is corrupt"), "{err:#}");
    }
}
