//! `OrderStore`: orders as JSON bodies, with the columns every lookup needs indexed.

use crate::db::{index_time, CachedStatements};
use anyhow::bail;
use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oms_domain::messages::Outgoing;
use oms_domain::order::Order;
use oms_domain::ports::{
    Effects, HoldEffect, InsertOutcome, OrderQuery, OrderStore, OrdersPage, Page, ReleaseOutcome, ServiceOrderWrite, StatusEntry,
    StoreError, UpdateOutcome,
};
use oms_domain::{OrderId, OrderStatus, Sku};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::queue::enqueue;
use crate::rows::{event_body, order_body, order_from_rows};
use crate::Embedded;

// JSON is encoded and decoded here, on the caller's task; the database thread only moves
// rows, so it spends its time on SQLite alone.
#[async_trait]
impl OrderStore for Embedded {
    /// The order row, its index rows and the messages' rows in one savepoint.
    async fn insert_order_sending(&self, order: &Order, send: &[Outgoing]) -> Result<InsertOutcome, StoreError> {
        let id = order.order_id.clone();
        let failed = |e| StoreError::new(format!("Failed to insert order {id}"), e);
        let row = EncodedOrder::new(order, 1).map_err(failed)?;
        let messages = send.to_vec();
        match self.db.call(move |conn| insert(conn, &row, &messages)).await.map_err(failed)? {
            None => {
                if !send.is_empty() {
                    self.wake_consumers();
                }
                Ok(InsertOutcome::Inserted)
            }
            Some(existing) => Ok(InsertOutcome::Duplicate(Box::new(decode(existing).map_err(failed)?))),
        }
    }

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let key = id.clone();
        let failed = |e| StoreError::new(format!("Failed to read order {id}"), e);
        let row = self
            .db
            .call(move |conn| {
                let row = conn
                    .query_row_cached(
                        "SELECT order_id, version, body FROM orders WHERE order_id = ?1",
                        [key.as_str()],
                        read_order_row,
                    )
                    .optional()
                    .context("Failed to query the orders table")?;
                row.map(|row| with_moved(conn, row)).transpose()
            })
            .await
            .map_err(failed)?;
        row.map(decode).transpose().map_err(failed)
    }

    /// The order row, its index rows, the messages' rows and the release of its hold in
    /// one savepoint.
    async fn update_order_with(&self, order: &Order, effects: &Effects) -> Result<UpdateOutcome, StoreError> {
        let id = order.order_id.clone();
        let failed = |e| StoreError::new(format!("Failed to update order {id}"), e);
        let next = order.version.checked_add(1).context("The order's version is out of range").map_err(failed)?;
        let read_version = i64::try_from(order.version).context("The order's version is out of range").map_err(failed)?;
        let row = EncodedOrder::new(order, next).map_err(failed)?;
        let owned = effects.clone();
        let note = oms_domain::ledger::ReleaseNote::of_order(order);
        let changed = self.db.call(move |conn| update(conn, &row, read_version, &owned, &note)).await.map_err(failed)?;
        if changed && !effects.send.is_empty() {
            self.wake_consumers();
        }
        Ok(if changed { UpdateOutcome::Updated { version: next } } else { UpdateOutcome::VersionConflict })
    }

    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError> {
        let owned = query.clone();
        let limit = page.limit();
        let after = page.after().map(ToString::to_string);
        let failed = |e| StoreError::new(format!("Failed to find orders by {query:?}"), e);
        let rows = self.db.call(move |conn| find(conn, &owned, limit, after.as_deref())).await.map_err(failed)?;
        let orders = rows.into_iter().map(decode).collect::<anyhow::Result<_>>().map_err(failed)?;
        Ok(OrdersPage::from_matches(orders, limit))
    }

    /// `backorders` rows of the SKU by `(since, order_id)`; the rows are written with the
    /// order row in one savepoint (`insert` and `update`).
    async fn backorders_waiting_for(&self, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        let key = sku.to_string();
        let failed = |e| StoreError::new(format!("Failed to look up the backorders of {sku}"), e);
        let ids = self.db.call(move |conn| waiting_for(conn, &key, limit)).await.map_err(failed)?;
        ids.iter()
            .map(|id| OrderId::parse(id).map_err(|e| failed(anyhow::anyhow!("A backorder row names an invalid order id: {e}"))))
            .collect()
    }

    /// The partial index `orders_by_status` on (status, status_since, order_id), which
    /// holds only orders whose status is not final.
    async fn orders_in_status_since(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        after: Option<&StatusEntry>,
        limit: usize,
    ) -> Result<Vec<StatusEntry>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to look up the orders {status} since before {before}"), e);
        let before = index_time(before);
        let after = after.map(|entry| (index_time(entry.since), entry.order_id.to_string()));
        let rows = self.db.call(move |conn| in_status_since(conn, status, &before, after, limit)).await.map_err(failed)?;
        rows.into_iter()
            .map(|(since, id)| {
                let since = DateTime::parse_from_rfc3339(&since)
                    .map_err(|e| failed(anyhow::anyhow!("An order row's status_since is not a time: {e}")))?
                    .with_timezone(&Utc);
                let order_id =
                    OrderId::parse(&id).map_err(|e| failed(anyhow::anyhow!("An order row names an invalid order id: {e}")))?;
                Ok(StatusEntry { since, order_id })
            })
            .collect()
    }
}

/// An order as its row holds it: the indexed columns and the JSON body at `version`.
pub(crate) struct EncodedOrder {
    order_id: String,
    channel: &'static str,
    merchant_id: String,
    external_id: String,
    order_number: String,
    customer_id: String,
    phone: Option<String>,
    /// The shipping address's fingerprint and the card's, the fraud rules' lookups.
    address_key: String,
    card_key: Option<String>,
    status: &'static str,
    /// When the order came to its status; `None` for a final status (not indexed).
    status_since: Option<String>,
    body: String,
    /// The rows of `backorders` this version of the order has: (SKU, since).
    backorders: Vec<(String, String)>,
    /// The `timeline` rows this version has moved out of the body: (seq, entry JSON).
    moved: Vec<(i64, String)>,
}

impl EncodedOrder {
    pub(crate) fn new(order: &Order, version: u64) -> anyhow::Result<Self> {
        let body = order_body(order, version)?;
        Ok(Self {
            order_id: order.order_id.to_string(),
            channel: order.channel.as_str(),
            merchant_id: order.merchant_id.to_string(),
            external_id: order.external_id.to_string(),
            order_number: order.order_number.to_string(),
            customer_id: order.customer.id.to_string(),
            phone: order.customer.phone.clone(),
            address_key: order.shipping_address.fingerprint(),
            card_key: order.customer.card.clone(),
            status: order.status.as_str(),
            status_since: order.waits_in_status_index().then(|| index_time(order.status_since())),
            body,
            backorders: backorder_rows(order),
            moved: oms_records::newly_moved(order, 0)
                .into_iter()
                .map(|(seq, event)| Ok((i64::try_from(seq)?, event_body(&event)?)))
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

/// Orders per status, in the order of the status machine, leaving out statuses with none.
pub(crate) fn counts_by_status(conn: &mut Connection) -> anyhow::Result<Vec<(OrderStatus, usize)>> {
    let mut stmt =
        conn.prepare_cached("SELECT status, COUNT(*) FROM orders GROUP BY status").context("Failed to prepare the count")?;
    let rows = stmt
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .context("Failed to count orders by status")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the order counts")?;
    let mut counts = Vec::new();
    for status in OrderStatus::ALL {
        if let Some((_, n)) = rows.iter().find(|(name, _)| name == status.as_str()) {
            counts.push((status, usize::try_from(*n).context("A negative count")?));
        }
    }
    if let Some((name, _)) = rows.iter().find(|(name, _)| !OrderStatus::ALL.iter().any(|s| s.as_str() == name)) {
        anyhow::bail!("An order has the unknown status {name:?}");
    }
    Ok(counts)
}

/// Inserts the row unless its (channel, merchant, external id) is taken; then answers the
/// row that holds it.
pub(crate) fn insert(conn: &Connection, row: &EncodedOrder, send: &[Outgoing]) -> anyhow::Result<Option<OrderRow>> {
    let inserted = conn
        .execute_cached(
            "INSERT INTO orders
                 (order_id, channel, merchant_id, external_id, customer_id, phone, status, version, body, order_number,
                  status_since, address_key, card_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (channel, merchant_id, external_id) DO NOTHING",
            params![
                row.order_id,
                row.channel,
                row.merchant_id,
                row.external_id,
                row.customer_id,
                row.phone,
                row.status,
                row.body,
                row.order_number,
                row.status_since,
                row.address_key,
                row.card_key
            ],
        )
        .context("Failed to write the order row")?;
    let existing = if inserted == 1 {
        write_backorders(conn, row)?;
        write_moved(conn, row)?;
        enqueue(conn, send)?;
        None
    } else {
        let existing = conn
            .query_row_cached(
                "SELECT order_id, version, body FROM orders WHERE channel = ?1 AND merchant_id = ?2 AND external_id = ?3",
                params![row.channel, row.merchant_id, row.external_id],
                read_order_row,
            )
            .context("Failed to read the order already stored for this channel order")?;
        Some(with_moved(conn, existing)?)
    };
    Ok(existing)
}

/// Writes the row at `read_version + 1` if it is still at `read_version` and the hold to
/// release is still the order's, with its effects; true if it was. The hold is checked
/// before anything is written, and the savepoint's one writer cannot be raced in between.
fn update(
    conn: &mut Connection,
    row: &EncodedOrder,
    read_version: i64,
    effects: &Effects,
    note: &oms_domain::ledger::ReleaseNote,
) -> anyhow::Result<bool> {
    let order_id = OrderId::parse(&row.order_id).map_err(|e| anyhow::anyhow!("{e}"))?;
    let condition_met = match &effects.hold {
        HoldEffect::Untouched => true,
        HoldEffect::Release(hold_id) => crate::inventory::holds(conn, &order_id, hold_id)?,
        HoldEffect::NoneHeld | HoldEffect::ReturnClaim(_) => !crate::inventory::holds_any(conn, &order_id)?,
        HoldEffect::Ship(ship) => crate::shipments::may_ship(conn, &order_id, ship)?,
    };
    if !condition_met {
        return Ok(false);
    }
    let changed = conn
        .execute_cached(
            "UPDATE orders
             SET channel = ?1, external_id = ?2, customer_id = ?3, phone = ?4, status = ?5, version = ?6 + 1, body = ?7,
                 merchant_id = ?9, order_number = ?10, status_since = ?11, address_key = ?12, card_key = ?13
             WHERE order_id = ?8 AND version = ?6",
            params![
                row.channel,
                row.external_id,
                row.customer_id,
                row.phone,
                row.status,
                read_version,
                row.body,
                row.order_id,
                row.merchant_id,
                row.order_number,
                row.status_since,
                row.address_key,
                row.card_key
            ],
        )
        .context("Failed to write the order row")?;
    if changed != 1 {
        return Ok(false);
    }
    write_backorders(conn, row)?;
    write_moved(conn, row)?;
    enqueue(conn, &effects.send)?;
    if let Some(sale) = &effects.sale {
        crate::sales::write_sale(conn, sale)?;
    }
    if let HoldEffect::Release(hold_id) = &effects.hold {
        match crate::inventory::release(conn, &order_id, hold_id, note)? {
            ReleaseOutcome::Released(_) => {}
            other => bail!("The hold {hold_id} checked in this savepoint could not be released: {other:?}"),
        }
    }
    if let HoldEffect::Ship(ship) = &effects.hold {
        crate::shipments::ship(conn, &order_id, ship)?;
    }
    if let HoldEffect::ReturnClaim(claim) = &effects.hold {
        crate::flash_sales::return_claim(conn, claim)?;
    }
    Ok(true)
}

/// A service order's write (`ServiceOrderWrite`) encoded before the savepoint.
pub(crate) enum ServiceRow {
    Insert(Box<EncodedOrder>),
    Update(Box<Order>),
}

impl ServiceRow {
    /// The rows of `writes` (nothing for `Untouched`).
    pub(crate) fn encode(writes: &[ServiceOrderWrite]) -> anyhow::Result<Vec<Self>> {
        writes
            .iter()
            .filter_map(|write| match write {
                ServiceOrderWrite::Untouched => None,
                ServiceOrderWrite::Insert(order) => Some(EncodedOrder::new(order, 1).map(|row| Self::Insert(Box::new(row)))),
                ServiceOrderWrite::Update(order) => Some(Ok(Self::Update(order.clone()))),
            })
            .collect()
    }
}

/// Writes a record's service orders (`oms_domain::service_order`) in the caller's
/// savepoint: an insert where its (channel, merchant, external id) is free, an update where
/// the order is still at the version it was read at (written at the next). False, with
/// nothing written, when the first fails; a later one failing after an earlier one wrote
/// is an error, so the savepoint rolls them all back.
pub(crate) fn write_service_orders(conn: &mut Connection, rows: &[ServiceRow]) -> anyhow::Result<bool> {
    for (i, row) in rows.iter().enumerate() {
        let written = match row {
            ServiceRow::Insert(encoded) => insert(conn, encoded, &[])?.is_none(),
            ServiceRow::Update(order) => {
                let next = order.version.checked_add(1).context("The order's version is out of range")?;
                let read_version = i64::try_from(order.version).context("The order's version is out of range")?;
                let encoded = EncodedOrder::new(order, next)?;
                let note = oms_domain::ledger::ReleaseNote::of_order(order);
                update(conn, &encoded, read_version, &Effects::default(), &note)?
            }
        };
        if !written && i == 0 {
            return Ok(false);
        }
        if !written {
            bail!("A service order changed after another of the same write was written");
        }
    }
    Ok(true)
}

/// Up to `limit` (status_since, id) of the orders in `status` since before `before`,
/// oldest first, after the entry `after`.
fn in_status_since(
    conn: &mut Connection,
    status: OrderStatus,
    before: &str,
    after: Option<(String, String)>,
    limit: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let (after_since, after_id) = after.unwrap_or_default();
    let mut stmt = conn
        .prepare_cached(
            "SELECT status_since, order_id FROM orders
             WHERE status = ?1 AND status_since IS NOT NULL AND status_since < ?2 AND (status_since, order_id) > (?3, ?4)
             ORDER BY status_since, order_id LIMIT ?5",
        )
        .context("Failed to prepare the lookup by status")?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![status.as_str(), before, after_since, after_id, limit], |row| Ok((row.get(0)?, row.get(1)?)))
        .context("Failed to look up the orders by status")?
        .collect::<Result<Vec<(String, String)>, _>>()
        .context("Failed to read the orders found by status")?;
    Ok(rows)
}

/// The `backorders` rows of `order`: one per SKU of its lines while it is backordered.
fn backorder_rows(order: &Order) -> Vec<(String, String)> {
    match order.backorder_entries() {
        Some((since, skus)) => {
            let since = index_time(since);
            skus.into_iter().map(|sku| (sku.to_string(), since.clone())).collect()
        }
        None => Vec::new(),
    }
}

/// Replaces the order's rows of `backorders` with those of this version, in the same
/// savepoint as the order row, so the index and the order never disagree.
fn write_backorders(conn: &Connection, row: &EncodedOrder) -> anyhow::Result<()> {
    conn.execute_cached("DELETE FROM backorders WHERE order_id = ?1", [row.order_id.as_str()])
        .context("Failed to clear the order's backorder rows")?;
    for (sku, since) in &row.backorders {
        conn.execute_cached(
            "INSERT INTO backorders (sku, order_id, since) VALUES (?1, ?2, ?3)",
            params![sku, row.order_id, since],
        )
        .context("Failed to write a backorder row")?;
    }
    Ok(())
}

/// Adds the `timeline` rows this version moves out of the body and the stored ones lack
/// (the timeline only grows, so they are the ones from the stored count on), in the same
/// savepoint as the order row.
fn write_moved(conn: &Connection, row: &EncodedOrder) -> anyhow::Result<()> {
    if row.moved.is_empty() {
        return Ok(());
    }
    let stored: i64 = conn
        .query_row_cached("SELECT COUNT(*) FROM timeline WHERE order_id = ?1", [row.order_id.as_str()], |r| r.get(0))
        .context("Failed to count the order's timeline rows")?;
    for (seq, body) in row.moved.iter().filter(|(seq, _)| *seq >= stored) {
        conn.execute_cached("INSERT INTO timeline (order_id, seq, body) VALUES (?1, ?2, ?3)", params![row.order_id, seq, body])
            .context("Failed to write a timeline row")?;
    }
    Ok(())
}

/// The row with the bodies of its order's `timeline` rows, by `seq`.
fn with_moved(conn: &Connection, (order_id, version, body, _): OrderRow) -> anyhow::Result<OrderRow> {
    let mut stmt = conn
        .prepare_cached("SELECT body FROM timeline WHERE order_id = ?1 ORDER BY seq")
        .context("Failed to prepare the timeline read")?;
    let moved = stmt
        .query_map([order_id.as_str()], |r| r.get(0))
        .context("Failed to read the order's timeline rows")?
        .collect::<Result<Vec<String>, _>>()
        .context("Failed to read a timeline row")?;
    Ok((order_id, version, body, moved))
}

/// Writes the `backorders` rows of a stored order (the migration to schema 5).
pub(crate) fn index_backorders(conn: &Connection, order: &Order) -> anyhow::Result<()> {
    let row = EncodedOrder::new(order, order.version)?;
    write_backorders(conn, &row)
}

/// The stored order `order_id` whole, its moved timeline rows included (for migrations).
pub(crate) fn stored_order(conn: &Connection, order_id: &str) -> anyhow::Result<Order> {
    let row = conn
        .query_row("SELECT order_id, version, body FROM orders WHERE order_id = ?1", [order_id], read_order_row)
        .with_context(|| format!("Failed to read order {order_id}"))?;
    decode(with_moved(conn, row)?)
}

/// Writes the `status_since` column of a stored order (the migration to schema 9).
pub(crate) fn index_status(conn: &Connection, order: &Order) -> anyhow::Result<()> {
    let row = EncodedOrder::new(order, order.version)?;
    conn.execute_cached("UPDATE orders SET status_since = ?2 WHERE order_id = ?1", params![row.order_id, row.status_since])
        .context("Failed to index the order by status")?;
    Ok(())
}

/// Up to `limit` ids of the orders backordered on `sku`, oldest backorder first.
fn waiting_for(conn: &mut Connection, sku: &str, limit: usize) -> anyhow::Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT order_id FROM backorders WHERE sku = ?1 ORDER BY since, order_id LIMIT ?2")
        .context("Failed to prepare the backorder lookup")?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let ids = stmt
        .query_map(params![sku, limit], |row| row.get(0))
        .context("Failed to look up the backorders")?
        .collect::<Result<Vec<String>, _>>()
        .context("Failed to read the backorders found")?;
    Ok(ids)
}

/// One page of `query`: one WHERE over every filter given (the merchant always, so each
/// lookup runs on an index that starts with it), newest first, one row past the page to
/// tell whether another page follows.
fn find(conn: &mut Connection, query: &OrderQuery, limit: usize, after: Option<&str>) -> anyhow::Result<Vec<OrderRow>> {
    let mut filters = vec!["merchant_id = ?"];
    let mut values: Vec<String> = vec![query.merchant.to_string()];
    let mut given = |column: &'static str, value: Option<String>| {
        if let Some(value) = value {
            filters.push(column);
            values.push(value);
        }
    };
    given("customer_id = ?", query.customer.as_ref().map(ToString::to_string));
    given("phone = ?", query.phone.clone());
    given("address_key = ?", query.address.clone());
    given("card_key = ?", query.card.clone());
    given("channel = ?", query.channel.map(|c| c.as_str().to_owned()));
    given("external_id = ?", query.external_id.as_ref().map(ToString::to_string));
    given("order_number = ?", query.order_number.as_ref().map(ToString::to_string));
    given("status = ?", query.status.map(|s| s.as_str().to_owned()));
    given("order_id < ?", after.map(str::to_owned));
    let sql = format!(
        "SELECT order_id, version, body FROM orders WHERE {} ORDER BY order_id DESC LIMIT {}",
        filters.join(" AND "),
        limit + 1
    );
    let mut stmt = conn.prepare_cached(&sql).context("Failed to prepare the lookup")?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(values.iter()), read_order_row)
        .context("Failed to run the lookup")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the orders found")?;
    drop(stmt);
    rows.into_iter().map(|row| with_moved(conn, row)).collect()
}

/// The id, stored version and JSON body of one order row, and the bodies of its
/// `timeline` rows (empty until `with_moved` reads them).
type OrderRow = (String, i64, String, Vec<String>);

fn read_order_row(row: &Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, Vec::new()))
}

/// The order from its JSON and its timeline rows, at the version the row holds (the
/// column is the truth).
fn decode((_, version, body, moved): OrderRow) -> anyhow::Result<Order> {
    order_from_rows(&body, u64::try_from(version).context("The stored version is negative")?, &moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oms_conformance::fixtures;
    use oms_domain::order::Charges;
    use oms_domain::OrderNumber;

    /// The conformance suite's complete order: every part of the body is there.
    fn sample_order() -> Order {
        fixtures::complete_order()
    }

    /// `orders.body` of `sample_order` at version 1, byte for byte as it is stored today
    /// (and must stay readable).
    const SAMPLE_BODY: &str = concat!(
        r#"{"order_id":"ord_01JDXYZ","status":"allocated","channel":"woocommerce","external_id":"WC-1001","#,
        r##""order_number":"#WC-1001","merchant_id":"m-1","placed_at":"2026-11-20T10:00:00Z","##,
        r#""customer":{"id":"c-1","email":"a@example.com","phone":"+8613800000000","name":"Li Lei","card":"fp_4242"},"#,
        r#""shipping_address":{"name":"Li Lei","line1":"1 West Lake Rd","city":"Hangzhou","province":"Zhejiang","#,
        r#""postal_code":"310000","country":"CN"},"#,
        r#""currency":"CNY","#,
        r#""lines":[{"sku":"SKU-1","quantity":2,"unit_price":"19.90"}],"#,
        r#""charges":{"discount":"2.50","shipping":"8","tax":"0","taxes_included":true},"#,
        r#""allocation":{"lines":[{"warehouse":"WH-1","merchant_id":"m-1","sku":"SKU-1","quantity":2}],"#,
        r#""explanation":"WH-1 is nearest","planned_at":"2026-11-20T12:00:00Z"},"#,
        r#""timeline":[{"at":"2026-11-20T12:00:00Z","status":"received","detail":"received from woocommerce"},"#,
        r#"{"at":"2026-11-20T12:00:00Z","status":"allocated","detail":"planned"}],"#,
        r#""channel_updated_at":"2026-11-20T10:00:00Z","version":1}"#,
    );

    /// Every column of one order row.
    type RawRow = (String, String, String, String, String, Option<String>, String, i64, String);

    fn raw_row(store: &Embedded, id: &str) -> RawRow {
        let id = id.to_owned();
        store
            .db
            .call_now(move |conn| {
                Ok(conn.query_row(
                    "SELECT order_id, channel, merchant_id, external_id, customer_id, phone, status, version, body
                     FROM orders WHERE order_id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
                )?)
            })
            .unwrap()
    }

    /// Writes a row as today's layout has it, behind the adapter's back.
    fn write_raw_row(store: &Embedded, body: &str) {
        let body = body.to_owned();
        store
            .db
            .call_now(move |conn| {
                conn.execute(
                    "INSERT INTO orders
                         (order_id, channel, merchant_id, external_id, order_number, customer_id, phone, status, version, body)
                     VALUES ('ord_01JDXYZ', 'woocommerce', 'm-1', 'WC-1001', '#WC-1001', 'c-1', '+8613800000000',
                             'allocated', 1, ?1)",
                    [body],
                )?;
                Ok(())
            })
            .unwrap();
    }

    #[tokio::test]
    async fn a_stored_order_row_has_exactly_todays_columns_and_body() {
        let store = Embedded::open_in_memory().unwrap();
        assert_eq!(store.insert_order(&sample_order()).await.unwrap(), InsertOutcome::Inserted);
        let (order_id, channel, merchant_id, external_id, customer_id, phone, status, version, body) =
            raw_row(&store, "ord_01JDXYZ");
        assert_eq!(
            (order_id.as_str(), channel.as_str(), merchant_id.as_str(), external_id.as_str(), customer_id.as_str()),
            ("ord_01JDXYZ", "woocommerce", "m-1", "WC-1001", "c-1")
        );
        assert_eq!((phone.as_deref(), status.as_str(), version), (Some("+8613800000000"), "allocated", 1));
        assert_eq!(body, SAMPLE_BODY);
        let keys: (String, Option<String>) = store
            .db
            .call_now(|conn| {
                Ok(conn.query_row("SELECT address_key, card_key FROM orders WHERE order_id = 'ord_01JDXYZ'", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?)
            })
            .unwrap();
        assert_eq!(
            keys,
            ("6c1e48ec2e956895f7297ff7411c4d1767895987814acd15fd2fd3acfbfd0cfd".to_owned(), Some("fp_4242".to_owned()))
        );
    }

    #[tokio::test]
    async fn an_order_row_in_todays_layout_reads_back_as_the_order() {
        let store = Embedded::open_in_memory().unwrap();
        write_raw_row(&store, SAMPLE_BODY);
        let expected = Order { version: 1, ..sample_order() };
        let id = OrderId::parse("ord_01JDXYZ").unwrap();
        assert_eq!(store.get_order(&id).await.unwrap(), Some(expected.clone()));
        let by_phone = OrderQuery::of(expected.merchant_id.clone()).phone("+8613800000000");
        let found = store.find_orders(&by_phone, &Page::first(10)).await.unwrap();
        assert_eq!(found.orders, vec![expected.clone()]);
        let by_number = OrderQuery::of(expected.merchant_id.clone()).order_number(OrderNumber::parse("#WC-1001").unwrap());
        assert_eq!(store.find_orders(&by_number, &Page::first(10)).await.unwrap().orders.len(), 1);
    }

    #[tokio::test]
    async fn an_order_row_without_charges_reads_with_zero_charges() {
        let store = Embedded::open_in_memory().unwrap();
        let charges = r#""charges":{"discount":"2.50","shipping":"8","tax":"0","taxes_included":true},"#;
        write_raw_row(&store, &SAMPLE_BODY.replace(charges, ""));
        let order = store.get_order(&OrderId::parse("ord_01JDXYZ").unwrap()).await.unwrap().unwrap();
        assert_eq!(order.charges, Charges::default());
    }

    #[tokio::test]
    async fn a_schema_4_file_gains_the_backorders_of_the_orders_backordered_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut waiting = sample_order();
        waiting.transition(OrderStatus::Backordered, fixtures::noon(), "short").unwrap();
        let mut other = fixtures::order(oms_domain::order::Channel::Generic, "G-1");
        other.transition(OrderStatus::Allocated, fixtures::noon(), "planned").unwrap();
        {
            let store = Embedded::open(dir.path()).unwrap();
            assert_eq!(store.insert_order(&waiting).await.unwrap(), InsertOutcome::Inserted);
            assert_eq!(store.insert_order(&other).await.unwrap(), InsertOutcome::Inserted);
            // Back to schema 4: no backorders table, no timeline table, no index by status.
            let back_to_4 = "DROP TABLE backorders; DROP TABLE timeline;
                DROP INDEX orders_by_status; ALTER TABLE orders DROP COLUMN status_since; PRAGMA user_version = 4;";
            store.db.call_now(|c| Ok(c.execute_batch(back_to_4)?)).unwrap();
        }
        let store = Embedded::open(dir.path()).unwrap();
        let sku = fixtures::sku("SKU-1");
        assert_eq!(store.backorders_waiting_for(&sku, 10).await.unwrap(), vec![waiting.order_id.clone()]);
        // And of the index by status (schema 9), from each body's timeline.
        let later = fixtures::noon() + chrono::Duration::seconds(1);
        let ids = |entries: Vec<StatusEntry>| entries.into_iter().map(|e| e.order_id).collect::<Vec<_>>();
        let backordered = store.orders_in_status_since(OrderStatus::Backordered, later, None, 10).await.unwrap();
        assert_eq!(ids(backordered), vec![waiting.order_id]);
        let allocated = store.orders_in_status_since(OrderStatus::Allocated, later, None, 10).await.unwrap();
        assert_eq!(ids(allocated), vec![other.order_id]);
    }

    #[tokio::test]
    async fn a_corrupt_order_row_is_an_error_naming_the_field() {
        let store = Embedded::open_in_memory().unwrap();
        let corrupt = SAMPLE_BODY.replace(r#""status":"allocated","detail""#, r#""status":"misplaced","detail""#);
        write_raw_row(&store, &corrupt);
        let err = store.get_order(&OrderId::parse("ord_01JDXYZ").unwrap()).await.unwrap_err();
        let err = format!("{:#}", anyhow::Error::from(err));
        assert!(err.contains("timeline.status is invalid: unknown status \"misplaced\""), "{err}");
    }

    /// DynamoDB's item limit, which the record both stores share must stay under.
    const DYNAMODB_ITEM_LIMIT: usize = 400 * 1024;

    #[tokio::test]
    async fn the_largest_channel_order_with_a_thousand_events_keeps_a_body_under_dynamodbs_item_limit() {
        let store = Embedded::open_in_memory().unwrap();
        let received = oms_conformance::largest_channel_order();
        assert_eq!(store.insert_order(&received).await.unwrap(), InsertOutcome::Inserted);
        let mut order = fixtures::stored(&received);
        let lines: Vec<_> = order.lines.iter().map(|l| fixtures::line("WH-1", l.sku.as_str(), l.quantity)).collect();
        order.transition(OrderStatus::Allocated, fixtures::noon(), "planned").unwrap();
        order.allocation = Some(oms_domain::order::Allocation {
            lines,
            explanation: "WH-1".into(),
            costing: None,
            planned_at: fixtures::noon(),
            merge: None,
            shipments: Vec::new(),
            claimed_from: None,
        });
        for i in 0..1000 {
            order.note(fixtures::noon(), format!("updated by request: customer, shipping_address (change {i})"));
        }
        assert_eq!(store.update_order(&order).await.unwrap(), UpdateOutcome::Updated { version: 2 });
        let id = order.order_id.to_string();
        let (body, rows): (String, i64) = store
            .db
            .call_now(move |c| {
                let body = c.query_row("SELECT body FROM orders WHERE order_id = ?1", [&id], |r| r.get(0))?;
                let rows = c.query_row("SELECT COUNT(*) FROM timeline WHERE order_id = ?1", [&id], |r| r.get(0))?;
                Ok((body, rows))
            })
            .unwrap();
        assert!(body.len() < DYNAMODB_ITEM_LIMIT, "the body is {} bytes", body.len());
        assert_eq!(usize::try_from(rows).unwrap(), order.timeline.len() - oms_records::TIMELINE_KEPT);
        let record: oms_records::OrderRecord = serde_json::from_str(&body).unwrap();
        assert_eq!(record.timeline.len(), oms_records::TIMELINE_KEPT);
        assert_eq!(store.get_order(&order.order_id).await.unwrap().unwrap(), Order { version: 2, ..order });
    }
}
