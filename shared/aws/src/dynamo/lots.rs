//! Lots of each stock on DynamoDB (`docs/dynamodb.md`, "Lots"): the stock item of a
//! (warehouse, owner, SKU) carries `lots`, a list with one entry per lot receipt (its code,
//! expiry, units and moment), appended by the receipt's own stock update, so recording a
//! lot costs no item of the receipt's transaction. What remains of each lot is derived
//! from those entries and the item's `on_hand` (`oms_domain::lot::balances`).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, NaiveDate, Utc};
use oms_domain::ledger::LedgerLine;
use oms_domain::lot::{self, LotBalance, LotReceipt, LotTag};
use oms_domain::ports::{GoodsReceiptOutcome, StoreError};
use oms_domain::supply::GoodsReceipt;
use oms_domain::{MerchantId, ReceiptId, Sku, WarehouseId};
use serde::Deserialize;

use super::{from_item, merchant_segment, n, s, unexplained, CancelReason, DynamoStore, Key, Transact};
use crate::error::{build_error, sdk_error};

impl Key {
    /// A day's expired-lot write-off taken: `LOT_SWEEP#<day>` / `LOT_SWEEP`.
    pub fn lot_sweep(day: NaiveDate) -> Self {
        Self { pk: format!("LOT_SWEEP#{day}"), sk: "LOT_SWEEP".to_owned() }
    }

    /// A goods receipt applied (no purchase order):
    /// `GOODS_RECEIPT#<warehouse>#MERCHANT#<owner>` / `<receipt id>`.
    pub fn goods_receipt(warehouse: &WarehouseId, owner: &MerchantId, id: &ReceiptId) -> Self {
        Self { pk: format!("GOODS_RECEIPT#{warehouse}#MERCHANT#{}", merchant_segment(owner)), sk: id.to_string() }
    }
}

/// One entry of a stock item's `lots`.
#[derive(Debug, Deserialize)]
struct LotEntry {
    lot: String,
    #[serde(default)]
    expires_on: Option<NaiveDate>,
    quantity: u32,
    at: DateTime<Utc>,
}

/// What `lots_of` reads of a stock item.
#[derive(Debug, Deserialize)]
struct StockLotsItem {
    warehouse: String,
    merchant_id: String,
    on_hand: u32,
    #[serde(default)]
    lots: Vec<LotEntry>,
}

/// A lot receipt as the one-entry list its stock update appends.
fn lot_entry(receipt: &LotReceipt) -> AttributeValue {
    let mut entry = HashMap::from([
        ("lot".to_owned(), s(receipt.tag.lot.clone())),
        ("quantity".to_owned(), n(receipt.quantity)),
        ("at".to_owned(), s(receipt.received_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))),
    ]);
    if let Some(day) = receipt.tag.expires_on {
        entry.insert("expires_on".to_owned(), s(day.to_string()));
    }
    AttributeValue::L(vec![AttributeValue::M(entry)])
}

impl DynamoStore {
    /// The stock update of a received line: on hand and available grow by its units (the
    /// item made at 0 when never counted), conditional on staying within `MAX_ON_HAND`;
    /// the line's lot receipt, when it has one, is appended to the item's `lots`. Every
    /// receipt into stock (a purchase order's) writes its lines with this.
    pub(crate) fn receive_into_stock(
        &self,
        line: &LedgerLine,
        lot: Option<&LotReceipt>,
    ) -> Result<TransactWriteItem, StoreError> {
        let q = u32::try_from(line.delta_on_hand).map_err(|_| StoreError::msg("a receipt line out of range"))?;
        let room = oms_domain::stock::MAX_ON_HAND.saturating_sub(q);
        let mut names = HashMap::from([
            ("#warehouse".to_owned(), "warehouse".to_owned()),
            ("#merchant_id".to_owned(), "merchant_id".to_owned()),
            ("#sku".to_owned(), "sku".to_owned()),
            ("#on_hand".to_owned(), "on_hand".to_owned()),
            ("#reserved".to_owned(), "reserved".to_owned()),
            ("#available".to_owned(), "available".to_owned()),
        ]);
        let mut values = HashMap::from([
            (":warehouse".to_owned(), s(line.warehouse.as_str())),
            (":merchant_id".to_owned(), s(line.owner.as_str())),
            (":sku".to_owned(), s(line.sku.as_str())),
            (":q".to_owned(), n(q)),
            (":zero".to_owned(), n(0)),
            (":room".to_owned(), n(room)),
        ]);
        let mut expression = "SET #warehouse = :warehouse, #merchant_id = :merchant_id, #sku = :sku, \
             #on_hand = if_not_exists(#on_hand, :zero) + :q, #reserved = if_not_exists(#reserved, :zero), \
             #available = if_not_exists(#available, :zero) + :q"
            .to_owned();
        if let Some(receipt) = lot {
            expression.push_str(", #lots = list_append(if_not_exists(#lots, :no_lots), :lot)");
            names.insert("#lots".to_owned(), "lots".to_owned());
            values.insert(":no_lots".to_owned(), AttributeValue::L(Vec::new()));
            values.insert(":lot".to_owned(), lot_entry(receipt));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::stock(&line.warehouse, &line.owner, &line.sku).into_map()))
            .update_expression(expression)
            .condition_expression("attribute_not_exists(pk) OR #on_hand <= :room")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| build_error(format!("Failed to build the receipt of {}", line.sku), e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// A goods receipt in one `TransactWriteItems`: its marker (`attribute_not_exists`,
    /// else `Duplicate`), then per line the stock update and the `receive` ledger entry
    /// (at most 1 + 2 x 30 items; a stock update's failed condition is `StockFull`).
    pub(crate) async fn apply_goods_receipt(&self, receipt: &GoodsReceipt) -> Result<GoodsReceiptOutcome, StoreError> {
        let id = &receipt.receipt.receipt_id;
        let what = format!("apply goods receipt {id} in {}", receipt.warehouse);
        let mut marker = Key::goods_receipt(&receipt.warehouse, &receipt.owner, id).into_map();
        marker.insert("warehouse".to_owned(), s(receipt.warehouse.as_str()));
        marker.insert("merchant_id".to_owned(), s(receipt.owner.as_str()));
        marker.insert("receipt_id".to_owned(), s(id.as_str()));
        marker.insert(
            "received_at".to_owned(),
            s(receipt.receipt.received_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        let lines = receipt.ledger_lines();
        let lots = receipt.lot_receipts();
        let mut items = vec![self.put_new(marker, &what)?];
        let mut entries = Vec::with_capacity(lines.len());
        for line in &lines {
            items.push(self.receive_into_stock(line, lots.iter().find(|l| l.sku == line.sku))?);
            let (ledger, entry) = self.ledger_put(line)?;
            items.push(ledger);
            entries.push(entry);
        }
        match self.transact(items, &what).await? {
            Transact::Written => Ok(GoodsReceiptOutcome::Received(entries)),
            Transact::Cancelled(reasons) if reasons.first().is_some_and(CancelReason::condition_failed) => {
                Ok(GoodsReceiptOutcome::Duplicate)
            }
            Transact::Cancelled(reasons) => {
                // Items 1, 3, 5, ... are the stock updates, in the order of the lines.
                let full =
                    lines.iter().enumerate().find(|(i, _)| reasons.get(1 + 2 * i).is_some_and(CancelReason::condition_failed));
                match full {
                    Some((_, line)) => Ok(GoodsReceiptOutcome::StockFull(line.sku.clone())),
                    None => Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons)))),
                }
            }
        }
    }

    /// One `PutItem` of the day's marker on `attribute_not_exists(pk)`.
    pub(crate) async fn claim_lot_sweep_of(&self, day: NaiveDate) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Key::lot_sweep(day).into_map()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(sdk_error(format!("Failed to claim the lot sweep of {day}"), err)),
            },
        }
    }

    /// What remains of every lot of the SKU's stocks: one query of its stock partition.
    pub(crate) async fn lot_balances(&self, sku: &Sku) -> Result<Vec<LotBalance>, StoreError> {
        let what = format!("the lots of {sku}");
        let items = self.query_partition(Key::stock_partition(sku), &what).await?;
        let mut stocks: Vec<StockLotsItem> =
            items.into_iter().map(|item| from_item::<StockLotsItem>(item, &what)).collect::<Result<_, _>>()?;
        stocks.sort_by(|a, b| (&a.warehouse, &a.merchant_id).cmp(&(&b.warehouse, &b.merchant_id)));
        let mut balances = Vec::new();
        for stock in stocks.into_iter().filter(|s| !s.lots.is_empty()) {
            let corrupt = |e: oms_domain::ValidationError| StoreError::new(format!("Failed to read {what}"), e);
            let warehouse = WarehouseId::parse(stock.warehouse).map_err(corrupt)?;
            let owner = MerchantId::parse(stock.merchant_id).map_err(corrupt)?;
            let recorded = lot::recorded_lots(
                stock.lots.into_iter().map(|e| (LotTag { lot: e.lot, expires_on: e.expires_on }, e.quantity, e.at)),
            );
            balances.extend(lot::balances(&warehouse, &owner, sku, stock.on_hand, recorded));
        }
        Ok(balances)
    }
}
