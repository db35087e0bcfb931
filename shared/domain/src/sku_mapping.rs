//! A channel's SKU mapped to ours, per (channel, merchant): a shop may name a product
//! differently from the warehouses that stock it.

use crate::order::Channel;
use crate::{MerchantId, Sku};

/// `channel_sku` on `channel` for `merchant_id` is our `sku`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuMapping {
    pub channel: Channel,
    pub merchant_id: MerchantId,
    pub channel_sku: Sku,
    pub sku: Sku,
}
