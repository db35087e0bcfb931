//! `RepairStore` on DynamoDB: the repair item `REPAIR#<repair id>` / `REPAIR` (the repair
//! and its `state`) and its key item `REPAIR_KEY#<merchant>#<customer>#<key>` / `REPAIR`
//! (the repair's id; merchant, customer and key escaped as segments). See
//! `docs/dynamodb.md`, "Repairs".
//!
//! A booking is one `TransactWriteItems` of both, each `attribute_not_exists(pk)`. A move
//! is ONE `TransactWriteItems` too: the repair's item put on `state = :from`; per part
//! used, the stock item's `on_hand` and `available` less the quantity on `available >= :q`
//! and its `consume` ledger entry; and the service order's items (the new order and its
//! dedupe marker, each `put_new`; or the order put on its version). At most 20 parts, so
//! at most 43 items. Any failed condition cancels the whole: two repairs starting on the
//! last units of a part cannot both be written, whatever the interleaving.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use oms_domain::ledger::LedgerLine;
use oms_domain::order::AllocatedLine;
use oms_domain::ports::{CreateRepairOutcome, MoveRepairOutcome, RepairStore, ServiceOrderWrite, StoreError};
use oms_domain::repair::{Repair, RepairId, RepairState};
use serde::{Deserialize, Serialize};

use super::inventory::consume_available;
use super::rentals::segment;
use super::{from_item, s, to_item, unexplained, CancelReason, DynamoStore, Key, Transact};
use crate::error::build_error;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RepairItem {
    pk: String,
    sk: String,
    state: RepairState,
    repair: Repair,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RepairKeyItem {
    pk: String,
    sk: String,
    repair_id: String,
}

impl Key {
    /// A repair: `REPAIR#<repair id>` / `REPAIR`.
    pub fn repair(id: &RepairId) -> Self {
        Self { pk: format!("REPAIR#{id}"), sk: "REPAIR".to_owned() }
    }

    /// A repair under its merchant, customer and key: `REPAIR_KEY#<merchant>#<customer>#<key>`
    /// / `REPAIR`.
    pub fn repair_key(repair: &Repair) -> Self {
        Self {
            pk: format!(
                "REPAIR_KEY#{}#{}#{}",
                segment(repair.merchant_id.as_str()),
                segment(repair.customer_id.as_str()),
                segment(repair.idempotency_key.as_str())
            ),
            sk: "REPAIR".to_owned(),
        }
    }
}

impl DynamoStore {
    async fn read_repair(&self, id: &RepairId, what: &str) -> Result<Option<RepairItem>, StoreError> {
        match self.get(Key::repair(id), what).await? {
            Some(item) => Ok(Some(from_item(item, what)?)),
            None => Ok(None),
        }
    }

    /// Which outcome a cancelled move is: the repair's condition, then each part's.
    async fn explain_move(
        &self,
        repair: &Repair,
        parts: &[AllocatedLine],
        reasons: &[CancelReason],
        what: &str,
    ) -> Result<MoveRepairOutcome, StoreError> {
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            return Ok(match self.read_repair(&repair.repair_id, what).await? {
                None => MoveRepairOutcome::NotFound,
                Some(stored) => MoveRepairOutcome::Conflict(stored.state),
            });
        }
        for (i, part) in parts.iter().enumerate() {
            // Each part is its stock's update then its ledger entry, after the repair's item.
            if reasons.get(1 + 2 * i).is_some_and(CancelReason::condition_failed) {
                let level = self.stock_level(&part.warehouse, &part.owner, &part.sku).await?;
                return Ok(MoveRepairOutcome::PartsShort { sku: part.sku.clone(), available: level.map_or(0, |l| l.available) });
            }
        }
        if reasons.iter().skip(1 + 2 * parts.len()).any(CancelReason::condition_failed) {
            return Ok(MoveRepairOutcome::OrderChanged);
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(reasons))))
    }
}

#[async_trait]
impl RepairStore for DynamoStore {
    /// One `TransactWriteItems` of the key's item and the repair's, each `put_new`.
    /// Cancelled by the key's item: `Duplicate`, its repair read as it is now.
    async fn create_repair(&self, repair: &Repair) -> Result<CreateRepairOutcome, StoreError> {
        let what = format!("store repair {}", repair.repair_id);
        let key = Key::repair_key(repair);
        let key_item = RepairKeyItem { pk: key.pk.clone(), sk: key.sk.clone(), repair_id: repair.repair_id.to_string() };
        let own = Key::repair(&repair.repair_id);
        let item = RepairItem { pk: own.pk, sk: own.sk, state: repair.state, repair: repair.clone() };
        let items = vec![self.put_new(to_item(&key_item, &what)?, &what)?, self.put_new(to_item(&item, &what)?, &what)?];
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(CreateRepairOutcome::Created),
            Transact::Cancelled(reasons) => reasons,
        };
        if !reasons.first().is_some_and(CancelReason::condition_failed) {
            return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
        }
        let first: RepairKeyItem = match self.get(key, &what).await? {
            Some(item) => from_item(item, &what)?,
            None => return Err(StoreError::msg(format!("Failed to {what}: its key's item vanished"))),
        };
        let first_id = RepairId::parse(first.repair_id).map_err(|e| StoreError::msg(format!("Failed to {what}: {e}")))?;
        let stored = self
            .read_repair(&first_id, &what)
            .await?
            .ok_or_else(|| StoreError::msg(format!("Failed to {what}: repair {first_id} of its key is missing")))?;
        Ok(CreateRepairOutcome::Duplicate(Box::new(stored.repair)))
    }

    /// A strongly consistent `GetItem`.
    async fn get_repair(&self, id: &RepairId) -> Result<Option<Repair>, StoreError> {
        let what = format!("repair {id}");
        Ok(self.read_repair(id, &what).await?.map(|item| item.repair))
    }

    /// One `TransactWriteItems` (see the module's doc); a cancellation is read back into
    /// its outcome: the repair's item (`NotFound`, `Conflict`), a part's stock
    /// (`PartsShort`, with the units available now), the order's items (`OrderChanged`).
    async fn move_repair(
        &self,
        repair: &Repair,
        from: RepairState,
        order: &ServiceOrderWrite,
        parts: &[AllocatedLine],
    ) -> Result<MoveRepairOutcome, StoreError> {
        let id = &repair.repair_id;
        let what = format!("move repair {id}");
        let key = Key::repair(id);
        let item = RepairItem { pk: key.pk, sk: key.sk, state: repair.state, repair: repair.clone() };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&item, &what)?))
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":from", s(from.as_str()))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        let whose = format!("repair {id}");
        for part in parts {
            items.push(consume_available(&self.table, part, &whose)?);
            items.push(self.ledger_item(&LedgerLine::consume(&part.warehouse, &part.owner, &part.sku, part.quantity, &whose))?);
        }
        items.extend(self.service_order_items(std::slice::from_ref(order))?);
        match self.transact(items, &what).await? {
            Transact::Written => Ok(MoveRepairOutcome::Moved),
            Transact::Cancelled(reasons) => self.explain_move(repair, parts, &reasons, &what).await,
        }
    }
}
