//! `SkuCatalogue` and `RateTables` on DynamoDB: a SKU's facts at `SKU#<sku>` / `FACTS`,
//! every carrier's rate table in the one partition `CARRIERS`, each item its key beside
//! the fields of its `oms_records` record.

use async_trait::async_trait;
use oms_domain::carrier::RateTable;
use oms_domain::catalogue::SkuFacts;
use oms_domain::ports::{RateTables, SkuCatalogue, StoreError};
use oms_domain::{CarrierId, Sku};

use super::items::{RateTableItem, SkuItem};
use super::{read_item, to_item, DynamoStore, Key};

#[async_trait]
impl SkuCatalogue for DynamoStore {
    /// An unconditional `PutItem` of `SKU#<sku>` / `FACTS`.
    async fn put_sku(&self, facts: &SkuFacts) -> Result<(), StoreError> {
        let what = format!("the facts of SKU {}", facts.sku);
        self.put(to_item(&SkuItem::from(facts), &what)?, &what).await
    }

    /// A strongly consistent `GetItem` of `SKU#<sku>` / `FACTS`.
    async fn get_sku(&self, sku: &Sku) -> Result<Option<SkuFacts>, StoreError> {
        let what = format!("the facts of SKU {sku}");
        match self.get(Key::sku_facts(sku), &what).await? {
            Some(item) => Ok(Some(read_item::<SkuItem, _>(item, &what)?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl RateTables for DynamoStore {
    /// An unconditional `PutItem` of `CARRIERS` / `<carrier id>`.
    async fn put_rates(&self, table: &RateTable) -> Result<(), StoreError> {
        let what = format!("the rates of carrier {}", table.carrier);
        self.put(to_item(&RateTableItem::from(table), &what)?, &what).await
    }

    /// A strongly consistent `GetItem` of `CARRIERS` / `<carrier id>`.
    async fn get_rates(&self, carrier: &CarrierId) -> Result<Option<RateTable>, StoreError> {
        let what = format!("the rates of carrier {carrier}");
        match self.get(Key::rate_table(carrier), &what).await? {
            Some(item) => Ok(Some(read_item::<RateTableItem, _>(item, &what)?)),
            None => Ok(None),
        }
    }

    /// A strongly consistent `Query` of the partition `CARRIERS`, in sort key (= id) order.
    async fn list_rates(&self) -> Result<Vec<RateTable>, StoreError> {
        let items = self.query_partition(Key::CARRIERS.to_owned(), "the carriers' rate tables").await?;
        items.into_iter().map(|item| read_item::<RateTableItem, _>(item, "a rate table")).collect()
    }
}
