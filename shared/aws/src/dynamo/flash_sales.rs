//! `FlashSaleStore` on DynamoDB: the sale item, one item per shard (each its own
//! partition), one per (sale, customer) with the units claimed, and one per claim under its
//! idempotency key. A claim is one `TransactWriteItems`: the claim (`put_new`), the
//! customer's total (conditional on the limit), the shard (conditional on its units) and the
//! outbox item of the message that makes the claim's order (the order is made by the
//! allocate queue's consumer). See `docs/dynamodb.md`, "Flash sales".
//!
//! A sale not closed has an item in the `OPEN_FLASH_SALES` partition, sorted by its end,
//! put with the sale; closing it (`close_sale`) zeroes the shards conditional on the units
//! each was read with, gives those units back to stock with their ledger entries, grows
//! `units_returned` on the sale's `CLOSED` item and, in its last part, sets `closed_at` and
//! deletes the open item, every part conditional on `closed_at` not being set yet.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use oms_domain::flash_sale::{Claim, FlashSale, IdempotencyKey, SaleClosing, SaleId, ShardLevel};
use oms_domain::messages::Outgoing;
use oms_domain::order::AllocatedLine;
use oms_domain::ports::{
    ClaimOutcome, ClaimReturn, CloseSaleOutcome, CreateSaleOutcome, EndSaleOutcome, FlashSaleStore, InventoryStore, StoreError,
};
use oms_records::{ClaimRecord, SaleRecord};
use serde::{Deserialize, Serialize};

use super::inventory::{release_set_aside, set_aside_available};
use super::{
    from_item, index_time, n, s, to_item, unexplained, CancelReason, DynamoStore, Item, Key, Transact, MAX_TRANSACT_ITEMS,
};
use crate::error::{build_error, sdk_error};

/// Most keys one `BatchGetItem` reads.
const BATCH_GET_KEYS: usize = 100;

/// The sale: its keys beside the record both stores keep.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SaleItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    record: SaleRecord,
}

/// A shard's counters.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShardItem {
    pk: String,
    sk: String,
    units_left: u32,
    claims: u32,
}

/// A claim under its idempotency key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClaimItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    record: ClaimRecord,
}

/// How a sale closed: the units given back so far, and when its last part closed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClosingItem {
    pk: String,
    sk: String,
    #[serde(default)]
    units_returned: u64,
    #[serde(default)]
    closed_at: Option<String>,
}

/// A sale not closed yet, in the `OPEN_FLASH_SALES` partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenSaleItem {
    pk: String,
    sk: String,
    sale_id: String,
}

/// How many times a close reads the shards again after a claim landed between its read
/// and its write (each such race means a unit was claimed, so they are few and end with
/// the sale's units).
const CLOSE_ATTEMPTS: usize = 20;

/// Items of a close's part besides its shards and stocks: the `CLOSED` item, and the open
/// item's delete in the last part.
const CLOSE_FIXED_ITEMS: usize = 2;

/// The shards (by index) each part of a close takes, in shard order: only shards with units
/// left, as many per part as fit one transaction with one stock update and one ledger
/// entry per (warehouse, owner) of the part. Always at least one part (the last one marks
/// the sale closed, even with nothing to give back).
fn close_parts(sale: &FlashSale, levels: &[ShardLevel]) -> Vec<Vec<usize>> {
    let room = MAX_TRANSACT_ITEMS - CLOSE_FIXED_ITEMS;
    let mut parts: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    let mut stocks: Vec<(&oms_domain::WarehouseId, &oms_domain::MerchantId)> = Vec::new();
    for (index, (shard, level)) in sale.shards.iter().zip(levels).enumerate() {
        if level.units_left == 0 {
            continue;
        }
        let stock = (&shard.warehouse, &shard.owner);
        let cost = 1 + if stocks.contains(&stock) { 0 } else { 2 };
        if used + cost > room {
            parts.push(Vec::new());
            used = 0;
            stocks.clear();
        }
        let cost = 1 + if stocks.contains(&stock) { 0 } else { 2 };
        if !stocks.contains(&stock) {
            stocks.push(stock);
        }
        used += cost;
        parts.last_mut().expect("a part").push(index);
    }
    parts
}

/// A customer's units claimed in a sale.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CustomerItem {
    pk: String,
    sk: String,
    claimed: u32,
}

impl DynamoStore {
    /// A shard with all its units left and no claims.
    fn shard_item(sale: &SaleId, shard: u32, units: u32) -> Result<Item, StoreError> {
        let key = Key::flash_sale_shard(sale, shard);
        to_item(
            &ShardItem { pk: key.pk, sk: key.sk, units_left: units, claims: 0 },
            &format!("shard {shard} of flash sale {sale}"),
        )
    }

    async fn delete_shards(&self, sale: &FlashSale) {
        for shard in 0..sale.shards.len() {
            let key = Key::flash_sale_shard(&sale.sale_id, u32::try_from(shard).unwrap_or(u32::MAX));
            let deleted = self.client.delete_item().table_name(&self.table).set_key(Some(key.into_map())).send().await;
            if let Err(e) = deleted {
                tracing::warn!(sale_id = %sale.sale_id, shard, error = %e, "a shard of a sale not created was left behind");
            }
        }
    }

    /// The item under `key`, read as `T`, strongly consistent.
    async fn read_as<T: serde::de::DeserializeOwned>(&self, key: Key, what: &str) -> Result<Option<T>, StoreError> {
        match self.get(key, what).await? {
            Some(item) => Ok(Some(from_item(item, what)?)),
            None => Ok(None),
        }
    }

    /// `BatchGetItem`s of the shard items, 100 keys at a time, following `UnprocessedKeys`;
    /// a missing shard reads as empty. See `shard_levels` for the eventually consistent
    /// reads of claims; a close reads them strongly consistent.
    async fn read_shards(&self, sale: &FlashSale, consistent: bool) -> Result<Vec<ShardLevel>, StoreError> {
        let what = format!("the shards of flash sale {}", sale.sale_id);
        let count = u32::try_from(sale.shards.len()).map_err(|_| StoreError::msg(format!("Failed to read {what}")))?;
        let keys: Vec<Key> = (0..count).map(|i| Key::flash_sale_shard(&sale.sale_id, i)).collect();
        let mut found: HashMap<String, ShardItem> = HashMap::new();
        for chunk in keys.chunks(BATCH_GET_KEYS) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(chunk.iter().map(|k| k.clone().into_map()).collect()))
                .consistent_read(consistent)
                .build()
                .map_err(|e| build_error(format!("Failed to build the read of {what}"), e))?;
            loop {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| sdk_error(format!("Failed to read {what}"), e))?;
                for item in output.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default() {
                    let shard: ShardItem = from_item(item, &what)?;
                    found.insert(shard.pk.clone(), shard);
                }
                match output.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                    Some(left) if !left.keys().is_empty() => pending = left,
                    _ => break,
                }
            }
        }
        Ok(keys
            .iter()
            .map(|key| {
                found.get(&key.pk).map_or_else(ShardLevel::default, |s| ShardLevel { units_left: s.units_left, claims: s.claims })
            })
            .collect())
    }

    /// One part of a close (see `close_sale`): the `CLOSED` item first, then each shard of
    /// `part`, the stock update and ledger entry of each (warehouse, owner) they hold, and
    /// for the last part (`closed_at` given) the open item's delete.
    fn close_items(
        &self,
        sale: &FlashSale,
        levels: &[ShardLevel],
        part: &[usize],
        closed_at: Option<&str>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let what = format!("the close of flash sale {}", sale.sale_id);
        let failed = |e| build_error(format!("Failed to build {what}"), e);
        let mut lines: Vec<AllocatedLine> = Vec::new();
        let mut shards = Vec::new();
        for &index in part {
            let (Some(shard), Some(level)) = (sale.shards.get(index), levels.get(index)) else {
                return Err(StoreError::msg(format!("Failed to build {what}: no shard {index}")));
            };
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(Key::flash_sale_shard(&sale.sale_id, u32::try_from(index).unwrap_or(u32::MAX)).into_map()))
                .update_expression("SET units_left = :zero")
                .condition_expression("units_left = :read")
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":read", n(level.units_left))
                .build()
                .map_err(failed)?;
            shards.push(TransactWriteItem::builder().update(update).build());
            match lines.iter_mut().find(|l| l.warehouse == shard.warehouse && l.owner == shard.owner) {
                Some(line) => line.quantity += level.units_left,
                None => lines.push(AllocatedLine {
                    warehouse: shard.warehouse.clone(),
                    owner: shard.owner.clone(),
                    sku: sale.terms.sku.clone(),
                    quantity: level.units_left,
                    transfer_price: None,
                }),
            }
        }
        let returned: u64 = lines.iter().map(|l| u64::from(l.quantity)).sum();
        let mut closing = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::flash_sale_closing(&sale.sale_id).into_map()))
            .condition_expression("attribute_not_exists(closed_at)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":returned", n(returned));
        closing = match closed_at {
            Some(at) => closing
                .update_expression("SET units_returned = if_not_exists(units_returned, :zero) + :returned, closed_at = :at")
                .expression_attribute_values(":at", s(at)),
            None => closing.update_expression("SET units_returned = if_not_exists(units_returned, :zero) + :returned"),
        };
        let mut items = vec![TransactWriteItem::builder().update(closing.build().map_err(failed)?).build()];
        items.extend(shards);
        let whose = format!("flash sale {}", sale.sale_id);
        for line in &lines {
            items.push(release_set_aside(&self.table, line, &whose)?);
            items.push(self.ledger_item(&oms_domain::ledger::LedgerLine::sale_release(&sale.sale_id, line))?);
        }
        if closed_at.is_some() {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Key::open_flash_sale(sale.terms.ends_at, &sale.sale_id).into_map()))
                .build()
                .map_err(failed)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        Ok(items)
    }

    /// The items that give a claim's units back with its order's write
    /// (`HoldEffect::ReturnClaim`), after a strongly consistent read of the sale's `CLOSED`
    /// item. Its close not begun (no such item): a `ConditionCheck` that it still does not
    /// exist, and the shard's `units_left + q` (on the shard existing). Begun (the item
    /// exists, closed or part way): the item's `units_returned + q` (on it existing), the
    /// stock's `available + q, reserved - q, set_aside - q` (on `set_aside >= q`) and the
    /// `release` ledger entry of the sale's hold. The first item's condition failing means
    /// the close began in between: the caller reads it as a lost race.
    pub(super) async fn claim_return_items(&self, c: &ClaimReturn) -> Result<Vec<TransactWriteItem>, StoreError> {
        let what = format!("the return of order {}'s units to flash sale {}", c.order_id, c.sale_id);
        let failed = |e| build_error(format!("Failed to build {what}"), e);
        let closing = Key::flash_sale_closing(&c.sale_id);
        let begun = self.get(closing.clone(), &what).await?.is_some();
        if !begun {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(closing.into_map()))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(failed)?;
            let shard = Update::builder()
                .table_name(&self.table)
                .set_key(Some(Key::flash_sale_shard(&c.sale_id, c.shard).into_map()))
                .update_expression("SET units_left = units_left + :q")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":q", n(c.line.quantity))
                .build()
                .map_err(failed)?;
            return Ok(vec![
                TransactWriteItem::builder().condition_check(check).build(),
                TransactWriteItem::builder().update(shard).build(),
            ]);
        }
        let returned = Update::builder()
            .table_name(&self.table)
            .set_key(Some(closing.into_map()))
            .update_expression("SET units_returned = if_not_exists(units_returned, :zero) + :q")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":q", n(c.line.quantity))
            .build()
            .map_err(failed)?;
        Ok(vec![
            TransactWriteItem::builder().update(returned).build(),
            release_set_aside(&self.table, &c.line, &format!("flash sale {}", c.sale_id))?,
            self.ledger_item(&oms_domain::ledger::LedgerLine::claim_returned(&c.sale_id, &c.order_id, &c.line))?,
        ])
    }

    /// The claim's write: the claim, the customer's total, the shard, then its outbox items
    /// (the message that makes its order).
    fn claim_items(&self, claim: &Claim, limit: u32, send: &[Outgoing]) -> Result<Vec<TransactWriteItem>, StoreError> {
        let what = format!("claim {} of flash sale {}", claim.claim_id, claim.sale_id);
        let key = Key::flash_sale_claim(&claim.sale_id, &claim.idempotency_key);
        let item = to_item(&ClaimItem { pk: key.pk, sk: key.sk, record: ClaimRecord::from(claim) }, &what)?;
        let room = limit.saturating_sub(claim.quantity);
        let customer = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::flash_sale_customer(&claim.sale_id, &claim.customer_id).into_map()))
            .update_expression("SET claimed = if_not_exists(claimed, :zero) + :q")
            .condition_expression("attribute_not_exists(pk) OR claimed <= :room")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":q", n(claim.quantity))
            .expression_attribute_values(":room", n(room))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let shard = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::flash_sale_shard(&claim.sale_id, claim.shard).into_map()))
            .update_expression("SET units_left = units_left - :q, claims = claims + :one")
            .condition_expression("attribute_exists(pk) AND units_left >= :q")
            .expression_attribute_values(":q", n(claim.quantity))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let mut items = vec![
            self.put_new(item, &what)?,
            TransactWriteItem::builder().update(customer).build(),
            TransactWriteItem::builder().update(shard).build(),
        ];
        items.extend(self.outbox_puts(send, &claim.order_id)?);
        Ok(items)
    }
}

#[async_trait]
impl FlashSaleStore for DynamoStore {
    /// The shard items first (plain `PutItem`s: nothing reads a shard before its sale
    /// exists), then one `TransactWriteItems` of the sale item (`put_new`), its item in
    /// `OPEN_FLASH_SALES` (a plain Put) and per set-aside
    /// line the stock update `available - q, reserved + q` on `available >= q`. A short line
    /// answers `Insufficient` and the shard items are deleted again.
    async fn create_sale(&self, sale: &FlashSale) -> Result<CreateSaleOutcome, StoreError> {
        let what = format!("create flash sale {}", sale.sale_id);
        for (index, shard) in sale.shards.iter().enumerate() {
            let index = u32::try_from(index).map_err(|_| StoreError::msg(format!("Failed to {what}: too many shards")))?;
            self.put(
                Self::shard_item(&sale.sale_id, index, shard.units)?,
                &format!("shard {index} of flash sale {}", sale.sale_id),
            )
            .await?;
        }
        let key = Key::flash_sale(&sale.sale_id);
        let item = to_item(&SaleItem { pk: key.pk, sk: key.sk, record: SaleRecord::from(sale) }, &what)?;
        let set_aside = sale.set_aside();
        let open = Key::open_flash_sale(sale.terms.ends_at, &sale.sale_id);
        let open = to_item(&OpenSaleItem { pk: open.pk, sk: open.sk, sale_id: sale.sale_id.to_string() }, &what)?;
        let open = Put::builder()
            .table_name(&self.table)
            .set_item(Some(open))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let mut items = vec![self.put_new(item, &what)?, TransactWriteItem::builder().put(open).build()];
        for line in set_aside.lines() {
            items.push(set_aside_available(&self.table, line, &format!("flash sale {}", sale.sale_id))?);
        }
        for line in set_aside.lines() {
            items.push(self.ledger_item(&oms_domain::ledger::LedgerLine::set_aside(&sale.sale_id, line))?);
        }
        if items.len() > super::MAX_TRANSACT_ITEMS {
            self.delete_shards(sale).await;
            return Err(StoreError::msg(format!(
                "Failed to {what}: its set-aside of {} lines takes more than one transaction",
                set_aside.lines().len()
            )));
        }
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(CreateSaleOutcome::Created),
            Transact::Cancelled(reasons) => reasons,
        };
        // After the sale and its open item, one stock update per line.
        let short = reasons.iter().skip(2).position(CancelReason::condition_failed).and_then(|i| set_aside.lines().get(i));
        let Some(line) = short else {
            return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
        };
        self.delete_shards(sale).await;
        let available = self
            .stock_of(&line.sku)
            .await?
            .into_iter()
            .find(|level| level.warehouse == line.warehouse && level.owner == line.owner)
            .map_or(0, |level| level.available);
        Ok(CreateSaleOutcome::Insufficient {
            warehouse: line.warehouse.clone(),
            owner: line.owner.clone(),
            sku: line.sku.clone(),
            available,
        })
    }

    /// A strongly consistent `GetItem` of `FLASHSALE#<sale>` / `SALE`.
    async fn get_sale(&self, id: &SaleId) -> Result<Option<FlashSale>, StoreError> {
        let what = format!("flash sale {id}");
        let Some(item) = self.read_as::<SaleItem>(Key::flash_sale(id), &what).await? else {
            return Ok(None);
        };
        FlashSale::try_from(item.record).map(Some).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))
    }

    /// Eventually consistent `BatchGetItem`s of the shard items (half the read cost: at the
    /// end of a sale every claim's walk reads them), 100 keys at a time, following
    /// `UnprocessedKeys`. A shard's units only go down, so a lagging read shows a shard with
    /// units it no longer has, never one empty that still has some. A missing shard reads
    /// as empty.
    async fn shard_levels(&self, sale: &FlashSale) -> Result<Vec<ShardLevel>, StoreError> {
        self.read_shards(sale, false).await
    }

    /// A strongly consistent `GetItem` of `FLASHSALE#<sale>` / `CLOSED`; a sale closed has
    /// its `closed_at`.
    async fn sale_closing(&self, id: &SaleId) -> Result<Option<SaleClosing>, StoreError> {
        let what = format!("how flash sale {id} closed");
        let Some(item) = self.read_as::<ClosingItem>(Key::flash_sale_closing(id), &what).await? else {
            return Ok(None);
        };
        let Some(closed_at) = item.closed_at else { return Ok(None) };
        let closed_at = DateTime::parse_from_rfc3339(&closed_at)
            .map_err(|e| StoreError::new(format!("Failed to read {what}: closed_at is not a time"), e))?
            .with_timezone(&Utc);
        Ok(Some(SaleClosing { closed_at, units_returned: item.units_returned }))
    }

    /// A strongly consistent `Query` of `OPEN_FLASH_SALES` for sort keys up to `now`.
    async fn ended_open_sales(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<SaleId>, StoreError> {
        let what = "the flash sales that ended";
        self.due_items(Key::OPEN_FLASH_SALES, now, limit, what)
            .await?
            .into_iter()
            .map(|item| {
                let open: OpenSaleItem = from_item(item, what)?;
                SaleId::parse(open.sale_id).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))
            })
            .collect()
    }

    /// Parts of at most one transaction each (`close_parts`): the `CLOSED` item's
    /// `units_returned` grown by the part's units on `attribute_not_exists(closed_at)`;
    /// each shard `units_left = 0` on `units_left = :read` (read strongly consistent just
    /// before); per (warehouse, owner) the stock update `available + q, reserved - q,
    /// set_aside - q` on `set_aside >= q` and its `release` ledger entry; the last part also
    /// sets `closed_at` and deletes the open item. A part cancelled by a shard's condition
    /// (a claim landed) reads the shards again; by the `CLOSED` item's, it answers the
    /// close that won.
    async fn close_sale(&self, sale: &FlashSale, now: DateTime<Utc>) -> Result<CloseSaleOutcome, StoreError> {
        let what = format!("close flash sale {}", sale.sale_id);
        if now < sale.terms.ends_at {
            return Ok(CloseSaleOutcome::NotEnded);
        }
        let closed_at = index_time(now);
        'attempt: for _ in 0..CLOSE_ATTEMPTS {
            if let Some(first) = self.sale_closing(&sale.sale_id).await? {
                return Ok(CloseSaleOutcome::AlreadyClosed(first));
            }
            let levels = self.read_shards(sale, true).await?;
            let parts = close_parts(sale, &levels);
            for (index, part) in parts.iter().enumerate() {
                let last = index + 1 == parts.len();
                let items = self.close_items(sale, &levels, part, last.then_some(closed_at.as_str()))?;
                match self.transact(items, &what).await? {
                    Transact::Written => {}
                    Transact::Cancelled(reasons) if reasons.iter().any(CancelReason::condition_failed) => {
                        // Closed by another meanwhile (the first item), or a claim took units
                        // of a shard read here: read again.
                        tracing::debug!(sale_id = %sale.sale_id, "a close lost a race; reading the shards again");
                        continue 'attempt;
                    }
                    Transact::Cancelled(reasons) => {
                        return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
                    }
                }
            }
            let closing = self
                .sale_closing(&sale.sale_id)
                .await?
                .ok_or_else(|| StoreError::msg(format!("Failed to {what}: its closing vanished")))?;
            return Ok(CloseSaleOutcome::Closed(closing));
        }
        Err(StoreError::msg(format!("Failed to {what}: claims kept landing between its reads and its writes")))
    }

    /// One `TransactWriteItems`: the sale item put again with the new end, on its `ends_at`
    /// still being the one `sale` has; the `OPEN_FLASH_SALES` item under the old end deleted
    /// and one under the new end put (so a sale created before that index gains one). A
    /// sale closes only once it has ended, so one that ends after `now` is not closed.
    async fn end_sale(&self, sale: &FlashSale, now: DateTime<Utc>) -> Result<EndSaleOutcome, StoreError> {
        let what = format!("end flash sale {}", sale.sale_id);
        let failed = |e| build_error(format!("Failed to build {what}"), e);
        if sale.terms.ends_at <= now {
            return Ok(EndSaleOutcome::AlreadyEnded);
        }
        let mut ended = sale.clone();
        ended.terms.ends_at = now;
        ended.terms.starts_at = ended.terms.starts_at.min(now);
        let key = Key::flash_sale(&sale.sale_id);
        let before = to_item(&SaleItem { pk: key.pk.clone(), sk: key.sk.clone(), record: SaleRecord::from(sale) }, &what)?;
        let old_end = before.get("ends_at").cloned().ok_or_else(|| StoreError::msg(format!("Failed to {what}: no ends_at")))?;
        let item = to_item(&SaleItem { pk: key.pk, sk: key.sk, record: SaleRecord::from(&ended) }, &what)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("ends_at = :old")
            .expression_attribute_values(":old", old_end)
            .build()
            .map_err(failed)?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Key::open_flash_sale(sale.terms.ends_at, &sale.sale_id).into_map()))
            .build()
            .map_err(failed)?;
        let open = Key::open_flash_sale(now, &sale.sale_id);
        let open = to_item(&OpenSaleItem { pk: open.pk, sk: open.sk, sale_id: sale.sale_id.to_string() }, &what)?;
        let open = Put::builder().table_name(&self.table).set_item(Some(open)).build().map_err(failed)?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().put(open).build(),
        ];
        match self.transact(items, &what).await? {
            Transact::Written => Ok(EndSaleOutcome::Ended(Box::new(ended))),
            Transact::Cancelled(reasons) if reasons.iter().any(CancelReason::condition_failed) => {
                Ok(EndSaleOutcome::AlreadyEnded)
            }
            Transact::Cancelled(reasons) => Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons)))),
        }
    }

    /// A strongly consistent `GetItem` of `FLASHSALE#<sale>#KEY#<key>` / `CLAIM`.
    async fn claim_by_key(&self, sale: &SaleId, key: &IdempotencyKey) -> Result<Option<Claim>, StoreError> {
        let what = format!("the claim of flash sale {sale} under key {key}");
        let Some(item) = self.read_as::<ClaimItem>(Key::flash_sale_claim(sale, key), &what).await? else {
            return Ok(None);
        };
        Claim::try_from(item.record).map(Some).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))
    }

    /// One `TransactWriteItems` (`claim_items`); a cancelled one is read by which of its
    /// first three items failed: the claim's key, the customer's limit, the shard.
    async fn claim(&self, claim: &Claim, limit: u32, send: &[Outgoing]) -> Result<ClaimOutcome, StoreError> {
        let what = format!("claim from flash sale {}", claim.sale_id);
        let items = self.claim_items(claim, limit, send)?;
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(ClaimOutcome::Claimed),
            Transact::Cancelled(reasons) => reasons,
        };
        let failed = |i: usize| reasons.get(i).is_some_and(CancelReason::condition_failed);
        if failed(0) {
            let first = self
                .claim_by_key(&claim.sale_id, &claim.idempotency_key)
                .await?
                .ok_or_else(|| StoreError::msg(format!("Failed to {what}: the first claim under its key vanished")))?;
            return Ok(ClaimOutcome::Duplicate(Box::new(first)));
        }
        if failed(1) {
            let key = Key::flash_sale_customer(&claim.sale_id, &claim.customer_id);
            let customer = self.read_as::<CustomerItem>(key, &what).await?;
            return Ok(ClaimOutcome::LimitExceeded { claimed: customer.map_or(0, |c| c.claimed) });
        }
        if failed(2) {
            let key = Key::flash_sale_shard(&claim.sale_id, claim.shard);
            let shard = self.read_as::<ShardItem>(key, &what).await?;
            return Ok(ClaimOutcome::ShardShort { units_left: shard.map_or(0, |s| s.units_left) });
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oms_domain::flash_sale::{SaleTerms, Shard};

    fn sale(shards: Vec<Shard>) -> FlashSale {
        let now = Utc::now();
        let units = shards.iter().map(|s| s.units).sum();
        let terms = SaleTerms {
            sku: oms_domain::Sku::parse("SKU-1").unwrap(),
            units,
            per_customer_limit: 1,
            starts_at: now,
            ends_at: now + chrono::Duration::hours(1),
            shards: u32::try_from(shards.len()).unwrap(),
            price: rust_decimal::Decimal::ONE,
            currency: oms_domain::Currency::parse("CNY").unwrap(),
        };
        FlashSale {
            sale_id: SaleId::generate(),
            merchant_id: oms_domain::MerchantId::parse("m-1").unwrap(),
            terms,
            shards,
            created_at: now,
        }
    }

    fn shard(warehouse: usize) -> Shard {
        Shard {
            warehouse: oms_domain::WarehouseId::parse(format!("wh-{warehouse}")).unwrap(),
            owner: oms_domain::MerchantId::parse("m-1").unwrap(),
            units: 1,
        }
    }

    #[test]
    fn a_close_takes_every_shard_with_units_once_in_parts_that_fit_a_transaction() {
        // The most shards, over 40 warehouses, some already empty.
        let shards: Vec<Shard> = (0..MAX_SHARDS_USIZE).map(|i| shard(i / 5)).collect();
        let sale = sale(shards);
        let levels: Vec<ShardLevel> =
            (0..MAX_SHARDS_USIZE).map(|i| ShardLevel { units_left: u32::from(i % 7 != 0), claims: 0 }).collect();
        let parts = close_parts(&sale, &levels);
        let mut taken: Vec<usize> = parts.iter().flatten().copied().collect();
        taken.sort_unstable();
        let with_units: Vec<usize> = (0..MAX_SHARDS_USIZE).filter(|i| i % 7 != 0).collect();
        assert_eq!(taken, with_units, "every shard with units, once");
        assert!(parts.len() > 1);
        for part in &parts {
            let mut stocks: Vec<&oms_domain::WarehouseId> = part.iter().map(|&i| &sale.shards[i].warehouse).collect();
            stocks.dedup();
            assert!(CLOSE_FIXED_ITEMS + part.len() + 2 * stocks.len() <= MAX_TRANSACT_ITEMS, "{part:?}");
        }
    }

    #[test]
    fn a_sale_with_nothing_left_closes_in_one_part_of_its_own() {
        let sale = sale(vec![shard(0), shard(1)]);
        assert_eq!(close_parts(&sale, &[ShardLevel::default(), ShardLevel::default()]), vec![Vec::<usize>::new()]);
    }

    const MAX_SHARDS_USIZE: usize = oms_domain::flash_sale::MAX_SHARDS as usize;
}
