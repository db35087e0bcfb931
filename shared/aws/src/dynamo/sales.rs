//! `SalesHistory` on DynamoDB: each reserved order's sale at `SALES#<merchant>` /
//! `<placed_at>#<order id>` (one partition per merchant, read with one `Query` per page),
//! put in the order's own transaction (`orders.rs`, through `Effects::sale`); and each
//! merchant with sales at `SALES_MERCHANTS` / `<merchant>`, put on its own before the
//! first transaction of a merchant's sale in a process (never in the transaction: every
//! reservation of a merchant writing one item would make them conflict).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use oms_domain::ports::{SalesHistory, StoreError};
use oms_domain::sales::{Sale, SaleKey, SalesPage, MAX_SALES_PAGE};
use oms_domain::MerchantId;
use oms_records::PurchaseRecord;
use serde::{Deserialize, Serialize};

use super::{from_item, merchant_segment, read_item, s, to_item, DynamoStore, Item, Key};
use crate::error::{build_error, sdk_error};

/// A sale: its key beside the fields of its `oms_records::PurchaseRecord`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SaleItem {
    pub pk: String,
    pub sk: String,
    #[serde(flatten)]
    pub record: PurchaseRecord,
}

impl TryFrom<SaleItem> for Sale {
    type Error = super::items::CorruptItem;
    fn try_from(item: SaleItem) -> Result<Self, Self::Error> {
        Ok(Sale::try_from(item.record)?)
    }
}

/// A merchant that has sales: `SALES_MERCHANTS` / `<merchant>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MerchantItem {
    pk: String,
    sk: String,
    merchant_id: String,
}

impl Key {
    /// The partition of one merchant's sales history: `SALES#<merchant>` (escaped).
    pub fn sales_partition(merchant: &MerchantId) -> String {
        format!("SALES#{}", merchant_segment(merchant))
    }

    /// One sale: `SALES#<merchant>` / `<placed_at>#<order id>` (`SaleKey::encode`).
    pub fn sale(merchant: &MerchantId, key: &SaleKey) -> Self {
        Self { pk: Self::sales_partition(merchant), sk: key.encode() }
    }

    /// The partition listing every merchant with sales.
    pub const SALES_MERCHANTS: &'static str = "SALES_MERCHANTS";
}

impl DynamoStore {
    /// The transaction item that puts `sale` (replacing an earlier put of the same order).
    pub(crate) fn sale_put(&self, sale: &Sale) -> Result<TransactWriteItem, StoreError> {
        let what = format!("the sale of order {}", sale.order_id);
        let key = Key::sale(&sale.merchant_id, &sale.key());
        let item = to_item(&SaleItem { pk: key.pk, sk: key.sk, record: PurchaseRecord::from(sale) }, &what)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| build_error(format!("Failed to build the write of {what}"), e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Records that `merchant` has sales, once per process and merchant: an unconditional
    /// `PutItem` before the sale's transaction (so the list never misses a merchant with
    /// sales; a transaction that then fails leaves a merchant with none, which the port allows).
    pub(crate) async fn mark_merchant_with_sales(&self, merchant: &MerchantId) -> Result<(), StoreError> {
        if self.merchants_marked.lock().map(|marked| marked.contains(merchant)).unwrap_or(false) {
            return Ok(());
        }
        let item =
            MerchantItem { pk: Key::SALES_MERCHANTS.to_owned(), sk: merchant.to_string(), merchant_id: merchant.to_string() };
        let what = format!("merchant {merchant} among those with sales");
        self.put(to_item(&item, &what)?, &what).await?;
        if let Ok(mut marked) = self.merchants_marked.lock() {
            marked.insert(merchant.clone());
        }
        Ok(())
    }
}

#[async_trait]
impl SalesHistory for DynamoStore {
    /// One strongly consistent `Query` of `SALES#<merchant>`, ascending, `Limit`, from
    /// `sk > <cursor>` (following `LastEvaluatedKey` only when a page came back short of
    /// its limit without reaching the end, which a 1 MB page can do).
    async fn sales(&self, merchant: &MerchantId, after: Option<&SaleKey>, limit: usize) -> Result<SalesPage, StoreError> {
        let what = format!("the sales of merchant {merchant}");
        let limit = limit.clamp(1, MAX_SALES_PAGE);
        let mut values = HashMap::from([(":pk".to_owned(), s(Key::sales_partition(merchant)))]);
        let condition = match after {
            Some(after) => {
                values.insert(":after".to_owned(), s(after.encode()));
                "pk = :pk AND sk > :after"
            }
            None => "pk = :pk",
        };
        let mut sales = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .limit(i32::try_from(limit - sales.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
            for item in output.items.unwrap_or_default() {
                sales.push(read_item::<SaleItem, Sale>(item, &what)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() && sales.len() < limit => start = Some(key),
                _ => break,
            }
        }
        let next = (sales.len() == limit).then(|| sales.last().map(Sale::key)).flatten();
        Ok(SalesPage { sales, next })
    }

    /// A strongly consistent `Query` of the partition `SALES_MERCHANTS`.
    async fn merchants_with_sales(&self) -> Result<Vec<MerchantId>, StoreError> {
        let what = "the merchants with sales";
        let items = self.query_partition(Key::SALES_MERCHANTS.to_owned(), what).await?;
        let mut merchants = items
            .into_iter()
            .map(|item| {
                let item: MerchantItem = from_item(item, what)?;
                MerchantId::parse(item.merchant_id).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        merchants.sort();
        Ok(merchants)
    }
}
