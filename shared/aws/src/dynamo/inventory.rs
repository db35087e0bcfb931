//! `InventoryStore` on DynamoDB: stock items per (SKU, warehouse, owner) carrying `on_hand`,
//! `reserved` and `available` (kept as its own attribute because a condition expression
//! cannot do arithmetic), and per order one hold: a reservation item, plus one part item per
//! further `MAX_LINES_PER_WRITE` lines when the hold is larger than one transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};
use oms_domain::ledger::{AdjustOutcome, Adjustment, LedgerKind, LedgerLine, LedgerPage, OpenHold, ReleaseNote, StockFigures};
use oms_domain::order::AllocatedLine;
use oms_domain::ports::{InventoryStore, ReleaseOutcome, ReserveOutcome, SetOnHandOutcome, StoreError, WarehouseStore};
use oms_domain::reservation::Reservation;
use oms_domain::reservation::{Hold, HoldId, MAX_LINES_PER_WRITE};
use oms_domain::stock::StockLevel;
use oms_domain::{MerchantId, OrderId, Sku, WarehouseId};

use super::items::{unowned_warehouses, LegacyOwners, ReservationItem, ReservationPartItem, StockItem, StoredLine};
use super::{from_item, n, read_item, s, to_item, unexplained, CancelReason, DynamoStore, Key, Transact, MAX_TRANSACT_ITEMS};
use crate::budget::{backoff, RACE_ATTEMPTS};
use crate::error::build_error;

/// A stock update for one line of a transaction.
fn stock_update(
    table: &str,
    line: &AllocatedLine,
    update: &str,
    condition: &str,
    whose: &dyn std::fmt::Display,
) -> Result<TransactWriteItem, StoreError> {
    // DynamoDB refuses a name or value the expressions do not use: only those used go.
    let used = |token: &str| update.contains(token) || condition.contains(token);
    let mut builder = Update::builder()
        .table_name(table)
        .set_key(Some(Key::stock(&line.warehouse, &line.owner, &line.sku).into_map()))
        .update_expression(update)
        .condition_expression(condition)
        .expression_attribute_values(":q", n(line.quantity));
    for name in ["available", "reserved", "set_aside", "on_hand"] {
        if used(&format!("#{name}")) {
            builder = builder.expression_attribute_names(format!("#{name}"), name);
        }
    }
    if used(":zero") {
        builder = builder.expression_attribute_values(":zero", n(0));
    }
    let update = builder.build().map_err(|e| build_error(format!("Failed to build the stock update of {whose}"), e))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The stock update of a flash sale's set-aside: a line's units from available into reserved
/// and counted in `set_aside`, conditional on that many being available.
pub(super) fn set_aside_available(
    table: &str,
    line: &AllocatedLine,
    whose: &dyn std::fmt::Display,
) -> Result<TransactWriteItem, StoreError> {
    stock_update(
        table,
        line,
        "SET #available = #available - :q, #reserved = #reserved + :q, #set_aside = if_not_exists(#set_aside, :zero) + :q",
        "attribute_exists(pk) AND #available >= :q",
        whose,
    )
}

/// The stock update of a closed flash sale's unclaimed units: a line's units out of
/// `set_aside` and `reserved`, back into available, conditional on that many set aside.
pub(super) fn release_set_aside(
    table: &str,
    line: &AllocatedLine,
    whose: &dyn std::fmt::Display,
) -> Result<TransactWriteItem, StoreError> {
    stock_update(
        table,
        line,
        "SET #available = #available + :q, #reserved = #reserved - :q, #set_aside = #set_aside - :q",
        "attribute_exists(pk) AND #set_aside >= :q AND #reserved >= :q",
        whose,
    )
}

/// The stock update that takes a line's units from available into reserved, conditional on
/// that many being available: what a reservation, and a flash sale's set-aside, do per line.
pub(super) fn take_available(
    table: &str,
    line: &AllocatedLine,
    whose: &dyn std::fmt::Display,
) -> Result<TransactWriteItem, StoreError> {
    stock_update(
        table,
        line,
        "SET #available = #available - :q, #reserved = #reserved + :q",
        "attribute_exists(pk) AND #available >= :q",
        whose,
    )
}

/// The stock update of units used up in the warehouse (a repair's parts): out of on hand
/// and available, conditional on that many being available, so on hand never falls below
/// what is held.
pub(super) fn consume_available(
    table: &str,
    line: &AllocatedLine,
    whose: &dyn std::fmt::Display,
) -> Result<TransactWriteItem, StoreError> {
    stock_update(
        table,
        line,
        "SET #available = #available - :q, #on_hand = #on_hand - :q",
        "attribute_exists(pk) AND #available >= :q",
        whose,
    )
}

impl DynamoStore {
    /// The items of a hold taken from set-aside units (`hold_set_aside`): the reservation
    /// item (`put_new`: the first item, its condition that the order holds nothing yet), per
    /// line the stock's `set_aside - q` on `set_aside >= q` and its two ledger entries.
    pub(super) fn hold_set_aside_items(
        &self,
        order_id: &OrderId,
        reservation: &Reservation,
    ) -> Result<(HoldId, Vec<TransactWriteItem>), StoreError> {
        let what = format!("hold set-aside stock for order {order_id}");
        let hold_id = HoldId::generate();
        let item = to_item(&ReservationItem::new(order_id, &hold_id, reservation.lines(), 1), &what)?;
        let mut items = vec![self.put_new(item, &format!("the reservation of order {order_id}"))?];
        for line in reservation.lines() {
            items.push(stock_update(
                &self.table,
                line,
                "SET #set_aside = #set_aside - :q",
                "#set_aside >= :q",
                &format!("order {order_id}"),
            )?);
            for entry in LedgerLine::from_set_aside(order_id, line) {
                items.push(self.ledger_item(&entry)?);
            }
        }
        Ok((hold_id, items))
    }

    /// The stock item of (warehouse, owner, SKU), strongly consistent.
    pub(super) async fn stock_level(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
    ) -> Result<Option<StockLevel>, StoreError> {
        let what = format!("{owner}'s stock of {sku} in {warehouse}");
        match self.get(Key::stock(warehouse, owner, sku), &what).await? {
            Some(item) => Ok(Some(read_item::<StockItem, _>(item, &what)?)),
            None => Ok(None),
        }
    }

    /// The order's hold as stored: its first part and the later parts written under it,
    /// from one strongly consistent `Query` of the partition `RESERVATION#<order>`.
    async fn stored_hold(&self, order_id: &OrderId) -> Result<Option<StoredHold>, StoreError> {
        let what = format!("the reservation of order {order_id}");
        let items = self.query_partition(Key::reservation_partition(order_id), &what).await?;
        let (mut head, mut parts) = (None, Vec::new());
        for item in items {
            let sk = match item.get("sk") {
                Some(aws_sdk_dynamodb::types::AttributeValue::S(sk)) => sk.clone(),
                _ => return Err(StoreError::msg(format!("Failed to read {what}: an item has no sort key"))),
            };
            if sk == Key::RESERVATION {
                head = Some(from_item::<ReservationItem>(item, &what)?);
            } else {
                parts.push(from_item::<ReservationPartItem>(item, &what)?);
            }
        }
        let Some(head) = head else {
            return Ok(None);
        };
        let corrupt = |e| StoreError::new(format!("Failed to read {what}"), e);
        let hold_id = head.hold().map_err(corrupt)?;
        parts.retain(|part| part.hold_id == head.hold_id);
        let legacy = self.legacy_owners(head.lines.iter().chain(parts.iter().flat_map(|part| &part.lines))).await?;
        let mut lines = head.allocated_lines(&legacy).map_err(corrupt)?;
        for part in &parts {
            lines.extend(part.allocated_lines(&legacy).map_err(corrupt)?);
        }
        Ok(Some(StoredHold { hold_id, lines, parts, legacy }))
    }

    /// The owners of lines stored before lines named them: each warehouse's merchant, whose
    /// stock a warehouse's was then. Reads nothing when every line names its owner.
    pub(super) async fn legacy_owners(&self, lines: impl IntoIterator<Item = &StoredLine>) -> Result<LegacyOwners, StoreError> {
        let mut owners = LegacyOwners::new();
        for warehouse in unowned_warehouses(lines) {
            let Ok(id) = WarehouseId::parse(warehouse) else { continue };
            if let Some(found) = self.get_warehouse(&id).await? {
                owners.insert(warehouse.to_owned(), found.merchant_id);
            }
        }
        Ok(owners)
    }
}

impl DynamoStore {
    /// The order's hold as stored, if it is `hold_id`: what a write that releases it
    /// (`OrderStore::update_order_with`) gives back.
    pub(super) async fn hold_to_release(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<Option<StoredHold>, StoreError> {
        Ok(self.stored_hold(order_id).await?.filter(|stored| &stored.hold_id == hold_id))
    }

    /// Gives back the parts of `stored` after the first, one `TransactWriteItems` each: a
    /// `Delete` of the part item on `attribute_exists(pk)`, `parts_held = parts_held - 1`
    /// on the reservation item, and per line the stock `Update`. A part released meanwhile
    /// by another call is skipped.
    pub(super) async fn release_later_parts(
        &self,
        order_id: &OrderId,
        stored: &StoredHold,
        note: &ReleaseNote,
    ) -> Result<(), StoreError> {
        let what = format!("release the stock of order {order_id}");
        let hold_id = &stored.hold_id;
        for part in &stored.parts {
            let lines = part
                .allocated_lines(&stored.legacy)
                .map_err(|e| StoreError::new(format!("Failed to read the reservation of order {order_id}"), e))?;
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Key::reservation_part(order_id, hold_id, part.part).into_map()))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(|e| build_error(format!("Failed to build the release of order {order_id}"), e))?;
            let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
            items.push(self.count_part(order_id, hold_id, false)?);
            for line in &lines {
                items.push(give_back(&self.table, line, order_id)?);
            }
            for line in &lines {
                items.push(self.ledger_item(&LedgerLine::release(order_id, line, note))?);
            }
            if let Transact::Cancelled(reasons) = self.transact(items, &what).await? {
                // Released meanwhile by another call (the part or the whole hold): fine.
                if !reasons.iter().take(2).any(CancelReason::condition_failed) {
                    return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
                }
            }
        }
        Ok(())
    }

    /// The items that give back the first part of `stored` once its later parts are given
    /// back: the reservation item's `Delete` on `hold_id = :hold AND parts_held = 0` (the
    /// first item: its condition failing means the hold changed), then its lines' stock
    /// updates (`reserved >= :q`; failing means corrupt data).
    pub(super) fn release_first_part(
        &self,
        order_id: &OrderId,
        stored: &StoredHold,
        note: &ReleaseNote,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let first = stored.lines.len() - stored.parts.iter().map(|p| p.lines.len()).sum::<usize>();
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Key::reservation(order_id).into_map()))
            .condition_expression("#hold_id = :hold AND (attribute_not_exists(#parts_held) OR #parts_held = :zero)")
            .expression_attribute_names("#hold_id", "hold_id")
            .expression_attribute_names("#parts_held", "parts_held")
            .expression_attribute_values(":hold", s(stored.hold_id.as_str()))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(|e| build_error(format!("Failed to build the release of order {order_id}"), e))?;
        let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
        for line in &stored.lines[..first] {
            items.push(give_back(&self.table, line, order_id)?);
        }
        for line in &stored.lines[..first] {
            items.push(self.ledger_item(&LedgerLine::release(order_id, line, note))?);
        }
        Ok(items)
    }
}

/// The stock update that gives one line's units back.
fn give_back(table: &str, line: &AllocatedLine, order_id: &OrderId) -> Result<TransactWriteItem, StoreError> {
    stock_update(table, line, "SET #available = #available + :q, #reserved = #reserved - :q", "#reserved >= :q", order_id)
}

/// An order's hold as the table holds it now.
pub(super) struct StoredHold {
    hold_id: HoldId,
    /// Every line of every part read.
    pub(super) lines: Vec<AllocatedLine>,
    /// The parts after the first.
    pub(super) parts: Vec<ReservationPartItem>,
    /// The owners of lines stored without one (see `legacy_owners`).
    legacy: LegacyOwners,
}

/// What writing one part of a hold did.
enum PartOutcome {
    Written,
    /// The first part: the order has a hold already.
    AlreadyReserved,
    /// A later part: the hold is no longer the order's (it was released meanwhile).
    HoldGone,
    Insufficient {
        warehouse: WarehouseId,
        owner: MerchantId,
        sku: Sku,
        available: u32,
    },
}

impl DynamoStore {
    /// One transaction for one part of hold `hold_id`, tried again (at most `RACE_ATTEMPTS`
    /// times) when a line's failed condition is contradicted by a fresh read.
    ///
    /// Part 0 is the reservation item, `Put` on `attribute_not_exists(pk)`. A later part is
    /// its part item, `Put` on `attribute_not_exists(pk)` (its key names the hold, so it
    /// only exists if this very write landed before, its answer lost), together with an
    /// `Update` of the reservation item `SET parts_held = parts_held + 1` on `hold_id =
    /// :hold`, so a part is never written for a hold that is gone. Then per line the
    /// stock `Update` on `attribute_exists(pk) AND available >= :q`.
    async fn reserve_part(
        &self,
        order_id: &OrderId,
        hold_id: &HoldId,
        part: u32,
        parts: u32,
        lines: &[AllocatedLine],
    ) -> Result<PartOutcome, StoreError> {
        let what = format!("reserve stock for order {order_id}");
        let mut items = Vec::with_capacity(lines.len() + 2);
        if part == 0 {
            let item = to_item(&ReservationItem::new(order_id, hold_id, lines, parts), &what)?;
            items.push(self.put_new(item, &format!("the reservation of order {order_id}"))?);
        } else {
            let item = to_item(&ReservationPartItem::new(order_id, hold_id, part, lines), &what)?;
            items.push(self.put_new(item, &format!("part {part} of the reservation of order {order_id}"))?);
            items.push(self.count_part(order_id, hold_id, true)?);
        }
        let first_line = items.len();
        for line in lines {
            items.push(take_available(&self.table, line, &format!("order {order_id}"))?);
        }
        for line in lines {
            items.push(self.ledger_item(&LedgerLine::reserve(order_id, line))?);
        }
        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(StoreError::msg(format!(
                "Failed to {what}: part {part} takes {} items, more than a transaction's {MAX_TRANSACT_ITEMS}",
                items.len()
            )));
        }

        let mut attempt = 0;
        loop {
            attempt += 1;
            let reasons = match self.transact(items.clone(), &what).await? {
                Transact::Written => return Ok(PartOutcome::Written),
                Transact::Cancelled(reasons) => reasons,
            };
            if reasons.first().is_some_and(|r| r.condition_failed()) {
                // The first part: another hold is there. A later part: this write landed
                // before (its key is this hold's own), and only its answer was lost.
                return Ok(if part == 0 { PartOutcome::AlreadyReserved } else { PartOutcome::Written });
            }
            if part > 0 && reasons.get(1).is_some_and(|r| r.condition_failed()) {
                return Ok(PartOutcome::HoldGone);
            }
            let failed = reasons.iter().skip(first_line).position(|r| r.condition_failed()).and_then(|i| lines.get(i));
            let Some(line) = failed else {
                return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
            };
            let available = self.stock_level(&line.warehouse, &line.owner, &line.sku).await?.map_or(0, |level| level.available);
            if available < line.quantity || attempt >= RACE_ATTEMPTS {
                return Ok(PartOutcome::Insufficient {
                    warehouse: line.warehouse.clone(),
                    owner: line.owner.clone(),
                    sku: line.sku.clone(),
                    available,
                });
            }
            // Units came back between the write and the read: try again.
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// An `Update` of the reservation item counting one part more (`added`) or one less in
    /// `parts_held`, on `hold_id = :hold`.
    fn count_part(&self, order_id: &OrderId, hold_id: &HoldId, added: bool) -> Result<TransactWriteItem, StoreError> {
        let (expression, mut values) = if added {
            ("if_not_exists(#parts_held, :zero) + :one", HashMap::from([(":zero".to_owned(), n(0))]))
        } else {
            ("#parts_held - :one", HashMap::new())
        };
        values.insert(":hold".to_owned(), s(hold_id.as_str()));
        values.insert(":one".to_owned(), n(1));
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::reservation(order_id).into_map()))
            .update_expression(format!("SET #parts_held = {expression}"))
            .condition_expression("#hold_id = :hold")
            .expression_attribute_names("#parts_held", "parts_held")
            .expression_attribute_names("#hold_id", "hold_id")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| build_error(format!("Failed to build the part count of order {order_id}"), e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Gives back what landed of a hold that `reserve` could not finish, before `reserve`
    /// answers. Only that hold: released by its id, it never touches another.
    async fn undo_hold(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<(), StoreError> {
        let undone = self.release(order_id, hold_id).await?;
        tracing::debug!(order_id = %order_id, hold_id = %hold_id, ?undone, "gave back a half-written hold");
        Ok(())
    }
}

#[async_trait]
impl InventoryStore for DynamoStore {
    /// A consistent read of the stock item, then one `TransactWriteItems`: the stock
    /// `Update` (`write_on_hand`) conditional on the on hand read (and on `reserved <= :n`),
    /// with its `recount` ledger entry when on hand changes. A stock that changed between
    /// the read and the write is read again (`COUNT_ATTEMPTS` in all); more reserved than
    /// the count answers `BelowReserved`.
    async fn set_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        on_hand: u32,
    ) -> Result<SetOnHandOutcome, StoreError> {
        let what = format!("set {owner}'s stock of {sku} in {warehouse}");
        for attempt in 1..=COUNT_ATTEMPTS {
            let seen = self.stock_level(warehouse, owner, sku).await?;
            let (before, reserved) = seen.as_ref().map_or((0, 0), |level| (level.on_hand, level.reserved));
            if reserved > on_hand {
                return Ok(SetOnHandOutcome::BelowReserved { reserved });
            }
            let line = (before != on_hand || seen.is_none())
                .then(|| LedgerLine::recount(warehouse, owner, sku, before, on_hand, "counted"))
                .filter(|line| line.delta_on_hand != 0);
            let ledger = line.as_ref().map(|line| self.ledger_item(line)).transpose()?;
            if let Some(level) = self.write_on_hand(warehouse, owner, sku, seen.as_ref(), on_hand, ledger).await? {
                return Ok(SetOnHandOutcome::Set(level));
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
        Err(StoreError::msg(format!("Failed to {what}: the stock kept changing")))
    }

    /// A strongly consistent `Query` of the partition `STOCK#<sku>`, sorted by warehouse id,
    /// then owner (the sort key's `#` separators would sort `WH-1!` before `WH-1`).
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        let items = self.query_partition(Key::stock_partition(sku), &format!("the stock of {sku}")).await?;
        let mut levels: Vec<StockLevel> = items
            .into_iter()
            .map(|item| read_item::<StockItem, _>(item, &format!("the stock of {sku}")))
            .collect::<Result<_, _>>()?;
        levels.sort_by(|a, b| (&a.warehouse, &a.owner).cmp(&(&b.warehouse, &b.owner)));
        Ok(levels)
    }

    async fn lots_of(&self, sku: &Sku) -> Result<Vec<oms_domain::lot::LotBalance>, StoreError> {
        self.lot_balances(sku).await
    }

    async fn claim_lot_sweep(&self, day: chrono::NaiveDate) -> Result<bool, StoreError> {
        self.claim_lot_sweep_of(day).await
    }

    /// One `TransactWriteItems` per part of at most `MAX_LINES_PER_WRITE` lines (see
    /// `reserve_part`): the first part creates the hold (`AlreadyReserved` if the order has
    /// one), each later part adds to it. When a later part finds a line short, or fails, the
    /// parts written are released before `reserve` answers, so the order holds all or none.
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        let hold_id = HoldId::generate();
        let mut parts: Vec<&[AllocatedLine]> = reservation.parts().collect();
        if parts.is_empty() {
            parts.push(&[]);
        }
        let count = u32::try_from(parts.len())
            .map_err(|_| StoreError::msg(format!("Failed to reserve order {order_id}: too many parts")))?;
        for (part, lines) in (0..count).zip(&parts) {
            debug_assert!(lines.len() <= MAX_LINES_PER_WRITE);
            let outcome = match self.reserve_part(order_id, &hold_id, part, count, lines).await {
                Ok(outcome) => outcome,
                Err(err) => {
                    // Whatever of this hold landed (a part whose answer was lost, the parts
                    // before it) is given back, so an error never leaves half a hold.
                    if let Err(undo) = self.undo_hold(order_id, &hold_id).await {
                        tracing::error!(order_id = %order_id, hold_id = %hold_id, error = %undo, "could not give back a half-written hold");
                    }
                    return Err(err);
                }
            };
            match outcome {
                PartOutcome::Written => {}
                PartOutcome::AlreadyReserved => return Ok(ReserveOutcome::AlreadyReserved),
                PartOutcome::HoldGone => {
                    self.undo_hold(order_id, &hold_id).await?;
                    return Err(StoreError::msg(format!(
                        "Failed to reserve stock for order {order_id}: its hold {hold_id} was released while it was written"
                    )));
                }
                PartOutcome::Insufficient { warehouse, owner, sku, available } => {
                    if part > 0 {
                        self.undo_hold(order_id, &hold_id).await?;
                    }
                    return Ok(ReserveOutcome::Insufficient { warehouse, owner, sku, available });
                }
            }
        }
        Ok(ReserveOutcome::Reserved { hold_id })
    }

    /// Reads the order's hold (none: `NothingHeld`; another: `NotThatHold`). Each later part
    /// goes first, one `TransactWriteItems` each: a `Delete` of the part item on
    /// `attribute_exists(pk)`, `parts_held = parts_held - 1` on the reservation item, and per
    /// line the stock `Update` `SET available = available + :q, reserved = reserved - :q` on
    /// `reserved >= :q`. Then the reservation item: a `Delete` on `hold_id = :hold AND
    /// parts_held = 0` with its lines' stock updates. When the hold changed in between (a
    /// part written or released meanwhile) it is read again.
    /// One `TransactWriteItems` of the reservation item alone (`put_new`): the stock items'
    /// `reserved` already counts the set-aside units. A failed condition: `AlreadyReserved`.
    async fn hold_set_aside(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        let what = format!("hold set-aside stock for order {order_id}");
        let (hold_id, items) = self.hold_set_aside_items(order_id, reservation)?;
        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(StoreError::msg(format!(
                "Failed to {what}: {} lines take more than one transaction",
                reservation.lines().len()
            )));
        }
        match self.transact(items, &what).await? {
            Transact::Written => Ok(ReserveOutcome::Reserved { hold_id }),
            Transact::Cancelled(reasons) if reasons.first().is_some_and(CancelReason::condition_failed) => {
                Ok(ReserveOutcome::AlreadyReserved)
            }
            Transact::Cancelled(reasons) => Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons)))),
        }
    }

    async fn release(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<ReleaseOutcome, StoreError> {
        self.release_noted(order_id, hold_id, &ReleaseNote::release("released")).await
    }

    async fn adjust(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &Adjustment,
    ) -> Result<AdjustOutcome, StoreError> {
        self.adjust_stock(warehouse, owner, sku, adjustment).await
    }

    /// A strongly consistent `Query` of the partition `RESERVATION#<order>`: the hold's
    /// first part and every later part written under it.
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Hold>, StoreError> {
        Ok(self
            .stored_hold(order_id)
            .await?
            .map(|stored| Hold { hold_id: stored.hold_id, reservation: Reservation::new(stored.lines) }))
    }

    /// A strongly consistent `Query` of `LEDGER#<sku>` after the cursor (see `ledger_entries`).
    async fn ledger(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<LedgerPage, StoreError> {
        self.ledger_entries(sku, owner, after, limit).await
    }

    /// A `Scan` of the items whose `pk` starts `STOCK#`.
    async fn stock_figures(&self) -> Result<Vec<StockFigures>, StoreError> {
        self.scan_stock_figures().await
    }

    /// A `Scan` of the items whose `pk` starts `RESERVATION#`.
    async fn open_holds(&self) -> Result<Vec<OpenHold>, StoreError> {
        self.scan_open_holds().await
    }
}

/// How often a count or an adjustment reads the stock again after it changed under it.
const COUNT_ATTEMPTS: u32 = 8;

impl DynamoStore {
    /// One `TransactWriteItems`: the stock item's `Update` `SET on_hand = :n, reserved =
    /// if_not_exists(reserved, 0), available = :n - if_not_exists(reserved, 0)` (and its
    /// `warehouse`, `merchant_id`, `sku`) on `attribute_not_exists(pk)` when `seen` is none,
    /// else on `on_hand = :seen AND reserved <= :n`; and `line`'s ledger entry. `None`: the
    /// stock changed since it was read (nothing written); else the stock as it is now.
    async fn write_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        seen: Option<&StockLevel>,
        on_hand: u32,
        ledger: Option<TransactWriteItem>,
    ) -> Result<Option<StockLevel>, StoreError> {
        let what = format!("{owner}'s stock of {sku} in {warehouse}");
        let mut values = HashMap::from([
            (":warehouse".to_owned(), s(warehouse.as_str())),
            (":merchant_id".to_owned(), s(owner.as_str())),
            (":sku".to_owned(), s(sku.as_str())),
            (":n".to_owned(), n(on_hand)),
            (":zero".to_owned(), n(0)),
        ]);
        let condition = match seen {
            None => "attribute_not_exists(pk)",
            Some(level) => {
                values.insert(":seen".to_owned(), n(level.on_hand));
                "#on_hand = :seen AND #reserved <= :n"
            }
        };
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::stock(warehouse, owner, sku).into_map()))
            .update_expression(
                "SET #warehouse = :warehouse, #merchant_id = :merchant_id, #sku = :sku, #on_hand = :n, \
                 #reserved = if_not_exists(#reserved, :zero), #available = :n - if_not_exists(#reserved, :zero)",
            )
            .condition_expression(condition)
            .set_expression_attribute_names(Some(HashMap::from([
                ("#warehouse".to_owned(), "warehouse".to_owned()),
                ("#merchant_id".to_owned(), "merchant_id".to_owned()),
                ("#sku".to_owned(), "sku".to_owned()),
                ("#on_hand".to_owned(), "on_hand".to_owned()),
                ("#reserved".to_owned(), "reserved".to_owned()),
                ("#available".to_owned(), "available".to_owned()),
            ])))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| build_error(format!("Failed to build the count of {what}"), e))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(ledger);
        match self.transact(items, &format!("count {what}")).await? {
            Transact::Written => {}
            Transact::Cancelled(reasons) if reasons.first().is_some_and(CancelReason::condition_failed) => return Ok(None),
            Transact::Cancelled(reasons) => {
                return Err(StoreError::msg(format!("Failed to count {what}: {}", unexplained(&reasons))))
            }
        }
        let level = self
            .stock_level(warehouse, owner, sku)
            .await?
            .ok_or_else(|| StoreError::msg(format!("Failed to count {what}: the item is gone after the write")))?;
        Ok(Some(level))
    }

    /// `InventoryStore::adjust`: read the stock (and for a count as of a moment, its ledger
    /// since then), decide, and write as `write_on_hand` does with the `adjust` or `recount`
    /// entry; read again when the stock changed in between.
    async fn adjust_stock(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &Adjustment,
    ) -> Result<AdjustOutcome, StoreError> {
        let what = format!("adjust {owner}'s stock of {sku} in {warehouse}");
        for attempt in 1..=COUNT_ATTEMPTS {
            let seen = self.stock_level(warehouse, owner, sku).await?;
            let (on_hand, held) = seen.as_ref().map_or((0, 0), |level| (level.on_hand, level.reserved));
            let line = match adjustment {
                Adjustment::Delta { delta, reason } => LedgerLine::adjust(warehouse, owner, sku, *delta, reason.clone()),
                Adjustment::CountAsOf { count, as_of, reason } => {
                    let since = self.ledger_since(warehouse, owner, sku, *as_of).await?;
                    if let Some(newer) = since.iter().find(|e| e.kind == LedgerKind::Recount) {
                        return Ok(AdjustOutcome::NewerCount { counted_at: newer.at });
                    }
                    let moved: i64 = since.iter().map(|e| e.delta_on_hand).sum();
                    let target = i64::from(*count) + moved;
                    let reason = format!("{reason} (count of {count} as of {}, {moved:+} moved since)", as_of.to_rfc3339());
                    LedgerLine {
                        kind: LedgerKind::Recount,
                        ..LedgerLine::adjust(warehouse, owner, sku, target - i64::from(on_hand), reason)
                    }
                }
            };
            let after = i64::from(on_hand) + line.delta_on_hand;
            if after < i64::from(held) || after > i64::from(oms_domain::stock::MAX_ON_HAND) {
                return Ok(AdjustOutcome::BelowHeld { held, on_hand_after: after });
            }
            let after = u32::try_from(after).map_err(|_| StoreError::msg(format!("Failed to {what}: out of range")))?;
            let (put, entry) = self.ledger_put(&line)?;
            if let Some(level) = self.write_on_hand(warehouse, owner, sku, seen.as_ref(), after, Some(put)).await? {
                return Ok(AdjustOutcome::Adjusted { level, entry });
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
        Err(StoreError::msg(format!("Failed to {what}: the stock kept changing")))
    }

    /// `release`, writing its ledger entries as `note` says.
    pub(super) async fn release_noted(
        &self,
        order_id: &OrderId,
        hold_id: &HoldId,
        note: &ReleaseNote,
    ) -> Result<ReleaseOutcome, StoreError> {
        let what = format!("release the stock of order {order_id}");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(stored) = self.stored_hold(order_id).await? else {
                return Ok(ReleaseOutcome::NothingHeld);
            };
            if &stored.hold_id != hold_id {
                return Ok(ReleaseOutcome::NotThatHold);
            }
            self.release_later_parts(order_id, &stored, note).await?;
            let items = self.release_first_part(order_id, &stored, note)?;
            let reasons = match self.transact(items, &what).await? {
                Transact::Written => return Ok(ReleaseOutcome::Released(Reservation::new(stored.lines))),
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
}
