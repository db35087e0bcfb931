//! What a customer did besides buying that the offers learn from: its browsing (views,
//! cart adds, wish-list adds the merchant's storefront reports), weaker signals of interest
//! than a purchase, and its returns, which count against a product.
//!
//! Weights (a purchase is 1), chosen on `oms bench recommend`'s history: a view says least
//! (a customer views many products it never buys), a wish-list add more, a cart add most.
//! A SKU a customer returned is not one it liked: it seeds nothing and is not offered back
//! to it. A SKU whose buyers send back at least [`OFTEN_RETURNED_SHARE`] of its units, over
//! at least [`OFTEN_RETURNED_MIN_SOLD`] sold, is "often returned".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How much a view counts beside a purchase.
pub const VIEW_WEIGHT: f64 = 0.2;
/// How much a wish-list add counts beside a purchase.
pub const WISHLIST_WEIGHT: f64 = 0.4;
/// How much a cart add counts beside a purchase.
pub const CART_ADD_WEIGHT: f64 = 0.5;
/// The share of a SKU's sold units sent back from which it is often returned.
pub const OFTEN_RETURNED_SHARE: f64 = 0.3;
/// The fewest units sold for a SKU's return share to count.
pub const OFTEN_RETURNED_MIN_SOLD: u64 = 5;

/// What a customer did with a product it did not (yet) buy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interest {
    View,
    CartAdd,
    Wishlist,
}

impl Interest {
    /// What the customer did with the SKU a reason is about: "viewed it", "put it in its cart".
    pub fn done_to_it(self) -> &'static str {
        match self {
            Interest::View => "viewed it",
            Interest::CartAdd => "put it in its cart",
            Interest::Wishlist => "put it on its wish list",
        }
    }

    /// How much it counts beside a purchase (1).
    pub fn weight(self) -> f64 {
        match self {
            Interest::View => VIEW_WEIGHT,
            Interest::CartAdd => CART_ADD_WEIGHT,
            Interest::Wishlist => WISHLIST_WEIGHT,
        }
    }

    /// What the customer did, as a reason says it of a SKU it names: "viewed", "put in its cart".
    pub fn as_str(self) -> &'static str {
        match self {
            Interest::View => "viewed",
            Interest::CartAdd => "put in its cart",
            Interest::Wishlist => "put on its wish list",
        }
    }
}

/// One browsing event of a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Browse {
    pub customer_id: String,
    pub sku: String,
    pub interest: Interest,
    pub at: DateTime<Utc>,
}

/// Units of a SKU a customer sent back (a return's inspected line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Returned {
    pub customer_id: String,
    pub sku: String,
    pub units: u32,
    pub at: DateTime<Utc>,
}

/// The signals besides purchases one merchant's offers learn from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    pub browsing: Vec<Browse>,
    pub returns: Vec<Returned>,
}

impl Signals {
    /// These signals without what happened at or after `until` for the customers it names
    /// (an offline measure must not see what followed the purchase it holds out).
    pub fn before(&self, until: &std::collections::HashMap<&str, DateTime<Utc>>) -> Signals {
        let kept = |customer: &str, at: DateTime<Utc>| until.get(customer).is_none_or(|end| at < *end);
        Signals {
            browsing: self.browsing.iter().filter(|b| kept(&b.customer_id, b.at)).cloned().collect(),
            returns: self.returns.iter().filter(|r| kept(&r.customer_id, r.at)).cloned().collect(),
        }
    }
}
