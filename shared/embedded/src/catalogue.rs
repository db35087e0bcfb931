//! `SkuCatalogue` and `RateTables`: SKU facts and carriers' rate tables as JSON bodies
//! (`oms_records::SkuRecord`, `RateTableRecord`) keyed by SKU and by carrier.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::carrier::RateTable;
use oms_domain::catalogue::SkuFacts;
use oms_domain::ports::{RateTables, SkuCatalogue, StoreError};
use oms_domain::{CarrierId, Sku};
use oms_records::{RateTableRecord, SkuRecord};
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

fn sku_from_body(body: &str) -> anyhow::Result<SkuFacts> {
    let record: SkuRecord = serde_json::from_str(body).context("The stored SKU is not valid JSON of SKU facts")?;
    Ok(SkuFacts::try_from(record)?)
}

fn rates_from_body(body: &str) -> anyhow::Result<RateTable> {
    let record: RateTableRecord = serde_json::from_str(body).context("The stored rate table is not valid JSON of one")?;
    Ok(RateTable::try_from(record)?)
}

#[async_trait]
impl SkuCatalogue for Embedded {
    async fn put_sku(&self, facts: &SkuFacts) -> Result<(), StoreError> {
        let sku = facts.sku.clone();
        let body = serde_json::to_string(&SkuRecord::from(facts))
            .map_err(|e| StoreError::new(format!("Failed to serialise SKU {sku}"), e))?;
        let key = sku.to_string();
        self.db
            .call(move |conn| {
                conn.execute_cached(
                    "INSERT INTO skus (sku, body) VALUES (?1, ?2) ON CONFLICT (sku) DO UPDATE SET body = excluded.body",
                    params![key, body],
                )
                .context("Failed to write the SKU row")?;
                Ok(())
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to store SKU {sku}"), e))
    }

    async fn get_sku(&self, sku: &Sku) -> Result<Option<SkuFacts>, StoreError> {
        let key = sku.to_string();
        self.db
            .call(move |conn| {
                conn.query_row_cached("SELECT body FROM skus WHERE sku = ?1", [key], |row| row.get(0))
                    .optional()
                    .context("Failed to query the skus table")?
                    .map(|body: String| sku_from_body(&body))
                    .transpose()
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to read SKU {sku}"), e))
    }
}

#[async_trait]
impl RateTables for Embedded {
    async fn put_rates(&self, table: &RateTable) -> Result<(), StoreError> {
        let carrier = table.carrier.clone();
        let body = serde_json::to_string(&RateTableRecord::from(table))
            .map_err(|e| StoreError::new(format!("Failed to serialise the rates of {carrier}"), e))?;
        let key = carrier.to_string();
        self.db
            .call(move |conn| {
                conn.execute_cached(
                    "INSERT INTO carrier_rates (carrier_id, body) VALUES (?1, ?2)
                     ON CONFLICT (carrier_id) DO UPDATE SET body = excluded.body",
                    params![key, body],
                )
                .context("Failed to write the rate table row")?;
                Ok(())
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to store the rates of carrier {carrier}"), e))
    }

    async fn get_rates(&self, carrier: &CarrierId) -> Result<Option<RateTable>, StoreError> {
        let key = carrier.to_string();
        self.db
            .call(move |conn| {
                conn.query_row_cached("SELECT body FROM carrier_rates WHERE carrier_id = ?1", [key], |row| row.get(0))
                    .optional()
                    .context("Failed to query the carrier_rates table")?
                    .map(|body: String| rates_from_body(&body))
                    .transpose()
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the rates of carrier {carrier}"), e))
    }

    async fn list_rates(&self) -> Result<Vec<RateTable>, StoreError> {
        self.db
            .call(|conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM carrier_rates ORDER BY carrier_id")
                    .context("Failed to prepare the listing")?;
                let bodies = stmt
                    .query_map([], |row| row.get::<_, String>(0))
                    .context("Failed to list the rate tables")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the rate tables")?;
                bodies.iter().map(|body| rates_from_body(body)).collect()
            })
            .await
            .map_err(|e| StoreError::new("Failed to list the carriers' rate tables", e))
    }
}
