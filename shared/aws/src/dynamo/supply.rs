//! `SupplyStore` on DynamoDB (keys in `docs/dynamodb.md`, "Suppliers and purchase orders"):
//! a supplier at `SUPPLIER#<id>` / `SUPPLIER` (whose merchant a put is conditional on) and
//! a copy in its merchant's partition `SUPPLIERS#<merchant>` / `<id>`; a purchase order at
//! `PO#<id>` / `PO` with its `version`, a copy in `PURCHASE_ORDERS#<merchant>` / `<id>` (the
//! listing), its reference marker `PO_REF#<merchant>#<reference>` / `PO_REF`, and per line
//! still to come an `INCOMING#<sku>` / `<id>` item. A receipt is one `TransactWriteItems`
//! conditional on the order's version: the order and its copy, per line the stock update
//! (which appends the line's lot, see `lots.rs`), the `receive` ledger entry and the
//! incoming item (at most 2 + 3 x 30 items).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use oms_domain::ports::{CreatePoOutcome, GoodsReceiptOutcome, PutSupplier, ReceiveOutcome, StoreError, SupplyStore};
use oms_domain::supply::{GoodsReceipt, Incoming, PoPage, PoQuery, PurchaseOrder, Receipt, ReceiptRefusal, Supplier};
use oms_domain::{MerchantId, PurchaseOrderId, Sku, SupplierId};
use serde::{Deserialize, Serialize};

use super::{from_item, merchant_segment, n, s, to_item, unexplained, CancelReason, DynamoStore, Item, Key, Transact};
use crate::budget::backoff;
use crate::error::build_error;

/// How often a receipt reads the order again after another write changed it.
const RECEIPT_ATTEMPTS: u32 = 5;

impl Key {
    /// A supplier: `SUPPLIER#<id>` / `SUPPLIER`.
    pub fn supplier(id: &SupplierId) -> Self {
        Self { pk: format!("SUPPLIER#{id}"), sk: "SUPPLIER".to_owned() }
    }

    /// A merchant's copy of its supplier: `SUPPLIERS#<merchant>` / `<id>`.
    pub fn merchant_supplier(merchant: &MerchantId, id: &SupplierId) -> Self {
        Self { pk: Self::merchant_suppliers(merchant), sk: id.to_string() }
    }

    pub fn merchant_suppliers(merchant: &MerchantId) -> String {
        format!("SUPPLIERS#{}", merchant_segment(merchant))
    }

    /// A purchase order: `PO#<id>` / `PO`.
    pub fn purchase_order(id: &PurchaseOrderId) -> Self {
        Self { pk: format!("PO#{id}"), sk: "PO".to_owned() }
    }

    /// A merchant's copy of its purchase order: `PURCHASE_ORDERS#<merchant>` / `<id>`.
    pub fn merchant_purchase_order(merchant: &MerchantId, id: &PurchaseOrderId) -> Self {
        Self { pk: Self::merchant_purchase_orders(merchant), sk: id.to_string() }
    }

    pub fn merchant_purchase_orders(merchant: &MerchantId) -> String {
        format!("PURCHASE_ORDERS#{}", merchant_segment(merchant))
    }

    /// A merchant's purchase order reference: `PO_REF#<merchant>#<reference>` / `PO_REF`.
    pub fn po_reference(merchant: &MerchantId, reference: &str) -> Self {
        Self { pk: format!("PO_REF#{}#{reference}", merchant_segment(merchant)), sk: "PO_REF".to_owned() }
    }

    /// Units of a SKU an open purchase order brings: `INCOMING#<sku>` / `<po id>`.
    pub fn incoming(sku: &Sku, po: &PurchaseOrderId) -> Self {
        Self { pk: Self::incoming_partition(sku), sk: po.to_string() }
    }

    pub fn incoming_partition(sku: &Sku) -> String {
        format!("INCOMING#{sku}")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct BodyItem {
    pk: String,
    sk: String,
    merchant_id: String,
    #[serde(default)]
    version: u64,
    body: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct RefItem {
    pk: String,
    sk: String,
    purchase_order_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct IncomingItem {
    pk: String,
    sk: String,
    merchant_id: String,
    warehouse: String,
    sku: String,
    units: u32,
    expected_at: String,
}

fn json<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::new(format!("Failed to write {what} as JSON"), e))
}

fn body_of<T: serde::de::DeserializeOwned>(item: Item, what: &str) -> Result<(T, u64), StoreError> {
    let stored: BodyItem = from_item(item, what)?;
    let value =
        serde_json::from_str(&stored.body).map_err(|e| StoreError::new(format!("Failed to read {what} from its body"), e))?;
    Ok((value, stored.version))
}

fn put(
    table: &str,
    item: Item,
    condition: Option<(&str, HashMap<String, aws_sdk_dynamodb::types::AttributeValue>)>,
    what: &str,
) -> Result<TransactWriteItem, StoreError> {
    let mut builder = Put::builder().table_name(table).set_item(Some(item));
    if let Some((expression, values)) = condition {
        builder = builder.condition_expression(expression);
        if !values.is_empty() {
            builder = builder.set_expression_attribute_values(Some(values));
        }
    }
    let put = builder.build().map_err(|e| build_error(format!("Failed to build the write of {what}"), e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl DynamoStore {
    fn po_items(&self, po: &PurchaseOrder) -> Result<[Item; 2], StoreError> {
        let what = format!("purchase order {}", po.purchase_order_id);
        let body = json(po, &what)?;
        let key = Key::purchase_order(&po.purchase_order_id);
        let copy = Key::merchant_purchase_order(&po.merchant_id, &po.purchase_order_id);
        let item = |key: Key| BodyItem {
            pk: key.pk,
            sk: key.sk,
            merchant_id: po.merchant_id.to_string(),
            version: po.version,
            body: body.clone(),
        };
        Ok([to_item(&item(key), &what)?, to_item(&item(copy), &what)?])
    }

    /// The incoming item of each line of `po`: a `Put` while units are still to come, else a
    /// `Delete`.
    fn incoming_writes(&self, po: &PurchaseOrder) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut writes = Vec::new();
        for line in &po.lines {
            let key = Key::incoming(&line.sku, &po.purchase_order_id);
            if line.outstanding() > 0 {
                let item = IncomingItem {
                    pk: key.pk,
                    sk: key.sk,
                    merchant_id: po.merchant_id.to_string(),
                    warehouse: po.warehouse.to_string(),
                    sku: line.sku.to_string(),
                    units: line.outstanding(),
                    expected_at: po.expected_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                };
                writes.push(put(&self.table, to_item(&item, "an incoming item")?, None, "an incoming item")?);
            } else {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key.into_map()))
                    .build()
                    .map_err(|e| build_error("Failed to build the removal of an incoming item", e))?;
                writes.push(TransactWriteItem::builder().delete(delete).build());
            }
        }
        Ok(writes)
    }

    async fn read_po(&self, id: &PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError> {
        let what = format!("purchase order {id}");
        match self.get(Key::purchase_order(id), &what).await? {
            Some(item) => {
                let (po, version): (PurchaseOrder, u64) = body_of(item, &what)?;
                Ok(Some(PurchaseOrder { version, ..po }))
            }
            None => Ok(None),
        }
    }

    async fn po_by_reference(&self, merchant: &MerchantId, reference: &str) -> Result<Option<PurchaseOrder>, StoreError> {
        let Some(item) = self.get(Key::po_reference(merchant, reference), "a purchase order reference").await? else {
            return Ok(None);
        };
        let marker: RefItem = from_item(item, "a purchase order reference")?;
        let id = PurchaseOrderId::parse(marker.purchase_order_id)
            .map_err(|e| StoreError::new("A purchase order reference names no valid id", e))?;
        self.read_po(&id).await
    }
}

#[async_trait]
impl SupplyStore for DynamoStore {
    /// One transaction: the supplier `Put` on `attribute_not_exists(pk) OR merchant_id =
    /// :merchant` and its merchant's copy; a failed condition is `OwnedByAnother`.
    async fn put_supplier(&self, supplier: &Supplier) -> Result<PutSupplier, StoreError> {
        let what = format!("supplier {}", supplier.supplier_id);
        let existed = self.get(Key::supplier(&supplier.supplier_id), &what).await?.is_some();
        let body = json(supplier, &what)?;
        let item = |key: Key| BodyItem {
            pk: key.pk,
            sk: key.sk,
            merchant_id: supplier.merchant_id.to_string(),
            version: 0,
            body: body.clone(),
        };
        let main = to_item(&item(Key::supplier(&supplier.supplier_id)), &what)?;
        let copy = to_item(&item(Key::merchant_supplier(&supplier.merchant_id, &supplier.supplier_id)), &what)?;
        let condition = HashMap::from([(":merchant".to_owned(), s(supplier.merchant_id.as_str()))]);
        let items = vec![
            put(&self.table, main, Some(("attribute_not_exists(pk) OR merchant_id = :merchant", condition)), &what)?,
            put(&self.table, copy, None, &what)?,
        ];
        match self.transact(items, &format!("store {what}")).await? {
            Transact::Written => Ok(if existed { PutSupplier::Updated } else { PutSupplier::Created }),
            Transact::Cancelled(reasons) if reasons.first().is_some_and(CancelReason::condition_failed) => {
                Ok(PutSupplier::OwnedByAnother)
            }
            Transact::Cancelled(reasons) => Err(StoreError::msg(format!("Failed to store {what}: {}", unexplained(&reasons)))),
        }
    }

    async fn get_supplier(&self, id: &SupplierId) -> Result<Option<Supplier>, StoreError> {
        let what = format!("supplier {id}");
        match self.get(Key::supplier(id), &what).await? {
            Some(item) => Ok(Some(body_of::<Supplier>(item, &what)?.0)),
            None => Ok(None),
        }
    }

    /// A strongly consistent `Query` of `SUPPLIERS#<merchant>`.
    async fn suppliers_of(&self, merchant: &MerchantId) -> Result<Vec<Supplier>, StoreError> {
        let items = self.query_partition(Key::merchant_suppliers(merchant), "the suppliers").await?;
        items.into_iter().map(|item| Ok(body_of::<Supplier>(item, "a supplier")?.0)).collect()
    }

    /// One transaction: the order (`attribute_not_exists`), its copy, its reference marker
    /// (`attribute_not_exists`: a failure is `Duplicate`) and its incoming items.
    async fn create_purchase_order(&self, po: &PurchaseOrder) -> Result<CreatePoOutcome, StoreError> {
        let what = format!("purchase order {}", po.purchase_order_id);
        if let Some(reference) = &po.reference {
            if let Some(first) = self.po_by_reference(&po.merchant_id, reference).await? {
                return Ok(CreatePoOutcome::Duplicate(Box::new(first)));
            }
        }
        let [main, copy] = self.po_items(po)?;
        let mut items = vec![self.put_new(main, &what)?, put(&self.table, copy, None, &what)?];
        if let Some(reference) = &po.reference {
            let key = Key::po_reference(&po.merchant_id, reference);
            let marker = RefItem { pk: key.pk, sk: key.sk, purchase_order_id: po.purchase_order_id.to_string() };
            items.push(self.put_new(to_item(&marker, &what)?, &what)?);
        }
        items.extend(self.incoming_writes(po)?);
        match self.transact(items, &format!("store {what}")).await? {
            Transact::Written => Ok(CreatePoOutcome::Created),
            Transact::Cancelled(reasons)
                if reasons.get(2).is_some_and(CancelReason::condition_failed) && po.reference.is_some() =>
            {
                let reference = po.reference.as_deref().unwrap_or_default();
                match self.po_by_reference(&po.merchant_id, reference).await? {
                    Some(first) => Ok(CreatePoOutcome::Duplicate(Box::new(first))),
                    None => Err(StoreError::msg(format!("Failed to store {what}: its reference names no order"))),
                }
            }
            Transact::Cancelled(reasons) => Err(StoreError::msg(format!("Failed to store {what}: {}", unexplained(&reasons)))),
        }
    }

    async fn get_purchase_order(&self, id: &PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError> {
        self.read_po(id).await
    }

    /// A strongly consistent `Query` of `PURCHASE_ORDERS#<merchant>` after the cursor,
    /// filtered as it is read until the page is full.
    async fn purchase_orders(
        &self,
        query: &PoQuery,
        after: Option<&PurchaseOrderId>,
        limit: usize,
    ) -> Result<PoPage, StoreError> {
        let limit = limit.clamp(1, oms_domain::ports::MAX_PAGE_SIZE);
        let mut start: Option<Item> = after.map(|a| Key::merchant_purchase_order(&query.merchant, a).into_map());
        let mut matches = Vec::new();
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(Key::merchant_purchase_orders(&query.merchant)))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| crate::error::sdk_error("Failed to query the purchase orders", e))?;
            for item in output.items.unwrap_or_default() {
                let (po, version): (PurchaseOrder, u64) = body_of(item, "a purchase order")?;
                let po = PurchaseOrder { version, ..po };
                if query.matches(&po) {
                    matches.push(po);
                    if matches.len() > limit {
                        return Ok(PoPage::from_matches(matches, limit));
                    }
                }
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(PoPage::from_matches(matches, limit)),
            }
        }
    }

    /// A strongly consistent `Query` of `INCOMING#<sku>`.
    async fn incoming(&self, sku: &Sku) -> Result<Vec<Incoming>, StoreError> {
        let items = self.query_partition(Key::incoming_partition(sku), "the incoming units").await?;
        items
            .into_iter()
            .map(|item| {
                let stored: IncomingItem = from_item(item, "an incoming item")?;
                let bad = |e: &dyn std::fmt::Display| StoreError::msg(format!("Failed to read an incoming item: {e}"));
                Ok(Incoming {
                    purchase_order_id: PurchaseOrderId::parse(stored.sk).map_err(|e| bad(&e))?,
                    merchant_id: MerchantId::parse(stored.merchant_id).map_err(|e| bad(&e))?,
                    warehouse: oms_domain::WarehouseId::parse(stored.warehouse).map_err(|e| bad(&e))?,
                    sku: Sku::parse(stored.sku).map_err(|e| bad(&e))?,
                    units: stored.units,
                    expected_at: chrono::DateTime::parse_from_rfc3339(&stored.expected_at)
                        .map_err(|e| bad(&e))?
                        .with_timezone(&chrono::Utc),
                })
            })
            .collect()
    }

    /// Reads the order, decides with `PurchaseOrder::receive`, and writes one transaction
    /// whose first item is the order's `Put` on `version = :seen`; a lost race reads again.
    async fn receive(&self, id: &PurchaseOrderId, receipt: &Receipt) -> Result<ReceiveOutcome, StoreError> {
        let what = format!("receive {} on purchase order {id}", receipt.receipt_id);
        for attempt in 1..=RECEIPT_ATTEMPTS {
            let Some(po) = self.read_po(id).await? else {
                return Ok(ReceiveOutcome::NotFound);
            };
            if po.has_receipt(&receipt.receipt_id) {
                return Ok(ReceiveOutcome::Duplicate(Box::new(po)));
            }
            let (next, lines) = match po.receive(receipt) {
                Ok(applied) => applied,
                Err(refusal) => return Ok(ReceiveOutcome::Refused(refusal)),
            };
            let [main, copy] = self.po_items(&next)?;
            let seen = HashMap::from([(":seen".to_owned(), n(po.version))]);
            let mut items =
                vec![put(&self.table, main, Some(("version = :seen", seen)), &what)?, put(&self.table, copy, None, &what)?];
            let lots = receipt.lot_receipts(&po.warehouse, &po.merchant_id);
            let mut entries = Vec::with_capacity(lines.len());
            for line in &lines {
                let lot = lots.iter().find(|l| l.sku == line.sku);
                items.push(self.receive_into_stock(line, lot)?);
                let (ledger, entry) = self.ledger_put(line)?;
                items.push(ledger);
                entries.push(entry);
            }
            items.extend(self.incoming_writes(&next)?);
            match self.transact(items, &what).await? {
                Transact::Written => return Ok(ReceiveOutcome::Received(Box::new(next), entries)),
                Transact::Cancelled(reasons) if reasons.first().is_some_and(CancelReason::condition_failed) => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Transact::Cancelled(reasons) => {
                    // Items 2, 4, 6, ... are the stock updates, in the order of the lines.
                    let full = lines
                        .iter()
                        .enumerate()
                        .find(|(i, _)| reasons.get(2 + 2 * i).is_some_and(CancelReason::condition_failed));
                    if let Some((_, line)) = full {
                        return Ok(ReceiveOutcome::Refused(ReceiptRefusal::StockFull(line.sku.clone())));
                    }
                    return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
                }
            }
        }
        Err(StoreError::msg(format!("Failed to {what}: the purchase order kept changing")))
    }

    async fn receive_goods(&self, receipt: &GoodsReceipt) -> Result<GoodsReceiptOutcome, StoreError> {
        self.apply_goods_receipt(receipt).await
    }
}
