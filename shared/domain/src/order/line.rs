//! What an order asks for: its lines, the order-level charges, and their limits.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Sku;

/// Most units of one SKU a single order line may ask for.
pub const MAX_LINE_QUANTITY: u32 = 10_000;
/// Most lines one order may have.
pub const MAX_LINES: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    pub quantity: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

/// Order-level amounts beyond the lines' unit prices, in the order's currency, each
/// non-negative and as the channel reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charges {
    /// Everything taken off: line and order discounts, coupons, promotions.
    pub discount: Decimal,
    /// What the buyer pays for shipping, before shipping discounts.
    pub shipping: Decimal,
    /// Tax on the items and on shipping.
    pub tax: Decimal,
    /// True when the unit prices already include `tax` (Shopify's `taxes_included`).
    #[serde(default)]
    pub taxes_included: bool,
}
