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
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::Shopify, Channel::WooCommerce, Channel::Amazon, Channel::Generic, Channel::Import];
    /// The channels that deliver orders by webhook.
    pub const WEBHOOK: [Channel; 4] = [Channel::Shopify, Channel::WooCommerce, Channel::Amazon, Channel::Generic];

    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Shopify => "shopify",
            Channel::WooCommerce => "woocommerce",
            Channel::Amazon => "amazon",
            Channel::Generic => "generic",
            Channel::Import => "import",
        }
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
