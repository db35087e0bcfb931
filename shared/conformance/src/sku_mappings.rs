//! `SkuMappingStore`: a channel's SKU mapped to ours, per (channel, merchant).

use oms_domain::order::Channel;
use oms_domain::sku_mapping::SkuMapping;
use oms_domain::{MerchantId, Sku};

use crate::fixtures::sku;
use crate::Subject;

fn merchant(raw: &str) -> MerchantId {
    MerchantId::parse(raw).expect("a valid merchant id")
}

fn mapping(channel: Channel, merchant_id: &str, channel_sku: &str, ours: &str) -> SkuMapping {
    SkuMapping { channel, merchant_id: merchant(merchant_id), channel_sku: sku(channel_sku), sku: sku(ours) }
}

async fn mapped(s: &Subject, channel: Channel, merchant_id: &str, channel_sku: &str) -> Option<Sku> {
    s.sku_mappings.mapped_sku(channel, &merchant(merchant_id), &sku(channel_sku)).await.expect("mapped_sku failed")
}

pub async fn a_mapped_channel_sku_reads_back_as_ours_for_its_channel_and_merchant_only(s: Subject) {
    assert_eq!(mapped(&s, Channel::Shopify, "shop-a", "TEE RED/M").await, None);
    s.sku_mappings.put_sku_mapping(&mapping(Channel::Shopify, "shop-a", "TEE RED/M", "TEE-RED-M")).await.expect("put failed");
    assert_eq!(mapped(&s, Channel::Shopify, "shop-a", "TEE RED/M").await, Some(sku("TEE-RED-M")));
    // Another merchant on the channel, or the same merchant on another channel, is not mapped.
    assert_eq!(mapped(&s, Channel::Shopify, "shop-b", "TEE RED/M").await, None);
    assert_eq!(mapped(&s, Channel::WooCommerce, "shop-a", "TEE RED/M").await, None);
}

pub async fn mapping_a_channel_sku_again_replaces_the_mapping(s: Subject) {
    s.sku_mappings.put_sku_mapping(&mapping(Channel::Generic, "m-1", "OLD", "SKU-1")).await.expect("put failed");
    s.sku_mappings.put_sku_mapping(&mapping(Channel::Generic, "m-1", "OLD", "SKU-2")).await.expect("put failed");
    assert_eq!(mapped(&s, Channel::Generic, "m-1", "OLD").await, Some(sku("SKU-2")));
}
