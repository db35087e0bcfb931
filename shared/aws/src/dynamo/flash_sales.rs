//! `FlashSaleStore` on DynamoDB: the sale item, one item per shard (each its own
//! partition), one per (sale, customer) with the units claimed, and one per claim under its
//! idempotency key. A claim is one `TransactWriteItems`: the claim (`put_new`), the
//! customer's total (conditional on the limit), the shard (conditional on its units) and the
//! order's own items with its outbox item. See `docs/dynamodb.md`, "Flash sales".

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{KeysAndAttributes, TransactWriteItem, Update};
use oms_domain::flash_sale::{Claim, FlashSale, IdempotencyKey, SaleId, ShardLevel};
use oms_domain::messages::Outgoing;
use oms_domain::order::Order;
use oms_domain::ports::{ClaimOutcome, CreateSaleOutcome, FlashSaleStore, InventoryStore, StoreError};
use oms_records::{ClaimRecord, SaleRecord};
use serde::{Deserialize, Serialize};

use super::inventory::set_aside_available;
use super::{from_item, n, to_item, unexplained, CancelReason, DynamoStore, Item, Key, Transact};
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

    /// The claim's write: the claim, the customer's total, the shard, then the order's items.
    fn claim_items(
        &self,
        claim: &Claim,
        limit: u32,
        order: &Order,
        send: &[Outgoing],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
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
        items.extend(self.new_order_items(order, send)?);
        Ok(items)
    }
}

#[async_trait]
impl FlashSaleStore for DynamoStore {
    /// The shard items first (plain `PutItem`s: nothing reads a shard before its sale
    /// exists), then one `TransactWriteItems` of the sale item (`put_new`) and per set-aside
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
        let mut items = vec![self.put_new(item, &what)?];
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
        let short = reasons.iter().skip(1).position(CancelReason::condition_failed).and_then(|i| set_aside.lines().get(i));
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
        let what = format!("the shards of flash sale {}", sale.sale_id);
        let count = u32::try_from(sale.shards.len()).map_err(|_| StoreError::msg(format!("Failed to read {what}")))?;
        let keys: Vec<Key> = (0..count).map(|i| Key::flash_sale_shard(&sale.sale_id, i)).collect();
        let mut found: HashMap<String, ShardItem> = HashMap::new();
        for chunk in keys.chunks(BATCH_GET_KEYS) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(chunk.iter().map(|k| k.clone().into_map()).collect()))
                .consistent_read(false)
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
    async fn claim(&self, claim: &Claim, limit: u32, order: &Order, send: &[Outgoing]) -> Result<ClaimOutcome, StoreError> {
        let what = format!("claim from flash sale {}", claim.sale_id);
        let items = self.claim_items(claim, limit, order, send)?;
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
