//! `SkuMappingStore` on DynamoDB: one item per mapping, `SKUMAP#<channel>#<merchant>` /
//! `<channel sku>`, holding our SKU.

use async_trait::async_trait;
use oms_domain::order::Channel;
use oms_domain::ports::{SkuMappingStore, StoreError};
use oms_domain::sku_mapping::SkuMapping;
use oms_domain::{MerchantId, Sku};
use serde::{Deserialize, Serialize};

use super::{from_item, to_item, DynamoStore, Key};

/// A mapping: its key and our SKU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SkuMappingItem {
    pk: String,
    sk: String,
    sku: String,
}

#[async_trait]
impl SkuMappingStore for DynamoStore {
    /// An unconditional `PutItem` of `SKUMAP#<channel>#<merchant>` / `<channel sku>`.
    async fn put_sku_mapping(&self, mapping: &SkuMapping) -> Result<(), StoreError> {
        let key = Key::sku_mapping(mapping.channel, &mapping.merchant_id, &mapping.channel_sku);
        let what = format!("the mapping of {} SKU {}", mapping.channel, mapping.channel_sku);
        let item = to_item(&SkuMappingItem { pk: key.pk, sk: key.sk, sku: mapping.sku.to_string() }, &what)?;
        self.put(item, &what).await
    }

    /// A strongly consistent `GetItem` of `SKUMAP#<channel>#<merchant>` / `<channel sku>`.
    async fn mapped_sku(&self, channel: Channel, merchant: &MerchantId, channel_sku: &Sku) -> Result<Option<Sku>, StoreError> {
        let what = format!("the mapping of {channel} SKU {channel_sku}");
        let Some(item) = self.get(Key::sku_mapping(channel, merchant, channel_sku), &what).await? else {
            return Ok(None);
        };
        let item: SkuMappingItem = from_item(item, &what)?;
        Sku::parse(item.sku)
            .map(Some)
            .map_err(|e| StoreError::new(format!("Failed to read {what}: the stored SKU is invalid"), e))
    }
}
