//! `InventoryStore` on DynamoDB: stock items per (SKU, warehouse) carrying `on_hand`,
//! `reserved` and `available` (kept as its own attribute because a condition expression
//! cannot do arithmetic), and one reservation item per order.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use oms_domain::order::AllocatedLine;
use oms_domain::ports::{InventoryStore, ReleaseOutcome, ReserveOutcome, SetOnHandOutcome, StoreError};
use oms_domain::reservation::Reservation;
use oms_domain::stock::StockLevel;
use oms_domain::{OrderId, Sku, WarehouseId};

use super::items::{ReservationItem, StockItem};
use super::{from_item, n, read_item, s, to_item, unexplained, DynamoStore, Item, Key, Transact, MAX_TRANSACT_ITEMS};
use crate::budget::{backoff, RACE_ATTEMPTS};
use crate::error::{build_error, sdk_error};

/// A fresh hold id: the time in nanoseconds and a process-wide counter.
fn new_hold_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{nanos:x}-{:x}-{:x}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A stock update for one line of a transaction.
fn stock_update(
    table: &str,
    line: &AllocatedLine,
    update: &str,
    condition: &str,
    order_id: &OrderId,
) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(Key::stock(&line.warehouse, &line.sku).into_map()))
        .update_expression(update)
        .condition_expression(condition)
        .expression_attribute_names("#available", "available")
        .expression_attribute_names("#reserved", "reserved")
        .expression_attribute_values(":q", n(line.quantity))
        .build()
        .map_err(|e| build_error(format!("Failed to build the stock update of order {order_id}"), e))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

impl DynamoStore {
    /// The stock item of (warehouse, SKU), strongly consistent.
    async fn stock_level(&self, warehouse: &WarehouseId, sku: &Sku) -> Result<Option<StockLevel>, StoreError> {
        let what = format!("the stock of {sku} in {warehouse}");
        match self.get(Key::stock(warehouse, sku), &what).await? {
            Some(item) => Ok(Some(read_item::<StockItem, _>(item, &what)?)),
            None => Ok(None),
        }
    }

    async fn reservation_item(&self, order_id: &OrderId) -> Result<Option<ReservationItem>, StoreError> {
        let what = format!("the reservation of order {order_id}");
        match self.get(Key::reservation(order_id), &what).await? {
            Some(item) => Ok(Some(from_item(item, &what)?)),
            None => Ok(None),
        }
    }

    /// The `reserved` count of a stock item as a failed condition returned it, or read afresh.
    async fn reserved_now(&self, old: Option<&Item>, warehouse: &WarehouseId, sku: &Sku) -> Result<u32, StoreError> {
        if let Some(item) = old {
            if let Ok(stock) = from_item::<StockItem>(item.clone(), "the stock item") {
                return Ok(stock.reserved);
            }
        }
        Ok(self.stock_level(warehouse, sku).await?.map_or(0, |level| level.reserved))
    }
}

#[async_trait]
impl InventoryStore for DynamoStore {
    /// An `UpdateItem` of `STOCK#<sku>` / `WAREHOUSE#<wh>`:
    /// `SET on_hand = :n, reserved = if_not_exists(reserved, 0), available = :n - if_not_exists(reserved, 0)`,
    /// conditional on `attribute_not_exists(pk) OR reserved <= :n`; a failed condition
    /// answers `BelowReserved` with the units reserved.
    async fn set_on_hand(&self, warehouse: &WarehouseId, sku: &Sku, on_hand: u32) -> Result<SetOnHandOutcome, StoreError> {
        let what = format!("the stock of {sku} in {warehouse}");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Key::stock(warehouse, sku).into_map()))
                .update_expression(
                    "SET #warehouse = :warehouse, #sku = :sku, #on_hand = :n, \
                     #reserved = if_not_exists(#reserved, :zero), #available = :n - if_not_exists(#reserved, :zero)",
                )
                .condition_expression("attribute_not_exists(pk) OR #reserved <= :n")
                .set_expression_attribute_names(Some(HashMap::from([
                    ("#warehouse".to_owned(), "warehouse".to_owned()),
                    ("#sku".to_owned(), "sku".to_owned()),
                    ("#on_hand".to_owned(), "on_hand".to_owned()),
                    ("#reserved".to_owned(), "reserved".to_owned()),
                    ("#available".to_owned(), "available".to_owned()),
                ])))
                .set_expression_attribute_values(Some(HashMap::from([
                    (":warehouse".to_owned(), s(warehouse.as_str())),
                    (":sku".to_owned(), s(sku.as_str())),
                    (":n".to_owned(), n(on_hand)),
                    (":zero".to_owned(), n(0)),
                ])))
                .return_values(ReturnValue::AllNew)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            let err = match result {
                Ok(output) => {
                    let item = output
                        .attributes
                        .ok_or_else(|| StoreError::msg(format!("Failed to set {what}: DynamoDB returned no attributes")))?;
                    return Ok(SetOnHandOutcome::Set(read_item::<StockItem, _>(item, &what)?));
                }
                Err(err) => err,
            };
            let Some(UpdateItemError::ConditionalCheckFailedException(failed)) = err.as_service_error() else {
                return Err(sdk_error(format!("Failed to set {what}"), err));
            };
            let reserved = self.reserved_now(failed.item(), warehouse, sku).await?;
            if reserved > on_hand || attempt >= RACE_ATTEMPTS {
                return Ok(SetOnHandOutcome::BelowReserved { reserved });
            }
            // Released between the write and the read: try again.
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// A strongly consistent `Query` of the partition `STOCK#<sku>`, by warehouse id.
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        let items = self.query_partition(Key::stock_partition(sku), &format!("the stock of {sku}")).await?;
        items.into_iter().map(|item| read_item::<StockItem, _>(item, &format!("the stock of {sku}"))).collect()
    }

    /// One `TransactWriteItems`: a `Put` of `RESERVATION#<order>` conditional on
    /// `attribute_not_exists(pk)` (else `AlreadyReserved`), and per line an `Update` of
    /// its stock `SET available = available - :q, reserved = reserved + :q` conditional
    /// on `attribute_exists(pk) AND available >= :q` (else `Insufficient` for the first
    /// failing line, with its available units read afresh; a missing stock item has 0).
    /// More than 99 lines (DynamoDB's transaction limit) are an error and change nothing.
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        let lines = reservation.lines();
        if lines.len() + 1 > MAX_TRANSACT_ITEMS {
            return Err(StoreError::msg(format!(
                "Failed to reserve order {order_id}: {} lines exceed the {} a DynamoDB transaction takes",
                lines.len(),
                MAX_TRANSACT_ITEMS - 1
            )));
        }
        let reservation = ReservationItem::new(order_id, new_hold_id(), lines);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&reservation, &format!("the reservation of {order_id}"))?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_error(format!("Failed to build the reservation of order {order_id}"), e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        for line in lines {
            items.push(stock_update(
                &self.table,
                line,
                "SET #available = #available - :q, #reserved = #reserved + :q",
                "attribute_exists(pk) AND #available >= :q",
                order_id,
            )?);
        }

        let what = format!("reserve stock for order {order_id}");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let reasons = match self.transact(items.clone(), &what).await? {
                Transact::Written => return Ok(ReserveOutcome::Reserved),
                Transact::Cancelled(reasons) => reasons,
            };
            if reasons.first().is_some_and(|r| r.condition_failed()) {
                return Ok(ReserveOutcome::AlreadyReserved);
            }
            let failed = reasons.iter().skip(1).position(|r| r.condition_failed()).and_then(|i| lines.get(i));
            let Some(line) = failed else {
                return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
            };
            let available = self.stock_level(&line.warehouse, &line.sku).await?.map_or(0, |level| level.available);
            if available < line.quantity || attempt >= RACE_ATTEMPTS {
                return Ok(ReserveOutcome::Insufficient { warehouse: line.warehouse.clone(), sku: line.sku.clone(), available });
            }
            // Units came back between the write and the read: try again.
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// Reads `RESERVATION#<order>` (none: `NothingHeld`), then one `TransactWriteItems`:
    /// a `Delete` of it conditional on `hold_id = :hold` (the reservation read, still
    /// there), and per line an `Update` of its stock `SET available = available + :q,
    /// reserved = reserved - :q` conditional on `reserved >= :q`. When the reservation
    /// changed in between it is read again.
    async fn release(&self, order_id: &OrderId) -> Result<ReleaseOutcome, StoreError> {
        let what = format!("release the stock of order {order_id}");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(reservation) = self.reservation_item(order_id).await? else {
                return Ok(ReleaseOutcome::NothingHeld);
            };
            let lines = reservation
                .allocated_lines()
                .map_err(|e| StoreError::new(format!("Failed to read the reservation of order {order_id}"), e))?;
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Key::reservation(order_id).into_map()))
                .condition_expression("#hold_id = :hold")
                .expression_attribute_names("#hold_id", "hold_id")
                .expression_attribute_values(":hold", s(&reservation.hold_id))
                .build()
                .map_err(|e| build_error(format!("Failed to build the release of order {order_id}"), e))?;
            let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
            for line in &lines {
                items.push(stock_update(
                    &self.table,
                    line,
                    "SET #available = #available + :q, #reserved = #reserved - :q",
                    "#reserved >= :q",
                    order_id,
                )?);
            }
            let reasons = match self.transact(items, &what).await? {
                Transact::Written => return Ok(ReleaseOutcome::Released(Reservation::new(lines))),
                Transact::Cancelled(reasons) => reasons,
            };
            let hold_changed = reasons.first().is_some_and(|r| r.condition_failed());
            if !hold_changed {
                // A stock item holds fewer reserved units than the reservation: the data is corrupt.
                return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
            }
            if attempt >= RACE_ATTEMPTS {
                return Err(StoreError::msg(format!("Failed to {what}: its reservation kept changing")));
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// A strongly consistent `GetItem` of `RESERVATION#<order>`.
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Reservation>, StoreError> {
        let Some(item) = self.reservation_item(order_id).await? else {
            return Ok(None);
        };
        let lines = item
            .allocated_lines()
            .map_err(|e| StoreError::new(format!("Failed to read the reservation of order {order_id}"), e))?;
        Ok(Some(Reservation::new(lines)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_ids_are_unique() {
        assert_ne!(new_hold_id(), new_hold_id());
    }
}
