//! `SkuMappingStore`: one row per (channel, merchant, channel SKU), holding our SKU.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::order::Channel;
use oms_domain::ports::{SkuMappingStore, StoreError};
use oms_domain::sku_mapping::SkuMapping;
use oms_domain::{MerchantId, Sku};
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

#[async_trait]
impl SkuMappingStore for Embedded {
    async fn put_sku_mapping(&self, mapping: &SkuMapping) -> Result<(), StoreError> {
        let failed = |e| StoreError::new(format!("Failed to map {} SKU {}", mapping.channel, mapping.channel_sku), e);
        let row =
            (mapping.channel.as_str(), mapping.merchant_id.to_string(), mapping.channel_sku.to_string(), mapping.sku.to_string());
        self.db
            .call(move |conn| {
                conn.execute_cached(
                    "INSERT INTO sku_mappings (channel, merchant_id, channel_sku, sku) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (channel, merchant_id, channel_sku) DO UPDATE SET sku = excluded.sku",
                    params![row.0, row.1, row.2, row.3],
                )
                .context("Failed to write the mapping row")?;
                Ok(())
            })
            .await
            .map_err(failed)
    }

    async fn mapped_sku(&self, channel: Channel, merchant: &MerchantId, channel_sku: &Sku) -> Result<Option<Sku>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the mapping of {channel} SKU {channel_sku}"), e);
        let key = (channel.as_str(), merchant.to_string(), channel_sku.to_string());
        self.db
            .call(move |conn| {
                let sku: Option<String> = conn
                    .prepare_cached("SELECT sku FROM sku_mappings WHERE channel = ?1 AND merchant_id = ?2 AND channel_sku = ?3")
                    .context("Failed to prepare the mapping lookup")?
                    .query_row(params![key.0, key.1, key.2], |row| row.get(0))
                    .optional()
                    .context("Failed to look up the mapping")?;
                sku.map(|raw| Sku::parse(raw).map_err(|e| anyhow::anyhow!("A mapping row names an invalid SKU: {e}"))).transpose()
            })
            .await
            .map_err(failed)
    }
}
