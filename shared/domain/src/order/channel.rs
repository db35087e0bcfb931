//! Where an order came from.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Shopify,
    #[serde(rename = "woocommerce")]
    WooCommerce,
    Amazon,
    Generic,
    /// Bulk import from a CSV file.
    Import,
    /// Made by the platform from a flash-sale claim (external id: the claim id).
    #[serde(rename = "flash_sale")]
    FlashSale,
    /// Made by the platform for an auction's winner (external id: the auction id).
    Auction,
    /// Made by the platform from a filled group buy's join (external id: the join id).
    #[serde(rename = "group_buy")]
    GroupBuy,
    /// Made by the platform for a rental booking's rent and deposit (external id: the
    /// booking id). A service channel.
    Rental,
    /// Made by the platform for an accepted repair's labour and parts (external id: the
    /// repair id). A service channel.
    Repair,
    /// Made by the platform for an exchange's replacement (external id: the return id).
    Exchange,
    /// Placed through the platform's own checkout (a merchant's storefront on the platform;
    /// external id: the checkout id), refused rather than held when not sellable.
    Checkout,
    /// Made by the platform for one merchant's share of an accepted request for quotes
    /// (external id: `<rfq id>-<merchant>`).
    Rfq,
    /// Made by the platform from a buyer request's accepted offer (external id: the
    /// request id).
    Marketplace,
}

impl Channel {
    pub const ALL: [Channel; 14] = [
        Channel::Shopify,
        Channel::WooCommerce,
        Channel::Amazon,
        Channel::Generic,
        Channel::Import,
        Channel::FlashSale,
        Channel::Auction,
        Channel::GroupBuy,
        Channel::Rental,
        Channel::Repair,
        Channel::Exchange,
        Channel::Checkout,
        Channel::Rfq,
        Channel::Marketplace,
    ];
    /// The channels that deliver orders by webhook.
    pub const WEBHOOK: [Channel; 4] = [Channel::Shopify, Channel::WooCommerce, Channel::Amazon, Channel::Generic];

    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Shopify => "shopify",
            Channel::WooCommerce => "woocommerce",
            Channel::Amazon => "amazon",
            Channel::Generic => "generic",
            Channel::Import => "import",
            Channel::FlashSale => "flash_sale",
            Channel::Auction => "auction",
            Channel::GroupBuy => "group_buy",
            Channel::Rental => "rental",
            Channel::Repair => "repair",
            Channel::Exchange => "exchange",
            Channel::Checkout => "checkout",
            Channel::Rfq => "rfq",
            Channel::Marketplace => "marketplace",
        }
    }

    /// Whether the platform makes this channel's orders itself (no webhook, no signature).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Channel::FlashSale
                | Channel::Auction
                | Channel::GroupBuy
                | Channel::Exchange
                | Channel::Checkout
                | Channel::Rfq
                | Channel::Marketplace
        ) || self.is_service()
    }

    /// Whether the channel's orders charge for a service (a repair, a rental) rather than
    /// sell units of stock: they are never allocated, and their status follows the
    /// service's record (`crate::service_order`).
    pub fn is_service(&self) -> bool {
        matches!(self, Channel::Rental | Channel::Repair)
    }

    /// Whether the channel's orders take units set aside for them before they were made (a
    /// flash-sale claim's, a group-buy join's): their plan comes with them and their hold
    /// takes the set-aside (`InventoryStore::hold_set_aside`).
    pub fn takes_set_aside(&self) -> bool {
        matches!(self, Channel::FlashSale | Channel::GroupBuy)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
