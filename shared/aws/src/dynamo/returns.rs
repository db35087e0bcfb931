//! `ReturnStore` on DynamoDB. Items (`docs/dynamodb.md`, "Returns"):
//! - the return, `RETURN#<return id>` / `RETURN` (its `state`, `version` and the return);
//! - the return under its (order, customer, idempotency key),
//!   `RETURN_KEY#<order>#<customer>#<key>` / `RETURN` (the return as first written);
//! - per order, one index item per return, `ORDER_RETURNS#<order>` / `<return id>`;
//! - per merchant, one index item per return by creation time,
//!   `MERCHANT_RETURNS#<merchant>` / `<created at>#<return id>` (a merchant's returns since
//!   a time: one `Query`);
//! - per (order, SKU), the units the order's returns claim, `RETURNED#<order>` / `SKU#<sku>`;
//! - per return parcel, `RETURN_TRACKING#<tracking number>` / `RETURN` (its return's id);
//! - per (warehouse, SKU, owner), the damaged units returns put aside,
//!   `DAMAGED#<warehouse>` / `SKU#<sku>#MERCHANT#<owner>`.
//!
//! A request is ONE `TransactWriteItems`: the key's item (`put_new`), the return's and its
//! index item, and per line an `Update` of the claim, `units = if_not_exists(units, 0) + q`
//! on `attribute_not_exists(units) OR units <= :max` (`:max` the delivered units less q), so
//! requests racing for the same units can never claim more than were delivered. A move is
//! one transaction too: the return's `Put` on `version = :from`, with the tracking item
//! (`put_new`) when it ships back, the claims given back when refused or cancelled, and for
//! an inspection each line's stock (`on_hand` and `available` + restocked) and damaged
//! updates with their ledger entries, and for a refund its outbox item.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use oms_domain::ledger::LedgerLine;
use oms_domain::ports::{CreateReturnOutcome, MoveReturnOutcome, ReturnEffects, ReturnStore, StoreError};
use oms_domain::returns::{DamagedStock, Return, ReturnId, ReturnState, StockBack};
use oms_domain::{MerchantId, OrderId, Sku, TrackingNumber, WarehouseId};
use serde::{Deserialize, Serialize};

use super::{from_item, index_time, merchant_segment, n, s, to_item, unexplained, CancelReason, DynamoStore, Key, Transact};
use crate::error::build_error;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReturnItem {
    pk: String,
    sk: String,
    state: ReturnState,
    version: u64,
    ret: Return,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PointerItem {
    pk: String,
    sk: String,
    return_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClaimItem {
    pk: String,
    sk: String,
    units: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DamagedItem {
    pk: String,
    sk: String,
    warehouse: WarehouseId,
    merchant_id: MerchantId,
    sku: Sku,
    units: u32,
}

/// Free text as one key segment: `%` and `#` escaped, so it ends at the next `#`.
fn segment(raw: &str) -> String {
    raw.replace('%', "%25").replace('#', "%23")
}

impl Key {
    /// A return: `RETURN#<return id>` / `RETURN`.
    pub fn return_item(id: &ReturnId) -> Self {
        Self { pk: format!("RETURN#{id}"), sk: "RETURN".to_owned() }
    }

    /// A return under its order, customer and key: `RETURN_KEY#<order>#<customer>#<key>` /
    /// `RETURN` (customer and key escaped as segments).
    pub fn return_key(ret: &Return) -> Self {
        Self {
            pk: format!(
                "RETURN_KEY#{}#{}#{}",
                ret.order_id,
                segment(ret.customer_id.as_str()),
                segment(ret.idempotency_key.as_str())
            ),
            sk: "RETURN".to_owned(),
        }
    }

    /// A return in its merchant's index by creation time:
    /// `MERCHANT_RETURNS#<merchant>` / `<created at>#<return id>`.
    pub fn merchant_return(ret: &Return) -> Self {
        Self {
            pk: Self::merchant_returns_partition(&ret.merchant_id),
            sk: format!("{}#{}", index_time(ret.created_at), ret.return_id),
        }
    }

    /// The partition of a merchant's returns by creation time: `MERCHANT_RETURNS#<merchant>`.
    pub fn merchant_returns_partition(merchant: &MerchantId) -> String {
        format!("MERCHANT_RETURNS#{}", merchant_segment(merchant))
    }

    /// The partition of an order's returns: `ORDER_RETURNS#<order>`.
    pub fn order_returns_partition(order: &OrderId) -> String {
        format!("ORDER_RETURNS#{order}")
    }

    /// The units of `sku` an order's returns claim: `RETURNED#<order>` / `SKU#<sku>`.
    pub fn returned_units(order: &OrderId, sku: &Sku) -> Self {
        Self { pk: format!("RETURNED#{order}"), sk: format!("SKU#{}", segment(sku.as_str())) }
    }

    /// A return parcel's tracking number: `RETURN_TRACKING#<number>` / `RETURN`.
    pub fn return_tracking(tracking: &TrackingNumber) -> Self {
        Self { pk: format!("RETURN_TRACKING#{}", segment(tracking.as_str())), sk: "RETURN".to_owned() }
    }

    /// The partition of a warehouse's damaged stock: `DAMAGED#<warehouse>`.
    pub fn damaged_partition(warehouse: &WarehouseId) -> String {
        format!("DAMAGED#{warehouse}")
    }

    /// Damaged units of `owner`'s SKU in a warehouse: `DAMAGED#<warehouse>` /
    /// `SKU#<sku>#MERCHANT#<owner>`.
    pub fn damaged(warehouse: &WarehouseId, owner: &MerchantId, sku: &Sku) -> Self {
        Self {
            pk: Self::damaged_partition(warehouse),
            sk: format!("SKU#{}#MERCHANT#{}", segment(sku.as_str()), merchant_segment(owner)),
        }
    }
}

impl DynamoStore {
    fn return_put(&self, key: Key, ret: &Return, what: &str) -> Result<TransactWriteItem, StoreError> {
        let item = ReturnItem { pk: key.pk, sk: key.sk, state: ret.state, version: ret.version, ret: ret.clone() };
        self.put_new(to_item(&item, what)?, what)
    }

    fn pointer_put(&self, key: Key, id: &ReturnId, what: &str) -> Result<TransactWriteItem, StoreError> {
        self.put_new(to_item(&PointerItem { pk: key.pk, sk: key.sk, return_id: id.to_string() }, what)?, what)
    }

    /// The `Update` of a counter item `key`: `units = if_not_exists(units, 0) + :q` (`:q`
    /// negative to give back), its other attributes `set_also` set beside, on `condition`
    /// (with its own `values`) when given.
    fn add_to(
        &self,
        key: Key,
        delta: i64,
        condition: Option<(&str, HashMap<String, AttributeValue>)>,
        set_also: &[(&str, String)],
        what: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut expression = "SET #units = if_not_exists(#units, :zero) + :q".to_owned();
        let mut names = HashMap::from([("#units".to_owned(), "units".to_owned())]);
        let mut values = HashMap::from([(":zero".to_owned(), n(0)), (":q".to_owned(), n(delta))]);
        for (name, value) in set_also {
            expression.push_str(&format!(", #{name} = :{name}"));
            names.insert(format!("#{name}"), (*name).to_owned());
            values.insert(format!(":{name}"), s(value));
        }
        let mut builder = Update::builder().table_name(&self.table).set_key(Some(key.into_map())).update_expression(expression);
        if let Some((condition, extra)) = condition {
            builder = builder.condition_expression(condition);
            values.extend(extra);
        }
        let update = builder
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The stock update of restocked units: `on_hand` and `available` up by them.
    fn restock_update(&self, back: &StockBack, what: &str) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::stock(&back.warehouse, &back.owner, &back.sku).into_map()))
            .update_expression(
                "SET #warehouse = :warehouse, #merchant_id = :merchant_id, #sku = :sku, \
                 #on_hand = if_not_exists(#on_hand, :zero) + :q, #available = if_not_exists(#available, :zero) + :q, \
                 #reserved = if_not_exists(#reserved, :zero)",
            )
            .set_expression_attribute_names(Some(HashMap::from([
                ("#warehouse".to_owned(), "warehouse".to_owned()),
                ("#merchant_id".to_owned(), "merchant_id".to_owned()),
                ("#sku".to_owned(), "sku".to_owned()),
                ("#on_hand".to_owned(), "on_hand".to_owned()),
                ("#reserved".to_owned(), "reserved".to_owned()),
                ("#available".to_owned(), "available".to_owned()),
            ])))
            .set_expression_attribute_values(Some(HashMap::from([
                (":warehouse".to_owned(), s(back.warehouse.as_str())),
                (":merchant_id".to_owned(), s(back.owner.as_str())),
                (":sku".to_owned(), s(back.sku.as_str())),
                (":zero".to_owned(), n(0)),
                (":q".to_owned(), n(back.restock)),
            ])))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    async fn read_return(&self, key: Key, what: &str) -> Result<Option<ReturnItem>, StoreError> {
        match self.get(key, what).await? {
            Some(item) => Ok(Some(from_item(item, what)?)),
            None => Ok(None),
        }
    }

    async fn claimed(&self, order: &OrderId, sku: &Sku, what: &str) -> Result<u32, StoreError> {
        match self.get(Key::returned_units(order, sku), what).await? {
            Some(item) => Ok(from_item::<ClaimItem>(item, what)?.units),
            None => Ok(0),
        }
    }
}

#[async_trait]
impl ReturnStore for DynamoStore {
    /// One `TransactWriteItems`: the key's item, the return's, its order index item, and one
    /// claim `Update` per line. Cancelled by the key's item: `Duplicate` (the return read as
    /// it is now); by a claim: `TooMany` (the claim read again for what is left).
    async fn create_return(&self, ret: &Return, delivered: &[(Sku, u32)]) -> Result<CreateReturnOutcome, StoreError> {
        let what = format!("store return {}", ret.return_id);
        let index = Key { pk: Key::order_returns_partition(&ret.order_id), sk: ret.return_id.to_string() };
        let mut items = vec![
            self.return_put(Key::return_key(ret), ret, &what)?,
            self.return_put(Key::return_item(&ret.return_id), ret, &what)?,
            self.pointer_put(index, &ret.return_id, &what)?,
            self.pointer_put(Key::merchant_return(ret), &ret.return_id, &what)?,
        ];
        let claims = ret.claimed_units();
        for (sku, units) in &claims {
            let delivered = delivered.iter().find(|(s, _)| s == sku).map_or(0, |(_, d)| *d);
            let max = i64::from(delivered) - i64::from(*units);
            let condition = "attribute_not_exists(#units) OR #units <= :max";
            let values = HashMap::from([(":max".to_owned(), n(max))]);
            items.push(self.add_to(
                Key::returned_units(&ret.order_id, sku),
                i64::from(*units),
                Some((condition, values)),
                &[],
                &what,
            )?);
        }
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(CreateReturnOutcome::Created),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            let first = self
                .read_return(Key::return_key(ret), &what)
                .await?
                .ok_or_else(|| StoreError::msg(format!("Failed to {what}: its key's return vanished")))?;
            let now = self.get_return(&first.ret.return_id).await?.unwrap_or(first.ret);
            return Ok(CreateReturnOutcome::Duplicate(Box::new(now)));
        }
        if let Some(i) = reasons.iter().skip(4).position(CancelReason::condition_failed) {
            let (sku, _) = &claims[i];
            let delivered = delivered.iter().find(|(s, _)| s == sku).map_or(0, |(_, d)| *d);
            let claimed = self.claimed(&ret.order_id, sku, &what).await?;
            return Ok(CreateReturnOutcome::TooMany { sku: sku.clone(), returnable: delivered.saturating_sub(claimed) });
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// A strongly consistent `GetItem`.
    async fn get_return(&self, id: &ReturnId) -> Result<Option<Return>, StoreError> {
        let what = format!("return {id}");
        Ok(self.read_return(Key::return_item(id), &what).await?.map(|item| item.ret))
    }

    /// A strongly consistent `Query` of `MERCHANT_RETURNS#<merchant>` from `since`, then
    /// each return's `GetItem`.
    async fn returns_since(&self, merchant: &MerchantId, since: DateTime<Utc>) -> Result<Vec<Return>, StoreError> {
        let what = format!("the returns of merchant {merchant}");
        let partition = Key::merchant_returns_partition(merchant);
        let mut returns = Vec::new();
        for item in self.query_partition_after(partition, &index_time(since), &what).await? {
            let pointer: PointerItem = from_item(item, &what)?;
            let id = ReturnId::parse(pointer.return_id).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))?;
            if let Some(ret) = self.get_return(&id).await? {
                returns.push(ret);
            }
        }
        Ok(returns)
    }

    /// A strongly consistent `Query` of `ORDER_RETURNS#<order>` (by return id, so oldest
    /// first), then each return's `GetItem`.
    async fn returns_of(&self, order: &OrderId) -> Result<Vec<Return>, StoreError> {
        let what = format!("the returns of order {order}");
        let mut returns = Vec::new();
        for item in self.query_partition(Key::order_returns_partition(order), &what).await? {
            let pointer: PointerItem = from_item(item, &what)?;
            let id = ReturnId::parse(pointer.return_id).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))?;
            if let Some(ret) = self.get_return(&id).await? {
                returns.push(ret);
            }
        }
        Ok(returns)
    }

    /// The tracking item's `GetItem`, then its return's.
    async fn return_by_tracking(&self, tracking: &TrackingNumber) -> Result<Option<Return>, StoreError> {
        let what = format!("the return of tracking number {tracking}");
        let Some(item) = self.get(Key::return_tracking(tracking), &what).await? else {
            return Ok(None);
        };
        let pointer: PointerItem = from_item(item, &what)?;
        let id = ReturnId::parse(pointer.return_id).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))?;
        self.get_return(&id).await
    }

    /// One `TransactWriteItems`: the return's `Put` on `version = :from` first, then the
    /// tracking item, the claims given back, the stock, damaged and ledger items, and the
    /// outbox items. Cancelled by the return: read it (`NotFound` or `Conflict`); by the
    /// tracking item: `TrackingTaken`.
    async fn move_return(
        &self,
        before: &Return,
        next: &Return,
        effects: &ReturnEffects,
    ) -> Result<MoveReturnOutcome, StoreError> {
        let id = &next.return_id;
        let what = format!("move return {id}");
        let key = Key::return_item(id);
        let item = ReturnItem { pk: key.pk, sk: key.sk, state: next.state, version: next.version, ret: next.clone() };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&item, &what)?))
            .condition_expression("#version = :from")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":from", n(before.version))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        let tracking_at = match (&before.tracking_number, &next.tracking_number) {
            (None, Some(tracking)) => {
                items.push(self.pointer_put(Key::return_tracking(tracking), id, &what)?);
                Some(1)
            }
            _ => None,
        };
        if before.state.claims_units() && !next.state.claims_units() {
            for (sku, units) in before.claimed_units() {
                items.push(self.add_to(Key::returned_units(&before.order_id, &sku), -i64::from(units), None, &[], &what)?);
            }
        }
        for back in &effects.stock {
            if back.restock > 0 {
                items.push(self.restock_update(back, &what)?);
            }
            if back.damaged > 0 {
                let set = [
                    ("warehouse", back.warehouse.to_string()),
                    ("merchant_id", back.owner.to_string()),
                    ("sku", back.sku.to_string()),
                ];
                items.push(self.add_to(
                    Key::damaged(&back.warehouse, &back.owner, &back.sku),
                    i64::from(back.damaged),
                    None,
                    &set,
                    &what,
                )?);
            }
            for line in LedgerLine::of_stock_back(back, id) {
                items.push(self.ledger_item(&line)?);
            }
        }
        items.extend(self.outbox_puts(&effects.send, &next.order_id)?);
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(MoveReturnOutcome::Moved),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            return Ok(match self.read_return(Key::return_item(id), &what).await? {
                None => MoveReturnOutcome::NotFound,
                Some(stored) => MoveReturnOutcome::Conflict(stored.state),
            });
        }
        if tracking_at.is_some_and(|i| reasons.get(i).is_some_and(CancelReason::condition_failed)) {
            return Ok(MoveReturnOutcome::TrackingTaken);
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// A strongly consistent `Query` of `DAMAGED#<warehouse>` (by SKU, then owner).
    async fn damaged_stock(&self, warehouse: &WarehouseId) -> Result<Vec<DamagedStock>, StoreError> {
        let what = format!("the damaged stock of {warehouse}");
        self.query_partition(Key::damaged_partition(warehouse), &what)
            .await?
            .into_iter()
            .map(|item| {
                let item: DamagedItem = from_item(item, &what)?;
                Ok(DamagedStock { warehouse: item.warehouse, owner: item.merchant_id, sku: item.sku, units: item.units })
            })
            .collect()
    }
}
